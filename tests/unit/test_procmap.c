// SPDX-License-Identifier: GPL-2.0-or-later
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
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "procmap.h"
#include "taskfiles.h"

#include <errno.h>

static char root[PATH_MAX];

static void put_file(const char *rel, const char *text)
{
	assert_int_equal(fx_put(root, rel, text), 0);
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

/* Removes a file or an empty directory of the fixture, so that later tests do not see it. */
static void rm_rel(const char *rel)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(remove(path), 0);
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

/* "pid/fd/comm pid/fd/comm ..." for every known owner of rec. */
static const char *owners_of(struct procmap *pm, const struct sock_rec *rec)
{
	static char buf[512];
	struct sel_owner_ctx oc;
	struct sel_owner_info o;
	size_t len = 0;

	procmap_owner_ctx(pm, &oc);
	buf[0] = '\0';
	for (size_t i = 0; oc.owner(oc.arg, rec, i, &o) && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d/%d/%s", i ? " " : "",
					o.pid, o.fd, o.comm ? o.comm : "?");
	return buf;
}

static size_t count_owners(struct procmap *pm, const struct sock_rec *rec)
{
	struct sel_owner_ctx oc;
	struct sel_owner_info o;
	size_t i = 0;

	procmap_owner_ctx(pm, &oc);
	while (oc.owner(oc.arg, rec, i, &o))
		i++;
	return i;
}

/* An owner predicate on rec, as the selector evaluates it with pm's owners. */
static enum sel_result eval(struct procmap *pm, const char *expr, const struct sock_rec *rec)
{
	struct sel_error err;
	struct sel_node *n = selector_parse(expr, &err);
	struct sel_owner_ctx oc;
	enum sel_result r;

	if (!n)
		fail_msg("\"%s\": %s", expr, err.msg);
	procmap_owner_ctx(pm, &oc);
	r = selector_eval(n, rec, &oc);
	sel_node_free(n);
	return r;
}

static const char *why(struct procmap *pm, const struct sock_rec *rec)
{
	struct sel_owner_ctx oc;

	procmap_owner_ctx(pm, &oc);
	return oc.incomplete(oc.arg, rec);
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
	/* ... and both are kept, the lowest pid first. */
	assert_string_equal(owners_of(pm, &set.v[0]), "100/3/java 300/7/java");
	assert_string_equal(owners_of(pm, &set.v[1]), "200/5/nginx");
	assert_string_equal(owners_of(pm, &set.v[2]), "");
	/* Every fd table was read (400 has none: gone): every owner is known. */
	assert_null(procmap_unknown_reason(pm));
	assert_null(why(pm, &set.v[0]));
	assert_int_equal(eval(pm, "pid 300", &set.v[0]), SEL_YES);
	assert_int_equal(eval(pm, "not pid 300", &set.v[0]), SEL_NO);
	assert_int_equal(eval(pm, "not pid 300", &set.v[1]), SEL_YES);
	assert_int_equal(eval(pm, "comm nginx", &set.v[2]), SEL_NO);
	assert_int_equal(set.v[1].pid, 200);
	assert_int_equal(set.v[1].fd, 5);
	assert_string_equal(procmap_comm(pm, 200), "nginx");
	assert_int_equal(set.v[2].pid, 0); /* nobody holds 1003 */
	assert_int_equal(set.v[3].pid, 0); /* no inode: no owner */
	assert_null(procmap_comm(pm, 400));
	procmap_free(pm);
	sock_set_free(&set);
}

static void note_loaded(void *arg)
{
	*(bool *)arg = true;
}

/*
 * A walk whose thread loads the iterator and cannot (a fixture /proc holds none of the
 * kernel's tasks, as SOCKREAP_OWNERS=proc or a missing CAP_BPF): the thread still calls back
 * (it drops its capabilities there), and the resolve scans /proc and finds every owner, as
 * without a walk. Before the fix it looked for none (the walk's records were expected) and
 * left every owner unknown.
 */
static void test_procmap_prefetch_load_fails_to_proc(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new(root);
	bool called = false;

	(void)state;
	fill(&set);
	procmap_allow_bpf(pm, true);
	assert_int_equal(procmap_prefetch_load(pm, note_loaded, &called), 0);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	assert_true(called);
	assert_string_equal(procmap_source(pm), "proc");
	assert_string_equal(owners_of(pm, &set.v[0]), "100/3/java 300/7/java");
	assert_string_equal(owners_of(pm, &set.v[1]), "200/5/nginx");
	assert_null(procmap_unknown_reason(pm));
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
	/* The named pids decide pid predicates exactly; nothing else is known. */
	assert_int_equal(eval(pm, "pid 200,999", &set.v[0]), SEL_NO);
	assert_int_equal(eval(pm, "pid 200", &set.v[1]), SEL_YES);
	assert_int_equal(eval(pm, "not pid 999", &set.v[1]), SEL_YES);
	assert_int_equal(eval(pm, "comm java", &set.v[0]), SEL_UNKNOWN);
	assert_string_equal(why(pm, &set.v[1]), "not-looked-up");
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
		assert_string_equal(owners_of(pm, &set.v[51]),
				    "1100/20/worker 1100/22/worker 1150/9/worker");
		/* 9000: all 200, in pid order. */
		assert_int_equal(strncmp(owners_of(pm, &set.v[50]),
					 "1000/11/worker 1001/12/worker 1002/10/worker ", 45), 0);
		assert_int_equal(count_owners(pm, &set.v[50]), 200);
		assert_int_equal(count_owners(pm, &set.v[7]), 4);
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
	/* Not "nobody": every owner is unknown. */
	assert_string_equal(procmap_unknown_reason(pm), "unreadable");
	assert_int_equal(eval(pm, "not comm java", &set.v[0]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "not pid 1", &set.v[0]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "not pid 1", &set.v[3]), SEL_YES); /* no inode: no owner */
	procmap_free(pm);
	sock_set_free(&set);
	procmap_free(NULL);
}

static void test_procmap_owner_info(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new(root);
	struct sel_owner_ctx oc;
	struct sel_owner_info oi;

	(void)state;
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	procmap_owner_ctx(pm, &oc);
	assert_true(oc.owner(oc.arg, &set.v[0], 0, &oi));
	assert_int_equal(oi.pid, 100);
	assert_string_equal(oi.comm, "java");
	assert_string_equal(oi.exe, "/usr/lib/jvm/bin/java");
	assert_int_equal(oi.ppid, 42); /* read after the last ')' of the comm */
	assert_true(oc.owner(oc.arg, &set.v[1], 0, &oi));
	assert_int_equal(oi.pid, 200);
	assert_null(oi.exe);
	assert_int_equal(oi.ppid, -1);
	assert_false(oc.owner(oc.arg, &set.v[1], 1, &oi));
	assert_false(oc.owner(oc.arg, &set.v[2], 0, &oi));
	assert_int_equal(procmap_parse_ppid("1 (init) S 0 1"), 0);
	assert_false(procmap_stat_fileless("1 (init) S 0 1 1 0 -1 4194560 0"));
	assert_true(procmap_stat_fileless("2 (kthreadd) S 0 0 0 0 -1 2129984 0"));
	assert_true(procmap_stat_fileless("9 (a) b) Z 1 9 9 0 -1 4194308 0"));
	assert_false(procmap_stat_fileless("garbage"));
	assert_int_equal(procmap_parse_ppid("garbage"), -1);
	procmap_free(pm);
	sock_set_free(&set);
}

/*
 * A process whose fd table cannot be read (here: not a directory; as root EACCES cannot be
 * made in a fixture) is unknown with what can be read of it, and so are the sockets it might
 * hold: those whose selection it could change.
 */
static void test_procmap_unreadable_is_unknown(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new(root);

	(void)state;
	put_dir("500");
	put_file("500/fd", "not a directory\n");
	put_file("500/comm", "secret\n");
	put_file("500/stat", "500 (secret) S 1 500 500 0 -1 4194560 0 0\n");
	/* Kernel threads and zombies hold no files: unreadable or not, they cannot own one. */
	put_dir("2");
	put_file("2/fd", "not a directory\n");
	put_file("2/comm", "kthreadd\n");
	put_file("2/stat", "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0\n");
	put_dir("501");
	put_file("501/fd", "not a directory\n");
	put_file("501/comm", "zombie\n");
	put_file("501/stat", "501 (zombie) Z 1 501 501 0 -1 4194308 0 0\n");
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	assert_string_equal(procmap_unknown_reason(pm), "unreadable");
	/* 1003: nobody readable holds it, 500 might. */
	assert_int_equal(set.v[2].pid, 0);
	assert_string_equal(why(pm, &set.v[2]), "unreadable");
	assert_int_equal(eval(pm, "comm secret", &set.v[2]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "not comm secret", &set.v[2]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "not pid 500", &set.v[2]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "ppid 1", &set.v[2]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "exe /x", &set.v[2]), SEL_UNKNOWN);
	/* What can be read of 500 rules it out. */
	assert_int_equal(eval(pm, "not comm java", &set.v[2]), SEL_YES);
	assert_int_equal(eval(pm, "not pid 501", &set.v[2]), SEL_YES);
	assert_int_equal(eval(pm, "ppid 2", &set.v[2]), SEL_NO);
	assert_int_equal(eval(pm, "not pid 2", &set.v[2]), SEL_YES);
	assert_int_equal(eval(pm, "not comm zombie", &set.v[2]), SEL_YES);
	/* A known owner still decides what it can: 1001 is java's. */
	assert_int_equal(eval(pm, "comm java", &set.v[0]), SEL_YES);
	assert_int_equal(eval(pm, "not comm java", &set.v[0]), SEL_NO);
	assert_int_equal(eval(pm, "not comm secret", &set.v[0]), SEL_UNKNOWN);
	/* Asked again, the same answer (it is remembered per predicate). */
	assert_int_equal(eval(pm, "comm secret", &set.v[2]), SEL_UNKNOWN);
	/* No inode: no file, no owner, whatever we could not read. */
	assert_int_equal(eval(pm, "not comm secret", &set.v[3]), SEL_YES);
	assert_null(why(pm, &set.v[3]));
	procmap_free(pm);
	sock_set_free(&set);
	for (size_t i = 0; i < 3; i++) {
		static const char *const dirs[] = { "500", "2", "501" };
		char rel[32];

		snprintf(rel, sizeof(rel), "%s/fd", dirs[i]);
		rm_rel(rel);
		snprintf(rel, sizeof(rel), "%s/comm", dirs[i]);
		rm_rel(rel);
		snprintf(rel, sizeof(rel), "%s/stat", dirs[i]);
		rm_rel(rel);
		rm_rel(dirs[i]);
	}
}

/* A named pid that cannot be read is unknown too: --pid N never reads it as "not N's". */
static void test_procmap_named_unreadable(void **state)
{
	struct sock_set set;
	struct procmap *pm = procmap_new(root);
	int32_t pids[] = { 600 };

	(void)state;
	put_dir("600");
	put_file("600/fd", "not a directory\n");
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, pids, 1), 0);
	assert_int_equal(eval(pm, "pid 600", &set.v[0]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "not pid 600", &set.v[0]), SEL_UNKNOWN);
	assert_string_equal(why(pm, &set.v[0]), "unreadable");
	procmap_free(pm);
	sock_set_free(&set);
	rm_rel("600/fd");
	rm_rel("600");
}

