// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --group-by: "which process, which peer, how many?" in one pass over the selected records.
 * Each record's key values are written as one byte string, hashed, and counted in an
 * open-addressing map (hashmap.c): no per-socket allocation, no O(n^2); then one sort of the
 * groups.
 */
#include "groupby.h"
#include "cgroup.h"
#include "hashmap.h"
#include "json.h"
#include "text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const key_names[GB_NKEYS] = {
	[GB_STATE] = "state", [GB_PID] = "pid",     [GB_COMM] = "comm",   [GB_LOCAL] = "local",
	[GB_PEER] = "peer",   [GB_DPORT] = "dport", [GB_SPORT] = "sport", [GB_UID] = "uid",
	[GB_UNIT] = "unit",   [GB_NETNS] = "netns",
};

static const char *const key_headers[GB_NKEYS] = {
	[GB_STATE] = "STATE", [GB_PID] = "PID",     [GB_COMM] = "COMM",   [GB_LOCAL] = "LOCAL",
	[GB_PEER] = "PEER",   [GB_DPORT] = "DPORT", [GB_SPORT] = "SPORT", [GB_UID] = "UID",
	[GB_UNIT] = "UNIT",   [GB_NETNS] = "NETNS",
};

const char *groupby_key_name(unsigned key)
{
	return key < GB_NKEYS ? key_names[key] : NULL;
}

const char *groupby_key_list(void)
{
	return "state, pid, comm, local, peer, dport, sport, uid, unit, netns";
}

