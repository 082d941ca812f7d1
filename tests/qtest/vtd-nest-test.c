/*
 * VNest qtest: intel-iommu nesting on the emulated host
 *
 * q35 with intel-iommu,x-scalable-mode=on,x-flts=on and two vnest-dma-test
 * devices assigned through the emulated host (vnest-sim-assign), plus one
 * that is not assigned. The test is the guest's IOMMU driver
 * (vtd-guest.c): it programs PASID entries and first-stage tables, issues
 * PASID-cache and IOTLB invalidations, and checks what a user would see:
 * DMA landing where the guest's first stage says (walked by the emulated
 * host, not by QEMU), a stale translation until the invalidation and a
 * fresh one after it, the number of host calls (one IOMMU_HWPT_INVALIDATE
 * per submission per nested HWPT), the queue error at the descriptor the
 * host refused, and the fault a bad PASID entry raises.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "hw/i386/intel_iommu_internal.h"
#include "vtd-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"

#define VTD_BASE        0xfed90000ULL
#define NDEV            3               /* two assigned, one emulated */
#define EMU_DEV         2
#define DEVFN(i)        QPCI_DEVFN(4 + (i), 0)
#define SID(i)          DEVFN(i)        /* bus 0 */
#define IOMMU_PATH      "/machine/peripheral/iommu0"
#define LEN             256
#define IOVA            0x40000000ULL
#define PAGE            4096ULL
#define REFUSED         DMADEV_REFUSED

typedef struct Nest {
    QOSState *qs;
    QTestState *qts;
    VtdGuest *g;
    DmaTestDev dev[NDEV];
} Nest;

static void nest_init(Nest *t, const char *iommu_extra)
{
    uint64_t ecam;
    int i;

    t->qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                          "-device intel-iommu,id=iommu0,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on,pasid-bits=16%s "
                          "-object iommufd,id=emu0,emulated=on,host-iommu=vtd "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=dma0 "
                          "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                          "device=dma1 "
                          "-device vnest-dma-test,id=dma0,addr=04.0 "
                          "-device vnest-dma-test,id=dma1,addr=05.0 "
                          "-device vnest-dma-test,id=dma2,addr=06.0",
                          iommu_extra ? iommu_extra : "");
    t->qts = t->qs->qts;
    ecam = dmadev_q35_enable_ecam(t->qs->pcibus);
    for (i = 0; i < NDEV; i++) {
        dmadev_open(&t->dev[i], t->qts, t->qs->pcibus, DEVFN(i));
        dmadev_set_ecam(&t->dev[i], ecam);
        dmadev_pasid_enable(&t->dev[i], true);
    }
    t->g = vtd_guest_new(t->qts, &t->qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(t->g);
    vtd_guest_enable(t->g);
}

static void nest_fini(Nest *t)
{
    int i;

    vtd_guest_free(t->g);
    for (i = 0; i < NDEV; i++) {
        dmadev_close(&t->dev[i]);
    }
    qtest_shutdown(t->qs);
}

static uint64_t qom_uint(Nest *t, const char *path, const char *prop)
{
    return vnest_qom_get_uint(t->qts, path, prop);
}

static uint64_t nstat(Nest *t, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-nest-%s", name);

    return qom_uint(t, IOMMU_PATH, prop);
}

static void fail_nth(Nest *t, uint64_t nth)
{
    vnest_qom_set_uint(t->qts, "/objects/emu0", "x-fail-nth", nth);
}

static void pattern(uint8_t *buf, uint8_t seed)
{
    dmadev_pattern(buf, LEN, seed);
}

/* Device @i writes a pattern to @iova; check it landed at @gpa. */
static void dma_lands(Nest *t, int i, uint32_t pasid, uint64_t iova,
                      uint64_t gpa, uint8_t seed)
{
    dmadev_assert_lands(&t->dev[i], pasid, iova, gpa, LEN, seed);
}

static void dma_refused(Nest *t, int i, uint32_t pasid, uint64_t iova)
{
    dmadev_assert_refused(&t->dev[i], pasid, iova, LEN);
}

/* Device @i reads @iova; which of the two seeds did it see? */
static int dma_reads(Nest *t, int i, uint32_t pasid, uint64_t iova)
{
    return dmadev_read_first(&t->dev[i], pasid, iova, LEN);
}

static uint64_t page(Nest *t)
{
    return guest_alloc(&t->qs->alloc, PAGE);
}

