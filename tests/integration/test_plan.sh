#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Plan files on real sockets: --save-plan writes the preview, --apply kills exactly the planned
# sockets still there (never new ones that match the selector), reports the rest gone or
# changed, and refuses a plan from elsewhere, too old or edited, with nothing killed.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns plan

# rig_stop VAR: ends a rig through its input and waits (bounded) until it has exited.
rig_stop() {
	local w="${1}_in" pid=${!1}
	echo quit >&"${!w}"
	wait_exit "$pid"
}

# port_empty NS PORT: waits (bounded) until the kernel lists no TCP socket on local PORT.
port_empty() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(ss_count "$1" "sport = :$2")" = 0 ] && return 0
		sleep 0.01
	done
	return 1
}

# --- save, let some planned sockets close, add new matching ones, apply ----------------------
test_apply() {
	local ns plan="$TMP/plan.json" log="$TMP/apply.log" digest
	ns_new ns || { not_ok "apply: namespace"; return; }
	rig_start PA "$ns" -p 7200 -n 20 close-wait || { not_ok "apply: rig A"; return; }
	rig_start PB "$ns" -p 7201 -n 10 close-wait || { not_ok "apply: rig B"; return; }

	expect_status 0 "apply: dry run saves the plan" \
		in_ns "$ns" "$SR" --dry-run --state close-wait --save-plan "$plan"
	check "apply: plan file is mode 0600" [ "$(stat -c %a "$plan")" = 600 ]
	check "apply: plan lists 30 sockets" [ "$(jq '.count, (.sockets | length)' "$plan" | sort -u)" = 30 ]
	check "apply: plan schema, selector and boot id" \
		[ "$(jq -r '"\(.schema) \(.selector) \(.boot_id)"' "$plan")" = \
		  "sockreap-plan/1 state close-wait $(cat /proc/sys/kernel/random/boot_id)" ]
	check "apply: plan records the namespace of every socket" \
		[ "$(jq '[.sockets[].netns.inode] | unique | length' "$plan")" = 1 ]
	check "apply: no temporary file is left next to the plan" \
		[ "$(find "$TMP" -maxdepth 1 -name '.plan.json.*' | wc -l)" = 0 ]

	# B's 10 close on their own; C's 5 are new and match the selector, but were not planned.
	rig_stop PB || { not_ok "apply: rig B did not exit"; return; }
	port_empty "$ns" 7201 || { not_ok "apply: rig B's sockets did not go"; return; }
	rig_start PC "$ns" -p 7202 -n 5 close-wait || { not_ok "apply: rig C"; return; }

	expect_status 0 "apply: --apply --yes" \
		in_ns "$ns" "$SR" --apply "$plan" --yes --json --audit-log "$log"
	check "apply: 20 killed, 10 gone, 0 changed" \
		[ "$(jq -r '.summary | "\(.killed) \(.gone) \(.changed)"' "$TMP/out")" = "20 10 0" ]
	grep -q "30 sockets, 20 still there, 10 gone, 0 changed" "$TMP/err"
	check "apply: says how many of the plan are still there" [ $? = 0 ]
	check "apply: A's 20 close-wait are killed" [ "$(cw_count "$ns" 7200)" = 0 ]
	check "apply: C's 5 new close-wait are untouched" [ "$(cw_count "$ns" 7202)" = 5 ]
	local rc
	rc=$(rig_report PC)
	check "apply: C's owner sees nothing closed ($rc)" \
		[ "$rc" = "held=5 closed=0 eof=5 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
	jq -r '.sockets[].cookie' "$plan" | sort >"$TMP/plan.cookies"
	jq -r '.sockets[].cookie' "$TMP/out" | sort >"$TMP/apply.cookies"
	check "apply: the run reports exactly the planned cookies" \
		cmp -s "$TMP/plan.cookies" "$TMP/apply.cookies"
	digest=$(sha256sum "$plan" | cut -d' ' -f1)
	check "apply: every audit record carries the plan's sha256" \
		[ "$(jq -r '.plan.sha256' "$log" | sort -u)" = "$digest" ]
	check "apply: every audit record carries the plan's author" \
		[ "$(jq -r '.plan.author.uid' "$log" | sort -u)" = "$(id -u)" ]
	check "apply: audit results: 20 killed, 10 gone" \
		[ "$(jq -rs '[.[] | select(.event=="result") | .outcome as $o | .cookies[] | $o] | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$log")" = "10 gone, 20 killed" ]

	# A second apply finds nothing left: all gone, nothing else touched.
	expect_status 0 "apply: a second apply" \
		in_ns "$ns" "$SR" --apply "$plan" --yes --json --audit-log "$log"
	check "apply: second apply: 0 killed, 30 gone" \
		[ "$(jq -r '.summary | "\(.killed) \(.gone)"' "$TMP/out")" = "0 30" ]
	check "apply: C's 5 still untouched" [ "$(cw_count "$ns" 7202)" = 5 ]
}

# --- a 4-tuple reused by another socket: changed, and the new one left alone ------------------
test_changed() {
	local ns plan="$TMP/udp.json"
	ns_new ns || { not_ok "changed: namespace"; return; }
	# sockrig udp: the first client is bound to 7301 and connected to 7300: a fixed 4-tuple.
	rig_start PU "$ns" -p 7300 -n 1 udp || { not_ok "changed: rig"; return; }
	expect_status 0 "changed: save a plan of the connected UDP socket" \
		in_ns "$ns" "$SR" --dry-run -u --sport 7301 --save-plan "$plan"
	check "changed: planned 1" [ "$(jq .count "$plan")" = 1 ]
	rig_stop PU || { not_ok "changed: rig did not exit"; return; }
	rig_start PV "$ns" -p 7300 -n 1 udp || { not_ok "changed: second rig"; return; }
	expect_status 0 "changed: apply" \
		in_ns "$ns" "$SR" --apply "$plan" --yes --json --no-audit
	check "changed: outcome changed" \
		[ "$(jq -r '.sockets[0].outcome' "$TMP/out")" = changed ]
	check "changed: the new socket on that 4-tuple is still connected" \
		[ "$(in_ns "$ns" ss -uanH "sport = :7301" "dport = :7300" | wc -l)" = 1 ]
	local rv
	rv=$(rig_report PV)
	check "changed: its owner sees nothing closed ($rv)" [ "${rv#*closed=0 }" != "$rv" ]

	# The UDP socket itself, still there, is found (in a dump, by cookie) and killed.
	expect_status 0 "changed: save a plan of the new socket" \
		in_ns "$ns" "$SR" --dry-run -u --sport 7301 --save-plan "$plan"
	expect_status 0 "changed: apply it" in_ns "$ns" "$SR" --apply "$plan" --yes --json --no-audit
	check "changed: the UDP socket still there is killed" \
		[ "$(jq -r '.sockets[0].outcome' "$TMP/out")" = killed ]
}

# --- the plan's author is what the file claims: the audit also names who owns the file --------
test_author_claimed() {
	local ns plan="$TMP/claim.json" log="$TMP/claim.log"
	ns_new ns || { not_ok "claimed author: namespace"; return; }
	rig_start PW "$ns" -p 7500 -n 2 close-wait || { not_ok "claimed author: rig"; return; }
	expect_status 0 "claimed author: save a plan" \
		in_ns "$ns" "$SR" --dry-run --sport 7500 --state close-wait --save-plan "$plan"
	# Anyone who can write a plan can write any "who" into it (here root, whose plans --apply
	# reads: a third user's file is refused, test_refusals).
	jq -c '.who.uid = 4242 | .who.euid = 4242 | .who.sudo_user = "alice"' "$plan" >"$plan.e" &&
		mv "$plan.e" "$plan" && chmod 0600 "$plan" && chown 0 "$plan"
	expect_status 0 "claimed author: apply it" \
		in_ns "$ns" "$SR" --apply "$plan" --yes --audit-log "$log"
	check "claimed author: the audit keeps the claimed author" \
		[ "$(jq -r '.plan.author.uid' "$log" | sort -u)" = 4242 ]
	check "claimed author: every record names the file's owner as the kernel says" \
		[ "$(jq -r '.plan.file_uid' "$log" | sort -u)" = 0 ]
	check "claimed author: the run says whose file it was" grep -q 'file owned by uid 0' "$TMP/err"
}

# --- refusals: each exits as specified and kills nothing ---------------------------------------
test_refusals() {
	local ns plan="$TMP/base.json" v
	ns_new ns || { not_ok "refuse: namespace"; return; }
	rig_start PR "$ns" -p 7400 -n 3 close-wait || { not_ok "refuse: rig"; return; }
	expect_status 0 "refuse: save a plan of 3" \
		in_ns "$ns" "$SR" --dry-run --sport 7400 --state close-wait --save-plan "$plan"

	# refused NAME JQ-EDIT: the edited plan is refused with exit 5 and nothing killed.
	refused() {
		jq -c "$2" "$plan" >"$TMP/$1.json"
		expect_status 5 "refuse: $1" in_ns "$ns" "$SR" --apply "$TMP/$1.json" --yes --no-audit
		grep -q "refused: " "$TMP/err" || not_ok "refuse: $1: no reason said: $(cat "$TMP/err")"
		check "refuse: $1: nothing killed" [ "$(cw_count "$ns" 7400)" = 3 ]
	}
	refused host '.host.hostname = "elsewhere"'
	refused machine-id '.host.machine_id = "00000000000000000000000000000000"'
	refused boot-id '.boot_id = "00000000-0000-0000-0000-000000000000"'
	refused old '.unix_time -= 3600 | .time = (.unix_time | todate)'
	refused time-edited '.unix_time -= 60'
	refused future '.unix_time += 3600 | .time = (.unix_time | todate)'
	refused no-cookie 'del(.sockets[0].cookie)'
	refused duplicate-cookie '.sockets[1].cookie = .sockets[0].cookie'
	refused bad-tuple '.sockets[0].local.addr = "300.1.2.3"'
	refused unknown-state '.sockets[0].state = "sleepy"'
	refused count '.count = 2'
	refused schema '.schema = "sockreap-plan/0"'
	refused not-a-plan '{ "sockets": .sockets }'

	jq -c '.unix_time -= 120 | .time = (.unix_time | todate)' "$plan" >"$TMP/old2.json"
	expect_status 5 "refuse: --max-age 1m, plan 2 minutes old" \
		in_ns "$ns" "$SR" --apply "$TMP/old2.json" --yes --no-audit --max-age 1m
	check "refuse: --max-age: nothing killed" [ "$(cw_count "$ns" 7400)" = 3 ]
	expect_status 5 "refuse: --max 2 on a plan of 3" \
		in_ns "$ns" "$SR" --apply "$plan" --yes --no-audit --max 2
	check "refuse: --max: nothing killed" [ "$(cw_count "$ns" 7400)" = 3 ]

	# A symbolic link to the plan, and a copy owned by a third user: refused, nothing killed.
	ln -sf "$plan" "$TMP/link.json"
	expect_status 5 "refuse: a symbolic link as the plan" \
		in_ns "$ns" "$SR" --apply "$TMP/link.json" --yes --no-audit
	check "refuse: link: says so" grep -q "refused: a symbolic link" "$TMP/err"
	cp "$plan" "$TMP/third.json" && chown 65534 "$TMP/third.json"
	expect_status 5 "refuse: a plan owned by a third user" \
		in_ns "$ns" "$SR" --apply "$TMP/third.json" --yes --no-audit
	check "refuse: third: says whose" grep -q "refused: owned by uid 65534, neither root nor you" "$TMP/err"
	check "refuse: link and third: nothing killed" [ "$(cw_count "$ns" 7400)" = 3 ]

	# Malformed JSON: exit 2 with where it broke (the byte, from 1, line and column).
	printf '{"schema": "sockreap-plan/1",\n "count": 3,\n "sockets": [}\n' >"$TMP/broken.json"
	expect_status 2 "refuse: malformed JSON" in_ns "$ns" "$SR" --apply "$TMP/broken.json" --yes --no-audit
	v=$(grep -o 'at byte [0-9]* (line [0-9]*, column [0-9]*)' "$TMP/err")
	check "refuse: malformed JSON names the byte and line:column ($v)" \
		[ "$v" = "at byte 57 (line 3, column 14)" ]
	check "refuse: malformed: nothing killed" [ "$(cw_count "$ns" 7400)" = 3 ]

	# An entry added by hand with a real cookie, one the plan's selector does not select (an
	# established connection in a close-wait plan): not what was reviewed; nothing killed.
	rig_start PE "$ns" -p 7401 -n 1 established || { not_ok "refuse: rig E"; return; }
	in_ns "$ns" "$SR" -n --json --state established --sport 7401 >"$TMP/est.json" 2>/dev/null
	jq -c --slurpfile e "$TMP/est.json" '.sockets += [($e[0].sockets[0] |
		{cookie, protocol, family, state, local, peer, inode, uid, owners, owner_count}) +
		{netns: .sockets[0].netns}] | .count += 1' "$plan" >"$TMP/added.json"
	check "refuse: added: the edited plan lists the real socket" \
		[ "$(jq -r '.sockets[3].state' "$TMP/added.json")" = established ]
	expect_status 5 "refuse: an added entry the plan's selector does not select" \
		in_ns "$ns" "$SR" --apply "$TMP/added.json" --yes --no-audit
	check "refuse: added: says which entry" grep -q 'does not match the plan.s selector' "$TMP/err"
	check "refuse: added: the established connection is untouched" \
		[ "$(ss_count "$ns" state established "( sport = :7401 or dport = :7401 )")" = 2 ]
	check "refuse: added: nothing killed" [ "$(cw_count "$ns" 7400)" = 3 ]

	expect_status 2 "refuse: a selector with --apply" \
		in_ns "$ns" "$SR" --apply "$plan" --state close-wait --yes --no-audit
	expect_status 2 "refuse: an expression with --apply" \
		in_ns "$ns" "$SR" --apply "$plan" --yes --no-audit 'sport 7400'
	expect_status 2 "refuse: --save-plan without --dry-run" \
		in_ns "$ns" "$SR" --sport 7400 --save-plan "$TMP/x.json" --yes --no-audit
	check "refuse: usage errors: nothing killed" [ "$(cw_count "$ns" 7400)" = 3 ]

	# A symbolic link where the plan goes is refused, and what it points at is untouched.
	echo keep >"$TMP/target"
	ln -s "$TMP/target" "$TMP/link.json"
	expect_status 6 "refuse: --save-plan onto a symbolic link" \
		in_ns "$ns" "$SR" --dry-run --sport 7400 --save-plan "$TMP/link.json"
	check "refuse: the link's target is untouched" [ "$(cat "$TMP/target")" = keep ]

	# Everything in order: the same plan kills the 3.
	expect_status 0 "refuse: the unedited plan applies" \
		in_ns "$ns" "$SR" --apply "$plan" --yes --no-audit
	check "refuse: ... and kills the 3" [ "$(cw_count "$ns" 7400)" = 0 ]
}

