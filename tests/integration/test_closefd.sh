#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --close-fd on real processes (tests/helpers/leakrig.c, a server that leaks CLOSE_WAIT
# sockets into its own RLIMIT_NOFILE): the leaked descriptors go back to the process, which
# accepts again and keeps working; a thread blocked in read() keeps blocking and gets its data;
# sleeping threads are not woken; a forked child's copies are closed too; an fd reused between
# the preview and the kill is left open ("changed"); a process already traced is not touched.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns closefd
LEAKRIG=build/tests/leakrig
PTY="python3 tests/helpers/ptyrun.py"
if [ ! -x "$LEAKRIG" ]; then
	not_ok "closefd: $LEAKRIG is not built"
	exit 0
fi
case "$(uname -m)" in
x86_64) ;;
*)
	skipped "closefd: --close-fd is tested on x86-64 only (this is $(uname -m))"
	exit 0
	;;
esac

# leak_start VAR NS PORT ARGS...: the leaky server in NS; VAR gets its pid.
leak_start() {
	local var=$1 ns=$2
	shift 2
	rig_spawn "$var" ip netns exec "$ns" "$LEAKRIG" "$@"
}

# say VAR CMD: one command to the rig, its one-line answer on stdout.
say() {
	local w="${1}_in" r="${1}_out" line
	echo "$2" >&"${!w}"
	read -r -t 30 line <&"${!r}"
	echo "$line"
}

# fds PID: descriptors the process holds now.
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# fds_below PID N: those numbered below N (RLIMIT_NOFILE bounds the numbers, not the count:
# descriptors inherited above it take no room).
fds_below() { ls "/proc/$1/fd" 2>/dev/null | awk -v n="$2" '$1 < n' | wc -l; }

# leak NS PORT N: N connections that the client closes at once (the server leaks each).
leak() {
	in_ns "$1" bash -c 'for ((i = 0; i < $2; i++)); do
		exec 3<>"/dev/tcp/127.0.0.1/$1" && exec 3>&-; done' sh "$2" "$3"
}

# ping NS PORT SECONDS: "pong" if the server answers within SECONDS.
ping_rig() {
	in_ns "$1" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; echo ping >&3
		read -r -t "$2" line <&3; echo "$line"' sh "$2" "$3" 2>/dev/null
}

emfile_seen() { [ "$(say "$1" stats | awk '{print $7}')" -gt 0 ]; }
leaked_is() { [ "$(say "$1" stats | awk '{print $5}')" = "$2" ]; }
fds_are() { [ "$(fds "$1")" = "$2" ]; }

# --- (a) a server at its fd limit recovers ---------------------------------------------------
test_recover() {
	local ns base room limit=24 pinger
	ns_new ns || { not_ok "recover: namespace"; return; }
	leak_start L "$ns" 7101 --nofile $limit --threads 2 || { not_ok "recover: rig"; return; }
	base=$(fds "$L")
	room=$((limit - $(fds_below "$L" $limit)))
	leak "$ns" 7101 $room
	check "recover: the server leaked up to its limit ($limit fds)" \
		wait_for 20 leaked_is L $room
	check "recover: $room close-wait sockets" cw_settled "$ns" 7101 $room
	# A client that waits for its answer: the server cannot accept it (EMFILE).
	in_ns "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/7101 && echo ping >&3 &&
		read -r -t 60 line <&3; echo "$line" >"$1"' sh "$TMP/pinger" &
	pinger=$!
	check "recover: the server fails to accept (EMFILE)" wait_for 20 emfile_seen L
	sleep 0.3
	check "recover: the waiting client has no answer" [ ! -s "$TMP/pinger" ]
	check "recover: the main thread is blocked in read()" \
		[ "$(cut -d' ' -f1 "/proc/$L/syscall")" = 0 ]

	expect_status 0 "recover: --close-fd --state close-wait --pid" \
		in_ns "$ns" "$SR" --close-fd --state close-wait --pid "$L" --yes --json \
		--audit-log "$TMP/audit.log"
	check "recover: every socket killed, every fd closed" \
		[ "$(jq -c '[.sockets[] | [.outcome, [.owners[] | .fd_closed, .fd_result]]] | unique' \
			"$TMP/out")" = '[["killed",[true,"closed"]]]' ]
	check "recover: the summary says $room descriptors were returned" \
		grep -q -- "--close-fd: $room descriptors returned to their processes" \
		"$TMP/err"
	check "recover: the JSON summary says $room descriptors were returned" \
		[ "$(jq '.summary.fds_closed' "$TMP/out")" = "$room" ]
	check "recover: the audit result records say fd_closed per owner" \
		[ "$(jq -s -c '[.[] | select(.event == "result") | .owners[]? | .fd_closed] | unique' \
			"$TMP/audit.log")" = '[true]' ]
	check "recover: the waiting client is answered now" \
		wait_for 20 grep -qx pong "$TMP/pinger"
	wait "$pinger"
	check "recover: the fd count is back to the baseline ($base)" wait_for 20 fds_are "$L" "$base"
	check "recover: no close-wait socket left" cw_settled "$ns" 7101 0
	check "recover: and it keeps working (echo round trip)" \
		[ "$(ping_rig "$ns" 7101 10)" = pong ]
	check "recover: the main thread still blocks in read()" \
		[ "$(cut -d' ' -f1 "/proc/$L/syscall")" = 0 ]
	check "recover: ... and gets its data, with no EINTR" [ "$(say L "feed hello")" = "got hello" ]
	check "recover: the sleeping threads were not woken early" \
		[ "$(say L sleepers)" = "sleepers 0" ]
	check "recover: the process is not traced any more" \
		[ "$(awk '/^TracerPid/ {print $2}' "/proc/$L/status")" = 0 ]
}

