// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctnetlink: conntrack entries dumped, looked up and deleted with libnetfilter_conntrack. The
 * only file that talks to conntrack in the kernel: the seam the unit tests replace
 * (tests/unit/fake_fwdnet.c).
 */
#include "conntrack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

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
	struct conntrack *c = NULL;
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
