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
 * A CD with a reserved IPS, on which QEMU 10.0's decoder aborted, is
 * ILLEGAL there (C_BAD_CD, hook patch 0013).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msi.h"
#include "exec/address-spaces.h"
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
    /* A CD QEMU's decoder refuses: C_BAD_CD (hook 0013 for IPS) */
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
