// SPDX-License-Identifier: GPL-2.0-or-later
/* Watch mode: the rule syntax and its carets, the config file, ages by cookie, metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"
#include "plan.h"
#include "watch.h"

static void test_watch_rule_ok(void **state)
{
	static const struct {
		const char *line, *name, *selector;
		uint64_t older_ms;
		long max;
	} cases[] = {
		{ "java-cw: state close-wait, older-than 10m", "java-cw", "state close-wait",
		  600000, -1 },
		{ "  a_1: state close-wait,fin-wait-2 and dport 5432 , older-than 30s, max 50  ",
		  "a_1", "state fin-wait-2,close-wait and dport = 5432", 30000, 50 },
		{ "m: dport 443, max 0, older-than 0s", "m", "dport = 443", 0, 0 },
		{ "i: state close-wait and idle > 5m, older-than 1h\n", "i",
		  "state close-wait and idle > 5m", 3600000, -1 },
		/* Namespaces are found each cycle: one that is not there yet is no error. */
		{ "n: netns sr-nosuch and state close-wait, older-than 2s", "n",
		  "netns = sr-nosuch and state close-wait", 2000, -1 },
		/* ... and so is a device in it, looked up there. */
		{ "d: netns sr-nosuch and dev sr-nodev0, older-than 2s", "d",
		  "netns = sr-nosuch and dev = sr-nodev0", 2000, -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct watch_rule r;
		struct sel_error err = { "", 0, 0 };

		assert_int_equal(watch_rule_parse(cases[i].line, &r, &err), 0);
		assert_string_equal(r.name, cases[i].name);
		assert_string_equal(r.selector, cases[i].selector);
		assert_int_equal(r.older_ms, cases[i].older_ms);
		assert_int_equal(r.max, cases[i].max);
		assert_non_null(r.ast);
		watch_rule_free(&r);
		watch_rule_free(&r);
	}
}

static void test_watch_rule_errors(void **state)
{
	/* Each error's caret: where in the line it points. */
	static const struct {
		const char *line, *msg;
		int pos;
	} cases[] = {
		{ "cw state close-wait, older-than 2s", "starts with its name", 2 },
		{ "Cw: state close-wait, older-than 2s", "starts with its name", 0 },
		{ "cw: state close-wait", "needs an age", 20 },
		{ "cw: state close-wait, older-than 2q", "not a duration", 33 },
		{ "cw: state close-wait, older-than", "needs a duration", 32 },
		{ "cw: state close-wait, max x, older-than 2s", "not a count", 26 },
		{ "cw: , older-than 2s", "needs a selector", 4 },
		{ "cw: state bogus, older-than 2s", "unknown state", 10 },
		{ "cw: state close-wait and dport 99999, older-than 2s", "invalid port", 31 },
		/* `netns foo or ...` would select every socket in foo: refused, the branch shown. */
		{ "cw: dev sr-nodev0, older-than 2s", "no interface", 4 },
		{ "cw: netns foo or state close-wait, older-than 2s",
		  "nothing but network namespaces", 4 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct watch_rule r;
		struct sel_error err = { "", 0, 0 };

		assert_int_equal(watch_rule_parse(cases[i].line, &r, &err), -EINVAL);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].line, err.msg, cases[i].msg);
		assert_int_equal(err.pos, cases[i].pos);
	}
}

