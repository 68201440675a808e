// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shutdown engine's system seam: a duplicate of an owner's descriptor by pidfd_getfd, its
 * identity, and shutdown(2). Nothing else in the engine reaches the system (tests fake this).
 */
#include "ownerfd.h"

#include <errno.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int ownerfd_get(int32_t pid, int fd)
{
	int pfd, sfd, err;

	pfd = pidfd_open(pid, 0);
	if (pfd < 0)
		return -errno;
	sfd = pidfd_getfd(pfd, fd, 0);
	err = errno;
	close(pfd);
	return sfd < 0 ? -err : sfd;
}

int ownerfd_identity(int sfd, uint64_t *ino, uint64_t *cookie)
{
	struct stat st;
	socklen_t len = sizeof(*cookie);

	*ino = 0;
	*cookie = 0;
	if (fstat(sfd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return 0;
	*ino = st.st_ino;
	return getsockopt(sfd, SOL_SOCKET, SO_COOKIE, cookie, &len) < 0 ? -errno : 0;
}

int ownerfd_shutdown(int sfd)
{
	return shutdown(sfd, SHUT_RDWR) < 0 ? -errno : 0;
}

void ownerfd_close(int sfd)
{
	close(sfd);
}
