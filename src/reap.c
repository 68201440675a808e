// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pipeline, in one direction, as stages over one run context: prepare (guards on the
 * command, engine, capabilities) -> collect (dump, evaluate, owners) -> show (the preview is
 * the plan) -> arm (audit file, the engine's capabilities only, confirm) -> act (intents,
 * engine, verification, results) -> report (outcomes, exit status). The kill acts on exactly
 * the records the preview showed.
 */
#include "reap.h"
#include "audit.h"
#include "audit_pipe.h"
#include "caps.h"
#include "closefd.h"
#include "diag.h"
#include "engine.h"
#include "groupby.h"
#include "forward.h"
#include "netns.h"
#include "nsdisc.h"
#include "workers.h"
#include "output.h"
#include "plan.h"
#include "planfile.h"
#include "procmap.h"
#include "rawio.h"
#include "taskfiles.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Progress on a terminal's stderr for a run that has taken over a second: one line, redrawn
 * in place ("\r", erase to the end), erased before anything else is written.
 */
struct progress {
	bool tty;		/* stderr is a terminal (and not --json's pipe) */
	bool drawn;		/* a line is on the screen */
	const struct timespec *t0;
	size_t seen;		/* records the dump returned */
	double after_ms;	/* how long a run goes before the first line */
};

#define PROGRESS_AFTER_MS 1000.0

static double ms_since(const struct timespec *t0);

/*
 * PROGRESS_AFTER_MS; the test build (SOCKREAP_TESTING: tests/integration/test_glance.sh) lets
 * SOCKREAP_TEST_PROGRESS_MS shorten it, so that a test need not make a run last a second.
 */
static double progress_after_ms(void)
{
#ifdef SOCKREAP_TESTING
	const char *e = secure_getenv("SOCKREAP_TEST_PROGRESS_MS");

	if (e && *e)
		return strtod(e, NULL);
#endif
	return PROGRESS_AFTER_MS;
}

static void progress_clear(struct progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

static void progress_say(struct progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void progress_say(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->tty || ms_since(p->t0) < p->after_ms)
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	p->drawn = true;
}

struct dump_ctx {
	const struct sel_node *ast;
	const struct plan_guards *guards;
	struct sock_set *set;
	size_t skipped_self, skipped_unsure;
	uint16_t netns;		/* the index records of this dump get */
	struct progress *progress;	/* NULL: none */
};

static int admit(const struct sock_rec *rec, void *arg)
{
	struct dump_ctx *c = arg;
	struct sock_rec tagged;

	/* The netns predicate reads the index: tagged before anything evaluates (diag: 0). */
	if (c->netns) {
		tagged = *rec;
		tagged.netns = c->netns;
		rec = &tagged;
	}
	/* Every 16,384 records: a clock read is cheap, a line per record is not. */
	if (c->progress && !(++c->progress->seen & 16383))
		progress_say(c->progress, "sockreap: dump: %zu sockets read, %zu selected",
			     c->progress->seen, c->set->n);
	/* Kernel-known fields first; owner predicates stay UNKNOWN until /proc is read. */
	if (c->ast && selector_eval(c->ast, rec, NULL) == SEL_NO)
		return 0;
	switch (plan_admit(c->guards, rec)) {
	case SKIP_LISTEN:
		return 0;
	case SKIP_SELF:
		c->skipped_self++;
		return 0;
	case SKIP_SELF_UNSURE:
		c->skipped_unsure++;
		return 0;
	case ADMIT:
		break;
	}
	return sock_set_push(c->set, rec);
}

/*
 * A kernel that refuses our bytecode (EINVAL, before sending anything) still gets asked:
 * without it, the whole selector runs in user space.
 */
static int dump_family(struct diag *d, struct diag_filter *flt, struct dump_ctx *dc)
{
	size_t before = dc->set->n;
	int ret = diag_dump(d, flt, admit, dc);

	if (ret == -EINVAL && flt->bclen) {
		fprintf(stderr, "sockreap: warning: the kernel refused the port/address prefilter; "
				"filtering in user space\n");
		dc->set->n = before;
		flt->bclen = 0;
		ret = diag_dump(d, flt, admit, dc);
	}
	return ret;
}

/* Reverses v[i, j). */
static void reverse(struct sock_rec *v, size_t i, size_t j)
{
	while (i + 1 < j) {
		struct sock_rec t = v[i];

		v[i++] = v[--j];
		v[j] = t;
	}
}

/* Moves the skipped records behind the rest, both in their order, without a second array. */
static size_t partition_skipped(struct sock_rec *v, size_t n)
{
	if (n < 2)
		return n == 1 && v[0].outcome != OUT_SKIPPED;
	size_t h = n / 2, a = partition_skipped(v, h), b = partition_skipped(v + h, n - h);

	/* [a, h) skipped, [h, h + b) planned: swap the two blocks by three reversals. */
	if (a < h && b) {
		reverse(v, a, h);
		reverse(v, h, h + b);
		reverse(v, a, h + b);
	}
	return a + b;
}

/*
 * Keeps the records the full selector matches, now that owners are known. A record whose
 * match depends on an owner that could not be read (UNKNOWN) is never killed: it stays in the
 * plan as skipped, behind the others, so that it is shown, audited and counted. Returns how
 * many records are to be acted on (the first ones).
 */
static size_t filter_owned(struct sock_set *set, const struct sel_node *ast,
			   const struct sel_owner_ctx *owners)
{
	size_t w = 0;

	for (size_t i = 0; i < set->n; i++) {
		enum sel_result r = selector_eval(ast, &set->v[i], owners);

		if (r == SEL_NO)
			continue;
		if (w != i)
			set->v[w] = set->v[i];
		if (r == SEL_UNKNOWN) {
			set->v[w].outcome = OUT_SKIPPED;
			set->v[w].err = SOCK_ERR_OWNER_UNKNOWN;
		}
		w++;
	}
	set->n = w;
	/* Nothing skipped (the usual case): nothing to move, and no pass of log n depth. */
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].outcome == OUT_SKIPPED)
			return partition_skipped(set->v, set->n);
	return set->n;
}

/*
 * Before the dump: the owner lookup's state, with its BPF iterator loaded when the lookup
 * will be a full scan (not scoped by pid). Returns 0 or -ENOMEM.
 */
static int prepare_owners(const struct sel_node *ast, struct procmap **pm, bool load)
{
	int32_t *pids = NULL;
	int npids = selector_pid_scope(ast, &pids);
	struct sel_prefilter pf;

	free(pids);
	*pm = procmap_new(NULL);
	if (!*pm)
		return -ENOMEM;
	procmap_workers(*pm, workers_available());
	procmap_allow_bpf(*pm, true);
	/* Walked during the dump (see stage_collect): only the states the dump asks for. */
	if (!selector_needs_owners(ast)) {
		selector_prefilter(ast, &pf);
		procmap_bpf_states(*pm, pf.states);
	}
	if (npids < 0 && load)
		procmap_open_bpf(*pm);
	return 0;
}

/*
 * Reads the owners of the records in set (only the named pids' fd tables when that decides
 * exactly) and keeps what the whole selector matches: *nplan gets how many are to be acted on,
 * the skipped ones follow. An unreadable /proc is a warning: every owner is then unknown.
 */
static void resolve_owners(const struct sel_node *ast, struct sock_set *set, struct procmap *pm,
			   struct sel_owner_ctx *ctx, size_t *nplan)
{
	int32_t *pids = NULL;
	int npids = selector_pid_scope(ast, &pids), ret;

	ret = procmap_resolve(pm, set, pids, npids);
	free(pids);
	if (ret < 0)
		fprintf(stderr, "sockreap: warning: cannot read /proc: %s; owners unknown\n",
			strerror(-ret));
	procmap_owner_ctx(pm, ctx);
	*nplan = ast ? filter_owned(set, ast, ctx) : set->n;
}

/* Why some sockets were left alone, and what would let us decide. */
static void explain_skipped(size_t n, const char *why)
{
	if (!n)
		return;
	if (why && !strcmp(why, "hidepid"))
		fprintf(stderr, "sockreap: %zu socket%s skipped: whether the selector matches "
				"depends on owners that /proc (mounted with hidepid) hides from "
				"us; run as root or with CAP_SYS_PTRACE (or in the proc mount's "
				"gid= group) to see them\n", n, n == 1 ? "" : "s");
	else
		fprintf(stderr, "sockreap: %zu socket%s skipped: whether the selector matches "
				"depends on owners whose fds we may not read; run as root or with "
				"CAP_SYS_PTRACE to read their owners\n", n, n == 1 ? "" : "s");
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int report_kernel_error(const char *what, int err)
{
	enum exit_status st = plan_exit_for_error(err);

	if (err == -EPROTONOSUPPORT || err == -ENOENT)
		fprintf(stderr, "sockreap: %s: sock_diag is not available in this kernel (%s); "
				"nothing killed\n", what, strerror(-err));
	else
		fprintf(stderr, "sockreap: %s: %s; nothing killed\n", what, strerror(-err));
	return st;
}

/*
 * Which engine, and the capabilities it keeps: destroy needs CAP_NET_ADMIN, rst CAP_NET_RAW
 * (until its sockets are open), auto CAP_NET_ADMIN and, for its fallback, CAP_NET_RAW; auto
 * without CAP_NET_ADMIN is rst. keep gets what to hold until the engine runs.
 *
 * shutdown is refused nothing up front: pidfd_getfd needs PTRACE_MODE_ATTACH over each owner
 * (CAP_SYS_PTRACE, or the owner's real uid), so what it may not reach is denied per socket,
 * and its fallback (auto) does what CAP_NET_ADMIN and CAP_NET_RAW, if held, allow.
 */
static int choose_engine(const struct engine **engine, struct engine_ctx *ctx, int keep[3],
			 size_t *nkeep)
{
	bool admin = caps_have(CAP_NET_ADMIN), raw = caps_have(CAP_NET_RAW);
	static const int after_raw[] = { CAP_NET_ADMIN, CAP_SYS_PTRACE };

	if (*engine == &engine_shutdown) {
		keep[0] = CAP_NET_ADMIN;
		keep[1] = CAP_SYS_PTRACE;
		keep[2] = CAP_NET_RAW;
		*nkeep = 3;
		ctx->raw_allowed = raw;
		ctx->keep_caps = after_raw;
		ctx->nkeep_caps = 2;
		return 0;
	}

	if (*engine == &engine_auto && !admin && raw) {
		fprintf(stderr, "sockreap: no CAP_NET_ADMIN: using the rst engine\n");
		*engine = &engine_rst;
	}
	if ((*engine != &engine_rst && !admin) || (*engine == &engine_rst && !raw)) {
		const char *cap = *engine == &engine_rst ? "CAP_NET_RAW" : "CAP_NET_ADMIN";

		fprintf(stderr, "sockreap: killing sockets with the %s engine needs %s, which this "
				"process does not have; nothing killed\n"
				"  run it as root (sudo sockreap ...), or install it for a group of "
				"operators as PRIVILEGES in sockreap(8) says\n"
				"  (--dry-run works without it)\n", (*engine)->name, cap);
		return EXIT_PRIV;
	}
	keep[0] = CAP_NET_ADMIN;
	keep[1] = CAP_NET_RAW;
	ctx->raw_allowed = raw && *engine != &engine_destroy;
	*nkeep = *engine == &engine_rst ? 0 : *engine == &engine_auto && ctx->raw_allowed ? 2 : 1;
	/* Once the raw sockets are open only CAP_NET_ADMIN is of use (auto). */
	ctx->keep_caps = after_raw;
	ctx->nkeep_caps = *engine == &engine_rst ? 0 : 1;
	return 0;
}

/* One line per kind of failure, with what to do about it. */
static void explain_failures(const struct sock_set *set, const struct engine *engine)
{
	size_t n[7] = { 0 }, peers = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct sock_rec *r = &set->v[i];

		peers += !!(r->flags & SOCK_F_PEER_RESET);

		if (r->outcome == OUT_UNSUPPORTED && r->engine == SOCK_ENGINE_DESTROY)
			n[0]++;
		else if (r->err == SOCK_ERR_RFC1337)
			n[1]++;
		else if (r->err == SOCK_ERR_FIREWALL)
			n[2]++;
		else if (r->err == SOCK_ERR_NO_REPLY)
			n[3]++;
		else if (r->err == SOCK_ERR_RST_STATE)
			n[4]++;
		else if (r->err == SOCK_ERR_UNVERIFIED)
			n[5]++;
		else if (r->err == SOCK_ERR_SIBLING)
			n[6]++;
	}
	if (n[0])
		fprintf(stderr, "sockreap: this kernel cannot destroy %zu socket%s "
				"(CONFIG_INET_DIAG_DESTROY?)%s\n", n[0], n[0] == 1 ? "" : "s",
			engine == &engine_destroy ? "; --engine rst can reset them" : "");
	if (n[1])
		fprintf(stderr, "sockreap: %zu TIME_WAIT socket%s left alone: net.ipv4.tcp_rfc1337=1 "
				"makes TIME_WAIT ignore resets (sysctl -w net.ipv4.tcp_rfc1337=0, "
				"or --engine destroy)\n", n[1], n[1] == 1 ? "" : "s");
	if (n[2])
		fprintf(stderr, "sockreap: %zu socket%s could not be probed: every probe was refused "
				"on the way out (EPERM) by a firewall rule in an output chain "
				"(anti-spoofing, or 'ct state invalid drop' refusing them all); allow "
				"segments to local addresses from the peers, or use --engine destroy\n",
			n[2], n[2] == 1 ? "" : "s");
	if (n[3])
		fprintf(stderr, "sockreap: %zu socket%s never answered a probe (a firewall on the "
				"input path, or another host's address?)\n", n[3],
			n[3] == 1 ? "" : "s");
	if (n[4])
		fprintf(stderr, "sockreap: the rst engine cannot reach %zu socket%s (listen, "
				"syn-sent, syn-recv and UDP need --engine destroy)\n", n[4],
			n[4] == 1 ? "" : "s");
	if (n[5])
		fprintf(stderr, "sockreap: %zu socket%s could not be verified: the kill may or may "
				"not have taken (look with ss, or run sockreap again)\n", n[5],
			n[5] == 1 ? "" : "s");
	/* Not a failure, but not a verified kill either: say which it is. */
	if (peers)
		fprintf(stderr, "sockreap: %zu peer end%s on other hosts %s sent a reset; nothing "
				"here can verify %s\n", peers, peers == 1 ? "" : "s",
			peers == 1 ? "was" : "were", peers == 1 ? "it" : "them");
	if (n[6])
		fprintf(stderr, "sockreap: %zu socket%s share%s a port (SO_REUSEPORT) with sockets not "
				"selected, which the kernel's lookup finds instead; select the whole "
				"group to kill it\n", n[6], n[6] == 1 ? "" : "s", n[6] == 1 ? "s" : "");
}

