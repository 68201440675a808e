/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A scripted stand-in for ownerfd.c (pidfd_getfd and shutdown), for the shutdown engine. */
#ifndef SOCKREAP_FAKE_OWNERFD_H
#define SOCKREAP_FAKE_OWNERFD_H

#include "ownerfd.h"

#include <stddef.h>

struct fake_owner {
	int32_t pid;
	int fd;
	int get_err;		/* what pidfd_getfd answers: 0 or -errno */
	uint64_t ino;		/* what the duplicate is: its inode and cookie */
	uint64_t cookie;
	int shut_err;		/* what shutdown answers */
};

/* A (pid, fd) not in the script answers -EBADF. */
void fake_ownerfd_script(const struct fake_owner *owners, size_t n);
/* How many times the script's (pid, fd) was shut down. */
unsigned fake_ownerfd_shutdowns(int32_t pid, int fd);
/* Duplicates handed out and not closed yet. */
int fake_ownerfd_open(void);
/* pidfd_getfd calls since the script. */
unsigned fake_ownerfd_gets(void);

#endif
