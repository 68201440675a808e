// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel prefilter: what part of the AST the kernel can apply to a dump. It must only
 * ever widen: every socket the full evaluation would match has to pass it.
 */
#include "selector.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#define FAM_4 1U
#define FAM_6 2U
#define PROTO_TCP 1U
#define PROTO_UDP 2U

/*
 * One dimension the kernel request restricts (states, families, protocols): which leaf kind
 * decides it, the mask a leaf allows, and the whole range.
 */
struct dim {
	enum sel_kind kind;
	uint32_t all;
	uint32_t (*leaf)(const struct sel_node *n);
};

/* A superset of the dimension's values the AST can match. */
static uint32_t mask_of(const struct sel_node *n, const struct dim *d)
{
	switch (n->kind) {
	case SEL_AND:
		return mask_of(n->l, d) & mask_of(n->r, d);
	case SEL_OR:
		return mask_of(n->l, d) | mask_of(n->r, d);
	case SEL_NOT:
		/* Only a bare leaf can be complemented exactly. */
		return n->l->kind == d->kind ? d->all & ~d->leaf(n->l) : d->all;
	default:
		return n->kind == d->kind ? d->leaf(n) : d->all;
	}
}

static uint32_t state_leaf(const struct sel_node *n)
{
	return n->u.states.mask;
}

static uint32_t family_leaf(const struct sel_node *n)
{
	return n->u.num.value == AF_INET ? FAM_4 : FAM_6;
}

static uint32_t proto_leaf(const struct sel_node *n)
{
	return n->u.num.value == IPPROTO_UDP ? PROTO_UDP : PROTO_TCP;
}

static const struct dim states_dim = { SEL_STATE, SS_ALL_MASK, state_leaf };
static const struct dim families_dim = { SEL_FAMILY, FAM_4 | FAM_6, family_leaf };
static const struct dim protos_dim = { SEL_PROTO, PROTO_TCP | PROTO_UDP, proto_leaf };

void selector_prefilter(const struct sel_node *n, struct sel_prefilter *pf)
{
	/* UDP only when the selector says so, as listeners only when it says listen. */
	uint32_t protos = (n ? mask_of(n, &protos_dim) : protos_dim.all) &
			  (selector_names_udp(n) ? PROTO_TCP | PROTO_UDP : PROTO_TCP);
	uint32_t states = n ? mask_of(n, &states_dim) : states_dim.all;
	uint32_t fam = n ? mask_of(n, &families_dim) : families_dim.all;

	if (!selector_names_listen(n))
		states &= ~SS_BIT(SS_LISTEN);
	/* Request sockets are dumped under their own state number. */
	if (states & SS_BIT(SS_SYN_RECV))
		states |= SS_BIT(SS_NEW_SYN_RECV);
	pf->states = states;
	pf->inet = fam & FAM_4;
	pf->inet6 = fam & FAM_6;
	pf->tcp = protos & PROTO_TCP;
	pf->udp = protos & PROTO_UDP;
	pf->bclen = selector_bytecode(n, pf->bc, sizeof(pf->bc), &pf->bc_exact);
}

/*
 * INET_DIAG bytecode. The kernel runs ops from the start: a true op advances by `yes`, a false
 * one by `no`; the socket passes when the run ends exactly at the end, and fails when a jump
 * lands past it. Every program built here keeps one convention: "false" jumps to 4 bytes past
 * its own end. Then:
 *   AND(a, b) = a b           with a's false-jumps moved to b's end + 4
 *   OR(a, b)  = a JMP(|b|) b  a's false lands on b, a's true falls into the jump over b
 *   NOT(a)    = a JMP(8)      a's true jumps past the end, a's false lands on the end
 * A subtree the kernel cannot decide (state, owners, idle, ...) compiles to nothing, which
 * means "true" only where that widens: AND drops it, OR and NOT give up.
 */
#include <arpa/inet.h>
#include <string.h>

struct prog {
	uint8_t *code;
	size_t len;
	bool exact;
	bool none;	/* not expressible */
	bool overflow;
};

struct bc {
	uint8_t *buf;
	size_t size;
	size_t used;
	bool overflow;
};

static uint8_t *bc_alloc(struct bc *b, size_t len)
{
	if (b->used + len > b->size) {
		b->overflow = true;
		return NULL;
	}
	uint8_t *p = b->buf + b->used;

	b->used += len;
	return p;
}

