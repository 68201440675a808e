// SPDX-License-Identifier: GPL-2.0-or-later
/* The JSON writer: commas, nesting, escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void test_json_nesting_and_commas(void **state)
{
	char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct json j;

	(void)state;
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_int(&j, "a", -1);
	json_arr_begin(&j, "b");
	json_uint(&j, NULL, 18446744073709551615ULL);
	json_bool(&j, NULL, true);
	json_put_null(&j, NULL);
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "e");
	json_arr_end(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_double(&j, "c", 1.25, 2);
	json_str(&j, "d", NULL);
	json_obj_end(&j);
	fclose(f);
	assert_string_equal(buf, "{\"a\":-1,\"b\":[18446744073709551615,true,null,{\"e\":[]}],"
				 "\"c\":1.25,\"d\":null}");
}

static void test_json_escapes(void **state)
{
	char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct json j;

	(void)state;
	json_init(&j, f);
	json_str(&j, NULL, "q\"b\\n\nt\tc\x01\x7f\xc3\xa9");
	fclose(f);
	assert_string_equal(buf, "\"q\\\"b\\\\n\\nt\\tc\\u0001\\u007f\xc3\xa9\"");
}

/*
 * JSON is UTF-8: every byte of a malformed sequence becomes U+FFFD, C1 controls are escaped
 * like C0 ones, and well-formed characters pass untouched.
 */
static void test_json_strings_are_always_valid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", "\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\"" },
		{ "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },
		{ "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\x80", "\"\xef\xbf\xbd\"" },
		{ "\xc2\x9b" "1", "\"\\u009b1\"" },
		{ "\x1b[0m", "\"\\u001b[0m\"" },
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fmemopen(buf, sizeof(buf), "w");
		struct json j;

		json_init(&j, f);
		json_str(&j, NULL, cases[i].in);
		fclose(f);
		assert_string_equal(buf, cases[i].out);
	}
	/* Keys too, and json_strn stops at its length even inside a character. */
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_strn(&j, "k\xfe", "\xc3\xa9\xc3\xa9", 3);
	json_obj_end(&j);
	fclose(f);
	assert_string_equal(buf, "{\"k\xef\xbf\xbd\":\"\xc3\xa9\xef\xbf\xbd\"}");
}

/*
 * A buffer writes what a stream writes, byte for byte: its one-pass copy starts over the
 * careful way at a byte that needs escaping, wherever it is, and when the room runs out.
 * Cookies in hex are printf's %" PRIx64 ".
 */
static void test_json_buffer_same_as_stream(void **state)
{
	static const char *const strs[] = { "plain", "", "\"front", "end\\", "mid\x01dle",
					     "caf\xc3\xa9", "bad\xff", "\x7f" };
	static const uint64_t hex[] = { 0, 1, 0xf, 0x10, 0xdeadbeef, UINT64_MAX };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		char buf[1024];
		FILE *f = fmemopen(buf, sizeof(buf), "w");
		struct json_buf b = { 0 };
		struct json j, jb;

		/* Once from nothing, once from 8 bytes: grown mid-array, not only at the start. */
		if (k) {
			b.p = malloc(8);
			assert_non_null(b.p);
			b.cap = 8;
		}
		json_init(&j, f);
		json_init_buf(&jb, &b);
		json_arr_begin(&j, NULL);
		json_arr_begin(&jb, NULL);
		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
			json_str(&j, NULL, strs[i]);
			json_str(&jb, NULL, strs[i]);
			json_obj_begin(&j, NULL);
			json_obj_begin(&jb, NULL);
			json_str(&j, strs[i], "v");
			json_str(&jb, strs[i], "v");
			json_obj_end(&j);
			json_obj_end(&jb);
		}
		for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
			char want[24];

			snprintf(want, sizeof(want), "%" PRIx64, hex[i]);
			json_str(&j, NULL, want);
			json_hex(&jb, NULL, hex[i]);
		}
		json_arr_end(&j);
		json_arr_end(&jb);
		fclose(f);
		assert_false(b.oom);
		assert_int_equal(b.len, strlen(buf));
		assert_memory_equal(b.p, buf, b.len);
		json_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_nesting_and_commas),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_json_strings_are_always_valid_utf8),
		cmocka_unit_test(test_json_buffer_same_as_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
