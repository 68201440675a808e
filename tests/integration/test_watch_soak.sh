#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The watcher's soak (issue 15): in a namespace, a rig makes a connection every 300 ms and
# closes its client end (the server end, held, goes to CLOSE_WAIT: stuck), closes every third
# stuck one itself at half the age (young: must never be killed), and holds healthy ESTABLISHED
# connections (never to be killed). `sockreap watch` with older-than AGE runs against it. The
# rig watches every socket it holds (TCP_INFO state) and says how long each stuck one lived.
# Checks: each stuck socket killed no sooner than AGE after it went stuck and within AGE + one
# interval (+ SOAK_SLACK for a loaded machine); no young or healthy socket killed; the
# watcher's RSS flat (its slope is printed). make check runs ~30 s; SOAK_SECONDS=3600 for the
# long form. Uses the plain build (./sockreap): the sanitizers' quarantine would hide the
# slope. Everything here is ours and is stopped by pid.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

SECONDS_SOAK=${SOAK_SECONDS:-30}
AGE=2
EVERY=1
SLACK=${SOAK_SLACK:-3}
PLAIN=${SOCKREAP_PLAIN:-./sockreap}

require_netns soak
if ! command -v python3 >/dev/null; then
	skipped "soak: python3 is not installed"
	exit 0
fi
[ -x "$PLAIN" ] || { not_ok "soak: $PLAIN is not built"; exit 0; }
ns_new NS || { not_ok "soak: namespace"; exit 0; }

ip netns exec "$NS" python3 -c '
import socket, struct, sys, time
port, seconds, age = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
TCP_CLOSE = 7
def state(s):
    try:
        return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    except OSError:
        return TCP_CLOSE
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(64)
healthy = []
for _ in range(5):
    c = socket.create_connection(("127.0.0.1", port)); s, _ = l.accept(); healthy += [c, s]
stuck, young = {}, {}
made = killed = early = young_killed = 0
lags = []
print("ready", flush=True)
t0 = time.monotonic(); next_new = t0
while True:
    now = time.monotonic()
    if now - t0 >= seconds:
        break
    if now >= next_new:
        c = socket.create_connection(("127.0.0.1", port)); s, _ = l.accept(); c.close()
        made += 1
        if made % 3 == 0:
            young[s] = (now, now + age / 2)
        else:
            stuck[s] = now
        next_new += 0.3
    for s, t in list(stuck.items()):
        if state(s) == TCP_CLOSE:
            lag = now - t; lags.append(lag); killed += 1
            early += lag < age
            s.close(); del stuck[s]
    for s, (t, release) in list(young.items()):
        if state(s) == TCP_CLOSE:
            young_killed += 1; s.close(); del young[s]
        elif now >= release:
            s.close(); del young[s]
    time.sleep(0.05)
now = time.monotonic()
healthy_lost = sum(1 for s in healthy if state(s) != 1)
late_pending = sum(1 for t in stuck.values() if now - t > float(sys.argv[4]))
print("made %d killed %d early %d young_killed %d healthy_lost %d late_pending %d maxlag %.2f minlag %.2f"
      % (made, killed, early, young_killed, healthy_lost, late_pending,
         max(lags) if lags else -1, min(lags) if lags else -1), flush=True)
' 7460 "$SECONDS_SOAK" "$AGE" "$((AGE + EVERY + SLACK))" >"$TMP/rig.out" 2>"$TMP/rig.err" &
RIG=$!
RIG_PIDS+=("$RIG")
for _ in $(seq 300); do grep -q ready "$TMP/rig.out" && break; sleep 0.1; done
grep -q ready "$TMP/rig.out" || { not_ok "soak: rig did not start: $(cat "$TMP/rig.err")"; exit 0; }

ip netns exec "$NS" "$PLAIN" watch --every "${EVERY}s" --audit-log "$TMP/audit.log" \
	"soak: state close-wait and sport = :7460, older-than ${AGE}s" >/dev/null 2>"$TMP/w.err" &
W=$!
RIG_PIDS+=("$W")
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
: >"$TMP/rss"
start=$(date +%s)
while kill -0 "$RIG" 2>/dev/null; do
	echo "$(($(date +%s) - start)) $(rss "$W")" >>"$TMP/rss"
	sleep 1
done
wait "$RIG"
kill -TERM "$W"
wait_exit "$W"
wait "$W"
rc=$?

read -r _ made _ killed _ early _ young_killed _ healthy_lost _ late _ maxlag _ minlag \
	<<<"$(tail -1 "$TMP/rig.out")"
echo "soak: ${SECONDS_SOAK}s: $(tail -1 "$TMP/rig.out")" >&2
check "soak: sockets went stuck and were killed ($killed of $made made)" \
	[ "${killed:-0}" -gt $((SECONDS_SOAK * 3 / 2)) ]
check "soak: none killed before its age of ${AGE}s (shortest life ${minlag}s)" [ "$early" = 0 ]
check "soak: each killed within age + interval + ${SLACK}s (longest ${maxlag}s)" \
	[ "$(echo "$maxlag <= $AGE + $EVERY + $SLACK" | bc)" = 1 ]
check "soak: none left stuck past that" [ "$late" = 0 ]
check "soak: no young socket killed (closed by its holder at half the age)" [ "$young_killed" = 0 ]
check "soak: no healthy connection killed" [ "$healthy_lost" = 0 ]
check "soak: the watcher stops on SIGTERM with exit 0" [ "$rc" = 0 ]
# RSS: a least-squares slope over the second half (after warm-up), KiB per minute.
slope=$(awk -v from="$((SECONDS_SOAK / 2))" '$1 >= from && $2 != "" {
		n++; sx += $1; sy += $2; sxy += $1 * $2; sxx += $1 * $1 }
	END { d = n * sxx - sx * sx; if (n < 3 || d == 0) print "nan"; else
		printf "%.1f", (n * sxy - sx * sy) / d * 60 }' "$TMP/rss")
first=$(awk -v from="$((SECONDS_SOAK / 2))" '$1 >= from { print $2; exit }' "$TMP/rss")
last=$(tail -1 "$TMP/rss" | cut -d' ' -f2)
echo "soak: watcher RSS ${first} -> ${last} KiB over the second half, slope ${slope} KiB/min" >&2
flat=no
[ -n "$first" ] && [ -n "$last" ] && [ $((last - first)) -le 512 ] && flat=yes
check "soak: RSS flat (second half: $first -> $last KiB, slope $slope KiB/min)" [ "$flat" = yes ]
check "soak: every intended cookie has a result" [ "$(jq -rs '
	([.[] | select(.event == "intent") | .sockets[].cookie] | sort) ==
	([.[] | select(.event == "result") | .cookies[]] | sort)' "$TMP/audit.log")" = true ]
