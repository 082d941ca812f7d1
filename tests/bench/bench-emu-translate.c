/*
 * VNest benchmark: translation rate of the emulated host IOMMU
 *
 * Prints translations per second for a device's 4 KiB DMA requests:
 * through a paging HWPT (IOAS lookup), and through a nested VT-d HWPT
 * with IOTLB hits and with misses (a full first-stage walk whose table
 * reads go through the nest parent); then the IOTLB under a working set
 * larger than its capacity (hit rate, entries held, evictions) and what
 * an invalidation costs against the range it covers. Figures, not
 * pass/fail: run with `make bench` and keep them in
 * docs/emulated-host.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include "emu-test.h"
#include "emu-internal.h"
#include "vtd-s1.h"

#define PAGES       ((unsigned)VTD_S1_DATA_PAGES)
/* Offset of data page @n from the start of guest RAM */
#define DATA_OFF_PAGE(n)    (VTD_S1_DATA_GPA(n) - VTD_S1_GPA_BASE)
#define MIN_USEC    (500 * 1000)

typedef struct Rate {
    double per_sec;
    uint64_t n;
} Rate;

/* Translate every page of [iova, +PAGES pages) until MIN_USEC elapse;
 * @between runs before each pass (e.g. an invalidation). */
static Rate run(EmuFixture *f, uint64_t iova, void (*between)(EmuFixture *))
{
    gint64 start = g_get_monotonic_time(), now;
    uint64_t n = 0;
    unsigned i;
    Rate r;

    do {
        if (between) {
            between(f);
        }
        for (i = 0; i < PAGES; i++) {
            if (!emu_device_translate(f->dev, EMU_NO_PASID, iova + i * PAGE,
                                      PAGE, EMU_DMA_READ, NULL)) {
                g_error("translation of page %u failed", i);
            }
        }
        n += PAGES;
        now = g_get_monotonic_time();
    } while (now - start < MIN_USEC);
    r.n = n;
    r.per_sec = n * 1e6 / (now - start);
    return r;
}

static uint32_t nested_id;

static void invalidate_all(EmuFixture *f)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = UINT64_MAX };
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .hwpt_id = nested_id,
        .data_uptr = (uintptr_t)&inv,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(inv), .entry_num = 1,
    };

    if (ctx_ioctl(f, IOMMU_HWPT_INVALIDATE, &cmd)) {
        g_error("invalidation failed");
    }
}

static void bench_paging(void)
{
    EmuFixture f;
    uint32_t pt;
    Rate r;

    emu_fixture_setup(&f, EMU_HW_VTD);
    g_assert_cmpint(t_map_fixed(&f, f.ioas_id, f.buf, BUF_SIZE, 0x100000),
                    ==, 0);
    pt = f.ioas_id;
    g_assert_cmpint(t_attach(&f, &pt), ==, 0);
    r = run(&f, 0x100000, NULL);
    printf("paging HWPT (IOAS lookup):          %8.2f M translations/s\n",
           r.per_sec / 1e6);
    emu_fixture_teardown(&f);
}

static void bench_nested(void)
{
    struct iommu_hwpt_vtd_s1 s1 = { .addr_width = 48 };
    EmuFixture f;
    EmuStats st;
    VtdS1 s;
    uint32_t parent, pt;
    Rate hit, miss;
    unsigned i;

    emu_fixture_setup(&f, EMU_HW_VTD);
    g_assert_cmpint(t_map_fixed(&f, f.ioas_id, f.buf, BUF_SIZE,
                                VTD_S1_GPA_BASE), ==, 0);
    vtd_s1_init(&s, f.buf, 4);
    for (i = 0; i < PAGES; i++) {
        vtd_s1_map(&s, 0x200000 + i * PAGE, VTD_S1_DATA_GPA(i), PAGE,
                   FS_LEAF_RW);
    }
    s1.pgtbl_addr = s.root;
    g_assert_cmpint(t_hwpt_alloc(&f, f.ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 0, NULL, 0, &parent), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(&f, parent, 0, IOMMU_HWPT_DATA_VTD_S1, &s1,
                                 sizeof(s1), &nested_id), ==, 0);
    pt = nested_id;
    g_assert_cmpint(t_attach(&f, &pt), ==, 0);

    hit = run(&f, 0x200000, NULL);
    miss = run(&f, 0x200000, invalidate_all);
    emu_host_stats(f.host, &st);
    printf("nested VT-d, IOTLB hit:             %8.2f M translations/s\n",
           hit.per_sec / 1e6);
    printf("nested VT-d, IOTLB miss (walk):     %8.2f M translations/s "
           "(incl. one invalidate-all per %u pages)\n",
           miss.per_sec / 1e6, PAGES);
    printf("  model counters: %" PRIu64 " translations, %" PRIu64
           " hits, %" PRIu64 " misses\n",
           st.translations, st.iotlb_hits, st.iotlb_misses);
    g_assert_cmpint(t_detach(&f), ==, 0);
    emu_fixture_teardown(&f);
}

