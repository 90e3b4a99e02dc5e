// SPDX-License-Identifier: GPL-2.0
/*
 * Who may MAP which device, with QEMU's edu behind intel-iommu:
 *  (a) an unprivileged caller maps edu while carveout_edu, which opted in,
 *      is bound; with carveout_edu bound without the opt-in (map_optin=0),
 *      edu is a device another driver owns: EPERM, while root still maps;
 *  (b) the map_allow parameter (root only) admits edu and, emptied,
 *      takes the mapping it permitted away again;
 *  (c) unbinding edu's driver through sysfs removes the live mappings
 *      (debugfs shows none, UNMAP and SYNC say ENOENT); with no driver
 *      bound an unprivileged caller may map edu; a driver binding removes
 *      that mapping too; after rebinding MAP works again;
 *  (d) bound to uio_pci_generic or vfio-pci (when the kernel has them),
 *      edu is mappable by an unprivileged caller;
 *  (e) a buffer takes CARVEOUT_MAP_MAX_TO_DEVICE DMA_TO_DEVICE mappings,
 *      the next one fails with ENOSPC;
 *  (f) with edu's IOMMU group switched to an identity domain (no
 *      translation: MAP's address would be the physical one), an
 *      unprivileged caller gets EPERM even with no driver bound; root and
 *      a map_allow entry still pass the check;
 *  (g) removing edu from the bus (sysfs remove) with a mapping made while
 *      no driver was bound removes the mapping; a rescan brings edu back.
 * The unprivileged caller is this process with uid 1000 as real and
 * effective id (no capabilities), using a /dev/carveout file root opened.
 * A PCI device another driver in the VM is bound to gets EPERM too, when
 * there is one (stock kernels have q35's drivers as modules, unloaded).
 * edu is left bound to carveout_edu with the opt-in, as the runner had it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/carveout.h>
#include <carveout/libcarveout.h>

#include "co_test.h"
#include "tap.h"

#define TESTER		1000
#define EDU_SYSFS	"/sys/bus/pci/devices/" CO_EDU_PCI
#define EDU_DRV		"carveout_edu"
#define UIO_DRV		"uio_pci_generic"
#define PARAM_ALLOW	"/sys/module/carveout/parameters/map_allow"
#define PARAM_OPTIN	"/sys/module/carveout_edu/parameters/map_optin"
#define DEBUGFS_BUFS	"/sys/kernel/debug/carveout/buffers"
#define GROUP_TYPE	EDU_SYSFS "/iommu_group/type"

static int fd;
static char saved_type[32];
static int type_changed;

/* -- sysfs ------------------------------------------------------------------ */

static int write_str(const char *path, const char *s)
{
	int f = open(path, O_WRONLY | O_CLOEXEC), ret, err;
	size_t len = strlen(s);

	if (f < 0)
		return -1;
	ret = write(f, s, len) == (ssize_t)len ? 0 : -1;
	err = errno;
	close(f);
	errno = err;
	return ret;
}

/* Reads the first line of @path without its newline; -1 on error. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (!ok) {
		buf[0] = 0;
		return 0;
	}
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The driver bound to edu, "" for none. */
static const char *edu_driver(void)
{
	static char name[PATH_MAX];
	char link[PATH_MAX];
	ssize_t n = readlink(EDU_SYSFS "/driver", link, sizeof(link) - 1);
	const char *slash;

	if (n < 0)
		return "";
	link[n] = 0;
	slash = strrchr(link, '/');
	snprintf(name, sizeof(name), "%s", slash ? slash + 1 : link);
	return name;
}

static int edu_unbind(void)
{
	if (!edu_driver()[0])
		return 0;
	return write_str(EDU_SYSFS "/driver/unbind", CO_EDU_PCI);
}

static int edu_bind(const char *drv)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", drv);
	if (write_str(path, CO_EDU_PCI))
		return -1;
	return strcmp(edu_driver(), drv) ? -1 : 0;
}

static int edu_rebind(void)
{
	return edu_unbind() || edu_bind(EDU_DRV) ? -1 : 0;
}

