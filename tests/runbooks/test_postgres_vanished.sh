#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runbook 6: PostgreSQL backends whose clients vanished (their host went away: nothing reached
# the server) wait for their client for ever, each holding a connection slot. The runbook kills
# the postgres connections to the vanished clients' network: the backends see the connection
# aborted and exit, pg_stat_activity loses them, the postmaster keeps serving.
cd "$(dirname "$0")/../.." || exit 1
. tests/runbooks/lib.sh

require_netns "runbook postgres vanished"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ ! -x "$pgbin/initdb" ] || ! command -v psql >/dev/null; then
	skipped "runbook postgres vanished: PostgreSQL is not installed (postgresql: make deps)"
	exit 0
fi
if ! id postgres >/dev/null 2>&1; then
	skipped "runbook postgres vanished: no postgres user (the postgresql package makes it)"
	exit 0
fi
ns_new srv || { not_ok "postgres vanished: namespace"; exit 0; }
ns_new cli || { not_ok "postgres vanished: client namespace"; exit 0; }
veth_pair "$srv" 10.79.0.1/24 "$cli" 10.79.0.2/24 || { not_ok "postgres vanished: veth"; exit 0; }
port=5441
dir="$TMP/pg"
# postgres refuses to run as root: the cluster belongs to the postgres user.
chmod 0755 "$TMP"
mkdir -m 0700 "$dir" "$dir/sock" && chown postgres:postgres "$dir" "$dir/sock"
as_postgres() { (cd "$dir" && exec setpriv --reuid postgres --regid postgres --init-groups -- "$@"); }
if ! as_postgres "$pgbin/initdb" -D "$dir/data" -U postgres -A trust --no-sync --no-instructions \
	-E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
	not_ok "postgres vanished: initdb failed: $(tail -3 "$dir/initdb.log")"
	exit 0
fi
echo "host all all 10.79.0.0/24 trust" >>"$dir/data/pg_hba.conf"
# Every exec keeps the pid: $! is the postmaster's own.
(cd "$dir" && exec ip netns exec "$srv" setpriv --reuid postgres --regid postgres --init-groups -- \
	"$pgbin/postgres" -D "$dir/data" -p $port -k "$dir/sock" -c listen_addresses=10.79.0.1,127.0.0.1 \
	-c fsync=off -c full_page_writes=off) >"$dir/server.log" 2>&1 &
pg=$!
SERVERS+=("$pg INT")
ready() { "$pgbin/pg_isready" -q -h "$dir/sock" -p $port; }
if ! poll_until 40 ready; then
	not_ok "postgres vanished: the server did not start: $(tail -3 "$dir/server.log")"
	exit 0
fi
check "postgres vanished: the postmaster is the pid we started" \
	[ "$(head -1 "$dir/data/postmaster.pid")" = "$pg" ]
sql() { psql -X -At -h "$dir/sock" -p $port -U postgres -d postgres -c "$1"; }

# Three psql sessions from the client namespace and one on the server's host, each held open
# by its input (a FIFO whose write end stays open until the end of the test).
session() {
	local ns=$1 name=$2 host=$3
	mkfifo "$dir/$name.in"
	ip netns exec "$ns" env PGAPPNAME="${name%[0-9]}" psql -X -q -h "$host" -p $port -U postgres \
		-d postgres <"$dir/$name.in" >"$dir/$name.out" 2>&1 &
	RIG_PIDS+=($!)
	exec {w}>"$dir/$name.in"
}
clients=()
for i in 1 2 3; do
	session "$cli" vanishing$i 10.79.0.1
	clients+=($!)
done
session "$srv" local1 127.0.0.1
listed() { [ "$(sql "select count(*) from pg_stat_activity where application_name = '$1'")" = "$2" ]; }
check "postgres vanished: pg_stat_activity lists the 3 clients before" poll_until 20 listed vanishing 3
check "postgres vanished: and the local session" poll_until 20 listed local 1
# The clients' host goes away: its link first, so not even their goodbye reaches the server.
ip -n "$cli" link del "v-$cli"
kill "${clients[@]}"
check "postgres vanished: the client processes are gone" wait_exit "${clients[@]}"
check "postgres vanished: pg_stat_activity still lists them" listed vanishing 3

runbook "postgres vanished" "$srv" "sockreap --comm postgres --dst CLIENTS --yes" CLIENTS=10.79.0.0/24

check "postgres vanished: pg_stat_activity no longer lists them" poll_until 20 listed vanishing 0
check "postgres vanished: their backends saw the connection aborted" \
	[ "$(grep -c 'could not receive data from client: Software caused connection abort' \
		"$dir/server.log")" = 3 ]
check "postgres vanished: the local session is still listed" listed local 1
check "postgres vanished: audit says 3 killed" \
	[ "$(jq -r 'select(.event=="summary") | .killed' "$SOCKREAP_AUDIT_LOG")" = 3 ]
check "postgres vanished: the postmaster is still running" kill -0 "$pg"
check "postgres vanished: a new connection works" \
	[ "$(ip netns exec "$srv" psql -X -At -h 127.0.0.1 -p $port -U postgres -d postgres -c 'select 40 + 2')" = 42 ]
check "postgres vanished: the server did not restart (no crash recovery)" \
	[ "$(grep -c 'terminated by signal\|all server processes terminated' "$dir/server.log")" = 0 ]
kill -INT "$pg"
check "postgres vanished: the postmaster (pid $pg) stops on a fast shutdown" wait_exit "$pg"