# --- (b) a forked child holds copies: both closed --------------------------------------------
test_forked() {
	local ns child base cbase
	ns_new ns || { not_ok "forked: namespace"; return; }
	leak_start F "$ns" 7102 --nofile 64 || { not_ok "forked: rig"; return; }
	base=$(fds "$F")
	leak "$ns" 7102 3
	check "forked: 3 leaked" wait_for 20 leaked_is F 3
	child=$(say F fork)
	child=${child#child }
	RIG_PIDS+=("$child")
	cbase=$(fds "$child")
	check "forked: the child holds the 3 leaked too" [ "$cbase" = "$((base + 3))" ]
	expect_status 0 "forked: --close-fd --comm leakrig" \
		in_ns "$ns" env SOCKREAP_OWNERS=proc "$SR" --close-fd --comm leakrig \
		--state close-wait --yes --json --no-audit
	check "forked: both owners' fds closed, per owner" \
		[ "$(jq -c '[.sockets[] | [.outcome, ([.owners[].pid] | sort), ([.owners[].fd_closed] | unique)]] | unique' \
			"$TMP/out")" = "[[\"killed\",[$F,$child],[true]]]" ]
	check "forked: the parent is back to its baseline" wait_for 10 fds_are "$F" "$base"
	check "forked: so is the child" wait_for 10 fds_are "$child" "$((cbase - 3))"
	check "forked: the child still runs" kill -0 "$child"
	check "forked: the parent still works" [ "$(ping_rig "$ns" 7102 10)" = pong ]
}

# --- (c) the fd is reused between the preview and the kill: left open, "changed" --------------
test_changed() {
	local ns base
	ns_new ns || { not_ok "changed: namespace"; return; }
	leak_start C "$ns" 7103 --nofile 64 || { not_ok "changed: rig"; return; }
	leak "$ns" 7103 2
	check "changed: 2 leaked" wait_for 20 leaked_is C 2
	local before
	before=$(say C leaked)
	# On the terminal sockreap previews and asks; meanwhile the rig moves each leaked socket
	# to another fd and puts a new socket at the old number.
	expect_status 0 "changed: --close-fd, the fds swapped while it asks" \
		in_ns "$ns" $PTY 50 200 --answer $'y\n' \
		--before "bash -c 'echo swap >&$C_in; read -r -t 30 l <&$C_out'" \
		"$SR" --close-fd --state close-wait --pid "$C" --audit-log "$TMP/audit.c"
	check "changed: the rig swapped both" \
		[ "$(jq -s -c '[.[] | select(.event == "result") | .owners[]? | .fd_result] | unique' \
			"$TMP/audit.c")" = '["changed"]' ]
	check "changed: the table says fd-kept" grep -q "killed fd-kept" "$TMP/out"
	check "changed: the sockets now at those fds are still open" \
		[ "$(say C leaked)" = "$before" ]
	check "changed: the stderr line says why" \
		grep -q "0 descriptors returned.*2 changed" "$TMP/out"
	check "changed: the server still works" [ "$(ping_rig "$ns" 7103 10)" = pong ]
}

# tracer_start VAR TID: another tracer, PTRACE_SEIZE (0x4206) from python, on the one thread
# TID (a pid is its main thread), holding on until killed; VAR gets its pid. Fails (its words
# in $TMP/tracer) if it could not seize.
tracer_start() {
	local i
	python3 -c 'import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(0x4206, int(sys.argv[1]), 0, 0) != 0:
	sys.exit("seize: errno %d" % ctypes.get_errno())
print("seized", flush=True)
time.sleep(600)' "$2" >"$TMP/tracer" 2>&1 &
	printf -v "$1" '%s' "$!"
	RIG_PIDS+=("$!")
	for ((i = 0; i < 1000; i++)); do
		grep -q seized "$TMP/tracer" 2>/dev/null && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.01
	done
	grep -q seized "$TMP/tracer"
}

# tracers PID: "TID:TRACERPID" for each thread of PID, sorted.
tracers() {
	local s
	for s in /proc/"$1"/task/*/status; do
		echo "$(basename "$(dirname "$s")"):$(awk '/^TracerPid/ {print $2}' "$s")"
	done | sort
}

# --- (d) a process another tracer holds is not touched: denied ------------------------------
test_denied() {
	local ns base tracer
	ns_new ns || { not_ok "denied: namespace"; return; }
	leak_start D "$ns" 7104 --nofile 64 || { not_ok "denied: rig"; return; }
	leak "$ns" 7104 2
	check "denied: 2 leaked" wait_for 20 leaked_is D 2
	base=$(fds "$D")
	if ! tracer_start tracer "$D"; then
		skipped "denied: cannot trace the rig from another process: $(cat "$TMP/tracer")"
		return
	fi
	expect_status 3 "denied: --close-fd on a traced process exits 3" \
		in_ns "$ns" "$SR" --close-fd --state close-wait --pid "$D" --yes --json --no-audit
	check "denied: each owner says denied (already-traced), fd_closed false" \
		[ "$(jq -c '[.sockets[].owners[] | [.fd_closed, .fd_result, .fd_why]] | unique' \
			"$TMP/out")" = '[[false,"denied","already-traced"]]' ]
	check "denied: the JSON summary says none was returned" \
		[ "$(jq '.summary.fds_closed' "$TMP/out")" = 0 ]
	check "denied: stderr says the process was not touched" \
		grep -q "already-traced.*not touched" "$TMP/err"
	check "denied: its fds are all still there" fds_are "$D" "$base"
	kill "$tracer"
	wait "$tracer" 2>/dev/null
	check "denied: the server still works" [ "$(ping_rig "$ns" 7104 10)" = pong ]
}

# --- (d2) only a thread other than the main one is traced: denied, already-traced too -------
# strace -p TID or gdb on one thread: the main thread's TracerPid is 0, the refusal comes from
# another thread; it must be named as such (not ptrace-eperm), and every thread seized before
# it let go again, none left stopped.
test_denied_thread() {
	local ns base tracer tid before
	ns_new ns || { not_ok "denied thread: namespace"; return; }
	leak_start E "$ns" 7115 --nofile 64 --threads 2 || { not_ok "denied thread: rig"; return; }
	leak "$ns" 7115 2
	check "denied thread: 2 leaked" wait_for 20 leaked_is E 2
	base=$(fds "$E")
	# The highest tid: a sleeper thread, seized after the main and server threads.
	tid=$(ls "/proc/$E/task" | sort -n | tail -n 1)
	if [ "$tid" = "$E" ] || ! tracer_start tracer "$tid"; then
		skipped "denied thread: cannot trace a thread of the rig: $(cat "$TMP/tracer")"
		return
	fi
	check "denied thread: the main thread itself is not traced" \
		[ "$(awk '/^TracerPid/ {print $2}' "/proc/$E/status")" = 0 ]
	before=$(tracers "$E")
	expect_status 3 "denied thread: --close-fd with one thread traced exits 3" \
		in_ns "$ns" "$SR" --close-fd --state close-wait --pid "$E" --yes --json --no-audit
	check "denied thread: each owner says denied (already-traced) ($(jq -c '[.sockets[].owners[] | .fd_why] | unique' "$TMP/out"))" \
		[ "$(jq -c '[.sockets[].owners[] | [.fd_closed, .fd_result, .fd_why]] | unique' \
			"$TMP/out")" = '[[false,"denied","already-traced"]]' ]
	check "denied thread: stderr says the process was not touched" \
		grep -q "already-traced.*not touched" "$TMP/err"
	check "denied thread: its fds are all still there" fds_are "$E" "$base"
	check "denied thread: every thread's tracer as before (only $tid's)" \
		[ "$(tracers "$E")" = "$before" ]
	check "denied thread: no thread left stopped" \
		[ -z "$(grep -l '^State:.*\(t (tracing stop)\|T (stopped)\)' /proc/$E/task/*/status)" ]
	check "denied thread: the main thread still gets its data" [ "$(say E "feed z")" = "got z" ]
	kill "$tracer"
	wait "$tracer" 2>/dev/null
	check "denied thread: the server still works" [ "$(ping_rig "$ns" 7115 10)" = pong ]
	check "denied thread: the sleepers were not woken early" \
		[ "$(say E sleepers)" = "sleepers 0" ]
}

