/*
 * VNest s390 zPCI over iommufd: the IOAS follows the guest's runs
 *
 * What the IOAS holds for a function is a sorted array of runs, one per
 * host mapping (IOAS area). A refresh of [start, end) compares it with
 * what the guest's tables say there now:
 *   - a run whose part in the range still translates the same way stays,
 *     at no cost;
 *   - the others leave the IOAS, one IOMMU_IOAS_UNMAP for each group of
 *     them with no remaining run in between (an unmap takes every area
 *     inside its range; IOAS areas are never split, so a run that reaches
 *     out of the range leaves whole and its outer part is mapped again);
 *   - what the guest maps and no remaining run covers is mapped, one
 *     IOMMU_IOAS_MAP per run (IOVA, guest and QEMU address contiguous,
 *     same permission).
 * The array records only what reached the host: a mapping that failed is
 * not in it, so DMA there is refused and a later refresh maps it again.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "system/iommufd.h"
#include "zpci-iommufd-internal.h"
#include "trace.h"

#define RUN(a, i)   (&g_array_index((a), ZpciRun, (i)))

static uint64_t run_end(const ZpciRun *r)
{
    return r->iova + r->len;
}

static int run_cmp(gconstpointer a, gconstpointer b)
{
    const ZpciRun *ra = a, *rb = b;

    return ra->iova < rb->iova ? -1 : ra->iova > rb->iova;
}

/* The first run that ends after @iova. */
static guint runs_find(GArray *runs, uint64_t iova)
{
    guint lo = 0, hi = runs->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (run_end(RUN(runs, mid)) <= iova) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Whether @have's part in [@start, @end) is what @want says there. */
static bool run_still_valid(const ZpciRun *have, GArray *want,
                            uint64_t start, uint64_t end)
{
    uint64_t a = MAX(have->iova, start), b = MIN(run_end(have), end);
    guint i = runs_find(want, a);
    const ZpciRun *w;

    if (i == want->len) {
        return false;
    }
    /* Runs in @want are maximal: a consistent part lies in one of them. */
    w = RUN(want, i);
    return w->iova <= a && run_end(w) >= b && w->ro == have->ro &&
           w->gpa - w->iova == have->gpa - have->iova &&
           w->hva - w->iova == have->hva - have->iova;
}

static int zpci_host_map(VNestZpci *z, const ZpciRun *r)
{
    int ret = iommufd_backend_map_dma(z->info.be, z->info.ioas_id, r->iova,
                                      r->len, r->hva, r->ro);

    z->stats.maps++;
    z->stats.map_pages += r->len >> 12;
    trace_vnest_zpci_map(z->info.ioas_id, r->iova, r->len, r->gpa, r->ro,
                         ret);
    return ret;
}

static int zpci_host_unmap(VNestZpci *z, uint64_t iova, uint64_t len)
{
    int ret = iommufd_backend_unmap_dma(z->info.be, z->info.ioas_id, iova,
                                        len);

    z->stats.unmaps++;
    trace_vnest_zpci_unmap(z->info.ioas_id, iova, len, ret);
    return ret;
}

/* The part of @r below @start and above @end, mapped again. */
static void runs_outer_parts(const ZpciRun *r, uint64_t start, uint64_t end,
                             GArray *remap)
{
    ZpciRun part;

    if (r->iova < start) {
        part = *r;
        part.len = start - r->iova;
        g_array_append_val(remap, part);
    }
    if (run_end(r) > end) {
        uint64_t off = end - r->iova;

        part = *r;
        part.iova += off;
        part.gpa += off;
        part.hva += off;
        part.len -= off;
        g_array_append_val(remap, part);
    }
}

/*
 * Runs [@first, @last) of @z leave the IOAS in one call; their parts
 * outside [@start, @end) go to @remap. 0, or the host's -errno (the runs
 * then stay).
 */
static int runs_drop(VNestZpci *z, guint first, guint last, uint64_t start,
                     uint64_t end, GArray *remap)
{
    uint64_t iova = RUN(z->runs, first)->iova;
    guint i;
    int ret;

    ret = zpci_host_unmap(z, iova, run_end(RUN(z->runs, last - 1)) - iova);
    if (ret) {
        return ret;
    }
    for (i = first; i < last; i++) {
        runs_outer_parts(RUN(z->runs, i), start, end, remap);
    }
    g_array_remove_range(z->runs, first, last - first);
    return 0;
}

/*
 * Drop the runs overlapping [@start, @end) that @want contradicts. 0, or
 * the -errno of the unmap the host refused.
 */
static int runs_drop_stale(VNestZpci *z, GArray *want, uint64_t start,
                           uint64_t end, GArray *remap)
{
    guint i = runs_find(z->runs, start), first;
    int ret;

    while (i < z->runs->len && RUN(z->runs, i)->iova < end) {
        if (run_still_valid(RUN(z->runs, i), want, start, end)) {
            i++;
            continue;
        }
        first = i;
        while (i < z->runs->len && RUN(z->runs, i)->iova < end &&
               !run_still_valid(RUN(z->runs, i), want, start, end)) {
            i++;
        }
        ret = runs_drop(z, first, i, start, end, remap);
        if (ret) {
            return ret;
        }
        i = first;
    }
    return 0;
}

/* The parts of @w no run of @z covers go to @todo. */
static void runs_missing(VNestZpci *z, const ZpciRun *w, GArray *todo)
{
    uint64_t iova = w->iova;
    guint i = runs_find(z->runs, iova);

    while (iova < run_end(w)) {
        const ZpciRun *have = i < z->runs->len ? RUN(z->runs, i) : NULL;
        uint64_t stop = have ? MIN(have->iova, run_end(w)) : run_end(w);

        if (stop > iova) {
            ZpciRun part = *w;
            uint64_t off = iova - w->iova;

            part.iova = iova;
            part.gpa += off;
            part.hva += off;
            part.len = stop - iova;
            g_array_append_val(todo, part);
        }
        if (!have || have->iova >= run_end(w)) {
            break;
        }
        iova = run_end(have);
        i++;
    }
}

/* The host ran out of something the guest can free by purging. */
static ZpciResult zpci_host_result(int ret)
{
    if (ret == -ENOMEM || ret == -ENOSPC) {
        return ZPCI_RES_NO_RESOURCES;
    }
    return ret ? ZPCI_RES_ERROR : ZPCI_RES_OK;
}

/* Map @todo in order; each run that reached the host is recorded. */
static ZpciResult runs_map(VNestZpci *z, GArray *todo)
{
    guint i;
    int ret;

    for (i = 0; i < todo->len; i++) {
        ret = zpci_host_map(z, RUN(todo, i));
        if (ret) {
            return zpci_host_result(ret);
        }
        g_array_append_val(z->runs, *RUN(todo, i));
    }
    return ZPCI_RES_OK;
}

ZpciResult zpci_runs_refresh(VNestZpci *z, uint64_t start, uint64_t end,
                             GArray *want)
{
    g_autoptr(GArray) todo = g_array_new(false, false, sizeof(ZpciRun));
    ZpciResult res;
    guint i;
    int ret;

    /*
     * An unmap refused for lack of memory leaves the runs in place: the
     * guest purges and refreshes again.
     */
    ret = runs_drop_stale(z, want, start, end, todo);
    if (ret) {
        return zpci_host_result(ret);
    }
    for (i = 0; i < want->len; i++) {
        runs_missing(z, RUN(want, i), todo);
    }
    res = runs_map(z, todo);
    g_array_sort(z->runs, run_cmp);
    return res;
}

void zpci_runs_clear(VNestZpci *z)
{
    uint64_t first, last;

    if (!z->runs->len) {
        return;
    }
    first = RUN(z->runs, 0)->iova;
    last = run_end(RUN(z->runs, z->runs->len - 1));
    /* Nothing is left to tell the guest: the function is going away. */
    zpci_host_unmap(z, first, last - first);
    g_array_set_size(z->runs, 0);
}
