#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Big plans at a glance and tables that fit (issue 13): on a terminal a plan taller than the
# screen is summarized, a table wider than it loses columns, never addresses; pipes and JSON get
# every row and column. A pseudo-terminal (tests/helpers/ptyrun.py) stands for the operator's.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns glance
PTY="python3 tests/helpers/ptyrun.py"
if ! python3 -c 'import pty, termios' 2>/dev/null; then
	skipped "glance: python3 with pty is not installed"
	exit 0
fi

# every table line of FILE (not sockreap's messages on stderr) at most N columns
fits() { awk -v n="$2" '!/^sockreap: / && length($0) > n { bad = 1 } END { exit bad }' "$1"; }

test_big_plan() {
	local ns
	ns_new ns || { not_ok "big: namespace"; return; }
	rig_start B "$ns" -p 7400 -n 300 close-wait || { not_ok "big: rig"; return; }
	in_ns "$ns" $PTY 24 80 "$SR" --dry-run --state close-wait >"$TMP/tty" 2>&1
	check "big: dry run on a terminal exits 0" [ "$?" = 0 ]
	check "big: counts by state" grep -qF "300 sockets: close-wait 300" "$TMP/tty"
	check "big: counts by owner" grep -qF "owners: $B/sockrig 300" "$TMP/tty"
	check "big: says how to see the rest" grep -qE '^\.\.\. [0-9]+ more; --dry-run -j or a pipe shows all$' "$TMP/tty"
	check "big: fits the screen ($(wc -l <"$TMP/tty") lines)" [ "$(wc -l <"$TMP/tty")" -le 24 ]
	check "big: the summary line gives the run's time and phases" \
		grep -qE 'would be killed \(dry run; run [0-9.]+ ms: dump [0-9.]+, owners [0-9.]+\)' "$TMP/tty"
	expect_status 0 "big: the same into a pipe" in_ns "$ns" "$SR" --dry-run --state close-wait
	check "big: a pipe gets every row" [ "$(grep -c '^close-wait' "$TMP/out")" = 300 ]
	check "big: ... and no summary" not_grep "more; --dry-run" "$TMP/out"
	in_ns "$ns" $PTY 24 80 "$SR" --dry-run -j --state close-wait >"$TMP/tty" 2>/dev/null
	check "big: JSON on a terminal has every socket" \
		[ "$(sed -n '/^{/p' "$TMP/tty" | jq '.sockets | length')" = 300 ]

	in_ns "$ns" $PTY 24 80 --answer $'n\n' "$SR" --audit-log "$TMP/audit.log" --state close-wait >"$TMP/tty" 2>&1
	check "big: declined on a terminal exits 5" [ "$?" = 5 ]
	check "big: the preview before the prompt is a summary" \
		[ "$(grep -c '^close-wait' "$TMP/tty")" -lt 24 ] && grep -qF "300 sockets: close-wait 300" "$TMP/tty"
	check "big: ... then the prompt" grep -qF 'Kill 300 sockets? [y/N]' "$TMP/tty"
	in_ns "$ns" $PTY 24 80 "$SR" --yes --audit-log "$TMP/audit.log" --state close-wait >"$TMP/tty" 2>&1
	check "big: the kill on a terminal exits 0" [ "$?" = 0 ]
	check "big: the result table is a summary by outcome" grep -qF "300 sockets: killed 300" "$TMP/tty"
	check "big: ... that fits the screen" [ "$(wc -l <"$TMP/tty")" -le 24 ]
	check "big: the summary line gives the run's time and phases" \
		grep -qE '300 killed \((auto|destroy); run [0-9.]+ ms: dump [0-9.]+, owners [0-9.]+, kill [0-9.]+\)' "$TMP/tty"
	check "big: all 300 killed" [ "$(ss_count "$ns" state close-wait)" = 0 ]
}

