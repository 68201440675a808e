#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The other half of keeping sockreap(8)'s RUNBOOKS true (each runbook checks that its command
# is printed there): every command printed there is run by a runbook test, and every runbook
# test runs one. Needs no root, so a machine that skips the runbooks still checks this.
cd "$(dirname "$0")/../.." || exit 1
. tests/runbooks/lib.sh

mapfile -t cmds < <(man_runbooks)
check "manpage: sockreap(8) has a RUNBOOKS section with commands (${#cmds[@]})" [ "${#cmds[@]}" -ge 6 ]
for cmd in "${cmds[@]}"; do
	n=$(grep -lF -- "runbook \"" tests/runbooks/test_*.sh | xargs grep -lF -- "\"$cmd\"" | wc -l)
	check "manpage: \"$cmd\" is run by a runbook test ($n)" [ "$n" -ge 1 ]
done
for t in tests/runbooks/test_*.sh; do
	[ "$t" = tests/runbooks/test_manpage.sh ] && continue
	check "manpage: $t runs a runbook command" grep -qE '^runbook "' "$t"
done
