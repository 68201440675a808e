// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * churnrig: N TCP connections to one listener, each from its own fixed client port, and a churn
 * that aborts them and reconnects from the same port (same 4-tuple, new cookies) while something
 * outside kills some of them. It tells, by cookie, the ends it closed itself from the ends
 * killed from outside, so a test can hold a kill's outcomes against what really happened.
 *
 *   churnrig [-a ADDR] [-p PORT] [-c CLIENT_PORT] [-n N] [-r RATE] [-t SECONDS]
 *
 * Connection i goes from ADDR:CLIENT_PORT+i to ADDR:PORT; the rig holds both ends. A churn event
 * (at most RATE a second, for at most SECONDS after "go") takes a slot whose connection died,
 * or else a random one, aborts what is left of it (the server end through a disconnect, which
 * sends a reset and leaves no TIME_WAIT; the client end closed with SO_LINGER {1, 0}) and
 * connects again from the same port. Every end is watched (epoll); an end that dies without the
 * rig having aborted it is recorded as killed from outside, with its connection's server cookie.
 *
 * Prints "ready PID". Commands on stdin, one answer line each:
 *   go      starts the churn                     -> "going"
 *   stop    stops it                             -> "stopped REUSE"
 *   count   reuse events so far, live slots      -> "reuse REUSE live LIVE"
 *   report  after a last look at every end, one JSON object:
 *           {"reuse": R, "connect_errors": E, "live": L, "raced": K, "late_resets": D,
 *            "killed": [{"end": "server"|"client", "cookie": HEX, "server": HEX,
 *                        "error": "ECONNABORTED"}, ...],
 *            "closed": [HEX, ...]}      (server ends the rig aborted itself)
 *           raced: server ends killed from outside between the rig's check and its abort;
 *           late_resets: the rig's own resets that reached the client end late (abort_raced)
 *           cookies are lowercase hex without leading zeros, as sockreap --json prints them
 *   quit    (or end of input) exits
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RIG_NAME "churnrig"
#include "rig.h"

#define STDIN_TAG UINT64_MAX
/* A late churn does not catch up more than this: the rate is a ceiling, not a quota. */
#define MAX_LAG_NS 100000000LL
/* How long the rig waits for its own reset to reach a client end whose softirq was deferred. */
#define LATE_RESET_MS 2

struct end {
	int fd;			/* -1: none */
	uint64_t cookie;
	bool dead;		/* killed from outside, recorded, no longer watched */
};

struct slot {
	struct end srv, cli;
	bool queued;		/* waiting in the dead-slot queue */
};

struct kill {
	uint64_t cookie, server;	/* the end's cookie and its connection's server cookie */
	int err;
	bool client;
};

struct rig {
	int lfd, ep, n;
	const char *addr;
	int cport;
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct slot *slots;
	int *queue, qhead, qlen;	/* slots with a dead end, reconnected first */
	uint64_t reuse, connect_errors, rng;
	uint64_t raced, late_resets;	/* see abort_raced */
	struct kill *kills;
	size_t nkills, kcap;
	uint64_t *closed;
	size_t nclosed, ccap;
	bool churning;
	long long rate, next_ns, stop_ns, seconds;
	char line[256];
	size_t linelen;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64*: which slot to churn needs spreading out, not secrecy. */
static uint64_t rnd(struct rig *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dULL;
}

static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return v;
	*cap = *cap ? *cap * 2 : 1024;
	v = realloc(v, *cap * size);
	if (!v)
		rig_die("realloc");
	return v;
}

static uint64_t cookie_of(int fd)
{
	uint64_t c = 0;
	socklen_t len = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len) < 0)
		rig_die("SO_COOKIE");
	return c;
}

/* Reads (and clears) the pending error; 0 if none. */
static int sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/*
 * Whether an end has died: a pending error, or any state but ESTABLISHED (nobody here sends a
 * FIN, so anything else came from outside). *err gets the error, or EPIPE for a bare state.
 */
static bool end_dead(int fd, int *err)
{
	*err = sock_error(fd);
	if (*err)
		return true;
	if (rig_tcp_state(fd) != TCP_ESTABLISHED) {
		*err = EPIPE;
		return true;
	}
	return false;
}

