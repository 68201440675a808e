// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Owners of sockets: walks /proc/PID/fd of the named pids, or of every process, looking up
 * each socket inode in a hash map built from the selected records only.
 *
 * Nearly all of the cost is the kernel's (a readlinkat per open fd, ~2.5 us), so with many
 * processes the pid list is shared among worker threads, each taking the next pid from a
 * shared counter. The rare hits update their record under one lock; the owner a record
 * shows is its lowest pid at that pid's lowest fd, whatever order the threads ran in.
 *
 * Every owner is kept, without growing the record: the record keeps the lowest (pid, fd), and
 * only the further holders of a socket held more than once go to one side array, sorted by
 * inode after the scan. A process whose fd table cannot be read is
 * not "no owner" but unknown: it is kept with what can be read of it (comm and stat are
 * world-readable unless hidepid says otherwise), and the selector asks whether it might match.
 *
 * A full scan of the real /proc asks the kernel instead where it can: a BPF task_file
 * iterator (taskfiles.c) writes (tgid, fd, inode) for every socket file of every task, and
 * only the owning pids are then read under /proc, for their comm. At 100,000 sockets that
 * replaces ~200,000 readlinkat calls; and through it no fd table is unreadable.
 */
#include "procmap.h"
#include "hashmap.h"
#include "taskfiles.h"
#include "workers.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fewer processes than this are scanned by the calling thread alone. */
#define PARALLEL_MIN_PIDS 64
/* A prefetch's directory: 2^14 buckets of its sorted array (64 KB). */
#define PREFETCH_DIR_BITS 14
/* Owner predicates whose "might an unreadable process match" answer is remembered. */
#define MEMO_MAX 16
#define CAP_SYS_PTRACE_BIT 19

struct proc_info {
	int32_t pid;
	int32_t ppid;	/* -1: unreadable */
	bool have_comm;
	char comm[16];
	char *exe;	/* NULL: unreadable (kernel thread, gone, not ours) */
};

struct proc_list {
	struct proc_info *v;
	size_t n, cap;
};

/* One holder of a socket held by more than one fd. */
struct shared_fd {
	uint32_t inode;
	int32_t pid;
	int32_t fd;
};

/*
 * The iterator read on a thread of its own while the dump runs (procmap_prefetch): every
 * socket file of every task (in the dump's states: procmap_bpf_states), 12 bytes each
 * (100,000 CLOSE_WAIT: 1.2 MB), kept until the resolve knows which inodes it wants.
 */
struct prefetch {
	pthread_t thread;
	bool started;		/* joined by the resolve, or by procmap_free */
	bool ran;		/* a thread was started (its result stays once joined) */
	struct procmap *load;	/* procmap_prefetch_load: the thread loads this one's iterator */
	void (*loaded)(void *);	/* then calls this (drops its capabilities), before it reads */
	void *loaded_arg;
	procmap_read_fn read_fn;
	void *arg;
	struct shared_fd *v;	/* (inode, tgid, fd), sorted once read */
	size_t n, cap;
	uint32_t *dir;		/* dir[b]: the first of v whose inode is in bucket b or after */
	uint32_t base;		/* the lowest inode; bucket = (inode - base) >> shift */
	unsigned shift;
	int err;		/* the read's, or -ENOMEM */
};

struct procmap {
	char root[PATH_MAX];
	struct hashmap pids;		/* pid -> index into owners */
	struct proc_list owners;	/* processes that hold a selected socket */
	struct proc_list unreadable;	/* processes whose fd table could not be read */
	struct shared_fd *shared;	/* sorted by (inode, pid, fd) once resolved */
	size_t nshared, shared_cap;
	int32_t *scope;			/* the only pids read, when scoped */
	size_t nscope;
	bool scoped;
	bool hidden;	/* hidepid hides processes from us: the process set itself is unknown */
	bool failed;	/* the scan did not complete: every owner is unknown */
	struct {
		const struct sel_node *n;
		enum sel_result r;
	} memo[MEMO_MAX];
	size_t nmemo;
	int workers;
	bool bpf;		/* a full scan may use the BPF iterator (procmap_allow_bpf) */
	int iter;		/* its descriptor once opened (procmap_open_bpf), else -1 */
	int iter2;		/* a second one, of every socket: the second look after a prefetch */
	uint32_t states;	/* iter's walk reports sockets in these states only; 0: all */
	struct prefetch pre;
	const char *source;	/* "bpf" or "proc" once resolved */
};

struct procmap *procmap_new(const char *proc_root)
{
	struct procmap *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	snprintf(pm->root, sizeof(pm->root), "%s", proc_root ? proc_root : "/proc");
	pm->workers = 1;
	pm->iter = -1;
	pm->iter2 = -1;
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

void procmap_allow_bpf(struct procmap *pm, bool allow)
{
	pm->bpf = allow;
}

const char *procmap_source(const struct procmap *pm)
{
	return pm ? pm->source : NULL;
}


static int prefetch_join(struct procmap *pm);

static void proc_list_free(struct proc_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].exe);
	free(l->v);
}

