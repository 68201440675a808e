/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Open-addressing map from a non-zero 64-bit key to a 32-bit value; sized once, no per-entry allocation. */
#ifndef SOCKREAP_HASHMAP_H
#define SOCKREAP_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap {
	uint64_t *keys;	/* 0 = empty slot */
	uint32_t *vals;
	size_t mask;
	size_t n;
};

/* Room for at least `expected` keys at a load factor of at most 1/2. */
int hashmap_init(struct hashmap *m, size_t expected);
void hashmap_free(struct hashmap *m);
/* Inserts or overwrites; -ENOSPC when full (never with the sizing above), -EINVAL for key 0. */
int hashmap_put(struct hashmap *m, uint64_t key, uint32_t val);
/* Returns true and fills *val when present. */
bool hashmap_get(const struct hashmap *m, uint64_t key, uint32_t *val);

#endif
