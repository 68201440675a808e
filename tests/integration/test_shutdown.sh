#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --engine shutdown on real processes in namespaces of our own: a reader blocked on an
# established connection wakes with end-of-file and its peer sees a FIN (not a reset); close-wait
# sockets end; what has no owner falls back to destroy; a descriptor reused between the preview
# and the kill is left alone (changed); an owner we may not ptrace is denied. Every process
# operated on keeps running.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

READRIG=${READRIG:-build/tests/readrig}
require_netns shutdown

# readrig_start VAR NS PORT [PREFIX...]: readrig in NS (run through PREFIX, e.g. setpriv) on
# RR_ADDR (127.0.0.1 unless set); VAR gets "HOLDER PEER FD".
readrig_start() {
	local var=$1 ns=$2 port=$3
	shift 3
	rig_spawn "$var" ip netns exec "$ns" "$@" "$READRIG" -a "${RR_ADDR:-127.0.0.1}" -p "$port"
}

# settled_report VAR: the rig's report once neither end's read is blocked any more (bounded:
# 10 s), else the last report.
settled_report() {
	local i line
	for ((i = 0; i < 1000; i++)); do
		line=$(rig_report "$1")
		case $line in *blocked*) sleep 0.01 ;; *) break ;; esac
	done
	echo "$line"
}

# state_of NS PORT: the TCP state ss lists for the socket bound to local PORT ("" if none).
state_of() {
	in_ns "$1" ss -tanH "sport = :$2" | awk '{print $1}'
}

# --- a reader blocked in read() on an established connection ----------------------------------
test_blocked_reader() {
	local ns r holder peer fd rep
	ns_new ns || { not_ok "reader: namespace"; return; }
	readrig_start R "$ns" 9300 || { not_ok "reader: readrig did not start"; return; }
	read -r holder peer fd <<<"$R"
	check "reader: both ends blocked before ($(rig_report R))" \
		[ "$(rig_report R)" = "holder=blocked peer=blocked write=- fd=open" ]
	expect_status 0 "reader: --engine shutdown --pid exits 0" \
		in_ns "$ns" "$SR" --yes --audit-log "$TMP/reader.log" --json --engine shutdown \
		--pid "$holder"
	r=$(jq -c '[.sockets[] | {state, outcome, error, engine}]' "$TMP/out")
	check "reader: one socket killed(shutdown: closing) ($r)" \
		[ "$r" = '[{"state":"established","outcome":"killed","error":"closing","engine":"shutdown"}]' ]
	rep=$(settled_report R)
	# end of file for the blocked reader, a FIN (end of file, not ECONNRESET) for the peer,
	# EPIPE for the holder's next write, and the holder's fd still open.
	check "reader: holder reads EOF, peer reads EOF, write EPIPE, fd kept ($rep)" \
		[ "$rep" = "holder=eof peer=eof write=EPIPE fd=open" ]
	check "reader: the holder's end is in fin-wait-2 ($(state_of "$ns" 9300))" \
		[ "$(state_of "$ns" 9300)" = FIN-WAIT-2 ]
	check "reader: holder and peer still run" kill -0 "$holder" "$peer"
	check "reader: the audit result says engine shutdown" \
		grep -q '"event":"result".*"engine":"shutdown"' "$TMP/reader.log"
	check "reader: the summary names the engine" grep -q '(shutdown;' "$TMP/err"
}

# --- close-wait sockets end, their holder keeps running -------------------------------------
test_close_wait() {
	local ns r i
	ns_new ns || { not_ok "close-wait: namespace"; return; }
	rig_start C "$ns" -p 9310 -n 3 close-wait || { not_ok "close-wait: sockrig"; return; }
	cw_settled "$ns" 9310 3 || { not_ok "close-wait: rig did not settle"; return; }
	expect_status 0 "close-wait: --engine shutdown --state close-wait exits 0" \
		in_ns "$ns" "$SR" --yes --no-audit --json --engine shutdown --state close-wait \
		--sport 9310
	r=$(jq -c '[.sockets[] | "\(.outcome)/\(.engine)"] | unique' "$TMP/out")
	check "close-wait: every one killed by shutdown ($r)" [ "$r" = '["killed/shutdown"]' ]
	check "close-wait: none left in close-wait" [ "$(cw_count "$ns" 9310)" = 0 ]
	# last-ack until the peer's ACK: bounded wait until the kernel lists none at all.
	for ((i = 0; i < 1000; i++)); do
		[ "$(ss_count "$ns" state connected "sport = :9310")" = 0 ] && break
		sleep 0.01
	done
	check "close-wait: the connections ended (none listed: $(ss_count "$ns" state connected "sport = :9310"))" \
		[ "$(ss_count "$ns" state connected "sport = :9310")" = 0 ]
	check "close-wait: the holder reads EOF on each, fds still its own ($(rig_report C))" \
		grep -q '^held=3 .*eof=3' <<<"$(rig_report C)"
	check "close-wait: the holder still runs" kill -0 "$C"
}