/* PASID 0 of device 0: first stage bound, DMA walked by the host. */
static VtdDomain *bind_fs(Nest *t, int i, uint32_t pasid, uint16_t did,
                          uint64_t gpa)
{
    VtdDomain *d = vtd_guest_attach_pasid(t->g, SID(i), pasid,
                                          VTD_PGTT_FIRST_STAGE, did);

    vtd_domain_map(d, IOVA, gpa, PAGE, VTD_PROT_RW);
    vtd_guest_inv_pasid_cache(t->g, did, pasid);
    return d;
}

static void test_bind(void)
{
    Nest t;
    uint64_t gpa;

    nest_init(&t, NULL);
    /* Translation on, nothing configured: the host blocks the device. */
    dma_refused(&t, 0, DMADEV_NO_PASID, IOVA);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 0);

    gpa = page(&t);
    bind_fs(&t, 0, 0, 1, gpa);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 1);
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 1);
    dma_lands(&t, 0, DMADEV_NO_PASID, IOVA, gpa, 0x11);
    /* Unmapped in the guest's first stage: refused by the host. */
    dma_refused(&t, 0, DMADEV_NO_PASID, IOVA + PAGE);
    nest_fini(&t);
}

/* Until the PASID-cache invalidation, the host keeps the old entry. */
static void test_pasid_cache_needed(void)
{
    Nest t;
    uint64_t gpa = 0;
    VtdDomain *d;

    nest_init(&t, NULL);
    gpa = page(&t);
    d = vtd_guest_attach_pasid(t.g, SID(0), 0, VTD_PGTT_FIRST_STAGE, 1);
    vtd_domain_map(d, IOVA, gpa, PAGE, VTD_PROT_RW);
    dma_refused(&t, 0, DMADEV_NO_PASID, IOVA);
    g_assert_cmpuint(nstat(&t, "attaches"), ==, 0);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    dma_lands(&t, 0, DMADEV_NO_PASID, IOVA, gpa, 0x12);
    nest_fini(&t);
}

/* An invalidation of an unchanged entry costs no host call. */
static void test_unchanged(void)
{
    Nest t;
    uint64_t attaches, detaches;

    nest_init(&t, NULL);
    bind_fs(&t, 0, 0, 1, page(&t));
    attaches = nstat(&t, "attaches");
    detaches = nstat(&t, "detaches");
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    vtd_guest_qi_queue(t.g, vtd_desc_pc(3, 0, 0), 0);       /* global */
    g_assert_true(vtd_guest_qi_sync(t.g));
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches);
    g_assert_cmpuint(nstat(&t, "detaches"), ==, detaches);
    g_assert_cmpuint(nstat(&t, "guest_faults"), ==, 0);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 1);
    nest_fini(&t);
}

/* A new domain replaces the old in one host call, no detach between. */
static void test_replace(void)
{
    Nest t;
    uint64_t gpa1, gpa2, attaches, detaches;

    nest_init(&t, NULL);
    gpa1 = page(&t);
    gpa2 = page(&t);
    bind_fs(&t, 0, 0, 1, gpa1);
    attaches = nstat(&t, "attaches");
    detaches = nstat(&t, "detaches");
    bind_fs(&t, 0, 0, 2, gpa2);
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches + 1);
    g_assert_cmpuint(nstat(&t, "detaches"), ==, detaches);
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 1);     /* the old one freed */
    dma_lands(&t, 0, DMADEV_NO_PASID, IOVA, gpa2, 0x13);
    nest_fini(&t);
}

/* Cleared entry: the host detaches, DMA is refused. */
static void test_detach(void)
{
    Nest t;
    uint64_t gpa, detaches;

    nest_init(&t, NULL);
    gpa = page(&t);
    bind_fs(&t, 0, 3, 1, gpa);
    dma_lands(&t, 0, 3, IOVA, gpa, 0x14);
    detaches = nstat(&t, "detaches");
    vtd_guest_clear_pasid(t.g, SID(0), 3);
    vtd_guest_inv_pasid_cache(t.g, 1, 3);
    g_assert_cmpuint(nstat(&t, "detaches"), ==, detaches + 1);
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 0);
    dma_refused(&t, 0, 3, IOVA);
    nest_fini(&t);
}

