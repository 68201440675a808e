// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --forwarded: flows that only pass through this host (router, NAT gateway, Kubernetes node)
 * have no socket here, only a conntrack entry. The run reads the entries (conntrack.c), lets
 * the selector judge each as a record (struct ct_flow), shows both directions and the
 * translation, and kills: a UDP flow by deleting its entry (the stale-NAT fix: the next packet
 * makes a fresh mapping). Stages as reap.c's: prepare, collect, show, arm, act, report.
 */
#include "forward.h"

#include "audit.h"
#include "caps.h"
#include "json.h"
#include "localaddr.h"
#include "netns.h"
#include "output.h"
#include "plan.h"
#include "rawio.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/auxv.h>
#include <linux/capability.h>
#include <linux/netfilter/nf_conntrack_common.h>

enum { RUN_ON = -1 };

struct fwd_run {
	const struct config *cfg;
	struct netns_info netns;
	const struct netns_info *in_netns;	/* --netns: where conntrack is read */
	struct conntrack *ct;
	struct rawio *raw;	/* TCP kills: opened where the flows are, before caps drop */
	struct ct_set plan;
	char selector[4096];
	bool confirming;
	struct audit audit;
	struct audit_signals held;
	size_t counts[OUT_MAX];
	struct timespec t0;
	double ms_dump;		/* reading conntrack and judging its entries */
	double elapsed_ms;	/* the kill's: probes, resets, deletes and their checks */
	int audit_err;
	int signal;
};

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

const char *forward_flow_state(const struct ct_flow *f)
{
	if (f->ct_state != CT_STATE_NONE) {
		const char *s = conntrack_state_name(f->ct_state);

		return s ? s : "?";
	}
	if (!(f->status & IPS_SEEN_REPLY))
		return "unreplied";
	return f->status & IPS_ASSURED ? "assured" : "replied";
}

/* "snat", "dnat", "snat+dnat" or NULL: which ends the translation changed. */
static const char *nat_kind(const struct ct_flow *f)
{
	bool snat = memcmp(f->reply_dst, f->s.id.idiag_src, sizeof(f->reply_dst)) ||
		    f->reply_dport != sock_sport(&f->s);
	bool dnat = memcmp(f->reply_src, f->s.id.idiag_dst, sizeof(f->reply_src)) ||
		    f->reply_sport != sock_dport(&f->s);

	return snat && dnat ? "snat+dnat" : snat ? "snat" : dnat ? "dnat" : NULL;
}

static void flow_ends(char *buf, size_t size, int family, const uint32_t src[4], uint16_t sport,
		      const uint32_t dst[4], uint16_t dport)
{
	char a[64], b[64];

	sock_format_endpoint(a, sizeof(a), family, src, sport);
	sock_format_endpoint(b, sizeof(b), family, dst, dport);
	snprintf(buf, size, "%s -> %s", a, b);
}

static void original_ends(char *buf, size_t size, const struct ct_flow *f)
{
	flow_ends(buf, size, f->s.family, f->s.id.idiag_src, sock_sport(&f->s), f->s.id.idiag_dst,
		  sock_dport(&f->s));
}

static void reply_ends(char *buf, size_t size, const struct ct_flow *f)
{
	flow_ends(buf, size, f->s.family, f->reply_src, f->reply_sport, f->reply_dst,
		  f->reply_dport);
}

