// SPDX-License-Identifier: GPL-2.0-or-later
/* Selector: the case table (parse, canonical form, errors), evaluation, and the prefilter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <unistd.h>

#include "fixtures.h"
#include "netns.h"
#include "selector.h"

#define CASES "tests/unit/data/selector.t"

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Iterates the table: calls fn(expr, kind, expect, lineno) for every case line. */
static int for_each_case(void (*fn)(const char *, const char *, const char *, int, int *),
			 int *failures)
{
	FILE *f = fopen(CASES, "r");
	char line[1024];
	int lineno = 0, n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char *a = strstr(line, " ; ");
		char *b = a ? strstr(a + 3, " ; ") : NULL;

		if (!a || !b) {
			print_error("%s:%d: malformed case line\n", CASES, lineno);
			(*failures)++;
			continue;
		}
		*a = '\0';
		*b = '\0';
		fn(trim(line), trim(a + 3), trim(b + 3), lineno, failures);
		n++;
	}
	fclose(f);
	return n;
}

static void run_case(const char *expr, const char *kind, const char *expect, int lineno,
		     int *failures)
{
	struct sel_error err;
	struct sel_node *n = selector_parse(expr, &err);
	char out[1024], again[1024];

	if (!strcmp(kind, "ok")) {
		if (!n) {
			print_error("%s:%d: \"%s\" failed to parse: %s\n", CASES, lineno, expr,
				    err.msg);
			(*failures)++;
			return;
		}
		selector_format(n, out, sizeof(out));
		sel_node_free(n);
		if (strcmp(out, expect)) {
			print_error("%s:%d: \"%s\" printed \"%s\", expected \"%s\"\n", CASES, lineno,
				    expr, out, expect);
			(*failures)++;
			return;
		}
		n = selector_parse(out, &err);
		if (!n) {
			print_error("%s:%d: canonical \"%s\" does not re-parse: %s\n", CASES, lineno,
				    out, err.msg);
			(*failures)++;
			return;
		}
		selector_format(n, again, sizeof(again));
		sel_node_free(n);
		if (strcmp(out, again)) {
			print_error("%s:%d: canonical \"%s\" re-printed as \"%s\"\n", CASES, lineno,
				    out, again);
			(*failures)++;
		}
		return;
	}
	if (n) {
		selector_format(n, out, sizeof(out));
		print_error("%s:%d: \"%s\" parsed as \"%s\", expected an error\n", CASES, lineno,
			    expr, out);
		sel_node_free(n);
		(*failures)++;
		return;
	}
	if (!strstr(err.msg, expect)) {
		print_error("%s:%d: \"%s\" said \"%s\", expected \"%s\"\n", CASES, lineno, expr,
			    err.msg, expect);
		(*failures)++;
	}
	if (err.pos < 0 || err.pos > (int)strlen(expr) || err.len < 1) {
		print_error("%s:%d: caret span %d+%d outside \"%s\"\n", CASES, lineno, err.pos,
			    err.len, expr);
		(*failures)++;
	}
}

static void test_selector_case_table(void **state)
{
	int failures = 0;
	int n = for_each_case(run_case, &failures);

	(void)state;
	assert_true(n >= 150);
	assert_int_equal(failures, 0);
}

static void test_selector_caret_points_at_bad_token(void **state)
{
	struct sel_error err;
	const char *src = "state close-wiat and dport 443";

	(void)state;
	assert_null(selector_parse(src, &err));
	assert_int_equal(err.pos, 6);
	assert_int_equal(err.len, 10);
	assert_null(selector_parse("dport 1 and dport 70000", &err));
	assert_int_equal(err.pos, 18);
	assert_int_equal(err.len, 5);
	/* An ordering where only = or != make sense: the operator is the bad token. */
	assert_null(selector_parse("src >= 10.0.0.1", &err));
	assert_int_equal(err.pos, 4);
	assert_int_equal(err.len, 2);
}

static void test_selector_empty_is_no_ast(void **state)
{
	struct sel_error err;

	(void)state;
	assert_null(selector_parse("", &err));
	assert_string_equal(err.msg, "");
	assert_null(selector_parse("   \t ", &err));
	assert_string_equal(err.msg, "");
}

static void test_selector_flag_values(void **state)
{
	struct sel_error err;
	char out[256];
	struct sel_node *n = selector_parse_flag("state", "close-wait,fin-wait-2", &err);

	(void)state;
	assert_non_null(n);
	selector_format(n, out, sizeof(out));
	assert_string_equal(out, "state fin-wait-2,close-wait");
	sel_node_free(n);
	n = selector_parse_flag("dport", ">=1024", &err);
	assert_non_null(n);
	selector_format(n, out, sizeof(out));
	assert_string_equal(out, "dport >= 1024");
	sel_node_free(n);
	assert_null(selector_parse_flag("dport", "443 extra", &err));
	assert_string_equal(err.msg, "unexpected \"extra\"");
	assert_int_equal(err.pos, 4);
	assert_null(selector_parse_flag("src", "10.0.0.0/40", &err));
	assert_non_null(strstr(err.msg, "invalid prefix length"));
}

