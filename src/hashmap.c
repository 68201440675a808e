// SPDX-License-Identifier: GPL-2.0-or-later
/* The one hash map: inodes to socket indices in procmap, cookies in verification. */
#include "hashmap.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t mask)
{
	/* splitmix64 finalizer: inodes and cookies are sequential, so mix before masking. */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & mask;
}

int hashmap_init(struct hashmap *m, size_t expected)
{
	size_t cap = 16;

	while (cap < expected * 2)
		cap <<= 1;
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	m->mask = cap - 1;
	m->n = 0;
	if (!m->keys || !m->vals) {
		hashmap_free(m);
		return -ENOMEM;
	}
	return 0;
}

void hashmap_free(struct hashmap *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->n = 0;
}

int hashmap_put(struct hashmap *m, uint64_t key, uint32_t val)
{
	if (!key)
		return -EINVAL;
	for (size_t i = slot_of(key, m->mask), probes = 0; probes <= m->mask;
	     i = (i + 1) & m->mask, probes++) {
		if (m->keys[i] == key || !m->keys[i]) {
			if (!m->keys[i]) {
				if (m->n + 1 > m->mask)
					return -ENOSPC;
				m->n++;
			}
			m->keys[i] = key;
			m->vals[i] = val;
			return 0;
		}
	}
	return -ENOSPC;
}

bool hashmap_get(const struct hashmap *m, uint64_t key, uint32_t *val)
{
	if (!key || !m->keys)
		return false;
	for (size_t i = slot_of(key, m->mask), probes = 0; probes <= m->mask;
	     i = (i + 1) & m->mask, probes++) {
		if (!m->keys[i])
			return false;
		if (m->keys[i] == key) {
			if (val)
				*val = m->vals[i];
			return true;
		}
	}
	return false;
}