/* "300 flows: established 280, time-wait 20" (by outcome after a kill), in order of first sight. */
static void flow_counts(FILE *out, const struct ct_set *set, bool outcomes)
{
	struct {
		const char *name;
		size_t n;
	} seen[32];
	size_t nseen = 0;

	for (size_t i = 0; i < set->n; i++) {
		const char *name = outcomes ? sock_outcome_name(set->v[i].s.outcome)
					    : forward_flow_state(&set->v[i]);
		size_t k = 0;

		while (k < nseen && strcmp(seen[k].name, name))
			k++;
		if (k == nseen && nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = (typeof(seen[0])){ name, 0 };
		if (k < nseen)
			seen[k].n++;
	}
	fprintf(out, "%zu flow%s: ", set->n, set->n == 1 ? "" : "s");
	for (size_t k = 0; k < nseen; k++)
		fprintf(out, "%s%s %zu", k ? ", " : "", seen[k].name, seen[k].n);
	fputc('\n', out);
}

/* One row, cut at cols (0: no limit) with ">" at the edge, as the socket table is. */
static void put_row(FILE *out, char *line, int cols)
{
	size_t len = strlen(line);

	while (len && line[len - 1] == ' ')
		line[--len] = '\0';
	if (cols > 1 && len > (size_t)cols) {
		line[cols - 1] = '>';
		line[cols] = '\0';
	}
	fprintf(out, "%s\n", line);
}

void forward_table(FILE *out, const struct ct_set *set, bool outcomes,
		   const struct output_fit *fit)
{
	char o[160], r[160], t[16], line[512];
	int wo = (int)strlen("ORIGINAL"), wr = (int)strlen("REPLY"), wout = (int)strlen("OUTCOME");
	int cols = fit ? fit->cols : 0;
	/* Taller than the terminal (#13): the counts, the header, the first rows, "... more". */
	bool summary = fit && fit->rows > 0 && set->n + 4 > (size_t)fit->rows;
	size_t shown = set->n;
	bool extra = true;	/* MARK, ZONE, TIMEOUT: the first to go on a narrow terminal */
	bool natcol = true;	/* NAT next: the REPLY direction shows the translation too */

	if (summary) {
		shown = fit->rows > 13 ? (size_t)fit->rows - 8 : 5;
		if (shown > set->n)
			shown = set->n;
	}
	for (size_t i = 0; i < shown; i++) {
		const char *detail = sock_outcome_detail(&set->v[i].s);
		int w = (int)strlen(sock_outcome_name(set->v[i].s.outcome)) +
			(detail ? (int)strlen(detail) + 2 : 0);

		original_ends(o, sizeof(o), &set->v[i]);
		reply_ends(r, sizeof(r), &set->v[i]);
		if ((int)strlen(o) > wo)
			wo = (int)strlen(o);
		if ((int)strlen(r) > wr)
			wr = (int)strlen(r);
		if (w > wout)
			wout = w;
	}
	/* PROTO STATE ORIGINAL  REPLY  NAT [MARK ZONE TIMEOUT] [OUTCOME]: addresses stay whole. */
	int width = 6 + 12 + wo + 2 + wr + 2 + 9 + (outcomes ? 1 + wout : 0);

	if (cols > 0 && width + 25 > cols)
		extra = false;
	if (cols > 0 && !extra && width > cols)
		natcol = false;
	if (summary)
		flow_counts(out, set, outcomes);
	snprintf(line, sizeof(line), "%-5s %-11s %-*s  %-*s%s%s%s", "PROTO", "STATE", wo,
		 "ORIGINAL", wr, "REPLY", natcol ? "  NAT      " : "",
		 extra ? " MARK       ZONE  TIMEOUT" : "", outcomes ? " OUTCOME" : "");
	put_row(out, line, cols);
	for (size_t i = 0; i < shown; i++) {
		const struct ct_flow *f = &set->v[i];
		const char *nat = nat_kind(f), *detail = sock_outcome_detail(&f->s);
		char mark[16], more[64] = "", natcell[16] = "";
		int len;

		original_ends(o, sizeof(o), f);
		reply_ends(r, sizeof(r), f);
		snprintf(mark, sizeof(mark), "0x%" PRIx32, f->s.mark);
		sock_format_duration(t, sizeof(t), f->timeout_s * 1000U);
		if (extra)
			snprintf(more, sizeof(more), " %-10s %-5u %-7s", mark, f->zone, t);
		if (natcol)
			snprintf(natcell, sizeof(natcell), "  %-9s", nat ? nat : "-");
		len = snprintf(line, sizeof(line), "%-5s %-11s %-*s  %-*s%s%s", f->s.protocol ==
			       IPPROTO_UDP ? "udp" : "tcp", forward_flow_state(f), wo, o, wr, r,
			       natcell, more);
		if (outcomes && len > 0 && (size_t)len < sizeof(line))
			snprintf(line + len, sizeof(line) - (size_t)len, " %s%s%s%s",
				 sock_outcome_name(f->s.outcome), detail ? "(" : "",
				 detail ? detail : "", detail ? ")" : "");
		put_row(out, line, cols);
	}
	if (shown < set->n)
		fprintf(out, "... %zu more; --dry-run -j or a pipe shows all\n", set->n - shown);
}

static void endpoint(struct json *j, const char *key, int family, const uint32_t addr[4],
		     uint16_t port)
{
	char a[64];

	sock_format_addr(a, sizeof(a), family, addr);
	json_obj_begin(j, key);
	json_str(j, "addr", a);
	json_uint(j, "port", port);
	json_obj_end(j);
}

void forward_flow_json(struct json *j, const char *key, const struct sock_rec *rec,
		       bool with_outcome)
{
	const struct ct_flow *f = ct_flow_of(rec);
	const char *nat = nat_kind(f);
	char cookie[20];

	json_obj_begin(j, key);
	/* The audit's results name what they report on by cookie: here the conntrack id's. */
	snprintf(cookie, sizeof(cookie), "%" PRIx64, sock_cookie(rec));
	json_str(j, "cookie", cookie);
	json_str(j, "source", "conntrack");
	json_uint(j, "conntrack_id", f->id);
	json_str(j, "protocol", rec->protocol == IPPROTO_UDP ? "udp" : "tcp");
	json_str(j, "family", rec->family == AF_INET ? "inet" : "inet6");
	/* The TCP state word conntrack's state maps to (null where none does), and its own. */
	json_str(j, "state", rec->state ? sock_state_name(rec->state) : NULL);
	json_str(j, "ct_state", forward_flow_state(f));
	json_obj_begin(j, "original");
	endpoint(j, "src", rec->family, rec->id.idiag_src, sock_sport(rec));
	endpoint(j, "dst", rec->family, rec->id.idiag_dst, sock_dport(rec));
	json_obj_end(j);
	json_obj_begin(j, "reply");
	endpoint(j, "src", rec->family, f->reply_src, f->reply_sport);
	endpoint(j, "dst", rec->family, f->reply_dst, f->reply_dport);
	json_obj_end(j);
	json_str(j, "nat", nat);
	json_uint(j, "mark", rec->mark);
	json_uint(j, "zone", f->zone);
	json_uint(j, "timeout_s", f->timeout_s);
	if (with_outcome || rec->outcome == OUT_SKIPPED) {
		json_str(j, "outcome", sock_outcome_name(rec->outcome));
		json_str(j, "error", sock_outcome_detail(rec));
		json_str(j, "engine", "conntrack");
	}
	json_obj_end(j);
}

void forward_json(FILE *out, const struct ct_set *set, const struct forward_report *rep)
{
	struct json j;

	json_init(&j, out);
	json_obj_begin(&j, NULL);
	json_uint(&j, "schema", OUTPUT_SCHEMA);
	json_str(&j, "mode", rep->mode);
	json_str(&j, "source", "conntrack");
	json_str(&j, "selector", rep->selector);
	json_arr_begin(&j, "flows");
	for (size_t i = 0; i < set->n; i++)
		forward_flow_json(&j, NULL, &set->v[i].s, rep->counts != NULL);
	json_arr_end(&j);
	json_obj_begin(&j, "summary");
	json_uint(&j, "selected", set->n);
	if (rep->counts)
		for (unsigned o = OUT_KILLED; o < OUT_MAX; o++)
			json_uint(&j, sock_outcome_name(o), rep->counts[o]);
	json_uint(&j, "exit_status", (unsigned)rep->exit_status);
	json_double(&j, "elapsed_ms", rep->elapsed_ms, 3);
	json_obj_end(&j);
	json_obj_end(&j);
	fputc('\n', out);
}

int forward_explain(FILE *f, const struct config *cfg)
{
	char text[4096], shown[4 * sizeof(text)];

	selector_format(cfg->ast, text, sizeof(text));
	/* Values came from the command line, maybe pasted from a hostile name. */
	text_escape(shown, sizeof(shown), text, strlen(text));
	if (cfg->json) {
		struct json j;

		json_init(&j, f);
		json_obj_begin(&j, NULL);
		json_str(&j, "selector", cfg->ast ? shown : NULL);
		json_str(&j, "source", "conntrack");
		json_str(&j, "netns", cfg->netns);
		json_bool(&j, "udp", selector_names_udp(cfg->ast));
		json_obj_end(&j);
		fputc('\n', f);
		return 0;
	}
	fprintf(f, "selector:   %s\n", cfg->ast ? shown : "(empty: every flow, with --all)");
	fprintf(f, "source:     conntrack (one ctnetlink dump of IPv4 and IPv6 entries%s), every "
		   "entry judged in user space\n", cfg->netns ? " in the --netns namespace" : "");
	fprintf(f, "protocols:  tcp%s\n", selector_names_udp(cfg->ast) ? ", udp" : " (udp when "
		   "the selector names it)");
	return 0;
}

static int say_open_error(int err)
{
	fprintf(stderr, "sockreap: cannot read conntrack: %s%s; nothing killed\n", strerror(-err),
		err == -EPERM || err == -EACCES ? " (needs CAP_NET_ADMIN)"
		: err == -EPROTONOSUPPORT || err == -ENOENT
			? " (is nf_conntrack_netlink loaded? 'sockreap doctor' checks)" : "");
	return err == -ENOMEM ? EXIT_ERROR : EXIT_PRIV;
}

/* 1. Refusals that need no kernel, then the namespace and the ctnetlink handle. */
static int fwd_prepare(struct fwd_run *r)
{
	const struct config *cfg = r->cfg;
	struct sel_prefilter pf;
	int ret;

	if ((!cfg->ast || selector_only_netns(cfg->ast)) && !cfg->all) {
		fprintf(stderr, "sockreap: refusing to select every forwarded flow: give a "
				"selector, or --all to mean it\nTry 'sockreap --help'.\n");
		return EXIT_GUARD;
	}
	selector_prefilter(cfg->ast, &pf);
	if (cfg->netns) {
		ret = netns_enter(NULL, cfg->netns, cfg->netns_by_pid, &r->netns);
		if (ret < 0) {
			char shown[4 * PATH_MAX];

			/* A name may hold anything, escape codes too: never raw to a terminal. */
			text_escape(shown, sizeof(shown), cfg->netns, strlen(cfg->netns));
			fprintf(stderr, "sockreap: cannot enter the network namespace of %s \"%s\": "
					"%s; nothing killed\n", cfg->netns_by_pid ? "--netns-of"
					: "--netns", shown, strerror(-ret));
			return ret == -EPERM || ret == -EACCES ? EXIT_PRIV : EXIT_USAGE;
		}
		r->in_netns = &r->netns;
		/* The --netns atom is the scope just entered: every flow read lives there. */
		selector_netns_bind(cfg->ast, &r->netns.inode, 1);
	}
	ret = conntrack_open(&r->ct);
	if (ret < 0)
		return say_open_error(ret);
	if (!cfg->dry_run && pf.tcp) {
		const char *what;

		ret = rawio_open(&r->raw, &what);
		if (ret < 0) {
			fprintf(stderr, "sockreap: cannot open a %s to reset forwarded TCP flows: %s%s; "
					"nothing killed\n", what, strerror(-ret),
				ret == -EPERM ? " (needs CAP_NET_RAW)" : "");
			return ret == -ENOMEM ? EXIT_ERROR : EXIT_PRIV;
		}
	}
	selector_format(cfg->ast, r->selector, sizeof(r->selector));
	r->confirming = !cfg->dry_run && !cfg->yes && isatty(STDIN_FILENO);
	return RUN_ON;
}

/*
 * A flow that begins here (original source) or ends here (the destination really reached:
 * the reply's source) has a socket here, not only an entry: the operator's own SSH session to
 * a router is one. Those are sockreap's without --forwarded, never this mode's.
 */
static bool ends_here(const struct localaddr *l, const struct ct_flow *f)
{
	return localaddr_has(l, f->s.family, f->s.id.idiag_src) ||
	       localaddr_has(l, f->s.family, f->reply_src);
}

/*
 * 2. Every entry read, judged by the selector; UDP only where the selector names it; flows
 * with an end here left out.
 */
static int fwd_collect(struct fwd_run *r)
{
	const struct config *cfg = r->cfg;
	struct ct_set all = { 0 };
	struct localaddr here;
	bool udp = selector_names_udp(cfg->ast);
	size_t left = 0;
	struct timespec t;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t);
	ret = conntrack_dump(r->ct, &all);

	if (ret < 0) {
		ct_set_free(&all);
		return say_open_error(ret);
	}
	/* Without them no flow can be told from one that ends here: nothing is selected. */
	ret = localaddr_read(&here);
	if (ret < 0) {
		ct_set_free(&all);
		fprintf(stderr, "sockreap: cannot read this host's local routes: %s; nothing "
				"killed\n", strerror(-ret));
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < all.n; i++) {
		const struct ct_flow *f = &all.v[i];

		if (f->s.protocol == IPPROTO_UDP && !udp)
			continue;
		if (cfg->ast && selector_eval(cfg->ast, &f->s, NULL) != SEL_YES)
			continue;
		if (ends_here(&here, f)) {
			left++;
			continue;
		}
		if (ct_set_push(&r->plan, f) < 0) {
			localaddr_free(&here);
			ct_set_free(&all);
			fprintf(stderr, "sockreap: out of memory; nothing killed\n");
			return EXIT_ERROR;
		}
	}
	localaddr_free(&here);
	ct_set_free(&all);
	r->ms_dump = ms_since(&t);
	if (left)
		fprintf(stderr, "sockreap: %zu matching flow%s begin%s or end%s at this host, left out: "
				"%s sockets here (sockreap without --forwarded selects them)\n", left,
			left == 1 ? "" : "s", left == 1 ? "s" : "", left == 1 ? "s" : "",
			left == 1 ? "its" : "their");
	if (cfg->max >= 0 && r->plan.n > (size_t)cfg->max) {
		fprintf(stderr, "sockreap: %zu flows selected, more than --max %ld; nothing "
				"killed\n", r->plan.n, cfg->max);
		return EXIT_GUARD;
	}
	return RUN_ON;
}

