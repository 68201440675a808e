// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The audit log's path, opened the way ssh's StrictModes checks a key file: from "/" one
 * component at a time with O_NOFOLLOW, so a symbolic link anywhere on the way (/tmp/dir ->
 * /etc) is refused instead of followed, and nothing another user could swap or write is used.
 */
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Not in every linux/magic.h: from the kernel's fs/configfs/mount.c and fs/fuse/control.c. */
#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif
#ifndef FUSE_CTL_SUPER_MAGIC
#define FUSE_CTL_SUPER_MAGIC 0x65735543
#endif

struct walk {
	const char *path;
	uid_t uid;
	bool may_create;	/* what we create is ours: only if we are root or uid */
	char *why;
	size_t whylen;
};

/* What the root would type to make the file, when we may not. */
#define ROOT_CREATES "; only root may create it (install -m 0600 /dev/null PATH, as root)"
#define ROOT_CREATES_DIR "; only root may create it (install -d -m 0700 PATH, as root)"

/* Fills why with "PATH-UP-TO-END: reason" and returns err. */
static int refuse(const struct walk *w, size_t end, int err, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (!w->whylen)
		return err;
	k = snprintf(w->why, w->whylen, "%.*s: ", end ? (int)end : 1, w->path);
	if (k < 0 || (size_t)k >= w->whylen)
		return err;
	va_start(ap, fmt);
	vsnprintf(w->why + k, w->whylen - (size_t)k, fmt, ap);
	va_end(ap);
	return err;
}

/* Owned by root or the caller, and writable by nobody else (a sticky root directory aside). */
static int check_owner_mode(const struct walk *w, size_t end, const struct stat *st, bool dir)
{
	if (st->st_uid != 0 && st->st_uid != w->uid)
		return refuse(w, end, -EPERM, "owned by uid %u, not by root%s", (unsigned)st->st_uid,
			      w->uid ? " or you" : "");
	if (dir && st->st_uid == 0 && (st->st_mode & S_ISVTX))
		return 0;
	if (st->st_mode & S_IWOTH)
		return refuse(w, end, -EPERM, "writable by others (mode %04o)",
			      (unsigned)(st->st_mode & 07777));
	if (st->st_mode & S_IWGRP)
		return refuse(w, end, -EPERM, "writable by its group (mode %04o)",
			      (unsigned)(st->st_mode & 07777));
	return 0;
}

/*
 * The kernel's pseudo file systems: their files are interfaces, not storage. A line appended to
 * /proc/sys/kernel/hostname renames the host; a directory made in cgroupfs or configfs creates
 * a kernel object. Names as mount(8) shows them.
 */
static const struct {
	unsigned long magic;
	const char *name;
} pseudo_fs[] = {
	{ PROC_SUPER_MAGIC, "proc" },	    { SYSFS_MAGIC, "sysfs" },
	{ CGROUP_SUPER_MAGIC, "cgroup" },   { CGROUP2_SUPER_MAGIC, "cgroup2" },
	{ DEBUGFS_MAGIC, "debugfs" },	    { TRACEFS_MAGIC, "tracefs" },
	{ SECURITYFS_MAGIC, "securityfs" }, { DEVPTS_SUPER_MAGIC, "devpts" },
	{ BPF_FS_MAGIC, "bpf" },	    { PSTOREFS_MAGIC, "pstore" },
	{ CONFIGFS_MAGIC, "configfs" },	    { EFIVARFS_MAGIC, "efivarfs" },
	{ SELINUX_MAGIC, "selinuxfs" },	    { SMACK_MAGIC, "smackfs" },
	{ BINFMTFS_MAGIC, "binfmt_misc" },  { NSFS_MAGIC, "nsfs" },
	{ FUSE_CTL_SUPER_MAGIC, "fusectl" },
};

/* Refuses fd (a directory on the way, or the file) if it is on a pseudo file system. */
static int check_fs(const struct walk *w, size_t end, int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return refuse(w, end, -errno, "%s", strerror(errno));
	for (size_t i = 0; i < sizeof(pseudo_fs) / sizeof(pseudo_fs[0]); i++)
		if ((unsigned long)sfs.f_type == pseudo_fs[i].magic)
			return refuse(w, end, -EINVAL, "a %s file system (the kernel's interface, "
					"not storage for a log)", pseudo_fs[i].name);
	return 0;
}

/* Why name under dirfd could not be opened as what we wanted. */
static int explain(const struct walk *w, size_t end, int dirfd, const char *name, int err,
		   bool want_dir)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return refuse(w, end, -ELOOP, "a symbolic link");
		if (want_dir && !S_ISDIR(st.st_mode))
			return refuse(w, end, -ENOTDIR, "not a directory");
		if (!want_dir && !S_ISREG(st.st_mode))
			return refuse(w, end, -EINVAL, "not a regular file");
	}
	return refuse(w, end, -err, "%s", strerror(err));
}

