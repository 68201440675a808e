# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the incident runbooks: tests/integration/lib.sh (namespaces, rigs, result lines)
# plus the one thing a runbook adds: its command is the one sockreap(8) prints under RUNBOOKS,
# checked word for word, then run with the placeholders (PID, PORT, ...) filled in.
. tests/integration/lib.sh

ECHORIG=${ECHORIG:-build/tests/echorig}
MANPAGE=${MANPAGE:-man/sockreap.8}
# The runbook's command writes its audit records here, not to the host's /var/log.
export SOCKREAP_AUDIT_LOG="$TMP/audit.log"
# Servers a runbook starts (redis, postgres): "PID SIGNAL", stopped before lib.sh's cleanup.
SERVERS=()

runbook_cleanup() {
	local s pid sig
	for s in "${SERVERS[@]}"; do
		read -r pid sig <<<"$s"
		kill -"$sig" "$pid" 2>/dev/null
		wait_exit "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	cleanup
}
trap runbook_cleanup EXIT

# man_runbooks: the commands of sockreap(8)'s RUNBOOKS section, one a line, as a reader sees
# them (roff escapes and font changes removed).
man_runbooks() {
	awk '/^\.SH /{on = ($2 == "RUNBOOKS")} on && /^sockreap /' "$MANPAGE" |
		sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g'
}

# runbook_words DESC TEMPLATE NAME=VALUE...: checks that TEMPLATE is one of the man page's
# runbook commands; RB_ARGV gets it to run (sockreap being the test build, each placeholder
# NAME replaced by VALUE), RB_SHOWN the same as text. TEMPLATE is plain words, no quoting.
runbook_words() {
	local desc=$1 template=$2 word kv
	local -a words
	shift 2
	if man_runbooks | grep -qxF -- "$template"; then
		ok "$desc: sockreap(8) RUNBOOKS prints \"$template\""
	else
		not_ok "$desc: \"$template\" is not among sockreap(8)'s RUNBOOKS commands"
	fi
	RB_ARGV=() RB_SHOWN=
	read -ra words <<<"$template"
	for word in "${words[@]}"; do
		if [ "$word" = sockreap ]; then
			word=$SR
		else
			for kv in "$@"; do
				word=${word//"${kv%%=*}"/"${kv#*=}"}
			done
		fi
		RB_ARGV+=("$word")
		RB_SHOWN+=" $word"
	done
	RB_SHOWN=${RB_SHOWN/"$SR"/sockreap}
}

# runbook_look DESC NS TEMPLATE NAME=VALUE...: one of the man page's first-look commands (a
# dry run) in NS, with --json added; its document is left in $TMP/out.
runbook_look() {
	local desc=$1 ns=$2
	shift 2
	runbook_words "$desc" "$@"
	expect_status 0 "$desc: ran$RB_SHOWN --json" in_ns "$ns" "${RB_ARGV[@]}" --json
}

# runbook DESC NS TEMPLATE NAME=VALUE...: what the man page says to do with a runbook's
# command, in NS: preview it with --dry-run, run it (exit 0 expected), and check that what was
# killed is exactly what the preview showed.
runbook() {
	local desc=$1 ns=$2
	shift 2
	runbook_words "$desc" "$@"
	expect_status 0 "$desc: preview:$RB_SHOWN --dry-run --json" \
		in_ns "$ns" "${RB_ARGV[@]}" --dry-run --json
	jq -r '.sockets[].cookie' "$TMP/out" | sort >"$TMP/runbook.preview"
	expect_status 0 "$desc: ran$RB_SHOWN" in_ns "$ns" "${RB_ARGV[@]}"
	jq -r 'select(.event=="result" and .outcome=="killed") | .cookies[]' "$SOCKREAP_AUDIT_LOG" |
		sort >"$TMP/runbook.killed"
	check "$desc: killed exactly the $(wc -l <"$TMP/runbook.preview") previewed sockets" \
		same_set "$TMP/runbook.preview" "$TMP/runbook.killed"
}

# same_set A B: two non-empty files with the same lines.
same_set() {
	[ -s "$1" ] && cmp -s "$1" "$2"
}

# veth_pair NS1 ADDR1 NS2 ADDR2: a veth link between two namespaces, ADDRs with /LEN, up.
# The ends are named after the namespaces' indexes so a test can delete one: "v-NS".
veth_pair() {
	ip link add "v-$1" netns "$1" type veth peer name "v-$3" netns "$3" &&
		ip -n "$1" addr add "$2" dev "v-$1" && ip -n "$3" addr add "$4" dev "v-$3" &&
		ip -n "$1" link set "v-$1" up && ip -n "$3" link set "v-$3" up
}

# rig_say VAR CMD: a command to a rig started with rig_spawn, and its one-line answer.
rig_say() {
	local w="${1}_in" r="${1}_out" line
	echo "$2" >&"${!w}"
	read -r -t 30 line <&"${!r}"
	echo "$line"
}

# poll_until SECONDS CMD...: runs CMD every 50 ms until it succeeds; 1 if it never did.
poll_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}
