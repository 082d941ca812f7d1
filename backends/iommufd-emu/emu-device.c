/*
 * VNest emulated host IOMMU: devices and the VFIO cdev side
 *
 * VFIO_DEVICE_BIND_IOMMUFD creates the iommufd device object; ATTACH and
 * DETACH_IOMMUFD_PT move the device's RID or one of its PASIDs between
 * IOASes (through an automatic paging domain) and HWPTs. Attaching an
 * attached RID/PASID replaces its domain in one step.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stddef.h>
#include "emu-internal.h"

#define OFFSETOFEND(type, member) \
    (offsetof(type, member) + sizeof(((type *)0)->member))

static gpointer pasid_key(uint32_t pasid)
{
    return GUINT_TO_POINTER(pasid == EMU_NO_PASID ? 0 : pasid + 1);
}

EmuHwpt *emu_idev_domain(EmuIdev *idev, uint32_t pasid)
{
    return g_hash_table_lookup(idev->attach, pasid_key(pasid));
}

/* Find or make the automatic paging domain of @ioas for this device. */
static int auto_domain(EmuIdev *idev, EmuIoas *ioas, EmuHwpt **out)
{
    EmuIommu *iommu = idev->dev->iommu;
    uint32_t flags = 0;         /* not PASID-compatible, as in Linux */
    GList *l;
    int rc;

    for (l = ioas->hwpts; l; l = l->next) {
        EmuHwpt *h = l->data;

        if (h->auto_domain && h->iommu == iommu) {
            *out = h;
            return 0;
        }
    }
    rc = emu_hwpt_paging_new(idev->obj.ctx, ioas, iommu, flags, out);
    if (rc) {
        return rc;
    }
    (*out)->auto_domain = true;
    emu_obj_finalize(&(*out)->obj);
    return 0;
}

static void auto_domain_put(EmuHwpt *hwpt)
{
    if (hwpt->auto_domain && !hwpt->attached) {
        emu_obj_destroy(hwpt->obj.ctx, hwpt->obj.id);
    }
}

