#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The audit trail holds: concurrent runs and a torn last line leave only whole JSON lines;
# signals during a kill are held until every record is written (and the summaries say the exit
# status they cause); a full disk or a file-size limit is exit 3 with a count of what is missing;
# a setcap install's caller cannot put words in the record; hostile audit paths are refused
# before anything is killed; without an audit file or a syslog socket a kill is refused unless
# --yes. Every namespace, mount and rig here is ours and is removed at exit.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns audit
SINK=$PWD/build/tests/logsink

# bad_lines LOG: how many lines of LOG are not JSON objects.
bad_lines() {
	jq -R -r 'try (fromjson | if type == "object" then empty else "BAD" end) catch "BAD"' "$1" |
		wc -l
}
# sockets_in LOG EVENT [RUN]: how many sockets EVENT records of LOG (of run RUN) carry: an
# intent's "sockets", a result's "cookies".
sockets_in() {
	jq -R -s --arg e "$2" --arg r "${3:-}" '[split("\n")[] | try fromjson catch null |
		objects | select(.event == $e and ($r == "" or .run == $r)) |
		(.sockets // .cookies)[]] | length' "$1"
}
# events_in LOG: the run's events in order, repeats squeezed: "start intent result summary".
events_in() {
	jq -r '.event' "$1" | uniq | tr '\n' ' ' | sed 's/ $//'
}

# settled NS PORT N: waits (30 s at most) until the kernel lists N close-wait sockets on PORT:
# under load the rig's FINs can land after it says ready, and a kill before that misses some.
settled() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(ss_count "$1" state close-wait "sport = :$2")" = "$3" ] && return 0
		sleep 0.01
	done
	echo "settled: $3 close-wait on port $2 expected, $(ss_count "$1" state close-wait "sport = :$2") listed" >&2
	return 1
}

# in_private_dev NS SCRIPT ARGS...: runs the bash SCRIPT in NS with a private mount namespace
# whose /dev is an empty tmpfs (with null and fd): no /dev/log unless SCRIPT starts a logsink.
# The host's /dev is never touched. Returns 99 if such a namespace cannot be made here.
in_private_dev() {
	local ns=$1 script=$2
	shift 2
	in_ns "$ns" unshare -m --propagation private bash -c '
		mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		ln -s /proc/self/fd /dev/fd || exit 99
		'"$script" _ "$@"
}

# --- 1. concurrent runs and a torn last line ---------------------------------------------------
test_concurrent() {
	local ns log=$TMP/conc.log p1 p2 p3 rc1 rc2 rc3
	ns_new ns || { not_ok "concurrent: namespace"; return; }
	rig_start C1 "$ns" -p 7001 -n 3000 close-wait || { not_ok "concurrent: rig 1"; return; }
	settled "$ns" 7001 3000 || { not_ok "concurrent: rig on 7001 did not settle"; return; }
	rig_start C2 "$ns" -p 7002 -n 3000 close-wait || { not_ok "concurrent: rig 2"; return; }
	settled "$ns" 7002 3000 || { not_ok "concurrent: rig on 7002 did not settle"; return; }
	rig_start C3 "$ns" -p 7003 -n 3000 close-wait || { not_ok "concurrent: rig 3"; return; }
	settled "$ns" 7003 3000 || { not_ok "concurrent: rig on 7003 did not settle"; return; }
	# A run killed with SIGKILL mid-write leaves a line without its newline.
	printf '{"event":"intent","torn":' >"$log"
	chmod 600 "$log"
	in_ns "$ns" "$SR" --yes --state close-wait --sport 7001 --audit-log "$log" >/dev/null 2>&1 &
	p1=$!
	in_ns "$ns" "$SR" --yes --state close-wait --sport 7002 --audit-log "$log" >/dev/null 2>&1 &
	p2=$!
	in_ns "$ns" "$SR" --yes --state close-wait --sport 7003 --audit-log "$log" >/dev/null 2>&1 &
	p3=$!
	wait $p1; rc1=$?
	wait $p2; rc2=$?
	wait $p3; rc3=$?
	check "concurrent: three runs at once exit 0 ($rc1 $rc2 $rc3)" [ "$rc1$rc2$rc3" = 000 ]
	check "concurrent: the torn line stays alone on the first line" \
		[ "$(head -1 "$log")" = '{"event":"intent","torn":' ]
	check "concurrent: every other line is a whole JSON object ($(($(bad_lines "$log") - 1)) not)" \
		[ "$(bad_lines "$log")" = 1 ]
	check "concurrent: three start and three summary records" \
		[ "$(grep -c '"event":"start"' "$log") $(grep -c '"event":"summary"' "$log")" = "3 3" ]
	local run ok_runs=0
	for run in $(jq -R -r 'try fromjson catch null | objects | select(.event == "start") | .run' "$log"); do
		[ "$(sockets_in "$log" intent "$run") $(sockets_in "$log" result "$run")" = "3000 3000" ] &&
			ok_runs=$((ok_runs + 1))
	done
	check "concurrent: each run has its 3000 intents and 3000 results ($ok_runs of 3)" [ "$ok_runs" = 3 ]
	check "concurrent: no close-wait left" [ "$(ss_count "$ns" state close-wait)" = 0 ]
	# What a socket costs in the log: the intent carries the socket, the result its outcome.
	local bytes
	bytes=$(($(stat -c %s "$log") / 9000))
	check "concurrent: at most 400 bytes of audit per socket ($bytes)" [ "$bytes" -le 400 ]
}

