#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --group-by on real sockets: two processes (named leaky-a and leaky-b) leak different numbers of
# CLOSE_WAIT connections to two peers; the counts per comm, state, peer, pid, unit and netns are
# exact, in the table and in JSON, and a group-by without --dry-run kills nothing.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns groupby

if ! command -v jq >/dev/null; then
	skipped "groupby: jq is not installed"
	exit 0
fi

# The rig under two names: comm tells the two leakers apart.
cp "$RIG" "$TMP/leaky-a" && cp "$RIG" "$TMP/leaky-b" || { not_ok "groupby: copy the rig"; exit 0; }

ns_new ns || { not_ok "groupby: namespace"; exit 0; }
ns_new ns2 || { not_ok "groupby: second namespace"; exit 0; }
# Two local addresses: a connection to one of them comes from it (its local route's src), so
# the two leakers' peers differ. (127.0.0.2 would come from 127.0.0.1.)
in_ns "$ns" ip addr add 10.77.0.2/32 dev lo && in_ns "$ns" ip addr add 10.77.0.3/32 dev lo ||
	{ not_ok "groupby: addresses"; exit 0; }
unit="sr-groupby-$$.service"
cg=
if ! cgroup_new cg "$unit"; then
	cg=
fi
RIG_CGROUP=$cg RIG=$TMP/leaky-a rig_start A "$ns" -a 10.77.0.2 -p 8501 -n 7 close-wait ||
	{ not_ok "groupby: rig A"; exit 0; }
RIG=$TMP/leaky-b rig_start B "$ns" -a 10.77.0.3 -p 8502 -n 3 close-wait ||
	{ not_ok "groupby: rig B"; exit 0; }
rig_start C "$ns2" -p 8503 -n 2 close-wait || { not_ok "groupby: rig C"; exit 0; }
cw_settled "$ns" 8501 7 && cw_settled "$ns" 8502 3 && cw_settled "$ns2" 8503 2 ||
	{ not_ok "groupby: rigs settled"; exit 0; }
fw2=$(ss_count "$ns" state fin-wait-2)

# groups FILE: the table's group lines as "COUNT KEY..." (header and total line dropped).
groups() { awk 'NR > 1 && !/total,/ { $2 = ""; print }' "$1" | tr -s ' '; }

# --- the runbook's first command ------------------------------------------------------------
expect_status 0 "runbook: -n --state stuck --group-by comm,state" \
	in_ns "$ns" "$SR" -n --state stuck --group-by comm,state
check "runbook: leaky-a 7 close-wait first, leaky-b 3, $fw2 ownerless fin-wait-2" \
	[ "$(groups "$TMP/out" | grep -v fin-wait-2)" = "$(printf '7 leaky-a close-wait\n3 leaky-b close-wait')" ]
check "runbook: orphaned fin-wait-2 counted under - (nobody holds them)" \
	grep -Eq "^ *$fw2 +[^ ]+ +- +fin-wait-2\$" "$TMP/out"
check "runbook: the total line counts every socket" \
	grep -Eq "^ *$((10 + fw2)) +[^ ]+ +total, 3 groups\$" "$TMP/out"
check "runbook: header names the keys" \
	grep -Eq '^COUNT +MAX-IDLE +COMM +STATE$' "$TMP/out"
check "runbook: the sockets are all still there" \
	[ "$(cw_count "$ns" 8501) $(cw_count "$ns" 8502)" = "7 3" ]

# --- on a terminal: sized to it, as the socket table is --------------------------------------
# local,state: the two listeners' ends (7 and 3) and one group per orphaned client end.
python3 tests/helpers/ptyrun.py 6 34 ip netns exec "$ns" "$SR" -n --state stuck \
	--group-by local,state >"$TMP/tty" 2>&1
tr -d '\r' <"$TMP/tty" | grep -v '^sockreap:' >"$TMP/tty.out"
check "terminal: 6 rows: header, 3 groups, what is left, the total" \
	[ "$(wc -l <"$TMP/tty.out")" = 6 ]
check "terminal: the rest is counted ($(grep '^\.\.\.' "$TMP/tty.out"))" \
	grep -q "^\.\.\. $((2 + fw2 - 3)) more groups ($((fw2 - 1)) s" "$TMP/tty.out"
