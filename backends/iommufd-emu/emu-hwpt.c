/*
 * VNest emulated host IOMMU: hardware page tables, HW info, invalidation
 * and dirty tracking
 *
 * A paging HWPT mirrors an IOAS (and may be a nest parent); a nested HWPT
 * holds a stage-1 configuration the hardware model validated, over a nest
 * parent (VT-d style) or a vIOMMU (SMMUv3 style).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

#define PAGING_FLAGS    (IOMMU_HWPT_ALLOC_NEST_PARENT | \
                         IOMMU_HWPT_ALLOC_DIRTY_TRACKING | \
                         IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)
/*
 * iommufd_hwpt_invalidate() bounds a non-empty batch: entries
 * (IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX) and their size (PAGE_SIZE: the
 * model is a 4 KiB-page host)
 */
#define INV_ENTRY_NUM_MAX   (1u << 19)
#define INV_ENTRY_LEN_MAX   4096u
#define NESTED_FLAGS    (IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)

static int hwpt_reserve(EmuCtx *ctx, EmuObjType type, EmuIommu *iommu,
                        uint32_t flags, EmuHwpt **out)
{
    EmuHwpt *hwpt;
    int rc = emu_obj_reserve(ctx, type, sizeof(*hwpt), &hwpt);

    if (rc) {
        return rc;
    }
    hwpt->iommu = iommu;
    hwpt->flags = flags;
    hwpt->tag = iommu->next_tag++;
    *out = hwpt;
    return 0;
}

/* A paging HWPT on @ioas for devices behind @iommu. */
int emu_hwpt_paging_new(EmuCtx *ctx, EmuIoas *ioas, EmuIommu *iommu,
                        uint32_t flags, EmuHwpt **out)
{
    const EmuHwConfig *cfg = &iommu->cfg;
    EmuHwpt *hwpt;
    int rc;

    if (flags & ~PAGING_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (((flags & IOMMU_HWPT_ALLOC_NEST_PARENT) && !cfg->nesting) ||
        ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && !cfg->dirty_tracking) ||
        ((flags & IOMMU_HWPT_ALLOC_PASID) && !cfg->pasid_bits)) {
        return -EOPNOTSUPP;
    }
    if ((flags & IOMMU_HWPT_ALLOC_NEST_PARENT) &&
        (flags & IOMMU_HWPT_FAULT_ID_VALID)) {
        return -EOPNOTSUPP;
    }
    if ((flags & IOMMU_HWPT_ALLOC_NEST_PARENT) && cfg->kind == EMU_HW_VTD &&
        cfg->vtd.errata_spr17 && emu_ioas_has_readonly(ioas)) {
        return -EINVAL;         /* erratum 772415: see emu-ioas.c */
    }
    rc = emu_ioas_check_domain(ioas, iommu);
    if (!rc) {
        rc = hwpt_reserve(ctx, EMU_OBJ_HWPT_PAGING, iommu, flags, &hwpt);
    }
    if (rc) {
        return rc;
    }
    /* The driver's domain (domain_alloc_paging_flags): its dirty state */
    rc = emu_host_op(ctx->host);
    /*
     * iopt_table_add_domain(): what lies outside its aperture reserved,
     * its slot among the IOAS's domains (xa_reserve(); here the list
     * node), then every area mapped into it, or none
     */
    if (!rc) {
        rc = emu_ioas_reserve_aperture(ioas, iommu);
    }
    if (!rc) {
        rc = emu_host_op(ctx->host);
    }
    if (!rc) {
        rc = emu_ioas_fill_domain(ioas);
    }
    if (rc) {
        emu_obj_abort(&hwpt->obj);
        return rc;
    }
    hwpt->ioas = ioas;
    emu_obj_ref(ioas);          /* put in emu_hwpt_destroy() */
    ioas->hwpts = g_list_prepend(ioas->hwpts, hwpt);
    hwpt->dirty = emu_dirty_new();
    *out = hwpt;
    return 0;
}

