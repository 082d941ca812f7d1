/*
 * VNest emulated host IOMMU: the Arm SMMUv3 hardware model
 *
 * What an SMMUv3 with both translation stages does for iommufd nesting:
 * - GET_HW_INFO: the ID registers (IDR0..IDR5, IIDR, AIDR) derived from
 *   the instance's EmuHwConfig;
 * - nested HWPTs (allocated on a vIOMMU) carry the guest's STE (vSTE),
 *   validated as the kernel validates it;
 * - the stage-1 walk the hardware performs for a device request: STE
 *   config, SubstreamID selection (S1CDMax, S1DSS), the CD table (linear
 *   or 2-level), the context descriptor, and the AArch64 translation
 *   tables with 4K, 16K and 64K granules. Every one of those reads is an
 *   IPA, translated by the nest parent (stage 2);
 * - event records (the architected 32-byte format) for the vEVENTQ;
 * - a context-descriptor cache, so that a CD changed without CFGI_CD
 *   keeps being used in its old form;
 * - the CMDQ commands a vIOMMU accepts from user space: TLBI_NH_*,
 *   TLBI_NSNH_ALL, ATC_INV, CFGI_CD and CFGI_CD_ALL.
 *
 * Written from the Arm SMMUv3 architecture specification (STE, CD,
 * command and event record formats) and the VMSAv8-64 translation table
 * format. Modelling choices, where the architecture leaves one:
 * - device requests are unprivileged data accesses (PCIe requests without
 *   a privileged PASID): AP[1] must grant EL0 access;
 * - no HTTU (the kernel does not offer it for nesting): CD.HA/HD are
 *   ignored, a clear Access flag faults unless CD.AFFD is set;
 * - only TTB0 is walked: an input address outside the TTB0 range faults
 *   with F_TRANSLATION, as it does with EPD1 set; no TBI;
 * - a CD is ILLEGAL (C_BAD_CD) when V, AA64 are clear, ENDI or S is set
 *   (little-endian tables only, no stall model), TG0 names a granule the
 *   SMMU lacks, T0SZ is out of range or IPS is reserved;
 * - a stage-2 fault on a CD, L1CD or table fetch is F_TRANSLATION with
 *   S2 set and CLASS CD or TT. The kernel keeps stage-2 events to the
 *   host, so these never reach the vEVENTQ (the DMA still faults);
 * - an STE is (re)written by the host on attach, which drops the CDs
 *   cached for the device, as the CFGI_STE that follows would;
 * - the core's IOTLB is indexed by request (HWPT, PASID), not by ASID:
 *   CFGI_CD also drops the entries walked through that SubstreamID, an
 *   over-invalidation the architecture allows, so that a CD with a new
 *   ASID or table takes effect for pages already cached;
 * - without cfg.smmu.cd2l (IDR0.CD2L clear) an STE with S1CDMax and a
 *   2-level S1Fmt is ILLEGAL (C_BAD_STE), as QEMU's own SMMUv3 treats it;
 * - there is no ATC (devices here do not use ATS): ATC_INV only checks
 *   its StreamID.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

#define BIT64(n)            (1ULL << (n))
#define BITS64(hi, lo)      ((~0ULL >> (63 - (hi))) & ~(BIT64(lo) - 1))

static inline uint64_t field_get(uint64_t mask, uint64_t v)
{
    return (v & mask) >> __builtin_ctzll(mask);
}

static inline uint64_t field_put(uint64_t mask, uint64_t x)
{
    return (x << __builtin_ctzll(mask)) & mask;
}

/* ---- ID registers ---- */

#define IDR0_S2P                BIT64(0)
#define IDR0_S1P                BIT64(1)
#define IDR0_TTF                BITS64(3, 2)
#define IDR0_TTF_AARCH64        2
#define IDR0_COHACC             BIT64(4)
#define IDR0_ATS                BIT64(10)
#define IDR0_ASID16             BIT64(12)
#define IDR0_MSI                BIT64(13)
#define IDR0_VMID16             BIT64(18)
#define IDR0_CD2L               BIT64(19)
#define IDR0_TTENDIAN           BITS64(22, 21)
#define IDR0_TTENDIAN_LE        2
#define IDR0_STALL_MODEL        BITS64(25, 24)
#define IDR0_STALL_NONE         1
#define IDR0_TERM_MODEL         BIT64(26)       /* terminate = abort */
#define IDR0_ST_LEVEL           BITS64(28, 27)
#define IDR0_ST_LEVEL_2LVL      1

#define IDR1_SIDSIZE            BITS64(5, 0)
#define IDR1_SSIDSIZE           BITS64(10, 6)
#define IDR1_EVENTQS            BITS64(20, 16)
#define IDR1_CMDQS              BITS64(25, 21)

#define IDR3_FWB                BIT64(8)
#define IDR3_RIL                BIT64(10)

#define IDR5_OAS                BITS64(2, 0)
#define IDR5_GRAN4K             BIT64(4)
#define IDR5_GRAN16K            BIT64(5)
#define IDR5_GRAN64K            BIT64(6)
#define IDR5_VAX                BITS64(11, 10)
#define IDR5_VAX_52             1

#define SMMU_SID_BITS           16      /* PCIe requester IDs */
#define SMMU_QUEUE_LOG2         19      /* largest CMDQ / EVTQ */
/* No real implementer: IIDR 0 matches no erratum a guest works around. */
#define SMMU_IIDR               0
#define SMMU_AIDR_V3_2          0x02    /* ArchMajorRev 0 (v3), minor 2 */

/* Physical address size encodings (IDR5.OAS, CD.IPS) in bits. */
static const uint8_t pa_size_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
#define PA_SIZE_52              6

/* ---- Stream table entry (the first two dwords a vSTE carries) ---- */

#define STE0_V                  BIT64(0)
#define STE0_CFG                BITS64(3, 1)
#define STE0_S1FMT              BITS64(5, 4)
#define STE0_CTXPTR             BITS64(51, 6)
#define STE0_S1CDMAX            BITS64(63, 59)
#define STE1_S1DSS              BITS64(1, 0)
#define STE1_S1CIR              BITS64(3, 2)
#define STE1_S1COR              BITS64(5, 4)
#define STE1_S1CSH              BITS64(7, 6)
#define STE1_S1STALLD           BIT64(27)
#define STE1_EATS               BITS64(29, 28)

/* What user space may set in a nested vSTE. */
#define STE0_NESTED_FIELDS      (STE0_V | STE0_CFG | STE0_S1FMT | \
                                 STE0_CTXPTR | STE0_S1CDMAX)
#define STE1_NESTED_FIELDS      (STE1_S1DSS | STE1_S1CIR | STE1_S1COR | \
                                 STE1_S1CSH | STE1_S1STALLD | STE1_EATS)

#define STE_CFG_ABORT           0
#define STE_CFG_BYPASS          4
#define STE_CFG_S1_TRANS        5

#define S1FMT_LINEAR            0
#define S1FMT_2L_4K             1       /* 2-level, 4KB leaf tables */
#define S1FMT_2L_64K            2       /* 2-level, 64KB leaf tables */

#define S1DSS_TERMINATE         0
#define S1DSS_BYPASS            1
#define S1DSS_SSID0             2