# --- namespaces: a plan made with --netns applies there from outside; a deleted one is gone ---
test_netns() {
	local ns ns2 plan="$TMP/ns.json" plan2="$TMP/ns2.json"
	ns_new ns || { not_ok "netns: namespace"; return; }
	ns_new ns2 || { not_ok "netns: namespace 2"; return; }
	rig_start PN "$ns" -p 7500 -n 4 close-wait || { not_ok "netns: rig"; return; }
	rig_start PM "$ns2" -p 7501 -n 2 close-wait || { not_ok "netns: rig 2"; return; }
	expect_status 0 "netns: save with --netns" \
		"$SR" --dry-run --netns "$ns" --state close-wait --save-plan "$plan"
	check "netns: plan names the namespace's inode" \
		[ "$(jq -r '.netns[0].inode' "$plan")" = "$(stat -L -c %i "/run/netns/$ns")" ]
	expect_status 0 "netns: apply from outside" "$SR" --apply "$plan" --yes --json --no-audit
	check "netns: 4 killed there" [ "$(jq .summary.killed "$TMP/out")" = 4 ]
	check "netns: none left there" [ "$(cw_count "$ns" 7500)" = 0 ]

	expect_status 0 "netns: save in the second namespace" \
		in_ns "$ns2" "$SR" --dry-run --state close-wait --save-plan "$plan2"
	rig_stop PM || { not_ok "netns: rig 2 did not exit"; return; }
	ip netns del "$ns2"
	expect_status 0 "netns: apply a plan whose namespace is gone" \
		"$SR" --apply "$plan2" --yes --json --no-audit
	check "netns: its 2 sockets are gone" [ "$(jq .summary.gone "$TMP/out")" = 2 ]
}

