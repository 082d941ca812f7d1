/*
 * VNest emulated host IOMMU: the Intel VT-d hardware model
 *
 * What a scalable-mode VT-d unit offers iommufd, written from the Intel
 * VT-d architecture specification and <linux/iommufd.h>:
 *
 * - GET_HW_INFO: architected CAP_REG / ECAP_REG values derived from the
 *   host configuration (struct iommu_hw_info_vtd);
 * - nested HWPTs (IOMMU_HWPT_DATA_VTD_S1) over a nest parent: the guest's
 *   first-stage table pointer, address width and PASID-entry flags,
 *   checked at attach time as the kernel's VT-d driver checks them;
 * - the first-stage walk (IA-32e paging, 4 or 5 levels) for device
 *   requests, every table access itself translated by the nest parent,
 *   with A/D (and EA) updates made as the hardware makes them: atomically,
 *   in guest memory;
 * - the IOTLB and the first-stage paging-structure caches (emu-iotlb.c),
 *   tagged (DID of the nested domain, PASID): leaves of every size and
 *   the non-leaf entries a walk used, so a missed invalidation, or a
 *   leaf-only (IH) one after a non-leaf change, is a stale translation;
 * - IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 over the nested HWPT's domain, as
 *   the kernel turns it into page-selective-within-PASID descriptors;
 * - the domain-selective flush the kernel does when a PASID entry that
 *   held the domain is torn down (detach, replace).
 *
 * Not modelled: supervisor and execute requests (the device model only
 * issues untranslated user-mode reads and writes), device TLBs (no ATS),
 * and fault recording registers (the walk hands the architected fault
 * reason to the core, which reports to a fault queue if the HWPT has
 * one).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

/* ---- Capability Register (VT-d spec 11.4.2) ---- */

#define VTD_CAP_ND_SHIFT        0       /* number of domains: 2^(4+2*ND) */
#define VTD_CAP_ND_64K          6ULL
#define VTD_CAP_SAGAW_39        (1ULL << 9)     /* 3-level second stage */
#define VTD_CAP_SAGAW_48        (1ULL << 10)    /* 4-level */
#define VTD_CAP_SAGAW_57        (1ULL << 11)    /* 5-level */
#define VTD_CAP_MGAW_SHIFT      16              /* MGAW - 1, 6 bits */
#define VTD_CAP_MGAW_MASK       0x3fULL
#define VTD_CAP_FRO_SHIFT       24              /* fault records / 16 */
#define VTD_CAP_FRO             (0x220ULL >> 4)
#define VTD_CAP_SSLPS_2M        (1ULL << 34)    /* second-stage 2 MiB */
#define VTD_CAP_SSLPS_1G        (1ULL << 35)    /* second-stage 1 GiB */
#define VTD_CAP_PSI             (1ULL << 39)    /* page-selective inv. */
#define VTD_CAP_NFR_SHIFT       40              /* fault records - 1 */
#define VTD_CAP_NFR             7ULL
#define VTD_CAP_MAMV_SHIFT      48              /* max address mask */
#define VTD_CAP_MAMV            18ULL
#define VTD_CAP_DWD             (1ULL << 54)
#define VTD_CAP_DRD             (1ULL << 55)
#define VTD_CAP_FS1GP           (1ULL << 56)    /* first-stage 1 GiB */
#define VTD_CAP_FS5LP           (1ULL << 60)    /* first-stage 5-level */

/* ---- Extended Capability Register (VT-d spec 11.4.3) ---- */

