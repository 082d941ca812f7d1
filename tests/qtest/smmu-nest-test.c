/*
 * VNest qtest: arm-smmuv3 nesting (accel=on) on the emulated host
 *
 * -M virt,iommu=smmuv3 -global arm-smmuv3.accel=on, two vnest-dma-test
 * devices assigned through the emulated host (host-iommu=smmuv3). The
 * test is the guest's SMMUv3 driver (smmu-guest.c); the emulated host
 * walks the guest's CD and stage-1 tables through the nest parent, so a
 * DMA landing where the guest's tables say proves the STE reached the
 * host as a nested HWPT. The x-nest-* counters of the SMMU show how many
 * host calls each guest change took: one nested HWPT and attach per STE
 * change, none when unchanged, one IOMMU_HWPT_INVALIDATE per CMD_SYNC.
 *
 * A DMA the host refuses is an event on the vIOMMU's vEVENTQ, which the
 * SMMU writes into the guest's event queue with the guest's StreamID:
 * the events cases check the record, PROD, the event interrupt (latched
 * by the GIC, the SPI configured edge-triggered), and the overflow flag
 * for events the host lost and for a full guest queue.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-malloc.h"
#include "tests/qtest/libqos/generic-pcihost.h"
#include "smmu-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512 * MiB)
#define ECAM_BASE       0x4010000000ULL
#define NDEV            2
#define DEVFN(i)        QPCI_DEVFN(2 + (i), 0)
#define SID(i)          DEVFN(i)
#define LEN             256
#define IOVA            0x80000000ULL
#define PAGE            4096ULL
#define REFUSED         DMADEV_REFUSED
#define ASID            7

/* -M virt (GICv2 with one CPU): the distributor, the SMMU's EVTQ SPI */
#define GICD_BASE       0x08000000ULL
#define GICD_ISPENDR    0x200
#define GICD_ICPENDR    0x280
#define GICD_ICFGR      0xc00
#define EVTQ_INTID      (74 + 32)       /* virt's SMMU SPI 74: EVTQ */

typedef struct Nest {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    SmmuGuest *g;
    DmaTestDev dev[NDEV];
    char *smmu;                 /* QOM path of the SMMUv3 */
} Nest;

/* virt's SMMUv3 (iommu=smmuv3) */
static char *find_smmu(QTestState *qts)
{
    return vnest_qom_find_child(qts, "/machine/unattached", "arm-smmuv3");
}

/*
 * Device 0 assigned; device 1 too unless @mixed (then emulated); @extra:
 * more QEMU options.
 */
static void nest_init_opts(Nest *t, bool mixed, const char *extra)
{
    int i;

    t->qts = qtest_initf("-M virt,iommu=smmuv3 -cpu max -m 512M -nodefaults "
                         "-global arm-smmuv3.accel=on %s "
                         "-object iommufd,id=emu0,emulated=on,"
                         "host-iommu=smmuv3 "
                         "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                         "device=dma0 "
                         "%s"
                         "-device vnest-dma-test,id=dma0,addr=02.0 "
                         "-device vnest-dma-test,id=dma1,addr=03.0",
                         extra, mixed ? "" : "-object vnest-sim-assign,id=sa1,"
                         "iommufd=emu0,device=dma1 ");
    alloc_init(&t->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&t->pci, t->qts, &t->alloc, false);
    for (i = 0; i < NDEV; i++) {
        dmadev_open(&t->dev[i], t->qts, &t->pci.bus, DEVFN(i));
        dmadev_set_ecam(&t->dev[i], ECAM_BASE);
    }
    t->g = smmu_guest_new(t->qts, &t->alloc, SMMU_VIRT_BASE, false);
    t->smmu = find_smmu(t->qts);
}

static void nest_init_mixed(Nest *t, bool mixed)
{
    nest_init_opts(t, mixed, "");
}

static void nest_init(Nest *t)
{
    nest_init_mixed(t, false);
}

/* -global arm-smmuv3.x-inv-per-cmd=on: upstream's one call a command */
#define PER_CMD "-global arm-smmuv3.x-inv-per-cmd=on"

static void nest_fini(Nest *t)
{
    int i;

    smmu_guest_free(t->g);
    for (i = 0; i < NDEV; i++) {
        dmadev_close(&t->dev[i]);
    }
    alloc_destroy(&t->alloc);
    g_free(t->smmu);
    qtest_quit(t->qts);
}

static uint64_t nstat(Nest *t, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-nest-%s", name);

    return vnest_qom_get_uint(t->qts, t->smmu, prop);
}

static uint64_t page(Nest *t)
{
    return guest_alloc(&t->alloc, PAGE);
}

static void fill(Nest *t, uint64_t gpa, uint8_t val)
{
    qtest_memset(t->qts, gpa, val, PAGE);
}

/* Device @i writes a pattern to @addr: does it land at @gpa? */
static void dma_lands(Nest *t, int i, uint64_t addr, uint64_t gpa,
                      uint8_t seed)
{
    dmadev_assert_lands(&t->dev[i], DMADEV_NO_PASID, addr, gpa, LEN, seed);
}

static void dma_refused(Nest *t, int i, uint64_t addr)
{
    dmadev_assert_refused(&t->dev[i], DMADEV_NO_PASID, addr, LEN);
}

/* Device @i reads @addr: the first byte it saw (-1: refused). */
static int dma_reads(Nest *t, int i, uint64_t addr)
{
    return dmadev_read_first(&t->dev[i], DMADEV_NO_PASID, addr, LEN);
}

/* The next record is @type from @sid: returned for more checks */
static SmmuEvent expect_event(Nest *t, uint8_t type, uint32_t sid)
{
    SmmuEvent e;

    g_assert(smmu_guest_take_event(t->g, &e));
    if (e.type != type) {
        g_error("event %s (0x%x), expected %s", smmu_event_name(e.type),
                e.type, smmu_event_name(type));
    }
    g_assert_cmphex(e.sid, ==, sid);
    return e;
}

static void expect_no_event(Nest *t)
{
    g_assert_cmpuint(smmu_guest_events_pending(t->g), ==, 0);
}

/* The next record: @type from @sid for an access to @addr (@read) */
static void expect_fault(Nest *t, uint8_t type, uint32_t sid, uint64_t addr,
                         bool read)
{
    SmmuEvent e = expect_event(t, type, sid);

    g_assert_cmphex(e.addr, ==, addr);
    g_assert_cmpint(e.rnw, ==, read);
    g_assert_false(e.s2);
    g_assert_false(e.ssv);
}

/*
 * The main loop reads the host's vEVENTQ: wait until it gave @n event
 * records in all since QEMU started.
 */
static void wait_host_events(Nest *t, uint64_t n)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (nstat(t, "host_events") < n) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(1000);
    }
    g_assert_cmpuint(nstat(t, "host_events"), ==, n);
}

static void vm_run(Nest *t, bool run)
{
    qtest_qmp_assert_success(t->qts, run ? "{ 'execute': 'cont' }"
                                         : "{ 'execute': 'stop' }");
}

/* ---- the event interrupt, as the GIC latches it ---- */

