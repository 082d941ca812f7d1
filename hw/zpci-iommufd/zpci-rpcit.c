/*
 * VNest s390 zPCI over iommufd: RPCIT into the device's IOAS
 *
 * Entered from hw/s390x/ (hook patch 0012). A zPCI function whose device
 * is assigned through iommufd gets a VNestZpci when the device hands the
 * zPCI bus its host side; from then on its RPCITs are handled here
 * (zpci-walk.c reads the guest's tables, zpci-runs.c updates the IOAS)
 * unless the zpci device has x-rpcit-per-page=on, which keeps QEMU 10.0's
 * path (one IOMMU notifier event, so one host map, per page) for
 * comparison.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "hw/s390x/s390-pci-bus.h"
#include "hw/s390x/s390-pci-inst.h"
#include "vnest/nest-counters.h"
#include "zpci-iommufd-internal.h"
#include "trace.h"

bool vnest_zpci_set_host_dev(S390PCIIOMMU *iommu, HostIOMMUDevice *hiod,
                             Error **errp)
{
    VNestZpci *z;

    if (!vnest_host_dev_check(hiod)) {
        /* A type1 container: QEMU's own path serves it. */
        return true;
    }
    if (iommu->vnest) {
        error_setg(errp, "zPCI: a host device is already assigned behind "
                   "this function's IOMMU");
        return false;
    }
    z = g_new0(VNestZpci, 1);
    z->iommu = iommu;
    z->hiod = hiod;
    vnest_host_dev_info(hiod, &z->info);
    z->runs = g_array_new(false, false, sizeof(ZpciRun));
    iommu->vnest = z;
    trace_vnest_zpci_host_dev(z->info.dev_id, z->info.ioas_id);
    return true;
}

static void zpci_free(S390PCIIOMMU *iommu)
{
    VNestZpci *z = iommu->vnest;

    if (!z) {
        return;
    }
    vnest_zpci_iommu_disable(iommu);
    g_array_free(z->runs, true);
    iommu->vnest = NULL;
    g_free(z);
}

void vnest_zpci_unset_host_dev(S390PCIIOMMU *iommu)
{
    zpci_free(iommu);
}

void vnest_zpci_iommu_free(S390PCIIOMMU *iommu)
{
    zpci_free(iommu);
}

/*
 * QEMU's per-page path: each event is one host call of the assigned
 * device's listener (vfio-pci's or simulated assignment's shadow).
 */
static void zpci_per_page_event(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    VNestZpci *z = container_of(n, VNestZpci, per_page);

    if (e->perm & IOMMU_RW) {
        z->stats.maps++;
        z->stats.map_pages += (e->addr_mask + 1) >> 12;
    } else {
        z->stats.unmaps++;
    }
}

void vnest_zpci_iommu_enable(S390PCIIOMMU *iommu)
{
    VNestZpci *z = iommu->vnest;
    Error *err = NULL;

    if (!z || !iommu->pbdev || !iommu->pbdev->vnest_rpcit_per_page) {
        return;
    }
    iommu_notifier_init(&z->per_page, zpci_per_page_event,
                        IOMMU_NOTIFIER_IOTLB_EVENTS, 0, iommu->pal, 0);
    if (memory_region_register_iommu_notifier(MEMORY_REGION(&iommu->iommu_mr),
                                              &z->per_page, &err)) {
        /* Only the counters miss it: say so once */
        warn_report_err_once(err);
        return;
    }
    z->per_page_counting = true;
}

void vnest_zpci_iommu_disable(S390PCIIOMMU *iommu)
{
    VNestZpci *z = iommu->vnest;

    if (!z) {
        return;
    }
    if (z->per_page_counting) {
        memory_region_unregister_iommu_notifier(
            MEMORY_REGION(&iommu->iommu_mr), &z->per_page);
        z->per_page_counting = false;
    }
    zpci_runs_clear(z);
}

/* The function enters the error state with event @code at @addr. */
static void zpci_error(S390PCIBusDevice *pbdev, uint16_t code, uint64_t addr,
                       uint8_t *cc, uint8_t *status)
{
    trace_vnest_zpci_error(pbdev->fid, code, addr);
    pbdev->state = ZPCI_FS_ERROR;
    s390_pci_generate_error_event(code, pbdev->fh, pbdev->fid, addr, 0);
    *cc = ZPCI_PCI_LS_ERR;
    *status = ZPCI_PCI_ST_FUNC_IN_ERR;
}