test_narrow() {
	local ns a=2001:db8:1234:5678:9abc:def0:1234:5678
	ns_new ns || { not_ok "narrow: namespace"; return; }
	ip -n "$ns" addr add "$a/128" dev lo nodad || { not_ok "narrow: address"; return; }
	rig_start N "$ns" -a "$a" -p 7410 -n 3 close-wait || { not_ok "narrow: rig"; return; }
	in_ns "$ns" $PTY 24 100 "$SR" --dry-run --state close-wait >"$TMP/tty" 2>/dev/null
	check "narrow: 100 columns: every line fits" fits "$TMP/tty" 100
	check "narrow: ... the addresses whole" grep -qF "[$a]:7410" "$TMP/tty"
	check "narrow: ... the queue columns gone" not_grep "RECV-Q" "$TMP/tty"
	expect_status 0 "narrow: a pipe" in_ns "$ns" "$SR" --dry-run --state close-wait
	check "narrow: a pipe gets every column" grep -qF "RECV-Q SEND-Q" "$TMP/out"
	in_ns "$ns" env COLUMNS=70 $PTY 24 200 env COLUMNS=70 "$SR" --dry-run --state close-wait >"$TMP/tty" 2>/dev/null
	check "narrow: COLUMNS=70 wins over the terminal's 200: every line fits" fits "$TMP/tty" 70
}

test_progress_only_on_a_terminal() {
	local ns t0 ms
	ns_new ns || { not_ok "progress: namespace"; return; }
	rig_start P "$ns" -p 7420 -n 50 close-wait || { not_ok "progress: rig"; return; }
	rig_start P2 "$ns" -p 7421 -n 50 close-wait || { not_ok "progress: rig 2"; return; }
	expect_status 0 "progress: a pipe" in_ns "$ns" "$SR" --dry-run --state close-wait
	check "progress: no escape codes or carriage returns on a pipe's stderr" \
		not_grep $'\r' "$TMP/err"
	check "progress: ... nor on its stdout" not_grep $'\033' "$TMP/out"
	# A run over a second: the operator takes 1.5 s to answer; the kill then says what it does.
	in_ns "$ns" $PTY 24 80 --delay 1.5 --answer $'y\n' "$SR" --audit-log "$TMP/p.log" \
		--state close-wait --pid "$P" >"$TMP/tty" 2>&1
	check "progress: a run over a second on a terminal exits 0" [ "$?" = 0 ]
	check "progress: ... says the kill on stderr" grep -qF "sockreap: kill: 50 sockets" "$TMP/tty"
	check "progress: ... and erases the line after" grep -qF $'\r\033[K' "$TMP/tty"
	t0=$(date +%s%N)
	in_ns "$ns" $PTY 24 80 --answer $'y\n' "$SR" --audit-log "$TMP/p.log" --state close-wait \
		--pid "$P2" >"$TMP/tty" 2>&1
	ms=$((($(date +%s%N) - t0) / 1000000))
	# Only meaningful when the run was quick: a loaded machine may take a second by itself.
	if [ "$ms" -lt 800 ]; then
		check "progress: a quick run on a terminal ($ms ms) shows none" not_grep "sockreap: kill:" "$TMP/tty"
	else
		skipped "progress: the quick run took $ms ms here, not quick enough to tell"
	fi
}

# The dump and owner phases of a big run say how far they are. A second's wait before the first
# line is what a real run has; the test build (SOCKREAP_TESTING) lets the wait be 0 ms, so that
# 18,000 close-wait records (two rigs: the fd limit; one dump line per 16,384) show it at once.
test_progress_phases() {
	local ns
	ns_new ns || { not_ok "phases: namespace"; return; }
	rig_start PH "$ns" -p 7430 -n 9000 close-wait || { not_ok "phases: rig"; return; }
	rig_start PH2 "$ns" -p 7431 -n 9000 close-wait || { not_ok "phases: rig 2"; return; }
	in_ns "$ns" $PTY 24 80 env SOCKREAP_TEST_PROGRESS_MS=0 "$SR" --dry-run --state close-wait \
		>"$TMP/tty" 2>&1
	check "phases: a dry run on a terminal exits 0" [ "$?" = 0 ]
	check "phases: the dump says how many records it has read" \
		grep -qE 'sockreap: dump: 16384 sockets read, [0-9]+ selected' "$TMP/tty"
	check "phases: the owner lookup says how many sockets it looks up" \
		grep -qF "sockreap: owners: looking up 18000 sockets" "$TMP/tty"
	check "phases: ... and the line is erased before the table" grep -qF $'\r\033[K' "$TMP/tty"
	in_ns "$ns" env SOCKREAP_TEST_PROGRESS_MS=0 "$SR" --dry-run --state close-wait >"$TMP/out" 2>"$TMP/err"
	check "phases: a pipe's stderr gets no progress" not_grep "sockreap: dump:" "$TMP/err"
}

not_grep() { ! grep -qF "$1" "$2"; }

test_big_plan
test_narrow
test_progress_only_on_a_terminal
test_progress_phases
