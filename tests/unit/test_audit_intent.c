// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exact bytes of a socket's JSON (output_sock_json_ns): what an audit intent carries and
 * what --json prints. Written before the intent formatting was made fast, passing on the slow
 * code: the fast one must say the same, byte for byte, into a buffer grown at any point of a
 * record (the audit's way) and into a stream (--json's), and in a whole intent record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fixtures.h"
#include "json.h"
#include "netns.h"
#include "output.h"

/* Owners by pid: rec->pid is the first; the others follow in the table (pid 0 ends a list). */
struct owner_row {
	int32_t first;	/* the rec->pid this row belongs to */
	struct sel_owner_info o;
};

static const struct owner_row owner_rows[] = {
	{ 42, { 42, 9, "leaky", NULL, 1 } },
	/* Three owners; names a process chose: escapes, UTF-8, invalid bytes, C1, none. */
	{ 7, { 7, 3, "a\"b\\c\n\t\r\x01\x7f/", NULL, 1 } },
	{ 7, { 8, 0, "\xc3\xa9\xe6\x97\xa5 ok", NULL, 1 } },
	{ 7, { 2147483647, -1, "\xff\xc3(\xc2\x85\xed\xa0\x80z", NULL, 1 } },
	{ 7, { 9, 4, NULL, NULL, 1 } },
	/* pid 100's list may be incomplete (incomplete() says "unreadable"). */
	{ 100, { 100, 5, "java", NULL, 1 } },
};

static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	size_t k = 0;

	(void)arg;
	for (size_t r = 0; r < sizeof(owner_rows) / sizeof(owner_rows[0]); r++) {
		if (owner_rows[r].first != rec->pid)
			continue;
		if (k++ == i) {
			*out = owner_rows[r].o;
			return true;
		}
	}
	return false;
}

static const char *incomplete_of(void *arg, const struct sock_rec *rec)
{
	(void)arg;
	if (rec->pid == 100)
		return "unreadable";
	if (rec->pid == 0 && rec->inode == 31337)
		return "hidepid";
	return NULL;
}

static const struct sel_owner_ctx owners = { owner_of, NULL, incomplete_of, NULL, NULL, NULL };

/* --close-fd ran: pid 42's descriptor closed, pid 100's denied and why. */
static const char *fd_result_of(void *arg, const struct sock_rec *rec, int32_t pid, int32_t fd,
				const char **why)
{
	(void)arg;
	(void)rec;
	(void)fd;
	*why = pid == 100 ? "EPERM" : NULL;
	return pid == 42 ? "closed" : pid == 100 ? "denied" : NULL;
}

static const struct sel_owner_ctx owners_fds = { owner_of, NULL, incomplete_of, NULL,
						 fd_result_of, NULL };

struct intent_case {
	const char *what;
	struct sock_rec rec;
	const struct sel_owner_ctx *owners;
	bool with_outcome;
	const struct netns_info *ns;
	const char *want;
};

static const struct netns_info ns_blue = { .inode = 4026532000ULL, .name = "blue", .pid = 77 };
static const struct netns_info ns_anon = { .inode = 4026531840ULL, .name = "", .pid = -1 };

/* The records of the cases: each starts from fx_rec and is changed by set_case. */
static struct sock_rec case_rec(int k)
{
	struct sock_rec r;

