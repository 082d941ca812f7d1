/*
 * VNest emulated host IOMMU: the kernel selftest's mock IOMMU
 *
 * The hardware a Linux kernel built with CONFIG_IOMMUFD_TEST offers its
 * selftests: paging domains limited to a fixed aperture, nested domains
 * whose "IOTLB" is four numbers that invalidations zero, a vIOMMU that
 * echoes its data and zeroes a per-device cache on invalidation, and a
 * vEVENTQ type of its own. Only the binary interface the selftests use is
 * modelled (emu-selftest-abi.h); there is no stage-1 table to walk.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stddef.h>
#include "emu-internal.h"
#include "emu-selftest-abi.h"

static size_t mock_hw_info(EmuIommu *iommu, void *buf, size_t len)
{
    EmuTestHwInfo info = { .test_reg = EMU_SELFTEST_REGVAL };

    g_assert(len >= sizeof(info));
    memcpy(buf, &info, sizeof(info));
    return sizeof(info);
}

/* Everything outside the mock aperture is reserved. */
static void mock_reserved(const EmuIommu *iommu, GArray *out)
{
    EmuRange below = { 0, EMU_MOCK_APERTURE_START - 1 };
    EmuRange above = { EMU_MOCK_APERTURE_LAST + 1, UINT64_MAX };

    g_array_append_val(out, below);
    g_array_append_val(out, above);
}

/*
 * A paging domain may choose its page table format: the huge one maps
 * with MOCK_HUGE_PAGE_SIZE leaves where it can (mock_domain_alloc_pgtable
 * in the kernel's selftest.c).
 */
static int mock_paging_data(EmuIommu *iommu, const void *data,
                            uint64_t *huge_leaf)
{
    const EmuTestHwptData *d = data;

    if (d->pagetable_type > EMU_MOCK_IOMMUPT_HUGE) {
        return -EINVAL;
    }
    if (d->pagetable_type == EMU_MOCK_IOMMUPT_HUGE) {
        *huge_leaf = EMU_MOCK_HUGE_PAGE_SIZE;
    }
    return 0;
}

/* A nested domain: its IOTLB, one value per slot. */
static int mock_nested_alloc(EmuHwpt *hwpt, const void *data, size_t len)
{
    const EmuTestHwptData *d = data;
    uint32_t *iotlb;
    unsigned i;
    /* __mock_domain_alloc_nested(): the nested domain (kzalloc) */
    int rc = emu_host_op(hwpt->obj.ctx->host);

    if (rc) {
        return rc;
    }
    iotlb = g_new(uint32_t, EMU_MOCK_IOTLB_NUM);
    for (i = 0; i < EMU_MOCK_IOTLB_NUM; i++) {
        iotlb[i] = d->iotlb;
    }
    hwpt->data = iotlb;
    return 0;
}

/* A nested domain of a vIOMMU needs the device's vDEVICE first. */
static int mock_nested_attach(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid)
{
    if (hwpt->viommu &&
        (!idev->vdev || idev->vdev->viommu != hwpt->viommu)) {
        return -ENOENT;
    }
    return 0;
}

static int mock_hwpt_invalidate(EmuHwpt *hwpt, const EmuTestHwptInv *inv)
{
    uint32_t *iotlb = hwpt->data;

    if (inv->flags & ~EMU_TEST_INV_FLAG_ALL) {
        return -EOPNOTSUPP;
    }
    if (inv->flags & EMU_TEST_INV_FLAG_ALL) {
        memset(iotlb, 0, EMU_MOCK_IOTLB_NUM * sizeof(*iotlb));
        return 0;
    }
    if (inv->iotlb_id >= EMU_MOCK_IOTLB_NUM) {
        return -EINVAL;
    }
    iotlb[inv->iotlb_id] = 0;
    return 0;
}

/* The device cache the vIOMMU flavour invalidates (see emu-selftest.c) */
static int mock_viommu_invalidate(EmuViommu *viommu,
                                  const EmuTestViommuInv *inv)
{
    EmuIdev *idev;
    uint32_t *cache;

    if (inv->flags & ~EMU_TEST_INV_FLAG_ALL) {
        return -EOPNOTSUPP;
    }
    idev = emu_viommu_find_dev(viommu, inv->vdev_id);
    if (!idev || !idev->dev->hw_priv) {
        return -EINVAL;
    }
    cache = ((EmuMockDev *)idev->dev->hw_priv)->cache;
    if (inv->flags & EMU_TEST_INV_FLAG_ALL) {
        memset(cache, 0, EMU_MOCK_DEV_CACHE_NUM * sizeof(*cache));
        return 0;
    }
    if (inv->cache_id >= EMU_MOCK_DEV_CACHE_NUM) {
        return -EINVAL;
    }
    cache[inv->cache_id] = 0;
    return 0;
}

