// SPDX-License-Identifier: GPL-2.0
/*
 * Limits, and what they count, as a user meets them.
 *
 * - Sub-page buffers are charged the pages of their file's slabs, not
 *   their own bytes: one 64-byte buffer is a page charged; 64 of them fill
 *   the page (and a one-page file limit: the 65th gets EDQUOT); after
 *   freeing 63 the last one still pins (and is charged) the page; a
 *   64-byte buffer does not fit a 4095-byte file limit.
 * - INFO reports what applies to the caller (CARVEOUT_CAP_LIMITS): the
 *   effective per-user limit, the reserve, the handle and mapping caps and
 *   what the file holds against them, whether the file is privileged.
 * - The reserve: uid 1000 fills node 0 and stops at the reserve (ENOMEM,
 *   by pages or by a slab), falls over to another node with PREFERRED;
 *   root still allocates from the reserve.
 * - The default share: with user_limit 0, uid 1000 is held to
 *   user_share percent of the regions (EDQUOT), root is not.
 * - max_handles: ALLOC of handle max + 1 fails with EMFILE; failed ALLOCs
 *   count nothing; each file has its own count.
 * - max_maps: MAP past the cap fails with EMFILE (edu device).
 * - Memory cgroups: a process in a cgroup with the memory controller that
 *   allocates N small buffers sees memory.current grow by at least N times
 *   128 bytes (the buffer objects carveout allocates for it), and shrink
 *   again when it closes the file.
 *
 * Runs as root in the test VM: it gives /dev/carveout to group 1000 (mode
 * 0660) while it runs, sets the limit parameters it needs and restores
 * them and the device's owner and mode at the end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "co_owner.h"
#include "co_test.h"
#include "tap.h"

#define PG		4096UL
#define MIB		(1UL << 20)
#define TESTER		CO_TESTER
#define CG_ROOT		"/sys/fs/cgroup"
#define CG_TEST		CG_ROOT "/carveout-test"
#define CG_BUFS		16384	/* buffers the cgroup's process allocates */
#define CG_MIN_META	128	/* bytes of kernel memory per buffer, at least */

static const char *const params[] = {
	"file_limit", "user_limit", "user_share", "reserve", "max_handles",
	"max_maps",
};
static unsigned long saved[sizeof(params) / sizeof(params[0])];
static struct carveout_node_info nodes[16];
static int nr_nodes;
static uint32_t node0;
static uint64_t total_bytes;

/* -- helpers ------------------------------------------------------------- */

static int info_of(int fd, struct carveout_info *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	return ioctl(fd, CARVEOUT_IOC_INFO, in);
}

static uint64_t file_bytes(int fd)
{
	struct carveout_info in;

	return info_of(fd, &in) ? ~0ULL : in.file_bytes;
}

static uint64_t user_bytes(int fd)
{
	struct carveout_info in;

	return info_of(fd, &in) ? ~0ULL : in.user_bytes;
}

/* @pct percent of @bytes in whole pages, as the module computes shares. */
static uint64_t pct_of(uint64_t bytes, unsigned long pct)
{
	return bytes * pct / 100 & ~(PG - 1);
}

/* ALLOC as @uid (the file was opened by it); 0 or -1 with errno. */
static int alloc_as(uid_t uid, int fd, uint64_t len, uint32_t policy,
		    int node, uint32_t flags, struct carveout_alloc *a)
{
	int ret, err;

	co_become(uid);
	ret = co_alloc(fd, len, policy, node, flags, a);
	err = errno;
	co_become(0);
	errno = err;
	return ret;
}

/* -- sub-page buffers charge their slab's pages --------------------------- */

