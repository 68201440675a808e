// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The only file that talks sock_diag. Sockets and message parsing come from libnl-3 core;
 * requests are built here because libnl's idiag module predates cookies and bytecode.
 * Receives go into one buffer owned by the handle: no allocation per socket or per batch.
 */
#include "diag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/socket.h>

#define RECV_BUF (64 * 1024)
/* Acks read per recvmmsg, each into a slot of the receive buffer (an ack is 36 bytes). */
#define ACK_VEC 256
#define ACK_SLOT (RECV_BUF / ACK_VEC)
#define SOCK_RCVBUF (8 * 1024 * 1024)

struct diag {
	struct nl_sock *dump;
	struct nl_sock *kill;	/* acks on the dumping socket would corrupt a dump */
	uint32_t seq;
	char *buf;
	char *req;		/* DIAG_BATCH requests */
};

struct diag_request {
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;
};

static int open_one(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1, size = SOCK_RCVBUF, err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (err < 0) {
		/* libnl folds EMFILE/ENFILE into NLE_FAILURE; its errno still says which. */
		int sys = errno;

		nl_socket_free(sk);
		if (err == -NLE_PROTO_MISMATCH || err == -NLE_NOADDR)
			return -EPROTONOSUPPORT;
		if (err == -NLE_NOMEM)
			return -ENOMEM;
		if (err == -NLE_PERM)
			return -EPERM;
		return sys == EMFILE || sys == ENFILE ? -sys : -EIO;
	}
	int fd = nl_socket_get_fd(sk);

	/* FORCE needs CAP_NET_ADMIN; without it the plain size (capped by rmem_max) will do. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = sk;
	return 0;
}

/* with_dump: the dumping socket too (a worker's handle only destroys and looks up). */
static int open_handle(struct diag **out, bool with_dump)
{
	struct diag *d = calloc(1, sizeof(*d));
	int ret = -ENOMEM;

	if (!d)
		goto cleanup;
	ret = with_dump ? open_one(&d->dump) : 0;
	if (ret < 0)
		goto cleanup;
	ret = open_one(&d->kill);
	if (ret < 0)
		goto cleanup;
	d->seq = 1;
	*out = d;
	return 0;
cleanup:
	diag_close(d);
	return ret;
}

/*
 * The buffers come with the first use and go with diag_trim: a run that holds a handle in each
 * of 1,000 namespaces touched ~12 KiB of them per handle (12 MiB), though it uses one or two
 * at a time.
 */
static int bufs(struct diag *d)
{
	if (d->buf)
		return 0;
	d->buf = malloc(RECV_BUF);
	d->req = malloc(DIAG_BATCH * sizeof(struct diag_request));
	if (d->buf && d->req)
		return 0;
	diag_trim(d);
	return -ENOMEM;
}

void diag_trim(struct diag *d)
{
	if (!d)
		return;
	free(d->buf);
	free(d->req);
	d->buf = d->req = NULL;
}

int diag_open(struct diag **out)
{
	return open_handle(out, true);
}

int diag_open_worker(struct diag **out)
{
	return open_handle(out, false);
}

void diag_close(struct diag *d)
{
	if (!d)
		return;
	if (d->dump)
		nl_socket_free(d->dump);
	if (d->kill)
		nl_socket_free(d->kill);
	free(d->buf);
	free(d->req);
	free(d);
}

/*
 * The attributes after the fixed part, walked once by hand: libnl's nlmsg_parse clears and
 * fills a table of every attribute type first, and this runs for every socket of a dump
 * (100,000 in a big kill, on the dump's thread, which the kill waits for).
 */
int diag_parse(const struct nlmsghdr *h, int protocol, struct sock_rec *rec)
{
	const struct inet_diag_msg *m;
	const char *a, *end;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EINVAL;
	m = nlmsg_data(h);
	memset(rec, 0, sizeof(*rec));
	rec->id = m->id;
	rec->family = m->idiag_family;
	rec->protocol = (uint8_t)protocol;
	rec->state = m->idiag_state == SS_NEW_SYN_RECV ? SS_SYN_RECV : m->idiag_state;
	rec->timer = m->idiag_timer;
	rec->uid = m->idiag_uid;
	rec->inode = m->idiag_inode;
	rec->rqueue = m->idiag_rqueue;
	rec->wqueue = m->idiag_wqueue;
	rec->idle_ms = SOCK_IDLE_UNKNOWN;
	rec->pid = -1;
	rec->fd = -1;
	a = (const char *)h + NLMSG_LENGTH(sizeof(*m));
	end = (const char *)h + h->nlmsg_len;
	/* A malformed attribute ends the walk: the fixed part is what matters; these are extras. */
	while (end - a >= NLA_HDRLEN) {
		const struct nlattr *nla = (const struct nlattr *)a;
		size_t len = nla->nla_len;
		const char *data = a + NLA_HDRLEN;

		if (len < NLA_HDRLEN || len > (size_t)(end - a))
			break;
		len -= NLA_HDRLEN;
		switch (nla->nla_type & NLA_TYPE_MASK) {
		case INET_DIAG_INFO:
			/* Both fields or neither: an older kernel's shorter tcp_info has them all. */
			if (len >= offsetof(struct tcp_info, tcpi_last_ack_recv)) {
				uint32_t sent, recv;

				memcpy(&sent, data + offsetof(struct tcp_info, tcpi_last_data_sent),
				       sizeof(sent));
				memcpy(&recv, data + offsetof(struct tcp_info, tcpi_last_data_recv),
				       sizeof(recv));
				rec->idle_ms = sent < recv ? sent : recv;
			}
			break;
		case INET_DIAG_MARK:
			if (len >= 4) {
				memcpy(&rec->mark, data, sizeof(rec->mark));
				rec->flags |= SOCK_F_MARK_KNOWN;
			}
			break;
		case INET_DIAG_CGROUP_ID:
			if (len >= 8)
				memcpy(&rec->cgroup_id, data, sizeof(rec->cgroup_id));
			break;
		default:
			break;
		}
		a += NLA_ALIGN(nla->nla_len);
	}
	return 0;
}

static void fill_request(struct diag_request *q, uint16_t type, uint16_t flags, uint32_t seq,
			 int family, int protocol, uint32_t states)
{
	memset(q, 0, sizeof(*q));
	q->h.nlmsg_len = sizeof(*q);
	q->h.nlmsg_type = type;
	q->h.nlmsg_flags = flags;
	q->h.nlmsg_seq = seq;
	q->r.sdiag_family = (uint8_t)family;
	q->r.sdiag_protocol = (uint8_t)protocol;
	q->r.idiag_states = states;
}

static int send_all(struct nl_sock *sk, void *buf, size_t len)
{
	int ret = nl_sendto(sk, buf, len);

	if (ret < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * Both families of TCP in one walk: the kernel's old TCPDIAG_GETSOCK request dumps with family
 * AF_UNSPEC (inet_diag_dump_compat), where SOCK_DIAG_BY_FAMILY needs one request, and one walk
 * of the shared established hash table, per family. Same state mask, bytecode and records.
 */
static int append_compat(struct nl_msg **msg, const struct diag_filter *flt)
{
	struct inet_diag_req req;

	*msg = nlmsg_alloc_simple(TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP);
	if (!*msg)
		return -ENOMEM;
	memset(&req, 0, sizeof(req));
	req.idiag_states = flt->states;
	req.idiag_ext = flt->no_info ? 0 : 1U << (INET_DIAG_INFO - 1);
	return nlmsg_append(*msg, &req, sizeof(req), NLMSG_ALIGNTO) < 0 ? -ENOMEM : 0;
}

/*
 * Reads the answers to dump seq until its DONE: each message of type goes to each(), whose
 * first error is kept while the rest of the dump is drained. Returns that error, or the one a
 * dump that failed part-way puts in DONE's payload, or NLMSG_ERROR's, or 0.
 */
static int read_dump(struct diag *d, uint32_t seq, uint16_t type,
		     int (*each)(struct nlmsghdr *h, void *arg), void *arg)
{
	int fd = nl_socket_get_fd(d->dump), ret = 0;

	for (;;) {
		ssize_t n = recv(fd, d->buf, RECV_BUF, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int rem = (int)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)d->buf; nlmsg_ok(h, rem);
		     h = nlmsg_next(h, &rem)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				if (nlmsg_datalen(h) >= (int)sizeof(int) && *(int *)nlmsg_data(h) < 0 &&
				    !ret)
					ret = *(int *)nlmsg_data(h);
				return ret;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = nlmsg_data(h);

				return e->error ? e->error : ret;
			}
			if (h->nlmsg_type != type || ret < 0)
				continue;
			int r = each(h, arg);

			if (r < 0)
				ret = r;
		}
	}
}

/* diag_dump's callback and its argument: a record per socket the kernel answered with. */
struct inet_answers {
	int protocol;
	diag_sock_cb cb;
	void *arg;
};

static int inet_answer(struct nlmsghdr *h, void *arg)
{
	const struct inet_answers *st = arg;
	struct sock_rec rec;

	return diag_parse(h, st->protocol, &rec) == 0 ? st->cb(&rec, st->arg) : 0;
}

int diag_dump(struct diag *d, const struct diag_filter *flt, diag_sock_cb cb, void *arg)
{
	struct nl_msg *msg;
	struct inet_diag_req_v2 req;
	uint32_t seq;
	int protocol = flt->protocol;
	int ret = 0;
	uint16_t type = SOCK_DIAG_BY_FAMILY;

	if (!d->dump)
		return -EBADF; /* a worker's handle: destroy and lookup only */
	if (bufs(d) < 0)
		return -ENOMEM;
	if (flt->family == AF_UNSPEC) {
		if (protocol != IPPROTO_TCP)
			return -EINVAL;
		type = TCPDIAG_GETSOCK;
		if (append_compat(&msg, flt) < 0)
			goto nomem;
	} else {
		msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
		if (!msg)
			return -ENOMEM;
		memset(&req, 0, sizeof(req));
		req.sdiag_family = (uint8_t)flt->family;
		req.sdiag_protocol = (uint8_t)flt->protocol;
		req.idiag_states = flt->states;
		req.idiag_ext = flt->no_info ? 0 : 1U << (INET_DIAG_INFO - 1);
		if (nlmsg_append(msg, &req, sizeof(req), NLMSG_ALIGNTO) < 0)
			goto nomem;
	}
	if (flt->bclen && nla_put(msg, INET_DIAG_REQ_BYTECODE, (int)flt->bclen, flt->bytecode) < 0)
		goto nomem;
	seq = d->seq++;
	nlmsg_hdr(msg)->nlmsg_seq = seq;
	errno = 0;
	ret = send_all(d->dump, nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	if (ret < 0)
		return ret;
	struct inet_answers st = { protocol, cb, arg };

	return read_dump(d, seq, type, inet_answer, &st);
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

/* diag_unix_owner's callback and its argument: the lock's name, what was found. */
struct unix_answers {
	const char *name;
	size_t len;
	uint32_t uid;
	int ret;	/* -ENOENT until the name is found */
};

static int unix_answer(struct nlmsghdr *h, void *arg)
{
	struct unix_answers *st = arg;
	struct nlattr *tb[UNIX_DIAG_MAX + 1];
	const struct nlattr *a;

	if (st->ret != -ENOENT ||
	    nlmsg_parse(h, sizeof(struct unix_diag_msg), tb, UNIX_DIAG_MAX, NULL) < 0)
		return 0;
	/* Abstract names are per socket type: only a stream socket holds the lock. */
	if (((const struct unix_diag_msg *)nlmsg_data(h))->udiag_type != SOCK_STREAM)
		return 0;
	/* An abstract name: sun_path with its leading 0, no terminator. */
	a = tb[UNIX_DIAG_NAME];
	if (!a || (size_t)nla_len(a) != st->len + 1 || *(const char *)nla_data(a) ||
	    memcmp((const char *)nla_data(a) + 1, st->name, st->len))
		return 0;
	if (!tb[UNIX_DIAG_UID] || nla_len(tb[UNIX_DIAG_UID]) < 4) {
		st->ret = -EOPNOTSUPP; /* before Linux 5.3 */
		return 0;
	}
	st->uid = nla_get_u32(tb[UNIX_DIAG_UID]);
	st->ret = 0;
	return 0;
}

/*
 * One AF_UNIX dump, with each socket's name and owner: the run lock's name is found among a
 * few hundred sockets in well under a millisecond, so a waiter asks again each time it tries.
 */
int diag_unix_owner(struct diag *d, const char *name, uint32_t *uid)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} q;
	struct unix_answers st = { name, strlen(name), 0, -ENOENT };
	int ret;

	if (!d->dump)
		return -EBADF;
	if (bufs(d) < 0)
		return -ENOMEM;
	memset(&q, 0, sizeof(q));
	q.h.nlmsg_len = sizeof(q);
	q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.h.nlmsg_seq = d->seq++;
	q.r.sdiag_family = AF_UNIX;
	q.r.udiag_states = ~0U;
	q.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_UID;
	errno = 0;
	if ((ret = send_all(d->dump, &q, sizeof(q))) < 0)
		return ret;
	ret = read_dump(d, q.h.nlmsg_seq, SOCK_DIAG_BY_FAMILY, unix_answer, &st);
	/* ENOENT here: no unix_diag in this kernel, not "no such name". */
	if (ret < 0)
		return ret == -ENOENT ? -EOPNOTSUPP : ret;
	if (st.ret == 0)
		*uid = st.uid;
	return st.ret;
}

/* Called for each answer read: i is the request's index in its batch. */
typedef void (*answer_fn)(void *arg, uint32_t i, struct nlmsghdr *h);

/*
 * The kernel handles every request of a batch inside sendmsg, so every answer is queued (or
 * was dropped for lack of room) by now: reads without blocking until the queue is empty, up to
 * ACK_VEC datagrams per system call, each into a slot of the receive buffer. A datagram longer
 * than its slot is cut to the slot, its nlmsg_len too. Returns true if answers were dropped.
 */
static bool drain_slots(struct diag *d, uint32_t base, size_t n, answer_fn fn, void *arg,
			unsigned nvec)
{
	int fd = nl_socket_get_fd(d->kill);
	struct mmsghdr mm[ACK_VEC];
	struct iovec iov[ACK_VEC];
	bool overflow = false;
	const size_t slot = RECV_BUF / nvec;

	for (size_t k = 0; k < nvec; k++) {
		iov[k] = (struct iovec){ d->buf + k * slot, slot };
		mm[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
	}
	for (;;) {
		int got = recvmmsg(fd, mm, nvec, MSG_DONTWAIT, NULL);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				overflow = true;
				continue;
			}
			return overflow; /* EAGAIN: nothing more */
		}
		for (int k = 0; k < got; k++) {
			/* A truncated datagram still starts with its header and error code. */
			int rem = mm[k].msg_len < slot ? (int)mm[k].msg_len : (int)slot;

			for (struct nlmsghdr *h = (struct nlmsghdr *)(d->buf + (size_t)k * slot);
			     rem >= (int)NLMSG_LENGTH(sizeof(int)) && h->nlmsg_len >= NLMSG_HDRLEN;
			     h = nlmsg_next(h, &rem)) {
				uint32_t i = h->nlmsg_seq - base;

				if (h->nlmsg_len > (uint32_t)rem)
					h->nlmsg_len = (uint32_t)rem;
				if (i < n)
					fn(arg, i, h);
			}
		}
	}
}

