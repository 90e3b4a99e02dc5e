// SPDX-License-Identifier: GPL-2.0
/*
 * Write-combined and uncached buffers keep their memory converted in
 * per-node pools (module/co_memtype.c): converting the kernel's linear
 * mapping (set_memory_wc/uc/wb) flushes every CPU's TLB through an IPI, so
 * an unprivileged ALLOC/FREE loop must not convert at every turn.
 *
 * - Cycles: CYCLES times ALLOC + mmap + touch + munmap + FREE of 64 KiB on
 *   node 0, as root and as uid 1000, write-combined and uncached.  The
 *   function-call IPIs of all CPUs (the "CAL" row of /proc/interrupts:
 *   set_memory_*() reaches the other CPUs through on_each_cpu(), which
 *   counts there and not in the "TLB" row of user-space shootdowns) grow
 *   by less than CYCLES / 2 more than over the same cycles with cached
 *   buffers (without pools: two or more per cycle, so four times that;
 *   the bound leaves room for the debug kernel's background IPIs), and
 *   debugfs' memtype_conversions, the exact count, by less than
 *   CYCLES / 10.
 *   The test pins itself to one CPU so that its own munmap()s send no
 *   IPI.  A control run with memtype_pool_percent=0 (convert at every
 *   ALLOC and FREE) shows that the measure sees conversions.
 * - Contents: a write-combined (then uncached) block that A (root) filled
 *   and freed reaches B (uid 1000) from the pool, without a conversion,
 *   and zeroed; B's bytes do not reach A's next buffer either.
 * - Drain: node 0 filled with write-combined buffers and freed leaves
 *   memory in the pool (within memtype_pool_percent); a cached
 *   allocation of the whole region then succeeds: the pool gave it back.
 *
 * x86 only (CARVEOUT_CAP_WC); runs as root in the test VM, gives
 * /dev/carveout to group 1000 (mode 0660) and restores it at the end.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "co_test.h"
#include "tap.h"

#define PG		4096UL
#define TESTER		1000	/* uid and gid of the unprivileged owner */
#define CYCLES		500
#define ROUNDS		10	/* cached and WC/UC cycles alternate */
#define CONTROL_CYCLES	50
#define CYCLE_LEN	(64UL << 10)
#define FILL_LEN	(1UL << 20)
#define MAX_FILL	4096
#define DEBUGFS		"/sys/kernel/debug/carveout/summary"
#define PAT_A		0xa5
#define PAT_B		0x5b

static uint32_t node0;
static uint64_t region0;
static uint32_t pieces0;
static int one_cpu;	/* no other CPU to send an IPI to */

static const uint32_t modes[] = { CARVEOUT_ALLOC_WC, CARVEOUT_ALLOC_UNCACHED };
static const char *const mode_names[] = { "write-combined", "uncached" };

/* Real and effective ids; root stays the saved id to come back. */
static int become(uid_t uid)
{
	if (!uid)
		return setresuid(0, 0, 0) || setresgid(0, 0, 0) ? -1 : 0;
	return setresgid(uid, uid, 0) || setresuid(uid, uid, 0) ? -1 : 0;
}

/* Sum over CPUs of the /proc/interrupts row @row ("CAL", "TLB"), or -1. */
static long long irq_row(const char *row)
{
	char line[4096], *p, *end;
	long long sum = -1, v;
	size_t n = strlen(row);
	FILE *f = fopen("/proc/interrupts", "r");

	while (f && fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, row, n) || p[n] != ':')
			continue;
		p += n + 1;
		sum = 0;
		for (;;) {
			v = strtoll(p, &end, 10);
			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	if (f)
		fclose(f);
	return sum;
}

static long long debugfs_value(const char *key)
{
	char line[512];
	long long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen(DEBUGFS, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoll(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* debugfs' memtype_conversions: set_memory_*() calls so far, or -1. */
static long long conversions(void)
{
	return debugfs_value("memtype_conversions");
}

/* Node 0's wc_pool_kB + uc_pool_kB from debugfs' summary, or -1. */
static long long pool_kb(void)
{
	unsigned long long f[10];
	char line[512];
	long long kb = -1;
	FILE *fp = fopen(DEBUGFS, "r");
	int node;

	while (fp && fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%d %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &node, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5],
			   &f[6], &f[7], &f[8]) == 10 && node == (int)node0)
			kb = f[7] + f[8];
	}
	if (fp)
		fclose(fp);
	return kb;
}

