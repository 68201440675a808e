/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --close-fd: closes leaked socket descriptors inside their owner, as operators do by hand
 * with gdb's `call close(FD)`, without writing any code into the process.
 *
 * Per process, in one attach: every thread is seized (PTRACE_SEIZE) and stopped
 * (PTRACE_INTERRUPT), so that no thread of it can close or reuse an fd between our identity
 * check and our close; the fd's link is checked to still be the planned socket inode; one
 * thread's registers are saved, pointed at a `syscall` instruction the process already has
 * mapped (the vDSO's) with close's number and the fd, single-stepped over it, and restored
 * exactly; then every thread is detached. CRIU's compel ("parasite" infection) is the
 * reference for running a system call in another process.
 *
 * Restoring the registers exactly is what makes an interrupted blocking call resume: on
 * x86-64 the thread stops inside get_signal() on its way out of the kernel, before the
 * restart rules (arch_do_signal_or_restart) look at orig_rax and rax (-ERESTARTSYS and
 * friends). Our call runs with orig_rax = -1, so no restart is applied over it; the saved
 * registers put back orig_rax and the -ERESTART* value, and the kernel then restarts the
 * original call as if we had never been there. On aarch64 (arch/arm64/kernel/signal.c) the
 * rewind is applied before get_signal(), to the registers we save (x0 back to orig_x0, pc back
 * on the svc), but the switch to restart_syscall that a call which must go on where it was
 * needs (-ERESTART_RESTARTBLOCK: a relative nanosleep, a futex wait with a timeout) comes
 * after it, in the same do_signal() and only if pc is still on the svc: a thread stepped
 * elsewhere and put back would make its call again from the start (a 3 s sleep stopped
 * half-way took 4.5 s under qemu). So a thread stopped on an svc is not stepped: it is let go
 * (PTRACE_SYSCALL) to the entry of the call the kernel chose, whose number is changed to
 * close's (NT_ARM_SYSTEM_CALL), and it is put back on the svc with that choice in x8
 * (resume_close()). Only a thread stopped elsewhere, in user space, is stepped in the vDSO.
 *
 * Signals: a signal that stops a thread before it reached our interrupt is delivered at once
 * (PTRACE_CONT with it, as compel does); one that arrives while our call is being stepped is
 * kept from the step (or from resume_close()'s run to its svc) and sent again (tgkill) before
 * the detach, so none is lost (its siginfo becomes SI_TKILL's).
 */
#include "closefd.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <sys/user.h>
#define CLOSEFD_ARCH 1
typedef struct user_regs_struct arch_regs;
#elif defined(__aarch64__)
#include <sys/user.h>
#define CLOSEFD_ARCH 1
typedef struct user_regs_struct arch_regs;
#else
#define CLOSEFD_ARCH 0
#endif

/* How long the threads of one process may take to stop (one in D state may never do). */
#define STOP_WAIT_MS 5000
/* Threads created while we seize the others are seized in further passes, at most this many. */
#define SEIZE_PASSES 16
/* Signals kept from one thread's step, to send again: more than this are sent at once. */
#define KEPT_SIGS 8

int closefd_add(struct closefd_set *s, int32_t pid, int32_t fd, uint32_t inode)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct closefd_target *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct closefd_target){ pid, fd, inode, CLOSEFD_NONE, 0, NULL };
	return 0;
}

void closefd_set_free(struct closefd_set *s)
{
	if (!s)
		return;
	free(s->v);
	*s = (struct closefd_set){ 0 };
}

const char *closefd_result_name(unsigned result)
{
	static const char *const names[] = { "not-tried", "closed", "changed", "gone", "denied",
					     "failed" };

	return result < sizeof(names) / sizeof(names[0]) ? names[result] : "not-tried";
}

int closefd_parse_vdso(const char *maps, uint64_t *start, uint64_t *end)
{
	for (const char *line = maps; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		unsigned long long a, b;

		/* The path is the last field; "[vdso]" alone, never a file of that name. */
		if (len >= 6 && !memcmp(line + len - 6, "[vdso]", 6) &&
		    (len == 6 || line[len - 7] == ' ') &&
		    sscanf(line, "%llx-%llx", &a, &b) == 2 && b > a) {
			*start = a;
			*end = b;
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

static long status_field(const char *status, const char *key)
{
	size_t k = strlen(key);

	for (const char *line = status; line && *line;) {
		if (!strncmp(line, key, k) && line[k] == ':') {
			char *e;
			long v = strtol(line + k + 1, &e, 10);

			return e == line + k + 1 ? -1 : v;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

long closefd_parse_tracer(const char *status)
{
	return status_field(status, "TracerPid");
}

long closefd_parse_uid(const char *status)
{
	return status_field(status, "Uid");
}

long closefd_parse_seccomp(const char *status)
{
	return status_field(status, "Seccomp");
}

long closefd_scan_x86(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (buf[i] == 0x0f && buf[i + 1] == 0x05)
			return (long)i;
	return -1;
}

long closefd_scan_a64(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i += 4)
		if (buf[i] == 0x01 && buf[i + 1] == 0x00 && buf[i + 2] == 0x00 && buf[i + 3] == 0xd4)
			return (long)i;
	return -1;
}

#if defined(__x86_64__)
void closefd_regs_for_close(struct user_regs_struct *regs, uint64_t pc, int fd)
{
	regs->rip = pc;
	regs->rax = __NR_close;
	regs->orig_rax = (uint64_t)-1;
	regs->rdi = (uint64_t)(int64_t)fd;
}

/* The kernel's own (include/linux/errno.h): "restart if no handler". */
#define CLOSEFD_ERESTARTNOHAND 514
#ifndef __NR_epoll_pwait2
#define __NR_epoll_pwait2 441
#endif

/*
 * epoll_wait, sigtimedwait and semop answer our stop (signal_pending) with a plain -EINTR
 * that the kernel never restarts (signal(7): "interfaces ... after a stop"): a thread of the
 * owner blocked in one would wake up with an error nothing caused. Put as -ERESTARTNOHAND, it
 * is what a stop without a handler means elsewhere: the signal code (arch_do_signal_or_restart,
 * after our detach) restarts the call on its syscall, and a real signal with a handler,
 * pending meanwhile, still gets its EINTR (handle_signal turns it into that). Each of these
 * did nothing before it returned EINTR, so the call made again is the same call. Only a wait
 * with no timeout: one with a timeout would wait its whole time again.
 */
bool closefd_regs_keep_waiting(struct user_regs_struct *regs)
{
	long nr = (long)regs->orig_rax;
	bool forever;

	if ((long)regs->rax != -EINTR)
		return false;
	switch (nr) {
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
		forever = (int)regs->r10 < 0;	/* timeout in ms, an int */
		break;
	case __NR_epoll_pwait2:
	case __NR_semtimedop:
		forever = regs->r10 == 0;	/* no struct timespec */
		break;
	case __NR_rt_sigtimedwait:
		forever = regs->rdx == 0;
		break;
	case __NR_semop:
		forever = true;
		break;
	default:
		return false;
	}
	if (forever)
		regs->rax = (unsigned long long)-CLOSEFD_ERESTARTNOHAND;
	return forever;
}

static long regs_ret(const arch_regs *r)
{
	return (long)r->rax;
}

static uint64_t regs_pc(const arch_regs *r)
{
	return r->rip;
}

#define SYSCALL_INSN_LEN 2
#define scan_syscall closefd_scan_x86
#define set_call closefd_regs_for_close
#elif defined(__aarch64__)
/* The restart rules were applied before the stop (see the top): x8, x0 and pc are all it takes. */
static void set_call(arch_regs *regs, uint64_t pc, int fd)
{
	regs->pc = pc;
	regs->regs[8] = __NR_close;
	regs->regs[0] = (uint64_t)(int64_t)fd;
}

static long regs_ret(const arch_regs *r)
{
	return (long)r->regs[0];
}

static uint64_t regs_pc(const arch_regs *r)
{
	return r->pc;
}

#define SYSCALL_INSN_LEN 4
#define scan_syscall closefd_scan_a64
#endif

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return (int)len;
}

static int cmp_target(const void *a, const void *b)
{
	const struct closefd_target *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

const struct closefd_target *closefd_find(const struct closefd_set *s, uint32_t inode,
					  int32_t pid, int32_t fd)
{
	struct closefd_target key = { pid, fd, inode, 0, 0, NULL };

	if (!s || !s->n)
		return NULL;
	return bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_target);
}

static void set_all(struct closefd_target **t, size_t n, enum closefd_result res, int err,
		    const char *why)
{
	for (size_t i = 0; i < n; i++) {
		t[i]->result = (uint8_t)res;
		t[i]->err = err;
		t[i]->why = why;
	}
}

/* Whether thread tid of pid has a tracer (TracerPid is per thread: strace -p TID, gdb). */
static bool thread_traced(const char *proc, pid_t pid, pid_t tid)
{
	char path[PATH_MAX], status[4096];

	snprintf(path, sizeof(path), "%s/%d/task/%d/status", proc, pid, tid);
	return read_text(path, status, sizeof(status)) > 0 && closefd_parse_tracer(status) > 0;
}

/*
 * Whether any thread of pid has a tracer: one traced thread is enough for PTRACE_SEIZE to
 * refuse it, after we seized (and stopped) the threads listed before it.
 */
static bool any_thread_traced(const char *proc, pid_t pid)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	bool traced = false;

	snprintf(path, sizeof(path), "%s/%d/task", proc, pid);
	if (!(d = opendir(path)))
		return false;	/* the attach finds out what is wrong */
	while (!traced && (e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);

		if (!*end && tid > 0)
			traced = thread_traced(proc, pid, (pid_t)tid);
	}
	closedir(d);
	return traced;
}

/*
 * Why this process may not be traced, or NULL: the checks that need no attach, so that a
 * refusal touches nothing (EPERM from PTRACE_SEIZE still decides in the end).
 */
static const char *precheck(const char *proc, pid_t pid, bool may_others, int *scope, int *err)
{
	char path[PATH_MAX], status[4096];
	int ret;

	*err = 0;
	if (pid == getpid())
		return "sockreap-itself";
	snprintf(path, sizeof(path), "%s/%d/status", proc, pid);
	ret = read_text(path, status, sizeof(status));
	if (ret < 0) {
		*err = ret;
		return NULL;
	}
	if (closefd_parse_tracer(status) > 0 || any_thread_traced(proc, pid))
		return "already-traced";
	/*
	 * A seccomp filter may answer our close() with an error, a SIGSYS, or the death of the
	 * whole process (SECCOMP_RET_KILL_PROCESS), and which one cannot be known without
	 * reading and running the filter: a filtered (or strict) process is not touched.
	 */
	if (closefd_parse_seccomp(status) > 0)
		return "seccomp-filter";
	if (!may_others && closefd_parse_uid(status) != (long)geteuid())
		return "other-user-needs-cap-sys-ptrace";
	*scope = -1;
	snprintf(path, sizeof(path), "%s/sys/kernel/yama/ptrace_scope", proc);
	if (read_text(path, status, sizeof(status)) > 0)
		*scope = atoi(status);
	if (*scope >= 3)
		return "yama-ptrace-scope-3";
	if (*scope == 2 && !may_others)
		return "yama-ptrace-scope-2-needs-cap-sys-ptrace";
	return NULL;
}

#if CLOSEFD_ARCH

struct thread {
	pid_t tid;
	bool stopped;
	/*
	 * Stopped by our interrupt, with no signal let through first: the only stop whose
	 * registers say what the thread was doing (keep_waiting()); a group-stop was the
	 * process's own, and a delivered signal may have set up a handler's frame.
	 */
	bool ours_only;
	int kept[KEPT_SIGS];	/* signals kept from our step, sent again before the detach */
	size_t nkept;
};

struct victim {
	const char *proc;
	pid_t pid;
	struct thread *t;
	size_t n, cap;
	/* A thread whose seize failed with EPERM because a tracer took it after precheck(). */
	bool traced;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool have_thread(const struct victim *v, pid_t tid)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->t[i].tid == tid)
			return true;
	return false;
}

/* A zombie or dead thread never stops: it is left alone. */
static bool thread_dead(const struct victim *v, pid_t tid)
{
	char path[PATH_MAX], stat[512];
	const char *p;

	snprintf(path, sizeof(path), "%s/%d/task/%d/stat", v->proc, v->pid, tid);
	if (read_text(path, stat, sizeof(stat)) < 0)
		return true;
	p = strrchr(stat, ')');
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/*
 * Seizes and interrupts every thread not seized yet. Returns how many were new, or -errno
 * (-EPERM: not allowed; -ESRCH: the process is gone).
 */
static int seize_new(struct victim *v)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int added = 0, ret = 0;

	snprintf(path, sizeof(path), "%s/%d/task", v->proc, v->pid);
	if (!(d = opendir(path)))
		return errno == ENOENT ? -ESRCH : -errno;
	while ((e = readdir(d))) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);

		if (*end || tid <= 0 || have_thread(v, (pid_t)tid) || thread_dead(v, (pid_t)tid))
			continue;
		if (v->n == v->cap) {
			size_t cap = v->cap ? 2 * v->cap : 8;
			struct thread *t = realloc(v->t, cap * sizeof(*t));

			if (!t) {
				ret = -ENOMEM;
				break;
			}
			v->t = t;
			v->cap = cap;
		}
		if (ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, NULL) < 0) {
			if (errno == ESRCH)	/* the thread just exited */
				continue;
			ret = -errno;
			if (ret == -EPERM)
				v->traced = thread_traced(v->proc, v->pid, (pid_t)tid);
			break;
		}
		v->t[v->n++] = (struct thread){ .tid = (pid_t)tid, .ours_only = true };
		added++;
		if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL) < 0 && errno != ESRCH) {
			ret = -errno;
			break;
		}
	}
	closedir(d);
	return ret < 0 ? ret : added;
}

