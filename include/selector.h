/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The selector language: tokens with positions, the AST, evaluation, kernel prefilter. */
#ifndef SOCKREAP_SELECTOR_H
#define SOCKREAP_SELECTOR_H

#include "sock.h"

enum sel_tok_kind {
	TOK_END = 0,
	TOK_WORD,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_COMMA,
	TOK_NOT,	/* ! */
	TOK_AND,	/* && */
	TOK_OR,		/* || */
	TOK_OP,		/* = == != < <= > >= */
	TOK_BAD,
};

struct sel_token {
	enum sel_tok_kind kind;
	int pos;	/* byte offset into the source */
	int len;
};

/* Errors carry the span they point at so the caller can draw a caret. */
struct sel_error {
	char msg[256];
	int pos;
	int len;
};

/* Scans the token at src + pos. */
struct sel_token sel_lex_next(const char *src, int pos);

enum sel_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

enum sel_kind {
	SEL_AND,
	SEL_OR,
	SEL_NOT,
	SEL_STATE,	/* u.states */
	SEL_PORT,	/* u.port */
	SEL_ADDR,	/* u.addr */
	SEL_FAMILY,	/* u.num.value = AF_INET / AF_INET6 */
	SEL_PROTO,	/* u.num.value = IPPROTO_TCP / IPPROTO_UDP */
	SEL_PID,	/* u.list */
	SEL_COMM,	/* u.text (glob) */
	SEL_EXE,	/* u.text (glob) */
	SEL_PPID,	/* u.num */
	SEL_MARK,	/* u.mark */
	SEL_DEV,	/* u.dev */
	SEL_CGROUP,	/* u.cg: cgroup PATH or unit NAME, and below */
	SEL_UID,	/* u.num */
	SEL_IDLE,	/* u.num, milliseconds */
	SEL_RECVQ,	/* u.num */
	SEL_SENDQ,	/* u.num */
	SEL_INODE,	/* u.num */
	SEL_COOKIE,	/* u.num */
	SEL_NETNS,	/* u.ns: the network namespace a socket lives in */
	/* Forwarded flows only (--forwarded: conntrack entries, conntrack.h). */
	SEL_CT_STATE,	/* u.states: bits of conntrack's TCP states (TCP_CONNTRACK_*) */
	SEL_NAT_ADDR,	/* u.addr: END_SRC the source after NAT, END_DST the destination */
	SEL_ZONE,	/* u.num */
	SEL_CT_TIMEOUT,	/* u.num, milliseconds left */
};

enum sel_end { END_SRC, END_DST, END_ANY };

struct sel_node {
	enum sel_kind kind;
	int pos, len;		/* source span, for messages */
	int height;		/* levels from here to the deepest leaf, 1 for a leaf */
	struct sel_node *l, *r;	/* AND/OR both, NOT l */
	union {
		struct {
			uint32_t mask;
			bool names_listen;	/* "listen" spelled out, not via a group */
		} states;
		struct {
			enum sel_end end;
			enum sel_cmp cmp;
			uint16_t lo, hi;	/* lo == hi unless a range */
		} port;
		struct {
			enum sel_end end;
			bool negate;
			int family;
			uint8_t bytes[16];
			int prefix;
		} addr;
		struct {
			enum sel_cmp cmp;
			uint64_t value;
		} num;
		struct {
			int32_t *v;
			size_t n;
		} list;
		struct {
			uint32_t value, mask;
		} mark;
		struct {
			uint64_t value;	/* ifindex where sockreap starts; 0: no such device */
			char *name;	/* IFNAME as given; NULL: an index, the same everywhere */
			uint32_t *per_ns;	/* by netns index (selector_dev_prepare); NULL */
			size_t n;
		} dev;
		struct {
			char *path;	/* cgroup PATH, or the unit's once resolved */
			char *unit;	/* unit NAME as given, or NULL */
			uint64_t *ids;	/* sorted; NULL until resolved */
			size_t n;
		} cg;
		struct {
			char *spec;	/* NAME|PATH, or pid N's N, as given; NULL: inode */
			int32_t pid;	/* netns pid N (--netns-of); 0 otherwise */
			bool from_flag;	/* --netns/--netns-of: left unresolved when missing */
			bool bound;	/* index is set (selector_netns_bind) */
			int32_t index;	/* records with this netns index live in it; -1: none */
			uint64_t inode;	/* netns inode N, or resolved; 0 until then */
			char *path;	/* once resolved: a file that opens it */
		} ns;
		char *text;
	} u;
};

/*
 * The deepest selector accepted: nested parentheses and "not"s, and the AST they build.
 * Every walker of the AST recurses; chains of and/or are built balanced, so a long flat
 * selector is not deep.
 */
#define SEL_MAX_DEPTH 1000

