// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One-pass discovery: the TCP socket files of every task in every network namespace, read
 * from the BPF iterator (src/bpf/taskfiles.bpf.c), and the proof that decides, per
 * namespace, whether they are all of its sockets a dump would find.
 *
 * The proof rests on the kernel's own count: sock_prot_inuse_add() runs when a full socket
 * is hashed (inet_hash for listeners, inet_ehash_nolisten for the rest) and unhashed
 * (inet_unhash), per namespace and protocol (tcp_prot, tcpv6_prot), and /proc/net/sockstat
 * shows it as "TCP: inuse N". A TIME_WAIT socket takes over from a full one that is then
 * unhashed, and request sockets are never counted: neither is in the count, and neither has
 * a file. So when the distinct sockets seen with a file in a hashed state (not CLOSE) equal
 * the count, no hashed socket lacks a file: none sits in an accept queue, none is an orphan.
 *
 * The count is read before the pass and after it, and both must agree. What that cannot
 * rule out: during the pass (milliseconds), one socket with a file hashed and another
 * unhashed where a socket without a file sits, balancing exactly; that socket is then missed
 * for this run, as one that changes state just after a dump is.
 */
#include "nsdisc.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int nsdisc_parse_inuse(const char *text, const char *proto, uint64_t *n)
{
	size_t len = strlen(proto);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		char *end;

		if (strncmp(line, proto, len) || line[len] != ':')
			continue;
		line += len + 1;
		while (*line == ' ')
			line++;
		if (strncmp(line, "inuse ", 6))
			return -EINVAL;
		line += 6;
		if (*line < '0' || *line > '9')
			return -EINVAL;
		errno = 0;
		unsigned long long v = strtoull(line, &end, 10);

		if (errno || (*end != ' ' && *end != '\n' && *end))
			return -EINVAL;
		*n = v;
		return 0;
	}
	return -EINVAL;
}

/* The whole file again from its start: the descriptor keeps its namespace. */
static int read_count(int fd, const char *proto, uint64_t *n)
{
	char buf[1024];
	ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);

	if (got < 0)
		return -errno;
	buf[got] = '\0';
	return nsdisc_parse_inuse(buf, proto, n);
}

int nsdisc_read_inuse(int fd4, int fd6, struct nsdisc_inuse *out)
{
	int ret;

	out->known = false;
	ret = read_count(fd4, "TCP", &out->n[0]);
	if (!ret)
		ret = read_count(fd6, "TCP6", &out->n[1]);
	out->known = !ret;
	return ret;
}

/*
 * FIN_WAIT_2 too: an orphan that reaches it is handed to a TIME_WAIT socket in that
 * substate (tcp_time_wait), which a dump lists as fin-wait-2, and which no count holds.
 */
bool nsdisc_states_provable(uint32_t states)
{
	return !(states & (SS_BIT(SS_TIME_WAIT) | SS_BIT(SS_SYN_RECV) | SS_BIT(SS_NEW_SYN_RECV) |
			   SS_BIT(SS_CLOSE) | SS_BIT(SS_FIN_WAIT2)));
}

static int cmp_sock(const void *a, const void *b)
{
	const struct nsdisc_sock *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct taskfiles_tcp *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Sorts v[0, *n) of size-byte elements and keeps the first of each run of equals. */
static void sort_unique(void *v, size_t *n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = v;
	size_t k = 0;

	if (!*n)
		return;
	qsort(v, *n, size, cmp);
	for (size_t i = 1; i < *n; i++)
		if (cmp(b + k * size, b + i * size))
			memcpy(b + ++k * size, b + i * size, size);
	*n = k + 1;
}

/* Room for one more element in *v (cap *cap); false: out of memory. */
static bool grow(void **v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 1024;
	void *nv = realloc(*v, c * size);

	if (!nv)
		return false;
	*v = nv;
	*cap = c;
	return true;
}

static int keep(struct nsdisc *d, const struct taskfiles_tcp *t, uint32_t states)
{
	if (!grow((void **)&d->all, d->n, &d->cap, sizeof(*d->all)))
		return -ENOMEM;
	d->all[d->n++] = (struct nsdisc_sock){ t->inode, t->netns, t->family, t->state, 0 };
	if (t->state >= 32 || !(SS_BIT(t->state) & states))
		return 0;
	if (!grow((void **)&d->cand, d->ncand, &d->capcand, sizeof(*d->cand)))
		return -ENOMEM;
	d->cand[d->ncand++] = *t;
	return 0;
}

int nsdisc_read(struct nsdisc *d, int fd, uint32_t states)
{
	struct taskfiles_tcp buf[256];
	size_t have = 0; /* bytes in buf, the start of a record a read ended inside included */

	for (;;) {
		ssize_t got = read(fd, (char *)buf + have, sizeof(buf) - have);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!got)
			break;
		have += (size_t)got;
		size_t whole = have / sizeof(buf[0]);

		for (size_t i = 0; i < whole; i++)
			if (keep(d, &buf[i], states) < 0)
				return -ENOMEM;
		have -= whole * sizeof(buf[0]);
		memmove(buf, buf + whole, have);
	}
	if (have)
		return -EPROTO;
	sort_unique(d->all, &d->n, sizeof(*d->all), cmp_sock);
	sort_unique(d->cand, &d->ncand, sizeof(*d->cand), cmp_rec);
	return 0;
}

