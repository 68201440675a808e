#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guard on the caller's own connection, with the environment stripped as sudo's env_reset
# strips it (no SSH_CONNECTION): a simulated sshd (tests/helpers/sshdrig.c) holds the server
# end of a port-22 connection in a namespace of ours and runs the commands below; a bystander
# process holds a second port-22 connection that is nobody's login. Every namespace is ours.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

SSHDRIG=${SSHDRIG:-build/tests/sshdrig}
SR_ABS=$(realpath "$SR")
SPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SELECT_22='state established and sport = :22'

require_netns selfguard

# step.sh DIR NAME CMD...: runs CMD under the rig and keeps its stdout, stderr and status, then
# the peer ports of the port-22 connections still established, while the rig holds them.
cat >"$TMP/step.sh" <<'EOF'
d=$1 n=$2
shift 2
"$@" >"$d/$n.out" 2>"$d/$n.err"
echo $? >"$d/$n.rc"
ss -tanH state established '( sport = :22 )' | awk '{ n = split($4, a, ":"); print a[n] }' |
	sort -n | tr '\n' ' ' | sed 's/ $//' >"$d/$n.ss"
EOF

# rig_run NS [-d] SCRIPT: runs SCRIPT (bash; $1 = step.sh, $2 = the result directory, $3 =
# sockreap) under sshdrig in NS, at most 120 s. OWN and OTHER get the client ends' ports.
rig_run() {
	local ns=$1 line rc
	shift
	local args=("$@")
	local script=${args[-1]}
	unset 'args[-1]'
	timeout 120 ip netns exec "$ns" "$SSHDRIG" "${args[@]}" bash -c "$script" _ \
		"$TMP/step.sh" "$TMP" "$SR_ABS" >"$TMP/rig.out" 2>"$TMP/rig.err"
	rc=$?
	read -r line <"$TMP/rig.out"
	read -r _ OWN OTHER <<<"$line"
	return "$rc"
}

# result NAME: "rc|surviving peer ports"
result() { echo "$(cat "$TMP/$1.rc")|$(cat "$TMP/$1.ss")"; }

# --- sudo strips SSH_CONNECTION: the sshd ancestor's connection is kept all the same ---------
test_ancestor() {
	local ns
	ns_new ns || { not_ok "ancestor: namespace"; return; }
	rig_run "$ns" '
		bash "$1" "$2" only env -i PATH='"$SPATH"' "$3" --yes --no-audit \
			"state established and sport = :22 and dport = :$SSHDRIG_OWN_PORT"
		bash "$1" "$2" all env -i PATH='"$SPATH"' "$3" --yes --no-audit --json \
			"'"$SELECT_22"'"
		bash "$1" "$2" incl env -i PATH='"$SPATH"' "$3" --yes --no-audit --include-self \
			"'"$SELECT_22"'"' || { not_ok "ancestor: rig: $(cat "$TMP/rig.err")"; return; }

	check "ancestor: only its own connection selected: exit 1, it survives ($(result only))" \
		[ "$(result only)" = "1|$OWN $OTHER" ]
	check "ancestor: says it kept your own connection" \
		grep -q 'kept your own SSH connection' "$TMP/only.err"
	check "ancestor: port 22 selected: the other connection killed, exit 0, own kept ($(result all))" \
		[ "$(result all)" = "0|$OWN" ]
	check "ancestor: the kill names only the other connection" \
		[ "$(jq -c '[.sockets[] | [.peer.port, .outcome]]' "$TMP/all.out")" = "[[$OTHER,\"killed\"]]" ]
	check "ancestor: --include-self kills it ($(result incl))" [ "$(result incl)" = "0|" ]
}

# --- inside tmux or screen: the login's sshd is no ancestor, but shares the login session -----
test_session() {
	local ns rc
	ns_new ns || { not_ok "session: namespace"; return; }
	rig_run "$ns" -d '
		p=$$
		while [ "$p" -gt 1 ] && [ "$p" != "$SSHDRIG_PID" ]; do
			p=$(awk "{ print \$4 }" /proc/$p/stat)
		done
		[ "$p" = "$SSHDRIG_PID" ] && echo rig >"$2/s_ancestor" || echo none >"$2/s_ancestor"
		bash "$1" "$2" s_only env -i PATH='"$SPATH"' "$3" --yes --no-audit "'"$SELECT_22"'"
		bash "$1" "$2" s_incl env -i PATH='"$SPATH"' "$3" --yes --no-audit --include-self \
			"'"$SELECT_22"'"'
	rc=$?
	if [ "$rc" = 77 ]; then
		skipped "session: cannot open an audit login session here ($(cat "$TMP/rig.err"))"
		return
	fi
	[ "$rc" = 0 ] || { not_ok "session: rig exited $rc: $(cat "$TMP/rig.err")"; return; }
	check "session: the rig is no ancestor of the commands" \
		[ "$(cat "$TMP/s_ancestor")" = none ]
	check "session: the session's sshd connection kept, the other killed ($(result s_only))" \
		[ "$(result s_only)" = "0|$OWN" ]
	check "session: says it kept your own connection" \
		grep -q 'kept your own SSH connection' "$TMP/s_only.err"
	check "session: --include-self kills it ($(result s_incl))" [ "$(result s_incl)" = "0|" ]
}

