// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Forwarded flows: conntrack objects to records (libnetfilter_conntrack objects built here,
 * no kernel), conntrack's TCP states to the TCP state words, the selector's flow words on
 * those records, which words fit which records, and the flow's table line and JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "conntrack.h"
#include "forward.h"
#include "output.h"
#include "selector.h"

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* 10.91.1.2:37630 -> 10.91.2.2:8080, masqueraded out of 10.91.2.1: as the router sees it. */
static struct nf_conntrack *masqueraded(uint8_t proto, uint8_t tcp_state)
{
	struct nf_conntrack *ct = nfct_new();

	assert_non_null(ct);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, proto);
	nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, ip4("10.91.1.2"));
	nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, ip4("10.91.2.2"));
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(37630));
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(8080));
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, proto);
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, ip4("10.91.2.2"));
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, ip4("10.91.2.1"));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(8080));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(37630));
	if (proto == IPPROTO_TCP)
		nfct_set_attr_u8(ct, ATTR_TCP_STATE, tcp_state);
	nfct_set_attr_u32(ct, ATTR_ID, 0xabcd1234);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, 431999);
	nfct_set_attr_u32(ct, ATTR_MARK, 0x42);
	nfct_set_attr_u16(ct, ATTR_ZONE, 7);
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED | IPS_SRC_NAT);
	return ct;
}

static void flow_of(uint8_t proto, uint8_t tcp_state, struct ct_flow *f)
{
	struct nf_conntrack *ct = masqueraded(proto, tcp_state);

	assert_int_equal(conntrack_flow_from_nfct(ct, f), 0);
	nfct_destroy(ct);
}

static void test_conntrack_tcp_state_map(void **state)
{
	static const struct { unsigned ct, ss; } map[] = {
		{ TCP_CONNTRACK_NONE, 0 },
		{ TCP_CONNTRACK_SYN_SENT, SS_SYN_SENT },
		{ TCP_CONNTRACK_SYN_RECV, SS_SYN_RECV },
		{ TCP_CONNTRACK_ESTABLISHED, SS_ESTABLISHED },
		{ TCP_CONNTRACK_FIN_WAIT, SS_FIN_WAIT1 },
		{ TCP_CONNTRACK_CLOSE_WAIT, SS_CLOSE_WAIT },
		{ TCP_CONNTRACK_LAST_ACK, SS_LAST_ACK },
		{ TCP_CONNTRACK_TIME_WAIT, SS_TIME_WAIT },
		{ TCP_CONNTRACK_CLOSE, SS_CLOSE },
		{ TCP_CONNTRACK_SYN_SENT2, 0 },
		{ 200, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		assert_int_equal(conntrack_tcp_state(map[i].ct), map[i].ss);
}

static void test_conntrack_state_names(void **state)
{
	(void)state;
	for (unsigned s = TCP_CONNTRACK_NONE; s <= TCP_CONNTRACK_SYN_SENT2; s++) {
		const char *name = conntrack_state_name(s);

		assert_non_null(name);
		assert_int_equal(conntrack_state_parse(name, strlen(name)), (int)s);
	}
	assert_int_equal(conntrack_state_parse("FIN_WAIT", 8), TCP_CONNTRACK_FIN_WAIT);
	assert_int_equal(conntrack_state_parse("Syn_Sent2", 9), TCP_CONNTRACK_SYN_SENT2);
	assert_int_equal(conntrack_state_parse("fin-wait-1", 10), -1);
	assert_int_equal(conntrack_state_parse("established", 5), -1);
	assert_null(conntrack_state_name(TCP_CONNTRACK_MAX));
}

static void test_conntrack_flow_from_nfct_ipv4(void **state)
{
	struct ct_flow f;

	(void)state;
	flow_of(IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, &f);
	assert_int_equal(f.s.family, AF_INET);
	assert_int_equal(f.s.protocol, IPPROTO_TCP);
	assert_int_equal(f.s.id.idiag_src[0], ip4("10.91.1.2"));
	assert_int_equal(f.s.id.idiag_dst[0], ip4("10.91.2.2"));
	assert_int_equal(sock_sport(&f.s), 37630);
	assert_int_equal(sock_dport(&f.s), 8080);
	assert_int_equal(f.reply_src[0], ip4("10.91.2.2"));
	assert_int_equal(f.reply_dst[0], ip4("10.91.2.1"));
	assert_int_equal(f.reply_sport, 8080);
	assert_int_equal(f.reply_dport, 37630);
	assert_int_equal(f.s.state, SS_ESTABLISHED);
	assert_int_equal(f.ct_state, TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(f.id, 0xabcd1234);
	assert_int_equal(sock_cookie(&f.s), 0xabcd1234);
	assert_int_equal(f.timeout_s, 431999);
	assert_int_equal(f.s.mark, 0x42);
	assert_int_equal(f.zone, 7);
	assert_true(f.s.flags & SOCK_F_CONNTRACK);
	assert_true(f.s.flags & SOCK_F_MARK_KNOWN);
	assert_int_equal(f.s.pid, 0);
	assert_true(conntrack_is_nat(&f));
	assert_ptr_equal(ct_flow_of(&f.s), &f);
}

static void test_conntrack_flow_from_nfct_ipv6_udp(void **state)
{
	struct nf_conntrack *ct = nfct_new();
	struct in6_addr a, b;
	struct ct_flow f;

	(void)state;
	inet_pton(AF_INET6, "fd00:1::2", &a);
	inet_pton(AF_INET6, "fd00:2::2", &b);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET6);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_UDP);
	nfct_set_attr(ct, ATTR_ORIG_IPV6_SRC, &a);
	nfct_set_attr(ct, ATTR_ORIG_IPV6_DST, &b);
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(40000));
	nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(53));
	nfct_set_attr(ct, ATTR_REPL_IPV6_SRC, &b);
	nfct_set_attr(ct, ATTR_REPL_IPV6_DST, &a);
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(53));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(40000));
	nfct_set_attr_u32(ct, ATTR_STATUS, 0);
	assert_int_equal(conntrack_flow_from_nfct(ct, &f), 0);
	nfct_destroy(ct);
	assert_int_equal(f.s.family, AF_INET6);
	assert_memory_equal(f.s.id.idiag_src, &a, 16);
	assert_memory_equal(f.reply_src, &b, 16);
	assert_int_equal(f.ct_state, CT_STATE_NONE);
	assert_int_equal(f.s.state, 0);
	assert_int_equal(f.zone, 0);
	assert_false(conntrack_is_nat(&f));
	assert_string_equal(forward_flow_state(&f), "unreplied");
	f.status = IPS_SEEN_REPLY;
	assert_string_equal(forward_flow_state(&f), "replied");
	f.status |= IPS_ASSURED;
	assert_string_equal(forward_flow_state(&f), "assured");
}

