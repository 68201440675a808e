#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The license: LICENSE holds the GPL version 2 text, and every tracked source file, header,
# test, script, man page and completion names GPL-2.0-or-later in an SPDX line (tests/spdx.sh
# lists those that do not; `tests/spdx.sh --fix` adds it).
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

check "license: LICENSE is the GNU GPL version 2" \
	bash -c "grep -q 'GNU GENERAL PUBLIC LICENSE' LICENSE && grep -q 'Version 2, June 1991' LICENSE"
if ! command -v git >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
	skipped "license: not a git checkout, the tracked files cannot be listed"
	exit 0
fi
n=$(git ls-files | wc -l)
if missing=$(tests/spdx.sh); then
	ok "license: every tracked source file has its SPDX line ($n files tracked)"
else
	not_ok "license: no SPDX-License-Identifier line (run tests/spdx.sh --fix): $(tr '\n' ' ' <<<"$missing")"
fi