# --- 2. signals during a kill are held until the records are written --------------------------
# The rst engine waits 600 ms for a socket whose replies a firewall rule drops (port 7199):
# that keeps each kill running long enough for the signal to arrive mid-way.
test_signals() {
	local ns log pid rc sel
	if ! command -v nft >/dev/null; then
		skipped "signals: nft is not installed"
		return
	fi
	ns_new ns || { not_ok "signals: namespace"; return; }
	rig_start SS "$ns" -p 7199 -n 1 close-wait || { not_ok "signals: silent rig"; return; }
	settled "$ns" 7199 1 || { not_ok "signals: rig on 7199 did not settle"; return; }
	in_ns "$ns" nft add table inet sr &&
		in_ns "$ns" nft add chain inet sr out '{ type filter hook output priority 0; }' &&
		in_ns "$ns" nft add rule inet sr out tcp sport 7199 drop ||
		{ not_ok "signals: firewall rule"; return; }

	log=$TMP/sig.log
	rig_start ST "$ns" -p 7100 -n 200 close-wait || { not_ok "signals: rig"; return; }
	settled "$ns" 7100 200 || { not_ok "signals: rig on 7100 did not settle"; return; }
	# nsenter execs sockreap itself (ip netns exec forks): the signal goes to sockreap.
	nsenter --net="/run/netns/$ns" "$SR" --engine rst --yes --json --audit-log "$log" \
		"state close-wait and (sport 7100 or sport 7199)" >"$TMP/sig.out" 2>"$TMP/sig.err" &
	pid=$!
	# The start record is written with the signals already held.
	if wait_grep "$log" '"event":"start"'; then
		kill -TERM $pid
		wait $pid
		rc=$?
	else
		kill -KILL $pid
		wait $pid
		rc="no start record within 60 s"
	fi
	check "signals: SIGTERM during the kill: exit 143 ($rc)" [ "$rc" = 143 ]
	check "signals: SIGTERM: start, intents, results, summary ($(events_in "$log"))" \
		[ "$(events_in "$log")" = "start intent result summary" ]
	check "signals: SIGTERM: 201 intents and 201 results" \
		[ "$(sockets_in "$log" intent) $(sockets_in "$log" result)" = "201 201" ]
	check "signals: SIGTERM: the run says it was interrupted ($(grep SIGTERM "$TMP/sig.err"))" \
		grep -q "SIGTERM" "$TMP/sig.err"
	check "signals: SIGTERM: the 200 answering sockets were killed" \
		[ "$(ss_count "$ns" state close-wait sport = :7100)" = 0 ]
	check "signals: SIGTERM: the audit summary says exit 143 ($(jq -r 'select(.event == "summary") | .exit_status' "$log"))" \
		[ "$(jq -r 'select(.event == "summary") | .exit_status' "$log")" = 143 ]
	check "signals: SIGTERM: so does --json ($(jq -r .summary.exit_status "$TMP/sig.out"))" \
		[ "$(jq -r .summary.exit_status "$TMP/sig.out")" = 143 ]

	# --no-audit: syslog gets a line before the kill and one after, whatever the signal.
	rig_start SH "$ns" -p 7101 -n 200 close-wait || { not_ok "signals: rig"; return; }
	settled "$ns" 7101 200 || { not_ok "signals: rig on 7101 did not settle"; return; }
	in_private_dev "$ns" '
		"$1" /dev/log >>"$2" & sink=$!  # appends: rc lines go in too
		for _ in $(seq 100); do grep -q ready "$2" && break; sleep 0.1; done
		# A make check under nohup hands SIGHUP down ignored, and sockreap rightly keeps
		# an ignored signal ignored: give it the default disposition, as a terminal would.
		env --default-signal=HUP "$3" --engine rst --yes --no-audit \
			"state close-wait and (sport 7101 or sport 7199)" >/dev/null 2>&1 & pid=$!
		for _ in $(seq 6000); do grep -q "intends to kill" "$2" && break; sleep 0.01; done
		kill -HUP $pid
		wait $pid
		echo "rc=$?" >>"$2"
		sleep 0.2
		kill $sink' "$SINK" "$TMP/sig.syslog" "$SR"
	rc=$?
	if [ "$rc" = 99 ]; then
		skipped "signals: cannot make a private mount namespace here"
		return
	fi
	check "signals: --no-audit SIGHUP: exit 129 ($(grep rc= "$TMP/sig.syslog"))" \
		grep -qx 'rc=129' "$TMP/sig.syslog"
	check "signals: --no-audit: syslog says what it intends before the kill" \
		grep -q 'intends to kill 201 sockets' "$TMP/sig.syslog"
	check "signals: --no-audit: and what was killed after it" \
		grep -q '201 selected, 200 killed' "$TMP/sig.syslog"
}

