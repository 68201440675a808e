// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockreap watch: rules (a name, a selector, an age) applied every interval by the one-shot
 * pipeline (reap_run) with a hook after collect that keeps only the sockets whose cookie has
 * matched continuously for the rule's age, and a breaker that refuses a flood. Owns the rule
 * syntax, the config file, the per-rule age maps, the loop with its signals (signalfd), the
 * metrics file and the systemd notifications.
 */
#include "watch.h"
#include "audit.h"
#include "caps.h"
#include "cli.h"
#include "netns.h"
#include "plan.h"
#include "reap.h"
#include "statetrack.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <dlfcn.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

/* Ages are kept in ticks of 100 ms: 32 bits last 13 years. */
#define TICK_MS 100

static void set_err(struct sel_error *err, int pos, int len, const char *msg)
{
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
	err->pos = pos;
	err->len = len > 0 ? len : 1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* [s, e) without the blanks around it. */
static void trim(const char *line, int *s, int *e)
{
	while (*s < *e && is_space(line[*s]))
		(*s)++;
	while (*e > *s && (is_space(line[*e - 1]) || line[*e - 1] == '\n' || line[*e - 1] == '\r'))
		(*e)--;
}

/* ", older-than 5m" or ", max 50" from [s, e): 1 when it is one (set in r), 0 if not, <0 bad. */
static int parse_option(const char *line, int s, int e, struct watch_rule *r,
			struct sel_error *err)
{
	char word[16], value[64];
	int w = s, v;

	while (w < e && !is_space(line[w]))
		w++;
	if (w - s >= (int)sizeof(word))
		return 0;
	memcpy(word, line + s, (size_t)(w - s));
	word[w - s] = '\0';
	if (strcmp(word, "older-than") && strcmp(word, "max"))
		return 0;
	v = w;
	while (v < e && is_space(line[v]))
		v++;
	if (v == e || e - v >= (int)sizeof(value)) {
		set_err(err, v == e ? w : v, v == e ? 1 : e - v,
			!strcmp(word, "max") ? "max needs a count of sockets (max 50)"
					     : "older-than needs a duration (30s, 10m, 2h, 1d)");
		return -EINVAL;
	}
	memcpy(value, line + v, (size_t)(e - v));
	value[e - v] = '\0';
	if (!strcmp(word, "max")) {
		char *end;
		long n;

		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || *end || !isdigit((unsigned char)value[0])) {
			set_err(err, v, e - v, "max: not a count of sockets");
			return -EINVAL;
		}
		r->max = n;
		return 1;
	}
	if (!selector_parse_duration(value, &r->older_ms)) {
		set_err(err, v, e - v, "older-than: not a duration (use 500ms, 30s, 10m, 2h, 1d)");
		return -EINVAL;
	}
	return 1;
}

/* Whether a selector can be watched: something to select, and where the watcher runs. */
static int check_selector(struct sel_node *n, int at, int len, struct sel_error *err)
{
	if (!n || selector_only_netns(n)) {
		set_err(err, at, len, "a rule needs a selector that names sockets (empty, or only "
				      "network namespaces)");
		return -EINVAL;
	}
	/* `netns a or dport 443` would empty a: refused as a one-shot run refuses it. */
	bool neg = false;
	const struct sel_node *b = selector_netns_only_branch(n, &neg);

	if (b) {
		set_err(err, at + b->pos, b->len,
			"this branch names nothing but network namespaces: it would select every "
			"socket there; narrow it");
		return -EINVAL;
	}
	return 0;
}

/* watch_rule_parse(); dev_here: a dev IFNAME the rule names must exist here (see below). */
static int rule_parse(const char *line, struct watch_rule *r, struct sel_error *err, bool dev_here)
{
	int s = 0, e = (int)strlen(line), n = 0, sel_end, ret;
	bool aged = false;
	char *sel;

	memset(r, 0, sizeof(*r));
	r->max = -1;
	trim(line, &s, &e);
	while (s + n < e && (islower((unsigned char)line[s + n]) ||
			     isdigit((unsigned char)line[s + n]) || line[s + n] == '_' ||
			     line[s + n] == '-'))
		n++;
	if (!n || s + n == e || line[s + n] != ':') {
		set_err(err, s + n, 1, "a rule starts with its name and a colon (NAME: SELECTOR, "
				       "older-than DURATION); a name is a-z, 0-9, _ and -");
		return -EINVAL;
	}
	if (n > WATCH_NAME_MAX) {
		set_err(err, s, n, "rule name longer than 63 characters");
		return -EINVAL;
	}
	memcpy(r->name, line + s, (size_t)n);
	r->name[n] = '\0';
	s += n + 1;
	/* Options are the trailing comma-separated clauses; state lists keep their commas. */
	sel_end = e;
	for (;;) {
		int c = sel_end - 1, os, oe;

		while (c >= s && line[c] != ',')
			c--;
		if (c < s)
			break;
		os = c + 1;
		oe = sel_end;
		trim(line, &os, &oe);
		ret = parse_option(line, os, oe, r, err);
		if (ret < 0)
			return ret;
		if (!ret)
			break;
		aged |= line[os] == 'o';
		sel_end = c;
	}
	trim(line, &s, &sel_end);
	if (!aged) {
		set_err(err, e, 1, "a rule needs an age: \", older-than DURATION\" (10m; 0s kills "
				   "at first sight)");
		return -EINVAL;
	}
	if (s == sel_end) {
		set_err(err, s, 1, "a rule needs a selector (state close-wait and dport 5432)");
		return -EINVAL;
	}
	sel = strndup(line + s, (size_t)(sel_end - s));
	if (!sel)
		return -ENOMEM;
	r->ast = selector_parse(sel, err);
	if (!r->ast && !err->msg[0]) {
		free(sel);
		set_err(err, s, sel_end - s, "a rule needs a selector");
		return -EINVAL;
	}
	ret = !r->ast ? -EINVAL : 0;
	if (!ret && selector_uses(r->ast, SEL_CGROUP) && selector_resolve(r->ast, NULL, err) < 0)
		ret = -EINVAL;
	/*
	 * dev IFNAME in a rule that names namespaces, or that a watcher with --netns/--all-netns
	 * runs, is looked up in each, cycle by cycle.
	 */
	if (!ret && dev_here && !selector_uses(r->ast, SEL_NETNS) &&
	    selector_dev_check_here(r->ast, err) < 0)
		ret = -EINVAL;
	free(sel);
	if (ret) {
		err->pos += s;
		watch_rule_free(r);
		return ret;
	}
	if (check_selector(r->ast, s, sel_end - s, err) < 0) {
		watch_rule_free(r);
		return -EINVAL;
	}
	selector_format(r->ast, r->selector, sizeof(r->selector));
	return 0;
}

int watch_rule_parse(const char *line, struct watch_rule *r, struct sel_error *err)
{
	return rule_parse(line, r, err, true);
}

static void ns_free(struct watch_ns *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		hashmap_free(&v[i].ages);
	free(v);
}

void watch_rule_free(struct watch_rule *r)
{
	if (!r)
		return;
	sel_node_free(r->ast);
	r->ast = NULL;
	ns_free(r->ns, r->nns);
	r->ns = NULL;
	r->nns = 0;
}

void watch_rules_free(struct watch_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++)
		watch_rule_free(&rules->v[i]);
	free(rules->v);
	rules->v = NULL;
	rules->n = 0;
}

