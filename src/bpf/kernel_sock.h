// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's socket structures as the BPF programs (taskfiles.bpf.c, statetrack.bpf.c) read
 * them: only the fields they use, each marked preserve_access_index so that libbpf relocates it
 * against the running kernel's BTF (CO-RE; no vmlinux.h). A field declared here and read by
 * neither program costs nothing: only accessed fields are relocated.
 */
#ifndef SOCKREAP_BPF_KERNEL_SOCK_H
#define SOCKREAP_BPF_KERNEL_SOCK_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define AF_INET_NR 2
#define AF_INET6_NR 10
#define SOCK_STREAM_NR 1
#define IPPROTO_TCP_NR 6

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct in6_addr {
	union {
		__u32 u6_addr32[4];
	} in6_u;
} __attribute__((preserve_access_index));

typedef struct {
	__s64 counter;
} atomic64_t;

struct sock_common {
	__u32 skc_daddr;
	__u32 skc_rcv_saddr;
	__u16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	int skc_bound_dev_if;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
	atomic64_t skc_cookie;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	__u16 sk_type;
	__u16 sk_protocol;
} __attribute__((preserve_access_index));

/*
 * The identity sock_diag finds a socket by, as both programs' records keep it: addresses in
 * network order (v4 in [0], the rest zero), the local port in host order and the peer's in
 * network order (as the kernel keeps them), the bound device.
 */
static __always_inline void sk_identity(const struct sock *sk, __u16 family, __u32 src[4],
					__u32 dst[4], __u16 *sport, __u16 *dport, __s32 *dev)
{
	*sport = sk->__sk_common.skc_num;
	*dport = sk->__sk_common.skc_dport;
	*dev = sk->__sk_common.skc_bound_dev_if;
	if (family == AF_INET_NR) {
		src[0] = sk->__sk_common.skc_rcv_saddr;
		dst[0] = sk->__sk_common.skc_daddr;
		src[1] = src[2] = src[3] = 0;
		dst[1] = dst[2] = dst[3] = 0;
		return;
	}
	for (int i = 0; i < 4; i++) {
		src[i] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[i];
		dst[i] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[i];
	}
}

#endif
