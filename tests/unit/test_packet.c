// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Packets for the rst engine: checksums against vectors computed independently (RFC 1071, a
 * textbook IPv4 header, a Python reference), build/parse round trips, and the capture filter
 * run by a small classic-BPF interpreter over frames captured from a real kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "packet.h"

static size_t unhex(const char *hex, uint8_t *out, size_t size)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < size; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void addr(int family, const char *text, uint32_t out[4])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family, text, out), 1);
}

static void test_packet_csum_vectors(void **state)
{
	/* RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2. */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t ip[20];

	(void)state;
	assert_int_equal(packet_csum(rfc, sizeof(rfc), 0), (uint16_t)~0xddf2);
	/* The widely quoted IPv4 header 192.168.0.1 -> 192.168.0.199, checksum b861. */
	unhex("450000730000400040110000c0a80001c0a800c7", ip, sizeof(ip));
	assert_int_equal(packet_csum(ip, sizeof(ip), 0), 0xb861);
	ip[10] = 0xb8;
	ip[11] = 0x61;
	assert_int_equal(packet_csum(ip, sizeof(ip), 0), 0); /* a valid header sums to zero */
	/* An odd length pads with a zero byte. */
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };

	assert_int_equal(packet_csum(odd, sizeof(odd), 0), (uint16_t)~(0x1234 + 0x5600));
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void test_packet_build_ipv4_syn(void **state)
{
	struct pkt_tcp p = { .family = AF_INET, .sport = 40000, .dport = 5000,
			     .seq = 0x01020304, .flags = PKT_SYN };
	uint8_t buf[PKT_MAX];
	size_t len;

	(void)state;
	addr(AF_INET, "10.99.0.2", p.saddr);
	addr(AF_INET, "10.99.0.1", p.daddr);
	len = packet_build(buf, sizeof(buf), &p);
	assert_int_equal(len, 40);
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(be16(buf + 2), 40);
	assert_int_equal(buf[9], IPPROTO_TCP);
	assert_int_equal(be16(buf + 10), 0x6608);	/* reference: Python */
	assert_int_equal(be16(buf + 20), 40000);
	assert_int_equal(be16(buf + 22), 5000);
	assert_int_equal(buf[32], 0x50);		/* 20 bytes, no options */
	assert_int_equal(buf[33], PKT_SYN);
	assert_int_equal(be16(buf + 34), 0);		/* window 0 */
	assert_int_equal(be16(buf + 36), 0xe74b);	/* reference: Python */
	assert_int_equal(packet_build(buf, 39, &p), 0);
}

static void test_packet_build_ipv6_ack_with_byte(void **state)
{
	struct pkt_tcp p = { .family = AF_INET6, .sport = 40001, .dport = 5001,
			     .seq = 0xfffffff0, .ack = 0x12345678, .flags = PKT_ACK,
			     .payload = 1 };
	uint8_t buf[PKT_MAX];
	size_t len;

	(void)state;
	addr(AF_INET6, "fd99::2", p.saddr);
	addr(AF_INET6, "fd99::1", p.daddr);
	len = packet_build(buf, sizeof(buf), &p);
	assert_int_equal(len, 61);
	assert_int_equal(buf[0], 0x60);
	assert_int_equal(be16(buf + 4), 21);		/* payload length: TCP + 1 byte */
	assert_int_equal(buf[6], IPPROTO_TCP);
	assert_int_equal(buf[7], 64);
	assert_int_equal(be16(buf + 40 + 16), 0x9c35);	/* reference: Python */
	p.payload = 2;
	assert_int_equal(packet_build(buf, sizeof(buf), &p), 0);
}

static void test_packet_build_rst(void **state)
{
	struct pkt_tcp p = { .family = AF_INET, .sport = 5432, .dport = 33000,
			     .seq = 0xdeadbeef, .ack = 0xcafebabe, .flags = PKT_RST };
	uint8_t buf[PKT_MAX];

	(void)state;
	addr(AF_INET, "127.0.0.1", p.saddr);
	addr(AF_INET, "127.0.0.1", p.daddr);
	assert_int_equal(packet_build(buf, sizeof(buf), &p), 40);
	assert_int_equal(be16(buf + 36), 0xf862);	/* reference: Python */
}

