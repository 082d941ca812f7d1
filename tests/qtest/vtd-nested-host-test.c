/*
 * VNest qtest: intel-iommu as a nesting host (x-nested=on)
 *
 * A q35 guest with intel-iommu,x-scalable-mode=on,x-nested=on and an edu
 * device behind it. The test is the guest's IOMMU driver doing what
 * Linux's does for a nested domain (intel_pasid_setup_nested()): a
 * second-stage table maps "guest-physical" addresses GPA = phys + GOFF to
 * RAM, the first-stage tables live at such GPAs and map IOVAs to such
 * GPAs, and a PASID entry with PGTT=nested names both. Since nothing is
 * at phys + GOFF, a first-stage table or output address that skipped the
 * second stage could only fault.
 *
 * It checks that DMA lands where the first stage then the second stage
 * say, the fault record (reason, requester, address, read/write) of
 * first-stage faults and of second-stage faults on a first-stage table
 * access and on the final address, reserved PASID-entry and table values
 * refused, and IOTLB entries stale until the invalidation that covers
 * them (PASID-based for a first-stage change, IOTLB by domain for a
 * second-stage one) and fresh after, for the RID_PASID 0 and 5.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "hw/i386/intel_iommu_internal.h"
#include "hw/i386/intel_iommu.h"
#include "vtd-guest.h"
#include "edu-dma.h"

#define EDU_DEVFN       PCI_DEVFN(4, 0)
#define EDU_SID         EDU_DEVFN               /* bus 0 */
#define DID             3
#define DID_OTHER       9
#define LEN             256
#define PAGE            4096ULL
#define GOFF            (1ULL << 40)            /* GPA = phys + GOFF */

#define IOVA_SRC        0x100000ULL
#define IOVA_DST        0x200000ULL
#define IOVA_RO         0x300000ULL
#define IOVA_FAR        0x400000ULL
#define IOVA_NOGPA      0x500000ULL
#define IOVA_UNMAPPED   0x700000ULL

/* First-stage entries (VT-d spec 9.7) */
#define FS_P            (1ULL << 0)
#define FS_RW           (1ULL << 1)
#define FS_US           (1ULL << 2)
#define FS_A            (1ULL << 5)
#define FS_D            (1ULL << 6)
#define FS_PS           (1ULL << 7)
#define ADDR_MASK       0x000ffffffffff000ULL

/* PASID entry (VT-d spec 9.6) */
#define PE_P            1ULL
#define PE_FPD          (1ULL << 1)
#define PE_AW(aw)       ((uint64_t)(aw) << 2)
#define PE_PGTT_NESTED  (3ULL << 6)
#define PE_FSPM(m)      ((uint64_t)(m) << 2)

/* Fault reasons (VT-d spec 7.1.3) */
#define FR_PE_RESERVED  0x5a
#define FR_PE_INVALID   0x5b
#define FR_FS_NOT_PRES  0x71
#define FR_FS_RESERVED  0x72
#define FR_FS_GPA_WIDTH 0x74
#define FR_FS_ROOT_READ 0x75
#define FR_FS_READ      0x76
#define FR_FS_AD_WRITE  0x77
#define FR_SS_NOT_PRES  0x79
#define FR_SS_RESERVED  0x7a
#define FR_WRITE        0x85
#define FR_READ         0x86

typedef struct Fixture {
    QOSState *qs;
    QTestState *qts;
    VtdGuest *vtd;
    EduDev edu;
    uint32_t pasid;             /* the context's RID_PASID */
    VtdDomain *s2;
    uint64_t s1_root;           /* phys */
    uint64_t src, dst, ro, dst2, dst3;     /* phys data pages */
} Fixture;

static uint64_t gpa_of(uint64_t phys)
{
    return phys + GOFF;
}

/* A zeroed page the second stage maps at gpa_of() with @prot. */
static uint64_t nest_page(Fixture *f, int prot, uint8_t fill)
{
    uint64_t phys = qmalloc(f->qs, PAGE);

    g_assert_cmphex(phys & (PAGE - 1), ==, 0);
    qtest_memset(f->qts, phys, fill, PAGE);
    vtd_domain_map(f->s2, gpa_of(phys), phys, PAGE, prot);
    return phys;
}

