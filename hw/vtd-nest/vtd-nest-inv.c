/*
 * VNest intel-iommu nesting: guest invalidations, one host call per HWPT
 *
 * Each IOTLB, PASID-based IOTLB and device-TLB descriptor that concerns a
 * nested HWPT becomes a struct iommu_hwpt_vtd_s1_invalidate entry,
 * queued in the shared batcher (backends/inv-batch.c) under that HWPT.
 * The batch is sent at the guest's sync points: before an invalidation
 * wait descriptor, before a descriptor that changes bindings (PASID cache,
 * context cache) and when the queue is drained (head reaches tail). So
 * every nested HWPT gets ONE IOMMU_HWPT_INVALIDATE per guest submission,
 * however many descriptors the guest queued.
 *
 * A host that handles only part of an array names the first entry it did
 * not handle; the batcher maps it back to the descriptor it came from,
 * and intel_iommu.c stops the queue there with IQE, IQH pointing at it,
 * as hardware stops at a descriptor it cannot process. Descriptors after
 * it that QEMU already went through only invalidated QEMU's own caches,
 * and any entries already sent for them did more than was asked, which no
 * guest can tell.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "vtd-nest-internal.h"
#include "trace.h"

#define VTD_INV_ALL_PAGES       UINT64_MAX
#define VTD_INV_IH              (1ULL << 6)     /* invalidation hint */
#define VTD_ANY_PASID           (PCI_NO_PASID - 1)

static VtdNestHwpt *vtd_hwpt_by_key(VNestVtd *n, uint32_t key)
{
    VtdNestHwpt *h;

    QLIST_FOREACH(h, &n->hwpts, next) {
        if (h->key == key) {
            return h;
        }
    }
    return NULL;
}

static int vtd_inv_send(void *opaque, uint32_t key, uint32_t data_type,
                        uint32_t entry_len, const void *entries, uint32_t num,
                        uint32_t *done)
{
    VNestVtd *n = opaque;
    VtdNestHwpt *h = vtd_hwpt_by_key(n, key);
    int ret;

    if (!h) {
        /* Freed since: its caches went with it (a HWPT is flushed first) */
        *done = num;
        return 0;
    }
    *done = num;
    ret = vnest_iommufd_invalidate(h->be, h->id, data_type, entry_len, done,
                                   entries);
    n->stats.inv_calls++;
    n->stats.inv_entries += num;
    if (ret) {
        n->stats.host_errors++;
    }
    trace_vnest_vtd_inv_send(h->id, num, *done, ret);
    return ret;
}

void vtd_nest_inv_init(VNestVtd *n)
{
    n->batch = vnest_inv_batch_new(vtd_inv_send, n, 0);
}

void vtd_nest_inv_fini(VNestVtd *n)
{
    vnest_inv_batch_free(n->batch);
    n->batch = NULL;
}

bool vtd_nest_inv_flush(VNestVtd *n, uint16_t *fail_head)
{
    uint64_t failed;
    int ret;

    if (!n->batch || !vnest_inv_batch_pending(n->batch)) {
        return true;
    }
    ret = vnest_inv_batch_flush(n->batch, &failed);
    if (!ret) {
        return true;
    }
    *fail_head = n->s->iq_size ? (n->batch_head + failed) % n->s->iq_size : 0;
    trace_vnest_vtd_inv_fail(*fail_head, ret);
    return false;
}

/* Queue one entry for @h on behalf of the descriptor at @head. */
static void vtd_inv_queue(VNestVtd *n, VtdNestHwpt *h, uint64_t addr,
                          uint64_t npages, bool leaf, uint16_t head)
{
    struct iommu_hwpt_vtd_s1_invalidate e = {
        .addr = addr,
        .npages = npages,
        .flags = leaf ? IOMMU_VTD_INV_FLAGS_LEAF : 0,
    };
    uint32_t size = n->s->iq_size ? n->s->iq_size : 1;
    uint64_t gidx;

    if (!vnest_inv_batch_pending(n->batch)) {
        n->batch_head = head;
    }
    gidx = (head + size - n->batch_head) % size;
    if (vnest_inv_batch_contains(n->batch, h->key,
                                 IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                                 sizeof(e), &e)) {
        return;
    }
    trace_vnest_vtd_inv_queue(h->id, addr, npages, leaf, head);
    vnest_inv_batch_add(n->batch, h->key, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                        sizeof(e), &e, gidx);
}

