// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for carveout's buffers and their lifecycle (carveout_buffer):
 * placement, zeroing, owner isolation of sub-page objects, references,
 * limits, DMA mappings and their teardown.  They allocate from the regions
 * of the loaded carveout.ko.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/dma-buf.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/sizes.h>

#include <linux/carveout.h>

#include <carveout/kapi.h>

#include "carveout.h"
#include "co_kunit.h"

static int co_some_node(void)
{
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (co_nodes[nid])
			return nid;
	return -1;
}

static struct co_file *co_test_file(struct kunit *test)
{
	struct co_file *f = co_file_create();

	KUNIT_ASSERT_NOT_NULL(test, f);
	return f;
}

static struct co_buffer *co_test_alloc(struct kunit *test, struct co_file *f,
				       u64 size, u64 align, u32 flags)
{
	struct co_alloc_req req = {
		.size = size, .align = align, .flags = flags,
		.policy = CARVEOUT_POLICY_STRICT, .nid = co_some_node(),
	};

	return co_buffer_alloc(f, &req);
}

static void co_buffer_pages_roundtrip(struct kunit *test)
{
	struct co_file *f = co_test_file(test);
	struct co_buffer *buf;
	struct co_node *cn;
	u64 free_before;
	s64 nr_before;

	cn = co_nodes[co_some_node()];
	free_before = co_node_free_bytes(cn);
	nr_before = atomic64_read(&cn->nr_buffers);
	buf = co_test_alloc(test, f, 3 * PAGE_SIZE + 1, 0, CARVEOUT_ALLOC_PAGES);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	KUNIT_EXPECT_EQ(test, buf->granted, 4 * (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, buf->size, 3 * (u64)PAGE_SIZE + 1);
	KUNIT_EXPECT_PTR_EQ(test, buf->node, cn);
	KUNIT_EXPECT_NULL(test, buf->slab);
	KUNIT_EXPECT_EQ(test, offset_in_page(buf->phys), 0UL);
	KUNIT_EXPECT_EQ(test, co_node_free_bytes(cn), free_before - buf->granted);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cn->nr_buffers), nr_before + 1);
	KUNIT_EXPECT_EQ(test, pfn_to_nid(PHYS_PFN(buf->phys)), cn->nid);
	co_buffer_put(buf);
	KUNIT_EXPECT_EQ(test, co_node_free_bytes(cn), free_before);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cn->nr_buffers), nr_before);
	co_file_put(f);
}

static void co_buffer_zeroed(struct kunit *test)
{
	struct co_file *f = co_test_file(test);
	struct co_buffer *buf;
	phys_addr_t first;
	u8 *p;

	buf = co_test_alloc(test, f, 8 * PAGE_SIZE, 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	p = phys_to_virt(buf->phys);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(p, 0, buf->granted));
	memset(p, 0xa5, buf->granted);
	first = buf->phys;
	co_buffer_put(buf);
	/* Lowest address first: the same pages come back, zeroed. */
	buf = co_test_alloc(test, f, 8 * PAGE_SIZE, 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	KUNIT_EXPECT_EQ(test, buf->phys, first);
	p = phys_to_virt(buf->phys);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(p, 0, buf->granted));
	co_buffer_put(buf);
	co_file_put(f);
}

static void co_buffer_slab_owners_apart(struct kunit *test)
{
	struct co_file *f1 = co_test_file(test), *f2 = co_test_file(test);
	struct co_buffer *a, *b, *c;

	a = co_test_alloc(test, f1, 100, 0, 0);
	b = co_test_alloc(test, f2, 100, 0, 0);
	c = co_test_alloc(test, f1, 100, 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_EXPECT_NOT_NULL(test, a->slab);
	KUNIT_EXPECT_EQ(test, a->granted, (u64)co_slab_class_size(100));
	KUNIT_EXPECT_EQ(test, a->phys % CO_SLAB_ALIGN, 0ULL);
	/* Two owners never share a page; one owner packs its objects. */
	KUNIT_EXPECT_NE(test, PHYS_PFN(a->phys), PHYS_PFN(b->phys));
	KUNIT_EXPECT_EQ(test, PHYS_PFN(a->phys), PHYS_PFN(c->phys));
	KUNIT_EXPECT_NE(test, a->phys, c->phys);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(phys_to_virt(c->phys), 0, c->granted));
	co_buffer_put(a);
	co_buffer_put(b);
	co_buffer_put(c);
	co_file_put(f1);
	co_file_put(f2);
}

