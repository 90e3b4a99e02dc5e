/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny JSON reader for tests: json_parse() checks a document and records
 * every scalar under its dotted path ("nodes.0.free_bytes"); an array also
 * gets "PATH.#" = its length, an empty object "{}".  Strings keep at most
 * 127 bytes, \u escapes read as '?'.  One document at a time (static
 * storage); enough for carveoutctl's --json output.
 */
#ifndef CO_JSON_H
#define CO_JSON_H

/* Parses @text; 0 if it is one valid JSON value, -1 otherwise. */
int json_parse(const char *text);
/* Where parsing stopped (for a diagnostic after a failure). */
const char *json_stop(void);
/* Scalars recorded by the last json_parse(). */
int json_count(void);
/* The text of the scalar at a printf-formatted path, or NULL. */
__attribute__((format(printf, 1, 2)))
const char *json_get(const char *fmt, ...);
/* A number at a path as unsigned long long; ~0ULL when missing. */
__attribute__((format(printf, 1, 2)))
unsigned long long json_num(const char *fmt, ...);

#endif /* CO_JSON_H */
