/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The intents written while the destroys run: each record's intent is on disk (fsynced)
 * before the engine may act on it, the rest follow on a thread of their own.
 */
#ifndef SOCKREAP_AUDIT_PIPE_H
#define SOCKREAP_AUDIT_PIPE_H

#include "audit.h"
#include "engine.h"
#include "netns.h"

#include <pthread.h>

/* The first chunk of intents written before any act (8 destroy batches); then doubling. */
#define AUDIT_PIPE_FIRST (8 * DIAG_BATCH)

struct audit_pipe {
	struct audit *a;
	const struct sock_set *set;	/* every record has its intent, the skipped ones too */
	const struct sel_owner_ctx *owners;
	const struct netns_info *ns;	/* several namespaces: indexed by rec->netns; else NULL */
	struct engine_gate gate;
	size_t done;		/* records whose intents are on disk */
	int err;		/* the first failure to write or sync them */
	pthread_t thread;
	bool started;		/* a thread writes the rest */
};

/*
 * Writes the intents of set's first records (all of them unless pipelined) and syncs them,
 * in the calling thread: an error here (negative errno) means nothing may be acted on. Then,
 * pipelined, a thread writes the rest chunk by chunk, each fsynced before the gate opens past
 * it. Everything is committed (audit_commit) once the last intent is on disk.
 */
int audit_pipe_begin(struct audit_pipe *p, struct audit *a, const struct sock_set *set,
		     const struct sel_owner_ctx *owners, const struct netns_info *ns,
		     bool pipelined);
/* The gate for the engine (engine_ctx.gate): NULL when every intent is on disk already. */
struct engine_gate *audit_pipe_gate(struct audit_pipe *p);
/*
 * Waits for the thread: 0 when every intent is on disk, else the error that stopped them
 * (p->done says how many are).
 */
int audit_pipe_end(struct audit_pipe *p);

#endif