/*
 * What the stages before acting may use: CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to read other
 * users' /proc/PID/fd, CAP_NET_ADMIN for marks and destroys, CAP_NET_RAW for the rst engine's
 * sockets, CAP_DAC_OVERRIDE to open the audit file in a setcap install (PRIVILEGES in the man
 * page), and, until the dump starts, CAP_BPF and CAP_PERFMON to load the owner lookup's
 * task_file iterator (reading it later needs none). Everything else a root caller holds is
 * dropped first thing; only what is held is kept (a setcap install gains nothing).
 */
static const int early_caps[] = { CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
				   CAP_DAC_OVERRIDE, CAP_BPF, CAP_PERFMON };
/* early_caps without the BPF loader's last two. */
#define AFTER_OWNERS_CAPS (sizeof(early_caps) / sizeof(early_caps[0]) - 2)

/*
 * The owner walk's thread, once it has loaded the iterator: capabilities are per thread, so
 * it drops to what this one keeps after loading (and if it cannot, it holds no more than it
 * was started with, and is joined before any prompt: owners are resolved before the preview).
 */
static void drop_loader_caps(void *arg)
{
	(void)arg;
	caps_keep_only(early_caps, AFTER_OWNERS_CAPS);
}

/*
 * What a run opens inside each namespace it visits besides the sock_diag handle, while setns
 * is still allowed: sockets stay bound to the namespace they were made in.
 */
struct ns_act {
	struct rawio *raw;	/* the rst engine's sockets; NULL: not wanted, or raw_err */
	int raw_err;		/* why they could not be opened */
	int rfc1337;		/* its net.ipv4.tcp_rfc1337 (a per-namespace sysctl); -1 unknown */
	int lock;		/* an unbound unix socket for its run lock; -1: none */
};

/* What one run carries from stage to stage. */
struct run {
	const struct config *cfg;
	const struct engine *engine;
	struct engine_ctx ectx;
	int keep_caps[4];	/* what the engine keeps (choose_engine), and CAP_SYS_PTRACE */
	size_t nkeep;
	int engine_caps[4];	/* the engine's own keep set, with CAP_SYS_PTRACE (keep_ptrace) */
	struct closefd_set fds;	/* --close-fd: every owner's descriptor, once acted on */
	size_t fds_closed;
	double ms_close;
	bool confirming;	/* a kill that asks on the terminal */
	char selector[4096];	/* canonical form */
	struct plan_guards guards;
	struct diag *d;
	struct sel_prefilter pf;
	struct diag_filter scope;	/* the prefilter's bytecode, for verification */
	struct sock_set set;	/* v[0..nplan) to act on, then the skipped */
	size_t nplan;
	struct procmap *pm;
	struct sel_owner_ctx owner_ctx;
	const struct sel_owner_ctx *owners;	/* NULL: owners not looked up */
	struct audit audit;
	struct audit_pipe pipe;	/* the intents, written while the destroys run */
	struct audit_signals held;
	struct plan_counts counts;
	double elapsed_ms;
	int audit_err;		/* results or summary not written */
	int intents_err;	/* intents not all written (the pipeline's; acted only on those) */
	int signal;		/* held during the kill, acted on after the report */
	int lock;		/* engine_exclusive's descriptor, -1: none */
	struct netns_info netns;	/* --netns/--netns-of: where the run acts */
	const struct netns_info *in_netns;	/* &netns once entered; NULL: where we started */
	/*
	 * Several namespaces (cli_many_netns): the ones visited, and a sock_diag handle opened
	 * inside each (NULL: it could not be entered); records carry their index. Empty: one.
	 */
	struct netns_list visit;
	struct diag **nsd;
	struct ns_act *nsx;	/* per namespace visited, next to nsd */
	bool ns_rst;		/* open the rst engine's sockets in each namespace */
	uint64_t home;		/* the inode of the namespace we started in */
	size_t named_unopened;	/* named namespaces that could not even be opened (not in visit) */
	struct timespec t0;	/* when the run began: the summary's whole time */
	double ms_dump, ms_owners;	/* the phases before the kill (elapsed_ms is the kill's) */
	struct progress progress;
	bool owner_note_said;	/* "? = owners unknown" is said once a run */
	/*
	 * The one-pass discovery (several namespaces): per namespace, sockstat and sockstat6
	 * opened inside it (-1: none) and their counts then; the BPF pass's descriptor (-1:
	 * none).
	 */
	int (*sockstat)[2];
	size_t sockstat_max;	/* namespaces the fd limit leaves room to open them for */
	struct nsdisc_inuse *inuse;
	int disc_iter;
	/*
	 * --apply: the plan read back, and its sockets that are not there any more (gone,
	 * changed), kept behind the ones to act on in set: counted, shown and audited, never
	 * acted on.
	 */
	struct planfile plan;
	bool plan_listen;	/* the plan's selector named listen */
	bool plan_ns_gone;	/* the plan's namespace is not found again */
	bool plan_many;		/* the plan's sockets live in several namespaces: visit lists them */
	size_t plan_missing;
	struct audit_plan audit_plan;
};

/* A stage's "carry on"; anything else is the run's exit status. */
#define RUN_ON (-1)

static size_t nskipped(const struct run *r)
{
	return r->set.n - r->nplan - r->plan_missing;
}

/*
 * Says why the namespace of --netns/--netns-of spec could not be opened or entered, and
 * what the run does about it (then); returns the exit status that failure earns.
 */
static int say_netns_error(const char *spec, bool by_pid, int ret, const char *then)
{
	const char *opt = by_pid ? "--netns-of" : "--netns";
	char shown[4 * PATH_MAX];

	text_escape(shown, sizeof(shown), spec, strlen(spec));
	if (ret == -ENOENT && by_pid)
		fprintf(stderr, "sockreap: %s %s: no such process; %s\n", opt, shown, then);
	else if (ret == -ENOENT && !strchr(spec, '/'))
		fprintf(stderr, "sockreap: %s \"%s\": no network namespace of that name in "
				"/run/netns; %s\n", opt, shown, then);
	else if (ret == -EINVAL)
		fprintf(stderr, "sockreap: %s \"%s\": not a network namespace%s; %s\n", opt, shown,
			strchr(spec, '/') ? " file" : " name", then);
	else if (ret == -EPERM || ret == -EACCES)
		fprintf(stderr, "sockreap: cannot enter the network namespace of %s \"%s\": %s "
				"(%s); %s\n", opt, shown, strerror(-ret),
			ret == -EPERM ? "needs CAP_SYS_ADMIN"
				      : "another user's process: needs root or CAP_SYS_PTRACE", then);
	else
		fprintf(stderr, "sockreap: cannot enter the network namespace of %s \"%s\": %s; "
				"%s\n", opt, shown, strerror(-ret), then);
	return ret == -EPERM || ret == -EACCES ? EXIT_PRIV
	       : ret == -ENOENT || ret == -EINVAL || ret == -ENAMETOOLONG ? EXIT_USAGE
										: EXIT_ERROR;
}

/*
 * --netns/--netns-of: this process moves into the namespace (setns, CAP_SYS_ADMIN) before any
 * netlink or raw socket is opened; mount namespace and /proc stay the host's.
 */
static int enter_netns(struct run *r)
{
	const struct config *cfg = r->cfg;
	int ret = netns_enter(NULL, cfg->netns, cfg->netns_by_pid, &r->netns);

	if (!ret) {
		r->in_netns = &r->netns;
		return RUN_ON;
	}
	return say_netns_error(cfg->netns, cfg->netns_by_pid, ret, "nothing killed");
}

/* "ns1", or "ino:4026532281" for a namespace without a name, for a message. */
static const char *ns_label(const struct netns_info *ns, char *buf, size_t size)
{
	if (ns->name[0])
		text_escape(buf, size, ns->name, strlen(ns->name));
	else
		snprintf(buf, size, "ino:%llu", (unsigned long long)ns->inode);
	return buf;
}

/*
 * The namespaces to visit: every one discovered (--all-netns), or the ones named, each once
 * (two names for one inode are one namespace). fds[i] gets an open descriptor for each
 * named one (-1 for discovered ones, opened later). Returns 0, or an exit status.
 */
static int list_namespaces(struct run *r, int **fds)
{
	const struct config *cfg = r->cfg;

	*fds = NULL;
	/* --apply: the plan's, listed already (plan_visit), each opened by its path. */
	if (r->plan_many) {
		*fds = malloc((r->visit.n ? r->visit.n : 1) * sizeof(**fds));
		if (!*fds)
			return EXIT_ERROR;
		for (size_t i = 0; i < r->visit.n; i++)
			(*fds)[i] = -1;
		return 0;
	}
	if (cfg->all_netns) {
		if (netns_discover(NULL, &r->visit) < 0)
			return EXIT_ERROR;
		/* Ours is found through /proc/self; an unreadable /proc would leave it out. */
		if (!netns_list_get(&r->visit, r->home))
			return EXIT_ERROR;
	}
	*fds = calloc(cfg->all_netns ? r->visit.n : cfg->nnetns, sizeof(**fds));
	if (!*fds)
		return EXIT_ERROR;
	for (size_t i = 0; i < cfg->nnetns; i++) {
		const struct cli_netns *c = &cfg->netns_v[i];
		struct netns_info info, *e;
		int fd = netns_open(NULL, c->spec, c->by_pid, &info);

		if (fd < 0) {
			say_netns_error(c->spec, c->by_pid, fd, "skipped");
			r->named_unopened++;
			continue;
		}
		size_t n = r->visit.n;

		e = netns_list_get(&r->visit, info.inode);
		if (!e) {
			close(fd);
			return EXIT_ERROR;
		}
		if (r->visit.n == n) { /* named twice */
			close(fd);
			continue;
		}
		*e = info;
		(*fds)[r->visit.n - 1] = fd;
	}
	if (cfg->all_netns)
		for (size_t i = 0; i < r->visit.n; i++)
			(*fds)[i] = -1;
	return 0;
}

/*
 * Two descriptors per namespace for the whole run: a soft limit of 1,024 (common under
 * systemd) would leave namespaces out past ~500, while the hard limit (20,000 here) allows
 * thousands. Nothing here uses select(), which cannot take descriptors past 1,023.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * What acting in namespace i will need, opened from inside it (the caller setns()ed there, or
 * it is ours): an unbound unix socket for the run lock and, when the rst engine may run, its
 * sockets and the namespace's tcp_rfc1337 (/proc/sys/net is the namespace of whoever opens
 * it). A failure leaves that part out with a line: its sockets then get an honest outcome
 * (denied, unsupported), not an abort.
 */
static void open_in_ns(struct run *r, size_t i, const char *label)
{
	struct ns_act *x = &r->nsx[i];
	const char *what = NULL;
	int ret;

	if (r->cfg->dry_run)
		return;
	ret = engine_lock_socket();
	if (ret < 0)
		fprintf(stderr, "sockreap: warning: network namespace %s: no socket for the run "
				"lock: %s\n", label, strerror(-ret));
	x->lock = ret;
	if (!r->ns_rst)
		return;
	if (engine_sysctl("/proc/sys/net/ipv4/tcp_rfc1337", &x->rfc1337) < 0)
		x->rfc1337 = -1;
	ret = rawio_open(&x->raw, &what);
	if (ret < 0) {
		fprintf(stderr, "sockreap: network namespace %s: cannot open the rst engine's %s: "
				"%s; its sockets will not be reset\n", label, what, strerror(-ret));
		x->raw_err = ret;
	}
}

/*
 * The one-pass discovery's iterator, for several namespaces and a selection it can prove
 * whole, unless a test asks for dumps (SOCKREAP_COLLECT=dump, or SOCKREAP_OWNERS=proc).
 * Loaded first thing, while CAP_BPF is held and before the namespaces' handles: libbpf reads
 * the kernel's BTF for it, ~12 MiB for a moment (then returned), and on top of 1,000
 * namespaces' handles that made the run's peak 19 MiB. The pass runs when it is read.
 */
static void disc_open(struct run *r)
{
	struct sel_prefilter pf;
	char why[160];

	selector_prefilter(r->cfg->ast, &pf);
	if (pf.tcp && nsdisc_states_provable(pf.states) && nsdisc_permitted(why, sizeof(why)))
		r->disc_iter = taskfiles_open_tcp(why, sizeof(why));
}

/*
 * Two more descriptors per namespace until the pass is over, on top of what each holds for
 * the run (sock_diag's two, a kill's lock, rst's four): only as many namespaces as leave
 * those room get them (the rest are dumped). raise_fd_limit has run.
 */
static bool disc_alloc(struct run *r, size_t n)
{
	struct rlimit rl;
	size_t held = n * (2 + (r->cfg->dry_run ? 0 : 1) + (r->ns_rst ? 4 : 0)) + 256;

	r->sockstat_max = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > held)
		r->sockstat_max = rl.rlim_cur == RLIM_INFINITY ? n
							       : (size_t)(rl.rlim_cur - held) / 2;
	r->sockstat = malloc(n * sizeof(*r->sockstat));
	r->inuse = calloc(n, sizeof(*r->inuse));
	if (!r->sockstat || !r->inuse)
		return false;
	for (size_t i = 0; i < n; i++)
		r->sockstat[i][0] = r->sockstat[i][1] = -1;
	return true;
}

static void disc_free(struct run *r)
{
	for (size_t i = 0; r->sockstat && i < r->visit.n; i++)
		for (int k = 0; k < 2; k++)
			if (r->sockstat[i][k] >= 0)
				close(r->sockstat[i][k]);
	free(r->sockstat);
	free(r->inuse);
	r->sockstat = NULL;
	r->inuse = NULL;
	if (r->disc_iter >= 0)
		close(r->disc_iter);
	r->disc_iter = -1;
}

