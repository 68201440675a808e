// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guards (LISTEN, the caller's own connection: SSH_CONNECTION and the sockets its ancestors
 * and login session hold, on fixture /proc trees) and outcomes -> exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "plan.h"

/* SSH_CONNECTION alone: no /proc. */
static int guards_env(struct plan_guards *g, bool include_self, const char *conn)
{
	struct plan_self_src src = { conn, NULL, 0, NULL, NULL };

	return plan_guards_init(g, false, include_self, &src);
}

/* What the fake learns of a socket inode in place of pidfd_getfd + getsockname/getpeername. */
struct fake_sock {
	uint32_t inode;
	int ret;		/* 1: the addresses below; 0: none (a unix socket); < 0: an error */
	const char *local;
	uint16_t lport;
	const char *peer;
	uint16_t pport;
};

static void fake_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
}

/* arg: a table ending in inode 0, or NULL; an inode not in it is a unix socket. */
static int peek_fake(void *arg, int32_t pid, int fd, uint32_t inode,
		     struct sockaddr_storage *local, struct sockaddr_storage *peer)
{
	(void)pid;
	(void)fd;
	for (const struct fake_sock *f = arg; f && f->inode; f++) {
		if (f->inode != inode)
			continue;
		if (f->ret == 1) {
			fake_addr(local, f->local, f->lport);
			fake_addr(peer, f->peer, f->pport);
		}
		return f->ret;
	}
	return 0;
}

static void put(const char *root, const char *rel, const char *text)
{
	assert_int_equal(fx_put(root, rel, text), 0);
}

/*
 * A fixture process: ROOT/PID/{stat,comm,sessionid (unless session is NULL),fd/N -> socket:[I]}
 * for each inode in the zero-terminated list; fd_ok false makes fd a plain file (unreadable).
 */
static void proc(const char *root, int pid, int ppid, const char *comm, const char *session,
		 bool fd_ok, const unsigned *inodes)
{
	char rel[64], text[128];

	snprintf(rel, sizeof(rel), "%s/%d", root, pid);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(text, sizeof(text), "%d (%s) S %d %d %d 0 -1 4194560 0 0\n", pid, comm, ppid, pid,
		 pid);
	put(root, rel, text);
	snprintf(rel, sizeof(rel), "%d/comm", pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(root, rel, text);
	if (session) {
		snprintf(rel, sizeof(rel), "%d/sessionid", pid);
		put(root, rel, session);
	}
	snprintf(rel, sizeof(rel), "%d/fd", pid);
	if (!fd_ok) {
		put(root, rel, "");
		return;
	}
	snprintf(text, sizeof(text), "%s/%d/fd", root, pid);
	assert_int_equal(mkdir(text, 0755), 0);
	snprintf(text, sizeof(text), "%s/%d/fd/0", root, pid);
	assert_int_equal(symlink("/dev/pts/0", text), 0);
	for (int i = 0; inodes && inodes[i]; i++) {
		char target[32];

		snprintf(text, sizeof(text), "%s/%d/fd/%d", root, pid, i + 3);
		snprintf(target, sizeof(target), "socket:[%u]", inodes[i]);
		assert_int_equal(symlink(target, text), 0);
	}
}

static int make_root(void **state)
{
	char *root = malloc(PATH_MAX);

	if (!root)
		return -1;
	snprintf(root, PATH_MAX, "/tmp/sockreap-plan.XXXXXX");
	if (!mkdtemp(root)) {
		free(root);
		return -1;
	}
	*state = root;
	return 0;
}

static int remove_root(void **state)
{
	int ret = fx_rmtree(*state);

	free(*state);
	return ret;
}

static struct sock_rec rec_inode(const char *src, uint16_t sport, uint16_t dport, unsigned st,
				 uint32_t inode)
{
	struct sock_rec r = fx_rec(AF_INET, src, sport, "10.0.0.9", dport, st, inode + 1);

	r.inode = inode;
	return r;
}

static void test_plan_listen_guard(void **state)
{
	struct plan_guards g;
	struct sock_rec l = fx_rec(AF_INET, "0.0.0.0", 80, "0.0.0.0", 0, SS_LISTEN, 1);
	struct sock_rec e = fx_rec(AF_INET, "10.0.0.1", 80, "10.0.0.2", 4000, SS_ESTABLISHED, 2);

	(void)state;
	assert_int_equal(plan_guards_init(&g, false, false, NULL), 0);
	assert_int_equal(plan_admit(&g, &l), SKIP_LISTEN);
	assert_int_equal(plan_admit(&g, &e), ADMIT);
	plan_guards_free(&g);
	assert_int_equal(plan_guards_init(&g, true, false, NULL), 0);
	assert_int_equal(plan_admit(&g, &l), ADMIT);
	plan_guards_free(&g);
}

static void test_plan_self_guard(void **state)
{
	struct plan_guards g;
	struct sock_rec self = fx_rec(AF_INET, "10.0.0.1", 22, "192.168.1.50", 51000,
				      SS_ESTABLISHED, 1);
	struct sock_rec mapped = fx_rec(AF_INET6, "::ffff:10.0.0.1", 22, "::ffff:192.168.1.50",
					51000, SS_ESTABLISHED, 2);
	struct sock_rec other = fx_rec(AF_INET, "10.0.0.1", 22, "192.168.1.50", 51001,
				       SS_ESTABLISHED, 3);
	struct sock_rec v6 = fx_rec(AF_INET6, "2001:db8::1", 22, "2001:db8::99", 40000,
				    SS_ESTABLISHED, 4);

	(void)state;
	assert_int_equal(guards_env(&g, false, "192.168.1.50 51000 10.0.0.1 22"), 0);
	assert_int_equal(plan_admit(&g, &self), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &mapped), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &other), ADMIT);
	assert_false(g.unsure);
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, true, "192.168.1.50 51000 10.0.0.1 22"), 0);
	assert_int_equal(plan_admit(&g, &self), ADMIT);
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, false, "2001:db8::99 40000 2001:db8::1 22"), 0);
	assert_int_equal(plan_admit(&g, &v6), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &self), ADMIT);
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, false, ""), 0);
	assert_false(g.have_self);
	assert_false(g.unsure);
	plan_guards_free(&g);
}

