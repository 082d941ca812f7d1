/*
 * VNest: the VT-d first-stage walk (IA-32e paging, 4 or 5 levels)
 *
 * Written from the Intel VT-d architecture specification, 9.7 (first-
 * stage paging entries) and 3.6 (first-stage translation): see
 * vtd-fs-walk.h for who calls it and what the caller provides.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>
#include "vtd-fs-walk.h"

#define FS_P                    (1ULL << 0)
#define FS_RW                   (1ULL << 1)
#define FS_US                   (1ULL << 2)
#define FS_A                    (1ULL << 5)
#define FS_D                    (1ULL << 6)
#define FS_PS                   (1ULL << 7)     /* large page (PDPE/PDE) */
#define FS_EA                   (1ULL << 10)    /* extended accessed */
#define FS_ADDR_MASK            0x000ffffffffff000ULL   /* bits 51:12 */
#define FS_ADDR_BITS            52
#define FS_1G_RSVD              0x3fffe000ULL   /* 1 GiB leaf: bits 29:13 */
#define FS_2M_RSVD              0x001fe000ULL   /* 2 MiB leaf: bits 20:13 */

#define FS_PAGE_SHIFT           12
#define FS_LEVEL_BITS           9
#define FS_LEVEL_ENTRIES        (1u << FS_LEVEL_BITS)
#define FS_ENTRY_SIZE           8
#define FS_WIDTH_5LEVEL         57
#define FS_LEVEL_PT             1       /* 4 KiB leaves */
#define FS_LEVEL_PD             2       /* PDE: 2 MiB with PS */
#define FS_LEVEL_PDP            3       /* PDPE: 1 GiB with PS */

/* What one walk carries from level to level. */
typedef struct FsWalk {
    const VtdFsConfig *cfg;
    const VtdFsWalkOps *ops;
    void *opaque;
    uint64_t iova;
    bool write;
    unsigned top;               /* 4 or 5 */
    uint64_t rsvd_addr;         /* output-address bits above cfg->oas */
    bool user;                  /* U/S set in every entry so far */
    bool writable;              /* R/W set in every entry so far */
} FsWalk;

static unsigned fs_level_shift(unsigned level)
{
    return FS_PAGE_SHIFT + FS_LEVEL_BITS * (level - 1);
}

static uint64_t fs_index(uint64_t iova, unsigned level)
{
    return (iova >> fs_level_shift(level)) & (FS_LEVEL_ENTRIES - 1);
}

/* Bits 63:width-1 all equal: the sign extension of the top input bit. */
static bool fs_canonical(uint64_t iova, unsigned width)
{
    unsigned unused = 64 - width;

    return (uint64_t)((int64_t)(iova << unused) >> unused) == iova;
}

static bool fs_is_leaf(uint64_t ent, unsigned level)
{
    if (level == FS_LEVEL_PT) {
        return true;
    }
    return (level == FS_LEVEL_PD || level == FS_LEVEL_PDP) && (ent & FS_PS);
}

/*
 * Reserved bits of a present entry: output-address bits above the output
 * width everywhere; PS in PML5E/PML4E, and in a PDPE without FS1GP; the
 * bits between PAT and the page address in a large leaf. Bits 62:52 and
 * 11:8 are ignored, bit 63 is XD (no execute requests are modelled).
 */
static uint64_t fs_rsvd_mask(const FsWalk *fw, uint64_t ent, unsigned level)
{
    uint64_t rsvd = fw->rsvd_addr;

    if (level > FS_LEVEL_PDP || (level == FS_LEVEL_PDP && !fw->cfg->fs1gp)) {
        return rsvd | FS_PS;
    }
    if (level == FS_LEVEL_PDP && (ent & FS_PS)) {
        return rsvd | FS_1G_RSVD;
    }
    if (level == FS_LEVEL_PD && (ent & FS_PS)) {
        return rsvd | FS_2M_RSVD;
    }
    return rsvd;
}

/*
 * The flags hardware sets in an entry it uses: A (and EA with EAFE) in
 * every one; D in the leaf of a write that the permissions allow.
 */
static uint64_t fs_flags_to_set(const FsWalk *fw, uint64_t ent,
                                unsigned level)
{
    uint64_t set = FS_A;

    if (fw->cfg->eafe) {
        set |= FS_EA;
    }
    if (fs_is_leaf(ent, level) && fw->write && fw->user && (ent & FS_US) &&
        fw->writable && (ent & FS_RW)) {
        set |= FS_D;
    }
    return set;
}

/* P and the reserved bits of a fetched entry: 0 or the fault reason. */
static unsigned fs_check_entry(const FsWalk *fw, uint64_t ent,
                               unsigned level)
{
    if (!(ent & FS_P)) {
        return VTD_FS_FR_NOT_PRESENT;
    }
    if (ent & fs_rsvd_mask(fw, ent, level)) {
        return VTD_FS_FR_RESERVED;
    }
    return 0;
}

/*
 * Fetch, check and mark used the entry for the input address in the
 * table at @table. If the entry changes between the read and the flag
 * update, the hardware's compare-and-swap fails and the entry is
 * evaluated afresh.
 */
