// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The forwarded TCP kill against a scripted router (fake_fwdnet.c): a masqueraded flow's ends
 * are reset with the exact sequence numbers their challenge ACKs gave and the entry is
 * deleted; one silent end is reset from what the other end's ACK says; two silent ends, a
 * silent source still expecting data, and states without a probe are not called killed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "fake_fwdnet.h"
#include "forward.h"
#include "rawio.h"

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* 10.91.1.2:(40000 + i) -> 10.91.2.2:8080, masqueraded out of 10.91.2.1:(50000 + i). */
static void masqueraded(struct fake_fwd *w, int i, uint8_t ct_state, unsigned quirks)
{
	struct ct_flow *f = &w->f;

	memset(w, 0, sizeof(*w));
	f->s.family = AF_INET;
	f->s.protocol = IPPROTO_TCP;
	f->s.flags = SOCK_F_CONNTRACK;
	f->s.id.idiag_src[0] = ip4("10.91.1.2");
	f->s.id.idiag_dst[0] = ip4("10.91.2.2");
	f->s.id.idiag_sport = htons((uint16_t)(40000 + i));
	f->s.id.idiag_dport = htons(8080);
	f->reply_src[0] = ip4("10.91.2.2");
	f->reply_dst[0] = ip4("10.91.2.1");
	f->reply_sport = 8080;
	f->reply_dport = (uint16_t)(50000 + i);
	f->id = 1000 + (uint32_t)i;
	f->ct_state = ct_state;
	w->dst_snd_nxt = 7000000 + (uint32_t)i;
	w->dst_rcv_nxt = 9000000 + (uint32_t)i;
	w->src_rcv_nxt = w->dst_snd_nxt;	/* idle: everything the destination sent arrived */
	w->src_snd_nxt = w->dst_rcv_nxt;	/* ... and everything the source sent */
	w->quirks = quirks;
}

static void kill(struct fake_fwd *v, size_t n)
{
	struct conntrack *c;
	struct rawio *io;
	const char *what;
	struct ct_flow *p[8];

	assert_true(n <= 8);
	fake_fwdnet_script(v, n);
	assert_int_equal(conntrack_open(&c), 0);
	assert_int_equal(rawio_open(&io, &what), 0);
	for (size_t i = 0; i < n; i++)
		p[i] = &v[i].f;
	assert_int_equal(forward_kill_tcp(c, io, p, n), 0);
	rawio_close(io);
	conntrack_close(c);
	assert_int_equal(fake_fwdnet_strays(), 0);
}

static void test_forward_tcp_kills_both_ends(void **state)
{
	struct fake_fwd v[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		masqueraded(&v[i], i, TCP_CONNTRACK_ESTABLISHED, FF_NONE);
	kill(v, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(v[i].f.s.outcome, OUT_KILLED);
		assert_false(v[i].src_alive);
		assert_false(v[i].dst_alive);
		assert_false(v[i].entry);
		assert_int_equal(v[i].syns, 1);
		assert_int_equal(v[i].acks, 1);	/* the source asked once, behind its window */
		assert_int_equal(v[i].acks_through, 1);
		assert_int_equal(v[i].deletes, 1);
		assert_int_equal(v[i].resets_refused, 0);
	}
}

static void test_forward_tcp_entry_dropped_by_conntrack(void **state)
{
	struct fake_fwd v[1];

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_FIN_WAIT, FF_ENTRY_DROPPED);
	kill(v, 1);
	assert_int_equal(v[0].f.s.outcome, OUT_KILLED);
	assert_false(v[0].src_alive);
	assert_false(v[0].dst_alive);
	assert_int_equal(v[0].deletes, 0);
}

/*
 * A destination that answers nothing (a dead backend): the source's own challenge ACK gives
 * what it expects and what the destination would: both resets go, conntrack sees them, the
 * entry goes. (#17: a probe to each end.)
 */
static void test_forward_tcp_silent_destination(void **state)
{
	struct fake_fwd v[2];

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_ESTABLISHED, FF_DST_SILENT);
	masqueraded(&v[1], 1, TCP_CONNTRACK_ESTABLISHED, FF_NONE);
	kill(v, 2);
	/* A SYN, then the SYN again with four ACKs to the source (one per half of each space). */
	assert_int_equal(v[0].syns, 2);
	assert_int_equal(v[0].acks, 4);
	assert_int_equal(v[0].acks_through, 1);
	assert_int_equal(v[0].f.s.outcome, OUT_KILLED);
	assert_false(v[0].src_alive);
	assert_false(v[0].entry);
	assert_int_equal(v[0].resets_refused, 0);
	assert_int_equal(v[1].f.s.outcome, OUT_KILLED);
}

/* The source silent: after ASK_WAIT_MS the destination's ACK says both. */
static void test_forward_tcp_silent_source(void **state)
{
	struct fake_fwd v[1];

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_ESTABLISHED, FF_SRC_SILENT);
	kill(v, 1);
	assert_int_equal(v[0].f.s.outcome, OUT_KILLED);
	assert_false(v[0].src_alive);
	assert_false(v[0].dst_alive);
	assert_false(v[0].entry);
}

