// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pairrig: TCP connections between two network namespaces (joined by the test's veth pair),
 * one per requested state of the local end, and what each end's holder sees afterwards.
 *
 *   pairrig -l LOCAL_NS -r PEER_NS -a LOCAL_ADDR -A LASTACK_ADDR -b PEER_ADDR -p PORT STATE...
 *
 * Connection i listens at LOCAL_ADDR:PORT+i in LOCAL_NS (namespaces by /run/netns path) and
 * is connected from PEER_NS; the local end is the accepted socket. STATE is the local end's:
 *   close-wait         the peer shut down its side (peer held in FIN_WAIT_2)
 *   established        nothing closed
 *   fin-wait-2         the local end shut down its side (held; the peer holds CLOSE_WAIT)
 *   fin-wait-2-orphan  the same, then the local fd closed (a TIME_WAIT-table FIN_WAIT_2)
 *   last-ack           listens on LASTACK_ADDR; CLOSE_WAIT until the "last-ack" command, which
 *                      closes it (the test first blackholes LASTACK_ADDR in the peer namespace
 *                      so the FIN is never acknowledged)
 *   time-wait          the local end closed first, then the peer: local TIME_WAIT, nothing held
 *
 * Prints "ready". Commands on stdin: "last-ack" (prints "ok"), "report" (one line per
 * connection: "STATE local=SEEN peer=SEEN", SEEN being open, eof, data, an errno name, eof+EPIPE
 * (closed after a FIN: reads end, writes fail), or - for an end not held), "quit".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RIG_NAME "pairrig"
#include "rig.h"

#define MAXCONN 16

struct conn {
	const char *state;
	int local;	/* -1: not held */
	int peer;
};


static int nsfd(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		rig_die(path);
	return fd;
}

static void enter(int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		rig_die("setns");
}


/* Waits (up to 5 s) for fd to reach a TCP state. */
static void wait_state(int fd, int state, const char *what)
{
	for (int i = 0; i < 500; i++) {
		if (rig_tcp_state(fd) == state)
			return;
		usleep(10000);
	}
	fprintf(stderr, "pairrig: %s: state %d, expected %d\n", what, rig_tcp_state(fd), state);
	exit(1);
}

static const char *seen(int fd)
{
	static char buf[32];
	char c;

	if (fd < 0)
		return "-";
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);

	if (r == 0 && rig_tcp_state(fd) != TCP_CLOSE)
		return "eof";
	if (r == 0) {
		/* End of file first (a FIN came before the reset); a write then tells why. */
		if (send(fd, "", 0, MSG_NOSIGNAL | MSG_DONTWAIT) == 0)
			return "eof+closed";
		snprintf(buf, sizeof(buf), "eof+%s", errno == EPIPE ? "EPIPE" : "other");
		return buf;
	}
	if (r > 0)
		return "data";
	switch (errno) {
	case EAGAIN:
		return rig_tcp_state(fd) == TCP_CLOSE ? "closed" : "open";
	case ECONNRESET:
		return "ECONNRESET";
	case EPIPE:
		return "EPIPE";
	case ECONNABORTED:
		return "ECONNABORTED";
	default:
		snprintf(buf, sizeof(buf), "errno%d", errno);
		return buf;
	}
}

int main(int argc, char **argv)
{
	const char *lns = NULL, *pns = NULL, *laddr = NULL, *lastack = NULL, *paddr = NULL;
	struct conn conns[MAXCONN];
	int port = 0, opt, n = 0;
	char line[64];

	while ((opt = getopt(argc, argv, "l:r:a:A:b:p:")) != -1) {
		switch (opt) {
		case 'l': lns = optarg; break;
		case 'r': pns = optarg; break;
		case 'a': laddr = optarg; break;
		case 'A': lastack = optarg; break;
		case 'b': paddr = optarg; break;
		case 'p': port = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!lns || !pns || !laddr || !paddr || !port || optind == argc ||
	    argc - optind > MAXCONN) {
		fprintf(stderr, "usage: pairrig -l NS -r NS -a ADDR [-A ADDR] -b ADDR -p PORT STATE...\n");
		return 2;
	}
	int lfd = nsfd(lns), pfd = nsfd(pns);

	for (int i = optind; i < argc; i++, n++) {
		struct conn *c = &conns[n];
		const char *st = argv[i];
		const char *at = !strcmp(st, "last-ack") && lastack ? lastack : laddr;
		struct sockaddr_storage ss;
		socklen_t len = rig_addr(at, port + n, &ss);
		int one = 1;

		c->state = st;
		enter(lfd);
		int l = socket(ss.ss_family, SOCK_STREAM, 0);

		if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 1) < 0)
			rig_die("listen");
		enter(pfd);
		c->peer = socket(ss.ss_family, SOCK_STREAM, 0);
		if (c->peer < 0 || connect(c->peer, (struct sockaddr *)&ss, len) < 0)
			rig_die("connect");
		enter(lfd);
		c->local = accept(l, NULL, NULL);
		if (c->local < 0)
			rig_die("accept");
		close(l);

		if (!strcmp(st, "close-wait") || !strcmp(st, "last-ack")) {
			shutdown(c->peer, SHUT_WR);
			wait_state(c->local, TCP_CLOSE_WAIT, st);
		} else if (!strcmp(st, "fin-wait-2") || !strcmp(st, "fin-wait-2-orphan")) {
			shutdown(c->local, SHUT_WR);
			wait_state(c->local, TCP_FIN_WAIT2, st);
			if (!strcmp(st, "fin-wait-2-orphan")) {
				close(c->local);
				c->local = -1;
			}
		} else if (!strcmp(st, "time-wait")) {
			close(c->local);
			c->local = -1;
			wait_state(c->peer, TCP_CLOSE_WAIT, st);
			close(c->peer);
			c->peer = -1;
		} else if (strcmp(st, "established")) {
			fprintf(stderr, "pairrig: unknown state \"%s\"\n", st);
			return 2;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "last-ack\n")) {
			for (int i = 0; i < n; i++)
				if (!strcmp(conns[i].state, "last-ack") && conns[i].local >= 0) {
					close(conns[i].local);
					conns[i].local = -1;
				}
			printf("ok\n");
		} else if (!strcmp(line, "report\n")) {
			for (int i = 0; i < n; i++) {
				printf("%s local=%s", conns[i].state, seen(conns[i].local));
				printf(" peer=%s\n", seen(conns[i].peer));
			}
			printf("end\n");
		} else if (!strcmp(line, "quit\n")) {
			break;
		}
		fflush(stdout);
	}
	return 0;
}