#define EATS_ABT                0
#define EATS_TRANS              1

/* ---- Context descriptors ---- */

#define CD_SIZE                 64
#define CD0_T0SZ                BITS64(5, 0)
#define CD0_TG0                 BITS64(7, 6)
#define CD0_EPD0                BIT64(14)
#define CD0_ENDI                BIT64(15)
#define CD0_V                   BIT64(31)
#define CD0_IPS                 BITS64(34, 32)
#define CD0_AFFD                BIT64(35)
#define CD0_AA64                BIT64(41)
#define CD0_S                   BIT64(44)
#define CD0_R                   BIT64(45)
#define CD0_ASID                BITS64(63, 48)
#define CD1_TTB0                BITS64(51, 4)

#define TG0_4K                  0
#define TG0_64K                 1
#define TG0_16K                 2

#define T0SZ_MIN                16
#define T0SZ_MIN_VAX52          12      /* 64K granule, 52-bit VA */
#define T0SZ_MAX                39

#define L1CD_SIZE               8
#define L1CD_V                  BIT64(0)
#define L1CD_L2PTR              BITS64(51, 12)
#define CD_SPLIT_4K             6       /* 64 CDs per 4KB leaf table */
#define CD_SPLIT_64K            10      /* 1024 CDs per 64KB leaf table */

/* ---- VMSAv8-64 translation table descriptors ---- */

#define TT_LEVELS               4
#define TT_LAST_LEVEL           3
#define GRANULE_4K              12
#define GRANULE_16K             14
#define GRANULE_64K             16
#define PTE_SIZE                8
#define PTE_VALID               BIT64(0)
#define PTE_TYPE                BIT64(1)    /* 1: table or page, 0: block */
#define PTE_AP_UNPRIV           BIT64(6)    /* AP[1]: EL0 may access */
#define PTE_AP_RO               BIT64(7)    /* AP[2]: read-only */
#define PTE_AF                  BIT64(10)
#define PTE_OA_HI               BITS64(15, 12)  /* OA[51:48], 64K granule */
#define PTE_OA_HI_SHIFT         48
#define PTE_OA_TOP              47
#define PTE_APTABLE_NO_UNPRIV   BIT64(61)   /* APTable[0] */
#define PTE_APTABLE_RO          BIT64(62)   /* APTable[1] */

/* ---- Commands ---- */

#define CMD0_OP                 BITS64(7, 0)
#define CMD0_SSV                BIT64(11)
#define CMD0_SSID               BITS64(31, 12)
#define CMD0_SID                BITS64(63, 32)
#define CMD0_TLBI_NUM           BITS64(16, 12)
#define CMD0_TLBI_SCALE         BITS64(24, 20)  /* bit 25: RES0 (no DS) */
#define CMD0_TLBI_VMID          BITS64(47, 32)
#define CMD0_TLBI_ASID          BITS64(63, 48)
#define CMD0_ATC_GLOBAL         BIT64(9)
#define CMD1_TLBI_LEAF          BIT64(0)
#define CMD1_TLBI_TTL           BITS64(9, 8)
#define CMD1_TLBI_TG            BITS64(11, 10)
#define CMD1_TLBI_VA            BITS64(63, 12)
#define CMD1_CFGI_LEAF          BIT64(0)
#define CMD1_ATC_SIZE           BITS64(5, 0)
#define CMD1_ATC_ADDR           BITS64(63, 12)

#define CMD_CFGI_CD             0x05
#define CMD_CFGI_CD_ALL         0x06
#define CMD_TLBI_NH_ALL         0x10
#define CMD_TLBI_NH_ASID        0x11
#define CMD_TLBI_NH_VA          0x12
#define CMD_TLBI_NH_VAA         0x13
#define CMD_TLBI_NSNH_ALL       0x30
#define CMD_ATC_INV             0x40
/* Commands per host command-queue submission: CMDQ_BATCH_ENTRIES - 1 */
#define SMMU_CMDQ_BATCH         63

/* TLBI TG: the granule of a range (or hint); 0 means none given. */
#define TLBI_TG_4K              1
#define TLBI_TG_16K             2
#define TLBI_TG_64K             3

/* ---- Event records ---- */

#define EVT0_ID                 BITS64(7, 0)
#define EVT0_SSV                BIT64(11)
#define EVT0_SSID               BITS64(31, 12)
#define EVT0_SID                BITS64(63, 32)
#define EVT1_RNW                BIT64(35)
#define EVT1_S2                 BIT64(39)
#define EVT1_CLASS              BITS64(41, 40)
#define EVT3_IPA                BITS64(51, 12)

#define EVT_CLASS_CD            0
#define EVT_CLASS_TT            1
#define EVT_CLASS_IN            2

#define EVT_C_BAD_STE           0x04
#define EVT_F_STREAM_DISABLED   0x06
#define EVT_C_BAD_SUBSTREAMID   0x08
#define EVT_C_BAD_CD            0x0a
#define EVT_F_TRANSLATION       0x10
#define EVT_F_ADDR_SIZE         0x11
#define EVT_F_ACCESS            0x12
#define EVT_F_PERMISSION        0x13

#define EVT_SIZE                32

/* ---- Model state ---- */

/* The guest's STE as a nested HWPT keeps it (hwpt->data). */
typedef struct SmmuSte {
    bool valid;
    unsigned cfg;               /* STE_CFG_* */
    unsigned s1fmt;             /* S1FMT_* */
    unsigned s1cdmax;           /* log2 of the number of CDs */
    unsigned s1dss;             /* S1DSS_* */
    uint64_t ctxptr;            /* IPA of the CD table or L1 CD table */
} SmmuSte;

/* A decoded, valid context descriptor: what the CD cache holds. */
typedef struct SmmuCd {
    unsigned t0sz;
    unsigned gshift;            /* GRANULE_* */
    unsigned oa_bits;           /* min(CD.IPS, IDR5.OAS) */
    bool epd0;
    bool affd;                  /* no Access flag faults */
    bool record;                /* CD.R: record stage-1 faults */
    uint16_t asid;
    uint64_t ttb0;
} SmmuCd;

typedef struct SmmuCdKey {
    uint32_t vmid;
    uint32_t sid;               /* physical StreamID */
    uint32_t ssid;
} SmmuCdKey;

typedef struct SmmuState SmmuState;

typedef struct SmmuCdEntry {
    SmmuCdKey key;
    uint32_t hwpt_tag;          /* the nested HWPT (STE) it came through */
    SmmuCd cd;
    SmmuState *state;
    GList link;                 /* in SmmuState.cd_order */
} SmmuCdEntry;

/* Per physical SMMU: its configuration cache, its masters' vSIDs. */
struct SmmuState {
    unsigned users;             /* nested HWPTs alive on this SMMU */
    GHashTable *cds;            /* SmmuCdKey -> SmmuCdEntry */
    GQueue cd_order;            /* SmmuCdEntry of cds, oldest first */
    /*
     * EmuIdev -> its vmaster's vSID + 1 (0: none), set at each nested
     * attach (smmu_nested_set()); an entry outlives its idev harmlessly,
     * a new idev at the same address is set before it can fault.
     */
    GHashTable *vmasters;
};

/* The configuration cache holds this many CDs, replacing the oldest. */
#define SMMU_CD_CACHE_ENTRIES   256