static void co_buffer_refs_keep_memory(struct kunit *test)
{
	struct co_file *f = co_test_file(test);
	struct co_buffer *buf;
	struct co_node *cn;
	u64 free_before;

	cn = co_nodes[co_some_node()];
	free_before = co_node_free_bytes(cn);
	buf = co_test_alloc(test, f, SZ_64K, 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	co_buffer_get(buf);
	/* The owner goes first; the buffer keeps it (and its caches). */
	co_file_put(f);
	co_buffer_put(buf);
	KUNIT_EXPECT_EQ(test, co_node_free_bytes(cn), free_before - SZ_64K);
	co_buffer_put(buf);
	KUNIT_EXPECT_EQ(test, co_node_free_bytes(cn), free_before);
}

static void co_buffer_alignment(struct kunit *test)
{
	struct co_file *f = co_test_file(test);
	struct co_buffer *buf;

	buf = co_test_alloc(test, f, PAGE_SIZE, SZ_2M, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	KUNIT_EXPECT_EQ(test, buf->phys % SZ_2M, 0ULL);
	KUNIT_EXPECT_EQ(test, buf->granted, (u64)PAGE_SIZE);
	co_buffer_put(buf);
	co_file_put(f);
}

static void co_buffer_file_limit(struct kunit *test)
{
	unsigned long saved = co_file_limit;
	struct co_file *f = co_test_file(test);
	struct co_buffer *a, *b;

	co_file_limit = 2 * PAGE_SIZE;
	a = co_test_alloc(test, f, 2 * PAGE_SIZE, 0, 0);
	b = co_test_alloc(test, f, 1, 0, CARVEOUT_ALLOC_PAGES);
	co_file_limit = saved;
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(b), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->bytes), 2LL * PAGE_SIZE);
	co_buffer_put(a);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->bytes), 0LL);
	if (!IS_ERR(b))
		co_buffer_put(b);
	co_file_put(f);
}

/* Bytes @f and its user hold now. */
static void co_held_now(struct co_file *f, s64 *file, s64 *user)
{
	*file = atomic64_read(&f->bytes);
	*user = atomic64_read(&f->user->bytes);
}

/*
 * A sub-page request whose slab cannot grow falls back to whole pages;
 * when the page charge then fails, the file's and the user's bytes go
 * back exactly to where they were (they once dropped below it: the
 * charge was undone twice).
 */
