// SPDX-License-Identifier: GPL-2.0-or-later
/* Table and JSON output of a plan and of outcomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "output.h"

#include <errno.h>

/*
 * Socket 99 is held by 1234 (java) on fd 7 and by 1300 (worker) on fd 3; arg points at why
 * more owners may exist (NULL: none may).
 */
static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	static const struct sel_owner_info held[] = {
		{ 1234, 7, "java", "/usr/bin/java", 1 },
		{ 1300, 3, "worker", NULL, 1234 },
	};

	(void)arg;
	if (rec->inode != 99 || rec->pid <= 0 || i >= 2)
		return false;
	*out = held[i];
	return true;
}

static const char *incomplete_of(void *arg, const struct sock_rec *rec)
{
	return rec->state == SS_TIME_WAIT ? NULL : *(const char *const *)arg;
}

static const char *const all_known = NULL, *const unreadable = "unreadable";
static const struct sel_owner_ctx owners = { owner_of, NULL, incomplete_of, (void *)&all_known,
					      NULL, NULL };
static const struct sel_owner_ctx some_unknown = { owner_of, NULL, incomplete_of,
						   (void *)&unreadable, NULL, NULL };

static struct sock_set two(void)
{
	struct sock_set set = { 0 };
	struct sock_rec a = fx_rec(AF_INET, "10.0.0.5", 5432, "10.0.0.9", 41234, SS_CLOSE_WAIT, 0x1f);
	struct sock_rec b = fx_rec(AF_INET6, "::1", 443, "2001:db8::7", 50000, SS_TIME_WAIT,
				   0x100000002ULL);

	a.pid = 1234;
	a.fd = 7;
	a.nowners = 2;
	a.rqueue = 1;
	a.idle_ms = 312000;
	a.inode = 99;
	a.uid = 1000;
	b.pid = 0;
	sock_set_push(&set, &a);
	sock_set_push(&set, &b);
	return set;
}

static void test_output_table_preview(void **state)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();

	(void)state;
	output_table(f, &set, &owners, false);
	fclose(f);
	assert_string_equal(buf,
		"STATE       RECV-Q SEND-Q LOCAL         PEER                 IDLE PROCESS\n"
		"close-wait       1      0 10.0.0.5:5432 10.0.0.9:41234         5m 1234/java+1\n"
		"time-wait        0      0 [::1]:443     [2001:db8::7]:50000     - -\n");
	sock_set_free(&set);
}

static void test_output_table_outcomes_fit_80_columns(void **state)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();

	(void)state;
	set.v[0].outcome = OUT_KILLED;
	set.v[1].outcome = OUT_FAILED;
	set.v[1].err = -EBUSY;
	output_table(f, &set, &owners, true);
	fclose(f);
	assert_string_equal(buf,
		"STATE       LOCAL         PEER                OUTCOME       PROCESS\n"
		"close-wait  10.0.0.5:5432 10.0.0.9:41234      killed        1234/java+1\n"
		"time-wait   [::1]:443     [2001:db8::7]:50000 failed(EBUSY) -\n");
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(strlen(line) <= 80);
	sock_set_free(&set);
}

/* The table of set (owners, outcomes), in a buffer the caller frees. */
static char *table_of(const struct sock_set *set, bool with_outcome)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	output_table_fit(f, set, &owners, with_outcome, NULL, NULL);
	fclose(f);
	return buf;
}

/*
 * A table long enough to be formatted on two threads (block by block, and its widths half
 * each) is byte for byte the one a single CPU makes: every row once, in order, the widest
 * cell in the second half widening the whole column.
 */