void procmap_free(struct procmap *pm)
{
	if (!pm)
		return;
	prefetch_join(pm);
	free(pm->pre.v);
	free(pm->pre.dir);
	if (pm->iter >= 0)
		close(pm->iter);
	if (pm->iter2 >= 0)
		close(pm->iter2);
	hashmap_free(&pm->pids);
	proc_list_free(&pm->owners);
	proc_list_free(&pm->unreadable);
	free(pm->shared);
	free(pm->scope);
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

/* PF_KTHREAD (include/linux/sched.h): a kernel thread has no fd table. */
#define PF_KTHREAD_FLAG 0x00200000U

bool procmap_stat_fileless(const char *stat)
{
	const char *p = strrchr(stat, ')');
	unsigned flags;
	char state;

	/* "pid (comm) S ppid pgrp session tty_nr tpgid flags ..." */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || (flags & PF_KTHREAD_FLAG);
}

static void read_info(const char *root, struct proc_info *o)
{
	char path[PATH_MAX + 32], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/comm", root, o->pid);
	n = read_small(path, o->comm, sizeof(o->comm));
	o->have_comm = n > 0;
	if (n > 0 && o->comm[n - 1] == '\n')
		o->comm[n - 1] = '\0';
	snprintf(path, sizeof(path), "%s/%d/stat", root, o->pid);
	o->ppid = read_small(path, buf, sizeof(buf)) > 0 ? procmap_parse_ppid(buf) : -1;
	snprintf(path, sizeof(path), "%s/%d/exe", root, o->pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		o->exe = strdup(buf);
	}
}

static int proc_list_push(struct proc_list *l, const struct proc_info *o)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct proc_info *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *o;
	return 0;
}

static int remember_owner(struct procmap *pm, int32_t pid)
{
	struct proc_info o = { .pid = pid, .ppid = -1 };
	uint32_t idx;

	if (hashmap_get(&pm->pids, (uint64_t)pid, &idx))
		return 0;
	read_info(pm->root, &o);
	/* Keep the pid table at most half full. */
	if ((pm->pids.n + 1) * 2 > pm->pids.mask + 1) {
		struct hashmap bigger;

		if (hashmap_init(&bigger, (pm->pids.mask + 1) * 2) < 0) {
			free(o.exe);
			return -ENOMEM;
		}
		for (size_t i = 0; i < pm->owners.n; i++)
			hashmap_put(&bigger, (uint64_t)pm->owners.v[i].pid, (uint32_t)i);
		hashmap_free(&pm->pids);
		pm->pids = bigger;
	}
	if (proc_list_push(&pm->owners, &o) < 0) {
		free(o.exe);
		return -ENOMEM;
	}
	return hashmap_put(&pm->pids, (uint64_t)pid, (uint32_t)(pm->owners.n - 1));
}

const char *procmap_comm(const struct procmap *pm, int32_t pid)
{
	uint32_t idx;

	if (!pm || !hashmap_get(&pm->pids, (uint64_t)pid, &idx) || !pm->owners.v[idx].have_comm)
		return NULL;
	return pm->owners.v[idx].comm;
}

static void info_of(const struct proc_info *o, int32_t fd, struct sel_owner_info *out)
{
	out->pid = o->pid;
	out->fd = fd;
	out->comm = o->have_comm ? o->comm : NULL;
	out->exe = o->exe;
	out->ppid = o->ppid;
}

struct scan_job {
	struct procmap *pm;
	struct sock_set *set;
	const struct hashmap *inodes;
	const int32_t *pids;
	size_t npids;
	size_t next;		/* workers_next */
	pthread_mutex_t lock;	/* the records' owner fields, everything in pm */
};

struct scan_worker {
	struct scan_job *job;
	int err;
};