static void co_buffer_fallback_uncharge(struct kunit *test)
{
	unsigned long saved = co_file_limit, pfn;
	struct co_file *f = co_test_file(test);
	int nid = co_some_node();
	s64 file0, user0, file1, user1;
	struct co_buffer *buf;
	struct co_buddy *full;

	/* The file's slab set on the node is over an arena with no room. */
	full = kunit_kzalloc(test, sizeof(*full), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, full);
	KUNIT_ASSERT_EQ(test, co_buddy_init(full, 0x200000, 1), 0);
	KUNIT_ASSERT_EQ(test, co_buddy_alloc(full, 1, 0, 0, &pfn), 0);
	f->slab[nid] = co_slab_set_create(full, "full");
	KUNIT_ASSERT_NOT_NULL(test, f->slab[nid]);

	co_held_now(f, &file0, &user0);
	co_file_limit = file0 + PAGE_SIZE - 1;
	buf = co_test_alloc(test, f, 64, 0, 0);
	co_file_limit = saved;
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(buf), -EDQUOT);
	co_held_now(f, &file1, &user1);
	KUNIT_EXPECT_EQ(test, file1, file0);
	KUNIT_EXPECT_EQ(test, user1, user0);
	if (!IS_ERR(buf))
		co_buffer_put(buf);

	/* Without the limit the fallback works and charges its page. */
	buf = co_test_alloc(test, f, 64, 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	KUNIT_EXPECT_NULL(test, buf->slab);
	KUNIT_EXPECT_EQ(test, buf->granted, (u64)PAGE_SIZE);
	co_held_now(f, &file1, &user1);
	KUNIT_EXPECT_EQ(test, file1, file0 + (s64)PAGE_SIZE);
	co_buffer_put(buf);
	co_held_now(f, &file1, &user1);
	KUNIT_EXPECT_EQ(test, file1, file0);
	KUNIT_EXPECT_EQ(test, user1, user0);
	co_file_put(f);
	KUNIT_EXPECT_EQ(test, co_buddy_free(full, pfn, 1), 0);
	co_buddy_destroy(full);
}

/*
 * Sub-page buffers charge the pages of their slabs: 64 buffers of 64
 * bytes share one page and are charged one page (a file limit of a page
 * lets them all in, and no 65th); freeing 63 leaves the page charged (the
 * last one pins it), and the empty slab the set keeps stays charged until
 * the file goes.  The limit also keeps the test exact when the task
 * migrates: a grow it refuses pulls the objects parked in other CPUs'
 * magazines back first.
 */
static void co_buffer_slab_page_charge(struct kunit *test)
{
	unsigned int i, n = PAGE_SIZE / 64;
	unsigned long saved = co_file_limit;
	struct co_file *f = co_test_file(test);
	struct co_buffer **bufs, *extra;
	struct co_slab_set *set;
	s64 user0, file, user;
	struct co_user *u;

	bufs = kunit_kcalloc(test, n, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	co_held_now(f, &file, &user0);
	KUNIT_EXPECT_EQ(test, file, 0LL);
	co_file_limit = PAGE_SIZE;
	for (i = 0; i < n; i++) {
		bufs[i] = co_test_alloc(test, f, 64, 0, 0);
		if (IS_ERR(bufs[i]))
			break;
	}
	extra = co_test_alloc(test, f, 64, 0, 0);
	co_file_limit = saved;
	KUNIT_ASSERT_EQ(test, i, n);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(extra), -EDQUOT);
	if (!IS_ERR(extra))
		co_buffer_put(extra);
	set = bufs[0]->slab;
	KUNIT_ASSERT_NOT_NULL(test, set);
	co_held_now(f, &file, &user);
	KUNIT_EXPECT_EQ(test, file, (s64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, user, user0 + (s64)PAGE_SIZE);
	/* Free 63 of the 64: the last one pins the page. */
	for (i = 1; i < n; i++)
		co_buffer_put(bufs[i]);
	co_slab_drain(set);
	co_held_now(f, &file, &user);
	KUNIT_EXPECT_EQ(test, file, (s64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, user, user0 + (s64)PAGE_SIZE);
	co_buffer_put(bufs[0]);
	co_slab_drain(set);
	/* The empty slab the set keeps is still held, and charged. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->bytes),
			(s64)PAGE_SIZE * CO_SLAB_EMPTY_RESERVE);
	/* The file's last reference takes its slabs, and their charge. */
	u = f->user;
	co_file_put(f);
	KUNIT_EXPECT_EQ(test, atomic64_read(&u->bytes), user0);
}

/* A 64-byte limit no longer fits a sub-page buffer: its slab is a page. */
static void co_buffer_slab_limit(struct kunit *test)
{
	unsigned long saved = co_file_limit;
	struct co_file *f = co_test_file(test);
	struct co_buffer *buf;

	co_file_limit = PAGE_SIZE - 1;
	buf = co_test_alloc(test, f, 64, 0, 0);
	co_file_limit = saved;
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(buf), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->bytes), 0LL);
	if (!IS_ERR(buf))
		co_buffer_put(buf);
	co_file_put(f);
}

