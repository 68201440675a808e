/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockreap watch: rules applied every interval, with ages by cookie, a breaker and metrics. */
#ifndef SOCKREAP_WATCH_H
#define SOCKREAP_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hashmap.h"
#include "selector.h"
#include "sock.h"
#include "statetrack.h"

#define WATCH_NAME_MAX 63
#define WATCH_NS_LABEL_MAX 288	/* a NAME_MAX name, escaped for a message; "ino:N" */
#define WATCH_DEFAULT_CONFIG "/etc/sockreap/watch.conf"
#define WATCH_DEFAULT_EVERY_MS 10000

/* Per rule, summed over cycles (the metrics file's counters). */
struct watch_stats {
	uint64_t matched;	/* sockets that matched the selector, per cycle */
	uint64_t killed, failed;
	uint64_t refused;	/* sockets the breaker kept alive */
	uint64_t oldest_ms;	/* age of the oldest matching socket at the last cycle */
};

/*
 * A rule in one network namespace its last cycle visited: ages are kept by (namespace,
 * cookie), and the metrics of a rule that watches namespaces are per namespace.
 */
struct watch_ns {
	uint64_t inode;		/* 0: where the watcher runs, no namespace named */
	char label[WATCH_NS_LABEL_MAX];	/* its name under /run/netns, else "ino:N" */
	bool named;		/* label is its name (not "ino:N") */
	int32_t pid;		/* one process in it, as the run found it; -1: none */
	struct hashmap ages;	/* cookie -> first seen matching, in 100 ms ticks since start */
	struct watch_stats stats;
	size_t killed, gone, not_killed;	/* the last cycle's outcomes (its syslog line) */
	size_t refused;		/* the last cycle's kept by the breaker (its audit record) */
};

/* NAME: SELECTOR, older-than DURATION[, max N] */
struct watch_rule {
	char name[WATCH_NAME_MAX + 1];
	struct sel_node *ast;
	char selector[4096];	/* canonical form: a reload keeps ages when it is unchanged */
	uint64_t older_ms;
	long max;		/* -1: the global --max-per-cycle (or none) */
	bool namespaced;	/* netns words, --netns or --all-netns: metrics per namespace */
	struct watch_ns *ns;	/* the namespaces of the last cycle, with their ages */
	size_t nns;
	char ns_note[256];	/* why a namespace it names is not watched now (said once) */
	size_t last_matched;	/* matched at the last cycle */
	struct watch_stats stats;	/* the rule's own, over every namespace */
};

struct watch_rules {
	struct watch_rule *v;
	size_t n;
	/*
	 * The watcher visits other namespaces (--netns, --netns-of, --all-netns): a rule's dev
	 * IFNAME is looked up there, cycle by cycle, not here when the rule is read.
	 */
	bool dev_elsewhere;
};

/*
 * Parses one rule. On a syntax or selector error returns -EINVAL with err's span counted in
 * line's bytes (for cli_print_error with offset 0); -ENOMEM out of memory; 0 and *r filled.
 */
int watch_rule_parse(const char *line, struct watch_rule *r, struct sel_error *err);
void watch_rule_free(struct watch_rule *r);
void watch_rules_free(struct watch_rules *rules);

/*
 * Reads a config file: one rule per line, '#' comments, blank lines. On an error prints
 * "sockreap: FILE:LINE: ..." with the line and a caret to errf and returns 2 (EXIT_USAGE);
 * a file that cannot be read is 2 as well, out of memory 6; 0 with *rules filled. A rule's
 * dev IFNAME must exist here (a watcher that visits other namespaces reads its file with
 * dev_elsewhere set instead).
 */
int watch_config_load(const char *path, struct watch_rules *rules, FILE *errf);

/*
 * The age filter, at now_ms since the watcher started: every (namespace, cookie) in
 * set->v[0, *nplan) keeps its first-seen time (or gets now); those that no longer match are
 * forgotten, and so is every namespace this cycle did not visit. A record's namespace is
 * visit->v[its netns index] (visit NULL: one, where the watcher runs). Keeps in the set only
 * the records that have matched for at least older_ms (the skipped ones behind the plan are
 * dropped: they are never acted on). Returns 0, or -ENOMEM (nothing planned).
 */
struct netns_list;
int watch_age_filter(struct watch_rule *r, struct sock_set *set, size_t *nplan, uint64_t now_ms,
		     const struct netns_list *visit);
/* The namespace entry of inode in r (NULL: none); count the records' outcomes in them. */
struct watch_ns *watch_rule_ns(struct watch_rule *r, uint64_t inode);
void watch_count_outcomes(struct watch_rule *r, const struct sock_set *set,
			  const struct netns_list *visit);

/* The limit rule r has: its own max, else the global one; -1: none. */
long watch_limit(const struct watch_rule *r, long global);

/* Totals over the watcher's life, for the metrics file. */
struct watch_totals {
	uint64_t cycles;
	double last_cycle_ms;
	bool tracking;			/* a state tracker serves some rule */
	struct statetrack_stats track;	/* its counts, when tracking */
};

/* Prometheus text exposition format. */
void watch_metrics_format(FILE *f, const struct watch_rules *rules, const struct watch_totals *t);
/* Writes it to path atomically (a temporary file in its directory, then rename): 0 or -errno. */
int watch_metrics_write(const char *path, const struct watch_rules *rules,
			const struct watch_totals *t);

/* `sockreap watch ...` (argv[1] is "watch"): returns the exit status. */
int watch_main(int argc, char **argv, const char *(*getenv_fn)(const char *));

#endif