/* hidepid=invisible without CAP_SYS_PTRACE: the processes themselves are unknown. */
static void test_procmap_hidepid(void **state)
{
	char line[2 * PATH_MAX + 128];
	struct sock_set set;
	struct procmap *pm;

	(void)state;
	snprintf(line, sizeof(line),
		 "22 27 0:21 / %s rw,relatime - proc proc rw\n"
		 "68 22 0:40 / %s rw,relatime - proc proc rw,hidepid=invisible\n", root, root);
	put_file("self/mountinfo", line);
	put_file("self/status", "Name:\tsockreap\nCapInh:\t0000000000000000\n"
				"CapEff:\t0000000000003000\n");
	pm = procmap_new(root);
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	assert_string_equal(procmap_unknown_reason(pm), "hidepid");
	assert_string_equal(why(pm, &set.v[2]), "hidepid");
	/* Nothing we can see decides: unknown, even for a name no visible process has. */
	assert_int_equal(eval(pm, "comm nosuch", &set.v[2]), SEL_UNKNOWN);
	assert_int_equal(eval(pm, "not pid 1", &set.v[2]), SEL_UNKNOWN);
	/* What we can see still decides YES. */
	assert_int_equal(eval(pm, "comm java", &set.v[0]), SEL_YES);
	assert_int_equal(eval(pm, "not comm java", &set.v[0]), SEL_NO);
	procmap_free(pm);
	sock_set_free(&set);

	/* CAP_SYS_PTRACE (bit 19) sees every process: nothing hidden. */
	put_file("self/status", "CapEff:\t0000000000080000\n");
	pm = procmap_new(root);
	fill(&set);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	assert_null(procmap_unknown_reason(pm));
	assert_int_equal(eval(pm, "comm nosuch", &set.v[2]), SEL_NO);
	procmap_free(pm);
	sock_set_free(&set);
	rm_rel("self/mountinfo");
	rm_rel("self/status");
}