/* Pass-through: the parent alone, DMA at guest physical addresses. */
static void test_pass_through(void)
{
    Nest t;
    uint64_t gpa;

    nest_init(&t, NULL);
    gpa = page(&t);
    vtd_guest_attach(t.g, SID(0), VTD_PGTT_PASS_THROUGH, 1);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 0);
    dma_lands(&t, 0, DMADEV_NO_PASID, gpa, gpa, 0x15);
    nest_fini(&t);
}

/* PASID 5 beside PASID 0 on one device, each through its own tables. */
static void test_pasid_beside_rid(void)
{
    Nest t;
    uint64_t gpa0, gpa5;

    nest_init(&t, NULL);
    gpa0 = page(&t);
    gpa5 = page(&t);
    bind_fs(&t, 0, 0, 1, gpa0);
    bind_fs(&t, 0, 5, 2, gpa5);
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 2);
    dma_lands(&t, 0, DMADEV_NO_PASID, IOVA, gpa0, 0x16);
    dma_lands(&t, 0, 5, IOVA, gpa5, 0x17);
    dma_refused(&t, 0, 6, IOVA);            /* PASID 6: nothing bound */
    nest_fini(&t);
}

/*
 * PASIDs the guest cannot have are never nested: beyond the offered
 * width (pasid-bits=16), or beyond the context's PASID directory (PDTS).
 */
static void test_pasid_limits(void)
{
    Nest t;
    uint64_t gpa;

    nest_init(&t, NULL);
    gpa = page(&t);
    bind_fs(&t, 0, 0x10005, 1, gpa);            /* 17 bits */
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 0);
    dma_refused(&t, 0, 0x10005, IOVA);

    bind_fs(&t, 0, 8197, 2, gpa);               /* directory entry 128 */
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 1);
    dma_lands(&t, 0, 8197, IOVA, gpa, 0x1d);
    /* PDTS 0: a directory of 128 entries, which 8197 lies beyond */
    vtd_guest_set_pdts(t.g, SID(0), 0);
    vtd_guest_inv_pasid_cache(t.g, 2, 8197);
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 0);
    dma_refused(&t, 0, 8197, IOVA);
    nest_fini(&t);
}

/*
 * Two devices in one guest domain. Simulated assignments on one iommufd
 * share the IOAS and nest parent (as vfio-pci devices in one container
 * share the autodomain), so the domain is one nested HWPT both devices
 * attach, and one guest invalidation is one host call with one entry.
 */
static void test_shared_domain(void)
{
    Nest t;
    uint64_t gpa, calls, entries;
    VtdDomain *d;

    nest_init(&t, NULL);
    gpa = page(&t);
    d = bind_fs(&t, 0, 0, 1, gpa);
    vtd_guest_share(t.g, SID(1), 0, d, 1);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 1);
    g_assert_cmpuint(qom_uint(&t, "/objects/sa0", "hwpt-id"), ==,
                     qom_uint(&t, "/objects/sa1", "hwpt-id"));
    dma_lands(&t, 0, DMADEV_NO_PASID, IOVA, gpa, 0x18);
    dma_lands(&t, 1, DMADEV_NO_PASID, IOVA, gpa, 0x19);
    calls = nstat(&t, "inv_calls");
    entries = nstat(&t, "inv_entries");
    vtd_guest_inv_pasid(t.g, 1, 0);
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + 1);
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries + 1);
    nest_fini(&t);
}

/* An emulated device beside the nested ones: QEMU translates it. */
static void test_emulated_beside(void)
{
    Nest t;
    uint64_t gpa0, gpa2;

    nest_init(&t, NULL);
    gpa0 = page(&t);
    gpa2 = page(&t);
    bind_fs(&t, 0, 0, 1, gpa0);
    bind_fs(&t, EMU_DEV, 0, 2, gpa2);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 1);  /* not for dma2 */
    dma_lands(&t, 0, DMADEV_NO_PASID, IOVA, gpa0, 0x1a);
    dma_lands(&t, EMU_DEV, DMADEV_NO_PASID, IOVA, gpa2, 0x1b);
    dma_refused(&t, EMU_DEV, DMADEV_NO_PASID, IOVA + PAGE);
    nest_fini(&t);
}