# --- 3. a full disk: the results that could not be written are counted, exit 3 ----------------
test_full_disk() {
	local ns scratch=$TMP/full-scratch.log intents results room
	ns_new ns || { not_ok "full: namespace"; return; }
	# A first run of the same shape measures what the intents and the results take.
	rig_start F1 "$ns" -p 7200 -n 8000 close-wait || { not_ok "full: rig 1"; return; }
	settled "$ns" 7200 8000 || { not_ok "full: rig on 7200 did not settle"; return; }
	expect_status 0 "full: a measuring run" \
		in_ns "$ns" "$SR" --yes --state close-wait --sport 7200 --audit-log "$scratch"
	intents=$(grep -E '"event":"(start|intent)"' "$scratch" | wc -c)
	results=$(grep -E '"event":"(result|summary)"' "$scratch" | wc -c)
	# Room for the intents and 7/8 of the results, in whole pages as tmpfs counts them: the
	# first result record (about 60 KiB) fits, the second does not.
	room=$(((intents + results * 7 / 8 + 4095) / 4096 * 4096))
	rig_start F2 "$ns" -p 7201 -n 8000 close-wait || { not_ok "full: rig 2"; return; }
	settled "$ns" 7201 8000 || { not_ok "full: rig on 7201 did not settle"; return; }
	mkdir -p "$TMP/full" "$TMP/small"
	# First a file system too small for the intents: no record, no kill.
	in_private_dev "$ns" '
		mount -t tmpfs -o size="$4",mode=0700 tmpfs "$5" || exit 98
		mount -t tmpfs -o size=8k,mode=0700 tmpfs "$7" || exit 98
		"$1" /dev/log >>"$2" & sink=$!  # appends: rc lines go in too
		for _ in $(seq 100); do grep -q ready "$2" && break; sleep 0.1; done
		"$3" --yes --state close-wait --sport 7201 --audit-log "$7/audit.log" \
			>/dev/null 2>"$6.small"
		echo "small rc=$?" >>"$2"
		"$3" --yes --state close-wait --sport 7201 --audit-log "$5/audit.log" \
			>"$6.out" 2>"$6.err"
		echo "rc=$?" >>"$2"
		cp "$5/audit.log" "$6.log"
		sleep 0.2
		kill $sink' "$SINK" "$TMP/full.syslog" "$SR" "$room" "$TMP/full" "$TMP/full" "$TMP/small"
	case $? in
	99) skipped "full: cannot make a private mount namespace here"; return ;;
	98) skipped "full: cannot mount a small tmpfs here"; return ;;
	esac
	local missing
	check "full: no room for the intents: refused, exit 5 ($(grep 'small rc=' "$TMP/full.syslog"))" \
		grep -qx 'small rc=5' "$TMP/full.syslog"
	check "full: and it says nothing was killed ($(head -c 200 "$TMP/full.small"))" \
		grep -q "cannot write audit log $TMP/small/audit.log: No space left on device; nothing killed" \
		"$TMP/full.small"
	check "full: exit 3 although every socket was killed ($(grep rc= "$TMP/full.syslog"))" \
		grep -qx 'rc=3' "$TMP/full.syslog"
	check "full: every socket was killed ($(in_ns "$ns" ss -tanH state close-wait | head -3))" \
		[ "$(ss_count "$ns" state close-wait)" = 0 ]
	check "full: the log keeps all 8000 intents" [ "$(sockets_in "$TMP/full.log" intent)" = 8000 ]
	check "full: only whole JSON lines in the log" [ "$(bad_lines "$TMP/full.log")" = 0 ]
	missing=$(sed -n 's/.* \([0-9]\+\) of 8000 results.*/\1/p' "$TMP/full.err" | head -1)
	check "full: stderr names the file and how many results are missing ($(head -c 300 "$TMP/full.err"))" \
		grep -q "$TMP/full/audit.log: $missing of 8000 results" "$TMP/full.err"
	local written
	written=$(sockets_in "$TMP/full.log" result)
	check "full: written + missing = 8000 ($written + $missing)" \
		[ "$((written + ${missing:-0}))" = 8000 ]
	check "full: some results written, some missing ($written, $missing)" \
		[ "$written" -gt 0 -a "${missing:-0}" -gt 0 ]
	check "full: syslog says how many results are missing" \
		grep -q "$missing of 8000 results missing" "$TMP/full.syslog"
	check "full: and stderr says syslog has it (a logsink listens)" \
		grep -q "could not be written (No space left on device); syslog says the same" "$TMP/full.err"
}

