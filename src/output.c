// SPDX-License-Identifier: GPL-2.0-or-later
/* Table and JSON output. Every field is named once, in output_sock_json and the table row. */
#include "output.h"
#include "forward.h"
#include "text.h"
#include "workers.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A cell's room: the endpoint's, the PROCESS cell's, the OUTCOME cell's (cut there). */
#define ENDPOINT_SIZE (INET6_ADDRSTRLEN + 10)	/* "[", an IPv6 address, "]:", a port */
#define PROC_SIZE 96	/* pid, "/", a 15-byte comm escaped (4 bytes a byte), "+N", "+?" */
#define OUTCOME_SIZE 56	/* and, with --close-fd, " fd-closed 2/3" */

/* Why rec's owners are not all known ("not-looked-up" without a scan), or NULL. */
static const char *owners_unknown(const struct sock_rec *rec, const struct sel_owner_ctx *owners)
{
	/* TIME_WAIT and request sockets have no file: nobody, whether looked up or not. */
	if (selector_ownerless(rec))
		return NULL;
	if (rec->pid < 0 || !owners)
		return "not-looked-up";
	return owners->incomplete ? owners->incomplete(owners->arg, rec) : NULL;
}

/*
 * "1234/java" for rec's first owner (rec->pid > 0): snprintf(buf, size, "%d/%s", pid, name)
 * without printf, name being m bytes; snprintf's return.
 */
static int pid_slash(char *buf, size_t size, int32_t pid, const char *name, size_t m)
{
	size_t n = sock_dec_len((uint32_t)pid);

	if (pid <= 0 || n + 1 + m >= size)
		return snprintf(buf, size, "%d/%s", pid, name);
	sock_put_dec(buf, (uint32_t)pid);
	buf[n] = '/';
	memcpy(buf + n + 1, name, m + 1);
	return (int)(n + 1 + m);
}

/*
 * The last "pid/name" owner_name made, for the next row of the same process: a big table's
 * rows come from a few processes, and escaping the name again for each row was a tenth of
 * the table's time. owner_name's text depends on nothing but the pid and the name.
 */
struct owner_memo {
	int32_t pid;		/* 0: none yet */
	char comm[16];		/* the name it was made from (a comm is at most 15 bytes) */
	char text[PROC_SIZE];
	int len;
};

static int owner_name(char *buf, size_t size, const struct sock_rec *rec,
		      const struct sel_owner_ctx *owners, struct owner_memo *memo)
{
	struct sel_owner_info o;
	const char *c = owners && owners->owner(owners->arg, rec, 0, &o) ? o.comm : NULL;
	size_t cl = c ? strnlen(c, sizeof(memo->comm)) : 1;
	char name[64];
	int k;

	if (!c || cl == sizeof(memo->comm) || size != sizeof(memo->text))
		memo = NULL; /* "?", or a longer name than a comm, or another buffer */
	if (memo && memo->pid == rec->pid && !memcmp(memo->comm, c, cl + 1)) {
		memcpy(buf, memo->text, (size_t)memo->len + 1);
		return memo->len;
	}
	/* A process names itself: it must not be able to steer the terminal. */
	size_t m = text_escape(name, sizeof(name), c ? c : "?", c ? strlen(c) : 1);

	if (m >= sizeof(name)) /* cut: what was kept */
		m = strlen(name);
	/* Nor fake the "+N" of further owners: a "+" of its own shows as \x2b. */
	if (!memchr(name, '+', m)) {
		k = pid_slash(buf, size, rec->pid, name, m);
	} else {
		k = snprintf(buf, size, "%d/", rec->pid);
		for (const char *q = name; *q && k >= 0; q++) {
			size_t used = (size_t)k < size ? (size_t)k : size;

			k += snprintf(buf + used, size - used, *q == '+' ? "\\x2b" : "%c", *q);
		}
	}
	if (memo && k >= 0 && (size_t)k < size) {
		memo->pid = rec->pid;
		memcpy(memo->comm, c, cl + 1);
		memcpy(memo->text, buf, (size_t)k + 1);
		memo->len = k;
	}
	return k;
}

/*
 * --close-fd: " fd-closed" when every known owner's descriptor was closed, " fd-kept" when
 * none was, " fd-closed N/M" between (JSON says which and why).
 */
static void fd_marker(char *buf, size_t size, const struct sock_rec *rec,
		      const struct sel_owner_ctx *owners)
{
	struct sel_owner_info o;
	size_t n = 0, closed = 0, len = strlen(buf);
	const char *why;

	if (!owners || !owners->fd_result || rec->pid <= 0 || selector_ownerless(rec))
		return;
	for (size_t i = 0; owners->owner(owners->arg, rec, i, &o); i++) {
		const char *res = owners->fd_result(owners->fd_arg, rec, o.pid, o.fd, &why);

		n++;
		closed += res && !strcmp(res, "closed");
	}
	if (!n || len >= size)
		return;
	if (closed == n || !closed)
		snprintf(buf + len, size - len, closed ? " fd-closed" : " fd-kept");
	else
		snprintf(buf + len, size - len, " fd-closed %zu/%zu", closed, n);
}

/* The PROCESS cell, NUL-terminated in buf (PROC_SIZE bytes): its length. */
static size_t proc_cell(char *buf, size_t size, const struct sock_rec *rec,
			const struct sel_owner_ctx *owners, struct owner_memo *memo)
{
	const char *unknown = owners_unknown(rec, owners);
	int k;

	if (rec->pid <= 0 || selector_ownerless(rec)) {
		/* "-": nobody holds it; "?": owners unknown or not looked up. */
		strcpy(buf, unknown ? "?" : "-");
		return 1;
	}
	k = owner_name(buf, size, rec, owners, memo);
	if (rec->nowners > 1 && k > 0 && (size_t)k < size)
		k += snprintf(buf + k, size - (size_t)k, "+%u", rec->nowners - 1);
	/* "+?": there may be owners we could not read (or, with --pid, did not). */
	if (unknown && k > 0 && (size_t)k < size)
		k += snprintf(buf + k, size - (size_t)k, "+?");
	return k >= 0 && (size_t)k < size ? (size_t)k : strlen(buf);
}

