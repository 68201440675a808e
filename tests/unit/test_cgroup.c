// SPDX-License-Identifier: GPL-2.0-or-later
/* cgroup v2 lookups and selector resolution on a fixture tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "fixtures.h"
#include "groupby.h"
#include "selector.h"

static char root[PATH_MAX];

static uint64_t ino(const char *rel)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static int setup(void **state)
{
	static const char *const dirs[] = { "/a", "/a/b", "/a/c", "/system.slice",
					    "/system.slice/nginx.service",
					    "/system.slice/nginx.service/worker", "/user.slice" };
	char path[PATH_MAX + 64];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/sockreap-cgroup.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
		if (mkdir(path, 0755) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/mountinfo", root);
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
		   "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fx_rmtree(root);
}

static void test_cgroup_root_from_mountinfo(void **state)
{
	char path[PATH_MAX + 64], out[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/mountinfo", root);
	assert_int_equal(cgroup_root(path, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	snprintf(path, sizeof(path), "%s/nonexistent", root);
	assert_true(cgroup_root(path, out, sizeof(out)) < 0);
}

static void test_cgroup_ids_cover_the_subtree(void **state)
{
	uint64_t *ids;
	int n;

	(void)state;
	n = cgroup_ids(root, "/a", &ids);
	assert_int_equal(n, 3);
	uint64_t want[3] = { ino("/a"), ino("/a/b"), ino("/a/c") };

	for (int i = 0; i < 3; i++)
		assert_true(ids[0] == want[i] || ids[1] == want[i] || ids[2] == want[i]);
	assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
	free(ids);
	assert_int_equal(cgroup_ids(root, "/nope", &ids), -ENOENT);
	assert_null(ids);
}

static void test_cgroup_find_unit(void **state)
{
	char path[PATH_MAX];

	(void)state;
	assert_int_equal(cgroup_find_unit(root, "nginx", path, sizeof(path)), 0);
	assert_string_equal(path, "/system.slice/nginx.service");
	assert_int_equal(cgroup_find_unit(root, "user.slice", path, sizeof(path)), 0);
	assert_string_equal(path, "/user.slice");
	assert_int_equal(cgroup_find_unit(root, "worker.service", path, sizeof(path)), -ENOENT);
	assert_int_equal(cgroup_find_unit(root, "postgres", path, sizeof(path)), -ENOENT);
}

/* A path is taken under the cgroup2 root: ".." could walk out of it, and is refused. */
static void test_cgroup_path_cannot_leave_the_root(void **state)
{
	char path[PATH_MAX + 64];
	struct sel_error err;
	uint64_t *ids = NULL;

	(void)state;
	/* Out of the root and back in through its own name: still refused, nothing walked. */
	snprintf(path, sizeof(path), "/../%s/user.slice", strrchr(root, '/') + 1);
	assert_int_equal(cgroup_ids(root, path, &ids), -EINVAL);
	assert_null(ids);
	assert_int_equal(cgroup_ids(root, "/a/..", &ids), -EINVAL);
	assert_int_equal(cgroup_ids(root, "/a/../system.slice", &ids), -EINVAL);
	/* Names that only start with dots are names. */
	assert_int_equal(cgroup_ids(root, "/a/...", &ids), -ENOENT);

	assert_null(selector_parse("state close-wait and cgroup /../../usr", &err));
	assert_string_equal(err.msg, "invalid cgroup path \"/../../usr\" (\"..\" would leave the "
				     "cgroup2 root)");
	assert_int_equal(err.pos, 28);
	assert_int_equal(err.len, 10);
	assert_null(selector_parse_flag("cgroup", "/a/..", &err));
	assert_int_equal(err.pos, 0);
	assert_int_equal(err.len, 5);
	assert_null(selector_parse("cgroup '/a/../b'", &err));
	assert_non_null(strstr(err.msg, "\"/a/../b\""));
	struct sel_node *n = selector_parse("cgroup /a/..b/...", &err);

	assert_non_null(n);
	sel_node_free(n);
}

