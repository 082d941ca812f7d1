/*
 * VNest qtest helpers: the guest's side of Intel VT-d in scalable mode
 *
 * Table formats follow the Intel VT-d specification (rev. 4+): 128-bit root
 * entries, 256-bit scalable-mode context entries, 64-bit PASID directory
 * entries, 512-bit PASID-table entries, 4-level first-stage (IA-32e format)
 * and second-stage page tables.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "vtd-guest.h"
#include "hw/i386/intel_iommu_internal.h"

#define PAGE_SIZE           4096ULL
#define PT_LEVELS           4               /* 48-bit input addresses */
#define PT_INDEX(iova, lvl) (((iova) >> (12 + 9 * ((lvl) - 1))) & 0x1ff)

/* Second-stage entry bits */
#define SS_R                (1ULL << 0)
#define SS_W                (1ULL << 1)
/* First-stage entry bits */
#define FS_P                (1ULL << 0)
#define FS_RW               (1ULL << 1)
#define FS_US               (1ULL << 2)

#define PE_AW_48BIT         (2ULL << 2)     /* 4-level table */
#define PE_PGTT_SHIFT       6
#define CTX_SM_SIZE         32              /* scalable context entry */
#define PASID_ENTRY_SIZE    64

#define WAIT_LOOPS          1000

#define QI_DESC_SIZE        32              /* 256-bit descriptors */
#define QI_ENTRIES          (4096 / QI_DESC_SIZE)
#define IQA_DW_256          (1ULL << 11)
#define DESC_PIOTLB         0x6
#define DESC_PIOTLB_PASID   (2ULL << 4)     /* all of one PASID */
#define DESC_WAIT           0x5
#define DESC_WAIT_SW        (1ULL << 5)
#define WAIT_DONE           0x600d

struct VtdGuest {
    QTestState *qts;
    QGuestAllocator *alloc;
    uint64_t base;                  /* remapping unit registers */
    uint64_t root;                  /* root table */
    uint64_t queue;                 /* invalidation queue, 0: none */
    uint64_t wait_status;           /* where wait descriptors write */
    uint64_t prq;                   /* page request queue, 0: none */
    uint64_t prq_size;
    unsigned tail;
    uint64_t ctx[256][2];           /* [bus][lower, upper] context tables */
    GList *domains;
};

struct VtdDomain {
    VtdGuest *g;
    VtdPgtt pgtt;
    uint64_t top;                   /* top-level I/O page table */
};

static uint64_t zalloc_page(VtdGuest *g)
{
    uint64_t gpa = guest_alloc(g->alloc, PAGE_SIZE);

    g_assert_cmphex(gpa & (PAGE_SIZE - 1), ==, 0);
    qtest_memset(g->qts, gpa, 0, PAGE_SIZE);
    return gpa;
}

uint64_t vtd_guest_readq(VtdGuest *g, uint64_t reg)
{
    return qtest_readq(g->qts, g->base + reg);
}

uint32_t vtd_guest_readl(VtdGuest *g, uint64_t reg)
{
    return qtest_readl(g->qts, g->base + reg);
}

void vtd_guest_writel(VtdGuest *g, uint64_t reg, uint32_t val)
{
    qtest_writel(g->qts, g->base + reg, val);
}

VtdGuest *vtd_guest_new(QTestState *qts, QGuestAllocator *alloc,
                        uint64_t base)
{
    VtdGuest *g = g_new0(VtdGuest, 1);

    g->qts = qts;
    g->alloc = alloc;
    g->base = base;
    g->root = zalloc_page(g);
    return g;
}

void vtd_guest_free(VtdGuest *g)
{
    g_list_free_full(g->domains, g_free);
    g_free(g);
}

