/*
 * VNest: arm-smmuv3 instances on -M virt, one per PCIe root bus
 *
 * -device arm-smmuv3,primary-bus=BUS puts an SMMUv3 in front of one PCIe
 * root bus (pcie.0 or a pxb-pcie's bus) on the platform bus; the guest
 * finds each instance in the devicetree (a node, and an iommu-map entry
 * for each root bus) and in ACPI IORT (a node, and the root complex's ID
 * mappings split per root bus). Hook patch 0011 calls these from
 * hw/arm/virt.c and hw/arm/virt-acpi-build.c; hw/virt-smmu/ implements
 * them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_VIRT_SMMU_H
#define VNEST_VIRT_SMMU_H

#include "hw/arm/virt.h"
#include "hw/acpi/bios-linker-loader.h"

/* virt's class init: arm-smmuv3 may be created with -device. */
void vnest_virt_smmu_class_init(MachineClass *mc);

/*
 * Before an arm-smmuv3 is realized on virt: refused when hot-plugged,
 * without a PCIe root bus as primary-bus, on a bus another IOMMU (virt's
 * own iommu=smmuv3, or another arm-smmuv3) translates already, or after
 * devices on that bus. virt's own instance passes.
 */
bool vnest_virt_smmu_pre_plug(VirtMachineState *vms, DeviceState *dev,
                              Error **errp);

/*
 * machine-done, before the devicetree is loaded: a node for each
 * instance created with -device, and the PCIe host bridge's iommu-map
 * rewritten to send each root bus's RIDs to its own SMMU. Nothing when
 * every SMMU is virt's own.
 */
void vnest_virt_smmu_fdt(VirtMachineState *vms);

/*
 * IORT with an SMMUv3 node per instance when one was created with
 * -device (true); false leaves it to virt's own build_iort().
 */
bool vnest_virt_smmu_build_iort(GArray *table_data, BIOSLinker *linker,
                                VirtMachineState *vms);

#endif
