#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sockreap watch in network namespaces, the watcher itself in ours: --netns NAME, a `netns`
# word in a rule naming a namespace created after the watcher started (and deleted and created
# again: a new namespace, ages start over), --all-netns finding a namespace created after the
# start; the namespace in every audit record (the breaker's "refused" record too), in the
# metrics (a label) and in the one syslog line of a cycle that acted. Ports 749x are this
# file's alone: --all-netns looks at every namespace on the host, and its rule selects nothing
# but close-wait sockets on such a port.
# Every namespace, rig and watcher here is ours, stopped by pid.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/watch_lib.sh

require_netns watch-netns

# ns_named NAME: a namespace of that name (lo up), deleted at exit.
ns_named() {
	ip netns add "$1" || return 1
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

ns_inode() {
	stat -L -c %i "/run/netns/$1"
}

# --netns NAME, and a rule's `netns` word for a namespace that does not exist yet.
named() {
	local a b=sr-$$-late t0 ino_b1 ino_b2 c
	ns_new a || { not_ok "named: namespace"; return; }
	rig_start A "$a" -p 7491 -n 2 close-wait || { not_ok "named: rig"; return; }
	cw_settled "$a" 7491 2 || { not_ok "named: close-wait settled"; return; }
	watcher W "" --every 300ms --audit-log "$TMP/named.log" --metrics-file "$TMP/named.prom" \
		--netns "$a" 'a: state close-wait and sport 7491, older-than 1s'
	watcher L "" --every 300ms --audit-log "$TMP/late.log" --metrics-file "$TMP/late.prom" \
		"late: netns $b and state close-wait and sport 7492, older-than 1s"
	cycles_done "$TMP/named.prom" 1 || { not_ok "named: no first cycle"; return; }
	check "named: not killed before its age" [ "$(cw_count "$a" 7491)" = 2 ]
	cw_settled "$a" 7491 0
	check "named: --netns $a: killed in it once old enough" [ "$(cw_count "$a" 7491)" = 0 ]
	check "named: the watcher stays in our namespace" \
		[ "$(readlink "/proc/$W/ns/net")" = "$(readlink /proc/self/ns/net)" ]
	check "named: every intent names the namespace" [ "$(jq -rs --arg ns "$a" '
		[.[] | select(.event == "intent") | .sockets[] | .netns.name == $ns] |
		length == 2 and all' "$TMP/named.log")" = true ]
	check "named: 2 killed in the audit" \
		[ "$(audit_outcomes "$TMP/named.log" "$(ns_inode "$a")")" = "2 killed" ]
	cycles_done "$TMP/named.prom" "$(($(cycles "$TMP/named.prom") + 1))"
	check "named: killed 2, labelled with the namespace" \
		grep -qx "sockreap_watch_killed_total{rule=\"a\",netns=\"$a\"} 2" "$TMP/named.prom"

	# A namespace the rule names, created after the watcher started.
	check "late: the watcher says the namespace is not there" \
		wait_grep "$TMP/L.err" "rule late: no network namespace \"$b\" in /run/netns"
	check "late: said once, not every cycle" \
		[ "$(grep -c "no network namespace \"$b\"" "$TMP/L.err")" = 1 ]
	ns_named "$b" || { not_ok "late: namespace"; return; }
	ino_b1=$(ns_inode "$b")
	rig_start B "$b" -p 7492 -n 3 close-wait || { not_ok "late: rig"; return; }
	cw_settled "$b" 7492 3 || { not_ok "late: close-wait settled"; return; }
	cw_settled "$b" 7492 0
	check "late: killed in a namespace created after the start" [ "$(cw_count "$b" 7492)" = 0 ]
	check "late: it says the namespace is there" wait_grep "$TMP/L.err" "is there again"

	# Deleted and created again under the same name: a new namespace, its ages from zero.
	kill "$B" 2>/dev/null
	wait "$B" 2>/dev/null
	ip netns del "$b"
	wait_grep "$TMP/L.err" "rule late: no network namespace \"$b\"" >/dev/null
	ip netns add "$b" && ip -n "$b" link set lo up
	ino_b2=$(ns_inode "$b")
	rig_start B2 "$b" -p 7492 -n 2 close-wait || { not_ok "late: rig again"; return; }
	cw_settled "$b" 7492 2 || { not_ok "late: close-wait settled again"; return; }
	t0=$(cycles "$TMP/late.prom")
	cw_settled "$b" 7492 0
	c=$(cycles "$TMP/late.prom")
	check "late: created again (inode $ino_b1 -> $ino_b2): killed again" \
		[ "$(cw_count "$b" 7492)" = 0 ]
	# 1 s at 300 ms a cycle: at least 3 cycles after first seen (not at once, by an old age).
	check "late: killed $((c - t0)) cycles after the sockets appeared, not at once" \
		[ "$((c - t0))" -ge 3 ]
	check "late: the audit names both namespaces by inode" [ "$(jq -rs \
		--argjson i1 "$ino_b1" --argjson i2 "$ino_b2" '
		[.[] | select(.event == "intent") | .sockets[].netns.inode] | unique ==
		([$i1, $i2] | sort)' "$TMP/late.log")" = true ]
	stop "$W"
	check "named: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	stop "$L"
	check "late: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	check "named: stderr clean of sanitizer reports" \
		sh -c "! grep -q 'Sanitizer\|runtime error' '$TMP/W.err' '$TMP/L.err'"
}

# --all-netns: a namespace created after the watcher started is found and watched.
all_netns() {
	local c
	watcher X "" --every 300ms --all-netns --audit-log "$TMP/all.log" \
		--metrics-file "$TMP/all.prom" 'all: state close-wait and sport 7493, older-than 1s'
	cycles_done "$TMP/all.prom" 1 || { not_ok "all-netns: no first cycle"; return; }
	ns_new c || { not_ok "all-netns: namespace"; return; }
	rig_start C "$c" -p 7493 -n 2 close-wait || { not_ok "all-netns: rig"; return; }
	cw_settled "$c" 7493 2 || { not_ok "all-netns: close-wait settled"; return; }
	cw_settled "$c" 7493 0
	check "all-netns: killed in a namespace created after the start" \
		[ "$(cw_count "$c" 7493)" = 0 ]
	check "all-netns: 2 killed there in the audit" \
		[ "$(audit_outcomes "$TMP/all.log" "$(ns_inode "$c")")" = "2 killed" ]
	cycles_done "$TMP/all.prom" "$(($(cycles "$TMP/all.prom") + 1))"
	check "all-netns: killed 2, labelled with the namespace" \
		grep -qx "sockreap_watch_killed_total{rule=\"all\",netns=\"$c\"} 2" "$TMP/all.prom"
	stop "$X"
	check "all-netns: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	check "all-netns: stderr clean of sanitizer reports" \
		sh -c "! grep -q 'Sanitizer\|runtime error' '$TMP/X.err'"
}

# One syslog line for a cycle that acted, naming the rule, the namespace and the counts, and
# no other line (the runs' own intent and result lines are the audit file's).
syslog_ns() {
	local d rc
	ns_new d || { not_ok "syslog: namespace"; return; }
	rig_start D "$d" -p 7494 -n 3 close-wait || { not_ok "syslog: rig"; return; }
	cw_settled "$d" 7494 3 || { not_ok "syslog: close-wait settled"; return; }
	unshare -m --propagation private bash -c '
		mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		ln -s /proc/self/fd /dev/fd || exit 99
		"$1" /dev/log >>"$2" & sink=$!
		for _ in $(seq 100); do grep -q ready "$2" && break; sleep 0.1; done
		"$3" watch --every 300ms --audit-log "$4" --netns "$5" \
			"s: state close-wait and sport 7494, older-than 0s" >/dev/null 2>&1 & w=$!
		for _ in $(seq 600); do grep -q "watch: cycle" "$2" && break; sleep 0.1; done
		sleep 1	# more cycles, which act on nothing: no line for them
		kill -TERM $w
		wait $w
		echo "rc=$?" >>"$2"
		sleep 0.2
		kill $sink' _ "$PWD/build/tests/logsink" "$TMP/ns.syslog" "$SR" "$TMP/syslog.log" "$d"
	rc=$?
	if [ "$rc" = 99 ]; then
		skipped "syslog: cannot make a private mount namespace here"
		return
	fi
	check "syslog: one line for the cycle that acted, with the namespace" \
		[ "$(grep -c "watch: cycle [0-9]*: s netns $d 3 killed, 0 gone, 0 not killed" \
			"$TMP/ns.syslog")" = 1 ]
	check "syslog: that is the only line" [ "$(grep -vc "^ready\|^rc=" "$TMP/ns.syslog")" = 1 ]
	check "syslog: the watcher exited 0" grep -qx "rc=0" "$TMP/ns.syslog"
	check "syslog: the audit file has the intent and the results" [ "$(jq -rs '
		[.[] | select(.event == "intent") | .sockets | length] == [3] and
		([.[] | select(.event == "result") | .cookies | length] | add) == 3' \
		"$TMP/syslog.log")" = true ]
}

# Refused up front, exit 2: a rule whose branch selects a whole namespace; --close-fd with a
# rule that names no process.
refusals() {
	expect_status 2 "refused: a branch that names only a namespace" \
		"$SR" watch --every 1s 'x: netns foo or state close-wait, older-than 1s'
	check "refused: the caret's message" grep -q "nothing but network namespaces" "$TMP/err"
	expect_status 2 "refused: --close-fd with a rule that names no process" \
		"$SR" watch --close-fd 'x: state close-wait, older-than 1s'
	check "refused: it names the rule" grep -q "rule x: --close-fd" "$TMP/err"
	expect_status 2 "refused: --netns with an empty name" "$SR" watch --netns '' \
		'x: state close-wait, older-than 1s'
}

# A watcher that started without namespaces gave up CAP_SYS_ADMIN: a reload that brings a
# netns rule in is refused, the old rules keep running. One that needs it and lacks it: exit 4.
privileges() {
	local e
	printf 'plain: state close-wait and sport 7497, older-than 1h\n' >"$TMP/priv.conf"
	chmod 0600 "$TMP/priv.conf"
	watcher P "" --every 200ms --no-audit --config "$TMP/priv.conf" --metrics-file "$TMP/priv.prom"
	cycles_done "$TMP/priv.prom" 1 || { not_ok "reload: no first cycle"; return; }
	printf 'ns: netns sr-nosuch and state close-wait, older-than 1h\n' >"$TMP/priv.conf"
	kill -HUP "$P"
	check "reload: a netns rule into a watcher without CAP_SYS_ADMIN is refused" \
		wait_grep "$TMP/P.err" "rule ns names network namespaces, and this watcher gave up"
	check "reload: the old rule keeps running" \
		wait_grep "$TMP/P.err" "not reloaded (above); the 1 rule before it keep running"
	check "reload: its metrics still name the old rule" \
		grep -q 'sockreap_watch_matched_total{rule="plain"}' "$TMP/priv.prom"
	stop "$P"
	check "reload: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	if ! command -v setpriv >/dev/null; then
		skipped "privileges: setpriv is not installed (util-linux)"
		return
	fi
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 expect_status 4 \
		"privileges: --all-netns without CAP_SYS_ADMIN" \
		setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$SR" watch --all-netns \
		--no-audit 'x: state close-wait and sport 7497, older-than 1h'
	e=$(head -c 300 "$TMP/err")
	check "privileges: it says setns needs CAP_SYS_ADMIN ($e)" \
		grep -q "that needs CAP_SYS_ADMIN" "$TMP/err"
}

# dev IFNAME in a rule watched with --netns: the device lives there, not here. Looked up there,
# cycle by cycle, as for a rule that names the namespace itself.
dev_there() {
	local ns
	ns_new ns || { not_ok "dev there: namespace"; return; }
	ip -n "$ns" link add srdum0 type veth peer name srdum1 ||
		{ not_ok "dev there: a device in the namespace"; return; }
	watcher DEV "" --every 200ms --netns "$ns" --no-audit --metrics-file "$TMP/dev.prom" \
		'd: state close-wait and dev srdum0, older-than 1h'
	check "dev there: the watcher runs its cycles" cycles_done "$TMP/dev.prom" 2
	stop "$DEV"
	check "dev there: it stopped cleanly (exit 0)" [ "$STOPPED" = 0 ]
	check "dev there: no refusal" sh -c "! grep -q \"no interface\" \"$TMP/DEV.err\""
	expect_status 2 "dev there: a device nowhere is still refused here, without --netns" \
		"$SR" watch --every 1s 'd: state close-wait and dev srdum0, older-than 1h'
}

# The breaker in two namespaces: 3 + 4 old enough, more than max 5, none killed; the "refused"
# record names each namespace as the intents do (inode, name, pid) with how many it matched there.
breaker_ns() {
	local a b got want
	ns_new a || { not_ok "breaker ns: namespace"; return; }
	ns_new b || { not_ok "breaker ns: second namespace"; return; }
	rig_start FA "$a" -p 7495 -n 3 close-wait || { not_ok "breaker ns: rig"; return; }
	rig_start FB "$b" -p 7495 -n 4 close-wait || { not_ok "breaker ns: second rig"; return; }
	cw_settled "$a" 7495 3 || { not_ok "breaker ns: close-wait settled"; return; }
	cw_settled "$b" 7495 4 || { not_ok "breaker ns: close-wait settled there"; return; }
	watcher BRK "" --every 300ms --netns "$a" --netns "$b" --audit-log "$TMP/brkns.log" \
		--metrics-file "$TMP/brkns.prom" \
		'flood: state close-wait and sport 7495, older-than 0s, max 5'
	cycles_done "$TMP/brkns.prom" 2 || { not_ok "breaker ns: no second cycle"; return; }
	stop "$BRK"
	check "breaker ns: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	check "breaker ns: 7 matched, more than max 5: none killed in either" \
		[ "$(cw_count "$a" 7495) $(cw_count "$b" 7495)" = "3 4" ]
	check "breaker ns: refused records, no intent" [ "$(jq -rs '
		([.[] | select(.event == "refused")] | length) > 0 and
		([.[] | select(.event == "intent")] | length) == 0' "$TMP/brkns.log")" = true ]
	got=$(jq -c 'select(.event == "refused") | [.matched, (.netns // [] |
		map([.name, .inode, .matched, has("pid")]) | sort)]' "$TMP/brkns.log" | sort -u)
	want="[7,[[\"$a\",$(ns_inode "$a"),3,true],[\"$b\",$(ns_inode "$b"),4,true]]]"
	check "breaker ns: each refused record names both namespaces with their counts ($got)" \
		[ "$got" = "$want" ]
	check "breaker ns: a namespace as the intents name it: inode, name, pid, then matched" \
		[ "$(jq -c 'select(.event == "refused") | .netns[] | keys_unsorted' \
			"$TMP/brkns.log" | sort -u)" = '["inode","name","pid","matched"]' ]
	check "breaker ns: stderr clean of sanitizer reports" \
		sh -c "! grep -q 'Sanitizer\|runtime error' '$TMP/BRK.err'"
}

refusals
dev_there
privileges
named
all_netns
syslog_ns
breaker_ns