/*
 * An SSH_CONNECTION it cannot parse used to be a warning and no guard at all: now no
 * connection on port 22 (or the port it names) is selected, and the reason quotes the value.
 */
static void test_plan_self_unparsable(void **state)
{
	struct plan_guards g;
	struct sock_rec s22 = rec_inode("10.0.0.1", 22, 51000, SS_ESTABLISHED, 0);
	struct sock_rec s2222 = rec_inode("10.0.0.1", 2222, 51000, SS_CLOSE_WAIT, 0);
	struct sock_rec s80 = rec_inode("10.0.0.1", 80, 51000, SS_ESTABLISHED, 0);
	struct sock_rec l22 = rec_inode("0.0.0.0", 22, 0, SS_LISTEN, 0);
	struct sock_rec u22 = rec_inode("10.0.0.1", 22, 51000, SS_ESTABLISHED, 0);

	(void)state;
	u22.protocol = IPPROTO_UDP;
	assert_int_equal(guards_env(&g, false, "garbage"), 0);
	assert_true(g.unsure);
	assert_false(g.have_self);
	assert_non_null(strstr(g.unsure_why, "SSH_CONNECTION is not"));
	assert_non_null(strstr(g.unsure_why, "`garbage'"));
	assert_int_equal(plan_admit(&g, &s22), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &s2222), ADMIT);
	assert_int_equal(plan_admit(&g, &s80), ADMIT);
	assert_int_equal(plan_admit(&g, &l22), SKIP_LISTEN);
	assert_int_equal(plan_admit(&g, &u22), ADMIT);
	plan_guards_free(&g);

	/* The server port still counts when only an address is bad. */
	assert_int_equal(guards_env(&g, false, "192.168.1.50 51000 not-an-ip 2222"), 0);
	assert_true(g.unsure);
	assert_int_equal(g.unsure_port, 2222);
	assert_int_equal(plan_admit(&g, &s22), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &s2222), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &s80), ADMIT);
	plan_guards_free(&g);

	assert_int_equal(guards_env(&g, false, "1.2.3.4 70000 10.0.0.1 22"), 0);
	assert_true(g.unsure);
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, false, "10.0.0.2 5 10.0.0.1 22\x1b[2J"), 0);
	assert_false(g.unsure); /* trailing text after the four fields is not looked at */
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, false, "\x1b[2Jx"), 0);
	assert_null(strchr(g.unsure_why, '\x1b'));
	plan_guards_free(&g);

	assert_int_equal(guards_env(&g, true, "garbage"), 0);
	assert_false(g.unsure);
	assert_int_equal(plan_admit(&g, &s22), ADMIT);
	plan_guards_free(&g);
}