/*
 * Parses a whole expression. On failure returns NULL and fills err (pos/len index src).
 * An empty src yields NULL with err->msg empty.
 */
struct sel_node *selector_parse(const char *src, struct sel_error *err);

/* Parses the value of one predicate given as a flag: ("dport", "443"). */
struct sel_node *selector_parse_flag(const char *keyword, const char *value,
				     struct sel_error *err);

/* "500ms", "30s", "5m", "2h", "1d" or plain seconds, as idle takes them: false if not one. */
bool selector_parse_duration(const char *s, uint64_t *ms);

struct sel_node *sel_node_new_binary(enum sel_kind kind, struct sel_node *l, struct sel_node *r);
/*
 * v[0] kind v[1] kind ... v[n-1] (kind SEL_AND or SEL_OR, n >= 1) as a balanced tree, so that
 * a chain of n terms is about log2(n) deep. Takes v's nodes; frees them all on failure.
 */
struct sel_node *sel_node_join(enum sel_kind kind, struct sel_node **v, size_t n);
void sel_node_free(struct sel_node *n);

/*
 * Binds what the AST names on this system: cgroup paths and units to the ids of that cgroup
 * and every cgroup below it, under the cgroup2 root (NULL: found in /proc/self/mountinfo).
 * Returns 0, or a negative errno with err set to the offending node's span.
 */
int selector_resolve(struct sel_node *n, const char *cgroup_root_dir, struct sel_error *err);

/*
 * A netns atom as --netns SPEC or --netns-of PID give it (from_flag): the same atom the
 * expression's `netns SPEC` and `netns pid PID` build. NULL out of memory.
 */
struct sel_node *selector_netns_flag(const char *spec, bool by_pid);

/*
 * Whether spec can name a network namespace: a name under /run/netns (not "", "." or "..",
 * at most NAME_MAX) or a path (it has a /). The expression and --netns refuse the same.
 */
bool selector_netns_name_ok(const char *spec);

/* The netns atoms of n, in order, at most max of them in v; returns the count of all of them. */
size_t selector_netns_atoms(const struct sel_node *n, const struct sel_node **v, size_t max);

struct netns_roots;
/*
 * Binds every netns atom to the namespace it names, once, before anything runs: its inode and
 * a path that opens it (roots: NULL for /proc and /run/netns). An atom of a flag that cannot
 * be opened stays unresolved (inode 0: it matches nothing, and the run says why) unless
 * strict. Returns 0, or a negative errno with err on the atom (-ENOENT no such namespace,
 * -EINVAL not a network namespace, -EACCES/-EPERM not allowed to open it, -ENOMEM).
 */
int selector_resolve_netns(struct sel_node *n, const struct netns_roots *roots, bool strict,
			   struct sel_error *err);
/*
 * A watcher's, each cycle: every netns atom resolved again from what it names (a name
 * recreated is a new namespace; `netns pid N` keeps the first namespace it named, and is left
 * unresolved once the pid names another); one that cannot be resolved now is left unresolved
 * (it matches nothing, or by its inode only) instead of failing. Returns how many were left
 * so, with err on the first and why; -ENOMEM.
 */
int selector_netns_refresh(struct sel_node *n, const struct netns_roots *roots,
			   struct sel_error *err);
/*
 * Whether n can match a socket of the namespace of inode: netns atoms decided, every other
 * predicate taken as unknown. The namespaces a run visits are the ones this says may match.
 */
bool selector_netns_may_match(const struct sel_node *n, uint64_t inode);
/*
 * Ties netns atoms to the namespaces a run visits: inodes[i] is the namespace of the records
 * whose netns index is i. Until bound, a netns atom evaluates UNKNOWN.
 */
void selector_netns_bind(struct sel_node *n, const uint64_t *inodes, size_t count);
/*
 * dev IFNAME names a different device in each network namespace. Several namespaces (or one
 * other): prepare makes room for count of them, and bind_here, called inside the namespace
 * with that index, looks the name up there (0: no such device, nothing there matches). Once
 * prepared, dev is tested in user space only. 0 or -ENOMEM.
 */
int selector_dev_prepare(struct sel_node *n, size_t count);
void selector_dev_bind_here(struct sel_node *n, size_t index);
/*
 * A run that stays where it starts: every dev IFNAME must exist here. 0, or -ENODEV with err
 * on the first that does not.
 */
int selector_dev_check_here(const struct sel_node *n, struct sel_error *err);

/* Whether every predicate in n is a netns atom (a scope, not a selection of sockets). */
bool selector_only_netns(const struct sel_node *n);

/*
 * The first branch of n's top-level OR (nested ORs flattened, parentheses looked through, a
 * NOT pushed inward) made of netns atoms alone: a branch that selects every socket in some
 * namespace. NULL when there is none (or n is NULL); *negated: the branch is "not" the node.
 */
const struct sel_node *selector_netns_only_branch(const struct sel_node *n, bool *negated);

