/*
 * VNest unit tests: the emulated host's Arm SMMUv3
 *
 * The SMMUv3 hardware model behind the emulated iommufd: GET_HW_INFO ID
 * registers, the nesting objects (NEST_PARENT HWPT, vIOMMU, vDEVICE,
 * vEVENTQ, nested HWPT from a vSTE) and their errors and lifetimes,
 * stage-1 translation of device DMA through guest CD and page tables
 * built in guest RAM (4K/16K/64K granules, blocks, SubstreamIDs), the
 * event records faults put in the vEVENTQ, and the invalidation
 * commands: a DMA keeps using a stale translation or CD until the right
 * TLBI or CFGI arrives.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <sys/mman.h>
#include "smmu-s1.h"

#define VSID            0x42
#define ASID            5
#define EVQ_DEPTH       16
#define IOVA            0x0000123456789000ULL
#define IOVA_UNMAPPED   0x80000000ULL   /* no S2 mapping there */
#define T0SZ_MASK       0x3fULL
#define TG0_MASK        (3ULL << S1_CD0_TG0_SHIFT)
#define IPS_MASK        (7ULL << S1_CD0_IPS_SHIFT)
#define CD0_ENDI        (1ULL << 15)
#define SSID_TOO_BIG    16              /* the small config has 4 bits */
#define EVT_RECORD      (sizeof(struct iommufd_vevent_header) + \
                         sizeof(struct iommu_vevent_arm_smmuv3))

typedef struct SmmuTest {
    EmuFixture f;
    S1Mem mem;
    uint32_t s2_id;
    uint32_t viommu_id;
    uint32_t vdev_id;
    uint32_t veventq_id;
    uint32_t nested_id;
    int evfd;
    uint64_t stamp;             /* last value lands() wrote */
} SmmuTest;

static void setup(SmmuTest *t, gconstpointer data)
{
    memset(t, 0, sizeof(*t));
    emu_fixture_setup(&t->f, EMU_HW_SMMUV3);
}

/* No RIL, 4K granule only, 4-bit SubstreamIDs, 40-bit OAS */
static void setup_small(SmmuTest *t, gconstpointer data)
{
    EmuHwConfig cfg;

    memset(t, 0, sizeof(*t));
    emu_hw_config_default(&cfg, EMU_HW_SMMUV3);
    cfg.smmu.ril = false;
    cfg.smmu.gran16k = false;
    cfg.smmu.gran64k = false;
    cfg.smmu.ssid_bits = 4;
    cfg.ias = 40;
    emu_fixture_setup_cfg(&t->f, &cfg);
}

/* An SMMU with ATS (IDR0.ATS), as x-host-ats=on makes it */
static void setup_ats(SmmuTest *t, gconstpointer data)
{
    EmuHwConfig cfg;

    memset(t, 0, sizeof(*t));
    emu_hw_config_default(&cfg, EMU_HW_SMMUV3);
    cfg.smmu.ats = true;
    emu_fixture_setup_cfg(&t->f, &cfg);
}

/* An SMMU without 2-level CD tables, as x-host-cd2l=off makes it */
static void setup_no_cd2l(SmmuTest *t, gconstpointer data)
{
    EmuHwConfig cfg;

    memset(t, 0, sizeof(*t));
    emu_hw_config_default(&cfg, EMU_HW_SMMUV3);
    cfg.smmu.cd2l = false;
    emu_fixture_setup_cfg(&t->f, &cfg);
}

static void teardown(SmmuTest *t, gconstpointer data)
{
    emu_fixture_teardown(&t->f);
}

/* ---- helpers ---- */

/*
 * Guest RAM in the IOAS, a NEST_PARENT HWPT on it, a vIOMMU, the
 * device's vDEVICE (vSID VSID) if @vdev, and a vEVENTQ of @depth.
 */
static void nest_up(SmmuTest *t, bool vdev, uint32_t depth)
{
    EmuFixture *f = &t->f;

    s1_mem_init(&t->mem, f);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 IOMMU_HWPT_DATA_NONE, NULL, 0, &t->s2_id),
                    ==, 0);
    g_assert_cmpint(s1_viommu_alloc(f, f->dev_id, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                    t->s2_id, &t->viommu_id), ==, 0);
    if (vdev) {
        g_assert_cmpint(s1_vdevice_alloc(f, t->viommu_id, f->dev_id, VSID,
                                         &t->vdev_id), ==, 0);
    }
    g_assert_cmpint(s1_veventq_alloc(f, t->viommu_id,
                                     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, depth,
                                     &t->veventq_id, &t->evfd), ==, 0);
}

static int nested_alloc(SmmuTest *t, const struct iommu_hwpt_arm_smmuv3 *ste,
                        uint32_t flags, uint32_t *id)
{
    return t_hwpt_alloc(&t->f, t->viommu_id, flags,
                        IOMMU_HWPT_DATA_ARM_SMMUV3, ste, sizeof(*ste), id);
}

/* A nested HWPT from @ste replaces the device's domain (and the old one). */
static void ste_install(SmmuTest *t, const struct iommu_hwpt_arm_smmuv3 *ste)
{
    uint32_t id, pt;

    g_assert_cmpint(nested_alloc(t, ste, 0, &id), ==, 0);
    pt = id;
    g_assert_cmpint(t_attach(&t->f, &pt), ==, 0);
    g_assert_cmpuint(pt, ==, id);
    if (t->nested_id) {
        g_assert_cmpint(t_destroy(&t->f, t->nested_id), ==, 0);
    }
    t->nested_id = id;
}

static void ste_install_cfg(SmmuTest *t, unsigned cfg, uint64_t ctxptr,
                            unsigned fmt, unsigned cdmax, unsigned dss)
{
    struct iommu_hwpt_arm_smmuv3 ste;

    s1_vste(&ste, cfg, ctxptr, fmt, cdmax, dss);
    ste_install(t, &ste);
}

/* One CD (S1CDMax 0) with @asid over new tables @pt; returns its GPA. */
static uint64_t s1_up(SmmuTest *t, S1Pt *pt, unsigned gshift,
                      unsigned va_bits, uint16_t asid)
{
    uint64_t cd = s1_alloc(&t->mem, S1_CD_SIZE);

    s1_pt_init(pt, &t->mem, gshift, va_bits);
    s1_cd_write(&t->mem, cd, s1_cd0(pt, asid), pt);
    ste_install_cfg(t, S1_STE_CFG_S1, cd, S1_FMT_LINEAR, 0, 0);
    return cd;
}

static int dma_w(SmmuTest *t, uint32_t pasid, uint64_t iova, uint64_t v)
{
    return t_dma(&t->f, pasid, iova, &v, sizeof(v), EMU_DMA_WRITE);
}

static int dma_r(SmmuTest *t, uint32_t pasid, uint64_t iova, uint64_t *v)
{
    return t_dma(&t->f, pasid, iova, v, sizeof(*v), EMU_DMA_READ);
}

/* DMA-write a fresh value at @iova: 1 if it landed at GPA @a, 2 at @b. */
static int lands(SmmuTest *t, uint32_t pasid, uint64_t iova, uint64_t a,
                 uint64_t b)
{
    uint64_t v = ++t->stamp + 0x5eed000000000000ULL;

    g_assert_cmpint(dma_w(t, pasid, iova, v), ==, 0);
    if (s1_rd64(&t->mem, a) == v) {
        return 1;
    }
    return s1_rd64(&t->mem, b) == v ? 2 : 0;
}

/* @c with more bits set in its two words */
static S1Cmd cmd_or(S1Cmd c, uint64_t w0, uint64_t w1)
{
    c.cmd[0] |= GUINT64_TO_LE(w0);
    c.cmd[1] |= GUINT64_TO_LE(w1);
    return c;
}

#define TTL(l)          ((uint64_t)(l) << 8)

static void inv1(SmmuTest *t, S1Cmd cmd)
{
    uint32_t done;

    g_assert_cmpint(s1_invalidate(&t->f, t->viommu_id, &cmd, 1, &done),
                    ==, 0);
    g_assert_cmpuint(done, ==, 1);
}

static int inv1_err(SmmuTest *t, S1Cmd cmd)
{
    uint32_t done = 99;
    int rc = s1_invalidate(&t->f, t->viommu_id, &cmd, 1, &done);

    g_assert_cmpuint(done, ==, rc ? 0 : 1);
    return rc;
}

/* The next vEVENTQ record: event @id for VSID and @pasid. */
static S1Event read_event(SmmuTest *t, unsigned id, uint32_t pasid)
{
    S1Event ev;

    g_assert_cmpuint(s1_read_events(&t->f, t->evfd, &ev, 1), ==, 1);
    g_assert_true(ev.payload);
    g_assert_cmphex(s1_evt_id(&ev), ==, id);
    g_assert_cmphex(s1_evt_sid(&ev), ==, VSID);
    if (pasid == EMU_NO_PASID) {
        g_assert_false(ev.evt[0] & S1_EVT0_SSV);
    } else {
        g_assert_true(ev.evt[0] & S1_EVT0_SSV);
        g_assert_cmphex(s1_evt_ssid(&ev), ==, pasid);
    }
    return ev;
}

static void expect_no_event(SmmuTest *t)
{
    S1Event ev;

    g_assert_cmpuint(s1_read_events(&t->f, t->evfd, &ev, 1), ==, 0);
}

/* A stage-1 translation-class fault record for @iova. */
static void expect_s1_fault(SmmuTest *t, unsigned id, uint32_t pasid,
                            uint64_t iova, bool read)
{
    S1Event ev = read_event(t, id, pasid);

    g_assert_cmphex(ev.evt[2], ==, iova);
    g_assert_cmpint(!!(ev.evt[1] & S1_EVT1_RNW), ==, read);
    g_assert_false(ev.evt[1] & S1_EVT1_S2);
    g_assert_cmpuint((ev.evt[1] >> S1_EVT1_CLASS_SHIFT) & 3, ==,
                     S1_EVT_CLASS_IN);
}

/* A DMA read at @iova fails and event @id (a header-only one) is queued */
static void expect_config_event(SmmuTest *t, uint32_t pasid, uint64_t iova,
                                unsigned id)
{
    uint64_t v;

    g_assert_cmpint(dma_r(t, pasid, iova, &v), ==, -EFAULT);
    read_event(t, id, pasid);
}

/* ---- GET_HW_INFO ---- */

typedef struct HwInfoCase {
    bool nesting, ril, gran16k, gran64k;
    uint8_t ssid_bits, ias;
    unsigned oas;               /* IDR5.OAS expected */
    unsigned vax;               /* IDR5.VAX expected */
    bool cd2l, ats, errata_t264;
} HwInfoCase;

static const HwInfoCase hw_info_cases[] = {
    { true, true, true, true, 20, 48, 5, 0, true, false },
    { false, false, false, false, 0, 40, 2, 0, false, false },
    { true, false, true, false, 8, 44, 4, 0, true, true },
    { true, true, false, true, 16, 52, 6, 1, false, true },
    { true, true, true, true, 20, 33, 0, 0, true, false, true },
};

