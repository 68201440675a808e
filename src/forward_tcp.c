// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Killing forwarded TCP flows from the router in the middle. ctnetlink does not export the
 * windows conntrack tracks, and an idle flow sends nothing to learn them from, so a probe goes
 * to an end as if the other end sent it, through this host's own conntrack and NAT (the raw
 * socket's segment is looked up in the flow's entry). First a SYN to the destination:
 * conntrack ignores a SYN in established state and lets it and the challenge ACK it draws
 * through. That ACK carries the destination's snd_nxt and rcv_nxt. Then the source is asked:
 * an out-of-window ACK carrying one byte (its duplicate ACK then escapes the per-socket rate
 * limit). A SYN in the reply direction would be invalid to conntrack, untracked, and never
 * translated; an ACK is ignored by conntrack's window check, keeping its entry and so its
 * NAT, only when both its sequence and its acknowledgment number lie behind the window (6.18):
 * BEHIND the destination's numbers. The source's answer, captured as it arrives, carries its
 * own rcv_nxt: exact even when data the destination sent is still on its way or lost (the
 * destination's snd_nxt, which serves when the source stays silent for ASK_WAIT_MS, is not
 * then; conntrack, which saw that data, lets such a reset through all the same). A destination
 * that stays silent (a dead backend) gets its SYN again and the source is asked blind: nothing
 * says where the window is, so four ACKs, one in each half of both number spaces, and one gets
 * through (the three conntrack calls invalid go to this host itself, untranslated; its stack
 * answers them with a reset of a random sequence number towards the destination, which no
 * socket takes for exact); the source's answer serves both ends. Then an exact RST to each
 * end, each sent in the direction of the entry that reaches that end, so conntrack tracks it
 * (and goes to CLOSE) and NAT gives it the addresses that end expects. A reset counts as sent
 * when it is captured leaving this host in that translated form (conntrack refuses one outside
 * its window). Last the entry is deleted. The packets are built and captured by the rst
 * engine's packet.c and rawio.c.
 */
#include "forward.h"

#include "hashmap.h"
#include "packet.h"
#include "rawio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

/* As the rst engine: a silent flow is probed again after this long, then given up. */
#define PROBE_WAIT_MS 600
#define PROBES 2
/* How long the source has to answer once the destination has: then its numbers serve. */
#define ASK_WAIT_MS 200
/*
 * How far behind an end's numbers the ACK probe to the source is put: past any window the
 * kernel keeps (so the source answers, and conntrack ignores it but keeps its NAT), and
 * less than 2^31 minus one: still behind in sequence arithmetic.
 */
#define BEHIND 0x40000000U

enum job_step { STEP_PROBE, STEP_ASK_SRC, STEP_RESET, STEP_DONE };

struct job {
	struct ct_flow *f;
	enum job_step step;
	int probes;
	bool have_dst, have_src;		/* which end's challenge ACK was seen */
	long asked_ms;				/* STEP_ASK_SRC: when the source was asked */
	uint32_t dst_snd_nxt, dst_rcv_nxt;	/* from the destination's */
	uint32_t src_snd_nxt, src_rcv_nxt;	/* from the source's */
	uint32_t src_rst_seq, dst_rst_seq;	/* the resets sent */
	bool src_reset_seen, dst_reset_seen;	/* our resets, seen leaving translated */
	int send_err;
};

struct tcp_run {
	struct rawio *io;
	struct job *jobs;
	size_t n;
	/* What leaves towards either end of job i: (i << 1) | (towards the destination). */
	struct hashmap by_tuple;
	uint64_t rng;
	struct pkt_tcp out[RAWIO_BATCH];
	size_t nout;
	size_t *out_job;	/* the job of each queued segment */
	int errs[RAWIO_BATCH];
};

static void flush(struct tcp_run *r)
{
	if (!r->nout)
		return;
	rawio_send(r->io, r->out, NULL, r->nout, r->errs);
	for (size_t i = 0; i < r->nout; i++)
		if (r->errs[i] < 0 && !r->jobs[r->out_job[i]].send_err)
			r->jobs[r->out_job[i]].send_err = r->errs[i];
	r->nout = 0;
}

static void queue(struct tcp_run *r, size_t job, const struct pkt_tcp *p)
{
	if (r->nout == RAWIO_BATCH)
		flush(r);
	r->out_job[r->nout] = job;
	r->out[r->nout++] = *p;
}

/* The original direction, as its source sends it: to the destination end. */
static struct pkt_tcp to_dst(const struct ct_flow *f, uint8_t flags, uint32_t seq)
{
	struct pkt_tcp p = { .family = f->s.family, .sport = sock_sport(&f->s),
			     .dport = sock_dport(&f->s), .seq = seq, .flags = flags };

