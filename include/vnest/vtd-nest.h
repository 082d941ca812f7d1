/*
 * VNest: intel-iommu nesting (first stage walked by the host IOMMU)
 *
 * -device intel-iommu,x-scalable-mode=on,x-flts=on,caching-mode=on
 *         [,pasid-bits=N][,x-inv-per-desc=on]
 * (also spelled scalable-mode=on, fsts=on)
 *
 * With x-flts=on, an assigned device (vfio-pci on iommufd, or simulated
 * assignment) is not shadowed: its default HWPT is a nest parent holding
 * guest RAM, and each PASID entry the guest programs with PGTT=first-stage
 * becomes a nested HWPT of type IOMMU_HWPT_DATA_VTD_S1 that the host
 * walks. These are the calls hw/i386/intel_iommu.c makes into the nest
 * module (hook patch 0007), and the few helpers that file exports to it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_VTD_NEST_H
#define VNEST_VTD_NEST_H

#include "hw/i386/intel_iommu.h"
#include "hw/pci/pci.h"
#include "system/host_iommu_device.h"

typedef struct VNestVtd VNestVtd;
union VTDInvDesc;

/* ---- called by intel_iommu.c ---- */

/* Extra properties: spellings of later QEMU, pasid-bits, x- options. */
void vnest_vtd_class_init(ObjectClass *klass);
bool vnest_vtd_realize(IntelIOMMUState *s, Error **errp);
/* After vtd_cap_init(): the PASID width and host-derived capabilities. */
void vnest_vtd_cap_init(IntelIOMMUState *s);

/* An assigned device is plugged (x-flts=on): can the host nest it? */
bool vnest_vtd_check_hiod(IntelIOMMUState *s, HostIOMMUDevice *hiod,
                          Error **errp);
void vnest_vtd_plug(IntelIOMMUState *s, PCIBus *bus, int devfn,
                    HostIOMMUDevice *hiod);
void vnest_vtd_unplug(IntelIOMMUState *s, PCIBus *bus, int devfn);

/*
 * Whether the host translates this device's DMA (it is nested): then its
 * QEMU address space is system memory, whatever the guest programs.
 */
bool vnest_vtd_host_translates(IntelIOMMUState *s, PCIBus *bus, int devfn);

/*
 * The guest changed what the host must follow: root table pointer,
 * translation enable, global context-cache invalidation, reset.
 */
void vnest_vtd_sync_all(IntelIOMMUState *s);
/* Device-selective context-cache invalidation (source-id, function mask) */
void vnest_vtd_sync_sid(IntelIOMMUState *s, uint16_t sid, uint16_t mask);

/*
 * Invalidation queue. vnest_vtd_inv_before() runs before QEMU processes
 * the descriptor at @head: a PASID-cache invalidation is validated and
 * carried out here, and a wait descriptor or a PASID-cache invalidation
 * first sends what is batched. vnest_vtd_inv_after() runs once QEMU has
 * accepted an IOTLB, PASID-IOTLB or device-TLB descriptor, and queues
 * the host entries it implies. vnest_vtd_inv_end() ends a submission.
 * A false return means the host (or the nest module, for a bad
 * PASID-cache descriptor) refused the descriptor at *@fail_head: the
 * queue stops there with an invalidation queue error.
 */
bool vnest_vtd_inv_before(IntelIOMMUState *s, const union VTDInvDesc *desc,
                          uint16_t head, uint16_t *fail_head);
bool vnest_vtd_inv_after(IntelIOMMUState *s, const union VTDInvDesc *desc,
                         uint16_t head, uint16_t *fail_head);
bool vnest_vtd_inv_end(IntelIOMMUState *s, uint16_t *fail_head);
/* The queue was disabled or reset: drop what is batched. */
void vnest_vtd_inv_discard(IntelIOMMUState *s);

/*
 * Page requests (x-prq=on, ECAP.PRS; hw/vtd-nest/vtd-nest-prq.c).
 * vnest_vtd_mmio_written() runs after the guest wrote register @addr
 * (the page request status and event control registers have side
 * effects). vnest_vtd_page_response() handles a page group response
 * descriptor (invalidation queue type 0x9): false means the queue stops
 * there with IQE (reserved bits, a reserved response code, no PRS).
 */
#define VNEST_VTD_INV_DESC_PGRP_RESP    0x9
void vnest_vtd_mmio_written(IntelIOMMUState *s, hwaddr addr);
bool vnest_vtd_page_response(IntelIOMMUState *s, const union VTDInvDesc *desc);

/* ---- exported by intel_iommu.c to the nest module ---- */

/*
 * Read the PASID entry @pasid (PCI_NO_PASID: the context's RID_PASID) of
 * the device the VT-d sees as @devfn on @bus. Returns 0 or -VTD_FR_*;
 * *@rid2pasid and *@fpd (fault processing disabled) are set when the
 * context entry could be read.
 */
int vnest_vtd_read_pasid_entry(IntelIOMMUState *s, PCIBus *bus, int devfn,
                               uint32_t pasid, VTDPASIDEntry *pe,
                               uint32_t *rid2pasid, bool *fpd);
/* Record a fault as a translation request would (honours FPD). */
void vnest_vtd_record_fault(IntelIOMMUState *s, uint16_t sid, bool has_pasid,
                            uint32_t pasid, uint64_t addr, bool is_write,
                            int reason, bool fpd);
/* Send the MSI whose address and data are in registers @addr_reg, @data_reg */
void vnest_vtd_msi(IntelIOMMUState *s, hwaddr addr_reg, hwaddr data_reg);
/*
 * Whether the scalable-mode context entry of @devfn on @bus enables page
 * requests (PRE): 1 or 0, or -VTD_FR_* when there is no usable entry.
 */
int vnest_vtd_context_pre(IntelIOMMUState *s, PCIBus *bus, int devfn);
/* Re-decide the address spaces of @devfn on @bus (all PASIDs). */
void vnest_vtd_switch_device(IntelIOMMUState *s, PCIBus *bus, int devfn);

#endif
