// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The caller's own connection, found from the process tree rather than the environment (sudo's
 * env_reset drops SSH_CONNECTION): the sockets held by this process and its ancestors (the
 * sshd session process above sudo, su, script, a shell) and by the remote entry points of its
 * audit login session (the sshd of the login that started the tmux or screen server that is
 * now the shell's parent). Only those processes' fd tables are read. A process it cannot read
 * is recorded, not skipped: the guard then refuses rather than guesses.
 *
 * The other end of such a connection may be a socket on this host too (ssh localhost, a
 * container sharing the network namespace), held by no ancestor: so each socket's 4-tuple is
 * learned, for the plan to keep the reversed one as well. It is learned from the socket itself
 * (pidfd_getfd, then getsockname and getpeername): exact, a few syscalls per socket of a
 * handful of processes, and independent of the dump, whose kernel prefilter never hands the
 * server end to user space for a selector like 'dport 22'. It needs ptrace access to the
 * holder (root has it; CAP_SYS_PTRACE for a setcap install) and Linux 5.6; without either, the
 * guard is unsure, as for an fd table it cannot read.
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
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
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
	int *fd;		/* where pid holds it */
	size_t n, cap;
	bool entry_ancestor;	/* an ancestor is an sshd (or the like) */
};

static int push(struct scan *s, uint32_t inode, int32_t pid, int fd)
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
		int *fv = realloc(s->fd, cap * sizeof(*fv));

		if (!fv)
			return -ENOMEM;
		s->fd = fv;
		s->cap = cap;
	}
	s->inode[s->n] = inode;
	s->fd[s->n] = fd;
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
			ret = push(s, inode, pid, atoi(e->d_name));
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

/* Both addresses of a connected inet socket: 1; 0 for any other socket; or a negative errno. */
static int addresses(int sfd, struct sockaddr_storage *local, struct sockaddr_storage *peer)
{
	socklen_t len = sizeof(*local);

	if (getsockname(sfd, (struct sockaddr *)local, &len) < 0)
		return -errno;
	if (local->ss_family != AF_INET && local->ss_family != AF_INET6)
		return 0;
	len = sizeof(*peer);
	if (getpeername(sfd, (struct sockaddr *)peer, &len) < 0)
		return errno == ENOTCONN ? 0 : -errno;
	return 1;
}

/*
 * The real peek: a copy of the fd (pidfd_getfd leaves the holder's untouched; closing ours
 * while the holder keeps its own does nothing to the socket), checked to be the same inode.
 */
static int peek_pidfd(void *arg, int32_t pid, int fd, uint32_t inode,
		      struct sockaddr_storage *local, struct sockaddr_storage *peer)
{
	struct stat st;
	int pfd, sfd, ret;

	(void)arg;
	pfd = pidfd_open(pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : -errno;	/* ended meanwhile: holds nothing now */
	sfd = pidfd_getfd(pfd, fd, 0);
	ret = sfd < 0 ? -errno : 0;
	close(pfd);
	if (ret)
		return ret == -ESRCH || ret == -EBADF ? 0 : ret;	/* ended, fd closed */
	if (fstat(sfd, &st) < 0)
		ret = -errno;
	else if (!S_ISSOCK(st.st_mode) || st.st_ino != inode)
		ret = -ESTALE;	/* the fd was reused since it was listed */
	else
		ret = addresses(sfd, local, peer);
	close(sfd);
	return ret;
}

/* An inet address as 16 bytes (IPv4 as ::ffff:a.b.c.d) and its port; false for the rest. */
static bool canon(const struct sockaddr_storage *ss, uint8_t addr[16], uint16_t *port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		memcpy(addr, mapped, 12);
		memcpy(addr + 12, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

/* The 4-tuple of each connected inet socket found, once per inode. Returns 0 or -ENOMEM. */
static int learn_tuples(struct scan *s, selfguard_peek_fn *peek, void *arg)
{
	struct selfguard *sg = s->sg;
	struct hashmap tried;
	int ret;

	ret = hashmap_init(&tried, s->n);
	if (ret)
		return ret;
	sg->tuples = calloc(s->n ? s->n : 1, sizeof(*sg->tuples));
	if (!sg->tuples)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < s->n; i++) {
		struct sockaddr_storage local = { 0 }, peer = { 0 };
		struct selfguard_tuple *t = &sg->tuples[sg->ntuples];
		char what[32];

		if (hashmap_get(&tried, s->inode[i], NULL))
			continue;
		ret = hashmap_put(&tried, s->inode[i], 1);
		if (ret)
			break;
		int got = peek(arg, s->pid[i], s->fd[i], s->inode[i], &local, &peer);

		if (got == 1 && canon(&local, t->local, &t->lport) &&
		    canon(&peer, t->peer, &t->pport))
			sg->ntuples++;
		if (got < 0 && !sg->bad_err) {
			snprintf(what, sizeof(what), "fd/%d", s->fd[i]);
			note_unreadable(s, s->pid[i], what, got);
			sg->bad_addr = true;
		}
	}
	hashmap_free(&tried);
	return ret;
}

int selfguard_scan(struct selfguard *sg, const char *proc_root, int32_t pid,
		   selfguard_peek_fn *peek, void *peek_arg)
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
	if (!ret)
		ret = learn_tuples(&s, peek ? peek : peek_pidfd, peek_arg);
	free(s.inode);
	free(s.pid);
	free(s.fd);
	return ret;
}

bool selfguard_holds(const struct selfguard *sg, uint32_t inode)
{
	return inode && hashmap_get(&sg->inodes, inode, NULL);
}

void selfguard_free(struct selfguard *sg)
{
	if (!sg)
		return;
	hashmap_free(&sg->inodes);
	free(sg->tuples);
	sg->tuples = NULL;
	sg->ntuples = 0;
}