	memcpy(p.saddr, f->s.id.idiag_src, sizeof(p.saddr));
	memcpy(p.daddr, f->s.id.idiag_dst, sizeof(p.daddr));
	return p;
}

/* The reply direction, as the destination's answers reach this host: to the source end. */
static struct pkt_tcp to_src(const struct ct_flow *f, uint8_t flags, uint32_t seq)
{
	struct pkt_tcp p = { .family = f->s.family, .sport = f->reply_sport,
			     .dport = f->reply_dport, .seq = seq, .flags = flags };

	memcpy(p.saddr, f->reply_src, sizeof(p.saddr));
	memcpy(p.daddr, f->reply_dst, sizeof(p.daddr));
	return p;
}

static bool same(const struct pkt_tcp *p, const uint32_t s[4], uint16_t sport,
		 const uint32_t d[4], uint16_t dport)
{
	size_t alen = p->family == AF_INET6 ? 16 : 4;

	return p->sport == sport && p->dport == dport && !memcmp(p->saddr, s, alen) &&
	       !memcmp(p->daddr, d, alen);
}

/*
 * What leaves towards the source end carries the original tuple reversed (NAT undone); what
 * leaves towards the destination end, the reply tuple reversed (NAT applied).
 */
static bool towards_src(const struct pkt_tcp *p, const struct ct_flow *f)
{
	return same(p, f->s.id.idiag_dst, sock_dport(&f->s), f->s.id.idiag_src,
		    sock_sport(&f->s));
}

static bool towards_dst(const struct pkt_tcp *p, const struct ct_flow *f)
{
	return same(p, f->reply_dst, f->reply_dport, f->reply_src, f->reply_sport);
}

/* As it arrives from the source, before NAT: the original tuple. */
static bool from_src(const struct pkt_tcp *p, const struct ct_flow *f)
{
	return same(p, f->s.id.idiag_src, sock_sport(&f->s), f->s.id.idiag_dst,
		    sock_dport(&f->s));
}

/* FNV-1a over the addresses and ports as captured; 0 is the map's empty key. */
static uint64_t tuple_key(int family, const uint32_t s[4], uint16_t sport, const uint32_t d[4],
			  uint16_t dport)
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)family;
	const uint8_t *parts[2] = { (const uint8_t *)s, (const uint8_t *)d };

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < alen; i++)
			h = (h ^ parts[k][i]) * 0x100000001b3ULL;
	h = (h ^ sport) * 0x100000001b3ULL;
	h = (h ^ dport) * 0x100000001b3ULL;
	return h ? h : 1;
}

/*
 * Each end's reset: the rcv_nxt it said itself or, when it did not answer, the other end's
 * snd_nxt (what it expects on an idle flow). The source first: conntrack then sees the
 * destination's reset in CLOSE.
 */
