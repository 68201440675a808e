// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * echorig: the two sides of an ordinary TCP service, for the incident runbooks: a server that
 * echoes and leaks (never closes a connection its client closed: CLOSE_WAIT), clients that hold
 * connections and can prove they still carry data, a server restart that binds the way a
 * service without SO_REUSEADDR does, and a server that closes first (TIME_WAIT on its port).
 *
 *   echorig [-a ADDR] -p PORT [-n N] MODE
 *   MODE: listen      echo server at ADDR:PORT; a connection whose client closed is kept open
 *         connect     N connections to ADDR:PORT, held
 *         bind        bind ADDR:PORT and listen, without SO_REUSEADDR; prints "bound" (exit 0)
 *                     or "bind: ERRNO-NAME" (exit 1); nothing else
 *         serve-close listens at ADDR:PORT, makes N connections to itself and closes the server
 *                     ends first, then the clients: N TIME_WAIT on PORT; prints "done", exits
 *
 * listen and connect print "ready PID" once set up and read commands on stdin:
 *   send TEXT   (connect) TEXT CR LF on each held connection; waits (at most 5 s) for an answer
 *               on each; prints "replied=N of N"
 *   shutdown    (connect) shutdown(SHUT_WR) each: FIN_WAIT_2 here when the server never closes
 *   report      (connect) "held=N established=N closed=N other=N" by TCP_INFO state
 *   quit, or end of input: exit
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#define RIG_NAME "echorig"
#include "rig.h"

#define MAXCONN 1024

static const char *errno_name(int e)
{
	switch (e) {
	case EADDRINUSE: return "EADDRINUSE";
	case EACCES: return "EACCES";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	default: return strerror(e);
	}
}

static int listener(const struct sockaddr_storage *ss, socklen_t sl, bool reuse)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		rig_die("socket");
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		rig_die("SO_REUSEADDR");
	if (bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, 1024) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static bool read_cmd(char *line, size_t len)
{
	if (!fgets(line, (int)len, stdin))
		return false;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, "quit") != 0;
}

/* The leak is the point: a connection that reads EOF is dropped from the poll set, not closed. */
static int serve(const struct sockaddr_storage *ss, socklen_t sl)
{
	struct pollfd pfd[MAXCONN + 2];
	int n = 2, lfd = listener(ss, sl, true);
	char buf[4096], line[256];

	if (lfd < 0)
		rig_die("listen");
	pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			rig_die("poll");
		}
		if (pfd[0].revents) {
			if (!read_cmd(line, sizeof(line)))
				return 0;
		}
		if (pfd[1].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0 && n < MAXCONN + 2)
				pfd[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
		}
		for (int i = 2; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			ssize_t r = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (r > 0 && send(pfd[i].fd, buf, (size_t)r, MSG_NOSIGNAL) == r)
				continue;
			if (r < 0 && errno == EAGAIN)
				continue;
			/* EOF or error: stop watching, keep the fd (EOF is the leak; an error closes). */
			if (r < 0)
				close(pfd[i].fd);
			pfd[i--] = pfd[--n];
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_all(const int *fd, int n, const char *text)
{
	char msg[300], buf[4096];
	int replied = 0;
	size_t len = (size_t)snprintf(msg, sizeof(msg), "%s\r\n", text);
	double deadline = now() + 5;

	for (int i = 0; i < n; i++) {
		if (send(fd[i], msg, len, MSG_NOSIGNAL) != (ssize_t)len)
			continue;
		struct pollfd p = { .fd = fd[i], .events = POLLIN };
		int left = (int)((deadline - now()) * 1000);

		if (left > 0 && poll(&p, 1, left) == 1 && recv(fd[i], buf, sizeof(buf), 0) > 0)
			replied++;
	}
	printf("replied=%d of %d\n", replied, n);
}

static void report(const int *fd, int n)
{
	int est = 0, closed = 0, other = 0;

	for (int i = 0; i < n; i++) {
		int st = rig_tcp_state(fd[i]);

		if (st == TCP_ESTABLISHED)
			est++;
		else if (st == TCP_CLOSE)
			closed++;
		else
			other++;
	}
	printf("held=%d established=%d closed=%d other=%d\n", n, est, closed, other);
}

static int clients(const struct sockaddr_storage *ss, socklen_t sl, int n)
{
	int fd[MAXCONN];
	char line[256];

	for (int i = 0; i < n; i++) {
		fd[i] = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd[i] < 0 || connect(fd[i], (const struct sockaddr *)ss, sl) < 0)
			rig_die("connect");
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (read_cmd(line, sizeof(line))) {
		if (!strncmp(line, "send ", 5)) {
			send_all(fd, n, line + 5);
		} else if (!strcmp(line, "shutdown")) {
			for (int i = 0; i < n; i++)
				shutdown(fd[i], SHUT_WR);
			printf("ok\n");
		} else if (!strcmp(line, "report")) {
			report(fd, n);
		} else {
			printf("unknown command \"%s\"\n", line);
		}
		fflush(stdout);
	}
	return 0;
}

/* The server closes first, so the TIME_WAIT ends are the ones bound to its port. */
static int serve_close(const struct sockaddr_storage *ss, socklen_t sl, int n)
{
	int lfd = listener(ss, sl, false), cli[MAXCONN], srv[MAXCONN];

	if (lfd < 0)
		rig_die("listen");
	for (int i = 0; i < n; i++) {
		cli[i] = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cli[i] < 0 || connect(cli[i], (const struct sockaddr *)ss, sl) < 0)
			rig_die("connect");
		srv[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (srv[i] < 0)
			rig_die("accept");
	}
	for (int i = 0; i < n; i++)
		close(srv[i]);
	for (int i = 0; i < n; i++) {
		char c;
		struct pollfd p = { .fd = cli[i], .events = POLLIN };

		/* Wait for the server's FIN, so the client's close completes the handshake. */
		if (poll(&p, 1, 5000) == 1)
			(void)recv(cli[i], &c, 1, 0);
		close(cli[i]);
	}
	close(lfd);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = -1, n = 1, opt;
	struct sockaddr_storage ss;
	socklen_t sl;

	while ((opt = getopt(argc, argv, "a:p:n:")) != -1) {
		switch (opt) {
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
			goto usage;
		}
	}
	if (optind != argc - 1 || port < 0 || n < 0 || n > MAXCONN)
		goto usage;
	sl = rig_addr(addr, port, &ss);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[optind], "listen"))
		return serve(&ss, sl);
	if (!strcmp(argv[optind], "connect"))
		return clients(&ss, sl, n);
	if (!strcmp(argv[optind], "serve-close"))
		return serve_close(&ss, sl, n);
	if (!strcmp(argv[optind], "bind")) {
		int fd = listener(&ss, sl, false);

		if (fd < 0) {
			printf("bind: %s\n", errno_name(errno));
			return 1;
		}
		printf("bound\n");
		return 0;
	}
usage:
	fprintf(stderr, "usage: echorig [-a ADDR] -p PORT [-n N<=%d] "
			"listen|connect|bind|serve-close\n", MAXCONN);
	return 2;
}