#define VTD_ECAP_C              (1ULL << 0)     /* page-walk coherency */
#define VTD_ECAP_QI             (1ULL << 1)     /* queued invalidation */
#define VTD_ECAP_SC             (1ULL << 7)     /* snoop control */
#define VTD_ECAP_IRO_SHIFT      8               /* IOTLB registers / 16 */
#define VTD_ECAP_IRO            (0x500ULL >> 4)
#define VTD_ECAP_MHMV_SHIFT     20
#define VTD_ECAP_MHMV           0xfULL
#define VTD_ECAP_NEST           (1ULL << 26)    /* nested translation */
#define VTD_ECAP_PRS            (1ULL << 29)    /* page requests */
#define VTD_ECAP_SRS            (1ULL << 31)    /* supervisor requests */
#define VTD_ECAP_EAFS           (1ULL << 34)    /* extended-accessed flag */
#define VTD_ECAP_PSS_SHIFT      35              /* PASID bits - 1 */
#define VTD_ECAP_PSS_MASK       0x1fULL
#define VTD_ECAP_PASID          (1ULL << 40)
#define VTD_ECAP_SMTS           (1ULL << 43)    /* scalable mode */
#define VTD_ECAP_SSADS          (1ULL << 45)    /* second-stage A/D */
#define VTD_ECAP_SSTS           (1ULL << 46)    /* second stage (SLTS) */
#define VTD_ECAP_FSTS           (1ULL << 47)    /* first stage (FLTS) */
#define VTD_ECAP_SMPWCS         (1ULL << 48)    /* SM page-walk coherency */
#define VTD_ECAP_PDS            (1ULL << 42)    /* page request drain */

#define VTD_PASID_BITS_MAX      20

/* ---- First-stage paging entries (IA-32e format, VT-d spec 9.7) ---- */

#define VTD_FS_P                (1ULL << 0)
#define VTD_FS_RW               (1ULL << 1)
#define VTD_FS_US               (1ULL << 2)
#define VTD_FS_A                (1ULL << 5)
#define VTD_FS_D                (1ULL << 6)
#define VTD_FS_PS               (1ULL << 7)     /* large page (PDPE/PDE) */
#define VTD_FS_EA               (1ULL << 10)    /* extended accessed */
#define VTD_FS_ADDR_MASK        0x000ffffffffff000ULL   /* bits 51:12 */
#define VTD_FS_ADDR_BITS        52
#define VTD_FS_1G_RSVD          0x3fffe000ULL   /* 1 GiB leaf: bits 29:13 */
#define VTD_FS_2M_RSVD          0x001fe000ULL   /* 2 MiB leaf: bits 20:13 */

#define VTD_LEVEL_BITS          9
#define VTD_LEVEL_ENTRIES       (1u << VTD_LEVEL_BITS)
#define VTD_ENTRY_SIZE          8
#define VTD_ADDR_WIDTH_4LEVEL   48
#define VTD_ADDR_WIDTH_5LEVEL   57
#define VTD_LEVEL_PT            1       /* 4 KiB leaves */
#define VTD_LEVEL_PD            2       /* PDE: 2 MiB with PS */
#define VTD_LEVEL_PDP           3       /* PDPE: 1 GiB with PS */

/*
 * Scalable-mode fault reasons (VT-d spec 7.1.3, "Scalable-Mode
 * Unrecoverable Fault Conditions"), the codes the first-stage walk
 * produces. A stage-2 failure while fetching a first-stage entry is
 * reported as a failed access to that entry: the model's stage 2 is an
 * IOAS, not a walked table, so the second-stage reasons do not arise.
 */
#define VTD_FR_FS_ENTRY_ACCESS  0x70    /* fetching an FS entry failed */
#define VTD_FR_FS_NOT_PRESENT   0x71    /* P clear in an FS entry */
#define VTD_FR_FS_RESERVED      0x72    /* reserved bit set, P set */
#define VTD_FR_FS_PTPTR         0x73    /* fetch via FSPTPTR failed */
#define VTD_FR_NON_CANONICAL    0x80    /* input address not canonical */
#define VTD_FR_PRIVILEGE        0x81    /* user request, U/S clear */
#define VTD_FR_WRITE            0x85    /* write, R/W clear */
#define VTD_FR_AD_UPDATE        0x91    /* A/D/EA update failed */

/* ---- GET_HW_INFO ---- */

static uint64_t vtd_sagaw(unsigned ias)
{
    uint64_t sagaw = 0;

    if (ias >= 39) {
        sagaw |= VTD_CAP_SAGAW_39;
    }
    if (ias >= 48) {
        sagaw |= VTD_CAP_SAGAW_48;
    }
    if (ias >= 57) {
        sagaw |= VTD_CAP_SAGAW_57;
    }
    return sagaw;
}