/*
 * Inside namespace i: its TCP counts now, and descriptors to read them again after the BPF
 * pass. /proc/thread-self/net is the namespace this thread is in when opened, and an open
 * sockstat stays bound to that namespace (single_open_net keeps its net). A failure leaves
 * the namespace to be dumped.
 */
static void open_sockstat(struct run *r, size_t i)
{
	static const char *const path[2] = { "/proc/thread-self/net/sockstat",
					     "/proc/thread-self/net/sockstat6" };

	if (!r->sockstat || i >= r->sockstat_max)
		return;
	for (int k = 0; k < 2; k++)
		r->sockstat[i][k] = open(path[k], O_RDONLY | O_CLOEXEC);
	if (r->sockstat[i][0] >= 0 && r->sockstat[i][1] >= 0)
		nsdisc_read_inuse(r->sockstat[i][0], r->sockstat[i][1], &r->inuse[i]);
}

/* Whether every namespace left out was left out because it is gone. */
static bool plan_all_gone(const struct run *r)
{
	for (size_t i = 0; i < r->visit.n; i++)
		if (r->visit.v[i].left_out != -ENOENT && r->visit.v[i].left_out != -ESTALE)
			return false;
	return true;
}

/*
 * Several namespaces: setns into each in turn and open its sock_diag handle there, then come
 * back. A netlink socket stays bound to the namespace it was created in, so the dump, the
 * destroys and their verification later need neither setns nor CAP_SYS_ADMIN, which is
 * dropped with the rest right after. A namespace that vanished, cannot be entered or has no
 * sock_diag gets one line and is left out; none at all is exit 4.
 *
 * Each handle holds two netlink sockets (dump, destroy) until the run ends: with the soft fd
 * limit raised to the hard one (20,000 here) that is ~10,000 namespaces; past it, EMFILE
 * leaves the rest out with a line each (the way out then: close each dump socket once its
 * namespace is collected, keep the destroy one).
 */