# --- time-wait (no owner) in the same selection falls back to destroy ------------------------
test_fallback() {
	local ns r
	ns_new ns || { not_ok "fallback: namespace"; return; }
	rig_start T "$ns" -p 9320 -n 2 time-wait || { not_ok "fallback: time-wait rig"; return; }
	rig_start C2 "$ns" -p 9321 -n 1 close-wait || { not_ok "fallback: close-wait rig"; return; }
	cw_settled "$ns" 9321 1 || { not_ok "fallback: rig did not settle"; return; }
	expect_status 0 "fallback: time-wait and close-wait in one run exits 0" \
		in_ns "$ns" "$SR" --yes --no-audit --json --engine shutdown \
		'(state time-wait and dport 9320) or (state close-wait and sport 9321)'
	r=$(jq -c '[.sockets[] | "\(.state) \(.outcome)/\(.engine)"] | sort' "$TMP/out")
	check "fallback: time-wait destroyed, close-wait shut down ($r)" \
		[ "$r" = '["close-wait killed/shutdown","time-wait killed/destroy","time-wait killed/destroy"]' ]
	check "fallback: the summary says which engine did what" \
		grep -q '(shutdown 1, in its place: destroy 2, rst 0;' "$TMP/err"
	rig_start T2 "$ns" -p 9322 -n 2 time-wait || { not_ok "fallback: second time-wait rig"; return; }
	expect_status 0 "fallback: a table run exits 0" \
		in_ns "$ns" "$SR" --yes --no-audit --engine shutdown 'state time-wait and dport 9322'
	check "fallback: the table says killed(destroy) for each ($(grep -c 'killed(destroy)' "$TMP/out"))" \
		[ "$(grep -c ' killed(destroy) ' "$TMP/out")" = 2 ]
	check "fallback: no time-wait left" [ "$(ss_count "$ns" state time-wait "dport = :9320")" = 0 ]
}

