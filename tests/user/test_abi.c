// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI's growth rules (uapi/linux/carveout.h), for every command,
 * with synthetic argument structures of chosen sizes in a byte buffer:
 *
 *  - exactly CARVEOUT_<CMD>_MIN_SIZE (an older caller) works, and the bytes
 *    past it in the caller's buffer are neither read nor written;
 *  - the structure this test knows, and longer ones with a zero tail (a
 *    newer caller), work, and the tail stays zero;
 *  - a non-zero byte in the unknown tail gets E2BIG; below the minimum,
 *    EINVAL; a rejected call writes nothing and changes nothing;
 *  - the size field is never modified; unknown command numbers (and the
 *    size-encoded numbers of the 0.1 ABI) get ENOTTY.
 *
 * Every flag bit a command does not define gets EINVAL (EXPORT: O_WRONLY
 * too).  Then the commands of the new ABI: INFO's file_bytes, user_bytes and
 * nr_handles follow what each file and the user hold, and its limit fields
 * say what applies to the caller; a FREEMAP cursor walk with a small
 * batch covers every free page of an idle region exactly once, in address
 * order, and agrees with STATS (free bytes and blocks per order); SLABINFO
 * shows this file's own sub-page objects and nobody else's; FREEMAP's and
 * SLABINFO's own error paths.  RESIZE changing nothing gives the node's
 * floor, size and ceiling back (its effects: test_elastic.c).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "co_test.h"
#include "tap.h"

#define RAW_LEN		1024
#define SENTINEL	0xa5
#define MAX_NODES	16
#define MAX_CLASSES	64

/* What the per-command cases share. */
struct env {
	int fd;
	int has_edu;
	unsigned int node;		/* first node with a region */
	unsigned int nr_pieces;		/* ... and its pieces */
	uint64_t region_bytes;
	struct carveout_info ref;	/* a full INFO at the start */
	/* resources of the current variant */
	uint32_t handle;
	uint64_t dma;
	struct carveout_free_block blocks[16];
	struct carveout_slab_class classes[MAX_CLASSES];
};

static struct env env;

struct cmd_case {
	const char *name;
	unsigned long cmd;
	size_t ksize;			/* sizeof() in this uapi header */
	size_t min;			/* CARVEOUT_<CMD>_MIN_SIZE */
	int needs_edu;
	/* Writes a valid argument into @arg (zeroed); -1: cannot. */
	int (*prep)(void *arg);
	/* Checks a successful result of @usize bytes; 1 if right. */
	int (*check)(const void *arg, size_t usize);
	/* Undoes a success and frees what prep made; 1 if all was as expected. */
	int (*release)(const void *arg, int succeeded);
};

/* ---- resources ---------------------------------------------------------- */

static int alloc_buf(uint32_t policy)
{
	struct carveout_alloc a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.length = 65536;
	a.policy = policy;
	if (policy == CARVEOUT_POLICY_DEVICE)
		strcpy(a.device, CO_EDU_PCI);
	if (ioctl(env.fd, CARVEOUT_IOC_ALLOC, &a))
		return -1;
	env.handle = a.handle;
	return 0;
}

static int alloc_mapped(void)
{
	struct carveout_map m;

	if (alloc_buf(CARVEOUT_POLICY_DEVICE))
		return -1;
	if (co_map(env.fd, env.handle, CO_EDU_PCI, CARVEOUT_DMA_BIDIRECTIONAL, &m)) {
		co_free(env.fd, env.handle);
		return -1;
	}
	env.dma = m.dma_addr;
	return 0;
}

/* Frees the variant's buffer; 1 if it was still there. */
static int free_buf(void)
{
	return co_free(env.fd, env.handle) == 0;
}

static uint64_t file_bytes(int fd)
{
	struct carveout_info in;

	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	return ioctl(fd, CARVEOUT_IOC_INFO, &in) ? ~0ULL : in.file_bytes;
}

/* ---- per command ---------------------------------------------------------- */

static int prep_info(void *arg)
{
	(void)arg;	/* all zero: no node array */
	return 0;
}

static int check_info(const void *arg, size_t usize)
{
	const struct carveout_info *in = arg;
	const struct carveout_info *r = &env.ref;
	int ok = in->caps == r->caps && in->page_size == r->page_size &&
		 in->nr_nodes == r->nr_nodes && in->slab_max == r->slab_max &&
		 in->total_bytes == r->total_bytes &&
		 in->file_limit == r->file_limit && in->user_limit == r->user_limit;

	if (usize >= offsetof(struct carveout_info, user_bytes) + 8)
		ok = ok && in->file_bytes == 0 && in->user_bytes < in->total_bytes;
	/* The limits that apply to the caller: root's file, holding nothing. */
	if (usize >= sizeof(*in))
		ok = ok && in->eff_user_limit == r->eff_user_limit &&
		     in->reserve_bytes == r->reserve_bytes &&
		     in->reserve_bytes && in->reserve_bytes < in->total_bytes &&
		     in->max_handles == r->max_handles && in->max_handles &&
		     in->max_maps == r->max_maps && in->max_maps &&
		     in->nr_handles == 0 && in->nr_maps == 0 &&
		     in->owner_flags == CARVEOUT_OWNER_PRIVILEGED &&
		     !in->reserved;
	return ok;
}

