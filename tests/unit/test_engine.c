// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The engines through their seams: destroy's every netlink answer maps to its outcome; rst
 * against a fake TCP that answers probes as the kernel does; auto falls back to rst exactly
 * where destroy answers EOPNOTSUPP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>

#include "engine.h"
#include "fake_diag.h"
#include "fake_rawio.h"
#include "fixtures.h"
#include "plan.h"

static void release(struct engine_ctx *ctx, struct sock_set *set)
{
	rawio_close(ctx->raw);
	ctx->raw = NULL;
	sock_set_free(set);
}

static void test_engine_outcomes(void **state)
{
	struct engine_ctx ctx = { 0 };
	static const struct fake_sock script[] = {
		{ .cookie = 1, .destroy_err = 0 },
		{ .cookie = 2, .destroy_err = -ENOENT, .reused = true },
		{ .cookie = 3, .destroy_err = -ENOENT, .listener_behind = true },
		{ .cookie = 4, .destroy_err = -ENOENT },
		{ .cookie = 5, .destroy_err = -EPERM },
		{ .cookie = 6, .destroy_err = -EOPNOTSUPP },
		{ .cookie = 7, .destroy_err = -EBUSY },
		{ .cookie = 8, .destroy_err = 0, .survives = true },
		{ .cookie = 9, .destroy_err = DIAG_NO_ACK },
		{ .cookie = 10, .destroy_err = DIAG_NO_ACK, .survives = true },
	};
	static const struct {
		enum sock_outcome outcome;
		int err;
	} want[] = {
		{ OUT_KILLED, 0 },	 { OUT_CHANGED, 0 },	 { OUT_GONE, 0 },
		{ OUT_GONE, 0 },	 { OUT_DENIED, -EPERM }, { OUT_UNSUPPORTED, -EOPNOTSUPP },
		{ OUT_FAILED, -EBUSY },	 { OUT_FAILED, SOCK_ERR_SURVIVED },
		{ OUT_KILLED, 0 },	 { OUT_FAILED, SOCK_ERR_SURVIVED },
	};
	struct sock_set set = { 0 };

	(void)state;
	fake_diag_script(script, 10);
	fake_rawio_script(NULL, 0);
	for (uint64_t c = 1; c <= 10; c++) {
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2", (uint16_t)(40000 + c),
					   SS_CLOSE_WAIT, c);

		sock_set_push(&set, &r);
	}
	assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
	for (size_t i = 0; i < 10; i++) {
		if (set.v[i].outcome != want[i].outcome || set.v[i].err != want[i].err)
			fail_msg("cookie %zu: %s/%d, expected %s/%d", i + 1,
				 sock_outcome_name(set.v[i].outcome), set.v[i].err,
				 sock_outcome_name(want[i].outcome), want[i].err);
	}
	release(&ctx, &set);
}

/*
 * A big plan shared among worker threads: every socket destroyed exactly once, each outcome
 * the one its own answer gives, the helpers' sockets closed again.
 */
static void test_engine_workers(void **state)
{
	enum { N = ENGINE_PARALLEL_MIN + 1500 };
	static const struct fake_sock script[] = {
		{ .cookie = 300, .destroy_err = -EPERM },
		{ .cookie = 2000, .destroy_err = 0, .survives = true },
		{ .cookie = 4100, .destroy_err = -ENOENT, .reused = true },
		{ .cookie = N, .destroy_err = -EOPNOTSUPP },
	};
	static const int workers[] = { 2, 4 };

	(void)state;
	for (size_t w = 0; w < 2; w++) {
		struct engine_ctx ctx = { .workers = workers[w] };
		struct sock_set set = { 0 };
		size_t sizes[64], total = 0, nb;
		int open;

		fake_diag_script(script, 4);
		fake_rawio_script(NULL, 0);
		for (uint64_t c = 1; c <= N; c++) {
			struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2",
						   (uint16_t)(1000 + c), SS_CLOSE_WAIT, c);

			sock_set_push(&set, &r);
		}
		assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
		assert_int_equal(fake_diag_workers(&open), workers[w] - 1);
		assert_int_equal(open, 0);
		nb = fake_diag_batches(sizes, 64);
		assert_int_equal(nb, (N + DIAG_BATCH - 1) / DIAG_BATCH);
		for (size_t b = 0; b < nb; b++)
			total += sizes[b];
		assert_int_equal(total, N);
		for (size_t i = 0; i < set.n; i++) {
			uint64_t c = i + 1;
			enum sock_outcome want = c == 300    ? OUT_DENIED
						 : c == 2000 ? OUT_FAILED
						 : c == 4100 ? OUT_CHANGED
						 : c == N    ? OUT_UNSUPPORTED
							     : OUT_KILLED;

			if (fake_diag_destroyed(c) != 1)
				fail_msg("cookie %" PRIu64 " destroyed %u times", c, fake_diag_destroyed(c));
			if (set.v[i].outcome != want)
				fail_msg("cookie %" PRIu64 ": %s, expected %s", c,
					 sock_outcome_name(set.v[i].outcome), sock_outcome_name(want));
		}
		release(&ctx, &set);
	}
}

/* Small plans stay in the calling thread; a helper that cannot be had is not needed. */
static void test_engine_workers_not_needed(void **state)
{
	for (int fail = 0; fail < 2; fail++) {
		struct engine_ctx ctx = { .workers = 4 };
		struct sock_set set = { 0 };
		size_t n = fail ? ENGINE_PARALLEL_MIN * 2 : ENGINE_PARALLEL_MIN - 1;
		int open;

		(void)state;
		fake_diag_script(NULL, 0);
		fake_rawio_script(NULL, 0);
		if (fail)
			fake_diag_worker_fail(-EMFILE);
		for (uint64_t c = 1; c <= n; c++) {
			struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2",
						   (uint16_t)(1000 + c), SS_CLOSE_WAIT, c);

			sock_set_push(&set, &r);
		}
		assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
		assert_int_equal(fake_diag_workers(&open), 0);
		for (size_t i = 0; i < set.n; i++) {
			assert_int_equal(fake_diag_destroyed(i + 1), 1);
			assert_int_equal(set.v[i].outcome, OUT_KILLED);
		}
		release(&ctx, &set);
	}
}

/* A plan of n CLOSE_WAITs, cookies 1..n. */
static void push_plan(struct sock_set *set, size_t n)
{
	for (uint64_t c = 1; c <= n; c++) {
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2",
					   (uint16_t)(1000 + c), SS_CLOSE_WAIT, c);

		sock_set_push(set, &r);
	}
}

