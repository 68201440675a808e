// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Binds names in the AST to this system: cgroup paths and systemd units to cgroup ids,
 * network namespace names, paths and pids to namespace inodes, interface names to indexes in
 * each namespace visited.
 */
#include "cgroup.h"
#include "netns.h"
#include "selector.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct sel_error *err, const struct sel_node *n, int ret, const char *fmt,
		const char *what)
{
	snprintf(err->msg, sizeof(err->msg), fmt, what);
	err->pos = n->pos;
	err->len = n->len;
	return ret;
}

static int resolve(struct sel_node *n, char *root, bool *have_root, struct sel_error *err)
{
	char path[PATH_MAX];
	int ret;

	if (!n)
		return 0;
	if (n->kind != SEL_CGROUP) {
		ret = resolve(n->l, root, have_root, err);
		return ret ? ret : resolve(n->r, root, have_root, err);
	}
	if (!*have_root) {
		ret = cgroup_root(NULL, root, PATH_MAX);
		if (ret < 0)
			return fail(err, n, ret, "%s",
				    "cgroup v2 is not mounted here (`ip netns exec` hides it by "
				    "remounting /sys; nsenter --net=/run/netns/NAME does not)");
		*have_root = true;
	}
	if (n->u.cg.unit && !n->u.cg.path) {
		ret = cgroup_find_unit(root, n->u.cg.unit, path, sizeof(path));
		if (ret < 0)
			return fail(err, n, ret, "no unit \"%s\" (no such cgroup under the cgroup2 root)",
				    n->u.cg.unit);
		if (!(n->u.cg.path = strdup(path)))
			return -ENOMEM;
	}
	free(n->u.cg.ids);
	ret = cgroup_ids(root, n->u.cg.path, &n->u.cg.ids);
	if (ret < 0)
		return fail(err, n, ret, "no cgroup \"%s\" under the cgroup2 root", n->u.cg.path);
	n->u.cg.n = (size_t)ret;
	return 0;
}

int selector_resolve(struct sel_node *n, const char *cgroup_root_dir, struct sel_error *err)
{
	char root[PATH_MAX];
	bool have = cgroup_root_dir != NULL;

	memset(err, 0, sizeof(*err));
	if (have)
		snprintf(root, sizeof(root), "%s", cgroup_root_dir);
	return resolve(n, root, &have, err);
}

/* What the atom names, as the operator wrote it, for a message: "a", "pid 42", "inode 5". */
static void netns_what(const struct sel_node *n, char *buf, size_t size)
{
	if (n->u.ns.pid)
		snprintf(buf, size, "pid %d", (int)n->u.ns.pid);
	else if (n->u.ns.spec)
		snprintf(buf, size, "\"%.120s\"", n->u.ns.spec);
	else
		snprintf(buf, size, "inode %llu", (unsigned long long)n->u.ns.inode);
}

static int netns_fail(struct sel_error *err, const struct sel_node *n, int ret)
{
	char what[160];

	netns_what(n, what, sizeof(what));
	if (ret == -ENOENT && n->u.ns.pid)
		snprintf(err->msg, sizeof(err->msg), "netns pid %d: no such process",
			 (int)n->u.ns.pid);
	else if (ret == -ESTALE && n->u.ns.pid)
		snprintf(err->msg, sizeof(err->msg), "netns pid %d: that pid is in another network "
			 "namespace now (reused, or the process moved)", (int)n->u.ns.pid);
	else if (ret == -ENOENT && n->u.ns.spec && !strchr(n->u.ns.spec, '/'))
		snprintf(err->msg, sizeof(err->msg), "no network namespace %s in /run/netns", what);
	else if (ret == -ENOENT && n->u.ns.spec)
		snprintf(err->msg, sizeof(err->msg), "no such file %s", what);
	else if (ret == -ENOENT)
		snprintf(err->msg, sizeof(err->msg), "no network namespace with %s on this host",
			 what);
	else if (ret == -EINVAL)
		snprintf(err->msg, sizeof(err->msg), "%s is not a network namespace", what);
	else
		snprintf(err->msg, sizeof(err->msg), "cannot open the network namespace %s: %s",
			 what, strerror(-ret));
	err->pos = n->pos;
	err->len = n->len;
	return ret;
}

struct netns_resolving {
	const struct netns_roots *roots;
	bool strict;
	bool lenient;	/* selector_netns_refresh: every atom that fails is left unresolved */
	size_t unresolved;
	struct netns_list all;	/* discovered once, for inode atoms */
	bool discovered;
	struct sel_error *err;
};

/* A lenient resolution notes the first reason in err and goes on; a strict one stops. */
static int left_unresolved(struct netns_resolving *c, const struct sel_node *n, int ret)
{
	if (!c->lenient || ret == -ENOMEM)
		return netns_fail(c->err, n, ret);
	if (!c->unresolved++)
		netns_fail(c->err, n, ret);
	return 0;
}

