#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes an initramfs (cpio "newc", uncompressed: the kernel unpacks it as is) holding one
# static program as /init, plus the directories it mounts on. No cpio(1) needed.
# Usage: mkcpio.py OUT INIT
import os
import sys


def entry(out, name, mode, data=b"", ino=1):
    name_b = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
    out.write(hdr.encode() + name_b)
    out.write(b"\0" * (-(110 + len(name_b)) % 4))
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


def main():
    out_path, init_path = sys.argv[1], sys.argv[2]
    with open(init_path, "rb") as f:
        init = f.read()
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as out:
        ino = 1
        for d in ("dev", "proc", "sys", "tmp"):
            entry(out, d, 0o040755, ino=ino)
            ino += 1
        entry(out, "init", 0o100755, init, ino=ino)
        entry(out, "TRAILER!!!", 0, ino=0)
        out.write(b"\0" * (-out.tell() % 512))
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main()