check "terminal: no line wider than 34 columns, long ones cut with >" \
	eval '[ "$(awk "length > 34" "$TMP/tty.out" | wc -l)" = 0 ] && grep -q ">\$" "$TMP/tty.out"'
check "terminal: the largest group first (its state cut off at the edge)" \
	grep -Eq '^ +7 +[^ ]+ +10\.77\.0\.2:8501 +>$' "$TMP/tty.out"

# --- by peer, JSON ----------------------------------------------------------------------------
expect_status 0 "peer: --json --state close-wait --group-by peer" \
	in_ns "$ns" "$SR" -n --json --state close-wait --group-by peer
check "peer: 10.77.0.2 7, 10.77.0.3 3, sorted by count" \
	[ "$(jq -c '[.groups[] | [.peer, .count]]' "$TMP/out")" = '[["10.77.0.2",7],["10.77.0.3",3]]' ]
check "peer: oldest_idle_ms is a number, summary.selected 10, group_by named" \
	[ "$(jq -c '[(.groups[0].oldest_idle_ms | type), .summary.selected, .group_by]' "$TMP/out")" = '["number",10,["peer"]]' ]

# --- by pid and dport: each process's own count ---------------------------------------------
expect_status 0 "pid: --json --state close-wait --group-by pid,sport" \
	in_ns "$ns" "$SR" -n --json --state close-wait --group-by pid,sport
check "pid: leaky-a's pid holds 7 on 8501, leaky-b's 3 on 8502" \
	[ "$(jq -c '[.groups[] | [.pid, .sport, .count]]' "$TMP/out")" = "[[\"$A\",\"8501\",7],[\"$B\",\"8502\",3]]" ]

# --- by unit: the cgroup the leaker was started in ------------------------------------------
# ip netns exec remounts /sys and hides cgroupfs; nsenter --net keeps it.
if [ -n "$cg" ]; then
	expect_status 0 "unit: --json --state close-wait --group-by unit" \
		nsenter --net="/run/netns/$ns" "$SR" -n --json --state close-wait --group-by unit
	check "unit: 7 in $unit, the other 3 in another unit, both known" \
		[ "$(jq -c "[.groups[] | [.unit == \"$unit\", .unit != null, .count]]" "$TMP/out")" = '[[true,true,7],[false,true,3]]' ]
	expect_status 0 "unit: under ip netns exec, units unknown" \
		in_ns "$ns" "$SR" -n --state close-wait --group-by unit
	check "unit: counted under ?, and the warning says why" \
		eval 'grep -Eq "^ +10 +[^ ]+ +\?\$" "$TMP/out" && grep -q "nsenter --net" "$TMP/err"'
else
	skipped "unit: no cgroup v2 group of our own can be made here"
fi

# --- by netns: one run over two namespaces --------------------------------------------------
expect_status 0 "netns: --netns A --netns B --group-by netns" \
	"$SR" -n --json --netns "$ns" --netns "$ns2" --state close-wait --group-by netns
check "netns: $ns 10, $ns2 2" \
	[ "$(jq -c '[.groups[] | [.netns, .count]]' "$TMP/out")" = "[[\"$ns\",10],[\"$ns2\",2]]" ]
expect_status 0 "netns: one namespace is the one group" \
	"$SR" -n --netns "$ns2" --state close-wait --group-by netns
check "netns: $ns2 2 in the table" grep -Eq "^ +2 +[^ ]+ +$ns2\$" "$TMP/out"

# --- refusals: exit 2, nothing killed ---------------------------------------------------------
expect_status 2 "usage: --group-by without --dry-run is refused" \
	in_ns "$ns" "$SR" --yes --no-audit --state close-wait --group-by comm
check "usage: it says to add --dry-run" grep -q 'add -n/--dry-run' "$TMP/err"
check "usage: nothing was killed" [ "$(cw_count "$ns" 8501) $(cw_count "$ns" 8502)" = "7 3" ]
expect_status 2 "usage: unknown key" in_ns "$ns" "$SR" -n --state close-wait --group-by comm,pier
check "usage: the bad key is quoted and the valid ones listed" \
	grep -q 'unknown key "pier" (keys: state, pid, comm, local, peer, dport, sport, uid, unit, netns)' "$TMP/err"
