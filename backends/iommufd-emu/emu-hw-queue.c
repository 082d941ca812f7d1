/*
 * VNest emulated host IOMMU: hardware queues of a vIOMMU
 *
 * IOMMU_HW_QUEUE_ALLOC hands a guest-owned queue (its guest physical
 * range, an IOVA of the nest parent) to the hardware, as Tegra241 CMDQV
 * does. The range stays pinned while the queue lives: unmapping it fails
 * with EBUSY. Queues are numbered from 0 and each holds the one before
 * it, so they are destroyed in descending order.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <inttypes.h>
#include "emu-internal.h"

struct EmuHwQueue {
    EmuObj obj;
    EmuViommu *viommu;
    EmuHwQueue *prev;           /* index - 1, held */
    uint32_t index;
    uint64_t iova;
    uint64_t length;
};

static int hw_queue_check(EmuViommu *viommu,
                          struct iommu_hw_queue_alloc *cmd)
{
    const EmuHwOps *ops = viommu->iommu->ops;
    uint64_t last;

    if (!ops->hw_queue_type || cmd->type != ops->hw_queue_type) {
        return -EOPNOTSUPP;
    }
    if (!cmd->length) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1,
                               &last)) {
        return -EOVERFLOW;
    }
    if (!emu_ioas_pin(viommu->parent->ioas, cmd->nesting_parent_iova,
                      cmd->length, false)) {
        return -ENOENT;
    }
    if (cmd->index >= ops->hw_queue_max) {
        return -EINVAL;
    }
    if (viommu->hw_queues[cmd->index]) {
        return -EEXIST;
    }
    if (cmd->index && !viommu->hw_queues[cmd->index - 1]) {
        return -EIO;            /* the hardware fills queues in order */
    }
    return 0;
}

int emu_hw_queue_alloc(EmuCtx *ctx, struct iommu_hw_queue_alloc *cmd)
{
    EmuViommu *viommu;
    EmuHwQueue *q;
    int rc;

    if (cmd->flags) {
        return -EOPNOTSUPP;
    }
    viommu = (EmuViommu *)emu_obj_get(ctx, cmd->viommu_id, EMU_OBJ_VIOMMU);
    if (!viommu) {
        return -ENOENT;
    }
    rc = hw_queue_check(viommu, cmd);
    if (!rc) {
        rc = emu_obj_reserve(ctx, EMU_OBJ_HW_QUEUE, sizeof(*q), &q);
    }
    if (rc) {
        return rc;
    }
    q->viommu = viommu;
    q->index = cmd->index;
    q->iova = cmd->nesting_parent_iova;
    q->length = cmd->length;
    /*
     * iommufd_hw_queue_alloc_phys(): the pages array (kcalloc) and the
     * pin of the queue's memory in the parent's IOAS (iopt_pin_pages()).
     */
    rc = emu_host_op(ctx->host);
    if (rc) {
        emu_obj_abort(&q->obj);
        return rc;
    }
    emu_ioas_pin(viommu->parent->ioas, q->iova, q->length, true);
    emu_obj_ref(viommu);        /* put in emu_hw_queue_destroy() */
    if (q->index) {
        q->prev = viommu->hw_queues[q->index - 1];
        emu_obj_ref(q->prev);   /* put in emu_hw_queue_destroy() */
    }
    viommu->hw_queues[q->index] = q;
    cmd->out_hw_queue_id = q->obj.id;
    emu_obj_finalize(&q->obj);
    return 0;
}

void emu_hw_queue_destroy(EmuHwQueue *q)
{
    emu_ioas_unpin(q->viommu->parent->ioas, q->iova, q->length);
    q->viommu->hw_queues[q->index] = NULL;
    if (q->prev) {
        emu_obj_unref(q->prev);
    }
    emu_obj_unref(q->viommu);
}

void emu_hw_queue_describe(EmuHwQueue *q, GString *s)
{
    g_string_append_printf(s, "  viommu %u index %u 0x%" PRIx64 "+0x%" PRIx64
                           "\n", q->viommu->obj.id, q->index, q->iova,
                           q->length);
}