/* The OUTCOME cell, NUL-terminated in buf (OUTCOME_SIZE bytes): its length. */
static size_t outcome_cell(char *buf, size_t size, const struct sock_rec *rec,
			   const struct sel_owner_ctx *owners)
{
	const char *detail = sock_outcome_detail(rec);
	/*
	 * destroy is the usual engine; rst says so, whether the peer was reset too, or whether
	 * it was a local socket the plan did not hold, left alone; shutdown says so, and so does
	 * destroy standing in for it.
	 */
	const char *via = rec->engine == SOCK_ENGINE_SHUTDOWN ? "shutdown"
			  : rec->engine == SOCK_ENGINE_DESTROY && rec->flags & SOCK_F_FALLBACK
				? "destroy"
			  : rec->engine != SOCK_ENGINE_RST	   ? ""
			  : rec->flags & SOCK_F_PEER_RESET ? "rst+peer"
			  : rec->flags & SOCK_F_PEER_LEFT  ? "rst, peer left"
							   : "rst";
	size_t n;

	if (detail || *via) {
		snprintf(buf, size, "%s(%s%s%s)", sock_outcome_name(rec->outcome), via,
			 detail && *via ? ": " : "", detail ? detail : "");
		n = strlen(buf);
	} else {
		const char *name = sock_outcome_name(rec->outcome);

		n = strnlen(name, size - 1);
		memcpy(buf, name, n);
		buf[n] = '\0';
	}
	if (owners && owners->fd_result) {
		fd_marker(buf, size, rec, owners);
		n = strlen(buf);
	}
	return n;
}

/* The digits of an address byte or a port: comparisons, not a loop of divisions. */
static size_t byte_len(unsigned v)
{
	return 1 + (v >= 10) + (v >= 100);
}

static size_t port_len(unsigned v)
{
	return 1 + (v >= 10) + (v >= 100) + (v >= 1000) + (v >= 10000);
}

/*
 * An endpoint, NUL-terminated in buf (ENDPOINT_SIZE bytes): its length. sock_format_endpoint
 * writes IPv4 with a port, nearly every row of a big table, by hand.
 */
static size_t endpoint_cell(char *buf, int family, const uint32_t addr[4], uint16_t port)
{
	int n = sock_format_endpoint(buf, ENDPOINT_SIZE, family, addr, port);

	return n > 0 && n < ENDPOINT_SIZE ? (size_t)n : strlen(buf);
}

/* endpoint_cell's length, for the widths: IPv4 without writing it. */
static size_t endpoint_len(int family, const uint32_t addr[4], uint16_t port)
{
	char buf[ENDPOINT_SIZE];

	if (family == AF_INET && addr[0] && port) {
		const uint8_t *b = (const uint8_t *)addr;

		return byte_len(b[0]) + byte_len(b[1]) + byte_len(b[2]) + byte_len(b[3]) + 4 +
		       port_len(port);
	}
	return endpoint_cell(buf, family, addr, port);
}

/*
 * One table line, built in place where it goes (a block's buffer): a 100,000-row table is
 * cheaper without printf per cell, and without copying each line once more.
 */
#define LINE_ROOM 2048	/* a NETNS cell alone may be 255 bytes escaped 4 to a byte */

struct line {
	char *buf;	/* LINE_ROOM bytes */
	size_t len;
};

/* Appends text (n bytes) padded to width (right-aligned if right), then one space. */
static void celln(struct line *l, const char *text, size_t n, int width, bool right)
{
	size_t pad = width > (int)n ? (size_t)width - n : 0;

	if (l->len + n + pad + 1 >= LINE_ROOM)
		return;
	if (right) {
		memset(l->buf + l->len, ' ', pad);
		l->len += pad;
	}
	memcpy(l->buf + l->len, text, n);
	l->len += n;
	if (!right) {
		memset(l->buf + l->len, ' ', pad);
		l->len += pad;
	}
	l->buf[l->len++] = ' ';
}

static void cell(struct line *l, const char *text, int width, bool right)
{
	celln(l, text, strlen(text), width, right);
}

/* An endpoint cell, as celln would append endpoint_cell's text, but written in place. */
static void cell_endpoint(struct line *l, const struct sock_rec *rec, bool local, int width)
{
	char tmp[ENDPOINT_SIZE];
	/* Room for the longest endpoint: always, but after a NETNS cell of hundreds of bytes. */
	char *at = l->len + ENDPOINT_SIZE <= LINE_ROOM ? l->buf + l->len : tmp;
	size_t n = local ? endpoint_cell(at, rec->family, rec->id.idiag_src, sock_sport(rec))
			 : endpoint_cell(at, rec->family, rec->id.idiag_dst, sock_dport(rec));
	size_t pad = width > (int)n ? (size_t)width - n : 0;

	if (at == tmp) {
		celln(l, tmp, n, width, false);
		return;
	}
	if (l->len + n + pad + 1 >= LINE_ROOM)
		return; /* as celln: no room for the cell, nothing of it */
	memset(at + n, ' ', pad);
	at[n + pad] = ' ';
	l->len += n + pad + 1;
}

/*
 * The preview shows what helps choose (queues, idle time); the outcome table what happened.
 * Address and outcome columns are as wide as their data, as in ss, to fit 80 columns.
 */
void output_table(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		  bool with_outcome)
{
	output_table_ns(f, set, owners, with_outcome, NULL);
}

/* A namespace as the NETNS column shows it: its name, else "ino:N". */
static void ns_cell(char *buf, size_t size, const struct netns_info *ns)
{
	if (ns->name[0])
		text_escape(buf, size, ns->name, strlen(ns->name));
	else
		snprintf(buf, size, "ino:%" PRIu64, ns->inode);
}

void output_table_ns(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		     bool with_outcome, const struct netns_list *visited)
{
	output_table_fit(f, set, owners, with_outcome, visited, NULL);
}

void output_screen(int fd, struct output_fit *fit)
{
	struct winsize ws;
	const char *e;

	*fit = (struct output_fit){ 0, 0 };
	if (!isatty(fd))
		return;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
		fit->rows = ws.ws_row;
		fit->cols = ws.ws_col;
	}
	/* As curses: LINES and COLUMNS, when set, say better than the ioctl (a resized pane). */
	if ((e = getenv("LINES")) && atoi(e) > 0)
		fit->rows = atoi(e);
	if ((e = getenv("COLUMNS")) && atoi(e) > 0)
		fit->cols = atoi(e);
	/* A terminal that does not know its size (0x0, as script(1) makes one) gets no limit. */
	if (fit->rows < 0)
		fit->rows = 0;
	if (fit->cols < 0)
		fit->cols = 0;
}

/* Which columns a table shows, and how wide each is. */
struct layout {
	bool nscol, udp, skipped, queues, idle, with_outcome;
	int wn, wl, wp, wo, wproc;
};

static int layout_width(const struct layout *t)
{
	return (t->nscol ? t->wn + 1 : 0) + (t->udp ? 6 : 0) + 12 + (t->queues ? 14 : 0) +
	       t->wl + 1 + t->wp + 1 + (t->idle ? 6 : 0) +
	       (t->with_outcome || t->skipped ? t->wo + 1 : 0) + t->wproc;
}