static uint64_t vtd_cap_reg(const EmuHwConfig *cfg)
{
    uint64_t cap = (VTD_CAP_ND_64K << VTD_CAP_ND_SHIFT) |
                   vtd_sagaw(cfg->ias) |
                   (VTD_CAP_FRO << VTD_CAP_FRO_SHIFT) |
                   VTD_CAP_SSLPS_2M | VTD_CAP_SSLPS_1G | VTD_CAP_PSI |
                   (VTD_CAP_NFR << VTD_CAP_NFR_SHIFT) |
                   (VTD_CAP_MAMV << VTD_CAP_MAMV_SHIFT) |
                   VTD_CAP_DWD | VTD_CAP_DRD;

    if (cfg->ias) {
        cap |= ((uint64_t)(cfg->ias - 1) & VTD_CAP_MGAW_MASK) <<
               VTD_CAP_MGAW_SHIFT;
    }
    if (cfg->vtd.fs1gp) {
        cap |= VTD_CAP_FS1GP;
    }
    if (cfg->vtd.five_level) {
        cap |= VTD_CAP_FS5LP;
    }
    return cap;
}

/*
 * Scalable mode with both stages. PRS and PDS: the model takes page
 * requests (fault queues) on every configuration; Linux needs both to
 * enable a device's PRI (intel_iommu_probe_device(): pri_supported).
 * SRS stays clear: the device model never issues supervisor requests,
 * so IOMMU_VTD_S1_SRE is refused at attach, as the kernel refuses it
 * on hardware without SRS.
 */
static uint64_t vtd_ecap_reg(const EmuHwConfig *cfg)
{
    uint64_t ecap = VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_SC |
                    (VTD_ECAP_IRO << VTD_ECAP_IRO_SHIFT) |
                    (VTD_ECAP_MHMV << VTD_ECAP_MHMV_SHIFT) |
                    VTD_ECAP_PRS | VTD_ECAP_PDS | VTD_ECAP_EAFS |
                    VTD_ECAP_SMTS |
                    VTD_ECAP_SSTS | VTD_ECAP_FSTS | VTD_ECAP_SMPWCS;
    unsigned pasid_bits = MIN(cfg->pasid_bits, VTD_PASID_BITS_MAX);

    if (cfg->nesting) {
        ecap |= VTD_ECAP_NEST;
    }
    if (pasid_bits) {
        ecap |= VTD_ECAP_PASID |
                ((((uint64_t)pasid_bits - 1) & VTD_ECAP_PSS_MASK) <<
                 VTD_ECAP_PSS_SHIFT);
    }
    if (cfg->dirty_tracking) {
        ecap |= VTD_ECAP_SSADS;
    }
    return ecap;
}

static size_t vtd_hw_info(EmuIommu *iommu, void *buf, size_t len)
{
    struct iommu_hw_info_vtd *info = buf;

    g_assert(len >= sizeof(*info));
    memset(info, 0, sizeof(*info));
    if (iommu->cfg.vtd.errata_spr17) {
        info->flags |= IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17;
    }
    info->cap_reg = vtd_cap_reg(&iommu->cfg);
    info->ecap_reg = vtd_ecap_reg(&iommu->cfg);
    return sizeof(*info);
}

/* ---- nested HWPTs ---- */

/*
 * The uAPI documents @__reserved as "must be 0" and unknown values of a
 * known field as EOPNOTSUPP. The 7.x VT-d driver itself copies the struct
 * without looking at either at allocation (it ignores unknown flags and
 * __reserved); the model enforces the documented contract, so a VMM that
 * passes junk is caught here rather than silently accepted.
 */
/*
 * intel_iommu_domain_alloc_nested() keeps the stage-1 data as it came:
 * unknown flags and __reserved are not checked (only SRE, EAFE and WPE
 * are ever read, by pasid_pte_config_nested()).
 */
static int vtd_nested_alloc(EmuHwpt *hwpt, const void *data, size_t len)
{
    const struct iommu_hwpt_vtd_s1 *s1 = data;
    /* intel_iommu_domain_alloc_nested(): the domain (kzalloc) */
    int rc = emu_host_op(hwpt->obj.ctx->host);

    g_assert(len >= sizeof(*s1));
    if (rc) {
        return rc;
    }
    hwpt->data = g_memdup2(s1, sizeof(*s1));
    return 0;
}

