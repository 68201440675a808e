// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network namespaces: which ones exist on the host (names under /run/netns, nsfs bind mounts,
 * every process's /proc/PID/ns/net, one entry per inode) and entering one with setns(2). Only
 * the network namespace changes: the mount namespace, /proc and the host's view of processes
 * stay ours, so owners resolve as before (socket inodes are unique host-wide).
 */
#include "netns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static const char *proc_root(const struct netns_roots *r)
{
	return r && r->proc ? r->proc : "/proc";
}

static const char *run_root(const struct netns_roots *r)
{
	return r && r->run_netns ? r->run_netns : "/run/netns";
}

/* A positive pid in decimal, nothing else. */
static bool parse_pid(const char *s, int32_t *pid)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT32_MAX)
		return false;
	*pid = (int32_t)v;
	return true;
}

int netns_spec_path(const struct netns_roots *roots, const char *spec, bool by_pid, char *path,
		    size_t size)
{
	int32_t pid;
	int n;

	if (by_pid) {
		if (!parse_pid(spec, &pid))
			return -EINVAL;
		n = snprintf(path, size, "%s/%" PRId32 "/ns/net", proc_root(roots), pid);
	} else if (strchr(spec, '/')) {
		n = snprintf(path, size, "%s", spec);
	} else {
		/* A name is one directory entry: never a way out of run_netns. */
		if (!*spec || !strcmp(spec, ".") || !strcmp(spec, ".."))
			return -EINVAL;
		n = snprintf(path, size, "%s/%s", run_root(roots), spec);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int netns_parse_link(const char *text, uint64_t *inode)
{
	const char *p;
	char *end;

	if (strncmp(text, "net:[", 5))
		return -EINVAL;
	p = text + 5;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);

	if (errno || strcmp(end, "]") || !v)
		return -EINVAL;
	*inode = v;
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. false: does not fit. */
static bool unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
		    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (w + 1 >= size)
			return false;
		out[w++] = c;
	}
	out[w] = '\0';
	return true;
}

int netns_parse_mountinfo(const char *line, uint64_t *inode, char *mnt, size_t size)
{
	/* id parent major:minor root mount-point options [optional...] - fstype source super */
	const char *f[6];
	size_t len[6];
	const char *p = line;
	int nf = 0;
	bool sep = false;
	const char *fstype = NULL;
	size_t fslen = 0;

	while (*p && *p != '\n') {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		const char *t = p;

		while (*p && *p != ' ' && *p != '\n')
			p++;
		size_t tl = (size_t)(p - t);

		if (nf < 6) {
			f[nf] = t;
			len[nf++] = tl;
		} else if (!sep && tl == 1 && *t == '-') {
			sep = true;
		} else if (sep && !fstype) {
			fstype = t;
			fslen = tl;
		}
	}
	if (nf < 6 || !fstype)
		return -EINVAL;
	if (fslen != 4 || strncmp(fstype, "nsfs", 4))
		return 0;
	/* The root of an nsfs mount is the namespace itself: "net:[N]" (other types: other names). */
	char root[64];

	if (len[3] >= sizeof(root))
		return 0;
	memcpy(root, f[3], len[3]);
	root[len[3]] = '\0';
	if (netns_parse_link(root, inode) < 0)
		return 0;
	if (!unescape(f[4], len[4], mnt, size))
		return -ENAMETOOLONG;
	return 1;
}

/* The entry for inode, added if new. NULL: out of memory. */
static struct netns_info *list_get(struct netns_list *l, uint64_t inode)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].inode == inode)
			return &l->v[i];
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct netns_info *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	struct netns_info *e = &l->v[l->n++];

	memset(e, 0, sizeof(*e));
	e->inode = inode;
	e->pid = -1;
	return e;
}

static void set_str(char *dst, size_t size, const char *src)
{
	if (!*dst && strlen(src) < size)
		memcpy(dst, src, strlen(src) + 1);
}