static int resolve_ns(struct sel_node *n, struct netns_resolving *c)
{
	char path[PATH_MAX];
	uint64_t inode;
	int ret;

	if (!n)
		return 0;
	if (n->kind != SEL_NETNS) {
		ret = resolve_ns(n->l, c);
		return ret ? ret : resolve_ns(n->r, c);
	}
	if (n->u.ns.path)
		return 0;
	if (!n->u.ns.spec && !n->u.ns.pid) {
		const struct netns_info *e;

		if (!c->discovered && netns_discover(c->roots, &c->all) < 0)
			return -ENOMEM;
		c->discovered = true;
		e = netns_list_find(&c->all, n->u.ns.inode);
		if (!e)
			return left_unresolved(c, n, -ENOENT);
		return (n->u.ns.path = strdup(e->path)) ? 0 : -ENOMEM;
	}
	ret = netns_resolve(c->roots, n->u.ns.spec, n->u.ns.pid != 0, &inode, path, sizeof(path));
	if (ret < 0) {
		/* A --netns flag that is missing is skipped with a line by the run, as before. */
		if (n->u.ns.from_flag && !c->strict && ret != -ENOMEM)
			return 0;
		return left_unresolved(c, n, ret);
	}
	/*
	 * A watcher's pid atom keeps the namespace it first named: the pid of a process that
	 * exited may name an unrelated one later.
	 */
	if (c->lenient && n->u.ns.pid && n->u.ns.inode && n->u.ns.inode != inode)
		return left_unresolved(c, n, -ESTALE);
	n->u.ns.inode = inode;
	return (n->u.ns.path = strdup(path)) ? 0 : -ENOMEM;
}

int selector_resolve_netns(struct sel_node *n, const struct netns_roots *roots, bool strict,
			   struct sel_error *err)
{
	struct netns_resolving c = { roots, strict, false, 0, { 0 }, false, err };
	int ret;

	memset(err, 0, sizeof(*err));
	ret = resolve_ns(n, &c);
	if (ret == -ENOMEM && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	netns_list_free(&c.all);
	return ret;
}

static void unresolve_ns(struct sel_node *n)
{
	if (!n)
		return;
	if (n->kind == SEL_NETNS) {
		free(n->u.ns.path);
		n->u.ns.path = NULL;
		/* A name is looked up again; a pid keeps the inode it named first (above). */
		if (!n->u.ns.pid && n->u.ns.spec)
			n->u.ns.inode = 0;
		n->u.ns.bound = false;
		n->u.ns.index = -1;
	}
	unresolve_ns(n->l);
	unresolve_ns(n->r);
}

int selector_netns_refresh(struct sel_node *n, const struct netns_roots *roots,
			   struct sel_error *err)
{
	struct netns_resolving c = { roots, false, true, 0, { 0 }, false, err };
	int ret;

	memset(err, 0, sizeof(*err));
	unresolve_ns(n);
	ret = resolve_ns(n, &c);
	if (ret == -ENOMEM && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	netns_list_free(&c.all);
	return ret < 0 ? ret : (int)(c.unresolved > INT_MAX ? INT_MAX : c.unresolved);
}

int selector_dev_prepare(struct sel_node *n, size_t count)
{
	int ret;

	if (!n)
		return 0;
	if (n->kind == SEL_DEV && n->u.dev.name) {
		uint32_t *v = calloc(count ? count : 1, sizeof(*v));

		if (!v)
			return -ENOMEM;
		free(n->u.dev.per_ns);
		n->u.dev.per_ns = v;
		n->u.dev.n = count;
		return 0;
	}
	ret = selector_dev_prepare(n->l, count);
	return ret ? ret : selector_dev_prepare(n->r, count);
}

void selector_dev_bind_here(struct sel_node *n, size_t index)
{
	if (!n)
		return;
	/* if_nametoindex asks through a socket it opens: in this thread's namespace. */
	if (n->kind == SEL_DEV && n->u.dev.per_ns && index < n->u.dev.n)
		n->u.dev.per_ns[index] = if_nametoindex(n->u.dev.name);
	selector_dev_bind_here(n->l, index);
	selector_dev_bind_here(n->r, index);
}

int selector_dev_check_here(const struct sel_node *n, struct sel_error *err)
{
	int ret;

	if (!n)
		return 0;
	if (n->kind == SEL_DEV && n->u.dev.name && !n->u.dev.value) {
		snprintf(err->msg, sizeof(err->msg), "no interface \"%s\" in this network namespace",
			 n->u.dev.name);
		err->pos = n->pos;
		err->len = n->len;
		return -ENODEV;
	}
	ret = selector_dev_check_here(n->l, err);
	return ret ? ret : selector_dev_check_here(n->r, err);
}