static void test_slab_pages(void)
{
	static struct carveout_alloc a[PG / 64];
	unsigned int i, n = PG / 64, got = 0;
	struct carveout_alloc extra;
	int fd = co_open(), fd2 = co_open();
	uint64_t u0 = user_bytes(fd), first = 0;

	tap_diag("sub-page buffers are charged the pages of their slabs");
	/*
	 * One page's worth of objects fits a one-page file limit, even if
	 * this task moves between CPUs and leaves objects in a magazine: a
	 * refused grow pulls them back.
	 */
	co_set_param("file_limit", PG);
	for (i = 0; i < n; i++) {
		if (co_alloc(fd, 64, CARVEOUT_POLICY_STRICT, node0, 0, &a[i]))
			break;
		got++;
		if (!i)
			first = file_bytes(fd);
	}
	tap_ok(got == n && a[0].granted == 64,
	       "%u buffers of 64 bytes fit a one-page file limit (%u allocated)",
	       n, got);
	tap_errno(co_alloc(fd, 64, CARVEOUT_POLICY_STRICT, node0, 0, &extra),
		  EDQUOT, "the next one needs a second page");
	co_set_param("file_limit", 0);
	tap_ok(first == PG,
	       "one 64-byte buffer: the file is charged its slab's page (%llu)",
	       (unsigned long long)first);
	tap_ok(file_bytes(fd) == PG && user_bytes(fd) == u0 + PG,
	       "64 of them fill that page: %llu charged, user %llu (was %llu)",
	       (unsigned long long)file_bytes(fd),
	       (unsigned long long)user_bytes(fd), (unsigned long long)u0);
	for (i = 1; i < got; i++)
		co_free(fd, a[i].handle);
	tap_ok(file_bytes(fd) == PG && user_bytes(fd) == u0 + PG,
	       "63 freed: the last one pins its page, still %llu charged",
	       (unsigned long long)file_bytes(fd));
	if (got)
		co_free(fd, a[0].handle);
	tap_ok(file_bytes(fd) == PG,
	       "all freed: the empty slab the file keeps stays charged (%llu)",
	       (unsigned long long)file_bytes(fd));
	close(fd);
	tap_ok(user_bytes(fd2) == u0,
	       "closing the file gives its pages back (user %llu, was %llu)",
	       (unsigned long long)user_bytes(fd2), (unsigned long long)u0);
	close(fd2);

	fd = co_open();
	co_set_param("file_limit", PG - 1);
	tap_errno(co_alloc(fd, 64, CARVEOUT_POLICY_STRICT, node0, 0, &a[0]),
		  EDQUOT, "a 64-byte buffer does not fit a 4095-byte file limit");
	co_set_param("file_limit", PG);
	tap_ok(co_alloc(fd, 64, CARVEOUT_POLICY_STRICT, node0, 0, &a[0]) == 0,
	       "it fits a 4096-byte one");
	tap_errno(co_alloc(fd, 64, CARVEOUT_POLICY_STRICT, node0,
			   CARVEOUT_ALLOC_PAGES, &a[1]),
		  EDQUOT, "then no page is left for a whole-page buffer");
	co_set_param("file_limit", 0);
	close(fd);
}

/* -- INFO ------------------------------------------------------------------ */

