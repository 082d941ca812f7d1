/*
 * VNest qtest helpers: the guest's side of Intel VT-d in scalable mode
 *
 * A small guest IOMMU driver for qtests: it builds root, scalable-mode
 * context, PASID directory and PASID tables and first- or second-stage I/O
 * page tables in guest memory, programs the remapping unit's registers and
 * reads back fault records, so tests can drive device DMA through the
 * emulated (or nested) VT-d exactly as a guest kernel would.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_VTD_GUEST_H
#define VNEST_TESTS_VTD_GUEST_H

#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-malloc.h"

/* PASID-table entry PGTT: how a PASID's requests are translated. */
typedef enum VtdPgtt {
    VTD_PGTT_FIRST_STAGE = 1,
    VTD_PGTT_SECOND_STAGE = 2,
    VTD_PGTT_PASS_THROUGH = 4,
} VtdPgtt;

#define VTD_PROT_READ   1
#define VTD_PROT_WRITE  2
#define VTD_PROT_RW     (VTD_PROT_READ | VTD_PROT_WRITE)

/* One decoded fault recording register. */
typedef struct VtdFault {
    uint16_t sid;        /* requester bus/dev/fn */
    uint8_t reason;      /* architected fault reason code */
    bool is_read;        /* T bit: the faulting request was a read */
    bool has_pasid;
    uint32_t pasid;
    uint64_t addr;       /* faulting page address */
} VtdFault;

typedef struct VtdGuest VtdGuest;
typedef struct VtdDomain VtdDomain;

VtdGuest *vtd_guest_new(QTestState *qts, QGuestAllocator *alloc,
                        uint64_t base);
void vtd_guest_free(VtdGuest *g);

uint64_t vtd_guest_readq(VtdGuest *g, uint64_t reg);
uint32_t vtd_guest_readl(VtdGuest *g, uint64_t reg);

/*
 * Point @sid's requests without PASID (RID_PASID 0) at a new domain of the
 * given type with empty 4-level I/O page tables, tagged @did.
 */
VtdDomain *vtd_guest_attach(VtdGuest *g, uint16_t sid, VtdPgtt pgtt,
                            uint16_t did);

/* Map [iova, iova + size) to [gpa, gpa + size) with 4 KiB pages. */
void vtd_domain_map(VtdDomain *d, uint64_t iova, uint64_t gpa,
                    uint64_t size, int prot);

/* Clear the 4 KiB leaf entries of [iova, iova + size). */
void vtd_domain_unmap(VtdDomain *d, uint64_t iova, uint64_t size);

/* Program the root table pointer (scalable mode) and enable translation. */
void vtd_guest_enable(VtdGuest *g);

/* Queued invalidation with 256-bit descriptors, as scalable mode wants. */
void vtd_guest_qi_enable(VtdGuest *g);
/*
 * PASID-based IOTLB invalidation of everything @did maps for @pasid, then
 * an invalidation wait.
 */
void vtd_guest_inv_pasid(VtdGuest *g, uint16_t did, uint32_t pasid);

/*
 * Pop the pending fault record, if any, clearing it so the next fault can
 * be recorded. Returns false when no fault is pending.
 */
bool vtd_guest_take_fault(VtdGuest *g, VtdFault *f);

#endif
