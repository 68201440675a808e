#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sockreap watch against real sockets: a rule's age is measured by cookie across cycles (a
# socket is killed once it has matched for the age, not before; one that stops matching loses
# its age); the breaker refuses a flood and records it; SIGHUP with a bad file keeps the old
# rules and a good one replaces them; SIGTERM stops with the audit whole (an intent and a
# result per socket, the rule's name in every record); --check gives file:line and a caret;
# the metrics file is written. Every namespace, rig and watcher here is ours, stopped by pid.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/watch_lib.sh

# --check needs no namespace: first.
check_file() {
	printf '# stuck java\na: state close-wait, older-than 1m, max 5\n\n' >"$TMP/good.conf"
	expect_status 0 "check: a good file" "$SR" watch --check "$TMP/good.conf"
	printf 'a: state close-wait, older-than 1m\n# c\nb: state bogus, older-than 1s\n' \
		>"$TMP/bad.conf"
	expect_status 2 "check: a bad file" "$SR" watch --check "$TMP/bad.conf"
	check "check: file:line and the caret" \
		grep -qx "sockreap: $TMP/bad.conf:3: unknown state \"bogus\"" "$TMP/err"
	check "check: the caret under the word" grep -qx '           ^^^^^' "$TMP/err"
	# The rules decide what root kills: a file someone else may write is not trusted (as the
	# audit file's rules, ssh's StrictModes), and a FIFO is refused without blocking.
	cp "$TMP/good.conf" "$TMP/ww.conf" && chmod 0666 "$TMP/ww.conf"
	expect_status 2 "check: a world-writable config is refused" \
		"$SR" watch --check "$TMP/ww.conf"
	check "check: it says why" grep -q "ww.conf.*writable by group or others" "$TMP/err"
	cp "$TMP/good.conf" "$TMP/nobody.conf" && chown nobody "$TMP/nobody.conf"
	expect_status 2 "check: a config another user owns is refused" \
		"$SR" watch --check "$TMP/nobody.conf"
	check "check: it names the owner" grep -q "nobody.conf.*owned by uid" "$TMP/err"
	mkfifo "$TMP/fifo.conf"
	expect_status 2 "check: a FIFO config is refused, not waited on" \
		timeout 10 "$SR" watch --check "$TMP/fifo.conf"
	check "check: it says not a regular file" grep -q "fifo.conf.*not a regular file" "$TMP/err"
	expect_status 2 "rule without an age" "$SR" watch 'a: state close-wait'
	expect_status 2 "rule without a selector" "$SR" watch 'a: , older-than 1s'
	check "help fits 80 columns" \
		sh -c "'$SR' watch --help | awk 'length(\$0) > 80 { bad = 1 } END { exit bad }'"
}
check_file

require_netns watch

