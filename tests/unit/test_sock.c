// SPDX-License-Identifier: GPL-2.0-or-later
/* State and outcome names, endpoint and duration formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "fixtures.h"

static void test_sock_state_names(void **state)
{
	(void)state;
	assert_string_equal(sock_state_name(SS_CLOSE_WAIT), "close-wait");
	assert_string_equal(sock_state_name(SS_NEW_SYN_RECV), "syn-recv");
	assert_string_equal(sock_state_name(99), "unknown");
	assert_int_equal(sock_state_parse("CLOSE_WAIT", 10), SS_CLOSE_WAIT);
	assert_int_equal(sock_state_parse("fin-wait2", 9), SS_FIN_WAIT2);
	assert_int_equal(sock_state_parse("closed", 6), SS_CLOSE);
	assert_int_equal(sock_state_parse("close-waitx", 10), SS_CLOSE_WAIT);
	assert_int_equal(sock_state_parse("nope", 4), -1);
	assert_int_equal(sock_state_parse("a-very-long-state-name-indeed", 29), -1);
	for (unsigned s = SS_ESTABLISHED; s < SS_NEW_SYN_RECV; s++) {
		const char *n = sock_state_name(s);

		assert_int_equal(sock_state_parse(n, strlen(n)), (int)s);
	}
}

static void test_sock_endpoints(void **state)
{
	char buf[64];
	struct sock_rec r = fx_rec(AF_INET6, "::", 0, "2001:db8::1", 443, SS_LISTEN, 1);
	struct sock_rec v4 = fx_rec(AF_INET, "10.0.0.1", 5432, "0.0.0.0", 0, SS_LISTEN, 1);

	(void)state;
	sock_format_endpoint(buf, sizeof(buf), AF_INET6, r.id.idiag_src, 0);
	assert_string_equal(buf, "*:*");
	sock_format_endpoint(buf, sizeof(buf), AF_INET6, r.id.idiag_dst, 443);
	assert_string_equal(buf, "[2001:db8::1]:443");
	sock_format_endpoint(buf, sizeof(buf), AF_INET, v4.id.idiag_src, 5432);
	assert_string_equal(buf, "10.0.0.1:5432");
	sock_format_endpoint(buf, sizeof(buf), AF_INET, v4.id.idiag_dst, 0);
	assert_string_equal(buf, "*:*");
	assert_int_equal(sock_cookie(&r), 1);
	assert_int_equal(sock_dport(&r), 443);
}

static void test_sock_durations(void **state)
{
	char buf[16];

	(void)state;
	sock_format_duration(buf, sizeof(buf), SOCK_IDLE_UNKNOWN);
	assert_string_equal(buf, "-");
	sock_format_duration(buf, sizeof(buf), 750);
	assert_string_equal(buf, "750ms");
	sock_format_duration(buf, sizeof(buf), 119999);
	assert_string_equal(buf, "119s");
	sock_format_duration(buf, sizeof(buf), 120000);
	assert_string_equal(buf, "2m");
	sock_format_duration(buf, sizeof(buf), 7200000);
	assert_string_equal(buf, "2h");
	sock_format_duration(buf, sizeof(buf), 48 * 3600000U);
	assert_string_equal(buf, "2d");
	assert_int_equal(sock_format_duration(buf, sizeof(buf), 0), 3);
	assert_string_equal(buf, "0ms");
	assert_int_equal(sock_format_duration(buf, sizeof(buf), UINT32_MAX - 1), 3);
	assert_string_equal(buf, "49d");
	/* As snprintf: cut to fit, the whole length returned. */
	assert_int_equal(sock_format_duration(buf, 3, 750), 5);
	assert_string_equal(buf, "75");
	assert_int_equal(sock_format_duration(buf, 0, 750), 5);
}

static void test_sock_outcome_detail(void **state)
{
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 1, "10.0.0.2", 2, SS_CLOSE_WAIT, 1);

	(void)state;
	assert_null(sock_outcome_detail(&r));
	r.err = -EPERM;
	assert_string_equal(sock_outcome_detail(&r), "EPERM");
	r.err = SOCK_ERR_SURVIVED;
	assert_string_equal(sock_outcome_detail(&r), "still-present");
	assert_string_equal(sock_errno_name(ENOENT), "ENOENT");
	assert_string_equal(sock_errno_name(-99999), "EUNKNOWN");
	assert_string_equal(sock_outcome_name(OUT_CHANGED), "changed");
	assert_string_equal(sock_outcome_name(OUT_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sock_state_names),
		cmocka_unit_test(test_sock_endpoints),
		cmocka_unit_test(test_sock_durations),
		cmocka_unit_test(test_sock_outcome_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