# --- several namespaces: applied in each, found by inode; one deleted meanwhile: gone ---------
test_many_netns() {
	local a b c plan="$TMP/many.json" ia ib
	ns_new a || { not_ok "many-netns: namespace a"; return; }
	ns_new b || { not_ok "many-netns: namespace b"; return; }
	ns_new c || { not_ok "many-netns: namespace c"; return; }
	rig_start QA "$a" -p 7700 -n 3 close-wait || { not_ok "many-netns: rig a"; return; }
	rig_start QB "$b" -p 7700 -n 2 close-wait || { not_ok "many-netns: rig b"; return; }
	rig_start QC "$c" -p 7700 -n 4 close-wait || { not_ok "many-netns: rig c"; return; }
	expect_status 0 "many-netns: save over --netns a, b and c" \
		"$SR" --dry-run --netns "$a" --netns "$b" --netns "$c" --state close-wait \
		--sport 7700 --save-plan "$plan"
	check "many-netns: plan lists 9 sockets in 3 namespaces" \
		[ "$(jq -r '"\(.count) \([.sockets[].netns.inode] | unique | length)"' "$plan")" = "9 3" ]
	ia=$(stat -L -c %i "/run/netns/$a")
	# c goes away with its sockets; a gets a new matching socket that was not planned.
	rig_stop QC || { not_ok "many-netns: rig c did not exit"; return; }
	ip netns del "$c"
	rig_start QD "$a" -p 7701 -n 1 close-wait || { not_ok "many-netns: rig d"; return; }
	expect_status 0 "many-netns: apply from outside" \
		"$SR" --apply "$plan" --yes --json --audit-log "$TMP/many.log"
	check "many-netns: 5 killed, 4 gone" \
		[ "$(jq -r '.summary | "\(.killed) \(.gone)"' "$TMP/out")" = "5 4" ]
	check "many-netns: none left on 7700 in a and b" \
		[ "$(cw_count "$a" 7700) $(cw_count "$b" 7700)" = "0 0" ]
	check "many-netns: the new socket in a is untouched" [ "$(cw_count "$a" 7701)" = 1 ]
	check "many-netns: audit: a's 3 killed" [ "$(audit_outcomes "$TMP/many.log" "$ia")" = "3 killed" ]
	ib=$(stat -L -c %i "/run/netns/$b")
	check "many-netns: audit: b's 2 killed" [ "$(audit_outcomes "$TMP/many.log" "$ib")" = "2 killed" ]
}