/*
 * The reserve: a file opened without CAP_SYS_ADMIN cannot take it, by
 * whole pages or by a slab; a privileged file can.
 */
static void co_buffer_reserve(struct kunit *test)
{
	unsigned int saved = co_reserve_pct;
	struct co_file *user = co_test_file(test), *root = co_test_file(test);
	struct co_buffer *a, *b, *c, *d;

	user->privileged = false;
	KUNIT_EXPECT_TRUE(test, root->privileged);
	co_reserve_pct = 100;
	a = co_test_alloc(test, user, PAGE_SIZE, 0, 0);
	b = co_test_alloc(test, user, 100, 0, 0);
	c = co_test_alloc(test, root, PAGE_SIZE, 0, 0);
	d = co_test_alloc(test, root, 100, 0, 0);
	co_reserve_pct = saved;
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(a), -ENOMEM);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(b), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic64_read(&user->bytes), 0LL);
	KUNIT_EXPECT_FALSE(test, IS_ERR(c));
	KUNIT_EXPECT_FALSE(test, IS_ERR(d));
	if (!IS_ERR(c))
		co_buffer_put(c);
	if (!IS_ERR(d))
		co_buffer_put(d);
	/* Below the reserve, the same requests work. */
	co_reserve_pct = 0;
	a = co_test_alloc(test, user, PAGE_SIZE, 0, 0);
	co_reserve_pct = saved;
	KUNIT_EXPECT_FALSE(test, IS_ERR(a));
	if (!IS_ERR(a))
		co_buffer_put(a);
	co_file_put(user);
	co_file_put(root);
}

/* With no user_limit set, unprivileged files meet the default share. */
static void co_buffer_default_user_limit(struct kunit *test)
{
	unsigned long saved_limit = co_user_limit;
	unsigned int saved_share = co_user_share;
	struct co_file *user = co_test_file(test), *root = co_test_file(test);
	u64 share;

	user->privileged = false;
	co_user_limit = 0;
	co_user_share = 50;
	share = co_file_user_limit(user);
	KUNIT_EXPECT_GT(test, share, 0ULL);
	KUNIT_EXPECT_EQ(test, co_file_user_limit(root), 0ULL);
	KUNIT_EXPECT_EQ(test, co_file_user_limit(co_kernel_client), 0ULL);
	co_user_share = 0;
	KUNIT_EXPECT_EQ(test, co_file_user_limit(user), 0ULL);
	co_user_limit = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, co_file_user_limit(user), (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, co_file_user_limit(root), (u64)PAGE_SIZE);
	co_user_limit = saved_limit;
	co_user_share = saved_share;
	co_file_put(user);
	co_file_put(root);
}

static void co_buffer_too_big(struct kunit *test)
{
	struct co_file *f = co_test_file(test);
	struct co_node *cn = co_nodes[co_some_node()];
	struct co_buffer *buf;
	s64 fails = atomic64_read(&cn->fail_count);

	buf = co_test_alloc(test, f, cn->bytes + PAGE_SIZE, 0, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(buf), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cn->fail_count), fails + 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->bytes), 0LL);
	co_file_put(f);
}

static void co_buffer_dma_map_kill(struct kunit *test)
{
	struct co_file *f = co_test_file(test);
	struct device *dev = co_find_device("0000:00:03.0");
	struct co_buffer *buf;
	dma_addr_t addr;

	if (!dev) {
		co_file_put(f);
		kunit_skip(test, "no edu device at 0000:00:03.0");
	}
	buf = co_test_alloc(test, f, SZ_16K, 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &addr), 0);
	KUNIT_EXPECT_FALSE(test, list_empty(&buf->maps));
	KUNIT_EXPECT_EQ(test, co_dma_unmap(buf, dev, addr), 0);
	KUNIT_EXPECT_EQ(test, co_dma_unmap(buf, dev, addr), -ENOENT);
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_FROM_DEVICE, &addr), 0);
	/* Giving the handle up removes the device's mappings. */
	co_buffer_kill(buf);
	KUNIT_EXPECT_TRUE(test, list_empty(&buf->maps));
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &addr),
			-ENOENT);
	co_buffer_put(buf);
	put_device(dev);
	co_file_put(f);
}