/* Phys of the table at @level (4: the root) on @iova's walk. */
static uint64_t s1_table(Fixture *f, uint64_t iova, int level)
{
    uint64_t table = f->s1_root;
    int l;

    for (l = 4; l > level; l--) {
        uint64_t slot = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8;
        uint64_t e = qtest_readq(f->qts, slot);

        if (!e) {
            e = gpa_of(nest_page(f, VTD_PROT_RW, 0)) | FS_P | FS_RW | FS_US;
            qtest_writeq(f->qts, slot, e);
        }
        table = (e & ADDR_MASK) - GOFF;
    }
    return table;
}

/* Phys of @iova's entry in its table at @level. */
static uint64_t s1_slot(Fixture *f, uint64_t iova, int level)
{
    return s1_table(f, iova, level) +
           ((iova >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
}

static void s1_map(Fixture *f, uint64_t iova, uint64_t gpa, bool writable)
{
    qtest_writeq(f->qts, s1_slot(f, iova, 1),
                 gpa | FS_P | FS_US | (writable ? FS_RW : 0));
}

static void write_nested_pe(Fixture *f, uint64_t pe0_extra, uint64_t pe2_extra)
{
    uint64_t val[8] = {
        vtd_domain_top(f->s2) | PE_PGTT_NESTED | PE_AW(2) | PE_P | pe0_extra,
        DID,
        gpa_of(f->s1_root) | pe2_extra,
    };

    vtd_guest_pasid_entry_raw(f->vtd, EDU_SID, f->pasid, val);
}

static void fixture_init(Fixture *f, uint32_t pasid)
{
    memset(f, 0, sizeof(*f));
    f->qs = qtest_pc_boot("-M q35 -device intel-iommu,x-scalable-mode=on,"
                          "x-nested=on,aw-bits=48 -device edu,addr=%02x.%x",
                          PCI_SLOT(EDU_DEVFN), PCI_FUNC(EDU_DEVFN));
    f->qts = f->qs->qts;
    f->vtd = vtd_guest_new(f->qts, &f->qs->alloc, Q35_HOST_BRIDGE_IOMMU_ADDR);
    edu_open(&f->edu, f->qts, f->qs->pcibus, EDU_DEVFN);
    f->pasid = pasid;
    f->s2 = vtd_guest_domain(f->vtd, VTD_PGTT_SECOND_STAGE);
    f->s1_root = nest_page(f, VTD_PROT_RW, 0);

    f->src = nest_page(f, VTD_PROT_RW, 0);
    f->dst = nest_page(f, VTD_PROT_RW, 0);
    f->ro = nest_page(f, VTD_PROT_RW, 0x5a);
    f->dst2 = nest_page(f, VTD_PROT_RW, 0);
    f->dst3 = qmalloc(f->qs, PAGE);
    qtest_memset(f->qts, f->dst3, 0, PAGE);
    s1_map(f, IOVA_SRC, gpa_of(f->src), false);
    s1_map(f, IOVA_DST, gpa_of(f->dst), true);
    s1_map(f, IOVA_RO, gpa_of(f->ro), false);

    if (pasid) {
        vtd_guest_set_rid_pasid(f->vtd, EDU_SID, pasid);
    }
    write_nested_pe(f, 0, 0);
    vtd_guest_enable(f->vtd);
    vtd_guest_qi_enable(f->vtd);
}

static void fixture_fini(Fixture *f)
{
    edu_close(&f->edu);
    vtd_guest_free(f->vtd);
    qtest_shutdown(f->qs);
}

static void write_pattern(Fixture *f, uint64_t phys, uint8_t seed)
{
    uint8_t buf[LEN];
    int i;

    for (i = 0; i < LEN; i++) {
        buf[i] = seed + i * 7;
    }
    qtest_memwrite(f->qts, phys, buf, LEN);
}

static void assert_pattern(Fixture *f, uint64_t phys, uint8_t seed)
{
    uint8_t want[LEN], got[LEN];
    int i;

    for (i = 0; i < LEN; i++) {
        want[i] = seed + i * 7;
    }
    qtest_memread(f->qts, phys, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);
}

static void assert_filled(Fixture *f, uint64_t phys, uint8_t byte)
{
    uint8_t buf[LEN];
    int i;

    qtest_memread(f->qts, phys, buf, LEN);
    for (i = 0; i < LEN; i++) {
        g_assert_cmphex(buf[i], ==, byte);
    }
}

static void assert_no_fault(Fixture *f)
{
    VtdFault fault;

    g_assert_false(vtd_guest_take_fault(f->vtd, &fault));
}

static void assert_fault(Fixture *f, uint8_t reason, bool is_read,
                         uint64_t addr)
{
    VtdFault fault;

    g_assert_true(vtd_guest_take_fault(f->vtd, &fault));
    g_assert_cmphex(fault.sid, ==, EDU_SID);
    g_assert_cmphex(fault.reason, ==, reason);
    g_assert_cmpint(fault.is_read, ==, is_read);
    g_assert_cmphex(fault.addr, ==, addr);
    assert_no_fault(f);
}

/* The edu buffer gets the pattern @seed, read by DMA through IOVA_SRC. */
static void load_buffer(Fixture *f, uint8_t seed)
{
    write_pattern(f, f->src, seed);
    edu_dma_from_bus(&f->edu, IOVA_SRC, LEN);
    assert_no_fault(f);
}

static void invalidate(Fixture *f, uint64_t lo, uint64_t hi)
{
    vtd_guest_qi_queue(f->vtd, lo, hi);
    g_assert_true(vtd_guest_qi_sync(f->vtd));
}

/* IOTLB invalidation (type 2): granularity 2 domain, 3 page (4 KiB) */
static void inv_iotlb(Fixture *f, unsigned gran, uint16_t did, uint64_t addr)
{
    invalidate(f, vtd_desc_iotlb(gran, did), gran == 3 ? addr : 0);
}

/* PASID-based IOTLB invalidation, every address of (@did, @pasid) */
static void inv_piotlb(Fixture *f, uint16_t did, uint32_t pasid)
{
    invalidate(f, vtd_desc_piotlb(false, did, pasid), 0);
}

static const uint32_t pasids[] = { 0, 5 };

/* What a guest driver reads: nesting with both stages. */
static void test_caps(void)
{
    uint64_t base = Q35_HOST_BRIDGE_IOMMU_ADDR;
    uint64_t want = VTD_ECAP_SMTS | VTD_ECAP_FLTS | VTD_ECAP_SLTS |
                    (1ULL << 26) /* NEST */;
    QTestState *qts;

    qts = qtest_init("-M q35 -device intel-iommu,x-scalable-mode=on,"
                     "x-nested=on");
    g_assert_cmphex(qtest_readq(qts, base + DMAR_ECAP_REG) & want, ==, want);
    qtest_quit(qts);
    qts = qtest_init("-M q35 -device intel-iommu,x-scalable-mode=on");
    g_assert_cmphex(qtest_readq(qts, base + DMAR_ECAP_REG) & (1ULL << 26),
                    ==, 0);
    qtest_quit(qts);
}

/*
 * DMA lands at second-stage(first-stage(IOVA)); the walk set A in the
 * first-stage entries it used and D in the leaf it wrote through, in RAM
 * the second stage names.
 */
static void test_translate(const void *opaque)
{
    Fixture f;
    int level;

    fixture_init(&f, *(const uint32_t *)opaque);
    load_buffer(&f, 0x31);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst, 0x31);
    assert_no_fault(&f);

    for (level = 4; level >= 1; level--) {
        g_assert_cmphex(qtest_readq(f.qts, s1_slot(&f, IOVA_DST, level)) &
                        FS_A, ==, FS_A);
    }
    g_assert_cmphex(qtest_readq(f.qts, s1_slot(&f, IOVA_DST, 1)) & FS_D,
                    ==, FS_D);
    g_assert_cmphex(qtest_readq(f.qts, s1_slot(&f, IOVA_SRC, 1)) &
                    (FS_A | FS_D), ==, FS_A);
    fixture_fini(&f);
}

/* First-stage faults: the first-stage reason, the request's address. */
static void test_fs_faults(const void *opaque)
{
    Fixture f;

    fixture_init(&f, *(const uint32_t *)opaque);
    edu_dma_from_bus(&f.edu, IOVA_UNMAPPED, LEN);
    assert_fault(&f, FR_FS_NOT_PRES, true, IOVA_UNMAPPED);

    load_buffer(&f, 0x12);
    edu_dma_to_bus(&f.edu, IOVA_RO, LEN);
    assert_filled(&f, f.ro, 0x5a);
    assert_fault(&f, FR_WRITE, false, IOVA_RO);

    /* PS in a PML4 entry is reserved */
    qtest_writeq(f.qts, s1_slot(&f, IOVA_SRC, 4),
                 qtest_readq(f.qts, s1_slot(&f, IOVA_SRC, 4)) | FS_PS);
    inv_piotlb(&f, DID, f.pasid);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_FS_RESERVED, true, IOVA_SRC);
    fixture_fini(&f);
}

