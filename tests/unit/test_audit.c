/* Audit records: exact JSON lines with a fixed clock, file creation and refusal. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "fixtures.h"

static struct timespec fixed_clock(void)
{
	return (struct timespec){ 1795000000, 123456789 };
}

/* The socket's one owner: pid 42 ("leaky") on fd 9; none unknown. */
static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	(void)arg;
	if (i || rec->pid != 42)
		return false;
	*out = (struct sel_owner_info){ 42, rec->fd, "leaky", NULL, 1 };
	return true;
}

static const struct sel_owner_ctx owners = { owner_of, NULL, NULL, NULL };

static void test_audit_time_format(void **state)
{
	char buf[64];

	(void)state;
	audit_format_time(buf, sizeof(buf), (struct timespec){ 0, 5000000 });
	assert_string_equal(buf, "1970-01-01T00:00:00.005Z");
	audit_format_time(buf, sizeof(buf), fixed_clock());
	assert_string_equal(buf, "2026-11-18T11:06:40.123Z");
}

static void test_audit_records(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	struct audit a;
	struct audit_who who = { 0, 0, 1000, 7, "alice", "/dev/pts/3" };
	char *argv[] = { "sockreap", "--state", "close-wait", "--yes" };
	struct audit_run run = { 4, argv, "state close-wait", "destroy", 1, &who };
	struct sock_rec r = fx_rec(AF_INET, "127.0.0.1", 7000, "127.0.0.1", 40000, SS_CLOSE_WAIT, 0xab);
	struct plan_counts c = { .total = 1 };

	(void)state;
	audit_init(&a);
	a.now = fixed_clock;
	strcpy(a.run_id, "0123456789abcdef0123456789abcdef");
	strcpy(a.host, "db1");
	a.f = open_memstream(&buf, &len);
	r.pid = 42;
	r.fd = 9;
	r.nowners = 1;
	r.inode = 555;
	audit_start(&a, &run);
	audit_socket(&a, "intent", &r, &owners);
	r.outcome = OUT_KILLED;
	r.engine = SOCK_ENGINE_DESTROY;
	audit_socket(&a, "result", &r, &owners);
	c.n[OUT_KILLED] = 1;
	audit_summary(&a, &c, 0.25);
	assert_int_equal(audit_commit(&a), 0);
	fclose(a.f);
	a.f = NULL;
	const char *hdr = "{\"time\":\"2026-11-18T11:06:40.123Z\",";
	const char *ids = "\"run\":\"0123456789abcdef0123456789abcdef\",\"host\":\"db1\"";
	const char *sock = "\"socket\":{\"cookie\":\"ab\",\"protocol\":\"tcp\",\"family\":\"inet\","
			   "\"state\":\"close-wait\",\"local\":{\"addr\":\"127.0.0.1\",\"port\":7000},"
			   "\"peer\":{\"addr\":\"127.0.0.1\",\"port\":40000},\"inode\":555,\"uid\":0,"
			   "\"cgroup_id\":0,\"mark\":null,"
			   "\"recv_q\":0,\"send_q\":0,\"idle_ms\":null,"
			   "\"owners\":[{\"pid\":42,\"comm\":\"leaky\",\"fd\":9}],\"owner_count\":1,"
			   "\"owners_unknown\":null";
	char want[4096];

	snprintf(want, sizeof(want),
		 "%s\"event\":\"start\",%s,\"who\":{\"uid\":0,\"euid\":0,\"loginuid\":1000,"
		 "\"sessionid\":7,\"sudo_user\":\"alice\",\"tty\":\"/dev/pts/3\"},"
		 "\"argv\":[\"sockreap\",\"--state\",\"close-wait\",\"--yes\"],"
		 "\"selector\":\"state close-wait\",\"engine\":\"destroy\",\"planned\":1}\n"
		 "%s\"event\":\"intent\",%s,%s}}\n"
		 "%s\"event\":\"result\",%s,%s,\"outcome\":\"killed\",\"error\":null,"
		 "\"engine\":\"destroy\",\"peer_reset\":false,\"peer_end\":null}}\n"
		 "%s\"event\":\"summary\",%s,\"selected\":1,\"killed\":1,\"gone\":0,\"changed\":0,"
		 "\"unsupported\":0,\"denied\":0,\"failed\":0,\"skipped\":0,\"exit_status\":0,"
		 "\"elapsed_ms\":0.250}\n",
		 hdr, ids, hdr, ids, sock, hdr, ids, sock, hdr, ids);
	assert_string_equal(buf, want);
	free(buf);
}

static void test_audit_unset_ids_are_null(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	struct audit a;
	struct audit_who who = { 5, 0, -1, -1, NULL, NULL };
	char *argv[] = { "sockreap" };
	struct audit_run run = { 1, argv, "", "destroy", 0, &who };

	(void)state;
	audit_init(&a);
	a.f = open_memstream(&buf, &len);
	audit_start(&a, &run);
	fclose(a.f);
	assert_non_null(strstr(buf, "\"who\":{\"uid\":5,\"euid\":0,\"loginuid\":null,"
				    "\"sessionid\":null,\"sudo_user\":null,\"tty\":null}"));
	assert_int_equal(strlen(a.run_id), 32);
	free(buf);
}

static void test_audit_open_creates_private_file(void **state)
{
	char dir[] = "/tmp/sockreap-audit.XXXXXX";
	char path[PATH_MAX], bad[PATH_MAX + 32];
	struct audit a;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/audit.log", dir);
	assert_int_equal(audit_open(&a, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	assert_int_equal(stat(bad, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	audit_close(&a);
	/* A path under a regular file cannot be written: the caller must refuse to kill. */
	snprintf(bad, sizeof(bad), "%s/audit.log/x", path);
	assert_int_equal(audit_open(&a, bad), -ENOTDIR);
	assert_null(a.f);
	/* Without a file every call is a no-op that succeeds. */
	assert_int_equal(audit_commit(&a), 0);
	unlink(path);
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	rmdir(bad);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_time_format),
		cmocka_unit_test(test_audit_records),
		cmocka_unit_test(test_audit_unset_ids_are_null),
		cmocka_unit_test(test_audit_open_creates_private_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
