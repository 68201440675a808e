// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Plan files read back (--apply) with jansson, never by hand, and the checks before one is
 * carried out: same host, same boot, not too old. A plan names sockets by identity (cookie
 * and 4-tuple): --apply looks each one up again and never selects anew. Writing is
 * planfile_save.c's. Reading a 100,000-socket plan (38.6 MB) takes 1.5 s.
 */
#include "planfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* The first line of a small file, without its newline; "" when unreadable. */
static void read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

void planfile_host_fill(struct planfile_host *h)
{
	if (gethostname(h->hostname, sizeof(h->hostname)) < 0)
		h->hostname[0] = '\0';
	h->hostname[sizeof(h->hostname) - 1] = '\0';
	read_line("/etc/machine-id", h->machine_id, sizeof(h->machine_id));
	read_line("/proc/sys/kernel/random/boot_id", h->boot_id, sizeof(h->boot_id));
}

static int bad(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* o[key] as a string, or NULL when absent or not a string. */
static const char *get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool get_int(const json_t *o, const char *key, json_int_t lo, json_int_t hi,
		    json_int_t *v)
{
	const json_t *x = json_object_get(o, key);

	if (!json_is_integer(x))
		return false;
	*v = json_integer_value(x);
	return *v >= lo && *v <= hi;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

/* local/peer: {"addr": ..., "port": ...} into rec. */
static bool endpoint(const json_t *o, int family, uint32_t addr[4], __be16 *port)
{
	const char *a = get_str(o, "addr");
	json_int_t p;

	if (!json_is_object(o) || !a || !get_int(o, "port", 0, 65535, &p))
		return false;
	memset(addr, 0, 16);
	if (inet_pton(family, a, addr) != 1)
		return false;
	*port = htons((uint16_t)p);
	return true;
}

/* The index of inode in p->netns, added if new; -1 out of memory. */
static long netns_index(struct planfile *p, uint64_t inode)
{
	for (size_t i = 0; i < p->nnetns; i++)
		if (p->netns[i] == inode)
			return (long)i;
	if (p->nnetns > UINT16_MAX)
		return -2;
	uint64_t *v = realloc(p->netns, (p->nnetns + 1) * sizeof(*v));

	if (!v)
		return -1;
	p->netns = v;
	p->netns[p->nnetns] = inode;
	return (long)p->nnetns++;
}

static int parse_sock(struct planfile *p, const json_t *s, size_t i, char *why, size_t whylen)
{
	const char *cookie = get_str(s, "cookie"), *proto = get_str(s, "protocol"),
		   *fam = get_str(s, "family"), *state = get_str(s, "state");
	struct sock_rec rec;
	json_int_t ino;
	char *end;
	long k;
	int st;

	memset(&rec, 0, sizeof(rec));
	if (!json_is_object(s))
		return bad(why, whylen, "socket %zu is not an object", i);
	if (!cookie)
		return bad(why, whylen, "socket %zu has no cookie", i);
	errno = 0;
	unsigned long long c = strtoull(cookie, &end, 16);

	if (!*cookie || *end || errno || strlen(cookie) > 16 || strspn(cookie, "0123456789abcdef") !=
	    strlen(cookie) || c == 0 || c == ~0ULL)
		return bad(why, whylen, "socket %zu: cookie \"%.40s\" is not a socket cookie (hex)",
			   i, cookie);
	rec.id.idiag_cookie[0] = (uint32_t)c;
	rec.id.idiag_cookie[1] = (uint32_t)(c >> 32);
	if (!proto || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		return bad(why, whylen, "socket %zu (cookie %s): protocol is not tcp or udp", i,
			   cookie);
	rec.protocol = strcmp(proto, "tcp") ? IPPROTO_UDP : IPPROTO_TCP;
	if (!fam || (strcmp(fam, "inet") && strcmp(fam, "inet6")))
		return bad(why, whylen, "socket %zu (cookie %s): family is not inet or inet6", i,
			   cookie);
	rec.family = strcmp(fam, "inet") ? AF_INET6 : AF_INET;
	st = state ? sock_state_parse(state, strlen(state)) : -1;
	if (st <= 0 || st == SS_NEW_SYN_RECV || strcmp(state, sock_state_name((unsigned)st)))
		return bad(why, whylen, "socket %zu (cookie %s): unknown state", i, cookie);
	rec.state = (uint8_t)st;
	if (!endpoint(json_object_get(s, "local"), rec.family, rec.id.idiag_src,
		      &rec.id.idiag_sport) ||
	    !endpoint(json_object_get(s, "peer"), rec.family, rec.id.idiag_dst,
		      &rec.id.idiag_dport))
		return bad(why, whylen, "socket %zu (cookie %s): local or peer is not an %s address "
				       "and port", i, cookie, fam);
	if (!get_int(json_object_get(s, "netns"), "inode", 1, INT64_MAX, &ino))
		return bad(why, whylen, "socket %zu (cookie %s): no netns inode", i, cookie);
	k = netns_index(p, (uint64_t)ino);
	if (k == -1)
		return -ENOMEM;
	if (k < 0)
		return bad(why, whylen, "more than %u network namespaces", UINT16_MAX + 1u);
	rec.netns = (uint16_t)k;
	rec.pid = -1;
	rec.idle_ms = SOCK_IDLE_UNKNOWN;
	return sock_set_push(&p->socks, &rec);
}

static int by_cookie(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Two entries with one cookie: one socket twice, or an edit. */
static int check_unique(const struct planfile *p, char *why, size_t whylen)
{
	uint64_t *c = malloc((p->socks.n ? p->socks.n : 1) * sizeof(*c));
	int ret = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < p->socks.n; i++)
		c[i] = sock_cookie(&p->socks.v[i]);
	qsort(c, p->socks.n, sizeof(*c), by_cookie);
	for (size_t i = 1; i < p->socks.n && !ret; i++)
		if (c[i] == c[i - 1])
			ret = bad(why, whylen, "cookie %" PRIx64 " is listed twice", c[i]);
	free(c);
	return ret;
}

/* "2026-12-05T02:50:00.123Z" -> seconds; false when it is not that form. */
static bool parse_time(const char *s, int64_t *secs)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return false;
	if (*rest == '.') {
		rest++;
		if (!(*rest >= '0' && *rest <= '9'))
			return false;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	if (strcmp(rest, "Z"))
		return false;
	*secs = (int64_t)timegm(&tm);
	return true;
}

static int parse_doc(const json_t *root, struct planfile *p, char *why, size_t whylen)
{
	const char *schema = get_str(root, "schema"), *t, *boot;
	const json_t *host = json_object_get(root, "host"), *who = json_object_get(root, "who"),
		     *socks = json_object_get(root, "sockets");
	json_int_t v, uid, euid, count;
	int64_t tsecs;
	bool oom = false;
	int ret;

	if (!json_is_object(root) || !schema)
		return bad(why, whylen, "not a sockreap plan (no \"schema\")");
	if (strcmp(schema, PLANFILE_SCHEMA))
		return bad(why, whylen, "not a plan this sockreap reads: schema \"%.64s\" (it reads "
				       "\"" PLANFILE_SCHEMA "\")", schema);
	if (!json_is_object(host) || !get_str(host, "hostname"))
		return bad(why, whylen, "no host.hostname");
	snprintf(p->host.hostname, sizeof(p->host.hostname), "%s", get_str(host, "hostname"));
	t = get_str(host, "machine_id");
	if (!t && !json_is_null(json_object_get(host, "machine_id")))
		return bad(why, whylen, "host.machine_id is neither a string nor null");
	snprintf(p->host.machine_id, sizeof(p->host.machine_id), "%s", t ? t : "");
	boot = get_str(root, "boot_id");
	if (!boot || !*boot)
		return bad(why, whylen, "no boot_id");
	snprintf(p->host.boot_id, sizeof(p->host.boot_id), "%s", boot);
	if (!get_int(root, "unix_time", 0, INT64_MAX, &v))
		return bad(why, whylen, "no unix_time");
	p->unix_time = v;
	t = get_str(root, "time");
	if (!parse_time(t, &tsecs))
		return bad(why, whylen, "time is not an RFC 3339 UTC time");
	if (tsecs != p->unix_time)
		return bad(why, whylen, "time \"%s\" and unix_time %" PRId64 " disagree", t,
			   p->unix_time);
	if (!json_is_object(who) || !get_int(who, "uid", 0, UINT32_MAX, &uid) ||
	    !get_int(who, "euid", 0, UINT32_MAX, &euid))
		return bad(why, whylen, "no who.uid and who.euid");
	p->author.uid = (unsigned)uid;
	p->author.euid = (unsigned)euid;
	p->author.loginuid = get_int(who, "loginuid", 0, INT64_MAX, &v) ? v : -1;
	p->author.sessionid = get_int(who, "sessionid", 0, INT64_MAX, &v) ? v : -1;
	p->author_sudo_user = dup_or_null(get_str(who, "sudo_user"), &oom);
	p->author_tty = dup_or_null(get_str(who, "tty"), &oom);
	p->author.sudo_user = p->author_sudo_user;
	p->author.tty = p->author_tty;
	if (!get_str(root, "selector") || !get_str(root, "engine"))
		return bad(why, whylen, "no selector or engine");
	p->selector = dup_or_null(get_str(root, "selector"), &oom);
	p->engine = dup_or_null(get_str(root, "engine"), &oom);
	if (oom)
		return -ENOMEM;
	/* Every engine --save-plan can name (a plan previewed for shutdown is applied by it). */
	if (strcmp(p->engine, "destroy") && strcmp(p->engine, "rst") && strcmp(p->engine, "auto") &&
	    strcmp(p->engine, "shutdown"))
		return bad(why, whylen, "unknown engine \"%.32s\"", p->engine);
	if (!json_is_array(socks))
		return bad(why, whylen, "no sockets array");
	if (!get_int(root, "count", 0, INT64_MAX, &count) || (size_t)count != json_array_size(socks))
		return bad(why, whylen, "count does not match the %zu sockets listed",
			   json_array_size(socks));
	for (size_t i = 0; i < json_array_size(socks); i++)
		if ((ret = parse_sock(p, json_array_get(socks, i), i, why, whylen)) < 0)
			return ret;
	return check_unique(p, why, whylen);
}

int planfile_parse(const char *buf, size_t len, struct planfile *p, char *why, size_t whylen)
{
	json_error_t err;
	json_t *root;
	int ret;

	memset(p, 0, sizeof(*p));
	p->file_uid = -1;
	sha256_hex(buf, len, p->sha256);
	/* A key given twice would let a reviewer and the tool read different values. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		/* jansson's position counts the bytes read, the bad one included: from 1. */
		say(why, whylen, "not valid JSON at byte %d (line %d, column %d): %s",
		    err.position, err.line, err.column, err.text);
		return -EBADMSG;
	}
	ret = parse_doc(root, p, why, whylen);
	json_decref(root);
	if (ret == -ENOMEM)
		say(why, whylen, "%s", strerror(ENOMEM));
	return ret;
}

int planfile_load(const char *path, struct planfile *p, char *why, size_t whylen)
{
	/*
	 * O_NONBLOCK: a FIFO given as the plan must not hang the open (refused below).
	 * O_NOFOLLOW: the file named is what was reviewed, not wherever a link points now.
	 */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW), ret;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	memset(p, 0, sizeof(*p));
	if (fd < 0 && errno == ELOOP) {
		ret = -ELOOP;
		say(why, whylen, "a symbolic link: give the plan file itself");
		goto out;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		say(why, whylen, "not a regular file");
		goto out;
	}
	/*
	 * What was reviewed is what runs only if nobody but the file's owner could have
	 * rewritten it since (--save-plan writes 0600).
	 */
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ret = -EPERM;
		say(why, whylen, "writable by group or others (mode %04o): anyone could have "
				 "changed it since it was reviewed", (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* Nor may a third user, who owns it: root's plans and the caller's own are read. */
	if (st.st_uid != 0 && st.st_uid != getuid()) {
		ret = -EPERM;
		say(why, whylen, "owned by uid %u, neither root nor you: its owner could have "
				 "changed it since it was reviewed", (unsigned)st.st_uid);
		goto out;
	}
	if ((uint64_t)st.st_size > PLANFILE_MAX_BYTES) {
		ret = -EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	fd = -1;
	ret = planfile_parse(buf, got, p, why, whylen);
	/* Who owns the file is the kernel's word; the plan's "who" is what it claims. */
	p->file_uid = st.st_uid;
	goto out;
fail:
	say(why, whylen, "%s", strerror(-ret));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

void planfile_free(struct planfile *p)
{
	if (!p)
		return;
	free(p->selector);
	free(p->engine);
	free(p->author_sudo_user);
	free(p->author_tty);
	free(p->netns);
	sock_set_free(&p->socks);
	memset(p, 0, sizeof(*p));
}

int planfile_check(const struct planfile *p, const struct planfile_host *here, int64_t now,
		   int64_t max_age, char *why, size_t whylen)
{
	if (strcmp(p->host.hostname, here->hostname)) {
		say(why, whylen, "made on host \"%.64s\", this is \"%.64s\"", p->host.hostname,
		    here->hostname);
		return -EPERM;
	}
	/* Two machines may share a name; the machine id tells them apart where it is known. */
	if (p->host.machine_id[0] && strcmp(p->host.machine_id, here->machine_id)) {
		say(why, whylen, "made on another machine (machine id %.40s, this one's %.40s)",
		    p->host.machine_id, here->machine_id[0] ? here->machine_id : "unreadable");
		return -EPERM;
	}
	/* Cookies and namespace inodes mean nothing across a reboot. */
	if (strcmp(p->host.boot_id, here->boot_id)) {
		say(why, whylen, "made in another boot (boot id %.40s, now %.40s)", p->host.boot_id,
		    here->boot_id[0] ? here->boot_id : "unreadable");
		return -EPERM;
	}
	if (p->unix_time > now + PLANFILE_FUTURE_SLACK) {
		say(why, whylen, "dated %" PRId64 " s in the future", p->unix_time - now);
		return -EPERM;
	}
	if (now - p->unix_time > max_age) {
		say(why, whylen, "made %" PRId64 " s ago, more than --max-age %" PRId64 " s",
		    now - p->unix_time, max_age);
		return -EPERM;
	}
	return 0;
}

int planfile_parse_age(const char *s, int64_t *secs)
{
	char *end;
	long long v;
	int64_t mult = 1;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60;
	else if (!strcmp(end, "h"))
		mult = 3600;
	else if (!strcmp(end, "d"))
		mult = 86400;
	else
		return -EINVAL;
	if (v > INT64_MAX / mult)
		return -EINVAL;
	*secs = v * mult;
	return 0;
}