static int open_namespaces(struct run *r)
{
	struct stat st;
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), *fds = NULL, ret;
	size_t entered = 0;
	char label[4 * NAME_MAX + 32];

	if (home < 0 || fstat(home, &st) < 0) {
		fprintf(stderr, "sockreap: cannot open our own network namespace "
				"(/proc/self/ns/net): %s; nothing killed\n", strerror(errno));
		if (home >= 0)
			close(home);
		return EXIT_ERROR;
	}
	r->home = st.st_ino;
	raise_fd_limit();
	ret = list_namespaces(r, &fds);
	if (!ret && r->visit.n > UINT16_MAX + 1u) {
		fprintf(stderr, "sockreap: %zu network namespaces: more than one run can visit "
				"(%u); nothing killed\n", r->visit.n, UINT16_MAX + 1u);
		ret = EXIT_USAGE;
	}
	if (!ret && !(r->nsd = calloc(r->visit.n ? r->visit.n : 1, sizeof(*r->nsd))))
		ret = EXIT_ERROR;
	/* dev IFNAME: an index per namespace, looked up inside each below. */
	if (!ret && selector_dev_prepare(r->cfg->ast, r->visit.n) < 0)
		ret = EXIT_ERROR;
	if (!ret && !(r->nsx = calloc(r->visit.n ? r->visit.n : 1, sizeof(*r->nsx))))
		ret = EXIT_ERROR;
	for (size_t i = 0; !ret && i < r->visit.n; i++)
		r->nsx[i] = (struct ns_act){ NULL, 0, -1, -1 };
	if (!ret && r->disc_iter >= 0 && !disc_alloc(r, r->visit.n))
		ret = EXIT_ERROR;
	if (ret == EXIT_ERROR)
		fprintf(stderr, "sockreap: out of memory; nothing killed\n");
	for (size_t i = 0; !ret && i < r->visit.n; i++) {
		const struct netns_info *ns = &r->visit.v[i];
		int fd, err;

		/* Where we are needs no setns (nor CAP_SYS_ADMIN, which a dry run may lack). */
		if (ns->inode == r->home) {
			selector_dev_bind_here(r->cfg->ast, i);
			err = diag_open(&r->nsd[i]);
			ns_label(ns, label, sizeof(label));
			if (err < 0) {
				r->nsd[i] = NULL;
				r->visit.v[i].left_out = err;
				fprintf(stderr, "sockreap: network namespace %s: cannot open "
						"sock_diag: %s; skipped\n", label, strerror(-err));
			} else {
				open_in_ns(r, i, label);
				open_sockstat(r, i);
			}
			entered += err == 0;
			continue;
		}
		fd = fds[i] >= 0 ? fds[i] : netns_open_info(ns);
		fds[i] = -1;
		ns_label(ns, label, sizeof(label));
		if (fd < 0) {
			r->visit.v[i].left_out = fd;
			fprintf(stderr, "sockreap: network namespace %s: %s; skipped\n", label,
				fd == -ENOENT || fd == -ESTALE ? "gone since it was found"
							       : strerror(-fd));
			continue;
		}
		err = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
		close(fd);
		if (err) {
			r->visit.v[i].left_out = err;
			fprintf(stderr, "sockreap: cannot enter network namespace %s: %s%s; skipped\n",
				label, strerror(-err), err == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
			continue;
		}
		err = diag_open(&r->nsd[i]);
		selector_dev_bind_here(r->cfg->ast, i);
		if (!err) {
			open_in_ns(r, i, label);
			open_sockstat(r, i);
		}
		/* Never carry on in a namespace other than ours: the rest would act there. */
		if (setns(home, CLONE_NEWNET) < 0) {
			fprintf(stderr, "sockreap: cannot return to our own network namespace: %s; "
					"nothing killed\n", strerror(errno));
			ret = EXIT_ERROR;
			break;
		}
		if (err < 0) {
			fprintf(stderr, "sockreap: network namespace %s: cannot open sock_diag: %s; "
					"skipped\n", label, strerror(-err));
			r->nsd[i] = NULL;
			r->visit.v[i].left_out = err;
			continue;
		}
		entered++;
	}
	for (size_t i = 0; fds && i < r->visit.n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	close(home);
	/* --apply: namespaces that are gone took their sockets with them; that is an answer. */
	if (!ret && !entered && !(r->plan_many && plan_all_gone(r))) {
		fprintf(stderr, "sockreap: no network namespace could be entered; nothing killed\n");
		ret = EXIT_PRIV;
	}
	return ret ? ret : RUN_ON;
}

/*
 * Whether this kernel has SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY: the kernel's, the same in
 * every namespace). A destroy of a socket that cannot exist (port 0 to port 0, a cookie no
 * socket has) touches nothing: the kernel answers ENOENT from its lookup where it can destroy,
 * EOPNOTSUPP before any lookup where it cannot. Anything else counts as "has it".
 */
static bool destroy_supported(void)
{
	struct sock_rec rec, *p = &rec;
	struct diag *d;
	int err = 0, ret = diag_open(&d);

	if (ret < 0)
		return true;
	memset(&rec, 0, sizeof(rec));
	rec.family = AF_INET;
	rec.protocol = IPPROTO_TCP;
	/* Not INET_DIAG_NOCOOKIE (~0, ~0), which would skip the cookie check. */
	rec.id.idiag_cookie[0] = 0xfffffffe;
	rec.id.idiag_cookie[1] = 0xffffffff;
	ret = diag_destroy_batch(d, &p, 1, &err);
	diag_close(d);
	return ret != -EOPNOTSUPP && err != -EOPNOTSUPP;
}

/*
 * Several namespaces: a raw or packet socket acts in the namespace it was made in, so the rst
 * engine's are opened inside each namespace next to its sock_diag handle (open_in_ns), while
 * setns is allowed, and CAP_NET_RAW and CAP_SYS_ADMIN go before the prompt as in one
 * namespace; never in ours for another's sockets. rst opens them in every namespace visited;
 * auto only when this kernel cannot destroy (its fallback is for EOPNOTSUPP alone, a kernel
 * matter): elsewhere it keeps nothing for a fallback that cannot happen.
 */
static void many_netns_engine(struct run *r)
{
	bool falls_back = r->engine == &engine_auto || r->engine == &engine_shutdown;

	r->ns_rst = r->engine == &engine_rst ||
		    (falls_back && r->ectx.raw_allowed && !destroy_supported());
	r->ectx.raw_allowed = false;
	/* CAP_NET_ADMIN (and shutdown's CAP_SYS_PTRACE); the raw sockets are open by then. */
	if (falls_back)
		r->nkeep = r->engine == &engine_shutdown ? 2 : 1;
}

/*
 * `netns a or dport 443`: the branch `netns a` selects every socket in a, as `netns a` alone
 * would, and is refused the same way, naming the branch (a slip of "or" for "and" must not
 * empty a namespace).
 */
static int refuse_netns_branch(const struct sel_node *ast)
{
	bool neg = false;
	const struct sel_node *b = selector_netns_only_branch(ast, &neg);
	char text[1024], shown[4 * sizeof(text)];

	if (!b)
		return RUN_ON;
	selector_format(b, text, sizeof(text));
	/* Names come from the command line, maybe pasted from a hostile name. */
	text_escape(shown, sizeof(shown), text, strlen(text));
	fprintf(stderr, "sockreap: refusing to select every socket in a network namespace: the "
			"branch \"%s%s%s\" of the selector names nothing but namespaces; narrow "
			"it, or --all to mean it\nTry 'sockreap --help'.\n", neg ? "not (" : "",
		shown, neg ? ")" : "");
	return EXIT_GUARD;
}

/*
 * --apply over several namespaces: visit lists the plan's, in the plan's order (a socket's
 * netns index is the same in both), each found again by its inode; one that is gone stays
 * listed without a path, for open_namespaces to leave out and collect_plan to call its
 * sockets gone.
 */
static int plan_visit(struct run *r)
{
	struct netns_list l = { 0 };
	int ret = RUN_ON;

	if (r->plan.nnetns > UINT16_MAX + 1u || netns_discover(NULL, &l) < 0) {
		fprintf(stderr, "sockreap: out of memory; nothing killed\n");
		return EXIT_ERROR;
	}
	for (size_t k = 0; k < r->plan.nnetns && ret == RUN_ON; k++) {
		const struct netns_info *found = netns_list_find(&l, r->plan.netns[k]);
		struct netns_info *e = netns_list_get(&r->visit, r->plan.netns[k]);

		if (!e)
			ret = EXIT_ERROR;
		else if (found)
			*e = *found;
	}
	netns_list_free(&l);
	if (ret != RUN_ON)
		fprintf(stderr, "sockreap: out of memory; nothing killed\n");
	r->plan_many = true;
	return ret;
}

/*
 * --apply: the namespace a one-namespace plan was made in, found again by its inode and
 * entered (before any socket is opened, while CAP_SYS_ADMIN is held). One that is gone leaves
 * every socket of the plan gone. Several: plan_visit.
 */
static int plan_enter_netns(struct run *r)
{
	struct netns_list l = { 0 };
	const struct netns_info *ns;
	struct stat st;
	int fd, ret;

	if (r->plan.nnetns > 1)
		return plan_visit(r);
	if (!r->plan.nnetns || (stat("/proc/self/ns/net", &st) == 0 &&
				st.st_ino == r->plan.netns[0]))
		return RUN_ON;
	if (netns_discover(NULL, &l) < 0) {
		fprintf(stderr, "sockreap: out of memory; nothing killed\n");
		return EXIT_ERROR;
	}
	ns = netns_list_find(&l, r->plan.netns[0]);
	fd = ns ? netns_open_info(ns) : -ENOENT;
	if (fd == -ENOENT || fd == -ESTALE) {
		fprintf(stderr, "sockreap: --apply %s: network namespace ino:%llu is gone: its "
				"sockets with it\n", r->cfg->apply,
			(unsigned long long)r->plan.netns[0]);
		r->plan_ns_gone = true;
		netns_list_free(&l);
		return RUN_ON;
	}
	ret = fd < 0 ? fd : setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (!ret) {
		r->netns = *ns;
		r->in_netns = &r->netns;
	}
	netns_list_free(&l);
	if (!ret)
		return RUN_ON;
	fprintf(stderr, "sockreap: cannot enter the plan's network namespace ino:%llu: %s%s; "
			"nothing killed\n", (unsigned long long)r->plan.netns[0], strerror(-ret),
		ret == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	return ret == -EPERM || ret == -EACCES ? EXIT_PRIV : EXIT_ERROR;
}

/*
 * A setcap install's caller reads and writes plan files with the caller's own rights: the
 * install's CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE are there to read other processes' fds,
 * not to let --apply read (and quote back) root's files or --save-plan replace them.
 * Returns whether they were lowered (then caller_file_rights_end raises them again).
 */
static const int dac_caps[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };

static bool caller_file_rights_begin(void)
{
	if (!getauxval(AT_SECURE) || getuid() == 0)
		return false;
	return caps_effective(dac_caps, sizeof(dac_caps) / sizeof(dac_caps[0]), false) == 0;
}

static void caller_file_rights_end(bool lowered)
{
	if (lowered)
		caps_effective(dac_caps, sizeof(dac_caps) / sizeof(dac_caps[0]), true);
}

/*
 * --apply FILE: the plan read and checked before anything else; what it says replaces the
 * selector (its canonical text, whether it named listen) and, unless --engine, the engine.
 * Malformed JSON is a usage error (2); a document that is not a plan, is inconsistent, or is
 * for another host, another boot or too old is refused (5). Nothing is killed either way.
 */
static int plan_open(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct planfile_host here;
	struct sel_error err;
	struct sel_node *ast = NULL;
	struct timespec now;
	char why[512], shown[4 * PATH_MAX];
	bool lowered = caller_file_rights_begin();
	int ret = planfile_load(cfg->apply, &r->plan, why, sizeof(why));

	caller_file_rights_end(lowered);

	text_escape(shown, sizeof(shown), cfg->apply, strlen(cfg->apply));
	if (!ret) {
		planfile_host_fill(&here);
		clock_gettime(CLOCK_REALTIME, &now);
		ret = planfile_check(&r->plan, &here, now.tv_sec, cfg->max_age, why, sizeof(why));
	}
	memset(&err, 0, sizeof(err));
	if (!ret && !(ast = selector_parse(r->plan.selector, &err)) && err.msg[0]) {
		snprintf(why, sizeof(why), "its selector does not parse: %s", err.msg);
		ret = -EINVAL;
	}
	/* An entry its own selector excludes was added by hand: not what was reviewed. */
	if (!ret)
		ret = planfile_check_selector(&r->plan, ast, why, sizeof(why));
	if (ret < 0) {
		char w[4 * sizeof(why)];

		sel_node_free(ast);
		text_escape(w, sizeof(w), why, strlen(why));
		fprintf(stderr, "sockreap: --apply %s: %s%s; nothing killed\n", shown,
			ret == -EINVAL || ret == -EPERM || ret == -ELOOP ? "refused: " : "", w);
		return ret == -EINVAL || ret == -EPERM || ret == -ELOOP ? EXIT_GUARD
		       : ret == -ENOMEM		 ? EXIT_ERROR
						 : EXIT_USAGE;
	}
	r->plan_listen = ast && selector_names_listen(ast);
	sel_node_free(ast);
	snprintf(r->selector, sizeof(r->selector), "%s", r->plan.selector);
	if (!cfg->engine_given)
		r->engine = engine_find(r->plan.engine);
	r->audit_plan = (struct audit_plan){ r->plan.sha256, &r->plan.author, r->plan.file_uid };
	return plan_enter_netns(r);
}

/* The command's own guards, the engine and its capabilities, the self guard, sock_diag. */
static int stage_prepare(struct run *r)
{
	const struct config *cfg = r->cfg;
	int ret;

	if (cfg->apply && (ret = plan_open(r)) != RUN_ON)
		return ret;
	/* `netns a` alone (--netns a) selects every socket there: as empty as no selector. */
	if ((!cfg->ast || selector_only_netns(cfg->ast)) && !cfg->all && !cfg->apply) {
		fprintf(stderr, "sockreap: refusing to select every socket: give a selector, or "
				"--all to mean it\nTry 'sockreap --help'.\n");
		return EXIT_GUARD;
	}
	if (!cfg->all && (ret = refuse_netns_branch(cfg->ast)) != RUN_ON)
		return ret;
	/* Before the capabilities are dropped: setns needs CAP_SYS_ADMIN, kept for nothing else. */
	if (cfg->netns && (ret = enter_netns(r)) != RUN_ON)
		return ret;
	if (!cfg->dry_run) {
		ret = choose_engine(&r->engine, &r->ectx, r->keep_caps, &r->nkeep);
		if (ret)
			return ret;
		if (cli_many_netns(cfg) || r->plan_many)
			many_netns_engine(r);
	}
	/* A watcher's state tracker collects instead (stage_collect): no pass to load. */
	if (cli_many_netns(cfg) && !(cfg->hook && cfg->hook->collect))
		disc_open(r);
	if ((cli_many_netns(cfg) || r->plan_many) && (ret = open_namespaces(r)) != RUN_ON)
		return ret;
	/*
	 * Nothing before the engine needs more than reading owners, marks and the audit file.
	 * A watcher dropped to its own set when it started: its next cycle enters namespaces.
	 */
	if (!cfg->hook &&
	    caps_keep_only(early_caps, sizeof(early_caps) / sizeof(early_caps[0])) < 0) {
		fprintf(stderr, "sockreap: cannot drop capabilities; nothing killed\n");
		return EXIT_PRIV;
	}
	if (!cfg->apply)
		selector_format(cfg->ast, r->selector, sizeof(r->selector));
	if (selector_uses(cfg->ast, SEL_MARK) && !caps_have(CAP_NET_ADMIN))
		fprintf(stderr, "sockreap: warning: the kernel shows socket marks only to "
				"CAP_NET_ADMIN; without it every mark reads as 0\n");
	struct plan_self_src self = { getenv("SSH_CONNECTION"), NULL, getpid(), NULL, NULL };

	if (plan_guards_init(&r->guards, cfg->apply ? r->plan_listen : selector_names_listen(cfg->ast),
			     cfg->include_self, &self) < 0) {
		fprintf(stderr, "sockreap: out of memory; nothing killed\n");
		return EXIT_ERROR;
	}
	ret = r->visit.n ? 0 : diag_open(&r->d);
	if (ret < 0)
		return report_kernel_error("cannot open sock_diag", ret);
	r->confirming = !cfg->dry_run && !cfg->yes && isatty(STDIN_FILENO);
	return RUN_ON;
}

/* What the guards kept out of the plan, and why. */
static void explain_kept(const struct dump_ctx *dc, const struct plan_guards *g)
{
	if (dc->skipped_self)
		fprintf(stderr, "sockreap: kept your own SSH connection: %zu socket%s held by this "
				"process's ancestors or its login's sshd, or named by SSH_CONNECTION, "
				"or the other end of one of those; --include-self selects %s\n",
			dc->skipped_self,
			dc->skipped_self == 1 ? "" : "s", dc->skipped_self == 1 ? "it" : "them");
	if (dc->skipped_unsure) {
		char ports[16] = "22";

		if (g->unsure_port != PLAN_SSH_PORT)
			snprintf(ports, sizeof(ports), "22 or %u", g->unsure_port);
		fprintf(stderr, "sockreap: kept %zu connection%s on port %s out of the plan: cannot "
				"tell which one is your own (%s); --include-self selects them\n",
			dc->skipped_unsure, dc->skipped_unsure == 1 ? "" : "s", ports,
			g->unsure_why);
	}
}

/*
 * Every family and protocol the prefilter asks for, through one handle. A refused bytecode
 * stays off in pf for the dumps after, and for verification.
 */
static int dump_all(struct sel_prefilter *pf, struct diag *d, struct dump_ctx *dc, bool no_info)
{
	int ret = 0;
	bool both_tcp = false;

	/*
	 * TCP of both families in one walk of the established hash table instead of two (each
	 * walk visits every namespace's sockets); a kernel that refuses the request gets the
	 * two, and the records of a failed try are dropped.
	 */
	if (pf->tcp && pf->inet && pf->inet6) {
		struct diag_filter flt = { AF_UNSPEC, IPPROTO_TCP, pf->states, pf->bc, pf->bclen,
					   no_info };
		struct dump_ctx before = *dc;
		size_t n = dc->set->n;

		ret = diag_dump(d, &flt, admit, dc);
		/*
		 * Only a refusal (the request or its bytecode: EINVAL, EOPNOTSUPP) is retried as
		 * two: after a receive that failed mid-dump (ENOBUFS) the kernel's dump is still
		 * running on this socket, and a new request would only be told EBUSY.
		 */
		if (ret < 0 && ret != -EINVAL && ret != -EOPNOTSUPP)
			return ret;
		both_tcp = ret == 0;
		if (ret < 0) {
			dc->set->n = n;
			dc->skipped_self = before.skipped_self;
			dc->skipped_unsure = before.skipped_unsure;
		}
		ret = 0;
	}
	for (int p = 0; p < 2 && ret == 0; p++) {
		if (!(p ? pf->udp : pf->tcp) || (!p && both_tcp))
			continue;
		for (int f = 0; f < 2 && ret == 0; f++) {
			struct diag_filter flt = { f ? AF_INET6 : AF_INET,
						   p ? IPPROTO_UDP : IPPROTO_TCP, pf->states,
						   pf->bc, pf->bclen, no_info };

			if (!(f ? pf->inet6 : pf->inet))
				continue;
			ret = dump_family(d, &flt, dc);
			pf->bclen = flt.bclen;
			/* EINVAL for a protocol means it is not available here: nothing to find. */
			if (ret == -EINVAL && p)
				ret = 0;
		}
	}
	return ret;
}

/*
 * The BPF pass over every task's socket files, then each namespace's counts again: true when
 * d holds the pass's records. Only for a selection the proof can stand for (no TIME_WAIT,
 * SYN_RECV or CLOSE); any failure means every namespace is dumped.
 */
static bool disc_pass(struct run *r, struct nsdisc *d)
{
	int ret;

	if (r->disc_iter < 0 || !r->sockstat)
		return false;
	ret = nsdisc_read(d, r->disc_iter, r->pf.states);
	close(r->disc_iter);
	r->disc_iter = -1;
	if (ret < 0) {
		nsdisc_free(d);
		return false;
	}
	for (size_t i = 0; i < r->visit.n; i++) {
		struct nsdisc_inuse now = { { 0, 0 }, false };

		if (r->inuse[i].known)
			nsdisc_read_inuse(r->sockstat[i][0], r->sockstat[i][1], &now);
		/* Kept in before's place: both must agree for the proof. */
		if (!now.known || now.n[0] != r->inuse[i].n[0] || now.n[1] != r->inuse[i].n[1])
			r->inuse[i].known = false;
	}
	return true;
}

/*
 * A namespace the pass proved complete (in one dumping thread): its candidates (a state the
 * selection asks for) fetched by exact gets through its own handle, so every record is the
 * kernel's, as a dump would give it; then the UDP dump as ever. A socket gone since the
 * pass, or whose 4-tuple now finds another socket, is not collected. 1: not proven (dump
 * it), 0, or a negative errno.
 */
static int collect_proven(struct run *r, size_t i, const struct nsdisc *d,
			  struct sel_prefilter *pf, struct dump_ctx *dc, bool no_info)
{
	struct sock_rec *cand = NULL, *got = NULL, *ptr[DIAG_BATCH];
	bool present[DIAG_BATCH];
	size_t first, end, m = 0;
	int ret = 0;

	nsdisc_range(d, (uint32_t)r->visit.v[i].inode, &first, &end);
	if (!r->inuse[i].known || !nsdisc_proven(d->all + first, end - first, &r->inuse[i],
						 &r->inuse[i]))
		return 1;
	nsdisc_cand_range(d, (uint32_t)r->visit.v[i].inode, &first, &end);
	cand = malloc(DIAG_BATCH * sizeof(*cand));
	got = malloc(DIAG_BATCH * sizeof(*got));
	if (!cand || !got) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t k = first; k <= end && ret == 0; k++) {
		if (k < end) {
			const struct taskfiles_tcp *t = &d->cand[k];

			if (!(SS_BIT(t->state) & pf->states) ||
			    !(t->family == AF_INET ? pf->inet : pf->inet6))
				continue;
			nsdisc_to_rec(t, &cand[m]);
			ptr[m] = &cand[m];
			if (++m < DIAG_BATCH)
				continue;
		}
		if (!m)
			break;
		ret = diag_get_batch(r->nsd[i], ptr, m, no_info, present, got);
		for (size_t j = 0; j < m && ret == 0; j++)
			if (present[j] && got[j].inode == cand[j].inode &&
			    (SS_BIT(got[j].state) & pf->states))
				ret = admit(&got[j], dc);
		m = 0;
	}
	if (ret == 0 && pf->udp) {
		bool tcp = pf->tcp;

		pf->tcp = false;
		ret = dump_all(pf, r->nsd[i], dc, no_info);
		pf->tcp = tcp;
	}
cleanup:
	free(cand);
	free(got);
	return ret;
}

/* Below this many namespaces one thread dumps them all: a thread costs more than it saves. */
#define NS_PARALLEL_MIN 8

/* One dumping thread's share of the namespaces: [lo, hi), into a set of its own. */
struct ns_dumper {
	struct run *r;
	const struct plan_guards *away;
	bool no_info;
	size_t lo, hi;
	struct sel_prefilter pf;	/* its own copy: a refused bytecode is noted per thread */
	const struct nsdisc *disc;	/* the BPF pass's records; NULL: dump every namespace */
	struct sock_set set;
	struct dump_ctx dc;
	int *rets;		/* per namespace: 0, or why its dump failed */
	int err;		/* -ENOMEM: the run cannot go on */
};

static void *dump_share(void *arg)
{
	struct ns_dumper *w = arg;
	struct run *r = w->r;
	const struct reap_hook *hook = r->cfg->hook;

	w->dc.set = &w->set;
	for (size_t i = w->lo; i < w->hi && !w->err; i++) {
		size_t before = w->set.n;
		int ret;

		if (!r->nsd[i])
			continue;
		w->dc.netns = (uint16_t)i;
		w->dc.guards = r->visit.v[i].inode == r->home ? &r->guards : w->away;
		/* A watcher's state tracker first (one thread: see dump_namespaces). */
		ret = 1;
		if (hook && hook->collect)
			ret = hook->collect(hook->arg, r->nsd[i], r->visit.v[i].inode, w->no_info,
					    admit, &w->dc);
		if (ret > 0 && w->disc)
			ret = collect_proven(r, i, w->disc, &w->pf, &w->dc, w->no_info);
		r->visit.v[i].collect = ret > 0 ? NETNS_COLLECT_DUMP : NETNS_COLLECT_BPF;
		if (ret > 0)
			ret = dump_all(&w->pf, r->nsd[i], &w->dc, w->no_info);
		if (ret < 0)
			r->visit.v[i].collect = NETNS_COLLECT_NONE;
		diag_trim(r->nsd[i]);
		if (ret < 0)
			w->set.n = before;
		if (ret == -ENOMEM)
			w->err = ret;
		w->rets[i] = ret;
	}
	return NULL;
}

/*
 * Several namespaces: one dump each into the one set, in the order visited, so that each
 * namespace's records are contiguous. The caller's SSH connection is recognized by its
 * 4-tuple only where we started (elsewhere the same tuple is another connection); the
 * sockets its processes hold, by inode, everywhere. A namespace whose dump fails gets a line
 * and is left out; all of them failing is the run's failure.
 *
 * Every dump walks the host's whole established hash table, which all namespaces share
 * (262,144 buckets here, and every namespace's sockets in them): with 1,000 namespaces
 * holding 40 sockets each a walk took ~2.9 ms, 95% of the run. The handles are independent,
 * so contiguous shares of the namespaces are dumped on every usable CPU, each thread into a
 * set of its own, joined in order afterwards: the set, its order and the messages are what
 * one thread would have made.
 */
static int dump_namespaces(struct run *r, struct dump_ctx *dc, bool no_info)
{
	struct plan_guards away = r->guards;
	struct ns_dumper w[WORKERS_MAX];
	char label[4 * NAME_MAX + 32];
	/* A watcher's state tracker (its map, its counters) is one thread's. */
	int first = 0, nw = r->visit.n < NS_PARALLEL_MIN || (r->cfg->hook && r->cfg->hook->collect)
				    ? 1 : workers_available(), ret = 0;
	int *rets = calloc(r->visit.n, sizeof(*rets));
	size_t ok = 0, share;
	struct nsdisc found = { 0 }, *disc;

	if (!rets)
		return -ENOMEM;
	disc = disc_pass(r, &found) ? &found : NULL;
	away.nkeep = 0;
	away.unsure = false;
	share = (r->visit.n + (size_t)nw - 1) / (size_t)nw;
	for (int k = 0; k < nw; k++) {
		size_t lo = (size_t)k * share;

		w[k] = (struct ns_dumper){ r, &away, no_info, lo < r->visit.n ? lo : r->visit.n,
					   lo + share < r->visit.n ? lo + share : r->visit.n,
					   r->pf, disc, { 0 }, *dc, rets, 0 };
		/* One thread draws the progress line: it has no lock. */
		if (k)
			w[k].dc.progress = NULL;
	}
	workers_run(dump_share, w, sizeof(w[0]), nw);
	nsdisc_free(&found);
	disc_free(r);
	/* One allocation of the joined size: the shares are freed as they are copied. */
	size_t total = r->set.n;

	for (int k = 0; k < nw; k++)
		total += w[k].set.n;
	if (total > r->set.cap) {
		struct sock_rec *v = realloc(r->set.v, total * sizeof(*v));

		if (v) {
			r->set.v = v;
			r->set.cap = total;
		}
	}
	for (int k = 0; k < nw; k++) {
		if (w[k].pf.bclen < r->pf.bclen)
			r->pf.bclen = w[k].pf.bclen;
		dc->skipped_self += w[k].dc.skipped_self;
		dc->skipped_unsure += w[k].dc.skipped_unsure;
		if (w[k].err)
			ret = w[k].err;
		for (size_t i = 0; i < w[k].set.n && !ret; i++)
			ret = sock_set_push(&r->set, &w[k].set.v[i]);
		sock_set_free(&w[k].set);
	}
	for (size_t i = 0; i < r->visit.n && !ret; i++) {
		if (!r->nsd[i])
			continue;
		if (!rets[i]) {
			ok++;
			continue;
		}
		r->visit.v[i].left_out = rets[i];
		fprintf(stderr, "sockreap: network namespace %s: cannot dump sockets: %s; "
				"skipped\n", ns_label(&r->visit.v[i], label, sizeof(label)),
			strerror(-rets[i]));
		if (!first)
			first = rets[i];
	}
	free(rets);
	return ret ? ret : ok ? 0 : first;
}

/*
 * The selector's netns atoms decide by the index each record carries: tie them to the
 * namespaces this run visits (one: where it runs); dev IFNAME too, in a run that entered one
 * other namespace. 0 or -ENOMEM.
 */
static int bind_netns(struct run *r)
{
	struct sel_node *ast = r->cfg->ast;
	uint64_t one = 0, *inodes = &one;
	struct stat st;

	/* One other namespace, entered: dev IFNAME is its device, looked up in it. */
	if (r->in_netns && selector_uses(ast, SEL_DEV)) {
		if (selector_dev_prepare(ast, 1) < 0)
			return -ENOMEM;
		selector_dev_bind_here(ast, 0);
	}
	if (!selector_uses(ast, SEL_NETNS))
		return 0;
	if (r->visit.n) {
		inodes = malloc(r->visit.n * sizeof(*inodes));
		if (!inodes)
			return -ENOMEM;
		for (size_t i = 0; i < r->visit.n; i++)
			inodes[i] = r->visit.v[i].inode;
	} else if (r->in_netns) {
		one = r->in_netns->inode;
	} else if (stat("/proc/self/ns/net", &st) == 0) {
		one = st.st_ino;	/* else 0: no atom matches here */
	}
	selector_netns_bind(ast, inodes, r->visit.n ? r->visit.n : 1);
	if (inodes != &one)
		free(inodes);
	return 0;
}

/*
 * --apply over several namespaces: each namespace's part of the plan looked up through its
 * own handle, in the plan's namespace order (the set is then contiguous per namespace, as
 * act_namespaces wants it). The caller's SSH connection is recognized by its 4-tuple only
 * where we started, as in dump_namespaces. A namespace that is gone: its sockets are gone;
 * one that could not be entered: theirs failed, with the reason.
 */
static int plan_lookup_namespaces(struct run *r, struct dump_ctx *dc, struct sock_set *missing)
{
	struct plan_guards away = r->guards;
	struct sock_set part = { 0 };
	int ret = 0;

	away.nkeep = 0;
	away.unsure = false;
	for (size_t k = 0; k < r->visit.n && ret == 0; k++) {
		const struct netns_info *ns = &r->visit.v[k];
		bool gone = ns->left_out == -ENOENT || ns->left_out == -ESTALE;
		size_t before = missing->n;

		part.n = 0;
		for (size_t i = 0; i < r->plan.socks.n && ret == 0; i++)
			if (r->plan.socks.v[i].netns == k)
				ret = sock_set_push(&part, &r->plan.socks.v[i]);
		if (ret < 0 || !part.n)
			continue;
		dc->netns = (uint16_t)k;
		dc->guards = ns->inode == r->home ? &r->guards : &away;
		ret = planfile_lookup(r->nsd[k], &part, !r->nsd[k], admit, dc, missing);
		for (size_t i = before; i < missing->n && !r->nsd[k] && !gone; i++) {
			missing->v[i].outcome = OUT_FAILED;
			missing->v[i].err = -ns->left_out;
		}
		if (r->nsd[k])
			diag_trim(r->nsd[k]);
	}
	dc->guards = &r->guards;
	sock_set_free(&part);
	return ret;
}

static size_t count_outcome(const struct sock_set *set, unsigned outcome)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += set->v[i].outcome == outcome;
	return n;
}

