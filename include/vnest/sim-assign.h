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

#endif