static uint64_t gicd_bit(unsigned reg, unsigned bits, uint32_t *mask)
{
    *mask = 1u << (EVTQ_INTID * bits % 32);
    return GICD_BASE + reg + EVTQ_INTID * bits / 32 * 4;
}

static void irq_clear(Nest *t)
{
    uint32_t mask;
    uint64_t reg = gicd_bit(GICD_ICPENDR, 1, &mask);

    qtest_writel(t->qts, reg, mask);
}

static bool irq_pending(Nest *t)
{
    uint32_t mask;
    uint64_t reg = gicd_bit(GICD_ISPENDR, 1, &mask);

    return qtest_readl(t->qts, reg) & mask;
}

/*
 * The EVTQ SPI edge-triggered (so the GIC latches a pulse as pending),
 * not pending, and the SMMU's event interrupt enabled.
 */
static void irq_watch(Nest *t)
{
    uint32_t mask;
    uint64_t reg = gicd_bit(GICD_ICFGR, 2, &mask);

    qtest_writel(t->qts, reg, qtest_readl(t->qts, reg) | mask << 1);
    irq_clear(t);
    smmu_guest_writel(t->g, SMMU_IRQ_CTRL, SMMU_IRQ_CTRL_EVTQ_IRQEN);
}

/* ---- cases ---- */

/* One vIOMMU for the SMMU, a vDEVICE per device, a vSTE each at plug. */
static void test_plug(void)
{
    Nest t;
    QDict *rsp;

    nest_init(&t);
    g_assert_cmpuint(nstat(&t, "viommus"), ==, 1);
    g_assert_cmpuint(nstat(&t, "vdevices"), ==, NDEV);
    g_assert_cmpuint(nstat(&t, "attaches"), ==, NDEV);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    /* The guest is offered stage 1 only (IDR0.S2P clear, S1P set). */
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_IDR0) & 3, ==, 2);
    /*
     * Migration is refused (the SMMU's blocker, and each sim-assigned
     * device's own: the last added is the one QMP names)
     */
    rsp = qtest_qmp(t.qts, "{ 'execute': 'migrate', 'arguments': "
                    "{ 'uri': 'exec:cat >/dev/null' } }");
    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    nest_fini(&t);
}

/* SMMUEN = 0: GBPA; then bypass and abort STEs. */
static void test_bypass(void)
{
    Nest t;
    uint64_t gpa, attaches;

    nest_init(&t);
    gpa = page(&t);
    dma_lands(&t, 0, gpa, gpa, 0x11);
    attaches = nstat(&t, "attaches");
    smmu_guest_set_gbpa(t.g, true);
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches + NDEV);
    dma_refused(&t, 0, gpa);
    smmu_guest_set_gbpa(t.g, false);
    dma_lands(&t, 0, gpa, gpa, 0x12);

    smmu_guest_enable(t.g, true);
    smmu_guest_ste_bypass(t.g, SID(0));
    dma_lands(&t, 0, gpa, gpa, 0x22);
    smmu_guest_ste_abort(t.g, SID(1));
    dma_refused(&t, 1, gpa);
    expect_no_event(&t);
    /* SMMUEN off again: GBPA (bypass) for both */
    smmu_guest_write_cr0(t.g, smmu_guest_readl(t.g, SMMU_CR0) &
                         ~SMMU_CR0_SMMUEN);
    dma_lands(&t, 1, gpa, gpa, 0x23);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/* DMA lands where the guest's CD and stage-1 tables say. */
static void test_s1(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t gpa[2], ste[8];

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    gpa[0] = page(&t);
    gpa[1] = page(&t);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, gpa[0], PAGE, SMMU_PROT_RW);
    smmu_ctx_map(c, IOVA + PAGE, gpa[1], PAGE, SMMU_PROT_RW);
    dma_lands(&t, 0, IOVA, gpa[0], 0x31);
    dma_lands(&t, 0, IOVA + PAGE, gpa[1], 0x32);
    fill(&t, gpa[1], 0x5a);
    g_assert_cmpint(dma_reads(&t, 0, IOVA + PAGE), ==, 0x5a);
    /*
     * Fields the host owns (SHCFG, MEV, STRW; stage-2 words) are not the
     * kernel's to take from a vSTE: the STE still nests.
     */
    smmu_guest_ste_read(t.g, SID(0), ste);
    ste[1] |= 1ULL << 44 | 1ULL << 19 | 2ULL << 30;
    ste[2] |= 0x20;
    smmu_guest_ste_raw(t.g, SID(0), ste);
    g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
    dma_lands(&t, 0, IOVA, gpa[0], 0x33);
    /* Device 1 has no STE (V = 0): the host aborts, no event. */
    dma_refused(&t, 1, IOVA);
    /* Unmapped, and untranslated addresses: refused by the host */
    dma_refused(&t, 0, IOVA + 2 * PAGE);
    dma_refused(&t, 0, gpa[0]);
    wait_host_events(&t, 2);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA + 2 * PAGE, false);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), gpa[0], false);
    expect_no_event(&t);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/*
 * A nested device's interrupt message goes through the guest's own stage 1
 * (QEMU's SMMUv3 walks it) to the doorbell the guest mapped there; device
 * 1's ADDR_LO register stands for the ITS's GITS_TRANSLATER. The host's
 * stage 2 holds guest RAM only: a message the host translated would be
 * refused.
 */
static void test_msi(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t doorbell, value;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    doorbell = dmadev_addr_reg(&t.dev[1], &value);
    g_assert_cmphex(value, ==, 0);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, doorbell & ~(PAGE - 1), PAGE, SMMU_PROT_RW);
    dmadev_msi_enable(&t.dev[0], IOVA + (doorbell & (PAGE - 1)), 0x4d5e);
    g_assert_cmpuint(dmadev_msi_send(&t.dev[0]), ==, 1);
    dmadev_addr_reg(&t.dev[1], &value);
    g_assert_cmphex(value, ==, 0x4d5e);
    /* Unmapped by the guest: QEMU's SMMUv3 faults it, nothing lands */
    dmadev_msi_enable(&t.dev[0], IOVA + PAGE, 0x1111);
    g_assert_cmpuint(dmadev_msi_send(&t.dev[0]), ==, 2);
    dmadev_addr_reg(&t.dev[1], &value);
    g_assert_cmphex(value, ==, 0x4d5e);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/*
 * A CD with a reserved IPS (6) behind a nested device: its DMA is the
 * host's (refused, a bad CD), and its interrupt message, which QEMU's
 * SMMUv3 translates, must not reach QEMU 10.0's CD decoder (it aborts on
 * it): refused with C_BAD_CD, nothing lands.
 */