/* One submission of many descriptors: one host call per nested HWPT. */
static void test_batching(gconstpointer opaque)
{
    bool per_desc = GPOINTER_TO_INT(opaque);
    Nest t;
    uint64_t calls, entries;
    int i, n = 16;

    nest_init(&t, per_desc ? ",x-inv-per-desc=on" : NULL);
    bind_fs(&t, 0, 0, 1, page(&t));
    bind_fs(&t, 1, 0, 2, page(&t));
    calls = nstat(&t, "inv_calls");
    entries = nstat(&t, "inv_entries");
    for (i = 0; i < n; i++) {
        vtd_guest_qi_queue(t.g, vtd_desc_piotlb(true, 1 + i % 2, 0),
                           (IOVA + i * PAGE) | 0 /* AM 0 */);
    }
    g_assert_true(vtd_guest_qi_sync(t.g));
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries + n);
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + (per_desc ? n : 2));
    nest_fini(&t);
}

typedef struct InvKind {
    const char *name;
    uint64_t (*lo)(uint16_t did);
    uint64_t hi;                    /* IOVA added */
} InvKind;

static uint64_t piotlb_psi(uint16_t did)
{
    return vtd_desc_piotlb(true, did, 0);
}

static uint64_t piotlb_all(uint16_t did)
{
    return vtd_desc_piotlb(false, did, 0);
}

static uint64_t iotlb_dsi(uint16_t did)
{
    return vtd_desc_iotlb(2, did);
}

static uint64_t iotlb_global(uint16_t did)
{
    return vtd_desc_iotlb(1, 0);
}

static uint64_t iotlb_psi(uint16_t did)
{
    return vtd_desc_iotlb(3, did);
}

static uint64_t devtlb_pasid(uint16_t did)
{
    /* PASID-based device-TLB: SID 31:16, PASID 51:32 (PASID 0) */
    return 0x8 | ((uint64_t)SID(0) << 16);
}

static const InvKind inv_kinds[] = {
    { "piotlb-psi", piotlb_psi, 1 },
    { "piotlb-pasid", piotlb_all, 0 },
    { "iotlb-domain", iotlb_dsi, 0 },
    { "iotlb-global", iotlb_global, 0 },
    { "iotlb-psi", iotlb_psi, 1 },
    { "devtlb-pasid", devtlb_pasid, 1 },
};

/* Stale until the invalidation, fresh after it. */
static void test_stale_then_fresh(gconstpointer opaque)
{
    const InvKind *k = opaque;
    Nest t;
    uint64_t gpa_a, gpa_b;
    uint8_t buf[LEN];
    VtdDomain *d;

    nest_init(&t, NULL);
    gpa_a = page(&t);
    gpa_b = page(&t);
    pattern(buf, 0xa0);
    qtest_memwrite(t.qts, gpa_a, buf, LEN);
    pattern(buf, 0xb0);
    qtest_memwrite(t.qts, gpa_b, buf, LEN);

    d = bind_fs(&t, 0, 0, 1, gpa_a);
    g_assert_cmphex(dma_reads(&t, 0, DMADEV_NO_PASID, IOVA), ==, 0xa0);
    /* The guest remaps without invalidating: the host's IOTLB is stale. */
    vtd_domain_unmap(d, IOVA, PAGE);
    vtd_domain_map(d, IOVA, gpa_b, PAGE, VTD_PROT_RW);
    g_assert_cmphex(dma_reads(&t, 0, DMADEV_NO_PASID, IOVA), ==, 0xa0);
    vtd_guest_qi_queue(t.g, k->lo(1), k->hi ? IOVA : 0);
    g_assert_true(vtd_guest_qi_sync(t.g));
    g_assert_cmphex(dma_reads(&t, 0, DMADEV_NO_PASID, IOVA), ==, 0xb0);
    nest_fini(&t);
}

/* The host handles part of an array: IQE at the refused descriptor. */
static void test_partial_failure(void)
{
    Nest t;
    unsigned start;
    int i;

    nest_init(&t, NULL);
    bind_fs(&t, 0, 0, 1, page(&t));
    start = vtd_guest_qi_tail(t.g);
    for (i = 0; i < 5; i++) {
        vtd_guest_qi_queue(t.g, vtd_desc_piotlb(true, 1, 0), IOVA + i * PAGE);
    }
    /* The third entry of the one IOMMU_HWPT_INVALIDATE fails. */
    fail_nth(&t, 3);
    g_assert_false(vtd_guest_qi_sync(t.g));
    g_assert_true(vtd_guest_readl(t.g, DMAR_FSTS_REG) & VTD_FSTS_IQE);
    g_assert_cmpuint(vtd_guest_qi_head(t.g), ==, start + 2);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 1);
    fail_nth(&t, 0);
    /* The driver skips it; the queue works again. */
    vtd_guest_qi_recover(t.g);
    g_assert_true(vtd_guest_qi_sync(t.g));
    nest_fini(&t);
}

