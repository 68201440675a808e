/*
 * The destroy engine: SOCK_DESTROY with each socket's dumped id, cookie included, in batches
 * on the second netlink socket; then one re-dump checks that every killed cookie is gone.
 */
#include "engine.h"

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

static int destroy_kill(struct engine_ctx *ctx, struct sock_set *set)
{
	struct diag *d = ctx->d;
	struct sock_rec *batch[DIAG_BATCH];
	int errs[DIAG_BATCH];

	for (size_t i = 0; i < set->n; i += DIAG_BATCH) {
		size_t n = set->n - i < DIAG_BATCH ? set->n - i : DIAG_BATCH;

		for (size_t k = 0; k < n; k++)
			batch[k] = &set->v[i + k];
		int ret = diag_destroy_batch(d, batch, n, errs);

		if (ret < 0) {
			for (size_t k = 0; k < n; k++)
				set_outcome(d, batch[k], ret);
			continue;
		}
		for (size_t k = 0; k < n; k++)
			set_outcome(d, batch[k], errs[k]);
	}
	return engine_verify(d, set, ctx->scope);
}

const struct engine engine_destroy = {
	.name = "destroy",
	.kill = destroy_kill,
};
