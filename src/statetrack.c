// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The watcher's candidate set (issue 15, bench row 11): instead of a sock_diag dump, which
 * walks the whole established hash table in the kernel (17.9 ms per cycle at 100,000 healthy
 * sockets), a cycle reads the tracepoint program's map (src/bpf/statetrack.bpf.c) of sockets in
 * the watched states and asks the kernel about each by exact 4-tuple and cookie (a hash
 * lookup, inet_diag_find_one_icsk). The records go on to the pipeline exactly as a dump's would.
 *
 * Exactness: the program keeps the sockets of the namespaces in its nets map, and a namespace
 * is put there before the first look at it, so a socket of it that enters a watched state
 * afterwards is in the map; the ones already there are found by a full dump of the tracked
 * states, through a sock_diag handle in that namespace, which also seeds the map. A full dump
 * again after an overflow of the map (until one completes without an overflow) and every
 * reseed_ms, as a safety net for what no event can tell (see statetrack_collect).
 */
#include "statetrack.h"
#include "selector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>

/* The object file, placed in .rodata by the assembler (the Makefile builds it first). */
__asm__(".pushsection .rodata\n"
	".balign 8\n"
	".globl statetrack_obj_start\n"
	"statetrack_obj_start:\n"
	".incbin \"" SOCKREAP_STATETRACK_OBJ "\"\n"
	".globl statetrack_obj_end\n"
	"statetrack_obj_end:\n"
	".popsection\n");
extern const char statetrack_obj_start[], statetrack_obj_end[];

/*
 * A namespace the program watches (in its nets map): seeded when every socket of it in the
 * tracked states is in the map since at_ms; used when a collect asked about it since the last
 * statetrack_sweep.
 */
struct seeded {
	uint64_t netns;
	uint64_t at_ms;
	bool seeded, used;
};

struct statetrack {
	struct {
		uint32_t watched;	/* the program's .rodata */
	} consts;
	struct bpf_object *obj;
	struct bpf_link *link;
	int map_fd, bss_fd, nets_fd;
	uint32_t states, max_entries;
	uint64_t overflows_seen;	/* the program's count when last read */
	struct seeded *seeded;
	size_t nseeded, capseeded;
	struct statetrack_stats stats;
	/* Reused from cycle to cycle: no allocation per socket. */
	uint64_t *keys;
	struct statetrack_rec *vals;
	uint32_t chunk;
	struct sock_set cand;
};

uint32_t statetrack_rule_states(const struct sel_node *ast)
{
	static const enum sel_kind conntrack[] = { SEL_CT_STATE, SEL_NAT_ADDR, SEL_ZONE,
						   SEL_CT_TIMEOUT };
	struct sel_prefilter pf;

	if (!ast)
		return 0;
	for (size_t i = 0; i < sizeof(conntrack) / sizeof(conntrack[0]); i++)
		if (selector_uses(ast, conntrack[i]))
			return 0;
	selector_prefilter(ast, &pf);
	if (!pf.tcp || pf.udp || !pf.states || (pf.states & ~STATETRACK_STATES))
		return 0;
	return pf.states;
}

void statetrack_to_sock(const struct statetrack_rec *in, struct sock_rec *out)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)in->family;
	out->protocol = IPPROTO_TCP;
	out->state = in->state;
	out->idle_ms = SOCK_IDLE_UNKNOWN;
	out->pid = -1;
	out->id.idiag_sport = htons(in->sport);
	out->id.idiag_dport = in->dport;
	memcpy(out->id.idiag_src, in->src, sizeof(out->id.idiag_src));
	memcpy(out->id.idiag_dst, in->dst, sizeof(out->id.idiag_dst));
	/* The lookup's interface: a socket bound to a device is found only through it. */
	out->id.idiag_if = (uint32_t)in->bound_dev_if;
	out->id.idiag_cookie[0] = (uint32_t)in->cookie;
	out->id.idiag_cookie[1] = (uint32_t)(in->cookie >> 32);
}

/* The other direction, for seeding the map from a dumped record. */
static void rec_of(const struct sock_rec *in, uint64_t netns, struct statetrack_rec *out)
{
	memset(out, 0, sizeof(*out));
	out->cookie = sock_cookie(in);
	out->netns = (uint32_t)netns;
	memcpy(out->src, in->id.idiag_src, sizeof(out->src));
	memcpy(out->dst, in->id.idiag_dst, sizeof(out->dst));
	out->bound_dev_if = (int32_t)in->id.idiag_if;
	out->sport = ntohs(in->id.idiag_sport);
	out->dport = in->id.idiag_dport;
	out->family = in->family;
	out->state = in->state;
}

static int watch_netns(struct statetrack *t, uint64_t netns);

