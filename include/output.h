/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The preview and the outcome, as a table or one JSON document, from one field emitter. */
#ifndef SOCKREAP_OUTPUT_H
#define SOCKREAP_OUTPUT_H

#include "json.h"
#include "netns.h"
#include "plan.h"
#include "selector.h"
#include "sock.h"

struct output_run {
	const char *mode;	/* "dry-run" or "kill" */
	const char *selector;	/* canonical form */
	const char *engine;
	const struct plan_counts *counts;	/* NULL in a preview */
	double elapsed_ms;
	int exit_status;	/* with counts: what the process exits with (lost records, signals) */
	const struct netns_info *netns;	/* the namespace the run acted in (--netns); NULL: here */
	/* Several namespaces: every record's netns indexes it; NULL: one namespace. */
	const struct netns_list *visited;
	/* Where owners came from: "bpf" or "proc" (procmap_source); NULL: not looked up (null). */
	const char *owners_source;
};

/*
 * owners: who holds each socket (procmap_owner_ctx); NULL when owners were not looked up.
 * A socket already skipped shows its outcome in a preview too.
 */

/* One socket's fields as a JSON object (shared by the JSON output and the audit log). */
void output_sock_json(struct json *j, const char *key, const struct sock_rec *rec,
		      const struct sel_owner_ctx *owners, bool with_outcome);
/* The same with the namespace it lives in (ns NULL: none said). */
void output_sock_json_ns(struct json *j, const char *key, const struct sock_rec *rec,
			 const struct sel_owner_ctx *owners, bool with_outcome,
			 const struct netns_info *ns);
/* A namespace as {inode, name, pid}: name and pid null when it has none. */
void output_netns_json(struct json *j, const char *key, const struct netns_info *ns);
/* Its fields alone, into an object the caller has open (to add counts after them). */
void output_netns_fields(struct json *j, const struct netns_info *ns);
void output_table(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		  bool with_outcome);
/* With a NETNS column first when visited holds more than one namespace (records index it). */
void output_table_ns(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		     bool with_outcome, const struct netns_list *visited);
/* A terminal's size: rows and columns; 0 for what is not a terminal (a pipe: no limit). */
struct output_fit {
	int rows, cols;
};

/* fd's size when it is a terminal (LINES/COLUMNS, else TIOCGWINSZ); 0: not one, or unknown. */
void output_screen(int fd, struct output_fit *fit);
/*
 * The table fitted to a terminal (fit NULL or 0s: all of it, every column). Taller than
 * fit->rows: counts by state (by outcome with_outcome) and by owner, the first rows, and
 * "... N more; --dry-run -j or a pipe shows all". Wider than fit->cols: the queue columns
 * go, then IDLE; addresses stay whole; lines still too long are cut with ">" at the edge.
 */
void output_table_fit(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		      bool with_outcome, const struct netns_list *visited,
		      const struct output_fit *fit);
void output_json(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		 const struct output_run *run);
/*
 * output_json in two halves, for a document with other contents than "sockets" (--group-by):
 * open writes the run's head fields, close the summary (of set) and the end.
 */
void output_json_open(struct json *j, FILE *f, const struct output_run *run);
void output_json_close(struct json *j, FILE *f, const struct sock_set *set,
		       const struct output_run *run);
/* --explain: the canonical selector, what the kernel filters, what runs in user space. */
void output_explain(FILE *f, const struct sel_node *ast);

/* --explain --json: the same as one JSON document; netns: the namespaces a run would visit. */
void output_explain_json(FILE *f, const struct sel_node *ast, const struct netns_list *netns);
/*
 * Why the table shows "?" (or "+?") for some owner ("not-looked-up", "unreadable", "hidepid"),
 * from the first such row, and whether that row has known owners too ("+?"); NULL when every
 * row's owners are known (or nobody's, "-").
 */
const char *output_owner_note(const struct sock_set *set, const struct sel_owner_ctx *owners,
			      bool *some_known);

/* "2000 killed, 3 gone" for the summary line. */
void output_counts(FILE *f, const struct plan_counts *c);

#define OUTPUT_SCHEMA 1

/*
 * Asks "Kill N NOUNs? [y/N] " on out and reads one line from in: true for y or yes (any
 * case), false for anything else, end of file included. noun is singular ("socket").
 */
bool output_confirm(FILE *in, FILE *out, size_t n, const char *noun);

#endif
