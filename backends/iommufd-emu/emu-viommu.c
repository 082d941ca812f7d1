/*
 * VNest emulated host IOMMU: vIOMMU and vDEVICE objects
 *
 * A vIOMMU is the slice of a physical IOMMU given to one VM: it holds the
 * nest parent (its stage-2, tagged with a VMID), the vDEVICE table that
 * maps the guest's device IDs (vSIDs) to physical devices, and the vEVENTQ
 * the hardware reports stage-1 events to.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

int emu_viommu_alloc(EmuCtx *ctx, struct iommu_viommu_alloc *cmd)
{
    EmuIdev *idev;
    EmuHwpt *parent;
    EmuViommu *viommu;
    EmuIommu *iommu;
    int rc;

    if (cmd->flags || cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    idev = emu_idev_get(ctx, cmd->dev_id);
    if (!idev) {
        return -ENOENT;
    }
    parent = (EmuHwpt *)emu_obj_get(ctx, cmd->hwpt_id, EMU_OBJ_HWPT_PAGING);
    if (!parent) {
        return -ENOENT;
    }
    if (!(parent->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) ||
        parent->auto_domain) {
        return -EINVAL;
    }
    iommu = idev->dev->iommu;
    if (!iommu->ops->viommu_type || cmd->type != iommu->ops->viommu_type) {
        return -EOPNOTSUPP;
    }
    if (cmd->data_len && !iommu->ops->viommu_data) {
        return -EOPNOTSUPP;     /* no type-specific data for SMMUv3 */
    }
    rc = emu_host_op(ctx->host);
    if (rc) {
        return rc;
    }
    viommu = emu_obj_reserve(ctx, EMU_OBJ_VIOMMU, sizeof(*viommu));
    viommu->iommu = iommu;
    viommu->parent = parent;
    viommu->type = cmd->type;
    viommu->vmid = iommu->next_tag++;
    viommu->vdevs = g_hash_table_new(g_int64_hash, g_int64_equal);
    if (iommu->ops->viommu_data) {
        rc = iommu->ops->viommu_data(viommu, cmd);
        if (rc) {
            emu_mmap_destroy_owner(ctx, &viommu->obj);
            g_hash_table_destroy(viommu->vdevs);
            emu_obj_abort(&viommu->obj);
            return rc;
        }
    }
    emu_obj_ref(parent);        /* put in emu_viommu_destroy() */
    parent->children++;
    cmd->out_viommu_id = viommu->obj.id;
    emu_obj_finalize(&viommu->obj);
    return 0;
}

void emu_viommu_destroy(EmuViommu *viommu)
{
    g_assert(!g_hash_table_size(viommu->vdevs) && !viommu->veventq);
    emu_iotlb_flush(viommu->iommu, viommu->vmid, EMU_ANY, 0, UINT64_MAX);
    emu_mmap_destroy_owner(viommu->obj.ctx, &viommu->obj);
    g_hash_table_destroy(viommu->vdevs);
    viommu->parent->children--;
    emu_obj_unref(viommu->parent);
}

int emu_vdevice_alloc(EmuCtx *ctx, struct iommu_vdevice_alloc *cmd)
{
    EmuViommu *viommu;
    EmuIdev *idev;
    EmuVdevice *vdev;
    int rc;

    viommu = (EmuViommu *)emu_obj_get(ctx, cmd->viommu_id, EMU_OBJ_VIOMMU);
    idev = emu_idev_get(ctx, cmd->dev_id);
    if (!viommu || !idev) {
        return -ENOENT;
    }
    if (idev->dev->iommu != viommu->iommu) {
        return -EINVAL;
    }
    if (cmd->virt_id > UINT32_MAX) {
        return -EINVAL;
    }
    if (idev->vdev || g_hash_table_contains(viommu->vdevs, &cmd->virt_id)) {
        return -EEXIST;
    }
    rc = emu_host_op(ctx->host);
    if (rc) {
        return rc;
    }
    vdev = emu_obj_reserve(ctx, EMU_OBJ_VDEVICE, sizeof(*vdev));
    vdev->viommu = viommu;
    vdev->idev = idev;
    vdev->virt_id = cmd->virt_id;
    g_hash_table_insert(viommu->vdevs, &vdev->virt_id, vdev);
    idev->vdev = vdev;
    emu_obj_ref(viommu);        /* put in emu_vdevice_destroy() */
    emu_obj_ref(idev);          /* put in emu_vdevice_destroy() */
    cmd->out_vdevice_id = vdev->obj.id;
    emu_obj_finalize(&vdev->obj);
    return 0;
}

void emu_vdevice_destroy(EmuVdevice *vdev)
{
    g_hash_table_remove(vdev->viommu->vdevs, &vdev->virt_id);
    vdev->idev->vdev = NULL;
    emu_obj_unref(vdev->viommu);
    emu_obj_unref(vdev->idev);
}

/* The device a guest's virtual ID names on @viommu, or NULL. */
EmuIdev *emu_viommu_find_dev(EmuViommu *viommu, uint64_t virt_id)
{
    EmuVdevice *vdev = g_hash_table_lookup(viommu->vdevs, &virt_id);

    return vdev ? vdev->idev : NULL;
}
