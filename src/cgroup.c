// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup v2 lookups for the selector. A socket carries the id of its creator's cgroup; on
 * cgroup2 that id is the directory's inode number, so "this cgroup or below" is a set of ids.
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int root_from(const char *mountinfo, const char *prefix, char *root, size_t size)
{
	FILE *f = fopen(mountinfo, "re");
	char line[4096];
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], *sep = strstr(line, " - ");

		/* id parent major:minor root mount-point options ... - fstype source options */
		if (!sep || strncmp(sep, " - cgroup2 ", 11))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    strlen(prefix) + strlen(mnt) < size) {
			snprintf(root, size, "%s%s", prefix, mnt);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int cgroup_root(const char *mountinfo, char *root, size_t size)
{
	if (mountinfo)
		return root_from(mountinfo, "", root, size);
	int ret = root_from("/proc/self/mountinfo", "", root, size);

	/*
	 * `ip netns exec` remounts /sys, hiding cgroupfs: look through init's mount
	 * namespace instead, where the ids are the same.
	 */
	if (ret == -ENOENT) {
		ret = root_from("/proc/1/mountinfo", "/proc/1/root", root, size);
		if (ret == 0 && access(root, R_OK | X_OK) < 0)
			ret = -ENOENT;
	}
	return ret;
}

struct idvec {
	uint64_t *v;
	size_t n, cap;
};

static int push(struct idvec *iv, uint64_t id)
{
	if (iv->n == iv->cap) {
		size_t cap = iv->cap ? iv->cap * 2 : 16;
		uint64_t *v = realloc(iv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		iv->v = v;
		iv->cap = cap;
	}
	iv->v[iv->n++] = id;
	return 0;
}

static int walk(const char *dir, struct idvec *iv, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int ret;

	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	ret = push(iv, st.st_ino);
	if (ret < 0 || depth > 64 || !(d = opendir(dir)))
		return ret;
	while (ret == 0 && (de = readdir(d))) {
		char sub[PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub))
			continue;
		ret = walk(sub, iv, depth + 1);
		if (ret == -ENOENT) /* removed while we looked */
			ret = 0;
	}
	closedir(d);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool cgroup_path_has_dotdot(const char *path)
{
	for (const char *c = path; (c = strstr(c, "..")); c += 2)
		if ((c == path || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return true;
	return false;
}

int cgroup_ids(const char *root, const char *path, uint64_t **ids)
{
	char dir[PATH_MAX];
	struct idvec iv = { 0 };
	int ret;

	*ids = NULL;
	/* The parser refuses these already; the walk must not leave the root whoever calls it. */
	if (cgroup_path_has_dotdot(path))
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/%s", root, path[0] == '/' ? path + 1 : path) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	ret = walk(dir, &iv, 0);
	if (ret < 0) {
		free(iv.v);
		return ret;
	}
	qsort(iv.v, iv.n, sizeof(*iv.v), cmp_u64);
	*ids = iv.v;
	return (int)iv.n;
}

int cgroup_find_unit(const char *root, const char *name, char *path, size_t size)
{
	char want[NAME_MAX + 1];
	/* Breadth-first over relative paths, in a simple growing queue. */
	char **queue = NULL;
	size_t head = 0, tail = 0, cap = 0;
	int ret = -ENOENT;

	if (snprintf(want, sizeof(want), strchr(name, '.') ? "%s" : "%s.service", name) >=
	    (int)sizeof(want))
		return -ENAMETOOLONG;
	queue = malloc(16 * sizeof(*queue));
	if (!queue || !(queue[0] = strdup(""))) {
		free(queue);
		return -ENOMEM;
	}
	cap = 16;
	tail = 1;
	while (head < tail && ret == -ENOENT) {
		char dir[PATH_MAX];
		char *rel = queue[head++];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s%s", root, rel);
		d = opendir(dir);
		while (d && (de = readdir(d)) && ret == -ENOENT) {
			char sub[PATH_MAX];

			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >= (int)sizeof(sub))
				continue;
			if (!strcmp(de->d_name, want)) {
				ret = strlen(sub) < size ? 0 : -ENAMETOOLONG;
				if (!ret)
					strcpy(path, sub);
				break;
			}
			if (tail == cap) {
				char **q = realloc(queue, cap * 2 * sizeof(*q));

				if (!q) {
					ret = -ENOMEM;
					break;
				}
				queue = q;
				cap *= 2;
			}
			if (!(queue[tail] = strdup(sub))) {
				ret = -ENOMEM;
				break;
			}
			tail++;
		}
		if (d)
			closedir(d);
	}
	for (size_t i = 0; i < tail; i++)
		free(queue[i]);
	free(queue);
	return ret;
}

/* Whether the n bytes at s end in a unit type a cgroup can stand for. */
static bool is_unit(const char *s, size_t n)
{
	static const char *const types[] = { ".service", ".scope", ".socket", ".mount", ".swap" };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t t = strlen(types[i]);

		if (n > t && !memcmp(s + n - t, types[i], t))
			return true;
	}
	return false;
}

const char *cgroup_path_unit(const char *path, char *unit, size_t size)
{
	const char *slice = NULL, *p = path;
	size_t slen = 0;

	unit[0] = '\0';
	/* systemd's cg_path_get_unit: skip the slices, the next component is the unit. */
	for (;;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");

		if (!n)
			break;
		if (n > 6 && !memcmp(p + n - 6, ".slice", 6)) {
			slice = p;
			slen = n;
			p += n;
			continue;
		}
		if (is_unit(p, n))
			snprintf(unit, size, "%.*s", (int)n, p);
		return unit;
	}
	if (slice)
		snprintf(unit, size, "%.*s", (int)slen, slice);
	return unit;
}

static int each(const char *root, char *rel, size_t len, size_t size, int depth,
		int (*fn)(uint64_t, const char *, void *), void *arg)
{
	char dir[PATH_MAX];
	struct stat st;
	struct dirent *de;
	DIR *d;
	int ret;

	if (snprintf(dir, sizeof(dir), "%s%s", root, rel) >= (int)sizeof(dir))
		return 0;
	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -errno; /* removed while we looked */
	ret = fn(st.st_ino, len ? rel : "/", arg);
	if (ret || depth > 64 || !(d = opendir(dir)))
		return ret;
	while (ret == 0 && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || len + n + 2 > size)
			continue;
		rel[len] = '/';
		memcpy(rel + len + 1, de->d_name, n + 1);
		ret = each(root, rel, len + n + 1, size, depth + 1, fn, arg);
		rel[len] = '\0';
	}
	closedir(d);
	return ret;
}

int cgroup_each(const char *root, int (*fn)(uint64_t id, const char *path, void *arg), void *arg)
{
	char rel[PATH_MAX] = "";
	struct stat st;

	/* Below the root a cgroup removed while we look is no error; the root missing is. */
	if (stat(root, &st) < 0)
		return -errno;
	return each(root, rel, 0, sizeof(rel), 0, fn, arg);
}
