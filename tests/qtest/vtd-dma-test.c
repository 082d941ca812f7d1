/*
 * VNest qtest: device DMA through intel-iommu in scalable mode
 *
 * A q35 guest with intel-iommu in scalable mode and an edu device behind
 * it. The test acts as the guest's IOMMU driver (vtd-guest.c): it checks
 * the capabilities the guest sees, builds the tables for one stage of
 * translation, and checks that DMA lands where the I/O page tables say,
 * that a request the tables do not allow is refused, and that the refusal
 * is recorded in the fault recording registers with the architected
 * reason, requester and address.
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
#define DID             1
#define LEN             256

/* Fault reasons the VT-d specification assigns (QEMU 10.0 model). */
#define FR_SS_WRITE     0x05    /* second stage: no write permission */
#define FR_SS_READ      0x06    /* second stage: no read permission */
#define FR_FS_NOT_PRES  0x71    /* first stage: entry not present */
#define FR_FS_WRITE     0x85    /* first stage: no write permission */

typedef struct VtdDmaCase {
    const char *name;
    const char *iommu_opts;
    VtdPgtt pgtt;
    uint64_t ecap_set;          /* ECAP bits the guest must see set */
    uint64_t ecap_clear;        /* ... and clear */
    uint8_t fr_read_unmapped;
    uint8_t fr_write_readonly;
} VtdDmaCase;

static const VtdDmaCase cases[] = {
    {
        .name = "second-stage",
        .iommu_opts = "x-scalable-mode=on",
        .pgtt = VTD_PGTT_SECOND_STAGE,
        .ecap_set = VTD_ECAP_SMTS | VTD_ECAP_SLTS | VTD_ECAP_QI,
        .ecap_clear = VTD_ECAP_FLTS,
        .fr_read_unmapped = FR_SS_READ,
        .fr_write_readonly = FR_SS_WRITE,
    }, {
        .name = "first-stage",
        .iommu_opts = "x-scalable-mode=on,x-flts=on",
        .pgtt = VTD_PGTT_FIRST_STAGE,
        .ecap_set = VTD_ECAP_SMTS | VTD_ECAP_FLTS | VTD_ECAP_QI,
        .ecap_clear = VTD_ECAP_SLTS,
        .fr_read_unmapped = FR_FS_NOT_PRES,
        .fr_write_readonly = FR_FS_WRITE,
    },
};

/* One booted guest: IOMMU driver, edu, and a few guest pages. */
typedef struct Fixture {
    QOSState *qs;
    VtdGuest *vtd;
    VtdDomain *dom;
    EduDev edu;
    uint64_t src_gpa;           /* pattern the device reads */
    uint64_t dst_gpa;           /* where the device's write must land */
    uint64_t ro_gpa;            /* mapped read-only */
    uint64_t decoy_gpa;         /* IOVA of dst: must stay untouched */
    uint64_t unmapped_iova;
} Fixture;

#define IOVA_SRC        0x100000ULL
#define IOVA_DST(f)     ((f)->decoy_gpa)
#define IOVA_RO         0x300000ULL

static uint64_t alloc_filled(Fixture *f, uint8_t byte)
{
    uint64_t gpa = qmalloc(f->qs, 4096);

    qtest_memset(f->qs->qts, gpa, byte, 4096);
    return gpa;
}

static void fixture_init(Fixture *f, const VtdDmaCase *c)
{
    f->qs = qtest_pc_boot("-M q35 -device intel-iommu,%s "
                          "-device edu,addr=%02x.%x", c->iommu_opts,
                          PCI_SLOT(EDU_DEVFN), PCI_FUNC(EDU_DEVFN));
    f->vtd = vtd_guest_new(f->qs->qts, &f->qs->alloc,
                           Q35_HOST_BRIDGE_IOMMU_ADDR);
    edu_open(&f->edu, f->qs->qts, f->qs->pcibus, EDU_DEVFN);

    f->src_gpa = alloc_filled(f, 0);
    f->dst_gpa = alloc_filled(f, 0x00);
    f->ro_gpa = alloc_filled(f, 0x5a);
    f->decoy_gpa = alloc_filled(f, 0xee);
    f->unmapped_iova = 0x700000;

    f->dom = vtd_guest_attach(f->vtd, EDU_SID, c->pgtt, DID);
    vtd_domain_map(f->dom, IOVA_SRC, f->src_gpa, 4096, VTD_PROT_READ);
    vtd_domain_map(f->dom, IOVA_DST(f), f->dst_gpa, 4096, VTD_PROT_RW);
    vtd_domain_map(f->dom, IOVA_RO, f->ro_gpa, 4096, VTD_PROT_READ);
    vtd_guest_enable(f->vtd);
}

static void fixture_fini(Fixture *f)
{
    edu_close(&f->edu);
    vtd_guest_free(f->vtd);
    qtest_shutdown(f->qs);
}