/* Puts edu back as the runner had it; also the exit handler. */
static void restore(void)
{
	int i;

	/* (g) may have left edu removed from the bus. */
	if (access(EDU_SYSFS, F_OK)) {
		write_str("/sys/bus/pci/rescan", "1");
		for (i = 0; i < 100 && access(EDU_SYSFS "/driver", F_OK); i++)
			usleep(50000);
	}
	write_str(PARAM_ALLOW, "\n");
	write_str(PARAM_OPTIN, "1");
	if (strcmp(edu_driver(), EDU_DRV) || type_changed) {
		edu_unbind();
		write_str(EDU_SYSFS "/driver_override", "\n");
		if (type_changed && write_str(GROUP_TYPE, saved_type) == 0)
			type_changed = 0;
		edu_bind(EDU_DRV);
	}
}

/* -- callers ------------------------------------------------------------------ */

/* Real and effective ids @uid, root kept as the saved id to come back. */
static int become(uid_t uid)
{
	if (!uid)
		return setresuid(0, 0, 0) || setresgid(0, 0, 0) ? -1 : 0;
	return setresgid(uid, uid, 0) || setresuid(uid, uid, 0) ? -1 : 0;
}

static int map_as(uid_t uid, uint32_t handle, uint32_t dir,
		  struct carveout_map *m)
{
	int ret, err;

	if (become(uid))
		tap_bail("cannot switch to uid %u: %s", uid, strerror(errno));
	ret = co_map(fd, handle, CO_EDU_PCI, dir, m);
	err = errno;
	if (become(0))
		tap_bail("cannot switch back to root: %s", strerror(errno));
	errno = err;
	return ret;
}

static int unmap_as(uid_t uid, uint32_t handle, uint64_t addr)
{
	int ret, err;

	if (become(uid))
		tap_bail("cannot switch to uid %u: %s", uid, strerror(errno));
	ret = co_unmap(fd, handle, CO_EDU_PCI, addr);
	err = errno;
	if (become(0))
		tap_bail("cannot switch back to root: %s", strerror(errno));
	errno = err;
	return ret;
}

static int sync_cpu(uint32_t handle, uint32_t dir, uint64_t addr)
{
	struct carveout_sync s;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = CARVEOUT_SYNC_FOR_CPU;
	s.handle = handle;
	s.direction = dir;
	s.dma_addr = addr;
	return ioctl(fd, CARVEOUT_IOC_SYNC, &s);
}

static uint32_t alloc_buf(uint64_t len, struct carveout_alloc *a)
{
	if (co_alloc_simple(fd, len, a))
		tap_bail("cannot allocate %llu bytes: %s",
			 (unsigned long long)len, strerror(errno));
	return a->handle;
}

/*
 * edu mappings debugfs lists for this process's buffer @handle, -1 when
 * debugfs cannot be read.
 */
static int debugfs_maps(uint32_t handle)
{
	FILE *f = fopen(DEBUGFS_BUFS, "r");
	char line[4096];
	unsigned int h;
	const char *p;
	int pid, n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %*d %*s %*s %*s %*s %d", &h, &pid) != 2 ||
		    h != handle || pid != getpid())
			continue;
		for (p = line; (p = strstr(p, CO_EDU_PCI "@")); p++)
			n++;
	}
	fclose(f);
	return n;
}

/* -- (a), (b) ------------------------------------------------------------------- */