static void test_selector_deep_nesting_is_refused(void **state)
{
	static const char msg[] = "selector too deep (more than 1000 nested terms)";
	size_t size = 128 * SEL_MAX_DEPTH;
	char *buf = malloc(size), *out = malloc(size);
	struct sel_prefilter pf;
	struct sel_error err;
	struct sel_node *n;
	size_t k = 0;

	(void)state;
	assert_int_equal(SEL_MAX_DEPTH, 1000);
	/* Parentheses: the parser's own recursion. 999 pairs and the predicate are 1000 levels. */
	for (int i = 0; i < SEL_MAX_DEPTH; i++)
		buf[k++] = '(';
	k += (size_t)sprintf(buf + k, "dport 1");
	buf[k] = '\0';
	assert_null(selector_parse(buf, &err));
	assert_string_equal(err.msg, msg);
	/* The caret is under the predicate that went one level too deep. */
	assert_int_equal(err.pos, SEL_MAX_DEPTH);
	assert_int_equal(err.len, 5);
	n = selector_parse(buf + 1, &err);
	assert_null(n);	/* nothing closes the parentheses */
	assert_non_null(strstr(err.msg, "expected \")\""));

	/* "not" nests the AST itself: at the limit every walker still runs, one more is refused. */
	k = 0;
	for (int i = 0; i < SEL_MAX_DEPTH - 1; i++)
		k += (size_t)sprintf(buf + k, "not ");
	k += (size_t)sprintf(buf + k, "dport 1");
	n = selector_parse(buf, &err);
	assert_non_null(n);
	assert_true(selector_format(n, out, size) < size);
	selector_prefilter(n, &pf);
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 1, "10.0.0.2", 1, SS_ESTABLISHED, 0);

	/* 999 negations of a true predicate. */
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	assert_int_equal(selector_resolve(n, "/nonexistent", &err), 0);
	assert_false(selector_needs_owners(n));
	sel_node_free(n);
	memmove(buf + 4, buf, k + 1);
	memcpy(buf, "not ", 4);
	assert_null(selector_parse(buf, &err));
	assert_string_equal(err.msg, msg);

	/*
	 * Chains inside parentheses deepen the AST more than the parser: a chain of eight is
	 * three levels, so 200 levels of "(dport 1 or ... or dport 7 or (...))" are 601 deep and
	 * 400 of them too deep, at half the parser's limit.
	 */
	for (int levels = 200; levels <= 400; levels += 200) {
		k = 0;
		for (int i = 0; i < levels; i++)
			k += (size_t)sprintf(buf + k, "(dport 1 or dport 2 or dport 3 or dport 4 or "
						      "dport 5 or dport 6 or dport 7 or ");
		k += (size_t)sprintf(buf + k, "dport 8");
		for (int i = 0; i < levels; i++)
			buf[k++] = ')';
		buf[k] = '\0';
		n = selector_parse(buf, &err);
		if (levels == 200) {
			assert_non_null(n);
			assert_int_equal(selector_eval(n, &r, NULL), SEL_YES);
			selector_prefilter(n, &pf);
			sel_node_free(n);
		} else {
			assert_null(n);
			assert_string_equal(err.msg, msg);
		}
	}
	free(buf);
	free(out);
}

/*
 * A long flat selector (a generated list of ports) is a chain, not a nesting: it must parse,
 * print, compile and evaluate without a deep recursion. 210,000 terms overflowed the stack.
 */
static void test_selector_long_chains_work(void **state)
{
	enum { TERMS = 210000 };
	size_t size = (size_t)TERMS * 24;
	char *src = malloc(size), *out = malloc(size), *want = malloc(size);
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 5432, "10.0.0.9", 41234, SS_ESTABLISHED, 0);
	static const char *const ops[] = { " and ", " or " };
	struct sel_prefilter pf;
	struct sel_error err;

	(void)state;
	for (size_t o = 0; o < 2; o++) {
		size_t k = 0, w = 0;

		for (int i = 0; i < TERMS; i++) {
			k += (size_t)sprintf(src + k, "%sdport %d", i ? ops[o] : "", i % 65536);
			w += (size_t)sprintf(want + w, "%sdport = %d", i ? ops[o] : "", i % 65536);
		}
		struct sel_node *n = selector_parse(src, &err);

		if (!n)
			fail_msg("%zu terms: %s", (size_t)TERMS, err.msg);
		assert_int_equal(selector_format(n, out, size), w);
		assert_string_equal(out, want);
		selector_prefilter(n, &pf);
		assert_int_equal(selector_eval(n, &r, NULL), o == 0 ? SEL_NO : SEL_YES);
		assert_int_equal(selector_resolve(n, "/nonexistent", &err), 0);
		assert_false(selector_needs_owners(n));
		sel_node_free(n);
	}
	free(src);
	free(out);
	free(want);
}

/*
 * The value buffer of an empty quoted word is one NUL: nothing past it may be read. A stack
 * left full of non-NUL bytes by an earlier call makes a read past it run off the buffer,
 * which ASan reports (valgrind reported the uninitialised read).
 */
static void __attribute__((noinline)) dirty_stack(void)
{
	volatile char junk[32768];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 'x';
}

static void test_selector_empty_port_is_an_error(void **state)
{
	static const char *const exprs[] = { "dport \"\"", "sport ''", "port = \"\"" };
	struct sel_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		dirty_stack();
		assert_null(selector_parse(exprs[i], &err));
		assert_string_equal(err.msg, "invalid port \"\" (expected 0-65535 or a service name)");
		/* The caret spans the empty quotes. */
		assert_int_equal(err.pos, (int)strlen(exprs[i]) - 2);
		assert_int_equal(err.len, 2);
	}
	dirty_stack();
	assert_null(selector_parse_flag("dport", "\"\"", &err));
	assert_int_equal(err.pos, 0);
	assert_int_equal(err.len, 2);
}

/* ---- evaluation ---- */

static struct sock_rec mk(int family, const char *src, uint16_t sport, const char *dst,
			  uint16_t dport, unsigned state)
{
	return fx_rec(family, src, sport, dst, dport, state, 0);
}

static enum sel_result ev(const char *expr, const struct sock_rec *r,
			  const struct sel_owner_ctx *oc)
{
	struct sel_error err;
	struct sel_node *n = selector_parse(expr, &err);

	if (!n)
		fail_msg("\"%s\": %s", expr, err.msg);
	enum sel_result res = selector_eval(n, r, oc);

	sel_node_free(n);
	return res;
}

