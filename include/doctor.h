/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockreap doctor: which engines work on this machine, and why. */
#ifndef SOCKREAP_DOCTOR_H
#define SOCKREAP_DOCTOR_H

#include <stdbool.h>
#include <stdio.h>

/* Tries each engine on a throwaway loopback connection; returns 0 if one works, else 4. */
int doctor_run(FILE *f, bool json);

struct config;
/*
 * The same checks inside each network namespace cfg names (--netns, --netns-of) or, with
 * --all-netns, every one: a section each, and a line for one that cannot be entered. Returns
 * 0 when an engine works in each of them, 4 when not (or one could not be looked at), 6 on
 * an error of its own.
 */
int doctor_run_netns(FILE *f, const struct config *cfg);

#endif
