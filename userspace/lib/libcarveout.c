// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcarveout: the carveout uapi wrapped for C programs.
 *
 * Each call passes the size-prefixed uapi structure with sizeof() of the
 * structure this library was built with and everything it does not set
 * zero (output fields must be zero on input).  Under the ABI's growth rule
 * a kernel that knows less accepts that as long as the fields it does not
 * know are zero (E2BIG otherwise), and a kernel that knows more treats the
 * fields past our size as their defaults.
 *
 * A buffer is mmap()ed at the offset ALLOC returned, from the start of its
 * first page: sub-page buffers start @page_offset bytes into that page,
 * so the mapping covers page_offset + granted bytes rounded up to pages and
 * carveout_buf.addr is map_base + page_offset.
 *
 * No global state: everything lives in struct carveout_ctx and struct
 * carveout_buf.  Only carveout_* symbols are exported (libcarveout.map).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <carveout/libcarveout.h>

#ifndef CARVEOUT_VERSION
#error "CARVEOUT_VERSION comes from dkms.conf through the Makefile"
#endif

/* Free blocks fetched per FREEMAP call of carveout_walk_free(). */
#define CO_LIB_WALK_BATCH	256

/*
 * @refs: one for the open context plus one per live struct carveout_buf,
 * so a buffer may be freed after its context was closed.  @fd is -1 once
 * closed; calls on such buffers then fail with -EBADF.
 */
struct carveout_ctx {
	int fd;
	long page_size;
	unsigned int refs;
};

static void co_lib_ctx_get(struct carveout_ctx *ctx)
{
	__atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
}

static void co_lib_ctx_put(struct carveout_ctx *ctx)
{
	if (!__atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL))
		free(ctx);
}

static int co_lib_ioctl(struct carveout_ctx *ctx, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(ctx->fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

/* Copies a device name; names that do not fit are an error, not cut. */
static int co_lib_copy_name(char *dst, const char *src)
{
	size_t len = strlen(src);

	if (!len || len >= CARVEOUT_DEV_NAME_LEN)
		return -EINVAL;
	memcpy(dst, src, len + 1);
	return 0;
}

CARVEOUT_API struct carveout_ctx *carveout_open(const char *path)
{
	struct carveout_ctx *ctx;
	int err;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->fd = open(path ? path : CARVEOUT_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (ctx->fd < 0) {
		err = errno;
		free(ctx);
		errno = err;
		return NULL;
	}
	ctx->page_size = sysconf(_SC_PAGESIZE);
	if (ctx->page_size <= 0)
		ctx->page_size = 4096;
	ctx->refs = 1;
	return ctx;
}

CARVEOUT_API void carveout_close(struct carveout_ctx *ctx)
{
	int err = errno;

	if (!ctx)
		return;
	close(ctx->fd);
	ctx->fd = -1;
	co_lib_ctx_put(ctx);
	errno = err;
}

CARVEOUT_API int carveout_fd(const struct carveout_ctx *ctx)
{
	return ctx->fd;
}

CARVEOUT_API int carveout_get_info(struct carveout_ctx *ctx,
				   struct carveout_sysinfo *info)
{
	struct carveout_info in;
	int ret;

	memset(info, 0, sizeof(*info));
	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	in.nodes_cap = CARVEOUT_MAX_NODES;
	in.nodes_ptr = (uintptr_t)info->nodes;
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_INFO, &in);
	if (ret)
		return ret;
	info->caps = in.caps;
	info->page_size = in.page_size;
	info->slab_max = in.slab_max;
	info->total_bytes = in.total_bytes;
	info->max_alloc = in.max_alloc;
	info->file_limit = in.file_limit;
	info->user_limit = in.user_limit;
	info->file_bytes = in.file_bytes;
	info->user_bytes = in.user_bytes;
	info->nr_nodes_total = in.nr_nodes;
	info->nr_nodes = in.nr_nodes < CARVEOUT_MAX_NODES ? in.nr_nodes :
							    CARVEOUT_MAX_NODES;
	return 0;
}

CARVEOUT_API int carveout_get_limits(struct carveout_ctx *ctx,
				     struct carveout_limits *lim)
{
	struct carveout_info in;
	int ret;

	memset(lim, 0, sizeof(*lim));
	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_INFO, &in);
	if (ret)
		return ret;
	if (!(in.caps & CARVEOUT_CAP_LIMITS))
		return -EOPNOTSUPP;
	lim->file_limit = in.file_limit;
	lim->user_limit = in.user_limit;
	lim->eff_user_limit = in.eff_user_limit;
	lim->reserve_bytes = in.reserve_bytes;
	lim->file_bytes = in.file_bytes;
	lim->user_bytes = in.user_bytes;
	lim->max_handles = in.max_handles;
	lim->nr_handles = in.nr_handles;
	lim->max_maps = in.max_maps;
	lim->nr_maps = in.nr_maps;
	lim->privileged = !!(in.owner_flags & CARVEOUT_OWNER_PRIVILEGED);
	return 0;
}

CARVEOUT_API int carveout_get_stats(struct carveout_ctx *ctx, unsigned int node,
				    struct carveout_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->size = sizeof(*stats);
	stats->node = node;
	return co_lib_ioctl(ctx, CARVEOUT_IOC_STATS, stats);
}

CARVEOUT_API int carveout_get_elastic(struct carveout_ctx *ctx,
				      unsigned int node,
				      struct carveout_elastic *e)
{
	struct carveout_stats s;
	struct carveout_info in;
	int ret;

	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_INFO, &in);
	if (ret)
		return ret;
	if (!(in.caps & CARVEOUT_CAP_ELASTIC))
		return -EOPNOTSUPP;
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.node = node;
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_STATS, &s);
	if (ret)
		return ret;
	*e = (struct carveout_elastic) {
		.floor_bytes = s.floor_bytes, .region_bytes = s.region_bytes,
		.ceiling_bytes = s.ceiling_bytes, .low_wmark = s.low_wmark,
		.high_wmark = s.high_wmark, .piece_bytes = s.piece_bytes,
		.shrink_delay_ms = s.shrink_delay_ms,
		.nr_elastic = s.nr_elastic, .grow_count = s.grow_count,
		.grow_bytes = s.grow_bytes, .shrink_count = s.shrink_count,
		.shrink_bytes = s.shrink_bytes,
		.grow_fail_count = s.grow_fail_count,
		.last_fail = s.last_fail, .last_fail_bytes = s.last_fail_bytes,
	};
	return 0;
}

