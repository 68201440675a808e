/* The victims: the guards that keep sockets out of a plan, and outcomes -> exit status. */
#ifndef SOCKREAP_PLAN_H
#define SOCKREAP_PLAN_H

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

struct plan_guards {
	bool allow_listen;
	bool have_self;		/* the caller's SSH connection, from SSH_CONNECTION */
	int self_family;
	uint8_t self_local[16], self_peer[16];	/* IPv4 in the first 4 bytes */
	uint16_t self_lport, self_pport;
};

enum plan_admit { ADMIT = 0, SKIP_LISTEN, SKIP_SELF };

/* ssh_connection: the value of SSH_CONNECTION or NULL. Returns 0, -EINVAL when unparsable. */
int plan_guards_init(struct plan_guards *g, bool allow_listen, bool include_self,
		     const char *ssh_connection);
enum plan_admit plan_admit(const struct plan_guards *g, const struct sock_rec *rec);

struct plan_counts {
	size_t n[OUT_MAX];
	size_t total;
	size_t engine_cannot;	/* unsupported because of the engine, not the kernel or privilege */
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
