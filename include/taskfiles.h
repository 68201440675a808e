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

/*
 * One TCP socket file, from the discovery program: where it lives and what sock_diag needs
 * to get it by its identity. A socket held by several fds comes once per fd.
 */
struct taskfiles_tcp {
	__u64 inode;
	__u64 cookie;	/* sock_diag's cookie, 0: not generated yet */
	__u32 netns;	/* the inode of its network namespace */
	__u32 src[4];	/* network order; v4 in [0] */
	__u32 dst[4];
	__s32 bound_dev_if;
	__u16 sport;	/* host order */
	__u16 dport;	/* network order, as the kernel keeps it */
	__u16 family;
	__u8 state;
	__u8 pad;
};

#ifndef __bpf__
#include <stddef.h>
#include <stdint.h>

/*
 * Loads and attaches the iterator and returns a descriptor whose reads yield taskfiles_rec
 * records (a read may end inside one), or a negative errno: -EPERM without CAP_BPF and
 * CAP_PERFMON, -EOPNOTSUPP for a kernel without BPF iterators or BTF. why gets a short
 * reason on failure.
 */
int taskfiles_open(char *why, size_t size);

/*
 * The same, and a second descriptor in *second, read independently (its walk starts when it
 * is first read): for a second look after the first. With states (1 << state, as sock_diag
 * numbers them) not 0, the first reports only sockets in those states; the second, always
 * every socket.
 */
int taskfiles_open_pair(uint32_t states, int *second, char *why, size_t size);

/* The same for the discovery program: its reads yield taskfiles_tcp records. */
int taskfiles_open_tcp(char *why, size_t size);
#endif

#endif
