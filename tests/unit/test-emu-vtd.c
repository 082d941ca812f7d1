/*
 * VNest unit tests: the emulated Intel VT-d hardware
 *
 * GET_HW_INFO's cap/ecap registers, nested HWPT (IOMMU_HWPT_DATA_VTD_S1)
 * allocation and attach errors, IOMMU_HWPT_INVALIDATE's per-entry contract,
 * and device DMA through hand-built first-stage tables: leaves of every
 * size landing where they point, architected fault reasons, A/D bits in
 * guest memory, and an IOTLB that only invalidations flush.
 *
 * DMA tests run on a variant table in the kernel selftests' style: 4- and
 * 5-level tables, each on the RID and on a PASID. White-box checks call
 * the model's walk directly (emu-internal.h) to read the fault reason.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-test.h"
#include "emu-internal.h"
#include "vtd-s1.h"

#define TEST_PASID      7u

/* Architected register bits the tests decode (VT-d spec 11.4.2/11.4.3) */
#define CAP_SAGAW(c)    (((c) >> 8) & 0x1f)
#define CAP_SAGAW_39    (1u << 1)
#define CAP_SAGAW_48    (1u << 2)
#define CAP_SAGAW_57    (1u << 3)
#define CAP_MGAW(c)     ((((c) >> 16) & 0x3f) + 1)
#define CAP_FS1GP       (1ULL << 56)
#define CAP_FS5LP       (1ULL << 60)
#define ECAP_NEST       (1ULL << 26)
#define ECAP_PRS        (1ULL << 29)
#define ECAP_SRS        (1ULL << 31)
#define ECAP_EAFS       (1ULL << 34)
#define ECAP_PSS(e)     (((e) >> 35) & 0x1f)
#define ECAP_PASID      (1ULL << 40)
#define ECAP_SMTS       (1ULL << 43)
#define ECAP_SSADS      (1ULL << 45)
#define ECAP_SSTS       (1ULL << 46)
#define ECAP_FSTS       (1ULL << 47)

/* Scalable-mode fault reasons (VT-d spec 7.1.3) */
#define FR_FS_ENTRY_ACCESS  0x70
#define FR_FS_NOT_PRESENT   0x71
#define FR_FS_RESERVED      0x72
#define FR_FS_PTPTR         0x73
#define FR_NON_CANONICAL    0x80
#define FR_PRIVILEGE        0x81
#define FR_WRITE            0x85
#define FR_AD_UPDATE        0x91

/* Input addresses: canonical for 4-level, using high table indices */
#define IOVA_4K         0x7fabcdef1000ULL
#define IOVA_2M         0x7fabc0200000ULL
#define IOVA_1G         0x7fab40000000ULL
/* Canonical only with 5-level paging (bits 55:48 in use) */
#define IOVA_5LEVEL     0x00abcdef12345000ULL
#define GPA_UNMAPPED    0x80000000ULL

/* Offset of data page @n in guest RAM; where a large leaf at RAM puts it */
#define DATA_OFF(n)     (VTD_S1_DATA_GPA(n) - VTD_S1_GPA_BASE)

typedef struct VtdVariant {
    const char *name;
    unsigned levels;            /* 4 or 5 (five_level hardware) */
    uint32_t pasid;             /* EMU_NO_PASID: the nested HWPT on the RID */
} VtdVariant;

static const VtdVariant variants[] = {
    { .name = "4level", .levels = 4, .pasid = EMU_NO_PASID },
    { .name = "5level", .levels = 5, .pasid = EMU_NO_PASID },
    { .name = "4level-pasid", .levels = 4, .pasid = TEST_PASID },
    { .name = "5level-pasid", .levels = 5, .pasid = TEST_PASID },
};

typedef struct VtdFixture {
    EmuFixture f;
    const VtdVariant *v;
    VtdS1 s1;
    uint32_t parent_id;
    uint32_t nested_id;
    uint32_t pasid;             /* what the device's DMA carries */
} VtdFixture;

/* ---- helpers ---- */

static struct iommu_hwpt_vtd_s1 s1_data(uint64_t flags, uint64_t root,
                                        unsigned levels)
{
    return (struct iommu_hwpt_vtd_s1) {
        .flags = flags,
        .pgtbl_addr = root,
        .addr_width = levels == 5 ? 57 : 48,
    };
}

static int t_nested_alloc(EmuFixture *f, uint32_t parent, uint32_t flags,
                          const struct iommu_hwpt_vtd_s1 *s1, uint32_t *id)
{
    return t_hwpt_alloc(f, parent, flags, IOMMU_HWPT_DATA_VTD_S1, s1,
                        sizeof(*s1), id);
}

static int t_invalidate(EmuFixture *f, uint32_t hwpt_id, uint32_t data_type,
                        const void *entries, uint32_t entry_len,
                        uint32_t *entry_num)
{
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd),
        .hwpt_id = hwpt_id,
        .data_uptr = (uintptr_t)entries,
        .data_type = data_type,
        .entry_len = entry_len,
        .entry_num = *entry_num,
    };
    int rc = ctx_ioctl(f, IOMMU_HWPT_INVALIDATE, &cmd);

    *entry_num = cmd.entry_num;
    return rc;
}

/* Invalidate [addr, addr + npages pages) of the fixture's nested HWPT. */
static void inv_range(VtdFixture *vf, uint64_t addr, uint64_t npages)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = {
        .addr = addr, .npages = npages,
    };
    uint32_t n = 1;

    g_assert_cmpint(t_invalidate(&vf->f, vf->nested_id,
                                 IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, &inv,
                                 sizeof(inv), &n), ==, 0);
    g_assert_cmpuint(n, ==, 1);
}

static uint8_t *data_hva(VtdFixture *vf, unsigned n)
{
    return vf->f.buf + DATA_OFF(n);
}

static int vdma(VtdFixture *vf, uint64_t iova, void *buf, size_t len,
                unsigned access, EmuFaultInfo *fi)
{
    return emu_device_dma(vf->f.dev, vf->pasid, iova, buf, len, access, fi);
}

static void dma_write_ok(VtdFixture *vf, uint64_t iova, const char *s)
{
    g_assert_cmpint(vdma(vf, iova, (void *)s, strlen(s), EMU_DMA_WRITE,
                         NULL), ==, 0);
}

static void assert_bytes(const uint8_t *hva, const char *s)
{
    g_assert_cmpmem(hva, strlen(s), s, strlen(s));
}

/* The model's first-stage walk, called directly, for its fault record. */
static int walk_direct(VtdFixture *vf, uint32_t hwpt_id, uint64_t iova,
                       unsigned access, EmuWalk *w)
{
    EmuHwpt *hwpt = (EmuHwpt *)emu_obj_get(vf->f.ctx, hwpt_id,
                                           EMU_OBJ_HWPT_NESTED);
    EmuIdev *idev = emu_idev_get(vf->f.ctx, vf->f.dev_id);

    g_assert_nonnull(hwpt);
    g_assert_nonnull(idev);
    memset(w, 0, sizeof(*w));
    return emu_hw_vtd_ops.s1_translate(hwpt, idev, vf->pasid, iova, access, w);
}

/*
 * DMA at @iova faults with @err, reported with the right address, PASID
 * and access; the walk names the architected @reason. A permission fault
 * is a translation whose rights do not allow the access.
 */
static void assert_fault(VtdFixture *vf, uint64_t iova, unsigned access,
                         int err, uint64_t reason)
{
    uint8_t byte[1] = { 0x5a };
    EmuFaultInfo fi;
    EmuWalk w;
    int rc;

    g_assert_cmpint(vdma(vf, iova, byte, 1, access, &fi), ==, err);
    g_assert_cmpint(fi.err, ==, err);
    g_assert_cmphex(fi.iova, ==, iova);
    g_assert_cmphex(fi.pasid, ==, vf->pasid);
    g_assert_cmpuint(fi.access, ==, access);
    g_assert_nonnull(fi.reason);
    rc = walk_direct(vf, vf->nested_id, iova, access, &w);
    if (err == -EPERM) {
        /* a translation whose rights do not allow the access */
        g_assert_cmpint(rc, ==, -EPERM);
        g_assert_cmpint(w.fault.err, ==, -EPERM);
        g_assert_cmphex(w.prot & access, !=, access);
    } else {
        g_assert_cmpint(rc, ==, err);
        g_assert_cmpint(w.fault.err, ==, err);
        g_assert_cmphex(w.fault.iova, ==, iova);
    }
    g_assert_cmphex(w.hw[0], ==, reason);
}

/* ---- the DMA fixture ---- */

/* The DMA fixture, its nest parent allocated with @parent_flags too. */
static void vtd_setup_flags(VtdFixture *vf, const EmuHwConfig *cfg,
                            unsigned levels, uint32_t pasid,
                            uint32_t parent_flags)
{
    EmuFixture *f = &vf->f;
    uint32_t pflags = pasid == EMU_NO_PASID ? 0 : IOMMU_HWPT_ALLOC_PASID;
    struct iommu_hwpt_vtd_s1 s1;
    uint32_t pt;

    emu_fixture_setup_cfg(f, cfg);
    vf->pasid = pasid;
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, BUF_SIZE,
                                VTD_S1_GPA_BASE), ==, 0);
    vtd_s1_init(&vf->s1, f->buf, levels);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id,
                                 IOMMU_HWPT_ALLOC_NEST_PARENT | pflags |
                                 parent_flags, 0, NULL, 0, &vf->parent_id),
                    ==, 0);
    s1 = s1_data(0, vf->s1.root, levels);
    g_assert_cmpint(t_nested_alloc(f, vf->parent_id, pflags, &s1,
                                   &vf->nested_id), ==, 0);
    if (pasid != EMU_NO_PASID) {
        /* The RID stays on the parent: guest physical, no stage 1. */
        pt = vf->parent_id;
        g_assert_cmpint(t_attach(f, &pt), ==, 0);
    }
    pt = vf->nested_id;
    g_assert_cmpint(t_attach_pasid(f, pasid, &pt), ==, 0);
    g_assert_cmpuint(pt, ==, vf->nested_id);
}

static void vtd_setup_cfg(VtdFixture *vf, const EmuHwConfig *cfg,
                          unsigned levels, uint32_t pasid)
{
    vtd_setup_flags(vf, cfg, levels, pasid, 0);
}

static void vtd_setup(VtdFixture *vf, gconstpointer data)
{
    const VtdVariant *v = data;
    EmuHwConfig cfg;

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.vtd.five_level = v->levels == 5;
    /*
     * The walk itself, read-only stage-2 tables included, which Linux 7.3
     * never maps into a VT-d nest parent (erratum 772415 on every VT-d:
     * tested in test-emu-iommufd and vtd-nest-test).
     */
    cfg.vtd.errata_spr17 = false;
    vf->v = v;
    vtd_setup_cfg(vf, &cfg, v->levels, v->pasid);
}

static void vtd_teardown(VtdFixture *vf, gconstpointer data)
{
    emu_fixture_teardown(&vf->f);
}

/* Replace the device's nested HWPT with a new one on the same parent. */
static void replace_nested(VtdFixture *vf, uint64_t flags, uint64_t root)
{
    struct iommu_hwpt_vtd_s1 s1 = s1_data(flags, root, vf->s1.levels);
    uint32_t pflags = vf->pasid == EMU_NO_PASID ? 0 : IOMMU_HWPT_ALLOC_PASID;
    uint32_t old = vf->nested_id, pt;

    g_assert_cmpint(t_nested_alloc(&vf->f, vf->parent_id, pflags, &s1,
                                   &vf->nested_id), ==, 0);
    pt = vf->nested_id;
    g_assert_cmpint(t_attach_pasid(&vf->f, vf->pasid, &pt), ==, 0);
    g_assert_cmpint(t_destroy(&vf->f, old), ==, 0);
}

/* ---- translations ---- */

