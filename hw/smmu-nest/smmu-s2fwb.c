/*
 * VNest: arm-smmuv3 x-s2fwb, so that a Linux guest nests on QEMU's SMMUv3
 *
 * QEMU's SMMUv3 with stage=nested translates both stages for emulated
 * devices, but Linux (7.3, arm_smmu_get_viommu_size()) offers its iommufd
 * vIOMMU, hence nesting, only on an SMMU whose stage 2 can force the
 * guest's memory attributes to write-back (IDR3.FWB, STE.S2FWB) or whose
 * root complex is marked CANWBS in IORT: VFIO does no cache maintenance.
 * With x-s2fwb=on the SMMU advertises IDR3.FWB. QEMU models no caches and
 * no memory attributes, so STE.S2FWB changes no translation here: the
 * stage-2 result is the same with it set or clear, which is all that
 * "honouring" it can mean for an emulated, coherent device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "smmu-nest-internal.h"
#include "trace.h"

bool smmu_s2fwb_realize(VNestSmmu *n, Error **errp)
{
    const char *stage = n->s->stage;

    if (!n->s2fwb) {
        return true;
    }
    if (n->accel) {
        error_setg(errp, "arm-smmuv3: x-s2fwb=on describes the stage 2 "
                   "QEMU emulates, but with accel=on the host's SMMU owns "
                   "stage 2: drop x-s2fwb");
        return false;
    }
    if (!stage || (strcmp(stage, "2") && strcmp(stage, "nested"))) {
        error_setg(errp, "arm-smmuv3: x-s2fwb=on needs stage 2 "
                   "translation: use stage=nested (or stage=2)");
        return false;
    }
    return true;
}

void smmu_s2fwb_init_regs(VNestSmmu *n)
{
    if (n->s2fwb) {
        n->s->idr[3] = FIELD_DP32(n->s->idr[3], IDR3, FWB, 1);
        trace_vnest_smmu_s2fwb(n->s->idr[3]);
    }
}
