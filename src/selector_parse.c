// SPDX-License-Identifier: GPL-2.0-or-later
/* Selector parser: recursive descent over sel_lex_next() into an AST; errors keep their span. */
#include "cgroup.h"
#include "conntrack.h"
#include "selector.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct parser {
	const char *src;
	struct sel_token tok;
	struct sel_error *err;
	int depth;
	bool failed;
};

static void advance(struct parser *p)
{
	p->tok = sel_lex_next(p->src, p->tok.pos + p->tok.len);
}

static void fail_at(struct parser *p, int pos, int len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail_at(struct parser *p, int pos, int len, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	p->err->pos = pos;
	p->err->len = len > 0 ? len : 1;
}

/* The current token's text, quotes stripped, in buf. */
static const char *tok_text(const struct parser *p, char *buf, size_t size)
{
	int off = 0, len = p->tok.len;

	if (len >= 2 && (p->src[p->tok.pos] == '"' || p->src[p->tok.pos] == '\'')) {
		off = 1;
		len -= 2;
	}
	if ((size_t)len >= size)
		len = (int)size - 1;
	memcpy(buf, p->src + p->tok.pos + off, (size_t)len);
	buf[len] = '\0';
	return buf;
}

static bool tok_is_word(const struct parser *p, const char *word)
{
	return p->tok.kind == TOK_WORD && (size_t)p->tok.len == strlen(word) &&
	       !strncasecmp(p->src + p->tok.pos, word, (size_t)p->tok.len);
}

static const char *tok_describe(const struct parser *p, char *buf, size_t size)
{
	if (p->tok.kind == TOK_END)
		return "end of input";
	snprintf(buf, size, "\"%.*s\"", p->tok.len > 40 ? 40 : p->tok.len, p->src + p->tok.pos);
	return buf;
}

static struct sel_node *node_new(enum sel_kind kind, int pos, int len)
{
	struct sel_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->pos = pos;
		n->len = len;
		n->height = 1;
	}
	return n;
}

struct sel_node *sel_node_new_binary(enum sel_kind kind, struct sel_node *l, struct sel_node *r)
{
	struct sel_node *n = node_new(kind, l->pos, r->pos + r->len - l->pos);

	if (!n)
		return NULL;
	n->l = l;
	n->r = r;
	n->height = 1 + (l->height > r->height ? l->height : r->height);
	return n;
}

struct sel_node *sel_node_join(enum sel_kind kind, struct sel_node **v, size_t n)
{
	/* The left half takes the odd one: three terms keep their old shape ((a b) c). */
	size_t half = (n + 1) / 2;
	struct sel_node *l, *r, *b;

	if (n == 1)
		return v[0];
	l = sel_node_join(kind, v, half);
	if (!l) {
		for (size_t i = half; i < n; i++)
			sel_node_free(v[i]);
		return NULL;
	}
	r = sel_node_join(kind, v + half, n - half);
	b = r ? sel_node_new_binary(kind, l, r) : NULL;
	if (!b) {
		sel_node_free(l);
		sel_node_free(r);
	}
	return b;
}

static struct sel_node *node_not(struct sel_node *child, int pos)
{
	struct sel_node *n = node_new(SEL_NOT, pos, child->pos + child->len - pos);

	if (n) {
		n->l = child;
		n->height = 1 + child->height;
	}
	return n;
}

void sel_node_free(struct sel_node *n)
{
	if (!n)
		return;
	sel_node_free(n->l);
	sel_node_free(n->r);
	if (n->kind == SEL_PID)
		free(n->u.list.v);
	else if (n->kind == SEL_COMM || n->kind == SEL_EXE)
		free(n->u.text);
	else if (n->kind == SEL_CGROUP) {
		free(n->u.cg.path);
		free(n->u.cg.unit);
		free(n->u.cg.ids);
	} else if (n->kind == SEL_NETNS) {
		free(n->u.ns.spec);
		free(n->u.ns.path);
	} else if (n->kind == SEL_DEV) {
		free(n->u.dev.name);
		free(n->u.dev.per_ns);
	}
	free(n);
}

/* Edit distance, for "did you mean". */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			int best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static const char *suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	int bestd = 3;

	for (; *cands; cands++) {
		int d = distance(word, *cands);

		if (d < bestd) {
			bestd = d;
			best = *cands;
		}
	}
	return best;
}

/* ---- values ---- */

/*
 * ss's operator words. One is an operator only when a value follows it ("dport eq 80"); at
 * the end, or before and/or, it is a value (a process may be called "eq"), and quoted always.
 */
static const struct {
	const char *word;
	enum sel_cmp cmp;
} cmp_words[] = {
	{ "eq", CMP_EQ }, { "neq", CMP_NE }, { "ne", CMP_NE }, { "gt", CMP_GT },
	{ "ge", CMP_GE }, { "lt", CMP_LT }, { "le", CMP_LE },
};

static bool tok_is_cmp_word(const struct parser *p, enum sel_cmp *cmp)
{
	struct sel_token next;

	for (size_t i = 0; i < sizeof(cmp_words) / sizeof(cmp_words[0]); i++) {
		if (!tok_is_word(p, cmp_words[i].word))
			continue;
		next = sel_lex_next(p->src, p->tok.pos + p->tok.len);
		if (next.kind != TOK_WORD)
			return false;
		if ((next.len == 3 && !strncasecmp(p->src + next.pos, "and", 3)) ||
		    (next.len == 2 && !strncasecmp(p->src + next.pos, "or", 2)))
			return false;
		*cmp = cmp_words[i].cmp;
		return true;
	}
	return false;
}

