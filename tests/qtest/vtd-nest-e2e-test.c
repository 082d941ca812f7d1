/*
 * VNest qtest: one intel-iommu nesting scenario, on either host
 *
 * The L2 side of the real-kernel end-to-end run (issue 11): q35 with
 * intel-iommu,x-scalable-mode=on,x-flts=on and one vnest-dma-test device
 * whose DMA the host IOMMU translates through the guest's first stage.
 * The host is either
 *
 *   - the emulated host (default): -object iommufd,emulated=on and
 *     vnest-sim-assign, as vtd-nest-test; or
 *   - a real kernel: VNEST_E2E_SYSFSDEV=/sys/bus/pci/devices/BDF names a
 *     vnest-dma-test bound to vfio-pci, and the real /dev/iommu is used
 *     (guest profile x86_64-vtd-nesting-host runs it inside a Linux 7.3
 *     guest whose VT-d is QEMU's intel-iommu,x-nested=on, so the kernel
 *     nests and QEMU's VT-d walks both stages).
 *
 * The same steps run on both, each written as "STEP: RESULT" to the file
 * VNEST_E2E_LOG names (if set) and asserted: DMA lands where the guest's
 * first stage says, stays stale after a remap until the PASID-based IOTLB
 * invalidation and is fresh after it, is refused when unmapped or when
 * the PASID entry is cleared, and lands again after a rebind. With
 * VNEST_E2E_TRACE=FILE, QEMU's iommufd calls and the nested HWPT and
 * invalidation payloads VNest sends go to FILE (trace events), for the
 * comparison of the two hosts' call sequences. Whether a
 * refused DMA raises a guest-visible fault record is logged, not
 * asserted: VNest reports one from the emulated host; Linux 7.3 reports
 * no nested DMA fault to user space, so on a real kernel there is none.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "vtd-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"
#include "vnest-e2e.h"

#define VTD_BASE        0xfed90000ULL
#define DEVFN           QPCI_DEVFN(4, 0)
#define SID             DEVFN               /* bus 0 */
#define IOMMU_PATH      "/machine/peripheral/iommu0"
#define LEN             VNEST_E2E_LEN
#define IOVA            0x40000000ULL
#define PAGE            4096ULL
#define NOPASID         DMADEV_NO_PASID

/* The host calls and the payloads VNest sends, for the comparison */
#define E2E_EVENTS      "iommufd_backend_*,vnest_iommufd_*,vnest_host_dev_*," \
                        "vnest_vtd_hwpt_alloc,vnest_vtd_inv_queue"

typedef struct E2e {
    QOSState *qs;
    QTestState *qts;
    VtdGuest *g;
    DmaTestDev dev;
    FILE *log;
} E2e;

