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

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
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
	size_t next;		/* the next batch to hand out (atomic) */
};

struct destroy_worker {
	struct destroy_job *job;
	struct diag *d;
	pthread_t tid;
};

static void run_batches(struct destroy_job *job, struct diag *d)
{
	struct sock_set *set = job->set;
	struct sock_rec *batch[DIAG_BATCH];
	int errs[DIAG_BATCH];
	size_t b;

	while ((b = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->nbatches) {
		size_t i = b * DIAG_BATCH;
		size_t n = set->n - i < DIAG_BATCH ? set->n - i : DIAG_BATCH;

		for (size_t k = 0; k < n; k++)
			batch[k] = &set->v[i + k];
		int ret = diag_destroy_batch(d, batch, n, errs);

		for (size_t k = 0; k < n; k++)
			set_outcome(d, batch[k], ret < 0 ? ret : errs[k]);
	}
}

static void *worker_main(void *arg)
{
	struct destroy_worker *w = arg;

	run_batches(w->job, w->d);
	return NULL;
}

static int destroy_kill(struct engine_ctx *ctx, struct sock_set *set)
{
	struct destroy_job job = { set, (set->n + DIAG_BATCH - 1) / DIAG_BATCH, 0 };
	struct destroy_worker w[ENGINE_WORKERS_MAX];
	int nw = 0, want = ctx->workers < ENGINE_WORKERS_MAX ? ctx->workers : ENGINE_WORKERS_MAX;

	/*
	 * Helpers only for a plan big enough to pay for a thread and a socket each; one that
	 * cannot be had is simply not there (the calling thread does the rest).
	 */
	if (set->n < ENGINE_PARALLEL_MIN)
		want = 1;
	for (; nw < want - 1; nw++) {
		w[nw].job = &job;
		if (diag_open_worker(&w[nw].d) < 0)
			break;
		if (pthread_create(&w[nw].tid, NULL, worker_main, &w[nw]) != 0) {
			diag_close(w[nw].d);
			break;
		}
	}
	run_batches(&job, ctx->d);
	for (int i = 0; i < nw; i++) {
		pthread_join(w[i].tid, NULL);
		diag_close(w[i].d);
	}
	return engine_verify(ctx->d, set, ctx->scope);
}

const struct engine engine_destroy = {
	.name = "destroy",
	.kill = destroy_kill,
};