static int push_shared(struct procmap *pm, uint32_t inode, int32_t pid, int32_t fd)
{
	if (pm->nshared == pm->shared_cap) {
		size_t cap = pm->shared_cap ? pm->shared_cap * 2 : 64;
		struct shared_fd *v = realloc(pm->shared, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pm->shared = v;
		pm->shared_cap = cap;
	}
	pm->shared[pm->nshared++] = (struct shared_fd){ inode, pid, fd };
	return 0;
}

/*
 * Counts one more owner of rec. The record keeps the lowest pid at its lowest fd (the owner
 * shown, whatever order the threads ran in); every other holder goes to the shared array, so
 * a socket held once costs nothing more and one held n times n - 1 entries.
 */
static int add_owner(struct procmap *pm, struct sock_rec *rec, int32_t pid, int32_t fd)
{
	int ret = 0;

	if (!rec->nowners) {
		rec->pid = pid;
		rec->fd = fd;
	} else if (pid < rec->pid || (pid == rec->pid && fd < rec->fd)) {
		ret = push_shared(pm, rec->inode, rec->pid, rec->fd);
		rec->pid = pid;
		rec->fd = fd;
	} else {
		ret = push_shared(pm, rec->inode, pid, fd);
	}
	if (rec->nowners < UINT16_MAX)
		rec->nowners++;
	return ret;
}

/*
 * A process whose fd table we may not read could hold any socket: keep what can be read of
 * it. One that is gone was simply gone, unless it was named (--pid) and hidepid makes a hidden
 * process look gone.
 */
static int note_unreadable(struct scan_job *job, int32_t pid, int err)
{
	struct proc_info o = { .pid = pid, .ppid = -1 };
	int ret;

	char path[PATH_MAX + 32], stat[1024];

	if ((err == ENOENT || err == ESRCH) && !(job->pm->hidden && job->pm->scoped))
		return 0;
	snprintf(path, sizeof(path), "%s/%d/stat", job->pm->root, pid);
	if (read_small(path, stat, sizeof(stat)) > 0 && procmap_stat_fileless(stat))
		return 0;
	read_info(job->pm->root, &o);
	pthread_mutex_lock(&job->lock);
	ret = proc_list_push(&job->pm->unreadable, &o);
	pthread_mutex_unlock(&job->lock);
	if (ret < 0)
		free(o.exe);
	return ret;
}

static int scan_pid(struct scan_job *job, int32_t pid)
{
	char path[PATH_MAX + 32], link[64];
	struct dirent *de;
	bool owns = false, denied = false;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%d/fd", job->pm->root, pid);
	DIR *dir = opendir(path);

	if (!dir)
		return note_unreadable(job, pid, errno);
	int dfd = dirfd(dir);

	while (ret == 0 && (de = readdir(dir))) {
		uint32_t idx;

		if (de->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dfd, de->d_name, link, sizeof(link));

		/*
		 * CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH open the directory of a process we may
		 * not ptrace, but its links still answer EACCES: unreadable, not "holds nothing".
		 */
		if (n < 0 && (errno == EACCES || errno == EPERM)) {
			denied = true;
			break;
		}
		if (n <= 0 || (size_t)n >= sizeof(link))
			continue;
		uint32_t ino = procmap_parse_link(link, (size_t)n);

		if (!ino || !hashmap_get(job->inodes, ino, &idx))
			continue;
		pthread_mutex_lock(&job->lock);
		ret = add_owner(job->pm, &job->set->v[idx], pid, atoi(de->d_name));
		pthread_mutex_unlock(&job->lock);
		owns = true;
	}
	closedir(dir);
	if (denied && ret == 0)
		ret = note_unreadable(job, pid, EACCES);
	if (owns && ret == 0) {
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

/* Reads a whole small /proc file into a fresh buffer; NULL when unreadable. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t size = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &size, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* One super option: hidepid=2/invisible or 4/ptraceable hide processes; gid= exempts a group. */
static bool hidepid_hides(const char *o, long *gid)
{
	if (!strncmp(o, "gid=", 4))
		*gid = strtol(o + 4, NULL, 10);
	return !strcmp(o, "hidepid=2") || !strcmp(o, "hidepid=invisible") ||
	       !strcmp(o, "hidepid=4") || !strcmp(o, "hidepid=ptraceable");
}

bool procmap_parse_hidepid(const char *mountinfo, const char *mountpoint, long *gid)
{
	bool hides = false;

	*gid = -1;
	for (const char *line = mountinfo; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[4096], mnt[PATH_MAX], opts[1024];

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			const char *sep = strstr(buf, " - ");

			/* "id parent maj:min root MOUNTPOINT opts... - proc source SUPEROPTS" */
			if (sep && sscanf(buf, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
			    !strcmp(mnt, mountpoint) &&
			    sscanf(sep, " - proc %*s %1023s", opts) == 1) {
				hides = false;
				*gid = -1;
				for (char *save, *o = strtok_r(opts, ",", &save); o;
				     o = strtok_r(NULL, ",", &save))
					hides |= hidepid_hides(o, gid);
			}
		}
		line = end ? end + 1 : NULL;
	}
	return hides;
}

static bool in_group(long gid)
{
	gid_t groups[256];
	int n;

	if (gid < 0)
		return false;
	if ((long)getegid() == gid)
		return true;
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if ((long)groups[i] == gid)
			return true;
	return false;
}

/*
 * hidepid=invisible shows a process only to those who may ptrace it (CAP_SYS_PTRACE sees all)
 * or who are in its gid= group: for anyone else, the set of processes itself is unknown.
 */
static bool detect_hidden(const struct procmap *pm)
{
	char path[PATH_MAX + 32];
	char *text;
	long gid;
	bool hides;

	snprintf(path, sizeof(path), "%s/self/mountinfo", pm->root);
	text = read_text(path);
	hides = text && procmap_parse_hidepid(text, pm->root, &gid);
	free(text);
	if (!hides || in_group(gid))
		return false;
	snprintf(path, sizeof(path), "%s/self/status", pm->root);
	text = read_text(path);
	const char *cap = !text			     ? NULL
			  : !strncmp(text, "CapEff:", 7) ? text
							 : strstr(text, "\nCapEff:");

	if (cap && *cap == '\n')
		cap++;
	bool ptrace = cap && (strtoull(cap + 7, NULL, 16) >> CAP_SYS_PTRACE_BIT) & 1;

	free(text);
	return !ptrace;
}

#ifdef SOCKREAP_TESTING
/*
 * The test build counts the sort's comparisons (test_procmap: it stays n log n for one socket
 * of 100,000 holders, asserted without a clock); the installed binary has no counter.
 */
static _Atomic size_t sort_comparisons;

size_t procmap_test_sort_comparisons(void)
{
	return sort_comparisons;
}
#define COUNT_COMPARISON() (sort_comparisons++)
#else
#define COUNT_COMPARISON() ((void)0)
#endif

static int cmp_shared(const void *a, const void *b)
{
	const struct shared_fd *x = a, *y = b;

	COUNT_COMPARISON();
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* What is left small (32 or fewer): by cmp_shared, in place. */
static void insertion_sort(struct shared_fd *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct shared_fd t = v[i];
		size_t k = i;

		for (; k > 0 && cmp_shared(&v[k - 1], &t) > 0; k--)
			v[k] = v[k - 1];
		v[k] = t;
	}
}

static void sift_down(struct shared_fd *v, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && cmp_shared(&v[child], &v[child + 1]) < 0)
			child++;
		if (cmp_shared(&v[root], &v[child]) >= 0)
			return;
		struct shared_fd t = v[root];

		v[root] = v[child];
		v[child] = t;
	}
}

/*
 * An inode's owners, in place: insertion sort while few, heapsort beyond. One socket may
 * have 100,000 holders (forked workers, or one process's dup2 onto every fd), and the
 * radix pass leaves them in any order: insertion sort was 3 s of CPU for 100,000.
 */
static void sort_ties(struct shared_fd *v, size_t n)
{
	if (n <= 32) {
		insertion_sort(v, n);
		return;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		struct shared_fd t = v[0];

		v[0] = v[end];
		v[end] = t;
		sift_down(v, 0, end);
	}
}

/*
 * One byte of (inode - base), from shift down: the records are dealt into their 256 buckets
 * in place (each moved once, along its cycle), then each bucket is sorted on the next byte.
 */
static void radix_by_inode(struct shared_fd *v, size_t n, uint32_t base, int shift)
{
	size_t count[256] = { 0 }, next[256], end[256], at = 0;

	if (n <= 32) {
		insertion_sort(v, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		count[((v[i].inode - base) >> shift) & 0xff]++;
	for (int b = 0; b < 256; b++) {
		next[b] = at;
		at += count[b];
		end[b] = at;
	}
	for (unsigned b = 0; b < 256; b++)
		while (next[b] < end[b]) {
			struct shared_fd t = v[next[b]];
			unsigned d = ((t.inode - base) >> shift) & 0xff;

			while (d != b) {
				struct shared_fd u = v[next[d]];

				v[next[d]++] = t;
				t = u;
				d = ((t.inode - base) >> shift) & 0xff;
			}
			v[next[b]++] = t;
		}
	for (size_t b = 0, from = 0; b < 256; from = end[b], b++) {
		size_t m = end[b] - from;

		if (m < 2)
			continue;
		if (shift)
			radix_by_inode(v + from, m, base, shift - 8);
		else
			sort_ties(v + from, m); /* one inode: its owners by pid, then fd */
	}
}

/*
 * By inode, then pid, then fd; in place (glibc's qsort sorts a copy, which at 100,000 forked
 * holders is 1.2 MB more at the run's peak). A radix sort on the bytes the inodes differ in:
 * the walk's 100,000 records took a heapsort ~7 ms on the walk's thread, which the kill waits
 * for; this takes ~1.
 */
static void sort_shared(struct shared_fd *v, size_t n)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	int shift = 0;

	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++) {
		lo = v[i].inode < lo ? v[i].inode : lo;
		hi = v[i].inode > hi ? v[i].inode : hi;
	}
	while (shift < 24 && (hi - lo) >> (shift + 8))
		shift += 8;
	radix_by_inode(v, n, lo, shift);
}

static int cmp_pid(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/*
 * A task other than its process's leader reports files only when its table is not the
 * leader's (a thread that unshared it, or one whose leader has exited): those fds may repeat
 * what another task of the process reported. Rare, so looked for the slow way.
 */
static bool known_owner(const struct procmap *pm, const struct sock_rec *rec, int32_t pid,
			int32_t fd)
{
	if (!rec->nowners)
		return false;
	if (rec->pid == pid && rec->fd == fd)
		return true;
	for (size_t i = 0; i < pm->nshared; i++)
		if (pm->shared[i].inode == rec->inode && pm->shared[i].pid == pid &&
		    pm->shared[i].fd == fd)
			return true;
	return false;
}

/* One iterator record: an owner, when it is a selected socket. */
static int feed_record(struct scan_job *job, const struct taskfiles_rec *t)
{
	struct sock_rec *rec;
	uint32_t idx;
	int ret;

	if (!t->inode || t->inode > UINT32_MAX || t->tgid <= 0 || t->fd < 0 ||
	    !hashmap_get(job->inodes, t->inode, &idx))
		return 0;
	rec = &job->set->v[idx];
	if (t->tid != t->tgid && known_owner(job->pm, rec, t->tgid, t->fd))
		return 0;
	ret = add_owner(job->pm, rec, t->tgid, t->fd);
	return ret < 0 ? ret : remember_owner(job->pm, t->tgid);
}

/*
 * Every record that read yields, to fn, until it reports the end (0). A read may end inside a
 * record: the part stays at the front of the buffer for the next one.
 */
static int each_record(procmap_read_fn read_fn, void *arg,
		       int (*fn)(void *ctx, const struct taskfiles_rec *t), void *ctx)
{
	/*
	 * 192 KB: above glibc's mmap threshold, so that its memory goes back to the system when
	 * freed, also on the prefetch's thread, whose arena would keep a smaller block.
	 */
	enum { BUF_RECS = 8192 };
	struct taskfiles_rec *buf = malloc(BUF_RECS * sizeof(*buf));
	size_t have = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read_fn(arg, (char *)buf + have, BUF_RECS * sizeof(*buf) - have);
		size_t whole;

		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (n == 0) {
			ret = have ? -EPROTO : 0; /* a record cut short */
			break;
		}
		have += (size_t)n;
		whole = have / sizeof(*buf);
		for (size_t i = 0; i < whole && ret == 0; i++)
			ret = fn(ctx, &buf[i]);
		if (ret < 0)
			break;
		have -= whole * sizeof(*buf);
		memmove(buf, buf + whole, have);
	}
	free(buf);
	return ret;
}

static int feed_one(void *ctx, const struct taskfiles_rec *t)
{
	return feed_record(ctx, t);
}

static int feed_records(struct scan_job *job, procmap_read_fn read_fn, void *arg)
{
	return each_record(read_fn, arg, feed_one, job);
}

/* Keeps what feed_record could use: a socket inode sock_diag can report, a real owner. */
static int keep_record(void *ctx, const struct taskfiles_rec *t)
{
	struct prefetch *p = ctx;

	if (!t->inode || t->inode > UINT32_MAX || t->tgid <= 0 || t->fd < 0)
		return 0;
	if (p->n == p->cap) {
		/* From 192 KB, in mmap from the start (see each_record). */
		size_t cap = p->cap ? p->cap * 2 : 16384;
		struct shared_fd *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct shared_fd){ (uint32_t)t->inode, t->tgid, t->fd };
	return 0;
}

/*
 * A directory of the sorted array by the inode's high bits, built here, off the resolve's
 * path: a lookup then searches a bucket of a dozen records, not 200,000 (18 probes across
 * 2.4 MB, most of them cache misses). Without it (no memory) the whole array is searched.
 */
static void index_buckets(struct prefetch *p)
{
	uint32_t span = p->v[p->n - 1].inode - p->v[0].inode;
	size_t b = 0;

	p->base = p->v[0].inode;
	p->shift = 0;
	while (p->shift < 32 && (span >> p->shift) >= (1U << PREFETCH_DIR_BITS))
		p->shift++;
	p->dir = malloc(((1U << PREFETCH_DIR_BITS) + 1) * sizeof(*p->dir));
	if (!p->dir)
		return;
	for (size_t i = 0; i < p->n; i++)
		for (size_t in = (p->v[i].inode - p->base) >> p->shift; b <= in; b++)
			p->dir[b] = (uint32_t)i;
	for (; b <= 1U << PREFETCH_DIR_BITS; b++)
		p->dir[b] = (uint32_t)p->n;
}

/*
 * Reads and sorts by inode on this thread: the resolve then looks each selected socket up
 * in the sorted array, with no hash map of the selection beside it, and the sort is in place
 * (the peak stays where it was without a prefetch).
 */
static void *prefetch_main(void *arg)
{
	struct prefetch *p = arg;

	if (p->load) {
		bool ok = procmap_open_bpf(p->load);

		if (p->loaded)
			p->loaded(p->loaded_arg);
		if (!ok) {
			p->err = -ENOTSUP;
			return NULL;
		}
		p->arg = &p->load->iter;
	}
	p->err = each_record(p->read_fn, p->arg, keep_record, p);
	if (!p->err)
		sort_shared(p->v, p->n);
	if (!p->err && p->n)
		index_buckets(p);
	return NULL;
}

int procmap_prefetch_records(struct procmap *pm, procmap_read_fn read_fn, void *arg)
{
	int ret;

	if (pm->pre.started)
		return -EALREADY;
	pm->pre.read_fn = read_fn;
	pm->pre.arg = arg;
	ret = pthread_create(&pm->pre.thread, NULL, prefetch_main, &pm->pre);
	if (ret)
		return -ret;
	pm->pre.started = true;
	pm->pre.ran = true;
	return 0;
}

/* The prefetch's result once its thread is done (0 when none ran); joined once. */
static int prefetch_join(struct procmap *pm)
{
	if (pm->pre.started) {
		pthread_join(pm->pre.thread, NULL);
		pm->pre.started = false;
	}
	return pm->pre.err;
}

/* The first prefetched record of inode, or where it would be. */
static size_t first_of(const struct prefetch *p, uint32_t inode)
{
	size_t lo = 0, hi = p->n;

	if (p->dir && inode < p->base)
		return 0;
	if (p->dir && ((inode - p->base) >> p->shift) >> PREFETCH_DIR_BITS == 0) {
		size_t b = (inode - p->base) >> p->shift;

		lo = p->dir[b];
		hi = p->dir[b + 1];
	} else if (p->dir) {
		return p->n;
	}

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->v[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The prefetched owners of every record still to be resolved (pid -1, an inode), then a
 * second look for those left without one: a socket with a file (an inode) opened after the
 * walk passed its process, or in another state then than the walk reported, while the dump
 * ran. A socket with a file and no fd is rare (in flight in SCM_RIGHTS), so the second walk
 * (reread, of every socket) is read only when one is seen, and only for those. A failed
 * prefetch or second walk leaves every owner unknown (finish), never "none".
 */
static int feed_prefetched(struct scan_job *job, procmap_read_fn reread, void *rearg)
{
	struct procmap *pm = job->pm;
	struct prefetch *p = &pm->pre;
	struct sock_set *set = job->set;
	struct hashmap late;
	size_t n = 0;
	int ret = prefetch_join(pm);

	/*
	 * collect_inodes' work is done here, in the same pass (one pass over 100,000 records
	 * is ~4 ms of the serial time before a kill): a record still to be resolved starts with
	 * no owner, and one without an inode has none.
	 */
	for (size_t i = 0; i < set->n; i++) {
		struct sock_rec *rec = &set->v[i];

		if (rec->pid >= 0)
			continue;
		rec->nowners = 0;
		if (!rec->inode)
			rec->pid = 0;
		if (rec->pid >= 0 || ret < 0)
			continue;
		for (size_t k = first_of(p, rec->inode); ret == 0 && k < p->n &&
							    p->v[k].inode == rec->inode; k++) {
			/*
			 * A task other than the leader, with a table of its own, may report an
			 * fd its process's other tasks report too: one owner, not two.
			 */
			if (k && p->v[k - 1].inode == p->v[k].inode &&
			    p->v[k - 1].pid == p->v[k].pid && p->v[k - 1].fd == p->v[k].fd)
				continue;
			ret = add_owner(pm, rec, p->v[k].pid, p->v[k].fd);
			if (ret == 0)
				ret = remember_owner(pm, p->v[k].pid);
		}
		n += rec->pid < 0;
	}
	free(p->v);
	free(p->dir);
	p->v = NULL;
	p->dir = NULL;
	p->n = p->cap = 0;
	if (ret < 0 || !n)
		return ret;
	ret = hashmap_init(&late, n);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].pid < 0 && set->v[i].inode)
			hashmap_put(&late, set->v[i].inode, (uint32_t)i);
	job->inodes = &late;
	ret = reread ? feed_records(job, reread, rearg) : -ENODATA;
	job->inodes = NULL;
	hashmap_free(&late);
	return ret;
}

static ssize_t read_fd(void *arg, void *buf, size_t size)
{
	ssize_t n;

	do
		n = read(*(int *)arg, buf, size);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/*
 * The iterator reports pids as the initial pid namespace numbers them, which are the pids
 * our /proc shows only when we live there; in a container's pid namespace, /proc is read.
 */
static bool in_initial_pidns(const char *root)
{
	char path[PATH_MAX + 32];
	char *text, *line;
	bool initial = false;

	snprintf(path, sizeof(path), "%s/self/status", root);
	text = read_text(path);
	line = text ? strstr(text, "\nNSpid:") : NULL;
	if (line) {
		char *end = strchr(line + 1, '\n');
		int fields = 0;

		if (end)
			*end = '\0';
		for (char *save, *w = strtok_r(line + 7, " \t", &save); w;
		     w = strtok_r(NULL, " \t", &save))
			fields++;
		initial = fields == 1;
	}
	free(text);
	return initial;
}

/*
 * Whether the BPF iterator may be tried: SOCKREAP_OWNERS=proc says no (the tests compare the
 * two; secure_getenv, so a setcap'd run ignores it), and so does a pid namespace of our own.
 */
static bool bpf_permitted(char *why, size_t size)
{
	const char *env = secure_getenv("SOCKREAP_OWNERS");

	if (env && !strcmp(env, "proc")) {
		snprintf(why, size, "SOCKREAP_OWNERS=proc");
		return false;
	}
	if (!in_initial_pidns("/proc")) {
		snprintf(why, size, "not in the initial pid namespace");
		return false;
	}
	return true;
}

bool procmap_bpf_usable(char *why, size_t size)
{
	int fd;

	if (!bpf_permitted(why, size))
		return false;
	fd = taskfiles_open(why, size);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool procmap_open_bpf(struct procmap *pm)
{
	char why[160]; /* doctor and --explain say why; a run says only which source it used */

	if (pm->iter >= 0)
		return true;
	if (!pm->bpf || strcmp(pm->root, "/proc")) /* a fixture holds none of the kernel's tasks */
		return false;
	if (!bpf_permitted(why, sizeof(why)))
		return false;
	pm->iter = taskfiles_open_pair(pm->states, &pm->iter2, why, sizeof(why));
	return pm->iter >= 0;
}

void procmap_bpf_states(struct procmap *pm, uint32_t states)
{
	pm->states = states;
}

int procmap_prefetch(struct procmap *pm)
{
	if (pm->iter < 0 || pm->iter2 < 0)
		return -EBADF;
	return procmap_prefetch_records(pm, read_fd, &pm->iter);
}

int procmap_prefetch_load(struct procmap *pm, void (*loaded)(void *), void *arg)
{
	int ret;

	if (pm->pre.started || pm->iter >= 0)
		return -EALREADY;
	pm->pre.load = pm;
	pm->pre.loaded = loaded;
	pm->pre.loaded_arg = arg;
	ret = procmap_prefetch_records(pm, read_fd, NULL);
	if (ret < 0)
		pm->pre.load = NULL;
	return ret;
}

/*
 * A walk whose thread could not load the iterator (procmap_prefetch_load) found nothing: the
 * resolve scans /proc, by the inodes it wants, and does not try to load it again here (this
 * thread no longer holds CAP_BPF). Joins the thread to know.
 */
static bool load_failed(struct procmap *pm)
{
	if (!pm->pre.ran || !pm->pre.load)
		return false;
	prefetch_join(pm);
	return pm->iter < 0;
}

/*
 * The BPF iterator for a full scan of the real /proc, when allowed and it loads: 1 when it
 * answered (ret gets its result), 0 when /proc must be scanned instead.
 * An iterator is read once: it is closed after.
 */
static int try_bpf(struct scan_job *job, int *ret)
{
	struct procmap *pm = job->pm;

	if (load_failed(pm)) {
		return 0;
	} else if (pm->pre.ran) {
		*ret = feed_prefetched(job, read_fd, &pm->iter2);
	} else {
		if (!procmap_open_bpf(pm))
			return 0;
		/* Read after the dump, a walk by state could miss a socket that changed since. */
		*ret = feed_records(job, read_fd, pm->states ? &pm->iter2 : &pm->iter);
	}
	close(pm->iter);
	pm->iter = -1;
	if (pm->iter2 >= 0)
		close(pm->iter2);
	pm->iter2 = -1;
	return 1;
}

static int set_scope(struct procmap *pm, const int32_t *pids, int npids)
{
	pm->scoped = npids >= 0;
	if (npids <= 0)
		return 0;
	pm->scope = malloc((size_t)npids * sizeof(*pm->scope));
	if (!pm->scope)
		return -ENOMEM;
	memcpy(pm->scope, pids, (size_t)npids * sizeof(*pm->scope));
	qsort(pm->scope, (size_t)npids, sizeof(*pm->scope), cmp_pid);
	pm->nscope = (size_t)npids;
	return 0;
}

/*
 * Every record in set whose owner is still to be found, by inode, into inodes (returns how
 * many, or a negative errno); the others without an inode have none.
 */
static int collect_inodes(struct sock_set *set, struct hashmap *inodes)
{
	size_t want = 0;
	int ret;

	for (size_t i = 0; i < set->n; i++)
		want += set->v[i].pid < 0 && set->v[i].inode;
	ret = hashmap_init(inodes, want);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].pid >= 0)
			continue;
		set->v[i].nowners = 0;
		if (!set->v[i].inode)
			set->v[i].pid = 0;
		else
			hashmap_put(inodes, set->v[i].inode, (uint32_t)i);
	}
	return want > INT32_MAX ? INT32_MAX : (int)want;
}

