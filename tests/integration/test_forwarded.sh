#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --forwarded: flows that only pass through a router. Three namespaces the test makes:
# client (10.91.1.2) - router (forwarding, nftables masquerade out to the server side) -
# server (10.91.2.2); real flows between client and server, sockreap run in the router. No
# packet leaves these namespaces.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

FLOWRIG=${FLOWRIG:-tests/helpers/flowrig.py}
require_netns forwarded
if ! command -v conntrack >/dev/null || ! command -v nft >/dev/null ||
   ! command -v python3 >/dev/null; then
	skipped "forwarded: needs conntrack, nft and python3 (conntrack, nftables, python3)"
	exit 0
fi

ns_new C && ns_new R && ns_new S || { not_ok "forwarded: cannot create namespaces"; exit 0; }
topology() {
	ip -n "$R" link add vrc type veth peer name vc netns "$C" &&
	ip -n "$R" link add vrs type veth peer name vs netns "$S" &&
	ip -n "$C" addr add 10.91.1.2/24 dev vc && ip -n "$C" link set vc up &&
	ip -n "$C" route add default via 10.91.1.1 &&
	ip -n "$R" addr add 10.91.1.1/24 dev vrc && ip -n "$R" link set vrc up &&
	ip -n "$R" addr add 10.91.2.1/24 dev vrs && ip -n "$R" link set vrs up &&
	ip -n "$S" addr add 10.91.2.2/24 dev vs && ip -n "$S" link set vs up &&
	in_ns "$R" sysctl -qw net.ipv4.ip_forward=1 &&
	ip -n "$C" addr add fd91:1::2/64 dev vc nodad && ip -n "$C" route add default via fd91:1::1 &&
	ip -n "$R" addr add fd91:1::1/64 dev vrc nodad && ip -n "$R" addr add fd91:2::1/64 dev vrs nodad &&
	ip -n "$S" addr add fd91:2::2/64 dev vs nodad &&
	in_ns "$R" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
	in_ns "$R" nft -f - <<-'NFT'
	table ip sr_nat {
		chain pre { type nat hook prerouting priority -100; ip daddr 10.91.1.1 tcp dport 9090 dnat to 10.91.2.2:8080; }
		chain post { type nat hook postrouting priority 100; oifname "vrs" masquerade; }
	}
	table ip sr_mark {
		chain marks { type filter hook forward priority 0; tcp dport 8081 ct mark set 7; }
	}
	table ip6 sr_nat6 {
		chain post { type nat hook postrouting priority 100; oifname "vrs" masquerade; }
	}
	NFT
}
if ! topology; then
	not_ok "forwarded: cannot build the client - router - server topology"
	exit 0
fi

flowrig() { # flowrig VAR NS ARGS...
	local var=$1 ns=$2
	shift 2
	rig_spawn "$var" ip netns exec "$ns" python3 -u "$FLOWRIG" "$@"
}
# est NS FILTER: established TCP sockets ss lists there.
est() { in_ns "$1" ss -tnH state established "$2" | grep -c .; }
# jqq FILTER FILE: jq -e without the printed value.
jqq() { jq -e "$@" >/dev/null; }
# ct_count NS ARGS...: the conntrack entries conntrack(8) lists in NS for these filters.
ct_count() {
	local ns=$1
	shift
	in_ns "$ns" conntrack -L "$@" 2>/dev/null | grep -c .
}

flowrig SRV "$S" tcp-server 8080 && flowrig SRV2 "$S" tcp-server 8081 &&
flowrig USRV "$S" udp-server 5353 && flowrig USRV2 "$S" udp-server 5354 &&
flowrig CLI "$C" tcp-client 10.91.2.2 8080 2 && flowrig CLI2 "$C" tcp-client 10.91.2.2 8081 1 &&
flowrig CLI3 "$C" tcp-client 10.91.1.1 9090 1 &&
flowrig SRV6 "$S" tcp-server 8443 :: && flowrig CLI6 "$C" tcp-client fd91:2::2 8443 2 &&
flowrig UCLI "$C" udp-client 10.91.2.2 5353 40000 &&
flowrig UCLI2 "$C" udp-client 10.91.2.2 5354 40001 ||
	{ not_ok "forwarded: the flow rigs did not start"; exit 0; }