/* libbpf reports every failed probe on stderr: the caller says the one thing that matters. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int statetrack_open(struct statetrack **out, uint32_t states, uint64_t netns,
		    uint32_t max_entries, char *why, size_t size)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "sockreap_track");
	struct statetrack *t = calloc(1, sizeof(*t));
	libbpf_print_fn_t was = libbpf_set_print(quiet);
	const char *step = "open";
	struct bpf_map *rodata, *map, *bss, *nets;
	struct bpf_program *prog;
	int ret = -ENOMEM;

	*out = NULL;
	if (!t)
		goto fail;
	t->states = states & STATETRACK_STATES;
	t->consts.watched = t->states;
	t->max_entries = max_entries ? max_entries : STATETRACK_MAX_ENTRIES;
	t->chunk = 256;
	t->map_fd = t->bss_fd = t->nets_fd = -1;
	/* As taskfiles.c: the kernel BTF's big block must not raise glibc's mmap threshold. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	t->obj = bpf_object__open_mem(statetrack_obj_start,
				      (size_t)(statetrack_obj_end - statetrack_obj_start), &opts);
	if (!t->obj) {
		ret = -errno;
		goto fail;
	}
	step = "configure";
	rodata = bpf_object__find_map_by_name(t->obj, ".rodata");
	map = bpf_object__find_map_by_name(t->obj, "tracked");
	bss = bpf_object__find_map_by_name(t->obj, ".bss");
	nets = bpf_object__find_map_by_name(t->obj, "nets");
	ret = rodata && map && bss && nets ? 0 : -ENOENT;
	if (!ret)
		ret = bpf_map__set_initial_value(rodata, &t->consts, sizeof(t->consts));
	if (!ret)
		ret = bpf_map__set_max_entries(map, t->max_entries);
	if (ret < 0)
		goto fail;
	step = "load";
	ret = bpf_object__load(t->obj);
	if (ret < 0)
		goto fail;
	step = "attach";
	prog = bpf_object__find_program_by_name(t->obj, "statetrack");
	t->link = prog ? bpf_program__attach(prog) : NULL;
	if (!t->link) {
		ret = prog ? -errno : -ENOENT;
		goto fail;
	}
	t->map_fd = bpf_map__fd(map);
	t->bss_fd = bpf_map__fd(bss);
	t->nets_fd = bpf_map__fd(nets);
	t->keys = malloc(t->chunk * sizeof(*t->keys));
	t->vals = malloc(t->chunk * sizeof(*t->vals));
	ret = t->keys && t->vals ? 0 : -ENOMEM;
	if (!ret && netns)
		ret = watch_netns(t, netns);
	if (ret < 0)
		goto fail;
	libbpf_set_print(was);
	*out = t;
	return 0;
fail:
	libbpf_set_print(was);
	statetrack_close(t);
	snprintf(why, size, "cannot %s the BPF state tracker on sock:inet_sock_set_state: "
				    "%s%s", step, strerror(-ret),
			 ret == -EPERM ? " (needs CAP_BPF and CAP_PERFMON)" : "");
	return ret;
}

void statetrack_close(struct statetrack *t)
{
	if (!t)
		return;
	bpf_link__destroy(t->link);
	bpf_object__close(t->obj);
	free(t->seeded);
	free(t->keys);
	free(t->vals);
	sock_set_free(&t->cand);
	free(t);
}

uint32_t statetrack_states(const struct statetrack *t)
{
	return t->states;
}

void statetrack_get_stats(const struct statetrack *t, struct statetrack_stats *s)
{
	*s = t->stats;
	s->namespaces = t->nseeded;
}

/* The program's overflow count (its .bss holds that variable alone). */
static uint64_t overflows_now(const struct statetrack *t)
{
	uint32_t zero = 0;
	uint64_t v = 0;

	/* Unreadable: count one, so that the caller dumps rather than trusts the map. */
	if (bpf_map_lookup_elem(t->bss_fd, &zero, &v) < 0)
		return t->overflows_seen + 1;
	return v;
}

static struct seeded *find_seeded(struct statetrack *t, uint64_t netns)
{
	for (size_t i = 0; i < t->nseeded; i++)
		if (t->seeded[i].netns == netns)
			return &t->seeded[i];
	return NULL;
}

static void mark_seeded(struct statetrack *t, uint64_t netns, uint64_t now_ms)
{
	struct seeded *s = find_seeded(t, netns);

	/* Not watched any more (cannot be: only a sweep drops one): the next collect dumps. */
	if (!s)
		return;
	s->seeded = true;
	s->at_ms = now_ms;
}