static void test_procmap_parse_hidepid(void **state)
{
	long gid;

	(void)state;
	assert_false(procmap_parse_hidepid("22 27 0:21 / /proc rw - proc proc rw\n", "/proc", &gid));
	assert_int_equal(gid, -1);
	assert_true(procmap_parse_hidepid("22 27 0:21 / /proc rw - proc proc rw,hidepid=2,gid=4\n",
					  "/proc", &gid));
	assert_int_equal(gid, 4);
	assert_true(procmap_parse_hidepid("1 2 0:1 / /proc rw - proc p rw,hidepid=ptraceable",
					  "/proc", &gid));
	/* noaccess hides contents, not processes: their fd tables read as unreadable. */
	assert_false(procmap_parse_hidepid("1 2 0:1 / /proc rw - proc p rw,hidepid=noaccess\n",
					   "/proc", &gid));
	/* Another mount point, or not proc, does not count. */
	assert_false(procmap_parse_hidepid("1 2 0:1 / /mnt/proc rw - proc p rw,hidepid=2\n",
					   "/proc", &gid));
	assert_false(procmap_parse_hidepid("1 2 0:1 / /proc rw - tmpfs t rw,hidepid=2\n", "/proc",
					   &gid));
	/* The last mount on the point is the one on top. */
	assert_false(procmap_parse_hidepid("1 2 0:1 / /proc rw - proc p rw,hidepid=2\n"
					   "3 1 0:2 / /proc rw - proc p rw\n", "/proc", &gid));
	assert_false(procmap_parse_hidepid("", "/proc", &gid));
}

