/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h - random-operation driver for the allocator core
 *
 * One struct fz holds an arena, two private slab sets and a reference model.
 * fz_step() decodes one 64-bit word into an operation, runs it, checks the
 * result against the model and runs both checkers.  The TAP runner feeds it
 * a PRNG stream, the libFuzzer target feeds it the input bytes.
 */
#ifndef _CARVEOUT_FUZZ_H
#define _CARVEOUT_FUZZ_H

#include "../../module/co_slab.h"

struct fz;

/* Build an arena from a seed word; mixed = slab sets on it too. */
struct fz *fz_new(u64 param);
/* Run one operation; returns 0 or -1 after printing what went wrong. */
int fz_step(struct fz *f, u64 r);
/* Free everything, verify a pristine arena, destroy; 0 or -1. */
int fz_end(struct fz *f);
/* Counts of what the operations did so far, for logs. */
void fz_summary(char *buf, size_t len);
/* Human-readable geometry for logs. */
void fz_describe(struct fz *f, char *buf, size_t len);

#endif /* _CARVEOUT_FUZZ_H */