	switch (k) {
	case 0:	/* IPv4, every number at its widest, one owner, idle known */
		r = fx_rec(AF_INET, "10.0.0.1", 80, "192.168.200.255", 65535, SS_CLOSE_WAIT,
			   0xdeadbeefcafe1234ULL);
		r.inode = UINT32_MAX;
		r.uid = 1000;
		r.cgroup_id = UINT64_MAX;
		r.flags = SOCK_F_MARK_KNOWN;
		r.mark = 0;
		r.rqueue = 1;
		r.wqueue = UINT32_MAX;
		r.idle_ms = 0;
		r.pid = 42;
		r.fd = 9;
		r.nowners = 1;
		return r;
	case 1:	/* IPv6 UDP, several owners with hostile names, mark and idle known */
		r = fx_rec(AF_INET6, "2001:db8::1", 0, "::1", 1, SS_CLOSE, 0);
		r.protocol = 17;
		r.inode = 12345;
		r.uid = 4294967294U;
		r.cgroup_id = 9;
		r.flags = SOCK_F_MARK_KNOWN;
		r.mark = 0xffffffffU;
		r.rqueue = 10;
		r.wqueue = 100;
		r.idle_ms = 123456;
		r.pid = 7;
		r.fd = 3;
		r.nowners = 4;
		return r;
	case 2:	/* v4-mapped and link-local, nobody owns it and that is known */
		r = fx_rec(AF_INET6, "::ffff:10.1.2.3", 1024, "fe80::1:2ff:fe03:405", 22,
			   SS_ESTABLISHED, 1);
		r.pid = 0;
		r.idle_ms = 4294967294U;
		return r;
	case 3:	/* owners hidden (hidepid): none known, some may exist */
		r = fx_rec(AF_INET, "0.0.0.0", 1, "255.255.255.255", 2, SS_LAST_ACK, 0x10);
		r.pid = 0;
		r.inode = 31337;
		return r;
	case 4:	/* one known owner of maybe more */
		r = fx_rec(AF_INET, "1.22.103.0", 8080, "100.9.10.99", 443, SS_FIN_WAIT1, 0xf);
		r.pid = 100;
		r.fd = 5;
		r.nowners = 2;
		return r;
	case 5:	/* TIME_WAIT: no owner, no uid */
		r = fx_rec(AF_INET6, "::", 443, "2001:db8:0:0:1::1", 5, SS_TIME_WAIT, 0xabc);
		r.uid = 0;
		r.pid = 0;
		return r;
	case 6:	/* not looked up; skipped, so it says its outcome in an intent too */
		r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1", 40000, SS_CLOSE_WAIT, 0xab);
		r.outcome = OUT_SKIPPED;
		r.err = SOCK_ERR_OWNER_UNKNOWN;
		return r;
	default:	/* after the kill (--json): the outcome, --close-fd results, a netns */
		r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.2", 40000, SS_CLOSE_WAIT, 0xac);
		r.pid = 42;
		r.fd = 9;
		r.nowners = 1;
		r.outcome = OUT_FAILED;
		r.err = EPERM;
		r.engine = SOCK_ENGINE_RST;
		r.flags = SOCK_F_PEER_RESET;
		return r;
	}
}

