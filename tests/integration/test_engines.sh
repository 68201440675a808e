#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The engines never report a false outcome and never touch what the preview did not show, on
# real sockets in namespaces of our own: an SO_REUSEPORT group (a destroy lands on a sibling),
# a verification dump that fails (LD_PRELOAD shim), connections whose peer end is a local socket.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

SHIM=${FAILDUMP:-build/tests/faildump.so}
require_netns engines

# listeners NS PORT: how many listeners the kernel lists on the port.
listeners() {
	ip netns exec "$1" ss -tlnH "sport = :$2" | wc -l
}

# --- SO_REUSEPORT: the kernel's lookup for a destroy picks one member of the group by hash and
# answers ENOENT for the others' cookies; sockreap must retry until every planned one is gone.
ns_new A
if rig_start R "$A" -a 127.0.0.1 -p 7700 -n 4 reuseport; then
	check "reuseport: four listeners share the port" [ "$(listeners "$A" 7700)" = 4 ]
	expect_status 0 "reuseport: destroy the group" in_ns "$A" "$SR" --engine destroy --yes \
		--no-audit --json 'state listen and sport = :7700'
	check "reuseport: 4 killed ($(jq -c '.summary' "$TMP/out" 2>/dev/null))" \
		[ "$(jq '.summary.killed' "$TMP/out")" = 4 ]
	check "reuseport: ss lists none" [ "$(listeners "$A" 7700)" = 0 ]
else
	not_ok "reuseport: sockrig did not start"
fi

# Two processes, two listeners each, one group: only the first's are selected. What the group
# hides behind an unselected sibling ends failed(reuseport-sibling); nothing unselected dies.
if rig_start P1 "$A" -a 127.0.0.1 -p 7701 -n 2 reuseport &&
	rig_start P2 "$A" -a 127.0.0.1 -p 7701 -n 2 reuseport; then
	in_ns "$A" "$SR" --engine destroy --yes --no-audit --json \
		"state listen and sport = :7701 and pid $P1" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	killed=$(jq '.summary.killed' "$TMP/out")
	sib=$(jq '[.sockets[] | select(.outcome == "failed" and .error == "reuseport-sibling")] | length' "$TMP/out")
	check "reuseport sibling: each selected listener killed or failed(reuseport-sibling) ($killed, $sib)" \
		[ "$((killed + sib))" = 2 ]
	check "reuseport sibling: exit $rc says whether all were killed" \
		[ "$rc" = "$([ "$sib" = 0 ] && echo 0 || echo 3)" ]
	if [ "$sib" != 0 ]; then
		check "reuseport sibling: stderr says to select the whole group" \
			grep -q "SO_REUSEPORT.*select the whole group" "$TMP/err"
	fi
	check "reuseport sibling: the unselected process's listeners all survive" \
		[ "$(ip netns exec "$A" ss -tlnpH "sport = :7701" | grep -c "pid=$P2,")" = 2 ]
	check "reuseport sibling: what was not killed is still listed" \
		[ "$(listeners "$A" 7701)" = "$((2 + sib))" ]
else
	not_ok "reuseport sibling: sockrig did not start"
fi

# --- A verification dump that fails: the first dump after the collection's. Outcomes are
# failed(unverified), exit 3, and the audit log says so; never "killed".
ns_new B
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
if [ ! -e "$SHIM" ]; then
	not_ok "unverified: $SHIM is not built"
else
	port=7710
	# More than one batch of exact lookups (256), which would verify a smaller plan without
	# a dump: the verification is then a dump, the one the shim makes fail.
	nv=260
	for engine in destroy rst; do
		if ! rig_start "C$port" "$B" -a 127.0.0.1 -p "$port" -n $nv close-wait; then
			not_ok "unverified $engine: sockrig did not start"
			continue
		fi
		sel="state close-wait and sport = :$port"
		in_ns "$B" env SR_DUMP_COUNT="$TMP/count" LD_PRELOAD="$PWD/$SHIM" "$SR" --dry-run \
			"$sel" >/dev/null 2>&1
		n=$(cat "$TMP/count" 2>/dev/null)
		check "unverified $engine: the shim counted the collection's dumps ($n)" [ -n "$n" ]
		expect_status 3 "unverified $engine: a failed verification dump" in_ns "$B" \
			env SR_FAIL_DUMP=$((n + 1)) LD_PRELOAD="$PWD/$SHIM" "$SR" --engine "$engine" \
			--yes --json --audit-log "$TMP/audit-$engine.log" "$sel"
		check "unverified $engine: every outcome is failed(unverified) ($(jq -r '[.sockets[] | "\(.outcome) \(.error)"] | unique | join(",")' "$TMP/out"))" \
			[ "$(jq -r '[.sockets[] | "\(.outcome) \(.error)"] | unique | join(",")' "$TMP/out")" = "failed unverified" ]
		check "unverified $engine: summary 0 killed, $nv failed" \
			[ "$(jq -r '"\(.summary.killed) \(.summary.failed) \(.summary.exit_status)"' "$TMP/out")" = "0 $nv 3" ]
		check "unverified $engine: stderr says the kill could not be verified" \
			grep -q "$nv sockets could not be verified" "$TMP/err"
		check "unverified $engine: the audit log records failed(unverified)" \
			[ "$(jq -s '[.[] | select(.event == "result" and .outcome == "failed" and .error == "unverified") | .cookies[]] | length' "$TMP/audit-$engine.log")" = $nv ]
		check "unverified $engine: the audit summary says exit 3" \
			[ "$(jq -s '[.[] | select(.event == "summary")][0].exit_status' "$TMP/audit-$engine.log")" = 3 ]
		port=$((port + 1))
	done