/* A bad PASID entry becomes a fault record, never a host call. */
static void test_bad_entry(void)
{
    Nest t;
    VtdFault f;
    uint64_t pe[8] = { 0 };

    nest_init(&t, NULL);
    /* PGTT second stage: not offered with x-flts=on */
    pe[0] = VTD_PASID_ENTRY_P | (2ULL << 6) | page(&t);
    pe[1] = 1;
    vtd_guest_pasid_entry_raw(t.g, SID(0), 0, pe);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    g_assert_true(vtd_guest_take_fault(t.g, &f));
    g_assert_cmphex(f.sid, ==, SID(0));
    g_assert_cmphex(f.reason, ==, VTD_FR_PASID_TABLE_ENTRY_INV);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 0);

    /* First stage whose table lies beyond the guest address width */
    memset(pe, 0, sizeof(pe));
    pe[0] = VTD_PASID_ENTRY_P | (1ULL << 6);
    pe[1] = 1;
    pe[2] = 1ULL << 50;
    vtd_guest_pasid_entry_raw(t.g, SID(0), 4, pe);
    vtd_guest_inv_pasid_cache(t.g, 1, 4);
    g_assert_true(vtd_guest_take_fault(t.g, &f));
    g_assert_cmphex(f.reason, ==, VTD_FR_PASID_ENTRY_FSPTPTR_INV);
    g_assert_true(f.has_pasid);
    g_assert_cmpuint(f.pasid, ==, 4);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 0);
    g_assert_cmpuint(nstat(&t, "guest_faults"), ==, 2);
    nest_fini(&t);
}

/* Reset: translation off, the nested HWPTs go, the RID gets the parent. */
static void test_reset(void)
{
    Nest t;
    QDict *rsp;

    nest_init(&t, NULL);
    bind_fs(&t, 0, 0, 1, page(&t));
    bind_fs(&t, 0, 5, 2, page(&t));
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 2);
    rsp = qtest_qmp(t.qts, "{ 'execute': 'system_reset' }");
    qobject_unref(rsp);
    qtest_qmp_eventwait(t.qts, "RESET");
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 0);
    nest_fini(&t);
}

static char *qom_str(Nest *t, const char *path, const char *prop)
{
    return vnest_qom_get_str(t->qts, path, prop);
}

/*
 * Bind, rebind, invalidate and tear down with the Nth host operation
 * failing, for every N the scenario reaches: QEMU carries on, the guest
 * sees architected errors only, and once translation is off again the
 * emulated host holds exactly what it held before (nothing leaked).
 * Returns false once N is beyond the scenario's host operations.
 */
static bool failnth_round(unsigned nth)
{
    Nest t;
    uint64_t base, gpa;
    g_autofree char *site = NULL;
    uint32_t sts;

    nest_init(&t, NULL);
    base = qom_uint(&t, "/objects/emu0", "x-objects");
    gpa = page(&t);
    fail_nth(&t, nth);
    bind_fs(&t, 0, 0, 1, gpa);
    bind_fs(&t, 0, 5, 2, page(&t));
    vtd_guest_qi_queue(t.g, vtd_desc_piotlb(true, 1, 0), IOVA);
    vtd_guest_qi_queue(t.g, vtd_desc_piotlb(true, 2, 5), IOVA);
    if (!vtd_guest_qi_sync(t.g)) {
        vtd_guest_qi_recover(t.g);
        g_assert_true(vtd_guest_qi_sync(t.g));
    }
    bind_fs(&t, 0, 0, 3, gpa);
    vtd_guest_clear_pasid(t.g, SID(0), 5);
    vtd_guest_inv_pasid_cache(t.g, 2, 5);
    site = qom_str(&t, "/objects/emu0", "x-fail-site");
    fail_nth(&t, 0);
    if (*site) {
        g_test_message("fail-nth %u hit %s", nth, site);
    }
    /* The device still works, or is blocked: never a wrong translation */
    sts = dmadev_to_mem(&t.dev[0], DMADEV_NO_PASID, IOVA, LEN);
    g_assert_true(sts == DMADEV_STATUS_DONE || sts == REFUSED);
    /* The guest turns translation off: only the plug-time objects stay. */
    qtest_writel(t.qts, VTD_BASE + DMAR_GCMD_REG,
                 qtest_readl(t.qts, VTD_BASE + DMAR_GSTS_REG) &
                 ~(VTD_GSTS_TES | VTD_GSTS_RTPS));
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 0);
    g_assert_cmpuint(qom_uint(&t, "/objects/emu0", "x-objects"), ==, base);
    nest_fini(&t);
    return *site != 0;
}

