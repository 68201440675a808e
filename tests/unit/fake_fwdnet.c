// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The scripted router of fake_fwdnet.h: rawio_* and conntrack_* (the kernel seams of the
 * forwarded-flow kill) over a list of flows. Conntrack lets a SYN through an established entry
 * and the challenge ACK back, an out-of-window ACK to the source (ignored, NAT applied) and
 * the source's challenge ACK, and only an exact reset; an exact reset kills its end (unless a
 * firewall past the router drops it) and takes the entry to CLOSE. Captured: what leaves the
 * router, in the form each end sees, and what arrives from the source.
 */
#include "fake_fwdnet.h"
#include "rawio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

struct rawio {
	int unused;
};

struct conntrack {
	int unused;
};

static struct fake_fwd *flows;
static size_t nflows;
static unsigned strays;
static struct pkt_tcp captured[4 * RAWIO_BATCH];
static size_t ncaptured;

void fake_fwdnet_script(struct fake_fwd *v, size_t n)
{
	flows = v;
	nflows = n;
	strays = 0;
	ncaptured = 0;
	for (size_t i = 0; i < n; i++) {
		v[i].src_alive = v[i].dst_alive = v[i].entry = true;
		v[i].ct_state = v[i].f.ct_state;
	}
}

unsigned fake_fwdnet_strays(void)
{
	return strays;
}

static bool addr_eq(const uint32_t a[4], const uint32_t b[4], int family)
{
	return !memcmp(a, b, family == AF_INET6 ? 16 : 4);
}

static bool is(const struct pkt_tcp *p, const uint32_t s[4], uint16_t sport, const uint32_t d[4],
	       uint16_t dport)
{
	return p->sport == sport && p->dport == dport && addr_eq(p->saddr, s, p->family) &&
	       addr_eq(p->daddr, d, p->family);
}

static void capture(const uint32_t s[4], uint16_t sport, const uint32_t d[4], uint16_t dport,
		    int family, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct pkt_tcp *p = &captured[ncaptured++];

	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->saddr, s, 16);
	memcpy(p->daddr, d, 16);
	p->sport = sport;
	p->dport = dport;
	p->flags = flags;
	p->seq = seq;
	p->ack = ack;
}

/* Towards the destination through the entry (the original direction). */
static void to_dst(struct fake_fwd *w, const struct pkt_tcp *p)
{
	const struct ct_flow *f = &w->f;

	if (!w->entry)
		return;
	if (p->flags == PKT_SYN) {
		w->syns++;
		if (w->dst_alive && !(w->quirks & FF_DST_SILENT))
			/* The challenge ACK, leaving towards the source with NAT undone. */
			capture(f->s.id.idiag_dst, sock_dport(&f->s), f->s.id.idiag_src,
				sock_sport(&f->s), f->s.family, PKT_ACK, w->dst_snd_nxt,
				w->dst_rcv_nxt);
		return;
	}
	if ((p->flags & PKT_RST) && p->seq == w->dst_rcv_nxt) {
		/* Conntrack takes it and it leaves; a silent destination's firewall drops it. */
		w->dst_alive = w->dst_alive && (w->quirks & FF_DST_SILENT);
		w->ct_state = TCP_CONNTRACK_CLOSE;
		capture(f->reply_dst, f->reply_dport, f->reply_src, f->reply_sport, f->s.family,
			p->flags, p->seq, p->ack);
	} else if (p->flags & PKT_RST) {
		w->resets_refused++;
	}
}

/* Towards the source through the entry (the reply direction). */
static void to_src(struct fake_fwd *w, const struct pkt_tcp *p)
{
	const struct ct_flow *f = &w->f;
	uint32_t expects = w->quirks & FF_SRC_RCV_MOVED ? w->dst_snd_nxt - 1000 : w->src_rcv_nxt;

	if (!w->entry)
		return;
	if (p->flags == PKT_ACK) {
		w->acks++;
		/*
		 * Conntrack (6.18) lets an ACK in the reply direction keep its entry, and so its
		 * NAT, only when both numbers lie behind the window; the others go untranslated
		 * to the router itself.
		 */
		if ((int32_t)(p->seq - (w->dst_snd_nxt - 65536)) >= 0 ||
		    (int32_t)(p->ack - (w->src_snd_nxt + 1)) >= 0)
			return;
		w->acks_through++;
		/* Our probe leaves with NAT undone; the source's challenge ACK comes back. */
		capture(f->s.id.idiag_dst, sock_dport(&f->s), f->s.id.idiag_src, sock_sport(&f->s),
			f->s.family, p->flags, p->seq, p->ack);
		captured[ncaptured - 1].payload = p->payload;
		if (w->src_alive && !(w->quirks & FF_SRC_SILENT))
			capture(f->s.id.idiag_src, sock_sport(&f->s), f->s.id.idiag_dst,
				sock_dport(&f->s), f->s.family, PKT_ACK, w->src_snd_nxt, expects);
		return;
	}
	if ((p->flags & PKT_RST) && p->seq == expects) {
		w->src_alive = false;
		w->ct_state = TCP_CONNTRACK_CLOSE;
		capture(f->s.id.idiag_dst, sock_dport(&f->s), f->s.id.idiag_src, sock_sport(&f->s),
			f->s.family, p->flags, p->seq, p->ack);
	} else {
		w->resets_refused++;
	}
}

