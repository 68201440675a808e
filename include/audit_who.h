/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who ran us, as an audit record states it: alone, so that a file that has no use for json.h
 * (planfile.c reads with jansson) can name it.
 */
#ifndef SOCKREAP_AUDIT_WHO_H
#define SOCKREAP_AUDIT_WHO_H

/* Who ran us, as the audit record states it. */
struct audit_who {
	unsigned uid, euid;
	long long loginuid, sessionid;	/* -1: unset */
	const char *sudo_user;		/* as claimed by the environment */
	const char *tty;
};

#endif