# --- 3b. a disk that fills up while the intents are written during the kill --------------------
# The destroy engine starts once the first chunk of intents is on disk and acts on each batch
# only once its intents are: a file system with room for the first chunk (2,048 intents, ~0.7
# MB) but not the second kills exactly the sockets whose intents are on disk, leaves the rest
# alone (skipped, no-intent) and exits 3.
test_full_midway() {
	local ns rc n left
	ns_new ns || { not_ok "midway: namespace"; return; }
	rig_start M "$ns" -p 7210 -n 8000 close-wait || { not_ok "midway: rig"; return; }
	settled "$ns" 7210 8000 || { not_ok "midway: rig on 7210 did not settle"; return; }
	# Every socket's cookie (ss says sk:HEX, the audit's "cookie" is the same hex).
	in_ns "$ns" ss -tanHe state close-wait "sport = :7210" 2>/dev/null |
		sed -n 's/.* sk:\([0-9a-f]*\).*/\1/p' | sort >"$TMP/midway.before"
	mkdir -p "$TMP/midway"
	in_ns "$ns" unshare -m --propagation private bash -c '
		mount -t tmpfs -o size=1m,mode=0700 tmpfs "$1" || exit 98
		"$2" --yes --state close-wait --sport 7210 --audit-log "$1/audit.log" \
			>/dev/null 2>"$3.err"
		echo $? >"$3.rc"
		cp "$1/audit.log" "$3.log"' _ "$TMP/midway" "$SR" "$TMP/midway"
	[ "$?" = 98 ] && { skipped "midway: cannot mount a small tmpfs here"; return; }
	rc=$(cat "$TMP/midway.rc")
	check "midway: exit 3 ($rc)" [ "$rc" = 3 ]
	n=$(sed -n 's/.*No space left on device after \([0-9]*\) of 8000 intents.*/\1/p' \
		"$TMP/midway.err" | head -1)
	check "midway: stderr says how many intents reached the disk ($(head -c 300 "$TMP/midway.err"))" \
		[ -n "$n" ]
	check "midway: some but not all ($n)" [ "${n:-0}" -gt 0 -a "${n:-8000}" -lt 8000 ]
	left=$(ss_count "$ns" state close-wait "sport = :7210")
	check "midway: exactly those were killed, the rest left alone ($left left)" \
		[ "$left" = "$((8000 - ${n:-0}))" ]
	in_ns "$ns" ss -tanHe state close-wait "sport = :7210" 2>/dev/null |
		sed -n 's/.* sk:\([0-9a-f]*\).*/\1/p' | sort >"$TMP/midway.after"
	jq -R -r 'try fromjson catch null | objects | select(.event == "intent") | .sockets[].cookie' \
		"$TMP/midway.log" | sort >"$TMP/midway.intents"
	# Killed = listed before, not after; each must have its intent in the file.
	check "midway: every socket killed has its intent on disk" \
		[ -z "$(comm -23 "$TMP/midway.before" "$TMP/midway.after" |
			comm -23 - "$TMP/midway.intents")" ]
	check "midway: only whole JSON lines in the log" [ "$(bad_lines "$TMP/midway.log")" = 0 ]
	check "midway: stderr names the rest as not touched" \
		grep -q "the $((8000 - ${n:-0})) sockets without one were not touched" "$TMP/midway.err"
}

