#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The selector on a mixed population of real sockets (states, ports, IPv4/IPv6, several owners,
# UDP): each preview is compared with the kernel's own answer through ss and the same filter.
# Port and address tests run in the kernel as bytecode, so this also checks that the kernel
# never drops a socket the selector matches.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns selector

# exe_check DESC: the 4 sockets of rig P1 must be selected to kill by `exe`, not merely listed
# as skipped for an unknown owner. The kernel names P1's executable as seen from the mount
# namespace `ip netns exec` made: under a chroot that is not $PWD/build/tests/sockrig but the
# path from that namespace's root. So take the path the kernel reports, and make sure by device
# and inode that it is our rig.
exe_check() {
	local rig_exe
	rig_exe=$(in_ns "$NS" readlink "/proc/$P1/exe")
	if [ "$(stat -L -c %d:%i "/proc/$P1/exe")" != "$(stat -c %d:%i "$RIG")" ]; then
		not_ok "$1: /proc/$P1/exe ($rig_exe) is not $RIG"
		return
	fi
	check "$1 ($rig_exe)" [ "$(in_ns "$NS" "$SR" --dry-run --json \
		"exe $rig_exe and sport = :8001" 2>/dev/null |
		jq '[.sockets[] | select(.outcome != "skipped")] | length')" = 4 ]
}

ns_new NS || { not_ok "selector: namespace"; exit 0; }
rig_start P1 "$NS" -p 8001 -n 4 close-wait || { not_ok "selector: rig P1"; exit 0; }
if [ -n "${SR_EXE_ONLY:-}" ]; then
	exe_check "selector: exe under a chroot"
	exit 0
fi
rig_start P2 "$NS" -p 8002 -n 3 established || { not_ok "selector: rig P2"; exit 0; }
rig_start P3 "$NS" -a ::1 -p 8003 -n 2 close-wait || { skipped "selector: no IPv6 loopback"; exit 0; }
rig_start P4 "$NS" -p 8004 -n 3 time-wait || { not_ok "selector: rig P4"; exit 0; }
rig_start P5 "$NS" -p 8005 -n 2 udp || { not_ok "selector: rig P5"; exit 0; }
rig_start P6 "$NS" -p 8006 -n 2 fin-wait-2 || { not_ok "selector: rig P6"; exit 0; }

# Endpoints as ss prints them, one "local peer" line per socket, sorted.
ours() {
	in_ns "$NS" "$SR" --dry-run --json "$@" 2>/dev/null |
		jq -r '.sockets[] | [.local, .peer]
			| map((if .port == 0 then "*" else (.port | tostring) end) as $p
				| if (.addr | contains(":")) then "[\(.addr)]:\($p)" else "\(.addr):\($p)" end)
			| join(" ")' | sort
}
kernels() {
	in_ns "$NS" ss -H -n "$@" | awk '{print $(NF-1) " " $NF}' | sort
}

# same DESC 'OUR SELECTOR' SS-ARGS...
same() {
	local desc=$1 sel=$2 a b
	shift 2
	a=$(ours "$sel")
	b=$(kernels "$@")
	if [ "$a" = "$b" ] && [ -n "$a" ]; then
		ok "selector: $desc ($(wc -l <<<"$a") sockets, as ss says)"
	else
		not_ok "selector: $desc: sockreap [$(tr '\n' ',' <<<"$a")] ss [$(tr '\n' ',' <<<"$b")]"
	fi
}