/* "=" or "eq" where only equality is written (pid, family, proto): skipped. */
static void skip_equals(struct parser *p)
{
	enum sel_cmp cmp;

	if ((p->tok.kind == TOK_OP && p->tok.len == 1 && p->src[p->tok.pos] == '=') ||
	    (tok_is_cmp_word(p, &cmp) && cmp == CMP_EQ))
		advance(p);
}

static enum sel_cmp parse_cmp(struct parser *p, bool *given)
{
	enum sel_cmp cmp = CMP_EQ;
	const char *s = p->src + p->tok.pos;

	*given = false;
	if (tok_is_cmp_word(p, &cmp)) {
		*given = true;
		advance(p);
		return cmp;
	}
	if (p->tok.kind != TOK_OP)
		return CMP_EQ;
	*given = true;
	if (p->tok.len == 2 && s[0] == '!')
		cmp = CMP_NE;
	else if (p->tok.len == 2 && s[0] == '<')
		cmp = CMP_LE;
	else if (p->tok.len == 2 && s[0] == '>')
		cmp = CMP_GE;
	else if (s[0] == '<')
		cmp = CMP_LT;
	else if (s[0] == '>')
		cmp = CMP_GT;
	advance(p);
	return cmp;
}

/* For predicates that test equality only: an optional = or !=; false (and an error) else. */
static bool parse_eq_ne(struct parser *p, const char *keyword, enum sel_cmp *cmp)
{
	struct sel_token op = p->tok;
	bool given;

	*cmp = parse_cmp(p, &given);
	if (*cmp == CMP_EQ || *cmp == CMP_NE)
		return true;
	/* The caret goes under the operator, the token that is wrong. */
	fail_at(p, op.pos, op.len, "\"%s\" takes = or !=, not an ordering", keyword);
	return false;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out, int base)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);

	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* Values are read into buffers of MAX_WORD + 1: a longer one is refused, never truncated. */
#define MAX_WORD 255

static bool need_value(struct parser *p, const char *keyword, const char *what)
{
	char d[64];

	/* The value's length: its quotes are no part of it (tok_text strips them). */
	int vlen = p->tok.len >= 2 && strchr("\"'", p->src[p->tok.pos]) ? p->tok.len - 2
									 : p->tok.len;

	if (p->tok.kind == TOK_WORD && vlen > MAX_WORD) {
		fail_at(p, p->tok.pos, p->tok.len, "value for \"%s\" is too long (%d characters)",
			keyword, vlen);
		return false;
	}
	if (p->tok.kind == TOK_WORD && !tok_is_word(p, "and") && !tok_is_word(p, "or"))
		return true;
	if (p->tok.kind == TOK_BAD && strchr("\"'", p->src[p->tok.pos])) {
		fail_at(p, p->tok.pos, p->tok.len, "unterminated quote");
		return false;
	}
	fail_at(p, p->tok.pos, p->tok.len, "expected %s after \"%s\", found %s", what, keyword,
		tok_describe(p, d, sizeof(d)));
	return false;
}

struct state_group {
	const char *name;
	uint32_t mask;
};

#define CONNECTED                                                                              \
	(SS_BIT(SS_ESTABLISHED) | SS_BIT(SS_SYN_SENT) | SS_BIT(SS_SYN_RECV) |                  \
	 SS_BIT(SS_FIN_WAIT1) | SS_BIT(SS_FIN_WAIT2) | SS_BIT(SS_TIME_WAIT) |                  \
	 SS_BIT(SS_CLOSE_WAIT) | SS_BIT(SS_LAST_ACK) | SS_BIT(SS_CLOSING))

/*
 * Groups never include LISTEN: listeners are selected only when "listen" is spelled out,
 * so a group cannot widen a selection to them.
 */
static const struct state_group state_groups[] = {
	{ "all", CONNECTED | SS_BIT(SS_CLOSE) },
	{ "connected", CONNECTED },
	{ "synchronized", CONNECTED & ~SS_BIT(SS_SYN_SENT) },
	{ "bucket", SS_BIT(SS_SYN_RECV) | SS_BIT(SS_TIME_WAIT) },
	{ "big", (CONNECTED | SS_BIT(SS_CLOSE)) & ~(SS_BIT(SS_SYN_RECV) | SS_BIT(SS_TIME_WAIT)) },
	{ "stuck", SS_BIT(SS_CLOSE_WAIT) | SS_BIT(SS_FIN_WAIT2) | SS_BIT(SS_LAST_ACK) |
			   SS_BIT(SS_CLOSING) },
};

static const char *const state_words[] = {
	"established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait", "close",
	"close-wait", "last-ack", "listen", "closing", "all", "connected", "synchronized",
	"bucket", "big", "stuck", NULL,
};

static struct sel_node *parse_state(struct parser *p, int start)
{
	struct sel_node *n = node_new(SEL_STATE, start, 0);
	char buf[MAX_WORD + 1];

	if (!n)
		return NULL;
	for (;;) {
		if (!need_value(p, "state", "a state name"))
			break;
		tok_text(p, buf, sizeof(buf));
		int s = sock_state_parse(buf, strlen(buf));
		uint32_t bits = 0;

		if (s > 0) {
			bits = SS_BIT((unsigned)s);
		} else {
			for (size_t i = 0; i < sizeof(state_groups) / sizeof(state_groups[0]); i++)
				if (!strcasecmp(buf, state_groups[i].name))
					bits = state_groups[i].mask;
		}
		if (!bits) {
			const char *s2 = suggest(buf, state_words);

			if (s2)
				fail_at(p, p->tok.pos, p->tok.len,
					"unknown state \"%s\" (did you mean %s?)", buf, s2);
			else
				fail_at(p, p->tok.pos, p->tok.len, "unknown state \"%s\"", buf);
			break;
		}
		n->u.states.mask |= bits;
		if (s == SS_LISTEN)
			n->u.states.names_listen = true;
		n->len = p->tok.pos + p->tok.len - start;
		advance(p);
		/* "state A state B" is either state, as in ss; "state A and state B" stays and. */
		if (tok_is_word(p, "state")) {
			advance(p);
			continue;
		}
		if (p->tok.kind != TOK_COMMA)
			return n;
		advance(p);
	}
	sel_node_free(n);
	return NULL;
}