static void test_map_4k(VtdFixture *vf, gconstpointer data)
{
    char buf[32];

    vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    vtd_s1_map(&vf->s1, IOVA_4K + PAGE, VTD_S1_DATA_GPA(5), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    dma_write_ok(vf, IOVA_4K + 0x100, "four-k page");
    assert_bytes(data_hva(vf, 0) + 0x100, "four-k page");
    /* One request across the boundary: two pages, two places. */
    dma_write_ok(vf, IOVA_4K + PAGE - 4, "abcdefgh");
    assert_bytes(data_hva(vf, 0) + PAGE - 4, "abcd");
    assert_bytes(data_hva(vf, 5), "efgh");
    g_assert_cmpint(vdma(vf, IOVA_4K + 0x100, buf, 11, EMU_DMA_READ, NULL),
                    ==, 0);
    g_assert_cmpmem(buf, 11, "four-k page", 11);
}

static void check_large(VtdFixture *vf, uint64_t iova, uint64_t size)
{
    uint64_t off = DATA_OFF(3) + 0x20;
    EmuWalk w;

    vtd_s1_map(&vf->s1, iova, VTD_S1_GPA_BASE, size, FS_LEAF_RW);
    dma_write_ok(vf, iova + off, "large leaf");
    assert_bytes(data_hva(vf, 3) + 0x20, "large leaf");
    /* The walk reports the leaf size and the IPA of the address itself. */
    g_assert_cmpint(walk_direct(vf, vf->nested_id, iova + off,
                                EMU_DMA_READ, &w), ==, 0);
    g_assert_cmphex(w.size, ==, size);
    g_assert_cmphex(w.out, ==, VTD_S1_GPA_BASE + off);
    g_assert_cmphex(w.prot, ==, EMU_DMA_READ | EMU_DMA_WRITE);
}

static void test_map_2m(VtdFixture *vf, gconstpointer data)
{
    check_large(vf, IOVA_2M, VTD_S1_SIZE_2M);
}

static void test_map_1g(VtdFixture *vf, gconstpointer data)
{
    check_large(vf, IOVA_1G, VTD_S1_SIZE_1G);
}

/* Bits 55:48 select a PML5 entry: only 5-level tables can reach it. */
static void test_high_iova(VtdFixture *vf, gconstpointer data)
{
    if (vf->s1.levels == 4) {
        assert_fault(vf, IOVA_5LEVEL, EMU_DMA_READ, -EFAULT,
                     FR_NON_CANONICAL);
        return;
    }
    vtd_s1_map(&vf->s1, IOVA_5LEVEL, VTD_S1_DATA_GPA(1), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    dma_write_ok(vf, IOVA_5LEVEL + 8, "level five");
    assert_bytes(data_hva(vf, 1) + 8, "level five");
}

/* ---- faults ---- */

static void test_not_present(VtdFixture *vf, gconstpointer data)
{
    uint64_t *leaf;

    assert_fault(vf, IOVA_4K, EMU_DMA_READ, -EFAULT, FR_FS_NOT_PRESENT);
    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW & ~FS_P);
    assert_fault(vf, IOVA_4K, EMU_DMA_WRITE, -EFAULT, FR_FS_NOT_PRESENT);
    /* Not-present is never cached: making it present needs no flush. */
    *leaf |= FS_P;
    dma_write_ok(vf, IOVA_4K, "now present");
    assert_bytes(data_hva(vf, 0), "now present");
}

static void test_write_readonly(VtdFixture *vf, gconstpointer data)
{
    uint64_t *leaf;
    char buf[4];

    /*
     * A and D already set: only R/W can refuse the write (a clean leaf
     * would be refused for want of D whatever R/W says).
     */
    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RO | FS_A | FS_D);
    memcpy(data_hva(vf, 0), "keep", 4);
    g_assert_cmpint(vdma(vf, IOVA_4K, buf, 4, EMU_DMA_READ, NULL), ==, 0);
    g_assert_cmpmem(buf, 4, "keep", 4);
    assert_fault(vf, IOVA_4K, EMU_DMA_WRITE, -EPERM, FR_WRITE);
    assert_bytes(data_hva(vf, 0), "keep");
    /* R/W clear in a table entry above makes the leaf read-only too. */
    *leaf |= FS_RW;
    *vtd_s1_entry(&vf->s1, IOVA_4K, 2) &= ~FS_RW;
    inv_range(vf, IOVA_4K, 1);
    assert_fault(vf, IOVA_4K, EMU_DMA_WRITE, -EPERM, FR_WRITE);
}

/* Requests are user-mode: a supervisor-only page refuses even reads. */
static void test_supervisor_page(VtdFixture *vf, gconstpointer data)
{
    uint64_t *leaf;

    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_P | FS_RW);
    assert_fault(vf, IOVA_4K, EMU_DMA_READ, -EPERM, FR_PRIVILEGE);
    *leaf |= FS_US;
    *vtd_s1_entry(&vf->s1, IOVA_4K, vf->s1.levels) &= ~FS_US;
    inv_range(vf, IOVA_4K, 1);
    assert_fault(vf, IOVA_4K, EMU_DMA_WRITE, -EPERM, FR_PRIVILEGE);
}

static void test_non_canonical(VtdFixture *vf, gconstpointer data)
{
    uint64_t iova = vf->s1.levels == 5 ? 1ULL << 56 : 1ULL << 47;

    assert_fault(vf, iova, EMU_DMA_READ, -EFAULT, FR_NON_CANONICAL);
    assert_fault(vf, ~0ULL << 60, EMU_DMA_WRITE, -EFAULT, FR_NON_CANONICAL);
}

static void test_reserved_bits(VtdFixture *vf, gconstpointer data)
{
    uint64_t *leaf, *top;

    /* An output address above the IPA width (48 bits here) */
    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW | (1ULL << 50));
    assert_fault(vf, IOVA_4K, EMU_DMA_READ, -EFAULT, FR_FS_RESERVED);
    /* Ignored bits 62:52 and 11:8 are not reserved. */
    *leaf &= ~(1ULL << 50);
    *leaf |= (1ULL << 60) | (1ULL << 9);
    dma_write_ok(vf, IOVA_4K, "ignored");
    /* A large-page bit at the top level */
    top = vtd_s1_entry(&vf->s1, IOVA_2M, vf->s1.levels);
    *top |= FS_PS;
    /* a non-leaf change: the paging-structure caches must drop it */
    inv_range(vf, IOVA_2M, 1);
    assert_fault(vf, IOVA_2M, EMU_DMA_READ, -EFAULT, FR_FS_RESERVED);
    *top &= ~FS_PS;
    /* The bits between PAT and the address of a 2 MiB leaf */
    leaf = vtd_s1_map(&vf->s1, IOVA_2M, VTD_S1_GPA_BASE, VTD_S1_SIZE_2M,
                      FS_LEAF_RW | (1ULL << 13));
    assert_fault(vf, IOVA_2M, EMU_DMA_READ, -EFAULT, FR_FS_RESERVED);
}

static void check_accessed(VtdFixture *vf, uint64_t iova, bool dirty)
{
    unsigned level;

    for (level = vf->s1.levels; level >= 1; level--) {
        uint64_t e = *vtd_s1_entry(&vf->s1, iova, level);

        g_assert_cmphex(e & FS_A, ==, FS_A);
        g_assert_cmphex(e & FS_EA, ==, 0);
        g_assert_cmphex(e & FS_D, ==, level == 1 && dirty ? FS_D : 0);
    }
}

static void test_accessed_dirty(VtdFixture *vf, gconstpointer data)
{
    char buf[4];

    vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    g_assert_cmpint(vdma(vf, IOVA_4K, buf, 4, EMU_DMA_READ, NULL), ==, 0);
    check_accessed(vf, IOVA_4K, false);
    /* A clean leaf is cached read-only: the first write walks to set D. */
    dma_write_ok(vf, IOVA_4K, "dirt");
    check_accessed(vf, IOVA_4K, true);
    assert_bytes(data_hva(vf, 0), "dirt");
}

/* With EAFE the walk sets EA beside A. */
static void test_extended_accessed(VtdFixture *vf, gconstpointer data)
{
    unsigned level;
    char buf[4];

    vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    replace_nested(vf, IOMMU_VTD_S1_EAFE, vf->s1.root);
    g_assert_cmpint(vdma(vf, IOVA_4K, buf, 4, EMU_DMA_READ, NULL), ==, 0);
    for (level = vf->s1.levels; level >= 1; level--) {
        uint64_t e = *vtd_s1_entry(&vf->s1, IOVA_4K, level);

        g_assert_cmphex(e & (FS_A | FS_EA), ==, FS_A | FS_EA);
    }
}

/* Table pages are guest physical: the parent must map them. */
static void test_table_not_mapped(VtdFixture *vf, gconstpointer data)
{
    uint64_t *pde;

    vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    pde = vtd_s1_entry(&vf->s1, IOVA_4K, 2);
    *pde = GPA_UNMAPPED | FS_P | FS_RW | FS_US;
    assert_fault(vf, IOVA_4K, EMU_DMA_READ, -EFAULT, FR_FS_ENTRY_ACCESS);
    /* A root table outside guest RAM: the FSPTPTR access fails. */
    replace_nested(vf, 0, GPA_UNMAPPED);
    assert_fault(vf, IOVA_4K, EMU_DMA_READ, -EFAULT, FR_FS_PTPTR);
}

static void set_accessed(VtdFixture *vf, uint64_t iova)
{
    unsigned level;

    for (level = vf->s1.levels; level >= 1; level--) {
        *vtd_s1_entry(&vf->s1, iova, level) |= FS_A;
    }
}

/* Tables the parent maps read-only: the A/D update cannot be written. */
static void test_ad_update_fails(VtdFixture *vf, gconstpointer data)
{
    EmuFixture *f = &vf->f;
    uint64_t tables = VTD_S1_TABLE_PAGES * PAGE, gpa = VTD_S1_GPA_BASE;
    uint64_t *leaf;
    char buf[4];

    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW);
    g_assert_cmpint(t_unmap(f, f->ioas_id, gpa, BUF_SIZE, NULL), ==, 0);
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, tables, &gpa,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf + tables,
                                BUF_SIZE - tables, gpa + tables), ==, 0);
    assert_fault(vf, IOVA_4K, EMU_DMA_READ, -EFAULT, FR_AD_UPDATE);
    /* Flags already set need no write: reads work, writes need D. */
    set_accessed(vf, IOVA_4K);
    g_assert_cmpint(vdma(vf, IOVA_4K, buf, 4, EMU_DMA_READ, NULL), ==, 0);
    assert_fault(vf, IOVA_4K, EMU_DMA_WRITE, -EFAULT, FR_AD_UPDATE);
    *leaf |= FS_D;
    dma_write_ok(vf, IOVA_4K, "pre-dirty");
    assert_bytes(data_hva(vf, 0), "pre-dirty");
}

/* ---- the IOTLB and invalidation ---- */