static void test_msi_bad_cd(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t doorbell, value, ste[8], cdptr, cd0;
    SmmuEvent e;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    doorbell = dmadev_addr_reg(&t.dev[1], &value);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, doorbell & ~(PAGE - 1), PAGE, SMMU_PROT_RW);
    smmu_guest_ste_read(t.g, SID(0), ste);
    cdptr = ste[0] & 0x000fffffffffffc0ULL;
    cd0 = qtest_readq(t.qts, cdptr);
    qtest_writeq(t.qts, cdptr, (cd0 & ~(7ULL << 32)) | 6ULL << 32);
    g_assert(smmu_guest_cfgi_cd(t.g, SID(0), 0));
    dmadev_msi_enable(&t.dev[0], IOVA + (doorbell & (PAGE - 1)), 0x5e);
    g_assert_cmpuint(dmadev_msi_send(&t.dev[0]), ==, 1);
    dmadev_addr_reg(&t.dev[1], &value);
    g_assert_cmphex(value, ==, 0);
    g_assert(smmu_guest_take_event(t.g, &e));
    g_assert_cmphex(e.type, ==, SMMU_EVT_C_BAD_CD);
    g_assert_cmphex(e.sid, ==, SID(0));
    nest_fini(&t);
}

static void test_readonly(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t gpa;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    gpa = page(&t);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_READ);
    fill(&t, gpa, 0x66);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x66);
    /* A write through a read-only page: refused, memory untouched */
    dma_refused(&t, 0, IOVA);
    g_assert_cmpint(qtest_readb(t.qts, gpa), ==, 0x66);
    /* The guest physical address is not an IOVA here */
    g_assert_cmpint(dma_reads(&t, 0, gpa), ==, -1);
    nest_fini(&t);
}

/*
 * An STE change takes effect at CFGI_STE (stale before), with one attach;
 * an unchanged STE costs no host call, whatever invalidates it.
 */
static void test_ste_cfgi(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t gpa, ste[8] = { 0 }, attaches, allocs;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    gpa = page(&t);
    fill(&t, gpa, 0x44);
    smmu_guest_ste_bypass(t.g, SID(0));
    dma_lands(&t, 0, gpa, gpa, 0x51);

    attaches = nstat(&t, "attaches");
    allocs = nstat(&t, "hwpt_allocs");
    smmu_guest_ste_read(t.g, SID(0), ste);
    ste[0] = 1;                 /* V, Config abort */
    smmu_guest_ste_raw(t.g, SID(0), ste);
    dma_lands(&t, 0, gpa, gpa, 0x52);
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches);
    g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
    dma_refused(&t, 0, gpa);
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches + 1);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, allocs + 1);

    /* Unchanged: no host call (CFGI_STE, CFGI_ALL) */
    g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
    {
        uint64_t cmd[2];

        smmu_cmd_op(cmd, SMMU_CMD_CFGI_ALL);
        cmd[1] = 31;            /* Range: all StreamIDs */
        smmu_guest_cmd_queue(t.g, cmd);
        g_assert(smmu_guest_sync(t.g));
    }
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches + 1);

    /* Stage 1: stale (abort) until CFGI_STE, then translated */
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches + 2);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    fill(&t, gpa, 0x44);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x44);
    /* Another device's STE changes nothing for this one. */
    smmu_guest_ste_bypass(t.g, SID(1));
    g_assert_cmpuint(nstat(&t, "attaches"), ==, attaches + 3);
    expect_no_event(&t);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/* Bad STEs: the architected event, abort, never the host, never a crash */
static void test_bad_ste(void)
{
    Nest t;
    uint64_t ste[8] = { 0 }, gpa, events;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    gpa = page(&t);
    smmu_guest_ste_bypass(t.g, SID(0));
    dma_lands(&t, 0, gpa, gpa, 0x61);

    /* Stage 2 translate with S2AA64 = 0: QEMU's decoder would abort */
    ste[0] = 1 | 6 << 1;
    smmu_guest_ste_raw(t.g, SID(0), ste);
    g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
    expect_event(&t, SMMU_EVT_C_BAD_STE, SID(0));
    dma_refused(&t, 0, gpa);
    /* Reported once per change: CFGI_STE again raises nothing. */
    events = nstat(&t, "guest_events");
    g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
    g_assert_cmpuint(nstat(&t, "guest_events"), ==, events);
    expect_no_event(&t);

    /* Nested config, reserved config */
    ste[0] = 1 | 7 << 1;
    smmu_guest_ste_raw(t.g, SID(0), ste);
    g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
    expect_event(&t, SMMU_EVT_C_BAD_STE, SID(0));
    ste[0] = 1 | 1 << 1;
    smmu_guest_ste_raw(t.g, SID(1), ste);
    g_assert(smmu_guest_cfgi_ste(t.g, SID(1)));
    expect_event(&t, SMMU_EVT_C_BAD_STE, SID(1));
    dma_refused(&t, 1, gpa);

    /* S1 with more CDs than SSIDSIZE offers */
    if (!((smmu_guest_readl(t.g, SMMU_IDR1) >> 6) & 0x1f)) {
        smmu_guest_ste_s1(t.g, SID(1), 1, ASID);
        expect_event(&t, SMMU_EVT_C_BAD_STE, SID(1));
    }
    expect_no_event(&t);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);

    /* Back to a good STE */
    smmu_guest_ste_bypass(t.g, SID(0));
    dma_lands(&t, 0, gpa, gpa, 0x62);
    nest_fini(&t);
}

/* Reset: the host follows the guest back to GBPA bypass. */
static void test_reset(void)
{
    Nest t;
    uint64_t gpa;
    QDict *rsp;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    gpa = page(&t);
    smmu_guest_ste_abort(t.g, SID(0));
    dma_refused(&t, 0, gpa);
    rsp = qtest_qmp(t.qts, "{ 'execute': 'system_reset' }");
    qobject_unref(rsp);
    qtest_qmp_eventwait(t.qts, "RESET");
    /* Bus mastering is off after reset: the device needs it back. */
    dmadev_close(&t.dev[0]);
    dmadev_open(&t.dev[0], t.qts, &t.pci.bus, DEVFN(0));
    dmadev_set_ecam(&t.dev[0], ECAM_BASE);
    dma_lands(&t, 0, gpa, gpa, 0x71);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
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

/*
 * S1 translation of device 0 at IOVA to a page holding 0x01, then the
 * mapping changed to one holding 0x02 without an invalidation: the host's
 * IOTLB keeps the old one. Returns the context.
 */
static SmmuCtx *stale_setup(Nest *t)
{
    SmmuCtx *c;
    uint64_t old = page(t), new = page(t);

    smmu_guest_enable(t->g, true);
    fill(t, old, 0x01);
    fill(t, new, 0x02);
    c = smmu_guest_ste_s1(t->g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, old, PAGE, SMMU_PROT_RW);
    g_assert_cmpint(dma_reads(t, 0, IOVA), ==, 0x01);
    smmu_ctx_map(c, IOVA, new, PAGE, SMMU_PROT_RW);
    g_assert_cmpint(dma_reads(t, 0, IOVA), ==, 0x01);
    return c;
}

/* Stale until the TLBI and its CMD_SYNC, fresh after: one host call. */
static void test_stale(const void *opaque)
{
    int variant = GPOINTER_TO_INT(opaque);
    Nest t;
    SmmuCtx *c;
    uint64_t cmd[2], calls;

    nest_init(&t);
    c = stale_setup(&t);
    calls = nstat(&t, "inv_calls");
    switch (variant) {
    case INV_NH_VA:
        /* Another page or another ASID does not do it. */
        g_assert(smmu_guest_tlbi_nh_va(t.g, ASID, IOVA + PAGE));
        g_assert(smmu_guest_tlbi_nh_va(t.g, ASID + 1, IOVA));
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
        calls += 2;
        smmu_cmd_tlbi_nh_va(cmd, ASID, IOVA);
        break;
    case INV_NH_ASID:
        g_assert(smmu_guest_tlbi_nh_asid(t.g, ASID + 1));
        g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
        calls++;
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
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls);
    /* Queued, not yet consumed: still stale. */
    smmu_guest_cmd_queue(t.g, cmd);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    g_assert(smmu_guest_sync(t.g));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + 1);

    /* Unmapped and invalidated: refused. */
    smmu_ctx_unmap(c, IOVA, PAGE);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);
    g_assert(smmu_guest_tlbi_nh_va(t.g, ASID, IOVA));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, -1);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/* A CD change (new ASID, new tables) takes effect at CFGI_CD. */