CARVEOUT_API const char *carveout_grow_fail_name(unsigned int why)
{
	static const char *const names[] = {
		[CARVEOUT_GROW_FAIL_NONE] = "none",
		[CARVEOUT_GROW_FAIL_CEILING] = "at the ceiling",
		[CARVEOUT_GROW_FAIL_CONTIG] = "no free contiguous memory",
		[CARVEOUT_GROW_FAIL_SLOTS] = "no piece slot left",
		[CARVEOUT_GROW_FAIL_NOMEM] = "no memory for the arena",
		[CARVEOUT_GROW_FAIL_INTR] = "interrupted",
	};

	return why < sizeof(names) / sizeof(names[0]) ? names[why] : "unknown";
}

CARVEOUT_API int carveout_resize(struct carveout_ctx *ctx, unsigned int node,
				 const struct carveout_resize_opts *opts,
				 struct carveout_elastic *after)
{
	struct carveout_resize r;
	int ret, ret2;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = opts->flags;
	r.node = node;
	r.floor = opts->floor;
	r.ceiling = opts->ceiling;
	r.low_wmark = opts->low_wmark;
	r.high_wmark = opts->high_wmark;
	r.piece_bytes = opts->piece_bytes;
	r.shrink_delay_ms = opts->shrink_delay_ms;
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_RESIZE, &r);
	if (after && (!ret || ret == -ENOMEM)) {
		ret2 = carveout_get_elastic(ctx, node, after);
		if (!ret)
			ret = ret2;
	}
	return ret;
}

CARVEOUT_API int carveout_get_freemap(struct carveout_ctx *ctx,
				      unsigned int node, unsigned int piece,
				      uint64_t *cursor,
				      struct carveout_free_block *blocks,
				      unsigned int cap,
				      struct carveout_piece_info *pinfo)
{
	struct carveout_freemap fm;
	int ret;

	memset(&fm, 0, sizeof(fm));
	fm.size = sizeof(fm);
	fm.node = node;
	fm.piece = piece;
	fm.start = *cursor;
	fm.blocks_ptr = (uintptr_t)blocks;
	fm.blocks_cap = cap;
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_FREEMAP, &fm);
	if (ret)
		return ret;
	if (fm.nr_blocks > cap)
		return -EIO;
	*cursor = fm.next;
	if (pinfo) {
		pinfo->nr_pieces = fm.nr_pieces;
		pinfo->pages = fm.piece_pages;
	}
	return (int)fm.nr_blocks;
}