static void test_selector_eval_states_ports(void **state)
{
	struct sock_rec cw = mk(AF_INET, "10.0.0.1", 5432, "10.0.0.9", 41234, SS_CLOSE_WAIT);
	struct sock_rec es = mk(AF_INET, "10.0.0.1", 22, "10.0.0.9", 50000, SS_ESTABLISHED);

	(void)state;
	assert_int_equal(ev("state close-wait", &cw, NULL), SEL_YES);
	assert_int_equal(ev("state close-wait", &es, NULL), SEL_NO);
	assert_int_equal(ev("state stuck", &cw, NULL), SEL_YES);
	assert_int_equal(ev("sport 5432", &cw, NULL), SEL_YES);
	assert_int_equal(ev("dport 5432", &cw, NULL), SEL_NO);
	assert_int_equal(ev("dport 41234", &cw, NULL), SEL_YES);
	assert_int_equal(ev("dport 41000-41234", &cw, NULL), SEL_YES);
	assert_int_equal(ev("dport 41235-42000", &cw, NULL), SEL_NO);
	assert_int_equal(ev("dport != 41000-41234", &cw, NULL), SEL_NO);
	assert_int_equal(ev("sport < 5432", &cw, NULL), SEL_NO);
	assert_int_equal(ev("sport <= 5432", &cw, NULL), SEL_YES);
	assert_int_equal(ev("sport > 5431", &cw, NULL), SEL_YES);
	assert_int_equal(ev("port 22", &es, NULL), SEL_YES);
	assert_int_equal(ev("port 50000", &es, NULL), SEL_YES);
	/* port != 22: neither end is 22. */
	assert_int_equal(ev("port != 22", &es, NULL), SEL_NO);
	assert_int_equal(ev("port != 23", &es, NULL), SEL_YES);
	assert_int_equal(ev("state close-wait or sport 22", &es, NULL), SEL_YES);
	assert_int_equal(ev("not state close-wait and sport 22", &es, NULL), SEL_YES);
	assert_int_equal(ev("not (state close-wait or sport 22)", &es, NULL), SEL_NO);
}

static void test_selector_eval_addresses(void **state)
{
	struct sock_rec v4 = mk(AF_INET, "10.1.2.3", 80, "192.168.1.7", 40000, SS_ESTABLISHED);
	struct sock_rec mapped =
		mk(AF_INET6, "::ffff:10.1.2.3", 80, "::ffff:192.168.1.7", 40000, SS_ESTABLISHED);
	struct sock_rec v6 = mk(AF_INET6, "2001:db8::1", 80, "fe80::1", 40000, SS_ESTABLISHED);

	(void)state;
	assert_int_equal(ev("src 10.0.0.0/8", &v4, NULL), SEL_YES);
	assert_int_equal(ev("src 10.0.0.0/16", &v4, NULL), SEL_NO);
	assert_int_equal(ev("src 10.1.2.3", &v4, NULL), SEL_YES);
	assert_int_equal(ev("dst 192.168.1.0/24", &v4, NULL), SEL_YES);
	assert_int_equal(ev("dst != 192.168.1.0/24", &v4, NULL), SEL_NO);
	assert_int_equal(ev("addr 192.168.1.7", &v4, NULL), SEL_YES);
	assert_int_equal(ev("src 10.1.2.3:80", &v4, NULL), SEL_YES);
	assert_int_equal(ev("src 10.1.2.3:81", &v4, NULL), SEL_NO);
	/* An IPv4 pattern matches the v4-mapped form on a dual-stack socket. */
	assert_int_equal(ev("src 10.0.0.0/8", &mapped, NULL), SEL_YES);
	assert_int_equal(ev("dst 192.168.1.7", &mapped, NULL), SEL_YES);
	assert_int_equal(ev("src 10.0.0.0/8", &v6, NULL), SEL_NO);
	assert_int_equal(ev("src 2001:db8::/32", &v6, NULL), SEL_YES);
	assert_int_equal(ev("src 2001:db9::/32", &v6, NULL), SEL_NO);
	assert_int_equal(ev("dst fe80::/10", &v6, NULL), SEL_YES);
	assert_int_equal(ev("src 2001:db8::/32", &v4, NULL), SEL_NO);
	assert_int_equal(ev("src 0.0.0.0/0", &v4, NULL), SEL_YES);
	assert_int_equal(ev("family inet6", &mapped, NULL), SEL_YES);
	assert_int_equal(ev("family inet", &mapped, NULL), SEL_NO);
}

/*
 * A fake owner table, as procmap would answer: the known owners of the socket, the processes
 * whose fd tables could not be read (what could be read of them), and whether /proc hides
 * processes (hidepid).
 */
struct fake_owners {
	const struct sel_owner_info *known;
	size_t nknown;
	const struct sel_owner_info *unseen;
	size_t nunseen;
	bool hidden;
};

static bool fake_owner(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	const struct fake_owners *f = arg;

	if (rec->pid <= 0 || i >= f->nknown)
		return false;
	*out = f->known[i];
	return true;
}

static enum sel_result fake_unknown(void *arg, const struct sock_rec *rec, const struct sel_node *n)
{
	const struct fake_owners *f = arg;

	(void)rec;
	if (f->hidden)
		return SEL_UNKNOWN;
	for (size_t i = 0; i < f->nunseen; i++)
		if (selector_owner_match(n, &f->unseen[i]) != SEL_NO)
			return SEL_UNKNOWN;
	return SEL_NO;
}

static const struct sel_owner_info java = { 100, 3, "java", "/usr/lib/jvm/bin/java", 1 };
/* A forked child: exe and ppid unreadable. */
static const struct sel_owner_info nginx = { 200, 5, "nginx", NULL, -1 };
/* Not ours to read: comm and ppid are world-readable, exe is not. */
static const struct sel_owner_info hidden_rig = { 300, -1, "sockrig", NULL, 1 };

