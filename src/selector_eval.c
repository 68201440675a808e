// SPDX-License-Identifier: GPL-2.0-or-later
/* Selector evaluation (three-valued while owners are unresolved) and the canonical form. */
#include "selector.h"
#include "conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>

static bool cmp_u64(enum sel_cmp cmp, uint64_t a, uint64_t b)
{
	switch (cmp) {
	case CMP_EQ:
		return a == b;
	case CMP_NE:
		return a != b;
	case CMP_LT:
		return a < b;
	case CMP_LE:
		return a <= b;
	case CMP_GT:
		return a > b;
	case CMP_GE:
		return a >= b;
	}
	return false;
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool port_match(const struct sel_node *n, uint16_t port)
{
	if (n->u.port.lo != n->u.port.hi) {
		bool in = port >= n->u.port.lo && port <= n->u.port.hi;

		return n->u.port.cmp == CMP_NE ? !in : in;
	}
	return cmp_u64(n->u.port.cmp, port, n->u.port.lo);
}

static bool eval_port(const struct sel_node *n, const struct sock_rec *rec)
{
	switch (n->u.port.end) {
	case END_SRC:
		return port_match(n, sock_sport(rec));
	case END_DST:
		return port_match(n, sock_dport(rec));
	case END_ANY:
		/* "port != 22" means neither end is 22, not "one end is not 22". */
		if (n->u.port.cmp == CMP_NE) {
			struct sel_node eq = *n;

			eq.u.port.cmp = CMP_EQ;
			return !port_match(&eq, sock_sport(rec)) && !port_match(&eq, sock_dport(rec));
		}
		return port_match(n, sock_sport(rec)) || port_match(n, sock_dport(rec));
	}
	return false;
}

static bool prefix_match(const uint8_t *a, const uint8_t *pat, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, pat, (size_t)full))
		return false;
	if (!rest)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));

	return (a[full] & m) == pat[full];
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool addr_match(const struct sel_node *n, int family, const uint32_t addr[4])
{
	const uint8_t *a = (const uint8_t *)addr;

	if (n->u.addr.family == AF_INET) {
		if (family == AF_INET6) {
			/* An IPv4 pattern matches the v4-mapped form on a dual-stack socket. */
			if (memcmp(a, v4mapped, 12))
				return false;
			a += 12;
		}
		return prefix_match(a, n->u.addr.bytes, n->u.addr.prefix);
	}
	return family == AF_INET6 && prefix_match(a, n->u.addr.bytes, n->u.addr.prefix);
}

static bool eval_addr(const struct sel_node *n, const struct sock_rec *rec)
{
	bool m;

	switch (n->u.addr.end) {
	case END_SRC:
		m = addr_match(n, rec->family, rec->id.idiag_src);
		break;
	case END_DST:
		m = addr_match(n, rec->family, rec->id.idiag_dst);
		break;
	default:
		m = addr_match(n, rec->family, rec->id.idiag_src) ||
		    addr_match(n, rec->family, rec->id.idiag_dst);
		break;
	}
	return n->u.addr.negate ? !m : m;
}

static enum sel_result yes(bool b)
{
	return b ? SEL_YES : SEL_NO;
}

/* The words only a conntrack entry answers; a socket answers none of them. */
static enum sel_result eval_flow(const struct sel_node *n, const struct sock_rec *rec)
{
	if (!(rec->flags & SOCK_F_CONNTRACK))
		return SEL_NO;
	const struct ct_flow *f = ct_flow_of(rec);
	bool m;

	switch (n->kind) {
	case SEL_CT_STATE:
		return yes(f->ct_state < 32 && (n->u.states.mask & (1U << f->ct_state)));
	case SEL_NAT_ADDR:
		/* After source NAT the reply goes back to reply_dst; after destination NAT it
		 * comes from reply_src, the address really reached. */
		m = addr_match(n, rec->family, n->u.addr.end == END_SRC ? f->reply_dst
									 : f->reply_src);
		return yes(n->u.addr.negate ? !m : m);
	case SEL_ZONE:
		return yes(cmp_u64(n->u.num.cmp, f->zone, n->u.num.value));
	case SEL_CT_TIMEOUT:
		return yes(cmp_u64(n->u.num.cmp, (uint64_t)f->timeout_s * 1000, n->u.num.value));
	default:
		return SEL_NO;
	}
}

