#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sockreap watch with the state tracker (src/statetrack.c): sockets that enter CLOSE_WAIT after
# the watcher started are found without a dump and killed after their age; ones that leave it
# drop out of the candidates; a new connection on a reused 4-tuple is not taken for the old one
# (cookie); a full map (tiny in the test build) falls back to a dump and misses nothing; a
# watcher without CAP_BPF says so once and dumps. A watcher on the host with --netns or `netns`
# words: the tracker keeps those namespaces' sockets only, seeds one a reload adds by a dump and
# lets go of one it drops; --all-netns dumps. Every namespace, rig and watcher here is ours,
# stopped by pid.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/watch_lib.sh

TRACKRIG=${TRACKRIG:-build/tests/trackrig}
require_netns watch_track

# trk VAR CMD: one command to the trackrig VAR; its answer in TRK.
trk() {
	local w="${1}_in" r="${1}_out"
	echo "$2" >&"${!w}"
	read -r -t 30 TRK <&"${!r}"
}

# gone_within NS PORT SECONDS: bounded until no close-wait is left on PORT.
gone_within() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(cw_count "$1" "$2")" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

track_start() {
	local ns=$1 port=$2 prom=$3
	shift 3
	rig_spawn R$port ip netns exec "$ns" "$TRACKRIG" -p "$port" -c $((port + 30000)) ||
		return 1
	watcher W$port "$ns" --every 500ms --audit-log "$TMP/$port.log" --metrics-file "$prom" "$@"
	cycles_done "$prom" 1
}

# Sockets that enter CLOSE_WAIT after the start: from the map, killed after their age, with
# no dump but the first.
late() {
	local ns p=7600 prom="$TMP/late.prom" t0 w n d l i
	ns_new ns || { not_ok "late: namespace"; return; }
	track_start "$ns" $p "$prom" "t: state close-wait and sport $p, older-than 3s" ||
		{ not_ok "late: watcher did not start"; return; }
	w=W$p
	check "late: the tracker is on" grep -q "state tracker on for close-wait (1 rule)" \
		"$TMP/$w.err"
	for i in 0 1 2 3 4; do
		trk R$p "cw $i"
	done
	t0=$(date +%s.%N)
	check "late: 5 in close-wait" [ "$(cw_count "$ns" $p)" = 5 ]
	cycles_more "$prom" 2
	n=$(cw_count "$ns" $p)
	if [ "$(echo "$(date +%s.%N) - $t0 < 3" | bc)" = 1 ]; then
		check "late: seen, still there while younger than the age" [ "$n" = 5 ]
	else
		skipped "late: this machine took too long to tell (younger than the age)"
	fi
	check "late: the map names them" [ "$(metric "$prom" sockreap_watch_tracker_candidates)" = 5 ]
	check "late: killed once old enough" gone_within "$ns" $p 30
	check "late: the watcher says 5 killed" grep -q "rule t: 5 selected: 5 killed" "$TMP/$w.err"
	d=$(metric "$prom" sockreap_watch_tracker_dumps_total)
	l=$(metric "$prom" sockreap_watch_tracker_lookups_total)
	check "late: one dump (the start), then $l lookups" [ "$d" = 1 -a "${l:-0}" -ge 2 ]
	check "late: killed ones leave the map" cycles_more "$prom" 2
	check "late: no candidate left" [ "$(metric "$prom" sockreap_watch_tracker_candidates)" = 0 ]
	check "late: audit has 5 killed" \
		[ "$(killed_in "$TMP/$p.log")" = 5 ]
	# The sanitizer build's leak check runs at exit: the tracker is released whole.
	kill -TERM "${!w}"
	wait_exit "${!w}"
	wait "${!w}"
	check "late: SIGTERM stops it, exit 0 (no leak)" [ $? = 0 ]
}