static void test_stale_iotlb(VtdFixture *vf, gconstpointer data)
{
    uint64_t *leaf;

    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW);
    dma_write_ok(vf, IOVA_4K, "old1");
    /* The guest retargets the PTE and does not invalidate: stale DMA. */
    *leaf = (*leaf & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(1);
    dma_write_ok(vf, IOVA_4K, "old2");
    assert_bytes(data_hva(vf, 0), "old2");
    g_assert_cmpuint(data_hva(vf, 1)[0], ==, 0);
    /* Invalidating the neighbouring pages does not help. */
    inv_range(vf, IOVA_4K + PAGE, 1);
    inv_range(vf, IOVA_4K - PAGE, 1);
    dma_write_ok(vf, IOVA_4K, "old3");
    assert_bytes(data_hva(vf, 0), "old3");
    /* The right page does. */
    inv_range(vf, IOVA_4K, 1);
    dma_write_ok(vf, IOVA_4K, "new1");
    assert_bytes(data_hva(vf, 1), "new1");
    assert_bytes(data_hva(vf, 0), "old3");
    /* And so does invalidate-all. */
    *leaf = (*leaf & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(2);
    dma_write_ok(vf, IOVA_4K, "new2");
    assert_bytes(data_hva(vf, 1), "new2");
    inv_range(vf, 0, UINT64_MAX);
    dma_write_ok(vf, IOVA_4K, "all!");
    assert_bytes(data_hva(vf, 2), "all!");
}

/*
 * IOVA_4K written through (and cached) to data page 0, then its leaf
 * retargeted to data page 1 with no invalidation yet; returns the leaf.
 */
static uint64_t *stale_leaf(VtdFixture *vf)
{
    uint64_t *leaf;

    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW | FS_A | FS_D);
    dma_write_ok(vf, IOVA_4K, "old0");
    *leaf = (*leaf & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(1);
    return leaf;
}

/*
 * npages 0 is the kernel's end-address arithmetic (addr - 1) turned into
 * an aligned block (calculate_psi_aligned_address()): the two pages
 * around a 4 KiB-aligned addr whose bit 12 is set, everything from 0.
 */
static void test_inv_npages_zero(VtdFixture *vf, gconstpointer data)
{
    uint64_t *leaf;

    leaf = stale_leaf(vf);
    /* [IOVA_4K + 8K - 4K, IOVA_4K + 8K]: the 8 KiB block above */
    inv_range(vf, IOVA_4K + 2 * PAGE, 0);
    dma_write_ok(vf, IOVA_4K, "old1");
    assert_bytes(data_hva(vf, 0), "old1");
    /* [IOVA_4K - 4K, IOVA_4K]: IOVA_4K ends in 0x1000, an 8 KiB block */
    inv_range(vf, IOVA_4K, 0);
    dma_write_ok(vf, IOVA_4K, "new1");
    assert_bytes(data_hva(vf, 1), "new1");
    *leaf = (*leaf & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(2);
    inv_range(vf, 0, 0);
    dma_write_ok(vf, IOVA_4K, "new2");
    assert_bytes(data_hva(vf, 2), "new2");
}

/*
 * The kernel widens a range to the aligned power-of-two block that holds
 * it, and the hardware drops everything in the block: 16 pages starting
 * one page above IOVA_4K cross a 1 MiB boundary, so the 2 MiB block
 * around them goes, IOVA_4K with it.
 */
static void test_inv_psi_block(VtdFixture *vf, gconstpointer data)
{
    stale_leaf(vf);
    inv_range(vf, IOVA_4K + PAGE, 1);
    dma_write_ok(vf, IOVA_4K, "old1");
    assert_bytes(data_hva(vf, 0), "old1");
    inv_range(vf, IOVA_4K + PAGE, 16);
    dma_write_ok(vf, IOVA_4K, "new1");
    assert_bytes(data_hva(vf, 1), "new1");
}

/*
 * A non-leaf change (the PDE pointed at a new page table) followed by a
 * leaf-only (LEAF / IH) invalidation: the paging-structure cache keeps
 * the old PDE, so DMA still goes where the old table says. A non-leaf
 * invalidation of the same range fixes it.
 */
static void test_psc_leaf_hint(VtdFixture *vf, gconstpointer data)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = {
        .addr = IOVA_4K, .npages = 1, .flags = IOMMU_VTD_INV_FLAGS_LEAF,
    };
    uint64_t *pde, *leaf, old_pde, new_pt;
    uint32_t n = 1;
    EmuStats st;

    vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW | FS_A | FS_D);
    dma_write_ok(vf, IOVA_4K, "old0");
    /* a new page table for the 2 MiB around IOVA_4K */
    pde = vtd_s1_entry(&vf->s1, IOVA_4K, 2);
    old_pde = *pde;
    new_pt = vtd_s1_new_table(&vf->s1);
    leaf = (uint64_t *)vtd_s1_hva(&vf->s1, new_pt) +
           ((IOVA_4K >> 12) & 511);
    *leaf = VTD_S1_DATA_GPA(1) | FS_LEAF_RW | FS_A | FS_D;
    *pde = (old_pde & ~FS_ADDR_MASK) | new_pt;
    g_assert_cmpint(t_invalidate(&vf->f, vf->nested_id,
                                 IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, &inv,
                                 sizeof(inv), &n), ==, 0);
    dma_write_ok(vf, IOVA_4K, "old1");
    assert_bytes(data_hva(vf, 0), "old1");
    emu_host_stats(vf->f.host, &st);
    g_assert_cmpuint(st.psc_hits, >=, 1);
    /* the same range without the hint drops the cached PDE too */
    inv_range(vf, IOVA_4K, 1);
    dma_write_ok(vf, IOVA_4K, "new1");
    assert_bytes(data_hva(vf, 1), "new1");
}

/*
 * Replacing the domain of the device's PASID (or RID) tears the PASID
 * entry down, and the kernel then flushes the old domain's DID
 * (intel_pasid_tear_down_entry()): coming back to the first domain, the
 * retargeted leaf is walked afresh even though no invalidation named it.
 * While attached, no flush happens: the stale entry is used.
 */
static void test_replace_flushes(VtdFixture *vf, gconstpointer data)
{
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, vf->s1.root, vf->s1.levels);
    uint32_t pflags = vf->pasid == EMU_NO_PASID ? 0 : IOMMU_HWPT_ALLOC_PASID;
    uint32_t other, pt;

    stale_leaf(vf);
    dma_write_ok(vf, IOVA_4K, "old1");
    assert_bytes(data_hva(vf, 0), "old1");
    g_assert_cmpint(t_nested_alloc(&vf->f, vf->parent_id, pflags, &s1,
                                   &other), ==, 0);
    pt = other;
    g_assert_cmpint(t_attach_pasid(&vf->f, vf->pasid, &pt), ==, 0);
    pt = vf->nested_id;
    g_assert_cmpint(t_attach_pasid(&vf->f, vf->pasid, &pt), ==, 0);
    dma_write_ok(vf, IOVA_4K, "new1");
    assert_bytes(data_hva(vf, 1), "new1");
    g_assert_cmpint(t_destroy(&vf->f, other), ==, 0);
}

/* Invalidating any 4 KiB of a large leaf drops the whole leaf. */
static void test_large_leaf_inv(VtdFixture *vf, gconstpointer data)
{
    uint64_t *leaf;

    leaf = vtd_s1_map(&vf->s1, IOVA_2M, VTD_S1_GPA_BASE, VTD_S1_SIZE_2M,
                      FS_LEAF_RW);
    dma_write_ok(vf, IOVA_2M + DATA_OFF(0), "first");
    dma_write_ok(vf, IOVA_2M + DATA_OFF(1), "second");
    *leaf &= ~FS_P;
    /* Still cached: both pages translate. */
    dma_write_ok(vf, IOVA_2M + DATA_OFF(1), "stale");
    assert_bytes(data_hva(vf, 1), "stale");
    inv_range(vf, IOVA_2M + DATA_OFF(0), 1);
    assert_fault(vf, IOVA_2M + DATA_OFF(1), EMU_DMA_WRITE, -EFAULT,
                 FR_FS_NOT_PRESENT);
}

/*
 * The last page of the (sign-extended, upper half) input space: it
 * translates, and a range running past 2^64 still flushes it.
 */
static void test_top_of_space(VtdFixture *vf, gconstpointer data)
{
    const uint64_t top = ~(PAGE - 1);
    uint64_t *leaf;

    leaf = vtd_s1_map(&vf->s1, top, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW);
    dma_write_ok(vf, top + PAGE - 3, "top");
    assert_bytes(data_hva(vf, 0) + PAGE - 3, "top");
    *leaf = (*leaf & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(1);
    inv_range(vf, top - PAGE, 1);
    dma_write_ok(vf, top, "old");
    assert_bytes(data_hva(vf, 0), "old");
    inv_range(vf, top - PAGE, 16);
    dma_write_ok(vf, top, "new");
    assert_bytes(data_hva(vf, 1), "new");
}

/* Two entries, the second malformed: the first takes effect, count 1. */
static void test_inv_partial(VtdFixture *vf, gconstpointer data)
{
    struct iommu_hwpt_vtd_s1_invalidate inv[2] = {
        { .addr = IOVA_4K, .npages = 1, .flags = IOMMU_VTD_INV_FLAGS_LEAF },
        { .addr = IOVA_2M, .npages = 1, .flags = 1u << 1 },
    };
    uint64_t *leaf;
    uint32_t n = 2;

    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW);
    dma_write_ok(vf, IOVA_4K, "old");
    *leaf = (*leaf & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(1);
    g_assert_cmpint(t_invalidate(&vf->f, vf->nested_id,
                                 IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, inv,
                                 sizeof(inv[0]), &n), ==, EOPNOTSUPP);
    g_assert_cmpuint(n, ==, 1);
    dma_write_ok(vf, IOVA_4K, "new");
    assert_bytes(data_hva(vf, 1), "new");
}

/* ---- PASID ---- */

/* The RID stays on the parent: its DMA addresses are guest physical. */
static void test_pasid_rid_on_parent(VtdFixture *vf, gconstpointer data)
{
    EmuFaultInfo fi;
    char buf[4] = "rid!";

    g_assert_cmpint(emu_device_dma(vf->f.dev, EMU_NO_PASID,
                                   VTD_S1_DATA_GPA(4), buf, 4,
                                   EMU_DMA_WRITE, NULL), ==, 0);
    assert_bytes(data_hva(vf, 4), "rid!");
    /* Another PASID of the device is not attached: blocked. */
    g_assert_cmpint(emu_device_dma(vf->f.dev, TEST_PASID + 1, IOVA_4K, buf,
                                   4, EMU_DMA_READ, &fi), ==, -EFAULT);
}

/* One nested HWPT on the RID and a PASID: one domain, one flush. */
static void test_pasid_shared_domain(VtdFixture *vf, gconstpointer data)
{
    uint32_t pt = vf->nested_id;
    uint64_t *leaf;
    char buf[4] = "both";

    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW | FS_A | FS_D);
    g_assert_cmpint(t_attach(&vf->f, &pt), ==, 0);
    dma_write_ok(vf, IOVA_4K, "pasi");
    g_assert_cmpint(emu_device_dma(vf->f.dev, EMU_NO_PASID, IOVA_4K + 4,
                                   buf, 4, EMU_DMA_WRITE, NULL), ==, 0);
    assert_bytes(data_hva(vf, 0), "pasiboth");
    *leaf = (*leaf & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(1);
    inv_range(vf, IOVA_4K, 1);
    dma_write_ok(vf, IOVA_4K, "PASI");
    g_assert_cmpint(emu_device_dma(vf->f.dev, EMU_NO_PASID, IOVA_4K + 4,
                                   buf, 4, EMU_DMA_WRITE, NULL), ==, 0);
    assert_bytes(data_hva(vf, 1), "PASIboth");
}

/* ---- the fault queue (VT-d has no vEVENTQ) ---- */

/*
 * A HWPT with a fault queue needs the device's PRI on VT-d: attaching it
 * to a device without is ENODEV (iopf_for_domain_set() ->
 * intel_iommu_enable_iopf(): !info->pri_enabled). The allocation itself
 * succeeds (iommufd_hwpt_alloc() checks no device capability).
 */
static void test_fault_queue(VtdFixture *vf, gconstpointer data)
{
    EmuFixture *f = &vf->f;
    struct iommu_fault_alloc fa = { .size = sizeof(fa) };
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, vf->s1.root, vf->s1.levels);
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd), .flags = IOMMU_HWPT_FAULT_ID_VALID,
        .dev_id = f->dev_id, .pt_id = vf->parent_id,
        .data_type = IOMMU_HWPT_DATA_VTD_S1, .data_len = sizeof(s1),
        .data_uptr = (uintptr_t)&s1,
    };
    uint32_t pt;

    g_assert_false(emu_device_pri_enabled(f->dev));
    g_assert_cmpint(ctx_ioctl(f, IOMMU_FAULT_QUEUE_ALLOC, &fa), ==, 0);
    cmd.fault_id = fa.out_fault_id;
    if (vf->pasid != EMU_NO_PASID) {
        cmd.flags |= IOMMU_HWPT_ALLOC_PASID;
    }
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, 0);
    pt = cmd.out_hwpt_id;
    /* a replace: the old nested HWPT stays and still translates */
    g_assert_cmpint(t_attach_pasid(f, vf->pasid, &pt), ==, ENODEV);
    g_assert_cmpuint(emu_device_iopf_refcount(f->dev), ==, 0);
    vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    dma_write_ok(vf, IOVA_4K, "still");
    assert_bytes(data_hva(vf, 0), "still");
}