static int mock_invalidate(EmuHwpt *hwpt, EmuViommu *viommu, void *entry)
{
    if (viommu) {
        return mock_viommu_invalidate(viommu, entry);
    }
    return mock_hwpt_invalidate(hwpt, entry);
}

/*
 * vIOMMU data (mock_viommu_init): iommu_copy_struct_from_user() with
 * min_last out_data, so data_len from the end of out_data to the whole
 * struct, EINVAL otherwise (longer too); in_data comes back as out_data,
 * and two pages the caller can mmap() through the iommufd hold in_data in
 * their first word (out_mmap_offset, out_mmap_length); the reply goes
 * back in data_len bytes.
 */
static int mock_viommu_data(EmuViommu *viommu,
                            struct iommu_viommu_alloc *cmd)
{
    size_t min = offsetof(EmuTestViommuData, out_data) + sizeof(__u32);
    EmuTestViommuData d = { 0 };
    uint64_t offset;
    void *page;
    int rc;

    if (!cmd->data_len) {
        return 0;
    }
    if (cmd->data_len < min || cmd->data_len > sizeof(d)) {
        return -EINVAL;
    }
    rc = emu_copy_from_user(&d, cmd->data_uptr, cmd->data_len);
    if (rc) {
        return rc;
    }
    rc = emu_mmap_alloc(viommu->obj.ctx, &viommu->obj, 2 * EMU_PAGE_SIZE,
                        &offset, &page);
    if (rc) {
        return rc;
    }
    *(uint32_t *)page = d.in_data;
    d.out_data = d.in_data;
    d.out_mmap_length = 2 * EMU_PAGE_SIZE;
    d.out_mmap_offset = offset;
    return emu_copy_to_user(cmd->data_uptr, &d,
                            MIN(sizeof(d), cmd->data_len));
}

/*
 * The mock driver's set_dev_pasid (mock_domain_set_dev_pasid_nop): for
 * PASID 1024 every second domain set fails ENOMEM, so the core's rollback
 * to the old domain gets tested; setting the blocked domain (@hwpt NULL,
 * a detach) resets the count.
 */
static int mock_set_dev_pasid(EmuIdev *idev, uint32_t pasid, EmuHwpt *hwpt)
{
    EmuMockDev *mdev = idev->dev->hw_priv;

    if (!mdev || pasid != EMU_TEST_PASID_RESERVED) {
        return 0;
    }
    if (!hwpt) {
        mdev->pasid_1024_fake_error = false;
    } else if (mdev->pasid_1024_fake_error) {
        mdev->pasid_1024_fake_error = false;
        return -ENOMEM;
    } else {
        mdev->pasid_1024_fake_error = true;
    }
    return 0;
}

const EmuHwOps emu_hw_selftest_ops = {
    .kind = EMU_HW_SELFTEST,
    .hw_info_type = EMU_HW_INFO_TYPE_SELFTEST,
    .hw_info = mock_hw_info,
    .nested_data_type = EMU_HWPT_DATA_SELFTEST,
    /* __mock_domain_alloc_nested(): min_last iotlb */
    .nested_data_min = offsetof(EmuTestHwptData, iotlb) + sizeof(__u32),
    .nested_data_size = sizeof(EmuTestHwptData),
    .nested_flags = IOMMU_HWPT_ALLOC_PASID,
    .nested_alloc = mock_nested_alloc,
    .paging_data = mock_paging_data,
    .nested_attach = mock_nested_attach,
    .set_dev_pasid = mock_set_dev_pasid,
    .nested_free = NULL,            /* hwpt->data is all there is */
    .inv_data_type = EMU_INV_DATA_SELFTEST,
    .inv_entry_size = sizeof(EmuTestHwptInv),
    .invalidate = mock_invalidate,
    .viommu_type = EMU_VIOMMU_TYPE_SELFTEST,
    .nest_on_parent = true,
    .viommu_inv_entry_size = sizeof(EmuTestViommuInv),
    .viommu_inv_probe = true,
    .viommu_data = mock_viommu_data,
    .veventq_type = EMU_VEVENTQ_TYPE_SELFTEST,
    .hw_queue_type = EMU_HW_QUEUE_TYPE_SELFTEST,
    .hw_queue_max = EMU_TEST_HW_QUEUE_MAX,
    .min_page = EMU_MOCK_PAGE_SIZE,
    .reserved = mock_reserved,
    .s1_translate = NULL,           /* the mock has no stage-1 tables */
    .report_fault = NULL,
};