static bool drain_answers(struct diag *d, uint32_t base, size_t n, answer_fn fn, void *arg)
{
	return drain_slots(d, base, n, fn, arg, ACK_VEC);
}

static void destroy_answer(void *arg, uint32_t i, struct nlmsghdr *h)
{
	int *errs = arg;

	if (h->nlmsg_type == NLMSG_ERROR)
		errs[i] = ((const struct nlmsgerr *)nlmsg_data(h))->error;
}

int diag_destroy_batch(struct diag *d, struct sock_rec *const *recs, size_t n, int *errs)
{
	struct diag_request *q;
	uint32_t base = d->seq;
	int ret;

	if (n > DIAG_BATCH)
		return -EINVAL;
	if (bufs(d) < 0)
		return -ENOMEM;
	q = (struct diag_request *)d->req;
	/*
	 * No NLM_F_ACK: the kernel answers a request only when it fails (netlink_rcv_skb acks
	 * an error whether asked or not), so a success costs no message at all and every
	 * failure still comes back with its sequence number.
	 */
	for (size_t i = 0; i < n; i++) {
		fill_request(&q[i], SOCK_DESTROY, NLM_F_REQUEST, base + (uint32_t)i,
			     recs[i]->family, recs[i]->protocol, SS_ALL_MASK);
		q[i].r.id = recs[i]->id;
		errs[i] = 0;
	}
	d->seq += (uint32_t)n;
	errno = 0;
	ret = send_all(d->kill, q, n * sizeof(*q));
	if (ret < 0)
		return ret;
	/* Errors were dropped for lack of room: what did not fail visibly, verification decides. */
	if (drain_answers(d, base, n, destroy_answer, errs))
		for (size_t i = 0; i < n; i++)
			if (!errs[i])
				errs[i] = DIAG_NO_ACK;
	return 0;
}

