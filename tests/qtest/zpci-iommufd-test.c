/*
 * VNest qtest: s390 zPCI RPCIT over iommufd on the emulated host
 *
 * -M s390-ccw-virtio, a vnest-dma-test device behind zpci, assigned
 * through the emulated host (host-iommu=paging, as s390 hosts are). The
 * test is the guest: it enables the function (CLP), builds region /
 * segment / page tables in guest memory, registers them (MPCIFC) and
 * refreshes (RPCIT). A qtest runs no guest code, so the instructions go
 * through the zpci device's x-insn property, which calls the same
 * service-call functions as the instruction handlers with the operands in
 * registers (hw/zpci-iommufd/zpci-insn-test.c). The device's DMA is
 * translated only by the emulated host's IOAS, so a DMA landing where the
 * guest's table says proves the refresh reached the host; the zpci
 * device's x-iommufd-* counters say how many host calls it took.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "tests/qtest/libqtest.h"
#include "zpci-guest.h"
#include "vnest-qtest.h"

/* N contiguous pages: one host map; DMA lands there and nowhere else */
static void test_contiguous(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 64; i++) {
        zpci_pte(&z, i, zpci_data(i), 0);
    }
    zpci_rpcit_ok(&z, 0, 64);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zpci_stat(&z, "map-pages"), ==, 64);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 1);
    zpci_assert_lands(&z, zpci_iova(0), zpci_data(0), 0x10);
    zpci_assert_lands(&z, zpci_iova(37) + 0x123, zpci_data(37) + 0x123, 0x20);
    zpci_assert_lands(&z, zpci_iova(63), zpci_data(63), 0x30);
    zpci_assert_refused(&z, zpci_iova(64));
    zpci_assert_refused(&z, zpci_iova(200));
    /* Unchanged pages cost nothing */
    zpci_rpcit_ok(&z, 0, 256);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zpci_stat(&z, "unmaps"), ==, 0);
    zpci_stop(&z);
}

/*
 * A whole-aperture refresh (Linux's lazy flush): the 63 invalid segment
 * entries are skipped, the one run costs one map
 */
static void test_whole_aperture(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 4; i++) {
        zpci_pte(&z, i, zpci_data(i), 0);
    }
    zpci_rpcit_ok(&z, 0, APERTURE / PAGE);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zpci_stat(&z, "map-pages"), ==, 4);
    zpci_assert_lands(&z, zpci_iova(3), zpci_data(3), 0xb0);
    /* Partly outside the aperture: clamped to it, the table beyond unread */
    qtest_writeq(z.qts, ST_ADDR + (((IOVA + APERTURE) >> 20) & 0x7ff) * 8,
                 PT_ADDR);
    zpci_rpcit_ok(&z, 0, 2 * APERTURE / PAGE);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 1);
    zpci_stop(&z);
}

/* A segment entry with FC: a 1 MiB frame is one map of 256 pages */
static void test_segment_frame(void)
{
    uint64_t frame = UINT64_C(0x1000000);
    Zpci z;

    zpci_start(&z, "");
    qtest_writeq(z.qts, ST_ADDR + (((IOVA >> 20) + 1) & 0x7ff) * 8,
                 frame | STE_FC);
    zpci_rpcit_ok(&z, 256, 256);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zpci_stat(&z, "map-pages"), ==, 256);
    zpci_assert_lands(&z, zpci_iova(256) + 0x5000, frame + 0x5000, 0xc0);
    zpci_assert_refused(&z, zpci_iova(512));
    zpci_stop(&z);
}

