/*
 * The caller's own connection, found from the process tree rather than the environment (sudo's
 * env_reset drops SSH_CONNECTION): the sockets held by this process and its ancestors (the
 * sshd session process above sudo, su, script, a shell) and by the remote entry points of its
 * audit login session (the sshd of the login that started the tmux or screen server that is
 * now the shell's parent). Only those processes' fd tables are read. A process it cannot read
 * is recorded, not skipped: the guard then refuses rather than guesses.
 */
#include "selfguard.h"
#include "procmap.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Ancestry is a handful of processes deep; the bound only stops a cycle in a broken tree. */
#define SELFGUARD_MAX_DEPTH 1024
/* /proc/PID/sessionid of a process outside any audit login session. */
#define SELFGUARD_NO_SESSION 4294967295UL

/* The processes that hold a login's remote end (comm, at most 15 characters). */
static const char *const entry_points[] = { "sshd", "sshd-session", "dropbear", "mosh-server" };

struct scan {
	const char *root;
	struct selfguard *sg;
	uint32_t *inode;	/* found so far; the map is sized once from their number */
	int32_t *pid;
	size_t n, cap;
	bool entry_ancestor;	/* an ancestor is an sshd (or the like) */
};

static int push(struct scan *s, uint32_t inode, int32_t pid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		uint32_t *iv = realloc(s->inode, cap * sizeof(*iv));

		if (!iv)
			return -ENOMEM;
		s->inode = iv;
		int32_t *pv = realloc(s->pid, cap * sizeof(*pv));

		if (!pv)
			return -ENOMEM;
		s->pid = pv;
		s->cap = cap;
	}
	s->inode[s->n] = inode;
	s->pid[s->n++] = pid;
	return 0;
}

/* A small /proc file without its trailing newline; its length or a negative errno. */
static ssize_t read_text(const char *root, int32_t pid, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/%s", root, pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

/* The first thing that could not be read; pid 0 when it is the /proc listing itself. */
static void note_unreadable(struct scan *s, int32_t pid, const char *what, int err)
{
	struct selfguard *sg = s->sg;

	if (sg->bad_err)
		return;
	sg->bad_pid = pid;
	sg->bad_err = err;
	if (pid)
		snprintf(sg->bad_path, sizeof(sg->bad_path), "%s/%d/%s", s->root, pid, what);
	else
		snprintf(sg->bad_path, sizeof(sg->bad_path), "%s", s->root);
	if (!pid || read_text(s->root, pid, "comm", sg->bad_comm, sizeof(sg->bad_comm)) < 0)
		sg->bad_comm[0] = '\0';
}

/* Every socket in pid's fd table. Returns 0 or -ENOMEM; what cannot be read is noted. */
static int add_fds(struct scan *s, int32_t pid)
{
	char path[PATH_MAX], link[64];
	struct dirent *e;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", s->root, pid);
	d = opendir(path);
	if (!d) {
		note_unreadable(s, pid, "fd", -errno);
		return 0;
	}
	while (!ret && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link));

		/* ENOENT: the fd was closed since readdir; it holds nothing now. */
		if (n < 0 && errno != ENOENT)
			note_unreadable(s, pid, "fd", -errno);
		if (n <= 0 || (size_t)n == sizeof(link))
			continue;
		uint32_t inode = procmap_parse_link(link, (size_t)n);

		if (inode)
			ret = push(s, inode, pid);
	}
	closedir(d);
	return ret;
}

static bool is_entry_point(const char *comm)
{
	for (size_t i = 0; i < sizeof(entry_points) / sizeof(entry_points[0]); i++)
		if (!strcmp(comm, entry_points[i]))
			return true;
	return false;
}

/*
 * pid, its parent, and so on, short of pid 1: init is everyone's ancestor, so its sockets say
 * nothing about this caller, and it never holds a login's connection (sshd, dropbear, socat
 * and systemd's Accept=yes all hand each connection to a process of its own). Its fd table is
 * also the one most often closed to us (a container's init, seen from inside: EACCES).
 */
static int walk_ancestors(struct scan *s, int32_t pid)
{
	char stat[1024];

	for (int depth = 0; pid > 1; depth++) {
		if (depth == SELFGUARD_MAX_DEPTH) {
			note_unreadable(s, pid, "stat", -ELOOP);
			return 0;
		}
		int ret = add_fds(s, pid);
		char comm[16];

		if (ret < 0)
			return ret;
		if (read_text(s->root, pid, "comm", comm, sizeof(comm)) > 0 && is_entry_point(comm))
			s->entry_ancestor = true;
		ssize_t n = read_text(s->root, pid, "stat", stat, sizeof(stat));
		int32_t ppid = n > 0 ? procmap_parse_ppid(stat) : -1;

		if (ppid < 0) {
			note_unreadable(s, pid, "stat", n < 0 ? (int)n : -EINVAL);
			return 0;
		}
		pid = ppid;
	}
	return 0;
}

static int read_session(const char *root, int32_t pid, unsigned long *session)
{
	char buf[32], *end;
	ssize_t n = read_text(root, pid, "sessionid", buf, sizeof(buf));

	if (n <= 0)
		return n < 0 ? (int)n : -EINVAL;
	errno = 0;
	*session = strtoul(buf, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/*
 * The entry points of pid's audit login session. Without one (no audit in this kernel, or a
 * process no login started) there is nothing to look for; with an entry point among the
 * ancestors, nothing more: no multiplexer stands between us and the login's sshd (a login
 * from inside tmux opens a session of its own), and the scan costs a read per process
 * (about 10 ms per 2,000 processes here).
 */
static int walk_session(struct scan *s, int32_t self)
{
	unsigned long mine, theirs;
	struct dirent *e;
	char comm[16];
	int ret = 0;
	DIR *d;

	if (s->entry_ancestor || read_session(s->root, self, &mine) < 0 ||
	    mine == SELFGUARD_NO_SESSION)
		return 0;
	d = opendir(s->root);
	if (!d) {
		note_unreadable(s, 0, NULL, -errno);
		return 0;
	}
	while (!ret && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (!isdigit((unsigned char)e->d_name[0]) || *end || pid <= 0 || pid > INT32_MAX)
			continue;
		/* A process that ended meanwhile holds nothing; skip what no longer reads. */
		if (read_session(s->root, (int32_t)pid, &theirs) < 0 || theirs != mine ||
		    read_text(s->root, (int32_t)pid, "comm", comm, sizeof(comm)) <= 0 ||
		    !is_entry_point(comm))
			continue;
		ret = add_fds(s, (int32_t)pid);
	}
	closedir(d);
	return ret;
}

int selfguard_scan(struct selfguard *sg, const char *proc_root, int32_t pid)
{
	struct scan s = { .root = proc_root ? proc_root : "/proc", .sg = sg };
	int ret;

	memset(sg, 0, sizeof(*sg));
	ret = walk_ancestors(&s, pid);
	if (!ret)
		ret = walk_session(&s, pid);
	if (!ret)
		ret = hashmap_init(&sg->inodes, s.n);
	for (size_t i = 0; !ret && i < s.n; i++)
		ret = hashmap_put(&sg->inodes, s.inode[i], (uint32_t)s.pid[i]);
	free(s.inode);
	free(s.pid);
	return ret;
}

bool selfguard_holds(const struct selfguard *sg, uint32_t inode)
{
	return inode && hashmap_get(&sg->inodes, inode, NULL);
}

void selfguard_free(struct selfguard *sg)
{
	if (sg)
		hashmap_free(&sg->inodes);
}