static const char *const want_of[] = {
	"{\"cookie\":\"deadbeefcafe1234\",\"protocol\":\"tcp\",\"family\":\"inet\","
	"\"state\":\"close-wait\",\"local\":{\"addr\":\"10.0.0.1\",\"port\":80},"
	"\"peer\":{\"addr\":\"192.168.200.255\",\"port\":65535},\"inode\":4294967295,"
	"\"uid\":1000,\"cgroup_id\":18446744073709551615,\"mark\":0,\"recv_q\":1,"
	"\"send_q\":4294967295,\"idle_ms\":0,"
	"\"owners\":[{\"pid\":42,\"comm\":\"leaky\",\"fd\":9}],\"owner_count\":1,"
	"\"owners_unknown\":null}",

	"{\"cookie\":\"0\",\"protocol\":\"udp\",\"family\":\"inet6\","
	"\"state\":\"close\",\"local\":{\"addr\":\"2001:db8::1\",\"port\":0},"
	"\"peer\":{\"addr\":\"::1\",\"port\":1},\"inode\":12345,"
	"\"uid\":4294967294,\"cgroup_id\":9,\"mark\":4294967295,\"recv_q\":10,"
	"\"send_q\":100,\"idle_ms\":123456,"
	"\"owners\":[{\"pid\":7,\"comm\":\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u007f/\",\"fd\":3},"
	"{\"pid\":8,\"comm\":\"\xc3\xa9\xe6\x97\xa5 ok\",\"fd\":0},"
	"{\"pid\":2147483647,\"comm\":\"\xef\xbf\xbd\xef\xbf\xbd(\\u0085"
	"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\",\"fd\":-1},"
	"{\"pid\":9,\"comm\":null,\"fd\":4}],\"owner_count\":4,"
	"\"owners_unknown\":null}",

	"{\"cookie\":\"1\",\"protocol\":\"tcp\",\"family\":\"inet6\","
	"\"state\":\"established\",\"local\":{\"addr\":\"::ffff:10.1.2.3\",\"port\":1024},"
	"\"peer\":{\"addr\":\"fe80::1:2ff:fe03:405\",\"port\":22},\"inode\":0,"
	"\"uid\":0,\"cgroup_id\":0,\"mark\":null,\"recv_q\":0,"
	"\"send_q\":0,\"idle_ms\":4294967294,"
	"\"owners\":[],\"owner_count\":0,\"owners_unknown\":null}",

	"{\"cookie\":\"10\",\"protocol\":\"tcp\",\"family\":\"inet\","
	"\"state\":\"last-ack\",\"local\":{\"addr\":\"0.0.0.0\",\"port\":1},"
	"\"peer\":{\"addr\":\"255.255.255.255\",\"port\":2},\"inode\":31337,"
	"\"uid\":0,\"cgroup_id\":0,\"mark\":null,\"recv_q\":0,"
	"\"send_q\":0,\"idle_ms\":null,"
	"\"owners\":null,\"owner_count\":null,\"owners_unknown\":\"hidepid\"}",

	"{\"cookie\":\"f\",\"protocol\":\"tcp\",\"family\":\"inet\","
	"\"state\":\"fin-wait-1\",\"local\":{\"addr\":\"1.22.103.0\",\"port\":8080},"
	"\"peer\":{\"addr\":\"100.9.10.99\",\"port\":443},\"inode\":0,"
	"\"uid\":0,\"cgroup_id\":0,\"mark\":null,\"recv_q\":0,"
	"\"send_q\":0,\"idle_ms\":null,"
	"\"owners\":[{\"pid\":100,\"comm\":\"java\",\"fd\":5}],\"owner_count\":2,"
	"\"owners_unknown\":\"unreadable\"}",

	"{\"cookie\":\"abc\",\"protocol\":\"tcp\",\"family\":\"inet6\","
	"\"state\":\"time-wait\",\"local\":{\"addr\":\"::\",\"port\":443},"
	"\"peer\":{\"addr\":\"2001:db8::1:0:0:1\",\"port\":5},\"inode\":0,"
	"\"uid\":null,\"cgroup_id\":0,\"mark\":null,\"recv_q\":0,"
	"\"send_q\":0,\"idle_ms\":null,"
	"\"owners\":[],\"owner_count\":0,\"owners_unknown\":null}",

	"{\"cookie\":\"ab\",\"protocol\":\"tcp\",\"family\":\"inet\","
	"\"state\":\"close-wait\",\"local\":{\"addr\":\"127.0.0.1\",\"port\":7000},"
	"\"peer\":{\"addr\":\"127.0.0.1\",\"port\":40000},\"inode\":0,"
	"\"uid\":0,\"cgroup_id\":0,\"mark\":null,\"recv_q\":0,"
	"\"send_q\":0,\"idle_ms\":null,"
	"\"owners\":null,\"owner_count\":null,\"owners_unknown\":\"not-looked-up\","
	"\"outcome\":\"skipped\",\"error\":\"owner-unknown\",\"engine\":null,"
	"\"peer_reset\":false,\"peer_end\":null}",

	"{\"cookie\":\"ac\",\"protocol\":\"tcp\",\"family\":\"inet\","
	"\"state\":\"close-wait\",\"local\":{\"addr\":\"127.0.0.1\",\"port\":7000},"
	"\"peer\":{\"addr\":\"127.0.0.2\",\"port\":40000},\"inode\":0,"
	"\"uid\":0,\"cgroup_id\":0,\"mark\":null,\"recv_q\":0,"
	"\"send_q\":0,\"idle_ms\":null,"
	"\"owners\":[{\"pid\":42,\"comm\":\"leaky\",\"fd\":9,\"fd_closed\":true,"
	"\"fd_result\":\"closed\"}],\"owner_count\":1,\"owners_unknown\":null,"
	"\"outcome\":\"failed\",\"error\":\"EPERM\",\"engine\":\"rst\","
	"\"peer_reset\":true,\"peer_end\":\"reset-sent\","
	"\"netns\":{\"inode\":4026532000,\"name\":\"blue\",\"pid\":77}}",
};

#define NCASES ((int)(sizeof(want_of) / sizeof(want_of[0])))

static const struct sel_owner_ctx *case_owners(int k)
{
	return k == 7 ? &owners_fds : k == 6 ? NULL : &owners;
}

static const struct netns_info *case_ns(int k)
{
	return k == 7 ? &ns_blue : NULL;
}

/* The socket as --json prints it: through a stream. */
static char *format_stream(const struct sock_rec *rec, const struct sel_owner_ctx *o,
			   bool with_outcome, const struct netns_info *ns)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);
	struct json j;

	assert_non_null(f);
	json_init(&j, f);
	output_sock_json_ns(&j, NULL, rec, o, with_outcome, ns);
	assert_int_equal(fclose(f), 0);
	return p;
}

/*
 * The socket as an intent carries it: into a buffer that already holds pre bytes, with cap
 * room in all (0: none yet), so that its growth falls anywhere in the record.
 */
