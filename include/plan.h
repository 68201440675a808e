/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The victims: the guards that keep sockets out of a plan, and outcomes -> exit status. */
#ifndef SOCKREAP_PLAN_H
#define SOCKREAP_PLAN_H

#include "selfguard.h"
#include "sock.h"

enum exit_status {
	EXIT_DONE = 0,		/* every selected socket handled */
	EXIT_NOMATCH = 1,
	EXIT_USAGE = 2,
	EXIT_PARTIAL = 3,	/* some sockets not killed */
	EXIT_PRIV = 4,		/* missing privilege or kernel support */
	EXIT_GUARD = 5,		/* refused by a guard */
	EXIT_ERROR = 6,		/* an error before anything was attempted: nothing killed */
};

/* Where the caller's own connection is learned. */
struct plan_self_src {
	const char *ssh_connection;	/* the value of SSH_CONNECTION, or NULL */
	const char *proc_root;		/* NULL: /proc */
	int32_t pid;			/* whose ancestors and session: getpid(); 0: none */
	selfguard_peek_fn *peek;	/* NULL: pidfd_getfd (tests give a fake) */
	void *peek_arg;
};

#define PLAN_SSH_PORT 22

struct plan_guards {
	bool allow_listen;
	bool have_self;		/* the caller's SSH connection, from SSH_CONNECTION */
	struct selfguard_tuple self;	/* its server end's view */
	struct selfguard held;	/* sockets held by the caller's ancestors and login session */
	/*
	 * 4-tuples kept whoever holds them: SSH_CONNECTION's, both ways, and the other end of
	 * each socket in held (its reversed tuple), which may be on this host too. A map from a
	 * hash of the tuple to the first of a chain in keep (keep_next: the next index + 1).
	 */
	struct selfguard_tuple *keep;
	uint32_t *keep_next;
	size_t nkeep;
	struct hashmap keep_map;
	/*
	 * Cannot tell which connection is the caller's (SSH_CONNECTION unparsable, a process
	 * unreadable, a socket's addresses unknown): every TCP connection with port 22, or
	 * SSH_CONNECTION's port, at either end is kept.
	 */
	bool unsure;
	uint16_t unsure_port;	/* SSH_CONNECTION's server port when it had one, else 22 */
	char unsure_why[256];	/* "cannot read /proc/812/fd (sshd): Permission denied" */
};

enum plan_admit { ADMIT = 0, SKIP_LISTEN, SKIP_SELF, SKIP_SELF_UNSURE };

/*
 * src NULL, or include_self: no guard on the caller's own connection. What cannot be read or
 * parsed makes the guard unsure (see above), never lets it go. Returns 0 or -ENOMEM;
 * plan_guards_free(g) either way.
 */
int plan_guards_init(struct plan_guards *g, bool allow_listen, bool include_self,
		     const struct plan_self_src *src);
void plan_guards_free(struct plan_guards *g);
/* Cheap: two hash lookups per socket, no /proc reads. */
enum plan_admit plan_admit(const struct plan_guards *g, const struct sock_rec *rec);

struct plan_counts {
	size_t n[OUT_MAX];
	size_t total;
	size_t engine_cannot;	/* unsupported because of the engine, not the kernel or privilege */
	bool close_fd;		/* --close-fd was given (the summaries say null otherwise) */
	size_t fds_closed;	/* --close-fd: owners' descriptors closed */
};

void plan_count(const struct sock_set *set, struct plan_counts *c);
/*
 * The exit status of a run that stopped on err before anything was attempted: 4 for privilege
 * or kernel support (no sock_diag), 6 for anything else (out of memory, a failed dump).
 */
enum exit_status plan_exit_for_error(int err);
/* The exit status of a kill run over these outcomes. */
enum exit_status plan_exit_status(const struct plan_counts *c);

#endif
