/*
 * VNest: intel-iommu nested translation for emulated devices (x-nested=on)
 *
 * A scalable-mode PASID entry with PGTT=011b (nested) translates a
 * request's address with the first-stage tables FSPTPTR names, and every
 * address the first stage produces -- each first-stage table it reads or
 * updates, and the final output address -- with the second-stage tables
 * SSPTPTR names (Intel VT-d specification 3.8, "Nested Translation").
 * PGTT=001b (first stage only) takes the same first-stage walk over
 * guest physical memory.
 *
 * The first-stage walk is the emulated host's (vtd-fs-walk.c): this file
 * gives it the memory its tables live in. The second-stage walk (spec
 * 9.8 entry format) is here: QEMU's own vtd_iova_to_slpte() reads the
 * PASID entry itself and reports the legacy fault reasons, where a nested
 * walk must report the scalable-mode ones of the stage and the access
 * that failed (spec 7.1.3; the kernel's dma_remap_sm_fault_reasons[]):
 *
 *   0x74 SFS.5  an address the first stage produced is beyond the second
 *               stage's input width (the PASID entry's AW)
 *   0x75 SFS.6  the second stage gives no read access to the table
 *               FSPTPTR names
 *   0x76 SFS.7  ... no read access to a lower first-stage table
 *   0x77 SFS.8  ... no write access to a first-stage entry whose A/D
 *               flags must be set
 *   0x78 SSS.1  reading a second-stage entry failed
 *   0x79 SSS.2  a second-stage entry with R and W clear (not present)
 *   0x7a SSS.3  a reserved bit set in a second-stage entry
 *   0x7b SSS.4  reading the table SSPTPTR names failed
 *   0x85, 0x86  the final address: no write (read) permission, in the
 *               first stage or the second
 *
 * The fault record holds the request's address whichever stage faulted
 * (FRCD.FI is the page address of the faulted request).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "exec/address-spaces.h"
#include "system/dma.h"
#include "hw/i386/intel_iommu.h"
#include "hw/i386/intel_iommu_internal.h"
#include "vnest/vtd-nested.h"
#include "vtd-fs-walk.h"
#include "trace.h"

/* Scalable-mode PASID entry fields (VT-d spec 9.6) */
#define PE0_AW(pe)              (((pe)->val[0] >> 2) & 7)
#define PE0_PGTT(pe)            ((pe)->val[0] & VTD_SM_PASID_ENTRY_PGTT)
#define PE0_SSPTPTR(pe)         ((pe)->val[0] & ~0xfffULL)
#define PE2_FSPM(pe)            (((pe)->val[2] >> 2) & 3)
#define PE2_EAFE                (1ULL << 7)
#define PE2_FSPTPTR(pe)         ((pe)->val[2] & ~0xfffULL)

/* Scalable-mode fault reasons of the second stage and of nesting */
#define FR_PE_RESERVED          0x5a    /* SPT.3: reserved field in entry */
#define FR_PE_INVALID           0x5b    /* SPT.4: invalid programming */
#define FR_FS_ADDR_WIDTH        0x74
#define FR_FS_ROOT_NO_READ      0x75
#define FR_FS_TABLE_NO_READ     0x76
#define FR_FS_NO_WRITE          0x77
#define FR_SS_ENTRY_ACCESS      0x78
#define FR_SS_NOT_PRESENT       0x79
#define FR_SS_RESERVED          0x7a
#define FR_SS_PTPTR             0x7b

/* Second-stage paging entries (VT-d spec 9.8) */
#define SS_R                    (1ULL << 0)
#define SS_W                    (1ULL << 1)
#define SS_PS                   (1ULL << 7)
#define SS_SNP                  (1ULL << 11)
#define SS_TM                   (1ULL << 62)
#define SS_ADDR_MASK            0x000ffffffffff000ULL
#define SS_2M_RSVD              0x001ff000ULL   /* 2 MiB leaf: 20:12 */
#define SS_1G_RSVD              0x3ffff000ULL   /* 1 GiB leaf: 29:12 */