# --- --no-audit with no syslog socket: the kill would be recorded nowhere ---------------------
test_nowhere() {
	local ns rc
	ns_new ns || { not_ok "nowhere: namespace"; return; }
	rig_start N "$ns" -p 7300 -n 5 close-wait || { not_ok "nowhere: rig"; return; }
	settled "$ns" 7300 5 || { not_ok "nowhere: rig on 7300 did not settle"; return; }
	in_private_dev "$ns" '
		"$1" --no-audit --state close-wait </dev/null >/dev/null 2>"$2.1"; echo $? >"$2.rc1"
		"$1" --yes --no-audit --state close-wait </dev/null >/dev/null 2>"$2.2"; echo $? >"$2.rc2"
		' "$SR" "$TMP/nowhere"
	if [ "$?" = 99 ]; then
		skipped "nowhere: cannot make a private mount namespace here"
		return
	fi
	check "nowhere: without --yes, refused: exit 5 ($(cat "$TMP/nowhere.rc1"))" \
		[ "$(cat "$TMP/nowhere.rc1")" = 5 ]
	check "nowhere: it says the kill would be recorded nowhere ($(head -c 300 "$TMP/nowhere.1"))" \
		grep -q 'recorded nowhere' "$TMP/nowhere.1"
	check "nowhere: with --yes, done: exit 0 ($(cat "$TMP/nowhere.rc2"))" \
		[ "$(cat "$TMP/nowhere.rc2")" = 0 ]
	check "nowhere: and says so" grep -q 'recorded nowhere' "$TMP/nowhere.2"
	check "nowhere: the 5 were killed by the second run only" \
		[ "$(ss_count "$ns" state close-wait)" = 0 ]
}

