#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runbook 3: a process shut down its side of connections whose peer never closes: it holds
# them in FIN_WAIT_2 for ever (tcp_fin_timeout only applies to orphans). The runbook kills that
# process's FIN_WAIT_2 sockets; the peer's CLOSE_WAIT ends get the reset and go too, and the
# same process's other connections are untouched.
cd "$(dirname "$0")/../.." || exit 1
. tests/runbooks/lib.sh

require_netns "runbook fin-wait-2"
ns_new ns || { not_ok "fin-wait-2: namespace"; exit 0; }
port=7600
rig_spawn S ip netns exec "$ns" "$ECHORIG" -p $port listen || { not_ok "fin-wait-2: server"; exit 0; }
rig_spawn C ip netns exec "$ns" "$ECHORIG" -p $port -n 25 connect || { not_ok "fin-wait-2: client"; exit 0; }
rig_spawn H ip netns exec "$ns" "$ECHORIG" -p $port -n 5 connect || { not_ok "fin-wait-2: other client"; exit 0; }
check "fin-wait-2: the client shuts down its side" [ "$(rig_say C shutdown)" = ok ]
fw2() { [ "$(ss_count "$ns" state fin-wait-2 "dport = :$port")" = "$1" ]; }
check "fin-wait-2: 25 FIN_WAIT_2 to :$port before" poll_until 20 fw2 25
check "fin-wait-2: and their 25 CLOSE_WAIT peers" cw_settled "$ns" $port 25

runbook "fin-wait-2" "$ns" "sockreap --state fin-wait-2 --pid PID --yes" PID="$C"

check "fin-wait-2: no FIN_WAIT_2 left" fw2 0
seen=$(rig_say C report)
check "fin-wait-2: the holder sees its 25 sockets closed ($seen)" \
	[ "$seen" = "held=25 established=0 closed=25 other=0" ]
check "fin-wait-2: the peer's CLOSE_WAIT ends got the reset" cw_settled "$ns" $port 0
check "fin-wait-2: audit says 25 killed" \
	[ "$(jq -r 'select(.event=="summary") | .killed' "$SOCKREAP_AUDIT_LOG")" = 25 ]
check "fin-wait-2: the other client still gets echoes" [ "$(rig_say H "send after")" = "replied=5 of 5" ]