/*
 * Ends a line in l->buf, newline included, and returns its length: cut at cols (0: never)
 * with ">" at the edge, never inside a UTF-8 sequence.
 */
static size_t line_finish(struct line *l, int cols)
{
	size_t len = l->len ? l->len - 1 : 0; /* the trailing space goes */

	while (len && l->buf[len - 1] == ' ')
		len--;
	if (cols > 0 && text_columns(l->buf, len) > (size_t)cols) {
		size_t n = len;

		while (n && text_columns(l->buf, n) > (size_t)cols - 1)
			n--;
		while (n && ((unsigned char)l->buf[n] & 0xc0) == 0x80)
			n--;
		len = n;
		l->buf[len++] = '>';
	}
	l->buf[len++] = '\n';
	return len;
}

static void line_end(FILE *f, struct line *l, int cols)
{
	fwrite(l->buf, 1, line_finish(l, cols), f);
}

/* The rows [from, to) of a table, formatted into buf (table_rows: a block at a time). */
struct rows_part {
	const struct sock_set *set;
	const struct sel_owner_ctx *owners;
	const struct netns_list *visited;
	const struct layout *t;
	int cols;
	size_t from, to;
	FILE *f;		/* set: written there instead */
	char *buf;
	size_t len, cap;
	bool oom;
	struct owner_memo memo;
};

/* One row's line, ended (newline included): its length in l->buf. */
static size_t row_line(struct line *l, const struct sock_rec *rec, struct rows_part *p)
{
	const struct layout *t = p->t;
	char ns[4 * NAME_MAX + 32], text[ENDPOINT_SIZE], proc[PROC_SIZE], outcome[OUTCOME_SIZE];
	size_t n;

	l->len = 0;
	if (t->nscol) {
		ns_cell(ns, sizeof(ns), &p->visited->v[rec->netns]);
		/* Narrowed to fit (output_table_fit): cut, ">" where the cut is. */
		if ((int)text_columns(ns, strlen(ns)) > t->wn) {
			size_t k = (size_t)t->wn - 1;

			while (k && text_columns(ns, k) > (size_t)t->wn - 1)
				k--;
			while (k && ((unsigned char)ns[k] & 0xc0) == 0x80)
				k--;
			ns[k] = '>';
			ns[k + 1] = '\0';
		}
		cell(l, ns, t->wn, false);
	}
	if (t->udp)
		celln(l, rec->protocol == IPPROTO_UDP ? "udp" : "tcp", 3, 5, false);
	cell(l, sock_state_name(rec->state), 11, false);
	/* Numbers and IPv4 endpoints by hand: printf was a third of a 100,000-row table. */
	if (t->queues) {
		celln(l, text, (size_t)(sock_put_dec(text, rec->rqueue) - text), 6, true);
		celln(l, text, (size_t)(sock_put_dec(text, rec->wqueue) - text), 6, true);
	}
	cell_endpoint(l, rec, true, t->wl);
	cell_endpoint(l, rec, false, t->wp);
	if (t->idle) {
		n = (size_t)sock_format_duration(text, sizeof(text), rec->idle_ms);
		celln(l, text, n, 5, true);
	}
	if (t->with_outcome || (t->skipped && rec->outcome == OUT_SKIPPED)) {
		n = outcome_cell(outcome, sizeof(outcome), rec, p->owners);
		celln(l, outcome, n, t->wo, false);
	} else if (t->skipped) {
		cell(l, "planned", t->wo, false);
	}
	n = proc_cell(proc, sizeof(proc), rec, p->owners, &p->memo);
	celln(l, proc, n, 0, false);
	return line_finish(l, p->cols);
}

static void rows_format(struct rows_part *p)
{
	char one[LINE_ROOM];
	struct line l = { one, 0 };

	p->len = 0;
	p->oom = false;
	for (size_t i = p->from; i < p->to; i++) {
		if (p->f) {
			fwrite(one, 1, row_line(&l, &p->set->v[i], p), p->f);
			continue;
		}
		/* Room for the longest line, so that it is made where it goes. */
		if (p->len + LINE_ROOM > p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 256 * 1024;
			char *b = cap >= p->len + LINE_ROOM ? realloc(p->buf, cap) : NULL;

			if (!b) {
				p->oom = true;
				return;
			}
			p->buf = b;
			p->cap = cap;
		}
		l.buf = p->buf + p->len;
		p->len += row_line(&l, &p->set->v[i], p);
	}
}

/* The rows [from, to) formatted in p's buffer, then written with one fwrite. */
static void rows_write(FILE *f, struct rows_part *p)
{
	rows_format(p);
	if (p->oom) {
		/* Out of memory: row by row, still in order. */
		struct rows_part direct = *p;

		direct.f = f;
		rows_format(&direct);
		return;
	}
	fwrite(p->buf, 1, p->len, f);
}

/*
 * A table this long is formatted on two threads (the kill is over, the other CPU idle), a
 * block at a time: blocks keep the buffers small (~120 KB of an IPv4 table's lines, one a
 * slot below: half a megabyte in all, next to 10 MB of records) and the writes large.
 */
#define TABLE_PARALLEL_MIN 8192
#define TABLE_BLOCK 1024

/*
 * Blocks are taken in order by whichever thread is free, this one or the table's one helper
 * (a thread per pair of blocks cost ~25 thread starts a table), each into the slot of its
 * number modulo TABLE_SLOTS; this thread writes them in order. A block is taken only once
 * the block before it in its slot is written, so TABLE_SLOTS buffers at most; and this
 * thread waits only for the one block due next, not for a helper that the scheduler holds
 * back (a machine busy with other work).
 */
#define TABLE_SLOTS 4

