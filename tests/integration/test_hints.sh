#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Honest hints (issue 13): when nothing is killed or something is left out, the messages say why
# and what to type instead; exit statuses stay what EXIT STATUS in sockreap(8) lists. Every
# namespace and rig here is ours and is removed at exit.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns hints

not_grep() { ! grep -qF "$1" "$2"; }
jqe() { jq -e "$@" >/dev/null; }

# --- a guard that removed every match says so, and how to include it --------------------------
test_listen_kept() {
	local ns
	ns_new ns || { not_ok "listen: namespace"; return; }
	rig_start L "$ns" -p 7300 -n 0 listen || { not_ok "listen: rig"; return; }
	expect_status 1 "listen: a lone listener matched by port is not selected" \
		in_ns "$ns" "$SR" --dry-run sport 7300
	check "listen: says it matched and was kept, and how to include it" \
		grep -qF '1 listening socket matched and was kept: say `state listen` to include it' "$TMP/err"
	check "listen: does not say only that nothing matched" \
		not_grep "no sockets match" "$TMP/err"
	expect_status 0 "listen: state listen selects it" in_ns "$ns" "$SR" --dry-run sport 7300 state listen
}

# --- --pid: a process whose sockets are elsewhere, or no process at all ------------------------
test_pid_elsewhere() {
	local ns other ino
	ns_new ns || { not_ok "pid: namespace"; return; }
	ns_new other || { not_ok "pid: second namespace"; return; }
	rig_start P "$ns" -p 7310 -n 2 close-wait || { not_ok "pid: rig"; return; }
	ino=$(stat -Lc %i "/proc/$P/ns/net")
	expect_status 1 "pid: --pid of a process in another namespace matches nothing here" \
		in_ns "$other" "$SR" --dry-run --pid "$P"
	check "pid: says where its sockets are and how to reach them" \
		grep -qF "process $P lives in another network namespace (net:[$ino]): --netns-of $P reaches its sockets" "$TMP/err"
	expect_status 0 "pid: --netns-of reaches them" "$SR" --dry-run --netns-of "$P" --pid "$P"
	expect_status 1 "pid: --pid of no process matches nothing" in_ns "$ns" "$SR" --dry-run --pid 2147483646
	check "pid: says there is no such process" grep -qF "no process 2147483646 (pid)" "$TMP/err"
}

# --- the same hints when a run visits several namespaces -----------------------------------------
test_many_namespaces() {
	local a b c ino
	ns_new a || { not_ok "many: namespace a"; return; }
	ns_new b || { not_ok "many: namespace b"; return; }
	ns_new c || { not_ok "many: namespace c"; return; }
	rig_start ML "$b" -p 7320 -n 0 listen || { not_ok "many: listen rig"; return; }
	expect_status 1 "many: a listener in one of two namespaces, matched by port, is not selected" \
		"$SR" --dry-run --netns "$a" --netns "$b" sport 7320
	check "many: says it matched and was kept, and how to include it" \
		grep -qF '1 listening socket matched and was kept: say `state listen` to include it' "$TMP/err"
	expect_status 0 "many: state listen selects it" "$SR" --dry-run --netns "$a" --netns "$b" \
		sport 7320 state listen
	rig_start MP "$c" -p 7321 -n 2 close-wait || { not_ok "many: pid rig"; return; }
	ino=$(stat -Lc %i "/proc/$MP/ns/net")
	expect_status 1 "many: --pid of a process in a namespace the run does not visit" \
		"$SR" --dry-run --netns "$a" --netns "$b" --pid "$MP"
	check "many: says where its sockets are and how to reach them" \
		grep -qF "process $MP lives in a network namespace this run does not visit (net:[$ino]): add --netns-of $MP" "$TMP/err"
	expect_status 1 "many: --pid of no process, several namespaces" \
		"$SR" --dry-run --netns "$a" --netns "$b" --pid 2147483646
	check "many: says there is no such process" grep -qF "no process 2147483646 (pid)" "$TMP/err"
	expect_status 0 "many: --pid in a visited namespace selects" \
		"$SR" --dry-run --netns "$a" --netns "$c" --pid "$MP"
}