static void queue_slot(struct rig *r, int i)
{
	if (r->slots[i].queued)
		return;
	r->slots[i].queued = true;
	r->queue[(r->qhead + r->qlen++) % r->n] = i;
}

/* Records an end killed from outside and stops watching it; its slot is reconnected soon. */
static void killed(struct rig *r, int i, bool client, int err)
{
	struct slot *s = &r->slots[i];
	struct end *e = client ? &s->cli : &s->srv;

	r->kills = grow(r->kills, &r->kcap, r->nkills + 1, sizeof(*r->kills));
	r->kills[r->nkills++] = (struct kill){ .cookie = e->cookie, .server = s->srv.cookie,
					       .err = err, .client = client };
	e->dead = true;
	epoll_ctl(r->ep, EPOLL_CTL_DEL, e->fd, NULL);
	queue_slot(r, i);
}

static void check_end(struct rig *r, int i, bool client)
{
	struct end *e = client ? &r->slots[i].cli : &r->slots[i].srv;
	int err;

	if (e->fd >= 0 && !e->dead && end_dead(e->fd, &err))
		killed(r, i, client, err);
}

static void watch(struct rig *r, int fd, int i, bool client)
{
	struct epoll_event ev = { .events = EPOLLRDHUP, .data.u64 = (uint64_t)i * 2 + client };

	/* EPOLLERR and EPOLLHUP are always reported. */
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		rig_die("epoll_ctl");
}

/* A new connection from slot i's client port; false (counted) if the kernel refused it. */
static bool connect_slot(struct rig *r, int i)
{
	struct slot *s = &r->slots[i];
	struct sockaddr_storage src, peer;
	socklen_t sl = rig_addr(r->addr, r->cport + i, &src), pl = sizeof(peer);
	int one = 1, c = socket(r->dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (c < 0)
		rig_die("socket");
	/* The old client end is closed, but its port must be free to bind again at once. */
	if (setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(c, (struct sockaddr *)&src, sl) < 0 ||
	    connect(c, (struct sockaddr *)&r->dst, r->dlen) < 0) {
		close(c);
		r->connect_errors++;
		return false;
	}
	int a = accept4(r->lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);

	if (a < 0)
		rig_die("accept");
	/* One connect at a time: the accepted end must be this slot's. */
	int from = ntohs(peer.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&peer)->sin6_port
						    : ((struct sockaddr_in *)&peer)->sin_port);

	if (from != r->cport + i) {
		fprintf(stderr, "churnrig: accepted a connection from port %d, expected %d\n", from,
			r->cport + i);
		exit(1);
	}
	s->srv = (struct end){ .fd = a, .cookie = cookie_of(a) };
	s->cli = (struct end){ .fd = c, .cookie = cookie_of(c) };
	watch(r, a, i, false);
	watch(r, c, i, true);
	return true;
}

/*
 * Whether the server end the rig just disconnected had been killed from outside after the
 * check before it (a window of microseconds). A destroy leaves ECONNABORTED, which a disconnect
 * does not overwrite. A reset leaves ECONNRESET, as the disconnect does, but then the disconnect
 * found the socket closed and sent nothing: the client end, checked alive just before, is still
 * established. On loopback the rig's own reset reaches the client within the disconnect
 * (softirq on the way out of the send); a short wait covers one that was deferred.
 */
static bool abort_raced(struct rig *r, const struct slot *s, int err)
{
	struct pollfd p = { .fd = s->cli.fd, .events = POLLRDHUP };

	if (err == ECONNABORTED)
		return true;
	if (s->cli.fd < 0 || s->cli.dead || rig_tcp_state(s->cli.fd) != TCP_ESTABLISHED)
		return false;
	poll(&p, 1, LATE_RESET_MS);
	if (rig_tcp_state(s->cli.fd) == TCP_ESTABLISHED)
		return true;
	r->late_resets++;
	return false;
}

/*
 * One reuse event on slot i: whatever died from outside is recorded first, then the rig aborts
 * the rest itself and connects again from the same port.
 */
