// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the ioctl argument handling of carveout: size-prefixed
 * structures read with copy_struct_from_user() semantics.
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

static void co_uapi_exact_size(struct kunit *test)
{
	struct co_uapi_ctx *ctx = test->priv;
	struct carveout_handle in = { .size = sizeof(in), .handle = 42 };
	struct carveout_handle out;

	co_uapi_put(test, &in, sizeof(in), 0, 0);
	KUNIT_EXPECT_EQ(test, co_copy_arg_from_user(&out, sizeof(out),
						    ctx->ubuf), 0);
	KUNIT_EXPECT_EQ(test, out.size, (u32)sizeof(out));
	KUNIT_EXPECT_EQ(test, out.handle, 42U);
}

static void co_uapi_larger_zero_tail(struct kunit *test)
{
	struct co_uapi_ctx *ctx = test->priv;
	struct carveout_handle in = { .size = sizeof(in) + 16, .handle = 7 };
	struct carveout_handle out;

	co_uapi_put(test, &in, sizeof(in), 16, 0);
	KUNIT_EXPECT_EQ(test, co_copy_arg_from_user(&out, sizeof(out),
						    ctx->ubuf), 0);
	/* The kernel reports the size it knows. */
	KUNIT_EXPECT_EQ(test, out.size, (u32)sizeof(out));
	KUNIT_EXPECT_EQ(test, out.handle, 7U);
}

static void co_uapi_larger_nonzero_tail(struct kunit *test)
{
	struct co_uapi_ctx *ctx = test->priv;
	struct carveout_handle in = { .size = sizeof(in) + 8 };
	struct carveout_handle out;

	co_uapi_put(test, &in, sizeof(in), 8, 0xa5);
	KUNIT_EXPECT_EQ(test, co_copy_arg_from_user(&out, sizeof(out),
						    ctx->ubuf), -E2BIG);
}

static void co_uapi_too_small(struct kunit *test)
{
	struct co_uapi_ctx *ctx = test->priv;
	struct carveout_handle in = { .size = sizeof(in) - 4 };
	struct carveout_handle out;

	co_uapi_put(test, &in, sizeof(in), 0, 0);
	KUNIT_EXPECT_EQ(test, co_copy_arg_from_user(&out, sizeof(out),
						    ctx->ubuf), -EINVAL);
}

static void co_uapi_bad_pointer(struct kunit *test)
{
	struct carveout_handle out;

	KUNIT_EXPECT_EQ(test, co_copy_arg_from_user(&out, sizeof(out),
						    (void __user *)16), -EFAULT);
}

static struct kunit_case co_uapi_cases[] = {
	KUNIT_CASE(co_uapi_exact_size),
	KUNIT_CASE(co_uapi_larger_zero_tail),
	KUNIT_CASE(co_uapi_larger_nonzero_tail),
	KUNIT_CASE(co_uapi_too_small),
	KUNIT_CASE(co_uapi_bad_pointer),
	{}
};

struct kunit_suite carveout_uapi_suite = {
	.name = "carveout_uapi",
	.init = co_uapi_init,
	.test_cases = co_uapi_cases,
};
