/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What this network namespace delivers locally: every RTN_LOCAL route (each address of each
 * interface has one, and `ip route add local PREFIX dev lo` adds whole ranges), read from the
 * kernel's routing tables. --forwarded leaves out flows that begin or end at one of them.
 */
#ifndef SOCKREAP_LOCALADDR_H
#define SOCKREAP_LOCALADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct localaddr_prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* prefix length in bits */
	uint8_t addr[16];	/* network byte order */
};

struct localaddr {
	struct localaddr_prefix *v;
	size_t n, cap;
};

/*
 * Reads every local route of the calling thread's network namespace (RTM_GETROUTE dump).
 * Returns 0 or a negative errno (then l holds nothing: the caller must not guess).
 */
int localaddr_read(struct localaddr *l);
/* Adds one prefix (what localaddr_read does per route; tests too). 0 or -ENOMEM. */
int localaddr_add(struct localaddr *l, int family, const void *addr, unsigned len);
/* Whether addr (4 or 16 bytes by family) is local: in a local route, 127/8 or ::1. */
bool localaddr_has(const struct localaddr *l, int family, const void *addr);
void localaddr_free(struct localaddr *l);

#endif
