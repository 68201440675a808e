// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The table's bytes, pinned: every kind of address, owner, process name and outcome, whole
 * and narrowed, and a long table (the threaded path) by its digest. The expected text was
 * taken from the table code before it was made faster; a change here is a change users see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "output.h"
#include "sha256.h"

/* The owners of each socket, by inode: lowest pid first, as procmap gives them. */
static const struct {
	uint32_t inode;
	struct sel_owner_info o;
} held[] = {
	{ 10, { 1234, 7, "java", NULL, 1 } },
	{ 10, { 1300, 3, "worker", NULL, 1234 } },
	{ 11, { 42, 3, "nginx", NULL, 1 } },
	{ 12, { 7, 4, "\033[2Jevil", NULL, 1 } },
	{ 13, { 8, 5, "caf\xc3\xa9", NULL, 1 } },
	{ 14, { 9, 6, "bad\xff\xfe", NULL, 1 } },
	{ 15, { 10, 3, "a b", NULL, 1 } },
	{ 16, { 11, 3, "c++", NULL, 1 } },
	{ 16, { 12, 9, "c++", NULL, 11 } },
	{ 16, { 13, 9, "sh", NULL, 11 } },
	{ 16, { 14, 9, "sh", NULL, 11 } },
	{ 17, { 15, 3, NULL, NULL, -1 } },	/* comm unreadable */
	{ 18, { 99999999, 3, "back\\slash", NULL, 1 } },
	{ 19, { 2147483647, 3, "0123456789abcde", NULL, 1 } },
	/* Longer than a comm can be, every byte escaped: cut at the name's 63 bytes. */
	{ 20, { 16, 3, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11",
		NULL, 1 } },
	{ 21, { 17, 3, "+++++++++++++++", NULL, 1 } },
	{ 22, { 18, 3, "\xe2\x80\xae" "rtl", NULL, 1 } },
	{ 23, { 19, 3, "\xc2\x9b" "1A", NULL, 1 } },
	{ 24, { 20, 3, "\xe6\x97\xa5\xe6\x9c\xac", NULL, 1 } },
	/* One process seen under two names (it renamed itself), and a name two processes share. */
	{ 40, { 500, 3, "a", NULL, 1 } },
	{ 41, { 500, 4, "b+", NULL, 1 } },
	{ 42, { 501, 3, "a", NULL, 1 } },
};

static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	(void)arg;
	if (rec->pid <= 0)
		return false;
	for (size_t k = 0; k < sizeof(held) / sizeof(held[0]); k++) {
		if (held[k].inode != rec->inode)
			continue;
		if (k + i < sizeof(held) / sizeof(held[0]) && held[k + i].inode == rec->inode) {
			*out = held[k + i].o;
			return true;
		}
		return false;
	}
	return false;
}

/* uid 666's sockets may have owners we could not read. */
static const char *incomplete_of(void *arg, const struct sock_rec *rec)
{
	(void)arg;
	return rec->uid == 666 ? "unreadable" : NULL;
}

/* --close-fd: fd 7 and fd 3 of pid 1234 or below 20 were closed, the others kept. */
static const char *fd_result_of(void *arg, const struct sock_rec *rec, int32_t pid, int32_t fd,
				const char **why)
{
	(void)arg;
	(void)rec;
	*why = NULL;
	if (fd == 7 || (fd == 3 && pid < 20))
		return "closed";
	*why = "EPERM";
	return "denied";
}

static const struct sel_owner_ctx owners = { owner_of, NULL, incomplete_of, NULL, NULL, NULL };
static const struct sel_owner_ctx owners_fd = { owner_of, NULL, incomplete_of, NULL,
						fd_result_of, NULL };

struct spec {
	int family;
	const char *src;
	uint16_t sport;
	const char *dst;
	uint16_t dport;
	unsigned state;
	int32_t pid;		/* -1: not looked up */
	uint32_t inode;
	uint16_t nowners;
	uint32_t uid;
	unsigned outcome;
	int32_t err;
	uint8_t engine, flags;
	uint32_t idle_ms, rq, wq;
};

