/*
 * VNest emulated host IOMMU: PCIe Page Request Interface of devices
 *
 * The device side of PRI (PCIe 6.x 10.4) and the host's handling of its
 * page requests as Linux 7.3 does it on VT-d:
 *
 * - Probe: intel_iommu_probe_device() marks the device pri_supported when
 *   it has ATS and PRI and the IOMMU has ECAP.PRS and ECAP.PDS;
 *   iommu_enable_pci_pri() then enables PRI with
 *   pci_enable_pri(pdev, PRQ_DEPTH), which grants min(capacity,
 *   PRQ_DEPTH) outstanding requests (drivers/pci/ats.c).
 * - Attach of a domain with an iopf_handler (a HWPT allocated with a
 *   fault queue, iommufd_hwpt_alloc()): iopf_for_domain_set() ->
 *   intel_iommu_enable_iopf(), ENODEV without pri_enabled, else one more
 *   iopf_refcount; detach or replace drops it (iopf_for_domain_remove()).
 * - A request: the device's translation (ATS) finds the page not present
 *   or not writable, so it sends a Page Request with a PRG index
 *   (LAST_PAGE: the model's groups are one page). prq_event_thread() ->
 *   intel_prq_report() -> iommu_report_device_fault(): no attach handle
 *   or no iopf_handler -> INVALID at once (find_fault_handler(),
 *   iopf_error_response()); the group's allocation failing -> FAILURE
 *   (err_abort); else iommufd_fault_iopf_handler() queues it.
 * - The response (iopf_group_response() -> intel_iommu_page_response():
 *   a page group response descriptor with the PRG index and PASID) frees
 *   the device's request; SUCCESS: retry, INVALID: give up, FAILURE: the
 *   function stops issuing page requests (PRI Status RF, PCIe 10.5.2).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

static uint32_t pri_alloc(EmuDevice *dev)
{
    uint32_t cap = dev->pri_capacity ? dev->pri_capacity
                                     : EMU_PRI_DEFAULT_CAPACITY;

    return MIN(cap, EMU_PRI_PRQ_DEPTH);     /* pci_enable_pri() */
}

static bool pri_enabled(EmuDevice *dev)
{
    return dev->pri && dev->iommu->ops->pri;
}

int emu_device_set_pri(EmuDevice *dev, bool pri)
{
    EMU_HOST_LOCK(dev->host);
    guint i;

    if (dev->idev) {
        return -EBUSY;          /* probed: the capability is fixed */
    }
    dev->pri = pri;
    dev->pri_stopped = false;   /* pci_reset_pri() at probe */
    dev->pri_outstanding = 0;
    g_free(dev->prgs);
    dev->prgs = NULL;
    if (pri) {
        dev->prgs = g_new(EmuPrg, EMU_PRI_GROUPS);
        for (i = 0; i < EMU_PRI_GROUPS; i++) {
            dev->prgs[i] = (EmuPrg) { .status = -ENOENT };
        }
    }
    return 0;
}

int emu_device_set_pri_capacity(EmuDevice *dev, uint32_t capacity)
{
    EMU_HOST_LOCK(dev->host);

    if (dev->idev) {
        return -EBUSY;
    }
    dev->pri_capacity = capacity;
    return 0;
}

bool emu_device_pri_enabled(EmuDevice *dev)
{
    EMU_HOST_LOCK(dev->host);

    return pri_enabled(dev);
}

unsigned emu_device_iopf_refcount(EmuDevice *dev)
{
    EMU_HOST_LOCK(dev->host);

    return dev->iopf_refcount;
}

int emu_device_prg_status(EmuDevice *dev, uint32_t grpid)
{
    EMU_HOST_LOCK(dev->host);

    if (!dev->prgs || grpid >= EMU_PRI_GROUPS) {
        return -EINVAL;
    }
    return dev->prgs[grpid].status;
}

void emu_device_set_prg_notify(EmuDevice *dev, EmuPrgNotify *fn,
                               void *opaque)
{
    EMU_HOST_LOCK(dev->host);

    dev->prg_notify = fn;
    dev->prg_opaque = opaque;
}

void emu_pri_free(EmuDevice *dev)
{
    g_free(dev->prgs);
    dev->prgs = NULL;
}

