/*
 * VNest: arm-smmuv3 nesting (accel=on), the calls QEMU's SMMUv3 makes
 *
 * Hook patch 0008 calls these from hw/arm/smmu-common.c and
 * hw/arm/smmuv3.c; hw/smmu-nest/ implements them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_SMMU_NEST_H
#define VNEST_SMMU_NEST_H

#include "hw/arm/smmu-common.h"
#include "hw/arm/smmuv3.h"
#include "system/host_iommu_device.h"

typedef struct VNestSmmu VNestSmmu;
struct STE;
struct SMMUEventInfo;

/* ---- called by smmuv3.c / smmu-common.c ---- */

/* The accel, ats, ril, ssidsize, oas properties, the x-nest-* counters. */
void vnest_smmuv3_class_init(ObjectClass *klass);
bool vnest_smmuv3_realize(SMMUv3State *s, Error **errp);
/*
 * Reset, after smmuv3_init_regs(): with accel=on, the ID registers the
 * options ask for (hook 0010).
 */
void vnest_smmuv3_init_regs(SMMUv3State *s);

/*
 * PCIIOMMUOps.set_iommu_device / unset_iommu_device of any SMMU: with
 * accel=on an assigned device is nested (vIOMMU, vDEVICE, STE followed);
 * otherwise nothing happens.
 */
bool vnest_smmu_set_iommu_device(SMMUState *bs, PCIBus *bus, int devfn,
                                 HostIOMMUDevice *hiod, Error **errp);
void vnest_smmu_unset_iommu_device(SMMUState *bs, PCIBus *bus, int devfn);

/*
 * The address space of @devfn on @bus: system memory for an assigned
 * device behind an accel=on SMMUv3 (the host translates), else @as.
 */
AddressSpace *vnest_smmu_dma_as(SMMUState *bs, PCIBus *bus, int devfn,
                                AddressSpace *as);

/*
 * The guest changed what the host must follow: the STEs of StreamIDs
 * @sid & ~@mask == start (CFGI_STE: @mask 0; CFGI_STE_RANGE, CFGI_ALL),
 * or everything (SMMUEN, GBPA, reset).
 */
void vnest_smmuv3_cfgi_ste(SMMUv3State *s, uint32_t sid, uint32_t mask);
void vnest_smmuv3_sync_all(SMMUv3State *s);

/*
 * QEMU's SMMUv3 lock is free again (a command ran under it): record the
 * events the module raised meanwhile. The event queue is guest memory,
 * possibly a device's registers whose DMA or MSI this same SMMU
 * translates under that lock, so no event is written while it is held.
 */
void vnest_smmuv3_unlocked(SMMUv3State *s);

/*
 * Command @cmd (4 words), at raw CMDQ_CONS @cons, was executed: those the
 * host must see for nested devices (TLBI_NH_*, TLBI_NSNH_ALL, CFGI_CD,
 * CFGI_CD_ALL, ATC_INV) are batched for the vIOMMU.
 */
void vnest_smmuv3_cmd(SMMUv3State *s, const uint32_t *cmd, uint32_t cons);
/*
 * CMD_SYNC, or the queue drained or stopped: ONE IOMMU_HWPT_INVALIDATE
 * for what is batched. False when the host refused a command: *@cons is
 * set to that command (the guest's queue stops there, CERROR_ILL).
 */
bool vnest_smmuv3_cmd_sync(SMMUv3State *s, uint32_t *cons);

/*
 * The guest's event queue had no room for an event: OVFLG, as the
 * architecture says (hook 0009 calls it from QEMU's own event writer).
 */
void vnest_smmuv3_evtq_overflow(SMMUv3State *s);

/* ---- exported by smmuv3.c to the nest module ---- */

/* smmu_find_ste(): 0, or a negative errno with @event filled in. */
int vnest_smmuv3_find_ste(SMMUv3State *s, uint32_t sid, struct STE *ste,
                          struct SMMUEventInfo *event);
/* smmuv3_trigger_irq() (hook 0009): pulse @irq if enabled, GERROR bits */
void vnest_smmuv3_trigger_irq(SMMUv3State *s, SMMUIrq irq,
                              uint32_t gerror_mask);

#endif
