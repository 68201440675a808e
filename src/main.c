// SPDX-License-Identifier: GPL-2.0-or-later
/* Entry point: parse, then dispatch. */
#include "cli.h"
#include "doctor.h"
#include "output.h"
#include "reap.h"
#include "watch.h"

#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifndef SOCKREAP_VERSION
#define SOCKREAP_VERSION "unknown"
#endif

/* With raised file capabilities (AT_SECURE) the environment is the caller's: not trusted. */
static const char *env(const char *name)
{
	return secure_getenv(name);
}

int main(int argc, char **argv)
{
	struct config cfg;
	int status;

	if (argc > 1 && !strcmp(argv[1], "watch"))
		return watch_main(argc, argv, env);
	status = cli_parse(&cfg, argc, argv, env, stderr);

	if (!status && cfg.action == CLI_RUN)
		status = cli_check_caller(&cfg, getauxval(AT_SECURE) != 0, (unsigned)getuid(),
					  getenv("SOCKREAP_AUDIT_LOG") != NULL, stderr);
	if (status) {
		cli_free(&cfg);
		return status;
	}
	switch (cfg.action) {
	case CLI_HELP:
		cli_usage(stdout);
		break;
	case CLI_VERSION:
		printf("sockreap %s\n", SOCKREAP_VERSION);
		break;
	case CLI_DOCTOR:
		status = cfg.nnetns || cfg.all_netns ? doctor_run_netns(stdout, &cfg)
						     : doctor_run(stdout, cfg.json);
		break;
	case CLI_RUN:
		if (cfg.explain)
			status = reap_explain(stdout, &cfg);
		else
			status = reap_run(&cfg);
		break;
	}
	cli_free(&cfg);
	return status;
}