/* The context entry slot for @sid, creating its context table if needed. */
static uint64_t context_entry_addr(VtdGuest *g, uint16_t sid)
{
    uint8_t bus = sid >> 8, devfn = sid & 0xff;
    int half = devfn >= 128;
    uint64_t re = g->root + bus * 16 + half * 8;

    if (!g->ctx[bus][half]) {
        g->ctx[bus][half] = zalloc_page(g);
        qtest_writeq(g->qts, re, g->ctx[bus][half] | VTD_ROOT_ENTRY_P);
    }
    return g->ctx[bus][half] + (devfn & 0x7f) * CTX_SM_SIZE;
}

/* The PASID-table entry of (@sid, @pasid), creating the tables on the way */
static uint64_t pasid_entry_addr(VtdGuest *g, uint16_t sid, uint32_t pasid)
{
    uint64_t ce = context_entry_addr(g, sid);
    uint64_t lo = qtest_readq(g->qts, ce);
    uint64_t dir, de, table;

    if (!(lo & VTD_CONTEXT_ENTRY_P)) {
        /* PDTS 7: 2^(7+7) directory entries, for every 20-bit PASID */
        dir = guest_alloc(g->alloc, 16 * PAGE_SIZE);
        g_assert_cmphex(dir & (PAGE_SIZE - 1), ==, 0);
        qtest_memset(g->qts, dir, 0, 16 * PAGE_SIZE);
        /* Scalable context entry: RID_PASID 0 */
        qtest_writeq(g->qts, ce + 8, 0);
        lo = dir | (7ULL << 9) | VTD_CONTEXT_ENTRY_P;
        qtest_writeq(g->qts, ce, lo);
    }
    dir = lo & VTD_PAGE_MASK_4K & ((1ULL << 52) - 1);
    de = dir + (pasid >> 6) * 8;
    table = qtest_readq(g->qts, de) & ~0xfffULL;
    if (!table) {
        table = zalloc_page(g);
        qtest_writeq(g->qts, de, table | VTD_PASID_ENTRY_P);
    }
    return table + (pasid & 63) * PASID_ENTRY_SIZE;
}

static void write_pasid_entry(VtdGuest *g, uint16_t sid, uint32_t pasid,
                              VtdPgtt pgtt, uint16_t did, uint64_t top)
{
    uint64_t pe = pasid_entry_addr(g, sid, pasid);
    uint64_t pe0;

    pe0 = VTD_PASID_ENTRY_P | PE_AW_48BIT | ((uint64_t)pgtt << PE_PGTT_SHIFT);
    if (pgtt == VTD_PGTT_SECOND_STAGE) {
        pe0 |= top;
    }
    qtest_memset(g->qts, pe, 0, PASID_ENTRY_SIZE);
    qtest_writeq(g->qts, pe + 8, did);
    if (pgtt == VTD_PGTT_FIRST_STAGE) {
        qtest_writeq(g->qts, pe + 16, top);         /* FSPM 0: 4 levels */
    }
    qtest_writeq(g->qts, pe, pe0);
}

VtdDomain *vtd_guest_attach_pasid(VtdGuest *g, uint16_t sid, uint32_t pasid,
                                  VtdPgtt pgtt, uint16_t did)
{
    VtdDomain *d = g_new0(VtdDomain, 1);

    d->g = g;
    d->pgtt = pgtt;
    g->domains = g_list_prepend(g->domains, d);
    if (pgtt != VTD_PGTT_PASS_THROUGH) {
        d->top = zalloc_page(g);
    }
    write_pasid_entry(g, sid, pasid, pgtt, did, d->top);
    return d;
}

VtdDomain *vtd_guest_domain(VtdGuest *g, VtdPgtt pgtt)
{
    VtdDomain *d = g_new0(VtdDomain, 1);

    g_assert(pgtt != VTD_PGTT_PASS_THROUGH);
    d->g = g;
    d->pgtt = pgtt;
    d->top = zalloc_page(g);
    g->domains = g_list_prepend(g->domains, d);
    return d;
}

