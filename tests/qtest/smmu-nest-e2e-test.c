/*
 * VNest qtest: one arm-smmuv3 nesting scenario, on either host
 *
 * The arm64 counterpart of vtd-nest-e2e-test (see vnest-e2e.h for the two
 * hosts): -M virt,iommu=smmuv3 with arm-smmuv3,accel=on and one
 * vnest-dma-test whose DMA the host SMMU translates through the guest's
 * stage 1 (a CD and AArch64 tables in guest memory, walked through the
 * host's stage 2). The steps, each asserted and logged: aborted before any
 * STE; a stage-1 STE, the DMA reads page A; remapped to page B without a
 * TLBI, still A (stale); after one TLBI_NH_ASID + CMD_SYNC (one host
 * invalidation call), B; a device write lands in B; unmapped and
 * invalidated, refused, and the fault reaches the guest's event queue with
 * the guest's StreamID (through the host's vEVENTQ); the STE set to abort,
 * refused; a new CD with another ASID, page C; no host error.
 *
 * On the emulated host this runs in make check. On a real kernel it needs
 * an aarch64 build of VNest's QEMU inside an arm64 guest whose SMMUv3
 * nests (guest profile aarch64-iommufd-nest's machine): not built yet.
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
#include "vnest-qtest.h"
#include "vnest-e2e.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512 * MiB)
#define ECAM_BASE       0x4010000000ULL
#define DEVFN           QPCI_DEVFN(2, 0)
#define SID             DEVFN
#define LEN             VNEST_E2E_LEN
#define IOVA            0x40000000ULL
#define PAGE            4096ULL
#define NOPASID         DMADEV_NO_PASID

#define E2E_EVENTS      "iommufd_backend_*,vnest_iommufd_*,vnest_host_dev_*," \
                        "vnest_smmu_ste,vnest_smmu_inv_send"

typedef struct E2e {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    SmmuGuest *g;
    DmaTestDev dev;
    char *smmu;
    FILE *log;
} E2e;

#define step(t, name, ...) vnest_e2e_step((t)->log, name, __VA_ARGS__)

static void e2e_init(E2e *t)
{
    g_autofree char *host = vnest_e2e_args("smmuv3", "addr=02.0",
                                           E2E_EVENTS);

    t->qts = qtest_initf("-M virt,iommu=smmuv3 -cpu max -m 512M -nodefaults "
                         "-global arm-smmuv3.accel=on %s", host);
    alloc_init(&t->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&t->pci, t->qts, &t->alloc, false);
    dmadev_open(&t->dev, t->qts, &t->pci.bus, DEVFN);
    dmadev_set_ecam(&t->dev, ECAM_BASE);
    t->g = smmu_guest_new(t->qts, &t->alloc, SMMU_VIRT_BASE, false);
    t->smmu = vnest_qom_find_child(t->qts, "/machine/unattached",
                                   "arm-smmuv3");
    smmu_guest_enable(t->g, true);
    t->log = vnest_e2e_log_open();
}

static void e2e_fini(E2e *t)
{
    vnest_e2e_log_close(t->log);
    smmu_guest_free(t->g);
    dmadev_close(&t->dev);
    alloc_destroy(&t->alloc);
    g_free(t->smmu);
    qtest_quit(t->qts);
}

static uint64_t nstat(E2e *t, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-nest-%s", name);

    return vnest_qom_get_uint(t->qts, t->smmu, prop);
}

/* The device reads IOVA: the first byte it saw, -1 when refused. */
static int dma_reads(E2e *t)
{
    return dmadev_read_first(&t->dev, NOPASID, IOVA, LEN);
}

/*
 * A refused DMA: what the device saw, and the event the guest's queue got
 * for it (the host reports it through the vEVENTQ, read from the main
 * loop: wait for it a little).
 */