/*
 * --apply: the plan's sockets looked up again (planfile_lookup), never selected anew. The very
 * socket still there goes through the guards (LISTEN, the caller's SSH) into the plan to act
 * on; one that is not (gone, changed) is kept behind it for the report and the audit.
 */
static int collect_plan(struct run *r, struct dump_ctx *dc, bool want_owners)
{
	struct sock_set missing = { 0 };
	size_t n = r->plan.socks.n, still;
	int ret = r->plan_many ? plan_lookup_namespaces(r, dc, &missing)
			       : planfile_lookup(r->d, &r->plan.socks, r->plan_ns_gone, admit, dc,
						 &missing);

	if (ret < 0) {
		sock_set_free(&missing);
		return report_kernel_error("cannot look the plan's sockets up", ret);
	}
	explain_kept(dc, &r->guards);
	r->nplan = r->set.n;
	if (want_owners) {
		resolve_owners(NULL, &r->set, r->pm, &r->owner_ctx, &r->nplan);
		r->owners = &r->owner_ctx;
	}
	still = r->set.n;
	for (size_t i = 0; i < missing.n && ret == 0; i++)
		ret = sock_set_push(&r->set, &missing.v[i]);
	r->plan_missing = missing.n;
	sock_set_free(&missing);
	if (ret < 0)
		return report_kernel_error("cannot look the plan's sockets up", ret);
	/* The file's name and its author's are anyone's to choose: escaped for the terminal. */
	char file[4 * PATH_MAX], sudo[1024] = "";
	size_t changed = count_outcome(&r->set, OUT_CHANGED);

	text_escape(file, sizeof(file), r->cfg->apply, strlen(r->cfg->apply));
	if (r->plan.author.sudo_user)
		text_escape(sudo, sizeof(sudo), r->plan.author.sudo_user,
			    strlen(r->plan.author.sudo_user));
	/* The author is what the plan claims; who owns the file is the kernel's word. */
	char owner[64] = "";

	if (r->plan.file_uid >= 0 && r->plan.file_uid != r->plan.author.uid)
		snprintf(owner, sizeof(owner), " (says the plan; file owned by uid %lld)",
			 r->plan.file_uid);
	fprintf(stderr, "sockreap: plan %s (sha256 %.16s..., by uid %u%s%s%s, %" PRId64 " s old): "
			"%zu socket%s, %zu still there, %zu gone, %zu changed\n", file,
		r->plan.sha256, r->plan.author.uid, *sudo ? ", sudo " : "", sudo, owner,
		(int64_t)time(NULL) - r->plan.unix_time, n, n == 1 ? "" : "s", still,
		r->plan_missing - changed, changed);
	return RUN_ON;
}

/* 1. Dump everything first (act only once the dump is complete), 2. then owners. */
static int stage_collect(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct dump_ctx dc = { cfg->ast, &r->guards, &r->set, 0, 0, 0, &r->progress };
	struct timespec t;
	int ret;

	/*
	 * tcp_info (idle times) costs the kernel a tcp_get_info per socket: ask for it only when
	 * something uses it: the selector, a preview, JSON or the audit record.
	 */
	bool no_info = !selector_uses(cfg->ast, SEL_IDLE) && !cfg->dry_run && !cfg->json &&
		       cfg->no_audit && !r->confirming;

	/*
	 * Owners: only for what passed everything else; only the named pids if we can; and
	 * only when something needs them: the selector, a preview shown to a person, or the
	 * audit record. A scripted `--yes --no-audit` kill, or `--no-owners`, skips the scan
	 * (about a second per 200,000 open fds on the machine; a few milliseconds on a quiet
	 * one) and reports owners as not looked up; the selector's owner tests still read them.
	 */
	bool want_owners = selector_needs_owners(cfg->ast) || groupby_needs_owners(&cfg->group_by) ||
			   r->engine == &engine_shutdown ||
			   cfg->close_fd ||
			   (!cfg->no_owners && (cfg->dry_run || r->confirming || !cfg->no_audit));

	/*
	 * A watcher keeps CAP_BPF: it loads the lookup (a few ms; tens where libbpf has to parse
	 * the kernel's BTF) only in a cycle that has sockets to look up, not in every cycle.
	 */
	/*
	 * Owners that are only shown and recorded are walked while the dump runs (~0.1 s at
	 * 100,000, on the other CPU), the iterator loaded on that thread too (~3 ms); a
	 * selector that tests them waits for the dump, so that no socket opened meanwhile is
	 * judged by a walk that ran before it existed.
	 */
	bool prefetch = !selector_needs_owners(cfg->ast);

	if (want_owners && !cfg->hook && prepare_owners(cfg->ast, &r->pm, !prefetch) < 0) {
		fprintf(stderr, "sockreap: out of memory; nothing killed\n");
		return EXIT_ERROR;
	}
	/*
	 * Before the drop below, which is this thread's only: the walk's thread loads with what
	 * it was started with, then drops to the same set (drop_loader_caps) before it reads.
	 */
	if (r->pm && prefetch && !cfg->hook &&
	    procmap_prefetch_load(r->pm, drop_loader_caps, NULL) < 0)
		procmap_open_bpf(r->pm);	/* no thread: loaded here, resolved after the dump */
	/*
	 * The BPF iterator is loaded (or not) by now, here or on the walk's thread: nothing after
	 * needs CAP_BPF, CAP_PERFMON; a watcher keeps the early set, which its next cycle needs
	 * again.
	 */
	if (!cfg->hook && caps_keep_only(early_caps, AFTER_OWNERS_CAPS) < 0) {
		fprintf(stderr, "sockreap: cannot drop capabilities; nothing killed\n");
		return EXIT_PRIV;
	}
	if (bind_netns(r) < 0) {
		fprintf(stderr, "sockreap: out of memory; nothing killed\n");
		return EXIT_ERROR;
	}
	selector_prefilter(cfg->ast, &r->pf);
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (cfg->apply) {
		ret = collect_plan(r, &dc, want_owners);
		r->ms_dump = ms_since(&t);
		return ret;
	}
	/* A watcher's state tracker (src/statetrack.c) instead of the dump, where it can. */
	ret = cfg->hook && cfg->hook->collect && !r->visit.n ?
		      cfg->hook->collect(cfg->hook->arg, r->d, 0, no_info, admit, &dc) : 1;
	if (ret > 0)
		ret = r->visit.n ? dump_namespaces(r, &dc, no_info) :
				   dump_all(&r->pf, r->d, &dc, no_info);
	r->ms_dump = ms_since(&t);
	progress_clear(&r->progress);
	if (ret < 0)
		return report_kernel_error("cannot dump sockets", ret);
	explain_kept(&dc, &r->guards);

	r->nplan = r->set.n;
	/*
	 * A watcher's age filter drops most records every cycle (too young): before the owner
	 * lookup when the match does not depend on owners, so that only the old enough are
	 * looked up; after it when it does.
	 */
	bool hook_first = cfg->hook && !selector_needs_owners(cfg->ast);

	if (cfg->hook)
		cfg->hook->visit = r->visit.n ? &r->visit : NULL;

	if (hook_first && (ret = cfg->hook->after_collect(cfg->hook->arg, &r->set, &r->nplan)))
		return ret;
	if (r->set.n && want_owners) {
		if (!r->pm && prepare_owners(cfg->ast, &r->pm, true) < 0) {
			fprintf(stderr, "sockreap: out of memory; nothing killed\n");
			return EXIT_ERROR;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		progress_say(&r->progress, "sockreap: owners: looking up %zu sockets", r->set.n);
		resolve_owners(cfg->ast, &r->set, r->pm, &r->owner_ctx, &r->nplan);
		r->ms_owners = ms_since(&t);
		progress_clear(&r->progress);
		r->owners = &r->owner_ctx;
	}
	if (cfg->hook && !hook_first &&
	    (ret = cfg->hook->after_collect(cfg->hook->arg, &r->set, &r->nplan)))
		return ret;
	return RUN_ON;
}

/* Listeners the selector matches (YES) or may match (owners unread), kept by the guard. */
struct kept_listen {
	const struct sel_node *ast;
	uint16_t netns;		/* the index records of this dump are tagged with */
	size_t yes, maybe;
};

static int count_listener(const struct sock_rec *rec, void *arg)
{
	struct kept_listen *k = arg;
	struct sock_rec tagged = *rec;
	enum sel_result m;

	/* As admit: the netns predicate reads the index. */
	tagged.netns = k->netns;
	m = k->ast ? selector_eval(k->ast, &tagged, NULL) : SEL_YES;
	k->yes += m == SEL_YES;
	k->maybe += m == SEL_UNKNOWN;
	return 0;
}

static void count_listeners(struct run *r, struct diag *d, struct kept_listen *k)
{
	for (int p = 0; p < 2; p++)
		for (int f = 0; f < 2; f++) {
			struct diag_filter flt = { f ? AF_INET6 : AF_INET,
						   p ? IPPROTO_UDP : IPPROTO_TCP,
						   SS_BIT(SS_LISTEN), r->pf.bc, r->pf.bclen, true };

			if ((p ? r->pf.udp : r->pf.tcp) && (f ? r->pf.inet6 : r->pf.inet))
				diag_dump(d, &flt, count_listener, k);
		}
}

/*
 * Nothing selected, and the LISTEN guard may be why: the prefilter never asked for listeners,
 * so ask now (one more dump, listeners only, in every namespace the run visits; a run that
 * selected something never pays it). Says so and returns true when some matched.
 */
static bool hint_kept_listeners(struct run *r)
{
	struct kept_listen k = { r->cfg->ast, 0, 0, 0 };

	if (selector_names_listen(r->cfg->ast))
		return false;
	if (r->visit.n) {
		for (size_t i = 0; r->nsd && i < r->visit.n; i++)
			if (r->nsd[i]) {
				k.netns = (uint16_t)i;
				count_listeners(r, r->nsd[i], &k);
			}
	} else if (r->d) {
		count_listeners(r, r->d, &k);
	}
	size_t n = k.yes ? k.yes : k.maybe;

	if (!n)
		return false;
	fprintf(stderr, "sockreap: no sockets selected: %zu listening socket%s %s and %s kept: "
			"say `state listen` to include %s\n", n, n == 1 ? "" : "s",
		k.yes ? "matched" : "may match (depending on owners)", n == 1 ? "was" : "were",
		n == 1 ? "it" : "them");
	return true;
}

/*
 * Nothing selected with --pid: a pid that names no process, or one whose sockets live in a
 * network namespace this run does not look in (where its dump cannot see them), says so on f
 * (NULL: only counts). Returns how many pids got a line.
 */
static int hint_pids(const struct run *r, FILE *f)
{
	int said = 0;
	int32_t *pids = NULL;
	int n = selector_pid_scope(r->cfg->ast, &pids);
	struct stat here, there;
	char path[64];

	if (n > 0 && stat("/proc/self/ns/net", &here) < 0)
		n = 0;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d", (int)pids[i]);
		if (stat(path, &there) < 0 && errno == ENOENT) {
			said++;
			if (f)
				fprintf(f, "sockreap: no process %d (pid)\n", (int)pids[i]);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pids[i]);
		if (stat(path, &there) < 0)
			continue;
		if (r->visit.n && !netns_list_find(&r->visit, there.st_ino)) {
			said++;
			if (f)
				fprintf(f, "sockreap: process %d lives in a network namespace this run "
					   "does not visit (net:[%llu]): add --netns-of %d\n",
					(int)pids[i], (unsigned long long)there.st_ino, (int)pids[i]);
		} else if (!r->visit.n && there.st_ino != here.st_ino) {
			said++;
			if (f)
				fprintf(f, "sockreap: process %d lives in another network namespace "
					   "(net:[%llu]): --netns-of %d reaches its sockets\n",
					(int)pids[i], (unsigned long long)there.st_ino, (int)pids[i]);
		}
	}
	free(pids);
	return said;
}

