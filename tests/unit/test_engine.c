/* The destroy engine through the netlink seam: every answer maps to its outcome. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "engine.h"
#include "fake_diag.h"
#include "fixtures.h"

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
	sock_set_free(&set);
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
	sock_set_free(&set);
}

static void test_engine_batches_of_256(void **state)
{
	struct engine_ctx ctx = { 0 };
	struct sock_set set = { 0 };
	size_t sizes[8];

	(void)state;
	fake_diag_script(NULL, 0);
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
	sock_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_outcomes),
		cmocka_unit_test(test_engine_udp_stays_bound),
		cmocka_unit_test(test_engine_batches_of_256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