/* Serves a fixture record stream in reads of step bytes, cutting records in two. */
struct stream {
	const char *data;
	size_t len, off, step;
	int fail;	/* returned once the data is served, instead of the end */
};

static ssize_t read_stream(void *arg, void *buf, size_t size)
{
	struct stream *st = arg;
	size_t n = st->len - st->off;

	if (!n)
		return st->fail;
	if (n > st->step)
		n = st->step;
	if (n > size)
		n = size;
	memcpy(buf, st->data + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

/*
 * What the BPF iterator reports for the fixture's processes: 100 holds 1001 on fd 3 and an
 * unselected socket on fd 4; 300 holds 1001 on fd 7, and its thread 301, with a table of its
 * own, reports the same fd again (one owner, not two) and fd 9 (another); 200 holds 1002.
 */
static const struct taskfiles_rec bpf_recs[] = {
	{ .tgid = 300, .tid = 300, .fd = 7, .inode = 1001 },
	{ .tgid = 100, .tid = 100, .fd = 4, .inode = 555 },
	{ .tgid = 100, .tid = 100, .fd = 3, .inode = 1001 },
	{ .tgid = 300, .tid = 301, .fd = 7, .inode = 1001 },
	{ .tgid = 300, .tid = 301, .fd = 9, .inode = 1001 },
	{ .tgid = 200, .tid = 200, .fd = 5, .inode = 1002 },
	{ .tgid = 200, .tid = 200, .fd = 6, .inode = 1ULL << 32 | 1002 },
};

static void test_procmap_bpf_records(void **state)
{
	static const size_t steps[] = { 1, 7, sizeof(struct taskfiles_rec), sizeof(bpf_recs) };

	(void)state;
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct stream st = { (const char *)bpf_recs, sizeof(bpf_recs), 0, steps[k], 0 };
		struct procmap *pm = procmap_new(root);
		struct sock_set set;

		fill(&set);
		assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &st), 0);
		assert_string_equal(procmap_source(pm), "bpf");
		assert_int_equal(set.v[0].pid, 100);
		assert_int_equal(set.v[0].fd, 3);
		assert_int_equal(set.v[0].nowners, 3);
		assert_string_equal(owners_of(pm, &set.v[0]), "100/3/java 300/7/java 300/9/java");
		/* An inode beyond 32 bits is not 1002, whatever its low bits. */
		assert_string_equal(owners_of(pm, &set.v[1]), "200/5/nginx");
		assert_int_equal(set.v[1].nowners, 1);
		assert_int_equal(set.v[2].pid, 0);
		assert_int_equal(set.v[3].pid, 0);
		/* The kernel's task list leaves nothing unreadable: every owner is known. */
		assert_null(procmap_unknown_reason(pm));
		assert_int_equal(eval(pm, "comm nginx", &set.v[2]), SEL_NO);
		assert_int_equal(eval(pm, "pid 300", &set.v[0]), SEL_YES);
		assert_int_equal(eval(pm, "not comm java", &set.v[1]), SEL_YES);
		procmap_free(pm);
		sock_set_free(&set);
	}
}

