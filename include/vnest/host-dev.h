/*
 * VNest: an assigned device's host side, as a vIOMMU nest module sees it
 *
 * A QOM interface on host-IOMMU-device objects. vfio-pci's
 * (host-iommu-device-iommufd-vfio, through hook patch) and simulated
 * assignment's (vnest-sim-assign) implement it identically, so a nest
 * module gets one through PCIIOMMUOps.set_iommu_device and cannot tell
 * a physical device from a simulated one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_HOST_DEV_H
#define VNEST_HOST_DEV_H

#include "qom/object.h"
#include "system/host_iommu_device.h"
#include "system/iommufd.h"

#define TYPE_VNEST_HOST_DEV "vnest-host-dev"

typedef struct VNestHostDevClass VNestHostDevClass;
DECLARE_CLASS_CHECKERS(VNestHostDevClass, VNEST_HOST_DEV, TYPE_VNEST_HOST_DEV)

/* The device's RID, not a PASID (VFIO attaches without ATTACH_PASID). */
#define VNEST_NO_PASID  UINT32_MAX

typedef struct VNestHostDevInfo {
    IOMMUFDBackend *be;         /* the iommufd the device is bound to */
    uint32_t dev_id;            /* its iommufd device id */
    uint32_t ioas_id;           /* the IOAS QEMU fills with guest RAM */
    uint32_t hwpt_id;           /* the HWPT attached at plug time */
    uint32_t hwpt_flags;        /* ... allocated with these flags */
} VNestHostDevInfo;

struct VNestHostDevClass {
    InterfaceClass parent_class;

    void (*get_info)(HostIOMMUDevice *hiod, VNestHostDevInfo *info);
    /*
     * An ioctl on the device's VFIO cdev (the kernel's, or the emulated
     * host's): 0 or a negative errno. Attach and detach are built on it
     * once, in backends/host-dev.c.
     */
    int (*vfio_ioctl)(HostIOMMUDevice *hiod, unsigned long cmd, void *arg);
};

/* Whether @hiod can nest (implements the interface). */
bool vnest_host_dev_check(HostIOMMUDevice *hiod);
void vnest_host_dev_info(HostIOMMUDevice *hiod, VNestHostDevInfo *info);
/*
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT of @pasid (VNEST_NO_PASID: the RID) to
 * @pt_id: attaches, or replaces what is attached in one step.
 * VFIO_DEVICE_DETACH_IOMMUFD_PT: @pasid blocks DMA. With a trace event
 * each, and the device named in the error.
 */
bool vnest_host_dev_attach(HostIOMMUDevice *hiod, uint32_t pasid,
                           uint32_t pt_id, Error **errp);
bool vnest_host_dev_detach(HostIOMMUDevice *hiod, uint32_t pasid,
                           Error **errp);

/*
 * Hook from hw/vfio/iommufd.c (hook patch 0005): fills in the interface
 * for host-iommu-device-iommufd-vfio, the object vfio-pci hands to the
 * vIOMMU. get_info reports the container's IOAS and the HWPT the device
 * was attached to at realize (0 if none, e.g. an mdev).
 */
void vnest_vfio_hiod_class_init(ObjectClass *oc);

#endif
