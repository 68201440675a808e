/*
 * Owners of sockets: walks /proc/PID/fd of the named pids, or of every process, looking up
 * each socket inode in a hash map built from the selected records only.
 *
 * Nearly all of the cost is the kernel's (a readlinkat per open fd, ~2.5 us), so with many
 * processes the pid list is shared among worker threads, each taking the next pid from a
 * shared counter. The rare hits update their record under one lock; the owner a record
 * shows is its lowest pid at that pid's lowest fd, whatever order the threads ran in.
 */
#include "procmap.h"
#include "hashmap.h"
#include "workers.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fewer processes than this are scanned by the calling thread alone. */
#define PARALLEL_MIN_PIDS 64

struct owner {
	int32_t pid;
	int32_t ppid;	/* -1: unreadable */
	char comm[16];
	char *exe;	/* NULL: unreadable (kernel thread, gone, not ours) */
};

struct procmap {
	char root[PATH_MAX];
	struct hashmap pids;	/* pid -> index into owners */
	struct owner *owners;
	size_t nowners, cap;
	int workers;
};

struct procmap *procmap_new(const char *proc_root)
{
	struct procmap *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	snprintf(pm->root, sizeof(pm->root), "%s", proc_root ? proc_root : "/proc");
	pm->workers = 1;
	if (hashmap_init(&pm->pids, 64) < 0) {
		free(pm);
		return NULL;
	}
	return pm;
}

void procmap_workers(struct procmap *pm, int n)
{
	pm->workers = n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX : n;
}

void procmap_free(struct procmap *pm)
{
	if (!pm)
		return;
	hashmap_free(&pm->pids);
	for (size_t i = 0; i < pm->nowners; i++)
		free(pm->owners[i].exe);
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

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* "pid (comm) S ppid ...": the comm may hold anything, so read after its last ')'. */
int32_t procmap_parse_ppid(const char *stat)
{
	const char *p = strrchr(stat, ')');
	int ppid;
	char state;

	if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2 || ppid < 0)
		return -1;
	return ppid;
}

static void read_owner(const struct procmap *pm, struct owner *o)
{
	char path[PATH_MAX + 32], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/comm", pm->root, o->pid);
	n = read_small(path, o->comm, sizeof(o->comm));
	if (n > 0 && o->comm[n - 1] == '\n')
		o->comm[n - 1] = '\0';
	snprintf(path, sizeof(path), "%s/%d/stat", pm->root, o->pid);
	o->ppid = read_small(path, buf, sizeof(buf)) > 0 ? procmap_parse_ppid(buf) : -1;
	snprintf(path, sizeof(path), "%s/%d/exe", pm->root, o->pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		o->exe = strdup(buf);
	}
}

