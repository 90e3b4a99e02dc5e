/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_fuzz's state model, shared by its files: what the fuzzer believes
 * exists (files, buffers and their handles, CPU mappings, dma-bufs, DMA
 * mappings, page pins), the PRNG every choice comes from, the judging of
 * results against the documented errno sets, and one entry point per
 * operation.
 *
 * Owners.  Device files 0-3 are opened and used by this process (root in
 * the test VM); file 4 is opened by a helper process running as another
 * uid (FUZZ_UID) and passed back with SCM_RIGHTS, so it is charged to that
 * uid while this process uses it; file 5 is opened and used by the helper:
 * its ioctls, mappings, dma-bufs and pins live in the helper's process and
 * go through a command socket (owner.c).  Every op goes through the same
 * model whoever runs it; "who" says which process holds an fd or address.
 *
 * Buffer lifetime.  A buffer lives while its handle, a CPU mapping (ours,
 * the helper's or a long-lived fork child's), or a dma-buf does.  When the
 * last of those goes while a pipe or an io_uring registration still holds
 * one of its pages, the module holds it back (counted, charged); once the
 * pin goes it returns from a delayed work, so the model keeps it as
 * "draining": STATS, INFO and SLABINFO may count it or not, until STATS
 * shows it gone.
 *
 *   model.c      PRNG, model state and queries, judging, buffer lifetime,
 *                file lifecycle, STATS against the model
 *   pattern.c    buffer contents: owner-tagged patterns and zeros, the
 *                cross-owner byte checker and its self-test
 *   args.c       argument placement (size-field variants, faulting and
 *                read-only arguments) and device names
 *   owner.c      the second uid's helper process and the syscalls routed
 *                to whichever process holds an fd or address
 *   ops_buf.c    ALLOC (and the fresh-buffer check), FREE, MAP, UNMAP,
 *                SYNC, EXPORT
 *   ops_query.c  INFO (with the per-file and per-uid charges), STATS,
 *                FREEMAP, SLABINFO, unknown commands
 *   ops_mem.c    mmap, munmap, mremap, dma-buf mappings and syncs
 *   ops_pin.c    vmsplice and io_uring fixed-buffer pins, letting go while
 *                pinned, reading the pinned bytes back
 *   ops_proc.c   close/reopen and fork (short-lived children, and one
 *                long-lived child holding mappings and pins across ops)
 *   ../test_fuzz.c  the run: options, the op mix, the final checks
 */
#ifndef CO_FUZZ_H
#define CO_FUZZ_H

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/dma-buf.h>

#include "co_test.h"
#include "tap.h"

/*
 * Default op count: about 65 s in the TCG test VM with the debug kernel
 * (~175 ops/s with STATS checked after every op, pins, the helper's round
 * trips and the zero check of every new buffer; ~600 ops/s on the stock
 * kernels).  See the "ops/s" diagnostic line of a run to resize it.
 */
#define DEF_OPS		11000
#define DEF_MAX_SECS	400

#define PG		4096UL
#define MAXF		6	/* device files open at once */
#define SLOT_PASSED	4	/* opened by FUZZ_UID, used here */
#define SLOT_B		5	/* opened and used by FUZZ_UID's helper */
#define FUZZ_UID	65534	/* the second owner's uid and gid */
#define MAXH		40	/* live handles per file */
#define MAXB		320	/* buffers alive (handles, mappings, dma-bufs) */
#define MAXV		96	/* CPU mappings */
#define MAXD		20	/* dma-buf fds */
#define MAXM		3	/* DMA mappings per buffer */
#define MAXN		16	/* nodes */
#define MAXP		8	/* pins (pipes, io_uring registrations) */
#define PIN_PAGES	16	/* at most this many pages per pin (a pipe's) */
#define MAXDR		256	/* draining buffers remembered */
#define MAXCV		8	/* mappings a long-lived child keeps */
#define MAXCP		4	/* pins a long-lived child takes */
#define HANDLE_MAX	((1U << 23) - 1)	/* CO_HANDLE_MAX */

/* Which process holds an fd or an address. */
enum { W_SELF, W_B };

/* -------------------------------------------------------------------- */
/* Model                                                                 */

