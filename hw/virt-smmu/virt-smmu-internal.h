/*
 * VNest arm-smmuv3 instances on virt: what the devicetree and IORT
 * builders share
 *
 * virt-smmu.c (plug checks, which SMMU translates which root bus),
 * virt-smmu-fdt.c (devicetree), virt-smmu-iort.c (ACPI IORT).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_VIRT_SMMU_INTERNAL_H
#define HW_VIRT_SMMU_INTERNAL_H

#include "hw/arm/smmuv3.h"
#include "vnest/virt-smmu.h"

#define VIRT_SMMU_NIRQ      4   /* eventq, priq, cmdq-sync, gerror */
#define VIRT_SMMU_MMIO_SIZE 0x20000

typedef struct VirtSmmu {
    SMMUv3State *s;
    hwaddr base;
    int spi[VIRT_SMMU_NIRQ];    /* GIC SPI numbers, sysbus IRQ order */
    bool builtin;               /* -M virt,iommu=smmuv3's own */
    uint32_t phandle;           /* devicetree */
    uint32_t iort_offset;       /* its IORT node */
} VirtSmmu;

/* The RIDs of one root bus: its bus number up to the next root bus's. */
typedef struct VirtSmmuRange {
    uint32_t rid_base;
    uint32_t rid_count;
    int smmu;                   /* index in VirtSmmuTopo.smmus, -1: none */
} VirtSmmuRange;

typedef struct VirtSmmuTopo {
    GArray *smmus;              /* VirtSmmu */
    GArray *ranges;             /* VirtSmmuRange, by rid_base */
    uint32_t rid_end;           /* RIDs the ECAM reaches */
} VirtSmmuTopo;

/*
 * The SMMUv3 instances and which one translates each root bus; false
 * (and nothing to free) when none was created with -device.
 */
bool virt_smmu_topo(VirtMachineState *vms, VirtSmmuTopo *t);
void virt_smmu_topo_free(VirtSmmuTopo *t);

#endif
