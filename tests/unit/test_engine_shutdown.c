// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shutdown engine through its seams (ownerfd faked, sock_diag faked): every answer of
 * pidfd_getfd, the identity check and shutdown maps to its outcome; verification by cookie
 * tells "closing" from "still-present"; what has no owner falls back to destroy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "engine.h"
#include "fake_diag.h"
#include "fake_ownerfd.h"
#include "fake_rawio.h"
#include "fixtures.h"
#include "selector.h"

/* A TCP record of cookie c in state st, held by pid at fd (pid 0: no owner; -1 unknown). */
static struct sock_rec owned(uint64_t c, unsigned st, int32_t pid, int fd)
{
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.2", (uint16_t)(40000 + c),
				   st, c);

	r.pid = pid;
	r.fd = fd;
	r.inode = (uint32_t)(7000 + c);
	r.nowners = pid > 0;
	return r;
}

static void test_engine_shutdown_outcomes(void **state)
{
	static const struct fake_sock socks[] = {
		/* shut down: established moves on to fin-wait-1, close-wait is gone at once */
		{ .cookie = 1, .survives = true, .state_after = SS_FIN_WAIT1 },
		{ .cookie = 2 },
		/* shutdown answered 0, yet the socket is still established */
		{ .cookie = 3, .survives = true },
		{ .cookie = 4, .survives = true },	/* EPERM: untouched */
		{ .cookie = 5, .survives = true },	/* fd reused for another socket */
		{ .cookie = 6 },			/* owner gone, and the socket */
		{ .cookie = 7, .survives = true },	/* ENOSYS */
		{ .cookie = 8 },			/* ENOTCONN: reset meanwhile */
		{ .cookie = 9, .survives = true },	/* same inode, another cookie */
		{ .cookie = 10, .survives = true },	/* the fd was closed; still held elsewhere */
		{ .cookie = 11, .survives = true, .state_after = SS_LAST_ACK },
		{ .cookie = 12, .survives = true },	/* the cookie, another inode */
	};
	static const struct fake_owner owners[] = {
		{ 101, 3, 0, 7001, 1, 0 },
		{ 102, 4, 0, 7002, 2, 0 },
		{ 103, 5, 0, 7003, 3, 0 },
		{ 104, 6, -EPERM, 0, 0, 0 },
		{ 105, 7, 0, 9999, 99, 0 },
		{ 106, 8, -ESRCH, 0, 0, 0 },
		{ 107, 9, -ENOSYS, 0, 0, 0 },
		{ 108, 10, 0, 7008, 8, -ENOTCONN },
		{ 109, 11, 0, 7009, 1234, 0 },
		/* 110's fd 12 is not in the script: EBADF */
		{ 111, 13, 0, 7011, 11, 0 },
		{ 112, 14, 0, 9999, 12, 0 },
	};
	static const unsigned states[] = {
		SS_ESTABLISHED, SS_CLOSE_WAIT, SS_ESTABLISHED, SS_ESTABLISHED, SS_ESTABLISHED,
		SS_ESTABLISHED, SS_ESTABLISHED, SS_ESTABLISHED, SS_ESTABLISHED, SS_ESTABLISHED,
		SS_CLOSE_WAIT, SS_ESTABLISHED,
	};
	static const struct {
		enum sock_outcome outcome;
		int err;
		bool closing;
		unsigned shutdowns;
	} want[] = {
		{ OUT_KILLED, 0, true, 1 },
		{ OUT_KILLED, 0, false, 1 },
		{ OUT_FAILED, SOCK_ERR_SURVIVED, false, 1 },
		{ OUT_DENIED, -EPERM, false, 0 },
		{ OUT_CHANGED, SOCK_ERR_FD_CHANGED, false, 0 },
		{ OUT_GONE, 0, false, 0 },
		{ OUT_UNSUPPORTED, -ENOSYS, false, 0 },
		{ OUT_GONE, 0, false, 1 },
		{ OUT_CHANGED, SOCK_ERR_FD_CHANGED, false, 0 },
		{ OUT_CHANGED, SOCK_ERR_FD_CHANGED, false, 0 },
		{ OUT_KILLED, 0, true, 1 },
		{ OUT_CHANGED, SOCK_ERR_FD_CHANGED, false, 0 },
	};
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };

	(void)state;
	fake_diag_script(socks, 12);
	fake_rawio_script(NULL, 0);
	fake_ownerfd_script(owners, 11);
	for (uint64_t c = 1; c <= 12; c++) {
		struct sock_rec r = owned(c, states[c - 1], (int32_t)(100 + c), (int)(2 + c));

		assert_int_equal(sock_set_push(&set, &r), 0);
	}
	assert_int_equal(engine_shutdown.kill(&ctx, &set), 0);
	for (size_t i = 0; i < 12; i++) {
		const struct sock_rec *r = &set.v[i];
		bool closing = r->flags & SOCK_F_CLOSING;

		if (r->outcome != want[i].outcome || r->err != want[i].err ||
		    closing != want[i].closing)
			fail_msg("cookie %zu: %s/%d%s, expected %s/%d%s", i + 1,
				 sock_outcome_name(r->outcome), r->err, closing ? " closing" : "",
				 sock_outcome_name(want[i].outcome), want[i].err,
				 want[i].closing ? " closing" : "");
		assert_int_equal(r->engine, SOCK_ENGINE_SHUTDOWN);
		assert_int_equal(fake_ownerfd_shutdowns(r->pid, r->fd), want[i].shutdowns);
		/* Nothing of this engine goes through SOCK_DESTROY. */
		assert_int_equal(fake_diag_destroyed(i + 1), 0);
	}
	assert_string_equal(sock_outcome_detail(&set.v[0]), "closing");
	assert_string_equal(sock_outcome_detail(&set.v[4]), "fd-changed");
	assert_int_equal(fake_ownerfd_open(), 0); /* every duplicate closed again */

	char buf[1024] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	engine_shutdown_explain(f, &set);
	fclose(f);
	assert_non_null(strstr(buf, "sockreap: 1 socket denied: the shutdown engine needs "
				    "CAP_SYS_PTRACE"));
	assert_non_null(strstr(buf, "sockreap: 4 sockets left alone: the owner's descriptor"));
	assert_non_null(strstr(buf, "no pidfd_getfd (Linux 5.6 or later): 1 socket not"));
	sock_set_free(&set);
}

