// SPDX-License-Identifier: GPL-2.0
/*
 * Real consumers of carveout buffers: the kernel's own subsystems and a
 * userspace driver use them the way they use any memory, and see the
 * bytes the CPU sees.
 *
 * - Ranged CPU sync of an exported buffer: with an importer (edu, through
 *   carveout_edu) holding its mapping, SYNC over a byte range reaches
 *   that mapping (it returned ENOENT when it only knew MAP's mappings),
 *   also across the importer's segment boundaries, and the DMA-API
 *   debugging code (debug kernels) finds nothing wrong with any sync.
 * - DRM: vgem imports an exported buffer (PRIME), holds it past FREE,
 *   and hands the same dma-buf back on export; bytes written through
 *   either mapping are seen through the other.  DRM does not let an
 *   imported object be mapped through the importer's own file
 *   (drm_gem_dumb_map_offset(): EINVAL), which is checked too.
 * - Storage: O_DIRECT reads from the virtio-blk scratch disk into a
 *   mapping of the dma-buf, and io_uring READ_FIXED / WRITE_FIXED between
 *   the disk and a registered carveout buffer (Linux 6.3 and later; older
 *   kernels refuse file-backed fixed buffers).
 * - V4L2: vivid captures into exported buffers (V4L2_MEMORY_DMABUF); the
 *   frames equal those it captures into its own buffers (V4L2_MEMORY_MMAP).
 * - VFIO: edu is bound to vfio-pci, a carveout mapping is mapped for it
 *   with VFIO_IOMMU_MAP_DMA (through the IOMMU), and edu's DMA engine,
 *   driven through the VFIO region, copies bytes out of the buffer and
 *   back into it; the pinned pages do not go back to the region while
 *   VFIO maps them, even after FREE.  carveout_edu is bound again after.
 *
 * A facility the kernel lacks is a skip that names it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <linux/vfio.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "co_disk.h"
#include "co_edu.h"
#include "co_owner.h"
#include "co_ring.h"
#include "co_test.h"
#include "tap.h"

#define PG		CO_PG

static uint32_t node0;

/* -- helpers ------------------------------------------------------------ */

/* A byte that depends on its offset and a seed, so misplaced bytes show. */
static unsigned char pat_byte(size_t off, unsigned int seed)
{
	return (unsigned char)(off * 131 + (off >> 12) * 17 + seed);
}

static void pat_fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat_byte(i, seed);
}

static size_t pat_wrong(const unsigned char *p, size_t len, unsigned int seed)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] != pat_byte(i, seed);
	return n;
}

/* A page-multiple buffer on node 0, mapped and exported. */
struct xbuf {
	struct carveout_alloc a;
	unsigned char *p;
	size_t len;
	int dfd;
};

static int xbuf_get(int fd, size_t len, struct xbuf *x)
{
	memset(x, 0, sizeof(*x));
	x->dfd = -1;
	if (co_alloc(fd, len, CARVEOUT_POLICY_STRICT, node0,
		     CARVEOUT_ALLOC_PAGES, &x->a))
		return -1;
	x->p = co_map_span(fd, &x->a, &x->len);
	if (!x->p || co_export(fd, x->a.handle, &x->dfd))
		return -1;
	return 0;
}

