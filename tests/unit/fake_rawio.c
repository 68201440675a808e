// SPDX-License-Identifier: GPL-2.0-or-later
/* The raw/packet socket seam and the capability seam, scripted (see fake_rawio.h). */
#include "fake_rawio.h"
#include "caps.h"
#include "fake_diag.h"
#include "rawio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct rawio {
	int unused;
};

static struct fake_tcp *socks;
static size_t nsocks;
static int open_err;
static unsigned strays;
static struct pkt_tcp queue[1024];
static size_t qhead, qtail;
static int kept[8];
static size_t nkept;
static unsigned keep_calls;
static unsigned local_lookups;

/* The fake netlink dump lists the live ones. */
static int dump_live(const struct diag_filter *flt, diag_sock_cb cb, void *arg)
{
	for (size_t i = 0; i < nsocks; i++) {
		if (!socks[i].alive || socks[i].rec.family != flt->family)
			continue;
		int r = cb(&socks[i].rec, arg);

		if (r < 0)
			return r;
	}
	return 0;
}

void fake_rawio_script(struct fake_tcp *s, size_t n)
{
	socks = s;
	nsocks = n;
	open_err = 0;
	strays = 0;
	qhead = qtail = 0;
	nkept = 0;
	keep_calls = 0;
	local_lookups = 0;
	for (size_t i = 0; i < n; i++)
		s[i].alive = !(s[i].quirks & FQ_GONE);
	fake_diag_extra(dump_live);
}

void fake_rawio_open_error(int err)
{
	open_err = err;
}

unsigned fake_rawio_strays(void)
{
	return strays;
}

size_t fake_caps_kept(int *caps, size_t max, unsigned *calls)
{
	for (size_t i = 0; i < nkept && i < max; i++)
		caps[i] = kept[i];
	*calls = keep_calls;
	return nkept;
}

bool caps_have(int cap)
{
	(void)cap;
	return true;
}

int caps_keep_only(const int *caps, size_t n)
{
	keep_calls++;
	nkept = n < 8 ? n : 8;
	if (nkept)
		memcpy(kept, caps, nkept * sizeof(*caps));
	return 0;
}

