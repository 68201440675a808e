// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sshdrig: a stand-in for an sshd session process, for the tests of the guard that keeps the
 * caller's own connection out of a plan.
 *
 *   sshdrig [-d] [-p PORT] CMD [ARG...]
 *
 * Listens on 127.0.0.1:PORT (default 22) in the current network namespace and makes two
 * connections to it. The server end of the first ("own") is held by the rig, as sshd holds a
 * login's connection; the server end of the second ("other") and both client ends are held by
 * a bystander child, which is no ancestor of CMD. Prints "ready OWN_PORT OTHER_PORT" (the
 * client ends' ports) on stdout and in SSHDRIG_OWN_PORT and SSHDRIG_OTHER_PORT (its own pid in
 * SSHDRIG_PID), then runs CMD:
 *   default  as the rig's child (sshd -> CMD, as sshd -> shell); exits with CMD's status
 *   -d       detached, as inside tmux or screen: the rig first opens a new audit login session
 *            (it writes /proc/self/loginuid) and names itself "sshd", then runs CMD in a
 *            grandchild whose parent exits at once, so that the rig shares CMD's login session
 *            but is no ancestor of it; exits 0 once CMD has exited, 77 if it cannot open a
 *            session here
 * The listener is closed before CMD runs; the rig and the bystander keep their ends until
 * the rig exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define RIG_NAME "sshdrig"
#include "rig.h"

static int client_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		rig_die("getsockname");
	return ntohs(sin.sin_port);
}

/* A new audit session: the kernel gives one to every write of loginuid (CAP_AUDIT_CONTROL). */
static int new_login_session(void)
{
	int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "0", 1) == 1;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Holds its sockets until the rig exits (end of file on the pipe). */
static void bystander(int wait_fd)
{
	char c;

	while (read(wait_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static int run_attached(char **cmd)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		rig_die("fork");
	if (!pid) {
		execvp(cmd[0], cmd);
		rig_die(cmd[0]);
	}
	if (waitpid(pid, &status, 0) < 0)
		rig_die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The grandchild runs CMD; the rig waits for the end of file on a pipe only CMD holds. */
static int run_detached(char **cmd)
{
	int done[2], status;
	char c;
	pid_t pid;

	if (pipe2(done, O_CLOEXEC) < 0)
		rig_die("pipe");
	pid = fork();
	if (pid < 0)
		rig_die("fork");
	if (!pid) {
		if (setsid() < 0)
			rig_die("setsid");
		pid = fork();
		if (pid < 0)
			rig_die("fork");
		if (pid)
			_exit(0);
		/* The write end crosses exec (dup2 drops O_CLOEXEC): EOF at CMD's exit. */
		if (dup2(done[1], 100) < 0)
			rig_die("dup2");
		execvp(cmd[0], cmd);
		rig_die(cmd[0]);
	}
	close(done[1]);
	if (waitpid(pid, &status, 0) < 0)
		rig_die("waitpid");
	while (read(done[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int port = 22, opt, one = 1, detached = 0, cli[2], srv[2], hold[2];

	while ((opt = getopt(argc, argv, "+dp:")) != -1) {
		switch (opt) {
		case 'd':
			detached = 1;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: sshdrig [-d] [-p PORT] CMD [ARG...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: sshdrig [-d] [-p PORT] CMD [ARG...]\n");
		return 2;
	}
	if (detached && new_login_session() < 0) {
		fprintf(stderr, "sshdrig: cannot open an audit login session here: %s\n",
			strerror(errno));
		return 77;
	}
	sl = rig_addr("127.0.0.1", port, &ss);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (lfd < 0)
		rig_die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, sl) < 0)
		rig_die("bind");
	if (listen(lfd, 4) < 0)
		rig_die("listen");
	for (int i = 0; i < 2; i++) {
		cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cli[i] < 0 || connect(cli[i], (struct sockaddr *)&ss, sl) < 0)
			rig_die("connect");
		srv[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (srv[i] < 0)
			rig_die("accept");
	}
	close(lfd);
	int own_port = client_port(cli[0]), other_port = client_port(cli[1]);

	if (pipe2(hold, O_CLOEXEC) < 0)
		rig_die("pipe");
	pid_t by = fork();

	if (by < 0)
		rig_die("fork");
	if (!by) {
		close(hold[1]);
		close(srv[0]);
		bystander(hold[0]);
	}
	close(hold[0]);
	close(cli[0]);
	close(cli[1]);
	close(srv[1]);
	if (detached && prctl(PR_SET_NAME, "sshd", 0, 0, 0) < 0)
		rig_die("prctl");
	printf("ready %d %d\n", own_port, other_port);
	fflush(stdout);
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", own_port);
	setenv("SSHDRIG_OWN_PORT", buf, 1);
	snprintf(buf, sizeof(buf), "%d", other_port);
	setenv("SSHDRIG_OTHER_PORT", buf, 1);
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	setenv("SSHDRIG_PID", buf, 1);
	return detached ? run_detached(argv + optind) : run_attached(argv + optind);
}
