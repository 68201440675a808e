// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * JSON writer: escaping and commas, nothing else; compact output, one value per call, or by
 * hand into reserved room for records written by the 100,000 (json.h). Strings come out as
 * valid UTF-8 whatever bytes they hold (process names are not).
 */
#include "json.h"
#include "text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->b = NULL;
	j->depth = 0;
	j->first[0] = true;
}

void json_init_buf(struct json *j, struct json_buf *b)
{
	json_init(j, NULL);
	j->b = b;
}

void json_buf_free(struct json_buf *b)
{
	if (!b)
		return;
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes in b (grown by doubling); false, and b marked oom, when it cannot be. */
static bool grow(struct json_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* Where bytes go: the stream, or the buffer. */
static void out(struct json *j, const char *s, size_t n)
{
	struct json_buf *b = j->b;

	if (!b) {
		fwrite(s, 1, n, j->f);
		return;
	}
	if (b->cap - b->len < n && !grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void outc(struct json *j, char c)
{
	struct json_buf *b = j->b;

	if (b && b->len < b->cap)
		b->p[b->len++] = c;
	else if (b)
		out(j, &c, 1);
	else
		fputc(c, j->f);
}

static void outs(struct json *j, const char *s)
{
	out(j, s, strlen(s));
}

char *json_reserve(struct json *j, size_t n)
{
	struct json_buf *b = j->b;

	if (!b)
		return n <= sizeof(j->scratch) ? j->scratch : NULL;
	if (b->cap - b->len < n && !grow(b, n))
		return NULL;
	return b->p + b->len;
}

/* What was written from json_reserve's pointer up to end goes out. */
static void commit(struct json *j, const char *end)
{
	if (j->b)
		j->b->len = (size_t)(end - j->b->p);
	else
		fwrite(j->scratch, 1, (size_t)(end - j->scratch), j->f);
}

void json_advance(struct json *j, const char *end)
{
	commit(j, end);
	j->first[j->depth] = false;
}

static const char hex_digits[] = "0123456789abcdef";

/* \u00XX: only C0 and C1 controls (and DEL) are escaped this way. */
static char *cur_u(char *d, unsigned cp)
{
	d = json_cur_lit(d, "\\u00");
	d[0] = hex_digits[(cp >> 4) & 0xf];
	d[1] = hex_digits[cp & 0xf];
	return d + 2;
}

/*
 * s[*pi] up to stop, escaped, into d (6 bytes of room a byte; a character that starts before
 * stop is taken whole, so 3 more bytes' worth). s[0..len) bounds what a character may span.
 * Printable ASCII other than '"' and '\\' needs no escaping under any rule: it is copied as it
 * is checked, in one pass.
 */
static char *esc_into(char *d, const char *s, size_t len, size_t *pi, size_t stop)
{
	size_t i = *pi;

	while (i < stop) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*d++ = (char)c;
			i++;
			continue;
		}
		switch (c) {
		case '"':
			d = json_cur_lit(d, "\\\"");
			break;
		case '\\':
			d = json_cur_lit(d, "\\\\");
			break;
		case '\n':
			d = json_cur_lit(d, "\\n");
			break;
		case '\t':
			d = json_cur_lit(d, "\\t");
			break;
		case '\r':
			d = json_cur_lit(d, "\\r");
			break;
		default:
			if (c < 0x80) {
				d = cur_u(d, c);
			} else {
				uint32_t cp;
				size_t n = text_utf8_char(s + i, len - i, &cp);

				/*
				 * JSON is UTF-8 (RFC 8259): each byte of a malformed sequence
				 * becomes U+FFFD; C1 controls are escaped like C0 ones.
				 */
				if (!n) {
					d = json_cur_lit(d, "\xef\xbf\xbd");
					n = 1;
				} else if (cp <= 0x9f) {
					d = cur_u(d, (unsigned)cp);
				} else {
					memcpy(d, s + i, n);
					d += n;
				}
				i += n;
				continue;
			}
		}
		i++;
	}
	*pi = i;
	return d;
}

char *json_cur_str(char *p, const char *s, size_t len)
{
	size_t i = 0;

	*p++ = '"';
	p = esc_into(p, s, len, &i, len);
	*p++ = '"';
	return p;
}

/* A string of any length goes out in pieces of this many bytes, each through json_reserve. */
#define STR_PIECE 64

static void put_string(struct json *j, const char *s, size_t len)
{
	size_t i = 0;

	do {
		size_t stop = len - i > STR_PIECE ? i + STR_PIECE : len;
		/* A character that starts before stop may end 3 bytes past it. */
		char *d = json_reserve(j, JSON_STR_ROOM(stop - i + 3));

		if (!d)
			return;
		if (i == 0)
			*d++ = '"';
		d = esc_into(d, s, len, &i, stop);
		if (i >= len)
			*d++ = '"';
		commit(j, d);
	} while (i < len);
}

/*
 * Decimal digits two at a time from a table, without printf's format parsing: a socket's
 * audit intent carries a dozen numbers.
 */
static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static unsigned count_digits(uint64_t v)
{
	unsigned n = 1;

	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

/* v's digits end at e, written backwards two at a time; 32-bit division for what fits. */
static void digits_back(char *e, uint64_t v)
{
	while (v > UINT32_MAX) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		e -= 2;
		memcpy(e, digit_pairs + 2 * r, 2);
	}
	uint32_t w = (uint32_t)v;

	while (w >= 100) {
		unsigned r = w % 100;

		w /= 100;
		e -= 2;
		memcpy(e, digit_pairs + 2 * r, 2);
	}
	if (w >= 10)
		memcpy(e - 2, digit_pairs + 2 * w, 2);
	else
		e[-1] = (char)('0' + w);
}

/* Counted first, then written in place: no copy of a variable length (a libc call). */
char *json_cur_u64(char *p, uint64_t v)
{
	char *e = p + count_digits(v);

	digits_back(e, v);
	return e;
}

char *json_cur_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return json_cur_u64(p, -(uint64_t)v);
	}
	return json_cur_u64(p, (uint64_t)v);
}

