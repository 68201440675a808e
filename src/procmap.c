/*
 * Owners of sockets: walks /proc/PID/fd of the named pids, or of every process, looking up
 * each socket inode in a hash map built from the selected records only.
 */
#include "procmap.h"
#include "hashmap.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct owner {
	int32_t pid;
	char comm[16];
};

struct procmap {
	char root[PATH_MAX];
	struct hashmap pids;	/* pid -> index into owners */
	struct owner *owners;
	size_t nowners, cap;
};

struct procmap *procmap_new(const char *proc_root)
{
	struct procmap *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	snprintf(pm->root, sizeof(pm->root), "%s", proc_root ? proc_root : "/proc");
	if (hashmap_init(&pm->pids, 64) < 0) {
		free(pm);
		return NULL;
	}
	return pm;
}

void procmap_free(struct procmap *pm)
{
	if (!pm)
		return;
	hashmap_free(&pm->pids);
	free(pm->owners);
	free(pm);
}

uint32_t procmap_parse_link(const char *link, size_t len)
{
	uint64_t v = 0;

	if (len < 10 || memcmp(link, "socket:[", 8) || link[len - 1] != ']')
		return 0;
	for (size_t i = 8; i < len - 1; i++) {
		if (!isdigit((unsigned char)link[i]) || v > UINT32_MAX / 10)
			return 0;
		v = v * 10 + (uint64_t)(link[i] - '0');
	}
	return v > UINT32_MAX ? 0 : (uint32_t)v;
}

static int remember_comm(struct procmap *pm, int32_t pid)
{
	char path[PATH_MAX + 32];
	struct owner o = { .pid = pid };
	uint32_t idx;

	if (hashmap_get(&pm->pids, (uint64_t)pid, &idx))
		return 0;
	snprintf(path, sizeof(path), "%s/%d/comm", pm->root, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, o.comm, sizeof(o.comm) - 1);

		close(fd);
		if (n > 0 && o.comm[n - 1] == '\n')
			n--;
		o.comm[n > 0 ? n : 0] = '\0';
	}
	if (pm->nowners == pm->cap) {
		size_t cap = pm->cap ? pm->cap * 2 : 16;
		struct owner *v = realloc(pm->owners, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pm->owners = v;
		pm->cap = cap;
	}
	/* Keep the pid table at most half full. */
	if ((pm->pids.n + 1) * 2 > pm->pids.mask + 1) {
		struct hashmap bigger;

		if (hashmap_init(&bigger, (pm->pids.mask + 1) * 2) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < pm->nowners; i++)
			hashmap_put(&bigger, (uint64_t)pm->owners[i].pid, (uint32_t)i);
		hashmap_free(&pm->pids);
		pm->pids = bigger;
	}
	pm->owners[pm->nowners] = o;
	return hashmap_put(&pm->pids, (uint64_t)pid, (uint32_t)pm->nowners++);
}

const char *procmap_comm(void *arg, int32_t pid)
{
	struct procmap *pm = arg;
	uint32_t idx;

	if (!pm || !hashmap_get(&pm->pids, (uint64_t)pid, &idx))
		return NULL;
	return pm->owners[idx].comm;
}

static int scan_pid(struct procmap *pm, struct sock_set *set, const struct hashmap *inodes,
		    int32_t pid)
{
	char path[PATH_MAX + 32], link[64];
	struct dirent *de;
	bool owns = false;

	snprintf(path, sizeof(path), "%s/%d/fd", pm->root, pid);
	DIR *dir = opendir(path);

	if (!dir)
		return 0; /* gone, or not ours to read */
	int dfd = dirfd(dir);

	while ((de = readdir(dir))) {
		uint32_t idx;

		if (de->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dfd, de->d_name, link, sizeof(link));

		if (n <= 0 || (size_t)n >= sizeof(link))
			continue;
		uint32_t ino = procmap_parse_link(link, (size_t)n);

		if (!ino || !hashmap_get(inodes, ino, &idx))
			continue;
		struct sock_rec *rec = &set->v[idx];

		if (rec->pid <= 0) {
			rec->pid = pid;
			rec->fd = atoi(de->d_name);
		}
		if (rec->nowners < UINT16_MAX)
			rec->nowners++;
		owns = true;
	}
	closedir(dir);
	return owns ? remember_comm(pm, pid) : 0;
}

int procmap_resolve(struct procmap *pm, struct sock_set *set, const int32_t *pids, int npids)
{
	struct hashmap inodes;
	size_t want = 0;
	int ret;

	for (size_t i = 0; i < set->n; i++)
		want += set->v[i].pid < 0 && set->v[i].inode;
	ret = hashmap_init(&inodes, want);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].pid >= 0)
			continue;
		if (set->v[i].inode)
			hashmap_put(&inodes, set->v[i].inode, (uint32_t)i);
		else
			set->v[i].pid = 0;
	}
	if (!want)
		goto done;
	if (npids >= 0) {
		for (int i = 0; i < npids && ret == 0; i++)
			ret = scan_pid(pm, set, &inodes, pids[i]);
	} else {
		DIR *proc = opendir(pm->root);
		struct dirent *de;

		if (!proc) {
			ret = -errno;
			goto done;
		}
		while (ret == 0 && (de = readdir(proc))) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			ret = scan_pid(pm, set, &inodes, (int32_t)atoi(de->d_name));
		}
		closedir(proc);
	}
done:
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].pid < 0)
			set->v[i].pid = 0;
	hashmap_free(&inodes);
	return ret;
}