/* ---- PCIe PRI: page requests (emu-pri.c) ---- */

static int t_detach_pasid(EmuFixture *f, uint32_t pasid);

static void prep_pri(EmuDevice *dev)
{
    g_assert_cmpint(emu_device_set_pri(dev, true), ==, 0);
}

static void prep_pri_cap2(EmuDevice *dev)
{
    prep_pri(dev);
    g_assert_cmpint(emu_device_set_pri_capacity(dev, 2), ==, 0);
}

typedef struct PriFixture {
    VtdFixture vf;
    struct iommu_fault_alloc fa;
    int fd;
    unsigned notified;
    int last_status;
    uint32_t last_grpid;
} PriFixture;

static void prg_notify(void *opaque, EmuDevice *dev, uint32_t pasid,
                       uint32_t grpid, int status)
{
    PriFixture *pf = opaque;

    pf->notified++;
    pf->last_status = status;
    pf->last_grpid = grpid;
}

/*
 * A PRI device (@prep) whose RID or PASID is on a nested HWPT with a
 * fault queue over guest RAM (the RID on the parent for a PASID); with
 * @paging, on a paging HWPT with the fault queue instead.
 */
static void pri_setup(PriFixture *pf, uint32_t pasid, bool paging,
                      void (*prep)(EmuDevice *))
{
    VtdFixture *vf = &pf->vf;
    EmuFixture *f = &vf->f;
    uint32_t pflags = pasid == EMU_NO_PASID ? 0 : IOMMU_HWPT_ALLOC_PASID;
    EmuHwConfig cfg;
    struct iommu_hwpt_vtd_s1 s1;
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd), .flags = IOMMU_HWPT_FAULT_ID_VALID | pflags,
        .data_len = sizeof(s1), .data_uptr = (uintptr_t)&s1,
    };
    uint32_t pt;

    memset(pf, 0, sizeof(*pf));
    emu_hw_config_default(&cfg, EMU_HW_VTD);
    emu_fixture_setup_prep(f, &cfg, prep);
    vf->pasid = pasid;
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, BUF_SIZE,
                                VTD_S1_GPA_BASE), ==, 0);
    vtd_s1_init(&vf->s1, f->buf, 4);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id,
                                 IOMMU_HWPT_ALLOC_NEST_PARENT | pflags, 0,
                                 NULL, 0, &vf->parent_id), ==, 0);
    pf->fa = (struct iommu_fault_alloc) { .size = sizeof(pf->fa) };
    g_assert_cmpint(ctx_ioctl(f, IOMMU_FAULT_QUEUE_ALLOC, &pf->fa), ==, 0);
    pf->fd = pf->fa.out_fault_fd;
    s1 = s1_data(0, vf->s1.root, 4);
    cmd.dev_id = f->dev_id;
    cmd.fault_id = pf->fa.out_fault_id;
    if (paging) {
        cmd.pt_id = f->ioas_id;
        cmd.data_len = 0;
        cmd.data_uptr = 0;
    } else {
        cmd.pt_id = vf->parent_id;
        cmd.data_type = IOMMU_HWPT_DATA_VTD_S1;
    }
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, 0);
    vf->nested_id = cmd.out_hwpt_id;
    if (pasid != EMU_NO_PASID) {
        pt = vf->parent_id;
        g_assert_cmpint(t_attach(f, &pt), ==, 0);
    }
    pt = vf->nested_id;
    g_assert_cmpint(t_attach_pasid(f, pasid, &pt), ==, 0);
    emu_device_set_prg_notify(f->dev, prg_notify, pf);
}

static void pri_teardown(PriFixture *pf)
{
    emu_ctx_close_fd(pf->vf.f.ctx, pf->fd);
    emu_fixture_teardown(&pf->vf.f);
}

static int pri_read(PriFixture *pf, struct iommu_hwpt_pgfault *rec,
                    unsigned n)
{
    ssize_t r = emu_ctx_read(pf->vf.f.ctx, pf->fd, rec, n * sizeof(*rec));

    return r < 0 ? -errno : (int)(r / sizeof(*rec));
}

static int pri_respond(PriFixture *pf, uint32_t cookie, uint32_t code)
{
    struct iommu_hwpt_page_response resp = { .cookie = cookie, .code = code };
    ssize_t r = emu_ctx_write(pf->vf.f.ctx, pf->fd, &resp, sizeof(resp));

    return r < 0 ? errno : 0;
}

/* A DMA that sends a page request: -EAGAIN with its group index. */
static uint32_t dma_pri(VtdFixture *vf, uint64_t iova, unsigned access)
{
    uint8_t buf[8] = "12345678";
    EmuFaultInfo fi;

    g_assert_cmpint(vdma(vf, iova, buf, sizeof(buf), access, &fi), ==,
                    -EAGAIN);
    g_assert_cmpint(fi.err, ==, -EAGAIN);
    g_assert_true(fi.page_request);
    return fi.grpid;
}

static void check_record(PriFixture *pf, const struct iommu_hwpt_pgfault *r,
                         uint32_t grpid, uint64_t iova, uint32_t perm)
{
    uint32_t pasid = pf->vf.pasid;
    uint32_t flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE;

    if (pasid != EMU_NO_PASID) {
        /* intel_prq_report(): NEEDS_PASID too, copied as is (bit 2) */
        flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID | (1u << 2);
    }
    g_assert_cmphex(r->flags, ==, flags);
    g_assert_cmpuint(r->dev_id, ==, pf->vf.f.dev_id);
    g_assert_cmpuint(r->pasid, ==, pasid == EMU_NO_PASID ? 0 : pasid);
    g_assert_cmpuint(r->grpid, ==, grpid);
    g_assert_cmphex(r->perm, ==, perm);
    g_assert_cmphex(r->addr, ==, iova & ~(PAGE - 1));
    g_assert_cmpuint(r->length, ==, 0);
}

/*
 * Attach rules: ENODEV without PRI (above); with PRI each fault-capable
 * attachment takes an IOPF reference, detach or replace drops it. The
 * capability is fixed once bound (probe): EBUSY. Other hardware models
 * take no page requests: PRI is never enabled there.
 */
static void test_pri_attach(gconstpointer data)
{
    uint32_t pasid = GPOINTER_TO_UINT(data);
    PriFixture fix, *pf = &fix;
    EmuFixture *f = &pf->vf.f;
    uint32_t pt;

    pri_setup(pf, pasid, false, prep_pri);
    g_assert_true(emu_device_pri_enabled(f->dev));
    g_assert_cmpint(emu_device_set_pri(f->dev, false), ==, -EBUSY);
    g_assert_cmpint(emu_device_set_pri_capacity(f->dev, 4), ==, -EBUSY);
    g_assert_cmpuint(emu_device_iopf_refcount(f->dev), ==, 1);
    /* replace by the parent (no fault queue): the reference goes */
    pt = pf->vf.parent_id;
    g_assert_cmpint(t_attach_pasid(f, pasid, &pt), ==, 0);
    g_assert_cmpuint(emu_device_iopf_refcount(f->dev), ==, 0);
    pt = pf->vf.nested_id;
    g_assert_cmpint(t_attach_pasid(f, pasid, &pt), ==, 0);
    g_assert_cmpuint(emu_device_iopf_refcount(f->dev), ==, 1);
    g_assert_cmpint(t_detach_pasid(f, pasid), ==, 0);
    g_assert_cmpuint(emu_device_iopf_refcount(f->dev), ==, 0);
    pri_teardown(pf);
}

static void test_pri_other_hw(void)
{
    EmuHwKind kinds[] = { EMU_HW_SMMUV3, EMU_HW_SELFTEST, EMU_HW_PAGING };
    guint i;

    for (i = 0; i < G_N_ELEMENTS(kinds); i++) {
        EmuFixture fix;

        EmuHwConfig cfg;

        emu_hw_config_default(&cfg, kinds[i]);
        emu_fixture_setup_prep(&fix, &cfg, prep_pri);
        g_assert_false(emu_device_pri_enabled(fix.dev));
        emu_fixture_teardown(&fix);
    }
}

/*
 * The request, its record, the response: a recoverable first-stage fault
 * (not present) of a write sends a page request; the record is
 * intel_prq_report()'s as iommufd_compose_fault_message() writes it, with
 * cookie 1 (xa_alloc from 1). While unanswered, the same access waits on
 * the same group and sends nothing. SUCCESS lets the device retry; the
 * answered cookie is gone (EINVAL), as is one never read, or a code
 * other than SUCCESS/INVALID; a size not a multiple is ESPIPE.
 */
static void test_pri_request(gconstpointer data)
{
    uint32_t pasid = GPOINTER_TO_UINT(data);
    PriFixture fix, *pf = &fix;
    VtdFixture *vf = &pf->vf;
    struct iommu_hwpt_pgfault rec[2];
    struct iommu_hwpt_page_response resp = { 0 };
    uint32_t g;

    pri_setup(pf, pasid, false, prep_pri);
    g_assert_cmpint(emu_device_prg_status(vf->f.dev, 0), ==, -ENOENT);
    g_assert_cmpint(emu_device_prg_status(vf->f.dev, 512), ==, -EINVAL);
    g = dma_pri(vf, IOVA_4K + 0x10, EMU_DMA_WRITE);
    g_assert_cmpuint(g, ==, 0);
    g_assert_cmpint(emu_device_prg_status(vf->f.dev, g), ==,
                    EMU_PRG_PENDING);
    g_assert_cmpuint(dma_pri(vf, IOVA_4K + 0x20, EMU_DMA_WRITE), ==, g);
    g_assert_cmpint(pri_read(pf, rec, 2), ==, 1);
    check_record(pf, &rec[0], 0, IOVA_4K, IOMMU_PGFAULT_PERM_WRITE);
    g_assert_cmpuint(rec[0].cookie, ==, 1);
    g_assert_cmpint(pri_read(pf, rec, 2), ==, 0);
    /* the guest maps the page, user space answers */
    vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    g_assert_cmpint(pri_respond(pf, 7, IOMMUFD_PAGE_RESP_SUCCESS), ==,
                    EINVAL);
    g_assert_cmpint(pri_respond(pf, 1, 2), ==, EINVAL);
    g_assert_cmpint(emu_ctx_write(vf->f.ctx, pf->fd, &resp, 4), ==, -1);
    g_assert_cmpint(errno, ==, ESPIPE);
    g_assert_cmpuint(pf->notified, ==, 0);
    g_assert_cmpint(pri_respond(pf, 1, IOMMUFD_PAGE_RESP_SUCCESS), ==, 0);
    g_assert_cmpuint(pf->notified, ==, 1);
    g_assert_cmpint(pf->last_status, ==, EMU_PRG_SUCCESS);
    g_assert_cmpint(emu_device_prg_status(vf->f.dev, g), ==,
                    EMU_PRG_SUCCESS);
    g_assert_cmpint(pri_respond(pf, 1, IOMMUFD_PAGE_RESP_SUCCESS), ==,
                    EINVAL);
    dma_write_ok(vf, IOVA_4K + 0x10, "retried");
    assert_bytes(data_hva(vf, 0) + 0x10, "retried");

    /* a read-only page: a write requests WRITE; INVALID: give up */
    vtd_s1_map(&vf->s1, IOVA_4K + PAGE, VTD_S1_DATA_GPA(1), VTD_S1_SIZE_4K,
               FS_LEAF_RO | FS_A | FS_D);
    g = dma_pri(vf, IOVA_4K + PAGE, EMU_DMA_WRITE);
    g_assert_cmpuint(g, ==, 0);         /* index 0 is free again */
    g_assert_cmpint(pri_read(pf, rec, 1), ==, 1);
    check_record(pf, &rec[0], 0, IOVA_4K + PAGE, IOMMU_PGFAULT_PERM_WRITE);
    g_assert_cmpuint(rec[0].cookie, ==, 1);
    g_assert_cmpint(pri_respond(pf, 1, IOMMUFD_PAGE_RESP_INVALID), ==, 0);
    g_assert_cmpint(emu_device_prg_status(vf->f.dev, g), ==,
                    EMU_PRG_INVALID);
    /* a read of an unmapped page asks for READ */
    g = dma_pri(vf, IOVA_4K + 2 * PAGE, EMU_DMA_READ);
    g_assert_cmpint(pri_read(pf, rec, 1), ==, 1);
    check_record(pf, &rec[0], g, IOVA_4K + 2 * PAGE,
                 IOMMU_PGFAULT_PERM_READ);
    g_assert_cmpint(pri_respond(pf, rec[0].cookie,
                                IOMMUFD_PAGE_RESP_SUCCESS), ==, 0);
    pri_teardown(pf);
}

