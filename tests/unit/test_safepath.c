// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * safepath_open_append on a fixture tree under /tmp: what it accepts, what it refuses and the
 * component it names. Ownership cases chown to another uid, so they need root (else skipped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safepath.h"
#include "fixtures.h"

#define OTHER_UID 65534

struct tree {
	char root[64];
	char why[PATH_MAX + 128];
	bool created;
};

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->root, "/tmp/sockreap-safepath.XXXXXX");
	if (!mkdtemp(t->root)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	fx_rmtree(t->root);
	free(t);
	return 0;
}

/* root/rel; four buffers in turn, so that a call can take two of them. */
static const char *at(struct tree *t, const char *rel)
{
	static char buf[4][PATH_MAX];
	static unsigned next;
	char *b = buf[next++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", t->root, rel);
	return b;
}

/* Opens rel as uid; returns the fd or negative errno, why in t->why. */
static int try_open(struct tree *t, const char *rel, uid_t uid)
{
	return safepath_open_append(at(t, rel), uid, &t->created, t->why, sizeof(t->why));
}

/* Expects a refusal naming rel_named (relative to the root) and saying reason. */
static void refused(struct tree *t, const char *rel, uid_t uid, int err, const char *rel_named,
		    const char *reason)
{
	char want[PATH_MAX + 128];

	assert_int_equal(try_open(t, rel, uid), err);
	snprintf(want, sizeof(want), "%s: %s", at(t, rel_named), reason);
	if (strncmp(t->why, want, strlen(want)))
		fail_msg("why: \"%s\", want it to start with \"%s\"", t->why, want);
}

static void test_safepath_creates_file_and_last_dir(void **state)
{
	struct tree *t = *state;
	struct stat st;
	int fd;

	fd = try_open(t, "new/audit.log", 0);
	assert_true(fd >= 0);
	assert_true(t->created);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600 & ~0022 & 0777);
	/* Appending and blocking: O_NONBLOCK was only for the open. */
	assert_int_equal(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK | O_ACCMODE), O_APPEND | O_RDWR);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(stat(at(t, "new"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Again: opened as it is, not created. */
	fd = try_open(t, "new/audit.log", 0);
	assert_true(fd >= 0);
	assert_false(t->created);
	close(fd);
	/* "." and repeated slashes are harmless. */
	fd = try_open(t, "./new//audit.log", 0);
	assert_true(fd >= 0);
	close(fd);
}

static void test_safepath_only_the_last_dir_is_created(void **state)
{
	struct tree *t = *state;
	struct stat st;

	refused(t, "a/b/audit.log", 0, -ENOENT, "a", "No such file or directory");
	assert_int_equal(stat(at(t, "a"), &st), -1);
}

static void test_safepath_refuses_symlinks(void **state)
{
	struct tree *t = *state;

	assert_int_equal(mkdir(at(t, "target"), 0700), 0);
	assert_int_equal(symlink(at(t, "target"), at(t, "link")), 0);
	refused(t, "link/audit.log", 0, -ELOOP, "link", "a symbolic link");
	/* Nothing created through it. */
	assert_int_equal(access(at(t, "target/audit.log"), F_OK), -1);
	assert_int_equal(symlink(at(t, "target/x.log"), at(t, "file-link")), 0);
	refused(t, "file-link", 0, -ELOOP, "file-link", "a symbolic link");
	assert_int_equal(access(at(t, "target/x.log"), F_OK), -1);
	/* A dangling one, as the last directory: not created over. */
	assert_int_equal(symlink(at(t, "nowhere"), at(t, "dangling")), 0);
	refused(t, "dangling/audit.log", 0, -ELOOP, "dangling", "a symbolic link");
	assert_int_equal(access(at(t, "nowhere"), F_OK), -1);
}

static void test_safepath_refuses_what_is_not_a_regular_file(void **state)
{
	struct tree *t = *state;
	char why[PATH_MAX + 128];
	bool created;
	int rfd;

	assert_int_equal(mkfifo(at(t, "fifo"), 0600), 0);
	refused(t, "fifo", 0, -EINVAL, "fifo", "not a regular file");
	/* With a reader it still must not open it (the reader would get the records). */
	rfd = open(at(t, "fifo"), O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	refused(t, "fifo", 0, -EINVAL, "fifo", "not a regular file");
	close(rfd);
	assert_int_equal(mkdir(at(t, "dir"), 0700), 0);
	refused(t, "dir", 0, -EINVAL, "dir", "not a regular file");
	refused(t, "dir/", 0, -EISDIR, "dir/", "names a directory");
	assert_int_equal(safepath_open_append("/dev/null", 0, &created, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "/dev/null: not a regular file");
	/* A regular file in the middle of the path. */
	close(open(at(t, "plain"), O_WRONLY | O_CREAT, 0600));
	refused(t, "plain/audit.log", 0, -ENOTDIR, "plain", "not a directory");
	/* A second hard link: another name for someone's file. */
	assert_int_equal(link(at(t, "plain"), at(t, "linked")), 0);
	refused(t, "linked", 0, -EPERM, "linked", "has 2 hard links");
}

static void test_safepath_refuses_what_others_can_write(void **state)
{
	struct tree *t = *state;
	int fd;

	fd = open(at(t, "open.log"), O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	fchmod(fd, 0666);
	close(fd);
	refused(t, "open.log", 0, -EPERM, "open.log", "writable by others (mode 0666)");
	chmod(at(t, "open.log"), 0620);
	refused(t, "open.log", 0, -EPERM, "open.log", "writable by its group (mode 0620)");
	chmod(at(t, "open.log"), 0644);
	fd = try_open(t, "open.log", 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mkdir(at(t, "g"), 0700), 0);
	chmod(at(t, "g"), 0770);
	refused(t, "g/audit.log", 0, -EPERM, "g", "writable by its group (mode 0770)");
	assert_int_equal(access(at(t, "g/audit.log"), F_OK), -1);
	chmod(at(t, "g"), 0777);
	refused(t, "g/audit.log", 0, -EPERM, "g", "writable by others (mode 0777)");
}

static void test_safepath_ownership(void **state)
{
	struct tree *t = *state;
	int fd;

	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(at(t, "theirs"), 0700), 0);
	assert_int_equal(chown(at(t, "theirs"), OTHER_UID, OTHER_UID), 0);
	refused(t, "theirs/audit.log", 0, -EPERM, "theirs", "owned by uid 65534, not by root");
	assert_int_equal(access(at(t, "theirs/audit.log"), F_OK), -1);
	/* The caller's own (when not root) is fine, and root's. */
	fd = try_open(t, "theirs/audit.log", OTHER_UID);
	assert_true(fd >= 0);
	close(fd);
	refused(t, "theirs/audit.log", 1000, -EPERM, "theirs", "owned by uid 65534, not by root or you");
	fd = open(at(t, "their.log"), O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, OTHER_UID, OTHER_UID), 0);
	close(fd);
	refused(t, "their.log", 0, -EPERM, "their.log", "owned by uid 65534, not by root");
	/* A sticky world-writable directory is fine if root owns it (as /tmp), not otherwise. */
	assert_int_equal(mkdir(at(t, "sticky"), 0700), 0);
	chmod(at(t, "sticky"), 01777);
	fd = try_open(t, "sticky/audit.log", 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chown(at(t, "sticky"), OTHER_UID, OTHER_UID), 0);
	refused(t, "sticky/audit.log", OTHER_UID, -EPERM, "sticky", "writable by others (mode 1777)");
}

/*
 * An operator of a setcap install (euid not root, only root trusted): a file it created would be
 * its own, so it creates nothing and says who must; an existing root file is used.
 */
static void test_safepath_creates_nothing_it_would_not_trust(void **state)
{
	struct tree *t = *state;
	int fd, st;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(t->root, 0755), 0);
	fd = open(at(t, "root.log"), O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mkdir(at(t, "mine"), 0700), 0);
	assert_int_equal(chown(at(t, "mine"), OTHER_UID, OTHER_UID), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* As a setcap install runs for an operator: its own euid, CAP_DAC_OVERRIDE. */
		if (seteuid(OTHER_UID) < 0)
			_exit(10);
		capng_get_caps_process();
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_DAC_OVERRIDE);
		if (capng_apply(CAPNG_SELECT_CAPS) < 0)
			_exit(15);
		if (try_open(t, "new.log", 0) != -ENOENT || !strstr(t->why, "only root may create it"))
			_exit(11);
		if (try_open(t, "dir/new.log", 0) != -ENOENT || !strstr(t->why, "dir: does not exist"))
			_exit(12);
		/* Its own uid trusted (not setcap): it may create. */
		fd = try_open(t, "mine/new.log", OTHER_UID);
		if (fd < 0)
			_exit(13);
		/* And an existing file of root's is used. */
		fd = try_open(t, "root.log", 0);
		_exit(fd < 0 ? 14 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(access(at(t, "new.log"), F_OK), -1);
	assert_int_equal(access(at(t, "dir"), F_OK), -1);
}

static void test_safepath_refuses_relative_and_dotdot(void **state)
{
	struct tree *t = *state;
	char why[256];
	bool created;

	assert_int_equal(safepath_open_append("audit.log", 0, &created, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "audit.log: must be an absolute path");
	assert_int_equal(mkdir(at(t, "d"), 0700), 0);
	assert_int_equal(try_open(t, "d/../audit.log", 0), -EINVAL);
	assert_non_null(strstr(t->why, "\"..\" is not allowed"));
	assert_int_equal(try_open(t, "d/..", 0), -EISDIR);
}

/* Whether the file holds what it held: reading a pseudo file shows no write went to it. */
static void read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
}

/*
 * The kernel's pseudo file systems are interfaces, not storage: a line written to
 * /proc/sys/kernel/hostname renamed the host. Refused before anything is opened there, naming
 * the file system; the hostname is read before and after to show nothing was written.
 */
static void test_safepath_refuses_pseudo_file_systems(void **state)
{
	static const struct {
		const char *path, *named, *fs;
	} cases[] = {
		{ "/proc/sys/kernel/hostname", "/proc", "proc" },
		{ "/sys/kernel/sockreap-test.log", "/sys", "sysfs" },
		{ "/dev/pts/sockreap-test.log", "/dev/pts", "devpts" },
	};
	char before[256], after[256], why[PATH_MAX + 128], want[128];
	bool created;

	(void)state;
	read_small("/proc/sys/kernel/hostname", before, sizeof(before));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stat st;
		int fd;

		if (stat(cases[i].named, &st) < 0)
			continue;	/* not mounted here */
		fd = safepath_open_append(cases[i].path, 0, &created, why, sizeof(why));
		if (fd >= 0)
			close(fd);
		assert_int_equal(fd, -EINVAL);
		snprintf(want, sizeof(want), "%s: a %s file system", cases[i].named, cases[i].fs);
		if (strncmp(why, want, strlen(want)))
			fail_msg("\"%s\": why \"%s\", want \"%s...\"", cases[i].path, why, want);
		assert_false(created);
	}
	read_small("/proc/sys/kernel/hostname", after, sizeof(after));
	assert_string_equal(before, after);
}

/*
 * The file itself on a pseudo file system, under a directory that is not (a bind mount over
 * the log): the open file is checked too. Needs a private mount namespace (root), else skipped.
 */
static void test_safepath_refuses_pseudo_file_bind_mounted(void **state)
{
	struct tree *t = *state;
	int fd, st;
	pid_t pid;

	fd = open(at(t, "audit.log"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("/proc/sys/kernel/hostname", at(t, "audit.log"), NULL, MS_BIND, NULL) < 0)
			_exit(77);
		fd = try_open(t, "audit.log", 0);
		if (fd >= 0)
			_exit(1);
		_exit(strstr(t->why, "audit.log: a proc file system") ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_safepath_creates_file_and_last_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safepath_only_the_last_dir_is_created, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_safepath_refuses_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safepath_refuses_what_is_not_a_regular_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_safepath_refuses_what_others_can_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_safepath_ownership, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safepath_creates_nothing_it_would_not_trust, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_safepath_refuses_relative_and_dotdot, setup,
						teardown),
		cmocka_unit_test(test_safepath_refuses_pseudo_file_systems),
		cmocka_unit_test_setup_teardown(test_safepath_refuses_pseudo_file_bind_mounted, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
