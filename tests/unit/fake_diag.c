/* The netlink seam, scripted: destroy answers, lookups and the verification dump. */
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
}

unsigned fake_diag_destroyed(uint64_t cookie)
{
	return cookie < FAKE_DIAG_COOKIES ? destroyed[cookie] : 0;
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
		if (cookie < FAKE_DIAG_COOKIES)
			destroyed[cookie]++;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

int diag_lookup(struct diag *d, const struct sock_rec *rec, bool with_cookie,
		struct sock_rec *found)
{
	const struct fake_sock *s = find(sock_cookie(rec));

	(void)d;
	if (with_cookie || !s || (!s->reused && !s->listener_behind))
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

int diag_dump(struct diag *d, const struct diag_filter *flt, diag_sock_cb cb, void *arg)
{
	(void)d;
	for (size_t i = 0; i < nscript; i++) {
		if (!script[i].survives)
			continue;
		memset(&dumped, 0, sizeof(dumped));
		dumped.family = (uint8_t)flt->family;
		dumped.id.idiag_cookie[0] = (uint32_t)script[i].cookie;
		dumped.id.idiag_cookie[1] = (uint32_t)(script[i].cookie >> 32);
		int r = cb(&dumped, arg);

		if (r < 0)
			return r;
	}
	return extra ? extra(flt, cb, arg) : 0;
}