# --- the fd reused for another socket between the preview and the kill ---------------------------
test_changed() {
	local ns holder peer fd fifo="$TMP/changed.in" spid line moved i
	if ! command -v script >/dev/null; then
		skipped "changed: script (util-linux) is not installed"
		return
	fi
	ns_new ns || { not_ok "changed: namespace"; return; }
	readrig_start RC "$ns" 9330 || { not_ok "changed: readrig did not start"; return; }
	read -r holder peer fd <<<"$RC"
	rm -f "$fifo"
	mkfifo "$fifo"
	in_ns "$ns" script -qefc "$SR --audit-log $TMP/changed.log --engine shutdown --pid $holder" \
		/dev/null <"$fifo" >"$TMP/changed.out" 2>&1 &
	spid=$!
	exec {w}>"$fifo"
	for ((i = 0; i < 3000; i++)); do
		grep -q 'Kill 1 socket?' "$TMP/changed.out" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.01
	done
	if ! grep -q 'Kill 1 socket?' "$TMP/changed.out"; then
		exec {w}>&-
		wait "$spid"
		not_ok "changed: no prompt came: $(tail -n 3 "$TMP/changed.out")"
		return
	fi
	# The holder moves the planned socket to another fd and opens a fresh one on its fd.
	echo swap >&"$RC_in"
	read -r -t 30 line <&"$RC_out"
	moved=${line#swapped }
	printf 'y\n' >&$w
	exec {w}>&-
	wait "$spid"
	check "changed: the fd was swapped ($line)" [ -n "$moved" ]
	check "changed: outcome changed(shutdown: fd-changed)" \
		grep -q 'changed(shutdown: fd-changed)' "$TMP/changed.out"
	check "changed: the run says why it left it alone" \
		grep -q "left alone: the owner's descriptor no longer refers" "$TMP/changed.out"
	check "changed: the planned socket still established, both reads blocked ($(rig_report RC))" \
		[ "$(state_of "$ns" 9330)" = ESTAB ] &&
		grep -q '^holder=blocked peer=blocked' <<<"$(rig_report RC)"
	check "changed: holder still runs" kill -0 "$holder"
}

# --- an owner we may not ptrace: denied, nothing touched ------------------------------------------
# The caller is nobody with CAP_BPF and CAP_PERFMON (ambient) and nothing else: the BPF owner
# lookup tells it that root's rig holds the socket, but pidfd_getfd (PTRACE_MODE_ATTACH) over a
# root process needs CAP_SYS_PTRACE, which it lacks.
test_denied() {
	local ns holder peer fd r rc
	if ! command -v setpriv >/dev/null; then
		skipped "denied: setpriv (util-linux) is not installed"
		return
	fi
	ns_new ns || { not_ok "denied: namespace"; return; }
	readrig_start RN "$ns" 9340 || { not_ok "denied: readrig did not start"; return; }
	read -r holder peer fd <<<"$RN"
	in_ns "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon \
		env ASAN_OPTIONS=detect_leaks=0 "$SR" --yes --no-audit --json --engine shutdown \
		--sport 9340 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$(jq -c '.sockets[0].owners' "$TMP/out")" = null ]; then
		skipped "denied: the BPF owner lookup is not available to nobody here ($(tail -n 1 "$TMP/err"))"
		return
	fi
	check "denied: exit 4, as for a missing privilege (exit $rc)" [ "$rc" = 4 ]
	r=$(jq -c '[.sockets[] | "\(.outcome)/\(.engine)/\(.error)"]' "$TMP/out")
	check "denied: denied(EPERM) by shutdown ($r)" [ "$r" = '["denied/shutdown/EPERM"]' ]
	check "denied: the reason names CAP_SYS_PTRACE" grep -q 'needs CAP_SYS_PTRACE' "$TMP/err"
	check "denied: nothing touched ($(rig_report RN), $(state_of "$ns" 9340))" \
		[ "$(state_of "$ns" 9340)" = ESTAB ] &&
		grep -q '^holder=blocked peer=blocked' <<<"$(rig_report RN)"
	check "denied: holder still runs" kill -0 "$holder"
}

# --- doctor: pidfd_getfd is here, and who it may reach ---------------------------------------
test_doctor() {
	local why
	"$SR" doctor --json >"$TMP/doc" 2>/dev/null
	check "doctor: shutdown works as root ($(jq -c .engines.shutdown "$TMP/doc"))" \
		[ "$(jq -r .engines.shutdown.status "$TMP/doc")" = works ]
	check "doctor: root reaches any owner" \
		jq -e '.engines.shutdown.why | test("CAP_SYS_PTRACE: any owner")' "$TMP/doc" >/dev/null
	if command -v setpriv >/dev/null; then
		why=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env ASAN_OPTIONS=detect_leaks=0 "$SR" doctor --json 2>/dev/null |
			jq -r .engines.shutdown.why)
		check "doctor: nobody only reaches its own uid's processes ($why)" \
			grep -q 'only owners of our own uid' <<<"$why"
	else
		skipped "doctor: as nobody: setpriv (util-linux) is not installed"
	fi
}

# --- several namespaces in one run: pidfd_getfd reaches owners wherever their sockets live -----------
test_many_netns() {
	local a b r
	ns_new a && ns_new b || { not_ok "netns: namespaces"; return; }
	readrig_start RA "$a" 9350 && readrig_start RB "$b" 9350 ||
		{ not_ok "netns: readrig did not start"; return; }
	expect_status 0 "netns: --netns a --netns b --engine shutdown exits 0" \
		"$SR" --yes --no-audit --json --engine shutdown --netns "$a" --netns "$b" \
		'state established and sport 9350'
	r=$(jq -c '[.sockets[] | "\(.outcome)/\(.engine)/\(.error)"]' "$TMP/out")
	check "netns: both killed(shutdown: closing) ($r)" \
		[ "$r" = '["killed/shutdown/closing","killed/shutdown/closing"]' ]
	check "netns: a's reader and peer read EOF ($(settled_report RA))" \
		[ "$(settled_report RA)" = "holder=eof peer=eof write=EPIPE fd=open" ]
	check "netns: b's reader and peer read EOF ($(settled_report RB))" \
		[ "$(settled_report RB)" = "holder=eof peer=eof write=EPIPE fd=open" ]
}

