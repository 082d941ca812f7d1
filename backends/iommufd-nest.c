/*
 * VNest: the iommufd calls nesting needs, beyond QEMU 10.0's backend
 *
 * Every request goes through vnest_iommufd_ioctl(), the backend's single
 * dispatch point, so the kernel and the emulated host see the same
 * structs. File descriptors a call returns (vEVENTQ, fault queue) are
 * kernel files or emulated-host queues: the fd helpers below send each to
 * the right place.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/iommufd.h>
#include "qapi/error.h"
#include "vnest/iommufd-emulated.h"
#include "vnest/iommufd-nest.h"
#include "iommufd-emu.h"
#include "trace.h"

bool vnest_iommufd_get_hw_info(IOMMUFDBackend *be, uint32_t dev_id,
                               VNestHwInfo *info, Error **errp)
{
    struct iommu_hw_info cmd = {
        .size = sizeof(cmd),
        .dev_id = dev_id,
        .data_len = sizeof(info->data),
        .data_uptr = (uintptr_t)&info->data,
    };
    int err;

    memset(info, 0, sizeof(*info));
    err = vnest_iommufd_ioctl(be, IOMMU_GET_HW_INFO, &cmd) ? errno : 0;
    trace_vnest_iommufd_get_hw_info(dev_id, cmd.out_data_type,
                                    cmd.out_capabilities,
                                    cmd.out_max_pasid_log2,
                                    err);
    if (err) {
        error_setg_errno(errp, err, "iommufd: IOMMU_GET_HW_INFO of device "
                         "%u failed (is it bound to this iommufd?)", dev_id);
        return false;
    }
    info->type = cmd.out_data_type;
    info->caps = cmd.out_capabilities;
    info->max_pasid_log2 = cmd.out_max_pasid_log2;
    return true;
}

int vnest_iommufd_invalidate(IOMMUFDBackend *be, uint32_t id,
                             uint32_t data_type, uint32_t entry_len,
                             uint32_t *entry_num, const void *entries)
{
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd),
        .hwpt_id = id,
        .data_uptr = (uintptr_t)entries,
        .data_type = data_type,
        .entry_len = entry_len,
        .entry_num = *entry_num,
    };
    int ret;

    ret = vnest_iommufd_ioctl(be, IOMMU_HWPT_INVALIDATE, &cmd) ? -errno : 0;
    trace_vnest_iommufd_invalidate(id, data_type, entry_len, *entry_num,
                                   cmd.entry_num, ret);
    /* The kernel writes back the handled count on failure too. */
    *entry_num = cmd.entry_num;
    return ret;
}

bool vnest_iommufd_alloc_viommu(IOMMUFDBackend *be, uint32_t dev_id,
                                uint32_t type, uint32_t parent_hwpt_id,
                                const void *data, uint32_t data_len,
                                uint32_t *out_id, Error **errp)
{
    struct iommu_viommu_alloc cmd = {
        .size = sizeof(cmd),
        .type = type,
        .dev_id = dev_id,
        .hwpt_id = parent_hwpt_id,
        .data_len = data_len,
        .data_uptr = (uintptr_t)data,
    };
    int err;

    err = vnest_iommufd_ioctl(be, IOMMU_VIOMMU_ALLOC, &cmd) ? errno : 0;
    trace_vnest_iommufd_alloc_viommu(dev_id, type, parent_hwpt_id, data_len,
                                     err ? 0 : cmd.out_viommu_id,
                                     err);
    if (err) {
        error_setg_errno(errp, err, "iommufd: cannot allocate a vIOMMU of "
                         "type %u for device %u over nest parent HWPT %u "
                         "(does the host IOMMU support this vIOMMU type?)",
                         type, dev_id, parent_hwpt_id);
        return false;
    }
    *out_id = cmd.out_viommu_id;
    return true;
}

bool vnest_iommufd_alloc_vdevice(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t dev_id, uint64_t virt_id,
                                 uint32_t *out_id, Error **errp)
{
    struct iommu_vdevice_alloc cmd = {
        .size = sizeof(cmd),
        .viommu_id = viommu_id,
        .dev_id = dev_id,
        .virt_id = virt_id,
    };
    int err;

    err = vnest_iommufd_ioctl(be, IOMMU_VDEVICE_ALLOC, &cmd) ? errno : 0;
    trace_vnest_iommufd_alloc_vdevice(viommu_id, dev_id, virt_id,
                                      err ? 0 : cmd.out_vdevice_id,
                                      err);
    if (err) {
        error_setg_errno(errp, err, "iommufd: cannot allocate a vDEVICE "
                         "for device %u with virtual ID 0x%" PRIx64
                         " on vIOMMU %u (ID already used, or device not "
                         "behind that IOMMU?)", dev_id, virt_id, viommu_id);
        return false;
    }
    *out_id = cmd.out_vdevice_id;
    return true;
}