/* Once a run, after a table with "?" in it: what it stands for. */
static void note_owners(struct run *r)
{
	bool some_known = false;
	const char *why = r->owner_note_said ? NULL
						: output_owner_note(&r->set, r->owners, &some_known);

	if (!why)
		return;
	r->owner_note_said = true;
	if (!strcmp(why, "not-looked-up") && some_known)
		fprintf(stderr, "sockreap: +? = other owners not looked up: a pid selector reads "
				"only the named processes' fd tables\n");
	else if (!strcmp(why, "not-looked-up"))
		fprintf(stderr, "sockreap: ? = owners unknown: not looked up (--no-owners, or a "
				"scripted --yes --no-audit kill, skips the /proc scan)\n");
	else if (!strcmp(why, "hidepid"))
		fprintf(stderr, "sockreap: ? = owners unknown: /proc is mounted with hidepid; root "
				"or CAP_SYS_PTRACE sees them\n");
	else
		fprintf(stderr, "sockreap: ? = owners unknown: some /proc/PID/fd could not be read "
				"(%s); root with CAP_SYS_PTRACE reads them\n", why);
}

/*
 * The end of the summary line: the whole run's time and its phases, ")" and the newline.
 * The kill phase is the engine and its verification; the rest (audit, confirmation) is the
 * whole run's.
 */
static void say_phases(const struct run *r, bool kill)
{
	fprintf(stderr, "; run %.1f ms: dump %.1f, owners %.1f", ms_since(&r->t0), r->ms_dump,
		r->ms_owners);
	if (r->visit.n) {
		size_t by[3] = { 0, 0, 0 };

		for (size_t i = 0; i < r->visit.n; i++)
			by[r->visit.v[i].collect < 3 ? r->visit.v[i].collect : 0]++;
		fprintf(stderr, "; namespaces: %zu found whole by the BPF pass, %zu dumped",
			by[NETNS_COLLECT_BPF], by[NETNS_COLLECT_DUMP]);
	}
	if (kill)
		fprintf(stderr, ", kill %.1f", r->elapsed_ms);
	fputs(")\n", stderr);
}

/*
 * "No sockets match" is about the namespaces looked in: those left out (each with its line
 * already) are unknown, not empty.
 */
static void say_left_out(const struct run *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->visit.n; i++)
		n += r->visit.v[i].left_out != 0;
	if (n)
		fprintf(stderr, "sockreap: %zu network namespace%s not looked in (above): what %s "
				"unknown\n", n, n == 1 ? " was" : "s were",
			n == 1 ? "it holds is" : "they hold is");
}

/*
 * Namespaces the command line or the expression named (or ours, visited because the selector
 * can match there) that were left out: part of what was asked was not done, so the run exits
 * 3 whatever it found elsewhere. --all-netns discovery is not counted: namespaces come and go
 * under it, and one that could not be entered was never asked for by name.
 */
static size_t named_left_out(const struct run *r)
{
	size_t n = r->named_unopened;

	/* --apply: a plan's namespace left out has its sockets' outcomes to say so. */
	if (r->cfg->all_netns || r->cfg->apply)
		return 0;
	for (size_t i = 0; i < r->visit.n; i++)
		n += r->visit.v[i].left_out != 0;
	return n;
}

/* ", 1 named network namespace left out" for the summary line, when one was. */
static void say_named_left_out(const struct run *r)
{
	size_t n = named_left_out(r);

	if (n)
		fprintf(stderr, ", %zu named network namespace%s left out", n, n == 1 ? "" : "s");
}

/*
 * --save-plan: the preview just shown, written for --apply (an empty one too: it says so).
 * Returns RUN_ON, or EXIT_ERROR when it could not be written.
 */
static int save_plan(struct run *r)
{
	struct planfile_host host;
	struct audit_who who;
	struct netns_info here = { .pid = -1 };
	struct stat st;
	char why[PATH_MAX + 256], file[4 * PATH_MAX], w[4 * sizeof(why)];
	bool lowered;
	struct planfile_meta m = { &host, { 0, 0 }, &who, r->selector, r->engine->name, r->in_netns,
				   r->visit.n ? &r->visit : NULL };
	int ret;

	planfile_host_fill(&host);
	audit_who_fill(&who);
	clock_gettime(CLOCK_REALTIME, &m.time);
	/* Where it runs: the namespace --apply must find again by inode. */
	if (!m.ns && !m.visit) {
		if (stat("/proc/self/ns/net", &st) < 0) {
			fprintf(stderr, "sockreap: cannot save the plan: /proc/self/ns/net: %s\n",
				strerror(errno));
			return EXIT_ERROR;
		}
		here.inode = st.st_ino;
		m.ns = &here;
	}
	text_escape(file, sizeof(file), r->cfg->save_plan, strlen(r->cfg->save_plan));
	lowered = caller_file_rights_begin();
	ret = planfile_save(r->cfg->save_plan, &m, &r->set, r->nplan, r->owners, why, sizeof(why));
	caller_file_rights_end(lowered);
	if (ret < 0) {
		text_escape(w, sizeof(w), why, strlen(why));
		fprintf(stderr, "sockreap: cannot save the plan: %s\n", w);
		return EXIT_ERROR;
	}
	fprintf(stderr, "sockreap: plan saved to %s: %zu socket%s%s; carry it out with "
			"sockreap --apply %s\n", file, r->nplan, r->nplan == 1 ? "" : "s",
		r->nplan ? "" : " (nothing to kill)", file);
	return RUN_ON;
}

/*
 * --group-by: the preview as counts (every record shown, the skipped ones too, as the table
 * would list them). 0, or -ENOMEM (nothing printed).
 */
static int show_groups(struct run *r, const struct output_run *run)
{
	const struct config *cfg = r->cfg;
	struct groupby_units units = { 0 };
	struct netns_info here = { .inode = r->home, .pid = -1 };
	struct groupby_env env = { r->owners, r->visit.n ? &r->visit : NULL,
				   r->in_netns ? r->in_netns : &here, NULL, NULL };
	struct groupby_result res;
	struct output_fit fit;
	struct stat st;
	int ret;

	if (!here.inode && stat("/proc/self/ns/net", &st) == 0)
		here.inode = st.st_ino;
	for (size_t i = 0; i < cfg->group_by.n; i++) {
		if (cfg->group_by.k[i] != GB_UNIT || !r->set.n)
			continue;
		/* Without the cgroup tree every unit is unknown ("?"): said, not fatal. */
		ret = groupby_units_load(&units, NULL);
		if (ret == -ENOMEM)
			return ret;
		if (ret == -ENOENT)
			fprintf(stderr, "sockreap: warning: units unknown (?): cgroup v2 is not "
					"mounted here (`ip netns exec` hides it by remounting /sys; "
					"nsenter --net=/run/netns/NAME does not)\n");
		else if (ret < 0)
			fprintf(stderr, "sockreap: warning: units unknown (?): cannot read the "
					"cgroup v2 tree: %s\n", strerror(-ret));
		env.unit = groupby_unit_of;
		env.unit_arg = &units;
	}
	ret = groupby_run(&res, &cfg->group_by, &r->set, &env);
	groupby_units_free(&units);
	if (ret < 0)
		return ret;
	if (cfg->json) {
		struct json j;

		output_json_open(&j, stdout, run);
		groupby_json(&j, &res);
		output_json_close(&j, stdout, &r->set, run);
	} else {
		output_screen(STDOUT_FILENO, &fit);
		groupby_table(stdout, &res, fit.rows, fit.cols);
	}
	groupby_free(&res);
	return 0;
}

/* 3. Nothing matched, too many, or a dry run: the preview is the plan. */
static int stage_show(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct output_run run = { cfg->dry_run ? "dry-run" : "kill", r->selector, r->engine->name,
				  NULL, 0, 0, r->in_netns, r->visit.n ? &r->visit : NULL,
				  procmap_source(r->pm) };
	bool over_max = cfg->max >= 0 && r->nplan > (size_t)cfg->max;
	struct output_fit fit;

	run.elapsed_ms = ms_since(&r->t0);
	if (!r->set.n && cfg->hook)
		return EXIT_NOMATCH;	/* a watcher's cycle: silence */
	if (!r->set.n) {
		char shown[sizeof(r->selector)];

		int none = named_left_out(r) ? EXIT_PARTIAL : EXIT_NOMATCH;

		run.exit_status = none;
		if (cfg->json && cfg->group_by.n)
			show_groups(r, &run);
		else if (cfg->json)
			output_json(stdout, &r->set, r->owners, &run);
		if (cfg->save_plan && save_plan(r) != RUN_ON)
			return EXIT_ERROR;
		/* A pid that cannot match here is the first reason; then the LISTEN guard. */
		bool pids = hint_pids(r, NULL);

		if (!pids && hint_kept_listeners(r)) {
			say_left_out(r);
			return none;
		}
		/* The canonical form quotes names as given: escape them for the terminal. */
		text_escape(shown, sizeof(shown), r->selector, strlen(r->selector));
		fprintf(stderr, "sockreap: no sockets match%s%s\n", *shown ? ": " : "", shown);
		say_left_out(r);
		if (pids)
			hint_pids(r, stderr);
		return none;
	}
	/* A dry run shows the plan --max would refuse: seeing it is how one chooses N. */
	if (over_max && !cfg->dry_run) {
		fprintf(stderr, "sockreap: %zu sockets match, more than --max %ld; nothing killed\n",
			r->nplan, cfg->max);
		return EXIT_GUARD;
	}
	if (!cfg->dry_run)
		return RUN_ON;
	run.exit_status = over_max ? EXIT_GUARD
			  : nskipped(r) || named_left_out(r) ? EXIT_PARTIAL : EXIT_DONE;
	if (cfg->group_by.n) {
		if (show_groups(r, &run) < 0) {
			fprintf(stderr, "sockreap: out of memory; nothing killed\n");
			return EXIT_ERROR;
		}
	} else if (cfg->json) {
		output_json(stdout, &r->set, r->owners, &run);
	} else {
		output_screen(STDOUT_FILENO, &fit);
		output_table_fit(stdout, &r->set, r->owners, false, &r->visit, &fit);
	}
	note_owners(r);
	if (cfg->save_plan && save_plan(r) != RUN_ON)
		return EXIT_ERROR;
	if (r->engine == &engine_rst && !cfg->no_peer_reset)
		fprintf(stderr, "sockreap: the rst engine also resets the peer end of each "
				"connection to another host (--no-peer-reset leaves it); a peer "
				"end on this host is a local socket, killed only if selected\n");
	explain_skipped(nskipped(r), r->pm ? procmap_unknown_reason(r->pm) : NULL);
	if (over_max) {
		fprintf(stderr, "sockreap: %zu socket%s match, more than --max %ld: a kill would be "
				"refused (dry run)\n", r->nplan, r->nplan == 1 ? "" : "s", cfg->max);
		return EXIT_GUARD;
	}
	if (cfg->hook)
		fprintf(stderr, "sockreap: watch: rule %s: ", cfg->hook->rule);
	else
		fputs("sockreap: ", stderr);
	fprintf(stderr, "%zu socket%s would be killed", r->nplan, r->nplan == 1 ? "" : "s");
	say_named_left_out(r);
	fputs(" (dry run", stderr);
	say_phases(r, false);
	return run.exit_status;
}

/*
 * The rst engine's sockets: opened now in one namespace; with several, opened in each already
 * (open_in_ns), and the run goes on if any namespace that holds part of the plan has them.
 */
