#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The documents kept true with the option table: no stray control character in the man page
# (test_dist.sh renders it with groff -ww), --help fits 80 columns, and every option --help
# lists is in the man page and in each shell's completion. No root needed.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

check "docs: no control characters in man/sockreap.8" \
	bash -c "! LC_ALL=C grep -n \$'[\\x01-\\x08\\x0b-\\x1f\\x7f]' man/sockreap.8"

"$SR" --help >"$TMP/help" 2>&1
check "docs: --help fits 80 columns" bash -c "! awk 'length > 80' '$TMP/help' | grep -q ."
opts=$(grep -oE -- '--[a-z][a-z0-9-]+' "$TMP/help" | sort -u)
check "docs: --help lists options" [ -n "$opts" ]
missing=()
for o in $opts; do
	grep -q -- "${o//-/\\\\-}" man/sockreap.8 || missing+=("man:$o")
	grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" completions/sockreap.bash || missing+=("bash:$o")
	grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" completions/_sockreap || missing+=("zsh:$o")
	grep -qE -- "-l ${o#--}( |$)" completions/sockreap.fish || missing+=("fish:$o")
done
check "docs: every --help option in the man page and completions${missing:+: ${missing[*]}}" \
	[ ${#missing[@]} = 0 ]
