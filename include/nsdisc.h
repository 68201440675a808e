/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-pass discovery of TCP sockets across network namespaces (src/nsdisc.c): the records of
 * the BPF task_file pass, and the proof that a namespace's records are all its sockets.
 */
#ifndef SOCKREAP_NSDISC_H
#define SOCKREAP_NSDISC_H

#include "sock.h"
#include "taskfiles.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "TCP: inuse N" and "TCP6: inuse N" of one namespace: [0] IPv4, [1] IPv6. */
struct nsdisc_inuse {
	uint64_t n[2];
	bool known;	/* both read */
};

/* Every TCP socket file the pass saw, sorted by (namespace, inode), each socket once. */
struct nsdisc {
	struct taskfiles_tcp *v;
	size_t n, cap;
};

/*
 * Reads "<proto>: inuse N" out of a sockstat text (proto "TCP" or "TCP6") into *n.
 * 0, or -EINVAL when the line is not there or not a number.
 */
int nsdisc_parse_inuse(const char *text, const char *proto, uint64_t *n);

/*
 * Reads both counts through descriptors of /proc/.../net/sockstat and sockstat6 opened
 * inside the namespace (they stay bound to it); 0 or a negative errno.
 */
int nsdisc_read_inuse(int fd4, int fd6, struct nsdisc_inuse *out);

/*
 * Whether a selection of these states can be proven complete: TIME_WAIT, SYN_RECV, CLOSE
 * (bound, inactive) and an orphan's FIN_WAIT_2 (a TIME_WAIT socket) are in no count and
 * have no file, so no.
 */
bool nsdisc_states_provable(uint32_t states);

/* Appends the records read from fd (a taskfiles_open_tcp iterator) to d, then sorts. */
int nsdisc_read(struct nsdisc *d, int fd);
/* Sorts and removes a socket's second and later files (exposed for tests). */
void nsdisc_finish(struct nsdisc *d);
void nsdisc_free(struct nsdisc *d);

/* The range [*first, *end) of d's records in namespace netns. */
void nsdisc_range(const struct nsdisc *d, uint32_t netns, size_t *first, size_t *end);

/*
 * The proof: every full socket the kernel has hashed in that namespace has a file and was
 * seen, when the counts read before and after the pass agree with each other and with the
 * sockets seen there in a hashed state, for IPv4 and IPv6 alike.
 */
bool nsdisc_proven(const struct taskfiles_tcp *v, size_t n, const struct nsdisc_inuse *before,
		   const struct nsdisc_inuse *after);

/*
 * Whether a run may use the pass: SOCKREAP_COLLECT=dump and SOCKREAP_OWNERS=proc say no
 * (tests compare them; secure_getenv, so a setcap'd run ignores both). why says why not.
 */
bool nsdisc_permitted(char *why, size_t size);
/* nsdisc_permitted, and the program loads (tried for real, as doctor does). */
bool nsdisc_usable(char *why, size_t size);

/* The sock_diag identity of a record, for an exact get (cookie, or none if not yet made). */
void nsdisc_to_rec(const struct taskfiles_tcp *t, struct sock_rec *rec);

#endif
