// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tablefmt [N [RUNS [COLS [preview]]]]: the CPU the outcome table of N sockets costs, alone
 * (with "preview": the --dry-run table, queues and idle times, instead). A synthetic
 * set shaped like bench row 6 (CLOSE_WAIT, killed, local 127.0.1.K:PORT, peer 127.0.0.1:P,
 * one owner each among 23 "holder" processes looked up in a hash map as procmap does) is
 * printed RUNS times by output_table_fit into /dev/null; each run prints its user, sys and
 * wall milliseconds. COLS > 0 formats as for a terminal that wide.
 */
#include "hashmap.h"
#include "output.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define HOLDERS 23

struct owners {
	struct hashmap pids;	/* pid -> index in comm */
	char comm[HOLDERS][16];
};

static bool owner_at(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	const struct owners *o = arg;
	uint32_t idx;

	if (i || rec->pid <= 0 || !hashmap_get(&o->pids, (uint64_t)rec->pid, &idx))
		return false;
	*out = (struct sel_owner_info){ rec->pid, rec->fd, o->comm[idx], NULL, 1 };
	return true;
}

static const char *incomplete(void *arg, const struct sock_rec *rec)
{
	(void)arg;
	(void)rec;
	return NULL;
}

static double ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int runs = argc > 2 ? atoi(argv[2]) : 5, cols = argc > 3 ? atoi(argv[3]) : 0;
	bool preview = argc > 4 && !strcmp(argv[4], "preview");
	struct output_fit fit = { 0, cols };
	struct sock_set set = { 0 };
	struct owners o;
	struct sel_owner_ctx ctx = { owner_at, NULL, incomplete, &o, NULL, NULL };
	FILE *f = fopen("/dev/null", "w");

	if (!f || hashmap_init(&o.pids, HOLDERS) < 0)
		return 1;
	for (uint32_t k = 0; k < HOLDERS; k++) {
		snprintf(o.comm[k], sizeof(o.comm[k]), "holder");
		hashmap_put(&o.pids, 31000 + 7 * k, k);
	}
	for (size_t i = 0; i < n; i++) {
		struct sock_rec r;
		uint8_t *src = (uint8_t *)r.id.idiag_src;
		size_t k = i / 4500;

		memset(&r, 0, sizeof(r));
		r.family = AF_INET;
		r.protocol = IPPROTO_TCP;
		r.state = SS_CLOSE_WAIT;
		inet_pton(AF_INET, "127.0.1.1", r.id.idiag_src);
		src[3] = (uint8_t)(k + 1);
		inet_pton(AF_INET, "127.0.0.1", r.id.idiag_dst);
		r.id.idiag_sport = htons(5555);
		r.id.idiag_dport = htons((uint16_t)(32768 + i % 28000));
		r.id.idiag_cookie[0] = (uint32_t)i + 1;
		r.idle_ms = (uint32_t)(i % 5000);
		r.inode = (uint32_t)(100000 + i);
		r.pid = (int32_t)(31000 + 7 * (k % HOLDERS));
		r.fd = (int32_t)(3 + i % 9000);
		r.nowners = 1;
		r.rqueue = (uint32_t)(i % 3);
		r.outcome = preview ? OUT_NONE : OUT_KILLED;
		r.engine = preview ? SOCK_ENGINE_NONE : SOCK_ENGINE_DESTROY;
		if (sock_set_push(&set, &r) < 0)
			return 1;
	}
	printf("tablefmt: %zu rows, %s table, %d columns (0: a pipe)\n", n,
	       preview ? "preview" : "outcome", cols);
	for (int run = 0; run < runs; run++) {
		struct rusage a, b;
		struct timespec t0, t1;

		getrusage(RUSAGE_SELF, &a);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		output_table_fit(f, &set, &ctx, !preview, NULL, cols ? &fit : NULL);
		fflush(f);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		getrusage(RUSAGE_SELF, &b);
		double user = ms(&b.ru_utime) - ms(&a.ru_utime), sys = ms(&b.ru_stime) - ms(&a.ru_stime);

		printf("run %d: user %.1f ms, sys %.1f ms, cpu %.1f ms (%.3f us a row), wall %.1f ms\n",
		       run + 1, user, sys, user + sys, (user + sys) * 1e3 / (double)(n ? n : 1),
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	fclose(f);
	hashmap_free(&o.pids);
	sock_set_free(&set);
	return 0;
}
