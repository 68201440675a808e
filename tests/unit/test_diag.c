// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Parsing a SOCK_DIAG_BY_FAMILY message built by hand, as the kernel lays it out; the batched
 * exact lookup against a loopback connection of this process (nothing leaves loopback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diag.h"

struct msg {
	struct nlmsghdr h;
	struct inet_diag_msg m;
	struct nlattr info_hdr;
	struct tcp_info info;
	struct nlattr mark_hdr;
	uint32_t mark;
	struct nlattr cg_hdr;
	uint32_t cgroup[2];	/* a u64, 4-aligned as netlink attributes are */
};

static void build(struct msg *x, uint8_t state, bool with_info)
{
	memset(x, 0, sizeof(*x));
	x->h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	x->m.idiag_family = AF_INET;
	x->m.idiag_state = state;
	x->m.idiag_timer = 3;
	x->m.idiag_uid = 1000;
	x->m.idiag_inode = 4242;
	x->m.idiag_rqueue = 1;
	x->m.idiag_wqueue = 2;
	x->m.id.idiag_sport = htons(5432);
	x->m.id.idiag_dport = htons(41234);
	inet_pton(AF_INET, "10.0.0.5", x->m.id.idiag_src);
	inet_pton(AF_INET, "10.0.0.9", x->m.id.idiag_dst);
	x->m.id.idiag_cookie[0] = 0x11;
	x->m.id.idiag_cookie[1] = 0x22;
	x->info_hdr.nla_type = INET_DIAG_INFO;
	x->info_hdr.nla_len = NLA_HDRLEN + sizeof(struct tcp_info);
	x->info.tcpi_last_data_sent = 5000;
	x->info.tcpi_last_data_recv = 3000;
	x->mark_hdr.nla_type = INET_DIAG_MARK;
	x->mark_hdr.nla_len = NLA_HDRLEN + 4;
	x->mark = 0x99;
	x->cg_hdr.nla_type = INET_DIAG_CGROUP_ID;
	x->cg_hdr.nla_len = NLA_HDRLEN + 8;
	memcpy(x->cgroup, &(uint64_t){ 777 }, sizeof(x->cgroup));
	x->h.nlmsg_len = with_info ? sizeof(*x) : NLMSG_LENGTH(sizeof(x->m));
}

static void test_diag_parse_fields(void **state)
{
	struct msg x;
	struct sock_rec r;

	(void)state;
	build(&x, SS_CLOSE_WAIT, true);
	assert_int_equal(diag_parse(&x.h, IPPROTO_TCP, &r), 0);
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.protocol, IPPROTO_TCP);
	assert_int_equal(r.state, SS_CLOSE_WAIT);
	assert_int_equal(r.timer, 3);
	assert_int_equal(r.uid, 1000);
	assert_int_equal(r.inode, 4242);
	assert_int_equal(r.rqueue, 1);
	assert_int_equal(r.wqueue, 2);
	assert_int_equal(sock_sport(&r), 5432);
	assert_int_equal(sock_dport(&r), 41234);
	assert_int_equal(sock_cookie(&r), 0x2200000011ULL);
	assert_int_equal(r.idle_ms, 3000); /* the more recent of send and receive */
	assert_int_equal(r.mark, 0x99);
	assert_int_equal(r.cgroup_id, 777);
	assert_int_equal(r.pid, -1);
	/* The id is kept whole, to be sent back verbatim. */
	assert_memory_equal(&r.id, &x.m.id, sizeof(r.id));
}

static void test_diag_parse_minimal_and_request_socks(void **state)
{
	struct msg x;
	struct sock_rec r;

	(void)state;
	build(&x, SS_NEW_SYN_RECV, false);
	assert_int_equal(diag_parse(&x.h, IPPROTO_TCP, &r), 0);
	assert_int_equal(r.state, SS_SYN_RECV);
	assert_int_equal(r.idle_ms, SOCK_IDLE_UNKNOWN);
	assert_int_equal(r.mark, 0);
	x.h.nlmsg_len = NLMSG_LENGTH(sizeof(x.m) - 1);
	assert_int_equal(diag_parse(&x.h, IPPROTO_TCP, &r), -EINVAL);
}

/*
 * Attributes are extras: a malformed one ends the walk without failing the record (and
 * without looping on a zero length); a tcp_info too short for the idle times leaves idle
 * unknown; an attribute cut off by the message's end is not read past it.
 */
static void test_diag_parse_bad_attributes(void **state)
{
	struct msg x;
	struct sock_rec r;

	(void)state;
	build(&x, SS_CLOSE_WAIT, true);
	x.mark_hdr.nla_len = 0;
	assert_int_equal(diag_parse(&x.h, IPPROTO_TCP, &r), 0);
	assert_int_equal(r.idle_ms, 3000);
	assert_int_equal(r.mark, 0);
	assert_int_equal(r.flags & SOCK_F_MARK_KNOWN, 0);
	assert_int_equal(r.cgroup_id, 0);
	assert_int_equal(r.inode, 4242);

	build(&x, SS_CLOSE_WAIT, true);
	x.info_hdr.nla_len = NLA_HDRLEN + 8;
	memmove((char *)&x.info + 8, &x.mark_hdr, sizeof(x) - offsetof(struct msg, mark_hdr));
	x.h.nlmsg_len = sizeof(x) - (sizeof(x.info) - 8);
	assert_int_equal(diag_parse(&x.h, IPPROTO_TCP, &r), 0);
	assert_int_equal(r.idle_ms, SOCK_IDLE_UNKNOWN);
	assert_int_equal(r.mark, 0x99);
	assert_int_equal(r.cgroup_id, 777);

	build(&x, SS_CLOSE_WAIT, true);
	x.h.nlmsg_len = sizeof(x) - 4; /* the cgroup id's last half is past the end */
	assert_int_equal(diag_parse(&x.h, IPPROTO_TCP, &r), 0);
	assert_int_equal(r.mark, 0x99);
	assert_int_equal(r.cgroup_id, 0);
}