struct rows_job {
	struct rows_part slot[TABLE_SLOTS];
	bool ready[TABLE_SLOTS];	/* the slot's block is formatted, not yet written */
	size_t n, blocks, taken, written;	/* taken: the next block to format */
	bool go;		/* the above are set: blocks may be taken (none if blocks is 0) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static size_t block_end(size_t b, size_t n)
{
	return n - b * TABLE_BLOCK < TABLE_BLOCK ? n : (b + 1) * TABLE_BLOCK;
}

/* Under the lock: the next block to format, or job->blocks when none may be taken now. */
static size_t block_take(struct rows_job *job)
{
	if (job->taken >= job->blocks || job->taken >= job->written + TABLE_SLOTS)
		return job->blocks;
	return job->taken++;
}

/* Formats block b into its slot, then says it is ready: returns with the lock held. */
static void block_format(struct rows_job *job, size_t b)
{
	struct rows_part *p = &job->slot[b % TABLE_SLOTS];

	p->from = b * TABLE_BLOCK;
	p->to = block_end(b, job->n);
	rows_format(p);
	pthread_mutex_lock(&job->lock);
	job->ready[b % TABLE_SLOTS] = true;
	pthread_cond_broadcast(&job->cond);
}

static void *rows_helper(void *arg)
{
	struct rows_job *job = arg;

	pthread_mutex_lock(&job->lock);
	while (!job->go)
		pthread_cond_wait(&job->cond, &job->lock);
	while (job->taken < job->blocks) {
		size_t b = block_take(job);

		if (b == job->blocks) {
			pthread_cond_wait(&job->cond, &job->lock);
			continue;
		}
		pthread_mutex_unlock(&job->lock);
		block_format(job, b);
	}
	pthread_mutex_unlock(&job->lock);
	return NULL;
}

/*
 * The rows [0, n) a block at a time, in order: with job, on this thread and job's helper
 * (waiting for job->go), which the caller started and joins.
 */
static void rows_blocks(FILE *f, struct rows_part *a, size_t n, struct rows_job *job)
{
	size_t blocks = (n + TABLE_BLOCK - 1) / TABLE_BLOCK;

	if (!job) {
		/* One thread: one buffer, block after block. */
		for (size_t b = 0; b < blocks; b++) {
			a->from = b * TABLE_BLOCK;
			a->to = block_end(b, n);
			rows_write(f, a);
		}
		free(a->buf);
		return;
	}
	pthread_mutex_lock(&job->lock);
	for (size_t i = 0; i < TABLE_SLOTS; i++)
		job->slot[i] = *a;
	job->n = n;
	job->blocks = blocks;
	job->go = true;
	pthread_cond_broadcast(&job->cond);
	while (job->written < job->blocks) {
		size_t due = job->written % TABLE_SLOTS, b;

		if (job->ready[due]) {
			struct rows_part *p = &job->slot[due];

			pthread_mutex_unlock(&job->lock);
			if (p->oom)
				rows_write(f, p); /* again here, row by row if memory is still short */
			else
				fwrite(p->buf, 1, p->len, f);
			pthread_mutex_lock(&job->lock);
			job->ready[due] = false;
			job->written++;
			pthread_cond_broadcast(&job->cond);
		} else if ((b = block_take(job)) < job->blocks) {
			pthread_mutex_unlock(&job->lock);
			block_format(job, b);
		} else {
			pthread_cond_wait(&job->cond, &job->lock);
		}
	}
	pthread_mutex_unlock(&job->lock);
}

static void table_rows(FILE *f, const struct sock_set *set, size_t n,
		       const struct sel_owner_ctx *owners, const struct netns_list *visited,
		       const struct layout *t, int cols, struct rows_job *job)
{
	struct rows_part p = { .set = set, .owners = owners, .visited = visited, .t = t,
			       .cols = cols, .to = n };
	char head[LINE_ROOM];
	struct line l = { head, 0 };

	if (t->nscol)
		cell(&l, "NETNS", t->wn, false);
	if (t->udp)
		cell(&l, "PROTO", 5, false);
	cell(&l, "STATE", 11, false);
	if (t->queues) {
		cell(&l, "RECV-Q", 6, true);
		cell(&l, "SEND-Q", 6, true);
	}
	cell(&l, "LOCAL", t->wl, false);
	cell(&l, "PEER", t->wp, false);
	if (t->idle)
		cell(&l, "IDLE", 5, true);
	if (t->with_outcome || t->skipped)
		cell(&l, "OUTCOME", t->wo, false);
	cell(&l, "PROCESS", 0, false);
	line_end(f, &l, cols);
	rows_blocks(f, &p, n, job);
}

/* An owner as the summary counts it: the lowest pid, or none, or unknown. */
struct owner_key {
	int32_t pid;	/* > 0; 0: nobody; -1: unknown */
	uint32_t idx;	/* the first record with it */
};

static int32_t owner_of_rec(const struct sock_rec *rec, const struct sel_owner_ctx *owners)
{
	if (selector_ownerless(rec))
		return 0;
	if (rec->pid > 0)
		return rec->pid;
	return owners_unknown(rec, owners) ? -1 : 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct owner_key *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* "owners: 1234/java 70, none 30, 3 others 12": the five that hold most, then the rest. */
static void owner_summary(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners)
{
	struct owner_key *k = malloc(set->n * sizeof(*k));
	struct { int32_t pid; uint32_t idx; size_t n; } top[5] = { { 0, 0, 0 } };
	size_t ntop = 0, distinct = 0, rest = 0;

	if (!k)
		return;
	for (size_t i = 0; i < set->n; i++)
		k[i] = (struct owner_key){ owner_of_rec(&set->v[i], owners), (uint32_t)i };
	qsort(k, set->n, sizeof(*k), key_cmp);
	for (size_t i = 0, j; i < set->n; i = j) {
		for (j = i + 1; j < set->n && k[j].pid == k[i].pid; j++)
			;
		size_t n = j - i, at = ntop < 5 ? ntop++ : 5;

		distinct++;
		/* Insert by count, largest first; what falls off the end is "others". */
		while (at > 0 && top[at - 1].n < n) {
			if (at < 5)
				top[at] = top[at - 1];
			else
				rest += top[4].n;
			at--;
		}
		if (at < 5) {
			top[at].pid = k[i].pid;
			top[at].idx = k[i].idx;
			top[at].n = n;
		} else {
			rest += n;
		}
	}
	fputs("owners: ", f);
	for (size_t i = 0; i < ntop; i++) {
		char name[96] = "none";

		if (top[i].pid < 0) {
			snprintf(name, sizeof(name), "?");
		} else if (top[i].pid > 0) {
			/* Not the table's cell cut at "+": a comm may hold a "+" itself. */
			owner_name(name, sizeof(name), &set->v[top[i].idx], owners, NULL);
		}
		fprintf(f, "%s%s %zu", i ? ", " : "", name, top[i].n);
	}
	if (distinct > ntop)
		fprintf(f, ", %zu others %zu", distinct - ntop, rest);
	fputc('\n', f);
	free(k);
}

/* "100 sockets: close-wait 70, time-wait 30" (by outcome after a kill). */
static void count_summary(FILE *f, const struct sock_set *set, bool with_outcome)
{
	size_t n[32] = { 0 };
	const char *sep = "";

	for (size_t i = 0; i < set->n; i++) {
		unsigned v = with_outcome ? set->v[i].outcome : set->v[i].state;

		n[v < 32 ? v : 31]++;
	}
	fprintf(f, "%zu socket%s: ", set->n, set->n == 1 ? "" : "s");
	for (unsigned v = 0; v < 32; v++) {
		if (!n[v])
			continue;
		fprintf(f, "%s%s %zu", sep, with_outcome ? sock_outcome_name(v) : sock_state_name(v),
			n[v]);
		sep = ", ";
	}
	fputc('\n', f);
}

/* The widths rows [from, to) need, grown in t (output_table_fit: half on each thread). */
struct widths {
	const struct sock_set *set;
	const struct sel_owner_ctx *owners;
	struct layout t;
	size_t from, to;
	int cols;		/* > 0: the PROCESS column's width matters (layout_width) */
};

/* Lengths only, cell by cell, and only those a layout uses: nothing here is printed. */
static void *widen(void *arg)
{
	struct widths *w = arg;
	char text[OUTCOME_SIZE > PROC_SIZE ? OUTCOME_SIZE : PROC_SIZE];
	struct owner_memo memo = { .pid = 0 };

	for (size_t i = w->from; i < w->to; i++) {
		const struct sock_rec *rec = &w->set->v[i];
		int n;

		w->t.udp |= rec->protocol == IPPROTO_UDP;
		w->t.skipped |= rec->outcome == OUT_SKIPPED;
		n = (int)endpoint_len(rec->family, rec->id.idiag_src, sock_sport(rec));
		if (n > w->t.wl)
			w->t.wl = n;
		n = (int)endpoint_len(rec->family, rec->id.idiag_dst, sock_dport(rec));
		if (n > w->t.wp)
			w->t.wp = n;
		n = (int)outcome_cell(text, OUTCOME_SIZE, rec, w->owners);
		if (n > w->t.wo)
			w->t.wo = n;
		if (w->cols > 0) {
			size_t len = proc_cell(text, PROC_SIZE, rec, w->owners, &memo);

			n = (int)text_columns(text, len);
			if (n > w->t.wproc)
				w->t.wproc = n;
		}
	}
	return NULL;
}

/*
 * A long table's one helper thread: the second half of the widths, then, once this thread
 * has the layout, blocks of rows (rows_blocks).
 */
struct table_helper {
	struct widths half;
	bool widths_done;	/* half.t is final */
	struct rows_job rows;	/* its lock and cond guard widths_done too */
	pthread_t th;
};

static void *table_helper_run(void *arg)
{
	struct table_helper *h = arg;

	widen(&h->half);
	pthread_mutex_lock(&h->rows.lock);
	h->widths_done = true;
	pthread_cond_broadcast(&h->rows.cond);
	pthread_mutex_unlock(&h->rows.lock);
	return rows_helper(&h->rows);
}

/* Starts h's thread; false (nothing to undo) when it cannot. */
static bool table_helper_start(struct table_helper *h)
{
	if (pthread_mutex_init(&h->rows.lock, NULL) != 0)
		return false;
	if (pthread_cond_init(&h->rows.cond, NULL) == 0) {
		if (pthread_create(&h->th, NULL, table_helper_run, h) == 0)
			return true;
		pthread_cond_destroy(&h->rows.cond);
	}
	pthread_mutex_destroy(&h->rows.lock);
	return false;
}

/* Once rows_blocks has run (which lets the helper finish): joins it, frees what it had. */
static void table_helper_end(struct table_helper *h)
{
	pthread_join(h->th, NULL);
	pthread_cond_destroy(&h->rows.cond);
	pthread_mutex_destroy(&h->rows.lock);
	for (size_t i = 0; i < TABLE_SLOTS; i++)
		free(h->rows.slot[i].buf);
}

void output_table_fit(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		      bool with_outcome, const struct netns_list *visited,
		      const struct output_fit *fit)
{
	struct layout t = { .nscol = visited && visited->n > 1, .queues = !with_outcome,
			    .idle = !with_outcome, .with_outcome = with_outcome,
			    .wn = (int)strlen("NETNS"), .wl = (int)strlen("LOCAL"),
			    .wp = (int)strlen("PEER"), .wo = (int)strlen("OUTCOME"),
			    .wproc = (int)strlen("PROCESS") };
	char ns[4 * NAME_MAX + 32];
	int cols = fit ? fit->cols : 0;
	/* Taller than the screen: two summary lines, the header, the first rows, "... more". */
	bool summary = fit && fit->rows > 0 && set->n + 4 > (size_t)fit->rows;
	size_t shown = set->n;

	if (summary) {
		shown = fit->rows > 13 ? (size_t)fit->rows - 8 : 5;
		if (shown > set->n)
			shown = set->n;
	}
	for (size_t i = 0; t.nscol && i < shown; i++) {
		ns_cell(ns, sizeof(ns), &visited->v[set->v[i].netns]);
		if ((int)text_columns(ns, strlen(ns)) > t.wn)
			t.wn = (int)text_columns(ns, strlen(ns));
	}
	struct table_helper h = { .half = { set, owners, t, shown / 2, shown, cols } };
	bool two = shown >= TABLE_PARALLEL_MIN && workers_available() > 1 &&
		   table_helper_start(&h);
	struct widths w = { set, owners, t, 0, two ? shown / 2 : shown, cols };

	widen(&w);
	t = w.t;
	if (two) {
		const struct layout *ht = &h.half.t;

		pthread_mutex_lock(&h.rows.lock);
		while (!h.widths_done)
			pthread_cond_wait(&h.rows.cond, &h.rows.lock);
		pthread_mutex_unlock(&h.rows.lock);
		t.udp |= ht->udp;
		t.skipped |= ht->skipped;
		t.wl = t.wl > ht->wl ? t.wl : ht->wl;
		t.wp = t.wp > ht->wp ? t.wp : ht->wp;
		t.wo = t.wo > ht->wo ? t.wo : ht->wo;
		t.wproc = t.wproc > ht->wproc ? t.wproc : ht->wproc;
	}
	if (with_outcome)
		t.skipped = false;
	/*
	 * Narrower than the table: the queues go first, then IDLE; addresses stay whole (they
	 * name the socket, and an IPv6 one is most of a line); the rest is cut at the edge.
	 */
	if (cols > 0 && layout_width(&t) > cols)
		t.queues = false;
	if (cols > 0 && layout_width(&t) > cols)
		t.idle = false;
	/* Then a long namespace name (255 bytes are allowed) is cut, not the addresses. */
	if (cols > 0 && t.nscol && layout_width(&t) > cols) {
		int wn = t.wn - (layout_width(&t) - cols);

		t.wn = wn > 8 ? wn : 8;
	}
	if (summary) {
		count_summary(f, set, with_outcome);
		owner_summary(f, set, owners);
	}
	table_rows(f, set, shown, owners, visited, &t, cols, two ? &h.rows : NULL);
	if (two)
		table_helper_end(&h);
	if (shown < set->n)
		fprintf(f, "... %zu more; --dry-run -j or a pipe shows all\n", set->n - shown);
}

/*
 * A socket's JSON is written by hand into room json_reserve gives (json.h says why): keys and
 * the punctuation around them are literals, numbers and IPv4 addresses are formatted in place.
 * At 100,000 sockets the audit intents are ~33 MB formatted on a thread while the destroys run
 * (issue 11's bench row 6): a call per field with a scan of its key took ~45 ms of its CPU.
 * tests/unit/test_audit_intent.c holds the exact bytes.
 */

/* "addr":"...","port":N} of an endpoint, its key and '{' written by the caller. */
static char *endpoint_cur(char *p, int family, const uint32_t addr[4], uint16_t port)
{
	p = json_cur_lit(p, "\"addr\":\"");
	/* IPv4 by hand: inet_ntop's sprintf was most of formatting 100,000 audit intents. */
	if (family == AF_INET) {
		const uint8_t *b = (const uint8_t *)addr;

		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = json_cur_u64(p, b[i]);
		}
	} else if (inet_ntop(family, addr, p, INET6_ADDRSTRLEN)) {
		p += strlen(p);
	}
	p = json_cur_lit(p, "\",\"port\":");
	p = json_cur_u64(p, port);
	*p++ = '}';
	return p;
}

/* A number, or null when known is false. */
static char *uint_or_null(char *p, bool known, uint64_t v)
{
	return known ? json_cur_u64(p, v) : json_cur_lit(p, "null");
}

/*
 * Room for the socket's fields from "cookie" to "idle_ms": the literals (under 200 bytes), a
 * 16-digit cookie, a state name, two IPv6 addresses and ports, seven numbers of up to 20 digits.
 */
#define SOCK_HEAD_ROOM (200 + 16 + 16 + 2 * (INET6_ADDRSTRLEN + 5) + 7 * 20)
/* An owner but its name: {"pid":N,"comm":,"fd":N} with the next one's ',' (and "null"). */
#define OWNER_ROOM 64
/* A name up to this long is written in place; a longer one (not a comm: 15 bytes) by json_str. */
#define NAME_INLINE 48

_Static_assert(SOCK_HEAD_ROOM <= JSON_RESERVE_MAX, "a socket's head fits one reservation");
_Static_assert(OWNER_ROOM + JSON_STR_ROOM(NAME_INLINE) <= JSON_RESERVE_MAX,
	       "an owner fits one reservation");

/* The fields from "cookie" to "idle_ms", the first of the socket's object. */
static void sock_head_json(struct json *j, const struct sock_rec *rec)
{
	const char *state = sock_state_name(rec->state);
	char *p = json_reserve(j, SOCK_HEAD_ROOM);

	if (!p)
		return;
	/* 64-bit cookies do not survive JSON numbers (doubles): hex strings, as ss prints them. */
	p = json_cur_lit(p, "\"cookie\":\"");
	p = json_cur_hex(p, sock_cookie(rec));
	p = rec->protocol == IPPROTO_UDP ? json_cur_lit(p, "\",\"protocol\":\"udp\"")
					 : json_cur_lit(p, "\",\"protocol\":\"tcp\"");
	p = rec->family == AF_INET ? json_cur_lit(p, ",\"family\":\"inet\"")
				   : json_cur_lit(p, ",\"family\":\"inet6\"");
	p = json_cur_lit(p, ",\"state\":");
	p = state ? json_cur_str(p, state, strlen(state)) : json_cur_lit(p, "null");
	p = json_cur_lit(p, ",\"local\":{");
	p = endpoint_cur(p, rec->family, rec->id.idiag_src, sock_sport(rec));
	p = json_cur_lit(p, ",\"peer\":{");
	p = endpoint_cur(p, rec->family, rec->id.idiag_dst, sock_dport(rec));
	p = json_cur_lit(p, ",\"inode\":");
	p = json_cur_u64(p, rec->inode);
	/* The kernel reports 0 for sockets without a file (TIME_WAIT, SYN_RECV): not root's. */
	p = json_cur_lit(p, ",\"uid\":");
	p = uint_or_null(p, !selector_ownerless(rec), rec->uid);
	p = json_cur_lit(p, ",\"cgroup_id\":");
	p = json_cur_u64(p, rec->cgroup_id);
	p = json_cur_lit(p, ",\"mark\":");
	p = uint_or_null(p, rec->flags & SOCK_F_MARK_KNOWN, rec->mark);
	p = json_cur_lit(p, ",\"recv_q\":");
	p = json_cur_u64(p, rec->rqueue);
	p = json_cur_lit(p, ",\"send_q\":");
	p = json_cur_u64(p, rec->wqueue);
	p = json_cur_lit(p, ",\"idle_ms\":");
	p = uint_or_null(p, rec->idle_ms != SOCK_IDLE_UNKNOWN, rec->idle_ms);
	json_advance(j, p);
}

/* --close-fd: "fd_closed" true/false, and what became of the descriptor and why. */
static void fd_result_json(struct json *j, const struct sock_rec *rec,
			   const struct sel_owner_ctx *owners, const struct sel_owner_info *o)
{
	const char *why = NULL, *res;

	if (!owners->fd_result)
		return;
	res = owners->fd_result(owners->fd_arg, rec, o->pid, o->fd, &why);
	if (!res)
		return;
	json_bool(j, "fd_closed", !strcmp(res, "closed"));
	json_str(j, "fd_result", res);
	if (why)
		json_str(j, "fd_why", why);
}

/*
 * {"pid":N,"comm":"...","fd":N...} of one owner, after a ',' unless first. The object is
 * written by hand inside the socket's: the writer's comma state stays the socket's, which is
 * right for fd_result_json's fields (they follow "fd").
 */
static void owner_json(struct json *j, const struct sock_rec *rec,
		       const struct sel_owner_ctx *owners, const struct sel_owner_info *o, bool first)
{
	size_t len = o->comm ? strlen(o->comm) : 0;
	char *p = json_reserve(j, OWNER_ROOM + JSON_STR_ROOM(len <= NAME_INLINE ? len : 0));

	if (!p)
		return;
	p = first ? json_cur_lit(p, "{\"pid\":") : json_cur_lit(p, ",{\"pid\":");
	p = json_cur_i64(p, o->pid);
	if (!o->comm) {
		p = json_cur_lit(p, ",\"comm\":null");
	} else if (len <= NAME_INLINE) {
		p = json_cur_lit(p, ",\"comm\":");
		p = json_cur_str(p, o->comm, len);
	} else {
		json_advance(j, p);
		json_strn(j, "comm", o->comm, len);
		p = json_reserve(j, OWNER_ROOM);
		if (!p)
			return;
	}
	p = json_cur_lit(p, ",\"fd\":");
	p = json_cur_i64(p, o->fd);
	json_advance(j, p);
	fd_result_json(j, rec, owners, o);
	p = json_reserve(j, 1);
	if (p) {
		*p++ = '}';
		json_advance(j, p);
	}
}

/*
 * Every known owner; null (not []) when none is known but some may exist, and owners_unknown
 * says why the list may be incomplete: "not-looked-up", "unreadable", "hidepid".
 */
static void owners_json(struct json *j, const struct sock_rec *rec,
			const struct sel_owner_ctx *owners)
{
	const char *unknown = owners_unknown(rec, owners);
	struct sel_owner_info o;
	char *p = json_reserve(j, OWNER_ROOM);

	if (!p)
		return;
	if (!selector_ownerless(rec) && (rec->pid < 0 || !owners || (rec->pid == 0 && unknown))) {
		p = json_cur_lit(p, ",\"owners\":null,\"owner_count\":null");
	} else {
		p = json_cur_lit(p, ",\"owners\":[");
		json_advance(j, p);
		for (size_t i = 0; rec->pid > 0 && owners && owners->owner(owners->arg, rec, i, &o);
		     i++)
			owner_json(j, rec, owners, &o, i == 0);
		p = json_reserve(j, OWNER_ROOM);
		if (!p)
			return;
		p = json_cur_lit(p, "],\"owner_count\":");
		p = json_cur_u64(p, selector_ownerless(rec) ? 0 : rec->nowners);
	}
	if (!unknown)
		p = json_cur_lit(p, ",\"owners_unknown\":null");
	json_advance(j, p);
	if (unknown)
		json_str(j, "owners_unknown", unknown);
}

void output_sock_json(struct json *j, const char *key, const struct sock_rec *rec,
		      const struct sel_owner_ctx *owners, bool with_outcome)
{
	output_sock_json_ns(j, key, rec, owners, with_outcome, NULL);
}

void output_sock_json_ns(struct json *j, const char *key, const struct sock_rec *rec,
			 const struct sel_owner_ctx *owners, bool with_outcome,
			 const struct netns_info *ns)
{
	if (rec->flags & SOCK_F_CONNTRACK) {
		forward_flow_json(j, key, rec, with_outcome);
		return;
	}
	json_obj_begin(j, key);
	sock_head_json(j, rec);
	owners_json(j, rec, owners);
	/* A skipped socket says so even in a preview or an audit intent: it is not acted on. */
	if (with_outcome || rec->outcome == OUT_SKIPPED) {
		json_str(j, "outcome", sock_outcome_name(rec->outcome));
		json_str(j, "error", sock_outcome_detail(rec));
		json_str(j, "engine", sock_engine_name(rec->engine));
		json_bool(j, "peer_reset", rec->flags & SOCK_F_PEER_RESET);
		json_str(j, "peer_end", sock_peer_end(rec));
	}
	if (ns)
		output_netns_json(j, "netns", ns);
	json_obj_end(j);
}

/* inode, name and pid of a namespace: null for what it has none of. */
static void netns_fields(struct json *j, const struct netns_info *ns)
{
	json_uint(j, "inode", ns->inode);
	json_str(j, "name", ns->name[0] ? ns->name : NULL);
	if (ns->pid > 0)
		json_int(j, "pid", ns->pid);
	else
		json_put_null(j, "pid");
}

void output_netns_json(struct json *j, const char *key, const struct netns_info *ns)
{
	json_obj_begin(j, key);
	netns_fields(j, ns);
	json_obj_end(j);
}

void output_netns_fields(struct json *j, const struct netns_info *ns)
{
	netns_fields(j, ns);
}

/*
 * The summary per namespace visited, in the order visited: each with its selected count and,
 * after a kill, its outcomes. A namespace with nothing selected is listed too (0), and one
 * left out says why (left_out: an errno name).
 */
static void netns_counts_json(struct json *j, const struct sock_set *set,
			      const struct netns_list *visited, bool with_outcome)
{
	/* One pass over the sockets, not one per namespace: 1,000 namespaces x 100,000 sockets. */
	size_t (*n)[OUT_MAX + 1] = calloc(visited->n ? visited->n : 1, sizeof(*n));

	if (!n) { /* out of memory: no per-namespace counts rather than wrong ones */
		json_put_null(j, "netns");
		return;
	}
	json_arr_begin(j, "netns");
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].netns >= visited->n)
			continue;
		n[set->v[i].netns][OUT_MAX]++; /* selected */
		n[set->v[i].netns][set->v[i].outcome < OUT_MAX ? set->v[i].outcome : OUT_FAILED]++;
	}
	for (size_t k = 0; k < visited->n; k++) {
		json_obj_begin(j, NULL);
		netns_fields(j, &visited->v[k]);
		json_uint(j, "selected", n[k][OUT_MAX]);
		if (visited->v[k].collect == NETNS_COLLECT_NONE)
			json_put_null(j, "collect");
		else
			json_str(j, "collect",
				 visited->v[k].collect == NETNS_COLLECT_BPF ? "bpf" : "dump");
		for (unsigned o = OUT_KILLED; with_outcome && o < OUT_MAX; o++)
			json_uint(j, sock_outcome_name(o), n[k][o]);
		/* Its 0 then means "not looked in", not "nothing there". */
		json_str(j, "left_out", visited->v[k].left_out
						? sock_errno_name(visited->v[k].left_out) : NULL);
		json_obj_end(j);
	}
	json_arr_end(j);
	free(n);
}