/*
 * The driver data of a HWPT_ALLOC, in the hardware's own struct size:
 * __iommu_copy_struct_from_user() takes data_len from the struct's first
 * layout to the whole struct and refuses anything else with EINVAL, a
 * longer one too (no copy_struct_from_user() tail rule for driver data).
 */
static int hwpt_data_copy(const EmuHwOps *ops, struct iommu_hwpt_alloc *cmd,
                          void **data)
{
    if (cmd->data_len < ops->nested_data_min ||
        cmd->data_len > ops->nested_data_size) {
        return -EINVAL;
    }
    *data = g_malloc0(ops->nested_data_size);
    return emu_copy_from_user(*data, cmd->data_uptr, cmd->data_len);
}

static int hwpt_nested_new(EmuCtx *ctx, EmuIdev *idev, EmuObj *pt,
                           struct iommu_hwpt_alloc *cmd, EmuHwpt **out)
{
    EmuIommu *iommu = idev->dev->iommu;
    const EmuHwOps *ops = iommu->ops;
    EmuHwpt *parent = NULL, *hwpt;
    EmuViommu *viommu = NULL;
    g_autofree void *data = NULL;
    int rc;

    if (pt->type == EMU_OBJ_HWPT_PAGING) {
        parent = (EmuHwpt *)pt;
        if (!(parent->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) ||
            parent->auto_domain || parent->iommu != iommu) {
            return -EINVAL;
        }
        if (ops->viommu_type && !ops->nest_on_parent) {
            return -EOPNOTSUPP;     /* this hardware nests via a vIOMMU */
        }
    } else {
        viommu = (EmuViommu *)pt;
        if (viommu->iommu != iommu) {
            return -EINVAL;
        }
        parent = viommu->parent;
    }
    if ((cmd->flags & ~NESTED_FLAGS) || !cmd->data_len ||
        !ops->nested_alloc) {
        return -EOPNOTSUPP;
    }
    /* The driver's own checks (arm_vsmmu_alloc_domain_nested() ...) */
    if (cmd->flags & ~(IOMMU_HWPT_FAULT_ID_VALID | ops->nested_flags)) {
        return -EOPNOTSUPP;
    }
    if (cmd->data_type != ops->nested_data_type) {
        return ops->nested_type_einval ? -EINVAL : -EOPNOTSUPP;
    }
    rc = hwpt_data_copy(ops, cmd, &data);
    if (!rc) {
        rc = hwpt_reserve(ctx, EMU_OBJ_HWPT_NESTED, iommu, cmd->flags, &hwpt);
    }
    if (rc) {
        return rc;
    }
    hwpt->parent = parent;
    hwpt->viommu = viommu;
    hwpt->data_type = cmd->data_type;
    /* The driver's nested domain: an injection point in each driver */
    rc = ops->nested_alloc(hwpt, data, ops->nested_data_size);
    if (rc) {
        emu_obj_abort(&hwpt->obj);
        return rc;
    }
    emu_obj_ref(parent);        /* put in emu_hwpt_destroy() */
    parent->children++;
    if (viommu) {
        emu_obj_ref(viommu);    /* put in emu_hwpt_destroy() */
    }
    *out = hwpt;
    return 0;
}

/*
 * Driver data for a paging HWPT: only hardware that takes some (the
 * selftest mock's page table format) accepts a data type here.
 */
static int paging_data_check(EmuIommu *iommu, struct iommu_hwpt_alloc *cmd,
                             uint64_t *huge_leaf)
{
    const EmuHwOps *ops = iommu->ops;
    g_autofree void *data = NULL;
    int rc;

    if (cmd->data_type == IOMMU_HWPT_DATA_NONE) {
        return 0;
    }
    if (!ops->paging_data || cmd->data_type != ops->nested_data_type) {
        return -EOPNOTSUPP;
    }
    rc = hwpt_data_copy(ops, cmd, &data);
    return rc ? rc : ops->paging_data(iommu, data, huge_leaf);
}

