// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockrig: a test rig that builds N loopback (or namespace-local) TCP connections in a chosen
 * state, holds them, and on request reports what the holder sees on each held socket.
 *
 *   sockrig [-a ADDR] [-p PORT] [-n N] [-F] [-d IFNAME] MODE
 *   MODE: close-wait   holds N server ends in CLOSE_WAIT (client ends closed: FIN_WAIT_2 orphans)
 *         established  holds both ends of N connections
 *         fin-wait-2   holds N client ends in FIN_WAIT_2 and their server ends in CLOSE_WAIT
 *         time-wait    leaves N client ends in TIME_WAIT, holds nothing
 *         listen       holds only the listener
 *         unaccepted   holds the listener; N connections never accepted, their client ends
 *                      closed: server ends in CLOSE_WAIT in the accept queue, without a file
 *         udp          holds one UDP socket bound at PORT and N UDP sockets connected to it,
 *                      the first of them bound explicitly to PORT + 1, the rest autobound
 *         reuseport    holds N TCP listeners sharing PORT with SO_REUSEPORT (one group)
 *
 * -d binds the TCP listener to device IFNAME (SO_BINDTODEVICE), for the dev predicate (with
 * listen -n 0: a device other than lo carries no loopback connection).
 * -F (the connection modes) forks once the sockets are set up: parent and child both hold
 * every socket (the child dies with the parent). Prints "ready PID" when set up ("ready PID
 * CHILD" with -F). Reads commands on stdin: "report" prints
 * "held=N closed=N eof=N ECONNABORTED=N ECONNRESET=N EAGAIN=N other=N" (TCP_INFO state first,
 * then one non-blocking recv per held socket); "quit" or end of input exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define RIG_NAME "sockrig"
#include "rig.h"


/* -F: a child that shares every fd and waits for the parent to die. Returns the child's pid. */
static pid_t fork_holder(void)
{
	pid_t parent = getpid(), child = fork();

	if (child < 0)
		rig_die("fork");
	if (child == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		for (;;)
			pause();
	}
	return child;
}

static void report(const int *held, int n)
{
	int closed = 0, eof = 0, aborted = 0, reset = 0, again = 0, other = 0;

	for (int i = 0; i < n; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		char c;

		if (getsockopt(held[i], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
		    ti.tcpi_state == TCP_CLOSE)
			closed++;
		ssize_t r = recv(held[i], &c, 1, MSG_DONTWAIT | MSG_PEEK);

		if (r == 0)
			eof++;
		else if (r > 0)
			other++;
		else if (errno == ECONNABORTED)
			aborted++;
		else if (errno == ECONNRESET)
			reset++;
		else if (errno == EAGAIN)
			again++;
		else
			other++;
	}
	printf("held=%d closed=%d eof=%d ECONNABORTED=%d ECONNRESET=%d EAGAIN=%d other=%d\n", n,
	       closed, eof, aborted, reset, again, other);
	fflush(stdout);
}

static int udp_rig(const char *addr, int port, int n)
{
	struct sockaddr_storage ss;
	socklen_t sl = rig_addr(addr, port, &ss);
	int *held = calloc((size_t)n + 1, sizeof(int));
	char line[64];

	if (!held)
		rig_die("calloc");
	held[0] = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (held[0] < 0 || bind(held[0], (struct sockaddr *)&ss, sl) < 0)
		rig_die("udp bind");
	for (int i = 1; i <= n; i++) {
		struct sockaddr_storage local;
		socklen_t ll = rig_addr(addr, port + 1, &local);

		held[i] = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (held[i] < 0 || (i == 1 && bind(held[i], (struct sockaddr *)&local, ll) < 0) ||
		    connect(held[i], (struct sockaddr *)&ss, sl) < 0)
			rig_die("udp connect");
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "report\n"))
			report(held, n + 1);
		else if (!strcmp(line, "quit\n"))
			break;
	}
	free(held);
	return 0;
}

