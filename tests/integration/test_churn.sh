#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 4-tuple churn (issue 10): connections that close and come back on the same 4-tuple (a client
# reusing its source ports) while sockreap kills the planned ones. Every kill must land on a
# planned cookie, and no socket the churn replaced may be reported `killed`. churnrig holds the
# connections in a namespace of our own (loopback only) and tells by cookie which ends it closed
# itself and which were killed from outside; sockreap's JSON says what was planned and how each
# planned socket ended.
#
# Short form (make check): each engine for at least CHURN_MIN_RUNS (8) kill runs and until
# CHURN_MIN_EVENTS (600) reuse events happened while sockreap ran (a stale identity is hit in
# the engine's short act phase, so the runs count, not only the events). Long form (make bench,
# row 7): CHURN_MIN_EVENTS=10000 CHURN_BENCH=1 also prints one markdown row per engine.
# CHURN_ENGINES ("destroy rst"), CHURN_RATE (3000 reuse events/s), CHURN_N (200 connections),
# CHURN_MAX_RUNS (40 kill runs per engine), CHURN_SECONDS (60: the churn's own time limit).
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

CHURNRIG=${CHURNRIG:-build/tests/churnrig}
ENGINES=${CHURN_ENGINES:-destroy rst}
MIN_EVENTS=${CHURN_MIN_EVENTS:-600}
MIN_RUNS=${CHURN_MIN_RUNS:-8}
MAX_RUNS=${CHURN_MAX_RUNS:-40}
RATE=${CHURN_RATE:-3000}
N=${CHURN_N:-200}
BENCH=${CHURN_BENCH:-}
CHURN_SECONDS=${CHURN_SECONDS:-60}
PORT=7700
CPORT=20000
SELECTOR="state established and sport = :$PORT"
require_netns churn

# churn_cmd VAR CMD: one command to the rig started as VAR, its one-line answer.
churn_cmd() {
	local w="${1}_in" r="${1}_out" line
	echo "$2" >&"${!w}"
	read -r -t 30 line <&"${!r}"
	echo "$line"
}

# wait_live VAR: until every slot has a live connection again (the last kill took some), 10 s.
wait_live() {
	local deadline=$((SECONDS + 10)) line
	while [ "$SECONDS" -lt "$deadline" ]; do
		line=$(churn_cmd "$1" count)
		[ "${line##* }" = "$N" ] && return 0
		sleep 0.02
	done
	return 1
}

