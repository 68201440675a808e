// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Namespace discovery on a fixture /proc and /run/netns built in a temporary directory, and
 * the parsers under it. Real nsfs files cannot be made here: the fixture's /run/netns entries
 * are plain files on the device of its proc/self/ns/net, which is what marks a namespace file.
 */
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
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "netns.h"

static char root[64];	/* /tmp/sockreap-netns.XXXXXX */

static void put_dir(const char *rel)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void put_link(const char *rel, const char *target)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static uint64_t inode_of(const char *rel)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* A process pid whose ns/net link reads "net:[inode]". */
static void put_proc(int pid, uint64_t inode)
{
	char rel[64], target[64];

	snprintf(rel, sizeof(rel), "proc/%d", pid);
	put_dir(rel);
	snprintf(rel, sizeof(rel), "proc/%d/ns", pid);
	put_dir(rel);
	snprintf(rel, sizeof(rel), "proc/%d/ns/net", pid);
	snprintf(target, sizeof(target), "net:[%llu]", (unsigned long long)inode);
	put_link(rel, target);
}

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/sockreap-netns.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fx_rmtree(root);
}

static void test_netns_spec_path(void **state)
{
	struct netns_roots r = { "/P", "/R" };
	char path[64];

	(void)state;
	assert_int_equal(netns_spec_path(&r, "blue", false, path, sizeof(path)), 0);
	assert_string_equal(path, "/R/blue");
	assert_int_equal(netns_spec_path(&r, "/var/run/docker/netns/abc", false, path,
					 sizeof(path)), 0);
	assert_string_equal(path, "/var/run/docker/netns/abc");
	assert_int_equal(netns_spec_path(&r, "./blue", false, path, sizeof(path)), 0);
	assert_string_equal(path, "./blue");
	assert_int_equal(netns_spec_path(&r, "1234", true, path, sizeof(path)), 0);
	assert_string_equal(path, "/P/1234/ns/net");
	assert_int_equal(netns_spec_path(NULL, "blue", false, path, sizeof(path)), 0);
	assert_string_equal(path, "/run/netns/blue");
	assert_int_equal(netns_spec_path(NULL, "7", true, path, sizeof(path)), 0);
	assert_string_equal(path, "/proc/7/ns/net");
}

static void test_netns_spec_path_refuses(void **state)
{
	char path[16];

	(void)state;
	/* A name never leaves /run/netns; a pid is a positive number and nothing else. */
	assert_int_equal(netns_spec_path(NULL, "", false, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, "..", false, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, ".", false, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, "0", true, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, "-3", true, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, "12x", true, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, "", true, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, "99999999999", true, path, sizeof(path)), -EINVAL);
	assert_int_equal(netns_spec_path(NULL, "a-rather-long-name", false, path, sizeof(path)),
			 -ENAMETOOLONG);
}

static void test_netns_parse_link(void **state)
{
	uint64_t ino = 0;

	(void)state;
	assert_int_equal(netns_parse_link("net:[4026531840]", &ino), 0);
	assert_int_equal(ino, 4026531840ULL);
	assert_int_equal(netns_parse_link("mnt:[4026531840]", &ino), -EINVAL);
	assert_int_equal(netns_parse_link("net:[]", &ino), -EINVAL);
	assert_int_equal(netns_parse_link("net:[12", &ino), -EINVAL);
	assert_int_equal(netns_parse_link("net:[12]x", &ino), -EINVAL);
	assert_int_equal(netns_parse_link("net:[-1]", &ino), -EINVAL);
	assert_int_equal(netns_parse_link("net:[0]", &ino), -EINVAL);
	assert_int_equal(netns_parse_link("", &ino), -EINVAL);
}

static void test_netns_parse_mountinfo(void **state)
{
	char mnt[PATH_MAX];
	uint64_t ino = 0;

	(void)state;
	assert_int_equal(netns_parse_mountinfo("622 29 0:4 net:[4026532456] /run/netns/blue "
					       "rw shared:290 - nsfs nsfs rw\n", &ino, mnt,
					       sizeof(mnt)), 1);
	assert_int_equal(ino, 4026532456ULL);
	assert_string_equal(mnt, "/run/netns/blue");
	/* No optional fields; a mount point with a space (\040) and a backslash (\134). */
	assert_int_equal(netns_parse_mountinfo("9 8 0:4 net:[77] /var/run/docker/netns/a\\040b\\134c "
					       "rw - nsfs nsfs rw", &ino, mnt, sizeof(mnt)), 1);
	assert_int_equal(ino, 77);
	assert_string_equal(mnt, "/var/run/docker/netns/a b\\c");
	/* Other namespace types and other file systems are not network namespaces. */
	assert_int_equal(netns_parse_mountinfo("9 8 0:4 mnt:[78] /x rw - nsfs nsfs rw", &ino, mnt,
					       sizeof(mnt)), 0);
	assert_int_equal(netns_parse_mountinfo("36 35 98:0 / /run rw,nosuid master:1 - tmpfs tmpfs "
					       "rw", &ino, mnt, sizeof(mnt)), 0);
	/* A file system whose type merely starts like ours. */
	assert_int_equal(netns_parse_mountinfo("9 8 0:4 net:[79] /x rw - nsfsx nsfs rw", &ino, mnt,
					       sizeof(mnt)), 0);
	assert_int_equal(netns_parse_mountinfo("9 8 0:4 net:[79] /x rw nsfs", &ino, mnt,
					       sizeof(mnt)), -EINVAL);
	assert_int_equal(netns_parse_mountinfo("", &ino, mnt, sizeof(mnt)), -EINVAL);
	assert_int_equal(netns_parse_mountinfo("9 8 0:4 net:[80] /a/very/long/mount/point rw - "
					       "nsfs nsfs rw", &ino, mnt, 8), -ENAMETOOLONG);
}

