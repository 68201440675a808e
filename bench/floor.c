// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * floor PORT: the kernel's own cost of the kill, as a yardstick — dump the TCP CLOSE_WAIT
 * sockets whose local port is PORT (IPv4 and IPv6), then SOCK_DESTROY them 256 per sendmsg
 * with acks read back. No selector, no owners, no output, no verification.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct req {
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;
};

static char buf[65536];

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0, size = 8 << 20;
	struct inet_diag_sockid *ids = NULL;
	uint8_t *fams = NULL;
	size_t n = 0, cap = 0;
	int dump = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int kill = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	setsockopt(kill, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(dump, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	for (int f = 0; f < 2; f++) {
		struct req q = { { sizeof(q), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 },
				 { f ? AF_INET6 : AF_INET, IPPROTO_TCP, 0, 0, 1U << 8, { 0 } } };

		if (send(dump, &q, sizeof(q), 0) < 0)
			return 1;
		for (int done = 0; !done;) {
			ssize_t len = recv(dump, buf, sizeof(buf), 0);

			if (len <= 0)
				return 1;
			for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
				if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
					done = 1;
					break;
				}
				struct inet_diag_msg *m = NLMSG_DATA(h);

				if (ntohs(m->id.idiag_sport) != port)
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 1024;
					ids = realloc(ids, cap * sizeof(*ids));
					fams = realloc(fams, cap);
					if (!ids || !fams)
						return 1;
				}
				ids[n] = m->id;
				fams[n++] = m->idiag_family;
			}
		}
	}
	static struct req q[256];

	for (size_t i = 0; i < n; i += 256) {
		size_t k = n - i < 256 ? n - i : 256, acks = 0;

		for (size_t j = 0; j < k; j++)
			q[j] = (struct req){ { sizeof(q[j]), SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK,
					       (uint32_t)(i + j), 0 },
					     { fams[i + j], IPPROTO_TCP, 0, 0, 0xffffffff, ids[i + j] } };
		if (send(kill, q, k * sizeof(q[0]), 0) < 0)
			return 1;
		while (acks < k) {
			ssize_t len = recv(kill, buf, sizeof(buf), MSG_DONTWAIT);

			if (len <= 0)
				break;
			for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
				acks += h->nlmsg_type == NLMSG_ERROR;
		}
	}
	printf("%zu\n", n);
	free(ids);
	free(fams);
	return 0;
}
