// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shutdown engine: for a TCP socket with a known owner, a duplicate of the owner's fd
 * (pidfd_getfd), checked to be the very socket planned (inode and cookie), then
 * shutdown(SHUT_RDWR) on it and the duplicate closed. The owner's blocked read returns
 * end-of-file, the peer sees a FIN instead of a reset; the descriptor stays with the owner.
 * Sockets without an owner (time-wait, orphans, owners unknown) and UDP sockets (no closing
 * handshake to end them) fall back to the auto engine, which says per socket which acted.
 *
 * Verification: the socket is looked up by cookie. Shut down, it is either gone (a close-wait
 * socket once the peer acknowledges the FIN), or listed in a closing state while its owner
 * holds the fd (established -> fin-wait-1/2; close-wait -> last-ack until the ACK): that is
 * what shutdown does, so it is killed, "closing". Still listed in any other state, it failed.
 */
#include "engine.h"
#include "ownerfd.h"
#include "selector.h"

#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>

/* Whether rec is this engine's to act on (rather than auto's). */
static bool shut_owned(const struct sock_rec *rec)
{
	return rec->protocol == IPPROTO_TCP && rec->pid > 0 && rec->fd >= 0;
}

/*
 * The owner's fd no longer holds the socket (closed, reused, or the process is gone): changed
 * if the socket is still there (held by someone else now, or orphaned), else as for a cookie
 * the kernel no longer knows.
 */
static void fd_moved(struct diag *d, struct sock_rec *rec)
{
	int ret = diag_lookup(d, rec, true, NULL);

	if (ret == 0) {
		rec->outcome = OUT_CHANGED;
		rec->err = SOCK_ERR_FD_CHANGED;
	} else if (ret == -ENOENT) {
		engine_classify_missing(d, rec);
	} else {
		rec->outcome = OUT_FAILED;
		rec->err = SOCK_ERR_UNVERIFIED;
	}
}

/* The i-th known owner of rec: every one procmap found, else the record's own. */
static bool nth_owner(const struct engine_ctx *ctx, const struct sock_rec *rec, size_t i,
		      int32_t *pid, int *fd)
{
	struct sel_owner_info o;

	if (!ctx->owners || !ctx->owners->owner) {
		*pid = rec->pid;
		*fd = rec->fd;
		return i == 0;
	}
	if (!ctx->owners->owner(ctx->owners->arg, rec, i, &o))
		return false;
	*pid = o.pid;
	*fd = o.fd;
	return true;
}

/*
 * One owner's duplicate, checked and shut down: 0 done; -ESTALE this owner's fd no longer
 * holds the socket (the process is gone, the fd closed or reused); else -errno (not done).
 */
static int shut_through(const struct sock_rec *rec, int32_t pid, int fd)
{
	uint64_t ino, cookie;
	int sfd, ret;

	sfd = ownerfd_get(pid, fd);
	if (sfd == -ESRCH || sfd == -EBADF)
		return -ESTALE;
	if (sfd < 0)
		return sfd;
	ret = ownerfd_identity(sfd, &ino, &cookie);
	/* The fd was reused for another file since the plan: nothing is done to it. */
	if (ret == 0 && (ino != rec->inode || cookie != sock_cookie(rec)))
		ret = -ESTALE;
	if (ret == 0)
		ret = ownerfd_shutdown(sfd);
	ownerfd_close(sfd);
	return ret;
}

/*
 * Shuts one owned socket down through the first of its owners that still holds it and lets
 * us (one shutdown ends it for every holder); sets its provisional outcome. An owner we may
 * not reach is denied only when no other one did it.
 */
static void shut_one(const struct engine_ctx *ctx, struct sock_rec *rec)
{
	int32_t pid;
	int fd, ret = -ESTALE, denied = 0;

	rec->engine = SOCK_ENGINE_SHUTDOWN;
	rec->err = 0;
	for (size_t i = 0; nth_owner(ctx, rec, i, &pid, &fd); i++) {
		if (pid <= 0 || fd < 0)
			continue;
		ret = shut_through(rec, pid, fd);
		if (ret == -EPERM || ret == -EACCES)
			denied = ret;
		else if (ret != -ESTALE)
			break; /* done, or an error no other owner would change */
	}
	if (ret == 0) {
		rec->outcome = OUT_KILLED; /* verification decides */
	} else if (ret == -ENOTCONN) {
		rec->outcome = OUT_GONE; /* closed by itself (reset by the peer) meanwhile */
	} else if (denied && (ret == -ESTALE || ret == denied)) {
		rec->outcome = OUT_DENIED;
		rec->err = denied;
	} else if (ret == -ESTALE) {
		fd_moved(ctx->d, rec);
	} else {
		rec->outcome = ret == -ENOSYS ? OUT_UNSUPPORTED : OUT_FAILED;
		rec->err = ret;
	}
}

