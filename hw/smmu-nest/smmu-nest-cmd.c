/*
 * VNest arm-smmuv3 nesting: the guest's commands, batched up to CMD_SYNC
 *
 * TLBI_NH_*, TLBI_NSNH_ALL, CFGI_CD, CFGI_CD_ALL and ATC_INV of nested
 * devices become entries of IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 (the
 * guest's StreamIDs: the host translates them through the vDEVICEs); all
 * of them between two CMD_SYNCs go to the host in ONE
 * IOMMU_HWPT_INVALIDATE on the vIOMMU, in order, before the CMD_SYNC
 * completes. A refused command stops the guest's queue there. On a host
 * with erratum T264-SMMU-3 the TLBI and CFGI commands of each call are
 * sent again once it completed (smmu-nest-caps.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/iommufd.h>
#include "vnest/iommufd-nest.h"
#include "smmu-nest-internal.h"
#include "trace.h"

#define VCMD_OP(w)              ((w)[0] & 0xff)
#define VCMD_ATC_INV            0x40

static int smmu_nest_inv_call(VNestSmmu *n, uint32_t id, uint32_t data_type,
                              uint32_t entry_len, const void *entries,
                              uint32_t num, uint32_t *done)
{
    int ret;

    *done = num;
    ret = vnest_iommufd_invalidate(n->be, id, data_type, entry_len, done,
                                   entries);
    n->stats.inv_calls++;
    n->stats.inv_entries += num;
    if (ret) {
        n->stats.host_errors++;
    }
    trace_vnest_smmu_inv_send(id, num, *done, ret);
    return ret;
}

/*
 * T264-SMMU-3: the TLBI and CFGI commands of @entries again, after the
 * call that ended with the host's CMD_SYNC; ATC_INV needs no repeat
 * (arm_smmu_erratum_cmd_needs_repeating()). On failure *@done is the
 * index in @entries of the command refused.
 */
static int smmu_nest_inv_repeat(VNestSmmu *n, uint32_t id,
                                uint32_t data_type, const void *entries,
                                uint32_t num, uint32_t *done)
{
    const struct iommu_viommu_arm_smmuv3_invalidate *e = entries;
    g_autofree struct iommu_viommu_arm_smmuv3_invalidate *again =
        g_new(struct iommu_viommu_arm_smmuv3_invalidate, num);
    g_autofree uint32_t *from = g_new(uint32_t, num);
    uint32_t i, k = 0, sent;
    int ret;

    for (i = 0; i < num; i++) {
        uint64_t w0 = le64_to_cpu(e[i].cmd[0]);

        if (VCMD_OP(&w0) != VCMD_ATC_INV) {
            from[k] = i;
            again[k++] = e[i];
        }
    }
    if (!k) {
        return 0;
    }
    ret = smmu_nest_inv_call(n, id, data_type, sizeof(*again), again, k,
                             &sent);
    if (ret) {
        *done = from[MIN(sent, k - 1)];
    }
    return ret;
}

int smmu_nest_inv_send(void *opaque, uint32_t id, uint32_t data_type,
                       uint32_t entry_len, const void *entries,
                       uint32_t num, uint32_t *done)
{
    VNestSmmu *n = opaque;
    int ret;

    ret = smmu_nest_inv_call(n, id, data_type, entry_len, entries, num,
                             done);
    if (ret || !n->repeat_inv) {
        return ret;
    }
    assert(entry_len == sizeof(struct iommu_viommu_arm_smmuv3_invalidate));
    return smmu_nest_inv_repeat(n, id, data_type, entries, num, done);
}

/* ---- commands, batched up to CMD_SYNC ---- */

#define VCMD_SSEC               (1u << 10)
#define VCMD_CFGI_CD            0x05
#define VCMD_CFGI_CD_ALL        0x06
#define VCMD_TLBI_NH_ALL        0x10
#define VCMD_TLBI_NH_ASID       0x11
#define VCMD_TLBI_NH_VA         0x12
#define VCMD_TLBI_NH_VAA        0x13
#define VCMD_TLBI_NSNH_ALL      0x30

static bool smmu_nest_has_sid(VNestSmmu *n, uint32_t sid)
{
    SmmuNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        if (d->sid == sid && d->vdev_id) {
            return true;
        }
    }
    return false;
}

void vnest_smmuv3_cmd(SMMUv3State *s, const uint32_t *cmd, uint32_t cons)
{
    VNestSmmu *n = s->vnest;
    struct iommu_viommu_arm_smmuv3_invalidate e;
    uint32_t wrap_mask = (2u << s->cmdq.log2size) - 1;

    if (!n || !n->realized || !n->viommu_id) {
        return;
    }
    switch (VCMD_OP(cmd)) {
    case VCMD_TLBI_NH_ALL:
    case VCMD_TLBI_NH_ASID:
    case VCMD_TLBI_NH_VA:
    case VCMD_TLBI_NH_VAA:
    case VCMD_TLBI_NSNH_ALL:
        /* Tagged with the vIOMMU's VMID by the host: all its devices */
        break;
    case VCMD_ATC_INV:
        if (!FIELD_EX32(s->idr[0], IDR0, ATS)) {
            return;             /* no ATS offered: nothing cached */
        }
        /* fall through */
    case VCMD_CFGI_CD:
    case VCMD_CFGI_CD_ALL:
        /*
         * StreamID in bits 63:32, the guest's: the host knows nested ones
         * (by the bus numbers of now: renumbered buses first).
         */
        smmu_nest_follow_sids(n);
        if ((cmd[0] & VCMD_SSEC) || !smmu_nest_has_sid(n, cmd[1])) {
            return;
        }
        break;
    default:
        return;
    }
    if (!vnest_inv_batch_pending(n->batch)) {
        n->batch_cons = cons;
    }
    e.cmd[0] = cpu_to_le64(cmd[0] | (uint64_t)cmd[1] << 32);
    e.cmd[1] = cpu_to_le64(cmd[2] | (uint64_t)cmd[3] << 32);
    vnest_inv_batch_add(n->batch, n->viommu_id,
                        IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, sizeof(e),
                        &e, (cons - n->batch_cons) & wrap_mask);
}

bool vnest_smmuv3_cmd_sync(SMMUv3State *s, uint32_t *cons)
{
    VNestSmmu *n = s->vnest;
    uint32_t wrap_mask = (2u << s->cmdq.log2size) - 1;
    uint64_t failed;
    int ret;

    if (!n || !n->batch || !vnest_inv_batch_pending(n->batch)) {
        return true;
    }
    ret = vnest_inv_batch_flush(n->batch, &failed);
    if (!ret) {
        return true;
    }
    /* CONS at the refused command; its ERR field is the caller's. */
    *cons = deposit32(*cons, 0, s->cmdq.log2size + 1,
                      (n->batch_cons + failed) & wrap_mask);
    trace_vnest_smmu_inv_fail(*cons, ret);
    return false;
}