static int rules_push(struct watch_rules *rules, const struct watch_rule *r)
{
	struct watch_rule *v = realloc(rules->v, (rules->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	rules->v = v;
	v[rules->n++] = *r;
	return 0;
}

static const struct watch_rule *find_rule(const struct watch_rules *rules, const char *name)
{
	for (size_t i = 0; i < rules->n; i++)
		if (!strcmp(rules->v[i].name, name))
			return &rules->v[i];
	return NULL;
}

/* One rule from the command line or line lineno of a file (what names it in messages). */
static int add_rule(struct watch_rules *rules, const char *text, const char *what, FILE *errf)
{
	struct watch_rule r;
	struct sel_error err = { "", 0, 0 };
	int ret = rule_parse(text, &r, &err, !rules->dev_elsewhere);

	if (ret == -ENOMEM) {
		fprintf(errf, "sockreap: out of memory\n");
		return EXIT_ERROR;
	}
	if (!ret && find_rule(rules, r.name)) {
		set_err(&err, (int)strspn(text, " \t"), (int)strlen(r.name), "");
		snprintf(err.msg, sizeof(err.msg), "a rule named \"%s\" is already given", r.name);
		watch_rule_free(&r);
		ret = -EINVAL;
	}
	if (ret) {
		cli_print_error(errf, what, text, 0, &err);
		return EXIT_USAGE;
	}
	if (rules_push(rules, &r) < 0) {
		watch_rule_free(&r);
		fprintf(errf, "sockreap: out of memory\n");
		return EXIT_ERROR;
	}
	return 0;
}

/*
 * The rules decide what root kills, so the file is trusted as the audit file is (ssh's
 * StrictModes): a regular file owned by root or the caller, not writable by group or others.
 * Opened without blocking, so that a FIFO is refused, not waited on. Returns NULL with *why set.
 */
static FILE *open_config(const char *path, const char **why, char *owner, size_t ownerlen)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	*why = NULL;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
	} else if (st.st_uid != 0 && st.st_uid != getuid()) {
		snprintf(owner, ownerlen, "owned by uid %u, neither root nor the caller",
			 (unsigned)st.st_uid);
		*why = owner;
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		*why = "writable by group or others";
	}
	if (*why)
		goto fail;
	f = fdopen(fd, "re");
	if (f)
		return f;
fail:
	if (!*why)
		*why = strerror(errno);
	close(fd);
	return NULL;
}

/* watch_config_load(), with rules->dev_elsewhere set by the caller. */
static int config_load(const char *path, struct watch_rules *rules, FILE *errf)
{
	char *line = NULL, what[4 * PATH_MAX + 32], shown[4 * PATH_MAX], owner[64];
	const char *why;
	FILE *f = open_config(path, &why, owner, sizeof(owner));
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int ret = 0;

	rules->v = NULL;
	rules->n = 0;
	text_escape(shown, sizeof(shown), path, strlen(path));
	if (!f) {
		fprintf(errf, "sockreap: watch: cannot read %s: %s\n", shown,
			why ? why : strerror(errno));
		return EXIT_USAGE;
	}
	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		size_t s = strspn(line, " \t");

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!line[s] || line[s] == '#' || line[s] == '\r')
			continue;
		snprintf(what, sizeof(what), "%s:%zu", shown, lineno);
		ret = add_rule(rules, line, what, errf);
	}
	if (!ret && ferror(f)) {
		fprintf(errf, "sockreap: watch: cannot read %s: %s\n", shown, strerror(errno));
		ret = EXIT_USAGE;
	}
	if (!ret && !rules->n) {
		fprintf(errf, "sockreap: watch: %s holds no rule\n", shown);
		ret = EXIT_USAGE;
	}
	free(line);
	fclose(f);
	if (ret)
		watch_rules_free(rules);
	return ret;
}

int watch_config_load(const char *path, struct watch_rules *rules, FILE *errf)
{
	rules->dev_elsewhere = false;
	return config_load(path, rules, errf);
}

/* "ns1", or "ino:4026532281" for a namespace without a name: as a one-shot run names it. */
static void ns_label_of(const struct netns_info *info, char *buf, size_t size)
{
	if (info->name[0])
		snprintf(buf, size, "%s", info->name);
	else
		snprintf(buf, size, "ino:%llu", (unsigned long long)info->inode);
}

struct watch_ns *watch_rule_ns(struct watch_rule *r, uint64_t inode)
{
	for (size_t i = 0; i < r->nns; i++)
		if (r->ns[i].inode == inode)
			return &r->ns[i];
	return NULL;
}

/* The namespace a record lives in: visit's entry for its index, 0 for the one where we run. */
static uint64_t rec_inode(const struct sock_rec *rec, const struct netns_list *visit)
{
	return visit && rec->netns < visit->n ? visit->v[rec->netns].inode : 0;
}

/* A fresh entry per namespace visited, with the counters and the ages of the last cycle's. */
static struct watch_ns *ns_next(struct watch_rule *r, const struct sock_set *set, size_t nplan,
				const struct netns_list *visit, size_t nv)
{
	struct watch_ns *next = calloc(nv, sizeof(*next));
	size_t *count = calloc(nv, sizeof(*count));
	bool ok = next && count;

	for (size_t i = 0; ok && i < nplan; i++)
		if (!visit || set->v[i].netns < nv)
			count[visit ? set->v[i].netns : 0]++;
	for (size_t k = 0; ok && k < nv; k++) {
		const struct watch_ns *old;

		next[k].inode = visit ? visit->v[k].inode : 0;
		next[k].pid = visit ? visit->v[k].pid : -1;
		next[k].named = visit && visit->v[k].name[0];
		if (visit)
			ns_label_of(&visit->v[k], next[k].label, sizeof(next[k].label));
		old = watch_rule_ns(r, next[k].inode);
		if (old)
			next[k].stats = old->stats;
		next[k].stats.oldest_ms = 0;
		next[k].stats.matched += count[k];
		ok = hashmap_init(&next[k].ages, count[k]) == 0;
	}
	free(count);
	if (ok)
		return next;
	ns_free(next, nv);
	return NULL;
}

int watch_age_filter(struct watch_rule *r, struct sock_set *set, size_t *nplan, uint64_t now_ms,
		     const struct netns_list *visit)
{
	uint32_t now = (uint32_t)((now_ms + TICK_MS - 1) / TICK_MS), first;
	size_t nv = visit ? visit->n : 1, w = 0;
	struct watch_ns *next = nv ? ns_next(r, set, *nplan, visit, nv) : NULL;

	if (!next) {
		set->n = *nplan = 0;
		return -ENOMEM;
	}
	r->last_matched = *nplan;
	r->stats.oldest_ms = 0;
	for (size_t i = 0; i < *nplan; i++) {
		uint64_t cookie = sock_cookie(&set->v[i]), age;
		size_t k = visit ? set->v[i].netns : 0;
		const struct watch_ns *old;
		struct watch_ns *e;

		/* No cookie, no identity across cycles: never old enough. */
		if (!cookie || k >= nv)
			continue;
		e = &next[k];
		old = watch_rule_ns(r, e->inode);
		/* A cookie is the kernel's for this boot; the namespace keeps two runs apart too. */
		if (!old || !hashmap_get(&old->ages, cookie, &first))
			first = now;
		hashmap_put(&e->ages, cookie, first);
		age = now_ms > (uint64_t)first * TICK_MS ? now_ms - (uint64_t)first * TICK_MS : 0;
		if (age > e->stats.oldest_ms)
			e->stats.oldest_ms = age;
		if (age > r->stats.oldest_ms)
			r->stats.oldest_ms = age;
		if (age >= r->older_ms)
			set->v[w++] = set->v[i];
	}
	/* A namespace not visited this cycle (gone, or not entered) takes its ages with it. */
	ns_free(r->ns, r->nns);
	r->ns = next;
	r->nns = nv;
	set->n = *nplan = w;
	return 0;
}

