# SPDX-License-Identifier: GPL-2.0-or-later
# fish completion for sockreap(8)

set -l states established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait close close-wait last-ack listen closing all connected synchronized bucket big stuck

complete -c sockreap -f
complete -c sockreap -s s -l state -x -a "$states" -d 'TCP states or groups'
complete -c sockreap -s p -l pid -x -a '(ps -eo pid=,comm= | string trim | string replace -r "^(\d+) (.*)" "\$1\t\$2")' -d 'Sockets held by these processes'
complete -c sockreap -l port -x -d 'Either end port'
complete -c sockreap -l sport -x -d 'Local port'
complete -c sockreap -l dport -x -d 'Peer port'
complete -c sockreap -l src -x -d 'Local address or CIDR'
complete -c sockreap -l dst -x -d 'Peer address or CIDR'
complete -c sockreap -l comm -x -a '(ps -eo comm= | sort -u)' -d "Owner's process name"
complete -c sockreap -l uid -x -a '(__fish_complete_users)' -d "Socket owner's uid"
complete -c sockreap -l cgroup -x -d 'cgroup v2 group or below'
complete -c sockreap -l unit -x -d "systemd unit's cgroup"
complete -c sockreap -l idle -x -d 'Idle at least this long'
complete -c sockreap -s t -l tcp -d 'TCP sockets (the default)'
complete -c sockreap -s u -l udp -d 'UDP sockets (a destroyed UDP socket stays bound)'
complete -c sockreap -s 4 -l ipv4 -d 'IPv4 sockets only'
complete -c sockreap -s 6 -l ipv6 -d 'IPv6 sockets only'
complete -c sockreap -s n -l dry-run -d 'Show what would be killed; touch nothing'
complete -c sockreap -s j -l json -d 'One JSON document instead of a table'
complete -c sockreap -l group-by -x -a '(set -l t (commandline -ct | string match -r ".*,"); for k in state pid comm local peer dport sport uid unit netns; echo $t$k; end)' -d 'With -n: count the sockets per key (KEY[,KEY])'
complete -c sockreap -l explain -d 'Show the canonical selector and what runs in the kernel'
complete -c sockreap -l engine -x -a 'auto destroy rst shutdown' -d 'Kill engine'
complete -c sockreap -l no-peer-reset -d 'rst: leave the peer end alone'
complete -c sockreap -l close-fd -d "Also close the killed sockets' descriptors inside their owners"
complete -c sockreap -l no-owners -d 'do not look up owning processes in /proc'
complete -c sockreap -l netns -x -a '(begin; ip netns list 2>/dev/null; or ls -1 /run/netns 2>/dev/null; end | string replace -r " .*" ""; __fish_complete_path (commandline -ct))' -d 'Act in this network namespace'
complete -c sockreap -l netns-of -x -a '(ps -eo pid=,comm= | string trim | string replace -r "^(\d+) (.*)" "\$1\t\$2")' -d 'Act in the network namespace of this process'
complete -c sockreap -l all-netns -d 'Act in every network namespace on the host'
complete -c sockreap -l save-plan -r -F -d 'With --dry-run: save the plan for --apply'
complete -c sockreap -l apply -r -F -d 'Kill the sockets of a saved plan still there'
complete -c sockreap -l max-age -x -d 'With --apply: refuse a plan older than this (15m)'
complete -c sockreap -l forwarded -d 'Select flows forwarded through this host (conntrack entries)'
complete -c sockreap -n '__fish_seen_subcommand_from ct-state' -a 'none syn-sent syn-recv established fin-wait close-wait last-ack time-wait close syn-sent2' -d 'Conntrack TCP state'
complete -c sockreap -s y -l yes -d 'Do not ask for confirmation'
complete -c sockreap -n '__fish_use_subcommand' -a doctor -d 'Which engines work here, and why'
complete -c sockreap -n '__fish_use_subcommand' -a watch -d 'Apply rules every interval, as a service'
complete -c sockreap -n '__fish_seen_subcommand_from watch' -l every -x -d 'How often to look (10s)'
complete -c sockreap -n '__fish_seen_subcommand_from watch' -l max-per-cycle -x -d 'Breaker: refuse a larger kill'
complete -c sockreap -n '__fish_seen_subcommand_from watch' -l config -r -F -d 'Rules file'
complete -c sockreap -n '__fish_seen_subcommand_from watch' -l check -r -F -d 'Validate a rules file'
complete -c sockreap -n '__fish_seen_subcommand_from watch' -l metrics-file -r -F -d 'Prometheus text file'
complete -c sockreap -n '__fish_seen_subcommand_from doctor' -l json -d 'One JSON document'
complete -c sockreap -l max -x -d 'Refuse a plan of more than N sockets'
complete -c sockreap -l all -d 'Allow an empty selector'
complete -c sockreap -l include-self -d "May select the caller's own SSH connection"
complete -c sockreap -l audit-log -r -F -d 'Audit file'
complete -c sockreap -l no-audit -d 'Kill without an audit file'
complete -c sockreap -s h -l help -d 'Show help'
complete -c sockreap -s V -l version -d 'Show the version'
complete -c sockreap -a 'state sport dport port src dst addr pid ppid comm exe uid cgroup unit idle recv-q send-q inode cookie family proto mark dev netns ct-state nat-src nat-dst zone timeout and or not' -d 'Selector keyword'
complete -c sockreap -n '__fish_seen_subcommand_from comm' -a '(ps -eo comm= | sort -u)' -d 'Process name'
complete -c sockreap -n '__fish_seen_subcommand_from dev' -a '(ls /sys/class/net)' -d 'Interface'
complete -c sockreap -n 'string match -qr "^(sport|dport|port|idle|uid|ppid|recv-q|send-q|inode|zone|timeout)\$" -- (commandline -opc)[-1]' -a 'eq neq ne lt le gt ge' -d 'Operator (as in ss)'
complete -c sockreap -n '__fish_seen_subcommand_from netns' -a '(begin; ip netns list 2>/dev/null; or ls -1 /run/netns 2>/dev/null; end | string replace -r " .*" "")' -d 'Network namespace'
