/* SPDX-License-Identifier: GPL-2.0-or-later */
/* closefd's pure parts: the [vdso] line, status fields, the syscall scan, the register setup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "closefd.h"

static const char maps[] =
	"55d4c8a00000-55d4c8a02000 r--p 00000000 08:01 1234   /usr/bin/cat\n"
	"7ffd1c5f0000-7ffd1c611000 rw-p 00000000 00:00 0      [stack]\n"
	"7ffd1c6ea000-7ffd1c6ee000 r--p 00000000 00:00 0      [vvar]\n"
	"7ffd1c6ee000-7ffd1c6f0000 r-xp 00000000 00:00 0      [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";

static void test_closefd_vdso_found(void **state)
{
	uint64_t a = 0, b = 0;

	(void)state;
	assert_int_equal(closefd_parse_vdso(maps, &a, &b), 0);
	assert_true(a == 0x7ffd1c6ee000ULL);
	assert_true(b == 0x7ffd1c6f0000ULL);
}

static void test_closefd_vdso_absent_or_a_file(void **state)
{
	uint64_t a = 0, b = 0;
	/* A file whose name ends in [vdso] is not the vDSO; nor is [vvar]. */
	static const char fake[] =
		"7f0000000000-7f0000001000 r-xp 00000000 08:01 99 /tmp/x[vdso]\n"
		"7ffd1c6ea000-7ffd1c6ee000 r--p 00000000 00:00 0 [vvar]\n";

	(void)state;
	assert_int_equal(closefd_parse_vdso(fake, &a, &b), -ENOENT);
	assert_int_equal(closefd_parse_vdso("", &a, &b), -ENOENT);
	/* The last line without its newline still counts. */
	assert_int_equal(closefd_parse_vdso("1000-3000 r-xp 0 00:00 0 [vdso]", &a, &b), 0);
	assert_true(a == 0x1000 && b == 0x3000);
}

static void test_closefd_status_fields(void **state)
{
	static const char traced[] = "Name:\tleakrig\nState:\tS (sleeping)\nTracerPid:\t4242\n"
				     "Uid:\t1000\t1000\t1000\t1000\n";
	static const char free_[] = "Name:\tx\nTracerPid:\t0\nUid:\t0\t0\t0\t0\n";

	(void)state;
	assert_int_equal(closefd_parse_tracer(traced), 4242);
	assert_int_equal(closefd_parse_uid(traced), 1000);
	assert_int_equal(closefd_parse_tracer(free_), 0);
	assert_int_equal(closefd_parse_uid(free_), 0);
	assert_int_equal(closefd_parse_tracer("Name:\tx\n"), -1);
	/* "Uid" must be the whole key, not a prefix of another. */
	assert_int_equal(closefd_parse_uid("Uidx:\t5\n"), -1);
	/* Seccomp: 0 none, 1 strict, 2 a filter; -1 where the kernel says nothing. */
	assert_int_equal(closefd_parse_seccomp("Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t1\n"), 2);
	assert_int_equal(closefd_parse_seccomp("Seccomp:\t0\n"), 0);
	assert_int_equal(closefd_parse_seccomp(free_), -1);
}

static void test_closefd_scan_x86(void **state)
{
	/* mov %eax,%eax; a 0f not followed by 05; then syscall at 5. */
	static const uint8_t code[] = { 0x89, 0xc0, 0x0f, 0x1f, 0x90, 0x0f, 0x05, 0xc3 };
	static const uint8_t none[] = { 0x90, 0x0f, 0x90, 0x05, 0x0f };

	(void)state;
	assert_int_equal(closefd_scan_x86(code, sizeof(code)), 5);
	assert_int_equal(closefd_scan_x86(none, sizeof(none)), -1);
	/* A 0f at the very end has no second byte to read. */
	assert_int_equal(closefd_scan_x86(code, 6), -1);
	assert_int_equal(closefd_scan_x86(code, 0), -1);
}

static void test_closefd_scan_a64(void **state)
{
	/* nop; then svc #0's bytes (01 00 00 d4) unaligned at 5; then svc #0 aligned at 12. */
	static const uint8_t code[] = { 0x1f, 0x20, 0x03, 0xd5, 0x00, 0x01, 0x00, 0x00,
					0xd4, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xd4 };

	(void)state;
	assert_int_equal(closefd_scan_a64(code, sizeof(code)), 12);
	assert_int_equal(closefd_scan_a64(code, 12), -1);
	assert_int_equal(closefd_scan_a64(code, 15), -1);
}