/*
 * A gate that opened to 1000 and closed (the intents past it could not be written): exactly
 * the first 1000 are destroyed, a partly open batch included, by every number of threads;
 * the rest are never sent and say why (skipped, no-intent).
 */
static void test_engine_gate_closed(void **state)
{
	enum { N = ENGINE_PARALLEL_MIN + 1500, OPEN = 1000 };

	(void)state;
	for (int workers = 1; workers <= 2; workers++) {
		struct engine_gate gate;
		struct engine_ctx ctx = { .workers = workers, .gate = &gate };
		struct sock_set set = { 0 };

		engine_gate_init(&gate, OPEN);
		engine_gate_close(&gate);
		fake_diag_script(NULL, 0);
		fake_rawio_script(NULL, 0);
		push_plan(&set, N);
		assert_int_equal(engine_auto.kill(&ctx, &set), 0);
		for (size_t i = 0; i < set.n; i++) {
			uint64_t c = i + 1;

			if (fake_diag_destroyed(c) != (c <= OPEN))
				fail_msg("%d workers: cookie %" PRIu64 " destroyed %u times", workers,
					 c, fake_diag_destroyed(c));
			if (c <= OPEN)
				assert_int_equal(set.v[i].outcome, OUT_KILLED);
			else if (set.v[i].outcome != OUT_SKIPPED || set.v[i].err != SOCK_ERR_NO_INTENT)
				fail_msg("cookie %" PRIu64 ": %s/%d, expected skipped/no-intent", c,
					 sock_outcome_name(set.v[i].outcome), set.v[i].err);
		}
		engine_gate_destroy(&gate);
		release(&ctx, &set);
	}
}

struct opener {
	struct engine_gate *gate;
	size_t n;
	size_t seen_past;	/* destroys of records past the gate, seen while it was shut */
};

/*
 * Opens the gate a batch and a half at a time; before each step, checks that nothing past
 * what is open has been sent (the engine threads can only be waiting for it).
 */
static void *open_slowly(void *arg)
{
	struct opener *o = arg;

	for (size_t open = 0; open < o->n; open += DIAG_BATCH + DIAG_BATCH / 2) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		for (uint64_t c = open + 1; c <= o->n; c++)
			o->seen_past += fake_diag_destroyed(c) != 0;
		engine_gate_open(o->gate, open);
	}
	engine_gate_open(o->gate, o->n);
	return NULL;
}

/* A gate opened step by step: every socket destroyed once, none before its step. */
static void test_engine_gate_waits(void **state)
{
	enum { N = ENGINE_PARALLEL_MIN + 700 };
	struct engine_gate gate;
	struct engine_ctx ctx = { .workers = 2, .gate = &gate };
	struct sock_set set = { 0 };
	struct opener o = { &gate, N, 0 };
	pthread_t t;

	(void)state;
	engine_gate_init(&gate, 0);
	fake_diag_script(NULL, 0);
	fake_rawio_script(NULL, 0);
	push_plan(&set, N);
	assert_int_equal(pthread_create(&t, NULL, open_slowly, &o), 0);
	assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
	pthread_join(t, NULL);
	assert_int_equal(o.seen_past, 0);
	for (size_t i = 0; i < set.n; i++) {
		assert_int_equal(fake_diag_destroyed(i + 1), 1);
		assert_int_equal(set.v[i].outcome, OUT_KILLED);
	}
	engine_gate_destroy(&gate);
	release(&ctx, &set);
}

static void test_engine_udp_stays_bound(void **state)
{
	struct engine_ctx ctx = { 0 };
	static const struct fake_sock script[] = {
		{ .cookie = 1, .destroy_err = 0, .survives = true },
		{ .cookie = 2, .destroy_err = 0 },
	};
	struct sock_set set = { 0 };

	(void)state;
	fake_diag_script(script, 2);
	fake_rawio_script(NULL, 0);
	for (uint64_t c = 1; c <= 2; c++) {
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5353, "10.0.0.2", (uint16_t)(40000 + c),
					   SS_ESTABLISHED, c);

		r.protocol = IPPROTO_UDP;
		sock_set_push(&set, &r);
	}
	assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
	/* Still listed after a destroy is normal for a bound UDP socket: killed, and said so. */
	assert_int_equal(set.v[0].outcome, OUT_KILLED);
	assert_string_equal(sock_outcome_detail(&set.v[0]), "stays-bound");
	assert_int_equal(set.v[1].outcome, OUT_KILLED);
	assert_null(sock_outcome_detail(&set.v[1]));
	release(&ctx, &set);
}

static void test_engine_batches_of_256(void **state)
{
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };
	size_t sizes[8];

	(void)state;
	fake_diag_script(NULL, 0);
	fake_rawio_script(NULL, 0);
	for (uint64_t c = 1; c <= 600; c++) {
		struct sock_rec r = fx_rec(AF_INET6, "::1", 80, "::1", (uint16_t)(1000 + c),
					   SS_ESTABLISHED, c);

		sock_set_push(&set, &r);
	}
	assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
	assert_int_equal(fake_diag_batches(sizes, 8), 3);
	assert_int_equal(sizes[0], 256);
	assert_int_equal(sizes[1], 256);
	assert_int_equal(sizes[2], 88);
	for (size_t i = 0; i < set.n; i++)
		assert_int_equal(set.v[i].outcome, OUT_KILLED);
	release(&ctx, &set);
}


static struct fake_tcp fake(int family, const char *l, uint16_t lp, const char *p, uint16_t pp,
			    unsigned state, uint64_t cookie, unsigned quirks)
{
	struct fake_tcp t;

	memset(&t, 0, sizeof(t));
	t.rec = fx_rec(family, l, lp, p, pp, state, cookie);
	t.snd_nxt = 0x10000000u + (uint32_t)cookie * 7919u;
	t.rcv_nxt = 0xf0000000u + (uint32_t)cookie * 104729u;
	t.quirks = quirks;
	return t;
}

static void plan_of(struct sock_set *set, const struct fake_tcp *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sock_set_push(set, &t[i].rec);
}

/* The fake kernel holds t; the plan is their records. */
static void script_rst(struct fake_tcp *t, size_t n, struct sock_set *set)
{
	fake_diag_script(NULL, 0);
	fake_rawio_script(t, n);
	plan_of(set, t, n);
}

