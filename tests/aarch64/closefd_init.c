// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /init of the aarch64 initramfs (tests/aarch64/run.sh boots it under qemu-system-aarch64):
 * runs src/closefd.c for real on an arm64 kernel. Each case forks a child that holds a socket
 * it leaked (X) and is blocked in a system call on another one (R); the parent closes X inside
 * the child through closefd_run() and checks that X is gone, that the blocked call is back in
 * the kernel with the same arguments (/proc/PID/task/TID/syscall), that it then returns what it
 * would have (the request sent on R) and that the child answers and exits normally.
 *
 * Prints TAP-like lines prefixed "A64: " on the console (the host script strips the prefix:
 * kernel messages may come between them), "A64: done" last, then powers the machine off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "closefd.h"

/* Bounded waits: TCG emulation on a loaded host is slow, but never this slow. */
#define WAIT_MS 20000

enum mode {
	MODE_READ,		/* blocked in read(R) */
	MODE_POLL,		/* blocked in poll(R) (ppoll on aarch64) */
	MODE_ACCEPT,		/* blocked in accept() on a listener of its own */
	MODE_THREAD_SPIN,	/* a second thread in read(R); the main one spins in user space */
	MODE_THREAD_JOIN,	/* a second thread in read(R); the main one in pthread_join */
	MODE_SLEEP,		/* blocked in a relative nanosleep (a restart_syscall restart) */
};

struct child {
	enum mode mode;
	int r;			/* the socket it is blocked on (or answers on) */
	int x;			/* the leaked socket the parent closes */
	int lsn;		/* MODE_ACCEPT's listener */
	atomic_bool done;	/* MODE_THREAD_*: the reader thread has finished */
};