ages() {
	local ns t0 waited
	ns_new ns || { not_ok "ages: namespace"; return; }
	rig_start A "$ns" -p 7400 -n 3 close-wait || { not_ok "ages: rig"; return; }
	cw_settled "$ns" 7400 3 || { not_ok "ages: close-wait settled"; return; }
	watcher W "$ns" --every 1s --audit-log "$TMP/ages.log" --metrics-file "$TMP/ages.prom" \
		'cw: state close-wait and sport 7400, older-than 2s'
	# The first cycle has seen them (the metrics file comes after it): 1 s on, too young.
	cycles_done "$TMP/ages.prom" 1 || { not_ok "ages: no first cycle"; return; }
	t0=$(date +%s.%N)
	sleep 1
	check "ages: still there 1 s after first seen" [ "$(cw_count "$ns" 7400)" = 3 ]
	cw_settled "$ns" 7400 0
	waited=$(echo "$(date +%s.%N) - $t0" | bc)
	check "ages: killed once old enough (${waited}s after the first cycle)" \
		[ "$(cw_count "$ns" 7400)" = 0 ]
	check "ages: the holder sees all 3 closed" grep -q "held=3 closed=3 " <<<"$(rig_report A)"
	check "ages: watcher says it killed 3" grep -q "rule cw: 3 selected: 3 killed" "$TMP/W.err"
	stop "$W"
	check "ages: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	check "ages: it says it stopped" grep -q "SIGTERM: stopped after" "$TMP/W.err"
	# The audit: every record names the rule; every intended cookie has a result.
	check "ages: rule name in every record" \
		[ "$(jq -r 'select(.rule != "cw")' "$TMP/ages.log" | wc -l)" = 0 ]
	check "ages: intents = results = 3 cookies" [ "$(jq -rs '
		([.[] | select(.event == "intent") | .sockets[].cookie] | sort) as $i |
		([.[] | select(.event == "result") | .cookies[]] | sort) as $r |
		($i == $r) and ($i | length) == 3' "$TMP/ages.log")" = true ]
	check "ages: killed 3 in the metrics" \
		grep -qx 'sockreap_watch_killed_total{rule="cw"} 3' "$TMP/ages.prom"
	check "ages: watcher stderr clean of sanitizer reports" \
		sh -c "! grep -q 'Sanitizer\|runtime error' '$TMP/W.err'"
}

# A connection whose server end has unread data only in bursts shorter than the age: it
# matches `recv-q > 0` for 1.5 s, then not for 1 s, again and again. Its total time matched
# passes the age of 2.5 s in the second burst; its continuous time never does.
burst_rig() {
	rig_spawn "$1" ip netns exec "$2" python3 -c '
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(4)
c = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s, _ = l.accept()
steady = sys.argv[2] == "steady"
print("ready", s.fileno(), flush=True)
c.send(b"x")
while True:
    time.sleep(1.5)
    if steady:
        continue
    try:
        if not s.recv(16): break
    except OSError: break
    time.sleep(1.0)
    try: c.send(b"x")
    except OSError: break
' "$3" "$4"
}

lose_age() {
	local ns
	if ! command -v python3 >/dev/null; then
		skipped "lose-age: python3 is not installed"
		return
	fi
	ns_new ns || { not_ok "lose-age: namespace"; return; }
	burst_rig B "$ns" 7410 bursts || { not_ok "lose-age: burst rig"; return; }
	burst_rig S "$ns" 7411 steady || { not_ok "lose-age: steady rig"; return; }
	watcher L "$ns" --every 250ms --audit-log "$TMP/lose.log" --metrics-file "$TMP/lose.prom" \
		'q: state established and recv-q > 0, older-than 2500ms'
	# The steady one has matched since the first cycle: killed after 2.5 s. By then and
	# 3 s after, the bursting one has matched for 3 s and more in all, never 2.5 s at once.
	wait_grep "$TMP/L.err" "rule q: 1 selected: 1 killed" || true
	sleep 3
	check "lose-age: the steady match is killed" \
		[ "$(ss_count "$ns" state established '( sport = :7411 or dport = :7411 )')" = 0 ]
	check "lose-age: the one that stops matching between bursts is not" \
		[ "$(ss_count "$ns" state established '( sport = :7410 or dport = :7410 )')" = 2 ]
	check "lose-age: one kill in the audit" [ "$(jq -r 'select(.event == "result") |
		.cookies[]' "$TMP/lose.log" | wc -l)" = 1 ]
	stop "$L"
	check "lose-age: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
}

breaker() {
	local ns
	ns_new ns || { not_ok "breaker: namespace"; return; }
	rig_start F "$ns" -p 7420 -n 20 close-wait || { not_ok "breaker: rig"; return; }
	cw_settled "$ns" 7420 20 || { not_ok "breaker: close-wait settled"; return; }
	watcher K "$ns" --every 300ms --max-per-cycle 100 --audit-log "$TMP/brk.log" \
		--metrics-file "$TMP/brk.prom" 'flood: state close-wait and sport 7420, older-than 0s, max 5'
	cycles_done "$TMP/brk.prom" 3 || { not_ok "breaker: no third cycle"; return; }
	check "breaker: 20 matched, more than max 5: none killed" [ "$(cw_count "$ns" 7420)" = 20 ]
	check "breaker: it says why" \
		grep -q "rule flood: 20 sockets old enough, more than its max-per-cycle 5: refused" \
		"$TMP/K.err"
	check "breaker: a refused record in the audit, with the rule" [ "$(jq -r 'select(.event ==
		"refused" and .rule == "flood" and .matched == 20 and .limit == 5) | .event' \
		"$TMP/brk.log" | head -1)" = refused ]
	# A watcher without namespaces: the record as before, no "netns" (test_watch_netns.sh).
	check "breaker: the refused record's fields, no netns" [ "$(jq -c 'select(.event ==
		"refused") | keys_unsorted' "$TMP/brk.log" | sort -u)" = \
		'["time","event","run","rule","host","selector","reason","matched","limit"]' ]
	check "breaker: no intent in the audit" \
		[ "$(jq -r 'select(.event == "intent")' "$TMP/brk.log" | wc -l)" = 0 ]
	check "breaker: refusals counted in the metrics" \
		sh -c "awk '/^sockreap_watch_refused_by_breaker_total{rule=\"flood\"}/ { exit !(\$2 >= 60) }' '$TMP/brk.prom'"
	stop "$K"
	check "breaker: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
}

reload() {
	local ns
	ns_new ns || { not_ok "reload: namespace"; return; }
	printf 'a: state close-wait and sport 7430, older-than 0s\n' >"$TMP/watch.conf"
	watcher H "$ns" --every 300ms --config "$TMP/watch.conf" --audit-log "$TMP/hup.log" \
		--metrics-file "$TMP/hup.prom"
	cycles_done "$TMP/hup.prom" 1 || { not_ok "reload: no first cycle"; return; }
	printf 'a: state close-wait and sport 7431, older-than 0s\nb: state bogus, older-than 1s\n' \
		>"$TMP/watch.conf"
	kill -HUP "$H"
	wait_grep "$TMP/H.err" "not reloaded" || true
	check "reload: a bad file is refused with file:line" \
		grep -q "watch.conf:2: unknown state \"bogus\"" "$TMP/H.err"
	check "reload: the watcher still runs" kill -0 "$H"
	rig_start R1 "$ns" -p 7430 -n 2 close-wait || { not_ok "reload: rig 7430"; return; }
	cw_settled "$ns" 7430 0
	check "reload: the old rule still kills (port 7430)" [ "$(cw_count "$ns" 7430)" = 0 ]
	printf 'b: state close-wait and sport 7431, older-than 0s\n' >"$TMP/watch.conf"
	kill -HUP "$H"
	wait_grep "$TMP/H.err" "reloaded: 1 rule" || true
	check "reload: a good file is loaded" grep -q "watch.conf reloaded: 1 rule" "$TMP/H.err"
	rig_start R2 "$ns" -p 7431 -n 2 close-wait || { not_ok "reload: rig 7431"; return; }
	cw_settled "$ns" 7431 0
	check "reload: the new rule kills (port 7431)" [ "$(cw_count "$ns" 7431)" = 0 ]
	check "reload: the new rule's name in its records" [ "$(jq -r 'select(.event ==
		"result") | .rule' "$TMP/hup.log" | sort -u | tr '\n' ' ')" = "a b " ]
	stop "$H"
	check "reload: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
}

# systemd's side of Type=notify, played by a datagram socket: READY=1 once the first cycle is
# done, WATCHDOG=1 pings (WATCHDOG_USEC asks for them), STOPPING=1 on SIGTERM.
notify() {
	local ns
	if ! command -v python3 >/dev/null; then
		skipped "notify: python3 is not installed"
		return
	fi
	ns_new ns || { not_ok "notify: namespace"; return; }
	rig_spawn N python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
print("ready", 0, flush=True)
with open(sys.argv[2], "w") as f:
    while True:
        m = s.recv(4096).decode()
        f.write(m.replace("\n", " ") + "\n"); f.flush()
' "$TMP/notify.sock" "$TMP/notify.log" || { not_ok "notify: listener"; return; }
	NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=400000 watcher Y "$ns" --every 1s \
		--no-audit --metrics-file "$TMP/notify.prom" 'n: state close-wait and sport 7440, older-than 1s'
	wait_grep "$TMP/notify.log" "READY=1" || true
	check "notify: READY=1 comes after the first cycle (its metrics are written)" \
		[ -s "$TMP/notify.prom" ]
	wait_grep "$TMP/notify.log" "WATCHDOG=1" || true
	check "notify: READY=1 first" [ "$(head -1 "$TMP/notify.log")" = "READY=1" ]
	check "notify: WATCHDOG=1 pings" grep -qx "WATCHDOG=1" "$TMP/notify.log"
	stop "$Y"
	check "notify: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	check "notify: STOPPING=1 last" [ "$(tail -1 "$TMP/notify.log")" = "STOPPING=1" ]
	check "notify: without NOTIFY_SOCKET it runs all the same" [ -s "$TMP/ages.prom" ]
}

dry_run() {
	local ns
	ns_new ns || { not_ok "dry-run: namespace"; return; }
	rig_start D "$ns" -p 7450 -n 2 close-wait || { not_ok "dry-run: rig"; return; }
	cw_settled "$ns" 7450 2 || { not_ok "dry-run: close-wait settled"; return; }
	watcher V "$ns" -n --every 300ms --audit-log "$TMP/dry.log" \
		'd: state close-wait and sport 7450, older-than 600ms'
	wait_grep "$TMP/V.err" "rule d: 2 sockets would be killed" || true
	check "dry-run: says what it would kill, with the rule" \
		grep -q "rule d: 2 sockets would be killed (dry run" "$TMP/V.err"
	check "dry-run: the table on stdout" grep -q "127.0.0.1:7450" "$TMP/V.out"
	stop "$V"
	check "dry-run: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	check "dry-run: nothing killed" [ "$(cw_count "$ns" 7450)" = 2 ]
	check "dry-run: no audit file" [ ! -e "$TMP/dry.log" ]
}

# One syslog line per cycle that acted and no other, heard by a logsink on /dev/log in a
# private /dev.
syslog_cycle() {
	local ns rc
	ns_new ns || { not_ok "syslog: namespace"; return; }
	rig_start G "$ns" -p 7470 -n 3 close-wait || { not_ok "syslog: rig"; return; }
	cw_settled "$ns" 7470 3 || { not_ok "syslog: close-wait settled"; return; }
	ip netns exec "$ns" unshare -m --propagation private bash -c '
		mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		ln -s /proc/self/fd /dev/fd || exit 99
		"$1" /dev/log >>"$2" & sink=$!
		for _ in $(seq 100); do grep -q ready "$2" && break; sleep 0.1; done
		"$3" watch --every 300ms --audit-log "$4" \
			"s: state close-wait and sport 7470, older-than 0s" >/dev/null 2>&1 & w=$!
		for _ in $(seq 600); do grep -q "watch: cycle" "$2" && break; sleep 0.1; done
		sleep 1	# more cycles, which act on nothing: no line for them
		kill -TERM $w
		wait $w
		echo "rc=$?" >>"$2"
		sleep 0.2
		kill $sink' _ "$PWD/build/tests/logsink" "$TMP/watch.syslog" "$SR" "$TMP/syslog.log"
	rc=$?
	if [ "$rc" = 99 ]; then
		skipped "syslog: cannot make a private mount namespace here"
		return
	fi
	check "syslog: one line for the cycle that acted" \
		[ "$(grep -c "watch: cycle [0-9]*: s 3 killed, 0 gone, 0 not killed" "$TMP/watch.syslog")" = 1 ]
	check "syslog: no line for the cycles that did nothing" \
		[ "$(grep -c "watch: cycle" "$TMP/watch.syslog")" = 1 ]
	# The issue's "one syslog line per cycle that acted": the runs' own intent and result
	# lines are the audit file's, not the log's.
	check "syslog: no other line (no intent or result line of the run)" \
		[ "$(grep -vc "^ready\|^rc=" "$TMP/watch.syslog")" = 1 ]
	check "syslog: the watcher exited 0" grep -qx "rc=0" "$TMP/watch.syslog"
}

# A cycle whose dump fails (faildump.so: the receive after the 2nd dump request answers
# ENOBUFS) matched nothing: the matched counter counts the other cycles' 2 sockets only.
# --no-track: a dump every cycle (the state tracker's own case is in test_watch_track.sh).
failed_cycle() {
	local ns shim=${FAILDUMP:-build/tests/faildump.so} cycles matched
	[ -e "$shim" ] || { not_ok "failed cycle: $shim is not built"; return; }
	ns_new ns || { not_ok "failed cycle: namespace"; return; }
	rig_start E "$ns" -p 7480 -n 2 close-wait || { not_ok "failed cycle: rig"; return; }
	cw_settled "$ns" 7480 2 || { not_ok "failed cycle: close-wait settled"; return; }
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 SR_FAIL_DUMP=2 \
		LD_PRELOAD=$PWD/$shim watcher X "$ns" --every 200ms --no-audit --no-track \
		--metrics-file "$TMP/fail.prom" 'f: state close-wait and sport 7480, older-than 1h'
	cycles_done "$TMP/fail.prom" 4 || { not_ok "failed cycle: no fourth cycle"; return; }
	stop "$X"
	check "failed cycle: the watcher said the dump failed" grep -q "cannot dump sockets" "$TMP/X.err"
	cycles=$(awk '$1 == "sockreap_watch_cycles_total" { print $2 }' "$TMP/fail.prom")
	matched=$(awk '$1 == "sockreap_watch_matched_total{rule=\"f\"}" { print $2 }' "$TMP/fail.prom")
	check "failed cycle: matched $matched over $cycles cycles, one of them failed" \
		[ "$matched" = $((2 * (cycles - 1))) ]
	check "failed cycle: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
}

ages
lose_age
failed_cycle
syslog_cycle
dry_run
notify
breaker
reload
