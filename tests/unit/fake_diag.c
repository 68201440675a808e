// SPDX-License-Identifier: GPL-2.0-or-later
/* The netlink seam, scripted: destroys (reuseport groups too), lookups, checks, dumps, faults. */
#include "fake_diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The destroy engine may call from several threads: its answers are read-only, its log locked. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const struct fake_sock *script;
static size_t nscript;
static size_t batch_sizes[64], nbatches;
static unsigned destroyed[FAKE_DIAG_COOKIES];
static int workers_open, workers_opened, worker_fail;
static struct sock_rec dumped;
static fake_diag_extra_fn extra;
static bool dead[FAKE_DIAG_COOKIES];	/* reuseport group members destroyed */
static unsigned queries, fail_nth;
static int fail_err, dump_fail_family, dump_fail_err, check_fail_err;
static bool dump_fail_late;
static int unix_owner_ret = -ENOENT;
static uint32_t unix_owner_uid;

void fake_diag_extra(fake_diag_extra_fn fn)
{
	extra = fn;
}

void fake_diag_script(const struct fake_sock *socks, size_t n)
{
	script = socks;
	nscript = n;
	nbatches = 0;
	memset(destroyed, 0, sizeof(destroyed));
	workers_opened = 0;
	worker_fail = 0;
	memset(dead, 0, sizeof(dead));
	queries = fail_nth = 0;
	fail_err = dump_fail_family = dump_fail_err = check_fail_err = 0;
	dump_fail_late = false;
}

void fake_diag_unix_owner(int ret, uint32_t uid)
{
	unix_owner_ret = ret;
	unix_owner_uid = uid;
}

int diag_unix_owner(struct diag *d, const char *name, uint32_t *uid)
{
	(void)d;
	(void)name;
	if (!unix_owner_ret)
		*uid = unix_owner_uid;
	return unix_owner_ret;
}

void fake_diag_fail_dumps(int family, int err)
{
	dump_fail_family = family;
	dump_fail_err = err;
	dump_fail_late = false;
}

void fake_diag_fail_dumps_late(int family, int err)
{
	fake_diag_fail_dumps(family, err);
	dump_fail_late = true;
}

void fake_diag_fail_checks(int err)
{
	check_fail_err = err;
}

void fake_diag_fail_query(unsigned nth, int err)
{
	fail_nth = queries + nth;
	fail_err = err;
}

unsigned fake_diag_queries(void)
{
	return queries;
}

/* Counts a query; the scripted failure, or 0. */
static int query(void)
{
	return ++queries == fail_nth ? fail_err : 0;
}

