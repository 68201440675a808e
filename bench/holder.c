// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * holder: one bench workload process, at most ~9,000 fds.
 *   holder -L LADDR -p PORT -n N close-wait   N connections from 127.0.0.1 to a listener on
 *                                             LADDR:PORT; the client ends shut down writing and
 *                                             are kept (FIN_WAIT_2), so the server ends sit in
 *                                             CLOSE_WAIT, held here, with no orphan limit
 *   holder -L LADDR -p PORT -n N established  the same connections left open both ways:
 *                                             load in the TCP hash table that no close-wait
 *                                             selector matches (row 8)
 *   holder -n N unrelated                     N plain UDP sockets: socket fds that no TCP dump
 *                                             lists, for the owner-scan rows
 * Prints "ready" once set up, then holds everything until its standard input closes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "holder: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *laddr = "127.0.0.1";
	int port = 9000, n = 100, opt, one = 1;
	char buf[16];

	while ((opt = getopt(argc, argv, "L:p:n:")) != -1) {
		if (opt == 'L')
			laddr = optarg;
		else if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'n')
			n = atoi(optarg);
		else
			return 2;
	}
	if (optind != argc - 1)
		return 2;
	/* Inherited descriptors (the bench's own FIFO writer) would keep our stdin from ending. */
	close_range(3, ~0U, 0);
	if (!strcmp(argv[optind], "unrelated")) {
		for (int i = 0; i < n; i++)
			if (socket(AF_INET, SOCK_DGRAM, 0) < 0)
				die("socket");
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		int lfd = socket(AF_INET, SOCK_STREAM, 0);

		if (inet_pton(AF_INET, laddr, &sa.sin_addr) != 1 || lfd < 0)
			die("listener");
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0)
			die("bind/listen");
		for (int i = 0; i < n; i++) {
			int c = socket(AF_INET, SOCK_STREAM, 0);

			if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				die("connect");
			if (accept(lfd, NULL, NULL) < 0)
				die("accept");
			if (strcmp(argv[optind], "established"))
				shutdown(c, SHUT_WR);
		}
		close(lfd);
		usleep(200000);
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	return 0;
}
