/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kill engines behind one small interface: act on a plan, set every record's outcome. */
#ifndef SOCKREAP_ENGINE_H
#define SOCKREAP_ENGINE_H

#include "diag.h"
#include "rawio.h"
#include "sock.h"

#include <pthread.h>

struct sel_owner_ctx;

/*
 * The audit pipeline's gate (reap.c): the plan's records [0, open) have their intents on disk
 * and may be acted on; the rest wait for it to open further. Closed when it never will (the
 * intents could not be written): the records past open are then never acted on.
 */
struct engine_gate {
	pthread_mutex_t lock;
	pthread_cond_t moved;
	size_t open;
	bool closed;
};

/* What an engine works with; the pipeline opens it all before capabilities are dropped. */
struct engine_ctx {
	struct diag *d;
	const struct diag_filter *scope;	/* the selector's bytecode, for verification */
	struct rawio *raw;		/* the rst engine's sockets; NULL until opened */
	bool raw_allowed;		/* CAP_NET_RAW held: the rst engine may open them */
	int raw_err;			/* why raw is NULL and may not be opened (0: -EPERM) */
	const int *keep_caps;		/* what to keep once they are open */
	size_t nkeep_caps;
	bool peer_reset;		/* rst: reset the peer end too, if another host's */
	int rfc1337;			/* rst: net.ipv4.tcp_rfc1337 here; -1 unknown */
	int probe_wait_ms;		/* rst: how long a probe may stay unanswered */
	int workers;			/* destroy: threads a big plan may use (0, 1: this one;
					   workers_available()) */
	const struct sel_owner_ctx *owners;	/* shutdown: every known owner of a record, tried
						   in turn; NULL: rec->pid at rec->fd alone */
	struct engine_gate *gate;	/* destroy (and auto's destroy): act on a record only
					   once the gate is open past it; NULL: all at once */
};

struct engine {
	const char *name;
	/*
	 * Acts on every record of set, exactly as planned (by cookie), sets each outcome and
	 * the engine that acted. Returns 0, or a negative errno when the engine could not run
	 * or verify at all.
	 */
	int (*kill)(struct engine_ctx *ctx, struct sock_set *set);
};

extern const struct engine engine_destroy;
extern const struct engine engine_rst;
extern const struct engine engine_auto;
extern const struct engine engine_shutdown;

/* What the shutdown engine could not do and why, one line per kind, on f. */
void engine_shutdown_explain(FILE *f, const struct sock_set *set);

void engine_gate_init(struct engine_gate *g, size_t open);
void engine_gate_destroy(struct engine_gate *g);
/* Opens [0, open) (never narrows it); engine_gate_close: nothing more will open. */
void engine_gate_open(struct engine_gate *g, size_t open);
void engine_gate_close(struct engine_gate *g);
/*
 * Waits until [0, upto) is open or the gate is closed; returns how much of it is open then
 * (upto, or less once closed).
 */
size_t engine_gate_wait(struct engine_gate *g, size_t upto);

/*
 * OUT_SKIPPED, err SOCK_ERR_NO_INTENT: what an engine that met a closed gate does with the
 * records it may not act on.
 */
void engine_skip_unannounced(struct sock_rec *rec);

/* "destroy", "rst", "auto", "shutdown"; NULL if unknown. */
const struct engine *engine_find(const char *name);

/*
 * Re-checks every record said killed, gone or changed (whatever the engine answered) in one
 * dump per family and protocol: one still listed is failed ("still-present"; after ENOENT,
 * "reuseport-sibling"). When a dump fails, what it was to verify and did not list is failed
 * ("unverified"), never killed, and the first error is returned. scope's bytecode (ports,
 * addresses: what a TCP socket never changes) narrows the TCP re-dump; states do not, since a
 * survivor may have moved on. UDP is re-dumped whole: a destroy disconnects it.
 */
int engine_verify(struct diag *d, struct sock_set *set, const struct diag_filter *scope);

/* Same family, addresses and ports (the cookie aside). */
bool engine_same_tuple(const struct sock_rec *a, const struct sock_rec *b);

/* A socket that is no longer there by cookie: OUT_CHANGED if its 4-tuple was reused, else OUT_GONE. */
void engine_classify_missing(struct diag *d, struct sock_rec *rec);

/*
 * Opens ctx->raw if it is not open yet (CAP_NET_RAW), then keeps only ctx->keep_caps.
 * 0, ctx->raw_err (else -EPERM) when not allowed, or the error opening it (already reported
 * on stderr).
 */
int engine_open_raw(struct engine_ctx *ctx);

/*
 * One run acts at a time in a network namespace: a second run's rst resets would meet sockets
 * the first had just killed, and both would claim them. The lock is an abstract unix socket
 * (abstract names belong to the network namespace, as the sockets do), held by listening on
 * it; a waiter learns the holder's pid from SO_PEERCRED and says so. Any local user can bind
 * the name, so only a holder owned by root or our real uid is waited for: its owner comes
 * from sock_diag through d (NULL, or a kernel that does not say: SO_PEERCRED; neither: it is
 * waited for), and one of another uid is named in a warning and ignored. Returns the
 * descriptor to close when the engine is done, or -1 when it could not be had within wait_ms
 * or was ignored (said on stderr: the run goes on, and its outcomes may overlap the other's).
 */
int engine_exclusive(struct diag *d, const char *name, int wait_ms);

/*
 * The same lock in several namespaces at once. fds[i] is an unbound AF_UNIX stream socket
 * made inside namespace where[i] (engine_lock_socket, called there: the abstract name it binds
 * is that namespace's wherever this process is later); the caller orders them by namespace
 * inode, so that two runs locking overlapping sets wait for each other instead of each holding
 * what the other waits for. ds[i] (or NULL) is a sock_diag handle in namespace where[i], to
 * learn the owner of a lock held there (as engine_exclusive: another user's is ignored).
 * Every lock is waited for within wait_ms in all, with a line naming the namespace; past it,
 * the rest are tried once and the run acts anyway (said on stderr).
 * Each fds[i] held listens until the caller closes it. 0 when every one is held, else -1.
 */
int engine_exclusive_all(struct diag *const *ds, const int *fds, const char *const *where,
			 size_t n, const char *name, int wait_ms);

/* An unbound socket for engine_exclusive_all, in the calling thread's namespace, or -errno. */
int engine_lock_socket(void);

/* Reads an integer from a /proc/sys file. 0 or a negative errno. */
int engine_sysctl(const char *path, int *val);

/*
 * destroy: ctx->workers threads (workers.h) only for a plan of at least this many sockets;
 * smaller ones take a few milliseconds in one thread.
 */
#define ENGINE_PARALLEL_MIN (16 * DIAG_BATCH)

/* The abstract socket name engine_exclusive holds, and how long a run waits for it. */
#define ENGINE_LOCK_NAME "sockreap/act"
#define ENGINE_LOCK_WAIT_MS 60000

/* The rst engine's probe wait (DESIGN.md: re-probe the silent after ~600 ms). */
#define ENGINE_PROBE_WAIT_MS 600

#endif