/* A config file in a temporary directory; returns its path (static buffer). */
static const char *write_file(const char *text)
{
	static char path[] = "/tmp/test_watch.XXXXXX";
	int fd;

	strcpy(path, "/tmp/test_watch.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_watch_config(void **state)
{
	struct watch_rules rules;
	char *out = NULL;
	size_t outlen = 0;
	FILE *errf;
	const char *path;

	(void)state;
	path = write_file("# stuck java connections\n\n  # indented comment\n"
			  "a: state close-wait, older-than 1m, max 5\n"
			  "b: state close-wait,fin-wait-2 and dport 5432, older-than 10m\n");
	errf = open_memstream(&out, &outlen);
	assert_int_equal(watch_config_load(path, &rules, errf), 0);
	fclose(errf);
	assert_int_equal(rules.n, 2);
	assert_string_equal(rules.v[0].name, "a");
	assert_int_equal(rules.v[0].max, 5);
	assert_string_equal(rules.v[1].name, "b");
	watch_rules_free(&rules);
	unlink(path);
	free(out);

	/* file:line, the line and a caret under the bad word. */
	path = write_file("a: state close-wait, older-than 1m\n# c\nb: state bogus, older-than 1s\n");
	out = NULL;
	errf = open_memstream(&out, &outlen);
	assert_int_equal(watch_config_load(path, &rules, errf), EXIT_USAGE);
	fclose(errf);
	assert_int_equal(rules.n, 0);
	assert_non_null(strstr(out, ":3: unknown state \"bogus\"\n"));
	assert_non_null(strstr(out, "\n  b: state bogus, older-than 1s\n           ^^^^^\n"));
	unlink(path);
	free(out);

	/* Two rules of one name: the second is the error. */
	path = write_file("a: state close-wait, older-than 1m\na: state fin-wait-2, older-than 1m\n");
	out = NULL;
	errf = open_memstream(&out, &outlen);
	assert_int_equal(watch_config_load(path, &rules, errf), EXIT_USAGE);
	fclose(errf);
	assert_non_null(strstr(out, ":2: a rule named \"a\" is already given"));
	unlink(path);
	free(out);

	/* Nothing but comments is an error too: a watcher with no rule would do nothing. */
	path = write_file("# nothing\n\n");
	out = NULL;
	errf = open_memstream(&out, &outlen);
	assert_int_equal(watch_config_load(path, &rules, errf), EXIT_USAGE);
	fclose(errf);
	assert_non_null(strstr(out, "holds no rule"));
	unlink(path);
	free(out);

	out = NULL;
	errf = open_memstream(&out, &outlen);
	assert_int_equal(watch_config_load("/nonexistent/watch.conf", &rules, errf), EXIT_USAGE);
	fclose(errf);
	assert_non_null(strstr(out, "cannot read /nonexistent/watch.conf"));
	free(out);
}

static void set_cookies(struct sock_set *set, const uint64_t *cookies, size_t n)
{
	set->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct sock_rec rec;

		memset(&rec, 0, sizeof(rec));
		rec.id.idiag_cookie[0] = (uint32_t)cookies[i];
		rec.id.idiag_cookie[1] = (uint32_t)(cookies[i] >> 32);
		assert_int_equal(sock_set_push(set, &rec), 0);
	}
}

static void test_watch_ages(void **state)
{
	struct watch_rule r;
	struct sel_error err;
	struct sock_set set = { 0 };
	size_t nplan;

	(void)state;
	assert_int_equal(watch_rule_parse("r: state close-wait, older-than 2s", &r, &err), 0);

	/* t=0: 1 and 2 first seen; nothing old enough. */
	set_cookies(&set, (uint64_t[]){ 1, 2 }, 2);
	nplan = 2;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 0, NULL), 0);
	assert_int_equal(nplan, 0);
	assert_int_equal(set.n, 0);
	assert_int_equal(r.last_matched, 2);

	/* t=1s: 2 has stopped matching (loses its age); 3 is new. */
	set_cookies(&set, (uint64_t[]){ 1, 3 }, 2);
	nplan = 2;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 1000, NULL), 0);
	assert_int_equal(nplan, 0);
	assert_int_equal(r.stats.oldest_ms, 1000);

	/* t=1.99s: still young. */
	set_cookies(&set, (uint64_t[]){ 1, 2, 3 }, 3);
	nplan = 3;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 1990, NULL), 0);
	assert_int_equal(nplan, 0);

	/* t=2s: 1 has matched for 2 s; 2 came back at 1.99 s, 3 at 1 s. */
	set_cookies(&set, (uint64_t[]){ 1, 2, 3 }, 3);
	nplan = 3;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 2000, NULL), 0);
	assert_int_equal(nplan, 1);
	assert_int_equal(sock_cookie(&set.v[0]), 1);
	assert_int_equal(r.stats.oldest_ms, 2000);

	/* t=3s: 3 is old enough too; 2 not yet. A skipped record behind the plan is dropped. */
	set_cookies(&set, (uint64_t[]){ 1, 2, 3, 4 }, 4);
	nplan = 3;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 3000, NULL), 0);
	assert_int_equal(nplan, 2);
	assert_int_equal(set.n, 2);
	assert_int_equal(sock_cookie(&set.v[0]), 1);
	assert_int_equal(sock_cookie(&set.v[1]), 3);

	/* Gone sockets are forgotten: the map holds only this cycle's matches. */
	set_cookies(&set, (uint64_t[]){ 3 }, 1);
	nplan = 1;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 4000, NULL), 0);
	assert_int_equal(r.nns, 1);
	assert_int_equal(r.ns[0].ages.n, 1);
	set.n = 0;
	nplan = 0;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 5000, NULL), 0);
	assert_int_equal(r.ns[0].ages.n, 0);
	assert_int_equal(r.stats.oldest_ms, 0);

	/* A cookie of 0 has no identity across cycles: never old enough. */
	set_cookies(&set, (uint64_t[]){ 0 }, 1);
	nplan = 1;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 6000, NULL), 0);
	nplan = 1;
	set_cookies(&set, (uint64_t[]){ 0 }, 1);
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 60000, NULL), 0);
	assert_int_equal(nplan, 0);

	sock_set_free(&set);
	watch_rule_free(&r);
}