static void test_info_fields(void)
{
	unsigned long pct = co_read_param("reserve");
	struct carveout_info in, in2;
	struct carveout_alloc a, b;
	uint64_t reserve = 0, share;
	int fd = co_open(), fu, i;

	tap_diag("INFO: what limits the caller and what it holds");
	for (i = 0; i < nr_nodes; i++)
		reserve += pct_of(nodes[i].region_bytes, pct);
	if (!tap_ok(info_of(fd, &in) == 0 && (in.caps & CARVEOUT_CAP_LIMITS),
		    "INFO reports CARVEOUT_CAP_LIMITS"))
		goto out;
	tap_ok(in.owner_flags == CARVEOUT_OWNER_PRIVILEGED && in.reserved == 0,
	       "root's file is privileged (owner_flags %#x)", in.owner_flags);
	tap_ok(in.reserve_bytes == reserve,
	       "reserve_bytes %llu: %lu%% of each node's region",
	       (unsigned long long)in.reserve_bytes, pct);
	tap_ok(in.eff_user_limit == in.user_limit,
	       "root's effective user limit is user_limit (%llu)",
	       (unsigned long long)in.eff_user_limit);
	tap_ok(in.max_handles == co_read_param("max_handles") &&
	       in.max_maps == co_read_param("max_maps") &&
	       saved[4] == 65536 && saved[5] == 4096,
	       "caps as the parameters, defaults 65536 handles and 4096 maps (%u, %u)",
	       in.max_handles, in.max_maps);
	tap_ok(in.nr_handles == 0 && in.nr_maps == 0 && in.file_bytes == 0,
	       "a new file holds nothing");
	i = co_alloc_simple(fd, PG, &a) || co_alloc_simple(fd, 3 * PG, &b) ||
	    info_of(fd, &in2);
	tap_ok(!i && in2.nr_handles == 2 && in2.file_bytes == 4 * PG,
	       "two buffers: nr_handles %u, file_bytes %llu", in2.nr_handles,
	       (unsigned long long)in2.file_bytes);
	co_free(fd, a.handle);
	i = info_of(fd, &in2);
	tap_ok(!i && in2.nr_handles == 1, "one freed: nr_handles %u",
	       in2.nr_handles);
	co_free(fd, b.handle);

	fu = co_open_as(TESTER, O_RDWR);
	share = pct_of(total_bytes, co_read_param("user_share"));
	co_become(TESTER);
	i = info_of(fu, &in2);
	co_become(0);
	tap_ok(fu >= 0 && i == 0 && in2.owner_flags == 0 &&
	       in2.eff_user_limit == share && in2.user_limit == 0,
	       "uid %d's file: not privileged, held to user_share of the regions (%llu, want %llu)",
	       TESTER, (unsigned long long)in2.eff_user_limit,
	       (unsigned long long)share);
	co_set_param("user_limit", 3 * MIB);
	tap_ok(info_of(fu, &in2) == 0 && in2.eff_user_limit == 3 * MIB &&
	       info_of(fd, &in) == 0 && in.eff_user_limit == 3 * MIB,
	       "user_limit set: it applies to both files");
	co_set_param("user_limit", 0);
	close(fu);
out:
	close(fd);
}

/* -- the reserve ------------------------------------------------------------ */

static struct co_fill fill;

static void test_reserve(void)
{
	uint64_t keep = pct_of(nodes[0].region_bytes, co_read_param("reserve"));
	struct carveout_alloc a, b;
	int fu = co_open_as(TESTER, O_RDWR), fr = co_open(), ret;
	uint64_t left;

	tap_diag("the reserve: %llu bytes of node %u for root",
		 (unsigned long long)keep, node0);
	if (!tap_ok(fu >= 0 && keep > 0, "uid %d opens the device", TESTER))
		goto out;
	co_set_param("user_share", 100);
	co_drain_pools(node0);
	co_become(TESTER);
	co_fill_node(&fill, fu, node0, 0x5a);
	co_become(0);
	left = co_free_bytes(fr, node0);
	tap_ok(fill.n > 0 && !fill.unmapped && !fill.not_zero &&
	       left >= keep && left < keep + PG,
	       "uid %d filled node %u down to its reserve: %llu free, %llu kept",
	       TESTER, node0, (unsigned long long)left,
	       (unsigned long long)keep);
	tap_errno(alloc_as(TESTER, fu, PG, CARVEOUT_POLICY_STRICT, node0,
			   CARVEOUT_ALLOC_PAGES, &a),
		  ENOMEM, "uid 1000: one more page of the reserve");
	tap_errno(alloc_as(TESTER, fu, 64, CARVEOUT_POLICY_STRICT, node0, 0, &a),
		  ENOMEM, "uid 1000: a sub-page buffer (a new slab) from the reserve");
	if (nr_nodes > 1) {
		ret = alloc_as(TESTER, fu, PG, CARVEOUT_POLICY_PREFERRED, node0,
			       CARVEOUT_ALLOC_PAGES, &a);
		tap_ok(!ret && a.out_node != node0,
		       "uid 1000 with PREFERRED falls over to node %u", a.out_node);
		co_free(fu, a.handle);
	}
	tap_ok(co_alloc(fr, PG, CARVEOUT_POLICY_STRICT, node0,
			CARVEOUT_ALLOC_PAGES, &a) == 0 &&
	       co_alloc(fr, 64, CARVEOUT_POLICY_STRICT, node0, 0, &b) == 0,
	       "root takes a page and a sub-page buffer from the reserve");
	tap_ok(co_free_bytes(fr, node0) < left,
	       "node %u's free bytes went below the reserve (%llu)", node0,
	       (unsigned long long)co_free_bytes(fr, node0));
	co_free(fr, a.handle);
	co_free(fr, b.handle);
	co_fill_release(&fill);
	co_set_param("user_share", saved[2]);
out:
	if (fu >= 0)
		close(fu);
	close(fr);
}