static void test_packet_roundtrip(void **state)
{
	static const int families[] = { AF_INET, AF_INET6 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct pkt_tcp p = { .family = families[i], .sport = 1, .dport = 65535,
				     .seq = 7, .ack = 0xffffffff, .flags = PKT_ACK | PKT_PSH,
				     .window = 512, .payload = 1 }, q;
		uint8_t buf[PKT_MAX];
		size_t len;

		addr(p.family, p.family == AF_INET ? "192.0.2.1" : "2001:db8::1", p.saddr);
		addr(p.family, p.family == AF_INET ? "198.51.100.7" : "2001:db8::7", p.daddr);
		len = packet_build(buf, sizeof(buf), &p);
		assert_int_not_equal(len, 0);
		assert_int_equal(packet_parse(buf, len, p.family == AF_INET ? ETH_P_IP : ETH_P_IPV6,
					      &q), 0);
		assert_int_equal(q.family, p.family);
		assert_memory_equal(q.saddr, p.saddr, 16);
		assert_memory_equal(q.daddr, p.daddr, 16);
		assert_int_equal(q.sport, 1);
		assert_int_equal(q.dport, 65535);
		assert_int_equal(q.seq, 7);
		assert_int_equal(q.ack, 0xffffffff);
		assert_int_equal(q.flags, PKT_ACK | PKT_PSH);
		assert_int_equal(q.window, 512);
		assert_int_equal(q.payload, 1);
		/* Truncated to the IP header alone: not a TCP segment. */
		assert_int_equal(packet_parse(buf, p.family == AF_INET ? 20 : 40,
					      p.family == AF_INET ? ETH_P_IP : ETH_P_IPV6, &q),
				 -EINVAL);
	}
}

/*
 * Frames captured on loopback (cooked packet socket) from a kernel 6.18 connection probed with
 * a SYN: the probe itself, then the challenge ACK (TCP timestamps, partial checksum: offload).
 */
static const char *const v4_probe =
	"450000281bd70000400660f77f0000017f000001c26cb85500003039000000005002000006e50000";
static const char *const v4_reply =
	"450000344db740004006ef0a7f0000017f000001b855c26cc7d5b708839fdcb480100040fe2800000101080a"
	"8c69e08a1ae1525f";
static const char *const v6_probe =
	"60000000001406400000000000000000000000000000000100000000000000000000000000000001"
	"88889d3500003039000000005002000059ea0000";
static const char *const v6_reply =
	"600e5359002006400000000000000000000000000000000100000000000000000000000000000001"
	"9d358888f8f8fc4c2cb85ddf80100040002800000101080a1a64dd35dac17ef7";

static void test_packet_parse_captured(void **state)
{
	uint8_t f[PKT_SNAPLEN];
	struct pkt_tcp p;
	size_t n;

	(void)state;
	n = unhex(v4_reply, f, sizeof(f));
	assert_int_equal(packet_parse(f, n, ETH_P_IP, &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.sport, 0xb855);
	assert_int_equal(p.dport, 0xc26c);
	assert_int_equal(p.seq, 0xc7d5b708);
	assert_int_equal(p.ack, 0x839fdcb4);
	assert_int_equal(p.flags, PKT_ACK);
	assert_int_equal(p.payload, 0);		/* 12 bytes of options are not payload */
	n = unhex(v6_reply, f, sizeof(f));
	assert_int_equal(packet_parse(f, n, ETH_P_IPV6, &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.sport, 0x9d35);
	assert_int_equal(p.ack, 0x2cb85ddf);
	assert_int_equal(p.payload, 0);
	/* Wrong ethertype for the bytes, and a fragment. */
	assert_int_equal(packet_parse(f, n, ETH_P_IP, &p), -EINVAL);
	n = unhex(v4_reply, f, sizeof(f));
	f[6] = 0x20; /* MF */
	assert_int_equal(packet_parse(f, n, ETH_P_IP, &p), -EINVAL);
	assert_int_equal(packet_parse(f, n, ETH_P_ARP, &p), -EINVAL);
}

/* Just enough of classic BPF for the capture program, ancillary loads included. */
static uint32_t run_bpf(const struct sock_fprog *prog, const uint8_t *pkt, uint32_t len,
			uint32_t pkttype, uint16_t proto)
{
	uint32_t a = 0, x = 0;

	for (unsigned pc = 0; pc < prog->len; pc++) {
		const struct sock_filter *i = &prog->filter[pc];
		uint32_t k = i->k, off;

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k == (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)) {
				a = pkttype;
			} else if (k == (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL)) {
				a = proto;
			} else {
				if (k + 4 > len)
					return 0;
				a = (uint32_t)pkt[k] << 24 | (uint32_t)pkt[k + 1] << 16 |
				    (uint32_t)pkt[k + 2] << 8 | pkt[k + 3];
			}
			break;
		case BPF_LD | BPF_H | BPF_ABS:
			if (k + 2 > len)
				return 0;
			a = (uint32_t)pkt[k] << 8 | pkt[k + 1];
			break;
		case BPF_LD | BPF_B | BPF_ABS:
			if (k >= len)
				return 0;
			a = pkt[k];
			break;
		case BPF_LD | BPF_B | BPF_IND:
			off = x + k;
			if (off >= len)
				return 0;
			a = pkt[off];
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (k >= len)
				return 0;
			x = (uint32_t)(pkt[k] & 0x0f) * 4;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		case BPF_JMP | BPF_JA:
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & k) ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return k;
		default:
			fail_msg("unexpected BPF opcode %#x at %u", i->code, pc);
		}
		assert_true(pc < prog->len);
	}
	fail_msg("BPF program fell off its end");
	return 0;
}