struct check_run {
	struct sock_rec *const *recs;
	const uint32_t *which;	/* this batch's requests -> record indices */
	bool *present;
	bool *answered;
	struct sock_rec *found;
	bool dropped;		/* an answer could not be queued: ask again */
	uint8_t ext;		/* idiag_ext: what a dump would ask for too */
	int err;		/* the first answer that is neither a socket nor "none" */
};

static void check_answer(void *arg, uint32_t i, struct nlmsghdr *h)
{
	struct check_run *c = arg;
	uint32_t r = c->which[i];

	if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
		if (c->found && diag_parse(h, c->recs[r]->protocol, &c->found[r]) < 0) {
			c->err = c->err ? c->err : -EBADMSG;
			return;
		}
		c->present[r] = true;
		c->answered[r] = true;
	} else if (h->nlmsg_type == NLMSG_ERROR) {
		int e = ((const struct nlmsgerr *)nlmsg_data(h))->error;

		/* A cookie mismatch answers ENOENT on 6.18, ESTALE on older kernels. */
		if (e == -ENOENT || e == -ESTALE) {
			c->present[r] = false;
			c->answered[r] = true;
		} else if (e == -EAGAIN || e == -ENOBUFS) {
			c->dropped = true; /* the answer found the queue full */
		} else if (!c->err) {
			c->err = e ? e : -EBADMSG;
		}
	}
}