# --- on a terminal: the prompt shows the plan's survivors and says what became of the rest ----
test_confirm() {
	local ns plan="$TMP/confirm.json" PTY="python3 tests/helpers/ptyrun.py"
	if ! command -v python3 >/dev/null; then
		skipped "confirm: python3 is not installed (tests/helpers/ptyrun.py)"
		return
	fi
	ns_new ns || { not_ok "confirm: namespace"; return; }
	rig_start PK "$ns" -p 7800 -n 3 close-wait || { not_ok "confirm: rig"; return; }
	rig_start PL "$ns" -p 7801 -n 2 close-wait || { not_ok "confirm: rig 2"; return; }
	expect_status 0 "confirm: save a plan of 5" \
		in_ns "$ns" "$SR" --dry-run --state close-wait --save-plan "$plan"
	rig_stop PL || { not_ok "confirm: rig 2 did not exit"; return; }
	port_empty "$ns" 7801 || { not_ok "confirm: rig 2's sockets did not go"; return; }
	in_ns "$ns" $PTY 24 100 --answer $'n\n' "$SR" --apply "$plan" --audit-log "$TMP/confirm.log" >"$TMP/tty" 2>&1
	check "confirm: declined: exit 5" [ $? = 5 ]
	check "confirm: says 5 planned, 3 still there, 2 gone" \
		grep -q "5 sockets, 3 still there, 2 gone, 0 changed" "$TMP/tty"
	check "confirm: asks about the 3" grep -q "Kill 3 sockets? \[y/N\]" "$TMP/tty"
	check "confirm: the table lists the 3 still there, not the gone" \
		[ "$(grep -c '127.0.0.1:7800 ' "$TMP/tty") $(grep -c '127.0.0.1:7801 ' "$TMP/tty")" = "3 0" ]
	check "confirm: declined: nothing killed" [ "$(cw_count "$ns" 7800)" = 3 ]
	in_ns "$ns" $PTY 24 100 --answer $'y\n' "$SR" --apply "$plan" --audit-log "$TMP/confirm.log" >"$TMP/tty" 2>&1
	check "confirm: confirmed: exit 0" [ $? = 0 ]
	check "confirm: confirmed: the 3 killed" [ "$(cw_count "$ns" 7800)" = 0 ]
}

