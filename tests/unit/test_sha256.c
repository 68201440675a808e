// SPDX-License-Identifier: GPL-2.0-or-later
/* SHA-256 against the FIPS 180-4 examples and sha256sum, across block boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sha256.h"

static void test_sha256_fips_examples(void **state)
{
	char hex[SHA256_HEX_LEN];

	(void)state;
	sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	sha256_hex(two, strlen(two), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* A million 'a' fed in uneven pieces: the padding and the length across many blocks. */
static void test_sha256_million_a_in_pieces(void **state)
{
	static char a[1000];
	struct sha256 s;
	uint8_t d[SHA256_LEN];
	size_t done = 0, step = 1;

	(void)state;
	memset(a, 'a', sizeof(a));
	sha256_init(&s);
	while (done < 1000000) {
		size_t n = step < 1000000 - done ? step : 1000000 - done;

		sha256_update(&s, a, n);
		done += n;
		step = step % 937 + 63; /* 63..999: within a[] */
	}
	sha256_final(&s, d);
	static const uint8_t want[SHA256_LEN] = {
		0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2,
		0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
		0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0,
	};

	assert_memory_equal(d, want, SHA256_LEN);
}

/* Lengths 55, 56 and 64: one or two padding blocks (sha256sum's answers). */
static void test_sha256_padding_edges(void **state)
{
	char buf[64], hex[SHA256_HEX_LEN];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	sha256_hex(buf, 55, hex);
	assert_string_equal(hex, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
	sha256_hex(buf, 56, hex);
	assert_string_equal(hex, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
	sha256_hex(buf, 64, hex);
	assert_string_equal(hex, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips_examples),
		cmocka_unit_test(test_sha256_million_a_in_pieces),
		cmocka_unit_test(test_sha256_padding_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
