// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for who may MAP which device (carveout_access): the rule
 * itself, including the physical-address rule for devices no IOMMU
 * translates; the map_allow list; a driver's opt-in and how binding ends
 * it; the revocation of MAP's mappings when a driver binds or unbinds and
 * when the device is removed; the per-buffer DMA_TO_DEVICE cap.
 *
 * The device is a platform device registered here, which no IOMMU
 * translates (the VM's IOMMU translates PCI devices only): the userspace
 * test test_access covers the translated case with QEMU's edu.  The test
 * runs as a kernel thread, with CAP_SYS_ADMIN, so co_access_map() maps as
 * the admin.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>

#include <linux/carveout.h>

#include <carveout/kapi.h>

#include "carveout.h"
#include "co_kunit.h"

#define CO_KUNIT_DEV	"carveout_kunit"

/* -- the rule ------------------------------------------------------------ */

struct co_rule_case {
	const char *desc;
	struct co_map_facts f;
	enum co_map_grant want;
};

static const struct co_rule_case co_rule_cases[] = {
	{ "admin, untranslated", { .admin = 1 }, CO_GRANT_ADMIN },
	{ "admin, another driver's device",
	  { .admin = 1, .translated = 1 }, CO_GRANT_ADMIN },
	{ "another driver's device", { .translated = 1 }, CO_GRANT_NONE },
	{ "opted in", { .translated = 1, .optin = 1 }, CO_GRANT_OPTIN },
	{ "vfio or uio", { .translated = 1, .userdrv = 1 }, CO_GRANT_USERDRV },
	{ "no driver", { .translated = 1, .unbound = 1 }, CO_GRANT_UNBOUND },
	{ "listed", { .translated = 1, .listed = 1 }, CO_GRANT_LISTED },
	{ "opted in and listed",
	  { .translated = 1, .optin = 1, .listed = 1 }, CO_GRANT_OPTIN },
	/* Untranslated: MAP would tell a physical address. */
	{ "untranslated, opted in", { .optin = 1 }, CO_GRANT_NONE },
	{ "untranslated, vfio or uio", { .userdrv = 1 }, CO_GRANT_NONE },
	{ "untranslated, no driver", { .unbound = 1 }, CO_GRANT_NONE },
	{ "untranslated, listed", { .listed = 1 }, CO_GRANT_LISTED },
	{ "untranslated, no driver, listed",
	  { .unbound = 1, .listed = 1 }, CO_GRANT_LISTED },
};

static void co_rule_desc(const struct co_rule_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(co_rule, co_rule_cases, co_rule_desc);

static void co_access_rule(struct kunit *test)
{
	const struct co_rule_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, co_map_grant(&c->f), c->want);
}

/* -- a platform device, and a driver for it ------------------------------- */

static bool co_kunit_optin;

static int co_kunit_probe(struct platform_device *pdev)
{
	return co_kunit_optin ? carveout_dev_allow_map(&pdev->dev) : 0;
}

static struct platform_driver co_kunit_driver = {
	.probe = co_kunit_probe,
	.driver = { .name = CO_KUNIT_DEV },
};

static struct platform_device *co_kunit_pdev(struct kunit *test)
{
	struct platform_device_info info = {
		.name = CO_KUNIT_DEV, .id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct platform_device *pdev = platform_device_register_full(&info);

	KUNIT_ASSERT_FALSE(test, IS_ERR(pdev));
	return pdev;
}

static void co_facts(struct platform_device *pdev, struct co_map_facts *f)
{
	co_access_facts(&pdev->dev, false, f);
}

static enum co_map_grant co_grant(struct platform_device *pdev)
{
	struct co_map_facts f;

	co_facts(pdev, &f);
	return co_map_grant(&f);
}

/* -- map_allow ------------------------------------------------------------ */

static void co_access_allow_list(struct kunit *test)
{
	struct platform_device *pdev = co_kunit_pdev(test);
	char longname[CARVEOUT_DEV_NAME_LEN + 1];
	struct device *dev = &pdev->dev;
	struct co_map_facts f;

	co_facts(pdev, &f);
	KUNIT_EXPECT_FALSE(test, f.translated);
	KUNIT_EXPECT_TRUE(test, f.unbound);
	KUNIT_EXPECT_FALSE(test, f.listed);
	/* No driver, but no IOMMU either: MAP would reveal phys. */
	KUNIT_EXPECT_EQ(test, co_grant(pdev), CO_GRANT_NONE);
	co_access_facts(dev, true, &f);
	KUNIT_EXPECT_EQ(test, co_map_grant(&f), CO_GRANT_ADMIN);

	KUNIT_EXPECT_EQ(test, co_map_allow_store("0000:00:03.0, platform:" CO_KUNIT_DEV "\n"), 0);
	KUNIT_EXPECT_EQ(test, co_grant(pdev), CO_GRANT_LISTED);
	KUNIT_EXPECT_EQ(test, co_map_allow_store(CO_KUNIT_DEV), 0);
	KUNIT_EXPECT_EQ(test, co_grant(pdev), CO_GRANT_LISTED);
	KUNIT_EXPECT_EQ(test, co_map_allow_store("pci:" CO_KUNIT_DEV), 0);
	KUNIT_EXPECT_EQ(test, co_grant(pdev), CO_GRANT_NONE);
	KUNIT_EXPECT_EQ(test, co_map_allow_store(CO_KUNIT_DEV "x"), 0);
	KUNIT_EXPECT_EQ(test, co_grant(pdev), CO_GRANT_NONE);

	/* Names MAP could not take leave the list as it was. */
	KUNIT_EXPECT_EQ(test, co_map_allow_store(CO_KUNIT_DEV), 0);
	memset(longname, 'a', CARVEOUT_DEV_NAME_LEN);
	longname[CARVEOUT_DEV_NAME_LEN] = 0;
	KUNIT_EXPECT_EQ(test, co_map_allow_store(longname), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_map_allow_store("platform:"), -EINVAL);
	KUNIT_EXPECT_EQ(test, co_grant(pdev), CO_GRANT_LISTED);
	KUNIT_EXPECT_EQ(test, co_map_allow_store(" ,\n"), 0);
	KUNIT_EXPECT_EQ(test, co_grant(pdev), CO_GRANT_NONE);

	KUNIT_EXPECT_PTR_EQ(test, co_find_device("platform:" CO_KUNIT_DEV), dev);
	put_device(dev);
	platform_device_unregister(pdev);
}

/* -- opt-in ---------------------------------------------------------------- */

static void co_access_optin_binding(struct kunit *test)
{
	struct platform_device *pdev = co_kunit_pdev(test);
	struct co_map_facts f;

	/* Nothing to opt in for without a driver. */
	KUNIT_EXPECT_EQ(test, carveout_dev_allow_map(&pdev->dev), -EINVAL);
	co_kunit_optin = true;
	KUNIT_ASSERT_EQ(test, platform_driver_register(&co_kunit_driver), 0);
	co_facts(pdev, &f);
	KUNIT_EXPECT_FALSE(test, f.unbound);
	KUNIT_EXPECT_TRUE(test, f.optin);
	KUNIT_EXPECT_FALSE(test, f.userdrv);
	/* An opt-in does not cover a device no IOMMU translates. */
	KUNIT_EXPECT_EQ(test, co_map_grant(&f), CO_GRANT_NONE);
	carveout_dev_disallow_map(&pdev->dev);
	co_facts(pdev, &f);
	KUNIT_EXPECT_FALSE(test, f.optin);
	KUNIT_EXPECT_EQ(test, carveout_dev_allow_map(&pdev->dev), 0);
	platform_driver_unregister(&co_kunit_driver);

	/* Unbinding ended it: the same driver binding again without it. */
	co_facts(pdev, &f);
	KUNIT_EXPECT_TRUE(test, f.unbound);
	KUNIT_EXPECT_FALSE(test, f.optin);
	co_kunit_optin = false;
	KUNIT_ASSERT_EQ(test, platform_driver_register(&co_kunit_driver), 0);
	co_facts(pdev, &f);
	KUNIT_EXPECT_FALSE(test, f.unbound);
	KUNIT_EXPECT_FALSE(test, f.optin);
	platform_driver_unregister(&co_kunit_driver);
	platform_device_unregister(pdev);
}

/* -- revocation ------------------------------------------------------------ */

static struct co_buffer *co_kunit_buf(struct kunit *test, struct co_file *f)
{
	struct co_alloc_req req = {
		.size = SZ_16K, .policy = CARVEOUT_POLICY_LOCAL,
	};
	struct co_buffer *buf = co_buffer_alloc(f, &req);

	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	return buf;
}

static bool co_has_map(struct co_buffer *buf, struct device *dev,
		       enum co_map_grant grant)
{
	struct co_dma_map *m;
	bool found = false;

	mutex_lock(&buf->lock);
	list_for_each_entry(m, &buf->maps, link)
		if (m->dev == dev && m->grant == grant)
			found = true;
	mutex_unlock(&buf->lock);
	return found;
}

static void co_access_revoke(struct kunit *test)
{
	struct platform_device *pdev = co_kunit_pdev(test);
	struct device *dev = &pdev->dev;
	struct co_file *f = co_file_create();
	dma_addr_t a, k;
	struct co_buffer *buf;

	KUNIT_ASSERT_NOT_NULL(test, f);
	buf = co_kunit_buf(test, f);

	/* Made with no driver bound: gone when a driver binds. */
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_TO_DEVICE, &a), 0);
	KUNIT_EXPECT_TRUE(test, co_has_map(buf, dev, CO_GRANT_ADMIN));
	/* The untranslated device gets the physical address. */
	KUNIT_EXPECT_EQ(test, (u64)a, (u64)buf->phys);
	/* The kernel's own mappings are its driver's to remove. */
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &k), 0);
	co_kunit_optin = true;
	KUNIT_ASSERT_EQ(test, platform_driver_register(&co_kunit_driver), 0);
	KUNIT_EXPECT_FALSE(test, co_has_map(buf, dev, CO_GRANT_ADMIN));
	KUNIT_EXPECT_TRUE(test, co_has_map(buf, dev, CO_GRANT_KERNEL));
	/* Untranslated, both have the same address: one is left. */
	KUNIT_EXPECT_EQ(test, co_dma_unmap(buf, dev, k), 0);
	KUNIT_EXPECT_EQ(test, co_dma_unmap(buf, dev, a), -ENOENT);

	/* Made under the driver: gone when it unbinds. */
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_BIDIRECTIONAL, &a), 0);
	KUNIT_EXPECT_TRUE(test, co_has_map(buf, dev, CO_GRANT_ADMIN));
	platform_driver_unregister(&co_kunit_driver);
	KUNIT_EXPECT_TRUE(test, list_empty(&buf->maps));

	/* Gone when the device is removed; no new ones after that. */
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_FROM_DEVICE, &a), 0);
	get_device(dev);
	platform_device_unregister(pdev);
	KUNIT_EXPECT_TRUE(test, list_empty(&buf->maps));
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_TO_DEVICE, &a),
			-ENODEV);
	put_device(dev);

	co_buffer_kill(buf);
	co_buffer_put(buf);
	co_file_put(f);
}

