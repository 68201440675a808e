/* /proc parsing on a fixture tree built in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "procmap.h"

static char root[PATH_MAX];

static void put_file(const char *rel, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void put_link(const char *rel, const char *target)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void put_dir(const char *rel)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/*
 * 100 (java) holds 1001 on fd 3 and a non-socket on fd 4; 300 (java) shares 1001 on fd 7;
 * 200 (nginx) holds 1002 on fd 5; 400 has no fd directory; "self" is not a pid.
 */
static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/sockreap-procmap.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	put_dir("100");
	put_dir("100/fd");
	put_link("100/fd/3", "socket:[1001]");
	put_link("100/fd/4", "/dev/null");
	put_file("100/comm", "java\n");
	put_file("100/stat", "100 (ja) va) S 42 100 100 0 -1 4194560 0 0 0 0\n");
	put_link("100/exe", "/usr/lib/jvm/bin/java");
	put_dir("200");
	put_dir("200/fd");
	put_link("200/fd/5", "socket:[1002]");
	put_file("200/comm", "nginx\n");
	put_dir("300");
	put_dir("300/fd");
	put_link("300/fd/7", "socket:[1001]");
	put_file("300/comm", "java\n");
	put_dir("400");
	put_dir("self");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fx_rmtree(root);
}

static void fill(struct sock_set *set)
{
	static const uint32_t inodes[] = { 1001, 1002, 1003, 0 };

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < 4; i++) {
		struct sock_rec r;

		memset(&r, 0, sizeof(r));
		r.inode = inodes[i];
		r.pid = -1;
		r.fd = -1;
		assert_int_equal(sock_set_push(set, &r), 0);
	}
}

static void test_procmap_full_scan(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new(root);

	(void)state;
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	/* 1001 has two owners: the lowest pid is shown, whatever the readdir order. */
	assert_int_equal(set.v[0].pid, 100);
	assert_int_equal(set.v[0].fd, 3);
	assert_int_equal(set.v[0].nowners, 2);
	assert_string_equal(procmap_comm(pm, set.v[0].pid), "java");
	assert_int_equal(set.v[1].pid, 200);
	assert_int_equal(set.v[1].fd, 5);
	assert_string_equal(procmap_comm(pm, 200), "nginx");
	assert_int_equal(set.v[2].pid, 0); /* nobody holds 1003 */
	assert_int_equal(set.v[3].pid, 0); /* no inode: no owner */
	assert_null(procmap_comm(pm, 400));
	procmap_free(pm);
	sock_set_free(&set);
}

static void test_procmap_named_pids_only(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new(root);
	int32_t pids[] = { 200, 999 };

	(void)state;
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, pids, 2), 0);
	assert_int_equal(set.v[0].pid, 0); /* held by 100/300, which were not read */
	assert_int_equal(set.v[1].pid, 200);
	assert_int_equal(set.v[1].nowners, 1);
	assert_null(procmap_comm(pm, 100));
	procmap_free(pm);
	sock_set_free(&set);
}

/*
 * Enough processes for the scan to be shared among threads: 200 pids (1000..1199) in a tree of
 * their own. Pid P holds socket 5000 + P % 50 on fd 3 + (1199 - P) % 7, and socket 9000 on
 * fd 10 + P % 3; 7777 is held by 1150 (fd 9) and twice by 1100 (fds 22 and 20). Every thread
 * count gives the same owners: the lowest pid, at its lowest fd, and every holder counted.
 */
