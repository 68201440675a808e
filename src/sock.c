// SPDX-License-Identifier: GPL-2.0-or-later
/* Socket records: the growable set, names of states and outcomes, endpoint formatting. */
#include "sock.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* A million records are a hundred megabytes: the namespace index must not make it more. */
_Static_assert(sizeof(struct sock_rec) == 104, "struct sock_rec grew");

int sock_set_push(struct sock_set *set, const struct sock_rec *rec)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 256;
		struct sock_rec *v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = *rec;
	return 0;
}

void sock_set_free(struct sock_set *set)
{
	if (!set)
		return;
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}

uint64_t sock_cookie(const struct sock_rec *rec)
{
	return (uint64_t)rec->id.idiag_cookie[1] << 32 | rec->id.idiag_cookie[0];
}

uint16_t sock_sport(const struct sock_rec *rec)
{
	return ntohs(rec->id.idiag_sport);
}

uint16_t sock_dport(const struct sock_rec *rec)
{
	return ntohs(rec->id.idiag_dport);
}

static const char *const state_names[SS_MAX] = {
	[SS_ESTABLISHED] = "established",
	[SS_SYN_SENT] = "syn-sent",
	[SS_SYN_RECV] = "syn-recv",
	[SS_FIN_WAIT1] = "fin-wait-1",
	[SS_FIN_WAIT2] = "fin-wait-2",
	[SS_TIME_WAIT] = "time-wait",
	[SS_CLOSE] = "close",
	[SS_CLOSE_WAIT] = "close-wait",
	[SS_LAST_ACK] = "last-ack",
	[SS_LISTEN] = "listen",
	[SS_CLOSING] = "closing",
	[SS_NEW_SYN_RECV] = "syn-recv",
};

const char *sock_state_name(unsigned state)
{
	if (state < SS_MAX && state_names[state])
		return state_names[state];
	return "unknown";
}

int sock_state_parse(const char *name, size_t len)
{
	char buf[24];

	if (len >= sizeof(buf))
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	buf[len] = '\0';
	/* The kernel's own spellings without the dash before the digit. */
	if (!strcmp(buf, "fin-wait1"))
		return SS_FIN_WAIT1;
	if (!strcmp(buf, "fin-wait2"))
		return SS_FIN_WAIT2;
	if (!strcmp(buf, "closed"))
		return SS_CLOSE;
	for (int s = SS_ESTABLISHED; s < SS_NEW_SYN_RECV; s++)
		if (!strcmp(buf, state_names[s]))
			return s;
	return -1;
}

static const char *const outcome_names[OUT_MAX] = {
	[OUT_NONE] = "selected",
	[OUT_KILLED] = "killed",
	[OUT_GONE] = "gone",
	[OUT_CHANGED] = "changed",
	[OUT_UNSUPPORTED] = "unsupported",
	[OUT_DENIED] = "denied",
	[OUT_FAILED] = "failed",
	[OUT_SKIPPED] = "skipped",
};

const char *sock_outcome_name(unsigned outcome)
{
	return outcome < OUT_MAX ? outcome_names[outcome] : "unknown";
}

static bool addr_is_any(int family, const uint32_t addr[4])
{
	if (family == AF_INET)
		return addr[0] == 0;
	return !(addr[0] | addr[1] | addr[2] | addr[3]);
}

int sock_format_addr(char *buf, size_t size, int family, const uint32_t addr[4])
{
	if (addr_is_any(family, addr))
		return snprintf(buf, size, "*");
	if (!inet_ntop(family, addr, buf, (socklen_t)size))
		return snprintf(buf, size, "?");
	return (int)strlen(buf);
}