void output_json(FILE *f, const struct sock_set *set, const struct sel_owner_ctx *owners,
		 const struct output_run *run)
{
	struct json j;

	output_json_open(&j, f, run);
	json_arr_begin(&j, "sockets");
	for (size_t i = 0; i < set->n; i++)
		output_sock_json_ns(&j, NULL, &set->v[i], owners, run->counts != NULL,
				    run->visited ? &run->visited->v[set->v[i].netns] : NULL);
	json_arr_end(&j);
	output_json_close(&j, f, set, run);
}

void output_json_open(struct json *j, FILE *f, const struct output_run *run)
{
	json_init(j, f);
	json_obj_begin(j, NULL);
	json_uint(j, "schema", OUTPUT_SCHEMA);
	json_str(j, "mode", run->mode);
	json_str(j, "selector", run->selector);
	json_str(j, "engine", run->engine);
	if (run->netns)
		output_netns_json(j, "netns", run->netns);
}

void output_json_close(struct json *j, FILE *f, const struct sock_set *set,
		       const struct output_run *run)
{
	/* The same fields whether or not anything matched: a kill that found nothing counts 0s. */
	json_obj_begin(j, "summary");
	json_uint(j, "selected", set->n);
	json_str(j, "owners_source", run->owners_source);
	if (run->counts || !strcmp(run->mode, "kill")) {
		for (unsigned o = OUT_KILLED; o < OUT_MAX; o++)
			json_uint(j, sock_outcome_name(o), run->counts ? run->counts->n[o] : 0);
		/* --close-fd: the descriptors returned to their processes; null without it. */
		if (run->counts && run->counts->close_fd)
			json_uint(j, "fds_closed", run->counts->fds_closed);
		else
			json_put_null(j, "fds_closed");
	}
	json_uint(j, "exit_status", (unsigned)run->exit_status);
	json_double(j, "elapsed_ms", run->elapsed_ms, 3);
	if (run->visited) {
		size_t by[3] = { 0, 0, 0 };

		for (size_t k = 0; k < run->visited->n; k++)
			by[run->visited->v[k].collect < 3 ? run->visited->v[k].collect : 0]++;
		/* How many namespaces the one-pass discovery spared a dump. */
		json_obj_begin(j, "collect");
		json_uint(j, "bpf_proven", by[NETNS_COLLECT_BPF]);
		json_uint(j, "dumped", by[NETNS_COLLECT_DUMP]);
		json_obj_end(j);
		netns_counts_json(j, set, run->visited, run->counts != NULL);
	}
	json_obj_end(j);
	json_obj_end(j);
	fputc('\n', f);
}

