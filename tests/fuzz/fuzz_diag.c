// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the sock_diag reply parser: the input is one receive buffer of netlink
 * messages, walked as diag_dump walks it; every SOCK_DIAG_BY_FAMILY message goes through
 * diag_parse, and each record it accepts through the table and JSON output, as a dump's
 * records do.
 */
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netlink/msg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[65536];
	/* The kernel's buffer is aligned; so is ours, whatever libFuzzer hands over. */
	uint32_t *buf = malloc(size + 4);
	struct sock_set set = { 0 };
	int rem = (int)size;

	if (!buf || size > INT32_MAX) {
		free(buf);
		return 0;
	}
	memcpy(buf, data, size);
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nlmsg_ok(h, rem); h = nlmsg_next(h, &rem)) {
		struct sock_rec rec;

		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
			break;
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		if (diag_parse(h, h->nlmsg_flags & 1 ? IPPROTO_UDP : IPPROTO_TCP, &rec) < 0)
			continue;
		/* The fixed part is copied whole: what the kernel said is what a destroy sends. */
		if (memcmp(&rec.id, &((const struct inet_diag_msg *)nlmsg_data(h))->id,
			   sizeof(rec.id)))
			abort();
		if (rec.pid != -1 || rec.fd != -1)
			abort();
		if (sock_set_push(&set, &rec) < 0)
			break;
	}
	FILE *f = fmemopen(out, sizeof(out), "w");

	if (f) {
		struct output_run run = { "dry-run", "", "destroy", NULL, 0, 0, NULL, NULL, NULL };

		output_table(f, &set, NULL, false);
		output_json(f, &set, NULL, &run);
		fclose(f);
	}
	sock_set_free(&set);
	free(buf);
	return 0;
}
