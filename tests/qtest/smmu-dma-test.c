/*
 * VNest qtest: DMA through QEMU's own Arm SMMUv3 (no nesting)
 *
 * -M virt,iommu=smmuv3 with vnest-dma-test devices on pcie.0. The test is
 * the guest's SMMUv3 driver (smmu-guest.c) and checks what a guest sees:
 * bypass (GBPA, STE), stage-1 translation through its CD and page tables
 * (linear and 2-level stream tables), F_TRANSLATION / F_PERMISSION /
 * C_BAD_STE records in the event queue with the right StreamID and
 * address, stale translations until the TLBI and the CMD_SYNC, stale
 * STEs until CFGI_STE and CDs until CFGI_CD, command errors,
 * SubstreamIDs.
 *
 * The same cases run with the devices assigned through the emulated host
 * (vnest-sim-assign, host-iommu=smmuv3): /sim-assign/... records what
 * QEMU 10.0 does there without accel=on, the baseline SMMUv3 nesting
 * changes; smmu-nest-test.c checks the same guest actions with accel=on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-malloc.h"
#include "tests/qtest/libqos/generic-pcihost.h"
#include "smmu-guest.h"
#include "dma-test-dev.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512 * MiB)
#define ECAM_BASE       0x4010000000ULL     /* virt's high ECAM */
#define NDEV            2
#define DEVFN(i)        QPCI_DEVFN(2 + (i), 0)
#define SID(i)          DEVFN(i)            /* bus 0 */
#define LEN             256
#define IOVA            0x80000000ULL   /* not RAM: bypass lands nowhere */
#define PAGE            4096ULL
#define REFUSED         DMADEV_REFUSED
#define ASID            7

typedef struct Smmu {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    SmmuGuest *g;
    DmaTestDev dev[NDEV];
    bool assigned;
} Smmu;

typedef struct Case {
    bool assigned;          /* through vnest-sim-assign */
    bool two_level;         /* 2-level stream table */
    int variant;
} Case;