void watch_count_outcomes(struct watch_rule *r, const struct sock_set *set,
			  const struct netns_list *visit)
{
	for (size_t k = 0; k < r->nns; k++)
		r->ns[k].killed = r->ns[k].gone = r->ns[k].not_killed = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct watch_ns *e = watch_rule_ns(r, rec_inode(&set->v[i], visit));
		unsigned o = set->v[i].outcome;

		if (!e)
			continue;
		if (o == OUT_KILLED) {
			e->killed++;
			e->stats.killed++;
		} else if (o == OUT_GONE) {
			e->gone++;
		} else {
			e->not_killed++;
			e->stats.failed += o == OUT_FAILED || o == OUT_DENIED ||
					   o == OUT_UNSUPPORTED;
		}
	}
}

long watch_limit(const struct watch_rule *r, long global)
{
	return r->max >= 0 ? r->max : global;
}

/*
 * A label value as the exposition format wants it: \\, \" and \n escaped; a control or
 * non-ASCII byte of a namespace name (anyone's to choose) written as the text \\xNN, so
 * that the file stays valid UTF-8.
 */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '"')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* One sample: the rule's own, or with namespaces one per namespace its last cycle visited. */
static void put_samples(FILE *f, const char *name, const struct watch_rule *r, size_t off,
			bool seconds)
{
	size_t n = r->namespaced ? r->nns : 1;

	for (size_t k = 0; k < n; k++) {
		const struct watch_stats *st = r->namespaced ? &r->ns[k].stats : &r->stats;
		uint64_t v;

		memcpy(&v, (const char *)st + off, sizeof(v));
		/* Rule names are [a-z0-9_-]: nothing to escape. */
		fprintf(f, "%s{rule=\"%s\"", name, r->name);
		if (r->namespaced) {
			fputs(",netns=\"", f);
			put_label(f, r->ns[k].label);
			fputc('"', f);
		}
		if (seconds)
			fprintf(f, "} %.1f\n", (double)v / 1000.0);
		else
			fprintf(f, "} %llu\n", (unsigned long long)v);
	}
}

void watch_metrics_format(FILE *f, const struct watch_rules *rules, const struct watch_totals *t)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} per_rule[] = {
		{ "sockreap_watch_matched_total", "counter",
		  "Sockets that matched the rule's selector, counted once per cycle.",
		  offsetof(struct watch_stats, matched) },
		{ "sockreap_watch_killed_total", "counter", "Sockets the rule killed (verified).",
		  offsetof(struct watch_stats, killed) },
		{ "sockreap_watch_failed_total", "counter",
		  "Sockets the rule tried to kill and could not (failed, denied, unsupported).",
		  offsetof(struct watch_stats, failed) },
		{ "sockreap_watch_refused_by_breaker_total", "counter",
		  "Sockets left alone because the rule matched more than its max-per-cycle.",
		  offsetof(struct watch_stats, refused) },
		{ "sockreap_watch_oldest_match_age_seconds", "gauge",
		  "Age of the oldest socket matching the rule at the last cycle (0: none).",
		  offsetof(struct watch_stats, oldest_ms) },
	};

	for (size_t k = 0; k < sizeof(per_rule) / sizeof(per_rule[0]); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", per_rule[k].name, per_rule[k].help,
			per_rule[k].name, per_rule[k].type);
		for (size_t i = 0; i < rules->n; i++)
			put_samples(f, per_rule[k].name, &rules->v[i], per_rule[k].off,
				    per_rule[k].off == offsetof(struct watch_stats, oldest_ms));
	}
	fprintf(f, "# HELP sockreap_watch_cycle_duration_seconds Wall time of the last cycle.\n"
		   "# TYPE sockreap_watch_cycle_duration_seconds gauge\n"
		   "sockreap_watch_cycle_duration_seconds %.6f\n"
		   "# HELP sockreap_watch_cycles_total Cycles run since the watcher started.\n"
		   "# TYPE sockreap_watch_cycles_total counter\n"
		   "sockreap_watch_cycles_total %llu\n",
		t->last_cycle_ms / 1000.0, (unsigned long long)t->cycles);
	if (!t->tracking)
		return;
	fprintf(f, "# HELP sockreap_watch_tracker_dumps_total Full dumps of the state tracker "
		   "(start, overflow, safety net).\n"
		   "# TYPE sockreap_watch_tracker_dumps_total counter\n"
		   "sockreap_watch_tracker_dumps_total %llu\n"
		   "# HELP sockreap_watch_tracker_lookups_total Rule runs served from the tracker's "
		   "map by exact lookups.\n"
		   "# TYPE sockreap_watch_tracker_lookups_total counter\n"
		   "sockreap_watch_tracker_lookups_total %llu\n"
		   "# HELP sockreap_watch_tracker_overflows_total Sockets the full tracker map could "
		   "not take (each forces a dump).\n"
		   "# TYPE sockreap_watch_tracker_overflows_total counter\n"
		   "sockreap_watch_tracker_overflows_total %llu\n"
		   "# HELP sockreap_watch_tracker_candidates Sockets the last lookup from the "
		   "tracker's map asked the kernel about.\n"
		   "# TYPE sockreap_watch_tracker_candidates gauge\n"
		   "sockreap_watch_tracker_candidates %llu\n"
		   "# HELP sockreap_watch_tracker_namespaces Network namespaces whose sockets the "
		   "tracker keeps.\n"
		   "# TYPE sockreap_watch_tracker_namespaces gauge\n"
		   "sockreap_watch_tracker_namespaces %llu\n",
		(unsigned long long)t->track.dumps, (unsigned long long)t->track.lookups,
		(unsigned long long)t->track.overflows, (unsigned long long)t->track.candidates,
		(unsigned long long)t->track.namespaces);
}

int watch_metrics_write(const char *path, const struct watch_rules *rules,
			const struct watch_totals *t)
{
	char tmp[PATH_MAX];
	int fd, ret = 0;
	FILE *f;

	/* Not *.prom: the textfile collector must never read a half-written file. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	watch_metrics_format(f, rules, t);
	if (fflush(f) || ferror(f))
		ret = -(errno ? errno : EIO);
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* --- the watcher ------------------------------------------------------------------------ */

enum {
	OPT_EVERY = 256,
	OPT_MAX_PER_CYCLE,
	OPT_CONFIG,
	OPT_CHECK,
	OPT_METRICS_FILE,
	OPT_ENGINE,
	OPT_AUDIT_LOG,
	OPT_NO_AUDIT,
	OPT_INCLUDE_SELF,
	OPT_NO_TRACK,
	OPT_NETNS,
	OPT_NETNS_OF,
	OPT_ALL_NETNS,
	OPT_CLOSE_FD,
};

/*
 * libsystemd's sd_notify and sd_watchdog_enabled, loaded (dlopen) only by a watcher that
 * systemd started (NOTIFY_SOCKET set): a one-shot run never maps libsystemd and the six
 * libraries it brings in (about 1 MiB of RSS, against bench row 6's 16 MiB). Without the
 * library, nothing is sent, as sd_notify does without NOTIFY_SOCKET.
 */
struct notifier {
	void *lib;
	__typeof__(sd_notify) *notify;
	__typeof__(sd_watchdog_enabled) *watchdog_enabled;
};

static void notifier_open(struct notifier *n)
{
	memset(n, 0, sizeof(*n));
	if (!getenv("NOTIFY_SOCKET"))
		return;
	n->lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!n->lib) {
		fprintf(stderr, "sockreap: watch: NOTIFY_SOCKET is set but libsystemd.so.0 cannot "
				"be loaded (%s): systemd is not told we are ready\n", dlerror());
		return;
	}
	n->notify = (__typeof__(sd_notify) *)dlsym(n->lib, "sd_notify");
	n->watchdog_enabled = (__typeof__(sd_watchdog_enabled) *)dlsym(n->lib,
									"sd_watchdog_enabled");
}

