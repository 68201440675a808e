#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The netns predicate on real namespaces: the expression and the flags say the same thing
# (same rows), the namespaces a run visits come from the selector, --all-netns with
# "not netns", the forms (name, path, inode, pid), the errors with a caret, the empty-selector
# guard, and the selector string JSON and the audit show. sockreap starts in a namespace made
# here ("home"); --all-netns is only ever a dry run, and only our namespaces' rows are looked at.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns netns_pred

ino() {
	stat -L -c %i "$1"
}

# rows FILE: "inode:port:cookie" of every socket in a JSON document, sorted.
rows() {
	jq -r '.sockets[] | "\(.netns.inode // "-"):\(.local.port):\(.cookie)"' "$1" | sort
}

# per_ns FILE: "inode:count" per namespace among ours (home, a, b), sorted. A run that visits
# one namespace names it once, at the top.
per_ns() {
	jq -r --argjson h "$ih" --argjson a "$ia" --argjson b "$ib" \
		'.netns.inode as $top | [.sockets[] | (.netns.inode // $top)
		 | select(. == ($h, $a, $b))] | group_by(.) | map("\(.[0]):\(length)") | sort
		 | join(" ")' "$1"
}

# want "ino:n" ...: the same pairs, sorted as per_ns prints them.
want() {
	printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}

ns_new home || { not_ok "netns_pred: home namespace"; exit 0; }
ns_new a || { not_ok "netns_pred: namespace a"; exit 0; }
ns_new b || { not_ok "netns_pred: namespace b"; exit 0; }
rig_start PH "$home" -p 7800 -n 2 close-wait || { not_ok "netns_pred: rig PH"; exit 0; }
rig_start PA "$a" -p 7800 -n 3 close-wait || { not_ok "netns_pred: rig PA"; exit 0; }
rig_start EA "$a" -p 7801 -n 2 established || { not_ok "netns_pred: rig EA"; exit 0; }
rig_start PB "$b" -p 7800 -n 4 close-wait || { not_ok "netns_pred: rig PB"; exit 0; }
cw_settled "$home" 7800 2 && cw_settled "$a" 7800 3 && cw_settled "$b" 7800 4 ||
	{ not_ok "netns_pred: rigs did not settle"; exit 0; }
ih=$(ino "/run/netns/$home")
ia=$(ino "/run/netns/$a")
ib=$(ino "/run/netns/$b")

# --- the expression and the flags: same rows -------------------------------------------------
expect_status 0 "expr: -n 'netns A and state close-wait'" \
	in_ns "$home" "$SR" -n --json "netns $a and state close-wait"
cp "$TMP/out" "$TMP/expr.json"
expect_status 0 "flags: -n --netns A --state close-wait" \
	in_ns "$home" "$SR" -n --json --netns "$a" --state close-wait
cp "$TMP/out" "$TMP/flags.json"
check "same rows from the expression and the flags ($(rows "$TMP/expr.json" | wc -l) rows)" \
	[ "$(rows "$TMP/expr.json")" = "$(rows "$TMP/flags.json")" ]
check "they are a's 3 close-wait sockets" [ "$(per_ns "$TMP/expr.json")" = "$ia:3" ]
check "the JSON selector shows the atom" \
	[ "$(jq -r .selector "$TMP/expr.json")" = "netns = $a and state close-wait" ]
check "the flags' selector shows the same atom" \
	[ "$(jq -r .selector "$TMP/flags.json")" = "state close-wait and netns = $a" ]
check "the dry runs killed nothing" [ "$(cw_count "$a" 7800)" = 3 ]

# --- the other forms: path, inode, pid -----------------------------------------------------------
expect_status 0 "expr: netns /run/netns/A" \
	in_ns "$home" "$SR" -n --json "netns /run/netns/$a and state close-wait"
check "netns PATH: a's 3" [ "$(per_ns "$TMP/out")" = "$ia:3" ]
expect_status 0 "expr: netns inode N" \
	in_ns "$home" "$SR" -n --json "netns inode $ia and state close-wait"
check "netns inode N: a's 3" [ "$(per_ns "$TMP/out")" = "$ia:3" ]
expect_status 0 "expr: netns pid PID (a process in b)" \
	in_ns "$home" "$SR" -n --json "netns pid $PB and state close-wait"
check "netns pid PID: b's 4" [ "$(per_ns "$TMP/out")" = "$ib:4" ]

# --- what is visited comes from the selector ----------------------------------------------------
expect_status 0 "visit: 'netns A or netns B' visits both, not home" \
	in_ns "$home" "$SR" -n --json "(netns $a or netns $b) and state close-wait"
