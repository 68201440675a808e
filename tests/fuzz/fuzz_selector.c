// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the selector: any input either parses, or fails with an error span
 * inside it. What parses must print a canonical form that parses back to the same canonical
 * form, compile to a prefilter, and evaluate without fault.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fixtures.h"
#include "selector.h"

static struct sock_rec rec(int family, const char *a, uint16_t sp, const char *b, uint16_t dp,
			   unsigned state, int32_t pid)
{
	struct sock_rec r = fx_rec(family, a, sp, b, dp, state, 0);

	r.idle_ms = 300000;
	r.pid = pid;
	return r;
}

/* Pid 100 (java) is the one owner of the sockets it holds. */
static bool owner_of(void *arg, const struct sock_rec *r, size_t i, struct sel_owner_info *out)
{
	(void)arg;
	if (r->pid != 100 || i)
		return false;
	*out = (struct sel_owner_info){ 100, 3, "java", "/usr/bin/java", 1 };
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[16384], again[16384];
	struct sel_error err;
	struct sel_prefilter pf;
	char *src = malloc(size + 1);

	if (!src)
		return 0;
	memcpy(src, data, size);
	src[size] = '\0';
	struct sel_node *n = selector_parse(src, &err);

	if (!n) {
		size_t len = strlen(src);

		if (err.msg[0] && (err.pos < 0 || (size_t)err.pos > len || err.len < 1))
			abort();
		free(src);
		return 0;
	}
	if (selector_format(n, out, sizeof(out)) < sizeof(out)) {
		struct sel_node *m = selector_parse(out, &err);

		if (!m) {
			fprintf(stderr, "canonical \"%s\" does not parse: %s\n", out, err.msg);
			abort();
		}
		selector_format(m, again, sizeof(again));
		if (strcmp(out, again)) {
			fprintf(stderr, "canonical \"%s\" re-printed as \"%s\"\n", out, again);
			abort();
		}
		sel_node_free(m);
	}
	selector_prefilter(n, &pf);
	struct sock_rec r[] = {
		rec(AF_INET, "10.0.0.1", 5432, "10.0.0.9", 41234, SS_CLOSE_WAIT, 100),
		rec(AF_INET6, "::1", 443, "::ffff:10.0.0.9", 80, SS_ESTABLISHED, -1),
		rec(AF_INET, "127.0.0.1", 22, "0.0.0.0", 0, SS_LISTEN, 0),
	};
	struct sel_owner_ctx oc = { owner_of, NULL, NULL, NULL, NULL, NULL };

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		enum sel_result a = selector_eval(n, &r[i], NULL);
		enum sel_result b = selector_eval(n, &r[i], &oc);

		/* Knowing the owners can only settle what was unknown, never flip it. */
		if (a != SEL_UNKNOWN && r[i].pid >= 0 && a != b)
			abort();
	}
	sel_node_free(n);
	free(src);
	return 0;
}
