// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Audit records: exact JSON lines with a fixed clock; whole lines only, whatever writes at the
 * same time, a torn last line or a full file; signals held and reported; the syslog check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "audit_pipe.h"
#include "fixtures.h"

static struct timespec fixed_clock(void)
{
	return (struct timespec){ 1795000000, 123456789 };
}

/* The socket's one owner: pid 42 ("leaky") on fd 9; none unknown. */
static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	(void)arg;
	if (i || rec->pid != 42)
		return false;
	*out = (struct sel_owner_info){ 42, rec->fd, "leaky", NULL, 1 };
	return true;
}

static const struct sel_owner_ctx owners = { owner_of, NULL, NULL, NULL, NULL, NULL };

/* A fresh private directory under /tmp for one test; its log path in path. */
static void tmp_log(char *dir, char *path, size_t size)
{
	strcpy(dir, "/tmp/sockreap-audit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, size, "%s/audit.log", dir);
}

/* The whole file, NUL-terminated; the caller frees it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void fixed_ids(struct audit *a)
{
	a->now = fixed_clock;
	strcpy(a->run_id, "0123456789abcdef0123456789abcdef");
	strcpy(a->host, "db1");
}

static void test_audit_time_format(void **state)
{
	char buf[64];

	(void)state;
	audit_format_time(buf, sizeof(buf), (struct timespec){ 0, 5000000 });
	assert_string_equal(buf, "1970-01-01T00:00:00.005Z");
	audit_format_time(buf, sizeof(buf), fixed_clock());
	assert_string_equal(buf, "2026-11-18T11:06:40.123Z");
}

static void test_audit_records(void **state)
{
	char dir[64], path[PATH_MAX], why[256];
	struct audit a;
	struct audit_who who = { 0, 0, 1000, 7, "alice", "/dev/pts/3" };
	char *argv[] = { "sockreap", "--state", "close-wait", "--yes" };
	struct audit_run run = { 4, argv, "state close-wait", "destroy", 2, &who, NULL };
	struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1", 40000, SS_CLOSE_WAIT, 0xab);
	struct sock_rec r2 = r;
	struct plan_counts c = { .total = 2 };

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	fixed_ids(&a);
	r.pid = 42;
	r.fd = 9;
	r.nowners = 1;
	r.inode = 555;
	r2.id.idiag_cookie[0] = 0xac;
	audit_start(&a, &run);
	audit_intent(&a, &r, &owners);
	audit_intent(&a, &r2, &owners);
	assert_int_equal(audit_commit(&a), 0);
	r.outcome = OUT_KILLED;
	r.engine = SOCK_ENGINE_DESTROY;
	r2.outcome = OUT_FAILED;
	r2.err = EPERM;
	r2.engine = SOCK_ENGINE_RST;
	r2.flags |= SOCK_F_PEER_RESET;
	/* Consecutive sockets with the same outcome share a record. */
	struct sock_rec r3 = r;

	r3.id.idiag_cookie[0] = 0xad;
	audit_result(&a, &r);
	audit_result(&a, &r3);
	audit_result(&a, &r2);
	c.n[OUT_KILLED] = 1;
	c.n[OUT_FAILED] = 1;
	audit_summary(&a, &c, 0.25);
	assert_int_equal(audit_commit(&a), 0);
	assert_int_equal(a.results_missing, 0);
	audit_close(&a);

	const char *hdr = "{\"time\":\"2026-11-18T11:06:40.123Z\",";
	const char *run_id = "\"run\":\"0123456789abcdef0123456789abcdef\"";
	const char *sock = "{\"cookie\":\"ab\",\"protocol\":\"tcp\",\"family\":\"inet\","
			   "\"state\":\"close-wait\",\"local\":{\"addr\":\"127.0.0.1\",\"port\":7000},"
			   "\"peer\":{\"addr\":\"127.0.0.1\",\"port\":40000},\"inode\":555,\"uid\":0,"
			   "\"cgroup_id\":0,\"mark\":null,"
			   "\"recv_q\":0,\"send_q\":0,\"idle_ms\":null,"
			   "\"owners\":[{\"pid\":42,\"comm\":\"leaky\",\"fd\":9}],\"owner_count\":1,"
			   "\"owners_unknown\":null}";
	const char *sock2 = "{\"cookie\":\"ac\",\"protocol\":\"tcp\",\"family\":\"inet\","
			    "\"state\":\"close-wait\",\"local\":{\"addr\":\"127.0.0.1\",\"port\":7000},"
			    "\"peer\":{\"addr\":\"127.0.0.1\",\"port\":40000},\"inode\":0,\"uid\":0,"
			    "\"cgroup_id\":0,\"mark\":null,"
			    "\"recv_q\":0,\"send_q\":0,\"idle_ms\":null,"
			    "\"owners\":null,\"owner_count\":null,\"owners_unknown\":\"not-looked-up\"}";
	char want[8192];
	char *got = slurp(path);

	snprintf(want, sizeof(want),
		 "%s\"event\":\"start\",%s,\"host\":\"db1\",\"who\":{\"uid\":0,\"euid\":0,"
		 "\"loginuid\":1000,\"sessionid\":7,\"sudo_user\":\"alice\",\"tty\":\"/dev/pts/3\"},"
		 "\"argv\":[\"sockreap\",\"--state\",\"close-wait\",\"--yes\"],"
		 "\"selector\":\"state close-wait\",\"engine\":\"destroy\",\"planned\":2}\n"
		 "%s\"event\":\"intent\",%s,\"sockets\":[%s,%s]}\n"
		 "%s\"event\":\"result\",%s,\"outcome\":\"killed\",\"engine\":\"destroy\","
		 "\"cookies\":[\"ab\",\"ad\"]}\n"
		 "%s\"event\":\"result\",%s,\"outcome\":\"failed\",\"error\":\"EPERM\","
		 "\"engine\":\"rst\",\"peer_reset\":true,\"peer_end\":\"reset-sent\","
		 "\"cookies\":[\"ac\"]}\n"
		 "%s\"event\":\"summary\",%s,\"host\":\"db1\",\"selected\":2,\"killed\":1,"
		 "\"gone\":0,\"changed\":0,\"unsupported\":0,\"denied\":0,\"failed\":1,\"skipped\":0,"
		 "\"fds_closed\":null,\"exit_status\":3,\"elapsed_ms\":0.250}\n",
		 hdr, run_id, hdr, run_id, sock, sock2, hdr, run_id, hdr, run_id, hdr, run_id);
	assert_string_equal(got, want);
	free(got);
	fx_rmtree(dir);
}