static void churn_slot(struct rig *r, int i)
{
	struct slot *s = &r->slots[i];
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };

	s->queued = true;	/* being handled: a death found now does not queue it again */
	check_end(r, i, false);
	check_end(r, i, true);
	if (s->srv.fd >= 0) {
		if (!s->srv.dead) {
			struct sockaddr sa = { .sa_family = AF_UNSPEC };
			int err;

			/* A disconnect resets the peer and frees the 4-tuple but keeps the fd. */
			connect(s->srv.fd, &sa, sizeof(sa));
			err = sock_error(s->srv.fd);
			if (abort_raced(r, s, err)) {
				r->raced++;
				killed(r, i, false, err ? err : ECONNRESET);
			} else {
				r->closed = grow(r->closed, &r->ccap, r->nclosed + 1,
						 sizeof(*r->closed));
				r->closed[r->nclosed++] = s->srv.cookie;
			}
		}
		close(s->srv.fd);
		s->srv.fd = -1;
	}
	if (s->cli.fd >= 0) {
		/* Checked above; a reset since then is the rig's own. No FIN, no TIME_WAIT. */
		setsockopt(s->cli.fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		close(s->cli.fd);
		s->cli.fd = -1;
	}
	s->queued = false;
	if (connect_slot(r, i))
		r->reuse++;
	else
		queue_slot(r, i);	/* try again later */
}

static void churn_due(struct rig *r)
{
	long long now = now_ns();

	if (now >= r->stop_ns) {
		r->churning = false;
		return;
	}
	if (r->next_ns < now - MAX_LAG_NS)
		r->next_ns = now - MAX_LAG_NS;
	while (r->next_ns <= now) {
		int i;

		if (r->qlen) {
			i = r->queue[r->qhead];
			r->qhead = (r->qhead + 1) % r->n;
			r->qlen--;
		} else {
			i = (int)(rnd(r) % (uint64_t)r->n);
		}
		churn_slot(r, i);
		r->next_ns += 1000000000LL / r->rate;
	}
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "unknown";
}

static int live(const struct rig *r)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->slots[i].srv.fd >= 0 && !r->slots[i].srv.dead &&
		     r->slots[i].cli.fd >= 0 && !r->slots[i].cli.dead;
	return n;
}

static void report(struct rig *r)
{
	/* Deaths whose epoll events are still queued: the kill is over, look at every end. */
	for (int i = 0; i < r->n; i++) {
		check_end(r, i, false);
		check_end(r, i, true);
	}
	printf("{\"reuse\": %" PRIu64 ", \"connect_errors\": %" PRIu64 ", \"live\": %d, "
	       "\"raced\": %" PRIu64 ", \"late_resets\": %" PRIu64 ", \"killed\": [",
	       r->reuse, r->connect_errors, live(r), r->raced, r->late_resets);
	for (size_t k = 0; k < r->nkills; k++)
		printf("%s{\"end\": \"%s\", \"cookie\": \"%" PRIx64 "\", \"server\": \"%" PRIx64
		       "\", \"error\": \"%s\"}", k ? ", " : "", r->kills[k].client ? "client" : "server",
		       r->kills[k].cookie, r->kills[k].server, errname(r->kills[k].err));
	printf("], \"closed\": [");
	for (size_t k = 0; k < r->nclosed; k++)
		printf("%s\"%" PRIx64 "\"", k ? ", " : "", r->closed[k]);
	printf("]}\n");
}

/* One command line; false on "quit". */
static bool command(struct rig *r, const char *cmd)
{
	if (!strcmp(cmd, "go")) {
		r->churning = true;
		r->next_ns = now_ns();
		r->stop_ns = r->next_ns + r->seconds * 1000000000LL;
		printf("going\n");
	} else if (!strcmp(cmd, "stop")) {
		r->churning = false;
		printf("stopped %" PRIu64 "\n", r->reuse);
	} else if (!strcmp(cmd, "count")) {
		printf("reuse %" PRIu64 " live %d\n", r->reuse, live(r));
	} else if (!strcmp(cmd, "report")) {
		report(r);
	} else if (!strcmp(cmd, "quit")) {
		return false;
	} else {
		printf("unknown command \"%s\"\n", cmd);
	}
	fflush(stdout);
	return true;
}