static void put_op(uint8_t *p, uint8_t code, uint8_t yes, uint16_t no)
{
	struct inet_diag_bc_op op = { code, yes, no };

	memcpy(p, &op, sizeof(op));
}

static struct inet_diag_bc_op get_op(const uint8_t *p)
{
	struct inet_diag_bc_op op;

	memcpy(&op, p, sizeof(op));
	return op;
}

/* Moves every false-jump of code[0..len) that leaves to len + 4 by delta more. */
static bool relocate(uint8_t *code, size_t len, size_t delta)
{
	for (size_t off = 0; off < len;) {
		struct inet_diag_bc_op op = get_op(code + off);

		if (op.code != INET_DIAG_BC_NOP && off + op.no == len + 4) {
			if (op.no + delta > UINT16_MAX)
				return false;
			op.no = (uint16_t)(op.no + delta);
			memcpy(code + off, &op, sizeof(op));
		}
		off += op.yes;
	}
	return true;
}

/* Programs are built in a scratch area and concatenated by copying; sizes stay tiny. */
static struct prog leaf(struct bc *b, const void *body, size_t bodylen, uint8_t code)
{
	struct prog p = { .exact = true };
	size_t len = sizeof(struct inet_diag_bc_op) + bodylen;
	uint8_t *c = bc_alloc(b, len);

	if (!c) {
		p.overflow = true;
		return p;
	}
	put_op(c, code, (uint8_t)len, (uint16_t)(len + 4));
	memcpy(c + sizeof(struct inet_diag_bc_op), body, bodylen);
	p.code = c;
	p.len = len;
	return p;
}

static struct prog port_op(struct bc *b, uint8_t code, uint16_t port)
{
	struct inet_diag_bc_op arg = { 0, 0, port };

	return leaf(b, &arg, sizeof(arg), code);
}

static struct prog always(struct bc *b, bool value)
{
	struct prog p = { .exact = true };
	uint8_t *c = bc_alloc(b, 4);

	if (!c) {
		p.overflow = true;
		return p;
	}
	/* NOP always takes yes; JMP always takes no. */
	put_op(c, value ? INET_DIAG_BC_NOP : INET_DIAG_BC_JMP, 4, 8);
	p.code = c;
	p.len = 4;
	return p;
}

static struct prog join(struct bc *b, const struct prog *x, const struct prog *mid, size_t midlen,
			const struct prog *y)
{
	struct prog p = { .exact = x->exact && y->exact };
	size_t len = x->len + midlen + y->len;
	uint8_t *c = bc_alloc(b, len);

	if (!c || len > UINT16_MAX / 2) {
		p.overflow = true;
		return p;
	}
	memcpy(c, x->code, x->len);
	if (midlen)
		memcpy(c + x->len, mid->code, midlen);
	if (y->len)
		memcpy(c + x->len + midlen, y->code, y->len);
	p.code = c;
	p.len = len;
	return p;
}

static struct prog bc_and(struct bc *b, struct prog x, struct prog y)
{
	if (x.overflow || y.overflow)
		return (struct prog){ .overflow = true };
	if (x.none && y.none)
		return (struct prog){ .none = true };
	if (x.none || y.none) {
		struct prog p = x.none ? y : x;

		p.exact = false;
		return p;
	}
	struct prog p = join(b, &x, NULL, 0, &y);

	if (!p.overflow && !relocate(p.code, x.len, y.len))
		p.overflow = true;
	return p;
}

static struct prog bc_or(struct bc *b, struct prog x, struct prog y)
{
	if (x.overflow || y.overflow)
		return (struct prog){ .overflow = true };
	if (x.none || y.none)
		return (struct prog){ .none = true };
	struct prog jmp = { 0 };
	uint8_t *c = bc_alloc(b, 4);

	if (!c || y.len + 4 > UINT16_MAX)
		return (struct prog){ .overflow = true };
	put_op(c, INET_DIAG_BC_JMP, 4, (uint16_t)(y.len + 4));
	jmp.code = c;
	jmp.len = 4;
	return join(b, &x, &jmp, 4, &y);
}

static struct prog bc_not(struct bc *b, struct prog x)
{
	if (x.overflow)
		return x;
	if (x.none || !x.exact)
		return (struct prog){ .none = true };
	struct prog jmp = { 0 };
	uint8_t *c = bc_alloc(b, 4);

	if (!c)
		return (struct prog){ .overflow = true };
	put_op(c, INET_DIAG_BC_JMP, 4, 8);
	jmp.code = c;
	jmp.len = 4;
	struct prog y = { .code = NULL, .len = 0, .exact = true };