static struct engine_ctx rst_ctx(void)
{
	struct engine_ctx ctx = { 0 };

	ctx.raw_allowed = true;
	ctx.peer_reset = true;
	ctx.rfc1337 = 0;
	ctx.probe_wait_ms = 1;
	return ctx;
}

#define EXPECT(i, o, e)                                                                        \
	do {                                                                                   \
		if (set.v[i].outcome != (o) || set.v[i].err != (e))                            \
			fail_msg("socket %d: %s/%d, expected %s/%d", (i),                      \
				 sock_outcome_name(set.v[i].outcome), set.v[i].err,            \
				 sock_outcome_name(o), (e));                                   \
	} while (0)

/* Each state gets its probe (never a SYN to TIME_WAIT), then exactly rcv_nxt. */
static void test_engine_rst_states(void **state)
{
	static struct fake_tcp t[6];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.99.0.1", 5432, "10.99.0.2", 40001, SS_CLOSE_WAIT, 1, 0);
	t[1] = fake(AF_INET6, "fd99::1", 443, "fd99::2", 40002, SS_ESTABLISHED, 2, 0);
	t[2] = fake(AF_INET, "10.99.0.1", 80, "10.99.0.2", 40003, SS_TIME_WAIT, 3, 0);
	t[3] = fake(AF_INET, "10.99.0.1", 81, "10.99.0.2", 40004, SS_FIN_WAIT2, 4, 0);
	t[3].rec.timer = 3; /* orphaned: lives in the TIME_WAIT table */
	t[4] = fake(AF_INET6, "fd99::1", 82, "fd99::2", 40005, SS_LAST_ACK, 5, 0);
	t[5] = fake(AF_INET, "10.99.0.1", 83, "0.0.0.0", 0, SS_LISTEN, 6, 0);
	script_rst(t, 6, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	for (int i = 0; i < 5; i++) {
		EXPECT(i, OUT_KILLED, 0);
		assert_int_equal(set.v[i].engine, SOCK_ENGINE_RST);
		assert_false(t[i].alive);
		assert_int_equal(t[i].resets_in, 1);
	}
	EXPECT(5, OUT_UNSUPPORTED, SOCK_ERR_RST_STATE);
	assert_true(t[5].alive);
	assert_int_equal(t[5].syn_probes + t[5].ack_probes + t[5].resets_in, 0);
	/* SYN for full state; an out-of-window ACK with a byte for TIME_WAIT and the orphan. */
	assert_int_equal(t[0].syn_probes, 1);
	assert_int_equal(t[1].syn_probes, 1);
	assert_int_equal(t[4].syn_probes, 1);
	assert_int_equal(t[2].syn_probes, 0);
	assert_int_equal(t[2].ack_probes, 1);
	assert_int_equal(t[3].syn_probes, 0);
	assert_int_equal(t[3].ack_probes, 1);
	/* The peer end, with its rcv_nxt (our snd_nxt); not for TIME_WAIT. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(t[i].peer_resets, i == 2 ? 0 : 1);
		assert_int_equal(!!(set.v[i].flags & SOCK_F_PEER_RESET), i != 2);
		if (i != 2)
			assert_int_equal(t[i].peer_reset_seq, t[i].snd_nxt);
	}
	assert_int_equal(fake_rawio_strays(), 0);
	release(&ctx, &set);
}

/* A SYN inside the per-socket rate limit draws nothing: the one-byte ACK re-probe does. */
static void test_engine_rst_reprobes_the_silent(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "127.0.0.1", 5432, "127.0.0.1", 40001, SS_CLOSE_WAIT, 1,
		    FQ_SILENT_TO_SYN);
	t[1] = fake(AF_INET, "127.0.0.1", 5432, "127.0.0.1", 40002, SS_CLOSE_WAIT, 2, 0);
	script_rst(t, 2, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	EXPECT(1, OUT_KILLED, 0);
	assert_int_equal(t[0].syn_probes, 1);
	assert_int_equal(t[0].ack_probes, 1);
	assert_int_equal(t[1].ack_probes, 0); /* answered the first time: not re-probed */
	release(&ctx, &set);
}

/* Data arriving between the reply and the reset: the inexact reset draws a challenge ACK. */
static void test_engine_rst_answers_a_moved_rcv_nxt(void **state)
{
	static struct fake_tcp t[1];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "127.0.0.1", 5432, "127.0.0.1", 40001, SS_ESTABLISHED, 1,
		    FQ_RCV_MOVES);
	script_rst(t, 1, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_int_equal(t[0].resets_in, 2);
	assert_false(t[0].alive);
	release(&ctx, &set);
}

/* Silence, a firewall, tcp_rfc1337 and a socket gone since the dump: each said as it is. */
static void test_engine_rst_honest_failures(void **state)
{
	static struct fake_tcp t[5];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_CLOSE_WAIT, 1,
		    FQ_NEVER_REPLIES);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40002, SS_TIME_WAIT, 2, FQ_SEND_EPERM);
	t[2] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40003, SS_TIME_WAIT, 3, 0);
	t[3] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40004, SS_CLOSE_WAIT, 4, FQ_GONE);
	t[4] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40005, SS_ESTABLISHED, 5, 0);
	script_rst(t, 5, &set);
	set.v[1].state = SS_FIN_WAIT2; /* the firewall case, not rfc1337's */
	set.v[1].timer = 3;
	ctx.rfc1337 = 1;
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_FAILED, SOCK_ERR_NO_REPLY);
	assert_string_equal(sock_outcome_detail(&set.v[0]), "no-reply");
	assert_int_equal(t[0].peer_resets, 0);
	EXPECT(1, OUT_FAILED, SOCK_ERR_FIREWALL);
	assert_string_equal(sock_outcome_detail(&set.v[1]), "firewall");
	assert_int_equal(t[1].refused, 64); /* fresh random numbers, then it gives up */
	EXPECT(2, OUT_UNSUPPORTED, SOCK_ERR_RFC1337);
	assert_int_equal(t[2].ack_probes + t[2].resets_in, 0); /* nothing sent to it */
	assert_true(t[2].alive);
	EXPECT(3, OUT_GONE, 0);
	assert_int_equal(t[3].syn_probes + t[3].ack_probes, 0);
	EXPECT(4, OUT_KILLED, 0);
	struct plan_counts c;

	plan_count(&set, &c);
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
	release(&ctx, &set);
}