static void smmu_init(Smmu *t, const Case *c)
{
    int i;

    t->assigned = c->assigned;
    t->qts = qtest_initf("-M virt,iommu=smmuv3 -cpu max -m 512M -nodefaults "
                         "%s"
                         "-device vnest-dma-test,id=dma0,addr=02.0 "
                         "-device vnest-dma-test,id=dma1,addr=03.0",
                         c->assigned ?
                         "-object iommufd,id=emu0,emulated=on,"
                         "host-iommu=smmuv3 "
                         "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                         "device=dma0 "
                         "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                         "device=dma1 " : "");
    alloc_init(&t->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&t->pci, t->qts, &t->alloc, false);
    for (i = 0; i < NDEV; i++) {
        dmadev_open(&t->dev[i], t->qts, &t->pci.bus, DEVFN(i));
        dmadev_set_ecam(&t->dev[i], ECAM_BASE);
    }
    t->g = smmu_guest_new(t->qts, &t->alloc, SMMU_VIRT_BASE, c->two_level);
}

static void smmu_fini(Smmu *t)
{
    int i;

    smmu_guest_free(t->g);
    for (i = 0; i < NDEV; i++) {
        dmadev_close(&t->dev[i]);
    }
    alloc_destroy(&t->alloc);
    qtest_quit(t->qts);
}

static uint64_t page(Smmu *t)
{
    return guest_alloc(&t->alloc, PAGE);
}

/* Device @i writes a pattern to @addr: STATUS, and did it land at @gpa? */
static uint32_t dma_write(Smmu *t, int i, uint64_t addr, uint64_t gpa,
                          uint8_t seed, bool *landed)
{
    return dmadev_write_pattern(&t->dev[i], DMADEV_NO_PASID, addr, gpa, LEN,
                                seed, landed);
}

static void dma_lands(Smmu *t, int i, uint64_t addr, uint64_t gpa,
                      uint8_t seed)
{
    dmadev_assert_lands(&t->dev[i], DMADEV_NO_PASID, addr, gpa, LEN, seed);
}

static void dma_refused(Smmu *t, int i, uint64_t addr)
{
    dmadev_assert_refused(&t->dev[i], DMADEV_NO_PASID, addr, LEN);
}

/* Device @i reads @addr: the first byte it saw (-1: refused). */
static int dma_reads(Smmu *t, int i, uint64_t addr)
{
    return dmadev_read_first(&t->dev[i], DMADEV_NO_PASID, addr, LEN);
}

static void fill(Smmu *t, uint64_t gpa, uint8_t val)
{
    qtest_memset(t->qts, gpa, val, PAGE);
}

/*
 * The next event record is @type for @sid at @addr (-1: don't check).
 * QEMU's memory core splits a refused DMA into the accesses the region
 * behind takes (4 bytes), and QEMU's SMMUv3 records an event for each:
 * the records of the same transaction (same type, StreamID, direction,
 * address in it) are taken too. Returns how many there were.
 */
static unsigned expect_event(Smmu *t, uint8_t type, uint32_t sid,
                             int64_t addr, int rnw)
{
    SmmuEvent e, next;
    unsigned n = 1;

    g_assert(smmu_guest_take_event(t->g, &e));
    if (e.type != type) {
        g_error("event %s (0x%x), expected %s", smmu_event_name(e.type),
                e.type, smmu_event_name(type));
    }
    g_assert_cmphex(e.sid, ==, sid);
    g_assert_false(e.ssv);
    if (addr >= 0) {
        g_assert_cmphex(e.addr, ==, addr);
    }
    if (rnw >= 0) {
        g_assert_cmpint(e.rnw, ==, rnw);
    }
    while (smmu_guest_peek_event(t->g, &next) && next.type == e.type &&
           next.sid == e.sid && next.rnw == e.rnw &&
           next.addr >= e.addr && next.addr < e.addr + LEN) {
        smmu_guest_take_event(t->g, &next);
        n++;
    }
    return n;
}

static void expect_no_event(Smmu *t)
{
    g_assert_cmpuint(smmu_guest_events_pending(t->g), ==, 0);
}

/*
 * Behind QEMU 10.0's SMMUv3 an assigned device reaches nothing: the
 * SMMUv3 refuses the MAP notifier that shadowing needs ("requires iommu
 * MAP notifier which is not currently supported"), so its IOAS stays
 * empty whatever the guest programs, and the emulated host refuses every
 * DMA without an SMMUv3 event (the host's fault is not the guest's).
 * This is the baseline that nesting changes: the /sim-assign/ cases
 * check it is still what happens, and name it, instead of asserting the
 * translation results a guest would want.
 */
static bool baseline_no_dma(Smmu *t, int i, uint64_t addr)
{
    if (!t->assigned) {
        return false;
    }
    dma_refused(t, i, addr);
    g_assert_cmpint(dma_reads(t, i, addr), ==, -1);
    expect_no_event(t);
    return true;
}

/* ---- cases ---- */

static void test_bypass(const void *opaque)
{
    Smmu t;
    uint64_t gpa;

    smmu_init(&t, opaque);
    gpa = page(&t);
    /* Reset: SMMUEN = 0, GBPA bypass: DMA goes where it says. */
    if (!baseline_no_dma(&t, 0, gpa)) {
        dma_lands(&t, 0, gpa, gpa, 0x11);
    }
    smmu_guest_set_gbpa(t.g, true);
    dma_refused(&t, 0, gpa);

    smmu_guest_enable(t.g, true);
    smmu_guest_ste_bypass(t.g, SID(0));
    if (!baseline_no_dma(&t, 0, gpa)) {
        dma_lands(&t, 0, gpa, gpa, 0x22);
        /* The abort STE of the other device: refused, no event. */
        smmu_guest_ste_abort(t.g, SID(1));
        dma_refused(&t, 1, gpa);
        expect_no_event(&t);
    }
    smmu_fini(&t);
}

static void test_s1(const void *opaque)
{
    Smmu t;
    SmmuCtx *c;
    uint64_t gpa[2];

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    gpa[0] = page(&t);
    gpa[1] = page(&t);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, gpa[0], PAGE, SMMU_PROT_RW);
    smmu_ctx_map(c, IOVA + PAGE, gpa[1], PAGE, SMMU_PROT_RW);
    if (!baseline_no_dma(&t, 0, IOVA)) {
        dma_lands(&t, 0, IOVA, gpa[0], 0x31);
        dma_lands(&t, 0, IOVA + PAGE, gpa[1], 0x32);
        fill(&t, gpa[1], 0x5a);
        g_assert_cmpint(dma_reads(&t, 0, IOVA + PAGE), ==, 0x5a);
        /* Device 1 has no STE yet (V = 0): C_BAD_STE. */
        dma_refused(&t, 1, IOVA);
        expect_event(&t, SMMU_EVT_C_BAD_STE, SID(1), -1, -1);
        expect_no_event(&t);
    }
    smmu_fini(&t);
}

