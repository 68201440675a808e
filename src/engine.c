/*
 * What the engines share: choosing one by name, the auto engine (destroy, then rst for what the
 * kernel cannot destroy), opening the rst engine's sockets late, and verification by cookie.
 */
#include "engine.h"
#include "caps.h"
#include "hashmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
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
void engine_classify_missing(struct diag *d, struct sock_rec *rec)
{
	struct sock_rec now;

	if (diag_lookup(d, rec, false, &now) == 0 && same_tuple(&now, rec) &&
	    sock_cookie(&now) != sock_cookie(rec))
		rec->outcome = OUT_CHANGED;
	else
		rec->outcome = OUT_GONE;
	rec->err = 0;
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


int engine_open_raw(struct engine_ctx *ctx)
{
	const char *what = NULL;
	int ret;

	if (ctx->raw)
		return 0;
	if (!ctx->raw_allowed)
		return -EPERM;
	ret = rawio_open(&ctx->raw, &what);
	if (ret < 0) {
		fprintf(stderr, "sockreap: rst engine: cannot open a %s: %s\n", what,
			strerror(-ret));
		return ret;
	}
	/* Sockets open: CAP_NET_RAW is not needed any more. */
	if (caps_keep_only(ctx->keep_caps, ctx->nkeep_caps) < 0)
		fprintf(stderr, "sockreap: warning: cannot drop CAP_NET_RAW\n");
	return 0;
}

int engine_sysctl(const char *path, int *val)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%d", val) != 1)
		ret = -EINVAL;
	fclose(f);
	return ret;
}

/*
 * auto: destroy first; whatever the kernel cannot destroy (EOPNOTSUPP: no
 * CONFIG_INET_DIAG_DESTROY) goes to rst, when its sockets could be opened.
 */
static int auto_kill(struct engine_ctx *ctx, struct sock_set *set)
{
	struct sock_set rest = { 0 };
	int ret, ret2 = 0;

	ret = engine_destroy.kill(ctx, set);
	for (size_t i = 0; i < set->n && ret2 == 0; i++)
		if (set->v[i].outcome == OUT_UNSUPPORTED)
			ret2 = sock_set_push(&rest, &set->v[i]);
	/* Without the rst engine's sockets, what destroy could not do stays unsupported. */
	if (ret2 < 0 || !rest.n || engine_open_raw(ctx) < 0)
		goto out;
	for (size_t k = 0; k < rest.n; k++) {
		rest.v[k].outcome = OUT_NONE;
		rest.v[k].err = 0;
	}
	ret2 = engine_rst.kill(ctx, &rest);
	/* rest holds them in set's order: the same walk puts each back in its place. */
	for (size_t i = 0, k = 0; i < set->n && k < rest.n; i++)
		if (set->v[i].outcome == OUT_UNSUPPORTED)
			set->v[i] = rest.v[k++];
out:
	sock_set_free(&rest);
	return ret < 0 ? ret : ret2;
}

const struct engine engine_auto = {
	.name = "auto",
	.kill = auto_kill,
};

const struct engine *engine_find(const char *name)
{
	static const struct engine *const all[] = { &engine_destroy, &engine_rst, &engine_auto };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
