/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --forwarded: the run over conntrack entries (flows through this host) instead of sockets. */
#ifndef SOCKREAP_FORWARD_H
#define SOCKREAP_FORWARD_H

#include <stdio.h>

#include "cli.h"
#include "conntrack.h"
#include "json.h"

/* Returns the process exit status (enum exit_status), as reap_run. */
int forward_run(const struct config *cfg);

/* --explain with --forwarded: the canonical selector and where the flows come from. */
int forward_explain(FILE *f, const struct config *cfg);

/* How a flow is shown: "established", "unreplied" (UDP without an answer), ... */
const char *forward_flow_state(const struct ct_flow *f);

struct output_fit;
/*
 * The preview or outcome table: one line per flow, both directions and the translation.
 * outcomes: with the OUTCOME column. fit: the terminal's size, as output_table_fit takes it
 * (NULL or 0s: a pipe, every row and column).
 */
void forward_table(FILE *f, const struct ct_set *set, bool outcomes,
		   const struct output_fit *fit);

/* One flow as a JSON object (the output's and the audit log's; rec is a ct_flow's s). */
void forward_flow_json(struct json *j, const char *key, const struct sock_rec *rec,
		       bool with_outcome);

struct rawio;
/*
 * Kills forwarded TCP flows: a SYN probe to each flow's destination and an ACK probe to its
 * source through the entry, the challenge ACKs captured, an exact RST to each end through
 * the entry, the entry deleted (forward_tcp.c says how and why). io: opened in the flow's namespace. Sets
 * each flow's outcome; 0, or a negative errno when nothing could be tried.
 */
int forward_kill_tcp(struct conntrack *c, struct rawio *io, struct ct_flow **flows, size_t n);

/* mode "dry-run" or "kill"; counts NULL for a preview; exit_status what the run exits with. */
struct forward_report {
	const char *mode;
	const char *selector;
	const size_t *counts;	/* OUT_MAX entries, or NULL */
	int exit_status;
	double elapsed_ms;
};
void forward_json(FILE *f, const struct ct_set *set, const struct forward_report *rep);

#endif