static int vtd_check_addr_width(const EmuHwConfig *cfg, uint32_t width)
{
    if (width == VTD_ADDR_WIDTH_4LEVEL) {
        return 0;
    }
    if (width == VTD_ADDR_WIDTH_5LEVEL && cfg->vtd.five_level) {
        return 0;
    }
    return -EINVAL;
}

/*
 * What the kernel checks when it programs the PASID entry for a nested
 * domain (intel_pasid_setup_nested()): the address width (4-level, or
 * 5-level with FS5LP), SRE only with ECAP.SRS, EAFE only with ECAP.EAFS.
 * Nothing about dirty tracking on the parent, on the RID or a PASID.
 * FSPTPTR must be a 4 KiB aligned address the parent can take; the
 * kernel silently drops low bits instead, the model is stricter.
 */
static int vtd_nested_attach(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid)
{
    const struct iommu_hwpt_vtd_s1 *s1 = hwpt->data;
    const EmuHwConfig *cfg = &hwpt->iommu->cfg;
    uint64_t ecap = vtd_ecap_reg(cfg);

    if (vtd_check_addr_width(cfg, s1->addr_width)) {
        return -EINVAL;
    }
    if (((s1->flags & IOMMU_VTD_S1_SRE) && !(ecap & VTD_ECAP_SRS)) ||
        ((s1->flags & IOMMU_VTD_S1_EAFE) && !(ecap & VTD_ECAP_EAFS))) {
        return -EINVAL;
    }
    if ((s1->pgtbl_addr & ~EMU_PAGE_MASK) ||
        (cfg->ias < 64 && (s1->pgtbl_addr >> cfg->ias))) {
        return -EINVAL;
    }
    return 0;
}

/* ---- IOMMU_HWPT_INVALIDATE ---- */

/* The IOTLB tag of a request: requests without PASID use RID_PASID 0. */
static uint32_t vtd_tlb_pasid(uint32_t pasid)
{
    return pasid == EMU_NO_PASID ? 0 : pasid;
}

/*
 * The block a page-selective-within-PASID descriptor names for the range
 * [start, last], as the kernel computes ADDR and AM for it
 * (calculate_psi_aligned_address() in drivers/iommu/intel/cache.c): the
 * smallest naturally aligned power-of-two block holding both ends, or
 * false when that is the whole address space (the kernel then sends a
 * PASID-selective descriptor, qi_batch_add_piotlb_all()).
 */
static bool vtd_psi_block(uint64_t start, uint64_t last, uint64_t *first,
                          uint64_t *end)
{
    unsigned sz_lg2;

    start &= EMU_PAGE_MASK;
    sz_lg2 = (start ^ last) ? 64 - __builtin_clzll(start ^ last) : 0;
    if (sz_lg2 <= EMU_PAGE_SHIFT) {
        *first = start;
        *end = start + EMU_PAGE_SIZE - 1;
        return true;
    }
    if (sz_lg2 >= 64) {
        return false;
    }
    *first = start & ~((1ULL << sz_lg2) - 1);
    *end = *first + (1ULL << sz_lg2) - 1;
    return true;
}

/*
 * One struct iommu_hwpt_vtd_s1_invalidate, with the driver's errnos
 * (intel_nested_cache_invalidate_user()). The range is the kernel's:
 * [addr, addr + npages * 4 KiB - 1] in unsigned arithmetic, so npages 0
 * names the block below addr and, from address 0, everything. The
 * kernel sends one descriptor per PASID the domain is attached with
 * (cache_tag_flush_range()); the hardware then drops the leaves in the
 * block and, unless LEAF (IH) is set, the paging-structure entries for
 * it (VT-d spec 6.5.2.4). A whole-space request drops both kinds.
 */