static void test_output_long_table_same_on_two_threads(void **state)
{
	enum { N = 20011 };
	struct sock_set set = { 0 };
	cpu_set_t all;
	char *two_cpus, *one_cpu;

	(void)state;
	if (sched_getaffinity(0, sizeof(all), &all) < 0 || CPU_COUNT(&all) < 2)
		skip();
	for (size_t i = 0; i < N; i++) {
		char peer[32];
		struct sock_rec r;

		snprintf(peer, sizeof(peer), "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
		r = fx_rec(AF_INET, "10.0.0.5", 5432, peer, (uint16_t)(1024 + i % 60000),
			   i % 7 ? SS_CLOSE_WAIT : SS_TIME_WAIT, i + 1);
		r.pid = i % 3 ? 1234 : 0;
		r.inode = i % 3 ? 99 : 0;
		r.outcome = i % 5 ? OUT_KILLED : OUT_GONE;
		r.idle_ms = (uint32_t)i * 10;
		sock_set_push(&set, &r);
	}
	/* The widest peer only in the second half. */
	set.v[N - 3] = fx_rec(AF_INET6, "::1", 5432, "2001:db8:1234:5678:9abc:def0:1234:5678",
			      41234, SS_CLOSE_WAIT, N + 1);
	for (int with_outcome = 0; with_outcome < 2; with_outcome++) {
		two_cpus = table_of(&set, with_outcome);
		assert_int_equal(fx_pin_first_cpu(&all), 0);
		one_cpu = table_of(&set, with_outcome);
		assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
		assert_int_equal(strlen(two_cpus), strlen(one_cpu));
		assert_string_equal(two_cpus, one_cpu);
		assert_non_null(strstr(one_cpu, "[2001:db8:1234:5678:9abc:def0:1234:5678]:41234"));
		free(two_cpus);
		free(one_cpu);
	}
	sock_set_free(&set);
}

/*
 * A terminal narrower than the table: the queue columns go first, then IDLE; addresses stay
 * whole (they name the socket); what still does not fit is cut at the edge with ">".
 */
static void test_output_table_fits_the_terminal(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = { 0 };
	struct sock_rec a = fx_rec(AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678", 5432,
				   "2001:db8:1234:5678:9abc:def0:1234:9999", 41234, SS_CLOSE_WAIT, 1);
	struct output_fit fit = { 0, 120 };

	(void)state;
	sock_set_push(&set, &a);
	output_table_fit(f, &set, NULL, false, NULL, &fit);
	fclose(f);
	/* 120 columns: the queues go, IDLE stays. */
	assert_null(strstr(buf, "RECV-Q"));
	assert_non_null(strstr(buf, " IDLE "));
	assert_non_null(strstr(buf, "[2001:db8:1234:5678:9abc:def0:1234:5678]:5432 "));
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(strlen(line) <= 120);
	fit.cols = 60;
	f = fmemopen(buf, sizeof(buf), "w");
	output_table_fit(f, &set, NULL, false, NULL, &fit);
	fclose(f);
	assert_null(strstr(buf, "IDLE"));
	assert_non_null(strstr(buf, "close-wait  [2001:db8:1234:5678:9abc:def0:1234:5678]:5432 "));
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		assert_int_equal(strlen(line), 60);
		assert_int_equal(line[59], '>');
	}
	/* No terminal (a pipe): every column, whatever the width. */
	f = fmemopen(buf, sizeof(buf), "w");
	output_table_fit(f, &set, NULL, false, NULL, NULL);
	fclose(f);
	assert_non_null(strstr(buf, "RECV-Q"));
	sock_set_free(&set);
}

/*
 * A plan taller than the screen: counts by state and owner, the first rows, and how to see
 * the rest; the result table likewise, with counts by outcome.
 */
static void test_output_table_summary_on_a_small_screen(void **state)
{
	static char buf[65536];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = { 0 };
	struct output_fit fit = { 20, 80 };
	size_t lines = 0;

	(void)state;
	for (unsigned i = 0; i < 100; i++) {
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.5", 5432, "10.0.0.9", (uint16_t)(40000 + i),
					   i < 70 ? SS_CLOSE_WAIT : SS_TIME_WAIT, i + 1);

		if (i < 70) {
			r.pid = 1234;
			r.inode = 99;
		} else {
			r.pid = 0;
		}
		sock_set_push(&set, &r);
	}
	output_table_fit(f, &set, &owners, false, NULL, &fit);
	fclose(f);
	for (char *p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	assert_true(lines <= 20 - 4);
	assert_non_null(strstr(buf, "100 sockets: time-wait 30, close-wait 70\n"));
	assert_non_null(strstr(buf, "owners: 1234/java 70, none 30\n"));
	assert_non_null(strstr(buf, " more; --dry-run -j or a pipe shows all\n"));
	assert_non_null(strstr(buf, "close-wait       0      0 10.0.0.5:5432 10.0.0.9:40000"));
	for (size_t i = 0; i < set.n; i++)
		set.v[i].outcome = OUT_KILLED;
	f = fmemopen(buf, sizeof(buf), "w");
	output_table_fit(f, &set, &owners, true, NULL, &fit);
	fclose(f);
	assert_non_null(strstr(buf, "100 sockets: killed 100\n"));
	/* Fits: the whole table, no summary. */
	fit.rows = 200;
	f = fmemopen(buf, sizeof(buf), "w");
	output_table_fit(f, &set, &owners, true, NULL, &fit);
	fclose(f);
	assert_null(strstr(buf, "more;"));
	lines = 0;
	for (char *p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 101);
	sock_set_free(&set);
}

/* A process that names itself "a+\e[2Jb": the summary names it whole, and escaped. */
static bool plus_owner(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	(void)arg;
	(void)rec;
	if (i > 0)
		return false;
	*out = (struct sel_owner_info){ 4321, 5, "a+\033[2Jb", NULL, 1 };
	return true;
}

static void test_output_summary_owner_named_with_a_plus(void **state)
{
	static char buf[65536];
	static const struct sel_owner_ctx plus = { plus_owner, NULL, incomplete_of,
						   (void *)&all_known, NULL, NULL };
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = { 0 };
	struct output_fit fit = { 10, 80 };

	(void)state;
	for (unsigned i = 0; i < 20; i++) {
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.5", 5432, "10.0.0.9", (uint16_t)(40000 + i),
					   SS_CLOSE_WAIT, i + 1);

		r.pid = 4321;
		r.nowners = 2;
		sock_set_push(&set, &r);
	}
	output_table_fit(f, &set, &plus, false, NULL, &fit);
	fclose(f);
	assert_non_null(strstr(buf, "owners: 4321/a\\x2b\\x1b[2Jb 20\n"));
	assert_null(strchr(buf, '\033'));
	sock_set_free(&set);
}

