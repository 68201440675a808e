/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sockets the caller's own login depends on, found in /proc (root overridable for tests). */
#ifndef SOCKREAP_SELFGUARD_H
#define SOCKREAP_SELFGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "hashmap.h"

struct sockaddr_storage;

/* A connected inet socket's addresses; IPv4 as ::ffff:a.b.c.d, ports in host order. */
struct selfguard_tuple {
	uint8_t local[16], peer[16];
	uint16_t lport, pport;
};

struct selfguard {
	struct hashmap inodes;	/* socket inode -> the pid found holding it */
	struct selfguard_tuple *tuples;	/* the connected inet ones among them */
	size_t ntuples;
	int bad_err;		/* 0, or why the first unreadable thing was (negative errno) */
	int32_t bad_pid;	/* whose it was; 0: the /proc listing */
	bool bad_addr;		/* bad_path is a socket whose addresses could not be learned */
	char bad_path[128];	/* what it was: "/proc/812/fd", "/proc/812/fd/4" */
	char bad_comm[16];	/* bad_pid's comm, "" when unknown */
};

/*
 * The addresses of the socket inode that pid holds at fd: 1 with both filled, 0 when there
 * is no peer to learn (not connected, not a socket with addresses), or a negative errno when
 * it cannot tell. arg is the caller's.
 */
typedef int selfguard_peek_fn(void *arg, int32_t pid, int fd, uint32_t inode,
			      struct sockaddr_storage *local, struct sockaddr_storage *peer);

/*
 * Collects the socket inodes held by pid and each of its ancestors but pid 1 and, when pid
 * has an audit login session, by that session's remote entry points (sshd, sshd-session,
 * dropbear, mosh-server), which a tmux or screen server hides from the ancestry, and the
 * 4-tuples of the connected inet ones among them, learned by peek (NULL: pidfd_getfd).
 * proc_root NULL means "/proc". What it cannot read or learn is recorded in bad_*, not an
 * error. Returns 0 or -ENOMEM; selfguard_free(sg) either way.
 */
int selfguard_scan(struct selfguard *sg, const char *proc_root, int32_t pid,
		   selfguard_peek_fn *peek, void *peek_arg);
bool selfguard_holds(const struct selfguard *sg, uint32_t inode);
void selfguard_free(struct selfguard *sg);

#endif
