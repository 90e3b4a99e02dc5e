// SPDX-License-Identifier: GPL-2.0
/*
 * carveoutctl, run as a separate program: --help/--version, info, alloc on
 * each node (with --map, sub-page, --hold until SIGTERM), stats text and
 * --json (parsed, and checked against the STATS ioctl and
 * /sys/kernel/debug/carveout/summary), map (bar positions for a known
 * load), --watch, and the one-line error format with its exit codes.
 *
 * carveoutctl is looked up as $CARVEOUTCTL, next to this program, then as
 * /lib/carveout/tests/carveoutctl.  The test links libcarveout for its
 * size helpers and for allocations made by the test itself.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <carveout/libcarveout.h>

#include "co_test.h"
#include "json.h"
#include "tap.h"

#define MIB		(1024ULL * 1024)
#define DBG		"/sys/kernel/debug/carveout"
#define OUT_MAX		65536

static char ctl[512];
static struct carveout_ctx *ctx;
static struct carveout_sysinfo info;

/* ---- running carveoutctl ------------------------------------------------ */

struct run {
	int status;		/* exit code, or 128 + signal */
	char out[OUT_MAX];
	char err[4096];
};

static void read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
}

/* Starts carveoutctl with @args (NULL-terminated); stdout on *@outfd. */
static pid_t spawn(const char *const *args, uid_t uid, int *outfd, int errfd)
{
	const char *argv[32];
	int p[2], i;
	pid_t pid;

	argv[0] = ctl;
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(errfd, 2);
		close(p[0]);
		if (uid && (setgid(uid) || setuid(uid)))
			_exit(126);
		execv(ctl, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	*outfd = p[0];
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void run_as(struct run *r, uid_t uid, const char *const *args)
{
	FILE *ef = tmpfile();
	int outfd;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (!ef)
		return;
	pid = spawn(args, uid, &outfd, fileno(ef));
	if (pid > 0) {
		read_all(outfd, r->out, sizeof(r->out));
		close(outfd);
		r->status = wait_status(pid);
	}
	rewind(ef);
	read_all(fileno(ef), r->err, sizeof(r->err));
	fclose(ef);
}

#define RUN(r, ...) run_as(r, 0, (const char *const[]){ __VA_ARGS__, NULL })

/* "carveoutctl: <what>: <reason>\n", one line, containing @want. */
static int one_error_line(const struct run *r, const char *want)
{
	const char *nl = strchr(r->err, '\n');

	return !strncmp(r->err, "carveoutctl: ", 13) && nl && !nl[1] &&
	       strstr(r->err + 13, ": ") && strstr(r->err, want) != NULL;
}

static void check_error(const char *what, int status, const char *want,
			const char *const *args)
{
	struct run r;

	run_as(&r, 0, args);
	tap_ok(r.status == status && one_error_line(&r, want),
	       "%s: exit %d and one line with \"%s\" (exit %d: %.*s)", what,
	       status, want, r.status, (int)strcspn(r.err, "\n"), r.err);
}

#define ERR(what, status, want, ...) \
	check_error(what, status, want, (const char *const[]){ __VA_ARGS__, NULL })

/* The value after "key:" on its own line of @text, or NULL. */
static const char *field(const char *text, const char *key, char *val, size_t len)
{
	size_t kl = strlen(key);
	const char *l;

	for (l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			const char *v = l + kl + 1;
			size_t n;

			v += strspn(v, " ");
			n = strcspn(v, "\n");
			if (n >= len)
				n = len - 1;
			memcpy(val, v, n);
			val[n] = '\0';
			return val;
		}
	}
	return NULL;
}

/* ---- debugfs summary ------------------------------------------------------ */

struct sum_node {
	int node;
	unsigned int pieces;
	unsigned long long region_kb, free_kb, largest_kb, requested_kb, granted_kb;
	long long buffers;
};

struct summary {
	unsigned long long page_size, file_limit, user_limit, total_kb, free_kb;
	int nr;
	struct sum_node n[64];
};

static int read_summary(struct summary *s)
{
	FILE *f = fopen(DBG "/summary", "r");
	char line[256];

	memset(s, 0, sizeof(*s));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct sum_node *n = &s->n[s->nr];

		if (sscanf(line, "page_size: %llu", &s->page_size) == 1 ||
		    sscanf(line, "file_limit: %llu", &s->file_limit) == 1 ||
		    sscanf(line, "user_limit: %llu", &s->user_limit) == 1 ||
		    sscanf(line, "total_kB: %llu", &s->total_kb) == 1 ||
		    sscanf(line, "free_kB: %llu", &s->free_kb) == 1)
			continue;
		if (s->nr < 64 &&
		    sscanf(line, "%d %u %llu %llu %llu %lld %llu %llu", &n->node,
			   &n->pieces, &n->region_kb, &n->free_kb, &n->largest_kb,
			   &n->buffers, &n->requested_kb, &n->granted_kb) == 8)
			s->nr++;
	}
	fclose(f);
	return 0;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_help(void)
{
	struct run r;

	RUN(&r, "--help");
	tap_ok(r.status == 0 && strstr(r.out, "info") && strstr(r.out, "stats [--json]") &&
	       strstr(r.out, "alloc SIZE") && strstr(r.out, "--hold") &&
	       strstr(r.out, "map [--node N]") && strstr(r.out, "--watch SECS") &&
	       !r.err[0], "--help lists every command");
	RUN(&r, "alloc", "--help");
	tap_ok(r.status == 0 && strstr(r.out, "--policy local|strict|preferred|device"),
	       "alloc --help");
	RUN(&r, "--version");
	tap_ok(r.status == 0 && !strncmp(r.out, "carveoutctl ", 12), "--version: %.*s",
	       (int)strcspn(r.out, "\n"), r.out);
}

/* The pieces table and size classes that info prints, from our own calls. */
static int info_pieces_ok(const char *out)
{
	struct carveout_piece_info pi;
	struct carveout_free_block fb;
	char want[128], a[24];
	unsigned int i, k;
	uint64_t cursor, sum;
	int ok = 1;

	for (i = 0; i < info.nr_nodes; i++) {
		sum = 0;
		for (k = 0; k < info.nodes[i].nr_pieces; k++) {
			cursor = 0;
			if (carveout_get_freemap(ctx, info.nodes[i].node, k, &cursor,
						 &fb, 1, &pi) < 0)
				return 0;
			sum += pi.pages * info.page_size;
			snprintf(want, sizeof(want), "%4u  %5u  %10llu  %10s\n",
				 info.nodes[i].node, k, (unsigned long long)pi.pages,
				 carveout_format_size(pi.pages * info.page_size, a, 24, 0));
			if (!strstr(out, want)) {
				tap_diag("missing piece row: %s", want);
				ok = 0;
			}
		}
		if (sum != info.nodes[i].region_bytes) {
			tap_diag("node %u: pieces sum to %llu, region %llu",
				 info.nodes[i].node, (unsigned long long)sum,
				 (unsigned long long)info.nodes[i].region_bytes);
			ok = 0;
		}
	}
	return ok;
}

/*
 * carveoutctl's own (fresh) file asks SLABINFO: the classes are listed if
 * it reports their geometry to a file without caches, and not otherwise.
 */
static int info_classes_ok(const char *out)
{
	struct carveout_ctx *fresh = carveout_open(NULL);
	struct carveout_slab_class cl[64];
	char want[64];
	int n, k, ok = 1;

	n = fresh ? carveout_get_slabinfo(fresh, info.nodes[0].node, cl, 64) : -1;
	carveout_close(fresh);
	if (n <= 0 || n > 64)
		return 0;
	if (!cl[0].obj_size)
		return !strstr(out, "sub-page size classes");
	if (!strstr(out, "sub-page size classes"))
		return 0;
	for (k = 0; k < n; k++) {
		snprintf(want, sizeof(want), "  %4u/%u/%u", cl[k].obj_size,
			 cl[k].objs_per_slab, cl[k].slab_pages);
		if (!strstr(out, want)) {
			tap_diag("missing class %s", want);
			ok = 0;
		}
	}
	return ok;
}

/* The lines about carveoutctl's own file: limits, reserve, caps. */
static void test_info_limits(const struct run *r)
{
	struct carveout_limits lim;
	char want[256], a[24], b[24];

	if (!tap_ok(carveout_get_limits(ctx, &lim) == 0,
		    "carveout_get_limits"))
		return;
	snprintf(want, sizeof(want),
		 "limits for this file: per user %s, reserve %s kept for CAP_SYS_ADMIN and in-kernel users (this file may use it)\n",
		 lim.eff_user_limit ? carveout_format_size(lim.eff_user_limit, a, 24, 0) :
				      "none",
		 carveout_format_size(lim.reserve_bytes, b, 24, 0));
	tap_ok(lim.privileged && lim.reserve_bytes && strstr(r->out, want),
	       "info: the per-user limit, the reserve (%s) and that root's file may use it",
	       b);
	snprintf(want, sizeof(want),
		 "held by this file: %s, 0 handles (cap %u), 0 DMA mappings (cap %u)\n",
		 carveout_format_size(0, a, 24, 0), lim.max_handles, lim.max_maps);
	tap_ok(lim.max_handles && lim.max_maps && strstr(r->out, want),
	       "info: its file's bytes, handles and DMA mappings against their caps");
	tap_ok(lim.file_bytes == MIB && lim.nr_handles == 1 && lim.nr_maps == 0,
	       "carveout_get_limits: this context holds 1M in 1 handle (%llu, %u)",
	       (unsigned long long)lim.file_bytes, lim.nr_handles);
}

static void test_info(void)
{
	struct carveout_alloc_opts o = { .flags = CARVEOUT_BUF_NO_MMAP };
	char want[160], a[24], b[24], c[24];
	struct carveout_sysinfo now = { 0 };
	struct carveout_buf *held;
	struct run r;
	unsigned int i;
	int ok = 1;

	/* Something for "held by": 1M of ours while carveoutctl looks. */
	held = carveout_buf_alloc(ctx, MIB, &o);
	RUN(&r, "info");
	tap_ok(r.status == 0 && !r.err[0], "info exits 0 (%d)", r.status);
	snprintf(want, sizeof(want), "carveout %s: %u node", carveout_version(),
		 info.nr_nodes);
	tap_ok(strstr(r.out, want) && strstr(r.out, "capabilities: numa sub-page dma-map dma-buf") &&
	       strstr(r.out, "physical-addresses") && strstr(r.out, "free-map limits") &&
	       strstr(r.out, "limits: per open file"),
	       "info: version, nodes, capabilities, limits");
	test_info_limits(&r);
	if (held && !carveout_get_info(ctx, &now)) {
		snprintf(want, sizeof(want), "held by uid 0: %s over all open files\n",
			 carveout_format_size(now.user_bytes, a, 24, 0));
		tap_ok(now.user_bytes >= MIB && now.file_bytes == MIB &&
		       strstr(r.out, want) != NULL,
		       "info: what the user holds (%s), from INFO's user_bytes",
		       a);
	} else {
		tap_ok(0, "hold 1M while info runs");
	}
	for (i = 0; i < now.nr_nodes; i++) {	/* as INFO says while held */
		const struct carveout_node_info *n = &now.nodes[i];

		snprintf(want, sizeof(want), "%4u  %6u  %10s  %10s  %10s\n", n->node,
			 n->nr_pieces, carveout_format_size(n->region_bytes, a, 24, 0),
			 carveout_format_size(n->free_bytes, b, 24, 0),
			 carveout_format_size(n->largest_free, c, 24, 0));
		if (!strstr(r.out, want)) {
			tap_diag("missing row: %s", want);
			ok = 0;
		}
	}
	tap_ok(ok && now.nr_nodes == info.nr_nodes,
	       "info: a row per node with pieces, region, free, largest");
	carveout_buf_free(held);
	tap_ok(info_pieces_ok(r.out), "info: a row per piece from FREEMAP, summing to the region");
	tap_ok(info_classes_ok(r.out),
	       "info: the sub-page size classes as SLABINFO gives them to a new file");
	tap_ok(!strstr(r.out, "0x"), "info: no physical address (no debugfs)");
}

/* Buffers on @node and its free bytes, its pooled WC/UC memory drained. */
static uint64_t node_stat(unsigned int node, uint64_t *free_bytes)
{
	struct carveout_stats st;

	co_drain_pools(node);
	*free_bytes = ~0ULL;
	if (carveout_get_stats(ctx, node, &st))
		return ~0ULL;
	*free_bytes = st.free_bytes;
	return st.nr_buffers;
}

/*
 * What alloc prints for the only object of a fresh file in class @size:
 * one slab of the class, geometry from our own SLABINFO.
 */
static void slab_line(char *want, size_t len, unsigned int size)
{
	struct carveout_alloc_opts o = { .policy = CARVEOUT_POLICY_STRICT,
					 .flags = CARVEOUT_BUF_NO_MMAP };
	struct carveout_slab_class cl[64];
	struct carveout_buf *b;
	int n, k;

	/* Our file gets caches on node 0, so SLABINFO shows their geometry. */
	snprintf(want, len, "no class of %u bytes", size);
	o.node = (int)info.nodes[0].node;
	b = carveout_buf_alloc(ctx, size, &o);
	n = carveout_get_slabinfo(ctx, info.nodes[0].node, cl, 64);
	carveout_buf_free(b);
	for (k = 0; k < n && k < 64; k++)
		if (cl[k].obj_size == size)
			snprintf(want, len, "%u-byte objects, 1 of %u in use, %u per slab of %u page%s",
				 size, cl[k].objs_per_slab, cl[k].objs_per_slab,
				 cl[k].slab_pages, cl[k].slab_pages == 1 ? "" : "s");
}

static void test_alloc(void)
{
	char nodestr[16], val[128], want[128];
	uint64_t nb, fb, nb2, fb2;
	struct run r;
	unsigned int i;

	for (i = 0; i < info.nr_nodes; i++) {
		unsigned int node = info.nodes[i].node;

		snprintf(nodestr, sizeof(nodestr), "%u", node);
		nb = node_stat(node, &fb);
		RUN(&r, "alloc", "1M", "--node", nodestr);
		tap_ok(r.status == 0 && !r.err[0], "alloc 1M --node %u exits 0 (%d: %s)",
		       node, r.status, r.err);
		tap_ok(field(r.out, "node", val, sizeof(val)) && !strcmp(val, nodestr),
		       "alloc --node %u: node %s", node, field(r.out, "node", val, sizeof(val)) ? val : "?");
		tap_ok(field(r.out, "granted", val, sizeof(val)) &&
		       !strcmp(val, "1M (1048576 bytes)"), "alloc --node %u: granted 1M", node);
		tap_ok(field(r.out, "handle", val, sizeof(val)) && atoi(val) > 0 &&
		       field(r.out, "policy", val, sizeof(val)) && !strcmp(val, "strict") &&
		       field(r.out, "mmap", val, sizeof(val)) && !strncmp(val, "0x", 2) &&
		       field(r.out, "phys", val, sizeof(val)) && !strncmp(val, "0x", 2),
		       "alloc --node %u: handle, strict policy, mmap and phys addresses", node);
		tap_ok(strstr(r.out, "freed buffer") != NULL,
		       "alloc --node %u: freed before exit", node);
		nb2 = node_stat(node, &fb2);
		tap_ok(nb2 == nb && fb2 == fb, "alloc --node %u: nothing left behind", node);
	}

	RUN(&r, "alloc", "100");
	tap_ok(r.status == 0 && field(r.out, "granted", val, sizeof(val)) &&
	       !strcmp(val, "128 (128 bytes)") && field(r.out, "policy", val, sizeof(val)) &&
	       !strcmp(val, "local"), "alloc 100: granted 128, local policy");
	slab_line(want, sizeof(want), 128);
	tap_ok(r.status == 0 && field(r.out, "slab", val, sizeof(val)) &&
	       !strcmp(val, want), "alloc 100: its class from SLABINFO: \"%s\" (want \"%s\")",
	       field(r.out, "slab", val, sizeof(val)) ? val : "none", want);
	RUN(&r, "alloc", "100", "--pages", "--cache", "wc");
	tap_ok(r.status == 0 && field(r.out, "granted", val, sizeof(val)) &&
	       !strcmp(val, "4K (4096 bytes)") && field(r.out, "cache", val, sizeof(val)) &&
	       !strcmp(val, "wc"), "alloc 100 --pages --cache wc: a write-combine page");
	RUN(&r, "alloc", "64K", "--align", "1M", "--map", CO_EDU_PCI, "--dir", "to-device");
	tap_ok(r.status == 0 && field(r.out, "dma", val, sizeof(val)) &&
	       !strncmp(val, "0x", 2) && strstr(val, CO_EDU_PCI ", to-device"),
	       "alloc --map: DMA address for edu (%s)", r.status ? r.err : val);
	tap_ok(field(r.out, "phys", val, sizeof(val)) &&
	       !(strtoull(val, NULL, 16) & (MIB - 1)), "alloc --align 1M: aligned phys %s", val);
	RUN(&r, "alloc", "64K", "--device", CO_EDU_PCI, "--map", CO_EDU_PCI);
	tap_ok(r.status == 0 && field(r.out, "policy", val, sizeof(val)) &&
	       !strcmp(val, "device") && field(r.out, "dma", val, sizeof(val)) &&
	       strtoull(val, NULL, 16) + 65536 <= (1ULL << 28),
	       "alloc --device --map: device policy, edu reaches it below its mask");
	snprintf(nodestr, sizeof(nodestr), "%u", info.nodes[0].node);
	RUN(&r, "alloc", "1.5M", "--policy", "preferred", "--node", nodestr);
	tap_ok(r.status == 0 && field(r.out, "granted", val, sizeof(val)) &&
	       !strcmp(val, "1536K (1572864 bytes)") &&
	       field(r.out, "policy", val, sizeof(val)) && !strcmp(val, "preferred"),
	       "alloc 1.5M --policy preferred: exact 1536K granted");
}

static void test_hold(void)
{
	const char *args[] = { "alloc", "1M", "--node", "0", "--hold", NULL };
	char out[4096], node0[8];
	uint64_t nb, fb, nb2, fb2;
	FILE *ef = tmpfile();
	size_t len = 0;
	ssize_t n;
	int outfd, st;
	pid_t pid;

	snprintf(node0, sizeof(node0), "%u", info.nodes[0].node);
	args[3] = node0;
	nb = node_stat(info.nodes[0].node, &fb);
	pid = ef ? spawn(args, 0, &outfd, fileno(ef)) : -1;
	if (!tap_ok(pid > 0, "start alloc --hold"))
		return;
	out[0] = '\0';
	while (!strstr(out, "until SIGINT or SIGTERM\n") && len + 1 < sizeof(out) &&
	       (n = read(outfd, out + len, sizeof(out) - 1 - len)) > 0) {
		len += n;
		out[len] = '\0';
	}
	tap_ok(strstr(out, "holding buffer") && strstr(out, "until SIGINT or SIGTERM"),
	       "alloc --hold says it holds the buffer");
	nb2 = node_stat(info.nodes[0].node, &fb2);
	tap_ok(nb2 == nb + 1 && fb2 == fb - MIB,
	       "while held, STATS shows the buffer (%llu -> %llu buffers)",
	       (unsigned long long)nb, (unsigned long long)nb2);
	kill(pid, SIGTERM);
	read_all(outfd, out + len, sizeof(out) - len);
	close(outfd);
	st = wait_status(pid);
	tap_ok(st == 0 && strstr(out + len, "freed buffer"),
	       "SIGTERM: frees and exits 0 (%d)", st);
	nb2 = node_stat(info.nodes[0].node, &fb2);
	tap_ok(nb2 == nb && fb2 == fb, "after SIGTERM the memory is back");
	fclose(ef);
}

static void test_stats_json(void)
{
	struct carveout_alloc_opts o = { .policy = CARVEOUT_POLICY_STRICT };
	struct carveout_buf *small, *big;
	struct carveout_sysinfo now;
	struct summary sum;
	const char *p, *e;
	struct run r;
	unsigned int i, k;
	int ok;

	/* Something to see: a sub-page buffer (a slab of ours) and 4M. */
	o.node = (int)info.nodes[0].node;
	small = carveout_buf_alloc(ctx, 200, &o);
	big = carveout_buf_alloc(ctx, 4 * MIB, &o);
	tap_ok(small && big, "hold 200 bytes and 4M on node %d", o.node);

	RUN(&r, "stats", "--json");
	tap_ok(r.status == 0 && !r.err[0], "stats --json exits 0");
	if (!tap_ok(json_parse(r.out) == 0, "stats --json is valid JSON (%d values)", json_count())) {
		tap_diag("JSON stops at: %.40s", json_stop());
		goto out;
	}
	tap_ok(json_num("nodes.#") == info.nr_nodes && json_num("page_size") == info.page_size &&
	       json_num("total_bytes") == info.total_bytes &&
	       json_num("file_limit") == info.file_limit && json_num("user_limit") == info.user_limit &&
	       json_num("slab_max") == info.slab_max,
	       "JSON: nodes, page_size, total, limits match INFO");

	ok = 1;
	for (i = 0; i < info.nr_nodes; i++) {
		struct carveout_stats st;
		uint64_t blocks = 0;

		carveout_get_stats(ctx, info.nodes[i].node, &st);
		if (json_num("nodes.%u.node", i) != info.nodes[i].node ||
		    json_num("nodes.%u.region_bytes", i) != st.region_bytes ||
		    json_num("nodes.%u.free_bytes", i) != st.free_bytes ||
		    json_num("nodes.%u.used_bytes", i) != st.region_bytes - st.free_bytes ||
		    json_num("nodes.%u.largest_free", i) != st.largest_free ||
		    json_num("nodes.%u.buffers", i) != st.nr_buffers ||
		    json_num("nodes.%u.requested_bytes", i) != st.requested_bytes ||
		    json_num("nodes.%u.granted_bytes", i) != st.granted_bytes ||
		    json_num("nodes.%u.alloc_count", i) != st.alloc_count ||
		    json_num("nodes.%u.free_count", i) != st.free_count ||
		    json_num("nodes.%u.fail_count", i) != st.fail_count ||
		    json_num("nodes.%u.numa_hit", i) != st.numa_hit ||
		    json_num("nodes.%u.numa_miss", i) != st.numa_miss ||
		    json_num("nodes.%u.numa_foreign", i) != st.numa_foreign ||
		    json_num("nodes.%u.local_node", i) != st.local_node ||
		    json_num("nodes.%u.other_node", i) != st.other_node ||
		    json_num("nodes.%u.pieces", i) != info.nodes[i].nr_pieces ||
		    json_num("nodes.%u.free_blocks.#", i) != st.nr_orders) {
			tap_diag("node %u differs from STATS", info.nodes[i].node);
			ok = 0;
		}
		for (k = 0; k < st.nr_orders; k++) {
			if (json_num("nodes.%u.free_blocks.%u", i, k) != st.free_blocks[k])
				ok = 0;
			blocks += json_num("nodes.%u.free_blocks.%u", i, k) *
				  ((uint64_t)info.page_size << k);
		}
		if (blocks != st.free_bytes)
			ok = 0;
	}
	tap_ok(ok, "JSON: every per-node number and free_blocks equal the STATS ioctl");

	if (read_summary(&sum) || !sum.nr) {
		tap_ok(0, "read " DBG "/summary");
		goto out;
	}
	ok = sum.nr == (int)info.nr_nodes && sum.page_size == json_num("page_size") &&
	     sum.file_limit == json_num("file_limit") && sum.user_limit == json_num("user_limit") &&
	     sum.total_kb == json_num("total_bytes") >> 10;
	for (i = 0; i < (unsigned int)sum.nr && ok; i++) {
		const struct sum_node *n = &sum.n[i];

		if ((uint64_t)n->node != json_num("nodes.%u.node", i) ||
		    n->pieces != json_num("nodes.%u.pieces", i) ||
		    n->region_kb != json_num("nodes.%u.region_bytes", i) >> 10 ||
		    n->free_kb != json_num("nodes.%u.free_bytes", i) >> 10 ||
		    n->largest_kb != json_num("nodes.%u.largest_free", i) >> 10 ||
		    (uint64_t)n->buffers != json_num("nodes.%u.buffers", i) ||
		    n->requested_kb != json_num("nodes.%u.requested_bytes", i) >> 10 ||
		    n->granted_kb != json_num("nodes.%u.granted_bytes", i) >> 10) {
			tap_diag("summary node %d differs", n->node);
			ok = 0;
		}
	}
	tap_ok(ok, "JSON agrees with debugfs summary (%d node rows)", sum.nr);

	if (!carveout_get_info(ctx, &now))
		/* The 200-byte buffer holds its slab's page. */
		tap_ok(json_num("user_bytes") == now.user_bytes &&
		       now.user_bytes >= 4 * MIB + 4096 && json_get("version") &&
		       !strcmp(json_get("version"), carveout_version()),
		       "JSON: user_bytes (%llu) as INFO, version %s",
		       json_num("user_bytes"), json_get("version") ? json_get("version") : "?");
	else
		tap_ok(0, "INFO for user_bytes");

	RUN(&r, "stats", "--json", "--node", "63");
	tap_ok(r.status == 1 && one_error_line(&r, "no carveout region on that node"),
	       "stats --node 63: one error line, exit 1");
	RUN(&r, "stats");
	for (p = r.out; *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		tap_diag("%.*s", (int)(e - p), p);
	}
	tap_ok(r.status == 0 && strstr(r.out, "requested") && strstr(r.out, "granted") &&
	       strstr(r.out, "numa") && strstr(r.out, "free blocks"),
	       "stats text: usage, numa, free blocks");
out:
	carveout_buf_free(small);
	carveout_buf_free(big);
}

static int count_char(const char *s, size_t n, char c)
{
	int k = 0;

	while (n--)
		k += *s++ == c;
	return k;
}

/* First pfn of a node's piece 0, from debugfs (root); 0 if unknown. */
static unsigned long piece0_pfn(unsigned int node)
{
	char path[128], line[256];
	unsigned long pfn = 0, pages;
	unsigned int nid, pi;
	FILE *f;

	snprintf(path, sizeof(path), DBG "/node%u/buddyinfo", node);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %u, piece %u, pfn %lx+%lu", &nid, &pi,
			   &pfn, &pages) == 4 && pi == 0)
			break;
	fclose(f);
	return pfn;
}

