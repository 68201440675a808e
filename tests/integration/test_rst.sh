#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The rst engine on real sockets: two namespaces joined by a veth pair (addresses that exist
# only there), the local end of one connection per state in the first, the peer end in the
# second. Every probe and reset goes to those addresses; nothing leaves the namespaces.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

PAIRRIG=${PAIRRIG:-build/tests/pairrig}
require_netns rst

# veth_pair: two namespaces ($L local, $P peer) joined by a veth pair, IPv4 and IPv6.
veth_pair() {
	ns_new L || return 1
	ns_new P || return 1
	ip link add "vl$$" netns "$L" type veth peer name "vp$$" netns "$P" || return 1
	ip -n "$L" addr add 10.99.0.1/24 dev "vl$$"
	ip -n "$L" addr add 10.99.0.11/24 dev "vl$$"
	ip -n "$P" addr add 10.99.0.2/24 dev "vp$$"
	ip -n "$L" addr add fd99::1/64 dev "vl$$" nodad
	ip -n "$L" addr add fd99::11/64 dev "vl$$" nodad
	ip -n "$P" addr add fd99::2/64 dev "vp$$" nodad
	ip -n "$L" link set "vl$$" up
	ip -n "$P" link set "vp$$" up
}

# pair_start VAR ARGS...: starts pairrig (it enters the namespaces itself); VAR_in/VAR_out fds.
pair_start() {
	local var=$1 line
	shift
	local fin="$TMP/$var.$L.in" fout="$TMP/$var.$L.out"
	mkfifo "$fin" "$fout"
	"$PAIRRIG" -l "/run/netns/$L" -r "/run/netns/$P" "$@" <"$fin" >"$fout" &
	RIG_PIDS+=($!)
	exec {w}>"$fin"
	exec {r}<"$fout"
	printf -v "${var}_in" '%s' "$w"
	printf -v "${var}_out" '%s' "$r"
	read -r -t 60 line <&"$r" && [ "$line" = ready ]
}

# pair_cmd VAR CMD: sends a command, prints the answer up to "end" or one line ("ok").
pair_cmd() {
	local w="${1}_in" r="${1}_out" line
	echo "$2" >&"${!w}"
	while read -r -t 30 line <&"${!r}"; do
		[ "$line" = end ] && break
		echo "$line"
		[ "$line" = ok ] && break
	done
}

# states_in NS PORT_FROM PORT_TO: the TCP states the kernel lists on those local ports.
states_in() {
	ip netns exec "$1" ss -tanH state all "( sport >= :$2 and sport <= :$3 )" |
		awk '{print $1}' | sort | tr '\n' ' '
}

# peers_in NS PORT_FROM PORT_TO: the same, for sockets whose peer port is in the range.
peers_in() {
	ip netns exec "$1" ss -tanH state all "( dport >= :$2 and dport <= :$3 )" |
		awk '{print $1}' | sort | tr '\n' ' '
}