/*
 * The check before probing looks the plan's cookies up in the dump, not the dump in a table:
 * a namespace with far more sockets than the plan (none of them in it) is no problem.
 */
static void test_engine_rst_plan_small_table_large(void **state)
{
	static struct fake_tcp t[10000];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	for (int i = 0; i < 10000; i++)
		t[i] = fake(AF_INET, "10.0.0.1", 1000, "10.0.0.2",
			    (uint16_t)(10000 + i), SS_ESTABLISHED, (uint64_t)i + 1, 0);
	fake_diag_script(NULL, 0);
	fake_rawio_script(t, 10000);
	plan_of(&set, t, 1);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_true(t[1].alive);
	assert_int_equal(t[1].syn_probes, 0);
	release(&ctx, &set);
}

/* A reset lost on the way: verification still lists the socket, so it goes round again. */
static void test_engine_rst_second_round(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_CLOSE_WAIT, 1,
		    FQ_LOSE_FIRST_RST);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40002, SS_CLOSE_WAIT, 2,
		    FQ_NEVER_REPLIES);
	script_rst(t, 2, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_int_equal(t[0].syn_probes, 1);
	assert_int_equal(t[0].ack_probes, 1); /* round two: never a second SYN */
	assert_int_equal(t[0].resets_in, 2);
	assert_int_equal(t[0].peer_resets, 1);
	EXPECT(1, OUT_FAILED, SOCK_ERR_NO_REPLY); /* silent: not sent round again */
	release(&ctx, &set);
}

/* A probe conntrack refuses (EPERM) is sent again with another sequence number. */
static void test_engine_rst_retries_refused_probes(void **state)
{
	static struct fake_tcp t[1];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 80, "10.0.0.2", 40001, SS_TIME_WAIT, 1, FQ_EPERM_TWICE);
	script_rst(t, 1, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_int_equal(t[0].refused, 2);
	assert_int_equal(t[0].ack_probes, 1);
	release(&ctx, &set);
}

/* --no-peer-reset: the peer is left alone. */
static void test_engine_rst_no_peer_reset(void **state)
{
	static struct fake_tcp t[1];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "127.0.0.1", 5432, "127.0.0.1", 40001, SS_ESTABLISHED, 1, 0);
	script_rst(t, 1, &set);
	ctx.peer_reset = false;
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_int_equal(t[0].peer_resets, 0);
	assert_false(set.v[0].flags & SOCK_F_PEER_RESET);
	release(&ctx, &set);
}

/* Without its sockets (or CAP_NET_RAW) nothing is sent and every socket says why. */
static void test_engine_rst_cannot_open(void **state)
{
	static struct fake_tcp t[1];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "127.0.0.1", 5432, "127.0.0.1", 40001, SS_ESTABLISHED, 1, 0);
	script_rst(t, 1, &set);
	fake_rawio_open_error(-EAFNOSUPPORT);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_UNSUPPORTED, -EAFNOSUPPORT);
	ctx.raw_allowed = false;
	set.v[0].outcome = OUT_NONE;
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_DENIED, -EPERM);
	assert_true(t[0].alive);
	assert_int_equal(t[0].syn_probes, 0);
	release(&ctx, &set);
}

/*
 * auto: destroy for what the kernel destroys; EOPNOTSUPP (no CONFIG_INET_DIAG_DESTROY) goes to
 * rst, whose sockets open only then, after which CAP_NET_RAW is dropped.
 */
static void test_engine_auto_falls_back_on_eopnotsupp(void **state)
{
	static const struct fake_sock script[] = {
		{ .cookie = 1, .destroy_err = 0 },
		{ .cookie = 2, .destroy_err = -EOPNOTSUPP },
		{ .cookie = 3, .destroy_err = -EPERM },
		{ .cookie = 4, .destroy_err = -EOPNOTSUPP },
	};
	static struct fake_tcp t[2];
	static const int keep[] = { CAP_NET_ADMIN };
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };
	int kept[4];
	unsigned calls;

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40002, SS_CLOSE_WAIT, 2, 0);
	t[1] = fake(AF_INET6, "fd00::1", 5432, "fd00::2", 40004, SS_TIME_WAIT, 4, 0);
	fake_diag_script(script, 4);
	fake_rawio_script(t, 2);
	ctx.keep_caps = keep;
	ctx.nkeep_caps = 1;
	struct sock_rec r1 = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_CLOSE_WAIT, 1);
	struct sock_rec r3 = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40003, SS_CLOSE_WAIT, 3);

	sock_set_push(&set, &r1);
	sock_set_push(&set, &t[0].rec);
	sock_set_push(&set, &r3);
	sock_set_push(&set, &t[1].rec);
	assert_int_equal(engine_auto.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_int_equal(set.v[0].engine, SOCK_ENGINE_DESTROY);
	EXPECT(1, OUT_KILLED, 0);
	assert_int_equal(set.v[1].engine, SOCK_ENGINE_RST);
	assert_false(t[0].alive);
	EXPECT(2, OUT_DENIED, -EPERM); /* a refusal is not a missing feature: no fallback */
	assert_int_equal(set.v[2].engine, SOCK_ENGINE_DESTROY);
	EXPECT(3, OUT_KILLED, 0);
	assert_int_equal(set.v[3].engine, SOCK_ENGINE_RST);
	assert_false(t[1].alive);
	assert_int_equal(fake_caps_kept(kept, 4, &calls), 1);
	assert_int_equal(calls, 1);
	assert_int_equal(kept[0], CAP_NET_ADMIN);
	release(&ctx, &set);
}

/* auto with nothing unsupported never opens raw sockets nor touches capabilities. */
static void test_engine_auto_without_fallback(void **state)
{
	static const struct fake_sock script[] = { { .cookie = 1, .destroy_err = 0 } };
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };
	unsigned calls;
	int kept[1];

	(void)state;
	fake_diag_script(script, 1);
	fake_rawio_script(NULL, 0);
	struct sock_rec r1 = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_CLOSE_WAIT, 1);

	sock_set_push(&set, &r1);
	assert_int_equal(engine_auto.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_null(ctx.raw);
	fake_caps_kept(kept, 1, &calls);
	assert_int_equal(calls, 0);
	release(&ctx, &set);
}

/*
 * The race of issue 10: a planned connection closes and a new one takes its 4-tuple while we
 * act. Its reply came before; the reset would meet the new socket, draw a challenge ACK and
 * then kill it exactly. The identity check before the reset drops it: changed, nothing sent.
 */