int groupby_parse(const char *arg, struct groupby_spec *spec, char *msg, size_t size)
{
	const char *p = arg;

	spec->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		unsigned k = GB_NKEYS;

		for (unsigned i = 0; i < GB_NKEYS; i++)
			if (strlen(key_names[i]) == len && !strncasecmp(p, key_names[i], len))
				k = i;
		if (k == GB_NKEYS) {
			char shown[256];

			if (!len) {
				text_escape(shown, sizeof(shown), arg, strlen(arg));
				snprintf(msg, size, "empty key in \"%s\" (keys: %s)", shown,
					 groupby_key_list());
				return -EINVAL;
			}
			text_escape(shown, sizeof(shown), p, len);
			snprintf(msg, size, "unknown key \"%s\" (keys: %s)", shown,
				 groupby_key_list());
			return -EINVAL;
		}
		for (size_t i = 0; i < spec->n; i++)
			if (spec->k[i] == k) {
				snprintf(msg, size, "key \"%s\" given twice", key_names[k]);
				return -EINVAL;
			}
		spec->k[spec->n++] = (uint8_t)k;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

bool groupby_needs_owners(const struct groupby_spec *spec)
{
	for (size_t i = 0; i < spec->n; i++)
		if (spec->k[i] == GB_PID || spec->k[i] == GB_COMM)
			return true;
	return false;
}

/*
 * Key bytes of one record, built in place: each key's text is at most a 255-byte name (unit,
 * netns), so ten keys always fit.
 */
struct kbuf {
	char b[GROUPBY_MAX_KEYS * (NAME_MAX + 3) + 64];
	size_t len;
};

/* One key: tag ('=' a value, '-' none, '?' unknown), the text, NUL. */
static void put(struct kbuf *k, char tag, const char *text, size_t len)
{
	if (k->len + len + 2 > sizeof(k->b))
		return; /* cannot happen (see struct kbuf); a shorter key rather than an overrun */
	k->b[k->len++] = tag;
	memcpy(k->b + k->len, text, len);
	k->len += len;
	k->b[k->len++] = '\0';
}

static void put_str(struct kbuf *k, const char *text)
{
	put(k, '=', text, strlen(text));
}

static void put_num(struct kbuf *k, uint64_t v)
{
	char t[24];

	put(k, '=', t, (size_t)snprintf(t, sizeof(t), "%" PRIu64, v));
}

/* Owner unknown: not looked up, or none known where there may be some (as output.c). */
static bool owner_unknown(const struct sock_rec *rec, const struct sel_owner_ctx *owners)
{
	if (rec->pid < 0 || !owners)
		return true;
	return rec->pid == 0 && owners->incomplete && owners->incomplete(owners->arg, rec);
}

static void put_netns(struct kbuf *k, const struct netns_info *ns)
{
	char t[32];

	if (!ns)
		put(k, '?', "", 0);
	else if (ns->name[0])
		put_str(k, ns->name);
	else
		put(k, '=', t, (size_t)snprintf(t, sizeof(t), "ino:%" PRIu64, ns->inode));
}

static void record_key(struct kbuf *k, const struct groupby_spec *spec, const struct sock_rec *rec,
		       const struct groupby_env *env)
{
	char t[INET6_ADDRSTRLEN + 16];
	struct sel_owner_info o;

	k->len = 0;
	for (size_t i = 0; i < spec->n; i++) {
		switch (spec->k[i]) {
		case GB_STATE:
			put_str(k, sock_state_name(rec->state));
			break;
		case GB_PID:
		case GB_COMM:
			/* Several owners: the lowest pid counts it (DESIGN: the table shows it). */
			if (selector_ownerless(rec))
				put(k, '-', "", 0);
			else if (rec->pid > 0 && spec->k[i] == GB_PID)
				put_num(k, (uint64_t)rec->pid);
			else if (rec->pid > 0 && env->owners &&
				 env->owners->owner(env->owners->arg, rec, 0, &o) && o.comm)
				put_str(k, o.comm);
			else if (rec->pid > 0 || owner_unknown(rec, env->owners))
				put(k, '?', "", 0);
			else
				put(k, '-', "", 0);
			break;
		case GB_LOCAL:
			put(k, '=', t, (size_t)sock_format_endpoint(t, sizeof(t), rec->family,
								   rec->id.idiag_src,
								   sock_sport(rec)));
			break;
		case GB_PEER:
			put(k, '=', t, (size_t)sock_format_addr(t, sizeof(t), rec->family,
							       rec->id.idiag_dst));
			break;
		case GB_DPORT:
			put_num(k, sock_dport(rec));
			break;
		case GB_SPORT:
			put_num(k, sock_sport(rec));
			break;
		case GB_UID:
			/* The kernel says 0 for sockets without a file: not root's. */
			if (selector_ownerless(rec))
				put(k, '-', "", 0);
			else
				put_num(k, rec->uid);
			break;
		case GB_UNIT: {
			/*
			 * TIME_WAIT and request sockets belong to no cgroup; any other socket
			 * does (the root's id is 1), so id 0 is one the kernel did not report.
			 */
			const char *u = selector_ownerless(rec)		 ? ""
					: !rec->cgroup_id || !env->unit ? NULL
					: env->unit(env->unit_arg, rec->cgroup_id);

			if (!u)
				put(k, '?', "", 0);
			else if (!*u)
				put(k, '-', "", 0);
			else
				put_str(k, u);
			break;
		}
		case GB_NETNS:
			put_netns(k, env->visited ? rec->netns < env->visited->n
							    ? &env->visited->v[rec->netns]
							    : NULL
						  : env->here);
			break;
		}
	}
}

/* FNV-1a, then never 0 (the map's empty slot). */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

static uint64_t next_hash(uint64_t h)
{
	h = h * 0x9e3779b97f4a7c15ULL + 1;
	return h ? h : 1;
}

static int add_group(struct groupby_result *res, const struct kbuf *k)
{
	if (res->n == res->cap) {
		size_t cap = res->cap ? 2 * res->cap : 64;
		struct groupby_group *v = realloc(res->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		res->v = v;
		res->cap = cap;
	}
	if (res->keys_len + k->len > res->keys_cap) {
		size_t cap = res->keys_cap ? 2 * res->keys_cap : 4096;

		while (cap < res->keys_len + k->len)
			cap *= 2;
		char *b = realloc(res->keys, cap);

		if (!b)
			return -ENOMEM;
		res->keys = b;
		res->keys_cap = cap;
	}
	memcpy(res->keys + res->keys_len, k->b, k->len);
	res->v[res->n++] = (struct groupby_group){ res->keys_len, (uint32_t)k->len, 0,
						   SOCK_IDLE_UNKNOWN };
	res->keys_len += k->len;
	return 0;
}

static void count_in(struct groupby_group *g, const struct sock_rec *rec)
{
	g->count++;
	if (rec->idle_ms != SOCK_IDLE_UNKNOWN &&
	    (g->max_idle_ms == SOCK_IDLE_UNKNOWN || rec->idle_ms > g->max_idle_ms))
		g->max_idle_ms = rec->idle_ms;
}

/* qsort_r's context: the key bytes the groups point into. */
static int group_cmp(const void *a, const void *b, void *arg)
{
	const struct groupby_group *x = a, *y = b;
	const char *keys = arg;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(keys + x->off, keys + y->off, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

int groupby_run(struct groupby_result *res, const struct groupby_spec *spec,
		const struct sock_set *set, const struct groupby_env *env)
{
	struct hashmap map;
	struct kbuf *k = malloc(sizeof(*k));
	int ret = -ENOMEM;

	memset(res, 0, sizeof(*res));
	res->spec = *spec;
	res->max_idle_ms = SOCK_IDLE_UNKNOWN;
	if (!k)
		return -ENOMEM;
	/* Sized for every record its own group: the map never fills. */
	if (hashmap_init(&map, set->n) < 0) {
		free(k);
		return -ENOMEM;
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct sock_rec *rec = &set->v[i];
		uint64_t h;
		uint32_t at;

		record_key(k, spec, rec, env);
		/* A 64-bit collision of two different keys: the next hash along, compared again. */
		for (h = hash_bytes(k->b, k->len);; h = next_hash(h)) {
			if (!hashmap_get(&map, h, &at)) {
				at = (uint32_t)res->n;
				if (add_group(res, k) < 0 || hashmap_put(&map, h, at) < 0)
					goto fail;
				break;
			}
			if (res->v[at].len == k->len && !memcmp(res->keys + res->v[at].off, k->b, k->len))
				break;
		}
		count_in(&res->v[at], rec);
		if (rec->idle_ms != SOCK_IDLE_UNKNOWN &&
		    (res->max_idle_ms == SOCK_IDLE_UNKNOWN || rec->idle_ms > res->max_idle_ms))
			res->max_idle_ms = rec->idle_ms;
		res->total++;
	}
	if (res->n)
		qsort_r(res->v, res->n, sizeof(*res->v), group_cmp, res->keys);
	ret = 0;
	goto out;
fail:
	groupby_free(res);
	res->spec = *spec;
out:
	hashmap_free(&map);
	free(k);
	return ret;
}

void groupby_free(struct groupby_result *res)
{
	if (!res)
		return;
	free(res->v);
	free(res->keys);
	res->v = NULL;
	res->keys = NULL;
	res->n = res->cap = res->keys_len = res->keys_cap = res->total = 0;
}

/* The i-th key's tag and text in group g. */
static const char *key_at(const struct groupby_result *res, const struct groupby_group *g,
			  size_t i, char *tag)
{
	const char *p = res->keys + g->off;

	while (i--)
		p += strlen(p) + 1;
	*tag = p[0];
	return p + 1;
}

const char *groupby_value(const struct groupby_result *res, const struct groupby_group *g,
			  size_t i, char *buf, size_t size, bool escape)
{
	char tag;
	const char *v = key_at(res, g, i, &tag);

	if (tag != '=')
		snprintf(buf, size, "%c", tag);
	else if (escape)
		text_escape(buf, size, v, strlen(v));
	else
		snprintf(buf, size, "%s", v);
	return buf;
}

/* One table line, cut at cols (0: never) with ">" at the edge, never inside a character. */
static void put_line(FILE *f, char *buf, size_t len, int cols)
{
	while (len && buf[len - 1] == ' ')
		len--;
	if (cols > 0 && text_columns(buf, len) > (size_t)cols) {
		size_t n = len;

		while (n && text_columns(buf, n) > (size_t)cols - 1)
			n--;
		while (n && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
		len = n;
		buf[len++] = '>';
	}
	fwrite(buf, 1, len, f);
	fputc('\n', f);
}

/* Appends text padded to width columns (right-aligned if right), then two spaces. */
static size_t cell(char *buf, size_t len, size_t size, const char *text, size_t width, bool right)
{
	size_t n = strlen(text), cols = text_columns(text, n);
	size_t pad = width > cols ? width - cols : 0;

	if (len + n + pad + 2 >= size)
		return len;
	if (right) {
		memset(buf + len, ' ', pad);
		len += pad;
	}
	memcpy(buf + len, text, n);
	len += n;
	if (!right) {
		memset(buf + len, ' ', pad);
		len += pad;
	}
	buf[len++] = ' ';
	buf[len++] = ' ';
	return len;
}

enum { LINE_MAX_BYTES = GROUPBY_MAX_KEYS * 4 * 256 + 128 };

static void idle_text(char *buf, size_t size, uint32_t ms)
{
	sock_format_duration(buf, size, ms);
}

void groupby_table(FILE *f, const struct groupby_result *res, int rows, int cols)
{
	size_t w[GROUPBY_MAX_KEYS], wc = strlen("COUNT"), wi = strlen("MAX-IDLE");
	size_t shown = res->n, len;
	char *line = malloc(LINE_MAX_BYTES), v[4 * 256 + 8], num[32];

	if (!line)
		return;
	/* Taller than the screen: header, the first groups, "... more", the total line. */
	if (rows > 0 && res->n + 2 > (size_t)rows) {
		shown = rows > 5 ? (size_t)rows - 3 : 2;
		if (shown > res->n)
			shown = res->n;
	}
	for (size_t i = 0; i < res->spec.n; i++)
		w[i] = strlen(key_headers[res->spec.k[i]]);
	snprintf(num, sizeof(num), "%zu", res->total);
	if (strlen(num) > wc)
		wc = strlen(num);
	for (size_t g = 0; g < shown; g++)
		for (size_t i = 0; i < res->spec.n; i++) {
			groupby_value(res, &res->v[g], i, v, sizeof(v), true);
			if (text_columns(v, strlen(v)) > w[i])
				w[i] = text_columns(v, strlen(v));
		}
	len = cell(line, 0, LINE_MAX_BYTES, "COUNT", wc, true);
	len = cell(line, len, LINE_MAX_BYTES, "MAX-IDLE", wi, true);
	for (size_t i = 0; i < res->spec.n; i++)
		len = cell(line, len, LINE_MAX_BYTES, key_headers[res->spec.k[i]], w[i], false);
	put_line(f, line, len, cols);
	for (size_t g = 0; g < shown; g++) {
		snprintf(num, sizeof(num), "%zu", res->v[g].count);
		len = cell(line, 0, LINE_MAX_BYTES, num, wc, true);
		idle_text(num, sizeof(num), res->v[g].max_idle_ms);
		len = cell(line, len, LINE_MAX_BYTES, num, wi, true);
		for (size_t i = 0; i < res->spec.n; i++)
			len = cell(line, len, LINE_MAX_BYTES,
				   groupby_value(res, &res->v[g], i, v, sizeof(v), true), w[i], false);
		put_line(f, line, len, cols);
	}
	if (shown < res->n) {
		size_t rest = 0;

		for (size_t g = shown; g < res->n; g++)
			rest += res->v[g].count;
		len = (size_t)snprintf(line, LINE_MAX_BYTES,
				       "... %zu more group%s (%zu socket%s); --json or a pipe shows all",
				       res->n - shown, res->n - shown == 1 ? "" : "s", rest,
				       rest == 1 ? "" : "s");
		put_line(f, line, len, cols);
	}
	snprintf(num, sizeof(num), "%zu", res->total);
	len = cell(line, 0, LINE_MAX_BYTES, num, wc, true);
	idle_text(num, sizeof(num), res->max_idle_ms);
	len = cell(line, len, LINE_MAX_BYTES, num, wi, true);
	snprintf(v, sizeof(v), "total, %zu group%s", res->n, res->n == 1 ? "" : "s");
	len = cell(line, len, LINE_MAX_BYTES, v, 0, false);
	put_line(f, line, len, cols);
	free(line);
}

void groupby_json(struct json *j, const struct groupby_result *res)
{
	json_arr_begin(j, "group_by");
	for (size_t i = 0; i < res->spec.n; i++)
		json_str(j, NULL, key_names[res->spec.k[i]]);
	json_arr_end(j);
	json_arr_begin(j, "groups");
	for (size_t g = 0; g < res->n; g++) {
		json_obj_begin(j, NULL);
		for (size_t i = 0; i < res->spec.n; i++) {
			char tag;
			const char *v = key_at(res, &res->v[g], i, &tag);

			/* Unknown is null (as owners: null); none is "-", as the table shows it. */
			if (tag == '?')
				json_put_null(j, key_names[res->spec.k[i]]);
			else
				json_str(j, key_names[res->spec.k[i]], tag == '-' ? "-" : v);
		}
		json_uint(j, "count", res->v[g].count);
		if (res->v[g].max_idle_ms == SOCK_IDLE_UNKNOWN)
			json_put_null(j, "oldest_idle_ms");
		else
			json_uint(j, "oldest_idle_ms", res->v[g].max_idle_ms);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static int count_one(uint64_t id, const char *path, void *arg)
{
	(void)id;
	(void)path;
	(*(size_t *)arg)++;
	return 0;
}

static int add_unit(uint64_t id, const char *path, void *arg)
{
	struct groupby_units *u = arg;
	char unit[NAME_MAX + 1];
	size_t n = strlen(cgroup_path_unit(path, unit, sizeof(unit))) + 1;

	if (u->len + n > u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 4096;
		char *b;

		while (cap < u->len + n)
			cap *= 2;
		if (!(b = realloc(u->names, cap)))
			return -ENOMEM;
		u->names = b;
		u->cap = cap;
	}
	memcpy(u->names + u->len, unit, n);
	/* More cgroups than counted (made since): the map, sized for twice as many, has room. */
	if (hashmap_put(u->map, id, (uint32_t)u->len) < 0)
		return 0;
	u->len += n;
	return 0;
}

int groupby_units_load(struct groupby_units *u, const char *root)
{
	char dir[PATH_MAX];
	size_t n = 0;
	int ret;

	memset(u, 0, sizeof(*u));
	if (!root) {
		ret = cgroup_root(NULL, dir, sizeof(dir));
		if (ret < 0)
			return ret;
		root = dir;
	}
	ret = cgroup_each(root, count_one, &n);
	if (ret < 0)
		return ret;
	u->map = malloc(sizeof(*u->map));
	if (!u->map || hashmap_init(u->map, 2 * n + 16) < 0) {
		free(u->map);
		u->map = NULL;
		return -ENOMEM;
	}
	ret = cgroup_each(root, add_unit, u);
	if (ret < 0)
		groupby_units_free(u);
	return ret;
}

const char *groupby_unit_of(void *arg, uint64_t cgroup_id)
{
	const struct groupby_units *u = arg;
	uint32_t at;

	if (!u || !u->map || !hashmap_get(u->map, cgroup_id, &at))
		return NULL;
	return u->names + at;
}

void groupby_units_free(struct groupby_units *u)
{
	if (!u)
		return;
	if (u->map)
		hashmap_free(u->map);
	free(u->map);
	free(u->names);
	memset(u, 0, sizeof(*u));
}