static uint32_t bits_of(uint32_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static void check_idrs(const HwInfoCase *c,
                       const struct iommu_hw_info_arm_smmuv3 *info)
{
    g_assert_cmpuint(bits_of(info->idr[0], 0, 0), ==, c->nesting); /* S2P */
    g_assert_cmpuint(bits_of(info->idr[0], 1, 1), ==, 1);      /* S1P */
    g_assert_cmpuint(bits_of(info->idr[0], 3, 2), ==, 2);      /* TTF */
    g_assert_cmpuint(bits_of(info->idr[0], 4, 4), ==, 1);      /* COHACC */
    g_assert_cmpuint(bits_of(info->idr[0], 10, 10), ==, c->ats);
    g_assert_cmpuint(bits_of(info->idr[0], 12, 12), ==, 1);    /* ASID16 */
    g_assert_cmpuint(bits_of(info->idr[0], 18, 18), ==, 1);    /* VMID16 */
    g_assert_cmpuint(bits_of(info->idr[0], 19, 19), ==, c->cd2l);
    g_assert_cmpuint(bits_of(info->idr[0], 22, 21), ==, 2);    /* LE */
    g_assert_cmpuint(bits_of(info->idr[0], 28, 27), ==, 1);    /* 2-lvl */
    g_assert_cmpuint(bits_of(info->idr[1], 5, 0), ==, 16);     /* SID */
    g_assert_cmpuint(bits_of(info->idr[1], 10, 6), ==, c->ssid_bits);
    g_assert_cmpuint(bits_of(info->idr[3], 10, 10), ==, c->ril);
    g_assert_cmpuint(bits_of(info->idr[5], 2, 0), ==, c->oas);
    g_assert_cmpuint(bits_of(info->idr[5], 4, 4), ==, 1);      /* 4K */
    g_assert_cmpuint(bits_of(info->idr[5], 5, 5), ==, c->gran16k);
    g_assert_cmpuint(bits_of(info->idr[5], 6, 6), ==, c->gran64k);
    g_assert_cmpuint(bits_of(info->idr[5], 11, 10), ==, c->vax);
}

static void test_hw_info(gconstpointer data)
{
    const HwInfoCase *c = data;
    struct iommu_hw_info_arm_smmuv3 info;
    struct iommu_hw_info cmd = {
        .size = sizeof(cmd), .data_len = sizeof(info),
        .data_uptr = (uintptr_t)&info,
    };
    EmuHwConfig cfg;
    EmuFixture f;

    emu_hw_config_default(&cfg, EMU_HW_SMMUV3);
    cfg.nesting = c->nesting;
    cfg.smmu.ril = c->ril;
    cfg.smmu.gran16k = c->gran16k;
    cfg.smmu.gran64k = c->gran64k;
    cfg.smmu.ssid_bits = c->ssid_bits;
    cfg.smmu.cd2l = c->cd2l;
    cfg.smmu.ats = c->ats;
    cfg.smmu.errata_t264 = c->errata_t264;
    cfg.ias = c->ias;
    emu_fixture_setup_cfg(&f, &cfg);
    memset(&info, 0xa5, sizeof(info));
    cmd.dev_id = f.dev_id;
    g_assert_cmpint(ctx_ioctl(&f, IOMMU_GET_HW_INFO, &cmd), ==, 0);
    g_assert_cmpuint(cmd.out_data_type, ==, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
    g_assert_cmpuint(cmd.data_len, ==, sizeof(info));
    g_assert_cmpuint(info.flags, ==, c->errata_t264 ?
                     IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI : 0);
    g_assert_cmpuint(info.__reserved, ==, 0);
    g_assert_cmphex(info.aidr, ==, 0x02);                      /* v3.2 */
    check_idrs(c, &info);
    emu_fixture_teardown(&f);
}

/* Type selection and buffer sizes of GET_HW_INFO */
static void test_hw_info_sizes(SmmuTest *t, gconstpointer data)
{
    uint32_t small[2] = { 0xdeadbeef, 0xdeadbeef };
    uint8_t big[64];
    struct iommu_hw_info cmd = {
        .size = sizeof(cmd), .dev_id = t->f.dev_id,
        .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
        .in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD,
    };

    g_assert_cmpint(ctx_ioctl(&t->f, IOMMU_GET_HW_INFO, &cmd), ==,
                    EOPNOTSUPP);
    cmd.in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    cmd.data_len = sizeof(small);
    cmd.data_uptr = (uintptr_t)small;
    g_assert_cmpint(ctx_ioctl(&t->f, IOMMU_GET_HW_INFO, &cmd), ==, 0);
    g_assert_cmpuint(cmd.data_len, ==,
                     sizeof(struct iommu_hw_info_arm_smmuv3));
    /* no IDR0.ATS: arm_smmu_ats_supported() is false for every device */
    g_assert_true(cmd.out_capabilities & IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
    g_assert_cmphex(small[0], ==, 0);           /* flags */
    g_assert_cmphex(small[1], ==, 0);           /* __reserved */
    memset(big, 0xa5, sizeof(big));
    cmd.data_len = sizeof(big);
    cmd.data_uptr = (uintptr_t)big;
    g_assert_cmpint(ctx_ioctl(&t->f, IOMMU_GET_HW_INFO, &cmd), ==, 0);
    g_assert_cmpuint(big[sizeof(big) - 1], ==, 0);  /* tail zeroed */
}

/* ---- nesting objects ---- */

/* The whole VMM sequence, then DMA read and write through stage 1. */
static void test_nest_setup(SmmuTest *t, gconstpointer data)
{
    EmuStats st;
    uint64_t page, v = 0;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    page = s1_alloc(&t->mem, PAGE);
    s1_pt_map(&pt, IOVA, page, 3, S1_RW);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, IOVA + 0x18,
                          0x1122334455667788ULL), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, page + 0x18), ==,
                    0x1122334455667788ULL);
    s1_wr64(&t->mem, page + 0x20, 0xfeedface);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA + 0x20, &v), ==, 0);
    g_assert_cmphex(v, ==, 0xfeedface);
    emu_host_stats(t->f.host, &st);
    g_assert_cmpuint(st.iotlb_hits, >=, 1);
    expect_no_event(t);
}

/* A second device bound in the fixture's context */
static EmuVfio *second_device(SmmuTest *t, uint32_t *dev_id)
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    EmuDevice *dev;
    EmuVfio *vfio;

    g_assert_cmpint(emu_host_add_device(t->f.host, t->f.iommu, 0x0018,
                                        "dev1", &dev), ==, 0);
    vfio = emu_vfio_open(dev);
    emu_vfio_set_ctx(vfio, t->f.ctx);
    g_assert_cmpint(emu_vfio_ioctl(vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind),
                    ==, 0);
    *dev_id = bind.out_devid;
    return vfio;
}

static void test_viommu_errors(SmmuTest *t, gconstpointer data)
{
    EmuFixture *f = &t->f;
    uint32_t s2, plain, viommu, id, dev1;
    struct iommu_hwpt_arm_smmuv3 ste;
    EmuVfio *vfio1;
    int fd;

    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 IOMMU_HWPT_DATA_NONE, NULL, 0, &s2), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, IOMMU_HWPT_DATA_NONE,
                                 NULL, 0, &plain), ==, 0);
    g_assert_cmpint(s1_viommu_alloc(f, f->dev_id,
                                    IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, s2,
                                    &id), ==, EOPNOTSUPP);
    g_assert_cmpint(s1_viommu_alloc(f, f->dev_id, IOMMU_VIOMMU_TYPE_DEFAULT,
                                    s2, &id), ==, EOPNOTSUPP);
    g_assert_cmpint(s1_viommu_alloc(f, f->dev_id, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                    plain, &id), ==, EINVAL);
    g_assert_cmpint(s1_viommu_alloc(f, f->dev_id, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                    s2, &viommu), ==, 0);
    /* SMMUv3 nests through the vIOMMU, not directly on the parent */
    s1_vste(&ste, S1_STE_CFG_ABORT, 0, 0, 0, 0);
    g_assert_cmpint(t_hwpt_alloc(f, s2, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &ste,
                                 sizeof(ste), &id), ==, EOPNOTSUPP);
    vfio1 = second_device(t, &dev1);
    g_assert_cmpint(s1_vdevice_alloc(f, viommu, f->dev_id, VSID, &id), ==, 0);
    g_assert_cmpint(s1_vdevice_alloc(f, viommu, dev1, VSID, &id), ==, EEXIST);
    g_assert_cmpint(s1_vdevice_alloc(f, viommu, f->dev_id, VSID + 1, &id),
                    ==, EEXIST);
    g_assert_cmpint(s1_vdevice_alloc(f, viommu, dev1, VSID + 1, &id), ==, 0);
    g_assert_cmpint(s1_veventq_alloc(f, viommu, IOMMU_VEVENTQ_TYPE_DEFAULT,
                                     EVQ_DEPTH, &id, &fd), ==, EOPNOTSUPP);
    g_assert_cmpint(s1_veventq_alloc(f, viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                                     0, &id, &fd), ==, EINVAL);
    g_assert_cmpint(s1_veventq_alloc(f, viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                                     EVQ_DEPTH, &id, &fd), ==, 0);
    g_assert_cmpint(s1_veventq_alloc(f, viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                                     EVQ_DEPTH, &id, &fd), ==, EEXIST);
    emu_vfio_close(vfio1);      /* unbinds dev1, its vDEVICE goes too */
}

/*
 * What the kernel does not check, or checks in another order:
 * iommufd_viommu_alloc_ioctl() ignores __reserved, checks the type before
 * the parent, and arm_vsmmu_init() ignores data for ARM_SMMUV3;
 * iommufd_vdevice_alloc_ioctl() takes any virt_id up to ULONG_MAX;
 * iommufd_veventq_alloc() checks the depth before the vIOMMU, takes any
 * type but DEFAULT, one queue per type, and its oldest layout ends at
 * out_veventq_fd.
 */
static void test_viommu_unchecked(SmmuTest *t, gconstpointer data)
{
    EmuFixture *f = &t->f;
    uint32_t s2, vdev;
    uint64_t junk = 0;
    struct iommu_viommu_alloc va = {
        .size = sizeof(va), .dev_id = f->dev_id,
        .type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, .hwpt_id = 999,
    };
    struct iommu_veventq_alloc ea = {
        .size = sizeof(ea), .viommu_id = 999,
        .type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
    };
    struct iommu_vdevice_alloc da = {
        .size = sizeof(da), .dev_id = f->dev_id,
        .virt_id = 0x123456789abcdefULL,
    };

    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 IOMMU_HWPT_DATA_NONE, NULL, 0, &s2), ==, 0);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &va), ==, EOPNOTSUPP);
    va.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &va), ==, ENOENT);
    va.hwpt_id = s2;
    va.__reserved = 1;
    va.data_len = sizeof(junk);
    va.data_uptr = (uintptr_t)&junk;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &va), ==, 0);
    t->viommu_id = va.out_viommu_id;

    da.viommu_id = t->viommu_id;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VDEVICE_ALLOC, &da), ==, 0);
    vdev = da.out_vdevice_id;

    g_assert_cmpint(ctx_ioctl(f, IOMMU_VEVENTQ_ALLOC, &ea), ==, EINVAL);
    ea.veventq_depth = EVQ_DEPTH;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VEVENTQ_ALLOC, &ea), ==, ENOENT);
    ea.viommu_id = t->viommu_id;
    ea.size = offsetof(struct iommu_veventq_alloc, __reserved);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VEVENTQ_ALLOC, &ea), ==, 0);
    t->evfd = ea.out_veventq_fd;
    ea.size = sizeof(ea);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VEVENTQ_ALLOC, &ea), ==, EEXIST);
    ea.type = IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VEVENTQ_ALLOC, &ea), ==, 0);
    g_assert_cmpint(t_destroy(f, vdev), ==, 0);
}

/* IOMMU_DESTROY refuses what something still uses, leaves first works */
static void test_destroy_order(SmmuTest *t, gconstpointer data)
{
    struct iommu_hwpt_arm_smmuv3 ste;
    uint32_t nested, pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_vste(&ste, S1_STE_CFG_ABORT, 0, 0, 0, 0);
    g_assert_cmpint(nested_alloc(t, &ste, 0, &nested), ==, 0);
    pt = nested;
    g_assert_cmpint(t_attach(&t->f, &pt), ==, 0);
    g_assert_cmpint(t_destroy(&t->f, nested), ==, EBUSY);   /* attached */
    pt = t->s2_id;
    g_assert_cmpint(t_attach(&t->f, &pt), ==, 0);
    g_assert_cmpint(t_destroy(&t->f, t->viommu_id), ==, EBUSY);
    g_assert_cmpint(t_destroy(&t->f, t->s2_id), ==, EBUSY);
    g_assert_cmpint(t_destroy(&t->f, nested), ==, 0);
    g_assert_cmpint(t_destroy(&t->f, t->viommu_id), ==, EBUSY); /* vdev */
    g_assert_cmpint(t_destroy(&t->f, t->vdev_id), ==, 0);
    g_assert_cmpint(t_destroy(&t->f, t->viommu_id), ==, EBUSY); /* evq */
    /* its open fd holds the vEVENTQ (iommufd_eventq_init()) */
    g_assert_cmpint(t_destroy(&t->f, t->veventq_id), ==, EBUSY);
    g_assert_cmpint(emu_ctx_close_fd(t->f.ctx, t->evfd), ==, 0);
    g_assert_cmpint(t_destroy(&t->f, t->veventq_id), ==, 0);
    g_assert_cmpint(t_destroy(&t->f, t->s2_id), ==, EBUSY);  /* viommu */
    g_assert_cmpint(t_destroy(&t->f, t->viommu_id), ==, 0);
    g_assert_cmpint(t_detach(&t->f), ==, 0);
    g_assert_cmpint(t_destroy(&t->f, t->s2_id), ==, 0);
}

