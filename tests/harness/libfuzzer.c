// SPDX-License-Identifier: GPL-2.0
/*
 * libfuzzer.c - libFuzzer entry: input bytes are an operation sequence
 *
 * Bytes 0..7 choose the arena (size, start, buddy-only or mixed), every
 * following 8 bytes are one fz_step() operation against the model with both
 * checkers after each.  Any disagreement aborts, so libFuzzer keeps the input.
 */
#define pr_fmt(fmt) "libfuzzer: " fmt
#include "co_internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static u64 take(const uint8_t **p, size_t *left)
{
	u64 v = 0;
	size_t n = *left < 8 ? *left : 8;

	memcpy(&v, *p, n);
	*p += n;
	*left -= n;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f;

	if (size < 8)
		return 0;
	f = fz_new(take(&data, &size));
	if (!f)
		return 0;
	while (size)
		if (fz_step(f, take(&data, &size)))
			abort();
	if (fz_end(f))
		abort();
	return 0;
}
