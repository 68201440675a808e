// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --apply's collection: a plan's sockets looked up again by cookie and 4-tuple, never selected
 * anew. TCP sockets by exact sock_diag gets, batched; where a get cannot be trusted, in a dump.
 * Before that, the plan's entries checked against its own selector (planfile_check_selector:
 * here, not in planfile.c, which the plan fuzzer builds without the selector language).
 */
#include "planfile.h"
#include "diag.h"
#include "engine.h"
#include "hashmap.h"
#include "selector.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/*
 * Where an exact get cannot be trusted: UDP (the kernel's UDP get, udp_dump_one, looks the
 * 4-tuple up reversed: it finds the socket bound at the peer's port, if any), listeners (the
 * lookup may land on an SO_REUSEPORT sibling) and sockets only bound. Those are found in a
 * dump of their protocol and family, in every state, by cookie; a socket listed under a
 * planned 4-tuple with another cookie makes that entry changed.
 */
static bool by_get(const struct sock_rec *rec)
{
	return rec->protocol == IPPROTO_TCP && rec->state != SS_LISTEN && rec->state != SS_CLOSE;
}

struct found {
	const struct sock_set *plan;
	struct hashmap by_cookie, by_tuple;	/* -> index in plan */
	uint8_t *seen;		/* per plan entry: 1 the very socket, 2 its tuple reused */
	int (*keep)(const struct sock_rec *rec, void *arg);
	void *arg;
};

/* FNV-1a over what a 4-tuple is: family, protocol, addresses and ports (not the cookie). */
static uint64_t tuple_hash(const struct sock_rec *rec)
{
	const unsigned char *p[3] = { (const unsigned char *)rec->id.idiag_src,
				      (const unsigned char *)rec->id.idiag_dst,
				      (const unsigned char *)&rec->id.idiag_sport };
	const size_t len[3] = { sizeof(rec->id.idiag_src), sizeof(rec->id.idiag_dst), 4 };
	uint64_t h = 1469598103934665603ULL ^ rec->family ^ (uint64_t)rec->protocol << 8;

	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < len[k]; i++)
			h = (h ^ p[k][i]) * 1099511628211ULL;
	return h ? h : 1; /* the map's keys are not 0 */
}

static int dumped(const struct sock_rec *rec, void *arg)
{
	struct found *f = arg;
	uint32_t i;

	if (hashmap_get(&f->by_cookie, sock_cookie(rec), &i) &&
	    engine_same_tuple(rec, &f->plan->v[i]) && rec->protocol == f->plan->v[i].protocol &&
	    f->seen[i] != 1) {
		f->seen[i] = 1;
		return f->keep(rec, f->arg);
	}
	if (hashmap_get(&f->by_tuple, tuple_hash(rec), &i) &&
	    engine_same_tuple(rec, &f->plan->v[i]) && rec->protocol == f->plan->v[i].protocol &&
	    !f->seen[i])
		f->seen[i] = 2;
	return 0;
}

static int find_in_dumps(struct diag *d, struct found *f)
{
	bool need[2][2] = { { false } };	/* [udp][inet6] */
	int ret = hashmap_init(&f->by_cookie, f->plan->n);

	if (!ret)
		ret = hashmap_init(&f->by_tuple, f->plan->n);
	for (size_t i = 0; i < f->plan->n && !ret; i++) {
		const struct sock_rec *rec = &f->plan->v[i];

		if (by_get(rec))
			continue;
		need[rec->protocol == IPPROTO_UDP][rec->family == AF_INET6] = true;
		ret = hashmap_put(&f->by_cookie, sock_cookie(rec), (uint32_t)i);
		if (!ret)
			ret = hashmap_put(&f->by_tuple, tuple_hash(rec), (uint32_t)i);
	}
	for (int p = 0; p < 2 && !ret; p++)
		for (int fam = 0; fam < 2 && !ret; fam++) {
			struct diag_filter flt = { fam ? AF_INET6 : AF_INET,
						   p ? IPPROTO_UDP : IPPROTO_TCP, SS_ALL_MASK,
						   NULL, 0, false };

			if (need[p][fam])
				ret = diag_dump(d, &flt, dumped, f);
		}
	hashmap_free(&f->by_cookie);
	hashmap_free(&f->by_tuple);
	return ret;
}

