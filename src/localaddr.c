// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The local routes of this namespace over rtnetlink, not getifaddrs: an address list misses
 * ranges a local route delivers (AnyIP), and a fixed-size copy of it misses addresses past
 * its end. Both made a flow to the router itself look forwarded.
 */
#include "localaddr.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int localaddr_add(struct localaddr *l, int family, const void *addr, unsigned len)
{
	size_t alen = family == AF_INET ? 4 : 16;

	if ((family != AF_INET && family != AF_INET6) || len > alen * 8)
		return -EINVAL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct localaddr_prefix *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].family = family;
	l->v[l->n].len = (uint8_t)len;
	memcpy(l->v[l->n].addr, addr, alen);
	l->n++;
	return 0;
}

static bool in_prefix(const struct localaddr_prefix *p, const uint8_t *a)
{
	unsigned whole = p->len / 8, bits = p->len % 8;

	if (memcmp(p->addr, a, whole))
		return false;
	if (!bits)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));

	return (p->addr[whole] & mask) == (a[whole] & mask);
}

bool localaddr_has(const struct localaddr *l, int family, const void *addr)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	const uint8_t *a = addr;

	/* 127/8 and ::1 whatever the routes say. */
	if ((family == AF_INET && a[0] == 127) || (family == AF_INET6 && !memcmp(a, loop6, 16)))
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].family == family && in_prefix(&l->v[i], a))
			return true;
	return false;
}

void localaddr_free(struct localaddr *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* One RTM_NEWROUTE of the dump: kept when it is a local route. */
static int take_route(struct localaddr *l, const struct nlmsghdr *h)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	int len = (int)RTM_PAYLOAD(h);
	static const uint8_t any[16];
	const void *dst = any;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)) || rt->rtm_type != RTN_LOCAL ||
	    (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
		return 0;
	for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_DST &&
		    RTA_PAYLOAD(a) >= (rt->rtm_family == AF_INET ? 4u : 16u))
			dst = RTA_DATA(a);
	return localaddr_add(l, rt->rtm_family, dst, rt->rtm_dst_len);
}

int localaddr_read(struct localaddr *l)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg rt;
	} req = { { NLMSG_LENGTH(sizeof(struct rtmsg)), RTM_GETROUTE,
		    NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { .rtm_family = AF_UNSPEC } };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	/* long: aligned for the nlmsghdr walk; a page or more per dump message. */
	const size_t bufsize = 64 * 1024;
	long *buf = malloc(bufsize);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), ret = 0;
	bool done = false;

	memset(l, 0, sizeof(*l));
	if (fd < 0 || !buf) {
		ret = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		free(buf);
		return ret;
	}
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		ret = -errno;
	while (!ret && !done) {
		ssize_t n = recv(fd, buf, bufsize, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		unsigned int left = (unsigned int)n;

		for (const struct nlmsghdr *h = (const void *)buf; !ret && NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != req.h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error ? e->error : -EIO;
			} else if (h->nlmsg_type == RTM_NEWROUTE) {
				ret = take_route(l, h);
			}
		}
	}
	close(fd);
	free(buf);
	if (ret)
		localaddr_free(l);
	return ret;
}