/* An SMMU's state (iommu->hw_state) exists while nested HWPTs do. */

/* One device request being translated. */
typedef struct SmmuReq {
    EmuHwpt *hwpt;
    EmuIdev *idev;
    uint32_t pasid;
    uint64_t iova;
    unsigned access;
    bool record;                /* CD.R of the CD in use */
    EmuWalk *w;
} SmmuReq;

/* ssid_select(): the request bypasses stage 1 (S1DSS). */
#define SSID_BYPASS             UINT32_MAX

/* ---- GET_HW_INFO ---- */

/* IDR5.OAS: the largest size that @ias bits hold. */
static unsigned oas_encoding(unsigned ias)
{
    unsigned i = G_N_ELEMENTS(pa_size_bits) - 1;

    while (i && pa_size_bits[i] > ias) {
        i--;
    }
    return i;
}

static unsigned oas_bits(const EmuIommu *iommu)
{
    return pa_size_bits[oas_encoding(iommu->cfg.ias)];
}

/* 52-bit input addresses with the 64K granule (IDR5.VAX) */
static bool smmu_vax52(const EmuHwConfig *cfg)
{
    return cfg->smmu.gran64k && oas_encoding(cfg->ias) == PA_SIZE_52;
}

static uint32_t smmu_idr0(const EmuHwConfig *cfg)
{
    uint64_t idr = IDR0_S1P | IDR0_COHACC | IDR0_ASID16 | IDR0_MSI |
                   IDR0_VMID16 | IDR0_TERM_MODEL;

    idr |= field_put(IDR0_TTF, IDR0_TTF_AARCH64) |
           field_put(IDR0_TTENDIAN, IDR0_TTENDIAN_LE) |
           field_put(IDR0_STALL_MODEL, IDR0_STALL_NONE) |
           field_put(IDR0_ST_LEVEL, IDR0_ST_LEVEL_2LVL);
    if (cfg->nesting) {
        idr |= IDR0_S2P;
    }
    if (cfg->smmu.cd2l) {
        idr |= IDR0_CD2L;
    }
    if (cfg->smmu.ats) {
        idr |= IDR0_ATS;
    }
    return idr;
}

static uint32_t smmu_idr1(const EmuHwConfig *cfg)
{
    return field_put(IDR1_SIDSIZE, SMMU_SID_BITS) |
           field_put(IDR1_SSIDSIZE, cfg->smmu.ssid_bits) |
           field_put(IDR1_EVENTQS, SMMU_QUEUE_LOG2) |
           field_put(IDR1_CMDQS, SMMU_QUEUE_LOG2);
}

static uint32_t smmu_idr5(const EmuHwConfig *cfg)
{
    uint64_t idr = field_put(IDR5_OAS, oas_encoding(cfg->ias)) |
                   IDR5_GRAN4K;

    if (cfg->smmu.gran16k) {
        idr |= IDR5_GRAN16K;
    }
    if (cfg->smmu.gran64k) {
        idr |= IDR5_GRAN64K;
    }
    if (smmu_vax52(cfg)) {
        idr |= field_put(IDR5_VAX, IDR5_VAX_52);
    }
    return idr;
}

static size_t smmu_hw_info(EmuIommu *iommu, void *buf, size_t len)
{
    const EmuHwConfig *cfg = &iommu->cfg;
    struct iommu_hw_info_arm_smmuv3 info = { 0 };

    g_assert(len >= sizeof(info));
    info.idr[0] = smmu_idr0(cfg);
    info.idr[1] = smmu_idr1(cfg);
    /*
     * Stage-2 forced write-back: Linux offers a vIOMMU only on an SMMU with
     * it (or a CANWBS root complex), and the modelled one offers vIOMMUs.
     */
    info.idr[3] = IDR3_FWB | (cfg->smmu.ril ? IDR3_RIL : 0);
    info.idr[5] = smmu_idr5(cfg);
    info.iidr = SMMU_IIDR;
    info.aidr = SMMU_AIDR_V3_2;
    /*
     * arm_smmu_hw_info(): the flag of erratum T264-SMMU-3 (Tegra264), on
     * which user space repeats its TLBI/CFGI + SYNC. Only the report is
     * modelled: this SMMU executes every command the first time.
     */
    if (cfg->smmu.errata_t264) {
        info.flags |= IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI;
    }
    memcpy(buf, &info, sizeof(info));
    return sizeof(info);
}

/* ---- the CD cache ---- */

static guint cd_key_hash(gconstpointer p)
{
    const SmmuCdKey *k = p;

    return (k->vmid * 0x9e3779b1u) ^ (k->sid * 0x85ebca6bu) ^ k->ssid;
}

static gboolean cd_key_equal(gconstpointer a, gconstpointer b)
{
    const SmmuCdKey *x = a, *y = b;

    return x->vmid == y->vmid && x->sid == y->sid && x->ssid == y->ssid;
}

static void cd_entry_free(gpointer p)
{
    SmmuCdEntry *e = p;

    g_queue_unlink(&e->state->cd_order, &e->link);
    g_free(e);
}

static SmmuState *state_find(const EmuIommu *iommu)
{
    return iommu->hw_state;
}

/* A nested HWPT now lives on @iommu; dropped by state_unref(). */
static void state_ref(EmuIommu *iommu)
{
    SmmuState *s = iommu->hw_state;

    if (!s) {
        s = g_new0(SmmuState, 1);
        s->cds = g_hash_table_new_full(cd_key_hash, cd_key_equal, NULL,
                                       cd_entry_free);
        g_queue_init(&s->cd_order);
        s->vmasters = g_hash_table_new(g_direct_hash, g_direct_equal);
        iommu->hw_state = s;
    }
    s->users++;
}

static void state_unref(EmuIommu *iommu)
{
    SmmuState *s = state_find(iommu);

    g_assert(s && s->users);
    if (--s->users) {
        return;
    }
    iommu->hw_state = NULL;
    g_hash_table_destroy(s->cds);
    g_hash_table_destroy(s->vmasters);
    g_assert(!s->cd_order.length);
    g_free(s);
}

static gboolean cd_entry_of_hwpt(gpointer key, gpointer value, gpointer tag)
{
    const SmmuCdEntry *e = value;

    return e->hwpt_tag == GPOINTER_TO_UINT(tag);
}

/* Drop the CDs cached for @ssid (EMU_ANY: all) of a device. */
typedef struct CdDrop {
    uint32_t vmid, sid, ssid;
} CdDrop;

static gboolean cd_entry_match(gpointer key, gpointer value, gpointer opaque)
{
    const SmmuCdEntry *e = value;
    const CdDrop *d = opaque;

    return e->key.vmid == d->vmid && e->key.sid == d->sid &&
           (d->ssid == EMU_ANY || e->key.ssid == d->ssid);
}

static void cd_cache_drop(EmuViommu *viommu, EmuIdev *idev, uint32_t ssid)
{
    SmmuState *s = state_find(viommu->iommu);
    CdDrop d = { viommu->vmid, idev->dev->rid, ssid };

    if (s) {
        g_hash_table_foreach_remove(s->cds, cd_entry_match, &d);
    }
}

/* ---- nested HWPTs ---- */