/*
 * sudo's env_reset drops SSH_CONNECTION: 100 (sockreap) <- 50 (sudo) <- 40 (bash) <- 30 (sshd
 * session, holding the connection 4001 and a unix socket 4009) <- 20 (sshd, the listener 4000)
 * <- 1, whose fd table is closed to us and never read.
 */
static void test_plan_self_ancestors(void **state)
{
	const char *root = *state;
	struct plan_guards g;
	struct plan_self_src src = { NULL, root, 100, peek_fake, NULL };
	struct sock_rec own = rec_inode("10.0.0.1", 22, 51000, SS_ESTABLISHED, 4001);
	struct sock_rec other = rec_inode("10.0.0.1", 22, 51001, SS_ESTABLISHED, 4002);
	struct sock_rec tw = rec_inode("10.0.0.1", 22, 51002, SS_TIME_WAIT, 0);
	struct sock_rec listener = rec_inode("0.0.0.0", 22, 0, SS_LISTEN, 4000);
	struct sock_rec mosh = rec_inode("10.0.0.1", 60001, 51000, SS_ESTABLISHED, 4009);

	proc(root, 100, 50, "sockreap", NULL, true, NULL);
	proc(root, 50, 40, "sudo", NULL, true, NULL);
	proc(root, 40, 30, "bash", NULL, true, NULL);
	proc(root, 30, 20, "sshd", NULL, true, (const unsigned[]){ 4001, 4009, 0 });
	proc(root, 20, 1, "sshd", NULL, true, (const unsigned[]){ 4000, 0 });
	proc(root, 1, 0, "init", NULL, false, NULL);
	mosh.protocol = IPPROTO_UDP;

	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_false(g.unsure);
	assert_int_equal(plan_admit(&g, &own), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &mosh), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &other), ADMIT);
	assert_int_equal(plan_admit(&g, &tw), ADMIT);
	assert_int_equal(plan_admit(&g, &listener), SKIP_LISTEN);
	plan_guards_free(&g);

	/* A listener is nobody's session, an ancestor's or not. */
	assert_int_equal(plan_guards_init(&g, true, false, &src), 0);
	assert_int_equal(plan_admit(&g, &listener), ADMIT);
	plan_guards_free(&g);

	assert_int_equal(plan_guards_init(&g, false, true, &src), 0);
	assert_int_equal(plan_admit(&g, &own), ADMIT);
	plan_guards_free(&g);
}

/*
 * Inside tmux: 200 (sockreap) <- 150 (bash) <- 140 (tmux server) <- 1. The login's sshd (300)
 * shares audit session 7 and is kept; an sshd of session 8 (301) and a non-entry-point of
 * session 7 (302) are not. Outside any session (4294967295) nothing is looked up.
 */