same "sport = :8001" 'sport = :8001' -t exclude listening 'sport = :8001'
same "dport == :8002" 'dport == :8002' -t exclude listening 'dport = :8002'
same "port range by ordering" 'sport >= 8003 and sport <= 8004' -t exclude listening 'sport >= :8003 and sport <= :8004'
same "sport range A-B" 'sport 8001-8002' -t exclude listening 'sport >= :8001 and sport <= :8002'
same "src ::1" 'src ::1' -t exclude listening 'src [::1]'
same "src [::1]:8003 (ss form)" 'src [::1]:8003' -t exclude listening 'src [::1]:8003'
same "dst and not dport" 'dst 127.0.0.1 and not dport = :8002' -t exclude listening 'dst 127.0.0.1 and not dport = :8002'
same "or of ports" 'dport = :8001 or dport = :8002' -t exclude listening '( dport = :8001 or dport = :8002 )'
same "CIDR" 'dst 127.0.0.0/8 and sport = :8002' -t exclude listening 'dst 127.0.0.0/8 and sport = :8002'
same "state close-wait" 'state close-wait' -t state close-wait
same "state stuck" 'state stuck' -t state close-wait state fin-wait-2 state last-ack state closing
same "state time-wait with a port ordering" 'state time-wait and sport > 30000' -t state time-wait 'sport > :30000'
same "state bucket" 'state bucket' -t state syn-recv state time-wait
same "family inet6" 'family inet6 and state all' -t -6 exclude listening
same "proto udp" 'proto udp' -u -a
same "UDP connected" 'proto udp and state established' -u state established
same "not (a or b)" 'state connected and not (sport = :8001 or dport = :8001)' -t state connected 'not ( sport = :8001 or dport = :8001 )'

# Owner predicates: the expected sets come from what each rig holds.
check "selector: pid P1 = its 4 close-wait" [ "$(ours "pid $P1" | wc -l)" = 4 ]
check "selector: pid P2,P6 = 6 + 4 held sockets" [ "$(ours "pid $P2,$P6" | wc -l)" = 10 ]
check "selector: comm and state" [ "$(ours 'comm sockrig and state close-wait' | wc -l)" = "$(kernels -t state close-wait | wc -l)" ]
check "selector: comm glob" [ "$(ours 'comm "sock*" and sport = :8002' | wc -l)" = 3 ]
exe_check "selector: exe"
if [ -z "${SR_EXE_ONLY:-}" ]; then
	# The same with the tree under a chroot (all of / bind-mounted below /tmp, in a mount
	# namespace of its own that vanishes with it): there the kernel's path for the rig is not
	# $PWD's.
	if ! command -v chroot >/dev/null || ! unshare -m --propagation private true 2>/dev/null; then
		skipped "selector: exe under a chroot: no chroot, or no mount namespace of our own here"
	else
		unshare -m --propagation private bash -c 'r=$(mktemp -d /tmp/sockreap-chroot.XXXXXX) || exit 1
			if ! mount --rbind / "$r"; then
				echo "skipped - selector: exe under a chroot: cannot bind-mount / here"
				rmdir "$r"
				exit 0
			fi
			chroot "$r" env SR_EXE_ONLY=1 bash "$0"; s=$?
			umount -R "$r"; rmdir "$r"; exit $s' "$(realpath "$0")" 2>&1 |
			grep -E '^(ok|not ok|skipped) - ' ||
			not_ok "selector: exe under a chroot printed nothing"
	fi
fi
# The rigs are children of this shell.
check "selector: ppid" [ "$(ours "ppid $$ and sport = :8001" | wc -l)" = 4 ]
check "selector: ppid of someone else" [ "$(ours "ppid 1 and sport = :8001" | wc -l)" = 0 ]
check "selector: not pid keeps the unowned out of owner logic" \
	[ "$(ours "state time-wait and not pid $P4" | wc -l)" = 3 ]
check "selector: uid root" [ "$(ours 'uid root and sport = :8001' | wc -l)" = 4 ]
check "selector: idle 0ms and recv-q" [ "$(ours 'idle >= 0ms and recv-q > 0 and sport = :8001' | wc -l)" = 4 ]
check "selector: cookie of one socket" \
	[ "$(ours "cookie $(in_ns "$NS" "$SR" -n -j --sport 8001 2>/dev/null | jq -r '.sockets[0].cookie')" | wc -l)" = 1 ]

# The same selector as flags.
check "selector: flags equal the expression" \
	[ "$(ours --state close-wait --sport 8001 --comm sockrig)" = "$(ours 'state close-wait and sport = :8001 and comm sockrig')" ]

# What runs in the kernel.
in_ns "$NS" "$SR" --explain 'state close-wait and dport = :5432 and src 10.0.0.0/8' >"$TMP/explain"
check "selector: --explain shows the port test in the kernel" grep -q 'dport = 5432' "$TMP/explain"
check "selector: --explain shows the address test in the kernel" grep -q 'src 10.0.0.0/8' "$TMP/explain"
check "selector: --explain shows the state mask" grep -qx 'kernel:     states close-wait' "$TMP/explain"
