/* The sockets the caller's own login depends on, found in /proc (root overridable for tests). */
#ifndef SOCKREAP_SELFGUARD_H
#define SOCKREAP_SELFGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "hashmap.h"

struct selfguard {
	struct hashmap inodes;	/* socket inode -> the pid found holding it */
	int bad_err;		/* 0, or why the first unreadable thing was (negative errno) */
	int32_t bad_pid;	/* whose it was; 0: the /proc listing */
	char bad_path[128];	/* what it was: "/proc/812/fd" */
	char bad_comm[16];	/* bad_pid's comm, "" when unknown */
};

/*
 * Collects the socket inodes held by pid and each of its ancestors but pid 1 and, when pid
 * has an audit login session, by that session's remote entry points (sshd, sshd-session,
 * dropbear, mosh-server), which a tmux or screen server hides from the ancestry. proc_root
 * NULL means "/proc". What it cannot read is recorded in bad_*, not an error. Returns 0
 * or -ENOMEM; selfguard_free(sg) either way.
 */
int selfguard_scan(struct selfguard *sg, const char *proc_root, int32_t pid);
bool selfguard_holds(const struct selfguard *sg, uint32_t inode);
void selfguard_free(struct selfguard *sg);

#endif