static unsigned fs_step(FsWalk *fw, uint64_t table, unsigned level,
                        uint64_t *out)
{
    uint64_t gpa = table + fs_index(fw->iova, level) * FS_ENTRY_SIZE;
    VtdFsAccess kind = level == fw->top ? VTD_FS_FETCH_ROOT : VTD_FS_FETCH;
    uint64_t ent, set;
    unsigned fr;

    do {
        fr = fw->ops->read(fw->opaque, gpa, kind, &ent);
        if (!fr) {
            fr = fs_check_entry(fw, ent, level);
        }
        if (fr) {
            return fr;
        }
        set = fs_flags_to_set(fw, ent, level);
        fr = (ent & set) == set ? 0 :
             fw->ops->update(fw->opaque, gpa, ent, ent | set);
    } while (fr == VTD_FS_CHANGED);
    *out = ent | set;
    return fr;
}

/*
 * Permissions of the translation for a user-mode request: nothing unless
 * U/S is set at every level; write if R/W is set at every level and the
 * leaf is dirty. A clean leaf is read-only to a cache: the first write
 * walks again and sets D.
 */
static unsigned fs_prot(const FsWalk *fw, uint64_t leaf)
{
    if (!fw->user) {
        return 0;
    }
    if (fw->writable && (leaf & FS_D)) {
        return VTD_FS_READ | VTD_FS_WRITE;
    }
    return VTD_FS_READ;
}

/*
 * Where the walk starts: below the deepest paging-structure entry cached
 * for the address, else at the root. Returns the level to fetch next.
 */
static unsigned fs_walk_start(FsWalk *fw, uint64_t *table)
{
    unsigned level, attr;

    if (fw->ops->psc_lookup &&
        fw->ops->psc_lookup(fw->opaque, fw->iova, &level, table, &attr)) {
        fw->user = attr & VTD_FS_PSC_USER;
        fw->writable = attr & VTD_FS_PSC_WRITABLE;
        return level - 1;
    }
    *table = fw->cfg->fsptptr;
    return fw->top;
}

static void fs_psc_insert(FsWalk *fw, unsigned level, uint64_t table)
{
    if (fw->ops->psc_insert) {
        fw->ops->psc_insert(fw->opaque, fw->iova, level, table,
                            (fw->user ? VTD_FS_PSC_USER : 0) |
                            (fw->writable ? VTD_FS_PSC_WRITABLE : 0));
    }
}

unsigned vtd_fs_walk(const VtdFsConfig *cfg, const VtdFsWalkOps *ops,
                     void *opaque, uint64_t iova, bool write,
                     VtdFsResult *res)
{
    FsWalk fw = {
        .cfg = cfg, .ops = ops, .opaque = opaque, .iova = iova,
        .write = write, .user = true, .writable = true,
        .top = cfg->width == FS_WIDTH_5LEVEL ? 5 : 4,
    };
    uint64_t table, ent = 0;
    unsigned level, fr;

    memset(res, 0, sizeof(*res));
    if (cfg->oas < FS_ADDR_BITS) {
        fw.rsvd_addr = FS_ADDR_MASK & ~((1ULL << cfg->oas) - 1);
    }
    res->level = fw.top;
    if (!fs_canonical(iova, cfg->width)) {
        return VTD_FS_FR_NON_CANONICAL;
    }
    for (level = fs_walk_start(&fw, &table); ; level--) {
        fr = fs_step(&fw, table, level, &ent);
        if (fr) {
            res->level = level;
            return fr;
        }
        fw.user = fw.user && (ent & FS_US);
        fw.writable = fw.writable && (ent & FS_RW);
        if (fs_is_leaf(ent, level)) {
            break;
        }
        table = ent & FS_ADDR_MASK;
        fs_psc_insert(&fw, level, table);
    }
    res->level = level;
    res->size = 1ULL << fs_level_shift(level);
    res->out = (ent & FS_ADDR_MASK & ~(res->size - 1)) |
               (iova & (res->size - 1));
    res->prot = fs_prot(&fw, ent);
    res->user = fw.user;
    return 0;
}

unsigned vtd_fs_access_fault(const VtdFsResult *res, unsigned access)
{
    if ((res->prot & access) == access) {
        return 0;
    }
    return res->user ? VTD_FS_FR_WRITE : VTD_FS_FR_PRIVILEGE;
}

const char *vtd_fs_fault_str(unsigned reason)
{
    switch (reason) {
    case VTD_FS_FR_ENTRY_ACCESS:
        return "first-stage table not accessible";
    case VTD_FS_FR_NOT_PRESENT:
        return "first-stage entry not present";
    case VTD_FS_FR_RESERVED:
        return "first-stage entry reserved bit set";
    case VTD_FS_FR_PTPTR:
        return "first-stage root table not accessible";
    case VTD_FS_FR_NON_CANONICAL:
        return "first-stage input address not canonical";
    case VTD_FS_FR_PRIVILEGE:
        return "first-stage supervisor page";
    case VTD_FS_FR_WRITE:
        return "first-stage write to read-only page";
    case VTD_FS_FR_AD_UPDATE:
        return "first-stage A/D update failed";
    default:
        return "first-stage translation fault";
    }
}
