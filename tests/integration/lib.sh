# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the integration tests: namespaces they create and always delete, rigs they start
# and stop by pid, and TAP-like result lines ("ok", "not ok", "skipped") that tests/run.sh counts.

SR=${SOCKREAP:-build/san/sockreap}
RIG=${SOCKRIG:-build/tests/sockrig}
TMP=$(mktemp -d /tmp/sockreap-test.XXXXXX)
NAMESPACES=()
RIG_PIDS=()
CGROUPS=()
# LeakSanitizer and the kernel's ptrace rules disagree under setpriv; leaks are checked elsewhere.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

cleanup() {
	local pid ns
	for pid in "${RIG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for cg in "${CGROUPS[@]}"; do
		rmdir "$cg" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
skipped() { echo "skipped - $*"; }

# check DESC COMMAND...: one result line from a command's status.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Skips the whole file unless we can make namespaces.
require_netns() {
	if [ "$(id -u)" != 0 ]; then
		skipped "$1: needs root to create network namespaces"
		exit 0
	fi
	if ! ip netns add "sr-probe-$$" 2>/dev/null; then
		skipped "$1: cannot create a network namespace here"
		exit 0
	fi
	ip netns del "sr-probe-$$"
}

# ns_new VAR: a fresh namespace with lo up, deleted at exit.
ns_new() {
	local name="sr-$$-${#NAMESPACES[@]}"
	ip netns add "$name" || return 1
	NAMESPACES+=("$name")
	ip -n "$name" link set lo up
	printf -v "$1" '%s' "$name"
}

# setcap_copy DESC VAR CAPS: a copy of the plain build (SOCKREAP_PLAIN, ./sockreap: no sanitizer
# runtime in a binary with file capabilities) that anyone may run, with file capabilities CAPS;
# VAR gets its path. Without setcap, setpriv or such a file system: says "skipped" for DESC and
# returns 1; a copy that cannot be made is "not ok".
setcap_copy() {
	local desc=$1 var=$2 caps=$3 plain=${SOCKREAP_PLAIN:-./sockreap} dir="$TMP/setcap.$2"
	if ! command -v setcap >/dev/null || ! command -v setpriv >/dev/null; then
		skipped "$desc: setcap or setpriv is not installed (libcap2-bin, util-linux)"
		return 1
	fi
	if [ ! -x "$plain" ]; then
		not_ok "$desc: $plain is not built"
		return 1
	fi
	if ! { mkdir -m 0755 "$dir" && chmod 0755 "$TMP" && cp "$plain" "$dir/sockreap" &&
	       chmod 0755 "$dir/sockreap"; }; then
		not_ok "$desc: cannot copy $plain"
		return 1
	fi
	if ! setcap "$caps+ep" "$dir/sockreap" 2>"$dir/err"; then
		skipped "$desc: this file system cannot hold file capabilities: $(cat "$dir/err")"
		return 1
	fi
	printf -v "$var" '%s' "$dir/sockreap"
}

# cgroup_new VAR NAME: a cgroup v2 group NAME of our own under the cgroup2 root, removed at
# exit; VAR gets its path. Fails (1) where none can be made: the caller says "skipped".
cgroup_new() {
	local root
	root=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
	[ -n "$root" ] && mkdir "$root/$2" 2>/dev/null || return 1
	CGROUPS+=("$root/$2")
	printf -v "$1" '%s' "$root/$2"
}

# rig_spawn VAR CMD...: runs a rig command in the background on fresh FIFOs and waits for its
# "ready PID" line; VAR gets that pid, VAR_in/VAR_out are fds to talk to it.
rig_spawn() {
	local var=$1 fin="$TMP/$1.in" fout="$TMP/$1.out" line w r
	shift
	mkfifo "$fin" "$fout"
	"$@" <"$fin" >"$fout" &
	RIG_PIDS+=($!)
	exec {w}>"$fin"
	exec {r}<"$fout"
	printf -v "${var}_in" '%s' "$w"
	printf -v "${var}_out" '%s' "$r"
	if ! read -r -t 60 line <&"$r" || [ "${line%% *}" != ready ]; then
		echo "$* did not start: $line" >&2
		return 1
	fi
	printf -v "$var" '%s' "${line#ready }"
}

# rig_start VAR NS ARGS...: starts sockrig in NS; VAR gets its pid; VAR_in/VAR_out are fds.
rig_start() {
	local var=$1 ns=$2
	shift 2
	if [ -n "${RIG_CGROUP:-}" ]; then
		# Sockets belong to their creator's cgroup: join it before the rig starts.
		rig_spawn "$var" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$RIG_CGROUP" \
			ip netns exec "$ns" "$RIG" "$@"
	else
		rig_spawn "$var" ip netns exec "$ns" "$RIG" "$@"
	fi
}

# rig_start_unshared VAR ARGS...: sockrig in a new unnamed network namespace (lo up). unshare
# and sh exec, so VAR (the rig's pid) is the pid lib.sh's cleanup stops.
rig_start_unshared() {
	local var=$1
	shift
	rig_spawn "$var" unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$RIG" "$@"
}

# rig_report VAR: what the rig's held sockets see now.
rig_report() {
	local w="${1}_in" r="${1}_out" line
	echo report >&"${!w}"
	read -r -t 30 line <&"${!r}"
	echo "$line"
}

# in_ns NS CMD...: run a command inside the namespace.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ss_count NS FILTER...: how many TCP sockets the kernel lists for an ss filter.
ss_count() {
	local ns=$1
	shift
	ip netns exec "$ns" ss -tanH "$@" | wc -l
}
# wait_exit PID...: waits (bounded, 30 s) until none of these processes is left; 1 if some is.
wait_exit() {
	local i p alive
	for ((i = 0; i < 3000; i++)); do
		alive=
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && return 0
		sleep 0.01
	done
	return 1
}

# cw_count NS|pid:PID PORT: close-wait sockets on local PORT in a named namespace or a pid's.
cw_count() {
	if [ "${1#pid:}" != "$1" ]; then
		nsenter -t "${1#pid:}" -n ss -tanH state close-wait "sport = :$2" | wc -l
	else
		ss_count "$1" state close-wait "sport = :$2"
	fi
}

# cw_settled NS|pid:PID PORT N: waits (bounded) until N close-wait sockets are listed on PORT.
cw_settled() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ "$(cw_count "$1" "$2")" = "$3" ] && return 0
		sleep 0.01
	done
	echo "settled: $3 close-wait on port $2 in $1 expected, $(cw_count "$1" "$2") listed" >&2
	return 1
}

# audit_outcomes LOG INODE: "N outcome, ..." of the results the audit LOG gives the sockets its
# intents place in network namespace INODE.
audit_outcomes() {
	jq -rs --argjson ino "$2" '
		([.[] | select(.event=="intent") | .sockets[] | select(.netns.inode == $ino) | .cookie]) as $c
		| [.[] | select(.event=="result") | .outcome as $o | .cookies[] | select(. as $k | $c | index($k)) | $o]
		| group_by(.) | map("\(length) \(.[0])") | join(", ")' "$1"
}


# expect_status WANT DESC CMD...: runs CMD, checks its exit status, keeps stdout/stderr.
expect_status() {
	local want=$1 desc=$2 rc
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$desc (exit $rc)"
	else
		not_ok "$desc: exit $rc, expected $want; stderr: $(head -c 400 "$TMP/err")"
	fi
}

# wait_grep FILE PATTERN: polls every 10 ms (a signal test acts on the line at once), 60 s at
# most (a loaded machine), until FILE has a line matching PATTERN.
wait_grep() {
	local i
	for ((i = 0; i < 6000; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}

# wait_for SECONDS CMD...: polls (bounded) until CMD succeeds.
wait_for() {
	local i n=$(($1 * 100))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}