/*
 * Second-stage faults on a first-stage table access: the table is not
 * mapped, not readable (a lower table, the root), or not writable when
 * its entry's A flag must be set. Nothing is cached before (the device
 * has not used the IOVA), so no invalidation is needed in between.
 */
static void test_s2_table_faults(const void *opaque)
{
    Fixture f;
    uint64_t pt, root;

    fixture_init(&f, *(const uint32_t *)opaque);
    pt = s1_table(&f, IOVA_SRC, 1);
    root = f.s1_root;
    write_pattern(&f, f.src, 0x44);

    vtd_domain_unmap(f.s2, gpa_of(pt), PAGE);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_SS_NOT_PRES, true, IOVA_SRC);

    vtd_domain_map(f.s2, gpa_of(pt), pt, PAGE, VTD_PROT_WRITE);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_FS_READ, true, IOVA_SRC);

    vtd_domain_map(f.s2, gpa_of(pt), pt, PAGE, VTD_PROT_RW);
    vtd_domain_map(f.s2, gpa_of(root), root, PAGE, VTD_PROT_WRITE);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_FS_ROOT_READ, true, IOVA_SRC);

    /* The leaf's A is still clear: setting it needs write access. */
    vtd_domain_map(f.s2, gpa_of(root), root, PAGE, VTD_PROT_RW);
    vtd_domain_map(f.s2, gpa_of(pt), pt, PAGE, VTD_PROT_READ);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_FS_AD_WRITE, true, IOVA_SRC);
    g_assert_cmphex(qtest_readq(f.qts, s1_slot(&f, IOVA_SRC, 1)) & FS_A,
                    ==, 0);

    vtd_domain_map(f.s2, gpa_of(pt), pt, PAGE, VTD_PROT_RW);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_no_fault(&f);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst, 0x44);
    fixture_fini(&f);
}