unsigned fake_diag_destroyed(uint64_t cookie)
{
	unsigned n;

	/* Locked: a test may ask while engine threads send. */
	pthread_mutex_lock(&lock);
	n = cookie < FAKE_DIAG_COOKIES ? destroyed[cookie] : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

void fake_diag_worker_fail(int err)
{
	worker_fail = err;
}

int fake_diag_workers(int *still_open)
{
	*still_open = workers_open;
	return workers_opened;
}

struct diag {
	int worker;
};

int diag_open_worker(struct diag **out)
{
	if (worker_fail)
		return worker_fail;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	workers_open++;
	workers_opened++;
	return 0;
}

void diag_trim(struct diag *d)
{
	(void)d;
}

void diag_close(struct diag *d)
{
	if (!d)
		return;
	workers_open--;
	free(d);
}

size_t fake_diag_batches(size_t *sizes, size_t max)
{
	for (size_t i = 0; i < nbatches && i < max; i++)
		sizes[i] = batch_sizes[i];
	return nbatches;
}

static const struct fake_sock *find(uint64_t cookie)
{
	for (size_t i = 0; i < nscript; i++)
		if (script[i].cookie == cookie)
			return &script[i];
	return NULL;
}

static bool is_dead(uint64_t cookie)
{
	return cookie < FAKE_DIAG_COOKIES && dead[cookie];
}

/* The member of a reuseport group a lookup lands on: the live one with the highest cookie. */
static const struct fake_sock *group_pick(int group)
{
	const struct fake_sock *best = NULL;

	for (size_t i = 0; i < nscript; i++)
		if (script[i].group == group && !is_dead(script[i].cookie) &&
		    (!best || script[i].cookie > best->cookie))
			best = &script[i];
	return best;
}

static bool listed(const struct fake_sock *s)
{
	return s->group ? !is_dead(s->cookie) : s->survives;
}

int diag_destroy_batch(struct diag *d, struct sock_rec *const *recs, size_t n, int *errs)
{
	(void)d;
	if (n > DIAG_BATCH)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	if (nbatches < 64)
		batch_sizes[nbatches++] = n;
	for (size_t i = 0; i < n; i++) {
		uint64_t cookie = sock_cookie(recs[i]);
		const struct fake_sock *s = find(cookie);

		errs[i] = s ? s->destroy_err : 0;
		if (s && s->group) {
			const struct fake_sock *pick = group_pick(s->group);

			errs[i] = pick == s ? 0 : -ENOENT;
			if (pick == s && cookie < FAKE_DIAG_COOKIES)
				dead[cookie] = true;
		}
		if (cookie < FAKE_DIAG_COOKIES)
			destroyed[cookie]++;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static bool same_tuple(const struct sock_rec *a, const struct sock_rec *b)
{
	return a->family == b->family && a->id.idiag_sport == b->id.idiag_sport &&
	       a->id.idiag_dport == b->id.idiag_dport &&
	       !memcmp(a->id.idiag_src, b->id.idiag_src, sizeof(a->id.idiag_src)) &&
	       !memcmp(a->id.idiag_dst, b->id.idiag_dst, sizeof(a->id.idiag_dst));
}

/* A search among the live sockets of the extra dump (the fake rawio's). */
struct search {
	const struct sock_rec *want;
	bool with_cookie;
	struct sock_rec got;
	bool hit;
};

static int search_one(const struct sock_rec *rec, void *arg)
{
	struct search *q = arg;

	if (q->hit || !same_tuple(rec, q->want) ||
	    (q->with_cookie && sock_cookie(rec) != sock_cookie(q->want)))
		return 0;
	q->got = *rec;
	q->hit = true;
	return 0;
}

static bool search_live(const struct sock_rec *rec, bool with_cookie, struct sock_rec *got)
{
	struct search q = { .want = rec, .with_cookie = with_cookie };
	struct diag_filter flt = { .family = rec->family, .protocol = rec->protocol };

	if (extra)
		extra(&flt, search_one, &q);
	if (q.hit && got)
		*got = q.got;
	return q.hit;
}

/* What the kernel finds for rec's id: 0 and *found, or -ENOENT. */
static int lookup(const struct sock_rec *rec, bool with_cookie, struct sock_rec *found)
{
	const struct fake_sock *s = find(sock_cookie(rec));

	if (s && s->group) {
		const struct fake_sock *pick = group_pick(s->group);

		if (!pick || (with_cookie && pick != s))
			return -ENOENT;
		*found = *rec;
		found->id.idiag_cookie[0] = (uint32_t)pick->cookie;
		found->id.idiag_cookie[1] = (uint32_t)(pick->cookie >> 32);
		return 0;
	}
	if (search_live(rec, with_cookie, found))
		return 0;
	if (!s)
		return -ENOENT;
	if (with_cookie && s->survives) {
		*found = *rec;
		if (s->state_after)
			found->state = s->state_after;
		return 0;
	}
	if (with_cookie)
		return -ENOENT;
	if (!s->reused && !s->listener_behind)
		return -ENOENT;
	*found = *rec;
	found->id.idiag_cookie[0] ^= 0xffff; /* another socket */
	if (s->listener_behind) {
		memset(found->id.idiag_dst, 0, sizeof(found->id.idiag_dst));
		found->id.idiag_dport = 0;
		found->state = SS_LISTEN;
	}
	return 0;
}

int diag_lookup(struct diag *d, const struct sock_rec *rec, bool with_cookie,
		struct sock_rec *found)
{
	struct sock_rec tmp;

	(void)d;
	return lookup(rec, with_cookie, found ? found : &tmp);
}

int diag_check_batch(struct diag *d, struct sock_rec *const *recs, size_t n, bool with_cookie,
		     bool *present, struct sock_rec *found)
{
	int ret = query();

	(void)d;
	if (n > DIAG_BATCH)
		return -EINVAL;
	if (ret)
		return ret;
	if (check_fail_err)
		return check_fail_err;
	for (size_t i = 0; i < n; i++) {
		struct sock_rec tmp;

		present[i] = lookup(recs[i], with_cookie, found ? &found[i] : &tmp) == 0;
	}
	return 0;
}

/* As the kernel answers gets by cookie: what diag_check_batch with the cookie finds. */
int diag_get_batch(struct diag *d, struct sock_rec *const *recs, size_t n, bool no_info,
		   bool *present, struct sock_rec *found)
{
	(void)no_info;
	return diag_check_batch(d, recs, n, true, present, found);
}

int diag_dump(struct diag *d, const struct diag_filter *flt, diag_sock_cb cb, void *arg)
{
	int ret = query();

	(void)d;
	if (ret)
		return ret;
	bool fails = dump_fail_err && (!dump_fail_family || dump_fail_family == flt->family);

	if (fails && !dump_fail_late)
		return dump_fail_err;
	for (size_t i = 0; i < nscript; i++) {
		if (!listed(&script[i]))
			continue;
		memset(&dumped, 0, sizeof(dumped));
		dumped.family = (uint8_t)flt->family;
		dumped.id.idiag_cookie[0] = (uint32_t)script[i].cookie;
		dumped.id.idiag_cookie[1] = (uint32_t)(script[i].cookie >> 32);
		int r = cb(&dumped, arg);

		if (r < 0)
			return r;
	}
	if (fails)
		return dump_fail_err;
	return extra ? extra(flt, cb, arg) : 0;
}