static int release_none(const void *arg, int succeeded)
{
	(void)arg;
	(void)succeeded;
	return 1;
}

static int prep_alloc(void *arg)
{
	struct carveout_alloc *a = arg;

	a->length = 4096;
	a->policy = CARVEOUT_POLICY_LOCAL;
	return 0;
}

static int check_alloc(const void *arg, size_t usize)
{
	const struct carveout_alloc *a = arg;

	(void)usize;
	return a->handle && a->granted == 4096 && file_bytes(env.fd) == 4096;
}

static int release_alloc(const void *arg, int succeeded)
{
	const struct carveout_alloc *a = arg;

	if (!succeeded)		/* nothing may have been allocated */
		return file_bytes(env.fd) == 0;
	return co_free(env.fd, a->handle) == 0;
}

static int prep_free(void *arg)
{
	if (alloc_buf(CARVEOUT_POLICY_LOCAL))
		return -1;
	((struct carveout_handle *)arg)->handle = env.handle;
	return 0;
}

static int check_free(const void *arg, size_t usize)
{
	(void)arg;
	(void)usize;
	return file_bytes(env.fd) == 0;
}

static int release_free(const void *arg, int succeeded)
{
	(void)arg;
	/* After a rejected FREE the buffer must still be there. */
	return succeeded ? co_free(env.fd, env.handle) == -1 && errno == ENOENT :
			   free_buf();
}

static int prep_map(void *arg)
{
	struct carveout_map *m = arg;

	if (alloc_buf(CARVEOUT_POLICY_DEVICE))
		return -1;
	m->handle = env.handle;
	m->direction = CARVEOUT_DMA_BIDIRECTIONAL;
	strcpy(m->device, CO_EDU_PCI);
	return 0;
}

static int check_map(const void *arg, size_t usize)
{
	const struct carveout_map *m = arg;

	(void)usize;
	return m->dma_addr && m->dma_mask && m->dma_addr + 65536 - 1 <= m->dma_mask;
}

static int release_map(const void *arg, int succeeded)
{
	const struct carveout_map *m = arg;
	struct carveout_map again;
	int ok;

	/*
	 * A rejected MAP left no mapping: the buffer still takes a writable
	 * one (a second one would be EBUSY).
	 */
	if (succeeded)
		ok = co_unmap(env.fd, env.handle, CO_EDU_PCI, m->dma_addr) == 0;
	else
		ok = co_map(env.fd, env.handle, CO_EDU_PCI,
			    CARVEOUT_DMA_BIDIRECTIONAL, &again) == 0 &&
		     co_unmap(env.fd, env.handle, CO_EDU_PCI, again.dma_addr) == 0;
	return free_buf() && ok;
}

static int prep_unmap(void *arg)
{
	struct carveout_map *m = arg;

	if (alloc_mapped())
		return -1;
	m->handle = env.handle;
	strcpy(m->device, CO_EDU_PCI);
	m->dma_addr = env.dma;
	return 0;
}

static int check_unmap(const void *arg, size_t usize)
{
	(void)arg;
	(void)usize;
	return co_unmap(env.fd, env.handle, CO_EDU_PCI, env.dma) == -1 &&
	       errno == ENOENT;
}

static int release_unmap(const void *arg, int succeeded)
{
	int ok = 1;

	(void)arg;
	if (!succeeded)		/* the mapping must still be there */
		ok = co_unmap(env.fd, env.handle, CO_EDU_PCI, env.dma) == 0;
	return free_buf() && ok;
}

static int prep_sync(void *arg)
{
	struct carveout_sync *s = arg;

	if (alloc_mapped())
		return -1;
	s->flags = CARVEOUT_SYNC_FOR_CPU;
	s->handle = env.handle;
	s->direction = CARVEOUT_DMA_BIDIRECTIONAL;
	return 0;
}

static int check_true(const void *arg, size_t usize)
{
	(void)arg;
	(void)usize;
	return 1;
}

static int release_buf(const void *arg, int succeeded)
{
	(void)arg;
	(void)succeeded;
	return free_buf();
}

static int prep_export(void *arg)
{
	struct carveout_export *x = arg;

	if (alloc_buf(CARVEOUT_POLICY_LOCAL))
		return -1;
	x->flags = O_RDWR | O_CLOEXEC;
	x->handle = env.handle;
	return 0;
}

static int check_export(const void *arg, size_t usize)
{
	const struct carveout_export *x = arg;
	struct stat st;

	(void)usize;
	return x->fd > 2 && fstat(x->fd, &st) == 0;
}

static int release_export(const void *arg, int succeeded)
{
	const struct carveout_export *x = arg;

	if (succeeded)
		close(x->fd);
	return free_buf();
}

static int prep_stats(void *arg)
{
	((struct carveout_stats *)arg)->node = env.node;
	return 0;
}

static int check_stats(const void *arg, size_t usize)
{
	const struct carveout_stats *s = arg;

	(void)usize;
	return s->region_bytes == env.region_bytes && s->nr_orders > 0 &&
	       s->nr_orders <= 40 && s->free_bytes <= s->region_bytes;
}