static void test_engine_rst_tuple_reused_after_reply(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 1,
		    FQ_REPLACED_ON_REPLY);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 2, FQ_GONE);
	fake_diag_script(NULL, 0);
	fake_rawio_script(t, 2);
	plan_of(&set, t, 1);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_CHANGED, 0);
	assert_true(t[1].alive);
	assert_int_equal(t[1].resets_in, 0);
	assert_int_equal(t[0].peer_resets + t[1].peer_resets, 0);
	release(&ctx, &set);
}

/*
 * A TIME_WAIT whose peer has closed dies of the peer's reset to its answer, before ours: our
 * probe killed it, and nothing more is sent to its 4-tuple.
 */
static void test_engine_rst_dies_of_its_answer(void **state)
{
	static struct fake_tcp t[1];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_TIME_WAIT, 1, FQ_PEER_CLOSED);
	script_rst(t, 1, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_int_equal(t[0].ack_probes, 1);
	assert_int_equal(t[0].resets_in, 0);
	release(&ctx, &set);
}

/*
 * Issue 10, point 1 follow-up: a planned connection whose owner aborts it (SO_LINGER {1,0})
 * after the identity check, before our reset arrives, or right after it answers our probe.
 * Its own RST leaves the local end; our reset meets no socket. Verification finds the cookie
 * gone, but the owner closed it: gone, not killed, and nothing more is sent to its 4-tuple.
 */
static void test_engine_rst_owner_aborts(void **state)
{
	static struct fake_tcp t[3];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 1,
		    FQ_OWNER_ABORTS_BEFORE_RESET);
	t[1] = fake(AF_INET6, "fd00::1", 5432, "fd00::2", 40002, SS_CLOSE_WAIT, 2,
		    FQ_OWNER_ABORTS_ON_REPLY);
	t[2] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40003, SS_ESTABLISHED, 3, 0);
	script_rst(t, 3, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_GONE, 0);
	assert_int_equal(t[0].resets_in, 1); /* the one that met nothing, and no other */
	EXPECT(1, OUT_GONE, 0);
	assert_int_equal(t[1].resets_in, 0); /* its RST came before the reset went out */
	EXPECT(2, OUT_KILLED, 0);
	/* The owner's RST reached the peer: no reset of ours follows it. */
	assert_int_equal(t[0].peer_resets + t[1].peer_resets, 0);
	assert_false(set.v[0].flags & SOCK_F_PEER_RESET);
	assert_int_equal(t[2].peer_resets, 1);
	assert_int_equal(fake_rawio_strays(), 0);
	release(&ctx, &set);
}

/* Closed by its owner, and a new connection has its 4-tuple by verification: changed. */
static void test_engine_rst_owner_aborts_tuple_reused(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 1,
		    FQ_OWNER_ABORTS_BEFORE_RESET | FQ_REPLACED_ON_DEATH);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 2, FQ_GONE);
	fake_diag_script(NULL, 0);
	fake_rawio_script(t, 2);
	plan_of(&set, t, 1);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_CHANGED, 0);
	assert_true(t[1].alive);
	release(&ctx, &set);
}

/*
 * An RST from the local end that our own segment drew is not its owner's: here a one-byte
 * re-probe lands in the window of a socket closed for reading, which answers with an RST
 * (seq = the probe's ack) and dies of it. Our probe killed it.
 */
static void test_engine_rst_rst_drawn_by_our_probe(void **state)
{
	static struct fake_tcp t[1];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_FIN_WAIT2, 1,
		    FQ_LOSE_FIRST_RST | FQ_RST_ON_DATA);
	script_rst(t, 1, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	assert_int_equal(t[0].syn_probes, 1);
	assert_int_equal(t[0].ack_probes, 1);
	assert_false(t[0].alive);
	EXPECT(0, OUT_KILLED, 0);
	release(&ctx, &set);
}

/* The same before a re-probe: a silent socket replaced meanwhile is not probed again. */
static void test_engine_rst_tuple_reused_before_reprobe(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 1,
		    FQ_SILENT_TO_SYN | FQ_REPLACED_ON_PROBE);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 2, FQ_GONE);
	fake_diag_script(NULL, 0);
	fake_rawio_script(t, 2);
	plan_of(&set, t, 1);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_CHANGED, 0);
	assert_true(t[1].alive);
	assert_int_equal(t[1].syn_probes + t[1].ack_probes + t[1].resets_in, 0);
	release(&ctx, &set);
}

/*
 * Killed, then its 4-tuple reused by a new local connection before the peer reset: the peer
 * end now belongs to that connection, and is left alone.
 */
static void test_engine_rst_peer_tuple_reused(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 1,
		    FQ_REPLACED_ON_DEATH);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 2, FQ_GONE);
	fake_diag_script(NULL, 0);
	fake_rawio_script(t, 2);
	plan_of(&set, t, 1);
	assert_int_equal(engine_rst.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_true(t[1].alive);
	assert_int_equal(t[0].peer_resets + t[1].peer_resets, 0);
	assert_null(sock_peer_end(&set.v[0]));
	release(&ctx, &set);
}

/*
 * Point 5: the peer end of a connection to a local address is a socket here. Not in the plan:
 * left alone, and said so. In the plan: its own target, killed by its own reset.
 */
static void test_engine_rst_local_peer(void **state)
{
	static struct fake_tcp t[3];
	struct engine_ctx ctx = rst_ctx();

	(void)state;
	for (int both = 0; both < 2; both++) {
		struct sock_set set = { 0 };

		t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.1", 40001, SS_ESTABLISHED, 1, 0);
		t[1] = fake(AF_INET, "10.0.0.1", 40001, "10.0.0.1", 5432, SS_ESTABLISHED, 2, 0);
		/* The ends agree on sequence numbers, as a real connection's do. */
		t[1].rcv_nxt = t[0].snd_nxt;
		t[1].snd_nxt = t[0].rcv_nxt;
		/* And a remote connection beside them: its peer end is reset, unverified. */
		t[2] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.9", 40002, SS_ESTABLISHED, 3, 0);
		fake_diag_script(NULL, 0);
		fake_rawio_script(t, 3);
		sock_set_push(&set, &t[0].rec);
		sock_set_push(&set, &t[2].rec);
		if (both)
			sock_set_push(&set, &t[1].rec);
		assert_int_equal(engine_rst.kill(&ctx, &set), 0);
		EXPECT(0, OUT_KILLED, 0);
		EXPECT(1, OUT_KILLED, 0);
		assert_false(t[0].alive);
		assert_int_equal(t[0].resets_in, 1);
		assert_int_equal(t[1].resets_in, both ? 1 : 0);
		assert_int_equal(t[1].alive, !both);
		assert_int_equal(t[0].peer_resets + t[1].peer_resets, 0);
		assert_string_equal(sock_peer_end(&set.v[0]), both ? "local-planned" : "local-left");
		assert_int_equal(t[2].peer_resets, 1);
		assert_string_equal(sock_peer_end(&set.v[1]), "reset-sent");
		if (both) {
			EXPECT(2, OUT_KILLED, 0);
			assert_string_equal(sock_peer_end(&set.v[2]), "local-planned");
		}
		assert_int_equal(fake_rawio_strays(), 0);
		release(&ctx, &set);
	}
}

