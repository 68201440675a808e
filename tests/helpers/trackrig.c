// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * trackrig: TCP connections put into CLOSE_WAIT, out of it and onto the same 4-tuple again on
 * command, for the watcher's state tracker (tests/integration/test_watch_track.sh): the
 * tracker must follow sockets that change state after the watcher started.
 *
 *   trackrig [-a ADDR] [-l LISTEN_ADDR] [-p PORT] [-c CLIENT_PORT]
 *
 * The listener is on LISTEN_ADDR (default ADDR: with -l :: and an IPv4 ADDR, the server ends are
 * IPv6 sockets with v4-mapped addresses).
 * Connection slot I is from CLIENT_PORT + I (bound with SO_REUSEADDR) to PORT, so that a new
 * connection in a slot has the 4-tuple of the one before it. Commands on stdin, each answered
 * with one line ("ok", or "state S" for state):
 *   cw I      a new connection in slot I; its client end shuts down writing: the held server
 *             end goes CLOSE_WAIT
 *   leave I   the server end of slot I shuts down writing too: LAST_ACK, then CLOSE (held)
 *   reset I   the client end of slot I resets the connection (SO_LINGER 0) and both fds are
 *             closed: nothing is left on the 4-tuple, not even TIME_WAIT
 *   state I   the server end's TCP state number (-1: none)
 *   quit
 * Prints "ready PID" when listening.
 */
#include <stdbool.h>
#include <unistd.h>

#define RIG_NAME "trackrig"
#include "rig.h"

#define SLOTS 64

struct slot {
	int cli, srv;
};

static void close_slot(struct slot *s)
{
	if (s->cli >= 0)
		close(s->cli);
	if (s->srv >= 0)
		close(s->srv);
	s->cli = s->srv = -1;
}

static void open_slot(struct slot *s, int lfd, const char *addr, int port, int cport)
{
	struct sockaddr_storage to, from;
	socklen_t tl = rig_addr(addr, port, &to), fl = rig_addr(addr, cport, &from);
	int one = 1;

	close_slot(s);
	s->cli = socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->cli < 0)
		rig_die("socket");
	setsockopt(s->cli, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->cli, (struct sockaddr *)&from, fl) < 0)
		rig_die("bind client");
	if (connect(s->cli, (struct sockaddr *)&to, tl) < 0)
		rig_die("connect");
	s->srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s->srv < 0)
		rig_die("accept");
	if (shutdown(s->cli, SHUT_WR) < 0)
		rig_die("shutdown");
}

/* Until the server end of s is in state (bounded: 5 s); loopback settles in microseconds. */
static void settle(const struct slot *s, int state)
{
	for (int i = 0; i < 5000 && rig_tcp_state(s->srv) != state; i++)
		usleep(1000);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *laddr = NULL;
	int port = 7600, cport = 37600, opt, one = 1, i;
	struct slot slots[SLOTS];
	struct sockaddr_storage ss;
	char line[128], cmd[16];
	socklen_t sl;
	int lfd;

	while ((opt = getopt(argc, argv, "a:l:p:c:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'l':
			laddr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			cport = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: trackrig [-a ADDR] [-l LISTEN_ADDR] [-p PORT] "
					"[-c CLIENT_PORT]\n");
			return 2;
		}
	}
	for (i = 0; i < SLOTS; i++)
		slots[i].cli = slots[i].srv = -1;
	sl = rig_addr(laddr ? laddr : addr, port, &ss);
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		rig_die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, sl) < 0 || listen(lfd, 64) < 0)
		rig_die("listen");
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		struct slot *s;

		if (!strcmp(line, "quit\n"))
			break;
		if (sscanf(line, "%15s %d", cmd, &i) != 2 || i < 0 || i >= SLOTS) {
			printf("bad command\n");
			fflush(stdout);
			continue;
		}
		s = &slots[i];
		if (!strcmp(cmd, "cw")) {
			open_slot(s, lfd, addr, port, cport + i);
			settle(s, TCP_CLOSE_WAIT);
		} else if (!strcmp(cmd, "leave") && s->srv >= 0) {
			shutdown(s->srv, SHUT_WR);
			settle(s, TCP_CLOSE);
		} else if (!strcmp(cmd, "reset") && s->cli >= 0) {
			struct linger lg = { 1, 0 };

			setsockopt(s->cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(s->cli);
			s->cli = -1;
			settle(s, TCP_CLOSE);
			close_slot(s);
		} else if (!strcmp(cmd, "state")) {
			printf("state %d\n", s->srv >= 0 ? rig_tcp_state(s->srv) : -1);
			fflush(stdout);
			continue;
		}
		printf("ok\n");
		fflush(stdout);
	}
	for (i = 0; i < SLOTS; i++)
		close_slot(&slots[i]);
	close(lfd);
	return 0;
}