static void notifier_close(struct notifier *n)
{
	if (n->lib)
		dlclose(n->lib);
	memset(n, 0, sizeof(*n));
}

static void notify(const struct notifier *n, const char *state)
{
	if (n->notify)
		n->notify(0, state);
}

struct watcher {
	struct config base;	/* what every rule's run shares; ast and hook set per run */
	struct watch_rules rules;
	const char *config_path;	/* NULL: rules from the command line */
	bool config_given;	/* --config: the caller's choice, read with the caller's rights */
	uint64_t every_ms;
	long max_per_cycle;	/* -1: none */
	const char *metrics_path;
	/* --netns/--netns-of, AND-ed into every rule as a one-shot run does; --all-netns. */
	struct cli_netns netns_v[CLI_NETNS_MAX];
	size_t nnetns;
	bool all_netns;
	bool setns_kept;	/* CAP_SYS_ADMIN kept at start: rules may visit namespaces */
	bool started;		/* keep_caps ran: what the watcher holds is settled */
	struct timespec start;
	struct watch_totals totals;
	int sfd;
	bool stop, reload;
	int stop_sig;
	struct notifier sd;
	bool no_track;		/* --no-track: every cycle dumps */
	struct statetrack *track;	/* NULL: every cycle dumps */
	uint32_t track_failed;	/* the states a tracker could not be loaded for (said once) */
};

/* What the hook needs for one rule's run. */
struct rule_run {
	struct watcher *w;
	struct watch_rule *rule;
	size_t refused;		/* the breaker refused this many */
	long limit;
	uint32_t track_states;	/* what the tracker collects for it (0: the dump) */
	const struct reap_hook *hook;
};

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000 +
	       (uint64_t)((t.tv_nsec - t0->tv_nsec) / 1000000);
}

static int after_collect(void *arg, struct sock_set *set, size_t *nplan)
{
	struct rule_run *rr = arg;

	if (watch_age_filter(rr->rule, set, nplan, ms_since(&rr->w->start), rr->hook->visit) < 0) {
		fprintf(stderr, "sockreap: watch: rule %s: out of memory; nothing killed\n",
			rr->rule->name);
		return EXIT_ERROR;
	}
	if (rr->limit >= 0 && *nplan > (size_t)rr->limit) {
		rr->refused = *nplan;
		for (size_t i = 0; i < *nplan; i++) {
			struct watch_ns *e = watch_rule_ns(rr->rule,
							   rec_inode(&set->v[i], rr->hook->visit));

			if (e) {
				e->stats.refused++;
				e->refused++;
			}
		}
		return EXIT_GUARD;
	}
	return 0;
}

static void after_act(void *arg, const struct sock_set *set, size_t nplan)
{
	struct rule_run *rr = arg;

	(void)nplan;
	watch_count_outcomes(rr->rule, set, rr->hook->visit);
}

/* The namespaces of the last cycle, as the run named them, with what the breaker kept there. */
static bool refused_ns_at(void *arg, size_t i, struct netns_info *ns, size_t *matched)
{
	const struct watch_rule *r = arg;

	if (i >= r->nns)
		return false;
	*ns = (struct netns_info){ .inode = r->ns[i].inode, .pid = r->ns[i].pid };
	/* The label was copied from a netns_info name: it fits back whole. */
	if (r->ns[i].named) {
		size_t len = strnlen(r->ns[i].label, sizeof(ns->name) - 1);

		memcpy(ns->name, r->ns[i].label, len);
		ns->name[len] = '\0';
	}
	*matched = r->ns[i].refused;
	return true;
}

/*
 * The breaker's record: no kill, so no intent; a "refused" record says why, and for a rule
 * that watches namespaces, in which ones the sockets were (an intent would have said).
 */
static void audit_refusal(const struct watcher *w, const struct watch_rule *r, size_t n,
			  long limit)
{
	struct audit a;
	struct audit_who who;
	char why[PATH_MAX + 128];
	struct audit_run run = { w->base.argc, w->base.argv, r->selector, w->base.engine, n, &who,
				 NULL };
	const struct audit_ns_iter it = { refused_ns_at, (void *)r };
	int ret;

	if (w->base.no_audit || w->base.dry_run)
		return;
	ret = audit_open(&a, w->base.audit_path, getauxval(AT_SECURE) ? 0 : getuid(), why,
			 sizeof(why));
	if (ret < 0) {
		fprintf(stderr, "sockreap: watch: rule %s: cannot record the refusal in %s: %s\n",
			r->name, w->base.audit_path, why);
		return;
	}
	a.rule = r->name;
	audit_who_fill(&who);
	audit_start(&a, &run);
	audit_refused_ns(&a, &run, (size_t)limit, r->namespaced ? &it : NULL);
	ret = audit_commit(&a);
	if (ret < 0)
		fprintf(stderr, "sockreap: watch: rule %s: cannot record the refusal in %s: %s\n",
			r->name, w->base.audit_path, strerror(-ret));
	audit_close(&a);
}

static void note_signal(struct watcher *w, int sig)
{
	if (sig == SIGHUP) {
		w->reload = true;
	} else if (sig) {
		w->stop = true;
		if (!w->stop_sig)
			w->stop_sig = sig;
	}
}

/*
 * The state tracker (src/statetrack.c): a full dump at the start, after an overflow and every
 * TRACK_RESEED_MS; in between, a cycle looks up only the candidates. The test build lets
 * SOCKREAP_TEST_TRACK_MAX (map size) and SOCKREAP_TEST_TRACK_RESEED_MS shrink both.
 */
#define TRACK_RESEED_MS (10 * 60 * 1000)

static uint64_t track_param(const char *name, uint64_t dflt)
{
#ifdef SOCKREAP_TESTING
	const char *e = secure_getenv(name);

	if (e && *e)
		return strtoull(e, NULL, 10);
#else
	(void)name;
#endif
	return dflt;
}

static int track_collect(void *arg, struct diag *d, uint64_t netns, bool no_info,
			 int (*keep)(const struct sock_rec *rec, void *keep_arg), void *keep_arg)
{
	struct rule_run *rr = arg;

	return statetrack_collect(rr->w->track, d, netns, rr->track_states, ms_since(&rr->w->start),
				  track_param("SOCKREAP_TEST_TRACK_RESEED_MS", TRACK_RESEED_MS),
				  no_info, keep, keep_arg);
}

/*
 * Which rules the tracker serves: ours and the namespaces --netns/--netns-of or `netns` words
 * name (the program keeps those namespaces' sockets, statetrack_collect adds each as a run
 * visits it), not --all-netns: every namespace's sockets in one map is the host-wide map
 * whose overflow under another namespace's burst made every cycle dump; those rules dump.
 */
