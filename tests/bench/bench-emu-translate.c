/*
 * VNest benchmark: translation rate of the emulated host IOMMU
 *
 * Prints translations per second for a device's 4 KiB DMA requests:
 * through a paging HWPT (IOAS lookup), and through a nested VT-d HWPT
 * with IOTLB hits and with misses (a full first-stage walk whose table
 * reads go through the nest parent). Figures, not pass/fail: run with
 * `make bench` and keep them in docs/emulated-host.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <inttypes.h>
#include <stdio.h>
#include "emu-test.h"
#include "vtd-s1.h"

#define PAGES       ((unsigned)VTD_S1_DATA_PAGES)
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

int main(int argc, char **argv)
{
    printf("VNest emulated host IOMMU: 4 KiB translations, %u-page working "
           "set, %.1f s per figure\n", PAGES, MIN_USEC / 1e6);
    bench_paging();
    bench_nested();
    return 0;
}
