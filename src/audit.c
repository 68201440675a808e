/*
 * Audit records: a "start" record, an "intent" record per socket before acting (fsynced),
 * a "result" record per socket after, a "summary", and one syslog line. JSON lines, appended.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
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
	a->now = clock_now;
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

static int make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

int audit_open(struct audit *a, const char *path)
{
	int fd;

	audit_init(a);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT) {
		int ret = make_parent(path);

		if (ret < 0)
			return ret;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0)
		return -errno;
	a->f = fdopen(fd, "a");
	if (!a->f) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return 0;
}

void audit_close(struct audit *a)
{
	if (a && a->f) {
		fclose(a->f);
		a->f = NULL;
	}
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
	w->sudo_user = getenv("SUDO_USER");
	w->tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : NULL;
}

static void record_begin(struct audit *a, struct json *j, const char *event)
{
	char t[64];

	audit_format_time(t, sizeof(t), a->now());
	json_init(j, a->f);
	json_obj_begin(j, NULL);
	json_str(j, "time", t);
	json_str(j, "event", event);
	json_str(j, "run", a->run_id);
	json_str(j, "host", a->host);
}

static void record_end(struct json *j)
{
	json_obj_end(j);
	fputc('\n', j->f);
}

static void id_or_null(struct json *j, const char *key, long long v)
{
	if (v < 0)
		json_null(j, key);
	else
		json_int(j, key, v);
}

void audit_start(struct audit *a, const struct audit_run *run)
{
	struct json j;

	if (!a->f)
		return;
	record_begin(a, &j, "start");
	json_obj_begin(&j, "who");
	json_uint(&j, "uid", run->who->uid);
	json_uint(&j, "euid", run->who->euid);
	id_or_null(&j, "loginuid", run->who->loginuid);
	id_or_null(&j, "sessionid", run->who->sessionid);
	json_str(&j, "sudo_user", run->who->sudo_user);
	json_str(&j, "tty", run->who->tty);
	json_obj_end(&j);
	json_arr_begin(&j, "argv");
	for (int i = 0; i < run->argc; i++)
		json_str(&j, NULL, run->argv[i]);
	json_arr_end(&j);
	json_str(&j, "selector", run->selector);
	json_str(&j, "engine", run->engine);
	json_uint(&j, "planned", run->planned);
	record_end(&j);
}

void audit_socket(struct audit *a, const char *event, const struct sock_rec *rec,
		  const struct sel_owner_ctx *owners)
{
	struct json j;

	if (!a->f)
		return;
	record_begin(a, &j, event);
	/* The socket's own fields, named as in the JSON output. */
	output_sock_json(&j, "socket", rec, owners, strcmp(event, "intent") != 0);
	record_end(&j);
}

void audit_summary(struct audit *a, const struct plan_counts *c, double elapsed_ms)
{
	struct json j;

	if (!a->f)
		return;
	record_begin(a, &j, "summary");
	json_uint(&j, "selected", c->total);
	for (unsigned o = OUT_KILLED; o < OUT_MAX; o++)
		json_uint(&j, sock_outcome_name(o), c->n[o]);
	json_uint(&j, "exit_status", plan_exit_status(c));
	json_double(&j, "elapsed_ms", elapsed_ms, 3);
	record_end(&j);
}

int audit_commit(struct audit *a)
{
	if (!a->f)
		return 0;
	if (fflush(a->f) != 0 || ferror(a->f))
		return errno ? -errno : -EIO;
	/* A stream without a descriptor (tests write to memory) has nothing to sync. */
	int fd = fileno(a->f);

	if (fd >= 0 && fsync(fd) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

void audit_syslog(const struct audit *a, const struct audit_run *run, const struct plan_counts *c,
		  bool audit_disabled)
{
	openlog("sockreap", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE,
	       "run %s uid=%u euid=%u sudo_user=%s engine=%s selector=\"%s\": %zu selected, %zu "
	       "killed, %zu gone, %zu changed, %zu not killed%s",
	       a->run_id, run->who->uid, run->who->euid,
	       run->who->sudo_user ? run->who->sudo_user : "-", run->engine,
	       run->selector ? run->selector : "", c->total, c->n[OUT_KILLED], c->n[OUT_GONE],
	       c->n[OUT_CHANGED],
	       c->n[OUT_FAILED] + c->n[OUT_DENIED] + c->n[OUT_UNSUPPORTED] + c->n[OUT_SKIPPED],
	       audit_disabled ? " (audit file disabled by --no-audit)" : "");
	closelog();
}
