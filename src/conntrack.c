// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Forwarded flows: conntrack entries read, looked up and deleted over ctnetlink with
 * libnetfilter_conntrack, and turned into records the selector evaluates (struct ct_flow).
 * The only file that talks ctnetlink. libnetfilter_conntrack rather than libnl-nf-3: it is
 * what conntrack(8) itself is built on, so its dumps, gets and deletes are the ones operators
 * already trust, and its objects can be built without a kernel (the unit tests do).
 */
#include "conntrack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

int ct_set_push(struct ct_set *set, const struct ct_flow *f)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct ct_flow *v = reallocarray(set->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = *f;
	return 0;
}

void ct_set_free(struct ct_set *set)
{
	if (!set)
		return;
	free(set->v);
	*set = (struct ct_set){ 0 };
}

static const char *const ct_state_names[] = {
	[TCP_CONNTRACK_NONE] = "none",
	[TCP_CONNTRACK_SYN_SENT] = "syn-sent",
	[TCP_CONNTRACK_SYN_RECV] = "syn-recv",
	[TCP_CONNTRACK_ESTABLISHED] = "established",
	[TCP_CONNTRACK_FIN_WAIT] = "fin-wait",
	[TCP_CONNTRACK_CLOSE_WAIT] = "close-wait",
	[TCP_CONNTRACK_LAST_ACK] = "last-ack",
	[TCP_CONNTRACK_TIME_WAIT] = "time-wait",
	[TCP_CONNTRACK_CLOSE] = "close",
	[TCP_CONNTRACK_SYN_SENT2] = "syn-sent2",
};

#define NCT_STATES (sizeof(ct_state_names) / sizeof(ct_state_names[0]))

const char *conntrack_state_name(unsigned ct_state)
{
	return ct_state < NCT_STATES ? ct_state_names[ct_state] : NULL;
}

int conntrack_state_parse(const char *name, size_t len)
{
	for (size_t i = 0; i < NCT_STATES; i++) {
		const char *s = ct_state_names[i];
		size_t j;

		if (strlen(s) != len)
			continue;
		for (j = 0; j < len; j++) {
			char c = name[j] == '_' ? '-' : name[j];

			if ((c | 0x20) != s[j] && c != s[j])
				break;
		}
		if (j == len)
			return (int)i;
	}
	return -1;
}

/*
 * conntrack watches both ends from the middle: its FIN_WAIT is "a FIN went one way", the
 * nearest TCP word fin-wait-1; SYN_SENT2 (simultaneous open) and NONE have none.
 */
unsigned conntrack_tcp_state(unsigned ct_state)
{
	switch (ct_state) {
	case TCP_CONNTRACK_SYN_SENT:
		return SS_SYN_SENT;
	case TCP_CONNTRACK_SYN_RECV:
		return SS_SYN_RECV;
	case TCP_CONNTRACK_ESTABLISHED:
		return SS_ESTABLISHED;
	case TCP_CONNTRACK_FIN_WAIT:
		return SS_FIN_WAIT1;
	case TCP_CONNTRACK_CLOSE_WAIT:
		return SS_CLOSE_WAIT;
	case TCP_CONNTRACK_LAST_ACK:
		return SS_LAST_ACK;
	case TCP_CONNTRACK_TIME_WAIT:
		return SS_TIME_WAIT;
	case TCP_CONNTRACK_CLOSE:
		return SS_CLOSE;
	default:
		return 0;
	}
}

bool conntrack_is_nat(const struct ct_flow *f)
{
	return memcmp(f->reply_src, f->s.id.idiag_dst, sizeof(f->reply_src)) ||
	       memcmp(f->reply_dst, f->s.id.idiag_src, sizeof(f->reply_dst)) ||
	       f->reply_sport != sock_dport(&f->s) || f->reply_dport != sock_sport(&f->s);
}

static void get_addr(const struct nf_conntrack *ct, int family, enum nf_conntrack_attr a4,
		     enum nf_conntrack_attr a6, uint32_t out[4])
{
	memset(out, 0, 16);
	if (family == AF_INET)
		out[0] = nfct_get_attr_u32(ct, a4);
	else
		memcpy(out, nfct_get_attr(ct, a6), 16);
}

int conntrack_flow_from_nfct(const struct nf_conntrack *ct, struct ct_flow *f)
{
	int family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	int proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	memset(f, 0, sizeof(*f));
	f->s.family = (uint8_t)family;
	f->s.protocol = (uint8_t)proto;
	get_addr(ct, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, f->s.id.idiag_src);
	get_addr(ct, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, f->s.id.idiag_dst);
	get_addr(ct, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, f->reply_src);
	get_addr(ct, family, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST, f->reply_dst);
	/* Ports stay in network order in the record, as sock_diag gives them. */
	f->s.id.idiag_sport = nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC);
	f->s.id.idiag_dport = nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST);
	f->reply_sport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
	f->reply_dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
	f->id = nfct_get_attr_u32(ct, ATTR_ID);
	f->s.id.idiag_cookie[0] = f->id;
	f->timeout_s = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
	f->status = nfct_get_attr_u32(ct, ATTR_STATUS);
	f->zone = nfct_attr_is_set(ct, ATTR_ZONE) > 0 ? nfct_get_attr_u16(ct, ATTR_ZONE) : 0;
	f->s.mark = nfct_get_attr_u32(ct, ATTR_MARK);
	f->s.flags = SOCK_F_CONNTRACK | SOCK_F_MARK_KNOWN;
	f->s.idle_ms = SOCK_IDLE_UNKNOWN;
	f->s.pid = 0;	/* a flow through here has no owner here */
	f->s.fd = -1;
	if (proto == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0) {
		f->ct_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
		f->s.state = (uint8_t)conntrack_tcp_state(f->ct_state);
	} else {
		f->ct_state = CT_STATE_NONE;
	}
	return 0;
}

