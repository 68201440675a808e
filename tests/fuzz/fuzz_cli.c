// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the command line: the input split at NUL bytes is argv. Whatever it
 * holds, cli_parse either fails with status 2 (4: a network namespace it may not open) or
 * builds an AST whose canonical form parses back to itself. cgroup paths and units resolve
 * against a small fixture tree (the real cgroup2 root is swapped out at link time with
 * --wrap=cgroup_root), so the walk stays cheap.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "plan.h"
#include "cgroup_fixture.h"

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* build/fuzz/cgroup-fixture, beside the binary: a few groups, one unit with a child. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dirs[] = { "", "/a", "/a/b", "/system.slice",
					    "/system.slice/nginx.service",
					    "/system.slice/nginx.service/worker" };

	(void)argc;
	(void)argv;
	cgroup_fixture_make("cgroup-fixture", dirs, sizeof(dirs) / sizeof(dirs[0]));
	return 0;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char errbuf[8192], out[16384], again[16384];
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2];
	int argc = 0;
	struct config cfg;
	struct sel_error err;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "sockreap";
	for (char *s = copy; s <= copy + size && argc <= MAX_ARGS; s += strlen(s) + 1)
		argv[argc++] = s;
	argv[argc] = NULL;
	FILE *errf = fmemopen(errbuf, sizeof(errbuf), "w");

	if (!errf) {
		free(copy);
		return 0;
	}
	int ret = cli_parse(&cfg, argc, argv, no_env, errf);

	fclose(errf);
	/* 4: a namespace the selector names that this process may not open (netns pid 1). */
	if (ret != 0 && ret != EXIT_USAGE && ret != EXIT_PRIV)
		abort();
	if (ret == 0 && cfg.ast && selector_format(cfg.ast, out, sizeof(out)) < sizeof(out)) {
		struct sel_node *n = selector_parse(out, &err);

		if (!n) {
			fprintf(stderr, "canonical \"%s\" does not parse: %s\n", out, err.msg);
			abort();
		}
		selector_format(n, again, sizeof(again));
		if (strcmp(out, again)) {
			fprintf(stderr, "canonical \"%s\" re-printed as \"%s\"\n", out, again);
			abort();
		}
		sel_node_free(n);
	}
	if (ret == 0)
		cli_free(&cfg);
	free(copy);
	return 0;
}