# --- (e) usage: the owners must be named ----------------------------------------------------
test_usage() {
	expect_status 2 "usage: --close-fd without --pid/--comm/--unit" \
		"$SR" --close-fd --state close-wait --dry-run
	check "usage: it says what to add" grep -q -- "--pid, --comm or --unit" "$TMP/err"
	expect_status 2 "usage: --close-fd with --no-owners" \
		"$SR" --close-fd --no-owners --pid 1 --dry-run
}

# --- (f) doctor tries it on a child of its own -------------------------------------------------
test_doctor() {
	expect_status 0 "doctor: runs" "$SR" doctor --json
	check "doctor: --close-fd works here (root)" \
		[ "$(jq -r '.close_fd.status' "$TMP/out")" = works ]
	check "doctor: it reports ptrace_scope" \
		[ "$(jq '.sysctl | has("kernel.yama.ptrace_scope")' "$TMP/out")" = true ]
	expect_status 0 "doctor: text" "$SR" doctor
	check "doctor: the text has a --close-fd line" grep -q -- "--close-fd.*closed through ptrace" \
		"$TMP/out"
}

# --- (g) a sandboxed owner: seccomp denies close() --------------------------------------------
# trap: the filter answers close() with SIGSYS, whose default action kills the process; errno:
# close() fails with EPERM. Either way the fd stays, the result says so, and the process lives.
test_seccomp() {
	local how ns port=7105 base rig pid rc
	# A seccomp filter may answer our close() with an error, a SIGSYS, or the death of the
	# process (SECCOMP_RET_KILL_PROCESS); nothing here can tell which without reading the
	# filter, so a filtered process is not touched: denied, whatever its filter says.
	for how in errno trap kill; do
		rig=S_$how
		ns_new ns || { not_ok "seccomp $how: namespace"; return; }
		leak_start "$rig" "$ns" $port --nofile 64 --seccomp-close $how ||
			{ not_ok "seccomp $how: rig"; return; }
		pid=${!rig}
		leak "$ns" $port 2
		check "seccomp $how: 2 leaked" wait_for 20 leaked_is "$rig" 2
		base=$(fds "$pid")
		in_ns "$ns" timeout -k 5 60 "$SR" --close-fd --state close-wait --pid "$pid" --yes --json \
			--no-audit >"$TMP/out" 2>"$TMP/err"
		rc=$?
		check "seccomp $how: sockreap ends (exit $rc, 124: it hung)" [ "$rc" != 124 ]
		check "seccomp $how: the process is alive" kill -0 "$pid"
		check "seccomp $how: its fds are all still there" fds_are "$pid" "$base"
		check "seccomp $how: each owner says denied (seccomp-filter), fd_closed false" \
			[ "$(jq -c '[.sockets[].owners[] | [.fd_closed, .fd_result, .fd_why]] | unique' \
				"$TMP/out")" = '[[false,"denied","seccomp-filter"]]' ]
		check "seccomp $how: the main thread still gets its data" \
			[ "$(say "$rig" "feed x")" = "got x" ]
		port=$((port + 1))
	done
}

