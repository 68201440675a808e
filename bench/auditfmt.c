// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auditfmt [N] [RUNS]: the CPU cost of formatting N audit intents (default 100,000), each with
 * one owner, as bench row 6's kill does while the destroys run (issue 11). Two measures per run:
 * "format", the sockets formatted by output_sock_json_ns into one reused buffer cut every
 * AUDIT_RECORD_BYTES (what audit.c's intent records do, without the file); and "audit",
 * audit_intent_ns into /dev/null (records, flock, write(2), no disk); and "results", the result
 * records of the same sockets, all killed, into /dev/null (written after the kill, on the main
 * thread: reap.c calls audit_result_fds per socket). User and system CPU from
 * getrusage and wall time, per run; no root, no sockets, no network.
 */
#include "audit.h"
#include "json.h"
#include "output.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The holder's sockets: one owner each, pid 4242 "holder", fd 3 + i. */
static bool owner_of(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	(void)arg;
	if (i)
		return false;
	*out = (struct sel_owner_info){ rec->pid, rec->fd, "holder", NULL, 1 };
	return true;
}

static const struct sel_owner_ctx owners = { owner_of, NULL, NULL, NULL, NULL, NULL };

/* CLOSE_WAIT on 127.0.0.1:7000 from ephemeral ports, as the bench's workload. */
static void fill(struct sock_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sock_rec *r = &v[i];
		const uint8_t lo[4] = { 127, 0, 0, 1 };

		memset(r, 0, sizeof(*r));
		r->family = AF_INET;
		r->protocol = 6;
		r->state = SS_CLOSE_WAIT;
		memcpy(r->id.idiag_src, lo, 4);
		memcpy(r->id.idiag_dst, lo, 4);
		r->id.idiag_sport = htons(7000);
		r->id.idiag_dport = htons((uint16_t)(32768 + i % 28000));
		r->id.idiag_cookie[0] = (uint32_t)(0x1234 + i);
		r->id.idiag_cookie[1] = 0;
		r->inode = (uint32_t)(2000000 + i);
		r->uid = 0;
		r->cgroup_id = 7042;
		r->flags = SOCK_F_MARK_KNOWN;
		r->rqueue = 1;
		r->idle_ms = (uint32_t)(1000 + i % 5000);
		r->pid = 4242;
		r->fd = (int32_t)(3 + i);
		r->nowners = 1;
		r->outcome = OUT_KILLED;
		r->engine = SOCK_ENGINE_DESTROY;
	}
}

struct cost {
	double user_ms, sys_ms, wall_ms;
};

static double tv_ms(struct timeval t)
{
	return (double)t.tv_sec * 1e3 + (double)t.tv_usec / 1e3;
}

static double ts_ms(struct timespec t)
{
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void cost_begin(struct rusage *ru, struct timespec *ts)
{
	getrusage(RUSAGE_SELF, ru);
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static struct cost cost_end(const struct rusage *ru0, const struct timespec *ts0)
{
	struct rusage ru;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	getrusage(RUSAGE_SELF, &ru);
	return (struct cost){ tv_ms(ru.ru_utime) - tv_ms(ru0->ru_utime),
			      tv_ms(ru.ru_stime) - tv_ms(ru0->ru_stime), ts_ms(ts) - ts_ms(*ts0) };
}

static struct cost format_only(const struct sock_rec *v, size_t n, size_t *bytes)
{
	struct json_buf b = { 0 };
	struct json j;
	struct rusage ru;
	struct timespec ts;
	struct cost c;

	*bytes = 0;
	cost_begin(&ru, &ts);
	json_init_buf(&j, &b);
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "sockets");
	for (size_t i = 0; i < n; i++) {
		output_sock_json_ns(&j, NULL, &v[i], &owners, false, NULL);
		if (b.len >= AUDIT_RECORD_BYTES) {
			*bytes += b.len;
			b.len = 0;
			json_init_buf(&j, &b);
			json_obj_begin(&j, NULL);
			json_arr_begin(&j, "sockets");
		}
	}
	*bytes += b.len;
	c = cost_end(&ru, &ts);
	json_buf_free(&b);
	return c;
}

static struct cost audit_devnull(const struct sock_rec *v, size_t n, bool results)
{
	struct audit a;
	struct rusage ru;
	struct timespec ts;
	struct cost c;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		perror("auditfmt: /dev/null");
		exit(1);
	}
	audit_init(&a);
	audit_open_fd(&a, fd);
	cost_begin(&ru, &ts);
	for (size_t i = 0; i < n; i++) {
		if (results)
			audit_result_fds(&a, &v[i], &owners);
		else
			audit_intent_ns(&a, &v[i], &owners, NULL);
	}
	audit_sync(&a);
	c = cost_end(&ru, &ts);
	audit_commit(&a);
	audit_close(&a);
	return c;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct sock_rec *v = calloc(n ? n : 1, sizeof(*v));

	if (!v) {
		fprintf(stderr, "auditfmt: out of memory\n");
		return 1;
	}
	fill(v, n);
	for (int r = 0; r < runs; r++) {
		size_t bytes;
		struct cost f = format_only(v, n, &bytes);
		struct cost a = audit_devnull(v, n, false);
		struct cost res = audit_devnull(v, n, true);

		printf("run %d: %zu intents, %zu bytes: format user %.1f ms sys %.1f ms wall %.1f ms;"
		       " audit to /dev/null user %.1f ms sys %.1f ms wall %.1f ms;"
		       " results user %.1f ms sys %.1f ms wall %.1f ms\n", r + 1, n, bytes,
		       f.user_ms, f.sys_ms, f.wall_ms, a.user_ms, a.sys_ms, a.wall_ms, res.user_ms,
		       res.sys_ms, res.wall_ms);
	}
	free(v);
	return 0;
}