/*
 * Second-stage faults on the final address: not mapped, read-only to a
 * write, write-only to a read, beyond the second stage's input width.
 */
static void test_s2_final_faults(const void *opaque)
{
    Fixture f;

    fixture_init(&f, *(const uint32_t *)opaque);
    s1_map(&f, IOVA_NOGPA, gpa_of(0x7f000000), true);
    s1_map(&f, IOVA_FAR, 1ULL << 49, true);
    load_buffer(&f, 0x21);

    edu_dma_to_bus(&f.edu, IOVA_NOGPA, LEN);
    assert_fault(&f, FR_SS_NOT_PRES, false, IOVA_NOGPA);

    vtd_domain_map(f.s2, gpa_of(f.dst), f.dst, PAGE, VTD_PROT_READ);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_filled(&f, f.dst, 0);
    assert_fault(&f, FR_WRITE, false, IOVA_DST);

    vtd_domain_map(f.s2, gpa_of(f.src), f.src, PAGE, VTD_PROT_WRITE);
    inv_iotlb(&f, 2, DID, 0);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_READ, true, IOVA_SRC);

    edu_dma_to_bus(&f.edu, IOVA_FAR, LEN);
    assert_fault(&f, FR_FS_GPA_WIDTH, false, IOVA_FAR);
    fixture_fini(&f);
}

