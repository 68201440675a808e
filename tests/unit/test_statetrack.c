// SPDX-License-Identifier: GPL-2.0-or-later
/* The state tracker's pure parts: which rules it can stand for, and map record -> sock record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "selector.h"
#include "statetrack.h"

static uint32_t states_of(const char *text)
{
	struct sel_error err = { "", 0, 0 };
	struct sel_node *ast = selector_parse(text, &err);
	uint32_t s;

	if (!ast)
		fail_msg("\"%s\": %s", text, err.msg);
	s = statetrack_rule_states(ast);
	sel_node_free(ast);
	return s;
}

static void test_statetrack_rule_states(void **state)
{
	static const struct {
		const char *selector;
		uint32_t states;
	} cases[] = {
		{ "state close-wait", SS_BIT(SS_CLOSE_WAIT) },
		{ "state close-wait and sport = :9001", SS_BIT(SS_CLOSE_WAIT) },
		{ "state close-wait and unit app.service", SS_BIT(SS_CLOSE_WAIT) },
		{ "state close-wait,last-ack", SS_BIT(SS_CLOSE_WAIT) | SS_BIT(SS_LAST_ACK) },
		{ "state fin-wait-1 or (state closing and dport 443)",
		  SS_BIT(SS_FIN_WAIT1) | SS_BIT(SS_CLOSING) },
		{ "proto tcp and state close-wait and idle > 5m", SS_BIT(SS_CLOSE_WAIT) },
		{ "state close-wait and not state last-ack", SS_BIT(SS_CLOSE_WAIT) },
		/* No event tells of these: a dump. */
		{ "state fin-wait-2", 0 },
		{ "state close-wait,fin-wait-2", 0 },
		{ "state time-wait", 0 },
		{ "state syn-recv", 0 },
		{ "state established", 0 },
		{ "state close-wait or dport 443", 0 },
		{ "not state close-wait", 0 },
		{ "sport = :9001", 0 },
		{ "comm java", 0 },
		/* UDP has no such states; a selector that may take it is dumped. */
		{ "proto udp", 0 },
		{ "state close-wait or proto udp", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = states_of(cases[i].selector);

		if (got != cases[i].states)
			fail_msg("\"%s\": 0x%x, expected 0x%x", cases[i].selector, got,
				 cases[i].states);
	}
	assert_int_equal(statetrack_rule_states(NULL), 0);
}

static void test_statetrack_to_sock(void **state)
{
	struct statetrack_rec v4 = { .cookie = 0x1122334455667788ULL, .entered_ns = 5,
				     .netns = 4026531840U, .src = { htonl(0x7f000001) },
				     .dst = { htonl(0x7f000002) }, .bound_dev_if = 3,
				     .sport = 9001, .dport = htons(41234), .family = AF_INET,
				     .state = SS_CLOSE_WAIT };
	struct statetrack_rec v6 = v4;
	struct sock_rec r;

	(void)state;
	statetrack_to_sock(&v4, &r);
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.protocol, IPPROTO_TCP);
	assert_int_equal(r.state, SS_CLOSE_WAIT);
	/* Both ports in network order in the id, as a dump gives them. */
	assert_int_equal(sock_sport(&r), 9001);
	assert_int_equal(sock_dport(&r), 41234);
	assert_int_equal(r.id.idiag_src[0], htonl(0x7f000001));
	assert_int_equal(r.id.idiag_dst[0], htonl(0x7f000002));
	assert_int_equal(r.id.idiag_src[1], 0);
	assert_int_equal(r.id.idiag_if, 3);
	/* The cookie whole: the get finds this socket or none. */
	assert_true(sock_cookie(&r) == 0x1122334455667788ULL);
	assert_int_equal(r.idle_ms, SOCK_IDLE_UNKNOWN);
	assert_int_equal(r.pid, -1);
	assert_int_equal(r.outcome, OUT_NONE);

	v6.family = AF_INET6;
	for (int i = 0; i < 4; i++) {
		v6.src[i] = htonl(0x20010db8U + (uint32_t)i);
		v6.dst[i] = htonl(0xfe800000U + (uint32_t)i);
	}
	statetrack_to_sock(&v6, &r);
	assert_int_equal(r.family, AF_INET6);
	assert_memory_equal(r.id.idiag_src, v6.src, 16);
	assert_memory_equal(r.id.idiag_dst, v6.dst, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statetrack_rule_states),
		cmocka_unit_test(test_statetrack_to_sock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