CARVEOUT_API int carveout_walk_free(struct carveout_ctx *ctx, unsigned int node,
				    unsigned int piece, carveout_free_fn fn,
				    void *arg, struct carveout_piece_info *pinfo)
{
	struct carveout_free_block blocks[CO_LIB_WALK_BATCH];
	struct carveout_piece_info pi;
	uint64_t cursor = 0, start;
	int n, i, ret;

	do {
		start = cursor;
		n = carveout_get_freemap(ctx, node, piece, &cursor, blocks,
					 CO_LIB_WALK_BATCH, &pi);
		if (n < 0)
			return n;
		if (!start && pinfo)
			*pinfo = pi;
		for (i = 0; i < n; i++) {
			ret = fn(&blocks[i], arg);
			if (ret)
				return ret;
		}
		/* A cursor that stands still or runs past the end: stop. */
		if (cursor > pi.pages || (cursor <= start && cursor < pi.pages))
			return -EIO;
	} while (cursor < pi.pages);
	return 0;
}

CARVEOUT_API int carveout_get_slabinfo(struct carveout_ctx *ctx,
				       unsigned int node,
				       struct carveout_slab_class *classes,
				       unsigned int cap)
{
	struct carveout_slabinfo si;
	int ret;

	memset(&si, 0, sizeof(si));
	si.size = sizeof(si);
	si.node = node;
	si.classes_cap = cap;
	si.classes_ptr = (uintptr_t)classes;
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_SLABINFO, &si);
	if (ret)
		return ret;
	return si.nr_classes > INT32_MAX ? -EIO : (int)si.nr_classes;
}

static int co_lib_free_handle(struct carveout_ctx *ctx, uint32_t handle)
{
	struct carveout_handle h;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	h.handle = handle;
	return co_lib_ioctl(ctx, CARVEOUT_IOC_FREE, &h);
}

CARVEOUT_API struct carveout_buf *
carveout_buf_alloc(struct carveout_ctx *ctx, uint64_t size,
		   const struct carveout_alloc_opts *opts)
{
	static const struct carveout_alloc_opts defaults;
	struct carveout_alloc a;
	struct carveout_buf *buf;
	size_t pmask = ctx->page_size - 1;
	void *p;
	int ret;

	if (!opts)
		opts = &defaults;
	if (opts->flags & ~(CARVEOUT_BUF_PAGES | CARVEOUT_BUF_NO_MMAP) ||
	    opts->cache & ~CARVEOUT_ALLOC_CACHE_MASK) {
		errno = EINVAL;
		return NULL;
	}
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.length = size;
	a.align = opts->align;
	a.node = opts->node;
	a.policy = opts->policy;
	a.flags = opts->cache;
	if (opts->flags & CARVEOUT_BUF_PAGES)
		a.flags |= CARVEOUT_ALLOC_PAGES;
	if (opts->device && co_lib_copy_name(a.device, opts->device)) {
		errno = EINVAL;
		return NULL;
	}
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	ret = co_lib_ioctl(ctx, CARVEOUT_IOC_ALLOC, &a);
	if (ret) {
		free(buf);
		errno = -ret;
		return NULL;
	}
	co_lib_ctx_get(ctx);
	buf->ctx = ctx;
	buf->size = size;
	buf->granted = a.granted;
	buf->node = a.out_node;
	buf->handle = a.handle;
	buf->phys_addr = a.phys_addr;
	buf->cache = opts->cache;
	buf->mmap_offset = a.mmap_offset;
	buf->page_offset = a.page_offset;
	if (opts->flags & CARVEOUT_BUF_NO_MMAP)
		return buf;

	buf->map_len = (a.page_offset + a.granted + pmask) & ~pmask;
	p = mmap(NULL, buf->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 ctx->fd, a.mmap_offset);
	if (p == MAP_FAILED) {
		ret = errno;
		co_lib_free_handle(ctx, a.handle);
		co_lib_ctx_put(ctx);
		free(buf);
		errno = ret;
		return NULL;
	}
	buf->map_base = p;
	buf->addr = (char *)p + a.page_offset;
	return buf;
}

CARVEOUT_API int carveout_buf_free(struct carveout_buf *buf)
{
	int ret;

	if (!buf)
		return 0;
	if (buf->map_base)
		munmap(buf->map_base, buf->map_len);
	/* A closed context already gave every buffer back. */
	ret = buf->ctx->fd < 0 ? 0 : co_lib_free_handle(buf->ctx, buf->handle);
	co_lib_ctx_put(buf->ctx);
	free(buf);
	return ret;
}

