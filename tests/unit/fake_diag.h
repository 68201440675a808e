/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A scripted stand-in for diag.c (the netlink seam), for engine tests. */
#ifndef SOCKREAP_FAKE_DIAG_H
#define SOCKREAP_FAKE_DIAG_H

#include "diag.h"

struct fake_sock {
	uint64_t cookie;
	int destroy_err;	/* what SOCK_DESTROY answers: 0, -errno or DIAG_NO_ACK */
	bool reused;		/* the 4-tuple now belongs to another socket (new cookie) */
	bool listener_behind;	/* a lookup without cookie finds a listener on the port */
	bool survives;		/* still listed by the verification dump */
	/*
	 * An SO_REUSEPORT group (0: none). As in the kernel, a destroy finds the group's member
	 * by hash: here the live member with the highest cookie. It is killed if that is the
	 * one the request names, else the answer is ENOENT. Members are listed while alive.
	 */
	int group;
	/* The state a lookup by cookie finds a surviving socket in (0: the one it had). */
	uint8_t state_after;
};

/* More sockets for the dump to list (the fake rawio's live ones); NULL for none. */
typedef int (*fake_diag_extra_fn)(const struct diag_filter *flt, diag_sock_cb cb, void *arg);
void fake_diag_extra(fake_diag_extra_fn fn);

void fake_diag_script(const struct fake_sock *socks, size_t n);
/* Sizes of the destroy batches sent, in order of sending; returns how many. */
size_t fake_diag_batches(size_t *sizes, size_t max);

/* How many SOCK_DESTROY requests named this cookie (cookies below FAKE_DIAG_COOKIES). */
#define FAKE_DIAG_COOKIES 65536
unsigned fake_diag_destroyed(uint64_t cookie);
/* Worker handles opened since the last script, and how many are still open. */
int fake_diag_workers(int *still_open);
/*
 * The nth netlink query from now (1: the next; diag_dump and diag_check_batch count) fails
 * with err; 0 for none. Reset by fake_diag_script.
 */
void fake_diag_fail_query(unsigned nth, int err);
/* Every dump of family (0: any) fails with err from now on (0: none). Reset by the script. */
void fake_diag_fail_dumps(int family, int err);
/* The same, but only after listing what it would list (a dump cut short at its end). */
void fake_diag_fail_dumps_late(int family, int err);
/* Every batched check fails with err from now on (0: none). Reset by the script. */
void fake_diag_fail_checks(int err);
/* Queries (dumps and batched checks) since the last script. */
unsigned fake_diag_queries(void);
/* diag_unix_owner answers ret (and uid when ret is 0) from now on; -ENOENT at the start. */
void fake_diag_unix_owner(int ret, uint32_t uid);
/* diag_open_worker answers err (0: succeeds) until the next script. */
void fake_diag_worker_fail(int err);

#endif