/*
 * Four namespaces seen eight ways: "blue" by name, by its bind mount and by two processes;
 * a docker one only by its mount and a process; the host's only by a process; and a stale
 * name whose bind mount is gone (another device), which is no namespace at all.
 */
static void test_netns_discover_dedups_by_inode(void **state)
{
	char proc[PATH_MAX + 8], run[PATH_MAX + 16], mountinfo[2 * PATH_MAX + 256];
	struct netns_list l;
	uint64_t blue;

	(void)state;
	put_dir("proc");
	put_dir("proc/self");
	put_dir("proc/self/ns");
	assert_int_equal(fx_put(root, "proc/self/ns/net", ""), 0);
	put_dir("run");
	put_dir("run/netns");
	assert_int_equal(fx_put(root, "run/netns/blue", ""), 0);
	put_link("run/netns/stale", "/dev/null");
	blue = inode_of("run/netns/blue");
	put_proc(7, blue);
	put_proc(3, blue);
	put_proc(5, 77);
	put_proc(9, 4026531840ULL);
	put_dir("proc/10");	/* a kernel thread's: no ns/net readable */
	put_dir("proc/abc");
	snprintf(mountinfo, sizeof(mountinfo),
		 "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		 "600 22 0:4 net:[%llu] %s/run/netns/blue rw shared:1 - nsfs nsfs rw\n"
		 "601 22 0:4 net:[%llu] %s/run/netns/blue rw shared:1 - nsfs nsfs rw\n"
		 "602 22 0:4 net:[77] /var/run/docker/netns/abc rw - nsfs nsfs rw\n"
		 "603 22 0:4 mnt:[88] /var/run/mnt rw - nsfs nsfs rw\n",
		 (unsigned long long)blue, root, (unsigned long long)blue, root);
	assert_int_equal(fx_put(root, "proc/self/mountinfo", mountinfo), 0);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(run, sizeof(run), "%s/run/netns", root);
	struct netns_roots r = { proc, run };

	assert_int_equal(netns_discover(&r, &l), 0);
	assert_int_equal(l.n, 3);

	const struct netns_info *e = netns_list_find(&l, blue);

	assert_non_null(e);
	assert_string_equal(e->name, "blue");
	assert_int_equal(e->pid, 3);	/* the lowest of its processes */
	snprintf(mountinfo, sizeof(mountinfo), "%s/blue", run);
	assert_string_equal(e->path, mountinfo);

	e = netns_list_find(&l, 77);
	assert_non_null(e);
	assert_string_equal(e->name, "");
	assert_int_equal(e->pid, 5);
	assert_string_equal(e->path, "/var/run/docker/netns/abc");

	e = netns_list_find(&l, 4026531840ULL);
	assert_non_null(e);
	assert_string_equal(e->name, "");
	assert_int_equal(e->pid, 9);
	assert_null(netns_list_find(&l, 88));
	netns_list_free(&l);
	netns_list_free(NULL);
}

/*
 * Under /run/netns, only network namespaces: a file there on nsfs may be another type's (a
 * UTS or mount namespace bind-mounted by mistake, or on purpose), which setns(CLONE_NEWNET)
 * refuses; a run would list it as a network namespace and skip it with "Invalid argument".
 * The real /proc/self/ns links stand for the bind mounts (stat follows them to nsfs).
 */
static void test_netns_discover_only_network_namespaces(void **state)
{
	char run[PATH_MAX + 16];
	struct netns_list l;
	struct stat net, uts;

	(void)state;
	if (stat("/proc/self/ns/net", &net) < 0 || stat("/proc/self/ns/uts", &uts) < 0)
		skip();
	put_dir("run");
	put_dir("run/netns");
	put_link("run/netns/ours", "/proc/self/ns/net");
	put_link("run/netns/uts", "/proc/self/ns/uts");
	snprintf(run, sizeof(run), "%s/run/netns", root);
	struct netns_roots r = { NULL, run };

	assert_int_equal(netns_discover(&r, &l), 0);
	const struct netns_info *e = netns_list_find(&l, net.st_ino);

	assert_non_null(e);
	assert_string_equal(e->name, "ours");
	assert_null(netns_list_find(&l, uts.st_ino));
	netns_list_free(&l);
}