/* Every nested HWPT of domain @did (all of them if @all). */
static void vtd_inv_domain(VNestVtd *n, bool all, uint16_t did,
                           uint64_t addr, uint64_t npages, bool leaf,
                           uint16_t head)
{
    VtdNestHwpt *h;

    QLIST_FOREACH(h, &n->hwpts, next) {
        if (all || h->did == did) {
            vtd_inv_queue(n, h, addr, npages, leaf, head);
        }
    }
}

/* Does binding @b follow guest PASID @pasid? The RID follows RID_PASID. */
static bool vtd_bind_follows(const VtdNestDev *d, const VtdBind *b,
                             uint32_t pasid)
{
    if (pasid == VTD_ANY_PASID) {
        return true;
    }
    if (pasid == PCI_NO_PASID || b->gpasid == PCI_NO_PASID) {
        return b->gpasid == PCI_NO_PASID &&
               (pasid == PCI_NO_PASID || pasid == d->rid2pasid);
    }
    return b->gpasid == pasid;
}

/*
 * The nested HWPTs bound to (@did, @pasid) on any device, or, with
 * @sid >= 0, on that requester only (a device-TLB invalidation).
 */
static void vtd_inv_pasid(VNestVtd *n, int sid, bool match_did, uint16_t did,
                          uint32_t pasid, uint64_t addr, uint64_t npages,
                          bool leaf, uint16_t head)
{
    VtdNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        GHashTableIter it;
        VtdBind *b;

        if (sid >= 0 && vtd_nest_sid(d) != sid) {
            continue;
        }
        g_hash_table_iter_init(&it, d->binds);
        while (g_hash_table_iter_next(&it, NULL, (gpointer *)&b)) {
            if (b->kind == VTD_BIND_NESTED && vtd_bind_follows(d, b, pasid) &&
                (!match_did || b->hwpt->did == did)) {
                vtd_inv_queue(n, b->hwpt, addr, npages, leaf, head);
            }
        }
    }
}

/* Device-TLB range: S=0 one page; S=1 the lowest clear address bit. */
static void vtd_devtlb_range(uint64_t addr, bool size, uint64_t *base,
                             uint64_t *npages)
{
    uint64_t pages = 1;

    addr &= ~0xfffULL;
    if (size) {
        unsigned ones = cto64(addr >> 12);

        pages = ones >= 51 ? VTD_INV_ALL_PAGES : 2ULL << ones;
    }
    *npages = pages;
    *base = pages == VTD_INV_ALL_PAGES ? 0 : addr & ~((pages << 12) - 1);
}

static bool vtd_is_queued_type(uint8_t type)
{
    return type == VTD_INV_DESC_IOTLB || type == VTD_INV_DESC_PIOTLB ||
           type == VTD_INV_DESC_DEVICE || type == VTD_INV_DESC_DEV_PIOTLB;
}

bool vnest_vtd_inv_before(IntelIOMMUState *s, const VTDInvDesc *desc,
                          uint16_t head, uint16_t *fail_head)
{
    VNestVtd *n = s->vnest;
    uint8_t type = VTD_INV_DESC_TYPE(desc->val[0]);

    if (!n || !n->realized || vtd_is_queued_type(type)) {
        return true;
    }
    /* A sync point, or a change of bindings: the batch goes first. */
    if (!vtd_nest_inv_flush(n, fail_head)) {
        return false;
    }
    if (type == VTD_INV_DESC_PC && !vtd_nest_pc_desc(n, desc)) {
        *fail_head = head;
        return false;
    }
    return true;
}

