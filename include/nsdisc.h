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

/* What the proof needs of one socket the pass saw: 16 bytes, not a whole record. */
struct nsdisc_sock {
	uint64_t inode;
	uint32_t netns;
	uint16_t family;
	uint8_t state;
	uint8_t pad;
};

/*
 * What the pass saw, sorted by (namespace, inode), each socket once: every TCP socket with a
 * file (for the proof), and the whole records of those in a state the selection asks for
 * (the candidates). On a host with 140,000 sockets the records alone were 9 MiB.
 */
struct nsdisc {
	struct nsdisc_sock *all;
	size_t n, cap;
	struct taskfiles_tcp *cand;
	size_t ncand, capcand;
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

/*
 * Reads the records of fd (a taskfiles_open_tcp iterator) into d: every one into all, those
 * whose state is in states into cand; then sorts both and keeps each socket once.
 * 0, -ENOMEM, -EPROTO (a record cut short) or a read's negative errno.
 */
int nsdisc_read(struct nsdisc *d, int fd, uint32_t states);
void nsdisc_free(struct nsdisc *d);

/* The ranges [*first, *end) of d->all and of d->cand in namespace netns. */
void nsdisc_range(const struct nsdisc *d, uint32_t netns, size_t *first, size_t *end);
void nsdisc_cand_range(const struct nsdisc *d, uint32_t netns, size_t *first, size_t *end);

/*
 * The proof: every full socket the kernel has hashed in that namespace has a file and was
 * seen, when the counts read before and after the pass agree with each other and with the
 * sockets seen there (v: its range of d->all) in a hashed state, for IPv4 and IPv6 alike.
 */
bool nsdisc_proven(const struct nsdisc_sock *v, size_t n, const struct nsdisc_inuse *before,
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
