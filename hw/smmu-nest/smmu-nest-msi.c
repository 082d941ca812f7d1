/*
 * VNest arm-smmuv3 nesting: interrupt messages of nested devices
 *
 * On Arm an MSI is a DMA write to the interrupt controller's doorbell
 * (GITS_TRANSLATER of the guest's ITS) at an address the guest mapped in
 * its own stage-1 tables (Linux: an IOVA of its MSI cookie). With the
 * device nested the host owns that translation, and QEMU's view of the
 * device's DMA is guest-physical (its address space is system memory), so
 * the message the guest programmed would land at its IOVA taken as a
 * guest-physical address. On a real host the device's interrupts never
 * use the guest's message either: VFIO owns the physical MSI-X table and
 * the host delivers the interrupt to QEMU, which must send the guest's
 * message to the guest's doorbell.
 *
 * So every interrupt message of a nested device is delivered through the
 * guest's own stage 1 as QEMU's SMMUv3 model walks it (its STE, CD and
 * page tables, its caches invalidated by the guest's commands as for any
 * emulated device): the doorbell's guest-physical address is what the
 * guest mapped, with no fixed "MSI GPA" to agree on. A message the guest
 * did not map raises the translation fault QEMU's SMMUv3 records for it.
 * A CD QEMU 10.0's decoder would abort on is refused first (C_BAD_CD).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msi.h"
#include "exec/address-spaces.h"
#include "system/dma.h"
#include "smmu-nest-internal.h"
#include "trace.h"

static SmmuNestDev *smmu_nest_msi_dev(PCIDevice *pdev)
{
    PCIBus *iommu_bus, *bus;
    int devfn;
    SmmuNestDev *d;

    pci_device_get_iommu_bus_devfn(pdev, &iommu_bus, &bus, &devfn);
    if (!iommu_bus || !iommu_bus->iommu_opaque) {
        return NULL;
    }
    d = smmu_nest_find_dev(iommu_bus->iommu_opaque, bus, devfn);
    return d && d->pdev == pdev ? d : NULL;
}

/*
 * QEMU 10.0's CD decoder aborts on a CD whose IPS is reserved (6, 7:
 * oas2bits() reaches g_assert_not_reached()). A message of @d would take
 * the guest's CD there when QEMU's SMMUv3 decodes @d's configuration
 * (SMMUEN, STE valid, stage 1, one CD, no stall): such a CD is ILLEGAL,
 * so refuse the message as the SMMU refuses the CD, with C_BAD_CD,
 * before QEMU sees it. Anything else is QEMU's to answer.
 */
static bool smmu_nest_msi_cd_ok(SmmuNestDev *d)
{
    SMMUv3State *s = d->nest->s;
    SMMUEventInfo ev = { .sid = d->sid };
    STE ste;
    uint32_t cd[2];

    if (!smmu_enabled(s) || vnest_smmuv3_find_ste(s, d->sid, &ste, &ev) ||
        !STE_VALID(&ste) || STE_CONFIG(&ste) != VSTE_CFG_S1 ||
        STE_S1CDMAX(&ste) || STE_S1STALLD(&ste)) {
        return true;
    }
    if (dma_memory_read(&address_space_memory, STE_CTXPTR(&ste), cd,
                        sizeof(cd), MEMTXATTRS_UNSPECIFIED) != MEMTX_OK ||
        extract32(le32_to_cpu(cd[1]), 0, 3) <= 5) {
        return true;            /* CD_IPS(): valid, or QEMU's fetch error */
    }
    ev.type = SMMU_EVT_C_BAD_CD;
    ev.u.c_bad_cd.ssv = false;
    trace_vnest_smmu_bad_ste(d->sid, ev.type);
    smmuv3_record_event(s, &ev);
    return false;
}

static void smmu_nest_msi_trigger(PCIDevice *pdev, MSIMessage msg)
{
    SmmuNestDev *d = smmu_nest_msi_dev(pdev);
    MemTxAttrs attrs = { .requester_id = pci_requester_id(pdev) };
    SMMUDevice *sdev;
    MemTxResult r;
    uint32_t sid;

    sdev = d ? smmu_find_sdev(ARM_SMMU(d->nest->s), d->sid) : NULL;
    if (!sdev) {
        /* Not nested any more (unplug in progress): as PCI delivers it */
        address_space_stl_le(&pdev->bus_master_as, msg.address, msg.data,
                             attrs, NULL);
        return;
    }
    if (!smmu_nest_msi_cd_ok(d)) {
        return;
    }
    sid = d->sid;   /* the write may unplug the device (its slot's power) */
    address_space_stl_le(&sdev->as, msg.address, msg.data, attrs, &r);
    trace_vnest_smmu_msi(sid, msg.address, msg.data, r);
}

void smmu_nest_msi_claim(SmmuNestDev *d)
{
    d->msi_trigger = d->pdev->msi_trigger;
    d->pdev->msi_trigger = smmu_nest_msi_trigger;
}

void smmu_nest_msi_release(SmmuNestDev *d)
{
    if (d->pdev->msi_trigger == smmu_nest_msi_trigger) {
        d->pdev->msi_trigger = d->msi_trigger;
    }
}