uint64_t vtd_domain_top(VtdDomain *d)
{
    return d->top;
}

void vtd_guest_set_rid_pasid(VtdGuest *g, uint16_t sid, uint32_t pasid)
{
    uint64_t ce = context_entry_addr(g, sid);

    pasid_entry_addr(g, sid, pasid);        /* the context entry exists */
    qtest_writeq(g->qts, ce + 8, pasid);
}

VtdDomain *vtd_guest_attach(VtdGuest *g, uint16_t sid, VtdPgtt pgtt,
                            uint16_t did)
{
    return vtd_guest_attach_pasid(g, sid, 0, pgtt, did);
}

void vtd_guest_share(VtdGuest *g, uint16_t sid, uint32_t pasid,
                     VtdDomain *d, uint16_t did)
{
    write_pasid_entry(g, sid, pasid, d->pgtt, did, d->top);
}

void vtd_guest_set_pdts(VtdGuest *g, uint16_t sid, unsigned pdts)
{
    uint64_t ce = context_entry_addr(g, sid);
    uint64_t lo = qtest_readq(g->qts, ce);

    qtest_writeq(g->qts, ce, (lo & ~(7ULL << 9)) | ((uint64_t)pdts << 9));
}

void vtd_guest_clear_pasid(VtdGuest *g, uint16_t sid, uint32_t pasid)
{
    qtest_writeq(g->qts, pasid_entry_addr(g, sid, pasid), 0);
}

void vtd_guest_pasid_entry_raw(VtdGuest *g, uint16_t sid, uint32_t pasid,
                               const uint64_t val[8])
{
    uint64_t pe = pasid_entry_addr(g, sid, pasid);
    int i;

    qtest_writeq(g->qts, pe, 0);
    for (i = 7; i >= 0; i--) {
        qtest_writeq(g->qts, pe + i * 8, val[i]);
    }
}

static uint64_t table_entry(VtdDomain *d, uint64_t next)
{
    if (d->pgtt == VTD_PGTT_FIRST_STAGE) {
        return next | FS_P | FS_RW | FS_US;
    }
    return next | SS_R | SS_W;
}

static uint64_t leaf_entry(VtdDomain *d, uint64_t gpa, int prot)
{
    if (d->pgtt == VTD_PGTT_FIRST_STAGE) {
        /* First-stage pages are always readable when present. */
        return gpa | FS_P | FS_US | ((prot & VTD_PROT_WRITE) ? FS_RW : 0);
    }
    return gpa | ((prot & VTD_PROT_READ) ? SS_R : 0) |
           ((prot & VTD_PROT_WRITE) ? SS_W : 0);
}

static void map_page(VtdDomain *d, uint64_t iova, uint64_t gpa, int prot)
{
    QTestState *qts = d->g->qts;
    uint64_t table = d->top;
    int lvl;

    for (lvl = PT_LEVELS; lvl > 1; lvl--) {
        uint64_t slot = table + PT_INDEX(iova, lvl) * 8;
        uint64_t e = qtest_readq(qts, slot);

        if (!e) {
            e = table_entry(d, zalloc_page(d->g));
            qtest_writeq(qts, slot, e);
        }
        table = e & VTD_PAGE_MASK_4K & ((1ULL << 52) - 1);
    }
    qtest_writeq(qts, table + PT_INDEX(iova, 1) * 8, leaf_entry(d, gpa, prot));
}

/* The leaf slot of @iova, or 0 if a table on the way is missing. */
static uint64_t leaf_slot(VtdDomain *d, uint64_t iova)
{
    uint64_t table = d->top;
    int lvl;

    for (lvl = PT_LEVELS; lvl > 1; lvl--) {
        uint64_t e = qtest_readq(d->g->qts, table + PT_INDEX(iova, lvl) * 8);

        if (!e) {
            return 0;
        }
        table = e & VTD_PAGE_MASK_4K & ((1ULL << 52) - 1);
    }
    return table + PT_INDEX(iova, 1) * 8;
}