static void test_cd_cfgi(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t gpa;

    nest_init(&t);
    stale_setup(&t);
    gpa = page(&t);
    fill(&t, gpa, 0x03);
    c = smmu_guest_cd_write(t.g, SID(0), 0, ASID + 1);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    /* Another StreamID's CD: still the old one */
    g_assert(smmu_guest_cfgi_cd(t.g, SID(1), 0));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    g_assert(smmu_guest_cfgi_cd(t.g, SID(0), 0));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x03);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/* All commands up to a CMD_SYNC: ONE host call; none for an empty SYNC */
static void test_batch(const void *per_cmd)
{
    Nest t;
    uint64_t cmd[2], calls, entries;
    int i;

    nest_init_opts(&t, false, per_cmd ? PER_CMD : "");
    stale_setup(&t);
    calls = nstat(&t, "inv_calls");
    entries = nstat(&t, "inv_entries");
    g_assert(smmu_guest_sync(t.g));
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls);
    for (i = 0; i < 4; i++) {
        smmu_cmd_tlbi_nh_va(cmd, ASID, IOVA + (3 - i) * PAGE);
        smmu_guest_cmd_queue(t.g, cmd);
    }
    smmu_cmd_cfgi_cd(cmd, SID(0), 0);
    smmu_guest_cmd_queue(t.g, cmd);
    /* Not a nested StreamID: QEMU's alone, the host would refuse it */
    smmu_cmd_cfgi_cd(cmd, 0x42, 0);
    smmu_guest_cmd_queue(t.g, cmd);
    g_assert(smmu_guest_sync(t.g));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);
    /* ONE call for the five; x-inv-per-cmd: one each */
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + (per_cmd ? 5 : 1));
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries + 5);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/*
 * A command the host refuses (reserved bits set): CERROR_ILL with CONS at
 * it; the commands before it were done, those after it were not.
 */
static void test_partial(const void *per_cmd)
{
    Nest t;
    uint64_t cmd[2], calls;
    unsigned first, index;

    nest_init_opts(&t, false, per_cmd ? PER_CMD : "");
    stale_setup(&t);
    calls = nstat(&t, "inv_calls");
    smmu_guest_cmdq_error(t.g, &first);
    smmu_cmd_tlbi_nh_va(cmd, ASID + 1, IOVA);
    smmu_guest_cmd_queue(t.g, cmd);
    smmu_cmd_op(cmd, SMMU_CMD_TLBI_NH_ALL);
    cmd[1] = 0xdead0000;                /* RES0 */
    smmu_guest_cmd_queue(t.g, cmd);
    smmu_cmd_tlbi_nh_va(cmd, ASID, IOVA);
    smmu_guest_cmd_queue(t.g, cmd);
    g_assert_false(smmu_guest_sync(t.g));
    g_assert_cmpuint(smmu_guest_cmdq_error(t.g, &index), ==,
                     SMMU_CERROR_ILL);
    g_assert_cmpuint(index, ==, first + 1);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 1);
    /* per command: the good one, the refused one, none after it */
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + (per_cmd ? 2 : 1));
    /* The TLBI after it did not run: stale. */
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x01);
    /* The guest skips it (it becomes a CMD_SYNC) and goes on. */
    smmu_guest_cmdq_recover(t.g);
    g_assert(smmu_guest_sync(t.g));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x02);
    nest_fini(&t);
}

/* Number the secondary bus of the root port at @devfn and route MMIO. */
static void root_port_number(QPCIBus *bus, int devfn, uint8_t nr)
{
    QPCIDevice *rp = qpci_device_find(bus, devfn);

    g_assert(rp);
    qpci_config_writeb(rp, PCI_PRIMARY_BUS, 0);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, nr);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, nr);
    /* The whole 32-bit window of -M virt's generic host bridge */
    qpci_config_writew(rp, PCI_MEMORY_BASE, 0x1000);
    qpci_config_writew(rp, PCI_MEMORY_LIMIT, 0x2ef0);
    qpci_config_writew(rp, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_free(rp);
}

/*
 * An assigned device behind a root port: its bus number, so its
 * StreamID, is the guest's to give. The vDEVICE waits for it (none at
 * plug, with bus number 0), takes the guest's StreamID once the guest
 * numbered the bus (the host then takes CFGI_CD for it), and follows when
 * the guest renumbers it.
 */
static void test_bridge(void)
{
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    SmmuGuest *g;
    DmaTestDev dev;
    SmmuCtx *c;
    g_autofree char *smmu = NULL;
    uint64_t gpa, entries, objs, vdevs;
    QPCIDevice *rp;
    uint8_t exp;
    int port = QPCI_DEVFN(4, 0);

    qts = qtest_init("-M virt,iommu=smmuv3 -cpu max -m 512M -nodefaults "
                     "-global arm-smmuv3.accel=on "
                     "-object iommufd,id=emu0,emulated=on,host-iommu=smmuv3 "
                     "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                     "device=dma0 "
                     "-device pcie-root-port,id=rp0,bus=pcie.0,addr=04.0,"
                     "chassis=1 "
                     "-device vnest-dma-test,id=dma0,bus=rp0,addr=00.0");
    smmu = find_smmu(qts);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-vdevices"), ==, 0);
    alloc_init(&alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&pci, qts, &alloc, false);
    root_port_number(&pci.bus, port, 1);
    /* ECAM: bus 1 is devfn 0x100 on */
    dmadev_open(&dev, qts, &pci.bus, 0x100);
    g = smmu_guest_new(qts, &alloc, SMMU_VIRT_BASE, true);
    smmu_guest_enable(g, true);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-vdevices"), ==, 1);
    gpa = guest_alloc(&alloc, PAGE);
    c = smmu_guest_ste_s1(g, 0x100, 0, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    dmadev_assert_lands(&dev, DMADEV_NO_PASID, IOVA, gpa, LEN, 0x61);
    /* The host knows StreamID 0x100: CFGI_CD for it is taken */
    entries = vnest_qom_get_uint(qts, smmu, "x-nest-inv_entries");
    c = smmu_guest_cd(g, 0x100, 0, ASID + 1);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-inv_entries"), ==,
                     entries + 1);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    dmadev_assert_lands(&dev, DMADEV_NO_PASID, IOVA, gpa, LEN, 0x62);

    /* Renumbered: a new vDEVICE, the STE at the new StreamID applies */
    root_port_number(&pci.bus, port, 2);
    c = smmu_guest_ste_s1(g, 0x200, 0, ASID + 2);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-vdevices"), ==, 2);
    dmadev_assert_refused(&dev, DMADEV_NO_PASID, IOVA, LEN);
    smmu_ctx_map(c, IOVA + PAGE, gpa, PAGE, SMMU_PROT_RW);
    dmadev_assert_lands(&dev, DMADEV_NO_PASID, IOVA + PAGE, gpa, LEN, 0x63);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-host_errors"), ==,
                     0);

    /*
     * The guest powers the slot off: the device goes, and the host lets
     * go of everything it held for it; renumbering the bus afterwards
     * makes no vDEVICE for a device that is not there.
     */
    objs = vnest_qom_get_uint(qts, "/objects/emu0", "x-objects");
    rp = qpci_device_find(&pci.bus, port);
    exp = qpci_find_capability(rp, PCI_CAP_ID_EXP, 0);
    g_assert(exp);
    qpci_config_writew(rp, exp + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PWR_OFF |
                       PCI_EXP_SLTCTL_PWR_IND_OFF |
                       PCI_EXP_SLTCTL_ATTN_IND_OFF);
    g_free(rp);
    g_assert_cmpuint(vnest_qom_get_uint(qts, "/objects/emu0", "x-objects"),
                     <, objs);
    vdevs = vnest_qom_get_uint(qts, smmu, "x-nest-vdevices");
    root_port_number(&pci.bus, port, 3);
    smmu_guest_ste_s1(g, 0x300, 0, ASID + 3);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-vdevices"), ==,
                     vdevs);
    smmu_guest_free(g);
    dmadev_close(&dev);
    alloc_destroy(&alloc);
    qtest_quit(qts);
}