static unsigned long read_param(const char *name, unsigned long dflt)
{
	char path[128];
	unsigned long v = dflt;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/carveout/parameters/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

static int all_bytes(const volatile unsigned char *p, size_t len, int v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/*
 * @n cycles of ALLOC + mmap + touch + munmap + FREE as @uid; returns the
 * cycles that completed, with a reused buffer that was not zero counted
 * in *@dirty.
 */
static int cycles(uid_t uid, uint32_t mode, int n, int *dirty)
{
	volatile unsigned char *p;
	struct carveout_alloc a;
	int i, fd, done = 0;

	*dirty = 0;
	if (become(uid))
		return 0;
	fd = co_open();
	for (i = 0; fd >= 0 && i < n; i++) {
		if (co_alloc(fd, CYCLE_LEN, CARVEOUT_POLICY_STRICT, node0, mode,
			     &a))
			break;
		p = co_mmap(fd, &a);
		if (!p) {
			co_free(fd, a.handle);
			break;
		}
		if (p[0] || p[CYCLE_LEN / 2] || p[CYCLE_LEN - 1])
			(*dirty)++;
		p[0] = PAT_A;
		p[CYCLE_LEN / 2] = PAT_A;
		p[CYCLE_LEN - 1] = PAT_A;
		munmap((void *)p, CYCLE_LEN);
		if (co_free(fd, a.handle))
			break;
		done++;
	}
	if (fd >= 0)
		close(fd);
	become(0);
	return done;
}

/*
 * Function-call IPIs also carry remote wakeups (of RCU's and the
 * workqueues' threads, say), so the same cycles with cached buffers, which
 * never convert, interleaved in rounds, give the baseline.
 */
static void test_cycles(uid_t uid, int m)
{
	long long cal0, tlb0, conv0, cal = 0, tlb, conv, base = 0;
	int done = 0, dirty = 0, r, d;

	tlb0 = irq_row("TLB");
	conv0 = conversions();
	for (r = 0; r < ROUNDS; r++) {
		cal0 = irq_row("CAL");
		cycles(uid, CARVEOUT_ALLOC_CACHED, CYCLES / ROUNDS, &d);
		base += irq_row("CAL") - cal0;
		cal0 = irq_row("CAL");
		done += cycles(uid, modes[m], CYCLES / ROUNDS, &d);
		cal += irq_row("CAL") - cal0;
		dirty += d;
	}
	tlb = irq_row("TLB") - tlb0;
	conv = conversions();
	tap_diag("uid %u, %s: %d cycles, IPIs: %lld function calls (%lld with cached buffers), %lld TLB shootdowns; conversions %lld -> %lld",
		 (unsigned int)uid, mode_names[m], done, cal, base, tlb, conv0,
		 conv);
	tap_ok(done == CYCLES && !dirty,
	       "uid %u: %d %s ALLOC+mmap+FREE cycles of 64 KiB, each buffer zero (%d not)",
	       (unsigned int)uid, done, mode_names[m], dirty);
	if (one_cpu)
		tap_skip("one CPU: no IPIs to count", "uid %u, %s: IPIs",
			 (unsigned int)uid, mode_names[m]);
	else
		tap_ok(irq_row("CAL") >= 0 && cal - base < CYCLES / 2,
		       "uid %u, %s: %lld function-call IPIs over %d cycles, %lld more than cached (< %d)",
		       (unsigned int)uid, mode_names[m], cal, CYCLES,
		       cal - base, CYCLES / 2);
	tap_ok(conv0 >= 0 && conv >= conv0 && conv - conv0 < CYCLES / 10,
	       "uid %u, %s: %lld memory type conversions over %d cycles (< %d)",
	       (unsigned int)uid, mode_names[m],
	       conv0 >= 0 ? conv - conv0 : -1LL, CYCLES, CYCLES / 10);
}

/* Without pools, every cycle converts twice: the IPIs show it. */
static void test_control(void)
{
	unsigned long saved = read_param("memtype_pool_percent", 25);
	long long cal0, conv0, cal, conv;
	int done, dirty;

	co_set_param("memtype_pool_percent", 0);
	cal0 = irq_row("CAL");
	conv0 = conversions();
	done = cycles(TESTER, CARVEOUT_ALLOC_WC, CONTROL_CYCLES, &dirty);
	cal = irq_row("CAL") - cal0;
	conv = conversions();
	co_set_param("memtype_pool_percent", saved);
	if (one_cpu) {
		tap_skip("one CPU: no IPIs to count", "control");
		return;
	}
	tap_ok(done == CONTROL_CYCLES && cal0 >= 0 && cal >= CONTROL_CYCLES,
	       "control, memtype_pool_percent=0: %d write-combined cycles send %lld function-call IPIs (>= %d)",
	       done, cal, CONTROL_CYCLES);
	if (conv0 >= 0)
		tap_diag("control: conversions %lld -> %lld", conv0, conv);
}

/* @uid allocates 64 KiB of @mode on node 0 and maps it; NULL on failure. */
static volatile unsigned char *owner_alloc(uid_t uid, uint32_t mode, int *fd,
					   struct carveout_alloc *a)
{
	volatile unsigned char *p = NULL;

	if (become(uid))
		return NULL;
	*fd = co_open();
	if (*fd >= 0 && co_alloc(*fd, CYCLE_LEN, CARVEOUT_POLICY_STRICT, node0,
				 mode, a) == 0)
		p = co_mmap(*fd, a);
	become(0);
	return p;
}

static void owner_drop(int fd, const struct carveout_alloc *a,
		       volatile unsigned char *p)
{
	munmap((void *)p, CYCLE_LEN);
	co_free(fd, a->handle);
	close(fd);
}

static void test_contents(int m)
{
	volatile unsigned char *pa, *pb;
	struct carveout_alloc a, b;
	long long conv0, conv;
	uint64_t pfn;
	int fa, fb;

	tap_diag("%s: a pooled block reaches the next owner zeroed",
		 mode_names[m]);
	pa = owner_alloc(0, modes[m], &fa, &a);
	if (!tap_ok(pa != NULL, "A (root) allocates and maps 64 KiB %s",
		    mode_names[m]))
		return;
	memset((void *)pa, PAT_A, CYCLE_LEN);
	owner_drop(fa, &a, pa);

	conv0 = conversions();
	pb = owner_alloc(TESTER, modes[m], &fb, &b);
	if (!tap_ok(pb != NULL, "B (uid %d) allocates and maps 64 KiB %s",
		    TESTER, mode_names[m]))
		return;
	conv = conversions();
	pfn = co_virt_to_pfn((const void *)pb);
	tap_ok(pfn * PG == a.phys_addr && conv0 >= 0 && conv == conv0,
	       "B got A's block from the pool (pfn %#llx, A's %#llx) without a conversion (%lld -> %lld)",
	       (unsigned long long)pfn,
	       (unsigned long long)(a.phys_addr / PG), conv0, conv);
	tap_ok(all_bytes(pb, CYCLE_LEN, 0), "B's buffer is zero");
	memset((void *)pb, PAT_B, CYCLE_LEN);
	owner_drop(fb, &b, pb);

	pa = owner_alloc(0, modes[m], &fa, &a);
	if (!tap_ok(pa != NULL, "A allocates 64 KiB %s again", mode_names[m]))
		return;
	tap_ok(all_bytes(pa, CYCLE_LEN, 0), "A's next buffer is zero, no byte of B's");
	owner_drop(fa, &a, pa);
}

static struct carveout_alloc fill[MAX_FILL];

static void test_drain(void)
{
	unsigned long pct = read_param("memtype_pool_percent", 25);
	long long kb, region_kb = (long long)(region0 >> 10);
	struct carveout_stats st;
	struct carveout_alloc c;
	int fd = co_open(), n = 0, i;
	uint64_t total = 0;

	tap_diag("drain: pooled memory goes back when the arena needs it");
	while (n < MAX_FILL && !co_alloc(fd, FILL_LEN, CARVEOUT_POLICY_STRICT,
					 node0, CARVEOUT_ALLOC_WC, &fill[n]))
		total += fill[n++].granted;
	tap_ok(n > 0 && errno == ENOMEM && total >= region0 / 2,
	       "node %u filled with %d write-combined buffers of 1 MiB (%llu of %llu bytes)",
	       node0, n, (unsigned long long)total,
	       (unsigned long long)region0);
	for (i = 0; i < n; i++)
		co_free(fd, fill[i].handle);
	kb = pool_kb();
	tap_ok(kb > 0 && kb <= region_kb * (long long)pct / 100,
	       "freed, the pool keeps %lld kB converted (at most %lu%% of %lld kB)",
	       kb, pct, region_kb);
	if (pieces0 != 1) {
		tap_skip("the region is in several pieces",
			 "a cached allocation of the whole region");
	} else {
		tap_ok(co_alloc(fd, region0, CARVEOUT_POLICY_STRICT, node0, 0,
				&c) == 0,
		       "a cached allocation of the whole region (%llu bytes) succeeds",
		       (unsigned long long)region0);
		kb = pool_kb();
		tap_ok(kb == 0, "the pool gave its memory back (%lld kB left)",
		       kb);
		co_free(fd, c.handle);
	}
	if (co_stats(fd, node0, &st))
		memset(&st, 0, sizeof(st));
	tap_ok(st.region_bytes && st.free_bytes == st.region_bytes,
	       "node %u entirely free again (%llu of %llu)", node0,
	       (unsigned long long)st.free_bytes,
	       (unsigned long long)st.region_bytes);
	close(fd);
}

static void pin_to_one_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		tap_diag("cannot pin to CPU 0: %s", strerror(errno));
}

int main(void)
{
	struct carveout_node_info nodes[16];
	struct carveout_info info;
	struct stat st0;
	int fd, m;

	tap_plan_begin("carveout write-combined and uncached memory stays converted");
	if (getuid() != 0)
		tap_bail("must run as root (it switches to uid %d)", TESTER);
	fd = co_open();
	if (fd < 0 || co_nodes(fd, nodes, 16) < 1)
		tap_bail("cannot open %s or no region", CO_DEV);
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(fd, CARVEOUT_IOC_INFO, &info))
		tap_bail("INFO: %s", strerror(errno));
	close(fd);
	if (!(info.caps & CARVEOUT_CAP_WC) || !(info.caps & CARVEOUT_CAP_UNCACHED)) {
		tap_skip("no write-combined or uncached buffers here (x86 only)",
			 "memory type pools");
		return tap_finish();
	}
	node0 = nodes[0].node;
	region0 = nodes[0].region_bytes;
	pieces0 = nodes[0].nr_pieces;
	if (irq_row("CAL") < 0)
		tap_bail("no CAL row in /proc/interrupts");
	if (stat(CO_DEV, &st0))
		tap_bail("stat %s: %s", CO_DEV, strerror(errno));
	if (chown(CO_DEV, 0, TESTER) || chmod(CO_DEV, 0660))
		tap_bail("cannot give %s to group %d: %s", CO_DEV, TESTER,
			 strerror(errno));
	one_cpu = sysconf(_SC_NPROCESSORS_ONLN) < 2;
	pin_to_one_cpu();

	for (m = 0; m < 2; m++) {
		test_cycles(0, m);
		test_cycles(TESTER, m);
	}
	test_control();
	for (m = 0; m < 2; m++)
		test_contents(m);
	test_drain();

	if (chown(CO_DEV, st0.st_uid, st0.st_gid) ||
	    chmod(CO_DEV, st0.st_mode & 07777))
		tap_diag("cannot restore %s: %s", CO_DEV, strerror(errno));
	return tap_finish();
}
