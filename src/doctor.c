// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockreap doctor: which engines work here and why. Each engine is tried for real on a
 * throwaway loopback connection this process makes (nothing else is touched, no packet leaves
 * loopback); capabilities and the sysctls that decide the rst engine's reach are read. With
 * --netns/--netns-of/--all-netns the same checks run inside each namespace in turn (setns
 * there, the checks, setns back), one section each.
 */
#include "doctor.h"
#include "caps.h"
#include "cli.h"
#include "conntrack.h"
#include "diag.h"
#include "engine.h"
#include "json.h"
#include "plan.h"
#include "netns.h"
#include "nsdisc.h"
#include "output.h"
#include "ownerfd.h"
#include "procmap.h"
#include "closefd.h"
#include "rawio.h"
#include "text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

enum verdict { V_WORKS, V_FAILS, V_UNTESTED };

static const char *const verdict_names[] = { "works", "fails", "untested" };

struct check {
	enum verdict v;
	char why[200];
};

struct report {
	char kernel[128];
	bool cap_admin, cap_raw, cap_ptrace, cap_dac;
	int rfc1337, challenge_limit, invalid_ratelimit; /* -1: unreadable */
	struct check sock_diag, destroy, raw, packet, rst, shutdown;
	struct check conntrack;	/* --forwarded: entries readable over ctnetlink */
	struct check close_fd;	/* --close-fd, tried on a child of ours */
	int ptrace_scope;	/* kernel.yama.ptrace_scope; -1: no Yama */
	bool owners_bpf;	/* the owner lookup's BPF iterator loads (else: /proc) */
	char owners_why[160];
	bool collect_bpf;	/* several namespaces' one-pass discovery loads (else: dumps) */
	char collect_why[160];
};

/* A connected loopback pair: *cfd the client end, *afd the accepted one. 0 or -errno. */
static int loopback_pair(int *cfd, int *afd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ret = 0;

	*cfd = *afd = -1;
	if (l < 0)
		return -errno;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		goto fail;
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	*afd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (*afd < 0)
		goto fail;
	close(l);
	return 0;
fail:
	ret = -errno;
	close(l);
	if (*cfd >= 0)
		close(*cfd);
	*cfd = -1;
	return ret;
}

/* The kernel's record of fd's socket (by its 4-tuple). */
static int record_of(struct diag *d, int fd, struct sock_rec *rec)
{
	struct sockaddr_in l, p;
	socklen_t ll = sizeof(l), pl = sizeof(p);
	struct sock_rec q;

	if (getsockname(fd, (struct sockaddr *)&l, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&p, &pl) < 0)
		return -errno;
	memset(&q, 0, sizeof(q));
	q.family = AF_INET;
	q.protocol = IPPROTO_TCP;
	q.id.idiag_sport = l.sin_port;
	q.id.idiag_dport = p.sin_port;
	q.id.idiag_src[0] = l.sin_addr.s_addr;
	q.id.idiag_dst[0] = p.sin_addr.s_addr;
	return diag_lookup(d, &q, false, rec);
}

static bool closed(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_state == TCP_CLOSE;
}