#define D SOCK_ENGINE_DESTROY
#define R SOCK_ENGINE_RST
#define S SOCK_ENGINE_SHUTDOWN
#define UNK SOCK_IDLE_UNKNOWN

/* The TCP rows first: the first NTCP make a table without the PROTO column. */
static const struct spec rows[] = {
	{ AF_INET, "10.0.0.5", 5432, "10.0.0.9", 41234, SS_CLOSE_WAIT, 1234, 10, 2, 0,
	  OUT_KILLED, 0, D, 0, 312000, 1, 0 },
	{ AF_INET, "1.2.3.4", 1, "255.255.255.255", 65535, SS_ESTABLISHED, 42, 11, 1, 0,
	  OUT_GONE, 0, D, 0, 0, 4294967295U, 12 },
	{ AF_INET, "0.0.0.0", 80, "0.0.0.0", 0, SS_LISTEN, 0, 0, 0, 0, OUT_CHANGED, 0, D, 0,
	  999, 0, 0 },
	{ AF_INET6, "::1", 443, "2001:db8::7", 50000, SS_TIME_WAIT, 0, 0, 0, 0, OUT_FAILED,
	  -EBUSY, D, 0, UNK, 0, 0 },
	{ AF_INET6, "::ffff:10.1.2.3", 8080, "::ffff:192.168.0.1", 9, SS_FIN_WAIT1, 7, 12, 1, 0,
	  OUT_UNSUPPORTED, -EOPNOTSUPP, D, 0, 1000, 0, 0 },
	{ AF_INET6, "fe80::1", 22, "fe80::abcd:ef01:2345:6789", 61000, SS_FIN_WAIT2, 8, 13, 1,
	  0, OUT_DENIED, -EPERM, D, 0, 119999, 0, 0 },
	{ AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678", 65535, "::", 0, SS_CLOSE_WAIT, 9,
	  14, 1, 0, OUT_FAILED, SOCK_ERR_SURVIVED, D, 0, 120000, 0, 0 },
	{ AF_INET6, "::", 0, "::", 0, SS_CLOSE, -1, 30, 0, 0, OUT_KILLED, 0, D, 0, 7199999, 0,
	  0 },
	{ AF_INET, "127.0.0.1", 10, "127.0.0.1", 100, SS_CLOSE_WAIT, 10, 15, 1, 666,
	  OUT_KILLED, 0, R, SOCK_F_PEER_RESET, 7200000, 0, 0 },
	{ AF_INET, "127.0.0.1", 1000, "127.0.0.1", 10000, SS_LAST_ACK, 11, 16, 4, 0, OUT_KILLED,
	  0, R, SOCK_F_PEER_LEFT, 172799999, 0, 0 },
	{ AF_INET, "127.0.0.2", 2, "127.0.0.3", 3, SS_CLOSING, 15, 17, 1, 0, OUT_FAILED,
	  SOCK_ERR_NO_REPLY, R, 0, 172800000, 0, 0 },
	{ AF_INET, "192.168.100.200", 33333, "10.20.30.40", 44444, SS_TIME_WAIT, 0, 0, 0, 0,
	  OUT_FAILED, SOCK_ERR_RFC1337, R, 0, 4294967294U, 0, 0 },
	{ AF_INET, "10.0.0.1", 5, "10.0.0.2", 6, SS_SYN_SENT, 99999999, 18, 1, 0,
	  OUT_UNSUPPORTED, SOCK_ERR_RST_STATE, R, 0, 5, 0, 0 },
	{ AF_INET, "10.0.0.1", 7, "10.0.0.2", 8, SS_SYN_RECV, 0, 0, 0, 666, OUT_DENIED,
	  SOCK_ERR_FIREWALL, R, 0, UNK, 0, 0 },
	{ AF_INET, "10.0.0.1", 9, "10.0.0.2", 10, SS_ESTABLISHED, 2147483647, 19, 1, 0,
	  OUT_FAILED, SOCK_ERR_UNVERIFIED, D, 0, 50, 0, 0 },
	{ AF_INET, "10.0.0.1", 11, "10.0.0.2", 12, SS_ESTABLISHED, 16, 20, 1, 0, OUT_FAILED,
	  SOCK_ERR_SIBLING, D, 0, 60, 0, 0 },
	{ AF_INET, "10.0.0.1", 13, "10.0.0.2", 14, SS_ESTABLISHED, 17, 21, 3, 666,
	  OUT_SKIPPED, SOCK_ERR_OWNER_UNKNOWN, 0, 0, 70, 0, 0 },
	{ AF_INET, "10.0.0.1", 15, "10.0.0.2", 16, SS_ESTABLISHED, 18, 22, 1, 0, OUT_FAILED,
	  SOCK_ERR_FD_CHANGED, S, 0, 80, 0, 0 },
	{ AF_INET, "10.0.0.1", 17, "10.0.0.2", 18, SS_ESTABLISHED, 19, 23, 1, 0, OUT_SKIPPED,
	  SOCK_ERR_NO_INTENT, 0, 0, 90, 0, 0 },
	{ AF_INET, "10.0.0.1", 19, "10.0.0.2", 20, SS_ESTABLISHED, 20, 24, 1, 0, OUT_KILLED, 0,
	  S, SOCK_F_CLOSING, 100, 0, 0 },
	{ AF_INET, "10.0.0.1", 21, "10.0.0.2", 22, SS_ESTABLISHED, 0, 25, 0, 0, OUT_KILLED, 0,
	  D, SOCK_F_FALLBACK, 110, 0, 0 },
	{ AF_INET, "10.0.0.1", 23, "10.0.0.2", 24, SS_ESTABLISHED, 0, 26, 0, 666, OUT_FAILED,
	  -ENOMEM, S, 0, 120, 0, 0 },
	{ AF_INET, "10.0.0.1", 25, "10.0.0.2", 26, SS_ESTABLISHED, 0, 26, 0, 0, OUT_NONE, 0, 0,
	  0, 130, 0, 0 },
	/* UDP */
	{ AF_INET, "10.9.8.7", 53, "10.9.8.6", 5353, SS_ESTABLISHED, 42, 11, 1, 0, OUT_KILLED,
	  0, D, SOCK_F_STAYS_BOUND, UNK, 0, 0 },
	{ AF_INET6, "fe80::2", 546, "ff02::1:2", 547, SS_CLOSE, 1234, 10, 2, 0, OUT_FAILED,
	  -EINVAL, D, 0, UNK, 0, 0 },
};

