#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: sockreap against its anchor in the same run, on workloads built in a namespace of
# our own, A B A B alternating, medians and the median of pair ratios, peak RSS; one markdown
# table on stdout. BENCH_RUNS (5) and BENCH_SIZES ("1000 10000 100000") shorten a trial run;
# BENCH_ROWS ("1 2 3 4 5 6 7 8 9 10 11") picks rows; BENCH_RST_N (10000) sizes row 5; BENCH_CHURN_EVENTS
# (10000) sizes row 7; BENCH_NS_N (1000) sizes row 8, BENCH_NS_LOADS ("0 100000") its loads;
# BENCH_FWD_N (1000) sizes row 10; BENCH_WATCH_CYCLES (100) sizes row 11; BENCH_PRIO (below).
set -u
cd "$(dirname "$0")/.." || exit 1
SR=$PWD/sockreap
B=$PWD/build/bench
RUNS=${BENCH_RUNS:-5}
SIZES=${BENCH_SIZES:-"1000 10000 100000"}
ROWS=" ${BENCH_ROWS:-1 2 3 4 5 6 7 8 9 10 11} "
RST_N=${BENCH_RST_N:-10000}
PORT=9000
PER_HOLDER=4500 # connections per holder: 9,000 fds, under the 20,000 limit with room
NS="sr-bench-$$"
HOLDERS=()

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root for its network namespace (sudo make bench)" >&2
	exit 1
fi
# Every tool any row uses, checked before anything runs: a missing one once printed 0.0 MiB
# rows and exited 0. Packages: iproute2, bc, jq, util-linux, coreutils, mawk (make deps).
missing=()
for t in ip ss bc jq taskset awk mkfifo stat paste sort seq cut; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench: ${missing[*]} not found; install them (make deps lists the packages)" >&2
	exit 1
fi
for b in "$SR" "$B/holder" "$B/measure" "$B/floor"; do
	[ -x "$b" ] || { echo "bench: $b is not built (make bench builds it)" >&2; exit 1; }