/* A range with unaligned ends refreshes each page it touches, whole */
static void test_unaligned_range(void)
{
    Zpci z;
    Insn r;

    zpci_start(&z, "");
    zpci_pte(&z, 0, zpci_data(0), 0);
    zpci_pte(&z, 1, zpci_data(1), 0);
    zpci_pte(&z, 2, zpci_data(2), 0);
    /* 0x1000 bytes from the middle of page 0: pages 0 and 1 */
    r = zpci_insn(&z, "rpcit 0x%" PRIx64 " 0x%" PRIx64 " 0x1000",
                  (uint64_t)z.fh << 32, IOVA + 0x800);
    g_assert_cmpuint(r.cc, ==, 0);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zpci_stat(&z, "map-pages"), ==, 2);
    zpci_assert_lands(&z, zpci_iova(1) + 0xff0, zpci_data(1) + 0xff0, 0xf0);
    zpci_assert_refused(&z, zpci_iova(2));
    /* A 1 MiB frame refreshed over an odd length */
    qtest_writeq(z.qts, ST_ADDR + (((IOVA >> 20) + 1) & 0x7ff) * 8,
                 UINT64_C(0x1000000) | STE_FC);
    r = zpci_insn(&z, "rpcit 0x%" PRIx64 " 0x%" PRIx64 " 0x1802",
                  (uint64_t)z.fh << 32, zpci_iova(256) + 0x7ff);
    g_assert_cmpuint(r.cc, ==, 0);
    g_assert_cmpuint(zpci_stat(&z, "map-pages"), ==, 2 + 3);
    zpci_stop(&z);
}

/* Scattered pages: one host map per run; read-only is its own run */
static void test_scattered(void)
{
    Zpci z;

    zpci_start(&z, "");
    zpci_pte(&z, 0, zpci_data(10), 0);
    zpci_pte(&z, 1, zpci_data(11), 0);
    zpci_pte(&z, 2, zpci_data(12), 0);
    zpci_pte(&z, 3, zpci_data(40), 0);            /* guest address jumps */
    zpci_pte(&z, 4, zpci_data(41), TE_PROTECTED); /* permission changes */
    zpci_pte(&z, 6, zpci_data(42), 0);            /* IOVA hole at 5 */
    zpci_rpcit_ok(&z, 0, 16);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 4);
    g_assert_cmpuint(zpci_stat(&z, "map-pages"), ==, 6);
    zpci_assert_lands(&z, zpci_iova(2), zpci_data(12), 0x40);
    zpci_assert_lands(&z, zpci_iova(3), zpci_data(40), 0x41);
    zpci_assert_refused(&z, zpci_iova(4));        /* read-only */
    zpci_assert_refused(&z, zpci_iova(5));
    zpci_assert_lands(&z, zpci_iova(6), zpci_data(42), 0x42);
    zpci_stop(&z);
}

/* Vanished runs: one host unmap for the group; DMA refused after */
static void test_unmap_coalesced(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 32; i++) {
        zpci_pte(&z, i, zpci_data(i * 2), 0);     /* 32 runs of one page */
    }
    zpci_rpcit_ok(&z, 0, 32);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 32);
    for (i = 0; i < 32; i++) {
        zpci_pte_clear(&z, i);
    }
    zpci_rpcit_ok(&z, 0, 32);
    g_assert_cmpuint(zpci_stat(&z, "unmaps"), ==, 1);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 0);
    zpci_assert_refused(&z, zpci_iova(0));
    zpci_assert_refused(&z, zpci_iova(31));
    zpci_stop(&z);
}

/* A changed translation is stale until refreshed, then replaced */
static void test_stale_until_refresh(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 8; i++) {
        zpci_pte(&z, i, zpci_data(i), 0);
    }
    zpci_rpcit_ok(&z, 0, 8);
    zpci_pte(&z, 3, zpci_data(100), 0);
    zpci_assert_lands(&z, zpci_iova(3), zpci_data(3), 0x50);       /* stale */
    zpci_rpcit_ok(&z, 3, 1);
    zpci_assert_lands(&z, zpci_iova(3), zpci_data(100), 0x51);
    /* The run left whole and its outer parts came back */
    zpci_assert_lands(&z, zpci_iova(2), zpci_data(2), 0x52);
    zpci_assert_lands(&z, zpci_iova(7), zpci_data(7), 0x53);
    g_assert_cmpuint(zpci_stat(&z, "unmaps"), ==, 1);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 1 + 3);
    zpci_stop(&z);
}