static void test_failnth(void)
{
    unsigned nth;

    for (nth = 1; failnth_round(nth); nth++) {
        g_assert_cmpuint(nth, <, 100);
    }
    /* At least alloc, attach, invalidate, replace, detach, free were hit */
    g_assert_cmpuint(nth, >, 6);
}

/* What the guest is offered must be what the host has: refused, named. */
static void test_refusal(gconstpointer opaque)
{
    const char *const *c = opaque;

    if (g_test_subprocess()) {
        QTestState *qts = qtest_initf("-M q35 -m 128M -vga none "
                          "-device intel-iommu,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on%s "
                          "-object iommufd,id=emu0,emulated=on,"
                          "host-iommu=%s "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=dma0 "
                          "-device vnest-dma-test,id=dma0,addr=04.0",
                          c[1], c[2]);
        qtest_quit(qts);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr(c[3]);
}

static const char *const refusals[][4] = {
    { "no-nesting", "", "vtd,host-nesting=off", "*must offer nesting*" },
    { "not-vtd", "", "smmuv3", "*not Intel VT-d*" },
    { "fs1gp", "", "vtd,x-host-fs1gp=off",
      "*lacks first-stage 1 GiB pages*intel-iommu,fs1gp=off*" },
    { "pasid-width", ",pasid-bits=8", "vtd,x-host-pasid-bits=4",
      "*8-bit PASIDs*gives this device 4*pasid-bits=4*" },
    { "no-pasid", ",pasid-bits=8", "vtd,x-host-pasid-bits=0",
      "*must give dma0 PASIDs*" },
};

/* x-fsts-host-caps: the guest is offered what the host has. */
static void test_host_caps(void)
{
    QTestState *qts = qtest_init("-M q35 -m 128M -vga none "
                                 "-device intel-iommu,x-scalable-mode=on,"
                                 "x-flts=on,caching-mode=on,pasid-bits=8,"
                                 "x-fsts-host-caps=on "
                                 "-object iommufd,id=emu0,emulated=on,"
                                 "host-iommu=vtd,x-host-fs1gp=off,"
                                 "x-host-pasid-bits=4 "
                                 "-object vnest-sim-assign,id=sa0,"
                                 "iommufd=emu0,device=dma0 "
                                 "-device vnest-dma-test,id=dma0,addr=04.0");
    uint64_t cap = qtest_readq(qts, VTD_BASE + DMAR_CAP_REG);
    uint64_t ecap = qtest_readq(qts, VTD_BASE + DMAR_ECAP_REG);

    g_assert_false(cap & VTD_CAP_FS1GP);
    g_assert_true(ecap & VTD_ECAP_PASID);
    g_assert_cmpuint((ecap >> 35) & 0x1f, ==, 4 - 1);       /* ECAP.PSS */
    qtest_quit(qts);

    /* Without the option the same host is refused (test_refusal). */
}

/*
 * The nested bindings do not migrate (yet): migration is refused with the
 * reason. One assigned device, so the nest module's blocker is the last
 * one added (simulated assignment adds its own before), the one reported.
 */
static void test_migration_blocked(void)
{
    QTestState *qts = qtest_init("-M q35 -m 128M -vga none "
                                 "-device intel-iommu,x-scalable-mode=on,"
                                 "x-flts=on,caching-mode=on "
                                 "-object iommufd,id=emu0,emulated=on "
                                 "-object vnest-sim-assign,id=sa0,"
                                 "iommufd=emu0,device=dma0 "
                                 "-device vnest-dma-test,id=dma0,addr=04.0");
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'migrate', 'arguments': "
                           "{ 'uri': 'exec:cat >/dev/null' } }");

    g_assert(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"),
                            "nested first-stage bindings"));
    qobject_unref(rsp);
    qtest_quit(qts);
}