static void result(bool good, const char *fmt, ...)
{
	va_list ap;

	printf("A64: %s - aarch64: ", good ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void nap(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int tcp_listen(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return fd;
}

/* The SIGUSR1s a child's handler saw: a handler has nowhere else to count. */
static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

/*
 * Answers one request on fd: what it read, whether the leaked fd is still open, how many
 * SIGUSR1 it handled.
 */
static void answer(int fd, const char *req, ssize_t n, int x)
{
	char out[128];
	int xerr = fcntl(x, F_GETFD) < 0 ? errno : 0;
	int len = snprintf(out, sizeof(out), "n=%zd data=%.*s xerr=%d sig=%d\n", n,
			   (int)(n > 0 ? n : 0), req, xerr, (int)usr1_seen);

	if (write(fd, out, (size_t)len) != len)
		_exit(5);
}

/* Requests on R until "quit": "reuse" puts another socket on X's number first. */
static void serve(struct child *c)
{
	for (;;) {
		char req[64];
		ssize_t n;

		if (c->mode == MODE_POLL) {
			struct pollfd p = { c->r, POLLIN, 0 };

			if (poll(&p, 1, -1) != 1)
				_exit(3);
		}
		n = read(c->r, req, sizeof(req));
		if (n <= 0)
			_exit(4);
		if (n == 4 && !memcmp(req, "quit", 4))
			return;
		if (n == 5 && !memcmp(req, "reuse", 5)) {
			int s = socket(AF_INET, SOCK_DGRAM, 0);

			if (s < 0 || dup2(s, c->x) < 0)
				_exit(6);
			close(s);
		}
		answer(c->r, req, n, c->x);
	}
}

static void *reader(void *arg)
{
	struct child *c = arg;

	serve(c);
	atomic_store(&c->done, true);
	return NULL;
}

static void child_main(struct child *c)
{
	/* SA_RESTART: a read it interrupts is made again, so the handler can run under our attach. */
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);

	switch (c->mode) {
	case MODE_ACCEPT: {
		char req[64];
		int a = accept(c->lsn, NULL, NULL);
		ssize_t n;

		if (a < 0)
			_exit(7);
		n = read(a, req, sizeof(req));
		answer(a, req, n, c->x);
		close(a);
		serve(c);
		break;
	}
	case MODE_THREAD_SPIN:
	case MODE_THREAD_JOIN:
		if (pthread_create(&t, NULL, reader, c))
			_exit(8);
		if (c->mode == MODE_THREAD_SPIN)
			while (!atomic_load_explicit(&c->done, memory_order_relaxed))
				;
		pthread_join(t, NULL);
		break;
	case MODE_SLEEP: {
		struct timespec d = { 3, 0 };
		double t0 = now_ms();
		char out[64];
		int len;

		if (nanosleep(&d, NULL) < 0)
			_exit(9);
		len = snprintf(out, sizeof(out), "slept=%.0f xerr=%d\n", now_ms() - t0,
			       fcntl(c->x, F_GETFD) < 0 ? errno : 0);
		if (write(c->r, out, (size_t)len) != len)
			_exit(5);
		serve(c);
		break;
	}
	default:
		serve(c);
	}
	_exit(0);
}

/* The first line of /proc/PID/task/TID/syscall (or "" when unreadable). */
static void syscall_line(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Waits until some thread of pid is blocked in system call nr; its tid, 0 on timeout. */
static pid_t wait_blocked(pid_t pid, long nr, char *line, size_t size)
{
	double deadline = now_ms() + WAIT_MS;

	while (now_ms() < deadline) {
		char path[64];
		DIR *d;
		struct dirent *e;
		pid_t found = 0;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		d = opendir(path);
		while (d && !found && (e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);

			if (tid <= 0)
				continue;
			syscall_line(pid, tid, line, size);
			if (line[0] && strtol(line, NULL, 10) == nr)
				found = tid;
		}
		if (d)
			closedir(d);
		if (found)
			return found;
		nap();
	}
	return 0;
}

/* Waits until tid's syscall line is want again (it re-entered the same call). */
static bool wait_line(pid_t pid, pid_t tid, const char *want, char *line, size_t size)
{
	double deadline = now_ms() + WAIT_MS;

	while (now_ms() < deadline) {
		syscall_line(pid, tid, line, size);
		if (!strcmp(line, want))
			return true;
		nap();
	}
	return false;
}

static bool fd_open_in(pid_t pid, int fd)
{
	char path[64], link[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	return readlink(path, link, sizeof(link)) >= 0;
}

/* One line from fd within WAIT_MS, or "" (timeout or end of file). */
static void read_reply(int fd, char *buf, size_t size)
{
	size_t len = 0;
	double deadline = now_ms() + WAIT_MS;

	buf[0] = '\0';
	while (len + 1 < size && now_ms() < deadline) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 100) != 1)
			continue;
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strchr(buf, '\n'))
			break;
	}
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Sends req on fd and checks the answer is want; again until then, within WAIT_MS, if again:
 * a signal handled by another thread than the one answering may run after its answer.
 */
static void ask_again(const char *name, int fd, const char *req, const char *want, bool again)
{
	double deadline = now_ms() + WAIT_MS;
	char got[128];

	do {
		if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
			got[0] = '\0';
		else
			read_reply(fd, got, sizeof(got));
		if (!strcmp(got, want) || !got[0])
			break;
		nap();
	} while (again && now_ms() < deadline);
	result(!strcmp(got, want), "%s: answers '%s' (got '%s')", name, want, got);
}

static void ask(const char *name, int fd, const char *req, const char *want)
{
	ask_again(name, fd, req, want, false);
}

/* Exit status 0 within WAIT_MS; kills it otherwise. */
static void reap(const char *name, pid_t pid)
{
	double deadline = now_ms() + WAIT_MS;
	int st = -1;
	pid_t r;

	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		nap();
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	result(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "%s: the child exits normally (%s %d)", name,
	       WIFSIGNALED(st) ? "killed by signal" : "exit status",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/*
 * closefd_run() on fd (and fd2 unless it is -1: both in one attach); NULL if each result is
 * want, else what went wrong, in why.
 */
static const char *run_close(pid_t pid, const int fd[2], const uint32_t inode[2], unsigned want,
			     char *why, size_t size)
{
	struct closefd_set set = { 0 };

	why[0] = '\0';
	for (int i = 0; i < 2 && fd[i] >= 0; i++)
		if (closefd_add(&set, pid, fd[i], inode[i]) < 0)
			snprintf(why, size, "closefd_add failed");
	if (!why[0])
		closefd_run(&set, "/proc", true);
	for (int i = 0; i < 2 && fd[i] >= 0 && !why[0]; i++) {
		const struct closefd_target *t = closefd_find(&set, inode[i], pid, fd[i]);

		if (!t)
			snprintf(why, size, "fd %d: no result", fd[i]);
		else if (t->result != want)
			snprintf(why, size, "fd %d: %s (%s, errno %d)", fd[i],
				 closefd_result_name(t->result), t->why ? t->why : "-", t->err);
	}
	closefd_set_free(&set);
	return why[0] ? why : NULL;
}

enum case_flags {
	CASE_REUSE = 1,		/* another socket on X's number first: closefd must say changed */
	CASE_USR1 = 2,		/* a SIGUSR1 just before the close, which must be handled once */
	CASE_TWO = 4,		/* two leaked sockets, closed in one attach */
};

static void run_case(const char *name, enum mode mode, long nr, int lsn, uint16_t lport,
		     unsigned flags)
{
	bool reuse = flags & CASE_REUSE, usr1 = flags & CASE_USR1;
	int x[2] = { -1, -1 };
	uint32_t ino[2] = { 0, 0 };
	char why[160];
	struct child c = { .mode = mode, .lsn = -1 };
	int peer = tcp_connect(lport), s = peer >= 0 ? accept(lsn, NULL, NULL) : -1;
	int clsn = -1, apeer = -1;
	uint16_t cport = 0;
	char before[256], after[256], want[128];
	struct stat st;
	const char *err;
	pid_t pid, tid;

	c.x = socket(AF_INET, SOCK_DGRAM, 0);
	if (flags & CASE_TWO)
		x[1] = socket(AF_INET, SOCK_DGRAM, 0);
	if (mode == MODE_ACCEPT)
		clsn = tcp_listen(&cport);
	if (s < 0 || c.x < 0 || fstat(c.x, &st) < 0 || (mode == MODE_ACCEPT && clsn < 0)) {
		result(false, "%s: set up the sockets: %s", name, strerror(errno));
		return;
	}
	x[0] = c.x;
	ino[0] = (uint32_t)st.st_ino;
	if (flags & CASE_TWO) {
		if (x[1] < 0 || fstat(x[1], &st) < 0) {
			result(false, "%s: set up the sockets: %s", name, strerror(errno));
			return;
		}
		ino[1] = (uint32_t)st.st_ino;
	}
	c.r = s;
	c.lsn = clsn;
	pid = fork();
	if (pid == 0) {
		close(peer);
		close(lsn);
		child_main(&c);
	}
	/* The child is the only holder of R and X, as a leaking server is. */
	close(s);
	close(c.x);
	if (x[1] >= 0)
		close(x[1]);
	if (clsn >= 0)
		close(clsn);
	if (reuse)
		ask(name, peer, "reuse", "n=5 data=reuse xerr=0 sig=0");
	if (mode == MODE_SLEEP) {
		/* Into the sleep first; half-way through it, the close. */
		tid = wait_blocked(pid, SYS_clock_nanosleep, before, sizeof(before));
		struct timespec half = { 1, 500 * 1000 * 1000 };

		if (tid)
			nanosleep(&half, NULL);
	} else {
		tid = wait_blocked(pid, nr, before, sizeof(before));
	}
	result(tid != 0, "%s: the child is blocked in system call %ld (%s)", name,
	       mode == MODE_SLEEP ? (long)SYS_clock_nanosleep : nr, before);
	if (!tid) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(peer);
		return;
	}
	if (usr1)
		kill(pid, SIGUSR1);
	err = run_close(pid, x, ino, reuse ? CLOSEFD_CHANGED : CLOSEFD_CLOSED, why, sizeof(why));
	result(!err, "%s: closefd_run says %s%s%s", name, reuse ? "changed" : "closed",
	       err ? ": " : "", err ? err : "");
	for (int i = 0; i < 2 && x[i] >= 0; i++)
		result(fd_open_in(pid, x[i]) == reuse, "%s: fd %d is %s /proc/%d/fd", name, x[i],
		       reuse ? "still in" : "gone from", pid);
	/* A relative sleep goes on in restart_syscall: not the same line. */
	if (mode != MODE_SLEEP)
		result(wait_line(pid, tid, before, after, sizeof(after)),
		       "%s: thread %d is back in the same call, same arguments ('%s', was '%s')",
		       name, tid, after, before);
	if (mode == MODE_ACCEPT) {
		apeer = tcp_connect(cport);
		ask(name, apeer, "hello", "n=5 data=hello xerr=9 sig=0");
		close(apeer);
	}
	if (mode == MODE_SLEEP) {
		char got[128];
		long slept = -1;
		int xerr = -1;

		read_reply(peer, got, sizeof(got));
		sscanf(got, "slept=%ld xerr=%d", &slept, &xerr);
		/* Left alone it sleeps 3 s; started over after the close, 4.5 s. */
		result(slept >= 2900 && slept < 4000 && xerr == EBADF,
		       "%s: the sleep ends on time, 3000 ms (got '%s')", name, got);
	}
	snprintf(want, sizeof(want), "n=4 data=ping xerr=%d sig=%d", reuse ? 0 : EBADF, usr1);
	ask_again(name, peer, "ping", want, usr1);
	if (write(peer, "quit", 4) != 4)
		result(false, "%s: send quit: %s", name, strerror(errno));
	reap(name, pid);
	close(peer);
}

int main(void)
{
	uint16_t port;
	int lsn, ret;

	/* A child that died must not take us with it when we write to its socket. */
	signal(SIGPIPE, SIG_IGN);
	mkdir("/proc", 0755);
	if (getpid() == 1 && mount("proc", "/proc", "proc", 0, NULL) < 0)
		result(false, "mount /proc: %s", strerror(errno));
	ret = lo_up();
	result(ret == 0, "lo is up (%s)", ret ? strerror(-ret) : "ok");
	lsn = tcp_listen(&port);
	if (lsn < 0) {
		result(false, "listen on 127.0.0.1: %s", strerror(errno));
	} else {
		run_case("read", MODE_READ, SYS_read, lsn, port, 0);
		run_case("poll", MODE_POLL, SYS_ppoll, lsn, port, 0);
		run_case("two-fds", MODE_READ, SYS_read, lsn, port, CASE_TWO);
		run_case("accept", MODE_ACCEPT, SYS_accept, lsn, port, 0);
		run_case("thread-spin", MODE_THREAD_SPIN, SYS_read, lsn, port, 0);
		run_case("thread-join", MODE_THREAD_JOIN, SYS_read, lsn, port, 0);
		run_case("thread-spin-two-fds", MODE_THREAD_SPIN, SYS_read, lsn, port, CASE_TWO);
		run_case("changed", MODE_READ, SYS_read, lsn, port, CASE_REUSE);
		run_case("signal", MODE_READ, SYS_read, lsn, port, CASE_USR1);
		run_case("thread-signal", MODE_THREAD_JOIN, SYS_read, lsn, port, CASE_USR1);
		run_case("nanosleep", MODE_SLEEP, SYS_clock_nanosleep, lsn, port, 0);
	}
	printf("A64: done\n");
	fflush(stdout);
	/* Only as the guest's init: run anywhere else by mistake, it must not power anything off. */
	if (getpid() != 1)
		return 0;
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