/* 3. A dry run ends with the preview; a kill of nothing ends here too. */
static int fwd_show(struct fwd_run *r)
{
	const struct config *cfg = r->cfg;
	int status = r->plan.n ? EXIT_DONE : EXIT_NOMATCH;

	if (!cfg->dry_run && r->plan.n)
		return RUN_ON;
	if (cfg->json) {
		/* A kill of nothing has the same summary fields as any kill: 0s. */
		struct forward_report rep = { cfg->dry_run ? "dry-run" : "kill", r->selector,
					      cfg->dry_run ? NULL : r->counts, status,
					      ms_since(&r->t0) };

		forward_json(stdout, &r->plan, &rep);
	} else if (r->plan.n) {
		struct output_fit fit;

		output_screen(STDOUT_FILENO, &fit);
		forward_table(stdout, &r->plan, false, &fit);
	}
	fprintf(stderr, "sockreap: %zu forwarded flow%s selected (%srun %.1f ms: dump %.1f)\n",
		r->plan.n, r->plan.n == 1 ? "" : "s", cfg->dry_run ? "dry run: nothing killed; " : "",
		ms_since(&r->t0), r->ms_dump);
	return status;
}

/*
 * 4. No audit record, no kill; then only CAP_NET_ADMIN (ctnetlink deletes) is kept: the raw
 * and capture sockets are open already.
 */