/* ---- vSTE validation ---- */

#define V               (1ULL << 0)
#define CFG(c)          ((uint64_t)(c) << S1_STE0_CFG_SHIFT)
#define EATS(e)         ((uint64_t)(e) << S1_STE1_EATS_SHIFT)

typedef struct VsteCase {
    uint64_t w0, w1;
    int err;
} VsteCase;

static const VsteCase vste_cases[] = {
    /* reserved bits of word 0, fields of word 1 user space may not set */
    { V | CFG(S1_STE_CFG_S1) | (1ULL << 52), 0, EIO },
    { V | CFG(S1_STE_CFG_S1), 1ULL << 30, EIO },                /* STRW */
    { V | CFG(S1_STE_CFG_S1), 1ULL << 44, EIO },                /* SHCFG */
    { V | CFG(S1_STE_CFG_BYPASS), 1ULL << 8, EIO },
    /* Cfg: only abort, bypass and stage-1 translate */
    { V | CFG(1), 0, EIO },
    { V | CFG(6), 0, EIO },                                     /* S2 */
    { V | CFG(7), 0, EIO },                                     /* S1+S2 */
    /* EATS: abort or translate */
    { V | CFG(S1_STE_CFG_S1), EATS(2), EIO },
    { V | CFG(S1_STE_CFG_S1), EATS(3), EIO },
    /* V=0: anything else is ignored, the STE aborts */
    { ~V, ~0ULL, 0 },
    { V | CFG(S1_STE_CFG_ABORT), 0, 0 },
    /* every allowed field set */
    { V | CFG(S1_STE_CFG_S1) | (3ULL << 4) | 0x000fffffffffffc0ULL |
      (31ULL << S1_STE0_S1CDMAX_SHIFT),
      0xffULL | (1ULL << 27) | EATS(1), 0 },
};

static void test_vste_validation(SmmuTest *t, gconstpointer data)
{
    struct iommu_hwpt_arm_smmuv3 ste;
    uint8_t longer[24] = { 0 };
    uint32_t id;
    size_t i;

    nest_up(t, true, EVQ_DEPTH);
    for (i = 0; i < G_N_ELEMENTS(vste_cases); i++) {
        const VsteCase *c = &vste_cases[i];

        ste.ste[0] = GUINT64_TO_LE(c->w0);
        ste.ste[1] = GUINT64_TO_LE(c->w1);
        g_test_message("vSTE case %zu", i);
        g_assert_cmpint(nested_alloc(t, &ste, 0, &id), ==, c->err);
        if (!c->err) {
            g_assert_cmpint(t_destroy(&t->f, id), ==, 0);
        }
    }
    s1_vste(&ste, S1_STE_CFG_ABORT, 0, 0, 0, 0);
    g_assert_cmpint(t_hwpt_alloc(&t->f, t->viommu_id, 0,
                                 IOMMU_HWPT_DATA_ARM_SMMUV3, &ste, 8, &id),
                    ==, EINVAL);
    /*
     * arm_vsmmu_alloc_domain_nested() leaves the data type and length to
     * iommu_copy_struct_from_user() (min_last ste): another type is
     * EINVAL, and so is a longer vSTE, even with a zero tail.
     */
    g_assert_cmpint(t_hwpt_alloc(&t->f, t->viommu_id, 0,
                                 IOMMU_HWPT_DATA_VTD_S1, &ste, sizeof(ste),
                                 &id), ==, EINVAL);
    memcpy(longer, &ste, sizeof(ste));
    g_assert_cmpint(t_hwpt_alloc(&t->f, t->viommu_id, 0,
                                 IOMMU_HWPT_DATA_ARM_SMMUV3, longer,
                                 sizeof(longer), &id), ==, EINVAL);
    longer[20] = 1;
    g_assert_cmpint(t_hwpt_alloc(&t->f, t->viommu_id, 0,
                                 IOMMU_HWPT_DATA_ARM_SMMUV3, longer,
                                 sizeof(longer), &id), ==, EINVAL);
}

/* Cfg=translate needs the device's vDEVICE before attach; others not. */
static void test_attach_needs_vdevice(SmmuTest *t, gconstpointer data)
{
    struct iommu_hwpt_arm_smmuv3 ste;
    uint32_t id, pt;

    nest_up(t, false, EVQ_DEPTH);
    s1_vste(&ste, S1_STE_CFG_S1, S1_GPA_BASE, S1_FMT_LINEAR, 0, 0);
    g_assert_cmpint(nested_alloc(t, &ste, 0, &id), ==, 0);
    pt = id;
    g_assert_cmpint(t_attach(&t->f, &pt), ==, ENOENT);
    ste_install_cfg(t, S1_STE_CFG_ABORT, 0, 0, 0, 0);
    ste_install_cfg(t, S1_STE_CFG_BYPASS, 0, 0, 0, 0);
    g_assert_cmpint(s1_vdevice_alloc(&t->f, t->viommu_id, t->f.dev_id, VSID,
                                     &t->vdev_id), ==, 0);
    pt = id;
    g_assert_cmpint(t_attach(&t->f, &pt), ==, 0);
    /*
     * The STE covers every SubstreamID: no nested domain per PASID.
     * arm_vsmmu_alloc_domain_nested() takes no flag, ALLOC_PASID is
     * EOPNOTSUPP; without it a PASID attach is EINVAL
     * (iommufd_hwpt_pasid_compat()).
     */
    g_assert_cmpint(nested_alloc(t, &ste, IOMMU_HWPT_ALLOC_PASID, &pt), ==,
                    EOPNOTSUPP);
    pt = id;
    g_assert_cmpint(t_attach_pasid(&t->f, 1, &pt), ==, EINVAL);
}

/* ---- translation ---- */

typedef struct GranCase {
    unsigned gshift, va_bits;
    uint64_t iova;
} GranCase;

static const GranCase gran_cases[] = {
    { S1_GRANULE_4K, 48, 0x00007f1234567000ULL },
    { S1_GRANULE_4K, 39, 0x0000001234567000ULL },
    { S1_GRANULE_16K, 48, 0x000087654321c000ULL },
    { S1_GRANULE_16K, 36, 0x000000087654c000ULL },
    { S1_GRANULE_64K, 48, 0x00009abcdef10000ULL },
    { S1_GRANULE_64K, 36, 0x00000009abcd0000ULL },
};

static void test_translate(SmmuTest *t, gconstpointer data)
{
    const GranCase *c = data;
    uint64_t gran = 1ULL << c->gshift, off = gran - 16, page, v = 0;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, c->gshift, c->va_bits, ASID);
    page = s1_alloc(&t->mem, gran);
    s1_pt_map(&pt, c->iova, page, 3, S1_RW);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, c->iova + off, 0xabcdef), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, page + off), ==, 0xabcdef);
    s1_wr64(&t->mem, page + 8, 0x600d);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, c->iova + 8, &v), ==, 0);
    g_assert_cmphex(v, ==, 0x600d);
    /* the next page is not mapped; beyond the VA size is not either */
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, c->iova + gran, &v), ==, -EFAULT);
    expect_s1_fault(t, S1_EVT_F_TRANSLATION, EMU_NO_PASID, c->iova + gran,
                    true);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, c->iova | (1ULL << c->va_bits),
                          1), ==, -EFAULT);
    expect_s1_fault(t, S1_EVT_F_TRANSLATION, EMU_NO_PASID,
                    c->iova | (1ULL << c->va_bits), false);
    if (c->gshift == S1_GRANULE_64K) {
        /* OA[51:48] sit in bits [15:12]: beyond the 48-bit IPS */
        s1_pt_map(&pt, c->iova + 2 * gran, page | (1ULL << 12), 3, S1_RW);
        g_assert_cmpint(dma_r(t, EMU_NO_PASID, c->iova + 2 * gran, &v), ==,
                        -EFAULT);
        expect_s1_fault(t, S1_EVT_F_ADDR_SIZE, EMU_NO_PASID,
                        c->iova + 2 * gran, true);
    }
}

typedef struct BlockCase {
    unsigned gshift, level;
    uint64_t iova;
    bool ok;                    /* the architecture has such a block */
} BlockCase;

static const BlockCase block_cases[] = {
    { S1_GRANULE_4K, 1, 3ULL << 30, true },         /* 1 GiB */
    { S1_GRANULE_4K, 2, 0x7fe00000ULL, true },      /* 2 MiB */
    { S1_GRANULE_16K, 2, 5ULL << 25, true },        /* 32 MiB */
    { S1_GRANULE_64K, 2, 3ULL << 29, true },        /* 512 MiB */
    { S1_GRANULE_4K, 0, 1ULL << 39, false },
    { S1_GRANULE_16K, 1, 1ULL << 36, false },
    { S1_GRANULE_64K, 1, 1ULL << 42, false },
};

static void test_block(SmmuTest *t, gconstpointer data)
{
    const BlockCase *c = data;
    /* the last pages of guest RAM: no tables there */
    uint64_t off = BUF_SIZE - PAGE + 0x28, off2 = BUF_SIZE - 2 * PAGE + 8;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, c->gshift, 48, ASID);
    s1_pt_map(&pt, c->iova, S1_GPA_BASE, c->level, S1_RW);
    if (!c->ok) {
        g_assert_cmpint(dma_w(t, EMU_NO_PASID, c->iova + off, 7), ==,
                        -EFAULT);
        expect_s1_fault(t, S1_EVT_F_TRANSLATION, EMU_NO_PASID,
                        c->iova + off, false);
        return;
    }
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, c->iova + off, 0xb10c), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, S1_GPA_BASE + off), ==, 0xb10c);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, c->iova + off2, 0xb10d), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, S1_GPA_BASE + off2), ==, 0xb10d);
    expect_no_event(t);
}

/* ---- faults and events ---- */

typedef struct FaultCase {
    const char *name;
    bool mapped;
    uint64_t attrs;             /* leaf attributes */
    uint64_t table_attrs;       /* added to the level-2 table descriptor */
    uint64_t cd0_set, cd0_clear;
    uint64_t out;               /* leaf output; 0: a page of guest RAM */
    unsigned access;
    int err;
    unsigned event;             /* recorded event, 0 for none */
} FaultCase;

#define R   EMU_DMA_READ
#define W   EMU_DMA_WRITE
#define NOTHING 0

static const FaultCase fault_cases[] = {
    { "unmapped", false, 0, 0, 0, 0, 0, R, -EFAULT, S1_EVT_F_TRANSLATION },
    { "read-only-write", true, S1_RO, 0, 0, 0, 0, W, -EPERM,
      S1_EVT_F_PERMISSION },
    { "read-only-read", true, S1_RO, 0, 0, 0, 0, R, 0, NOTHING },
    { "privileged-only", true, S1_PTE_AF, 0, 0, 0, 0, R, -EPERM,
      S1_EVT_F_PERMISSION },
    { "aptable-ro", true, S1_RW, S1_PTE_APTABLE_RO, 0, 0, 0, W, -EPERM,
      S1_EVT_F_PERMISSION },
    { "aptable-ro-read", true, S1_RW, S1_PTE_APTABLE_RO, 0, 0, 0, R, 0,
      NOTHING },
    { "access-flag", true, S1_PTE_AP_UNPRIV, 0, 0, 0, 0, R, -EFAULT,
      S1_EVT_F_ACCESS },
    { "access-flag-affd", true, S1_PTE_AP_UNPRIV, 0, S1_CD0_AFFD, 0, 0, W,
      0, NOTHING },
    { "addr-size-ips44", true, S1_RW, 0, 4ULL << S1_CD0_IPS_SHIFT, IPS_MASK,
      1ULL << 44, W, -EFAULT, S1_EVT_F_ADDR_SIZE },
    { "ips44", true, S1_RW, 0, 4ULL << S1_CD0_IPS_SHIFT, IPS_MASK, 0, W, 0,
      NOTHING },
    { "addr-size-ips32", true, S1_RW, 0, 0, IPS_MASK, 1ULL << 32, R,
      -EFAULT, S1_EVT_F_ADDR_SIZE },
    { "epd0", true, S1_RW, 0, S1_CD0_EPD0, 0, 0, R, -EFAULT,
      S1_EVT_F_TRANSLATION },
    { "not-recorded", false, 0, 0, 0, S1_CD0_R, 0, W, -EFAULT, NOTHING },
};

