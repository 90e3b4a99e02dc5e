/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_fuzz's state model, shared by its files: what the fuzzer believes
 * exists (files, buffers and their handles, CPU mappings, dma-bufs, DMA
 * mappings), the PRNG every choice comes from, the judging of results
 * against the documented errno sets, and one entry point per operation.
 *
 *   model.c      PRNG, model state and queries, judging, file lifecycle,
 *                STATS against the model
 *   pattern.c    buffer contents: patterns and zeros through mappings
 *   args.c       argument placement (size-field variants, faulting and
 *                read-only arguments) and device names
 *   ops_buf.c    ALLOC, FREE, MAP, UNMAP, SYNC, EXPORT
 *   ops_query.c  INFO, STATS, FREEMAP, SLABINFO, unknown commands
 *   ops_mem.c    mmap, munmap, mremap, dma-buf mappings and syncs
 *   ops_proc.c   close/reopen and fork
 *   ../test_fuzz.c  the run: options, the op mix, the final checks
 */
#ifndef CO_FUZZ_H
#define CO_FUZZ_H

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/dma-buf.h>

#include "co_test.h"
#include "tap.h"

/*
 * Default op count: about 75 s in the TCG test VM with the debug kernel
 * (~145 ops/s with STATS checked after every op; ~400 ops/s on the stock
 * kernel).  See the "ops/s" diagnostic line of a run to resize it.
 */
#define DEF_OPS		11000
#define DEF_MAX_SECS	400

#define PG		4096UL
#define MAXF		4	/* device files open at once */
#define MAXH		40	/* live handles per file */
#define MAXB		320	/* buffers alive (handles, mappings, dma-bufs) */
#define MAXV		96	/* CPU mappings */
#define MAXD		20	/* dma-buf fds */
#define MAXM		3	/* DMA mappings per buffer */
#define MAXN		16	/* nodes */
#define HANDLE_MAX	((1U << 23) - 1)	/* CO_HANDLE_MAX */

/* -------------------------------------------------------------------- */
/* Model                                                                 */

struct mbuf {
	int used;
	int file;		/* slot of the owning file */
	uint32_t gen;		/* ... and its generation */
	uint32_t handle;	/* 0 once the handle is gone */
	uint64_t length, granted, mmap_offset;
	uint32_t flags, page_offset, node;
	uint64_t seed;		/* pattern seed, from (file, handle) */
	int patterned;		/* written through a full mapping */
	int views, dmabufs;
	int nmaps;
	uint64_t map_addr[MAXM];
	uint32_t map_dir[MAXM];
};

struct mfile {
	int fd;			/* -1: slot closed */
	uint32_t gen;		/* bumps on every open */
	uint32_t freed[8];	/* recently freed handles */
};

struct mview {
	int used;
	char *addr;
	size_t len;		/* bytes, whole pages */
	int buf;
	size_t pgoff;		/* first page of the buffer's span mapped */
	int writable;
	uint32_t dev_gen;	/* through /dev/carveout: the file's generation */
};

struct mdbuf {
	int used;
	int fd;
	int buf;
	int acc;		/* O_RDONLY, O_WRONLY or O_RDWR */
};

enum { K_INFO, K_ALLOC, K_FREE, K_MAP, K_UNMAP, K_SYNC, K_EXPORT, K_STATS,
       K_BADCMD, K_MMAP, K_MUNMAP, K_MREMAP, K_DMABUF, K_REOPEN, K_FORK,
       K_FREEMAP, K_SLABINFO, K_NR };


/* Argument placement: size-field variants, faulting and read-only args. */
enum { PL_NORMAL, PL_EDGE, PL_CROSS, PL_RO, PL_NULL };

struct argvar {
	uint32_t usize;
	uint32_t min;		/* the command's CARVEOUT_<CMD>_MIN_SIZE */
	int garbage;		/* a non-zero byte past the kernel's struct */
	int place;
};
#define ARENA_RW	(4 * PG)

/* Kinds of device name pick_devname() makes. */
enum { DN_EDU, DN_PCI_EDU, DN_GARBAGE, DN_EMPTY, DN_UNTERM, DN_PLATFORM,
       DN_EDU_TAIL };

/* Documented errnos per command (besides 0). */
static const int ok_info[] = { EINVAL, EFAULT, E2BIG, 0 };
static const int ok_alloc[] = { EINVAL, EFAULT, E2BIG, EFBIG, ENODEV, ENOMEM,
				EDQUOT, ENOSPC, EINTR, 0 };