static int fwd_arm(struct fwd_run *r)
{
	const struct config *cfg = r->cfg;
	static const int keep[] = { CAP_NET_ADMIN };

	if (!cfg->no_audit) {
		char why[PATH_MAX + 128];
		uid_t trusted = getauxval(AT_SECURE) ? 0 : getuid();

		if (audit_open(&r->audit, cfg->audit_path, trusted, why, sizeof(why)) < 0) {
			fprintf(stderr, "sockreap: cannot write audit log %s: %s; nothing killed\n",
				cfg->audit_path, why);
			return EXIT_GUARD;
		}
	} else if (!audit_syslog_reachable(&r->audit) && !cfg->yes) {
		fprintf(stderr, "sockreap: refused: no audit file (--no-audit) and no syslog daemon "
				"at %s: this kill would be recorded nowhere; nothing killed (--yes "
				"kills anyway)\n", r->audit.syslog_path);
		return EXIT_GUARD;
	}
	if (caps_keep_only(keep, 1) < 0) {
		fprintf(stderr, "sockreap: cannot drop capabilities; nothing killed\n");
		return EXIT_PRIV;
	}
	if (r->confirming) {
		struct output_fit fit;

		/* A plan of thousands at a glance before the question, not scrolled past it. */
		output_screen(STDERR_FILENO, &fit);
		forward_table(stderr, &r->plan, false, &fit);
		if (!output_confirm(stdin, stderr, r->plan.n, "forwarded flow")) {
			fprintf(stderr, "sockreap: not confirmed; nothing killed\n");
			return EXIT_GUARD;
		}
	}
	return RUN_ON;
}