static void test_fault(SmmuTest *t, gconstpointer data)
{
    const FaultCase *c = data;
    uint64_t page, cd, d, buf = 0, iova = IOVA + 0x30;
    EmuFaultInfo fi;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    cd = s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    s1_cd_write(&t->mem, cd, (s1_cd0(&pt, ASID) & ~c->cd0_clear) |
                c->cd0_set, &pt);
    page = s1_alloc(&t->mem, PAGE);
    if (c->mapped) {
        s1_pt_map(&pt, IOVA, c->out ? c->out : page, 3, c->attrs);
    }
    if (c->table_attrs) {
        d = s1_pt_desc(&pt, IOVA, 2);
        s1_wr64(&t->mem, d, s1_rd64(&t->mem, d) | c->table_attrs);
    }
    g_assert_cmpint(emu_device_dma(t->f.dev, EMU_NO_PASID, iova, &buf,
                                   sizeof(buf), c->access, &fi), ==, c->err);
    if (c->err) {
        g_assert_cmpint(fi.err, ==, c->err);
        g_assert_cmphex(fi.iova, ==, iova);
        g_assert_cmpuint(fi.access, ==, c->access);
        g_assert_nonnull(fi.reason);
    }
    if (c->event) {
        expect_s1_fault(t, c->event, EMU_NO_PASID, iova, c->access == R);
    }
    expect_no_event(t);
}

/*
 * Sequence numbers, the vSID in every record, overflow. The LOST_EVENTS
 * header carries the sequence number of the last event lost
 * (iommufd_vevent_handler() numbers it as the event it replaces).
 */
static void test_eventq_overflow(SmmuTest *t, gconstpointer data)
{
    S1Event ev[4];
    uint64_t v;
    unsigned i;
    S1Pt pt;

    nest_up(t, true, 2);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    for (i = 0; i < 4; i++) {
        g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA + i * PAGE, &v), ==,
                        -EFAULT);
    }
    g_assert_cmpuint(s1_read_events(&t->f, t->evfd, ev, 4), ==, 3);
    for (i = 0; i < 2; i++) {
        g_assert_true(ev[i].payload);
        g_assert_cmpuint(ev[i].seq, ==, i);
        g_assert_cmphex(s1_evt_sid(&ev[i]), ==, VSID);
        g_assert_cmphex(ev[i].evt[2], ==, IOVA + i * PAGE);
    }
    g_assert_false(ev[2].payload);
    g_assert_cmphex(ev[2].flags, ==, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
    g_assert_cmpuint(ev[2].seq, ==, 3);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA + 4 * PAGE, &v), ==,
                    -EFAULT);
    g_assert_cmpuint(s1_read_events(&t->f, t->evfd, ev, 4), ==, 1);
    g_assert_true(ev[0].payload);
    g_assert_cmpuint(ev[0].seq, ==, 4);         /* 2 and 3 were lost */
    g_assert_cmphex(ev[0].evt[2], ==, IOVA + 4 * PAGE);
}

/*
 * A LOST_EVENTS header only ever sits last: a newer event deletes it
 * (iommufd_vevent_handler()), the gap in sequence numbers tells the loss.
 */
static void test_eventq_lost_deleted(SmmuTest *t, gconstpointer data)
{
    S1Event ev[4];
    uint64_t v;
    unsigned i;
    S1Pt pt;

    nest_up(t, true, 2);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    for (i = 0; i < 3; i++) {               /* 0, 1 queued, 2 lost */
        g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA + i * PAGE, &v), ==,
                        -EFAULT);
    }
    g_assert_cmpuint(s1_read_events(&t->f, t->evfd, ev, 1), ==, 1);
    g_assert_cmpuint(ev[0].seq, ==, 0);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA + 3 * PAGE, &v), ==,
                    -EFAULT);                /* 3 queued, header gone */
    g_assert_cmpuint(s1_read_events(&t->f, t->evfd, ev, 4), ==, 2);
    g_assert_true(ev[0].payload && ev[1].payload);
    g_assert_cmpuint(ev[0].seq, ==, 1);
    g_assert_cmpuint(ev[1].seq, ==, 3);
    g_assert_cmphex(ev[1].evt[2], ==, IOVA + 3 * PAGE);
    expect_no_event(t);
}

/*
 * iommufd_veventq_fops_read(): fewer bytes than a header is EINVAL, empty
 * queue or not; too few for the first event is EINVAL; a LOST_EVENTS
 * header alone needs only its 8 bytes.
 */
static void test_eventq_read_sizes(SmmuTest *t, gconstpointer data)
{
    uint8_t buf[EVT_RECORD + 8];
    struct iommufd_vevent_header hdr;
    uint64_t v;
    unsigned i;
    S1Pt pt;

    nest_up(t, true, 1);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    g_assert_cmpint(emu_ctx_read(t->f.ctx, t->evfd, buf, 7), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(emu_ctx_read(t->f.ctx, t->evfd, buf, 8), ==, 0);
    for (i = 0; i < 2; i++) {               /* 0 queued, 1 lost */
        g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA + i * PAGE, &v), ==,
                        -EFAULT);
    }
    g_assert_cmpint(emu_ctx_read(t->f.ctx, t->evfd, buf, 8), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(emu_ctx_read(t->f.ctx, t->evfd, buf,
                                 EVT_RECORD + 4), ==, EVT_RECORD);
    g_assert_cmpint(emu_ctx_read(t->f.ctx, t->evfd, buf, 8), ==, 8);
    memcpy(&hdr, buf, sizeof(hdr));
    g_assert_cmphex(hdr.flags, ==, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
    g_assert_cmpuint(hdr.sequence, ==, 1);
    g_assert_cmpint(emu_ctx_read(t->f.ctx, t->evfd, buf, 8), ==, 0);
    g_assert_cmpint(emu_ctx_write(t->f.ctx, t->evfd, buf, 8), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
}

/* ---- STE configurations ---- */

/* Bypass: the IPA is the IOVA; no vDEVICE needed, none to report to */
static void test_ste_bypass(SmmuTest *t, gconstpointer data)
{
    uint64_t v;

    nest_up(t, false, EVQ_DEPTH);
    ste_install_cfg(t, S1_STE_CFG_BYPASS, 0, 0, 0, 0);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, S1_GPA_BASE + 0x1008, 0xb1), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, S1_GPA_BASE + 0x1008), ==, 0xb1);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA_UNMAPPED, &v), ==, -EFAULT);
    g_assert_cmpint(dma_r(t, 3, S1_GPA_BASE, &v), ==, -EFAULT);
    expect_no_event(t);
    g_assert_cmpint(s1_vdevice_alloc(&t->f, t->viommu_id, t->f.dev_id, VSID,
                                     &t->vdev_id), ==, 0);
    /*
     * A SubstreamID with stage 1 bypassed is illegal; the vDEVICE came
     * after the attach, so there is no vmaster and the event stays with
     * the host (arm_smmu_attach_prepare_vmaster(), arm_smmu_handle_event())
     * until the STE is attached again.
     */
    g_assert_cmpint(dma_r(t, 3, S1_GPA_BASE, &v), ==, -EFAULT);
    expect_no_event(t);
    ste_install_cfg(t, S1_STE_CFG_BYPASS, 0, 0, 0, 0);
    expect_config_event(t, 3, S1_GPA_BASE, S1_EVT_C_BAD_SUBSTREAMID);
    /* a stage-2 fault stays with the host */
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA_UNMAPPED, &v), ==, -EFAULT);
    expect_no_event(t);
    /*
     * Bypassed requests leave nothing in the TLB: a translating STE whose
     * CD has ASID 0 walks its tables for the address just bypassed.
     */
    {
        uint64_t a = s1_alloc(&t->mem, PAGE);
        S1Pt pt;

        s1_up(t, &pt, S1_GRANULE_4K, 48, 0);
        s1_pt_map(&pt, S1_GPA_BASE + 0x1000, a, 3, S1_RW);
        g_assert_cmpint(dma_w(t, EMU_NO_PASID, S1_GPA_BASE + 0x1008, 0xb2),
                        ==, 0);
        g_assert_cmphex(s1_rd64(&t->mem, a + 8), ==, 0xb2);
    }
}

/*
 * Abort: no event. V=0 too: the kernel installs an abort STE for it
 * (arm_smmu_validate_vste() zeroes the vSTE,
 * arm_smmu_make_nested_domain_ste() makes it abort), so the hardware
 * records nothing and no C_BAD_STE reaches the vEVENTQ; a VMM that
 * wants one for its guest raises it itself.
 */
static void test_ste_abort(SmmuTest *t, gconstpointer data)
{
    struct iommu_hwpt_arm_smmuv3 ste = { { 0, 0 } };
    uint64_t v;

    nest_up(t, true, EVQ_DEPTH);
    ste_install_cfg(t, S1_STE_CFG_ABORT, 0, 0, 0, 0);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, S1_GPA_BASE, &v), ==, -EFAULT);
    expect_no_event(t);
    ste_install(t, &ste);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, S1_GPA_BASE, &v), ==, -EFAULT);
    g_assert_cmpint(dma_r(t, 7, S1_GPA_BASE, &v), ==, -EFAULT);
    expect_no_event(t);
    /* V=0 with other fields set: zeroed, still an abort */
    ste.ste[0] = GUINT64_TO_LE(~1ULL);
    ste.ste[1] = GUINT64_TO_LE(~0ULL);
    ste_install(t, &ste);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, S1_GPA_BASE, &v), ==, -EFAULT);
    expect_no_event(t);
    g_assert_cmpint(t_destroy(&t->f, t->vdev_id), ==, 0);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, S1_GPA_BASE, &v), ==, -EFAULT);
    expect_no_event(t);
}

/* ---- SubstreamIDs and CD tables ---- */

#define NCD     4

typedef struct CdSet {
    uint64_t table;             /* linear CD table of NCD CDs */
    S1Pt pt[NCD];
    uint64_t page[NCD];         /* CD i maps IOVA to page[i] */
} CdSet;

static void cd_set_init(SmmuTest *t, CdSet *s)
{
    unsigned i;

    s->table = s1_alloc(&t->mem, NCD * S1_CD_SIZE);
    for (i = 0; i < NCD; i++) {
        s1_pt_init(&s->pt[i], &t->mem, S1_GRANULE_4K, 48);
        s->page[i] = s1_alloc(&t->mem, PAGE);
        s1_pt_map(&s->pt[i], IOVA, s->page[i], 3, S1_RW);
        s1_cd_write(&t->mem, s->table + i * S1_CD_SIZE,
                    s1_cd0(&s->pt[i], 10 + i), &s->pt[i]);
    }
}

/* DMA with @pasid lands in page[@cd] */
static void expect_cd(SmmuTest *t, CdSet *s, uint32_t pasid, unsigned cd)
{
    g_assert_cmpint(lands(t, pasid, IOVA, s->page[cd],
                          s->page[(cd + 1) % NCD]), ==, 1);
}