static void test_unmapped(const void *opaque)
{
    Smmu t;
    SmmuCtx *c;

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    c = smmu_guest_ste_s1(t.g, SID(1), 0, ASID);
    smmu_ctx_map(c, IOVA, page(&t), PAGE, SMMU_PROT_RW);
    if (!baseline_no_dma(&t, 1, IOVA + PAGE)) {
        /* A write at an unmapped IOVA (RnW = 0), then a read (RnW = 1) */
        dma_refused(&t, 1, IOVA + PAGE + 0x40);
        expect_event(&t, SMMU_EVT_F_TRANSLATION, SID(1),
                     IOVA + PAGE + 0x40, 0);
        g_assert_cmpint(dma_reads(&t, 1, IOVA + 3 * PAGE), ==, -1);
        expect_event(&t, SMMU_EVT_F_TRANSLATION, SID(1), IOVA + 3 * PAGE,
                     1);
        expect_no_event(&t);
    }
    smmu_fini(&t);
}

static void test_readonly(const void *opaque)
{
    Smmu t;
    SmmuCtx *c;
    uint64_t gpa;
    bool landed;

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    gpa = page(&t);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_READ);
    if (!baseline_no_dma(&t, 0, IOVA)) {
        fill(&t, gpa, 0x66);
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x66);
        g_assert_cmphex(dma_write(&t, 0, IOVA, gpa, 0x41, &landed), ==,
                        REFUSED);
        g_assert_false(landed);
        expect_event(&t, SMMU_EVT_F_PERMISSION, SID(0), IOVA, 0);
        expect_no_event(&t);
    }
    smmu_fini(&t);
}

/* How the stale translation is invalidated. */
enum {
    INV_NH_VA,
    INV_NH_ASID,
    INV_NH_ALL,
    INV_NSNH_ALL,
    INV_COUNT
};

static const char *const inv_names[INV_COUNT] = {
    "tlbi-nh-va", "tlbi-nh-asid", "tlbi-nh-all", "tlbi-nsnh-all",
};

static void test_stale(const void *opaque)
{
    const Case *cs = opaque;
    Smmu t;
    SmmuCtx *c;
    uint64_t old, new;
    uint64_t cmd[2];

    smmu_init(&t, cs);
    smmu_guest_enable(t.g, true);
    old = page(&t);
    new = page(&t);
    fill(&t, old, 0x01);
    fill(&t, new, 0x02);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, old, PAGE, SMMU_PROT_RW);
    if (baseline_no_dma(&t, 0, IOVA)) {
        smmu_fini(&t);
        return;
    }
    /* The SMMU caches the walk. */
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    smmu_ctx_map(c, IOVA, new, PAGE, SMMU_PROT_RW);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);

    switch (cs->variant) {
    case INV_NH_VA:
        /* Another page or another ASID does not do it. */
        g_assert(smmu_guest_tlbi_nh_va(t.g, ASID, IOVA + PAGE));
        g_assert(smmu_guest_tlbi_nh_va(t.g, ASID + 1, IOVA));
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
        smmu_cmd_tlbi_nh_va(cmd, ASID, IOVA);
        break;
    case INV_NH_ASID:
        g_assert(smmu_guest_tlbi_nh_asid(t.g, ASID + 1));
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
        smmu_cmd_tlbi_nh_asid(cmd, ASID);
        break;
    case INV_NH_ALL:
        smmu_cmd_op(cmd, SMMU_CMD_TLBI_NH_ALL);
        break;
    case INV_NSNH_ALL:
        smmu_cmd_op(cmd, SMMU_CMD_TLBI_NSNH_ALL);
        break;
    default:
        g_assert_not_reached();
    }
    /* Queued, not yet consumed: still stale. */
    smmu_guest_cmd_queue(t.g, cmd);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    g_assert(smmu_guest_sync(t.g));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);

    /* Unmapped and invalidated: refused. */
    smmu_ctx_unmap(c, IOVA, PAGE);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);
    g_assert(smmu_guest_tlbi_nh_va(t.g, ASID, IOVA));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, -1);
    expect_event(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA, 1);
    smmu_fini(&t);
}