/* RESIZE changing nothing: the node's values come back. */
static int prep_resize(void *arg)
{
	((struct carveout_resize *)arg)->node = env.node;
	return 0;
}

static int check_resize(const void *arg, size_t usize)
{
	const struct carveout_resize *r = arg;

	(void)usize;
	return r->region_bytes == env.region_bytes && r->floor &&
	       r->floor <= r->region_bytes && r->region_bytes <= r->ceiling &&
	       r->piece_bytes;
}

static int prep_freemap(void *arg)
{
	struct carveout_freemap *f = arg;

	f->node = env.node;
	f->blocks_ptr = (uintptr_t)env.blocks;
	f->blocks_cap = 16;
	return 0;
}

static int check_freemap(const void *arg, size_t usize)
{
	const struct carveout_freemap *f = arg;

	(void)usize;
	return f->nr_pieces == env.nr_pieces && f->piece_pages > 0 &&
	       f->nr_blocks >= 1 && f->nr_blocks <= 16 && f->next > 0 &&
	       f->next <= f->piece_pages;
}

static int prep_slabinfo(void *arg)
{
	struct carveout_slabinfo *s = arg;

	s->node = env.node;
	s->classes_ptr = (uintptr_t)env.classes;
	s->classes_cap = MAX_CLASSES;
	return 0;
}

static int check_slabinfo(const void *arg, size_t usize)
{
	const struct carveout_slabinfo *s = arg;

	(void)usize;
	return s->nr_classes > 0 && s->nr_classes <= MAX_CLASSES &&
	       env.classes[0].objs_in_use == 0;
}

#define CASE(n, c, st, m, edu, p, k, r) \
	{ n, CARVEOUT_IOC_##c, sizeof(struct st), CARVEOUT_##m##_MIN_SIZE, edu, \
	  p, k, r }

static const struct cmd_case cases[] = {
	CASE("INFO", INFO, carveout_info, INFO, 0, prep_info, check_info, release_none),
	CASE("ALLOC", ALLOC, carveout_alloc, ALLOC, 0, prep_alloc, check_alloc,
	     release_alloc),
	CASE("FREE", FREE, carveout_handle, HANDLE, 0, prep_free, check_free,
	     release_free),
	CASE("MAP", MAP, carveout_map, MAP, 1, prep_map, check_map, release_map),
	CASE("UNMAP", UNMAP, carveout_map, MAP, 1, prep_unmap, check_unmap,
	     release_unmap),
	CASE("SYNC", SYNC, carveout_sync, SYNC, 1, prep_sync, check_true, release_buf),
	CASE("EXPORT", EXPORT, carveout_export, EXPORT, 0, prep_export,
	     check_export, release_export),
	CASE("STATS", STATS, carveout_stats, STATS, 0, prep_stats, check_stats,
	     release_none),
	CASE("FREEMAP", FREEMAP, carveout_freemap, FREEMAP, 0, prep_freemap,
	     check_freemap, release_none),
	CASE("SLABINFO", SLABINFO, carveout_slabinfo, SLABINFO, 0, prep_slabinfo,
	     check_slabinfo, release_none),
	CASE("RESIZE", RESIZE, carveout_resize, RESIZE, 0, prep_resize,
	     check_resize, release_none),
};

/* ---- the size rules, per command ------------------------------------------ */

struct variant {
	const char *what;
	size_t usize;
	long bad_byte;		/* offset of a non-zero byte, or -1 */
	int err;		/* expected errno, 0 for success */
};

static int all_bytes(const unsigned char *p, size_t from, size_t to, int v)
{
	for (; from < to; from++)
		if (p[from] != v)
			return 0;
	return 1;
}

/* One call of @c with the argument @v describes; one TAP line. */
static void run_variant(const struct cmd_case *c, const struct variant *v)
{
	static unsigned char raw[RAW_LEN] __attribute__((aligned(8)));
	static unsigned char before[RAW_LEN];
	size_t kn = v->usize > c->ksize ? v->usize : c->ksize;
	int ret, err, ok;

	memset(raw, 0, kn);
	memset(raw + kn, SENTINEL, RAW_LEN - kn);
	if (c->prep(raw)) {
		tap_ok(0, "%s %s: set up its resources (%s)", c->name, v->what,
		       strerror(errno));
		return;
	}
	/* An older caller's buffer: nothing it does not know is zero. */
	if (v->usize < c->ksize)
		memset(raw + v->usize, SENTINEL, c->ksize - v->usize);
	*(uint32_t *)raw = (uint32_t)v->usize;
	if (v->bad_byte >= 0)
		raw[v->bad_byte] = 1;
	memcpy(before, raw, RAW_LEN);
	ret = ioctl(env.fd, c->cmd, raw);
	err = ret ? errno : 0;
	ok = err == v->err && *(uint32_t *)raw == (uint32_t)v->usize;
	if (!err)	/* results only inside the caller's size */
		ok = ok && !memcmp(raw + v->usize, before + v->usize, RAW_LEN - v->usize) &&
		     c->check(raw, v->usize);
	else		/* a rejected call writes nothing */
		ok = ok && !memcmp(raw, before, RAW_LEN);
	ok = c->release(raw, !err) && ok;
	tap_ok(ok, "%s %s (size %zu): %s (got %s), size field kept, %s", c->name,
	       v->what, v->usize, v->err ? strerror(v->err) : "works",
	       err ? strerror(err) : "success",
	       err ? "nothing written or changed" : "nothing past the size touched");
}