static void test_substreams(SmmuTest *t, gconstpointer data)
{
    CdSet s;
    unsigned i;

    nest_up(t, true, EVQ_DEPTH);
    cd_set_init(t, &s);
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_LINEAR, 2,
                    S1_DSS_SSID0);
    expect_cd(t, &s, EMU_NO_PASID, 0);
    for (i = 1; i < NCD; i++) {
        expect_cd(t, &s, i, i);
    }
    expect_config_event(t, 0, IOVA, S1_EVT_C_BAD_SUBSTREAMID);
    expect_config_event(t, NCD, IOVA, S1_EVT_C_BAD_SUBSTREAMID);
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_LINEAR, 2,
                    S1_DSS_BYPASS);
    g_assert_cmpint(lands(t, EMU_NO_PASID, S1_GPA_BASE + BUF_SIZE - PAGE,
                          S1_GPA_BASE + BUF_SIZE - PAGE, s.page[0]), ==, 1);
    expect_cd(t, &s, 0, 0);
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_LINEAR, 2,
                    S1_DSS_TERMINATE);
    expect_config_event(t, EMU_NO_PASID, IOVA, S1_EVT_F_STREAM_DISABLED);
    expect_cd(t, &s, 2, 2);
    /* S1CDMax 0: one CD, S1DSS ignored, no SubstreamID allowed */
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_LINEAR, 0,
                    S1_DSS_TERMINATE);
    expect_cd(t, &s, EMU_NO_PASID, 0);
    expect_config_event(t, 1, IOVA, S1_EVT_C_BAD_SUBSTREAMID);
    /* ILLEGAL STEs: S1CDMax beyond SSIDSIZE, S1DSS or S1Fmt reserved */
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_LINEAR, 21, 0);
    expect_config_event(t, EMU_NO_PASID, IOVA, S1_EVT_C_BAD_STE);
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_LINEAR, 2, 3);
    expect_config_event(t, 1, IOVA, S1_EVT_C_BAD_STE);
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, 3, 2, S1_DSS_SSID0);
    expect_config_event(t, 1, IOVA, S1_EVT_C_BAD_STE);
}

/* One CD of @s->pt[0] at @ssid behind an L1 table with 2^@split CD leaves */
static void two_level(SmmuTest *t, CdSet *s, unsigned fmt, unsigned cdmax,
                      unsigned split, uint32_t ssid)
{
    uint64_t l1 = s1_alloc(&t->mem, 8ULL << (cdmax - split));
    uint64_t leaf = s1_alloc(&t->mem, PAGE);    /* enough for ssid's CD */

    g_assert_cmpuint(ssid & ((1u << split) - 1), <, PAGE / S1_CD_SIZE);
    s1_wr64(&t->mem, l1 + (ssid >> split) * 8, leaf | S1_L1CD_V);
    s1_cd_write(&t->mem, leaf + (ssid & ((1u << split) - 1)) * S1_CD_SIZE,
                s1_cd0(&s->pt[0], 30), &s->pt[0]);
    ste_install_cfg(t, S1_STE_CFG_S1, l1, fmt, cdmax, S1_DSS_SSID0);
    expect_cd(t, s, ssid, 0);
    /* an invalid L1 descriptor, an SSID beyond S1CDMax */
    expect_config_event(t, ssid ^ (1u << split), IOVA,
                        S1_EVT_C_BAD_SUBSTREAMID);
    expect_config_event(t, 1u << cdmax, IOVA, S1_EVT_C_BAD_SUBSTREAMID);
}

static void test_cd_two_level(SmmuTest *t, gconstpointer data)
{
    EmuFaultInfo fi;
    uint64_t v;
    CdSet s;

    nest_up(t, true, EVQ_DEPTH);
    cd_set_init(t, &s);
    two_level(t, &s, S1_FMT_2L_4K, 8, 6, 64 + 5);
    two_level(t, &s, S1_FMT_2L_64K, 11, 10, 1024 + 3);
    /* the L1 table where stage 2 maps nothing: the host's fault */
    ste_install_cfg(t, S1_STE_CFG_S1, IOVA_UNMAPPED, S1_FMT_2L_4K, 8,
                    S1_DSS_SSID0);
    g_assert_cmpint(emu_device_dma(t->f.dev, 5, IOVA, &v, sizeof(v), R, &fi),
                    ==, -EFAULT);
    g_assert_nonnull(strstr(fi.reason, "CD"));
    expect_no_event(t);
}

/*
 * Without IDR0.CD2L an STE with SubstreamIDs and a 2-level S1Fmt is
 * ILLEGAL (the modelling choice QEMU's SMMUv3 makes too); linear tables
 * still work.
 */
static void test_no_cd2l(SmmuTest *t, gconstpointer data)
{
    CdSet s;

    nest_up(t, true, EVQ_DEPTH);
    cd_set_init(t, &s);
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_2L_4K, 8,
                    S1_DSS_SSID0);
    expect_config_event(t, 1, IOVA, S1_EVT_C_BAD_STE);
    ste_install_cfg(t, S1_STE_CFG_S1, s.table, S1_FMT_LINEAR, 2,
                    S1_DSS_SSID0);
    expect_cd(t, &s, 1, 1);
}

/* CDs the hardware refuses (C_BAD_CD); tables stage 2 does not map */
static void test_cd_bad(SmmuTest *t, gconstpointer data)
{
    /* bits flipped in a good CD (T0SZ 16, TG0 4K, IPS 48 bits) */
    const uint64_t flip[] = {
        S1_CD0_V,                               /* not valid */
        S1_CD0_AA64,                            /* AArch32 tables */
        CD0_ENDI,                               /* big-endian tables */
        T0SZ_MASK,                              /* T0SZ 47 */
        3ULL << S1_CD0_TG0_SHIFT,               /* TG0 reserved */
        2ULL << S1_CD0_IPS_SHIFT,               /* IPS reserved (7) */
    };
    uint64_t cd, cd0, v;
    EmuFaultInfo fi;
    unsigned i;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    cd = s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    s1_pt_map(&pt, IOVA, s1_alloc(&t->mem, PAGE), 3, S1_RW);
    cd0 = s1_cd0(&pt, ASID);
    for (i = 0; i < G_N_ELEMENTS(flip); i++) {
        s1_cd_write(&t->mem, cd, cd0 ^ flip[i], &pt);
        expect_config_event(t, EMU_NO_PASID, IOVA, S1_EVT_C_BAD_CD);
    }
    /* invalid CDs are not cached: the good one now works */
    s1_cd_write(&t->mem, cd, cd0, &pt);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA, &v), ==, 0);
    /*
     * TTB0 where stage 2 maps nothing, same ASID: CFGI_CD refreshes the
     * CD, but the TLB entry tagged (VMID, ASID) still translates (the
     * hardware's TLB is not tagged by CD); the TLBI makes the walk use
     * the new TTB0.
     */
    s1_wr64(&t->mem, cd + 8, IOVA_UNMAPPED);
    g_assert_cmpint(inv1_err(t, s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 0, false)),
                    ==, 0);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA, &v), ==, 0);
    g_assert_cmpint(inv1_err(t, s1_cmd_asid(S1_CMD_TLBI_NH_ASID, ASID)),
                    ==, 0);
    g_assert_cmpint(emu_device_dma(t->f.dev, EMU_NO_PASID, IOVA, &v,
                                   sizeof(v), R, &fi), ==, -EFAULT);
    g_assert_nonnull(strstr(fi.reason, "table"));
    expect_no_event(t);
}

/* ---- invalidation ---- */

/*
 * IOVA translated (and cached) to page @a under ASID, then its PTE
 * retargeted to page @b with no invalidation yet.
 */
static void stale_up(SmmuTest *t, uint64_t *a, uint64_t *b)
{
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    *a = s1_alloc(&t->mem, PAGE);
    *b = s1_alloc(&t->mem, PAGE);
    s1_pt_map(&pt, IOVA, *a, 3, S1_RW);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, *a, *b), ==, 1);
    s1_pt_map(&pt, IOVA, *b, 3, S1_RW);
}

/* Stale until the TLBI for the right ASID and VA */
static void test_stale_tlbi_va(SmmuTest *t, gconstpointer data)
{
    uint64_t a, b;

    stale_up(t, &a, &b);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID + 1, IOVA, 0, 0, 0));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA + PAGE, 0, 0, 0));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VAA, 0, IOVA - PAGE, 0, 0, 0));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    inv1(t, s1_cmd_asid(S1_CMD_TLBI_NH_ASID, ASID + 1));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA + 0x800, 0, 0, 0));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 2);
}

/* Each broader TLBI drops the stale entry too */
static void test_tlbi_kinds(SmmuTest *t, gconstpointer data)
{
    const S1Cmd cmds[] = {
        s1_cmd_asid(S1_CMD_TLBI_NH_ASID, ASID),
        s1_cmd(S1_CMD_TLBI_NH_ALL),
        s1_cmd(S1_CMD_TLBI_NSNH_ALL),
        s1_cmd_va(S1_CMD_TLBI_NH_VAA, 0, IOVA, 0, 0, 0),
        /* a TG needs a range or a level (TTL) */
        cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, S1_TLBI_TG_4K, 0,
                         0), 0, TTL(3)),
    };
    uint64_t page[2];
    unsigned i;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    page[0] = s1_alloc(&t->mem, PAGE);
    page[1] = s1_alloc(&t->mem, PAGE);
    s1_pt_map(&pt, IOVA, page[0], 3, S1_RW);
    for (i = 0; i < G_N_ELEMENTS(cmds); i++) {
        uint64_t old = page[i % 2], new = page[(i + 1) % 2];

        g_test_message("command %u", i);
        g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, old, new), ==, 1);
        s1_pt_map(&pt, IOVA, new, 3, S1_RW);
        g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, old, new), ==, 1);
        inv1(t, cmds[i]);
        g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, old, new), ==, 2);
    }
}

#define NRANGE  6

/* Range TLBIs (RIL) drop exactly (NUM+1) << SCALE granules */
static void test_tlbi_range(SmmuTest *t, gconstpointer data)
{
    uint64_t a[NRANGE], b[NRANGE];
    const int after[NRANGE] = { 1, 2, 2, 2, 2, 1 };
    unsigned i;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    for (i = 0; i < NRANGE; i++) {
        a[i] = s1_alloc(&t->mem, PAGE);
        b[i] = s1_alloc(&t->mem, PAGE);
        s1_pt_map(&pt, IOVA + i * PAGE, a[i], 3, S1_RW);
        g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA + i * PAGE, a[i], b[i]),
                        ==, 1);
        s1_pt_map(&pt, IOVA + i * PAGE, b[i], 3, S1_RW);
    }
    /* pages 1..4: NUM 3, SCALE 0 */
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA + PAGE, S1_TLBI_TG_4K,
                      3, 0));
    for (i = 0; i < NRANGE; i++) {
        g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA + i * PAGE, a[i], b[i]),
                        ==, after[i]);
    }
    /* pages 0..1: NUM 0, SCALE 1 */
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VAA, 0, IOVA, S1_TLBI_TG_4K, 0, 1));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a[0], b[0]), ==, 2);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA + 5 * PAGE, a[5], b[5]), ==,
                    1);
}

/* A TLBI by any address of a block drops what was cached from it */
static void test_tlbi_block(SmmuTest *t, gconstpointer data)
{
    uint64_t blk = 0x7fe00000ULL, o1 = BUF_SIZE - 2 * PAGE, o2 = o1 + PAGE;
    uint64_t leaf;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    leaf = s1_pt_map(&pt, blk, S1_GPA_BASE, 2, S1_RW);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, blk + o1, 1), ==, 0);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, blk + o2, 2), ==, 0);
    s1_wr64(&t->mem, leaf, s1_rd64(&t->mem, leaf) | S1_PTE_AP_RO);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, blk + o1, 3), ==, 0);   /* stale */
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, blk + 0x100000, 0, 0, 0));
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, blk + o1, 4), ==, -EPERM);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, blk + o2, 5), ==, -EPERM);
    expect_s1_fault(t, S1_EVT_F_PERMISSION, EMU_NO_PASID, blk + o1, false);
    expect_s1_fault(t, S1_EVT_F_PERMISSION, EMU_NO_PASID, blk + o2, false);
}

/* Two tables mapping X, Y, Z: table 1 to a[], table 2 to b[] */
typedef struct TwoTables {
    S1Pt pt1, pt2;
    uint64_t a[3], b[3];
} TwoTables;