static void xbuf_put(int fd, struct xbuf *x)
{
	if (x->p)
		munmap(x->p, x->len);
	if (x->dfd >= 0)
		close(x->dfd);
	if (x->a.handle)
		co_free(fd, x->a.handle);
	memset(x, 0, sizeof(*x));
	x->dfd = -1;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

static long read_long(const char *path)
{
	char b[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 ? strtol(b, NULL, 0) : -1;
}

/* The name of the driver bound to a PCI device ("" when none). */
static const char *pci_driver(const char *bdf)
{
	static char name[64];
	char path[128], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	name[0] = 0;
	if (n > 0) {
		link[n] = 0;
		snprintf(name, sizeof(name), "%s", strrchr(link, '/') + 1);
	}
	return name;
}

static int carveout_sync(int fd, uint32_t handle, uint32_t flags,
			 uint64_t off, uint64_t len)
{
	struct carveout_sync s = {
		.size = sizeof(s), .flags = flags, .handle = handle,
		.direction = CARVEOUT_DMA_FROM_DEVICE, .offset = off,
		.length = len,
	};

	return ioctl(fd, CARVEOUT_IOC_SYNC, &s);
}

/* -- ranged CPU sync of an exported buffer -------------------------------- */

#define SYNC_LEN	(1UL << 20)
#define DMA_DEBUG	"/sys/kernel/debug/dma-api/error_count"

static void sync_ranges(int fd, const struct xbuf *x)
{
	/* Inside a segment, across a 64 KiB segment boundary, the end. */
	static const uint64_t r[][2] = {
		{ 4096, 4096 }, { 65536 - 2048, 4096 }, { 123, 200000 },
		{ SYNC_LEN - 4096, 0 },
	};
	unsigned int i, bad = 0;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		bad += carveout_sync(fd, x->a.handle, CARVEOUT_SYNC_FOR_CPU,
				     r[i][0], r[i][1]) != 0;
		bad += carveout_sync(fd, x->a.handle, CARVEOUT_SYNC_FOR_DEVICE,
				     r[i][0], r[i][1]) != 0;
	}
	tap_ok(bad == 0,
	       "SYNC of byte ranges reaches edu's mapping of the dma-buf (%u of %zu failed)",
	       bad, 2 * sizeof(r) / sizeof(r[0]));
}

static void test_sync_attached(int fd)
{
	struct dma_buf_sync ds = { 0 };
	struct co_edu_attach at = { 0 };
	long errs0 = read_long(DMA_DEBUG), errs;
	struct xbuf x;
	int e, ret;

	tap_diag("ranged SYNC of an exported buffer an importer keeps mapped");
	e = open("/dev/carveout-edu", O_RDWR | O_CLOEXEC);
	if (e < 0) {
		tap_skip("no /dev/carveout-edu (carveout_edu not bound to edu)",
			 "SYNC reaches dma-buf attachments");
		return;
	}
	if (!tap_ok(xbuf_get(fd, SYNC_LEN, &x) == 0,
		    "a 1 MiB buffer, mapped and exported"))
		goto out;
	ret = carveout_sync(fd, x.a.handle, CARVEOUT_SYNC_FOR_CPU, 0, 4096);
	tap_errno(ret, ENOENT, "SYNC before anyone maps it");
	at.fd = x.dfd;
	at.dir = CO_EDU_FROM_DEVICE;
	ret = ioctl(e, CO_EDU_IOC_ATTACH, &at);
	if (!tap_ok(ret == 0, "edu attaches and maps it (%u DMA segments at %#llx: %s)",
		    at.nents, (unsigned long long)at.dma_addr,
		    ret ? strerror(errno) : "ok"))
		goto out;
	sync_ranges(fd, &x);
	ds.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	ret = ioctl(x.dfd, DMA_BUF_IOCTL_SYNC, &ds);
	ds.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	ret |= ioctl(x.dfd, DMA_BUF_IOCTL_SYNC, &ds);
	tap_ok(ret == 0, "DMA_BUF_IOCTL_SYNC syncs it whole");
	close(e);
	e = -1;
	ret = carveout_sync(fd, x.a.handle, CARVEOUT_SYNC_FOR_CPU, 0, 4096);
	tap_errno(ret, ENOENT, "SYNC once edu has unmapped it");
	errs = read_long(DMA_DEBUG);
	if (errs0 < 0)
		tap_skip("no DMA-API debugging (CONFIG_DMA_API_DEBUG)",
			 "the DMA API finds nothing wrong with the syncs");
	else
		tap_ok(errs == errs0,
		       "the DMA API finds nothing wrong with the syncs (%ld errors before, %ld after)",
		       errs0, errs);
out:
	xbuf_put(fd, &x);
	if (e >= 0)
		close(e);
}

/* -- DRM: vgem ------------------------------------------------------------ */

/* The few DRM uapi definitions used (include/uapi/drm/drm.h). */
struct co_drm_version {
	int major, minor, patch;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct co_drm_prime {
	uint32_t handle;
	uint32_t flags;
	int32_t fd;
};

struct co_drm_map_dumb {
	uint32_t handle;
	uint32_t pad;
	uint64_t offset;
};

struct co_drm_gem_close {
	uint32_t handle;
	uint32_t pad;
};

#define CO_DRM_IOCTL_VERSION	_IOWR('d', 0x00, struct co_drm_version)
#define CO_DRM_IOCTL_GEM_CLOSE	_IOW('d', 0x09, struct co_drm_gem_close)
#define CO_DRM_IOCTL_H2FD	_IOWR('d', 0x2d, struct co_drm_prime)
#define CO_DRM_IOCTL_FD2H	_IOWR('d', 0x2e, struct co_drm_prime)
#define CO_DRM_IOCTL_MAP_DUMB	_IOWR('d', 0xb3, struct co_drm_map_dumb)

/* Opens vgem's card, or returns -1. */
static int vgem_open(void)
{
	struct co_drm_version v;
	char name[16], path[64];
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, CO_DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

static void vgem_checks(int fd, int card, struct xbuf *x, uint32_t h)
{
	struct co_drm_map_dumb md = { .handle = h };
	struct co_drm_prime p = { .handle = h, .flags = O_RDWR | O_CLOEXEC };
	struct stat s1, s2;
	unsigned char *q;
	uint64_t left;
	int ret;

	tap_errno(ioctl(card, CO_DRM_IOCTL_MAP_DUMB, &md), EINVAL,
		  "vgem refuses to map an imported object through its own file");
	ret = ioctl(card, CO_DRM_IOCTL_H2FD, &p);
	if (!tap_ok(ret == 0 && !fstat(p.fd, &s1) && !fstat(x->dfd, &s2) &&
		    s1.st_ino == s2.st_ino,
		    "vgem exports the handle back as the same dma-buf (%s)",
		    ret ? strerror(errno) : "ok"))
		return;
	q = mmap(NULL, x->len, PROT_READ | PROT_WRITE, MAP_SHARED, p.fd, 0);
	if (tap_ok(q != MAP_FAILED, "vgem's dma-buf maps")) {
		tap_ok(pat_wrong(q, x->len, 3) == 0,
		       "it shows the bytes written through carveout's mapping");
		pat_fill(q, x->len, 4);
		tap_ok(pat_wrong(x->p, x->len, 4) == 0,
		       "carveout's mapping shows the bytes written through it");
		munmap(q, x->len);
	}
	close(p.fd);
	/* vgem's handle holds the buffer past FREE and close. */
	left = co_free_bytes(fd, node0);
	xbuf_put(fd, x);
	tap_ok(co_free_bytes(fd, node0) == left,
	       "vgem's handle keeps the buffer after FREE and close");
}

static void test_vgem(int fd)
{
	struct co_drm_prime p = { .flags = 0 };
	struct co_drm_gem_close gc = { 0 };
	uint64_t base = co_free_bytes(fd, node0), now;
	double took;
	struct xbuf x;
	int card, ret;

	tap_diag("DRM: vgem imports an exported buffer (PRIME)");
	card = vgem_open();
	if (card < 0) {
		tap_skip("no vgem card in /dev/dri (CONFIG_DRM_VGEM)",
			 "vgem PRIME import");
		return;
	}
	if (!tap_ok(xbuf_get(fd, 256 << 10, &x) == 0,
		    "a 256 KiB buffer, mapped and exported"))
		goto out;
	pat_fill(x.p, x.len, 3);
	p.fd = x.dfd;
	ret = ioctl(card, CO_DRM_IOCTL_FD2H, &p);
	if (!tap_ok(ret == 0, "vgem imports it (handle %u: %s)", p.handle,
		    ret ? strerror(errno) : "ok"))
		goto out;
	vgem_checks(fd, card, &x, p.handle);
	gc.handle = p.handle;
	ret = ioctl(card, CO_DRM_IOCTL_GEM_CLOSE, &gc);
	now = co_wait_free(fd, node0, base, 5, &took);
	tap_ok(ret == 0 && now == base,
	       "closing vgem's handle gives the memory back (%llu of %llu free)",
	       (unsigned long long)now, (unsigned long long)base);
out:
	xbuf_put(fd, &x);
	close(card);
}

/* -- storage: O_DIRECT and io_uring ---------------------------------------- */

#define DISK_OFF	(8UL << 20)	/* past what test_mmap uses */
#define DISK_LEN	(256UL << 10)

static void disk_dmabuf(int fd, int disk)
{
	unsigned char *q;
	struct xbuf x;
	ssize_t r;

	if (!tap_ok(xbuf_get(fd, DISK_LEN, &x) == 0,
		    "a buffer for O_DIRECT into its dma-buf"))
		goto out;
	q = mmap(NULL, x.len, PROT_READ | PROT_WRITE, MAP_SHARED, x.dfd, 0);
	if (!tap_ok(q != MAP_FAILED, "its dma-buf maps"))
		goto out;
	r = pread(disk, q, DISK_LEN, DISK_OFF);
	tap_ok(r == (ssize_t)DISK_LEN && pat_wrong(q, DISK_LEN, 7) == 0,
	       "O_DIRECT read into the dma-buf's mapping gives the disk's bytes (%zd: %s)",
	       r, r < 0 ? strerror(errno) : "ok");
	munmap(q, x.len);
out:
	xbuf_put(fd, &x);
}

static void disk_ring_io(int disk, struct ring *r, unsigned char *p,
			 unsigned char *chk)
{
	int res;

	memset(p, 0, DISK_LEN);
	res = ring_rw_fixed(r, IORING_OP_READ_FIXED, disk, p, DISK_LEN,
			    DISK_OFF);
	tap_ok(res == (int)DISK_LEN && pat_wrong(p, DISK_LEN, 7) == 0,
	       "READ_FIXED from the disk into the registered buffer (res %d, %zu bytes wrong)",
	       res, pat_wrong(p, DISK_LEN, 7));
	pat_fill(p, DISK_LEN, 8);
	res = ring_rw_fixed(r, IORING_OP_WRITE_FIXED, disk, p, DISK_LEN,
			    DISK_OFF + DISK_LEN);
	tap_ok(res == (int)DISK_LEN &&
	       pread(disk, chk, DISK_LEN, DISK_OFF + DISK_LEN) ==
	       (ssize_t)DISK_LEN && pat_wrong(chk, DISK_LEN, 8) == 0,
	       "WRITE_FIXED from it reaches the disk (res %d)", res);
}

static void disk_ring(int fd, int disk, unsigned char *chk)
{
	struct ring r = { .fd = -1 };
	struct carveout_alloc a;
	struct iovec iov;
	unsigned char *p = NULL;
	size_t len = 0;
	int ret, err;

	ret = ring_setup(&r);
	err = errno;
	if (ret && r.fd < 0 && (err == ENOSYS || err == EPERM)) {
		tap_skip(err == ENOSYS ? "no io_uring (CONFIG_IO_URING)" :
			 "io_uring disabled (kernel.io_uring_disabled)",
			 "io_uring fixed-buffer I/O with the disk");
		goto out;
	}
	if (!tap_ok(ret == 0, "io_uring ring set up") ||
	    !tap_ok(co_alloc(fd, DISK_LEN, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &a) == 0 &&
		    (p = co_map_span(fd, &a, &len)), "a buffer to register"))
		goto out;
	iov.iov_base = p;
	iov.iov_len = DISK_LEN;
	ret = syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	if (ret && errno == EOPNOTSUPP) {
		tap_skip("the kernel refuses file-backed fixed buffers (before Linux 6.3)",
			 "io_uring fixed-buffer I/O with the disk");
	} else if (tap_ok(ret == 0, "the mapping registers as a fixed buffer (%s)",
			  ret ? strerror(errno) : "ok")) {
		disk_ring_io(disk, &r, p, chk);
	}
	co_free(fd, a.handle);
out:
	ring_exit(&r);
	if (p)
		munmap(p, len);
}

static void test_disk(int fd)
{
	char path[64];
	const char *why;
	unsigned char *chk = aligned_alloc(PG, DISK_LEN);
	int sync = 0, disk = -1;
	ssize_t w;

	tap_diag("storage: O_DIRECT and io_uring between the scratch disk and buffers");
	why = co_find_disk(path, sizeof(path), &sync);
	if (why) {
		tap_skip(why, "O_DIRECT and io_uring with the disk");
		goto out;
	}
	disk = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (!tap_ok(disk >= 0 && chk, "open %s with O_DIRECT", path))
		goto out;
	pat_fill(chk, DISK_LEN, 7);
	w = pwrite(disk, chk, DISK_LEN, DISK_OFF);
	if (!tap_ok(w == (ssize_t)DISK_LEN, "a pattern written to the disk"))
		goto out;
	disk_dmabuf(fd, disk);
	disk_ring(fd, disk, chk);
out:
	if (disk >= 0)
		close(disk);
	free(chk);
}

/* -- V4L2: vivid -------------------------------------------------------- */

#define VID_BUFS	2

/* Opens vivid's single-planar capture device, or returns -1. */
static int vivid_open(void)
{
	struct v4l2_capability cap;
	char path[64];
	uint32_t caps;
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		caps = 0;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap))
			caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ?
			       cap.device_caps : cap.capabilities;
		if (!strcmp((char *)cap.driver, "vivid") &&
		    (caps & V4L2_CAP_VIDEO_CAPTURE) && (caps & V4L2_CAP_STREAMING))
			return fd;
		close(fd);
	}
	return -1;
}