/* ---- the IOTLB with a large working set ---- */

#define WS_BASE     0x40000000ULL       /* 1 GiB of IOVA: 512 x 2 MiB */
#define WS_MAX      (512u * 512u)       /* 4 KiB pages in it */

typedef struct WsBench {
    EmuFixture f;
    VtdS1 s;
    uint32_t parent, nested;
} WsBench;

/*
 * 1 GiB of IOVA in 4 KiB leaves with four table pages: every PDE points
 * at the same page table, whose 512 PTEs map the data pages round-robin.
 * Each IOVA is its own translation; the guest tables stay tiny. With
 * @large, the PDEs are 2 MiB leaves instead.
 */
static void ws_setup(WsBench *b, bool large)
{
    struct iommu_hwpt_vtd_s1 s1 = { .addr_width = 48 };
    uint64_t *pd, pde;
    unsigned i;
    uint32_t pt;

    emu_fixture_setup(&b->f, EMU_HW_VTD);
    g_assert_cmpint(t_map_fixed(&b->f, b->f.ioas_id, b->f.buf, BUF_SIZE,
                                VTD_S1_GPA_BASE), ==, 0);
    vtd_s1_init(&b->s, b->f.buf, 4);
    if (large) {
        for (i = 0; i < 512; i++) {
            vtd_s1_map(&b->s, WS_BASE + i * VTD_S1_SIZE_2M, VTD_S1_GPA_BASE,
                       VTD_S1_SIZE_2M, FS_LEAF_RW | FS_A | FS_D);
        }
    } else {
        for (i = 0; i < 512; i++) {
            vtd_s1_map(&b->s, WS_BASE + i * PAGE,
                       VTD_S1_DATA_GPA(i % VTD_S1_DATA_PAGES), PAGE,
                       FS_LEAF_RW | FS_A | FS_D);
        }
        pd = vtd_s1_entry(&b->s, WS_BASE, 2);
        pde = *pd;
        for (i = 1; i < 512; i++) {
            pd[i] = pde;
        }
    }
    s1.pgtbl_addr = b->s.root;
    g_assert_cmpint(t_hwpt_alloc(&b->f, b->f.ioas_id,
                                 IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                                 &b->parent), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(&b->f, b->parent, 0, IOMMU_HWPT_DATA_VTD_S1,
                                 &s1, sizeof(s1), &b->nested), ==, 0);
    pt = b->nested;
    g_assert_cmpint(t_attach(&b->f, &pt), ==, 0);
}

static void ws_teardown(WsBench *b)
{
    g_assert_cmpint(t_detach(&b->f), ==, 0);
    emu_fixture_teardown(&b->f);
}

/* The IOVA of page @i of the working set: data pages of 2 MiB leaves. */
static uint64_t ws_iova(bool large, unsigned i)
{
    if (large) {
        return WS_BASE + (uint64_t)(i / VTD_S1_DATA_PAGES) * VTD_S1_SIZE_2M +
               DATA_OFF_PAGE(i % VTD_S1_DATA_PAGES);
    }
    return WS_BASE + (uint64_t)i * PAGE;
}

/* Sweep @pages pages of the working set, in order, for MIN_USEC. */
static void ws_sweep(bool large, unsigned pages)
{
    WsBench b;
    EmuStats st0, st;
    gint64 start, now;
    uint64_t n = 0;
    unsigned i;

    ws_setup(&b, large);
    for (i = 0; i < pages; i++) {           /* warm up */
        emu_device_translate(b.f.dev, EMU_NO_PASID, ws_iova(large, i), 8,
                             EMU_DMA_READ, NULL);
    }
    emu_host_stats(b.f.host, &st0);
    start = g_get_monotonic_time();
    do {
        for (i = 0; i < pages; i++) {
            if (!emu_device_translate(b.f.dev, EMU_NO_PASID,
                                      ws_iova(large, i), 8, EMU_DMA_READ,
                                      NULL)) {
                g_error("working-set translation %u failed", i);
            }
        }
        n += pages;
        now = g_get_monotonic_time();
    } while (now - start < MIN_USEC);
    emu_host_stats(b.f.host, &st);
    printf("  %7u pages  %s  %6.1f %%  %8.2f M/s  %6" PRIu64 " entries  "
           "%9" PRIu64 " evictions\n", pages, large ? "2M" : "4K",
           100.0 * (st.iotlb_hits - st0.iotlb_hits) / n, n / 1e6 /
           ((now - start) / 1e6), st.iotlb_entries,
           st.iotlb_evictions - st0.iotlb_evictions);
    ws_teardown(&b);
}