void vtd_domain_unmap(VtdDomain *d, uint64_t iova, uint64_t size)
{
    uint64_t off;

    for (off = 0; off < size; off += PAGE_SIZE) {
        uint64_t slot = leaf_slot(d, iova + off);

        if (slot) {
            qtest_writeq(d->g->qts, slot, 0);
        }
    }
}

void vtd_domain_map(VtdDomain *d, uint64_t iova, uint64_t gpa,
                    uint64_t size, int prot)
{
    uint64_t off;

    g_assert(d->pgtt != VTD_PGTT_PASS_THROUGH);
    g_assert_cmphex((iova | gpa | size) & (PAGE_SIZE - 1), ==, 0);
    for (off = 0; off < size; off += PAGE_SIZE) {
        map_page(d, iova + off, gpa + off, prot);
    }
}

static void wait_status(VtdGuest *g, uint32_t bit)
{
    int i;

    for (i = 0; i < WAIT_LOOPS; i++) {
        if (vtd_guest_readl(g, DMAR_GSTS_REG) & bit) {
            return;
        }
    }
    g_error("VT-d: GSTS bit 0x%" PRIx32 " never set", bit);
}

void vtd_guest_enable(VtdGuest *g)
{
    uint32_t sts;

    qtest_writeq(g->qts, g->base + DMAR_RTADDR_REG, g->root | VTD_RTADDR_SMT);
    sts = vtd_guest_readl(g, DMAR_GSTS_REG);
    vtd_guest_writel(g, DMAR_GCMD_REG, sts | VTD_GCMD_SRTP);
    wait_status(g, VTD_GSTS_RTPS);

    /* GCMD takes one command at a time on top of the current status. */
    sts = vtd_guest_readl(g, DMAR_GSTS_REG) & ~VTD_GSTS_RTPS;
    vtd_guest_writel(g, DMAR_GCMD_REG, sts | VTD_GCMD_TE);
    wait_status(g, VTD_GSTS_TES);
}

void vtd_guest_qi_enable(VtdGuest *g)
{
    uint32_t sts;

    g->queue = zalloc_page(g);
    g->wait_status = zalloc_page(g);
    g->tail = 0;
    qtest_writeq(g->qts, g->base + DMAR_IQT_REG, 0);
    qtest_writeq(g->qts, g->base + DMAR_IQA_REG, g->queue | IQA_DW_256);
    sts = vtd_guest_readl(g, DMAR_GSTS_REG) & ~VTD_GSTS_RTPS;
    vtd_guest_writel(g, DMAR_GCMD_REG, sts | VTD_GCMD_QIE);
    wait_status(g, VTD_GSTS_QIES);
}

void vtd_guest_qi_queue(VtdGuest *g, uint64_t lo, uint64_t hi)
{
    uint64_t slot = g->queue + g->tail * QI_DESC_SIZE;

    g_assert(g->queue);
    qtest_memset(g->qts, slot, 0, QI_DESC_SIZE);
    qtest_writeq(g->qts, slot, lo);
    qtest_writeq(g->qts, slot + 8, hi);
    g->tail = (g->tail + 1) % QI_ENTRIES;
}

void vtd_guest_qi_kick(VtdGuest *g)
{
    /* 256-bit descriptors: the tail register counts in 32-byte units */
    qtest_writeq(g->qts, g->base + DMAR_IQT_REG,
                 (uint64_t)g->tail * QI_DESC_SIZE);
}