/*
 * Whether n's words fit the records they select: conntrack entries (--forwarded) have no owner,
 * inode, queue, cgroup, device or namespace word; sockets have no ct-state, nat-src, nat-dst,
 * zone or timeout. 0, or -EINVAL with err on the first word that does not fit.
 */
int selector_check_source(const struct sel_node *n, bool conntrack, struct sel_error *err);

/* Canonical text that re-parses to the same AST. Returns the length it needed. */
size_t selector_format(const struct sel_node *n, char *buf, size_t size);

/* Whether the selector names the LISTEN state itself (the LISTEN guard). */
bool selector_names_listen(const struct sel_node *n);
/* Whether the selector names UDP itself: UDP sockets are only selected then. */
bool selector_names_udp(const struct sel_node *n);
/* Whether the AST has a node of this kind. */
bool selector_uses(const struct sel_node *n, enum sel_kind kind);
/* Whether owner data (pid, comm) is needed to decide. */
bool selector_needs_owners(const struct sel_node *n);
/*
 * When reading the fd tables of the pids the selector names decides every owner predicate in it
 * exactly (only pid predicates, and a pid list, or an or of them, AND-ed at the top), fills
 * those pids (caller frees *pids) and returns their number; -1 when /proc must be scanned whole.
 */
int selector_pid_scope(const struct sel_node *n, int32_t **pids);

enum sel_result { SEL_NO = 0, SEL_YES = 1, SEL_UNKNOWN = 2 };

/* One process holding a socket on fd, as far as /proc let us read it. */
struct sel_owner_info {
	int32_t pid;
	int32_t fd;		/* -1: not known (a process whose fd table is unreadable) */
	const char *comm;	/* NULL: unreadable */
	const char *exe;	/* NULL: unreadable */
	int32_t ppid;		/* -1: unreadable */
};

/*
 * The owners of a socket: the known ones, one by one, and what may hide behind them. An owner
 * predicate is YES when a known owner matches; otherwise UNKNOWN when an owner that could not
 * be read might match (unknown says so), else NO. A NULL ctx means owners are not resolved.
 */
struct sel_owner_ctx {
	/* The i-th known owner of rec (lowest pid first); false past the last. */
	bool (*owner)(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out);
	/* SEL_UNKNOWN when an owner of rec that could not be read might satisfy n, else SEL_NO. */
	enum sel_result (*unknown)(void *arg, const struct sock_rec *rec, const struct sel_node *n);
	/* Why rec's known owners may not be all of them ("unreadable", "hidepid", ...); NULL. */
	const char *(*incomplete)(void *arg, const struct sock_rec *rec);
	void *arg;
	/*
	 * --close-fd, once run: what became of owner (pid, fd)'s descriptor ("closed",
	 * "changed", "gone", "denied", "failed", "not-tried"), *why a reason or NULL; NULL
	 * (the callback itself too): no --close-fd.
	 */
	const char *(*fd_result)(void *fd_arg, const struct sock_rec *rec, int32_t pid, int32_t fd,
				 const char **why);
	void *fd_arg;
};

/* TIME_WAIT and request sockets have no file, hence no owner, whether resolved or not. */
static inline bool selector_ownerless(const struct sock_rec *rec)
{
	return rec->state == SS_TIME_WAIT || rec->state == SS_SYN_RECV ||
	       rec->state == SS_NEW_SYN_RECV;
}

/* Three-valued (Kleene) evaluation: owner predicates are UNKNOWN while owners are unresolved. */
enum sel_result selector_eval(const struct sel_node *n, const struct sock_rec *rec,
			      const struct sel_owner_ctx *owners);
/*
 * One owner predicate (pid, comm, exe, ppid) on one process: UNKNOWN when it needs a field that
 * could not be read.
 */
enum sel_result selector_owner_match(const struct sel_node *n, const struct sel_owner_info *o);

#define SEL_BC_MAX 4096

/*
 * The kernel-side prefilter: a superset of what the AST can match, as a state mask, the
 * families to dump, and INET_DIAG bytecode for ports and addresses (bclen 0: none).
 * bc_exact says the bytecode decides its part of the AST exactly (informational).
 */
struct sel_prefilter {
	uint32_t states;
	bool inet, inet6;
	bool tcp, udp;
	bool bc_exact;
	size_t bclen;
	uint8_t bc[SEL_BC_MAX];
};

void selector_prefilter(const struct sel_node *n, struct sel_prefilter *pf);

/* Compiles the expressible part of the AST to INET_DIAG bytecode; returns its length or 0. */
size_t selector_bytecode(const struct sel_node *n, uint8_t *buf, size_t size, bool *exact);

/* Prints one line per bytecode op, indented by indent. */
void selector_bytecode_dump(FILE *f, const uint8_t *bc, size_t len, const char *indent);

#endif