static void test_sizes(const struct cmd_case *c)
{
	const struct variant vs[] = {
		{ "at the minimum", c->min, -1, 0 },
		{ "as this header knows it", c->ksize, -1, 0 },
		{ "8 bytes longer, zero tail", c->ksize + 8, -1, 0 },
		{ "256 bytes longer, zero tail", c->ksize + 256, -1, 0 },
		{ "non-zero first unknown byte", c->ksize + 8, (long)c->ksize, E2BIG },
		{ "non-zero last unknown byte", c->ksize + 256, (long)c->ksize + 255,
		  E2BIG },
		{ "one byte below the minimum", c->min - 1, -1, EINVAL },
		{ "8 bytes below the minimum", c->min - 8, -1, EINVAL },
		{ "size 0", 0, -1, EINVAL },
	};
	unsigned int i;

	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		if (i == 1 && c->ksize == c->min)
			continue;
		if (c->needs_edu && !env.has_edu && !vs[i].err) {
			tap_skip("no edu device at " CO_EDU_PCI, "%s %s", c->name,
				 vs[i].what);
			continue;
		}
		run_variant(c, &vs[i]);
	}
}

/* The bytes of an older INFO caller: exactly what the minimum holds. */
static void test_info_min(void)
{
	unsigned char raw[sizeof(struct carveout_info) + 16];
	struct carveout_info *in = (struct carveout_info *)raw;

	memset(raw, SENTINEL, sizeof(raw));
	memset(raw, 0, CARVEOUT_INFO_MIN_SIZE);
	in->size = CARVEOUT_INFO_MIN_SIZE;
	tap_ok(CARVEOUT_INFO_MIN_SIZE == 72 &&
	       offsetof(struct carveout_info, file_bytes) == 72,
	       "INFO's minimum (72) ends where file_bytes begins");
	tap_ok(ioctl(env.fd, CARVEOUT_IOC_INFO, raw) == 0 && in->size == 72 &&
	       in->page_size == env.ref.page_size &&
	       in->total_bytes == env.ref.total_bytes &&
	       in->user_limit == env.ref.user_limit &&
	       all_bytes(raw, 72, sizeof(raw), SENTINEL),
	       "INFO at 72 bytes: the first version's fields, bytes 72.. untouched");
}

/* Flag bits each command accepts besides those its valid argument sets. */
static uint32_t allowed_flags(const struct cmd_case *c)
{
	if (c->cmd == CARVEOUT_IOC_ALLOC)
		return CARVEOUT_ALLOC_FLAGS;
	if (c->cmd == CARVEOUT_IOC_EXPORT)
		return CARVEOUT_EXPORT_FLAGS;
	if (c->cmd == CARVEOUT_IOC_RESIZE)
		return CARVEOUT_RESIZE_FLAGS;
	return 0;
}

/*
 * Every flag bit a command does not define gets EINVAL and changes nothing,
 * for every command (the header's rule); EXPORT takes O_RDWR and O_CLOEXEC
 * only, so O_WRONLY is refused too.
 */
static void test_flags_sweep(const struct cmd_case *c)
{
	unsigned char arg[RAW_LEN];
	uint32_t bit, valid, *flags = (uint32_t *)(arg + 4);
	int bad = 0, tried = 0, rc, err;

	if (c->needs_edu && !env.has_edu) {
		tap_skip("no edu device", "%s: unknown flag bits", c->name);
		return;
	}
	for (bit = 1; bit; bit <<= 1) {
		memset(arg, 0, sizeof(arg));
		*(uint32_t *)arg = c->ksize;
		if (c->prep(arg))
			break;
		valid = *flags | allowed_flags(c);
		if (valid & bit) {
			c->release(arg, 0);
			continue;
		}
		*flags |= bit;
		rc = ioctl(env.fd, c->cmd, arg);
		err = errno;
		c->release(arg, rc == 0);
		tried++;
		if (rc == 0 || err != EINVAL) {
			tap_diag("%s: flags bit %#x: rc %d (%s)", c->name, bit, rc,
				 rc ? strerror(err) : "accepted");
			bad++;
		}
	}
	tap_ok(tried > 0 && !bad, "%s: %d unknown flag bits each get EINVAL",
	       c->name, tried);
}

static void test_export_wronly(void)
{
	struct carveout_export x;
	int rc, err;

	memset(&x, 0, sizeof(x));
	x.size = sizeof(x);
	if (prep_export(&x)) {
		tap_ok(0, "EXPORT O_WRONLY: no buffer to export");
		return;
	}
	x.flags = O_WRONLY | O_CLOEXEC;
	rc = ioctl(env.fd, CARVEOUT_IOC_EXPORT, &x);
	err = errno;
	release_export(&x, rc == 0);
	tap_ok(rc == -1 && err == EINVAL,
	       "EXPORT with O_WRONLY (the header allows O_RDWR | O_CLOEXEC): EINVAL");
}