enum sel_result selector_owner_match(const struct sel_node *n, const struct sel_owner_info *o)
{
	switch (n->kind) {
	case SEL_PID:
		for (size_t i = 0; i < n->u.list.n; i++)
			if (o->pid == n->u.list.v[i])
				return SEL_YES;
		return SEL_NO;
	case SEL_PPID:
		if (o->ppid < 0)
			return SEL_UNKNOWN;
		return yes(cmp_u64(n->u.num.cmp, (uint64_t)o->ppid, n->u.num.value));
	case SEL_COMM:
	case SEL_EXE: {
		const char *text = n->kind == SEL_COMM ? o->comm : o->exe;

		if (!text)
			return SEL_UNKNOWN;
		return yes(fnmatch(n->u.text, text, 0) == 0);
	}
	default:
		return SEL_NO;
	}
}

/*
 * Any owner: YES if a known owner matches; else UNKNOWN if a known owner lacks the field the
 * predicate needs, or an owner that could not be read might match; else NO. So `not pid N`
 * means "no owner is N", and an unreadable owner never reads as "no owner".
 */
static enum sel_result eval_owner(const struct sel_node *n, const struct sock_rec *rec,
				  const struct sel_owner_ctx *owners)
{
	struct sel_owner_info oi;
	enum sel_result r = SEL_NO;

	if (selector_ownerless(rec))
		return SEL_NO;
	if (rec->pid < 0 || !owners || !owners->owner)
		return SEL_UNKNOWN;
	for (size_t i = 0; owners->owner(owners->arg, rec, i, &oi); i++) {
		enum sel_result m = selector_owner_match(n, &oi);

		if (m == SEL_YES)
			return SEL_YES;
		if (m == SEL_UNKNOWN)
			r = SEL_UNKNOWN;
	}
	if (r == SEL_NO && owners->unknown)
		r = owners->unknown(owners->arg, rec, n);
	return r;
}

enum sel_result selector_eval(const struct sel_node *n, const struct sock_rec *rec,
			      const struct sel_owner_ctx *owners)
{
	enum sel_result a, b;

	switch (n->kind) {
	case SEL_AND:
		a = selector_eval(n->l, rec, owners);
		if (a == SEL_NO)
			return SEL_NO;
		b = selector_eval(n->r, rec, owners);
		if (b == SEL_NO)
			return SEL_NO;
		return a == SEL_YES && b == SEL_YES ? SEL_YES : SEL_UNKNOWN;
	case SEL_OR:
		a = selector_eval(n->l, rec, owners);
		if (a == SEL_YES)
			return SEL_YES;
		b = selector_eval(n->r, rec, owners);
		if (b == SEL_YES)
			return SEL_YES;
		return a == SEL_NO && b == SEL_NO ? SEL_NO : SEL_UNKNOWN;
	case SEL_NOT:
		a = selector_eval(n->l, rec, owners);
		return a == SEL_UNKNOWN ? SEL_UNKNOWN : yes(a == SEL_NO);
	case SEL_STATE:
		return yes(n->u.states.mask & SS_BIT(rec->state));
	case SEL_PORT:
		return yes(eval_port(n, rec));
	case SEL_ADDR:
		return yes(eval_addr(n, rec));
	case SEL_FAMILY:
		return yes(rec->family == n->u.num.value);
	case SEL_PROTO:
		return yes(rec->protocol == n->u.num.value);
	case SEL_MARK:
		return yes((rec->mark & n->u.mark.mask) == n->u.mark.value);
	case SEL_DEV:
		if (n->u.dev.per_ns) {
			uint32_t idx = rec->netns < n->u.dev.n ? n->u.dev.per_ns[rec->netns] : 0;

			/* No such device in the record's namespace: nothing there is bound to it. */
			return yes(idx && rec->id.idiag_if == idx);
		}
		/* A name with no device here is no device: not "unbound" (index 0). */
		return yes((n->u.dev.value || !n->u.dev.name) && rec->id.idiag_if == n->u.dev.value);
	case SEL_CGROUP:
		return yes(rec->cgroup_id && n->u.cg.ids &&
			   bsearch(&rec->cgroup_id, n->u.cg.ids, n->u.cg.n, sizeof(uint64_t),
				   cmp_id));
	case SEL_UID:
		return yes(cmp_u64(n->u.num.cmp, rec->uid, n->u.num.value));
	case SEL_IDLE:
		return yes(rec->idle_ms != SOCK_IDLE_UNKNOWN &&
			   cmp_u64(n->u.num.cmp, rec->idle_ms, n->u.num.value));
	case SEL_RECVQ:
		return yes(cmp_u64(n->u.num.cmp, rec->rqueue, n->u.num.value));
	case SEL_SENDQ:
		return yes(cmp_u64(n->u.num.cmp, rec->wqueue, n->u.num.value));
	case SEL_INODE:
		return yes(cmp_u64(n->u.num.cmp, rec->inode, n->u.num.value));
	case SEL_COOKIE:
		return yes(cmp_u64(n->u.num.cmp, sock_cookie(rec), n->u.num.value));
	case SEL_NETNS:
		if (!n->u.ns.bound)
			return SEL_UNKNOWN;
		return yes(n->u.ns.index >= 0 && rec->netns == (uint32_t)n->u.ns.index);
	case SEL_PID:
	case SEL_COMM:
	case SEL_EXE:
	case SEL_PPID:
		return eval_owner(n, rec, owners);
	case SEL_CT_STATE:
	case SEL_NAT_ADDR:
	case SEL_ZONE:
	case SEL_CT_TIMEOUT:
		return eval_flow(n, rec);
	}
	return SEL_NO;
}

