// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The owner lookup in the kernel: an iter/task_file program that writes one fixed record
 * (struct taskfiles_rec, include/taskfiles.h) for every socket file of every task. The kernel
 * visits each file table once (threads sharing their leader's table are skipped), so this
 * replaces a readlinkat of every fd of every process under /proc.
 *
 * A second program (tcpsocks) walks the same files for the one-pass discovery: for every TCP
 * socket with a file, in every network namespace, its namespace, identity and state
 * (struct taskfiles_tcp), so that namespaces whose every hashed socket has a file need no
 * sock_diag dump (src/nsdisc.c).
 *
 * The few kernel structures it reads are declared here with preserve_access_index: libbpf
 * relocates each field against the running kernel's BTF (CO-RE), so no vmlinux.h is needed.
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "taskfiles.h"
#include "kernel_sock.h"

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

struct socket {
	struct sock *sk;
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

/*
 * The states (1 << state, sock_diag's numbers) the filtered walk reports, set by the loader
 * before loading; the unfiltered program does not read it.
 */
const volatile __u32 want_states = 0;

static __always_inline int report(struct bpf_iter__task_file *ctx, int filtered)
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
	if (filtered) {
		struct socket *sock = bpf_sock_from_file(file);
		struct sock *sk = sock ? sock->sk : 0;

		if (!sk || !(want_states & (1U << (sk->__sk_common.skc_state & 31))))
			return 0;
	}
	rec.tgid = task->tgid;
	rec.tid = task->pid;
	rec.fd = (__s32)ctx->fd;
	rec.pad = 0;
	rec.inode = inode->i_ino;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

SEC("iter/task_file")
int taskfiles(struct bpf_iter__task_file *ctx)
{
	return report(ctx, 0);
}

/*
 * The same for sockets in want_states only: the walk that runs while the dump does keeps
 * only what the dump can select (a socket that changes state meanwhile is looked for again
 * by the unfiltered walk).
 */
SEC("iter/task_file")
int taskfiles_in_states(struct bpf_iter__task_file *ctx)
{
	return report(ctx, 1);
}

SEC("iter/task_file")
int tcpsocks(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct taskfiles_tcp rec;
	struct socket *sock;
	struct sock *sk;
	struct inode *inode;

	if (!ctx->task || !file)
		return 0;
	inode = file->f_inode;
	if (!inode || !inode->i_sb || inode->i_sb->s_magic != SOCKFS_MAGIC_NR)
		return 0;
	/* A typed pointer (NULL for a file that is not a socket): no probe reads needed. */
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = sock->sk;
	if (!sk || sk->sk_type != SOCK_STREAM_NR || sk->sk_protocol != IPPROTO_TCP_NR)
		return 0;
	rec.family = sk->__sk_common.skc_family;
	if (rec.family != AF_INET_NR && rec.family != AF_INET6_NR)
		return 0;
	rec.inode = inode->i_ino;
	rec.netns = sk->__sk_common.skc_net.net->ns.inum;
	rec.state = sk->__sk_common.skc_state;
	rec.pad = 0;
	rec.cookie = (__u64)sk->__sk_common.skc_cookie.counter;
	sk_identity(sk, rec.family, rec.src, rec.dst, &rec.sport, &rec.dport, &rec.bound_dev_if);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/* bpf_seq_write is GPL-only: the kernel loads this only under a GPL-compatible licence. */
char LICENSE[] SEC("license") = "GPL";
