#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The privilege boundary: a setcap install run by a non-root caller, the capabilities held while
# a person is asked, and honest exit statuses for what an engine cannot do.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns "privilege"

# The plain build: a sanitizer runtime has no business in a binary with file capabilities.
PLAIN=${SOCKREAP_PLAIN:-./sockreap}

# --- a setcap'd binary run by nobody: the audit stays where root put it -----------------------
test_setcap_caller() {
	local ns capsr
	setcap_copy setcap capsr cap_net_admin,cap_net_raw || return
	ns_new ns || { not_ok "setcap: namespace"; return; }
	rig_start P "$ns" -p 8100 -n 3 close-wait || { not_ok "setcap: rig"; return; }
	local as_nobody=(in_ns "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups)

	expect_status 4 "setcap: --audit-log refused to a non-root caller" \
		"${as_nobody[@]}" "$capsr" --yes --audit-log /tmp/elsewhere.log --state close-wait
	check "setcap: the refusal names --audit-log" grep -q -- '--audit-log is refused' "$TMP/err"
	expect_status 4 "setcap: --no-audit refused to a non-root caller" \
		"${as_nobody[@]}" "$capsr" --yes --no-audit --state close-wait
	check "setcap: the refusal names --no-audit" grep -q -- '--no-audit is refused' "$TMP/err"
	expect_status 4 "setcap: SOCKREAP_AUDIT_LOG refused to a non-root caller" \
		"${as_nobody[@]}" env SOCKREAP_AUDIT_LOG=/tmp/elsewhere.log "$capsr" --yes \
		--state close-wait
	check "setcap: the refusal names the variable" grep -q 'SOCKREAP_AUDIT_LOG is refused' "$TMP/err"
	check "setcap: nothing was written where the caller asked" [ ! -e /tmp/elsewhere.log ]
	check "setcap: nothing was killed" [ "$(ss_count "$ns" state close-wait)" = 3 ]
	# Root may still choose (same binary, no AT_SECURE for root's own capabilities).
	expect_status 0 "setcap: root may choose the audit file" \
		in_ns "$ns" "$capsr" --yes --audit-log "$TMP/root.log" --state close-wait
	check "setcap: root's kill is in root's file" grep -q '"event":"summary"' "$TMP/root.log"
}

# PID of the descendant of $1 whose comm is $2, or nothing.
descendant_named() {
	local root=$1 name=$2 p ppid
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$name" ] || continue
		ppid=$p
		while [ -n "$ppid" ] && [ "$ppid" -gt 1 ]; do
			ppid=$(awk '{print $4}' "/proc/$ppid/stat" 2>/dev/null)
			if [ "$ppid" = "$root" ]; then
				echo "$p"
				return
			fi
		done
	done
}

# --- a prompt left waiting holds only the engine's capability ---------------------------------
# want: the CapEff mask expected while asking.
prompt_caps() {
	local engine=$1 want=$2 ns=$3 fifo="$TMP/prompt.in" spid pid caps=""
	rm -f "$fifo"
	mkfifo "$fifo"
	in_ns "$ns" script -qefc "$SR --audit-log $TMP/prompt.log --engine $engine --state close-wait" /dev/null \
		<"$fifo" >"$TMP/prompt.out" 2>&1 &
	spid=$!
	exec {w}>"$fifo"
	for _ in $(seq 100); do
		grep -q 'Kill 2 sockets?' "$TMP/prompt.out" && break
		sleep 0.1
	done
	pid=$(descendant_named "$spid" sockreap)
	[ -n "$pid" ] && caps=$(awk '/^CapEff/ {print $2}' "/proc/$pid/status")
	printf 'n\n' >&$w
	exec {w}>&-
	wait "$spid"
	check "prompt: $engine holds CapEff $want while asking (saw ${caps:-nothing})" \
		[ "$caps" = "$want" ]
}

test_prompt_caps() {
	local ns
	if ! command -v script >/dev/null; then
		skipped "prompt: script(1) is not installed to provide a terminal"
		return
	fi
	ns_new ns || { not_ok "prompt: namespace"; return; }
	rig_start Q "$ns" -p 8200 -n 2 close-wait || { not_ok "prompt: rig"; return; }
	# CAP_NET_ADMIN is bit 12.
	prompt_caps destroy 0000000000001000 "$ns"
	prompt_caps rst 0000000000000000 "$ns"
	# shutdown: CAP_SYS_PTRACE (19) for pidfd_getfd, CAP_NET_ADMIN and CAP_NET_RAW (13) for
	# its fallback.
	prompt_caps shutdown 0000000000083000 "$ns"
	check "prompt: declined, nothing killed" [ "$(ss_count "$ns" state close-wait)" = 2 ]
}

# --- a plan the rst engine cannot reach is exit 3, not "missing privilege" ---------------------
test_engine_limit_status() {
	local ns pid
	ns_new ns || { not_ok "engine limit: namespace"; return; }
	# SYN_SENT: the namespace drops its own SYNs to port 8300.
	if ! in_ns "$ns" nft -f - <<-'EOF'
		table inet srtest {
			chain out { type filter hook output priority 0; tcp dport 8300 drop; }
		}
	EOF
	then
		skipped "engine limit: nftables cannot load a table here"
		return
	fi
	in_ns "$ns" timeout 30 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8300' 2>/dev/null &
	pid=$!
	RIG_PIDS+=("$pid")
	for _ in $(seq 50); do
		[ "$(ss_count "$ns" state syn-sent)" = 1 ] && break
		sleep 0.1
	done
	expect_status 3 "engine limit: rst on a syn-sent plan exits 3" \
		in_ns "$ns" "$SR" --yes --no-audit --engine rst --state syn-sent
	check "engine limit: says which engine can" grep -q 'need --engine destroy' "$TMP/err"
	check "engine limit: the socket is still there" [ "$(ss_count "$ns" state syn-sent)" = 1 ]
}

# --- out of memory while parsing is exit 6 ("an error before anything was attempted"), not 2 --
# An address-space limit just above what the loader needs makes the parser's allocations fail;
# where that window is depends on the machine and the libraries linked (7.4 MB with libsystemd,
# jansson and libnetfilter_conntrack), so it is searched for, up to 40 MB.
test_oom_status() {
	local as rc
	if ! command -v prlimit >/dev/null || [ ! -x "$PLAIN" ]; then
		skipped "oom: prlimit or $PLAIN is missing"
		return
	fi
	for as in $(seq 1500000 50000 40000000); do
		prlimit --as="$as" "$PLAIN" --dry-run 'state close-wait and sport 1' \
			>/dev/null 2>"$TMP/err"
		rc=$?
		# The loader itself could not map the libraries (127) or set up TLS (SIGSEGV in
		# ld.so, before main).
		[ "$rc" = 127 ] || [ "$rc" -ge 128 ] && continue
		if grep -q 'out of memory' "$TMP/err"; then
			check "oom: out of memory exits 6 (exit $rc at --as=$as)" [ "$rc" = 6 ]
			check "oom: says nothing was killed" grep -q 'nothing killed' "$TMP/err"
			return
		fi
		break
	done
	skipped "oom: no address-space limit made the parser run out of memory here"
}

# --- a setcap'd binary's plan files are the caller's: read and written with the caller's rights --
# The install holds CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE to read every process's fds; none of
# that is lent to --apply (reading root's files, quoting them back) or --save-plan (replacing
# root's files).
test_setcap_plan_files() {
	local capsp secret="$TMP/rootonly/secret.json"
	setcap_copy "setcap plans" capsp \
		cap_net_admin,cap_net_raw,cap_sys_ptrace,cap_dac_read_search,cap_dac_override || return
	local as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	mkdir -m 0700 "$TMP/rootonly" && printf '{"schema":"ROOT-ONLY-%s"}\n' $$ >"$secret" &&
		chmod 0600 "$secret" || { not_ok "setcap plans: root's directory"; return; }
	"${as_nobody[@]}" "$capsp" --apply "$secret" >"$TMP/out" 2>"$TMP/err"
	check "setcap plans: --apply of a file the caller cannot read is refused" \
		grep -q 'Permission denied' "$TMP/err"
	check "setcap plans: nothing of root's file is quoted back" \
		bash -c "! grep -q ROOT-ONLY '$TMP/err' '$TMP/out'"
	expect_status 6 "setcap plans: --save-plan where the caller cannot write is refused" \
		"${as_nobody[@]}" "$capsp" --dry-run --all --save-plan "$TMP/rootonly/planted.json"
	check "setcap plans: nothing was written in root's directory" \
		[ "$(ls -A "$TMP/rootonly")" = secret.json ]
	# The caller's own directory works as before.
	mkdir -m 0700 "$TMP/nobodys" && chown nobody "$TMP/nobodys" ||
		{ not_ok "setcap plans: the caller's directory"; return; }
	# Exit 0 or 1 (nothing here to select): the plan is written either way.
	"${as_nobody[@]}" "$capsp" --dry-run --all --save-plan "$TMP/nobodys/p.json" \
		>"$TMP/out" 2>"$TMP/err"
	check "setcap plans: --save-plan in the caller's own directory" grep -q 'plan saved' "$TMP/err"
	check "setcap plans: the caller's plan is the caller's file" \
		[ "$(stat -c %U "$TMP/nobodys/p.json")" = nobody ]
}

# --- a setcap'd watcher's files are the caller's too: --config/--check read, --metrics-file written
# A rule error quotes the line: with the install's CAP_DAC_READ_SEARCH it quoted root's secrets
# back; with CAP_DAC_OVERRIDE the metrics rename replaced files in root's directories.
test_setcap_watch_files() {
	local capsw secret="$TMP/wroot/secret.conf"
	setcap_copy "setcap watch" capsw \
		cap_net_admin,cap_net_raw,cap_sys_ptrace,cap_dac_read_search,cap_dac_override || return
	local as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	mkdir -m 0755 "$TMP/wroot" && printf 'ROOT-ONLY-%s\n' $$ >"$secret" &&
		chmod 0600 "$secret" || { not_ok "setcap watch: root's directory"; return; }
	expect_status 2 "setcap watch: --check of a file the caller cannot read is refused" \
		"${as_nobody[@]}" "$capsw" watch --check "$secret"
	check "setcap watch: --check says Permission denied" grep -q 'Permission denied' "$TMP/err"
	check "setcap watch: --check quotes nothing of root's file" \
		bash -c "! grep -q ROOT-ONLY '$TMP/err' '$TMP/out'"
	expect_status 2 "setcap watch: --config of a file the caller cannot read is refused" \
		"${as_nobody[@]}" "$capsw" watch --config "$secret"
	check "setcap watch: --config quotes nothing of root's file" \
		bash -c "! grep -q ROOT-ONLY '$TMP/err' '$TMP/out'"
	# Two cycles at most (SIGTERM stops after the current one); a rule that matches nothing.
	timeout -s TERM 3 "${as_nobody[@]}" "$capsw" watch --every 1s \
		--metrics-file "$TMP/wroot/planted.prom" \
		'none: state close-wait and sport 1, older-than 1m' >"$TMP/out" 2>"$TMP/err"
	check "setcap watch: --metrics-file in root's directory is refused" \
		grep -q 'cannot write metrics file.*Permission denied' "$TMP/err"
	check "setcap watch: nothing was written in root's directory" \
		[ "$(ls -A "$TMP/wroot")" = secret.conf ]
	# The caller's own directory works as before.
	mkdir -m 0700 "$TMP/wnobody" && chown nobody "$TMP/wnobody" ||
		{ not_ok "setcap watch: the caller's directory"; return; }
	timeout -s TERM 3 "${as_nobody[@]}" "$capsw" watch --every 1s \
		--metrics-file "$TMP/wnobody/m.prom" \
		'none: state close-wait and sport 1, older-than 1m' >"$TMP/out" 2>"$TMP/err"
	check "setcap watch: metrics in the caller's own directory" \
		grep -q 'sockreap_watch_matched_total{rule="none"}' "$TMP/wnobody/m.prom"
}

test_setcap_caller
test_setcap_plan_files
test_setcap_watch_files
test_oom_status
test_prompt_caps
test_engine_limit_status