static int ste_decode(uint64_t w0, uint64_t w1, SmmuSte *ste)
{
    unsigned eats;

    if (!(w0 & STE0_V)) {
        /*
         * arm_smmu_validate_vste() zeroes a V=0 vSTE and
         * arm_smmu_make_nested_domain_ste() installs an abort STE for
         * it: Cfg stays 0 (abort), no event reaches the guest.
         */
        return 0;
    }
    if ((w0 & ~STE0_NESTED_FIELDS) || (w1 & ~STE1_NESTED_FIELDS)) {
        return -EIO;
    }
    ste->cfg = field_get(STE0_CFG, w0);
    if (ste->cfg != STE_CFG_ABORT && ste->cfg != STE_CFG_BYPASS &&
        ste->cfg != STE_CFG_S1_TRANS) {
        return -EIO;
    }
    eats = field_get(STE1_EATS, w1);
    if (eats != EATS_ABT && eats != EATS_TRANS) {
        return -EIO;
    }
    ste->valid = true;
    ste->s1fmt = field_get(STE0_S1FMT, w0);
    ste->s1cdmax = field_get(STE0_S1CDMAX, w0);
    ste->s1dss = field_get(STE1_S1DSS, w1);
    ste->ctxptr = w0 & STE0_CTXPTR;
    return 0;
}

static int smmu_nested_alloc(EmuHwpt *hwpt, const void *data, size_t len)
{
    const struct iommu_hwpt_arm_smmuv3 *arg = data;
    SmmuSte *ste = g_new0(SmmuSte, 1);
    int rc;

    rc = ste_decode(GUINT64_FROM_LE(arg->ste[0]),
                    GUINT64_FROM_LE(arg->ste[1]), ste);
    if (!rc) {
        /*
         * arm_vsmmu_alloc_domain_nested(): the vSTE is validated, then
         * the domain allocated (kzalloc)
         */
        rc = emu_host_op(hwpt->obj.ctx->host);
    }
    if (rc) {
        g_free(ste);
        return rc;
    }
    hwpt->data = ste;           /* freed by the core */
    state_ref(hwpt->iommu);     /* dropped in smmu_nested_free() */
    return 0;
}

static int smmu_nested_attach(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid)
{
    const SmmuSte *ste = hwpt->data;
    EmuVdevice *vdev = idev->vdev;

    if (pasid != EMU_NO_PASID) {
        /* The STE serves every SubstreamID: no per-PASID nested domain */
        return -EOPNOTSUPP;
    }
    if (ste->valid && ste->cfg == STE_CFG_S1_TRANS &&
        (!vdev || vdev->viommu != hwpt->viommu)) {
        return -ENOENT;         /* events and CFGI_CD need the vSID */
    }
    /* The host writes the STE: CDs cached through the old one go. */
    cd_cache_drop(hwpt->viommu, idev, EMU_ANY);
    return 0;
}

/*
 * The attach is committed (arm_smmu_attach_commit_vmaster()): the vSID
 * the device's events carry is its vDEVICE's on the nested domain's
 * vIOMMU now (arm_smmu_attach_prepare_vmaster()); none (an abort or
 * bypass STE attached before the vDEVICE existed) keeps its events with
 * the host until the next attach, and a vDEVICE destroyed later leaves
 * the vSID in place (iommufd_vdevice_abort() does not reach the driver).
 */
static void smmu_nested_set(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid)
{
    SmmuState *s = state_find(hwpt->iommu);
    EmuVdevice *vdev = idev->vdev;
    gsize vsid = 0;

    if (vdev && vdev->viommu == hwpt->viommu) {
        vsid = (uint32_t)vdev->virt_id + 1ULL;
    }
    g_hash_table_insert(s->vmasters, idev, GSIZE_TO_POINTER(vsid));
}

static void smmu_nested_free(EmuHwpt *hwpt)
{
    SmmuState *s = state_find(hwpt->iommu);

    g_hash_table_foreach_remove(s->cds, cd_entry_of_hwpt,
                                GUINT_TO_POINTER(hwpt->tag));
    state_unref(hwpt->iommu);
}

/* ---- faults and event records ---- */

/* The device's vmaster vSID + 1, 0 if it has none (smmu_nested_set()). */
static gsize req_vmaster(const EmuHwpt *hwpt, const EmuIdev *idev)
{
    return GPOINTER_TO_SIZE(g_hash_table_lookup(
                                state_find(hwpt->iommu)->vmasters, idev));
}

/*
 * The StreamID events carry: the vmaster's vSID (arm_vmaster_report_event()
 * puts it in place of the physical one), physical if none.
 */
static uint32_t req_sid(const SmmuReq *r)
{
    gsize vsid = req_vmaster(r->hwpt, r->idev);

    return vsid ? vsid - 1 : r->idev->dev->rid;
}

static uint64_t req_rnw(const SmmuReq *r)
{
    return (r->access & EMU_DMA_WRITE) ? 0 : EVT1_RNW;
}

static int fault_info(SmmuReq *r, int err, const char *reason)
{
    EmuFaultInfo *f = &r->w->fault;

    f->err = err;
    f->pasid = r->pasid;
    f->iova = r->iova;
    f->access = r->access;
    f->reason = reason;
    return err;
}

static void event_header(SmmuReq *r, unsigned id)
{
    EmuWalk *w = r->w;

    memset(w->hw, 0, sizeof(w->hw));
    w->hw[0] = field_put(EVT0_ID, id) | field_put(EVT0_SID, req_sid(r));
    if (r->pasid != EMU_NO_PASID) {
        w->hw[0] |= EVT0_SSV | field_put(EVT0_SSID, r->pasid);
    }
}

/* C_BAD_*, F_STREAM_DISABLED: the header is the whole record. */
static int config_event(SmmuReq *r, unsigned id, const char *reason)
{
    event_header(r, id);
    return fault_info(r, -EFAULT, reason);
}

/* F_TRANSLATION .. F_PERMISSION at stage 1, recorded if CD.R is set. */
static int s1_fault(SmmuReq *r, unsigned id, const char *reason)
{
    EmuWalk *w = r->w;

    if (r->record) {
        event_header(r, id);
        w->hw[1] = req_rnw(r) | field_put(EVT1_CLASS, EVT_CLASS_IN);
        w->hw[2] = r->iova;
    }
    return fault_info(r, id == EVT_F_PERMISSION ? -EPERM : -EFAULT, reason);
}

/* Stage 2 could not translate the IPA of a structure stage 1 reads. */
static int s2_fetch_fault(SmmuReq *r, unsigned class, uint64_t ipa)
{
    EmuWalk *w = r->w;

    event_header(r, EVT_F_TRANSLATION);
    w->hw[1] = req_rnw(r) | EVT1_S2 | field_put(EVT1_CLASS, class);
    w->hw[2] = r->iova;
    w->hw[3] = ipa & EVT3_IPA;
    return fault_info(r, -EFAULT, class == EVT_CLASS_CD ?
                      "stage 2 fault on a CD fetch" :
                      "stage 2 fault on a table walk");
}

/*
 * arm_smmu_handle_event(): a device with a vmaster gets its non-stage-2
 * events (the model records only the kinds the kernel forwards: C_BAD_STE,
 * F_STREAM_DISABLED, C_BAD_SUBSTREAMID, C_BAD_CD, F_TRANSLATION ..
 * F_PERMISSION) on its vIOMMU's vEVENTQ, with the vSID
 * (arm_vmaster_report_event()); others stay with the host.
 */
