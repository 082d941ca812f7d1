/*
 * VNest: the host-device interface nest modules attach PASIDs through
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/vfio.h>
#include "qapi/error.h"
#include "vnest/host-dev.h"
#include "trace.h"

static const char *hiod_name(HostIOMMUDevice *hiod)
{
    return hiod->name ? hiod->name : object_get_typename(OBJECT(hiod));
}

bool vnest_host_dev_check(HostIOMMUDevice *hiod)
{
    return object_dynamic_cast(OBJECT(hiod), TYPE_VNEST_HOST_DEV);
}

void vnest_host_dev_info(HostIOMMUDevice *hiod, VNestHostDevInfo *info)
{
    VNestHostDevClass *hdc = VNEST_HOST_DEV_GET_CLASS(hiod);

    memset(info, 0, sizeof(*info));
    hdc->get_info(hiod, info);
    trace_vnest_host_dev_info(hiod_name(hiod), info->dev_id, info->ioas_id,
                              info->hwpt_id, info->hwpt_flags);
}

bool vnest_host_dev_attach(HostIOMMUDevice *hiod, uint32_t pasid,
                           uint32_t pt_id, Error **errp)
{
    VNestHostDevClass *hdc = VNEST_HOST_DEV_GET_CLASS(hiod);
    struct vfio_device_attach_iommufd_pt attach = {
        .argsz = sizeof(attach),
        .pt_id = pt_id,
    };
    int ret;

    if (pasid != VNEST_NO_PASID) {
        attach.flags = VFIO_DEVICE_ATTACH_PASID;
        attach.pasid = pasid;
    }
    ret = hdc->vfio_ioctl(hiod, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
    trace_vnest_host_dev_attach(hiod_name(hiod), pasid, pt_id, -ret);
    if (!ret) {
        return true;
    }
    if (pasid == VNEST_NO_PASID) {
        error_setg_errno(errp, -ret, "%s: cannot attach to host object %u",
                         hiod_name(hiod), pt_id);
    } else {
        error_setg_errno(errp, -ret, "%s: cannot attach PASID %u to host "
                         "object %u", hiod_name(hiod), pasid, pt_id);
        if (ret == -EINVAL) {
            error_append_hint(errp, "A PASID attach needs a kernel whose "
                              "VFIO takes VFIO_DEVICE_ATTACH_PASID and a "
                              "device with PASID enabled.\n");
        }
    }
    return false;
}

bool vnest_host_dev_detach(HostIOMMUDevice *hiod, uint32_t pasid,
                           Error **errp)
{
    VNestHostDevClass *hdc = VNEST_HOST_DEV_GET_CLASS(hiod);
    struct vfio_device_detach_iommufd_pt detach = {
        .argsz = sizeof(detach),
    };
    int ret;

    if (pasid != VNEST_NO_PASID) {
        detach.flags = VFIO_DEVICE_DETACH_PASID;
        detach.pasid = pasid;
    }
    ret = hdc->vfio_ioctl(hiod, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
    trace_vnest_host_dev_detach(hiod_name(hiod), pasid, -ret);
    if (!ret) {
        return true;
    }
    if (pasid == VNEST_NO_PASID) {
        error_setg_errno(errp, -ret, "%s: cannot detach", hiod_name(hiod));
    } else {
        error_setg_errno(errp, -ret, "%s: cannot detach PASID %u",
                         hiod_name(hiod), pasid);
    }
    return false;
}

static const TypeInfo vnest_host_dev_info_type = {
    .name = TYPE_VNEST_HOST_DEV,
    .parent = TYPE_INTERFACE,
    .class_size = sizeof(VNestHostDevClass),
};

static void vnest_host_dev_register_types(void)
{
    type_register_static(&vnest_host_dev_info_type);
}

type_init(vnest_host_dev_register_types)
