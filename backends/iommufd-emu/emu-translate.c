/*
 * VNest emulated host IOMMU: device DMA and the IOTLB
 *
 * A device request (RID or PASID, IOVA, access) goes to the HWPT its
 * RID/PASID is attached to. A paging HWPT resolves the IOVA in its IOAS.
 * A nested HWPT goes to the hardware model's stage 1, which looks in its
 * caches (emu-iotlb.c) and on a miss walks the guest's tables (each table
 * read itself translated by the nest parent), caching the result until a
 * matching invalidation drops it. The stage-1 output is then resolved
 * through the parent's IOAS, live.
 *
 * Every entry point here holds the host lock: QEMU's iothreads do DMA
 * while its main thread issues ioctls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

uint8_t *emu_s2_resolve(EmuHwpt *nested, uint64_t ipa, size_t len,
                        unsigned access)
{
    EmuHwpt *parent = nested->parent;
    uint8_t *hva = emu_ioas_resolve(parent->ioas, ipa, len, access);

    if (hva && (access & EMU_DMA_WRITE)) {
        emu_hwpt_mark_dirty(parent, ipa, len);
    }
    return hva;
}

static void fault_set(EmuFaultInfo *f, int err, uint32_t pasid,
                      uint64_t iova, unsigned access, const char *reason)
{
    f->err = err;
    f->pasid = pasid;
    f->iova = iova;
    f->access = access;
    f->reason = reason;
}

/* The host address of one page-bounded chunk, or a fault. */
static uint8_t *translate_chunk(EmuIdev *idev, EmuHwpt *hwpt, uint32_t pasid,
                                uint64_t iova, size_t len, unsigned access,
                                EmuFaultInfo *f, bool *recoverable)
{
    EmuWalk w;
    uint8_t *hva;

    /*
     * Recoverable: what an ATS translation request would complete with
     * R=W=0 (not present, no permission) rather than as an error, the
     * cue for a PRI device to request the page. The second stage's holes
     * and read-only pages are such (emu_ioas_resolve() fails for both).
     */
    *recoverable = true;
    if (hwpt->obj.type == EMU_OBJ_HWPT_PAGING) {
        hva = emu_ioas_resolve(hwpt->ioas, iova, len, access);
        if (!hva) {
            fault_set(f, -EFAULT, pasid, iova, access, "not mapped");
        } else if (access & EMU_DMA_WRITE) {
            emu_hwpt_mark_dirty(hwpt, iova, len);
        }
        return hva;
    }
    memset(&w, 0, sizeof(w));
    if (!hwpt->iommu->ops->s1_translate) {
        fault_set(f, -EFAULT, pasid, iova, access, "no stage-1 tables");
        *recoverable = false;
        return NULL;
    }
    if (hwpt->iommu->ops->s1_translate(hwpt, idev, pasid, iova, access,
                                       &w)) {
        *f = w.fault;
        *recoverable = w.recoverable;
        if (!f->err) {
            fault_set(f, -EFAULT, pasid, iova, access, "stage-1 walk");
        }
        if (hwpt->iommu->ops->report_fault) {
            hwpt->iommu->ops->report_fault(hwpt, idev, &w);
        }
        return NULL;
    }
    hva = emu_s2_resolve(hwpt, w.out, len, access);
    if (!hva) {
        fault_set(f, -EFAULT, pasid, iova, access, "stage-2 not mapped");
    }
    return hva;
}

/*
 * The domain a request uses. A PASID nobody attached goes through the
 * RID's nested HWPT when that one came from a vIOMMU (SMMUv3 style):
 * the guest's STE and its CD table serve every SubstreamID.
 */
static EmuHwpt *dma_domain(EmuIdev *idev, uint32_t pasid)
{
    EmuHwpt *hwpt = emu_idev_domain(idev, pasid);
    EmuHwpt *rid;

    if (hwpt || pasid == EMU_NO_PASID) {
        return hwpt;
    }
    rid = emu_idev_domain(idev, EMU_NO_PASID);
    return rid && rid->viommu ? rid : NULL;
}

/* One page-bounded request; the caller holds the host lock. */
static uint8_t *device_translate(EmuDevice *dev, uint32_t pasid,
                                 uint64_t iova, size_t len, unsigned access,
                                 EmuFaultInfo *f)
{
    EmuHost *host = dev->host;
    EmuIdev *idev = dev->idev;
    EmuHwpt *hwpt = idev ? dma_domain(idev, pasid) : NULL;
    bool recoverable;
    uint8_t *hva;

    memset(f, 0, sizeof(*f));
    g_assert(len && len <= EMU_PAGE_SIZE - (iova & ~EMU_PAGE_MASK));
    host->stats.translations++;
    if (!hwpt) {
        /* Not attached: the IOMMU blocks the device's DMA. */
        host->stats.faults++;
        fault_set(f, -EFAULT, pasid, iova, access, "blocked");
        return NULL;
    }
    hva = translate_chunk(idev, hwpt, pasid, iova, len, access, f,
                          &recoverable);
    if (!hva) {
        /*
         * A DMA fault reaches the HWPT's fault queue only as a PRI page
         * request (intel/prq.c) or a stall (arm_smmu_handle_event() on a
         * stall-enabled master), through iommu_report_device_fault() to
         * iommufd_fault_iopf_handler(). A device with PRI enabled sends
         * one for a recoverable fault (emu-pri.c); any other fault is
         * unrecoverable, and a stage-1 event was reported by the hardware
         * model above.
         */
        host->stats.faults++;
        if (recoverable) {
            emu_pri_request(dev, hwpt, pasid, iova, access, f);
        }
    }
    return hva;
}

void *emu_device_translate(EmuDevice *dev, uint32_t pasid, uint64_t iova,
                           size_t len, unsigned access, EmuFaultInfo *fault)
{
    EmuFaultInfo local;
    EMU_HOST_LOCK(dev->host);

    return device_translate(dev, pasid, iova, len, access,
                            fault ? fault : &local);
}

int emu_device_dma(EmuDevice *dev, uint32_t pasid, uint64_t iova,
                   void *buf, size_t len, unsigned access,
                   EmuFaultInfo *fault)
{
    EmuFaultInfo local, *f = fault ? fault : &local;
    size_t done = 0;
    EMU_HOST_LOCK(dev->host);

    memset(f, 0, sizeof(*f));
    while (done < len) {
        uint64_t cur = iova + done;
        size_t chunk = MIN(len - done, EMU_PAGE_SIZE - (cur & ~EMU_PAGE_MASK));
        uint8_t *hva = device_translate(dev, pasid, cur, chunk, access, f);

        if (!hva) {
            return f->err;
        }
        if (access & EMU_DMA_WRITE) {
            memcpy(hva, (uint8_t *)buf + done, chunk);
        } else {
            memcpy((uint8_t *)buf + done, hva, chunk);
        }
        done += chunk;
    }
    return 0;
}