/* MAP past carveout.max_maps fails with EMFILE; unmaps give room back. */
static void co_buffer_map_cap(struct kunit *test)
{
	unsigned int saved = co_max_maps;
	struct co_file *f = co_test_file(test);
	struct device *dev = co_find_device("0000:00:03.0");
	struct co_buffer *buf;
	dma_addr_t a, b, c, d;

	if (!dev) {
		co_file_put(f);
		kunit_skip(test, "no edu device at 0000:00:03.0");
	}
	buf = co_test_alloc(test, f, SZ_16K, 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	co_max_maps = 3;
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &a), 0);
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &b), 0);
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_FROM_DEVICE, &c), 0);
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &d), -EMFILE);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->nr_maps), 3);
	KUNIT_EXPECT_EQ(test, co_dma_unmap(buf, dev, a), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->nr_maps), 2);
	/* A map refused for another reason (a second writer) counts nothing. */
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_FROM_DEVICE, &d), -EBUSY);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->nr_maps), 2);
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &d), 0);
	co_max_maps = saved;
	KUNIT_EXPECT_EQ(test, atomic_read(&f->nr_maps), 3);
	co_buffer_kill(buf);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->nr_maps), 0);
	co_buffer_put(buf);
	put_device(dev);
	co_file_put(f);
}

static bool co_buffer_kapi_site(unsigned long ip, void *site)
{
	return ip == (unsigned long)site;
}

static noinline void co_buffer_kapi_caller(struct kunit *test)
{
	struct co_file *f = co_test_file(test);
	struct carveout_kbuf *kb;
	struct co_buffer *buf;
	s64 user_before, kernel_before;
	char site[128];
	u8 *p;

	/* In-kernel buffers are charged to an account of their own. */
	KUNIT_EXPECT_PTR_NE(test, f->user, co_kernel_client->user);
	user_before = atomic64_read(&f->user->bytes);
	kernel_before = atomic64_read(&co_kernel_client->user->bytes);
	kb = carveout_kbuf_alloc(300, 0, co_some_node(), CARVEOUT_POLICY_STRICT,
				 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kb));
	buf = (struct co_buffer *)kb;
	KUNIT_EXPECT_PTR_EQ(test, buf->owner, co_kernel_client);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->user->bytes), user_before);
	KUNIT_EXPECT_EQ(test, atomic64_read(&co_kernel_client->user->bytes),
			kernel_before + (s64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, carveout_kbuf_nid(kb), co_some_node());
	/* In-kernel buffers are whole pages. */
	KUNIT_EXPECT_EQ(test, carveout_kbuf_size(kb), (size_t)PAGE_SIZE);
	KUNIT_EXPECT_NULL(test, buf->slab);
	KUNIT_EXPECT_EQ(test, virt_to_phys(carveout_kbuf_vaddr(kb)),
			carveout_kbuf_phys(kb));
	p = carveout_kbuf_vaddr(kb);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(p, 0, carveout_kbuf_size(kb)));
	/*
	 * The call site is recorded as an address, named when printed; a
	 * walk names it for good (as when its module goes).
	 */
	snprintf(site, sizeof(site), "%pS", buf->caller);
	KUNIT_EXPECT_NOT_NULL(test, strstr(site, "co_buffer_kapi_caller"));
	KUNIT_EXPECT_NULL(test, buf->caller_sym);
	co_callsites_name(co_buffer_kapi_site, buf->caller);
	KUNIT_ASSERT_NOT_NULL(test, buf->caller_sym);
	KUNIT_EXPECT_STREQ(test, buf->caller_sym, site);
	carveout_kbuf_free(kb);
	co_file_put(f);

	kb = carveout_kbuf_alloc(0, 0, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(kb), -EINVAL);
	kb = carveout_kbuf_alloc(4096, 3, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(kb), -EINVAL);
	kb = carveout_kbuf_alloc(4096, 0, 0, CARVEOUT_POLICY_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(kb), -EINVAL);
}