static void test_closefd_result_names(void **state)
{
	(void)state;
	assert_string_equal(closefd_result_name(CLOSEFD_CLOSED), "closed");
	assert_string_equal(closefd_result_name(CLOSEFD_CHANGED), "changed");
	assert_string_equal(closefd_result_name(CLOSEFD_DENIED), "denied");
	assert_string_equal(closefd_result_name(CLOSEFD_NONE), "not-tried");
	assert_string_equal(closefd_result_name(99), "not-tried");
}

/* A process that is not under the proc root: gone, nothing attached; found by its key. */
static void test_closefd_run_gone(void **state)
{
	struct closefd_set s = { 0 };
	const struct closefd_target *t;

	(void)state;
	assert_int_equal(closefd_add(&s, 999999, 7, 1234), 0);
	assert_int_equal(closefd_add(&s, 999999, 5, 1000), 0);
	assert_int_equal(closefd_run(&s, "/nonexistent-proc-root", true), 0);
	t = closefd_find(&s, 1234, 999999, 7);
	assert_non_null(t);
	assert_int_equal(t->result, CLOSEFD_GONE);
	assert_non_null(closefd_find(&s, 1000, 999999, 5));
	assert_null(closefd_find(&s, 1000, 999999, 7));
	closefd_set_free(&s);
	closefd_set_free(NULL);
}

/* Ourselves: refused before any attach (a tracer cannot stop itself). */
static void test_closefd_run_self_denied(void **state)
{
	struct closefd_set s = { 0 };

	(void)state;
	assert_int_equal(closefd_add(&s, getpid(), 0, 1), 0);
	assert_int_equal(closefd_run(&s, NULL, true), 0);
	assert_int_equal(s.v[0].result, CLOSEFD_DENIED);
	assert_string_equal(s.v[0].why, "sockreap-itself");
	closefd_set_free(&s);
}

/* Writes "Name/TracerPid/Seccomp" status text at root/rel (its directories made first). */
static void fake_status(const char *root, const char *rel, long tracer)
{
	char path[4096];
	FILE *f;

	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
		snprintf(path, sizeof(path), "%s/%.*s", root, (int)(p - rel), rel);
		mkdir(path, 0700);
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "Name:\trig\nUid:\t%d\t%d\t%d\t%d\nTracerPid:\t%ld\nSeccomp:\t0\n",
		(int)geteuid(), (int)geteuid(), (int)geteuid(), (int)geteuid(), tracer);
	assert_int_equal(fclose(f), 0);
}

/* One fake process 999999 with threads 999999 and 1000000, thread 1000000 traced by tracer. */
static const struct closefd_target *run_two_threads(char *root, struct closefd_set *s,
						    long tracer)
{
	fake_status(root, "999999/status", 0);
	fake_status(root, "999999/task/999999/status", 0);
	fake_status(root, "999999/task/1000000/status", tracer);
	assert_int_equal(closefd_add(s, 999999, 7, 1234), 0);
	assert_int_equal(closefd_run(s, root, true), 0);
	return closefd_find(s, 1234, 999999, 7);
}

/*
 * A thread other than the main one is traced (strace -p TID): refused as already-traced
 * before any attach, not left to PTRACE_SEIZE's EPERM on that thread (ptrace-eperm). The
 * fake threads have no stat file, so an attempt to attach them finds them dead: gone.
 */
static void test_closefd_run_thread_traced(void **state)
{
	static const char *const made[] = { "999999/status", "999999/task/999999/status",
					    "999999/task/1000000/status", "999999/task/999999",
					    "999999/task/1000000", "999999/task", "999999" };
	char root[] = "/tmp/test_closefd.XXXXXX", path[4096];
	struct closefd_set s = { 0 };
	const struct closefd_target *t;

	(void)state;
	assert_non_null(mkdtemp(root));
	t = run_two_threads(root, &s, 4242);
	assert_non_null(t);
	assert_int_equal(t->result, CLOSEFD_DENIED);
	assert_int_equal(t->err, EPERM);
	assert_string_equal(t->why, "already-traced");
	closefd_set_free(&s);
	/* The same process with no tracer on any thread is not refused. */
	t = run_two_threads(root, &s, 0);
	assert_non_null(t);
	assert_int_equal(t->result, CLOSEFD_GONE);
	closefd_set_free(&s);
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, made[i]);
		assert_int_equal(i < 3 ? unlink(path) : rmdir(path), 0);
	}
	assert_int_equal(rmdir(root), 0);
}

/*
 * A child (*tracer) that forks a pausing process, seizes it and holds on until *hold is
 * closed (or we die): then it kills and reaps that process and exits. The pausing one's pid,
 * or -1 if it could not be traced.
 */
