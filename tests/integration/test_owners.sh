#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Owners on real sockets: every process that holds a socket is an owner (a forked child as much
# as its parent), and an owner that cannot be read (no CAP_SYS_PTRACE, hidepid) is unknown,
# never "nobody": a socket whose selection depends on it is reported skipped, never killed.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns owners

# Whether root here reads every process's fd links: a sandbox's own pid 1 may refuse even
# root, and then every owner list is honestly incomplete ("+?", owners_unknown "unreadable").
root_reads_all() {
	local p f
	for p in /proc/[0-9]*; do
		f=$(ls "$p/fd" 2>/dev/null | head -1)
		[ -z "$f" ] || readlink "$p/fd/$f" >/dev/null 2>&1 || [ ! -e "$p" ] || return 1
	done
	return 0
}

# count_json: how many sockets the last run's JSON lists.
count_json() { jq '.sockets | length' "$TMP/out" 2>/dev/null; }

# --- (a) a parent and its forked child share every socket ------------------------------------
test_forked() {
	local ns parent child
	ns_new ns || { not_ok "forked: namespace"; return; }
	rig_start F "$ns" -p 8101 -n 4 -F close-wait || { not_ok "forked: rig"; return; }
	read -r parent child <<<"$F"
	check "forked: the rig forked ($parent, $child)" [ -n "$child" -a "$child" != "$parent" ]

	expect_status 0 "forked: --pid CHILD" in_ns "$ns" "$SR" --dry-run --json --pid "$child"
	check "forked: --pid CHILD matches all 4" [ "$(count_json)" = 4 ]
	expect_status 0 "forked: --pid CHILD --pid 999999" \
		in_ns "$ns" "$SR" --dry-run --json --pid "$child" --pid 999999
	check "forked: --pid CHILD --pid 999999 matches all 4" [ "$(count_json)" = 4 ]
	expect_status 0 "forked: pid CHILD,999999 (expression)" \
		in_ns "$ns" "$SR" --dry-run --json "pid $child,999999 and state close-wait"
	check "forked: the list form matches all 4" [ "$(count_json)" = 4 ]
	expect_status 0 "forked: pid 999999 or pid CHILD (expression)" \
		in_ns "$ns" "$SR" --dry-run --json "(pid 999999 or pid $child) and sport = :8101"
	check "forked: the or form matches all 4" [ "$(count_json)" = 4 ]
	expect_status 0 "forked: --pid PARENT" in_ns "$ns" "$SR" --dry-run --json --pid "$parent"
	check "forked: --pid PARENT matches all 4" [ "$(count_json)" = 4 ]
	expect_status 1 "forked: not pid CHILD matches none" \
		in_ns "$ns" "$SR" --dry-run --json "not pid $child and sport = :8101"
	expect_status 1 "forked: not pid PARENT matches none" \
		in_ns "$ns" "$SR" --dry-run --json "not pid $parent and sport = :8101"

	# The /proc scan (SOCKREAP_OWNERS=proc: the BPF iterator is (e) below).
	local unknown=null more=+1
	if ! root_reads_all; then
		unknown='"unreadable"' more=+1+?
	fi
	expect_status 0 "forked: full scan of /proc" \
		in_ns "$ns" env SOCKREAP_OWNERS=proc "$SR" --dry-run --json "sport = :8101"
	check "forked: each socket lists both owners (others unknown: $unknown)" \
		[ "$(jq -c "[.sockets[] | [([.owners[].pid] | sort), .owner_count, .owners_unknown]] | unique" \
			"$TMP/out")" = "[[[$parent,$child],2,$unknown]]" ]
	check "forked: the summary says /proc was read" \
		[ "$(jq -r .summary.owners_source "$TMP/out")" = proc ]
	expect_status 0 "forked: table" \
		in_ns "$ns" env SOCKREAP_OWNERS=proc "$SR" --dry-run "sport = :8101"
	check "forked: the table shows the lowest pid and one more ($more)" \
		[ "$(grep -c " $parent/sockrig$more\$" "$TMP/out")" = 4 ]
	expect_status 0 "forked: --pid CHILD table" in_ns "$ns" "$SR" --dry-run --pid "$child"
	check "forked: a --pid scan does not pretend to know every owner (+?)" \
		[ "$(grep -c " $child/sockrig+?\$" "$TMP/out")" = 4 ]

	expect_status 0 "forked: kill --pid CHILD --pid 999999" \
		in_ns "$ns" "$SR" --yes --no-audit --json --pid "$child" --pid 999999
	check "forked: 4 killed" [ "$(jq .summary.killed "$TMP/out")" = 4 ]
	check "forked: none left" [ "$(ss_count "$ns" state close-wait 'sport = :8101')" = 0 ]
}