static void smmu_report_fault(EmuHwpt *hwpt, EmuIdev *idev,
                              const EmuWalk *w)
{
    uint64_t evt[EVT_SIZE / 8];
    unsigned i;

    if (!field_get(EVT0_ID, w->hw[0]) || (w->hw[1] & EVT1_S2)) {
        return;                 /* nothing recorded, or the host's fault */
    }
    if (!req_vmaster(hwpt, idev)) {
        return;                 /* no vmaster: no vSID to report it under */
    }
    for (i = 0; i < G_N_ELEMENTS(evt); i++) {
        evt[i] = GUINT64_TO_LE(w->hw[i]);
    }
    emu_veventq_report(hwpt->viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, evt,
                       sizeof(evt));
}

/* ---- guest structures ---- */

static const uint8_t *guest_map(SmmuReq *r, uint64_t ipa, size_t len)
{
    return emu_s2_resolve(r->hwpt, ipa, len, EMU_DMA_READ);
}

static uint64_t le64_at(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return GUINT64_FROM_LE(v);
}

/* ---- STE and SubstreamID ---- */

/* The SubstreamID selecting the CD, or SSID_BYPASS. */
static int ssid_select(SmmuReq *r, const SmmuSte *ste, uint32_t *ssid)
{
    *ssid = 0;
    if (r->pasid == EMU_NO_PASID) {
        if (!ste->s1cdmax || ste->s1dss == S1DSS_SSID0) {
            return 0;
        }
        if (ste->s1dss == S1DSS_BYPASS) {
            *ssid = SSID_BYPASS;
            return 0;
        }
        return config_event(r, EVT_F_STREAM_DISABLED,
                            "no SubstreamID and S1DSS terminates");
    }
    if (!ste->s1cdmax || r->pasid >> ste->s1cdmax ||
        (!r->pasid && ste->s1dss == S1DSS_SSID0)) {
        return config_event(r, EVT_C_BAD_SUBSTREAMID,
                            "SubstreamID out of the CD table");
    }
    *ssid = r->pasid;
    return 0;
}

/* An STE the hardware finds ILLEGAL for stage-1 translation */
static bool ste_s1_illegal(const EmuIommu *iommu, const SmmuSte *ste)
{
    if (ste->s1cdmax > iommu->cfg.smmu.ssid_bits) {
        return true;
    }
    if (ste->s1cdmax && ste->s1fmt != S1FMT_LINEAR &&
        !iommu->cfg.smmu.cd2l) {
        return true;
    }
    return ste->s1cdmax &&
           (ste->s1fmt > S1FMT_2L_64K || ste->s1dss > S1DSS_SSID0);
}

/* ---- context descriptors ---- */

/* The IPA of the CD for @ssid (walking a 2-level table). */
static int cd_locate(SmmuReq *r, const SmmuSte *ste, uint32_t ssid,
                     uint64_t *addr)
{
    unsigned split;
    uint64_t l1, desc;
    const uint8_t *p;

    if (!ste->s1cdmax || ste->s1fmt == S1FMT_LINEAR) {
        *addr = ste->ctxptr + (uint64_t)ssid * CD_SIZE;
        return 0;
    }
    split = ste->s1fmt == S1FMT_2L_4K ? CD_SPLIT_4K : CD_SPLIT_64K;
    l1 = ste->ctxptr + (uint64_t)(ssid >> split) * L1CD_SIZE;
    p = guest_map(r, l1, L1CD_SIZE);
    if (!p) {
        return s2_fetch_fault(r, EVT_CLASS_CD, l1);
    }
    desc = le64_at(p);
    if (!(desc & L1CD_V)) {
        return config_event(r, EVT_C_BAD_SUBSTREAMID,
                            "L1 CD descriptor not valid");
    }
    *addr = (desc & L1CD_L2PTR) + (ssid & (BIT64(split) - 1)) * CD_SIZE;
    return 0;
}

/* Granule of a CD.TG0 value, 0 if this SMMU does not implement it. */
static unsigned tg0_shift(const EmuHwConfig *cfg, unsigned tg0)
{
    switch (tg0) {
    case TG0_4K:
        return GRANULE_4K;
    case TG0_16K:
        return cfg->smmu.gran16k ? GRANULE_16K : 0;
    case TG0_64K:
        return cfg->smmu.gran64k ? GRANULE_64K : 0;
    default:
        return 0;
    }
}

static bool t0sz_valid(const EmuHwConfig *cfg, const SmmuCd *cd)
{
    unsigned min = T0SZ_MIN;

    if (cd->gshift == GRANULE_64K && smmu_vax52(cfg)) {
        min = T0SZ_MIN_VAX52;
    }
    return cd->t0sz >= min && cd->t0sz <= T0SZ_MAX;
}

/* Decode a CD; false if it is invalid or ILLEGAL (C_BAD_CD). */
static bool cd_decode(const EmuIommu *iommu, uint64_t w0, uint64_t w1,
                      SmmuCd *cd)
{
    const EmuHwConfig *cfg = &iommu->cfg;
    unsigned ips = field_get(CD0_IPS, w0);

    if (!(w0 & CD0_V) || !(w0 & CD0_AA64) || (w0 & (CD0_ENDI | CD0_S)) ||
        ips >= G_N_ELEMENTS(pa_size_bits)) {
        return false;
    }
    cd->gshift = tg0_shift(cfg, field_get(CD0_TG0, w0));
    cd->t0sz = field_get(CD0_T0SZ, w0);
    cd->epd0 = w0 & CD0_EPD0;
    if (!cd->gshift || (!cd->epd0 && !t0sz_valid(cfg, cd))) {
        return false;
    }
    cd->oa_bits = MIN(pa_size_bits[ips], oas_bits(iommu));
    cd->affd = w0 & CD0_AFFD;
    cd->record = w0 & CD0_R;
    cd->asid = field_get(CD0_ASID, w0);
    cd->ttb0 = w1 & CD1_TTB0;
    return true;
}

static int cd_fetch(SmmuReq *r, const SmmuSte *ste, uint32_t ssid,
                    SmmuCd *cd)
{
    const uint8_t *p;
    uint64_t addr = 0;
    int rc = cd_locate(r, ste, ssid, &addr);

    if (rc) {
        return rc;
    }
    p = guest_map(r, addr, CD_SIZE);
    if (!p) {
        return s2_fetch_fault(r, EVT_CLASS_CD, addr);
    }
    if (!cd_decode(r->hwpt->iommu, le64_at(p), le64_at(p + 8), cd)) {
        return config_event(r, EVT_C_BAD_CD, "CD not valid or illegal");
    }
    return 0;
}

