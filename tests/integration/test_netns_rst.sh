#!/usr/bin/env bash
# Runs over several network namespaces: the run lock taken in every namespace a run acts in.
# Namespaces: named ones, and "home", where sockreap starts; never the machine's own.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns netns_rst

# rig_start_unshared VAR ARGS...: sockrig in a new unnamed network namespace (lo up).
rig_start_unshared() {
	local var=$1
	shift
	rig_spawn "$var" unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$RIG" "$@"
}

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

# wait_for FILE PATTERN: polls (bounded) until FILE has a line matching PATTERN.
wait_for() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
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
		wait_for "$TMP/lock1.err" "waiting for another run acting in network namespace $hi"
	in_ns "$lo" "$SR" --engine rst --yes --no-audit --state close-wait --sport 7720 \
		>"$TMP/lock2.out" 2>"$TMP/lock2.err" &
	qpid=$!
	check "lock: a run inside lo waits for the two-namespace run (its pid)" \
		wait_for "$TMP/lock2.err" "waiting for another run acting in this network namespace (pid $spid,"
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

# SR_TESTS="lock vanish" runs only those.
for t in ${SR_TESTS:-lock}; do
	"test_$t"
done