# Sockets that leave CLOSE_WAIT (to LAST_ACK and CLOSE, or by a reset) drop out.
leave() {
	local ns p=7610 prom="$TMP/leave.prom"
	ns_new ns || { not_ok "leave: namespace"; return; }
	track_start "$ns" $p "$prom" "t: state close-wait and sport $p, older-than 1h" ||
		{ not_ok "leave: watcher did not start"; return; }
	trk R$p "cw 0"
	trk R$p "cw 1"
	trk R$p "cw 2"
	cycles_more "$prom" 2
	check "leave: 3 candidates" [ "$(metric "$prom" sockreap_watch_tracker_candidates)" = 3 ]
	trk R$p "leave 0"
	trk R$p "reset 1"
	trk R$p "state 0"
	check "leave: slot 0 is closed, still held" [ "$TRK" = "state 7" ]
	cycles_more "$prom" 2
	check "leave: 1 candidate left" [ "$(metric "$prom" sockreap_watch_tracker_candidates)" = 1 ]
	check "leave: still one dump" [ "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 1 ]
	check "leave: slot 2 is still in close-wait" [ "$(cw_count "$ns" $p)" = 1 ]
}

# A new connection on the 4-tuple of one the watcher saw is a new socket (new cookie): young.
reuse() {
	local ns p=7620 prom="$TMP/reuse.prom" t1
	ns_new ns || { not_ok "reuse: namespace"; return; }
	track_start "$ns" $p "$prom" "t: state close-wait and sport $p, older-than 6s" ||
		{ not_ok "reuse: watcher did not start"; return; }
	trk R$p "cw 0"
	sleep 4.5
	check "reuse: the first is still there after 4.5 s" [ "$(cw_count "$ns" $p)" = 1 ]
	trk R$p "reset 0"
	trk R$p "cw 0"
	t1=$(date +%s.%N)
	check "reuse: the same 4-tuple in close-wait again" [ "$(cw_count "$ns" $p)" = 1 ]
	# Taken for the first, it would go 1.5 s from now; its own age is 6 s.
	sleep 3
	if [ "$(echo "$(date +%s.%N) - $t1 < 5.5" | bc)" = 1 ]; then
		check "reuse: the new socket is not killed at the old one's age" \
			[ "$(cw_count "$ns" $p)" = 1 ]
	else
		skipped "reuse: this machine took too long to tell"
	fi
	check "reuse: killed at its own age" gone_within "$ns" $p 30
	check "reuse: one socket killed in all" \
		[ "$(killed_in "$TMP/$p.log")" = 1 ]
}

# A tiny map (test build) overflows: the next cycle dumps, and every socket is killed.
overflow() {
	local ns p=7630 prom="$TMP/overflow.prom" i
	ns_new ns || { not_ok "overflow: namespace"; return; }
	TRACK_ENV="SOCKREAP_TEST_TRACK_MAX=4" track_start "$ns" $p "$prom" \
		"t: state close-wait and sport $p, older-than 1s" ||
		{ not_ok "overflow: watcher did not start"; return; }
	for i in $(seq 0 9); do
		trk R$p "cw $i"
	done
	check "overflow: 10 in close-wait" [ "$(cw_count "$ns" $p)" = 10 ]
	check "overflow: all 10 killed" gone_within "$ns" $p 30
	check "overflow: counted" [ "$(metric "$prom" sockreap_watch_tracker_overflows_total)" -ge 6 ]
	check "overflow: dumped again after it" \
		[ "$(metric "$prom" sockreap_watch_tracker_dumps_total)" -ge 2 ]
	check "overflow: audit has 10 killed" \
		[ "$(killed_in "$TMP/$p.log")" = 10 ]
}

# Without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: said once, and the dump does the work.
nocap() {
	local ns p=7640 prom="$TMP/nocap.prom" drop=-bpf,-perfmon,-sys_admin
	if ! command -v setpriv >/dev/null; then
		skipped "nocap: setpriv is not installed (util-linux)"
		return
	fi
	ns_new ns || { not_ok "nocap: namespace"; return; }
	rig_spawn R$p ip netns exec "$ns" "$TRACKRIG" -p $p -c $((p + 30000)) ||
		{ not_ok "nocap: rig"; return; }
	ip netns exec "$ns" setpriv --inh-caps=$drop --bounding-set=$drop "$SR" watch \
		--every 500ms --audit-log "$TMP/$p.log" --metrics-file "$prom" \
		"t: state close-wait and sport $p, older-than 1s" >"$TMP/nocap.out" \
		2>"$TMP/nocap.err" &
	WATCHERS+=($!)
	cycles_done "$prom" 1 || { not_ok "nocap: watcher did not start"; return; }
	trk R$p "cw 0"
	trk R$p "cw 1"
	check "nocap: killed by the dump" gone_within "$ns" $p 30
	check "nocap: says why once" [ "$(grep -c "no state tracker for close-wait: .*needs CAP_BPF and CAP_PERFMON.*every cycle dumps" "$TMP/nocap.err")" = 1 ]
	check "nocap: no tracker metrics" \
		[ -z "$(metric "$prom" sockreap_watch_tracker_dumps_total)" ]
}

# What the tracker cannot stand for keeps the dump: no tracker loaded, nothing said.
untracked() {
	local ns p=7650 prom="$TMP/untracked.prom"
	ns_new ns || { not_ok "untracked: namespace"; return; }
	track_start "$ns" $p "$prom" "t: state fin-wait-2 and sport $p, older-than 1h" \
		"u: sport $p, older-than 1h" ||
		{ not_ok "untracked: watcher did not start"; return; }
	check "untracked: no tracker for fin-wait-2 or an unbounded state" \
		not grep -q "state tracker" "$TMP/W$p.err"
	check "untracked: no tracker metrics" \
		[ -z "$(metric "$prom" sockreap_watch_tracker_dumps_total)" ]
}

# The start's dump fails (faildump.so: the receive after the 1st dump request answers ENOBUFS):
# that cycle matched nothing, the next dumps again (the map is not trusted unseeded), and the
# cycles after it look up from the map.
failed_seed() {
	local ns p=7660 prom="$TMP/failseed.prom" shim=${FAILDUMP:-build/tests/faildump.so} c m
	[ -e "$shim" ] || { not_ok "failed seed: $shim is not built"; return; }
	ns_new ns || { not_ok "failed seed: namespace"; return; }
	rig_spawn R$p ip netns exec "$ns" "$TRACKRIG" -p $p -c $((p + 30000)) ||
		{ not_ok "failed seed: rig"; return; }
	trk R$p "cw 0"
	trk R$p "cw 1"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 SR_FAIL_DUMP=1 \
		TRACK_ENV="LD_PRELOAD=$PWD/$shim" watcher X "$ns" --every 200ms --no-audit \
		--metrics-file "$prom" "f: state close-wait and sport $p, older-than 1h"
	cycles_done "$prom" 4 || { not_ok "failed seed: no fourth cycle"; return; }
	kill -TERM "$X"
	wait_exit "$X"
	check "failed seed: the watcher said the dump failed" \
		grep -q "cannot dump sockets" "$TMP/X.err"
	c=$(metric "$prom" sockreap_watch_cycles_total)
	m=$(metric "$prom" 'sockreap_watch_matched_total{rule="f"}')
	check "failed seed: matched $m over $c cycles, the first failed" [ "$m" = $((2 * (c - 1))) ]
	check "failed seed: dumped again, then looked up" \
		[ "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 2 -a \
		  "$(metric "$prom" sockreap_watch_tracker_lookups_total)" -ge 2 ]
}

# SIGHUP to rules the tracker cannot serve unloads it; back to close-wait loads it again.
reload() {
	local ns p=7670 prom="$TMP/reload.prom" conf="$TMP/reload.conf" n
	ns_new ns || { not_ok "reload: namespace"; return; }
	rig_spawn R$p ip netns exec "$ns" "$TRACKRIG" -p $p -c $((p + 30000)) ||
		{ not_ok "reload: rig"; return; }
	printf 'r: state close-wait and sport %s, older-than 1s\n' $p >"$conf"
	chmod 0600 "$conf"
	watcher H "$ns" --every 200ms --audit-log "$TMP/$p.log" --metrics-file "$prom" \
		--config "$conf"
	cycles_done "$prom" 1 || { not_ok "reload: watcher did not start"; return; }
	printf 'r: state fin-wait-2 and sport %s, older-than 1s\n' $p >"$conf"
	kill -HUP "$H"
	cycles_more "$prom" 3
	check "reload: fin-wait-2 only: the tracker is unloaded" \
		[ -z "$(metric "$prom" sockreap_watch_tracker_dumps_total)" ]
	printf 'r: state close-wait and sport %s, older-than 1s\n' $p >"$conf"
	kill -HUP "$H"
	cycles_more "$prom" 3
	n=$(grep -c "state tracker on for close-wait" "$TMP/H.err")
	check "reload: back to close-wait: the tracker is on again ($n times said)" [ "$n" = 2 ]
	trk R$p "cw 0"
	check "reload: and it kills" gone_within "$ns" $p 30
	check "reload: from the map" \
		[ "$(metric "$prom" sockreap_watch_tracker_lookups_total)" -ge 1 ]
}

# IPv6, and IPv4 clients of a dual-stack listener (server ends: AF_INET6, v4-mapped): the
# map's addresses find each by its exact get.
families() {
	local ns p prom args
	ns_new ns || { not_ok "families: namespace"; return; }
	for args in "7680 -a ::1" "7690 -a 127.0.0.1 -l ::"; do
		p=${args%% *}
		prom="$TMP/fam$p.prom"
		rig_spawn R$p ip netns exec "$ns" "$TRACKRIG" -p $p -c $((p + 30000)) ${args#* } ||
			{ not_ok "families: rig ${args#* }"; continue; }
		watcher W$p "$ns" --every 300ms --audit-log "$TMP/$p.log" --metrics-file "$prom" \
			"t: state close-wait and sport $p, older-than 1s"
		cycles_done "$prom" 1 || { not_ok "families: watcher ${args#* }"; continue; }
		trk R$p "cw 0"
		trk R$p "cw 1"
		check "families (${args#* }): 2 in close-wait" [ "$(cw_count "$ns" $p)" = 2 ]
		check "families (${args#* }): killed" gone_within "$ns" $p 30
		check "families (${args#* }): from the map (one dump)" \
			[ "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 1 -a \
			  "$(killed_in "$TMP/$p.log")" = 2 ]
	done
}

# Another namespace's sockets, on the same port, are not the watcher's candidates.
other_ns() {
	local a b p=7700 prom="$TMP/otherns.prom"
	ns_new a && ns_new b || { not_ok "other netns: namespaces"; return; }
	rig_spawn RA ip netns exec "$a" "$TRACKRIG" -p $p -c $((p + 30000)) &&
		rig_spawn RB ip netns exec "$b" "$TRACKRIG" -p $p -c $((p + 30000)) ||
		{ not_ok "other netns: rigs"; return; }
	watcher O "$a" --every 300ms --audit-log "$TMP/$p.log" --metrics-file "$prom" \
		"t: state close-wait and sport $p, older-than 1h"
	cycles_done "$prom" 1 || { not_ok "other netns: watcher"; return; }
	trk RA "cw 0"
	for i in 0 1 2; do
		trk RB "cw $i"
	done
	cycles_more "$prom" 2
	check "other netns: 1 candidate of its own, not the other's 3" \
		[ "$(metric "$prom" sockreap_watch_tracker_candidates)" = 1 ]
	check "other netns: the other's are untouched" [ "$(cw_count "$b" $p)" = 3 ]
}

# The safety net: a full dump again every reseed interval (10 min; 1 s in this test build).
reseed() {
	local ns p=7710 prom="$TMP/reseed.prom" d l
	ns_new ns || { not_ok "reseed: namespace"; return; }
	TRACK_ENV="SOCKREAP_TEST_TRACK_RESEED_MS=1000" track_start "$ns" $p "$prom" \
		"t: state close-wait and sport $p, older-than 1h" ||
		{ not_ok "reseed: watcher did not start"; return; }
	trk R$p "cw 0"
	sleep 2.5
	cycles_more "$prom" 1
	d=$(metric "$prom" sockreap_watch_tracker_dumps_total)
	l=$(metric "$prom" sockreap_watch_tracker_lookups_total)
	check "reseed: dumps again each second ($d dumps), looks up between ($l)" \
		[ "${d:-0}" -ge 2 -a "${l:-0}" -ge 2 ]
	check "reseed: the candidate is still there" \
		[ "$(metric "$prom" sockreap_watch_tracker_candidates)" = 1 ]
}

# Made after the start, as a dump would select them: a server end bound to a device (the
# lookup goes through that interface) and an IPv6 link-local one (its scope).
devices() {
	local ns p=7710 prom="$TMP/dev.prom"
	ns_new ns || { not_ok "devices: namespace"; return; }
	ip -n "$ns" link add d0 type veth peer name d1 && ip -n "$ns" link set d0 up &&
		ip -n "$ns" link set d1 up && ip -n "$ns" addr add fe80::1/64 dev d0 nodad || {
		skipped "devices: no veth pair in a namespace here"
		return
	}
	rig_spawn C$p ip netns exec "$ns" python3 tests/helpers/cwchurn.py devices $p d0 ||
		{ not_ok "devices: rig"; return; }
	watcher W$p "$ns" --every 300ms --audit-log "$TMP/$p.log" --metrics-file "$prom" \
		"t: state close-wait and (sport $p or sport $((p + 1))), older-than 1s"
	cycles_done "$prom" 1 || { not_ok "devices: watcher"; return; }
	trk C$p go
	check "devices: $TRK: %lo and %d0 in close-wait" \
		[ "$(ss_count "$ns" state close-wait "( sport = :$p or sport = :$((p + 1)) )")" = 2 ]
	check "devices: the bound one is killed" gone_within "$ns" $p 30
	check "devices: the link-local one is killed" gone_within "$ns" $((p + 1)) 30
	check "devices: from the map (one dump), 2 killed" \
		[ "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 1 -a \
		  "$(killed_in "$TMP/$p.log")" = 2 ]
}

# 300 sockets left in CLOSE_WAIT over 3 s while 300 others pass through it in under 80 ms:
# every stuck one killed from the map, not one of the brief ones (younger than the age).
churn() {
	local ns p=7720 prom="$TMP/churn.prom"
	ns_new ns || { not_ok "churn: namespace"; return; }
	rig_spawn C$p ip netns exec "$ns" python3 tests/helpers/cwchurn.py churn $p 300 300 ||
		{ not_ok "churn: rig"; return; }
	watcher W$p "$ns" --every 200ms --audit-log "$TMP/$p.log" --metrics-file "$prom" \
		"t: state close-wait and sport $p, older-than 1s"
	cycles_done "$prom" 1 || { not_ok "churn: watcher"; return; }
	trk C$p go
	check "churn: $TRK stuck" [ "$TRK" = "made 300" ]
	check "churn: all killed" gone_within "$ns" $p 30
	check "churn: 300 killed, none of the brief ones; from the map (one dump)" \
		[ "$(killed_in "$TMP/$p.log")" = 300 -a \
		  "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 1 ]
}

# A watcher here (our namespace) with --netns: the tracker keeps that namespace's sockets,
# not the ones of another it does not watch (a map of 4 in the test build: the other's 8 would
# overflow it), and a cycle looks them up through a sock_diag handle there, no dump but the start.
host_netns() {
	local a b p=7750 prom="$TMP/hostns.prom" d l i
	ns_new a && ns_new b || { not_ok "host --netns: namespaces"; return; }
	rig_spawn HA ip netns exec "$a" "$TRACKRIG" -p $p -c $((p + 30000)) &&
		rig_spawn HB ip netns exec "$b" "$TRACKRIG" -p $p -c $((p + 30000)) ||
		{ not_ok "host --netns: rigs"; return; }
	SOCKREAP_TEST_TRACK_MAX=4 "$SR" watch --netns "$a" --every 300ms \
		--audit-log "$TMP/$p.log" --metrics-file "$prom" \
		"t: state close-wait and sport $p, older-than 2s" >"$TMP/hostns.out" \
		2>"$TMP/hostns.err" &
	WATCHERS+=($!)
	HW=$!
	cycles_done "$prom" 1 || { not_ok "host --netns: watcher did not start"; return; }
	check "host --netns: the tracker is on" \
		grep -q "state tracker on for close-wait (1 rule)" "$TMP/hostns.err"
	trk HA "cw 0"
	trk HA "cw 1"
	for i in $(seq 0 7); do
		trk HB "cw $i"
	done
	check "host --netns: 2 in close-wait there, 8 in the other" \
		[ "$(cw_count "$a" $p)" = 2 -a "$(cw_count "$b" $p)" = 8 ]
	cycles_more "$prom" 2
	check "host --netns: 2 candidates, the map watches 1 namespace" \
		[ "$(metric "$prom" sockreap_watch_tracker_candidates)" = 2 -a \
		  "$(metric "$prom" sockreap_watch_tracker_namespaces)" = 1 ]
	check "host --netns: killed once old enough" gone_within "$a" $p 30
	# The metrics of the cycle that killed them are written after the kill.
	cycles_more "$prom" 1
	d=$(metric "$prom" sockreap_watch_tracker_dumps_total)
	l=$(metric "$prom" sockreap_watch_tracker_lookups_total)
	check "host --netns: one dump (the start), then $l lookups" [ "$d" = 1 -a "${l:-0}" -ge 3 ]
	check "host --netns: the other namespace's 8 never entered the map of 4" \
		[ "$(metric "$prom" sockreap_watch_tracker_overflows_total)" = 0 ]
	check "host --netns: the other namespace's are untouched" [ "$(cw_count "$b" $p)" = 8 ]
	check "host --netns: audit has 2 killed, in that namespace" \
		[ "$(killed_in "$TMP/$p.log")" = 2 -a \
		  "$(audit_outcomes "$TMP/$p.log" "$(stat -L -c %i "/run/netns/$a")")" = "2 killed" ]
	kill -TERM "$HW"
	wait_exit "$HW"
	wait "$HW"
	check "host --netns: SIGTERM stops it, exit 0 (no leak)" [ $? = 0 ]
}

# A namespace a reload adds: its sockets already in close-wait (the program did not watch it
# then) are found by its seeding dump; the one after, from the map; one the reload drops is
# let go (its entries leave the map).
host_later() {
	local a c p=7760 prom="$TMP/hostlater.prom" conf="$TMP/hostlater.conf" d
	ns_new a && ns_new c || { not_ok "host later: namespaces"; return; }
	rig_spawn LA ip netns exec "$a" "$TRACKRIG" -p $p -c $((p + 30000)) &&
		rig_spawn LC ip netns exec "$c" "$TRACKRIG" -p $p -c $((p + 30000)) ||
		{ not_ok "host later: rigs"; return; }
	printf 't: netns %s and state close-wait and sport %s, older-than 1s\n' "$a" $p >"$conf"
	chmod 0600 "$conf"
	"$SR" watch --every 300ms --audit-log "$TMP/$p.log" --metrics-file "$prom" \
		--config "$conf" >"$TMP/hostlater.out" 2>"$TMP/hostlater.err" &
	WATCHERS+=($!)
	LW=$!
	cycles_done "$prom" 1 || { not_ok "host later: watcher did not start"; return; }
	trk LC "cw 0"
	trk LC "cw 1"
	cycles_more "$prom" 2
	check "host later: not watched yet: untouched, 1 namespace, 1 dump" \
		[ "$(cw_count "$c" $p)" = 2 -a \
		  "$(metric "$prom" sockreap_watch_tracker_namespaces)" = 1 -a \
		  "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 1 ]
	printf 't: (netns %s or netns %s) and state close-wait and sport %s, older-than 1s\n' \
		"$a" "$c" $p >"$conf"
	kill -HUP "$LW"
	check "host later: the ones there before, found by its seeding dump, killed" \
		gone_within "$c" $p 30
	cycles_more "$prom" 1
	check "host later: 2 namespaces, a second dump" \
		[ "$(metric "$prom" sockreap_watch_tracker_namespaces)" = 2 -a \
		  "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 2 ]
	trk LC "cw 2"
	check "host later: a later one, killed" gone_within "$c" $p 30
	cycles_more "$prom" 1
	check "host later: from the map (still 2 dumps)" \
		[ "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = 2 ]
	printf 't: netns %s and state close-wait and sport %s, older-than 1s\n' "$a" $p >"$conf"
	kill -HUP "$LW"
	d=$(metric "$prom" sockreap_watch_tracker_dumps_total)
	cycles_more "$prom" 3
	check "host later: dropped by the reload: 1 namespace again, no dump" \
		[ "$(metric "$prom" sockreap_watch_tracker_namespaces)" = 1 -a \
		  "$(metric "$prom" sockreap_watch_tracker_dumps_total)" = "$d" ]
	check "host later: audit has 3 killed" [ "$(killed_in "$TMP/$p.log")" = 3 ]
}

# --all-netns keeps the dump (one map for every namespace overflows under another's burst).
# It looks in every namespace on the host: a dry run, and a rule no socket can be old enough for.
host_all() {
	local prom="$TMP/hostall.prom"
	"$SR" watch --all-netns --dry-run --every 300ms --no-audit --metrics-file "$prom" \
		"t: state close-wait and sport 7770, older-than 1h" >"$TMP/hostall.out" \
		2>"$TMP/hostall.err" &
	WATCHERS+=($!)
	cycles_done "$prom" 2 || { not_ok "host --all-netns: watcher did not start"; return; }
	check "host --all-netns: no tracker, no tracker metrics" \
		[ -z "$(metric "$prom" sockreap_watch_tracker_dumps_total)" ]
	check "host --all-netns: nothing said about one" not grep -q "state tracker" \
		"$TMP/hostall.err"
}

not() { ! "$@"; }

# killed_in LOG: how many sockets the audit LOG's results say killed.
killed_in() {
	jq -r 'select(.event == "result" and .outcome == "killed") | .cookies[]' "$1" | wc -l
}

late
leave
reuse
overflow
nocap
untracked
failed_seed
reload
families
other_ns
reseed
devices
churn
host_netns
host_later
host_all
