/*
 * VNest: intel-iommu as a nesting host for emulated devices (x-nested=on)
 *
 * -device intel-iommu,x-scalable-mode=on,x-nested=on[,aw-bits=48]
 *
 * The VT-d model then advertises ECAP.NEST with both first-stage (FSTS)
 * and second-stage (SSTS) translation, and translates DMA by the PGTT of
 * each scalable-mode PASID entry: second-stage and pass-through entries
 * as QEMU always did, first-stage (PGTT=001b) and nested (PGTT=011b)
 * entries through the shared first-stage walker
 * (backends/iommufd-emu/vtd-fs-walk.c), every first-stage table access
 * and the final address of a nested entry through its second-stage
 * tables (hw/vtd-nested-xlate/). These are the calls
 * hw/i386/intel_iommu.c makes for it (hook patch 0014).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_VTD_NESTED_H
#define VNEST_VTD_NESTED_H

#include "hw/i386/intel_iommu.h"

/* Whether x-nested=on: PGTT=nested is valid, and the hooks below act. */
bool vnest_vtd_nested_on(IntelIOMMUState *s);

/*
 * Translate @addr, a request of @sid without PASID or with @pasid (the
 * RID_PASID already substituted), whose scalable-mode PASID entry is
 * @pe. Returns false if the entry is not one x-nested=on translates
 * (second stage, pass-through: QEMU's own walk follows). Otherwise
 * true, with *@ret_fr 0 and the translation as QEMU's IOTLB keeps it
 * (*@pte: the page address, *@level: its level, *@reads, *@writes), or
 * *@ret_fr the negated fault reason to record.
 */
bool vnest_vtd_nested_translate(IntelIOMMUState *s, const VTDPASIDEntry *pe,
                                uint16_t sid, uint32_t pasid, uint64_t addr,
                                bool is_write, uint64_t *pte, uint32_t *level,
                                bool *reads, bool *writes, int *ret_fr);

/*
 * Whether the IOTLB entry @e serves the request: not a write through a
 * first-stage or nested entry cached without write permission (a clean
 * leaf, or one the stages made read-only), which hardware walks again to
 * set D or to report the fault.
 */
bool vnest_vtd_iotlb_usable(IntelIOMMUState *s, const VTDIOTLBEntry *e,
                            bool is_write);

#endif