/* Kleene evaluation with netns atoms decided for one namespace and every other leaf unknown. */
static enum sel_result netns_partial(const struct sel_node *n, uint64_t inode)
{
	enum sel_result a, b;

	switch (n->kind) {
	case SEL_AND:
		a = netns_partial(n->l, inode);
		b = a == SEL_NO ? SEL_NO : netns_partial(n->r, inode);
		return a == SEL_NO || b == SEL_NO ? SEL_NO
		       : a == SEL_YES && b == SEL_YES ? SEL_YES : SEL_UNKNOWN;
	case SEL_OR:
		a = netns_partial(n->l, inode);
		b = a == SEL_YES ? SEL_YES : netns_partial(n->r, inode);
		return a == SEL_YES || b == SEL_YES ? SEL_YES
		       : a == SEL_NO && b == SEL_NO ? SEL_NO : SEL_UNKNOWN;
	case SEL_NOT:
		a = netns_partial(n->l, inode);
		return a == SEL_UNKNOWN ? SEL_UNKNOWN : yes(a == SEL_NO);
	case SEL_NETNS:
		/* Unresolved (a --netns that does not exist) names no namespace at all. */
		return yes(n->u.ns.inode && n->u.ns.inode == inode);
	default:
		return SEL_UNKNOWN;
	}
}

bool selector_netns_may_match(const struct sel_node *n, uint64_t inode)
{
	return !n || netns_partial(n, inode) != SEL_NO;
}

void selector_netns_bind(struct sel_node *n, const uint64_t *inodes, size_t count)
{
	if (!n)
		return;
	if (n->kind == SEL_NETNS) {
		n->u.ns.bound = true;
		n->u.ns.index = -1;
		for (size_t i = 0; n->u.ns.inode && i < count && i <= INT32_MAX; i++)
			if (inodes[i] == n->u.ns.inode) {
				n->u.ns.index = (int32_t)i;
				break;
			}
		return;
	}
	selector_netns_bind(n->l, inodes, count);
	selector_netns_bind(n->r, inodes, count);
}

bool selector_only_netns(const struct sel_node *n)
{
	if (n->kind == SEL_AND || n->kind == SEL_OR)
		return selector_only_netns(n->l) && selector_only_netns(n->r);
	if (n->kind == SEL_NOT)
		return selector_only_netns(n->l);
	return n->kind == SEL_NETNS;
}

/*
 * The disjuncts of n (negated when neg): an OR's are its sides', and so are a negated AND's
 * (De Morgan); a NOT flips neg; anything else is one disjunct.
 */
static const struct sel_node *netns_only_disjunct(const struct sel_node *n, bool neg,
						  bool *negated)
{
	const struct sel_node *b;

	if (n->kind == SEL_NOT)
		return netns_only_disjunct(n->l, !neg, negated);
	if (n->kind == (neg ? SEL_AND : SEL_OR)) {
		b = netns_only_disjunct(n->l, neg, negated);
		return b ? b : netns_only_disjunct(n->r, neg, negated);
	}
	if (!selector_only_netns(n))
		return NULL;
	*negated = neg;
	return n;
}