static const uint64_t xyz[3] = { IOVA, IOVA + 0x10000, IOVA + 0x20000 };

static void two_tables_init(SmmuTest *t, TwoTables *tt)
{
    unsigned i;

    s1_pt_init(&tt->pt1, &t->mem, S1_GRANULE_4K, 48);
    s1_pt_init(&tt->pt2, &t->mem, S1_GRANULE_4K, 48);
    for (i = 0; i < 3; i++) {
        tt->a[i] = s1_alloc(&t->mem, PAGE);
        tt->b[i] = s1_alloc(&t->mem, PAGE);
        s1_pt_map(&tt->pt1, xyz[i], tt->a[i], 3, S1_RW);
        s1_pt_map(&tt->pt2, xyz[i], tt->b[i], 3, S1_RW);
    }
}

/*
 * The vIOMMU set-up, both tables, and a CD (ASID, table 1) behind a
 * translating STE; returns the CD's GPA.
 */
static uint64_t two_tables_up(SmmuTest *t, TwoTables *tt)
{
    uint64_t cd;

    nest_up(t, true, EVQ_DEPTH);
    two_tables_init(t, tt);
    cd = s1_alloc(&t->mem, S1_CD_SIZE);
    s1_cd_write(&t->mem, cd, s1_cd0(&tt->pt1, ASID), &tt->pt1);
    ste_install_cfg(t, S1_STE_CFG_S1, cd, S1_FMT_LINEAR, 0, 0);
    return cd;
}

/* 1: table 1 (a[]) translated @i, 2: table 2 (b[]) */
static int xyz_lands(SmmuTest *t, TwoTables *tt, unsigned i)
{
    return lands(t, EMU_NO_PASID, xyz[i], tt->a[i], tt->b[i]);
}

/* A CD changed without CFGI_CD is still used; CFGI_CD(_ALL) drops it */
static void test_cd_cache(SmmuTest *t, gconstpointer data)
{
    uint64_t cd;
    TwoTables tt;

    nest_up(t, true, EVQ_DEPTH);
    two_tables_init(t, &tt);
    cd = s1_alloc(&t->mem, S1_CD_SIZE);
    s1_cd_write(&t->mem, cd, s1_cd0(&tt.pt1, 1), &tt.pt1);
    ste_install_cfg(t, S1_STE_CFG_S1, cd, S1_FMT_LINEAR, 0, 0);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    s1_cd_write(&t->mem, cd, s1_cd0(&tt.pt2, 2), &tt.pt2);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);   /* cached CD */
    inv1(t, s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 1, false));
    g_assert_cmpint(xyz_lands(t, &tt, 2), ==, 1);   /* other SSID */
    inv1(t, s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 0, false));
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 2);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 2);
    g_assert_cmpint(xyz_lands(t, &tt, 2), ==, 2);
    /* the new ASID is the one in use */
    s1_pt_map(&tt.pt2, xyz[0], tt.a[0], 3, S1_RW);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, 1, xyz[0], 0, 0, 0));
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 2);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, 2, xyz[0], 0, 0, 0));
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    /* CFGI_CD_ALL */
    s1_cd_write(&t->mem, cd, s1_cd0(&tt.pt1, 3), &tt.pt1);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 2);
    inv1(t, s1_cmd_sid(S1_CMD_CFGI_CD_ALL, VSID, 0, false));
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);
}

/*
 * Attaching writes the STE (and the host's CFGI_STE follows): CDs cached
 * through the old STE go. The rewritten CD has a new ASID, so what it
 * translates is walked afresh in its tables.
 */
static void test_ste_rewrite(SmmuTest *t, gconstpointer data)
{
    uint32_t pt;
    uint64_t cd;
    TwoTables tt;

    cd = two_tables_up(t, &tt);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    s1_cd_write(&t->mem, cd, s1_cd0(&tt.pt2, ASID + 1), &tt.pt2);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);   /* cached CD */
    pt = t->s2_id;
    g_assert_cmpint(t_attach(&t->f, &pt), ==, 0);
    pt = t->nested_id;
    g_assert_cmpint(t_attach(&t->f, &pt), ==, 0);
    g_assert_cmpint(xyz_lands(t, &tt, 2), ==, 2);   /* CD fetched again */
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 2);
}

/*
 * A new nested HWPT (the guest's new STE) with a CD of the same ASID
 * over other tables, installed with no TLBI, and the old HWPT freed: the
 * TLB is tagged (VMID, ASID), not by STE or HWPT, and freeing a nested
 * domain flushes nothing (arm_smmu_domain_nested_free()), so the cached
 * translation is still used until a TLBI names the ASID.
 */
static void test_stale_ste_replace(SmmuTest *t, gconstpointer data)
{
    uint64_t cd1, cd2;
    TwoTables tt;

    nest_up(t, true, EVQ_DEPTH);
    two_tables_init(t, &tt);
    cd1 = s1_alloc(&t->mem, S1_CD_SIZE);
    cd2 = s1_alloc(&t->mem, S1_CD_SIZE);
    s1_cd_write(&t->mem, cd1, s1_cd0(&tt.pt1, ASID), &tt.pt1);
    s1_cd_write(&t->mem, cd2, s1_cd0(&tt.pt2, ASID), &tt.pt2);
    ste_install_cfg(t, S1_STE_CFG_S1, cd1, S1_FMT_LINEAR, 0, 0);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    ste_install_cfg(t, S1_STE_CFG_S1, cd2, S1_FMT_LINEAR, 0, 0);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);   /* stale, old STE */
    /* not in the TLB, but the walk cache (same ASID) has the old tables */
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);
    inv1(t, s1_cmd_asid(S1_CMD_TLBI_NH_ASID, ASID));
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 2);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 2);
}

/*
 * The CD changes its TTB0 but keeps its ASID: CFGI_CD refreshes the CD
 * cache only. Addresses cached under the ASID keep the old tables, and
 * so do walks that hit the walk cache (the old tables' descriptors,
 * tagged by the same ASID); TLBI_NH_VA (not Leaf) fixes one address.
 */
static void test_stale_cfgi_cd_same_asid(SmmuTest *t, gconstpointer data)
{
    uint64_t cd;
    TwoTables tt;

    cd = two_tables_up(t, &tt);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    s1_cd_write(&t->mem, cd, s1_cd0(&tt.pt2, ASID), &tt.pt2);
    inv1(t, s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 0, false));
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);   /* stale TLB */
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);   /* stale walk cache */
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, xyz[0], 0, 0, 0));
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 2);
    /* that TLBI dropped the walk cache entries of the tables too */
    g_assert_cmpint(xyz_lands(t, &tt, 2), ==, 2);
}

/*
 * A table descriptor changed (the level-2 entry now points at another
 * level-3 table): a TLBI with Leaf set keeps the cached descriptor, so
 * the walk still ends in the old table; without Leaf it goes.
 */
static void test_walk_cache_leaf(SmmuTest *t, gconstpointer data)
{
    uint64_t d1, d2;
    TwoTables tt;

    two_tables_up(t, &tt);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    d1 = s1_pt_desc(&tt.pt1, xyz[0], 2);
    d2 = s1_pt_desc(&tt.pt2, xyz[0], 2);
    s1_wr64(&t->mem, d1, s1_rd64(&t->mem, d2));
    inv1(t, cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, xyz[0], 0, 0, 0), 0,
                   1));                                 /* Leaf */
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, xyz[0], 0, 0, 0));
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 2);
}

/*
 * A read-only leaf made writable without a TLBI: the write faults on the
 * cached entry (F_PERMISSION, recorded), with no new walk; after the
 * TLBI the write goes through.
 */
static void test_perm_cached(SmmuTest *t, gconstpointer data)
{
    uint64_t page, v;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    page = s1_alloc(&t->mem, PAGE);
    s1_pt_map(&pt, IOVA, page, 3, S1_RO);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA, &v), ==, 0);
    s1_pt_map(&pt, IOVA, page, 3, S1_RW);
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, IOVA, 7), ==, -EPERM);
    expect_s1_fault(t, S1_EVT_F_PERMISSION, EMU_NO_PASID, IOVA, false);
    inv1(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, 0, 0, 0));
    g_assert_cmpint(dma_w(t, EMU_NO_PASID, IOVA, 7), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, page), ==, 7);
}

/*
 * Two vIOMMUs on two nest parents (two VMIDs), each with a device whose
 * CD uses the same ASID for the same IOVA over different tables: neither
 * sees the other's cached translation, and a TLBI through one vIOMMU
 * (its VMID) leaves the other's stale entry alone.
 */
static void test_two_viommus(SmmuTest *t, gconstpointer data)
{
    EmuFixture *f = &t->f;
    struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
    struct iommu_hwpt_arm_smmuv3 ste;
    uint32_t dev1, s2b, viommu_b, vdev_b, nested_b;
    uint64_t cd_a, cd_b, v;
    EmuDevice *dev_b;
    EmuVfio *vfio_b;
    S1Cmd tlbi = s1_cmd_asid(S1_CMD_TLBI_NH_ASID, ASID);
    uint32_t done;
    TwoTables tt;

    nest_up(t, true, EVQ_DEPTH);
    two_tables_init(t, &tt);
    cd_a = s1_alloc(&t->mem, S1_CD_SIZE);
    cd_b = s1_alloc(&t->mem, S1_CD_SIZE);
    s1_cd_write(&t->mem, cd_a, s1_cd0(&tt.pt1, ASID), &tt.pt1);
    s1_cd_write(&t->mem, cd_b, s1_cd0(&tt.pt2, ASID), &tt.pt2);
    ste_install_cfg(t, S1_STE_CFG_S1, cd_a, S1_FMT_LINEAR, 0, 0);
    /* the second device, parent, vIOMMU and nested STE */
    vfio_b = second_device(t, &dev1);
    dev_b = emu_host_find_device(f->host, f->iommu, 0x0018);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 IOMMU_HWPT_DATA_NONE, NULL, 0, &s2b), ==, 0);
    g_assert_cmpint(s1_viommu_alloc(f, dev1, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                    s2b, &viommu_b), ==, 0);
    g_assert_cmpint(s1_vdevice_alloc(f, viommu_b, dev1, VSID + 1, &vdev_b),
                    ==, 0);
    s1_vste(&ste, S1_STE_CFG_S1, cd_b, S1_FMT_LINEAR, 0, 0);
    g_assert_cmpint(t_hwpt_alloc(f, viommu_b, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                                 &ste, sizeof(ste), &nested_b), ==, 0);
    at.pt_id = nested_b;
    g_assert_cmpint(emu_vfio_ioctl(vfio_b, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
                                   &at), ==, 0);
    /* each device its own tables */
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    v = 0xb0b;
    g_assert_cmpint(emu_device_dma(dev_b, EMU_NO_PASID, xyz[0], &v,
                                   sizeof(v), EMU_DMA_WRITE, NULL), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, tt.b[0]), ==, 0xb0b);
    /* both retargeted; TLBI through vIOMMU B only */
    s1_pt_map(&tt.pt1, xyz[0], tt.a[1], 3, S1_RW);
    s1_pt_map(&tt.pt2, xyz[0], tt.b[1], 3, S1_RW);
    g_assert_cmpint(s1_invalidate(f, viommu_b, &tlbi, 1, &done), ==, 0);
    v = 0xb0b2;
    g_assert_cmpint(emu_device_dma(dev_b, EMU_NO_PASID, xyz[0], &v,
                                   sizeof(v), EMU_DMA_WRITE, NULL), ==, 0);
    g_assert_cmphex(s1_rd64(&t->mem, tt.b[1]), ==, 0xb0b2);
    /* A is stale: its VMID was not named */
    g_assert_cmpint(lands(t, EMU_NO_PASID, xyz[0], tt.a[0], tt.a[1]), ==, 1);
    inv1(t, tlbi);
    g_assert_cmpint(lands(t, EMU_NO_PASID, xyz[0], tt.a[0], tt.a[1]), ==, 2);
    emu_vfio_close(vfio_b);     /* unbinds: detached, vDEVICE gone */
    g_assert_cmpint(t_destroy(f, nested_b), ==, 0);
    g_assert_cmpint(t_destroy(f, viommu_b), ==, 0);
    g_assert_cmpint(t_destroy(f, s2b), ==, 0);
}

