// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command line: one option table generates the getopt string, the struct option array and
 * --help. Selector flags parse through the selector's own predicate parser, so the same
 * words mean the same things in both places; repeats of a flag are OR-ed, different flags
 * and the expression are AND-ed.
 */
#include "cli.h"
#include "plan.h"
#include "planfile.h"
#include "text.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
	OPT_PORT = 256,
	OPT_SPORT,
	OPT_DPORT,
	OPT_SRC,
	OPT_DST,
	OPT_MAX,
	OPT_ALL,
	OPT_INCLUDE_SELF,
	OPT_AUDIT_LOG,
	OPT_NO_AUDIT,
	OPT_EXPLAIN,
	OPT_COMM,
	OPT_UID,
	OPT_CGROUP,
	OPT_UNIT,
	OPT_IDLE,
	OPT_ENGINE,
	OPT_NO_PEER_RESET,
	OPT_NO_OWNERS,
	OPT_CLOSE_FD,
	OPT_NETNS,
	OPT_NETNS_OF,
	OPT_ALL_NETNS,
	OPT_SAVE_PLAN,
	OPT_APPLY,
	OPT_MAX_AGE,
	OPT_GROUP_BY,
	OPT_FORWARDED,
};

struct cli_option {
	const char *name;
	int val;
	const char *arg;	/* NULL: no argument */
	const char *keyword;	/* selector predicate this flag stands for */
	const char *help;	/* NULL: recognised but not shown (refused for now) */
};

static const struct cli_option options[] = {
	{ "state", 's', "LIST", "state", "TCP states or groups, comma-separated (close-wait,fin-wait-2)" },
	{ "pid", 'p', "LIST", "pid", "sockets held by these processes" },
	{ "port", OPT_PORT, "PORT", "port", "either end's port: N, A-B, :N or a service name" },
	{ "sport", OPT_SPORT, "PORT", "sport", "local port" },
	{ "dport", OPT_DPORT, "PORT", "dport", "peer port" },
	{ "src", OPT_SRC, "ADDR", "src", "local address or CIDR (IPv4 or IPv6)" },
	{ "dst", OPT_DST, "ADDR", "dst", "peer address or CIDR" },
	{ "comm", OPT_COMM, "GLOB", "comm", "owner's process name (exact or glob)" },
	{ "uid", OPT_UID, "UID", "uid", "socket owner's uid or user name" },
	{ "cgroup", OPT_CGROUP, "PATH", "cgroup", "created in this cgroup v2 group or below" },
	{ "unit", OPT_UNIT, "NAME", "unit", "created in this systemd unit's cgroup" },
	{ "idle", OPT_IDLE, "DURATION", "idle", "idle at least this long (5m; or >2h, <30s)" },
	{ "tcp", 't', NULL, NULL, "TCP sockets (the default)" },
	{ "udp", 'u', NULL, NULL, "UDP sockets (a destroyed UDP socket stays bound)" },
	{ "ipv4", '4', NULL, NULL, "IPv4 sockets only" },
	{ "ipv6", '6', NULL, NULL, "IPv6 sockets only" },
	{ "dry-run", 'n', NULL, NULL, "show what would be killed; touch nothing" },
	{ "json", 'j', NULL, NULL, "print one JSON document instead of a table" },
	{ "group-by", OPT_GROUP_BY, "KEY[,KEY]", NULL, "with -n: count the sockets per key instead "
						       "of listing them; keys: state pid comm local "
						       "peer dport sport uid unit netns" },
	{ "explain", OPT_EXPLAIN, NULL, NULL, "show the canonical selector, what runs in the kernel and "
							  "the namespaces visited" },
	{ "engine", OPT_ENGINE, "NAME", NULL, "destroy, rst or auto (the default: destroy, rst where "
					      "the kernel cannot); shutdown: FIN through the "
					      "owner's fd, auto for sockets without one" },
	{ "no-peer-reset", OPT_NO_PEER_RESET, NULL, NULL, "rst: leave the peer end alone" },
	{ "close-fd", OPT_CLOSE_FD, NULL, NULL, "also close the killed sockets' descriptors inside "
						"their owners (ptrace; needs --pid, --comm or --unit)" },
	{ "no-owners", OPT_NO_OWNERS, NULL, NULL, "do not look up owning processes in /proc "
						     "(shown as ?)" },
	{ "netns", OPT_NETNS, "NAME|PATH", NULL, "act in this network namespace: a name under "
						  "/run/netns or a namespace file (repeatable)" },
	{ "netns-of", OPT_NETNS_OF, "PID", NULL, "act in the network namespace process PID lives in "
						 "(repeatable)" },
	{ "all-netns", OPT_ALL_NETNS, NULL, NULL, "act in every network namespace on the host, "
						  "ours included" },
	{ "save-plan", OPT_SAVE_PLAN, "FILE", NULL, "with --dry-run: save the plan as a JSON file "
						    "for --apply (mode 0600)" },
	{ "apply", OPT_APPLY, "FILE", NULL, "kill the sockets of a saved plan that are still there "
					    "(same cookie and 4-tuple); no selector" },
	{ "max-age", OPT_MAX_AGE, "DURATION", NULL, "with --apply: refuse a plan older than this "
						    "(default 15m)" },
	{ "forwarded", OPT_FORWARDED, NULL, NULL, "select flows forwarded through this host "
						     "(conntrack entries) instead of sockets" },
	{ "yes", 'y', NULL, NULL, "do not ask for confirmation on a terminal" },
	{ "max", OPT_MAX, "N", NULL, "refuse a plan of more than N sockets" },
	{ "all", OPT_ALL, NULL, NULL, "allow an empty selector (every socket but listeners)" },
	{ "include-self", OPT_INCLUDE_SELF, NULL, NULL, "may select the caller's own SSH connection" },
	{ "audit-log", OPT_AUDIT_LOG, "PATH", NULL, "audit file (default " CLI_DEFAULT_AUDIT_LOG ")" },
	{ "no-audit", OPT_NO_AUDIT, NULL, NULL, "kill without an audit file (logged to syslog)" },
	{ "help", 'h', NULL, NULL, "show this help" },
	{ "version", 'V', NULL, NULL, "show the version" },
};

