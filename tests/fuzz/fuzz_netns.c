// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for what netns.c reads from /proc: a /proc/self/mountinfo line and the
 * text of a /proc/PID/ns/net link. A line that parses names a network namespace (inode > 0)
 * and a mount point that fits its buffer and holds no more bytes than the line; a mount point
 * that does not fit is refused, never cut short.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the input, NUL-terminated, so that any read past it is caught. */
	char *line = malloc(size + 1), mnt[PATH_MAX], small[8];
	uint64_t ino = 0, ino2 = 0;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	int r = netns_parse_mountinfo(line, &ino, mnt, sizeof(mnt));

	if (r < -ENAMETOOLONG || r > 1)
		abort();
	if (r == 1 && (!ino || strlen(mnt) > strlen(line)))
		abort();
	int rs = netns_parse_mountinfo(line, &ino2, small, sizeof(small));

	/* The small buffer changes only whether the mount point fits. */
	if (r == 1 && !(rs == 1 ? ino2 == ino && !strcmp(small, mnt) : rs == -ENAMETOOLONG))
		abort();
	if (netns_parse_link(line, &ino) == 0 && (!ino || strncmp(line, "net:[", 5)))
		abort();
	free(line);
	return 0;
}