/* --close-fd: pid 42's descriptor was closed. */
static const char *fd_closed_of(void *arg, const struct sock_rec *rec, int32_t pid, int32_t fd,
				const char **why)
{
	(void)arg;
	(void)rec;
	(void)fd;
	*why = NULL;
	return pid == 42 ? "closed" : "not-tried";
}

/*
 * Once --close-fd ran, a socket with owners has a result record of its own saying per owner
 * whether its descriptor was closed; one without owners shares records as before.
 */
static void test_audit_result_fds(void **state)
{
	char dir[64], path[PATH_MAX], why[256], want[2048];
	struct audit a;
	struct sel_owner_ctx fds = owners;
	struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1", 40000, SS_CLOSE_WAIT, 0xab);
	struct sock_rec r2 = r, r3 = r;

	(void)state;
	fds.fd_result = fd_closed_of;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	fixed_ids(&a);
	r.pid = 42;
	r.fd = 9;
	r.nowners = 1;
	r.outcome = OUT_KILLED;
	r.engine = SOCK_ENGINE_DESTROY;
	r2 = r;
	r2.id.idiag_cookie[0] = 0xac;
	r3.id.idiag_cookie[0] = 0xad;
	r3.outcome = OUT_GONE;
	audit_result_fds(&a, &r, &fds);
	audit_result_fds(&a, &r2, &fds);
	audit_result_fds(&a, &r3, &fds);
	assert_int_equal(audit_commit(&a), 0);
	assert_int_equal(a.results_missing, 0);
	audit_close(&a);

	const char *hdr = "{\"time\":\"2026-11-18T11:06:40.123Z\",\"event\":\"result\","
			  "\"run\":\"0123456789abcdef0123456789abcdef\",";
	char *got = slurp(path);

	snprintf(want, sizeof(want),
		 "%s\"outcome\":\"killed\",\"engine\":\"destroy\",\"cookies\":[\"ab\"],"
		 "\"owners\":[{\"pid\":42,\"fd\":9,\"fd_closed\":true,\"fd_result\":\"closed\"}]}\n"
		 "%s\"outcome\":\"killed\",\"engine\":\"destroy\",\"cookies\":[\"ac\"],"
		 "\"owners\":[{\"pid\":42,\"fd\":9,\"fd_closed\":true,\"fd_result\":\"closed\"}]}\n"
		 "%s\"outcome\":\"gone\",\"engine\":null,\"cookies\":[\"ad\"]}\n",
		 hdr, hdr, hdr);
	assert_string_equal(got, want);
	free(got);
	fx_rmtree(dir);
}

