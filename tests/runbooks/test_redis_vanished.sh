#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runbook 5: redis-server's clients vanished (their host went away: no FIN, no RST ever reached
# redis), so redis keeps them as clients for ever (tcp-keepalive 0). The runbook kills redis's
# connections to the vanished clients' network; redis drops them from CLIENT LIST, keeps its
# local client and answers a new one.
cd "$(dirname "$0")/../.." || exit 1
. tests/runbooks/lib.sh

require_netns "runbook redis vanished"
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	skipped "runbook redis vanished: redis-server or redis-cli is not installed (make deps)"
	exit 0
fi
ns_new srv || { not_ok "redis vanished: namespace"; exit 0; }
ns_new cli || { not_ok "redis vanished: client namespace"; exit 0; }
veth_pair "$srv" 10.78.0.1/24 "$cli" 10.78.0.2/24 || { not_ok "redis vanished: veth"; exit 0; }
port=6391
mkdir -m 0700 "$TMP/redis"
cat >"$TMP/redis/redis.conf" <<CONF
port $port
bind 10.78.0.1 127.0.0.1
protected-mode no
daemonize no
save ""
appendonly no
tcp-keepalive 0
dir $TMP/redis
logfile $TMP/redis/redis.log
pidfile ""
CONF
# ip netns exec execs redis-server: $! is redis's own pid.
ip netns exec "$srv" redis-server "$TMP/redis/redis.conf" &
redis=$!
SERVERS+=("$redis TERM")
rcli() { in_ns "$srv" redis-cli -h 127.0.0.1 -p $port "$@"; }
pong() { [ "$(rcli PING 2>/dev/null)" = PONG ]; }
if ! poll_until 20 pong; then
	not_ok "redis vanished: redis-server did not start: $(tail -3 "$TMP/redis/redis.log")"
	exit 0
fi
named() { rcli CLIENT LIST | grep -c "name=$1 "; }

rig_spawn V ip netns exec "$cli" "$ECHORIG" -a 10.78.0.1 -p $port -n 12 connect || { not_ok "redis vanished: remote clients"; exit 0; }
rig_spawn L ip netns exec "$srv" "$ECHORIG" -a 127.0.0.1 -p $port -n 3 connect || { not_ok "redis vanished: local clients"; exit 0; }
check "redis vanished: remote clients name themselves" \
	[ "$(rig_say V "send CLIENT SETNAME vanishing")" = "replied=12 of 12" ]
check "redis vanished: local clients name themselves" \
	[ "$(rig_say L "send CLIENT SETNAME local")" = "replied=3 of 3" ]
# The clients' host goes away: its link first, so not even their FIN reaches redis.
ip -n "$cli" link del "v-$cli"
echo quit >&"$V_in"
check "redis vanished: the remote client process is gone" wait_exit "$V"
check "redis vanished: CLIENT LIST lists the 12 vanished clients before" [ "$(named vanishing)" = 12 ]
check "redis vanished: redis holds 12 ESTABLISHED to them" \
	[ "$(ss_count "$srv" state established "dst 10.78.0.2")" = 12 ]

runbook "redis vanished" "$srv" "sockreap --comm redis-server --dst CLIENTS --yes" CLIENTS=10.78.0.0/24

gone() { [ "$(named vanishing)" = 0 ]; }
check "redis vanished: CLIENT LIST no longer lists them" poll_until 20 gone
check "redis vanished: audit says 12 killed" \
	[ "$(jq -r 'select(.event=="summary") | .killed' "$SOCKREAP_AUDIT_LOG")" = 12 ]
check "redis vanished: the local clients are still listed" [ "$(named local)" = 3 ]
check "redis vanished: and still answered" [ "$(rig_say L "send PING")" = "replied=3 of 3" ]
check "redis vanished: a new client gets PONG" pong
check "redis vanished: redis-server is still the same process" kill -0 "$redis"
kill -TERM "$redis"
check "redis vanished: redis-server (pid $redis) stops on SIGTERM" wait_exit "$redis"
