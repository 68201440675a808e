#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""flowrig: one end of real flows for tests/integration/test_forwarded.sh, run in a namespace.

  flowrig.py tcp-server PORT            accept and hold every connection
  flowrig.py tcp-client ADDR PORT N     open N connections and hold them
  flowrig.py udp-server PORT            answer each datagram with the same bytes
  flowrig.py udp-client ADDR PORT SPORT send one datagram from SPORT, wait for the answer,
                                        then one more each time a line arrives on stdin

Prints "ready" once set up (the server: listening; the client: connected, or answered).
A client prints per line on stdin "answered" or "silent". Exits when stdin ends.
"""
import socket
import sys
import threading


def hold_until_eof():
    for _ in sys.stdin:
        pass


def tcp_server(port):
    ls = socket.socket(socket.AF_INET6 if ':' in HOST else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, port))
    ls.listen(1024)
    held = []

    def accept():
        while True:
            c, _ = ls.accept()
            held.append(c)
    threading.Thread(target=accept, daemon=True).start()
    print("ready", flush=True)
    hold_until_eof()


def tcp_client(addr, port, n):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    held = [socket.create_connection((addr, port), timeout=10) for _ in range(n)]
    print("ready", flush=True)
    hold_until_eof()
    del held


def udp_server(port):
    s = socket.socket(socket.AF_INET6 if ':' in HOST else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, port))

    def serve():
        while True:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)
    threading.Thread(target=serve, daemon=True).start()
    print("ready", flush=True)
    hold_until_eof()


def udp_client(addr, port, sport):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(('::' if fam == socket.AF_INET6 else '0.0.0.0', sport))
    s.settimeout(5)

    def ask():
        s.sendto(b'ping', (addr, port))
        try:
            s.recvfrom(2048)
            return True
        except socket.timeout:
            return False
    print("ready" if ask() else "silent", flush=True)
    for _ in sys.stdin:
        print("answered" if ask() else "silent", flush=True)


HOST = '0.0.0.0'
if __name__ == '__main__':
    mode, args = sys.argv[1], sys.argv[2:]
    if mode.endswith('-server') and len(args) > 1:
        HOST = args[1]
    if mode == 'tcp-server':
        tcp_server(int(args[0]))
    elif mode == 'tcp-client':
        tcp_client(args[0], int(args[1]), int(args[2]))
    elif mode == 'udp-server':
        udp_server(int(args[0]))
    elif mode == 'udp-client':
        udp_client(args[0], int(args[1]), int(args[2]))
    else:
        sys.exit("flowrig: unknown mode " + mode)