static void test_audit_unset_ids_are_null(void **state)
{
	char dir[64], path[PATH_MAX], why[256];
	struct audit a;
	struct audit_who who = { 5, 0, -1, -1, NULL, NULL };
	char *argv[] = { "sockreap" };
	struct audit_run run = { 1, argv, "", "destroy", 0, &who, NULL };

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	audit_start(&a, &run);
	assert_int_equal(audit_commit(&a), 0);
	audit_close(&a);
	char *got = slurp(path);

	assert_non_null(strstr(got, "\"who\":{\"uid\":5,\"euid\":0,\"loginuid\":null,"
				    "\"sessionid\":null,\"sudo_user\":null,\"tty\":null}"));
	assert_int_equal(strlen(a.run_id), 32);
	free(got);
	fx_rmtree(dir);
}

/* --netns: the start record names the namespace the run acts in; no name, no pid: null. */
static void test_audit_start_names_the_netns(void **state)
{
	char dir[64], path[PATH_MAX], why[256];
	struct audit a;
	struct audit_who who = { 0, 0, -1, -1, NULL, NULL };
	char *argv[] = { "sockreap" };
	struct netns_info blue = { .inode = 4026532174ULL, .name = "blue", .pid = 321 };
	struct netns_info anon = { .inode = 4026532999ULL, .pid = -1 };
	struct audit_run run = { 1, argv, "", "destroy", 0, &who, &blue };

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	audit_start(&a, &run);
	run.netns = &anon;
	audit_start(&a, &run);
	assert_int_equal(audit_commit(&a), 0);
	audit_close(&a);
	char *got = slurp(path);

	assert_non_null(strstr(got, "\"planned\":0,\"netns\":{\"inode\":4026532174,"
				    "\"name\":\"blue\",\"pid\":321}}\n"));
	assert_non_null(strstr(got, "\"planned\":0,\"netns\":{\"inode\":4026532999,"
				    "\"name\":null,\"pid\":null}}\n"));
	free(got);
	fx_rmtree(dir);
}

/* Two namespaces: "blue" with a pid, then one without a name or pid; a third matched none. */
static bool refused_ns_at(void *arg, size_t i, struct netns_info *ns, size_t *matched)
{
	static const struct {
		uint64_t inode;
		const char *name;
		int32_t pid;
		size_t matched;
	} v[] = { { 4026532174ULL, "blue", 321, 3 }, { 4026532500ULL, "", -1, 0 },
		  { 4026532999ULL, "", -1, 4 } };

	(void)arg;
	if (i >= sizeof(v) / sizeof(v[0]))
		return false;
	*ns = (struct netns_info){ .inode = v[i].inode, .pid = v[i].pid };
	snprintf(ns->name, sizeof(ns->name), "%s", v[i].name);
	*matched = v[i].matched;
	return true;
}

/*
 * The breaker's record: the same bytes as ever for a watcher without namespaces; with them,
 * "netns" names each namespace a refused socket was in as the intents do, and how many matched
 * there (one that matched none is left out).
 */