static void test_plan_self_session(void **state)
{
	const char *root = *state;
	struct plan_guards g;
	struct plan_self_src src = { NULL, root, 200, peek_fake, NULL };
	struct sock_rec own = rec_inode("10.0.0.1", 22, 51000, SS_ESTABLISHED, 5001);
	struct sock_rec other = rec_inode("10.0.0.1", 22, 51001, SS_ESTABLISHED, 5002);
	struct sock_rec app = rec_inode("10.0.0.1", 8080, 51002, SS_ESTABLISHED, 5003);
	struct sock_rec mosh = rec_inode("10.0.0.1", 60001, 51003, SS_ESTABLISHED, 5004);

	mosh.protocol = IPPROTO_UDP;
	proc(root, 200, 150, "sockreap", "7", true, NULL);
	proc(root, 150, 140, "bash", "7", true, NULL);
	proc(root, 140, 1, "tmux: server", "7", true, NULL);
	proc(root, 300, 290, "sshd", "7", true, (const unsigned[]){ 5001, 0 });
	proc(root, 301, 290, "sshd", "8", true, (const unsigned[]){ 5002, 0 });
	proc(root, 302, 140, "java", "7", true, (const unsigned[]){ 5003, 0 });
	proc(root, 303, 1, "mosh-server", "7", true, (const unsigned[]){ 5004, 0 });
	proc(root, 290, 1, "sshd", "4294967295", true, NULL);

	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_false(g.unsure);
	assert_int_equal(plan_admit(&g, &own), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &mosh), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &other), ADMIT);
	assert_int_equal(plan_admit(&g, &app), ADMIT);
	plan_guards_free(&g);

	/*
	 * 210 (sockreap) <- 209 (sshd, holding 5002) in the same session: with an sshd among
	 * the ancestors, that is the login, and the session is not scanned for 300's 5001 (a
	 * login from inside tmux opens a session of its own).
	 */
	src.pid = 210;
	proc(root, 210, 209, "sockreap", "7", true, NULL);
	proc(root, 209, 1, "sshd", "7", true, (const unsigned[]){ 5002, 0 });
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_int_equal(plan_admit(&g, &other), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &own), ADMIT);
	plan_guards_free(&g);

	src.pid = 200;
	put(root, "200/sessionid", "4294967295");
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_false(g.unsure);
	assert_int_equal(plan_admit(&g, &own), ADMIT);
	plan_guards_free(&g);
}

/*
 * Cannot tell: an ancestor's fd table unreadable (a non-root caller and root's sshd), the tree
 * broken off (an ancestor gone or hidden), or a cycle. Every connection on port 22 (and on
 * SSH_CONNECTION's port) is kept, and the reason names the file and the process.
 */
static void test_plan_self_unreadable(void **state)
{
	const char *root = *state;
	struct plan_guards g;
	struct plan_self_src src = { NULL, root, 100, peek_fake, NULL };
	struct sock_rec own = rec_inode("10.0.0.1", 22, 51000, SS_ESTABLISHED, 4001);
	struct sock_rec other = rec_inode("10.0.0.1", 22, 51001, SS_ESTABLISHED, 4002);
	struct sock_rec alt = rec_inode("10.0.0.1", 2222, 51001, SS_ESTABLISHED, 4003);
	struct sock_rec web = rec_inode("10.0.0.1", 443, 51002, SS_ESTABLISHED, 4004);
	struct sock_rec held = rec_inode("10.0.0.1", 443, 51003, SS_ESTABLISHED, 4005);
	char want[PATH_MAX + 64];

	proc(root, 100, 40, "sockreap", NULL, true, NULL);
	proc(root, 40, 30, "bash", NULL, true, (const unsigned[]){ 4005, 0 });
	proc(root, 30, 1, "sshd", NULL, false, NULL);

	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_true(g.unsure);
	snprintf(want, sizeof(want), "cannot read %s/30/fd (sshd): Not a directory", root);
	assert_string_equal(g.unsure_why, want);
	assert_int_equal(plan_admit(&g, &own), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &other), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &alt), ADMIT);
	assert_int_equal(plan_admit(&g, &web), ADMIT);
	assert_int_equal(plan_admit(&g, &held), SKIP_SELF); /* what it could read still counts */
	plan_guards_free(&g);

	src.ssh_connection = "192.168.1.50 51000 10.0.0.1 2222";
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_true(g.unsure);
	assert_int_equal(plan_admit(&g, &alt), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &other), SKIP_SELF_UNSURE);
	plan_guards_free(&g);

	/* 100's parent 40 is gone: its stat cannot be read. */
	src.ssh_connection = NULL;
	src.pid = 101;
	proc(root, 101, 41, "sockreap", NULL, true, NULL);
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_true(g.unsure);
	assert_non_null(strstr(g.unsure_why, "/41/fd"));
	assert_int_equal(plan_admit(&g, &other), SKIP_SELF_UNSURE);
	plan_guards_free(&g);

	/* One fd link it cannot read (EACCES in /proc; a plain file here) is as bad. */
	src.pid = 104;
	proc(root, 104, 1, "bash", NULL, true, (const unsigned[]){ 4001, 0 });
	put(root, "104/fd/9", "");
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_true(g.unsure);
	assert_non_null(strstr(g.unsure_why, "/104/fd (bash): Invalid argument"));
	assert_int_equal(plan_admit(&g, &own), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &other), SKIP_SELF_UNSURE);
	plan_guards_free(&g);

	/* A cycle ends the walk, unsure. */
	src.pid = 102;
	proc(root, 102, 103, "a", NULL, true, NULL);
	proc(root, 103, 102, "b", NULL, true, NULL);
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_true(g.unsure);
	assert_non_null(strstr(g.unsure_why, "Too many levels"));
	plan_guards_free(&g);
}

