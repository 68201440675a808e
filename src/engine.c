// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the engines share: choosing one by name, the auto engine (destroy, then rst for what the
 * kernel cannot destroy), opening the rst engine's sockets late, and verification by cookie.
 */
#include "engine.h"
#include "caps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

bool engine_same_tuple(const struct sock_rec *a, const struct sock_rec *b)
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

	if (diag_lookup(d, rec, false, &now) == 0 && engine_same_tuple(&now, rec) &&
	    sock_cookie(&now) != sock_cookie(rec))
		rec->outcome = OUT_CHANGED;
	else
		rec->outcome = OUT_GONE;
	rec->err = 0;
}

/*
 * What the verification dumps list, by cookie: after a kill that worked, nothing (the plan's
 * sockets are gone), so nothing is kept beside the records; the cookies listed, sorted, are
 * then looked for record by record. (A map of the 100,000 records' cookies, built before the
 * dump whatever it would list, took ~7 ms of the serial tail of a kill.)
 */
struct verify_ctx {
	struct sock_set *set;
	bool *seen;
	uint64_t *listed;	/* the cookies the current dump lists */
	size_t nlisted, cap;
};

static int verify_one(const struct sock_rec *rec, void *arg)
{
	struct verify_ctx *v = arg;
	uint64_t key = sock_cookie(rec);

	if (!key)
		return 0;
	if (v->nlisted == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		uint64_t *p = realloc(v->listed, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->listed = p;
		v->cap = cap;
	}
	v->listed[v->nlisted++] = key;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static bool listed(const struct verify_ctx *v, uint64_t key)
{
	size_t lo = 0, hi = v->nlisted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->listed[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->nlisted && v->listed[lo] == key;
}

/* Said gone by the engine or by the kernel: what the verification dump must not list. */
static bool claimed(const struct sock_rec *rec)
{
	return rec->outcome == OUT_KILLED || rec->outcome == OUT_GONE ||
	       rec->outcome == OUT_CHANGED;
}

/* The kernel still lists the claimed record idx: say what that means. */
static void still_listed(struct verify_ctx *v, uint32_t idx)
{
	struct sock_rec *victim = &v->set->v[idx];

	v->seen[idx] = true;
	/*
	 * An explicitly bound UDP socket is disconnected by a destroy but stays bound and listed.
	 * A socket the kernel answered ENOENT for but still lists was not found by its lookup:
	 * an SO_REUSEPORT sibling was. Anything else still listed survived.
	 */
	if (victim->outcome != OUT_KILLED) {
		victim->outcome = OUT_FAILED;
		victim->err = SOCK_ERR_SIBLING;
	} else if (victim->protocol == IPPROTO_UDP) {
		victim->flags |= SOCK_F_STAYS_BOUND;
	} else {
		victim->outcome = OUT_FAILED;
		victim->err = SOCK_ERR_SURVIVED;
	}
}

/*
 * A TCP socket that is not a listener, nor closed and only bound, is in the established hash
 * table in whatever state it moved on to (time-wait included), under its one 4-tuple: an
 * exact lookup by 4-tuple and cookie finds it if and only if a dump in every state would list
 * it. A listener's lookup may find an SO_REUSEPORT sibling instead: those are dumped.
 */
static bool lookup_verifiable(const struct sock_rec *rec)
{
	return claimed(rec) && rec->protocol == IPPROTO_TCP && rec->state != SS_LISTEN &&
	       rec->state != SS_CLOSE;
}

/*
 * Up to one batch of such sockets is verified by exact lookups in one sendmsg instead of a
 * dump: a dump walks the host's whole established hash table, every network namespace's
 * sockets in it (~2.9 ms a walk next to 1,000 namespaces of 40 sockets, the cost of the whole
 * kill of a namespace's 10 sockets), a lookup only its bucket. Returns false (nothing marked)
 * when there are more, or the lookups failed: the dump decides then.
 */
static bool verify_by_lookup(struct diag *d, struct verify_ctx *v)
{
	struct sock_rec *recs[DIAG_BATCH];
	uint32_t idx[DIAG_BATCH];
	bool present[DIAG_BATCH];
	size_t m = 0;

	for (size_t i = 0; i < v->set->n; i++) {
		if (!lookup_verifiable(&v->set->v[i]))
			continue;
		if (m == DIAG_BATCH)
			return false;
		recs[m] = &v->set->v[i];
		idx[m++] = (uint32_t)i;
	}
	if (!m || diag_check_batch(d, recs, m, true, present, NULL) < 0)
		return false;
	for (size_t k = 0; k < m; k++) {
		if (present[k])
			still_listed(v, idx[k]);
		else
			v->seen[idx[k]] = true; /* gone: no dump needs to say so */
	}
	return true;
}

/* Whether the dumps decide rec: claimed, and not already decided by its exact lookup. */
static bool by_dump(const struct sock_rec *rec, bool looked_up)
{
	return claimed(rec) && !(looked_up && lookup_verifiable(rec));
}

int engine_verify(struct diag *d, struct sock_set *set, const struct diag_filter *scope)
{
	struct verify_ctx v = { .set = set };
	bool need[2][2] = { { false } }; /* [udp][inet6] */
	int ret, first = 0;

	v.seen = calloc(set->n ? set->n : 1, sizeof(*v.seen));
	if (!v.seen)
		return -ENOMEM;
	bool looked_up = verify_by_lookup(d, &v);

	for (size_t i = 0; i < set->n; i++) {
		const struct sock_rec *rec = &set->v[i];

		if (by_dump(rec, looked_up))
			need[rec->protocol == IPPROTO_UDP][rec->family == AF_INET6] = true;
	}
	/* A survivor may have moved on (established -> fin-wait-1): look in every state. */
	for (int p = 0; p < 2; p++)
		for (int f = 0; f < 2; f++) {
			/*
			 * A destroyed UDP socket is disconnected: its peer changes, so only TCP
			 * keeps the ports and addresses the bytecode tests.
			 */
			bool narrow = scope && !p;
			int family = f ? AF_INET6 : AF_INET;
			struct diag_filter flt = { family, p ? IPPROTO_UDP : IPPROTO_TCP,
						   SS_ALL_MASK, narrow ? scope->bytecode : NULL,
						   narrow ? scope->bclen : 0, true };

			if (!need[p][f])
				continue;
			v.nlisted = 0;
			ret = diag_dump(d, &flt, verify_one, &v);
			/* What it did list failed to die, whether the dump ended well or not. */
			if (v.nlisted)
				qsort(v.listed, v.nlisted, sizeof(*v.listed), cmp_u64);
			for (size_t i = 0; v.nlisted && i < set->n; i++) {
				const struct sock_rec *rec = &set->v[i];

				if (by_dump(rec, looked_up) && !v.seen[i] && rec->family == family &&
				    (rec->protocol == IPPROTO_UDP) == p && listed(&v, sock_cookie(rec)))
					still_listed(&v, (uint32_t)i);
			}
			if (ret == 0)
				continue;
			/*
			 * Not listed in a dump that failed proves nothing: the rest is unverified,
			 * never killed.
			 */
			for (size_t i = 0; i < set->n; i++) {
				struct sock_rec *rec = &set->v[i];

				if (claimed(rec) && !v.seen[i] && rec->family == family &&
				    (rec->protocol == IPPROTO_UDP) == p) {
					rec->outcome = OUT_FAILED;
					rec->err = SOCK_ERR_UNVERIFIED;
					rec->flags &= (uint8_t)~SOCK_F_STAYS_BOUND;
				}
			}
			if (!first)
				first = ret;
		}
	ret = first;
	free(v.listed);
	free(v.seen);
	return ret;
}

int engine_open_raw(struct engine_ctx *ctx)
{
	const char *what = NULL;
	int ret;

	if (ctx->raw)
		return 0;
	if (!ctx->raw_allowed)
		return ctx->raw_err ? ctx->raw_err : -EPERM;
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

/* The abstract address of name; its length, or 0 when it does not fit. */
static socklen_t lock_addr(const char *name, struct sockaddr_un *a)
{
	size_t n = strlen(name);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (n + 1 > sizeof(a->sun_path))
		return 0;
	memcpy(a->sun_path + 1, name, n); /* sun_path[0] = 0: the abstract namespace */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* Binds and listens on fd: 0, or -errno (-EADDRINUSE: held; fd is still unbound then). */
static int bind_lock(int fd, const char *name)
{
	struct sockaddr_un a;
	socklen_t len = lock_addr(name, &a);

	if (!len)
		return -ENAMETOOLONG;
	if (bind(fd, (struct sockaddr *)&a, len) < 0)
		return -errno;
	return listen(fd, 1) < 0 ? -errno : 0;
}

int engine_lock_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

static int try_lock(const char *name, struct ucred *holder)
{
	struct sockaddr_un a;
	socklen_t len = lock_addr(name, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (!len) {
		close(fd);
		return -ENAMETOOLONG;
	}
	if (bind(fd, (struct sockaddr *)&a, len) == 0 && listen(fd, 1) == 0)
		return fd;
	int err = errno;

	/* Held: ask the holder who it is (it listens; the connection is never accepted). */
	if (err == EADDRINUSE && holder) {
		socklen_t cl = sizeof(*holder);
		/* Non-blocking: a holder whose backlog is full would hold this connect forever. */
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (c >= 0 && connect(c, (struct sockaddr *)&a, len) == 0)
			getsockopt(c, SOL_SOCKET, SO_PEERCRED, holder, &cl);
		if (c >= 0)
			close(c);
	}
	close(fd);
	return -err;
}

/*
 * Whether the holder of the lock is to be waited for. Anyone may bind an abstract name, so
 * the name alone says nothing: only root or our real uid can be a run worth waiting for. The
 * owner comes from sock_diag (which also sees a holder that does not listen), else from peer
 * (SO_PEERCRED, pid > 0 when it answered); unknown, it is waited for as before. A holder of
 * another uid gets one warning per lock (*said), in namespace where (NULL: this one).
 */
static bool holder_counts(struct diag *d, const char *name, const struct ucred *peer,
			  const char *where, bool *said)
{
	uint32_t uid;
	int ret = d ? diag_unix_owner(d, name, &uid) : -EOPNOTSUPP;
	uid_t me = getuid();

	if (ret == -ENOENT)
		return true; /* let go meanwhile: the next try takes it */
	if (ret < 0 && peer && peer->pid > 0)
		uid = peer->uid;
	else if (ret < 0)
		return true;
	if (uid == 0 || uid == me)
		return true;
	if (!*said) {
		fprintf(stderr, "sockreap: warning: %s%s%sthe run lock is held by uid %u, ",
			where ? "network namespace " : "", where ? where : "", where ? ": " : "",
			uid);
		if (me)
			fprintf(stderr, "neither root nor ours (%u): ignored\n", (unsigned)me);
		else
			fputs("not root: ignored\n", stderr);
	}
	*said = true;
	return false;
}

int engine_exclusive(struct diag *d, const char *name, int wait_ms)
{
	struct ucred holder = { 0 };
	int waited = 0, fd;
	bool said = false;

	/* SO_PEERCRED is asked once: each ask leaves a connection in the holder's backlog. */
	while ((fd = try_lock(name, waited ? NULL : &holder)) == -EADDRINUSE) {
		if (!holder_counts(d, name, &holder, NULL, &said))
			return -1;
		if (!waited && holder.pid > 0)
			fprintf(stderr, "sockreap: waiting for another run acting in this network "
					"namespace (pid %d, uid %u)\n", holder.pid, holder.uid);
		else if (!waited)
			fprintf(stderr, "sockreap: waiting for another run acting in this network "
					"namespace\n");
		if (waited >= wait_ms) {
			fprintf(stderr, "sockreap: warning: still held after %d s; acting anyway: "
					"sockets the other run kills meanwhile may be reported killed by "
					"both\n", wait_ms / 1000);
			return -1;
		}
		usleep(20 * 1000);
		waited += 20;
	}
	if (fd < 0)
		fprintf(stderr, "sockreap: warning: cannot hold the run lock: %s\n",
			strerror(-fd));
	return fd;
}

int engine_exclusive_all(struct diag *const *ds, const int *fds, const char *const *where,
			 size_t n, const char *name, int wait_ms)
{
	int waited = 0, ret = 0;

	for (size_t i = 0; i < n; i++) {
		bool said = false, ignored = false;
		int err;

		/*
		 * No pid for the holder: asking needs a socket in that namespace, which only a
		 * setns could give us now. Its owner comes from that namespace's sock_diag.
		 */
		while ((err = bind_lock(fds[i], name)) == -EADDRINUSE && waited < wait_ms &&
		       holder_counts(ds ? ds[i] : NULL, name, NULL, where[i], &ignored)) {
			if (!said)
				fprintf(stderr, "sockreap: waiting for another run acting in network "
						"namespace %s\n", where[i]);
			said = true;
			usleep(20 * 1000);
			waited += 20;
		}
		if (err == -EADDRINUSE && !ignored)
			fprintf(stderr, "sockreap: warning: network namespace %s: still held after "
					"%d s; acting anyway: sockets the other run kills meanwhile may "
					"be reported killed by both\n", where[i], wait_ms / 1000);
		else if (err < 0 && err != -EADDRINUSE)
			fprintf(stderr, "sockreap: warning: network namespace %s: cannot hold the run "
					"lock: %s\n", where[i], strerror(-err));
		if (err < 0)
			ret = -1;
	}
	return ret;
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

void engine_gate_init(struct engine_gate *g, size_t open)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->moved, NULL);
	g->open = open;
	g->closed = false;
}

void engine_gate_destroy(struct engine_gate *g)
{
	pthread_cond_destroy(&g->moved);
	pthread_mutex_destroy(&g->lock);
}

void engine_gate_open(struct engine_gate *g, size_t open)
{
	pthread_mutex_lock(&g->lock);
	if (open > g->open)
		g->open = open;
	pthread_cond_broadcast(&g->moved);
	pthread_mutex_unlock(&g->lock);
}

void engine_gate_close(struct engine_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->closed = true;
	pthread_cond_broadcast(&g->moved);
	pthread_mutex_unlock(&g->lock);
}

size_t engine_gate_wait(struct engine_gate *g, size_t upto)
{
	size_t open;

	pthread_mutex_lock(&g->lock);
	while (g->open < upto && !g->closed)
		pthread_cond_wait(&g->moved, &g->lock);
	open = g->open < upto ? g->open : upto;
	pthread_mutex_unlock(&g->lock);
	return open;
}

void engine_skip_unannounced(struct sock_rec *rec)
{
	rec->outcome = OUT_SKIPPED;
	rec->err = SOCK_ERR_NO_INTENT;
}

const struct engine *engine_find(const char *name)
{
	static const struct engine *const all[] = { &engine_destroy, &engine_rst, &engine_auto,
						    &engine_shutdown };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