static void test_conntrack_flow_from_nfct_skips_others(void **state)
{
	struct nf_conntrack *ct = nfct_new();
	struct ct_flow f;

	(void)state;
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, IPPROTO_ICMP);
	assert_int_equal(conntrack_flow_from_nfct(ct, &f), -EPROTONOSUPPORT);
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_BRIDGE);
	assert_int_equal(conntrack_flow_from_nfct(ct, &f), -EAFNOSUPPORT);
	nfct_destroy(ct);
}

static enum sel_result eval(const char *src, const struct sock_rec *rec)
{
	struct sel_error err;
	struct sel_node *n = selector_parse(src, &err);
	enum sel_result r;

	if (!n)
		fail_msg("%s: %s", src, err.msg);
	r = selector_eval(n, rec, NULL);
	sel_node_free(n);
	return r;
}

static void test_conntrack_selector_on_flows(void **state)
{
	struct ct_flow f;
	struct sock_rec plain = { .family = AF_INET, .protocol = IPPROTO_TCP,
				  .state = SS_ESTABLISHED };

	(void)state;
	flow_of(IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, &f);
	assert_int_equal(eval("src 10.91.1.2 and dst 10.91.2.2 and sport 37630 and dport 8080",
			      &f.s), SEL_YES);
	assert_int_equal(eval("state established and ct-state established", &f.s), SEL_YES);
	assert_int_equal(eval("ct-state close,time-wait", &f.s), SEL_NO);
	assert_int_equal(eval("nat-src 10.91.2.1", &f.s), SEL_YES);
	assert_int_equal(eval("nat-src 10.91.1.2", &f.s), SEL_NO);
	assert_int_equal(eval("nat-dst 10.91.2.2", &f.s), SEL_YES);
	assert_int_equal(eval("nat-dst != 10.91.2.0/24", &f.s), SEL_NO);
	assert_int_equal(eval("zone 7 and mark 0x42 and proto tcp", &f.s), SEL_YES);
	assert_int_equal(eval("zone 0", &f.s), SEL_NO);
	assert_int_equal(eval("timeout > 4d", &f.s), SEL_YES);
	assert_int_equal(eval("timeout 1h", &f.s), SEL_NO);
	flow_of(IPPROTO_TCP, TCP_CONNTRACK_FIN_WAIT, &f);
	assert_int_equal(eval("state fin-wait-1 and ct-state fin-wait", &f.s), SEL_YES);
	flow_of(IPPROTO_TCP, TCP_CONNTRACK_SYN_SENT2, &f);
	assert_int_equal(eval("state all", &f.s), SEL_NO);
	assert_int_equal(eval("ct-state syn-sent2", &f.s), SEL_YES);
	/* A socket has no conntrack words: they never match one. */
	assert_int_equal(eval("ct-state established", &plain), SEL_NO);
	assert_int_equal(eval("not nat-src 10.0.0.0/8", &plain), SEL_YES);
	assert_int_equal(eval("zone 0", &plain), SEL_NO);
}