#define NTCP 23

static struct sock_rec rec_of(const struct spec *s, size_t i)
{
	struct sock_rec r = fx_rec(s->family, s->src, s->sport, s->dst, s->dport, s->state, i + 1);

	r.protocol = i >= NTCP ? IPPROTO_UDP : IPPROTO_TCP;
	r.pid = s->pid;
	r.inode = s->inode;
	r.nowners = s->nowners;
	r.uid = s->uid;
	r.outcome = (uint8_t)s->outcome;
	r.err = s->err;
	r.engine = s->engine;
	r.flags = s->flags;
	r.idle_ms = s->idle_ms;
	r.rqueue = s->rq;
	r.wqueue = s->wq;
	/* A link-local address's interface is not shown (the table has no %dev). */
	if (s->family == AF_INET6 && !strncmp(s->src, "fe80", 4))
		r.id.idiag_if = 2;
	return r;
}

static struct sock_set make_set(size_t n)
{
	struct sock_set set = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct sock_rec r = rec_of(&rows[i], i);

		assert_int_equal(sock_set_push(&set, &r), 0);
	}
	return set;
}

/* The table as output_table_fit writes it, in a buffer the caller frees. */
static char *table(const struct sock_set *set, const struct sel_owner_ctx *o, bool with_outcome,
		   const struct netns_list *visited, int rows_, int cols)
{
	struct output_fit fit = { rows_, cols };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	output_table_fit(f, set, o, with_outcome, visited, rows_ || cols ? &fit : NULL);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}


#define GOLDEN "tests/unit/data/output_table.golden"