int emu_pri_iopf_check(EmuDevice *dev, EmuHwpt *hwpt)
{
    /* intel iopf_for_domain_set() -> intel_iommu_enable_iopf() */
    if (hwpt->fault && dev->iommu->ops->pri && !pri_enabled(dev)) {
        return -ENODEV;
    }
    return 0;
}

void emu_pri_respond(EmuDevice *dev, uint32_t pasid, uint32_t grpid,
                     int code)
{
    EmuPrg *prg;

    if (!dev->prgs || grpid >= EMU_PRI_GROUPS) {
        return;
    }
    prg = &dev->prgs[grpid];
    /*
     * A response for an index with nothing outstanding (PCIe: an
     * unexpected PRG response) changes nothing the model tracks.
     */
    if (prg->status != EMU_PRG_PENDING || prg->pasid != pasid) {
        return;
    }
    prg->status = code;
    g_assert(dev->pri_outstanding);
    dev->pri_outstanding--;
    if (code == EMU_PRG_FAILURE) {
        dev->pri_stopped = true;
    }
    if (dev->prg_notify) {
        dev->prg_notify(dev->prg_opaque, dev, pasid, grpid, code);
    }
}

static unsigned access_perm(unsigned access)
{
    return ((access & EMU_DMA_READ) ? IOMMU_PGFAULT_PERM_READ : 0) |
           ((access & EMU_DMA_WRITE) ? IOMMU_PGFAULT_PERM_WRITE : 0);
}

int emu_pri_request(EmuDevice *dev, EmuHwpt *hwpt, uint32_t pasid,
                    uint64_t iova, unsigned access, EmuFaultInfo *f)
{
    uint64_t page = iova & EMU_PAGE_MASK;
    struct iommu_hwpt_pgfault rec = { 0 };
    int free = -1;
    EmuPrg *prg;
    int rc;
    guint i;

    if (!pri_enabled(dev) || dev->pri_stopped) {
        return 0;
    }
    for (i = 0; i < EMU_PRI_GROUPS; i++) {
        prg = &dev->prgs[i];
        if (prg->status != EMU_PRG_PENDING) {
            if (free < 0) {
                free = i;
            }
            continue;
        }
        if (prg->pasid == pasid && prg->addr == page &&
            (prg->access & access) == access) {
            /* the device waits for the response it asked for */
            f->err = -EAGAIN;
            f->page_request = true;
            f->grpid = i;
            f->reason = "page request outstanding";
            return -EAGAIN;
        }
    }
    if (dev->pri_outstanding >= pri_alloc(dev) || free < 0) {
        f->err = -EBUSY;
        f->reason = "page request allocation used up";
        return -EBUSY;
    }
    prg = &dev->prgs[free];
    *prg = (EmuPrg) {
        .status = EMU_PRG_PENDING, .pasid = pasid, .addr = page,
        .access = access,
    };
    dev->pri_outstanding++;
    f->err = -EAGAIN;
    f->page_request = true;
    f->grpid = free;
    f->reason = "page request sent";

    /* intel_prq_report() */
    rec.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    if (pasid != EMU_NO_PASID) {
        rec.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID |
                     EMU_PGFAULT_FLAGS_NEEDS_PASID;
        rec.pasid = pasid;
    }
    rec.grpid = free;
    rec.perm = access_perm(access);
    rec.addr = page;
    /*
     * iommu_report_device_fault(): find_fault_handler() takes the handle
     * of the PASID (or the RID for an untagged request; VT-d has no
     * user_pasid_table fallback); a domain without iopf_handler, the
     * blocked one included, is answered INVALID by iopf_error_response().
     */
    if (!hwpt || !hwpt->fault) {
        emu_pri_respond(dev, pasid, free, EMU_PRG_INVALID);
        return -EAGAIN;
    }
    rc = emu_fault_report(hwpt->fault, dev->idev, pasid, dev, pasid, &rec);
    if (rc) {
        /* err_abort: iopf_group_response(group, IOMMU_PAGE_RESP_FAILURE) */
        emu_pri_respond(dev, pasid, free, EMU_PRG_FAILURE);
    }
    return -EAGAIN;
}