EmuIdev *emu_idev_get(EmuCtx *ctx, uint32_t dev_id)
{
    return (EmuIdev *)emu_obj_get(ctx, dev_id, EMU_OBJ_DEVICE);
}

/*
 * iommufd_hwpt_alloc(): __reserved is checked, __reserved2 is not; then
 * the device (ENOENT), pt_id (any object, EINVAL if none), the domain
 * (iommufd_hwpt_paging_alloc(): flags before the driver sees its data),
 * and only then the fault object (ENOENT), the new HWPT being dropped.
 */
int emu_hwpt_alloc(EmuCtx *ctx, struct iommu_hwpt_alloc *cmd)
{
    EmuIdev *idev;
    EmuObj *pt;
    EmuEventq *fault;
    EmuHwpt *hwpt = NULL;
    uint64_t huge_leaf = 0;
    int rc;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
        (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len)) {
        return -EINVAL;
    }
    idev = emu_idev_get(ctx, cmd->dev_id);
    if (!idev) {
        return -ENOENT;
    }
    pt = emu_obj_get(ctx, cmd->pt_id, EMU_OBJ_NONE);
    if (!pt) {
        return -EINVAL;
    }
    switch (pt->type) {
    case EMU_OBJ_IOAS:
        if ((cmd->flags & ~PAGING_FLAGS) ||
            ((cmd->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
             idev->dev->no_dirty) ||
            ((cmd->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) &&
             (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID))) {
            return -EOPNOTSUPP;
        }
        rc = paging_data_check(idev->dev->iommu, cmd, &huge_leaf);
        if (rc) {
            return rc;
        }
        rc = emu_hwpt_paging_new(ctx, (EmuIoas *)pt, idev->dev->iommu,
                                 cmd->flags, &hwpt);
        if (!rc) {
            hwpt->huge_leaf = huge_leaf;
        }
        break;
    case EMU_OBJ_HWPT_PAGING:
    case EMU_OBJ_VIOMMU:
        rc = hwpt_nested_new(ctx, idev, pt, cmd, &hwpt);
        break;
    default:
        return -EINVAL;
    }
    if (rc) {
        return rc;
    }
    if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
        fault = (EmuEventq *)emu_obj_get(ctx, cmd->fault_id, EMU_OBJ_FAULT);
        if (!fault) {
            emu_hwpt_destroy(hwpt);
            emu_obj_abort(&hwpt->obj);
            return -ENOENT;
        }
        hwpt->fault = fault;
        emu_obj_ref(fault);     /* put in emu_hwpt_destroy() */
    }
    cmd->out_hwpt_id = hwpt->obj.id;
    emu_obj_finalize(&hwpt->obj);
    return 0;
}

void emu_hwpt_destroy(EmuHwpt *hwpt)
{
    g_assert(!hwpt->attached && !hwpt->children);
    if (hwpt->fault) {
        emu_obj_unref(hwpt->fault);
    }
    if (hwpt->obj.type == EMU_OBJ_HWPT_NESTED) {
        if (hwpt->iommu->ops->nested_free) {
            hwpt->iommu->ops->nested_free(hwpt);
        }
        g_free(hwpt->data);
        hwpt->parent->children--;
        emu_obj_unref(hwpt->parent);
        if (hwpt->viommu) {
            emu_obj_unref(hwpt->viommu);
        }
        return;
    }
    /*
     * Cache entries tagged with this domain (SMMUv3 nested translations
     * under its VMID) can no longer be reached: the model never reuses a
     * tag. Drop them so they do not wait for eviction.
     */
    emu_iotlb_flush(hwpt->iommu->iotlb, EMU_TLB_ALL, hwpt->tag, EMU_ANY, 0,
                    UINT64_MAX);
    hwpt->ioas->hwpts = g_list_remove(hwpt->ioas->hwpts, hwpt);
    emu_obj_unref(hwpt->ioas);
    emu_dirty_free(hwpt->dirty);
}