/*
 * Section name of GOLDEN ("@@NAME" up to "@@end") equals got; if not, got goes to
 * build/tests/output_table.NAME for a diff. Frees got.
 */
static void expect_text(const char *name, char *got)
{
	static char golden[65536];
	static size_t len;
	char head[64], path[128];
	const char *from, *to;

	if (!len) {
		FILE *f = fopen(GOLDEN, "r");

		assert_non_null(f);
		len = fread(golden, 1, sizeof(golden) - 1, f);
		assert_true(len > 0 && len < sizeof(golden) - 1);
		fclose(f);
	}
	snprintf(head, sizeof(head), "\n@@%s\n", name);
	from = strstr(golden, head);
	if (!from)
		fail_msg("%s has no section %s", GOLDEN, name);
	from += strlen(head);
	to = strstr(from, "\n@@end\n");
	assert_non_null(to);
	to++;
	if (strlen(got) != (size_t)(to - from) || memcmp(got, from, strlen(got))) {
		FILE *f;

		snprintf(path, sizeof(path), "build/tests/output_table.%s", name);
		f = fopen(path, "w");
		if (f) {
			fputs(got, f);
			fclose(f);
		}
		fail_msg("table %s differs from %s: see %s", name, GOLDEN, path);
	}
	free(got);
}

#define EXPECT(name, got) expect_text(#name, got)

/* Whole tables: the preview (with the skipped column) and the outcome. */
static void test_output_table_pinned_whole(void **state)
{
	struct sock_set set = make_set(sizeof(rows) / sizeof(rows[0]));

	(void)state;
	EXPECT(PREVIEW, table(&set, &owners, false, NULL, 0, 0));
	EXPECT(OUTCOME, table(&set, &owners, true, NULL, 0, 0));
	EXPECT(OUTCOME_FD, table(&set, &owners_fd, true, NULL, 0, 0));
	set.n = NTCP;
	EXPECT(OUTCOME_TCP, table(&set, &owners, true, NULL, 0, 0));
	set.n = 3;
	EXPECT(PREVIEW_3, table(&set, &owners, false, NULL, 0, 0));
	EXPECT(OUTCOME_NO_OWNERS, table(&set, NULL, true, NULL, 0, 0));
	sock_set_free(&set);
}

/* Narrowed to a terminal: columns dropped, lines cut with ">", the summary when too tall. */
static void test_output_table_pinned_narrowed(void **state)
{
	struct sock_set set = make_set(sizeof(rows) / sizeof(rows[0]));

	(void)state;
	EXPECT(PREVIEW_120, table(&set, &owners, false, NULL, 0, 120));
	EXPECT(PREVIEW_70, table(&set, &owners, false, NULL, 0, 70));
	EXPECT(OUTCOME_100, table(&set, &owners, true, NULL, 0, 100));
	EXPECT(OUTCOME_60, table(&set, &owners_fd, true, NULL, 0, 60));
	EXPECT(OUTCOME_SUMMARY, table(&set, &owners, true, NULL, 14, 0));
	EXPECT(PREVIEW_SUMMARY, table(&set, &owners, false, NULL, 20, 80));
	sock_set_free(&set);
}

/* A NETNS column: ino:N for a namespace without a name, a hostile name escaped and cut. */
static void test_output_table_pinned_netns(void **state)
{
	struct sock_set set = make_set(sizeof(rows) / sizeof(rows[0]));
	struct netns_info v[3] = { { .inode = 4026531840ULL, .name = "", .pid = 1 },
				   { .inode = 4026532174ULL, .name = "blue", .pid = 321 },
				   { .inode = 4026532999ULL,
				     .name = "r\033[31m\xc3\xa9" "d-namespace-with-a-long-name",
				     .pid = -1 } };
	struct netns_list visited = { v, 3, 3 };

	(void)state;
	for (size_t i = 0; i < set.n; i++)
		set.v[i].netns = (uint16_t)(i % 3);
	EXPECT(NETNS, table(&set, &owners, true, &visited, 0, 0));
	EXPECT(NETNS_90, table(&set, &owners, false, &visited, 0, 90));
	sock_set_free(&set);
}