/*
 * A UDP flow: its entry deleted by tuple and id, then looked up again. Gone, or the tuple now
 * names a newer entry (traffic made a fresh mapping): ours is dead.
 */
static void kill_udp(struct conntrack *c, struct ct_flow *f)
{
	struct ct_flow now;
	int ret = conntrack_delete(c, f);

	if (ret == -ENOENT) {
		ret = conntrack_get(c, f, &now);
		f->s.outcome = ret == -ENOENT ? OUT_GONE : ret == 0 && now.id != f->id ? OUT_CHANGED
										  : OUT_FAILED;
		f->s.err = ret < 0 && ret != -ENOENT ? SOCK_ERR_UNVERIFIED : ENOENT;
		return;
	}
	if (ret < 0) {
		f->s.outcome = ret == -EPERM || ret == -EACCES ? OUT_DENIED : OUT_FAILED;
		f->s.err = -ret;
		return;
	}
	ret = conntrack_get(c, f, &now);
	if (ret == -ENOENT || (ret == 0 && now.id != f->id)) {
		f->s.outcome = OUT_KILLED;
	} else {
		f->s.outcome = OUT_FAILED;
		f->s.err = ret ? SOCK_ERR_UNVERIFIED : SOCK_ERR_SURVIVED;
	}
}

