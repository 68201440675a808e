/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sharing a job among threads: the destroy engine (the kernel does each destroy's work in the
 * sending thread) and the owner scan (a readlinkat per fd) spend their time in the kernel, so
 * a big job goes faster on every CPU we may use. Items are handed out from a shared counter.
 */
#ifndef SOCKREAP_WORKERS_H
#define SOCKREAP_WORKERS_H

#include <stddef.h>

#define WORKERS_MAX 4

/* The CPUs this process may run on (its affinity mask: taskset limits it), 1..WORKERS_MAX. */
int workers_available(void);

/*
 * Runs fn(args + k * size) for k in [0, n): k = 0 in the calling thread, the others on
 * threads of their own; one that cannot be started is skipped (the others take its share of
 * the items). Returns once every one has finished: how many ran (at least 1).
 */
int workers_run(void *(*fn)(void *), void *args, size_t size, int n);

/* The next item index from a shared counter; >= the item count means none left. */
static inline size_t workers_next(size_t *counter)
{
	return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

#endif
