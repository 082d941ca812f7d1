/*
 * VNest: which vIOMMU nests the DMA of a PCI device
 *
 * A nest module registers each vIOMMU instance it serves (by the opaque
 * its PCIIOMMUOps are set up with). Before a device assigned through
 * iommufd allocates its default HWPT (vfio-pci, simulated assignment),
 * it asks here which allocation flags the vIOMMU in front of it wants:
 * IOMMU_HWPT_ALLOC_NEST_PARENT (and IOMMU_HWPT_ALLOC_PASID when the
 * guest may bind PASIDs) for a nesting vIOMMU, 0 otherwise.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_VIOMMU_NEST_H
#define VNEST_VIOMMU_NEST_H

#include "hw/pci/pci_device.h"

typedef struct VNestViommuOps {
    /* IOMMU_HWPT_ALLOC_* flags for the default HWPT of @devfn on @bus. */
    uint32_t (*hwpt_flags)(void *opaque, PCIBus *bus, int devfn);
} VNestViommuOps;

void vnest_viommu_register(void *iommu_opaque, const VNestViommuOps *ops);
void vnest_viommu_unregister(void *iommu_opaque);

uint32_t vnest_pci_hwpt_flags(PCIDevice *pdev);

#endif