/* An STE change takes effect at CFGI_STE, not before. */
static void test_ste_cfgi(const void *opaque)
{
    Smmu t;
    uint64_t gpa, ste[8] = { 0 };

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    gpa = page(&t);
    smmu_guest_ste_bypass(t.g, SID(0));
    if (!baseline_no_dma(&t, 0, gpa)) {
        dma_lands(&t, 0, gpa, gpa, 0x51);
        smmu_guest_ste_read(t.g, SID(0), ste);
        ste[0] = 1;                 /* V, Config abort */
        smmu_guest_ste_raw(t.g, SID(0), ste);
        dma_lands(&t, 0, gpa, gpa, 0x52);
        g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
        dma_refused(&t, 0, gpa);
        expect_no_event(&t);
    }
    smmu_fini(&t);
}

/* A CD change (new ASID, new tables) takes effect at CFGI_CD. */
static void test_cd_cfgi(const void *opaque)
{
    Smmu t;
    SmmuCtx *c;
    uint64_t old, new;

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    old = page(&t);
    new = page(&t);
    fill(&t, old, 0x01);
    fill(&t, new, 0x02);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, old, PAGE, SMMU_PROT_RW);
    if (!baseline_no_dma(&t, 0, IOVA)) {
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
        c = smmu_guest_cd_write(t.g, SID(0), 0, ASID + 1);
        smmu_ctx_map(c, IOVA, new, PAGE, SMMU_PROT_RW);
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
        /* Another StreamID's CD: still the old one */
        g_assert(smmu_guest_cfgi_cd(t.g, SID(1), 0));
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
        g_assert(smmu_guest_cfgi_cd(t.g, SID(0), 0));
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);
        expect_no_event(&t);
    }
    smmu_fini(&t);
}

static void test_bad_ste(const void *opaque)
{
    Smmu t;
    uint64_t ste[8] = { 0 };

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    if (!baseline_no_dma(&t, 0, IOVA)) {
        /* V = 0 */
        smmu_guest_ste_raw(t.g, SID(0), ste);
        g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
        dma_refused(&t, 0, IOVA);
        expect_event(&t, SMMU_EVT_C_BAD_STE, SID(0), -1, -1);
        /*
         * virt's SMMUv3 has both stages (10.0: stage=nested, IDR0.S2P
         * and S1P): stage-2 translate with S2T0SZ = 0, below the
         * minimum for a 4 KiB granule. (S2AA64 = 0 would be as bad, but
         * QEMU 10.0 aborts on it: g_assert_not_reached() in
         * decode_ste_s2_cfg(), a guest-triggerable crash.)
         */
        g_test_message("IDR0 0x%x", smmu_guest_readl(t.g, SMMU_IDR0));
        ste[0] = 1 | 6 << 1;
        ste[2] = 1ULL << 51;        /* S2AA64 */
        smmu_guest_ste_raw(t.g, SID(1), ste);
        g_assert(smmu_guest_cfgi_ste(t.g, SID(1)));
        g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, -1);
        expect_event(&t, SMMU_EVT_C_BAD_STE, SID(1), -1, -1);
        expect_no_event(&t);
    }
    smmu_fini(&t);
}

/* An unknown command: CERROR_ILL at its index, later ones not run. */
static void test_cmd_error(const void *opaque)
{
    Smmu t;
    SmmuCtx *c;
    uint64_t old, new, cmd[2];
    unsigned index, first;

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    old = page(&t);
    new = page(&t);
    fill(&t, old, 0x01);
    fill(&t, new, 0x02);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, old, PAGE, SMMU_PROT_RW);
    if (!baseline_no_dma(&t, 0, IOVA)) {
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    }
    smmu_ctx_map(c, IOVA, new, PAGE, SMMU_PROT_RW);

    smmu_guest_cmdq_error(t.g, &first);
    smmu_cmd_op(cmd, 0x7f);                 /* no such command */
    smmu_guest_cmd_queue(t.g, cmd);
    smmu_cmd_tlbi_nh_va(cmd, ASID, IOVA);
    smmu_guest_cmd_queue(t.g, cmd);
    g_assert_false(smmu_guest_sync(t.g));
    g_assert_cmpuint(smmu_guest_cmdq_error(t.g, &index), ==,
                     SMMU_CERROR_ILL);
    g_assert_cmpuint(index, ==, first);
    if (!t.assigned) {
        /* The TLBI after it did not run. */
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    }
    smmu_guest_cmdq_recover(t.g);
    g_assert(smmu_guest_sync(t.g));
    if (!t.assigned) {
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);
    }
    smmu_fini(&t);
}

