/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the socket rigs share: dying with a reason, "ADDR" + port -> sockaddr, a TCP state. */
#ifndef SOCKREAP_RIG_H
#define SOCKREAP_RIG_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* RIG_NAME names the rig in its messages. */
static inline void rig_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", RIG_NAME, what, strerror(errno));
	exit(1);
}

/* An IPv6 address has a colon; anything else must be IPv4. */
static inline socklen_t rig_addr(const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			rig_die("bad address");
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
		rig_die("bad address");
	return sizeof(*s4);
}

/* The kernel's TCP state of a socket (TCP_ESTABLISHED, ...), -1 if it cannot say. */
static inline int rig_tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	return ti.tcpi_state;
}

#endif
