# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the watch tests (test_watch*.sh), sourced after lib.sh: watchers they start and stop
# by pid, and bounded waits on a watcher's metrics file (lib.sh has wait_grep and wait_for).

WATCHERS=()
stop_watchers() {
	local p
	for p in "${WATCHERS[@]}"; do
		kill "$p" 2>/dev/null
	done
	cleanup
}
trap stop_watchers EXIT

# watcher VAR NS ARGS...: sockreap watch in namespace NS ("": here, in ours), with the
# environment words of TRACK_ENV added; its output in $TMP/VAR.out and .err; VAR gets its pid.
watcher() {
	local var=$1 ns=$2
	shift 2
	if [ -n "$ns" ]; then
		ip netns exec "$ns" env ${TRACK_ENV:-} "$SR" watch "$@" >"$TMP/$var.out" \
			2>"$TMP/$var.err" &
	else
		env ${TRACK_ENV:-} "$SR" watch "$@" >"$TMP/$var.out" 2>"$TMP/$var.err" &
	fi
	WATCHERS+=($!)
	printf -v "$var" '%s' "$!"
}

# stop PID: SIGTERM, then STOPPED gets its exit status (bounded wait; "timeout" if none).
stop() {
	kill -TERM "$1"
	if ! wait_exit "$1"; then
		STOPPED=timeout
		return
	fi
	wait "$1"
	STOPPED=$?
}

# metric FILE NAME: the value of NAME in the metrics FILE (empty if none).
metric() {
	awk -v n="$2" '$1 == n { print $2 }' "$1" 2>/dev/null
}

# cycles FILE: the cycles the metrics FILE counts now.
cycles() {
	metric "$1" sockreap_watch_cycles_total
}

# cycles_done FILE N: bounded (60 s) until the metrics FILE says N cycles or more.
cycles_done() {
	local i c
	for ((i = 0; i < 600; i++)); do
		c=$(cycles "$1")
		[ -n "$c" ] && [ "$c" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# cycles_more FILE N: bounded until N more cycles than now are done.
cycles_more() {
	local c
	c=$(cycles "$1")
	cycles_done "$1" $((${c:-0} + $2))
}