#define NOPTS (sizeof(options) / sizeof(options[0]))

/*
 * "  LEFT  help text", the help wrapped at word boundaries so that every line fits 80
 * columns, continuation lines under the help's first column.
 */
static void put_wrapped(FILE *f, const char *left, const char *help)
{
	enum { HELP_COL = 27, WIDTH = 80 };
	const char *p = help;

	fprintf(f, "  %-24s ", left);
	while (*p) {
		size_t room = WIDTH - HELP_COL, n = strlen(p);

		if (n > room) {
			n = room;
			while (n && p[n] != ' ')
				n--;
			if (!n) /* one word longer than the room: let it overflow, whole */
				n = strcspn(p, " ");
		}
		fprintf(f, "%.*s\n", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(f, "%*s", HELP_COL, "");
	}
}

void cli_usage(FILE *f)
{
	fprintf(f, "Usage: sockreap [OPTIONS] [SELECTOR]\n"
		   "       sockreap --dry-run [OPTIONS] [SELECTOR]\n"
		   "       sockreap --apply FILE [--yes] [--json] [--engine E] [--max-age DURATION]\n"
		   "       sockreap doctor [--json] [--netns NAME|PATH]... [--netns-of PID]...\n"
		   "                       [--all-netns]\n"
		   "\n"
		   "Force-close TCP (and, when asked, UDP) sockets that match SELECTOR\n"
		   "(SOCK_DESTROY by socket cookie, or exact RST segments: --engine).\n"
		   "'sockreap doctor' tells which engines work on this machine, and why\n"
		   "(with --netns, --netns-of or --all-netns: in each of those namespaces).\n"
		   "\n"
		   "Options:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char left[40];
		const struct cli_option *o = &options[i];

		if (!o->help)
			continue;
		if (o->val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->val, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		put_wrapped(f, left, o->help);
	}
	fprintf(f, "\n"
		   "Selector (flags are AND-ed with it; repeats of one flag are OR-ed):\n"
		   "  state LIST | sport/dport/port [OP] PORT | src/dst/addr [!=] ADDR[/LEN]\n"
		   "  pid LIST | ppid [OP] N | comm [!=] GLOB | exe [!=] PATH | uid [OP] N\n"
		   "  cgroup [!=] /PATH | unit [!=] NAME | idle OP DURATION | recv-q/send-q OP N\n"
		   "  inode N | cookie HEX | family inet|inet6 | proto tcp|udp\n"
		   "  mark [!=] V[/M] | dev [!=] IFNAME\n"
		   "  netns [!=] NAME|PATH | netns inode N | netns pid N (the run visits them)\n"
		   "  combined with and (&&, or nothing), or (||), not (!) and parentheses.\n"
		   "  OP is one of = == != < <= > >= or, as in ss, eq neq ne lt le gt ge.\n"
		   "  States: established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait\n"
		   "  close close-wait last-ack listen closing; groups: all connected\n"
		   "  synchronized bucket big stuck.  \"state A state B\" is either state.\n"
		   "  Options go before the selector.\n"
		   "\n"
		   "Example:\n"
		   "  sockreap --dry-run 'state close-wait and dport 5432 and idle > 5m'\n"
		   "\n"
		   "Exit status: 0 done, 1 nothing matched, 2 usage or selector error,\n"
		   "3 some sockets not killed, 4 missing privilege or kernel support,\n"
		   "5 refused by a guard, 6 an error before anything was attempted.\n"
		   "See sockreap(8).\n");
}

/* fputs of s made terminal-safe (text_escape), without a bound on its length. */
static void put_escaped(FILE *f, const char *s, size_t len)
{
	char small[1024];
	size_t need = text_escape(small, sizeof(small), s, len);
	char *big = need < sizeof(small) ? NULL : malloc(need + 1);

	if (big)
		text_escape(big, need + 1, s, len);
	fputs(big ? big : small, f);
	free(big);
}

void cli_print_error(FILE *f, const char *what, const char *src, int src_offset,
		     const struct sel_error *err)
{
	size_t srclen = strlen(src), at = (size_t)src_offset + (size_t)(err->pos > 0 ? err->pos : 0);
	size_t len = err->len > 0 ? (size_t)err->len : 1, cols;

	/* The input may hold anything a name can (escape sequences): quoted escaped. */
	fprintf(f, "sockreap: %s: ", what);
	put_escaped(f, err->msg, strlen(err->msg));
	fputs("\n  ", f);
	put_escaped(f, src, srclen);
	fputs("\n  ", f);
	/* The caret goes under the escaped text: count its columns, not the input's bytes. */
	if (at > srclen)
		at = srclen;
	cols = text_columns(src + at, at + len > srclen ? srclen - at : len);
	fprintf(f, "%*s", (int)text_columns(src, at), "");
	for (size_t i = 0; i < (cols ? cols : 1); i++)
		fputc('^', f);
	fputc('\n', f);
}

/* The values one flag was given, OR-ed once parsing ends (balanced: repeats are many). */
struct repeats {
	struct sel_node **v;
	size_t n, cap;
};

static int repeats_push(struct repeats *r, struct sel_node *n)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4;
		struct sel_node **v = realloc(r->v, cap * sizeof(*v));

		if (!v) {
			sel_node_free(n);
			return -ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = n;
	return 0;
}

static void repeats_free(struct repeats *r)
{
	for (size_t i = 0; i < r->n; i++)
		sel_node_free(r->v[i]);
	free(r->v);
	*r = (struct repeats){ 0 };
}

/* argv as typed may hold anything: quoted back in a message, it is escaped for the terminal. */
struct shown {
	char s[256];
};

static const char *shown(struct shown *b, const char *arg)
{
	text_escape(b->s, sizeof(b->s), arg, strlen(arg));
	return b->s;
}

static int and_into(struct sel_node **acc, struct sel_node *n, enum sel_kind kind)
{
	if (!*acc) {
		*acc = n;
		return 0;
	}
	struct sel_node *b = sel_node_new_binary(kind, *acc, n);

	if (!b) {
		sel_node_free(n);
		return -ENOMEM;
	}
	*acc = b;
	return 0;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);

	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* --netns NAME|PATH is not empty and fits a selector value; --netns-of PID is a positive number. 0 or -EINVAL. */
int cli_check_netns_arg(bool by_pid, const char *arg, FILE *errf)
{
	struct shown b;
	char *end;
	long v;

	if (!by_pid) {
		size_t len = strlen(arg);

		/* The expression's limit for a value (selector_parse.c): the flag is the same atom. */
		if (len > CLI_NETNS_SPEC_MAX) {
			fprintf(errf, "sockreap: --netns: name or path too long (%zu characters; at "
				      "most %d)\n", len, CLI_NETNS_SPEC_MAX);
			return -EINVAL;
		}
		/* The selector language has no escapes: a value is quoted with the other quote. */
		if (strchr(arg, '\'') && strchr(arg, '"')) {
			fprintf(errf, "sockreap: --netns: a name with both ' and \" cannot be written "
				      "in a selector: \"%s\"; --netns-of PID reaches it through a "
				      "process in it\n",
				shown(&b, arg));
			return -EINVAL;
		}
		if (!len) {
			fprintf(errf, "sockreap: --netns: empty name\n");
			return -EINVAL;
		}
		if (!selector_netns_name_ok(arg)) {
			fprintf(errf, "sockreap: --netns: invalid network namespace name \"%s\" (a "
				      "name under /run/netns, or a path with a /)\n", shown(&b, arg));
			return -EINVAL;
		}
		return 0;
	}
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || *arg < '0' || *arg > '9' || v <= 0 || v > INT32_MAX) {
		fprintf(errf, "sockreap: --netns-of: not a process id: \"%s\"\n", shown(&b, arg));
		return -EINVAL;
	}
	return 0;
}

/*
 * --comm, --unit and --cgroup take a name, not selector syntax: "Web Content" is one comm, and
 * a value with spaces or quotes is quoted here with the quote it does not contain (the
 * language has no escapes), so the flag selects exactly the name given. A longer value goes
 * through as it is, for the parser's own "too long" message. NULL after a message: both quotes.
 */
static const char *name_flag_value(const struct cli_option *o, const char *arg, char *buf,
				   size_t size, FILE *errf)
{
	struct shown b;
	bool sq = strchr(arg, '\''), dq = strchr(arg, '"');

	if (o->val != OPT_COMM && o->val != OPT_UNIT && o->val != OPT_CGROUP)
		return arg;
	if (sq && dq) {
		fprintf(errf, "sockreap: --%s: a name with both ' and \" cannot be written in a "
			      "selector: \"%s\"\n", o->name, shown(&b, arg));
		return NULL;
	}
	if (!sq && !dq && !strpbrk(arg, " \t\n\v\f\r"))
		return arg;
	if (strlen(arg) + 3 > size)
		return arg;
	snprintf(buf, size, "%c%s%c", dq ? '\'' : '"', arg, dq ? '\'' : '"');
	return buf;
}

/*
 * Whether arg would be an option if it came first: "--NAME[=...]" for any NAME, or "-X..."
 * whose X is one of our short options. "-bash" (a login shell's comm) is a value.
 */
static bool looks_like_option(const char *arg)
{
	if (arg[0] != '-' || !arg[1])
		return false;
	if (arg[1] == '-')
		return arg[2] != '\0';
	for (size_t i = 0; i < NOPTS; i++)
		if (options[i].val < 256 && options[i].val == (unsigned char)arg[1])
			return true;
	return false;
}

/*
 * Options go before the selector (getopt stops at its first word): one after it would be
 * read as selector text, or, with GNU argument permutation, could turn a comm value such as
 * "-n" into --dry-run or "-y" into --yes. Refused with a way out. After "--", every argument
 * is the selector's. Returns true (and says why) when one is found.
 */
static bool option_after_selector(int argc, char **argv, int first, FILE *errf)
{
	if (first > 1 && !strcmp(argv[first - 1], "--"))
		return false;
	for (int i = first; i < argc; i++) {
		struct shown b;

		if (!looks_like_option(argv[i]))
			continue;
		struct shown a;

		fprintf(errf, "sockreap: options go before the selector: \"%s\" comes after "
			      "\"%s\"\n",
			shown(&b, argv[i]), shown(&a, argv[first]));
		/*
		 * Not "goes after --": `comm -- -n` follows that to the letter, and its "--" is
		 * a selector word like any other. Show the command that means it.
		 */
		fputs("  (a selector with a value that starts with \"-\": put \"--\" before the "
		      "selector's first word: sockreap [OPTIONS] --", errf);
		for (int k = first; k < argc; k++)
			if (strcmp(argv[k], "--"))
				fprintf(errf, " %s", shown(&a, argv[k]));
		fputs(")\n", errf);
		return true;
	}
	return false;
}

/*
 * doctor's --netns X, --netns=X, --netns-of PID: 1 when argv[*i] is one (its value taken, *i
 * moved past it), 0 when it is not, -1 after printing why it is wrong.
 */
static int doctor_netns_arg(struct config *cfg, int argc, char **argv, int *i, FILE *errf)
{
	static const char *const names[] = { "--netns", "--netns-of" };

	for (int k = 0; k < 2; k++) {
		size_t len = strlen(names[k]);
		const char *val;

		if (strncmp(argv[*i], names[k], len) || (argv[*i][len] && argv[*i][len] != '='))
			continue;
		if (argv[*i][len] == '=') {
			val = argv[*i] + len + 1;
		} else if (*i + 1 < argc) {
			val = argv[++*i];
		} else {
			fprintf(errf, "sockreap: doctor: option \"%s\" needs an argument\n", names[k]);
			return -1;
		}
		if (cli_check_netns_arg(k == 1, val, errf) < 0)
			return -1;
		if (cfg->nnetns == CLI_NETNS_MAX) {
			fprintf(errf, "sockreap: doctor: more than %d --netns/--netns-of; "
				      "--all-netns looks at every namespace\n", CLI_NETNS_MAX);
			return -1;
		}
		cfg->netns_v[cfg->nnetns].spec = val;
		cfg->netns_v[cfg->nnetns++].by_pid = k == 1;
		return 1;
	}
	return 0;
}

/* sockreap doctor [--json] [--netns NAME|PATH]... [--netns-of PID]... [--all-netns] */
static int parse_doctor(struct config *cfg, int argc, char **argv, FILE *errf)
{
	cfg->action = CLI_DOCTOR;
	for (int i = 2; i < argc; i++) {
		int ret = doctor_netns_arg(cfg, argc, argv, &i, errf);

		if (ret < 0)
			return EXIT_USAGE;
		if (ret)
			continue;
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			cfg->json = true;
		} else if (!strcmp(argv[i], "--all-netns")) {
			cfg->all_netns = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cfg->action = CLI_HELP;
		} else {
			struct shown b;

			fprintf(errf, "sockreap: doctor: unknown argument \"%s\" (it takes --json, "
				      "--netns, --netns-of and --all-netns)\n"
				      "Try 'sockreap --help'.\n", shown(&b, argv[i]));
			return EXIT_USAGE;
		}
	}
	if (cfg->all_netns && cfg->nnetns) {
		fprintf(errf, "sockreap: doctor: --all-netns already looks at every network "
			      "namespace: give it or --netns/--netns-of, not both\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* The first key of spec that needs owners (groupby_needs_owners is true). */
static unsigned first_owner_key(const struct groupby_spec *spec)
{
	for (size_t i = 0; i < spec->n; i++)
		if (spec->k[i] == GB_PID || spec->k[i] == GB_COMM)
			return spec->k[i];
	return GB_PID;
}

/* --netns and --netns-of share one group of repeats: the option table's --netns entry. */
static size_t netns_group(void)
{
	size_t i = 0;

	while (i < NOPTS && options[i].val != OPT_NETNS)
		i++;
	return i;
}

static bool same_atom_ns(const struct sel_node *a, const struct sel_node *b)
{
	if (a->u.ns.inode || b->u.ns.inode)
		return a->u.ns.inode == b->u.ns.inode;
	return (a->u.ns.pid != 0) == (b->u.ns.pid != 0) && !strcmp(a->u.ns.spec, b->u.ns.spec);
}

/*
 * The namespaces a run visits, from the AST: each namespace a netns atom names, and the one
 * we started in, where the selector can match a socket there (a namespace where it cannot is
 * not entered); a --netns that does not exist is kept, for the run to say it is skipped.
 * --all-netns visits every one: the atoms only filter. Fills netns_v (none: the run stays
 * where it started), and netns for a run that visits one other namespace.
 */
static int derive_netns(struct config *cfg, FILE *errf)
{
	const struct sel_node *v[2 * CLI_NETNS_MAX];
	size_t n = selector_netns_atoms(cfg->ast, v, 2 * CLI_NETNS_MAX);
	bool home_named = false;
	uint64_t home = 0;
	struct stat st;

	if (!n || cfg->all_netns)
		return 0;
	if (n > 2 * CLI_NETNS_MAX) {
		fprintf(errf, "sockreap: the selector names more than %d network namespaces; "
			      "--all-netns visits every one\n", 2 * CLI_NETNS_MAX);
		return -EINVAL;
	}
	if (stat("/proc/self/ns/net", &st) == 0)
		home = st.st_ino;
	for (size_t i = 0; i < n; i++) {
		const struct sel_node *a = v[i];
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = same_atom_ns(a, v[j]);
		if (seen || (a->u.ns.inode && !selector_netns_may_match(cfg->ast, a->u.ns.inode)))
			continue;
		if (cfg->nnetns == CLI_NETNS_MAX) {
			fprintf(errf, "sockreap: more than %d network namespaces to visit; "
				      "--all-netns visits every namespace\n", CLI_NETNS_MAX);
			return -EINVAL;
		}
		home_named |= home && a->u.ns.inode == home;
		/* Resolved from an inode: the file discovery found opens it. */
		cfg->netns_v[cfg->nnetns].spec = a->u.ns.spec ? a->u.ns.spec : a->u.ns.path;
		cfg->netns_v[cfg->nnetns++].by_pid = a->u.ns.pid != 0;
	}
	if (cfg->nnetns && !home_named && selector_netns_may_match(cfg->ast, home)) {
		if (cfg->nnetns == CLI_NETNS_MAX) {
			fprintf(errf, "sockreap: more than %d network namespaces to visit; "
				      "--all-netns visits every namespace\n", CLI_NETNS_MAX);
			return -EINVAL;
		}
		cfg->netns_v[cfg->nnetns].spec = "/proc/self/ns/net";
		cfg->netns_v[cfg->nnetns++].by_pid = false;
	}
	if (cfg->nnetns == 1) {
		cfg->netns = cfg->netns_v[0].spec;
		cfg->netns_by_pid = cfg->netns_v[0].by_pid;
	}
	return 0;
}

/*
 * --save-plan saves a preview; --apply carries a saved one out, and the plan is its whole
 * selection: a selector next to it would suggest a narrowing that never happens. 0 or -EINVAL
 * (said on errf).
 */
static int cli_plan_options(struct config *cfg, const char *selecting, const char *expr,
			    FILE *errf)
{
	struct shown b;

	if (cfg->save_plan && !cfg->dry_run) {
		fprintf(errf, "sockreap: --save-plan needs --dry-run: a plan is a preview, saved "
			      "for --apply\n");
		return -EINVAL;
	}
	if (cfg->save_plan && cfg->apply) {
		fprintf(errf, "sockreap: --save-plan and --apply contradict each other: give one\n");
		return -EINVAL;
	}
	if (cfg->max_age_given && !cfg->apply) {
		fprintf(errf, "sockreap: --max-age goes with --apply\n");
		return -EINVAL;
	}
	if (!cfg->apply)
		return 0;
	if (cfg->dry_run) {
		fprintf(errf, "sockreap: --apply and --dry-run contradict each other: the saved plan "
			      "is the preview\n");
		return -EINVAL;
	}
	if (selecting || expr) {
		fprintf(errf, "sockreap: --apply: the plan is the selection: no selector with it "
			      "(\"%s%s\" given)\n", selecting ? "--" : "",
			shown(&b, selecting ? selecting : expr));
		return -EINVAL;
	}
	if (!cfg->max_age_given)
		cfg->max_age = PLANFILE_MAX_AGE_DEFAULT;
	return 0;
}

bool cli_many_netns(const struct config *cfg)
{
	/* One named and not entered (netns NULL): a watcher's, which must stay home between runs. */
	return cfg->all_netns || cfg->nnetns > 1 || (cfg->nnetns == 1 && !cfg->netns);
}

int cli_parse(struct config *cfg, int argc, char **argv, const char *(*getenv_fn)(const char *),
	      FILE *errf)
{
	struct option longopts[NOPTS + 1];
	char optstring[2 * NOPTS + 3], *op = optstring;
	struct repeats groups[NOPTS] = { 0 };
	bool fam4 = false, fam6 = false, tcp = false, udp = false, flag_netns = false;
	const char *selecting = NULL;	/* the first option that selects, for --apply's refusal */
	char *expr = NULL;	/* the expression, for messages that point into it */
	int ret = EXIT_USAGE;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max = -1;
	cfg->argc = argc;
	cfg->argv = argv;
	cfg->engine = "auto";
	if (argc > 1 && !strcmp(argv[1], "doctor"))
		return parse_doctor(cfg, argc, argv, errf);
	/* '+': stop at the first non-option (the selector); ':': report missing arguments. */
	*op++ = '+';
	*op++ = ':';
	for (size_t i = 0; i < NOPTS; i++) {
		longopts[i] = (struct option){ options[i].name,
					       options[i].arg ? required_argument : no_argument,
					       NULL, options[i].val };
		if (options[i].val < 256) {
			*op++ = (char)options[i].val;
			if (options[i].arg)
				*op++ = ':';
		}
	}
	*op = '\0';
	memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));

	opterr = 0;
	optind = 0; /* full re-initialisation: cli_parse may run more than once (tests) */
	for (;;) {
		int longidx = -1;
		int c = getopt_long(argc, argv, optstring, longopts, &longidx);

		if (c == -1)
			break;
		size_t idx = NOPTS;

		for (size_t i = 0; i < NOPTS; i++)
			if (options[i].val == c)
				idx = i;
		if (c == '?' || c == ':' || idx == NOPTS) {
			struct shown b;
			const char *bad = shown(&b, argv[optind - 1]);

			bool is_long = !strncmp(bad, "--", 2);

			if (c == ':' && is_long)
				fprintf(errf, "sockreap: option \"%s\" needs an argument\n", bad);
			else if (c == ':')
				fprintf(errf, "sockreap: option \"-%c\" needs an argument\n", optopt);
			else if (is_long || !optopt)
				fprintf(errf, "sockreap: unknown option \"%s\"\n", bad);
			else
				fprintf(errf, "sockreap: unknown option \"-%c\"\n", optopt);
			fprintf(errf, "Try 'sockreap --help'.\n");
			goto fail;
		}
		const struct cli_option *o = &options[idx];

		if (!selecting && (o->keyword || strchr("tu46", c) || c == OPT_ALL ||
				   c == OPT_NETNS || c == OPT_NETNS_OF || c == OPT_ALL_NETNS ||
				   c == OPT_EXPLAIN))
			selecting = o->name;
		if (o->keyword) {
			struct sel_error err;
			char lit[CLI_NAME_VALUE_MAX + 3];
			const char *val = name_flag_value(o, optarg, lit, sizeof(lit), errf);

			if (!val)
				goto fail;
			struct sel_node *n = selector_parse_flag(o->keyword, val, &err);

			if (n && selector_uses(n, SEL_CGROUP) && selector_resolve(n, NULL, &err) < 0) {
				sel_node_free(n);
				n = NULL;
			}
			if (!n) {
				char what[32], src[512];

				snprintf(what, sizeof(what), "--%s", o->name);
				snprintf(src, sizeof(src), "--%s %s", o->name, val);
				cli_print_error(errf, what, src, (int)strlen(o->name) + 3, &err);
				goto fail;
			}
			if (repeats_push(&groups[idx], n) < 0)
				goto nomem;
			continue;
		}
		switch (c) {
		case 't':
			tcp = true;
			break;
		case 'u':
			udp = true;
			break;
		case '4':
			fam4 = true;
			break;
		case '6':
			fam6 = true;
			break;
		case 'n':
			cfg->dry_run = true;
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'y':
			cfg->yes = true;
			break;
		case OPT_MAX: {
			char *end;

			errno = 0;
			long v = strtol(optarg, &end, 10);

			if (errno || *end || !*optarg || v < 0) {
				struct shown b;

				fprintf(errf, "sockreap: --max: not a count of sockets: \"%s\"\n",
					shown(&b, optarg));
				goto fail;
			}
			cfg->max = v;
			break;
		}
		case OPT_ALL:
			cfg->all = true;
			break;
		case OPT_INCLUDE_SELF:
			cfg->include_self = true;
			break;
		case OPT_AUDIT_LOG:
			if (!*optarg) {
				fprintf(errf, "sockreap: --audit-log: empty path\n");
				goto fail;
			}
			cfg->audit_path = optarg;
			cfg->audit_path_given = true;
			break;
		case OPT_NO_AUDIT:
			cfg->no_audit = true;
			break;
		case OPT_EXPLAIN:
			cfg->explain = true;
			break;
		case OPT_SAVE_PLAN:
		case OPT_APPLY:
			if (!*optarg) {
				fprintf(errf, "sockreap: --%s: empty path\n", o->name);
				goto fail;
			}
			*(c == OPT_APPLY ? &cfg->apply : &cfg->save_plan) = optarg;
			break;
		case OPT_MAX_AGE: {
			struct shown b;

			if (planfile_parse_age(optarg, &cfg->max_age) < 0) {
				fprintf(errf, "sockreap: --max-age: not a duration: \"%s\" (900s, 15m, "
					      "2h, 1d)\n", shown(&b, optarg));
				goto fail;
			}
			cfg->max_age_given = true;
			break;
		}
		case OPT_ENGINE:
			cfg->engine_given = true;
			if (strcmp(optarg, "destroy") && strcmp(optarg, "rst") &&
			    strcmp(optarg, "auto") && strcmp(optarg, "shutdown")) {
				struct shown b;

				fprintf(errf, "sockreap: --engine: unknown engine \"%s\" "
					      "(destroy, rst, auto or shutdown)\n", shown(&b, optarg));
				goto fail;
			}
			cfg->engine = optarg;
			break;
		case OPT_NO_PEER_RESET:
			cfg->no_peer_reset = true;
			break;
		case OPT_NO_OWNERS:
			cfg->no_owners = true;
			break;
		case OPT_CLOSE_FD:
			cfg->close_fd = true;
			break;
		case OPT_NETNS:
		case OPT_NETNS_OF: {
			/* Both are netns atoms, OR-ed together: the run visits each. */
			struct repeats *g = &groups[netns_group()];
			struct sel_node *n;

			if (cli_check_netns_arg(c == OPT_NETNS_OF, optarg, errf) < 0)
				goto fail;
			if (g->n == CLI_NETNS_MAX) {
				fprintf(errf, "sockreap: more than %d --netns/--netns-of; "
					      "--all-netns visits every namespace\n", CLI_NETNS_MAX);
				goto fail;
			}
			n = selector_netns_flag(optarg, c == OPT_NETNS_OF);
			if (!n || repeats_push(g, n) < 0)
				goto nomem;
			flag_netns = true;
			break;
		}
		case OPT_ALL_NETNS:
			cfg->all_netns = true;
			break;
		case OPT_GROUP_BY: {
			char msg[512];

			if (groupby_parse(optarg, &cfg->group_by, msg, sizeof(msg)) < 0) {
				fprintf(errf, "sockreap: --group-by: %s\n", msg);
				goto fail;
			}
			break;
		}
		case OPT_FORWARDED:
			cfg->forwarded = true;
			break;
		case 'h':
			cfg->action = CLI_HELP;
			break;
		case 'V':
			cfg->action = CLI_VERSION;
			break;
		}
	}

	if (fam4 && fam6) {
		fprintf(errf, "sockreap: -4/--ipv4 and -6/--ipv6 contradict each other: give one, "
			      "or neither for both families\n");
		goto fail;
	}
	if (cli_plan_options(cfg, selecting, optind < argc ? argv[optind] : NULL, errf) < 0)
		goto fail;
	if (cfg->no_audit && cfg->audit_path_given) {
		fprintf(errf, "sockreap: --no-audit and --audit-log contradict each other: give "
			      "one\n");
		goto fail;
	}
	/* Counts are a preview: a kill with them would act on sockets nobody saw listed. */
	if (cfg->group_by.n && !cfg->dry_run) {
		fprintf(errf, "sockreap: --group-by shows counts, not a kill: add -n/--dry-run\n");
		goto fail;
	}
	if (groupby_needs_owners(&cfg->group_by) && cfg->no_owners) {
		fprintf(errf, "sockreap: --group-by %s needs the owner lookup that --no-owners "
			      "turns off: give one\n",
			groupby_key_name(first_owner_key(&cfg->group_by)));
		goto fail;
	}
	if (cfg->all_netns && flag_netns) {
		fprintf(errf, "sockreap: --all-netns already visits every network namespace: give "
			      "it or --netns/--netns-of, not both\n");
		goto fail;
	}
	for (size_t i = 0; i < NOPTS; i++)
		if (groups[i].n) {
			struct sel_node *n = sel_node_join(SEL_OR, groups[i].v, groups[i].n);

			/* The join took the nodes, joined or freed. */
			groups[i].n = 0;
			repeats_free(&groups[i]);
			if (!n || and_into(&cfg->ast, n, SEL_AND) < 0)
				goto nomem;
		}
	if (optind < argc && option_after_selector(argc, argv, optind, errf))
		goto fail;
	if (cfg->forwarded) {
		struct sel_error err;

		/* Only flags so far: no source text to point into. */
		if (selector_check_source(cfg->ast, true, &err) < 0) {
			fprintf(errf, "sockreap: %s\n", err.msg);
			goto fail;
		}
	}
	if (optind < argc) {
		struct sel_error err;

		expr = join_args(argc - optind, argv + optind);
		if (!expr)
			goto nomem;
		struct sel_node *n = selector_parse(expr, &err);

		if (!n && err.msg[0]) {
			cli_print_error(errf, "selector", expr, 0, &err);
			goto fail;
		}
		if (selector_check_source(n, cfg->forwarded, &err) < 0) {
			cli_print_error(errf, "selector", expr, 0, &err);
			sel_node_free(n);
			goto fail;
		}
		if (n && selector_uses(n, SEL_CGROUP) && selector_resolve(n, NULL, &err) < 0) {
			cli_print_error(errf, "selector", expr, 0, &err);
			sel_node_free(n);
			goto fail;
		}
		/* A namespace the expression names must exist: caret under it, exit 2 (or 4). */
		if (n && selector_uses(n, SEL_NETNS) &&
		    (ret = selector_resolve_netns(n, NULL, true, &err)) < 0) {
			cli_print_error(errf, "selector", expr, 0, &err);
			sel_node_free(n);
			ret = ret == -ENOMEM ? EXIT_ERROR
			      : ret == -EACCES || ret == -EPERM ? EXIT_PRIV : EXIT_USAGE;
			goto fail;
		}
		ret = EXIT_USAGE;
		if (n && and_into(&cfg->ast, n, SEL_AND) < 0)
			goto nomem;
	}
	if (flag_netns) {
		struct sel_error err;

		/* Flags: one that is missing is skipped with a line by the run, as before. */
		if (selector_resolve_netns(cfg->ast, NULL, false, &err) < 0)
			goto nomem;
	}
	if (derive_netns(cfg, errf) < 0)
		goto fail;
	/* Its own kill, and no plan files yet: an option it would ignore is an error instead. */
	if (cfg->forwarded && (cfg->save_plan || cfg->apply || cfg->engine_given)) {
		fprintf(errf, "sockreap: %s with --forwarded is not supported%s\n",
			cfg->save_plan ? "--save-plan" : cfg->apply ? "--apply" : "--engine",
			cfg->engine_given && !cfg->save_plan && !cfg->apply
				? ": forwarded flows are killed with resets through this host and "
				  "their conntrack entry deleted"
				: " yet: plan files hold sockets, not conntrack entries");
		goto fail;
	}
	if (cfg->forwarded && cfg->group_by.n) {
		fprintf(errf, "sockreap: --group-by with --forwarded is not supported yet: its keys "
			      "are sockets' (pid, comm, unit)\n");
		goto fail;
	}
	if (cfg->forwarded && cli_many_netns(cfg)) {
		fprintf(errf, "sockreap: --forwarded in several network namespaces is not supported "
			      "yet: give one --netns\n");
		goto fail;
	}
	/*
	 * Acting inside processes is opt-in and never by accident: the owners must be named,
	 * and be looked up.
	 */
	if (cfg->close_fd && !selector_uses(cfg->ast, SEL_PID) &&
	    !selector_uses(cfg->ast, SEL_COMM) && !selector_uses(cfg->ast, SEL_CGROUP)) {
		fprintf(errf, "sockreap: --close-fd closes descriptors inside processes: name them "
			      "with --pid, --comm or --unit\n");
		goto fail;
	}
	if (cfg->close_fd && cfg->no_owners) {
		fprintf(errf, "sockreap: --close-fd needs the owners that --no-owners does not look "
			      "up: give one\n");
		goto fail;
	}
	/*
	 * dev IFNAME is looked up in each namespace the run visits; one that stays here must
	 * name a device here (only the expression has dev).
	 */
	if (!cfg->nnetns && !cfg->all_netns && expr) {
		struct sel_error err;

		if (selector_dev_check_here(cfg->ast, &err) < 0) {
			cli_print_error(errf, "selector", expr, 0, &err);
			goto fail;
		}
	}
	if (fam4 != fam6) {
		struct sel_error err;
		struct sel_node *n = selector_parse_flag("family", fam4 ? "inet" : "inet6", &err);

		if (!n || and_into(&cfg->ast, n, SEL_AND) < 0)
			goto nomem;
	}
	if (tcp || udp) {
		struct sel_error err;
		struct sel_node *n = selector_parse(tcp && udp ? "proto tcp or proto udp"
						    : tcp      ? "proto tcp"
							       : "proto udp",
						    &err);

		if (!n || and_into(&cfg->ast, n, SEL_AND) < 0)
			goto nomem;
	}
	if (!cfg->audit_path) {
		const char *env = getenv_fn ? getenv_fn("SOCKREAP_AUDIT_LOG") : NULL;

		/* As --audit-log "": an empty value is a mistake, not a wish for the default. */
		if (env && !*env) {
			fprintf(errf, "sockreap: SOCKREAP_AUDIT_LOG is set but empty: give it a path, "
				      "or unset it\n");
			goto fail;
		}
		cfg->audit_path = env ? env : CLI_DEFAULT_AUDIT_LOG;
	}
	free(expr);
	return 0;
nomem:
	fprintf(errf, "sockreap: out of memory; nothing killed\n");
	ret = EXIT_ERROR;
fail:
	free(expr);
	for (size_t i = 0; i < NOPTS; i++)
		repeats_free(&groups[i]);
	cli_free(cfg);
	return ret;
}

int cli_check_caller(const struct config *cfg, bool secure, unsigned ruid, bool env_audit_log,
		     FILE *errf)
{
	const char *what = cfg->audit_path_given ? "--audit-log"
			   : cfg->no_audit      ? "--no-audit"
			   : env_audit_log      ? "SOCKREAP_AUDIT_LOG"
						: NULL;

	if (!secure || ruid == 0 || !what)
		return 0;
	fprintf(errf, "sockreap: %s is refused: this sockreap runs with file capabilities for a "
		      "caller who is not root (uid %u), and where the audit goes is root's choice; "
		      "nothing killed\n"
		      "  the audit goes to " CLI_DEFAULT_AUDIT_LOG "; see PRIVILEGES in sockreap(8)\n",
		what, ruid);
	return EXIT_PRIV;
}

void cli_free(struct config *cfg)
{
	if (!cfg)
		return;
	sel_node_free(cfg->ast);
	cfg->ast = NULL;
}
