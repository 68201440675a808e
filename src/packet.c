// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TCP segments for the rst engine: IPv4 and IPv6 headers, TCP without options, checksums,
 * the parser for captured replies and the capture socket's BPF program.
 */
#include "packet.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Sums 16-bit big-endian words; an odd last byte is padded with zero. */
static uint32_t sum_words(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t packet_csum(const void *buf, size_t len, uint32_t sum)
{
	sum = sum_words(buf, len, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t packet_build(uint8_t *buf, size_t size, const struct pkt_tcp *p)
{
	size_t ihl = p->family == AF_INET6 ? IP6_HLEN : IP4_HLEN;
	size_t alen = p->family == AF_INET6 ? 16 : 4;
	size_t tlen = TCP_HLEN + p->payload;
	size_t len = ihl + tlen;
	uint8_t *ip = buf, *tcp = buf + ihl;
	uint32_t pseudo = 0;

	if (len > size || p->payload > 1)
		return 0;
	memset(buf, 0, len);
	if (p->family == AF_INET6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)tlen);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, p->saddr, alen);
		memcpy(ip + 24, p->daddr, alen);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)len);
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, p->saddr, alen);
		memcpy(ip + 16, p->daddr, alen);
		put16(ip + 10, packet_csum(ip, IP4_HLEN, 0));
	}
	put16(tcp, p->sport);
	put16(tcp + 2, p->dport);
	put32(tcp + 4, p->seq);
	put32(tcp + 8, p->ack);
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = p->flags;
	put16(tcp + 14, p->window);

	/* The pseudo-header: both addresses, the protocol and the TCP length. */
	pseudo = sum_words((const uint8_t *)p->saddr, alen, pseudo);
	pseudo = sum_words((const uint8_t *)p->daddr, alen, pseudo);
	pseudo += IPPROTO_TCP + (uint32_t)tlen;
	put16(tcp + 16, packet_csum(tcp, tlen, pseudo));
	return len;
}

int packet_parse(const uint8_t *frame, size_t len, uint16_t ethertype, struct pkt_tcp *out)
{
	size_t ihl, total;
	const uint8_t *tcp;

	memset(out, 0, sizeof(*out));
	if (ethertype == ETH_P_IP) {
		if (len < IP4_HLEN || frame[0] >> 4 != 4 || frame[9] != IPPROTO_TCP)
			return -EINVAL;
		if (get16(frame + 6) & 0x3fff) /* MF or an offset: a fragment */
			return -EINVAL;
		ihl = (size_t)(frame[0] & 0x0f) * 4;
		total = get16(frame + 2);
		if (ihl < IP4_HLEN || total < ihl)
			return -EINVAL;
		out->family = AF_INET;
		memcpy(out->saddr, frame + 12, 4);
		memcpy(out->daddr, frame + 16, 4);
	} else if (ethertype == ETH_P_IPV6) {
		/* Extension headers are not followed: the kernel sends none with these segments. */
		if (len < IP6_HLEN || frame[0] >> 4 != 6 || frame[6] != IPPROTO_TCP)
			return -EINVAL;
		ihl = IP6_HLEN;
		total = IP6_HLEN + (size_t)get16(frame + 4);
		out->family = AF_INET6;
		memcpy(out->saddr, frame + 8, 16);
		memcpy(out->daddr, frame + 24, 16);
	} else {
		return -EINVAL;
	}
	if (len < ihl + TCP_HLEN)
		return -EINVAL;
	tcp = frame + ihl;
	size_t doff = (size_t)(tcp[12] >> 4) * 4;

	if (doff < TCP_HLEN || total < ihl + doff)
		return -EINVAL;
	out->sport = get16(tcp);
	out->dport = get16(tcp + 2);
	out->seq = get32(tcp + 4);
	out->ack = get32(tcp + 8);
	out->flags = tcp[13];
	out->window = get16(tcp + 14);
	out->payload = (uint16_t)(total - ihl - doff);
	return 0;
}

/*
 * On a cooked packet socket the program sees the IP header at offset 0; the ethertype and
 * the direction come from the kernel's ancillary fields. Taken: a pure ACK (a reply to a
 * probe) and an RST with or without ACK (an owner closing its socket, or ours leaving).
 */
#define FLAGS_MASK (PKT_FIN | PKT_SYN | PKT_RST | PKT_ACK)

/* From the ethertype on (reply_insns[2...]): shared by both programs; jumps are relative. */
#define REPLY_FROM_ETHERTYPE \
	/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL), \
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 1, 0), \
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 7, 12), \
	/* IPv4: TCP, not a fragment; X = header length. */ \
	/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), \
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 10), \
	/* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), \
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 8, 0), \
	/* 9 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), \
	/* 10 */ BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13), \
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JA, 3, 0, 0), \
	/* IPv6: TCP directly after the fixed header. */ \
	/* 12 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6), \
	/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 3), \
	/* 14 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, IP6_HLEN + 13), \
	/* Both: the flags byte is in A. */ \
	/* 15 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, FLAGS_MASK), \
	/* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PKT_ACK, 4, 1), \
	/* 17 */ BPF_STMT(BPF_RET | BPF_K, 0), \
	/* RST, with ACK or not, and neither SYN nor FIN. */ \
	/* 18 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PKT_FIN | PKT_SYN | PKT_RST), \
	/* 19 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PKT_RST, 1, 0), \
	/* 20 */ BPF_STMT(BPF_RET | BPF_K, 0), \
	/* 21 */ BPF_STMT(BPF_RET | BPF_K, PKT_SNAPLEN),

static struct sock_filter reply_insns[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 15),
	REPLY_FROM_ETHERTYPE
};

/* The same behind one more direction test: leaving, or arriving for this host. */
static struct sock_filter arriving_insns[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 1, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 15),
	REPLY_FROM_ETHERTYPE
};

static const struct sock_fprog reply_prog = {
	.len = sizeof(reply_insns) / sizeof(reply_insns[0]),
	.filter = reply_insns,
};

static const struct sock_fprog arriving_prog = {
	.len = sizeof(arriving_insns) / sizeof(arriving_insns[0]),
	.filter = arriving_insns,
};

const struct sock_fprog *packet_reply_filter(void)
{
	return &reply_prog;
}

const struct sock_fprog *packet_reply_filter_arriving(void)
{
	return &arriving_prog;
}