/* -- the default per-user share --------------------------------------------- */

static void test_default_share(void)
{
	static uint32_t handles[512];
	uint64_t limit = pct_of(total_bytes, 1), took = 0;
	int fu = co_open_as(TESTER, O_RDWR), fr = co_open(), n = 0, err = 0;
	struct carveout_alloc a;

	tap_diag("user_limit 0: uid %d may hold 1%% of the regions (%llu)",
		 TESTER, (unsigned long long)limit);
	if (!tap_ok(fu >= 0, "uid %d opens the device", TESTER))
		goto out;
	co_set_param("user_share", 1);
	while (n < 512) {
		if (alloc_as(TESTER, fu, 256 * 1024, CARVEOUT_POLICY_LOCAL, 0,
			     CARVEOUT_ALLOC_PAGES, &a)) {
			err = errno;
			break;
		}
		handles[n++] = a.handle;
		took += a.granted;
	}
	tap_ok(err == EDQUOT && took <= limit && took + 256 * 1024 > limit,
	       "uid %d stops at its share: %llu bytes, then %s", TESTER,
	       (unsigned long long)took, strerror(err));
	tap_ok(co_alloc(fr, limit + MIB, CARVEOUT_POLICY_LOCAL, 0,
			CARVEOUT_ALLOC_PAGES, &a) == 0,
	       "root is not held to it (%llu bytes)",
	       (unsigned long long)(limit + MIB));
	co_free(fr, a.handle);
	co_set_param("user_share", 0);
	tap_ok(alloc_as(TESTER, fu, 256 * 1024, CARVEOUT_POLICY_LOCAL, 0,
			CARVEOUT_ALLOC_PAGES, &a) == 0,
	       "user_share 0: no default limit");
	co_free(fu, a.handle);
	while (n)
		co_free(fu, handles[--n]);
	co_set_param("user_share", saved[2]);
out:
	if (fu >= 0)
		close(fu);
	close(fr);
}

/* -- handles ---------------------------------------------------------------- */