# The figures of one engine's runs, from the rig's report and every run's sockreap JSON.
# Wrong kills: server ends killed from outside that no plan named; client ends killed from
# outside unless their server end was planned and reported killed by an engine that resets the
# peer (destroy's abort sends the peer an RST; rst says peer_reset). False outcomes: planned
# sockets reported killed that the rig had closed itself. Replaced: planned sockets the rig
# closed before sockreap acted (the churn overlapped the kill).
figures() {
	local report=$1
	shift
	jq -n -r --slurpfile rep "$report" --slurpfile runs <(cat "$@") '
		$rep[0] as $r
		| ([$runs[] | .sockets[]] | INDEX(.cookie)) as $plan
		| ($r.closed | map({(.): true}) | add // {}) as $closed
		| [$r.killed[] | select(.end == "server" and $plan[.cookie] == null)] as $ws
		| [$r.killed[] | select(.end == "client")
			| ($plan[.server] // {}) as $p
			| select($p.outcome != "killed" or
				($p.engine != "destroy" and ($p.peer_reset | not)))] as $wc
		| [$plan[] | select($closed[.cookie])] as $repl
		| [$repl[] | select(.outcome == "killed")] as $fo
		| [($ws | length), ($wc | length), ($fo | length), ($repl | length),
		   ([$repl[] | select(.outcome == "changed")] | length),
		   ([$repl[] | select(.outcome == "gone")] | length), ($plan | length),
		   $r.connect_errors, $r.raced, $r.late_resets] | map(tostring) | join(" ")'
}

churn_engine() {
	local e=$1 ns runs=0 window=0 statuses="" before after rc rig="churn_$1"
	local files=() ws wc fo repl changed gone planned cerr raced late

	ns_new ns || { not_ok "churn $e: cannot create a namespace"; return; }
	if ! RIG=$CHURNRIG rig_start "$rig" "$ns" -p "$PORT" -c "$CPORT" -n "$N" -r "$RATE" \
		-t "$CHURN_SECONDS"; then
		not_ok "churn $e: churnrig did not start"
		return
	fi
	if [ "$(churn_cmd "$rig" go)" != going ]; then
		not_ok "churn $e: churnrig did not start churning"
		return
	fi
	# Kill runs until enough of them, with enough reuse events inside them: a kill faster
	# than the churn proves nothing, so it cannot pass.
	while [ "$window" -lt "$MIN_EVENTS" -o "$runs" -lt "$MIN_RUNS" ] &&
		[ "$runs" -lt "$MAX_RUNS" ]; do
		if ! wait_live "$rig"; then
			not_ok "churn $e: the rig did not reconnect its $N slots in 10 s"
			break
		fi
		before=$(churn_cmd "$rig" count)
		in_ns "$ns" "$SR" --yes --json --engine "$e" --audit-log "$TMP/audit-$e.$runs.log" \
			"$SELECTOR" >"$TMP/run-$e.$runs.json" 2>"$TMP/err-$e.$runs"
		rc=$?
		after=$(churn_cmd "$rig" count)
		before=${before#reuse } after=${after#reuse }
		before=${before%% *} after=${after%% *}
		if ! [[ $before =~ ^[0-9]+$ && $after =~ ^[0-9]+$ ]]; then
			not_ok "churn $e: churnrig stopped answering"
			break
		fi
		window=$((window + after - before))
		statuses+="$rc "
		files+=("$TMP/run-$e.$runs.json")
		runs=$((runs + 1))
	done
	churn_cmd "$rig" stop >/dev/null
	rig_report "$rig" >"$TMP/report-$e.json"
	churn_cmd "$rig" quit >/dev/null

	if [ -z "${statuses//0 /}" ]; then
		ok "churn $e: every kill run exited 0"
	else
		not_ok "churn $e: exit statuses $statuses; stderr:" \
			"$(cat "$TMP"/err-"$e".* | grep -v selected: | head -c 300)"
	fi
	read -r ws wc fo repl changed gone planned cerr raced late \
		< <(figures "$TMP/report-$e.json" "${files[@]}")
	if [ -z "$late" ]; then
		not_ok "churn $e: no figures from the rig's report ($(head -c 200 "$TMP/report-$e.json"))"
		return
	fi
	# Replaced planned sockets are where a stale identity would be hit: without them this run
	# cannot tell a right engine from a wrong one.
	check "churn $e: the churn overlapped the kills ($window reuse events during $runs kill runs,\
 $repl of $planned planned sockets replaced under churn (changed $changed, gone $gone);\
 connect errors $cerr, kills racing the rig's own abort $raced, late resets $late)" \
		[ "$window" -ge "$MIN_EVENTS" -a "$runs" -ge "$MIN_RUNS" -a "$repl" -ge 1 ]
	check "churn $e: $((ws + wc)) wrong kills (server ends $ws, client ends $wc)\
 in $window reuse events" [ "$ws" = 0 -a "$wc" = 0 ]
	check "churn $e: $fo false outcomes (replaced sockets reported killed) of $repl replaced" \
		[ "$fo" = 0 ]
	if [ -n "$BENCH" ]; then
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$e" "$runs" "$window" "$repl" \
			"$((ws + wc)) (server $ws, client $wc)" "$fo" "$changed / $gone"
	fi
}

if [ -n "$BENCH" ]; then
	echo "| engine | kill runs | reuse events during the kills | planned sockets replaced |" \
		"wrong kills | false outcomes | replaced: changed / gone |"
	echo "|---|---|---|---|---|---|---|"
fi
for e in $ENGINES; do
	churn_engine "$e"
done
