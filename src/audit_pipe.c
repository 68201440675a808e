// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Audit intents written while the destroy engine acts (issue 11's audited kill): at 100,000
 * sockets the intents are ~33 MB to format, write and fsync (~60 ms on the reference machine)
 * before the first destroy; here only the first AUDIT_PIPE_FIRST are, then the destroys start
 * while a thread writes the rest in doubling chunks, each fsynced before the engine's gate
 * opens past it. The rule stays the one DESIGN.md states: no intent on disk, no act.
 */
#include "audit_pipe.h"

#include <errno.h>

static void write_chunk(struct audit_pipe *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const struct sock_rec *rec = &p->set->v[i];

		audit_intent_ns(p->a, rec, p->owners, p->ns ? &p->ns[rec->netns] : NULL);
	}
}

/* Writes and syncs [from, to); the last chunk is committed (lock released). */
static int put_chunk(struct audit_pipe *p, size_t from, size_t to)
{
	int ret;

	write_chunk(p, from, to);
	ret = to < p->set->n ? audit_sync(p->a) : audit_commit(p->a);
	if (ret == 0)
		p->done = to;
	return ret;
}

static void *write_rest(void *arg)
{
	struct audit_pipe *p = arg;
	size_t chunk = 2 * AUDIT_PIPE_FIRST;

	for (size_t i = p->done; i < p->set->n; i = p->done, chunk *= 2) {
		size_t to = p->set->n - i < chunk ? p->set->n : i + chunk;
		int ret = put_chunk(p, i, to);

		if (ret < 0) {
			p->err = ret;
			/* The batch ends here: its lock goes, what it wrote stays. */
			audit_commit(p->a);
			break;
		}
		engine_gate_open(&p->gate, to);
	}
	engine_gate_close(&p->gate);
	return NULL;
}

int audit_pipe_begin(struct audit_pipe *p, struct audit *a, const struct sock_set *set,
		     const struct sel_owner_ctx *owners, const struct netns_info *ns,
		     bool pipelined)
{
	size_t first = pipelined && set->n > AUDIT_PIPE_FIRST ? AUDIT_PIPE_FIRST : set->n;
	int ret;

	*p = (struct audit_pipe){ .a = a, .set = set, .owners = owners, .ns = ns };
	ret = put_chunk(p, 0, first);
	if (ret < 0) {
		if (first < set->n)
			audit_commit(a);
		return ret;
	}
	if (first == set->n)
		return 0;
	engine_gate_init(&p->gate, first);
	ret = pthread_create(&p->thread, NULL, write_rest, p);
	if (ret == 0) {
		p->started = true;
		return 0;
	}
	/* No thread: the rest before any act, as without a pipeline. */
	engine_gate_destroy(&p->gate);
	ret = put_chunk(p, first, set->n);
	if (ret < 0)
		audit_commit(a);
	return ret;
}

struct engine_gate *audit_pipe_gate(struct audit_pipe *p)
{
	return p->started ? &p->gate : NULL;
}

int audit_pipe_end(struct audit_pipe *p)
{
	if (!p->started)
		return p->err;
	pthread_join(p->thread, NULL);
	engine_gate_destroy(&p->gate);
	p->started = false;
	return p->err;
}