/* ---- IOMMU_HWPT_INVALIDATE ---- */

/*
 * A nested HWPT's cache_invalidate_user op (intel_nested_cache_invalidate_
 * user(), the selftest's mock_domain_cache_invalidate_user()): each entry
 * is copied when its turn comes by iommu_copy_struct_from_user_array(),
 * whose min_last is the last member, so entry_len must be the struct size
 * (EINVAL otherwise, shorter or longer). Entries before a failing one
 * took effect; entry_num says how many.
 */
static int invalidate_each(EmuCtx *ctx, struct iommu_hwpt_invalidate *cmd,
                           EmuHwpt *hwpt, const EmuHwOps *ops, uint32_t n)
{
    size_t size = ops->inv_entry_size;
    g_autofree void *entry = g_malloc0(size);
    uint32_t i;
    int rc = 0;

    if (n && cmd->entry_len != size) {
        return -EINVAL;
    }
    for (i = 0; i < n; i++) {
        rc = emu_copy_from_user(entry,
                                cmd->data_uptr + (uint64_t)i * size, size);
        if (!rc) {
            rc = emu_host_op(ctx->host);
        }
        if (!rc) {
            rc = ops->invalidate(hwpt, NULL, entry);
        }
        if (rc) {
            break;
        }
        cmd->entry_num = i + 1;
    }
    return rc;
}

/*
 * Run the checked commands of a vIOMMU array as the driver issues them:
 * with a batch size (SMMUv3: arm_vsmmu_cache_invalidate() sends up to
 * CMDQ_BATCH_ENTRIES - 1 commands per command-queue submission), each
 * command is checked (converted) in turn and a full batch, or the last
 * one, is issued. A command that fails its check stops the array:
 * entry_num counts every command before it, but those of its batch were
 * never issued, exactly as the kernel leaves them. A failed submission
 * (the host's command queue) counts up to the command before the
 * batch's last. Without a batch size each entry runs as it comes.
 */
static int issue_batches(EmuCtx *ctx, struct iommu_hwpt_invalidate *cmd,
                         EmuViommu *viommu, const EmuHwOps *ops,
                         uint8_t *entries, size_t size, uint32_t n)
{
    unsigned batch = ops->viommu_inv_batch ? ops->viommu_inv_batch : 1;
    uint32_t i, j, last = 0;
    int rc = 0;

    for (i = 0; i < n; i++) {
        if (ops->viommu_inv_check) {
            rc = ops->viommu_inv_check(viommu, entries + i * size);
            if (rc) {
                break;
            }
        }
        if (i + 1 - last < batch && i + 1 != n) {
            continue;
        }
        rc = emu_host_op(ctx->host);
        if (rc) {
            cmd->entry_num = i;
            return rc;
        }
        for (j = last; j <= i; j++) {
            rc = ops->invalidate(NULL, viommu, entries + j * size);
            if (rc) {
                cmd->entry_num = j;
                return rc;
            }
        }
        last = i + 1;
    }
    cmd->entry_num = i;
    return rc;
}

/*
 * A vIOMMU's cache_invalidate op (arm_vsmmu_cache_invalidate(), the
 * selftest's mock_viommu_cache_invalidate()): the whole array is copied
 * before any entry runs, by iommu_copy_struct_from_full_user_array():
 * an empty array is EINVAL, any entry_len is taken with
 * copy_struct_from_user() rules (a shorter entry is zero-extended, a
 * longer one needs a zero tail, else E2BIG), and a bad pointer is EFAULT;
 * any of these leaves entry_num 0 with nothing run. The array is held as
 * the kernel holds it; entry_num is bounded, so is its size.
 */