static void write_pattern(Fixture *f, uint64_t gpa, uint8_t seed)
{
    uint8_t buf[LEN];
    int i;

    for (i = 0; i < LEN; i++) {
        buf[i] = seed + i * 7;
    }
    qtest_memwrite(f->qs->qts, gpa, buf, LEN);
}

static void assert_filled(Fixture *f, uint64_t gpa, uint8_t byte)
{
    uint8_t buf[LEN];
    int i;

    qtest_memread(f->qs->qts, gpa, buf, LEN);
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

/* What a guest driver sees before it programs anything. */
static void test_caps(const void *opaque)
{
    const VtdDmaCase *c = opaque;
    QTestState *qts = qtest_initf("-M q35 -device intel-iommu,%s",
                                  c->iommu_opts);
    uint64_t base = Q35_HOST_BRIDGE_IOMMU_ADDR;
    uint64_t cap = qtest_readq(qts, base + DMAR_CAP_REG);
    uint64_t ecap = qtest_readq(qts, base + DMAR_ECAP_REG);

    g_assert_cmphex(ecap & c->ecap_set, ==, c->ecap_set);
    g_assert_cmphex(ecap & c->ecap_clear, ==, 0);
    g_assert_cmphex(cap & VTD_CAP_SAGAW_48bit, ==, VTD_CAP_SAGAW_48bit);
    g_assert_cmpuint(VTD_MGAW_FROM_CAP(cap) + 1, ==, 48);
    /* Translation is off until the guest enables it. */
    g_assert_cmphex(qtest_readl(qts, base + DMAR_GSTS_REG) & VTD_GSTS_TES,
                    ==, 0);
    qtest_quit(qts);
}

/* The device reads through one mapping and writes through another. */
static void test_dma_translated(const void *opaque)
{
    Fixture f;
    uint8_t want[LEN], got[LEN];

    fixture_init(&f, opaque);
    write_pattern(&f, f.src_gpa, 0x31);

    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);
    edu_dma_to_bus(&f.edu, IOVA_DST(&f), LEN);

    qtest_memread(f.qs->qts, f.src_gpa, want, LEN);
    qtest_memread(f.qs->qts, f.dst_gpa, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);
    /* The IOVA was translated, not used as a guest-physical address. */
    assert_filled(&f, f.decoy_gpa, 0xee);
    assert_no_fault(&f);
    fixture_fini(&f);
}

/* A read of an IOVA with no mapping is blocked and recorded. */
static void test_dma_unmapped_read(const void *opaque)
{
    const VtdDmaCase *c = opaque;
    Fixture f;

    fixture_init(&f, c);
    edu_dma_from_bus(&f.edu, f.unmapped_iova + 0x40, LEN);
    assert_fault(&f, c->fr_read_unmapped, true, f.unmapped_iova);
    fixture_fini(&f);
}

/*
 * A write to a read-only mapping is blocked, leaves memory untouched, is
 * recorded, and the device's next legal DMA still goes through.
 */
static void test_dma_readonly_write(const void *opaque)
{
    const VtdDmaCase *c = opaque;
    Fixture f;
    uint8_t want[LEN], got[LEN];

    fixture_init(&f, c);
    write_pattern(&f, f.src_gpa, 0x77);
    edu_dma_from_bus(&f.edu, IOVA_SRC, LEN);

    edu_dma_to_bus(&f.edu, IOVA_RO, LEN);
    assert_filled(&f, f.ro_gpa, 0x5a);
    assert_fault(&f, c->fr_write_readonly, false, IOVA_RO);

    edu_dma_to_bus(&f.edu, IOVA_DST(&f), LEN);
    qtest_memread(f.qs->qts, f.src_gpa, want, LEN);
    qtest_memread(f.qs->qts, f.dst_gpa, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);
    assert_no_fault(&f);
    fixture_fini(&f);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("intel-iommu") || !qtest_has_device("edu")) {
        g_test_skip("intel-iommu or edu not built in");
        return g_test_run();
    }
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        const VtdDmaCase *c = &cases[i];
        g_autofree char *caps = g_strdup_printf("/vnest/vtd/%s/caps",
                                                c->name);
        g_autofree char *ok = g_strdup_printf("/vnest/vtd/%s/dma-translated",
                                              c->name);
        g_autofree char *unm = g_strdup_printf(
            "/vnest/vtd/%s/dma-unmapped-read-faults", c->name);
        g_autofree char *ro = g_strdup_printf(
            "/vnest/vtd/%s/dma-readonly-write-faults", c->name);

        qtest_add_data_func(caps, c, test_caps);
        qtest_add_data_func(ok, c, test_dma_translated);
        qtest_add_data_func(unm, c, test_dma_unmapped_read);
        qtest_add_data_func(ro, c, test_dma_readonly_write);
    }
    return g_test_run();
}