/*
 * Takes the map's entries of netns out: a namespace no longer watched holds no space, and one
 * watched again starts from its seeding dump, not from entries the program stopped keeping
 * up to date while it was not watched. Keys first, then the deletes: a hash map's walk
 * restarts when the key it stands on goes.
 */
static int purge_netns(struct statetrack *t, uint64_t netns)
{
	uint64_t key, next, *del = NULL;
	size_t n = 0, cap = 0;
	struct statetrack_rec v;
	int ret = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(t->map_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(t->map_fd, &key, &v) < 0 || v.netns != (uint32_t)netns)
			continue;
		if (n == cap) {
			size_t c = cap ? 2 * cap : 64;
			uint64_t *d = realloc(del, c * sizeof(*d));

			if (!d) {
				ret = -ENOMEM;
				break;
			}
			del = d;
			cap = c;
		}
		del[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(t->map_fd, &del[i]);
	free(del);
	return ret;
}

/*
 * The program keeps netns's sockets from now on (its nets map), from an empty slate: not
 * seeded until a dump has seeded it. 0, or a negative errno (-E2BIG: as many namespaces as
 * the program can watch already).
 */
static int watch_netns(struct statetrack *t, uint64_t netns)
{
	uint32_t key = (uint32_t)netns;
	uint8_t one = 1;
	struct seeded *s;
	int ret;

	if (t->nseeded == t->capseeded) {
		size_t cap = t->capseeded ? 2 * t->capseeded : 4;
		struct seeded *v = realloc(t->seeded, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->seeded = v;
		t->capseeded = cap;
	}
	ret = purge_netns(t, netns);
	if (!ret && bpf_map_update_elem(t->nets_fd, &key, &one, BPF_ANY) < 0)
		ret = -errno;
	if (ret < 0)
		return ret;
	s = &t->seeded[t->nseeded++];
	*s = (struct seeded){ netns, 0, false, true };
	return 0;
}

void statetrack_sweep(struct statetrack *t)
{
	size_t k = 0;

	for (size_t i = 0; i < t->nseeded; i++) {
		struct seeded *s = &t->seeded[i];
		uint32_t key = (uint32_t)s->netns;

		if (s->used) {
			s->used = false;
			t->seeded[k++] = *s;
			continue;
		}
		/* First out of nets: the purge then finds nothing the program adds after it. */
		bpf_map_delete_elem(t->nets_fd, &key);
		purge_netns(t, s->netns);
	}
	t->nseeded = k;
}

struct seed_run {
	struct statetrack *t;
	uint64_t netns;
	uint32_t states;
	bool full;		/* an insert found the map full */
	size_t kept;
	diag_sock_cb keep;
	void *arg;
};

static int seed_one(const struct sock_rec *rec, void *arg)
{
	struct seed_run *s = arg;
	struct statetrack_rec v;
	uint64_t key = sock_cookie(rec);

	rec_of(rec, s->netns, &v);
	/* What the program put there since it was attached is newer: left as it is. */
	if (bpf_map_update_elem(s->t->map_fd, &key, &v, BPF_NOEXIST) < 0 && errno != EEXIST) {
		s->full = true;
		s->t->stats.overflows++;
	}
	if (!(SS_BIT(rec->state) & s->states))
		return 0;
	s->kept++;
	return s->keep(rec, s->arg);
}

/*
 * The full dump of the tracked states: each socket into the map, and the ones in states to
 * keep. The namespace counts as seeded only when every insert fitted and the program counted
 * no overflow meanwhile: then every socket in a tracked state is in the map, by the dump (if it
 * was there before the walk passed it) or by the program (if it entered it later).
 */
static int seed(struct statetrack *t, struct diag *d, uint64_t netns, uint32_t states,
		uint64_t now_ms, bool no_info, diag_sock_cb keep, void *arg)
{
	struct seed_run s = { t, netns, states, false, 0, keep, arg };
	struct diag_filter flt = { AF_UNSPEC, IPPROTO_TCP, t->states, NULL, 0, no_info };
	uint64_t before = overflows_now(t);
	int ret;

	t->stats.dumps++;
	/* Both families in one walk of the table; a kernel that refuses it gets two. */
	ret = diag_dump(d, &flt, seed_one, &s);
	if ((ret == -EINVAL || ret == -EOPNOTSUPP) && !s.kept) {
		flt.family = AF_INET;
		ret = diag_dump(d, &flt, seed_one, &s);
		flt.family = AF_INET6;
		if (!ret)
			ret = diag_dump(d, &flt, seed_one, &s);
	}
	if (!ret && !s.full && overflows_now(t) == before)
		mark_seeded(t, netns, now_ms);
	return ret;
}

static int cand_push(struct statetrack *t, const struct statetrack_rec *v)
{
	struct sock_rec rec;

	statetrack_to_sock(v, &rec);
	return sock_set_push(&t->cand, &rec);
}

/* The map's entries of netns in states, into t->cand. */
static int read_map(struct statetrack *t, uint64_t netns, uint32_t states)
{
	uint64_t token = 0;
	bool first = true;

	t->cand.n = 0;
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		uint32_t count = t->chunk;
		int ret = bpf_map_lookup_batch(t->map_fd, first ? NULL : &token, &token, t->keys,
					       t->vals, &count, &o);

		ret = ret < 0 ? -errno : 0;
		/* A bucket holds more than a chunk: a bigger one. */
		if (ret == -ENOSPC && !count && t->chunk < t->max_entries) {
			uint32_t chunk = t->chunk * 2;
			uint64_t *k = realloc(t->keys, chunk * sizeof(*k));
			struct statetrack_rec *v;

			if (k)
				t->keys = k;
			v = k ? realloc(t->vals, chunk * sizeof(*v)) : NULL;
			if (!v)
				return -ENOMEM;
			t->vals = v;
			t->chunk = chunk;
			continue;
		}
		if (ret < 0 && ret != -ENOENT)
			return ret;
		for (uint32_t i = 0; i < count; i++) {
			if (t->vals[i].netns != (uint32_t)netns ||
			    !(SS_BIT(t->vals[i].state & 31) & states))
				continue;
			if (cand_push(t, &t->vals[i]) < 0)
				return -ENOMEM;
		}
		if (ret == -ENOENT)
			return 0;
		first = false;
	}
}

/* Each candidate by an exact get with its cookie; the ones still there to keep. */
static int lookup_cands(struct statetrack *t, struct diag *d, bool no_info, diag_sock_cb keep,
			void *arg)
{
	struct sock_rec *got = malloc(DIAG_BATCH * sizeof(*got)), *ptr[DIAG_BATCH];
	bool present[DIAG_BATCH];
	int ret = got ? 0 : -ENOMEM;

	for (size_t i = 0; i < t->cand.n && !ret;) {
		size_t m = 0;

		for (; i < t->cand.n && m < DIAG_BATCH; i++)
			ptr[m++] = &t->cand.v[i];
		t->stats.gets += m;
		ret = diag_get_batch(d, ptr, m, no_info, present, got);
		for (size_t j = 0; j < m && !ret; j++) {
			uint64_t key = sock_cookie(ptr[j]);

			/*
			 * Not there under its cookie: closed, its 4-tuple maybe reused by another
			 * (that one has its own entry). A cookie is never given twice: it goes.
			 */
			if (!present[j])
				bpf_map_delete_elem(t->map_fd, &key);
			else
				ret = keep(&got[j], arg);
		}
	}
	free(got);
	return ret;
}

static uint64_t netns_here(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) < 0 ? 0 : (uint64_t)st.st_ino;
}

