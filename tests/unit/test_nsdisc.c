// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one-pass discovery's pure parts: reading sockstat's counts, which selections a proof can
 * stand for, the proof itself (counts and records in, decision out), the records' order and
 * deduplication, and the sock_diag identity built from a record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nsdisc.h"

static const char sockstat[] = "sockets: used 291\n"
			       "TCP: inuse 6 orphan 0 tw 5 alloc 24 mem 210\n"
			       "UDP: inuse 0 mem 0\n";
static const char sockstat6[] = "TCP6: inuse 12\nUDP6: inuse 1\nRAW6: inuse 0\n";

static void test_nsdisc_parse_inuse(void **state)
{
	uint64_t n = 99;

	(void)state;
	assert_int_equal(nsdisc_parse_inuse(sockstat, "TCP", &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(nsdisc_parse_inuse(sockstat6, "TCP6", &n), 0);
	assert_int_equal(n, 12);
	/* "TCP" must not take "TCP6"'s line, nor the other way round. */
	assert_int_equal(nsdisc_parse_inuse(sockstat6, "TCP", &n), -EINVAL);
	assert_int_equal(nsdisc_parse_inuse(sockstat, "TCP6", &n), -EINVAL);
	assert_int_equal(nsdisc_parse_inuse("TCP: inuse x\n", "TCP", &n), -EINVAL);
	assert_int_equal(nsdisc_parse_inuse("TCP: inuse 7x\n", "TCP", &n), -EINVAL);
	assert_int_equal(nsdisc_parse_inuse("TCP: orphan 7\n", "TCP", &n), -EINVAL);
	assert_int_equal(nsdisc_parse_inuse("", "TCP", &n), -EINVAL);
	assert_int_equal(nsdisc_parse_inuse("TCP: inuse 18446744073709551616\n", "TCP", &n),
			 -EINVAL);
}

/* Through descriptors, read again from the start each time. */
static void test_nsdisc_read_inuse(void **state)
{
	char p4[] = "/tmp/sockreap-nsdisc.XXXXXX", p6[] = "/tmp/sockreap-nsdisc.XXXXXX";
	int fd4 = mkstemp(p4), fd6 = mkstemp(p6);
	struct nsdisc_inuse in;

	(void)state;
	assert_true(fd4 >= 0 && fd6 >= 0);
	unlink(p4);
	unlink(p6);
	assert_int_equal(write(fd4, sockstat, strlen(sockstat)), (ssize_t)strlen(sockstat));
	assert_int_equal(write(fd6, sockstat6, strlen(sockstat6)), (ssize_t)strlen(sockstat6));
	for (int k = 0; k < 2; k++) {
		assert_int_equal(nsdisc_read_inuse(fd4, fd6, &in), 0);
		assert_true(in.known);
		assert_int_equal(in.n[0], 6);
		assert_int_equal(in.n[1], 12);
	}
	/* A file without the line: not known, so never a proof. */
	assert_int_equal(nsdisc_read_inuse(fd6, fd6, &in), -EINVAL);
	assert_false(in.known);
	close(fd4);
	close(fd6);
}

static void test_nsdisc_states_provable(void **state)
{
	(void)state;
	assert_true(nsdisc_states_provable(SS_BIT(SS_CLOSE_WAIT)));
	assert_true(nsdisc_states_provable(SS_BIT(SS_ESTABLISHED) | SS_BIT(SS_LAST_ACK) |
					   SS_BIT(SS_FIN_WAIT1) | SS_BIT(SS_CLOSING) |
					   SS_BIT(SS_LISTEN) | SS_BIT(SS_SYN_SENT)));
	/* Sockets no count holds: TIME_WAIT, request sockets, bound-only ones... */
	assert_false(nsdisc_states_provable(SS_BIT(SS_CLOSE_WAIT) | SS_BIT(SS_TIME_WAIT)));
	assert_false(nsdisc_states_provable(SS_BIT(SS_SYN_RECV)));
	assert_false(nsdisc_states_provable(SS_BIT(SS_NEW_SYN_RECV)));
	assert_false(nsdisc_states_provable(SS_BIT(SS_CLOSE)));
	/*
	 * ...and FIN_WAIT_2: an orphan reaching it becomes a TIME_WAIT socket in its FIN_WAIT_2
	 * substate (tcp_time_wait), uncounted, without a file, and a dump lists it as fin-wait-2.
	 */
	assert_false(nsdisc_states_provable(SS_BIT(SS_FIN_WAIT2)));
	assert_false(nsdisc_states_provable(SS_ALL_MASK));
}

static struct taskfiles_tcp rec(uint32_t netns, uint64_t inode, int family, int state)
{
	struct taskfiles_tcp t;

	memset(&t, 0, sizeof(t));
	t.netns = netns;
	t.inode = inode;
	t.family = (uint16_t)family;
	t.state = (uint8_t)state;
	return t;
}

static void test_nsdisc_proven(void **state)
{
	const struct nsdisc_sock v[] = {
		{ 1, 7, AF_INET, SS_LISTEN, 0 },
		{ 2, 7, AF_INET, SS_CLOSE_WAIT, 0 },
		{ 3, 7, AF_INET, SS_ESTABLISHED, 0 },
		{ 4, 7, AF_INET, SS_CLOSE, 0 },	/* bound or closed: in no count */
		{ 5, 7, AF_INET6, SS_CLOSE_WAIT, 0 },
	};
	struct nsdisc_inuse in = { { 3, 1 }, true }, other = in;

	(void)state;
	assert_true(nsdisc_proven(v, 5, &in, &in));
	/* One more counted than seen: a socket without a file (accept queue, orphan). */
	in.n[0] = 4;
	assert_false(nsdisc_proven(v, 5, &in, &in));
	in.n[0] = 3;
	in.n[1] = 2;
	assert_false(nsdisc_proven(v, 5, &in, &in));
	/* Each family on its own: 4 + 0 is not 3 + 1. */
	in = (struct nsdisc_inuse){ { 4, 0 }, true };
	assert_false(nsdisc_proven(v, 5, &in, &in));
	/* The count changed during the pass. */
	in = (struct nsdisc_inuse){ { 3, 1 }, true };
	other.n[0] = 4;
	assert_false(nsdisc_proven(v, 5, &in, &other));
	assert_false(nsdisc_proven(v, 5, &other, &in));
	/* A count that could not be read is no proof. */
	other = in;
	other.known = false;
	assert_false(nsdisc_proven(v, 5, &in, &other));
	assert_false(nsdisc_proven(v, 5, &other, &in));
	/* An empty namespace is proven by zeros, and only by them. */
	in = (struct nsdisc_inuse){ { 0, 0 }, true };
	assert_true(nsdisc_proven(NULL, 0, &in, &in));
	in.n[1] = 1;
	assert_false(nsdisc_proven(NULL, 0, &in, &in));
}

/*
 * Reads records cut anywhere, sorts by (namespace, inode) and keeps a socket once; whole
 * records only for the states asked for.
 */
static void test_nsdisc_read_sorts_and_dedups(void **state)
{
	const struct taskfiles_tcp v[] = {
		rec(9, 5, AF_INET, SS_CLOSE_WAIT), rec(7, 2, AF_INET, SS_CLOSE_WAIT),
		rec(9, 5, AF_INET, SS_CLOSE_WAIT), /* a second fd */
		rec(7, 1, AF_INET6, SS_LISTEN),	 rec(8, 2, AF_INET, SS_ESTABLISHED),
		rec(7, 2, AF_INET, SS_CLOSE_WAIT),
	};
	int p[2];
	struct nsdisc d = { 0 };
	size_t first, end;

	(void)state;
	assert_int_equal(pipe(p), 0);
	/* A read may end inside a record: write it in odd pieces. */
	const char *bytes = (const char *)v;

	for (size_t off = 0; off < sizeof(v); off += 13) {
		size_t len = sizeof(v) - off < 13 ? sizeof(v) - off : 13;

		assert_int_equal(write(p[1], bytes + off, len), (ssize_t)len);
	}
	close(p[1]);
	assert_int_equal(nsdisc_read(&d, p[0], SS_BIT(SS_CLOSE_WAIT)), 0);
	close(p[0]);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.all[0].netns, 7);
	assert_int_equal(d.all[0].inode, 1);
	assert_int_equal(d.all[0].family, AF_INET6);
	assert_int_equal(d.all[0].state, SS_LISTEN);
	assert_int_equal(d.all[1].netns, 7);
	assert_int_equal(d.all[1].inode, 2);
	assert_int_equal(d.all[2].netns, 8);
	assert_int_equal(d.all[3].netns, 9);
	assert_int_equal(d.ncand, 2);
	assert_int_equal(d.cand[0].netns, 7);
	assert_int_equal(d.cand[0].inode, 2);
	assert_int_equal(d.cand[1].netns, 9);
	assert_int_equal(d.cand[1].inode, 5);
	nsdisc_cand_range(&d, 9, &first, &end);
	assert_int_equal(first, 1);
	assert_int_equal(end, 2);
	nsdisc_cand_range(&d, 8, &first, &end);
	assert_int_equal(first, end);
	nsdisc_range(&d, 7, &first, &end);
	assert_int_equal(first, 0);
	assert_int_equal(end, 2);
	nsdisc_range(&d, 9, &first, &end);
	assert_int_equal(first, 3);
	assert_int_equal(end, 4);
	nsdisc_range(&d, 6, &first, &end);
	assert_int_equal(first, end);
	nsdisc_range(&d, 10, &first, &end);
	assert_int_equal(first, end);
	nsdisc_free(&d);
	nsdisc_free(NULL);
}

/* More records than one read takes (256), in pieces that do not end on a record. */
static void test_nsdisc_read_many(void **state)
{
	enum { N = 1000 };
	struct taskfiles_tcp *v = calloc(N, sizeof(*v));
	int p[2];
	struct nsdisc d = { 0 };

	(void)state;
	assert_non_null(v);
	for (int i = 0; i < N; i++)
		v[i] = rec((uint32_t)(i % 3), (uint64_t)(N - i),
			   AF_INET, i % 2 ? SS_ESTABLISHED : SS_CLOSE_WAIT);
	assert_int_equal(pipe(p), 0);
	/* 64,000 bytes: within a pipe's 64 KiB, so all can be written before reading. */
	for (size_t off = 0; off < N * sizeof(*v); off += 1000)
		assert_int_equal(write(p[1], (char *)v + off, 1000), 1000);
	close(p[1]);
	assert_int_equal(nsdisc_read(&d, p[0], SS_BIT(SS_CLOSE_WAIT)), 0);
	close(p[0]);
	assert_int_equal(d.n, N);
	assert_int_equal(d.ncand, N / 2);
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.all[i - 1].netns < d.all[i].netns ||
			    (d.all[i - 1].netns == d.all[i].netns &&
			     d.all[i - 1].inode < d.all[i].inode));
	for (size_t i = 0; i < d.ncand; i++)
		assert_int_equal(d.cand[i].state, SS_CLOSE_WAIT);
	nsdisc_free(&d);
	free(v);
}

