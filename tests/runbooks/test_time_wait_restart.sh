#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runbook 2: a server that closed its connections first left TIME_WAIT on its port, and its
# restart (no SO_REUSEADDR) fails with EADDRINUSE. The runbook kills the TIME_WAIT on that port;
# the restart then binds.
cd "$(dirname "$0")/../.." || exit 1
. tests/runbooks/lib.sh

require_netns "runbook time-wait restart"
ns_new ns || { not_ok "time-wait restart: namespace"; exit 0; }
port=7500
check "time-wait restart: the old server ran and closed first" \
	[ "$(in_ns "$ns" "$ECHORIG" -p $port -n 30 serve-close)" = done ]
tw() { [ "$(ss_count "$ns" state time-wait "sport = :$port")" = "$1" ]; }
check "time-wait restart: 30 TIME_WAIT on :$port before" poll_until 10 tw 30
check "time-wait restart: the restart fails before" \
	[ "$(in_ns "$ns" "$ECHORIG" -p $port bind)" = "bind: EADDRINUSE" ]

runbook "time-wait restart" "$ns" "sockreap --state time-wait --sport PORT --yes" PORT=$port

check "time-wait restart: no TIME_WAIT left on :$port" tw 0
check "time-wait restart: audit says 30 killed" \
	[ "$(jq -r 'select(.event=="summary") | .killed' "$SOCKREAP_AUDIT_LOG")" = 30 ]
check "time-wait restart: the restart binds after" [ "$(in_ns "$ns" "$ECHORIG" -p $port bind)" = bound ]