run() { in_ns "$R" "$SR" --audit-log "$TMP/audit.log" "$@"; }

# Selection and preview: both directions and the translation, table and JSON.
expect_status 0 "forwarded: dry run selects the two flows to 8080" run --forwarded -n dport 8080
check "forwarded: the preview lists 2 flows" [ "$(grep -c '^tcp ' "$TMP/out")" = 2 ]
check "forwarded: the preview shows the reply direction to the masquerade address" \
	grep -q '10.91.2.2:8080 -> 10.91.2.1:' "$TMP/out"
check "forwarded: the preview names the translation" grep -q ' snat ' "$TMP/out"
check "forwarded: the summary line gives the run's time and its phase" \
	grep -Eq '^sockreap: 2 forwarded flows selected \(dry run: nothing killed; run [0-9.]+ ms: dump [0-9.]+\)$' "$TMP/err"
expect_status 0 "forwarded: JSON preview" run --forwarded -n --json 'dport 8080 and state established'
check "forwarded: JSON has both directions, the NAT and conntrack's state" \
	jqq '(.flows | length) == 2 and all(.flows[]; .original.src.addr == "10.91.1.2" and
		.original.dst.addr == "10.91.2.2" and .reply.dst.addr == "10.91.2.1" and
		.nat == "snat" and .ct_state == "established" and .state == "established")' "$TMP/out"
check "forwarded: a dry run's elapsed_ms is the run's time" jqq '.summary.elapsed_ms > 0' "$TMP/out"
expect_status 0 "forwarded: nat-src and ct-state select the masqueraded flows" \
	run --forwarded -n --json 'nat-src 10.91.2.1 and ct-state established and dport 8080'
check "forwarded: nat-src matched 2" jqq '.flows | length == 2' "$TMP/out"
expect_status 1 "forwarded: nat-dst of another address matches nothing" \
	run --forwarded -n 'nat-dst 10.91.9.9'
expect_status 0 "forwarded: UDP only when named" run --forwarded -n --json --udp dport 5353
check "forwarded: one UDP flow, answered" \
	jqq '(.flows | length) == 1 and .flows[0].protocol == "udp" and
		.flows[0].ct_state != "unreplied"' "$TMP/out"

# From outside: --netns enters the router's namespace, and its conntrack is read there.
expect_status 0 "forwarded: --netns reads the router's conntrack from the host" \
	"$SR" --audit-log "$TMP/audit.log" --netns "$R" --forwarded -n --json 'dport 8080'
check "forwarded: --netns found the router's 2 flows" jqq '.flows | length == 2' "$TMP/out"
# A hostile namespace name is quoted, never written raw to the terminal.
# escaped FILE TEXT: FILE holds TEXT and no escape character.
escaped() { ! grep -q $'\e' "$1" && grep -qF -- "$2" "$1"; }
expect_status 2 "forwarded: --netns of a name that does not exist" \
	"$SR" --audit-log "$TMP/audit.log" --netns $'sr\e[31mx' --forwarded -n 'dport 8080'
check "forwarded: ... the name is escaped, no escape code" escaped "$TMP/err" '"sr\x1b[31mx"'
expect_status 5 "forwarded: --max refuses a larger plan" run --forwarded --yes --max 1 dport 8080
check "forwarded: nothing was touched by the refusal" [ "$(ct_count "$R" -p tcp --dport 8080)" = 2 ]
expect_status 0 "forwarded: --explain" run --forwarded --explain 'dport 8080 and nat-src 10.91.2.1'
check "forwarded: --explain names conntrack and the canonical selector" \
	grep -q 'source:     conntrack' "$TMP/out" && grep -q 'nat-src = 10.91.2.1' "$TMP/out"

