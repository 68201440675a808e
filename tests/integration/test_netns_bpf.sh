#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The one-pass discovery over several namespaces: a namespace whose every hashed TCP socket
# has a file (sockstat's count matches the BPF pass) is not dumped; one with a CLOSE_WAIT in
# an accept queue is, and that socket is still found and killed; a selection the proof cannot
# stand for (fin-wait-2: orphans are TIME_WAIT sockets) dumps everything. Every way of
# collecting must give the same records: the BPF path, SOCKREAP_COLLECT=dump,
# each BPF loader alone, SOCKREAP_OWNERS=proc and a run without CAP_BPF.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns netns_bpf

src=$("$SR" doctor --json 2>/dev/null | jq -r .collect.source)
if [ "$src" != bpf ]; then
	skipped "netns_bpf: the BPF pass cannot be used here: $("$SR" doctor --json 2>/dev/null |
		jq -r '.collect.why // "doctor failed"')"
	exit 0
fi

# settled NS PORT STATE N: waits (bounded) until N sockets in STATE are listed on PORT.
settled() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(ss_count "$1" state "$3" "( sport = :$2 or dport = :$2 )")" = "$4" ] && return 0
		sleep 0.01
	done
	echo "settled: $4 $3 on port $2 in $1 expected" >&2
	return 1
}

# records FILE ENV... -- ARGS...: the sockets a dry run selects, as sorted JSON without the
# idle times (they move), and the collect summary in FILE.collect. Without owners: the
# owner lookup has its own tests, and /proc may find an owner unreadable that BPF does not.
records() {
	local file=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" "$@" --dry-run --json --no-owners "${NS[@]}" >"$file.json" 2>"$file.err"
	jq -S '[.sockets[] | del(.idle_ms)] | sort_by(.netns.inode, .cookie)' "$file.json" >"$file"
	jq -c '.summary.collect' "$file.json" >"$file.collect"
	jq -r '.summary.netns[] | "\(.name) \(.collect) \(.selected)"' "$file.json" | sort \
		>"$file.per_ns"
}

ns_new A || { not_ok "netns_bpf: namespace"; exit 0; }
ns_new B && ns_new C && ns_new D || { not_ok "netns_bpf: namespaces"; exit 0; }
NS=(--netns "$A" --netns "$B" --netns "$C" --netns "$D")
rig_start RA "$A" -p 7000 -n 5 close-wait && rig_start RE "$A" -p 7001 -n 5 established &&
	rig_start RB "$B" -p 7000 -n 3 close-wait &&
	rig_start RC "$C" -p 7000 -n 3 unaccepted &&
	rig_start RD "$D" -p 7000 -n 4 close-wait || { not_ok "netns_bpf: rigs"; exit 0; }
settled "$A" 7000 close-wait 5 && settled "$B" 7000 close-wait 3 &&
	settled "$C" 7000 close-wait 3 && settled "$D" 7000 close-wait 4 &&
	settled "$A" 7001 established 10 || { not_ok "netns_bpf: rigs did not settle"; exit 0; }

# --- close-wait: proven where every socket has a file -----------------------------------------
records "$TMP/bpf" -- "$SR" --state close-wait
check "close-wait: 15 selected in 4 namespaces" [ "$(jq length "$TMP/bpf")" = 15 ]
check "close-wait: A, B, D found by the BPF pass; C (a CLOSE_WAIT in an accept queue) dumped" \
	[ "$(cat "$TMP/bpf.per_ns")" = "$(printf '%s\n' "$A bpf 5" "$B bpf 3" "$C dump 3" "$D bpf 4" |
		sort)" ]
check "close-wait: the JSON summary counts 3 proven, 1 dumped" \
	[ "$(cat "$TMP/bpf.collect")" = '{"bpf_proven":3,"dumped":1}' ]
check "close-wait: the summary line says so" \
	grep -q "namespaces: 3 found whole by the BPF pass, 1 dumped" "$TMP/bpf.err"

records "$TMP/dump" SOCKREAP_COLLECT=dump -- "$SR" --state close-wait
check "SOCKREAP_COLLECT=dump: every namespace dumped" \
	[ "$(cat "$TMP/dump.collect")" = '{"bpf_proven":0,"dumped":4}' ]