/* Sets the control named @name, if there is one; returns 0 when set. */
static int vivid_ctrl(int v, const char *name, int val)
{
	struct v4l2_queryctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	struct v4l2_control c;

	while (!ioctl(v, VIDIOC_QUERYCTRL, &q)) {
		if (!strcmp((char *)q.name, name)) {
			c.id = q.id;
			c.value = val;
			return ioctl(v, VIDIOC_S_CTRL, &c);
		}
		q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	return -1;
}

static int vivid_setup(int v, struct v4l2_format *f)
{
	int in = 0;

	if (ioctl(v, VIDIOC_S_INPUT, &in))
		return -1;
	memset(f, 0, sizeof(*f));
	f->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	f->fmt.pix.width = 320;
	f->fmt.pix.height = 180;
	f->fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f->fmt.pix.field = V4L2_FIELD_NONE;
	if (ioctl(v, VIDIOC_S_FMT, f))
		return -1;
	/* No text over the picture: every frame is the same. */
	return vivid_ctrl(v, "OSD Text Mode", 2);
}

static int vivid_dq(int v, uint32_t mem, struct v4l2_buffer *b)
{
	struct pollfd pfd = { .fd = v, .events = POLLIN };

	if (poll(&pfd, 1, 20000) != 1)
		return -1;
	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = mem;
	return ioctl(v, VIDIOC_DQBUF, b);
}

static int vivid_stream(int v, int on)
{
	int t = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	return ioctl(v, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &t);
}

static int vivid_reqbufs(int v, uint32_t mem, uint32_t n)
{
	struct v4l2_requestbuffers rb = {
		.count = n, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = mem,
	};

	return ioctl(v, VIDIOC_REQBUFS, &rb) || rb.count < n ? -1 : 0;
}

/* One frame into vivid's own buffer, copied to @ref. */
static int vivid_ref_frame(int v, unsigned char *ref, size_t size)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	void *m = MAP_FAILED;
	int ret = -1;

	if (vivid_reqbufs(v, V4L2_MEMORY_MMAP, 1) ||
	    ioctl(v, VIDIOC_QUERYBUF, &b))
		return -1;
	m = mmap(NULL, b.length, PROT_READ, MAP_SHARED, v, b.m.offset);
	if (m != MAP_FAILED && !ioctl(v, VIDIOC_QBUF, &b) &&
	    !vivid_stream(v, 1) && !vivid_dq(v, V4L2_MEMORY_MMAP, &b) &&
	    b.bytesused == size) {
		memcpy(ref, m, size);
		ret = 0;
	}
	vivid_stream(v, 0);
	if (m != MAP_FAILED)
		munmap(m, b.length);
	vivid_reqbufs(v, V4L2_MEMORY_MMAP, 0);
	return ret;
}