/* Faults an ATS request would not complete with R=W=0: no request. */
static void test_pri_unrecoverable(void)
{
    PriFixture fix, *pf = &fix;
    VtdFixture *vf = &pf->vf;
    struct iommu_hwpt_pgfault rec;
    uint64_t *leaf;
    EmuFaultInfo fi;
    uint8_t b = 0;

    pri_setup(pf, EMU_NO_PASID, false, prep_pri);
    g_assert_cmpint(vdma(vf, 1ULL << 47, &b, 1, EMU_DMA_READ, &fi), ==,
                    -EFAULT);
    g_assert_false(fi.page_request);
    leaf = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                      FS_LEAF_RW);
    *leaf |= 1ULL << 51;                /* reserved */
    g_assert_cmpint(vdma(vf, IOVA_4K, &b, 1, EMU_DMA_READ, &fi), ==,
                    -EFAULT);
    g_assert_false(fi.page_request);
    g_assert_cmpint(pri_read(pf, &rec, 1), ==, 0);
    g_assert_cmpint(emu_device_prg_status(vf->f.dev, 0), ==, -ENOENT);
    pri_teardown(pf);
}

/*
 * A paging HWPT with a fault queue: an unmapped IOVA is a page request
 * too. A blocked device (detached) sends none (its translation request
 * is an error). On a domain without fault queue the request is answered
 * INVALID at once and queued nowhere (find_fault_handler() ->
 * iopf_error_response()).
 */
static void test_pri_paging(void)
{
    PriFixture fix, *pf = &fix;
    VtdFixture *vf = &pf->vf;
    EmuFixture *f = &vf->f;
    struct iommu_hwpt_pgfault rec;
    EmuFaultInfo fi;
    uint8_t b = 0;
    uint32_t g, pt;

    pri_setup(pf, EMU_NO_PASID, true, prep_pri);
    g = dma_pri(vf, 0x10000000, EMU_DMA_WRITE);
    g_assert_cmpint(pri_read(pf, &rec, 1), ==, 1);
    check_record(pf, &rec, g, 0x10000000, IOMMU_PGFAULT_PERM_WRITE);
    /* the paging HWPT maps guest RAM: that DMA works */
    g_assert_cmpint(vdma(vf, VTD_S1_GPA_BASE, &b, 1, EMU_DMA_WRITE, NULL),
                    ==, 0);
    g_assert_cmpint(pri_respond(pf, rec.cookie, IOMMUFD_PAGE_RESP_SUCCESS),
                    ==, 0);
    /* on the nest parent, which has no fault queue */
    pt = vf->parent_id;
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    g = dma_pri(vf, 0x10000000, EMU_DMA_READ);
    g_assert_cmpint(emu_device_prg_status(f->dev, g), ==, EMU_PRG_INVALID);
    g_assert_cmpint(pri_read(pf, &rec, 1), ==, 0);
    g_assert_cmpint(t_detach(f), ==, 0);
    g_assert_cmpint(vdma(vf, 0x10000000, &b, 1, EMU_DMA_READ, &fi), ==,
                    -EFAULT);
    g_assert_false(fi.page_request);
    pri_teardown(pf);
}

/*
 * PCIe 10.4.1: never more outstanding requests than the allocation
 * (min(capacity, PRQ_DEPTH) from pci_enable_pri()): beyond, the device
 * sends nothing and the DMA fails with -EBUSY; an answer frees one.
 * Group indexes: the lowest one not outstanding.
 */
static void test_pri_limit(void)
{
    PriFixture fix, *pf = &fix;
    VtdFixture *vf = &pf->vf;
    struct iommu_hwpt_pgfault rec[3];
    EmuFaultInfo fi;
    uint8_t b = 0;

    pri_setup(pf, EMU_NO_PASID, false, prep_pri_cap2);
    g_assert_cmpuint(dma_pri(vf, IOVA_4K, EMU_DMA_READ), ==, 0);
    g_assert_cmpuint(dma_pri(vf, IOVA_4K + PAGE, EMU_DMA_READ), ==, 1);
    g_assert_cmpint(vdma(vf, IOVA_4K + 2 * PAGE, &b, 1, EMU_DMA_READ, &fi),
                    ==, -EBUSY);
    g_assert_false(fi.page_request);
    /* a write to a page requested for reading needs its own request */
    g_assert_cmpint(vdma(vf, IOVA_4K, &b, 1, EMU_DMA_WRITE, &fi), ==,
                    -EBUSY);
    g_assert_cmpint(pri_read(pf, rec, 3), ==, 2);
    g_assert_cmpint(pri_respond(pf, rec[0].cookie,
                                IOMMUFD_PAGE_RESP_INVALID), ==, 0);
    g_assert_cmpuint(dma_pri(vf, IOVA_4K + 2 * PAGE, EMU_DMA_READ), ==, 0);
    g_assert_cmpint(pri_read(pf, rec, 3), ==, 1);
    /* cookie 1 was answered: it is the lowest free again */
    g_assert_cmpuint(rec[0].cookie, ==, 1);
    pri_teardown(pf);
}

/*
 * iommufd_auto_response_faults(): detach or replace answers INVALID the
 * old attachment's requests, read or not; their cookies are gone.
 * Closing the queue's fd answers nothing (iommufd_eventq_fops_release()).
 */
static void test_pri_auto_response(gconstpointer data)
{
    uint32_t pasid = GPOINTER_TO_UINT(data);
    PriFixture fix, *pf = &fix;
    VtdFixture *vf = &pf->vf;
    EmuFixture *f = &vf->f;
    struct iommu_hwpt_pgfault rec;
    uint32_t g0, g1, pt;

    pri_setup(pf, pasid, false, prep_pri);
    g0 = dma_pri(vf, IOVA_4K, EMU_DMA_READ);
    g1 = dma_pri(vf, IOVA_4K + PAGE, EMU_DMA_READ);
    g_assert_cmpint(pri_read(pf, &rec, 1), ==, 1);     /* g0 read */
    /* replace by the parent */
    pt = vf->parent_id;
    g_assert_cmpint(t_attach_pasid(f, pasid, &pt), ==, 0);
    g_assert_cmpint(emu_device_prg_status(f->dev, g0), ==, EMU_PRG_INVALID);
    g_assert_cmpint(emu_device_prg_status(f->dev, g1), ==, EMU_PRG_INVALID);
    g_assert_cmpuint(pf->notified, ==, 2);
    g_assert_cmpint(pri_read(pf, &rec, 1), ==, 0);
    g_assert_cmpint(pri_respond(pf, rec.cookie, IOMMUFD_PAGE_RESP_SUCCESS),
                    ==, EINVAL);
    /* back on the fault HWPT; detach answers too */
    pt = vf->nested_id;
    g_assert_cmpint(t_attach_pasid(f, pasid, &pt), ==, 0);
    g0 = dma_pri(vf, IOVA_4K, EMU_DMA_READ);
    g_assert_cmpint(t_detach_pasid(f, pasid), ==, 0);
    g_assert_cmpint(emu_device_prg_status(f->dev, g0), ==, EMU_PRG_INVALID);
    /* closing the fd leaves requests pending */
    pt = vf->nested_id;
    g_assert_cmpint(t_attach_pasid(f, pasid, &pt), ==, 0);
    g0 = dma_pri(vf, IOVA_4K, EMU_DMA_READ);
    g_assert_cmpint(emu_ctx_close_fd(f->ctx, pf->fd), ==, 0);
    g_assert_cmpint(emu_device_prg_status(f->dev, g0), ==, EMU_PRG_PENDING);
    /* unbinding the device detaches it: answered */
    emu_vfio_close(f->vfio);
    f->vfio = NULL;
    g_assert_cmpint(emu_device_prg_status(f->dev, g0), ==, EMU_PRG_INVALID);
    emu_fixture_teardown(f);
}

/*
 * The group's allocation (iopf_group_alloc()) failing: the request is
 * aborted with IOMMU_PAGE_RESP_FAILURE, nothing queued; the device then
 * stops issuing page requests (PRI Response Failure), its DMA faults.
 */
static void test_pri_fail_nth(void)
{
    PriFixture fix, *pf = &fix;
    VtdFixture *vf = &pf->vf;
    struct iommu_hwpt_pgfault rec;
    EmuFaultInfo fi;
    uint8_t b = 0;
    uint32_t g;

    pri_setup(pf, EMU_NO_PASID, false, prep_pri);
    emu_host_fail_nth(vf->f.host, 1, ENOMEM);
    g = dma_pri(vf, IOVA_4K, EMU_DMA_READ);
    g_assert_cmpuint(emu_host_fail_nth(vf->f.host, 0, 0), >=, 1);
    g_assert_nonnull(strstr(emu_host_fail_site(vf->f.host), "emu-eventq.c"));
    emu_sweep_note(vf->f.host);
    g_assert_cmpint(emu_device_prg_status(vf->f.dev, g), ==,
                    EMU_PRG_FAILURE);
    g_assert_cmpint(pf->last_status, ==, EMU_PRG_FAILURE);
    g_assert_cmpint(pri_read(pf, &rec, 1), ==, 0);
    g_assert_cmpint(vdma(vf, IOVA_4K, &b, 1, EMU_DMA_READ, &fi), ==,
                    -EFAULT);
    g_assert_false(fi.page_request);
    pri_teardown(pf);
}

static void add_pri_tests(void)
{
    static const struct {
        const char *name;
        uint32_t pasid;
    } v[] = { { "rid", EMU_NO_PASID }, { "pasid", TEST_PASID } };
    guint i;

    for (i = 0; i < G_N_ELEMENTS(v); i++) {
        gconstpointer d = GUINT_TO_POINTER(v[i].pasid);
        g_autofree char *a = g_strdup_printf("/emu/vtd/pri/%s/attach",
                                             v[i].name);
        g_autofree char *r = g_strdup_printf("/emu/vtd/pri/%s/request",
                                             v[i].name);
        g_autofree char *ar = g_strdup_printf("/emu/vtd/pri/%s/auto-response",
                                              v[i].name);

        g_test_add_data_func(a, d, test_pri_attach);
        g_test_add_data_func(r, d, test_pri_request);
        g_test_add_data_func(ar, d, test_pri_auto_response);
    }
    g_test_add_func("/emu/vtd/pri/other-hw", test_pri_other_hw);
    g_test_add_func("/emu/vtd/pri/unrecoverable", test_pri_unrecoverable);
    g_test_add_func("/emu/vtd/pri/paging", test_pri_paging);
    g_test_add_func("/emu/vtd/pri/limit", test_pri_limit);
    g_test_add_func("/emu/vtd/pri/fail-nth", test_pri_fail_nth);
}

/* ---- GET_HW_INFO ---- */

typedef struct HwInfoCase {
    const char *name;
    bool nesting, dirty, five_level, fs1gp, errata;
    uint8_t pasid_bits, ias;
} HwInfoCase;

static const HwInfoCase hw_info_cases[] = {
    { "default", true, true, false, true, false, 20, 48 },
    { "no-nesting", false, true, false, true, false, 20, 48 },
    { "five-level", true, false, true, false, false, 20, 57 },
    { "errata-spr17", true, true, false, true, true, 20, 48 },
    { "pasid-10", true, true, false, true, false, 10, 48 },
    { "no-pasid", true, false, false, false, false, 0, 39 },
};

