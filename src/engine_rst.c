/*
 * The rst engine: make each local socket tell us its rcv_nxt, then reset it exactly.
 *
 * A probe that appears to come from the peer draws an ACK carrying snd_nxt/rcv_nxt: a SYN for
 * sockets with full state (RFC 5961 challenge ACK), an out-of-window ACK with one byte for
 * TIME_WAIT and orphaned FIN_WAIT_2 (a SYN could open a new connection there; the byte exempts
 * it from the per-socket rate limit). The reply is captured as it leaves, answered at once with
 * RST seq = reply.ack (the only value RFC 5961 accepts), the silent are re-probed with the
 * one-byte ACK, and every target is verified by cookie. The peer end is reset afterwards from
 * the local address with seq = reply.seq.
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
 * Netfilter conntrack calls a segment beyond the window's right edge "ignore" and one before
 * its left edge "invalid": with a random sequence number a `ct state invalid drop` rule refuses
 * about half the probes (EPERM). Another random number usually passes.
 */
#define MAX_REFUSED 16

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
	uint32_t reply_seq;		/* the local end's snd_nxt: the peer's rcv_nxt */
	int send_err;
	int ifindex;
};

struct rst_run {
	struct engine_ctx *ctx;
	struct sock_set *set;
	struct target *t;		/* one per record */
	struct hashmap by_tuple;	/* tuple hash -> record index */
	size_t waiting;			/* active and not replied */
	uint64_t rng;
	struct pkt_tcp out[RAWIO_BATCH];	/* resets answering replies, sent in batches */
	uint32_t out_idx[RAWIO_BATCH];
	int out_if[RAWIO_BATCH];
	size_t nout;
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

static void flush_resets(struct rst_run *r)
{
	int errs[RAWIO_BATCH];

	if (!r->nout)
		return;
	rawio_send(r->ctx->raw, r->out, r->out_if, r->nout, errs);
	for (size_t i = 0; i < r->nout; i++)
		if (errs[i] && !r->t[r->out_idx[i]].send_err)
			r->t[r->out_idx[i]].send_err = errs[i];
	r->nout = 0;
}

static void on_reply(const struct pkt_tcp *reply, void *arg)
{
	struct rst_run *r = arg;
	uint32_t idx;

	/* A reply leaves the local end: source = local, destination = peer. */
	if (!hashmap_get(&r->by_tuple, tuple_hash(reply->family, reply->saddr, reply->sport,
						   reply->daddr, reply->dport), &idx))
		return;
	struct target *t = &r->t[idx];
	size_t alen = t->family == AF_INET6 ? 16 : 4;

	if (reply->family != t->family || reply->sport != t->lport || reply->dport != t->pport ||
	    memcmp(reply->saddr, t->local, alen) || memcmp(reply->daddr, t->peer, alen) ||
	    !t->active || t->resets >= MAX_RESETS)
		return;
	if (!t->replied) {
		t->replied = true;
		t->ever_replied = true;
		r->waiting--;
	}
	t->reply_seq = reply->seq;
	t->resets++;
	struct pkt_tcp *p = &r->out[r->nout];

	segment(t, true, p);
	p->seq = reply->ack;
	p->flags = PKT_RST;
	r->out_idx[r->nout] = idx;
	r->out_if[r->nout] = t->ifindex;
	if (++r->nout == RAWIO_BATCH)
		flush_resets(r);
}

static void drain(struct rst_run *r, int timeout_ms)
{
	rawio_poll(r->ctx->raw, timeout_ms, on_reply, r);
	flush_resets(r);
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

/*
 * One pass over the targets not yet answered (only those refused last time, if retrying):
 * SYN for full sockets on the first probe, a one-byte out-of-window ACK otherwise. Returns
 * how many were refused and may be tried again.
 */
static size_t probe_pass(struct rst_run *r, bool again, bool retrying)
{
	struct pkt_tcp pk[RAWIO_BATCH];
	uint32_t idx[RAWIO_BATCH];
	int ifs[RAWIO_BATCH], errs[RAWIO_BATCH];
	size_t n = 0, refused = 0;

	for (size_t i = 0; i <= r->set->n; i++) {
		if (i < r->set->n) {
			struct target *t = &r->t[i];

			if (!t->active || t->replied || t->send_err || (retrying && !t->retry))
				continue;
			t->retry = false;
			segment(t, true, &pk[n]);
			pk[n].seq = rnd(r);
			if (t->kind == PROBE_SYN && !again) {
				pk[n].flags = PKT_SYN;
			} else {
				pk[n].flags = PKT_ACK;
				pk[n].ack = rnd(r);
				pk[n].payload = 1;
			}
			idx[n] = (uint32_t)i;
			ifs[n++] = t->ifindex;
		}
		if (n == RAWIO_BATCH || (i == r->set->n && n)) {
			rawio_send(r->ctx->raw, pk, ifs, n, errs);
			for (size_t k = 0; k < n; k++) {
				struct target *t = &r->t[idx[k]];

				if (!errs[k] || t->replied)
					continue;
				if (errs[k] == -EPERM && ++t->refused < MAX_REFUSED) {
					t->retry = true;
					refused++;
				} else {
					t->send_err = errs[k];
					r->waiting--;
				}
			}
			n = 0;
			/* Answer what came back at once: replies queue up in the capture socket. */
			drain(r, 0);
		}
	}
	return refused;
}

static void probe(struct rst_run *r, bool again)
{
	bool retrying = false;

	while (probe_pass(r, again, retrying))
		retrying = true;
}

/*
 * The plan is by cookie: a socket gone (or replaced) since the dump is not probed. The
 * verification dump answers that too: mark the targets as if killed, and what it still lists
 * is there.
 */
static int check_present(struct rst_run *r)
{
	int ret;

	for (size_t i = 0; i < r->set->n; i++)
		if (r->t[i].active)
			r->set->v[i].outcome = OUT_KILLED;
	ret = engine_verify(r->ctx->d, r->set, r->ctx->scope);
	for (size_t i = 0; i < r->set->n && ret == 0; i++) {
		struct sock_rec *rec = &r->set->v[i];

		if (!r->t[i].active)
			continue;
		if (rec->outcome == OUT_KILLED) { /* not listed */
			r->t[i].active = false;
			r->waiting--;
			engine_classify_missing(r->ctx->d, rec);
		} else {
			rec->outcome = OUT_NONE;
			rec->err = 0;
		}
	}
	return ret;
}

/* After the local end is gone: the peer's rcv_nxt is the local snd_nxt the reply carried. */
static void reset_peers(struct rst_run *r)
{
	struct pkt_tcp pk[RAWIO_BATCH];
	uint32_t idx[RAWIO_BATCH];
	int ifs[RAWIO_BATCH], errs[RAWIO_BATCH];
	size_t n = 0;

	for (size_t i = 0; i <= r->set->n; i++) {
		if (i < r->set->n) {
			const struct sock_rec *rec = &r->set->v[i];
			struct target *t = &r->t[i];

			/* A TIME_WAIT's peer has closed already. */
			if (rec->outcome != OUT_KILLED || !t->replied || rec->state == SS_TIME_WAIT)
				continue;
			segment(t, false, &pk[n]);
			pk[n].seq = t->reply_seq;
			pk[n].flags = PKT_RST;
			idx[n] = (uint32_t)i;
			ifs[n++] = t->ifindex;
		}
		if (n == RAWIO_BATCH || (i == r->set->n && n)) {
			rawio_send(r->ctx->raw, pk, ifs, n, errs);
			for (size_t k = 0; k < n; k++)
				if (!errs[k])
					r->set->v[idx[k]].flags |= SOCK_F_PEER_RESET;
			n = 0;
		}
	}
}

static void settle(struct rst_run *r)
{
	for (size_t i = 0; i < r->set->n; i++) {
		struct sock_rec *rec = &r->set->v[i];
		struct target *t = &r->t[i];

		if (!t->active)
			continue;
		if (t->send_err && !t->replied) {
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
		t->replied = t->retry = false;
		t->resets = t->refused = 0;
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
	struct rst_run r = { .ctx = ctx, .set = set };
	int ret = 0;

	if (!set->n)
		return 0;
	/* Without its sockets every target is unsupported here (said once, by engine_open_raw). */
	int raw = engine_open_raw(ctx);

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
		target_init(&r.t[i], rec, kind);
		r.t[i].active = true;
		r.waiting++;
		hashmap_put(&r.by_tuple, tuple_hash(r.t[i].family, r.t[i].local, r.t[i].lport,
						    r.t[i].peer, r.t[i].pport), (uint32_t)i);
	}
	ret = check_present(&r);
	if (ret < 0)
		goto out;
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
out:
	hashmap_free(&r.by_tuple);
	free(r.t);
	return ret;
}

const struct engine engine_rst = {
	.name = "rst",
	.kill = rst_kill,
};