/* Reads what stdin has (epoll said so) and runs each whole line; false on quit or EOF. */
static bool read_commands(struct rig *r)
{
	ssize_t got = read(0, r->line + r->linelen, sizeof(r->line) - 1 - r->linelen);
	char *nl;

	if (got <= 0)
		return false;
	r->linelen += (size_t)got;
	r->line[r->linelen] = '\0';
	while ((nl = strchr(r->line, '\n'))) {
		*nl = '\0';
		if (!command(r, r->line))
			return false;
		r->linelen -= (size_t)(nl + 1 - r->line);
		memmove(r->line, nl + 1, r->linelen + 1);
	}
	if (r->linelen == sizeof(r->line) - 1)
		r->linelen = 0; /* an overlong line is nobody's command */
	return true;
}

static void run(struct rig *r)
{
	struct epoll_event evs[64];
	struct epoll_event in = { .events = EPOLLIN, .data.u64 = STDIN_TAG };

	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, 0, &in) < 0)
		rig_die("epoll_ctl stdin");
	for (;;) {
		int timeout = -1;

		if (r->churning) {
			long long wait = r->next_ns - now_ns();

			timeout = wait > 0 ? (int)((wait + 999999) / 1000000) : 0;
		}
		int n = epoll_wait(r->ep, evs, 64, timeout);

		if (n < 0 && errno != EINTR)
			rig_die("epoll_wait");
		for (int k = 0; k < n; k++) {
			uint64_t tag = evs[k].data.u64;

			if (tag == STDIN_TAG) {
				if (!read_commands(r))
					return;
				continue;
			}
			/* From outside: the rig's own aborts close their fds before it waits. */
			check_end(r, (int)(tag / 2), tag & 1);
		}
		if (r->churning)
			churn_due(r);
	}
}

int main(int argc, char **argv)
{
	struct rig r = { .addr = "127.0.0.1", .cport = 20000, .n = 200, .rate = 2000,
			 .seconds = 30 };
	int port = 7000, opt, one = 1;

	while ((opt = getopt(argc, argv, "a:p:c:n:r:t:")) != -1) {
		switch (opt) {
		case 'a': r.addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': r.cport = atoi(optarg); break;
		case 'n': r.n = atoi(optarg); break;
		case 'r': r.rate = atoll(optarg); break;
		case 't': r.seconds = atoll(optarg); break;
		default:
			fprintf(stderr, "usage: churnrig [-a ADDR] [-p PORT] [-c CLIENT_PORT] [-n N] "
					"[-r RATE] [-t SECONDS]\n");
			return 2;
		}
	}
	if (optind != argc || r.n < 1 || r.n > 9000 || r.cport < 1 || r.cport + r.n > 65536 ||
	    r.rate < 1 || r.rate > 100000 || r.seconds < 1 ||
	    (port >= r.cport && port < r.cport + r.n)) {
		fprintf(stderr, "churnrig: bad arguments (N 1-9000, RATE 1-100000/s, SECONDS >= 1, "
				"PORT outside the client ports)\n");
		return 2;
	}
	r.dlen = rig_addr(r.addr, port, &r.dst);
	r.slots = calloc((size_t)r.n, sizeof(*r.slots));
	r.queue = calloc((size_t)r.n, sizeof(*r.queue));
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	r.lfd = socket(r.dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!r.slots || !r.queue || r.ep < 0 || r.lfd < 0)
		rig_die("setup");
	if (setsockopt(r.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(r.lfd, (struct sockaddr *)&r.dst, r.dlen) < 0 || listen(r.lfd, 4096) < 0)
		rig_die("listen");
	r.rng = (uint64_t)now_ns() | 1;
	for (int i = 0; i < r.n; i++)
		if (!connect_slot(&r, i))
			rig_die("connect");
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	run(&r);
	free(r.slots);
	free(r.queue);
	free(r.kills);
	free(r.closed);
	return 0;
}
