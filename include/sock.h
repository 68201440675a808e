/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The socket record every stage shares, state and outcome names. */
#ifndef SOCKREAP_SOCK_H
#define SOCKREAP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/inet_diag.h>

/* Kernel TCP state numbers (include/net/tcp_states.h). */
enum sock_state {
	SS_ESTABLISHED = 1,
	SS_SYN_SENT,
	SS_SYN_RECV,
	SS_FIN_WAIT1,
	SS_FIN_WAIT2,
	SS_TIME_WAIT,
	SS_CLOSE,
	SS_CLOSE_WAIT,
	SS_LAST_ACK,
	SS_LISTEN,
	SS_CLOSING,
	SS_NEW_SYN_RECV,
	SS_MAX
};

#define SS_BIT(s) (1U << (s))
#define SS_ALL_MASK ((1U << SS_MAX) - 2U) /* every state but 0 */

enum sock_outcome {
	OUT_NONE = 0,	/* not acted on (preview) */
	OUT_KILLED,
	OUT_GONE,	/* closed by itself before we acted */
	OUT_CHANGED,	/* 4-tuple reused: the cookie no longer matches */
	OUT_UNSUPPORTED,
	OUT_DENIED,
	OUT_FAILED,
	OUT_SKIPPED,	/* kept out of the kill on purpose, before any engine ran (see err) */
	OUT_MAX
};

enum sock_engine { SOCK_ENGINE_NONE = 0, SOCK_ENGINE_DESTROY, SOCK_ENGINE_RST, SOCK_ENGINE_SHUTDOWN };

#define SOCK_IDLE_UNKNOWN UINT32_MAX

/* A destroyed UDP socket that was bound explicitly: disconnected, but still bound and listed. */
#define SOCK_F_STAYS_BOUND 0x01
/* The kernel sent the mark (it does so only to CAP_NET_ADMIN). */
#define SOCK_F_MARK_KNOWN 0x02
/* rst: the peer end was sent a reset too (a remote end: nothing here can verify it). */
#define SOCK_F_PEER_RESET 0x04
/* rst: the peer end is a socket of this namespace that the plan does not hold: left alone. */
#define SOCK_F_PEER_LEFT 0x08
/* rst: the peer end is a socket of this namespace that the plan holds: its own target. */
#define SOCK_F_PEER_PLANNED 0x10
/*
 * shutdown: shut down and still listed in a closing state (fin-wait, last-ack, time-wait)
 * while its owner holds the fd: it carries no more data; the kernel finishes the close.
 */
#define SOCK_F_CLOSING 0x20
/* The engine chosen could not act on it (shutdown: no owner) and another did: engine says. */
#define SOCK_F_FALLBACK 0x40
/* The record is the s of a struct ct_flow: a conntrack entry, not a socket (conntrack.h). */
#define SOCK_F_CONNTRACK 0x80

/*
 * One socket as the kernel dumped it. The inet_diag_sockid is kept whole so that a
 * destroy request can carry it back verbatim, cookie included.
 */
struct sock_rec {
	struct inet_diag_sockid id;
	uint64_t cgroup_id;
	uint32_t uid;
	uint32_t inode;
	uint32_t rqueue;
	uint32_t wqueue;
	uint32_t mark;
	uint32_t idle_ms;	/* SOCK_IDLE_UNKNOWN without tcp_info */
	int32_t pid;		/* lowest known owning pid (fd: its lowest); 0 none known, -1 not
				 * looked up; whether others may be unknown is procmap's to say */
	int32_t fd;
	uint16_t nowners;
	uint8_t family;
	uint8_t protocol;
	uint8_t state;		/* enum sock_state, NEW_SYN_RECV folded into SYN_RECV */
	uint8_t timer;
	uint8_t outcome;	/* enum sock_outcome */
	uint8_t flags;		/* SOCK_F_* */
	uint8_t engine;		/* enum sock_engine: which engine acted */
	uint16_t netns;		/* index of the namespace it lives in, among those the run
				 * visits (0 when it visits one); fills padding: no bigger */
	int32_t err;		/* errno behind OUT_FAILED/DENIED/UNSUPPORTED */
};

