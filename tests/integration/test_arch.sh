#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --close-fd's ptrace code has an aarch64 half (registers, the svc scan) that this x86-64
# machine cannot run: it is at least compiled for aarch64 with the developer's warnings, so it
# cannot rot unseen. Running it needs an aarch64 host (say so in a note, not here).
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

CROSS=aarch64-linux-gnu-gcc
if ! command -v "$CROSS" >/dev/null; then
	skipped "arch: $CROSS is not installed (Debian: gcc-aarch64-linux-gnu)"
	exit 0
fi
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT
check "arch: closefd.c compiles for aarch64 with -Wall -Wextra -Werror" \
	"$CROSS" -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -c \
	-o "$out/closefd.o" src/closefd.c
# CLOSEFD_ARCH: the aarch64 build has the ptrace machinery (seize_new is in it), not the
# "unsupported here" stub.
check "arch: ... with the ptrace machinery, not the unsupported stub" \
	bash -c "aarch64-linux-gnu-nm '$out/closefd.o' | grep -q ' t seize_new$'"
