/*
 * The destroy engine: SOCK_DESTROY with each socket's dumped id, cookie included, in batches
 * on the second netlink socket; then one re-dump checks that every killed cookie is gone.
 *
 * The kernel does a destroy's whole work (lookup, abort, the RST to the peer) inside the
 * sending thread's sendmsg, so a big plan is shared among up to ctx->workers threads, each
 * with a netlink socket of its own: batches are handed out one at a time from a shared
 * counter, and each record is written by the one thread that sent its request.
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

		for (size_t k = 0; k < n; k++)
			batch[k] = &set->v[i + k];
		int ret = diag_destroy_batch(d, batch, n, errs);

		for (size_t k = 0; k < n; k++)
			set_outcome(d, batch[k], ret < 0 ? ret : errs[k]);
	}
	return NULL;
}

static int destroy_kill(struct engine_ctx *ctx, struct sock_set *set)
{
	struct destroy_job job = { set, (set->n + DIAG_BATCH - 1) / DIAG_BATCH, 0 };
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
	return engine_verify(ctx->d, set, ctx->scope);
}

const struct engine engine_destroy = {
	.name = "destroy",
	.kill = destroy_kill,
};