static void check_buffer(const struct sock_rec *rec, const struct sel_owner_ctx *o,
			 bool with_outcome, const struct netns_info *ns, const char *want,
			 size_t pre, size_t cap)
{
	struct json_buf b = { 0 };
	struct json j;

	if (cap) {
		b.p = malloc(cap);
		assert_non_null(b.p);
		b.cap = cap;
		memset(b.p, 'x', pre);
		b.len = pre;
	}
	json_init_buf(&j, &b);
	/* As in an intent record's "sockets" array, the socket is not the first value. */
	output_sock_json_ns(&j, NULL, rec, o, with_outcome, ns);
	assert_false(b.oom);
	assert_int_equal(b.len - pre, strlen(want));
	assert_memory_equal(b.p + pre, want, strlen(want));
	json_buf_free(&b);
}

static void test_intent_bytes(void **state)
{
	(void)state;
	for (int k = 0; k < NCASES; k++) {
		struct sock_rec r = case_rec(k);
		bool with_outcome = k == 7;
		const char *want = want_of[k];
		size_t len = strlen(want);
		char *got = format_stream(&r, case_owners(k), with_outcome, case_ns(k));

		print_message("case %d\n", k);
		assert_string_equal(got, want);
		free(got);
		check_buffer(&r, case_owners(k), with_outcome, case_ns(k), want, 0, 0);
		/* The buffer full at every byte of the record, and one past it. */
		for (size_t at = 0; at <= len + 1; at++)
			check_buffer(&r, case_owners(k), with_outcome, case_ns(k), want,
				     4096 - at, 4096);
	}
}

/* A netns without a name or a process: nulls. */
static void test_intent_netns_nulls(void **state)
{
	struct sock_rec r = case_rec(2);
	char *got;

	(void)state;
	got = format_stream(&r, &owners, false, &ns_anon);
	assert_non_null(strstr(got, ",\"netns\":{\"inode\":4026531840,\"name\":null,"
				    "\"pid\":null}}"));
	assert_int_equal(strlen(got), strlen(want_of[2]) +
		      strlen(",\"netns\":{\"inode\":4026531840,\"name\":null,\"pid\":null}"));
	free(got);
}

static struct timespec fixed_clock(void)
{
	return (struct timespec){ 1795000000, 123456789 };
}

/* A whole intent record as audit_intent_ns writes it: the header, then every case's socket. */
static void test_intent_record(void **state)
{
	char dir[64], path[PATH_MAX], why[256], want[16384];
	struct audit a;
	size_t n;
	FILE *f;
	char *got;
	long size;

	(void)state;
	strcpy(dir, "/tmp/sockreap-intent.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	assert_int_equal(audit_open(&a, path, 0, why, sizeof(why)), 0);
	a.now = fixed_clock;
	strcpy(a.run_id, "0123456789abcdef0123456789abcdef");
	for (int k = 0; k < NCASES; k++) {
		struct sock_rec r = case_rec(k);

		audit_intent_ns(&a, &r, case_owners(k), k == 3 ? &ns_blue : NULL);
	}
	assert_int_equal(audit_commit(&a), 0);
	audit_close(&a);

	n = (size_t)snprintf(want, sizeof(want), "{\"time\":\"2026-11-18T11:06:40.123Z\","
			     "\"event\":\"intent\",\"run\":\"0123456789abcdef0123456789abcdef\","
			     "\"sockets\":[");
	for (int k = 0; k < NCASES; k++) {
		/* Case 7 is --json's (with its outcome): as an intent it has none. */
		const char *w = want_of[k];
		size_t wl = strlen(w);

		if (k == 7)
			wl = (size_t)(strstr(w, ",\"outcome\"") - w);
		if (k)
			want[n++] = ',';
		memcpy(want + n, w, wl);
		n += wl;
		if (k == 7)
			n += (size_t)snprintf(want + n, sizeof(want) - n, "}");
		if (k == 3) {
			n--;
			n += (size_t)snprintf(want + n, sizeof(want) - n,
					      ",\"netns\":{\"inode\":4026532000,\"name\":\"blue\","
					      "\"pid\":77}}");
		}
	}
	n += (size_t)snprintf(want + n, sizeof(want) - n, "]}\n");

	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	got = calloc(1, (size_t)size + 1);
	assert_non_null(got);
	assert_int_equal(fread(got, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	assert_string_equal(got, want);
	free(got);
	fx_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intent_bytes),
		cmocka_unit_test(test_intent_netns_nulls),
		cmocka_unit_test(test_intent_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