static void test_optin(void)
{
	struct carveout_alloc a;
	struct carveout_map m;
	uint32_t h = alloc_buf(64 << 10, &a);
	int ret;

	tap_diag("(a) edu bound to carveout_edu, which opted in");
	ret = map_as(TESTER, h, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	tap_ok(ret == 0, "uid %d maps edu (%s)", TESTER,
	       ret ? strerror(errno) : "ok");
	if (ret == 0)
		tap_ok(unmap_as(TESTER, h, m.dma_addr) == 0, "uid %d unmaps it",
		       TESTER);
	co_free(fd, h);
}

static void test_allow_list(uint32_t h)
{
	char val[256];
	struct carveout_map m;
	int ret, err;

	tap_diag("(b) map_allow");
	if (become(TESTER))
		tap_bail("cannot switch to uid %d: %s", TESTER, strerror(errno));
	ret = write_str(PARAM_ALLOW, CO_EDU_PCI);
	err = errno;
	if (become(0))
		tap_bail("cannot switch back to root: %s", strerror(errno));
	tap_ok(ret == -1 && (err == EACCES || err == EPERM),
	       "uid %d cannot write map_allow (%s)", TESTER,
	       ret ? strerror(err) : "it could");
	ret = write_str(PARAM_ALLOW, CO_EDU_PCI "\n");
	tap_ok(ret == 0 && read_line(PARAM_ALLOW, val, sizeof(val)) == 0 &&
	       !strcmp(val, CO_EDU_PCI), "root lists edu in map_allow (reads \"%s\")",
	       ret ? strerror(errno) : val);
	ret = map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m);
	tap_ok(ret == 0, "uid %d maps edu, listed (%s)", TESTER,
	       ret ? strerror(errno) : "ok");
	tap_ok(debugfs_maps(h) == 1, "debugfs lists the mapping");
	ret = write_str(PARAM_ALLOW, "\n");
	tap_ok(ret == 0 && read_line(PARAM_ALLOW, val, sizeof(val)) == 0 &&
	       !val[0], "root empties map_allow");
	tap_ok(debugfs_maps(h) == 0,
	       "the mapping map_allow permitted is gone from debugfs");
	tap_errno(unmap_as(TESTER, h, m.dma_addr), ENOENT,
		  "UNMAP of the mapping map_allow permitted");
	tap_errno(map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m), EPERM,
		  "edu no longer listed: MAP by uid 1000");
	tap_errno(write_str(PARAM_ALLOW, "platform:"), EINVAL,
		  "map_allow refuses a name MAP could not take");
}

static void test_other_driver(void)
{
	struct carveout_alloc a;
	struct carveout_map m;
	const char *t;
	uint32_t h;
	int ret;

	tap_diag("(a) edu bound to carveout_edu without the opt-in: another driver's device");
	if (!tap_ok(write_str(PARAM_OPTIN, "0") == 0 && edu_rebind() == 0 &&
		    !strcmp(edu_driver(), EDU_DRV),
		    "carveout_edu rebound with map_optin=0 (%s)", edu_driver()))
		return;
	h = alloc_buf(16 << 10, &a);
	tap_errno(map_as(TESTER, h, CARVEOUT_DMA_BIDIRECTIONAL, &m), EPERM,
		  "MAP by uid 1000 of a device bound to a driver that did not opt in");
	tap_errno(map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m), EPERM,
		  "... also for DMA_TO_DEVICE");
	t = carveout_strerror_op(EPERM, CARVEOUT_OP_MAP);
	tap_ok(strstr(t, "map_allow") != NULL,
	       "libcarveout explains EPERM of MAP: \"%s\"", t);
	ret = map_as(0, h, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	tap_ok(ret == 0, "root (CAP_SYS_ADMIN) still maps it (%s)",
	       ret ? strerror(errno) : "ok");
	if (ret == 0)
		tap_ok(co_unmap(fd, h, CO_EDU_PCI, m.dma_addr) == 0, "root unmaps it");
	test_allow_list(h);
	co_free(fd, h);
	tap_ok(write_str(PARAM_OPTIN, "1") == 0 && edu_rebind() == 0,
	       "carveout_edu rebound with the opt-in");
}

/* -- (c) ------------------------------------------------------------------------- */