# mark and timeout as the kernel reports them (the router's nft rule marks flows to 8081).
expect_status 0 "forwarded: mark selects the entry the firewall marked" \
	run --forwarded -n --json 'mark 7 and timeout > 1h'
check "forwarded: mark 7 is the flow to 8081 alone" \
	jqq '(.flows | length) == 1 and .flows[0].mark == 7 and
		.flows[0].original.dst.port == 8081 and .flows[0].timeout_s > 3600' "$TMP/out"
expect_status 1 "forwarded: an established flow's timeout is not under 1h" \
	run --forwarded -n 'mark 7 and timeout < 1h'

# A connection to the router itself has an entry too, and a socket there: never a forwarded
# flow (an operator's SSH session to the router must not go with --forwarded --all).
if flowrig RSRV "$R" tcp-server 2222 && flowrig RCLI "$C" tcp-client 10.91.1.1 2222 1; then
	expect_status 1 "forwarded: a flow that ends at the router is left out" \
		run --forwarded --yes 'dport 2222'
	check "forwarded: and the run says why" grep -q 'at this host, left out' "$TMP/err"
	check "forwarded: its entry and socket are untouched" \
		[ "$(ct_count "$R" -p tcp --dport 2222)" = 1 ] && [ "$(est "$C" 'dport = :2222')" = 1 ]
else
	not_ok "forwarded: the rigs for a flow to the router did not start"
fi

# "Here" is every address the router delivers locally, not a sample of them: a router with
# hundreds of addresses (a load balancer's VIPs) and a local route for a whole range (AnyIP:
# ip route add local ... dev lo) end flows at the router just the same.
many_addrs() {
	local i
	for ((i = 1; i <= 300; i++)); do
		echo "addr add 10.92.$((i / 250)).$((i % 250 + 1))/32 dev lo"
	done | ip -n "$R" -batch - &&
	ip -n "$R" route add local 10.93.0.0/24 dev lo
}
if many_addrs && flowrig RSRV3 "$R" tcp-server 2223 &&
   flowrig RCLI3 "$C" tcp-client 10.92.1.51 2223 1 && flowrig RCLI4 "$C" tcp-client 10.93.0.7 2223 1
then
	expect_status 1 "forwarded: a flow to the router's 300th address is left out" \
		run --forwarded --yes 'dport 2223 and dst 10.92.1.51'
	expect_status 1 "forwarded: a flow to an address of a local route is left out" \
		run --forwarded --yes 'dport 2223 and dst 10.93.0.7'
	check "forwarded: their entries and sockets are untouched" \
		[ "$(ct_count "$R" -p tcp --dport 2223)" = 2 ] && [ "$(est "$C" 'dport = :2223')" = 2 ]
else
	not_ok "forwarded: the rigs for flows to the router's many addresses did not start"
fi

# Words that do not fit the records.
expect_status 2 "forwarded: pid is refused with --forwarded" run --forwarded -n 'pid 1'
check "forwarded: the refusal names the word" grep -q '"pid" does not apply to forwarded' "$TMP/err"
expect_status 2 "forwarded: --comm is refused with --forwarded" run --forwarded -n --comm sshd
expect_status 2 "forwarded: --group-by is refused with --forwarded" run --forwarded -n --group-by comm 'dport 1'
expect_status 2 "forwarded: ct-state without --forwarded is refused" run -n 'ct-state established'
check "forwarded: the refusal says --forwarded" grep -q 'give --forwarded' "$TMP/err"

# UDP kill: the entry is deleted (the stale-NAT fix), the other flow untouched.
expect_status 0 "forwarded: UDP kill" run --forwarded --yes --udp dport 5353
check "forwarded: the outcome is killed" grep -q 'killed$' "$TMP/out"
check "forwarded: the UDP entry is gone" [ "$(ct_count "$R" -p udp --dport 5353)" = 0 ]
check "forwarded: the UDP flow not selected is untouched" \
	[ "$(ct_count "$R" -p udp --dport 5354)" = 1 ]
