/* SPDX-License-Identifier: GPL-2.0-or-later */
/* argv -> struct config: options, the selector argument, and the AST they build together. */
#ifndef SOCKREAP_CLI_H
#define SOCKREAP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "groupby.h"
#include "selector.h"

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_DOCTOR };

/* How many --netns/--netns-of one command line may give (--all-netns has no limit). */
#define CLI_NETNS_MAX 64
#define CLI_NAME_VALUE_MAX 255 /* --comm, --unit, --cgroup: the longest selector value */
#define CLI_NETNS_SPEC_MAX 255 /* as any selector value: the flag is the same atom */

struct reap_hook;

struct config {
	enum cli_action action;
	struct sel_node *ast;	/* flags AND-ed with the expression; NULL when empty */
	bool dry_run, json, yes, all, include_self, no_audit, explain, no_peer_reset;
	bool no_owners;
	bool close_fd;		/* --close-fd: close killed sockets' fds in their owners */
	const char *engine;	/* "destroy", "rst" or "auto" */
	long max;		/* -1: no limit */
	const char *audit_path;
	bool audit_path_given;	/* --audit-log, as opposed to the default */
	const char *netns;	/* --netns NAME|PATH or --netns-of PID: run inside it; NULL: here */
	bool netns_by_pid;	/* netns is --netns-of's PID */
	/*
	 * Every --netns/--netns-of in order (the first is netns above). More than one, or
	 * --all-netns: one run visits each namespace (cli_many_netns) and netns is NULL.
	 */
	struct cli_netns {
		const char *spec;
		bool by_pid;
	} netns_v[CLI_NETNS_MAX];
	size_t nnetns;
	bool all_netns;		/* --all-netns: every namespace on the host, ours included */
	const char *save_plan;	/* --save-plan FILE (with --dry-run) */
	const char *apply;	/* --apply FILE: the plan is the selection (ast is NULL) */
	int64_t max_age;	/* --apply: refuse a plan older than this many seconds */
	bool max_age_given;
	bool engine_given;	/* --engine: else --apply uses the plan's */
	struct groupby_spec group_by;	/* --group-by: counts instead of rows (n 0: none) */
	bool forwarded;		/* --forwarded: conntrack entries, not sockets (forward.h) */
	int argc;
	char **argv;
	struct reap_hook *hook;	/* watch mode (reap.h); NULL: a one-shot run */
};

#define CLI_DEFAULT_AUDIT_LOG "/var/log/sockreap/audit.log"

/*
 * Parses argv (getenv supplies SOCKREAP_AUDIT_LOG; pass NULL for none). On a usage or
 * selector error prints to errf and returns 2 (EXIT_USAGE), for a network namespace the
 * selector names that we may not open 4 (EXIT_PRIV), out of memory 6 (EXIT_ERROR); 0
 * otherwise.
 */
int cli_parse(struct config *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *),
	      FILE *errf);
void cli_free(struct config *cfg);

/*
 * Namespaces visited from where we are (several --netns/--netns-of, --all-netns, or a
 * watcher's one: netns_v[0] with netns NULL), not one entered for the whole process.
 */
bool cli_many_netns(const struct config *cfg);

/*
 * The setcap install is a privilege boundary: a binary that runs with raised file capabilities
 * (secure: AT_SECURE) for a caller who is not root (ruid) does not let that caller choose where
 * the audit goes or turn it off (--audit-log, --no-audit, SOCKREAP_AUDIT_LOG: env_audit_log
 * says whether the variable is set). Returns 0, or prints why and returns 4 (EXIT_PRIV).
 */
int cli_check_caller(const struct config *cfg, bool secure, unsigned ruid, bool env_audit_log,
		     FILE *errf);
void cli_usage(FILE *f);

/* --netns NAME|PATH (or --netns-of PID) as the selector holds it: 0, or -EINVAL said on errf. */
int cli_check_netns_arg(bool by_pid, const char *arg, FILE *errf);

/* Prints "sockreap: <what>: msg", the source line and a caret under err's span. */
void cli_print_error(FILE *f, const char *what, const char *src, int src_offset,
		     const struct sel_error *err);

#endif