static int vivid_qbuf(int v, const struct xbuf *x, unsigned int i)
{
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF,
		.index = i, .length = x->len,
	};

	b.m.fd = x->dfd;
	return ioctl(v, VIDIOC_QBUF, &b);
}

/* Captures @VID_BUFS + 1 frames into exported buffers; each equals @ref. */
static void vivid_dmabuf(int fd, int v, const unsigned char *ref, size_t size)
{
	struct xbuf x[VID_BUFS];
	unsigned int i, got = 0, bad = 0;
	struct v4l2_buffer b;
	int ret = -1;

	memset(x, 0, sizeof(x));
	for (i = 0; i < VID_BUFS; i++)
		x[i].dfd = -1;
	for (i = 0; i < VID_BUFS; i++) {
		if (xbuf_get(fd, size, &x[i]))
			goto out;
		memset(x[i].p, 0x5a, x[i].len);
	}
	if (!tap_ok(!vivid_reqbufs(v, V4L2_MEMORY_DMABUF, VID_BUFS),
		    "vivid takes DMABUF buffers"))
		goto out;
	ret = 0;
	for (i = 0; i < VID_BUFS; i++)
		ret |= vivid_qbuf(v, &x[i], i);
	tap_ok(ret == 0, "it queues %d exported carveout buffers (%s)",
	       VID_BUFS, ret ? strerror(errno) : "ok");
	if (ret || vivid_stream(v, 1))
		goto stop;
	for (i = 0; i < VID_BUFS + 1; i++) {
		if (vivid_dq(v, V4L2_MEMORY_DMABUF, &b) || b.index >= VID_BUFS)
			break;
		got++;
		bad += b.bytesused != size || memcmp(x[b.index].p, ref, size);
		if (i < VID_BUFS && vivid_qbuf(v, &x[b.index], b.index))
			break;
	}
	tap_ok(got == VID_BUFS + 1 && bad == 0,
	       "%u frames captured into carveout buffers, %u differ from vivid's own",
	       got, bad);
stop:
	vivid_stream(v, 0);
	vivid_reqbufs(v, V4L2_MEMORY_DMABUF, 0);
out:
	for (i = 0; i < VID_BUFS; i++)
		xbuf_put(fd, &x[i]);
}