static uint32_t filter(const char *hex, uint32_t pkttype, uint16_t proto)
{
	uint8_t f[PKT_SNAPLEN];
	size_t n = unhex(hex, f, sizeof(f));

	return run_bpf(packet_reply_filter(), f, (uint32_t)n, pkttype, proto);
}

static void test_packet_filter_captured(void **state)
{
	(void)state;
	/* The challenge ACK leaving the socket is taken, whole. */
	assert_int_equal(filter(v4_reply, PACKET_OUTGOING, ETH_P_IP), PKT_SNAPLEN);
	assert_int_equal(filter(v6_reply, PACKET_OUTGOING, ETH_P_IPV6), PKT_SNAPLEN);
	/* Its looped-back copy arriving, and our SYN probes, are not. */
	assert_int_equal(filter(v4_reply, PACKET_HOST, ETH_P_IP), 0);
	assert_int_equal(filter(v6_reply, PACKET_HOST, ETH_P_IPV6), 0);
	assert_int_equal(filter(v4_probe, PACKET_OUTGOING, ETH_P_IP), 0);
	assert_int_equal(filter(v6_probe, PACKET_OUTGOING, ETH_P_IPV6), 0);
	/* Another ethertype. */
	assert_int_equal(filter(v4_reply, PACKET_OUTGOING, ETH_P_ARP), 0);
}

/*
 * The forwarded kill's filter also takes what arrives for this host: an end's answer to the
 * out-of-window ACK probe arrives at the router and may go no further. Not frames for other
 * hosts, not our probes.
 */
static void test_packet_filter_arriving(void **state)
{
	uint8_t f[PKT_SNAPLEN];
	size_t n4 = unhex(v4_reply, f, sizeof(f));
	const struct sock_fprog *arriving = packet_reply_filter_arriving();

	(void)state;
	assert_int_equal(run_bpf(arriving, f, (uint32_t)n4, PACKET_HOST, ETH_P_IP), PKT_SNAPLEN);
	assert_int_equal(run_bpf(arriving, f, (uint32_t)n4, PACKET_OUTGOING, ETH_P_IP),
			 PKT_SNAPLEN);
	assert_int_equal(run_bpf(arriving, f, (uint32_t)n4, PACKET_OTHERHOST, ETH_P_IP), 0);
	assert_int_equal(run_bpf(arriving, f, (uint32_t)n4, PACKET_BROADCAST, ETH_P_IP), 0);
	assert_int_equal(run_bpf(arriving, f, (uint32_t)n4, PACKET_HOST, ETH_P_ARP), 0);
	size_t n6 = unhex(v6_reply, f, sizeof(f));

	assert_int_equal(run_bpf(arriving, f, (uint32_t)n6, PACKET_HOST, ETH_P_IPV6), PKT_SNAPLEN);
	n4 = unhex(v4_probe, f, sizeof(f));
	assert_int_equal(run_bpf(arriving, f, (uint32_t)n4, PACKET_HOST, ETH_P_IP), 0);
	/* The rst engine's own filter still takes only what leaves. */
	n4 = unhex(v4_reply, f, sizeof(f));
	assert_int_equal(run_bpf(packet_reply_filter(), f, (uint32_t)n4, PACKET_HOST, ETH_P_IP), 0);
}