static bool track_serves(const struct watcher *w)
{
	return !w->no_track && !w->all_netns;
}

static void track_rule(struct watcher *w, struct rule_run *rr, struct reap_hook *hook)
{
	uint32_t states = w->track && track_serves(w) ? statetrack_rule_states(rr->rule->ast) : 0;

	if (!states || (states & ~statetrack_states(w->track)))
		return;
	rr->track_states = states;
	hook->collect = track_collect;
}

/*
 * A tracker for the states the rules need, when some rule can use one: at the start and after
 * a reload that changes them. One that cannot be loaded (privileges, BTF) is said once per
 * set of states; those rules dump, as they would without it.
 */
static void track_setup(struct watcher *w)
{
	uint32_t want = 0;
	char why[256], names[128] = "";
	size_t len = 0, nrules = 0;

	for (size_t i = 0; i < w->rules.n && track_serves(w); i++) {
		uint32_t s = statetrack_rule_states(w->rules.v[i].ast);

		want |= s;
		nrules += s != 0;
	}
	if (w->track && want == statetrack_states(w->track))
		return;
	statetrack_close(w->track);
	w->track = NULL;
	if (!want || want == w->track_failed)
		return;
	for (unsigned st = 0; st < 32; st++)
		if (want & SS_BIT(st))
			len += (size_t)snprintf(names + len, len < sizeof(names) ? sizeof(names) - len
										 : 0,
						"%s%s", len ? ", " : "", sock_state_name(st));
	/* No namespace yet: each is watched from the first collect that visits it. */
	if (statetrack_open(&w->track, want, 0,
			    (uint32_t)track_param("SOCKREAP_TEST_TRACK_MAX", STATETRACK_MAX_ENTRIES),
			    why, sizeof(why)) < 0) {
		w->track_failed = want;
		fprintf(stderr, "sockreap: watch: no state tracker for %s: %s; every cycle dumps the "
				"socket table\n", names, why);
		return;
	}
	w->track_failed = 0;
	fprintf(stderr, "sockreap: watch: state tracker on for %s (%zu rule%s): a cycle looks up "
			"the sockets that entered those states, not the whole table\n", names,
		nrules, nrules == 1 ? "" : "s");
}

/* What a cycle did, for its one syslog line: "java-cw 3 killed, 0 failed; fw2 refused 20". */
struct cycle_line {
	char text[1024];
	size_t len;
};

static void cycle_add(struct cycle_line *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cycle_add(struct cycle_line *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->len >= sizeof(c->text) - 1)
		return;
	if (c->len)
		c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "; ");
	if (c->len >= sizeof(c->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->text + c->len, sizeof(c->text) - c->len, fmt, ap);
	va_end(ap);
	c->len += n > 0 ? (size_t)n : 0;
	if (c->len > sizeof(c->text) - 1)
		c->len = sizeof(c->text) - 1;
}

/* Says, once, that a namespace the rule names is not there (or is there again). */
static void ns_note(struct watch_rule *r, const char *why)
{
	if (!strcmp(r->ns_note, why))
		return;
	if (*why)
		fprintf(stderr, "sockreap: watch: rule %s: %s: not watched there until it can be "
				"opened (looked for again every cycle)\n", r->name, why);
	else
		fprintf(stderr, "sockreap: watch: rule %s: every network namespace it names is "
				"there again\n", r->name);
	snprintf(r->ns_note, sizeof(r->ns_note), "%s", why);
}

/*
 * Where the rule looks this cycle (cfg's netns_v, nnetns, all_netns). A namespace is found
 * again by what names it every cycle: a container restarted under the same name is a new
 * namespace (new inode, new cookies); one created after the watcher started is watched from
 * the first cycle that finds it, one that is gone is left out with a line (once). As a
 * one-shot run: each namespace named that the selector can match there, and ours where it can;
 * never entered for the whole process (netns NULL), so the next rule starts from home.
 * Returns false when the rule names namespaces and none of them is there now.
 */
static bool rule_scope(const struct watcher *w, struct watch_rule *r, struct config *cfg)
{
	const struct sel_node *v[2 * CLI_NETNS_MAX];
	struct sel_error err;
	struct stat st;
	uint64_t home = 0, seen[2 * CLI_NETNS_MAX];
	size_t n, nseen = 0;
	bool home_named = false;
	int ret;

	cfg->netns = NULL;
	cfg->nnetns = 0;
	cfg->all_netns = w->all_netns;
	if (!selector_uses(r->ast, SEL_NETNS))
		return true;
	ret = selector_netns_refresh(r->ast, NULL, &err);
	if (ret < 0) {
		fprintf(stderr, "sockreap: watch: rule %s: %s; nothing looked at this cycle\n",
			r->name, err.msg);
		return false;
	}
	ns_note(r, ret ? err.msg : "");
	if (w->all_netns)
		return true;	/* discovered by the run; the atoms only filter */
	if (stat("/proc/self/ns/net", &st) == 0)
		home = st.st_ino;
	n = selector_netns_atoms(r->ast, v, sizeof(v) / sizeof(v[0]));
	for (size_t i = 0; i < n && i < sizeof(v) / sizeof(v[0]); i++) {
		const struct sel_node *a = v[i];
		bool dup = false;

		if (!a->u.ns.path || !selector_netns_may_match(r->ast, a->u.ns.inode))
			continue;
		for (size_t j = 0; j < nseen && !dup; j++)
			dup = seen[j] == a->u.ns.inode;
		if (dup || cfg->nnetns == CLI_NETNS_MAX)
			continue;
		seen[nseen++] = a->u.ns.inode;
		home_named |= a->u.ns.inode == home;
		cfg->netns_v[cfg->nnetns].spec = a->u.ns.spec ? a->u.ns.spec : a->u.ns.path;
		cfg->netns_v[cfg->nnetns++].by_pid = a->u.ns.pid != 0;
	}
	if (home && !home_named && cfg->nnetns < CLI_NETNS_MAX &&
	    selector_netns_may_match(r->ast, home)) {
		cfg->netns_v[cfg->nnetns].spec = "/proc/self/ns/net";
		cfg->netns_v[cfg->nnetns++].by_pid = false;
	}
	return cfg->nnetns > 0;
}

