/*
 * JSON writer: escaping and commas, nothing else; compact output, one value per call. Strings
 * come out as valid UTF-8 whatever bytes they hold (process names are not).
 */
#include "json.h"
#include "text.h"

#include <inttypes.h>
#include <string.h>

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
}

static void put_escaped(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, f);
			} else {
				uint32_t cp;
				size_t n = text_utf8_char(s + i, len - i, &cp);

				/*
				 * JSON is UTF-8 (RFC 8259): each byte of a malformed sequence
				 * becomes U+FFFD; C1 controls are escaped like C0 ones.
				 */
				if (!n)
					fputs("\xef\xbf\xbd", f);
				else if (cp <= 0x9f)
					fprintf(f, "\\u%04x", (unsigned)cp);
				else
					fwrite(s + i, 1, n, f);
				if (n)
					i += n - 1;
			}
		}
	}
	fputc('"', f);
}

/*
 * Printable ASCII other than '"' and '\\' needs no escaping under any rule: it goes out in one
 * fwrite, not a call per byte (formatting 100,000 audit records took 0.3 s that way).
 */
static void put_string(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			put_escaped(f, s, len);
			return;
		}
	}
	fputc('"', f);
	fwrite(s, 1, len, f);
	fputc('"', f);
}

/* Decimal digits without printf's format parsing: audit records carry a dozen numbers each. */
static void put_u64(FILE *f, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

static void prefix(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (key) {
		put_string(j->f, key, strlen(key));
		fputc(':', j->f);
	}
}

static void open_(struct json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, char c)
{
	fputc(c, j->f);
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
	put_string(j->f, val, len);
}

void json_str(struct json *j, const char *key, const char *val)
{
	if (!val) {
		json_null(j, key);
		return;
	}
	json_strn(j, key, val, strlen(val));
}

void json_int(struct json *j, const char *key, int64_t val)
{
	prefix(j, key);
	if (val < 0)
		fputc('-', j->f);
	put_u64(j->f, val < 0 ? -(uint64_t)val : (uint64_t)val);
}

void json_uint(struct json *j, const char *key, uint64_t val)
{
	prefix(j, key);
	put_u64(j->f, val);
}

void json_double(struct json *j, const char *key, double val, int decimals)
{
	prefix(j, key);
	fprintf(j->f, "%.*f", decimals, val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	prefix(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}