/* Can @hwpt take this device's RID or @pasid? */
static int attach_check(EmuIdev *idev, EmuHwpt *hwpt, uint32_t pasid)
{
    EmuIommu *iommu = idev->dev->iommu;
    EmuHwpt *paging = hwpt->parent ? hwpt->parent : hwpt;
    EmuHwpt *rid_domain;

    if (hwpt->iommu != iommu) {
        return -EINVAL;
    }
    if ((paging->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
        idev->dev->no_dirty) {
        return -EINVAL;
    }
    if (pasid != EMU_NO_PASID) {
        /*
         * iommufd_hwpt_pasid_compat() first: the HWPT and the RID's must
         * be ALLOC_PASID ones (EINVAL); then the PASID range
         * (iommu_attach_device_pasid(), EINVAL). For a device without
         * PASID the kernel skips that range check and leaves it to the
         * driver; the model refuses it with the same EINVAL (such a
         * device issues no PASID-tagged DMA).
         */
        if (!(hwpt->flags & IOMMU_HWPT_ALLOC_PASID)) {
            return -EINVAL;
        }
        rid_domain = emu_idev_domain(idev, EMU_NO_PASID);
        if (rid_domain && !(rid_domain->flags & IOMMU_HWPT_ALLOC_PASID)) {
            return -EINVAL;
        }
        if (!idev->dev->pasid_bits ||
            pasid >= (1u << idev->dev->pasid_bits)) {
            return -EINVAL;
        }
    } else if (g_hash_table_size(idev->attach) >
               (emu_idev_domain(idev, EMU_NO_PASID) ? 1u : 0u) &&
               !(hwpt->flags & IOMMU_HWPT_ALLOC_PASID)) {
        return -EINVAL;     /* PASIDs attached: the RID domain must allow */
    }
    if (hwpt->obj.type == EMU_OBJ_HWPT_NESTED && iommu->ops->nested_attach) {
        int rc = iommu->ops->nested_attach(hwpt, idev, pasid);

        if (rc) {
            return rc;
        }
    }
    return emu_ioas_check_attach(paging->ioas, iommu);
}

static void domain_set(EmuIdev *idev, uint32_t pasid, EmuHwpt *hwpt)
{
    EmuHwpt *old = emu_idev_domain(idev, pasid);

    if (hwpt) {
        /* iopf_for_domain_set(): intel_iommu_enable_iopf() took one */
        if (hwpt->fault) {
            idev->dev->iopf_refcount++;
        }
        hwpt->attached++;
        emu_obj_ref(hwpt);      /* put when replaced or detached */
        if (hwpt->parent) {
            hwpt->parent->nested_attached++;
        }
        g_hash_table_insert(idev->attach, pasid_key(pasid), hwpt);
        if (hwpt->obj.type == EMU_OBJ_HWPT_NESTED &&
            hwpt->iommu->ops->nested_set) {
            hwpt->iommu->ops->nested_set(hwpt, idev, pasid);
        }
    } else {
        g_hash_table_remove(idev->attach, pasid_key(pasid));
    }
    if (old && old->obj.type == EMU_OBJ_HWPT_NESTED &&
        old->iommu->ops->domain_unset) {
        old->iommu->ops->domain_unset(old, idev, pasid);
    }
    if (old && old->fault) {
        /*
         * iopf_for_domain_remove() in the driver's detach or replace,
         * then iommufd_hwpt_detach_device() / iommufd_hwpt_replace_device()
         * call iommufd_auto_response_faults() on the old handle: its
         * page requests, read or not, are answered INVALID.
         */
        g_assert(idev->dev->iopf_refcount);
        idev->dev->iopf_refcount--;
        emu_fault_auto_response(old->fault, idev, pasid);
    }
    if (old) {
        old->attached--;
        emu_obj_unref(old);
        if (old->parent) {
            old->parent->nested_attached--;
        }
        auto_domain_put(old);
    }
}

int emu_idev_attach(EmuIdev *idev, uint32_t pasid, uint32_t *pt_id)
{
    EmuCtx *ctx = idev->obj.ctx;
    EmuObj *pt = emu_obj_get(ctx, *pt_id, EMU_OBJ_NONE);
    EmuHwpt *hwpt, *old, *old_paging, *paging;
    bool made = false;
    int rc;

    if (!pt) {
        return -ENOENT;
    }
    if (pt->type == EMU_OBJ_IOAS) {
        rc = auto_domain(idev, (EmuIoas *)pt, &hwpt);
        if (rc) {
            return rc;
        }
        made = !hwpt->attached;
    } else if (pt->type == EMU_OBJ_HWPT_PAGING ||
               pt->type == EMU_OBJ_HWPT_NESTED) {
        hwpt = (EmuHwpt *)pt;
    } else {
        return -EINVAL;
    }
    rc = attach_check(idev, hwpt, pasid);
    old = emu_idev_domain(idev, pasid);
    old_paging = old && old->parent ? old->parent : old;
    paging = hwpt->parent ? hwpt->parent : hwpt;
    if (!rc && old != hwpt && pasid == EMU_NO_PASID &&
        (!old_paging || old_paging->ioas != paging->ioas)) {
        /*
         * iommufd_device_attach_reserved_iova(), or on a replace onto
         * another IOAS iommufd_group_do_replace_reserved_iova()
         */
        rc = emu_ioas_reserve_dev_regions(paging->ioas, idev->dev->iommu);
    }
    if (!rc && old != hwpt) {
        /* The attach handle (iommufd_hw_pagetable_attach(): kzalloc) */
        rc = emu_host_op(ctx->host);
    }
    if (!rc && old != hwpt) {
        /*
         * The driver's attach (intel dmar/nested attach, set_dev_pasid):
         * iopf_for_domain_set() -> intel_iommu_enable_iopf(): ENODEV for
         * a fault-capable HWPT on a device without PRI enabled; on a
         * replace the old domain stays (iopf_for_domain_replace()).
         */
        rc = emu_pri_iopf_check(idev->dev, hwpt);
    }
    if (!rc && pasid != EMU_NO_PASID &&
        emu_idev_domain(idev, pasid) != hwpt &&
        idev->dev->iommu->ops->set_dev_pasid) {
        /* the old domain stays on failure (__iommu_set_group_pasid) */
        rc = idev->dev->iommu->ops->set_dev_pasid(idev, pasid, hwpt);
    }
    if (rc) {
        if (made) {
            auto_domain_put(hwpt);
        }
        return rc;
    }
    if (emu_idev_domain(idev, pasid) != hwpt) {
        domain_set(idev, pasid, hwpt);
    }
    *pt_id = hwpt->obj.id;
    return 0;
}

int emu_idev_detach(EmuIdev *idev, uint32_t pasid)
{
    if (pasid != EMU_NO_PASID && emu_idev_domain(idev, pasid) &&
        idev->dev->iommu->ops->set_dev_pasid) {
        idev->dev->iommu->ops->set_dev_pasid(idev, pasid, NULL);
    }
    domain_set(idev, pasid, NULL);
    return 0;
}

static void detach_one(gpointer key, gpointer value, gpointer opaque)
{
    GPtrArray *keys = opaque;

    g_ptr_array_add(keys, key);
}

void emu_idev_destroy(EmuIdev *idev)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    guint i;

    g_hash_table_foreach(idev->attach, detach_one, keys);
    for (i = 0; i < keys->len; i++) {
        guint k = GPOINTER_TO_UINT(g_ptr_array_index(keys, i));

        emu_idev_detach(idev, k ? k - 1 : EMU_NO_PASID);
    }
    g_hash_table_destroy(idev->attach);
    idev->dev->idev = NULL;
}

