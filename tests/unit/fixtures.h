/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Socket records for the unit tests. */
#ifndef SOCKREAP_TEST_FIXTURES_H
#define SOCKREAP_TEST_FIXTURES_H

#include <arpa/inet.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sock.h"

static inline struct sock_rec fx_rec(int family, const char *src, uint16_t sport, const char *dst,
				     uint16_t dport, unsigned state, uint64_t cookie)
{
	struct sock_rec r;

	memset(&r, 0, sizeof(r));
	r.family = (uint8_t)family;
	r.protocol = 6;
	r.state = (uint8_t)state;
	inet_pton(family, src, r.id.idiag_src);
	inet_pton(family, dst, r.id.idiag_dst);
	r.id.idiag_sport = htons(sport);
	r.id.idiag_dport = htons(dport);
	r.id.idiag_cookie[0] = (uint32_t)cookie;
	r.id.idiag_cookie[1] = (uint32_t)(cookie >> 32);
	r.idle_ms = SOCK_IDLE_UNKNOWN;
	r.pid = -1;
	r.fd = -1;
	return r;
}

/* Writes text to root/rel (a fixture /proc file). 0 or -1. */
/* Pins the calling thread to the first CPU of all (a one-thread path's test): sched's return. */
static inline int fx_pin_first_cpu(const cpu_set_t *all)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, all)) {
			CPU_SET(c, &one);
			break;
		}
	return sched_setaffinity(0, sizeof(one), &one);
}

static inline int fx_put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* Removes a fixture tree made under /tmp by a test's setup. 0 or -1. */
static inline int fx_rmtree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	if (strncmp(dir, "/tmp/sockreap-", 14) || strchr(dir, '\''))
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