static void run_rule(struct watcher *w, struct watch_rule *r, struct cycle_line *line)
{
	struct rule_run rr = { w, r, 0, watch_limit(r, w->max_per_cycle), 0, NULL };
	struct reap_hook hook = { r->name, after_collect, after_act, &rr, { .total = 0 }, NULL,
				  NULL };
	struct config cfg = w->base;
	int status = 0;

	rr.hook = &hook;
	cfg.ast = r->ast;
	cfg.hook = &hook;
	track_rule(w, &rr, &hook);
	/* A run that stops before its collect (sock_diag refused) matched nothing this cycle. */
	r->last_matched = 0;
	for (size_t k = 0; k < r->nns; k++)
		r->ns[k].killed = r->ns[k].gone = r->ns[k].not_killed = r->ns[k].refused = 0;
	if (rule_scope(w, r, &cfg))
		status = reap_run(&cfg);
	/* A dry run's table: to the journal (or a file) now, not when a buffer fills. */
	fflush(stdout);
	r->stats.matched += r->last_matched;
	r->stats.killed += hook.counts.n[OUT_KILLED];
	r->stats.failed += hook.counts.n[OUT_FAILED] + hook.counts.n[OUT_DENIED] +
			   hook.counts.n[OUT_UNSUPPORTED];
	if (hook.counts.total && !r->namespaced)
		cycle_add(line, "%s %zu killed, %zu gone, %zu not killed", r->name,
			  hook.counts.n[OUT_KILLED], hook.counts.n[OUT_GONE],
			  hook.counts.total - hook.counts.n[OUT_KILLED] - hook.counts.n[OUT_GONE]);
	for (size_t k = 0; hook.counts.total && r->namespaced && k < r->nns; k++) {
		const struct watch_ns *e = &r->ns[k];
		char shown[4 * WATCH_NS_LABEL_MAX];

		if (!e->killed && !e->gone && !e->not_killed)
			continue;
		text_escape(shown, sizeof(shown), e->label, strlen(e->label));
		cycle_add(line, "%s netns %s %zu killed, %zu gone, %zu not killed", r->name, shown,
			  e->killed, e->gone, e->not_killed);
	}
	if (rr.refused) {
		r->stats.refused += rr.refused;
		fprintf(stderr, "sockreap: watch: rule %s: %zu sockets old enough, more than its "
				"max-per-cycle %ld: %s (breaker: a flood usually means the rule "
				"is wrong)\n", r->name, rr.refused, rr.limit,
			w->base.dry_run ? "a kill would be refused (dry run)"
					: "refused, nothing killed this cycle");
		audit_refusal(w, r, rr.refused, rr.limit);
		cycle_add(line, "%s refused %zu (max-per-cycle %ld)", r->name, rr.refused, rr.limit);
	}
	/* A signal held during the kill was consumed there: act on it here. */
	if (status > 128)
		note_signal(w, status - 128);
}

/*
 * A setcap install's caller reads --config/--check and writes --metrics-file with the caller's
 * own rights, as a one-shot run does its plan files: the install's CAP_DAC_READ_SEARCH and
 * CAP_DAC_OVERRIDE are there to read other processes' fds, not to let a rule error quote back
 * a line of /etc/shadow or a metrics rename replace a file in a directory of root's.
 * Returns whether they were lowered (then caller_rights_end raises them again).
 */
static const int watch_dac_caps[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };

static bool caller_rights_begin(void)
{
	if (!getauxval(AT_SECURE) || getuid() == 0)
		return false;
	return caps_effective(watch_dac_caps, sizeof(watch_dac_caps) / sizeof(watch_dac_caps[0]),
			      false) == 0;
}

static void caller_rights_end(bool lowered)
{
	if (lowered)
		caps_effective(watch_dac_caps, sizeof(watch_dac_caps) / sizeof(watch_dac_caps[0]),
			       true);
}

/* The config file; one the caller named is read with the caller's rights (above). */
static int load_config(const char *path, bool given, struct watch_rules *rules)
{
	bool lowered = given && caller_rights_begin();
	int ret = config_load(path, rules, stderr);

	caller_rights_end(lowered);
	return ret;
}

static void write_metrics(struct watcher *w)
{
	bool lowered;
	int ret;

	if (!w->metrics_path)
		return;
	lowered = caller_rights_begin();
	ret = watch_metrics_write(w->metrics_path, &w->rules, &w->totals);
	caller_rights_end(lowered);
	if (ret < 0)
		fprintf(stderr, "sockreap: watch: cannot write metrics file %s: %s\n",
			w->metrics_path, strerror(-ret));
}

/*
 * --netns/--netns-of AND-ed into each rule, as a one-shot run ANDs them with its expression
 * (so the canonical selector, recorded in the audit, names them); which rules watch in
 * namespaces. 0, or an exit status said on stderr.
 */
static int scope_rules(const struct watcher *w, struct watch_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++) {
		struct watch_rule *r = &rules->v[i];
		struct sel_node *v[CLI_NETNS_MAX], *scope = NULL, *both = NULL;
		size_t n = 0;

		for (; n < w->nnetns; n++) {
			v[n] = selector_netns_flag(w->netns_v[n].spec, w->netns_v[n].by_pid);
			if (!v[n])
				break;
		}
		if (n < w->nnetns) {
			while (n)
				sel_node_free(v[--n]);
		} else if (n) {
			scope = sel_node_join(SEL_OR, v, n);
			both = scope ? sel_node_new_binary(SEL_AND, scope, r->ast) : NULL;
			if (!both)
				sel_node_free(scope);
		}
		if (n != w->nnetns || (n && !both)) {
			fprintf(stderr, "sockreap: out of memory\n");
			return EXIT_ERROR;
		}
		if (both) {
			r->ast = both;
			selector_format(r->ast, r->selector, sizeof(r->selector));
		}
		r->namespaced = w->all_netns || selector_uses(r->ast, SEL_NETNS);
		/* As a one-shot run: acting inside processes only where the rule names them. */
		if (w->base.close_fd && !selector_uses(r->ast, SEL_PID) &&
		    !selector_uses(r->ast, SEL_COMM) && !selector_uses(r->ast, SEL_CGROUP)) {
			fprintf(stderr, "sockreap: watch: rule %s: --close-fd closes descriptors "
					"inside processes: the rule must name them (pid, comm, unit "
					"or cgroup)\n", r->name);
			return EXIT_USAGE;
		}
		if (r->namespaced && !w->setns_kept && w->started) {
			fprintf(stderr, "sockreap: watch: rule %s names network namespaces, and "
					"this watcher gave up CAP_SYS_ADMIN (setns) when it started "
					"without any: restart it\n", r->name);
			return EXIT_PRIV;
		}
	}
	return 0;
}

/* SIGHUP: the new file whole, or the old rules on; ages kept where name and selector are. */
static void reload(struct watcher *w)
{
	struct watch_rules next;
	int ret;

	w->reload = false;
	if (!w->config_path) {
		fprintf(stderr, "sockreap: watch: SIGHUP: the rules came from the command line; "
				"nothing to reload\n");
		return;
	}
	next.dev_elsewhere = w->rules.dev_elsewhere;
	ret = load_config(w->config_path, w->config_given, &next);
	if (!ret && (ret = scope_rules(w, &next)))
		watch_rules_free(&next);
	if (ret) {
		fprintf(stderr, "sockreap: watch: SIGHUP: %s not reloaded (above); the %zu rule%s "
				"before it keep running\n", w->config_path, w->rules.n,
			w->rules.n == 1 ? "" : "s");
		return;
	}
	for (size_t i = 0; i < next.n; i++) {
		struct watch_rule *old = NULL;

		for (size_t j = 0; j < w->rules.n; j++)
			if (!strcmp(w->rules.v[j].name, next.v[i].name))
				old = &w->rules.v[j];
		if (!old)
			continue;
		/* A counter keeps counting under its name; an age only for the same selector. */
		next.v[i].stats = old->stats;
		next.v[i].ns = old->ns;
		next.v[i].nns = old->nns;
		old->ns = NULL;
		old->nns = 0;
		for (size_t k = 0; strcmp(old->selector, next.v[i].selector) && k < next.v[i].nns;
		     k++)
			hashmap_free(&next.v[i].ns[k].ages);	/* a new selector starts ages over */
	}
	watch_rules_free(&w->rules);
	w->rules = next;
	track_setup(w);
	fprintf(stderr, "sockreap: watch: SIGHUP: %s reloaded: %zu rule%s\n", w->config_path,
		w->rules.n, w->rules.n == 1 ? "" : "s");
}