bool vnest_zpci_rpcit(S390PCIBusDevice *pbdev, uint64_t start, uint64_t end,
                      uint8_t *cc, uint8_t *status)
{
    S390PCIIOMMU *iommu = pbdev->iommu;
    VNestZpci *z = iommu->vnest;
    g_autoptr(GArray) want = NULL;
    uint64_t fault = start;
    uint16_t err;

    if (!z || iommu->dm_mr) {
        return false;
    }
    if (pbdev->vnest_rpcit_per_page) {
        /* Counted for the comparison; QEMU's path does the rest. */
        z->stats.rpcits++;
        trace_vnest_zpci_rpcit_per_page(pbdev->fid, start, end);
        return false;
    }
    *cc = ZPCI_PCI_LS_OK;
    if (!iommu->g_iota) {
        zpci_error(pbdev, ERR_EVENT_INVALAS, start, cc, status);
        return true;
    }
    if (end < start || end < iommu->pba || start > iommu->pal) {
        zpci_error(pbdev, ERR_EVENT_OORANGE, start, cc, status);
        return true;
    }
    /*
     * A range that overlaps the aperture is clamped to it; a page the
     * range touches is refreshed whole (pba and pal + 1 are page-aligned).
     */
    start = QEMU_ALIGN_DOWN(MAX(start, iommu->pba), TARGET_PAGE_SIZE);
    end = QEMU_ALIGN_UP(MIN(end, iommu->pal + 1), TARGET_PAGE_SIZE);
    z->stats.rpcits++;
    trace_vnest_zpci_rpcit(pbdev->fid, start, end);

    want = g_array_new(false, false, sizeof(ZpciRun));
    err = zpci_walk(iommu->g_iota, start, end, want, &fault);
    if (err) {
        zpci_error(pbdev, err, fault, cc, status);
        return true;
    }
    switch (zpci_runs_refresh(z, start, end, want)) {
    case ZPCI_RES_OK:
        pbdev->fmb.counter[ZPCI_FMB_CNT_RPCIT]++;
        break;
    case ZPCI_RES_NO_RESOURCES:
        /* The guest purges some of its mappings and refreshes again. */
        pbdev->fmb.counter[ZPCI_FMB_CNT_RPCIT]++;
        *cc = ZPCI_PCI_LS_ERR;
        *status = ZPCI_RPCIT_ST_INSUFF_RES;
        break;
    case ZPCI_RES_ERROR:
        zpci_error(pbdev, ERR_EVENT_SERR, start, cc, status);
        break;
    }
    return true;
}

/* ---- QOM: counters ---- */

/* The counters of @obj's function; zeros when it is not assigned here. */
static void *zpci_stats(Object *obj)
{
    static ZpciStats none;
    S390PCIBusDevice *pbdev = S390_PCI_DEVICE(obj);
    VNestZpci *z = pbdev->iommu ? pbdev->iommu->vnest : NULL;

    return z ? &z->stats : &none;
}

static void zpci_get_runs(Object *obj, Visitor *v, const char *name,
                          void *opaque, Error **errp)
{
    S390PCIBusDevice *pbdev = S390_PCI_DEVICE(obj);
    VNestZpci *z = pbdev->iommu ? pbdev->iommu->vnest : NULL;
    uint64_t val = z ? z->runs->len : 0;

    visit_type_uint64(v, name, &val, errp);
}

#define ZPCI_COUNTER(prop, field, description) \
    { .name = "x-iommufd-" prop, .desc = (description), \
      .offset = offsetof(ZpciStats, field), .stats = zpci_stats }

void vnest_zpci_device_class_init(ObjectClass *oc)
{
    static const VNestCounter stats[] = {
        ZPCI_COUNTER("rpcits", rpcits, "RPCITs for the function (either path)"),
        ZPCI_COUNTER("maps", maps, "IOMMU_IOAS_MAP calls"),
        ZPCI_COUNTER("unmaps", unmaps, "IOMMU_IOAS_UNMAP calls"),
        ZPCI_COUNTER("map-pages", map_pages, "4 KiB pages those maps covered"),
    };

    vnest_add_counters(oc, stats, ARRAY_SIZE(stats));
    object_class_property_add(oc, "x-iommufd-runs", "uint64", zpci_get_runs,
                              NULL, NULL, NULL);
    object_class_property_set_description(oc, "x-iommufd-runs",
        "host mappings the function holds now");
    vnest_zpci_insn_class_init(oc);
}