/* The 80-cell bar of node @node's first piece in @out, or NULL. */
static const char *node_bar(const char *out, unsigned int node)
{
	char want[32];
	const char *line, *end;

	snprintf(want, sizeof(want), "node %u: ", node);
	line = strstr(out, want);
	line = line ? strstr(line, "    |") : NULL;
	if (!line)
		return NULL;
	end = strchr(line + 5, '|');
	return end && end - line - 5 == 80 ? line + 5 : NULL;
}

/* The free pages map prints for node @node's piece 0 agree with STATS. */
static void check_map_counts(const char *out, unsigned int node,
			     const struct carveout_stats *st)
{
	unsigned long long fp = ~0ULL, pages = ~0ULL;
	char want[32];
	const char *l;

	snprintf(want, sizeof(want), "node %u: ", node);
	l = strstr(out, want);
	l = l ? strstr(l, "  piece 0: ") : NULL;
	if (l)
		sscanf(strchr(l, ',') ? strchr(l, ',') : l, ", free %llu of %llu pages",
		       &fp, &pages);
	tap_ok(fp * info.page_size == st->free_bytes &&
	       pages * info.page_size == st->region_bytes,
	       "map: node %u piece 0 free %llu of %llu pages, as STATS", node, fp,
	       pages);
}

static void check_map_position(const char *bar, const struct carveout_buf *half,
			       const struct carveout_stats *st, int used)
{
	unsigned long pfn0 = piece0_pfn(info.nodes[0].node);
	int first, want_first;

	if (!pfn0 || !half->phys_addr) {
		tap_skip("no debugfs piece start", "map: buffer drawn at its position");
		return;
	}
	/* One run of '#' that starts where the buffer lies in the piece. */
	first = strchr(bar, '#') - bar;
	want_first = (int)(((half->phys_addr >> 12) - pfn0) * 80 /
			   (st->region_bytes >> 12));
	tap_ok(count_char(bar + first, used, '#') == used &&
	       first >= want_first - 1 && first <= want_first + 1,
	       "map: the buffer at phys %#llx is drawn at cell %d (want %d)",
	       (unsigned long long)half->phys_addr, first, want_first);
}