void output_counts(FILE *f, const struct plan_counts *c)
{
	const char *sep = "";

	for (unsigned o = OUT_KILLED; o < OUT_MAX; o++) {
		if (!c->n[o] && o != OUT_KILLED)
			continue;
		fprintf(f, "%s%zu %s", sep, c->n[o], sock_outcome_name(o));
		sep = ", ";
	}
}

void output_explain(FILE *f, const struct sel_node *ast)
{
	struct sel_prefilter pf;
	char text[4096], shown[4 * sizeof(text)];
	const char *sep = "";

	selector_format(ast, text, sizeof(text));
	/* Values came from the command line, maybe pasted from a hostile name. */
	text_escape(shown, sizeof(shown), text, strlen(text));
	selector_prefilter(ast, &pf);
	fprintf(f, "selector:   %s\n", ast ? shown : "(empty: every socket, with --all)");
	fprintf(f, "kernel:     states ");
	for (unsigned s = SS_ESTABLISHED; s < SS_NEW_SYN_RECV; s++)
		if (pf.states & SS_BIT(s)) {
			fprintf(f, "%s%s", sep, sock_state_name(s));
			sep = ",";
		}
	fprintf(f, "%s\n", *sep ? "" : "(none)");
	fprintf(f, "            families %s%s%s\n", pf.inet ? "inet" : "",
		pf.inet && pf.inet6 ? "," : "", pf.inet6 ? "inet6" : "");
	if (pf.bclen) {
		fprintf(f, "            bytecode, %zu bytes (%s):\n", pf.bclen,
			pf.bc_exact ? "decides the whole selector"
				    : "port and address tests; the rest is checked in user space");
		selector_bytecode_dump(f, pf.bc, pf.bclen, "          ");
	} else {
		fprintf(f, "            no bytecode (no port or address test the kernel can apply)\n");
	}
	fprintf(f, "user space: the whole selector, on what the kernel returns%s\n",
		selector_needs_owners(ast) ? "; owner predicates (pid, comm) last, only for "
					     "sockets that passed the rest"
					   : "");
	if (!selector_names_listen(ast))
		fprintf(f, "guards:     listening sockets are not selected (name \"state listen\" to "
			   "select them)\n");
}