static void test_procmap_workers(void **state)
{
	char rel[64], target[32], many[PATH_MAX + 8];

	(void)state;
	put_dir("many");
	for (int pid = 1000; pid < 1200; pid++) {
		snprintf(rel, sizeof(rel), "many/%d", pid);
		put_dir(rel);
		snprintf(rel, sizeof(rel), "many/%d/fd", pid);
		put_dir(rel);
		snprintf(rel, sizeof(rel), "many/%d/fd/%d", pid, 3 + (1199 - pid) % 7);
		snprintf(target, sizeof(target), "socket:[%d]", 5000 + pid % 50);
		put_link(rel, target);
		snprintf(rel, sizeof(rel), "many/%d/fd/%d", pid, 10 + pid % 3);
		put_link(rel, "socket:[9000]");
		snprintf(rel, sizeof(rel), "many/%d/comm", pid);
		put_file(rel, "worker\n");
	}
	put_link("many/1150/fd/9", "socket:[7777]");
	put_link("many/1100/fd/22", "socket:[7777]");
	put_link("many/1100/fd/20", "socket:[7777]");
	snprintf(many, sizeof(many), "%s/many", root);

	for (int workers = 1; workers <= 4; workers *= 2) {
		struct sock_set set = { 0 };
		struct procmap *pm = procmap_new(many);
		struct sock_rec r;

		procmap_workers(pm, workers);
		memset(&r, 0, sizeof(r));
		r.pid = -1;
		r.fd = -1;
		for (uint32_t ino = 5000; ino < 5050; ino++) {
			r.inode = ino;
			assert_int_equal(sock_set_push(&set, &r), 0);
		}
		r.inode = 9000;
		assert_int_equal(sock_set_push(&set, &r), 0);
		r.inode = 7777;
		assert_int_equal(sock_set_push(&set, &r), 0);
		assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
		for (int k = 0; k < 50; k++) {
			int pid = 1000 + k; /* the lowest pid with P % 50 == k */

			if (set.v[k].pid != pid || set.v[k].fd != 3 + (1199 - pid) % 7 ||
			    set.v[k].nowners != 4)
				fail_msg("%d workers: socket %d: pid %d fd %d owners %u", workers,
					 5000 + k, set.v[k].pid, set.v[k].fd, set.v[k].nowners);
		}
		assert_int_equal(set.v[50].pid, 1000);
		assert_int_equal(set.v[50].fd, 10 + 1000 % 3);
		assert_int_equal(set.v[50].nowners, 200);
		assert_int_equal(set.v[51].pid, 1100);
		assert_int_equal(set.v[51].fd, 20);
		assert_int_equal(set.v[51].nowners, 3);
		assert_string_equal(procmap_comm(pm, 1199), "worker");
		procmap_free(pm);
		sock_set_free(&set);
	}
}

static void test_procmap_missing_root(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new("/nonexistent/proc");

	(void)state;
	fill(&set);
	assert_true(procmap_resolve(pm, &set, NULL, -1) < 0);
	assert_int_equal(set.v[0].pid, 0);
	procmap_free(pm);
	sock_set_free(&set);
	procmap_free(NULL);
}

static void test_procmap_owner_info(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new(root);
	struct sel_owner_info oi;

	(void)state;
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	assert_true(procmap_lookup(pm, 100, &oi));
	assert_string_equal(oi.comm, "java");
	assert_string_equal(oi.exe, "/usr/lib/jvm/bin/java");
	assert_int_equal(oi.ppid, 42); /* read after the last ')' of the comm */
	assert_true(procmap_lookup(pm, 200, &oi));
	assert_null(oi.exe);
	assert_int_equal(oi.ppid, -1);
	assert_false(procmap_lookup(pm, 999, &oi));
	assert_int_equal(procmap_parse_ppid("1 (init) S 0 1"), 0);
	assert_int_equal(procmap_parse_ppid("garbage"), -1);
	procmap_free(pm);
	sock_set_free(&set);
}

static void test_procmap_parse_link(void **state)
{
	(void)state;
	assert_int_equal(procmap_parse_link("socket:[123]", 12), 123);
	assert_int_equal(procmap_parse_link("socket:[4294967295]", 19), 4294967295U);
	assert_int_equal(procmap_parse_link("socket:[4294967296]", 19), 0);
	assert_int_equal(procmap_parse_link("socket:[]", 9), 0);
	assert_int_equal(procmap_parse_link("socket:[12a]", 12), 0);
	assert_int_equal(procmap_parse_link("pipe:[123]", 10), 0);
	assert_int_equal(procmap_parse_link("socket:[123", 11), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procmap_full_scan),
		cmocka_unit_test(test_procmap_named_pids_only),
		cmocka_unit_test(test_procmap_workers),
		cmocka_unit_test(test_procmap_missing_root),
		cmocka_unit_test(test_procmap_owner_info),
		cmocka_unit_test(test_procmap_parse_link),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