	return join(b, &x, &jmp, 4, &y);
}

static struct prog port_cmp(struct bc *b, bool src, enum sel_cmp cmp, uint16_t v)
{
	uint8_t eq = src ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ;
	uint8_t ge = src ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE;
	uint8_t le = src ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE;

	switch (cmp) {
	case CMP_EQ:
		return port_op(b, eq, v);
	case CMP_NE:
		return bc_not(b, port_op(b, eq, v));
	case CMP_GE:
		return port_op(b, ge, v);
	case CMP_LE:
		return port_op(b, le, v);
	case CMP_GT:
		return v == UINT16_MAX ? always(b, false) : port_op(b, ge, (uint16_t)(v + 1));
	case CMP_LT:
		return v == 0 ? always(b, false) : port_op(b, le, (uint16_t)(v - 1));
	}
	return (struct prog){ .none = true };
}

static struct prog port_one_end(struct bc *b, const struct sel_node *n, bool src)
{
	if (n->u.port.lo == n->u.port.hi)
		return port_cmp(b, src, n->u.port.cmp, n->u.port.lo);
	struct prog in = bc_and(b, port_cmp(b, src, CMP_GE, n->u.port.lo),
				port_cmp(b, src, CMP_LE, n->u.port.hi));

	return n->u.port.cmp == CMP_NE ? bc_not(b, in) : in;
}

static struct prog compile_port(struct bc *b, const struct sel_node *n)
{
	if (n->u.port.end != END_ANY)
		return port_one_end(b, n, n->u.port.end == END_SRC);
	/* "port != X" is "neither end is X": the negation of "either end is X". */
	if (n->u.port.cmp == CMP_NE) {
		struct sel_node eq = *n;

		eq.u.port.cmp = CMP_EQ;
		return bc_not(b, bc_or(b, port_one_end(b, &eq, true), port_one_end(b, &eq, false)));
	}
	return bc_or(b, port_one_end(b, n, true), port_one_end(b, n, false));
}

static struct prog host_cond(struct bc *b, const struct sel_node *n, bool src)
{
	struct inet_diag_hostcond hc = { 0 };
	uint8_t body[sizeof(hc) + 16];
	size_t alen = n->u.addr.family == AF_INET ? 4 : 16;

	hc.family = (uint8_t)n->u.addr.family;
	hc.prefix_len = (uint8_t)n->u.addr.prefix;
	hc.port = -1;
	memcpy(body, &hc, sizeof(hc));
	memcpy(body + sizeof(hc), n->u.addr.bytes, alen);
	return leaf(b, body, sizeof(hc) + alen, src ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND);
}

static struct prog compile_addr(struct bc *b, const struct sel_node *n)
{
	struct prog p;

	if (n->u.addr.end == END_ANY)
		p = bc_or(b, host_cond(b, n, true), host_cond(b, n, false));
	else
		p = host_cond(b, n, n->u.addr.end == END_SRC);
	return n->u.addr.negate ? bc_not(b, p) : p;
}

static struct prog compile(struct bc *b, const struct sel_node *n, int depth)
{
	if (depth > 64)
		return (struct prog){ .none = true };
	switch (n->kind) {
	case SEL_AND:
		return bc_and(b, compile(b, n->l, depth + 1), compile(b, n->r, depth + 1));
	case SEL_OR:
		return bc_or(b, compile(b, n->l, depth + 1), compile(b, n->r, depth + 1));
	case SEL_NOT:
		return bc_not(b, compile(b, n->l, depth + 1));
	case SEL_PORT:
		return compile_port(b, n);
	case SEL_ADDR:
		return compile_addr(b, n);
	case SEL_CGROUP: {
		/* A handful of ids as an OR chain; a bigger subtree is left to user space. */
		if (!n->u.cg.ids || !n->u.cg.n || n->u.cg.n > 16)
			return (struct prog){ .none = true };
		struct prog p = leaf(b, &n->u.cg.ids[0], sizeof(uint64_t), INET_DIAG_BC_CGROUP_COND);

		for (size_t i = 1; i < n->u.cg.n; i++)
			p = bc_or(b, p, leaf(b, &n->u.cg.ids[i], sizeof(uint64_t),
					     INET_DIAG_BC_CGROUP_COND));
		return p;
	}
	case SEL_DEV: {
		uint32_t ifindex = (uint32_t)n->u.dev.value;

		/*
		 * One index per namespace: the bytecode is shared by all of them, so user space
		 * decides. A name not found here (0) would match every unbound socket.
		 */
		if (n->u.dev.per_ns || (n->u.dev.name && !ifindex))
			return (struct prog){ .none = true };
		return leaf(b, &ifindex, sizeof(ifindex), INET_DIAG_BC_DEV_COND);
	}
	default:
		return (struct prog){ .none = true };
	}
}

