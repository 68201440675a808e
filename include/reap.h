/* The pipeline from a parsed command line to outcomes and an exit status. */
#ifndef SOCKREAP_REAP_H
#define SOCKREAP_REAP_H

#include "cli.h"

/* Returns the process exit status (enum exit_status). */
int reap_run(const struct config *cfg);

#endif