static void test_unbind(void)
{
	struct carveout_alloc a1, a2;
	struct carveout_map m1, m2, m3;
	uint32_t h1 = alloc_buf(64 << 10, &a1), h2 = alloc_buf(4096, &a2);
	int r1, r2;

	tap_diag("(c) unbinding edu's driver with live mappings");
	r1 = map_as(TESTER, h1, CARVEOUT_DMA_BIDIRECTIONAL, &m1);
	r2 = map_as(0, h2, CARVEOUT_DMA_TO_DEVICE, &m2);
	if (!tap_ok(r1 == 0 && r2 == 0, "uid %d and root map edu", TESTER))
		goto out;
	tap_ok(debugfs_maps(h1) == 1 && debugfs_maps(h2) == 1,
	       "debugfs lists both mappings");
	tap_ok(sync_cpu(h1, CARVEOUT_DMA_BIDIRECTIONAL, m1.dma_addr) == 0,
	       "SYNC works before the unbind");
	r1 = edu_unbind();
	if (!tap_ok(r1 == 0 && !edu_driver()[0], "unbind carveout_edu through sysfs (%s)",
		    r1 ? strerror(errno) : "ok"))
		goto out;
	tap_ok(debugfs_maps(h1) == 0 && debugfs_maps(h2) == 0,
	       "debugfs lists no mapping any more");
	tap_errno(sync_cpu(h1, CARVEOUT_DMA_BIDIRECTIONAL, m1.dma_addr), ENOENT,
		  "SYNC of the removed mapping");
	tap_errno(unmap_as(TESTER, h1, m1.dma_addr), ENOENT,
		  "UNMAP of uid 1000's mapping after the unbind");
	tap_errno(co_unmap(fd, h2, CO_EDU_PCI, m2.dma_addr), ENOENT,
		  "UNMAP of root's mapping after the unbind");

	r1 = map_as(TESTER, h1, CARVEOUT_DMA_BIDIRECTIONAL, &m3);
	tap_ok(r1 == 0, "no driver bound: uid %d maps edu (%s)", TESTER,
	       r1 ? strerror(errno) : "ok");
	tap_ok(edu_bind(EDU_DRV) == 0, "bind carveout_edu again");
	if (r1 == 0) {
		tap_ok(debugfs_maps(h1) == 0,
		       "a driver binding removed the mapping made while unbound");
		tap_errno(unmap_as(TESTER, h1, m3.dma_addr), ENOENT,
			  "UNMAP of that mapping");
	}
	r1 = map_as(TESTER, h1, CARVEOUT_DMA_BIDIRECTIONAL, &m1);
	tap_ok(r1 == 0 && unmap_as(TESTER, h1, m1.dma_addr) == 0,
	       "after rebinding uid %d maps and unmaps edu again", TESTER);
out:
	co_free(fd, h1);
	co_free(fd, h2);
}

/* -- (d) ------------------------------------------------------------------------- */

static void test_userdrv(const char *drv)
{
	struct carveout_alloc a;
	struct carveout_map m;
	char path[256];
	struct stat st;
	uint32_t h;
	int ret;

	tap_diag("(d) edu bound to %s", drv);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", drv);
	if (stat(path, &st)) {
		tap_skip("driver not in this kernel", "uid %d maps a device bound to %s",
			 TESTER, drv);
		return;
	}
	if (edu_unbind() || write_str(EDU_SYSFS "/driver_override", drv) ||
	    edu_bind(drv)) {
		tap_ok(0, "bind edu to %s (%s, bound to \"%s\")", drv,
		       strerror(errno), edu_driver());
		restore();
		return;
	}
	h = alloc_buf(4096, &a);
	ret = map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m);
	tap_ok(ret == 0, "uid %d maps edu bound to %s (%s)", TESTER, drv,
	       ret ? strerror(errno) : "ok");
	tap_ok(edu_unbind() == 0 && debugfs_maps(h) == 0,
	       "unbinding %s removed the mapping", drv);
	co_free(fd, h);
	tap_ok(write_str(EDU_SYSFS "/driver_override", "\n") == 0 &&
	       edu_bind(EDU_DRV) == 0, "edu back to carveout_edu");
}

/* Copies @src into @dst of @len bytes, cut short if need be. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/*
 * A PCI device some other driver is bound to, if the VM has one (stock
 * kernels load no driver for q35's devices: they are modules).
 */
static int other_bound_device(char *name, size_t len, char *drv, size_t dlen)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *e;
	const char *base;
	ssize_t n;
	int found = 0;

	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		if (!strcmp(base, EDU_DRV) || !strcmp(base, UIO_DRV) ||
		    !strcmp(base, "vfio-pci"))
			continue;
		copy_str(name, len, e->d_name);
		copy_str(drv, dlen, base);
		found = 1;
	}
	if (d)
		closedir(d);
	return found;
}

