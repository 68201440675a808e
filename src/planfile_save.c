// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --save-plan: the preview written as a plan file, atomically, with the tool's own JSON writer
 * (json.c), each socket as the --json output names it, so that a plan reads like a preview.
 * jansson (which reads plans) was measured for writing: the 100,000-socket --json document took
 * 1.0-1.7 s to build and dump against json.c's 0.15-0.27 s, while the whole --json preview of
 * 100,000 sockets takes 0.8 s: everything the tool writes stays with json.c. A 100,000-socket
 * plan is 38.6 MB and costs the preview 0.3 s.
 */
#include "planfile.h"
#include "audit.h"
#include "json.h"
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void write_plan(struct json *j, const struct planfile_meta *m, const struct sock_set *set,
		       size_t n, const struct sel_owner_ctx *owners)
{
	char t[64];

	audit_format_time(t, sizeof(t), m->time);
	json_obj_begin(j, NULL);
	json_str(j, "schema", PLANFILE_SCHEMA);
	json_obj_begin(j, "host");
	json_str(j, "hostname", m->host->hostname);
	json_str(j, "machine_id", m->host->machine_id[0] ? m->host->machine_id : NULL);
	json_obj_end(j);
	json_str(j, "boot_id", m->host->boot_id);
	json_str(j, "time", t);
	json_int(j, "unix_time", (int64_t)m->time.tv_sec);
	audit_who_json(j, "who", m->who);
	json_str(j, "selector", m->selector);
	json_str(j, "engine", m->engine);
	json_arr_begin(j, "netns");
	if (m->visit)
		for (size_t i = 0; i < m->visit->n; i++)
			output_netns_json(j, NULL, &m->visit->v[i]);
	else
		output_netns_json(j, NULL, m->ns);
	json_arr_end(j);
	json_uint(j, "count", n);
	json_arr_begin(j, "sockets");
	for (size_t i = 0; i < n; i++) {
		const struct sock_rec *rec = &set->v[i];

		output_sock_json_ns(j, NULL, rec, owners, false,
				    m->visit ? &m->visit->v[rec->netns] : m->ns);
	}
	json_arr_end(j);
	json_obj_end(j);
	json_end_line(j);
}

/* A name for the temporary file next to base: ".base.XXXXXXXX". */
static void temp_name(char *buf, size_t size, const char *base)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	snprintf(buf, size, ".%s.%08" PRIx32, base, r);
}

int planfile_save(const char *path, const struct planfile_meta *m, const struct sock_set *set,
		  size_t n, const struct sel_owner_ctx *owners, char *why, size_t whylen)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], tmp[NAME_MAX + 1];
	const char *dir, *base;
	int dfd = -1, fd = -1, ret;
	FILE *f = NULL;
	struct stat st;
	struct json j;

	if (!*path || strlen(path) >= sizeof(dcopy)) {
		say(why, whylen, "%s: %s", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	strcpy(dcopy, path);
	strcpy(bcopy, path);
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (strlen(base) > NAME_MAX - 10 || !strcmp(base, "/") || !strcmp(base, ".") ||
	    !strcmp(base, "..")) {
		say(why, whylen, "%s: not a file name", path);
		return -EINVAL;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		say(why, whylen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	/* Replacing a link would still write where it was not meant to: refused outright. */
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		say(why, whylen, "%s: a symbolic link: refused (give the file itself)", path);
		ret = -ELOOP;
		goto cleanup;
	}
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		temp_name(tmp, sizeof(tmp), base);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		ret = -errno;
		say(why, whylen, "%s/%s: %s", dir, tmp, strerror(-ret));
		goto cleanup;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto unlink;
	}
	json_init(&j, f);
	write_plan(&j, m, set, n, owners);
	if (fflush(f) || ferror(f) || fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		fclose(f);
		goto unlink;
	}
	if (fclose(f)) {
		ret = -errno;
		goto unlink;
	}
	if (renameat(dfd, tmp, dfd, base) < 0) {
		ret = -errno;
		goto unlink;
	}
	if (fsync(dfd) < 0) {
		ret = -errno;
		say(why, whylen, "%s: %s (the plan is written, its directory not synced)", dir,
		    strerror(-ret));
		goto cleanup;
	}
	ret = 0;
	goto cleanup;
unlink:
	say(why, whylen, "%s: %s", path, strerror(-ret));
	unlinkat(dfd, tmp, 0);
cleanup:
	close(dfd);
	return ret;
}