check "forwarded: the TCP flows are untouched (4 through, 3 to the router)" [ "$(ct_count "$R" -f ipv4 -p tcp)" = 7 ]
check "forwarded: the audit has the intent and the killed result" \
	jqq -s '([.[] | select(.event == "intent") | .sockets[].cookie]) as $c |
		($c | length) == 1 and
		([.[] | select(.event == "result") | select(.cookies == $c) | .outcome] == ["killed"])' \
		"$TMP/audit.log"
check "forwarded: the audit names the flow's both directions" \
	grep -q '"reply"' "$TMP/audit.log"
echo next >&"$UCLI_in"
read -r -t 30 line <&"$UCLI_out"
check "forwarded: the next datagram is answered through a fresh mapping" [ "$line" = answered ]
check "forwarded: the router made a fresh entry for it" [ "$(ct_count "$R" -p udp --dport 5353)" = 1 ]
expect_status 1 "forwarded: nothing matched exits 1" run --forwarded --yes --udp dport 5999
expect_status 1 "forwarded: nothing matched, JSON" run --forwarded --yes --json --udp dport 5999
check "forwarded: a kill of nothing has the outcome counts (0s) and the run's time" \
	jqq '.summary | .selected == 0 and .killed == 0 and .failed == 0 and .elapsed_ms > 0' "$TMP/out"

# TCP kill: a probe draws each flow's challenge ACK, an exact RST goes to each end through the
# entry (NAT applied), the entry is deleted. Both ends' sockets must be gone; 8081 untouched.
check "forwarded: before the kill, client and server hold the 8080 connections" \
	[ "$(est "$C" 'dport = :8080')" = 2 ] && [ "$(est "$S" 'sport = :8080')" = 3 ]
expect_status 0 "forwarded: TCP kill of the flows to 8080" \
	run --forwarded --yes 'dst 10.91.2.2 and dport 8080'
check "forwarded: both flows killed" [ "$(grep -c ' killed$' "$TMP/out")" = 2 ]
check "forwarded: the summary line gives the run's time and phases, the kill's too" \
	grep -Eq '^sockreap: 2 forwarded flows selected: 2 killed \(run [0-9.]+ ms: dump [0-9.]+, kill [0-9.]+\)$' "$TMP/err"
# gone NS FILTER N: waits (bounded) until N established sockets are left for the filter.
gone() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(est "$1" "$2")" = "$3" ] && return 0
		sleep 0.01
	done
	return 1
}
check "forwarded: the client's sockets are reset" gone "$C" 'dport = :8080' 0
check "forwarded: the server's sockets are reset (the DNAT'd one left)" \
	gone "$S" 'sport = :8080' 1
check "forwarded: their conntrack entries are gone" \
	[ "$(ct_count "$R" -p tcp --orig-dst 10.91.2.2 --dport 8080)" = 0 ]
check "forwarded: the flow to 8081 is untouched (client)" [ "$(est "$C" 'dport = :8081')" = 1 ]
check "forwarded: the flow to 8081 is untouched (conntrack)" \
	[ "$(ct_count "$R" -p tcp --dport 8081)" = 1 ]
check "forwarded: the audit says killed for each" \
	jqq -s '[.[] | select(.event == "result" and .outcome == "killed") | .cookies[]] |
		length >= 3' "$TMP/audit.log"

# Destination NAT (a Service address in front of a backend, as on a Kubernetes node) and
# masquerade both: each end gets its reset with the addresses it knows.
expect_status 0 "forwarded: the DNAT'd flow is selected by nat-dst" \
	run --forwarded -n --json 'nat-dst 10.91.2.2 and dport 9090'
check "forwarded: its translation is snat+dnat" \
	jqq '(.flows | length) == 1 and .flows[0].nat == "snat+dnat" and
		.flows[0].reply.src.addr == "10.91.2.2" and .flows[0].reply.src.port == 8080' "$TMP/out"
expect_status 0 "forwarded: TCP kill of the DNAT'd flow" run --forwarded --yes 'dport 9090'
check "forwarded: the client's socket to the Service address is reset" \
	gone "$C" 'dport = :9090' 0