int rawio_open(struct rawio **out, const char **what)
{
	*what = NULL;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void rawio_close(struct rawio *io)
{
	free(io);
}

int rawio_capture(struct rawio *io)
{
	(void)io;
	return 0;
}

int rawio_capture_arriving(struct rawio *io)
{
	return rawio_capture(io);
}

void rawio_send(struct rawio *io, const struct pkt_tcp *pkts, const int *ifindex, size_t n,
		int *errs)
{
	(void)io;
	(void)ifindex;
	for (size_t i = 0; i < n; i++) {
		const struct pkt_tcp *p = &pkts[i];
		size_t k;

		errs[i] = 0;
		for (k = 0; k < nflows; k++) {
			struct fake_fwd *w = &flows[k];
			const struct ct_flow *f = &w->f;

			if (is(p, f->s.id.idiag_src, sock_sport(&f->s), f->s.id.idiag_dst,
			       sock_dport(&f->s))) {
				to_dst(w, p);
				break;
			}
			if (is(p, f->reply_src, f->reply_sport, f->reply_dst, f->reply_dport)) {
				to_src(w, p);
				break;
			}
		}
		if (k == nflows)
			strays++;
	}
}

int rawio_poll(struct rawio *io, int timeout_ms, rawio_reply_cb cb, void *arg)
{
	size_t n = ncaptured;

	(void)io;
	if (!n && timeout_ms > 0)
		usleep((useconds_t)timeout_ms * 1000);
	ncaptured = 0;
	for (size_t i = 0; i < n; i++)
		cb(&captured[i], arg);
	return (int)n;
}

int rawio_is_local(struct rawio *io, int family, const uint32_t addr[4])
{
	(void)io;
	(void)family;
	(void)addr;
	return 0;
}

unsigned rawio_drops(struct rawio *io)
{
	(void)io;
	return 0;
}

int conntrack_open(struct conntrack **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void conntrack_close(struct conntrack *c)
{
	free(c);
}

int conntrack_dump(struct conntrack *c, struct ct_set *out)
{
	(void)c;
	for (size_t i = 0; i < nflows; i++)
		if (flows[i].entry && ct_set_push(out, &flows[i].f) < 0)
			return -ENOMEM;
	return 0;
}

static struct fake_fwd *find(const struct ct_flow *f)
{
	for (size_t i = 0; i < nflows; i++) {
		const struct ct_flow *g = &flows[i].f;

		if (flows[i].entry && g->s.family == f->s.family &&
		    g->s.id.idiag_sport == f->s.id.idiag_sport &&
		    g->s.id.idiag_dport == f->s.id.idiag_dport &&
		    addr_eq(g->s.id.idiag_src, f->s.id.idiag_src, f->s.family) &&
		    addr_eq(g->s.id.idiag_dst, f->s.id.idiag_dst, f->s.family))
			return &flows[i];
	}
	return NULL;
}

int conntrack_delete(struct conntrack *c, const struct ct_flow *f)
{
	struct fake_fwd *w = find(f);

	(void)c;
	if (!w || w->f.id != f->id)
		return -ENOENT;
	w->entry = false;
	w->deletes++;
	return 0;
}

int conntrack_get(struct conntrack *c, const struct ct_flow *f, struct ct_flow *now)
{
	struct fake_fwd *w = find(f);

	(void)c;
	if (w && (w->quirks & FF_ENTRY_DROPPED) && w->ct_state == TCP_CONNTRACK_CLOSE)
		w->entry = false;
	if (!w || !w->entry)
		return -ENOENT;
	*now = w->f;
	now->ct_state = w->ct_state;
	return 0;
}

int conntrack_probe(long *count)
{
	*count = (long)nflows;
	return 0;
}
