// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The watcher's candidate set in the kernel: on every TCP state change
 * (sock:inet_sock_set_state, a BTF tracepoint), a socket entering one of the watched states
 * is put in a hash map under its cookie (struct statetrack_rec, include/statetrack.h), and one
 * entering any other state is taken out; only sockets of the namespaces the reader put in
 * the nets map (the ones its rules visit). A full map counts an overflow: the reader then dumps.
 * Same CO-RE style as taskfiles.bpf.c: the few fields read are declared here and relocated
 * against the running kernel's BTF.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "statetrack.h"
#include "kernel_sock.h"

/* The states to keep (1 << state), set by the loader. */
const volatile __u32 watched = 0;

/* Inserts the full map refused; the reader compares it across cycles. */
__u64 overflows = 0;

/*
 * Not preallocated: the kernel memory follows the sockets in watched states (about 130 bytes
 * each), not the map's bound; the sockets of every namespace in nets land here.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, STATETRACK_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct statetrack_rec);
} tracked SEC(".maps");

/*
 * The namespaces (inodes) whose sockets are kept: the reader's own and the ones its rules visit,
 * put in and taken out by the reader as it finds them (not every namespace: another one's burst
 * of sockets must not fill the map the watched ones rely on).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STATETRACK_MAX_NETNS);
	__type(key, __u32);
	__type(value, __u8);
} nets SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int statetrack(unsigned long long *ctx)
{
	struct sock *sk = (struct sock *)ctx[0];
	int newstate = (int)ctx[2];
	struct statetrack_rec rec;
	__u64 cookie;

	if (!sk || sk->sk_protocol != IPPROTO_TCP_NR)
		return 0;
	rec.family = sk->__sk_common.skc_family;
	if (rec.family != AF_INET_NR && rec.family != AF_INET6_NR)
		return 0;
	rec.netns = sk->__sk_common.skc_net.net->ns.inum;
	if (!bpf_map_lookup_elem(&nets, &rec.netns))
		return 0;
	/* The cookie sock_diag reports (generated here if nothing asked for it yet). */
	cookie = bpf_get_socket_cookie(sk);
	if (!(watched & (1U << (newstate & 31)))) {
		bpf_map_delete_elem(&tracked, &cookie);
		return 0;
	}
	rec.cookie = cookie;
	rec.entered_ns = bpf_ktime_get_ns();
	rec.state = (__u8)newstate;
	rec.pad = 0;
	sk_identity(sk, rec.family, rec.src, rec.dst, &rec.sport, &rec.dport, &rec.bound_dev_if);
	/* An existing key is replaced in place (never refused); a new one may find it full. */
	if (bpf_map_update_elem(&tracked, &cookie, &rec, BPF_ANY) < 0)
		__sync_fetch_and_add(&overflows, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
