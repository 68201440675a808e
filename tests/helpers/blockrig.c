/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blockrig PORT [MS]: an owner of a CLOSE_WAIT socket (127.0.0.1:PORT, server end held) whose
 * other threads each sit in one blocking call while --close-fd stops the process: with no
 * timeout, epoll_wait (on an eventfd), sigwaitinfo (SIGUSR1, blocked everywhere) and semop
 * (a semaphore at 0); a relative futex wait and a relative nanosleep of MS (default 3000).
 * For tests/integration/test_closefd.sh: each call must end as it would have without us (the
 * untimed ones when woken, not with EINTR; the timed ones after MS, not before and not MS
 * again from the stop). When a call returns, its thread prints
 *   NAME rc=R errno=E ms=T        (NAME: epoll, sigwait, semop, futex or nanosleep)
 * Commands on stdin: "wake" writes the eventfd (epoll_wait returns 1), raises SIGUSR1
 * (sigwaitinfo returns 10) and posts the semaphore (semop returns 0); "quit".
 * Prints "ready PID" once every thread has been started.
 */
#define RIG_NAME "blockrig"
#include "rig.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct blockrig {
	int ep, efd, sem;
	long ms;
	uint32_t futex_word;
	pthread_mutex_t out;
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void report(struct blockrig *r, const char *name, long rc, int err, double t0)
{
	pthread_mutex_lock(&r->out);
	printf("%s rc=%ld errno=%d ms=%.0f\n", name, rc, rc < 0 ? err : 0, now_ms() - t0);
	fflush(stdout);
	pthread_mutex_unlock(&r->out);
}

static void *in_epoll(void *arg)
{
	struct blockrig *r = arg;
	struct epoll_event ev;
	double t0 = now_ms();
	long rc = epoll_wait(r->ep, &ev, 1, -1);

	report(r, "epoll", rc, errno, t0);
	return NULL;
}

static void *in_sigwait(void *arg)
{
	struct blockrig *r = arg;
	sigset_t set;
	double t0 = now_ms();
	long rc;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	rc = sigwaitinfo(&set, NULL);
	report(r, "sigwait", rc, errno, t0);
	return NULL;
}

static void *in_semop(void *arg)
{
	struct blockrig *r = arg;
	struct sembuf down = { 0, -1, 0 };
	double t0 = now_ms();
	long rc = semop(r->sem, &down, 1);

	report(r, "semop", rc, errno, t0);
	return NULL;
}

/* Raw calls: glibc's wrappers may turn a relative wait into an absolute one. */
static void *in_futex(void *arg)
{
	struct blockrig *r = arg;
	struct timespec ts = { r->ms / 1000, (r->ms % 1000) * 1000000L };
	double t0 = now_ms();
	long rc = syscall(SYS_futex, &r->futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);

	report(r, "futex", rc, errno, t0);
	return NULL;
}

static void *in_nanosleep(void *arg)
{
	struct blockrig *r = arg;
	struct timespec ts = { r->ms / 1000, (r->ms % 1000) * 1000000L };
	double t0 = now_ms();
	long rc = syscall(SYS_nanosleep, &ts, NULL);

	report(r, "nanosleep", rc, errno, t0);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct blockrig r = { .futex_word = 0, .out = PTHREAD_MUTEX_INITIALIZER };
	void *(*const fns[])(void *) = { in_epoll, in_sigwait, in_semop, in_futex,
					 in_nanosleep };
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss;
	socklen_t len;
	char line[64];
	pthread_t t;
	sigset_t usr1;
	int lfd, cfd, one = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: blockrig PORT [MS]\n");
		return 2;
	}
	r.ms = argc > 2 ? atol(argv[2]) : 3000;
	len = rig_addr("127.0.0.1", atoi(argv[1]), &ss);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || cfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 4) ||
	    connect(cfd, (struct sockaddr *)&ss, len))
		rig_die("listen/connect");
	/* The server end is held, the client end closed: CLOSE_WAIT, the socket to close. */
	if (accept(lfd, NULL, NULL) < 0)
		rig_die("accept");
	close(cfd);
	/* Blocked in every thread (inherited): only sigwaitinfo takes it. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	r.sem = semget(IPC_PRIVATE, 1, 0600);
	if (r.sem < 0)
		rig_die("semget");
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	r.efd = eventfd(0, EFD_CLOEXEC);
	if (r.ep < 0 || r.efd < 0 || epoll_ctl(r.ep, EPOLL_CTL_ADD, r.efd, &ev))
		rig_die("epoll");
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (pthread_create(&t, NULL, fns[i], &r))
			rig_die("pthread_create");
	pthread_mutex_lock(&r.out);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	pthread_mutex_unlock(&r.out);
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t one64 = 1;
		struct sembuf up = { 0, 1, 0 };

		if (!strncmp(line, "wake", 4) &&
		    (write(r.efd, &one64, sizeof(one64)) < 0 || kill(getpid(), SIGUSR1) < 0 ||
		     semop(r.sem, &up, 1) < 0))
			rig_die("wake");
		if (!strncmp(line, "quit", 4))
			break;
	}
	semctl(r.sem, 0, IPC_RMID);
	return 0;
}
