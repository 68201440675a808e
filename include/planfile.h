/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plan files: a preview saved as JSON (--save-plan) and read back to carry it out (--apply). */
#ifndef SOCKREAP_PLANFILE_H
#define SOCKREAP_PLANFILE_H

#include <stdint.h>
#include <time.h>

#include "audit_who.h"
#include "netns.h"
#include "sha256.h"
#include "sock.h"

struct diag;
struct sel_owner_ctx;

#define PLANFILE_SCHEMA "sockreap-plan/1"
/* --max-age's default: 15 minutes from preview to kill. */
#define PLANFILE_MAX_AGE_DEFAULT 900
/* A plan dated later than now by more than this is refused (the same host's clock). */
#define PLANFILE_FUTURE_SLACK 60
/* The largest plan file read (100,000 sockets take ~45 MB). */
#define PLANFILE_MAX_BYTES (512u << 20)

/* Which machine and which boot: a plan is carried out on the one it was made on. */
struct planfile_host {
	char hostname[256];
	char machine_id[64];	/* /etc/machine-id; "" when unreadable */
	char boot_id[64];	/* /proc/sys/kernel/random/boot_id; "" when unreadable */
};

/* Fills h for this machine now (what cannot be read stays ""). */
void planfile_host_fill(struct planfile_host *h);

/* What a saved plan says besides its sockets. */
struct planfile_meta {
	const struct planfile_host *host;
	struct timespec time;
	const struct audit_who *who;
	const char *selector;	/* canonical */
	const char *engine;
	const struct netns_info *ns;	/* one namespace: where the sockets live */
	const struct netns_list *visit;	/* several: rec->netns indexes it (ns is NULL) */
};

/*
 * Writes the plan (set->v[0, n)) to path atomically: a temporary file in the same directory
 * (O_EXCL, mode 0600), fsync, rename over path, fsync of the directory. A symbolic link at
 * path is refused (-ELOOP), never followed or replaced. Returns 0, or a negative errno with
 * why saying what failed on which file.
 */
int planfile_save(const char *path, const struct planfile_meta *m, const struct sock_set *set,
		  size_t n, const struct sel_owner_ctx *owners, char *why, size_t whylen);

/* A plan read back. */
struct planfile {
	char sha256[SHA256_HEX_LEN];	/* of the file's bytes, as read */
	struct planfile_host host;
	int64_t unix_time;
	char *selector, *engine;
	struct audit_who author;	/* sudo_user and tty point into owned copies */
	char *author_sudo_user, *author_tty;
	long long file_uid;		/* planfile_load: the file's owner; -1 when parsed */
	uint64_t *netns;		/* the namespaces' inodes; rec->netns indexes it */
	size_t nnetns;
	struct sock_set socks;		/* identity only: tuple, cookie, family, protocol, state */
};

/*
 * Reads and parses path (planfile_parse). Returns 0, -EBADMSG for malformed JSON (why: the
 * byte, counted from 1, line and column), -EINVAL for a document that is not a plan or whose
 * entries contradict each other (why: which and how), -EPERM for a file writable by group or
 * others (why says so), or the errno of reading it.
 */
int planfile_load(const char *path, struct planfile *p, char *why, size_t whylen);
int planfile_parse(const char *buf, size_t len, struct planfile *p, char *why, size_t whylen);
void planfile_free(struct planfile *p);

struct sel_node;

/*
 * Whether every socket the plan lists matches the plan's own selector (ast, parsed from
 * p->selector) by what the plan records of it: state, protocol, family, addresses, ports,
 * cookie. What it does not record (owners, idle, uid, ...) is taken as matching; a NULL ast
 * (an --all plan) matches everything. An entry the selector excludes was not put there by
 * --save-plan: 0, or -EINVAL with why naming it.
 */
int planfile_check_selector(const struct planfile *p, const struct sel_node *ast, char *why,
			    size_t whylen);

/*
 * Whether the plan may be carried out here and now: the same host (hostname and machine id),
 * the same boot, made at most max_age seconds before now (and not in the future). 0, or
 * -EPERM with why saying what differs.
 */
int planfile_check(const struct planfile *p, const struct planfile_host *here, int64_t now,
		   int64_t max_age, char *why, size_t whylen);

/*
 * Looks the plan's sockets up again through d (ns_gone: their namespace is gone, and they
 * with it). Each one still there, the very socket (cookie and 4-tuple), goes to keep as the
 * kernel gives it; the others are pushed to missing (their netns index kept) with outcome
 * OUT_GONE, or OUT_CHANGED when their 4-tuple now belongs to another socket (never acted on). Returns 0, the first
 * negative keep returned, or a negative errno.
 */
int planfile_lookup(struct diag *d, const struct sock_set *plan, bool ns_gone,
		    int (*keep)(const struct sock_rec *rec, void *arg), void *arg,
		    struct sock_set *missing);

/* "15m", "900s", "900", "2h", "1d", "0s" -> seconds. 0 or -EINVAL. */
int planfile_parse_age(const char *s, int64_t *secs);

#endif