/*
 * A TTL level hint limits a range TLBI to leaves of that level: a 4K leaf
 * (level 3) survives a TLBI that says level 2, and goes with level 3.
 */
static void test_tlbi_ttl(SmmuTest *t, gconstpointer data)
{
    uint64_t a, b;

    stale_up(t, &a, &b);
    inv1(t, cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, S1_TLBI_TG_4K,
                             0, 0), 0, TTL(2)));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    inv1(t, cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, S1_TLBI_TG_4K,
                             0, 0), 0, TTL(3)));
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 2);
}

/* A batch stops at the first bad command and says how far it got */
static void test_batch_partial(SmmuTest *t, gconstpointer data)
{
    TwoTables tt;
    S1Cmd cmds[3];
    uint32_t done = 0;

    two_tables_up(t, &tt);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);
    s1_pt_map(&tt.pt1, xyz[0], tt.b[0], 3, S1_RW);
    s1_pt_map(&tt.pt1, xyz[1], tt.b[1], 3, S1_RW);
    cmds[0] = s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, xyz[0], 0, 0, 0);
    cmds[1] = s1_cmd(S1_CMD_SYNC);
    cmds[2] = s1_cmd(S1_CMD_TLBI_NH_ALL);
    g_assert_cmpint(s1_invalidate(&t->f, t->viommu_id, cmds, 3, &done), ==,
                    EIO);
    /*
     * arm_vsmmu_cache_invalidate() counts the first command as done, but
     * it was in the batch the bad command stopped: it was never issued.
     */
    g_assert_cmpuint(done, ==, 1);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);
}

/*
 * Commands go to the host's command queue 63 at a time: a bad 65th
 * command leaves the first 63 issued (the TLBI among them took effect)
 * and the 64th counted but not issued.
 */
static void test_batch_issue(SmmuTest *t, gconstpointer data)
{
    S1Cmd cmds[65];
    uint32_t done = 0;
    TwoTables tt;
    unsigned i;

    two_tables_up(t, &tt);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 1);
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);
    s1_pt_map(&tt.pt1, xyz[0], tt.b[0], 3, S1_RW);
    s1_pt_map(&tt.pt1, xyz[1], tt.b[1], 3, S1_RW);
    for (i = 0; i < 63; i++) {
        cmds[i] = s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID + 1, IOVA, 0, 0, 0);
    }
    cmds[62] = s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, xyz[0], 0, 0, 0);
    cmds[63] = s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, xyz[1], 0, 0, 0);
    cmds[64] = s1_cmd(S1_CMD_SYNC);
    g_assert_cmpint(s1_invalidate(&t->f, t->viommu_id, cmds, 65, &done), ==,
                    EIO);
    g_assert_cmpuint(done, ==, 64);
    g_assert_cmpint(xyz_lands(t, &tt, 0), ==, 2);   /* issued */
    g_assert_cmpint(xyz_lands(t, &tt, 1), ==, 1);   /* counted only */
}

/* Commands a vIOMMU refuses, and the ones it takes */
/*
 * Which commands the kernel refuses with EIO before they reach the
 * command queue (arm_vsmmu_validate_user_cmd(), 7.3.4): unknown opcodes
 * and vSIDs, any field the opcode does not have (RES0 bits included),
 * the reserved range encodings, ATC_INV on an SMMU without ATS. Out of
 * range values of fields it has (a 20-bit SSID) pass.
 */
static void test_inv_commands(SmmuTest *t, gconstpointer data)
{
    const S1Cmd bad[] = {
        s1_cmd_sid(S1_CMD_CFGI_CD, VSID + 1, 0, false),
        s1_cmd_sid(S1_CMD_CFGI_CD_ALL, VSID + 1, 0, false),
        s1_cmd_sid(S1_CMD_ATC_INV, VSID + 1, 0, false),
        s1_cmd_sid(S1_CMD_ATC_INV, VSID, 5, true),      /* no ATS */
        s1_cmd_sid(S1_CMD_CFGI_STE, VSID, 0, false),
        s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 0, true),      /* no SSV */
        s1_cmd_sid(S1_CMD_CFGI_CD_ALL, VSID, 1, false), /* no SSID */
        s1_cmd_asid(S1_CMD_TLBI_NH_ALL, ASID),          /* no ASID */
        cmd_or(s1_cmd(S1_CMD_TLBI_NSNH_ALL), 1ULL << 32, 0),
        cmd_or(s1_cmd_asid(S1_CMD_TLBI_NH_ASID, ASID), 0, 1),
        /* TG without a range or a level; TTL or NUM without TG */
        s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, S1_TLBI_TG_4K, 0, 0),
        cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, 0, 0, 0), 0,
               TTL(3)),
        s1_cmd_va(S1_CMD_TLBI_NH_VAA, 0, IOVA, 0, 1, 0),
        /* TTL 1 with a 16K granule needs IDR5.DS */
        cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, S1_TLBI_TG_16K, 0,
                         0), 0, TTL(1)),
        cmd_or(s1_cmd(S1_CMD_TLBI_NH_VAA), 1ULL << 8, 0),   /* RES0 */
        s1_cmd(S1_CMD_TLBI_S12_VMALL),
        s1_cmd(S1_CMD_SYNC),
        s1_cmd(0x04),           /* CFGI_STE_RANGE / CFGI_ALL */
        s1_cmd(0xff),
    };
    const S1Cmd good[] = {
        s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 0xfffff, false),
        cmd_or(s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 0, false), 0, 1), /* Leaf */
        s1_cmd_sid(S1_CMD_CFGI_CD_ALL, VSID, 0, false),
        s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, S1_TLBI_TG_64K, 31, 31),
        s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, 0, 0, 0),
        cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA, S1_TLBI_TG_4K, 0,
                         0), 1ULL << 32, TTL(3) | 1),   /* VMID, Leaf */
        cmd_or(s1_cmd_asid(S1_CMD_TLBI_NH_ASID, ASID), 7ULL << 32, 0),
    };
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd),
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = sizeof(S1Cmd),
        .entry_num = 1,
        .data_uptr = (uintptr_t)good,
    };
    unsigned i;

    nest_up(t, true, EVQ_DEPTH);
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_cmpint(inv1_err(t, bad[i]), ==, EIO);
    }
    for (i = 0; i < G_N_ELEMENTS(good); i++) {
        g_assert_cmpint(inv1_err(t, good[i]), ==, 0);
    }
    /*
     * No probe with an empty array: arm_vsmmu_cache_invalidate() copies
     * it with iommu_copy_struct_from_full_user_array(), EINVAL for 0.
     */
    g_assert_cmpint(s1_invalidate(&t->f, t->viommu_id, good, 0, NULL), ==,
                    EINVAL);
    cmd.hwpt_id = t->viommu_id;
    cmd.data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
    g_assert_cmpint(ctx_ioctl(&t->f, IOMMU_HWPT_INVALIDATE, &cmd), ==, EINVAL);
    cmd.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
    /* A shorter entry is zero-extended (copy_struct_from_user()) */
    cmd.entry_len = 8;
    cmd.entry_num = 1;
    g_assert_cmpint(ctx_ioctl(&t->f, IOMMU_HWPT_INVALIDATE, &cmd), ==, 0);
    g_assert_cmpuint(cmd.entry_num, ==, 1);
    cmd.entry_len = sizeof(S1Cmd);
    ste_install_cfg(t, S1_STE_CFG_ABORT, 0, 0, 0, 0);
    cmd.hwpt_id = t->nested_id;     /* SMMUv3 invalidates via the vIOMMU */
    cmd.entry_num = 1;
    g_assert_cmpint(ctx_ioctl(&t->f, IOMMU_HWPT_INVALIDATE, &cmd), ==,
                    EOPNOTSUPP);
}

static int inv_raw(SmmuTest *t, const void *entries, uint32_t entry_len,
                   uint32_t entry_num, uint32_t *done)
{
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd),
        .hwpt_id = t->viommu_id,
        .data_uptr = (uintptr_t)entries,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = entry_len,
        .entry_num = entry_num,
    };
    int rc = ctx_ioctl(&t->f, IOMMU_HWPT_INVALIDATE, &cmd);

    *done = cmd.entry_num;
    return rc;
}

/*
 * The vIOMMU's array is copied whole before any command runs
 * (arm_vsmmu_cache_invalidate() through
 * iommu_copy_struct_from_full_user_array()): an entry longer than 16
 * bytes needs a zero tail (else E2BIG), a bad pointer anywhere is EFAULT,
 * both with entry_num 0 and no command run, not even the good first one;
 * an entry shorter than 16 bytes is zero-extended.
 */
static void test_inv_array(SmmuTest *t, gconstpointer data)
{
    const S1Cmd all = s1_cmd(S1_CMD_TLBI_NH_ALL);
    uint8_t wide[2][24] = { { 0 } };
    uint8_t *pages;
    uint64_t a, b;
    uint32_t done;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    a = s1_alloc(&t->mem, PAGE);
    b = s1_alloc(&t->mem, PAGE);
    s1_pt_map(&pt, IOVA, a, 3, S1_RW);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    s1_pt_map(&pt, IOVA, b, 3, S1_RW);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);  /* stale */

    /* 24-byte entries, the second with a non-zero tail */
    memcpy(wide[0], &all, sizeof(all));
    memcpy(wide[1], &all, sizeof(all));
    wide[1][sizeof(all)] = 1;
    g_assert_cmpint(inv_raw(t, wide, sizeof(wide[0]), 2, &done), ==, E2BIG);
    g_assert_cmpuint(done, ==, 0);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);

    /* the second entry in an inaccessible page */
    pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(pages != MAP_FAILED);
    g_assert_cmpint(mprotect(pages + PAGE, PAGE, PROT_NONE), ==, 0);
    memcpy(pages + PAGE - sizeof(all), &all, sizeof(all));
    g_assert_cmpint(inv_raw(t, pages + PAGE - sizeof(all), sizeof(all), 2,
                            &done), ==, EFAULT);
    g_assert_cmpuint(done, ==, 0);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
    munmap(pages, 2 * PAGE);

    /* zero tails: both run */
    wide[1][sizeof(all)] = 0;
    g_assert_cmpint(inv_raw(t, wide, sizeof(wide[0]), 2, &done), ==, 0);
    g_assert_cmpuint(done, ==, 2);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 2);

    /* 8-byte entries: the opcode dword, the other one zero */
    s1_pt_map(&pt, IOVA, a, 3, S1_RW);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 2);  /* stale */
    g_assert_cmpint(inv_raw(t, &all, 8, 1, &done), ==, 0);
    g_assert_cmpuint(done, ==, 1);
    g_assert_cmpint(lands(t, EMU_NO_PASID, IOVA, a, b), ==, 1);
}

/* What a smaller SMMU (no RIL, 4K only, 4-bit SSIDs, 40-bit OAS) refuses */
/*
 * With ATS the kernel takes ATC_INV (arm_vsmmu_validate_user_cmd(),
 * 7.3.4): a known vSID, SSV and an SSID with substreams, a Size up to
 * 52; a Size above it and an unknown vSID stay EIO.
 */
static void test_atc_inv_ats(SmmuTest *t, gconstpointer data)
{
    S1Cmd c = s1_cmd_sid(S1_CMD_ATC_INV, VSID, 5, true);

    nest_up(t, true, EVQ_DEPTH);
    g_assert_cmpint(inv1_err(t, c), ==, 0);
    g_assert_cmpint(inv1_err(t, cmd_or(c, 0, 52)), ==, 0);
    g_assert_cmpint(inv1_err(t, cmd_or(c, 0, 53)), ==, EIO);
    g_assert_cmpint(inv1_err(t, s1_cmd_sid(S1_CMD_ATC_INV, VSID + 1, 0,
                                           false)), ==, EIO);
}