static void co_access_listed_revoke(struct kunit *test)
{
	struct platform_device *pdev = co_kunit_pdev(test);
	struct device *dev = &pdev->dev;
	struct co_file *f = co_file_create();
	struct co_buffer *buf;
	dma_addr_t a;

	KUNIT_ASSERT_NOT_NULL(test, f);
	buf = co_kunit_buf(test, f);
	KUNIT_EXPECT_EQ(test, co_map_allow_store("platform:" CO_KUNIT_DEV), 0);
	KUNIT_EXPECT_EQ(test, co_dma_map_grant(buf, dev, DMA_TO_DEVICE,
					       CO_GRANT_LISTED, &a), 0);
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_TO_DEVICE, &a), 0);
	/* Another name: the list's mapping goes, the admin's stays. */
	KUNIT_EXPECT_EQ(test, co_map_allow_store("0000:00:03.0"), 0);
	KUNIT_EXPECT_FALSE(test, co_has_map(buf, dev, CO_GRANT_LISTED));
	KUNIT_EXPECT_TRUE(test, co_has_map(buf, dev, CO_GRANT_ADMIN));
	KUNIT_EXPECT_EQ(test, co_map_allow_store(""), 0);
	co_buffer_kill(buf);
	co_buffer_put(buf);
	co_file_put(f);
	platform_device_unregister(pdev);
}