#define LEVEL_SHIFT(l)          (12 + 9 * ((l) - 1))
#define FS_WIDTH_4LEVEL         48
#define FS_OAS_NESTED           52      /* the second stage checks range */

/* What a second-stage translation is for: decides the fault reason. */
typedef enum S2Use {
    S2_FS_ROOT,                 /* read the table FSPTPTR names */
    S2_FS_TABLE,                /* read a lower first-stage table */
    S2_FS_UPDATE,               /* set A/D in a first-stage entry */
    S2_FINAL,                   /* the request's own access */
} S2Use;

/* One request's translation: the PASID entry's two stages. */
typedef struct Nest {
    IntelIOMMUState *s;
    bool nested;                /* PGTT=nested; else first stage only */
    uint64_t ssptptr;
    unsigned s2_levels;         /* 3, 4 (or 5) */
    unsigned s2_width;          /* input width: 39, 48 (or 57) */
} Nest;

typedef struct S2Result {
    uint64_t out;               /* output address */
    uint64_t size;              /* leaf size */
    unsigned prot;              /* VTD_FS_READ | VTD_FS_WRITE */
} S2Result;

/* Reserved bits of a second-stage entry at @level (SSPTE..SSPML5E). */
static uint64_t s2_rsvd_mask(IntelIOMMUState *s, uint64_t ent,
                             unsigned level)
{
    uint64_t rsvd = SS_ADDR_MASK & ~((1ULL << s->aw_bits) - 1);

    if (!s->stale_tm) {
        rsvd |= SS_TM;
    }
    if (!s->snoop_control) {
        rsvd |= SS_SNP;
    }
    if (level > 3) {
        return rsvd | SS_PS;
    }
    if (level == 3 && (ent & SS_PS)) {
        return rsvd | SS_1G_RSVD;
    }
    if (level == 2 && (ent & SS_PS)) {
        return rsvd | SS_2M_RSVD;
    }
    return rsvd;
}

static bool s2_leaf(uint64_t ent, unsigned level)
{
    return level == 1 || ((level == 2 || level == 3) && (ent & SS_PS));
}

/* The fault reason for a second-stage leaf that lacks @need for @use. */
static unsigned s2_perm_fault(S2Use use, unsigned need)
{
    switch (use) {
    case S2_FS_ROOT:
        return FR_FS_ROOT_NO_READ;
    case S2_FS_TABLE:
        return FR_FS_TABLE_NO_READ;
    case S2_FS_UPDATE:
        return FR_FS_NO_WRITE;
    default:
        return need & VTD_FS_WRITE ? VTD_FS_FR_WRITE : VTD_FS_FR_READ;
    }
}

/*
 * Translate @gpa through the second stage for @use, which needs @need
 * (VTD_FS_*): 0 with @r filled, or the fault reason. Permissions are the
 * intersection of R and W over every level.
 */
static unsigned s2_translate(const Nest *n, uint64_t gpa, S2Use use,
                             unsigned need, S2Result *r)
{
    uint64_t table = n->ssptptr, ent = 0;
    unsigned level, prot = VTD_FS_READ | VTD_FS_WRITE;

    if (gpa >> n->s2_width) {
        return FR_FS_ADDR_WIDTH;
    }
    for (level = n->s2_levels; ; level--) {
        uint64_t idx = (gpa >> LEVEL_SHIFT(level)) & 0x1ff;

        if (dma_memory_read(&address_space_memory, table + idx * 8, &ent,
                            sizeof(ent), MEMTXATTRS_UNSPECIFIED)) {
            return level == n->s2_levels ? FR_SS_PTPTR : FR_SS_ENTRY_ACCESS;
        }
        ent = le64_to_cpu(ent);
        if (!(ent & (SS_R | SS_W))) {
            return FR_SS_NOT_PRESENT;
        }
        if (ent & s2_rsvd_mask(n->s, ent, level)) {
            return FR_SS_RESERVED;
        }
        prot &= ((ent & SS_R) ? VTD_FS_READ : 0) |
                ((ent & SS_W) ? VTD_FS_WRITE : 0);
        if (s2_leaf(ent, level)) {
            break;
        }
        table = ent & SS_ADDR_MASK;
    }
    if ((prot & need) != need) {
        return s2_perm_fault(use, need);
    }
    r->size = 1ULL << LEVEL_SHIFT(level);
    r->out = (ent & SS_ADDR_MASK & ~(r->size - 1)) | (gpa & (r->size - 1));
    r->prot = prot;
    return 0;
}