bool vnest_iommufd_alloc_veventq(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t type, uint32_t depth,
                                 uint32_t *out_id, int *out_fd,
                                 Error **errp)
{
    struct iommu_veventq_alloc cmd = {
        .size = sizeof(cmd),
        .viommu_id = viommu_id,
        .type = type,
        .veventq_depth = depth,
    };
    int err;

    err = vnest_iommufd_ioctl(be, IOMMU_VEVENTQ_ALLOC, &cmd) ? errno : 0;
    trace_vnest_iommufd_alloc_veventq(viommu_id, type, depth,
                                      err ? 0 : cmd.out_veventq_id,
                                      err ? -1 : (int)cmd.out_veventq_fd,
                                      err);
    if (err) {
        error_setg_errno(errp, err, "iommufd: cannot allocate a vEVENTQ "
                         "of type %u, depth %u on vIOMMU %u (one per type "
                         "and vIOMMU)", type, depth, viommu_id);
        return false;
    }
    *out_id = cmd.out_veventq_id;
    *out_fd = cmd.out_veventq_fd;
    return true;
}

bool vnest_iommufd_alloc_hwpt(IOMMUFDBackend *be, uint32_t dev_id,
                              uint32_t pt_id, uint32_t flags,
                              uint32_t data_type, uint32_t data_len,
                              void *data, const uint32_t *fault_id,
                              uint32_t *out_id, Error **errp)
{
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd),
        .flags = flags | (fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0),
        .dev_id = dev_id,
        .pt_id = pt_id,
        .data_type = data_type,
        .data_len = data_len,
        .data_uptr = (uintptr_t)data,
        .fault_id = fault_id ? *fault_id : 0,
    };
    int err;

    err = vnest_iommufd_ioctl(be, IOMMU_HWPT_ALLOC, &cmd) ? errno : 0;
    trace_vnest_iommufd_alloc_hwpt(dev_id, pt_id, cmd.flags, data_type,
                                   cmd.fault_id, err ? 0 : cmd.out_hwpt_id,
                                   err);
    if (err) {
        error_setg_errno(errp, err, "iommufd: cannot allocate a HWPT of "
                         "type %u over %u for device %u%s", data_type, pt_id,
                         dev_id, fault_id ? " with a fault queue (has the "
                         "device PRI?)" : "");
        return false;
    }
    *out_id = cmd.out_hwpt_id;
    return true;
}

bool vnest_iommufd_alloc_fault_queue(IOMMUFDBackend *be, uint32_t *out_id,
                                     int *out_fd, Error **errp)
{
    struct iommu_fault_alloc cmd = {
        .size = sizeof(cmd),
    };
    int err;

    err = vnest_iommufd_ioctl(be, IOMMU_FAULT_QUEUE_ALLOC, &cmd) ? errno : 0;
    trace_vnest_iommufd_alloc_fault_queue(err ? 0 : cmd.out_fault_id,
                                          err ? -1 : (int)cmd.out_fault_fd,
                                          err);
    if (err) {
        error_setg_errno(errp, err, "iommufd: cannot allocate a fault "
                         "queue");
        return false;
    }
    *out_id = cmd.out_fault_id;
    *out_fd = cmd.out_fault_fd;
    return true;
}

/* The emulated context @fd belongs to, or NULL for a kernel file. */
static EmuCtx *fd_ctx(IOMMUFDBackend *be, int fd)
{
    EmuCtx *ctx = vnest_iommufd_emu_ctx(be);

    return ctx && emu_ctx_owns_fd(ctx, fd) ? ctx : NULL;
}

ssize_t vnest_iommufd_fd_read(IOMMUFDBackend *be, int fd, void *buf,
                              size_t len)
{
    EmuCtx *ctx = fd_ctx(be, fd);
    ssize_t ret;
    int err;

    ret = ctx ? emu_ctx_read(ctx, fd, buf, len) : read(fd, buf, len);
    err = ret < 0 ? errno : 0;
    trace_vnest_iommufd_fd_read(fd, !!ctx, len, ret, err);
    errno = err;    /* the caller sees the call's errno, not the trace's */
    return ret;
}

ssize_t vnest_iommufd_fd_write(IOMMUFDBackend *be, int fd, const void *buf,
                               size_t len)
{
    EmuCtx *ctx = fd_ctx(be, fd);
    ssize_t ret;
    int err;

    ret = ctx ? emu_ctx_write(ctx, fd, buf, len) : write(fd, buf, len);
    err = ret < 0 ? errno : 0;
    trace_vnest_iommufd_fd_write(fd, !!ctx, len, ret, err);
    errno = err;    /* the caller sees the call's errno, not the trace's */
    return ret;
}

void vnest_iommufd_fd_close(IOMMUFDBackend *be, int fd)
{
    EmuCtx *ctx = fd_ctx(be, fd);
    int ret;

    if (fd < 0) {
        return;
    }
    ret = ctx ? emu_ctx_close_fd(ctx, fd) : close(fd);
    trace_vnest_iommufd_fd_close(fd, !!ctx, ret);
}