done
# Made only now that nothing above can refuse the run: cleanup removes it.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockreap-bench.XXXXXX") || exit 1
cleanup() {
	declare -F ns_release >/dev/null && ns_release
	declare -F fwd_teardown >/dev/null && fwd_teardown
	release
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up

# Holders read their standard input from one FIFO; closing it lets them all exit.
hold() { # hold COUNT ARGS...: start COUNT holders in the namespace, wait until all are ready
	local count=$1 i
	shift
	[ -p "$TMP/in" ] || mkfifo "$TMP/in"
	for ((i = 0; i < count; i++)); do
		ip netns exec "$NS" "$B/holder" "${@//@K@/$((i + 1))}" <"$TMP/in" >"$TMP/ready.$i.${#HOLDERS[@]}" &
		HOLDERS+=($!)
	done
	[ -n "${FIFO_FD:-}" ] || exec {FIFO_FD}>"$TMP/in"
	local want=${#HOLDERS[@]}
	for _ in $(seq 600); do
		[ "$(cat "$TMP"/ready.* 2>/dev/null | grep -c ready)" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "bench: holders did not get ready" >&2
	exit 1
}
release() {
	[ -n "${FIFO_FD:-}" ] && exec {FIFO_FD}>&-
	FIFO_FD=
	for p in "${HOLDERS[@]}"; do wait "$p" 2>/dev/null; done
	HOLDERS=()
	rm -f "$TMP"/ready.* "$TMP/in"
	# A fresh namespace for the next workload: closed holders leave their sockets dying
	# (LAST_ACK, FIN_WAIT_2, TIME_WAIT), which would slow every later dump.
	ip netns del "$NS" 2>/dev/null
	ip netns add "$NS" && ip -n "$NS" link set lo up
}
build() { # build N UNRELATED: N CLOSE_WAIT on :PORT, plus UNRELATED socket fds elsewhere
	local n=$1 u=$2 h
	h=$(((n + PER_HOLDER - 1) / PER_HOLDER))
	hold "$h" -L 127.0.1.@K@ -p "$PORT" -n $(((n + h - 1) / h)) close-wait
	[ "$u" -gt 0 ] && hold $(((u + 8999) / 9000)) -n 9000 unrelated
	local have
	have=$(ip netns exec "$NS" ss -tanH state close-wait "sport = :$PORT" | wc -l)
	[ "$have" -ge "$n" ] || { echo "bench: built $have of $n" >&2; exit 1; }
}
survivors() { ip netns exec "$NS" ss -tanH state close-wait "sport = :$PORT" | wc -l; }
first_holder() { echo "${HOLDERS[0]}"; }
# BENCH_PRIO (unset) prefixes the commands timed in $NS, e.g. "chrt -f 10": on a machine that others
# load, the command and its anchor alike then run before their work, for the second each takes
# (the kernel's own workers, such as writeback, still share the CPUs with them).
# shellcheck disable=SC2086
measure() { ip netns exec "$NS" ${BENCH_PRIO:-} "$B/measure" "$@"; }

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# One table row from the samples of a tool and its anchor: samples are "seconds rss status".
row() { # row LABEL N UNRELATED TOOL SAMPLEFILE ANCHORFILE SURVIVORFILE
	local label=$1 n=$2 u=$3 tool=$4 f=$5 a=$6 s=${7:-} med rss ratio surv="-"
	# measure's status 126/127: the command was not found or could not run. A row of its
	# times would be a lie.
	if awk '$3 == 126 || $3 == 127 { bad = 1 } END { exit !bad }' "$f" ${a:+"$a"}; then
		echo "bench: row $label: $tool (or its anchor) could not run (exit 126/127)" >&2
		exit 1
	fi
	med=$(cut -d' ' -f1 "$f" | median)
	rss=$(cut -d' ' -f2 "$f" | sort -n | tail -1)
	if [ -n "$a" ]; then
		ratio=$(paste -d' ' "$a" "$f" | awk '{print $1 / $(NF / 2 + 1)}' | median)
		ratio=$(awk -v r="$ratio" 'BEGIN {
			if (r >= 1) printf "%.2f× faster", r; else printf "%.2f× slower", 1 / r }')
	else
		ratio="anchor"
	fi
	[ -n "$s" ] && surv=$(sort -n "$s" | tail -1)
	printf '| %s | %s | %s | %s | %.4f | %s | %.1f | %s |\n' "$label" "$n" "$u" "$tool" "$med" \
		"$ratio" "$(echo "$rss / 1024" | bc -l)" "$surv" || exit 1
}

echo "| row | N | unrelated fds | command | median s | vs anchor (median of pair ratios) | peak RSS MiB | survivors (max) |"
echo "|---|---|---|---|---|---|---|---|"

want() { [[ $ROWS == *" $1 "* ]]; }

# kill_once N SAMPLES SURVIVORS CMD...: a fresh workload of N, one timed kill, what survived.
kill_once() {
	local n=$1 f=$2 s=$3
	shift 3
	build "$n" 0
	measure "$@" >>"$f"
	survivors >>"$s"
	release
}

# 1. Kill N CLOSE_WAIT: sockreap vs ss -K, and the floor (dump + batched destroy, nothing else,
# one thread). sockreap also pinned to one CPU, where its destroy cannot use helper threads.
want 1 && for n in $SIZES; do
	for f in k.sr k.ss k.fl k.one s.sr s.ss s.fl s.one; do : >"$TMP/$f"; done
	for ((r = 0; r < RUNS; r++)); do
		kill_once "$n" "$TMP/k.ss" "$TMP/s.ss" ss -K -tan state close-wait "sport = :$PORT"
		kill_once "$n" "$TMP/k.sr" "$TMP/s.sr" \
			"$SR" --yes --no-audit "state close-wait and sport = :$PORT"
		kill_once "$n" "$TMP/k.fl" "$TMP/s.fl" "$B/floor" "$PORT"
		kill_once "$n" "$TMP/k.one" "$TMP/s.one" \
			taskset -c 0 "$SR" --yes --no-audit "state close-wait and sport = :$PORT"
	done
	row "1 kill" "$n" 0 'ss -K' "$TMP/k.ss" "" "$TMP/s.ss"
	row "1 kill" "$n" 0 sockreap "$TMP/k.sr" "$TMP/k.ss" "$TMP/s.sr"
	row "1 kill" "$n" 0 'taskset -c 0 sockreap' "$TMP/k.one" "$TMP/k.ss" "$TMP/s.one"
	row "1 kill" "$n" 0 floor "$TMP/k.fl" "$TMP/k.ss" "$TMP/s.fl"
	# How close sockreap is to the kernel's own cost: floor time / sockreap time.
	printf '| 1 kill | %s | 0 | sockreap vs floor | | %.2f× the floor'"'"'s time | | |\n' "$n" \
		"$(paste -d' ' "$TMP/k.sr" "$TMP/k.fl" | awk '{print $1 / $(NF / 2 + 1)}' | median)"
	printf '| 1 kill | %s | 0 | taskset -c 0 sockreap vs floor | | %.2f× the floor'"'"'s time | | |\n' \
		"$n" "$(paste -d' ' "$TMP/k.one" "$TMP/k.fl" | awk '{print $1 / $(NF / 2 + 1)}' | median)"
done

preview_rows() { # preview_rows LABEL N UNRELATED OURS-NAME ANCHOR-ARGS... -- SOCKREAP-ARGS...
	local label=$1 n=$2 u=$3 name=$4 anchor=() ours=()
	shift 4
	while [ "$1" != -- ]; do anchor+=("$1"); shift; done
	shift
	ours=("$@")
	: >"$TMP/p.a"; : >"$TMP/p.b"
	for ((r = 0; r < RUNS; r++)); do
		measure "${anchor[@]}" >>"$TMP/p.a"
		measure "${ours[@]}" >>"$TMP/p.b"
	done
	row "$label" "$n" "$u" "${anchor[0]} ${anchor[1]}" "$TMP/p.a" ""
	row "$label" "$n" "$u" "$name" "$TMP/p.b" "$TMP/p.a"
}

big=${SIZES##* }
# 2. Preview with owners at the largest N, with 0 and 200,000 unrelated socket fds.
want 2 && for u in 0 200000; do
	build "$big" "$u"
	preview_rows "2 owners" "$big" "$u" "sockreap --dry-run" ss -tanp state close-wait "sport = :$PORT" -- \
		"$SR" --dry-run "state close-wait and sport = :$PORT"
	release
done

# 3. --pid preview: its cost must not grow with unrelated fds elsewhere.
want 3 && for u in 0 400000; do
	build "$big" "$u"
	pid=$(first_holder)
	: >"$TMP/pid.$u"
	for ((r = 0; r < RUNS; r++)); do
		measure "$SR" --dry-run --pid "$pid" "state close-wait and sport = :$PORT" >>"$TMP/pid.$u"
	done
	release
done
if want 3; then
	row "3 --pid" "$big" 0 "sockreap --dry-run --pid" "$TMP/pid.0" ""
	row "3 --pid" "$big" 400000 "sockreap --dry-run --pid" "$TMP/pid.400000" "$TMP/pid.0"
fi

# 4. Start-up cost: a small preview without owners against ss -tan (which shows none); then
# the default preview, which reads every fd on the machine for owners, against ss -tan and
# against ss -tanp (which reads them too).
if want 4; then
	build 1000 0
	preview_rows "4 small" 1000 0 "sockreap --dry-run --no-owners" \
		ss -tan state close-wait "sport = :$PORT" -- \
		"$SR" --dry-run --no-owners "state close-wait and sport = :$PORT"
	preview_rows "4 small" 1000 0 "sockreap --dry-run" ss -tan state close-wait "sport = :$PORT" -- \
		"$SR" --dry-run "state close-wait and sport = :$PORT"
	preview_rows "4 small" 1000 0 "sockreap --dry-run" ss -tanp state close-wait "sport = :$PORT" -- \
		"$SR" --dry-run "state close-wait and sport = :$PORT"
	release
fi

# 5. The rst engine: kill RST_N CLOSE_WAIT with challenge-ACK-learned resets (peer ends too),
# against ss -K; then the kill phase alone (probe, reset, verify: the run's elapsed_ms).
if want 5; then
	: >"$TMP/r.ss"; : >"$TMP/r.sr"; : >"$TMP/r.ms"; : >"$TMP/rs.ss"; : >"$TMP/rs.sr"
	for ((r = 0; r < RUNS; r++)); do
		kill_once "$RST_N" "$TMP/r.ss" "$TMP/rs.ss" \
			ss -K -tan state close-wait "sport = :$PORT"
		kill_once "$RST_N" "$TMP/r.sr" "$TMP/rs.sr" \
			"$SR" --engine rst --yes --no-audit "state close-wait and sport = :$PORT"
		build "$RST_N" 0
		ip netns exec "$NS" "$SR" --engine rst --yes --no-audit --json \
			"state close-wait and sport = :$PORT" 2>/dev/null |
			jq '.summary.elapsed_ms / 1000' >>"$TMP/r.ms"
		release
	done
	row "5 rst" "$RST_N" 0 'ss -K' "$TMP/r.ss" "" "$TMP/rs.ss"
	row "5 rst" "$RST_N" 0 'sockreap --engine rst' "$TMP/r.sr" "$TMP/r.ss" "$TMP/rs.sr"
	printf '| 5 rst | %s | 0 | rst kill phase (probe, reset, verify) | %.4f | | | |\n' "$RST_N" \
		"$(median <"$TMP/r.ms")"
fi

# 6. The default audited kill, as a runbook runs it: owners looked up, start and intent records
# written and fsynced before acting, results and summary after, against ss -K; and what the
# audit file takes per socket (the intent carries the socket, the result its outcome). Then
# where its time goes, in the same run: without the audit file, without owners, and with
# owners read from /proc instead of the BPF iterator.
want 6 && for n in $SIZES; do
	for f in a.ss a.sr as.ss as.sr a.bytes a.na as.na a.no as.no a.pr as.pr; do : >"$TMP/$f"; done
	for ((r = 0; r < RUNS; r++)); do
		kill_once "$n" "$TMP/a.ss" "$TMP/as.ss" ss -K -tan state close-wait "sport = :$PORT"
		rm -f "$TMP/audit.log"
		kill_once "$n" "$TMP/a.sr" "$TMP/as.sr" \
			"$SR" --yes --state close-wait --sport "$PORT" --audit-log "$TMP/audit.log"
		echo $(($(stat -c %s "$TMP/audit.log") / n)) >>"$TMP/a.bytes"
		kill_once "$n" "$TMP/a.na" "$TMP/as.na" \
			"$SR" --yes --no-audit --state close-wait --sport "$PORT"
		rm -f "$TMP/audit.log"
		kill_once "$n" "$TMP/a.no" "$TMP/as.no" "$SR" --yes --no-owners --state close-wait \
			--sport "$PORT" --audit-log "$TMP/audit.log"
		rm -f "$TMP/audit.log"
		kill_once "$n" "$TMP/a.pr" "$TMP/as.pr" env SOCKREAP_OWNERS=proc \
			"$SR" --yes --state close-wait --sport "$PORT" --audit-log "$TMP/audit.log"
	done
	row "6 audited" "$n" 0 'ss -K' "$TMP/a.ss" "" "$TMP/as.ss"
	row "6 audited" "$n" 0 'sockreap (owners, audit file)' "$TMP/a.sr" "$TMP/a.ss" "$TMP/as.sr"
	row "6 audited" "$n" 0 'sockreap --no-audit' "$TMP/a.na" "$TMP/a.ss" "$TMP/as.na"
	row "6 audited" "$n" 0 'sockreap --no-owners (audit file)' "$TMP/a.no" "$TMP/a.ss" \
		"$TMP/as.no"
	row "6 audited" "$n" 0 'SOCKREAP_OWNERS=proc sockreap (owners from /proc)' "$TMP/a.pr" \
		"$TMP/a.ss" "$TMP/as.pr"
	printf '| 6 audited | %s | 0 | audit file bytes per socket | %s | | | |\n' "$n" \
		"$(median <"$TMP/a.bytes")"
done

# 7. 4-tuple churn (issue 10): the churn test's long form, release build, each engine for at
# least 100 kill runs and until BENCH_CHURN_EVENTS reuse events fell inside them (a slow kill
# gathers events without more chances to hit a stale identity: the runs count too); a table of
# its own (wrong kills and false outcomes, not times). Its ok/not ok lines go to stderr.
if want 7; then
	echo
	CHURN_BENCH=1 CHURN_MIN_EVENTS=${BENCH_CHURN_EVENTS:-10000} CHURN_MIN_RUNS=100 \
		CHURN_MAX_RUNS=2000 CHURN_SECONDS=900 SOCKREAP=$SR bash tests/integration/test_churn.sh |
		awk '/^\|/ { print; next } { print > "/dev/stderr" }'
fi

# 8. Many namespaces (issue 12): NS_N named namespaces (sr-b<pid>-I, made and always removed
# by bench/nsholder, 250 a process: 42 fds each), each with 10 CLOSE_WAIT and 10 healthy
# ESTABLISHED connections; `sockreap --all-netns` against the shell loop operators write today
# over the same namespaces (ip netns exec ... ss -K), alternating; the holders rebuild the
# CLOSE_WAITs after every run and count, from their own descriptors, the CLOSE_WAITs left
# and the healthy ends no longer established. sockreap also visits the host's other
# namespaces (here: ours, and the bench's own $NS). Quiet, then next to LOAD unrelated
# sockets: LOAD / 2 established loopback connections held in $NS (the host's TCP hash table is
# shared by every namespace: each dump walks all of it).
# sockreap also visits the host's other namespaces (ours, the bench's $NS, and whatever else
# runs here): --sport keeps it to the bench's CLOSE_WAITs there too, at the same cost (the
# port is tested in the kernel, and the walk is what costs).
NS_N=${BENCH_NS_N:-1000}
NS_PORT=9100
NS_PREFIX="sr-b$$"
NS_PIDS=()
NS_W=()
NS_R=()
ns_hold() { # ns_hold N: start the holders of N namespaces, wait until all are ready
	local n=$1 first=0 per=250 k line
	for ((k = 0; first < n; k++, first += per)); do
		mkfifo "$TMP/ns.in.$k" "$TMP/ns.out.$k" || exit 1
		"$B/nsholder" -P "$NS_PREFIX" -p "$NS_PORT" -f "$first" \
			-c $((n - first < per ? n - first : per)) \
			<"$TMP/ns.in.$k" >"$TMP/ns.out.$k" &
		NS_PIDS+=($!)
		exec {w}<>"$TMP/ns.in.$k" {r}<>"$TMP/ns.out.$k"
		NS_W+=("$w")
		NS_R+=("$r")
	done
	for r in "${NS_R[@]}"; do
		read -r -t 600 -u "$r" line && [ "$line" = ready ] ||
			{ echo "bench: namespace holders did not get ready" >&2; exit 1; }
	done
}
ns_cmd() { # ns_cmd CMD: send CMD to every holder; prints "survivors S collateral C" summed
	local line s=0 c=0 w r
	for w in "${NS_W[@]}"; do echo "$1" >&"$w"; done
	for r in "${NS_R[@]}"; do
		read -r -t 600 -u "$r" line || { echo "bench: a namespace holder did not answer" >&2; exit 1; }
		set -- "$1" $line
		[ "$2" = survivors ] && { s=$((s + $3)); c=$((c + $5)); }
	done
	echo "survivors $s collateral $c"
}
ns_release() { # close the holders' input: each removes its namespaces and exits
	local fd p f
	for fd in "${NS_W[@]}" "${NS_R[@]}"; do exec {fd}>&-; done
	for p in "${NS_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	NS_W=(); NS_R=(); NS_PIDS=()
	rm -f "$TMP"/ns.in.* "$TMP"/ns.out.*
	# A holder killed outright cannot clean up: remove what is left of ours, and only ours.
	for f in /run/netns/"$NS_PREFIX"-*; do
		[ -e "$f" ] || continue
		umount -l "$f" 2>/dev/null
		rm -f "$f"
	done
}
# ns_once SAMPLES SURVIVORS COLLATERAL CMD...: one timed run, what it left, then a rebuild.
ns_once() {
	local f=$1 s=$2 c=$3 st
	shift 3
	# Every dump walks the host's whole TCP table: what else the host holds says what a run cost.
	awk '$1 == "TCP:" { print $9 }' /proc/net/sockstat >>"$TMP/n.alloc"
	measure "$@" >>"$f"
	st=$(ns_cmd check)
	set -- $st
	echo "$2" >>"$s"
	echo "$4" >>"$c"
	[ "$(ns_cmd rebuild)" = "survivors 0 collateral 0" ] || { echo "bench: rebuild failed" >&2; exit 1; }
}
if want 8; then
	cat >"$TMP/loop.sh" <<LOOP
for ns in \$(ip netns list | awk '{print \$1}' | grep '^$NS_PREFIX-'); do ip netns exec "\$ns" ss -K state close-wait; done
LOOP
	for load in ${BENCH_NS_LOADS:-0 100000}; do
		h=$(((load / 2 + PER_HOLDER - 1) / PER_HOLDER))
		[ "$load" -gt 0 ] && hold "$h" -L 127.0.2.@K@ -p "$PORT" -n $(((load / 2 + h - 1) / h)) established
		ns_hold "$NS_N"
		for f in n.loop n.sr ns.loop ns.sr nc.loop nc.sr n.alloc; do : >"$TMP/$f"; done
		for ((r = 0; r < RUNS; r++)); do
			ns_once "$TMP/n.loop" "$TMP/ns.loop" "$TMP/nc.loop" bash "$TMP/loop.sh"
			ns_once "$TMP/n.sr" "$TMP/ns.sr" "$TMP/nc.sr" \
				"$SR" --all-netns --yes --no-audit --state close-wait --sport "$NS_PORT"
		done
		row "8 netns" "$NS_N" "$load" 'ip netns exec ss -K loop' "$TMP/n.loop" "" "$TMP/ns.loop"
		row "8 netns" "$NS_N" "$load" 'sockreap --all-netns' "$TMP/n.sr" "$TMP/n.loop" "$TMP/ns.sr"
		printf '| 8 netns | %s | %s | sockreap: collateral (max), exit status | | %s, %s | | |\n' \
			"$NS_N" "$load" "$(sort -n "$TMP/nc.sr" | tail -1)" \
			"$(cut -d' ' -f3 "$TMP/n.sr" | sort -u | tr '\n' ' ' | sed 's/ $//')"
		printf '| 8 netns | %s | %s | CPU s (user + sys, median): loop, sockreap | | %s, %s | | |\n' \
			"$NS_N" "$load" "$(cut -d' ' -f4 "$TMP/n.loop" | median)" \
			"$(cut -d' ' -f4 "$TMP/n.sr" | median)"
		printf '| 8 netns | %s | %s | TCP sockets on the host before each run (sockstat alloc) | | %s to %s | | |\n' \
			"$NS_N" "$load" "$(sort -n "$TMP/n.alloc" | head -1)" "$(sort -n "$TMP/n.alloc" | tail -1)"
		for v in ns.sr nc.sr; do
			[ "$(sort -n "$TMP/$v" | tail -1)" = 0 ] ||
				echo "bench: row 8: sockreap left CLOSE_WAITs or killed healthy connections" >&2
		done
		ns_release
		[ "$load" -gt 0 ] && release
	done
fi

# 9. --group-by at the largest N: the counts against the plain preview they stand in for (same
# selection, owners read by both), A B alternating. A run that failed or miscounted would make
# a fast row out of nothing: both must exit 0 and the counts must add up to what is there.
if want 9; then
	build "$big" 0
	sel="state close-wait and sport = :$PORT"
	: >"$TMP/g.a"; : >"$TMP/g.b"
	for ((r = 0; r < RUNS; r++)); do
		measure "$SR" --dry-run "$sel" >>"$TMP/g.a"
		measure "$SR" --dry-run --group-by comm,peer "$sel" >>"$TMP/g.b"
	done
	if awk '$3 != 0 { bad = 1 } END { exit !bad }' "$TMP/g.a" "$TMP/g.b"; then
		echo "bench: row 9: a preview exited non-zero: $(cut -d' ' -f3 "$TMP/g.a" "$TMP/g.b" |
			sort -u | tr '\n' ' ')" >&2
		exit 1
	fi
	got=$(ip netns exec "$NS" "$SR" --dry-run --json --group-by comm,peer "$sel" 2>/dev/null |
		jq '[.groups[].count] | add')
	have=$(survivors)
	[ "$got" = "$have" ] || { echo "bench: row 9: --group-by counted '$got' of $have" >&2; exit 1; }
	row "9 group-by" "$big" 0 "sockreap --dry-run" "$TMP/g.a" ""
	row "9 group-by" "$big" 0 "sockreap --dry-run --group-by comm,peer" "$TMP/g.b" "$TMP/g.a"
	# CPU time says what the work cost where wall time on a loaded machine also says waiting.
	printf '| 9 group-by | %s | 0 | CPU s (user + sys, median): preview, --group-by | | %s, %s | | |\n' \
		"$big" "$(cut -d' ' -f4 "$TMP/g.a" | median)" "$(cut -d' ' -f4 "$TMP/g.b" | median)"
	release
fi

# 10. Forwarded flows (issue 17): FWD_N idle TCP connections from a client namespace through a
# router namespace (forwarding, nftables masquerade) to a server namespace, all made here;
# killed from the router. sockreap --forwarded learns each flow's sequence numbers with a probe,
# resets both ends exactly and deletes the entry; its anchor, conntrack -D, deletes the entries
# only: both ends stay established (the survivors column counts the client's). No tcpkill-style
# row: tcpkill waits for traffic, which an idle flow never sends (and it is not packaged here).
FWD_N=${BENCH_FWD_N:-1000}
FWD_NS=("sr-bf$$-c" "sr-bf$$-r" "sr-bf$$-s")
FWD_PIDS=()
fwd_teardown() {
	local p ns
	for p in "${FWD_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	FWD_PIDS=()
	for ns in "${FWD_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
fwd_topology() {
	local c=${FWD_NS[0]} r=${FWD_NS[1]} s=${FWD_NS[2]} ns
	for ns in "$c" "$r" "$s"; do ip netns add "$ns" && ip -n "$ns" link set lo up || return 1; done
	ip -n "$r" link add vrc type veth peer name vc netns "$c" &&
	ip -n "$r" link add vrs type veth peer name vs netns "$s" &&
	ip -n "$c" addr add 10.91.1.2/24 dev vc && ip -n "$c" link set vc up &&
	ip -n "$c" route add default via 10.91.1.1 &&
	ip -n "$r" addr add 10.91.1.1/24 dev vrc && ip -n "$r" link set vrc up &&
	ip -n "$r" addr add 10.91.2.1/24 dev vrs && ip -n "$r" link set vrs up &&
	ip -n "$s" addr add 10.91.2.2/24 dev vs && ip -n "$s" link set vs up &&
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 &&
	printf '%s\n' 'table ip sr_nat { chain post { type nat hook postrouting priority 100; oifname "vrs" masquerade; }; }' |
		ip netns exec "$r" nft -f -
}
# fwd_rig NS ARGS...: a flowrig in NS, fds for FWD_N sockets; waits for its "ready".
fwd_rig() {
	local ns=$1 line
	shift
	ip netns exec "$ns" sh -c 'ulimit -n 8192 && exec python3 -u "$@"' sh \
		tests/helpers/flowrig.py "$@" <"$TMP/fwd.in" >"$TMP/fwd.out.${#FWD_PIDS[@]}" &
	FWD_PIDS+=($!)
	for _ in $(seq 600); do
		grep -q ready "$TMP/fwd.out.$((${#FWD_PIDS[@]} - 1))" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: row 10: flowrig $* did not get ready" >&2
	exit 1
}
# fwd_once SAMPLES SURVIVORS CMD...: FWD_N fresh flows, one timed run in the router, what the
# client still holds established, the rigs stopped.
fwd_once() {
	local f=$1 s=$2 p
	shift 2
	fwd_rig "${FWD_NS[2]}" tcp-server 8080
	fwd_rig "${FWD_NS[0]}" tcp-client 10.91.2.2 8080 "$FWD_N"
	ip netns exec "${FWD_NS[1]}" "$B/measure" "$@" >>"$f"
	ip netns exec "${FWD_NS[0]}" ss -tnH state established "dport = :8080" | wc -l >>"$s"
	for p in "${FWD_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	FWD_PIDS=()
	ip netns exec "${FWD_NS[1]}" conntrack -F >/dev/null 2>&1
}
if want 10; then
	for t in python3 conntrack nft; do
		command -v "$t" >/dev/null || { echo "bench: row 10 needs $t (python3, conntrack, nftables)" >&2; exit 1; }
	done
	fwd_topology || { echo "bench: row 10: cannot build the router topology" >&2; exit 1; }
	mkfifo "$TMP/fwd.in" && exec {FWD_HOLD}<>"$TMP/fwd.in"
	for f in f.ct f.sr fs.ct fs.sr f.ms; do : >"$TMP/$f"; done
	for ((r = 0; r < RUNS; r++)); do
		fwd_once "$TMP/f.ct" "$TMP/fs.ct" conntrack -D -p tcp --dport 8080
		fwd_once "$TMP/f.sr" "$TMP/fs.sr" "$SR" --forwarded --yes --no-audit 'dport 8080'
	done
	row "10 forwarded" "$FWD_N" 0 'conntrack -D (entries only)' "$TMP/f.ct" "" "$TMP/fs.ct"
	row "10 forwarded" "$FWD_N" 0 'sockreap --forwarded (resets + entries)' "$TMP/f.sr" \
		"$TMP/f.ct" "$TMP/fs.sr"
	exec {FWD_HOLD}>&-
	fwd_teardown
fi

# 11. sockreap watch (issue 15): CPU per cycle of a `state close-wait` rule in a namespace holding
# 100,000 healthy ESTABLISHED sockets (50,000 loopback connections) and 100 CLOSE_WAIT: the
# rule's age (1h) keeps them alive, so each cycle is the steady state (age filter, nothing to
# kill, no owner lookup). utime + stime of the watcher over BENCH_WATCH_CYCLES cycles at
# --every 50ms, after its first cycle; the target is <= 5 ms of CPU per cycle. Release build,
# with its audit file as a service has it. Twice: with the state tracker (the default: the
# candidates from its BPF map, each by an exact sock_diag get), and --no-track (a dump with the
# kernel's state prefilter every cycle, what a watcher without CAP_BPF does). And a third time
# with the tracker and the watcher on the host, watching the namespace with --netns (its map
# keeps that namespace's sockets; the gets go through a sock_diag handle opened in it every
# cycle, as a run visits a namespace); and that with --no-track (a dump there per cycle).
cycles_of() { awk '$1 == "sockreap_watch_cycles_total" { print $2 }' "$1" 2>/dev/null; }
metric_of() { awk -v n="$2" '$1 == n { print $2 }' "$1" 2>/dev/null; }
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat" 2>/dev/null; } # utime stime
if want 11; then
	WC=${BENCH_WATCH_CYCLES:-100}
	h=$(((50000 + PER_HOLDER - 1) / PER_HOLDER))
	hold "$h" -L 127.0.3.@K@ -p "$PORT" -n $(((50000 + h - 1) / h)) established
	hold 1 -L 127.0.4.1 -p $((PORT + 1)) -n 100 close-wait
	: >"$TMP/w.ss"
	for mode in track host no-track host-no-track; do
		: >"$TMP/w.cpu"
		: >"$TMP/w.sys"
		: >"$TMP/w.dumps"
		for ((r = 0; r < RUNS; r++)); do
			rm -f "$TMP/w.prom"
			if [ "${mode#host}" != "$mode" ]; then
				wrap=()
				wargs=(--netns "$NS")
			else
				wrap=(ip netns exec "$NS")
				wargs=()
			fi
			[ "${mode%no-track}" != "$mode" ] && wargs+=(--no-track)
			"${wrap[@]}" "$SR" watch --every 50ms --audit-log "$TMP/w.audit" \
				--metrics-file "$TMP/w.prom" "${wargs[@]}" \
				"cw: state close-wait and sport = :$((PORT + 1)), older-than 1h" \
				2>"$TMP/w.err" &
			wp=$!
			for _ in $(seq 600); do
				[ -n "$(cycles_of "$TMP/w.prom")" ] && break
				sleep 0.05
			done
			c0=$(cycles_of "$TMP/w.prom")
			d0=$(metric_of "$TMP/w.prom" sockreap_watch_tracker_dumps_total)
			read -r u0 s0 <<<"$(cpu_ticks "$wp")"
			for _ in $(seq 6000); do
				[ "$(cycles_of "$TMP/w.prom")" -ge $((c0 + WC)) ] 2>/dev/null && break
				sleep 0.05
			done
			c1=$(cycles_of "$TMP/w.prom")
			d1=$(metric_of "$TMP/w.prom" sockreap_watch_tracker_dumps_total)
			read -r u1 s1 <<<"$(cpu_ticks "$wp")"
			kill -TERM "$wp"
			wait "$wp"
			# Ticks are 1/CLK_TCK s: ms per cycle, all of it and the kernel's part.
			echo "($u1 + $s1 - $u0 - $s0) * 1000 / $(getconf CLK_TCK) / ($c1 - $c0)" |
				bc -l >>"$TMP/w.cpu"
			echo "($s1 - $s0) * 1000 / $(getconf CLK_TCK) / ($c1 - $c0)" | bc -l >>"$TMP/w.sys"
			# Full dumps the tracker fell back to in the window (overflow, safety net).
			echo $((${d1:-0} - ${d0:-0})) >>"$TMP/w.dumps"
			# The anchor: the kernel's walk alone, as ss asks for it (one process, WC dumps).
			[ "$mode" = track ] &&
				measure sh -c "for i in \$(seq $WC); do ss -tanH state close-wait >/dev/null; done" |
				awk -v n="$WC" '{ print $4 * 1000 / n }' >>"$TMP/w.ss"
		done
		if [ "$mode" = track ]; then
			what="sockreap watch (state tracker; full dumps in the windows: $(sort -n "$TMP/w.dumps" | tail -1) max)"
		elif [ "$mode" = host ]; then
			what="sockreap watch on the host, --netns (state tracker; full dumps in the windows: $(sort -n "$TMP/w.dumps" | tail -1) max)"
		elif [ "$mode" = host-no-track ]; then
			what="sockreap watch on the host, --netns --no-track (a dump per cycle)"
		else
			what="sockreap watch --no-track (a dump per cycle)"
		fi
		printf '| 11 watch | 100 | 100000 | %s: CPU ms per cycle, of it in the kernel (median of %s runs of %s cycles; target <= 5) | %.3f, %.3f | | | %s |\n' \
			"$what" "$RUNS" "$WC" "$(median <"$TMP/w.cpu")" "$(median <"$TMP/w.sys")" \
			"$(ip netns exec "$NS" ss -tanH state close-wait "sport = :$((PORT + 1))" | wc -l)"
	done
	printf '| 11 watch | 100 | 100000 | anchor: ss -tanH state close-wait, CPU ms per dump (same load) | %.3f | | | |\n' \
		"$(median <"$TMP/w.ss")"
	release
fi