static void test_cgroup_selector_resolves_and_matches(void **state)
{
	struct sel_error err;
	struct sel_node *n = selector_parse("unit nginx and not cgroup /system.slice/nginx.service/worker",
					    &err);
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 80, "10.0.0.2", 4000, SS_ESTABLISHED, 1);

	(void)state;
	assert_non_null(n);
	assert_int_equal(selector_resolve(n, root, &err), 0);
	r.cgroup_id = ino("/system.slice/nginx.service");
	assert_int_equal(selector_eval(n, &r, NULL), SEL_YES);
	r.cgroup_id = ino("/system.slice/nginx.service/worker");
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	r.cgroup_id = ino("/user.slice");
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	r.cgroup_id = 0; /* no cgroup known (time-wait, request sockets) */
	assert_int_equal(selector_eval(n, &r, NULL), SEL_NO);
	sel_node_free(n);

	const char *src = "state close-wait and unit postgres";

	n = selector_parse(src, &err);
	assert_int_equal(selector_resolve(n, root, &err), -ENOENT);
	assert_string_equal(err.msg, "no unit \"postgres\" (no such cgroup under the cgroup2 root)");
	assert_int_equal(err.pos, 21);
	assert_int_equal(err.len, 13);
	sel_node_free(n);
}

static void test_cgroup_path_unit_as_systemd_names_it(void **state)
{
	char u[256];

	(void)state;
	assert_string_equal(cgroup_path_unit("/system.slice/nginx.service", u, sizeof(u)),
			    "nginx.service");
	/* A unit's own sub-cgroups belong to it. */
	assert_string_equal(cgroup_path_unit("/system.slice/nginx.service/worker", u, sizeof(u)),
			    "nginx.service");
	/* The system manager's unit, as systemctl status shows it, not the user manager's. */
	assert_string_equal(cgroup_path_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/"
					     "foo.service", u, sizeof(u)),
			    "user@1000.service");
	assert_string_equal(cgroup_path_unit("/user.slice/user-1000.slice/session-3.scope", u,
					     sizeof(u)), "session-3.scope");
	assert_string_equal(cgroup_path_unit("/init.scope", u, sizeof(u)), "init.scope");
	assert_string_equal(cgroup_path_unit("/user.slice/user-1000.slice", u, sizeof(u)),
			    "user-1000.slice");
	assert_string_equal(cgroup_path_unit("/", u, sizeof(u)), "");
	/* Not systemd's (a cgroupfs container runtime): no unit. */
	assert_string_equal(cgroup_path_unit("/docker/0123abcd", u, sizeof(u)), "");
	assert_string_equal(cgroup_path_unit("/system.slice/a.slicex", u, sizeof(u)), "");
}

static void test_cgroup_units_map_every_id(void **state)
{
	struct groupby_units u;

	(void)state;
	assert_int_equal(groupby_units_load(&u, root), 0);
	assert_string_equal(groupby_unit_of(&u, ino("/system.slice/nginx.service/worker")),
			    "nginx.service");
	assert_string_equal(groupby_unit_of(&u, ino("/system.slice/nginx.service")), "nginx.service");
	assert_string_equal(groupby_unit_of(&u, ino("/system.slice")), "system.slice");
	assert_string_equal(groupby_unit_of(&u, ino("/a/b")), "");
	assert_string_equal(groupby_unit_of(&u, ino("")), "");
	/* An id not in the tree (a cgroup removed since): unknown, not "none". */
	assert_null(groupby_unit_of(&u, 1));
	groupby_units_free(&u);
	groupby_units_free(&u);
	assert_null(groupby_unit_of(NULL, 1));
	char missing[PATH_MAX + 16];

	snprintf(missing, sizeof(missing), "%s/nonexistent", root);
	assert_int_equal(groupby_units_load(&u, missing), -ENOENT);
	assert_null(groupby_unit_of(&u, ino("/a")));
	groupby_units_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_root_from_mountinfo),
		cmocka_unit_test(test_cgroup_ids_cover_the_subtree),
		cmocka_unit_test(test_cgroup_path_cannot_leave_the_root),
		cmocka_unit_test(test_cgroup_find_unit),
		cmocka_unit_test(test_cgroup_path_unit_as_systemd_names_it),
		cmocka_unit_test(test_cgroup_units_map_every_id),
		cmocka_unit_test(test_cgroup_selector_resolves_and_matches),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