static int check(const char *src, bool conntrack, struct sel_error *err)
{
	struct sel_node *n = selector_parse(src, err);
	int ret;

	assert_non_null(n);
	ret = selector_check_source(n, conntrack, err);
	sel_node_free(n);
	return ret;
}

static void test_conntrack_check_source(void **state)
{
	struct sel_error err;
	struct sel_node *ns;

	(void)state;
	assert_int_equal(check("dport 443 and state established and mark 1", true, &err), 0);
	assert_int_equal(check("dport 443 and state established and mark 1", false, &err), 0);
	assert_int_equal(check("dport 443 or not pid 12", true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "\"pid\" does not apply to forwarded flows"));
	assert_int_equal(err.pos, 17);
	assert_int_equal(err.len, 6);
	assert_int_equal(check("idle 5m", true, &err), -EINVAL);
	assert_int_equal(check("netns a", true, &err), -EINVAL);
	assert_int_equal(check("unit ssh.service", true, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "\"unit\""));
	assert_int_equal(check("ct-state close", true, &err), 0);
	assert_int_equal(check("zone 1 and nat-dst 10.0.0.1 and timeout < 5s", true, &err), 0);
	assert_int_equal(check("sport 1 and (dport 2 or timeout < 5s)", false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "\"timeout\" selects forwarded flows: give --forwarded"));
	assert_int_equal(err.pos, 24);
	/* --netns picks where conntrack is read: the flag's atom fits. */
	ns = selector_netns_flag("router", false);
	assert_non_null(ns);
	assert_int_equal(selector_check_source(ns, true, &err), 0);
	sel_node_free(ns);
}

static void test_conntrack_flow_json(void **state)
{
	struct json_buf b = { 0 };
	struct json j;
	struct ct_flow f;

	(void)state;
	flow_of(IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, &f);
	f.s.outcome = OUT_KILLED;
	json_init_buf(&j, &b);
	forward_flow_json(&j, NULL, &f.s, true);
	assert_false(b.oom);
	assert_non_null(b.p);
	b.p[b.len] = '\0';
	assert_string_equal(b.p,
		"{\"cookie\":\"abcd1234\",\"source\":\"conntrack\",\"conntrack_id\":2882343476,"
		"\"protocol\":\"tcp\",\"family\":\"inet\",\"state\":\"established\","
		"\"ct_state\":\"established\",\"original\":{\"src\":{\"addr\":\"10.91.1.2\","
		"\"port\":37630},\"dst\":{\"addr\":\"10.91.2.2\",\"port\":8080}},\"reply\":{\"src\":"
		"{\"addr\":\"10.91.2.2\",\"port\":8080},\"dst\":{\"addr\":\"10.91.2.1\",\"port\":"
		"37630}},\"nat\":\"snat\",\"mark\":66,\"zone\":7,\"timeout_s\":431999,\"outcome\":"
		"\"killed\",\"error\":null,\"engine\":\"conntrack\"}");
	json_buf_free(&b);
}

/* text's lines: how many, and the widest. */
static size_t lines_of(const char *text, size_t *widest)
{
	size_t n = 0, w = 0;

	*widest = 0;
	for (const char *c = text; *c; c++) {
		if (*c == '\n') {
			n++;
			*widest = w > *widest ? w : *widest;
			w = 0;
		} else {
			w++;
		}
	}
	return n;
}

/* n masqueraded TCP flows in state; table on a rows x cols terminal, outcomes or not. */
static char *table_of(size_t n, uint8_t tcp_state, int rows, int cols, bool outcomes)
{
	struct ct_set set = { 0 };
	struct output_fit fit = { rows, cols };
	struct ct_flow f;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	flow_of(IPPROTO_TCP, tcp_state, &f);
	for (size_t i = 0; i < n; i++) {
		f.s.outcome = OUT_KILLED;
		assert_int_equal(ct_set_push(&set, &f), 0);
	}
	forward_table(out, &set, outcomes, &fit);
	fclose(out);
	ct_set_free(&set);
	return text;
}

