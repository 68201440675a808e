/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --close-fd: closes a socket's descriptor inside the process that holds it, through ptrace,
 * by making one of its threads run close(fd) at a syscall instruction it already has mapped.
 */
#ifndef SOCKREAP_CLOSEFD_H
#define SOCKREAP_CLOSEFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What became of one (pid, fd). */
enum closefd_result {
	CLOSEFD_NONE = 0,	/* not tried (the socket was not killed, or no run yet) */
	CLOSEFD_CLOSED,		/* close(fd) returned 0 in the owner */
	CLOSEFD_CHANGED,	/* the fd refers to another file now: left open */
	CLOSEFD_GONE,		/* no such fd (or process) any more */
	CLOSEFD_DENIED,		/* ptrace not allowed: nothing touched (see why) */
	CLOSEFD_FAILED,		/* err says why; the process was left as it was */
};

struct closefd_target {
	int32_t pid;
	int32_t fd;
	uint32_t inode;		/* the socket the fd must still refer to */
	uint8_t result;		/* enum closefd_result */
	int err;		/* errno behind FAILED/DENIED; close()'s own error if any */
	const char *why;	/* DENIED/FAILED: a short reason ("ptrace_scope=3", ...) */
};

/* Every descriptor a run closes, sorted by (inode, pid, fd) once run. */
struct closefd_set {
	struct closefd_target *v;
	size_t n, cap;
};

int closefd_add(struct closefd_set *s, int32_t pid, int32_t fd, uint32_t inode);
void closefd_set_free(struct closefd_set *s);

/*
 * Closes every target, each process's in one attach (all its threads stopped while it is
 * checked and closed). proc is the /proc root ("/proc" when NULL); may_ptrace_others says
 * whether we hold CAP_SYS_PTRACE. Sets every target's result; returns how many were closed.
 */
size_t closefd_run(struct closefd_set *s, const char *proc, bool may_ptrace_others);

/* The target for (inode, pid, fd) after closefd_run, or NULL. */
const struct closefd_target *closefd_find(const struct closefd_set *s, uint32_t inode,
					  int32_t pid, int32_t fd);

/* "closed", "changed", "gone", "denied", "failed", "not-tried". */
const char *closefd_result_name(unsigned result);

/* Pure parts, for the unit tests. */

/* The [vdso] mapping's bounds in a /proc/PID/maps text; 0, or -ENOENT without one. */
int closefd_parse_vdso(const char *maps, uint64_t *start, uint64_t *end);
/* The TracerPid of a /proc/PID/status text; -1 if it has none. */
long closefd_parse_tracer(const char *status);
/* The Uid (real) of a /proc/PID/status text; -1 if it has none. */
long closefd_parse_uid(const char *status);
/* The Seccomp mode of a /proc/PID/status text (0 none, 1 strict, 2 filter); -1 if none. */
long closefd_parse_seccomp(const char *status);
/* Offset of the first x86-64 `syscall` (0f 05) in buf, or -1. */
long closefd_scan_x86(const uint8_t *buf, size_t len);
/* Offset of the first aligned aarch64 `svc #0` (0xd4000001, little-endian) in buf, or -1. */
long closefd_scan_a64(const uint8_t *buf, size_t len);

#if defined(__x86_64__)
#include <sys/user.h>
/*
 * regs made to run close(fd) at pc: the syscall number in rax, fd in rdi, and orig_rax -1 so
 * that the kernel does not take the stopped thread's interrupted call for one to restart.
 */
void closefd_regs_for_close(struct user_regs_struct *regs, uint64_t pc, int fd);
/*
 * regs of a thread we stopped in epoll_wait (and pwait, pwait2), rt_sigtimedwait, semop or
 * semtimedop with no timeout, which our stop made return -EINTR: turned into -ERESTARTNOHAND
 * (the kernel restarts the call, or gives a handler for a real signal its EINTR). Only for a
 * thread stopped by our interrupt alone. Returns whether regs were changed.
 */
bool closefd_regs_keep_waiting(struct user_regs_struct *regs);
#endif

#endif
