#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The rst engine across several network namespaces in one run (its raw, capture and route
# sockets opened inside each), the run lock taken in every namespace a run acts in, and a
# namespace deleted while a run waits for its confirmation. Namespaces: two named ones, an
# unnamed one (a process under unshare -n, reachable only through /proc/PID/ns/net), and
# "home", where sockreap starts; never the machine's own.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

SHIM=${FAILDUMP:-build/tests/faildump.so}
require_netns netns_rst

# where NS|pid:PID CMD...: runs CMD in a named namespace or in a pid's.
where() {
	local w=$1
	shift
	if [ "${w#pid:}" != "$w" ]; then nsenter -t "${w#pid:}" -n "$@"; else in_ns "$w" "$@"; fi
}

# count WHERE STATE FILTER: TCP sockets listed in that state for an ss filter.
count() {
	where "$1" ss -tanH state "$2" "$3" | wc -l
}

# settled WHERE STATE FILTER N: waits (bounded) until N such sockets are listed.
settled() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(count "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.01
	done
	echo "settled: $4 $2 ($3) expected in $1, $(count "$1" "$2" "$3") listed" >&2
	return 1
}

ns_inode() {
	stat -L -c %i "$1"
}

# lock_holder VAR NS: a process in NS holding the run lock the way a run does (the abstract
# unix name sockreap/act, listening) until its input ends.
lock_holder() {
	rig_spawn "$1" ip netns exec "$2" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0sockreap/act")
s.listen(1)
print("ready", os.getpid(), flush=True)
sys.stdin.read()'
}