static void test_handle_cap(void)
{
	struct carveout_alloc a[9], x;
	int fd = co_open(), fd2 = co_open(), i, ok = 1;
	struct carveout_info in;

	tap_diag("max_handles 8: ALLOC of the 9th handle");
	co_set_param("max_handles", 8);
	for (i = 0; i < 8; i++)
		ok = co_alloc_simple(fd, PG, &a[i]) == 0 && ok;
	tap_ok(ok, "8 handles");
	tap_errno(co_alloc_simple(fd, PG, &a[8]), EMFILE, "the 9th handle");
	tap_errno(co_alloc_simple(fd, 64, &a[8]), EMFILE,
		  "the 9th handle, sub-page");
	ok = info_of(fd, &in) == 0;
	tap_ok(ok && in.nr_handles == 8 &&
	       in.max_handles == 8 && in.file_bytes == 8 * PG,
	       "INFO: 8 of 8 handles, %llu bytes (the refused ones took nothing)",
	       (unsigned long long)in.file_bytes);
	tap_ok(co_alloc_simple(fd2, PG, &x) == 0,
	       "another file counts its own handles");
	co_free(fd2, x.handle);
	co_free(fd, a[7].handle);
	co_set_param("file_limit", 1);
	for (i = 0, ok = 1; i < 20; i++)
		ok = co_alloc_simple(fd, PG, &x) == -1 && errno == EDQUOT && ok;
	co_set_param("file_limit", 0);
	tap_ok(ok, "20 ALLOCs refused by the file limit");
	tap_ok(co_alloc_simple(fd, PG, &a[7]) == 0,
	       "they counted no handle: the 8th is there again");
	tap_errno(co_alloc_simple(fd, PG, &x), EMFILE, "and the 9th is not");
	co_set_param("max_handles", 0);
	tap_ok(co_alloc_simple(fd, PG, &a[8]) == 0, "max_handles 0: no cap");
	for (i = 0; i < 9; i++)
		co_free(fd, a[i].handle);
	tap_ok(info_of(fd, &in) == 0 && in.nr_handles == 0,
	       "every handle freed: nr_handles 0");
	co_set_param("max_handles", saved[4]);
	close(fd);
	close(fd2);
}

/* -- DMA mappings ------------------------------------------------------------ */

static void test_map_cap(void)
{
	struct carveout_map m[3];
	struct carveout_alloc a;
	struct carveout_info in;
	int fd = co_open(), ret;

	tap_diag("max_maps 2: the third MAP");
	if (!tap_ok(co_alloc_simple(fd, PG, &a) == 0, "a buffer to map"))
		goto out;
	ret = co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE, &m[0]);
	if (ret && errno == ENODEV) {
		tap_skip("no edu device (" CO_EDU_PCI ")", "mapping cap");
		goto out;
	}
	co_set_param("max_maps", 2);
	tap_ok(ret == 0 && co_map(fd, a.handle, CO_EDU_PCI,
				  CARVEOUT_DMA_TO_DEVICE, &m[1]) == 0,
	       "two mappings");
	tap_errno(co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE, &m[2]),
		  EMFILE, "the third mapping");
	tap_ok(info_of(fd, &in) == 0 && in.nr_maps == 2 && in.max_maps == 2,
	       "INFO: 2 of 2 mappings");
	tap_ok(co_unmap(fd, a.handle, CO_EDU_PCI, m[0].dma_addr) == 0 &&
	       co_map(fd, a.handle, CO_EDU_PCI, CARVEOUT_DMA_TO_DEVICE,
		      &m[2]) == 0,
	       "UNMAP makes room for another");
	co_free(fd, a.handle);
	tap_ok(info_of(fd, &in) == 0 && in.nr_maps == 0,
	       "FREE removes the buffer's mappings: nr_maps 0");
	co_set_param("max_maps", saved[5]);
out:
	close(fd);
}

/* -- memory cgroups --------------------------------------------------------- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = -1;

	if (fd >= 0) {
		ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
		close(fd);
	}
	return ret;
}

/* memory.current through an fd opened beforehand (pread, no new file). */
static long long read_current(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoll(buf);
}

/* In the cgroup: allocate CG_BUFS buffers, report memory.current. */
static void memcg_child(int out)
{
	static uint32_t handles[CG_BUFS];
	long long v[4] = { -1, -1, -1, 0 };
	struct carveout_alloc a;
	int cur, fd, i;

	if (write_file(CG_TEST "/cgroup.procs", "0"))
		_exit(2);
	cur = open(CG_TEST "/memory.current", O_RDONLY | O_CLOEXEC);
	fd = co_open();
	if (cur < 0 || fd < 0)
		_exit(3);
	memset(handles, 0, sizeof(handles));
	memset(&a, 0, sizeof(a));
	v[0] = read_current(cur);
	for (i = 0; i < CG_BUFS; i++) {
		if (co_alloc(fd, 64, CARVEOUT_POLICY_LOCAL, 0, 0, &a))
			break;
		handles[i] = a.handle;
	}
	v[3] = i;
	v[1] = read_current(cur);
	close(fd);
	v[2] = read_current(cur);
	if (write(out, v, sizeof(v)) != sizeof(v))
		_exit(4);
	_exit(0);
}