# --- a socket shared by a parent and its forked child; a listener -------------------------------
test_shared_and_listener() {
	local ns r
	ns_new ns || { not_ok "shared: namespace"; return; }
	rig_start F "$ns" -F -p 9360 -n 2 close-wait || { not_ok "shared: sockrig -F"; return; }
	cw_settled "$ns" 9360 2 || { not_ok "shared: rig did not settle"; return; }
	# --no-owners too: this engine looks owners up whatever it is told.
	expect_status 0 "shared: parent and child hold each socket; exits 0" \
		in_ns "$ns" "$SR" --yes --no-audit --no-owners --json --engine shutdown \
		'state close-wait and sport 9360'
	r=$(jq -c '[.sockets[] | "\(.outcome)/\(.engine)/\(.owner_count)"] | unique' "$TMP/out")
	# One shutdown ends the connection for every holder: the socket is one.
	check "shared: each killed by shutdown, two owners each ($r)" [ "$r" = '["killed/shutdown/2"]' ]
	check "shared: the parent reads EOF on both ($(rig_report F))" \
		grep -q '^held=2 .*eof=2' <<<"$(rig_report F)"
	check "shared: parent and child still run" kill -0 $F
	rig_start L "$ns" -p 9361 -n 0 listen || { not_ok "listener: sockrig"; return; }
	expect_status 0 "listener: 'state listen' with --engine shutdown exits 0" \
		in_ns "$ns" "$SR" --yes --no-audit --json --engine shutdown 'state listen and sport 9361'
	r=$(jq -c '[.sockets[] | "\(.outcome)/\(.engine)"]' "$TMP/out")
	check "listener: killed by shutdown ($r)" [ "$r" = '["killed/shutdown"]' ]
	check "listener: no longer listening" [ "$(ss_count "$ns" state listening "sport = :9361")" = 0 ]
	check "listener: its holder still runs" kill -0 "$L"
}

# --- a caller without any capability shuts down its own uid's connection ----------------------------
test_own_uid() {
	local ns holder peer fd r
	if ! command -v setpriv >/dev/null; then
		skipped "own uid: setpriv (util-linux) is not installed"
		return
	fi
	ns_new ns || { not_ok "own uid: namespace"; return; }
	readrig_start RO "$ns" 9370 setpriv --reuid=nobody --regid=nogroup --clear-groups ||
		{ not_ok "own uid: readrig did not start as nobody"; return; }
	read -r holder peer fd <<<"$RO"
	expect_status 0 "own uid: nobody, no capabilities, its own process: exits 0" \
		in_ns "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env ASAN_OPTIONS=detect_leaks=0 "$SR" --yes --no-audit --json --engine shutdown \
		--sport 9370
	r=$(jq -c '[.sockets[] | "\(.outcome)/\(.engine)/\(.error)"]' "$TMP/out")
	check "own uid: killed(shutdown: closing) ($r)" [ "$r" = '["killed/shutdown/closing"]' ]
	check "own uid: holder and peer read EOF ($(settled_report RO))" \
		[ "$(settled_report RO)" = "holder=eof peer=eof write=EPIPE fd=open" ]
}

# --- IPv6: the same on ::1 -------------------------------------------------------------------
test_ipv6() {
	local ns holder peer fd r
	ns_new ns || { not_ok "ipv6: namespace"; return; }
	RR_ADDR=::1 readrig_start R6 "$ns" 9390 || { not_ok "ipv6: readrig did not start"; return; }
	read -r holder peer fd <<<"$R6"
	expect_status 0 "ipv6: --engine shutdown --pid exits 0" \
		in_ns "$ns" "$SR" --yes --no-audit --json --engine shutdown --pid "$holder"
	r=$(jq -c '[.sockets[] | "\(.family) \(.outcome)/\(.engine)/\(.error)"]' "$TMP/out")
	check "ipv6: killed(shutdown: closing) ($r)" [ "$r" = '["inet6 killed/shutdown/closing"]' ]
	check "ipv6: holder and peer read EOF ($(settled_report R6))" \
		[ "$(settled_report R6)" = "holder=eof peer=eof write=EPIPE fd=open" ]
}

test_doctor
test_own_uid
test_many_netns
test_shared_and_listener
test_blocked_reader
test_ipv6
test_close_wait
test_fallback
test_changed
test_denied