/*
 * Two root ports the guest gives one bus number: two devices claim
 * StreamID 0x100, the host refuses the second vDEVICE. Reported once,
 * retried only when the guest acts again (one host call per guest write,
 * not three), and followed once the guest fixes the numbering.
 */
static void test_sid_clash(void)
{
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    SmmuGuest *g;
    DmaTestDev dev;
    SmmuCtx *c;
    g_autofree char *smmu = NULL;
    uint64_t gpa, errors;
    uint32_t cr0;
    int i;

    qts = qtest_init("-M virt,iommu=smmuv3 -cpu max -m 512M -nodefaults "
                     "-global arm-smmuv3.accel=on "
                     "-object iommufd,id=emu0,emulated=on,host-iommu=smmuv3 "
                     "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                     "device=dma0 "
                     "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                     "device=dma1 "
                     "-device pcie-root-port,id=rp0,bus=pcie.0,addr=04.0,"
                     "chassis=1 "
                     "-device pcie-root-port,id=rp1,bus=pcie.0,addr=05.0,"
                     "chassis=2 "
                     "-device vnest-dma-test,id=dma0,bus=rp0,addr=00.0 "
                     "-device vnest-dma-test,id=dma1,bus=rp1,addr=00.0");
    smmu = find_smmu(qts);
    alloc_init(&alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&pci, qts, &alloc, false);
    root_port_number(&pci.bus, QPCI_DEVFN(4, 0), 1);
    dmadev_open(&dev, qts, &pci.bus, 0x100);
    root_port_number(&pci.bus, QPCI_DEVFN(5, 0), 1);
    g = smmu_guest_new(qts, &alloc, SMMU_VIRT_BASE, true);
    smmu_guest_enable(g, true);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-vdevices"), ==, 1);
    errors = vnest_qom_get_uint(qts, smmu, "x-nest-host_errors");
    g_assert_cmpuint(errors, >=, 1);
    cr0 = smmu_guest_readl(g, SMMU_CR0);
    for (i = 0; i < 3; i++) {
        smmu_guest_write_cr0(g, cr0 & ~SMMU_CR0_SMMUEN);
        smmu_guest_write_cr0(g, cr0);
    }
    /* one retry per guest write at most (three each before) */
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-host_errors"),
                     <=, errors + 6);
    /* Fixed: the second port's bus is 2, its device StreamID 0x200 */
    root_port_number(&pci.bus, QPCI_DEVFN(5, 0), 2);
    smmu_guest_ste_s1(g, 0x200, 0, ASID + 1);
    g_assert_cmpuint(vnest_qom_get_uint(qts, smmu, "x-nest-vdevices"), ==, 2);
    /* the first device still translates as its guest says */
    gpa = guest_alloc(&alloc, PAGE);
    c = smmu_guest_ste_s1(g, 0x100, 0, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    dmadev_assert_lands(&dev, DMADEV_NO_PASID, IOVA, gpa, LEN, 0x64);
    smmu_guest_free(g);
    dmadev_close(&dev);
    alloc_destroy(&alloc);
    qtest_quit(qts);
}

/* S1Fmt is ignored with one CD (S1CDMax 0): such an STE nests */
static void test_s1fmt_ignored(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t gpa, ste[8];

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    gpa = page(&t);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    smmu_guest_ste_read(t.g, SID(0), ste);
    ste[0] |= 3ULL << 4;                /* S1Fmt 3: reserved if used */
    smmu_guest_ste_raw(t.g, SID(0), ste);
    g_assert(smmu_guest_cfgi_ste(t.g, SID(0)));
    dma_lands(&t, 0, IOVA, gpa, 0x65);
    expect_no_event(&t);
    nest_fini(&t);
}

static void fail_nth(Nest *t, uint64_t nth)
{
    vnest_qom_set_uint(t->qts, "/objects/emu0", "x-fail-nth", nth);
}

/* A sync the host may refuse: the guest skips the command and goes on. */
static void sync_or_recover(Nest *t)
{
    if (!smmu_guest_sync(t->g)) {
        g_assert_cmpuint(smmu_guest_cmdq_error(t->g, NULL), ==,
                         SMMU_CERROR_ILL);
        smmu_guest_cmdq_recover(t->g);
        g_assert(smmu_guest_sync(t->g));
    }
}

/*
 * STE installs and changes, CD and TLB invalidations, SMMUEN and GBPA,
 * with the Nth host operation failing, for every N the scenario reaches:
 * QEMU carries on, the guest sees architected errors only (CERROR_ILL),
 * a device whose STE the host could not follow is blocked, never
 * translated wrongly, and once the guest turns the SMMU off again the
 * emulated host holds exactly what it held after plug (nothing leaked).
 * Returns false once N is beyond the scenario's host operations.
 */
