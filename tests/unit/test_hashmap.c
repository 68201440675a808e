// SPDX-License-Identifier: GPL-2.0-or-later
/* The hash map: put, overwrite, miss, sequential keys, full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "hashmap.h"

static void test_hashmap_put_get(void **state)
{
	struct hashmap m;
	uint32_t v;

	(void)state;
	assert_int_equal(hashmap_init(&m, 100000), 0);
	for (uint64_t k = 1; k <= 100000; k++)
		assert_int_equal(hashmap_put(&m, k, (uint32_t)(k * 3)), 0);
	assert_int_equal(m.n, 100000);
	for (uint64_t k = 1; k <= 100000; k++) {
		assert_true(hashmap_get(&m, k, &v));
		assert_int_equal(v, k * 3);
	}
	assert_false(hashmap_get(&m, 100001, &v));
	assert_false(hashmap_get(&m, 0, &v));
	assert_int_equal(hashmap_put(&m, 7, 1), 0);
	assert_true(hashmap_get(&m, 7, &v));
	assert_int_equal(v, 1);
	assert_int_equal(m.n, 100000);
	assert_int_equal(hashmap_put(&m, 0, 1), -EINVAL);
	hashmap_free(&m);
	hashmap_free(&m);
}

static void test_hashmap_full(void **state)
{
	struct hashmap m;
	uint64_t k = 1;
	int ret;

	(void)state;
	assert_int_equal(hashmap_init(&m, 1), 0);
	while ((ret = hashmap_put(&m, k, 0)) == 0)
		k++;
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(m.n, m.mask); /* one slot stays empty so misses terminate */
	assert_false(hashmap_get(&m, k + 1000, NULL));
	hashmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashmap_put_get),
		cmocka_unit_test(test_hashmap_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