static bool rst_can_run(struct run *r)
{
	if (!r->visit.n)
		return engine_open_raw(&r->ectx) == 0;
	for (size_t i = 0; i < r->nplan; i++)
		if (r->nsx[r->set.v[i].netns].raw)
			return true;
	return !r->nplan;
}

/*
 * Several namespaces: what was opened inside those the plan does not act in (the rst engine's
 * sockets, the run lock's socket) is closed before the prompt, which may wait for hours: only
 * the namespaces acted in keep anything but their sock_diag handle.
 */
static void release_idle_namespaces(struct run *r)
{
	bool *acted = calloc(r->visit.n ? r->visit.n : 1, sizeof(*acted));

	if (!acted)
		return; /* kept open until the run ends: nothing worse */
	for (size_t i = 0; i < r->nplan; i++)
		acted[r->set.v[i].netns] = true;
	for (size_t i = 0; i < r->visit.n; i++) {
		if (acted[i])
			continue;
		rawio_close(r->nsx[i].raw);
		r->nsx[i].raw = NULL;
		if (r->nsx[i].lock >= 0)
			close(r->nsx[i].lock);
		r->nsx[i].lock = -1;
	}
	free(acted);
}

/*
 * --close-fd acts after the engine (close_fds): CAP_SYS_PTRACE, if held, stays with the
 * engine's capabilities until then (the engine's own drop, once its raw sockets are open,
 * keeps it too), to attach to other users' processes. The shutdown engine keeps it already.
 */
static bool keeps(const int *caps, size_t n, int cap)
{
	for (size_t i = 0; i < n; i++)
		if (caps[i] == cap)
			return true;
	return false;
}

static void keep_ptrace(struct run *r)
{
	size_t n = 0;

	if (!caps_have(CAP_SYS_PTRACE))
		return;
	if (!keeps(r->keep_caps, r->nkeep, CAP_SYS_PTRACE))
		r->keep_caps[r->nkeep++] = CAP_SYS_PTRACE;
	if (keeps(r->ectx.keep_caps, r->ectx.nkeep_caps, CAP_SYS_PTRACE))
		return;
	for (size_t i = 0; i < r->ectx.nkeep_caps; i++)
		r->engine_caps[n++] = r->ectx.keep_caps[i];
	r->engine_caps[n++] = CAP_SYS_PTRACE;
	r->ectx.keep_caps = r->engine_caps;
	r->ectx.nkeep_caps = n;
}

/* 4. No audit record, no kill; then only the engine's capabilities; then ask. */
static int stage_arm(struct run *r)
{
	const struct config *cfg = r->cfg;

	if (!cfg->no_audit) {
		char why[PATH_MAX + 128];
		/*
		 * Trusted owners of the file and its directories: root, and the caller, unless
		 * the caller is an operator of a setcap install (AT_SECURE), whose own file the
		 * operator could rewrite.
		 */
		uid_t trusted = getauxval(AT_SECURE) ? 0 : getuid();

		if (audit_open(&r->audit, cfg->audit_path, trusted, why, sizeof(why)) < 0) {
			size_t n = strlen(cfg->audit_path);
			/* why names the component refused: the file itself, or a directory above. */
			bool same = !strncmp(why, cfg->audit_path, n) && why[n] == ':';

			fprintf(stderr, "sockreap: cannot write audit log %s%s%s; nothing killed\n%s",
				cfg->audit_path, same ? "" : ": ", same ? why + n : why,
				/* Not options that are refused to a setcap install's caller. */
				trusted != getuid()
					? "  ask root to create it as PRIVILEGES in sockreap(8) says: "
					  "where the audit goes is root's choice\n"
					: "  choose another file with --audit-log PATH, or kill "
					  "without a record with --no-audit\n");
			return EXIT_GUARD;
		}
	} else if (!audit_syslog_reachable(&r->audit)) {
		fprintf(stderr, "sockreap: %s: no audit file (--no-audit) and no syslog daemon at %s: "
				"this kill would be recorded nowhere%s\n", cfg->yes ? "warning" : "refused",
			r->audit.syslog_path, cfg->yes ? "" : "; nothing killed (--yes kills anyway)");
		if (!cfg->yes)
			return EXIT_GUARD;
	}
	/*
	 * From here on only the engine's capabilities are of use: drop the rest before a person
	 * is asked (the prompt may wait for hours). The rst engine opens its sockets now (over
	 * several namespaces: opened in each already) and keeps nothing; auto keeps CAP_NET_RAW
	 * until it needs them (usually never), then drops it; over several namespaces, nothing.
	 */
	if (r->visit.n)
		release_idle_namespaces(r);
	if (r->engine == &engine_rst && !rst_can_run(r)) {
		fprintf(stderr, "sockreap: the rst engine cannot run here; nothing killed\n"
				"  'sockreap doctor' says what this machine supports\n");
		return EXIT_PRIV;
	}
	if (cfg->close_fd)
		keep_ptrace(r);
	if (!cfg->hook && caps_keep_only(r->keep_caps, r->nkeep) < 0) {
		fprintf(stderr, "sockreap: cannot drop capabilities; nothing killed\n");
		return EXIT_PRIV;
	}
	if (r->confirming && r->nplan) {
		struct output_fit fit;

		/* --apply: what is still there; the gone and changed are said above. */
		struct sock_set shown = { r->set.v, r->set.n - r->plan_missing, r->set.n };

		output_screen(STDERR_FILENO, &fit);
		output_table_fit(stderr, &shown, r->owners, false, &r->visit, &fit);
		note_owners(r);
		if (!output_confirm(stdin, stderr, r->nplan, "socket")) {
			fprintf(stderr, "sockreap: not confirmed; nothing killed\n");
			return EXIT_GUARD;
		}
	}
	return RUN_ON;
}

/*
 * Several namespaces: the plan is in namespace order; each namespace's part goes to the
 * engine with that namespace's handles (sock_diag for destroys, identity checks and
 * verification; the rst engine's raw, capture and route sockets; its tcp_rfc1337). The
 * destroy engine's extra threads open their netlink sockets where this process is, which is
 * our namespace: elsewhere one thread does it all. Returns the first error.
 */
static int act_namespaces(struct run *r)
{
	int first = 0;
	int workers = r->ectx.workers;

	for (size_t i = 0, j; i < r->nplan; i = j) {
		uint16_t k = r->set.v[i].netns;
		struct sock_set part;
		int ret;

		for (j = i + 1; j < r->nplan && r->set.v[j].netns == k; j++)
			;
		part = (struct sock_set){ r->set.v + i, j - i, j - i };
		r->ectx.d = r->nsd[k];
		r->ectx.workers = r->visit.v[k].inode == r->home ? workers : 1;
		r->ectx.raw = r->nsx[k].raw;
		r->ectx.raw_err = r->nsx[k].raw_err;
		r->ectx.rfc1337 = r->nsx[k].rfc1337;
		ret = r->engine->kill(&r->ectx, &part);
		diag_trim(r->nsd[k]);
		if (ret < 0 && !first)
			first = ret;
		/* Its capture buffers go with it: one namespace's at a time. */
		rawio_close(r->nsx[k].raw);
		r->nsx[k].raw = NULL;
	}
	r->ectx.d = NULL;
	r->ectx.raw = NULL;
	r->ectx.workers = workers;
	return first;
}

static int by_inode(const void *a, const void *b, void *arg)
{
	const struct netns_info *v = arg;
	uint64_t x = v[*(const uint16_t *)a].inode, y = v[*(const uint16_t *)b].inode;

	return x < y ? -1 : x > y;
}

/*
 * The run lock in every namespace the plan acts in (abstract unix names are per namespace,
 * so a lock taken only where we started would not keep out an `ip netns exec X sockreap`),
 * taken in inode order so that two runs over overlapping namespaces cannot each hold what
 * the other waits for. Held until the run ends (the sockets close with nsx).
 */
static void lock_namespaces(struct run *r)
{
	uint16_t *idx = malloc(r->visit.n * sizeof(*idx));
	const char **where = malloc(r->visit.n * sizeof(*where));
	char *labels = malloc(r->visit.n * (size_t)(4 * NAME_MAX + 32));
	int *fds = malloc(r->visit.n * sizeof(*fds));
	struct diag **ds = malloc(r->visit.n * sizeof(*ds));
	size_t n = 0;

	if (!idx || !where || !labels || !fds || !ds) {
		fprintf(stderr, "sockreap: warning: out of memory: acting without the run lock\n");
		goto out;
	}
	for (size_t i = 0; i < r->nplan; i++) {
		uint16_t k = r->set.v[i].netns;

		if ((!n || idx[n - 1] != k) && r->nsx[k].lock >= 0)
			idx[n++] = k;
	}
	qsort_r(idx, n, sizeof(*idx), by_inode, r->visit.v);
	/* Once each, should the plan ever not be contiguous per namespace. */
	size_t u = 0;

	for (size_t i = 0; i < n; i++)
		if (!u || idx[u - 1] != idx[i])
			idx[u++] = idx[i];
	n = u;
	for (size_t i = 0; i < n; i++) {
		char *label = labels + i * (size_t)(4 * NAME_MAX + 32);

		fds[i] = r->nsx[idx[i]].lock;
		ds[i] = r->nsd[idx[i]]; /* who holds a lock there: its own sock_diag */
		where[i] = ns_label(&r->visit.v[idx[i]], label, 4 * NAME_MAX + 32);
	}
	engine_exclusive_all(ds, fds, where, n, ENGINE_LOCK_NAME, ENGINE_LOCK_WAIT_MS);
out:
	free(ds);
	free(idx);
	free(where);
	free(labels);
	free(fds);
}

static const char *fd_result_of(void *arg, const struct sock_rec *rec, int32_t pid, int32_t fd,
				const char **why)
{
	const struct closefd_target *t = closefd_find(arg, rec->inode, pid, fd);

	*why = t ? t->why : NULL;
	return closefd_result_name(t ? t->result : CLOSEFD_NONE);
}

/*
 * --close-fd, after the engine: the owners' descriptors of every socket it killed (or found
 * gone), each process's in one attach. After, not before: the engine acts on the identity
 * the plan recorded (the cookie), whatever the process did with its fds meanwhile, and
 * close() of a socket the engine has already killed only frees it: it sends nothing and
 * cannot block (SO_LINGER), and a process we may not trace still has its socket killed as
 * without --close-fd. The cost: the peer gets the engine's RST, not a FIN.
 */