static int vtd_invalidate(EmuHwpt *hwpt, EmuViommu *viommu, void *entry)
{
    const struct iommu_hwpt_vtd_s1_invalidate *inv = entry;
    EmuIotlb *tlb = hwpt->iommu->iotlb;
    uint64_t first, last;
    unsigned kinds = EMU_TLB_ALL;

    if ((inv->flags & ~IOMMU_VTD_INV_FLAGS_LEAF) || inv->__reserved) {
        return -EOPNOTSUPP;
    }
    if ((inv->addr & ~EMU_PAGE_MASK) ||
        (inv->npages == UINT64_MAX && inv->addr)) {
        return -EINVAL;
    }
    if (!vtd_psi_block(inv->addr,
                       inv->addr + (inv->npages << EMU_PAGE_SHIFT) - 1,
                       &first, &last)) {
        emu_iotlb_flush(tlb, EMU_TLB_ALL, hwpt->tag, EMU_ANY, 0,
                        UINT64_MAX);
        return 0;
    }
    if (inv->flags & IOMMU_VTD_INV_FLAGS_LEAF) {
        kinds = 1u << EMU_TLB_LEAF;
    }
    emu_iotlb_flush(tlb, kinds, hwpt->tag, EMU_ANY, first, last);
    return 0;
}

/*
 * The device's PASID entry that held @old is torn down (detach, or
 * replace with another domain): intel_pasid_tear_down_entry() then
 * flushes the old domain's IOTLB and paging-structure caches, domain
 * selective (every PASID of its DID) for a nested entry.
 */
static void vtd_domain_unset(EmuHwpt *old, EmuIdev *idev, uint32_t pasid)
{
    emu_iotlb_flush(old->iommu->iotlb, EMU_TLB_ALL, old->tag, EMU_ANY, 0,
                    UINT64_MAX);
}

/* ---- the first-stage walk ---- */

/* What one walk carries from level to level. */
typedef struct VtdWalker {
    EmuHwpt *hwpt;
    const struct iommu_hwpt_vtd_s1 *s1;
    uint32_t pasid;
    uint64_t iova;
    unsigned access;
    unsigned top;               /* 4 or 5 */
    uint64_t rsvd_addr;         /* output-address bits above the IPA width */
    bool user;                  /* U/S set in every entry so far */
    bool writable;              /* R/W set in every entry so far */
    EmuWalk *w;
} VtdWalker;

/* EmuTlbData.attr of a paging-structure entry: the walk state below it */
#define VTD_PSC_USER            1u
#define VTD_PSC_WRITABLE        2u

static unsigned vtd_level_shift(unsigned level)
{
    return EMU_PAGE_SHIFT + VTD_LEVEL_BITS * (level - 1);
}

static uint64_t vtd_index(uint64_t iova, unsigned level)
{
    return (iova >> vtd_level_shift(level)) & (VTD_LEVEL_ENTRIES - 1);
}

/* Bits 63:width-1 all equal: the sign extension of the top input bit. */
static bool vtd_canonical(uint64_t iova, unsigned width)
{
    unsigned unused = 64 - width;

    return (uint64_t)((int64_t)(iova << unused) >> unused) == iova;
}

static bool vtd_is_leaf(uint64_t ent, unsigned level)
{
    if (level == VTD_LEVEL_PT) {
        return true;
    }
    return (level == VTD_LEVEL_PD || level == VTD_LEVEL_PDP) &&
           (ent & VTD_FS_PS);
}

/*
 * Reserved bits of a present entry: output-address bits above the IPA
 * width everywhere; PS in PML5E/PML4E, and in a PDPE without FS1GP; the
 * bits between PAT and the page address in a large leaf. Bits 62:52 and
 * 11:8 are ignored, bit 63 is XD (no execute requests are modelled).
 */
static uint64_t vtd_rsvd_mask(const VtdWalker *vw, uint64_t ent,
                              unsigned level)
{
    uint64_t rsvd = vw->rsvd_addr;
    bool fs1gp = vw->hwpt->iommu->cfg.vtd.fs1gp;

    if (level > VTD_LEVEL_PDP || (level == VTD_LEVEL_PDP && !fs1gp)) {
        return rsvd | VTD_FS_PS;
    }
    if (level == VTD_LEVEL_PDP && (ent & VTD_FS_PS)) {
        return rsvd | VTD_FS_1G_RSVD;
    }
    if (level == VTD_LEVEL_PD && (ent & VTD_FS_PS)) {
        return rsvd | VTD_FS_2M_RSVD;
    }
    return rsvd;
}