const struct sel_node *selector_netns_only_branch(const struct sel_node *n, bool *negated)
{
	return n ? netns_only_disjunct(n, false, negated) : NULL;
}

bool selector_names_listen(const struct sel_node *n)
{
	if (!n)
		return false;
	if (n->kind == SEL_STATE)
		return n->u.states.names_listen;
	return selector_names_listen(n->l) || selector_names_listen(n->r);
}

bool selector_names_udp(const struct sel_node *n)
{
	if (!n)
		return false;
	if (n->kind == SEL_PROTO)
		return n->u.num.value == IPPROTO_UDP;
	return selector_names_udp(n->l) || selector_names_udp(n->r);
}

bool selector_uses(const struct sel_node *n, enum sel_kind kind)
{
	if (!n)
		return false;
	return n->kind == kind || selector_uses(n->l, kind) || selector_uses(n->r, kind);
}

bool selector_needs_owners(const struct sel_node *n)
{
	if (!n)
		return false;
	if (n->kind == SEL_PID || n->kind == SEL_COMM || n->kind == SEL_EXE || n->kind == SEL_PPID)
		return true;
	return selector_needs_owners(n->l) || selector_needs_owners(n->r);
}

/* A pid list, or an or of pid lists: true only for sockets some named pid holds. */
static bool pid_only(const struct sel_node *n)
{
	if (n->kind == SEL_PID)
		return true;
	return n->kind == SEL_OR && pid_only(n->l) && pid_only(n->r);
}

/* Whether a pid_only conjunct is AND-ed at the top: no other socket can match. */
static bool has_top_pid(const struct sel_node *n)
{
	if (pid_only(n))
		return true;
	return n->kind == SEL_AND && (has_top_pid(n->l) || has_top_pid(n->r));
}

static size_t collect_pids(const struct sel_node *n, int32_t *out)
{
	size_t k = 0;

	if (!n)
		return 0;
	if (n->kind == SEL_PID) {
		if (out)
			memcpy(out, n->u.list.v, n->u.list.n * sizeof(*out));
		return n->u.list.n;
	}
	k = collect_pids(n->l, out);
	return k + collect_pids(n->r, out ? out + k : NULL);
}

/*
 * Reading only the named pids' fd tables decides a socket exactly when a top conjunct needs
 * one of them to hold it and every other owner predicate is a pid predicate whose pids are
 * read too: comm, exe or ppid could be satisfied by any process, so they need the whole scan.
 */
int selector_pid_scope(const struct sel_node *n, int32_t **pids)
{
	size_t count;

	*pids = NULL;
	if (!n || !has_top_pid(n) || selector_uses(n, SEL_COMM) || selector_uses(n, SEL_EXE) ||
	    selector_uses(n, SEL_PPID))
		return -1;
	count = collect_pids(n, NULL);
	if (!count || count > INT32_MAX)
		return -1;
	*pids = malloc(count * sizeof(**pids));
	if (!*pids)
		return -1;
	collect_pids(n, *pids);
	return (int)count;
}

/* ---- canonical form ---- */

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->len += (size_t)k;
}

static const char *cmp_text(enum sel_cmp c)
{
	static const char *const t[] = { "=", "!=", "<", "<=", ">", ">=" };

	return t[c];
}

static const char *end_word(enum sel_end e, const char *src, const char *dst, const char *any)
{
	return e == END_SRC ? src : e == END_DST ? dst : any;
}