/* Each row names its own owner, whatever the row before it showed. */
static void test_output_table_owner_names_row_by_row(void **state)
{
	static const uint32_t inodes[] = { 40, 41, 40, 42, 42, 41 };
	static const char *const want[] = { " 500/a\n", " 500/b\\x2b\n", " 500/a\n", " 501/a\n",
					    " 501/a\n", " 500/b\\x2b\n" };
	struct sock_set set = { 0 };
	char *got, *line;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 80, "10.0.0.2", (uint16_t)(1000 + i),
					   SS_CLOSE_WAIT, i + 1);

		r.inode = inodes[i];
		r.pid = inodes[i] == 42 ? 501 : 500;
		r.nowners = 1;
		assert_int_equal(sock_set_push(&set, &r), 0);
	}
	got = table(&set, &owners, true, NULL, 0, 0);
	line = strchr(got, '\n');
	for (size_t i = 0; i < 6; i++) {
		char *end = strchr(line + 1, '\n');

		assert_non_null(end);
		assert_true((size_t)(end + 1 - line) > strlen(want[i]));
		assert_memory_equal(end + 1 - strlen(want[i]), want[i], strlen(want[i]));
		line = end;
	}
	free(got);
	sock_set_free(&set);
}

/*
 * A table long enough for the threaded path, every kind of row many times over, by its
 * digest: the same bytes on one CPU and on all of them.
 */
static struct sock_set long_set(size_t n)
{
	struct sock_set set = { 0 };
	size_t nrows = sizeof(rows) / sizeof(rows[0]);

	for (size_t i = 0; i < n; i++) {
		struct sock_rec r = rec_of(&rows[i % nrows], i % nrows);

		/* Vary the addresses and ports, so that widths grow late in the table. */
		if (r.family == AF_INET) {
			uint8_t *b = (uint8_t *)r.id.idiag_dst;

			b[2] = (uint8_t)(i >> 8);
			b[3] = (uint8_t)i;
		} else {
			r.id.idiag_dst[3] ^= htonl((uint32_t)i * 2654435761U);
		}
		r.id.idiag_sport = htons((uint16_t)(i * 7));
		r.idle_ms = (uint32_t)(i * 977);
		r.rqueue = (uint32_t)i;
		r.id.idiag_cookie[0] = (uint32_t)i + 1;
		assert_int_equal(sock_set_push(&set, &r), 0);
	}
	return set;
}

static void digest(char *got, char hex[SHA256_HEX_LEN])
{
	sha256_hex(got, strlen(got), hex);
	free(got);
}

/* The SHA-256 of each long table (output_table.golden shows what the rows look like). */
static const char *const long_digest[] = {
	"12fd322f8d3efef3696313fe6207cac3ca24cf0bb5d491dbd706848d439f6d15",	/* outcome */
	"3472ffa8a9cb262ae9048ca0ac03e5d3c36a90016e3360ed049b9d7e913bfeeb",	/* preview, fds */
	"7e74486df4ff41a12eeb213ea8b848790af871f929acecd1ee078be56a2ce046",	/* outcome, 100 */
};

static void test_output_table_pinned_long(void **state)
{
	struct sock_set set = long_set(30011);
	char hex[SHA256_HEX_LEN];
	cpu_set_t all;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	/* On every CPU we may use, then on one. */
	for (int pass = 0; pass < 2; pass++) {
		digest(table(&set, &owners, true, NULL, 0, 0), hex);
		assert_string_equal(hex, long_digest[0]);
		digest(table(&set, &owners_fd, false, NULL, 0, 0), hex);
		assert_string_equal(hex, long_digest[1]);
		digest(table(&set, &owners, true, NULL, 0, 100), hex);
		assert_string_equal(hex, long_digest[2]);
		assert_int_equal(fx_pin_first_cpu(&all), 0);
	}
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	sock_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_table_pinned_whole),
		cmocka_unit_test(test_output_table_pinned_narrowed),
		cmocka_unit_test(test_output_table_pinned_netns),
		cmocka_unit_test(test_output_table_pinned_long),
		cmocka_unit_test(test_output_table_owner_names_row_by_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
