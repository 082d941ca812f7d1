/*
 * VNest: simulated device assignment
 *
 * -object iommufd,id=emu0,emulated=on
 * -object vnest-sim-assign,id=sa0,iommufd=emu0,device=DEV
 * -device nvme,id=DEV,...           (any PCI device)
 *
 * The PCI device named DEV is "assigned" through the emulated iommufd: it
 * is bound and attached like a VFIO device, its IOAS is filled by a memory
 * listener as VFIO fills it (or follows the vIOMMU's map/unmap
 * notifications when a non-nesting vIOMMU sits in front of it), and its
 * DMA is translated only by the emulated host IOMMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_SIM_ASSIGN_H
#define VNEST_SIM_ASSIGN_H

#include "hw/pci/pci_device.h"

#define TYPE_VNEST_SIM_ASSIGN "vnest-sim-assign"
/*
 * The host IOMMU device an assigned device hands its vIOMMU through
 * pci_device_set_iommu_device(), as vfio-pci does: implements get_cap
 * and the VNestHostDev interface (include/vnest/host-dev.h).
 */
#define TYPE_VNEST_SIM_HIOD "host-iommu-device-vnest-sim-assign"

/*
 * Hook from hw/pci/pci.c (hook patch 0003), when the device's bus master
 * address space is built: returns the address space the device must DMA
 * through, @dma_as (what the vIOMMU or the bus gives) unless the device is
 * assigned through the emulated host.
 */
AddressSpace *vnest_sim_assign_dma_as(PCIDevice *pdev, AddressSpace *dma_as);

/*
 * DMA by @pdev, optionally tagged with a PASID, for device models that can
 * issue PASID-tagged requests (the vnest-dma-test device).
 *
 * @pasid is a 20-bit PASID or VNEST_NO_PASID (include/vnest/host-dev.h,
 * the same value as the emulated host's EMU_NO_PASID).
 *
 * Without a PASID this is pci_dma_rw(): the request goes through the
 * device's bus-master address space, which for a device assigned through
 * vnest-sim-assign is the emulated host IOMMU (translated with the RID's
 * attachment), and otherwise the vIOMMU or system memory.
 *
 * With a PASID, a device assigned through vnest-sim-assign has the request
 * translated by the emulated host with that PASID's attachment, page by
 * page (4 KiB); a page the host refuses ends the transfer (the pages
 * before it were transferred, as on hardware), is counted in the
 * object's "dma-faults" property, traced and reported to the host's fault
 * queue by the model. A device that is not assigned cannot issue it at
 * all: QEMU 10.0's vIOMMUs and its PCI DMA API take no PASID, so an
 * emulated device's requests are always untagged. That, a PASID wider
 * than 20 bits, and bus mastering being off give MEMTX_ERROR with nothing
 * transferred.
 *
 * Returns MEMTX_OK, or the failure of the first access that failed.
 */
MemTxResult vnest_sim_assign_dma_rw(PCIDevice *pdev, uint32_t pasid,
                                    uint64_t addr, void *buf, uint64_t len,
                                    bool is_write);

/*
 * PCIe page requests (PRI). A device assigned through vnest-sim-assign
 * that has a PRI extended capability (PCI_EXT_CAP_ID_PRI) when it is
 * assigned (cold-plugged devices: at machine-done, after realize) gets
 * PRI on the emulated host, with its Max Outstanding Page Requests
 * (PCI_PRI_MAX_REQ) as capacity; see emu_device_set_pri() in
 * backends/iommufd-emu/iommufd-emu.h.
 *
 * vnest_sim_assign_dma_rw_pri() is vnest_sim_assign_dma_rw() that says,
 * in @pr, when the access was not done because the device sent a page
 * request (or waits on one it sent for that page): then it returns
 * MEMTX_DECODE_ERROR with @pr->sent and @pr->grpid, the PRG index whose
 * response vnest_sim_assign_prg_status() reports. @pr->exhausted: no
 * request could be sent, the device's outstanding allocation is used up.
 * An untagged request of an assigned device is translated as a tagged
 * one is (the emulated host, page by page); of a device not assigned it
 * is pci_dma_rw() and never a page request.
 */
typedef struct VNestPageRequest {
    bool sent;
    bool exhausted;
    uint32_t grpid;
} VNestPageRequest;

MemTxResult vnest_sim_assign_dma_rw_pri(PCIDevice *pdev, uint32_t pasid,
                                        uint64_t addr, void *buf,
                                        uint64_t len, bool is_write,
                                        VNestPageRequest *pr);

/* The PRG response codes (PCIe 10.4.2), as the emulated host's EMU_PRG_* */
#define VNEST_PRG_SUCCESS   0x0
#define VNEST_PRG_INVALID   0x1
#define VNEST_PRG_FAILURE   0xf
#define VNEST_PRG_PENDING   0x10
/*
 * The state of @pdev's page request group @grpid: VNEST_PRG_*, or a
 * negative errno (-ENODEV: not assigned; -EINVAL: no PRI or bad index;
 * -ENOENT: never used).
 */
int vnest_sim_assign_prg_status(PCIDevice *pdev, uint32_t grpid);

/*
 * Whether vnest_sim_assign_dma_rw() can issue PASID-tagged requests for
 * @pdev, i.e. whether @pdev is assigned through vnest-sim-assign. A device
 * model uses it to tell "cannot be issued" from a fault.
 */
bool vnest_sim_assign_pasid_capable(PCIDevice *pdev);

/*
 * Whether a vnest-sim-assign object names @pdev, so that it is (or, once
 * its bus-master address space is built, will be) assigned.
 */
bool vnest_sim_assign_claims(PCIDevice *pdev);

#endif
