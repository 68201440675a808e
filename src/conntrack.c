// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Forwarded flows: conntrack entries turned into records the selector evaluates (struct
 * ct_flow), conntrack's state names and their TCP words. conntrack_nl.c talks to the kernel.
 * libnetfilter_conntrack rather than libnl-nf-3: it is what conntrack(8) itself is built on,
 * so its dumps, gets and deletes are the ones operators already trust, and its objects can be
 * built without a kernel (the unit tests do).
 */
#include "conntrack.h"

#include <errno.h>
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