# --- cannot tell (SSH_CONNECTION unparsable): no connection on port 22 is selected ----------
test_unparsable() {
	local ns
	ns_new ns || { not_ok "unparsable: namespace"; return; }
	rig_run "$ns" '
		bash "$1" "$2" garb env -i PATH='"$SPATH"' SSH_CONNECTION=garbage "$3" --yes \
			--no-audit "'"$SELECT_22"'"
		bash "$1" "$2" gd env -i PATH='"$SPATH"' SSH_CONNECTION=garbage "$3" --yes \
			--no-audit "dport 22"
		bash "$1" "$2" g_incl env -i PATH='"$SPATH"' SSH_CONNECTION=garbage "$3" --yes \
			--no-audit --include-self "'"$SELECT_22"'"' ||
		{ not_ok "unparsable: rig: $(cat "$TMP/rig.err")"; return; }
	check "unparsable: both port-22 connections kept, exit 1 ($(result garb))" \
		[ "$(result garb)" = "1|$OWN $OTHER" ]
	check "unparsable: says why and how many ($(grep 'cannot tell' "$TMP/garb.err"))" \
		grep -q 'kept 1 connection on port 22.*cannot tell.*SSH_CONNECTION.*`garbage'"'" \
		"$TMP/garb.err"
	check "unparsable: the client ends of both (dport 22) kept too, exit 1 ($(result gd))" \
		[ "$(result gd)" = "1|$OWN $OTHER" ]
	check "unparsable: --include-self kills both ($(result g_incl))" [ "$(result g_incl)" = "0|" ]
}

# --- cannot tell (an ancestor's fd table unreadable, as for a non-root caller) ---------------
test_unreadable() {
	local ns
	if ! command -v setpriv >/dev/null; then
		skipped "unreadable: setpriv is not installed"
		return
	fi
	ns_new ns || { not_ok "unreadable: namespace"; return; }
	rig_run "$ns" '
		bash "$1" "$2" nobody setpriv --reuid=65534 --regid=65534 --clear-groups \
			env -i PATH='"$SPATH"' ASAN_OPTIONS=detect_leaks=0 "$3" --dry-run \
			"'"$SELECT_22"'"' || { not_ok "unreadable: rig: $(cat "$TMP/rig.err")"; return; }
	if grep -q 'Permission denied' "$TMP/nobody.err" && ! grep -q 'cannot tell' "$TMP/nobody.err"; then
		skipped "unreadable: uid 65534 cannot run $SR here: $(head -c 200 "$TMP/nobody.err")"
		return
	fi
	check "unreadable: nothing selected as uid 65534, exit 1 ($(result nobody))" \
		[ "$(result nobody)" = "1|$OWN $OTHER" ]
	check "unreadable: says which fd table it could not read ($(grep 'cannot tell' "$TMP/nobody.err"))" \
		grep -q 'kept 2 connections on port 22.*cannot tell.*cannot read /proc/[0-9]*/fd.*Permission denied' \
		"$TMP/nobody.err"
}

# --- a setcap install (man page, PRIVILEGES) run by a non-root caller reads root's sshd -------
# (Without cap_sys_ptrace it cannot: test_unreadable.)
test_setcap() {
	local ns capsr
	setcap_copy setcap capsr \
		cap_net_admin,cap_net_raw,cap_sys_ptrace,cap_dac_read_search,cap_dac_override || return
	ns_new ns || { not_ok "setcap: namespace"; return; }
	rig_run "$ns" '
		bash "$1" "$2" cap setpriv --reuid=65534 --regid=65534 --clear-groups \
			'"$capsr"' --dry-run --json "'"$SELECT_22"'"' ||
		{ not_ok "setcap: rig: $(cat "$TMP/rig.err")"; return; }
	check "setcap: as uid 65534, only the other connection is planned (exit $(cat "$TMP/cap.rc"))" \
		[ "$(jq -c '[.sockets[].peer.port]' "$TMP/cap.out")" = "[$OTHER]" ]
	check "setcap: it knew which one was yours" \
		grep -q 'kept your own SSH connection: 1 socket' "$TMP/cap.err"
}