static int remember_owner(struct procmap *pm, int32_t pid)
{
	struct owner o = { .pid = pid, .ppid = -1 };
	uint32_t idx;

	if (hashmap_get(&pm->pids, (uint64_t)pid, &idx))
		return 0;
	read_owner(pm, &o);
	if (pm->nowners == pm->cap) {
		size_t cap = pm->cap ? pm->cap * 2 : 16;
		struct owner *v = realloc(pm->owners, cap * sizeof(*v));

		if (!v) {
			free(o.exe);
			return -ENOMEM;
		}
		pm->owners = v;
		pm->cap = cap;
	}
	/* Keep the pid table at most half full. */
	if ((pm->pids.n + 1) * 2 > pm->pids.mask + 1) {
		struct hashmap bigger;

		if (hashmap_init(&bigger, (pm->pids.mask + 1) * 2) < 0) {
			free(o.exe);
			return -ENOMEM;
		}
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

bool procmap_lookup(void *arg, int32_t pid, struct sel_owner_info *out)
{
	struct procmap *pm = arg;
	uint32_t idx;

	if (!pm || !hashmap_get(&pm->pids, (uint64_t)pid, &idx))
		return false;
	out->comm = pm->owners[idx].comm;
	out->exe = pm->owners[idx].exe;
	out->ppid = pm->owners[idx].ppid;
	return true;
}

struct scan_job {
	struct procmap *pm;
	struct sock_set *set;
	const struct hashmap *inodes;
	const int32_t *pids;
	size_t npids;
	size_t next;		/* workers_next */
	pthread_mutex_t lock;	/* the records' owner fields, pm's owner table */
};

struct scan_worker {
	struct scan_job *job;
	int err;
};

/* Counts one more owner of rec; the owner shown is the lowest pid, at its lowest fd. */
static void add_owner(struct sock_rec *rec, int32_t pid, int32_t fd)
{
	if (rec->pid <= 0 || pid < rec->pid || (pid == rec->pid && fd < rec->fd)) {
		rec->pid = pid;
		rec->fd = fd;
	}
	if (rec->nowners < UINT16_MAX)
		rec->nowners++;
}

static int scan_pid(struct scan_job *job, int32_t pid)
{
	char path[PATH_MAX + 32], link[64];
	struct dirent *de;
	bool owns = false;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%d/fd", job->pm->root, pid);
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

		if (!ino || !hashmap_get(job->inodes, ino, &idx))
			continue;
		pthread_mutex_lock(&job->lock);
		add_owner(&job->set->v[idx], pid, atoi(de->d_name));
		pthread_mutex_unlock(&job->lock);
		owns = true;
	}
	closedir(dir);
	if (owns) {
		pthread_mutex_lock(&job->lock);
		ret = remember_owner(job->pm, pid);
		pthread_mutex_unlock(&job->lock);
	}
	return ret;
}

static void *scan_main(void *arg)
{
	struct scan_worker *w = arg;
	struct scan_job *job = w->job;
	size_t i;

	while (!w->err && (i = workers_next(&job->next)) < job->npids)
		w->err = scan_pid(job, job->pids[i]);
	return NULL;
}

/* Every numeric entry of the proc root. */
static int list_pids(const char *root, int32_t **out, size_t *n)
{
	DIR *proc = opendir(root);
	int32_t *v = NULL;
	size_t cap = 0;
	struct dirent *de;

	*n = 0;
	if (!proc)
		return -errno;
	while ((de = readdir(proc))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (*n == cap) {
			int32_t *bigger;

			cap = cap ? cap * 2 : 1024;
			bigger = realloc(v, cap * sizeof(*v));
			if (!bigger) {
				free(v);
				closedir(proc);
				return -ENOMEM;
			}
			v = bigger;
		}
		v[(*n)++] = (int32_t)atoi(de->d_name);
	}
	closedir(proc);
	*out = v;
	return 0;
}

/* Scans every pid of job, sharing them among up to nworkers threads. */
static int scan_all(struct scan_job *job, int nworkers)
{
	struct scan_worker w[WORKERS_MAX];
	int ret = 0;

	if (job->npids < PARALLEL_MIN_PIDS)
		nworkers = 1;
	for (int k = 0; k < WORKERS_MAX; k++)
		w[k] = (struct scan_worker){ .job = job };
	workers_run(scan_main, w, sizeof(w[0]), nworkers);
	for (int k = 0; k < WORKERS_MAX; k++) /* a helper that never started has err 0 */
		if (w[k].err && !ret)
			ret = w[k].err;
	return ret;
}

int procmap_resolve(struct procmap *pm, struct sock_set *set, const int32_t *pids, int npids)
{
	struct scan_job job = { .pm = pm, .set = set, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct hashmap inodes;
	int32_t *all = NULL;
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
	job.inodes = &inodes;
	if (npids >= 0) {
		job.pids = pids;
		job.npids = (size_t)npids;
	} else {
		ret = list_pids(pm->root, &all, &job.npids);
		if (ret < 0)
			goto done;
		job.pids = all;
	}
	ret = scan_all(&job, pm->workers);
done:
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].pid < 0)
			set->v[i].pid = 0;
	free(all);
	hashmap_free(&inodes);
	return ret;
}