static int invalidate_array(EmuCtx *ctx, struct iommu_hwpt_invalidate *cmd,
                            EmuViommu *viommu, const EmuHwOps *ops,
                            uint32_t n)
{
    size_t size = ops->viommu_inv_entry_size ? ops->viommu_inv_entry_size :
                  ops->inv_entry_size;
    g_autofree uint8_t *entries = NULL;
    uint32_t i;
    int rc;

    if (!n) {
        return ops->viommu_inv_probe ? 0 : -EINVAL;
    }
    rc = emu_host_op(ctx->host);        /* the kernel allocates the copy */
    if (rc) {
        return rc;
    }
    entries = g_malloc0_n(n, size);
    for (i = 0; i < n; i++) {
        rc = emu_copy_struct(entries + i * size, size,
                             cmd->data_uptr + (uint64_t)i * cmd->entry_len,
                             cmd->entry_len);
        if (rc) {
            return rc;
        }
    }
    return issue_batches(ctx, cmd, viommu, ops, entries, size, n);
}

/*
 * iommufd_hwpt_invalidate(): entry_num is written back on every return,
 * 0 unless the driver handled entries.
 */
int emu_hwpt_invalidate(EmuCtx *ctx, struct iommu_hwpt_invalidate *cmd)
{
    EmuObj *obj;
    EmuHwpt *hwpt = NULL;
    EmuViommu *viommu = NULL;
    const EmuHwOps *ops;
    uint32_t n = cmd->entry_num;

    cmd->entry_num = 0;
    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if (n && (!cmd->data_uptr || !cmd->entry_len ||
              cmd->entry_len > INV_ENTRY_LEN_MAX || n > INV_ENTRY_NUM_MAX)) {
        return -EINVAL;
    }
    obj = emu_obj_get(ctx, cmd->hwpt_id, EMU_OBJ_NONE);
    if (!obj) {
        return -ENOENT;
    }
    if (obj->type == EMU_OBJ_HWPT_NESTED) {
        hwpt = (EmuHwpt *)obj;
        ops = hwpt->iommu->ops;
        if (hwpt->viommu && !ops->nest_on_parent) {
            return -EOPNOTSUPP;     /* invalidated through its vIOMMU */
        }
    } else if (obj->type == EMU_OBJ_VIOMMU) {
        viommu = (EmuViommu *)obj;
        ops = viommu->iommu->ops;
    } else {
        return -EINVAL;
    }
    if (!ops->invalidate) {
        return -EOPNOTSUPP;
    }
    if (cmd->data_type != ops->inv_data_type) {
        return -EINVAL;
    }
    return viommu ? invalidate_array(ctx, cmd, viommu, ops, n) :
                    invalidate_each(ctx, cmd, hwpt, ops, n);
}

/* ---- IOMMU_GET_HW_INFO ---- */

int emu_hw_info(EmuCtx *ctx, struct iommu_hw_info *cmd)
{
    EmuIdev *idev;
    const EmuHwOps *ops;
    EmuIommu *iommu;
    uint8_t buf[256] = { 0 };
    size_t len = 0;
    int rc;

    if ((cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) ||
        cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2]) {
        return -EOPNOTSUPP;
    }
    idev = emu_idev_get(ctx, cmd->dev_id);
    if (!idev) {
        return -ENOENT;
    }
    iommu = idev->dev->iommu;
    ops = iommu->ops;
    if ((cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE) &&
        cmd->in_data_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
        cmd->in_data_type != ops->hw_info_type) {
        return -EOPNOTSUPP;
    }
    if (ops->hw_info) {
        /* The driver's info (its hw_info op returns a kzalloc'ed copy) */
        rc = emu_host_op(ctx->host);
        if (rc) {
            return rc;
        }
        len = ops->hw_info(iommu, buf, sizeof(buf));
    }
    /* Copy what fits, zero the rest of the user's buffer. */
    rc = emu_copy_to_user(cmd->data_uptr, buf, MIN(len, cmd->data_len));
    if (!rc && cmd->data_len > len) {
        rc = emu_clear_user(cmd->data_uptr + len, cmd->data_len - len);
    }
    if (rc) {
        return rc;
    }
    cmd->data_len = len;
    cmd->out_data_type = ops->hw_info_type;
    cmd->out_capabilities = 0;
    if (iommu->cfg.dirty_tracking && !idev->dev->no_dirty) {
        cmd->out_capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
    }
    if (idev->dev->pasid_bits) {
        cmd->out_capabilities |= IOMMU_HW_CAP_PCI_PASID_EXEC |
                                 IOMMU_HW_CAP_PCI_PASID_PRIV;
    }
    /*
     * device_iommu_capable(IOMMU_CAP_PCI_ATS_SUPPORTED) is false for every
     * modelled IOMMU: VT-d's needs ECAP.DT (intel_iommu_probe_device()
     * sets ats_supported only then), SMMUv3's IDR0.ATS
     * (arm_smmu_ats_supported()), and neither is offered; the paging and
     * selftest drivers do not report it (mock_domain_capable()).
     */
    cmd->out_capabilities |= IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
    cmd->out_max_pasid_log2 = idev->dev->pasid_bits;
    return 0;
}