run_family() {
	local fam=$1 la=$2 lx=$3 pa=$4 base=$5
	local last=$((base + 5)) keep=$((base + 6))

	veth_pair || { not_ok "rst $fam: cannot build the veth pair"; return; }
	if ! pair_start R -a "$la" -A "$lx" -b "$pa" -p "$base" close-wait established \
		fin-wait-2 fin-wait-2-orphan last-ack time-wait established; then
		not_ok "rst $fam: pairrig did not start"
		return
	fi
	# The peer cannot acknowledge the last-ack connection's FIN: it stays in LAST_ACK.
	ip -n "$P" route add blackhole "$lx" >/dev/null
	pair_cmd R last-ack >/dev/null
	sleep 0.2
	check "rst $fam: the kernel lists every state ($(states_in "$L" "$base" "$keep"))" \
		[ "$(states_in "$L" "$base" "$keep")" = "CLOSE-WAIT ESTAB ESTAB FIN-WAIT-2 FIN-WAIT-2 LAST-ACK TIME-WAIT " ]

	expect_status 0 "rst $fam: kill six states" in_ns "$L" "$SR" --engine rst --yes --json \
		--audit-log "$TMP/audit-$fam.log" "sport $base-$last"
	local out="$TMP/rst-$fam.json"
	cp "$TMP/out" "$out"
	check "rst $fam: 6 killed" [ "$(jq '.summary.killed' "$out")" = 6 ]
	check "rst $fam: every outcome names the rst engine" \
		[ "$(jq '[.sockets[] | select(.engine == "rst")] | length' "$out")" = 6 ]
	check "rst $fam: the peer end was reset for all but TIME_WAIT" \
		[ "$(jq -r '[.sockets[] | select(.peer_reset) | .state] | sort | join(",")' "$out")" = \
		  "close-wait,established,fin-wait-2,fin-wait-2,last-ack" ]
	check "rst $fam: stderr says the peer resets cannot be verified from here" \
		grep -q "5 peer ends on other hosts were sent a reset; nothing here can verify them" "$TMP/err"
	check "rst $fam: JSON says reset-sent for those peer ends" \
		[ "$(jq '[.sockets[] | select(.peer_end == "reset-sent")] | length' "$out")" = 5 ]
	check "rst $fam: the kernel lists nothing on the killed ports" \
		[ -z "$(states_in "$L" "$base" "$last")" ]
	check "rst $fam: nor on the peer's side ($(peers_in "$P" "$base" "$last"))" \
		[ -z "$(peers_in "$P" "$base" "$last")" ]
	check "rst $fam: the unrelated connection survives, both ends" \
		[ "$(states_in "$L" "$keep" "$keep")$(peers_in "$P" "$keep" "$keep")" = "ESTAB ESTAB " ]
	check "rst $fam: the audit log records rst results" \
		[ "$(jq -s '[.[] | select(.event == "result" and .engine == "rst") | .cookies[]] | length' \
			"$TMP/audit-$fam.log")" = 6 ]
	local rep
	rep=$(pair_cmd R report | tr '\n' ';')
	check "rst $fam: the owners see the documented errors ($rep)" [ "$rep" = \
"close-wait local=eof+EPIPE peer=ECONNRESET;established local=ECONNRESET peer=ECONNRESET;\
fin-wait-2 local=ECONNRESET peer=eof+EPIPE;fin-wait-2-orphan local=- peer=eof+EPIPE;\
last-ack local=- peer=eof+EPIPE;time-wait local=- peer=-;established local=open peer=open;" ]
	pair_cmd R quit >/dev/null
}

run_family ipv4 10.99.0.1 10.99.0.11 10.99.0.2 7100
run_family ipv6 fd99::1 fd99::11 fd99::2 7200

# --no-peer-reset: the local end dies, the peer end is left as it was.
veth_pair && pair_start N -a 10.99.0.1 -b 10.99.0.2 -p 7300 established || not_ok "peer: setup"
expect_status 0 "no-peer-reset: kill" in_ns "$L" "$SR" --engine rst --no-peer-reset --yes \
	--no-audit --json "sport 7300"
check "no-peer-reset: peer_reset is false" [ "$(jq '.sockets[0].peer_reset' "$TMP/out")" = false ]
check "no-peer-reset: the peer end is still established" [ "$(peers_in "$P" 7300 7300)" = "ESTAB " ]
check "no-peer-reset: the local end is gone" [ -z "$(states_in "$L" 7300 7300)" ]

# tcp_rfc1337=1: TIME_WAIT ignores resets; said so, not counted as killed.
veth_pair && pair_start T -a 10.99.0.1 -b 10.99.0.2 -p 7400 time-wait || not_ok "rfc1337: setup"
ip netns exec "$L" sysctl -qw net.ipv4.tcp_rfc1337=1
expect_status 4 "rfc1337: rst on TIME_WAIT is refused up front" in_ns "$L" "$SR" --engine rst \
	--yes --no-audit --json "sport 7400"
check "rfc1337: the outcome says unsupported(tcp_rfc1337)" \
	[ "$(jq -r '.sockets[0] | "\(.outcome) \(.error)"' "$TMP/out")" = "unsupported tcp_rfc1337" ]
check "rfc1337: stderr names the sysctl and the remedy" \
	grep -q 'net.ipv4.tcp_rfc1337=0' "$TMP/err"
