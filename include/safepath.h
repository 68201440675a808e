/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening a file to append to without trusting its path (the audit log). */
#ifndef SOCKREAP_SAFEPATH_H
#define SOCKREAP_SAFEPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Opens the absolute path for appending (O_RDWR | O_APPEND, close-on-exec), creating the file with
 * mode 0600 and, if it is missing, its last directory with 0700. Walks from "/" one component
 * at a time without following symbolic links; every directory must be owned by root or uid and
 * not writable by group or others, unless it is root's with the sticky bit (as /tmp); the file
 * must be a regular file with one link, owned by root or uid, not writable by group or others
 * (ssh's StrictModes). A FIFO or a device is refused without blocking or writing to it. When
 * the file is created, its directory is fsynced and *created set. Nothing is created unless the
 * effective uid is root or uid (what it created would not be trusted).
 * Returns the descriptor, or a negative errno with why set to "PATH: the reason".
 */
int safepath_open_append(const char *path, uid_t uid, bool *created, char *why, size_t whylen);

#endif
