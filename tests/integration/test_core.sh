#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The core path on real kernel sockets: preview = plan, kill exactly that set, outcomes, audit,
# exit statuses, safety defaults. Every namespace and rig here is ours and is removed at exit.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns core

# --- 2,000 CLOSE_WAIT held by one process, 2,000 ESTABLISHED by another ----------------------
test_main_scenario() {
	local ns a b
	ns_new ns || { not_ok "main: namespace"; return; }
	rig_start A "$ns" -p 7000 -n 2000 close-wait || { not_ok "main: rig A"; return; }
	rig_start B "$ns" -p 7001 -n 1000 established || { not_ok "main: rig B"; return; }

	check "main: kernel lists 2000 close-wait" [ "$(ss_count "$ns" state close-wait)" = 2000 ]
	check "main: kernel lists 2000 established" [ "$(ss_count "$ns" state established)" = 2000 ]

	expect_status 0 "main: dry-run --json" in_ns "$ns" "$SR" --dry-run --json --state close-wait --pid "$A"
	cp "$TMP/out" "$TMP/preview.json"
	jq -r '.sockets[].cookie' "$TMP/preview.json" | sort >"$TMP/preview.cookies"
	check "main: preview lists 2000 cookies" [ "$(sort -u "$TMP/preview.cookies" | wc -l)" = 2000 ]
	check "main: preview schema 1, mode dry-run" \
		[ "$(jq -r '"\(.schema) \(.mode)"' "$TMP/preview.json")" = "1 dry-run" ]
	jq -r '.sockets[] | "\(.local.addr):\(.local.port) \(.peer.addr):\(.peer.port)"' \
		"$TMP/preview.json" | sort >"$TMP/preview.tuples"
	in_ns "$ns" ss -tanH state close-wait | awk '{print $3" "$4}' | sort >"$TMP/kernel.tuples"
	check "main: preview = the kernel's close-wait set" cmp -s "$TMP/preview.tuples" "$TMP/kernel.tuples"
	check "main: every preview owner is rig A" \
		[ "$(jq -r '.sockets[].owners[0].pid' "$TMP/preview.json" | sort -u)" = "$A" ]

	expect_status 0 "main: kill --state close-wait --pid A --yes" \
		in_ns "$ns" "$SR" --state close-wait --pid "$A" --yes --json --audit-log "$TMP/audit.log"
	cp "$TMP/out" "$TMP/kill.json"
	check "main: 2000 killed" [ "$(jq '.summary.killed' "$TMP/kill.json")" = 2000 ]
	jq -r '.sockets[].cookie' "$TMP/kill.json" | sort >"$TMP/kill.cookies"
	check "main: the kill acted on exactly the previewed cookies" cmp -s "$TMP/preview.cookies" "$TMP/kill.cookies"
	check "main: kernel lists no close-wait afterwards" [ "$(ss_count "$ns" state close-wait)" = 0 ]
	check "main: the 2000 established survive" [ "$(ss_count "$ns" state established)" = 2000 ]
	check "main: listeners survive" [ "$(ss_count "$ns" state listening)" = 2 ]
	local ra rb
	ra=$(rig_report A)
	rb=$(rig_report B)
	check "main: owner A sees its 2000 sockets closed, reading EOF ($ra)" \
		[ "$ra" = "held=2000 closed=2000 eof=2000 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
	check "main: owner B untouched ($rb)" \
		[ "$rb" = "held=2000 closed=0 eof=0 ECONNABORTED=0 ECONNRESET=0 EAGAIN=2000 other=0" ]

	local log="$TMP/audit.log"
	check "main: audit log is mode 0600" [ "$(stat -c %a "$log")" = 600 ]
	check "main: audit has one start record" [ "$(jq -c 'select(.event=="start")' "$log" | wc -l)" = 1 ]
	check "main: audit has 2000 intents" [ "$(jq -c 'select(.event=="intent") | .sockets[]' "$log" | wc -l)" = 2000 ]
	check "main: audit has 2000 killed results" \
		[ "$(jq -c 'select(.event=="result" and .outcome=="killed") | .cookies[]' "$log" | wc -l)" = 2000 ]
	check "main: audit summary says 2000 killed, exit 0" \
		[ "$(jq -r 'select(.event=="summary") | "\(.killed) \(.exit_status)"' "$log")" = "2000 0" ]
	check "main: audit records the argv and selector" \
		[ "$(jq -r 'select(.event=="start") | .selector' "$log")" = "state close-wait and pid $A" ]
	jq -r 'select(.event=="result") | .cookies[]' "$log" | sort >"$TMP/audit.cookies"
	check "main: audit results name the previewed cookies" cmp -s "$TMP/preview.cookies" "$TMP/audit.cookies"
	check "main: every audit record has the same run id" \
		[ "$(jq -r '.run' "$log" | sort -u | wc -l)" = 1 ]
}

# --- A plan big enough for the destroy to be shared among threads (one per CPU, up to 4) ------
test_many() {
	local ns threads
	threads=$(nproc)
	[ "$threads" -gt 4 ] && threads=4
	ns_new ns || { not_ok "many: namespace"; return; }
	rig_start MA "$ns" -p 7100 -n 6000 close-wait || { not_ok "many: rig A"; return; }
	rig_start MB "$ns" -p 7101 -n 3000 established || { not_ok "many: rig B"; return; }

	expect_status 0 "many: dry-run --json" in_ns "$ns" "$SR" --dry-run --json --state close-wait
	jq -r '.sockets[].cookie' "$TMP/out" | sort >"$TMP/many.preview"
	check "many: preview lists 6000 cookies" [ "$(sort -u "$TMP/many.preview" | wc -l)" = 6000 ]
	expect_status 0 "many: kill 6000 close-wait ($threads thread(s) here)" \
		in_ns "$ns" "$SR" --state close-wait --yes --json --audit-log "$TMP/many.log"
	check "many: 6000 killed" [ "$(jq '.summary.killed' "$TMP/out")" = 6000 ]
	jq -r 'select(.event=="result" and .outcome=="killed") | .cookies[]' \
		"$TMP/many.log" | sort >"$TMP/many.killed"
	check "many: audit results: each previewed cookie killed once" \
		cmp -s "$TMP/many.preview" "$TMP/many.killed"
	check "many: kernel lists no close-wait afterwards" [ "$(ss_count "$ns" state close-wait)" = 0 ]
	# Rig names are fifo names: not A/B, which the main scenario's rigs still read.
	local ra rb
	ra=$(rig_report MA)
	rb=$(rig_report MB)
	check "many: owner A sees all 6000 closed ($ra)" \
		[ "$ra" = "held=6000 closed=6000 eof=6000 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
	check "many: the 6000 established ends untouched ($rb)" \
		[ "$rb" = "held=6000 closed=0 eof=0 ECONNABORTED=0 ECONNRESET=0 EAGAIN=6000 other=0" ]
}

# --- --no-owners: no /proc scan for display; owner tests still read what they need ------------
test_no_owners() {
	local ns
	ns_new ns || { not_ok "no-owners: namespace"; return; }
	rig_start NO "$ns" -p 7200 -n 5 close-wait || { not_ok "no-owners: rig"; return; }

	expect_status 0 "no-owners: dry-run --json --no-owners" \
		in_ns "$ns" "$SR" --dry-run --json --no-owners --state close-wait
	check "no-owners: 5 sockets, owners null (not looked up)" \
		[ "$(jq -c '[.sockets[] | .owners == null and .owner_count == null] | unique' "$TMP/out")" = "[true]" ]
	check "no-owners: still 5 sockets" [ "$(jq '.sockets | length' "$TMP/out")" = 5 ]
	expect_status 0 "no-owners: table" in_ns "$ns" "$SR" --dry-run --no-owners --state close-wait
	check "no-owners: the table's process column says ? for each" \
		[ "$(awk 'NR > 1 {print $NF}' "$TMP/out" | sort | uniq -c | awk '{print $1" "$2}')" = "5 ?" ]
	expect_status 0 "no-owners: with --pid" \
		in_ns "$ns" "$SR" --dry-run --json --no-owners --pid "$NO" --state close-wait
	check "no-owners: --pid still reads that process: owner shown" \
		[ "$(jq -r '[.sockets[].owners[0].pid] | unique | .[]' "$TMP/out")" = "$NO" ]
	expect_status 0 "no-owners: default preview" in_ns "$ns" "$SR" --dry-run --json --state close-wait
	check "no-owners: without it the owners are there" \
		[ "$(jq -r '[.sockets[].owners[0].pid] | unique | .[]' "$TMP/out")" = "$NO" ]
}

# --- ESTABLISHED: the owner sees ECONNABORTED, the peer an RST ---------------------------------
test_established() {
	local ns r
	ns_new ns || { not_ok "established: namespace"; return; }
	rig_start E "$ns" -p 7100 -n 5 established || { not_ok "established: rig"; return; }
	expect_status 0 "established: kill server ends" \
		in_ns "$ns" "$SR" --yes --no-audit 'state established and sport = 7100'
	r=$(rig_report E)
	check "established: owner sees ECONNABORTED, peer ECONNRESET ($r)" \
		[ "$r" = "held=10 closed=10 eof=0 ECONNABORTED=5 ECONNRESET=5 EAGAIN=0 other=0" ]
}

# --- FIN_WAIT_2 held by its owner --------------------------------------------------------------
test_fin_wait_2() {
	local ns
	ns_new ns || { not_ok "fin-wait-2: namespace"; return; }
	rig_start F "$ns" -p 7200 -n 5 fin-wait-2 || { not_ok "fin-wait-2: rig"; return; }
	check "fin-wait-2: kernel lists 5" [ "$(ss_count "$ns" state fin-wait-2)" = 5 ]
	expect_status 0 "fin-wait-2: kill" in_ns "$ns" "$SR" --yes --no-audit --json --state fin-wait-2
	check "fin-wait-2: 5 killed" [ "$(jq '.summary.killed' "$TMP/out")" = 5 ]
	check "fin-wait-2: --yes --no-audit needs no owners: reported as not looked up" \
		[ "$(jq '[.sockets[] | select(.owners == null)] | length' "$TMP/out")" = 5 ]
	check "fin-wait-2: none left" [ "$(ss_count "$ns" state fin-wait-2)" = 0 ]
}

# --- TIME_WAIT: no owner, so a pid never matches; destroy kills it ----------------------------
test_time_wait() {
	local ns
	ns_new ns || { not_ok "time-wait: namespace"; return; }
	rig_start T "$ns" -p 7300 -n 5 time-wait || { not_ok "time-wait: rig"; return; }
	check "time-wait: kernel lists 5" [ "$(ss_count "$ns" state time-wait)" = 5 ]
	expect_status 0 "time-wait: dry-run" in_ns "$ns" "$SR" --dry-run --json --state time-wait
	check "time-wait: preview has 5 without owners" \
		[ "$(jq '[.sockets[] | select(.owners == [])] | length' "$TMP/out")" = 5 ]
	expect_status 1 "time-wait: a pid never matches time-wait" \
		in_ns "$ns" "$SR" --dry-run --state time-wait --pid "$T"
	expect_status 0 "time-wait: kill" in_ns "$ns" "$SR" --yes --no-audit --state time-wait
	check "time-wait: none left" [ "$(ss_count "$ns" state time-wait)" = 0 ]
}

# --- LISTEN only when named --------------------------------------------------------------------
test_listen() {
	local ns
	ns_new ns || { not_ok "listen: namespace"; return; }
	rig_start L "$ns" -p 7400 -n 0 listen || { not_ok "listen: rig"; return; }
	expect_status 1 "listen: not selected unless named" in_ns "$ns" "$SR" --dry-run --sport 7400
	expect_status 1 "listen: not selected by a group" in_ns "$ns" "$SR" --dry-run 'state all and sport 7400'
	expect_status 0 "listen: selected when named" in_ns "$ns" "$SR" --dry-run 'state listen and sport 7400'
	expect_status 0 "listen: kill when named" in_ns "$ns" "$SR" --yes --no-audit --state listen --sport 7400
	check "listen: listener gone" [ "$(ss_count "$ns" state listening)" = 0 ]
}

# --- IPv6 --------------------------------------------------------------------------------------
test_ipv6() {
	local ns
	ns_new ns || { not_ok "ipv6: namespace"; return; }
	if ! rig_start S "$ns" -a ::1 -p 7500 -n 5 close-wait; then
		skipped "ipv6: no IPv6 on loopback here"
		return
	fi
	rig_start S4 "$ns" -p 7500 -n 3 close-wait || { not_ok "ipv6: v4 rig"; return; }
	expect_status 0 "ipv6: -6 dry-run" in_ns "$ns" "$SR" --dry-run --json -6 --state close-wait
	check "ipv6: -6 lists the 5 IPv6 sockets" \
		[ "$(jq -r '[.sockets[] | select(.family=="inet6" and .local.addr=="::1")] | length' "$TMP/out")" = 5 ]
	check "ipv6: -6 lists nothing else" [ "$(jq '.sockets | length' "$TMP/out")" = 5 ]
	expect_status 0 "ipv6: kill by --src ::1/128" in_ns "$ns" "$SR" --yes --no-audit --json --src ::1/128 --state close-wait
	check "ipv6: 5 killed" [ "$(jq '.summary.killed' "$TMP/out")" = 5 ]
	check "ipv6: the IPv4 close-wait survive" [ "$(ss_count "$ns" state close-wait)" = 3 ]
	check "ipv6: rig S sees its sockets closed" \
		[ "$(rig_report S)" = "held=5 closed=5 eof=5 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
}

# --- errors, guards and privileges: nothing is killed on 2, 4 and 5 ----------------------------
test_refusals() {
	local ns before
	ns_new ns || { not_ok "refusals: namespace"; return; }
	rig_start R "$ns" -p 7600 -n 5 close-wait || { not_ok "refusals: rig"; return; }
	before=$(ss_count "$ns" state close-wait)

	expect_status 2 "refusals: unknown flag" in_ns "$ns" "$SR" --yes --frobnicate
	check "refusals: unknown flag is named" grep -q 'unknown option "--frobnicate"' "$TMP/err"
	expect_status 2 "refusals: bad selector" in_ns "$ns" "$SR" --yes 'state close-wiat and dport 443'
	check "refusals: selector error quotes and suggests" \
		grep -q 'unknown state "close-wiat" (did you mean close-wait?)' "$TMP/err"
	check "refusals: selector error has a caret under the token" \
		grep -qx '        ^^^^^^^^^^' "$TMP/err"
	expect_status 2 "refusals: bad --dport value" in_ns "$ns" "$SR" --yes --dport 70000
	check "refusals: --dport error quotes the value" grep -q 'invalid port "70000"' "$TMP/err"
	expect_status 5 "refusals: empty selector" in_ns "$ns" "$SR" --yes
	check "refusals: empty selector explains --all" grep -q -- '--all' "$TMP/err"
	expect_status 1 "refusals: nothing matched" in_ns "$ns" "$SR" --yes --no-audit --dport 1
	expect_status 5 "refusals: --max exceeded" in_ns "$ns" "$SR" --yes --no-audit --max 4 --state close-wait
	check "refusals: --max message" grep -q 'more than --max 4' "$TMP/err"
	: >"$TMP/afile"
	expect_status 5 "refusals: unwritable audit log" \
		in_ns "$ns" "$SR" --yes --audit-log "$TMP/afile/audit.log" --state close-wait
	check "refusals: audit error names the file" grep -q "cannot write audit log $TMP/afile/audit.log" "$TMP/err"
	if command -v setpriv >/dev/null; then
		expect_status 4 "refusals: without CAP_NET_ADMIN and CAP_NET_RAW" \
			in_ns "$ns" setpriv --inh-caps=-net_admin,-net_raw \
			--bounding-set=-net_admin,-net_raw "$SR" --yes --no-audit --state close-wait
		check "refusals: privilege error names CAP_NET_ADMIN" grep -q CAP_NET_ADMIN "$TMP/err"
		expect_status 4 "refusals: --engine destroy without CAP_NET_ADMIN" \
			in_ns "$ns" setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
			"$SR" --engine destroy --yes --no-audit --state close-wait
		expect_status 4 "refusals: --engine rst without CAP_NET_RAW" \
			in_ns "$ns" setpriv --inh-caps=-net_raw --bounding-set=-net_raw \
			"$SR" --engine rst --yes --no-audit --state close-wait
		check "refusals: privilege error names CAP_NET_RAW" grep -q CAP_NET_RAW "$TMP/err"
		expect_status 0 "refusals: dry-run works without CAP_NET_ADMIN" \
			in_ns "$ns" setpriv --inh-caps=-net_admin,-net_raw \
			--bounding-set=-net_admin,-net_raw "$SR" --dry-run --state close-wait
	else
		skipped "refusals: setpriv is not installed"
	fi
	check "refusals: nothing was killed by any of them" [ "$(ss_count "$ns" state close-wait)" = "$before" ]
	check "refusals: rig R still holds its sockets" \
		[ "$(rig_report R)" = "held=5 closed=0 eof=5 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
	expect_status 0 "refusals: --all --dry-run previews everything but listeners" \
		in_ns "$ns" "$SR" --all --dry-run --json
	check "refusals: --all lists the 10 sockets, no listener" \
		[ "$(jq '[.sockets[] | select(.state != "listen")] | length' "$TMP/out") $(jq '.sockets | length' "$TMP/out")" = "10 10" ]
}

# --- the caller's own SSH connection is kept unless --include-self -----------------------------
test_self() {
	local ns port
	ns_new ns || { not_ok "self: namespace"; return; }
	rig_start M "$ns" -p 7700 -n 1 established || { not_ok "self: rig"; return; }
	port=$(in_ns "$ns" ss -tanH state established dport = :7700 | awk '{split($3,a,":"); print a[2]}')
	# Both ends are here (as under ssh localhost): the client end is the caller's too.
	expect_status 1 "self: both ends of SSH_CONNECTION's connection kept" \
		in_ns "$ns" env SSH_CONNECTION="127.0.0.1 $port 127.0.0.1 7700" "$SR" --dry-run --json --port 7700
	check "self: neither end is listed" \
		[ "$(jq -c '.sockets' "$TMP/out")" = "[]" ]
	check "self: says it kept both" grep -q 'kept your own SSH connection: 2 sockets' "$TMP/err"
	expect_status 0 "self: --include-self selects it" \
		in_ns "$ns" env SSH_CONNECTION="127.0.0.1 $port 127.0.0.1 7700" "$SR" --dry-run --json --include-self --port 7700
	check "self: both ends listed with --include-self" [ "$(jq '.sockets | length' "$TMP/out")" = 2 ]
}

# --- on a terminal, a kill previews and asks unless --yes -------------------------------------
test_confirm() {
	local ns
	if ! command -v script >/dev/null; then
		skipped "confirm: script(1) is not installed to provide a terminal"
		return
	fi
	ns_new ns || { not_ok "confirm: namespace"; return; }
	rig_start C "$ns" -p 7800 -n 3 close-wait || { not_ok "confirm: rig"; return; }
	printf 'n\n' | in_ns "$ns" script -qec "$SR --audit-log $TMP/confirm.log --state close-wait" /dev/null >"$TMP/out" 2>&1
	check "confirm: declined on a terminal exits 5" [ "$?" = 5 ]
	check "confirm: the preview was shown before asking" grep -q 'Kill 3 sockets? \[y/N\]' "$TMP/out"
	check "confirm: declined kills nothing" [ "$(ss_count "$ns" state close-wait)" = 3 ]
	printf 'y\n' | in_ns "$ns" script -qec "$SR --audit-log $TMP/confirm.log --state close-wait" /dev/null >"$TMP/out" 2>&1
	check "confirm: confirmed on a terminal exits 0" [ "$?" = 0 ]
	check "confirm: confirmed kills the 3" [ "$(ss_count "$ns" state close-wait)" = 0 ]
}

# --- one syslog line per run, on LOG_AUTHPRIV ---------------------------------------------------
# A sink stands at /dev/log inside a private mount namespace (tmpfs over /dev): the host's /dev
# is never touched.
test_syslog() {
	local ns line
	ns_new ns || { not_ok "syslog: namespace"; return; }
	rig_start G "$ns" -p 7900 -n 2 close-wait || { not_ok "syslog: rig"; return; }
	if ! in_ns "$ns" unshare -m --propagation private bash -c '
		mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		ln -s /proc/self/fd /dev/fd || exit 99
		"$1" /dev/log >"$2" & sink=$!
		for _ in $(seq 50); do grep -q ready "$2" && break; sleep 0.1; done
		"$3" --yes --no-audit --state close-wait >/dev/null 2>&1
		sleep 0.2
		kill $sink' _ "$PWD/build/tests/logsink" "$TMP/syslog" "$SR"; then
		skipped "syslog: cannot make a private mount namespace here"
		return
	fi
	line=$(grep 'sockreap\[' "$TMP/syslog" | tail -1)
	check "syslog: two lines for the run, before and after" [ "$(grep -c 'sockreap\[' "$TMP/syslog")" = 2 ]
	check "syslog: the first says what it intends" \
		grep -q 'selector="state close-wait": intends to kill 2 sockets (audit file disabled by --no-audit)' "$TMP/syslog"
	check "syslog: on LOG_AUTHPRIV at notice (<85>)" [ "${line:0:4}" = "<85>" ]
	check "syslog: says what was killed ($line)" \
		grep -q 'engine=auto selector="state close-wait": 2 selected, 2 killed' <<<"$line"
	check "syslog: says the audit file was disabled" grep -q 'disabled by --no-audit' <<<"$line"
}

# --- UDP: only when named; a destroyed UDP socket is disconnected but stays bound --------------
test_udp() {
	local ns
	ns_new ns || { not_ok "udp: namespace"; return; }
	rig_start U "$ns" -p 5353 -n 3 udp || { not_ok "udp: rig"; return; }
	expect_status 1 "udp: not selected unless named" in_ns "$ns" "$SR" --dry-run --port 5353
	expect_status 0 "udp: -u previews the 4 UDP sockets" in_ns "$ns" "$SR" --dry-run --json -u --port 5353
	check "udp: 4 listed, all udp" [ "$(jq '[.sockets[] | select(.protocol=="udp")] | length' "$TMP/out")" = 4 ]
	expect_status 0 "udp: table has a protocol column" in_ns "$ns" "$SR" --dry-run -u --port 5353
	check "udp: PROTO column shown" grep -q '^PROTO STATE' "$TMP/out"
	expect_status 0 "udp: kill the 3 connected" \
		in_ns "$ns" "$SR" --yes --no-audit --json 'proto udp and state established and dport 5353'
	check "udp: 3 killed" [ "$(jq '[.sockets[] | select(.outcome=="killed")] | length' "$TMP/out")" = 3 ]
	check "udp: the explicitly bound one is said to stay bound, only it" \
		[ "$(jq -r '[.sockets[] | select(.error=="stays-bound") | .local.port] | join(",")' "$TMP/out")" = 5354 ]
	check "udp: no connected UDP socket left" [ "$(in_ns "$ns" ss -uanH state established | wc -l)" = 0 ]
	check "udp: the server and the bound client remain listed" [ "$(in_ns "$ns" ss -uanH | wc -l)" = 2 ]
	check "udp: owners see ECONNABORTED, the bound server nothing" \
		[ "$(rig_report U)" = "held=4 closed=0 eof=0 ECONNABORTED=3 ECONNRESET=0 EAGAIN=1 other=0" ]
}

# --- cgroup and unit: a rig started in a cgroup of our own -------------------------------------
test_cgroup() {
	local ns name cg
	name="sockreap-test-$$.service"
	if ! cgroup_new cg "$name"; then
		skipped "cgroup: cannot create a cgroup v2 group here"
		return
	fi
	ns_new ns || { not_ok "cgroup: namespace"; return; }
	RIG_CGROUP=$cg rig_start CA "$ns" -p 7950 -n 3 close-wait || { not_ok "cgroup: rig in cgroup"; return; }
	rig_start CB "$ns" -p 7951 -n 2 close-wait || { not_ok "cgroup: rig outside"; return; }
	# ip netns exec remounts /sys and hides cgroupfs; nsenter --net keeps it.
	expect_status 2 "cgroup: under ip netns exec, a clear error" in_ns "$ns" "$SR" --dry-run "cgroup /$name"
	check "cgroup: the error says why and what to use" grep -q 'nsenter --net' "$TMP/err"
	in_ns() {
		local n=$1
		shift
		nsenter --net="/run/netns/$n" "$@"
	}
	expect_status 0 "cgroup: dry-run by cgroup path" in_ns "$ns" "$SR" --dry-run --json "cgroup /$name"
	check "cgroup: exactly the 3 sockets created in it" \
		[ "$(jq -r '(.sockets | length | tostring) + " on " + ([.sockets[].local.port | tostring] | unique | join(","))' "$TMP/out")" = "3 on 7950" ]
	check "cgroup: the JSON carries its id" \
		[ "$(jq -r '.sockets[0].cgroup_id' "$TMP/out")" = "$(stat -c %i "$cg")" ]
	expect_status 0 "cgroup: --explain runs it in the kernel" in_ns "$ns" "$SR" --explain "cgroup /$name"
	check "cgroup: bytecode names the cgroup id" grep -q "cgroup $(stat -c %i "$cg")" "$TMP/out"
	expect_status 0 "cgroup: kill by unit name" in_ns "$ns" "$SR" --yes --no-audit --json "state close-wait and unit ${name%.service}"
	check "cgroup: 3 killed" [ "$(jq '.summary.killed' "$TMP/out")" = 3 ]
	check "cgroup: the others survive" [ "$(ss_count "$ns" state close-wait)" = 2 ]
	expect_status 2 "cgroup: unknown unit is a selector error" in_ns "$ns" "$SR" --dry-run "unit no-such-unit-$$"
	check "cgroup: the error names it" grep -q "no unit \"no-such-unit-$$\"" "$TMP/err"
	in_ns() {
		local n=$1
		shift
		ip netns exec "$n" "$@"
	}
}

test_main_scenario
test_many
test_no_owners
test_cgroup
test_udp
test_syslog
test_confirm
test_established
test_fin_wait_2
test_time_wait
test_listen
test_ipv6
test_refusals
test_self