/* ---- dirty tracking ---- */

static EmuHwpt *paging_get(EmuCtx *ctx, uint32_t id)
{
    return (EmuHwpt *)emu_obj_get(ctx, id, EMU_OBJ_HWPT_PAGING);
}

/*
 * A paging HWPT whose domain has dirty tracking (allocated with
 * DIRTY_TRACKING), by id: without it the kernel's iopt_set_dirty_tracking
 * and iommu_read_and_clear_dirty find no dirty ops and fail EOPNOTSUPP.
 */
static int dirty_hwpt_get(EmuCtx *ctx, uint32_t id, EmuHwpt **out)
{
    EmuHwpt *hwpt = paging_get(ctx, id);

    if (!hwpt) {
        return -ENOENT;
    }
    if (!(hwpt->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)) {
        return -EOPNOTSUPP;
    }
    *out = hwpt;
    return 0;
}

/*
 * iommufd_hwpt_set_dirty_tracking: no check of __reserved. Enabling (again
 * or not) first clears every dirty bit for a clean snapshot
 * (iopt_set_dirty_tracking); disabling keeps them readable.
 */
int emu_hwpt_set_dirty(EmuCtx *ctx, struct iommu_hwpt_set_dirty_tracking *cmd)
{
    EmuHwpt *hwpt;
    int rc;

    if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE) {
        return -EOPNOTSUPP;
    }
    rc = dirty_hwpt_get(ctx, cmd->hwpt_id, &hwpt);
    if (rc) {
        return rc;
    }
    hwpt->dirty_tracking = cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
    if (hwpt->dirty_tracking) {
        emu_dirty_clear(hwpt->dirty);
    }
    return 0;
}

/*
 * Record a DMA write to [addr, addr+len) of a paging HWPT's IOAS: the
 * hardware sets the dirty bit of each 4 KiB leaf written.
 */
void emu_hwpt_mark_dirty(EmuHwpt *hwpt, uint64_t addr, uint64_t len)
{
    if (!hwpt->dirty_tracking || !len) {
        return;
    }
    emu_dirty_mark(hwpt->dirty, addr & EMU_PAGE_MASK,
                   ((addr + len - 1) & EMU_PAGE_MASK) + EMU_PAGE_SIZE - 1);
}

void emu_hwpt_mark_dirty_leaf(EmuHwpt *hwpt, uint64_t first, uint64_t last)
{
    if (hwpt->dirty_tracking) {
        emu_dirty_mark(hwpt->dirty, first, last);
    }
}

/* The user's bitmap of a GET_DIRTY_BITMAP: bit n is iova + (n << shift). */
typedef struct DirtyBitmap {
    uint64_t iova;
    unsigned shift;
    uint64_t data;
} DirtyBitmap;