/* "PID/COMM+N": a "+" inside the name must not read as the count of further owners. */
static void test_output_table_owner_named_with_a_plus(void **state)
{
	static char buf[65536];
	static const struct sel_owner_ctx plus = { plus_owner, NULL, incomplete_of,
						   (void *)&all_known, NULL, NULL };
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = { 0 };
	struct output_fit fit = { 100, 200 };
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.5", 5432, "10.0.0.9", 40000, SS_CLOSE_WAIT, 1);

	(void)state;
	r.pid = 4321;
	r.nowners = 2;
	sock_set_push(&set, &r);
	output_table_fit(f, &set, &plus, false, NULL, &fit);
	fclose(f);
	assert_non_null(strstr(buf, " 4321/a\\x2b\\x1b[2Jb+1"));
	sock_set_free(&set);
}

static void test_output_json_preview(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct output_run run = { "dry-run", "state close-wait", "destroy", NULL, 0, 0, NULL, NULL, NULL };

	(void)state;
	output_json(f, &set, &owners, &run);
	fclose(f);
	assert_string_equal(buf,
		"{\"schema\":1,\"mode\":\"dry-run\",\"selector\":\"state close-wait\","
		"\"engine\":\"destroy\",\"sockets\":["
		"{\"cookie\":\"1f\",\"protocol\":\"tcp\",\"family\":\"inet\",\"state\":\"close-wait\","
		"\"local\":{\"addr\":\"10.0.0.5\",\"port\":5432},"
		"\"peer\":{\"addr\":\"10.0.0.9\",\"port\":41234},\"inode\":99,\"uid\":1000,"
		"\"cgroup_id\":0,\"mark\":null,"
		"\"recv_q\":1,\"send_q\":0,\"idle_ms\":312000,"
		"\"owners\":[{\"pid\":1234,\"comm\":\"java\",\"fd\":7},"
		"{\"pid\":1300,\"comm\":\"worker\",\"fd\":3}],\"owner_count\":2,"
		"\"owners_unknown\":null},"
		"{\"cookie\":\"100000002\",\"protocol\":\"tcp\",\"family\":\"inet6\","
		"\"state\":\"time-wait\",\"local\":{\"addr\":\"::1\",\"port\":443},"
		"\"peer\":{\"addr\":\"2001:db8::7\",\"port\":50000},\"inode\":0,\"uid\":null,"
		"\"cgroup_id\":0,\"mark\":null,"
		"\"recv_q\":0,\"send_q\":0,\"idle_ms\":null,\"owners\":[],\"owner_count\":0,"
		"\"owners_unknown\":null}],"
		"\"summary\":{\"selected\":2,\"owners_source\":null,\"exit_status\":0,"
		"\"elapsed_ms\":0.000}}\n");
	sock_set_free(&set);
}

/* Where the owners came from is in the summary (null when they were not looked up). */
static void test_output_json_owners_source(void **state)
{
	char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = { 0 };
	struct output_run run = { "dry-run", "state close-wait", "destroy", NULL, 0, 0, NULL, NULL,
				  "bpf" };

	(void)state;
	output_json(f, &set, NULL, &run);
	fclose(f);
	assert_string_equal(buf, "{\"schema\":1,\"mode\":\"dry-run\",\"selector\":"
				 "\"state close-wait\",\"engine\":\"destroy\",\"sockets\":[],"
				 "\"summary\":{\"selected\":0,\"owners_source\":\"bpf\","
				 "\"exit_status\":0,\"elapsed_ms\":0.000}}\n");
}

/* A kill's summary says how many descriptors --close-fd returned: null without --close-fd. */
static void test_output_json_fds_closed(void **state)
{
	char buf[1024];
	FILE *f;
	struct sock_set set = { 0 };
	struct plan_counts counts = { 0 };
	struct output_run run = { "kill", "state close-wait", "destroy", &counts, 0, 0, NULL, NULL,
				  "bpf" };

	(void)state;
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, NULL, &run);
	fclose(f);
	assert_non_null(strstr(buf, "\"fds_closed\":null,"));
	counts.close_fd = true;
	counts.fds_closed = 3;
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, NULL, &run);
	fclose(f);
	assert_non_null(strstr(buf, "\"fds_closed\":3,"));
	/* A preview closes nothing and says nothing about it. */
	run = (struct output_run){ "dry-run", "state close-wait", "destroy", NULL, 0, 0, NULL, NULL,
				   "bpf" };
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, NULL, &run);
	fclose(f);
	assert_null(strstr(buf, "fds_closed"));
}

/* The prompt: y or yes in any case is yes; anything else, end of file included, is no. */
static void test_output_confirm(void **state)
{
	static const struct { const char *answer; bool yes; } cases[] = {
		{ "y\n", true }, { "YES\n", true }, { "Yes\n", true }, { "n\n", false },
		{ "yess\n", false }, { " y\n", false }, { "\n", false }, { "", false },
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *in = fmemopen((void *)cases[i].answer, strlen(cases[i].answer) + 1, "r");
		FILE *o = fmemopen(out, sizeof(out), "w");

		assert_non_null(in);
		assert_int_equal(output_confirm(in, o, i ? 2 : 1, "forwarded flow"), cases[i].yes);
		fclose(o);
		fclose(in);
		assert_string_equal(out, i ? "Kill 2 forwarded flows? [y/N] "
					   : "Kill 1 forwarded flow? [y/N] ");
	}
}