void nsdisc_free(struct nsdisc *d)
{
	if (!d)
		return;
	free(d->all);
	free(d->cand);
	memset(d, 0, sizeof(*d));
}

static uint32_t sock_netns(const void *e)
{
	return ((const struct nsdisc_sock *)e)->netns;
}

static uint32_t rec_netns(const void *e)
{
	return ((const struct taskfiles_tcp *)e)->netns;
}

/* The range of netns in v[0, n) of size-byte elements, sorted by namespace first. */
static void range(const void *v, size_t n, size_t size, uint32_t (*netns_of)(const void *),
		  uint32_t netns, size_t *first, size_t *end)
{
	const char *b = v;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (netns_of(b + mid * size) < netns)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo < n && netns_of(b + lo * size) == netns)
		lo++;
	*end = lo;
}

void nsdisc_range(const struct nsdisc *d, uint32_t netns, size_t *first, size_t *end)
{
	range(d->all, d->n, sizeof(*d->all), sock_netns, netns, first, end);
}

void nsdisc_cand_range(const struct nsdisc *d, uint32_t netns, size_t *first, size_t *end)
{
	range(d->cand, d->ncand, sizeof(*d->cand), rec_netns, netns, first, end);
}

bool nsdisc_proven(const struct nsdisc_sock *v, size_t n, const struct nsdisc_inuse *before,
		   const struct nsdisc_inuse *after)
{
	uint64_t seen[2] = { 0, 0 };

	if (!before->known || !after->known)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].state == SS_CLOSE)
			continue;
		if (v[i].family == AF_INET)
			seen[0]++;
		else if (v[i].family == AF_INET6)
			seen[1]++;
		else
			return false;
	}
	for (int f = 0; f < 2; f++)
		if (before->n[f] != after->n[f] || seen[f] != before->n[f])
			return false;
	return true;
}

bool nsdisc_permitted(char *why, size_t size)
{
	const char *collect = secure_getenv("SOCKREAP_COLLECT");
	const char *owners = secure_getenv("SOCKREAP_OWNERS");

	if (collect && !strcmp(collect, "dump")) {
		snprintf(why, size, "SOCKREAP_COLLECT=dump");
		return false;
	}
	if (owners && !strcmp(owners, "proc")) {
		snprintf(why, size, "SOCKREAP_OWNERS=proc");
		return false;
	}
	return true;
}

bool nsdisc_usable(char *why, size_t size)
{
	int fd;

	if (!nsdisc_permitted(why, size))
		return false;
	fd = taskfiles_open_tcp(why, size);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void nsdisc_to_rec(const struct taskfiles_tcp *t, struct sock_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->family = (uint8_t)t->family;
	rec->protocol = IPPROTO_TCP;
	rec->state = t->state;
	rec->inode = (uint32_t)t->inode;
	rec->id.idiag_sport = htons(t->sport);
	rec->id.idiag_dport = t->dport;
	memcpy(rec->id.idiag_src, t->src, sizeof(rec->id.idiag_src));
	memcpy(rec->id.idiag_dst, t->dst, sizeof(rec->id.idiag_dst));
	rec->id.idiag_if = (uint32_t)t->bound_dev_if;
	/* sock_diag_save_cookie's layout: the low word first. */
	if (t->cookie) {
		rec->id.idiag_cookie[0] = (uint32_t)t->cookie;
		rec->id.idiag_cookie[1] = (uint32_t)(t->cookie >> 32);
	} else {
		rec->id.idiag_cookie[0] = rec->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	}
	rec->idle_ms = SOCK_IDLE_UNKNOWN;
	rec->pid = -1;
	rec->fd = -1;
}
