# expression ; ok ; canonical form      (the canonical form must re-parse to itself)
# expression ; fail ; message substring
# -- states
state close-wait ; ok ; state close-wait
state CLOSE-WAIT ; ok ; state close-wait
state close_wait ; ok ; state close-wait
STATE Close_Wait ; ok ; state close-wait
state established ; ok ; state established
state syn-sent ; ok ; state syn-sent
state syn-recv ; ok ; state syn-recv
state fin-wait-1 ; ok ; state fin-wait-1
state fin-wait-2 ; ok ; state fin-wait-2
state fin-wait2 ; ok ; state fin-wait-2
state FIN_WAIT1 ; ok ; state fin-wait-1
state time-wait ; ok ; state time-wait
state close ; ok ; state close
state closed ; ok ; state close
state last-ack ; ok ; state last-ack
state listen ; ok ; state listen
state closing ; ok ; state closing
state close-wait,fin-wait-2 ; ok ; state fin-wait-2,close-wait
state close-wait, fin-wait-2 ; ok ; state fin-wait-2,close-wait
state stuck ; ok ; state fin-wait-2,close-wait,last-ack,closing
state bucket ; ok ; state syn-recv,time-wait
state connected ; ok ; state established,syn-sent,syn-recv,fin-wait-1,fin-wait-2,time-wait,close-wait,last-ack,closing
state synchronized ; ok ; state established,syn-recv,fin-wait-1,fin-wait-2,time-wait,close-wait,last-ack,closing
state big ; ok ; state established,syn-sent,fin-wait-1,fin-wait-2,close,close-wait,last-ack,closing
state all ; ok ; state established,syn-sent,syn-recv,fin-wait-1,fin-wait-2,time-wait,close,close-wait,last-ack,closing
state all,listen ; ok ; state established,syn-sent,syn-recv,fin-wait-1,fin-wait-2,time-wait,close,close-wait,last-ack,listen,closing
state close-wiat ; fail ; unknown state "close-wiat" (did you mean close-wait?)
state foo ; fail ; unknown state "foo"
state ; fail ; expected a state name after "state", found end of input
state close-wait, ; fail ; expected a state name after "state", found end of input
state , ; fail ; expected a state name after "state", found ","
state established listen ; fail ; unknown predicate "listen" (did you mean state listen?)
close-wait ; fail ; unknown predicate "close-wait" (did you mean state close-wait?)
# -- ports
sport 80 ; ok ; sport = 80
sport = 80 ; ok ; sport = 80
sport == 80 ; ok ; sport = 80
sport = :80 ; ok ; sport = 80
sport :80 ; ok ; sport = 80
dport != 443 ; ok ; dport != 443
dport < 1024 ; ok ; dport < 1024
dport <= 1024 ; ok ; dport <= 1024
dport > 1024 ; ok ; dport > 1024
dport >= 1024 ; ok ; dport >= 1024
dport>=1024 ; ok ; dport >= 1024
port 22 ; ok ; port = 22
port != 22 ; ok ; port != 22
dport 5000-6000 ; ok ; dport = 5000-6000
dport = 5000-6000 ; ok ; dport = 5000-6000
dport != 5000-6000 ; ok ; dport != 5000-6000
dport :5000-6000 ; ok ; dport = 5000-6000
dport 0 ; ok ; dport = 0
dport 65535 ; ok ; dport = 65535
dport https ; ok ; dport = 443
dport == :https ; ok ; dport = 443
sport = :ssh ; ok ; sport = 22
dport 65536 ; fail ; invalid port "65536"
dport -1 ; fail ; invalid port "-1"
dport 8o ; fail ; invalid port "8o"
dport nosuchservice ; fail ; unknown service "nosuchservice"
dport 6000-5000 ; fail ; invalid port range "6000-5000"
dport 5000-70000 ; fail ; invalid port range "5000-70000"
dport > 5000-6000 ; fail ; a port range takes = or !=
dport ; fail ; expected a port, range or service name after "dport", found end of input
dport = ; fail ; expected a port, range or service name after "dport", found end of input
dport and ; fail ; expected a port, range or service name after "dport"
# -- addresses
src 10.0.0.1 ; ok ; src = 10.0.0.1
src = 10.0.0.0/8 ; ok ; src = 10.0.0.0/8
src 10.1.2.3/8 ; ok ; src = 10.0.0.0/8
src 10.0.0.0/32 ; ok ; src = 10.0.0.0
src 0.0.0.0/0 ; ok ; src = 0.0.0.0/0
dst != 192.168.1.0/24 ; ok ; dst != 192.168.1.0/24
dst == 192.168.1.7 ; ok ; dst = 192.168.1.7
addr 127.0.0.1 ; ok ; addr = 127.0.0.1
src ::1 ; ok ; src = ::1
src fe80::/10 ; ok ; src = fe80::/10
dst 2001:db8::/32 ; ok ; dst = 2001:db8::/32
dst 2001:DB8::1 ; ok ; dst = 2001:db8::1
dst ::ffff:10.0.0.1 ; ok ; dst = ::ffff:10.0.0.1
src 10.0.0.1:80 ; ok ; src = 10.0.0.1 and sport = 80
dst 10.0.0.1:https ; ok ; dst = 10.0.0.1 and dport = 443
dst [::1]:5432 ; ok ; dst = ::1 and dport = 5432
src [fe80::1] ; ok ; src = fe80::1
src 10.0.0.1:* ; ok ; src = 10.0.0.1
src 10.0.0.300 ; fail ; invalid address "10.0.0.300"
src 10.0.0.0/33 ; fail ; invalid prefix length "/33"
src ::1/129 ; fail ; invalid prefix length "/129"
src 10.0.0.0/ ; fail ; invalid prefix length "/"
src [::1 ; fail ; invalid address "[::1"
src [::1]: ; fail ; invalid address "[::1]:"
src < 10.0.0.1 ; fail ; "src" takes = or !=
src host.example ; fail ; invalid address "host.example"
src ; fail ; expected an address or CIDR after "src", found end of input
src != 10.0.0.1:80 ; fail ; ambiguous
# -- owners and numbers
pid 1234 ; ok ; pid 1234
pid = 1234 ; ok ; pid 1234
pid 1,2,3 ; ok ; pid 1,2,3
pid 1, 2 ; ok ; pid 1,2
pid 0 ; fail ; invalid pid "0"
pid x ; fail ; invalid pid "x"
pid 99999999999 ; fail ; invalid pid "99999999999"
pid 1, ; fail ; expected a process id after "pid", found end of input
comm java ; ok ; comm = java
comm = nginx ; ok ; comm = nginx
comm != sshd ; ok ; not comm = sshd
comm 'java*' ; ok ; comm = java*
comm "Web Content" ; ok ; comm = "Web Content"
comm 'kworker/0:1' ; ok ; comm = kworker/0:1
comm "unterminated ; fail ; unterminated quote
comm ; fail ; expected a process name or glob after "comm", found end of input
comm > a ; fail ; "comm" takes = or !=
uid 0 ; ok ; uid = 0
uid >= 1000 ; ok ; uid >= 1000
uid root ; ok ; uid = 0
uid nosuchuser_x ; fail ; unknown user "nosuchuser_x"
idle > 5m ; ok ; idle > 5m
idle > 300s ; ok ; idle > 5m
idle >= 500ms ; ok ; idle >= 500ms
idle < 1500ms ; ok ; idle < 1500ms
idle > 2h ; ok ; idle > 2h
idle > 1d ; ok ; idle > 1d
idle > 90 ; ok ; idle > 90s
idle 5m ; ok ; idle >= 5m
idle = 5m ; ok ; idle = 5m
idle > 0 ; ok ; idle > 0ms
idle > 5x ; fail ; invalid duration "5x" for "idle"
idle > m ; fail ; invalid duration "m"
idle ; fail ; expected a duration
recv-q > 0 ; ok ; recv-q > 0
send-q >= 1000 ; ok ; send-q >= 1000
RECV-Q > 0 ; ok ; recv-q > 0
recv-q > x ; fail ; invalid number "x" for "recv-q"
inode 12345 ; ok ; inode = 12345
cookie 1f ; ok ; cookie = 1f
cookie 0x1F ; ok ; cookie = 1f
cookie zz ; fail ; invalid cookie "zz"
family inet ; ok ; family inet
family inet6 ; ok ; family inet6
family = ipv6 ; ok ; family inet6
family ipx ; fail ; unknown family "ipx"
# -- operators and precedence
state close-wait and dport 5432 ; ok ; state close-wait and dport = 5432
state close-wait && dport 5432 ; ok ; state close-wait and dport = 5432
state close-wait dport 5432 ; ok ; state close-wait and dport = 5432
state close-wait AND dport 5432 ; ok ; state close-wait and dport = 5432
dport 1 or dport 2 ; ok ; dport = 1 or dport = 2
dport 1 || dport 2 ; ok ; dport = 1 or dport = 2
dport 1 OR dport 2 ; ok ; dport = 1 or dport = 2
not dport 1 ; ok ; not dport = 1
! dport 1 ; ok ; not dport = 1
!dport 1 ; ok ; not dport = 1
NOT dport 1 ; ok ; not dport = 1
not not dport 1 ; ok ; not not dport = 1
dport 1 or dport 2 and dport 3 ; ok ; dport = 1 or dport = 2 and dport = 3
(dport 1 or dport 2) and dport 3 ; ok ; (dport = 1 or dport = 2) and dport = 3
dport 1 and (dport 2 or dport 3) ; ok ; dport = 1 and (dport = 2 or dport = 3)
not (dport 1 or dport 2) ; ok ; not (dport = 1 or dport = 2)
not dport 1 and dport 2 ; ok ; not dport = 1 and dport = 2
not (dport 1 and dport 2) ; ok ; not (dport = 1 and dport = 2)
((dport 1)) ; ok ; dport = 1
state close-wait and (dport 443 or comm java) and idle > 5m ; ok ; state close-wait and (dport = 443 or comm = java) and idle > 5m
state close-wait and ( dport 443 or sport 80 ; fail ; expected ")" to close the "(" at column 22, found end of input
dport 1 ) ; fail ; unmatched ")"
( ; fail ; expected a predicate, "not" or "(", found end of input
() ; fail ; expected a predicate, "not" or "(", found ")"
and dport 1 ; fail ; "and" needs a predicate on its left
or dport 1 ; fail ; "or" needs a predicate on its left
dport 1 and ; fail ; expected a predicate, "not" or "(", found end of input
dport 1 or ; fail ; expected a predicate, "not" or "(", found end of input
dport 1 & dport 2 ; fail ; unexpected "&" (did you mean "&&" or and?)
dport 1 | dport 2 ; fail ; unexpected "|" (did you mean "||" or or?)
dport 1 ,, dport 2 ; fail ; unexpected ","
not ; fail ; expected a predicate, "not" or "(", found end of input
dprot 5 ; fail ; unknown predicate "dprot" (did you mean dport?)
xyzzy ; fail ; unknown predicate "xyzzy"
= 5 ; fail ; expected a predicate, "not" or "(", found "="
# -- protocols
proto tcp ; ok ; proto tcp
proto udp ; ok ; proto udp
PROTO = UDP ; ok ; proto udp
proto udp and dport 53 ; ok ; proto udp and dport = 53
not proto udp ; ok ; not proto udp
proto sctp ; fail ; unknown protocol "sctp" (expected tcp or udp)
proto ; fail ; expected tcp or udp after "proto", found end of input
# -- more owner predicates
exe /usr/bin/java ; ok ; exe = /usr/bin/java
exe = '/usr/lib/jvm/*/bin/java' ; ok ; exe = /usr/lib/jvm/*/bin/java
exe != /usr/sbin/nginx ; ok ; not exe = /usr/sbin/nginx
exe "/opt/my app/bin/x" ; ok ; exe = "/opt/my app/bin/x"
exe java ; fail ; invalid executable path "java" (expected an absolute path or a glob)
exe < /x ; fail ; "exe" takes = or !=
ppid 1 ; ok ; ppid = 1
ppid != 1 ; ok ; ppid != 1
ppid > 100 ; ok ; ppid > 100
ppid x ; fail ; invalid number "x" for "ppid"
comm 'say "hi"' ; ok ; comm = 'say "hi"'
dport 0000000000000000000000000000000000000000000000000000000000000000000000000080 ; ok ; dport = 80
dport 00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080 ; fail ; value for "dport" is too long (302 characters)
comm 'or' and comm 'AND' ; ok ; comm = "or" and comm = "AND"
# -- marks and devices
mark 0x10 ; ok ; mark = 0x10
mark 16 ; ok ; mark = 0x10
mark 0x10/0xf0 ; ok ; mark = 0x10/0xf0
mark 0x1f/0xf0 ; ok ; mark = 0x10/0xf0
mark != 0x10 ; ok ; not mark = 0x10
mark x ; fail ; invalid mark "x"
mark 0x10/ ; fail ; invalid mark "0x10/"
mark > 1 ; fail ; "mark" takes = or !=
dev lo ; ok ; dev = lo
dev 1 ; ok ; dev = 1
dev != lo ; ok ; not dev = lo
dev nosuchdev0 ; ok ; dev = nosuchdev0
dev abcdefghijklmnop ; fail ; invalid interface name "abcdefghijklmnop" (at most 15 characters)
dev ; fail ; expected an interface name or index after "dev", found end of input
# -- cgroups and units (resolved against the system after parsing)
cgroup /system.slice ; ok ; cgroup = /system.slice
cgroup = /system.slice/nginx.service ; ok ; cgroup = /system.slice/nginx.service
cgroup != /user.slice ; ok ; not cgroup = /user.slice
cgroup system.slice ; fail ; invalid cgroup path "system.slice" (expected /PATH, as in /proc/PID/cgroup)
cgroup > /a ; fail ; "cgroup" takes = or !=
cgroup /../../usr ; fail ; invalid cgroup path "/../../usr" (".." would leave the cgroup2 root)
cgroup /a/.. ; fail ; invalid cgroup path "/a/.."
cgroup /a/..b/c.. ; ok ; cgroup = /a/..b/c..
unit nginx ; ok ; unit = nginx
unit nginx.service ; ok ; unit = nginx.service
unit != sshd ; ok ; not unit = sshd
unit a/b ; fail ; invalid unit name "a/b"
unit ; fail ; expected a systemd unit name after "unit", found end of input
unit '(' ; ok ; unit = "("
cgroup "/my slice/x" ; ok ; cgroup = "/my slice/x"
unit 'or' ; ok ; unit = "or"
# -- ss habits: operator words (eq neq ne gt ge lt le) wherever a symbol works
dport eq 80 ; ok ; dport = 80
dport EQ :80 ; ok ; dport = 80
dport neq 443 ; ok ; dport != 443
dport ne 443 ; ok ; dport != 443
sport gt 1024 ; ok ; sport > 1024
sport ge 1024 ; ok ; sport >= 1024
sport lt 1024 ; ok ; sport < 1024
sport le 1024 ; ok ; sport <= 1024
port eq 5000-6000 ; ok ; port = 5000-6000
dport gt 5000-6000 ; fail ; a port range takes = or !=, not an ordering
idle gt 5m ; ok ; idle > 5m
uid eq 0 ; ok ; uid = 0
ppid ne 1 ; ok ; ppid != 1
recv-q gt 0 ; ok ; recv-q > 0
inode eq 1234 ; ok ; inode = 1234
src eq 10.0.0.1 ; ok ; src = 10.0.0.1
dst neq 10.0.0.0/8 ; ok ; dst != 10.0.0.0/8
src gt 10.0.0.1 ; fail ; "src" takes = or !=, not an ordering
comm eq sshd ; ok ; comm = sshd
comm ne sshd ; ok ; not comm = sshd
comm lt sshd ; fail ; "comm" takes = or !=, not an ordering
exe eq /usr/bin/java ; ok ; exe = /usr/bin/java
mark eq 0x1 ; ok ; mark = 0x1
pid eq 1234 ; ok ; pid 1234
family eq inet6 ; ok ; family inet6
proto eq udp ; ok ; proto udp
# a word with nothing after it is a value: a process may be called "eq"; quoted, always a value
comm eq ; ok ; comm = eq
comm 'lt' ; ok ; comm = lt
comm eq 'eq' ; ok ; comm = eq
comm eq and dport 1 ; ok ; comm = eq and dport = 1
# -- ss habits: "state A state B" is either state, as in ss; an explicit "and" stays and
state close-wait state fin-wait-2 ; ok ; state fin-wait-2,close-wait
state close-wait state fin-wait-2 dport 80 ; ok ; state fin-wait-2,close-wait and dport = 80
state close-wait, fin-wait-2 state last-ack ; ok ; state fin-wait-2,close-wait,last-ack
dport 80 state close-wait state fin-wait-2 ; ok ; dport = 80 and state fin-wait-2,close-wait
state close-wait and state fin-wait-2 ; ok ; state close-wait and state fin-wait-2
state established state listen ; ok ; state established,listen
state close-wait state ; fail ; expected a state name after "state", found end of input
# -- comm: the kernel keeps 15 characters of a name (TASK_COMM_LEN 16): a longer literal never matches
comm 123456789012345 ; ok ; comm = 123456789012345
comm 1234567890123456 ; fail ; comm "1234567890123456" has 16 characters: the kernel keeps 15
comm 'java-long-name*' ; ok ; comm = java-long-name*
# -- network namespaces (names, paths and pids resolved against the system after parsing)
netns blue ; ok ; netns = blue
netns = blue ; ok ; netns = blue
NETNS Blue ; ok ; netns = Blue
netns != blue ; ok ; not netns = blue
not netns blue ; ok ; not netns = blue
netns /run/netns/blue ; ok ; netns = /run/netns/blue
netns /proc/42/ns/net ; ok ; netns = /proc/42/ns/net
netns 'my ns' ; ok ; netns = "my ns"
netns inode 4026531840 ; ok ; netns inode 4026531840
netns pid 42 ; ok ; netns pid 42
netns pid 042 ; ok ; netns pid 42
netns != pid 42 ; ok ; not netns pid 42
netns inode ; ok ; netns = inode
netns pid and state listen ; ok ; netns = pid and state listen
netns a or netns b and dport 80 ; ok ; netns = a or netns = b and dport = 80
(netns a or netns b) and state close-wait ; ok ; (netns = a or netns = b) and state close-wait
netns pid 0 ; fail ; invalid process id "0" after "netns pid"
netns pid 2147483648 ; fail ; invalid process id "2147483648" after "netns pid"
netns inode 12x ; fail ; invalid namespace inode "12x" after "netns inode"
netns inode 0 ; fail ; invalid namespace inode "0" after "netns inode"
netns .. ; fail ; invalid network namespace name ".."
netns ; fail ; expected a namespace name or path, inode N or pid N after "netns", found end of input
netns < a ; fail ; "netns" takes = or !=
netnz a ; fail ; unknown predicate "netnz" (did you mean netns?)
# -- forwarded flows (--forwarded): conntrack's words
ct-state established ; ok ; ct-state established
ct-state FIN_WAIT,close-wait ; ok ; ct-state fin-wait,close-wait
ct-state = syn-sent2 ; ok ; ct-state syn-sent2
ct-state fin-wait-1 ; fail ; unknown conntrack state "fin-wait-1"
nat-src 10.91.2.1 ; ok ; nat-src = 10.91.2.1
nat-dst != 10.244.0.0/16 ; ok ; nat-dst != 10.244.0.0/16
nat-dst fd00::7 ; ok ; nat-dst = fd00::7
nat-src 10.0.0.1:80 ; fail ; "nat-src" takes an address or CIDR, without a port
zone 3 ; ok ; zone = 3
zone > 1 ; ok ; zone > 1
timeout 30s ; ok ; timeout <= 30s
timeout > 2h ; ok ; timeout > 2h
timeout soon ; fail ; invalid duration "soon"
dport 53 and nat-dst 10.244.1.7 and not ct-state close ; ok ; dport = 53 and nat-dst = 10.244.1.7 and not ct-state close