static void test_vivid(int fd)
{
	unsigned char *ref = NULL;
	struct v4l2_format f;
	int v, ret;

	tap_diag("V4L2: vivid captures into exported buffers");
	v = vivid_open();
	if (v < 0) {
		tap_skip("no vivid capture device (CONFIG_VIDEO_VIVID)",
			 "V4L2 DMABUF capture");
		return;
	}
	ret = vivid_setup(v, &f);
	if (!tap_ok(ret == 0,
		    "vivid: webcam input, %ux%u YUYV, no text (%u bytes a frame)",
		    f.fmt.pix.width, f.fmt.pix.height, f.fmt.pix.sizeimage))
		goto out;
	ref = malloc(f.fmt.pix.sizeimage);
	if (!tap_ok(ref && !vivid_ref_frame(v, ref, f.fmt.pix.sizeimage),
		    "a reference frame in vivid's own buffer (MMAP)"))
		goto out;
	tap_ok(!co_all_bytes(ref, f.fmt.pix.sizeimage, ref[0]),
	       "the frame is a picture, not one byte value");
	vivid_dmabuf(fd, v, ref, f.fmt.pix.sizeimage);
out:
	free(ref);
	close(v);
}

/* -- VFIO: a userspace driver for edu ------------------------------------ */

#define VFIO_IOVA	0x100000ULL	/* below edu's 28-bit DMA reach */
#define VFIO_LEN	(64UL << 10)
#define EDU_LEN		2048		/* see CO_EDU_BUF_SIZE */