static int reuseport_rig(const char *addr, int port, int n)
{
	struct sockaddr_storage ss;
	socklen_t sl = rig_addr(addr, port, &ss);
	int *held = calloc((size_t)n + 1, sizeof(int)), one = 1;
	char line[64];

	if (!held)
		rig_die("calloc");
	for (int i = 0; i < n; i++) {
		held[i] = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (held[i] < 0 ||
		    setsockopt(held[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
		    bind(held[i], (struct sockaddr *)&ss, sl) < 0 || listen(held[i], 16) < 0)
			rig_die("reuseport listen");
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "report\n"))
			report(held, n);
		else if (!strcmp(line, "quit\n"))
			break;
	}
	free(held);
	return 0;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *dev = NULL;
	int port = 7000, n = 10, opt, one = 1;
	bool forked = false;
	struct sockaddr_storage ss;
	socklen_t sl;
	char line[64];

	while ((opt = getopt(argc, argv, "a:p:n:Fd:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'F':
			forked = true;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'n':
			n = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: sockrig [-a ADDR] [-p PORT] [-n N] [-F] [-d IFNAME] MODE\n");
			return 2;
		}
	}
	if (optind != argc - 1 || n < 0 || n > 9000) {
		fprintf(stderr, "usage: sockrig [-a ADDR] [-p PORT] [-n N<=9000] [-F] [-d IFNAME] MODE\n");
		return 2;
	}
	const char *mode = argv[optind];

	if (!strcmp(mode, "udp"))
		return udp_rig(addr, port, n);
	if (!strcmp(mode, "reuseport"))
		return reuseport_rig(addr, port, n);
	int *cli = calloc((size_t)n + 1, sizeof(int)), *srv = calloc((size_t)n + 1, sizeof(int));
	int *held = calloc(2 * (size_t)n + 1, sizeof(int)), nheld = 0;

	if (!cli || !srv || !held)
		rig_die("calloc");
	sl = rig_addr(addr, port, &ss);
	int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (lfd < 0)
		rig_die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (dev && setsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) < 0)
		rig_die("SO_BINDTODEVICE");
	if (bind(lfd, (struct sockaddr *)&ss, sl) < 0)
		rig_die("bind");
	if (listen(lfd, 4096) < 0)
		rig_die("listen");
	for (int i = 0; i < n; i++) {
		cli[i] = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cli[i] < 0)
			rig_die("socket");
		if (connect(cli[i], (struct sockaddr *)&ss, sl) < 0)
			rig_die("connect");
		if (!strcmp(mode, "unaccepted"))
			continue;
		srv[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (srv[i] < 0)
			rig_die("accept");
	}
	if (!strcmp(mode, "close-wait")) {
		for (int i = 0; i < n; i++) {
			close(cli[i]);
			held[nheld++] = srv[i];
		}
	} else if (!strcmp(mode, "established")) {
		for (int i = 0; i < n; i++) {
			held[nheld++] = cli[i];
			held[nheld++] = srv[i];
		}
	} else if (!strcmp(mode, "fin-wait-2")) {
		for (int i = 0; i < n; i++) {
			shutdown(cli[i], SHUT_WR);
			held[nheld++] = cli[i];
			held[nheld++] = srv[i];
		}
	} else if (!strcmp(mode, "time-wait")) {
		for (int i = 0; i < n; i++)
			close(cli[i]);
		usleep(100000); /* let the FINs land before the server ends answer */
		for (int i = 0; i < n; i++)
			close(srv[i]);
	} else if (!strcmp(mode, "unaccepted")) {
		for (int i = 0; i < n; i++)
			close(cli[i]);
	} else if (!strcmp(mode, "listen")) {
		for (int i = 0; i < n; i++) {
			close(cli[i]);
			close(srv[i]);
		}
	} else {
		fprintf(stderr, "sockrig: unknown mode \"%s\"\n", mode);
		return 2;
	}
	usleep(100000); /* FIN/ACK exchanges on loopback settle well within this */
	if (forked)
		printf("ready %d %d\n", (int)getpid(), (int)fork_holder());
	else
		printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "report\n"))
			report(held, nheld);
		else if (!strcmp(line, "quit\n"))
			break;
	}
	free(cli);
	free(srv);
	free(held);
	return 0;
}