void output_explain_json(FILE *f, const struct sel_node *ast, const struct netns_list *netns)
{
	struct sel_prefilter pf;
	struct json j;
	char text[4096];

	selector_format(ast, text, sizeof(text));
	selector_prefilter(ast, &pf);
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_uint(&j, "schema", OUTPUT_SCHEMA);
	json_str(&j, "mode", "explain");
	json_str(&j, "selector", ast ? text : NULL);
	json_obj_begin(&j, "kernel");
	json_arr_begin(&j, "states");
	for (unsigned st = SS_ESTABLISHED; st < SS_NEW_SYN_RECV; st++)
		if (pf.states & SS_BIT(st))
			json_str(&j, NULL, sock_state_name(st));
	json_arr_end(&j);
	json_arr_begin(&j, "families");
	if (pf.inet)
		json_str(&j, NULL, "inet");
	if (pf.inet6)
		json_str(&j, NULL, "inet6");
	json_arr_end(&j);
	json_uint(&j, "bytecode_bytes", pf.bclen);
	json_bool(&j, "bytecode_exact", pf.bclen && pf.bc_exact);
	/* The ops as the text form prints them, one string each. */
	json_arr_begin(&j, "bytecode");
	char *ops = NULL;
	size_t opslen = 0;
	FILE *m = pf.bclen ? open_memstream(&ops, &opslen) : NULL;

	if (m) {
		selector_bytecode_dump(m, pf.bc, pf.bclen, "");
		fclose(m);
		for (char *line = ops, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			while (*line == ' ')
				line++;
			json_strn(&j, NULL, line, nl ? (size_t)(nl - line) : strlen(line));
		}
	}
	free(ops);
	json_arr_end(&j);
	json_obj_end(&j);
	json_bool(&j, "owners_needed", selector_needs_owners(ast));
	json_bool(&j, "listen_selected", selector_names_listen(ast));
	if (netns) {
		json_arr_begin(&j, "netns");
		for (size_t i = 0; i < netns->n; i++)
			output_netns_json(&j, NULL, &netns->v[i]);
		json_arr_end(&j);
	}
	json_obj_end(&j);
	fputc('\n', f);
}

const char *output_owner_note(const struct sock_set *set, const struct sel_owner_ctx *owners,
			      bool *some_known)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *why = owners_unknown(&set->v[i], owners);

		if (why) {
			*some_known = set->v[i].pid > 0;
			return why;
		}
	}
	return NULL;
}

bool output_confirm(FILE *in, FILE *out, size_t n, const char *noun)
{
	char line[16];

	fprintf(out, "Kill %zu %s%s? [y/N] ", n, noun, n == 1 ? "" : "s");
	fflush(out);
	if (!fgets(line, sizeof(line), in))
		return false;
	return !strcasecmp(line, "y\n") || !strcasecmp(line, "yes\n");
}
