/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * leakrig PORT [--nofile N] [--threads K] [--seccomp-close trap|errno|kill]: a TCP server on
 * 127.0.0.1:PORT that leaks: a connection its peer closes is never closed (CLOSE_WAIT), so
 * the server runs into its own RLIMIT_NOFILE (N, default 48) and stops accepting (EMFILE), as
 * leaky servers do. "ping\n" is answered "pong\n", and a connection that said ping is closed
 * properly at its end (the leak is in the other path). For --close-fd's tests.
 *
 * The main thread blocks in read() on a pipe the whole time (a thread stopped inside a
 * blocking call: it must keep blocking, then get its data); the server runs in a thread of its
 * own; K more threads sleep in nanosleep() (a restart_syscall case). Commands on stdin, one
 * line each, answered on stdout:
 *   fds            "fds N": descriptors open now
 *   stats          "stats accepted A leaked L emfile E served S"
 *   leaked         "leaked FD..." the leaked descriptors still open
 *   feed TEXT      the main thread's read() gets TEXT: it answers "got TEXT"
 *   swap           each leaked fd is made to refer to a new socket (the old one kept on another
 *                  fd): "swapped N"
 *   fork           a child that inherits every fd and pauses: "child PID"
 *   sleepers       "sleepers N": how many sleeper threads woke early (should be 0)
 * --seccomp-close: once ready, a seccomp filter on every thread makes close() raise SIGSYS
 * (trap: the default action kills the rig), fail with EPERM (errno) or kill the process (kill),
 * as a sandboxed service's policy might; the leak path never closes, so the rig runs on until
 * something else does.
 */
#define RIG_NAME "leakrig"
#include "rig.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096

struct rig {
	int lfd;
	int feed[2];		/* server thread -> main thread's blocking read */
	int conns[MAX_CONNS];	/* served connections, -1 free */
	bool pinged[MAX_CONNS];	/* said ping: closed properly at its end (the leak is elsewhere) */
	int leaked[MAX_CONNS];
	size_t nleaked;
	unsigned long accepted, emfile, served;
	int early_wakeups;	/* sleepers that woke before their time */
	pthread_mutex_t lock;
	FILE *out;
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

/* Sleeps 1 h in one nanosleep: a wakeup before that (an un-restarted call) is counted. */
static void *sleeper(void *arg)
{
	struct rig *r = arg;
	struct timespec t0, t1, ts = { 3600, 0 };

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		syscall(SYS_nanosleep, &ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec < 3599) {
			pthread_mutex_lock(&r->lock);
			r->early_wakeups++;
			pthread_mutex_unlock(&r->lock);
		}
	}
	return NULL;
}

static void command(struct rig *r, char *line)
{
	line[strcspn(line, "\n")] = '\0';
	if (!strcmp(line, "fds")) {
		fprintf(r->out, "fds %d\n", count_fds());
	} else if (!strcmp(line, "stats")) {
		fprintf(r->out, "stats accepted %lu leaked %zu emfile %lu served %lu\n", r->accepted,
			r->nleaked, r->emfile, r->served);
	} else if (!strcmp(line, "leaked")) {
		fputs("leaked", r->out);
		for (size_t i = 0; i < r->nleaked; i++)
			if (fcntl(r->leaked[i], F_GETFD) >= 0)
				fprintf(r->out, " %d", r->leaked[i]);
		fputc('\n', r->out);
	} else if (!strncmp(line, "feed ", 5)) {
		if (write(r->feed[1], line + 5, strlen(line + 5)) < 0)
			rig_die("feed");
		return; /* the main thread answers */
	} else if (!strcmp(line, "swap")) {
		int n = 0;

		for (size_t i = 0; i < r->nleaked; i++) {
			int keep = dup(r->leaked[i]), s = socket(AF_INET, SOCK_STREAM, 0);

			if (keep < 0 || s < 0 || dup2(s, r->leaked[i]) < 0)
				rig_die("swap");
			close(s);
			n++;
		}
		fprintf(r->out, "swapped %d\n", n);
	} else if (!strcmp(line, "fork")) {
		pid_t pid;

		fflush(r->out);
		pid = fork();
		if (pid < 0)
			rig_die("fork");
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		fprintf(r->out, "child %d\n", (int)pid);
	} else if (!strcmp(line, "sleepers")) {
		pthread_mutex_lock(&r->lock);
		fprintf(r->out, "sleepers %d\n", r->early_wakeups);
		pthread_mutex_unlock(&r->lock);
	} else {
		fprintf(r->out, "unknown command %s\n", line);
	}
	fflush(r->out);
}

