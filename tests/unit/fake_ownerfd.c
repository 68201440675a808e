// SPDX-License-Identifier: GPL-2.0-or-later
/* A scripted stand-in for ownerfd.c: duplicates are numbers, shutdowns are counted. */
#include "fake_ownerfd.h"

#include <errno.h>

#define FAKE_OWNERS_MAX 64
/* A duplicate's number: FAKE_FD_BASE + the script index. */
#define FAKE_FD_BASE 1000

/* The script of the test that runs now (unit tests run one at a time). */
static struct fake_owner script[FAKE_OWNERS_MAX];
static unsigned shut[FAKE_OWNERS_MAX];
static size_t nscript;
static int nopen;
static unsigned ngets;

void fake_ownerfd_script(const struct fake_owner *owners, size_t n)
{
	nscript = n < FAKE_OWNERS_MAX ? n : FAKE_OWNERS_MAX;
	for (size_t i = 0; i < nscript; i++) {
		script[i] = owners[i];
		shut[i] = 0;
	}
	nopen = 0;
	ngets = 0;
}

static const struct fake_owner *by_fd(int sfd)
{
	size_t i = (size_t)(sfd - FAKE_FD_BASE);

	return sfd >= FAKE_FD_BASE && i < nscript ? &script[i] : NULL;
}

int ownerfd_get(int32_t pid, int fd)
{
	ngets++;
	for (size_t i = 0; i < nscript; i++) {
		if (script[i].pid != pid || script[i].fd != fd)
			continue;
		if (script[i].get_err)
			return script[i].get_err;
		nopen++;
		return FAKE_FD_BASE + (int)i;
	}
	return -EBADF;
}

int ownerfd_identity(int sfd, uint64_t *ino, uint64_t *cookie)
{
	const struct fake_owner *o = by_fd(sfd);

	if (!o)
		return -EBADF;
	*ino = o->ino;
	*cookie = o->cookie;
	return 0;
}

int ownerfd_shutdown(int sfd)
{
	const struct fake_owner *o = by_fd(sfd);

	if (!o)
		return -EBADF;
	shut[o - script]++;
	return o->shut_err;
}

void ownerfd_close(int sfd)
{
	if (by_fd(sfd))
		nopen--;
}

unsigned fake_ownerfd_shutdowns(int32_t pid, int fd)
{
	for (size_t i = 0; i < nscript; i++)
		if (script[i].pid == pid && script[i].fd == fd)
			return shut[i];
	return 0;
}

int fake_ownerfd_open(void)
{
	return nopen;
}

unsigned fake_ownerfd_gets(void)
{
	return ngets;
}