/* -- the DMA_TO_DEVICE cap --------------------------------------------------- */

static void co_access_to_device_cap(struct kunit *test)
{
	struct platform_device *pdev = co_kunit_pdev(test);
	struct device *dev = &pdev->dev;
	struct co_file *f = co_file_create();
	dma_addr_t a[CARVEOUT_MAP_MAX_TO_DEVICE], x;
	struct co_buffer *buf;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, f);
	buf = co_kunit_buf(test, f);
	for (i = 0; i < CARVEOUT_MAP_MAX_TO_DEVICE; i++)
		KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_TO_DEVICE,
						    &a[i]), 0);
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_TO_DEVICE, &x),
			-ENOSPC);
	/* The one writer and the kernel's own mappings are not counted. */
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_FROM_DEVICE, &x), 0);
	KUNIT_EXPECT_EQ(test, co_dma_map(buf, dev, DMA_TO_DEVICE, &x), 0);
	KUNIT_EXPECT_EQ(test, co_dma_unmap(buf, dev, a[0]), 0);
	KUNIT_EXPECT_EQ(test, co_access_map(buf, dev, DMA_TO_DEVICE, &a[0]), 0);
	co_buffer_kill(buf);
	KUNIT_EXPECT_TRUE(test, list_empty(&buf->maps));
	co_buffer_put(buf);
	co_file_put(f);
	platform_device_unregister(pdev);
}

static struct kunit_case co_access_cases[] = {
	KUNIT_CASE_PARAM(co_access_rule, co_rule_gen_params),
	KUNIT_CASE(co_access_allow_list),
	KUNIT_CASE(co_access_optin_binding),
	KUNIT_CASE(co_access_revoke),
	KUNIT_CASE(co_access_listed_revoke),
	KUNIT_CASE(co_access_to_device_cap),
	{}
};

struct kunit_suite carveout_access_suite = {
	.name = "carveout_access",
	.test_cases = co_access_cases,
};