check "SOCKREAP_COLLECT=dump: the same records, cookies included" cmp -s "$TMP/bpf" "$TMP/dump"

# The discovery program through each loader alone (src/taskfiles.c): the same pass.
for loader in light libbpf; do
	records "$TMP/$loader" SOCKREAP_BPF_LOADER=$loader -- "$SR" --state close-wait
	check "SOCKREAP_BPF_LOADER=$loader: 3 proven, 1 dumped" \
		[ "$(cat "$TMP/$loader.collect")" = '{"bpf_proven":3,"dumped":1}' ]
	check "SOCKREAP_BPF_LOADER=$loader: the same records" cmp -s "$TMP/bpf" "$TMP/$loader"
done

records "$TMP/proc" SOCKREAP_OWNERS=proc -- "$SR" --state close-wait
check "SOCKREAP_OWNERS=proc: every namespace dumped" \
	[ "$(cat "$TMP/proc.collect")" = '{"bpf_proven":0,"dumped":4}' ]
check "SOCKREAP_OWNERS=proc: the same records" cmp -s "$TMP/bpf" "$TMP/proc"

if command -v setpriv >/dev/null; then
	# BPF loads with CAP_BPF or CAP_SYS_ADMIN (held while namespaces are entered): without
	# both, only the namespace it starts in (A) can be collected, by its dump.
	records "$TMP/nobpf" -- ip netns exec "$A" setpriv --bounding-set=-bpf,-sys_admin "$SR" \
		--state close-wait
	check "without CAP_BPF: A dumped, the others not entered" \
		[ "$(cat "$TMP/nobpf.collect")" = '{"bpf_proven":0,"dumped":1}' ]
	ino=$(stat -L -c %i "/run/netns/$A")
	check "without CAP_BPF: A's records as the BPF pass found them" \
		cmp -s <(jq -S "[.[] | select(.netns.inode == $ino)]" "$TMP/bpf") "$TMP/nobpf"
	check "without CAP_BPF: doctor says the pass cannot be used" \
		[ "$(setpriv --bounding-set=-bpf,-sys_admin "$SR" doctor --json | jq -r .collect.source)" = dump ]
else
	skipped "without CAP_BPF: setpriv is not installed (util-linux)"
fi

# Also when records carry tcp_info or not, and with the established ones (both ends held).
records "$TMP/est" -- "$SR" --state established
records "$TMP/est_dump" SOCKREAP_COLLECT=dump -- "$SR" --state established
check "established: 10 found by the BPF pass in A" grep -qx "$A bpf 10" "$TMP/est.per_ns"
check "established: the same records as the dumps" cmp -s "$TMP/est" "$TMP/est_dump"

# --- fin-wait-2: orphans are TIME_WAIT sockets without a file: no proof, all dumped ----------
records "$TMP/fw2" -- "$SR" --state fin-wait-2
check "fin-wait-2: every namespace dumped" \
	[ "$(cat "$TMP/fw2.collect")" = '{"bpf_proven":0,"dumped":4}' ]
check "fin-wait-2: D's 4 orphans found" grep -qx "$D dump 4" "$TMP/fw2.per_ns"
records "$TMP/stuck" -- "$SR" --state stuck
check "stuck: every namespace dumped (stuck includes fin-wait-2)" \
	[ "$(cat "$TMP/stuck.collect")" = '{"bpf_proven":0,"dumped":4}' ]

# --- the kill: every CLOSE_WAIT, the accept queue's too; nothing else --------------------------
expect_status 0 "kill: --yes --no-audit --state close-wait in 4 namespaces" \
	"$SR" --yes --no-audit --json --state close-wait "${NS[@]}"
check "kill: 3 namespaces proven, 1 dumped" \
	[ "$(jq -c .summary.collect "$TMP/out")" = '{"bpf_proven":3,"dumped":1}' ]
check "kill: 15 killed" [ "$(jq .summary.killed "$TMP/out")" = 15 ]
for ns in "$A" "$B" "$C" "$D"; do
	check "kill: no CLOSE_WAIT left in $ns" [ "$(ss_count "$ns" state close-wait)" = 0 ]
done
check "kill: A's 10 established untouched" \
	[ "$(ss_count "$A" state established "( sport = :7001 or dport = :7001 )")" = 10 ]
check "kill: C's listener untouched" [ "$(ss_count "$C" state listening)" = 1 ]