check "forwarded: the backend's socket is reset" gone "$S" 'sport = :8080' 0
check "forwarded: its entry is gone" [ "$(ct_count "$R" -p tcp --dport 9090)" = 0 ]

# A destination that died (a Kubernetes backend pod gone, a server's host lost) answers no
# probe; the source's own challenge ACK says what it expects: its end is reset through the
# entry, and the entry goes. The server's firewall drops everything to 8083 to play dead.
if flowrig DSRV "$S" tcp-server 8083 && flowrig DCLI "$C" tcp-client 10.91.2.2 8083 1 &&
   in_ns "$S" nft -f - <<-'NFT'
	table inet sr_dead {
		chain in { type filter hook input priority 0; tcp dport 8083 drop; }
	}
	NFT
then
	expect_status 0 "forwarded: a flow whose destination died is killed" \
		run --forwarded --yes 'dport 8083'
	check "forwarded: ... outcome killed" grep -q ' killed$' "$TMP/out"
	check "forwarded: ... the client's socket is reset" gone "$C" 'dport = :8083' 0
	check "forwarded: ... its entry is gone" [ "$(ct_count "$R" -p tcp --dport 8083)" = 0 ]
else
	not_ok "forwarded: the rigs for a dead destination did not start"
fi

# Data in flight towards the source (lost on its way: the router drops the server's data
# segments to it): the destination has sent more than the source has; the source's own ACK
# says what it expects, so its reset is exact.
lossy() {
	in_ns "$R" nft -f - <<-'NFT'
	table ip sr_lose {
		chain lose { type filter hook forward priority 0; ip saddr 10.91.2.2 tcp sport 8084 meta length > 100 drop; }
	}
	NFT
}
# unacked NS: what the server's socket on 8084 has sent and not had acknowledged (Send-Q).
unacked() { in_ns "$S" ss -tnH state established 'sport = :8084' | awk '{print $2}'; }
if lossy && rig_spawn WSRV ip netns exec "$S" python3 -u -c '
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 8084))
ls.listen()
print("ready", flush=True)
c, _ = ls.accept()
sys.stdin.readline()
c.send(b"x" * 1000)
print("sent", flush=True)
sys.stdin.read()' && flowrig WCLI "$C" tcp-client 10.91.2.2 8084 1; then
	echo go >&"$WSRV_in"
	read -r -t 30 line <&"$WSRV_out"
	for ((i = 0; i < 300; i++)); do [ "$(unacked)" = 1000 ] && break; sleep 0.01; done
	check "forwarded: 1,000 bytes in flight to the client, lost" [ "$(unacked)" = 1000 ]
	expect_status 0 "forwarded: a flow with data in flight to its source is killed" \
		run --forwarded --yes 'dport 8084'
	check "forwarded: ... the client's socket is reset" gone "$C" 'dport = :8084' 0
	check "forwarded: ... the server's too" gone "$S" 'sport = :8084' 0
	check "forwarded: ... its entry is gone" [ "$(ct_count "$R" -p tcp --dport 8084)" = 0 ]
else
	not_ok "forwarded: the rigs for data in flight did not start"
fi

# doctor: conntrack readable here, and not without CAP_NET_ADMIN.
in_ns "$R" "$SR" doctor --json >"$TMP/doc" 2>&1
check "forwarded: doctor says conntrack works in the router" \
	jqq '.conntrack.status == "works"' "$TMP/doc"
if command -v setpriv >/dev/null; then
	in_ns "$R" setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$SR" doctor --json \
		>"$TMP/doc" 2>&1
	check "forwarded: doctor says conntrack needs CAP_NET_ADMIN without it" \
		jqq '.conntrack.status == "fails" and (.conntrack.why | test("CAP_NET_ADMIN"))' \
		"$TMP/doc"
	expect_status 4 "forwarded: a run without CAP_NET_ADMIN exits 4" \
		in_ns "$R" setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$SR" \
		--forwarded -n dport 8080
	check "forwarded: and says what it needs" grep -q 'needs CAP_NET_ADMIN' "$TMP/err"
