// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for watch rules and their config file: each line of the input is a rule.
 * Whatever it holds, a rule either fails with its error span inside the line, or has a name
 * of a-z, 0-9, _ and - and a selector whose canonical form, written back as a rule, parses to
 * the same canonical form, age and max. The whole input as a config file loads or fails with
 * status 2, never anything else. cgroup paths and units resolve against an empty fixture
 * (the real cgroup2 root is swapped out at link time with --wrap=cgroup_root).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "watch.h"
#include "cgroup_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* build/fuzz/cgroup-fixture-watch, beside the binary: one unit. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dirs[] = { "", "/system.slice", "/system.slice/app.service" };

	(void)argc;
	(void)argv;
	cgroup_fixture_make("cgroup-fixture-watch", dirs, sizeof(dirs) / sizeof(dirs[0]));
	return 0;
}

static void one_rule(const char *line)
{
	struct watch_rule r, back;
	struct sel_error err = { "", 0, 0 };
	char text[4200];
	int ret = watch_rule_parse(line, &r, &err);

	if (ret) {
		if (ret != -EINVAL || err.pos < 0 || (size_t)err.pos > strlen(line) || !err.msg[0])
			abort();
		return;
	}
	if (!r.name[0] || strspn(r.name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(r.name))
		abort();
	if (r.max >= 0)
		snprintf(text, sizeof(text), "%s: %s, older-than %llums, max %ld", r.name, r.selector,
			 (unsigned long long)r.older_ms, r.max);
	else
		snprintf(text, sizeof(text), "%s: %s, older-than %llums", r.name, r.selector,
			 (unsigned long long)r.older_ms);
	if (watch_rule_parse(text, &back, &err) != 0) {
		fprintf(stderr, "canonical form does not parse back: %s: %s\n", text, err.msg);
		abort();
	}
	if (strcmp(back.selector, r.selector) || back.older_ms != r.older_ms || back.max != r.max) {
		fprintf(stderr, "canonical form changed: %s -> %s\n", r.selector, back.selector);
		abort();
	}
	watch_rule_free(&back);
	watch_rule_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *line, *save = NULL, path[64];
	struct watch_rules rules;
	FILE *devnull;
	int fd, ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* As a config file, through its path (memfd: nothing on disk). */
	fd = memfd_create("watch.conf", MFD_CLOEXEC);
	devnull = fopen("/dev/null", "w");
	if (fd >= 0 && devnull && write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ret = watch_config_load(path, &rules, devnull);
		if (ret != 0 && ret != EXIT_USAGE)
			abort();
		if (!ret)
			watch_rules_free(&rules);
	}
	if (devnull)
		fclose(devnull);
	if (fd >= 0)
		close(fd);
	if (strlen(buf) == size)
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			one_rule(line);
	free(buf);
	return 0;
}
