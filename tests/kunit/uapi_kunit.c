// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the ioctl argument handling of carveout: size-prefixed
 * structures read with copy_struct_from_user() semantics, results written
 * back up to the caller's size.
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/uaccess.h>

#include <linux/carveout.h>

#include "carveout.h"
#include "co_kunit.h"

struct co_uapi_ctx {
	void __user *ubuf;
};

static int co_uapi_init(struct kunit *test)
{
	struct co_uapi_ctx *ctx;
	unsigned long addr;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "no user memory for the test");
	ctx->ubuf = (void __user *)addr;
	test->priv = ctx;
	return 0;
}

/* Writes @len bytes of @src then @pad bytes of @fill at the user buffer. */
static void co_uapi_put(struct kunit *test, const void *src, size_t len,
			size_t pad, u8 fill)
{
	struct co_uapi_ctx *ctx = test->priv;
	u8 *tmp;

	tmp = kunit_kzalloc(test, len + pad, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tmp);
	memcpy(tmp, src, len);
	memset(tmp + len, fill, pad);
	KUNIT_ASSERT_EQ(test, copy_to_user(ctx->ubuf, tmp, len + pad), 0);
}

/* Copies the argument at the user buffer in as @min/@ksize command. */
static int co_uapi_copy_in(struct kunit *test, void *kbuf, u32 min, u32 ksize,
			   struct co_ucmd *uc)
{
	struct co_uapi_ctx *ctx = test->priv;

	*uc = (struct co_ucmd) { .uarg = ctx->ubuf, .cmd = kbuf };
	return co_ucmd_copy_in(uc, min, ksize);
}

static void co_uapi_exact_size(struct kunit *test)
{
	struct carveout_handle in = { .size = sizeof(in), .handle = 42 };
	struct carveout_handle out;
	struct co_ucmd uc;

	co_uapi_put(test, &in, sizeof(in), 0, 0);
	KUNIT_EXPECT_EQ(test, co_uapi_copy_in(test, &out, sizeof(out),
					      sizeof(out), &uc), 0);
	KUNIT_EXPECT_EQ(test, out.size, (u32)sizeof(out));
	KUNIT_EXPECT_EQ(test, out.handle, 42U);
	KUNIT_EXPECT_EQ(test, uc.usize, (u32)sizeof(out));
}

static void co_uapi_larger_zero_tail(struct kunit *test)
{
	struct carveout_handle in = { .size = sizeof(in) + 16, .handle = 7 };
	struct carveout_handle out;
	struct co_ucmd uc;

	co_uapi_put(test, &in, sizeof(in), 16, 0);
	KUNIT_EXPECT_EQ(test, co_uapi_copy_in(test, &out, sizeof(out),
					      sizeof(out), &uc), 0);
	/* The size field stays the caller's. */
	KUNIT_EXPECT_EQ(test, out.size, (u32)sizeof(out) + 16);
	KUNIT_EXPECT_EQ(test, out.handle, 7U);
}

static void co_uapi_larger_nonzero_tail(struct kunit *test)
{
	struct carveout_handle in = { .size = sizeof(in) + 8 };
	struct carveout_handle out;
	struct co_ucmd uc;

	co_uapi_put(test, &in, sizeof(in), 8, 0xa5);
	KUNIT_EXPECT_EQ(test, co_uapi_copy_in(test, &out, sizeof(out),
					      sizeof(out), &uc), -E2BIG);
}

static void co_uapi_too_small(struct kunit *test)
{
	struct carveout_handle in = { .size = sizeof(in) - 4 };
	struct carveout_handle out;
	struct co_ucmd uc;

	co_uapi_put(test, &in, sizeof(in), 0, 0);
	KUNIT_EXPECT_EQ(test, co_uapi_copy_in(test, &out, sizeof(out),
					      sizeof(out), &uc), -EINVAL);
}

/* An older caller (at the minimum) gets zeros, the defaults, past it. */
static void co_uapi_older_caller(struct kunit *test)
{
	struct carveout_info in = { .size = CARVEOUT_INFO_MIN_SIZE };
	struct carveout_info out;
	struct co_ucmd uc;

	memset(&out, 0xff, sizeof(out));
	co_uapi_put(test, &in, CARVEOUT_INFO_MIN_SIZE, 0, 0);
	KUNIT_EXPECT_EQ(test, co_uapi_copy_in(test, &out,
					      CARVEOUT_INFO_MIN_SIZE,
					      sizeof(out), &uc), 0);
	KUNIT_EXPECT_EQ(test, out.file_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, out.user_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, out.eff_user_limit, 0ULL);
	KUNIT_EXPECT_EQ(test, out.max_handles, 0U);
	KUNIT_EXPECT_EQ(test, out.reserved, 0U);
	KUNIT_EXPECT_EQ(test, uc.ksize, (u32)sizeof(out));
}

/* Results go back only up to the caller's size. */
static void co_uapi_respond_short(struct kunit *test)
{
	struct co_uapi_ctx *ctx = test->priv;
	struct carveout_info in = { .size = CARVEOUT_INFO_MIN_SIZE };
	struct carveout_info out;
	struct co_ucmd uc;
	u8 back[sizeof(out) + 8];

	co_uapi_put(test, &in, CARVEOUT_INFO_MIN_SIZE,
		    sizeof(back) - CARVEOUT_INFO_MIN_SIZE, 0x5a);
	KUNIT_ASSERT_EQ(test, co_uapi_copy_in(test, &out,
					      CARVEOUT_INFO_MIN_SIZE,
					      sizeof(out), &uc), 0);
	out.user_limit = 1234;
	out.file_bytes = 5678;
	KUNIT_EXPECT_EQ(test, co_ucmd_respond(&uc), 0);
	KUNIT_ASSERT_EQ(test, copy_from_user(back, ctx->ubuf, sizeof(back)), 0);
	KUNIT_EXPECT_EQ(test, ((struct carveout_info *)back)->user_limit, 1234ULL);
	KUNIT_EXPECT_EQ(test, ((struct carveout_info *)back)->size,
			(u32)CARVEOUT_INFO_MIN_SIZE);
	KUNIT_EXPECT_EQ(test, back[CARVEOUT_INFO_MIN_SIZE], 0x5a);
	KUNIT_EXPECT_EQ(test, back[sizeof(back) - 1], 0x5a);
}

static void co_uapi_bad_pointer(struct kunit *test)
{
	struct carveout_handle out;
	struct co_ucmd uc = { .uarg = (void __user *)16, .cmd = &out };

	KUNIT_EXPECT_EQ(test, co_ucmd_copy_in(&uc, sizeof(out), sizeof(out)),
			-EFAULT);
}

static struct kunit_case co_uapi_cases[] = {
	KUNIT_CASE(co_uapi_exact_size),
	KUNIT_CASE(co_uapi_larger_zero_tail),
	KUNIT_CASE(co_uapi_larger_nonzero_tail),
	KUNIT_CASE(co_uapi_too_small),
	KUNIT_CASE(co_uapi_older_caller),
	KUNIT_CASE(co_uapi_respond_short),
	KUNIT_CASE(co_uapi_bad_pointer),
	{}
};

struct kunit_suite carveout_uapi_suite = {
	.name = "carveout_uapi",
	.init = co_uapi_init,
	.test_cases = co_uapi_cases,
};
