// SPDX-License-Identifier: GPL-2.0-or-later
/* Selector tokens: words, parentheses, commas, operators; each with its source span. */
#include "selector.h"

#include <ctype.h>
#include <string.h>

static bool is_word_char(char c)
{
	return c && !isspace((unsigned char)c) && !strchr("()!,=<>&|\"'", c);
}

struct sel_token sel_lex_next(const char *src, int pos)
{
	struct sel_token t = { TOK_END, pos, 0 };
	const char *p;

	while (src[pos] && isspace((unsigned char)src[pos]))
		pos++;
	p = src + pos;
	t.pos = pos;
	switch (*p) {
	case '\0':
		return t;
	case '(':
		t.kind = TOK_LPAREN, t.len = 1;
		return t;
	case ')':
		t.kind = TOK_RPAREN, t.len = 1;
		return t;
	case ',':
		t.kind = TOK_COMMA, t.len = 1;
		return t;
	case '!':
		if (p[1] == '=')
			t.kind = TOK_OP, t.len = 2;
		else
			t.kind = TOK_NOT, t.len = 1;
		return t;
	case '&':
		t.kind = p[1] == '&' ? TOK_AND : TOK_BAD;
		t.len = p[1] == '&' ? 2 : 1;
		return t;
	case '|':
		t.kind = p[1] == '|' ? TOK_OR : TOK_BAD;
		t.len = p[1] == '|' ? 2 : 1;
		return t;
	case '=':
	case '<':
	case '>':
		t.kind = TOK_OP;
		t.len = p[1] == '=' ? 2 : 1;
		return t;
	default:
		break;
	}
	t.kind = TOK_WORD;
	if (*p == '"' || *p == '\'') {
		/* A quoted word runs to the same quote; no escapes (comm names cannot hold one). */
		const char *q = strchr(p + 1, *p);

		if (!q) {
			t.kind = TOK_BAD;
			t.len = (int)strlen(p);
			return t;
		}
		t.len = (int)(q - p) + 1;
		return t;
	}
	while (is_word_char(p[t.len]))
		t.len++;
	return t;
}
