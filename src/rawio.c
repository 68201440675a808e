// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Raw and packet sockets for the rst engine. IPPROTO_RAW implies a header we write ourselves
 * (IPv4: the kernel fixes the header checksum and length); one cooked AF_PACKET socket over
 * every interface sees the replies (and local ends' resets, ours among them) leave, filtered in
 * the kernel by packet_reply_filter().
 * Whether a peer address is local is the kernel's route lookup (rtnetlink), remembered.
 *
 * Every socket here, the rtnetlink one included, is opened by rawio_open and stays bound to
 * the network namespace it was opened in: sends, captures, interfaces and routes are that
 * namespace's wherever this process is later. The capture is bound, and its buffers allocated,
 * only when the engine starts (rawio_capture): until then it queues nothing, however long a
 * prompt waits, and one rawio per namespace costs a few descriptors and no frame buffers.
 */
#include "rawio.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CAPTURE_RCVBUF (16 << 20)
/* Addresses whose locality is remembered: a plan's peers are usually a handful. */
#define LOCAL_CACHE 64

struct local_entry {
	uint32_t addr[4];
	uint8_t family;		/* 0: unused */
	bool local;
};

/* What a capture receives into (~60 KiB): allocated by rawio_capture. */
struct rawio_rx {
	uint8_t frames[RAWIO_BATCH][PKT_SNAPLEN];
	struct sockaddr_ll from[RAWIO_BATCH];
	struct mmsghdr msgs[RAWIO_BATCH];
	struct iovec iov[RAWIO_BATCH];
};

struct rawio {
	int raw4;
	int raw6;
	int cap;		/* unbound (receives nothing) until rawio_capture */
	int rt;			/* rtnetlink, for rawio_is_local */
	uint32_t rt_seq;
	unsigned next_entry;
	struct local_entry cache[LOCAL_CACHE];
	struct rawio_rx *rx;	/* NULL until rawio_capture */
};

static int open_capture(int *out)
{
	const struct sock_fprog *prog = packet_reply_filter();
	int size = CAPTURE_RCVBUF;
	/* Protocol 0 receives nothing until bound: the filter is in place before any frame. */
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, sizeof(*prog)) < 0)
		goto fail;
	/* FORCE needs CAP_NET_ADMIN; without it the kernel caps the size at rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*out = fd;
	return 0;
fail:;
	int err = -errno;

	close(fd);
	return err;
}

int rawio_open(struct rawio **out, const char **what)
{
	struct rawio *io = calloc(1, sizeof(*io));
	int ret;

	*out = NULL;
	if (!io)
		return -ENOMEM;
	io->raw4 = io->raw6 = io->cap = io->rt = -1;
	*what = "raw IPv4 socket";
	io->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (io->raw4 < 0)
		goto fail_errno;
	*what = "raw IPv6 socket";
	io->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	/* A kernel without IPv6 still kills IPv4 sockets; sends to IPv6 then fail. */
	if (io->raw6 < 0 && errno != EAFNOSUPPORT)
		goto fail_errno;
	*what = "packet socket";
	ret = open_capture(&io->cap);
	if (ret < 0)
		goto fail;
	/* Here, not on first use: the routes looked up must be this namespace's. */
	*what = "rtnetlink socket";
	io->rt = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (io->rt < 0)
		goto fail_errno;
	*what = NULL;
	*out = io;
	return 0;
fail_errno:
	ret = -errno;
fail:
	rawio_close(io);
	return ret;
}

void rawio_close(struct rawio *io)
{
	if (!io)
		return;
	if (io->raw4 >= 0)
		close(io->raw4);
	if (io->raw6 >= 0)
		close(io->raw6);
	if (io->cap >= 0)
		close(io->cap);
	if (io->rt >= 0)
		close(io->rt);
	free(io->rx);
	free(io);
}

int rawio_capture_arriving(struct rawio *io)
{
	const struct sock_fprog *prog = packet_reply_filter_arriving();

	if (!io->rx && setsockopt(io->cap, SOL_SOCKET, SO_ATTACH_FILTER, prog, sizeof(*prog)) < 0)
		return -errno;
	return rawio_capture(io);
}

int rawio_capture(struct rawio *io)
{
	/* Binding needs no capability: CAP_NET_RAW was checked when the socket was made. */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };

	if (io->rx)
		return 0;
	io->rx = malloc(sizeof(*io->rx));
	if (!io->rx)
		return -ENOMEM;
	if (bind(io->cap, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int err = -errno;

		free(io->rx);
		io->rx = NULL;
		return err;
	}
	for (int i = 0; i < RAWIO_BATCH; i++) {
		io->rx->iov[i].iov_base = io->rx->frames[i];
		io->rx->iov[i].iov_len = PKT_SNAPLEN;
	}
	return 0;
}