# --- (h) a stopped owner (SIGSTOP): its fds are returned, and it stays stopped -----------------
test_stopped() {
	local ns base
	ns_new ns || { not_ok "stopped: namespace"; return; }
	leak_start T "$ns" 7110 --nofile 64 || { not_ok "stopped: rig"; return; }
	leak "$ns" 7110 2
	check "stopped: 2 leaked" wait_for 20 leaked_is T 2
	base=$(fds "$T")
	kill -STOP "$T"
	check "stopped: the rig is stopped" wait_for 10 \
		bash -c "[ \"\$(awk '{print \$3}' /proc/$T/stat)\" = T ]"
	expect_status 0 "stopped: --close-fd on a stopped process" \
		in_ns "$ns" "$SR" --close-fd --state close-wait --pid "$T" --yes --json --no-audit
	check "stopped: both fds returned" fds_are "$T" $((base - 2))
	sleep 0.2
	check "stopped: it is still stopped (state T)" \
		[ "$(awk '{print $3}' "/proc/$T/stat")" = T ]
	kill -CONT "$T"
	check "stopped: continued, the main thread gets its data" [ "$(say T "feed y")" = "got y" ]
}

# --- (i) the owner is sockreap's own parent: a shell that waits for it ------------------------
# The shell holds a CLOSE_WAIT socket (a one-shot server closed its end) and runs sockreap on
# itself: the self guard keeps an ancestor's socket (exit 1) until --include-self; then the
# shell is interrupted in wait4 for our close, and resumes waiting.
test_parent() {
	local ns srv rc
	ns_new ns || { not_ok "parent: namespace"; return; }
	in_ns "$ns" python3 -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7111)); s.listen(1); print("up", flush=True)