/* A growable array of records: amortized growth, no allocation per socket. */
struct sock_set {
	struct sock_rec *v;
	size_t n;
	size_t cap;
};

int sock_set_push(struct sock_set *set, const struct sock_rec *rec);
void sock_set_free(struct sock_set *set);

uint64_t sock_cookie(const struct sock_rec *rec);
uint16_t sock_sport(const struct sock_rec *rec);
uint16_t sock_dport(const struct sock_rec *rec);

/* "close-wait" etc.; parse accepts any case and '_' for '-'. Returns -1 if unknown. */
const char *sock_state_name(unsigned state);
int sock_state_parse(const char *name, size_t len);

const char *sock_outcome_name(unsigned outcome);

/* "10.0.0.1:80", "[::1]:80", "*:*" for a wildcard. Returns the length written. */
int sock_format_endpoint(char *buf, size_t size, int family, const uint32_t addr[4],
			 uint16_t port);
int sock_format_addr(char *buf, size_t size, int family, const uint32_t addr[4]);

/* v in decimal at p, without a NUL (sock_dec_len(v) bytes): the end. By hand, for tables. */
size_t sock_dec_len(uint32_t v);
char *sock_put_dec(char *p, uint32_t v);

/* "750ms", "42s", "5m", "3h", "2d", "-" for unknown. */
int sock_format_duration(char *buf, size_t size, uint32_t ms);

/* "ENOENT" etc. (the symbolic errno name), "EUNKNOWN" when it has none. */
const char *sock_errno_name(int err);

/* rec->err for a socket the kernel acknowledged destroying but still lists afterwards. */
#define SOCK_ERR_SURVIVED 100000
/* rst: the socket never answered a probe (and is still there). */
#define SOCK_ERR_NO_REPLY 100001
/* rst: net.ipv4.tcp_rfc1337=1 makes TIME_WAIT ignore resets. */
#define SOCK_ERR_RFC1337 100002
/* rst: the engine cannot reach this state (listen, syn-sent, syn-recv, UDP). */
#define SOCK_ERR_RST_STATE 100003
/* rst: sending was refused (EPERM): a firewall, typically `ct state invalid drop`. */
#define SOCK_ERR_FIREWALL 100004
/* OUT_SKIPPED: whether the selector matches depends on an owner that could not be read. */
#define SOCK_ERR_OWNER_UNKNOWN 100010
/* shutdown: the owner's fd no longer refers to the planned socket (closed, reused, exited). */
#define SOCK_ERR_FD_CHANGED 100011
/* OUT_SKIPPED: its audit intent could not be written, so it was not acted on. */
#define SOCK_ERR_NO_INTENT 100012

/* The kill could not be verified (the verification dump or identity check failed). */
#define SOCK_ERR_UNVERIFIED 100005
/*
 * destroy: the kernel kept answering ENOENT while listing the socket: its lookup lands on an
 * SO_REUSEPORT sibling the plan does not hold.
 */
#define SOCK_ERR_SIBLING 100006

const char *sock_engine_name(unsigned engine);

/*
 * What was done about the peer end (rst): "reset-sent" (a remote end: not verifiable from
 * here), "local-planned" (a local socket the plan holds), "local-left" (a local socket the
 * plan does not hold: left alone), or NULL (nothing).
 */
const char *sock_peer_end(const struct sock_rec *rec);

/*
 * What to add to the outcome: why a socket was not killed (an errno name, "still-present"),
 * "stays-bound" for a killed UDP socket (disconnected, still bound), or NULL.
 */
const char *sock_outcome_detail(const struct sock_rec *rec);
/* The i-th label sock_outcome_detail gives other than errno names; NULL past the last. */
const char *sock_outcome_label(size_t i);

#endif