static void refused(E2e *t, const char *name, bool want_event)
{
    SmmuEvent ev = { 0 };
    int seen = dma_reads(t), i;
    bool got = false;
    g_autofree char *what = NULL;

    /* Each qtest command lets QEMU's main loop run */
    for (i = 0; i < (want_event ? 2000 : 20) && !got; i++) {
        got = smmu_guest_take_event(t->g, &ev);
        if (!got) {
            g_usleep(1000);
        }
    }
    what = got ? g_strdup_printf("0x%02x sid=0x%x addr=0x%" PRIx64, ev.type,
                                 ev.sid, ev.addr) : g_strdup("none");
    step(t, name, "read=%d event=%s", seen, what);
    g_assert_cmpint(seen, ==, -1);
    if (want_event) {
        g_assert_true(got);
        g_assert_cmphex(ev.type, ==, SMMU_EVT_F_TRANSLATION);
        g_assert_cmphex(ev.sid, ==, SID);
        g_assert_cmphex(ev.addr, ==, IOVA);
    }
    smmu_guest_drain_events(t->g);
}

static void test_scenario(void)
{
    E2e t;
    uint64_t gpa_a, gpa_b, gpa_c, inv;
    SmmuCtx *c;

    e2e_init(&t);
    gpa_a = guest_alloc(&t.alloc, PAGE);
    gpa_b = guest_alloc(&t.alloc, PAGE);
    gpa_c = guest_alloc(&t.alloc, PAGE);
    vnest_e2e_fill(t.qts, gpa_a, 0xa0);
    vnest_e2e_fill(t.qts, gpa_b, 0xb0);
    vnest_e2e_fill(t.qts, gpa_c, 0xc0);

    /* SMMU on, the device's STE abort */
    smmu_guest_ste_abort(t.g, SID);
    g_assert_true(smmu_guest_cfgi_ste(t.g, SID));
    refused(&t, "abort", false);

    /* A stage-1 STE, one CD (ASID 1) mapping IOVA to page A */
    c = smmu_guest_ste_s1(t.g, SID, 0, 1);
    smmu_ctx_map(c, IOVA, gpa_a, PAGE, SMMU_PROT_RW);
    g_assert_true(smmu_guest_cfgi_ste(t.g, SID));
    step(&t, "ste-s1", "hwpt-allocs=%" PRIu64, nstat(&t, "hwpt_allocs"));
    vnest_e2e_reads(t.log, &t.dev, "dma-a", IOVA, 0xa0);

    /* Remapped without a TLBI: the host's TLB is stale */
    smmu_ctx_unmap(c, IOVA, PAGE);
    smmu_ctx_map(c, IOVA, gpa_b, PAGE, SMMU_PROT_RW);
    vnest_e2e_reads(t.log, &t.dev, "remap-stale", IOVA, 0xa0);
    inv = nstat(&t, "inv_calls");
    g_assert_true(smmu_guest_tlbi_nh_asid(t.g, 1));
    step(&t, "tlbi-asid", "host-calls=%" PRIu64, nstat(&t, "inv_calls") - inv);
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, inv + 1);
    vnest_e2e_reads(t.log, &t.dev, "remap-fresh", IOVA, 0xb0);

    /* A write lands where stage 1 says */
    vnest_e2e_write_lands(t.log, &t.dev, IOVA, gpa_b);

    /* Unmapped and invalidated: refused, the fault in the guest's EVTQ */
    smmu_ctx_unmap(c, IOVA, PAGE);
    g_assert_true(smmu_guest_tlbi_nh_asid(t.g, 1));
    refused(&t, "unmapped", true);

    /* The STE set to abort: the host's vSTE too, refused */
    smmu_guest_ste_abort(t.g, SID);
    g_assert_true(smmu_guest_cfgi_ste(t.g, SID));
    refused(&t, "ste-abort", false);

    /* A new stage-1 context (ASID 2) mapping page C */
    c = smmu_guest_ste_s1(t.g, SID, 0, 2);
    smmu_ctx_map(c, IOVA, gpa_c, PAGE, SMMU_PROT_RW);
    g_assert_true(smmu_guest_cfgi_ste(t.g, SID));
    vnest_e2e_reads(t.log, &t.dev, "rebind", IOVA, 0xc0);

    step(&t, "counters", "hwpt-allocs=%" PRIu64 " attaches=%" PRIu64
         " inv-calls=%" PRIu64 " host-errors=%" PRIu64,
         nstat(&t, "hwpt_allocs"), nstat(&t, "attaches"),
         nstat(&t, "inv_calls"), nstat(&t, "host_errors"));
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    e2e_fini(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vnest/smmu-nest-e2e/scenario", test_scenario);
    return g_test_run();
}
