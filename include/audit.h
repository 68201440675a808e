/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit trail: JSON lines in an append-only file, and syslog lines before and after. */
#ifndef SOCKREAP_AUDIT_H
#define SOCKREAP_AUDIT_H

#include <signal.h>
#include <time.h>

#include "audit_who.h"
#include "json.h"
#include "output.h"
#include "plan.h"
#include "sock.h"

/* A record is closed (and written) once it holds this many bytes: one write(2) each. */
#define AUDIT_RECORD_BYTES (60 * 1024)
/* Written since the last writeback was started: start one every this many bytes. */
#define AUDIT_WRITEBACK_BYTES (4 * 1024 * 1024)

enum audit_event { AUDIT_EV_NONE = 0, AUDIT_EV_INTENT, AUDIT_EV_RESULT };

/* What a result record says of all the cookies it lists (NULL, false: left out). */
struct audit_outcome {
	const char *outcome, *error, *engine;
	bool peer_reset;
	const char *peer_end;
};

/* The plan file an --apply run carries out (planfile.h): its digest and its author. */
struct audit_plan {
	const char *sha256;		/* 64 hex digits of the file's bytes */
	const struct audit_who *author;	/* as the plan claims: anyone may write any "who" */
	long long file_uid;		/* the file's owner, as the kernel says; -1: unknown */
};

struct audit {
	int fd;			/* -1: no file (--no-audit) */
	struct json_buf buf;	/* one record, formatted whole before its write */
	struct json j;		/* the record being built */
	enum audit_event open;	/* which record of sockets is being built, if any */
	struct audit_outcome open_outcome;	/* of the open result record */
	size_t open_n;		/* sockets in it */
	bool locked, checked_end, wrote;
	size_t unsynced;	/* bytes written since writeback was last started */
	int err;		/* first failure to write (negative errno), 0 if none */
	size_t results_missing;	/* result records' sockets that did not reach the file */
	bool summary_missing;
	char run_id[33];
	char host[256];
	struct timespec (*now)(void);	/* clock seam for tests */
	const char *syslog_path;	/* what audit_syslog_reachable tries (tests: elsewhere) */
	const struct audit_plan *plan;	/* NULL unless --apply: then in every record */
	const char *rule;	/* watch mode: the rule's name, in every record; NULL: none */
};

struct audit_run {
	int argc;
	char **argv;
	const char *selector;
	const char *engine;
	size_t planned;
	const struct audit_who *who;
	const struct netns_info *netns;	/* the namespace acted in (--netns); NULL: here */
};

/* Sets run id, host and clock; no file. */
void audit_init(struct audit *a);
/*
 * audit_init, then opens path for appending (see safepath_open_append: absolute, no symbolic
 * links, a regular file that only root or uid can write; created 0600, its directory 0700).
 * Returns 0, or a negative errno with why saying which component is refused and why.
 */
int audit_open(struct audit *a, const char *path, uid_t uid, char *why, size_t whylen);
/* After audit_init: records go to fd (tests). */
void audit_open_fd(struct audit *a, int fd);
void audit_close(struct audit *a);

void audit_who_fill(struct audit_who *w);
/* w as the "who" object of a record (and a plan file's author: the same fields). */
void audit_who_json(struct json *j, const char *key, const struct audit_who *w);

/*
 * Records. Each is one JSON line written with one write(2) under flock(LOCK_EX), held from the
 * first record of a batch to its audit_commit. Intents and results are grouped: an intent
 * record carries whole "sockets", a result record the "cookies" of consecutive sockets with
 * the same outcome, each up to about AUDIT_RECORD_BYTES. A failed write is counted, never split.
 */
void audit_start(struct audit *a, const struct audit_run *run);
void audit_intent(struct audit *a, const struct sock_rec *rec,
		  const struct sel_owner_ctx *owners);
/* The same, with the namespace the socket lives in (several namespaces; NULL: none said). */
void audit_intent_ns(struct audit *a, const struct sock_rec *rec,
		     const struct sel_owner_ctx *owners, const struct netns_info *ns);
void audit_result(struct audit *a, const struct sock_rec *rec);
/* audit_result, in a record of its own with each owner's fd_closed once --close-fd ran. */
void audit_result_fds(struct audit *a, const struct sock_rec *rec,
		      const struct sel_owner_ctx *owners);
/*
 * Its exit_status is the one the run exits with as far as known when it is written: 128 +
 * signo for a held signal pending, 3 when results of this batch were lost, else the outcomes'.
 */
void audit_summary(struct audit *a, const struct plan_counts *c, double elapsed_ms);
/*
 * Writes what is pending, fsyncs, releases the lock. Returns 0 or the first error of the batch
 * (negative errno): no intent record, no kill; results_missing says what a result batch lost.
 */
int audit_commit(struct audit *a);
/*
 * What is pending written and fsynced, the lock kept: the intents written so far are on disk
 * and the batch goes on. Returns 0 or the batch's first error (kept for audit_commit).
 */
int audit_sync(struct audit *a);
/*
 * Watch mode's circuit breaker: a "refused" record saying that planned sockets matched, more
 * than limit, and none was killed. Written with audit_commit like the others.
 */
void audit_refused(struct audit *a, const struct audit_run *run, size_t limit);
/*
 * The namespaces a refused record names: at fills ns and *matched (how many of the refused
 * sockets were in it) for the i-th, and returns false past the last. One with 0 is left out.
 */
struct audit_ns_iter {
	bool (*at)(void *arg, size_t i, struct netns_info *ns, size_t *matched);
	void *arg;
};
/* audit_refused, with "netns": each namespace as the intents name it, and its "matched". */
void audit_refused_ns(struct audit *a, const struct audit_run *run, size_t limit,
		      const struct audit_ns_iter *it);

/* RFC 3339 UTC with milliseconds: 2026-11-21T05:06:57.123Z */
void audit_format_time(char *buf, size_t size, struct timespec ts);

/*
 * Syslog (LOG_AUTHPRIV): audit_syslog_intent before acting, audit_syslog at the end, and
 * audit_syslog_missing when results could not reach the audit file.
 */
void audit_syslog_intent(const struct audit *a, const struct audit_run *run, const char *path);
void audit_syslog(const struct audit *a, const struct audit_run *run, const struct plan_counts *c,
		  bool audit_disabled);
void audit_syslog_missing(const struct audit *a, const char *path, size_t total, int err);
/* Watch mode: one line for a cycle that acted or refused ("cycle 12: java-cw 3 killed, ..."). */
void audit_syslog_cycle(unsigned long long cycle, const char *what);
/* Whether a syslog daemon listens at a->syslog_path (/dev/log): else syslog lines are lost. */
bool audit_syslog_reachable(const struct audit *a);

/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are held from the first intent to the last result, so
 * that a signal cannot cut the record short; release says which one arrived meanwhile (it is
 * consumed: the caller exits 128 + signo once everything is written), or 0.
 */
struct audit_signals {
	sigset_t old;
	bool held;
};
int audit_signals_hold(struct audit_signals *s);
int audit_signals_release(struct audit_signals *s);
/* "SIGTERM" etc. */
const char *audit_signal_name(int sig);

#endif
