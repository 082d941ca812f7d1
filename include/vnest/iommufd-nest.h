/*
 * VNest: the iommufd calls nesting needs, beyond QEMU 10.0's backend
 *
 * Each goes through the backend's single dispatch point
 * (vnest_iommufd_ioctl()), so the same request reaches the kernel's
 * /dev/iommu or the emulated host. Every call has a trace event; every
 * failure sets @errp with what the host refused and its errno.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_IOMMUFD_NEST_H
#define VNEST_IOMMUFD_NEST_H

#include <linux/iommufd.h>
#include "system/iommufd.h"

/* What IOMMU_GET_HW_INFO reports for a bound device. */
typedef struct VNestHwInfo {
    uint32_t type;              /* enum iommu_hw_info_type */
    uint64_t caps;              /* IOMMU_HW_CAP_* */
    uint8_t max_pasid_log2;     /* 0: no PASID */
    union {
        struct iommu_hw_info_vtd vtd;
        struct iommu_hw_info_arm_smmuv3 smmuv3;
        uint8_t raw[64];
    } data;
} VNestHwInfo;

bool vnest_iommufd_get_hw_info(IOMMUFDBackend *be, uint32_t dev_id,
                               VNestHwInfo *info, Error **errp);

/*
 * IOMMU_HWPT_INVALIDATE on @id (a nested HWPT or a vIOMMU): @*entry_num
 * entries of @entry_len bytes. Returns 0 or a negative errno; @*entry_num
 * is set to the entries the host handled, on success and on failure.
 */
int vnest_iommufd_invalidate(IOMMUFDBackend *be, uint32_t id,
                             uint32_t data_type, uint32_t entry_len,
                             uint32_t *entry_num, const void *entries);

bool vnest_iommufd_alloc_viommu(IOMMUFDBackend *be, uint32_t dev_id,
                                uint32_t type, uint32_t parent_hwpt_id,
                                const void *data, uint32_t data_len,
                                uint32_t *out_id, Error **errp);
bool vnest_iommufd_alloc_vdevice(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t dev_id, uint64_t virt_id,
                                 uint32_t *out_id, Error **errp);
/* A vEVENTQ: its object id and the file descriptor to read events from. */
bool vnest_iommufd_alloc_veventq(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t type, uint32_t depth,
                                 uint32_t *out_id, int *out_fd,
                                 Error **errp);
/*
 * IOMMU_HWPT_ALLOC with driver data and, when @fault_id is given, the
 * fault queue its page requests go to (IOMMU_HWPT_FAULT_ID_VALID), which
 * QEMU 10.0's iommufd_backend_alloc_hwpt() cannot pass.
 */
bool vnest_iommufd_alloc_hwpt(IOMMUFDBackend *be, uint32_t dev_id,
                              uint32_t pt_id, uint32_t flags,
                              uint32_t data_type, uint32_t data_len,
                              void *data, const uint32_t *fault_id,
                              uint32_t *out_id, Error **errp);

/* A fault queue (IOMMU_FAULT_QUEUE_ALLOC) for HWPTs allocated with it. */
bool vnest_iommufd_alloc_fault_queue(IOMMUFDBackend *be, uint32_t *out_id,
                                     int *out_fd, Error **errp);

/*
 * read()/write()/close() on a file descriptor one of the calls above
 * returned (kernel file or emulated-host queue). The fds poll readable
 * while records wait, in both cases, so qemu_set_fd_handler() works.
 */
ssize_t vnest_iommufd_fd_read(IOMMUFDBackend *be, int fd, void *buf,
                              size_t len);
ssize_t vnest_iommufd_fd_write(IOMMUFDBackend *be, int fd, const void *buf,
                               size_t len);
void vnest_iommufd_fd_close(IOMMUFDBackend *be, int fd);

#endif