static void test_unknown_commands(void)
{
	static const struct {
		const char *what;
		unsigned long cmd;
	} bad[] = {
		{ "_IO(0xC5, 0x8b), after the last command",
		  _IO(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_RESIZE + 1) },
		{ "_IO(0xC5, 0x7f), before the first", _IO(CARVEOUT_IOC_MAGIC, 0x7f) },
		{ "_IO(0xC5, 0xff)", _IO(CARVEOUT_IOC_MAGIC, 0xff) },
		{ "0.1's INFO, _IOWR(0xC5, 0, 72 bytes)",
		  _IOC(_IOC_READ | _IOC_WRITE, CARVEOUT_IOC_MAGIC, 0, 72) },
		{ "0.1's ALLOC, _IOWR(0xC5, 1, 136 bytes)",
		  _IOC(_IOC_READ | _IOC_WRITE, CARVEOUT_IOC_MAGIC, 1, 136) },
		{ "INFO's number with a size, _IOWR(0xC5, 0x80, 88 bytes)",
		  _IOWR(CARVEOUT_IOC_MAGIC, CARVEOUT_CMD_INFO, struct carveout_info) },
		{ "INFO's number with another magic, _IO(0xC4, 0x80)",
		  _IO(CARVEOUT_IOC_MAGIC - 1, CARVEOUT_CMD_INFO) },
	};
	struct carveout_info in, copy;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.size = sizeof(in);
		copy = in;
		tap_errno(ioctl(env.fd, bad[i].cmd, &in), ENOTTY, bad[i].what);
		tap_ok(!memcmp(&in, &copy, sizeof(in)), "%s: argument untouched",
		       bad[i].what);
	}
}

/* ---- INFO's caller bytes ---------------------------------------------------- */

static int info_of(int fd, struct carveout_info *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	return ioctl(fd, CARVEOUT_IOC_INFO, in);
}

static void test_info_bytes(void)
{
	struct carveout_alloc a1, a2;
	struct carveout_info i0, i1, i2;
	int fd2 = co_open();
	int ok;

	ok = fd2 >= 0 && info_of(env.fd, &i0) == 0 &&
	     co_alloc_simple(env.fd, 65536, &a1) == 0 &&
	     co_alloc_simple(fd2, 131072, &a2) == 0 &&
	     info_of(env.fd, &i1) == 0 && info_of(fd2, &i2) == 0;
	if (!tap_ok(ok, "two files holding 64K and 128K"))
		goto out;
	tap_ok(i0.file_bytes == 0 && i1.file_bytes == 65536 &&
	       i2.file_bytes == 131072,
	       "INFO file_bytes: each file its own (%llu, %llu; before %llu)",
	       (unsigned long long)i1.file_bytes, (unsigned long long)i2.file_bytes,
	       (unsigned long long)i0.file_bytes);
	tap_ok(i1.user_bytes == i0.user_bytes + 65536 + 131072 &&
	       i2.user_bytes == i1.user_bytes,
	       "INFO user_bytes: both files of the user (%llu, was %llu)",
	       (unsigned long long)i1.user_bytes, (unsigned long long)i0.user_bytes);
	tap_ok(i1.nr_handles == i0.nr_handles + 1 && i2.nr_handles == 1,
	       "INFO nr_handles: each file its own (%u, %u; before %u)",
	       i1.nr_handles, i2.nr_handles, i0.nr_handles);
	co_free(env.fd, a1.handle);
	close(fd2);
	fd2 = -1;
	tap_ok(info_of(env.fd, &i1) == 0 && i1.file_bytes == 0 &&
	       i1.user_bytes == i0.user_bytes,
	       "INFO after freeing and closing: back to %llu / %llu",
	       (unsigned long long)i1.file_bytes, (unsigned long long)i1.user_bytes);
out:
	if (fd2 >= 0)
		close(fd2);
}

/* ---- FREEMAP ------------------------------------------------------------------ */

/* Per node: pages and blocks per order the free map shows, over all pieces. */
struct walk {
	uint64_t free_pages;
	uint64_t per_order[40];
	unsigned long calls;
	int ok;
};

static int freemap(int fd, struct carveout_freemap *f, unsigned int node,
		   unsigned int piece, uint64_t start,
		   struct carveout_free_block *b, unsigned int cap)
{
	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	f->node = node;
	f->piece = piece;
	f->start = start;
	f->blocks_ptr = (uintptr_t)b;
	f->blocks_cap = cap;
	return ioctl(fd, CARVEOUT_IOC_FREEMAP, f);
}