/* --netns: the document names the namespace after the engine; without it, nothing is added. */
static void test_output_json_netns(void **state)
{
	char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = { 0 };
	struct netns_info ns = { .inode = 4026532174ULL, .name = "blue", .pid = 321 };
	struct output_run run = { "dry-run", "state close-wait", "destroy", NULL, 0, 0, &ns, NULL, NULL };

	(void)state;
	output_json(f, &set, NULL, &run);
	fclose(f);
	assert_string_equal(buf, "{\"schema\":1,\"mode\":\"dry-run\",\"selector\":"
				 "\"state close-wait\",\"engine\":\"destroy\",\"netns\":"
				 "{\"inode\":4026532174,\"name\":\"blue\",\"pid\":321},"
				 "\"sockets\":[],\"summary\":{\"selected\":0,\"owners_source\":null,"
				 "\"exit_status\":0,"
				 "\"elapsed_ms\":0.000}}\n");
}

/*
 * Several namespaces: a NETNS column first (the name, else ino:N), each socket's namespace in
 * JSON, and the summary per namespace, one with nothing selected included.
 */
static void test_output_several_netns(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct netns_info v[3] = { { .inode = 4026531840ULL, .name = "", .pid = 1,
				     .collect = NETNS_COLLECT_BPF },
				   { .inode = 4026532174ULL, .name = "blue", .pid = 321,
				     .collect = NETNS_COLLECT_DUMP },
				   { .inode = 4026532999ULL, .name = "", .pid = -1 } };
	struct netns_list visited = { v, 3, 3 };
	struct output_run run = { "dry-run", "state close-wait", "destroy", NULL, 0, 0, NULL,
				  &visited, NULL };

	(void)state;
	set.v[1].netns = 1;
	output_table_ns(f, &set, &owners, false, &visited);
	fclose(f);
	assert_string_equal(buf,
		"NETNS          STATE       RECV-Q SEND-Q LOCAL         PEER                 IDLE PROCESS\n"
		"ino:4026531840 close-wait       1      0 10.0.0.5:5432 10.0.0.9:41234         5m 1234/java+1\n"
		"blue           time-wait        0      0 [::1]:443     [2001:db8::7]:50000     - -\n");
	/* One namespace visited: no column. */
	visited.n = 1;
	set.v[1].netns = 0;
	f = fmemopen(buf, sizeof(buf), "w");
	output_table_ns(f, &set, &owners, false, &visited);
	fclose(f);
	assert_true(!strncmp(buf, "STATE ", 6));
	visited.n = 3;
	set.v[1].netns = 1;
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, &owners, &run);
	fclose(f);
	assert_non_null(strstr(buf, "\"owners_unknown\":null,\"netns\":{\"inode\":4026531840,"
				    "\"name\":null,\"pid\":1}},"));
	assert_non_null(strstr(buf, "\"owners_unknown\":null,\"netns\":{\"inode\":4026532174,"
				    "\"name\":\"blue\",\"pid\":321}}]"));
	assert_non_null(strstr(buf, "\"summary\":{\"selected\":2,\"owners_source\":null,"
					"\"exit_status\":0,"
				    "\"elapsed_ms\":0.000,"
				    "\"collect\":{\"bpf_proven\":1,\"dumped\":1},\"netns\":["
				    "{\"inode\":4026531840,\"name\":null,\"pid\":1,\"selected\":1,"
				    "\"collect\":\"bpf\",\"left_out\":null},"
				    "{\"inode\":4026532174,\"name\":\"blue\",\"pid\":321,\"selected\":1,"
				    "\"collect\":\"dump\",\"left_out\":null},"
				    "{\"inode\":4026532999,\"name\":null,\"pid\":null,\"selected\":0,"
				    "\"collect\":null,\"left_out\":null}]}"));
	/*
	 * A namespace left out (not entered, no sock_diag) is not one with nothing in it: its 0
	 * says "not looked in", and why.
	 */
	v[2].left_out = -EMFILE;
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, &owners, &run);
	fclose(f);
	assert_non_null(strstr(buf, "{\"inode\":4026532174,\"name\":\"blue\",\"pid\":321,"
				    "\"selected\":1,\"collect\":\"dump\",\"left_out\":null},"
				    "{\"inode\":4026532999,\"name\":null,\"pid\":null,"
				    "\"selected\":0,\"collect\":null,\"left_out\":\"EMFILE\"}]}"));
	sock_set_free(&set);
}

/*
 * A namespace named with 255 bytes (a name /run/netns allows) on an 80-column terminal: its
 * cell is cut, never the addresses that say which socket a kill would hit.
 */