char *json_cur_hex(char *p, uint64_t v)
{
	/* As many digits as v has nibbles (one for 0), written backwards in place. */
	unsigned n = v ? (unsigned)(64 - __builtin_clzll(v) + 3) / 4 : 1;
	char *e = p + n;

	for (char *q = e; q > p; v >>= 4)
		*--q = hex_digits[v & 0xf];
	return e;
}

static void put_u64(struct json *j, uint64_t v)
{
	char *p = json_reserve(j, 20);

	if (p)
		commit(j, json_cur_u64(p, v));
}

static void prefix(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		outc(j, ',');
	j->first[j->depth] = false;
	if (key) {
		put_string(j, key, strlen(key));
		outc(j, ':');
	}
}

static void open_(struct json *j, const char *key, char c)
{
	prefix(j, key);
	outc(j, c);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, char c)
{
	outc(j, c);
	if (j->depth > 0)
		j->depth--;
}

void json_obj_begin(struct json *j, const char *key)
{
	open_(j, key, '{');
}

void json_obj_end(struct json *j)
{
	close_(j, '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	open_(j, key, '[');
}

void json_arr_end(struct json *j)
{
	close_(j, ']');
}

void json_strn(struct json *j, const char *key, const char *val, size_t len)
{
	prefix(j, key);
	put_string(j, val, len);
}

void json_str(struct json *j, const char *key, const char *val)
{
	if (!val) {
		json_put_null(j, key);
		return;
	}
	json_strn(j, key, val, strlen(val));
}

void json_int(struct json *j, const char *key, int64_t val)
{
	char *p;

	prefix(j, key);
	p = json_reserve(j, 21);
	if (p)
		commit(j, json_cur_i64(p, val));
}

void json_uint(struct json *j, const char *key, uint64_t val)
{
	prefix(j, key);
	put_u64(j, val);
}

void json_double(struct json *j, const char *key, double val, int decimals)
{
	char buf[64];
	int n;

	prefix(j, key);
	n = snprintf(buf, sizeof(buf), "%.*f", decimals, val);
	if (n >= 0 && (size_t)n < sizeof(buf)) {
		out(j, buf, (size_t)n);
	} else if (n > 0) {
		/* 1e300 has 301 digits: rare enough for an allocation. */
		char *big = malloc((size_t)n + 1);

		if (big) {
			snprintf(big, (size_t)n + 1, "%.*f", decimals, val);
			out(j, big, (size_t)n);
		} else if (j->b) {
			j->b->oom = true;
		}
		free(big);
	}
}

void json_hex(struct json *j, const char *key, uint64_t val)
{
	char *p;

	prefix(j, key);
	p = json_reserve(j, 18);
	if (!p)
		return;
	*p++ = '"';
	p = json_cur_hex(p, val);
	*p++ = '"';
	commit(j, p);
}

void json_bool(struct json *j, const char *key, bool val)
{
	prefix(j, key);
	outs(j, val ? "true" : "false");
}

void json_put_null(struct json *j, const char *key)
{
	prefix(j, key);
	outs(j, "null");
}

void json_end_line(struct json *j)
{
	outc(j, '\n');
}
