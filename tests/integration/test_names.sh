#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile process names on real sockets: a rig whose comm holds terminal escape sequences, a C1
# control and a byte that is not UTF-8, holding a CLOSE_WAIT socket. The table and the prompt
# must show it escaped; the JSON output and the audit log must stay valid UTF-8 JSON.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns names
for t in jq iconv; do
	if ! command -v "$t" >/dev/null 2>&1; then
		skipped "names: $t is not installed"
		exit 0
	fi
done

# comm is the base name of the executed path (at most 15 bytes): clear the screen, cursor up,
# C1 CSI, and 0xff.
hostile=$'\x1b[2J\x1b[1A\xc2\x9bX\xff'
# How each output shows it: escaped for the terminal; in JSON the C1 is \u009b, 0xff is U+FFFD.
shown='\x1b[2J\x1b[1A\xc2\x9bX\xff'
json_comm=$'\x1b[2J\x1b[1A\xc2\x9bX\xef\xbf\xbd'

has_esc() { LC_ALL=C grep -q $'\x1b' "$@"; }
parses() { jq -e . "$1" >/dev/null; }

ns_new ns || { not_ok "names: namespace"; exit 0; }
ln -s "$(realpath "$RIG")" "$TMP/$hostile" || { not_ok "names: rig link"; exit 0; }
RIG="$TMP/$hostile" rig_start R "$ns" -p 7100 -n 1 close-wait || { not_ok "names: rig"; exit 0; }
if ! cmp -s <(printf '%s\n' "$hostile") "/proc/$R/comm"; then
	skipped "names: the rig's comm is not the link's name: $(od -c "/proc/$R/comm" | head -2)"
	exit 0
fi

expect_status 0 "names: dry-run table" in_ns "$ns" "$SR" --dry-run --pid "$R"
check "names: the table has no raw ESC byte" eval '! has_esc "$TMP/out" "$TMP/err"'
check "names: the table shows the name escaped" grep -qF "$R/$shown" "$TMP/out"

expect_status 0 "names: dry-run --json" in_ns "$ns" "$SR" --dry-run --json --pid "$R"
cp "$TMP/out" "$TMP/preview.json"
check "names: --json is valid UTF-8" iconv -f UTF-8 -t UTF-8 -o /dev/null "$TMP/preview.json"
check "names: --json parses" parses "$TMP/preview.json"
check "names: --json comm has U+FFFD for the bad byte" \
	[ "$(jq -r '.sockets[0].owners[0].comm' "$TMP/preview.json")" = "$json_comm" ]
check "names: --json escapes the controls" grep -qF '"comm":"\u001b[2J\u001b[1A\u009bX' \
	"$TMP/preview.json"

# The confirmation on a terminal: the preview above "Kill 1 socket?" is escaped too. The answer
# is no, so nothing is killed here.
if command -v script >/dev/null 2>&1; then
	printf 'n\n' | script -qec "ip netns exec $ns $SR --pid $R --audit-log $TMP/no.log" \
		/dev/null >"$TMP/tty" 2>&1
	check "names: the prompt was shown" grep -q 'Kill 1 socket? \[y/N\]' "$TMP/tty"
	check "names: the preview before the prompt has no raw ESC byte" eval '! has_esc "$TMP/tty"'
	check "names: the preview before the prompt shows the name escaped" \
		grep -qF "$R/$shown" "$TMP/tty"
else
	skipped "names: prompt on a terminal: script(1) is not installed"
fi

expect_status 0 "names: kill with an audit log" \
	in_ns "$ns" "$SR" --pid "$R" --yes --audit-log "$TMP/audit.log"
check "names: the outcome table has no raw ESC byte" eval '! has_esc "$TMP/out" "$TMP/err"'
check "names: the audit log is valid UTF-8" iconv -f UTF-8 -t UTF-8 -o /dev/null "$TMP/audit.log"
check "names: every audit line parses" parses "$TMP/audit.log"
check "names: the audit intent names the owner" \
	[ "$(jq -r 'select(.event=="intent") | .sockets[0].owners[0].comm' "$TMP/audit.log")" = "$json_comm" ]
check "names: the socket was killed" \
	[ "$(jq -r 'select(.event=="result") | .outcome' "$TMP/audit.log")" = killed ]