static void test_output_long_netns_name_keeps_addresses(void **state)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	static struct netns_info v[2] = { { .inode = 4026531840ULL, .name = "", .pid = 1 },
					  { .inode = 4026532174ULL, .pid = 321 } };
	struct netns_list visited = { v, 2, 2 };
	struct output_fit fit = { 0, 80 };

	(void)state;
	memset(v[1].name, 'n', 255);
	v[1].name[255] = '\0';
	set.v[0].netns = 1;
	output_table_fit(f, &set, &owners, false, &visited, &fit);
	fclose(f);
	assert_non_null(strstr(buf, " 10.0.0.5:5432 "));
	assert_non_null(strstr(buf, " 10.0.0.9:41234"));
	assert_non_null(strstr(buf, " [2001:db8::7]:50000"));
	for (char *p = buf, *nl; (nl = strchr(p, '\n')); p = nl + 1)
		assert_true(nl - p <= 80);
	/* Into a pipe: the whole name, 255 control bytes escaped to 1,020 columns, then the row. */
	memset(v[1].name, 1, 255);
	f = fmemopen(buf, sizeof(buf), "w");
	output_table_fit(f, &set, &owners, false, &visited, NULL);
	fclose(f);
	char *row = strstr(buf, "\\x01");

	assert_non_null(row);
	assert_int_equal(strspn(row, "\\x01"), 255 * 4);
	assert_non_null(strstr(row + 255 * 4, " 10.0.0.5:5432 "));
	sock_set_free(&set);
}

/*
 * The rst engine says so in the table, and whether the peer end was reset too, or left alone
 * as a local socket the plan does not hold.
 */
/* shutdown says so, "closing" when still listed; destroy standing in for it says so too. */
static void test_output_table_shutdown_outcomes(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();

	(void)state;
	set.v[0].outcome = OUT_KILLED;
	set.v[0].engine = SOCK_ENGINE_SHUTDOWN;
	set.v[0].flags |= SOCK_F_CLOSING;
	set.v[1].outcome = OUT_KILLED;
	set.v[1].engine = SOCK_ENGINE_DESTROY;
	set.v[1].flags |= SOCK_F_FALLBACK;
	output_table(f, &set, &owners, true);
	fclose(f);
	assert_non_null(strstr(buf, " killed(shutdown: closing) "));
	assert_non_null(strstr(buf, " killed(destroy) "));
	f = fmemopen(buf, sizeof(buf), "w");
	set.v[0].outcome = OUT_CHANGED;
	set.v[0].err = SOCK_ERR_FD_CHANGED;
	set.v[1].flags = 0; /* destroy chosen: the usual engine, said by nothing */
	output_table(f, &set, &owners, true);
	fclose(f);
	assert_non_null(strstr(buf, " changed(shutdown: fd-changed) "));
	assert_null(strstr(buf, "destroy"));
	sock_set_free(&set);
}

static void test_output_table_rst_outcomes(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	char json[4096];

	(void)state;
	set.v[0].outcome = OUT_KILLED;
	set.v[0].engine = SOCK_ENGINE_RST;
	set.v[0].flags |= SOCK_F_PEER_RESET;
	set.v[1].outcome = OUT_UNSUPPORTED;
	set.v[1].engine = SOCK_ENGINE_RST;
	set.v[1].err = SOCK_ERR_RFC1337;
	output_table(f, &set, &owners, true);
	fclose(f);
	assert_non_null(strstr(buf, " killed(rst+peer) "));
	assert_non_null(strstr(buf, " unsupported(rst: tcp_rfc1337) "));
	f = fmemopen(buf, sizeof(buf), "w");
	set.v[0].flags = SOCK_F_PEER_LEFT;
	output_table(f, &set, &owners, true);
	fclose(f);
	assert_non_null(strstr(buf, " killed(rst, peer left) "));
	f = fmemopen(buf, sizeof(buf), "w");
	set.v[0].flags = SOCK_F_PEER_PLANNED;
	output_table(f, &set, &owners, true);
	fclose(f);
	assert_non_null(strstr(buf, " killed(rst) "));
	assert_string_equal(sock_peer_end(&set.v[0]), "local-planned");
	set.v[0].flags = SOCK_F_PEER_LEFT;
	assert_string_equal(sock_peer_end(&set.v[0]), "local-left");
	set.v[0].flags = SOCK_F_PEER_RESET;
	f = fmemopen(json, sizeof(json), "w");
	struct output_run run = { "kill", "state close-wait", "rst", NULL, 0, 0, NULL, NULL, NULL };
	struct plan_counts c;

	plan_count(&set, &c);
	run.counts = &c;
	output_json(f, &set, &owners, &run);
	fclose(f);
	assert_non_null(strstr(json, "\"outcome\":\"killed\",\"error\":null,\"engine\":\"rst\","
				     "\"peer_reset\":true,\"peer_end\":\"reset-sent\"}"));
	assert_non_null(strstr(json, "\"outcome\":\"unsupported\",\"error\":\"tcp_rfc1337\","
				     "\"engine\":\"rst\",\"peer_reset\":false,\"peer_end\":null}"));
	sock_set_free(&set);
}

