/*
 * VNest emulated host IOMMU: hardware with paging domains only
 *
 * What an s390 host (or any IOMMU without nesting) offers iommufd: paging
 * HWPTs over an IOAS, no hardware info type, no nested stage-1, nothing
 * to invalidate from user space.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

const EmuHwOps emu_hw_paging_ops = {
    .kind = EMU_HW_PAGING,
    .hw_info_type = IOMMU_HW_INFO_TYPE_NONE,
};