/* 5. Intents recorded and synced, each flow killed and verified, results recorded. */
static int fwd_act(struct fwd_run *r)
{
	const struct config *cfg = r->cfg;
	struct audit_who who;
	struct timespec t0;
	int ret;

	audit_who_fill(&who);
	struct audit_run arun = { cfg->argc, cfg->argv, r->selector, "conntrack", r->plan.n, &who,
				  r->in_netns };

	audit_signals_hold(&r->held);
	audit_start(&r->audit, &arun);
	for (size_t i = 0; i < r->plan.n; i++)
		audit_intent(&r->audit, &r->plan.v[i].s, NULL);
	ret = audit_commit(&r->audit);
	if (ret < 0) {
		fprintf(stderr, "sockreap: cannot write audit log %s: %s; nothing killed\n",
			cfg->audit_path, strerror(-ret));
		return EXIT_GUARD;
	}
	audit_syslog_intent(&r->audit, &arun, cfg->no_audit ? NULL : cfg->audit_path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct ct_flow **tcp = calloc(r->plan.n, sizeof(*tcp));
	size_t ntcp = 0;

	for (size_t i = 0; i < r->plan.n; i++) {
		struct ct_flow *f = &r->plan.v[i];

		if (f->s.protocol == IPPROTO_UDP)
			kill_udp(r->ct, f);
		else if (tcp)
			tcp[ntcp++] = f;
		else {
			f->s.outcome = OUT_FAILED;
			f->s.err = ENOMEM;
		}
	}
	ret = ntcp ? forward_kill_tcp(r->ct, r->raw, tcp, ntcp) : 0;
	for (size_t i = 0; ret < 0 && i < ntcp; i++) {
		tcp[i]->s.outcome = OUT_FAILED;
		tcp[i]->s.err = -ret;
	}
	free(tcp);
	r->elapsed_ms = ms_since(&t0);
	struct plan_counts pc = { .total = r->plan.n };

	for (size_t i = 0; i < r->plan.n; i++) {
		pc.n[r->plan.v[i].s.outcome]++;
		audit_result(&r->audit, &r->plan.v[i].s);
	}
	memcpy(r->counts, pc.n, sizeof(r->counts));
	audit_summary(&r->audit, &pc, r->elapsed_ms);
	r->audit_err = audit_commit(&r->audit);
	audit_syslog(&r->audit, &arun, &pc, cfg->no_audit);
	if (r->audit_err < 0)
		audit_syslog_missing(&r->audit, cfg->audit_path, r->plan.n, r->audit_err);
	r->signal = audit_signals_release(&r->held);
	return RUN_ON;
}

/* Why flows were not killed: one line per reason, with how many. */
static void explain_failures(const struct ct_set *set)
{
	static const struct {
		int err;
		const char *why;
	} whys[] = {
		{ SOCK_ERR_NO_REPLY, "no-reply: neither end answered our probes (both gone, or a "
				     "firewall in between drops them); nothing was sent to either end" },
		{ SOCK_ERR_UNVERIFIED, "unverified: a reset did not leave translated (conntrack "
				       "refused it as inexact: data still in flight?), or the entry "
				       "could not be looked up; the entry was left in place" },
		{ SOCK_ERR_SURVIVED, "still-present: the entry is still there (not in CLOSE, or "
				     "not deleted)" },
		{ SOCK_ERR_RST_STATE, "rst-cannot-reach-state: a flow that is still opening "
				      "(syn-sent, syn-recv, none) draws no challenge ACK" },
		{ SOCK_ERR_FIREWALL, "firewall: sending the probe was refused here (EPERM)" },
	};

	for (size_t k = 0; k < sizeof(whys) / sizeof(whys[0]); k++) {
		size_t n = 0;

		for (size_t i = 0; i < set->n; i++)
			n += set->v[i].s.err == whys[k].err && set->v[i].s.outcome != OUT_KILLED;
		if (n)
			fprintf(stderr, "sockreap: %zu %s\n", n, whys[k].why);
	}
}

/* 6. Outcomes and the exit status they earn. */
static int fwd_report(struct fwd_run *r)
{
	const struct config *cfg = r->cfg;
	struct plan_counts pc = { .total = r->plan.n };
	const char *sep = "";

	memcpy(pc.n, r->counts, sizeof(pc.n));
	int status = r->signal ? 128 + r->signal
		     : r->audit_err < 0 ? EXIT_PARTIAL : (int)plan_exit_status(&pc);

	if (cfg->json) {
		struct forward_report rep = { "kill", r->selector, r->counts, status,
					      r->elapsed_ms };

		forward_json(stdout, &r->plan, &rep);
	} else {
		struct output_fit fit;

		output_screen(STDOUT_FILENO, &fit);
		forward_table(stdout, &r->plan, true, &fit);
	}
	fprintf(stderr, "sockreap: %zu forwarded flow%s selected: ", r->plan.n,
		r->plan.n == 1 ? "" : "s");
	for (unsigned o = OUT_KILLED; o < OUT_MAX; o++) {
		if (!r->counts[o] && o != OUT_KILLED)
			continue;
		fprintf(stderr, "%s%zu %s", sep, r->counts[o], sock_outcome_name(o));
		sep = ", ";
	}
	/* As for sockets: the whole run's time and its phases, not only the kill's. */
	fprintf(stderr, " (run %.1f ms: dump %.1f, kill %.1f)\n", ms_since(&r->t0), r->ms_dump,
		r->elapsed_ms);
	if (r->counts[OUT_DENIED])
		fprintf(stderr, "sockreap: deleting conntrack entries needs CAP_NET_ADMIN over "
				"the namespace\n");
	explain_failures(&r->plan);
	if (r->audit_err < 0)
		fprintf(stderr, "sockreap: audit log %s: the results could not be written (%s)\n",
			cfg->audit_path, strerror(-r->audit_err));
	return status;
}

int forward_run(const struct config *cfg)
{
	struct fwd_run r = { .cfg = cfg };
	int (*const stages[])(struct fwd_run *) = { fwd_prepare, fwd_collect, fwd_show, fwd_arm,
						    fwd_act, fwd_report };
	int status = RUN_ON;

	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	audit_init(&r.audit);
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]) && status == RUN_ON; i++)
		status = stages[i](&r);
	if (r.held.held) {
		int late = audit_signals_release(&r.held);

		if (late)
			status = 128 + late;
	}
	audit_close(&r.audit);
	rawio_close(r.raw);
	conntrack_close(r.ct);
	ct_set_free(&r.plan);
	return status;
}