/* Walks one piece @cap blocks at a time; checks order and coverage. */
static void walk_piece(int fd, unsigned int node, unsigned int piece,
		       unsigned int cap, struct walk *w)
{
	struct carveout_free_block b[8];
	struct carveout_freemap f;
	uint64_t cursor = 0, end = 0;
	unsigned int i;

	do {
		if (freemap(fd, &f, node, piece, cursor, b, cap) ||
		    f.nr_blocks > cap || f.next <= cursor || f.next > f.piece_pages) {
			tap_diag("node %u piece %u at %llu: %s, %u blocks, next %llu",
				 node, piece, (unsigned long long)cursor,
				 strerror(errno), f.nr_blocks,
				 (unsigned long long)f.next);
			w->ok = 0;
			return;
		}
		w->calls++;
		for (i = 0; i < f.nr_blocks; i++) {
			uint64_t len = 1ULL << b[i].order;

			/* In address order, never overlapping, inside the piece. */
			if (b[i].order >= 40 || b[i].offset < end ||
			    b[i].offset < cursor || b[i].offset + len > f.piece_pages ||
			    b[i].reserved)
				w->ok = 0;
			end = b[i].offset + len;
			w->free_pages += len;
			if (b[i].order < 40)
				w->per_order[b[i].order]++;
		}
		cursor = f.next;
	} while (cursor < f.piece_pages);
	if (cursor != f.piece_pages)
		w->ok = 0;
}

static void walk_node(int fd, unsigned int node, unsigned int nr_pieces,
		      unsigned int cap, struct walk *w)
{
	unsigned int p;

	memset(w, 0, sizeof(*w));
	w->ok = 1;
	for (p = 0; p < nr_pieces; p++)
		walk_piece(fd, node, p, cap, w);
}

static void check_walk(int fd, const struct carveout_node_info *n,
		       const char *when, int busy)
{
	struct carveout_stats st;
	struct walk small, big;
	unsigned int o;
	int same = 1;

	walk_node(fd, n->node, n->nr_pieces, 3, &small);
	walk_node(fd, n->node, n->nr_pieces, 8, &big);
	if (co_stats(fd, n->node, &st)) {
		tap_ok(0, "STATS of node %u", n->node);
		return;
	}
	for (o = 0; o < 40; o++)
		if (small.per_order[o] != (o < st.nr_orders ? st.free_blocks[o] : 0) ||
		    big.per_order[o] != small.per_order[o])
			same = 0;
	tap_ok(small.ok && big.ok && (!busy || small.calls > 1) &&
	       small.free_pages * env.ref.page_size == st.free_bytes &&
	       big.free_pages == small.free_pages,
	       "FREEMAP %s, node %u: a walk of 3 blocks per call (%lu calls) covers %llu free pages once, in order, = STATS free_bytes %llu",
	       when, n->node, small.calls, (unsigned long long)small.free_pages,
	       (unsigned long long)st.free_bytes);
	tap_ok(same, "FREEMAP %s, node %u: blocks per order = STATS free_blocks",
	       when, n->node);
}

static void test_freemap_walk(const struct carveout_node_info *nodes, int nr)
{
	struct carveout_alloc a[3];
	int fd = co_open(), i, k, ok = 1;

	/* A file of our own, with nothing in it: the regions are idle. */
	for (i = 0; i < nr; i++)
		check_walk(fd, &nodes[i], "idle", 0);
	/* Holes in the middle: three buffers on the first node. */
	for (k = 0; k < 3; k++)
		ok = co_alloc(fd, (k + 1) * 1048576, CARVEOUT_POLICY_STRICT,
			      nodes[0].node, 0, &a[k]) == 0 && ok;
	if (tap_ok(ok, "hold 1M, 2M and 3M on node %u", nodes[0].node)) {
		co_free(fd, a[1].handle);	/* a hole between two buffers */
		check_walk(fd, &nodes[0], "with 4M held", 1);
	}
	close(fd);
}

static void test_freemap_errors(const struct carveout_node_info *nodes, int nr)
{
	struct carveout_free_block b[4];
	struct carveout_freemap f;
	unsigned int none = 0;
	int i;

	for (i = 0; i < nr; i++)	/* a node id without a region */
		if (nodes[i].node == none)
			none++, i = -1;
	tap_errno(freemap(env.fd, &f, none, 0, 0, b, 4), ENODEV,
		  "FREEMAP of a node without a region");
	tap_errno(freemap(env.fd, &f, env.node, env.nr_pieces, 0, b, 4), EINVAL,
		  "FREEMAP of piece nr_pieces");
	tap_errno(freemap(env.fd, &f, env.node, 0, 0, b, 0), EINVAL,
		  "FREEMAP with blocks_cap 0");
	tap_errno(freemap(env.fd, &f, env.node, 0, 0, (void *)16, 4), EFAULT,
		  "FREEMAP with a bad blocks_ptr");
	memset(&f, 0, sizeof(f));
	if (freemap(env.fd, &f, env.node, 0, 0, b, 4) == 0) {
		uint64_t pages = f.piece_pages;

		tap_ok(freemap(env.fd, &f, env.node, 0, pages, b, 4) == 0 &&
		       f.nr_blocks == 0 && f.next == pages,
		       "FREEMAP starting at piece_pages: no block, next = piece_pages");
	} else {
		tap_ok(0, "FREEMAP of piece 0");
	}
#define FM_BAD(field, v, what) do { \
	memset(&f, 0, sizeof(f)); \
	f.size = sizeof(f); f.node = env.node; f.blocks_cap = 4; \
	f.blocks_ptr = (uintptr_t)b; f.field = v; \
	tap_errno(ioctl(env.fd, CARVEOUT_IOC_FREEMAP, &f), EINVAL, what); \
} while (0)
	FM_BAD(flags, 1, "FREEMAP with flags");
	FM_BAD(reserved, 1, "FREEMAP with reserved set");
	FM_BAD(nr_blocks, 1, "FREEMAP with nr_blocks (output) set");
	FM_BAD(nr_pieces, 1, "FREEMAP with nr_pieces (output) set");
	FM_BAD(piece_pages, 1, "FREEMAP with piece_pages (output) set");
	FM_BAD(next, 1, "FREEMAP with next (output) set");