static void test_audit_refused_names_the_netns(void **state)
{
	char dir[64], path[PATH_MAX], why[256];
	struct audit a;
	struct audit_who who = { 0, 0, -1, -1, NULL, NULL };
	char *argv[] = { "sockreap", "watch" };
	struct audit_run run = { 2, argv, "state close-wait", "destroy", 7, &who, NULL };
	const struct audit_ns_iter it = { refused_ns_at, NULL };
	const char *head = "{\"time\":\"2026-11-18T11:06:40.123Z\",\"event\":\"refused\","
			   "\"run\":\"0123456789abcdef0123456789abcdef\",\"rule\":\"flood\","
			   "\"host\":\"db1\",\"selector\":\"state close-wait\","
			   "\"reason\":\"max-per-cycle\",\"matched\":7,\"limit\":5";
	char want[1024];

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	fixed_ids(&a);
	a.rule = "flood";
	audit_refused(&a, &run, 5);
	audit_refused_ns(&a, &run, 5, &it);
	assert_int_equal(audit_commit(&a), 0);
	audit_close(&a);
	char *got = slurp(path);

	snprintf(want, sizeof(want), "%s}\n%s,\"netns\":[{\"inode\":4026532174,\"name\":\"blue\","
		 "\"pid\":321,\"matched\":3},{\"inode\":4026532999,\"name\":null,\"pid\":null,"
		 "\"matched\":4}]}\n", head, head);
	assert_string_equal(got, want);
	free(got);
	fx_rmtree(dir);
}

static void test_audit_open_creates_private_file(void **state)
{
	char dir[64], path[PATH_MAX], bad[PATH_MAX + 32], why[PATH_MAX + 128];
	struct audit a;
	struct stat st;

	(void)state;
	tmp_log(dir, path, sizeof(path));
	snprintf(path, sizeof(path), "%s/sub/audit.log", dir);
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	assert_int_equal(stat(bad, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	audit_close(&a);
	/* A path under a regular file cannot be written: the caller must refuse to kill. */
	snprintf(bad, sizeof(bad), "%s/audit.log/x", path);
	assert_int_equal(audit_open(&a, bad, 0, why, sizeof(why)), -ENOTDIR);
	assert_non_null(strstr(why, "audit.log: not a directory"));
	assert_int_equal(a.fd, -1);
	/* Without a file every call is a no-op that succeeds. */
	audit_intent(&a, &(struct sock_rec){ 0 }, NULL);
	assert_int_equal(audit_commit(&a), 0);
	audit_close(&a);
	fx_rmtree(dir);
}

static void write_run(const char *path, size_t n, uint64_t base)
{
	struct audit a;
	char why[256];
	struct audit_who who = { 0, 0, -1, -1, NULL, NULL };
	char *argv[] = { "sockreap" };
	struct audit_run run = { 1, argv, "", "destroy", n, &who, NULL };
	struct plan_counts c = { .total = n };

	if (audit_open(&a, path, 0, why, sizeof(why)) < 0)
		_exit(10);
	audit_start(&a, &run);
	for (size_t i = 0; i < n; i++) {
		struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1",
					   (uint16_t)(1000 + i), SS_CLOSE_WAIT, base + i);

		audit_intent(&a, &r, NULL);
	}
	if (audit_commit(&a) < 0)
		_exit(11);
	for (size_t i = 0; i < n; i++) {
		struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1",
					   (uint16_t)(1000 + i), SS_CLOSE_WAIT, base + i);

		r.outcome = OUT_KILLED;
		audit_result(&a, &r);
	}
	audit_summary(&a, &c, 1);
	if (audit_commit(&a) < 0)
		_exit(12);
	audit_close(&a);
}

/* Counts lines; fails on any that is not one whole record. */
static size_t whole_lines(const char *buf, size_t *sockets)
{
	size_t lines = 0;

	*sockets = 0;
	for (const char *p = buf; *p;) {
		const char *nl = strchr(p, '\n');

		assert_non_null(nl);
		assert_true(!strncmp(p, "{\"time\":\"", 9));
		assert_true(nl[-1] == '}');
		/* No record starts inside another. */
		const char *again = strstr(p + 1, "{\"time\":");

		assert_true(!again || again > nl);
		/* An intent's socket says "cookie":; a result lists "cookies":["..","..",...]. */
		for (const char *q = strstr(p, "\"cookie\":"); q && q < nl; q = strstr(q + 1, "\"cookie\":"))
			(*sockets)++;
		const char *list = strstr(p, "\"cookies\":[");

		if (list && list < nl)
			for (const char *q = list + 11; q < nl && *q != ']'; q++)
				*sockets += *q == ',' || q == list + 11;
		lines++;
		p = nl + 1;
	}
	return lines;
}