# The non-sanitized build, installed as PRIVILEGES in sockreap(8) says but without
# cap_sys_ptrace and cap_dac_read_search, where only root and nobody's group can reach it: a
# non-root caller that may kill sockets but not read other users' fd tables. cap_dac_override
# (there to open root's audit file) opens their /proc/PID/fd directories, but not the links.
CAPSR=
make_caps_copy() {
	local group
	group=$(id -gn nobody 2>/dev/null) || { echo "there is no user nobody"; return 1; }
	command -v setcap >/dev/null || { echo "setcap is not installed (libcap2-bin)"; return 1; }
	command -v setpriv >/dev/null || { echo "setpriv is not installed (util-linux)"; return 1; }
	command -v unshare >/dev/null || { echo "unshare is not installed (util-linux)"; return 1; }
	[ -x sockreap ] || { echo "no non-sanitized build (make sockreap)"; return 1; }
	chmod 0711 "$TMP"
	install -d -m 0750 -o root -g "$group" "$TMP/caps" || return 1
	install -d -m 0755 "$TMP/varlog" || return 1
	install -d -m 0700 -o root -g root "$TMP/varlog/sockreap" || return 1
	# Root creates the file, as the man page's install does: the operator creates none.
	install -m 0600 -o root -g root /dev/null "$TMP/varlog/sockreap/audit.log" || return 1
	cp sockreap "$TMP/caps/sockreap" && chmod 0750 "$TMP/caps/sockreap" &&
		chgrp "$group" "$TMP/caps/sockreap" || return 1
	setcap cap_net_admin,cap_net_raw,cap_dac_override+ep "$TMP/caps/sockreap" 2>&1 || return 1
	# And with no DAC capability at all: /proc/PID/fd itself does not open (EACCES).
	cp -p sockreap "$TMP/caps/sockreap-nodac" && chmod 0750 "$TMP/caps/sockreap-nodac" &&
		chgrp "$group" "$TMP/caps/sockreap-nodac" || return 1
	setcap cap_net_admin,cap_net_raw+ep "$TMP/caps/sockreap-nodac" 2>&1 || return 1
	in_ns "$1" unshare -m --propagation private sh -c 'mount --bind "$0" /var/log' \
		"$TMP/varlog" 2>&1 || return 1
	CAPSR=$TMP/caps/sockreap
}

# as_nobody NS CMD...: CMD in NS as nobody, with no capabilities but its file's, in a mount
# namespace of its own whose /var/log is ours: a setcap install audits to
# /var/log/sockreap/audit.log, root's choice, and refuses --audit-log and --no-audit.
as_nobody() {
	local ns=$1
	shift
	in_ns "$ns" unshare -m --propagation private sh -c \
		'mount --bind "$0" /var/log || exit 99
		 exec setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups "$@"' \
		"$TMP/varlog" "$@"
}
AUDIT_LOG=$TMP/varlog/sockreap/audit.log