/* Nothing to read is an empty list, not an error. */
static void test_netns_discover_empty(void **state)
{
	char proc[PATH_MAX + 8], run[PATH_MAX + 16];
	struct netns_list l;

	(void)state;
	snprintf(proc, sizeof(proc), "%s/none", root);
	snprintf(run, sizeof(run), "%s/none/netns", root);
	struct netns_roots r = { proc, run };

	assert_int_equal(netns_discover(&r, &l), 0);
	assert_int_equal(l.n, 0);
	netns_list_free(&l);
}

/* Entering needs a namespace file: a plain file or a missing one is refused before setns. */
static void test_netns_enter_refuses_non_netns(void **state)
{
	char path[PATH_MAX + 32], run[PATH_MAX];
	struct netns_info info;

	(void)state;
	put_dir("run");
	put_dir("run/netns");
	assert_int_equal(fx_put(root, "run/netns/plain", ""), 0);
	snprintf(run, sizeof(run), "%s/run/netns", root);
	struct netns_roots r = { NULL, run };

	assert_int_equal(netns_enter(&r, "plain", false, &info), -EINVAL);
	assert_int_equal(netns_enter(&r, "missing", false, &info), -ENOENT);
	snprintf(path, sizeof(path), "%s/plain/x", run);
	assert_int_equal(netns_enter(&r, path, false, &info), -ENOENT);
	assert_int_equal(netns_enter(&r, "/proc/self/ns/uts", false, &info), -EINVAL);
	assert_int_equal(netns_enter(&r, "..", false, &info), -EINVAL);
}

/*
 * A path given by mistake is never opened for reading: a device's open may act (a watchdog
 * starts counting, a tape rewinds). Only a file on nsfs is. inotify sees every real open.
 */
static void test_netns_enter_opens_only_namespace_files(void **state)
{
	char path[PATH_MAX + 32], buf[4096];
	struct netns_info info;
	int in;

	(void)state;
	assert_int_equal(fx_put(root, "device", ""), 0);
	snprintf(path, sizeof(path), "%s/device", root);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	assert_true(inotify_add_watch(in, path, IN_OPEN) >= 0);
	assert_int_equal(netns_enter(NULL, path, false, &info), -EINVAL);
	assert_int_equal(read(in, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	close(in);
}

/*
 * netns_open opens without entering (the fd is for setns later, in any order); a discovered
 * namespace opened again by its path must still be the one found: a /proc/PID/ns/net whose
 * pid now lives elsewhere (or was reused) is -ESTALE, a vanished one -ENOENT.
 */
static void test_netns_open_and_reopen(void **state)
{
	struct netns_info info, found;
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	fd = netns_open(NULL, "/proc/self/ns/net", false, &info);
	assert_int_equal(fd < 0 ? fd : 0, 0);
	assert_int_equal(info.inode, st.st_ino);
	assert_string_equal(info.path, "/proc/self/ns/net");
	close(fd);
	found = info;
	assert_int_equal(netns_open(NULL, "/proc/self/ns/uts", false, &info), -EINVAL);

	fd = netns_open_info(&found);
	assert_int_equal(fd < 0 ? fd : 0, 0);
	close(fd);
	found.inode = st.st_ino + 1;
	assert_int_equal(netns_open_info(&found), -ESTALE);
	snprintf(found.path, sizeof(found.path), "%s/gone/ns/net", root);
	assert_int_equal(netns_open_info(&found), -ENOENT);
}

/* netns_list_get adds an inode once, with no name and no pid yet. */
static void test_netns_list_get(void **state)
{
	struct netns_list l = { 0 };
	struct netns_info *e;

	(void)state;
	for (uint64_t i = 1; i <= 40; i++) {
		e = netns_list_get(&l, 1000 + i % 20);
		assert_non_null(e);
	}
	assert_int_equal(l.n, 20);
	e = netns_list_get(&l, 1005);
	assert_int_equal(e - l.v, 4);	/* 1001..1019 came first */
	assert_int_equal(e->pid, -1);
	assert_string_equal(e->name, "");
	assert_ptr_equal(netns_list_find(&l, 1005), e);
	assert_null(netns_list_find(&l, 999));
	netns_list_free(&l);
	netns_list_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netns_spec_path),
		cmocka_unit_test(test_netns_spec_path_refuses),
		cmocka_unit_test(test_netns_parse_link),
		cmocka_unit_test(test_netns_parse_mountinfo),
		cmocka_unit_test_setup_teardown(test_netns_open_and_reopen, setup, teardown),
		cmocka_unit_test(test_netns_list_get),
		cmocka_unit_test_setup_teardown(test_netns_discover_dedups_by_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netns_discover_only_network_namespaces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_netns_discover_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netns_enter_refuses_non_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netns_enter_opens_only_namespace_files, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