/*
 * Four writers at once, 3,000 sockets each: every line whole (a 4 KiB stdio buffer split
 * 3-9% of them), every socket there twice (intent, result).
 */
static void test_audit_concurrent_writers_whole_lines(void **state)
{
	char dir[64], path[PATH_MAX];
	pid_t pids[4];
	size_t sockets;

	(void)state;
	tmp_log(dir, path, sizeof(path));
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			write_run(path, 3000, (uint64_t)(i + 1) << 32);
			_exit(0);
		}
	}
	for (int i = 0; i < 4; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	char *got = slurp(path);
	size_t lines = whole_lines(got, &sockets);

	assert_int_equal(sockets, 4 * 3000 * 2);
	assert_true(lines >= 4 * 4);
	free(got);
	fx_rmtree(dir);
}

/* A run killed mid-write left a line without its newline: the next run starts on a new line. */
static void test_audit_torn_line_is_ended(void **state)
{
	char dir[64], path[PATH_MAX], why[256];
	struct audit a;
	struct audit_who who = { 0, 0, -1, -1, NULL, NULL };
	char *argv[] = { "sockreap" };
	struct audit_run run = { 1, argv, "", "destroy", 0, &who, NULL };
	int fd;

	(void)state;
	tmp_log(dir, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"torn\":", 8), 8);
	close(fd);
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	audit_start(&a, &run);
	assert_int_equal(audit_commit(&a), 0);
	audit_start(&a, &run);
	assert_int_equal(audit_commit(&a), 0);
	audit_close(&a);
	char *got = slurp(path);

	assert_true(!strncmp(got, "{\"torn\":\n{\"time\":", 17));
	/* Said once: a file that ends in a newline gets none. */
	assert_null(strstr(got, "\n\n"));
	free(got);
	fx_rmtree(dir);
}

/*
 * A file that fills up part-way through the results (RLIMIT_FSIZE stands in for a full disk:
 * EFBIG after a short write, as ENOSPC): the records that did not fit are counted, and the
 * file keeps whole lines only.
 */
