#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""CLOSE_WAIT sockets made on command after a watcher started, for its state tracker
(tests/integration/test_watch_track.sh): the tracker must find what a dump would.

  cwchurn.py churn PORT N M   N server ends left in CLOSE_WAIT over ~3 s while M others pass
                              through it (closed by their owner within 80 ms)
  cwchurn.py devices PORT DEV one server end bound to lo (SO_BINDTODEVICE) on PORT, and one on
                              the IPv6 link-local fe80::1 of DEV (a scope id) on PORT + 1

Prints "ready PID"; "go" on stdin makes them and answers "made N"; held until stdin ends.
"""
import os
import socket
import sys
import time


def one(fam, addr, held, dev=None):
    """A connection to addr whose client end closes: its server end, held, goes CLOSE_WAIT."""
    lsn = socket.socket(fam, socket.SOCK_STREAM)
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if dev:
        lsn.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    lsn.bind(addr)
    lsn.listen(4)
    cli = socket.socket(fam, socket.SOCK_STREAM)
    cli.connect(addr)
    held.append(lsn.accept()[0])
    cli.close()
    lsn.close()


def churn(port, n, m, held):
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("127.0.0.1", port))
    lsn.listen(1024)
    brief, made = [], 0
    while len(held) < n or made < m:
        if len(held) < n:
            cli = socket.create_connection(("127.0.0.1", port))
            held.append(lsn.accept()[0])
            cli.close()
        if made < m:
            cli = socket.create_connection(("127.0.0.1", port))
            brief.append((time.monotonic(), lsn.accept()[0]))
            cli.close()
            made += 1
        now = time.monotonic()
        while brief and now - brief[0][0] > 0.08:
            brief.pop(0)[1].close()
        time.sleep(3.0 / max(n, m, 1))
    for _, srv in brief:
        srv.close()
    return len(held)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    held = []
    print("ready %d" % os.getpid(), flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    if mode == "churn":
        made = churn(port, int(sys.argv[3]), int(sys.argv[4]), held)
    else:
        one(socket.AF_INET, ("127.0.0.1", port), held, "lo")
        one(socket.AF_INET6, ("fe80::1", port + 1, 0, socket.if_nametoindex(sys.argv[3])), held)
        made = len(held)
    print("made %d" % made, flush=True)
    sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