static int t_hw_info(EmuFixture *f, void *buf, uint32_t len,
                     struct iommu_hw_info *out)
{
    *out = (struct iommu_hw_info) {
        .size = sizeof(*out), .dev_id = f->dev_id,
        .data_len = len, .data_uptr = (uintptr_t)buf,
    };
    return ctx_ioctl(f, IOMMU_GET_HW_INFO, out);
}

static uint32_t expected_sagaw(unsigned ias)
{
    return (ias >= 39 ? CAP_SAGAW_39 : 0) | (ias >= 48 ? CAP_SAGAW_48 : 0) |
           (ias >= 57 ? CAP_SAGAW_57 : 0);
}

static void check_hw_info(const HwInfoCase *c,
                          const struct iommu_hw_info_vtd *vtd)
{
    uint64_t cap = vtd->cap_reg, ecap = vtd->ecap_reg;

    g_assert_cmpuint(vtd->flags, ==,
                     c->errata ? IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 : 0);
    g_assert_cmpuint(vtd->__reserved, ==, 0);
    g_assert_cmpuint(CAP_MGAW(cap), ==, c->ias);
    g_assert_cmphex(CAP_SAGAW(cap), ==, expected_sagaw(c->ias));
    g_assert_cmpint(!!(cap & CAP_FS5LP), ==, c->five_level);
    g_assert_cmpint(!!(cap & CAP_FS1GP), ==, c->fs1gp);
    g_assert_cmphex(ecap & (ECAP_SMTS | ECAP_FSTS | ECAP_SSTS), ==,
                    ECAP_SMTS | ECAP_FSTS | ECAP_SSTS);
    g_assert_cmpint(!!(ecap & ECAP_NEST), ==, c->nesting);
    g_assert_cmpint(!!(ecap & ECAP_SSADS), ==, c->dirty);
    g_assert_cmpint(!!(ecap & ECAP_PASID), ==, c->pasid_bits != 0);
    g_assert_cmpuint(ECAP_PSS(ecap), ==, c->pasid_bits ? c->pasid_bits - 1
                                                       : 0);
    g_assert_cmphex(ecap & (ECAP_PRS | ECAP_EAFS | ECAP_SRS), ==,
                    ECAP_PRS | ECAP_EAFS);
}

static void test_hw_info(gconstpointer data)
{
    const HwInfoCase *c = data;
    struct iommu_hw_info_vtd vtd;
    struct iommu_hw_info cmd;
    EmuHwConfig cfg;
    EmuFixture f;

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.nesting = c->nesting;
    cfg.dirty_tracking = c->dirty;
    cfg.vtd.five_level = c->five_level;
    cfg.vtd.fs1gp = c->fs1gp;
    cfg.vtd.errata_spr17 = c->errata;
    cfg.pasid_bits = c->pasid_bits;
    cfg.ias = c->ias;
    emu_fixture_setup_cfg(&f, &cfg);
    memset(&vtd, 0xa5, sizeof(vtd));
    g_assert_cmpint(t_hw_info(&f, &vtd, sizeof(vtd), &cmd), ==, 0);
    g_assert_cmpuint(cmd.out_data_type, ==, IOMMU_HW_INFO_TYPE_INTEL_VTD);
    g_assert_cmpuint(cmd.data_len, ==, sizeof(vtd));
    g_assert_cmpuint(cmd.out_max_pasid_log2, ==, c->pasid_bits);
    /* no ECAP.DT: no device is ATS capable (intel_iommu_probe_device()) */
    g_assert_true(cmd.out_capabilities & IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
    check_hw_info(c, &vtd);
    emu_fixture_teardown(&f);
}

/* A short buffer gets the head of the struct, a long one a zeroed tail. */
static void test_hw_info_len(EmuFixture *f, gconstpointer data)
{
    struct iommu_hw_info_vtd ref;
    struct iommu_hw_info cmd;
    uint8_t buf[40];

    g_assert_cmpint(t_hw_info(f, &ref, sizeof(ref), &cmd), ==, 0);
    memset(buf, 0xff, sizeof(buf));
    g_assert_cmpint(t_hw_info(f, buf, 12, &cmd), ==, 0);
    g_assert_cmpuint(cmd.data_len, ==, sizeof(ref));
    g_assert_cmpmem(buf, 12, &ref, 12);
    g_assert_cmphex(buf[12] & buf[39], ==, 0xff);
    memset(buf, 0xff, sizeof(buf));
    g_assert_cmpint(t_hw_info(f, buf, sizeof(buf), &cmd), ==, 0);
    g_assert_cmpuint(cmd.data_len, ==, sizeof(ref));
    g_assert_cmpmem(buf, sizeof(ref), &ref, sizeof(ref));
    g_assert_cmphex(buf[sizeof(ref)] | buf[39], ==, 0);
    g_assert_cmpint(t_hw_info(f, NULL, 0, &cmd), ==, 0);
    g_assert_cmpuint(cmd.data_len, ==, sizeof(ref));
    /* Asking for this type explicitly works; another type does not. */
    cmd.data_len = 0;
    cmd.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    cmd.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd), ==, 0);
    cmd.in_data_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd), ==, EOPNOTSUPP);
}

/* ---- nested HWPT allocation and attach ---- */

static void setup_vtd(EmuFixture *f, gconstpointer data)
{
    emu_fixture_setup(f, EMU_HW_VTD);
}

static void teardown(EmuFixture *f, gconstpointer data)
{
    emu_fixture_teardown(f);
}

static void test_nest_parent_refused(void)
{
    EmuHwConfig cfg;
    EmuFixture f;
    uint32_t id;

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.nesting = false;
    emu_fixture_setup_cfg(&f, &cfg);
    g_assert_cmpint(t_hwpt_alloc(&f, f.ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 0, NULL, 0, &id), ==, EOPNOTSUPP);
    g_assert_cmpint(t_hwpt_alloc(&f, f.ioas_id, 0, 0, NULL, 0, &id), ==, 0);
    emu_fixture_teardown(&f);
}

static uint32_t alloc_parent(EmuFixture *f, uint32_t flags)
{
    uint32_t id;

    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id,
                                 IOMMU_HWPT_ALLOC_NEST_PARENT | flags, 0,
                                 NULL, 0, &id), ==, 0);
    return id;
}

static void test_nested_alloc_errors(EmuFixture *f, gconstpointer data)
{
    uint32_t parent = alloc_parent(f, 0), plain, id;
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 4);
    uint8_t longer[sizeof(s1) + 8] = { 0 };

    /*
     * Unknown flags and __reserved are not checked
     * (intel_iommu_domain_alloc_nested()).
     */
    s1.flags = 1u << 3;
    s1.__reserved = 1;
    g_assert_cmpint(t_nested_alloc(f, parent, 0, &s1, &id), ==, 0);
    g_assert_cmpint(t_destroy(f, id), ==, 0);
    s1.flags = IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE;
    s1.__reserved = 0;
    g_assert_cmpint(t_hwpt_alloc(f, parent, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                                 &s1, sizeof(s1), &id), ==, EOPNOTSUPP);
    g_assert_cmpint(t_hwpt_alloc(f, parent, 0, IOMMU_HWPT_DATA_VTD_S1, &s1,
                                 sizeof(s1) - 8, &id), ==, EINVAL);
    g_assert_cmpint(t_hwpt_alloc(f, parent, 0, IOMMU_HWPT_DATA_VTD_S1,
                                 (void *)8, sizeof(s1), &id), ==, EFAULT);
    /*
     * Longer than the struct is EINVAL even with a zero tail:
     * __iommu_copy_struct_from_user() (intel_iommu_domain_alloc_nested()
     * copies with min_last __reserved) takes no more than sizeof.
     */
    memcpy(longer, &s1, sizeof(s1));
    g_assert_cmpint(t_hwpt_alloc(f, parent, 0, IOMMU_HWPT_DATA_VTD_S1,
                                 longer, sizeof(longer), &id), ==, EINVAL);
    longer[sizeof(s1) + 3] = 1;
    g_assert_cmpint(t_hwpt_alloc(f, parent, 0, IOMMU_HWPT_DATA_VTD_S1,
                                 longer, sizeof(longer), &id), ==, EINVAL);
    /* A parent must be a NEST_PARENT paging HWPT; a nested one is not. */
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &plain),
                    ==, 0);
    g_assert_cmpint(t_nested_alloc(f, plain, 0, &s1, &id), ==, EINVAL);
    g_assert_cmpint(t_hwpt_alloc(f, parent, 0, IOMMU_HWPT_DATA_VTD_S1,
                                 &s1, sizeof(s1), &plain), ==, 0);
    g_assert_cmpint(t_nested_alloc(f, plain, 0, &s1, &id), ==, EINVAL);
    g_assert_cmpint(t_nested_alloc(f, parent, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                   &s1, &id), ==, EOPNOTSUPP);
    /* Nested HWPTs hold their parent. */
    g_assert_cmpint(t_destroy(f, parent), ==, EBUSY);
}

static int t_detach_pasid(EmuFixture *f, uint32_t pasid)
{
    struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

    if (pasid != EMU_NO_PASID) {
        d.flags = VFIO_DEVICE_DETACH_PASID;
        d.pasid = pasid;
    }
    return emu_err(emu_vfio_ioctl(f->vfio, VFIO_DEVICE_DETACH_IOMMUFD_PT,
                                  &d));
}

/* Allocate a nested HWPT from @s1, try to attach it, undo: the errno. */
static int attach_with(EmuFixture *f, uint32_t parent, uint32_t pasid,
                       const struct iommu_hwpt_vtd_s1 *s1)
{
    uint32_t flags = pasid == EMU_NO_PASID ? 0 : IOMMU_HWPT_ALLOC_PASID;
    uint32_t id, pt;
    int rc;

    g_assert_cmpint(t_nested_alloc(f, parent, flags, s1, &id), ==, 0);
    pt = id;
    rc = t_attach_pasid(f, pasid, &pt);
    if (!rc) {
        g_assert_cmpint(t_detach_pasid(f, pasid), ==, 0);
    }
    g_assert_cmpint(t_destroy(f, id), ==, 0);
    return rc;
}

static void test_attach_errors(EmuFixture *f, gconstpointer data)
{
    uint32_t parent = alloc_parent(f, IOMMU_HWPT_ALLOC_PASID);
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 4);

    g_assert_cmpint(attach_with(f, parent, EMU_NO_PASID, &s1), ==, 0);
    s1.addr_width = 39;
    g_assert_cmpint(attach_with(f, parent, EMU_NO_PASID, &s1), ==, EINVAL);
    s1.addr_width = 57;         /* no FS5LP on this hardware */
    g_assert_cmpint(attach_with(f, parent, EMU_NO_PASID, &s1), ==, EINVAL);
    s1 = s1_data(0, VTD_S1_GPA_BASE + 0x800, 4);
    g_assert_cmpint(attach_with(f, parent, EMU_NO_PASID, &s1), ==, EINVAL);
    s1 = s1_data(0, 1ULL << 48, 4);
    g_assert_cmpint(attach_with(f, parent, TEST_PASID, &s1), ==, EINVAL);
    /* No supervisor requests (ECAP.SRS clear); EAFE and WPE are fine. */
    s1 = s1_data(IOMMU_VTD_S1_SRE, VTD_S1_GPA_BASE, 4);
    g_assert_cmpint(attach_with(f, parent, EMU_NO_PASID, &s1), ==, EINVAL);
    s1 = s1_data(IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE, VTD_S1_GPA_BASE, 4);
    g_assert_cmpint(attach_with(f, parent, TEST_PASID, &s1), ==, 0);
}

static void test_attach_5level(void)
{
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 5);
    EmuHwConfig cfg;
    EmuFixture f;

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.vtd.five_level = true;
    emu_fixture_setup_cfg(&f, &cfg);
    g_assert_cmpint(attach_with(&f, alloc_parent(&f, 0), EMU_NO_PASID, &s1),
                    ==, 0);
    emu_fixture_teardown(&f);
}

