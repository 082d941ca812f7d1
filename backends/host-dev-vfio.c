/*
 * VNest: the host-device interface for vfio-pci on iommufd
 *
 * vfio-pci's host IOMMU device (host-iommu-device-iommufd-vfio) gets the
 * VNestHostDev interface through hook patch 0005. Attach and detach are
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT / VFIO_DEVICE_DETACH_IOMMUFD_PT on the
 * device's cdev (built once in host-dev.c; here only the ioctl itself).
 * Only a host with /dev/iommu and a VFIO cdev runs this file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <linux/vfio.h>
#include "qapi/error.h"
#include "hw/vfio/vfio-common.h"
#include "vnest/host-dev.h"
#include "vnest/iommufd-nest.h"
#include "vnest/vfio-nest.h"
#include "trace.h"

/* Containers whose stage 2 must not map read-only sections (SPR17). */
static GHashTable *no_readonly;

static VFIODevice *hiod_vfio(HostIOMMUDevice *hiod)
{
    g_assert(hiod->agent);
    return hiod->agent;
}

static void vfio_hiod_get_info(HostIOMMUDevice *hiod, VNestHostDevInfo *info)
{
    VFIODevice *vbasedev = hiod_vfio(hiod);

    info->be = vbasedev->iommufd;
    info->dev_id = vbasedev->devid;
    if (vbasedev->bcontainer) {
        VFIOIOMMUFDContainer *container =
            container_of(vbasedev->bcontainer, VFIOIOMMUFDContainer,
                         bcontainer);

        info->ioas_id = container->ioas_id;
    }
    if (vbasedev->hwpt) {
        info->hwpt_id = vbasedev->hwpt->hwpt_id;
        info->hwpt_flags = vbasedev->hwpt->hwpt_flags;
    }
}

static int vfio_hiod_ioctl(HostIOMMUDevice *hiod, unsigned long cmd,
                           void *arg)
{
    VFIODevice *vbasedev = hiod_vfio(hiod);
    int err = ioctl(vbasedev->fd, cmd, arg) ? errno : 0;

    trace_vnest_vfio_ioctl(vbasedev->name, vbasedev->fd, cmd, err);
    return -err;
}

void vnest_vfio_hiod_class_init(ObjectClass *oc)
{
    VNestHostDevClass *hdc = VNEST_HOST_DEV_CLASS(oc);

    hdc->get_info = vfio_hiod_get_info;
    hdc->vfio_ioctl = vfio_hiod_ioctl;
}

void vnest_vfio_hwpt_allocated(VFIODevice *vbasedev,
                               VFIOContainerBase *bcontainer, uint32_t flags)
{
    VNestHwInfo hw;

    if (!(flags & IOMMU_HWPT_ALLOC_NEST_PARENT) ||
        !vnest_iommufd_get_hw_info(vbasedev->iommufd, vbasedev->devid, &hw,
                                   NULL) ||
        hw.type != IOMMU_HW_INFO_TYPE_INTEL_VTD ||
        !(hw.data.vtd.flags & IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17)) {
        return;
    }
    /*
     * Erratum 772415 (SPR17): a nest parent must hold no read-only
     * mapping (the kernel refuses them, intel_iommu_map_pages()); guest
     * ROM is then not DMA-reachable, as on such hardware it cannot be.
     */
    if (!no_readonly) {
        no_readonly = g_hash_table_new(NULL, NULL);
    }
    g_hash_table_add(no_readonly, bcontainer);
    trace_vnest_vfio_skip_readonly(vbasedev->name);
}

bool vnest_vfio_skip_section(VFIOContainerBase *bcontainer,
                             MemoryRegionSection *section)
{
    return no_readonly && section->readonly &&
           g_hash_table_contains(no_readonly, bcontainer);
}

void vnest_vfio_container_gone(VFIOContainerBase *bcontainer)
{
    if (no_readonly) {
        g_hash_table_remove(no_readonly, bcontainer);
    }
}