/* Asks for recs[which[0..m)] in one sendmsg; *overflow: answers were dropped. 0 or -errno. */
static int check_send(struct diag *d, struct check_run *c, const uint32_t *which, size_t m,
		      bool with_cookie, bool *overflow)
{
	struct diag_request *q = (struct diag_request *)d->req;
	uint32_t base = d->seq;
	int ret;

	for (size_t k = 0; k < m; k++) {
		const struct sock_rec *rec = c->recs[which[k]];

		fill_request(&q[k], SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, base + (uint32_t)k,
			     rec->family, rec->protocol, SS_ALL_MASK);
		q[k].r.id = rec->id;
		if (!with_cookie)
			q[k].r.id.idiag_cookie[0] = q[k].r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
		q[k].r.idiag_ext = c->ext;
	}
	d->seq += (uint32_t)m;
	errno = 0;
	ret = send_all(d->kill, q, m * sizeof(*q));
	if (ret < 0)
		return ret;
	c->which = which;
	c->dropped = false;
	/* An answer with tcp_info (~400 bytes) needs a bigger slot than an ack's. */
	*overflow = drain_slots(d, base, m, check_answer, c, c->ext ? ACK_VEC / 8 : ACK_VEC) ||
		    c->dropped;
	return c->err;
}

/*
 * Each answer is a whole message (the socket, up to ~200 bytes with its default attributes)
 * and counts against the receive buffer, which without CAP_NET_ADMIN is only rmem_max: a
 * batch whose answers did not all fit is asked again, unanswered part only, in halves.
 */