/* One connection has data or an end: answer a ping, leak an end. */
static void serve(struct rig *r, int i)
{
	char buf[256];
	ssize_t n = read(r->conns[i], buf, sizeof(buf));

	if (n > 0) {
		if (n >= 4 && !memcmp(buf, "ping", 4) && write(r->conns[i], "pong\n", 5) == 5) {
			r->served++;
			r->pinged[i] = true;
		}
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	if (r->pinged[i]) {
		close(r->conns[i]);
		r->conns[i] = -1;
		r->pinged[i] = false;
		return;
	}
	/* The leak: the peer is gone, and the descriptor is forgotten, never closed. */
	if (r->nleaked < MAX_CONNS)
		r->leaked[r->nleaked++] = r->conns[i];
	r->conns[i] = -1;
}

static void *server(void *arg)
{
	struct rig *r = arg;
	static struct pollfd p[MAX_CONNS + 2];
	static int at[MAX_CONNS + 2];
	char line[512];
	size_t llen = 0;

	for (;;) {
		nfds_t n = 0;
		bool full = false;

		p[n++] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		p[n++] = (struct pollfd){ r->lfd, POLLIN, 0 };
		for (int i = 0; i < MAX_CONNS; i++)
			if (r->conns[i] >= 0) {
				at[n] = i;
				p[n++] = (struct pollfd){ r->conns[i], POLLIN, 0 };
			}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			rig_die("poll");
		}
		if (p[0].revents) {
			ssize_t k = read(STDIN_FILENO, line + llen, sizeof(line) - 1 - llen);

			if (k <= 0)
				exit(0);
			llen += (size_t)k;
			line[llen] = '\0';
			char *nl;

			while ((nl = strchr(line, '\n'))) {
				*nl = '\0';
				command(r, line);
				llen -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, llen + 1);
			}
		}
		for (nfds_t k = 2; k < n; k++)
			if (p[k].revents)
				serve(r, at[k]);
		if (p[1].revents) {
			int c = accept(r->lfd, NULL, NULL);

			if (c < 0 && (errno == EMFILE || errno == ENFILE)) {
				/* What leaky servers do: try again a little later. */
				r->emfile++;
				full = true;
			} else if (c >= 0) {
				int i = 0;

				while (i < MAX_CONNS && r->conns[i] >= 0)
					i++;
				if (i == MAX_CONNS)
					close(c);
				else
					r->conns[i] = c;
				r->accepted++;
			}
		}
		if (full)
			usleep(20000);
	}
	return NULL;
}

/* close() trapped (SIGSYS) or refused (EPERM) in every thread; everything else allowed. */
static void seccomp_close(const char *how)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, !strcmp(how, "trap") ? SECCOMP_RET_TRAP
				: !strcmp(how, "kill") ? SECCOMP_RET_KILL_PROCESS
				: SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
		rig_die("seccomp");
}

int main(int argc, char **argv)
{
	const char *seccomp = NULL;
	static struct rig r;
	struct sockaddr_storage ss;
	socklen_t len;
	pthread_t t;
	long nofile = 48, threads = 0;
	char buf[512];
	int one = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: leakrig PORT [--nofile N] [--threads K] "
				"[--seccomp-close trap|errno|kill]\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--nofile"))
			nofile = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			threads = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--seccomp-close"))
			seccomp = argv[i + 1];
	}
	struct rlimit rl = { (rlim_t)nofile, (rlim_t)nofile };

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		rig_die("setrlimit");
	r.out = stdout;
	pthread_mutex_init(&r.lock, NULL);
	for (int i = 0; i < MAX_CONNS; i++)
		r.conns[i] = -1;
	if (pipe(r.feed) < 0)
		rig_die("pipe");
	len = rig_addr("127.0.0.1", atoi(argv[1]), &ss);
	r.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (r.lfd < 0 || setsockopt(r.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(r.lfd, (struct sockaddr *)&ss, len) < 0 || listen(r.lfd, 128) < 0)
		rig_die("listen");
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t, NULL, sleeper, &r))
			rig_die("thread");
	if (pthread_create(&t, NULL, server, &r))
		rig_die("thread");
	if (seccomp)
		seccomp_close(seccomp);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		/* The main thread's blocking read: whatever --close-fd does, it gets TEXT. */
		ssize_t n = read(r.feed[0], buf, sizeof(buf) - 1);

		if (n < 0 && errno == EINTR) {
			pthread_mutex_lock(&r.lock);
			fprintf(r.out, "eintr\n");
			fflush(r.out);
			pthread_mutex_unlock(&r.lock);
			continue;
		}
		if (n <= 0)
			rig_die("read");
		buf[n] = '\0';
		fprintf(r.out, "got %s\n", buf);
		fflush(r.out);
	}
}
