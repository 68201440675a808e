// SPDX-License-Identifier: GPL-2.0-or-later
/* --group-by on fixture records: key parsing, grouping, sorting, the table and the JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "groupby.h"
#include "json.h"

/* 1234 is java, 1300 worker; 1400's comm could not be read. */
static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	(void)arg;
	if (rec->pid <= 0 || i > 0)
		return false;
	*out = (struct sel_owner_info){ rec->pid, rec->fd,
					rec->pid == 1234   ? "java"
					: rec->pid == 1300 ? "worker"
							   : NULL,
					NULL, 1 };
	return true;
}

/* A socket without a known owner whose inode is 7 may have one we could not read. */
static const char *incomplete_of(void *arg, const struct sock_rec *rec)
{
	(void)arg;
	return rec->inode == 7 ? "unreadable" : NULL;
}

static const struct sel_owner_ctx owners = { owner_of, NULL, incomplete_of, NULL, NULL, NULL };

static struct sock_rec cw(const char *peer, uint16_t sport, int32_t pid, uint32_t idle)
{
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.5", sport, peer, 40000, SS_CLOSE_WAIT, sport);

	r.pid = pid;
	r.nowners = pid > 0;
	r.idle_ms = idle;
	r.uid = 1000;
	return r;
}

/*
 * 3 close-wait held by java (one of them also by a child: 2 owners), 2 by worker, 2 time-wait
 * (nobody's), 1 whose owner could not be read, 1 held by 1400 (comm unreadable).
 */
static struct sock_set fixture(void)
{
	struct sock_set set = { 0 };
	struct sock_rec v[] = {
		cw("10.0.0.9", 5432, 1234, 1000), cw("10.0.0.9", 5433, 1234, 312000),
		cw("10.0.0.8", 5434, 1234, SOCK_IDLE_UNKNOWN), cw("10.0.0.8", 5435, 1300, 5000),
		cw("10.0.0.9", 5436, 1300, 6000),
		fx_rec(AF_INET6, "::1", 443, "2001:db8::7", 50000, SS_TIME_WAIT, 9),
		fx_rec(AF_INET6, "::1", 443, "2001:db8::7", 50001, SS_TIME_WAIT, 10),
		cw("10.0.0.8", 5437, 0, 2000), cw("10.0.0.7", 5438, 1400, 7000),
	};

	v[1].nowners = 2;
	v[5].pid = v[6].pid = 0;
	v[7].inode = 7;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(sock_set_push(&set, &v[i]), 0);
	return set;
}

static struct groupby_spec spec_of(const char *arg)
{
	struct groupby_spec spec;
	char msg[256];

	assert_int_equal(groupby_parse(arg, &spec, msg, sizeof(msg)), 0);
	return spec;
}

/* "count key1 key2..." per group, one line each, as the table shows the keys. */
static void summary(const struct groupby_result *res, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t g = 0; g < res->n; g++) {
		len += (size_t)snprintf(buf + len, size - len, "%zu", res->v[g].count);
		for (size_t i = 0; i < res->spec.n; i++) {
			char v[256];

			len += (size_t)snprintf(buf + len, size - len, " %s",
						groupby_value(res, &res->v[g], i, v, sizeof(v), true));
		}
		len += (size_t)snprintf(buf + len, size - len, "\n");
	}
}

