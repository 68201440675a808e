#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo (tests/demo.sh, `make demo`) as a newcomer reads it: it says what it runs, writes no
# escape codes into a pipe, shows a real audit record, and ends with what to try next.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns demo
if [ ! -x ./sockreap ] || [ ! -x build/tests/sockrig ]; then
	skipped "demo: ./sockreap or build/tests/sockrig is not built (make sockreap build/tests/sockrig)"
	exit 0
fi

bash tests/demo.sh >"$TMP/demo" 2>&1
check "demo: exits 0" [ "$?" = 0 ]
check "demo: says each sockreap command it runs, as typed" \
	grep -qE '^\$ ip netns exec sockreap-demo-[0-9]+ \./sockreap --dry-run --state close-wait --pid [0-9]+$' "$TMP/demo"
check "demo: ... the kill too" \
	grep -qE '^\$ ip netns exec sockreap-demo-[0-9]+ \./sockreap --yes --audit-log [^ ]+ --state close-wait --pid [0-9]+$' "$TMP/demo"
check "demo: no escape codes into a pipe" bash -c '! grep -q $'"'"'\033'"'"' "$1"' _ "$TMP/demo"
# A real record: a whole line of the audit file, as written, that parses as JSON.
rec=$(grep -m1 '^{"time":.*"event":"start"' "$TMP/demo")
check "demo: shows a whole audit record (the start)" \
	bash -c '[ -n "$1" ] && jq -e ".event == \"start\" and .selector != null" <<<"$1" >/dev/null' _ "$rec"
rec=$(grep -m1 '^{"time":.*"event":"summary"' "$TMP/demo")
check "demo: ... and the summary" \
	bash -c '[ -n "$1" ] && jq -e ".event == \"summary\" and .killed == 40" <<<"$1" >/dev/null' _ "$rec"
check "demo: ends with the next commands to try" \
	bash -c 'tail -8 "$1" | grep -q "^Next" && tail -6 "$1" | grep -q "sockreap doctor"' _ "$TMP/demo"
check "demo: removes its namespace" bash -c '! ip netns list | grep -q sockreap-demo-'
