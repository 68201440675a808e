// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the packet parser of the rst engine: the input's first byte picks the
 * ethertype (even: IPv4, odd: IPv6), the rest is a captured frame. A frame that parses must
 * say no more than it holds, and what it says must build into a segment that parses back to
 * the same fields.
 */
#include <linux/if_ether.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_tcp p, q;
	uint8_t seg[PKT_MAX];

	if (size < 1)
		return 0;
	uint16_t ethertype = data[0] & 1 ? ETH_P_IPV6 : ETH_P_IP;
	/* A copy of exactly the frame, so that any read past it is caught. */
	size_t len = size - 1;
	uint8_t *frame = malloc(len ? len : 1);

	if (!frame)
		return 0;
	memcpy(frame, data + 1, len);
	if (packet_parse(frame, len, ethertype, &p) == 0) {
		if (p.family != (ethertype == ETH_P_IP ? AF_INET : AF_INET6))
			abort();
		p.payload = p.payload > 1 ? 1 : p.payload;
		size_t n = packet_build(seg, sizeof(seg), &p);

		if (!n || packet_parse(seg, n, ethertype, &q) != 0 || memcmp(&p, &q, sizeof(p)))
			abort();
		/* What we build carries valid checksums: the IPv4 header sums to zero. */
		if (p.family == AF_INET && packet_csum(seg, 20, 0) != 0)
			abort();
	}
	free(frame);
	return 0;
}