static void test_output_json_outcomes(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct plan_counts c;

	(void)state;
	set.v[0].outcome = OUT_KILLED;
	set.v[0].engine = SOCK_ENGINE_DESTROY;
	set.v[1].outcome = OUT_FAILED;
	set.v[1].err = SOCK_ERR_SURVIVED;
	plan_count(&set, &c);
	/* exit_status is what the process exits with (a held SIGINT here), not the outcomes' 3. */
	struct output_run run = { "kill", "state close-wait", "destroy", &c, 1.5, 130, NULL, NULL,
				  NULL };

	output_json(f, &set, &owners, &run);
	fclose(f);
	assert_non_null(strstr(buf, "\"owner_count\":2,\"owners_unknown\":null,"
				    "\"outcome\":\"killed\",\"error\":null,"
				    "\"engine\":\"destroy\",\"peer_reset\":false,\"peer_end\":null}"));
	assert_non_null(strstr(buf, "\"outcome\":\"failed\",\"error\":\"still-present\","
				    "\"engine\":null,\"peer_reset\":false,\"peer_end\":null}"));
	assert_non_null(strstr(buf, "\"summary\":{\"selected\":2,\"owners_source\":null,"
					"\"killed\":1,\"gone\":0,"
				    "\"changed\":0,\"unsupported\":0,\"denied\":0,\"failed\":1,"
				    "\"skipped\":0,\"fds_closed\":null,\"exit_status\":130,\"elapsed_ms\":1.500}}\n"));
	sock_set_free(&set);
}

/* --close-fd: 1234's fd 7 closed, 1300's fd 3 denied (already traced). */
static const char *fd_result_of(void *arg, const struct sock_rec *rec, int32_t pid, int32_t fd,
				const char **why)
{
	(void)arg;
	(void)rec;
	*why = pid == 1300 ? "already-traced" : NULL;
	return pid == 1234 && fd == 7 ? "closed" : pid == 1300 ? "denied" : "not-tried";
}

static void test_output_close_fd_per_owner(void **state)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct sel_owner_ctx fds = owners;
	struct plan_counts c;

	(void)state;
	fds.fd_result = fd_result_of;
	set.v[0].outcome = OUT_KILLED;
	set.v[0].engine = SOCK_ENGINE_DESTROY;
	set.v[1].outcome = OUT_KILLED;
	set.v[1].engine = SOCK_ENGINE_DESTROY;
	plan_count(&set, &c);
	struct output_run run = { "kill", "state close-wait", "destroy", &c, 1.5, 3, NULL, NULL,
				  NULL };

	output_json(f, &set, &fds, &run);
	fclose(f);
	assert_non_null(strstr(buf, "{\"pid\":1234,\"comm\":\"java\",\"fd\":7,"
				    "\"fd_closed\":true,\"fd_result\":\"closed\"}"));
	assert_non_null(strstr(buf, "{\"pid\":1300,\"comm\":\"worker\",\"fd\":3,"
				    "\"fd_closed\":false,\"fd_result\":\"denied\","
				    "\"fd_why\":\"already-traced\"}"));
	/* Without --close-fd the owners say nothing of descriptors. */
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, &owners, &run);
	fclose(f);
	assert_null(strstr(buf, "fd_closed"));

	f = fmemopen(buf, sizeof(buf), "w");
	output_table(f, &set, &fds, true);
	fclose(f);
	/* One of two owners' descriptors closed; the TIME_WAIT socket has none to close. */
	assert_non_null(strstr(buf, " killed fd-closed 1/2 1234/java+1\n"));
	assert_null(strstr(strstr(buf, "fd-closed") + 1, "fd-"));
	sock_set_free(&set);
}

static void test_output_owners_not_looked_up(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct output_run run = { "kill", "state close-wait", "destroy", NULL, 0, 0, NULL, NULL, NULL };

	(void)state;
	set.v[0].pid = -1; /* a scripted kill that needed no owners */
	output_json(f, &set, &owners, &run);
	fclose(f);
	/* Unknown is null; nobody holding it (the second socket) is an empty list. */
	assert_non_null(strstr(buf, "\"idle_ms\":312000,\"owners\":null,\"owner_count\":null,"
				    "\"owners_unknown\":\"not-looked-up\"}"));
	assert_non_null(strstr(buf, "\"owners\":[],\"owner_count\":0,\"owners_unknown\":null}"));
	f = fmemopen(buf, sizeof(buf), "w");
	output_table(f, &set, &owners, false);
	fclose(f);
	assert_non_null(strstr(buf, "    5m ?\n"));
	sock_set_free(&set);
}

/*
 * Owners that could not be read are unknown, not "nobody": "?" and owners null with the
 * reason; known owners with others possibly unread get "+?" and keep their list.
 */
static void test_output_owners_unknown(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct output_run run = { "dry-run", "not comm java", "destroy", NULL, 0, 0, NULL, NULL, NULL };

	(void)state;
	output_table(f, &set, &some_unknown, false);
	fclose(f);
	assert_non_null(strstr(buf, " 5m 1234/java+1+?\n"));
	assert_non_null(strstr(buf, "     - -\n")); /* TIME_WAIT: nobody, whatever we could read */
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, &some_unknown, &run);
	fclose(f);
	assert_non_null(strstr(buf, "{\"pid\":1300,\"comm\":\"worker\",\"fd\":3}],"
				    "\"owner_count\":2,\"owners_unknown\":\"unreadable\"}"));
	set.v[0].pid = 0; /* none could be read */
	set.v[0].nowners = 0;
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, &some_unknown, &run);
	fclose(f);
	assert_non_null(strstr(buf, "\"idle_ms\":312000,\"owners\":null,\"owner_count\":null,"
				    "\"owners_unknown\":\"unreadable\"}"));
	assert_non_null(strstr(buf, "\"owners\":[],\"owner_count\":0,\"owners_unknown\":null}"));
	f = fmemopen(buf, sizeof(buf), "w");
	output_table(f, &set, &some_unknown, false);
	fclose(f);
	assert_non_null(strstr(buf, "    5m ?\n"));
	sock_set_free(&set);
}