# --- rst in three namespaces: close-wait, healthy established and time-wait in each ----------
test_three() {
	local home a b json log="$TMP/three.log" ia ib iu w rep sel
	ns_new home || { not_ok "three: home namespace"; return; }
	ns_new a || { not_ok "three: namespace a"; return; }
	ns_new b || { not_ok "three: namespace b"; return; }
	rig_start HC "$home" -p 7700 -n 2 close-wait || { not_ok "three: home rig"; return; }
	rig_start AC "$a" -p 7700 -n 3 close-wait || { not_ok "three: rig AC"; return; }
	rig_start BC "$b" -p 7700 -n 4 close-wait || { not_ok "three: rig BC"; return; }
	rig_start_unshared UC -p 7700 -n 2 close-wait || { not_ok "three: rig UC"; return; }
	rig_start AE "$a" -p 7701 -n 2 established || { not_ok "three: rig AE"; return; }
	rig_start BE "$b" -p 7701 -n 2 established || { not_ok "three: rig BE"; return; }
	# The unnamed namespace's other rigs join UC's namespace: it has no name to start them in.
	rig_spawn UE nsenter -t "$UC" -n "$RIG" -p 7701 -n 2 established || { not_ok "three: rig UE"; return; }
	rig_start AT "$a" -p 7702 -n 2 time-wait || { not_ok "three: rig AT"; return; }
	rig_start BT "$b" -p 7702 -n 1 time-wait || { not_ok "three: rig BT"; return; }
	rig_spawn UT nsenter -t "$UC" -n "$RIG" -p 7702 -n 3 time-wait || { not_ok "three: rig UT"; return; }
	rig_start HT "$home" -p 7702 -n 2 time-wait || { not_ok "three: home rig HT"; return; }
	for w in "$a 3 2" "$b 4 1" "pid:$UC 2 3" "$home 2 2"; do
		set -- $w
		settled "$1" close-wait "sport = :7700" "$2" && settled "$1" time-wait "dport = :7702" "$3" ||
			{ not_ok "three: rigs did not settle in $1"; return; }
	done
	ia=$(ns_inode "/run/netns/$a")
	ib=$(ns_inode "/run/netns/$b")
	iu=$(ns_inode "/proc/$UC/ns/net")
	sel='(state close-wait and sport 7700) or (state time-wait and dport 7702)'

	expect_status 0 "three: kill --netns a --netns b --netns-of unnamed --engine rst" \
		in_ns "$home" "$SR" --netns "$a" --netns "$b" --netns-of "$UC" --engine rst --yes \
		--json --audit-log "$log" "$sel"
	json=$TMP/out
	# Per namespace: "inode:killed", from the per-socket outcomes.
	check "three: 3+2 killed in a, 4+1 in b, 2+3 in the unnamed one, all by rst" \
		[ "$(jq -r '[.sockets[] | select(.outcome == "killed" and .engine == "rst") | .netns.inode]
			| group_by(.) | map("\(.[0]):\(length)") | sort | join(" ")' "$json")" = \
		  "$(printf '%s\n' "$ia:5" "$ib:5" "$iu:5" | sort | tr '\n' ' ' | sed 's/ $//')" ]
	check "three: 15 selected, 15 killed" \
		[ "$(jq -r '"\(.summary.selected) \(.summary.killed)"' "$json")" = "15 15" ]
	for w in "a:$a" "b:$b" "unnamed:pid:$UC"; do
		check "three: no close-wait or time-wait left in ${w%%:*}" \
			[ "$(count "${w#*:}" close-wait "sport = :7700")$(count "${w#*:}" time-wait "dport = :7702")" = 00 ]
	done
	check "three: home's close-wait untouched" [ "$(count "$home" close-wait "sport = :7700")" = 2 ]
	check "three: home's time-wait untouched" [ "$(count "$home" time-wait "dport = :7702")" = 2 ]
	for w in AC:3 BC:4 UC:2; do
		rep=$(rig_report "${w%:*}")
		check "three: ${w%:*} saw its ${w#*:} closed ($rep)" \
			[ "${rep#held=${w#*:} closed=${w#*:} }" != "$rep" ]
	done
	for w in AE BE UE; do
		rep=$(rig_report "$w")
		check "three: $w's established untouched ($rep)" \
			[ "$rep" = "held=4 closed=0 eof=0 ECONNABORTED=0 ECONNRESET=0 EAGAIN=4 other=0" ]
	done
	check "three: the audit results say killed for all 15" \
		[ "$(jq -s '[.[] | select(.event=="result") | select(.outcome=="killed") | .cookies | length] | add' "$log")" = 15 ]
}

# --- auto across namespaces where the kernel cannot destroy: rst in each ------------------------
# faildump.so's SR_NO_DESTROY makes every destroy find nothing and answer EOPNOTSUPP, as a kernel
# without CONFIG_INET_DIAG_DESTROY does.
test_auto() {
	local home a json ia iu rep
	if [ ! -f "$SHIM" ]; then
		not_ok "auto: $SHIM is not built"
		return
	fi
	ns_new home || { not_ok "auto: home namespace"; return; }
	ns_new a || { not_ok "auto: namespace a"; return; }
	rig_start FA "$a" -p 7740 -n 3 close-wait || { not_ok "auto: rig FA"; return; }
	rig_start_unshared FU -p 7740 -n 2 close-wait || { not_ok "auto: rig FU"; return; }
	rig_start FE "$a" -p 7741 -n 2 established || { not_ok "auto: rig FE"; return; }
	settled "$a" close-wait "sport = :7740" 3 && settled "pid:$FU" close-wait "sport = :7740" 2 ||
		{ not_ok "auto: rigs did not settle"; return; }
	ia=$(ns_inode "/run/netns/$a")
	iu=$(ns_inode "/proc/$FU/ns/net")
	# The shim is preloaded before the sanitizer runtime: let ASan accept that (as test_engines.sh).
	local ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export ASAN_OPTIONS
	expect_status 0 "auto: kill --netns a --netns-of unnamed, no SOCK_DESTROY (shim)" \
		in_ns "$home" env SR_NO_DESTROY=1 LD_PRELOAD="$PWD/$SHIM" "$SR" --netns "$a" \
		--netns-of "$FU" --yes --json --no-audit --state close-wait --sport 7740
	json=$TMP/out
	check "auto: 3 in a and 2 in the unnamed one killed, each by rst" \
		[ "$(jq -r '[.sockets[] | "\(.netns.inode):\(.outcome):\(.engine)"] | group_by(.) | map("\(.[0])x\(length)") | sort | join(" ")' "$json")" = \
		  "$(printf '%s\n' "$ia:killed:rstx3" "$iu:killed:rstx2" | sort | tr '\n' ' ' | sed 's/ $//')" ]
	check "auto: says it fell back" grep -q "(auto: destroy 0, rst 5[;,]" "$TMP/err"
	check "auto: none left" \
		[ "$(count "$a" close-wait "sport = :7740") $(count "pid:$FU" close-wait "sport = :7740")" = "0 0" ]
	rep=$(rig_report FE)
	check "auto: a's established untouched ($rep)" [ "${rep#held=4 closed=0 }" != "$rep" ]
}

# --- tcp_rfc1337 is each namespace's own: read there, not where sockreap started --------------
test_rfc1337() {
	local home a b ia ib
	ns_new home || { not_ok "rfc1337: home namespace"; return; }
	ns_new a || { not_ok "rfc1337: namespace a"; return; }
	ns_new b || { not_ok "rfc1337: namespace b"; return; }
	in_ns "$home" sysctl -qw net.ipv4.tcp_rfc1337=1 && in_ns "$b" sysctl -qw net.ipv4.tcp_rfc1337=1 ||
		{ skipped "rfc1337: cannot set net.ipv4.tcp_rfc1337 per namespace"; return; }
	rig_start RA "$a" -p 7710 -n 2 time-wait || { not_ok "rfc1337: rig RA"; return; }
	rig_start RB "$b" -p 7710 -n 2 time-wait || { not_ok "rfc1337: rig RB"; return; }
	settled "$a" time-wait "dport = :7710" 2 && settled "$b" time-wait "dport = :7710" 2 ||
		{ not_ok "rfc1337: rigs did not settle"; return; }
	ia=$(ns_inode "/run/netns/$a")
	ib=$(ns_inode "/run/netns/$b")
	expect_status 3 "rfc1337: rst over a (rfc1337=0) and b (=1), from home (=1)" \
		in_ns "$home" "$SR" --netns "$a" --netns "$b" --engine rst --yes --json --no-audit \
		--state time-wait --dport 7710
	check "rfc1337: a's 2 killed, b's 2 left alone for rfc1337" \
		[ "$(jq -r '[.sockets[] | "\(.netns.inode):\(.outcome)"] | group_by(.) | map("\(.[0])x\(length)") | sort | join(" ")' "$TMP/out")" = \
		  "$(printf '%s\n' "$ia:killedx2" "$ib:unsupportedx2" | sort | tr '\n' ' ' | sed 's/ $//')" ]
	check "rfc1337: says why" grep -q "tcp_rfc1337=1" "$TMP/err"
	check "rfc1337: none left in a, 2 in b" \
		[ "$(count "$a" time-wait "dport = :7710") $(count "$b" time-wait "dport = :7710")" = "0 2" ]
}

# --- the run lock is each namespace's: a run over two, and a run inside one of them ------------
# A holder in the namespace with the higher inode (hi) makes a two-namespace run take lo's lock
# and wait for hi's; a run started inside lo (as `ip netns exec lo sockreap` would be) must wait
# for it, and neither acts before the holder lets go.
test_lock() {
	local home x y lo hi spid qpid rc rc2 i
	ns_new home || { not_ok "lock: home namespace"; return; }
	ns_new x || { not_ok "lock: namespace x"; return; }
	ns_new y || { not_ok "lock: namespace y"; return; }
	if [ "$(ns_inode "/run/netns/$x")" -lt "$(ns_inode "/run/netns/$y")" ]; then
		lo=$x hi=$y
	else
		lo=$y hi=$x
	fi
	rig_start LL "$lo" -p 7720 -n 2 close-wait || { not_ok "lock: rig in lo"; return; }
	rig_start LH "$hi" -p 7720 -n 2 close-wait || { not_ok "lock: rig in hi"; return; }
	settled "$lo" close-wait "sport = :7720" 2 && settled "$hi" close-wait "sport = :7720" 2 ||
		{ not_ok "lock: rigs did not settle"; return; }
	lock_holder HOLD "$hi" || { not_ok "lock: holder"; return; }

	# nsenter execs sockreap itself (ip netns exec forks): $! is the pid a waiter is told of.
	nsenter --net="/run/netns/$home" "$SR" --netns "$lo" --netns "$hi" --engine destroy --yes \
		--no-audit --state close-wait --sport 7720 >"$TMP/lock1.out" 2>"$TMP/lock1.err" &
	spid=$!
	check "lock: the two-namespace run waits for the lock in hi" \
		wait_grep "$TMP/lock1.err" "waiting for another run acting in network namespace $hi"
	in_ns "$lo" "$SR" --engine rst --yes --no-audit --state close-wait --sport 7720 \
		>"$TMP/lock2.out" 2>"$TMP/lock2.err" &
	qpid=$!
	check "lock: a run inside lo waits for the two-namespace run (its pid)" \
		wait_grep "$TMP/lock2.err" "waiting for another run acting in this network namespace (pid $spid,"
	check "lock: while they wait, nothing is killed in lo or hi" \
		[ "$(count "$lo" close-wait "sport = :7720") $(count "$hi" close-wait "sport = :7720")" = "2 2" ]
	kill "$HOLD"
	wait "$spid"
	rc=$?
	wait "$qpid"
	rc2=$?
	check "lock: the two-namespace run exits 0 once the holder lets go (exit $rc)" [ "$rc" = 0 ]
	check "lock: it killed all 4" grep -q "4 selected: 4 killed" "$TMP/lock1.err"
	check "lock: the run inside lo acted after it (exit $rc2)" [ "$rc2" = 0 ]
	check "lock: and found its 2 gone" grep -q "2 selected: 0 killed, 2 gone" "$TMP/lock2.err"
	check "lock: none left" \
		[ "$(count "$lo" close-wait "sport = :7720") $(count "$hi" close-wait "sport = :7720")" = "0 0" ]
}

# --- the run lock held by another user: named and ignored, not waited for 60 s ----------------
# Anyone may bind the abstract name sockreap/act. A holder that is neither root nor the caller
# is ignored at once: in one namespace, whether its owner comes from sock_diag or SO_PEERCRED;
# over several, from each namespace's sock_diag (a datagram socket of the same name, another
# name to the kernel, must not be taken for the holder). A root holder is still waited for
# (test_lock).
nobody_python() {
	local p
	for p in /usr/bin/python3 "$(command -v python3)"; do
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$p" -c '' 2>/dev/null &&
			{ echo "$p"; return 0; }
	done
	return 1
}

test_lock_users() {
	local home x y py t0 ms rc nobody
	if ! command -v setpriv >/dev/null || ! py=$(nobody_python); then
		skipped "lock users: no setpriv or no python3 that nobody may run"
		return
	fi
	nobody=$(id -u nobody)
	ns_new home || { not_ok "lock users: home namespace"; return; }
	ns_new x || { not_ok "lock users: namespace x"; return; }
	ns_new y || { not_ok "lock users: namespace y"; return; }
	rig_start UX "$x" -p 7740 -n 2 close-wait || { not_ok "lock users: rig in x"; return; }
	rig_start UY "$y" -p 7740 -n 3 close-wait || { not_ok "lock users: rig in y"; return; }
	settled "$x" close-wait "sport = :7740" 2 && settled "$y" close-wait "sport = :7740" 3 ||
		{ not_ok "lock users: rigs did not settle"; return; }
	local holder='
import os, socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "dgram" else socket.SOCK_STREAM
s = socket.socket(socket.AF_UNIX, kind)
s.bind("\0sockreap/act")
if kind == socket.SOCK_STREAM:
    s.listen(1)
print("ready", os.getpid(), flush=True)
sys.stdin.read()'
	rig_spawn NX ip netns exec "$x" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$py" -c "$holder" stream || { not_ok "lock users: nobody's holder in x"; return; }
	rig_spawn NY ip netns exec "$y" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$py" -c "$holder" stream || { not_ok "lock users: nobody's holder in y"; return; }
	rig_spawn DY ip netns exec "$y" "$py" -c "$holder" dgram ||
		{ not_ok "lock users: root's datagram decoy in y"; return; }

	t0=$(date +%s%N)
	expect_status 0 "lock users: a root run in x, nobody holds the lock there" \
		in_ns "$x" "$SR" --engine destroy --yes --no-audit --state close-wait --sport 7740
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "lock users: it did not wait ($ms ms < 10 s)" [ "$ms" -lt 10000 ]
	check "lock users: it names the holder's uid and ignores it" \
		grep -qx "sockreap: warning: the run lock is held by uid $nobody, not root: ignored" "$TMP/err"
	check "lock users: it killed x's 2" grep -q "2 selected: 2 killed" "$TMP/err"

	t0=$(date +%s%N)
	expect_status 0 "lock users: a root run over x and y (nobody holds the lock in y)" \
		in_ns "$home" "$SR" --netns "$y" --netns "$x" --engine destroy --yes --no-audit \
		--state close-wait --sport 7740
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "lock users: it did not wait either ($ms ms < 10 s)" [ "$ms" -lt 10000 ]
	check "lock users: it names y and the uid" \
		grep -qx "sockreap: warning: network namespace $y: the run lock is held by uid $nobody, not root: ignored" "$TMP/err"
	check "lock users: it killed y's 3" grep -q "3 selected: 3 killed" "$TMP/err"
	check "lock users: none left" \
		[ "$(count "$x" close-wait "sport = :7740") $(count "$y" close-wait "sport = :7740")" = "0 0" ]
}

# --- a namespace deleted while the run waits for its confirmation (rst) ------------------------
# One named namespace loses its processes and its name, one unnamed one its processes; our
# sockets keep both namespaces themselves alive, so the kill goes through their handles as
# planned: their sockets end "gone", the third namespace's are killed, exit 0. A fourth, with
# nothing selected, keeps none of our sockets but the sock_diag ones while the prompt waits.
test_vanish() {
	local home a c idle v log="$TMP/vanish.log" spid rc i ia ic iu
	if ! command -v script >/dev/null; then
		skipped "vanish: script(1) is not installed (util-linux): no terminal to confirm on"
		return
	fi
	ns_new home || { not_ok "vanish: home namespace"; return; }
	ns_new a || { not_ok "vanish: namespace a"; return; }
	ns_new c || { not_ok "vanish: namespace c"; return; }
	ns_new idle || { not_ok "vanish: namespace idle"; return; }
	rig_start VA "$a" -p 7730 -n 2 close-wait || { not_ok "vanish: rig VA"; return; }
	rig_start VC "$c" -p 7730 -n 2 close-wait || { not_ok "vanish: rig VC"; return; }
	rig_start_unshared VU -p 7730 -n 3 close-wait || { not_ok "vanish: rig VU"; return; }
	settled "$a" close-wait "sport = :7730" 2 && settled "$c" close-wait "sport = :7730" 2 &&
		settled "pid:$VU" close-wait "sport = :7730" 3 || { not_ok "vanish: rigs did not settle"; return; }
	ia=$(ns_inode "/run/netns/$a")
	ic=$(ns_inode "/run/netns/$c")
	iu=$(ns_inode "/proc/$VU/ns/net")
	mkfifo "$TMP/answer"
	in_ns "$home" script -qec "$SR --netns $a --netns $c --netns-of $VU --netns $idle --engine rst --audit-log $log --state close-wait --sport 7730" \
		/dev/null <"$TMP/answer" >"$TMP/vanish.out" 2>&1 &
	spid=$!
	exec {v}<>"$TMP/answer"
	wait_grep "$TMP/vanish.out" "Kill 7 sockets?"
	check "vanish: the preview asks about 7 sockets in three namespaces" grep -q "Kill 7 sockets?" "$TMP/vanish.out"
	# While it asks: each namespace acted in holds our capture socket, the idle one (nothing
	# selected there) none: what was opened for it is closed before the prompt.
	check "vanish: while it asks, a holds our capture socket" \
		[ "$(in_ns "$a" ss -0 -a -p | grep -c '"sockreap"')" = 1 ]
	check "vanish: while it asks, the idle namespace holds none of our sockets" \
		[ "$(in_ns "$idle" ss -0 -a -p | grep -c '"sockreap"')$(in_ns "$idle" ss -x -a -p | grep -c '"sockreap"')" = 00 ]
	kill "$VU" "$VC"
	wait_exit "$VU" "$VC"
	ip netns del "$c"
	check "vanish: c's name is deleted" [ ! -e "/run/netns/$c" ]
	echo y >&"$v"
	wait "$spid"
	rc=$?
	exec {v}>&-
	check "vanish: exit 0 (every socket handled: killed or gone; exit $rc)" [ "$rc" = 0 ]
	outcomes() { audit_outcomes "$log" "$1"; }
	check "vanish: the deleted named namespace's 2 sockets are gone ($(outcomes "$ic"))" [ "$(outcomes "$ic")" = "2 gone" ]
	check "vanish: the unnamed one's 3 are gone ($(outcomes "$iu"))" [ "$(outcomes "$iu")" = "3 gone" ]
	check "vanish: a's 2 are killed ($(outcomes "$ia"))" [ "$(outcomes "$ia")" = "2 killed" ]
	check "vanish: none left in a" [ "$(count "$a" close-wait "sport = :7730")" = 0 ]
}

# SR_TESTS="lock vanish" runs only those.
for t in ${SR_TESTS:-three auto rfc1337 lock lock_users vanish}; do
	"test_$t"
done