static void co_buffer_kapi(struct kunit *test)
{
	co_buffer_kapi_caller(test);
}

/* Each live in-kernel buffer pins carveout; freeing it lets go. */
static void co_buffer_kapi_pins_module(struct kunit *test)
{
	struct carveout_kbuf *kb[2];
	int base = module_refcount(co_module);

	kb[0] = carveout_kbuf_alloc(PAGE_SIZE, 0, co_some_node(),
				    CARVEOUT_POLICY_STRICT, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kb[0]));
	KUNIT_EXPECT_EQ(test, module_refcount(co_module), base + 1);
	kb[1] = carveout_kbuf_alloc(3 * PAGE_SIZE, 0, co_some_node(),
				    CARVEOUT_POLICY_STRICT, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kb[1]));
	KUNIT_EXPECT_EQ(test, module_refcount(co_module), base + 2);
	carveout_kbuf_free(kb[0]);
	KUNIT_EXPECT_EQ(test, module_refcount(co_module), base + 1);
	carveout_kbuf_free(kb[1]);
	KUNIT_EXPECT_EQ(test, module_refcount(co_module), base);

	/* A failed allocation takes no reference. */
	kb[0] = carveout_kbuf_alloc(0, 0, 0, 0, 0);
	KUNIT_EXPECT_TRUE(test, IS_ERR(kb[0]));
	kb[0] = carveout_kbuf_alloc(1ULL << 40, 0, co_some_node(),
				    CARVEOUT_POLICY_STRICT, 0);
	KUNIT_EXPECT_TRUE(test, IS_ERR(kb[0]));
	KUNIT_EXPECT_EQ(test, module_refcount(co_module), base);
}

struct co_seg_case {
	unsigned int max_seg;
	unsigned long boundary;
};

static const struct co_seg_case co_seg_cases[] = {
	{ SZ_64K, ULONG_MAX },		/* the default without dma_parms */
	{ SZ_4M, SZ_1M - 1 },		/* boundary, not size, limits */
	{ 3 * SZ_64K + 512, SZ_256K - 1 },	/* both; odd size */
	{ 2048, ULONG_MAX },		/* segments smaller than a page */
};

/* Every segment within the device's limits, together the whole range. */
static void co_check_segments(struct kunit *test, struct sg_table *sgt,
			      const struct co_seg_case *c, phys_addr_t start,
			      u64 size)
{
	struct scatterlist *sg;
	phys_addr_t pos = start, s;
	unsigned int i;

	for_each_sgtable_sg(sgt, sg, i) {
		s = sg_phys(sg);
		KUNIT_EXPECT_EQ(test, s, pos);
		KUNIT_EXPECT_LE(test, sg->length, c->max_seg);
		KUNIT_EXPECT_EQ(test, s & ~(phys_addr_t)c->boundary,
				(s + sg->length - 1) & ~(phys_addr_t)c->boundary);
		pos += sg->length;
	}
	KUNIT_EXPECT_EQ(test, pos, start + size);
}

/*
 * Exported buffers reach importers as segments within the importer's
 * max_seg_size and segment boundary.
 */
