// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Local routes: an address inside a local prefix (a /32 address, a /24 AnyIP range, an IPv6
 * /128) is local and one beside it is not; loopback always is; and the real dump of this
 * namespace finds 127.0.0.1's own route and more than a fixed-size list would hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "localaddr.h"

static bool has4(const struct localaddr *l, const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return localaddr_has(l, AF_INET, &a);
}

static bool has6(const struct localaddr *l, const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return localaddr_has(l, AF_INET6, &a);
}

static void add4(struct localaddr *l, const char *s, unsigned len)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	assert_int_equal(localaddr_add(l, AF_INET, &a, len), 0);
}

static void test_localaddr_prefixes(void **state)
{
	struct localaddr l = { 0 };
	struct in6_addr a6;

	(void)state;
	assert_true(has4(&l, "127.3.4.5"));
	assert_true(has6(&l, "::1"));
	assert_false(has4(&l, "10.0.0.1"));
	add4(&l, "10.0.0.1", 32);
	add4(&l, "10.93.0.0", 24);
	add4(&l, "10.94.0.0", 20);
	assert_true(has4(&l, "10.0.0.1"));
	assert_false(has4(&l, "10.0.0.2"));
	assert_true(has4(&l, "10.93.0.7"));
	assert_true(has4(&l, "10.93.0.255"));
	assert_false(has4(&l, "10.93.1.0"));
	assert_true(has4(&l, "10.94.15.1"));
	assert_false(has4(&l, "10.94.16.1"));
	assert_int_equal(inet_pton(AF_INET6, "fd91:1::1", &a6), 1);
	assert_int_equal(localaddr_add(&l, AF_INET6, &a6, 128), 0);
	assert_true(has6(&l, "fd91:1::1"));
	assert_false(has6(&l, "fd91:1::2"));
	/* An IPv4 prefix says nothing of IPv6 addresses with the same first bytes. */
	assert_false(has6(&l, "a00:1::"));
	assert_int_equal(localaddr_add(&l, AF_INET, &a6, 33), -EINVAL);
	/* Many: past any fixed-size list. */
	for (unsigned i = 0; i < 1000; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.200.%u.%u", i / 250, i % 250 + 1);
		add4(&l, s, 32);
	}
	assert_true(has4(&l, "10.200.3.250"));
	localaddr_free(&l);
	assert_int_equal(l.n, 0);
}

/* The real dump: this namespace's loopback address has its local route. */
static void test_localaddr_reads_this_namespace(void **state)
{
	struct localaddr l;
	struct in_addr lo;
	bool found = false;

	(void)state;
	assert_int_equal(localaddr_read(&l), 0);
	inet_pton(AF_INET, "127.0.0.1", &lo);
	for (size_t i = 0; i < l.n; i++)
		found |= l.v[i].family == AF_INET && l.v[i].len == 32 &&
			 !memcmp(l.v[i].addr, &lo, 4);
	localaddr_free(&l);
	if (!found)
		skip(); /* lo is down here: no local route to find */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_localaddr_prefixes),
		cmocka_unit_test(test_localaddr_reads_this_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
