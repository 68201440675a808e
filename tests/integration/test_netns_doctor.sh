#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sockreap doctor --netns/--netns-of/--all-netns on real namespaces: the checks run inside each
# namespace (a sysctl set differently in one shows there, a namespace with lo down cannot be
# tried), one section each in text and JSON, a line for one that cannot be opened or entered,
# and the exit status. sockreap starts in a namespace made here ("home").
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns netns_doctor

ns_new home || { not_ok "doctor: home namespace"; exit 0; }
ns_new a || { not_ok "doctor: namespace a"; exit 0; }
ns_new b || { not_ok "doctor: namespace b"; exit 0; }
# b resets nothing in TIME_WAIT (rfc1337): a setting of b's own, which doctor must read there.
ip netns exec "$b" sysctl -qw net.ipv4.tcp_rfc1337=1 || { not_ok "doctor: sysctl in b"; exit 0; }
ia=$(stat -L -c %i "/run/netns/$a")
ib=$(stat -L -c %i "/run/netns/$b")
# An unnamed namespace with lo down: nothing can be tried on a loopback connection there.
rig_spawn U unshare -n sh -c 'echo ready $$; exec cat' || { not_ok "doctor: unnamed namespace"; exit 0; }
iu=$(stat -L -c %i "/proc/$U/ns/net")

expect_status 0 "doctor --netns a --netns b (text)" in_ns "$home" "$SR" doctor --netns "$a" --netns "$b"
check "text: a section per namespace, in order" \
	[ "$(grep '^== ' "$TMP/out" | sed -E 's/, pid [0-9-]+//')" = \
	  "$(printf '== network namespace %s (inode %s)\n== network namespace %s (inode %s)' "$a" "$ia" "$b" "$ib")" ]
check "text: each says which engine it will use" [ "$(grep -c '^This namespace will use: destroy' "$TMP/out")" = 2 ]
check "text: b's own tcp_rfc1337 (1) is read in b, a's (0) in a" \
	[ "$(grep -E '^  tcp_rfc1337 ' "$TMP/out" | awk '{print $2}' | tr '\n' ' ')" = "0 1 " ]

expect_status 4 "doctor --json --netns a --netns-of (the unnamed one's process)" \
	in_ns "$home" "$SR" doctor --json --netns "$a" --netns-of "$U"
check "json: two entries, a then the unnamed one" \
	[ "$(jq -r '[.netns[] | "\(.netns.inode):\(.netns.name)"] | join(" ")' "$TMP/out")" = "$ia:$a $iu:null" ]
check "json: a was entered and destroy works there" \
	[ "$(jq -r '.netns[0] | "\(.entered) \(.engine) \(.engines.destroy.status)"' "$TMP/out")" = "true destroy works" ]
check "json: with lo down nothing could be tried in the unnamed one" \
	[ "$(jq -r '.netns[1] | "\(.entered) \(.engine) \(.engines.destroy.status)"' "$TMP/out")" = "true unknown untested" ]
check "json: and it says why" \
	jq -e '.netns[1].engines.destroy.why | test("lo up")' "$TMP/out" >/dev/null

# The unnamed one has no working engine: exit 4 (above), and the others are still reported.
expect_status 4 "doctor: text, a namespace where no engine works" \
	in_ns "$home" "$SR" doctor --netns "$a" --netns-of "$U"
check "doctor: its section says neither engine can kill" grep -q "^Neither engine can kill sockets here" "$TMP/out"
check "doctor: a's section says destroy" grep -q "^This namespace will use: destroy" "$TMP/out"

expect_status 4 "doctor: a name that does not exist gets its line" \
	in_ns "$home" "$SR" doctor --netns "sr-no-such-$$" --netns "$a"
check "doctor: the line names it" \
	grep -q "^== network namespace --netns \"sr-no-such-$$\"" "$TMP/out"
check "doctor: and says why" grep -q '^  \[NO\] no network namespace of that name in /run/netns' "$TMP/out"
check "doctor: a is still examined" grep -q "^== network namespace $a " "$TMP/out"

if command -v setpriv >/dev/null; then
	expect_status 4 "doctor: nobody cannot enter b (EPERM)" \
		in_ns "$home" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SR" doctor --json --netns "$b"
	check "doctor: JSON says not entered, and why" \
		[ "$(jq -r '.netns[0] | "\(.entered) \(.error)"' "$TMP/out")" = \
		  "false cannot enter it: Operation not permitted (needs CAP_SYS_ADMIN)" ]
else
	skipped "doctor: EPERM as nobody: setpriv is not installed (util-linux)"
fi

# --all-netns tries the engines in every namespace on the machine: here only as nobody, who
# may enter none but its own and holds no capability, so nothing is tried anywhere.
if command -v setpriv >/dev/null; then
	expect_status 4 "doctor --all-netns as nobody" \
		in_ns "$home" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SR" doctor --all-netns --json
	ih=$(stat -L -c %i "/run/netns/$home")
	check "all: home is looked at (entered: no setns needed)" \
		[ "$(jq -r --argjson h "$ih" '.netns[] | select(.netns.inode == $h) | "\(.entered) \(.engine)"' "$TMP/out")" = "true unknown" ]
	check "all: a and b are listed, not entered (EPERM)" \
		[ "$(jq -r --argjson a "$ia" --argjson b "$ib" '[.netns[] | select(.netns.inode == ($a, $b)) | .entered] | join(" ")' "$TMP/out")" = "false false" ]
else
	skipped "doctor --all-netns as nobody: setpriv is not installed (util-linux)"
fi
expect_status 2 "doctor: --all-netns with --netns is refused" \
	in_ns "$home" "$SR" doctor --all-netns --netns "$a"
