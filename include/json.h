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
#include <string.h>

#define JSON_MAX_DEPTH 16
/* The most json_reserve gives at once (a stream's bytes go through a scratch area this big). */
#define JSON_RESERVE_MAX 512

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
	char scratch[JSON_RESERVE_MAX];	/* a stream's json_reserve */
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

/*
 * Writing by hand, for records of one shape written by the 100,000 (a socket in an audit
 * intent): a call per field costs more than the bytes (issue 11). json_reserve gives room for
 * n <= JSON_RESERVE_MAX bytes, in the buffer itself or, for a stream, in a scratch area;
 * NULL when out of memory (the buffer is marked oom). The caller writes valid JSON there with
 * the json_cur_ helpers, each returning the end of what it wrote, and json_advance(j, end)
 * takes it: the current object or array then has a value (the next call puts a comma). Only
 * one reservation at a time; no other json_ call between it and its json_advance.
 */
char *json_reserve(struct json *j, size_t n);
void json_advance(struct json *j, const char *end);
/* Decimal digits of v (at most 20) or of a signed v (at most 20 with its '-'). */
char *json_cur_u64(char *p, uint64_t v);
char *json_cur_i64(char *p, int64_t v);
/* Lowercase hex digits of v, as printf's %" PRIx64 " (at most 16), without quotes. */
char *json_cur_hex(char *p, uint64_t v);
/* The room a string of len bytes may take quoted and escaped: 6 bytes a byte (\u0001). */
#define JSON_STR_ROOM(len) (6 * (size_t)(len) + 2)
/* s quoted and escaped as json_strn writes it; JSON_STR_ROOM(len) bytes of room. */
char *json_cur_str(char *p, const char *s, size_t len);
/*
 * A string literal copied: a key and the punctuation around it known at compile time to need
 * no escaping ("\"local\":{\"addr\":\""), so sizeof, not strlen nor a scan for what to escape.
 */
#define json_cur_lit(p, lit) ((char *)memcpy((p), "" lit, sizeof(lit) - 1) + sizeof(lit) - 1)

#endif