CARVEOUT_API int carveout_buf_map(struct carveout_buf *buf, const char *device,
				  unsigned int direction, uint64_t *dma_addr)
{
	struct carveout_map m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.handle = buf->handle;
	m.direction = direction;
	if (!device || co_lib_copy_name(m.device, device))
		return -EINVAL;
	ret = co_lib_ioctl(buf->ctx, CARVEOUT_IOC_MAP, &m);
	if (ret)
		return ret;
	buf->dma_addr = m.dma_addr;
	buf->dma_dir = direction;
	memcpy(buf->dma_device, m.device, sizeof(buf->dma_device));
	if (dma_addr)
		*dma_addr = m.dma_addr;
	return 0;
}

CARVEOUT_API int carveout_buf_unmap(struct carveout_buf *buf,
				    const char *device, uint64_t dma_addr)
{
	struct carveout_map m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.handle = buf->handle;
	if (!device)
		device = buf->dma_device;
	if (co_lib_copy_name(m.device, device))
		return device[0] ? -EINVAL : -ENOENT;
	m.dma_addr = dma_addr ? dma_addr : buf->dma_addr;
	if (!m.dma_addr)
		return -ENOENT;
	ret = co_lib_ioctl(buf->ctx, CARVEOUT_IOC_UNMAP, &m);
	if (!ret && m.dma_addr == buf->dma_addr &&
	    !strcmp(m.device, buf->dma_device)) {
		buf->dma_addr = 0;
		buf->dma_device[0] = '\0';
	}
	return ret;
}

CARVEOUT_API int carveout_buf_sync(struct carveout_buf *buf, uint64_t offset,
				   uint64_t length, unsigned int direction,
				   unsigned int flags)
{
	struct carveout_sync s;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = flags;
	s.handle = buf->handle;
	s.direction = direction;
	s.offset = offset;
	s.length = length;
	return co_lib_ioctl(buf->ctx, CARVEOUT_IOC_SYNC, &s);
}

CARVEOUT_API int carveout_buf_export(struct carveout_buf *buf, int flags)
{
	struct carveout_export e;
	int ret;

	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	e.flags = flags ? (uint32_t)flags : CARVEOUT_EXPORT_FLAGS;
	e.handle = buf->handle;
	ret = co_lib_ioctl(buf->ctx, CARVEOUT_IOC_EXPORT, &e);
	return ret ? ret : e.fd;
}

CARVEOUT_API const char *carveout_version(void)
{
	return CARVEOUT_VERSION;
}

/* Texts that depend on the operation; NULL when it adds nothing. */
static const char *co_lib_open_text(int err)
{
	switch (err) {
	case ENOENT:
		return "/dev/carveout does not exist: the carveout module is not loaded";
	case ENODEV:
	case ENXIO:
		return "/dev/carveout has no driver behind it: the carveout module is not loaded";
	case EACCES:
	case EPERM:
		return "no permission to open /dev/carveout (root only unless the module's mode= parameter allows more)";
	default:
		return NULL;
	}
}

static const char *co_lib_parse_text(int err)
{
	if (err == EINVAL)
		return "not a size: give a number with an optional K, M, G or T suffix";
	if (err == ERANGE)
		return "size too large";
	return NULL;
}

static const char *co_lib_dma_text(int err, enum carveout_op op)
{
	if (op == CARVEOUT_OP_SYNC) {
		if (err == ENOENT)
			return "no such buffer handle, or the buffer has no DMA mapping to sync";
		if (err == EINVAL)
			return "invalid sync: range outside the buffer, or direction not the mapping's";
		return NULL;
	}
	if (err == ENODEV)
		return "no such device (give its bus name, e.g. 0000:00:03.0)";
	if (err == ENOENT)
		return op == CARVEOUT_OP_MAP ? "no such buffer handle" :
		       "no such buffer handle or DMA mapping";
	if (err == ENOMEM)
		return "the DMA mapping failed (IOMMU or bounce space exhausted)";
	if (err == EPERM && op == CARVEOUT_OP_MAP)
		return "not allowed to map buffers for this device: another driver owns it, or no IOMMU translates it (root can, or list it in map_allow)";
	if (err == ENOSPC && op == CARVEOUT_OP_MAP)
		return "the buffer has the most to-device DMA mappings it may have (CARVEOUT_MAP_MAX_TO_DEVICE)";
	if (err == EBUSY && op == CARVEOUT_OP_MAP)
		return "the buffer already has a mapping the device may write (one per buffer)";
	return NULL;
}

