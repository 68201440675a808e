/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pipeline from a parsed command line to outcomes and an exit status. */
#ifndef SOCKREAP_REAP_H
#define SOCKREAP_REAP_H

#include "cli.h"
#include "plan.h"

#include <stdio.h>

/*
 * Watch mode runs the same stages once per rule and cycle, with this hook in its config:
 * after_collect sees the matching records (before the owner lookup when the selector does not
 * need owners, after it when it does), set->v[0, *nplan) to act on and the skipped behind,
 * and may drop records (the age filter) or return an exit status to stop the run before
 * anything is shown or killed (0: go on). Such a run also keeps the capabilities it started
 * with (the next cycle needs them again), prints no table and no "no sockets match", names the
 * rule in its messages and audit records, and leaves its outcome counts in counts.
 */
struct sock_set;
struct sock_rec;
struct diag;
struct netns_list;
struct reap_hook {
	const char *rule;
	int (*after_collect)(void *arg, struct sock_set *set, size_t *nplan);
	/* After the kill and its verification: the records with their outcomes. NULL: none. */
	void (*after_act)(void *arg, const struct sock_set *set, size_t nplan);
	void *arg;
	struct plan_counts counts;	/* out: the run's outcomes (zero unless it acted) */
	/*
	 * collect (NULL: the dump), for each namespace the run collects (netns its inode; 0: the
	 * one the run is in): hands keep every socket the run's dump of it would select (and
	 * maybe more: keep evaluates the selector), from d (a handle in that namespace), with
	 * tcp_info unless no_info. 0, a negative errno, or a positive value: dump.
	 */
	int (*collect)(void *arg, struct diag *d, uint64_t netns, bool no_info,
		       int (*keep)(const struct sock_rec *rec, void *keep_arg), void *keep_arg);
	/*
	 * Set while a callback runs: the namespaces a record's netns index names (NULL: one,
	 * where the run is). Such a run writes no syslog line of its own: the watcher writes
	 * one per cycle.
	 */
	const struct netns_list *visit;
};

/* Returns the process exit status (enum exit_status). */
int reap_run(const struct config *cfg);

/*
 * --explain: the canonical selector, what runs in the kernel, and with --netns, --netns-of or
 * --all-netns the namespaces a run would visit. Returns the exit status.
 */
int reap_explain(FILE *f, const struct config *cfg);

#endif