static void drain_signals(struct watcher *w)
{
	struct signalfd_siginfo si;

	while (read(w->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		note_signal(w, (int)si.ssi_signo);
}

/*
 * Until the next cycle is due (the interval counts from the cycle's start), or a stop: the
 * wait is a poll on the signalfd, woken for the watchdog's ping when systemd asks for one.
 */
static void sleep_until(struct watcher *w, const struct timespec *cycle_start, uint64_t wd_usec)
{
	for (;;) {
		uint64_t spent = ms_since(cycle_start);
		uint64_t left = spent >= w->every_ms ? 0 : w->every_ms - spent;
		struct pollfd p = { w->sfd, POLLIN, 0 };

		if (w->reload)
			reload(w);
		if (w->stop || !left)
			return;
		if (wd_usec && left > wd_usec / 2000)
			left = wd_usec / 2000;
		if (poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left)) > 0)
			drain_signals(w);
		if (wd_usec)
			notify(&w->sd, "WATCHDOG=1");
	}
}

static int watch_loop(struct watcher *w)
{
	uint64_t wd_usec = 0;
	bool ready = false;

	notifier_open(&w->sd);
	if (!w->sd.watchdog_enabled || w->sd.watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	fprintf(stderr, "sockreap: watch: %zu rule%s, every %.1f s%s\n", w->rules.n,
		w->rules.n == 1 ? "" : "s", (double)w->every_ms / 1000.0,
		w->base.dry_run ? " (dry run: nothing is killed)" : "");
	track_setup(w);
	while (!w->stop) {
		struct timespec c0;

		struct cycle_line line = { "", 0 };

		clock_gettime(CLOCK_MONOTONIC, &c0);
		for (size_t i = 0; i < w->rules.n; i++)
			run_rule(w, &w->rules.v[i], &line);
		w->totals.cycles++;
		/* A dry run acts on nothing: its lines are on stderr only. */
		if (line.len && w->base.no_audit)
		line.len += (size_t)snprintf(line.text + line.len, sizeof(line.text) - line.len,
					     " (audit file disabled by --no-audit)");
	if (line.len > sizeof(line.text) - 1)
		line.len = sizeof(line.text) - 1;
	if (line.len && !w->base.dry_run)
			audit_syslog_cycle((unsigned long long)w->totals.cycles, line.text);
		w->totals.last_cycle_ms = (double)ms_since(&c0);
		w->totals.tracking = w->track != NULL;
		if (w->track) {
			/* Namespaces no rule visited this cycle (gone, or left out) are let go. */
			statetrack_sweep(w->track);
			statetrack_get_stats(w->track, &w->totals.track);
		}
		write_metrics(w);
		if (!ready) {
			notify(&w->sd, "READY=1");
			ready = true;
		}
		if (wd_usec)
			notify(&w->sd, "WATCHDOG=1");
		drain_signals(w);
		sleep_until(w, &c0, wd_usec);
	}
	notify(&w->sd, "STOPPING=1");
	statetrack_close(w->track);
	w->track = NULL;
	notifier_close(&w->sd);
	fprintf(stderr, "sockreap: watch: %s: stopped after %llu cycle%s\n",
		audit_signal_name(w->stop_sig), (unsigned long long)w->totals.cycles,
		w->totals.cycles == 1 ? "" : "s");
	return EXIT_DONE;
}

static void watch_usage(FILE *f)
{
	fputs("Usage: sockreap watch [OPTIONS] RULE...\n"
	      "       sockreap watch [OPTIONS] [--config FILE]\n"
	      "       sockreap watch --check FILE\n"
	      "\n"
	      "Apply rules every interval, as a service: kill the sockets that have matched\n"
	      "a rule's selector continuously (same cookie) for the rule's age.\n"
	      "RULE is   NAME: SELECTOR, older-than DURATION[, max N]\n"
	      "e.g.      'java-cw: state close-wait and unit app.service, older-than 10m'\n"
	      "\n"
	      "Options:\n"
	      "      --every DURATION     how often to look (default 10s)\n"
	      "      --max-per-cycle N    a rule whose kill would be larger kills nothing\n"
	      "                           that cycle (its own `, max N' wins)\n"
	      "      --config FILE        one rule per line, # comments (default\n"
	      "                           " WATCH_DEFAULT_CONFIG " when no RULE is given)\n"
	      "      --check FILE         validate FILE and exit (2 on an error)\n"
	      "      --metrics-file PATH  Prometheus text file, rewritten after each cycle\n"
	      "  -n, --dry-run            log what would be killed; touch nothing\n"
	      "      --engine NAME        destroy, rst, shutdown or auto (the default)\n"
	      "      --close-fd           also close killed sockets' fds in their owners\n"
	      "                           (every rule must name them: pid, comm, unit)\n"
	      "      --netns NAME|PATH    watch in that network namespace (repeatable)\n"
	      "      --netns-of PID       watch in the network namespace of PID\n"
	      "      --all-netns          watch in every network namespace, found again\n"
	      "                           each cycle\n"
	      "      --audit-log PATH     audit file (default " CLI_DEFAULT_AUDIT_LOG ")\n"
	      "      --no-audit           kill without an audit file (logged to syslog)\n"
	      "      --include-self       rules may select the caller's own SSH connection\n"
	      "      --no-track           dump the socket table every cycle instead of\n"
	      "                           tracking state changes (BPF; see sockreap(8))\n"
	      "  -h, --help               show this help\n"
	      "\n"
	      "SIGHUP reloads the config file (a bad file keeps the old rules); SIGTERM or\n"
	      "SIGINT stops after the current cycle. See WATCH MODE in sockreap(8).\n",
	      f);
}

static int parse_count(const char *opt, const char *arg, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || !isdigit((unsigned char)*arg)) {
		char shown[256];

		text_escape(shown, sizeof(shown), arg, strlen(arg));
		fprintf(stderr, "sockreap: watch: %s: not a count of sockets: \"%s\"\n", opt, shown);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* The options; *check gets --check's FILE. Returns 0, or an exit status. */
static int parse_args(struct watcher *w, int argc, char **argv, const char **check,
		      const char *(*getenv_fn)(const char *))
{
	static const struct option longopts[] = {
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "max-per-cycle", required_argument, NULL, OPT_MAX_PER_CYCLE },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "engine", required_argument, NULL, OPT_ENGINE },
		{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
		{ "no-audit", no_argument, NULL, OPT_NO_AUDIT },
		{ "include-self", no_argument, NULL, OPT_INCLUDE_SELF },
		{ "no-track", no_argument, NULL, OPT_NO_TRACK },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "netns-of", required_argument, NULL, OPT_NETNS_OF },
		{ "all-netns", no_argument, NULL, OPT_ALL_NETNS },
		{ "close-fd", no_argument, NULL, OPT_CLOSE_FD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "+:nh", longopts, NULL)) != -1) {
		char shown[256];

		switch (c) {
		case OPT_EVERY:
			if (!selector_parse_duration(optarg, &w->every_ms) || !w->every_ms) {
				text_escape(shown, sizeof(shown), optarg, strlen(optarg));
				fprintf(stderr, "sockreap: watch: --every: not a duration above 0: "
						"\"%s\" (use 500ms, 10s, 5m)\n", shown);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAX_PER_CYCLE:
			if (parse_count("--max-per-cycle", optarg, &w->max_per_cycle) < 0)
				return EXIT_USAGE;
			break;
		case OPT_CONFIG:
			w->config_path = optarg;
			w->config_given = true;
			break;
		case OPT_CHECK:
			*check = optarg;
			break;
		case OPT_METRICS_FILE:
			w->metrics_path = optarg;
			break;
		case 'n':
			w->base.dry_run = true;
			break;
		case OPT_ENGINE:
			if (strcmp(optarg, "destroy") && strcmp(optarg, "rst") &&
			    strcmp(optarg, "auto") && strcmp(optarg, "shutdown")) {
				text_escape(shown, sizeof(shown), optarg, strlen(optarg));
				fprintf(stderr, "sockreap: watch: --engine: unknown engine \"%s\" "
						"(destroy, rst, auto or shutdown)\n", shown);
				return EXIT_USAGE;
			}
			w->base.engine = optarg;
			break;
		case OPT_AUDIT_LOG:
			w->base.audit_path = optarg;
			w->base.audit_path_given = true;
			break;
		case OPT_NO_AUDIT:
			w->base.no_audit = true;
			break;
		case OPT_INCLUDE_SELF:
			w->base.include_self = true;
			break;
		case OPT_NO_TRACK:
			w->no_track = true;
			break;
		case OPT_NETNS:
		case OPT_NETNS_OF:
			if (cli_check_netns_arg(c == OPT_NETNS_OF, optarg, stderr) < 0)
				return EXIT_USAGE;
			if (w->nnetns == CLI_NETNS_MAX) {
				fprintf(stderr, "sockreap: watch: more than %d --netns/--netns-of; "
						"--all-netns watches every namespace\n",
					CLI_NETNS_MAX);
				return EXIT_USAGE;
			}
			w->netns_v[w->nnetns].spec = optarg;
			w->netns_v[w->nnetns++].by_pid = c == OPT_NETNS_OF;
			break;
		case OPT_ALL_NETNS:
			w->all_netns = true;
			break;
		case OPT_CLOSE_FD:
			w->base.close_fd = true;
			break;
		case 'h':
			w->base.action = CLI_HELP;
			break;
		default:
			text_escape(shown, sizeof(shown), argv[optind], strlen(argv[optind]));
			fprintf(stderr, "sockreap: watch: %s \"%s\"\nTry 'sockreap watch --help'.\n",
				c == ':' ? "option needs an argument:" : "unknown option", shown);
			return EXIT_USAGE;
		}
	}
	if (w->base.no_audit && w->base.audit_path_given) {
		fprintf(stderr, "sockreap: watch: --no-audit and --audit-log contradict each other: "
				"give one\n");
		return EXIT_USAGE;
	}
	if (w->base.audit_path_given && !*w->base.audit_path) {
		fprintf(stderr, "sockreap: watch: --audit-log: empty path\n");
		return EXIT_USAGE;
	}
	if (!w->base.audit_path) {
		const char *env = getenv_fn ? getenv_fn("SOCKREAP_AUDIT_LOG") : NULL;

		w->base.audit_path = env && *env ? env : CLI_DEFAULT_AUDIT_LOG;
	}
	return 0;
}