struct found {
	struct sock_set set;
	uint16_t port;
};

static int keep_port(const struct sock_rec *rec, void *arg)
{
	struct found *f = arg;

	if (sock_sport(rec) == f->port || sock_dport(rec) == f->port)
		return sock_set_push(&f->set, rec);
	return 0;
}

/*
 * Each socket is present by its dumped id; a wrong cookie is not (the 4-tuple's socket is
 * another one); a closed socket is not; without the cookie the 4-tuple is found.
 */
static void test_diag_check_batch(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct found f = { { 0 }, 0 };
	struct diag *d = NULL;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, s = -1;

	(void)state;
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sl) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) < 0 || diag_open(&d) < 0) {
		if (l >= 0)
			close(l);
		skip();
	}
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	f.port = ntohs(sa.sin_port);
	struct diag_filter flt = { AF_INET, IPPROTO_TCP, SS_ALL_MASK, NULL, 0, true };

	assert_int_equal(diag_dump(d, &flt, keep_port, &f), 0);
	assert_int_equal(f.set.n, 3); /* the listener and both ends */

	struct sock_rec *recs[4];
	struct sock_rec found[4];
	bool present[4];
	size_t est = 0;

	for (size_t i = 0; i < 3; i++) {
		recs[i] = &f.set.v[i];
		if (f.set.v[i].state == SS_ESTABLISHED)
			est = i;
	}
	assert_int_equal(diag_check_batch(d, recs, 3, true, present, found), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_true(present[i]);
		assert_int_equal(sock_cookie(&found[i]), sock_cookie(&f.set.v[i]));
	}
	struct sock_rec other = f.set.v[est];

	other.id.idiag_cookie[0] ^= 1;
	recs[3] = &other;
	assert_int_equal(diag_check_batch(d, recs + 3, 1, true, present, NULL), 0);
	assert_false(present[0]);
	assert_int_equal(diag_check_batch(d, recs + 3, 1, false, present, found), 0);
	assert_true(present[0]);
	assert_int_equal(sock_cookie(&found[0]), sock_cookie(&f.set.v[est]));
	/* Both ends closed by reset (linger 0): no TIME_WAIT keeps their 4-tuples. */
	struct linger lg = { 1, 0 };

	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	close(s);
	assert_int_equal(diag_check_batch(d, recs, 3, true, present, NULL), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(present[i], f.set.v[i].state == SS_LISTEN);
	close(l);
	diag_close(d);
	sock_set_free(&f.set);
}

/*
 * Answers that do not fit the receive queue are dropped by the kernel; they are asked again,
 * in smaller batches, until every one is answered. The kill socket is the second netlink
 * socket diag_open makes: found by its number, and checked, its queue shrunk to the minimum.
 */
static void test_diag_check_batch_overflow(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct found f = { { 0 }, 0 };
	struct diag *d = NULL;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), first = dup(0), one = 1;
	int proto = 0;
	socklen_t plen = sizeof(proto);

	(void)state;
	if (first >= 0)
		close(first);
	if (l < 0 || first < 0 || bind(l, (struct sockaddr *)&sa, sl) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) < 0 || diag_open(&d) < 0) {
		if (l >= 0)
			close(l);
		skip();
	}
	/* first was the lowest free number after l: the dumping socket took it, then the kill one. */
	int kill_fd = first + 1;

	if (getsockopt(kill_fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) < 0 ||
	    proto != NETLINK_SOCK_DIAG) {
		diag_close(d);
		close(l);
		skip();
	}
	assert_int_equal(setsockopt(kill_fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)), 0);
	f.port = ntohs(sa.sin_port);
	struct diag_filter flt = { AF_INET, IPPROTO_TCP, SS_ALL_MASK, NULL, 0, true };

	assert_int_equal(diag_dump(d, &flt, keep_port, &f), 0);
	assert_int_equal(f.set.n, 1);

	struct sock_rec *recs[DIAG_BATCH];
	bool present[DIAG_BATCH];

	for (size_t i = 0; i < DIAG_BATCH; i++)
		recs[i] = &f.set.v[0];
	assert_int_equal(diag_check_batch(d, recs, DIAG_BATCH, true, present, NULL), 0);
	for (size_t i = 0; i < DIAG_BATCH; i++)
		assert_true(present[i]);
	close(l);
	diag_close(d);
	sock_set_free(&f.set);
}

/*
 * Out of descriptors (a run over hundreds of namespaces under a low limit): the error says so,
 * not "Input/output error", which sends the operator to the kernel instead of to ulimit.
 */
static void test_diag_open_out_of_fds(void **state)
{
	struct rlimit old, low;
	struct diag *d = NULL;
	int fd = dup(0), ret;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)fd; /* the lowest free descriptor is one past the limit */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	ret = diag_open(&d);
	setrlimit(RLIMIT_NOFILE, &old);
	if (ret == 0)
		diag_close(d);
	assert_int_equal(ret, -EMFILE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_parse_fields),
		cmocka_unit_test(test_diag_parse_minimal_and_request_socks),
		cmocka_unit_test(test_diag_parse_bad_attributes),
		cmocka_unit_test(test_diag_check_batch),
		cmocka_unit_test(test_diag_check_batch_overflow),
		cmocka_unit_test(test_diag_open_out_of_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