static bool failnth_round(unsigned nth)
{
    Nest t;
    SmmuCtx *c;
    uint64_t base, gpa, cmd[2];
    g_autofree char *site = NULL;
    uint32_t sts, cr0;
    bool landed;

    nest_init(&t);
    base = vnest_qom_get_uint(t.qts, "/objects/emu0", "x-objects");
    gpa = page(&t);
    smmu_guest_enable(t.g, true);
    fail_nth(&t, nth);
    /* SMMUEN off and on: every nested STE followed again */
    cr0 = smmu_guest_readl(t.g, SMMU_CR0);
    smmu_guest_write_cr0(t.g, cr0 & ~SMMU_CR0_SMMUEN);
    smmu_guest_write_cr0(t.g, cr0);
    c = smmu_guest_ste_s1(t.g, SID(0), 1, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    smmu_guest_ste_bypass(t.g, SID(1));
    smmu_guest_cd_write(t.g, SID(0), 1, ASID + 1);
    smmu_cmd_cfgi_cd(cmd, SID(0), 1);
    smmu_guest_cmd_queue(t.g, cmd);
    smmu_cmd_tlbi_nh_va(cmd, ASID, IOVA);
    smmu_guest_cmd_queue(t.g, cmd);
    sync_or_recover(&t);
    smmu_guest_ste_abort(t.g, SID(1));
    smmu_guest_set_gbpa(t.g, true);
    site = vnest_qom_get_str(t.qts, "/objects/emu0", "x-fail-site");
    fail_nth(&t, 0);
    if (*site) {
        g_test_message("fail-nth %u hit %s", nth, site);
    }
    /* Translated as the guest says, or blocked: never anywhere else */
    sts = dmadev_write_pattern(&t.dev[0], DMADEV_NO_PASID, IOVA, gpa, LEN,
                               0x77, &landed);
    g_assert_true(sts == DMADEV_STATUS_DONE || sts == REFUSED);
    g_assert_true(landed == (sts == DMADEV_STATUS_DONE));
    /* SMMUEN=0, GBPA back to bypass: the plug-time objects, no more */
    smmu_guest_set_gbpa(t.g, false);
    smmu_guest_enable(t.g, false);
    g_assert_cmpuint(vnest_qom_get_uint(t.qts, "/objects/emu0", "x-objects"),
                     ==, base);
    dma_lands(&t, 0, gpa, gpa, 0x78);
    dma_lands(&t, 1, gpa, gpa, 0x79);
    nest_fini(&t);
    return *site != 0;
}

/*
 * Plug-time setup with the Nth host operation failing, counted from the
 * emulated host's connect (x-fail-nth on the command line): binding,
 * the IOAS and its maps, the nest parent, the vIOMMU, vEVENTQ, vDEVICE,
 * the first vSTE. Each N: QEMU refuses to start with an error naming
 * what failed (exit 1, no crash), or starts (a failed vEVENTQ or vSTE
 * does not stop it); never a leak reported. Stops at the first N the
 * setup does not reach.
 */
static void test_failnth_plug(void)
{
    unsigned nth, refused = 0;

    for (nth = 1; nth < 100; nth++) {
        g_autofree char *args = NULL, *out = NULL, *err = NULL;
        int status;

        args = g_strdup_printf("-M virt,iommu=smmuv3 -cpu max -m 512M "
                               "-nodefaults -global arm-smmuv3.accel=on "
                               "-object iommufd,id=emu0,emulated=on,"
                               "host-iommu=smmuv3,x-fail-nth=%u "
                               "-object vnest-sim-assign,id=sa0,"
                               "iommufd=emu0,device=dma0 "
                               "-device vnest-dma-test,id=dma0,addr=02.0",
                               nth);
        status = vnest_run_qemu(args, "{\"execute\": \"qom-get\", "
                                "\"arguments\": {\"path\": \"/objects/emu0\", "
                                "\"property\": \"x-fail-site\"}}\n"
                                "{\"execute\": \"quit\"}", &out, &err);
        /* Nothing leaked, nothing left behind that cannot be freed */
        g_assert_false(strstr(err, "leaked"));
        g_assert_false(strstr(err, "Failed to free"));
        g_assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status)) {
            /* Refused at startup: one clean error, naming the device */
            g_assert_cmpint(WEXITSTATUS(status), ==, 1);
            g_assert_nonnull(strstr(err, "dma0"));
            g_assert_nonnull(strstr(err, "Cannot allocate memory"));
            refused++;
            continue;
        }
        /* Started: the assignment itself went through entirely */
        g_assert_false(strstr(err, "vnest-sim-assign"));
        g_assert_nonnull(strstr(out, "\"return\""));
        if (strstr(out, "{\"return\": \"\"}")) {
            break;              /* the setup never reached the Nth */
        }
        /* Reached and absorbed: never silently */
        g_assert_nonnull(strstr(err, "Cannot allocate memory"));
        g_test_message("fail-nth %u: QEMU starts, err: %s", nth, err);
    }
    g_assert_cmpuint(nth, <, 100);
    /* bind, IOAS, maps, parent, vIOMMU, vDEVICE... refuse the plug */
    g_assert_cmpuint(refused, >, 4);
}

static void test_failnth(void)
{
    unsigned nth;

    for (nth = 1; failnth_round(nth); nth++) {
        g_assert_cmpuint(nth, <, 100);
    }
    /* At least alloc, attach, free, invalidate on the way were hit */
    g_assert_cmpuint(nth, >, 6);
}

/*
 * The event record of a bad STE, reported while the SMMU runs the guest's
 * CFGI_STE, written where the guest put its event queue: here a device's
 * MSI doorbell register, so writing it sends an interrupt message through
 * this same SMMU (the emulated device's, and the nested one's, which
 * QEMU's SMMUv3 translates). The SMMU must take it without deadlocking
 * on itself; the record was written (the message was sent).
 */
static void test_event_reentry(const void *opaque)
{
    int victim = GPOINTER_TO_INT(opaque), other = !victim;
    Nest t;
    uint64_t ste[8] = { 1 | 6 << 1 };         /* S2: bad here */
    uint64_t regs, doorbell, value;

    nest_init_mixed(&t, victim == 1);
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_bypass(t.g, SID(victim));
    /* The victim's MSI goes to the other device's ADDR_LO (bypass). */
    doorbell = dmadev_addr_reg(&t.dev[other], &value);
    dmadev_msi_enable(&t.dev[victim], doorbell, 0x4e);
    /* The event queue (2 records) at the victim's registers: MSI in #1 */
    regs = dmadev_addr_reg(&t.dev[victim], &value) & ~0xfffULL;
    smmu_guest_write_cr0(t.g, SMMU_CR0_CMDQEN | SMMU_CR0_SMMUEN);
    qtest_writeq(t.qts, SMMU_VIRT_BASE + 0xa0, regs | 1);
    smmu_guest_writel(t.g, SMMU_EVTQ_PROD, 1);
    smmu_guest_writel(t.g, SMMU_EVTQ_CONS, 1);
    smmu_guest_write_cr0(t.g, SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN |
                         SMMU_CR0_SMMUEN);
    smmu_guest_ste_raw(t.g, SID(other), ste);
    g_assert(smmu_guest_cfgi_ste(t.g, SID(other)));
    /* The record was written: the victim sent its message, it landed */
    g_assert_cmpuint(dmadev_msi_send(&t.dev[victim]), ==, 2);
    dmadev_addr_reg(&t.dev[other], &value);
    g_assert_cmphex(value, ==, 0x4e);
    nest_fini(&t);
}

/*
 * An emulated device behind the same accel=on SMMUv3 keeps QEMU's own
 * translation (and its events), next to a nested one.
 */