static void test_selector_eval_owners_three_valued(void **state)
{
	struct sock_rec r = mk(AF_INET, "10.0.0.1", 80, "10.0.0.2", 1000, SS_CLOSE_WAIT);
	struct sock_rec tw = mk(AF_INET, "10.0.0.1", 80, "10.0.0.2", 1001, SS_TIME_WAIT);
	struct fake_owners fo = { &java, 1, NULL, 0, false };
	struct sel_owner_ctx oc = { fake_owner, fake_unknown, NULL, &fo, NULL, NULL };

	(void)state;
	/* Unresolved: owner predicates are unknown, and Kleene logic carries that. */
	assert_int_equal(ev("pid 100", &r, NULL), SEL_UNKNOWN);
	assert_int_equal(ev("not pid 100", &r, NULL), SEL_UNKNOWN);
	assert_int_equal(ev("pid 100 and sport 81", &r, NULL), SEL_NO);
	assert_int_equal(ev("pid 100 or sport 80", &r, NULL), SEL_YES);
	assert_int_equal(ev("pid 100 and sport 80", &r, NULL), SEL_UNKNOWN);
	assert_int_equal(ev("comm java", &r, NULL), SEL_UNKNOWN);
	/* TIME_WAIT has no owner, resolved or not. */
	assert_int_equal(ev("pid 100", &tw, NULL), SEL_NO);
	assert_int_equal(ev("comm java", &tw, &oc), SEL_NO);
	r.pid = 100;
	assert_int_equal(ev("pid 100", &r, &oc), SEL_YES);
	assert_int_equal(ev("pid 1,100", &r, &oc), SEL_YES);
	assert_int_equal(ev("pid 101", &r, &oc), SEL_NO);
	assert_int_equal(ev("comm java", &r, &oc), SEL_YES);
	assert_int_equal(ev("comm 'ja*'", &r, &oc), SEL_YES);
	assert_int_equal(ev("comm != java", &r, &oc), SEL_NO);
	assert_int_equal(ev("comm nginx", &r, &oc), SEL_NO);
	assert_int_equal(ev("exe /usr/lib/jvm/bin/java", &r, &oc), SEL_YES);
	assert_int_equal(ev("exe '/usr/lib/*'", &r, &oc), SEL_YES);
	assert_int_equal(ev("exe /usr/bin/java", &r, &oc), SEL_NO);
	assert_int_equal(ev("ppid 1", &r, &oc), SEL_YES);
	assert_int_equal(ev("ppid > 1", &r, &oc), SEL_NO);
	assert_int_equal(ev("exe /x", &r, NULL), SEL_UNKNOWN);
	/* An owner whose exe and ppid could not be read cannot decide them. */
	fo.known = &nginx;
	r.pid = 200;
	assert_int_equal(ev("exe '*'", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("ppid >= 0", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("not ppid >= 0", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("comm nginx and ppid >= 0", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("comm java and ppid >= 0", &r, &oc), SEL_NO);
	r.pid = 0; /* resolved: nobody holds it */
	assert_int_equal(ev("pid 100", &r, &oc), SEL_NO);
	assert_int_equal(ev("not pid 100", &r, &oc), SEL_YES);
	assert_int_equal(ev("comm java", &r, &oc), SEL_NO);
}

/* Every owner counts: a parent and its forked child both hold the socket. */
static void test_selector_eval_any_owner(void **state)
{
	struct sock_rec r = mk(AF_INET, "10.0.0.1", 80, "10.0.0.2", 1000, SS_CLOSE_WAIT);
	const struct sel_owner_info both[] = { java, nginx };
	struct fake_owners fo = { both, 2, NULL, 0, false };
	struct sel_owner_ctx oc = { fake_owner, fake_unknown, NULL, &fo, NULL, NULL };

	(void)state;
	r.pid = 100; /* the lowest pid is only what the table shows */
	assert_int_equal(ev("pid 200", &r, &oc), SEL_YES);
	assert_int_equal(ev("pid 100", &r, &oc), SEL_YES);
	assert_int_equal(ev("pid 200 or pid 999999", &r, &oc), SEL_YES);
	assert_int_equal(ev("pid 999999,200", &r, &oc), SEL_YES);
	/* not pid N: no owner is N. */
	assert_int_equal(ev("not pid 200", &r, &oc), SEL_NO);
	assert_int_equal(ev("not pid 100", &r, &oc), SEL_NO);
	assert_int_equal(ev("not pid 300", &r, &oc), SEL_YES);
	assert_int_equal(ev("comm nginx", &r, &oc), SEL_YES);
	assert_int_equal(ev("comm != nginx", &r, &oc), SEL_NO);
	assert_int_equal(ev("not comm java", &r, &oc), SEL_NO);
	assert_int_equal(ev("ppid 1", &r, &oc), SEL_YES);
	/* java's exe is not /x, nginx's could not be read. */
	assert_int_equal(ev("exe /x", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("exe '/usr/lib/*'", &r, &oc), SEL_YES);
}

/* An owner that could not be read is unknown, never "nobody". */
static void test_selector_eval_unreadable_owner(void **state)
{
	struct sock_rec r = mk(AF_INET, "10.0.0.1", 80, "10.0.0.2", 1000, SS_CLOSE_WAIT);
	struct fake_owners fo = { NULL, 0, &hidden_rig, 1, false };
	struct sel_owner_ctx oc = { fake_owner, fake_unknown, NULL, &fo, NULL, NULL };

	(void)state;
	r.pid = 0; /* no owner could be read */
	assert_int_equal(ev("pid 300", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("not pid 300", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("pid 400", &r, &oc), SEL_NO);
	assert_int_equal(ev("not pid 400", &r, &oc), SEL_YES);
	assert_int_equal(ev("comm sockrig", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("not comm sockrig", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("comm 'sock*'", &r, &oc), SEL_UNKNOWN);
	/* comm is readable: no unreadable process is called nginx. */
	assert_int_equal(ev("comm nginx", &r, &oc), SEL_NO);
	assert_int_equal(ev("not comm nginx", &r, &oc), SEL_YES);
	assert_int_equal(ev("exe /x", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("ppid 1", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("ppid 2", &r, &oc), SEL_NO);
	/* Kernel-known fields still decide. */
	assert_int_equal(ev("not comm sockrig and sport 81", &r, &oc), SEL_NO);
	assert_int_equal(ev("not comm sockrig or sport 80", &r, &oc), SEL_YES);
	/* A known owner decides YES; it cannot decide NO for the others. */
	fo.known = &java;
	fo.nknown = 1;
	r.pid = 100;
	assert_int_equal(ev("comm java", &r, &oc), SEL_YES);
	assert_int_equal(ev("not comm java", &r, &oc), SEL_NO);
	assert_int_equal(ev("comm sockrig", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("not comm sockrig", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("not comm nginx", &r, &oc), SEL_YES);
	/* hidepid: the processes themselves are unknown; only a known owner decides. */
	fo.hidden = true;
	assert_int_equal(ev("comm java", &r, &oc), SEL_YES);
	assert_int_equal(ev("comm nginx", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("not pid 400", &r, &oc), SEL_UNKNOWN);
	assert_int_equal(ev("not pid 100", &r, &oc), SEL_NO);
}

/* Reading only the named pids' fd tables must decide every owner predicate exactly. */
static void test_selector_pid_scope(void **state)
{
	static const struct {
		const char *expr;
		int n;
		int32_t pids[3];
	} cases[] = {
		{ "pid 5", 1, { 5 } },
		{ "pid 5,6 and state close-wait", 2, { 5, 6 } },
		{ "pid 5 or pid 6", 2, { 5, 6 } },
		{ "(pid 5 or pid 6) and sport 80", 2, { 5, 6 } },
		{ "pid 5 and not pid 6", 2, { 5, 6 } },
		{ "sport 80 and pid 7", 1, { 7 } },
		{ "pid 5 or sport 80", -1, { 0 } },
		{ "not pid 5", -1, { 0 } },
		{ "pid 5 and comm x", -1, { 0 } },
		{ "pid 5 and exe /x", -1, { 0 } },
		{ "pid 5 and ppid 1", -1, { 0 } },
		{ "sport 80", -1, { 0 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sel_error err;
		struct sel_node *n = selector_parse(cases[i].expr, &err);
		int32_t *pids = NULL;
		int got;

		assert_non_null(n);
		got = selector_pid_scope(n, &pids);
		if (got != cases[i].n)
			fail_msg("\"%s\": scope of %d pids, expected %d", cases[i].expr, got,
				 cases[i].n);
		for (int k = 0; k < got; k++)
			assert_int_equal(pids[k], cases[i].pids[k]);
		if (got < 0)
			assert_null(pids);
		free(pids);
		sel_node_free(n);
	}
	assert_int_equal(selector_pid_scope(NULL, (int32_t *[]){ NULL }), -1);
}

static void test_selector_eval_numbers(void **state)
{
	struct sock_rec r = mk(AF_INET, "10.0.0.1", 80, "10.0.0.2", 1000, SS_CLOSE_WAIT);

	(void)state;
	assert_int_equal(ev("idle > 0", &r, NULL), SEL_NO); /* unknown idle never matches */
	r.idle_ms = 300001;
	assert_int_equal(ev("idle > 5m", &r, NULL), SEL_YES);
	r.idle_ms = 300000;
	assert_int_equal(ev("idle > 5m", &r, NULL), SEL_NO);
	assert_int_equal(ev("idle >= 5m", &r, NULL), SEL_YES);
	r.rqueue = 1;
	r.wqueue = 4096;
	assert_int_equal(ev("recv-q > 0", &r, NULL), SEL_YES);
	assert_int_equal(ev("send-q >= 4097", &r, NULL), SEL_NO);
	r.uid = 1000;
	assert_int_equal(ev("uid 1000", &r, NULL), SEL_YES);
	assert_int_equal(ev("uid < 1000", &r, NULL), SEL_NO);
	r.inode = 4242;
	assert_int_equal(ev("inode 4242", &r, NULL), SEL_YES);
	r.id.idiag_cookie[0] = 0x1f;
	r.id.idiag_cookie[1] = 0x1;
	assert_int_equal(ev("cookie 10000001f", &r, NULL), SEL_YES);
	assert_int_equal(ev("cookie 1f", &r, NULL), SEL_NO);
	r.mark = 0x1234;
	assert_int_equal(ev("mark 0x1234", &r, NULL), SEL_YES);
	assert_int_equal(ev("mark 0x34/0xff", &r, NULL), SEL_YES);
	assert_int_equal(ev("mark 0x35/0xff", &r, NULL), SEL_NO);
	assert_int_equal(ev("mark != 0x1234", &r, NULL), SEL_NO);
	r.id.idiag_if = 1;
	assert_int_equal(ev("dev lo", &r, NULL), SEL_YES);
	assert_int_equal(ev("dev 2", &r, NULL), SEL_NO);
	r.protocol = 17;
	assert_int_equal(ev("proto udp", &r, NULL), SEL_YES);
	assert_int_equal(ev("proto tcp", &r, NULL), SEL_NO);
}

/* ---- prefilter ---- */

static struct sel_prefilter pf_of(const char *expr)
{
	struct sel_error err;
	struct sel_prefilter pf;
	struct sel_node *n = *expr ? selector_parse(expr, &err) : NULL;

	selector_prefilter(n, &pf);
	sel_node_free(n);
	return pf;
}

static void test_selector_prefilter_masks(void **state)
{
	const uint32_t all_but_listen = SS_ALL_MASK & ~SS_BIT(SS_LISTEN);

	(void)state;
	assert_int_equal(pf_of("state close-wait").states, SS_BIT(SS_CLOSE_WAIT));
	assert_int_equal(pf_of("state close-wait and dport 1").states, SS_BIT(SS_CLOSE_WAIT));
	assert_int_equal(pf_of("state close-wait or dport 1").states, all_but_listen);
	assert_int_equal(pf_of("state close-wait or state fin-wait-2").states,
			 SS_BIT(SS_CLOSE_WAIT) | SS_BIT(SS_FIN_WAIT2));
	assert_int_equal(pf_of("not state time-wait").states,
			 all_but_listen & ~SS_BIT(SS_TIME_WAIT));
	assert_int_equal(pf_of("not (state time-wait and dport 1)").states, all_but_listen);
	assert_int_equal(pf_of("").states, all_but_listen);
	assert_int_equal(pf_of("state listen").states, SS_BIT(SS_LISTEN));
	assert_int_equal(pf_of("state syn-recv").states,
			 SS_BIT(SS_SYN_RECV) | SS_BIT(SS_NEW_SYN_RECV));
	assert_true(pf_of("dport 1").inet && pf_of("dport 1").inet6);
	assert_true(!pf_of("family inet6").inet && pf_of("family inet6").inet6);
	assert_true(pf_of("family inet").inet && !pf_of("family inet").inet6);
	assert_true(pf_of("not family inet").inet6 && !pf_of("not family inet").inet);
	/* An IPv4 address does not restrict the family: v4-mapped sockets live in AF_INET6. */
	assert_true(pf_of("src 10.0.0.0/8").inet6);
}

/* Soundness: whatever the full evaluation matches, the prefilter lets through. */
static const char *const addrs4[] = { "10.0.0.1", "192.168.1.7", "127.0.0.1" };
static const char *const addrs6[] = { "::1", "::ffff:10.0.0.1", "2001:db8::1" };
static const uint16_t ports[] = { 22, 80, 443, 5432, 41234 };

static void soundness_case(const char *expr, const char *kind, const char *expect, int lineno,
			   int *failures)
{
	struct sel_error err;
	struct sel_prefilter pf;
	struct sel_node *n;

	(void)expect;
	if (strcmp(kind, "ok") || !(n = selector_parse(expr, &err)))
		return;
	selector_prefilter(n, &pf);
	bool allow_listen = selector_names_listen(n);

	for (unsigned st = SS_ESTABLISHED; st < SS_NEW_SYN_RECV; st++)
		for (int fi = 0; fi < 2; fi++)
			for (size_t a = 0; a < 3; a++)
				for (size_t p = 0; p < 5; p++) {
					int fam = fi ? AF_INET6 : AF_INET;
					const char *const *ad = fi ? addrs6 : addrs4;
					struct sock_rec r = mk(fam, ad[a], ports[p], ad[(a + 1) % 3],
							       ports[(p + 2) % 5], st);

					r.pid = 100;
					r.idle_ms = 400000;
					if (selector_eval(n, &r, NULL) != SEL_YES)
						continue;
					if (st == SS_LISTEN && !allow_listen)
						continue; /* the guard's, not the prefilter's */
					bool pass = (pf.states & SS_BIT(st)) &&
						    (fam == AF_INET ? pf.inet : pf.inet6);

					if (!pass) {
						print_error("%s:%d: prefilter drops a match of \"%s\"\n",
							    CASES, lineno, expr);
						(*failures)++;
						sel_node_free(n);
						return;
					}
				}
	sel_node_free(n);
}

static void test_selector_prefilter_never_drops_a_match(void **state)
{
	int failures = 0;

	(void)state;
	for_each_case(soundness_case, &failures);
	assert_int_equal(failures, 0);
}

/* A parsed selector whose netns atoms are tied to the namespaces inodes[0..n) of a run. */
static struct sel_node *bound(const char *expr, const uint64_t *inodes, size_t n)
{
	struct sel_error err;
	struct sel_node *sel = selector_parse(expr, &err);

	if (!sel)
		fail_msg("\"%s\": %s", expr, err.msg);
	selector_netns_bind(sel, inodes, n);
	return sel;
}

static void test_selector_eval_netns(void **state)
{
	const uint64_t visit[] = { 111, 222, 333 };
	struct sock_rec r = mk(AF_INET, "10.0.0.1", 80, "10.0.0.9", 4000, SS_CLOSE_WAIT);
	struct sel_node *n;
	struct sel_error err;

	(void)state;
	/* Unbound, an atom cannot know: UNKNOWN, never a silent yes or no. */
	n = selector_parse("netns inode 222", &err);
	assert_non_null(n);
	assert_int_equal(selector_eval(n, &r, NULL), SEL_UNKNOWN);
	sel_node_free(n);

	n = bound("netns inode 222 and sport 80", visit, 3);
	r.netns = 1;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_YES);
	r.netns = 0;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	r.netns = 2;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	sel_node_free(n);

	n = bound("not netns inode 111", visit, 3);
	r.netns = 0;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	r.netns = 2;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_YES);
	sel_node_free(n);

	/* A namespace the run does not visit matches none of its records. */
	n = bound("netns inode 444 or dport 1", visit, 3);
	for (uint16_t i = 0; i < 3; i++) {
		r.netns = i;
		assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	}
	sel_node_free(n);
	/* An atom still unresolved (a --netns that does not exist) matches nothing. */
	n = selector_netns_flag("no-such-ns", false);
	assert_non_null(n);
	selector_netns_bind(n, visit, 3);
	r.netns = 0;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	sel_node_free(n);
}

/* The visit rule: a namespace is visited when the selector may match a socket there. */
static void test_selector_netns_may_match(void **state)
{
	static const struct {
		const char *expr;
		bool in_111, elsewhere;
	} cases[] = {
		{ "netns inode 111", true, false },
		{ "netns inode 111 and state close-wait", true, false },
		{ "netns inode 111 or dport 80", true, true },
		{ "not netns inode 111", false, true },
		{ "netns inode 111 and netns inode 222", false, false },
		{ "netns inode 111 or netns inode 222", true, false },
		{ "not (netns inode 111 or netns inode 222) and dport 80", false, true },
		{ "state close-wait", true, true },
	};

	(void)state;
	assert_true(selector_netns_may_match(NULL, 111));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sel_error err;
		struct sel_node *n = selector_parse(cases[i].expr, &err);

		assert_non_null(n);
		if (selector_netns_may_match(n, 111) != cases[i].in_111 ||
		    selector_netns_may_match(n, 999) != cases[i].elsewhere)
			fail_msg("\"%s\": may match in 111 %d, elsewhere %d", cases[i].expr,
				 selector_netns_may_match(n, 111), selector_netns_may_match(n, 999));
		sel_node_free(n);
	}
}

static void test_selector_only_netns(void **state)
{
	struct sel_error err;
	struct sel_node *a = selector_parse("netns a or not netns inode 5", &err);
	struct sel_node *b = selector_parse("netns a and state close-wait", &err);

	(void)state;
	assert_true(selector_only_netns(a));
	assert_false(selector_only_netns(b));
	sel_node_free(a);
	sel_node_free(b);
}

/*
 * A branch of the top-level OR made of netns atoms alone selects every socket in a namespace,
 * as "netns a" alone does: found through nested ORs, parentheses and a NOT pushed inward.
 */
static void test_selector_netns_only_branch(void **state)
{
	static const struct {
		const char *expr, *branch;	/* branch: NULL when none */
		bool negated;
	} cases[] = {
		{ "netns a", "netns a", false },
		{ "netns a or dport 443", "netns a", false },
		{ "dport 443 or netns a", "netns a", false },
		{ "dport 1 or (sport 2 or (netns a and not netns b))", "netns a and not netns b", false },
		{ "(dport 1 or netns pid 1) or sport 2", "netns pid 1", false },
		{ "not (netns a and dport 443)", "netns a", true },
		{ "not not (dport 443 or netns a)", "netns a", false },
		{ "netns a and dport 443", NULL, false },
		{ "state close-wait and (netns a or dport 443)", NULL, false },
		{ "not (netns a or dport 443)", NULL, false },
		{ "dport 1 or sport 2", NULL, false },
		{ "(netns a or netns b) and dport 443", NULL, false },
	};

	(void)state;
	assert_null(selector_netns_only_branch(NULL, &(bool){ false }));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sel_error err;
		struct sel_node *n = selector_parse(cases[i].expr, &err);
		const struct sel_node *b;
		char got[256] = "(none)", want[256] = "(none)";
		bool neg = !cases[i].negated;

		assert_non_null(n);
		b = selector_netns_only_branch(n, &neg);
		if (b)
			selector_format(b, got, sizeof(got));
		if (cases[i].branch) {
			struct sel_node *w = selector_parse(cases[i].branch, &err);

			assert_non_null(w);
			selector_format(w, want, sizeof(want));
			sel_node_free(w);
		}
		if (strcmp(got, want) || (b && neg != cases[i].negated))
			fail_msg("\"%s\": branch \"%s\" negated %d, expected \"%s\" negated %d",
				 cases[i].expr, got, b ? neg : -1, want, cases[i].negated);
		sel_node_free(n);
	}
}

/* The kernel cannot see namespaces: the atom leaves the prefilter as if it were absent. */
static void test_selector_prefilter_leaves_netns_out(void **state)
{
	static const char *const pairs[][2] = {
		{ "netns a and dport 80 and state close-wait", "dport 80 and state close-wait" },
		{ "not netns a and src 10.0.0.0/8", "src 10.0.0.0/8" },
		{ "netns inode 7 or dport 80", "" },
		{ "not netns a", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct sel_prefilter with = pf_of(pairs[i][0]), without = pf_of(pairs[i][1]);

		assert_int_equal(with.states, without.states);
		assert_int_equal(with.inet, without.inet);
		assert_int_equal(with.inet6, without.inet6);
		assert_int_equal(with.bclen, without.bclen);
		assert_memory_equal(with.bc, without.bc, with.bclen);
	}
}

/* dev IFNAME in several namespaces: an index each, looked up in each; none: no match there. */
static void test_selector_dev_per_namespace(void **state)
{
	struct sock_rec r = mk(AF_INET, "10.0.0.1", 80, "10.0.0.9", 4000, SS_LISTEN);
	struct sel_error err;
	struct sel_node *n = selector_parse("dev lo", &err), *none;
	uint8_t bc[256];
	bool exact;

	(void)state;
	assert_non_null(n);
	/* Where sockreap starts, lo is index 1 and the kernel tests it. */
	assert_true(selector_bytecode(n, bc, sizeof(bc), &exact) > 0);
	assert_int_equal(selector_dev_prepare(n, 3), 0);
	/* Namespace 0 has lo (looked up here); 1 and 2 were never bound: no such device. */
	selector_dev_bind_here(n, 0);
	r.id.idiag_if = 1;
	r.netns = 0;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_YES);
	r.netns = 1;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	r.id.idiag_if = 0;
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	/* Each namespace its own index: no bytecode for it. */
	assert_int_equal(selector_bytecode(n, bc, sizeof(bc), &exact), 0);
	sel_node_free(n);

	none = selector_parse("dev nosuchdev0", &err);
	assert_non_null(none);
	assert_int_equal(selector_dev_check_here(none, &err), -ENODEV);
	assert_string_equal(err.msg, "no interface \"nosuchdev0\" in this network namespace");
	/* Not found here: never compiled (index 0 would match every unbound socket). */
	assert_int_equal(selector_bytecode(none, bc, sizeof(bc), &exact), 0);
	r.id.idiag_if = 0;
	r.netns = 0;
	assert_int_equal(selector_eval(none, &r, NULL), SEL_NO);
	sel_node_free(none);
}

/*
 * A watcher's: resolved again at each call from what names the namespace; one that is not
 * there is left unresolved (matches nothing) and counted, with the reason, not an error.
 */
static void test_selector_netns_refresh(void **state)
{
	char dir[] = "/tmp/sr-netns-XXXXXX", a[64];
	struct netns_roots roots = { "/proc", dir };
	struct sel_error err;
	struct sel_node *n;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	snprintf(a, sizeof(a), "%s/a", dir);
	n = selector_parse("state close-wait and (netns a or netns b)", &err);
	assert_non_null(n);

	/* Neither there: both left unresolved, the first named. */
	assert_int_equal(selector_netns_refresh(n, &roots, &err), 2);
	assert_string_equal(err.msg, "no network namespace \"a\" in /run/netns");
	assert_int_equal(n->r->l->u.ns.inode, 0);
	assert_null(n->r->l->u.ns.path);
	assert_false(selector_netns_may_match(n, (uint64_t)st.st_ino));

	/* a appears: resolved, b still counted. */
	assert_int_equal(symlink("/proc/self/ns/net", a), 0);
	assert_int_equal(selector_netns_refresh(n, &roots, &err), 1);
	assert_string_equal(err.msg, "no network namespace \"b\" in /run/netns");
	assert_int_equal(n->r->l->u.ns.inode, (uint64_t)st.st_ino);
	assert_non_null(n->r->l->u.ns.path);
	assert_true(selector_netns_may_match(n, (uint64_t)st.st_ino));

	/* a gone again: its old inode is forgotten. */
	assert_int_equal(unlink(a), 0);
	assert_int_equal(selector_netns_refresh(n, &roots, &err), 2);
	assert_int_equal(n->r->l->u.ns.inode, 0);
	assert_false(selector_netns_may_match(n, (uint64_t)st.st_ino));
	sel_node_free(n);
	rmdir(dir);
}

/*
 * A watcher's `netns pid N` keeps the namespace N first named: once N names another (the
 * process exited and its pid was reused), the atom is left unresolved, never moved there.
 */
static void test_selector_netns_refresh_pid(void **state)
{
	char dir[] = "/tmp/sr-proc-XXXXXX", sub[64], link[80], target[64];
	struct netns_roots roots = { dir, "/nonexistent" };
	int ready[2], moved = 0;
	struct sel_error err;
	struct sel_node *n;
	struct stat st;
	pid_t child;
	char c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	snprintf(sub, sizeof(sub), "%s/4242", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/4242/ns", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(link, sizeof(link), "%s/net", sub);
	assert_int_equal(symlink("/proc/self/ns/net", link), 0);
	n = selector_parse("netns pid 4242 and state close-wait", &err);
	assert_non_null(n);
	assert_int_equal(selector_netns_refresh(n, &roots, &err), 0);
	assert_int_equal(n->l->u.ns.inode, (uint64_t)st.st_ino);

	/* A process in a namespace of its own (needs CAP_SYS_ADMIN: else the rest is skipped). */
	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		/* Never outlives the test, whatever fails there. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || c != 'y')
			_exit(0);
		pause();
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1)
		c = 'n';
	if (c == 'y') {
		snprintf(target, sizeof(target), "/proc/%d/ns/net", (int)child);
		unlink(link);
		moved = symlink(target, link) == 0 ? selector_netns_refresh(n, &roots, &err) : -1;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(ready[0]);
	close(ready[1]);
	if (c == 'y') {
		assert_int_equal(moved, 1);
		assert_non_null(strstr(err.msg, "in another network namespace now"));
		assert_null(n->l->u.ns.path);
		assert_int_equal(n->l->u.ns.inode, (uint64_t)st.st_ino);
	}

	/* The pid gone: left unresolved, its namespace still the first one. */
	unlink(link);
	assert_int_equal(selector_netns_refresh(n, &roots, &err), 1);
	assert_string_equal(err.msg, "netns pid 4242: no such process");
	assert_int_equal(n->l->u.ns.inode, (uint64_t)st.st_ino);
	sel_node_free(n);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/4242", dir);
	rmdir(sub);
	rmdir(dir);
	if (c != 'y')
		skip();
}

/* Names, paths and pids resolve once, to inodes; what does not exist is an error at the atom. */
static void test_selector_resolve_netns(void **state)
{
	char src[128], dir[] = "/tmp/sr-netns-XXXXXX", file[64];
	struct netns_roots roots = { "/proc", dir };
	struct sel_error err;
	struct sel_node *n;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	snprintf(src, sizeof(src), "state close-wait and netns pid %d", (int)getpid());
	n = selector_parse(src, &err);
	assert_non_null(n);
	assert_int_equal(selector_resolve_netns(n, &roots, true, &err), 0);
	assert_int_equal(n->r->u.ns.inode, (uint64_t)st.st_ino);
	sel_node_free(n);

	n = selector_parse("state close-wait and netns nosuch", &err);
	assert_non_null(n);
	assert_int_equal(selector_resolve_netns(n, &roots, true, &err), -ENOENT);
	assert_string_equal(err.msg, "no network namespace \"nosuch\" in /run/netns");
	assert_int_equal(err.pos, 21);
	assert_int_equal(err.len, 12);
	sel_node_free(n);

	/* A file that is not a namespace; an inode no namespace has. */
	snprintf(file, sizeof(file), "%s/plain", dir);
	fclose(fopen(file, "w"));
	snprintf(src, sizeof(src), "netns %s", file);
	n = selector_parse(src, &err);
	assert_non_null(n);
	assert_int_equal(selector_resolve_netns(n, &roots, true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is not a network namespace"));
	sel_node_free(n);
	unlink(file);
	n = selector_parse("netns inode 1", &err);
	assert_non_null(n);
	assert_int_equal(selector_resolve_netns(n, &roots, true, &err), -ENOENT);
	assert_string_equal(err.msg, "no network namespace with inode 1 on this host");
	sel_node_free(n);
	snprintf(src, sizeof(src), "netns inode %llu", (unsigned long long)st.st_ino);
	n = selector_parse(src, &err);
	assert_non_null(n);
	assert_int_equal(selector_resolve_netns(n, &roots, true, &err), 0);
	assert_non_null(n->u.ns.path);
	sel_node_free(n);

	/* A flag's atom that does not exist is the run's to skip, unless strict. */
	n = selector_netns_flag("nosuch", false);
	assert_non_null(n);
	assert_int_equal(selector_resolve_netns(n, &roots, false, &err), 0);
	assert_int_equal(n->u.ns.inode, 0);
	assert_int_equal(selector_resolve_netns(n, &roots, true, &err), -ENOENT);
	sel_node_free(n);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_case_table),
		cmocka_unit_test(test_selector_caret_points_at_bad_token),
		cmocka_unit_test(test_selector_empty_is_no_ast),
		cmocka_unit_test(test_selector_flag_values),
		cmocka_unit_test(test_selector_deep_nesting_is_refused),
		cmocka_unit_test(test_selector_long_chains_work),
		cmocka_unit_test(test_selector_empty_port_is_an_error),
		cmocka_unit_test(test_selector_eval_states_ports),
		cmocka_unit_test(test_selector_eval_addresses),
		cmocka_unit_test(test_selector_eval_owners_three_valued),
		cmocka_unit_test(test_selector_eval_any_owner),
		cmocka_unit_test(test_selector_eval_unreadable_owner),
		cmocka_unit_test(test_selector_pid_scope),
		cmocka_unit_test(test_selector_eval_numbers),
		cmocka_unit_test(test_selector_prefilter_masks),
		cmocka_unit_test(test_selector_prefilter_never_drops_a_match),
		cmocka_unit_test(test_selector_eval_netns),
		cmocka_unit_test(test_selector_netns_may_match),
		cmocka_unit_test(test_selector_only_netns),
		cmocka_unit_test(test_selector_netns_only_branch),
		cmocka_unit_test(test_selector_prefilter_leaves_netns_out),
		cmocka_unit_test(test_selector_resolve_netns),
		cmocka_unit_test(test_selector_netns_refresh),
		cmocka_unit_test(test_selector_netns_refresh_pid),
		cmocka_unit_test(test_selector_dev_per_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