/* Drops a thread that exited while traced (it needs no detach). */
static void forget(struct victim *v, size_t i)
{
	v->t[i] = v->t[--v->n];
}

/*
 * Waits until every seized thread is in an interrupt (or group) stop. A signal that stops a
 * thread first is delivered (PTRACE_CONT with it): the interrupt stays pending behind it.
 */
static int wait_stopped(struct victim *v, double deadline)
{
	for (;;) {
		bool all = true;

		for (size_t i = 0; i < v->n; i++) {
			struct thread *t = &v->t[i];
			int st;
			pid_t r;

			if (t->stopped)
				continue;
			r = waitpid(t->tid, &st, __WALL | WNOHANG);
			if (r < 0 && errno == ECHILD) {
				forget(v, i--);
				continue;
			}
			if (r <= 0) {
				all = false;
				continue;
			}
			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				forget(v, i--);
				continue;
			}
			if (!WIFSTOPPED(st))
				continue;
			if ((st >> 16) == PTRACE_EVENT_STOP) {
				t->stopped = true;
				/* SIGTRAP: our interrupt; a stop signal: a group-stop. */
				if (WSTOPSIG(st) != SIGTRAP)
					t->ours_only = false;
				continue;
			}
			/* A signal-delivery-stop: let the signal go where it was going. */
			t->ours_only = false;
			ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)WSTOPSIG(st));
			all = false;
		}
		if (all)
			return v->n ? 0 : -ESRCH;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(200);
	}
}