static int check_batch(struct diag *d, struct sock_rec *const *recs, size_t n, bool with_cookie,
		       uint8_t ext, bool *present, struct sock_rec *found)
{
	bool answered[DIAG_BATCH] = { false };
	uint32_t which[DIAG_BATCH];
	struct check_run c = { recs, NULL, present, answered, found, false, ext, 0 };
	size_t step = n;
	bool dropped = true;	/* ask (again) */

	if (n > DIAG_BATCH)
		return -EINVAL;
	if (bufs(d) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		present[i] = false;
	for (int tries = 0; tries < 16; tries++) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (!answered[i])
				which[m++] = (uint32_t)i;
		if (!m)
			return 0;
		/* Nothing was dropped, yet some went unanswered: the kernel did not answer them. */
		if (!dropped)
			return -EPROTO;
		dropped = false;
		for (size_t k = 0; k < m; k += step) {
			bool over = false;
			int ret = check_send(d, &c, which + k, m - k < step ? m - k : step,
					     with_cookie, &over);

			if (ret < 0)
				return ret;
			dropped |= over;
		}
		if (dropped && step > 1)
			step /= 2;
	}
	return -ENOBUFS;
}

int diag_check_batch(struct diag *d, struct sock_rec *const *recs, size_t n, bool with_cookie,
		     bool *present, struct sock_rec *found)
{
	return check_batch(d, recs, n, with_cookie, 0, present, found);
}

