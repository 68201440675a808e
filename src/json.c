// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * JSON writer: escaping and commas, nothing else; compact output, one value per call. Strings
 * come out as valid UTF-8 whatever bytes they hold (process names are not).
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

/* Where bytes go: the stream, or the buffer (grown by doubling; a failure marks it oom). */
static void out(struct json *j, const char *s, size_t n)
{
	struct json_buf *b = j->b;

	if (!b) {
		fwrite(s, 1, n, j->f);
		return;
	}
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
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

static void out_u(struct json *j, unsigned cp)
{
	char u[8];

	snprintf(u, sizeof(u), "\\u%04x", cp & 0xffffU);
	outs(j, u);
}

static void put_escaped(struct json *j, const char *s, size_t len)
{
	outc(j, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			outs(j, "\\\"");
			break;
		case '\\':
			outs(j, "\\\\");
			break;
		case '\n':
			outs(j, "\\n");
			break;
		case '\t':
			outs(j, "\\t");
			break;
		case '\r':
			outs(j, "\\r");
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				out_u(j, c);
			} else if (c < 0x80) {
				outc(j, (char)c);
			} else {
				uint32_t cp;
				size_t n = text_utf8_char(s + i, len - i, &cp);

				/*
				 * JSON is UTF-8 (RFC 8259): each byte of a malformed sequence
				 * becomes U+FFFD; C1 controls are escaped like C0 ones.
				 */
				if (!n)
					outs(j, "\xef\xbf\xbd");
				else if (cp <= 0x9f)
					out_u(j, (unsigned)cp);
				else
					out(j, s + i, n);
				if (n)
					i += n - 1;
			}
		}
	}
	outc(j, '"');
}

/*
 * Printable ASCII other than '"' and '\\' needs no escaping under any rule: it goes out in one
 * piece, not a call per byte (formatting 100,000 audit records took 0.3 s that way).
 */
static void put_string(struct json *j, const char *s, size_t len)
{
	struct json_buf *b = j->b;

	/*
	 * Into the buffer: copied as it is checked, in one pass; a byte that needs escaping
	 * leaves what was copied unaccounted for and starts over the careful way.
	 */
	if (b && b->cap - b->len >= len + 2) {
		char *d = b->p + b->len + 1;

		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
				put_escaped(j, s, len);
				return;
			}
			d[i] = (char)c;
		}
		d[-1] = '"';
		d[len] = '"';
		b->len += len + 2;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			put_escaped(j, s, len);
			return;
		}
	}
	outc(j, '"');
	out(j, s, len);
	outc(j, '"');
}

/* Decimal digits without printf's format parsing: audit records carry a dozen numbers each. */
static void put_u64(struct json *j, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	out(j, p, (size_t)(buf + sizeof(buf) - p));
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
	prefix(j, key);
	if (val < 0)
		outc(j, '-');
	put_u64(j, val < 0 ? -(uint64_t)val : (uint64_t)val);
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
	static const char digits[] = "0123456789abcdef";
	char buf[24], *p = buf + sizeof(buf);

	*--p = '"';
	do
		*--p = digits[val & 0xf];
	while (val >>= 4);
	*--p = '"';
	prefix(j, key);
	out(j, p, (size_t)(buf + sizeof(buf) - p));
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
