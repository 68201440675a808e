/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network namespaces: finding every one on the host, and entering one by name, path or pid. */
#ifndef SOCKREAP_NETNS_H
#define SOCKREAP_NETNS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where to look; NULL members mean "/proc" and "/run/netns" (tests point them at fixtures). */
struct netns_roots {
	const char *proc;
	const char *run_netns;
};

/* One namespace, as the output and the audit name it. */
struct netns_info {
	uint64_t inode;
	char name[NAME_MAX + 1];	/* its name under run_netns; "" when it has none */
	int32_t pid;			/* one process living in it (the lowest); -1: none found */
	char path[PATH_MAX];		/* a file that opens it */
	int left_out;			/* a run's: 0, or the -errno it was not looked in for */
	uint8_t collect;		/* enum netns_collect: how a run collected its sockets */
};

/* How a run found a visited namespace's sockets (JSON "collect"). */
enum netns_collect {
	NETNS_COLLECT_NONE,	/* not collected (not entered, dump failed) */
	NETNS_COLLECT_DUMP,	/* sock_diag dumps */
	/* the BPF pass, proven complete (nsdisc.h), or a watcher's state tracker; exact gets */
	NETNS_COLLECT_BPF,
};

struct netns_list {
	struct netns_info *v;
	size_t n, cap;
};

/*
 * The file spec names: a name (no '/') under run_netns, a path as given, or with by_pid the
 * pid's proc/PID/ns/net. Returns 0, -EINVAL for a spec that is none of these ("", ".", "..",
 * a pid that is not a positive number), -ENAMETOOLONG.
 */
int netns_spec_path(const struct netns_roots *roots, const char *spec, bool by_pid, char *path,
		    size_t size);

/* "net:[4026531840]" (the text of a /proc/PID/ns/net link) -> inode. 0 or -EINVAL. */
int netns_parse_link(const char *text, uint64_t *inode);

/*
 * One line of /proc/self/mountinfo: 1 when it is an nsfs mount of a network namespace (inode
 * and the unescaped mount point in mnt), 0 when it is another mount, -EINVAL when malformed.
 */
int netns_parse_mountinfo(const char *line, uint64_t *inode, char *mnt, size_t size);

/*
 * Every network namespace reachable on the host, one entry per inode: the names under
 * run_netns, the nsfs bind mounts in proc/self/mountinfo, and proc/PID/ns/net of every
 * process. Returns 0 (what could not be read is left out) or -ENOMEM.
 */
int netns_discover(const struct netns_roots *roots, struct netns_list *out);
const struct netns_info *netns_list_find(const struct netns_list *l, uint64_t inode);
/* The entry for inode, added (name "", pid -1, path "") if absent; NULL out of memory. */
struct netns_info *netns_list_get(struct netns_list *l, uint64_t inode);
void netns_list_free(struct netns_list *l);

/*
 * Enters the network namespace spec names (netns_spec_path) with setns(2), this thread only:
 * call it before any thread, netlink or raw socket exists. Mount namespace and /proc stay.
 * info gets its inode, name and one pid. Returns 0 or a negative errno: -ENOENT no such file,
 * -EINVAL not a network namespace, -EPERM/-EACCES not allowed (setns needs CAP_SYS_ADMIN).
 */
/*
 * Opens the namespace spec names (as netns_enter) without entering it: returns an fd for
 * setns(2), with info filled, or a negative errno as netns_enter.
 */
int netns_open(const struct netns_roots *roots, const char *spec, bool by_pid,
	       struct netns_info *info);

/*
 * The inode of the namespace spec names (as netns_open, which it checks the same way) and the
 * file that opens it, without a scan of /proc: for naming one, not entering it. 0 or as
 * netns_open.
 */
int netns_resolve(const struct netns_roots *roots, const char *spec, bool by_pid,
		  uint64_t *inode, char *path, size_t size);

/*
 * Opens a discovered namespace again by its path: the fd, -ENOENT when it vanished, -ESTALE
 * when the path now opens another namespace (a pid reused), -EINVAL, -EACCES.
 */
int netns_open_info(const struct netns_info *info);

int netns_enter(const struct netns_roots *roots, const char *spec, bool by_pid,
		struct netns_info *info);

#endif
