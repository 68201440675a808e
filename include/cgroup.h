/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v2: where it is mounted, a path's id and its descendants' ids, a unit's cgroup. */
#ifndef SOCKREAP_CGROUP_H
#define SOCKREAP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The cgroup2 mount point from a mountinfo file (tests pass a fixture), or with NULL from ours,
 * then init's (through /proc/1/root). 0 or -ENOENT.
 */
int cgroup_root(const char *mountinfo, char *root, size_t size);

/* Whether path has a ".." component: such a path could lead out of the cgroup2 root. */
bool cgroup_path_has_dotdot(const char *path);

/*
 * The ids (inode numbers) of root/path and of every cgroup below it, sorted, in *ids
 * (caller frees). Returns their number or a negative errno (-ENOENT: no such cgroup,
 * -EINVAL: a ".." component).
 */
int cgroup_ids(const char *root, const char *path, uint64_t **ids);

/*
 * The path (relative to root, with a leading '/') of the first cgroup directory named name,
 * breadth-first; a name without a '.' is looked up as name.service. 0 or -ENOENT.
 */
int cgroup_find_unit(const char *root, const char *name, char *path, size_t size);

#endif
