#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completion, run as bash runs it (COMP_WORDS, COMP_CWORD, then _sockreap): namespace
# names after --netns and the selector's netns, the netns keyword, doctor's options. `ip` is a
# shell function here that lists two made-up namespaces, so nothing needs root or a namespace.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

if ! . completions/sockreap.bash 2>/dev/null || ! declare -F _sockreap >/dev/null; then
	not_ok "completion: completions/sockreap.bash does not define _sockreap"
	exit 0
fi
# Outside a completion compopt complains; what it would set does not matter here.
compopt() { :; }
ip() {
	[ "$1 $2" = "netns list" ] && printf 'blue (id: 0)\nred\n'
}
sockreap() {
	"$SR" "$@"
}

# comp WORD...: what completes the last WORD after the ones before it, space-separated.
comp() {
	COMP_WORDS=(sockreap "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_sockreap
	echo "${COMPREPLY[*]}"
}

# has WORD LIST: WORD is one of the space-separated LIST.
has() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

check "--netns completes namespace names ($(comp --netns ''))" [ "$(comp --netns '')" = "blue red" ]
check "--netns b completes blue ($(comp --netns b))" [ "$(comp --netns b)" = blue ]
check "--netns with a slash completes files ($(comp --netns tests/integration/li))" \
	[ "$(comp --netns tests/integration/li)" = tests/integration/lib.sh ]
check "the selector's netns completes names, inode and pid ($(comp -n state close-wait and netns ''))" \
	[ "$(comp -n state close-wait and netns '')" = "blue red inode pid" ]
check "netns is a selector keyword ($(comp -n state close-wait and net))" \
	[ "$(comp -n state close-wait and net)" = netns ]
check "netns is offered first too ($(comp netn))" [ "$(comp netn)" = netns ]
check "netns pid completes pids (ours among them)" has "$$" "$(comp -n netns pid '')"
if [ -r /proc/self/ns/net ]; then
	own=$(stat -L -c %i /proc/self/ns/net)
	check "netns inode completes namespace inodes (ours among them)" has "$own" "$(comp -n netns inode '')"
else
	skipped "netns inode: /proc/self/ns/net is not readable here"
fi
check "a socket's inode completes nothing ($(comp -n inode ''))" [ -z "$(comp -n inode '')" ]
check "doctor completes its options ($(comp doctor --))" \
	[ "$(comp doctor --)" = "--json --netns --netns-of --all-netns" ]
check "doctor --json then --all completes --all-netns ($(comp doctor --json --all))" \
	[ "$(comp doctor --json --all)" = --all-netns ]
check "doctor --netns completes names ($(comp doctor --netns r))" [ "$(comp doctor --netns r)" = red ]
check "--all-netns is an option ($(comp --all-n))" [ "$(comp --all-n)" = --all-netns ]
check "--group-by completes its keys ($(comp -n --group-by s))" [ "$(comp -n --group-by s)" = "state sport" ]
check "--group-by completes after a comma ($(comp -n --group-by comm,pe))" [ "$(comp -n --group-by comm,pe)" = comm,peer ]
check "--group-by is an option ($(comp --group))" [ "$(comp --group)" = --group-by ]
check "watch is offered first ($(comp wat))" [ "$(comp wat)" = watch ]
check "watch completes its options ($(comp watch --ch))" [ "$(comp watch --ch)" = --check ]
check "watch --every then --m completes two ($(comp watch --every 5s --m))" \
	[ "$(comp watch --every 5s --m)" = "--max-per-cycle --metrics-file" ]
check "watch --config completes files ($(comp watch --config tests/integration/li))" \
	[ "$(comp watch --config tests/integration/li)" = tests/integration/lib.sh ]
