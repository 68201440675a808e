/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sock_diag over libnl-3 core: dump, exact lookup, batched SOCK_DESTROY. */
#ifndef SOCKREAP_DIAG_H
#define SOCKREAP_DIAG_H

#include "sock.h"

struct diag;
struct nlmsghdr;

#define DIAG_BATCH 256
/* A destroy that got no ack (the ack queue overflowed): verification decides. */
#define DIAG_NO_ACK 1

int diag_open(struct diag **out);

/*
 * The owner (uid) of the AF_UNIX stream socket bound to the abstract name "\0name" in the
 * handle's network namespace: 0, -ENOENT when no socket is bound to it, -EOPNOTSUPP when the
 * kernel does not say (UNIX_DIAG_UID came with Linux 5.3), or another -errno.
 */
int diag_unix_owner(struct diag *d, const char *name, uint32_t *uid);
/*
 * A handle for a destroy worker thread: its own netlink socket and buffers, for
 * diag_destroy_batch and diag_lookup (not diag_dump). One thread per handle.
 */
int diag_open_worker(struct diag **out);
void diag_close(struct diag *d);
/*
 * Frees the handle's buffers until its next use (which allocates them again): a run that
 * holds a handle per namespace keeps only those in use. Accepts NULL.
 */
void diag_trim(struct diag *d);

/* Called for each dumped socket; a negative return is remembered and returned by the dump. */
typedef int (*diag_sock_cb)(const struct sock_rec *rec, void *arg);

/* What one dump asks the kernel for. */
struct diag_filter {
	int family;
	int protocol;
	uint32_t states;
	const void *bytecode;	/* INET_DIAG_REQ_BYTECODE, or NULL */
	size_t bclen;
	bool no_info;		/* skip tcp_info (idle times): verification needs none */
};

/*
 * Dumps one family and protocol, restricted to a state bitmask and bytecode, to completion.
 * Returns 0, the first negative callback result, or a negative errno
 * (-EINVAL: protocol not available here, or bytecode refused).
 */
int diag_dump(struct diag *d, const struct diag_filter *flt, diag_sock_cb cb, void *arg);

/*
 * Sends SOCK_DESTROY for up to DIAG_BATCH records in one sendmsg on the second socket, each
 * with its dumped id (cookie included). errs[i] gets 0, a negative errno or DIAG_NO_ACK.
 * Returns 0, or a negative errno when the batch could not be sent at all.
 */
int diag_destroy_batch(struct diag *d, struct sock_rec *const *recs, size_t n, int *errs);

/*
 * Looks up to DIAG_BATCH sockets up by their dumped ids (SOCK_DIAG_BY_FAMILY get requests in
 * one sendmsg on the second socket, answers matched by sequence number). With with_cookie,
 * present[i] says whether the kernel still has that very socket: a socket closed since, or
 * whose 4-tuple now belongs to another (a cookie mismatch), is not present. Without, whether
 * the kernel finds any socket for the 4-tuple (for a listener's port, maybe the listener).
 * found (may be NULL) gets what was found. The requests have no side effect: answers lost to
 * a full receive queue are asked again, in smaller batches. Returns 0 or a negative errno
 * (any answer but a socket, ENOENT or ESTALE), after which present[] means nothing.
 */
int diag_check_batch(struct diag *d, struct sock_rec *const *recs, size_t n, bool with_cookie,
		     bool *present, struct sock_rec *found);

/*
 * diag_check_batch for collecting: the records it finds are what a dump with the same
 * no_info would give (tcp_info included unless no_info). A record whose cookie is
 * INET_DIAG_NOCOOKIE is looked up by its 4-tuple alone.
 */
int diag_get_batch(struct diag *d, struct sock_rec *const *recs, size_t n, bool no_info,
		   bool *present, struct sock_rec *found);

/* Looks one socket up by its 4-tuple (and cookie, if with_cookie). 0 found, -ENOENT, -errno. */
int diag_lookup(struct diag *d, const struct sock_rec *rec, bool with_cookie,
		struct sock_rec *found);

/* Parses one SOCK_DIAG_BY_FAMILY message (exposed for tests). 0 or -EINVAL. */
int diag_parse(const struct nlmsghdr *h, int protocol, struct sock_rec *rec);

#endif