/* The same rule when auto falls back to rst (no SOCK_DESTROY): the unselected end lives. */
static void test_engine_auto_local_peer(void **state)
{
	static const struct fake_sock script[] = {
		{ .cookie = 1, .destroy_err = -EOPNOTSUPP },
		{ .cookie = 2, .destroy_err = -EOPNOTSUPP },
	};
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.1", 40001, SS_CLOSE_WAIT, 1, 0);
	t[1] = fake(AF_INET, "10.0.0.1", 40001, "10.0.0.1", 5432, SS_FIN_WAIT2, 2, 0);
	t[1].rcv_nxt = t[0].snd_nxt;
	fake_diag_script(script, 2);
	fake_rawio_script(t, 2);
	sock_set_push(&set, &t[0].rec);
	assert_int_equal(engine_auto.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	assert_int_equal(set.v[0].engine, SOCK_ENGINE_RST);
	assert_string_equal(sock_peer_end(&set.v[0]), "local-left");
	assert_true(t[1].alive);
	assert_int_equal(t[1].resets_in + t[1].syn_probes + t[1].ack_probes, 0);
	release(&ctx, &set);
}

/*
 * Point 4: the verification dump fails. Nothing whose fate needed it is reported killed (nor
 * gone, after an ENOENT, nor after an ack overflow); a refusal stays what it was; the family
 * whose dump worked is verified as usual.
 */
static void test_engine_verify_dump_fails(void **state)
{
	static const struct fake_sock script[] = {
		{ .cookie = 1, .destroy_err = 0 },
		{ .cookie = 2, .destroy_err = -ENOENT },
		{ .cookie = 3, .destroy_err = DIAG_NO_ACK },
		{ .cookie = 4, .destroy_err = -EPERM },
		{ .cookie = 5, .destroy_err = 0 },
	};
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };
	struct plan_counts c;

	(void)state;
	fake_diag_script(script, 5);
	fake_rawio_script(NULL, 0);
	fake_diag_fail_dumps(AF_INET, -ENOBUFS);
	fake_diag_fail_checks(-ENOBUFS); /* the lookups that spare a small plan the dump */
	for (uint64_t k = 1; k <= 4; k++) {
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2",
					   (uint16_t)(40000 + k), SS_CLOSE_WAIT, k);

		sock_set_push(&set, &r);
	}
	struct sock_rec r6 = fx_rec(AF_INET6, "fd00::1", 5432, "fd00::2", 40005, SS_CLOSE_WAIT, 5);

	sock_set_push(&set, &r6);
	assert_int_equal(engine_destroy.kill(&ctx, &set), -ENOBUFS);
	EXPECT(0, OUT_FAILED, SOCK_ERR_UNVERIFIED);
	assert_string_equal(sock_outcome_detail(&set.v[0]), "unverified");
	EXPECT(1, OUT_FAILED, SOCK_ERR_UNVERIFIED);
	EXPECT(2, OUT_FAILED, SOCK_ERR_UNVERIFIED);
	EXPECT(3, OUT_DENIED, -EPERM);
	EXPECT(4, OUT_KILLED, 0);
	plan_count(&set, &c);
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
	release(&ctx, &set);
}

/*
 * A small TCP plan is verified by exact lookups, not by a dump (every dump walks the host's
 * whole established hash table, once per namespace): the dumps fail here, and the outcomes
 * are exact all the same. A listener is still dumped: its lookup may land on a sibling.
 */
static void test_engine_verify_by_lookup(void **state)
{
	static const struct fake_sock script[] = {
		{ .cookie = 1, .destroy_err = 0 },
		{ .cookie = 2, .destroy_err = 0, .survives = true },
		{ .cookie = 3, .destroy_err = -ENOENT },
		{ .cookie = 4, .destroy_err = 0 },
	};
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };

	(void)state;
	fake_diag_script(script, 4);
	fake_rawio_script(NULL, 0);
	fake_diag_fail_dumps(0, -ENOBUFS);
	for (uint64_t k = 1; k <= 3; k++) {
		struct sock_rec r = fx_rec(k == 3 ? AF_INET6 : AF_INET, k == 3 ? "fd00::1" : "10.0.0.1",
					   5432, k == 3 ? "fd00::2" : "10.0.0.2",
					   (uint16_t)(40000 + k), SS_CLOSE_WAIT, k);

		sock_set_push(&set, &r);
	}
	assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
	EXPECT(0, OUT_KILLED, 0);
	EXPECT(1, OUT_FAILED, SOCK_ERR_SURVIVED);
	EXPECT(2, OUT_GONE, 0);
	assert_int_equal(fake_diag_queries(), 1);
	sock_set_free(&set);

	/* A listener among them: the dump decides, and it fails. */
	fake_diag_script(script, 4);
	fake_diag_fail_dumps(0, -ENOBUFS);
	struct sock_rec l = fx_rec(AF_INET, "10.0.0.1", 5432, "0.0.0.0", 0, SS_LISTEN, 4);
	struct sock_rec e = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_ESTABLISHED, 1);

	sock_set_push(&set, &l);
	sock_set_push(&set, &e);
	assert_int_equal(engine_destroy.kill(&ctx, &set), -ENOBUFS);
	EXPECT(0, OUT_FAILED, SOCK_ERR_UNVERIFIED);
	EXPECT(1, OUT_KILLED, 0);
	release(&ctx, &set);
}

