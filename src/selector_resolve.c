// SPDX-License-Identifier: GPL-2.0-or-later
/* Binds names in the AST to this system: cgroup paths and systemd units to cgroup ids. */
#include "cgroup.h"
#include "selector.h"

#include <errno.h>
#include <limits.h>
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