/*
 * What every resolve ends with: records left unowned have none; ret < 0 makes every owner
 * unknown.
 */
static int finish(struct procmap *pm, struct sock_set *set, struct hashmap *inodes, int ret,
		  const char *source)
{
	pm->failed = ret < 0;
	pm->source = source;
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].pid < 0)
			set->v[i].pid = 0;
	hashmap_free(inodes);
	return ret < 0 ? ret : 0;
}

int procmap_resolve(struct procmap *pm, struct sock_set *set, const int32_t *pids, int npids)
{
	struct scan_job job = { .pm = pm, .set = set, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct hashmap inodes = { 0 };
	const char *source = "proc";
	int32_t *all = NULL;
	int ret;

	pm->hidden = detect_hidden(pm);
	ret = set_scope(pm, pids, npids);
	if (ret < 0)
		goto done;
	/* A prefetch's lookup (feed_prefetched) prepares the records itself, in its one pass. */
	if (npids < 0 && pm->pre.ran && !load_failed(pm))
		ret = set->n > 0;
	else
		ret = collect_inodes(set, &inodes);
	if (ret <= 0)
		goto done;
	job.inodes = &inodes;
	if (npids >= 0) {
		job.pids = pids;
		job.npids = (size_t)npids;
	} else if (try_bpf(&job, &ret)) {
		/* The kernel's own task list: hidepid hides nothing from it. */
		pm->hidden = false;
		source = "bpf";
		sort_shared(pm->shared, pm->nshared);
		goto done;
	} else {
		ret = list_pids(pm->root, &all, &job.npids);
		if (ret < 0)
			goto done;
		job.pids = all;
	}
	ret = scan_all(&job, pm->workers);
	sort_shared(pm->shared, pm->nshared);
done:
	free(all);
	return finish(pm, set, &inodes, ret, source);
}

int procmap_resolve_records(struct procmap *pm, struct sock_set *set, procmap_read_fn read_fn,
			    void *arg)
{
	struct scan_job job = { .pm = pm, .set = set, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct hashmap inodes = { 0 };
	int ret;

	ret = pm->pre.started ? set->n > 0 : collect_inodes(set, &inodes);
	if (ret > 0) {
		job.inodes = &inodes;
		ret = pm->pre.started ? feed_prefetched(&job, read_fn, arg)
				      : feed_records(&job, read_fn, arg);
		sort_shared(pm->shared, pm->nshared);
	}
	return finish(pm, set, &inodes, ret, "bpf");
}

/* The first shared entry of inode, or nshared. */
static size_t first_shared(const struct procmap *pm, uint32_t inode)
{
	size_t lo = 0, hi = pm->nshared;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->shared[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pm->nshared && pm->shared[lo].inode == inode ? lo : pm->nshared;
}

static bool owner_at(void *arg, const struct sock_rec *rec, size_t i, struct sel_owner_info *out)
{
	const struct procmap *pm = arg;
	int32_t pid = rec->pid, fd = rec->fd;
	uint32_t idx;

	if (rec->pid <= 0)
		return false;
	/* The record holds the lowest; the others follow it in the shared array, in order. */
	if (i) {
		size_t k = first_shared(pm, rec->inode) + i - 1;

		if (k >= pm->nshared || pm->shared[k].inode != rec->inode)
			return false;
		pid = pm->shared[k].pid;
		fd = pm->shared[k].fd;
	}
	if (hashmap_get(&pm->pids, (uint64_t)pid, &idx)) {
		info_of(&pm->owners.v[idx], fd, out);
	} else {
		struct proc_info none = { .pid = pid, .ppid = -1 };

		info_of(&none, fd, out);
	}
	return true;
}

static bool in_scope(const struct procmap *pm, int32_t pid)
{
	return bsearch(&pid, pm->scope, pm->nscope, sizeof(*pm->scope), cmp_pid) != NULL;
}

/* Whether some process we could not read, or could not even see, might satisfy n. */
static enum sel_result may_match_unseen(const struct procmap *pm, const struct sel_node *n)
{
	struct sel_owner_info oi;

	if (pm->failed)
		return SEL_UNKNOWN;
	for (size_t i = 0; i < pm->unreadable.n; i++) {
		info_of(&pm->unreadable.v[i], -1, &oi);
		if (selector_owner_match(n, &oi) != SEL_NO)
			return SEL_UNKNOWN;
	}
	/* Named pids were each read, or noted as unreadable just above. */
	if (pm->scoped && n->kind == SEL_PID) {
		for (size_t i = 0; i < n->u.list.n; i++)
			if (!in_scope(pm, n->u.list.v[i]))
				return SEL_UNKNOWN;
		return SEL_NO;
	}
	return pm->hidden || pm->scoped ? SEL_UNKNOWN : SEL_NO;
}

/* Independent of the socket: asked once per predicate, remembered. */
static enum sel_result unknown_owner(void *arg, const struct sock_rec *rec,
				     const struct sel_node *n)
{
	struct procmap *pm = arg;
	enum sel_result r;

	if (!rec->inode)
		return SEL_NO; /* no file: nobody can hold it */
	for (size_t i = 0; i < pm->nmemo; i++)
		if (pm->memo[i].n == n)
			return pm->memo[i].r;
	r = may_match_unseen(pm, n);
	if (pm->nmemo < MEMO_MAX) {
		pm->memo[pm->nmemo].n = n;
		pm->memo[pm->nmemo++].r = r;
	}
	return r;
}

const char *procmap_unknown_reason(const struct procmap *pm)
{
	if (pm->failed)
		return "unreadable";
	if (pm->hidden)
		return "hidepid";
	if (pm->unreadable.n)
		return "unreadable";
	if (pm->scoped)
		return "not-looked-up";
	return NULL;
}

static const char *owners_incomplete(void *arg, const struct sock_rec *rec)
{
	if (selector_ownerless(rec) || !rec->inode)
		return NULL;
	return procmap_unknown_reason(arg);
}

void procmap_owner_ctx(struct procmap *pm, struct sel_owner_ctx *ctx)
{
	*ctx = (struct sel_owner_ctx){ owner_at, unknown_owner, owners_incomplete, pm, NULL, NULL };
}
