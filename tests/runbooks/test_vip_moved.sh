#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runbook 4: a service address (VIP) moved away; connections to it are ESTABLISHED here but
# nothing answers at the other end any more. The runbook kills the connections to that address;
# connections to the same service at another address are untouched and still carry data.
cd "$(dirname "$0")/../.." || exit 1
. tests/runbooks/lib.sh

require_netns "runbook vip moved"
ns_new here || { not_ok "vip moved: namespace"; exit 0; }
ns_new there || { not_ok "vip moved: peer namespace"; exit 0; }
veth_pair "$here" 10.77.0.1/24 "$there" 10.77.0.2/24 || { not_ok "vip moved: veth"; exit 0; }
vip=10.77.0.100
ip -n "$there" addr add $vip/24 dev "v-$there" || { not_ok "vip moved: vip"; exit 0; }
port=7700
rig_spawn S ip netns exec "$there" "$ECHORIG" -a 0.0.0.0 -p $port listen || { not_ok "vip moved: server"; exit 0; }
rig_spawn V ip netns exec "$here" "$ECHORIG" -a $vip -p $port -n 20 connect || { not_ok "vip moved: clients of the vip"; exit 0; }
rig_spawn D ip netns exec "$here" "$ECHORIG" -a 10.77.0.2 -p $port -n 8 connect || { not_ok "vip moved: direct clients"; exit 0; }
check "vip moved: the vip answers before it moves" [ "$(rig_say V "send hello")" = "replied=20 of 20" ]
# The address moves away: no host on the link answers for it any more.
ip -n "$there" addr del $vip/24 dev "v-$there"
to_vip() { ss_count "$here" state established "dst $vip"; }
check "vip moved: 20 connections to the vip still ESTABLISHED here" [ "$(to_vip)" = 20 ]

runbook "vip moved" "$here" "sockreap --dst VIP/32 --yes" VIP=$vip

check "vip moved: no connection to the vip left" [ "$(ss_count "$here" "dst $vip")" = 0 ]
seen=$(rig_say V report)
check "vip moved: their holder sees them closed ($seen)" [ "$seen" = "held=20 established=0 closed=20 other=0" ]
check "vip moved: audit says 20 killed" \
	[ "$(jq -r 'select(.event=="summary") | .killed' "$SOCKREAP_AUDIT_LOG")" = 20 ]
check "vip moved: the 8 direct connections are still ESTABLISHED" \
	[ "$(ss_count "$here" state established "dst 10.77.0.2")" = 8 ]
check "vip moved: and still get echoes" [ "$(rig_say D "send after")" = "replied=8 of 8" ]