/* Mounts cgroup2 if needed; 1 when we mounted it. */
static int cg_mount(void)
{
	if (!access(CG_ROOT "/cgroup.controllers", F_OK))
		return 0;
	mkdir(CG_ROOT, 0755);
	return mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL) ? -1 : 1;
}

static int cg_has_memory(void)
{
	char buf[256] = "";
	FILE *f = fopen(CG_ROOT "/cgroup.controllers", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, "memory") != NULL;
}

static void test_memcg(void)
{
	long long v[4] = { -1, -1, -1, 0 };
	int mounted = cg_mount(), p[2], status = -1;
	pid_t pid;

	tap_diag("memory cgroups: kernel memory a user causes is charged to it");
	if (mounted < 0 || !cg_has_memory()) {
		tap_skip("no cgroup2 memory controller in this kernel",
			 "buffer metadata charged to the memory cgroup");
		goto out;
	}
	if (write_file(CG_ROOT "/cgroup.subtree_control", "+memory") ||
	    (mkdir(CG_TEST, 0755) && errno != EEXIST) || pipe(p)) {
		tap_ok(0, "make %s with the memory controller (%s)", CG_TEST,
		       strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		memcg_child(p[1]);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], v, sizeof(v)) != sizeof(v))
		v[3] = -1;
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_ok(v[3] == CG_BUFS && v[0] >= 0,
	       "a process in %s allocates %d buffers of 64 bytes (%lld, exit %d)",
	       CG_TEST, CG_BUFS, v[3], status);
	tap_ok(v[1] - v[0] >= (long long)CG_BUFS * CG_MIN_META,
	       "memory.current grew by %lld bytes (at least %d x %d)",
	       v[1] - v[0], CG_BUFS, CG_MIN_META);
	tap_ok(v[1] - v[2] >= (v[1] - v[0]) / 2,
	       "closing the file gives most of it back (%lld of %lld)",
	       v[1] - v[2], v[1] - v[0]);
	rmdir(CG_TEST);
out:
	if (mounted > 0)
		umount(CG_ROOT);
}

/* -------------------------------------------------------------------------- */

static void restore(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		co_set_param(params[i], saved[i]);
}

int main(void)
{
	struct carveout_info in;
	struct stat st0;
	unsigned int i;
	int fd;

	tap_plan_begin("carveout limits: what they count, caps, reserve, memory cgroups");
	if (getuid() != 0)
		tap_bail("must run as root (it switches to uid %d)", TESTER);
	fd = co_open();
	nr_nodes = fd < 0 ? 0 : co_nodes(fd, nodes, 16);
	if (nr_nodes < 1 || info_of(fd, &in))
		tap_bail("cannot open %s or no region", CO_DEV);
	close(fd);
	node0 = nodes[0].node;
	total_bytes = in.total_bytes;
	if (stat(CO_DEV, &st0))
		tap_bail("stat %s: %s", CO_DEV, strerror(errno));
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		saved[i] = co_read_param(params[i]);
	co_set_param("file_limit", 0);
	co_set_param("user_limit", 0);
	co_share_device();

	test_slab_pages();
	test_info_fields();
	test_reserve();
	test_default_share();
	test_handle_cap();
	test_map_cap();
	test_memcg();

	restore();
	if (chown(CO_DEV, st0.st_uid, st0.st_gid) ||
	    chmod(CO_DEV, st0.st_mode & 07777))
		tap_diag("cannot restore %s: %s", CO_DEV, strerror(errno));
	fd = co_open();
	if (fd >= 0 && co_nodes(fd, nodes, 16) > 0)
		co_check_all_free(fd, nodes, co_nodes(fd, nodes, 16));
	close(fd);
	return tap_finish();
}