/* A stream that ends inside a record is refused. */
static void test_nsdisc_read_truncated(void **state)
{
	const struct taskfiles_tcp v = rec(7, 2, AF_INET, SS_CLOSE_WAIT);
	int p[2];
	struct nsdisc d = { 0 };

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], &v, sizeof(v) - 1), (ssize_t)sizeof(v) - 1);
	close(p[1]);
	assert_int_equal(nsdisc_read(&d, p[0], SS_ALL_MASK), -EPROTO);
	close(p[0]);
	nsdisc_free(&d);
}

static void test_nsdisc_to_rec(void **state)
{
	struct taskfiles_tcp t = rec(7, 0x100000123ULL, AF_INET6, SS_CLOSE_WAIT);
	struct sock_rec r;

	(void)state;
	t.sport = 7000;
	t.dport = htons(40000);
	t.src[3] = htonl(1);
	t.dst[0] = htonl(0xfe800000);
	t.bound_dev_if = 3;
	t.cookie = 0x0000000a00000bULL;
	nsdisc_to_rec(&t, &r);
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.protocol, IPPROTO_TCP);
	assert_int_equal(r.state, SS_CLOSE_WAIT);
	assert_int_equal(r.inode, 0x123);	/* sock_diag's inode is 32 bits */
	assert_int_equal(sock_sport(&r), 7000);
	assert_int_equal(sock_dport(&r), 40000);
	assert_int_equal(r.id.idiag_src[3], htonl(1));
	assert_int_equal(r.id.idiag_dst[0], htonl(0xfe800000));
	assert_int_equal(r.id.idiag_if, 3);
	assert_int_equal(sock_cookie(&r), 0x0000000a00000bULL);
	/* No cookie made yet: the get goes by 4-tuple. */
	t.cookie = 0;
	nsdisc_to_rec(&t, &r);
	assert_int_equal(r.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
	assert_int_equal(r.id.idiag_cookie[1], INET_DIAG_NOCOOKIE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nsdisc_parse_inuse),
		cmocka_unit_test(test_nsdisc_read_inuse),
		cmocka_unit_test(test_nsdisc_states_provable),
		cmocka_unit_test(test_nsdisc_proven),
		cmocka_unit_test(test_nsdisc_read_sorts_and_dedups),
		cmocka_unit_test(test_nsdisc_read_many),
		cmocka_unit_test(test_nsdisc_read_truncated),
		cmocka_unit_test(test_nsdisc_to_rec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
