// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nsholder: the many-namespace bench workload (row 8). One process makes COUNT named network
 * namespaces of its own (unshare, lo up, bind-mounted at /run/netns/PREFIX-I, I from FIRST),
 * and in each holds K CLOSE_WAIT connections (client ends shut down writing, kept: no orphan
 * limit) and E healthy ESTABLISHED ones, all on 127.0.0.1:PORT.
 *   nsholder -P PREFIX -f FIRST -c COUNT [-k K] [-e E] [-p PORT]
 * Commands, one a line on standard input, each answered by one line on standard output:
 *   check     "survivors S collateral C": CLOSE_WAIT ends still in CLOSE_WAIT, healthy ends
 *             (either side) no longer ESTABLISHED, read from the held descriptors
 *   rebuild   closes the CLOSE_WAIT connections and makes new ones in every namespace: "ready"
 * It prints "ready" once everything is made. It removes every namespace it made (unmount,
 * unlink) when its standard input ends, on SIGINT/SIGTERM/SIGHUP and on any failure; it never
 * touches a file it did not create (O_EXCL).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NS 1000
#define MAX_K 64

struct ns {
	char path[PATH_MAX];
	int made;		/* 1: file created, 2: mounted too */
	int nsfd;
	int lfd;
	int cw_srv[MAX_K], cw_cli[MAX_K];
	int est_srv[MAX_K], est_cli[MAX_K];
};

/* The signal handler's view: what to remove. Written before any signal can need it. */
static struct ns *g_ns;
static volatile sig_atomic_t g_count;

static void remove_all(void)
{
	for (int i = 0; i < g_count; i++) {
		if (g_ns[i].made == 2)
			umount2(g_ns[i].path, MNT_DETACH);
		if (g_ns[i].made)
			unlink(g_ns[i].path);
		g_ns[i].made = 0;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	remove_all();
	_exit(1);
}

static void die(const char *what)
{
	fprintf(stderr, "nsholder: %s: %s\n", what, strerror(errno));
	remove_all();
	exit(1);
}

static int listener(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 256) < 0)
		die("bind/listen");
	return fd;
}

static void connect_pair(int lfd, int port, int *srv, int *cli)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	*cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	*srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*srv < 0)
		die("accept");
}

static void make_close_wait(struct ns *n, int k, int port)
{
	for (int j = 0; j < k; j++) {
		connect_pair(n->lfd, port, &n->cw_srv[j], &n->cw_cli[j]);
		shutdown(n->cw_cli[j], SHUT_WR);
	}
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	return ti.tcpi_state;
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("lo flags");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("lo up");
	close(fd);
}

/* One new namespace, named and populated; we are back home afterwards. */
static void make_ns(struct ns *n, int home, int k, int e, int port)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		die("unshare");
	lo_up();
	fd = open(n->path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		die(n->path);
	close(fd);
	n->made = 1;
	if (mount("/proc/self/ns/net", n->path, NULL, MS_BIND, NULL) < 0)
		die("bind mount");
	n->made = 2;
	n->nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->nsfd < 0)
		die("ns fd");
	n->lfd = listener(port);
	make_close_wait(n, k, port);
	for (int j = 0; j < e; j++)
		connect_pair(n->lfd, port, &n->est_srv[j], &n->est_cli[j]);
	if (setns(home, CLONE_NEWNET) < 0)
		die("setns home");
}

int main(int argc, char **argv)
{
	const char *prefix = NULL;
	int first = 0, count = 0, k = 10, e = 10, port = 9100, opt, home;
	struct rlimit rl;
	struct sigaction sa = { .sa_handler = on_signal };
	char line[64];

	while ((opt = getopt(argc, argv, "P:f:c:k:e:p:")) != -1) {
		if (opt == 'P')
			prefix = optarg;
		else if (opt == 'f')
			first = atoi(optarg);
		else if (opt == 'c')
			count = atoi(optarg);
		else if (opt == 'k')
			k = atoi(optarg);
		else if (opt == 'e')
			e = atoi(optarg);
		else if (opt == 'p')
			port = atoi(optarg);
		else
			return 2;
	}
	if (!prefix || count < 1 || count > MAX_NS || k < 0 || k > MAX_K || e < 0 || e > MAX_K)
		return 2;
	/* Inherited descriptors (the bench's FIFO ends) would keep our stdin from ending. */
	close_range(3, ~0U, 0);
	/* 4 descriptors per connection pair plus 2 per namespace: above a soft limit of 1,024. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	g_ns = calloc((size_t)count, sizeof(*g_ns));
	if (!g_ns)
		die("calloc");
	for (int i = 0; i < count; i++)
		snprintf(g_ns[i].path, sizeof(g_ns[i].path), "/run/netns/%s-%d", prefix, first + i);
	g_count = count;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mkdir("/run/netns", 0755);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		die("home ns");
	for (int i = 0; i < count; i++)
		make_ns(&g_ns[i], home, k, e, port);
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "check\n")) {
			int surv = 0, coll = 0;

			for (int i = 0; i < count; i++) {
				for (int j = 0; j < k; j++)
					surv += tcp_state(g_ns[i].cw_srv[j]) == TCP_CLOSE_WAIT;
				for (int j = 0; j < e; j++)
					coll += (tcp_state(g_ns[i].est_srv[j]) != TCP_ESTABLISHED) +
						(tcp_state(g_ns[i].est_cli[j]) != TCP_ESTABLISHED);
			}
			printf("survivors %d collateral %d\n", surv, coll);
		} else if (!strcmp(line, "rebuild\n")) {
			for (int i = 0; i < count; i++) {
				struct ns *n = &g_ns[i];

				for (int j = 0; j < k; j++) {
					close(n->cw_srv[j]);
					close(n->cw_cli[j]);
				}
				/* New sockets belong to the namespace this process is in. */
				if (setns(n->nsfd, CLONE_NEWNET) < 0)
					die("setns");
				make_close_wait(n, k, port);
				if (setns(home, CLONE_NEWNET) < 0)
					die("setns home");
			}
			printf("ready\n");
		} else {
			printf("unknown command\n");
		}
		fflush(stdout);
	}
	remove_all();
	return 0;
}
