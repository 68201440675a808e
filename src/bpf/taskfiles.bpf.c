// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The owner lookup in the kernel: an iter/task_file program that writes one fixed record
 * (struct taskfiles_rec, include/taskfiles.h) for every socket file of every task. The kernel
 * visits each file table once (threads sharing their leader's table are skipped), so this
 * replaces a readlinkat of every fd of every process under /proc.
 *
 * The few kernel structures it reads are declared here with preserve_access_index: libbpf
 * relocates each field against the running kernel's BTF (CO-RE), so no vmlinux.h is needed.
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "taskfiles.h"

/* The socket filesystem's magic (include/uapi/linux/magic.h, SOCKFS_MAGIC). */
#define SOCKFS_MAGIC_NR 0x534F434BUL

struct seq_file;

struct super_block {
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct inode {
	struct super_block *i_sb;
	unsigned long i_ino;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
} __attribute__((preserve_access_index));

SEC("iter/task_file")
int taskfiles(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct taskfiles_rec rec;
	struct inode *inode;

	if (!task || !file)
		return 0;
	inode = file->f_inode;
	/*
	 * Only sockfs inodes: an O_PATH fd of a unix socket's path is S_IFSOCK too, but its
	 * number is another filesystem's and could equal a socket's.
	 */
	if (!inode || !inode->i_sb || inode->i_sb->s_magic != SOCKFS_MAGIC_NR)
		return 0;
	rec.tgid = task->tgid;
	rec.tid = task->pid;
	rec.fd = (__s32)ctx->fd;
	rec.pad = 0;
	rec.inode = inode->i_ino;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/* bpf_seq_write is GPL-only: the kernel loads this only under a GPL-compatible licence. */
char LICENSE[] SEC("license") = "GPL";
