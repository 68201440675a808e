// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Audit records: a "start" record, "intent" records carrying the sockets before acting
 * (fsynced), "result" records carrying each socket's outcome after, a "summary", and syslog
 * lines before and after. JSON lines, appended by concurrent runs: each record is formatted
 * whole in a buffer of ours and goes out in one write(2) under flock, never through a stdio
 * buffer that would split it mid-line.
 */
#include "audit.h"
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

static struct timespec clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

void audit_init(struct audit *a)
{
	unsigned char r[16];

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->now = clock_now;
	a->syslog_path = "/dev/log";
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts = clock_now();

		memset(r, 0, sizeof(r));
		memcpy(r, &ts, sizeof(ts) < sizeof(r) ? sizeof(ts) : sizeof(r));
		r[15] ^= (unsigned char)getpid();
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(a->run_id + 2 * i, 3, "%02x", r[i]);
	if (gethostname(a->host, sizeof(a->host) - 1) < 0)
		snprintf(a->host, sizeof(a->host), "unknown");
}

void audit_open_fd(struct audit *a, int fd)
{
	/*
	 * Any caller may set a file-size limit (prlimit --fsize), a setcap install's too. Past it
	 * the kernel sends SIGXFSZ, which kills by default: in the middle of a record, with no
	 * summary and no word of what is missing. Ignored, the write fails with EFBIG, which is
	 * handled as a full disk (the record cut off again, counted, exit 3).
	 */
	signal(SIGXFSZ, SIG_IGN);
	a->fd = fd;
}

int audit_open(struct audit *a, const char *path, uid_t uid, char *why, size_t whylen)
{
	bool created;
	int fd;

	audit_init(a);
	fd = safepath_open_append(path, uid, &created, why, whylen);
	if (fd < 0)
		return fd;
	audit_open_fd(a, fd);
	return 0;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	json_buf_free(&a->buf);
	if (a->fd >= 0)
		close(a->fd);	/* releases the lock too */
	a->fd = -1;
}

void audit_format_time(char *buf, size_t size, struct timespec ts)
{
	struct tm tm;
	char s[32];

	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03uZ", s, (unsigned)(ts.tv_nsec / 1000000) % 1000U);
}

static long long read_id(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	long long v = strtoll(buf, NULL, 10);

	/* (unsigned)-1 means "never set" for both. */
	return v == 4294967295LL ? -1 : v;
}

void audit_who_fill(struct audit_who *w)
{
	w->uid = getuid();
	w->euid = geteuid();
	w->loginuid = read_id("/proc/self/loginuid");
	w->sessionid = read_id("/proc/self/sessionid");
	/*
	 * Under raised file capabilities (AT_SECURE) the environment is the caller's to write:
	 * a "sudo_user" from it would be a false claim in root's record. Recorded as null there.
	 */
	w->sudo_user = secure_getenv("SUDO_USER");
	w->tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : NULL;
}