static void co_buffer_dmabuf_segments(struct kunit *test)
{
	struct dma_buf_attachment *att;
	const struct co_seg_case *c;
	struct carveout_kbuf *kb;
	struct dma_buf *dmabuf;
	struct sg_table sgt;
	struct device *dev;
	phys_addr_t start;

	dev = kunit_device_register(test, "carveout-seg");
	KUNIT_ASSERT_FALSE(test, IS_ERR(dev));
	dev->dma_parms = kunit_kzalloc(test, sizeof(*dev->dma_parms),
				       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dev->dma_parms);
	kb = carveout_kbuf_alloc(SZ_4M + 2 * PAGE_SIZE, 0, co_some_node(),
				 CARVEOUT_POLICY_STRICT, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(kb));
	/* Start a page in, so the range is not aligned to any boundary. */
	start = carveout_kbuf_phys(kb) + PAGE_SIZE;
	for (c = co_seg_cases; c < co_seg_cases + ARRAY_SIZE(co_seg_cases);
	     c++) {
		dma_set_max_seg_size(dev, c->max_seg);
		dma_set_seg_boundary(dev, c->boundary);
		KUNIT_ASSERT_EQ(test, co_dmabuf_build_sgt(&sgt, dev, start,
							  SZ_4M), 0);
		co_check_segments(test, &sgt, c, start, SZ_4M);
		sg_free_table(&sgt);
	}

	/* An attachment gets such a table (the last case's limits). */
	dmabuf = carveout_kbuf_export(kb, O_RDWR);
	KUNIT_ASSERT_FALSE(test, IS_ERR(dmabuf));
	att = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_FALSE(test, IS_ERR(att));
	co_check_segments(test, &((struct co_dmabuf_att *)att->priv)->sgt,
			  c - 1, carveout_kbuf_phys(kb), dmabuf->size);
	dma_buf_detach(dmabuf, att);
	dma_buf_put(dmabuf);
	carveout_kbuf_free(kb);
}

struct co_fits_case {
	const char *name;
	unsigned long pfn, nr, want, align, limit;
	bool fits;
};

static const struct co_fits_case co_fits_cases[] = {
	{ "same size", 0x10010, 16, 16, 0, 0, true },
	{ "larger block", 0x10010, 32, 16, 0, 0, false },
	{ "smaller block", 0x10010, 8, 16, 0, 0, false },
	{ "aligned", 0x10200, 16, 16, 0x200, 0, true },
	{ "misaligned", 0x10210, 16, 16, 0x200, 0, false },
	{ "align of one page", 0x10011, 16, 16, 1, 0, true },
	{ "below the limit", 0x10010, 16, 16, 0, 0x10020, true },
	{ "across the limit", 0x10010, 16, 16, 0, 0x1001f, false },
};

static void co_fits_desc(const struct co_fits_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(co_fits, co_fits_cases, co_fits_desc);

/* A pooled block serves a request of its size, alignment and DMA limit. */
static void co_buffer_memtype_fits(struct kunit *test)
{
	const struct co_fits_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, co_memtype_fits(c->pfn, c->nr, c->want, c->align,
					      c->limit), c->fits);
}

/*
 * A freed write-combined block stays converted and serves the next
 * request of its size, zeroed, without a conversion; a request it does not
 * fit gets new memory; a drain gives everything back to the arena.
 */
