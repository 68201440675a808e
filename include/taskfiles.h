/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Socket files of every task, read from a BPF task_file iterator (src/taskfiles.c). */
#ifndef SOCKREAP_TASKFILES_H
#define SOCKREAP_TASKFILES_H

#include <linux/types.h>

/* One socket file of one task: what the iterator writes, and what its reader gets. */
struct taskfiles_rec {
	__s32 tgid;	/* the process, as /proc names it */
	__s32 tid;	/* the task whose file table it is: tgid unless a thread has its own */
	__s32 fd;
	__u32 pad;
	__u64 inode;	/* the socket's inode, as sock_diag reports it */
};

#ifndef __bpf__
#include <stddef.h>

/*
 * Loads and attaches the iterator and returns a descriptor whose reads yield taskfiles_rec
 * records (a read may end inside one), or a negative errno: -EPERM without CAP_BPF and
 * CAP_PERFMON, -EOPNOTSUPP for a kernel without BPF iterators or BTF. why gets a short
 * reason on failure.
 */
int taskfiles_open(char *why, size_t size);
#endif

#endif
