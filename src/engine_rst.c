// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rst engine: make each local socket tell us its rcv_nxt, then reset it exactly.
 *
 * A probe that appears to come from the peer draws an ACK carrying snd_nxt/rcv_nxt: a SYN for
 * sockets with full state (RFC 5961 challenge ACK), an out-of-window ACK with one byte for
 * TIME_WAIT and orphaned FIN_WAIT_2 (a SYN could open a new connection there; the byte exempts
 * it from the per-socket rate limit). The reply is captured as it leaves, answered at once with
 * RST seq = reply.ack (the only value RFC 5961 accepts), the silent are re-probed with the
 * one-byte ACK, and every target is verified by cookie. The peer end is reset afterwards from
 * the local address with seq = reply.seq, when it is another host's.
 *
 * Identity: a planned connection may close while we act and a new one take its 4-tuple (a
 * client reusing source ports); a reply from the new one would draw a reset that kills it.
 * So every batch of segments, probes and resets alike, is preceded by an exact sock_diag get
 * of its targets' planned ids, cookie included, and what is no longer there is settled (gone
 * or changed) and not sent to. That is enough: a cookie present after a reply was captured
 * means the reply came from it (a 4-tuple has one socket at a time and cookies are never
 * reused), and a reset carrying that reply's ack matches only that socket's rcv_nxt.
 *
 * Closed by its owner, or killed by us: a cookie gone after our reset does not say which. The
 * owner may abort the connection (SO_LINGER {1,0}, or close with unread data) in the moment
 * between the check and the reset: its local end then sends an RST|ACK of its own and is gone,
 * and our reset meets no socket. A socket our reset kills sends nothing. So the capture also
 * takes outgoing RSTs, and an RST from a target's local end to its peer, seen while the target
 * is worked on, marks it closed by its owner: nothing more is sent to it, and a cookie gone is
 * `gone`. Every batch of resets is followed by a look at the capture before verification: an
 * RST that left before our reset arrived is queued by then (on lo, where every reset of ours
 * goes, the tap and the delivery happen inside our sendmmsg). The kernel also answers a probe
 * that reaches no socket with an RST from the local end: gone too, by its owner or its peer.
 *
 * What the local end sends to our own segments while the planned socket exists (6.x,
 * net/ipv4/tcp_input.c, tcp_minisocks.c), so that the rule cannot blame the owner for us:
 * - SYN probe, any synchronized state: tcp_validate_incoming sends a challenge ACK
 *   (tcp_send_challenge_ack, RFC 5961 4.2), in or out of the window; never an RST.
 * - one-byte ACK probe, out of the window: a duplicate ACK (tcp_send_dupack; TIME_WAIT and
 *   orphaned FIN_WAIT2: TCP_TW_ACK). In the window (random seq: about rcv_wnd / 2^32) a
 *   TIME_WAIT still answers TCP_TW_ACK, but a socket closed for reading resets: an orphaned
 *   FIN_WAIT2 (TCP_TW_RST, "new data after half-duplex close"), and a full FIN_WAIT1/2
 *   closed for reading (orphaned by close, or shutdown(SHUT_RD)) if the random ack is also
 *   acceptable (tcp_rcv_state_process: tcp_reset, TCPAbortOnData). That RST answers a segment with ACK, so it carries no ACK flag and
 *   seq = our probe's ack (tcp_v4_send_reset): it is ours, not the owner's, and is told by
 *   exactly that.
 * - our reset: exact, the socket dies silently (tcp_reset); inexact but in the window, a
 *   challenge ACK (tcp_validate_incoming step 2); out of the window, nothing. Never an RST.
 * - LISTEN, SYN_SENT and SYN_RECV, where a bad ACK draws an RST, are never probed.
 * Our own resets are captured too, as they leave: one toward a target's local end whose peer
 * end is a planned target here looks like that target's RST to its peer. It carries no ACK
 * flag and the seq we gave it, and is matched as ours first. Our peer-end resets (local
 * address to peer, no ACK flag) go out after the last look at the capture and only for
 * targets settled already; a later run on the same capture socket discards what is queued.
 */