# --- (b) a setcap'd non-root caller cannot read the rig's fd table ----------------------------
test_unreadable() {
	local ns rig
	ns_new ns || { not_ok "unreadable: namespace"; return; }
	rig_start U "$ns" -p 8201 -n 20 close-wait || { not_ok "unreadable: rig"; return; }
	rig=$U

	expect_status 3 "unreadable: kill 'not comm sockrig' as nobody" \
		as_nobody "$ns" "$CAPSR" --yes --json \
		"not comm sockrig and sport = :8201"
	check "unreadable: all 20 reported skipped(owner-unknown)" \
		[ "$(jq -c '([.sockets[] | [.outcome, .error]] | unique), (.sockets | length), .summary.skipped' \
			"$TMP/out" | tr '\n' ' ')" = '[["skipped","owner-unknown"]] 20 20 ' ]
	check "unreadable: owners null, owners_unknown unreadable" \
		[ "$(jq -c '[.sockets[] | [.owners, .owner_count, .owners_unknown]] | unique' "$TMP/out")" = \
			'[[null,null,"unreadable"]]' ]
	check "unreadable: a setcap'd copy (no CAP_BPF) read /proc" \
		[ "$(jq -r .summary.owners_source "$TMP/out")" = proc ]
	check "unreadable: stderr says how many and what to do" \
		grep -q '20 sockets skipped.*CAP_SYS_PTRACE' "$TMP/err"
	check "unreadable: the kernel still lists all 20" \
		[ "$(ss_count "$ns" state close-wait 'sport = :8201')" = 20 ]
	check "unreadable: the rig still holds all 20" \
		[ "$(rig_report U)" = "held=20 closed=0 eof=20 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
	check "unreadable: the audit intent records them as skipped" \
		[ "$(jq -r 'select(.event == "intent") | .sockets[].outcome' "$AUDIT_LOG" 2>/dev/null |
			sort | uniq -c | awk '{print $1, $2}')" = "20 skipped" ]

	expect_status 3 "unreadable: kill 'not pid RIG' as nobody" \
		as_nobody "$ns" "$CAPSR" --yes --json "not pid $rig and sport = :8201"
	check "unreadable: not pid RIG: 20 skipped, none killed" \
		[ "$(jq -c '[.summary.skipped, .summary.killed]' "$TMP/out")" = '[20,0]' ]
	expect_status 3 "unreadable: --pid RIG as nobody (a scoped scan)" \
		as_nobody "$ns" "$CAPSR" --yes --json --pid "$rig"
	check "unreadable: --pid RIG: 20 skipped" [ "$(jq .summary.skipped "$TMP/out")" = 20 ]
	expect_status 3 "unreadable: dry run as nobody" \
		as_nobody "$ns" "$CAPSR" --dry-run "not comm sockrig and sport = :8201"
	check "unreadable: the preview shows ? and skipped(owner-unknown)" \
		[ "$(grep -c 'skipped(owner-unknown) *?$' "$TMP/out")" = 20 ]
	check "unreadable: the dry run says they would not be killed" \
		grep -q '0 sockets would be killed' "$TMP/err"
	expect_status 3 "unreadable: dry run as nobody, no DAC capability (fd tables do not open)" \
		as_nobody "$ns" "$CAPSR-nodac" --dry-run --json "not comm sockrig and sport = :8201"
	check "unreadable: no DAC capability: 20 skipped(owner-unknown), owners unreadable" \
		[ "$(jq -c '[.sockets[] | [.outcome, .error, .owners_unknown]] | unique, length' \
			"$TMP/out" | tr '\n' ' ')" = '[["skipped","owner-unknown","unreadable"]] 20 ' ]
	# A name no process has decides without the unreadable fd tables: comm is world-readable.
	expect_status 1 "unreadable: 'comm nosuchproc' matches nothing (no such process to own it)" \
		as_nobody "$ns" "$CAPSR" --dry-run "comm nosuchproc and sport = :8201"
	# A kernel thread has no fd table: unreadable to nobody, yet it cannot hold a socket.
	if [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ]; then
		expect_status 0 "unreadable: 'not pid 2' (kthreadd) is decided without its fd table" \
			as_nobody "$ns" "$CAPSR" --dry-run --json "not pid 2 and sport = :8201"
		check "unreadable: not pid 2: all 20 would be killed, none skipped" \
			[ "$(jq '[.sockets[] | select(.outcome == null)] | length' "$TMP/out")" = 20 ]
	else
		skipped "unreadable: pid 2 is not kthreadd here"
	fi
	check "unreadable: after all of it, the kernel still lists all 20" \
		[ "$(ss_count "$ns" state close-wait 'sport = :8201')" = 20 ]

	# Decided and undecided in one plan: :8202 matches whoever holds it, :8201 depends on it.
	rig_start V "$ns" -p 8202 -n 10 close-wait || { not_ok "unreadable: rig V"; return; }
	expect_status 3 "unreadable: a mixed plan as nobody" \
		as_nobody "$ns" "$CAPSR" --yes --json \
		"(not comm sockrig or sport = :8202) and sport 8201-8202"
	check "unreadable: mixed: the 10 on :8202 killed, then the 20 on :8201 skipped" \
		[ "$(jq -c '[.sockets[] | "\(.local.port) \(.outcome)"] | group_by(.) | map("\(.[0]) \(length)")' \
			"$TMP/out")" = '["8201 skipped 20","8202 killed 10"]' ]
	check "unreadable: mixed: the skipped ones come last" \
		[ "$(jq -c '[.sockets[].outcome] | [(.[:10] | unique), (.[10:] | unique)]' "$TMP/out")" = \
			'[["killed"],["skipped"]]' ]
	check "unreadable: mixed: :8202 gone, :8201 all there" \
		[ "$(ss_count "$ns" state close-wait 'sport = :8202') $(ss_count "$ns" state close-wait 'sport = :8201')" = "0 20" ]
	check "unreadable: mixed: rig U still holds all 20" \
		[ "$(rig_report U)" = "held=20 closed=0 eof=20 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
}

# --- (c) /proc mounted hidepid=invisible: other users' processes are not even listed ----------
test_hidepid() {
	local ns
	ns_new ns || { not_ok "hidepid: namespace"; return; }
	if ! in_ns "$ns" unshare -m --propagation private sh -c \
		'mount -t proc -o hidepid=invisible proc /proc' 2>"$TMP/err"; then
		skipped "hidepid: cannot mount a private /proc with hidepid=invisible: $(head -c 200 "$TMP/err")"
		return
	fi
	rig_start H "$ns" -p 8301 -n 20 close-wait || { not_ok "hidepid: rig"; return; }
	# hidden CMD...: CMD as nobody in a mount namespace of its own whose /proc hides the rig.
	hidden() {
		in_ns "$ns" unshare -m --propagation private sh -c \
			'mount -t proc -o hidepid=invisible proc /proc && mount --bind "$0" /var/log ||
				exit 99
			 exec setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups "$@"' \
			"$TMP/varlog" "$@"
	}
	expect_status 3 "hidepid: kill 'not comm sockrig' as nobody" \
		hidden "$CAPSR" --yes --json "not comm sockrig and sport = :8301"
	check "hidepid: 20 skipped, owners_unknown hidepid" \
		[ "$(jq -c '[.summary.skipped, ([.sockets[] | [.outcome, .owners, .owners_unknown]] | unique)]' \
			"$TMP/out")" = '[20,[["skipped",null,"hidepid"]]]' ]
	check "hidepid: stderr names hidepid" grep -q 'hidepid' "$TMP/err"
	# With the processes themselves hidden, even a name nobody visible has cannot decide.
	expect_status 3 "hidepid: 'comm nosuchproc' cannot be decided either" \
		hidden "$CAPSR" --yes --json "comm nosuchproc and sport = :8301"
	check "hidepid: comm nosuchproc: 20 skipped" [ "$(jq .summary.skipped "$TMP/out")" = 20 ]
	expect_status 3 "hidepid: --pid RIG" hidden "$CAPSR" --yes --json --pid "$H"
	check "hidepid: --pid RIG: 20 skipped" [ "$(jq .summary.skipped "$TMP/out")" = 20 ]
	check "hidepid: the kernel still lists all 20" \
		[ "$(ss_count "$ns" state close-wait 'sport = :8301')" = 20 ]
	check "hidepid: the rig still holds all 20" \
		[ "$(rig_report H)" = "held=20 closed=0 eof=20 ECONNABORTED=0 ECONNRESET=0 EAGAIN=0 other=0" ]
}

# --- (d) owners through the BPF task_file iterator: the same answer as /proc -----------------
# owners_of FILE: each socket's inode, its owners (pid, fd, comm) in order, and their count.
owners_of() {
	jq -c '[.sockets[] | [.inode, (.owners // [] | map([.pid, .fd, .comm]) | sort),
		.owner_count]] | sort' "$1"
}