# --- syslog: with --no-audit the lines before and after the kill name the plan ---------------
test_syslog() {
	local ns plan="$TMP/sys.json" digest rc
	ns_new ns || { not_ok "syslog: namespace"; return; }
	rig_start PS "$ns" -p 7900 -n 2 close-wait || { not_ok "syslog: rig"; return; }
	expect_status 0 "syslog: save a plan" \
		in_ns "$ns" "$SR" --dry-run --state close-wait --save-plan "$plan"
	digest=$(sha256sum "$plan" | cut -d' ' -f1)
	# A private /dev (an empty tmpfs) where only our logsink listens at /dev/log.
	in_ns "$ns" unshare -m --propagation private bash -c '
		mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		ln -s /proc/self/fd /dev/fd || exit 99
		"$1" /dev/log >>"$2" & sink=$!
		for _ in $(seq 100); do grep -q ready "$2" && break; sleep 0.1; done
		"$3" --apply "$4" --yes --no-audit >/dev/null 2>&1
		echo "rc=$?" >>"$2"
		for _ in $(seq 100); do [ "$(grep -c plan_sha256 "$2")" -ge 2 ] && break; sleep 0.05; done
		kill $sink' _ "$PWD/build/tests/logsink" "$TMP/sys.log" "$SR" "$plan"
	rc=$?
	if [ "$rc" = 99 ]; then
		skipped "syslog: cannot make a private mount namespace here"
		return
	fi
	check "syslog: the apply exited 0 ($(grep rc= "$TMP/sys.log"))" grep -q "^rc=0" "$TMP/sys.log"
	check "syslog: both lines name the plan's sha256" \
		[ "$(grep -c "plan_sha256=$digest plan_author_uid=$(id -u)" "$TMP/sys.log")" = 2 ]
	check "syslog: the 2 are killed" [ "$(cw_count "$ns" 7900)" = 0 ]
}

test_apply
test_author_claimed
test_syslog
test_confirm
test_many_netns
test_changed
test_refusals
test_netns