bool vnest_vtd_inv_after(IntelIOMMUState *s, const VTDInvDesc *desc,
                         uint16_t head, uint16_t *fail_head)
{
    VNestVtd *n = s->vnest;
    uint64_t lo = desc->val[0], hi = desc->val[1];
    uint64_t addr, npages;

    if (!n || !n->realized || QLIST_EMPTY(&n->hwpts)) {
        return true;
    }
    switch (VTD_INV_DESC_TYPE(lo)) {
    case VTD_INV_DESC_IOTLB:
        switch (lo & VTD_INV_DESC_IOTLB_G) {
        case VTD_INV_DESC_IOTLB_GLOBAL:
            vtd_inv_domain(n, true, 0, 0, VTD_INV_ALL_PAGES, false, head);
            break;
        case VTD_INV_DESC_IOTLB_DOMAIN:
            vtd_inv_domain(n, false, VTD_INV_DESC_IOTLB_DID(lo), 0,
                           VTD_INV_ALL_PAGES, false, head);
            break;
        case VTD_INV_DESC_IOTLB_PAGE:
            vtd_inv_domain(n, false, VTD_INV_DESC_IOTLB_DID(lo),
                           VTD_INV_DESC_IOTLB_ADDR(hi),
                           1ULL << VTD_INV_DESC_IOTLB_AM(hi),
                           hi & VTD_INV_IH, head);
            break;
        }
        break;
    case VTD_INV_DESC_PIOTLB:
        if ((lo & VTD_INV_DESC_PIOTLB_G) == VTD_INV_DESC_PIOTLB_ALL_IN_PASID) {
            addr = 0;
            npages = VTD_INV_ALL_PAGES;
        } else {
            addr = VTD_INV_DESC_PIOTLB_ADDR(hi);
            npages = 1ULL << VTD_INV_DESC_PIOTLB_AM(hi);
        }
        vtd_inv_pasid(n, -1, true, VTD_INV_DESC_PIOTLB_DID(lo),
                      VTD_INV_DESC_PIOTLB_PASID(lo), addr, npages,
                      (lo & VTD_INV_DESC_PIOTLB_G) !=
                      VTD_INV_DESC_PIOTLB_ALL_IN_PASID &&
                      VTD_INV_DESC_PIOTLB_IH(hi), head);
        break;
    case VTD_INV_DESC_DEVICE:
        /*
         * The host flushes a nested device's ATC with its IOTLB entries
         * (struct iommu_hwpt_vtd_s1_invalidate); a device-TLB descriptor
         * still becomes an entry, merged with an equal one already
         * queued, so a guest that only flushes the device TLB is obeyed.
         */
        vtd_devtlb_range(VTD_INV_DESC_DEVICE_IOTLB_ADDR(hi),
                         VTD_INV_DESC_DEVICE_IOTLB_SIZE(hi), &addr, &npages);
        vtd_inv_pasid(n, VTD_INV_DESC_DEVICE_IOTLB_SID(lo), false, 0,
                      PCI_NO_PASID, addr, npages, false, head);
        break;
    case VTD_INV_DESC_DEV_PIOTLB:
        if (VTD_INV_DESC_PASID_DEVICE_IOTLB_GLOBAL(hi)) {
            addr = 0;
            npages = VTD_INV_ALL_PAGES;
        } else {
            vtd_devtlb_range(VTD_INV_DESC_PASID_DEVICE_IOTLB_ADDR(hi),
                             VTD_INV_DESC_PASID_DEVICE_IOTLB_SIZE(hi),
                             &addr, &npages);
        }
        vtd_inv_pasid(n, VTD_INV_DESC_PASID_DEVICE_IOTLB_SID(lo), false, 0,
                      VTD_INV_DESC_PASID_DEVICE_IOTLB_GLOBAL(hi) ?
                      VTD_ANY_PASID : VTD_INV_DESC_PASID_DEVICE_IOTLB_PASID(lo),
                      addr, npages, false, head);
        break;
    default:
        return true;
    }
    if (n->inv_per_desc) {
        return vtd_nest_inv_flush(n, fail_head);
    }
    return true;
}

bool vnest_vtd_inv_end(IntelIOMMUState *s, uint16_t *fail_head)
{
    VNestVtd *n = s->vnest;

    return !n || !n->realized || vtd_nest_inv_flush(n, fail_head);
}

void vnest_vtd_inv_discard(IntelIOMMUState *s)
{
    VNestVtd *n = s->vnest;

    if (n && n->batch) {
        vnest_inv_batch_discard(n->batch);
    }
}
