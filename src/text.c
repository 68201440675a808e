// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Untrusted text on a terminal. A process may name itself with escape sequences (comm is
 * whatever prctl(PR_SET_NAME) was given): printed raw, they can rewrite the preview above
 * "Kill N sockets?". Everything that is not printable text is shown as \xNN.
 */
#include "text.h"

#include <stdbool.h>
#include <string.h>

size_t text_utf8_char(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t n;

	if (!len)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	/* Not a lead byte: a continuation byte, 0xc0/0xc1 (always overlong), 0xf5-0xff. */
	if (u[0] < 0xc2 || u[0] > 0xf4)
		return 0;
	n = u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
	c = u[0] & (0x7f >> n);
	min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Characters that are valid but steer the terminal rather than print: C1 controls (0x9b is
 * CSI on some terminals), line and paragraph separators, and the bidirectional controls that
 * can make a line display in another order than it reads.
 */
static bool printable(uint32_t c)
{
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
		return false;
	if (c == 0x200e || c == 0x200f || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069))
		return false;
	return true;
}

/* A byte that is a character shown as itself: next_unit's answer, without the walk. */
static bool plain(unsigned char b)
{
	return b >= 0x20 && b < 0x7f && b != '\\';
}

/*
 * Walks s one output unit at a time: a printable character (n bytes at s, copied) or one
 * escaped byte. Returns the unit's output length and fills out (at most 4 bytes) with it.
 */
static size_t next_unit(const char *s, size_t len, size_t *in, char out[4])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b = (unsigned char)s[0];
	uint32_t cp;
	size_t n = text_utf8_char(s, len, &cp);

	if (n && printable(cp)) {
		*in = n;
		if (b == '\\') {
			out[0] = out[1] = '\\';
			return 2;
		}
		memcpy(out, s, n);
		return n;
	}
	*in = 1;
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[b >> 4];
	out[3] = hex[b & 15];
	return 4;
}

size_t text_escape(char *buf, size_t size, const char *s, size_t len)
{
	size_t need = 0, used = 0;
	bool full = false;

	for (size_t i = 0; i < len;) {
		char unit[4];
		size_t in, out;

		/* Printable ASCII but the backslash, most names whole: as it is, one by one. */
		if (plain((unsigned char)s[i]) && !full && used + 1 < size) {
			buf[used++] = s[i++];
			need++;
			continue;
		}
		out = next_unit(s + i, len - i, &in, unit);
		if (!full && used + out < size) {
			memcpy(buf + used, unit, out);
			used += out;
		} else {
			full = true;
		}
		need += out;
		i += in;
	}
	if (size)
		buf[used] = '\0';
	return need;
}

size_t text_columns(const char *s, size_t len)
{
	size_t cols = 0;

	for (size_t i = 0; i < len;) {
		char unit[4];
		size_t in, out;

		if (plain((unsigned char)s[i])) {
			cols++;
			i++;
			continue;
		}
		out = next_unit(s + i, len - i, &in, unit);
		/* An escape is as wide as it is long; a character is one column. */
		cols += (unsigned char)unit[0] >= 0x80 ? 1 : out;
		i += in;
	}
	return cols;
}