#undef FM_BAD
}

/* ---- SLABINFO --------------------------------------------------------------- */

static int slabinfo(int fd, unsigned int node, struct carveout_slab_class *c,
		    unsigned int cap, struct carveout_slabinfo *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->node = node;
	s->classes_ptr = (uintptr_t)c;
	s->classes_cap = cap;
	return ioctl(fd, CARVEOUT_IOC_SLABINFO, s);
}

/* Objects in use per class of @fd on @node, into @in_use (by obj_size). */
static int in_use_by_size(int fd, unsigned int node, uint64_t *in_use,
			  unsigned int *nr)
{
	struct carveout_slab_class c[MAX_CLASSES];
	struct carveout_slabinfo s;
	unsigned int k;

	memset(in_use, 0, 4096 * sizeof(*in_use));
	if (slabinfo(fd, node, c, MAX_CLASSES, &s) || s.nr_classes > MAX_CLASSES)
		return -1;
	for (k = 0; k < s.nr_classes; k++) {
		if (all_bytes((unsigned char *)&c[k], 0, sizeof(c[k]), 0))
			continue;	/* no cache of this file on @node */
		if (c[k].obj_size >= 4096 || (k && c[k].obj_size <= c[k - 1].obj_size) ||
		    c[k].objs_total != (uint64_t)c[k].objs_per_slab *
		    (c[k].slabs_full + c[k].slabs_partial + c[k].slabs_empty) ||
		    c[k].objs_in_use + c[k].objs_cached > c[k].objs_total)
			return -1;
		in_use[c[k].obj_size] = c[k].objs_in_use;
	}
	*nr = s.nr_classes;
	return 0;
}

/* Class geometry once the file has caches: by increasing size, sane. */
static int classes_ok(const struct carveout_slab_class *c, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		if (!c[k].obj_size || !c[k].objs_per_slab || !c[k].slab_pages ||
		    c[k].reserved || (k && c[k].obj_size <= c[k - 1].obj_size) ||
		    (uint64_t)c[k].obj_size * c[k].objs_per_slab >
		    (uint64_t)c[k].slab_pages * env.ref.page_size)
			return 0;
	return n && c[n - 1].obj_size <= env.ref.slab_max;
}

/* A file without caches on the node gets the count and zeroed classes. */
static void test_slabinfo_fresh(void)
{
	struct carveout_slab_class c[MAX_CLASSES + 1];
	struct carveout_slabinfo s;
	int fd = co_open(), ok;
	unsigned int n;

	memset(c, SENTINEL, sizeof(c));
	ok = slabinfo(fd, env.node, c, MAX_CLASSES, &s) == 0;
	n = s.nr_classes;
	tap_ok(ok && n > 0 && n <= MAX_CLASSES, "SLABINFO: %u size classes", n);
	tap_ok(ok && n <= MAX_CLASSES &&
	       all_bytes((unsigned char *)c, 0, n * sizeof(c[0]), 0) &&
	       all_bytes((unsigned char *)&c[n], 0, sizeof(c[0]), SENTINEL),
	       "SLABINFO of a file without caches: %u classes written, all zero", n);
	memset(c, SENTINEL, sizeof(c));
	tap_ok(slabinfo(fd, env.node, c, 2, &s) == 0 && s.nr_classes == n &&
	       all_bytes((unsigned char *)c, 0, 2 * sizeof(c[0]), 0) &&
	       all_bytes((unsigned char *)&c[2], 0, sizeof(c[0]), SENTINEL),
	       "SLABINFO with room for 2: nr_classes still %u, 2 written", n);
	tap_ok(slabinfo(fd, env.node, NULL, 0, &s) == 0 && s.nr_classes == n,
	       "SLABINFO with no room: only the count");
	close(fd);
}