bool vtd_guest_qi_sync(VtdGuest *g)
{
    int i;

    qtest_writel(g->qts, g->wait_status, 0);
    vtd_guest_qi_queue(g, DESC_WAIT | DESC_WAIT_SW |
                       ((uint64_t)WAIT_DONE << 32), g->wait_status);
    vtd_guest_qi_kick(g);
    for (i = 0; i < WAIT_LOOPS; i++) {
        if (qtest_readl(g->qts, g->wait_status) == WAIT_DONE) {
            return true;
        }
        if (vtd_guest_readl(g, DMAR_FSTS_REG) & VTD_FSTS_IQE) {
            return false;
        }
    }
    g_error("VT-d: invalidation wait never completed");
}

/* An invalidation wait that writes a status word, then poll for it. */
static void qi_wait(VtdGuest *g)
{
    g_assert_true(vtd_guest_qi_sync(g));
}

unsigned vtd_guest_qi_head(VtdGuest *g)
{
    return vtd_guest_readq(g, DMAR_IQH_REG) / QI_DESC_SIZE;
}

unsigned vtd_guest_qi_tail(VtdGuest *g)
{
    return g->tail;
}

void vtd_guest_qi_recover(VtdGuest *g)
{
    /* Skip the bad descriptor as a driver would, then clear IQE. */
    g->tail = vtd_guest_qi_head(g);
    qtest_writel(g->qts, g->base + DMAR_FSTS_REG, VTD_FSTS_IQE);
    vtd_guest_qi_kick(g);
}

uint64_t vtd_desc_pc(unsigned gran, uint16_t did, uint32_t pasid)
{
    return 0x7 | ((uint64_t)gran << 4) | ((uint64_t)did << 16) |
           ((uint64_t)pasid << 32);
}

uint64_t vtd_desc_piotlb(bool psi, uint16_t did, uint32_t pasid)
{
    return DESC_PIOTLB | (psi ? 3ULL << 4 : DESC_PIOTLB_PASID) |
           ((uint64_t)did << 16) | ((uint64_t)pasid << 32);
}

uint64_t vtd_desc_iotlb(unsigned gran, uint16_t did)
{
    return 0x2 | ((uint64_t)gran << 4) | ((uint64_t)did << 16);
}

void vtd_guest_inv_pasid(VtdGuest *g, uint16_t did, uint32_t pasid)
{
    vtd_guest_qi_queue(g, vtd_desc_piotlb(false, did, pasid), 0);
    qi_wait(g);
}

void vtd_guest_inv_pasid_cache(VtdGuest *g, uint16_t did, uint32_t pasid)
{
    vtd_guest_qi_queue(g, vtd_desc_pc(1, did, pasid), 0);
    qi_wait(g);
}

bool vtd_guest_take_fault(VtdGuest *g, VtdFault *f)
{
    uint64_t cap = vtd_guest_readq(g, DMAR_CAP_REG);
    uint64_t fro = ((cap >> 24) & 0x3ff) * 16;
    uint32_t fsts = vtd_guest_readl(g, DMAR_FSTS_REG);
    uint64_t rec, lo, hi;

    if (!(fsts & VTD_FSTS_PPF)) {
        return false;
    }
    rec = fro + ((fsts & VTD_FSTS_FRI_MASK) >> 8) * 16;
    lo = vtd_guest_readq(g, rec);
    hi = vtd_guest_readq(g, rec + 8);
    g_assert(hi & VTD_FRCD_F);

    f->sid = hi & 0xffff;
    f->reason = (hi >> 32) & 0xff;
    f->is_read = !!(hi & VTD_FRCD_T);
    f->has_pasid = !!(hi & (1ULL << 31));
    f->pasid = (hi >> 40) & 0xfffff;
    f->addr = lo & ~0xfffULL;

    /* F is write-1-to-clear; clearing the last one clears FSTS.PPF. */
    qtest_writeq(g->qts, g->base + rec + 8, VTD_FRCD_F);
    g_assert_false(vtd_guest_readl(g, DMAR_FSTS_REG) & VTD_FSTS_PPF);
    return true;
}

/* Scalable-mode context entry, bit 4: Page Request Enable */
#define CTX_SM_PRE          (1ULL << 4)
#define PRQ_DESC_SIZE       32
#define DESC_PGRP           0x9ULL