static void send_resets(struct tcp_run *r, size_t i)
{
	struct job *j = &r->jobs[i];

	j->src_rst_seq = j->have_src ? j->src_rcv_nxt : j->dst_snd_nxt;
	j->dst_rst_seq = j->have_dst ? j->dst_rcv_nxt : j->src_snd_nxt;
	j->step = STEP_RESET;
	struct pkt_tcp a = to_src(j->f, PKT_RST, j->src_rst_seq);
	struct pkt_tcp b = to_dst(j->f, PKT_RST, j->dst_rst_seq);

	queue(r, i, &a);
	queue(r, i, &b);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/*
 * The destination has answered: one ACK to the source, its numbers BEHIND the destination's
 * (the flow's own neighbourhood, so behind conntrack's window on either side), a byte long.
 */
static void ask_source(struct tcp_run *r, size_t i)
{
	struct job *j = &r->jobs[i];
	struct pkt_tcp p = to_src(j->f, PKT_ACK, j->dst_snd_nxt - BEHIND);

	p.ack = j->dst_rcv_nxt - BEHIND;
	p.window = 65535;
	p.payload = 1;
	queue(r, i, &p);
	j->step = STEP_ASK_SRC;
	j->asked_ms = now_ms();
}

static void on_segment(const struct pkt_tcp *p, void *arg)
{
	struct tcp_run *r = arg;
	uint32_t v;

	/* Our ACK probes carry a byte (rawio_poll drops them too); no answer does. */
	if ((p->family != AF_INET && p->family != AF_INET6) || p->payload ||
	    !hashmap_get(&r->by_tuple, tuple_key(p->family, p->saddr, p->sport, p->daddr, p->dport),
			 &v))
		return;
	size_t i = v >> 1;
	struct job *j = &r->jobs[i];
	const struct ct_flow *f = j->f;

	bool asked = j->step == STEP_ASK_SRC || (j->step == STEP_PROBE && j->probes > 1);

	if ((p->flags & (PKT_SYN | PKT_RST | PKT_FIN | PKT_ACK)) == PKT_ACK) {
		if (j->step == STEP_PROBE && towards_src(p, f)) {
			/* The destination's challenge ACK, on its way to the source. */
			j->dst_snd_nxt = p->seq;
			j->dst_rcv_nxt = p->ack;
			j->have_dst = true;
			ask_source(r, i);
		} else if (asked && (from_src(p, f) || towards_dst(p, f))) {
			/*
			 * The source's answer to our ACKs, arriving (or leaving translated when
			 * conntrack passes it); before we asked, its own traffic going by.
			 */
			j->src_snd_nxt = p->seq;
			j->src_rcv_nxt = p->ack;
			j->have_src = true;
			send_resets(r, i);
		}
		return;
	}
	if (j->step == STEP_RESET && (p->flags & PKT_RST)) {
		if (towards_src(p, f) && p->seq == j->src_rst_seq)
			j->src_reset_seen = true;
		else if (towards_dst(p, f) && p->seq == j->dst_rst_seq)
			j->dst_reset_seen = true;
		if (j->src_reset_seen && j->dst_reset_seen)
			j->step = STEP_DONE;
	}
}


/* xorshift64*: a probe's sequence number only has to be unpredictable enough to be ours. */
static uint32_t next_seq(struct tcp_run *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return (uint32_t)((r->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

static bool probe_all(struct tcp_run *r)
{
	bool any = false;

	for (size_t i = 0; i < r->n; i++) {
		struct job *j = &r->jobs[i];

		if (j->step != STEP_PROBE || j->probes >= PROBES)
			continue;
		struct pkt_tcp syn = to_dst(j->f, PKT_SYN, next_seq(r));

		syn.window = 65535;
		queue(r, i, &syn);
		/* The destination was silent a whole round: ask the source as well. */
		for (uint32_t k = 0, seq = next_seq(r), ack = next_seq(r); j->probes && k < 4; k++) {
			struct pkt_tcp p = to_src(j->f, PKT_ACK, seq + (k & 1) * 0x80000000U);

			p.ack = ack + (k >> 1) * 0x80000000U;
			p.window = 65535;
			p.payload = 1;
			queue(r, i, &p);
		}
		j->probes++;
		any = true;
	}
	flush(r);
	return any;
}

/* Sources asked ASK_WAIT_MS ago (all: every one) reset from the destination's numbers. */
static bool expire_asks(struct tcp_run *r, bool all)
{
	long now = now_ms();
	bool left = false;

	for (size_t i = 0; i < r->n; i++) {
		struct job *j = &r->jobs[i];

		if (j->step != STEP_ASK_SRC)
			continue;
		if (all || now - j->asked_ms >= ASK_WAIT_MS)
			send_resets(r, i);
		else
			left = true;
	}
	flush(r);
	return left;
}

static bool pending(const struct tcp_run *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->jobs[i].step != STEP_DONE)
			return true;
	return false;
}

/* The states a SYN draws a challenge ACK in, and that conntrack lets it through in. */
static bool probe_state(uint8_t ct_state)
{
	return ct_state == TCP_CONNTRACK_ESTABLISHED || ct_state == TCP_CONNTRACK_FIN_WAIT ||
	       ct_state == TCP_CONNTRACK_CLOSE_WAIT || ct_state == TCP_CONNTRACK_LAST_ACK;
}

static void delete_verified(struct conntrack *c, struct ct_flow *f)
{
	struct ct_flow now;
	int ret = conntrack_delete(c, f);

	if (ret < 0 && ret != -ENOENT) {
		f->s.outcome = ret == -EPERM ? OUT_DENIED : OUT_FAILED;
		f->s.err = -ret;
		return;
	}
	ret = conntrack_get(c, f, &now);
	if (ret == -ENOENT || (ret == 0 && now.id != f->id)) {
		f->s.outcome = OUT_KILLED;
	} else {
		f->s.outcome = OUT_FAILED;
		f->s.err = ret ? SOCK_ERR_UNVERIFIED : SOCK_ERR_SURVIVED;
	}
}

/* After the resets: the entry must have gone to CLOSE (or be gone), then it is deleted. */
static void settle(struct conntrack *c, struct job *j)
{
	struct ct_flow *f = j->f, now;
	int ret;

	if (j->step == STEP_PROBE) {
		f->s.outcome = OUT_FAILED;
		f->s.err = j->send_err == -EPERM ? SOCK_ERR_FIREWALL
			   : j->send_err ? -j->send_err : SOCK_ERR_NO_REPLY;
		return;
	}
	if (j->step != STEP_DONE) {
		/* A reset did not leave translated: conntrack refused it (inexact). */
		f->s.outcome = OUT_FAILED;
		f->s.err = j->send_err ? -j->send_err : SOCK_ERR_UNVERIFIED;
		return;
	}
	ret = conntrack_get(c, f, &now);
	if (ret == 0 && now.id == f->id && now.ct_state != TCP_CONNTRACK_CLOSE) {
		f->s.outcome = OUT_FAILED;
		f->s.err = SOCK_ERR_SURVIVED;
		return;
	}
	if (ret == -ENOENT || (ret == 0 && now.id != f->id)) {
		/* Closed and dropped by conntrack itself already: both resets went through. */
		f->s.outcome = OUT_KILLED;
		return;
	}
	if (ret < 0) {
		f->s.outcome = OUT_FAILED;
		f->s.err = SOCK_ERR_UNVERIFIED;
		return;
	}
	delete_verified(c, f);
}

int forward_kill_tcp(struct conntrack *c, struct rawio *io, struct ct_flow **flows, size_t n)
{
	struct tcp_run r = { .io = io };
	size_t m = 0;
	int ret = rawio_capture_arriving(io);

	if (ret < 0)
		return ret;
	r.jobs = calloc(n ? n : 1, sizeof(*r.jobs));
	r.out_job = calloc(RAWIO_BATCH, sizeof(*r.out_job));
	if (!r.jobs || !r.out_job || hashmap_init(&r.by_tuple, 2 * n) < 0) {
		free(r.jobs);
		free(r.out_job);
		return -ENOMEM;
	}
	if (getrandom(&r.rng, sizeof(r.rng), 0) != sizeof(r.rng))
		r.rng = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL;
	r.rng |= 1;
	for (size_t i = 0; i < n; i++) {
		struct ct_flow *f = flows[i], now;
		/*
		 * The identity the plan recorded, checked just before anything is sent: the
		 * flow previewed may have ended since, and a new one taken its tuple (a NAT
		 * gateway reuses ports). Its entry has another id: not the flow approved.
		 */
		int got = conntrack_get(c, f, &now);

		if (got == -ENOENT) {
			f->s.outcome = OUT_GONE;
		} else if (got < 0) {
			f->s.outcome = OUT_FAILED;
			f->s.err = SOCK_ERR_UNVERIFIED;
		} else if (now.id != f->id) {
			f->s.outcome = OUT_CHANGED;
		} else if (now.ct_state == TCP_CONNTRACK_TIME_WAIT ||
			   now.ct_state == TCP_CONNTRACK_CLOSE) {
			/* Both ends have closed already: the entry is all that is left. */
			delete_verified(c, f);
		} else if (!probe_state(now.ct_state)) {
			f->s.outcome = OUT_UNSUPPORTED;
			f->s.err = SOCK_ERR_RST_STATE;
		} else {
			r.jobs[m].f = f;
			hashmap_put(&r.by_tuple, tuple_key(f->s.family, f->s.id.idiag_dst,
							   sock_dport(&f->s), f->s.id.idiag_src,
							   sock_sport(&f->s)), (uint32_t)m << 1);
			hashmap_put(&r.by_tuple, tuple_key(f->s.family, f->reply_dst, f->reply_dport,
							   f->reply_src, f->reply_sport),
				    (uint32_t)m << 1 | 1);
			/* The source's challenge ACK as it arrives (the same key without NAT). */
			hashmap_put(&r.by_tuple, tuple_key(f->s.family, f->s.id.idiag_src,
							   sock_sport(&f->s), f->s.id.idiag_dst,
							   sock_dport(&f->s)), (uint32_t)m << 1 | 1);
			m++;
		}
	}
	r.n = m;
	rawio_poll(io, 0, on_segment, &r);	/* what was queued before: not ours */
	r.nout = 0;
	while (pending(&r) && probe_all(&r)) {
		long until = now_ms() + PROBE_WAIT_MS;

		while (pending(&r) && now_ms() < until) {
			ret = rawio_poll(io, (int)(until - now_ms()), on_segment, &r);
			flush(&r);
			expire_asks(&r, false);
			if (ret < 0)
				break;
		}
	}
	/* Every destination has answered or given up: the sources asked last have a moment. */
	for (long until = now_ms() + ASK_WAIT_MS; expire_asks(&r, false) && now_ms() < until;) {
		rawio_poll(io, (int)(until - now_ms()), on_segment, &r);
		flush(&r);
	}
	expire_asks(&r, true);
	/* The last resets' echoes: they leave within the send, but allow the queue a moment. */
	for (long until = now_ms() + 100; pending(&r) && now_ms() < until;) {
		rawio_poll(io, (int)(until - now_ms()), on_segment, &r);
		flush(&r);
	}
	for (size_t i = 0; i < m; i++)
		settle(c, &r.jobs[i]);
	hashmap_free(&r.by_tuple);
	free(r.jobs);
	free(r.out_job);
	return 0;
}