/* Host out of resources: insufficient resources, then a retry works */
static void test_enomem_retry(void)
{
    Zpci z;
    uint64_t objects;
    Insn r;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 16; i++) {
        zpci_pte(&z, i, zpci_data(i), 0);
    }
    objects = vnest_qom_get_uint(z.qts, EMU, "x-objects");
    vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", 1);
    r = zpci_rpcit(&z, 0, 16);
    g_assert_cmpuint(r.cc, ==, 1);
    g_assert_cmpuint(zpci_insn_status(r), ==, ST_INSUFF_RES);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 0);
    zpci_assert_refused(&z, zpci_iova(0));
    g_assert_cmpuint(vnest_qom_get_uint(z.qts, EMU, "x-objects"), ==,
                     objects);
    zpci_rpcit_ok(&z, 0, 16);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 1);
    zpci_assert_lands(&z, zpci_iova(15), zpci_data(15), 0x60);
    zpci_stop(&z);
}

/* Deregistration empties the IOAS of the function's mappings */
static void test_deregister(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 8; i++) {
        zpci_pte(&z, i, zpci_data(i), 0);
    }
    zpci_rpcit_ok(&z, 0, 8);
    zpci_assert_lands(&z, zpci_iova(1), zpci_data(1), 0x70);
    g_assert_cmpuint(zpci_mpcifc(&z, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 0);
    zpci_assert_refused(&z, zpci_iova(1));
    /* A new registration starts empty */
    zpci_register(&z);
    zpci_assert_refused(&z, zpci_iova(1));
    zpci_rpcit_ok(&z, 0, 8);
    zpci_assert_lands(&z, zpci_iova(1), zpci_data(1), 0x71);
    zpci_stop(&z);
}

/*
 * Bad guest input: each case breaks one thing the guest controls; the
 * RPCIT ends with the function in the error state (cc 1, status 8), no
 * host call is made, and the next RPCIT finds the function in error.
 */
typedef struct BadCase {
    const char *name;
    uint64_t addr;              /* guest address to overwrite, 0: none */
    uint64_t value;
    unsigned page, npages;      /* the refresh */
} BadCase;

#define RTE_SLOT        (RT_ADDR + (IOVA >> 31) * 8)
#define STE_SLOT        (ST_ADDR + ((IOVA >> 20) & 0x7ff) * 8)

static const BadCase bad_cases[] = {
    /* region-third entry: table length 0, offset not 0, type, zero */
    { "rte-length", RTE_SLOT, ST_ADDR | 0x4, 0, 1 },
    { "rte-offset", RTE_SLOT, ST_ADDR | RTE_RTX_FULL | 0x40, 0, 1 },
    { "rte-type", RTE_SLOT, ST_ADDR | 0x3, 0, 1 },
    { "rte-zero", RTE_SLOT, 0, 0, 1 },
    /* a segment table beyond guest RAM (256 MiB) */
    { "st-outside-ram", RTE_SLOT, UINT64_C(0x40000000000) | RTE_RTX_FULL,
      0, 1 },
    /* segment entry: region type, zero origin, zero */
    { "ste-type", STE_SLOT, PT_ADDR | 0x4, 0, 1 },
    { "ste-no-origin", STE_SLOT, 0x100, 0, 1 },
    { "ste-zero", STE_SLOT, 0, 0, 1 },
    /* a page-table entry of zero */
    { "pte-zero", PT_ADDR + 5 * 8, 0, 0, 8 },
    /* a range entirely outside the aperture */
    { "outside-aperture", 0, 0, APERTURE / PAGE + 16, 1 },
};

static void test_bad_input(const void *opaque)
{
    const BadCase *c = opaque;
    Zpci z;
    Insn r;

    zpci_start(&z, "");
    if (c->addr) {
        qtest_writeq(z.qts, c->addr, c->value);
    }
    r = zpci_rpcit(&z, c->page, c->npages);
    g_assert_cmpuint(r.cc, ==, 1);
    g_assert_cmpuint(zpci_insn_status(r), ==, ST_FUNC_IN_ERR);
    g_assert_cmpuint(zpci_stat(&z, "maps"), ==, 0);
    r = zpci_rpcit(&z, 0, 1);
    g_assert_cmpuint(r.cc, ==, 1);
    g_assert_cmpuint(zpci_insn_status(r), ==, ST_ERROR_RECOVER);
    zpci_stop(&z);
}