static void detach_all(struct victim *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct thread *t = &v->t[i];

		/* Queued again while stopped: delivered once it runs. */
		for (size_t k = 0; k < t->nkept; k++)
			syscall(SYS_tgkill, v->pid, t->tid, t->kept[k]);
		if (t->stopped)
			ptrace(PTRACE_DETACH, t->tid, NULL, NULL);
		/*
		 * One that never stopped (a D-state sleep past the deadline) cannot be detached
		 * now; it is when this process exits, and it resumes then.
		 */
	}
}

static int get_regs(pid_t tid, arch_regs *regs)
{
	struct iovec iov = { regs, sizeof(*regs) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
		return -errno;
	/* A 32-bit process's registers are smaller: its calls are not ours to make. */
	return iov.iov_len == sizeof(*regs) ? 0 : -EPROTONOSUPPORT;
}

static int set_regs(pid_t tid, const arch_regs *regs)
{
	struct iovec iov = { (void *)regs, sizeof(*regs) };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

/*
 * Before the detach, every thread that our interrupt woke from a wait with no timeout with
 * an EINTR is set to wait on (closefd_regs_keep_waiting); the runner's registers are its
 * saved ones again by then. Only a thread whose one stop was ours (ours_only): after a
 * signal we let through, the registers may be a handler's frame still showing the call
 * (orig_rax) and its EINTR, which a restart would send to the handler's address minus two;
 * in a group-stop the EINTR is the process's own (signal(7)). Not on aarch64, whose rewind
 * comes before the stop: there such a thread still sees the EINTR (README, sockreap(8)).
 */
static void keep_waiting(const struct victim *v)
{
#if defined(__x86_64__)
	for (size_t i = 0; i < v->n; i++) {
		arch_regs r;
		int ret = 0;

		if (v->t[i].stopped && v->t[i].ours_only && get_regs(v->t[i].tid, &r) == 0 &&
		    closefd_regs_keep_waiting(&r))
			ret = set_regs(v->t[i].tid, &r);
		if (ret < 0)
			fprintf(stderr, "sockreap: warning: pid %d: thread %d, stopped in a wait, "
					"will see EINTR: %s\n", v->pid, v->t[i].tid, strerror(-ret));
	}
#else
	(void)v;
#endif
}

/* A syscall instruction in the process's vDSO: its address, or 0. */
static uint64_t find_syscall(const struct victim *v)
{
	char path[PATH_MAX];
	static const size_t max_maps = 1 << 20;
	char *maps = malloc(max_maps);
	uint64_t start, end, at = 0;

	snprintf(path, sizeof(path), "%s/%d/maps", v->proc, v->pid);
	if (!maps || read_text(path, maps, max_maps) < 0 ||
	    closefd_parse_vdso(maps, &start, &end) < 0 || end - start > (1 << 20))
		goto out;
	size_t len = (size_t)(end - start);
	uint8_t *buf = malloc(len);
	int fd;

	snprintf(path, sizeof(path), "%s/%d/mem", v->proc, v->pid);
	if (buf && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (pread(fd, buf, len, (off_t)start) == (ssize_t)len) {
			long off = scan_syscall(buf, len);

			if (off >= 0)
				at = start + (uint64_t)off;
		}
		close(fd);
	}
	free(buf);
out:
	free(maps);
	return at;
}

static void keep_signal(struct thread *t, pid_t pid, int sig)
{
	if (t->nkept < KEPT_SIGS)
		t->kept[t->nkept++] = sig;
	else
		syscall(SYS_tgkill, pid, t->tid, sig);
}

/*
 * Whether a stop's signal is the SIGSYS a seccomp filter (SECCOMP_RET_TRAP) raised for our own
 * close() at pc: ours to drop, never to send again (its default action kills the process).
 */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1	/* the si_code of a seccomp SIGSYS (linux/signal.h) */
#endif

static bool our_seccomp_trap(pid_t tid, int sig, uint64_t pc)
{
	siginfo_t si;

	return sig == SIGSYS && ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0 &&
	       si.si_code == SYS_SECCOMP && si.si_syscall == SYS_close &&
	       (uint64_t)(uintptr_t)si.si_call_addr == pc + SYSCALL_INSN_LEN;
}

/*
 * Whether a SIGTRAP is the report of our own step. A step over a system call is reported at
 * the call's exit (ptrace_report_syscall_exit(regs, 1)): x86-64 sends it with TRAP_BRKPT, but
 * arm64 has no user_single_step_report() of its own and the generic one sends SI_USER from
 * pid 0, which a kill() from the process's own pid namespace never is. Taken for someone
 * else's SIGTRAP, it was kept and sent again at the detach: the process died of it (seen
 * under qemu, tests/aarch64/).
 */
static bool step_trap(const siginfo_t *si)
{
	if (si->si_code > 0)
		return true;
#if defined(__aarch64__)
	return si->si_code == SI_USER && si->si_pid == 0 && si->si_uid == 0;
#else
	return false;
#endif
}

/*
 * Resumes t with req (PTRACE_SINGLESTEP, PTRACE_SYSCALL) and waits for its next stop: 0 with
 * its status in *st, -ESRCH when it ended instead, another negative errno on an error.
 */
static int resume_wait(struct thread *t, int req, int *st)
{
	if (ptrace(req, t->tid, NULL, NULL) < 0)
		return -errno;
	if (waitpid(t->tid, st, __WALL) < 0)
		return -errno;
	if (WIFEXITED(*st) || WIFSIGNALED(*st)) {
		t->stopped = false;
		return -ESRCH;
	}
	return WIFSTOPPED(*st) ? 0 : -EIO;
}

/*
 * Steps t over the syscall instruction at pc. The step's SIGTRAP is ours (step_trap(); one
 * sent by someone else is kept); a seccomp SIGSYS for our call is dropped and sets
 * *denied (the call did not run); any other signal is kept and sent again later.
 */
static int step_call(struct victim *v, struct thread *t, uint64_t pc, double deadline,
		     bool *denied)
{
	for (;;) {
		siginfo_t si;
		int st, err;
		arch_regs now;

		err = resume_wait(t, PTRACE_SINGLESTEP, &st);
		if (err < 0)
			return err;
		if ((st >> 16) != 0)	/* an event stop: step again */
			continue;
		if (WSTOPSIG(st) == SIGTRAP && ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) == 0 &&
		    step_trap(&si) && get_regs(t->tid, &now) == 0 &&
		    regs_pc(&now) == pc + SYSCALL_INSN_LEN)
			return 0;
		if (our_seccomp_trap(t->tid, WSTOPSIG(st), pc))
			*denied = true;
		else
			keep_signal(t, v->pid, WSTOPSIG(st));
		if (now_ms() > deadline)
			return -ETIMEDOUT;
	}
}

#if defined(__aarch64__)
#define A64_SVC0 0xd4000001u	/* svc #0 */
#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif

/* Whether the instruction at pc in the process is `svc #0`. */
static bool at_svc(const struct victim *v, uint64_t pc)
{
	char path[PATH_MAX];
	uint32_t insn = 0;
	bool yes = false;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/mem", v->proc, v->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		yes = pread(fd, &insn, sizeof(insn), (off_t)pc) == (ssize_t)sizeof(insn) &&
		      insn == A64_SVC0;
		close(fd);
	}
	return yes;
}

