/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two owners for the isolation tests, and what they can see of held memory.
 *
 * The test runs as root.  Owner A is unprivileged (uid and gid CO_TESTER):
 * the test switches its real and effective ids to open A's file and to
 * call A's ioctls, keeping root as the saved id so it can come back (the
 * device charges a file to its opener's real uid).  B is root with a file
 * of its own.  Memory a freed buffer still holds shows as missing from
 * STATS free_bytes, as charged to A's user (INFO user_bytes) and, once the
 * buffer itself is gone and only outside references keep its pages, as
 * held_kB in debugfs.  co_fill_node() takes everything a node has left, as
 * the next owner would, so a test can check it got none of A's pages.
 */
#ifndef CO_OWNER_H
#define CO_OWNER_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "co_test.h"

#define CO_PG		4096UL
#define CO_TESTER	1000	/* uid and gid of the unprivileged owner */
#define CO_SUMMARY	"/sys/kernel/debug/carveout/summary"
#define CO_FILL_MAX	8192

/* Switches real and effective ids to @uid (0: back to root). */
static inline int co_become(uid_t uid)
{
	if (!uid)
		return setresuid(0, 0, 0) || setresgid(0, 0, 0) ? -1 : 0;
	return setresgid(uid, uid, 0) || setresuid(uid, uid, 0) ? -1 : 0;
}

/* Opens /dev/carveout with @flags as @uid. */
static inline int co_open_as(uid_t uid, int flags)
{
	int fd, err;

	if (co_become(uid))
		return -1;
	fd = open(CO_DEV, flags | O_CLOEXEC);
	err = errno;
	co_become(0);
	errno = err;
	return fd;
}

/* Gives /dev/carveout to group CO_TESTER, mode 0660. */
static inline void co_share_device(void)
{
	if (chown(CO_DEV, 0, CO_TESTER) || chmod(CO_DEV, 0660))
		tap_bail("cannot give %s to group %d: %s", CO_DEV, CO_TESTER,
			 strerror(errno));
}

static inline uint64_t co_free_bytes(int fd, uint32_t node)
{
	struct carveout_stats s;

	return co_stats(fd, node, &s) ? 0 : s.free_bytes;
}

/* Bytes charged to @uid now, asked by a file of that user (INFO). */
static inline uint64_t co_user_bytes(uid_t uid)
{
	struct carveout_info info;
	int fd = co_open_as(uid, O_RDWR);
	uint64_t v = 0;

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (co_become(uid) == 0 && ioctl(fd, CARVEOUT_IOC_INFO, &info) == 0)
		v = info.user_bytes;
	co_become(0);
	close(fd);
	return v;
}

/* "held_kB: N" in debugfs' summary, or -1 when it is not there. */
static inline long co_held_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(CO_SUMMARY, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "held_kB:", 8))
			v = strtol(line + 8, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static inline double co_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to @secs for @node's free bytes to reach @want; returns them. */
static inline uint64_t co_wait_free(int fd, uint32_t node, uint64_t want,
				    double secs, double *took)
{
	double t0 = co_now();
	uint64_t f;

	while ((f = co_free_bytes(fd, node)) < want && co_now() - t0 < secs)
		usleep(50 * 1000);
	*took = co_now() - t0;
	return f;
}

/* Maps a buffer's whole page span; returns the start of its first page. */
static inline unsigned char *co_map_span(int fd, const struct carveout_alloc *a,
					 size_t *len)
{
	void *p;

	*len = (a->page_offset + a->granted + CO_PG - 1) & ~(CO_PG - 1);
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 a->mmap_offset);
	return p == MAP_FAILED ? NULL : p;
}

/* Physical address of a mapped page (root reads it from pagemap). */
static inline uint64_t co_phys_of(const void *p)
{
	return co_virt_to_pfn(p) * CO_PG;
}

static inline int co_all_bytes(const unsigned char *p, size_t len, int v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static inline size_t co_count_byte(const unsigned char *p, size_t len, int v)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] == v;
	return n;
}

/* Everything one owner took of a node, mapped. */
struct co_fill {
	int fd;
	unsigned int n;
	struct carveout_alloc a[CO_FILL_MAX];
	unsigned char *p[CO_FILL_MAX];
	size_t len[CO_FILL_MAX];
	unsigned int not_zero;	/* buffers that were not zero when mapped */
	unsigned int unmapped;	/* buffers that could not be mapped */
};

/*
 * Allocates @node until it is full (halving the size on ENOMEM down to a
 * page), maps every buffer, checks it is zero and writes @pat over it.
 */
static inline void co_fill_node(struct co_fill *fl, int fd, uint32_t node,
				int pat)
{
	uint64_t len = 8UL << 20;
	struct carveout_alloc *a;

	memset(fl, 0, sizeof(*fl));
	fl->fd = fd;
	while (fl->n < CO_FILL_MAX) {
		a = &fl->a[fl->n];
		if (co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node,
			     CARVEOUT_ALLOC_PAGES, a)) {
			if (errno != ENOMEM || len == CO_PG)
				break;
			len /= 2;
			continue;
		}
		fl->p[fl->n] = co_map_span(fd, a, &fl->len[fl->n]);
		if (!fl->p[fl->n]) {
			fl->unmapped++;
		} else {
			if (!co_all_bytes(fl->p[fl->n], fl->len[fl->n], 0))
				fl->not_zero++;
			memset(fl->p[fl->n], pat, fl->len[fl->n]);
		}
		fl->n++;
	}
}

/* Unmaps and FREEs everything of @fl (the file stays open). */
static inline void co_fill_release(struct co_fill *fl)
{
	unsigned int i;

	for (i = 0; i < fl->n; i++) {
		if (fl->p[i])
			munmap(fl->p[i], fl->len[i]);
		co_free(fl->fd, fl->a[i].handle);
	}
	fl->n = 0;
}

/* Buffers of @fl that overlap [phys, phys + len). */
static inline unsigned int co_fill_overlaps(const struct co_fill *fl,
					    uint64_t phys, uint64_t len)
{
	unsigned int i, n = 0;

	for (i = 0; i < fl->n; i++)
		n += fl->a[i].phys_addr < phys + len &&
		     phys < fl->a[i].phys_addr + fl->a[i].granted;
	return n;
}

/* Buffers of @fl that no longer hold only @pat; bytes equal to @other. */
static inline unsigned int co_fill_changed(const struct co_fill *fl, int pat,
					   int other, size_t *other_bytes)
{
	unsigned int i, n = 0;

	*other_bytes = 0;
	for (i = 0; i < fl->n; i++) {
		if (!fl->p[i])
			continue;
		if (!co_all_bytes(fl->p[i], fl->len[i], pat))
			n++;
		*other_bytes += co_count_byte(fl->p[i], fl->len[i], other);
	}
	return n;
}

static inline unsigned long co_read_param(const char *name)
{
	char path[128];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/carveout/parameters/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

#endif /* CO_OWNER_H */