static void close_fds(struct run *r)
{
	struct timespec t;

	for (size_t i = 0; i < r->nplan; i++) {
		const struct sock_rec *rec = &r->set.v[i];
		struct sel_owner_info o;

		if ((rec->outcome != OUT_KILLED && rec->outcome != OUT_GONE) || rec->pid <= 0 ||
		    selector_ownerless(rec) || !r->owners)
			continue;
		for (size_t k = 0; r->owners->owner(r->owners->arg, rec, k, &o); k++)
			if (o.fd >= 0 && closefd_add(&r->fds, o.pid, o.fd, rec->inode) < 0) {
				fprintf(stderr, "sockreap: out of memory: descriptors left open\n");
				closefd_set_free(&r->fds);
				return;
			}
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	progress_say(&r->progress, "sockreap: close-fd: %zu descriptors", r->fds.n);
	r->fds_closed = closefd_run(&r->fds, NULL, caps_have(CAP_SYS_PTRACE));
	progress_clear(&r->progress);
	r->ms_close = ms_since(&t);
	r->owner_ctx.fd_result = fd_result_of;
	r->owner_ctx.fd_arg = &r->fds;
}

/* 5. Intents, the engine and its verification, results: signals wait from first to last. */
static int stage_act(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct audit_who who;
	struct timespec t0;
	int ret;

	/*
	 * One run acts at a time in this network namespace; wait for it before anything is
	 * recorded or held, so that an operator who gives up while waiting stops a run that did
	 * nothing. Released when the run ends.
	 */
	if (r->nplan && r->visit.n)
		lock_namespaces(r);
	else if (r->nplan)
		r->lock = engine_exclusive(r->d, ENGINE_LOCK_NAME, ENGINE_LOCK_WAIT_MS);
	audit_who_fill(&who);
	struct audit_run arun = { cfg->argc, cfg->argv, r->selector, r->engine->name, r->nplan,
				  &who, r->in_netns };

	if (cfg->apply)
		r->audit.plan = &r->audit_plan;
	audit_signals_hold(&r->held);
	r->audit.rule = cfg->hook ? cfg->hook->rule : NULL;
	audit_start(&r->audit, &arun);
	/*
	 * The destroy engine (auto's too) waits at a gate for each batch's intents: only the
	 * first chunk is on disk before it starts, the rest are written meanwhile. Other
	 * engines, and several namespaces, start once every intent is.
	 */
	bool pipelined = !r->visit.n && (r->engine == &engine_destroy || r->engine == &engine_auto);

	ret = audit_pipe_begin(&r->pipe, &r->audit, &r->set, r->owners,
			       r->visit.n ? r->visit.v : NULL, pipelined);
	if (ret < 0) {
		fprintf(stderr, "sockreap: cannot write audit log %s: %s; nothing killed\n",
			cfg->audit_path, strerror(-ret));
		return EXIT_GUARD;
	}
	if (!cfg->hook)
		audit_syslog_intent(&r->audit, &arun, cfg->no_audit ? NULL : cfg->audit_path);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->scope = (struct diag_filter){ 0, 0, 0, r->pf.bc, r->pf.bclen, true };
	r->ectx.d = r->d;
	r->ectx.scope = &r->scope;
	r->ectx.owners = r->owners;
	r->ectx.peer_reset = !cfg->no_peer_reset;
	r->ectx.probe_wait_ms = ENGINE_PROBE_WAIT_MS;
	r->ectx.workers = workers_available();
	if (engine_sysctl("/proc/sys/net/ipv4/tcp_rfc1337", &r->ectx.rfc1337) < 0)
		r->ectx.rfc1337 = -1;
	/* Skipped records are behind the plan: the engine gets only the ones to act on. */
	struct sock_set plan = { r->set.v, r->nplan, r->nplan };

	progress_say(&r->progress, "sockreap: kill: %zu sockets (%s engine)", r->nplan,
		     r->engine->name);
	r->ectx.gate = audit_pipe_gate(&r->pipe);
	ret = !r->nplan ? 0 : r->visit.n ? act_namespaces(r) : r->engine->kill(&r->ectx, &plan);
	r->elapsed_ms = ms_since(&t0);
	progress_clear(&r->progress);
	if (ret < 0)
		fprintf(stderr, "sockreap: warning: could not verify the kill: %s\n",
			strerror(-ret));
	r->ectx.gate = NULL;
	int pipe_err = r->intents_err = audit_pipe_end(&r->pipe);

	if (pipe_err < 0)
		fprintf(stderr, "sockreap: cannot write audit log %s: %s after %zu of %zu intents; "
				"the %zu sockets without one were not touched (skipped, no-intent)\n",
			cfg->audit_path, strerror(-pipe_err), r->pipe.done, r->set.n,
			r->nplan > r->pipe.done ? r->nplan - r->pipe.done : 0);
	if (cfg->close_fd)
		close_fds(r);
	plan_count(&r->set, &r->counts);
	r->counts.close_fd = cfg->close_fd;
	r->counts.fds_closed = r->fds_closed;
	for (size_t i = 0; i < r->set.n; i++)
		audit_result_fds(&r->audit, &r->set.v[i], r->owners);
	audit_summary(&r->audit, &r->counts, r->elapsed_ms);
	r->audit_err = audit_commit(&r->audit);
	if (!cfg->hook)
		audit_syslog(&r->audit, &arun, &r->counts, cfg->no_audit);
	if (r->audit_err < 0)
		audit_syslog_missing(&r->audit, cfg->audit_path, r->set.n, r->audit_err);
	r->signal = audit_signals_release(&r->held);
	return RUN_ON;
}

/*
 * --close-fd's summary: how many descriptors went back to their processes, and one line per
 * descriptor refused or failed, naming why.
 */
static bool fds_refused(const struct run *r)
{
	for (size_t i = 0; i < r->fds.n; i++)
		if (r->fds.v[i].result == CLOSEFD_DENIED || r->fds.v[i].result == CLOSEFD_FAILED)
			return true;
	return false;
}

static void say_fds(const struct run *r)
{
	size_t n[CLOSEFD_FAILED + 1] = { 0 };

	for (size_t i = 0; i < r->fds.n; i++)
		n[r->fds.v[i].result <= CLOSEFD_FAILED ? r->fds.v[i].result : CLOSEFD_FAILED]++;
	fprintf(stderr, "sockreap: --close-fd: %zu descriptor%s returned to %s process%s (%.1f "
			"ms)", r->fds_closed, r->fds_closed == 1 ? "" : "s",
		r->fds_closed == 1 ? "its" : "their", r->fds_closed == 1 ? "" : "es", r->ms_close);
	for (unsigned k = CLOSEFD_CHANGED; k <= CLOSEFD_FAILED; k++)
		if (n[k])
			fprintf(stderr, ", %zu %s", n[k], closefd_result_name(k));
	fputc('\n', stderr);
	for (size_t i = 0; i < r->fds.n; i++) {
		const struct closefd_target *t = &r->fds.v[i];

		if (t->result != CLOSEFD_DENIED && t->result != CLOSEFD_FAILED)
			continue;
		fprintf(stderr, "sockreap: --close-fd: pid %d fd %d: %s (%s%s%s)%s\n", t->pid, t->fd,
			closefd_result_name(t->result), t->why ? t->why : "",
			t->err ? ": " : "", t->err ? strerror(t->err) : "",
			t->result == CLOSEFD_DENIED ? "; the process was not touched" : "");
	}
	if (n[CLOSEFD_CHANGED])
		fprintf(stderr, "sockreap: --close-fd: a descriptor said changed refers to another "
				"file now: it was left open\n");
}

/* 6. Outcomes, what went wrong and why, and the exit status they earn. */
static int stage_report(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct output_run run = { "kill", r->selector, r->engine->name, &r->counts, r->elapsed_ms,
				  0, r->in_netns, r->visit.n ? &r->visit : NULL,
				  procmap_source(r->pm) };
	size_t by_rst = 0, by_shut = 0, denied_shut = 0;
	/* Records not whole exit 3 though the sockets are dead; a held signal, 128 + signo. */
	int status = r->signal ? 128 + r->signal
		     : r->audit_err < 0 || r->intents_err < 0 ? EXIT_PARTIAL
							       : (int)plan_exit_status(&r->counts);

	/* A namespace named and left out: not all that was asked was done (never 4 over it). */
	if ((status == EXIT_DONE || status == EXIT_NOMATCH) && named_left_out(r))
		status = EXIT_PARTIAL;

	/* A descriptor that was to be closed and could not be: not all that was asked. */
	if (status == EXIT_DONE && fds_refused(r))
		status = EXIT_PARTIAL;
	run.exit_status = status;
	if (cfg->hook) {
		cfg->hook->counts = r->counts;
		cfg->hook->visit = r->visit.n ? &r->visit : NULL;
		if (cfg->hook->after_act)
			cfg->hook->after_act(cfg->hook->arg, &r->set, r->nplan);
	}
	if (cfg->json)
		output_json(stdout, &r->set, r->owners, &run);
	else if (!cfg->hook) {
		struct output_fit fit;

		output_screen(STDOUT_FILENO, &fit);
		output_table_fit(stdout, &r->set, r->owners, true, &r->visit, &fit);
	}
	if (!cfg->json && !cfg->hook)
		note_owners(r);
	if (cfg->hook)
		fprintf(stderr, "sockreap: watch: rule %s: ", cfg->hook->rule);
	else
		fputs("sockreap: ", stderr);
	fprintf(stderr, "%zu selected: ", r->counts.total);
	output_counts(stderr, &r->counts);
	say_named_left_out(r);
	for (size_t i = 0; i < r->set.n; i++) {
		by_rst += r->set.v[i].engine == SOCK_ENGINE_RST;
		by_shut += r->set.v[i].engine == SOCK_ENGINE_SHUTDOWN;
		denied_shut += r->set.v[i].engine == SOCK_ENGINE_SHUTDOWN &&
			       r->set.v[i].outcome == OUT_DENIED;
	}
	if (r->engine == &engine_auto && by_rst)
		fprintf(stderr, " (auto: destroy %zu, rst %zu", r->nplan - by_rst, by_rst);
	else if (r->engine == &engine_shutdown && by_shut < r->nplan)
		fprintf(stderr, " (shutdown %zu, in its place: destroy %zu, rst %zu", by_shut,
			r->nplan - by_shut - by_rst, by_rst);
	else
		fprintf(stderr, " (%s", r->engine->name);
	say_phases(r, true);
	if (r->counts.n[OUT_DENIED] > denied_shut)
		fprintf(stderr, "sockreap: denied sockets need CAP_NET_ADMIN over their network "
				"namespace\n");
	if (r->engine == &engine_shutdown)
		engine_shutdown_explain(stderr, &r->set);
	if (cfg->close_fd && r->nplan)
		say_fds(r);
	explain_failures(&r->set, r->engine);
	explain_skipped(nskipped(r), r->pm ? procmap_unknown_reason(r->pm) : NULL);
	/* The sockets are dead but their record is not whole: say so, and where else it is. */
	if (r->audit_err < 0) {
		bool syslogd = audit_syslog_reachable(&r->audit);
		const char *sys = r->audit.syslog_path;

		if (r->audit.results_missing || r->audit.summary_missing)
			fprintf(stderr, "sockreap: audit log %s: %zu of %zu results%s could not be "
					"written (%s); %s%s%s\n", cfg->audit_path,
				r->audit.results_missing, r->set.n,
				r->audit.summary_missing ? " and the summary" : "",
				strerror(-r->audit_err),
				syslogd ? "syslog says the same" : "no syslog daemon at ",
				syslogd ? "" : sys, syslogd ? "" : " either: they are recorded nowhere");
		else
			fprintf(stderr, "sockreap: audit log %s: the results could not be synced to "
					"disk (%s); %s%s%s\n", cfg->audit_path,
				strerror(-r->audit_err),
				syslogd ? "syslog says the same" : "no syslog daemon at ",
				syslogd ? "" : sys, syslogd ? "" : " to say so either");
	}
	if (r->signal)
		fprintf(stderr, "sockreap: %s arrived during the kill: held until every record was "
				"written\n", audit_signal_name(r->signal));
	return status;
}

/*
 * --explain with --netns/--netns-of/--all-netns: the namespaces a run would visit, each once,
 * found as the run finds them; none is entered and nothing is dumped.
 */
/* Whether the one-pass discovery will spare namespaces their dump, or why not. */
static void explain_collect(FILE *f, const struct config *cfg)
{
	struct sel_prefilter pf;
	char why[160];

	selector_prefilter(cfg->ast, &pf);
	if (!pf.tcp) {
		fputs("collect:    sock_diag dumps (no TCP socket to find)\n", f);
		return;
	}
	if (!nsdisc_states_provable(pf.states)) {
		fputs("collect:    sock_diag dumps: the states include time-wait, syn-recv, "
		      "fin-wait-2 or close, which sockets without a file can be in\n", f);
		return;
	}
	if (!nsdisc_usable(why, sizeof(why))) {
		fprintf(f, "collect:    sock_diag dumps (%s)\n", why);
		return;
	}
	fputs("collect:    TCP: one BPF pass over every task's socket files; a namespace whose\n"
	      "            TCP counts (sockstat) it matches is not dumped: its sockets are\n"
	      "            fetched by exact lookups; the rest are dumped\n", f);
}

static int explain_netns(FILE *f, const struct config *cfg, bool json)
{
	struct netns_list l = { 0 };
	char label[4 * NAME_MAX + 32], shown[4 * PATH_MAX];

	if (cfg->all_netns && netns_discover(NULL, &l) < 0)
		goto nomem;
	for (size_t i = 0; i < cfg->nnetns; i++) {
		const struct cli_netns *c = &cfg->netns_v[i];
		struct netns_info info, *e;
		int fd = netns_open(NULL, c->spec, c->by_pid, &info);
		size_t n = l.n;

		if (fd < 0) {
			text_escape(shown, sizeof(shown), c->spec, strlen(c->spec));
			fprintf(json ? stderr : f, "%s%s \"%s\": %s (left out)\n",
				json ? "sockreap: netns: " : "netns:      ",
				c->by_pid ? "--netns-of" : "--netns", shown, strerror(-fd));
			continue;
		}
		close(fd);
		if (!(e = netns_list_get(&l, info.inode)))
			goto nomem;
		if (l.n > n)
			*e = info;
	}
	if (json) {
		output_explain_json(f, cfg->ast, &l);
		netns_list_free(&l);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++)
		fprintf(f, "netns:      %s (inode %llu, pid %d)\n",
			ns_label(&l.v[i], label, sizeof(label)), (unsigned long long)l.v[i].inode,
			(int)l.v[i].pid);
	if (cfg->all_netns || cfg->nnetns > 1) {
		fprintf(f, "            %zu network namespace%s, each entered once to open its "
			   "sock_diag sockets\n", l.n, l.n == 1 ? "" : "s");
		explain_collect(f, cfg);
	}
	netns_list_free(&l);
	return 0;
nomem:
	netns_list_free(&l);
	fprintf(stderr, "sockreap: out of memory\n");
	return EXIT_ERROR;
}

/*
 * Where owners would be read from: the named pids' /proc/PID/fd when the selector's pids
 * decide (already fast), else the BPF iterator if it loads (tried for real, as doctor does).
 */
static void explain_owners(FILE *f, const struct sel_node *ast)
{
	int32_t *pids = NULL;
	int npids = selector_pid_scope(ast, &pids);
	char why[160];

	free(pids);
	if (npids >= 0)
		fprintf(f, "owners:     /proc/PID/fd of the named pids only\n");
	else if (procmap_bpf_usable(why, sizeof(why)))
		fprintf(f, "owners:     a BPF task_file iterator (every socket file of every "
			   "task), /proc for the owners' names\n");
	else
		fprintf(f, "owners:     /proc (every fd of every process); not the BPF iterator: "
			   "%s\n", why);
}

int reap_explain(FILE *f, const struct config *cfg)
{
	bool netns = cfg->nnetns || cfg->all_netns;

	if (cfg->forwarded)
		return forward_explain(f, cfg);
	/* As the run will: dev IFNAME in other namespaces is tested in user space. */
	if (netns && selector_dev_prepare(cfg->ast, 1) < 0) {
		fprintf(stderr, "sockreap: out of memory\n");
		return EXIT_ERROR;
	}
	if (cfg->json && !netns) {
		output_explain_json(f, cfg->ast, NULL);
		return 0;
	}
	if (!cfg->json) {
		output_explain(f, cfg->ast);
		explain_owners(f, cfg->ast);
	}
	return netns ? explain_netns(f, cfg, cfg->json) : 0;
}

int reap_run(const struct config *cfg)
{
	struct run r = { .cfg = cfg, .engine = engine_find(cfg->engine ? cfg->engine : "auto"),
			 .lock = -1, .disc_iter = -1 };
	int (*const stages[])(struct run *) = { stage_prepare, stage_collect, stage_show,
						stage_arm, stage_act, stage_report };
	int status = RUN_ON;

	if (cfg->forwarded)
		return forward_run(cfg);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.progress = (struct progress){ isatty(STDERR_FILENO), false, &r.t0, 0,
				       progress_after_ms() };
	audit_init(&r.audit);
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]) && status == RUN_ON; i++)
		status = stages[i](&r);
	/* A signal that came while a stage gave up with the records open still counts. */
	if (r.held.held) {
		int late = audit_signals_release(&r.held);

		if (late)
			status = 128 + late;
	}
	if (r.lock >= 0)
		close(r.lock);
	rawio_close(r.ectx.raw);
	audit_close(&r.audit);
	procmap_free(r.pm);
	disc_free(&r);
	plan_guards_free(&r.guards);
	diag_close(r.d);
	for (size_t i = 0; r.nsd && i < r.visit.n; i++)
		diag_close(r.nsd[i]);
	for (size_t i = 0; r.nsx && i < r.visit.n; i++) {
		rawio_close(r.nsx[i].raw);
		if (r.nsx[i].lock >= 0)
			close(r.nsx[i].lock);
	}
	free(r.nsx);
	free(r.nsd);
	netns_list_free(&r.visit);
	sock_set_free(&r.set);
	planfile_free(&r.plan);
	closefd_set_free(&r.fds);
	return status;
}