static void test_small_smmu(SmmuTest *t, gconstpointer data)
{
    uint64_t cd, cd0, v;
    S1Pt pt;

    nest_up(t, true, EVQ_DEPTH);
    g_assert_cmpint(inv1_err(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA,
                                          S1_TLBI_TG_4K, 1, 0)), ==, EIO);
    g_assert_cmpint(inv1_err(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA,
                                          S1_TLBI_TG_16K, 0, 0)), ==, EIO);
    g_assert_cmpint(inv1_err(t, s1_cmd_va(S1_CMD_TLBI_NH_VAA, 0, IOVA,
                                          S1_TLBI_TG_64K, 0, 0)), ==, EIO);
    /* without RIL, TG/TTL are RES0 too: only TG 0 passes */
    g_assert_cmpint(inv1_err(t, cmd_or(s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID,
                                                 IOVA, S1_TLBI_TG_4K, 0, 0),
                                       0, TTL(3))), ==, EIO);
    g_assert_cmpint(inv1_err(t, s1_cmd_va(S1_CMD_TLBI_NH_VA, ASID, IOVA,
                                          0, 0, 0)), ==, 0);
    /* an SSID beyond SSIDSIZE is the guest's own unpredictability */
    g_assert_cmpint(inv1_err(t, s1_cmd_sid(S1_CMD_CFGI_CD, VSID,
                                           SSID_TOO_BIG, false)), ==, 0);
    g_assert_cmpint(inv1_err(t, s1_cmd_sid(S1_CMD_ATC_INV, VSID,
                                           SSID_TOO_BIG, true)), ==, EIO);
    g_assert_cmpint(inv1_err(t, s1_cmd_sid(S1_CMD_CFGI_CD, VSID,
                                           SSID_TOO_BIG - 1, false)), ==, 0);
    cd = s1_up(t, &pt, S1_GRANULE_4K, 48, ASID);
    /* the output fits the CD's 48-bit IPS but not the 40-bit OAS */
    s1_pt_map(&pt, IOVA, 1ULL << 40, 3, S1_RW);
    g_assert_cmpint(dma_r(t, EMU_NO_PASID, IOVA, &v), ==, -EFAULT);
    expect_s1_fault(t, S1_EVT_F_ADDR_SIZE, EMU_NO_PASID, IOVA, true);
    /* granules it lacks make the CD illegal; S1CDMax beyond SSIDSIZE */
    cd0 = s1_cd0(&pt, ASID) & ~TG0_MASK;
    s1_cd_write(&t->mem, cd, cd0 | (2ULL << S1_CD0_TG0_SHIFT), &pt);
    inv1(t, s1_cmd_sid(S1_CMD_CFGI_CD, VSID, 0, false));
    expect_config_event(t, EMU_NO_PASID, IOVA + PAGE, S1_EVT_C_BAD_CD);
    s1_cd_write(&t->mem, cd, cd0 | (1ULL << S1_CD0_TG0_SHIFT), &pt);
    expect_config_event(t, EMU_NO_PASID, IOVA + PAGE, S1_EVT_C_BAD_CD);
    ste_install_cfg(t, S1_STE_CFG_S1, cd, S1_FMT_LINEAR, 5, S1_DSS_SSID0);
    expect_config_event(t, 1, IOVA, S1_EVT_C_BAD_STE);
}

/* ---- failure injection ---- */

/* The nesting setup, stopping at the first failure; returns its errno */
static int nest_try(SmmuTest *t)
{
    EmuFixture *f = &t->f;
    struct iommu_hwpt_arm_smmuv3 ste;
    S1Cmd cmd = s1_cmd(S1_CMD_TLBI_NH_ALL);
    uint32_t s2, viommu, id, pt;
    int rc, fd;

    s1_vste(&ste, S1_STE_CFG_BYPASS, 0, 0, 0, 0);
    rc = t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                      IOMMU_HWPT_DATA_NONE, NULL, 0, &s2);
    rc = rc ? rc : s1_viommu_alloc(f, f->dev_id, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                   s2, &viommu);
    rc = rc ? rc : s1_vdevice_alloc(f, viommu, f->dev_id, VSID, &id);
    rc = rc ? rc : s1_veventq_alloc(f, viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                                    EVQ_DEPTH, &id, &fd);
    rc = rc ? rc : t_hwpt_alloc(f, viommu, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                                &ste, sizeof(ste), &pt);
    rc = rc ? rc : t_attach(f, &pt);
    rc = rc ? rc : s1_invalidate(f, viommu, &cmd, 1, NULL);
    return rc;
}

static void test_fail_nth(void)
{
    unsigned long nth;

    for (nth = 1; nth < 100; nth++) {
        SmmuTest t;
        int rc;

        setup(&t, NULL);
        emu_host_fail_nth(t.f.host, nth, ENOMEM);
        rc = nest_try(&t);
        emu_host_fail_nth(t.f.host, 0, 0);
        if (rc) {
            emu_sweep_note(t.f.host);
        }
        teardown(&t, NULL);     /* no leak whatever failed */
        if (!rc) {
            g_test_message("%lu injection points", nth - 1);
            g_assert_cmpuint(nth - 1, >=, 20);
            return;
        }
        g_assert_cmpint(rc, ==, ENOMEM);
    }
    g_assert_not_reached();
}

/*
 * The same steps one at a time, each injection point failed in turn:
 * every failure must leave the state as it was (emu_ctx_describe()).
 */
typedef struct SmmuSweep {
    unsigned step;
    uint32_t s2, viommu, vdev, veventq, nested;
    int fd;
} SmmuSweep;

static int smmu_sweep_step(EmuFixture *f, void *opaque)
{
    SmmuSweep *s = opaque;
    struct iommu_hwpt_arm_smmuv3 ste;
    S1Cmd cmd = s1_cmd(S1_CMD_TLBI_NH_ALL);
    uint32_t pt;

    switch (s->step) {
    case 0:
        return t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                            IOMMU_HWPT_DATA_NONE, NULL, 0, &s->s2);
    case 1:
        return s1_viommu_alloc(f, f->dev_id, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                               s->s2, &s->viommu);
    case 2:
        return s1_vdevice_alloc(f, s->viommu, f->dev_id, VSID, &s->vdev);
    case 3:
        return s1_veventq_alloc(f, s->viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                                EVQ_DEPTH, &s->veventq, &s->fd);
    case 4:
        s1_vste(&ste, S1_STE_CFG_BYPASS, 0, 0, 0, 0);
        return t_hwpt_alloc(f, s->viommu, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                            &ste, sizeof(ste), &s->nested);
    case 5:
        pt = s->nested;
        return t_attach(f, &pt);
    case 6:
        return s1_invalidate(f, s->viommu, &cmd, 1, NULL);
    }
    g_assert_not_reached();
}

static void test_fail_nth_steps(void)
{
    /*
     * parent: object 2, domain, aperture, IOAS slot; vIOMMU: object 2;
     * vDEVICE:
     * object 2, vSID slot; vEVENTQ: object 2, file; nested: object 2,
     * the vSTE's domain; attach: MSI window, handle; invalidate: the
     * array's copy, the batch issued
     */
    static const unsigned min_points[] = { 5, 2, 3, 3, 3, 2, 2 };
    SmmuSweep s = { 0 };
    unsigned total = 0;
    SmmuTest t;

    setup(&t, NULL);
    for (s.step = 0; s.step < G_N_ELEMENTS(min_points); s.step++) {
        unsigned n = emu_sweep_step(&t.f, smmu_sweep_step, &s);

        g_test_message("step %u: %u injection points", s.step, n);
        g_assert_cmpuint(n, >=, min_points[s.step]);
        total += n;
    }
    g_test_message("%u injection points", total);
    g_assert_cmpuint(total, >=, 20);
    teardown(&t, NULL);
}

/* ---- registration ---- */

#define SMMU_TEST(path, fn) \
    g_test_add("/emu/smmuv3/" path, SmmuTest, NULL, setup, fn, teardown)
#define SMMU_TEST_DATA(path, data, fn) \
    g_test_add(path, SmmuTest, data, setup, fn, teardown)

static void add_case_tests(void)
{
    unsigned i;

    for (i = 0; i < G_N_ELEMENTS(hw_info_cases); i++) {
        g_autofree char *p = g_strdup_printf("/emu/smmuv3/hw-info/%u", i);

        g_test_add_data_func(p, &hw_info_cases[i], test_hw_info);
    }
    for (i = 0; i < G_N_ELEMENTS(gran_cases); i++) {
        g_autofree char *p = g_strdup_printf(
            "/emu/smmuv3/translate/%uk-va%u", 1u << (gran_cases[i].gshift - 10),
            gran_cases[i].va_bits);

        SMMU_TEST_DATA(p, &gran_cases[i], test_translate);
    }
    for (i = 0; i < G_N_ELEMENTS(block_cases); i++) {
        g_autofree char *p = g_strdup_printf(
            "/emu/smmuv3/block/%uk-level%u", 1u << (block_cases[i].gshift - 10),
            block_cases[i].level);

        SMMU_TEST_DATA(p, &block_cases[i], test_block);
    }
    for (i = 0; i < G_N_ELEMENTS(fault_cases); i++) {
        g_autofree char *p = g_strdup_printf("/emu/smmuv3/fault/%s",
                                             fault_cases[i].name);

        SMMU_TEST_DATA(p, &fault_cases[i], test_fault);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_case_tests();
    SMMU_TEST("hw-info/sizes", test_hw_info_sizes);
    SMMU_TEST("nest/setup", test_nest_setup);
    SMMU_TEST("nest/viommu-errors", test_viommu_errors);
    SMMU_TEST("nest/viommu-unchecked", test_viommu_unchecked);
    SMMU_TEST("nest/destroy-order", test_destroy_order);
    SMMU_TEST("nest/vste-validation", test_vste_validation);
    SMMU_TEST("nest/attach-needs-vdevice", test_attach_needs_vdevice);
    SMMU_TEST("event/overflow", test_eventq_overflow);
    SMMU_TEST("event/lost-deleted", test_eventq_lost_deleted);
    SMMU_TEST("event/read-sizes", test_eventq_read_sizes);
    SMMU_TEST("ste/bypass", test_ste_bypass);
    SMMU_TEST("ste/abort", test_ste_abort);
    SMMU_TEST("cd/substreams", test_substreams);
    SMMU_TEST("cd/two-level", test_cd_two_level);
    SMMU_TEST("cd/bad", test_cd_bad);
    SMMU_TEST("inv/stale-tlbi-va", test_stale_tlbi_va);
    SMMU_TEST("inv/tlbi-kinds", test_tlbi_kinds);
    SMMU_TEST("inv/tlbi-range", test_tlbi_range);
    SMMU_TEST("inv/tlbi-block", test_tlbi_block);
    SMMU_TEST("inv/cd-cache", test_cd_cache);
    SMMU_TEST("inv/ste-rewrite", test_ste_rewrite);
    SMMU_TEST("inv/stale-ste-replace", test_stale_ste_replace);
    SMMU_TEST("inv/stale-cfgi-cd-same-asid", test_stale_cfgi_cd_same_asid);
    SMMU_TEST("inv/perm-cached", test_perm_cached);
    SMMU_TEST("inv/tlbi-ttl", test_tlbi_ttl);
    SMMU_TEST("inv/walk-cache-leaf", test_walk_cache_leaf);
    SMMU_TEST("isolation/two-viommus", test_two_viommus);
    SMMU_TEST("inv/batch-partial", test_batch_partial);
    SMMU_TEST("inv/batch-issue", test_batch_issue);
    SMMU_TEST("inv/commands", test_inv_commands);
    SMMU_TEST("inv/array", test_inv_array);
    g_test_add("/emu/smmuv3/cd/no-cd2l", SmmuTest, NULL, setup_no_cd2l,
               test_no_cd2l, teardown);
    g_test_add("/emu/smmuv3/inv/atc-inv-ats", SmmuTest, NULL, setup_ats,
               test_atc_inv_ats, teardown);
    g_test_add("/emu/smmuv3/small-smmu", SmmuTest, NULL, setup_small,
               test_small_smmu, teardown);
    g_test_add_func("/emu/smmuv3/fail-nth", test_fail_nth);
    g_test_add_func("/emu/smmuv3/fail-nth/steps", test_fail_nth_steps);
    return g_test_run();
}