static void test_groupby_parse_keys(void **state)
{
	struct groupby_spec spec;
	char msg[256];

	(void)state;
	spec = spec_of("comm,state");
	assert_int_equal(spec.n, 2);
	assert_int_equal(spec.k[0], GB_COMM);
	assert_int_equal(spec.k[1], GB_STATE);
	assert_true(groupby_needs_owners(&spec));
	spec = spec_of("PEER");
	assert_int_equal(spec.k[0], GB_PEER);
	assert_false(groupby_needs_owners(&spec));
	spec = spec_of("state,pid,comm,local,peer,dport,sport,uid,unit,netns");
	assert_int_equal(spec.n, GB_NKEYS);
	for (unsigned i = 0; i < GB_NKEYS; i++)
		assert_int_equal(spec.k[i], i);
	/* unit is the cgroup's: no /proc scan for it. */
	spec = spec_of("unit,state");
	assert_false(groupby_needs_owners(&spec));

	assert_int_equal(groupby_parse("comm,pier", &spec, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "unknown key \"pier\" (keys: state, pid, comm, local, peer, dport, "
				 "sport, uid, unit, netns)");
	assert_int_equal(groupby_parse("comm,", &spec, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "empty key in \"comm,\" (keys: state, pid, comm, local, peer, "
				 "dport, sport, uid, unit, netns)");
	assert_int_equal(groupby_parse("", &spec, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(groupby_parse("pid,state,pid", &spec, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "key \"pid\" given twice");
	/* A key that is a prefix of one is not it. */
	assert_int_equal(groupby_parse("com", &spec, msg, sizeof(msg)), -EINVAL);
	/* What the terminal shows of a bad key is escaped. */
	assert_int_equal(groupby_parse("st\033[2Jate", &spec, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "\"st\\x1b[2Jate\""));
}

static void test_groupby_counts_sorted_by_count_then_key(void **state)
{
	struct sock_set set = fixture();
	struct groupby_spec spec = spec_of("comm,state");
	struct groupby_env env = { &owners, NULL, NULL, NULL, NULL };
	struct groupby_result res;
	char buf[1024];

	(void)state;
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	/*
	 * Ties (2, 2, 2) by key text: nobody's "-" before a name, unknown "?" after. An owner
	 * not read and 1400's unreadable comm are one "?": comm unknown either way.
	 */
	assert_string_equal(buf, "3 java close-wait\n"
				 "2 - time-wait\n"
				 "2 worker close-wait\n"
				 "2 ? close-wait\n");
	assert_int_equal(res.total, 9);
	/* The oldest idle time per group; none known is unknown. */
	assert_int_equal(res.v[0].max_idle_ms, 312000);
	assert_int_equal(res.v[1].max_idle_ms, SOCK_IDLE_UNKNOWN);
	assert_int_equal(res.v[2].max_idle_ms, 6000);
	assert_int_equal(res.v[3].max_idle_ms, 7000);
	assert_int_equal(res.max_idle_ms, 312000);
	groupby_free(&res);
	groupby_free(&res);
	sock_set_free(&set);
}

/*
 * Unknown owner (pid -1, or none found where some may be unreadable) and a known pid whose
 * comm is unreadable both show "?" but stay apart by pid; several owners count under the
 * lowest pid.
 */
static void test_groupby_owner_keys(void **state)
{
	struct sock_set set = fixture();
	struct groupby_spec spec = spec_of("pid,comm");
	struct groupby_env env = { &owners, NULL, NULL, NULL, NULL };
	struct groupby_result res;
	char buf[1024];

	(void)state;
	set.v[2].pid = -1; /* not looked up */
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	/* By pid they stay apart: 1400 is known, its comm is not. */
	assert_string_equal(buf, "2 - -\n"
				 "2 1234 java\n"
				 "2 1300 worker\n"
				 "2 ? ?\n"
				 "1 1400 ?\n");
	groupby_free(&res);
	/* Owners not looked up at all: every socket that may have one is "?". */
	env.owners = NULL;
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	assert_string_equal(buf, "2 - -\n"
				 "2 1234 ?\n"
				 "2 1300 ?\n"
				 "2 ? ?\n"
				 "1 1400 ?\n");
	groupby_free(&res);
	sock_set_free(&set);
}

static const char *unit_of(void *arg, uint64_t id)
{
	(void)arg;
	return id == 11 ? "nginx.service" : id == 12 ? "" : NULL;
}

static void test_groupby_socket_keys(void **state)
{
	struct sock_set set = fixture();
	struct netns_list visited = { 0 };
	struct netns_info here = { .inode = 4026531840ULL };
	struct groupby_env env = { &owners, NULL, &here, unit_of, NULL };
	struct groupby_result res;
	struct groupby_spec spec;
	char buf[2048];

	(void)state;
	spec = spec_of("peer");
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	assert_string_equal(buf, "3 10.0.0.8\n3 10.0.0.9\n2 2001:db8::7\n1 10.0.0.7\n");
	groupby_free(&res);

	spec = spec_of("local,dport,uid");
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	/* Sorted as text: 50000 before 50001; a TIME_WAIT socket's uid is nobody's ("-"). */
	assert_string_equal(buf, "1 10.0.0.5:5432 40000 1000\n1 10.0.0.5:5433 40000 1000\n"
				 "1 10.0.0.5:5434 40000 1000\n1 10.0.0.5:5435 40000 1000\n"
				 "1 10.0.0.5:5436 40000 1000\n1 10.0.0.5:5437 40000 1000\n"
				 "1 10.0.0.5:5438 40000 1000\n1 [::1]:443 50000 -\n"
				 "1 [::1]:443 50001 -\n");
	groupby_free(&res);

	spec = spec_of("sport,state");
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	assert_int_equal(res.n, 8);
	summary(&res, buf, sizeof(buf));
	assert_true(!strncmp(buf, "2 443 time-wait\n1 5432 close-wait\n", 34));
	groupby_free(&res);

	/* unit: known, none (""), not in the tree (NULL: "?"), and nobody's for TIME_WAIT. */
	set.v[0].cgroup_id = set.v[1].cgroup_id = 11;
	set.v[2].cgroup_id = 12;
	set.v[3].cgroup_id = 13;
	spec = spec_of("unit");
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	/*
	 * TIME_WAIT and a cgroup outside any unit: "-"; id 0 on any other socket (v[4] on: never
	 * set) is one the kernel did not report: "?", as is an id not in the tree.
	 */
	assert_string_equal(buf, "4 ?\n3 -\n2 nginx.service\n");
	groupby_free(&res);

	/* netns: one namespace is the one group; several: each record's. */
	spec = spec_of("netns");
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	assert_string_equal(buf, "9 ino:4026531840\n");
	groupby_free(&res);
	assert_non_null(netns_list_get(&visited, 4026531840ULL));
	struct netns_info *blue = netns_list_get(&visited, 4026532000ULL);

	assert_non_null(blue);
	strcpy(blue->name, "blue");
	set.v[0].netns = set.v[5].netns = 1;
	env.visited = &visited;
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	summary(&res, buf, sizeof(buf));
	assert_string_equal(buf, "7 ino:4026531840\n2 blue\n");
	groupby_free(&res);
	netns_list_free(&visited);
	sock_set_free(&set);
}

static void test_groupby_table(void **state)
{
	struct sock_set set = fixture();
	struct groupby_spec spec = spec_of("comm,state");
	struct groupby_env env = { &owners, NULL, NULL, NULL, NULL };
	struct groupby_result res;
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	groupby_table(f, &res, 0, 0);
	fclose(f);
	assert_string_equal(buf, "COUNT  MAX-IDLE  COMM    STATE\n"
				 "    3        5m  java    close-wait\n"
				 "    2         -  -       time-wait\n"
				 "    2        6s  worker  close-wait\n"
				 "    2        7s  ?       close-wait\n"
				 "    9        5m  total, 4 groups\n");

	/*
	 * A terminal of 5 rows and 28 columns: the first groups (columns as wide as they need),
	 * what is left, lines cut with ">" at the edge.
	 */
	f = fmemopen(buf, sizeof(buf), "w");
	groupby_table(f, &res, 5, 28);
	fclose(f);
	assert_string_equal(buf, "COUNT  MAX-IDLE  COMM  STATE\n"
				 "    3        5m  java  clos>\n"
				 "    2         -  -     time>\n"
				 "... 2 more groups (4 socket>\n"
				 "    9        5m  total, 4 g>\n");
	groupby_free(&res);

	/* Nothing selected: the header and a total of 0. */
	set.n = 0;
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	f = fmemopen(buf, sizeof(buf), "w");
	groupby_table(f, &res, 0, 0);
	fclose(f);
	assert_string_equal(buf, "COUNT  MAX-IDLE  COMM  STATE\n"
				 "    0         -  total, 0 groups\n");
	groupby_free(&res);
	sock_set_free(&set);
}

/* A unit (a cgroup directory's name) is anyone's to choose: escaped on a terminal. */
static const char *evil_unit(void *arg, uint64_t id)
{
	(void)arg;
	(void)id;
	return "x\033[2J.service";
}

static void test_groupby_escapes_in_table_raw_in_json(void **state)
{
	struct sock_set set = { 0 };
	struct sock_rec r = cw("10.0.0.9", 1, 1234, 0);
	struct groupby_spec spec = spec_of("unit");
	struct groupby_env env = { &owners, NULL, NULL, evil_unit, NULL };
	struct groupby_result res;
	struct json j;
	char buf[1024];
	FILE *f;

	(void)state;
	r.cgroup_id = 5;
	assert_int_equal(sock_set_push(&set, &r), 0);
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	f = fmemopen(buf, sizeof(buf), "w");
	groupby_table(f, &res, 0, 0);
	fclose(f);
	assert_non_null(strstr(buf, "    1       0ms  x\\x1b[2J.service\n"));
	f = fmemopen(buf, sizeof(buf), "w");
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	groupby_json(&j, &res);
	json_obj_end(&j);
	fclose(f);
	assert_non_null(strstr(buf, "\"unit\":\"x\\u001b[2J.service\""));
	groupby_free(&res);
	sock_set_free(&set);
}

static void test_groupby_json(void **state)
{
	struct sock_set set = fixture();
	struct groupby_spec spec = spec_of("pid,state");
	struct groupby_env env = { &owners, NULL, NULL, NULL, NULL };
	struct groupby_result res;
	struct json j;
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	groupby_json(&j, &res);
	json_obj_end(&j);
	fclose(f);
	/* Unknown is null, nobody is "-"; no idle time known is null. */
	assert_string_equal(buf,
		"{\"group_by\":[\"pid\",\"state\"],\"groups\":["
		"{\"pid\":\"1234\",\"state\":\"close-wait\",\"count\":3,\"oldest_idle_ms\":312000},"
		"{\"pid\":\"-\",\"state\":\"time-wait\",\"count\":2,\"oldest_idle_ms\":null},"
		"{\"pid\":\"1300\",\"state\":\"close-wait\",\"count\":2,\"oldest_idle_ms\":6000},"
		"{\"pid\":\"1400\",\"state\":\"close-wait\",\"count\":1,\"oldest_idle_ms\":7000},"
		"{\"pid\":null,\"state\":\"close-wait\",\"count\":1,\"oldest_idle_ms\":2000}]}");
	groupby_free(&res);
	sock_set_free(&set);
}

/* 100,000 sockets, every one its own group, then in 7 groups: counts exact, no quadratic. */
static void test_groupby_many(void **state)
{
	struct sock_set set = { 0 };
	struct groupby_spec spec = spec_of("local");
	struct groupby_env env = { &owners, NULL, NULL, NULL, NULL };
	struct groupby_result res;
	size_t sum = 0;

	(void)state;
	for (uint32_t i = 0; i < 100000; i++) {
		struct sock_rec r = cw("10.0.0.9", (uint16_t)(i % 7 + 1), 1234, i);

		r.id.idiag_src[0] = htonl(0x0a000000 + i);
		assert_int_equal(sock_set_push(&set, &r), 0);
	}
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	assert_int_equal(res.n, 100000);
	assert_int_equal(res.v[0].count, 1);
	groupby_free(&res);
	spec = spec_of("sport");
	assert_int_equal(groupby_run(&res, &spec, &set, &env), 0);
	assert_int_equal(res.n, 7);
	for (size_t g = 0; g < res.n; g++) {
		sum += res.v[g].count;
		assert_true(res.v[g].count == 14286 || res.v[g].count == 14285);
	}
	assert_int_equal(sum, 100000);
	assert_int_equal(res.max_idle_ms, 99999);
	groupby_free(&res);
	sock_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groupby_parse_keys),
		cmocka_unit_test(test_groupby_counts_sorted_by_count_then_key),
		cmocka_unit_test(test_groupby_owner_keys),
		cmocka_unit_test(test_groupby_socket_keys),
		cmocka_unit_test(test_groupby_table),
		cmocka_unit_test(test_groupby_escapes_in_table_raw_in_json),
		cmocka_unit_test(test_groupby_json),
		cmocka_unit_test(test_groupby_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
