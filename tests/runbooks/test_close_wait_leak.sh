#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runbook 1: a server leaks CLOSE_WAIT (its clients closed, it never does) while another client
# keeps healthy connections to the same port. The first look (--group-by) finds the process;
# the runbook kills the leaked sockets of that one process; the healthy connections survive and
# still carry data.
cd "$(dirname "$0")/../.." || exit 1
. tests/runbooks/lib.sh

require_netns "runbook close-wait leak"
ns_new ns || { not_ok "close-wait leak: namespace"; exit 0; }
port=7400
rig_spawn S ip netns exec "$ns" "$ECHORIG" -p $port listen || { not_ok "close-wait leak: server"; exit 0; }
rig_spawn L ip netns exec "$ns" "$ECHORIG" -p $port -n 40 connect || { not_ok "close-wait leak: leaking clients"; exit 0; }
rig_spawn H ip netns exec "$ns" "$ECHORIG" -p $port -n 10 connect || { not_ok "close-wait leak: healthy clients"; exit 0; }
check "close-wait leak: healthy clients get echoes before" [ "$(rig_say H "send hello")" = "replied=10 of 10" ]
# The leaking clients go away (FIN sent); the server never closes its ends.
echo quit >&"$L_in"
wait_exit "$L"
check "close-wait leak: 40 CLOSE_WAIT on :$port before" cw_settled "$ns" $port 40
check "close-wait leak: every CLOSE_WAIT is the server's" \
	[ "$(in_ns "$ns" ss -tanpH state close-wait "sport = :$port" | grep -c "pid=$S,")" = 40 ]

# The first look says which program and state pile up, the second which process: its pid
# comes from sockreap's answer, as it would in an incident.
runbook_look "close-wait leak: first look" "$ns" "sockreap -n --state stuck --group-by comm,state"
check "close-wait leak: first look counts 40 echorig close-wait" \
	[ "$(jq -c '[.groups[] | select(.comm == "echorig" and .state == "close-wait") | .count]' \
		"$TMP/out")" = "[40]" ]
runbook_look "close-wait leak: which process" "$ns" "sockreap -n --state STATE --group-by pid" \
	STATE=close-wait
pid=$(jq -r 'if (.groups | length) == 1 and .groups[0].count == 40 then .groups[0].pid else "none" end' \
	"$TMP/out")
check "close-wait leak: it names the server, pid $S, with all 40 ($pid)" [ "$pid" = "$S" ]

runbook "close-wait leak" "$ns" "sockreap --state close-wait --pid PID --yes" PID="$pid"

check "close-wait leak: no CLOSE_WAIT left on :$port" [ "$(cw_count "$ns" $port)" = 0 ]
check "close-wait leak: audit says 40 killed" \
	[ "$(jq -r 'select(.event=="summary") | .killed' "$SOCKREAP_AUDIT_LOG")" = 40 ]
check "close-wait leak: the 10 healthy connections are still ESTABLISHED (both ends)" \
	[ "$(ss_count "$ns" state established "( sport = :$port or dport = :$port )")" = 20 ]
check "close-wait leak: healthy clients still get echoes after" \
	[ "$(rig_say H "send after")" = "replied=10 of 10" ]
check "close-wait leak: the server is still running" kill -0 "$S"