# --- --max 0 --dry-run still shows the plan it would refuse -------------------------------------
test_max_dry_run() {
	local ns
	ns_new ns || { not_ok "max: namespace"; return; }
	rig_start M "$ns" -p 7320 -n 3 close-wait || { not_ok "max: rig"; return; }
	expect_status 5 "max: --max 0 --dry-run earns the guard's status" \
		in_ns "$ns" "$SR" --dry-run --max 0 --state close-wait
	check "max: ... and still previews the 3" [ "$(grep -c '^close-wait' "$TMP/out")" = 3 ]
	check "max: ... and says a kill would be refused" grep -qF 'more than --max 0: a kill would be refused' "$TMP/err"
	expect_status 5 "max: a kill over --max is refused" \
		in_ns "$ns" "$SR" --yes --no-audit --max 0 --state close-wait
	check "max: ... and kills nothing" [ "$(ss_count "$ns" state close-wait)" = 3 ]
}

# --- JSON: --explain, the summary's fields, ownerless sockets' uid ------------------------------
test_json() {
	local ns a b
	ns_new ns || { not_ok "json: namespace"; return; }
	rig_start J "$ns" -p 7330 -n 2 close-wait || { not_ok "json: rig"; return; }
	rig_start T "$ns" -p 7331 -n 2 time-wait || { not_ok "json: time-wait rig"; return; }
	expect_status 0 "json: --json --explain" "$SR" --json --explain --state close-wait
	check "json: --explain --json is one JSON document" jqe '.selector == "state close-wait"' "$TMP/out"
	check "json: ... with the kernel's part" jqe '.kernel.states == ["close-wait"]' "$TMP/out"
	expect_status 0 "json: --json --explain --netns" "$SR" --json --explain --netns "$ns" --state close-wait
	check "json: ... names the namespace it would visit" jqe --arg ns "$ns" '.netns[0].name == $ns' "$TMP/out"

	expect_status 0 "json: a dry run that matches" in_ns "$ns" "$SR" -n -j --state close-wait
	a=$(jq -c '.summary | keys' "$TMP/out")
	expect_status 1 "json: a dry run that matches nothing" in_ns "$ns" "$SR" -n -j --state last-ack
	b=$(jq -c '.summary | keys' "$TMP/out")
	check "json: dry-run summary has the same fields either way ($a / $b)" [ "$a" = "$b" ]
	check "json: ... and says its exit status" jqe '.summary.exit_status == 1' "$TMP/out"
	expect_status 0 "json: a kill that matches" in_ns "$ns" "$SR" --yes -j --no-audit --state close-wait
	a=$(jq -c '.summary | keys' "$TMP/out")
	expect_status 1 "json: a kill that matches nothing" in_ns "$ns" "$SR" --yes -j --no-audit --state close-wait
	b=$(jq -c '.summary | keys' "$TMP/out")
	check "json: kill summary has the same fields either way ($a / $b)" [ "$a" = "$b" ]

	expect_status 0 "json: time-wait preview" in_ns "$ns" "$SR" -n -j --state time-wait
	check "json: a time-wait socket's uid is null (no owner, no uid), not 0" \
		jqe '[.sockets[].uid] | length == 2 and all(. == null)' "$TMP/out"
}

# --- the table: unknown owners are "?", said once; outcome labels are the man page's -----------
test_table() {
	local ns
	ns_new ns || { not_ok "table: namespace"; return; }
	rig_start Q "$ns" -p 7340 -n 2 close-wait || { not_ok "table: rig"; return; }
	rig_start W "$ns" -p 7341 -n 1 time-wait || { not_ok "table: time-wait rig"; return; }
	expect_status 0 "table: --no-owners preview" in_ns "$ns" "$SR" -n --no-owners --state close-wait,time-wait
	check "table: owners not looked up show ?" [ "$(awk '$1=="close-wait" {print $NF}' "$TMP/out" | sort -u)" = "?" ]
	check "table: a time-wait socket has no owner: -" [ "$(awk '$1=="time-wait" {print $NF}' "$TMP/out")" = "-" ]
	check "table: ? is explained once" [ "$(grep -c '? = owners' "$TMP/err")" = 1 ]
}

test_listen_kept
test_pid_elsewhere
test_many_namespaces
test_max_dry_run
test_json
test_table
