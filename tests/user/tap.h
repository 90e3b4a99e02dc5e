/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP output for carveout's userspace tests, in the form the kernel
 * selftests use: "ok N - what", "not ok N - what", "ok N - what # SKIP why",
 * then "1..N" and a "# Totals:" line.  Exit status is non-zero on failure.
 */
#ifndef CO_TAP_H
#define CO_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int tap_n, tap_pass, tap_fail, tap_skipped;

static inline void tap_plan_begin(const char *name)
{
	printf("TAP version 13\n# %s\n", name);
	fflush(stdout);
}

static inline int tap_vresult(int ok, const char *fmt, va_list ap)
{
	tap_n++;
	printf("%sok %u - ", ok ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		tap_pass++;
	else
		tap_fail++;
	return ok;
}

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = tap_vresult(ok, fmt, ap);
	va_end(ap);
	return ret;
}

__attribute__((format(printf, 2, 3)))
static inline void tap_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	tap_skipped++;
	printf("ok %u - ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * Checks that a call failed with @err: @ret is its return (evaluated once),
 * errno its error.
 */
#define tap_errno(ret, err, what) ({ \
	long __r = (ret); \
	int __e = errno; \
	tap_ok(__r == -1 && __e == (err), "%s: %s (got %ld, %s)", what, \
	       strerror(err), __r, __r == -1 ? strerror(__e) : "ok"); })

static inline int tap_finish(void)
{
	printf("1..%u\n", tap_n);
	printf("# Totals: pass:%u fail:%u skip:%u\n", tap_pass, tap_fail,
	       tap_skipped);
	fflush(stdout);
	return tap_fail ? 1 : 0;
}

/* Aborts the test program: the rest cannot run meaningfully. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	tap_fail++;
	tap_finish();
	exit(1);
}

#endif /* CO_TAP_H */
