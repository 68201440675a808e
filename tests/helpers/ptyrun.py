#!/usr/bin/env python3
# ptyrun ROWS COLS [--delay SECONDS] [--answer TEXT [--before SHELLCMD]] CMD...: runs CMD on a
# fresh pseudo-terminal of ROWS x COLS (TIOCSWINSZ; LINES and COLUMNS removed from its
# environment, so the size comes from the terminal), writes everything it prints to our stdout,
# types TEXT once it asks "[y/N]" (SECONDS later: an operator who reads first), and exits with
# its exit status. For the tests of what sockreap does on a terminal. --before SHELLCMD runs
# SHELLCMD (sh -c, our open fds inherited) once the question is asked, before the answer:
# something that happens between the preview and the kill.
import fcntl, os, pty, struct, sys, termios, time

rows, cols = int(sys.argv[1]), int(sys.argv[2])
args = sys.argv[3:]
answer = None
delay = 0.0
if args and args[0] == "--delay":
    delay, args = float(args[1]), args[2:]
before = None
if args and args[0] == "--answer":
    answer, args = args[1].encode(), args[2:]
if args and args[0] == "--before":
    before, args = args[1], args[2:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    for k in ("LINES", "COLUMNS"):
        os.environ.pop(k, None)
    os.execvp(args[0], args)
out = b""
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if answer is not None and b"[y/N]" in out:
        time.sleep(delay)
        if before is not None:
            os.system(before)
        os.write(fd, answer)
        answer = None
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
sys.exit(os.waitstatus_to_exitcode(status))
