/*
 * VNest: guest invalidations batched into one host call per host object
 *
 * A vIOMMU model turns each guest invalidation descriptor or command
 * into host invalidation entries (struct iommu_hwpt_vtd_s1_invalidate,
 * struct iommu_viommu_arm_smmuv3_invalidate, ...) and queues them here,
 * keyed by the host object that takes them (a nested HWPT or a vIOMMU)
 * and tagged with the guest queue index they came from. At the guest's
 * sync point (VT-d invalidation wait or the end of a submission, SMMUv3
 * CMD_SYNC) one flush sends ONE IOMMU_HWPT_INVALIDATE per host object,
 * and maps a partial failure back to the guest queue index of the first
 * entry the host did not handle, so the model can raise the architected
 * queue error there.
 *
 * C and GLib only: the host call is the caller's (QEMU's iommufd backend,
 * or the emulated host directly in tests).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_INV_BATCH_H
#define VNEST_INV_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct VnestInvBatch VnestInvBatch;

/*
 * One host call: IOMMU_HWPT_INVALIDATE on object @id with @data_type,
 * @n entries of @entry_len bytes at @entries. Returns 0 or a negative
 * errno, and sets *@done to the entries the host handled (the entry_num
 * the kernel writes back), on success and on failure.
 */
typedef int (*VnestInvSendFn)(void *opaque, uint32_t id, uint32_t data_type,
                              uint32_t entry_len, const void *entries,
                              uint32_t n, uint32_t *done);

typedef struct VnestInvStats {
    uint64_t calls;             /* host calls made */
    uint64_t entries;           /* entries sent */
    uint64_t flushes;           /* flushes that sent anything */
    uint64_t failures;          /* host calls that failed */
} VnestInvStats;

/*
 * @max_entries: most entries in one call (the host's cap); a larger
 * group is sent in as many calls as it needs. 0: no cap.
 */
VnestInvBatch *vnest_inv_batch_new(VnestInvSendFn send, void *opaque,
                                   uint32_t max_entries);
void vnest_inv_batch_free(VnestInvBatch *b);

/* Queue one host entry for object @id on behalf of guest index @gidx. */
void vnest_inv_batch_add(VnestInvBatch *b, uint32_t id, uint32_t data_type,
                         uint32_t entry_len, const void *entry,
                         uint64_t gidx);

/*
 * Whether an entry equal to @entry is already queued for object @id: a
 * second one would make the host do the same work twice.
 */
bool vnest_inv_batch_contains(const VnestInvBatch *b, uint32_t id,
                              uint32_t data_type, uint32_t entry_len,
                              const void *entry);

/* Entries queued and not yet flushed. */
uint32_t vnest_inv_batch_pending(const VnestInvBatch *b);

/*
 * Send everything queued, one call per host object in the order each was
 * first used, and empty the batch. Returns 0, or the negative errno of
 * the failure whose first unhandled entry has the lowest guest index,
 * that index in *@failed_gidx. Once a failure is known, entries of later
 * host objects from that index on are not sent (the guest's queue stops
 * at the failing descriptor); entries already sent to other objects
 * stay done, an invalidation more than hardware made, which no guest
 * can observe.
 */
int vnest_inv_batch_flush(VnestInvBatch *b, uint64_t *failed_gidx);

/* Drop everything queued (the guest reset its queue). */
void vnest_inv_batch_discard(VnestInvBatch *b);

void vnest_inv_batch_stats(const VnestInvBatch *b, VnestInvStats *st);

#endif