/* A preview shows which sockets would not be killed, and why, in the table and in JSON. */
static void test_output_preview_shows_skipped(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct output_run run = { "dry-run", "not comm java", "destroy", NULL, 0, 0, NULL, NULL, NULL };

	(void)state;
	set.v[0].pid = 0;
	set.v[0].nowners = 0;
	set.v[0].outcome = OUT_SKIPPED;
	set.v[0].err = SOCK_ERR_OWNER_UNKNOWN;
	output_table(f, &set, &some_unknown, false);
	fclose(f);
	assert_string_equal(buf,
		"STATE       RECV-Q SEND-Q LOCAL         PEER                 IDLE OUTCOME          "
		"      PROCESS\n"
		"close-wait       1      0 10.0.0.5:5432 10.0.0.9:41234         5m "
		"skipped(owner-unknown) ?\n"
		"time-wait        0      0 [::1]:443     [2001:db8::7]:50000     - planned          "
		"      -\n");
	f = fmemopen(buf, sizeof(buf), "w");
	output_json(f, &set, &some_unknown, &run);
	fclose(f);
	assert_non_null(strstr(buf, "\"owners_unknown\":\"unreadable\",\"outcome\":\"skipped\","
				    "\"error\":\"owner-unknown\",\"engine\":null,\"peer_reset\":false,"
				    "\"peer_end\":null}"));
	/* The planned one has no outcome yet. */
	assert_non_null(strstr(buf, "\"owners_unknown\":null}]"));
	sock_set_free(&set);
}

static void test_output_counts_line(void **state)
{
	char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct plan_counts c = { .total = 5 };

	(void)state;
	c.n[OUT_KILLED] = 3;
	c.n[OUT_GONE] = 1;
	c.n[OUT_DENIED] = 1;
	output_counts(f, &c);
	fclose(f);
	assert_string_equal(buf, "3 killed, 1 gone, 1 denied");
}

static void test_output_explain(void **state)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sel_error err;
	struct sel_node *n = selector_parse("state close-wait dport 5432 pid 7", &err);

	(void)state;
	output_explain(f, n);
	fclose(f);
	sel_node_free(n);
	assert_string_equal(buf,
		"selector:   state close-wait and dport = 5432 and pid 7\n"
		"kernel:     states close-wait\n"
		"            families inet,inet6\n"
		"            bytecode, 8 bytes (port and address tests; the rest is checked in user "
		"space):\n"
		"             0  dport = 5432                 yes +8   no +12 (fail)\n"
		"user space: the whole selector, on what the kernel returns; owner predicates (pid, "
		"comm) last, only for sockets that passed the rest\n"
		"guards:     listening sockets are not selected (name \"state listen\" to select "
		"them)\n");
}

/* --explain --json: the same facts as the text, as one JSON document. */
static void test_output_explain_json(void **state)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sel_error err;
	struct sel_node *n = selector_parse("state close-wait dport 5432 pid 7", &err);

	(void)state;
	output_explain_json(f, n, NULL);
	fclose(f);
	sel_node_free(n);
	assert_string_equal(buf,
		"{\"schema\":1,\"mode\":\"explain\",\"selector\":\"state close-wait and dport = "
		"5432 and pid 7\",\"kernel\":{\"states\":[\"close-wait\"],\"families\":[\"inet\","
		"\"inet6\"],\"bytecode_bytes\":8,\"bytecode_exact\":false,\"bytecode\":["
		"\"0  dport = 5432                 yes +8   no +12 (fail)\"]},"
		"\"owners_needed\":true,\"listen_selected\":false}\n");
}

/*
 * The one owner of socket 99 names itself with 15 bytes, as the kernel keeps them: clear
 * screen, cursor up, a C1 CSI, a bad byte.
 */
static bool hostile_owner(void *arg, const struct sock_rec *rec, size_t i,
			  struct sel_owner_info *out)
{
	(void)arg;
	if (rec->inode != 99 || rec->pid <= 0 || i)
		return false;
	*out = (struct sel_owner_info){ 1234, 7, "\x1b[2J\x1b[1Ax\xc2\x9b" "1A\xff\\", NULL, 1 };
	return true;
}

static const struct sel_owner_ctx hostile = { hostile_owner, NULL, incomplete_of,
					      (void *)&all_known, NULL, NULL };

/* A process name cannot move the cursor, clear the screen or break the line. */
static void test_output_table_escapes_names(void **state)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();

	(void)state;
	set.v[0].nowners = 1;
	output_table(f, &set, &hostile, false);
	fclose(f);
	assert_null(strchr(buf, '\x1b'));
	assert_non_null(strstr(buf, " 1234/\\x1b[2J\\x1b[1Ax\\xc2\\x9b1A\\xff\\\\\n"));
	for (const char *c = buf; *c; c++)
		assert_true(*c == '\n' || ((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f));
	sock_set_free(&set);
}

