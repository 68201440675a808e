#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Many namespaces in one run (issue 12): enough of them (10) that their dumps are shared among
# threads (8 or more); every namespace's records must come back, contiguous and in the order
# visited, and the kill must take every selected socket and no other. Each namespace also holds
# an IPv6 CLOSE_WAIT: both families come from one dump. sockreap starts in a namespace made
# here and is given each namespace by name (--netns, repeated), never --all-netns.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns netns_many

N=10
NSS=()
home=
ns_new home || { not_ok "many: home namespace"; exit 0; }
for ((i = 0; i < N; i++)); do
	ns_new ns || { not_ok "many: namespace $i"; exit 0; }
	NSS+=("$ns")
	rig_start "C$i" "$ns" -p 7800 -n 3 close-wait || { not_ok "many: rig C$i"; exit 0; }
	rig_start "S$i" "$ns" -a ::1 -p 7800 -n 1 close-wait || { not_ok "many: rig S$i"; exit 0; }
	rig_start "E$i" "$ns" -p 7801 -n 2 established || { not_ok "many: rig E$i"; exit 0; }
done

# settled NS N: waits (bounded) until N close-wait sockets are listed on port 7800.
settled() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(ss_count "$1" state close-wait "sport = :7800")" = "$2" ] && return 0
		sleep 0.01
	done
	return 1
}
for ns in "${NSS[@]}"; do
	settled "$ns" 4 || { not_ok "many: $ns did not settle"; exit 0; }
done

args=()
inodes=()
for ns in "${NSS[@]}"; do
	args+=(--netns "$ns")
	inodes+=("$(stat -L -c %i "/run/netns/$ns")")
done

expect_status 0 "many: dry run over $N namespaces" \
	in_ns "$home" "$SR" "${args[@]}" --dry-run --json --state close-wait --sport 7800
check "many: the preview lists all $((N * 4)) ($(jq '.sockets | length' "$TMP/out"))" \
	[ "$(jq '.sockets | length' "$TMP/out")" = $((N * 4)) ]
check "many: IPv4 and IPv6 in each namespace" \
	[ "$(jq -r '[.sockets[] | "\(.netns.inode) \(.family)"] | unique | length' "$TMP/out")" = $((N * 2)) ]
# The namespaces in the order their records come, each once: the order given.
order=$(jq -r '.sockets[].netns.inode' "$TMP/out" | uniq | tr '\n' ' ')
check "many: each namespace's records contiguous, in the order visited" \
	[ "$order" = "${inodes[*]} " ]

expect_status 0 "many: kill over $N namespaces" \
	in_ns "$home" "$SR" "${args[@]}" --yes --no-audit --json --state close-wait --sport 7800
check "many: $((N * 4)) killed ($(jq -c '.summary' "$TMP/out" | head -c 200))" \
	[ "$(jq '.summary.killed' "$TMP/out")" = $((N * 4)) ]
left=0
healthy=0
for ns in "${NSS[@]}"; do
	left=$((left + $(ss_count "$ns" state close-wait "sport = :7800")))
	healthy=$((healthy + $(ss_count "$ns" state established "( sport = :7801 or dport = :7801 )")))
done
check "many: no CLOSE_WAIT left ($left)" [ "$left" = 0 ]
check "many: every healthy end still established ($healthy of $((N * 4)))" \
	[ "$healthy" = $((N * 4)) ]