/* A stream cut inside a record, or failing, leaves every owner unknown, never "none". */
static void test_procmap_bpf_records_broken(void **state)
{
	struct stream cut = { (const char *)bpf_recs, sizeof(bpf_recs) - 3, 0, 64, 0 };
	struct stream failing = { (const char *)bpf_recs, 2 * sizeof(bpf_recs[0]), 0, 64, -EIO };
	struct stream *streams[] = { &cut, &failing };
	const int errs[] = { -EPROTO, -EIO };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		struct procmap *pm = procmap_new(root);
		struct sock_set set;

		fill(&set);
		assert_int_equal(procmap_resolve_records(pm, &set, read_stream, streams[k]),
				 errs[k]);
		assert_string_equal(procmap_unknown_reason(pm), "unreadable");
		assert_int_equal(eval(pm, "comm nginx", &set.v[2]), SEL_UNKNOWN);
		procmap_free(pm);
		sock_set_free(&set);
	}
}

/*
 * A prefetch (the walk read while the dump runs) finds what a walk after the dump finds, an fd
 * that a thread with a table of its own reports again counted once, in every cut of the
 * stream; 1003, a socket with a file and no owner in it, gets the second look, which finds
 * none either.
 */
static void test_procmap_prefetch_records(void **state)
{
	static const size_t steps[] = { 1, 7, sizeof(struct taskfiles_rec), sizeof(bpf_recs) };

	(void)state;
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct stream st = { (const char *)bpf_recs, sizeof(bpf_recs), 0, steps[k], 0 };
		struct stream again = { (const char *)bpf_recs, sizeof(bpf_recs), 0, 64, 0 };
		struct procmap *pm = procmap_new(root);
		struct sock_set set;

		fill(&set);
		assert_int_equal(procmap_prefetch_records(pm, read_stream, &st), 0);
		assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &again), 0);
		assert_string_equal(procmap_source(pm), "bpf");
		assert_int_equal(set.v[0].pid, 100);
		assert_int_equal(set.v[0].fd, 3);
		assert_int_equal(set.v[0].nowners, 3);
		assert_string_equal(owners_of(pm, &set.v[0]), "100/3/java 300/7/java 300/9/java");
		assert_string_equal(owners_of(pm, &set.v[1]), "200/5/nginx");
		assert_int_equal(set.v[1].nowners, 1);
		assert_int_equal(set.v[2].pid, 0);
		assert_int_equal(set.v[3].pid, 0);
		assert_int_equal(again.off, again.len);	/* 1003 was looked for again */
		assert_null(procmap_unknown_reason(pm));
		procmap_free(pm);
		sock_set_free(&set);
	}
}