struct mbuf {
	int used;
	int file;		/* slot of the owning file */
	uint32_t gen;		/* ... and its generation */
	uint32_t handle;	/* 0 once the handle is gone */
	uint64_t length, granted, mmap_offset;
	uint32_t flags, page_offset, node;
	uint32_t serial;	/* pattern tag: unique per buffer */
	int patterned;		/* holds its pattern (-1: corrupt, reported) */
	int views, dmabufs;
	int cviews;		/* mappings a long-lived child holds */
	int pins;		/* pipes / registrations holding a page */
	int held;		/* every reference gone while pinned */
	int linger;		/* a pin went without waiting: may hold it */
	int nmaps;
	uint64_t map_addr[MAXM];
	uint32_t map_dir[MAXM];
};

struct mfile {
	int fd;			/* -1: slot closed */
	int who;		/* the process the fd is in */
	uint32_t uid;		/* the opener's uid: who is charged */
	uint32_t gen;		/* bumps on every open */
	uint32_t freed[8];	/* recently freed handles */
};

struct mview {
	int used;
	int who;
	char *addr;		/* in who's address space */
	size_t len;		/* bytes, whole pages */
	int buf;
	size_t pgoff;		/* first page of the buffer's span mapped */
	int writable;
	uint32_t dev_gen;	/* through /dev/carveout: the file's generation */
};

struct mdbuf {
	int used;
	int who;
	int fd;
	int buf;
	int acc;		/* O_RDONLY, O_WRONLY or O_RDWR */
};

/* A pin: bytes [off, off + len) of a buffer (from its first byte). */
struct mpin {
	int used;
	int who;
	int kind;		/* PIN_PIPE or PIN_URING */
	int lid;		/* the pin's id in who's process */
	int buf;
	uint64_t off, len;
};
enum { PIN_PIPE, PIN_URING };

/* A buffer the module may still be returning (see the top). */
struct mdrain {
	uint32_t node, gen, uid;
	uint64_t length, granted;
	int slab;
};

/* What a walk over a buffer's bytes found (pattern.c). */
#define WALK_SAMPLES	6
struct walk_res {
	uint64_t words;		/* words compared */
	uint64_t bad;		/* the buffer's own bytes not as expected */
	uint64_t zeros;		/* ... of which zero where a pattern belongs */
	uint64_t alien;		/* pattern words of another generation */
	uint32_t nalien, nbad;
	uint64_t alien_w[WALK_SAMPLES];
	uint64_t bad_w[WALK_SAMPLES];
	int64_t bad_off[WALK_SAMPLES];
};

enum { K_INFO, K_ALLOC, K_FREE, K_MAP, K_UNMAP, K_SYNC, K_EXPORT, K_STATS,
       K_BADCMD, K_MMAP, K_MUNMAP, K_MREMAP, K_DMABUF, K_REOPEN, K_FORK,
       K_FREEMAP, K_SLABINFO, K_FRESH, K_PIN, K_UNPIN, K_NR };


/* Argument placement: size-field variants, faulting and read-only args. */
enum { PL_NORMAL, PL_EDGE, PL_CROSS, PL_RO, PL_NULL };