c, _ = s.accept(); c.close(); s.close()' >"$TMP/srv" 2>&1 &
	srv=$!
	RIG_PIDS+=("$srv")
	wait_for 10 grep -q up "$TMP/srv" || { not_ok "parent: server"; return; }
	in_ns "$ns" bash -c 'exec 7<>/dev/tcp/127.0.0.1/7111 || exit 9
		for ((i = 0; i < 500; i++)); do
			ss -Htn state close-wait "dport = :$1" | grep -q . && break; sleep 0.01; done
		"$2" --close-fd --state close-wait --pid $$ --yes --no-audit; [ $? = 1 ] || exit 5
		[ -e /proc/$$/fd/7 ] || exit 4
		"$2" --close-fd --state close-wait --pid $$ --include-self --yes --no-audit || exit 7
		[ -e /proc/$$/fd/7 ] && exit 6
		echo "shell-alive"' sh 7111 "$SR" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' "$TMP/err"
	check "parent: the shell closed its own fd through sockreap and went on (exit $rc)" \
		grep -qx shell-alive "$TMP/out"
}

# --- (j) threads blocked in epoll_wait, sigwaitinfo, semop, a relative futex wait, nanosleep ---
# Every thread is stopped for the close: the calls with no timeout must go on waiting, not
# return EINTR (each answers a stop with a plain -EINTR, no restart); the relative waits must
# end after their full time, not sooner and not their time again from the stop (restart_syscall).
# blockrig_read VAR SECONDS NAME...: the rig's lines into $TMP/VAR.lines until each NAME has
# one (bounded: SECONDS per line).
blockrig_read() {
	local r="${1}_out" f="$TMP/$1.lines" t=$2 line n
	shift 2
	for n in "$@"; do
		while ! grep -q "^$n " "$f"; do
			read -r -t "$t" line <&"${!r}" || return 1
			echo "$line" >>"$f"
		done
	done
}
# blockrig_ms VAR NAME: how long NAME's call took, from those lines.
blockrig_ms() { awk -v n="$2" '$1 == n { sub("ms=", "", $4); print $4 }' "$TMP/$1.lines"; }
test_blocked() {
	local ns ms=3000 t0 spent f n w="${BLOCKRIG:-build/tests/blockrig}"
	ns_new ns || { not_ok "blocked: namespace"; return; }
	rig_spawn B ip netns exec "$ns" "$w" 7112 $ms || { not_ok "blocked: rig"; return; }
	t0=$(date +%s%N)
	: >"$TMP/B.lines"
	check "blocked: the main thread and its five are asleep" wait_for 10 \
		bash -c "[ \"\$(grep -l '^State:.*S (sleeping)' /proc/$B/task/*/status | wc -l)\" = 6 ]"
	# Stopped well into the timed waits: a wait started over would take 1 s more at least.
	sleep 1
	expect_status 0 "blocked: --close-fd --state close-wait --pid" \
		in_ns "$ns" "$SR" --close-fd --state close-wait --pid "$B" --yes --no-audit
	check "blocked: the socket fd is closed" \
		[ "$(ls -l /proc/$B/fd | grep -c socket)" = 1 ]
	blockrig_read B 10 futex nanosleep
	spent=$((($(date +%s%N) - t0) / 1000000))
	for f in futex nanosleep; do
		n=$(blockrig_ms B $f)
		check "blocked: the $ms ms $f ended on time (${n:-no answer} ms; ${spent} ms since the start)" \
			[ "${n:-0}" -ge $ms -a "${n:-0}" -lt $((ms + 1000)) ]
	done
	check "blocked: no untimed call was woken ($(grep -v '^futex\|^nanosleep' "$TMP/B.lines" | tr '\n' ' '))" \
		[ -z "$(grep -v '^futex\|^nanosleep' "$TMP/B.lines")" ]
	echo wake >&"$B_in"
	blockrig_read B 10 epoll sigwait semop
	check "blocked: woken, epoll_wait returns its event ($(grep '^epoll' "$TMP/B.lines"))" \
		grep -q '^epoll rc=1 errno=0' "$TMP/B.lines"
	check "blocked: woken, sigwaitinfo returns SIGUSR1 ($(grep '^sigwait' "$TMP/B.lines"))" \
		grep -q '^sigwait rc=10 errno=0' "$TMP/B.lines"
	check "blocked: woken, semop returns 0 ($(grep '^semop' "$TMP/B.lines"))" \
		grep -q '^semop rc=0 errno=0' "$TMP/B.lines"
	echo quit >&"$B_in"
}

