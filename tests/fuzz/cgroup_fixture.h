// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * For the fuzz targets that resolve cgroup paths and units (fuzz_cli, fuzz_watch): a fixture
 * tree of directories beside the binary stands in for the cgroup2 root, swapped in at link time
 * (-Wl,--wrap=cgroup_root), so that a fuzzed `unit` or `cgroup` never reads the host's groups.
 * Included by one target each: the definitions are that target's own.
 */
#ifndef SOCKREAP_FUZZ_CGROUP_FIXTURE_H
#define SOCKREAP_FUZZ_CGROUP_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fixture[PATH_MAX];

int __wrap_cgroup_root(const char *mountinfo, char *root, size_t size);

int __wrap_cgroup_root(const char *mountinfo, char *root, size_t size)
{
	(void)mountinfo;
	snprintf(root, size, "%s", fixture);
	return 0;
}

/* Makes build/fuzz/NAME (beside the binary) with the directories dirs ("" is NAME itself). */
static void cgroup_fixture_make(const char *name, const char *const *dirs, size_t n)
{
	char exe[PATH_MAX - 64], path[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len <= 0)
		abort();
	exe[len] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(fixture, sizeof(fixture), "%s/%s", exe, name);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%s", fixture, dirs[i]);
		mkdir(path, 0755);
	}
}

#endif
