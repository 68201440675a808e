/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Socket inode -> every owning (pid, fd, comm) from /proc; the root is overridable for tests. */
#ifndef SOCKREAP_PROCMAP_H
#define SOCKREAP_PROCMAP_H

#include "selector.h"
#include "sock.h"

#include <sys/types.h>

struct procmap;

/* Reads up to size bytes of iterator records into buf: bytes read, 0 at the end, or -errno. */
typedef ssize_t (*procmap_read_fn)(void *arg, void *buf, size_t size);

/* proc_root NULL means "/proc". */
struct procmap *procmap_new(const char *proc_root);
void procmap_free(struct procmap *pm);
/* Lets a full scan share the processes among up to n threads (1, the default: this one). */
void procmap_workers(struct procmap *pm, int n);

/*
 * Whether a full scan of the real /proc may ask a BPF task_file iterator instead (needs
 * CAP_BPF and CAP_PERFMON; /proc is read whenever it cannot be loaded, in a pid namespace of
 * our own, or with SOCKREAP_OWNERS=proc in the environment). Off by default.
 */
void procmap_allow_bpf(struct procmap *pm, bool allow);
/*
 * Loads the BPF iterator now, if allowed, for the next full scan (which reads it at its own
 * time). Loading costs ~11 MiB of memory for the kernel's BTF, freed once loaded: done
 * before the dump, that is not added to the run's peak; and the capabilities it takes can be
 * dropped before the dump too. Returns whether it is loaded.
 */
bool procmap_open_bpf(struct procmap *pm);
/*
 * Starts reading the loaded BPF iterator on a thread of its own, so that the walk runs while
 * this thread dumps (the kernel does both: two CPUs, half the wait). A full-scan resolve then
 * takes what it found, and walks again, only for them, for sockets with a file left without
 * an owner (opened once the walk had passed their process). For owners that are shown and
 * recorded; a selector that tests owners resolves after the dump as before. Returns 0, or a
 * negative errno when no iterator is loaded or no thread starts (the resolve reads it then).
 */
int procmap_prefetch(struct procmap *pm);
/*
 * procmap_prefetch without procmap_open_bpf first: the thread loads the iterator itself
 * (libbpf parses the kernel's BTF, ~14 ms the dump need not wait for), then calls loaded(arg)
 * (NULL: nothing) before it reads: capabilities are per thread, so it drops what it held for
 * the load there. If it cannot load, the resolve scans /proc. 0, or a negative errno when no
 * thread starts (nothing was loaded: the resolve loads or scans then).
 */
int procmap_prefetch_load(struct procmap *pm, void (*loaded)(void *), void *arg);
/*
 * Before procmap_open_bpf: the prefetch's walk reports only sockets in these states (1 <<
 * state, as the dump's filter), so that it keeps what the dump can select, not every socket
 * of the machine (12 bytes each); the second look walks them all. 0 (the default): all.
 */
void procmap_bpf_states(struct procmap *pm, uint32_t states);
/* The same over a record stream of the test's (procmap_resolve_records reads the second). */
int procmap_prefetch_records(struct procmap *pm, procmap_read_fn read_fn, void *arg);
/* Whether a full scan would use the BPF iterator now (it is loaded to know); why: if not, why. */
bool procmap_bpf_usable(char *why, size_t size);

/*
 * Finds the owners of the records in set whose pid is still unknown (-1), reading only the fd
 * tables of pids[0..npids) or, with npids < 0, of every process. Each record gets its lowest
 * known owning pid (0: none known) and that pid's lowest fd, and nowners counts every fd
 * known to hold it; procmap keeps the further (pid, fd) of sockets held more than once. A
 * process whose fd table cannot be read (EACCES: no CAP_SYS_PTRACE; hidepid) is kept as
 * unknown with what can be read of it (comm, ppid). Returns 0 or a negative errno (then every
 * owner is unknown).
 */
int procmap_resolve(struct procmap *pm, struct sock_set *set, const int32_t *pids, int npids);

/*
 * procmap_resolve from a stream of struct taskfiles_rec (what the BPF iterator writes), for
 * every socket of every process; the owning pids' comm, ppid and exe are read under the root.
 */
int procmap_resolve_records(struct procmap *pm, struct sock_set *set, procmap_read_fn read_fn,
			    void *arg);

/* Where the last resolve found owners: "bpf" or "proc"; NULL before one. */
const char *procmap_source(const struct procmap *pm);

/* The owners of resolved records, for the selector and the output. */
void procmap_owner_ctx(struct procmap *pm, struct sel_owner_ctx *ctx);

/*
 * Why owners may be missing after procmap_resolve: "unreadable" (fd tables we may not read),
 * "hidepid" (processes /proc hides from us), "not-looked-up" (only the named pids were read),
 * or NULL when every owner of every socket is known.
 */
const char *procmap_unknown_reason(const struct procmap *pm);

/* The comm of a pid that owns a resolved socket; NULL if unknown. */
const char *procmap_comm(const struct procmap *pm, int32_t pid);

/* The ppid field of a /proc/PID/stat line; -1 if unparsable. */
int32_t procmap_parse_ppid(const char *stat);

/*
 * Whether a /proc/PID/stat line is a process that holds no files (a kernel thread, a zombie):
 * one whose fd table we may not read can then hold none of our sockets.
 */
bool procmap_stat_fileless(const char *stat);

/* "socket:[12345]" -> 12345; 0 when the link is not a socket. */
uint32_t procmap_parse_link(const char *link, size_t len);

/*
 * Whether the proc mount at mountpoint in a mountinfo text hides other users' processes
 * (hidepid=2/invisible, 4/ptraceable); *gid gets its gid= option, or -1. The last mount on
 * mountpoint counts: it is the one on top.
 */
bool procmap_parse_hidepid(const char *mountinfo, const char *mountpoint, long *gid);

/* The test build's count of owner-sort comparisons so far, all threads (only it defines it). */
size_t procmap_test_sort_comparisons(void);

#endif