size_t sock_dec_len(uint32_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

char *sock_put_dec(char *p, uint32_t v)
{
	char *end = p + sock_dec_len(v), *o = end;

	do
		*--o = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

int sock_format_endpoint(char *buf, size_t size, int family, const uint32_t addr[4],
			 uint16_t port)
{
	char a[INET6_ADDRSTRLEN];
	char p[8];

	/* The common case by hand: inet_ntop and snprintf cost most of it. */
	if (family == AF_INET && addr[0] && port && size >= 22) {
		const uint8_t *b = (const uint8_t *)addr;
		char *o = buf;

		for (int i = 0; i < 4; i++) {
			o = sock_put_dec(o, b[i]);
			*o++ = i < 3 ? '.' : ':';
		}
		o = sock_put_dec(o, port);
		*o = '\0';
		return (int)(o - buf);
	}

	sock_format_addr(a, sizeof(a), family, addr);
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	else
		snprintf(p, sizeof(p), "*");
	if (family == AF_INET6 && strcmp(a, "*"))
		return snprintf(buf, size, "[%s]:%s", a, p);
	return snprintf(buf, size, "%s:%s", a, p);
}

int sock_format_duration(char *buf, size_t size, uint32_t ms)
{
	/* As snprintf would, by hand: the preview of 100,000 sockets has an IDLE cell each. */
	char text[16], *o = text;
	uint32_t s = ms / 1000;
	size_t n;

	if (ms == SOCK_IDLE_UNKNOWN) {
		*o++ = '-';
	} else if (ms < 1000) {
		o = sock_put_dec(o, ms);
		*o++ = 'm';
		*o++ = 's';
	} else if (s < 120) {
		o = sock_put_dec(o, s);
		*o++ = 's';
	} else if (s < 120 * 60) {
		o = sock_put_dec(o, s / 60);
		*o++ = 'm';
	} else if (s < 48 * 3600) {
		o = sock_put_dec(o, s / 3600);
		*o++ = 'h';
	} else {
		o = sock_put_dec(o, s / 86400);
		*o++ = 'd';
	}
	n = (size_t)(o - text);
	if (size) {
		size_t m = n < size ? n : size - 1;

		memcpy(buf, text, m);
		buf[m] = '\0';
	}
	return (int)n;
}

const char *sock_errno_name(int err)
{
	const char *name = strerrorname_np(err < 0 ? -err : err);

	return name ? name : "EUNKNOWN";
}

/* Every detail but errno names; one table, so that the man page test can walk it. */
static const struct {
	int32_t err;
	const char *label;
} details[] = {
	{ 0, "stays-bound" },	/* a flag on killed, not an err */
	{ SOCK_ERR_SURVIVED, "still-present" },
	{ SOCK_ERR_NO_REPLY, "no-reply" },
	{ SOCK_ERR_RFC1337, "tcp_rfc1337" },
	{ SOCK_ERR_RST_STATE, "rst-cannot-reach-state" },
	{ SOCK_ERR_FIREWALL, "firewall" },
	{ SOCK_ERR_UNVERIFIED, "unverified" },
	{ SOCK_ERR_SIBLING, "reuseport-sibling" },
	{ SOCK_ERR_OWNER_UNKNOWN, "owner-unknown" },
	{ SOCK_ERR_FD_CHANGED, "fd-changed" },
	{ SOCK_ERR_NO_INTENT, "no-intent" },
	{ 0, "closing" },	/* a flag on killed (shutdown), not an err */
};

const char *sock_outcome_label(size_t i)
{
	return i < sizeof(details) / sizeof(details[0]) ? details[i].label : NULL;
}

const char *sock_outcome_detail(const struct sock_rec *rec)
{
	if (rec->outcome == OUT_KILLED && (rec->flags & SOCK_F_STAYS_BOUND))
		return details[0].label;
	if (rec->outcome == OUT_KILLED && (rec->flags & SOCK_F_CLOSING))
		return "closing";
	if (!rec->err)
		return NULL;
	for (size_t i = 1; i < sizeof(details) / sizeof(details[0]); i++)
		if (details[i].err && details[i].err == rec->err)
			return details[i].label;
	return sock_errno_name(rec->err);
}

const char *sock_engine_name(unsigned engine)
{
	switch (engine) {
	case SOCK_ENGINE_DESTROY:
		return "destroy";
	case SOCK_ENGINE_RST:
		return "rst";
	case SOCK_ENGINE_SHUTDOWN:
		return "shutdown";
	default:
		return NULL;
	}
}

const char *sock_peer_end(const struct sock_rec *rec)
{
	if (rec->flags & SOCK_F_PEER_RESET)
		return "reset-sent";
	if (rec->flags & SOCK_F_PEER_PLANNED)
		return "local-planned";
	if (rec->flags & SOCK_F_PEER_LEFT)
		return "local-left";
	return NULL;
}