/* The rules: from the command line, or from the config file (given or the default). */
static int load_rules(struct watcher *w, int argc, char **argv)
{
	int first = optind + 1;	/* getopt ran over argv + 1 */

	if (first < argc && w->config_path) {
		fprintf(stderr, "sockreap: watch: rules on the command line and --config: give "
				"one\n");
		return EXIT_USAGE;
	}
	if (first == argc) {
		if (!w->config_path && access(WATCH_DEFAULT_CONFIG, F_OK) < 0) {
			fprintf(stderr, "sockreap: watch: no rules: give RULE arguments, --config "
					"FILE, or write " WATCH_DEFAULT_CONFIG "\nTry 'sockreap "
					"watch --help'.\n");
			return EXIT_USAGE;
		}
		if (!w->config_path)
			w->config_path = WATCH_DEFAULT_CONFIG;
		int ret = load_config(w->config_path, w->config_given, &w->rules);

		return ret ? ret : scope_rules(w, &w->rules);
	}
	for (int i = first; i < argc; i++) {
		char what[32];
		int ret;

		snprintf(what, sizeof(what), "watch: rule %d", i - first + 1);
		ret = add_rule(&w->rules, argv[i], what, stderr);
		if (ret)
			return ret;
	}
	return scope_rules(w, &w->rules);
}

/*
 * What every cycle needs, kept for the watcher's life, the rest dropped now (a one-shot run
 * drops them stage by stage; a watcher's next cycle needs them again): reading owners and the
 * audit file, the engines, the BPF owner lookup, and setns for rules that visit namespaces.
 * 0, or an exit status said on stderr.
 */
static int keep_caps(struct watcher *w)
{
	static const int caps[] = { CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
				    CAP_DAC_OVERRIDE, CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN };
	size_t n = sizeof(caps) / sizeof(caps[0]);
	bool ns = false;

	for (size_t i = 0; i < w->rules.n; i++)
		ns |= w->rules.v[i].namespaced;
	if (ns && !caps_have(CAP_SYS_ADMIN)) {
		fprintf(stderr, "sockreap: watch: the rules watch in network namespaces, which the "
				"watcher enters (setns): that needs CAP_SYS_ADMIN\n");
		return EXIT_PRIV;
	}
	if (caps_keep_only(caps, ns ? n : n - 1) < 0) {
		fprintf(stderr, "sockreap: watch: cannot drop capabilities\n");
		return EXIT_PRIV;
	}
	w->setns_kept = ns;
	w->started = true;
	return 0;
}

/*
 * Signals are blocked for the watcher's life and read from a signalfd while it sleeps; during
 * a kill the audit holds them as in a one-shot run, and the run reports the one it consumed.
 */
static int block_signals(struct watcher *w)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	w->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return w->sfd < 0 ? -errno : 0;
}

int watch_main(int argc, char **argv, const char *(*getenv_fn)(const char *))
{
	struct watcher w = { .every_ms = WATCH_DEFAULT_EVERY_MS, .max_per_cycle = -1, .sfd = -1 };
	const char *check = NULL;
	int ret;

	w.base.max = -1;
	w.base.engine = "auto";
	w.base.yes = true;
	w.base.argc = argc;
	w.base.argv = argv;
	ret = parse_args(&w, argc, argv, &check, getenv_fn);
	if (ret)
		return ret;
	if (w.base.action == CLI_HELP) {
		watch_usage(stdout);
		return 0;
	}
	w.rules.dev_elsewhere = w.nnetns || w.all_netns;
	if (check) {
		if (optind + 1 < argc) {
			fprintf(stderr, "sockreap: watch: --check takes a file, not rules\n");
			return EXIT_USAGE;
		}
		ret = load_config(check, true, &w.rules);
		if (!ret)
			printf("%s: %zu rule%s, OK\n", check, w.rules.n, w.rules.n == 1 ? "" : "s");
		watch_rules_free(&w.rules);
		return ret;
	}
	ret = cli_check_caller(&w.base, getauxval(AT_SECURE) != 0, (unsigned)getuid(),
			       getenv("SOCKREAP_AUDIT_LOG") != NULL, stderr);
	if (!ret)
		ret = load_rules(&w, argc, argv);
	if (!ret)
		ret = keep_caps(&w);
	if (!ret && block_signals(&w) < 0) {
		fprintf(stderr, "sockreap: watch: cannot set up signals: %s\n", strerror(errno));
		ret = EXIT_ERROR;
	}
	if (!ret) {
		clock_gettime(CLOCK_MONOTONIC, &w.start);
		ret = watch_loop(&w);
	}
	if (w.sfd >= 0)
		close(w.sfd);
	watch_rules_free(&w.rules);
	return ret;
}