# --- a file-size limit (prlimit --fsize) is a full disk, not a death by SIGXFSZ -----------------
# Any caller may set RLIMIT_FSIZE, a setcap install's included: by default the kernel then kills
# the writer with SIGXFSZ in the middle of a record (exit 153). Here it must be exit 3 with
# whole lines and a count of what is missing; with no syslog daemon, it must not claim one.
test_fsize() {
	local ns measured lim rc
	ns_new ns || { not_ok "fsize: namespace"; return; }
	rig_start Z1 "$ns" -p 7500 -n 3 close-wait || { not_ok "fsize: rig 1"; return; }
	settled "$ns" 7500 3 || { not_ok "fsize: rig on 7500 did not settle"; return; }
	# A run of the same shape (same path length, same port digits) measures start + intents.
	expect_status 0 "fsize: a measuring run" \
		in_ns "$ns" "$SR" --yes --json --state close-wait --sport 7500 --audit-log "$TMP/fsz-a.log"
	measured=$(grep -E '"event":"(start|intent)"' "$TMP/fsz-a.log" | wc -c)
	# Room for the intents (give or take a few digits), not for a result record (~170 bytes).
	lim=$((measured + 80))
	rig_start Z2 "$ns" -p 7501 -n 3 close-wait || { not_ok "fsize: rig 2"; return; }
	settled "$ns" 7501 3 || { not_ok "fsize: rig on 7501 did not settle"; return; }
	# No logsink: no /dev/log. stdout goes through a pipe (the limit is on files, and the JSON
	# is longer than it); stderr stays far below it.
	in_private_dev "$ns" '
		prlimit --fsize="$1" "$2" --yes --json --state close-wait --sport 7501 \
			--audit-log "$3/fsz-b.log" 2>"$3/fsz.err" | cat >"$3/fsz.out"
		echo "${PIPESTATUS[0]}" >"$3/fsz.rc"' "$lim" "$SR" "$TMP"
	if [ "$?" = 99 ]; then
		skipped "fsize: cannot make a private mount namespace here"
		return
	fi
	rc=$(cat "$TMP/fsz.rc")
	check "fsize: --fsize=$lim (intents $measured bytes): exit 3, not 153 ($rc)" [ "$rc" = 3 ]
	check "fsize: the sockets were killed" [ "$(ss_count "$ns" state close-wait sport = :7501)" = 0 ]
	check "fsize: every line of the log is whole JSON ($(bad_lines "$TMP/fsz-b.log") not)" \
		[ "$(bad_lines "$TMP/fsz-b.log")" = 0 ]
	check "fsize: the log keeps the 3 intents" [ "$(sockets_in "$TMP/fsz-b.log" intent)" = 3 ]
	check "fsize: stderr says what is missing and why ($(head -c 300 "$TMP/fsz.err"))" \
		grep -q "$TMP/fsz-b.log: 3 of 3 results and the summary could not be written (File too large)" \
		"$TMP/fsz.err"
	check "fsize: and does not claim a syslog that is not there" \
		grep -q "no syslog daemon at /dev/log either: they are recorded nowhere" "$TMP/fsz.err"
	check "fsize: the --json output is whole" [ "$(jq -s length "$TMP/fsz.out")" = 1 ]
	check "fsize: --json says exit 3 ($(jq -r .summary.exit_status "$TMP/fsz.out"))" \
		[ "$(jq -r .summary.exit_status "$TMP/fsz.out")" = 3 ]
}

# --- a setcap install run by a caller who is not root -----------------------------------------
# The caller's environment is not trusted (AT_SECURE): SUDO_USER=alice is recorded as null, not
# as a claim sockreap vouches for. A caller who cannot open the audit file is told to ask root,
# not to use --audit-log or --no-audit, which are refused to it. /var/log is a tmpfs in a
# private mount namespace here: the host's is never touched.
test_setcap() {
	local ns capsr
	setcap_copy setcap capsr \
		cap_net_admin,cap_net_raw,cap_sys_ptrace,cap_dac_read_search,cap_dac_override || return
	ns_new ns || { not_ok "setcap: namespace"; return; }
	rig_start K "$ns" -p 7600 -n 2 close-wait || { not_ok "setcap: rig"; return; }
	settled "$ns" 7600 2 || { not_ok "setcap: rig on 7600 did not settle"; return; }
	in_ns "$ns" unshare -m --propagation private bash -c '
		mount -t tmpfs -o mode=0755 tmpfs /var/log || exit 99
		nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
		nobody "$1" --yes --state close-wait --sport 7600 >/dev/null 2>"$2/sc.err1"
		echo $? >"$2/sc.rc1"
		# What PRIVILEGES tells root to do.
		install -d -m 0700 /var/log/sockreap &&
			install -m 0600 /dev/null /var/log/sockreap/audit.log || exit 98
		nobody env SUDO_USER=alice "$1" --yes --state close-wait --sport 7600 \
			>/dev/null 2>"$2/sc.err2"
		echo $? >"$2/sc.rc2"
		cp /var/log/sockreap/audit.log "$2/sc.log"' _ "$capsr" "$TMP"
	case $? in
	99) skipped "setcap: cannot mount a private /var/log here"; return ;;
	98) not_ok "setcap: root could not create the audit file"; return ;;
	esac
	check "setcap: no audit file: refused, exit 5 ($(cat "$TMP/sc.rc1"))" [ "$(cat "$TMP/sc.rc1")" = 5 ]
	check "setcap: it tells the caller to ask root ($(head -c 400 "$TMP/sc.err1"))" \
		grep -q "ask root to create it" "$TMP/sc.err1"
	check "setcap: and suggests no option refused to the caller" \
		bash -c '! grep -qe "--audit-log\|--no-audit" "$1"' _ "$TMP/sc.err1"
	check "setcap: with root's file: exit 0 ($(cat "$TMP/sc.rc2"): $(head -c 300 "$TMP/sc.err2"))" \
		[ "$(cat "$TMP/sc.rc2")" = 0 ]
	check "setcap: the record says who ran it ($(jq -c 'select(.event == "start") | .who' "$TMP/sc.log"))" \
		[ "$(jq -r 'select(.event == "start") | .who.uid' "$TMP/sc.log")" = "$(id -u nobody)" ]
	check "setcap: SUDO_USER from the caller's environment is not recorded" \
		[ "$(jq -r 'select(.event == "start") | .who.sudo_user' "$TMP/sc.log")" = null ]
	check "setcap: the 2 sockets were killed" [ "$(ss_count "$ns" state close-wait sport = :7600)" = 0 ]
}