/*
 * A nested attach over a dirty-tracking parent works on a PASID as on
 * the RID: intel_nested_set_dev_pasid() checks the parent with
 * paging_domain_compatible() (dirty tracking needs SSADS, as for the
 * RID) and intel_pasid_setup_nested() checks no dirty tracking at all.
 */
static void test_attach_pasid_dirty_parent(EmuFixture *f, gconstpointer data)
{
    uint32_t parent = alloc_parent(f, IOMMU_HWPT_ALLOC_PASID |
                                   IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 4);

    g_assert_cmpint(attach_with(f, parent, TEST_PASID, &s1), ==, 0);
    g_assert_cmpint(attach_with(f, parent, EMU_NO_PASID, &s1), ==, 0);
}

/* Without FS1GP, PS in a PDPE is a reserved bit. */
static void test_no_fs1gp(void)
{
    EmuHwConfig cfg;
    VtdFixture vf;

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.vtd.fs1gp = false;
    memset(&vf, 0, sizeof(vf));
    vtd_setup_cfg(&vf, &cfg, 4, EMU_NO_PASID);
    vtd_s1_map(&vf.s1, IOVA_1G, VTD_S1_GPA_BASE, VTD_S1_SIZE_1G, FS_LEAF_RW);
    assert_fault(&vf, IOVA_1G, EMU_DMA_READ, -EFAULT, FR_FS_RESERVED);
    vtd_teardown(&vf, NULL);
}

/* ---- IOMMU_HWPT_INVALIDATE errors ---- */

static void test_invalidate_errors(EmuFixture *f, gconstpointer data)
{
    uint32_t parent = alloc_parent(f, 0), nested, n;
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 4);
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = 1 };
    const uint32_t type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
    const uint32_t smmu = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
    const uint32_t len = sizeof(inv);

    g_assert_cmpint(t_nested_alloc(f, parent, 0, &s1, &nested), ==, 0);
    n = 0;      /* probe */
    g_assert_cmpint(t_invalidate(f, nested, type, NULL, len, &n), ==, 0);
    n = 0;
    g_assert_cmpint(t_invalidate(f, nested, smmu, NULL, len, &n), ==, EINVAL);
    n = 1;
    g_assert_cmpint(t_invalidate(f, parent, type, &inv, len, &n), ==, EINVAL);
    g_assert_cmpuint(n, ==, 0);
    n = 1;
    g_assert_cmpint(t_invalidate(f, nested, smmu, &inv, len, &n), ==, EINVAL);
    g_assert_cmpuint(n, ==, 0);
    n = 1;
    g_assert_cmpint(t_invalidate(f, nested, type, &inv, len - 8, &n), ==,
                    EINVAL);
    g_assert_cmpuint(n, ==, 0);
}

typedef struct InvCase {
    struct iommu_hwpt_vtd_s1_invalidate inv;
    int err;
} InvCase;

static const InvCase inv_cases[] = {
    { { .addr = 0, .npages = 1, .flags = 1u << 1 }, EOPNOTSUPP },
    { { .addr = 0, .npages = 1, .__reserved = 1 }, EOPNOTSUPP },
    { { .addr = 0x800, .npages = 1 }, EINVAL },
    { { .addr = PAGE, .npages = UINT64_MAX }, EINVAL },
    { { .addr = 0, .npages = UINT64_MAX }, 0 },
    { { .addr = PAGE, .npages = 0 }, 0 },
    { { .addr = ~0xfffULL, .npages = 2 }, 0 },
    { { .addr = 0x10000, .npages = UINT64_MAX - 1,
        .flags = IOMMU_VTD_INV_FLAGS_LEAF }, 0 },
};

/* Each entry alone, then all good ones in one array. */
static void test_invalidate_entries(EmuFixture *f, gconstpointer data)
{
    uint32_t parent = alloc_parent(f, 0), nested, n, i, good = 0;
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 4);
    struct iommu_hwpt_vtd_s1_invalidate all[G_N_ELEMENTS(inv_cases)];
    const uint32_t type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
    uint8_t longer[sizeof(all[0]) + 8] = { 0 };

    g_assert_cmpint(t_nested_alloc(f, parent, 0, &s1, &nested), ==, 0);
    for (i = 0; i < G_N_ELEMENTS(inv_cases); i++) {
        n = 1;
        g_assert_cmpint(t_invalidate(f, nested, type, &inv_cases[i].inv,
                                     sizeof(all[0]), &n), ==,
                        inv_cases[i].err);
        g_assert_cmpuint(n, ==, inv_cases[i].err ? 0 : 1);
        if (!inv_cases[i].err) {
            all[good++] = inv_cases[i].inv;
        }
    }
    n = good;
    g_assert_cmpint(t_invalidate(f, nested, type, all, sizeof(all[0]), &n),
                    ==, 0);
    g_assert_cmpuint(n, ==, good);
    /*
     * entry_len must be the struct size, even with a zero tail or for a
     * shorter entry: iommu_copy_struct_from_user_array() with min_last
     * __reserved (intel_nested_cache_invalidate_user()) is EINVAL.
     */
    n = 1;
    g_assert_cmpint(t_invalidate(f, nested, type, longer, sizeof(longer),
                                 &n), ==, EINVAL);
    g_assert_cmpuint(n, ==, 0);
    n = 1;
    g_assert_cmpint(t_invalidate(f, nested, type, longer,
                                 sizeof(all[0]) - 8, &n), ==, EINVAL);
    g_assert_cmpuint(n, ==, 0);
}

/* ---- failure injection ---- */

static int nth_sequence(EmuFixture *f)
{
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 4);
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = UINT64_MAX };
    uint32_t parent, nested, pt, n = 1;
    int rc;

    rc = t_map_fixed(f, f->ioas_id, f->buf, BUF_SIZE, VTD_S1_GPA_BASE);
    if (!rc) {
        rc = t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                          NULL, 0, &parent);
    }
    if (!rc) {
        rc = t_nested_alloc(f, parent, 0, &s1, &nested);
    }
    if (!rc) {
        pt = nested;
        rc = t_attach(f, &pt);
    }
    if (!rc) {
        rc = t_invalidate(f, nested, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                          &inv, sizeof(inv), &n);
    }
    return rc;
}

/*
 * Every host operation on the way to a nested attach fails once: each
 * failure is clean and nothing leaks.
 */
static void test_fail_nth(void)
{
    unsigned long nth;
    EmuFixture f;
    int rc;

    for (nth = 1; ; nth++) {
        emu_fixture_setup(&f, EMU_HW_VTD);
        emu_host_fail_nth(f.host, nth, ENOMEM);
        rc = nth_sequence(&f);
        emu_host_fail_nth(f.host, 0, 0);
        if (rc) {
            emu_sweep_note(f.host);
        }
        emu_fixture_teardown(&f);
        if (!rc) {
            break;
        }
        g_assert_cmpint(rc, ==, ENOMEM);
    }
    g_test_message("%lu injection points", nth - 1);
    g_assert_cmpuint(nth - 1, >=, 13);
}

/*
 * The same steps one at a time, each injection point failed in turn:
 * every failure must leave the state as it was (emu_ctx_describe()).
 */
typedef struct VtdSweep {
    unsigned step;
    uint32_t parent, nested;
} VtdSweep;

static int vtd_sweep_step(EmuFixture *f, void *opaque)
{
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, VTD_S1_GPA_BASE, 4);
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = UINT64_MAX };
    VtdSweep *s = opaque;
    uint32_t pt, n = 1;

    switch (s->step) {
    case 0:
        return t_map_fixed(f, f->ioas_id, f->buf, BUF_SIZE, VTD_S1_GPA_BASE);
    case 1:
        return t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                            NULL, 0, &s->parent);
    case 2:
        return t_nested_alloc(f, s->parent, 0, &s1, &s->nested);
    case 3:
        pt = s->nested;
        return t_attach(f, &pt);
    case 4:
        return t_invalidate(f, s->nested, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                            &inv, sizeof(inv), &n);
    }
    g_assert_not_reached();
}

static void test_fail_nth_steps(void)
{
    /*
     * map; parent: object 2, domain, aperture, IOAS slot, area; nested:
     * object 2, domain; attach: MSI window, handle; invalidate: the
     * entry issued
     */
    static const unsigned min_points[] = { 1, 6, 3, 2, 1 };
    VtdSweep s = { 0 };
    unsigned total = 0;
    EmuFixture f;

    emu_fixture_setup(&f, EMU_HW_VTD);
    for (s.step = 0; s.step < G_N_ELEMENTS(min_points); s.step++) {
        unsigned n = emu_sweep_step(&f, vtd_sweep_step, &s);

        g_assert_cmpuint(n, >=, min_points[s.step]);
        total += n;
    }
    g_test_message("%u injection points", total);
    g_assert_cmpuint(total, >=, 13);
    emu_fixture_teardown(&f);
}

/* ---- isolation ---- */

/*
 * Two nested domains (two DIDs) on one parent, on two PASIDs of the
 * device, the same IOVA in different tables: each PASID sees its own
 * translation, and an invalidation of one domain leaves the other's
 * cached (stale) entry alone.
 */
static void test_two_domains(VtdFixture *vf, gconstpointer data)
{
    uint64_t root1 = vf->s1.root, root2 = vtd_s1_new_table(&vf->s1);
    uint32_t pasid2 = vf->pasid + 1, dom2, pt;
    struct iommu_hwpt_vtd_s1 s1 = s1_data(0, root2, vf->s1.levels);
    struct iommu_hwpt_vtd_s1_invalidate inv = { .addr = IOVA_4K, .npages = 1 };
    uint64_t *leaf1, *leaf2;
    uint32_t n = 1;
    char v[4];

    leaf1 = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
                       FS_LEAF_RW | FS_A | FS_D);
    vf->s1.root = root2;
    leaf2 = vtd_s1_map(&vf->s1, IOVA_4K, VTD_S1_DATA_GPA(1), VTD_S1_SIZE_4K,
                       FS_LEAF_RW | FS_A | FS_D);
    vf->s1.root = root1;
    g_assert_cmpint(t_nested_alloc(&vf->f, vf->parent_id,
                                   IOMMU_HWPT_ALLOC_PASID, &s1, &dom2), ==, 0);
    pt = dom2;
    g_assert_cmpint(t_attach_pasid(&vf->f, pasid2, &pt), ==, 0);
    dma_write_ok(vf, IOVA_4K, "one1");
    memcpy(v, "two1", 4);
    g_assert_cmpint(emu_device_dma(vf->f.dev, pasid2, IOVA_4K, v, 4,
                                   EMU_DMA_WRITE, NULL), ==, 0);
    assert_bytes(data_hva(vf, 0), "one1");
    assert_bytes(data_hva(vf, 1), "two1");
    *leaf1 = (*leaf1 & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(2);
    *leaf2 = (*leaf2 & ~FS_ADDR_MASK) | VTD_S1_DATA_GPA(3);
    inv_range(vf, IOVA_4K, 1);                  /* domain 1 only */
    dma_write_ok(vf, IOVA_4K, "one2");
    memcpy(v, "two2", 4);
    g_assert_cmpint(emu_device_dma(vf->f.dev, pasid2, IOVA_4K, v, 4,
                                   EMU_DMA_WRITE, NULL), ==, 0);
    assert_bytes(data_hva(vf, 2), "one2");
    assert_bytes(data_hva(vf, 1), "two2");     /* still stale */
    g_assert_cmpint(t_invalidate(&vf->f, dom2,
                                 IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, &inv,
                                 sizeof(inv), &n), ==, 0);
    memcpy(v, "two3", 4);
    g_assert_cmpint(emu_device_dma(vf->f.dev, pasid2, IOVA_4K, v, 4,
                                   EMU_DMA_WRITE, NULL), ==, 0);
    assert_bytes(data_hva(vf, 3), "two3");
    g_assert_cmpint(t_detach_pasid(&vf->f, pasid2), ==, 0);
    g_assert_cmpint(t_destroy(&vf->f, dom2), ==, 0);
}