/* The same name in JSON: escaped controls, U+FFFD for the bad byte; the line stays valid. */
static void test_output_json_names_are_valid_utf8(void **state)
{
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sock_set set = two();
	struct output_run run = { "dry-run", "comm = \"\xff\"", "destroy", NULL, 0, 0, NULL, NULL, NULL };

	(void)state;
	output_json(f, &set, &hostile, &run);
	fclose(f);
	assert_non_null(strstr(buf, "\"comm\":\"\\u001b[2J\\u001b[1Ax\\u009b1A\xef\xbf\xbd\\\\\""));
	assert_non_null(strstr(buf, "\"selector\":\"comm = \\\"\xef\xbf\xbd\\\"\""));
	assert_null(strchr(buf, '\xff'));
	sock_set_free(&set);
}

/* Whether word is bold in [from, to): the first token of a ".B x" or ".BR x ..." line. */
static bool man_bolds(const char *from, const char *to, const char *word)
{
	for (const char *l = from; l && l < to; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		char tok[64];

		if (strncmp(l, ".B ", 3) && strncmp(l, ".BR ", 4))
			continue;
		if (sscanf(l + (l[2] == 'R' ? 4 : 3), "%63s", tok) != 1)
			continue;
		if (!strcmp(tok, word))
			return true;
	}
	return false;
}

/*
 * The outcome labels a table can show are exactly the ones the man page lists: each outcome a
 * ".TP" entry of the list under "each gets one outcome:", no other entry there, and each detail
 * label (what goes in parentheses) and the preview's "planned" bold in that list.
 */
static void test_output_outcome_labels_match_the_man_page(void **state)
{
	FILE *f = fopen("man/sockreap.8", "r");
	static char man[200000];
	size_t n;
	const char *from, *to, *label;
	unsigned listed = 0;

	(void)state;
	assert_non_null(f);
	n = fread(man, 1, sizeof(man) - 1, f);
	fclose(f);
	man[n] = '\0';
	from = strstr(man, "each gets one outcome:");
	assert_non_null(from);
	to = strstr(from, "\n.PP\n");
	assert_non_null(to);
	for (const char *tp = strstr(from, "\n.TP\n"); tp && tp < to; tp = strstr(tp + 1, "\n.TP\n")) {
		char tok[64];
		bool known = false;

		if (strncmp(tp + 5, ".B ", 3) || sscanf(tp + 8, "%63s", tok) != 1)
			fail_msg("a .TP entry of the outcome list is not \".B NAME\"");
		for (unsigned o = OUT_KILLED; o < OUT_MAX; o++)
			known |= !strcmp(tok, sock_outcome_name(o));
		if (!known)
			fail_msg("man page lists outcome \"%s\", which the code does not have", tok);
		listed++;
	}
	assert_int_equal(listed, OUT_MAX - OUT_KILLED);
	for (unsigned o = OUT_KILLED; o < OUT_MAX; o++)
		if (!man_bolds(from, to, sock_outcome_name(o)))
			fail_msg("outcome \"%s\" is not in the man page's list", sock_outcome_name(o));
	for (size_t i = 0; (label = sock_outcome_label(i)); i++)
		if (!man_bolds(from, to, label))
			fail_msg("outcome detail \"%s\" is not in the man page's list", label);
	if (!man_bolds(from, to, "planned"))
		fail_msg("the preview's \"planned\" is not in the man page's list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_outcome_labels_match_the_man_page),
		cmocka_unit_test(test_output_explain_json),
		cmocka_unit_test(test_output_table_fits_the_terminal),
		cmocka_unit_test(test_output_table_summary_on_a_small_screen),
		cmocka_unit_test(test_output_summary_owner_named_with_a_plus),
		cmocka_unit_test(test_output_table_owner_named_with_a_plus),
		cmocka_unit_test(test_output_table_preview),
		cmocka_unit_test(test_output_table_outcomes_fit_80_columns),
		cmocka_unit_test(test_output_json_preview),
		cmocka_unit_test(test_output_json_owners_source),
		cmocka_unit_test(test_output_json_fds_closed),
		cmocka_unit_test(test_output_confirm),
		cmocka_unit_test(test_output_json_netns),
		cmocka_unit_test(test_output_json_outcomes),
		cmocka_unit_test(test_output_table_rst_outcomes),
		cmocka_unit_test(test_output_table_shutdown_outcomes),
		cmocka_unit_test(test_output_owners_not_looked_up),
		cmocka_unit_test(test_output_owners_unknown),
		cmocka_unit_test(test_output_preview_shows_skipped),
		cmocka_unit_test(test_output_counts_line),
		cmocka_unit_test(test_output_explain),
		cmocka_unit_test(test_output_table_escapes_names),
		cmocka_unit_test(test_output_json_names_are_valid_utf8),
		cmocka_unit_test(test_output_several_netns),
		cmocka_unit_test(test_output_long_netns_name_keeps_addresses),
		cmocka_unit_test(test_output_close_fd_per_owner),
		cmocka_unit_test(test_output_long_table_same_on_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