/* A name under run_netns: the entry's base name when the path is directly under it. */
static const char *name_under(const char *run, const char *path)
{
	size_t n = strlen(run);

	while (n > 1 && run[n - 1] == '/')
		n--;
	if (strncmp(path, run, n) || path[n] != '/' || !path[n + 1] || strchr(path + n + 1, '/'))
		return NULL;
	return path + n + 1;
}

/*
 * Whether a file known to be on nsfs is a network namespace: any type may be bind-mounted
 * here, and setns(CLONE_NEWNET) refuses the others. Opening an nsfs file does nothing. A
 * kernel before 4.11 (no NS_GET_NSTYPE) or a test's plain file cannot say: kept.
 */
static bool is_netns_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), type;

	if (fd < 0)
		return true;
	type = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	return type < 0 || type == CLONE_NEWNET;
}

/*
 * Files under run_netns that are namespaces: on the nsfs device (an entry whose bind mount is
 * gone is a plain empty file). The device is the one proc/self/ns/net lives on.
 */
static int scan_run(const struct netns_roots *roots, struct netns_list *l)
{
	const char *run = run_root(roots);
	char path[PATH_MAX];
	struct stat self, st;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/self/ns/net", proc_root(roots));
	if (stat(path, &self) < 0)
		return 0;
	d = opendir(run);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct netns_info *e;

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", run, de->d_name) >= sizeof(path))
			continue;
		if (stat(path, &st) < 0 || st.st_dev != self.st_dev || !is_netns_file(path))
			continue;
		e = list_get(l, st.st_ino);
		if (!e) {
			ret = -ENOMEM;
			break;
		}
		set_str(e->name, sizeof(e->name), de->d_name);
		set_str(e->path, sizeof(e->path), path);
	}
	closedir(d);
	return ret;
}

/* nsfs bind mounts anywhere (docker's /var/run/docker/netns/ID, ip netns's /run/netns/NAME). */
static int scan_mounts(const struct netns_roots *roots, struct netns_list *l)
{
	char path[PATH_MAX], mnt[PATH_MAX], *line = NULL;
	size_t cap = 0;
	uint64_t inode;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root(roots));
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		struct netns_info *e;
		const char *name;

		if (netns_parse_mountinfo(line, &inode, mnt, sizeof(mnt)) != 1)
			continue;
		e = list_get(l, inode);
		if (!e) {
			ret = -ENOMEM;
			break;
		}
		name = name_under(run_root(roots), mnt);
		if (name)
			set_str(e->name, sizeof(e->name), name);
		set_str(e->path, sizeof(e->path), mnt);
	}
	free(line);
	fclose(f);
	return ret;
}

/* Every process's namespace: readlink, which needs no open of the namespace itself. */
static int scan_proc(const struct netns_roots *roots, struct netns_list *l)
{
	const char *proc = proc_root(roots);
	char path[PATH_MAX], text[64];
	struct dirent *de;
	uint64_t inode;
	int32_t pid;
	int ret = 0;
	DIR *d = opendir(proc);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct netns_info *e;
		ssize_t n;

		if (!parse_pid(de->d_name, &pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s/ns/net", proc, de->d_name);
		n = readlink(path, text, sizeof(text) - 1);
		if (n <= 0)
			continue;	/* gone, a kernel thread, or not ours to read */
		text[n] = '\0';
		if (netns_parse_link(text, &inode) < 0)
			continue;
		e = list_get(l, inode);
		if (!e) {
			ret = -ENOMEM;
			break;
		}
		if (e->pid < 0 || pid < e->pid)
			e->pid = pid;
		set_str(e->path, sizeof(e->path), path);
	}
	closedir(d);
	return ret;
}

int netns_discover(const struct netns_roots *roots, struct netns_list *out)
{
	int ret;

	*out = (struct netns_list){ 0 };
	/* Names first: a name found under run_netns wins over a mount point elsewhere. */
	ret = scan_run(roots, out);
	if (!ret)
		ret = scan_mounts(roots, out);
	if (!ret)
		ret = scan_proc(roots, out);
	if (ret < 0)
		netns_list_free(out);
	return ret;
}

struct netns_info *netns_list_get(struct netns_list *l, uint64_t inode)
{
	return list_get(l, inode);
}

const struct netns_info *netns_list_find(const struct netns_list *l, uint64_t inode)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].inode == inode)
			return &l->v[i];
	return NULL;
}