static int vtd_fault(VtdWalker *vw, unsigned level, uint64_t reason,
                     int err, const char *what)
{
    EmuWalk *w = vw->w;

    w->fault.err = err;
    w->fault.pasid = vw->pasid;
    w->fault.iova = vw->iova;
    w->fault.access = vw->access;
    w->fault.reason = what;
    w->hw[0] = reason;
    w->hw[1] = level;
    /*
     * What a translation request (ATS) of the same access would get as a
     * successful completion with R=W=0, so a PRI device asks for the
     * page: an entry not present, or one that lacks the permission
     * (write, user). Reserved bits, bad table pointers, non-canonical
     * addresses and A/D update failures are errors instead (the model's
     * reading of VT-d spec 4.2.3 / 7.x; not observable in Linux, which
     * only sees the page requests).
     */
    w->recoverable = reason == VTD_FR_FS_NOT_PRESENT ||
                     reason == VTD_FR_WRITE || reason == VTD_FR_PRIVILEGE;
    return err;
}

/*
 * The flags hardware sets in an entry it uses: A (and EA with EAFE) in
 * every one; D in the leaf of a write that the permissions allow.
 */
static uint64_t vtd_flags_to_set(const VtdWalker *vw, uint64_t ent,
                                 unsigned level)
{
    uint64_t set = VTD_FS_A;

    if (vw->s1->flags & IOMMU_VTD_S1_EAFE) {
        set |= VTD_FS_EA;
    }
    if (vtd_is_leaf(ent, level) && (vw->access & EMU_DMA_WRITE) &&
        vw->user && (ent & VTD_FS_US) && vw->writable && (ent & VTD_FS_RW)) {
        set |= VTD_FS_D;
    }
    return set;
}

/*
 * Set flags in the entry at @ipa if it still holds @old: 0, -EAGAIN if
 * it changed under us (the walk re-reads it), -EFAULT if the parent does
 * not let the IOMMU write there.
 */