struct argvar {
	uint32_t usize;
	uint32_t min;		/* the command's CARVEOUT_<CMD>_MIN_SIZE */
	int garbage;		/* a non-zero byte past the kernel's struct */
	uint32_t gpos;		/* ... at this offset */
	uint8_t gval;		/* ... of this value */
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
extern struct mpin pins[MAXP];
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
extern unsigned long n_foreign, n_xchecks, n_xwords, n_xchecks_b;
extern unsigned long n_acct, n_drained;
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
int pick_local_file(void);
uint32_t pick_handle(int f);
int caller_root(int f);
int local_fd(void);
void stats_check(const char *when);
int drain_settle(double secs);
int nr_draining(void);
void charge_bounds(uint32_t gen, uint32_t uid, uint64_t fb[2], uint64_t ub[2],
		   int *slab_elsewhere);
int gen_open(uint32_t gen);
uint64_t slab_drain_slack(uint32_t gen, uint32_t uid);
void slab_bounds(uint32_t gen, uint32_t node, uint32_t size, uint64_t o[2]);
int node_index(int64_t node);
void reap_pinned(void);
void close_file(int f);
void open_slot(int f);
uint32_t new_serial(uint32_t gen);
uint32_t serial_gen(uint32_t serial);
uint32_t new_gen(int slot, uint32_t uid);
int gen_slot(uint32_t gen);
uint32_t gen_uid(uint32_t gen);
void child_views_add(const struct mview *v);
void child_views_clear(void);

/* pattern.c */
uint64_t pat_word(uint32_t gen, uint32_t serial, uint64_t idx);
int page_sampled(const struct mbuf *b, size_t pg);
void walk_words(volatile uint64_t *w, size_t n, const struct mbuf *b,
		int64_t off, int write, struct walk_res *r);
void view_walk(const struct mview *v, const struct mbuf *b, int write,
	       struct walk_res *r);
int judge_bytes(const struct mbuf *b, const struct walk_res *r,
		const char *where);
int view_verify(int vi);
void view_stamp(const struct mview *v, struct mbuf *b);
int checker_selftest(void);
void plant_foreign(void);

/* args.c */
void pick_argvar(struct argvar *v, size_t ksize, size_t min);
int argvar_err(const struct argvar *v, size_t ksize);
int local_call(int fd, unsigned long cmd, void *st, size_t ksize,
	       const struct argvar *v);
int call(int f, unsigned long cmd, void *st, size_t ksize,
	 const struct argvar *v);
int call_out(int f, unsigned long cmd, void *st, size_t ksize,
	     const struct argvar *v, void *out, size_t outlen);
int pick_devname(char *name);
int devname_err(int k, int *lookup);

/* owner.c */
extern uint32_t b_uid;
int owner_start(uint32_t uid);
int owner_stop(void);
uint32_t owner_uid(void);
int owner_alive(void);
extern unsigned long n_rpc;
int x_open(int who, int pass);
void x_close(int who, int fd);
int x_call(int fd, unsigned long cmd, void *st, size_t ksize,
	   const struct argvar *v, void *out, size_t outlen);
int x_ioctl(int who, int fd, unsigned long cmd, void *arg, size_t len);
int x_fcntl(int who, int fd, int cmd);
char *x_mmap(int who, size_t len, int prot, int flags, int fd, uint64_t off,
	     int *err);
int x_munmap(int who, void *addr, size_t len);
char *x_mremap(int who, void *old, size_t oldlen, size_t newlen, int flags,
	       void *dst, int *err);
void x_walk(const struct mview *v, const struct mbuf *b, int write,
	    struct walk_res *r);
int x_pin_take(int who, int kind, char *addr, size_t len, size_t *got);
long x_pin_read(int who, int lid, void *dst, size_t len);
long x_pin_fill(int who, int lid, const void *src, size_t len);
void x_pin_drop(int who, int lid, int quick);

/* ops_buf.c */
void op_alloc(int f);
void free_handle_model(int f, int b);
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
void view_close(int vi);
void fresh_check(int b);
void op_mmap(int f, int d);
void op_munmap(void);
void op_mremap(void);
void op_dmabuf(void);

/* ops_pin.c */
extern unsigned long n_pin_splice, n_pin_uring, n_pin_unsupp, n_pin_refused;
extern unsigned long n_pin_letgo, n_pin_fill, n_pin_read, n_pin_bytes;
extern unsigned long n_pin_quick;
extern const char *uring_why;
int lpin_take(int kind, char *addr, size_t len, size_t *got);
long lpin_read(int lid, void *dst, size_t len);
long lpin_fill(int lid, const void *src, size_t len);
void lpin_drop(int lid, int quick);
void lpin_forget_all(void);
int pin_range(const struct mview *v, const struct mbuf *b, size_t maxpg,
	      uint64_t *off, uint64_t *len);
void op_pin(void);
enum { PR_FILL = 1, PR_QUICK = 2 };
void pin_release(int i, int how);

/* ops_proc.c */
void op_reopen(void);
void op_fork(void);
void child_finish(void);
int child_due(void);
extern unsigned long n_child_long, n_child_pins, n_child_views;

#endif /* CO_FUZZ_H */