#include "engine.h"
#include "hashmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#define MAX_RESETS 3	/* an inexact reset draws another challenge ACK: answer it, a few times */
/*
 * Netfilter conntrack lets some out-of-window segments pass as "ignored" and calls the rest
 * "invalid": with random sequence and ack numbers a `ct state invalid drop` rule refused (EPERM)
 * about 7 probes in 10 here (strace over 18 TIME_WAIT kills: 43 refused, 18 passed). Each try
 * is independent, so a refused probe is sent again with new numbers: at that rate 16 tries
 * leave about 1 socket in 270 unprobed (the test saw it), 64 tries about 1 in 5 * 10^9.
 */
#define MAX_REFUSED 64

enum probe_kind { PROBE_SYN, PROBE_ACK };

struct target {
	uint32_t local[4], peer[4];	/* as on the wire: IPv4 in [0] */
	uint16_t lport, pport;
	uint8_t family;			/* on the wire: a v4-mapped socket speaks IPv4 */
	uint8_t kind;			/* enum probe_kind */
	uint8_t resets;
	bool active;			/* probed, waiting for a reply */
	bool replied;
	bool ever_replied;
	bool retry;			/* the last probe was refused (EPERM): send another */
	uint8_t refused;
	uint8_t fired;			/* resets sent to it this round */
	bool vanished;			/* gone after our segments reached it: send nothing more */
	bool owner_closed;		/* its local end sent an RST of its own: send nothing more */
	bool data_probed;		/* a one-byte probe went to it: probe_ack is its ack */
	bool rst_queued;		/* a reset went to it: rst_seq is its seq */
	uint32_t probe_ack;
	uint32_t rst_seq;
	uint32_t reply_seq;		/* the local end's snd_nxt: the peer's rcv_nxt */
	int send_err;
	int ifindex;
};

struct rst_run;

/* Segments waiting to go, each with its target; sent RAWIO_BATCH per rawio_send. */
struct outbox {
	struct pkt_tcp pkt[RAWIO_BATCH];
	uint32_t idx[RAWIO_BATCH];
	int ifindex[RAWIO_BATCH];
	size_t n;
	void (*sent)(struct rst_run *r, uint32_t idx, int err);	/* per segment, after sending */
	bool checked;		/* the targets' identity is checked just before each send */
};

struct rst_run {
	struct engine_ctx *ctx;
	struct sock_set *set;
	struct target *t;		/* one per record */
	struct hashmap by_tuple;	/* tuple hash -> record index */
	size_t waiting;			/* active and not replied */
	uint64_t rng;
	size_t refused;			/* probes refused in this pass, to be sent again */
	struct outbox resets;		/* resets answering replies */
	int err;			/* the first identity check that failed */
};

