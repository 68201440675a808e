// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destroy engine: SOCK_DESTROY with each socket's dumped id, cookie included, in batches
 * on the second netlink socket; then one re-dump checks that every killed cookie is gone.
 *
 * The kernel does a destroy's whole work (lookup, abort, the RST to the peer) inside the
 * sending thread's sendmsg, so a big plan is shared among up to ctx->workers threads, each
 * with a netlink socket of its own: batches are handed out one at a time from a shared
 * counter, and each record is written by the one thread that sent its request.
 *
 * With a gate (ctx->gate: the audit intents written while the destroys run), a batch is sent
 * only once every record in it has its intent on disk; if the gate closes first, what it
 * left open is sent and the rest is never acted on.
 *
 * SO_REUSEPORT: the kernel finds a listener (or bound UDP socket) for a destroy the way it
 * finds one for a new connection, by hash over the group, and answers ENOENT when the cookie
 * is a sibling's. The member picked is killed by its own request, so the rest is sent again,
 * round after round, while the verification dump lists them and a round kills any.
 */
#include "engine.h"
#include "workers.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void set_outcome(struct diag *d, struct sock_rec *rec, int err)
{
	rec->err = 0;
	rec->engine = SOCK_ENGINE_DESTROY;
	switch (err) {
	case 0:
	case DIAG_NO_ACK: /* verification decides */
		rec->outcome = OUT_KILLED;
		break;
	case -ENOENT:
		engine_classify_missing(d, rec);
		break;
	case -EOPNOTSUPP:
		rec->outcome = OUT_UNSUPPORTED;
		rec->err = err;
		break;
	case -EPERM:
	case -EACCES:
		rec->outcome = OUT_DENIED;
		rec->err = err;
		break;
	default:
		rec->outcome = OUT_FAILED;
		rec->err = err;
		break;
	}
}

struct destroy_job {
	struct sock_set *set;
	size_t nbatches;
	size_t next;		/* workers_next */
	struct engine_gate *gate;	/* NULL: every batch may go at once */
};

struct destroy_worker {
	struct destroy_job *job;
	struct diag *d;		/* the worker's own netlink socket */
};

static void *run_batches(void *arg)
{
	struct destroy_worker *w = arg;
	struct destroy_job *job = w->job;
	struct sock_set *set = job->set;
	struct diag *d = w->d;
	struct sock_rec *batch[DIAG_BATCH];
	int errs[DIAG_BATCH];
	size_t b;

	while ((b = workers_next(&job->next)) < job->nbatches) {
		size_t i = b * DIAG_BATCH;
		size_t n = set->n - i < DIAG_BATCH ? set->n - i : DIAG_BATCH;

		if (job->gate) {
			size_t open = engine_gate_wait(job->gate, i + n);

			for (size_t k = open > i ? open - i : 0; k < n; k++)
				engine_skip_unannounced(&set->v[i + k]);
			n = open > i ? open - i : 0;
			if (!n)
				continue;
		}
		for (size_t k = 0; k < n; k++)
			batch[k] = &set->v[i + k];
		int ret = diag_destroy_batch(d, batch, n, errs);

		for (size_t k = 0; k < n; k++)
			set_outcome(d, batch[k], ret < 0 ? ret : errs[k]);
	}
	return NULL;
}

/* Rounds for reuseport groups: each kills at least one member, or ends the retries. */
#define SIBLING_ROUNDS 64

/* Destroys the records of set, in the calling thread. */
static void destroy_all(struct diag *d, struct sock_set *set)
{
	struct destroy_job job = { set, (set->n + DIAG_BATCH - 1) / DIAG_BATCH, 0, NULL };
	struct destroy_worker w = { &job, d };

	run_batches(&w);
}

/* Sends again what the kernel answered ENOENT for and still lists (engine_verify said so). */
static int retry_siblings(struct engine_ctx *ctx, struct sock_set *set)
{
	struct sock_set again = { 0 };
	uint32_t *idx = NULL;
	int ret = 0;

	for (int round = 0; round < SIBLING_ROUNDS && ret == 0; round++) {
		bool progress = false;

		again.n = 0;
		for (size_t i = 0; i < set->n && ret == 0; i++) {
			if (set->v[i].outcome != OUT_FAILED || set->v[i].err != SOCK_ERR_SIBLING)
				continue;
			ret = sock_set_push(&again, &set->v[i]);
			if (ret == 0 && !idx)
				idx = malloc(set->n * sizeof(*idx));
			if (ret == 0 && !idx)
				ret = -ENOMEM;
			if (ret == 0)
				idx[again.n - 1] = (uint32_t)i;
		}
		if (ret < 0 || !again.n)
			break;
		destroy_all(ctx->d, &again);
		for (size_t k = 0; k < again.n; k++)
			progress |= again.v[k].outcome != OUT_GONE &&
				    again.v[k].outcome != OUT_CHANGED;
		ret = engine_verify(ctx->d, &again, ctx->scope);
		for (size_t k = 0; k < again.n; k++)
			set->v[idx[k]] = again.v[k];
		/* The group keeps answering with a socket the plan does not hold: give up. */
		if (!progress)
			break;
	}
	free(idx);
	sock_set_free(&again);
	return ret;
}

static int destroy_kill(struct engine_ctx *ctx, struct sock_set *set)
{
	int ret;

	struct destroy_job job = { set, (set->n + DIAG_BATCH - 1) / DIAG_BATCH, 0, ctx->gate };
	struct destroy_worker w[WORKERS_MAX] = { { &job, ctx->d } };
	int nw = 1;

	/*
	 * Helpers only for a plan big enough to pay for a thread and a socket each; one whose
	 * socket cannot be had is simply not there (the others do its share).
	 */
	if (set->n >= ENGINE_PARALLEL_MIN)
		for (; nw < ctx->workers && nw < WORKERS_MAX; nw++) {
			w[nw].job = &job;
			if (diag_open_worker(&w[nw].d) < 0)
				break;
		}
	workers_run(run_batches, w, sizeof(w[0]), nw);
	for (int k = 1; k < nw; k++)
		diag_close(w[k].d);
	ret = engine_verify(ctx->d, set, ctx->scope);
	return ret < 0 ? ret : retry_siblings(ctx, set);
}

const struct engine engine_destroy = {
	.name = "destroy",
	.kill = destroy_kill,
};
