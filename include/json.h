/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A streaming JSON writer to a FILE or to a growing buffer (an audit record, formatted whole
 * before its one write): one document or one JSON-lines record at a time.
 */
#ifndef SOCKREAP_JSON_H
#define SOCKREAP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

/* A buffer the writer appends to; the caller owns it, empties it (len = 0) and frees it. */
struct json_buf {
	char *p;
	size_t len, cap;
	bool oom;	/* something could not be stored: what p holds is incomplete */
};

struct json {
	FILE *f;		/* NULL when writing to b */
	struct json_buf *b;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

/* key is NULL inside arrays and for the top-level value. */
void json_init(struct json *j, FILE *f);
void json_init_buf(struct json *j, struct json_buf *b);
void json_buf_free(struct json_buf *b);
/* Ends a JSON-lines record: '\n'. */
void json_end_line(struct json *j);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val);	/* NULL -> null */
void json_strn(struct json *j, const char *key, const char *val, size_t len);
void json_int(struct json *j, const char *key, int64_t val);
void json_uint(struct json *j, const char *key, uint64_t val);
/* A string of val in lowercase hex, as printf's %" PRIx64 " writes it, without printf. */
void json_hex(struct json *j, const char *key, uint64_t val);
void json_double(struct json *j, const char *key, double val, int decimals);
void json_bool(struct json *j, const char *key, bool val);
void json_put_null(struct json *j, const char *key);

#endif