/* Records in namespace index k of a visit list. */
static void set_in(struct sock_set *set, const uint64_t *cookies, const uint16_t *ns, size_t n)
{
	set_cookies(set, cookies, n);
	for (size_t i = 0; i < n; i++)
		set->v[i].netns = ns[i];
}

static void test_watch_ages_netns(void **state)
{
	struct netns_info a = { .inode = 100, .name = "a", .pid = -1 };
	struct netns_info b = { .inode = 200, .name = "", .pid = 7 };
	struct netns_info v2[2], v1[1];
	struct netns_list both = { v2, 2, 2 }, only_b = { v1, 1, 1 }, b_then_a = { v2, 2, 2 };
	struct watch_rule r;
	struct sel_error err;
	struct sock_set set = { 0 };
	size_t nplan;

	(void)state;
	assert_int_equal(watch_rule_parse("r: state close-wait, older-than 2s", &r, &err), 0);
	r.namespaced = true;
	v2[0] = a;
	v2[1] = b;

	/* t=0: cookie 1 in a. */
	set_in(&set, (uint64_t[]){ 1 }, (uint16_t[]){ 0 }, 1);
	nplan = 1;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 0, &both), 0);
	assert_int_equal(r.nns, 2);
	assert_string_equal(r.ns[0].label, "a");
	assert_string_equal(r.ns[1].label, "ino:200");
	/* What the breaker's record names them by, as the intents do (name or null, pid). */
	assert_true(r.ns[0].named);
	assert_false(r.ns[1].named);
	assert_int_equal(r.ns[0].pid, -1);
	assert_int_equal(r.ns[1].pid, 7);
	assert_int_equal(r.ns[0].stats.matched, 1);
	assert_int_equal(r.ns[1].stats.matched, 0);

	/* t=2s: cookie 1 again in a (old enough), and the same cookie in b: its own age (new). */
	set_in(&set, (uint64_t[]){ 1, 1 }, (uint16_t[]){ 0, 1 }, 2);
	nplan = 2;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 2000, &both), 0);
	assert_int_equal(nplan, 1);
	assert_int_equal(set.v[0].netns, 0);
	assert_int_equal(r.ns[0].stats.oldest_ms, 2000);
	assert_int_equal(r.ns[1].stats.oldest_ms, 0);
	assert_int_equal(r.stats.oldest_ms, 2000);

	/*
	 * t=3s: a is gone; b's index is now 0 (indexes are per cycle, inodes are not). Its
	 * cookie 1 is 1 s old, not 3 s: a's age did not move to b.
	 */
	v1[0] = b;
	set_in(&set, (uint64_t[]){ 1 }, (uint16_t[]){ 0 }, 1);
	nplan = 1;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 3000, &only_b), 0);
	assert_int_equal(nplan, 0);
	assert_int_equal(r.nns, 1);
	assert_int_equal(r.ns[0].inode, 200);
	assert_int_equal(r.ns[0].stats.oldest_ms, 1000);
	assert_int_equal(r.ns[0].stats.matched, 2);

	/* t=4s: a is back (created again): its ages start over; b's go on at its new index. */
	v2[0] = b;
	v2[1] = a;
	set_in(&set, (uint64_t[]){ 1, 1 }, (uint16_t[]){ 0, 1 }, 2);
	nplan = 2;
	assert_int_equal(watch_age_filter(&r, &set, &nplan, 4000, &b_then_a), 0);
	assert_int_equal(nplan, 1);
	assert_int_equal(set.v[0].netns, 0);
	assert_int_equal(watch_rule_ns(&r, 100)->stats.oldest_ms, 0);
	assert_int_equal(watch_rule_ns(&r, 100)->stats.matched, 1);

	/* Outcomes counted where each record lives. */
	set_in(&set, (uint64_t[]){ 5, 6, 7 }, (uint16_t[]){ 0, 1, 1 }, 3);
	set.v[0].outcome = OUT_KILLED;
	set.v[1].outcome = OUT_DENIED;
	set.v[2].outcome = OUT_GONE;
	watch_count_outcomes(&r, &set, &b_then_a);
	assert_int_equal(watch_rule_ns(&r, 200)->killed, 1);
	assert_int_equal(watch_rule_ns(&r, 200)->stats.killed, 1);
	assert_int_equal(watch_rule_ns(&r, 100)->not_killed, 1);
	assert_int_equal(watch_rule_ns(&r, 100)->gone, 1);
	assert_int_equal(watch_rule_ns(&r, 100)->stats.failed, 1);
	assert_null(watch_rule_ns(&r, 300));

	sock_set_free(&set);
	watch_rule_free(&r);
}