/* More than one batch of lookups: one dump is cheaper, and it still finds the survivors. */
static void test_engine_verify_many_by_dump(void **state)
{
	static struct fake_sock script[DIAG_BATCH + 1];
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };

	(void)state;
	for (size_t k = 0; k <= DIAG_BATCH; k++) {
		script[k] = (struct fake_sock){ .cookie = k + 1, .survives = k == 7 };
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2",
					   (uint16_t)(30000 + k), SS_CLOSE_WAIT, k + 1);

		sock_set_push(&set, &r);
	}
	fake_diag_script(script, DIAG_BATCH + 1);
	fake_rawio_script(NULL, 0);
	fake_diag_fail_checks(-ENOBUFS);
	assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
	EXPECT(7, OUT_FAILED, SOCK_ERR_SURVIVED);
	EXPECT(8, OUT_KILLED, 0);
	EXPECT(DIAG_BATCH, OUT_KILLED, 0);
	assert_int_equal(fake_diag_queries(), 1);
	release(&ctx, &set);
}

/*
 * A dump that fails after listing some sockets: those it listed failed to die (survived),
 * the rest of its family is unverified; the other family, dumped well, is exact.
 */
static void test_engine_verify_dump_fails_late(void **state)
{
	static struct fake_sock script[DIAG_BATCH + 2];
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };

	(void)state;
	for (size_t k = 0; k < DIAG_BATCH + 2; k++) {
		bool six = k == DIAG_BATCH + 1;

		script[k] = (struct fake_sock){ .cookie = k + 1, .survives = k == 3 };
		struct sock_rec r = fx_rec(six ? AF_INET6 : AF_INET, six ? "fd00::1" : "10.0.0.1",
					   5432, six ? "fd00::2" : "10.0.0.2",
					   (uint16_t)(30000 + k), SS_CLOSE_WAIT, k + 1);

		sock_set_push(&set, &r);
	}
	fake_diag_script(script, DIAG_BATCH + 2);
	fake_rawio_script(NULL, 0);
	fake_diag_fail_checks(-ENOBUFS);
	fake_diag_fail_dumps_late(AF_INET, -ENOBUFS);
	assert_int_equal(engine_destroy.kill(&ctx, &set), -ENOBUFS);
	EXPECT(3, OUT_FAILED, SOCK_ERR_SURVIVED);
	EXPECT(0, OUT_FAILED, SOCK_ERR_UNVERIFIED);
	EXPECT(DIAG_BATCH, OUT_FAILED, SOCK_ERR_UNVERIFIED);
	EXPECT(DIAG_BATCH + 1, OUT_KILLED, 0);
	release(&ctx, &set);
}

/* rst: the check before probing fails: nothing is sent, nothing is reported killed. */
static void test_engine_rst_check_fails(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_CLOSE_WAIT, 1, 0);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40002, SS_TIME_WAIT, 2, 0);
	script_rst(t, 2, &set);
	fake_diag_fail_query(1, -ENOBUFS);
	assert_int_equal(engine_rst.kill(&ctx, &set), -ENOBUFS);
	for (int i = 0; i < 2; i++) {
		EXPECT(i, OUT_FAILED, SOCK_ERR_UNVERIFIED);
		assert_true(t[i].alive);
		assert_int_equal(t[i].syn_probes + t[i].ack_probes + t[i].resets_in, 0);
	}
	release(&ctx, &set);
}

/* rst: the verification after the resets fails: unverified, and no peer reset follows. */
static void test_engine_rst_verify_fails(void **state)
{
	static struct fake_tcp t[2];
	struct engine_ctx ctx = rst_ctx();
	struct sock_set set = { 0 };
	struct plan_counts c;

	(void)state;
	t[0] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40001, SS_CLOSE_WAIT, 1,
		    FQ_BREAKS_DUMPS);
	t[1] = fake(AF_INET, "10.0.0.1", 5432, "10.0.0.2", 40002, SS_ESTABLISHED, 2, 0);
	script_rst(t, 2, &set);
	assert_int_equal(engine_rst.kill(&ctx, &set), -ENOBUFS);
	for (int i = 0; i < 2; i++) {
		EXPECT(i, OUT_FAILED, SOCK_ERR_UNVERIFIED);
		assert_false(t[i].alive);
		assert_int_equal(t[i].peer_resets, 0);
		assert_false(set.v[i].flags & SOCK_F_PEER_RESET);
	}
	plan_count(&set, &c);
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
	release(&ctx, &set);
}

/*
 * SO_REUSEPORT listeners: a destroy lands on whichever member the group's hash picks, and
 * answers ENOENT for the others. Every planned member is retried until it is gone; one the
 * group keeps hiding behind an unplanned sibling ends failed(reuseport-sibling).
 */
static void test_engine_reuseport_group(void **state)
{
	static const struct fake_sock script[] = {
		{ .cookie = 1, .group = 1 }, { .cookie = 2, .group = 1 },
		{ .cookie = 3, .group = 1 }, { .cookie = 4, .group = 1 },
		{ .cookie = 9, .group = 1 }, /* an unplanned sibling, picked first */
	};
	struct plan_counts c;

	(void)state;
	for (int sibling = 0; sibling < 2; sibling++) {
		struct engine_ctx ctx = { 0 };
		struct sock_set set = { 0 };

		fake_diag_script(script, sibling ? 5 : 4);
		fake_rawio_script(NULL, 0);
		for (uint64_t k = 1; k <= 4; k++) {
			struct sock_rec r = fx_rec(AF_INET, "0.0.0.0", 8080, "0.0.0.0", 0, SS_LISTEN, k);

			sock_set_push(&set, &r);
		}
		assert_int_equal(engine_destroy.kill(&ctx, &set), 0);
		for (int i = 0; i < 4; i++) {
			if (sibling)
				EXPECT(i, OUT_FAILED, SOCK_ERR_SIBLING);
			else
				EXPECT(i, OUT_KILLED, 0);
		}
		if (sibling)
			assert_string_equal(sock_outcome_detail(&set.v[0]), "reuseport-sibling");
		plan_count(&set, &c);
		assert_int_equal(plan_exit_status(&c), sibling ? EXIT_PARTIAL : EXIT_DONE);
		release(&ctx, &set);
	}
}

/* One run acts at a time: a second one waits, says for whom, and gives up only after wait_ms. */
static void test_engine_exclusive(void **state)
{
	char name[64];
	int a, b;

	(void)state;
	snprintf(name, sizeof(name), "sockreap-test/%d", (int)getpid());
	a = engine_exclusive(NULL, name, 0);
	assert_true(a >= 0);
	b = engine_exclusive(NULL, name, 0); /* held: not had, and said so */
	assert_int_equal(b, -1);
	close(a);
	b = engine_exclusive(NULL, name, 0); /* released with its holder */
	assert_true(b >= 0);
	close(b);
}

