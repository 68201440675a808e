#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sockreap watch with the engines that act inside processes: --engine shutdown (the holder
# reads EOF and keeps its fds) and --close-fd (the leaked descriptors go back to a server,
# tests/helpers/leakrig.c), with the audit a one-shot run writes; --close-fd is refused for a
# rule that names no process. The watcher runs in our namespace and watches the test's
# namespace with --netns. Every namespace, rig and watcher here is ours, stopped by pid.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/watch_lib.sh

require_netns watch-engines
LEAKRIG=build/tests/leakrig

shutdown_engine() {
	local ns
	ns_new ns || { not_ok "shutdown: namespace"; return; }
	rig_start S "$ns" -p 7495 -n 3 close-wait || { not_ok "shutdown: rig"; return; }
	cw_settled "$ns" 7495 3 || { not_ok "shutdown: close-wait settled"; return; }
	watcher W "" --every 300ms --engine shutdown --netns "$ns" --audit-log "$TMP/sd.log" \
		'sd: state close-wait and sport 7495, older-than 0s'
	cw_settled "$ns" 7495 0
	check "shutdown: none left in close-wait" [ "$(cw_count "$ns" 7495)" = 0 ]
	check "shutdown: the holder reads EOF on each, fds still its own" \
		grep -q '^held=3 .*eof=3' <<<"$(rig_report S)"
	check "shutdown: the audit's results say engine shutdown, 3 killed" [ "$(jq -rs '
		[.[] | select(.event == "result") | select(.engine == "shutdown") |
		 .cookies | length] | add' "$TMP/sd.log")" = 3 ]
	check "shutdown: the watcher says which engine" wait_for 20 grep -q "(shutdown" "$TMP/W.err"
	stop "$W"
	check "shutdown: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
}

close_fd() {
	local ns base i
	case "$(uname -m)" in
	x86_64) ;;
	*)
		skipped "close-fd: --close-fd is tested on x86-64 only (this is $(uname -m))"
		return
		;;
	esac
	[ -x "$LEAKRIG" ] || { not_ok "close-fd: $LEAKRIG is not built"; return; }
	expect_status 2 "close-fd: refused for a rule that names no process" \
		"$SR" watch --close-fd 'x: state close-wait, older-than 1s'
	check "close-fd: it names the rule" grep -q "rule x: --close-fd" "$TMP/err"
	ns_new ns || { not_ok "close-fd: namespace"; return; }
	rig_spawn L ip netns exec "$ns" "$LEAKRIG" 7496 --nofile 64 || {
		not_ok "close-fd: rig"
		return
	}
	base=$(ls "/proc/$L/fd" | wc -l)
	in_ns "$ns" bash -c 'for ((i = 0; i < 3; i++)); do
		exec 3<>/dev/tcp/127.0.0.1/7496 && exec 3>&-; done'
	cw_settled "$ns" 7496 3 || { not_ok "close-fd: 3 leaked"; return; }
	watcher C "" --every 300ms --close-fd --netns "$ns" --audit-log "$TMP/cf.log" \
		'cf: state close-wait and sport 7496 and comm leakrig, older-than 0s'
	cw_settled "$ns" 7496 0
	check "close-fd: none left in close-wait" [ "$(cw_count "$ns" 7496)" = 0 ]
	for ((i = 0; i < 2000; i++)); do
		[ "$(ls "/proc/$L/fd" | wc -l)" = "$base" ] && break
		sleep 0.01
	done
	check "close-fd: the server's fds are back to its baseline ($base)" \
		[ "$(ls "/proc/$L/fd" | wc -l)" = "$base" ]
	check "close-fd: the audit results say fd_closed for each owner" [ "$(jq -s -c '
		[.[] | select(.event == "result") | .owners[]? | .fd_closed]' "$TMP/cf.log")" = \
		'[true,true,true]' ]
	check "close-fd: the watcher says the descriptors were returned" \
		grep -q -- "--close-fd: 3 descriptors returned" "$TMP/C.err"
	stop "$C"
	check "close-fd: SIGTERM stops it, exit 0" [ "$STOPPED" = 0 ]
	check "engines: stderr clean of sanitizer reports" \
		sh -c "! grep -q 'Sanitizer\|runtime error' '$TMP/W.err' '$TMP/C.err'"
}

shutdown_engine
close_fd