static void test_audit_full_file_counts_missing(void **state)
{
	char dir[64], path[PATH_MAX];
	int pfd[2];
	pid_t pid;
	struct {
		int commit;
		size_t missing;
		bool summary_missing;
	} rep;

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 100000, 100000 };
		struct audit a;
		char why[256];
		/* Every socket killed: the lost results alone make the run exit 3. */
		struct plan_counts c = { .total = 20000, .n[OUT_KILLED] = 20000 };

		signal(SIGXFSZ, SIG_IGN);
		if (audit_open(&a, path, 0, why, sizeof(why)) < 0 || setrlimit(RLIMIT_FSIZE, &rl))
			_exit(10);
		for (size_t i = 0; i < 20000; i++) {
			struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1",
						   (uint16_t)(1000 + i), SS_CLOSE_WAIT, 0x100000 + i);

			r.outcome = OUT_KILLED;
			r.engine = SOCK_ENGINE_DESTROY;
			audit_result(&a, &r);
		}
		audit_summary(&a, &c, 1);
		rep.commit = audit_commit(&a);
		rep.missing = a.results_missing;
		rep.summary_missing = a.summary_missing;
		if (write(pfd[1], &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
			_exit(11);
		audit_close(&a);
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	assert_int_equal(rep.commit, -EFBIG);
	/* The summary is small: it fits where the ~60 KiB record that failed did not. */
	assert_false(rep.summary_missing);

	char *got = slurp(path);
	size_t sockets, lines = whole_lines(got, &sockets);

	assert_true(lines > 0);
	assert_true(strlen(got) <= 100000);
	assert_true(rep.missing > 0);
	assert_int_equal(sockets + rep.missing, 20000);
	assert_non_null(strstr(got, "\"event\":\"summary\""));
	/* The summary says the status the run exits with: 3, results lost, not 0. */
	assert_non_null(strstr(got, "\"exit_status\":3,"));
	free(got);
	fx_rmtree(dir);
}

/*
 * A file-size limit set by the caller (prlimit --fsize) sends SIGXFSZ, which kills by default:
 * mid-record, without a summary or a word. The audit file must see EFBIG instead, as a full
 * disk: the child here keeps the default disposition and must live to report it.
 */
static void test_audit_file_size_limit_is_not_fatal(void **state)
{
	char dir[64], path[PATH_MAX];
	int pfd[2], st;
	pid_t pid;
	struct {
		int commit;
		size_t missing;
	} rep = { 0, 0 };

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		struct audit a;
		char why[256];
		struct plan_counts c = { .total = 500 };

		signal(SIGXFSZ, SIG_DFL);
		if (audit_open(&a, path, 0, why, sizeof(why)) < 0 || setrlimit(RLIMIT_FSIZE, &rl))
			_exit(10);
		for (size_t i = 0; i < 500; i++) {
			struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1",
						   (uint16_t)(1000 + i), SS_CLOSE_WAIT, 0x100000 + i);

			r.outcome = i % 2 ? OUT_KILLED : OUT_GONE;	/* many small records */
			r.engine = SOCK_ENGINE_DESTROY;
			audit_result(&a, &r);
		}
		audit_summary(&a, &c, 1);
		rep.commit = audit_commit(&a);
		rep.missing = a.results_missing;
		if (write(pfd[1], &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
			_exit(11);
		audit_close(&a);
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	/* Before the fix: killed by SIGXFSZ (status 153 from a shell). */
	assert_false(WIFSIGNALED(st));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(read(pfd[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	close(pfd[0]);
	assert_int_equal(rep.commit, -EFBIG);
	assert_true(rep.missing > 0);

	char *got = slurp(path);
	size_t sockets, lines = whole_lines(got, &sockets);

	assert_true(lines > 0);
	assert_int_equal(sockets + rep.missing, 500);
	free(got);
	fx_rmtree(dir);
}

/*
 * The intents written while the engine acts (audit_pipe): a file that fills up after the
 * first chunk. The engine's gate never opens past the intents that are on disk, closes there,
 * and that many are in the file, whole; without a pipeline the same file refuses the run
 * before anything may be acted on.
 */
static void test_audit_pipe_gate_follows_the_disk(void **state)
{
	enum { N = 20000 };
	char dir[64], path[PATH_MAX];

	(void)state;
	for (int pipelined = 1; pipelined >= 0; pipelined--) {
		int pfd[2];
		pid_t pid;
		struct {
			int begin, end;
			size_t done, open;
		} rep = { 0, 0, 0, 0 };

		tmp_log(dir, path, sizeof(path));
		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* The first chunk's ~0.6 MB fits, the second's ~1.2 MB does not. */
			struct rlimit rl = { 1200000, 1200000 };
			struct audit a;
			struct audit_pipe p;
			struct sock_set set = { 0 };
			struct audit_who who = { 0, 0, -1, -1, NULL, NULL };
			char *argv[] = { "sockreap" }, why[256];
			struct audit_run run = { 1, argv, "", "destroy", N, &who, NULL };

			signal(SIGXFSZ, SIG_IGN);
			if (audit_open(&a, path, 0, why, sizeof(why)) < 0 ||
			    setrlimit(RLIMIT_FSIZE, &rl))
				_exit(10);
			for (size_t i = 0; i < N; i++) {
				struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1",
							   (uint16_t)(1000 + i), SS_CLOSE_WAIT, i);

				r.pid = 42;
				r.fd = 9;
				if (sock_set_push(&set, &r) < 0)
					_exit(12);
			}
			audit_start(&a, &run);
			rep.begin = audit_pipe_begin(&p, &a, &set, &owners, NULL, pipelined);
			if (rep.begin == 0) {
				struct engine_gate *g = audit_pipe_gate(&p);

				rep.open = g ? engine_gate_wait(g, N) : N;
				rep.end = audit_pipe_end(&p);
				rep.done = p.done;
			}
			if (write(pfd[1], &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
				_exit(11);
			audit_close(&a);
			sock_set_free(&set);
			_exit(0);
		}
		close(pfd[1]);
		assert_int_equal(read(pfd[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
		close(pfd[0]);
		waitpid(pid, NULL, 0);

		char *got = slurp(path);
		size_t sockets, lines = whole_lines(got, &sockets);

		assert_true(lines > 0);
		if (!pipelined) {
			/* Every intent before any act: none may be acted on. */
			assert_int_equal(rep.begin, -EFBIG);
		} else {
			assert_int_equal(rep.begin, 0);
			assert_int_equal(rep.end, -EFBIG);
			assert_int_equal(rep.open, rep.done);
			assert_true(rep.done >= AUDIT_PIPE_FIRST);
			assert_true(rep.done < N);
			/* What the gate let through is in the file, and nothing past a chunk. */
			assert_true(sockets >= rep.done);
			assert_true(sockets < N);
			char key[64];

			snprintf(key, sizeof(key), "\"cookie\":\"%zx\"", rep.done - 1);
			assert_non_null(strstr(got, key));
		}
		free(got);
		fx_rmtree(dir);
	}
}

/* /dev/full: nothing fits; intents fail (no kill), every result is missing, and why. */
static void test_audit_no_space(void **state)
{
	struct audit a;
	int fd = open("/dev/full", O_RDWR | O_CLOEXEC);
	struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1", 1, SS_CLOSE_WAIT, 1);
	struct audit_who who = { 0, 0, -1, -1, NULL, NULL };
	char *argv[] = { "sockreap" };
	struct audit_run run = { 1, argv, "", "destroy", 3, &who, NULL };
	struct plan_counts c = { .total = 3 };

	(void)state;
	if (fd < 0)
		skip();
	audit_init(&a);
	audit_open_fd(&a, fd);
	audit_start(&a, &run);
	for (int i = 0; i < 3; i++)
		audit_intent(&a, &r, NULL);
	assert_int_equal(audit_commit(&a), -ENOSPC);
	assert_int_equal(a.results_missing, 0);
	for (int i = 0; i < 3; i++)
		audit_result(&a, &r);
	audit_summary(&a, &c, 1);
	assert_int_equal(audit_commit(&a), -ENOSPC);
	assert_int_equal(a.results_missing, 3);
	assert_true(a.summary_missing);
	audit_close(&a);
}

static void test_audit_signals_held_and_reported(void **state)
{
	struct audit_signals s = { .held = false };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	(void)state;
	assert_int_equal(audit_signals_hold(&s), 0);
	/* Held: raising it does not end the test binary. */
	raise(SIGTERM);
	raise(SIGHUP);
	assert_int_equal(audit_signals_release(&s), SIGTERM);
	/* Consumed: nothing is pending once released. */
	sigset_t pending;

	sigpending(&pending);
	assert_false(sigismember(&pending, SIGTERM));
	assert_false(sigismember(&pending, SIGHUP));
	assert_int_equal(audit_signals_release(&s), 0);

	/* An ignored signal (a background job's SIGINT) stays ignored. */
	sigaction(SIGINT, &ign, &old);
	assert_int_equal(audit_signals_hold(&s), 0);
	raise(SIGINT);
	assert_int_equal(audit_signals_release(&s), 0);
	sigaction(SIGINT, &old, NULL);
	assert_string_equal(audit_signal_name(SIGTERM), "SIGTERM");
}

/*
 * A signal held during the kill makes the run exit 128 + signo once every record is written:
 * the summary, written while it is still held, says so; an ignored one changes nothing.
 */
static void test_audit_summary_says_held_signal(void **state)
{
	char dir[64], path[PATH_MAX], why[256];
	struct audit_signals s = { .held = false };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct plan_counts c = { .total = 1, .n[OUT_KILLED] = 1 };
	struct audit a;
	char *got;

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	sigaction(SIGINT, &ign, &old);
	assert_int_equal(audit_signals_hold(&s), 0);
	raise(SIGINT);
	audit_summary(&a, &c, 1);
	assert_int_equal(audit_commit(&a), 0);
	got = slurp(path);
	assert_non_null(strstr(got, "\"exit_status\":0,"));
	free(got);
	raise(SIGTERM);
	audit_summary(&a, &c, 1);
	assert_int_equal(audit_commit(&a), 0);
	/* Only looked at: the release still finds it and the run exits 143. */
	assert_int_equal(audit_signals_release(&s), SIGTERM);
	sigaction(SIGINT, &old, NULL);
	audit_close(&a);
	got = slurp(path);
	assert_non_null(strstr(got, "\"exit_status\":143,"));
	free(got);
	fx_rmtree(dir);
}

static void test_audit_syslog_reachable(void **state)
{
	char dir[64], path[PATH_MAX];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct audit a;
	int fd;

	(void)state;
	tmp_log(dir, path, sizeof(path));
	audit_init(&a);
	assert_string_equal(a.syslog_path, "/dev/log");
	snprintf(path, sizeof(path), "%s/log", dir);
	a.syslog_path = path;
	assert_false(audit_syslog_reachable(&a));
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_true(audit_syslog_reachable(&a));
	close(fd);
	/* A socket file nobody listens on any more. */
	assert_false(audit_syslog_reachable(&a));
	fx_rmtree(dir);
}

/*
 * An --apply run: every record, whatever its event, names the plan's digest, its file's owner
 * (the kernel's word) and its author (what the plan claims).
 */
static void test_audit_apply_records_carry_the_plan(void **state)
{
	char dir[64], path[PATH_MAX], why[256];
	struct audit a;
	struct audit_who who = { 0, 0, 1000, 7, "bob", NULL };
	struct audit_who author = { 0, 0, 1001, 9, "alice", "/dev/pts/1" };
	struct audit_plan plan = { "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				   &author, 4343 };
	char *argv[] = { "sockreap", "--apply", "p.json" };
	struct audit_run run = { 3, argv, "state close-wait", "destroy", 1, &who, NULL };
	struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1", 40000, SS_CLOSE_WAIT, 0xab);
	struct plan_counts c = { .total = 1 };

	(void)state;
	tmp_log(dir, path, sizeof(path));
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	fixed_ids(&a);
	a.plan = &plan;
	audit_start(&a, &run);
	audit_intent(&a, &r, NULL);
	assert_int_equal(audit_commit(&a), 0);
	r.outcome = OUT_KILLED;
	audit_result(&a, &r);
	c.n[OUT_KILLED] = 1;
	audit_summary(&a, &c, 0.25);
	assert_int_equal(audit_commit(&a), 0);
	audit_close(&a);

	char *log = slurp(path), *line = log;
	const char *want = ",\"plan\":{\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
			   "\"file_uid\":4343,\"author\":{\"uid\":0,\"euid\":0,\"loginuid\":1001,\"sessionid\":9,"
			   "\"sudo_user\":\"alice\",\"tty\":\"/dev/pts/1\"}}";
	int lines = 0;

	for (char *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		assert_non_null(strstr(line, want));
		lines++;
	}
	assert_int_equal(lines, 4); /* start, intent, result, summary */
	free(log);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_time_format),
		cmocka_unit_test(test_audit_records),
		cmocka_unit_test(test_audit_apply_records_carry_the_plan),
		cmocka_unit_test(test_audit_result_fds),
		cmocka_unit_test(test_audit_unset_ids_are_null),
		cmocka_unit_test(test_audit_start_names_the_netns),
		cmocka_unit_test(test_audit_refused_names_the_netns),
		cmocka_unit_test(test_audit_open_creates_private_file),
		cmocka_unit_test(test_audit_concurrent_writers_whole_lines),
		cmocka_unit_test(test_audit_torn_line_is_ended),
		cmocka_unit_test(test_audit_full_file_counts_missing),
		cmocka_unit_test(test_audit_file_size_limit_is_not_fatal),
		cmocka_unit_test(test_audit_no_space),
		cmocka_unit_test(test_audit_pipe_gate_follows_the_disk),
		cmocka_unit_test(test_audit_signals_held_and_reported),
		cmocka_unit_test(test_audit_summary_says_held_signal),
		cmocka_unit_test(test_audit_syslog_reachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