void vtd_guest_set_pre(VtdGuest *g, uint16_t sid, bool pre)
{
    uint64_t ce = context_entry_addr(g, sid);
    uint64_t lo = qtest_readq(g->qts, ce);

    g_assert(lo & VTD_CONTEXT_ENTRY_P);
    lo = pre ? lo | CTX_SM_PRE : lo & ~CTX_SM_PRE;
    qtest_writeq(g->qts, ce, lo);
}

void vtd_guest_prq_enable(VtdGuest *g, unsigned pqs, uint32_t msi_addr,
                          uint32_t msi_data)
{
    g->prq_size = PAGE_SIZE << pqs;
    g->prq = guest_alloc(g->alloc, g->prq_size);
    g_assert_cmphex(g->prq & (PAGE_SIZE - 1), ==, 0);
    qtest_memset(g->qts, g->prq, 0, g->prq_size);
    qtest_writeq(g->qts, g->base + DMAR_PQH_REG, 0);
    qtest_writeq(g->qts, g->base + DMAR_PQT_REG, 0);
    qtest_writeq(g->qts, g->base + DMAR_PQA_REG, g->prq | pqs);
    vtd_guest_writel(g, DMAR_PEDATA_REG, msi_data);
    vtd_guest_writel(g, DMAR_PEADDR_REG, msi_addr);
    vtd_guest_writel(g, DMAR_PECTL_REG, 0);
}

unsigned vtd_guest_prq_pending(VtdGuest *g)
{
    uint64_t head = vtd_guest_readq(g, DMAR_PQH_REG);
    uint64_t tail = vtd_guest_readq(g, DMAR_PQT_REG);

    g_assert(g->prq);
    return ((tail + g->prq_size - head) % g->prq_size) / PRQ_DESC_SIZE;
}

bool vtd_guest_prq_take(VtdGuest *g, VtdPageReq *r)
{
    uint64_t head = vtd_guest_readq(g, DMAR_PQH_REG);
    uint64_t q[4];
    int i;

    if (!vtd_guest_prq_pending(g)) {
        return false;
    }
    for (i = 0; i < 4; i++) {
        q[i] = qtest_readq(g->qts, g->prq + head + i * 8);
    }
    r->type = q[0] & 0xff;
    r->has_pasid = !!(q[0] & (1ULL << 8));
    r->sid = (q[0] >> 16) & 0xffff;
    r->pasid = (q[0] >> 32) & 0xfffff;
    r->exe = !!(q[0] & (1ULL << 52));
    r->priv = !!(q[0] & (1ULL << 53));
    r->rd = !!(q[1] & 1);
    r->wr = !!(q[1] & 2);
    r->lpig = !!(q[1] & 4);
    r->prgi = (q[1] >> 3) & 0x1ff;
    r->addr = q[1] & ~0xfffULL;
    r->priv_data[0] = q[2];
    r->priv_data[1] = q[3];
    qtest_writeq(g->qts, g->base + DMAR_PQH_REG,
                 (head + PRQ_DESC_SIZE) % g->prq_size);
    return true;
}

uint64_t vtd_desc_pgrp(uint16_t sid, bool has_pasid, uint32_t pasid,
                       unsigned code)
{
    return DESC_PGRP | (has_pasid ? 1ULL << 4 : 0) |
           ((uint64_t)(code & 0xf) << 12) | ((uint64_t)sid << 16) |
           (has_pasid ? (uint64_t)pasid << 32 : 0);
}

void vtd_guest_page_response(VtdGuest *g, const VtdPageReq *r,
                             unsigned code)
{
    vtd_guest_qi_queue(g, vtd_desc_pgrp(r->sid, r->has_pasid, r->pasid,
                                        code), (uint64_t)r->prgi << 3);
    qi_wait(g);
}
