/* Kill engines behind one small interface: act on a plan, set every record's outcome. */
#ifndef SOCKREAP_ENGINE_H
#define SOCKREAP_ENGINE_H

#include "diag.h"
#include "sock.h"

struct engine {
	const char *name;
	int needs_cap;	/* CAP_* the engine needs */
	/*
	 * Acts on every record of set, exactly as planned (by cookie), and sets each outcome.
	 * Returns 0, or a negative errno when the engine could not run at all.
	 */
	int (*kill)(struct diag *d, struct sock_set *set, const struct diag_filter *scope);
};

extern const struct engine engine_destroy;

/*
 * Marks records still listed by the kernel after a kill as failed ("still-present"). scope's
 * bytecode (ports, addresses: what a TCP socket never changes) narrows the TCP re-dump; states
 * do not, since a survivor may have moved on. UDP is re-dumped whole: a destroy disconnects it.
 */
int engine_verify(struct diag *d, struct sock_set *set, const struct diag_filter *scope);

#endif