/* A state a shut-down socket passes through while its owner holds the fd. */
static bool closing_state(unsigned state)
{
	return state == SS_FIN_WAIT1 || state == SS_FIN_WAIT2 || state == SS_CLOSING ||
	       state == SS_LAST_ACK || state == SS_TIME_WAIT;
}

/*
 * Looks every socket this engine shut down up by cookie, a batch per sendmsg. A lookup is
 * exact for a connected socket (one 4-tuple in the established table); a listener shut down
 * is closed and unhashed by shutdown itself. Returns 0 or the first error (what it was to
 * verify is then failed, "unverified").
 */
static int shut_verify(struct diag *d, struct sock_set *set)
{
	struct sock_rec *recs[DIAG_BATCH];
	bool present[DIAG_BATCH];
	struct sock_rec *found = malloc(DIAG_BATCH * sizeof(*found));
	size_t i = 0;
	int first = found ? 0 : -ENOMEM;

	while (i < set->n) {
		size_t m = 0;

		for (; i < set->n && m < DIAG_BATCH; i++)
			if (set->v[i].engine == SOCK_ENGINE_SHUTDOWN &&
			    set->v[i].outcome == OUT_KILLED)
				recs[m++] = &set->v[i];
		if (!m)
			break;
		int ret = found ? diag_check_batch(d, recs, m, true, present, found) : first;

		for (size_t k = 0; k < m; k++) {
			if (ret < 0) {
				recs[k]->outcome = OUT_FAILED;
				recs[k]->err = SOCK_ERR_UNVERIFIED;
			} else if (present[k] && closing_state(found[k].state)) {
				recs[k]->flags |= SOCK_F_CLOSING;
			} else if (present[k]) {
				recs[k]->outcome = OUT_FAILED;
				recs[k]->err = SOCK_ERR_SURVIVED;
			}
		}
		if (ret < 0 && !first)
			first = ret;
	}
	free(found);
	return first;
}

static int shutdown_kill(struct engine_ctx *ctx, struct sock_set *set)
{
	struct sock_set rest = { 0 };
	int ret = 0, ret2 = 0;

	for (size_t i = 0; i < set->n && ret == 0; i++)
		if (!shut_owned(&set->v[i]))
			ret = sock_set_push(&rest, &set->v[i]);
	if (ret < 0) {
		sock_set_free(&rest);
		return ret;
	}
	for (size_t i = 0; i < set->n; i++)
		if (shut_owned(&set->v[i]))
			shut_one(ctx, &set->v[i]);
	ret = shut_verify(ctx->d, set);
	if (rest.n)
		ret2 = engine_auto.kill(ctx, &rest);
	/* rest holds them in set's order: the same walk puts each back in its place. */
	for (size_t i = 0, k = 0; i < set->n && k < rest.n; i++)
		if (!shut_owned(&set->v[i])) {
			set->v[i] = rest.v[k++];
			set->v[i].flags |= SOCK_F_FALLBACK;
		}
	sock_set_free(&rest);
	return ret < 0 ? ret : ret2;
}

void engine_shutdown_explain(FILE *f, const struct sock_set *set)
{
	size_t denied = 0, moved = 0, nosys = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct sock_rec *r = &set->v[i];

		if (r->engine != SOCK_ENGINE_SHUTDOWN)
			continue;
		denied += r->outcome == OUT_DENIED;
		moved += r->outcome == OUT_CHANGED && r->err == SOCK_ERR_FD_CHANGED;
		nosys += r->outcome == OUT_UNSUPPORTED && r->err == -ENOSYS;
	}
	if (denied)
		fprintf(f, "sockreap: %zu socket%s denied: the shutdown engine needs CAP_SYS_PTRACE "
			   "over the owner (pidfd_getfd), or the owner's own real uid\n", denied,
			denied == 1 ? "" : "s");
	if (moved)
		fprintf(f, "sockreap: %zu socket%s left alone: the owner's descriptor no longer "
			   "refers to the planned socket (closed or reused since the preview)\n",
			moved, moved == 1 ? "" : "s");
	if (nosys)
		fprintf(f, "sockreap: this kernel has no pidfd_getfd (Linux 5.6 or later): %zu "
			   "socket%s not shut down; --engine auto destroys them\n", nosys,
			nosys == 1 ? "" : "s");
}

const struct engine engine_shutdown = {
	.name = "shutdown",
	.kill = shutdown_kill,
};