/*
 * The other end of the caller's own connection is on this host too (ssh localhost, a container
 * sharing the namespace): SSH_CONNECTION's 4-tuple reversed is kept as well.
 */
static void test_plan_self_reversed(void **state)
{
	struct plan_guards g;
	struct sock_rec client = fx_rec(AF_INET, "192.168.1.50", 51000, "10.0.0.1", 22,
					SS_ESTABLISHED, 1);
	struct sock_rec mapped = fx_rec(AF_INET6, "::ffff:192.168.1.50", 51000, "::ffff:10.0.0.1",
					22, SS_FIN_WAIT1, 2);
	struct sock_rec other = fx_rec(AF_INET, "192.168.1.50", 51001, "10.0.0.1", 22,
				       SS_ESTABLISHED, 3);
	struct sock_rec crossed = fx_rec(AF_INET, "10.0.0.1", 51000, "192.168.1.50", 22,
					 SS_ESTABLISHED, 4);
	struct sock_rec v6 = fx_rec(AF_INET6, "2001:db8::99", 40000, "2001:db8::1", 22,
				    SS_ESTABLISHED, 5);

	(void)state;
	assert_int_equal(guards_env(&g, false, "192.168.1.50 51000 10.0.0.1 22"), 0);
	assert_int_equal(plan_admit(&g, &client), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &mapped), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &other), ADMIT);
	assert_int_equal(plan_admit(&g, &crossed), ADMIT);
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, true, "192.168.1.50 51000 10.0.0.1 22"), 0);
	assert_int_equal(plan_admit(&g, &client), ADMIT);
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, false, "2001:db8::99 40000 2001:db8::1 22"), 0);
	assert_int_equal(plan_admit(&g, &v6), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &client), ADMIT);
	plan_guards_free(&g);
}

/*
 * sudo dropped SSH_CONNECTION, and the client end of the sshd ancestor's connection (4001:
 * 127.0.0.1:22 <- 127.0.0.1:51000) is a socket here too: it is kept by its 4-tuple, learned
 * from the ancestor's socket. A socket whose addresses cannot be learned makes the guard unsure.
 */