/* Reserved or unsupported values in the PASID entry and the tables. */
static void test_reserved(const void *opaque)
{
    Fixture f;
    uint64_t s2root;

    fixture_init(&f, *(const uint32_t *)opaque);
    s2root = vtd_domain_top(f.s2);

    write_nested_pe(&f, 0, PE_FSPM(2));         /* reserved FSPM value */
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_PE_RESERVED, true, IOVA_SRC);

    write_nested_pe(&f, 0, PE_FSPM(1));         /* 5-level: no FS5LP */
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_PE_INVALID, true, IOVA_SRC);

    write_nested_pe(&f, PE_AW(1), 0);   /* AW 2 | 1 = 3: 57 bits */
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_PE_INVALID, true, IOVA_SRC);

    /* A second-stage PML4 entry with an address bit above aw-bits */
    write_nested_pe(&f, 0, 0);
    s2root += ((gpa_of(f.s1_root) >> 39) & 0x1ff) * 8;
    qtest_writeq(f.qts, s2root, qtest_readq(f.qts, s2root) | (1ULL << 50));
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_SS_RESERVED, true, IOVA_SRC);
    fixture_fini(&f);
}

/*
 * Fault processing disabled in the PASID entry (FPD): the faults of
 * either stage are not recorded (they are qualified), the DMA is still
 * refused.
 */
static void test_fpd(const void *opaque)
{
    Fixture f;
    uint64_t pt;

    fixture_init(&f, *(const uint32_t *)opaque);
    write_nested_pe(&f, PE_FPD, 0);
    pt = s1_table(&f, IOVA_SRC, 1);
    write_pattern(&f, f.src, 0x17);
    edu_dma_from_bus(&f.edu, IOVA_UNMAPPED, LEN);       /* first stage */
    assert_no_fault(&f);
    vtd_domain_unmap(f.s2, gpa_of(pt), PAGE);           /* second stage */
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_no_fault(&f);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);     /* the buffer: not loaded */
    assert_filled(&f, f.dst, 0);

    write_nested_pe(&f, 0, 0);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_SS_NOT_PRES, true, IOVA_SRC);
    fixture_fini(&f);
}

/*
 * The IOTLB caches the combined translation: a first-stage change shows
 * after a PASID-based IOTLB invalidation of its DID and PASID, and a
 * second-stage change after an IOTLB invalidation of the DID (page- or
 * domain-selective: nested entries go whatever the address); others
 * leave the stale entry in use.
 */
static void test_invalidation(const void *opaque)
{
    Fixture f;

    fixture_init(&f, *(const uint32_t *)opaque);
    load_buffer(&f, 0x5c);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst, 0x5c);

    /* first stage: IOVA_DST -> dst2 */
    s1_map(&f, IOVA_DST, gpa_of(f.dst2), true);
    qtest_memset(f.qts, f.dst, 0, PAGE);
    inv_iotlb(&f, 2, DID_OTHER, 0);
    inv_piotlb(&f, DID, f.pasid + 1);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst, 0x5c);            /* stale */
    assert_filled(&f, f.dst2, 0);
    inv_piotlb(&f, DID, f.pasid);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst2, 0x5c);           /* fresh */

    /* second stage only: gpa_of(dst2) -> dst3 */
    vtd_domain_map(f.s2, gpa_of(f.dst2), f.dst3, PAGE, VTD_PROT_RW);
    qtest_memset(f.qts, f.dst2, 0, PAGE);
    inv_iotlb(&f, 2, DID_OTHER, 0);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst2, 0x5c);           /* stale */
    assert_filled(&f, f.dst3, 0);
    inv_iotlb(&f, 3, DID, gpa_of(f.dst2));      /* by GPA, not IOVA */
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst3, 0x5c);           /* fresh */

    /* ... and back, domain-selective */
    vtd_domain_map(f.s2, gpa_of(f.dst2), f.dst2, PAGE, VTD_PROT_RW);
    qtest_memset(f.qts, f.dst3, 0, PAGE);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst3, 0x5c);           /* stale */
    inv_iotlb(&f, 2, DID, 0);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst2, 0x5c);           /* fresh */
    assert_no_fault(&f);
    fixture_fini(&f);
}

/*
 * A clean first-stage leaf is cached read-only: the first write through
 * it walks again, sets D and is done; a second-stage read-only page
 * stays refused to writes even once the IOTLB holds it for reads.
 */
