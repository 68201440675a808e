# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for sockreap(8)

_sockreap_states="established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait close close-wait last-ack listen closing all connected synchronized bucket big stuck"
_sockreap_groupby_keys="state pid comm local peer dport sport uid unit netns"
_sockreap_watch_opts="--every --max-per-cycle --config --check --metrics-file --dry-run --engine --close-fd --netns --netns-of --all-netns --audit-log --no-audit --include-self --no-track --help"
_sockreap_keywords="state sport dport port src dst addr pid ppid comm exe uid cgroup unit idle recv-q send-q inode cookie family proto mark dev netns and or not"
_sockreap_ct_states="none syn-sent syn-recv established fin-wait close-wait last-ack time-wait close syn-sent2"
_sockreap_keywords="state sport dport port src dst addr pid ppid comm exe uid cgroup unit idle recv-q send-q inode cookie family proto mark dev netns ct-state nat-src nat-dst zone timeout and or not"

_sockreap()
{
	local cur prev opts
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	# The options, from the tool itself; the list below when it cannot be asked.
	opts=$(sockreap --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
	[ -n "$opts" ] || opts="--state --pid --port --sport --dport --src --dst --comm --uid --cgroup --unit --idle --tcp --udp --ipv4 --ipv6
		--dry-run --json --group-by --explain --engine --no-peer-reset --close-fd --no-owners --netns --netns-of --all-netns
		--forwarded --save-plan --apply --max-age --yes --max --all --include-self --audit-log --no-audit --help --version"

	case $prev in
	-s|--state|state)
		local prefix=""
		[[ $cur == *,* ]] && prefix=${cur%,*},
		COMPREPLY=($(compgen -P "$prefix" -W "$_sockreap_states" -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return
		;;
	--group-by)
		local prefix=""
		[[ $cur == *,* ]] && prefix=${cur%,*},
		COMPREPLY=($(compgen -P "$prefix" -W "$_sockreap_groupby_keys" -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return
		;;
	-p|--pid|pid)
		COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur"))
		return
		;;
	comm|--comm)
		COMPREPLY=($(compgen -W "$(ps -eo comm= 2>/dev/null | sort -u)" -- "$cur"))
		return
		;;
	uid|--uid)
		COMPREPLY=($(compgen -u -- "$cur"))
		return
		;;
	family)
		COMPREPLY=($(compgen -W "inet inet6" -- "$cur"))
		return
		;;
	dev)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return
		;;
	exe)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	proto)
		COMPREPLY=($(compgen -W "tcp udp" -- "$cur"))
		return
		;;
	ct-state)
		local prefix=""
		[[ $cur == *,* ]] && prefix=${cur%,*},
		COMPREPLY=($(compgen -P "$prefix" -W "$_sockreap_ct_states" -- "${cur##*,}"))
		compopt -o nospace 2>/dev/null
		return
		;;
	--netns|netns)
		# A path is a namespace file; anything else a name from ip netns (or /run/netns);
		# the selector's netns also takes "inode N" and "pid N".
		if [[ $cur == */* ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		else
			local names
			names=$( { ip netns list 2>/dev/null || ls -1 /run/netns 2>/dev/null; } | awk '{print $1}')
			[ "$prev" = netns ] && names="$names inode pid"
			COMPREPLY=($(compgen -W "$names" -- "$cur"))
		fi
		return
		;;
	inode)
		# netns inode N: the inodes of the namespaces there are (a socket's inode: none).
		if [ "$COMP_CWORD" -ge 2 ] && [ "${COMP_WORDS[COMP_CWORD-2]}" = netns ]; then
			COMPREPLY=($(compgen -W "$(stat -L -c %i /run/netns/* /proc/[0-9]*/ns/net 2>/dev/null |
				sort -u)" -- "$cur"))
		fi
		return
		;;
	--netns-of)
		COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur"))
		return
		;;
	--audit-log|--save-plan|--apply)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--engine)
		COMPREPLY=($(compgen -W "auto destroy rst shutdown" -- "$cur"))
		return
		;;
	doctor)
		COMPREPLY=($(compgen -W "--json --netns --netns-of --all-netns" -- "$cur"))
		return
		;;
	# watch: its options; a RULE is free text.
	watch)
		COMPREPLY=($(compgen -W "$_sockreap_watch_opts" -- "$cur"))
		return
		;;
	--config|--check|--metrics-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--every|--max-per-cycle)
		return
		;;
	--port|--sport|--dport|--src|--dst|--max|--cgroup|--unit|--idle|--max-age)
		return
		;;
	# After a keyword that compares, ss's operator words.
	sport|dport|port|idle|uid|ppid|recv-q|send-q|inode)
		COMPREPLY=($(compgen -W "eq neq ne lt le gt ge" -- "$cur"))
		return
		;;
	esac
	if [ "${COMP_WORDS[1]}" = doctor ] && [ "$COMP_CWORD" -gt 1 ]; then
		COMPREPLY=($(compgen -W "--json --netns --netns-of --all-netns" -- "$cur"))
	elif [ "${COMP_WORDS[1]}" = watch ] && [ "$COMP_CWORD" -gt 1 ]; then
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "$_sockreap_watch_opts" -- "$cur"))
	elif [ "$COMP_CWORD" = 1 ] && [[ $cur != -* ]]; then
		COMPREPLY=($(compgen -W "doctor watch $_sockreap_keywords" -- "$cur"))
	elif [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts -t -u -4 -6 -n -j -y -s -p -h -V" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$_sockreap_keywords" -- "$cur"))
	fi
}
complete -F _sockreap sockreap
