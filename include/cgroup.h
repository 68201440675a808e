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

/*
 * The systemd unit a cgroup path (relative to the root, leading '/') belongs to, as systemd
 * names it: the first component after the leading slices when it is a unit (nginx.service,
 * session-3.scope, user@1000.service); a path of slices alone is its last slice; "" for the
 * root or a path systemd did not make. Returns unit.
 */
const char *cgroup_path_unit(const char *path, char *unit, size_t size);

/*
 * Calls fn for root and every cgroup below it with its id and its path relative to root
 * ("/" for root itself), until fn returns non-zero (returned). 0 or a negative errno.
 */
int cgroup_each(const char *root, int (*fn)(uint64_t id, const char *path, void *arg), void *arg);

#endif