static void test_slabinfo_own(const struct carveout_node_info *nodes, int nr)
{
	static uint64_t mine[4096], other[4096];
	struct carveout_slabinfo si;
	struct carveout_alloc a[4], b;
	int fd2 = co_open(), k, ok = 1;
	unsigned int n, s128, s1k;

	for (k = 0; k < 4; k++)
		ok = co_alloc(env.fd, k < 3 ? 100 : 1000, CARVEOUT_POLICY_STRICT,
			      env.node, 0, &a[k]) == 0 && ok;
	ok = fd2 >= 0 && co_alloc(fd2, 100, CARVEOUT_POLICY_STRICT, env.node, 0,
				  &b) == 0 && ok;
	s128 = a[0].granted;
	s1k = a[3].granted;
	if (!tap_ok(ok && s128 < 4096 && s1k < 4096 && s128 != s1k,
		    "3 x 100 and 1 x 1000 bytes here, 100 in another file"))
		goto out;
	ok = in_use_by_size(env.fd, env.node, mine, &n) == 0;
	tap_ok(slabinfo(env.fd, env.node, env.classes, MAX_CLASSES, &si) == 0 &&
	       si.nr_classes == n && classes_ok(env.classes, n),
	       "SLABINFO of a file with caches: %u classes by increasing size, each fits its slab",
	       n);
	tap_ok(ok && mine[s128] == 3 && mine[s1k] == 1,
	       "SLABINFO: 3 in the %u-byte class, 1 in the %u-byte class (got %llu, %llu)",
	       s128, s1k, (unsigned long long)mine[s128], (unsigned long long)mine[s1k]);
	mine[s128] = mine[s1k] = 0;
	tap_ok(ok && all_bytes((unsigned char *)mine, 0, sizeof(mine), 0),
	       "SLABINFO: no other class in use, counts consistent");
	tap_ok(in_use_by_size(fd2, env.node, other, &n) == 0 && other[s128] == 1,
	       "SLABINFO of the other file: only its own object");
	if (nr > 1)
		tap_ok(in_use_by_size(env.fd, nodes[1].node, other, &n) == 0 &&
		       all_bytes((unsigned char *)other, 0, sizeof(other), 0),
		       "SLABINFO of node %u: nothing of ours there", nodes[1].node);
	for (k = 0; k < 4; k++)
		co_free(env.fd, a[k].handle);
	tap_ok(in_use_by_size(env.fd, env.node, mine, &n) == 0 &&
	       all_bytes((unsigned char *)mine, 0, sizeof(mine), 0),
	       "SLABINFO after freeing: no object in use");
out:
	if (fd2 >= 0)
		close(fd2);
}

static void test_slabinfo_errors(const struct carveout_node_info *nodes, int nr)
{
	struct carveout_slab_class c[4];
	struct carveout_slabinfo s;
	unsigned int none = 0;
	int i;

	for (i = 0; i < nr; i++)
		if (nodes[i].node == none)
			none++, i = -1;
	tap_errno(slabinfo(env.fd, none, c, 4, &s), ENODEV,
		  "SLABINFO of a node without a region");
	tap_errno(slabinfo(env.fd, env.node, (void *)16, 4, &s), EFAULT,
		  "SLABINFO with a bad classes_ptr");
#define SI_BAD(field, what) do { \
	memset(&s, 0, sizeof(s)); \
	s.size = sizeof(s); s.node = env.node; s.field = 1; \
	tap_errno(ioctl(env.fd, CARVEOUT_IOC_SLABINFO, &s), EINVAL, what); \
} while (0)
	SI_BAD(flags, "SLABINFO with flags");
	SI_BAD(reserved, "SLABINFO with reserved set");
	SI_BAD(nr_classes, "SLABINFO with nr_classes (output) set");
#undef SI_BAD
}

/* ------------------------------------------------------------------------------ */

static int setup(struct carveout_node_info *nodes, int *nr)
{
	struct stat st;

	env.fd = co_open();
	if (env.fd < 0)
		return -1;
	memset(&env.ref, 0, sizeof(env.ref));
	env.ref.size = sizeof(env.ref);
	env.ref.nodes_cap = MAX_NODES;
	env.ref.nodes_ptr = (uintptr_t)nodes;
	if (ioctl(env.fd, CARVEOUT_IOC_INFO, &env.ref) || !env.ref.nr_nodes)
		return -1;
	env.ref.nodes_cap = 0;
	env.ref.nodes_ptr = 0;
	*nr = env.ref.nr_nodes < MAX_NODES ? env.ref.nr_nodes : MAX_NODES;
	env.node = nodes[0].node;
	env.nr_pieces = nodes[0].nr_pieces;
	env.region_bytes = nodes[0].region_bytes;
	env.has_edu = stat("/sys/bus/pci/devices/" CO_EDU_PCI, &st) == 0;
	return 0;
}

int main(void)
{
	struct carveout_node_info nodes[MAX_NODES];
	unsigned int i;
	int nr;

	tap_plan_begin("carveout ioctl ABI: sizes, unknown commands, FREEMAP, SLABINFO");
	if (setup(nodes, &nr))
		tap_bail("open or INFO failed: %s", strerror(errno));
	tap_ok(env.ref.caps & CARVEOUT_CAP_FREEMAP, "INFO reports CARVEOUT_CAP_FREEMAP");
	test_freemap_walk(nodes, nr);	/* first: the regions are idle */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_sizes(&cases[i]);
	test_info_min();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_flags_sweep(&cases[i]);
	test_export_wronly();
	test_unknown_commands();
	test_info_bytes();
	test_freemap_errors(nodes, nr);
	test_slabinfo_fresh();
	test_slabinfo_own(nodes, nr);
	test_slabinfo_errors(nodes, nr);
	close(env.fd);
	return tap_finish();
}
