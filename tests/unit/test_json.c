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

/* A stream's or a buffer's bytes for one string, NUL-terminated; the caller frees them. */
static char *str_bytes(const char *s, size_t len, bool buffered)
{
	struct json j;

	if (buffered) {
		struct json_buf b = { 0 };

		json_init_buf(&j, &b);
		json_strn(&j, NULL, s, len);
		json_end_line(&j);
		assert_false(b.oom);
		b.p[b.len - 1] = '\0';
		return b.p;
	}
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);

	assert_non_null(f);
	json_init(&j, f);
	json_strn(&j, NULL, s, len);
	fclose(f);
	return p;
}

/*
 * Long strings: whatever pieces the writer takes a string in, a character (or a malformed
 * sequence) that sits at any offset comes out as it does alone.
 */
static void test_json_long_strings(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\xc3\xa9", "\xc3\xa9" },
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
		{ "\xe6\x97\xa5", "\xe6\x97\xa5" },
		{ "\xff", "\xef\xbf\xbd" },
		{ "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc2\x85", "\\u0085" },
		{ "\"\\\n\x01", "\\\"\\\\\\n\\u0001" },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (size_t at = 0; at < 300; at++) {
			char in[512], want[1024];
			size_t il = strlen(cases[c].in), ol = strlen(cases[c].out), tail = 50;

			memset(in, 'a', at);
			memcpy(in + at, cases[c].in, il);
			memset(in + at + il, 'b', tail);
			want[0] = '"';
			memset(want + 1, 'a', at);
			memcpy(want + 1 + at, cases[c].out, ol);
			memset(want + 1 + at + ol, 'b', tail);
			memcpy(want + 1 + at + ol + tail, "\"", 2);
			for (int buffered = 0; buffered < 2; buffered++) {
				char *got = str_bytes(in, at + il + tail, buffered);

				assert_string_equal(got, want);
				free(got);
			}
		}
	}
}

/* Numbers at the edges of their digits, as printf writes them. */
static void test_json_numbers(void **state)
{
	static const uint64_t u[] = { 0, 1, 9, 10, 99, 100, 999, 1000, 65535, 4294967295ULL,
				      4294967296ULL, 9999999999ULL, 10000000000ULL,
				      18446744073709551615ULL };
	static const int64_t s[] = { 0, -1, -9, -10, 2147483647, -2147483648LL, INT64_MAX,
				     INT64_MIN };
	char want[2048], *got;
	size_t n = 0;

	(void)state;
	for (int buffered = 0; buffered < 2; buffered++) {
		struct json_buf b = { 0 };
		char *p = NULL;
		size_t len = 0;
		FILE *f = buffered ? NULL : open_memstream(&p, &len);
		struct json j;

		n = 0;
		if (buffered)
			json_init_buf(&j, &b);
		else
			json_init(&j, f);
		json_arr_begin(&j, NULL);
		for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
			json_uint(&j, NULL, u[i]);
			n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%" PRIu64,
					      i ? "," : "[", u[i]);
		}
		for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
			json_int(&j, NULL, s[i]);
			n += (size_t)snprintf(want + n, sizeof(want) - n, ",%" PRId64, s[i]);
		}
		json_arr_end(&j);
		n += (size_t)snprintf(want + n, sizeof(want) - n, "]");
		if (buffered) {
			json_end_line(&j);
			b.p[b.len - 1] = '\0';
			got = b.p;
		} else {
			fclose(f);
			got = p;
		}
		assert_string_equal(got, want);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_nesting_and_commas),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_json_strings_are_always_valid_utf8),
		cmocka_unit_test(test_json_buffer_same_as_stream),
		cmocka_unit_test(test_json_long_strings),
		cmocka_unit_test(test_json_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