/* The CD for @ssid: from the CD cache, else fetched and cached. */
static int cd_get(SmmuReq *r, const SmmuSte *ste, uint32_t ssid,
                  SmmuCd *cd)
{
    EmuHwpt *hwpt = r->hwpt;
    SmmuState *s = state_find(hwpt->iommu);
    SmmuCdKey key = { hwpt->viommu->vmid, r->idev->dev->rid, ssid };
    SmmuCdEntry *e = g_hash_table_lookup(s->cds, &key);
    int rc;

    if (e && e->hwpt_tag == hwpt->tag) {
        *cd = e->cd;
        return 0;
    }
    rc = cd_fetch(r, ste, ssid, cd);
    if (rc) {
        return rc;              /* invalid CDs are not cached */
    }
    if (s->cd_order.length >= SMMU_CD_CACHE_ENTRIES) {
        SmmuCdEntry *old = s->cd_order.head->data;

        g_hash_table_remove(s->cds, &old->key);
    }
    e = g_new0(SmmuCdEntry, 1);
    e->key = key;
    e->hwpt_tag = hwpt->tag;
    e->cd = *cd;
    e->state = s;
    e->link.data = e;
    g_hash_table_replace(s->cds, &e->key, e);
    g_queue_push_tail_link(&s->cd_order, &e->link);
    return 0;
}

/* ---- the stage-1 table walk ---- */

typedef struct TtWalk {
    const SmmuCd *cd;
    unsigned va_bits;
    unsigned level;
    uint64_t table;             /* IPA of the table at @level */
    bool no_write;              /* APTable[1] on the way down */
    bool no_unpriv;             /* APTable[0] on the way down */
} TtWalk;

/* Lowest input address bit a descriptor at @level resolves. */
static unsigned level_shift(unsigned gshift, unsigned level)
{
    return gshift + (TT_LAST_LEVEL - level) * (gshift - 3);
}

static unsigned start_level(unsigned gshift, unsigned va_bits)
{
    return TT_LEVELS - EMU_DIV_ROUND_UP(va_bits - gshift, gshift - 3);
}

static unsigned index_bits(const TtWalk *t)
{
    unsigned shift = level_shift(t->cd->gshift, t->level);

    return MIN(t->cd->gshift - 3, t->va_bits - shift);
}

/* Output address of a descriptor (OA[51:48] in [15:12] with 64K). */
static uint64_t pte_oa(uint64_t pte, unsigned gshift)
{
    uint64_t oa = pte & BITS64(PTE_OA_TOP, gshift);

    if (gshift == GRANULE_64K) {
        oa |= field_get(PTE_OA_HI, pte) << PTE_OA_HI_SHIFT;
    }
    return oa;
}

static bool block_allowed(unsigned gshift, unsigned level)
{
    return level == 2 || (gshift == GRANULE_4K && level == 1);
}

static int tt_read(SmmuReq *r, const TtWalk *t, uint64_t *pte)
{
    unsigned shift = level_shift(t->cd->gshift, t->level);
    uint64_t idx = (r->iova >> shift) & (BIT64(index_bits(t)) - 1);
    uint64_t addr = t->table + idx * PTE_SIZE;
    const uint8_t *p = guest_map(r, addr, PTE_SIZE);

    if (!p) {
        return s2_fetch_fault(r, EVT_CLASS_TT, addr);
    }
    *pte = le64_at(p);
    return 0;
}

static int tt_next(SmmuReq *r, TtWalk *t, uint64_t pte)
{
    t->table = pte_oa(pte, t->cd->gshift);
    if (t->table >> t->cd->oa_bits) {
        return s1_fault(r, EVT_F_ADDR_SIZE, "table address beyond IPS");
    }
    t->no_write |= !!(pte & PTE_APTABLE_RO);
    t->no_unpriv |= !!(pte & PTE_APTABLE_NO_UNPRIV);
    t->level++;
    return 0;
}

/* Access an unprivileged data request gets from a leaf. */
static unsigned leaf_prot(const TtWalk *t, uint64_t pte)
{
    if (!(pte & PTE_AP_UNPRIV) || t->no_unpriv) {
        return 0;
    }
    if ((pte & PTE_AP_RO) || t->no_write) {
        return EMU_DMA_READ;
    }
    return EMU_DMA_READ | EMU_DMA_WRITE;
}

static int tt_leaf(SmmuReq *r, const TtWalk *t, uint64_t pte)
{
    const SmmuCd *cd = t->cd;
    uint64_t size = BIT64(level_shift(cd->gshift, t->level));
    uint64_t oa = pte_oa(pte, cd->gshift) & ~(size - 1);
    bool page = t->level == TT_LAST_LEVEL;
    unsigned prot;

    if (page ? !(pte & PTE_TYPE) : !block_allowed(cd->gshift, t->level)) {
        return s1_fault(r, EVT_F_TRANSLATION, "reserved descriptor");
    }
    if (oa >> cd->oa_bits) {
        return s1_fault(r, EVT_F_ADDR_SIZE, "output address beyond IPS");
    }
    if (!(pte & PTE_AF) && !cd->affd) {
        return s1_fault(r, EVT_F_ACCESS, "access flag clear");
    }
    prot = leaf_prot(t, pte);
    r->w->out = oa | (r->iova & (size - 1));
    r->w->size = size;
    r->w->prot = prot;
    return 0;
}

/* EmuTlbData.attr of a walk-cache entry: APTable below it */
#define WALK_NO_WRITE           1u
#define WALK_NO_UNPRIV          2u

/*
 * The walk cache: the deepest table descriptor cached for the address
 * under (VMID, ASID) lets the walk start below it. An entry made with
 * another granule (the CD changed under the same ASID) does not fit the
 * level structure and is passed over.
 */
static bool walk_cache_start(SmmuReq *r, TtWalk *t, uint32_t vmid)
{
    const SmmuCd *cd = t->cd;
    unsigned shift, stride = cd->gshift - 3, level;
    const EmuTlbData *e = emu_iotlb_lookup(r->hwpt->iommu->iotlb,
                                           EMU_TLB_PSC, vmid, cd->asid,
                                           r->iova, &shift);

    if (!e || shift < cd->gshift || (shift - cd->gshift) % stride) {
        return false;
    }
    level = TT_LAST_LEVEL - (shift - cd->gshift) / stride;
    if (level < t->level || level >= TT_LAST_LEVEL) {
        return false;
    }
    t->level = level + 1;
    t->table = e->out;
    t->no_write = e->attr & WALK_NO_WRITE;
    t->no_unpriv = e->attr & WALK_NO_UNPRIV;
    return true;
}

/* Cache the table descriptor just followed from t->level - 1. */
static void walk_cache_insert(SmmuReq *r, const TtWalk *t, uint32_t vmid)
{
    EmuTlbData d = {
        .out = t->table,
        .attr = (t->no_write ? WALK_NO_WRITE : 0) |
                (t->no_unpriv ? WALK_NO_UNPRIV : 0),
    };

    emu_iotlb_insert(r->hwpt->iommu->iotlb, EMU_TLB_PSC, vmid, t->cd->asid,
                     r->iova, level_shift(t->cd->gshift, t->level - 1), &d);
}