static void co_buffer_memtype_reuse(struct kunit *test)
{
	struct co_node *cn = co_nodes[co_some_node()];
	struct co_buffer *pad, *a, *b;
	struct co_file *f;
	u64 free_before, conv;
	phys_addr_t first;

	if (!IS_ENABLED(CONFIG_X86))
		kunit_skip(test, "no set_memory_wc() on this architecture");
	co_memtype_drain(cn);
	free_before = co_node_free_bytes(cn);
	f = co_test_file(test);
	/* A page first, so the 64 KiB block is not 2 MiB aligned. */
	pad = co_test_alloc(test, f, PAGE_SIZE, 0, CARVEOUT_ALLOC_PAGES);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pad));
	a = co_test_alloc(test, f, SZ_64K, 0, CARVEOUT_ALLOC_WC);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_TRUE(test, a->converted);
	memset(phys_to_virt(a->phys), 0xa5, SZ_64K);
	first = a->phys;
	co_buffer_put(a);
	KUNIT_EXPECT_EQ(test, co_memtype_pool_bytes(cn, CO_MEMTYPE_WC),
			(u64)SZ_64K);
	KUNIT_EXPECT_EQ(test, co_node_free_bytes(cn),
			free_before - PAGE_SIZE - SZ_64K);

	conv = co_memtype_conversions();
	b = co_test_alloc(test, f, SZ_64K, 0, CARVEOUT_ALLOC_WC);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_EQ(test, b->phys, first);
	KUNIT_EXPECT_EQ(test, co_memtype_conversions(), conv);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(phys_to_virt(b->phys), 0, SZ_64K));
	KUNIT_EXPECT_EQ(test, co_memtype_pool_bytes(cn, CO_MEMTYPE_WC), 0ULL);
	co_buffer_put(b);

	/* Not of the block's alignment, size or type: new memory. */
	KUNIT_ASSERT_NE(test, first % SZ_2M, 0ULL);
	b = co_test_alloc(test, f, SZ_64K, SZ_2M, CARVEOUT_ALLOC_WC);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_EQ(test, b->phys % SZ_2M, 0ULL);
	KUNIT_EXPECT_EQ(test, co_memtype_conversions(), conv + 1);
	co_buffer_put(b);
	b = co_test_alloc(test, f, SZ_32K, 0, CARVEOUT_ALLOC_WC);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_NE(test, b->phys, first);
	co_buffer_put(b);
	b = co_test_alloc(test, f, SZ_64K, 0, CARVEOUT_ALLOC_UNCACHED);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_NE(test, b->phys, first);
	co_buffer_put(b);
	KUNIT_EXPECT_EQ(test, co_memtype_conversions(), conv + 3);
	KUNIT_EXPECT_EQ(test, co_memtype_pool_bytes(cn, CO_MEMTYPE_WC),
			(u64)SZ_64K + SZ_64K + SZ_32K);
	KUNIT_EXPECT_EQ(test, co_memtype_pool_bytes(cn, CO_MEMTYPE_UC),
			(u64)SZ_64K);

	co_buffer_put(pad);
	co_file_put(f);
	KUNIT_EXPECT_TRUE(test, co_memtype_drain(cn));
	KUNIT_EXPECT_EQ(test, co_memtype_conversions(), conv + 7);
	KUNIT_EXPECT_EQ(test, co_memtype_pool_bytes(cn, CO_MEMTYPE_WC), 0ULL);
	KUNIT_EXPECT_EQ(test, co_node_free_bytes(cn), free_before);
	KUNIT_EXPECT_FALSE(test, co_memtype_drain(cn));
}

static struct kunit_case co_buffer_cases[] = {
	KUNIT_CASE(co_buffer_pages_roundtrip),
	KUNIT_CASE(co_buffer_zeroed),
	KUNIT_CASE(co_buffer_slab_owners_apart),
	KUNIT_CASE(co_buffer_refs_keep_memory),
	KUNIT_CASE(co_buffer_alignment),
	KUNIT_CASE(co_buffer_file_limit),
	KUNIT_CASE(co_buffer_fallback_uncharge),
	KUNIT_CASE(co_buffer_slab_page_charge),
	KUNIT_CASE(co_buffer_slab_limit),
	KUNIT_CASE(co_buffer_reserve),
	KUNIT_CASE(co_buffer_default_user_limit),
	KUNIT_CASE(co_buffer_too_big),
	KUNIT_CASE(co_buffer_dma_map_kill),
	KUNIT_CASE(co_buffer_map_cap),
	KUNIT_CASE(co_buffer_kapi),
	KUNIT_CASE(co_buffer_kapi_pins_module),
	KUNIT_CASE(co_buffer_dmabuf_segments),
	KUNIT_CASE_PARAM(co_buffer_memtype_fits, co_fits_gen_params),
	KUNIT_CASE(co_buffer_memtype_reuse),
	{}
};

struct kunit_suite carveout_buffer_suite = {
	.name = "carveout_buffer",
	.test_cases = co_buffer_cases,
};