static bool parse_port_value(struct parser *p, const char *text, uint16_t *out)
{
	uint64_t v;

	if (*text == ':')
		text++;
	if (parse_u64(text, 65535, &v, 10)) {
		*out = (uint16_t)v;
		return true;
	}
	if (isalpha((unsigned char)*text)) {
		struct servent *se = getservbyname(text, "tcp");

		if (se) {
			*out = ntohs((uint16_t)se->s_port);
			return true;
		}
		fail_at(p, p->tok.pos, p->tok.len, "unknown service \"%s\" (not in /etc/services)",
			text);
		return false;
	}
	fail_at(p, p->tok.pos, p->tok.len, "invalid port \"%s\" (expected 0-65535 or a service name)",
		text);
	return false;
}

static struct sel_node *parse_port(struct parser *p, int start, enum sel_end end,
				   const char *keyword)
{
	bool given;
	enum sel_cmp cmp = parse_cmp(p, &given);
	char buf[MAX_WORD + 1];
	char *dash;

	if (!need_value(p, keyword, "a port, range or service name"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	struct sel_node *n = node_new(SEL_PORT, start, p->tok.pos + p->tok.len - start);

	if (!n)
		return NULL;
	n->u.port.end = end;
	n->u.port.cmp = cmp;
	/* From the second character: "-5" is no range. An empty value has none. */
	dash = buf[0] ? strchr(buf + 1, '-') : NULL;
	if (dash && isdigit((unsigned char)dash[1]) &&
	    isdigit((unsigned char)buf[buf[0] == ':' ? 1 : 0])) {
		uint64_t lo, hi;
		char *b = buf[0] == ':' ? buf + 1 : buf;

		*dash = '\0';
		if (!parse_u64(b, 65535, &lo, 10) || !parse_u64(dash + 1, 65535, &hi, 10) ||
		    lo > hi) {
			*dash = '-';
			fail_at(p, p->tok.pos, p->tok.len,
				"invalid port range \"%s\" (expected A-B with 0 <= A <= B <= 65535)",
				buf);
			goto fail;
		}
		if (cmp != CMP_EQ && cmp != CMP_NE) {
			*dash = '-';
			fail_at(p, p->tok.pos, p->tok.len,
				"a port range takes = or !=, not an ordering: \"%s\"", buf);
			goto fail;
		}
		n->u.port.lo = (uint16_t)lo;
		n->u.port.hi = (uint16_t)hi;
	} else {
		if (!parse_port_value(p, buf, &n->u.port.lo))
			goto fail;
		n->u.port.hi = n->u.port.lo;
	}
	advance(p);
	return n;
fail:
	sel_node_free(n);
	return NULL;
}

static bool parse_ip(const char *s, int *family, uint8_t bytes[16])
{
	memset(bytes, 0, 16);
	if (inet_pton(AF_INET, s, bytes) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, bytes) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static void mask_prefix(uint8_t bytes[16], int prefix)
{
	for (int i = 0; i < 16; i++) {
		int bits = prefix - i * 8;

		if (bits >= 8)
			continue;
		bytes[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

/* ADDR, ADDR/LEN, and the ss forms v4:port and [v6]:port. */
static struct sel_node *parse_addr(struct parser *p, int start, enum sel_end end,
				   const char *keyword)
{
	enum sel_cmp cmp;
	char buf[MAX_WORD + 1];
	char *addr, *slash, *port = NULL;

	if (!parse_eq_ne(p, keyword, &cmp))
		return NULL;
	if (!need_value(p, keyword, "an address or CIDR"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	addr = buf;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || (close[1] && close[1] != ':') || (close[1] == ':' && !close[2]))
			goto bad;
		*close = '\0';
		addr = buf + 1;
		if (close[1] == ':')
			port = close + 2;
	} else if (strchr(buf, '.') && strchr(buf, ':') && !strchr(strchr(buf, ':') + 1, ':')) {
		port = strchr(buf, ':');
		*port++ = '\0';
	}
	struct sel_node *n = node_new(SEL_ADDR, start, p->tok.pos + p->tok.len - start);

	if (!n)
		return NULL;
	n->u.addr.end = end;
	n->u.addr.negate = cmp == CMP_NE;
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (!parse_ip(addr, &n->u.addr.family, n->u.addr.bytes)) {
		sel_node_free(n);
		goto bad;
	}
	int maxlen = n->u.addr.family == AF_INET ? 32 : 128;
	uint64_t prefix = (uint64_t)maxlen;

	if (slash && !parse_u64(slash + 1, (uint64_t)maxlen, &prefix, 10)) {
		fail_at(p, p->tok.pos, p->tok.len, "invalid prefix length \"/%s\" (expected 0-%d)",
			slash + 1, maxlen);
		sel_node_free(n);
		return NULL;
	}
	n->u.addr.prefix = (int)prefix;
	mask_prefix(n->u.addr.bytes, (int)prefix);
	if (port && strcmp(port, "*")) {
		/* The ss form host:port means both, on the same end. */
		struct sel_node *pn = node_new(SEL_PORT, n->pos, n->len);

		if (!pn || !parse_port_value(p, port, &pn->u.port.lo) || n->u.addr.negate) {
			if (pn && n->u.addr.negate)
				fail_at(p, p->tok.pos, p->tok.len,
					"\"!=\" with address:port is ambiguous; write "
					"not (%s ... and ...)", keyword);
			sel_node_free(pn);
			sel_node_free(n);
			return NULL;
		}
		pn->u.port.hi = pn->u.port.lo;
		pn->u.port.end = end;
		pn->u.port.cmp = CMP_EQ;
		advance(p);
		struct sel_node *both = sel_node_new_binary(SEL_AND, n, pn);

		if (!both) {
			sel_node_free(n);
			sel_node_free(pn);
		}
		return both;
	}
	advance(p);
	return n;
bad:
	fail_at(p, p->tok.pos, p->tok.len, "invalid address \"%.*s\" (expected IPv4 or IPv6, "
		"optionally /prefix)", p->tok.len, p->src + p->tok.pos);
	return NULL;
}

/*
 * After an item of a comma list (pid 1,2; ct-state a,b): the node spans it; true when a comma
 * follows (consumed: another item comes), false at the list's end.
 */
static bool list_more(struct parser *p, struct sel_node *n, int start)
{
	n->len = p->tok.pos + p->tok.len - start;
	advance(p);
	if (p->tok.kind != TOK_COMMA)
		return false;
	advance(p);
	return true;
}

static struct sel_node *parse_pid(struct parser *p, int start)
{
	struct sel_node *n = node_new(SEL_PID, start, 0);
	char buf[MAX_WORD + 1];
	size_t cap = 0;

	if (!n)
		return NULL;
	skip_equals(p);
	for (;;) {
		uint64_t v;

		if (!need_value(p, "pid", "a process id"))
			break;
		tok_text(p, buf, sizeof(buf));
		if (!parse_u64(buf, INT32_MAX, &v, 10) || v == 0) {
			fail_at(p, p->tok.pos, p->tok.len, "invalid pid \"%.*s\"", p->tok.len,
				p->src + p->tok.pos);
			break;
		}
		if (n->u.list.n == cap) {
			cap = cap ? cap * 2 : 4;
			int32_t *v2 = realloc(n->u.list.v, cap * sizeof(*v2));

			if (!v2)
				break;
			n->u.list.v = v2;
		}
		n->u.list.v[n->u.list.n++] = (int32_t)v;
		if (!list_more(p, n, start))
			return n;
	}
	sel_node_free(n);
	return NULL;
}

/* comm GLOB (as /proc/PID/comm: at most 15 characters, a glob may be longer), exe PATH. */
static struct sel_node *parse_text(struct parser *p, int start, enum sel_kind kind,
				   const char *keyword)
{
	enum sel_cmp cmp;
	char buf[MAX_WORD + 1];
	size_t max = kind == SEL_COMM ? 64 : MAX_WORD;

	if (!parse_eq_ne(p, keyword, &cmp))
		return NULL;
	if (!need_value(p, keyword, kind == SEL_COMM ? "a process name or glob" : "a path or glob"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	if (!*buf || strlen(buf) > max || (kind == SEL_EXE && buf[0] != '/' && buf[0] != '*')) {
		fail_at(p, p->tok.pos, p->tok.len, "invalid %s \"%.*s\"%s",
			kind == SEL_COMM ? "process name" : "executable path", 64, buf,
			kind == SEL_EXE ? " (expected an absolute path or a glob)" : "");
		return NULL;
	}
	/*
	 * The kernel keeps 15 bytes of a process name (TASK_COMM_LEN 16, /proc/PID/comm): a
	 * longer name without glob characters can never match. Refused rather than truncated:
	 * the first 15 characters might name another program. exe matches the whole path.
	 */
	if (kind == SEL_COMM && strlen(buf) > 15 && !strpbrk(buf, "*?[")) {
		fail_at(p, p->tok.pos, p->tok.len,
			"comm \"%s\" has %zu characters: the kernel keeps 15, so it can never "
			"match; give its first 15, a glob (\"%.15s*\"), or exe '*/%s'", buf,
			strlen(buf), buf, buf);
		return NULL;
	}
	struct sel_node *n = node_new(kind, start, p->tok.pos + p->tok.len - start);

	if (!n || !(n->u.text = strdup(buf))) {
		free(n);
		return NULL;
	}
	advance(p);
	return cmp == CMP_NE ? node_not(n, start) : n;
}

static bool parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		      { "d", 86400000 }, { "", 1000 } };
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);

	if (errno)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit))
			continue;
		if (v > UINT32_MAX / units[i].mult)
			return false;
		*ms = v * units[i].mult;
		return true;
	}
	return false;
}

enum num_kind { NUM_PLAIN, NUM_DURATION, NUM_HEX, NUM_UID };

static struct sel_node *parse_num(struct parser *p, int start, enum sel_kind kind,
				  const char *keyword, enum num_kind nk)
{
	bool given;
	enum sel_cmp cmp = parse_cmp(p, &given);

	/* "idle 5m" means idle for at least 5 minutes; equality of durations is never meant. */
	if (!given && kind == SEL_IDLE)
		cmp = CMP_GE;
	/* "timeout 30s": conntrack would drop it within 30 s (at most that long left). */
	if (!given && kind == SEL_CT_TIMEOUT)
		cmp = CMP_LE;
	char buf[MAX_WORD + 1];
	uint64_t v = 0;
	bool ok;

	if (!need_value(p, keyword, nk == NUM_DURATION ? "a duration (500ms, 30s, 5m, 2h, 1d)"
						   : "a number"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	switch (nk) {
	case NUM_DURATION:
		ok = parse_duration_ms(buf, &v);
		break;
	case NUM_HEX:
		ok = parse_u64(buf, UINT64_MAX, &v, 16);
		break;
	case NUM_UID:
		ok = parse_u64(buf, UINT32_MAX - 1, &v, 10);
		if (!ok && *buf && !isdigit((unsigned char)*buf)) {
			struct passwd *pw = getpwnam(buf);

			if (!pw) {
				fail_at(p, p->tok.pos, p->tok.len, "unknown user \"%s\"", buf);
				return NULL;
			}
			v = pw->pw_uid;
			ok = true;
		}
		break;
	default:
		ok = parse_u64(buf, UINT32_MAX, &v, 10);
		break;
	}
	if (!ok) {
		fail_at(p, p->tok.pos, p->tok.len, "invalid %s \"%s\" for \"%s\"%s",
			nk == NUM_DURATION ? "duration"
			: nk == NUM_HEX	  ? "cookie"
					  : "number",
			buf, keyword,
			nk == NUM_DURATION ? " (use 500ms, 30s, 5m, 2h, 1d)"
			: nk == NUM_HEX	  ? " (hexadecimal, as ss -e prints it)"
					  : "");
		return NULL;
	}
	struct sel_node *n = node_new(kind, start, p->tok.pos + p->tok.len - start);

	if (!n)
		return NULL;
	n->u.num.cmp = cmp;
	n->u.num.value = v;
	advance(p);
	return n;
}

struct choice {
	const char *name;
	int value;
};

static const struct choice families[] = {
	{ "inet", AF_INET }, { "ipv4", AF_INET }, { "4", AF_INET },
	{ "inet6", AF_INET6 }, { "ipv6", AF_INET6 }, { "6", AF_INET6 }, { NULL, 0 },
};

static const struct choice protocols[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { NULL, 0 },
};

/* keyword [=] NAME, NAME one of choices (any case); the node keeps its value in u.num. */
static struct sel_node *parse_choice(struct parser *p, int start, enum sel_kind kind,
				     const char *keyword, const char *noun, const char *expected,
				     const struct choice *choices)
{
	char buf[MAX_WORD + 1];
	const struct choice *c;

	skip_equals(p);
	if (!need_value(p, keyword, expected))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	for (c = choices; c->name && strcasecmp(buf, c->name); c++)
		;
	if (!c->name) {
		fail_at(p, p->tok.pos, p->tok.len, "unknown %s \"%s\" (expected %s)", noun, buf,
			expected);
		return NULL;
	}
	struct sel_node *n = node_new(kind, start, p->tok.pos + p->tok.len - start);

	if (n)
		n->u.num.value = (uint64_t)c->value;
	advance(p);
	return n;
}

/* mark V[/M]: (mark & M) == V, M defaulting to all ones. */
static struct sel_node *parse_mark(struct parser *p, int start)
{
	enum sel_cmp cmp;
	char buf[MAX_WORD + 1];
	uint64_t v, m = UINT32_MAX;

	if (!parse_eq_ne(p, "mark", &cmp))
		return NULL;
	if (!need_value(p, "mark", "a mark, VALUE or VALUE/MASK"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	char *slash = strchr(buf, '/');

	if (slash)
		*slash = '\0';
	if (!parse_u64(buf, UINT32_MAX, &v, 0) || (slash && !parse_u64(slash + 1, UINT32_MAX, &m, 0))) {
		if (slash)
			*slash = '/';
		fail_at(p, p->tok.pos, p->tok.len,
			"invalid mark \"%s\" (expected VALUE or VALUE/MASK, 0x for hex)", buf);
		return NULL;
	}
	struct sel_node *n = node_new(SEL_MARK, start, p->tok.pos + p->tok.len - start);

	if (!n)
		return NULL;
	n->u.mark.value = (uint32_t)(v & m);
	n->u.mark.mask = (uint32_t)m;
	advance(p);
	return cmp == CMP_NE ? node_not(n, start) : n;
}

/* cgroup /PATH or unit NAME: the socket was created in that cgroup or below it. */
static struct sel_node *parse_cgroup(struct parser *p, int start, bool unit)
{
	const char *kw = unit ? "unit" : "cgroup";
	enum sel_cmp cmp;
	char buf[MAX_WORD + 1];

	if (!parse_eq_ne(p, kw, &cmp))
		return NULL;
	if (!need_value(p, kw, unit ? "a systemd unit name" : "a cgroup path"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	if (unit ? strchr(buf, '/') != NULL : buf[0] != '/') {
		fail_at(p, p->tok.pos, p->tok.len, unit ? "invalid unit name \"%s\""
						: "invalid cgroup path \"%s\" (expected /PATH, as in "
						  "/proc/PID/cgroup)", buf);
		return NULL;
	}
	/* Paths are looked up under the cgroup2 root: ".." could reach any directory. */
	if (!unit && cgroup_path_has_dotdot(buf)) {
		fail_at(p, p->tok.pos, p->tok.len,
			"invalid cgroup path \"%s\" (\"..\" would leave the cgroup2 root)", buf);
		return NULL;
	}
	struct sel_node *n = node_new(SEL_CGROUP, start, p->tok.pos + p->tok.len - start);

	if (!n)
		return NULL;
	if (!(unit ? (n->u.cg.unit = strdup(buf)) : (n->u.cg.path = strdup(buf)))) {
		free(n);
		return NULL;
	}
	advance(p);
	return cmp == CMP_NE ? node_not(n, start) : n;
}

/* dev IFNAME|IFINDEX: the device the socket is bound to (SO_BINDTODEVICE). */
static struct sel_node *parse_dev(struct parser *p, int start)
{
	enum sel_cmp cmp;
	char buf[MAX_WORD + 1];
	uint64_t idx;

	if (!parse_eq_ne(p, "dev", &cmp))
		return NULL;
	if (!need_value(p, "dev", "an interface name or index"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	bool by_name = !parse_u64(buf, INT32_MAX, &idx, 10);

	/*
	 * A name is looked up here for now; whether it must exist here is the command's to say
	 * (selector_dev_check_here): in another namespace it may name a device only there.
	 */
	if (by_name && strlen(buf) >= IF_NAMESIZE) {
		fail_at(p, p->tok.pos, p->tok.len, "invalid interface name \"%s\" (at most %d "
			"characters)", buf, IF_NAMESIZE - 1);
		return NULL;
	}
	if (by_name)
		idx = if_nametoindex(buf);
	struct sel_node *n = node_new(SEL_DEV, start, p->tok.pos + p->tok.len - start);

	if (!n)
		return NULL;
	n->u.dev.value = idx;
	if (by_name && !(n->u.dev.name = strdup(buf))) {
		free(n);
		return NULL;
	}
	advance(p);
	return cmp == CMP_NE ? node_not(n, start) : n;
}

/*
 * netns NAME|PATH, netns inode N, netns pid N: the network namespace a socket lives in. A
 * namespace named "inode" or "pid" is still a name: the number form needs a number next.
 */
static struct sel_node *parse_netns(struct parser *p, int start)
{
	enum sel_cmp cmp;
	char buf[MAX_WORD + 1];
	uint64_t v = 0;
	bool by_inode = false, by_pid = false;

	if (!parse_eq_ne(p, "netns", &cmp))
		return NULL;
	if (!need_value(p, "netns", "a namespace name or path, inode N or pid N"))
		return NULL;
	tok_text(p, buf, sizeof(buf));
	if (!strcasecmp(buf, "inode") || !strcasecmp(buf, "pid")) {
		struct sel_token next = sel_lex_next(p->src, p->tok.pos + p->tok.len);

		if (next.kind == TOK_WORD && isdigit((unsigned char)p->src[next.pos])) {
			by_inode = !strcasecmp(buf, "inode");
			by_pid = !by_inode;
			advance(p);
			tok_text(p, buf, sizeof(buf));
			if (!parse_u64(buf, by_pid ? INT32_MAX : UINT64_MAX, &v, 10) || !v) {
				fail_at(p, p->tok.pos, p->tok.len, by_pid
					? "invalid process id \"%s\" after \"netns pid\""
					: "invalid namespace inode \"%s\" after \"netns inode\"", buf);
				return NULL;
			}
		}
	}
	if (!by_inode && !by_pid && !selector_netns_name_ok(buf)) {
		fail_at(p, p->tok.pos, p->tok.len, "invalid network namespace name \"%s\"", buf);
		return NULL;
	}
	struct sel_node *n = node_new(SEL_NETNS, start, p->tok.pos + p->tok.len - start);

	if (!n)
		return NULL;
	n->u.ns.index = -1;
	if (by_pid)
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (by_inode)
		n->u.ns.inode = v;
	else if (!(n->u.ns.spec = strdup(buf))) {
		free(n);
		return NULL;
	}
	n->u.ns.pid = by_pid ? (int32_t)v : 0;
	advance(p);
	return cmp == CMP_NE ? node_not(n, start) : n;
}

bool selector_netns_name_ok(const char *spec)
{
	if (!spec[0] || !strcmp(spec, ".") || !strcmp(spec, ".."))
		return false;
	return strchr(spec, '/') || strlen(spec) <= NAME_MAX;
}

static size_t netns_atoms(const struct sel_node *n, const struct sel_node **v, size_t max,
			  size_t k)
{
	if (!n)
		return k;
	if (n->kind == SEL_NETNS) {
		if (k < max)
			v[k] = n;
		return k + 1;
	}
	return netns_atoms(n->r, v, max, netns_atoms(n->l, v, max, k));
}

size_t selector_netns_atoms(const struct sel_node *n, const struct sel_node **v, size_t max)
{
	return netns_atoms(n, v, max, 0);
}

struct sel_node *selector_netns_flag(const char *spec, bool by_pid)
{
	struct sel_node *n = node_new(SEL_NETNS, 0, (int)strlen(spec));
	long pid;
	char *end;

	if (!n)
		return NULL;
	n->u.ns.index = -1;
	n->u.ns.from_flag = true;
	if (by_pid) {
		/* cli.c checked it is a positive number that fits. */
		pid = strtol(spec, &end, 10);
		n->u.ns.pid = (int32_t)pid;
	}
	if (!(n->u.ns.spec = strdup(spec))) {
		free(n);
		return NULL;
	}
	return n;
}

/* ct-state LIST: conntrack's own TCP state names (forwarded flows), comma-separated. */
static struct sel_node *parse_ct_state(struct parser *p, int start)
{
	struct sel_node *n = node_new(SEL_CT_STATE, start, 0);
	char buf[MAX_WORD + 1];

	if (!n)
		return NULL;
	skip_equals(p);
	for (;;) {
		if (!need_value(p, "ct-state", "a conntrack state name"))
			break;
		tok_text(p, buf, sizeof(buf));
		int s = conntrack_state_parse(buf, strlen(buf));

		if (s < 0) {
			fail_at(p, p->tok.pos, p->tok.len, "unknown conntrack state \"%s\" (expected "
				"none, syn-sent, syn-recv, established, fin-wait, close-wait, "
				"last-ack, time-wait, close or syn-sent2)", buf);
			break;
		}
		n->u.states.mask |= 1U << s;
		if (!list_more(p, n, start))
			return n;
	}
	sel_node_free(n);
	return NULL;
}

/* nat-src/nat-dst ADDR[/LEN]: an address alone (the ss form ADDR:PORT names no NAT'd port). */
static struct sel_node *parse_nat_addr(struct parser *p, int start, enum sel_end end,
				       const char *keyword)
{
	struct sel_node *n = parse_addr(p, start, end, keyword);

	if (n && n->kind != SEL_ADDR) {
		fail_at(p, n->pos, n->len, "\"%s\" takes an address or CIDR, without a port",
			keyword);
		sel_node_free(n);
		return NULL;
	}
	if (n)
		n->kind = SEL_NAT_ADDR;
	return n;
}

static const char *const predicate_words[] = {
	"state", "sport", "dport", "port", "src", "dst", "addr", "pid", "comm", "uid",
	"idle", "recv-q", "send-q", "inode", "cookie", "family", "proto", "exe", "ppid", "mark",
	"dev", "cgroup", "unit", "netns", "ct-state", "nat-src", "nat-dst", "zone", "timeout",
	NULL,
};

static struct sel_node *parse_predicate_kw(struct parser *p, const char *kw, int start)
{
	if (!strcasecmp(kw, "state"))
		return parse_state(p, start);
	if (!strcasecmp(kw, "sport"))
		return parse_port(p, start, END_SRC, "sport");
	if (!strcasecmp(kw, "dport"))
		return parse_port(p, start, END_DST, "dport");
	if (!strcasecmp(kw, "port"))
		return parse_port(p, start, END_ANY, "port");
	if (!strcasecmp(kw, "src"))
		return parse_addr(p, start, END_SRC, "src");
	if (!strcasecmp(kw, "dst"))
		return parse_addr(p, start, END_DST, "dst");
	if (!strcasecmp(kw, "addr"))
		return parse_addr(p, start, END_ANY, "addr");
	if (!strcasecmp(kw, "pid"))
		return parse_pid(p, start);
	if (!strcasecmp(kw, "comm"))
		return parse_text(p, start, SEL_COMM, "comm");
	if (!strcasecmp(kw, "exe"))
		return parse_text(p, start, SEL_EXE, "exe");
	if (!strcasecmp(kw, "cgroup"))
		return parse_cgroup(p, start, false);
	if (!strcasecmp(kw, "unit"))
		return parse_cgroup(p, start, true);
	if (!strcasecmp(kw, "mark"))
		return parse_mark(p, start);
	if (!strcasecmp(kw, "dev"))
		return parse_dev(p, start);
	if (!strcasecmp(kw, "netns"))
		return parse_netns(p, start);
	if (!strcasecmp(kw, "ppid"))
		return parse_num(p, start, SEL_PPID, "ppid", NUM_PLAIN);
	if (!strcasecmp(kw, "ct-state"))
		return parse_ct_state(p, start);
	if (!strcasecmp(kw, "nat-src"))
		return parse_nat_addr(p, start, END_SRC, "nat-src");
	if (!strcasecmp(kw, "nat-dst"))
		return parse_nat_addr(p, start, END_DST, "nat-dst");
	if (!strcasecmp(kw, "zone"))
		return parse_num(p, start, SEL_ZONE, "zone", NUM_PLAIN);
	if (!strcasecmp(kw, "timeout"))
		return parse_num(p, start, SEL_CT_TIMEOUT, "timeout", NUM_DURATION);
	if (!strcasecmp(kw, "uid"))
		return parse_num(p, start, SEL_UID, "uid", NUM_UID);
	if (!strcasecmp(kw, "idle"))
		return parse_num(p, start, SEL_IDLE, "idle", NUM_DURATION);
	if (!strcasecmp(kw, "recv-q"))
		return parse_num(p, start, SEL_RECVQ, "recv-q", NUM_PLAIN);
	if (!strcasecmp(kw, "send-q"))
		return parse_num(p, start, SEL_SENDQ, "send-q", NUM_PLAIN);
	if (!strcasecmp(kw, "inode"))
		return parse_num(p, start, SEL_INODE, "inode", NUM_PLAIN);
	if (!strcasecmp(kw, "cookie"))
		return parse_num(p, start, SEL_COOKIE, "cookie", NUM_HEX);
	if (!strcasecmp(kw, "family"))
		return parse_choice(p, start, SEL_FAMILY, "family", "family", "inet or inet6",
				    families);
	if (!strcasecmp(kw, "proto"))
		return parse_choice(p, start, SEL_PROTO, "proto", "protocol", "tcp or udp",
				    protocols);
	return NULL;
}

static bool is_predicate_word(const char *kw)
{
	for (const char *const *w = predicate_words; *w; w++)
		if (!strcasecmp(kw, *w))
			return true;
	return false;
}

static struct sel_node *parse_predicate(struct parser *p)
{
	char kw[32];
	int start = p->tok.pos;

	tok_text(p, kw, sizeof(kw));
	if (!strcasecmp(kw, "and") || !strcasecmp(kw, "or")) {
		fail_at(p, p->tok.pos, p->tok.len, "\"%s\" needs a predicate on its left", kw);
		return NULL;
	}
	if (!is_predicate_word(kw)) {
		const char *s = suggest(kw, predicate_words);
		const char *st = suggest(kw, state_words);

		if (st && (!s || distance(kw, st) < distance(kw, s)))
			fail_at(p, p->tok.pos, p->tok.len,
				"unknown predicate \"%s\" (did you mean state %s?)", kw, st);
		else if (s)
			fail_at(p, p->tok.pos, p->tok.len,
				"unknown predicate \"%s\" (did you mean %s?)", kw, s);
		else
			fail_at(p, p->tok.pos, p->tok.len, "unknown predicate \"%.*s\"",
				p->tok.len > 40 ? 40 : p->tok.len, p->src + p->tok.pos);
		return NULL;
	}
	advance(p);
	return parse_predicate_kw(p, kw, start);
}

static struct sel_node *parse_or(struct parser *p);

static void too_deep(struct parser *p, int pos, int len)
{
	fail_at(p, pos, len, "selector too deep (more than %d nested terms)", SEL_MAX_DEPTH);
}

/* Every walker of the AST recurses: a tree deeper than the limit is refused, not walked. */
static struct sel_node *check_height(struct parser *p, struct sel_node *n)
{
	if (n && n->height > SEL_MAX_DEPTH) {
		too_deep(p, n->pos, n->len);
		sel_node_free(n);
		return NULL;
	}
	return n;
}

static bool starts_unary(const struct parser *p)
{
	return p->tok.kind == TOK_NOT || p->tok.kind == TOK_LPAREN || p->tok.kind == TOK_BAD ||
	       (p->tok.kind == TOK_WORD && !tok_is_word(p, "or") && !tok_is_word(p, "and"));
}

static struct sel_node *parse_unary(struct parser *p)
{
	char d[64];

	if (++p->depth > SEL_MAX_DEPTH) {
		too_deep(p, p->tok.pos, p->tok.len);
		p->depth--;
		return NULL;
	}
	struct sel_node *n = NULL;
	int start = p->tok.pos;

	if (p->tok.kind == TOK_NOT || tok_is_word(p, "not")) {
		advance(p);
		struct sel_node *c = parse_unary(p);

		if (c && !(n = node_not(c, start)))
			sel_node_free(c);
		n = check_height(p, n);
	} else if (p->tok.kind == TOK_LPAREN) {
		advance(p);
		n = parse_or(p);
		if (n && p->tok.kind != TOK_RPAREN) {
			fail_at(p, p->tok.pos, p->tok.len, "expected \")\" to close the \"(\" at "
				"column %d, found %s", start + 1, tok_describe(p, d, sizeof(d)));
			sel_node_free(n);
			n = NULL;
		} else if (n) {
			advance(p);
		}
	} else if (p->tok.kind == TOK_WORD) {
		n = parse_predicate(p);
	} else if (p->tok.kind == TOK_BAD && p->src[p->tok.pos] == '&') {
		fail_at(p, p->tok.pos, p->tok.len, "unexpected \"&\" (did you mean \"&&\" or and?)");
	} else if (p->tok.kind == TOK_BAD && p->src[p->tok.pos] == '|') {
		fail_at(p, p->tok.pos, p->tok.len, "unexpected \"|\" (did you mean \"||\" or or?)");
	} else if (p->tok.kind == TOK_BAD) {
		fail_at(p, p->tok.pos, p->tok.len, "unterminated quote");
	} else {
		fail_at(p, p->tok.pos, p->tok.len, "expected a predicate, \"not\" or \"(\", found %s",
			tok_describe(p, d, sizeof(d)));
	}
	p->depth--;
	return n;
}

/* Operands of one and/or chain, joined balanced once the chain ends. */
struct chain {
	struct sel_node **v;
	size_t n, cap;
};

static bool chain_push(struct chain *c, struct sel_node *n)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct sel_node **v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return false;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = n;
	return true;
}

static struct sel_node *chain_end(struct parser *p, struct chain *c, enum sel_kind kind, bool ok)
{
	struct sel_node *n = NULL;

	if (ok && c->n)
		n = check_height(p, sel_node_join(kind, c->v, c->n));
	else
		for (size_t i = 0; i < c->n; i++)
			sel_node_free(c->v[i]);
	free(c->v);
	return n;
}

static struct sel_node *parse_and(struct parser *p)
{
	struct chain c = { 0 };
	struct sel_node *n = parse_unary(p);

	while (n && chain_push(&c, n)) {
		n = NULL;
		if (p->tok.kind == TOK_AND || tok_is_word(p, "and"))
			advance(p);
		else if (!starts_unary(p))
			return chain_end(p, &c, SEL_AND, true);
		n = parse_unary(p);
	}
	sel_node_free(n);
	return chain_end(p, &c, SEL_AND, false);
}

static struct sel_node *parse_or(struct parser *p)
{
	struct chain c = { 0 };
	struct sel_node *n = parse_and(p);

	while (n && chain_push(&c, n)) {
		n = NULL;
		if (p->tok.kind != TOK_OR && !tok_is_word(p, "or"))
			return chain_end(p, &c, SEL_OR, true);
		advance(p);
		n = parse_and(p);
	}
	sel_node_free(n);
	return chain_end(p, &c, SEL_OR, false);
}

static struct sel_node *finish(struct parser *p, struct sel_node *n)
{
	char d[64];

	if (n && p->tok.kind != TOK_END) {
		if (p->tok.kind == TOK_RPAREN)
			fail_at(p, p->tok.pos, p->tok.len, "unmatched \")\"");
		else
			fail_at(p, p->tok.pos, p->tok.len, "unexpected %s",
				tok_describe(p, d, sizeof(d)));
		sel_node_free(n);
		return NULL;
	}
	if (!n && !p->failed)
		fail_at(p, p->tok.pos, p->tok.len, "out of memory");
	return n;
}

struct sel_node *selector_parse(const char *src, struct sel_error *err)
{
	struct parser p = { .src = src, .err = err };

	memset(err, 0, sizeof(*err));
	p.tok = sel_lex_next(src, 0);
	if (p.tok.kind == TOK_END)
		return NULL;
	return finish(&p, parse_or(&p));
}

struct sel_node *selector_parse_flag(const char *keyword, const char *value,
				     struct sel_error *err)
{
	struct parser p = { .src = value, .err = err };
	struct sel_node *n;

	memset(err, 0, sizeof(*err));
	p.tok = sel_lex_next(value, 0);
	n = parse_predicate_kw(&p, keyword, 0);
	return finish(&p, n);
}

bool selector_parse_duration(const char *s, uint64_t *ms)
{
	return parse_duration_ms(s, ms);
}
