/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shutdown engine's system seam: a duplicate of a descriptor another process holds
 * (pidfd_open + pidfd_getfd), what socket it is, and shutdown(2) on it.
 */
#ifndef SOCKREAP_OWNERFD_H
#define SOCKREAP_OWNERFD_H

#include <stdint.h>

/*
 * A duplicate of descriptor fd of process pid (a pid of our pid namespace), or -errno:
 * -ESRCH the process is gone, -EBADF it holds no such fd, -EPERM no PTRACE_MODE_ATTACH
 * rights over it (CAP_SYS_PTRACE, or the same real uid), -ENOSYS before Linux 5.6.
 */
int ownerfd_get(int32_t pid, int fd);

/* The inode and socket cookie (SO_COOKIE) of descriptor sfd; *ino is 0 if not a socket. */
int ownerfd_identity(int sfd, uint64_t *ino, uint64_t *cookie);

/* shutdown(sfd, SHUT_RDWR): 0 or -errno. */
int ownerfd_shutdown(int sfd);

void ownerfd_close(int sfd);

#endif