static void set(struct check *c, enum verdict v, const char *why)
{
	c->v = v;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

static void try_destroy(struct report *r, struct diag *d)
{
	struct sock_rec rec, *p = &rec;
	int cfd, afd, err, ret;

	if (!r->cap_admin) {
		set(&r->destroy, V_UNTESTED, "needs CAP_NET_ADMIN to try (run doctor as root)");
		return;
	}
	ret = loopback_pair(&cfd, &afd);
	if (ret < 0) {
		snprintf(r->destroy.why, sizeof(r->destroy.why),
			 "cannot make a loopback connection to try it on: %s%s", strerror(-ret),
			 ret == -ENETUNREACH ? " (is lo up in this namespace?)" : "");
		r->destroy.v = V_UNTESTED;
		return;
	}
	ret = record_of(d, cfd, &rec);
	if (ret == 0)
		ret = diag_destroy_batch(d, &p, 1, &err);
	if (ret == 0)
		ret = err;
	if (ret == 0 && closed(cfd))
		set(&r->destroy, V_WORKS, "SOCK_DESTROY closed a test connection");
	else if (ret == -EOPNOTSUPP)
		set(&r->destroy, V_FAILS, "this kernel has no SOCK_DESTROY "
					  "(built without CONFIG_INET_DIAG_DESTROY)");
	else if (ret == -EPERM || ret == -EACCES)
		set(&r->destroy, V_FAILS, "refused: needs CAP_NET_ADMIN over this network namespace");
	else
		snprintf(r->destroy.why, sizeof(r->destroy.why), "%s",
			 ret ? strerror(-ret) : "the kernel acknowledged, but the socket stayed open"),
			r->destroy.v = V_FAILS;
	close(cfd);
	close(afd);
}

/*
 * shutdown, tried on a loopback connection of our own through our own pid (pidfd_getfd on
 * ourselves is always allowed): whether this kernel has pidfd_getfd and a shutdown through the
 * duplicate ends the connection with a FIN (the other end reads end-of-file). Over other
 * processes it needs CAP_SYS_PTRACE, or their real uid: said with the verdict.
 */
static void try_shutdown(struct report *r)
{
	uint64_t ino, cookie;
	int cfd, afd, sfd, ret;
	char c;

	ret = loopback_pair(&cfd, &afd);
	if (ret < 0) {
		snprintf(r->shutdown.why, sizeof(r->shutdown.why),
			 "cannot make a loopback connection to try it on: %s%s", strerror(-ret),
			 ret == -ENETUNREACH ? " (is lo up in this namespace?)" : "");
		r->shutdown.v = V_UNTESTED;
		return;
	}
	sfd = ownerfd_get(getpid(), afd);
	ret = sfd < 0 ? sfd : ownerfd_identity(sfd, &ino, &cookie);
	if (ret == 0)
		ret = ownerfd_shutdown(sfd);
	if (sfd >= 0)
		ownerfd_close(sfd);
	if (ret == 0 && recv(cfd, &c, 1, MSG_DONTWAIT) == 0)
		set(&r->shutdown, V_WORKS, r->cap_ptrace
			? "pidfd_getfd and shutdown ended a test connection with a FIN; "
			  "CAP_SYS_PTRACE: any owner"
			: "pidfd_getfd and shutdown ended a test connection with a FIN; no "
			  "CAP_SYS_PTRACE: only owners of our own uid");
	else if (ret == -ENOSYS)
		set(&r->shutdown, V_FAILS, "this kernel has no pidfd_getfd (Linux 5.6 or later)");
	else if (ret == -EPERM || ret == -EACCES)
		set(&r->shutdown, V_FAILS, "pidfd_getfd refused even on this process (a seccomp "
					   "filter or an LSM?)");
	else
		set(&r->shutdown, V_FAILS,
		    ret ? strerror(-ret) : "shut down, but the other end read no end-of-file");
	close(cfd);
	close(afd);
}

static void try_rst(struct report *r, struct diag *d)
{
	struct sock_set s = { 0 };
	struct sock_rec rec;
	struct engine_ctx ctx = { 0 };
	const char *what = NULL;
	int cfd, afd, ret;

	if (!r->cap_raw) {
		set(&r->raw, V_UNTESTED, "needs CAP_NET_RAW");
		set(&r->packet, V_UNTESTED, "needs CAP_NET_RAW");
		set(&r->rst, V_UNTESTED, "needs CAP_NET_RAW to try (run doctor as root)");
		return;
	}
	ret = rawio_open(&ctx.raw, &what);
	if (ret < 0) {
		struct check *c = what && !strcmp(what, "packet socket") ? &r->packet : &r->raw;

		if (c == &r->packet)
			set(&r->raw, V_WORKS, "opened");
		snprintf(c->why, sizeof(c->why), "cannot open a %s: %s", what, strerror(-ret));
		c->v = V_FAILS;
		set(&r->rst, V_FAILS, "its sockets cannot be opened");
		return;
	}
	set(&r->raw, V_WORKS, "IPPROTO_RAW sockets opened");
	set(&r->packet, V_WORKS, "capture socket opened, filter attached");
	ret = loopback_pair(&cfd, &afd);
	if (ret < 0) {
		snprintf(r->rst.why, sizeof(r->rst.why),
			 "cannot make a loopback connection to try it on: %s%s", strerror(-ret),
			 ret == -ENETUNREACH ? " (is lo up in this namespace?)" : "");
		r->rst.v = V_UNTESTED;
		goto out;
	}
	ret = record_of(d, cfd, &rec);
	if (ret == 0)
		ret = sock_set_push(&s, &rec);
	if (ret == 0) {
		ctx.d = d;
		ctx.rfc1337 = r->rfc1337;
		ctx.probe_wait_ms = 300;
		ret = engine_rst.kill(&ctx, &s);
	}
	if (ret < 0) {
		snprintf(r->rst.why, sizeof(r->rst.why), "%s", strerror(-ret));
		r->rst.v = V_FAILS;
	} else if (s.v[0].outcome == OUT_KILLED && closed(cfd)) {
		set(&r->rst, V_WORKS, "a challenge ACK was drawn and answered with an exact reset");
	} else {
		const char *detail = sock_outcome_detail(&s.v[0]);

		snprintf(r->rst.why, sizeof(r->rst.why), "the test connection survived (%s%s%s)",
			 sock_outcome_name(s.v[0].outcome), detail ? ": " : "", detail ? detail : "");
		if (s.v[0].err == SOCK_ERR_FIREWALL)
			snprintf(r->rst.why, sizeof(r->rst.why), "sending the probe was refused "
				 "(EPERM): a firewall drops it, typically 'ct state invalid drop'");
		r->rst.v = V_FAILS;
	}
	close(cfd);
	close(afd);
out:
	sock_set_free(&s);
	rawio_close(ctx.raw);
}

static int sysctl_or(const char *name)
{
	char path[128];
	int v;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	return engine_sysctl(path, &v) == 0 ? v : -1;
}

/*
 * --close-fd, for real: a child of ours holding one end of a socketpair has that descriptor
 * closed through ptrace. A child is the easiest process to trace (Yama's ptrace_scope=1 lets
 * a parent trace it without CAP_SYS_PTRACE): the line says what other processes need.
 */
static void try_close_fd(struct report *r)
{
	struct closefd_set s = { 0 };
	struct stat st;
	int sv[2];
	pid_t child;

	r->ptrace_scope = -1;
	if (engine_sysctl("/proc/sys/kernel/yama/ptrace_scope", &r->ptrace_scope) < 0)
		r->ptrace_scope = -1;
	if (r->ptrace_scope >= 3) {
		set(&r->close_fd, V_FAILS, "kernel.yama.ptrace_scope=3: no process may be traced");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || fstat(sv[0], &st) < 0) {
		set(&r->close_fd, V_UNTESTED, "cannot make a socket to try it on");
		return;
	}
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	if (child < 0 || closefd_add(&s, child, sv[0], (uint32_t)st.st_ino) < 0) {
		set(&r->close_fd, V_UNTESTED, "cannot start a process to try it on");
	} else {
		closefd_run(&s, NULL, r->cap_ptrace);
		if (s.v[0].result == CLOSEFD_CLOSED)
			snprintf(r->close_fd.why, sizeof(r->close_fd.why),
				 "a child's descriptor was closed through ptrace; other processes: "
				 "%s", r->cap_ptrace ? "any (CAP_SYS_PTRACE)"
				 : r->ptrace_scope >= 1 ? "none but our descendants (no CAP_SYS_PTRACE, "
							  "ptrace_scope >= 1)"
				 : "the caller's own (no CAP_SYS_PTRACE)");
		else
			snprintf(r->close_fd.why, sizeof(r->close_fd.why), "%s: %s%s%s",
				 closefd_result_name(s.v[0].result), s.v[0].why ? s.v[0].why : "",
				 s.v[0].err ? " " : "", s.v[0].err ? strerror(s.v[0].err) : "");
		r->close_fd.v = s.v[0].result == CLOSEFD_CLOSED ? V_WORKS : V_FAILS;
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	closefd_set_free(&s);
	close(sv[0]);
	close(sv[1]);
}

static const char *choice(const struct report *r)
{
	if (r->destroy.v == V_WORKS)
		return r->rst.v == V_WORKS ? "destroy (rst stands by where destroy cannot act)"
					   : "destroy";
	if (r->rst.v == V_WORKS)
		return "rst";
	if (r->destroy.v == V_UNTESTED && r->rst.v == V_UNTESTED)
		return r->cap_admin || r->cap_raw ? "unknown (neither could be tried here)"
						  : "unknown (run doctor as root)";
	return "none";
}

/* The same, as one word for scripts. */
static const char *choice_word(const struct report *r)
{
	if (r->destroy.v == V_WORKS)
		return "destroy";
	if (r->rst.v == V_WORKS)
		return "rst";
	if (r->destroy.v == V_UNTESTED && r->rst.v == V_UNTESTED)
		return "unknown";
	return "none";
}

static void print_checks(FILE *f, const struct report *r, const char *where)
{
	static const char *const mark[] = { "ok", "NO", "??" };

	fprintf(f, "Engines\n");
	fprintf(f, "  [%s] destroy  %s\n", mark[r->destroy.v], r->destroy.why);
	fprintf(f, "  [%s] rst      %s\n", mark[r->rst.v], r->rst.why);
	fprintf(f, "  [%s] shutdown %s\n", mark[r->shutdown.v], r->shutdown.why);
	fprintf(f, "\nWhat they need\n");
	fprintf(f, "  [%s] sock_diag        %s\n", mark[r->sock_diag.v], r->sock_diag.why);
	fprintf(f, "  [%s] raw sockets      %s\n", mark[r->raw.v], r->raw.why);
	fprintf(f, "  [%s] packet socket    %s\n", mark[r->packet.v], r->packet.why);
	fprintf(f, "  capabilities       CAP_NET_ADMIN %s, CAP_NET_RAW %s, CAP_SYS_PTRACE %s, "
		   "CAP_DAC_READ_SEARCH %s\n", r->cap_admin ? "yes" : "no",
		r->cap_raw ? "yes" : "no", r->cap_ptrace ? "yes" : "no", r->cap_dac ? "yes" : "no");
	fprintf(f, "  [%s] conntrack        %s\n", mark[r->conntrack.v], r->conntrack.why);
	fprintf(f, "  owner lookup       %s%s%s\n",
		r->owners_bpf ? "BPF task_file iterator" : "/proc (every fd of every process)",
		r->owners_bpf ? "" : ": the BPF iterator is not used: ",
		r->owners_bpf ? "" : r->owners_why);
	fprintf(f, "  namespace scan     %s%s\n",
		r->collect_bpf ? "one BPF pass finds TCP sockets of every namespace"
			       : "a sock_diag dump per namespace: the BPF pass is not used: ",
		r->collect_bpf ? "" : r->collect_why);
	fprintf(f, "  [%s] --close-fd       %s\n", mark[r->close_fd.v], r->close_fd.why);
	fprintf(f, "  ptrace_scope       %d%s\n", r->ptrace_scope,
		r->ptrace_scope < 0 ? "  (no Yama: ptrace is the kernel's own rules)"
		: r->ptrace_scope == 0 ? "" : r->ptrace_scope == 1 ? "  (others need CAP_SYS_PTRACE)"
		: r->ptrace_scope == 2 ? "  (every attach needs CAP_SYS_PTRACE)"
				       : "  (no attach at all: --close-fd cannot work)");
	fprintf(f, "  tcp_rfc1337        %d%s\n", r->rfc1337,
		r->rfc1337 > 0 ? "  (rst cannot kill TIME_WAIT: TIME_WAIT ignores resets)"
		: r->rfc1337 == 0 ? "  (rst can kill TIME_WAIT)" : "  (unreadable)");
	fprintf(f, "  tcp_challenge_ack_limit %d%s\n", r->challenge_limit,
		r->challenge_limit >= 0 && r->challenge_limit < 10000
			? "  (low: SYN probes beyond it per second go unanswered and are "
			  "re-probed after 600 ms)" : "");
	fprintf(f, "  tcp_invalid_ratelimit %d ms  (per socket; our re-probes carry a byte, "
		   "which is exempt)\n", r->invalid_ratelimit);
	fprintf(f, "\nThis %s will use: %s\n", where, choice(r));
	if (r->destroy.v != V_WORKS && r->rst.v != V_WORKS)
		fprintf(f, "Neither engine can kill sockets here%s.\n",
			r->cap_admin || r->cap_raw ? "" : ": run sockreap as root");
	else if (r->destroy.v != V_WORKS)
		fprintf(f, "Without destroy, listen, syn-sent, syn-recv and UDP sockets cannot be "
			   "killed; TCP connections can.\n");
	else if (r->rst.v != V_WORKS)
		fprintf(f, "Without rst, sockets in other hosts' or forwarded connections cannot "
			   "be reached; every local socket can.\n");
}

static void print_text(FILE *f, const struct report *r)
{
	fprintf(f, "sockreap doctor (kernel %s)\n\n", r->kernel);
	print_checks(f, r, "machine");
}

static void json_check(struct json *j, const char *key, const struct check *c)
{
	json_obj_begin(j, key);
	json_str(j, "status", verdict_names[c->v]);
	json_str(j, "why", c->why);
	json_obj_end(j);
}

/* Every field of one report, in the object open in j. */
static void json_report(struct json *j, const struct report *r)
{
	json_str(j, "engine", choice_word(r));
	json_bool(j, "rst_fallback", r->destroy.v == V_WORKS && r->rst.v == V_WORKS);
	json_obj_begin(j, "engines");
	json_check(j, "destroy", &r->destroy);
	json_check(j, "rst", &r->rst);
	json_check(j, "shutdown", &r->shutdown);
	json_obj_end(j);
	json_check(j, "sock_diag", &r->sock_diag);
	json_check(j, "raw_sockets", &r->raw);
	json_check(j, "packet_socket", &r->packet);
	json_check(j, "conntrack", &r->conntrack);
	json_check(j, "close_fd", &r->close_fd);
	json_obj_begin(j, "owners");
	json_str(j, "source", r->owners_bpf ? "bpf" : "proc");
	json_str(j, "why", r->owners_bpf ? NULL : r->owners_why);
	json_obj_end(j);
	json_obj_begin(j, "collect");
	json_str(j, "source", r->collect_bpf ? "bpf" : "dump");
	json_str(j, "why", r->collect_bpf ? NULL : r->collect_why);
	json_obj_end(j);
	json_obj_begin(j, "capabilities");
	json_bool(j, "CAP_NET_ADMIN", r->cap_admin);
	json_bool(j, "CAP_NET_RAW", r->cap_raw);
	json_bool(j, "CAP_SYS_PTRACE", r->cap_ptrace);
	json_bool(j, "CAP_DAC_READ_SEARCH", r->cap_dac);
	json_obj_end(j);
	json_obj_begin(j, "sysctl");
	json_int(j, "net.ipv4.tcp_rfc1337", r->rfc1337);
	json_int(j, "net.ipv4.tcp_challenge_ack_limit", r->challenge_limit);
	json_int(j, "net.ipv4.tcp_invalid_ratelimit", r->invalid_ratelimit);
	json_int(j, "kernel.yama.ptrace_scope", r->ptrace_scope);
	json_obj_end(j);
}

static void print_json(FILE *f, const struct report *r)
{
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_int(&j, "schema", 1);
	json_str(&j, "kernel", r->kernel);
	json_report(&j, r);
	json_obj_end(&j);
	fputc('\n', f);
}

/* --forwarded's needs: nf_conntrack here, and ctnetlink answering this process. */
static void check_conntrack(struct check *c)
{
	long count;
	int ret = conntrack_probe(&count);

	if (!ret)
		snprintf(c->why, sizeof(c->why), "%ld entries; ctnetlink answers (--forwarded works)",
			 count);
	else if (count < 0)
		snprintf(c->why, sizeof(c->why), "nf_conntrack is not loaded in this namespace (no "
			 "flows are tracked: --forwarded finds none)");
	else
		snprintf(c->why, sizeof(c->why), "%ld entries, but ctnetlink refuses: %s%s", count,
			 strerror(-ret), ret == -EPERM ? " (needs CAP_NET_ADMIN)"
			 : " (nf_conntrack_netlink missing?)");
	c->v = ret ? V_FAILS : V_WORKS;
}

/* Every check, where this thread is: the network namespace decides all but the kernel. */
static void examine(struct report *r)
{
	struct utsname u;
	struct diag *d = NULL;
	int ret;

	if (uname(&u) == 0)
		snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);
	r->cap_admin = caps_have(CAP_NET_ADMIN);
	r->cap_raw = caps_have(CAP_NET_RAW);
	r->cap_ptrace = caps_have(CAP_SYS_PTRACE);
	r->cap_dac = caps_have(CAP_DAC_READ_SEARCH);
	/* /proc/sys/net shows the namespace of the thread that opens it: this one's. */
	r->rfc1337 = sysctl_or("tcp_rfc1337");
	r->challenge_limit = sysctl_or("tcp_challenge_ack_limit");
	r->invalid_ratelimit = sysctl_or("tcp_invalid_ratelimit");
	r->owners_bpf = procmap_bpf_usable(r->owners_why, sizeof(r->owners_why));
	r->collect_bpf = nsdisc_usable(r->collect_why, sizeof(r->collect_why));
	check_conntrack(&r->conntrack);

	ret = diag_open(&d);
	if (ret < 0) {
		snprintf(r->sock_diag.why, sizeof(r->sock_diag.why), "cannot open: %s",
			 strerror(-ret));
		r->sock_diag.v = V_FAILS;
		set(&r->destroy, V_FAILS, "needs sock_diag");
		set(&r->rst, V_FAILS, "needs sock_diag (to plan and verify)");
		set(&r->raw, V_UNTESTED, "not tried");
		set(&r->packet, V_UNTESTED, "not tried");
		set(&r->shutdown, V_FAILS, "needs sock_diag (to plan and verify)");
	} else {
		set(&r->sock_diag, V_WORKS, "TCP sockets can be listed");
		try_destroy(r, d);
		try_rst(r, d);
		try_shutdown(r);
	}
	diag_close(d);
	try_close_fd(r);
}

int doctor_run(FILE *f, bool json)
{
	struct report r = { 0 };

	examine(&r);
	if (json)
		print_json(f, &r);
	else
		print_text(f, &r);
	return r.destroy.v == V_WORKS || r.rst.v == V_WORKS ? EXIT_DONE : EXIT_PRIV;
}

/* One namespace doctor looks at: what it found there, or why it could not look. */
struct ns_exam {
	struct netns_info info;	/* inode 0: could not even be opened */
	const char *spec;	/* as given (--netns/--netns-of); NULL: discovered */
	bool by_pid;
	int fd;			/* open for setns; -1 */
	int err;		/* 0: examined; else why not (negative errno) */
	struct report r;
};

struct ns_exams {
	struct ns_exam *v;
	size_t n;
};

static struct ns_exam *exam_add(struct ns_exams *l)
{
	struct ns_exam *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	l->v = v;
	memset(&v[l->n], 0, sizeof(v[l->n]));
	v[l->n].fd = -1;
	v[l->n].info.pid = -1;
	return &v[l->n++];
}

/* The namespaces named (each once, by inode) or, with --all-netns, every one. 0 or -ENOMEM. */
static int exams_list(struct ns_exams *l, const struct config *cfg, uint64_t home)
{
	struct netns_list all = { 0 };
	struct ns_exam *e;

	if (cfg->all_netns) {
		if (netns_discover(NULL, &all) < 0 || !netns_list_get(&all, home))
			goto nomem;
		for (size_t i = 0; i < all.n; i++) {
			if (!(e = exam_add(l)))
				goto nomem;
			e->info = all.v[i];
		}
		netns_list_free(&all);
		return 0;
	}
	for (size_t i = 0; i < cfg->nnetns; i++) {
		struct netns_info info;
		int fd = netns_open(NULL, cfg->netns_v[i].spec, cfg->netns_v[i].by_pid, &info);
		bool seen = false;

		for (size_t j = 0; fd >= 0 && j < l->n && !seen; j++)
			seen = l->v[j].info.inode == info.inode;
		if (seen) {
			close(fd);
			continue;
		}
		if (!(e = exam_add(l))) {
			if (fd >= 0)
				close(fd);
			return -ENOMEM;
		}
		e->spec = cfg->netns_v[i].spec;
		e->by_pid = cfg->netns_v[i].by_pid;
		if (fd < 0) {
			e->err = fd;
		} else {
			e->info = info;
			e->fd = fd;
		}
	}
	return 0;
nomem:
	netns_list_free(&all);
	return -ENOMEM;
}

/* Enters e's namespace, examines it there and comes back. -1 when we could not come back. */
static int exam_one(struct ns_exam *e, int home_fd, uint64_t home)
{
	int fd;

	if (e->info.inode == home) {
		examine(&e->r);
		return 0;
	}
	fd = e->fd >= 0 ? e->fd : netns_open_info(&e->info);
	e->fd = -1;
	if (fd < 0) {
		e->err = fd;
		return 0;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		e->err = -errno;
		close(fd);
		return 0;
	}
	close(fd);
	examine(&e->r);
	return setns(home_fd, CLONE_NEWNET) < 0 ? -1 : 0;
}

static const char *exam_label(const struct ns_exam *e, char *buf, size_t size)
{
	char shown[2 * NAME_MAX];

	if (!e->info.inode) {
		text_escape(shown, sizeof(shown), e->spec, strlen(e->spec));
		snprintf(buf, size, "%s \"%s\"", e->by_pid ? "--netns-of" : "--netns", shown);
	} else if (e->info.name[0]) {
		text_escape(shown, sizeof(shown), e->info.name, strlen(e->info.name));
		snprintf(buf, size, "%s", shown);
	} else {
		snprintf(buf, size, "ino:%llu", (unsigned long long)e->info.inode);
	}
	return buf;
}

/* Why a namespace could not be looked at, in words. */
static const char *exam_why(const struct ns_exam *e, char *buf, size_t size)
{
	if (e->err == -ENOENT && !e->info.inode)
		snprintf(buf, size, "%s", e->by_pid ? "no such process"
				  : strchr(e->spec, '/') ? "no such file"
							 : "no network namespace of that name in /run/netns");
	else if (e->err == -ENOENT || e->err == -ESTALE)
		snprintf(buf, size, "gone since it was found");
	else if (e->err == -EINVAL)
		snprintf(buf, size, "not a network namespace");
	else if (e->err == -EPERM)
		snprintf(buf, size, "cannot enter it: %s (needs CAP_SYS_ADMIN)", strerror(EPERM));
	else
		snprintf(buf, size, "cannot enter it: %s", strerror(-e->err));
	return buf;
}

static void print_exams_text(FILE *f, const struct ns_exams *l)
{
	char label[4 * NAME_MAX + 64], why[128];
	struct utsname u;

	fprintf(f, "sockreap doctor (kernel %s), %zu network namespace%s\n",
		uname(&u) == 0 ? u.release : "?", l->n, l->n == 1 ? "" : "s");
	for (size_t i = 0; i < l->n; i++) {
		const struct ns_exam *e = &l->v[i];

		fprintf(f, "\n== network namespace %s", exam_label(e, label, sizeof(label)));
		if (e->info.inode)
			fprintf(f, " (inode %llu, pid %d)", (unsigned long long)e->info.inode,
				(int)e->info.pid);
		fputc('\n', f);
		if (e->err)
			fprintf(f, "  [NO] %s\n", exam_why(e, why, sizeof(why)));
		else
			print_checks(f, &e->r, "namespace");
	}
}

static void print_exams_json(FILE *f, const struct ns_exams *l)
{
	struct json j;
	struct utsname u;
	char why[128];

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_int(&j, "schema", 1);
	json_str(&j, "kernel", uname(&u) == 0 ? u.release : NULL);
	json_arr_begin(&j, "netns");
	for (size_t i = 0; i < l->n; i++) {
		const struct ns_exam *e = &l->v[i];

		json_obj_begin(&j, NULL);
		if (e->info.inode)
			output_netns_json(&j, "netns", &e->info);
		else
			json_put_null(&j, "netns");
		json_str(&j, "spec", e->spec);
		json_bool(&j, "entered", !e->err);
		if (e->err)
			json_str(&j, "error", exam_why(e, why, sizeof(why)));
		else
			json_report(&j, &e->r);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	fputc('\n', f);
}

int doctor_run_netns(FILE *f, const struct config *cfg)
{
	struct ns_exams l = { 0 };
	struct stat st;
	int home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), status = EXIT_DONE;

	if (home_fd < 0 || fstat(home_fd, &st) < 0) {
		fprintf(stderr, "sockreap: doctor: cannot open our own network namespace "
				"(/proc/self/ns/net): %s\n", strerror(errno));
		if (home_fd >= 0)
			close(home_fd);
		return EXIT_ERROR;
	}
	if (exams_list(&l, cfg, st.st_ino) < 0) {
		fprintf(stderr, "sockreap: doctor: out of memory\n");
		status = EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].err)
			continue;
		/* Never go on in another namespace: what follows would look at the wrong one. */
		if (exam_one(&l.v[i], home_fd, st.st_ino) < 0) {
			fprintf(stderr, "sockreap: doctor: cannot return to our own network "
					"namespace: %s\n", strerror(errno));
			status = EXIT_ERROR;
			goto out;
		}
	}
	if (cfg->json)
		print_exams_json(f, &l);
	else
		print_exams_text(f, &l);
	/* 0 only when an engine works in every namespace asked about. */
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].err || (l.v[i].r.destroy.v != V_WORKS && l.v[i].r.rst.v != V_WORKS))
			status = EXIT_PRIV;
out:
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].fd >= 0)
			close(l.v[i].fd);
	free(l.v);
	close(home_fd);
	return status;
}