int rawio_open(struct rawio **out, const char **what)
{
	*what = "raw IPv4 socket";
	if (open_err)
		return open_err;
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

static bool is_end(const struct sock_rec *r, const uint32_t *a, uint16_t pa, const uint32_t *b,
		   uint16_t pb, int family)
{
	size_t alen = family == AF_INET6 ? 16 : 4;

	return r->family == family && !memcmp(r->id.idiag_src, a, alen) && sock_sport(r) == pa &&
	       !memcmp(r->id.idiag_dst, b, alen) && sock_dport(r) == pb;
}

/* A segment from the local end of s to its peer, as the capture sees it leave. */
static struct pkt_tcp *emit(const struct fake_tcp *s, uint8_t flags)
{
	struct pkt_tcp *p = &queue[qtail++ % 1024];

	memset(p, 0, sizeof(*p));
	p->family = s->rec.family;
	memcpy(p->saddr, s->rec.id.idiag_src, 16);
	memcpy(p->daddr, s->rec.id.idiag_dst, 16);
	p->sport = sock_sport(&s->rec);
	p->dport = sock_dport(&s->rec);
	p->seq = s->snd_nxt;
	p->ack = s->rcv_nxt;
	p->flags = flags;
	return p;
}

static void reply(const struct fake_tcp *s)
{
	emit(s, PKT_ACK);
}

static void replace(struct fake_tcp *s, unsigned quirk);

/* The owner's abort: its RST|ACK leaves, and the socket is gone (and maybe replaced). */
static void owner_aborts(struct fake_tcp *s, unsigned quirk)
{
	if (!(s->quirks & quirk))
		return;
	s->quirks &= ~quirk;
	emit(s, PKT_RST | PKT_ACK);
	s->alive = false;
	replace(s, FQ_REPLACED_ON_DEATH);
}

/* The socket that holds a 4-tuple now: the live one, else the first scripted. */
static struct fake_tcp *holder(const uint32_t *local, uint16_t lport, const uint32_t *peer,
			       uint16_t pport, int family)
{
	struct fake_tcp *first = NULL;

	for (size_t i = 0; i < nsocks; i++) {
		struct fake_tcp *s = &socks[i];

		if (!is_end(&s->rec, local, lport, peer, pport, family))
			continue;
		if (s->alive)
			return s;
		if (!first)
			first = s;
	}
	return first;
}

/* Its 4-tuple passes to the next scripted socket. */
static void replace(struct fake_tcp *s, unsigned quirk)
{
	if (!(s->quirks & quirk))
		return;
	s->quirks &= ~quirk;
	s->alive = false;
	if (s + 1 < socks + nsocks)
		s[1].alive = true;
}

/* A packet socket sees our resets leave (what a firewall let out), before they arrive. */
static void tap(const struct pkt_tcp *p)
{
	if (p->flags & PKT_RST)
		queue[qtail++ % 1024] = *p;
}

static int deliver(const struct pkt_tcp *p)
{
	struct fake_tcp *s;

	/* Toward the local end: appears to come from the peer. */
	s = holder(p->daddr, p->dport, p->saddr, p->sport, p->family);
	if (s) {
		if ((s->quirks & FQ_SEND_EPERM) ||
		    ((s->quirks & FQ_EPERM_TWICE) && s->refused < 2)) {
			s->refused++;
			return -EPERM;
		}
		tap(p);
		if (!s->alive || (s->quirks & FQ_NEVER_REPLIES))
			return 0;
		if (p->flags & PKT_RST) {
			s->resets_in++;
			owner_aborts(s, FQ_OWNER_ABORTS_BEFORE_RESET);
			if (!s->alive)
				return 0;
			if ((s->quirks & FQ_LOSE_FIRST_RST) && s->resets_in == 1)
				return 0;
			if (p->seq == s->rcv_nxt) {
				s->alive = false;
				replace(s, FQ_REPLACED_ON_DEATH);
				if (s->quirks & FQ_BREAKS_DUMPS) {
					fake_diag_fail_dumps(0, -ENOBUFS);
					fake_diag_fail_checks(-ENOBUFS);
				}
			} else {
				reply(s); /* in window, not exact: a challenge ACK */
			}
			return 0;
		}
		bool replied = true;

		if (p->flags & PKT_SYN) {
			s->syn_probes++;
			replied = !(s->quirks & FQ_SILENT_TO_SYN);
		} else {
			s->ack_probes++;
			if (s->quirks & FQ_RST_ON_DATA) {
				emit(s, PKT_RST)->seq = p->ack;
				s->alive = false;
				return 0;
			}
		}
		if (replied)
			reply(s);
		if (s->quirks & FQ_RCV_MOVES) {
			s->quirks &= ~(unsigned)FQ_RCV_MOVES;
			s->rcv_nxt += 100;
		}
		replace(s, FQ_REPLACED_ON_PROBE);
		if (replied)
			replace(s, FQ_REPLACED_ON_REPLY);
		if (replied && (s->quirks & FQ_PEER_CLOSED))
			s->alive = false;
		if (replied)
			owner_aborts(s, FQ_OWNER_ABORTS_ON_REPLY);
		return 0;
	}
	/* Toward the peer, from the local address: a peer reset. */
	s = holder(p->saddr, p->sport, p->daddr, p->dport, p->family);
	tap(p);
	if (s) {
		s->peer_resets++;
		s->peer_reset_seq = p->seq;
		return 0;
	}
	strays++;
	return 0;
}

void rawio_send(struct rawio *io, const struct pkt_tcp *pkts, const int *ifindex, size_t n,
		int *errs)
{
	(void)io;
	(void)ifindex;
	for (size_t i = 0; i < n; i++)
		errs[i] = deliver(&pkts[i]);
}

int rawio_poll(struct rawio *io, int timeout_ms, rawio_reply_cb cb, void *arg)
{
	int n = 0;

	(void)io;
	(void)timeout_ms;
	while (qhead != qtail) {
		struct pkt_tcp p = queue[qhead++ % 1024];

		cb(&p, arg);
		n++;
	}
	return n;
}

unsigned fake_rawio_local_lookups(void)
{
	return local_lookups;
}

int rawio_is_local(struct rawio *io, int family, const uint32_t addr[4])
{
	static const uint32_t loop6[4] = { 0, 0, 0, 0x01000000 }; /* ::1 as stored */

	(void)io;
	local_lookups++;
	if (family == AF_INET && (ntohl(addr[0]) >> 24) == 127)
		return 1;
	if (family == AF_INET6 && !memcmp(addr, loop6, 16))
		return 1;
	for (size_t i = 0; i < nsocks; i++)
		if (socks[i].rec.family == family &&
		    !memcmp(socks[i].rec.id.idiag_src, addr, family == AF_INET6 ? 16 : 4))
			return 1;
	return 0;
}

unsigned rawio_drops(struct rawio *io)
{
	(void)io;
	return 0;
}
