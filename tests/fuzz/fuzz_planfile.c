// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the plan file reader (--apply): any bytes give 0, -EINVAL (not a
 * plan, inconsistent) or -EBADMSG (malformed JSON), never a crash; a plan that is accepted
 * holds only what --apply can look up: as many sockets as its count, each with a real cookie,
 * a known state, TCP or UDP, inet or inet6, and a namespace among those it lists.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "planfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the input, so that any read past it is caught. */
	char *buf = malloc(size ? size : 1), why[512];
	struct planfile p;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = planfile_parse(buf, size, &p, why, sizeof(why));
	if (r != 0 && r != -EINVAL && r != -EBADMSG && r != -ENOMEM)
		abort();
	if (r != 0 && !why[0])
		abort();	/* every refusal says why */
	if (strlen(p.sha256) != 2 * SHA256_LEN)
		abort();
	for (size_t i = 0; r == 0 && i < p.socks.n; i++) {
		const struct sock_rec *s = &p.socks.v[i];
		uint64_t c = sock_cookie(s);

		if (!c || c == ~0ULL || s->state == 0 || s->state >= SS_MAX ||
		    (s->family != 2 && s->family != 10) || (s->protocol != 6 && s->protocol != 17) ||
		    s->netns >= p.nnetns)
			abort();
	}
	planfile_free(&p);
	free(buf);
	return 0;
}