/*
 * Many records (the lookup's directory of buckets), spread over almost all 32 bits and dense
 * (several to a bucket): each selected socket gets exactly its own owner, the lowest and
 * highest inodes included, and an inode outside the range none.
 */
static void test_procmap_prefetch_many(void **state)
{
	static const struct {
		uint32_t n, step;
	} shapes[] = { { 5000, 858993 }, { 50000, 3 } };

	(void)state;
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const uint32_t n = shapes[s].n, step = shapes[s].step;
		const uint32_t picks[] = { 0, 1, 2, n / 2, n - 2, n - 1 };
		const size_t npicks = sizeof(picks) / sizeof(picks[0]);
		struct taskfiles_rec *recs = calloc(n, sizeof(*recs));
		struct stream st = { (const char *)recs, n * sizeof(*recs), 0, 4096, 0 };
		struct stream again = { (const char *)recs, 0, 0, 64, 0 };
		struct procmap *pm = procmap_new(root);
		struct sock_set set = { 0 };

		assert_non_null(recs);
		/* Inode 1000 + step k on fd k of pid 100, k = 0..n-1, out of order. */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t k = (uint32_t)(((uint64_t)i * 7919U) % n);

			recs[i] = (struct taskfiles_rec){ .tgid = 100, .tid = 100,
							  .fd = (int32_t)k,
							  .inode = 1000U + step * k };
		}
		for (size_t i = 0; i <= npicks; i++) {
			struct sock_rec r;

			memset(&r, 0, sizeof(r));
			r.inode = i < npicks ? 1000U + step * picks[i] : 999;
			r.pid = -1;
			r.fd = -1;
			assert_int_equal(sock_set_push(&set, &r), 0);
		}
		assert_int_equal(procmap_prefetch_records(pm, read_stream, &st), 0);
		assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &again), 0);
		for (size_t i = 0; i < npicks; i++) {
			assert_int_equal(set.v[i].pid, 100);
			assert_int_equal(set.v[i].fd, (int)picks[i]);
			assert_int_equal(set.v[i].nowners, 1);
		}
		assert_int_equal(set.v[npicks].pid, 0);
		procmap_free(pm);
		sock_set_free(&set);
		free(recs);
	}
}

/*
 * Ties and spread together (the sort's cases): 40 sockets, each held on 6 fds by processes
 * 300, 100 and 200 in shuffled order, with inodes 2^24 apart and 1 apart (every byte of the
 * radix sort, and its insertion sort of an inode's owners): each socket lists exactly its six
 * owners, by pid then fd.
 */