/* Where a first-stage table access goes: through the second stage. */
static unsigned nest_table_addr(const Nest *n, uint64_t gpa, S2Use use,
                                unsigned need, uint64_t *addr)
{
    S2Result r;
    unsigned fr;

    if (!n->nested) {
        *addr = gpa;
        return 0;
    }
    fr = s2_translate(n, gpa, use, need, &r);
    if (!fr) {
        *addr = r.out;
    }
    return fr;
}

static unsigned nest_read(void *opaque, uint64_t gpa, VtdFsAccess kind,
                          uint64_t *ent)
{
    const Nest *n = opaque;
    S2Use use = kind == VTD_FS_FETCH_ROOT ? S2_FS_ROOT : S2_FS_TABLE;
    uint64_t addr;
    unsigned fr = nest_table_addr(n, gpa, use, VTD_FS_READ, &addr);

    if (fr) {
        return fr;
    }
    if (dma_memory_read(&address_space_memory, addr, ent, sizeof(*ent),
                        MEMTXATTRS_UNSPECIFIED)) {
        return use == S2_FS_ROOT ? VTD_FS_FR_PTPTR : VTD_FS_FR_ENTRY_ACCESS;
    }
    *ent = le64_to_cpu(*ent);
    return 0;
}

/* Set A/D (EA) as hardware does: a locked compare-and-swap in RAM. */
static unsigned nest_update(void *opaque, uint64_t gpa, uint64_t old,
                            uint64_t new)
{
    const Nest *n = opaque;
    hwaddr len = sizeof(uint64_t);
    uint64_t addr, *slot, seen;
    unsigned fr = nest_table_addr(n, gpa, S2_FS_UPDATE, VTD_FS_WRITE, &addr);

    if (fr) {
        return fr;
    }
    slot = address_space_map(&address_space_memory, addr, &len, true,
                             MEMTXATTRS_UNSPECIFIED);
    if (!slot || len < sizeof(uint64_t) || !QEMU_IS_ALIGNED(addr, 8)) {
        if (slot) {
            address_space_unmap(&address_space_memory, slot, len, true, 0);
        }
        return VTD_FS_FR_AD_UPDATE;
    }
    seen = qatomic_cmpxchg__nocheck(slot, cpu_to_le64(old),
                                    cpu_to_le64(new));
    address_space_unmap(&address_space_memory, slot, len, true,
                        seen == cpu_to_le64(old) ? len : 0);
    return seen == cpu_to_le64(old) ? 0 : VTD_FS_CHANGED;
}

static const VtdFsWalkOps nest_walk_ops = {
    .read = nest_read,
    .update = nest_update,
    /* No paging-structure cache: the IOTLB holds combined leaves only. */
};

/*
 * The PASID entry's fields this translation takes, checked (a reserved
 * value is SPT.3, an unsupported one SPT.4): FSPM 4-level only (no
 * CAP.FS5LP), EAFE only with ECAP.EAFS (not offered), a second-stage
 * AW that CAP.SAGAW offers.
 */