static void test_watch_limit(void **state)
{
	struct watch_rule r;
	struct sel_error err;

	(void)state;
	assert_int_equal(watch_rule_parse("r: state close-wait, older-than 2s", &r, &err), 0);
	assert_int_equal(watch_limit(&r, -1), -1);
	assert_int_equal(watch_limit(&r, 50), 50);
	watch_rule_free(&r);
	assert_int_equal(watch_rule_parse("r: state close-wait, older-than 2s, max 3", &r, &err),
			 0);
	assert_int_equal(watch_limit(&r, 50), 3);
	assert_int_equal(watch_limit(&r, -1), 3);
	watch_rule_free(&r);
}

static void test_watch_metrics(void **state)
{
	struct watch_rule v[2];
	struct watch_rules rules = { v, 2, false };
	struct watch_totals t = { .cycles = 7, .last_cycle_ms = 12.5 };
	struct sel_error err;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(watch_rule_parse("java-cw: state close-wait, older-than 10m", &v[0], &err),
			 0);
	assert_int_equal(watch_rule_parse("fw2: state fin-wait-2, older-than 1m", &v[1], &err), 0);
	v[0].stats = (struct watch_stats){ 12, 3, 1, 0, 61500 };
	v[1].stats = (struct watch_stats){ 0, 0, 0, 200, 0 };
	f = open_memstream(&out, &len);
	watch_metrics_format(f, &rules, &t);
	fclose(f);
	assert_non_null(strstr(out, "# TYPE sockreap_watch_matched_total counter\n"
				    "sockreap_watch_matched_total{rule=\"java-cw\"} 12\n"
				    "sockreap_watch_matched_total{rule=\"fw2\"} 0\n"));
	assert_non_null(strstr(out, "sockreap_watch_killed_total{rule=\"java-cw\"} 3\n"));
	assert_non_null(strstr(out, "sockreap_watch_failed_total{rule=\"java-cw\"} 1\n"));
	assert_non_null(strstr(out, "sockreap_watch_refused_by_breaker_total{rule=\"fw2\"} 200\n"));
	assert_non_null(strstr(out, "# TYPE sockreap_watch_oldest_match_age_seconds gauge\n"
				    "sockreap_watch_oldest_match_age_seconds{rule=\"java-cw\"} 61.5\n"));
	assert_non_null(strstr(out, "sockreap_watch_cycle_duration_seconds 0.012500\n"));
	assert_non_null(strstr(out, "# TYPE sockreap_watch_cycles_total counter\n"
				    "sockreap_watch_cycles_total 7\n"));
	/* Every line is a comment or "name{labels} value": nothing else in the exposition. */
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(line[0] == '#' || !strncmp(line, "sockreap_watch_", 15));
	free(out);

	/* Written whole under the name, no temporary file left. */
	char dir[] = "/tmp/test_watch_m.XXXXXX", path[64], buf[64];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sockreap.prom", dir);
	assert_int_equal(watch_metrics_write(path, &rules, &t), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_int_equal(strncmp(buf, "# HELP sockreap_watch_matched_total ", 36), 0);
	fclose(f);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(watch_metrics_write("/nonexistent/dir/x.prom", &rules, &t), -ENOENT);
	watch_rule_free(&v[0]);
	watch_rule_free(&v[1]);
}

/* The tracker's counters: only from a watcher that has one. */
static void test_watch_metrics_tracker(void **state)
{
	struct watch_rule v[1];
	struct watch_rules rules = { v, 1, false };
	struct watch_totals t = { 3, 1.0, false,
				  { .dumps = 2, .lookups = 40, .overflows = 5, .candidates = 7,
				    .namespaces = 3 } };
	struct sel_error err;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(watch_rule_parse("cw: state close-wait, older-than 10m", &v[0], &err), 0);
	f = open_memstream(&out, &len);
	watch_metrics_format(f, &rules, &t);
	fclose(f);
	assert_null(strstr(out, "tracker"));
	free(out);
	out = NULL;
	t.tracking = true;
	f = open_memstream(&out, &len);
	watch_metrics_format(f, &rules, &t);
	fclose(f);
	assert_non_null(strstr(out, "# TYPE sockreap_watch_tracker_dumps_total counter\n"
				    "sockreap_watch_tracker_dumps_total 2\n"));
	assert_non_null(strstr(out, "sockreap_watch_tracker_lookups_total 40\n"));
	assert_non_null(strstr(out, "sockreap_watch_tracker_overflows_total 5\n"));
	assert_non_null(strstr(out, "# TYPE sockreap_watch_tracker_candidates gauge\n"
				    "sockreap_watch_tracker_candidates 7\n"));
	assert_non_null(strstr(out, "# TYPE sockreap_watch_tracker_namespaces gauge\n"
				    "sockreap_watch_tracker_namespaces 3\n"));
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(line[0] == '#' || !strncmp(line, "sockreap_watch_", 15));
	free(out);
	watch_rule_free(&v[0]);
}

/* A rule that watches namespaces: one sample per namespace, its name an escaped label. */
static void test_watch_metrics_netns(void **state)
{
	struct watch_rule v[1];
	struct watch_rules rules = { v, 1, false };
	struct watch_totals t = { 1, 1.0, false, { 0 } };
	struct netns_info info[2] = { { .inode = 100, .name = "we\"ird\\\n\xff", .pid = -1 },
				      { .inode = 200, .name = "", .pid = -1 } };
	struct netns_list visit = { info, 2, 2 };
	struct sock_set set = { 0 };
	struct sel_error err;
	char *out = NULL;
	size_t len = 0, nplan = 0;
	FILE *f;

	(void)state;
	assert_int_equal(watch_rule_parse("cw: state close-wait, older-than 1s", &v[0], &err), 0);
	v[0].namespaced = true;
	assert_int_equal(watch_age_filter(&v[0], &set, &nplan, 0, &visit), 0);
	v[0].ns[0].stats.killed = 4;
	f = open_memstream(&out, &len);
	watch_metrics_format(f, &rules, &t);
	fclose(f);
	assert_non_null(strstr(out, "sockreap_watch_killed_total{rule=\"cw\",netns=\"we\\\"ird"
				    "\\\\\\n\\\\xff\"} 4\n"
				    "sockreap_watch_killed_total{rule=\"cw\",netns=\"ino:200\"} "
				    "0\n"));
	assert_null(strstr(out, "{rule=\"cw\"}"));
	free(out);
	sock_set_free(&set);
	watch_rule_free(&v[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_rule_ok),	 cmocka_unit_test(test_watch_rule_errors),
		cmocka_unit_test(test_watch_config),	 cmocka_unit_test(test_watch_ages),
		cmocka_unit_test(test_watch_limit),	 cmocka_unit_test(test_watch_metrics),
		cmocka_unit_test(test_watch_metrics_tracker),
		cmocka_unit_test(test_watch_ages_netns), cmocka_unit_test(test_watch_metrics_netns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