static void test_forward_tcp_both_ends_silent(void **state)
{
	struct fake_fwd v[2];

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_ESTABLISHED, FF_DST_SILENT | FF_SRC_SILENT);
	masqueraded(&v[1], 1, TCP_CONNTRACK_ESTABLISHED, FF_NONE);
	kill(v, 2);
	/* Probed twice each, nothing learned: nothing sent to either end, the entry kept. */
	assert_int_equal(v[0].f.s.outcome, OUT_FAILED);
	assert_int_equal(v[0].f.s.err, SOCK_ERR_NO_REPLY);
	assert_int_equal(v[0].syns, 2);
	assert_int_equal(v[0].acks, 4);
	assert_true(v[0].src_alive);
	assert_true(v[0].dst_alive);
	assert_true(v[0].entry);
	assert_int_equal(v[0].resets_refused, 0);
	assert_int_equal(v[1].f.s.outcome, OUT_KILLED);
}

/* Data from the destination in flight: the source's own ACK says what it expects. */
static void test_forward_tcp_source_expects_more(void **state)
{
	struct fake_fwd v[1];

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_ESTABLISHED, FF_SRC_RCV_MOVED);
	kill(v, 1);
	assert_int_equal(v[0].f.s.outcome, OUT_KILLED);
	assert_false(v[0].src_alive);
	assert_false(v[0].dst_alive);
	assert_int_equal(v[0].acks, 1);
	assert_int_equal(v[0].resets_refused, 0);
}

/* ... and with the source silent, only the destination's numbers: inexact, refused. */
static void test_forward_tcp_silent_source_expects_more(void **state)
{
	struct fake_fwd v[1];

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_ESTABLISHED, FF_SRC_RCV_MOVED | FF_SRC_SILENT);
	kill(v, 1);
	/* The source's reset was inexact: refused; not killed, and the entry stays. */
	assert_int_equal(v[0].f.s.outcome, OUT_FAILED);
	assert_int_equal(v[0].f.s.err, SOCK_ERR_UNVERIFIED);
	assert_true(v[0].src_alive);
	assert_int_equal(v[0].acks, 1);
	assert_int_equal(v[0].resets_refused, 1);
	assert_true(v[0].entry);
}

static void test_forward_tcp_states(void **state)
{
	struct fake_fwd v[3];

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_TIME_WAIT, FF_NONE);
	masqueraded(&v[1], 1, TCP_CONNTRACK_SYN_SENT, FF_NONE);
	masqueraded(&v[2], 2, TCP_CONNTRACK_CLOSE, FF_NONE);
	kill(v, 3);
	/* Ends closed already: the entry is deleted, nothing is sent. */
	assert_int_equal(v[0].f.s.outcome, OUT_KILLED);
	assert_false(v[0].entry);
	assert_int_equal(v[0].syns, 0);
	assert_int_equal(v[0].acks, 0);
	/* Still opening: no challenge ACK to draw; left alone. */
	assert_int_equal(v[1].f.s.outcome, OUT_UNSUPPORTED);
	assert_int_equal(v[1].f.s.err, SOCK_ERR_RST_STATE);
	assert_true(v[1].entry);
	assert_int_equal(v[1].syns, 0);
	assert_int_equal(v[1].acks, 0);
	assert_int_equal(v[2].f.s.outcome, OUT_KILLED);
	assert_false(v[2].entry);
}

/*
 * Between the preview and the kill the planned flow ended and a new one took its tuple (a NAT
 * gateway reuses source ports): the entry there now has another id. The new flow is not the
 * one previewed: nothing is sent to either of its ends and its entry stays; "changed".
 * One planned flow whose entry is gone altogether is "gone", and nothing is sent for it.
 */
static void test_forward_tcp_entry_replaced_since_the_plan(void **state)
{
	struct fake_fwd v[2];
	struct conntrack *c;
	struct rawio *io;
	const char *what;
	struct ct_flow planned[2], *p[2] = { &planned[0], &planned[1] };

	(void)state;
	masqueraded(&v[0], 0, TCP_CONNTRACK_ESTABLISHED, FF_NONE);
	masqueraded(&v[1], 1, TCP_CONNTRACK_ESTABLISHED, FF_NONE);
	planned[0] = v[0].f;
	planned[1] = v[1].f;
	v[0].f.id = 77;		/* the new flow's entry */
	fake_fwdnet_script(v, 2);
	v[1].entry = false;	/* closed and dropped since */
	assert_int_equal(conntrack_open(&c), 0);
	assert_int_equal(rawio_open(&io, &what), 0);
	assert_int_equal(forward_kill_tcp(c, io, p, 2), 0);
	rawio_close(io);
	conntrack_close(c);
	assert_int_equal(planned[0].s.outcome, OUT_CHANGED);
	assert_int_equal(v[0].syns, 0);
	assert_int_equal(v[0].acks, 0);
	assert_true(v[0].src_alive);
	assert_true(v[0].dst_alive);
	assert_true(v[0].entry);
	assert_int_equal(v[0].deletes, 0);
	assert_int_equal(planned[1].s.outcome, OUT_GONE);
	assert_int_equal(v[1].syns, 0);
	assert_int_equal(v[1].acks, 0);
	assert_int_equal(fake_fwdnet_strays(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_tcp_kills_both_ends),
		cmocka_unit_test(test_forward_tcp_entry_dropped_by_conntrack),
		cmocka_unit_test(test_forward_tcp_silent_destination),
		cmocka_unit_test(test_forward_tcp_silent_source),
		cmocka_unit_test(test_forward_tcp_both_ends_silent),
		cmocka_unit_test(test_forward_tcp_source_expects_more),
		cmocka_unit_test(test_forward_tcp_silent_source_expects_more),
		cmocka_unit_test(test_forward_tcp_states),
		cmocka_unit_test(test_forward_tcp_entry_replaced_since_the_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