static void test_dirty_rewalk(const void *opaque)
{
    Fixture f;
    uint64_t leaf;

    fixture_init(&f, *(const uint32_t *)opaque);
    load_buffer(&f, 0x66);
    leaf = s1_slot(&f, IOVA_DST, 1);
    edu_dma_from_bus(&f.edu, IOVA_DST, LEN);    /* cached, clean */
    g_assert_cmphex(qtest_readq(f.qts, leaf) & FS_D, ==, 0);
    load_buffer(&f, 0x67);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, f.dst, 0x67);
    g_assert_cmphex(qtest_readq(f.qts, leaf) & FS_D, ==, FS_D);

    vtd_domain_map(f.s2, gpa_of(f.dst), f.dst, PAGE, VTD_PROT_READ);
    inv_iotlb(&f, 2, DID, 0);
    edu_dma_from_bus(&f.edu, IOVA_DST, LEN);    /* cached, read-only */
    assert_no_fault(&f);
    qtest_memset(f.qts, f.dst, 0, PAGE);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_filled(&f, f.dst, 0);
    assert_fault(&f, FR_WRITE, false, IOVA_DST);
    fixture_fini(&f);
}

/* A first-stage-only PASID entry (PGTT=001b) works beside nesting. */
static void test_first_stage_entry(void)
{
    Fixture f;
    VtdDomain *d;
    uint64_t src, dst;

    memset(&f, 0, sizeof(f));
    f.qs = qtest_pc_boot("-M q35 -device intel-iommu,x-scalable-mode=on,"
                         "x-nested=on,aw-bits=48 -device edu,addr=%02x.%x",
                         PCI_SLOT(EDU_DEVFN), PCI_FUNC(EDU_DEVFN));
    f.qts = f.qs->qts;
    f.vtd = vtd_guest_new(f.qts, &f.qs->alloc, Q35_HOST_BRIDGE_IOMMU_ADDR);
    edu_open(&f.edu, f.qts, f.qs->pcibus, EDU_DEVFN);
    src = qmalloc(f.qs, PAGE);
    dst = qmalloc(f.qs, PAGE);
    qtest_memset(f.qts, dst, 0, PAGE);
    d = vtd_guest_attach(f.vtd, EDU_SID, VTD_PGTT_FIRST_STAGE, DID);
    vtd_domain_map(d, IOVA_SRC, src, PAGE, VTD_PROT_READ);
    vtd_domain_map(d, IOVA_DST, dst, PAGE, VTD_PROT_RW);
    vtd_guest_enable(f.vtd);

    write_pattern(&f, src, 0x3d);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    edu_dma_to_bus(&f.edu, IOVA_DST, LEN);
    assert_pattern(&f, dst, 0x3d);
    edu_dma_to_bus(&f.edu, IOVA_SRC, LEN);
    assert_fault(&f, FR_WRITE, false, IOVA_SRC);
    fixture_fini(&f);
}

static void add_pasid_tests(const char *name, GTestDataFunc fn)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(pasids); i++) {
        g_autofree char *path = g_strdup_printf(
            "/vnest/vtd-nested-host/rid-pasid-%u/%s", pasids[i], name);

        qtest_add_data_func(path, &pasids[i], fn);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("intel-iommu") || !qtest_has_device("edu")) {
        g_test_skip("intel-iommu or edu not built in");
        return g_test_run();
    }
    qtest_add_func("/vnest/vtd-nested-host/caps", test_caps);
    qtest_add_func("/vnest/vtd-nested-host/first-stage-entry",
                   test_first_stage_entry);
    add_pasid_tests("translate", test_translate);
    add_pasid_tests("fs-faults", test_fs_faults);
    add_pasid_tests("s2-table-faults", test_s2_table_faults);
    add_pasid_tests("s2-final-faults", test_s2_final_faults);
    add_pasid_tests("reserved", test_reserved);
    add_pasid_tests("fpd", test_fpd);
    add_pasid_tests("invalidation", test_invalidation);
    add_pasid_tests("dirty-rewalk", test_dirty_rewalk);
    return g_test_run();
}