# --- the issue as reported: a real sshd, ssh, sudo (env_reset: no SSH_CONNECTION) ------------
# sshd runs in our namespace, in a private mount namespace (its privilege separation directory
# /run/sshd lives on a tmpfs there), with host and client keys made for this test.
test_real_sshd() {
	local ns sshd t rc
	for t in /usr/sbin/sshd ssh ssh-keygen sudo; do
		if ! command -v "$t" >/dev/null; then
			skipped "real sshd: $t is not installed (openssh-server, openssh-client, sudo)"
			return
		fi
	done
	ns_new ns || { not_ok "real sshd: namespace"; return; }
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$TMP/id" &&
		cp "$TMP/id.pub" "$TMP/authorized_keys" || { not_ok "real sshd: keys"; return; }
	cat >"$TMP/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:22
		HostKey $TMP/hostkey
		PidFile $TMP/sshd.pid
		AuthorizedKeysFile $TMP/authorized_keys
		PermitRootLogin prohibit-password
		StrictModes no
		UsePAM no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
	EOF
	ip netns exec "$ns" unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /run &&
		mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$1"' _ "$TMP/sshd_config" \
		2>"$TMP/sshd.log" &
	sshd=$!
	RIG_PIDS+=("$sshd")
	for _ in $(seq 100); do
		[ -n "$(in_ns "$ns" ss -tlnH 'sport = :22')" ] && break
		kill -0 "$sshd" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$(in_ns "$ns" ss -tlnH 'sport = :22')" ]; then
		skipped "real sshd: sshd does not start here: $(head -c 200 "$TMP/sshd.log")"
		return
	fi
	local ssh=(timeout 60 ip netns exec "$ns" ssh -i "$TMP/id" -o StrictHostKeyChecking=no
		   -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR root@127.0.0.1)

	check "real sshd: sudo strips SSH_CONNECTION" \
		[ "$("${ssh[@]}" 'test -n "$SSH_CONNECTION" && sudo env | grep -c SSH_CONNECTION')" = 0 ]
	"${ssh[@]}" "sudo $SR_ABS --yes --no-audit '$SELECT_22'; echo \"sockreap exit \$?\"" \
		>"$TMP/real.out" 2>"$TMP/real.err"
	rc=$?
	check "real sshd: the session survives sudo sockreap --yes (ssh exit $rc)" [ "$rc" = 0 ]
	check "real sshd: sockreap found nothing else to kill ($(tail -1 "$TMP/real.out"))" \
		[ "$(tail -1 "$TMP/real.out")" = "sockreap exit 1" ]
	check "real sshd: says it kept your own connection" \
		grep -q 'kept your own SSH connection: 1 socket' "$TMP/real.err"
	# ssh localhost: the client end of the session is a socket here too.
	local both='state established and (sport 22 or dport 22)'
	"${ssh[@]}" "sudo $SR_ABS --yes --no-audit '$both'; echo \"sockreap exit \$?\"" \
		>"$TMP/real.out" 2>"$TMP/real.err"
	rc=$?
	check "real sshd: the session survives 'sport 22 or dport 22' (ssh exit $rc)" [ "$rc" = 0 ]
	check "real sshd: kept both ends ($(tail -1 "$TMP/real.out"))" \
		[ "$(tail -1 "$TMP/real.out")" = "sockreap exit 1" ]
	check "real sshd: says it kept 2 sockets" \
		grep -q 'kept your own SSH connection: 2 sockets' "$TMP/real.err"
	"${ssh[@]}" "sudo $SR_ABS --yes --no-audit --include-self '$SELECT_22'" \
		>"$TMP/real.out" 2>"$TMP/real.err"
	rc=$?
	check "real sshd: --include-self cuts the session (ssh exit $rc)" [ "$rc" = 255 ]
}

# --- the other end of the caller's own connection is on this host too (ssh localhost, a
# container sharing the namespace): the rig's client end of its own connection, held by the
# bystander, is that end. Both ends are kept, with the environment stripped (the ends learned
# from the sshd ancestor's socket) and with SSH_CONNECTION naming the connection. --------------
# other_end VARIANT ENV...: the steps under one rig; the other connection dies in the first.
other_end() {
	local v=$1 ns
	shift
	ns_new ns || { not_ok "other end ($v): namespace"; return 1; }
	rig_run "$ns" '
		e=(env -i PATH='"$SPATH"' '"$*"')
		bash "$1" "$2" od "${e[@]}" "$3" --yes --no-audit "dport 22"
		bash "$1" "$2" osd "${e[@]}" "$3" --yes --no-audit "sport 22 or dport 22"
		bash "$1" "$2" oincl "${e[@]}" "$3" --yes --no-audit --include-self \
			"sport 22 or dport 22"' || { not_ok "other end ($v): rig: $(cat "$TMP/rig.err")"; return 1; }
}

test_other_end() {
	local v
	for v in stripped ssh_connection; do
		if [ "$v" = stripped ]; then
			other_end "$v" || continue
		else
			other_end "$v" 'SSH_CONNECTION="127.0.0.1 $SSHDRIG_OWN_PORT 127.0.0.1 22"' ||
				continue
		fi
		check "other end ($v): 'dport 22' kills only the other connection, exit 0 ($(result od))" \
			[ "$(result od)" = "0|$OWN" ]
		check "other end ($v): 'dport 22' kept the client end of yours" \
			grep -q 'kept your own SSH connection: 1 socket' "$TMP/od.err"
		check "other end ($v): 'sport 22 or dport 22' keeps both ends, exit 1 ($(result osd))" \
			[ "$(result osd)" = "1|$OWN" ]
		check "other end ($v): says it kept 2 sockets" \
			grep -q 'kept your own SSH connection: 2 sockets' "$TMP/osd.err"
		check "other end ($v): --include-self kills it ($(result oincl))" \
			[ "$(result oincl)" = "0|" ]
	done
}

test_ancestor
test_other_end
test_session
test_unparsable
test_unreadable
test_setcap
test_real_sshd
