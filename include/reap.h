/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pipeline from a parsed command line to outcomes and an exit status. */
#ifndef SOCKREAP_REAP_H
#define SOCKREAP_REAP_H

#include "cli.h"

#include <stdio.h>

/* Returns the process exit status (enum exit_status). */
int reap_run(const struct config *cfg);

/*
 * --explain: the canonical selector, what runs in the kernel, and with --netns, --netns-of or
 * --all-netns the namespaces a run would visit. Returns the exit status.
 */
int reap_explain(FILE *f, const struct config *cfg);

#endif