# --- (k) the same threads in a process stopped by SIGSTOP: as SIGSTOP/SIGCONT alone ----------
# A stop of the process's own ends those untimed calls with EINTR (signal(7)); --close-fd in
# between must not change what they return: the answers, with and without it, are compared.
# blocked_stopped_run NS PORT [close]: the calls' "NAME rc errno" after STOP, (close,) CONT.
blocked_stopped_run() {
	local ns=$1 port=$2 w="${BLOCKRIG:-build/tests/blockrig}"
	rig_spawn S ip netns exec "$ns" "$w" "$port" 1000 || return 1
	: >"$TMP/S.lines"
	wait_for 10 bash -c "[ \"\$(grep -l '^State:.*S (sleeping)' /proc/$S/task/*/status | wc -l)\" = 6 ]" ||
		return 1
	kill -STOP "$S"
	wait_for 10 bash -c "[ \"\$(awk '{print \$3}' /proc/$S/stat)\" = T ]" || return 1
	if [ "${3:-}" = close ]; then
		in_ns "$ns" "$SR" --close-fd --state close-wait --pid "$S" --yes --no-audit \
			>/dev/null 2>&1 || return 1
		[ "$(ls -l /proc/$S/fd | grep -c socket)" = 1 ] || return 1
	fi
	kill -CONT "$S"
	blockrig_read S 10 futex nanosleep || return 1
	echo wake >&"$S_in"
	blockrig_read S 10 epoll sigwait semop || return 1
	echo quit >&"$S_in"
	# The next run's rig takes the same name.
	exec {S_in}>&- {S_out}<&-
	rm -f "$TMP/S.in" "$TMP/S.out"
	awk '{ sub("rc=", "", $2); print $1, $2, $3 }' "$TMP/S.lines" | sort
}
test_blocked_stopped() {
	local ns alone closed
	ns_new ns || { not_ok "blocked stopped: namespace"; return; }
	alone=$(blocked_stopped_run "$ns" 7113) || { not_ok "blocked stopped: without --close-fd"; return; }
	closed=$(blocked_stopped_run "$ns" 7114 close) ||
		{ not_ok "blocked stopped: with --close-fd (the fd closed)"; return; }
	check "blocked stopped: each call ends as after SIGSTOP/SIGCONT alone ($(echo $closed))" \
		[ "$alone" = "$closed" ]
}

# CLOSEFD_TESTS="test_changed ..." runs only those (while working on one).
ALL_TESTS="test_usage test_recover test_forked test_changed test_denied test_denied_thread test_seccomp test_stopped
	test_parent test_blocked test_blocked_stopped test_doctor"
for t in ${CLOSEFD_TESTS:-$ALL_TESTS}; do
	"$t"
done
