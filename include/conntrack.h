/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Forwarded flows: conntrack entries as records the selector evaluates, over ctnetlink. */
#ifndef SOCKREAP_CONNTRACK_H
#define SOCKREAP_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sock.h"

/* ct_flow.ct_state for a flow without TCP state (UDP). */
#define CT_STATE_NONE 0xff

/*
 * One conntrack entry. s is what the selector and the audit see: the original direction's
 * tuple (src/dst/sport/dport as the first packet had them), protocol, family, mark, and the
 * TCP state word conntrack's state maps to (0 where there is none). The reply direction is
 * the tuple the answers carry: with NAT its source is the address really reached
 * (destination NAT) and its destination the address the flow left by (masquerade, source NAT).
 */
struct ct_flow {
	struct sock_rec s;
	uint32_t reply_src[4], reply_dst[4];	/* network order, as s.id's */
	uint16_t reply_sport, reply_dport;	/* host order */
	uint32_t id;		/* conntrack's id: deletes carry it (a hash of the entry's address
				 * and tuples: another entry on the tuple may repeat it) */
	uint32_t timeout_s;	/* seconds left before conntrack drops the entry */
	uint32_t status;	/* IPS_* bits */
	uint16_t zone;
	uint8_t ct_state;	/* TCP_CONNTRACK_*, CT_STATE_NONE */
};

static inline const struct ct_flow *ct_flow_of(const struct sock_rec *rec)
{
	return (const struct ct_flow *)(const void *)((const char *)rec -
						       offsetof(struct ct_flow, s));
}

/* A growable array of flows: amortized growth. */
struct ct_set {
	struct ct_flow *v;
	size_t n, cap;
};

int ct_set_push(struct ct_set *set, const struct ct_flow *f);
void ct_set_free(struct ct_set *set);

/* conntrack's own TCP state names, lower case with '-': "fin-wait", "syn-sent2"; NULL. */
const char *conntrack_state_name(unsigned ct_state);
/* Any case, '_' for '-'; -1 if unknown. */
int conntrack_state_parse(const char *name, size_t len);
/* The TCP state word (enum sock_state) a conntrack TCP state maps to; 0 when none does. */
unsigned conntrack_tcp_state(unsigned ct_state);

/* Whether the flow is translated: the reply's tuple is not the original's reversed. */
bool conntrack_is_nat(const struct ct_flow *f);

struct nf_conntrack;
/* Fills f from a libnetfilter_conntrack object. -EAFNOSUPPORT/-EPROTONOSUPPORT: not ours. */
int conntrack_flow_from_nfct(const struct nf_conntrack *ct, struct ct_flow *f);

struct conntrack;
/* A ctnetlink handle in the caller's network namespace. 0 or a negative errno. */
int conntrack_open(struct conntrack **out);
void conntrack_close(struct conntrack *c);
/* Every IPv4 and IPv6 TCP and UDP entry, appended to out. 0 or a negative errno. */
int conntrack_dump(struct conntrack *c, struct ct_set *out);
/*
 * Deletes the entry by its original tuple and id. 0, -ENOENT (gone, or its tuple now names
 * another entry), or another negative errno.
 */
int conntrack_delete(struct conntrack *c, const struct ct_flow *f);
/* Looks the original tuple up: 0 and *now filled, -ENOENT none, or a negative errno. */
int conntrack_get(struct conntrack *c, const struct ct_flow *f, struct ct_flow *now);

/*
 * Whether --forwarded can work here: nf_conntrack in this namespace (count: its entries, or
 * -1 when /proc/sys/net/netfilter/nf_conntrack_count is missing) and a ctnetlink lookup answered
 * (needs CAP_NET_ADMIN and nf_conntrack_netlink). 0, or the negative errno of what failed.
 */
int conntrack_probe(long *count);

#endif