/* Sends pkts[0..n), all of one family, on fd; sendmmsg stops at the first error. */
static void send_run(int fd, const struct pkt_tcp *pkts, const int *ifindex, size_t n, int *errs)
{
	static const size_t max = 64;
	uint8_t bufs[64][PKT_MAX];
	struct sockaddr_in6 to[64];
	struct iovec iov[64];
	struct mmsghdr msgs[64];
	size_t done = 0;

	if (fd < 0) { /* no IPv6 in this kernel */
		for (size_t i = 0; i < n; i++)
			errs[i] = -EAFNOSUPPORT;
		return;
	}
	while (done < n) {
		size_t m = n - done < max ? n - done : max;

		memset(msgs, 0, sizeof(msgs[0]) * m);
		memset(to, 0, sizeof(to[0]) * m);
		for (size_t i = 0; i < m; i++) {
			const struct pkt_tcp *p = &pkts[done + i];

			iov[i].iov_base = bufs[i];
			iov[i].iov_len = packet_build(bufs[i], PKT_MAX, p);
			if (p->family == AF_INET6) {
				to[i].sin6_family = AF_INET6;
				memcpy(&to[i].sin6_addr, p->daddr, 16);
				to[i].sin6_scope_id = ifindex ? (uint32_t)ifindex[done + i] : 0;
				msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
			} else {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&to[i];

				s4->sin_family = AF_INET;
				memcpy(&s4->sin_addr, p->daddr, 4);
				msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
			}
			msgs[i].msg_hdr.msg_name = &to[i];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(fd, msgs, (unsigned)m, 0);

		if (r > 0) {
			for (int i = 0; i < r; i++)
				errs[done + (size_t)i] = 0;
			done += (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			/* The first message failed: record it and go on with the rest. */
			errs[done++] = r < 0 ? -errno : -EIO;
		}
	}
}

void rawio_send(struct rawio *io, const struct pkt_tcp *pkts, const int *ifindex, size_t n,
		int *errs)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i + 1;

		while (j < n && pkts[j].family == pkts[i].family)
			j++;
		send_run(pkts[i].family == AF_INET6 ? io->raw6 : io->raw4, pkts + i,
			 ifindex ? ifindex + i : NULL, j - i, errs + i);
		i = j;
	}
}

int rawio_poll(struct rawio *io, int timeout_ms, rawio_reply_cb cb, void *arg)
{
	struct rawio_rx *rx = io->rx;
	int passed = 0;

	if (!rx)
		return -ENOTCONN;

	if (timeout_ms > 0) {
		struct pollfd pfd = { io->cap, POLLIN, 0 };
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0)
			return errno == EINTR ? 0 : -errno;
		if (r == 0)
			return 0;
	}
	for (;;) {
		for (int i = 0; i < RAWIO_BATCH; i++) {
			memset(&rx->msgs[i].msg_hdr, 0, sizeof(rx->msgs[i].msg_hdr));
			rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
			rx->msgs[i].msg_hdr.msg_iovlen = 1;
			rx->msgs[i].msg_hdr.msg_name = &rx->from[i];
			rx->msgs[i].msg_hdr.msg_namelen = sizeof(rx->from[i]);
		}
		int r = recvmmsg(io->cap, rx->msgs, RAWIO_BATCH, MSG_DONTWAIT, NULL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? passed : -errno;
		}
		for (int i = 0; i < r; i++) {
			struct pkt_tcp p;
			size_t len = rx->msgs[i].msg_len;

			if (len > PKT_SNAPLEN)
				len = PKT_SNAPLEN;
			if (packet_parse(rx->frames[i], len, ntohs(rx->from[i].sll_protocol),
					 &p) < 0 || p.payload)
				continue; /* our own data-carrying probes, or not TCP */
			cb(&p, arg);
			passed++;
		}
		if (r < RAWIO_BATCH)
			return passed;
	}
}

/* The type of the kernel's route to addr (RTN_LOCAL, RTN_UNICAST, ...), or -errno. */
static int route_type(struct rawio *io, int family, const uint32_t addr[4])
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		struct rtattr a;
		uint32_t dst[4];
	} q;
	union {
		struct nlmsghdr h;
		char buf[4096];
	} ans;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	memset(&q, 0, sizeof(q));
	q.h.nlmsg_len = (uint32_t)NLMSG_LENGTH(sizeof(q.r) + RTA_LENGTH(alen));
	q.h.nlmsg_type = RTM_GETROUTE;
	q.h.nlmsg_flags = NLM_F_REQUEST;
	q.h.nlmsg_seq = ++io->rt_seq;
	q.r.rtm_family = (uint8_t)family;
	q.r.rtm_dst_len = (uint8_t)(alen * 8);
	q.a.rta_type = RTA_DST;
	q.a.rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(q.dst, addr, alen);
	if (sendto(io->rt, &q, q.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(io->rt, &ans, sizeof(ans), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (size_t off = 0; off + sizeof(struct nlmsghdr) <= (size_t)n;) {
			struct nlmsghdr *h = (struct nlmsghdr *)(ans.buf + off);

			if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > (size_t)n - off)
				break;
			off += NLMSG_ALIGN(h->nlmsg_len);
			if (h->nlmsg_seq != io->rt_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_type == RTM_NEWROUTE &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg)))
				return ((const struct rtmsg *)NLMSG_DATA(h))->rtm_type;
		}
	}
}

int rawio_is_local(struct rawio *io, int family, const uint32_t addr[4])
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	struct local_entry *e;
	int type;

	if (!io)
		return -EBADF;
	for (size_t i = 0; i < LOCAL_CACHE; i++) {
		e = &io->cache[i];
		if (e->family == family && !memcmp(e->addr, addr, alen))
			return e->local;
	}
	type = route_type(io, family, addr);
	/* No route at all: certainly not an address of ours. */
	if (type == -ENETUNREACH || type == -EHOSTUNREACH)
		type = RTN_UNREACHABLE;
	if (type < 0)
		return type;
	e = &io->cache[io->next_entry++ % LOCAL_CACHE];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, alen);
	e->family = (uint8_t)family;
	e->local = type == RTN_LOCAL;
	return e->local;
}

unsigned rawio_drops(struct rawio *io)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(io->cap, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return 0;
	return st.tp_drops;
}