static void test_plan_self_other_end(void **state)
{
	const char *root = *state;
	struct plan_guards g;
	struct fake_sock socks[] = {
		{ 4001, 1, "127.0.0.1", 22, "127.0.0.1", 51000 },
		{ 4002, 1, "::1", 2222, "::1", 52000 },
		{ 4003, 0, NULL, 0, NULL, 0 },	/* a unix socket, or a listener: no peer */
		{ 0, 0, NULL, 0, NULL, 0 },
	};
	struct plan_self_src src = { NULL, root, 100, peek_fake, socks };
	struct sock_rec own = rec_inode("127.0.0.1", 22, 51000, SS_ESTABLISHED, 4001);
	struct sock_rec client = fx_rec(AF_INET, "127.0.0.1", 51000, "127.0.0.1", 22,
					SS_ESTABLISHED, 9);
	struct sock_rec client6 = fx_rec(AF_INET6, "::ffff:127.0.0.1", 51000, "::ffff:127.0.0.1",
					 22, SS_ESTABLISHED, 10);
	struct sock_rec v6client = fx_rec(AF_INET6, "::1", 52000, "::1", 2222, SS_ESTABLISHED, 11);
	struct sock_rec other = fx_rec(AF_INET, "127.0.0.1", 51001, "127.0.0.1", 22,
				       SS_ESTABLISHED, 12);

	client.inode = 6001;
	client6.inode = 6002;
	v6client.inode = 6003;
	other.inode = 6004;
	proc(root, 100, 40, "sockreap", NULL, true, NULL);
	proc(root, 40, 30, "bash", NULL, true, NULL);
	proc(root, 30, 1, "sshd", NULL, true, (const unsigned[]){ 4001, 4002, 4003, 0 });
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_false(g.unsure);
	assert_int_equal(plan_admit(&g, &own), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &client), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &client6), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &v6client), SKIP_SELF);
	assert_int_equal(plan_admit(&g, &other), ADMIT);
	plan_guards_free(&g);

	assert_int_equal(plan_guards_init(&g, false, true, &src), 0);
	assert_int_equal(plan_admit(&g, &client), ADMIT);
	plan_guards_free(&g);

	/* pidfd_getfd refused (no ptrace access, a kernel before 5.6): cannot tell. */
	socks[1].ret = -EPERM;
	assert_int_equal(plan_guards_init(&g, false, false, &src), 0);
	assert_true(g.unsure);
	char want[PATH_MAX + 64];

	snprintf(want, sizeof(want), "cannot learn the addresses of socket %s/30/fd/4 (sshd): "
		 "Operation not permitted", root);
	assert_string_equal(g.unsure_why, want);
	assert_int_equal(plan_admit(&g, &client), SKIP_SELF);	/* what it learned still counts */
	assert_int_equal(plan_admit(&g, &other), SKIP_SELF_UNSURE);
	plan_guards_free(&g);
}

/*
 * Unsure keeps every TCP connection with port 22 (or SSH_CONNECTION's server port) at either
 * end: the client end of a connection to port 22 on this host may be the caller's own.
 */
static void test_plan_unsure_either_end(void **state)
{
	struct plan_guards g;
	struct sock_rec c22 = rec_inode("10.0.0.2", 51000, 22, SS_ESTABLISHED, 0);
	struct sock_rec c2222 = rec_inode("10.0.0.2", 51000, 2222, SS_ESTABLISHED, 0);
	struct sock_rec c80 = rec_inode("10.0.0.2", 51000, 80, SS_ESTABLISHED, 0);
	struct sock_rec u22 = rec_inode("10.0.0.2", 51000, 22, SS_ESTABLISHED, 0);

	(void)state;
	u22.protocol = IPPROTO_UDP;
	assert_int_equal(guards_env(&g, false, "garbage"), 0);
	assert_int_equal(plan_admit(&g, &c22), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &c2222), ADMIT);
	assert_int_equal(plan_admit(&g, &c80), ADMIT);
	assert_int_equal(plan_admit(&g, &u22), ADMIT);
	plan_guards_free(&g);
	assert_int_equal(guards_env(&g, false, "192.168.1.50 51000 not-an-ip 2222"), 0);
	assert_int_equal(plan_admit(&g, &c22), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &c2222), SKIP_SELF_UNSURE);
	assert_int_equal(plan_admit(&g, &c80), ADMIT);
	plan_guards_free(&g);
}

static enum exit_status status_of(size_t killed, size_t gone, size_t changed, size_t unsup,
				  size_t denied, size_t failed)
{
	struct plan_counts c = { .total = killed + gone + changed + unsup + denied + failed };

	c.n[OUT_KILLED] = killed;
	c.n[OUT_GONE] = gone;
	c.n[OUT_CHANGED] = changed;
	c.n[OUT_UNSUPPORTED] = unsup;
	c.n[OUT_DENIED] = denied;
	c.n[OUT_FAILED] = failed;
	return plan_exit_status(&c);
}

static void test_plan_exit_status(void **state)
{
	(void)state;
	assert_int_equal(status_of(0, 0, 0, 0, 0, 0), EXIT_NOMATCH);
	assert_int_equal(status_of(5, 0, 0, 0, 0, 0), EXIT_DONE);
	assert_int_equal(status_of(3, 1, 1, 0, 0, 0), EXIT_DONE);
	assert_int_equal(status_of(0, 2, 0, 0, 0, 0), EXIT_DONE);
	assert_int_equal(status_of(4, 0, 0, 0, 0, 1), EXIT_PARTIAL);
	assert_int_equal(status_of(4, 0, 0, 0, 1, 0), EXIT_PARTIAL);
	assert_int_equal(status_of(0, 0, 0, 0, 0, 3), EXIT_PARTIAL);
	assert_int_equal(status_of(0, 0, 0, 0, 3, 0), EXIT_PRIV);
	assert_int_equal(status_of(0, 0, 0, 2, 1, 0), EXIT_PRIV);
	assert_int_equal(status_of(0, 0, 0, 2, 0, 1), EXIT_PARTIAL);
}