static int vtd_update_entry(VtdWalker *vw, uint64_t ipa, uint64_t old,
                            uint64_t new)
{
    uint64_t *slot = (uint64_t *)emu_s2_resolve(vw->hwpt, ipa,
                                                VTD_ENTRY_SIZE,
                                                EMU_DMA_WRITE);

    if (!slot) {
        return -EFAULT;
    }
    if (!__atomic_compare_exchange_n(slot, &old, new, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        return -EAGAIN;
    }
    return 0;
}

/* The entry could not be read through the parent. */
static int vtd_fetch_fault(VtdWalker *vw, unsigned level)
{
    if (level == vw->top) {
        return vtd_fault(vw, level, VTD_FR_FS_PTPTR, -EFAULT,
                         "first-stage root table not accessible");
    }
    return vtd_fault(vw, level, VTD_FR_FS_ENTRY_ACCESS, -EFAULT,
                     "first-stage table not accessible");
}

/* P and the reserved bits of a fetched entry: 0 or the fault. */
static int vtd_check_entry(VtdWalker *vw, uint64_t ent, unsigned level)
{
    if (!(ent & VTD_FS_P)) {
        return vtd_fault(vw, level, VTD_FR_FS_NOT_PRESENT, -EFAULT,
                         "first-stage entry not present");
    }
    if (ent & vtd_rsvd_mask(vw, ent, level)) {
        return vtd_fault(vw, level, VTD_FR_FS_RESERVED, -EFAULT,
                         "first-stage entry reserved bit set");
    }
    return 0;
}

/*
 * Fetch, check and mark used the entry for @iova in the table at @table.
 * If the entry changes between the read and the flag update, the
 * hardware's compare-and-swap fails and the entry is evaluated afresh.
 */
static int vtd_step(VtdWalker *vw, uint64_t table, unsigned level,
                    uint64_t *out)
{
    uint64_t ipa = table + vtd_index(vw->iova, level) * VTD_ENTRY_SIZE;
    uint64_t ent, set;
    int rc;

    do {
        uint64_t *slot = (uint64_t *)emu_s2_resolve(vw->hwpt, ipa,
                                                    VTD_ENTRY_SIZE,
                                                    EMU_DMA_READ);

        if (!slot) {
            return vtd_fetch_fault(vw, level);
        }
        ent = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        rc = vtd_check_entry(vw, ent, level);
        if (rc) {
            return rc;
        }
        set = vtd_flags_to_set(vw, ent, level);
        rc = (ent & set) == set ? 0 : vtd_update_entry(vw, ipa, ent,
                                                       ent | set);
    } while (rc == -EAGAIN);
    if (rc) {
        return vtd_fault(vw, level, VTD_FR_AD_UPDATE, -EFAULT,
                         "first-stage A/D update failed");
    }
    *out = ent | set;
    return 0;
}

/*
 * Permissions of the translation for a user-mode request: nothing unless
 * U/S is set at every level; write if R/W is set at every level and the
 * leaf is dirty. A clean leaf is cached read-only, as the IOTLB caches
 * the D state: the first write walks again and sets D.
 */
static unsigned vtd_prot(const VtdWalker *vw, uint64_t leaf)
{
    if (!vw->user) {
        return 0;
    }
    if (vw->writable && (leaf & VTD_FS_D)) {
        return EMU_DMA_READ | EMU_DMA_WRITE;
    }
    return EMU_DMA_READ;
}

/*
 * A permission failure is still a translation: it is returned (and
 * cached by the core, which then refuses the access with -EPERM); the
 * architected reason goes in w->hw for the fault record.
 */
static void vtd_check_access(VtdWalker *vw, unsigned level)
{
    EmuWalk *w = vw->w;

    if ((w->prot & vw->access) == vw->access) {
        return;
    }
    if (!vw->user) {
        vtd_fault(vw, level, VTD_FR_PRIVILEGE, -EPERM,
                  "first-stage supervisor page");
    } else {
        vtd_fault(vw, level, VTD_FR_WRITE, -EPERM,
                  "first-stage write to read-only page");
    }
}

static void vtd_walker_init(VtdWalker *vw, EmuHwpt *hwpt, uint32_t pasid,
                            uint64_t iova, unsigned access, EmuWalk *w)
{
    unsigned ias = hwpt->iommu->cfg.ias;

    memset(vw, 0, sizeof(*vw));
    vw->hwpt = hwpt;
    vw->s1 = hwpt->data;
    vw->pasid = pasid;
    vw->iova = iova;
    vw->access = access;
    vw->top = vw->s1->addr_width == VTD_ADDR_WIDTH_5LEVEL ? 5 : 4;
    if (ias < VTD_FS_ADDR_BITS) {
        vw->rsvd_addr = VTD_FS_ADDR_MASK & ~((1ULL << ias) - 1);
    }
    vw->user = true;
    vw->writable = true;
    vw->w = w;
}

/*
 * Where the walk starts: below the deepest paging-structure entry cached
 * for the address, else at the root. Returns the level to fetch next.
 */
static unsigned vtd_walk_start(VtdWalker *vw, uint32_t tag, uint32_t asid,
                               uint64_t *table)
{
    EmuIotlb *tlb = vw->hwpt->iommu->iotlb;
    unsigned shift;
    const EmuTlbData *psc = emu_iotlb_lookup(tlb, EMU_TLB_PSC, tag, asid,
                                             vw->iova, &shift);

    if (!psc) {
        *table = vw->s1->pgtbl_addr;
        return vw->top;
    }
    vw->user = psc->attr & VTD_PSC_USER;
    vw->writable = psc->attr & VTD_PSC_WRITABLE;
    *table = psc->out;
    /* The cached entry sits at the level whose entries span 2^shift. */
    return (shift - EMU_PAGE_SHIFT) / VTD_LEVEL_BITS;
}

/* Cache a non-leaf entry the walk used at @level. */
static void vtd_psc_insert(VtdWalker *vw, uint32_t tag, uint32_t asid,
                           unsigned level, uint64_t table)
{
    EmuTlbData d = {
        .out = table,
        .attr = (vw->user ? VTD_PSC_USER : 0) |
                (vw->writable ? VTD_PSC_WRITABLE : 0),
    };

    emu_iotlb_insert(vw->hwpt->iommu->iotlb, EMU_TLB_PSC, tag, asid,
                     vw->iova, vtd_level_shift(level), &d);
}

static int vtd_walk(VtdWalker *vw, uint32_t tag, uint32_t asid)
{
    EmuWalk *w = vw->w;
    uint64_t table, ent = 0;
    unsigned level;
    int rc;

    if (!vtd_canonical(vw->iova, vw->s1->addr_width)) {
        return vtd_fault(vw, vw->top, VTD_FR_NON_CANONICAL, -EFAULT,
                         "first-stage input address not canonical");
    }
    for (level = vtd_walk_start(vw, tag, asid, &table); ; level--) {
        rc = vtd_step(vw, table, level, &ent);
        if (rc) {
            return rc;
        }
        vw->user = vw->user && (ent & VTD_FS_US);
        vw->writable = vw->writable && (ent & VTD_FS_RW);
        if (vtd_is_leaf(ent, level)) {
            break;
        }
        table = ent & VTD_FS_ADDR_MASK;
        vtd_psc_insert(vw, tag, asid, level, table);
    }
    w->size = 1ULL << vtd_level_shift(level);
    w->out = (ent & VTD_FS_ADDR_MASK & ~(w->size - 1)) |
             (vw->iova & (w->size - 1));
    w->prot = vtd_prot(vw, ent);
    return 0;
}

/*
 * Stage 1 for a request: the IOTLB, else a walk whose leaf is cached
 * (with the permissions it grants; a clean leaf as read-only, as the
 * IOTLB caches the D state). An entry that does not grant the access is
 * walked again: the walk sets D for a write, or faults.
 */
static int vtd_s1_translate(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid,
                            uint64_t iova, unsigned access, EmuWalk *w)
{
    EmuIotlb *tlb = hwpt->iommu->iotlb;
    uint32_t asid = vtd_tlb_pasid(pasid);
    unsigned shift;
    const EmuTlbData *hit = emu_iotlb_lookup(tlb, EMU_TLB_LEAF, hwpt->tag,
                                             asid, iova, &shift);
    VtdWalker vw;
    EmuTlbData d;
    int rc;

    if (hit && (hit->prot & access) == access) {
        w->size = 1ULL << shift;
        w->out = hit->out | (iova & (w->size - 1));
        w->prot = hit->prot;
        return 0;
    }
    vtd_walker_init(&vw, hwpt, pasid, iova, access, w);
    rc = vtd_walk(&vw, hwpt->tag, asid);
    if (rc) {
        return rc;
    }
    d = (EmuTlbData) { .out = w->out & ~(w->size - 1), .prot = w->prot };
    emu_iotlb_insert(tlb, EMU_TLB_LEAF, hwpt->tag, asid, iova,
                     __builtin_ctzll(w->size), &d);
    vtd_check_access(&vw, (__builtin_ctzll(w->size) - EMU_PAGE_SHIFT) /
                          VTD_LEVEL_BITS + 1);
    return w->fault.err;
}

const EmuHwOps emu_hw_vtd_ops = {
    .kind = EMU_HW_VTD,
    .hw_info_type = IOMMU_HW_INFO_TYPE_INTEL_VTD,
    .hw_info = vtd_hw_info,
    .nested_data_type = IOMMU_HWPT_DATA_VTD_S1,
    /* intel_iommu_domain_alloc_nested(): min_last __reserved */
    .nested_data_min = sizeof(struct iommu_hwpt_vtd_s1),
    .nested_data_size = sizeof(struct iommu_hwpt_vtd_s1),
    .nested_flags = IOMMU_HWPT_ALLOC_PASID,
    .nested_alloc = vtd_nested_alloc,
    .nested_attach = vtd_nested_attach,
    .nested_free = NULL,            /* hwpt->data is all there is */
    .inv_data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
    .inv_entry_size = sizeof(struct iommu_hwpt_vtd_s1_invalidate),
    .invalidate = vtd_invalidate,
    .viommu_type = 0,               /* VT-d nests on a parent HWPT */
    .s1_translate = vtd_s1_translate,
    .domain_unset = vtd_domain_unset,
    .report_fault = NULL,           /* no vEVENTQ: the fault queue only */
    .pri = true,                    /* ECAP.PRS and ECAP.PDS */
};