static const int ok_free[] = { EINVAL, EFAULT, E2BIG, ENOENT, 0 };
static const int ok_map[] = { EINVAL, EFAULT, E2BIG, ENOENT, ENODEV, ERANGE,
			      ENOMEM, EBUSY, 0 };
static const int ok_unmap[] = { EINVAL, EFAULT, E2BIG, ENOENT, ENODEV, 0 };
static const int ok_sync[] = { EINVAL, EFAULT, E2BIG, ENOENT, 0 };
static const int ok_export[] = { EINVAL, EFAULT, E2BIG, ENOENT, ENOMEM,
				 EMFILE, 0 };
static const int ok_stats[] = { EINVAL, EFAULT, E2BIG, ENODEV, ENOMEM, 0 };
static const int ok_badcmd[] = { ENOTTY, 0 };
static const int ok_freemap[] = { EINVAL, EFAULT, E2BIG, ENODEV, 0 };
static const int ok_slabinfo[] = { EINVAL, EFAULT, E2BIG, ENODEV, 0 };
static const int ok_mmap[] = { EINVAL, ENOMEM, EACCES, EOVERFLOW, EPERM,
			       EOPNOTSUPP, 0 };
static const int ok_mremap[] = { EINVAL, EFAULT, ENOMEM, 0 };
static const int ok_dbsync[] = { EINVAL, 0 };

/* Model state (model.c) and the argument arena (args.c). */
extern uint64_t rng;
extern struct mbuf bufs[MAXB];
extern struct mfile files[MAXF];
extern struct mview views[MAXV];
extern struct mdbuf dbufs[MAXD];
extern struct carveout_node_info nodes[MAXN];
extern int nr_nodes;
extern uint64_t total_bytes, largest_piece, region_max;
extern int pieces_known;
extern uint32_t slab_max;
extern int is_root;
extern uint32_t file_gen;
extern unsigned long op_idx, nr_ops;
extern unsigned long n_unexpected, n_mismatch, n_pattern, n_checked;
extern unsigned long n_stats_ok, n_stats_bad, n_child_bad, n_forks;
extern unsigned long n_calls[K_NR], n_succ[K_NR];
extern unsigned long n_ro_tries, n_ro_refused;
extern int in_child;
extern char desc[128];
extern int trace;
extern char *arena;
extern char *ro_page;
extern char *none_page;
extern const char *const kname[K_NR];


/* model.c */
uint64_t mix(uint64_t z);
uint64_t rnd(void);
uint64_t rr(uint64_t n);
int pct(unsigned int p);
__attribute__((format(printf, 1, 2)))
void note(const char *fmt, ...);
void print_history(void);
__attribute__((format(printf, 1, 2)))
void report(const char *fmt, ...);
int in_set(int e, const int *set);
int judge(int k, const char *what, int got, int exp, const int *alt,
		 const int *allowed);
size_t span_pages(const struct mbuf *b);
int is_slab(const struct mbuf *b);
int find_handle(int f, uint32_t h);
int nr_handles(int f);
void buf_check_gone(int b);
int free_slot_buf(void);
int nr_used_bufs(void);
int pick_file(void);
uint32_t pick_handle(int f);

/* pattern.c */
unsigned long view_walk(const struct mview *v, int write);
int view_verify(int vi);

/* args.c */
void pick_argvar(struct argvar *v, size_t ksize, size_t min);
int argvar_err(const struct argvar *v, size_t ksize);
int call(int fd, unsigned long cmd, void *st, size_t ksize,
		const struct argvar *v);
int pick_devname(char *name);
int devname_err(int k, int *lookup);

/* model.c */
void stats_check(const char *when);
int node_index(int64_t node);
void reap_pinned(void);
void close_file(int f);
void open_slot(int f);

/* ops_buf.c */
void op_alloc(int f);
void op_free(int f);
void op_map(int f);
void op_unmap(int f);
void op_sync(int f);
void dbuf_close(int d);
void op_export(int f);

/* ops_query.c */
void op_info(int f);
void op_stats(int f);
void op_badcmd(int f);
void op_freemap(int f);
void op_slabinfo(int f);

/* ops_mem.c */
int free_view_slot(void);
void op_mmap(int f, int d);
void op_munmap(void);
void op_mremap(void);
void op_dmabuf(void);

/* ops_proc.c */
void op_reopen(void);
void op_fork(void);

#endif /* CO_FUZZ_H */