check "rfc1337: the TIME_WAIT is still there" [ "$(states_in "$L" 7400 7400)" = "TIME-WAIT " ]
expect_status 0 "rfc1337: --engine destroy kills it" in_ns "$L" "$SR" --engine destroy --yes \
	--no-audit "sport 7400"

# Firewalls on the output path. 'ct state invalid drop' refuses (EPERM) the out-of-window
# probes conntrack calls invalid (sequence number left of its window) but passes those right
# of it: a fresh random number gets through, so the TIME_WAIT still dies. An anti-spoofing rule
# refuses every probe: said per socket, with the remedy, and nothing else happens.
if command -v nft >/dev/null; then
	veth_pair
	ip netns exec "$L" nft add table inet sr &&
		ip netns exec "$L" nft add chain inet sr out '{ type filter hook output priority 0; }' &&
		ip netns exec "$L" nft add rule inet sr out ct state invalid drop
	pair_start F -a 10.99.0.1 -b 10.99.0.2 -p 7600 time-wait time-wait time-wait close-wait ||
		not_ok "firewall: setup"
	expect_status 0 "firewall: ct state invalid drop: all four killed" in_ns "$L" "$SR" \
		--engine rst --yes --no-audit --json "sport 7600-7603"
	check "firewall: ct state invalid drop: the TIME_WAITs are gone$(jq -r '.sockets[] | select(.outcome != "killed") | " (\(.state): \(.outcome) \(.error))"' "$TMP/out")" \
		[ -z "$(states_in "$L" 7600 7603)" ]
	ip netns exec "$L" nft add rule inet sr out ip saddr 10.99.0.2 drop
	pair_start G -a 10.99.0.1 -b 10.99.0.2 -p 7610 time-wait close-wait || not_ok "firewall: setup"
	expect_status 3 "firewall: anti-spoofing: nothing killed" in_ns "$L" "$SR" --engine rst \
		--yes --no-audit --json "sport 7610-7611"
	check "firewall: anti-spoofing: both say failed(firewall)" \
		[ "$(jq -r '[.sockets[] | "\(.outcome) \(.error)"] | unique | join(",")' "$TMP/out")" = "failed firewall" ]
	check "firewall: stderr names the cause and the remedy" \
		grep -q "firewall.*--engine destroy" "$TMP/err"
	check "firewall: both sockets are still there" \
		[ "$(states_in "$L" 7610 7611)" = "CLOSE-WAIT TIME-WAIT " ]
else
	skipped "firewall: nft is not installed"
fi

# Sockets the rst engine cannot reach: a listener is left alone, and said so.
veth_pair && rig_start S "$L" -a 10.99.0.1 -p 7501 -n 0 listen || not_ok "listen: setup"
expect_status 3 "listen: rst cannot reach a listener (an engine limit, not privilege)" in_ns "$L" "$SR" --engine rst --yes \
	--no-audit --json "state listen and sport 7501"
check "listen: unsupported(rst-cannot-reach-state)" \
	[ "$(jq -r '.sockets[0] | "\(.outcome) \(.error)"' "$TMP/out")" = "unsupported rst-cannot-reach-state" ]
check "listen: the listener is still there" [ "$(states_in "$L" 7501 7501)" = "LISTEN " ]

expect_status 0 "doctor: text (in the local namespace)" in_ns "$L" "$SR" doctor
check "doctor: says which engine this machine will use" grep -q '^This machine will use: destroy' "$TMP/out"
check "doctor: rst works here" grep -q '^  \[ok\] rst ' "$TMP/out"
expect_status 0 "doctor: --json" in_ns "$L" "$SR" doctor --json
check "doctor: JSON names the engine and both checks" \
	[ "$(jq -r '"\(.engine) \(.engines.destroy.status) \(.engines.rst.status)"' "$TMP/out")" = "destroy works works" ]
check "doctor: JSON reports tcp_rfc1337 as set in this namespace" \
	[ "$(jq '.sysctl["net.ipv4.tcp_rfc1337"]' "$TMP/out")" = 0 ]
expect_status 2 "doctor: a bad argument" "$SR" doctor --frobnicate
