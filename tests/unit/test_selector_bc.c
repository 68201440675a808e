// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The bytecode prefilter against an emulation of the kernel's INET_DIAG bytecode auditor and
 * interpreter (net/ipv4/inet_diag.c semantics, re-implemented here): random selectors compile
 * to programs the auditor accepts, that never reject a socket the full evaluation matches, and
 * that decide exactly when they say they are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fixtures.h"
#include "selector.h"

static struct inet_diag_bc_op op_at(const uint8_t *bc, size_t off)
{
	struct inet_diag_bc_op op;

	memcpy(&op, bc + off, sizeof(op));
	return op;
}

static size_t min_len(const uint8_t *bc, size_t off, size_t rem)
{
	struct inet_diag_bc_op op = op_at(bc, off);

	switch (op.code) {
	case INET_DIAG_BC_S_COND:
	case INET_DIAG_BC_D_COND: {
		struct inet_diag_hostcond hc;

		if (rem < 4 + sizeof(hc))
			return SIZE_MAX;
		memcpy(&hc, bc + off + 4, sizeof(hc));
		if (hc.family != AF_INET && hc.family != AF_INET6 && hc.family != AF_UNSPEC)
			return SIZE_MAX;
		size_t alen = hc.family == AF_INET ? 4 : hc.family == AF_INET6 ? 16 : 0;

		if (hc.prefix_len > alen * 8)
			return SIZE_MAX;
		return 4 + sizeof(hc) + alen;
	}
	case INET_DIAG_BC_S_GE:
	case INET_DIAG_BC_S_LE:
	case INET_DIAG_BC_D_GE:
	case INET_DIAG_BC_D_LE:
	case INET_DIAG_BC_S_EQ:
	case INET_DIAG_BC_D_EQ:
	case INET_DIAG_BC_DEV_COND:
		return 8;
	case INET_DIAG_BC_NOP:
	case INET_DIAG_BC_JMP:
		return 4;
	case INET_DIAG_BC_CGROUP_COND:
		return 12;
	default:
		return SIZE_MAX;
	}
}

