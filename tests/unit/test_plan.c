/* Guards (LISTEN, the caller's SSH connection) and outcomes -> exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "fixtures.h"
#include "plan.h"

static void test_plan_listen_guard(void **state)
{
	struct plan_guards g;
	struct sock_rec l = fx_rec(AF_INET, "0.0.0.0", 80, "0.0.0.0", 0, SS_LISTEN, 1);
	struct sock_rec e = fx_rec(AF_INET, "10.0.0.1", 80, "10.0.0.2", 4000, SS_ESTABLISHED, 2);

	(void)state;
	assert_int_equal(plan_guards_init(&g, false, false, NULL), 0);
	assert_int_equal(plan_admit(&g, &l), SKIP_LISTEN);
	assert_int_equal(plan_admit(&g, &e), ADMIT);
	assert_int_equal(plan_guards_init(&g, true, false, NULL), 0);
	assert_int_equal(plan_admit(&g, &l), ADMIT);
}

static void test_plan_self_guard(void **state)
{
	struct plan_guards g;
	struct sock_rec self = fx_rec(AF_INET, "10.0.0.1", 22, "192.168.1.50", 51000,
				      SS_ESTABLISHED, 1);
	struct sock_rec mapped = fx_rec(AF_INET6, "::ffff:10.0.0.1", 22, "::ffff:192.168.1.50",
					51000, SS_ESTABLISHED, 2);
	struct sock_rec other = fx_rec(AF_INET, "10.0.0.1", 22, "192.168.1.50", 51001,
				       SS_ESTABLISHED, 3);
	struct sock_rec v6 = fx_rec(AF_INET6, "2001:db8::1", 22, "2001:db8::99", 40000,
				    SS_ESTABLISHED, 4);

	(void)state;
	assert_int_equal(plan_guards_init(&g, false, false, "192.168.1.50 51000 10.0.0.1 22"), 0);
	assert_int_equal(plan_admit(&g, &self), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &mapped), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &other), ADMIT);
	assert_int_equal(plan_guards_init(&g, false, true, "192.168.1.50 51000 10.0.0.1 22"), 0);
	assert_int_equal(plan_admit(&g, &self), ADMIT);
	assert_int_equal(plan_guards_init(&g, false, false, "2001:db8::99 40000 2001:db8::1 22"), 0);
	assert_int_equal(plan_admit(&g, &v6), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &self), ADMIT);
	assert_int_equal(plan_guards_init(&g, false, false, "garbage"), -EINVAL);
	assert_int_equal(plan_guards_init(&g, false, false, "1.2.3.4 70000 10.0.0.1 22"), -EINVAL);
	assert_int_equal(plan_guards_init(&g, false, false, ""), 0);
	assert_false(g.have_self);
}

static enum exit_status status_of(size_t killed, size_t gone, size_t changed, size_t unsup,
				  size_t denied, size_t failed)
{
	struct plan_counts c = { .total = killed + gone + changed + unsup + denied + failed };

	c.n[OUT_KILLED] = killed;
	c.n[OUT_GONE] = gone;
	c.n[OUT_CHANGED] = changed;
	c.n[OUT_UNSUPPORTED] = unsup;
	c.n[OUT_DENIED] = denied;
	c.n[OUT_FAILED] = failed;
	return plan_exit_status(&c);
}

static void test_plan_exit_status(void **state)
{
	(void)state;
	assert_int_equal(status_of(0, 0, 0, 0, 0, 0), EXIT_NOMATCH);
	assert_int_equal(status_of(5, 0, 0, 0, 0, 0), EXIT_DONE);
	assert_int_equal(status_of(3, 1, 1, 0, 0, 0), EXIT_DONE);
	assert_int_equal(status_of(0, 2, 0, 0, 0, 0), EXIT_DONE);
	assert_int_equal(status_of(4, 0, 0, 0, 0, 1), EXIT_PARTIAL);
	assert_int_equal(status_of(4, 0, 0, 0, 1, 0), EXIT_PARTIAL);
	assert_int_equal(status_of(0, 0, 0, 0, 0, 3), EXIT_PARTIAL);
	assert_int_equal(status_of(0, 0, 0, 0, 3, 0), EXIT_PRIV);
	assert_int_equal(status_of(0, 0, 0, 2, 1, 0), EXIT_PRIV);
	assert_int_equal(status_of(0, 0, 0, 2, 0, 1), EXIT_PARTIAL);
}

/* A run that stopped before attempting anything says why honestly: never 3 ("some not killed"). */
static void test_plan_exit_for_error(void **state)
{
	(void)state;
	assert_int_equal(plan_exit_for_error(-ENOMEM), EXIT_ERROR);
	assert_int_equal(plan_exit_for_error(-EIO), EXIT_ERROR);
	assert_int_equal(plan_exit_for_error(-ENOBUFS), EXIT_ERROR);
	assert_int_equal(plan_exit_for_error(-EPROTONOSUPPORT), EXIT_PRIV);
	assert_int_equal(plan_exit_for_error(-EPERM), EXIT_PRIV);
}

static void test_plan_count(void **state)
{
	struct sock_set set = { 0 };
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 1, "10.0.0.2", 2, SS_CLOSE_WAIT, 1);
	struct plan_counts c;

	(void)state;
	r.outcome = OUT_KILLED;
	sock_set_push(&set, &r);
	sock_set_push(&set, &r);
	r.outcome = OUT_DENIED;
	sock_set_push(&set, &r);
	plan_count(&set, &c);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.n[OUT_KILLED], 2);
	assert_int_equal(c.n[OUT_DENIED], 1);
	sock_set_free(&set);
}

/* A plan the rst engine cannot reach at all (syn-sent, syn-recv) is not "missing privilege". */
static void test_plan_engine_limit_is_not_privilege(void **state)
{
	struct sock_set set = { 0 };
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 1, "10.0.0.2", 2, SS_SYN_SENT, 1);
	struct plan_counts c;

	(void)state;
	r.outcome = OUT_UNSUPPORTED;
	r.err = SOCK_ERR_RST_STATE;
	sock_set_push(&set, &r);
	sock_set_push(&set, &r);
	plan_count(&set, &c);
	assert_int_equal(c.engine_cannot, 2);
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
	/* The kernel's own EOPNOTSUPP still is. */
	r.err = -95;
	set.v[0] = r;
	set.v[1] = r;
	plan_count(&set, &c);
	assert_int_equal(plan_exit_status(&c), EXIT_PRIV);
	sock_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_listen_guard),
		cmocka_unit_test(test_plan_self_guard),
		cmocka_unit_test(test_plan_exit_status),
		cmocka_unit_test(test_plan_exit_for_error),
		cmocka_unit_test(test_plan_count),
		cmocka_unit_test(test_plan_engine_limit_is_not_privilege),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
