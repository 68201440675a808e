/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --group-by: counts of the selected sockets per key (state, owner, peer...) instead of rows. */
#ifndef SOCKREAP_GROUPBY_H
#define SOCKREAP_GROUPBY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hashmap.h"
#include "netns.h"
#include "selector.h"
#include "sock.h"

enum groupby_key {
	GB_STATE,
	GB_PID,
	GB_COMM,
	GB_LOCAL,	/* addr:port */
	GB_PEER,	/* address only */
	GB_DPORT,
	GB_SPORT,
	GB_UID,
	GB_UNIT,
	GB_NETNS,
	GB_NKEYS
};

#define GROUPBY_MAX_KEYS GB_NKEYS

struct groupby_spec {
	uint8_t k[GROUPBY_MAX_KEYS];	/* enum groupby_key, in the order given */
	size_t n;			/* 0: no --group-by */
};

/*
 * "comm,state" -> spec. 0, or -EINVAL with the reason (the bad key quoted, the valid keys
 * listed) in msg.
 */
int groupby_parse(const char *arg, struct groupby_spec *spec, char *msg, size_t size);
const char *groupby_key_name(unsigned key);
/* "state, pid, comm, ..." for messages and --help. */
const char *groupby_key_list(void);
/*
 * pid or comm: the owner lookup must run. unit does not: it comes from the cgroup id the
 * kernel dumps with each socket (the creator's cgroup).
 */
bool groupby_needs_owners(const struct groupby_spec *spec);

/* What the keys are read from besides the records. */
struct groupby_env {
	const struct sel_owner_ctx *owners;	/* NULL: owners not looked up ("?") */
	const struct netns_list *visited;	/* several namespaces: records index it; or NULL */
	const struct netns_info *here;		/* one namespace: the one the run looked in */
	/* The systemd unit of a cgroup id: a name, "" for none, NULL when unknown. */
	const char *(*unit)(void *arg, uint64_t cgroup_id);
	void *unit_arg;
};

/* One group: its key values (raw text, NUL after each), how many, the oldest idle time. */
struct groupby_group {
	size_t off;		/* into the result's key bytes */
	uint32_t len;
	size_t count;
	uint32_t max_idle_ms;	/* SOCK_IDLE_UNKNOWN when no socket in it has an idle time */
};

struct groupby_result {
	struct groupby_spec spec;
	struct groupby_group *v;	/* sorted: count descending, then key text */
	size_t n, cap;
	char *keys;			/* each key: a tag ('=' value, '-' none, '?' unknown), text, NUL */
	size_t keys_len, keys_cap;
	size_t total;
	uint32_t max_idle_ms;
};

/* Groups set->v[0..n) by spec. 0 or -ENOMEM (res is then empty, still to be freed). */
int groupby_run(struct groupby_result *res, const struct groupby_spec *spec,
		const struct sock_set *set, const struct groupby_env *env);
void groupby_free(struct groupby_result *res);

/*
 * The i-th key of group g as the table shows it ("-" none, "?" unknown) in buf, escaped for a
 * terminal when escape; returns buf. JSON gets the raw text: null for unknown.
 */
const char *groupby_value(const struct groupby_result *res, const struct groupby_group *g,
			  size_t i, char *buf, size_t size, bool escape);

/* The counts as a table of at most rows lines and cols columns (0: no limit). */
void groupby_table(FILE *f, const struct groupby_result *res, int rows, int cols);

/* cgroup id -> systemd unit, read from the cgroup2 tree once (only for the unit key). */
struct groupby_units {
	struct hashmap *map;	/* id -> offset into names */
	char *names;		/* NUL-terminated names */
	size_t len, cap;
};

/* Reads the tree under root (NULL: the cgroup2 mount). 0 or a negative errno (map empty). */
int groupby_units_load(struct groupby_units *u, const char *root);
/* groupby_env.unit over a loaded map: NULL (unknown) for an id not in the tree. */
const char *groupby_unit_of(void *arg, uint64_t cgroup_id);
void groupby_units_free(struct groupby_units *u);

struct json;
/* "group_by": [keys], "groups": [{key: value..., count, oldest_idle_ms}] into an open object. */
void groupby_json(struct json *j, const struct groupby_result *res);

#endif
