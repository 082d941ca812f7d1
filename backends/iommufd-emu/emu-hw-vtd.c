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
#include "vtd-fs-walk.h"

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

/* First-stage input widths (IOMMU_HWPT_DATA_VTD_S1 addr_width) */
#define VTD_ADDR_WIDTH_4LEVEL   48
#define VTD_ADDR_WIDTH_5LEVEL   57

/*
 * The first-stage walk itself, its entry format and its fault reasons
 * (VTD_FS_FR_*) are in vtd-fs-walk.c, shared with intel-iommu's nested
 * translation (x-nested=on). A stage-2 failure while fetching a
 * first-stage entry is reported as a failed access to that entry: the
 * model's stage 2 is an IOAS, not a walked table, so the second-stage
 * reasons do not arise here.
 */

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

/* ---- the first-stage walk (vtd-fs-walk.c), over the nest parent ---- */

G_STATIC_ASSERT(VTD_FS_READ == EMU_DMA_READ &&
                VTD_FS_WRITE == EMU_DMA_WRITE);

/* What the shared walker's callbacks need: the HWPT and its cache tag. */
typedef struct VtdEmuWalk {
    EmuHwpt *hwpt;
    uint32_t asid;
} VtdEmuWalk;

/* A table entry, read through the nest parent (an IOAS). */
static unsigned vtd_emu_read(void *opaque, uint64_t ipa, VtdFsAccess kind,
                             uint64_t *ent)
{
    VtdEmuWalk *ew = opaque;
    uint64_t *slot = (uint64_t *)emu_s2_resolve(ew->hwpt, ipa, sizeof(*ent),
                                                EMU_DMA_READ);

    if (!slot) {
        return kind == VTD_FS_FETCH_ROOT ? VTD_FS_FR_PTPTR :
                                           VTD_FS_FR_ENTRY_ACCESS;
    }
    *ent = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    return 0;
}

/*
 * Set flags in the entry at @ipa if it still holds @old; the parent must
 * let the IOMMU write there.
 */
static unsigned vtd_emu_update(void *opaque, uint64_t ipa, uint64_t old,
                               uint64_t new)
{
    VtdEmuWalk *ew = opaque;
    uint64_t *slot = (uint64_t *)emu_s2_resolve(ew->hwpt, ipa, sizeof(old),
                                                EMU_DMA_WRITE);

    if (!slot) {
        return VTD_FS_FR_AD_UPDATE;
    }
    if (!__atomic_compare_exchange_n(slot, &old, new, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        return VTD_FS_CHANGED;
    }
    return 0;
}

static unsigned vtd_level_shift(unsigned level)
{
    return EMU_PAGE_SHIFT + 9 * (level - 1);
}

/* The deepest paging-structure entry cached for @iova (emu-iotlb.c). */
static bool vtd_emu_psc_lookup(void *opaque, uint64_t iova, unsigned *level,
                               uint64_t *table, unsigned *attr)
{
    VtdEmuWalk *ew = opaque;
    unsigned shift;
    const EmuTlbData *psc = emu_iotlb_lookup(ew->hwpt->iommu->iotlb,
                                             EMU_TLB_PSC, ew->hwpt->tag,
                                             ew->asid, iova, &shift);

    if (!psc) {
        return false;
    }
    /* The cached entry sits at the level whose entries span 2^shift. */
    *level = (shift - EMU_PAGE_SHIFT) / 9 + 1;
    *table = psc->out;
    *attr = psc->attr;
    return true;
}

static void vtd_emu_psc_insert(void *opaque, uint64_t iova, unsigned level,
                               uint64_t table, unsigned attr)
{
    VtdEmuWalk *ew = opaque;
    EmuTlbData d = { .out = table, .attr = attr };

    emu_iotlb_insert(ew->hwpt->iommu->iotlb, EMU_TLB_PSC, ew->hwpt->tag,
                     ew->asid, iova, vtd_level_shift(level), &d);
}

static const VtdFsWalkOps vtd_emu_walk_ops = {
    .read = vtd_emu_read,
    .update = vtd_emu_update,
    .psc_lookup = vtd_emu_psc_lookup,
    .psc_insert = vtd_emu_psc_insert,
};

/*
 * The architected reason goes in w->hw for the fault record: hw[0] the
 * reason, hw[1] the level. What a translation request (ATS) of the same
 * access would get as a successful completion with R=W=0, so a PRI
 * device asks for the page: an entry not present, or one that lacks the
 * permission (write, user). Reserved bits, bad table pointers,
 * non-canonical addresses and A/D update failures are errors instead
 * (the model's reading of VT-d spec 4.2.3 / 7.x; not observable in
 * Linux, which only sees the page requests).
 */
static int vtd_fault(EmuWalk *w, uint32_t pasid, uint64_t iova,
                     unsigned access, unsigned reason, unsigned level,
                     int err)
{
    w->fault.err = err;
    w->fault.pasid = pasid;
    w->fault.iova = iova;
    w->fault.access = access;
    w->fault.reason = vtd_fs_fault_str(reason);
    w->hw[0] = reason;
    w->hw[1] = level;
    w->recoverable = reason == VTD_FS_FR_NOT_PRESENT ||
                     reason == VTD_FS_FR_WRITE ||
                     reason == VTD_FS_FR_PRIVILEGE;
    return err;
}

/*
 * Stage 1 for a request: the IOTLB, else a walk whose leaf is cached
 * (with the permissions it grants; a clean leaf as read-only, as the
 * IOTLB caches the D state). An entry that does not grant the access is
 * walked again: the walk sets D for a write, or faults. A permission
 * failure is still a translation: it is returned (and cached by the
 * core, which then refuses the access with -EPERM).
 */
static int vtd_s1_translate(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid,
                            uint64_t iova, unsigned access, EmuWalk *w)
{
    const struct iommu_hwpt_vtd_s1 *s1 = hwpt->data;
    const EmuHwConfig *hw = &hwpt->iommu->cfg;
    EmuIotlb *tlb = hwpt->iommu->iotlb;
    VtdEmuWalk ew = { .hwpt = hwpt, .asid = vtd_tlb_pasid(pasid) };
    VtdFsConfig cfg = {
        .fsptptr = s1->pgtbl_addr, .width = s1->addr_width,
        .oas = hw->ias, .fs1gp = hw->vtd.fs1gp,
        .eafe = s1->flags & IOMMU_VTD_S1_EAFE,
    };
    unsigned shift, fr;
    const EmuTlbData *hit = emu_iotlb_lookup(tlb, EMU_TLB_LEAF, hwpt->tag,
                                             ew.asid, iova, &shift);
    VtdFsResult res;
    EmuTlbData d;

    if (hit && (hit->prot & access) == access) {
        w->size = 1ULL << shift;
        w->out = hit->out | (iova & (w->size - 1));
        w->prot = hit->prot;
        return 0;
    }
    fr = vtd_fs_walk(&cfg, &vtd_emu_walk_ops, &ew, iova,
                     access & EMU_DMA_WRITE, &res);
    if (fr) {
        return vtd_fault(w, pasid, iova, access, fr, res.level, -EFAULT);
    }
    w->out = res.out;
    w->size = res.size;
    w->prot = res.prot;
    d = (EmuTlbData) { .out = w->out & ~(w->size - 1), .prot = w->prot };
    emu_iotlb_insert(tlb, EMU_TLB_LEAF, hwpt->tag, ew.asid, iova,
                     __builtin_ctzll(w->size), &d);
    fr = vtd_fs_access_fault(&res, access);
    if (fr) {
        return vtd_fault(w, pasid, iova, access, fr, res.level, -EPERM);
    }
    return 0;
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
