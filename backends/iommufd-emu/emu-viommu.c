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

/*
 * iommufd_viommu_alloc_ioctl(): flags and the DEFAULT type first
 * (__reserved is not checked), the device, the type the driver offers
 * (get_viommu_size(): none without nesting), then the parent (ENOENT,
 * EINVAL if not a nest parent), then the driver's init:
 * arm_vsmmu_init() refuses a parent of another SMMU (EINVAL) and takes
 * no data for IOMMU_VIOMMU_TYPE_ARM_SMMUV3 (data_len is ignored).
 */
int emu_viommu_alloc(EmuCtx *ctx, struct iommu_viommu_alloc *cmd)
{
    EmuIdev *idev;
    EmuHwpt *parent;
    EmuViommu *viommu;
    EmuIommu *iommu;
    int rc;

    if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT) {
        return -EOPNOTSUPP;
    }
    idev = emu_idev_get(ctx, cmd->dev_id);
    if (!idev) {
        return -ENOENT;
    }
    iommu = idev->dev->iommu;
    if (!iommu->ops->viommu_type || cmd->type != iommu->ops->viommu_type ||
        !iommu->cfg.nesting) {
        return -EOPNOTSUPP;
    }
    parent = (EmuHwpt *)emu_obj_get(ctx, cmd->hwpt_id, EMU_OBJ_HWPT_PAGING);
    if (!parent) {
        return -ENOENT;
    }
    if (!(parent->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) ||
        parent->auto_domain || parent->iommu != iommu) {
        return -EINVAL;
    }
    rc = emu_obj_reserve(ctx, EMU_OBJ_VIOMMU, sizeof(*viommu), &viommu);
    if (rc) {
        return rc;
    }
    viommu->iommu = iommu;
    viommu->parent = parent;
    viommu->type = cmd->type;
    /*
     * The VMID is the stage-2 parent's (arm_vsmmu_init: s2_cfg.vmid):
     * vIOMMUs sharing a parent share its TLB entries, as on hardware.
     */
    viommu->vmid = parent->tag;
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
    g_assert(!g_hash_table_size(viommu->vdevs) && !viommu->veventqs);
    emu_mmap_destroy_owner(viommu->obj.ctx, &viommu->obj);
    g_hash_table_destroy(viommu->vdevs);
    viommu->parent->children--;
    emu_obj_unref(viommu->parent);
}

/*
 * iommufd_vdevice_alloc_ioctl(): virt_id indexes an xarray, so anything
 * beyond ULONG_MAX is EINVAL, first; on a 64-bit host every value goes.
 */
int emu_vdevice_alloc(EmuCtx *ctx, struct iommu_vdevice_alloc *cmd)
{
    EmuViommu *viommu;
    EmuIdev *idev;
    EmuVdevice *vdev;
    int rc;

    if ((unsigned long)cmd->virt_id != cmd->virt_id) {
        return -EINVAL;
    }
    viommu = (EmuViommu *)emu_obj_get(ctx, cmd->viommu_id, EMU_OBJ_VIOMMU);
    idev = emu_idev_get(ctx, cmd->dev_id);
    if (!viommu || !idev) {
        return -ENOENT;
    }
    if (idev->dev->iommu != viommu->iommu) {
        return -EINVAL;
    }
    if (idev->vdev || g_hash_table_contains(viommu->vdevs, &cmd->virt_id)) {
        return -EEXIST;
    }
    rc = emu_obj_reserve(ctx, EMU_OBJ_VDEVICE, sizeof(*vdev), &vdev);
    if (!rc) {
        /* Its virt_id slot (xa_cmpxchg into the vIOMMU's vdevs) */
        rc = emu_host_op(ctx->host);
        if (rc) {
            emu_obj_abort(&vdev->obj);
        }
    }
    if (rc) {
        return rc;
    }
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