# --- 4. hostile audit paths are refused before anything is killed -----------------------------
# refused DESC WHY-PATTERN PATH: a kill with --audit-log PATH exits 5, names why, kills nothing.
refused() {
	local desc=$1 why=$2 path=$3
	expect_status 5 "paths: $desc refused" \
		timeout 20 ip netns exec "$PNS" "$SR" --yes --state close-wait --audit-log "$path"
	check "paths: $desc: the error says why ($(head -c 200 "$TMP/err"))" grep -q -- "$why" "$TMP/err"
	check "paths: $desc: nothing killed" [ "$(ss_count "$PNS" state close-wait)" = 3 ]
}

test_paths() {
	local reader
	ns_new PNS || { not_ok "paths: namespace"; return; }
	rig_start P "$PNS" -p 7400 -n 3 close-wait || { not_ok "paths: rig"; return; }
	settled "$PNS" 7400 3 || { not_ok "paths: rig on 7400 did not settle"; return; }
	mkfifo -m 600 "$TMP/fifo"
	refused "a FIFO without a reader" "$TMP/fifo: not a regular file" "$TMP/fifo"
	cat "$TMP/fifo" >"$TMP/fifo.read" &
	reader=$!
	refused "a FIFO with a reader" "$TMP/fifo: not a regular file" "$TMP/fifo"
	kill $reader 2>/dev/null
	wait $reader 2>/dev/null
	check "paths: the FIFO's reader got no record" [ ! -s "$TMP/fifo.read" ]
	refused "/dev/null" "/dev/null: not a regular file" /dev/null
	mkdir -m 700 "$TMP/target"
	ln -s "$TMP/target" "$TMP/link"
	refused "a symlinked parent directory" "$TMP/link: a symbolic link" "$TMP/link/audit.log"
	check "paths: nothing created through the link" [ -z "$(ls -A "$TMP/target")" ]
	ln -s "$TMP/target/x.log" "$TMP/target.log"
	refused "a symlink as the file" "$TMP/target.log: a symbolic link" "$TMP/target.log"
	check "paths: nothing created through the file link" [ -z "$(ls -A "$TMP/target")" ]
	install -m 666 /dev/null "$TMP/open.log"
	refused "a 0666 file" "$TMP/open.log: writable by others" "$TMP/open.log"
	mkdir -m 700 "$TMP/theirs"
	chown nobody "$TMP/theirs"
	refused "a directory owned by nobody" "$TMP/theirs: owned by uid $(id -u nobody)" "$TMP/theirs/audit.log"
	check "paths: nothing created in it" [ -z "$(ls -A "$TMP/theirs")" ]
	install -m 600 -o nobody /dev/null "$TMP/theirs.log"
	refused "a file owned by nobody" "$TMP/theirs.log: owned by uid $(id -u nobody)" "$TMP/theirs.log"
	mkdir -m 770 "$TMP/group"
	refused "a group-writable directory" "$TMP/group: writable by its group" "$TMP/group/audit.log"
	refused "a relative path" "must be an absolute path" "audit.log"
	expect_status 0 "paths: a fresh directory under a private one is fine" \
		in_ns "$PNS" "$SR" --yes --state close-wait --audit-log "$TMP/fresh/audit.log"
	check "paths: the new directory is 0700, the file 0600" \
		[ "$(stat -c %a "$TMP/fresh") $(stat -c %a "$TMP/fresh/audit.log")" = "700 600" ]
}

# AUDIT_TESTS="signals paths" runs some of them while developing.
for t in ${AUDIT_TESTS:-concurrent signals full_disk full_midway fsize setcap nowhere paths}; do
	"test_$t"
done