static unsigned nest_setup(IntelIOMMUState *s, const VTDPASIDEntry *pe,
                           Nest *n, VtdFsConfig *cfg)
{
    unsigned aw = PE0_AW(pe);

    memset(n, 0, sizeof(*n));
    n->s = s;
    n->nested = PE0_PGTT(pe) == VTD_SM_PASID_ENTRY_NESTED;
    if (PE2_FSPM(pe) > 1 || (pe->val[2] & PE2_EAFE)) {
        return FR_PE_RESERVED;
    }
    if (PE2_FSPM(pe)) {
        return FR_PE_INVALID;
    }
    *cfg = (VtdFsConfig) {
        .fsptptr = PE2_FSPTPTR(pe),
        .width = FS_WIDTH_4LEVEL,
        .oas = n->nested ? FS_OAS_NESTED : s->aw_bits,
        .fs1gp = s->cap & VTD_CAP_FS1GP,
    };
    if (!n->nested) {
        return 0;
    }
    if (aw < 1 || aw > 3 ||
        !(s->cap & (1ULL << (VTD_CAP_SAGAW_SHIFT + aw)))) {
        return FR_PE_INVALID;
    }
    n->ssptptr = PE0_SSPTPTR(pe);
    n->s2_levels = 2 + aw;
    n->s2_width = 30 + 9 * aw;
    return 0;
}

/* The stage-1 result through the second stage: the combined leaf. */
static unsigned nest_final(const Nest *n, const VtdFsResult *fs,
                           unsigned access, S2Result *r)
{
    unsigned fr;

    if (!n->nested) {
        *r = (S2Result) { .out = fs->out, .size = fs->size,
                          .prot = fs->prot };
        return 0;
    }
    fr = s2_translate(n, fs->out, S2_FINAL, access, r);
    if (fr) {
        return fr;
    }
    r->prot &= fs->prot;
    r->size = MIN(r->size, fs->size);
    return 0;
}

bool vnest_vtd_nested_translate(IntelIOMMUState *s, const VTDPASIDEntry *pe,
                                uint16_t sid, uint32_t pasid, uint64_t addr,
                                bool is_write, uint64_t *pte, uint32_t *level,
                                bool *reads, bool *writes, int *ret_fr)
{
    unsigned access = is_write ? VTD_FS_WRITE : VTD_FS_READ;
    VtdFsConfig cfg;
    VtdFsResult fs;
    S2Result r;
    Nest n;
    unsigned fr;

    if (PE0_PGTT(pe) != VTD_SM_PASID_ENTRY_NESTED &&
        PE0_PGTT(pe) != VTD_SM_PASID_ENTRY_FLT) {
        return false;
    }
    fr = nest_setup(s, pe, &n, &cfg);
    if (!fr) {
        fr = vtd_fs_walk(&cfg, &nest_walk_ops, &n, addr, is_write, &fs);
    }
    if (!fr) {
        fr = vtd_fs_access_fault(&fs, access);
    }
    if (!fr) {
        fr = nest_final(&n, &fs, access, &r);
    }
    if (fr) {
        trace_vnest_vtd_nested_fault(sid, pasid, addr, is_write, n.nested,
                                     fr);
        *ret_fr = -(int)fr;
        return true;
    }
    *pte = r.out & ~(r.size - 1);
    *level = (ctz64(r.size) - 12) / 9 + 1;
    *reads = r.prot & VTD_FS_READ;
    *writes = r.prot & VTD_FS_WRITE;
    *ret_fr = 0;
    trace_vnest_vtd_nested_xlate(sid, pasid, addr, n.nested, fs.out, *pte,
                                 r.size, r.prot);
    return true;
}

bool vnest_vtd_iotlb_usable(IntelIOMMUState *s, const VTDIOTLBEntry *e,
                            bool is_write)
{
    if (!is_write || (e->access_flags & IOMMU_WO) ||
        !vnest_vtd_nested_on(s)) {
        return true;
    }
    return e->pgtt != VTD_SM_PASID_ENTRY_NESTED &&
           e->pgtt != VTD_SM_PASID_ENTRY_FLT;
}