/*
 * Host failure sweep: the Nth emulated-host operation of a refresh fails
 * (ENOMEM), for every N until the refresh gets through. Each failure is
 * "insufficient resources"; the runs that reached the host take DMA and
 * the others do not; the guest's retry maps the rest; nothing leaks.
 */
static const unsigned sweep_pages[][3] = {
    /* IOVA page, guest page, pages */
    { 0, 0, 4 }, { 8, 20, 2 }, { 12, 30, 1 }, { 14, 40, 2 },
};

static void sweep_tables(Zpci *z)
{
    unsigned i, j;

    for (i = 0; i < ARRAY_SIZE(sweep_pages); i++) {
        for (j = 0; j < sweep_pages[i][2]; j++) {
            zpci_pte(z, sweep_pages[i][0] + j, zpci_data(sweep_pages[i][1] + j), 0);
        }
    }
}

static void sweep_check(Zpci *z, unsigned mapped)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(sweep_pages); i++) {
        if (i < mapped) {
            zpci_assert_lands(z, zpci_iova(sweep_pages[i][0]),
                         zpci_data(sweep_pages[i][1]), 0x90 + i);
        } else {
            zpci_assert_refused(z, zpci_iova(sweep_pages[i][0]));
        }
    }
}

static void test_fail_nth_sweep(void)
{
    unsigned n;
    bool hit = true;

    for (n = 1; hit; n++) {
        g_autofree char *site = NULL;
        uint64_t objects;
        Zpci z;
        Insn r;

        zpci_start(&z, "");
        sweep_tables(&z);
        objects = vnest_qom_get_uint(z.qts, EMU, "x-objects");
        vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", n);
        r = zpci_rpcit(&z, 0, 16);
        site = vnest_qom_get_str(z.qts, EMU, "x-fail-site");
        vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", 0);
        hit = site[0];
        if (hit) {
            g_test_message("fail-nth %u hit %s", n, site);
            g_assert_cmpuint(r.cc, ==, 1);
            g_assert_cmpuint(zpci_insn_status(r), ==, ST_INSUFF_RES);
            g_assert_cmpuint(zpci_stat(&z, "runs"), <, ARRAY_SIZE(sweep_pages));
            sweep_check(&z, zpci_stat(&z, "runs"));
            zpci_rpcit_ok(&z, 0, 16);
        } else {
            g_assert_cmpuint(r.cc, ==, 0);
        }
        g_assert_cmpuint(zpci_stat(&z, "runs"), ==, ARRAY_SIZE(sweep_pages));
        sweep_check(&z, ARRAY_SIZE(sweep_pages));
        g_assert_cmpuint(zpci_mpcifc(&z, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
        sweep_check(&z, 0);
        g_assert_cmpuint(vnest_qom_get_uint(z.qts, EMU, "x-objects"), ==,
                         objects);
        zpci_stop(&z);
    }
    g_assert_cmpuint(n, >, 2);
}

/*
 * Two functions, each with its own IOAS and tables: each one's DMA goes
 * where its own table says, and deregistering one leaves the other
 */
static void two_functions_start(Zpci *a, Zpci *b)
{
    *a = (Zpci) { .path = ZPCI, .tables = 0 };
    *b = (Zpci) { .path = ZPCI2, .tables = TABLES2 };
    a->qts = b->qts = qtest_init("-M s390-ccw-virtio -m 256M -nodefaults "
                                 "-object iommufd,id=emu0,emulated=on,"
                                 "host-iommu=paging "
                                 "-object vnest-sim-assign,id=sa0,"
                                 "iommufd=emu0,device=dev0 "
                                 "-object vnest-sim-assign,id=sa1,"
                                 "iommufd=emu0,device=dev1 "
                                 "-device zpci,uid=1,fid=1,target=dev0,"
                                 "id=zpci1 "
                                 "-device zpci,uid=2,fid=2,target=dev1,"
                                 "id=zpci2 "
                                 "-device vnest-dma-test,id=dev0,msix=on "
                                 "-device vnest-dma-test,id=dev1,msix=on");
    g_assert_cmpuint(vnest_qom_get_uint(a->qts, "/objects/sa0", "ioas-id"),
                     !=, vnest_qom_get_uint(a->qts, "/objects/sa1",
                                            "ioas-id"));
    zpci_setup(a);
    zpci_setup(b);
}

static void test_two_functions(void)
{
    Zpci a, b;

    two_functions_start(&a, &b);
    zpci_pte(&a, 0, zpci_data(1), 0);
    zpci_pte(&b, 0, zpci_data(2), 0);
    zpci_rpcit_ok(&a, 0, 1);
    zpci_assert_refused(&b, zpci_iova(0));        /* b has not refreshed yet */
    zpci_rpcit_ok(&b, 0, 1);
    zpci_assert_lands(&a, zpci_iova(0), zpci_data(1), 0xd0);
    zpci_assert_lands(&b, zpci_iova(0), zpci_data(2), 0xd1);
    g_assert_cmpuint(zpci_mpcifc(&a, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
    zpci_assert_refused(&a, zpci_iova(0));
    zpci_assert_lands(&b, zpci_iova(0), zpci_data(2), 0xd2);
    qtest_quit(a.qts);
}

/*
 * Hot-unplug: device_del asks the guest to let the function go; the guest
 * deconfigures it (SCLP), and QEMU unplugs it with its mappings in the
 * IOAS. Its emulated-host objects (device, HWPT, IOAS) are freed, nothing
 * else: the other function's objects and DMA are untouched.
 */
static void test_unplug(void)
{
    Zpci a, b;
    uint64_t both, one;
    QDict *rsp;
    Insn r;
    unsigned i;

    two_functions_start(&a, &b);
    for (i = 0; i < 4; i++) {
        zpci_pte(&a, i, zpci_data(i), 0);
        zpci_pte(&b, i, zpci_data(8 + i), 0);
    }
    zpci_rpcit_ok(&a, 0, 4);
    zpci_rpcit_ok(&b, 0, 4);
    zpci_assert_lands(&a, zpci_iova(1), zpci_data(1), 0x31);
    both = vnest_qom_get_uint(a.qts, EMU, "x-objects");

    rsp = qtest_qmp(a.qts, "{ 'execute': 'device_del',"
                    " 'arguments': { 'id': 'dev0' } }");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    /* Requested, not done: the guest still owns the function */
    g_assert_cmpuint(zpci_stat(&a, "runs"), ==, 1);
    zpci_assert_lands(&a, zpci_iova(2), zpci_data(2), 0x32);

    r = zpci_insn(&b, "sclp-deconfigure 1");
    g_assert_cmphex(r.r1, ==, 0x0020);          /* normal completion */
    qtest_qmp_eventwait(a.qts, "DEVICE_DELETED");
    rsp = qtest_qmp(a.qts, "{ 'execute': 'qom-get', 'arguments':"
                    " { 'path': %s, 'property': 'type' } }", ZPCI);
    g_assert(qdict_haskey(rsp, "error"));       /* zpci1 is gone */
    qobject_unref(rsp);

    one = vnest_qom_get_uint(a.qts, EMU, "x-objects");
    g_test_message("emulated-host objects: %" PRIu64 " with two functions,"
                   " %" PRIu64 " after one left", both, one);
    g_assert_cmpuint(one, >, 0);
    g_assert_cmpuint(both, ==, 2 * one);
    g_assert_cmpuint(zpci_stat(&b, "runs"), ==, 1);
    zpci_assert_lands(&b, zpci_iova(3), zpci_data(11), 0x33);
    qtest_quit(a.qts);
}

/*
 * Reregistration at another table address: the old mappings leave, and
 * the new table's take effect at the next refresh
 */
static void test_reregister(void)
{
    Zpci z;
    uint64_t iota = (RT_ADDR + TABLES2) | IOTA_RTTO;

    zpci_start(&z, "");
    zpci_pte(&z, 0, zpci_data(1), 0);
    zpci_rpcit_ok(&z, 0, 1);
    zpci_assert_lands(&z, zpci_iova(0), zpci_data(1), 0xe0);
    /* A second set of tables, translating page 0 elsewhere */
    z.tables = TABLES2;
    zpci_tables_init(&z);
    zpci_pte(&z, 0, zpci_data(3), 0);
    g_assert_cmpuint(zpci_mpcifc(&z, MPCIFC_REREG_IOAT, iota).cc, ==, 0);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 0);
    zpci_assert_refused(&z, zpci_iova(0));
    zpci_rpcit_ok(&z, 0, 1);
    zpci_assert_lands(&z, zpci_iova(0), zpci_data(3), 0xe1);
    zpci_stop(&z);
}

/*
 * The Nth host operation of a deregistration fails, for every N that
 * hits: the IOAS still ends empty (the listener's unmap of the IOMMU
 * region follows ours), nothing leaks, and a new registration maps again.
 * Today the emulated host has no failure point on an unmap, so the sweep
 * ends at N = 1; it runs again as soon as one is added.
 */
static void test_fail_nth_deregister(void)
{
    unsigned n;
    bool hit = true;

    for (n = 1; hit; n++) {
        g_autofree char *site = NULL;
        uint64_t objects;
        Zpci z;
        unsigned i;

        zpci_start(&z, "");
        for (i = 0; i < 8; i++) {
            zpci_pte(&z, i * 2, zpci_data(i), 0);
        }
        zpci_rpcit_ok(&z, 0, 16);
        objects = vnest_qom_get_uint(z.qts, EMU, "x-objects");
        vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", n);
        g_assert_cmpuint(zpci_mpcifc(&z, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
        site = vnest_qom_get_str(z.qts, EMU, "x-fail-site");
        vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", 0);
        hit = site[0];
        if (hit) {
            g_test_message("fail-nth %u hit %s", n, site);
        }
        g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 0);
        zpci_assert_refused(&z, zpci_iova(0));
        zpci_assert_refused(&z, zpci_iova(14));
        g_assert_cmpuint(vnest_qom_get_uint(z.qts, EMU, "x-objects"), ==,
                         objects);
        zpci_register(&z);
        zpci_rpcit_ok(&z, 0, 16);
        zpci_assert_lands(&z, zpci_iova(14), zpci_data(7), 0xa8);
        zpci_stop(&z);
    }
}

/* Disable (CLP) and reset leave the IOAS empty of the function's pages */
static void test_disable_reset(void)
{
    Zpci z;
    unsigned i;
    QDict *rsp;

    zpci_start(&z, "");
    for (i = 0; i < 8; i++) {
        zpci_pte(&z, i, zpci_data(i), 0);
    }
    zpci_rpcit_ok(&z, 0, 8);
    zpci_clp_set_pci_fn(&z, CLP_DISABLE);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 0);
    g_assert_cmpuint(zpci_stat(&z, "unmaps"), ==, 1);
    /* A refresh on a disabled function: invalid handle */
    g_assert_cmpuint(zpci_rpcit(&z, 0, 8).cc, ==, CC_INVAL_HANDLE);
    g_assert_cmpuint(zpci_stat(&z, "rpcits"), ==, 1);

    zpci_clp_set_pci_fn(&z, CLP_ENABLE);
    zpci_bus_master_on(&z);
    zpci_register(&z);
    zpci_rpcit_ok(&z, 0, 8);
    zpci_assert_lands(&z, zpci_iova(4), zpci_data(4), 0xa0);
    rsp = qtest_qmp(z.qts, "{ 'execute': 'system_reset' }");
    qobject_unref(rsp);
    g_assert_cmpuint(zpci_stat(&z, "runs"), ==, 0);
    g_assert_cmpuint(zpci_stat(&z, "unmaps"), ==, 2);
    zpci_stop(&z);
}

/*
 * The same guest work with x-rpcit-per-page=on (QEMU 10.0's path: one
 * notifier event, so one host call, per page) and without: DMA lands the
 * same, the host calls differ. The figures are printed for the docs.
 */
typedef struct Calls {
    uint64_t rpcits, maps, unmaps;
} Calls;

static Calls per_page_work(const char *opts)
{
    Calls c;
    Zpci z;
    unsigned i;

    zpci_start(&z, opts);
    for (i = 0; i < 64; i++) {          /* 64 contiguous pages */
        zpci_pte(&z, i, zpci_data(i), 0);
    }
    for (i = 64; i < 96; i += 2) {      /* 16 single pages */
        zpci_pte(&z, i, zpci_data(i + 100), 0);
    }
    zpci_rpcit_ok(&z, 0, 96);
    zpci_assert_lands(&z, zpci_iova(40), zpci_data(40), 0xf8);
    zpci_assert_lands(&z, zpci_iova(70), zpci_data(170), 0xf9);
    zpci_assert_refused(&z, zpci_iova(71));
    for (i = 0; i < 96; i++) {
        zpci_pte_clear(&z, i);
    }
    zpci_rpcit_ok(&z, 0, 96);
    zpci_assert_refused(&z, zpci_iova(40));
    c.rpcits = zpci_stat(&z, "rpcits");
    c.maps = zpci_stat(&z, "maps");
    c.unmaps = zpci_stat(&z, "unmaps");
    zpci_stop(&z);
    return c;
}

static void test_per_page(void)
{
    Calls runs = per_page_work("");
    Calls pages = per_page_work(",x-rpcit-per-page=on");

    g_test_message("80 pages in 17 runs mapped, then unmapped: runs %"
                   PRIu64 " maps %" PRIu64 " unmaps; per page %" PRIu64
                   " maps %" PRIu64 " unmaps", runs.maps, runs.unmaps,
                   pages.maps, pages.unmaps);
    /* Both paths count the guest's RPCITs (the benchmark divides by them) */
    g_assert_cmpuint(runs.rpcits, ==, 2);
    g_assert_cmpuint(pages.rpcits, ==, 2);
    g_assert_cmpuint(runs.maps, ==, 17);
    g_assert_cmpuint(runs.unmaps, ==, 1);
    g_assert_cmpuint(pages.maps, ==, 80);
    g_assert_cmpuint(pages.unmaps, >, runs.unmaps);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vnest/zpci-iommufd/contiguous", test_contiguous);
    qtest_add_func("/vnest/zpci-iommufd/scattered", test_scattered);
    qtest_add_func("/vnest/zpci-iommufd/whole-aperture", test_whole_aperture);
    qtest_add_func("/vnest/zpci-iommufd/segment-frame", test_segment_frame);
    qtest_add_func("/vnest/zpci-iommufd/unaligned-range",
                   test_unaligned_range);
    qtest_add_func("/vnest/zpci-iommufd/unmap-coalesced",
                   test_unmap_coalesced);
    qtest_add_func("/vnest/zpci-iommufd/stale-until-refresh",
                   test_stale_until_refresh);
    qtest_add_func("/vnest/zpci-iommufd/enomem-retry", test_enomem_retry);
    qtest_add_func("/vnest/zpci-iommufd/deregister", test_deregister);
    for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        g_autofree char *name =
            g_strdup_printf("/vnest/zpci-iommufd/bad-input/%s",
                            bad_cases[i].name);

        qtest_add_data_func(name, &bad_cases[i], test_bad_input);
    }
    qtest_add_func("/vnest/zpci-iommufd/fail-nth-sweep",
                   test_fail_nth_sweep);
    qtest_add_func("/vnest/zpci-iommufd/fail-nth-deregister",
                   test_fail_nth_deregister);
    qtest_add_func("/vnest/zpci-iommufd/disable-reset", test_disable_reset);
    qtest_add_func("/vnest/zpci-iommufd/two-functions", test_two_functions);
    qtest_add_func("/vnest/zpci-iommufd/reregister", test_reregister);
    qtest_add_func("/vnest/zpci-iommufd/per-page", test_per_page);
    qtest_add_func("/vnest/zpci-iommufd/unplug", test_unplug);
    return g_test_run();
}