/* The TCP entries by exact gets (cookie included), a batch per sendmsg. */
static int find_by_gets(struct diag *d, struct found *f)
{
	struct sock_rec *got = malloc(DIAG_BATCH * sizeof(*got)), *ptr[DIAG_BATCH];
	bool present[DIAG_BATCH];
	size_t idx[DIAG_BATCH], n = f->plan->n;
	int ret = got ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && ret == 0;) {
		size_t m = 0;

		for (; i < n && m < DIAG_BATCH; i++)
			if (by_get(&f->plan->v[i])) {
				idx[m] = i;
				ptr[m++] = &f->plan->v[i];
			}
		if (m)
			ret = diag_get_batch(d, ptr, m, false, present, got);
		for (size_t j = 0; j < m && ret == 0; j++) {
			if (!present[j])
				continue;
			f->seen[idx[j]] = 1;
			ret = f->keep(&got[j], f->arg);
		}
	}
	free(got);
	return ret;
}

int planfile_lookup(struct diag *d, const struct sock_set *plan, bool ns_gone,
		    int (*keep)(const struct sock_rec *rec, void *arg), void *arg,
		    struct sock_set *missing)
{
	struct found f = { plan, { 0 }, { 0 }, calloc(plan->n ? plan->n : 1, 1), keep, arg };
	int ret = f.seen ? 0 : -ENOMEM;

	if (!ret && !ns_gone)
		ret = find_in_dumps(d, &f);
	if (!ret && !ns_gone)
		ret = find_by_gets(d, &f);
	for (size_t i = 0; i < plan->n && ret == 0; i++) {
		struct sock_rec rec = plan->v[i];

		if (f.seen[i] == 1)
			continue;
		if (ns_gone)
			rec.outcome = OUT_GONE;
		else if (by_get(&rec))
			engine_classify_missing(d, &rec);
		else
			rec.outcome = f.seen[i] == 2 ? OUT_CHANGED : OUT_GONE;
		/* Not there: nobody holds it (the table says "-", not "?"). */
		rec.pid = 0;
		rec.nowners = 0;
		ret = sock_set_push(missing, &rec);
	}
	free(f.seen);
	return ret;
}

/*
 * What the plan records of a socket decides a leaf; anything else is UNKNOWN (Kleene logic):
 * only an entry the selector excludes by its recorded fields is refused.
 */
static enum sel_result recorded_eval(const struct sel_node *n, const struct sock_rec *rec)
{
	enum sel_result a, b;

	switch (n->kind) {
	case SEL_AND:
		a = recorded_eval(n->l, rec);
		if (a == SEL_NO)
			return SEL_NO;
		b = recorded_eval(n->r, rec);
		return b == SEL_NO ? SEL_NO : a == SEL_YES && b == SEL_YES ? SEL_YES : SEL_UNKNOWN;
	case SEL_OR:
		a = recorded_eval(n->l, rec);
		if (a == SEL_YES)
			return SEL_YES;
		b = recorded_eval(n->r, rec);
		return b == SEL_YES ? SEL_YES : a == SEL_NO && b == SEL_NO ? SEL_NO : SEL_UNKNOWN;
	case SEL_NOT:
		a = recorded_eval(n->l, rec);
		return a == SEL_UNKNOWN ? SEL_UNKNOWN : a == SEL_YES ? SEL_NO : SEL_YES;
	case SEL_STATE:
	case SEL_PORT:
	case SEL_ADDR:
	case SEL_FAMILY:
	case SEL_PROTO:
	case SEL_COOKIE:
		return selector_eval(n, rec, NULL);
	default:
		return SEL_UNKNOWN;
	}
}

int planfile_check_selector(const struct planfile *p, const struct sel_node *ast, char *why,
			    size_t whylen)
{
	/* No selector: an --all plan, every socket is its to list. */
	if (!ast)
		return 0;
	for (size_t i = 0; i < p->socks.n; i++) {
		const struct sock_rec *rec = &p->socks.v[i];

		if (recorded_eval(ast, rec) != SEL_NO)
			continue;
		snprintf(why, whylen, "socket %zu (cookie %" PRIx64 ", %s) does not match the "
				      "plan's selector: not put there by --save-plan", i,
			 sock_cookie(rec), sock_state_name(rec->state));
		return -EINVAL;
	}
	return 0;
}