fi

# --- rst and a connection between two local sockets: the peer end is a socket here. Only the
# server end selected: the client end (not in the preview) stays established, and the output
# says its reset was left alone. Both ends selected: both killed, each by its own reset.
ns_new C
if rig_start E "$C" -a 127.0.0.1 -p 7720 -n 1 established; then
	expect_status 0 "local peer: rst on the server end only" in_ns "$C" "$SR" --engine rst \
		--yes --no-audit --json 'state established and sport = :7720'
	check "local peer: killed, peer end left alone ($(jq -c '.sockets[0] | [.outcome, .peer_reset, .peer_end]' "$TMP/out"))" \
		[ "$(jq -r '.sockets[0] | "\(.outcome) \(.peer_reset) \(.peer_end)"' "$TMP/out")" = "killed false local-left" ]
	check "local peer: the client end is still established" \
		[ "$(ip netns exec "$C" ss -tanH state established "dport = :7720" | wc -l)" = 1 ]
	check "local peer: its owner sees it open, the server end reset" \
		[ "$(rig_report E)" = "held=2 closed=1 eof=0 ECONNABORTED=0 ECONNRESET=1 EAGAIN=1 other=0" ]
else
	not_ok "local peer: sockrig did not start"
fi
if rig_start F "$C" -a 127.0.0.1 -p 7721 -n 1 established; then
	in_ns "$C" "$SR" --engine rst --yes --no-audit 'state established and port = :7721' \
		>"$TMP/table" 2>"$TMP/err"
	check "local peer: both ends selected: the table says killed(rst) for both" \
		[ "$(grep -c 'killed(rst) ' "$TMP/table")" = 2 ]
	check "local peer: both ends gone ($(ip netns exec "$C" ss -tanH '( sport = :7721 or dport = :7721 )' | awk '{print $1}' | tr '\n' ' '))" \
		[ "$(ip netns exec "$C" ss -tanH '( sport = :7721 or dport = :7721 )' | awk '{print $1}')" = LISTEN ]
else
	not_ok "local peer: sockrig did not start"
fi
if rig_start G "$C" -a 127.0.0.1 -p 7722 -n 1 established; then
	expect_status 0 "local peer: both ends, JSON" in_ns "$C" "$SR" --engine rst --yes \
		--no-audit --json 'state established and port = :7722'
	check "local peer: both killed, each peer end local-planned" \
		[ "$(jq -r '[.sockets[] | "\(.outcome) \(.peer_end)"] | unique | join(",")' "$TMP/out")" = "killed local-planned" ]
	check "local peer: two sockets in the plan" [ "$(jq '.summary.killed' "$TMP/out")" = 2 ]
	check "local peer: both owners see a reset" \
		[ "$(rig_report G)" = "held=2 closed=2 eof=0 ECONNABORTED=0 ECONNRESET=2 EAGAIN=0 other=0" ]
else
	not_ok "local peer: sockrig did not start"
fi
expect_status 0 "local peer: an rst dry run states the peer-end rule" in_ns "$C" "$SR" \
	--engine rst --dry-run 'state established and dport = :7720'
check "local peer: ... that a local peer end is killed only if selected" \
	grep -q "local.*only if selected" "$TMP/err"

# --- two runs at once on the same sockets: each socket is killed once and claimed once. Without
# one run at a time, a second rst run's reset met sockets the first had killed, and both runs
# reported them killed (2,488 of 3,000 claimed twice in a review).
ns_new D
if rig_start H "$D" -a 127.0.0.1 -p 7730 -n 1500 close-wait; then
	for k in 1 2; do
		in_ns "$D" "$SR" --engine rst --yes --no-audit --json \
			'state close-wait and sport = :7730' >"$TMP/c$k.json" 2>"$TMP/c$k.err" &
		pids[k]=$!
	done
	wait "${pids[1]}" "${pids[2]}"
	killed_cookies() {
		jq -r '.sockets[] | select(.outcome == "killed") | .cookie' "$TMP/c1.json" "$TMP/c2.json"
	}
	claimed=$(killed_cookies | sort | uniq -d | wc -l)
	check "concurrent rst runs: no socket claimed killed twice ($claimed twice, $(killed_cookies | sort -u | wc -l) killed)" \
		[ "$claimed" = 0 ]
	check "concurrent rst runs: every socket killed by one of them" \
		[ "$(ss_count "$D" state close-wait sport = :7730)" = 0 ]
	check "concurrent rst runs: what one killed, the other calls gone or changed ($(jq -r '.sockets[].outcome' "$TMP/c1.json" "$TMP/c2.json" | sort | uniq -c | tr -s ' \n' ' '))" \
		[ -z "$(jq -r '.sockets[].outcome | select(. != "killed" and . != "gone" and . != "changed")' "$TMP/c1.json" "$TMP/c2.json")" ]
else
	not_ok "concurrent: sockrig did not start"
fi
