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

/*
 * Point PASID @pasid of @sid at a new domain (first stage, second stage
 * or pass-through) tagged @did. Creates the context entry (RID_PASID 0,
 * a directory for 20-bit PASIDs) and PASID table on first use.
 */
VtdDomain *vtd_guest_attach_pasid(VtdGuest *g, uint16_t sid, uint32_t pasid,
                                  VtdPgtt pgtt, uint16_t did);
/*
 * A domain with its own (empty) top-level table, attached to nothing:
 * for tables a test programs into PASID entries itself (nesting).
 */
VtdDomain *vtd_guest_domain(VtdGuest *g, VtdPgtt pgtt);
/* Guest-physical address of the domain's top-level table. */
uint64_t vtd_domain_top(VtdDomain *d);
/*
 * Set the RID_PASID of @sid's scalable-mode context entry: its requests
 * without PASID are translated by PASID entry @pasid.
 */
void vtd_guest_set_rid_pasid(VtdGuest *g, uint16_t sid, uint32_t pasid);
/* Point (@sid, @pasid) at @d's tables too, tagged @did. */
void vtd_guest_share(VtdGuest *g, uint16_t sid, uint32_t pasid,
                     VtdDomain *d, uint16_t did);
/* Shrink the context's PASID directory: 2^(pdts + 7) entries. */
void vtd_guest_set_pdts(VtdGuest *g, uint16_t sid, unsigned pdts);
/* Clear the PASID entry's present bit. */
void vtd_guest_clear_pasid(VtdGuest *g, uint16_t sid, uint32_t pasid);
/* Write a PASID entry as given (the 512 bits, qword 0 last). */
void vtd_guest_pasid_entry_raw(VtdGuest *g, uint16_t sid, uint32_t pasid,
                               const uint64_t val[8]);

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
 * The invalidation queue, descriptor by descriptor: queue writes a
 * descriptor without telling the hardware; kick writes the tail register
 * (one submission); sync adds a wait descriptor, kicks and polls it, and
 * returns false if the hardware stopped with an invalidation queue error.
 */
void vtd_guest_qi_queue(VtdGuest *g, uint64_t lo, uint64_t hi);
void vtd_guest_qi_kick(VtdGuest *g);
bool vtd_guest_qi_sync(VtdGuest *g);
unsigned vtd_guest_qi_head(VtdGuest *g);
unsigned vtd_guest_qi_tail(VtdGuest *g);
/* After an IQE: drop what is queued from the head on and clear IQE. */
void vtd_guest_qi_recover(VtdGuest *g);
/* PASID-selective PASID-cache invalidation, then a wait. */
void vtd_guest_inv_pasid_cache(VtdGuest *g, uint16_t did, uint32_t pasid);

/* Descriptor low qwords: PASID cache (gran 0 domain, 1 PASID, 3 global) */
uint64_t vtd_desc_pc(unsigned gran, uint16_t did, uint32_t pasid);
/* PASID-based IOTLB: all of a PASID, or page-selective (hi: addr|IH|AM) */
uint64_t vtd_desc_piotlb(bool psi, uint16_t did, uint32_t pasid);
/* IOTLB: gran 1 global, 2 domain, 3 page (hi: addr|IH|AM) */
uint64_t vtd_desc_iotlb(unsigned gran, uint16_t did);

/*
 * Pop the pending fault record, if any, clearing it so the next fault can
 * be recorded. Returns false when no fault is pending.
 */
bool vtd_guest_take_fault(VtdGuest *g, VtdFault *f);

void vtd_guest_writel(VtdGuest *g, uint64_t reg, uint32_t val);

/*
 * Page requests (ECAP.PRS). The context entry's Page Request Enable
 * (scalable mode, bit 4: Linux context_set_sm_pre()); the context entry
 * must exist (attach a PASID first).
 */
void vtd_guest_set_pre(VtdGuest *g, uint16_t sid, bool pre);

/* One decoded page request descriptor (spec 7.5.1.1). */
typedef struct VtdPageReq {
    uint8_t type;
    uint16_t sid;
    bool has_pasid;
    uint32_t pasid;
    bool exe, priv;
    bool rd, wr;
    bool lpig;
    uint16_t prgi;
    uint64_t addr;
    uint64_t priv_data[2];
} VtdPageReq;

/*
 * A page request queue of 2^@pqs pages (PQA), empty (PQH = PQT = 0), the
 * event interrupt unmasked towards @msi_addr/@msi_data (PEADDR/PEDATA).
 */
void vtd_guest_prq_enable(VtdGuest *g, unsigned pqs, uint32_t msi_addr,
                          uint32_t msi_data);
/* Descriptors between PQH and PQT. */
unsigned vtd_guest_prq_pending(VtdGuest *g);
/* Read the descriptor at PQH and advance PQH past it; false: empty. */
bool vtd_guest_prq_take(VtdGuest *g, VtdPageReq *r);
/* The page group response descriptor's low qword (spec 6.5.2.15). */
uint64_t vtd_desc_pgrp(uint16_t sid, bool has_pasid, uint32_t pasid,
                       unsigned code);
/* Answer group @prgi of @r's requester with @code, then a wait. */
void vtd_guest_page_response(VtdGuest *g, const VtdPageReq *r,
                             unsigned code);

#endif