/*
 * What no event can tell, and so what the reseed every reseed_ms is for: a socket that
 * reconnects (connect after a disconnect keeps its cookie) and enters a watched state again
 * between our read of its old entry and our delete of it as gone. The program's own view
 * needs no safety net otherwise: every state change of a full TCP socket goes through
 * tcp_set_state or inet_sk_set_state, and both report it.
 */
int statetrack_collect(struct statetrack *t, struct diag *d, uint64_t netns, uint32_t states,
		       uint64_t now_ms, uint64_t reseed_ms, bool no_info, diag_sock_cb keep,
		       void *arg)
{
	uint64_t over = overflows_now(t);
	struct seeded *s;
	int ret;

	if (!netns)
		netns = netns_here();
	if (!netns)
		return -ENOENT;
	states &= t->states;
	/* An overflow lost an entry of some namespace: each dumps again. */
	if (over != t->overflows_seen) {
		if (over > t->overflows_seen)
			t->stats.overflows += over - t->overflows_seen;
		t->overflows_seen = over;
		for (size_t i = 0; i < t->nseeded; i++)
			t->seeded[i].seeded = false;
	}
	s = find_seeded(t, netns);
	/* New to the tracker: watched from now on, then seeded by the dump below. */
	if (!s) {
		ret = watch_netns(t, netns);
		if (ret == -E2BIG)
			return 1;
		if (ret < 0)
			return ret;
		s = find_seeded(t, netns);
	}
	s->used = true;
	if (!s->seeded || now_ms - s->at_ms >= reseed_ms)
		return seed(t, d, netns, states, now_ms, no_info, keep, arg);
	t->stats.lookups++;
	ret = read_map(t, netns, states);
	t->stats.candidates = t->cand.n;
	if (!ret)
		ret = lookup_cands(t, d, no_info, keep, arg);
	return ret;
}