static int tt_walk(SmmuReq *r, const SmmuCd *cd)
{
    TtWalk t = { .cd = cd, .va_bits = 64 - cd->t0sz };
    uint32_t vmid = r->hwpt->viommu->vmid;
    uint64_t pte = 0;
    int rc;

    if (cd->epd0 || r->iova >> t.va_bits) {
        return s1_fault(r, EVT_F_TRANSLATION, "outside the TTB0 range");
    }
    t.level = start_level(cd->gshift, t.va_bits);
    if (!walk_cache_start(r, &t, vmid)) {
        /* TTB0 bits below the size of the first table read as zero */
        t.table = cd->ttb0 & ~((PTE_SIZE << index_bits(&t)) - 1);
        if (t.table >> cd->oa_bits) {
            return s1_fault(r, EVT_F_ADDR_SIZE, "TTB0 beyond IPS");
        }
    }
    for (;;) {
        rc = tt_read(r, &t, &pte);
        if (rc) {
            return rc;
        }
        if (!(pte & PTE_VALID)) {
            return s1_fault(r, EVT_F_TRANSLATION, "invalid descriptor");
        }
        if (t.level == TT_LAST_LEVEL || !(pte & PTE_TYPE)) {
            return tt_leaf(r, &t, pte);
        }
        rc = tt_next(r, &t, pte);
        if (rc) {
            return rc;
        }
        walk_cache_insert(r, &t, vmid);
    }
}

/* ---- a request through the STE ---- */

/*
 * Stage 1 bypassed: the IPA is the input address (stage 2 still runs,
 * live). Nothing is cached under an ASID.
 */
static int s1_bypass(SmmuReq *r)
{
    r->w->out = r->iova;
    r->w->size = EMU_PAGE_SIZE;
    r->w->prot = EMU_DMA_READ | EMU_DMA_WRITE;
    return 0;
}

/*
 * The TLB for a request under @cd: entries are tagged (VMID of the
 * stage-2 parent, ASID) and looked up by address alone, whatever STE or
 * CD led there; a miss walks and caches the leaf, also when it then
 * fails the permission check. A permission fault is taken on the cached
 * entry without a new walk, as the architecture allows (no HTTU here).
 */
static int tlb_translate(SmmuReq *r, const SmmuCd *cd)
{
    EmuIotlb *tlb = r->hwpt->iommu->iotlb;
    uint32_t vmid = r->hwpt->viommu->vmid;
    EmuWalk *w = r->w;
    unsigned shift;
    const EmuTlbData *hit = emu_iotlb_lookup(tlb, EMU_TLB_LEAF, vmid,
                                             cd->asid, r->iova, &shift);
    EmuTlbData d;
    int rc;

    if (hit) {
        w->size = 1ULL << shift;
        w->out = hit->out | (r->iova & (w->size - 1));
        w->prot = hit->prot;
    } else {
        rc = tt_walk(r, cd);
        if (rc) {
            return rc;
        }
        d = (EmuTlbData) { .out = w->out & ~(w->size - 1), .prot = w->prot };
        emu_iotlb_insert(tlb, EMU_TLB_LEAF, vmid, cd->asid, r->iova,
                         __builtin_ctzll(w->size), &d);
    }
    if ((w->prot & r->access) != r->access) {
        return s1_fault(r, EVT_F_PERMISSION, "stage-1 permission");
    }
    return 0;
}

static int s1_translate(SmmuReq *r, const SmmuSte *ste)
{
    SmmuCd cd;
    uint32_t ssid;
    int rc;

    if (ste_s1_illegal(r->hwpt->iommu, ste)) {
        return config_event(r, EVT_C_BAD_STE, "STE stage-1 config illegal");
    }
    rc = ssid_select(r, ste, &ssid);
    if (rc) {
        return rc;
    }
    if (ssid == SSID_BYPASS) {
        return s1_bypass(r);
    }
    rc = cd_get(r, ste, ssid, &cd);
    if (rc) {
        return rc;
    }
    r->record = cd.record;
    return tlb_translate(r, &cd);
}

static int smmu_walk(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid,
                     uint64_t iova, unsigned access, EmuWalk *w)
{
    const SmmuSte *ste = hwpt->data;
    SmmuReq r = {
        .hwpt = hwpt, .idev = idev, .pasid = pasid, .iova = iova,
        .access = access, .record = true, .w = w,
    };

    switch (ste->cfg) {
    case STE_CFG_ABORT:
        return fault_info(&r, -EFAULT, "STE aborts");   /* no event */
    case STE_CFG_BYPASS:
        if (pasid != EMU_NO_PASID) {
            return config_event(&r, EVT_C_BAD_SUBSTREAMID,
                                "SubstreamID with stage 1 bypassed");
        }
        return s1_bypass(&r);
    default:
        return s1_translate(&r, ste);
    }
}

/* ---- invalidation commands (IOMMU_HWPT_INVALIDATE on the vIOMMU) ---- */

/*
 * The fields a guest command may set, per opcode, as Linux 7.3.4 checks
 * them before a command reaches the shared command queue
 * (arm_vsmmu_validate_user_cmd(), arm_vsmmu_validate_range()): any other
 * bit (RES0, Secure) is -EIO; so are the reserved range encodings and an
 * ATC_INV on an SMMU without ATS (cfg.smmu.ats) or with a Size above 52
 * (ATC_INV_SIZE_ALL). Out-of-range
 * addresses and IDs are CONSTRAINED UNPREDICTABLE for the guest alone
 * and pass. This SMMU has 16-bit ASIDs and no IDR5.DS.
 */
static int cmd_validate(const EmuIommu *iommu, const uint64_t *cmd)
{
    const EmuHwConfig *cfg = &iommu->cfg;
    uint64_t ok0 = CMD0_OP, ok1 = 0;

    switch (field_get(CMD0_OP, cmd[0])) {
    case CMD_TLBI_NSNH_ALL:
        break;
    case CMD_TLBI_NH_VA:
    case CMD_TLBI_NH_VAA:
        if (field_get(CMD0_OP, cmd[0]) == CMD_TLBI_NH_VA) {
            ok0 |= CMD0_TLBI_ASID;
        }
        if (cfg->smmu.ril) {
            unsigned tg = field_get(CMD1_TLBI_TG, cmd[1]);
            unsigned ttl = field_get(CMD1_TLBI_TTL, cmd[1]);
            bool range = cmd[0] & (CMD0_TLBI_NUM | CMD0_TLBI_SCALE);

            /* NUM, SCALE, TTL are RES0 without TG; TG with neither a
             * range nor a level is reserved; TTL 1 at 16K needs DS */
            if (tg ? (!range && !ttl) || (tg == TLBI_TG_16K && ttl == 1)
                   : (range || ttl)) {
                return -EIO;
            }
            ok0 |= CMD0_TLBI_NUM | CMD0_TLBI_SCALE;
            ok1 |= CMD1_TLBI_TG | CMD1_TLBI_TTL;
        }
        ok0 |= CMD0_TLBI_VMID;
        ok1 |= CMD1_TLBI_LEAF | CMD1_TLBI_VA;
        break;
    case CMD_TLBI_NH_ASID:
        ok0 |= CMD0_TLBI_ASID | CMD0_TLBI_VMID;
        break;
    case CMD_TLBI_NH_ALL:
        ok0 |= CMD0_TLBI_VMID;
        break;
    case CMD_CFGI_CD:
        /* no SSV; an SSID only where substreams exist */
        if (cfg->smmu.ssid_bits) {
            ok0 |= CMD0_SSID;
        }
        ok1 |= CMD1_CFGI_LEAF;
        ok0 |= CMD0_SID;
        break;
    case CMD_CFGI_CD_ALL:
        ok0 |= CMD0_SID;
        break;
    case CMD_ATC_INV:
        if (!cfg->smmu.ats || field_get(CMD1_ATC_SIZE, cmd[1]) > 52) {
            return -EIO;
        }
        /* SSID and Global are IGNORED without SSV: no SSV check */
        if (cfg->smmu.ssid_bits) {
            ok0 |= CMD0_SSV | CMD0_SSID | CMD0_ATC_GLOBAL;
        }
        ok0 |= CMD0_SID;
        ok1 |= CMD1_ATC_SIZE | CMD1_ATC_ADDR;
        break;
    default:
        return -EIO;
    }
    return (cmd[0] & ~ok0) || (cmd[1] & ~ok1) ? -EIO : 0;
}

