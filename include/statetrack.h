/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The watcher's event-driven candidate set: TCP sockets in watched states (src/statetrack.c). */
#ifndef SOCKREAP_STATETRACK_H
#define SOCKREAP_STATETRACK_H

#include <linux/types.h>

/*
 * One socket in a watched state, as the tracepoint program (src/bpf/statetrack.bpf.c) keeps
 * it in its hash map under the socket's cookie: what a sock_diag get needs to find it again.
 */
struct statetrack_rec {
	__u64 cookie;
	__u64 entered_ns;	/* CLOCK_MONOTONIC when it entered state; 0: seeded by a dump */
	__u32 netns;		/* the inode of its network namespace */
	__u32 src[4];		/* network order; v4 in [0] */
	__u32 dst[4];
	__s32 bound_dev_if;
	__u16 sport;		/* host order */
	__u16 dport;		/* network order, as the kernel keeps it */
	__u16 family;
	__u8 state;
	__u8 pad;
};

/*
 * The states the tracepoint reports for full sockets only, always (include/net/tcp_states.h
 * numbers). Not FIN_WAIT2: an orphaned one becomes a timewait socket that sock_diag lists as
 * fin-wait-2 without a state change of a full socket; not TIME_WAIT, SYN_RECV (no full
 * socket); not ESTABLISHED, SYN_SENT or LISTEN: tracking those mirrors the whole table.
 */
#define STATETRACK_STATES ((1U << 4) | (1U << 8) | (1U << 9) | (1U << 11))

/*
 * The map's bound (for every namespace the tracker watches together); a full map counts an
 * overflow and the next cycle dumps. Entries are allocated as sockets arrive.
 */
#define STATETRACK_MAX_ENTRIES 65536

/* The namespaces one tracker watches at most (a --netns rule names up to 64 of them). */
#define STATETRACK_MAX_NETNS 1024

#ifndef __bpf__
#include "diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sel_node;
struct statetrack;

/*
 * The states (SS_BIT mask) a rule selects, when the tracker can stand for its dump: TCP only,
 * every state it can match among STATETRACK_STATES (the kernel prefilter's state set, which
 * never leaves out a socket the selector matches), no conntrack word. 0: the rule dumps.
 */
uint32_t statetrack_rule_states(const struct sel_node *ast);

/* A map record as the record a sock_diag get needs (id with cookie; nothing else known). */
void statetrack_to_sock(const struct statetrack_rec *in, struct sock_rec *out);

/*
 * Loads and attaches the tracepoint program for states (a subset of STATETRACK_STATES) with a
 * map of max_entries, watching the network namespace of inode netns (0: none yet; each
 * namespace a collect asks about is watched from then on, until a sweep finds it unused). 0,
 * or a negative errno with why set (-EPERM: no CAP_BPF/CAP_PERFMON; -EOPNOTSUPP/-ENOENT: no
 * BTF or tracepoint).
 */
int statetrack_open(struct statetrack **out, uint32_t states, uint64_t netns,
		    uint32_t max_entries, char *why, size_t size);
void statetrack_close(struct statetrack *t);
uint32_t statetrack_states(const struct statetrack *t);

/* What the tracker did so far: for the watcher's log and the bench. */
struct statetrack_stats {
	uint64_t dumps;		/* full dumps (seeding, overflow, safety net) */
	uint64_t lookups;	/* cycles served from the map */
	uint64_t gets;		/* exact sock_diag gets sent */
	uint64_t overflows;	/* inserts the full map refused (kernel and seeding) */
	uint64_t candidates;	/* sockets the last lookup from the map asked about */
	uint64_t namespaces;	/* network namespaces watched now */
};
void statetrack_get_stats(const struct statetrack *t, struct statetrack_stats *s);

/*
 * One rule's collection in the namespace of d (its inode netns; 0: where the thread is):
 * every socket of that namespace currently in one of states (a subset of the tracker's), as a
 * dump of those states would give it (tcp_info unless no_info), to keep. From the map by exact
 * gets by 4-tuple and cookie through d; from a full dump of the tracked states through d
 * (which also seeds the map) when the namespace is new to the tracker or was not seeded yet,
 * after an overflow, or once every reseed_ms. 0, keep's first negative return, a negative
 * errno, or 1 when the tracker cannot watch one more namespace (nothing kept: dump it).
 */
int statetrack_collect(struct statetrack *t, struct diag *d, uint64_t netns, uint32_t states,
		       uint64_t now_ms, uint64_t reseed_ms, bool no_info, diag_sock_cb keep,
		       void *arg);

/*
 * After a cycle: the namespaces no collect asked about since the last sweep (gone, or no rule
 * visits them now) are no longer watched and their entries leave the map; one that comes back
 * is seeded by a dump again.
 */
void statetrack_sweep(struct statetrack *t);
#endif

#endif
