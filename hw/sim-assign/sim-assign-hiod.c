/*
 * VNest simulated assignment: the host IOMMU device of a simulated device
 *
 * vfio-pci hands its vIOMMU a host-iommu-device-iommufd-vfio object; a
 * device assigned with vnest-sim-assign hands it this one, through the
 * same pci_device_set_iommu_device(). Both answer get_cap from the host
 * (IOMMU type from IOMMU_GET_HW_INFO, address width as the host IOMMU
 * reports it) and implement the VNestHostDev interface, so a nest module
 * cannot tell them apart. Attach and detach are the VFIO cdev ioctls with
 * the kernel's structs, on the emulated host's VFIO device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "qapi/error.h"
#include "vnest/host-dev.h"
#include "vnest/iommufd-nest.h"
#include "vnest/iommufd-emulated.h"
#include "sim-assign-internal.h"
#include "trace.h"

OBJECT_DECLARE_SIMPLE_TYPE(VNestSimHiod, VNEST_SIM_HIOD)

struct VNestSimHiod {
    HostIOMMUDevice parent_obj;

    VNestHwInfo hw;         /* IOMMU_GET_HW_INFO at realize */
};

static VNestSimAssign *hiod_sa(HostIOMMUDevice *hiod)
{
    g_assert(hiod->agent);
    return hiod->agent;
}

static bool sim_hiod_realize(HostIOMMUDevice *hiod, void *opaque,
                             Error **errp)
{
    VNestSimHiod *sh = VNEST_SIM_HIOD(hiod);
    VNestSimAssign *sa = opaque;

    hiod->agent = sa;
    if (!vnest_iommufd_get_hw_info(sa->iommufd, sa->dev_id, &sh->hw, errp)) {
        return false;
    }
    hiod->name = g_strdup(sa->device_id);
    hiod->caps.type = sh->hw.type;
    hiod->caps.hw_caps = sh->hw.caps;
    return true;
}

/*
 * The highest IOVA the device's IOAS can map, as IOMMU_IOAS_IOVA_RANGES
 * reports it: vfio-pci's answer (vfio_device_get_aw_bits()).
 */
static int ioas_aw_bits(VNestSimAssign *sa, Error **errp)
{
    g_autofree struct iommu_iova_range *ranges = NULL;
    struct iommu_ioas_iova_ranges cmd = {
        .size = sizeof(cmd),
        .ioas_id = sa->ioas_id,
    };
    uint64_t last;
    int err;

    /* The first call fails with EMSGSIZE and tells how many ranges. */
    err = vnest_iommufd_ioctl(sa->iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd) ?
          errno : 0;
    if (err && err != EMSGSIZE) {
        goto fail;
    }
    if (!cmd.num_iovas) {
        error_setg(errp, "%s: IOAS %u has no usable IOVA range",
                   sa->device_id, sa->ioas_id);
        return -EINVAL;
    }
    ranges = g_new0(struct iommu_iova_range, cmd.num_iovas);
    cmd.allowed_iovas = (uintptr_t)ranges;
    if (vnest_iommufd_ioctl(sa->iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd)) {
        err = errno;
        goto fail;
    }
    last = ranges[cmd.num_iovas - 1].last;
    return clz64(last) ? 64 - clz64(last) : 64;

fail:
    error_setg_errno(errp, err, "%s: cannot read the IOVA ranges of IOAS %u",
                     sa->device_id, sa->ioas_id);
    return -err;
}

static int sim_hiod_get_cap(HostIOMMUDevice *hiod, int cap, Error **errp)
{
    VNestSimHiod *sh = VNEST_SIM_HIOD(hiod);

    switch (cap) {
    case HOST_IOMMU_DEVICE_CAP_IOMMU_TYPE:
        return hiod->caps.type;
    case HOST_IOMMU_DEVICE_CAP_AW_BITS:
        if (sh->hw.type == IOMMU_HW_INFO_TYPE_INTEL_VTD) {
            /* CAP_REG.MGAW (VT-d spec 11.4.2): the width minus one */
            return ((sh->hw.data.vtd.cap_reg >> 16) & 0x3f) + 1;
        }
        return ioas_aw_bits(hiod_sa(hiod), errp);
    default:
        error_setg(errp, "%s: unsupported capability %x", hiod->name, cap);
        return -EINVAL;
    }
}

static void sim_hiod_get_info(HostIOMMUDevice *hiod, VNestHostDevInfo *info)
{
    VNestSimAssign *sa = hiod_sa(hiod);

    info->be = sa->iommufd;
    info->dev_id = sa->dev_id;
    info->ioas_id = sa->ioas_id;
    info->hwpt_id = sa->hwpt_id;
    info->hwpt_flags = sa->hwpt_flags;
}

/* The emulated host's VFIO cdev: attach and detach come to it. */
static int sim_hiod_ioctl(HostIOMMUDevice *hiod, unsigned long cmd,
                          void *arg)
{
    VNestSimAssign *sa = hiod_sa(hiod);
    int err = emu_vfio_ioctl(sa->vfio, cmd, arg) ? errno : 0;

    trace_vnest_sim_assign_hiod_ioctl(sa->device_id, cmd, err);
    return -err;
}

HostIOMMUDevice *sim_assign_hiod_new(VNestSimAssign *sa, Error **errp)
{
    HostIOMMUDevice *hiod = HOST_IOMMU_DEVICE(object_new(TYPE_VNEST_SIM_HIOD));
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod);

    if (!hiodc->realize(hiod, sa, errp)) {
        object_unref(OBJECT(hiod));
        return NULL;
    }
    return hiod;
}

static void sim_hiod_class_init(ObjectClass *oc, void *data)
{
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_CLASS(oc);
    VNestHostDevClass *hdc = VNEST_HOST_DEV_CLASS(oc);

    hiodc->realize = sim_hiod_realize;
    hiodc->get_cap = sim_hiod_get_cap;
    hdc->get_info = sim_hiod_get_info;
    hdc->vfio_ioctl = sim_hiod_ioctl;
}

static const TypeInfo sim_hiod_info = {
    .name = TYPE_VNEST_SIM_HIOD,
    .parent = TYPE_HOST_IOMMU_DEVICE,
    .instance_size = sizeof(VNestSimHiod),
    .class_init = sim_hiod_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_VNEST_HOST_DEV },
        { }
    },
};

static void sim_hiod_register_types(void)
{
    type_register_static(&sim_hiod_info);
}

type_init(sim_hiod_register_types)