else
	skipped "forwarded: doctor without CAP_NET_ADMIN: setpriv is not installed (util-linux)"
fi

# IPv6, masqueraded as well.
expect_status 0 "forwarded: IPv6 preview" run --forwarded -n --json -6 'dport 8443'
check "forwarded: IPv6 flows with both directions" \
	jqq '(.flows | length) == 2 and all(.flows[]; .family == "inet6" and
		.original.src.addr == "fd91:1::2" and .reply.dst.addr == "fd91:2::1")' "$TMP/out"
expect_status 0 "forwarded: IPv6 TCP kill" run --forwarded --yes 'dst fd91:2::2 and dport 8443'
check "forwarded: IPv6 both flows killed" [ "$(grep -c ' killed$' "$TMP/out")" = 2 ]
check "forwarded: IPv6 client sockets reset" gone "$C" 'dport = :8443' 0
check "forwarded: IPv6 server sockets reset" gone "$S" 'sport = :8443' 0
check "forwarded: IPv6 entries gone" [ "$(ct_count "$R" -f ipv6 -p tcp --dport 8443)" = 0 ]

# 1,000 flows in one run (bench row 9 times it against conntrack -D).
many() { # many VAR NS ARGS...: a flowrig allowed more descriptors
	local var=$1 ns=$2
	shift 2
	rig_spawn "$var" sh -c 'ulimit -n 8192 && exec ip netns exec "$0" python3 -u "$@"' "$ns" \
		"$FLOWRIG" "$@"
}
if many MSRV "$S" tcp-server 7000 && many MCLI "$C" tcp-client 10.91.2.2 7000 1000; then
	# At a glance on a terminal (#13): counts, the first rows, the way to see the rest.
	in_ns "$R" python3 tests/helpers/ptyrun.py 24 100 "$SR" --forwarded -n 'dport 7000' \
		>"$TMP/tty" 2>&1
	check "forwarded: 1,000 flows on a terminal: a dry run exits 0" [ "$?" = 0 ]
	check "forwarded: ... counts by state" grep -qF "1000 flows: established 1000" "$TMP/tty"
	check "forwarded: ... then says how to see the rest" \
		grep -qE '^\.\.\. [0-9]+ more; --dry-run -j or a pipe shows all' "$TMP/tty"
	check "forwarded: ... within 24 rows and 100 columns" \
		awk 'length($0) > 100 { bad = 1 } END { exit bad || NR > 24 }' "$TMP/tty"
	in_ns "$R" python3 tests/helpers/ptyrun.py 24 100 --answer $'n\n' "$SR" \
		--audit-log "$TMP/audit.log" --forwarded 'dport 7000' >"$TMP/tty" 2>&1
	check "forwarded: ... declined: exit 5" [ "$?" = 5 ]
	check "forwarded: ... the preview before the prompt is a summary" \
		grep -qF "1000 flows: established 1000" "$TMP/tty" &&
		[ "$(grep -c '^tcp ' "$TMP/tty")" -lt 24 ]
	check "forwarded: ... then the prompt" grep -qF 'Kill 1000 forwarded flows? [y/N]' "$TMP/tty"
	check "forwarded: ... and nothing killed" [ "$(ct_count "$R" -p tcp --dport 7000)" = 1000 ]
	expect_status 0 "forwarded: 1,000 flows killed in one run" \
		run --forwarded --yes --json 'dport 7000'
	check "forwarded: 1,000 killed ($(jq -r '.summary.elapsed_ms' "$TMP/out" 2>/dev/null) ms)" \
		jqq '.summary.killed == 1000' "$TMP/out"
	check "forwarded: no client socket of the 1,000 left" gone "$C" 'dport = :7000' 0
	check "forwarded: no server socket of the 1,000 left" gone "$S" 'sport = :7000' 0
	check "forwarded: no entry of the 1,000 left" [ "$(ct_count "$R" -p tcp --dport 7000)" = 0 ]
else
	not_ok "forwarded: the 1,000-flow rigs did not start"
fi