static void test_mixed(void)
{
    Nest t;
    SmmuCtx *c0, *c1;
    uint64_t gpa[2];
    SmmuEvent e;

    nest_init_mixed(&t, true);
    g_assert_cmpuint(nstat(&t, "vdevices"), ==, 1);
    smmu_guest_enable(t.g, true);
    gpa[0] = page(&t);
    gpa[1] = page(&t);
    c0 = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c0, IOVA, gpa[0], PAGE, SMMU_PROT_RW);
    c1 = smmu_guest_ste_s1(t.g, SID(1), 0, ASID + 1);
    smmu_ctx_map(c1, IOVA, gpa[1], PAGE, SMMU_PROT_RW);
    dma_lands(&t, 0, IOVA, gpa[0], 0x81);
    dma_lands(&t, 1, IOVA, gpa[1], 0x82);
    /* QEMU's SMMUv3 reports the emulated device's fault itself */
    irq_watch(&t);
    dma_refused(&t, 1, IOVA + PAGE);
    g_assert_true(irq_pending(&t));
    g_assert(smmu_guest_take_event(t.g, &e));
    g_assert_cmphex(e.type, ==, SMMU_EVT_F_TRANSLATION);
    g_assert_cmphex(e.sid, ==, SID(1));
    smmu_guest_drain_events(t.g);
    /* The nested one's comes from the host's vEVENTQ */
    dma_refused(&t, 0, IOVA + PAGE);
    wait_host_events(&t, 1);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA + PAGE, false);
    expect_no_event(&t);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/* ---- host events ---- */

/*
 * DMAs the host refuses: the host's record in the guest's queue, with
 * the guest's StreamID and address, PROD advanced, the event interrupt
 * (none while IRQ_CTRL.EVENTQ_IRQEN is clear).
 */
static void test_events(void)
{
    Nest t;
    SmmuCtx *c;
    uint64_t gpa;
    uint32_t prod;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    irq_watch(&t);
    gpa = page(&t);
    c = smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_READ);
    c = smmu_guest_ste_s1(t.g, SID(1), 0, ASID + 1);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    dma_lands(&t, 1, IOVA, gpa, 0x91);
    g_assert_false(irq_pending(&t));
    prod = smmu_guest_readl(t.g, SMMU_EVTQ_PROD);

    /* Device 1 writes where its stage 1 has no page */
    dma_refused(&t, 1, IOVA + 3 * PAGE);
    wait_host_events(&t, 1);
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_EVTQ_PROD), ==, prod + 1);
    g_assert_true(irq_pending(&t));
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(1), IOVA + 3 * PAGE, false);
    /* Device 0 reads an unmapped page, writes its read-only one */
    irq_clear(&t);
    g_assert_cmpint(dma_reads(&t, 0, IOVA + PAGE), ==, -1);
    dma_refused(&t, 0, IOVA);
    wait_host_events(&t, 3);
    g_assert_true(irq_pending(&t));
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA + PAGE, true);
    expect_fault(&t, SMMU_EVT_F_PERMISSION, SID(0), IOVA, false);
    /* The event interrupt off: recorded, not signalled */
    smmu_guest_writel(t.g, SMMU_IRQ_CTRL, 0);
    irq_clear(&t);
    dma_refused(&t, 1, IOVA + 3 * PAGE);
    wait_host_events(&t, 4);
    g_assert_false(irq_pending(&t));
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(1), IOVA + 3 * PAGE, false);
    expect_no_event(&t);
    g_assert_false(smmu_guest_evtq_overflowed(t.g));
    g_assert_cmpuint(nstat(&t, "events"), ==, 4);
    g_assert_cmpuint(nstat(&t, "events_lost"), ==, 0);
    g_assert_cmpuint(nstat(&t, "events_bad"), ==, 0);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/*
 * The host's vEVENTQ (depth 2) overflows while the VM is stopped (QEMU
 * does not read it then): the two it kept reach the guest, the two it
 * lost are the guest's overflow (OVFLG), acknowledged once.
 */
static void test_events_lost(void)
{
    Nest t;
    int i;

    nest_init_opts(&t, false, "-global arm-smmuv3.x-nest-veventq-depth=2");
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    vm_run(&t, false);
    for (i = 0; i < 4; i++) {
        dma_refused(&t, 0, IOVA + i * PAGE);
    }
    g_assert_cmpuint(nstat(&t, "host_events"), ==, 0);
    expect_no_event(&t);
    vm_run(&t, true);
    wait_host_events(&t, 2);
    g_assert_cmpuint(nstat(&t, "events_lost"), ==, 2);
    g_assert_cmpuint(nstat(&t, "events_overflow"), ==, 0);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA, false);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA + PAGE, false);
    expect_no_event(&t);
    g_assert_true(smmu_guest_evtq_overflowed(t.g));
    smmu_guest_evtq_ack_overflow(t.g);
    g_assert_false(smmu_guest_evtq_overflowed(t.g));
    /* Room again: the next one arrives, no new overflow */
    dma_refused(&t, 0, IOVA + 5 * PAGE);
    wait_host_events(&t, 3);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA + 5 * PAGE, false);
    g_assert_false(smmu_guest_evtq_overflowed(t.g));
    g_assert_cmpuint(nstat(&t, "events_lost"), ==, 2);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/*
 * The guest's queue full: the events that do not fit are lost, OVFLG
 * toggles once for them (not back while the overflow is pending, and no
 * GERROR), the records in the queue are the first ones; after the guest
 * drained and acknowledged, events are recorded again. @opaque: the
 * events come from the host (device 0, nested), or from QEMU's own
 * translation (device 1, emulated) into the same queue.
 */
static void test_events_full(const void *opaque)
{
    bool emulated = GPOINTER_TO_INT(opaque);
    int dev = emulated ? 1 : 0;
    uint64_t from_host = emulated ? 0 : 1;
    Nest t;
    unsigned n, i;
    SmmuEvent e;

    nest_init_mixed(&t, emulated);
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_s1(t.g, SID(dev), 0, ASID);
    n = smmu_guest_evtq_entries(t.g);
    vm_run(&t, false);
    for (i = 0; i < n + 2; i++) {
        dma_refused(&t, dev, IOVA + i * PAGE);
    }
    vm_run(&t, true);
    wait_host_events(&t, (n + 2) * from_host);
    g_assert_cmpuint(smmu_guest_events_pending(t.g), ==, n);
    g_assert_true(smmu_guest_evtq_overflowed(t.g));
    g_assert_cmpuint(nstat(&t, "events"), ==, n * from_host);
    g_assert_cmpuint(smmu_guest_readl(t.g, SMMU_GERROR), ==, 0);
    /* QEMU records an event per translation a DMA asks for: several */
    if (emulated) {
        g_assert_cmpuint(nstat(&t, "events_overflow"), >=, 2);
        smmu_guest_drain_events(t.g);
    } else {
        g_assert_cmpuint(nstat(&t, "events_overflow"), ==, 2);
        for (i = 0; i < n; i++) {
            g_assert(smmu_guest_take_event(t.g, &e));
            g_assert_cmphex(e.addr, ==, IOVA + i * PAGE);
        }
    }
    smmu_guest_evtq_ack_overflow(t.g);
    dma_refused(&t, dev, IOVA);
    wait_host_events(&t, (n + 3) * from_host);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(dev), IOVA, false);
    g_assert_false(smmu_guest_evtq_overflowed(t.g));
    smmu_guest_drain_events(t.g);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

