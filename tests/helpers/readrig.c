// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * readrig: one TCP connection whose two ends are each blocked in read() in a process of their
 * own, to see what each end's reader gets when the connection is ended from outside (the
 * shutdown engine: end-of-file on both; destroy or rst: an error).
 *
 *   readrig [-a ADDR] [-p PORT]
 *
 * The holder (this process) accepts the connection and blocks in read() in a second thread;
 * the peer (a forked child, dying with the holder) connects and blocks in read(). Prints
 * "ready HOLDER PEER FD" (FD: the holder's descriptor of its end). Commands on stdin:
 *   report  prints "holder=R peer=R write=W fd=F": R is blocked, eof or an errno name (what the
 *           read returned), W what a one-byte send on the holder's fd gives now (ok or an
 *           errno name; only once its read returned), F open or closed (the holder's fd)
 *   swap    moves the holder's end to a new descriptor and puts a fresh, unconnected socket
 *           on FD (a descriptor reused for another socket); prints "swapped NEWFD"
 *   quit    (or end of input) exits
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define RIG_NAME "readrig"
#include "rig.h"

/* A read's result: RES_BLOCKED while it waits, 0 for end-of-file, else the errno it failed with. */
#define RES_BLOCKED (-1)

struct reader {
	int fd;
	_Atomic int res;
};

static int read_once(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	/* Data is never sent on this connection: anything read is a rig error, said as EPROTO. */
	return n == 0 ? 0 : n < 0 ? errno : EPROTO;
}

static void *holder_read(void *arg)
{
	struct reader *r = arg;

	atomic_store(&r->res, read_once(r->fd));
	return NULL;
}

static const char *res_name(int res)
{
	if (res == RES_BLOCKED)
		return "blocked";
	if (res == 0)
		return "eof";
	const char *name = strerrorname_np(res);

	return name ? name : "EUNKNOWN";
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = 9000, opt, one = 1;
	struct sockaddr_storage ss;
	socklen_t sl;
	char line[64];

	while ((opt = getopt(argc, argv, "a:p:")) != -1) {
		if (opt == 'a')
			addr = optarg;
		else if (opt == 'p')
			port = atoi(optarg);
		else
			return 2;
	}
	sl = rig_addr(addr, port, &ss);
	int lfd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&ss, sl) < 0 || listen(lfd, 1) < 0)
		rig_die("listen");
	/* The peer's result, shared with the holder so that one report says both. */
	_Atomic int *peer_res = mmap(NULL, sizeof(*peer_res), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (peer_res == MAP_FAILED)
		rig_die("mmap");
	atomic_store(peer_res, RES_BLOCKED);
	pid_t holder = getpid(), peer = fork();

	if (peer < 0)
		rig_die("fork");
	if (peer == 0) {
		int cfd = socket(ss.ss_family, SOCK_STREAM, 0);

		close(lfd);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != holder)
			_exit(1);
		if (cfd < 0 || connect(cfd, (struct sockaddr *)&ss, sl) < 0)
			rig_die("connect");
		atomic_store(peer_res, read_once(cfd));
		for (;;)
			pause();
	}
	struct reader r = { accept(lfd, NULL, NULL), RES_BLOCKED };
	pthread_t t;

	if (r.fd < 0)
		rig_die("accept");
	close(lfd); /* only the connection is left to select */
	if (pthread_create(&t, NULL, holder_read, &r))
		rig_die("pthread_create");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	printf("ready %d %d %d\n", (int)holder, (int)peer, r.fd);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "report\n")) {
			int res = atomic_load(&r.res);
			const char *w = "-";

			if (res != RES_BLOCKED)
				w = send(r.fd, "x", 1, MSG_NOSIGNAL) == 1 ? "ok"
								       : res_name(errno);
			printf("holder=%s peer=%s write=%s fd=%s\n", res_name(res),
			       res_name(atomic_load(peer_res)), w,
			       fcntl(r.fd, F_GETFD) < 0 ? "closed" : "open");
		} else if (!strcmp(line, "swap\n")) {
			int moved = dup(r.fd), fresh = socket(ss.ss_family, SOCK_STREAM, 0);

			if (moved < 0 || fresh < 0 || dup2(fresh, r.fd) < 0)
				rig_die("swap");
			close(fresh);
			printf("swapped %d\n", moved);
		} else if (!strcmp(line, "quit\n")) {
			break;
		}
	}
	return 0;
}