size_t selector_bytecode(const struct sel_node *n, uint8_t *buf, size_t size, bool *exact)
{
	/* Scratch for the intermediate pieces; the result is copied to buf. */
	static const size_t scratch_size = 64 * 1024;
	uint8_t *scratch;
	struct bc b;
	struct prog p;
	size_t len = 0;

	*exact = false;
	if (!n || !(scratch = malloc(scratch_size)))
		return 0;
	b = (struct bc){ scratch, scratch_size, 0, false };
	p = compile(&b, n, 0);
	if (!p.none && !p.overflow && !b.overflow && p.len <= size) {
		memcpy(buf, p.code, p.len);
		len = p.len;
		*exact = p.exact;
	}
	free(scratch);
	return len;
}

void selector_bytecode_dump(FILE *f, const uint8_t *bc, size_t len, const char *indent)
{
	static const char *const names[] = {
		[INET_DIAG_BC_NOP] = "nop",	  [INET_DIAG_BC_JMP] = "jmp",
		[INET_DIAG_BC_S_GE] = "sport >=", [INET_DIAG_BC_S_LE] = "sport <=",
		[INET_DIAG_BC_D_GE] = "dport >=", [INET_DIAG_BC_D_LE] = "dport <=",
		[INET_DIAG_BC_AUTO] = "auto",	  [INET_DIAG_BC_S_COND] = "src",
		[INET_DIAG_BC_D_COND] = "dst",	  [INET_DIAG_BC_DEV_COND] = "dev",
		[INET_DIAG_BC_MARK_COND] = "mark", [INET_DIAG_BC_S_EQ] = "sport =",
		[INET_DIAG_BC_D_EQ] = "dport =",  [INET_DIAG_BC_CGROUP_COND] = "cgroup",
	};

	for (size_t off = 0; off + 4 <= len;) {
		struct inet_diag_bc_op op = get_op(bc + off);
		const char *name = op.code < sizeof(names) / sizeof(names[0]) && names[op.code]
					   ? names[op.code]
					   : "?";
		char arg[64] = "";

		if (op.code >= INET_DIAG_BC_S_GE && op.code <= INET_DIAG_BC_D_LE && off + 8 <= len)
			snprintf(arg, sizeof(arg), " %u", get_op(bc + off + 4).no);
		else if ((op.code == INET_DIAG_BC_S_EQ || op.code == INET_DIAG_BC_D_EQ) &&
			 off + 8 <= len)
			snprintf(arg, sizeof(arg), " %u", get_op(bc + off + 4).no);
		else if (op.code == INET_DIAG_BC_CGROUP_COND && off + 12 <= len) {
			uint64_t id;

			memcpy(&id, bc + off + 4, sizeof(id));
			snprintf(arg, sizeof(arg), " %llu", (unsigned long long)id);
		} else if (op.code == INET_DIAG_BC_DEV_COND && off + 8 <= len) {
			uint32_t ifindex;

			memcpy(&ifindex, bc + off + 4, sizeof(ifindex));
			snprintf(arg, sizeof(arg), " %u", ifindex);
		} else if ((op.code == INET_DIAG_BC_S_COND || op.code == INET_DIAG_BC_D_COND) &&
			 off + 4 + sizeof(struct inet_diag_hostcond) <= len) {
			struct inet_diag_hostcond hc;
			char a[INET6_ADDRSTRLEN] = "?";

			memcpy(&hc, bc + off + 4, sizeof(hc));
			if (off + 4 + sizeof(hc) + (hc.family == AF_INET ? 4 : 16) <= len)
				inet_ntop(hc.family, bc + off + 4 + sizeof(hc), a, sizeof(a));
			snprintf(arg, sizeof(arg), " %s/%u", a, hc.prefix_len);
		}
		char text[96];

		snprintf(text, sizeof(text), "%s%s", name, arg);
		fprintf(f, "%s%4zu  %-28s yes +%-3u no +%u%s\n", indent, off, text, op.yes, op.no, off + op.no >= len + 4 ? " (fail)" : off + op.no == len ? " (pass)" : "");
		if (!op.yes)
			break;
		off += op.yes;
	}
}