static void test_other_bound(void)
{
	char name[32], drv[64];
	struct carveout_alloc a;
	struct carveout_map m;
	uint32_t h;
	int ret, err;

	tap_diag("(a) a device another driver in the VM is bound to");
	if (!other_bound_device(name, sizeof(name), drv, sizeof(drv))) {
		tap_skip("no PCI device bound to another driver in this VM",
			 "MAP by uid %d of another driver's device", TESTER);
		return;
	}
	h = alloc_buf(4096, &a);
	if (become(TESTER))
		tap_bail("cannot switch to uid %d: %s", TESTER, strerror(errno));
	ret = co_map(fd, h, name, CARVEOUT_DMA_TO_DEVICE, &m);
	err = errno;
	if (become(0))
		tap_bail("cannot switch back to root: %s", strerror(errno));
	tap_ok(ret == -1 && err == EPERM, "MAP by uid %d of %s, bound to %s: EPERM (%s)",
	       TESTER, name, drv, ret ? strerror(err) : "it mapped");
	co_free(fd, h);
}

/* -- (g) ------------------------------------------------------------------------- */

/* Waits up to about 5 s for edu to be bound to carveout_edu again. */
static int edu_wait_bound(void)
{
	int i;

	for (i = 0; i < 100 && strcmp(edu_driver(), EDU_DRV); i++)
		usleep(50000);
	return strcmp(edu_driver(), EDU_DRV) ? -1 : 0;
}

static void test_remove(void)
{
	struct carveout_alloc a;
	struct carveout_map m;
	uint32_t h;
	int ret;

	tap_diag("(g) removing edu from the PCI bus with a live mapping");
	h = alloc_buf(16 << 10, &a);
	if (!tap_ok(edu_unbind() == 0, "unbind carveout_edu"))
		goto out;
	ret = map_as(TESTER, h, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	if (!tap_ok(ret == 0 && debugfs_maps(h) == 1,
		    "no driver bound: uid %d maps edu (%s)", TESTER,
		    ret ? strerror(errno) : "ok"))
		goto out;
	ret = write_str(EDU_SYSFS "/remove", "1");
	if (!tap_ok(ret == 0, "remove edu through sysfs (%s)",
		    ret ? strerror(errno) : "ok"))
		goto out;
	tap_ok(debugfs_maps(h) == 0, "the mapping went with the device");
	tap_errno(unmap_as(TESTER, h, m.dma_addr), ENODEV,
		  "UNMAP once the device is gone");
	tap_ok(write_str("/sys/bus/pci/rescan", "1") == 0 && edu_wait_bound() == 0,
	       "rescan: edu is back, bound to carveout_edu");
	ret = map_as(TESTER, h, CARVEOUT_DMA_BIDIRECTIONAL, &m);
	tap_ok(ret == 0 && unmap_as(TESTER, h, m.dma_addr) == 0,
	       "uid %d maps and unmaps the new edu", TESTER);
out:
	co_free(fd, h);
	restore();
}

/* -- (e) ------------------------------------------------------------------------- */

static void test_to_device_cap(void)
{
	struct carveout_map m[CARVEOUT_MAP_MAX_TO_DEVICE], x;
	struct carveout_alloc a;
	uint32_t h = alloc_buf(4096, &a);
	int i, ok = 1, ret;

	tap_diag("(e) at most %d DMA_TO_DEVICE mappings per buffer",
		 CARVEOUT_MAP_MAX_TO_DEVICE);
	for (i = 0; i < CARVEOUT_MAP_MAX_TO_DEVICE; i++)
		if (map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m[i])) {
			tap_diag("mapping %d: %s", i, strerror(errno));
			ok = 0;
			break;
		}
	tap_ok(ok, "%d DMA_TO_DEVICE mappings of one buffer",
	       CARVEOUT_MAP_MAX_TO_DEVICE);
	tap_errno(map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &x), ENOSPC,
		  "one more by uid 1000");
	tap_errno(map_as(0, h, CARVEOUT_DMA_TO_DEVICE, &x), ENOSPC,
		  "one more by root");
	ret = map_as(TESTER, h, CARVEOUT_DMA_FROM_DEVICE, &x);
	tap_ok(ret == 0, "the one mapping the device may write is not counted (%s)",
	       ret ? strerror(errno) : "ok");
	if (ok) {
		ret = unmap_as(TESTER, h, m[0].dma_addr);
		tap_ok(ret == 0 && map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m[0]) == 0,
		       "after one UNMAP another DMA_TO_DEVICE mapping fits");
	}
	tap_ok(co_free(fd, h) == 0 && debugfs_maps(h) == 0,
	       "FREE removes all of them");
}

