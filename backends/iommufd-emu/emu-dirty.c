/*
 * VNest emulated host IOMMU: the dirty state of a paging HWPT
 *
 * What the hardware's dirty bits hold, kept as a sorted array of disjoint,
 * non-adjacent runs of dirty bytes [first, last]. Marking a range that is
 * already dirty costs a binary search and allocates nothing; marking the
 * page after a run extends it. Reporting a window visits only the runs in
 * it, so GET_DIRTY_BITMAP costs what is dirty there, not the length asked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

struct EmuDirty {
    GArray *runs;               /* EmuRange, sorted by first */
};

EmuDirty *emu_dirty_new(void)
{
    EmuDirty *d = g_new0(EmuDirty, 1);

    d->runs = g_array_new(false, false, sizeof(EmuRange));
    return d;
}

void emu_dirty_free(EmuDirty *d)
{
    if (d) {
        g_array_free(d->runs, true);
        g_free(d);
    }
}

void emu_dirty_clear(EmuDirty *d)
{
    g_array_set_size(d->runs, 0);
}

unsigned emu_dirty_nr_runs(const EmuDirty *d)
{
    return d->runs->len;
}

static EmuRange *run_at(const EmuDirty *d, guint i)
{
    return &g_array_index(d->runs, EmuRange, i);
}

/* Index of the first run whose last byte is at or after @addr. */
static guint first_ending_at_or_after(const EmuDirty *d, uint64_t addr)
{
    guint lo = 0, hi = d->runs->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (run_at(d, mid)->last < addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

void emu_dirty_mark(EmuDirty *d, uint64_t first, uint64_t last)
{
    EmuRange *r, add = { first, last };
    guint i, j;

    g_assert(first <= last);
    /* A run ending right before @first is adjacent: merge it too. */
    i = first_ending_at_or_after(d, first ? first - 1 : 0);
    if (i == d->runs->len ||
        (last != UINT64_MAX && run_at(d, i)->first > last + 1)) {
        g_array_insert_val(d->runs, i, add);
        return;
    }
    r = run_at(d, i);
    if (r->first <= first && r->last >= last) {
        return;                 /* already dirty: the common case */
    }
    r->first = MIN(r->first, first);
    /* Swallow every later run that overlaps or touches [first, last]. */
    for (j = i + 1; j < d->runs->len; j++) {
        const EmuRange *n = run_at(d, j);

        if (last != UINT64_MAX && n->first > last + 1) {
            break;
        }
        last = MAX(last, n->last);
    }
    r->last = MAX(r->last, last);
    if (j > i + 1) {
        g_array_remove_range(d->runs, i + 1, j - i - 1);
    }
}

int emu_dirty_report(EmuDirty *d, uint64_t first, uint64_t last,
                     EmuDirtyFn fn, void *opaque)
{
    guint i;
    int rc;

    for (i = first_ending_at_or_after(d, first);
         i < d->runs->len && run_at(d, i)->first <= last; i++) {
        const EmuRange *r = run_at(d, i);

        rc = fn(MAX(r->first, first), MIN(r->last, last), opaque);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

void emu_dirty_clean(EmuDirty *d, uint64_t first, uint64_t last)
{
    guint i = first_ending_at_or_after(d, first), j;
    EmuRange *r;

    if (i == d->runs->len || run_at(d, i)->first > last) {
        return;
    }
    r = run_at(d, i);
    if (r->first < first && r->last > last) {
        /* [first, last] inside one run: split it in two. */
        EmuRange tail = { last + 1, r->last };

        r->last = first - 1;
        g_array_insert_val(d->runs, i + 1, tail);
        return;
    }
    if (r->first < first) {
        r->last = first - 1;    /* keep its head */
        i++;
    }
    for (j = i; j < d->runs->len && run_at(d, j)->last <= last; j++) {
        /* wholly inside: dropped below */
    }
    if (j < d->runs->len && run_at(d, j)->first <= last) {
        run_at(d, j)->first = last + 1;     /* keep its tail */
    }
    if (j > i) {
        g_array_remove_range(d->runs, i, j - i);
    }
}