static void test_packet_filter_built(void **state)
{
	static const struct {
		int family;
		uint8_t flags;
		uint32_t want;
	} cases[] = {
		{ AF_INET, PKT_ACK, PKT_SNAPLEN },
		{ AF_INET, PKT_ACK | PKT_PSH, PKT_SNAPLEN },
		{ AF_INET, PKT_ACK | PKT_FIN, 0 },
		/* An owner's abort (RST|ACK), the kernel's answer to a segment with ACK (RST). */
		{ AF_INET, PKT_RST, PKT_SNAPLEN },
		{ AF_INET, PKT_RST | PKT_ACK, PKT_SNAPLEN },
		{ AF_INET, PKT_RST | PKT_ACK | PKT_PSH, PKT_SNAPLEN },
		{ AF_INET, PKT_RST | PKT_SYN, 0 },
		{ AF_INET, PKT_RST | PKT_FIN | PKT_ACK, 0 },
		{ AF_INET, PKT_SYN | PKT_ACK, 0 },
		{ AF_INET, PKT_SYN, 0 },
		{ AF_INET, PKT_FIN, 0 },
		{ AF_INET, 0, 0 },
		{ AF_INET6, PKT_ACK, PKT_SNAPLEN },
		{ AF_INET6, PKT_ACK | PKT_FIN, 0 },
		{ AF_INET6, PKT_RST, PKT_SNAPLEN },
		{ AF_INET6, PKT_RST | PKT_ACK, PKT_SNAPLEN },
		{ AF_INET6, PKT_RST | PKT_SYN | PKT_ACK, 0 },
		{ AF_INET6, PKT_SYN, 0 },
		{ AF_INET6, PKT_SYN | PKT_ACK, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt_tcp p = { .family = cases[i].family, .flags = cases[i].flags,
				     .sport = 1, .dport = 2 };
		uint8_t buf[PKT_MAX];
		uint16_t proto = p.family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
		size_t len = packet_build(buf, sizeof(buf), &p);

		assert_int_equal(run_bpf(packet_reply_filter(), buf, (uint32_t)len,
					 PACKET_OUTGOING, proto), cases[i].want);
	}
	/* IPv4 with options: the TCP flags are found through the header length. */
	uint8_t opt[PKT_MAX + 4];
	struct pkt_tcp p = { .family = AF_INET, .flags = PKT_ACK };
	size_t len = packet_build(opt + 4, sizeof(opt) - 4, &p);

	memmove(opt, opt + 4, 20);
	memset(opt + 20, 1, 4); /* four NOP options */
	opt[0] = 0x46;
	opt[4 + 20 + 13] = PKT_ACK;
	assert_int_equal(run_bpf(packet_reply_filter(), opt, (uint32_t)len + 4, PACKET_OUTGOING,
				 ETH_P_IP), PKT_SNAPLEN);
	opt[4 + 20 + 13] = PKT_RST | PKT_ACK;
	assert_int_equal(run_bpf(packet_reply_filter(), opt, (uint32_t)len + 4, PACKET_OUTGOING,
				 ETH_P_IP), PKT_SNAPLEN);
	/* Arriving, not leaving: not taken. */
	assert_int_equal(run_bpf(packet_reply_filter(), opt, (uint32_t)len + 4, PACKET_HOST,
				 ETH_P_IP), 0);
	opt[4 + 20 + 13] = PKT_SYN;
	assert_int_equal(run_bpf(packet_reply_filter(), opt, (uint32_t)len + 4, PACKET_OUTGOING,
				 ETH_P_IP), 0);
	/* A fragment, and UDP. */
	len = packet_build(opt, sizeof(opt), &p);
	opt[6] = 0x00;
	opt[7] = 0x10;
	assert_int_equal(run_bpf(packet_reply_filter(), opt, (uint32_t)len, PACKET_OUTGOING,
				 ETH_P_IP), 0);
	opt[7] = 0;
	opt[9] = IPPROTO_UDP;
	assert_int_equal(run_bpf(packet_reply_filter(), opt, (uint32_t)len, PACKET_OUTGOING,
				 ETH_P_IP), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_csum_vectors),
		cmocka_unit_test(test_packet_build_ipv4_syn),
		cmocka_unit_test(test_packet_build_ipv6_ack_with_byte),
		cmocka_unit_test(test_packet_build_rst),
		cmocka_unit_test(test_packet_roundtrip),
		cmocka_unit_test(test_packet_parse_captured),
		cmocka_unit_test(test_packet_filter_captured),
		cmocka_unit_test(test_packet_filter_arriving),
		cmocka_unit_test(test_packet_filter_built),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