static uint32_t rnd(struct rst_run *r)
{
	/* xorshift64*: probe values need to be unpredictable to nobody, only spread out. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return (uint32_t)((r->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint64_t tuple_hash(int family, const uint32_t *local, uint16_t lport, const uint32_t *peer,
			   uint16_t pport)
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)family;
	const uint8_t *parts[2] = { (const uint8_t *)local, (const uint8_t *)peer };

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < alen; i++)
			h = (h ^ parts[k][i]) * 0x100000001b3ULL;
	h = (h ^ lport) * 0x100000001b3ULL;
	h = (h ^ pport) * 0x100000001b3ULL;
	return h ? h : 1;
}

static bool v4_mapped(const uint32_t a[4])
{
	return a[0] == 0 && a[1] == 0 && a[2] == htonl(0xffff);
}

/* Which states a probe can reach, and with what. */
static int probe_kind_for(const struct sock_rec *rec)
{
	if (rec->protocol != IPPROTO_TCP)
		return -1;
	if (rec->state == SS_TIME_WAIT || rec->timer == 3) /* 3: a TIME_WAIT timer */
		return PROBE_ACK;
	switch (rec->state) {
	case SS_ESTABLISHED:
	case SS_CLOSE_WAIT:
	case SS_FIN_WAIT1:
	case SS_FIN_WAIT2:
	case SS_LAST_ACK:
	case SS_CLOSING:
		return PROBE_SYN;
	default:
		return -1;
	}
}

static void target_init(struct target *t, const struct sock_rec *rec, int kind)
{
	memset(t, 0, sizeof(*t));
	t->kind = (uint8_t)kind;
	t->lport = sock_sport(rec);
	t->pport = sock_dport(rec);
	t->ifindex = (int)rec->id.idiag_if;
	if (rec->family == AF_INET6 && v4_mapped(rec->id.idiag_src) &&
	    v4_mapped(rec->id.idiag_dst)) {
		t->family = AF_INET;
		t->local[0] = rec->id.idiag_src[3];
		t->peer[0] = rec->id.idiag_dst[3];
	} else {
		t->family = rec->family;
		memcpy(t->local, rec->id.idiag_src, sizeof(t->local));
		memcpy(t->peer, rec->id.idiag_dst, sizeof(t->peer));
	}
}

/* A segment toward the local end (probe, reset) or toward the peer (peer reset). */
static void segment(const struct target *t, bool to_local, struct pkt_tcp *p)
{
	memset(p, 0, sizeof(*p));
	p->family = t->family;
	memcpy(to_local ? p->saddr : p->daddr, t->peer, sizeof(t->peer));
	memcpy(to_local ? p->daddr : p->saddr, t->local, sizeof(t->local));
	p->sport = to_local ? t->pport : t->lport;
	p->dport = to_local ? t->lport : t->pport;
}

/*
 * Appends a segment toward (to_local) or from the local end of target idx; the caller fills
 * in sequence numbers and flags, and flushes when the box is full.
 */
static struct pkt_tcp *outbox_add(struct rst_run *r, struct outbox *o, uint32_t idx,
				  bool to_local)
{
	struct pkt_tcp *p = &o->pkt[o->n];

	segment(&r->t[idx], to_local, p);
	o->idx[o->n] = idx;
	o->ifindex[o->n] = r->t[idx].ifindex;
	o->n++;
	return p;
}

/* Whether the run still waits for a reply from t. */
static bool waiting_for(const struct target *t)
{
	return t->active && !t->replied && !t->send_err && !t->owner_closed;
}

/* Takes a target out of the run with the outcome it has been given. */
static void drop(struct rst_run *r, uint32_t i)
{
	struct target *t = &r->t[i];

	if (waiting_for(t))
		r->waiting--;
	t->active = false;
}

/* The target whose local end is local:lport and whose peer is peer:pport, if planned. */
static bool find_target(const struct rst_run *r, int family, const uint32_t *local,
			uint16_t lport, const uint32_t *peer, uint16_t pport, uint32_t *idx)
{
	size_t alen = family == AF_INET6 ? 16 : 4;

	if (!hashmap_get(&r->by_tuple, tuple_hash(family, local, lport, peer, pport), idx))
		return false;
	const struct target *t = &r->t[*idx];

	return t->family == family && t->lport == lport && t->pport == pport &&
	       !memcmp(t->local, local, alen) && !memcmp(t->peer, peer, alen);
}

/*
 * Looks targets idx[0..n) up by their planned ids, cookie included; ok[k] says whether idx[k]
 * may be sent to. One no longer there is sent nothing more. If a reset of ours reached it,
 * verification decides; else if another socket has its 4-tuple now, it is changed; else if it
 * answered our probe, verification decides too (a TIME_WAIT whose peer has no socket any more
 * dies of the peer's reset to its answer); else it is gone. A check that fails leaves its
 * targets failed(unverified): nothing is sent to them.
 */
static void recheck(struct rst_run *r, const uint32_t *idx, size_t n, bool *ok)
{
	struct sock_rec *recs[DIAG_BATCH];

	for (size_t k0 = 0; k0 < n; k0 += DIAG_BATCH) {
		size_t m = n - k0 < DIAG_BATCH ? n - k0 : DIAG_BATCH;

		for (size_t k = 0; k < m; k++)
			recs[k] = &r->set->v[idx[k0 + k]];
		int ret = diag_check_batch(r->ctx->d, recs, m, true, ok + k0, NULL);

		if (ret < 0 && !r->err)
			r->err = ret;
		for (size_t k = 0; k < m; k++) {
			uint32_t i = idx[k0 + k];
			struct target *t = &r->t[i];

			if (ret < 0) {
				ok[k0 + k] = false;
				recs[k]->outcome = OUT_FAILED;
				recs[k]->err = SOCK_ERR_UNVERIFIED;
				drop(r, i);
				continue;
			}
			if (ok[k0 + k] && (t->vanished || t->owner_closed))
				ok[k0 + k] = false; /* a duplicate of a target found gone */
			if (ok[k0 + k] || !t->active || t->vanished || t->owner_closed)
				continue;
			if (!t->fired) {
				engine_classify_missing(r->ctx->d, recs[k]);
				if (recs[k]->outcome == OUT_CHANGED || !t->replied) {
					drop(r, i);
					continue;
				}
				recs[k]->outcome = OUT_NONE;
			}
			t->vanished = true;
		}
	}
}

/* Sends what the box holds to whom it may still go. Returns how many segments went. */
static size_t outbox_flush(struct rst_run *r, struct outbox *o)
{
	int errs[RAWIO_BATCH];
	size_t n = 0;

	/* Closed by its owner since the segment was queued: nothing more goes to it. */
	for (size_t k = 0; k < o->n; k++) {
		if (r->t[o->idx[k]].owner_closed)
			continue;
		o->pkt[n] = o->pkt[k];
		o->idx[n] = o->idx[k];
		o->ifindex[n] = o->ifindex[k];
		n++;
	}
	o->n = n;
	if (!n)
		return 0;
	if (o->checked) {
		bool ok[RAWIO_BATCH];
		size_t w = 0;

		recheck(r, o->idx, n, ok);
		for (size_t k = 0; k < n; k++) {
			if (!ok[k])
				continue;
			o->pkt[w] = o->pkt[k];
			o->idx[w] = o->idx[k];
			o->ifindex[w] = o->ifindex[k];
			w++;
		}
		n = w;
	}
	o->n = 0;
	if (!n)
		return 0;
	rawio_send(r->ctx->raw, o->pkt, o->ifindex, n, errs);
	for (size_t k = 0; k < n; k++)
		o->sent(r, o->idx[k], errs[k]);
	return n;
}

static void reset_sent(struct rst_run *r, uint32_t idx, int err)
{
	if (!err && r->t[idx].fired < UINT8_MAX)
		r->t[idx].fired++;
	if (err && !r->t[idx].send_err)
		r->t[idx].send_err = err;
}

/*
 * An RST leaving a local end. Ours (a reset toward a target's local end, seen as it left, or
 * what our one-byte probe drew) tells nothing; any other from a target's local end to its peer
 * while the target is worked on (no outcome yet) says its owner closed it (see the top).
 */
static void on_rst(struct rst_run *r, const struct pkt_tcp *rst)
{
	bool bare = !(rst->flags & PKT_ACK);
	uint32_t idx;

	if (bare && find_target(r, rst->family, rst->daddr, rst->dport, rst->saddr, rst->sport,
				&idx) && r->t[idx].rst_queued && r->t[idx].rst_seq == rst->seq)
		return;
	if (!find_target(r, rst->family, rst->saddr, rst->sport, rst->daddr, rst->dport, &idx))
		return;
	struct target *t = &r->t[idx];

	if (!t->active || t->owner_closed || r->set->v[idx].outcome != OUT_NONE)
		return;
	if (waiting_for(t))
		r->waiting--;
	if (bare && t->data_probed && rst->seq == t->probe_ack) {
		/* Our probe's answer, the last segment of that socket (if any): as a reply. */
		t->replied = t->vanished = true;
		return;
	}
	t->owner_closed = true;
}

static void on_segment(const struct pkt_tcp *reply, void *arg)
{
	struct rst_run *r = arg;
	uint32_t idx;

	if (reply->flags & PKT_RST) {
		on_rst(r, reply);
		return;
	}
	/* A reply leaves the local end: source = local, destination = peer. */
	if (!find_target(r, reply->family, reply->saddr, reply->sport, reply->daddr, reply->dport,
			 &idx))
		return;
	struct target *t = &r->t[idx];

	if (!t->active || t->vanished || t->owner_closed || t->resets >= MAX_RESETS)
		return;
	if (!t->replied) {
		t->replied = true;
		t->ever_replied = true;
		r->waiting--;
	}
	t->reply_seq = reply->seq;
	t->resets++;
	struct pkt_tcp *p = outbox_add(r, &r->resets, idx, true);

	p->seq = reply->ack;
	p->flags = PKT_RST;
	t->rst_seq = p->seq;
	t->rst_queued = true;
	if (r->resets.n == RAWIO_BATCH)
		outbox_flush(r, &r->resets);
}

/*
 * Takes what the capture holds and answers it; after every batch of resets sent, looks again,
 * so that an owner's RST that left before ours arrived is seen before verification.
 */
static void drain(struct rst_run *r, int timeout_ms)
{
	rawio_poll(r->ctx->raw, timeout_ms, on_segment, r);
	while (outbox_flush(r, &r->resets))
		rawio_poll(r->ctx->raw, 0, on_segment, r);
}

static void discard(const struct pkt_tcp *seg, void *arg)
{
	(void)seg;
	(void)arg;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until every probed target has replied, or wait_ms passed. */
static void wait_replies(struct rst_run *r, int wait_ms)
{
	int64_t deadline = now_ms() + wait_ms;

	drain(r, 0);
	while (r->waiting) {
		int64_t left = deadline - now_ms();

		if (left <= 0)
			break;
		drain(r, (int)left);
	}
}

/* A refused probe (EPERM) is sent again with other numbers; other errors end the target. */
static void probe_sent(struct rst_run *r, uint32_t idx, int err)
{
	struct target *t = &r->t[idx];

	if (!err || t->replied || t->owner_closed)
		return;
	if (err == -EPERM && ++t->refused < MAX_REFUSED) {
		t->retry = true;
		r->refused++;
	} else {
		t->send_err = err;
		r->waiting--;
	}
}

/*
 * One pass over the targets not yet answered (only those refused last time, if retrying):
 * SYN for full sockets on the first probe, a one-byte out-of-window ACK otherwise. Returns
 * how many were refused and may be tried again.
 */
static size_t probe_pass(struct rst_run *r, bool again, bool retrying)
{
	struct outbox o = { .sent = probe_sent, .checked = true };

	r->refused = 0;
	for (size_t i = 0; i < r->set->n; i++) {
		struct target *t = &r->t[i];

		if (!t->active || t->vanished || t->owner_closed || t->replied || t->send_err ||
		    (retrying && !t->retry))
			continue;
		t->retry = false;
		struct pkt_tcp *p = outbox_add(r, &o, (uint32_t)i, true);

		p->seq = rnd(r);
		if (t->kind == PROBE_SYN && !again) {
			p->flags = PKT_SYN;
		} else {
			p->flags = PKT_ACK;
			p->ack = rnd(r);
			p->payload = 1;
			t->probe_ack = p->ack;
			t->data_probed = true;
		}
		if (o.n == RAWIO_BATCH) {
			outbox_flush(r, &o);
			/* Answer what came back at once: replies queue up in the capture socket. */
			drain(r, 0);
		}
	}
	outbox_flush(r, &o);
	drain(r, 0);
	return r->refused;
}

static void probe(struct rst_run *r, bool again)
{
	bool retrying = false;

	while (probe_pass(r, again, retrying))
		retrying = true;
}

static void peer_sent(struct rst_run *r, uint32_t idx, int err)
{
	if (!err)
		r->set->v[idx].flags |= SOCK_F_PEER_RESET;
}

/* The plan's record for the other end of target i's connection, if it holds it. */
static bool peer_planned(const struct rst_run *r, uint32_t i)
{
	const struct target *t = &r->t[i];
	size_t alen = t->family == AF_INET6 ? 16 : 4;
	uint32_t j;

	if (!hashmap_get(&r->by_tuple, tuple_hash(t->family, t->peer, t->pport, t->local,
						   t->lport), &j))
		return false;
	const struct target *u = &r->t[j];

	return u->family == t->family && u->lport == t->pport && u->pport == t->lport &&
	       !memcmp(u->local, t->peer, alen) && !memcmp(u->peer, t->local, alen);
}

/*
 * Peer resets for idx[0..n) (killed, remote peers), after checking that no other socket has
 * taken the 4-tuple since: if one has, the peer end is probably its connection's now.
 */
static void reset_remote_peers(struct rst_run *r, const uint32_t *idx, size_t n)
{
	struct outbox o = { .sent = peer_sent };
	struct sock_rec *recs[DIAG_BATCH];
	struct sock_rec found[DIAG_BATCH];
	bool taken[DIAG_BATCH];

	for (size_t k0 = 0; k0 < n; k0 += DIAG_BATCH) {
		size_t m = n - k0 < DIAG_BATCH ? n - k0 : DIAG_BATCH;

		for (size_t k = 0; k < m; k++)
			recs[k] = &r->set->v[idx[k0 + k]];
		/* Without a cookie: any socket now on the 4-tuple (or a listener on the port). */
		if (diag_check_batch(r->ctx->d, recs, m, false, taken, found) < 0)
			continue; /* cannot tell: the peer is left alone */
		for (size_t k = 0; k < m; k++) {
			uint32_t i = idx[k0 + k];

			if (taken[k] && engine_same_tuple(&found[k], recs[k]))
				continue;
			struct pkt_tcp *p = outbox_add(r, &o, i, false);

			p->seq = r->t[i].reply_seq;
			p->flags = PKT_RST;
			if (o.n == RAWIO_BATCH)
				outbox_flush(r, &o);
		}
	}
	outbox_flush(r, &o);
}

/*
 * After the local end is gone: the peer's rcv_nxt is the local snd_nxt the reply carried. A
 * peer at an address of this namespace is a socket here: the plan holds it (its own target)
 * or does not (left alone, as the preview did not show it). Only another host's end is reset.
 */
static void reset_peers(struct rst_run *r)
{
	uint32_t *idx = malloc(r->set->n * sizeof(*idx));
	size_t n = 0;

	if (!idx)
		return;
	for (size_t i = 0; i < r->set->n; i++) {
		struct sock_rec *rec = &r->set->v[i];
		struct target *t = &r->t[i];

		/* A TIME_WAIT's peer has closed already. */
		if (rec->outcome != OUT_KILLED || !t->replied || rec->state == SS_TIME_WAIT)
			continue;
		int local = rawio_is_local(r->ctx->raw, t->family, t->peer);

		if (local > 0)
			rec->flags |= peer_planned(r, (uint32_t)i) ? SOCK_F_PEER_PLANNED
								   : SOCK_F_PEER_LEFT;
		else if (local == 0)
			idx[n++] = (uint32_t)i;
	}
	reset_remote_peers(r, idx, n);
	free(idx);
}

static void settle(struct rst_run *r)
{
	for (size_t i = 0; i < r->set->n; i++) {
		struct sock_rec *rec = &r->set->v[i];
		struct target *t = &r->t[i];

		if (!t->active)
			continue;
		if (t->send_err && !t->replied && !t->owner_closed) {
			rec->outcome = OUT_FAILED;
			rec->err = t->send_err == -EPERM ? SOCK_ERR_FIREWALL : t->send_err;
		} else {
			/* Verification decides: what is no longer listed is dead. */
			rec->outcome = OUT_KILLED;
			rec->err = 0;
		}
	}
}

/* Targets verification still lists go round again. Returns how many. */
static size_t rearm_survivors(struct rst_run *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->set->n; i++) {
		struct sock_rec *rec = &r->set->v[i];
		struct target *t = &r->t[i];

		/* The silent had their two probes already. */
		if (!t->active || !t->ever_replied || rec->outcome != OUT_FAILED ||
		    rec->err != SOCK_ERR_SURVIVED)
			continue;
		t->replied = t->retry = t->owner_closed = false;
		t->resets = t->refused = t->fired = 0;
		t->send_err = 0;
		rec->outcome = OUT_NONE;
		rec->err = 0;
		r->waiting++;
		n++;
	}
	return n;
}

static int rst_kill(struct engine_ctx *ctx, struct sock_set *set)
{
	struct rst_run r = { .ctx = ctx, .set = set,
			     .resets = { .sent = reset_sent, .checked = true } };
	int ret = 0;

	if (!set->n)
		return 0;
	/* Without its sockets every target is unsupported here (said once, by engine_open_raw). */
	int raw = engine_open_raw(ctx);

	if (raw == 0 && (raw = rawio_capture(ctx->raw)) < 0)
		fprintf(stderr, "sockreap: rst engine: cannot start the capture: %s\n",
			strerror(-raw));

	/* Frames of an earlier run on this capture socket (its peer resets) are not this run's. */
	if (raw == 0)
		rawio_poll(ctx->raw, 0, discard, NULL);

	r.t = calloc(set->n, sizeof(*r.t));
	if (!r.t)
		return -ENOMEM;
	ret = hashmap_init(&r.by_tuple, set->n);
	if (ret < 0)
		goto out;
	if (getrandom(&r.rng, sizeof(r.rng), 0) != sizeof(r.rng))
		r.rng = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL;
	r.rng |= 1;

	for (size_t i = 0; i < set->n; i++) {
		struct sock_rec *rec = &set->v[i];
		int kind = probe_kind_for(rec);

		rec->engine = SOCK_ENGINE_RST;
		rec->err = 0;
		/* Every record's tuple is known, so that a local peer end is found in the plan. */
		target_init(&r.t[i], rec, kind < 0 ? PROBE_ACK : kind);
		hashmap_put(&r.by_tuple, tuple_hash(r.t[i].family, r.t[i].local, r.t[i].lport,
						    r.t[i].peer, r.t[i].pport), (uint32_t)i);
		if (kind < 0 || raw < 0) {
			rec->outcome = raw == -EPERM ? OUT_DENIED : OUT_UNSUPPORTED;
			rec->err = kind < 0 ? SOCK_ERR_RST_STATE : raw;
			continue;
		}
		if (rec->state == SS_TIME_WAIT && ctx->rfc1337 > 0) {
			rec->outcome = OUT_UNSUPPORTED;
			rec->err = SOCK_ERR_RFC1337;
			continue;
		}
		r.t[i].active = true;
		r.waiting++;
	}
	int wait = ctx->probe_wait_ms > 0 ? ctx->probe_wait_ms : ENGINE_PROBE_WAIT_MS;

	/*
	 * Two rounds: a reset can still be lost (a dropped capture, a refused send under load);
	 * what survives the first is probed again, with the one-byte ACK (a second SYN would fall
	 * in the per-socket rate limit), and verified again.
	 */
	for (int round = 0; round < 2 && ret == 0; round++) {
		if (round && !rearm_survivors(&r))
			break;
		if (r.waiting) {
			probe(&r, round > 0);
			wait_replies(&r, wait);
			unsigned drops = rawio_drops(ctx->raw);

			/* Replies lost to a full capture buffer come back with the re-probe. */
			if (drops && r.waiting)
				fprintf(stderr, "sockreap: rst engine: the capture socket dropped %u "
						"frames; probing %zu sockets again\n", drops, r.waiting);
			if (r.waiting) {
				probe(&r, true);
				wait_replies(&r, wait);
			}
			/* Inexact resets draw challenge ACKs; answer what is already queued. */
			drain(&r, 0);
		}
		settle(&r);
		ret = engine_verify(ctx->d, set, ctx->scope);
		/*
		 * Not listed, but its owner's RST left first: closed by its owner, not by us;
		 * changed rather than gone when a new socket holds its 4-tuple by now.
		 */
		for (size_t i = 0; i < set->n; i++)
			if (r.t[i].active && r.t[i].owner_closed && set->v[i].outcome == OUT_KILLED)
				engine_classify_missing(ctx->d, &set->v[i]);
	}
	for (size_t i = 0; i < set->n; i++) {
		struct sock_rec *rec = &set->v[i];

		if (!r.t[i].active || r.t[i].ever_replied)
			continue;
		/* Never answered: gone by itself if it is not listed, else it did not reply. */
		if (rec->outcome == OUT_KILLED)
			rec->outcome = OUT_GONE;
		else if (rec->err == SOCK_ERR_SURVIVED)
			rec->err = SOCK_ERR_NO_REPLY;
	}
	if (ctx->peer_reset)
		reset_peers(&r);
	if (ret == 0)
		ret = r.err;
out:
	hashmap_free(&r.by_tuple);
	free(r.t);
	return ret;
}

const struct engine engine_rst = {
	.name = "rst",
	.kill = rst_kill,
};
