// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * faildump.so: an LD_PRELOAD shim that makes a real sock_diag dump fail, for the tests of
 * what sockreap reports when it cannot verify a kill.
 *
 *   SR_DUMP_COUNT=FILE  writes the number of sock_diag dump requests (both kinds: by family,
 *                       and TCPDIAG_GETSOCK for both families at once) sent so far to FILE
 *                       after each one (a dry run tells how many the collection takes)
 *   SR_FAIL_DUMP=N      the first receive after the Nth dump request fails with ENOBUFS (what a
 *                       dump socket whose queue overflowed answers)
 *   SR_NO_DESTROY=1     a kernel without SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY off): every
 *                       destroy request goes out with its cookie spoiled, so the kernel finds
 *                       and destroys nothing, and its answer is rewritten to EOPNOTSUPP
 *
 * Only sendto(), recv() and recvmmsg() on netlink sockets are looked at; everything else passes
 * through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by necessity: the shim has no other place to keep what it counted. */
static int dumps;
static int poisoned_fd = -1;

static void note_count(void)
{
	const char *path = getenv("SR_DUMP_COUNT");
	char buf[16];
	int fd, len;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%d\n", dumps);
	if (write(fd, buf, (size_t)len) < 0)
		perror("faildump: write");
	close(fd);
}

/* NLMSG_OK and NLMSG_NEXT without their int/unsigned comparisons. */
static bool msg_ok(const struct nlmsghdr *h, size_t rem)
{
	return rem >= sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= rem;
}

static struct nlmsghdr *msg_next(struct nlmsghdr *h, size_t *rem)
{
	size_t step = NLMSG_ALIGN(h->nlmsg_len);

	*rem = step < *rem ? *rem - step : 0;
	return (struct nlmsghdr *)((char *)h + step);
}

/* SR_NO_DESTROY: a cookie no socket has, so that the kernel's lookup finds nothing. */
static void spoil_destroys(void *buf, size_t len)
{
	size_t rem = len;

	for (struct nlmsghdr *h = buf; msg_ok(h, rem); h = msg_next(h, &rem)) {
		struct inet_diag_req_v2 *r = NLMSG_DATA(h);

		if (h->nlmsg_type != SOCK_DESTROY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*r)))
			continue;
		r->id.idiag_cookie[0] ^= 0x5a5a5a5a;
		r->id.idiag_cookie[1] ^= 0xa5a5a5a5;
	}
}

/* SR_NO_DESTROY: every answer to a destroy says what a kernel without it says. */
static void refuse_destroys(void *buf, ssize_t n)
{
	size_t rem = (size_t)n;

	for (struct nlmsghdr *h = buf; msg_ok(h, rem); h = msg_next(h, &rem)) {
		struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) &&
		    e->msg.nlmsg_type == SOCK_DESTROY)
			e->error = -EOPNOTSUPP;
	}
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	static ssize_t (*next)(int, const void *, size_t, int, const struct sockaddr *,
			       socklen_t);
	const struct nlmsghdr *h = buf;

	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "sendto");
	if (to && to->sa_family == AF_NETLINK && getenv("SR_NO_DESTROY") && len <= 1 << 20) {
		char *copy = malloc(len);
		ssize_t ret;

		if (!copy)
			return next(fd, buf, len, flags, to, tolen);
		memcpy(copy, buf, len);
		spoil_destroys(copy, len);
		ret = next(fd, copy, len, flags, to, tolen);
		free(copy);
		return ret;
	}
	if (to && to->sa_family == AF_NETLINK && len >= sizeof(*h) &&
	    (h->nlmsg_type == SOCK_DIAG_BY_FAMILY || h->nlmsg_type == TCPDIAG_GETSOCK) &&
	    (h->nlmsg_flags & NLM_F_DUMP)) {
		const char *fail = getenv("SR_FAIL_DUMP");

		dumps++;
		note_count();
		if (fail && atoi(fail) == dumps)
			poisoned_fd = fd;
	}
	return next(fd, buf, len, flags, to, tolen);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	static ssize_t (*next)(int, void *, size_t, int);

	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "recv");
	if (fd >= 0 && fd == poisoned_fd) {
		poisoned_fd = -1;
		errno = ENOBUFS;
		return -1;
	}
	ssize_t n = next(fd, buf, len, flags);

	int domain = 0;
	socklen_t dlen = sizeof(domain);

	if (n > 0 && getenv("SR_NO_DESTROY") &&
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == 0 && domain == AF_NETLINK)
		refuse_destroys(buf, n);
	return n;
}

/* Destroy acks are read in batches (diag.c). */
int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout)
{
	static int (*next)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	int n, domain = 0;
	socklen_t dlen = sizeof(domain);

	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "recvmmsg");
	n = next(fd, vec, vlen, flags, timeout);
	if (n > 0 && getenv("SR_NO_DESTROY") &&
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == 0 && domain == AF_NETLINK)
		for (int i = 0; i < n; i++)
			if (vec[i].msg_hdr.msg_iovlen)
				refuse_destroys(vec[i].msg_hdr.msg_iov[0].iov_base,
						vec[i].msg_len < vec[i].msg_hdr.msg_iov[0].iov_len
							? vec[i].msg_len
							: vec[i].msg_hdr.msg_iov[0].iov_len);
	return n;
}