/* Taller than the terminal: counts by state, the first rows, how to see the rest (#13). */
static void test_conntrack_table_big_plan_at_a_glance(void **state)
{
	size_t widest;
	char *text = table_of(300, TCP_CONNTRACK_ESTABLISHED, 24, 200, false);

	(void)state;
	assert_non_null(strstr(text, "300 flows: established 300\n"));
	assert_non_null(strstr(text, "PROTO STATE"));
	assert_non_null(strstr(text, "more; --dry-run -j or a pipe shows all\n"));
	assert_true(lines_of(text, &widest) <= 24 - 3);
	free(text);
	/* After the kill: by outcome. */
	text = table_of(300, TCP_CONNTRACK_ESTABLISHED, 24, 200, true);
	assert_non_null(strstr(text, "300 flows: killed 300\n"));
	assert_true(lines_of(text, &widest) <= 24 - 3);
	free(text);
	/* A pipe (0 rows: no terminal) gets every row. */
	text = table_of(300, TCP_CONNTRACK_ESTABLISHED, 0, 0, false);
	assert_int_equal(lines_of(text, &widest), 301);
	assert_null(strstr(text, "more;"));
	free(text);
}

/* Narrower than the table: MARK, ZONE, TIMEOUT go, then NAT; the addresses stay whole. */
static void test_conntrack_table_fits_the_width(void **state)
{
	size_t widest;
	char *text = table_of(3, TCP_CONNTRACK_ESTABLISHED, 24, 100, true);

	(void)state;
	assert_int_equal(lines_of(text, &widest), 4);
	assert_true(widest <= 100);
	assert_non_null(strstr(text, "10.91.1.2:37630 -> 10.91.2.2:8080  "
				     "10.91.2.2:8080 -> 10.91.2.1:37630 killed\n"));
	assert_null(strstr(text, "MARK"));
	free(text);
	/* The preview keeps NAT where it fits without MARK, ZONE and TIMEOUT. */
	text = table_of(3, TCP_CONNTRACK_ESTABLISHED, 24, 100, false);
	assert_true(lines_of(text, &widest) == 4 && widest <= 100);
	assert_non_null(strstr(text, "10.91.2.1:37630  snat\n"));
	assert_null(strstr(text, "MARK"));
	free(text);
	/* Narrower still: cut at the edge, ">" says so. */
	text = table_of(3, TCP_CONNTRACK_ESTABLISHED, 24, 60, false);
	assert_true(lines_of(text, &widest) == 4 && widest <= 60);
	assert_non_null(strstr(text, ">\n"));
	free(text);
}

/* The outcome with its detail as the socket table and sockreap(8) write it: failed(no-reply). */
static void test_conntrack_table_outcome_label(void **state)
{
	struct ct_set set = { 0 };
	struct ct_flow f;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	flow_of(IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, &f);
	f.s.outcome = OUT_FAILED;
	f.s.err = SOCK_ERR_NO_REPLY;
	assert_int_equal(ct_set_push(&set, &f), 0);
	forward_table(out, &set, true, NULL);
	fclose(out);
	assert_non_null(strstr(text, " failed(no-reply)\n"));
	free(text);
	ct_set_free(&set);
}

static void test_conntrack_table(void **state)
{
	struct ct_set set = { 0 };
	struct ct_flow f;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	flow_of(IPPROTO_TCP, TCP_CONNTRACK_ESTABLISHED, &f);
	assert_int_equal(ct_set_push(&set, &f), 0);
	forward_table(out, &set, false, NULL);
	fclose(out);
	assert_non_null(strstr(text, "PROTO STATE"));
	assert_non_null(strstr(text, "tcp   established 10.91.1.2:37630 -> 10.91.2.2:8080  "
				     "10.91.2.2:8080 -> 10.91.2.1:37630  snat      0x42"));
	assert_null(strstr(text, "OUTCOME"));
	free(text);
	ct_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conntrack_tcp_state_map),
		cmocka_unit_test(test_conntrack_state_names),
		cmocka_unit_test(test_conntrack_flow_from_nfct_ipv4),
		cmocka_unit_test(test_conntrack_flow_from_nfct_ipv6_udp),
		cmocka_unit_test(test_conntrack_flow_from_nfct_skips_others),
		cmocka_unit_test(test_conntrack_selector_on_flows),
		cmocka_unit_test(test_conntrack_check_source),
		cmocka_unit_test(test_conntrack_flow_json),
		cmocka_unit_test(test_conntrack_table),
		cmocka_unit_test(test_conntrack_table_outcome_label),
		cmocka_unit_test(test_conntrack_table_big_plan_at_a_glance),
		cmocka_unit_test(test_conntrack_table_fits_the_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
