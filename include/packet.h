/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP segments for the rst engine: building probes and resets, parsing captured replies. */
#ifndef SOCKREAP_PACKET_H
#define SOCKREAP_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10

/* Bytes of a frame the capture filter keeps: an IPv6 header and a TCP header with options. */
#define PKT_SNAPLEN 128
/* The largest segment we build: IPv6 header, TCP header, one byte. */
#define PKT_MAX 64

/* One TCP segment; addresses in network order, everything else in host order. */
struct pkt_tcp {
	int family;		/* AF_INET or AF_INET6 */
	uint32_t saddr[4];	/* IPv4 in [0] */
	uint32_t daddr[4];
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;		/* PKT_* */
	uint16_t window;
	uint16_t payload;	/* bytes of payload (parse); build appends this many zero bytes */
};

/*
 * Writes an IP header and a TCP header without options, with both checksums, then
 * p->payload (at most 1) zero bytes. Returns the length, or 0 if size is too small.
 */
size_t packet_build(uint8_t *buf, size_t size, const struct pkt_tcp *p);

/*
 * Parses a frame as a cooked (SOCK_DGRAM) packet socket delivers it: ethertype, then the IP
 * header. Checksums are not validated (a captured outgoing frame may not have them yet).
 * Returns 0, or -EINVAL when it is not an unfragmented TCP segment.
 */
int packet_parse(const uint8_t *frame, size_t len, uint16_t ethertype, struct pkt_tcp *out);

/* The Internet checksum (RFC 1071) of buf, folded with an initial 32-bit sum. */
uint16_t packet_csum(const void *buf, size_t len, uint32_t sum);

/*
 * The classic BPF program for the capture socket: outgoing, unfragmented IPv4 or IPv6 TCP
 * segments that are a pure ACK (none of SYN, RST or FIN: replies to probes) or an RST with
 * or without ACK (neither SYN nor FIN: a local end closing, or our own resets leaving); keeps
 * PKT_SNAPLEN bytes. Our probes carry SYN (never passes) or a byte of payload (the caller drops
 * what has payload), so they are never taken for replies; the caller tells our resets apart.
 */
const struct sock_fprog *packet_reply_filter(void);
/*
 * The same, taking what arrives for this host (PACKET_HOST) too: the forwarded kill's probe
 * to a flow's source draws an answer that arrives at the router and may go no further.
 */
const struct sock_fprog *packet_reply_filter_arriving(void);

#endif
