#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --close-fd's ptrace code has an aarch64 half (registers, the svc scan, the step's report).
# It is compiled for aarch64 with the developer's warnings, and run for real on an arm64 kernel
# under qemu-system-aarch64 (TCG): tests/aarch64/closefd_init.c is that machine's /init, and
# prints the results on its console ("A64: ok - ..."), which become this script's lines.
# make aarch64-kernel fetches the kernel; make check builds the initramfs.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

CROSS=${AARCH64_CC:-aarch64-linux-gnu-gcc}
KERNEL=${AARCH64_KERNEL:-build/aarch64/vmlinuz}
INITRD=${AARCH64_INITRD:-build/aarch64/initramfs.cpio}
# TCG on a loaded 2-core host: the run takes 15-30 s; a hung guest is killed after this.
QEMU_TIMEOUT=${QEMU_TIMEOUT:-300}

if ! command -v "$CROSS" >/dev/null; then
	skipped "arch: $CROSS is not installed (Debian: gcc-aarch64-linux-gnu)"
	exit 0
fi
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"; cleanup' EXIT
check "arch: closefd.c compiles for aarch64 with -Wall -Wextra -Werror" \
	"$CROSS" -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -c \
	-o "$out/closefd.o" src/closefd.c
# CLOSEFD_ARCH: the aarch64 build has the ptrace machinery (seize_new is in it), not the
# "unsupported here" stub.
check "arch: ... with the ptrace machinery, not the unsupported stub" \
	bash -c "aarch64-linux-gnu-nm '$out/closefd.o' | grep -q ' t seize_new$'"

if ! command -v qemu-system-aarch64 >/dev/null; then
	skipped "arch: closefd on an arm64 kernel: qemu-system-aarch64 is not installed" \
		"(Debian: qemu-system-arm; see make check-aarch64)"
	exit 0
fi
if [ ! -s "$KERNEL" ]; then
	skipped "arch: closefd on an arm64 kernel: no kernel at $KERNEL (make aarch64-kernel)"
	exit 0
fi
if [ ! -s "$INITRD" ]; then
	not_ok "arch: closefd on an arm64 kernel: $INITRD is not built (make $INITRD)"
	exit 0
fi
# No NIC (the guest uses lo only; a default one needs ipxe's ROM); -no-reboot: the guest's
# power-off or a panic (panic=-1) ends qemu.
start=$(date +%s)
timeout "$QEMU_TIMEOUT" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 512 \
	-nographic -no-reboot -nic none -kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyAMA0 panic=-1 quiet loglevel=1" </dev/null >"$out/console" 2>&1
rc=$?
secs=$(($(date +%s) - start))
tr -d '\r' <"$out/console" | sed -n 's/^.*A64: \(ok - \|not ok - \)/\1/p'
if [ "$rc" = 0 ] && tr -d '\r' <"$out/console" | grep -q 'A64: done$'; then
	ok "arch: the arm64 guest ran every case and powered off ($secs s)"
else
	not_ok "arch: the arm64 guest did not finish (qemu status $rc after $secs s); console's end:"
	tr -d '\r' <"$out/console" | tail -n 20 | sed 's/^/#   /'
fi
