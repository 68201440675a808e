// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guards on the plan (LISTEN, the caller's own connection: SSH_CONNECTION's 4-tuple and the
 * sockets selfguard finds in /proc, each with its other end) and the exit status it earns.
 */
#include "plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* An address as 16 bytes, IPv4 as ::ffff:a.b.c.d (as selfguard gives them). */
static int parse_ip(const char *s, int *family, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* "client_ip client_port server_ip server_port"; anything else makes the guard unsure. */
static void parse_ssh_connection(struct plan_guards *g, const char *conn)
{
	char cip[64], sip[64], shown[65];
	unsigned cport, sport;
	int f1, f2, n;
	size_t i;

	n = sscanf(conn, "%63s %u %63s %u", cip, &cport, sip, &sport);
	if (n == 4 && cport <= 65535 && sport <= 65535 && !parse_ip(cip, &f1, g->self.peer) &&
	    !parse_ip(sip, &f2, g->self.local) && f1 == f2) {
		g->have_self = true;
		g->self.pport = (uint16_t)cport;
		g->self.lport = (uint16_t)sport;
		g->unsure_port = g->self.lport;
		return;
	}
	g->unsure = true;
	if (n == 4 && sport && sport <= 65535)
		g->unsure_port = (uint16_t)sport;
	/* Quoted as given, but never a control character onto the caller's terminal. */
	for (i = 0; conn[i] && i < sizeof(shown) - 1; i++)
		shown[i] = (unsigned char)conn[i] < ' ' || conn[i] == 0x7f ? '?' : conn[i];
	shown[i] = '\0';
	snprintf(g->unsure_why, sizeof(g->unsure_why), "SSH_CONNECTION is not \"client_ip "
		 "client_port server_ip server_port\": `%s%s'", shown, conn[i] ? "..." : "");
}

/* A cheap mix of the whole tuple; never 0 (the map's empty key). */
static uint64_t tuple_key(const struct selfguard_tuple *t)
{
	uint64_t h = (uint64_t)t->lport << 16 | t->pport;
	uint32_t w;

	for (int i = 0; i < 8; i++) {
		memcpy(&w, (i < 4 ? t->local : t->peer) + 4 * (i & 3), 4);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

static bool same_tuple(const struct selfguard_tuple *a, const struct selfguard_tuple *b)
{
	return a->lport == b->lport && a->pport == b->pport && !memcmp(a->local, b->local, 16) &&
	       !memcmp(a->peer, b->peer, 16);
}

static void reverse(struct selfguard_tuple *r, const struct selfguard_tuple *t)
{
	memcpy(r->local, t->peer, 16);
	memcpy(r->peer, t->local, 16);
	r->lport = t->pport;
	r->pport = t->lport;
}

static int keep_add(struct plan_guards *g, const struct selfguard_tuple *t)
{
	uint64_t key = tuple_key(t);
	uint32_t head;

	g->keep[g->nkeep] = *t;
	g->keep_next[g->nkeep] = hashmap_get(&g->keep_map, key, &head) ? head + 1 : 0;
	return hashmap_put(&g->keep_map, key, (uint32_t)g->nkeep++);
}

/* SSH_CONNECTION both ways, and the other end of each socket held. Returns 0 or -ENOMEM. */
static int keep_init(struct plan_guards *g)
{
	size_t max = 2 + g->held.ntuples;
	struct selfguard_tuple r;
	int ret;

	g->keep = calloc(max, sizeof(*g->keep));
	g->keep_next = calloc(max, sizeof(*g->keep_next));
	if (!g->keep || !g->keep_next)
		return -ENOMEM;
	ret = hashmap_init(&g->keep_map, max);
	if (!ret && g->have_self) {
		ret = keep_add(g, &g->self);
		reverse(&r, &g->self);
		if (!ret)
			ret = keep_add(g, &r);
	}
	for (size_t i = 0; !ret && i < g->held.ntuples; i++) {
		reverse(&r, &g->held.tuples[i]);
		ret = keep_add(g, &r);
	}
	return ret;
}

int plan_guards_init(struct plan_guards *g, bool allow_listen, bool include_self,
		     const struct plan_self_src *src)
{
	const struct selfguard *h = &g->held;
	int ret;

	memset(g, 0, sizeof(*g));
	g->allow_listen = allow_listen;
	g->unsure_port = PLAN_SSH_PORT;
	if (include_self || !src)
		return 0;
	if (src->ssh_connection && *src->ssh_connection)
		parse_ssh_connection(g, src->ssh_connection);
	if (src->pid > 0) {
		ret = selfguard_scan(&g->held, src->proc_root, src->pid, src->peek,
				     src->peek_arg);
		if (ret < 0)
			return ret;
	}
	if (h->bad_err && !g->unsure) {
		g->unsure = true;
		snprintf(g->unsure_why, sizeof(g->unsure_why), "cannot %s %s%s%s%s: %s",
			 h->bad_addr ? "learn the addresses of socket" : "read", h->bad_path,
			 *h->bad_comm ? " (" : "", h->bad_comm, *h->bad_comm ? ")" : "",
			 strerror(-h->bad_err));
	}
	return keep_init(g);
}

void plan_guards_free(struct plan_guards *g)
{
	if (!g)
		return;
	selfguard_free(&g->held);
	hashmap_free(&g->keep_map);
	free(g->keep);
	free(g->keep_next);
	g->keep = NULL;
	g->keep_next = NULL;
	g->nkeep = 0;
}

/* The socket's tuple in selfguard's form (IPv4 as ::ffff:a.b.c.d). */
static void rec_tuple(const struct sock_rec *rec, struct selfguard_tuple *t)
{
	if (rec->family == AF_INET) {
		memset(t->local, 0, 10);
		memset(t->peer, 0, 10);
		t->local[10] = t->local[11] = t->peer[10] = t->peer[11] = 0xff;
		memcpy(t->local + 12, rec->id.idiag_src, 4);
		memcpy(t->peer + 12, rec->id.idiag_dst, 4);
	} else {
		memcpy(t->local, rec->id.idiag_src, 16);
		memcpy(t->peer, rec->id.idiag_dst, 16);
	}
	t->lport = sock_sport(rec);
	t->pport = sock_dport(rec);
}

static bool kept_tuple(const struct plan_guards *g, const struct sock_rec *rec)
{
	struct selfguard_tuple t;
	uint32_t i;

	rec_tuple(rec, &t);
	if (!hashmap_get(&g->keep_map, tuple_key(&t), &i))
		return false;
	for (uint32_t next = i + 1; next; next = g->keep_next[next - 1])
		if (same_tuple(&g->keep[next - 1], &t))
			return true;
	return false;
}

static bool on_port(const struct sock_rec *rec, uint16_t port)
{
	return sock_sport(rec) == port || sock_dport(rec) == port;
}

enum plan_admit plan_admit(const struct plan_guards *g, const struct sock_rec *rec)
{
	/* A listener is nobody's session: killing it leaves the connections it accepted. */
	if (rec->state == SS_LISTEN)
		return g->allow_listen ? ADMIT : SKIP_LISTEN;
	/* Any protocol, by tuple or by inode: mosh-server's session is its UDP socket. */
	if (g->nkeep && kept_tuple(g, rec))
		return SKIP_SELF;
	if (selfguard_holds(&g->held, rec->inode))
		return SKIP_SELF;
	/* Either end: the client end of a connection to port 22 here may be the caller's. */
	if (g->unsure && rec->protocol == IPPROTO_TCP &&
	    (on_port(rec, PLAN_SSH_PORT) || on_port(rec, g->unsure_port)))
		return SKIP_SELF_UNSURE;
	return ADMIT;
}

void plan_count(const struct sock_set *set, struct plan_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < set->n; i++) {
		c->n[set->v[i].outcome < OUT_MAX ? set->v[i].outcome : OUT_FAILED]++;
		c->engine_cannot += set->v[i].outcome == OUT_UNSUPPORTED &&
				    set->v[i].err == SOCK_ERR_RST_STATE;
	}
	c->total = set->n;
}

enum exit_status plan_exit_for_error(int err)
{
	switch (err) {
	case -EPROTONOSUPPORT:
	case -ENOENT:
	case -EPERM:
	case -EACCES:
		return EXIT_PRIV;
	default:
		return EXIT_ERROR;
	}
}

enum exit_status plan_exit_status(const struct plan_counts *c)
{
	size_t handled = c->n[OUT_KILLED] + c->n[OUT_GONE] + c->n[OUT_CHANGED];
	/* A state the chosen engine cannot reach is neither privilege nor kernel support. */
	size_t unable = c->n[OUT_DENIED] + c->n[OUT_UNSUPPORTED] - c->engine_cannot;

	if (!c->total)
		return EXIT_NOMATCH;
	if (handled == c->total)
		return EXIT_DONE;
	/* Nothing done and every refusal was privilege or kernel support: say which. */
	if (!handled && unable == c->total)
		return EXIT_PRIV;
	return EXIT_PARTIAL;
}