/* -- (f) ------------------------------------------------------------------------- */

static void untranslated_checks(uint32_t h, uint64_t phys)
{
	struct carveout_map m;
	int ret;

	tap_errno(map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m), EPERM,
		  "untranslated, no driver bound: MAP by uid 1000");
	ret = map_as(0, h, CARVEOUT_DMA_TO_DEVICE, &m);
	tap_ok(ret == 0 || errno == ERANGE,
	       "root passes the check (%s: ERANGE is edu's 28-bit mask)",
	       ret ? strerror(errno) : "mapped");
	if (ret == 0) {
		tap_ok(m.dma_addr == phys, "root's dma_addr %#llx is the physical address",
		       (unsigned long long)m.dma_addr);
		co_unmap(fd, h, CO_EDU_PCI, m.dma_addr);
	}
	if (!tap_ok(write_str(PARAM_ALLOW, CO_EDU_PCI) == 0, "root lists edu in map_allow"))
		return;
	ret = map_as(TESTER, h, CARVEOUT_DMA_TO_DEVICE, &m);
	tap_ok(ret == 0 || errno == ERANGE,
	       "listed: uid %d passes the check (%s)", TESTER,
	       ret ? strerror(errno) : "mapped");
	if (ret == 0)
		tap_ok(m.dma_addr == phys,
		       "the admin's grant shows uid %d the physical address", TESTER);
	write_str(PARAM_ALLOW, "\n");
}

static void test_untranslated(void)
{
	struct carveout_alloc a;
	char now[32];
	uint32_t h;

	tap_diag("(f) edu without translation (identity domain)");
	if (read_line(GROUP_TYPE, saved_type, sizeof(saved_type)) || !saved_type[0]) {
		tap_skip("no iommu_group/type for edu",
			 "uid %d cannot map an untranslated device", TESTER);
		return;
	}
	tap_diag("edu's IOMMU domain: %s", saved_type);
	if (edu_unbind() || write_str(GROUP_TYPE, "identity")) {
		tap_skip("no identity domain for edu (KUnit carveout_access covers the rule)",
			 "uid %d cannot map an untranslated device (%s)", TESTER,
			 strerror(errno));
		restore();
		return;
	}
	type_changed = 1;
	tap_ok(read_line(GROUP_TYPE, now, sizeof(now)) == 0 && !strcmp(now, "identity"),
	       "edu's group now has an identity domain (%s)", now);
	h = alloc_buf(4096, &a);
	untranslated_checks(h, a.phys_addr);
	co_free(fd, h);
	tap_ok(write_str(GROUP_TYPE, saved_type) == 0, "edu's domain back to %s",
	       saved_type);
	type_changed = 0;
	tap_ok(edu_bind(EDU_DRV) == 0, "edu back to carveout_edu");
}

int main(void)
{
	char vendor[16] = "", device[16] = "";

	tap_plan_begin("carveout: who may MAP which device");
	if (read_line(EDU_SYSFS "/vendor", vendor, sizeof(vendor)) ||
	    read_line(EDU_SYSFS "/device", device, sizeof(device)) ||
	    strcmp(vendor, "0x1234") || strcmp(device, "0x11e8"))
		tap_bail("no edu at %s: the VM must have QEMU's edu device", CO_EDU_PCI);
	if (strcmp(edu_driver(), EDU_DRV))
		tap_bail("edu is bound to \"%s\", not %s", edu_driver(), EDU_DRV);
	if (access(DEBUGFS_BUFS, R_OK))
		tap_bail("no %s: debugfs must be mounted", DEBUGFS_BUFS);
	fd = co_open();
	if (fd < 0)
		tap_bail("cannot open %s: %s", CO_DEV, strerror(errno));
	atexit(restore);

	test_optin();
	test_to_device_cap();
	test_other_driver();
	test_unbind();
	test_other_bound();
	test_userdrv(UIO_DRV);
	test_userdrv("vfio-pci");
	test_untranslated();
	test_remove();

	restore();
	tap_ok(!strcmp(edu_driver(), EDU_DRV) && !type_changed,
	       "edu is bound to carveout_edu again");
	close(fd);
	return tap_finish();
}
