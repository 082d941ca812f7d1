/*
 * VNest: the host-device interface nest modules attach PASIDs through
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
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
    Error *local_err = NULL;
    bool ok;

    ok = hdc->attach(hiod, pasid, pt_id, &local_err);
    trace_vnest_host_dev_attach(hiod_name(hiod), pasid, pt_id, ok);
    if (!ok) {
        if (pasid == VNEST_NO_PASID) {
            error_prepend(&local_err, "%s: cannot attach to host object %u: ",
                          hiod_name(hiod), pt_id);
        } else {
            error_prepend(&local_err, "%s: cannot attach PASID %u to host "
                          "object %u: ", hiod_name(hiod), pasid, pt_id);
        }
        error_propagate(errp, local_err);
    }
    return ok;
}

bool vnest_host_dev_detach(HostIOMMUDevice *hiod, uint32_t pasid,
                           Error **errp)
{
    VNestHostDevClass *hdc = VNEST_HOST_DEV_GET_CLASS(hiod);
    Error *local_err = NULL;
    bool ok;

    ok = hdc->detach(hiod, pasid, &local_err);
    trace_vnest_host_dev_detach(hiod_name(hiod), pasid, ok);
    if (!ok) {
        if (pasid == VNEST_NO_PASID) {
            error_prepend(&local_err, "%s: cannot detach: ", hiod_name(hiod));
        } else {
            error_prepend(&local_err, "%s: cannot detach PASID %u: ",
                          hiod_name(hiod), pasid);
        }
        error_propagate(errp, local_err);
    }
    return ok;
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
