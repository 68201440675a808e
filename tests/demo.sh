#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job on a built-in scenario: a throwaway namespace where a leaky server holds
# CLOSE_WAIT sockets next to healthy ESTABLISHED ones; preview, kill, outcome, audit, clean up.
cd "$(dirname "$0")/.." || exit 1
SR=$PWD/sockreap
RIG=$PWD/build/tests/sockrig

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root to create a network namespace: sudo make demo" >&2
	exit 1
fi
NS="sockreap-demo-$$"
TMP=$(mktemp -d /tmp/sockreap-demo.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up

start() { # start VAR ARGS: a rig in the namespace, held open by a FIFO on stdin; VAR = its pid
	mkfifo "$TMP/$1.in"
	ip netns exec "$NS" "$RIG" "${@:2}" <"$TMP/$1.in" >"$TMP/$1.out" &
	PIDS+=($!)
	exec {fd}>"$TMP/$1.in"
	for _ in $(seq 100); do grep -q ready "$TMP/$1.out" 2>/dev/null && break; sleep 0.1; done
	printf -v "$1" '%s' "$(sed -n 's/^ready //p' "$TMP/$1.out")"
	[ -n "${!1}" ] || { echo "demo: the $1 server did not start" >&2; exit 1; }
}
# Bold headings on a terminal only: a pipe or a log file gets no escape codes.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# sr OUT ARGS...: says the command exactly as run (./sockreap, inside the demo's namespace),
# runs it with stdout to $TMP/OUT.out and stderr to $TMP/OUT.err; status gets its exit status.
sr() {
	local out=$1
	shift
	echo "\$ ip netns exec $NS ./sockreap $*"
	ip netns exec "$NS" "$SR" "$@" >"$TMP/$out.out" 2>"$TMP/$out.err"
	status=$?
}
count() { ip netns exec "$NS" ss -tanH state "$1" | wc -l; }

step "A leaky server on :5432 never closes what its clients closed; a healthy one serves :8080"
start LEAKY -p 5432 -n 40 close-wait
start HEALTHY -p 8080 -n 10 established
echo "leaky server: pid $LEAKY    healthy server: pid $HEALTHY    (namespace $NS)"
echo "kernel's view: $(count close-wait) close-wait, $(count established) established"

step "1. Preview: exactly what would be killed (touches nothing)"
sr preview --dry-run --state close-wait --pid "$LEAKY"
head -6 "$TMP/preview.out"
echo "..."
cat "$TMP/preview.err"
echo "(exit $status)"

step "2. Kill them (by socket cookie, with an audit trail)"
sr kill --yes --audit-log "$TMP/audit.log" --state close-wait --pid "$LEAKY"
head -4 "$TMP/kill.out"
echo "..."
cat "$TMP/kill.err"
echo "(exit $status)"

step "3. Outcome: the stuck sockets are gone, the healthy ones untouched"
echo "kernel's view: $(count close-wait) close-wait, $(count established) established"

step "4. The audit trail ($TMP/audit.log, mode $(stat -c %a "$TMP/audit.log"))"
echo "The run's first and last records, whole, as written (one JSON line each):"
grep -m1 '"event":"start"' "$TMP/audit.log"
grep -m1 '"event":"summary"' "$TMP/audit.log"
if command -v jq >/dev/null; then
	echo "Each socket's intent (before acting) joined with its result, read with jq:"
	# The intent carries each socket, the result its outcome; the cookie joins them.
	jq -c -s '(map(select(.event=="result") | .outcome as $o | .cookies[] | {key: ., value: $o})
		| from_entries) as $out | .[] | select(.event=="intent") | .sockets[]
		| {cookie, state, local, owner: .owners[0], outcome: $out[.cookie]}' "$TMP/audit.log" | head -2
	echo "... $(jq -s '[.[] | select(.event=="result") | .cookies[]] | length' "$TMP/audit.log") results"
fi

step "Cleaning up: namespace $NS removed"
cat <<EOF

Next, on this machine (as root, or see PRIVILEGES in man ./man/sockreap.8):
  ./sockreap doctor                          which engines work here, and why
  ./sockreap --dry-run --state stuck         every stuck socket, with its owner
  ./sockreap --explain 'state close-wait and dport eq 5432'
  man ./man/sockreap.8                       the selector language, outcomes, audit
EOF