/* map as an unprivileged user draws the same picture (no debugfs). */
static void check_map_nobody(const struct run *root)
{
	struct stat sb;
	struct run r;

	if (stat("/", &sb) || !(sb.st_mode & S_IXOTH) ||
	    chmod(CARVEOUT_DEV_PATH, 0666)) {
		tap_skip("cannot let nobody open the device", "map as nobody");
		return;
	}
	run_as(&r, 65534, (const char *const[]){ "map", "--width", "86", NULL });
	chmod(CARVEOUT_DEV_PATH, 0600);
	tap_ok(r.status == 0 && !r.err[0] && !strcmp(r.out, root->out),
	       "map as nobody: the same picture as root's (exit %d: %.*s)",
	       r.status, (int)strcspn(r.err, "\n"), r.err);
}

static void test_map(void)
{
	struct carveout_alloc_opts o = { .policy = CARVEOUT_POLICY_STRICT };
	struct carveout_stats st;
	struct carveout_buf *half;
	const char *line, *end, *bar;
	int used = -1, expect;
	char want[32];
	struct run r;
	unsigned int i;

	/* Half of node 0 in use: about half of its bar is '#'. */
	o.node = (int)info.nodes[0].node;
	o.flags = CARVEOUT_BUF_NO_MMAP;
	half = carveout_buf_alloc(ctx, info.nodes[0].region_bytes / 2, &o);
	carveout_get_stats(ctx, info.nodes[0].node, &st);
	RUN(&r, "map", "--width", "86");
	tap_ok(r.status == 0 && !r.err[0], "map exits 0");
	for (line = r.out; *line; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		tap_diag("%.*s", (int)(end - line), line);
	}
	for (i = 0; i < info.nr_nodes; i++) {
		snprintf(want, sizeof(want), "node %u: ", info.nodes[i].node);
		tap_ok(strstr(r.out, want) != NULL, "map: a section for node %u",
		       info.nodes[i].node);
	}
	tap_ok(strstr(r.out, "  piece 0: ") && strstr(r.out, "1 cell = ") &&
	       !strstr(r.out, "pfn"), "map: pieces drawn from FREEMAP, no pfn");
	bar = info.nodes[0].nr_pieces == 1 ? node_bar(r.out, info.nodes[0].node) : NULL;
	if (bar)
		used = count_char(bar, 80, '#');
	expect = (int)((st.region_bytes - st.free_bytes) * 80 / st.region_bytes);
	if (info.nodes[0].nr_pieces == 1) {
		check_map_counts(r.out, info.nodes[0].node, &st);
		tap_ok(half && used >= expect - 1 && used <= expect + 1,
		       "map: node %u bar is 80 wide with %d '#' for %d%% used (want %d)",
		       info.nodes[0].node, used,
		       (int)((st.region_bytes - st.free_bytes) * 100 / st.region_bytes),
		       expect);
		if (half && used > 0)
			check_map_position(bar, half, &st, used);
	} else {
		tap_skip("node 0 has several pieces", "map: bar proportions");
	}
	check_map_nobody(&r);
	carveout_buf_free(half);
	ERR("map --node 63", 1, "no carveout region on that node", "map", "--node", "63");
}

