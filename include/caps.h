/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capabilities through libcap-ng: what this process holds, and dropping the rest. */
#ifndef SOCKREAP_CAPS_H
#define SOCKREAP_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the effective set holds cap (CAP_NET_ADMIN, ...). */
bool caps_have(int cap);
/* Keeps only caps[0..n) in the effective and permitted sets (and bounding set where allowed). */
int caps_keep_only(const int *caps, size_t n);
/*
 * Lowers (on false) or raises again (on true) caps[0..n) in the effective set only: what is
 * permitted stays, so a lowered capability can come back. Raising one not permitted is a no-op.
 */
int caps_effective(const int *caps, size_t n, bool on);

#endif
