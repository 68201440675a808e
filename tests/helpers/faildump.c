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
 *
 * Only sendto() and recv() on netlink sockets are looked at; everything else passes through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
	       socklen_t tolen)
{
	static ssize_t (*next)(int, const void *, size_t, int, const struct sockaddr *,
			       socklen_t);
	const struct nlmsghdr *h = buf;

	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "sendto");
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
	return next(fd, buf, len, flags);
}