static void test_watch(void)
{
	const char *args[] = { "stats", "--watch", "0.2", NULL };
	char *out = malloc(OUT_MAX);
	const char *p;
	int outfd, st, frames = 0;
	FILE *ef = tmpfile();
	pid_t pid;

	pid = out && ef ? spawn(args, 0, &outfd, fileno(ef)) : -1;
	if (!tap_ok(pid > 0, "start stats --watch 0.2"))
		goto out;
	usleep(900 * 1000);
	kill(pid, SIGINT);
	read_all(outfd, out, OUT_MAX);
	close(outfd);
	st = wait_status(pid);
	for (p = out; (p = strstr(p, "\033[H\033[2J")); p++)
		frames++;
	tap_ok(st == 0 && frames >= 2 && strstr(out, "Ctrl-C"),
	       "stats --watch redraws (%d frames) until SIGINT, exit %d", frames, st);
out:
	free(out);
	if (ef)
		fclose(ef);
}

static void test_errors(void)
{
	struct stat sb;
	struct run r;

	ERR("alloc 12Q", 2, "not a size", "alloc", "12Q");
	ERR("alloc 0", 2, "at least one byte", "alloc", "0");
	ERR("alloc with no size", 2, "missing SIZE", "alloc");
	ERR("alloc 1M --node 63", 1, "no such node", "alloc", "1M", "--node", "63");
	ERR("alloc 1M --node x", 2, "not a node number", "alloc", "1M", "--node", "x");
	ERR("alloc 1T", 1, "larger than any carveout region", "alloc", "1T");
	ERR("alloc --align 3K", 2, "power of two", "alloc", "4K", "--align", "3K");
	ERR("alloc --policy sideways", 2, "local, strict, preferred or device",
	    "alloc", "1M", "--policy", "sideways");
	ERR("alloc --policy strict without a node", 2, "needs --node",
	    "alloc", "1M", "--policy", "strict");
	ERR("alloc --cache writeback", 2, "cached, wc or uncached",
	    "alloc", "1M", "--cache", "writeback");
	ERR("alloc --map to a missing device", 1, "no such device",
	    "alloc", "64K", "--map", "0000:7f:1f.7");
	ERR("alloc --device missing", 1, "no such node or device",
	    "alloc", "64K", "--device", "0000:7f:1f.7");
	ERR("unknown option", 2, "unknown option", "alloc", "1M", "--frob");
	ERR("option without its argument", 2, "needs an argument", "stats", "--node");
	ERR("unknown command", 2, "unknown command", "frobnicate");
	ERR("no command", 2, "missing command", "--dev", "/dev/null");
	ERR("stats --watch 0", 2, "seconds", "stats", "--watch", "0");
	ERR("missing device node", 1, "module is not loaded",
	    "--dev", "/dev/carveout-missing", "info");

	/* /dev/carveout is 0600: nobody may not open it. */
	if (stat("/", &sb) == 0 && !(sb.st_mode & S_IXOTH)) {
		tap_skip("/ is not searchable by others, nobody cannot run carveoutctl",
			 "info as nobody: permission error line");
		return;
	}
	run_as(&r, 65534, (const char *const[]){ "info", NULL });
	tap_ok(r.status == 1 && one_error_line(&r, "no permission to open /dev/carveout"),
	       "info as nobody: permission error line (%d: %.*s)", r.status,
	       (int)strcspn(r.err, "\n"), r.err);
}