int diag_get_batch(struct diag *d, struct sock_rec *const *recs, size_t n, bool no_info,
		   bool *present, struct sock_rec *found)
{
	return check_batch(d, recs, n, true, no_info ? 0 : 1U << (INET_DIAG_INFO - 1), present,
			   found);
}

int diag_lookup(struct diag *d, const struct sock_rec *rec, bool with_cookie,
		struct sock_rec *found)
{
	struct diag_request q;
	uint32_t seq = d->seq++;
	int fd = nl_socket_get_fd(d->kill);
	int ret = -ENOENT;

	if (bufs(d) < 0)
		return -ENOMEM;
	fill_request(&q, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, seq, rec->family, rec->protocol,
		     SS_ALL_MASK);
	q.r.id = rec->id;
	if (!with_cookie)
		q.r.id.idiag_cookie[0] = q.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	errno = 0;
	ret = send_all(d->kill, &q, sizeof(q));
	if (ret < 0)
		return ret;
	for (;;) {
		ssize_t n = recv(fd, d->buf, RECV_BUF, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int rem = (int)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)d->buf; nlmsg_ok(h, rem);
		     h = nlmsg_next(h, &rem)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((const struct nlmsgerr *)nlmsg_data(h))->error;
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				return found ? diag_parse(h, rec->protocol, found) : 0;
		}
	}
}