/* A run that stopped before attempting anything says why honestly: never 3 ("some not killed"). */
static void test_plan_exit_for_error(void **state)
{
	(void)state;
	assert_int_equal(plan_exit_for_error(-ENOMEM), EXIT_ERROR);
	assert_int_equal(plan_exit_for_error(-EIO), EXIT_ERROR);
	assert_int_equal(plan_exit_for_error(-ENOBUFS), EXIT_ERROR);
	assert_int_equal(plan_exit_for_error(-EPROTONOSUPPORT), EXIT_PRIV);
	assert_int_equal(plan_exit_for_error(-EPERM), EXIT_PRIV);
}

/* A socket skipped because its owner is unknown was not killed: exit 3, never 0 or 4. */
static void test_plan_exit_status_skipped(void **state)
{
	struct plan_counts c = { .total = 4 };

	(void)state;
	c.n[OUT_SKIPPED] = 4;
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
	c.n[OUT_SKIPPED] = 1;
	c.n[OUT_KILLED] = 3;
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
	c.n[OUT_KILLED] = 0;
	c.n[OUT_DENIED] = 3;
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
}

static void test_plan_count(void **state)
{
	struct sock_set set = { 0 };
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 1, "10.0.0.2", 2, SS_CLOSE_WAIT, 1);
	struct plan_counts c;

	(void)state;
	r.outcome = OUT_KILLED;
	sock_set_push(&set, &r);
	sock_set_push(&set, &r);
	r.outcome = OUT_DENIED;
	sock_set_push(&set, &r);
	plan_count(&set, &c);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.n[OUT_KILLED], 2);
	assert_int_equal(c.n[OUT_DENIED], 1);
	sock_set_free(&set);
}

/* A plan the rst engine cannot reach at all (syn-sent, syn-recv) is not "missing privilege". */
static void test_plan_engine_limit_is_not_privilege(void **state)
{
	struct sock_set set = { 0 };
	struct sock_rec r = fx_rec(AF_INET, "10.0.0.1", 1, "10.0.0.2", 2, SS_SYN_SENT, 1);
	struct plan_counts c;

	(void)state;
	r.outcome = OUT_UNSUPPORTED;
	r.err = SOCK_ERR_RST_STATE;
	sock_set_push(&set, &r);
	sock_set_push(&set, &r);
	plan_count(&set, &c);
	assert_int_equal(c.engine_cannot, 2);
	assert_int_equal(plan_exit_status(&c), EXIT_PARTIAL);
	/* The kernel's own EOPNOTSUPP still is. */
	r.err = -95;
	set.v[0] = r;
	set.v[1] = r;
	plan_count(&set, &c);
	assert_int_equal(plan_exit_status(&c), EXIT_PRIV);
	sock_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_listen_guard),
		cmocka_unit_test(test_plan_self_guard),
		cmocka_unit_test(test_plan_self_unparsable),
		cmocka_unit_test(test_plan_self_reversed),
		cmocka_unit_test_setup_teardown(test_plan_self_other_end, make_root, remove_root),
		cmocka_unit_test(test_plan_unsure_either_end),
		cmocka_unit_test_setup_teardown(test_plan_self_ancestors, make_root, remove_root),
		cmocka_unit_test_setup_teardown(test_plan_self_session, make_root, remove_root),
		cmocka_unit_test_setup_teardown(test_plan_self_unreadable, make_root, remove_root),
		cmocka_unit_test(test_plan_exit_status),
		cmocka_unit_test(test_plan_exit_for_error),
		cmocka_unit_test(test_plan_exit_status_skipped),
		cmocka_unit_test(test_plan_count),
		cmocka_unit_test(test_plan_engine_limit_is_not_privilege),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