/*
 * A host with VT-d erratum 772415 (SPR17) takes no read-only mapping in a
 * nest parent: the stage 2 leaves guest ROM out, so the machine starts
 * (the host would refuse the parent otherwise), RAM is reachable through
 * pass-through, the BIOS ROM is not. Without the erratum, ROM is read.
 */
static void test_spr17(gconstpointer opaque)
{
    bool erratum = GPOINTER_TO_INT(opaque);
    QOSState *qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                                 "-device intel-iommu,x-scalable-mode=on,"
                                 "x-flts=on,caching-mode=on "
                                 "-object iommufd,id=emu0,emulated=on,"
                                 "host-iommu=vtd,x-host-errata-spr17=%s "
                                 "-object vnest-sim-assign,id=sa0,"
                                 "iommufd=emu0,device=dma0 "
                                 "-device vnest-dma-test,id=dma0,addr=04.0",
                                 erratum ? "on" : "off");
    DmaTestDev dev;
    VtdGuest *g;
    uint64_t gpa = guest_alloc(&qs->alloc, PAGE);

    dmadev_open(&dev, qs->qts, qs->pcibus, DEVFN(0));
    g = vtd_guest_new(qs->qts, &qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(g);
    vtd_guest_enable(g);
    vtd_guest_attach(g, SID(0), VTD_PGTT_PASS_THROUGH, 1);
    vtd_guest_inv_pasid_cache(g, 1, 0);
    g_assert_cmphex(dmadev_from_mem(&dev, DMADEV_NO_PASID, gpa, LEN), ==,
                    DMADEV_STATUS_DONE);
    g_assert_cmphex(dmadev_from_mem(&dev, DMADEV_NO_PASID, 0xfffc0000ULL,
                                    LEN), ==,
                    erratum ? REFUSED : DMADEV_STATUS_DONE);
    vtd_guest_free(g);
    dmadev_close(&dev);
    qtest_shutdown(qs);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vtd-nest/bind", test_bind);
    qtest_add_func("/vtd-nest/pasid-cache-needed", test_pasid_cache_needed);
    qtest_add_func("/vtd-nest/unchanged", test_unchanged);
    qtest_add_func("/vtd-nest/replace", test_replace);
    qtest_add_func("/vtd-nest/detach", test_detach);
    qtest_add_func("/vtd-nest/pass-through", test_pass_through);
    qtest_add_func("/vtd-nest/pasid-beside-rid", test_pasid_beside_rid);
    qtest_add_func("/vtd-nest/pasid-limits", test_pasid_limits);
    qtest_add_func("/vtd-nest/shared-domain", test_shared_domain);
    qtest_add_func("/vtd-nest/emulated-beside", test_emulated_beside);
    qtest_add_data_func("/vtd-nest/batching/one-per-hwpt",
                        GINT_TO_POINTER(false), test_batching);
    qtest_add_data_func("/vtd-nest/batching/per-descriptor",
                        GINT_TO_POINTER(true), test_batching);
    for (i = 0; i < ARRAY_SIZE(inv_kinds); i++) {
        g_autofree char *path = g_strdup_printf("/vtd-nest/stale/%s",
                                                inv_kinds[i].name);

        qtest_add_data_func(path, &inv_kinds[i], test_stale_then_fresh);
    }
    qtest_add_func("/vtd-nest/partial-failure", test_partial_failure);
    qtest_add_func("/vtd-nest/bad-entry", test_bad_entry);
    qtest_add_func("/vtd-nest/reset", test_reset);
    qtest_add_func("/vtd-nest/fail-nth", test_failnth);
    qtest_add_func("/vtd-nest/host-caps", test_host_caps);
    qtest_add_func("/vtd-nest/migration-blocked", test_migration_blocked);
    qtest_add_data_func("/vtd-nest/spr17/erratum", GINT_TO_POINTER(true),
                        test_spr17);
    qtest_add_data_func("/vtd-nest/spr17/none", GINT_TO_POINTER(false),
                        test_spr17);
    for (i = 0; i < ARRAY_SIZE(refusals); i++) {
        g_autofree char *path = g_strdup_printf("/vtd-nest/refused/%s",
                                                refusals[i][0]);

        qtest_add_data_func(path, refusals[i], test_refusal);
    }
    return g_test_run();
}