/*
 * No owner (time-wait, orphans), owners unknown, and UDP fall back to auto: destroyed, and
 * said so; pidfd_getfd is never asked for them.
 */
static void test_engine_shutdown_falls_back(void **state)
{
	static const struct fake_sock socks[] = {
		{ .cookie = 1 }, { .cookie = 2 }, { .cookie = 3 }, { .cookie = 4 },
		{ .cookie = 5, .survives = true, .state_after = SS_FIN_WAIT2 },
	};
	static const struct fake_owner owners[] = {
		{ 200, 5, 0, 7005, 5, 0 },
	};
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };
	struct sock_rec r[5] = {
		owned(1, SS_TIME_WAIT, 0, -1),
		owned(2, SS_FIN_WAIT2, 0, -1),		/* an orphan */
		owned(3, SS_CLOSE_WAIT, -1, -1),	/* owners not looked up */
		owned(4, SS_ESTABLISHED, 200, 4),	/* UDP: no closing handshake */
		owned(5, SS_ESTABLISHED, 200, 5),
	};

	(void)state;
	r[3].protocol = IPPROTO_UDP;
	fake_diag_script(socks, 5);
	fake_rawio_script(NULL, 0);
	fake_ownerfd_script(owners, 1);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(sock_set_push(&set, &r[i]), 0);
	assert_int_equal(engine_shutdown.kill(&ctx, &set), 0);
	for (uint64_t c = 1; c <= 4; c++) {
		assert_int_equal(set.v[c - 1].outcome, OUT_KILLED);
		assert_int_equal(set.v[c - 1].engine, SOCK_ENGINE_DESTROY);
		assert_int_equal(fake_diag_destroyed(c), 1);
		/* put back in its own place, marked as another engine's doing */
		assert_int_equal(sock_cookie(&set.v[c - 1]), c);
		assert_true(set.v[c - 1].flags & SOCK_F_FALLBACK);
	}
	assert_int_equal(set.v[4].outcome, OUT_KILLED);
	assert_int_equal(set.v[4].engine, SOCK_ENGINE_SHUTDOWN);
	assert_false(set.v[4].flags & SOCK_F_FALLBACK);
	assert_int_equal(fake_ownerfd_gets(), 1);
	assert_int_equal(fake_ownerfd_open(), 0);
	sock_set_free(&set);
}