struct conntrack {
	struct nfct_handle *h;
	struct ct_set *out;	/* the dump being filled */
	struct ct_flow *got;	/* the get being answered */
	int err;
};

int conntrack_open(struct conntrack **out)
{
	struct conntrack *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->h = nfct_open(CONNTRACK, 0);
	if (!c->h) {
		int err = errno ? -errno : -EIO;

		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void conntrack_close(struct conntrack *c)
{
	if (!c)
		return;
	nfct_close(c->h);
	free(c);
}

static int on_dump(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *arg)
{
	struct conntrack *c = arg;
	struct ct_flow f;

	(void)type;
	if (conntrack_flow_from_nfct(ct, &f) < 0)
		return NFCT_CB_CONTINUE;
	if (ct_set_push(c->out, &f) < 0) {
		c->err = -ENOMEM;
		return NFCT_CB_STOP;
	}
	return NFCT_CB_CONTINUE;
}

static int on_get(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *arg)
{
	struct conntrack *c = arg;

	(void)type;
	if (c->got && conntrack_flow_from_nfct(ct, c->got) == 0)
		c->got = NULL;
	return NFCT_CB_CONTINUE;
}

int conntrack_dump(struct conntrack *c, struct ct_set *out)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };

	c->out = out;
	c->err = 0;
	nfct_callback_unregister(c->h);
	if (nfct_callback_register(c->h, NFCT_T_ALL, on_dump, c) < 0)
		return errno ? -errno : -EIO;
	for (size_t i = 0; i < sizeof(families); i++) {
		uint32_t family = families[i];

		if (nfct_query(c->h, NFCT_Q_DUMP, &family) < 0 && !c->err)
			return errno ? -errno : -EIO;
		if (c->err)
			return c->err;
	}
	return 0;
}

/* An object naming f's entry: the original tuple (what conntrack hashes on). */
static struct nf_conntrack *tuple_of(const struct ct_flow *f, bool with_id)
{
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return NULL;
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, f->s.family);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, f->s.protocol);
	if (f->s.family == AF_INET) {
		nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, f->s.id.idiag_src[0]);
		nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, f->s.id.idiag_dst[0]);
	} else {
		nfct_set_attr(ct, ATTR_ORIG_IPV6_SRC, f->s.id.idiag_src);
		nfct_set_attr(ct, ATTR_ORIG_IPV6_DST, f->s.id.idiag_dst);
	}
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, f->s.id.idiag_sport);
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, f->s.id.idiag_dport);
	if (f->zone)
		nfct_set_attr_u16(ct, ATTR_ZONE, f->zone);
	/* The kernel deletes only the entry with this id: a new flow on the tuple is spared. */
	if (with_id)
		nfct_set_attr_u32(ct, ATTR_ID, f->id);
	return ct;
}

int conntrack_delete(struct conntrack *c, const struct ct_flow *f)
{
	struct nf_conntrack *ct = tuple_of(f, true);
	int ret = 0;

	if (!ct)
		return -ENOMEM;
	if (nfct_query(c->h, NFCT_Q_DESTROY, ct) < 0)
		ret = errno ? -errno : -EIO;
	nfct_destroy(ct);
	return ret;
}

int conntrack_get(struct conntrack *c, const struct ct_flow *f, struct ct_flow *now)
{
	struct nf_conntrack *ct = tuple_of(f, false);
	int ret = 0;

	if (!ct)
		return -ENOMEM;
	nfct_callback_unregister(c->h);
	if (nfct_callback_register(c->h, NFCT_T_ALL, on_get, c) < 0) {
		ret = errno ? -errno : -EIO;
		goto cleanup;
	}
	c->got = now;
	if (nfct_query(c->h, NFCT_Q_GET, ct) < 0)
		ret = errno ? -errno : -EIO;
	else if (c->got)
		ret = -ENOENT;	/* answered, but with nothing we read as a flow */
	c->got = NULL;
cleanup:
	nfct_destroy(ct);
	return ret;
}

int conntrack_probe(long *count)
{
	struct ct_flow none = { .s = { .family = AF_INET, .protocol = IPPROTO_TCP } }, got;
	struct conntrack *c;
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_count", "re");
	int ret;

	*count = -1;
	if (f) {
		if (fscanf(f, "%ld", count) != 1)
			*count = -1;
		fclose(f);
	}
	if (*count < 0)
		return -ENOENT;
	ret = conntrack_open(&c);
	if (ret < 0)
		return ret;
	/* 0.0.0.0:0 -> 0.0.0.0:0 is never tracked: ENOENT is the answer that proves access. */
	ret = conntrack_get(c, &none, &got);
	conntrack_close(c);
	return ret == -ENOENT ? 0 : ret;
}