static void test_procmap_prefetch_ties(void **state)
{
	static const uint32_t gaps[] = { 1, 1U << 24, 257 };
	static const int32_t pids[] = { 300, 100, 200 };

	(void)state;
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		enum { SOCKS = 40, EACH = 6 };
		struct taskfiles_rec recs[SOCKS * EACH];
		struct stream st = { (const char *)recs, sizeof(recs), 0, 4096, 0 };
		struct stream again = { (const char *)recs, 0, 0, 64, 0 };
		struct procmap *pm = procmap_new(root);
		struct sock_set set = { 0 };
		char want[256];

		for (uint32_t i = 0; i < SOCKS * EACH; i++) {
			uint32_t k = (i * 97U) % (SOCKS * EACH); /* shuffled: 97 is prime to 240 */
			uint32_t sock = k / EACH, owner = k % EACH;

			recs[i] = (struct taskfiles_rec){ .tgid = pids[owner % 3], .tid = pids[owner % 3],
							  .fd = (int32_t)(50 - owner),
							  .inode = 7U + gaps[g] * sock };
		}
		for (uint32_t i = 0; i < SOCKS; i++) {
			struct sock_rec r;

			memset(&r, 0, sizeof(r));
			r.inode = 7U + gaps[g] * i;
			r.pid = -1;
			r.fd = -1;
			assert_int_equal(sock_set_push(&set, &r), 0);
		}
		assert_int_equal(procmap_prefetch_records(pm, read_stream, &st), 0);
		assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &again), 0);
		/* owner o: pid pids[o % 3], fd 50 - o: 100 has 49 and 46, 200 48 and 45, 300 50, 47 */
		snprintf(want, sizeof(want), "100/46/java 100/49/java 200/45/nginx 200/48/nginx "
					     "300/47/java 300/50/java");
		for (uint32_t i = 0; i < SOCKS; i++) {
			assert_int_equal(set.v[i].nowners, EACH);
			assert_string_equal(owners_of(pm, &set.v[i]), want);
		}
		procmap_free(pm);
		sock_set_free(&set);
	}
}

/*
 * One socket held by 100,000 processes (a prefork server's listener, or a local user's fork
 * bomb of holders), walked highest pid first: an inode's owners were insertion-sorted, which
 * is quadratic in them (5 * 10^9 comparisons: 35 s of CPU under ASan, 3 s without, on the
 * thread the kill waits for). The sorts stay n log n (the walk's records and the owners
 * list, two heapsorts of 100,000 here: 6.0 * 10^6; 2 * 10^7 allowed, counted, not timed), and
 * the owners come out lowest pid first.
 */
static void test_procmap_prefetch_one_inode_many_holders(void **state)
{
	enum { HOLDERS = 100000 };
	struct taskfiles_rec *recs = calloc(HOLDERS, sizeof(*recs));
	struct stream st = { (const char *)recs, HOLDERS * sizeof(*recs), 0, 1 << 16, 0 };
	struct stream again = { (const char *)recs, 0, 0, 64, 0 };
	struct procmap *pm = procmap_new(root);
	struct sock_set set = { 0 };
	struct sock_rec r;
	size_t before;

	(void)state;
	assert_non_null(recs);
	for (int32_t i = 0; i < HOLDERS; i++)
		recs[i] = (struct taskfiles_rec){ .tgid = 1000000 - i, .tid = 1000000 - i, .fd = 3,
						  .inode = 4242 };
	memset(&r, 0, sizeof(r));
	r.inode = 4242;
	r.pid = -1;
	r.fd = -1;
	assert_int_equal(sock_set_push(&set, &r), 0);
	before = procmap_test_sort_comparisons();
	assert_int_equal(procmap_prefetch_records(pm, read_stream, &st), 0);
	assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &again), 0);
	assert_true(procmap_test_sort_comparisons() - before < 20000000);
	assert_int_equal(set.v[0].pid, 1000000 - HOLDERS + 1);
	assert_int_equal(set.v[0].fd, 3);
	procmap_free(pm);
	sock_set_free(&set);
	free(recs);
}

/*
 * A socket opened after the prefetch's walk passed its process (1002: not in the first
 * stream) is found by the second look; the owners found the first time are not counted twice.
 */
static void test_procmap_prefetch_second_look(void **state)
{
	const struct taskfiles_rec early[] = { bpf_recs[0], bpf_recs[2], bpf_recs[3], bpf_recs[4] };
	struct stream st = { (const char *)early, sizeof(early), 0, 64, 0 };
	struct stream again = { (const char *)bpf_recs, sizeof(bpf_recs), 0, 64, 0 };
	struct procmap *pm = procmap_new(root);
	struct sock_set set;

	(void)state;
	fill(&set);
	assert_int_equal(procmap_prefetch_records(pm, read_stream, &st), 0);
	assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &again), 0);
	assert_string_equal(owners_of(pm, &set.v[1]), "200/5/nginx");
	assert_int_equal(set.v[1].nowners, 1);
	assert_int_equal(set.v[0].nowners, 3);
	assert_string_equal(owners_of(pm, &set.v[0]), "100/3/java 300/7/java 300/9/java");
	assert_int_equal(eval(pm, "comm nginx", &set.v[1]), SEL_YES);
	procmap_free(pm);
	sock_set_free(&set);
}