/*
 * SubstreamIDs: CD @ssid selected by a PASID-tagged request. QEMU 10.0's
 * SMMUv3 advertises none (IDR1.SSIDSIZE = 0) and takes an STE with
 * S1CDMax != 0 as C_BAD_STE; vnest-dma-test issues PASID-tagged requests
 * only when assigned. Checked when both are there.
 */
static void test_ssid(const void *opaque)
{
    Smmu t;
    SmmuCtx *c0, *c1;
    uint64_t gpa[2], ste[8];
    unsigned ssidsize;

    smmu_init(&t, opaque);
    smmu_guest_enable(t.g, true);
    ssidsize = (smmu_guest_readl(t.g, SMMU_IDR1) >> 6) & 0x1f;
    if (!ssidsize) {
        /* What the STE of a SubstreamID-capable driver gets today */
        c0 = smmu_guest_ste_s1(t.g, SID(0), 1, ASID);
        if (!baseline_no_dma(&t, 0, IOVA)) {
            smmu_ctx_map(c0, IOVA, page(&t), PAGE, SMMU_PROT_RW);
            dma_refused(&t, 0, IOVA);
            expect_event(&t, SMMU_EVT_C_BAD_STE, SID(0), -1, -1);
        }
        smmu_guest_ste_read(t.g, SID(0), ste);
        g_assert_cmpuint(ste[0] >> 59, ==, 1);
        smmu_fini(&t);
        g_test_skip("the SMMUv3 has no SubstreamIDs (IDR1.SSIDSIZE = 0)");
        return;
    }
    if (!t.assigned) {
        smmu_fini(&t);
        g_test_skip("vnest-dma-test tags requests only when assigned");
        return;
    }
    dmadev_pasid_enable(&t.dev[0], true);
    gpa[0] = page(&t);
    gpa[1] = page(&t);
    c0 = smmu_guest_ste_s1(t.g, SID(0), 2, ASID);
    smmu_ctx_map(c0, IOVA, gpa[0], PAGE, SMMU_PROT_RW);
    c1 = smmu_guest_cd(t.g, SID(0), 1, ASID + 1);
    smmu_ctx_map(c1, IOVA, gpa[1], PAGE, SMMU_PROT_RW);
    fill(&t, gpa[0], 0x10);
    fill(&t, gpa[1], 0x11);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x10);
    g_assert_cmphex(dmadev_from_mem(&t.dev[0], 1, IOVA, LEN), ==,
                    DMADEV_STATUS_DONE);
    smmu_fini(&t);
}

static void add(const char *name, void (*fn)(const void *), bool assigned,
                bool two_level, int variant)
{
    Case *c = g_new0(Case, 1);
    g_autofree char *path = g_strdup_printf("/vnest/smmu-dma/%s%s%s",
                                            assigned ? "sim-assign/" : "",
                                            name, two_level ? "-2lvl" : "");

    c->assigned = assigned;
    c->two_level = two_level;
    c->variant = variant;
    qtest_add_data_func_full(path, c, fn, g_free);
}

int main(int argc, char **argv)
{
    int a, i;

    g_test_init(&argc, &argv, NULL);
    for (a = 0; a < 2; a++) {
        add("bypass", test_bypass, a, false, 0);
        add("s1", test_s1, a, false, 0);
        add("s1", test_s1, a, true, 0);
        add("unmapped", test_unmapped, a, false, 0);
        add("readonly", test_readonly, a, true, 0);
        for (i = 0; i < INV_COUNT; i++) {
            g_autofree char *n = g_strdup_printf("stale/%s", inv_names[i]);

            add(n, test_stale, a, false, i);
        }
        add("ste-cfgi", test_ste_cfgi, a, false, 0);
        add("cd-cfgi", test_cd_cfgi, a, true, 0);
        add("bad-ste", test_bad_ste, a, false, 0);
        add("cmd-error", test_cmd_error, a, false, 0);
        add("ssid", test_ssid, a, false, 0);
    }
    return g_test_run();
}