/*
 * Several namespaces' locks: each pre-made socket is bound in turn; one held by another run is
 * waited for (here 40 ms), then the rest are still taken and the run is told it acts anyway.
 */
static void test_engine_exclusive_all(void **state)
{
	const char *where[2] = { "a", "b" };
	char name[64];
	int other, fds[2];

	(void)state;
	snprintf(name, sizeof(name), "sockreap-test-all/%d", (int)getpid());
	fds[0] = engine_lock_socket();
	fds[1] = engine_lock_socket();
	assert_true(fds[0] >= 0 && fds[1] >= 0);
	assert_int_equal(engine_exclusive_all(NULL, fds, where, 1, name, 40), 0);
	/* Held by fds[0] now: a run that wants it (engine_exclusive) is refused. */
	other = engine_exclusive(NULL, name, 0);
	assert_int_equal(other, -1);
	/* The same name again on another socket of this namespace: held, so not all are had. */
	assert_int_equal(engine_exclusive_all(NULL, fds + 1, where + 1, 1, name, 40), -1);
	close(fds[0]);
	/* fds[1] stayed unbound after waiting: it takes the lock once it is free. */
	assert_int_equal(engine_exclusive_all(NULL, fds + 1, where + 1, 1, name, 40), 0);
	other = engine_exclusive(NULL, name, 0);
	assert_int_equal(other, -1);
	close(fds[1]);
}

static double ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/*
 * Any local user can bind the lock's name: a holder owned by another uid is ignored at once
 * (a 60 s wait would be theirs to impose on every run); root, our real uid, or an owner
 * sock_diag cannot tell (SO_PEERCRED then says it is us) is waited for, wait_ms and no more.
 */
static void test_engine_exclusive_ignores_other_users(void **state)
{
	static const struct {
		int ret;		/* what sock_diag answers */
		uint32_t uid;
		bool waits;
	} cases[] = {
		{ 0, 65534, false },
		{ 0, 0, true },
		{ 0, 4242, false },
		{ -EOPNOTSUPP, 65534, true },	/* SO_PEERCRED: the holder is this process */
	};
	struct diag *d;
	char name[64];
	int a, b, fds[1];
	const char *where[1] = { "a" };

	(void)state;
	snprintf(name, sizeof(name), "sockreap-test-uid/%d", (int)getpid());
	assert_int_equal(diag_open_worker(&d), 0);
	a = engine_exclusive(NULL, name, 0);
	assert_true(a >= 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double t0, one, all;

		fake_diag_unix_owner(cases[i].ret, cases[i].uid);
		t0 = ms_now();
		b = engine_exclusive(d, name, cases[i].waits ? 100 : 5000);
		one = ms_now() - t0;
		fds[0] = engine_lock_socket();
		assert_true(fds[0] >= 0);
		t0 = ms_now();
		assert_int_equal(engine_exclusive_all(&d, fds, where, 1, name,
						      cases[i].waits ? 100 : 5000), -1);
		all = ms_now() - t0;
		close(fds[0]);
		assert_int_equal(b, -1);
		if (cases[i].waits ? one < 100 || all < 100 : one > 1000 || all > 1000)
			fail_msg("case %zu (uid %u): waited %.0f ms, all %.0f ms; expected %s", i,
				 cases[i].uid, one, all, cases[i].waits ? "100" : "none");
	}
	/* Our own real uid, whoever runs the test, is waited for. */
	fake_diag_unix_owner(0, (uint32_t)getuid());
	double t0 = ms_now();

	assert_int_equal(engine_exclusive(d, name, 100), -1);
	assert_true(ms_now() - t0 >= 100);
	fake_diag_unix_owner(-ENOENT, 0);
	close(a);
	diag_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_outcomes),
		cmocka_unit_test(test_engine_udp_stays_bound),
		cmocka_unit_test(test_engine_batches_of_256),
		cmocka_unit_test(test_engine_workers),
		cmocka_unit_test(test_engine_workers_not_needed),
		cmocka_unit_test(test_engine_gate_closed),
		cmocka_unit_test(test_engine_gate_waits),
		cmocka_unit_test(test_engine_rst_states),
		cmocka_unit_test(test_engine_rst_reprobes_the_silent),
		cmocka_unit_test(test_engine_rst_answers_a_moved_rcv_nxt),
		cmocka_unit_test(test_engine_rst_honest_failures),
		cmocka_unit_test(test_engine_rst_plan_small_table_large),
		cmocka_unit_test(test_engine_rst_second_round),
		cmocka_unit_test(test_engine_rst_retries_refused_probes),
		cmocka_unit_test(test_engine_rst_no_peer_reset),
		cmocka_unit_test(test_engine_rst_cannot_open),
		cmocka_unit_test(test_engine_auto_falls_back_on_eopnotsupp),
		cmocka_unit_test(test_engine_auto_without_fallback),
		cmocka_unit_test(test_engine_rst_tuple_reused_after_reply),
		cmocka_unit_test(test_engine_rst_tuple_reused_before_reprobe),
		cmocka_unit_test(test_engine_rst_dies_of_its_answer),
		cmocka_unit_test(test_engine_rst_owner_aborts),
		cmocka_unit_test(test_engine_rst_owner_aborts_tuple_reused),
		cmocka_unit_test(test_engine_rst_rst_drawn_by_our_probe),
		cmocka_unit_test(test_engine_rst_peer_tuple_reused),
		cmocka_unit_test(test_engine_rst_local_peer),
		cmocka_unit_test(test_engine_auto_local_peer),
		cmocka_unit_test(test_engine_verify_dump_fails),
		cmocka_unit_test(test_engine_verify_by_lookup),
		cmocka_unit_test(test_engine_verify_many_by_dump),
		cmocka_unit_test(test_engine_verify_dump_fails_late),
		cmocka_unit_test(test_engine_rst_check_fails),
		cmocka_unit_test(test_engine_rst_verify_fails),
		cmocka_unit_test(test_engine_reuseport_group),
		cmocka_unit_test(test_engine_exclusive),
		cmocka_unit_test(test_engine_exclusive_all),
		cmocka_unit_test(test_engine_exclusive_ignores_other_users),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