/* The kernel's checks: known ops, lengths, aligned jumps landing on ops or just past the end. */
static bool emu_audit(const uint8_t *bc, size_t len)
{
	bool boundary[SEL_BC_MAX + 8] = { false };
	size_t off = 0;

	if (len > SEL_BC_MAX)
		return false;
	while (off < len) {
		boundary[off] = true;
		struct inet_diag_bc_op op = op_at(bc, off);

		if (op.yes == 0)
			return false;
		off += op.yes;
	}
	for (off = 0; off < len;) {
		struct inet_diag_bc_op op = op_at(bc, off);
		size_t rem = len - off, ml = min_len(bc, off, rem);

		if (ml == SIZE_MAX)
			return false;
		if (op.code != INET_DIAG_BC_NOP) {
			if (op.no < ml || op.no > rem + 4 || (op.no & 3))
				return false;
			if (op.no < rem && !boundary[off + op.no])
				return false;
		}
		if (op.yes < ml || op.yes > rem + 4 || (op.yes & 3))
			return false;
		off += op.yes;
	}
	return off == len;
}

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, p, full))
		return false;
	return !rest || ((a[full] ^ p[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool emu_run(const uint8_t *bc, size_t len, const struct sock_rec *r)
{
	long rem = (long)len;
	size_t off = 0;

	while (rem > 0) {
		struct inet_diag_bc_op op = op_at(bc, off);
		uint16_t arg = op_at(bc, off + 4 < len ? off + 4 : off).no;
		bool yes = true;

		switch (op.code) {
		case INET_DIAG_BC_NOP:
			break;
		case INET_DIAG_BC_JMP:
			yes = false;
			break;
		case INET_DIAG_BC_S_EQ:
			yes = sock_sport(r) == arg;
			break;
		case INET_DIAG_BC_CGROUP_COND: {
			uint64_t id;

			memcpy(&id, bc + off + 4, sizeof(id));
			yes = r->cgroup_id == id;
			break;
		}
		case INET_DIAG_BC_DEV_COND: {
			uint32_t ifindex;

			memcpy(&ifindex, bc + off + 4, sizeof(ifindex));
			yes = r->id.idiag_if == ifindex;
			break;
		}
		case INET_DIAG_BC_S_GE:
			yes = sock_sport(r) >= arg;
			break;
		case INET_DIAG_BC_S_LE:
			yes = sock_sport(r) <= arg;
			break;
		case INET_DIAG_BC_D_EQ:
			yes = sock_dport(r) == arg;
			break;
		case INET_DIAG_BC_D_GE:
			yes = sock_dport(r) >= arg;
			break;
		case INET_DIAG_BC_D_LE:
			yes = sock_dport(r) <= arg;
			break;
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			struct inet_diag_hostcond hc;
			const uint8_t *addr = (const uint8_t *)(op.code == INET_DIAG_BC_S_COND
									? r->id.idiag_src
									: r->id.idiag_dst);
			const uint8_t *pat = bc + off + 4 + sizeof(hc);
			static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

			memcpy(&hc, bc + off + 4, sizeof(hc));
			if (hc.port != -1 &&
			    hc.port != (op.code == INET_DIAG_BC_S_COND ? sock_sport(r) : sock_dport(r))) {
				yes = false;
				break;
			}
			if (hc.family != AF_UNSPEC && hc.family != r->family) {
				yes = r->family == AF_INET6 && hc.family == AF_INET &&
				      !memcmp(addr, mapped, 12) &&
				      prefix_match(addr + 12, pat, hc.prefix_len);
				break;
			}
			yes = hc.prefix_len == 0 || prefix_match(addr, pat, hc.prefix_len);
			break;
		}
		default:
			fail_msg("unexpected op %u", op.code);
		}
		size_t adv = yes ? op.yes : op.no;

		rem -= (long)adv;
		off += adv;
	}
	return rem == 0;
}

/* A small deterministic generator, so a failure reproduces. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const leaves[] = {
	"sport 80",	    "dport 443",	   "port 22",		  "port != 22",
	"sport >= 1024",    "sport > 65535",	   "dport < 100",	  "dport < 0",
	"dport <= 443",	    "sport 5000-6000",	   "dport != 5000-6000",  "port 40000-50000",
	"src 10.0.0.0/8",   "dst 10.0.0.9",	   "addr 127.0.0.1",	  "src ::1",
	"dst 2001:db8::/32", "src != 192.168.0.0/16", "addr != ::1",	  "src 0.0.0.0/0",
	"dst ::ffff:10.0.0.0/104", "src 10.0.0.1:80", "state close-wait",	  "state established",
	"pid 100",	    "idle > 5m",	   "comm java",		  "family inet6",
	"dev 1",	    "dev != 2",		   "mark 0x10/0xf0",	  "proto udp",
};

static void gen(char *buf, size_t size, int depth)
{
	unsigned k = depth > 3 ? 0 : rnd(6);
	char a[1024], b[1024];

	switch (k) {
	case 0:
	case 1:
		snprintf(buf, size, "%s", leaves[rnd(sizeof(leaves) / sizeof(leaves[0]))]);
		break;
	case 2:
		gen(a, sizeof(a), depth + 1);
		snprintf(buf, size, "not (%s)", a);
		break;
	case 3:
	case 4:
		gen(a, sizeof(a), depth + 1);
		gen(b, sizeof(b), depth + 1);
		snprintf(buf, size, "(%s) and (%s)", a, b);
		break;
	default:
		gen(a, sizeof(a), depth + 1);
		gen(b, sizeof(b), depth + 1);
		snprintf(buf, size, "(%s) or (%s)", a, b);
		break;
	}
}

static size_t population(struct sock_rec *out, size_t max)
{
	static const char *const v4[] = { "10.0.0.1", "10.0.0.9", "127.0.0.1", "192.168.1.7" };
	static const char *const v6[] = { "::1", "::ffff:10.0.0.9", "2001:db8::5", "fe80::1" };
	static const uint16_t ports[] = { 0, 22, 80, 99, 100, 443, 1023, 1024, 5000, 6000, 40000,
					  65535 };
	size_t n = 0;

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 12 && n + 2 <= max; j++) {
			unsigned st = j % 2 ? SS_CLOSE_WAIT : SS_ESTABLISHED;

			out[n] = fx_rec(AF_INET, v4[i], ports[j], v4[(i + 1) % 4], ports[(j + 5) % 12],
					st, 0);
			out[n].id.idiag_if = j % 3;
			out[n].mark = (uint32_t)j * 8;
			out[n++].pid = 100;
			out[n] = fx_rec(AF_INET6, v6[i], ports[(j + 3) % 12], v6[(i + 3) % 4],
					ports[j], st, 0);
			out[n++].idle_ms = 400000;
		}
	return n;
}

static void test_selector_bc_random_programs(void **state)
{
	struct sock_rec pop[128];
	size_t npop = population(pop, 128);
	static uint8_t bc[SEL_BC_MAX];
	int compiled = 0, exact = 0;

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		char expr[4096];
		struct sel_error err;
		bool is_exact;

		gen(expr, sizeof(expr), 0);
		struct sel_node *n = selector_parse(expr, &err);

		if (!n)
			fail_msg("generated \"%s\" does not parse: %s", expr, err.msg);
		size_t len = selector_bytecode(n, bc, sizeof(bc), &is_exact);

		if (len) {
			compiled++;
			exact += is_exact;
			if (!emu_audit(bc, len))
				fail_msg("\"%s\": the kernel would refuse the program", expr);
		}
		for (size_t i = 0; i < npop; i++) {
			bool match = selector_eval(n, &pop[i], NULL) == SEL_YES;
			bool pass = !len || emu_run(bc, len, &pop[i]);

			if (match && !pass)
				fail_msg("\"%s\": prefilter drops socket %zu", expr, i);
			if (len && is_exact && pass != match &&
			    selector_eval(n, &pop[i], NULL) != SEL_UNKNOWN)
				fail_msg("\"%s\": exact program disagrees on socket %zu", expr, i);
		}
		sel_node_free(n);
	}
	/* The generator must exercise both kinds, or this test proves little. */
	assert_true(compiled > 1000);
	assert_true(exact > 300);
}

static size_t compile(const char *expr, bool *exact)
{
	struct sel_error err;
	static uint8_t bc[SEL_BC_MAX];
	struct sel_node *n = selector_parse(expr, &err);
	size_t len;

	assert_non_null(n);
	len = selector_bytecode(n, bc, sizeof(bc), exact);
	sel_node_free(n);
	return len;
}

static void test_selector_bc_shapes(void **state)
{
	bool exact;

	(void)state;
	assert_int_equal(compile("dport 443", &exact), 8);
	assert_true(exact);
	assert_int_equal(compile("src 10.0.0.0/8", &exact), 16);
	assert_int_equal(compile("src ::1", &exact), 28);
	/* What the kernel cannot decide widens: dropped under AND, gives up under OR and NOT. */
	assert_int_equal(compile("state close-wait", &exact), 0);
	assert_int_equal(compile("state close-wait and dport 443", &exact), 8);
	assert_false(exact);
	assert_int_equal(compile("state close-wait or dport 443", &exact), 0);
	assert_int_equal(compile("not (state close-wait and dport 443)", &exact), 0);
	assert_int_equal(compile("not dport 443", &exact), 12);
	assert_true(exact);
	assert_int_equal(compile("dport 1 or dport 2", &exact), 20);
}

static void test_selector_bc_cgroup_ids(void **state)
{
	struct sel_error err;
	struct sel_node *n = selector_parse("dport 80 and cgroup /a", &err);
	static const uint64_t ids[] = { 7, 9, 12 };
	static uint8_t bc[SEL_BC_MAX];
	bool exact;

	(void)state;
	assert_non_null(n);
	/* What selector_resolve would have found under /a. */
	n->r->u.cg.ids = malloc(sizeof(ids));
	memcpy(n->r->u.cg.ids, ids, sizeof(ids));
	n->r->u.cg.n = 3;
	size_t len = selector_bytecode(n, bc, sizeof(bc), &exact);

	assert_true(len > 0 && exact);
	assert_true(emu_audit(bc, len));
	for (uint64_t id = 0; id < 15; id++)
		for (uint16_t port = 79; port <= 81; port++) {
			struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 4000, "10.0.0.2", port,
						   SS_ESTABLISHED, 1);

			r.cgroup_id = id;
			assert_int_equal(emu_run(bc, len, &r),
					 selector_eval(n, &r, NULL) == SEL_YES);
			assert_int_equal(emu_run(bc, len, &r),
					 port == 80 && (id == 7 || id == 9 || id == 12));
		}
	sel_node_free(n);
}

static void test_selector_bc_dump_lists_ops(void **state)
{
	struct sel_error err;
	struct sel_prefilter pf;
	char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct sel_node *n = selector_parse("dport 443 or src 10.0.0.0/8", &err);

	(void)state;
	selector_prefilter(n, &pf);
	selector_bytecode_dump(f, pf.bc, pf.bclen, "  ");
	fclose(f);
	sel_node_free(n);
	assert_string_equal(buf,
			    "     0  dport = 443                  yes +8   no +12\n"
			    "     8  jmp                          yes +4   no +20 (pass)\n"
			    "    12  src 10.0.0.0/8               yes +16  no +20 (fail)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_bc_random_programs),
		cmocka_unit_test(test_selector_bc_shapes),
		cmocka_unit_test(test_selector_bc_cgroup_ids),
		cmocka_unit_test(test_selector_bc_dump_lists_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
