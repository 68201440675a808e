/*
 * Guards on the plan (LISTEN, the caller's own connection: SSH_CONNECTION's 4-tuple and the
 * sockets selfguard finds in /proc) and the exit status it earns.
 */
#include "plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int parse_ip(const char *s, int *family, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
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
	if (n == 4 && cport <= 65535 && sport <= 65535 && !parse_ip(cip, &f1, g->self_peer) &&
	    !parse_ip(sip, &f2, g->self_local) && f1 == f2) {
		g->have_self = true;
		g->self_family = f1;
		g->self_pport = (uint16_t)cport;
		g->self_lport = (uint16_t)sport;
		g->unsure_port = g->self_lport;
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
	if (src->pid <= 0)
		return 0;
	ret = selfguard_scan(&g->held, src->proc_root, src->pid);
	if (ret < 0)
		return ret;
	if (h->bad_err && !g->unsure) {
		g->unsure = true;
		snprintf(g->unsure_why, sizeof(g->unsure_why), "cannot read %s%s%s%s: %s",
			 h->bad_path, *h->bad_comm ? " (" : "", h->bad_comm,
			 *h->bad_comm ? ")" : "", strerror(-h->bad_err));
	}
	return 0;
}

void plan_guards_free(struct plan_guards *g)
{
	if (g)
		selfguard_free(&g->held);
}

static bool same_addr(int family, const uint32_t sock_addr[4], int want_family,
		      const uint8_t want[16])
{
	const uint8_t *a = (const uint8_t *)sock_addr;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (family == want_family)
		return !memcmp(a, want, family == AF_INET ? 4 : 16);
	if (family == AF_INET6 && want_family == AF_INET)
		return !memcmp(a, mapped, 12) && !memcmp(a + 12, want, 4);
	return false;
}

enum plan_admit plan_admit(const struct plan_guards *g, const struct sock_rec *rec)
{
	/* A listener is nobody's session: killing it leaves the connections it accepted. */
	if (rec->state == SS_LISTEN)
		return g->allow_listen ? ADMIT : SKIP_LISTEN;
	if (g->have_self && sock_sport(rec) == g->self_lport && sock_dport(rec) == g->self_pport &&
	    same_addr(rec->family, rec->id.idiag_src, g->self_family, g->self_local) &&
	    same_addr(rec->family, rec->id.idiag_dst, g->self_family, g->self_peer))
		return SKIP_SELF;
	/* Any protocol: mosh-server's session is its UDP socket. */
	if (selfguard_holds(&g->held, rec->inode))
		return SKIP_SELF;
	if (g->unsure && rec->protocol == IPPROTO_TCP &&
	    (sock_sport(rec) == PLAN_SSH_PORT || sock_sport(rec) == g->unsure_port))
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