check "a's 3 and b's 4, none of home's ($(per_ns "$TMP/out"))" \
	[ "$(per_ns "$TMP/out")" = "$(want "$ia:3" "$ib:4")" ]
expect_status 0 "visit: 'netns A or sport 7800' visits a and home, not b" \
	in_ns "$home" "$SR" -n --json --state close-wait "netns $a or sport 7800"
check "a's 3 and home's 2, none of b's ($(per_ns "$TMP/out"))" \
	[ "$(per_ns "$TMP/out")" = "$(want "$ia:3" "$ih:2")" ]
expect_status 0 "visit: --explain lists a and home" \
	in_ns "$home" "$SR" --explain --state close-wait "netns $a or sport 7800"
check "--explain: a and home, each once" \
	[ "$(grep -c -e "^netns: *$a (inode $ia" -e "^netns: *ino:$ih (inode $ih" -e "^netns: *$home (inode $ih" "$TMP/out")" = 2 ]
check "--explain: b is not visited" [ "$(grep -c "inode $ib" "$TMP/out")" = 0 ]
expect_status 0 "visit: 'not netns A' without --all-netns stays home" \
	in_ns "$home" "$SR" -n --json "not netns $a and state close-wait and sport 7800"
check "home's 2 only ($(jq '.sockets | length' "$TMP/out") rows)" \
	[ "$(jq '.sockets | length' "$TMP/out")" = 2 ]
expect_status 1 "visit: 'netns A and netns B' can match nowhere" \
	in_ns "$home" "$SR" -n "netns $a and netns $b and state close-wait"

# --- --all-netns: every namespace, and the atom filters -----------------------------------------
expect_status 0 "all: --all-netns -n 'not netns A and state close-wait'" \
	in_ns "$home" "$SR" --all-netns -n --json "not netns $a and state close-wait"
check "all: home's 2 and b's 4, none of a's ($(per_ns "$TMP/out"))" \
	[ "$(per_ns "$TMP/out")" = "$(want "$ih:2" "$ib:4")" ]
expect_status 0 "all: --all-netns -n 'netns A and state close-wait'" \
	in_ns "$home" "$SR" --all-netns -n --json "netns $a and state close-wait"
check "all: only a's 3 ($(jq '.sockets | length' "$TMP/out") rows)" \
	[ "$(jq '.sockets | length' "$TMP/out")" = 3 ] && [ "$(per_ns "$TMP/out")" = "$ia:3" ]

# --- errors: a name in the expression must exist; a missing --netns is skipped ------------------
expect_status 2 "error: netns of a name that does not exist (exit 2)" \
	in_ns "$home" "$SR" --yes --no-audit "state close-wait and netns sr-no-such-$$"
check "error: the message quotes the name" \
	grep -q "no network namespace \"sr-no-such-$$\" in /run/netns" "$TMP/err"
check "error: a caret under the atom" \
	[ "$(sed -n 3p "$TMP/err")" = "$(printf '  %*s%s' 21 '' "$(printf '^%.0s' $(seq 1 $((6 + ${#$} + 11))))")" ]
expect_status 2 "error: netns inode that no namespace has" \
	in_ns "$home" "$SR" -n "netns inode 1"
check "error: says so" grep -q "no network namespace with inode 1 on this host" "$TMP/err"
expect_status 3 "flags: a missing --netns among two is skipped with a line, exit 3" \
	in_ns "$home" "$SR" -n --json --netns "sr-no-such-$$" --netns "$a" --state close-wait
check "flags: the line says skipped" grep -q "\"sr-no-such-$$\": no network namespace of that name in /run/netns; skipped" "$TMP/err"
check "flags: a's 3 all the same" [ "$(per_ns "$TMP/out")" = "$ia:3" ]
check "nothing killed anywhere" \
	[ "$(cw_count "$a" 7800)$(cw_count "$b" 7800)$(cw_count "$home" 7800)" = 342 ]

# --- a namespace alone is every socket in it: refused without --all ------------------------------
expect_status 5 "guard: 'netns A' alone" in_ns "$home" "$SR" --yes --no-audit "netns $a"
check "guard: says refusing" grep -q "refusing to select every socket" "$TMP/err"
expect_status 5 "guard: --netns A alone" in_ns "$home" "$SR" --yes --no-audit --netns "$a"
# One branch of an OR that is only a namespace selects every socket in it, the same way.
expect_status 5 "guard: 'netns A or (sport 7800 and state close-wait)'" \
	in_ns "$home" "$SR" --yes --no-audit "netns $a or (sport 7800 and state close-wait)"
check "guard: names the branch" grep -q "refusing to select every socket in a network namespace: the branch \"netns = $a\" " "$TMP/err"
expect_status 5 "guard: 'state close-wait and sport 7800 or netns inode A' (dry run too)" \
	in_ns "$home" "$SR" --dry-run "state close-wait and sport 7800 or netns inode $ia"
check "guard: nothing killed in a" [ "$(cw_count "$a" 7800)" = 3 ]

# --- a kill by the predicate: only there, and the audit's selector says it ----------------------
log=$TMP/audit.log
expect_status 0 "kill: 'netns A and state close-wait and sport 7800'" \
	in_ns "$home" "$SR" --yes --json --audit-log "$log" "netns $a and state close-wait and sport 7800"
check "kill: 3 killed" [ "$(jq .summary.killed "$TMP/out")" = 3 ]
check "kill: none left in a" [ "$(cw_count "$a" 7800)" = 0 ]
check "kill: home and b untouched" [ "$(cw_count "$home" 7800)$(cw_count "$b" 7800)" = 24 ]
check "kill: the audit's selector shows the atom ($(jq -r 'select(.event=="start") | .selector' "$log"))" \
	[ "$(jq -r 'select(.event=="start") | .selector' "$log")" = "netns = $a and state close-wait and sport = 7800" ]
rep=$(rig_report EA)
check "kill: a's established untouched ($rep)" [ "${rep#held=4 closed=0 }" != "$rep" ]

# --- dev IFNAME: looked up in each namespace visited --------------------------------------------
# d0 (a bridge: any device type will do) is index 2 in a and index 3 in b (x0 took 2 there); home has no d0 at all. A listener
# bound to b's x0 (index 2, a's d0's number) must not match `dev d0`.
if ip -n "$a" link add d0 type bridge 2>/dev/null && ip -n "$b" link add x0 type bridge &&
	ip -n "$b" link add d0 type bridge && ip -n "$home" link add x1 type bridge; then
	rig_start LA "$a" -p 7900 -n 0 -d d0 listen || not_ok "dev: rig LA"
	rig_start LB "$b" -p 7900 -n 0 -d x0 listen || not_ok "dev: rig LB"
	rig_start LC "$b" -p 7901 -n 0 -d d0 listen || not_ok "dev: rig LC"
	rig_start LH "$home" -p 7900 -n 0 -d x1 listen || not_ok "dev: rig LH"
	ports() {
		jq -r '.netns.inode as $top | [.sockets[] | "\(.netns.inode // $top):\(.local.port)"] | sort | join(" ")' "$1"
	}
	expect_status 0 "dev: --all-netns -n 'dev d0 and state listen'" \
		in_ns "$home" "$SR" --all-netns -n --json "dev d0 and state listen and sport 7900-7901"
	check "dev: a's 7900 and b's 7901, not b's x0 nor home's ($(ports "$TMP/out"))" \
		[ "$(ports "$TMP/out")" = "$(printf '%s\n' "$ia:7900" "$ib:7901" | sort | tr '\n' ' ' | sed 's/ $//')" ]
	expect_status 0 "dev: --netns b -n 'dev d0 and state listen' (one other namespace)" \
		in_ns "$home" "$SR" --netns "$b" -n --json "dev d0 and state listen and sport 7900-7901"
	check "dev: b's 7901 only ($(ports "$TMP/out"))" [ "$(ports "$TMP/out")" = "$ib:7901" ]
	expect_status 0 "dev: 'netns A or netns B' with not dev d0" \
		in_ns "$home" "$SR" -n --json "(netns $a or netns $b) and not dev d0 and state listen and sport 7900-7901"
	check "dev: only b's x0 listener ($(ports "$TMP/out"))" [ "$(ports "$TMP/out")" = "$ib:7900" ]
	expect_status 2 "dev: a run that stays home needs the device at home" \
		in_ns "$home" "$SR" -n "dev d0 and state listen"
	check "dev: says so" grep -q 'no interface "d0" in this network namespace' "$TMP/err"
	expect_status 0 "dev: --explain leaves it to user space with namespaces" \
		in_ns "$home" "$SR" --all-netns --explain "dev d0 and state listen"
	check "dev: no dev op in the kernel bytecode" [ "$(grep -cE '^ +[0-9]+ +dev ' "$TMP/out")" = 0 ]
	expect_status 0 "dev: --explain of a run that stays home tests it in the kernel" \
		in_ns "$home" "$SR" --explain "dev x1 and state listen"
	check "dev: the kernel tests dev 2 there" [ "$(grep -cE '^ +[0-9]+ +dev 2 ' "$TMP/out")" = 1 ]
else
	skipped "dev: cannot add bridge interfaces here"
fi