struct vfio {
	int container, group, dev;
	uint64_t bar0, cfg;
};

static int edu_wr(struct vfio *vf, uint64_t reg, uint64_t val)
{
	return pwrite(vf->dev, &val, 8, vf->bar0 + reg) == 8 ? 0 : -1;
}

/* One edu DMA transfer; waits for it (edu takes ~100 ms virtual time). */
static int edu_dma(struct vfio *vf, uint64_t src, uint64_t dst, uint64_t cmd)
{
	uint64_t v = EDU_CMD_RUN;
	int i;

	if (edu_wr(vf, EDU_REG_SRC, src) || edu_wr(vf, EDU_REG_DST, dst) ||
	    edu_wr(vf, EDU_REG_CNT, EDU_LEN) || edu_wr(vf, EDU_REG_CMD, cmd))
		return -1;
	for (i = 0; i < 1000 && (v & EDU_CMD_RUN); i++) {
		usleep(10000);
		if (pread(vf->dev, &v, 8, vf->bar0 + EDU_REG_CMD) != 8)
			return -1;
	}
	return v & EDU_CMD_RUN ? -1 : 0;
}

static int vfio_region(struct vfio *vf, uint32_t index, uint64_t *off)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(vf->dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -1;
	*off = ri.offset;
	return 0;
}

