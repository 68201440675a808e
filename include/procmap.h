/* Socket inode -> owning (pid, fd, comm) from /proc; the root is overridable for tests. */
#ifndef SOCKREAP_PROCMAP_H
#define SOCKREAP_PROCMAP_H

#include "selector.h"
#include "sock.h"

struct procmap;

/* proc_root NULL means "/proc". */
struct procmap *procmap_new(const char *proc_root);
void procmap_free(struct procmap *pm);
/* Lets a full scan share the processes among up to n threads (1, the default: this one). */
void procmap_workers(struct procmap *pm, int n);

/*
 * Finds the owners of the records in set whose pid is still unknown (-1), reading only the fd
 * tables of pids[0..npids) or, with npids < 0, of every process. Each record gets its lowest
 * owning pid and that pid's lowest fd, and nowners counts every fd that holds it; records
 * with no owner found get pid 0. Returns 0 or a negative errno.
 */
int procmap_resolve(struct procmap *pm, struct sock_set *set, const int32_t *pids, int npids);

/* The comm of a pid that owns a resolved socket; NULL if unknown. */
const char *procmap_comm(void *pm, int32_t pid);

/* The owner facts the selector asks for (struct sel_owner_ctx's lookup). */
bool procmap_lookup(void *pm, int32_t pid, struct sel_owner_info *out);

/* The ppid field of a /proc/PID/stat line; -1 if unparsable. */
int32_t procmap_parse_ppid(const char *stat);

/* "socket:[12345]" -> 12345; 0 when the link is not a socket. */
uint32_t procmap_parse_link(const char *link, size_t len);

#endif