/* ---- the VFIO cdev ---- */

EmuVfio *emu_vfio_open(EmuDevice *dev)
{
    EMU_HOST_LOCK(dev->host);
    EmuVfio *vfio;

    if (dev->vfio) {
        errno = EBUSY;
        return NULL;
    }
    vfio = g_new0(EmuVfio, 1);
    vfio->dev = dev;
    dev->vfio = vfio;
    return vfio;
}

void emu_vfio_set_ctx(EmuVfio *vfio, EmuCtx *ctx)
{
    EMU_HOST_LOCK(vfio->dev->host);

    vfio->ctx = ctx;
}

/* Unbind: the vDEVICE goes with the device, as in kernels since 6.17. */
void emu_idev_unbind(EmuIdev *idev)
{
    EmuCtx *ctx = idev->obj.ctx;

    if (idev->vdev) {
        EmuVdevice *vdev = idev->vdev;

        g_assert(!vdev->obj.users);
        emu_obj_destroy(ctx, vdev->obj.id);
    }
    emu_obj_unref(idev);        /* taken at bind */
    emu_obj_destroy(ctx, idev->obj.id);
}

static void vfio_unbind(EmuVfio *vfio)
{
    if (vfio->idev) {
        emu_idev_unbind(vfio->idev);
        vfio->idev = NULL;
    }
}

int emu_idev_bind(EmuCtx *ctx, EmuDevice *dev, EmuIdev **out)
{
    EmuIdev *idev;
    int rc;

    if (dev->idev) {
        return -EINVAL;
    }
    rc = emu_obj_reserve(ctx, EMU_OBJ_DEVICE, sizeof(*idev), &idev);
    if (rc) {
        return rc;
    }
    /*
     * Its attach table: where the kernel keeps the group's attach state
     * (iommufd_get_group(): the iommufd_group, kzalloc).
     */
    rc = emu_host_op(ctx->host);
    if (rc) {
        emu_obj_abort(&idev->obj);
        return rc;
    }
    idev->dev = dev;
    idev->attach = g_hash_table_new(g_direct_hash, g_direct_equal);
    emu_obj_ref(idev);          /* held by the binding; put at unbind */
    dev->idev = idev;
    emu_obj_finalize(&idev->obj);
    *out = idev;
    return 0;
}

void emu_vfio_close(EmuVfio *vfio)
{
    EMU_HOST_LOCK(vfio->dev->host);

    vfio_unbind(vfio);
    vfio->dev->vfio = NULL;
    g_free(vfio);
}