void netns_list_free(struct netns_list *l)
{
	if (!l)
		return;
	free(l->v);
	*l = (struct netns_list){ 0 };
}

/*
 * Opens path for setns only if it is a network namespace file. It is looked at through an
 * O_PATH descriptor first, which opens nothing: a path given by mistake may be a device whose
 * open acts (a watchdog, a tape). Returns the fd or a negative errno (-EINVAL: not one).
 */
static int open_netns(const char *path, struct stat *st)
{
	char self[64];
	struct statfs sfs;
	int pfd = open(path, O_PATH | O_CLOEXEC), fd = -1, ret = 0;

	if (pfd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	if (fstatfs(pfd, &sfs) < 0 || fstat(pfd, st) < 0)
		ret = -errno;
	else if (sfs.f_type != NSFS_MAGIC)
		ret = -EINVAL;
	if (!ret) {
		/* setns takes no O_PATH descriptor: reopen the same file, not the path again. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			ret = -errno;
	}
	close(pfd);
	if (ret < 0)
		return ret;
	int type = ioctl(fd, NS_GET_NSTYPE);

	/* Kernels before 4.11 cannot say: setns(CLONE_NEWNET) refuses another type anyway. */
	if (type >= 0 && type != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int netns_open(const struct netns_roots *roots, const char *spec, bool by_pid,
	       struct netns_info *info)
{
	char path[PATH_MAX];
	struct netns_list all;
	struct stat st;
	int fd, ret;

	memset(info, 0, sizeof(*info));
	info->pid = -1;
	ret = netns_spec_path(roots, spec, by_pid, path, sizeof(path));
	if (ret < 0)
		return ret;
	fd = open_netns(path, &st);
	if (fd < 0)
		return fd;
	info->inode = st.st_ino;
	snprintf(info->path, sizeof(info->path), "%s", path);
	if (netns_discover(roots, &all) == 0) {
		const struct netns_info *e = netns_list_find(&all, st.st_ino);

		if (e) {
			memcpy(info->name, e->name, sizeof(info->name));
			info->pid = e->pid;
		}
		netns_list_free(&all);
	}
	/* What the caller named it by wins over what discovery found first. */
	if (!by_pid && !strchr(spec, '/'))
		snprintf(info->name, sizeof(info->name), "%s", spec);
	if (by_pid)
		parse_pid(spec, &info->pid);
	return fd;
}

int netns_resolve(const struct netns_roots *roots, const char *spec, bool by_pid,
		  uint64_t *inode, char *path, size_t size)
{
	struct stat st;
	int fd, ret = netns_spec_path(roots, spec, by_pid, path, size);

	if (ret < 0)
		return ret;
	fd = open_netns(path, &st);
	if (fd < 0)
		return fd;
	close(fd);
	*inode = st.st_ino;
	return 0;
}

int netns_open_info(const struct netns_info *info)
{
	struct stat st;
	int fd = open_netns(info->path, &st);

	/* /proc/PID/ns/net of a pid reused since discovery may be another namespace now. */
	if (fd >= 0 && st.st_ino != info->inode) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int netns_enter(const struct netns_roots *roots, const char *spec, bool by_pid,
		struct netns_info *info)
{
	int fd = netns_open(roots, spec, by_pid, info), ret;

	if (fd < 0)
		return fd;
	ret = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return ret;
}