/* Dirty bits of the parent over guest RAM, as GET_DIRTY_BITMAP reads. */
static uint64_t parent_dirty(VtdFixture *vf)
{
    uint64_t bitmap = 0;
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get), .hwpt_id = vf->parent_id,
        .iova = VTD_S1_GPA_BASE, .length = BUF_SIZE, .page_size = PAGE,
        .data = (uintptr_t)&bitmap,
    };

    G_STATIC_ASSERT(BUF_SIZE / PAGE == 64);
    g_assert_cmpint(ctx_ioctl(&vf->f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get),
                    ==, 0);
    return bitmap;
}

static uint64_t gpa_bit(VtdFixture *vf, uint64_t gpa)
{
    return 1ULL << ((gpa - VTD_S1_GPA_BASE) / PAGE);
}

/*
 * The first-stage walk writes A (and D) into the guest's tables through
 * the parent: those writes are DMA writes to the stage 2, which a
 * dirty-tracking parent records, as the hardware's second-stage D bit
 * would. A read marks only table pages; a write marks the data page too.
 */
static void test_ad_dirties_parent(void)
{
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
    };
    VtdFixture vf = { 0 };
    EmuHwConfig cfg;
    uint64_t tables, dirty;
    unsigned level;
    char buf[4];

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    vtd_setup_flags(&vf, &cfg, 4, EMU_NO_PASID,
                    IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
    vtd_s1_map(&vf.s1, IOVA_4K, VTD_S1_DATA_GPA(0), VTD_S1_SIZE_4K,
               FS_LEAF_RW);
    set.hwpt_id = vf.parent_id;
    g_assert_cmpint(ctx_ioctl(&vf.f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set),
                    ==, 0);
    parent_dirty(&vf);          /* reading clears */
    g_assert_cmphex(parent_dirty(&vf), ==, 0);
    g_assert_cmpint(vdma(&vf, IOVA_4K, buf, 4, EMU_DMA_READ, NULL), ==, 0);
    tables = 0;
    for (level = 4; level >= 1; level--) {
        uint64_t *e = vtd_s1_entry(&vf.s1, IOVA_4K, level);

        tables |= gpa_bit(&vf, VTD_S1_GPA_BASE +
                          ((uint8_t *)e - vf.f.buf));
    }
    dirty = parent_dirty(&vf);
    g_assert_cmphex(dirty, ==, tables);
    dma_write_ok(&vf, IOVA_4K, "dirt");
    dirty = parent_dirty(&vf);
    /* D in the leaf's table page, and the data page itself */
    g_assert_cmphex(dirty, ==,
                    gpa_bit(&vf, VTD_S1_GPA_BASE +
                            ((uint8_t *)vtd_s1_entry(&vf.s1, IOVA_4K, 1) -
                             vf.f.buf)) |
                    gpa_bit(&vf, VTD_S1_DATA_GPA(0)));
    emu_fixture_teardown(&vf.f);
}

/* ---- threads ---- */

typedef struct DmaThread {
    VtdFixture *vf;
    unsigned rounds;
    unsigned faults;
} DmaThread;

static gpointer dma_thread(gpointer opaque)
{
    DmaThread *d = opaque;
    uint8_t v[8];
    unsigned i;

    for (i = 0; i < d->rounds; i++) {
        memset(v, i, sizeof(v));
        if (vdma(d->vf, IOVA_4K + (i % 4) * PAGE, v, sizeof(v),
                 (i & 1) ? EMU_DMA_WRITE : EMU_DMA_READ, NULL)) {
            d->faults++;
        }
    }
    return NULL;
}

/*
 * DMA from another thread (QEMU's iothreads) while this one invalidates,
 * replaces the domain and reads statistics: the model's entry points
 * serialise on the host lock. Built with ThreadSanitizer by
 * scripts/unit-san.sh, a missing lock is a reported race; here it would
 * be a corrupted cache. DMA may fault while the domain is replaced (the
 * PASID is briefly on another domain), never crash or leak.
 */
static void test_dma_threads(void)
{
    struct iommu_hwpt_vtd_s1 s1;
    VtdFixture vf = { 0 };
    DmaThread d = { .vf = &vf, .rounds = 20000 };
    EmuHwConfig cfg;
    GThread *th;
    uint32_t other, pt;
    EmuStats st;
    unsigned i;

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.iotlb_entries = 8;
    vtd_setup_cfg(&vf, &cfg, 4, EMU_NO_PASID);
    for (i = 0; i < 4; i++) {
        vtd_s1_map(&vf.s1, IOVA_4K + i * PAGE, VTD_S1_DATA_GPA(i),
                   VTD_S1_SIZE_4K, FS_LEAF_RW);
    }
    s1 = s1_data(0, vf.s1.root, 4);
    g_assert_cmpint(t_nested_alloc(&vf.f, vf.parent_id, 0, &s1, &other),
                    ==, 0);
    th = g_thread_new("dma", dma_thread, &d);
    for (i = 0; i < 2000; i++) {
        inv_range(&vf, IOVA_4K, 4);
        if (!(i % 100)) {
            pt = (i / 100) & 1 ? vf.nested_id : other;
            g_assert_cmpint(t_attach(&vf.f, &pt), ==, 0);
        }
        emu_host_stats(vf.f.host, &st);
    }
    g_thread_join(th);
    pt = vf.nested_id;
    g_assert_cmpint(t_attach(&vf.f, &pt), ==, 0);
    g_assert_cmpint(t_destroy(&vf.f, other), ==, 0);
    g_assert_cmpuint(d.faults, ==, 0);
    emu_fixture_teardown(&vf.f);
}

/* ---- registration ---- */

typedef void (*VtdTestFn)(VtdFixture *vf, gconstpointer data);

typedef struct VtdTest {
    const char *name;
    VtdTestFn fn;
    bool pasid_only;
} VtdTest;

static const VtdTest vtd_tests[] = {
    { "map-4k", test_map_4k },
    { "map-2m", test_map_2m },
    { "map-1g", test_map_1g },
    { "high-iova", test_high_iova },
    { "fault/not-present", test_not_present },
    { "fault/write-readonly", test_write_readonly },
    { "fault/supervisor-page", test_supervisor_page },
    { "fault/non-canonical", test_non_canonical },
    { "fault/reserved-bits", test_reserved_bits },
    { "fault/table-not-mapped", test_table_not_mapped },
    { "fault/ad-update-fails", test_ad_update_fails },
    { "fault/queue", test_fault_queue },
    { "accessed-dirty", test_accessed_dirty },
    { "extended-accessed", test_extended_accessed },
    { "iotlb/stale", test_stale_iotlb },
    { "iotlb/large-leaf", test_large_leaf_inv },
    { "iotlb/npages-zero", test_inv_npages_zero },
    { "iotlb/psi-block", test_inv_psi_block },
    { "iotlb/psc-leaf-hint", test_psc_leaf_hint },
    { "iotlb/replace-flushes", test_replace_flushes },
    { "iotlb/top-of-space", test_top_of_space },
    { "iotlb/partial-failure", test_inv_partial },
    { "pasid/rid-on-parent", test_pasid_rid_on_parent, true },
    { "isolation/two-domains", test_two_domains, true },
    { "pasid/shared-domain", test_pasid_shared_domain, true },
};

/*
 * The IOTLB is a bounded cache: a guest touching many pages replaces
 * entries (least recently used) instead of growing host memory; a large
 * leaf is one entry however many of its pages are used; an invalidation
 * costs what it covers, not the size of the cache.
 */
static void test_iotlb_bounded(void)
{
    VtdFixture vf = { 0 };
    EmuHwConfig cfg;
    EmuStats st0, st;
    unsigned i;
    char tag[8];

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.iotlb_entries = 16;
    vtd_setup_cfg(&vf, &cfg, 4, EMU_NO_PASID);
    for (i = 0; i < 64; i++) {
        vtd_s1_map(&vf.s1, IOVA_4K + i * PAGE, VTD_S1_DATA_GPA(i % 8),
                   VTD_S1_SIZE_4K, FS_LEAF_RW | FS_A | FS_D);
    }
    for (i = 0; i < 64; i++) {
        g_snprintf(tag, sizeof(tag), "p%02u", i);
        dma_write_ok(&vf, IOVA_4K + i * PAGE + 16 * (i / 8), tag);
        assert_bytes(data_hva(&vf, i % 8) + 16 * (i / 8), tag);
    }
    emu_host_stats(vf.f.host, &st);
    g_assert_cmpuint(st.iotlb_entries, <=, 16);
    g_assert_cmpuint(st.iotlb_evictions, >=, 64 - 16);
    /* one 2 MiB leaf, each of its data pages: one walk, then hits */
    vtd_s1_map(&vf.s1, IOVA_2M, VTD_S1_GPA_BASE, VTD_S1_SIZE_2M,
               FS_LEAF_RW | FS_A | FS_D);
    emu_host_stats(vf.f.host, &st0);
    for (i = 0; i < VTD_S1_DATA_PAGES; i++) {
        dma_write_ok(&vf, IOVA_2M + DATA_OFF(i), "big");
    }
    emu_host_stats(vf.f.host, &st);
    g_assert_cmpuint(st.iotlb_misses - st0.iotlb_misses, ==, 1);
    g_assert_cmpuint(st.iotlb_hits - st0.iotlb_hits, ==,
                     VTD_S1_DATA_PAGES - 1);
    /* a one-page flush probes one block per size and kind present (5
     * here), it does not scan the 16 entries */
    inv_range(&vf, IOVA_4K, 1);
    emu_host_stats(vf.f.host, &st0);
    g_assert_cmpuint(st0.iotlb_flush_work - st.iotlb_flush_work, <=, 5);
    emu_fixture_teardown(&vf.f);
}

static void add_variant_tests(void)
{
    size_t i, j;

    for (i = 0; i < G_N_ELEMENTS(variants); i++) {
        const VtdVariant *v = &variants[i];

        for (j = 0; j < G_N_ELEMENTS(vtd_tests); j++) {
            const VtdTest *t = &vtd_tests[j];
            g_autofree char *path = NULL;

            if (t->pasid_only && v->pasid == EMU_NO_PASID) {
                continue;
            }
            path = g_strdup_printf("/emu/vtd/%s/%s", v->name, t->name);
            g_test_add(path, VtdFixture, v, vtd_setup, t->fn, vtd_teardown);
        }
    }
}

static void add_hw_info_tests(void)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(hw_info_cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/emu/vtd/hw-info/%s", hw_info_cases[i].name);

        g_test_add_data_func(path, &hw_info_cases[i], test_hw_info);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_hw_info_tests();
#define T(path, fn) \
    g_test_add("/emu/vtd/" path, EmuFixture, NULL, setup_vtd, fn, teardown)
    T("hw-info/data-len", test_hw_info_len);
    T("hwpt/nested-alloc-errors", test_nested_alloc_errors);
    T("hwpt/attach-errors", test_attach_errors);
    T("hwpt/attach-pasid-dirty-parent", test_attach_pasid_dirty_parent);
    T("invalidate/errors", test_invalidate_errors);
    T("invalidate/entries", test_invalidate_entries);
#undef T
    g_test_add_func("/emu/vtd/hwpt/nest-parent-refused",
                    test_nest_parent_refused);
    g_test_add_func("/emu/vtd/hwpt/attach-5level", test_attach_5level);
    g_test_add_func("/emu/vtd/iotlb/bounded", test_iotlb_bounded);
    g_test_add_func("/emu/vtd/threads/dma-vs-invalidate", test_dma_threads);
    g_test_add_func("/emu/vtd/dirty/ad-dirties-parent",
                    test_ad_dirties_parent);
    g_test_add_func("/emu/vtd/fault/no-fs1gp", test_no_fs1gp);
    g_test_add_func("/emu/vtd/fail-nth", test_fail_nth);
    g_test_add_func("/emu/vtd/fail-nth/steps", test_fail_nth_steps);
    add_variant_tests();
    add_pri_tests();
    return g_test_run();
}