static pid_t traced_child(pid_t *tracer, int *hold)
{
	int p[2], h[2];
	pid_t pid = -1;

	*hold = -1;
	if (pipe(p))
		return -1;
	if (pipe(h)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	*tracer = fork();
	if (*tracer == 0) {
		pid_t t = fork();
		char c;

		if (t == 0) {
			/*
			 * The write ends are the test's and our parent's alone: their
			 * closes are the signals.
			 */
			close(h[1]);
			close(p[1]);
			for (;;)
				pause();
		}
		close(h[1]);
		if (t > 0 && ptrace(PTRACE_SEIZE, t, NULL, NULL)) {
			kill(t, SIGKILL);
			waitpid(t, NULL, 0);
			t = -1;
		}
		if (write(p[1], &t, sizeof(t)) == sizeof(t))
			while (read(h[0], &c, 1) > 0)
				;
		if (t > 0) {
			kill(t, SIGKILL);
			waitpid(t, NULL, __WALL);
		}
		_exit(0);
	}
	close(p[1]);
	close(h[0]);
	if (*tracer > 0 && read(p[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(p[0]);
	*hold = h[1];
	return pid;
}

/*
 * Feeds the FIFO at path to one reader after another: "TracerPid: 0" to the first, 4242 to
 * each one after. A fresh FIFO is renamed over path before each reader gets its EOF, so the
 * next open (the reader's next read) cannot meet this writer still writing. Runs until killed.
 */
static void fifo_writer(const char *path)
{
	char next[4096 + 8];	/* path is at most 4095 */

	snprintf(next, sizeof(next), "%s.next", path);
	for (long tracer_pid = 0;; tracer_pid = 4242) {
		int fd = open(path, O_WRONLY);

		if (fd < 0 || dprintf(fd, "Name:\trig\nTracerPid:\t%ld\n", tracer_pid) < 0 ||
		    mkfifo(next, 0600) || rename(next, path))
			_exit(1);
		close(fd);
	}
}

/*
 * A tracer that takes a thread after the check: PTRACE_SEIZE says EPERM on that thread, and
 * its TracerPid, read then, makes it already-traced, not ptrace-eperm. The real process is
 * traced; the fake root's status for its thread is a FIFO that a writer fills twice: untraced
 * for the check, traced when the seize has failed.
 */
static void test_closefd_run_traced_after_check(void **state)
{
	char root[] = "/tmp/test_closefd.XXXXXX", path[4096], rel[5][64];
	struct closefd_set s = { 0 };
	const struct closefd_target *t;
	pid_t tracer = -1, pid, writer = -1;
	int hold, ok;
	size_t closed = 1;
	enum closefd_result result = CLOSEFD_NONE;
	const char *why = NULL;
	FILE *f;

	(void)state;
	pid = traced_child(&tracer, &hold);
	if (pid <= 0) {
		close(hold);
		if (tracer > 0)
			waitpid(tracer, NULL, 0);
		skip();	/* no ptrace here at all */
	}
	/* Files first, then directories, for the cleanup. */
	snprintf(rel[0], sizeof(rel[0]), "%d/status", pid);
	snprintf(rel[1], sizeof(rel[1]), "%d/task/%d/status", pid, pid);
	snprintf(rel[2], sizeof(rel[2]), "%d/task/%d/stat", pid, pid);
	snprintf(rel[3], sizeof(rel[3]), "%d/task/%d", pid, pid);
	snprintf(rel[4], sizeof(rel[4]), "%d/task", pid);
	ok = mkdtemp(root) != NULL;
	if (ok) {
		fake_status(root, rel[0], 0);
		fake_status(root, rel[1], 0);
		snprintf(path, sizeof(path), "%s/%s", root, rel[2]);
		f = fopen(path, "w");
		ok = f && fprintf(f, "%d (rig) S 1\n", pid) > 0;
		ok = f && !fclose(f) && ok;
		snprintf(path, sizeof(path), "%s/%s", root, rel[1]);
		ok = ok && !unlink(path) && !mkfifo(path, 0600);
	}
	if (ok && (writer = fork()) == 0) {
		close(hold);
		fifo_writer(path);
	}
	if (writer > 0 && closefd_add(&s, pid, 7, 1234) == 0) {
		closed = closefd_run(&s, root, true);
		t = closefd_find(&s, 1234, pid, 7);
		if (t) {
			result = t->result;
			why = t->why;
		}
	}
	closefd_set_free(&s);
	/* The children go before any assertion can end the test. */
	if (writer > 0) {
		kill(writer, SIGKILL);
		waitpid(writer, NULL, 0);
	}
	close(hold);
	waitpid(tracer, NULL, 0);
	assert_true(ok);
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, rel[i]);
		assert_int_equal(i < 3 ? unlink(path) : rmdir(path), 0);
	}
	snprintf(path, sizeof(path), "%s/%d", root, pid);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(root), 0);
	assert_int_equal(closed, 0);
	assert_int_equal(result, CLOSEFD_DENIED);
	assert_non_null(why);
	assert_string_equal(why, "already-traced");
}

#if defined(__x86_64__)
static void test_closefd_regs_for_close(void **state)
{
	struct user_regs_struct r;

	(void)state;
	memset(&r, 0xab, sizeof(r));
	/* A thread stopped in read(): rax -ERESTARTSYS (-512), orig_rax read's number. */
	r.rax = (unsigned long long)-512;
	r.orig_rax = SYS_read;
	struct user_regs_struct saved = r;

	closefd_regs_for_close(&r, 0x7ffd1c6ee123ULL, 17);
	assert_true(r.rip == 0x7ffd1c6ee123ULL);
	assert_true(r.rax == SYS_close);
	assert_true(r.rdi == 17);
	/* No restart of the interrupted read over our close. */
	assert_true(r.orig_rax == (unsigned long long)-1);
	/* Nothing else is touched: the stack and the other arguments stay. */
	assert_true(r.rsp == saved.rsp && r.rsi == saved.rsi && r.rdx == saved.rdx &&
		    r.eflags == saved.eflags && r.cs == saved.cs);
}

static void test_closefd_regs_keep_waiting(void **state)
{
	struct user_regs_struct r;

	(void)state;
	memset(&r, 0, sizeof(r));
	/* epoll_wait(ep, evs, n, -1) that our stop ended with EINTR: restarted, nothing else. */
	r.orig_rax = SYS_epoll_wait;
	r.rax = (unsigned long long)-EINTR;
	r.r10 = (unsigned long long)-1;
	r.rip = 0x401000;
	assert_true(closefd_regs_keep_waiting(&r));
	assert_true(r.rax == (unsigned long long)-514 && r.rip == 0x401000);
	/* The same through epoll_pwait (timeout -1 as an int) and epoll_pwait2 (NULL). */
	r.orig_rax = SYS_epoll_pwait;
	r.rax = (unsigned long long)-EINTR;
	r.r10 = 0xffffffffULL;
	assert_true(closefd_regs_keep_waiting(&r));
	r.orig_rax = 441;
	r.rax = (unsigned long long)-EINTR;
	r.r10 = 0;
	assert_true(closefd_regs_keep_waiting(&r));
	/* sigwaitinfo (sigtimedwait, no timespec), semop, semtimedop with none. */
	r.orig_rax = SYS_rt_sigtimedwait;
	r.rax = (unsigned long long)-EINTR;
	r.rdx = 0;
	assert_true(closefd_regs_keep_waiting(&r));
	r.orig_rax = SYS_semop;
	r.rax = (unsigned long long)-EINTR;
	assert_true(closefd_regs_keep_waiting(&r));
	r.orig_rax = SYS_semtimedop;
	r.rax = (unsigned long long)-EINTR;
	r.r10 = 0;
	assert_true(closefd_regs_keep_waiting(&r));
	r.orig_rax = SYS_rt_sigtimedwait;
	r.rax = (unsigned long long)-EINTR;
	r.rdx = 0x7ffd0000;
	assert_false(closefd_regs_keep_waiting(&r));
	/* A timeout: restarted, it would wait its whole time again; left with its EINTR. */
	r.orig_rax = SYS_epoll_wait;
	r.rax = (unsigned long long)-EINTR;
	r.r10 = 3000;
	assert_false(closefd_regs_keep_waiting(&r));
	assert_true(r.rax == (unsigned long long)-EINTR);
	r.orig_rax = 441;
	r.r10 = 0x7ffd0000;
	assert_false(closefd_regs_keep_waiting(&r));
	/* Any other call, or one that did not end in EINTR, is not ours to touch. */
	r.orig_rax = SYS_read;
	r.r10 = (unsigned long long)-1;
	assert_false(closefd_regs_keep_waiting(&r));
	r.orig_rax = SYS_epoll_wait;
	r.rax = 1;
	assert_false(closefd_regs_keep_waiting(&r));
	assert_true(r.rax == 1);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closefd_vdso_found),
		cmocka_unit_test(test_closefd_vdso_absent_or_a_file),
		cmocka_unit_test(test_closefd_status_fields),
		cmocka_unit_test(test_closefd_scan_x86),
		cmocka_unit_test(test_closefd_scan_a64),
		cmocka_unit_test(test_closefd_result_names),
		cmocka_unit_test(test_closefd_run_gone),
		cmocka_unit_test(test_closefd_run_self_denied),
		cmocka_unit_test(test_closefd_run_thread_traced),
		cmocka_unit_test(test_closefd_run_traced_after_check),
#if defined(__x86_64__)
		cmocka_unit_test(test_closefd_regs_for_close),
		cmocka_unit_test(test_closefd_regs_keep_waiting),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