static void ws_invalidate(WsBench *b, uint64_t addr, uint64_t npages)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = {
        .addr = addr, .npages = npages,
    };
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .hwpt_id = b->nested,
        .data_uptr = (uintptr_t)&inv,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(inv), .entry_num = 1,
    };

    if (ctx_ioctl(&b->f, IOMMU_HWPT_INVALIDATE, &cmd)) {
        g_error("invalidation failed");
    }
}

/*
 * A full cache (the capacity in 4 KiB leaves over 16 MiB), then flushes
 * of growing ranges elsewhere in the same address space, straight on the
 * IOTLB: what a flush costs when it is not paid for by what it drops.
 * Then the same through the ioctl, whose user copies dominate.
 */
static void flush_cost(void)
{
    static const uint64_t sizes[] = { 1, 16, 256, 4096, 65536 };
    WsBench b;
    EmuIommu *iommu;
    EmuHwpt *hwpt;
    EmuStats st0, st;
    unsigned i, k;
    double one = 0;
    gint64 start, now;
    uint64_t calls;

    ws_setup(&b, false);
    for (i = 0; i < EMU_IOTLB_DEFAULT_ENTRIES; i++) {
        emu_device_translate(b.f.dev, EMU_NO_PASID, ws_iova(false, i), 8,
                             EMU_DMA_READ, NULL);
    }
    hwpt = (EmuHwpt *)emu_obj_get(b.f.ctx, b.nested, EMU_OBJ_HWPT_NESTED);
    iommu = hwpt->iommu;
    emu_host_stats(b.f.host, &st);
    printf("flush cost, cache holding %" PRIu64 " entries, ranges that "
           "hold none of them (side by side, one run):\n",
           st.iotlb_entries);
    for (k = 0; k < G_N_ELEMENTS(sizes); k++) {
        uint64_t first = WS_BASE + 256 * VTD_S1_SIZE_2M;
        uint64_t last = first + sizes[k] * PAGE - 1;
        double ns;

        emu_host_stats(b.f.host, &st0);
        calls = 0;
        start = g_get_monotonic_time();
        do {
            for (i = 0; i < 64; i++) {
                emu_iotlb_flush(iommu->iotlb, EMU_TLB_ALL, hwpt->tag,
                                EMU_ANY, first, last);
            }
            calls += 64;
            now = g_get_monotonic_time();
        } while (now - start < MIN_USEC / 5);
        emu_host_stats(b.f.host, &st);
        ns = (now - start) * 1e3 / calls;
        if (!k) {
            one = ns;
        }
        printf("  %8" PRIu64 " pages %10.0f ns  %7.0f entries probed "
               "or scanned  %7.1fx one page\n", sizes[k], ns,
               (double)(st.iotlb_flush_work - st0.iotlb_flush_work) / calls,
               ns / one);
    }
    /* everything: it drops the whole cache, so one timed call */
    for (i = 0; i < EMU_IOTLB_DEFAULT_ENTRIES; i++) {
        emu_device_translate(b.f.dev, EMU_NO_PASID, ws_iova(false, i), 8,
                             EMU_DMA_READ, NULL);
    }
    {
        struct timespec t0, t1;
        unsigned n;
        double ns;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        n = emu_iotlb_flush(iommu->iotlb, EMU_TLB_ALL, hwpt->tag, EMU_ANY, 0,
                            UINT64_MAX);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
        printf("  everything     %10.0f ns  %7u entries dropped        "
               "%7.1fx one page\n", ns, n, ns / one);
    }
    calls = 0;
    start = g_get_monotonic_time();
    do {
        ws_invalidate(&b, WS_BASE, 1);
        calls++;
        now = g_get_monotonic_time();
    } while (now - start < MIN_USEC / 5);
    printf("  one IOMMU_HWPT_INVALIDATE ioctl (1 entry, 1 page): %.0f ns, "
           "mostly its checked user copies\n", (now - start) * 1e3 / calls);
    ws_teardown(&b);
}

static void bench_working_set(void)
{
    static const unsigned ws[] = { 1024, 4096, 16384, 65536 };
    unsigned i;

    printf("IOTLB, capacity %u entries (LRU), sequential sweeps of a "
           "working set:\n", EMU_IOTLB_DEFAULT_ENTRIES);
    printf("  working set  leaf  hit rate   translate  held       "
           "replaced\n");
    for (i = 0; i < G_N_ELEMENTS(ws); i++) {
        ws_sweep(false, ws[i]);
    }
    ws_sweep(true, 512 * VTD_S1_DATA_PAGES);
    flush_cost();
}

int main(int argc, char **argv)
{
    printf("VNest emulated host IOMMU: 4 KiB translations, %u-page working "
           "set, %.1f s per figure\n", PAGES, MIN_USEC / 1e6);
    bench_paging();
    bench_nested();
    bench_working_set();
    return 0;
}