/* Granule of a TLBI TG value (1: 4K, 2: 16K, 3: 64K). */
static unsigned tlbi_tg_shift(unsigned tg)
{
    return tg == TLBI_TG_4K ? GRANULE_4K :
           tg == TLBI_TG_16K ? GRANULE_16K : GRANULE_64K;
}

/*
 * TLBI_NH_VA / TLBI_NH_VAA: every entry holding VA, or with RIL and a TG
 * the range (NUM + 1) << (SCALE + granule) from VA. A TTL level hint
 * limits the flush to leaves of that level, as an SMMU may: a guest that
 * gives the wrong level keeps its stale entry. With Leaf set the walk
 * cache entries for the range stay (SMMUv3 spec 4.4.1).
 */
static void tlbi_va(EmuViommu *viommu, const uint64_t *cmd, uint32_t asid)
{
    unsigned tg = field_get(CMD1_TLBI_TG, cmd[1]);
    unsigned ttl = field_get(CMD1_TLBI_TTL, cmd[1]);
    uint64_t num = field_get(CMD0_TLBI_NUM, cmd[0]);
    uint64_t scale = field_get(CMD0_TLBI_SCALE, cmd[0]);
    unsigned gshift = tg ? tlbi_tg_shift(tg) : GRANULE_4K;
    uint64_t va, len, last;

    if (tg && (num || scale)) {
        len = (num + 1) << (scale + gshift);
    } else {
        len = BIT64(gshift);
    }
    va = cmd[1] & CMD1_TLBI_VA & ~(BIT64(gshift) - 1);
    last = va + len - 1 < va ? UINT64_MAX : va + len - 1;
    emu_iotlb_flush_size(viommu->iommu->iotlb, 1u << EMU_TLB_LEAF,
                         viommu->vmid, asid, va, last,
                         tg && ttl ? level_shift(gshift, ttl) : 0);
    /* Leaf: only last-level entries changed, the walk cache stays */
    if (!(cmd[1] & CMD1_TLBI_LEAF)) {
        emu_iotlb_flush(viommu->iommu->iotlb, 1u << EMU_TLB_PSC,
                        viommu->vmid, asid, va, last);
    }
}

static int cfgi_cd(EmuViommu *viommu, const uint64_t *cmd, bool all)
{
    EmuIdev *idev = emu_viommu_find_dev(viommu, field_get(CMD0_SID, cmd[0]));

    if (!idev) {
        return -EIO;            /* arm_vsmmu_vsid_to_sid() */
    }
    /*
     * Configuration only: TLB entries are tagged by ASID, not by stream,
     * so translations cached under the old CD's ASID stay until a TLBI.
     */
    cd_cache_drop(viommu, idev, all ? EMU_ANY : field_get(CMD0_SSID, cmd[0]));
    return 0;
}

/*
 * arm_vsmmu_convert_user_cmd(): the checks of cmd_validate(), and the
 * vSID of CFGI_CD(_ALL) and ATC_INV must name a vDEVICE
 * (arm_vsmmu_vsid_to_sid()).
 */
static int smmu_inv_check(EmuViommu *viommu, const void *entry)
{
    const struct iommu_viommu_arm_smmuv3_invalidate *inv = entry;
    uint64_t cmd[2] = {
        GUINT64_FROM_LE(inv->cmd[0]), GUINT64_FROM_LE(inv->cmd[1]),
    };
    int rc = cmd_validate(viommu->iommu, cmd);
    unsigned op = field_get(CMD0_OP, cmd[0]);

    if (!rc && (op == CMD_CFGI_CD || op == CMD_CFGI_CD_ALL ||
                op == CMD_ATC_INV) &&
        !emu_viommu_find_dev(viommu, field_get(CMD0_SID, cmd[0]))) {
        rc = -EIO;
    }
    return rc;
}

/* One command smmu_inv_check() accepted, as the SMMU executes it. */
static int smmu_invalidate(EmuHwpt *hwpt, EmuViommu *viommu, void *entry)
{
    const struct iommu_viommu_arm_smmuv3_invalidate *inv = entry;
    uint64_t cmd[2] = {
        GUINT64_FROM_LE(inv->cmd[0]), GUINT64_FROM_LE(inv->cmd[1]),
    };
    EmuIotlb *tlb = viommu->iommu->iotlb;

    /* The guest's VMID field is replaced: the vIOMMU's VMID applies. */
    switch (field_get(CMD0_OP, cmd[0])) {
    case CMD_TLBI_NH_ALL:
    case CMD_TLBI_NSNH_ALL:
        emu_iotlb_flush(tlb, EMU_TLB_ALL, viommu->vmid, EMU_ANY, 0,
                        UINT64_MAX);
        return 0;
    case CMD_TLBI_NH_ASID:
        emu_iotlb_flush(tlb, EMU_TLB_ALL, viommu->vmid,
                        field_get(CMD0_TLBI_ASID, cmd[0]), 0, UINT64_MAX);
        return 0;
    case CMD_TLBI_NH_VA:
        tlbi_va(viommu, cmd, field_get(CMD0_TLBI_ASID, cmd[0]));
        return 0;
    case CMD_TLBI_NH_VAA:
        tlbi_va(viommu, cmd, EMU_ANY);
        return 0;
    case CMD_CFGI_CD:
        return cfgi_cd(viommu, cmd, false);
    case CMD_ATC_INV:
        return 0;               /* no ATC: nothing cached to drop */
    default:
        return cfgi_cd(viommu, cmd, true);
    }
}

const EmuHwOps emu_hw_smmuv3_ops = {
    .kind = EMU_HW_SMMUV3,
    .hw_info_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
    .hw_info = smmu_hw_info,
    .nested_data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
    /* arm_vsmmu_alloc_domain_nested(): min_last ste, no flags */
    .nested_data_min = sizeof(struct iommu_hwpt_arm_smmuv3),
    .nested_data_size = sizeof(struct iommu_hwpt_arm_smmuv3),
    .nested_type_einval = true,
    .nested_flags = 0,
    .nested_alloc = smmu_nested_alloc,
    .nested_attach = smmu_nested_attach,
    .nested_set = smmu_nested_set,
    .nested_free = smmu_nested_free,
    .inv_data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
    .inv_entry_size = sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
    .invalidate = smmu_invalidate,
    .viommu_inv_check = smmu_inv_check,
    .viommu_inv_batch = SMMU_CMDQ_BATCH,
    .viommu_type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
    .veventq_type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
    .s1_translate = smmu_walk,
    .report_fault = smmu_report_fault,
};