/* Container, group, type1 IOMMU, the device and its regions. */
static const char *vfio_open(struct vfio *vf, const char *group)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[64];
	uint16_t cmd;

	vf->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (vf->container < 0)
		return "no /dev/vfio/vfio (CONFIG_VFIO_CONTAINER)";
	if (ioctl(vf->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(vf->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1)
		return "no VFIO type1v2 IOMMU (vfio_iommu_type1)";
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	vf->group = open(path, O_RDWR | O_CLOEXEC);
	if (vf->group < 0 || ioctl(vf->group, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		return "edu's IOMMU group is not viable";
	if (ioctl(vf->group, VFIO_GROUP_SET_CONTAINER, &vf->container) ||
	    ioctl(vf->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return "cannot set up the container";
	vf->dev = ioctl(vf->group, VFIO_GROUP_GET_DEVICE_FD, CO_EDU_PCI);
	if (vf->dev < 0 ||
	    vfio_region(vf, VFIO_PCI_BAR0_REGION_INDEX, &vf->bar0) ||
	    vfio_region(vf, VFIO_PCI_CONFIG_REGION_INDEX, &vf->cfg))
		return "cannot get edu's device or regions";
	/* Bus mastering on. */
	if (pread(vf->dev, &cmd, 2, vf->cfg + 4) != 2)
		return "cannot read edu's command register";
	cmd |= 0x4;
	if (pwrite(vf->dev, &cmd, 2, vf->cfg + 4) != 2)
		return "cannot enable bus mastering";
	return NULL;
}

static void vfio_close(struct vfio *vf)
{
	if (vf->dev >= 0)
		close(vf->dev);
	if (vf->group >= 0)
		close(vf->group);
	if (vf->container >= 0)
		close(vf->container);
	vf->dev = vf->group = vf->container = -1;
}

/* edu copies bytes out of the buffer, then back into another part of it. */
static void vfio_dma(struct vfio *vf, unsigned char *p)
{
	uint32_t id = 0;
	int ret;

	ret = pread(vf->dev, &id, 4, vf->bar0 + EDU_REG_ID);
	tap_ok(ret == 4 && (id & 0xff) == 0xed,
	       "edu's ID register through VFIO (%#x)", id);
	pat_fill(p, EDU_LEN, 11);
	memset(p + 8192, 0x77, 3 * EDU_LEN);
	ret = edu_dma(vf, VFIO_IOVA, CO_EDU_BUF_ADDR, EDU_CMD_RUN);
	tap_ok(ret == 0, "edu reads the buffer (DMA to the device)");
	ret = edu_dma(vf, CO_EDU_BUF_ADDR, VFIO_IOVA + 8192 + EDU_LEN,
		      EDU_CMD_RUN | EDU_CMD_TO_RAM);
	tap_ok(ret == 0 && pat_wrong(p + 8192 + EDU_LEN, EDU_LEN, 11) == 0,
	       "edu writes them back into it (DMA from the device): %zu bytes wrong",
	       pat_wrong(p + 8192 + EDU_LEN, EDU_LEN, 11));
	tap_ok(co_all_bytes(p + 8192, EDU_LEN, 0x77) &&
	       co_all_bytes(p + 8192 + 2 * EDU_LEN, EDU_LEN, 0x77),
	       "and nothing around them");
}

/* With the buffer mapped for edu by VFIO: DMA, then FREE while pinned. */
static void vfio_buffer(int fd, struct vfio *vf)
{
	struct vfio_iommu_type1_dma_map dm = { .argsz = sizeof(dm) };
	struct vfio_iommu_type1_dma_unmap du = { .argsz = sizeof(du) };
	uint64_t base = co_free_bytes(fd, node0), now;
	struct carveout_alloc a;
	unsigned char *p = NULL;
	size_t len = 0;
	double took;
	int ret;

	if (!tap_ok(co_alloc(fd, VFIO_LEN, CARVEOUT_POLICY_STRICT, node0,
			     CARVEOUT_ALLOC_PAGES, &a) == 0 &&
		    (p = co_map_span(fd, &a, &len)), "a 64 KiB buffer, mapped"))
		return;
	dm.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	dm.vaddr = (uintptr_t)p;
	dm.iova = VFIO_IOVA;
	dm.size = VFIO_LEN;
	ret = ioctl(vf->container, VFIO_IOMMU_MAP_DMA, &dm);
	if (!tap_ok(ret == 0, "VFIO_IOMMU_MAP_DMA of the mapping at IOVA %#llx (%s)",
		    VFIO_IOVA, ret ? strerror(errno) : "ok")) {
		munmap(p, len);
		co_free(fd, a.handle);
		return;
	}
	vfio_dma(vf, p);
	munmap(p, len);
	co_free(fd, a.handle);
	now = co_free_bytes(fd, node0);
	tap_ok(now < base, "VFIO's pin holds the memory after FREE (%llu of %llu free)",
	       (unsigned long long)now, (unsigned long long)base);
	du.iova = VFIO_IOVA;
	du.size = VFIO_LEN;
	ret = ioctl(vf->container, VFIO_IOMMU_UNMAP_DMA, &du);
	now = co_wait_free(fd, node0, base, 5, &took);
	tap_ok(ret == 0 && now == base,
	       "VFIO_IOMMU_UNMAP_DMA gives it back (%llu of %llu free)",
	       (unsigned long long)now, (unsigned long long)base);
}

/* Binds edu to @drv ("" unbinds it and clears the override). */
static int edu_bind(const char *drv)
{
	const char *cur = pci_driver(CO_EDU_PCI);
	char path[128];

	if (*cur) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", cur);
		if (write_str(path, CO_EDU_PCI))
			return -1;
	}
	if (write_str("/sys/bus/pci/devices/" CO_EDU_PCI "/driver_override",
		      *drv ? drv : "\n"))
		return -1;
	if (!*drv)
		return 0;
	write_str("/sys/bus/pci/drivers_probe", CO_EDU_PCI);
	return strcmp(pci_driver(CO_EDU_PCI), drv) ? -1 : 0;
}

static void vfio_run(int fd, const char *group)
{
	struct vfio vf = { .container = -1, .group = -1, .dev = -1 };
	const char *why;

	if (!tap_ok(edu_bind("vfio-pci") == 0, "edu bound to vfio-pci"))
		return;
	why = vfio_open(&vf, group);
	if (why && vf.container < 0)
		tap_skip(why, "VFIO userspace driver");
	else if (tap_ok(!why, "VFIO container, group %s, type1v2 IOMMU, edu's regions (%s)",
			group, why ? why : "ok"))
		vfio_buffer(fd, &vf);
	vfio_close(&vf);
}

static void test_vfio(int fd)
{
	char link[PATH_MAX], group[32];
	int unloaded;
	ssize_t n;

	tap_diag("VFIO: edu driven from userspace through vfio-pci");
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK)) {
		tap_skip("no vfio-pci driver (CONFIG_VFIO_PCI)",
			 "VFIO userspace driver");
		return;
	}
	n = readlink("/sys/bus/pci/devices/" CO_EDU_PCI "/iommu_group", link,
		     sizeof(link) - 1);
	if (n <= 0) {
		tap_skip("edu has no IOMMU group (no translating IOMMU)",
			 "VFIO userspace driver");
		return;
	}
	link[n] = 0;
	snprintf(group, sizeof(group), "%s", strrchr(link, '/') + 1);
	unloaded = co_edu_unload();
	if (!tap_ok(unloaded >= 0, "carveout_edu out of the way (%s)",
		    unloaded < 0 ? strerror(errno) : "ok"))
		return;
	vfio_run(fd, group);
	tap_ok(edu_bind("") == 0 && (unloaded == 0 || co_edu_load() == 0) &&
	       (unloaded == 0 || !strcmp(pci_driver(CO_EDU_PCI), "carveout_edu")),
	       "edu back with carveout_edu (bound to '%s')",
	       pci_driver(CO_EDU_PCI));
}

/* -- main ----------------------------------------------------------------- */

int main(void)
{
	struct carveout_node_info nodes[16];
	int fd, nr;

	tap_plan_begin("carveout buffers in the kernel's subsystems and VFIO");
	if (getuid() != 0)
		tap_bail("must run as root");
	fd = co_open();
	if (fd < 0)
		tap_bail("cannot open %s: %s", CO_DEV, strerror(errno));
	nr = co_nodes(fd, nodes, 16);
	if (nr < 1)
		tap_bail("no carveout region");
	node0 = nodes[0].node;
	test_sync_attached(fd);
	test_vgem(fd);
	test_disk(fd);
	test_vivid(fd);
	test_vfio(fd);
	co_check_all_free(fd, nodes, nr);
	close(fd);
	return tap_finish();
}
