// SPDX-License-Identifier: GPL-2.0-or-later
/* Terminal-safe text: what passes, what is escaped, and that the output is always clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static const char *esc(const char *s, size_t len)
{
	static char buf[256];
	size_t n = text_escape(buf, sizeof(buf), s, len);

	assert_int_equal(n, strlen(buf));
	return buf;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static void test_text_escape_cases(void **state)
{
	(void)state;
	assert_string_equal(ESC("java"), "java");
	assert_string_equal(ESC("a b~!"), "a b~!");
	/* The attack: clear the screen, move the cursor up, hide what follows. */
	assert_string_equal(ESC("\x1b[2J\x1b[1A"), "\\x1b[2J\\x1b[1A");
	assert_string_equal(ESC("\r\n\t\b"), "\\x0d\\x0a\\x09\\x08");
	assert_string_equal(ESC("a\\x1b"), "a\\\\x1b");
	assert_string_equal(ESC("\x7f"), "\\x7f");
	assert_string_equal(ESC("a\0b"), "a\\x00b");
	/* Printable UTF-8 passes: a comm may be in any script. */
	assert_string_equal(ESC("caf\xc3\xa9"), "caf\xc3\xa9");
	assert_string_equal(ESC("\xe6\x97\xa5\xe6\x9c\xac"), "\xe6\x97\xa5\xe6\x9c\xac");
	assert_string_equal(ESC("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
	/* C1 controls are valid UTF-8 but steer terminals (U+009B is CSI). */
	assert_string_equal(ESC("\xc2\x9b" "2J"), "\\xc2\\x9b2J");
	assert_string_equal(ESC("\xc2\x85"), "\\xc2\\x85");
	assert_string_equal(ESC("\xc2\xa0"), "\xc2\xa0");
	/* Bidirectional overrides and line separators reorder or break the line. */
	assert_string_equal(ESC("\xe2\x80\xae"), "\\xe2\\x80\\xae");
	assert_string_equal(ESC("\xe2\x81\xa6"), "\\xe2\\x81\\xa6");
	assert_string_equal(ESC("\xe2\x80\xa8"), "\\xe2\\x80\\xa8");
	/* Malformed UTF-8, byte by byte. */
	assert_string_equal(ESC("\xff\xfe"), "\\xff\\xfe");
	assert_string_equal(ESC("\x80" "a"), "\\x80a");
	assert_string_equal(ESC("\xc0\xaf"), "\\xc0\\xaf");			/* overlong '/' */
	assert_string_equal(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");		/* overlong '/' */
	assert_string_equal(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");		/* surrogate */
	assert_string_equal(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");	/* > U+10FFFF */
	assert_string_equal(ESC("ab\xe2\x82"), "ab\\xe2\\x82");		/* cut short */
	assert_string_equal(ESC("\xe2\x82" "a"), "\\xe2\\x82a");
}

static void test_text_escape_truncates_between_units(void **state)
{
	char buf[8];

	(void)state;
	/* Needs 8 + 1: only the first escape fits in 6, never half of the second. */
	assert_int_equal(text_escape(buf, 6, "\x1b\x1b", 2), 8);
	assert_string_equal(buf, "\\x1b");
	assert_int_equal(text_escape(buf, 3, "a\xc3\xa9", 3), 3);
	assert_string_equal(buf, "a");
	assert_int_equal(text_escape(buf, 4, "a\xc3\xa9", 3), 3);
	assert_string_equal(buf, "a\xc3\xa9");
	assert_int_equal(text_escape(buf, 1, "abc", 3), 3);
	assert_string_equal(buf, "");
	assert_int_equal(text_escape(NULL, 0, "abc", 3), 3);
}

static void test_text_utf8_char(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(text_utf8_char("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(text_utf8_char("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(text_utf8_char("\xef\xbf\xbd", 3, &cp), 3);
	assert_int_equal(cp, 0xfffd);
	assert_int_equal(text_utf8_char("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(text_utf8_char("\xc3\xa9", 1, &cp), 0);
	assert_int_equal(text_utf8_char("\xc1\xbf", 2, &cp), 0);
	assert_int_equal(text_utf8_char("\xf0\x8f\xbf\xbf", 4, &cp), 0);
	assert_int_equal(text_utf8_char("\xc3" "A", 2, &cp), 0);
	assert_int_equal(text_utf8_char("", 0, &cp), 0);
}

static void test_text_columns(void **state)
{
	(void)state;
	assert_int_equal(text_columns("abc", 3), 3);
	assert_int_equal(text_columns("caf\xc3\xa9", 5), 4);
	assert_int_equal(text_columns("\x1b[", 2), 5);
	assert_int_equal(text_columns("\\", 1), 2);
}

/* Whatever the input, the output has no control byte and is well-formed UTF-8. */
static void test_text_escape_output_is_always_clean(void **state)
{
	char in[32], out[32 * 4 + 1];
	unsigned seed = 11;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(in));

		for (size_t i = 0; i < len; i++) {
			/* Half plain bytes, half UTF-8-ish lead and continuation bytes. */
			int r = rand_r(&seed);

			in[i] = (char)(r & 1 ? r >> 8 : 0x80 | ((r >> 8) & 0x7f));
		}
		size_t n = text_escape(out, sizeof(out), in, len);

		assert_int_equal(n, strlen(out));
		for (size_t i = 0; i < n;) {
			uint32_t cp;
			size_t k = text_utf8_char(out + i, n - i, &cp);

			if (!k || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
				fail_msg("round %d: byte %zu of \"%s\" is not clean", round, i, out);
			i += k;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_escape_cases),
		cmocka_unit_test(test_text_escape_truncates_between_units),
		cmocka_unit_test(test_text_utf8_char),
		cmocka_unit_test(test_text_columns),
		cmocka_unit_test(test_text_escape_output_is_always_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