static int lock_file(struct audit *a)
{
	if (a->locked)
		return 0;
	while (flock(a->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	a->locked = true;
	a->checked_end = false;
	return 0;
}

/*
 * A run killed mid-write (SIGKILL, a crash, a full disk without the truncate below) leaves a
 * line without its newline: end it, so that our first record is not glued onto it.
 */
static int end_torn_line(struct audit *a)
{
	struct stat st;
	char c;

	if (fstat(a->fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0;
	ssize_t n = pread(a->fd, &c, 1, st.st_size - 1);

	if (n < 0)
		return -errno;
	if (n == 0)	/* cut short since the fstat: nothing torn to end */
		return 0;
	if (c != '\n' && write(a->fd, "\n", 1) != 1)
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * One record, whole, under the lock. A short write (a full disk) is cut off again: the file
 * keeps whole lines only, and the record counts as not written.
 */
static int put(struct audit *a, const char *buf, size_t len)
{
	struct stat st;
	size_t done = 0;
	int ret = lock_file(a);

	if (ret == 0 && !a->checked_end) {
		ret = end_torn_line(a);
		a->checked_end = ret == 0;
	}
	if (ret == 0 && fstat(a->fd, &st) < 0)
		ret = -errno;
	if (ret < 0)
		return ret;
	while (done < len) {
		ssize_t n = write(a->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (done > 0 && done < len && ftruncate(a->fd, st.st_size) < 0)
		a->checked_end = false;	/* cannot cut it: at least end it before the next */
	if (done == len)
		a->wrote = true;
	/*
	 * The intents are fsynced before acting: start writing them back while the rest are
	 * formatted, so that the fsync waits for the last few MiB, not all of them (35 MB at
	 * 100,000 sockets). Only a hint: the fsync still decides.
	 */
	a->unsynced += done;
	if (a->unsynced >= AUDIT_WRITEBACK_BYTES) {
		sync_file_range(a->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		a->unsynced = 0;
	}
	return ret;
}

static bool record_begin(struct audit *a, const char *event, bool host)
{
	char t[64];

	if (a->fd < 0)
		return false;
	audit_format_time(t, sizeof(t), a->now());
	a->buf.len = 0;
	json_init_buf(&a->j, &a->buf);
	json_obj_begin(&a->j, NULL);
	json_str(&a->j, "time", t);
	json_str(&a->j, "event", event);
	json_str(&a->j, "run", a->run_id);
	if (a->rule)
		json_str(&a->j, "rule", a->rule);
	/* The host is said once per batch (start, summary): the sockets' records are many. */
	if (host)
		json_str(&a->j, "host", a->host);
	/* An --apply run: every record names the plan it carried out, and who made it. */
	if (a->plan) {
		json_obj_begin(&a->j, "plan");
		json_str(&a->j, "sha256", a->plan->sha256);
		if (a->plan->file_uid >= 0)
			json_uint(&a->j, "file_uid", (uint64_t)a->plan->file_uid);
		else
			json_put_null(&a->j, "file_uid");
		audit_who_json(&a->j, "author", a->plan->author);
		json_obj_end(&a->j);
	}
	return true;
}

/* Ends the record and writes it; a lost result record counts its sockets as missing. */
static void record_end(struct audit *a, enum audit_event ev, size_t nsockets, bool summary)
{
	int ret;

	json_obj_end(&a->j);
	json_end_line(&a->j);
	ret = a->buf.oom ? -ENOMEM : put(a, a->buf.p, a->buf.len);
	a->buf.oom = false;
	if (ret == 0)
		return;
	if (!a->err)
		a->err = ret;
	if (ev == AUDIT_EV_RESULT)
		a->results_missing += nsockets;
	if (summary)
		a->summary_missing = true;
}

static void sockets_close(struct audit *a)
{
	if (a->open == AUDIT_EV_NONE)
		return;
	json_arr_end(&a->j);
	record_end(a, a->open, a->open_n, false);
	a->open = AUDIT_EV_NONE;
	a->open_n = 0;
}

/* Opens an "intent" record for more sockets unless one is open. */
static bool intents_add(struct audit *a)
{
	if (a->fd < 0)
		return false;
	if (a->open != AUDIT_EV_INTENT) {
		sockets_close(a);
		record_begin(a, "intent", false);
		json_arr_begin(&a->j, "sockets");
		a->open = AUDIT_EV_INTENT;
	}
	return true;
}

/* What a result record says of all its cookies. */
static struct audit_outcome outcome_of(const struct sock_rec *rec)
{
	return (struct audit_outcome){ sock_outcome_name(rec->outcome), sock_outcome_detail(rec),
				       sock_engine_name(rec->engine),
				       (rec->flags & SOCK_F_PEER_RESET) != 0, sock_peer_end(rec) };
}

static bool same_str(const char *x, const char *y)
{
	return x == y || (x && y && !strcmp(x, y));
}

static bool same_outcome(const struct audit_outcome *x, const struct audit_outcome *y)
{
	return same_str(x->outcome, y->outcome) && same_str(x->error, y->error) &&
	       same_str(x->engine, y->engine) && x->peer_reset == y->peer_reset &&
	       same_str(x->peer_end, y->peer_end);
}

/*
 * Opens a "result" record for sockets that ended as o unless one is open: the outcome is said
 * once, then the cookies (nulls and false left out, as the intent says the rest).
 */
static bool results_add(struct audit *a, const struct audit_outcome *o)
{
	if (a->fd < 0)
		return false;
	if (a->open == AUDIT_EV_RESULT && same_outcome(&a->open_outcome, o))
		return true;
	sockets_close(a);
	record_begin(a, "result", false);
	json_str(&a->j, "outcome", o->outcome);
	if (o->error)
		json_str(&a->j, "error", o->error);
	json_str(&a->j, "engine", o->engine);
	if (o->peer_reset)
		json_bool(&a->j, "peer_reset", true);
	if (o->peer_end)
		json_str(&a->j, "peer_end", o->peer_end);
	json_arr_begin(&a->j, "cookies");
	a->open = AUDIT_EV_RESULT;
	a->open_outcome = *o;
	return true;
}

/* A record is written once it is big enough: about 600 writes for 100,000 sockets. */
static void sockets_added(struct audit *a)
{
	a->open_n++;
	if (a->buf.len >= AUDIT_RECORD_BYTES)
		sockets_close(a);
}

static void id_or_null(struct json *j, const char *key, long long v)
{
	if (v < 0)
		json_put_null(j, key);
	else
		json_int(j, key, v);
}

void audit_who_json(struct json *j, const char *key, const struct audit_who *w)
{
	json_obj_begin(j, key);
	json_uint(j, "uid", w->uid);
	json_uint(j, "euid", w->euid);
	id_or_null(j, "loginuid", w->loginuid);
	id_or_null(j, "sessionid", w->sessionid);
	json_str(j, "sudo_user", w->sudo_user);
	json_str(j, "tty", w->tty);
	json_obj_end(j);
}

void audit_start(struct audit *a, const struct audit_run *run)
{
	struct json *j = &a->j;

	sockets_close(a);
	if (!record_begin(a, "start", true))
		return;
	audit_who_json(j, "who", run->who);
	json_arr_begin(j, "argv");
	for (int i = 0; i < run->argc; i++)
		json_str(j, NULL, run->argv[i]);
	json_arr_end(j);
	json_str(j, "selector", run->selector);
	json_str(j, "engine", run->engine);
	json_uint(j, "planned", run->planned);
	if (run->netns)
		output_netns_json(j, "netns", run->netns);
	record_end(a, AUDIT_EV_NONE, 0, false);
}

/* The whole socket, named as in the JSON output. */
void audit_intent(struct audit *a, const struct sock_rec *rec,
		  const struct sel_owner_ctx *owners)
{
	audit_intent_ns(a, rec, owners, NULL);
}

void audit_intent_ns(struct audit *a, const struct sock_rec *rec,
		     const struct sel_owner_ctx *owners, const struct netns_info *ns)
{
	if (!intents_add(a))
		return;
	output_sock_json_ns(&a->j, NULL, rec, owners, false, ns);
	sockets_added(a);
}

/* Only what the intent does not say: the cookie ties the two together. */
/*
 * --close-fd: a socket whose owners' descriptors were worked on has a result record of its
 * own, saying per owner whether its descriptor was closed ("fd_closed") and what became of it.
 */
void audit_result_fds(struct audit *a, const struct sock_rec *rec,
		      const struct sel_owner_ctx *owners)
{
	struct audit_outcome o = outcome_of(rec);
	struct sel_owner_info w;
	char cookie[20];

	if (!owners || !owners->fd_result || rec->pid <= 0 || selector_ownerless(rec)) {
		audit_result(a, rec);
		return;
	}
	sockets_close(a);
	if (!results_add(a, &o))
		return;
	snprintf(cookie, sizeof(cookie), "%" PRIx64, sock_cookie(rec));
	json_str(&a->j, NULL, cookie);
	json_arr_end(&a->j);
	json_arr_begin(&a->j, "owners");
	for (size_t i = 0; owners->owner(owners->arg, rec, i, &w); i++) {
		const char *why = NULL;
		const char *res = owners->fd_result(owners->fd_arg, rec, w.pid, w.fd, &why);

		json_obj_begin(&a->j, NULL);
		json_int(&a->j, "pid", w.pid);
		json_int(&a->j, "fd", w.fd);
		json_bool(&a->j, "fd_closed", res && !strcmp(res, "closed"));
		json_str(&a->j, "fd_result", res ? res : "not-tried");
		if (why)
			json_str(&a->j, "fd_why", why);
		json_obj_end(&a->j);
	}
	/* sockets_close ends this array as if it were the cookies'. */
	a->open_n = 1;
	sockets_close(a);
}

void audit_result(struct audit *a, const struct sock_rec *rec)
{
	struct audit_outcome o = outcome_of(rec);

	if (!results_add(a, &o))
		return;
	json_hex(&a->j, NULL, sock_cookie(rec));
	sockets_added(a);
}

static int held_pending(void);

/*
 * The status the run will exit with, as far as it is known now: a held signal (128 + signo),
 * results that did not reach the file (3), else what the outcomes earn. A signal that comes
 * after this line, or a failed fsync, can still change it.
 */
static int exit_status_now(const struct audit *a, const struct plan_counts *c)
{
	int sig = held_pending();

	if (sig)
		return 128 + sig;
	return a->err ? EXIT_PARTIAL : (int)plan_exit_status(c);
}

void audit_summary(struct audit *a, const struct plan_counts *c, double elapsed_ms)
{
	struct json *j = &a->j;
	int status;

	sockets_close(a);	/* the last results first: whether they were lost counts */
	status = exit_status_now(a, c);
	if (!record_begin(a, "summary", true))
		return;
	json_uint(j, "selected", c->total);
	for (unsigned o = OUT_KILLED; o < OUT_MAX; o++)
		json_uint(j, sock_outcome_name(o), c->n[o]);
	if (c->close_fd)
		json_uint(j, "fds_closed", c->fds_closed);
	else
		json_put_null(j, "fds_closed");
	json_uint(j, "exit_status", (unsigned)status);
	json_double(j, "elapsed_ms", elapsed_ms, 3);
	record_end(a, AUDIT_EV_NONE, 0, true);
}

void audit_refused(struct audit *a, const struct audit_run *run, size_t limit)
{
	audit_refused_ns(a, run, limit, NULL);
}

void audit_refused_ns(struct audit *a, const struct audit_run *run, size_t limit,
		      const struct audit_ns_iter *it)
{
	struct netns_info ns;
	size_t n;

	sockets_close(a);
	if (!record_begin(a, "refused", true))
		return;
	json_str(&a->j, "selector", run->selector);
	json_str(&a->j, "reason", "max-per-cycle");
	json_uint(&a->j, "matched", run->planned);
	json_uint(&a->j, "limit", limit);
	/* No kill, so no intent names where the sockets were: this record does (as they would). */
	if (it) {
		json_arr_begin(&a->j, "netns");
		for (size_t i = 0; it->at(it->arg, i, &ns, &n); i++) {
			if (!n)
				continue;
			json_obj_begin(&a->j, NULL);
			output_netns_fields(&a->j, &ns);
			json_uint(&a->j, "matched", n);
			json_obj_end(&a->j);
		}
		json_arr_end(&a->j);
	}
	record_end(a, AUDIT_EV_NONE, 0, false);
}

int audit_commit(struct audit *a)
{
	int ret;

	if (a->fd < 0)
		return 0;
	sockets_close(a);
	ret = a->err;
	if (a->wrote && fsync(a->fd) < 0 && !ret)
		ret = -errno;
	if (a->locked)
		flock(a->fd, LOCK_UN);
	a->locked = false;
	a->wrote = false;
	a->err = 0;
	return ret;
}

int audit_sync(struct audit *a)
{
	int ret;

	if (a->fd < 0)
		return 0;
	sockets_close(a);
	ret = a->err;
	if (!ret && a->wrote && fsync(a->fd) < 0)
		ret = -errno;
	if (ret < 0 && !a->err)
		a->err = ret;
	return ret;
}

static void who_line(char *buf, size_t size, const struct audit *a, const struct audit_run *run)
{
	int n = snprintf(buf, size, "run %s%s%s uid=%u euid=%u sudo_user=%s engine=%s "
			 "selector=\"%s\"", a->run_id, a->rule ? " rule=" : "", a->rule ? a->rule : "",
			 run->who->uid, run->who->euid,
			 run->who->sudo_user ? run->who->sudo_user : "-", run->engine,
			 run->selector ? run->selector : "");

	/* --apply: syslog names the plan too, as every audit record does. */
	if (a->plan && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " plan_sha256=%s plan_author_uid=%u "
			 "plan_file_uid=%lld", a->plan->sha256, a->plan->author->uid,
			 a->plan->file_uid);
}

/* Said before acting: a run stopped by force still leaves this behind. */
void audit_syslog_intent(const struct audit *a, const struct audit_run *run, const char *path)
{
	char who[8192];

	who_line(who, sizeof(who), a, run);
	openlog("sockreap", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "%s: intends to kill %zu socket%s (%s%s)", who, run->planned,
	       run->planned == 1 ? "" : "s", path ? "audit log " : "audit file disabled by --no-audit",
	       path ? path : "");
	closelog();
}

void audit_syslog(const struct audit *a, const struct audit_run *run, const struct plan_counts *c,
		  bool audit_disabled)
{
	char who[8192];

	who_line(who, sizeof(who), a, run);
	openlog("sockreap", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE,
	       "%s: %zu selected, %zu killed, %zu gone, %zu changed, %zu not killed%s", who,
	       c->total, c->n[OUT_KILLED], c->n[OUT_GONE], c->n[OUT_CHANGED],
	       c->n[OUT_FAILED] + c->n[OUT_DENIED] + c->n[OUT_UNSUPPORTED] + c->n[OUT_SKIPPED],
	       audit_disabled ? " (audit file disabled by --no-audit)" : "");
	closelog();
}

void audit_syslog_missing(const struct audit *a, const char *path, size_t total, int err)
{
	openlog("sockreap", LOG_PID, LOG_AUTHPRIV);
	if (a->results_missing || a->summary_missing)
		syslog(LOG_ERR, "run %s: audit log %s: %zu of %zu results missing%s (%s)", a->run_id,
		       path, a->results_missing, total,
		       a->summary_missing ? ", and the summary" : "", strerror(-err));
	else
		syslog(LOG_ERR, "run %s: audit log %s: the results could not be synced to disk (%s)",
		       a->run_id, path, strerror(-err));
	closelog();
}

void audit_syslog_cycle(unsigned long long cycle, const char *what)
{
	openlog("sockreap", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "watch: cycle %llu: %s", cycle, what);
	closelog();
}

bool audit_syslog_reachable(const struct audit *a)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };

	if (!a->syslog_path || strlen(a->syslog_path) >= sizeof(sun.sun_path))
		return false;
	strcpy(sun.sun_path, a->syslog_path);
	/* As syslog(3) does: a datagram socket, or a stream one where that is what listens. */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		bool ok;

		if (fd < 0)
			continue;
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
		if (ok)
			return true;
	}
	return false;
}

static const int held_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

static void held_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(held_signals) / sizeof(held_signals[0]); i++)
		sigaddset(set, held_signals[i]);
}

/* The first held signal that is pending and would act (not ignored), or 0; not consumed. */
static int held_pending(void)
{
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(held_signals) / sizeof(held_signals[0]); i++) {
		int sig = held_signals[i];
		struct sigaction sa;

		if (sigismember(&pending, sig) && sigaction(sig, NULL, &sa) == 0 &&
		    sa.sa_handler != SIG_IGN)
			return sig;
	}
	return 0;
}

int audit_signals_hold(struct audit_signals *s)
{
	sigset_t set;
	int ret;

	held_set(&set);
	/* Threads started from here on (the destroy engine's) inherit the mask. */
	ret = pthread_sigmask(SIG_BLOCK, &set, &s->old);
	if (ret)
		return -ret;
	s->held = true;
	return 0;
}

int audit_signals_release(struct audit_signals *s)
{
	const struct timespec zero = { 0, 0 };
	sigset_t pending;
	int got = 0;

	if (!s->held)
		return 0;
	sigpending(&pending);
	for (size_t i = 0; i < sizeof(held_signals) / sizeof(held_signals[0]); i++) {
		int sig = held_signals[i];
		struct sigaction sa;
		sigset_t one;

		if (!sigismember(&pending, sig))
			continue;
		sigemptyset(&one);
		sigaddset(&one, sig);
		sigtimedwait(&one, NULL, &zero);
		/* A blocked signal stays pending even if ignored (a background job's SIGINT). */
		if (!got && sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
			got = sig;
	}
	pthread_sigmask(SIG_SETMASK, &s->old, NULL);
	s->held = false;
	return got;
}

const char *audit_signal_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	case SIGQUIT:
		return "SIGQUIT";
	}
	return "a signal";
}