/*
 * Every socket with a file owned in the prefetch: the second walk is not read at all (its
 * failure would show). A failed prefetch leaves every owner unknown, never "none".
 */
static void test_procmap_prefetch_reads_once(void **state)
{
	struct stream st = { (const char *)bpf_recs, sizeof(bpf_recs), 0, 64, 0 };
	struct stream never = { (const char *)bpf_recs, sizeof(bpf_recs), 0, 64, -EIO };
	struct stream failing = { (const char *)bpf_recs, 2 * sizeof(bpf_recs[0]), 0, 64, -EIO };
	struct procmap *pm = procmap_new(root);
	struct sock_set set;

	(void)state;
	fill(&set);
	set.v[2].inode = 0;	/* 1003 gone: 1001 and 1002 both have owners */
	assert_int_equal(procmap_prefetch_records(pm, read_stream, &st), 0);
	assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &never), 0);
	assert_int_equal(never.off, 0);
	assert_string_equal(owners_of(pm, &set.v[1]), "200/5/nginx");
	procmap_free(pm);
	sock_set_free(&set);

	pm = procmap_new(root);
	fill(&set);
	never.off = 0;
	assert_int_equal(procmap_prefetch_records(pm, read_stream, &failing), 0);
	assert_int_equal(procmap_resolve_records(pm, &set, read_stream, &never), -EIO);
	assert_string_equal(procmap_unknown_reason(pm), "unreadable");
	assert_int_equal(eval(pm, "comm nginx", &set.v[2]), SEL_UNKNOWN);
	procmap_free(pm);
	sock_set_free(&set);

	/* Freed unresolved: the thread is joined, its records freed (ASan would say). */
	pm = procmap_new(root);
	st.off = 0;
	assert_int_equal(procmap_prefetch_records(pm, read_stream, &st), 0);
	procmap_free(pm);
}

/* A fixture root is never read through BPF, allowed or not: its processes are not the kernel's. */
static void test_procmap_fixture_is_proc(void **state)
{
	struct procmap *pm = procmap_new(root);
	struct sock_set set;

	(void)state;
	fill(&set);
	procmap_allow_bpf(pm, true);
	assert_int_equal(procmap_resolve(pm, &set, NULL, -1), 0);
	assert_string_equal(procmap_source(pm), "proc");
	assert_string_equal(owners_of(pm, &set.v[0]), "100/3/java 300/7/java");
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
		cmocka_unit_test(test_procmap_prefetch_load_fails_to_proc),
		cmocka_unit_test(test_procmap_named_pids_only),
		cmocka_unit_test(test_procmap_workers),
		cmocka_unit_test(test_procmap_missing_root),
		cmocka_unit_test(test_procmap_owner_info),
		cmocka_unit_test(test_procmap_unreadable_is_unknown),
		cmocka_unit_test(test_procmap_named_unreadable),
		cmocka_unit_test(test_procmap_hidepid),
		cmocka_unit_test(test_procmap_parse_hidepid),
		cmocka_unit_test(test_procmap_parse_link),
		cmocka_unit_test(test_procmap_bpf_records),
		cmocka_unit_test(test_procmap_bpf_records_broken),
		cmocka_unit_test(test_procmap_prefetch_records),
		cmocka_unit_test(test_procmap_prefetch_many),
		cmocka_unit_test(test_procmap_prefetch_ties),
		cmocka_unit_test(test_procmap_prefetch_one_inode_many_holders),
		cmocka_unit_test(test_procmap_prefetch_second_look),
		cmocka_unit_test(test_procmap_prefetch_reads_once),
		cmocka_unit_test(test_procmap_fixture_is_proc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