/* The system call the kernel runs for a thread stopped at its entry (-1: none). */
static int set_sysno(pid_t tid, int nr)
{
	struct iovec iov = { &nr, sizeof(nr) };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &iov) < 0 ? -errno : 0;
}

/* Runs t to its next system call stop (entry or exit); signals meanwhile are kept. */
static int to_syscall_stop(struct victim *v, struct thread *t, double deadline)
{
	for (;;) {
		int st, err = resume_wait(t, PTRACE_SYSCALL, &st);

		if (err < 0)
			return err;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		if ((st >> 16) == 0)	/* a signal-delivery-stop, not an event */
			keep_signal(t, v->pid, WSTOPSIG(st));
		if (now_ms() > deadline)
			return -ETIMEDOUT;
	}
}

/*
 * close(fd) made by t in place of the system call it was stopped on the way back to: the
 * kernel rewound it onto its svc (pc) to restart it, so t is let go until it is about to make
 * that call again (its syscall-entry stop), where close is put in its place. At that stop x8
 * is what the kernel chose after our stop: the call itself, or restart_syscall when it must go
 * on where it was (-ERESTART_RESTARTBLOCK), which it only chooses then; *saved takes that x8,
 * and t is put back on the svc with it. *after gets the registers at close's exit.
 */
static int resume_close(struct victim *v, struct thread *t, arch_regs *saved, int fd,
			double deadline, arch_regs *after)
{
	arch_regs r;
	int ret;

	if (ptrace(PTRACE_SETOPTIONS, t->tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0)
		return -errno;
	ret = to_syscall_stop(v, t, deadline);
	if (ret == 0)
		ret = get_regs(t->tid, &r);
	if (ret < 0)
		return ret;
	/* Every signal was kept from it: nothing else can run before its svc. */
	if (r.pc != saved->pc + SYSCALL_INSN_LEN)
		ret = -EPROTO;
	else
		saved->regs[8] = r.regs[8];
	r.regs[0] = (uint64_t)(int64_t)fd;
	if (ret == 0)
		ret = set_regs(t->tid, &r);
	if (ret == 0)
		ret = set_sysno(t->tid, __NR_close);
	if (ret == 0)
		ret = to_syscall_stop(v, t, deadline);
	if (ret < 0) {
		/*
		 * Still at an entry stop: no call at all there, so that close_in() putting the
		 * saved registers back cannot make one with them; the thread returns to its svc.
		 */
		set_sysno(t->tid, -1);
		return ret;
	}
	ret = get_regs(t->tid, after);
	/* Back on the svc, and no call in progress for the signal code's restart rules. */
	if (ret == 0)
		ret = set_regs(t->tid, saved);
	if (ret == 0)
		ret = set_sysno(t->tid, -1);
	return ret;
}
#endif

/*
 * Makes t run close(fd): at the vDSO's syscall instruction pc (a single step), or, on
 * aarch64 when t is stopped on an svc (resume), through resume_close().
 */
static int run_close(struct victim *v, struct thread *t, arch_regs *saved, uint64_t pc,
		     bool resume, int fd, double deadline, bool *denied, arch_regs *after)
{
	arch_regs call = *saved;
	int ret;

#if defined(__aarch64__)
	if (resume)
		return resume_close(v, t, saved, fd, deadline, after);
#else
	(void)resume;
#endif
	set_call(&call, pc, fd);
	ret = set_regs(t->tid, &call);
	if (ret == 0)
		ret = step_call(v, t, pc, deadline, denied);
	if (ret == 0)
		ret = get_regs(t->tid, after);
	return ret;
}

/* Whether fd still refers to socket inode in the (stopped) process. */
static enum closefd_result fd_identity(const struct victim *v, int fd, uint32_t inode)
{
	char path[PATH_MAX], link[64];
	ssize_t n;
	char want[40];

	snprintf(path, sizeof(path), "%s/%d/fd/%d", v->proc, v->pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? CLOSEFD_GONE : CLOSEFD_FAILED;
	link[n] = '\0';
	snprintf(want, sizeof(want), "socket:[%u]", inode);
	return strcmp(link, want) ? CLOSEFD_CHANGED : CLOSEFD_NONE;
}

/* All of one process's targets, in one attach. */
static void close_in(const char *proc, pid_t pid, struct closefd_target **t, size_t n,
		     bool may_others)
{
	struct victim v = { proc, pid, NULL, 0, 0, false };
	double deadline = now_ms() + STOP_WAIT_MS;
	const char *why;
	int scope, err, ret = 0;
	arch_regs saved, after;
	struct thread *runner = NULL;
	bool resume = false;	/* aarch64: close in place of the call it restarts */
	uint64_t pc;

	why = precheck(proc, pid, may_others, &scope, &err);
	if (why) {
		set_all(t, n, CLOSEFD_DENIED, EPERM, why);
		return;
	}
	if (err) {
		set_all(t, n, err == -ENOENT ? CLOSEFD_GONE : CLOSEFD_FAILED, -err,
			err == -ENOENT ? NULL : "status-unreadable");
		return;
	}
	/* Until a pass finds no thread that the others' clone() made meanwhile. */
	for (int pass = 0; pass < SEIZE_PASSES; pass++) {
		ret = seize_new(&v);
		if (ret <= 0)
			break;
		ret = wait_stopped(&v, deadline);
		if (ret < 0)
			break;
	}
	if (ret == -EPERM) {
		set_all(t, n, CLOSEFD_DENIED, EPERM,
			v.traced ? "already-traced" :
			scope == 1 && !may_others ? "yama-ptrace-scope-1" : "ptrace-eperm");
		goto detach;
	}
	if (ret == 0 && !v.n)
		ret = -ESRCH;
	if (ret < 0) {
		set_all(t, n, ret == -ESRCH ? CLOSEFD_GONE : CLOSEFD_FAILED, -ret,
			ret == -ETIMEDOUT ? "did-not-stop" : ret == -ESRCH ? NULL : "attach-failed");
		goto detach;
	}
	for (size_t i = 0; i < v.n && !runner; i++)
		if (v.t[i].tid == pid)
			runner = &v.t[i];
	if (!runner)
		runner = &v.t[0];
	ret = get_regs(runner->tid, &saved);
	if (ret < 0) {
		set_all(t, n, CLOSEFD_FAILED, -ret,
			ret == -EPROTONOSUPPORT ? "32-bit-process" : "getregs-failed");
		goto detach;
	}
#if defined(__aarch64__)
	resume = at_svc(&v, saved.pc);
#endif
	pc = resume ? regs_pc(&saved) : find_syscall(&v);
	if (!pc) {
		set_all(t, n, CLOSEFD_FAILED, ENOEXEC, "no-syscall-instruction");
		goto detach;
	}
	for (size_t i = 0; i < n; i++) {
		enum closefd_result id = fd_identity(&v, t[i]->fd, t[i]->inode);

		if (id != CLOSEFD_NONE) {
			t[i]->result = (uint8_t)id;
			t[i]->why = id == CLOSEFD_FAILED ? "fd-unreadable" : NULL;
			continue;
		}
		bool denied = false;

		ret = run_close(&v, runner, &saved, pc, resume, t[i]->fd, deadline, &denied,
				&after);
		if (ret < 0) {
			t[i]->result = ret == -ESRCH ? CLOSEFD_GONE : CLOSEFD_FAILED;
			t[i]->err = -ret;
			t[i]->why = "step-failed";
			if (ret == -ESRCH)
				break;
			continue;
		}
		long rc = regs_ret(&after);

		if (denied) {
			t[i]->result = CLOSEFD_FAILED;
			t[i]->err = EPERM;
			t[i]->why = "seccomp-denied";
			continue;
		}

		t[i]->result = rc == 0 ? CLOSEFD_CLOSED : rc == -EBADF ? CLOSEFD_GONE : CLOSEFD_FAILED;
		/* close() frees the descriptor even when it reports an error (EINTR, EIO). */
		if (rc < 0 && rc != -EBADF) {
			t[i]->err = (int)-rc;
			t[i]->why = "close-error";
			if (fd_identity(&v, t[i]->fd, t[i]->inode) == CLOSEFD_GONE)
				t[i]->result = CLOSEFD_CLOSED;
		}
	}
	if (runner->stopped && set_regs(runner->tid, &saved) < 0) {
		/* Cannot happen to a stopped tracee; if it did, say it loud. */
		fprintf(stderr, "sockreap: warning: pid %d: could not restore thread %d's "
				"registers: %s\n", pid, runner->tid, strerror(errno));
	}
detach:
	for (size_t i = 0; i < n; i++)
		if (t[i]->result == CLOSEFD_NONE)
			t[i]->result = CLOSEFD_FAILED;
	/* Threads seized before a refusal are still on their way to the stop: detach them too. */
	if (ret < 0 && ret != -ETIMEDOUT)
		wait_stopped(&v, now_ms() + 1000);
	keep_waiting(&v);
	detach_all(&v);
	free(v.t);
}

#else

static void close_in(const char *proc, pid_t pid, struct closefd_target **t, size_t n,
		     bool may_others)
{
	(void)proc;
	(void)pid;
	(void)may_others;
	set_all(t, n, CLOSEFD_FAILED, ENOSYS, "not-supported-on-this-architecture");
}

#endif

static int cmp_by_pid(const void *a, const void *b)
{
	const struct closefd_target *x = *(struct closefd_target *const *)a;
	const struct closefd_target *y = *(struct closefd_target *const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

size_t closefd_run(struct closefd_set *s, const char *proc, bool may_ptrace_others)
{
	struct closefd_target **by_pid;
	size_t closed = 0;

	if (!proc)
		proc = "/proc";
	qsort(s->v, s->n, sizeof(*s->v), cmp_target);
	if (!s->n)
		return 0;
	by_pid = malloc(s->n * sizeof(*by_pid));
	if (!by_pid) {
		for (size_t i = 0; i < s->n; i++)
			s->v[i] = (struct closefd_target){ s->v[i].pid, s->v[i].fd, s->v[i].inode,
							    CLOSEFD_FAILED, ENOMEM, "out-of-memory" };
		return 0;
	}
	for (size_t i = 0; i < s->n; i++)
		by_pid[i] = &s->v[i];
	qsort(by_pid, s->n, sizeof(*by_pid), cmp_by_pid);
	for (size_t i = 0, j; i < s->n; i = j) {
		for (j = i + 1; j < s->n && by_pid[j]->pid == by_pid[i]->pid; j++)
			;
		close_in(proc, by_pid[i]->pid, by_pid + i, j - i, may_ptrace_others);
	}
	for (size_t i = 0; i < s->n; i++)
		closed += s->v[i].result == CLOSEFD_CLOSED;
	free(by_pid);
	return closed;
}