static const char *co_lib_query_text(int err, enum carveout_op op)
{
	if (err == ENODEV)
		return "no carveout region on that node";
	if (err == ENOTTY && op == CARVEOUT_OP_SLABINFO)
		return "the carveout module has no SLABINFO (older than this library)";
	if (op != CARVEOUT_OP_FREEMAP)
		return NULL;
	if (err == EINVAL)
		return "no such piece of the node's region";
	if (err == ENOTTY)
		return "the carveout module has no FREEMAP (older than this library)";
	if (err == EIO)
		return "the free map did not advance (module bug?)";
	return NULL;
}

static const char *co_lib_resize_text(int err)
{
	switch (err) {
	case EPERM:
		return "resizing a region needs CAP_SYS_ADMIN";
	case EINVAL:
		return "a ceiling below the floor, or the low watermark above the high one";
	case ENOMEM:
		return "the floor could not be raised: no free contiguous memory (fragmented or short)";
	case ENODEV:
		return "no carveout region on that node";
	case ENOTTY:
		return "the carveout module has no RESIZE (older than this library)";
	default:
		return NULL;
	}
}

static const char *co_lib_op_text(int err, enum carveout_op op)
{
	switch (op) {
	case CARVEOUT_OP_RESIZE:
		return co_lib_resize_text(err);
	case CARVEOUT_OP_OPEN:
		return co_lib_open_text(err);
	case CARVEOUT_OP_PARSE:
		return co_lib_parse_text(err);
	case CARVEOUT_OP_MAP:
	case CARVEOUT_OP_UNMAP:
	case CARVEOUT_OP_SYNC:
		return co_lib_dma_text(err, op);
	case CARVEOUT_OP_STATS:
	case CARVEOUT_OP_INFO:
	case CARVEOUT_OP_SLABINFO:
	case CARVEOUT_OP_FREEMAP:
		return co_lib_query_text(err, op);
	case CARVEOUT_OP_MMAP:
		return err == EINVAL ?
		       "the buffer cannot be mapped here (unknown handle or range)" :
		       NULL;
	default:
		return NULL;
	}
}

/* What an errno means for carveout whatever the operation. */
static const char *co_lib_errno_text(int err)
{
	switch (err) {
	case 0:
		return "success";
	case ENODEV:
		return "no such node or device (no carveout region on that node, or no device by that name)";
	case ENOMEM:
		return "carveout region exhausted: no free block large enough on the allowed node(s), or only the reserve kept for root is left, or a region could not grow (at its ceiling, or no free contiguous memory: carveoutctl info shows which)";
	case EDQUOT:
		return "per-file or per-user carveout limit reached (module parameters file_limit, user_limit, user_share)";
	case EMFILE:
		return "too many buffers or DMA mappings in this open file (module parameters max_handles, max_maps)";
	case EFBIG:
		return "larger than any carveout region";
	case ERANGE:
		return "the device's DMA mask cannot reach the buffer and no IOMMU translates (allocate with the device policy)";
	case ENOENT:
		return "no such buffer handle or DMA mapping";
	case EACCES:
	case EPERM:
		return "permission denied (opening /dev/carveout needs root unless the module's mode= allows more)";
	case EINVAL:
		return "invalid argument (zero size, alignment not a power of two, bad node, policy, cache mode, direction or flags)";
	case ENOTTY:
		return "not a carveout device, or the module does not know this request";
	case E2BIG:
		return "the carveout module is older than this library (unknown request fields)";
	case ENOSPC:
		return "too many buffers in this open file";
	case EINTR:
		return "interrupted by a signal";
	case EOPNOTSUPP:
		return "not supported by this carveout module or machine";
	default:
		return strerror(err);
	}
}

CARVEOUT_API const char *carveout_strerror_op(int err, enum carveout_op op)
{
	const char *text;

	if (err < 0)
		err = -err;
	text = co_lib_op_text(err, op);
	return text ? text : co_lib_errno_text(err);
}

CARVEOUT_API const char *carveout_strerror(int err)
{
	return carveout_strerror_op(err, CARVEOUT_OP_ANY);
}

static const char co_lib_units[] = "KMGT";

static int co_lib_unit_shift(char c)
{
	const char *u = strchr(co_lib_units, c >= 'a' ? c - 'a' + 'A' : c);

	return u && c ? 10 * (int)(u - co_lib_units + 1) : -1;
}