static void e2e_init(E2e *t)
{
    g_autofree char *host = vnest_e2e_args("vtd", "addr=04.0", E2E_EVENTS);

    t->qs = qtest_pc_boot("-M q35 -m 128M -vga none -nodefaults "
                          "-device intel-iommu,id=iommu0,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on %s", host);
    t->qts = t->qs->qts;
    dmadev_open(&t->dev, t->qts, t->qs->pcibus, DEVFN);
    t->g = vtd_guest_new(t->qts, &t->qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(t->g);
    vtd_guest_enable(t->g);
    t->log = vnest_e2e_log_open();
}

static void e2e_fini(E2e *t)
{
    vnest_e2e_log_close(t->log);
    vtd_guest_free(t->g);
    dmadev_close(&t->dev);
    qtest_shutdown(t->qs);
}

#define step(t, name, ...) vnest_e2e_step((t)->log, name, __VA_ARGS__)

static uint64_t nstat(E2e *t, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-nest-%s", name);

    return vnest_qom_get_uint(t->qts, IOMMU_PATH, prop);
}

/* The device reads IOVA: the first byte it saw, -1 when refused. */
static int dma_reads(E2e *t)
{
    return dmadev_read_first(&t->dev, NOPASID, IOVA, LEN);
}

/* A refused DMA: what the device saw, and whether a fault was recorded */
static void refused(E2e *t, const char *name)
{
    VtdFault f;
    int seen = dma_reads(t);
    bool fault = vtd_guest_take_fault(t->g, &f);

    step(t, name, "read=%d", seen);
    step(t, "info", "%s fault-record=%s", name, fault ? "yes" : "no");
    g_assert_cmpint(seen, ==, -1);
    while (vtd_guest_take_fault(t->g, &f)) {
        /* one record per refused access */
    }
}

static void test_scenario(void)
{
    E2e t;
    uint64_t gpa_a, gpa_b, gpa_c, inv;
    VtdDomain *d;

    e2e_init(&t);
    gpa_a = guest_alloc(&t.qs->alloc, PAGE);
    gpa_b = guest_alloc(&t.qs->alloc, PAGE);
    gpa_c = guest_alloc(&t.qs->alloc, PAGE);
    vnest_e2e_fill(t.qts, gpa_a, 0xa0);
    vnest_e2e_fill(t.qts, gpa_b, 0xb0);
    vnest_e2e_fill(t.qts, gpa_c, 0xc0);

    /* Translation on, no PASID entry: blocked */
    refused(&t, "unbound");

    /* First stage bound for requests without PASID (RID_PASID 0) */
    d = vtd_guest_attach_pasid(t.g, SID, 0, VTD_PGTT_FIRST_STAGE, 1);
    vtd_domain_map(d, IOVA, gpa_a, PAGE, VTD_PROT_RW);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    step(&t, "bind", "hwpts=%" PRIu64, nstat(&t, "hwpts"));
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 1);
    vnest_e2e_reads(t.log, &t.dev, "dma-a", IOVA, 0xa0);

    /* Remapped without invalidation: the host's IOTLB is stale */
    vtd_domain_unmap(d, IOVA, PAGE);
    vtd_domain_map(d, IOVA, gpa_b, PAGE, VTD_PROT_RW);
    vnest_e2e_reads(t.log, &t.dev, "remap-stale", IOVA, 0xa0);
    inv = nstat(&t, "inv_calls");
    vtd_guest_inv_pasid(t.g, 1, 0);
    step(&t, "piotlb-inv", "host-calls=%" PRIu64, nstat(&t, "inv_calls") - inv);
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, inv + 1);
    vnest_e2e_reads(t.log, &t.dev, "remap-fresh", IOVA, 0xb0);

    /* A write lands where the first stage says */
    vnest_e2e_write_lands(t.log, &t.dev, IOVA, gpa_b);

    /* Unmapped and invalidated: refused */
    vtd_domain_unmap(d, IOVA, PAGE);
    vtd_guest_inv_pasid(t.g, 1, 0);
    refused(&t, "unmapped");

    /* PASID entry cleared: the host detaches, refused */
    vtd_domain_map(d, IOVA, gpa_c, PAGE, VTD_PROT_RW);
    vtd_guest_clear_pasid(t.g, SID, 0);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    step(&t, "clear", "hwpts=%" PRIu64, nstat(&t, "hwpts"));
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 0);
    refused(&t, "cleared");

    /* Rebound to a new domain */
    d = vtd_guest_attach_pasid(t.g, SID, 0, VTD_PGTT_FIRST_STAGE, 2);
    vtd_domain_map(d, IOVA, gpa_c, PAGE, VTD_PROT_RW);
    vtd_guest_inv_pasid_cache(t.g, 2, 0);
    vnest_e2e_reads(t.log, &t.dev, "rebind", IOVA, 0xc0);

    step(&t, "counters", "hwpt-allocs=%" PRIu64 " attaches=%" PRIu64
         " detaches=%" PRIu64 " host-errors=%" PRIu64,
         nstat(&t, "hwpt_allocs"), nstat(&t, "attaches"),
         nstat(&t, "detaches"), nstat(&t, "host_errors"));
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    e2e_fini(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vnest/vtd-nest-e2e/scenario", test_scenario);
    return g_test_run();
}