/* OR bits lo..hi of @mask's byte into the user's byte at @addr. */
static int bitmap_or_byte(uint64_t addr, unsigned lo, unsigned hi)
{
    uint8_t byte;
    int rc = emu_copy_from_user(&byte, addr, 1);

    if (rc) {
        return rc;
    }
    byte |= (uint8_t)((0xffu << lo) & (0xffu >> (7 - hi)));
    return emu_copy_to_user(addr, &byte, 1);
}

/*
 * Set bits [first, last] of the user's bitmap; never clear one, as
 * iova_bitmap_set() only sets bits. The bitmap is little-endian u64 words
 * at any byte address, so it is written byte by byte: the partial bytes
 * at both ends read-modify-write, the whole bytes between as 0xff.
 */
static int bitmap_set_bits(uint64_t data, uint64_t first, uint64_t last)
{
    static const uint8_t ones[256] = {
        [0 ... 255] = 0xff,
    };
    uint64_t b0 = first / 8, b1 = last / 8, off;
    int rc;

    if (b0 == b1) {
        return bitmap_or_byte(data + b0, first % 8, last % 8);
    }
    rc = bitmap_or_byte(data + b0, first % 8, 7);
    for (off = b0 + 1; !rc && off < b1; off += sizeof(ones)) {
        rc = emu_copy_to_user(data + off, ones, MIN(b1 - off, sizeof(ones)));
    }
    return rc ? rc : bitmap_or_byte(data + b1, 0, last % 8);
}

static int dirty_piece(uint64_t first, uint64_t last, void *opaque)
{
    const DirtyBitmap *bm = opaque;

    return bitmap_set_bits(bm->data, (first - bm->iova) >> bm->shift,
                           (last - bm->iova) >> bm->shift);
}

/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP, as iommufd_hwpt_get_dirty_bitmap,
 * iommufd_check_iova_range and iommu_read_and_clear_dirty do it: the range
 * must be aligned to the IOAS's IOVA alignment and to page_size (a mask
 * test: page_size need not be a power of two, each bit then covers
 * 1 << __ffs(page_size) bytes, as iova_bitmap_alloc() makes it) and be
 * mapped without holes. Only the dirty runs inside are visited. Without
 * NO_CLEAR, the dirty bits of every 4 KiB leaf touched are cleared.
 */
int emu_hwpt_get_dirty(EmuCtx *ctx, struct iommu_hwpt_get_dirty_bitmap *cmd)
{
    EmuHwpt *hwpt;
    DirtyBitmap bm;
    uint64_t last, align;
    int rc;

    if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
        cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    hwpt = paging_get(ctx, cmd->hwpt_id);
    if (!hwpt) {
        return -ENOENT;
    }
    if (!cmd->length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last)) {
        return -EOVERFLOW;
    }
    align = emu_ioas_iova_alignment(hwpt->ioas);
    if ((cmd->iova & (align - 1)) || ((last + 1) & (align - 1)) ||
        !cmd->page_size || (cmd->iova & (cmd->page_size - 1)) ||
        ((last + 1) & (cmd->page_size - 1))) {
        return -EINVAL;
    }
    if (!(hwpt->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)) {
        return -EOPNOTSUPP;
    }
    if (!emu_ioas_pin(hwpt->ioas, cmd->iova, cmd->length, false)) {
        return -EINVAL;         /* iopt_area_contig_done() */
    }
    /* iova_bitmap_alloc(): before any dirty bit is read or cleared */
    rc = emu_host_op(ctx->host);
    if (rc) {
        return rc;
    }
    bm.iova = cmd->iova;
    bm.shift = __builtin_ctzll(cmd->page_size);
    bm.data = cmd->data;
    rc = emu_dirty_report(hwpt->dirty, cmd->iova, last, dirty_piece, &bm);
    if (!rc && !(cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)) {
        emu_dirty_clean(hwpt->dirty, cmd->iova & EMU_PAGE_MASK,
                        last | (EMU_PAGE_SIZE - 1));
    }
    return rc;
}