/* A verification that cannot ask the kernel is never a kill: unverified, and its error. */
static void test_engine_shutdown_verify_fails(void **state)
{
	static const struct fake_sock socks[] = { { .cookie = 1 } };
	static const struct fake_owner owners[] = { { 300, 3, 0, 7001, 1, 0 } };
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };
	struct sock_rec r = owned(1, SS_ESTABLISHED, 300, 3);

	(void)state;
	fake_diag_script(socks, 1);
	fake_rawio_script(NULL, 0);
	fake_ownerfd_script(owners, 1);
	fake_diag_fail_checks(-ENOBUFS);
	assert_int_equal(sock_set_push(&set, &r), 0);
	assert_int_equal(engine_shutdown.kill(&ctx, &set), -ENOBUFS);
	assert_int_equal(set.v[0].outcome, OUT_FAILED);
	assert_int_equal(set.v[0].err, SOCK_ERR_UNVERIFIED);
	assert_int_equal(fake_ownerfd_shutdowns(300, 3), 1);
	sock_set_free(&set);
}

/* Two owners per cookie (a fork, fd passing), as procmap would give them, lowest pid first. */
static const struct sel_owner_info two_owners[][2] = {
	{ { 0 } },
	{ { .pid = 401, .fd = 3 }, { .pid = 402, .fd = 4 } },
	{ { .pid = 403, .fd = 3 }, { .pid = 404, .fd = 4 } },
	{ { .pid = 405, .fd = 3 }, { .pid = 406, .fd = 4 } },
	{ { .pid = 407, .fd = 3 }, { .pid = 408, .fd = 4 } },
};

static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	uint64_t c = sock_cookie(rec);

	(void)arg;
	if (i >= 2 || c >= sizeof(two_owners) / sizeof(two_owners[0]))
		return false;
	*out = two_owners[c][i];
	return true;
}

/*
 * Every known owner is tried in turn: one we may not reach, or whose fd moved on, does not
 * stop another from doing it; denied only when none could, changed when none holds it.
 */
static void test_engine_shutdown_tries_every_owner(void **state)
{
	static const struct fake_sock socks[] = {
		{ .cookie = 1, .survives = true, .state_after = SS_FIN_WAIT2 },
		{ .cookie = 2, .survives = true, .state_after = SS_FIN_WAIT2 },
		{ .cookie = 3, .survives = true },
		{ .cookie = 4, .survives = true },
	};
	static const struct fake_owner owners[] = {
		{ 401, 3, -EPERM, 0, 0, 0 },
		{ 402, 4, 0, 7001, 1, 0 },
		{ 403, 3, -ESRCH, 0, 0, 0 },
		{ 404, 4, 0, 7002, 2, 0 },
		{ 405, 3, -EPERM, 0, 0, 0 },
		/* 406's fd 4 is closed: EBADF */
		{ 407, 3, 0, 9998, 98, 0 },
		{ 408, 4, 0, 9999, 99, 0 },
	};
	struct sel_owner_ctx octx = { .owner = owner_of };
	struct engine_ctx ctx = { .owners = &octx };
	struct sock_set set = { 0 };

	(void)state;
	fake_diag_script(socks, 4);
	fake_rawio_script(NULL, 0);
	fake_ownerfd_script(owners, 7);
	for (uint64_t c = 1; c <= 4; c++) {
		struct sock_rec r = owned(c, SS_ESTABLISHED, two_owners[c][0].pid,
					  two_owners[c][0].fd);

		r.nowners = 2;
		assert_int_equal(sock_set_push(&set, &r), 0);
	}
	assert_int_equal(engine_shutdown.kill(&ctx, &set), 0);
	assert_int_equal(set.v[0].outcome, OUT_KILLED);
	assert_int_equal(fake_ownerfd_shutdowns(402, 4), 1);
	assert_int_equal(set.v[1].outcome, OUT_KILLED);
	assert_int_equal(fake_ownerfd_shutdowns(404, 4), 1);
	assert_int_equal(set.v[2].outcome, OUT_DENIED);
	assert_int_equal(set.v[2].err, -EPERM);
	assert_int_equal(set.v[3].outcome, OUT_CHANGED);
	assert_int_equal(set.v[3].err, SOCK_ERR_FD_CHANGED);
	assert_int_equal(fake_ownerfd_shutdowns(407, 3) + fake_ownerfd_shutdowns(408, 4), 0);
	assert_int_equal(fake_ownerfd_open(), 0);
	sock_set_free(&set);
}

static void test_engine_shutdown_found_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(engine_find("shutdown"), &engine_shutdown);
	assert_string_equal(sock_engine_name(SOCK_ENGINE_SHUTDOWN), "shutdown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_shutdown_outcomes),
		cmocka_unit_test(test_engine_shutdown_falls_back),
		cmocka_unit_test(test_engine_shutdown_verify_fails),
		cmocka_unit_test(test_engine_shutdown_tries_every_owner),
		cmocka_unit_test(test_engine_shutdown_found_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