static int vfio_bind(EmuVfio *vfio, struct vfio_device_bind_iommufd *bind)
{
    EmuIdev *idev;
    int rc;

    if (bind->argsz < OFFSETOFEND(struct vfio_device_bind_iommufd,
                                  out_devid) ||
        (bind->flags & ~VFIO_DEVICE_BIND_FLAG_TOKEN)) {
        return -EINVAL;
    }
    if (vfio->idev || vfio->dev->idev) {
        return -EINVAL;
    }
    if (!vfio->ctx) {
        return -EBADF;
    }
    rc = emu_idev_bind(vfio->ctx, vfio->dev, &idev);
    if (rc) {
        return rc;
    }
    idev->vfio = vfio;
    vfio->idev = idev;
    bind->out_devid = idev->obj.id;
    return 0;
}

static int vfio_attach(EmuVfio *vfio, struct vfio_device_attach_iommufd_pt *a)
{
    size_t min = OFFSETOFEND(struct vfio_device_attach_iommufd_pt, pt_id);
    uint32_t pasid = EMU_NO_PASID;

    if (a->argsz < min || (a->flags & ~VFIO_DEVICE_ATTACH_PASID)) {
        return -EINVAL;
    }
    if (a->flags & VFIO_DEVICE_ATTACH_PASID) {
        if (a->argsz < OFFSETOFEND(struct vfio_device_attach_iommufd_pt,
                                   pasid)) {
            return -EINVAL;
        }
        pasid = a->pasid;
    }
    if (!vfio->idev) {
        return -EINVAL;
    }
    return emu_idev_attach(vfio->idev, pasid, &a->pt_id);
}

static int vfio_detach(EmuVfio *vfio, struct vfio_device_detach_iommufd_pt *d)
{
    size_t min = OFFSETOFEND(struct vfio_device_detach_iommufd_pt, flags);
    uint32_t pasid = EMU_NO_PASID;

    if (d->argsz < min || (d->flags & ~VFIO_DEVICE_DETACH_PASID)) {
        return -EINVAL;
    }
    if (d->flags & VFIO_DEVICE_DETACH_PASID) {
        if (d->argsz < OFFSETOFEND(struct vfio_device_detach_iommufd_pt,
                                   pasid)) {
            return -EINVAL;
        }
        pasid = d->pasid;
    }
    if (!vfio->idev) {
        return -EINVAL;
    }
    return emu_idev_detach(vfio->idev, pasid);
}

int emu_vfio_ioctl(EmuVfio *vfio, unsigned long cmd, void *arg)
{
    EMU_HOST_LOCK(vfio->dev->host);
    uint8_t kbuf[64] = { 0 };
    uint32_t argsz;
    size_t ksize;
    int rc;

    switch (cmd) {
    case VFIO_DEVICE_BIND_IOMMUFD:
        ksize = sizeof(struct vfio_device_bind_iommufd);
        break;
    case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
        ksize = sizeof(struct vfio_device_attach_iommufd_pt);
        break;
    case VFIO_DEVICE_DETACH_IOMMUFD_PT:
        ksize = sizeof(struct vfio_device_detach_iommufd_pt);
        break;
    default:
        errno = ENOTTY;
        return -1;
    }
    rc = emu_copy_from_user(&argsz, (uintptr_t)arg, sizeof(argsz));
    if (!rc) {
        /* VFIO reads argsz bytes at most and ignores any longer tail. */
        rc = emu_copy_from_user(kbuf, (uintptr_t)arg, MIN(argsz, ksize));
    }
    if (!rc) {
        switch (cmd) {
        case VFIO_DEVICE_BIND_IOMMUFD:
            rc = vfio_bind(vfio, (void *)kbuf);
            break;
        case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
            rc = vfio_attach(vfio, (void *)kbuf);
            break;
        default:
            rc = vfio_detach(vfio, (void *)kbuf);
            break;
        }
    }
    if (!rc && cmd != VFIO_DEVICE_DETACH_IOMMUFD_PT) {
        rc = emu_copy_to_user((uintptr_t)arg, kbuf, MIN(argsz, ksize));
    }
    if (rc) {
        errno = -rc;
        return -1;
    }
    return 0;
}
