/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Untrusted text (process names, paths, cgroup names) made safe to print or to encode. */
#ifndef SOCKREAP_TEXT_H
#define SOCKREAP_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length of the well-formed UTF-8 character at s (at most len bytes) and its code point
 * in *cp, or 0 when s does not start one (stray continuation byte, overlong form, surrogate,
 * beyond U+10FFFF, cut short).
 */
size_t text_utf8_char(const char *s, size_t len, uint32_t *cp);

/*
 * s (len bytes) as terminal-safe text in buf, NUL-terminated: printable ASCII and printable
 * UTF-8 pass, a backslash becomes \\, and every other byte (C0 controls, DEL, C1 controls,
 * bidirectional and line-separator controls, bytes of malformed UTF-8) becomes \xNN.
 * Returns the length the whole text needs, as snprintf; what does not fit is cut between
 * characters, never inside one or inside an escape.
 */
size_t text_escape(char *buf, size_t size, const char *s, size_t len);

/* Terminal columns text_escape's output for s takes (one per character). */
size_t text_columns(const char *s, size_t len);

#endif
