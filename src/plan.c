/* Guards on the plan (LISTEN, the caller's own SSH connection) and the exit status it earns. */
#include "plan.h"

#include <arpa/inet.h>
#include <errno.h>
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

int plan_guards_init(struct plan_guards *g, bool allow_listen, bool include_self,
		     const char *ssh_connection)
{
	char cip[64], sip[64];
	unsigned cport, sport;
	int f1, f2;

	memset(g, 0, sizeof(*g));
	g->allow_listen = allow_listen;
	if (include_self || !ssh_connection || !*ssh_connection)
		return 0;
	/* "client_ip client_port server_ip server_port" */
	if (sscanf(ssh_connection, "%63s %u %63s %u", cip, &cport, sip, &sport) != 4 ||
	    cport > 65535 || sport > 65535 || parse_ip(cip, &f1, g->self_peer) ||
	    parse_ip(sip, &f2, g->self_local) || f1 != f2)
		return -EINVAL;
	g->have_self = true;
	g->self_family = f1;
	g->self_pport = (uint16_t)cport;
	g->self_lport = (uint16_t)sport;
	return 0;
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
	if (rec->state == SS_LISTEN && !g->allow_listen)
		return SKIP_LISTEN;
	if (g->have_self && sock_sport(rec) == g->self_lport && sock_dport(rec) == g->self_pport &&
	    same_addr(rec->family, rec->id.idiag_src, g->self_family, g->self_local) &&
	    same_addr(rec->family, rec->id.idiag_dst, g->self_family, g->self_peer))
		return SKIP_SELF;
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
