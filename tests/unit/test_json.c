/* The JSON writer: commas, nesting, escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
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
	json_null(&j, NULL);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_nesting_and_commas),
		cmocka_unit_test(test_json_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