test_bpf() {
	local ns parent child why
	why=$("$SR" doctor --json 2>/dev/null | jq -r '.owners.why // empty')
	if [ "$("$SR" doctor --json 2>/dev/null | jq -r .owners.source)" != bpf ]; then
		skipped "bpf: the BPF task_file iterator cannot be used here: ${why:-doctor failed}"
		return
	fi
	ns_new ns || { not_ok "bpf: namespace"; return; }
	rig_start B "$ns" -p 8401 -n 30 -F close-wait || { not_ok "bpf: rig"; return; }
	read -r parent child <<<"$B"
	rig_start C "$ns" -p 8402 -n 5 established || { not_ok "bpf: rig C"; return; }

	expect_status 0 "bpf: full scan (default)" \
		in_ns "$ns" "$SR" --dry-run --json "sport 8401-8402 or dport = :8402"
	cp "$TMP/out" "$TMP/bpf.json"
	check "bpf: the summary says bpf" [ "$(jq -r .summary.owners_source "$TMP/bpf.json")" = bpf ]
	check "bpf: nothing is unreadable through the kernel's task list" \
		[ "$(jq -c '[.sockets[].owners_unknown] | unique' "$TMP/bpf.json")" = '[null]' ]
	check "bpf: 30 forked sockets held by both rig processes, 10 by rig C" \
		[ "$(jq -c '[.sockets[] | [([.owners[].pid] | sort | unique | length), .owner_count]]
			| group_by(.) | map([.[0], length])' "$TMP/bpf.json")" = '[[[1,1],10],[[2,2],30]]' ]
	# Both loaders (src/taskfiles.c): the light skeleton, then libbpf; each alone, the same.
	local loader
	for loader in light libbpf; do
		expect_status 0 "bpf: full scan, loaded by $loader only" \
			in_ns "$ns" env SOCKREAP_BPF_LOADER=$loader "$SR" --dry-run --json \
			"sport 8401-8402 or dport = :8402"
		check "bpf: $loader: the source is bpf, the same owners" \
			[ "$(jq -r .summary.owners_source "$TMP/out")" = bpf -a \
			  "$(owners_of "$TMP/out")" = "$(owners_of "$TMP/bpf.json")" ]
	done
	# A value that is neither name is as unset (a typo must not lose the fast loader): with
	# the kernel's BTF file hidden libbpf cannot load, the light skeleton (in-kernel BTF) can.
	for loader in libbpf Light; do
		expect_status 0 "bpf: SOCKREAP_BPF_LOADER=$loader, no /sys/kernel/btf/vmlinux" \
			in_ns "$ns" unshare -m --propagation private sh -c \
			'mount --bind /dev/null /sys/kernel/btf/vmlinux || exit 99
			 exec env SOCKREAP_BPF_LOADER="$0" "$@"' "$loader" \
			"$SR" --dry-run --json "sport 8401-8402 or dport = :8402"
		cp "$TMP/out" "$TMP/nobtf-$loader.json"
	done
	check "bpf: without the BTF file, libbpf alone falls back to /proc" \
		[ "$(jq -r .summary.owners_source "$TMP/nobtf-libbpf.json")" = proc ]
	check "bpf: SOCKREAP_BPF_LOADER=Light (no such loader) tries the light one: bpf" \
		[ "$(jq -r .summary.owners_source "$TMP/nobtf-Light.json")" = bpf -a \
		  "$(owners_of "$TMP/nobtf-Light.json")" = "$(owners_of "$TMP/bpf.json")" ]
	expect_status 0 "bpf: full scan of /proc (SOCKREAP_OWNERS=proc)" \
		in_ns "$ns" env SOCKREAP_OWNERS=proc "$SR" --dry-run --json \
		"sport 8401-8402 or dport = :8402"
	cp "$TMP/out" "$TMP/proc.json"
	check "bpf: the /proc run says proc" [ "$(jq -r .summary.owners_source "$TMP/proc.json")" = proc ]
	check "bpf: the same 40 sockets, owners (pid, fd, comm) and counts as /proc" \
		[ "$(owners_of "$TMP/bpf.json")" = "$(owners_of "$TMP/proc.json")" -a \
		  "$(jq '.sockets | length' "$TMP/bpf.json")" = 40 ]
	# By state: the walk that runs during the dump keeps close-wait sockets only (rig C's
	# established ones are left in the kernel); the answer is still /proc's.
	expect_status 0 "bpf: by state (default)" \
		in_ns "$ns" "$SR" --dry-run --json "state close-wait and sport 8401-8402"
	cp "$TMP/out" "$TMP/bpf-state.json"
	expect_status 0 "bpf: by state (SOCKREAP_OWNERS=proc)" \
		in_ns "$ns" env SOCKREAP_OWNERS=proc "$SR" --dry-run --json \
		"state close-wait and sport 8401-8402"
	check "bpf: by state: the same 30 sockets, owners and counts as /proc" \
		[ "$(owners_of "$TMP/bpf-state.json")" = "$(owners_of "$TMP/out")" -a \
		  "$(jq '.sockets | length' "$TMP/bpf-state.json")" = 30 -a \
		  "$(jq -r .summary.owners_source "$TMP/bpf-state.json")" = bpf ]
	expect_status 0 "bpf: --explain names the iterator" "$SR" --explain --state close-wait
	check "bpf: --explain: owners from the BPF iterator" grep -q '^owners: *a BPF task_file' "$TMP/out"

	# Without CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN, dropped first thing), /proc again.
	expect_status 0 "bpf: root without CAP_BPF, CAP_PERFMON" \
		in_ns "$ns" setpriv --inh-caps=-bpf,-perfmon --bounding-set=-bpf,-perfmon \
		"$SR" --dry-run --json "sport 8401-8402 or dport = :8402"
	check "bpf: without them: the summary says proc" \
		[ "$(jq -r .summary.owners_source "$TMP/out")" = proc ]
	check "bpf: without them: the same owners" \
		[ "$(owners_of "$TMP/out")" = "$(owners_of "$TMP/bpf.json")" ]
	expect_status 0 "bpf: --explain without them" \
		setpriv --bounding-set=-bpf,-perfmon,-sys_admin "$SR" --explain --state close-wait
	check "bpf: --explain without them says /proc and why" \
		grep -q '^owners: */proc .*needs CAP_BPF and CAP_PERFMON' "$TMP/out"

	# The default kill, audited: owners in the intent records, every socket killed.
	expect_status 0 "bpf: the default kill of :8401" \
		in_ns "$ns" "$SR" --yes --json --audit-log "$TMP/bpf-audit.log" --state close-wait \
		--sport 8401
	check "bpf: 30 killed" [ "$(jq .summary.killed "$TMP/out")" = 30 ]
	check "bpf: the intents name both owners of each socket" \
		[ "$(jq -c 'select(.event == "intent") | .sockets[] | [.owners[].pid] | sort' \
			"$TMP/bpf-audit.log" | sort | uniq -c | awk '{print $1, $2}')" = "30 [$parent,$child]" ]
}

test_forked
test_bpf
ns_new CAPS_NS || { not_ok "owners: namespace"; exit 0; }
if make_caps_copy "$CAPS_NS" >"$TMP/why" 2>&1; then
	test_unreadable
	test_hidepid
else
	skipped "unreadable: cannot set up a setcap'd copy: $(head -c 200 "$TMP/why")"
	skipped "hidepid: cannot set up a setcap'd copy: $(head -c 200 "$TMP/why")"
fi