static void put_duration(struct out *o, uint64_t ms)
{
	static const struct {
		uint64_t mult;
		const char *unit;
	} u[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" } };

	for (size_t i = 0; i < 4; i++)
		if (ms && ms % u[i].mult == 0) {
			put(o, "%" PRIu64 "%s", ms / u[i].mult, u[i].unit);
			return;
		}
	put(o, "%" PRIu64 "ms", ms);
}

/* keyword = value, quoted when the value would not read back as one word. */
static void put_text(struct out *o, const char *kw, const char *text)
{
	/* A value holds at most one kind of quote: it came from a word quoted with the other. */
	if (strchr(text, '"'))
		put(o, "%s = '%s'", kw, text);
	else if (strpbrk(text, " \t\n\v\f\r()!,=<>&|'") || !*text || !strcasecmp(text, "and") ||
		 !strcasecmp(text, "or"))
		put(o, "%s = \"%s\"", kw, text);
	else
		put(o, "%s = %s", kw, text);
}

static void format_node(struct out *o, const struct sel_node *n, enum sel_kind parent);

static void format_child(struct out *o, const struct sel_node *n, enum sel_kind parent)
{
	bool paren = (parent == SEL_NOT && (n->kind == SEL_AND || n->kind == SEL_OR)) ||
		     (parent == SEL_AND && n->kind == SEL_OR);

	if (paren)
		put(o, "(");
	format_node(o, n, parent);
	if (paren)
		put(o, ")");
}

static void format_node(struct out *o, const struct sel_node *n, enum sel_kind parent)
{
	char a[INET6_ADDRSTRLEN];
	const char *sep = "";

	(void)parent;
	switch (n->kind) {
	case SEL_AND:
	case SEL_OR:
		format_child(o, n->l, n->kind);
		put(o, n->kind == SEL_AND ? " and " : " or ");
		format_child(o, n->r, n->kind);
		break;
	case SEL_NOT:
		put(o, "not ");
		format_child(o, n->l, SEL_NOT);
		break;
	case SEL_STATE:
		put(o, "state ");
		for (unsigned s = SS_ESTABLISHED; s < SS_NEW_SYN_RECV; s++)
			if (n->u.states.mask & SS_BIT(s)) {
				put(o, "%s%s", sep, sock_state_name(s));
				sep = ",";
			}
		break;
	case SEL_PORT:
		put(o, "%s %s ", end_word(n->u.port.end, "sport", "dport", "port"),
		    cmp_text(n->u.port.cmp));
		if (n->u.port.lo != n->u.port.hi)
			put(o, "%u-%u", n->u.port.lo, n->u.port.hi);
		else
			put(o, "%u", n->u.port.lo);
		break;
	case SEL_ADDR:
		inet_ntop(n->u.addr.family, n->u.addr.bytes, a, sizeof(a));
		put(o, "%s %s %s", end_word(n->u.addr.end, "src", "dst", "addr"),
		    n->u.addr.negate ? "!=" : "=", a);
		if (n->u.addr.prefix != (n->u.addr.family == AF_INET ? 32 : 128))
			put(o, "/%d", n->u.addr.prefix);
		break;
	case SEL_FAMILY:
		put(o, "family %s", n->u.num.value == AF_INET ? "inet" : "inet6");
		break;
	case SEL_PROTO:
		put(o, "proto %s", n->u.num.value == IPPROTO_UDP ? "udp" : "tcp");
		break;
	case SEL_PID:
		put(o, "pid ");
		for (size_t i = 0; i < n->u.list.n; i++)
			put(o, "%s%d", i ? "," : "", n->u.list.v[i]);
		break;
	case SEL_COMM:
		put_text(o, "comm", n->u.text);
		break;
	case SEL_EXE:
		put_text(o, "exe", n->u.text);
		break;
	case SEL_PPID:
		put(o, "ppid %s %" PRIu64, cmp_text(n->u.num.cmp), n->u.num.value);
		break;
	case SEL_MARK:
		if (n->u.mark.mask == UINT32_MAX)
			put(o, "mark = 0x%x", n->u.mark.value);
		else
			put(o, "mark = 0x%x/0x%x", n->u.mark.value, n->u.mark.mask);
		break;
	case SEL_DEV:
		if (n->u.dev.name)
			put_text(o, "dev", n->u.dev.name);
		else
			put(o, "dev = %" PRIu64, n->u.dev.value);
		break;
	case SEL_CGROUP:
		if (n->u.cg.unit)
			put_text(o, "unit", n->u.cg.unit);
		else
			put_text(o, "cgroup", n->u.cg.path);
		break;
	case SEL_IDLE:
		put(o, "idle %s ", cmp_text(n->u.num.cmp));
		put_duration(o, n->u.num.value);
		break;
	case SEL_UID:
	case SEL_RECVQ:
	case SEL_SENDQ:
	case SEL_INODE:
		put(o, "%s %s %" PRIu64,
		    n->kind == SEL_UID	   ? "uid"
		    : n->kind == SEL_RECVQ ? "recv-q"
		    : n->kind == SEL_SENDQ ? "send-q"
					   : "inode",
		    cmp_text(n->u.num.cmp), n->u.num.value);
		break;
	case SEL_COOKIE:
		put(o, "cookie %s %" PRIx64, cmp_text(n->u.num.cmp), n->u.num.value);
		break;
	case SEL_NETNS:
		if (n->u.ns.pid)
			put(o, "netns pid %d", (int)n->u.ns.pid);
		else if (n->u.ns.spec)
			put_text(o, "netns", n->u.ns.spec);
		else
			put(o, "netns inode %" PRIu64, n->u.ns.inode);
		break;
	case SEL_CT_STATE:
		put(o, "ct-state ");
		for (unsigned s = 0; s < 32; s++)
			if (n->u.states.mask & (1U << s)) {
				put(o, "%s%s", sep, conntrack_state_name(s));
				sep = ",";
			}
		break;
	case SEL_NAT_ADDR:
		inet_ntop(n->u.addr.family, n->u.addr.bytes, a, sizeof(a));
		put(o, "%s %s %s", n->u.addr.end == END_SRC ? "nat-src" : "nat-dst",
		    n->u.addr.negate ? "!=" : "=", a);
		if (n->u.addr.prefix != (n->u.addr.family == AF_INET ? 32 : 128))
			put(o, "/%d", n->u.addr.prefix);
		break;
	case SEL_ZONE:
		put(o, "zone %s %" PRIu64, cmp_text(n->u.num.cmp), n->u.num.value);
		break;
	case SEL_CT_TIMEOUT:
		put(o, "timeout %s ", cmp_text(n->u.num.cmp));
		put_duration(o, n->u.num.value);
		break;
	}
}

size_t selector_format(const struct sel_node *n, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	if (n)
		format_node(&o, n, SEL_OR);
	return o.len;
}

/* The word a leaf was written with, for a message. */
static const char *kind_word(const struct sel_node *n)
{
	switch (n->kind) {
	case SEL_PID:
		return "pid";
	case SEL_COMM:
		return "comm";
	case SEL_EXE:
		return "exe";
	case SEL_PPID:
		return "ppid";
	case SEL_UID:
		return "uid";
	case SEL_CGROUP:
		return n->u.cg.unit ? "unit" : "cgroup";
	case SEL_IDLE:
		return "idle";
	case SEL_RECVQ:
		return "recv-q";
	case SEL_SENDQ:
		return "send-q";
	case SEL_INODE:
		return "inode";
	case SEL_COOKIE:
		return "cookie";
	case SEL_DEV:
		return "dev";
	case SEL_NETNS:
		return "netns";
	case SEL_CT_STATE:
		return "ct-state";
	case SEL_NAT_ADDR:
		return n->u.addr.end == END_SRC ? "nat-src" : "nat-dst";
	case SEL_ZONE:
		return "zone";
	case SEL_CT_TIMEOUT:
		return "timeout";
	default:
		return NULL;
	}
}

static bool flow_word(enum sel_kind k)
{
	return k == SEL_CT_STATE || k == SEL_NAT_ADDR || k == SEL_ZONE || k == SEL_CT_TIMEOUT;
}

int selector_check_source(const struct sel_node *n, bool conntrack, struct sel_error *err)
{
	if (!n)
		return 0;
	if (n->kind == SEL_AND || n->kind == SEL_OR || n->kind == SEL_NOT) {
		int ret = selector_check_source(n->l, conntrack, err);

		return ret || n->kind == SEL_NOT ? ret : selector_check_source(n->r, conntrack, err);
	}
	const char *w = kind_word(n);
	bool fits = !w || (flow_word(n->kind) ? conntrack
				     /* --netns picks where conntrack is read: a scope, not a word */
				     : !conntrack || (n->kind == SEL_NETNS && n->u.ns.from_flag));

	if (fits)
		return 0;
	snprintf(err->msg, sizeof(err->msg), conntrack
		 ? "\"%s\" does not apply to forwarded flows (--forwarded): a conntrack entry "
		   "has no socket, owner or namespace word"
		 : "\"%s\" selects forwarded flows: give --forwarded", w);
	err->pos = n->pos;
	err->len = n->len > 0 ? n->len : 1;
	return -EINVAL;
}