static int sync_dir(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Opens the directory name under dirfd; creates it (0700) first if create and it is missing. */
static int open_dir(const struct walk *w, size_t end, int dirfd, const char *name, bool create)
{
	struct stat st;
	int fd, ret;

	fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create && !w->may_create)
		return refuse(w, end, -ENOENT, "does not exist" ROOT_CREATES_DIR);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
			return refuse(w, end, -errno, "cannot create: %s", strerror(errno));
		ret = sync_dir(dirfd);
		if (ret < 0)
			return refuse(w, end, ret, "cannot sync its parent: %s", strerror(-ret));
		fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return explain(w, end, dirfd, name, errno, true);
	if (fstat(fd, &st) < 0) {
		ret = refuse(w, end, -errno, "%s", strerror(errno));
	} else {
		/* Every directory, so that nothing is made in one either (a cgroup, say). */
		ret = check_owner_mode(w, end, &st, true);
		if (ret == 0)
			ret = check_fs(w, end, fd);
		if (ret == 0)
			return fd;
	}
	close(fd);
	return ret;
}

/*
 * The file itself. It is looked at before it is opened, so that a FIFO or a device is never
 * opened (a FIFO blocks, a device may act on open); O_NONBLOCK covers a swap in between.
 * Read and write: the writer reads the last byte to see whether a killed run left a torn line.
 */
static int open_file(const struct walk *w, size_t end, int dirfd, const char *name,
		     bool *created)
{
	const int flags = O_RDWR | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	struct stat st;
	int fd = -1, ret;

	*created = false;
	for (int tries = 0; fd < 0 && tries < 3; tries++) {
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode))
				return refuse(w, end, -ELOOP, "a symbolic link");
			if (!S_ISREG(st.st_mode))
				return refuse(w, end, -EINVAL, "not a regular file");
			fd = openat(dirfd, name, flags);
		} else if (errno == ENOENT && !w->may_create) {
			return refuse(w, end, -ENOENT, "does not exist" ROOT_CREATES);
		} else if (errno == ENOENT) {
			fd = openat(dirfd, name, flags | O_CREAT | O_EXCL, 0600);
			*created = fd >= 0;
		} else {
			return refuse(w, end, -errno, "%s", strerror(errno));
		}
		/* Created or removed between the look and the open: look again. */
		if (fd < 0 && errno != EEXIST && errno != ENOENT)
			return explain(w, end, dirfd, name, errno, false);
	}
	if (fd < 0)
		return refuse(w, end, -EAGAIN, "keeps changing; try again");
	if (fstat(fd, &st) < 0) {
		ret = refuse(w, end, -errno, "%s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		ret = refuse(w, end, -EINVAL, "not a regular file");
	} else if ((ret = check_fs(w, end, fd)) < 0) {
		/* A file bind-mounted from one, under a directory that is not. */
	} else if (st.st_nlink != 1) {
		ret = refuse(w, end, -EPERM, "has %lu hard links", (unsigned long)st.st_nlink);
	} else if ((ret = check_owner_mode(w, end, &st, false)) == 0 &&
		   fcntl(fd, F_SETFL, O_APPEND) < 0) {
		ret = refuse(w, end, -errno, "%s", strerror(errno));
	} else if (ret == 0 && *created && (ret = sync_dir(dirfd)) < 0) {
		ret = refuse(w, end, ret, "cannot sync its directory: %s", strerror(-ret));
	}
	if (ret == 0)
		return fd;
	close(fd);
	return ret;
}

int safepath_open_append(const char *path, uid_t uid, bool *created, char *why, size_t whylen)
{
	/*
	 * A file we create is owned by our euid: under file capabilities that is the operator's,
	 * who could then rewrite it, so it is not created unless it would be trusted.
	 */
	uid_t euid = geteuid();
	struct walk w = { path, uid, euid == 0 || euid == uid, why, whylen };
	size_t len = strlen(path), pos = 0;
	char name[NAME_MAX + 1];
	int dirfd, fd, ret;

	if (whylen)
		why[0] = '\0';
	*created = false;
	if (path[0] != '/')
		return refuse(&w, len, -EINVAL, "must be an absolute path");
	if (len >= PATH_MAX)
		return refuse(&w, len, -ENAMETOOLONG, "%s", strerror(ENAMETOOLONG));
	if (path[len - 1] == '/')
		return refuse(&w, len, -EISDIR, "names a directory, not a file");
	dirfd = open_dir(&w, 1, AT_FDCWD, "/", false);
	if (dirfd < 0)
		return dirfd;
	for (;;) {
		while (path[pos] == '/')
			pos++;
		size_t start = pos;

		while (path[pos] && path[pos] != '/')
			pos++;
		size_t n = pos - start;

		if (n > NAME_MAX) {
			ret = refuse(&w, pos, -ENAMETOOLONG, "%s", strerror(ENAMETOOLONG));
			break;
		}
		memcpy(name, path + start, n);
		name[n] = '\0';
		if (!path[pos]) {
			if (!strcmp(name, ".") || !strcmp(name, "..")) {
				ret = refuse(&w, pos, -EISDIR, "names a directory, not a file");
				break;
			}
			ret = open_file(&w, pos, dirfd, name, created);
			break;
		}
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			ret = refuse(&w, pos, -EINVAL, "\"..\" is not allowed in the audit log's path");
			break;
		}
		/* The last directory may be created; the ones above it must exist. */
		size_t rest = pos;

		while (path[rest] == '/')
			rest++;
		bool last_dir = !strchr(path + rest, '/');

		fd = open_dir(&w, pos, dirfd, name, last_dir);
		if (fd < 0) {
			ret = fd;
			break;
		}
		close(dirfd);
		dirfd = fd;
	}
	close(dirfd);
	return ret;
}