CARVEOUT_API int carveout_parse_size(const char *str, uint64_t *bytes)
{
	uint64_t whole = 0, frac = 0, scale = 1, mult = 1, v;
	const char *s = str;
	int shift = 0, base = 10, digits = 0;

	if (!s)
		return -EINVAL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++, digits++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (__builtin_mul_overflow(whole, (uint64_t)base, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)d, &whole))
			return -ERANGE;
	}
	if (*s == '.' && base == 10) {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			if (scale >= 1000000000000000000ULL)
				return -ERANGE;
			frac = frac * 10 + (*s - '0');
			scale *= 10;
		}
	}
	if (!digits)
		return -EINVAL;
	if (*s) {
		shift = co_lib_unit_shift(*s);
		if (shift < 0)
			return -EINVAL;
		s++;
		if (*s == 'i' && (s[1] == 'B' || s[1] == 'b'))
			s += 2;
		else if (*s == 'B' || *s == 'b')
			s++;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return -EINVAL;
	mult <<= shift;
	if (__builtin_mul_overflow(whole, mult, &v))
		return -ERANGE;
	if (frac) {
		uint64_t f;

		/* frac / scale of a unit must be a whole number of bytes. */
		if (__builtin_mul_overflow(frac, mult, &f))
			return -ERANGE;
		if (f % scale)
			return -EINVAL;
		if (__builtin_add_overflow(v, f / scale, &v))
			return -ERANGE;
	}
	*bytes = v;
	return 0;
}

CARVEOUT_API char *carveout_format_size(uint64_t bytes, char *buf, size_t len,
					unsigned int flags)
{
	int i;

	if (!len)
		return buf;
	if (!(flags & CARVEOUT_SIZE_ROUND)) {
		for (i = 3; i >= 0; i--) {
			uint64_t u = 1ULL << (10 * (i + 1));

			if (bytes >= u && !(bytes % u)) {
				snprintf(buf, len, "%llu%c",
					 (unsigned long long)(bytes / u),
					 co_lib_units[i]);
				return buf;
			}
		}
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
		return buf;
	}

	for (i = 3; i >= 0; i--) {
		uint64_t u = 1ULL << (10 * (i + 1));
		double v = (double)bytes / (double)u;
		char *dot, *end;

		if (bytes < u)
			continue;
		snprintf(buf, len, "%.*f", v < 10 ? 2 : v < 100 ? 1 : 0, v);
		dot = strchr(buf, '.');
		if (dot) {
			end = buf + strlen(buf) - 1;
			while (end > dot && *end == '0')
				*end-- = '\0';
			if (end == dot)
				*end = '\0';
		}
		end = buf + strlen(buf);
		if ((size_t)(end - buf) + 1 < len) {
			end[0] = co_lib_units[i];
			end[1] = '\0';
		}
		return buf;
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}

static const char *const co_lib_policies[] = {
	[CARVEOUT_POLICY_LOCAL] = "local",
	[CARVEOUT_POLICY_STRICT] = "strict",
	[CARVEOUT_POLICY_PREFERRED] = "preferred",
	[CARVEOUT_POLICY_DEVICE] = "device",
};

CARVEOUT_API const char *carveout_policy_name(unsigned int policy)
{
	return policy <= CARVEOUT_POLICY_MAX ? co_lib_policies[policy] : "?";
}

CARVEOUT_API int carveout_parse_policy(const char *name)
{
	unsigned int i;

	for (i = 0; i <= CARVEOUT_POLICY_MAX; i++)
		if (!strcasecmp(name, co_lib_policies[i]))
			return (int)i;
	return -EINVAL;
}

CARVEOUT_API const char *carveout_cache_name(unsigned int cache)
{
	switch (cache) {
	case CARVEOUT_ALLOC_CACHED:
		return "cached";
	case CARVEOUT_ALLOC_WC:
		return "wc";
	case CARVEOUT_ALLOC_UNCACHED:
		return "uncached";
	default:
		return "?";
	}
}

CARVEOUT_API int carveout_parse_cache(const char *name)
{
	if (!strcasecmp(name, "cached"))
		return CARVEOUT_ALLOC_CACHED;
	if (!strcasecmp(name, "wc") || !strcasecmp(name, "write-combine"))
		return CARVEOUT_ALLOC_WC;
	if (!strcasecmp(name, "uncached"))
		return CARVEOUT_ALLOC_UNCACHED;
	return -EINVAL;
}