/* EVTQEN = 0: host events are discarded, no overflow either. */
static void test_events_off(void)
{
    Nest t;
    uint32_t cr0, prod;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    cr0 = smmu_guest_readl(t.g, SMMU_CR0);
    prod = smmu_guest_readl(t.g, SMMU_EVTQ_PROD);
    smmu_guest_write_cr0(t.g, cr0 & ~SMMU_CR0_EVTQEN);
    dma_refused(&t, 0, IOVA);
    wait_host_events(&t, 1);
    g_assert_cmpuint(nstat(&t, "events_discarded"), ==, 1);
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_EVTQ_PROD), ==, prod);
    smmu_guest_write_cr0(t.g, cr0);
    expect_no_event(&t);
    g_assert_false(smmu_guest_evtq_overflowed(t.g));
    /* On again: recorded */
    dma_refused(&t, 0, IOVA + PAGE);
    wait_host_events(&t, 2);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA + PAGE, false);
    g_assert_cmpuint(nstat(&t, "events"), ==, 1);
    nest_fini(&t);
}

/* The event queue is not in memory: GERROR.EVENTQ_ABT_ERR, no record. */
static void test_events_abort(void)
{
    Nest t;
    uint32_t cr0;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    cr0 = smmu_guest_readl(t.g, SMMU_CR0);
    smmu_guest_write_cr0(t.g, cr0 & ~SMMU_CR0_EVTQEN);
    /* 1 TiB: nothing there on this machine */
    smmu_guest_writel(t.g, SMMU_EVTQ_BASE, 7);
    smmu_guest_writel(t.g, SMMU_EVTQ_BASE + 4, 0x100);
    smmu_guest_write_cr0(t.g, cr0);
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_GERROR) ^
                    smmu_guest_readl(t.g, SMMU_GERRORN), ==, 0);
    dma_refused(&t, 0, IOVA);
    wait_host_events(&t, 1);
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_GERROR) ^
                    smmu_guest_readl(t.g, SMMU_GERRORN), ==,
                    SMMU_GERROR_EVTQ_ABT_ERR);
    g_assert_cmpuint(nstat(&t, "events"), ==, 0);
    g_assert_cmpuint(smmu_guest_readl(t.g, SMMU_EVTQ_PROD), ==, 0);
    nest_fini(&t);
}

/*
 * Reset: the vEVENTQ stays (it lives as long as the vIOMMU), the host
 * holds as many objects as before, and events reach the guest's queue
 * once it is set up again.
 */
static void test_events_reset(void)
{
    Nest t;
    uint64_t objs;
    QDict *rsp;

    nest_init(&t);
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    dma_refused(&t, 0, IOVA);
    wait_host_events(&t, 1);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA, false);
    objs = vnest_qom_get_uint(t.qts, "/objects/emu0", "x-objects");
    rsp = qtest_qmp(t.qts, "{ 'execute': 'system_reset' }");
    qobject_unref(rsp);
    qtest_qmp_eventwait(t.qts, "RESET");
    g_assert_cmpuint(vnest_qom_get_uint(t.qts, "/objects/emu0", "x-objects"),
                     ==, objs);
    dmadev_close(&t.dev[0]);
    dmadev_open(&t.dev[0], t.qts, &t.pci.bus, DEVFN(0));
    dmadev_set_ecam(&t.dev[0], ECAM_BASE);
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_s1(t.g, SID(0), 0, ASID);
    dma_refused(&t, 0, IOVA + PAGE);
    wait_host_events(&t, 2);
    expect_fault(&t, SMMU_EVT_F_TRANSLATION, SID(0), IOVA + PAGE, false);
    expect_no_event(&t);
    g_assert_cmpuint(vnest_qom_get_uint(t.qts, "/objects/emu0", "x-objects"),
                     ==, objs);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    nest_fini(&t);
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vnest/smmu-nest/plug", test_plug);
    qtest_add_func("/vnest/smmu-nest/bypass", test_bypass);
    qtest_add_func("/vnest/smmu-nest/s1", test_s1);
    qtest_add_func("/vnest/smmu-nest/msi", test_msi);
    qtest_add_func("/vnest/smmu-nest/msi-bad-cd", test_msi_bad_cd);
    qtest_add_func("/vnest/smmu-nest/readonly", test_readonly);
    qtest_add_func("/vnest/smmu-nest/ste-cfgi", test_ste_cfgi);
    qtest_add_func("/vnest/smmu-nest/bad-ste", test_bad_ste);
    qtest_add_func("/vnest/smmu-nest/reset", test_reset);
    for (i = 0; i < INV_COUNT; i++) {
        g_autofree char *path = g_strdup_printf("/vnest/smmu-nest/stale/%s",
                                                inv_names[i]);

        qtest_add_data_func(path, GINT_TO_POINTER(i), test_stale);
    }
    qtest_add_func("/vnest/smmu-nest/cd-cfgi", test_cd_cfgi);
    qtest_add_data_func("/vnest/smmu-nest/batch", NULL, test_batch);
    qtest_add_data_func("/vnest/smmu-nest/batch-per-cmd", "", test_batch);
    qtest_add_data_func("/vnest/smmu-nest/partial", NULL, test_partial);
    qtest_add_data_func("/vnest/smmu-nest/partial-per-cmd", "",
                        test_partial);
    qtest_add_func("/vnest/smmu-nest/mixed", test_mixed);
    qtest_add_data_func("/vnest/smmu-nest/event-reentry/nested",
                        GINT_TO_POINTER(0), test_event_reentry);
    qtest_add_data_func("/vnest/smmu-nest/event-reentry/emulated",
                        GINT_TO_POINTER(1), test_event_reentry);
    qtest_add_func("/vnest/smmu-nest/bridge", test_bridge);
    qtest_add_func("/vnest/smmu-nest/sid-clash", test_sid_clash);
    qtest_add_func("/vnest/smmu-nest/s1fmt-ignored", test_s1fmt_ignored);
    qtest_add_func("/vnest/smmu-nest/fail-nth", test_failnth);
    qtest_add_func("/vnest/smmu-nest/fail-nth-plug", test_failnth_plug);
    qtest_add_func("/vnest/smmu-nest/events", test_events);
    qtest_add_func("/vnest/smmu-nest/events-lost", test_events_lost);
    qtest_add_data_func("/vnest/smmu-nest/events-full/nested",
                        GINT_TO_POINTER(false), test_events_full);
    qtest_add_data_func("/vnest/smmu-nest/events-full/emulated",
                        GINT_TO_POINTER(true), test_events_full);
    qtest_add_func("/vnest/smmu-nest/events-off", test_events_off);
    qtest_add_func("/vnest/smmu-nest/events-abort", test_events_abort);
    qtest_add_func("/vnest/smmu-nest/events-reset", test_events_reset);
    return g_test_run();
}
