/* The audit trail: JSON lines in an append-only file, and one syslog line per run. */
#ifndef SOCKREAP_AUDIT_H
#define SOCKREAP_AUDIT_H

#include <time.h>

#include "output.h"
#include "plan.h"
#include "sock.h"

struct audit {
	FILE *f;		/* NULL: no file (--no-audit) */
	char run_id[33];
	char host[256];
	struct timespec (*now)(void);	/* clock seam for tests */
};

/* Who ran us, as the audit record states it. */
struct audit_who {
	unsigned uid, euid;
	long long loginuid, sessionid;	/* -1: unset */
	const char *sudo_user;		/* as claimed by the environment */
	const char *tty;
};

struct audit_run {
	int argc;
	char **argv;
	const char *selector;
	const char *engine;
	size_t planned;
	const struct audit_who *who;
};

/*
 * Opens (creating with mode 0600, and its directory with 0700) path for appending.
 * Returns 0 or a negative errno; a->f stays NULL on failure.
 */
int audit_open(struct audit *a, const char *path);
/* Sets run id, host and clock; no file. */
void audit_init(struct audit *a);
void audit_close(struct audit *a);

void audit_who_fill(struct audit_who *w);

void audit_start(struct audit *a, const struct audit_run *run);
void audit_socket(struct audit *a, const char *event, const struct sock_rec *rec,
		  const struct sel_owner_ctx *owners);
void audit_summary(struct audit *a, const struct plan_counts *c, double elapsed_ms);
/* Flushes and fsyncs. Returns 0 or a negative errno: no record, no kill. */
int audit_commit(struct audit *a);

/* RFC 3339 UTC with milliseconds: 2026-11-21T05:06:57.123Z */
void audit_format_time(char *buf, size_t size, struct timespec ts);

/* One line on LOG_AUTHPRIV: who, what, how many. */
void audit_syslog(const struct audit *a, const struct audit_run *run, const struct plan_counts *c,
		  bool audit_disabled);

#endif
