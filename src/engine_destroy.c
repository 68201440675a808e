/*
 * The destroy engine: SOCK_DESTROY with each socket's dumped id, cookie included, in batches
 * on the second netlink socket; then one re-dump checks that every killed cookie is gone.
 */
#include "engine.h"
#include "hashmap.h"

#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static bool same_tuple(const struct sock_rec *a, const struct sock_rec *b)
{
	return a->family == b->family && a->id.idiag_sport == b->id.idiag_sport &&
	       a->id.idiag_dport == b->id.idiag_dport &&
	       !memcmp(a->id.idiag_src, b->id.idiag_src, sizeof(a->id.idiag_src)) &&
	       !memcmp(a->id.idiag_dst, b->id.idiag_dst, sizeof(a->id.idiag_dst));
}

/*
 * ENOENT means "gone" or "cookie mismatch" alike: the 4-tuple without a cookie tells which.
 * The kernel's lookup falls back to a listener on the local port, so the answer counts only
 * when it is the same 4-tuple.
 */
static void classify_enoent(struct diag *d, struct sock_rec *rec)
{
	struct sock_rec now;

	if (diag_lookup(d, rec, false, &now) == 0 && same_tuple(&now, rec) &&
	    sock_cookie(&now) != sock_cookie(rec))
		rec->outcome = OUT_CHANGED;
	else
		rec->outcome = OUT_GONE;
	rec->err = 0;
}

static void set_outcome(struct diag *d, struct sock_rec *rec, int err)
{
	rec->err = 0;
	switch (err) {
	case 0:
	case DIAG_NO_ACK: /* verification decides */
		rec->outcome = OUT_KILLED;
		break;
	case -ENOENT:
		classify_enoent(d, rec);
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

static int destroy_kill(struct diag *d, struct sock_set *set, const struct diag_filter *scope)
{
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
	return engine_verify(d, set, scope);
}

struct verify_ctx {
	struct hashmap killed;	/* cookie -> index */
	struct sock_set *set;
};

static int verify_one(const struct sock_rec *rec, void *arg)
{
	struct verify_ctx *v = arg;
	uint32_t idx;

	if (!hashmap_get(&v->killed, sock_cookie(rec), &idx))
		return 0;
	struct sock_rec *victim = &v->set->v[idx];

	/*
	 * An explicitly bound UDP socket is disconnected by a destroy but stays bound and listed;
	 * anything else still listed survived.
	 */
	if (victim->protocol == IPPROTO_UDP) {
		victim->flags |= SOCK_F_STAYS_BOUND;
	} else {
		victim->outcome = OUT_FAILED;
		victim->err = SOCK_ERR_SURVIVED;
	}
	return 0;
}

int engine_verify(struct diag *d, struct sock_set *set, const struct diag_filter *scope)
{
	struct verify_ctx v = { .set = set };
	bool need[2][2] = { { false } }; /* [udp][inet6] */
	int ret;

	ret = hashmap_init(&v.killed, set->n);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < set->n; i++) {
		const struct sock_rec *rec = &set->v[i];

		if (rec->outcome != OUT_KILLED)
			continue;
		hashmap_put(&v.killed, sock_cookie(rec), (uint32_t)i);
		need[rec->protocol == IPPROTO_UDP][rec->family == AF_INET6] = true;
	}
	/* A survivor may have moved on (established -> fin-wait-1): look in every state. */
	for (int p = 0; p < 2 && ret == 0; p++)
		for (int f = 0; f < 2 && ret == 0; f++) {
			/*
			 * A destroyed UDP socket is disconnected: its peer changes, so only TCP
			 * keeps the ports and addresses the bytecode tests.
			 */
			bool narrow = scope && !p;
			struct diag_filter flt = { f ? AF_INET6 : AF_INET,
						   p ? IPPROTO_UDP : IPPROTO_TCP, SS_ALL_MASK,
						   narrow ? scope->bytecode : NULL,
						   narrow ? scope->bclen : 0, true };

			if (need[p][f])
				ret = diag_dump(d, &flt, verify_one, &v);
		}
	hashmap_free(&v.killed);
	return ret;
}

const struct engine engine_destroy = {
	.name = "destroy",
	.needs_cap = CAP_NET_ADMIN,
	.kill = destroy_kill,
};