static int find_ctl(const char *argv0)
{
	const char *env = getenv("CARVEOUTCTL");
	char self[512];

	if (env && !access(env, X_OK)) {
		snprintf(ctl, sizeof(ctl), "%s", env);
		return 0;
	}
	snprintf(self, sizeof(self), "%s", argv0);
	snprintf(ctl, sizeof(ctl), "%s/carveoutctl", dirname(self));
	if (!access(ctl, X_OK))
		return 0;
	snprintf(ctl, sizeof(ctl), "/lib/carveout/tests/carveoutctl");
	return access(ctl, X_OK);
}

int main(int argc, char **argv)
{
	uint64_t nb[CARVEOUT_MAX_NODES], fb[CARVEOUT_MAX_NODES], nb2, fb2;
	unsigned int i;
	int ok = 1;

	(void)argc;
	tap_plan_begin("carveoutctl");
	if (find_ctl(argv[0]))
		tap_bail("carveoutctl not found (next to %s or in /lib/carveout/tests)",
			 argv[0]);
	tap_diag("using %s", ctl);
	ctx = carveout_open(NULL);
	if (!ctx)
		tap_bail("open " CARVEOUT_DEV_PATH ": %s",
			 carveout_strerror_op(errno, CARVEOUT_OP_OPEN));
	if (carveout_get_info(ctx, &info) || !info.nr_nodes)
		tap_bail("no carveout region");
	for (i = 0; i < info.nr_nodes; i++)
		nb[i] = node_stat(info.nodes[i].node, &fb[i]);
	test_help();
	test_info();
	test_alloc();
	test_hold();
	test_stats_json();
	test_map();
	test_watch();
	test_errors();
	/* Our file's sub-page caches keep empty slabs until it closes. */
	carveout_close(ctx);
	ctx = carveout_open(NULL);
	if (!ctx)
		tap_bail("reopen " CARVEOUT_DEV_PATH ": %s", strerror(errno));
	for (i = 0; i < info.nr_nodes; i++) {
		nb2 = node_stat(info.nodes[i].node, &fb2);
		if (nb2 != nb[i] || fb2 != fb[i]) {
			tap_diag("node %u: %llu buffers, %llu free (at start %llu, %llu)",
				 info.nodes[i].node, (unsigned long long)nb2,
				 (unsigned long long)fb2, (unsigned long long)nb[i],
				 (unsigned long long)fb[i]);
			ok = 0;
		}
	}
	tap_ok(ok, "every node has the buffers and free bytes it had at the start");
	carveout_close(ctx);
	return tap_finish();
}
