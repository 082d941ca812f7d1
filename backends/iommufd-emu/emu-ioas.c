/*
 * VNest emulated host IOMMU: I/O address spaces
 *
 * An IOAS is a set of non-overlapping areas, each mapping an IOVA range to
 * the caller's memory (MAP), to our own mapping of a memfd (MAP_FILE) or
 * to the pages of another IOAS's area (COPY). UNMAP never splits an area.
 * The usable IOVA space shrinks by the reserved regions and apertures of
 * the IOMMUs whose devices are attached to HWPTs built on the IOAS.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "emu-internal.h"

#define MAP_FLAGS   (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
                     IOMMU_IOAS_MAP_READABLE)

typedef EmuRange Range;

static gint iova_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void area_free(gpointer p)
{
    EmuArea *area = p;

    if (area->map_refs && --*area->map_refs == 0) {
        if (area->map_base) {
            munmap(area->map_base, area->map_len);
        }
        g_free(area->map_refs);
    }
    g_free(area);
}

static EmuIoas *ioas_get(EmuCtx *ctx, uint32_t id)
{
    return (EmuIoas *)emu_obj_get(ctx, id, EMU_OBJ_IOAS);
}

int emu_ioas_alloc(EmuCtx *ctx, struct iommu_ioas_alloc *cmd)
{
    EmuIoas *ioas;
    int rc;

    if (cmd->flags) {
        return -EOPNOTSUPP;
    }
    rc = emu_obj_reserve(ctx, EMU_OBJ_IOAS, sizeof(*ioas), &ioas);
    if (rc) {
        return rc;
    }
    ioas->areas = g_tree_new_full(iova_cmp, NULL, NULL, area_free);
    ioas->allowed = g_array_new(false, false, sizeof(struct iommu_iova_range));
    ioas->reserved = g_array_new(false, false, sizeof(Range));
    ioas->huge_pages = true;
    cmd->out_ioas_id = ioas->obj.id;
    emu_obj_finalize(&ioas->obj);
    return 0;
}

void emu_ioas_destroy(EmuIoas *ioas)
{
    g_assert(!ioas->hwpts);
    g_tree_destroy(ioas->areas);
    g_array_free(ioas->allowed, true);
    g_array_free(ioas->reserved, true);
}

/* The area containing @iova, if any. */
EmuArea *emu_ioas_find(EmuIoas *ioas, uint64_t iova)
{
    GTreeNode *node = g_tree_upper_bound(ioas->areas, &iova);
    EmuArea *area;

    /* upper_bound: first area starting after iova; step back one */
    node = node ? g_tree_node_previous(node) : g_tree_node_last(ioas->areas);
    if (!node) {
        return NULL;
    }
    area = g_tree_node_value(node);
    return iova - area->iova < area->length ? area : NULL;
}

/* The first area that ends at or after @first. */
static GTreeNode *area_iter_first(EmuIoas *ioas, uint64_t first)
{
    GTreeNode *node = g_tree_upper_bound(ioas->areas, &first);
    GTreeNode *prev = node ? g_tree_node_previous(node)
                           : g_tree_node_last(ioas->areas);

    if (prev) {
        EmuArea *a = g_tree_node_value(prev);

        if (first - a->iova < a->length) {
            return prev;
        }
    }
    return node;
}

static bool range_has_area(EmuIoas *ioas, uint64_t first, uint64_t last)
{
    GTreeNode *node = area_iter_first(ioas, first);

    return node && ((EmuArea *)g_tree_node_value(node))->iova <= last;
}

uint8_t *emu_ioas_resolve(EmuIoas *ioas, uint64_t iova, size_t len,
                          unsigned access)
{
    EmuArea *area = emu_ioas_find(ioas, iova);

    if (!area || (area->prot & access) != access ||
        len > area->length - (iova - area->iova)) {
        return NULL;
    }
    if (!area->hva || (area->dmabuf && area->dmabuf->revoked)) {
        return NULL;    /* not pinnable, or revoked: nothing mapped */
    }
    return area->hva + (iova - area->iova);
}

/* ---- reserved regions ---- */

static bool hwpt_in_use(const EmuHwpt *hwpt)
{
    return hwpt->attached || hwpt->nested_attached;
}

/* What lies outside the aperture of @iommu's paging domains */
static void iommu_aperture_gaps(const EmuIommu *iommu, GArray *out)
{
    Range r;

    if (iommu->cfg.ias < 64) {
        r.first = 1ULL << iommu->cfg.ias;
        r.last = UINT64_MAX;
        g_array_append_val(out, r);
    }
    if (iommu->ops->reserved) {
        iommu->ops->reserved(iommu, out);
    }
}

/* What @iommu's driver reserves for each device (get_resv_regions) */
static void iommu_dev_regions(const EmuIommu *iommu, GArray *out)
{
    Range r;

    switch (iommu->cfg.kind) {
    case EMU_HW_VTD:
        r.first = 0xfee00000;           /* x86 MSI window */
        r.last = 0xfeefffff;
        g_array_append_val(out, r);
        break;
    case EMU_HW_SMMUV3:
        r.first = 0x8000000;            /* Linux's software MSI window */
        r.last = 0x80fffff;
        g_array_append_val(out, r);
        break;
    default:
        break;
    }
}

/* Reserved ranges the hardware behind @iommu imposes on an IOAS. */
static void iommu_reserved(const EmuIommu *iommu, GArray *out)
{
    iommu_aperture_gaps(iommu, out);
    iommu_dev_regions(iommu, out);
}

static bool allowed_intersects(GArray *allowed, uint64_t first,
                               uint64_t last);

/*
 * iopt_reserve_iova() for each of @ranges: EADDRINUSE where an area or
 * an allowed range lies; each reservation is an allocation, so an
 * injection point. The model keeps no record of them (the reserved
 * ranges of an IOAS are computed from what is attached to it), so the
 * unwind has nothing to undo.
 */
static int reserve_each(EmuIoas *ioas, GArray *ranges)
{
    guint i;
    int rc;

    for (i = 0; i < ranges->len; i++) {
        Range *x = &g_array_index(ranges, Range, i);

        if (range_has_area(ioas, x->first, x->last) ||
            allowed_intersects(ioas->allowed, x->first, x->last)) {
            return -EADDRINUSE;
        }
        rc = emu_host_op(ioas->obj.ctx->host);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* iopt_table_add_domain(): each side outside the new domain's aperture */
int emu_ioas_reserve_aperture(EmuIoas *ioas, const EmuIommu *iommu)
{
    g_autoptr(GArray) r = g_array_new(false, false, sizeof(Range));

    iommu_aperture_gaps(iommu, r);
    return reserve_each(ioas, r);
}

/*
 * iopt_table_enforce_dev_resv_regions(): the regions the driver reserves
 * for a device, when it attaches to (or is replaced onto) a paging
 * domain of another IOAS by its RID.
 */
int emu_ioas_reserve_dev_regions(EmuIoas *ioas, const EmuIommu *iommu)
{
    g_autoptr(GArray) r = g_array_new(false, false, sizeof(Range));

    iommu_dev_regions(iommu, r);
    return reserve_each(ioas, r);
}

static gint range_cmp(gconstpointer a, gconstpointer b)
{
    const Range *x = a, *y = b;

    return x->first < y->first ? -1 : x->first > y->first;
}

/* Sorted reserved ranges of @ioas, plus those @extra would add. */
static GArray *ioas_reserved(EmuIoas *ioas, const EmuIommu *extra)
{
    GArray *r = g_array_new(false, false, sizeof(Range));
    GList *l;

    for (l = ioas->hwpts; l; l = l->next) {
        EmuHwpt *hwpt = l->data;

        if (hwpt_in_use(hwpt)) {
            iommu_reserved(hwpt->iommu, r);
        }
    }
    if (extra) {
        iommu_reserved(extra, r);
    }
    g_array_append_vals(r, ioas->reserved->data, ioas->reserved->len);
    g_array_sort(r, range_cmp);
    return r;
}

static bool range_reserved(GArray *resv, uint64_t first, uint64_t last)
{
    guint i;

    for (i = 0; i < resv->len; i++) {
        Range *r = &g_array_index(resv, Range, i);

        if (r->first <= last && first <= r->last) {
            return true;
        }
    }
    return false;
}

/*
 * Attaching a device of @iommu to a HWPT on @ioas: refused if a mapping
 * sits where that IOMMU reserves IOVAs.
 */
int emu_ioas_check_attach(EmuIoas *ioas, const EmuIommu *iommu)
{
    g_autoptr(GArray) r = g_array_new(false, false, sizeof(Range));
    guint i;

    iommu_reserved(iommu, r);
    for (i = 0; i < r->len; i++) {
        Range *x = &g_array_index(r, Range, i);

        if (range_has_area(ioas, x->first, x->last)) {
            return -EADDRINUSE;
        }
    }
    return 0;
}

/* Does [first, last] meet one of @allowed's ranges? */
static bool allowed_intersects(GArray *allowed, uint64_t first, uint64_t last)
{
    guint i;

    for (i = 0; i < allowed->len; i++) {
        struct iommu_iova_range *r =
            &g_array_index(allowed, struct iommu_iova_range, i);

        if (r->start <= last && first <= r->last) {
            return true;
        }
    }
    return false;
}

int emu_ioas_add_reserved(EmuIoas *ioas, uint64_t first, uint64_t last)
{
    Range r = { .first = first, .last = last };
    int rc;

    if (last < first) {
        return -EINVAL;
    }
    if (range_has_area(ioas, first, last) ||
        allowed_intersects(ioas->allowed, first, last)) {
        return -EADDRINUSE;
    }
    /* iopt_reserve_iova(): the reserved node (kzalloc) */
    rc = emu_host_op(ioas->obj.ctx->host);
    if (rc) {
        return rc;
    }
    g_array_append_val(ioas->reserved, r);
    return 0;
}

typedef struct UserRefs {
    EmuIoas *ioas;
    uint64_t addr;              /* a user page */
    uint64_t pfn;               /* its frame, if have_pfn */
    bool have_pfn;
    GHashTable *seen;
    unsigned n;
} UserRefs;

/* Does the MAP_FILE area @a hold the page frame @pfn (our own mapping)? */
static bool file_area_has_pfn(const EmuArea *a, uint64_t pfn)
{
    uint64_t va = (uintptr_t)a->hva & EMU_PAGE_MASK;
    uint64_t n = (((uintptr_t)a->hva + a->length - 1) >> EMU_PAGE_SHIFT) -
                 (va >> EMU_PAGE_SHIFT) + 1, i;
    g_autofree uint64_t *pfns = NULL;

    if (!a->hva) {
        return false;           /* nothing pinned */
    }
    pfns = g_new(uint64_t, n);
    if (emu_user_pfns(va, n, pfns)) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (pfns[i] == pfn) {
            return true;
        }
    }
    return false;
}

/*
 * Does @area pin the user page at refs->addr? MAP areas hold the caller's
 * own pages: any overlap with the page counts, a sub-page start included.
 * MAP_FILE areas hold the file's pages, found by frame. An area's pages
 * are pinned while its IOAS has a domain or an access pins them
 * (iopt_pages pins once for all its users), and each page set counts
 * once however many copies map it.
 */
static gboolean area_holds(gpointer key, gpointer value, gpointer opaque)
{
    EmuArea *area = value;
    UserRefs *refs = opaque;
    uint64_t hva = (uintptr_t)area->hva, first = area->iova;
    uint64_t last = area->iova + area->length - 1;

    if (g_hash_table_contains(refs->seen, &area->pages_id)) {
        return false;
    }
    if (!area->map_refs) {
        if (refs->addr > hva + area->length - 1 ||
            hva > refs->addr + EMU_PAGE_SIZE - 1) {
            return false;
        }
        /* the IOVAs of this area that map the page */
        first += MAX(refs->addr, hva) - hva;
        last = MIN(last, area->iova +
                         (refs->addr + EMU_PAGE_SIZE - 1 - hva));
    } else if (!refs->have_pfn || !file_area_has_pfn(area, refs->pfn)) {
        return false;
    }
    if (refs->ioas->hwpts ||
        emu_access_pins_range(refs->ioas, first, last)) {
        g_hash_table_add(refs->seen, &area->pages_id);
        refs->n++;
    }
    return false;
}

unsigned emu_ioas_user_refs(EmuIoas *ioas, uint64_t addr, GHashTable *seen)
{
    UserRefs refs = { .addr = addr, .seen = seen, .ioas = ioas };

    refs.have_pfn = !emu_user_pfns(addr, 1, &refs.pfn);
    g_tree_foreach(ioas->areas, area_holds, &refs);
    return refs.n;
}

/* Free IOVA ranges: the complement of the reserved ranges. */
static GArray *ioas_usable(EmuIoas *ioas)
{
    g_autoptr(GArray) resv = ioas_reserved(ioas, NULL);
    GArray *out = g_array_new(false, false, sizeof(struct iommu_iova_range));
    uint64_t next = 0;
    bool done = false;
    guint i;

    for (i = 0; i < resv->len && !done; i++) {
        Range *r = &g_array_index(resv, Range, i);

        if (r->first > next) {
            struct iommu_iova_range u = { .start = next, .last = r->first - 1 };

            g_array_append_val(out, u);
        }
        if (r->last == UINT64_MAX) {
            done = true;
        } else if (r->last + 1 > next) {
            next = r->last + 1;
        }
    }
    if (!done) {
        struct iommu_iova_range u = { .start = next, .last = UINT64_MAX };

        g_array_append_val(out, u);
    }
    return out;
}

/* ---- IOVA allocation for maps without FIXED_IOVA ---- */

static int check_user_range(uint64_t uptr, uint64_t length);

static uint64_t iommu_min_page(const EmuIommu *iommu)
{
    return iommu->ops->min_page ? iommu->ops->min_page : EMU_PAGE_SIZE;
}

/*
 * The IOVA alignment of @ioas: the largest of the smallest page sizes of
 * the paging domains built on it (2 KiB for the selftest mock); as in
 * Linux, a domain counts from its allocation, and with none it is 1.
 */
static uint64_t ioas_domain_alignment(EmuIoas *ioas)
{
    uint64_t align = 0;
    GList *l;

    for (l = ioas->hwpts; l; l = l->next) {
        align = MAX(align, iommu_min_page(((EmuHwpt *)l->data)->iommu));
    }
    return align;
}

/*
 * The IOAS's IOVA alignment (iopt_calculate_iova_alignment): the smallest
 * page of its domains, and PAGE_SIZE while large pages are disabled.
 */
static uint64_t ioas_alignment(EmuIoas *ioas)
{
    uint64_t align = ioas_domain_alignment(ioas);

    if (!ioas->huge_pages) {
        align = MAX(align, EMU_PAGE_SIZE);
    }
    return align ? align : 1;
}

static gboolean area_misaligned_to(gpointer key, gpointer value,
                                   gpointer data)
{
    const EmuArea *a = value;
    uint64_t *align = data;

    if ((a->iova | a->length | (uintptr_t)a->hva) & (*align - 1)) {
        *align = 0;
        return true;
    }
    return false;
}

/*
 * IOMMU_OPTION_HUGE_PAGES=0 (iopt_disable_large_pages): refused (EINVAL)
 * once domains have pages mapped; the alignment becomes at least
 * PAGE_SIZE, refused (EADDRINUSE, iopt_check_iova_alignment) if an area's
 * IOVA, length or offset in its page is not aligned to it.
 */
int emu_ioas_disable_large_pages(EmuIoas *ioas)
{
    uint64_t align;

    if (!ioas->huge_pages) {
        return 0;
    }
    if (ioas->hwpts && g_tree_nnodes(ioas->areas)) {
        return -EINVAL;
    }
    align = MAX(ioas_alignment(ioas), EMU_PAGE_SIZE);
    g_tree_foreach(ioas->areas, area_misaligned_to, &align);
    if (!align) {
        return -EADDRINUSE;
    }
    ioas->huge_pages = false;
    return 0;
}

static gboolean area_misaligned(gpointer key, gpointer value, gpointer data)
{
    const EmuArea *a = value;
    uint64_t *page = data;

    if ((a->iova | a->length) & (*page - 1)) {
        *page = 0;
        return true;
    }
    return false;
}

/*
 * A new paging domain of @iommu must be able to map every area: Linux
 * refuses it (EADDRINUSE) when one is not aligned to its pages.
 */
static gboolean area_unpinnable(gpointer key, gpointer value, gpointer data)
{
    const EmuArea *a = value;

    if (!a->map_refs &&
        check_user_range((uintptr_t)a->hva, a->length)) {
        *(int *)data = -EFAULT;
        return true;
    }
    if (a->map_refs && !a->hva) {
        *(int *)data = -EINVAL;     /* a file memfd_pin_folios refuses */
        return true;
    }
    return false;
}

int emu_ioas_check_domain(EmuIoas *ioas, const EmuIommu *iommu)
{
    uint64_t page = iommu_min_page(iommu);
    int rc = 0;

    g_tree_foreach(ioas->areas, area_misaligned, &page);
    if (!page) {
        return -EADDRINUSE;
    }
    /* The first domain pins what was mapped before it. */
    if (!ioas->hwpts) {
        g_tree_foreach(ioas->areas, area_unpinnable, &rc);
    }
    return rc;
}

static bool span_free(EmuIoas *ioas, GArray *resv, uint64_t first,
                      uint64_t last)
{
    return !range_reserved(resv, first, last) &&
           !range_has_area(ioas, first, last);
}

static bool allowed_contains(EmuIoas *ioas, uint64_t first, uint64_t last)
{
    guint i;

    if (!ioas->allowed->len) {
        return true;
    }
    for (i = 0; i < ioas->allowed->len; i++) {
        struct iommu_iova_range *r =
            &g_array_index(ioas->allowed, struct iommu_iova_range, i);

        if (r->start <= first && last <= r->last) {
            return true;
        }
    }
    return false;
}

/* Largest alignment an allocated IOVA keeps: HPAGE_SIZE (x86 THP) */
#define IOVA_ALLOC_MAX_ALIGN    (2ULL * 1024 * 1024)

/*
 * An IOVA for [uptr, +length), as iopt_alloc_iova chooses it: aligned to
 * the smaller of length rounded up to a power of two and the alignment
 * uptr has (at most 2 MiB), keeping uptr's offset in its page; never in
 * the first or the last page of the address space; the lowest that fits
 * in an allowed range clear of reserved ranges and areas. Candidates are
 * the starts of the holes: page 1, allowed range starts, the ends of
 * reserved ranges and areas.
 */
static int iova_alloc(EmuIoas *ioas, uint64_t length, uint64_t uptr,
                      uint64_t *iova)
{
    g_autoptr(GArray) resv = ioas_reserved(ioas, NULL);
    g_autoptr(GArray) cand = g_array_new(false, false, sizeof(uint64_t));
    uint64_t page_offset = uptr % EMU_PAGE_SIZE;
    uint64_t align, best = UINT64_MAX, c;
    GTreeNode *node;
    guint i;

    if (!length || length >= UINT64_MAX / 2) {
        return -EOVERFLOW;
    }
    align = length == 1 ? 1 : 1ULL << (64 - __builtin_clzll(length - 1));
    if (uptr) {
        align = MIN(align, uptr & -uptr);
    }
    align = MIN(align, IOVA_ALLOC_MAX_ALIGN);
    if (align < ioas_alignment(ioas)) {
        return -EINVAL;
    }
    c = EMU_PAGE_SIZE;
    g_array_append_val(cand, c);
    for (i = 0; i < ioas->allowed->len; i++) {
        g_array_append_val(cand, g_array_index(ioas->allowed,
                                               struct iommu_iova_range,
                                               i).start);
    }
    for (i = 0; i < resv->len; i++) {
        c = g_array_index(resv, Range, i).last + 1;
        g_array_append_val(cand, c);
    }
    for (node = g_tree_node_first(ioas->areas); node;
         node = g_tree_node_next(node)) {
        EmuArea *a = g_tree_node_value(node);

        c = a->iova + a->length;
        g_array_append_val(cand, c);
    }
    for (i = 0; i < cand->len; i++) {
        uint64_t base = MAX(g_array_index(cand, uint64_t, i), EMU_PAGE_SIZE);
        uint64_t last;

        if (__builtin_add_overflow(base, align - 1, &c)) {
            continue;
        }
        c = (c & ~(align - 1)) | page_offset;
        if (c >= best || __builtin_add_overflow(c, length - 1, &last) ||
            last > UINT64_MAX - EMU_PAGE_SIZE) {
            continue;
        }
        if (span_free(ioas, resv, c, last) &&
            allowed_contains(ioas, c, last)) {
            best = c;
        }
    }
    if (best == UINT64_MAX) {
        return -ENOSPC;
    }
    *iova = best;
    return 0;
}

/* Validate and place [*iova, +length): fixed or allocated. */
static int iova_place(EmuIoas *ioas, bool fixed, uint64_t *iova,
                      uint64_t length, uint64_t uptr)
{
    g_autoptr(GArray) resv = NULL;
    uint64_t last;

    if (!length) {
        return -EINVAL;
    }
    if (!fixed) {
        if (length & (ioas_alignment(ioas) - 1)) {
            return -EINVAL;     /* iopt_alloc_area_pages */
        }
        return iova_alloc(ioas, length, uptr, iova);
    }
    if ((*iova | length) & (ioas_alignment(ioas) - 1)) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(*iova, length - 1, &last)) {
        return -EOVERFLOW;
    }
    resv = ioas_reserved(ioas, NULL);
    if (range_reserved(resv, *iova, last)) {
        return -EINVAL;
    }
    if (range_has_area(ioas, *iova, last)) {
        return -EEXIST;
    }
    return 0;
}

static void area_insert(EmuIoas *ioas, EmuArea *area)
{
    g_tree_insert(ioas->areas, &area->iova, area);
}

/*
 * Split the area holding @iova so that @iova ends one piece
 * (iopt_cut_iova / iopt_area_split): nothing to do at an area's edge or
 * outside any area; EINVAL when the new start or its byte in the pages is
 * not aligned to the IOAS, while an access pins the area, or when a domain
 * may map it with large pages; EBUSY while a HW queue holds it.
 */
int emu_ioas_cut(EmuIoas *ioas, uint64_t iova)
{
    EmuArea *a = emu_ioas_find(ioas, iova), *rhs;
    uint64_t align = ioas_alignment(ioas), new_start = iova + 1, off;
    int rc;

    if (!a || iova == a->iova || iova == a->iova + a->length - 1) {
        return 0;
    }
    if (a->pins) {
        return -EBUSY;
    }
    off = new_start - a->iova;
    if ((new_start & (align - 1)) ||
        (((uintptr_t)a->hva + off) & (align - 1))) {
        return -EINVAL;
    }
    if (emu_access_pins_range(ioas, a->iova, a->iova + a->length - 1) ||
        (ioas->hwpts && ioas->huge_pages)) {
        return -EINVAL;
    }
    /* iopt_area_split(): the new area (iopt_alloc_area) */
    rc = emu_host_op(ioas->obj.ctx->host);
    if (rc) {
        return rc;
    }
    rhs = g_new0(EmuArea, 1);
    *rhs = *a;
    rhs->iova = new_start;
    rhs->length = a->length - off;
    rhs->hva = a->hva ? a->hva + off : NULL;
    if (rhs->map_refs) {
        (*rhs->map_refs)++;
    }
    a->length = off;
    area_insert(ioas, rhs);
    return 0;
}

/*
 * VT-d erratum 772415 (SPR17): a nest-parent domain cannot hold read-only
 * mappings, so the IOAS behind one refuses them.
 */
static bool spr17_parent(const EmuHwpt *hwpt)
{
    return (hwpt->flags & IOMMU_HWPT_ALLOC_NEST_PARENT) &&
           hwpt->iommu->cfg.kind == EMU_HW_VTD &&
           hwpt->iommu->cfg.vtd.errata_spr17;
}

static int check_readonly(EmuIoas *ioas, uint32_t flags)
{
    GList *l;

    if (flags & IOMMU_IOAS_MAP_WRITEABLE) {
        return 0;
    }
    for (l = ioas->hwpts; l; l = l->next) {
        if (spr17_parent(l->data)) {
            return -EINVAL;
        }
    }
    return 0;
}

static gboolean area_readonly(gpointer key, gpointer value, gpointer found)
{
    if (!(((EmuArea *)value)->prot & EMU_DMA_WRITE)) {
        *(bool *)found = true;
        return true;
    }
    return false;
}

bool emu_ioas_has_readonly(EmuIoas *ioas)
{
    bool found = false;

    g_tree_foreach(ioas->areas, area_readonly, &found);
    return found;
}

static unsigned map_prot(uint32_t flags)
{
    return ((flags & IOMMU_IOAS_MAP_READABLE) ? EMU_DMA_READ : 0) |
           ((flags & IOMMU_IOAS_MAP_WRITEABLE) ? EMU_DMA_WRITE : 0);
}

/* What every map flavour checks once its own flags are valid. */
static int map_begin(EmuCtx *ctx, uint32_t flags, uint32_t ioas_id,
                     EmuIoas **ioas)
{
    if (!(flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE))) {
        return -EINVAL;
    }
    *ioas = ioas_get(ctx, ioas_id);
    if (!*ioas) {
        return -ENOENT;
    }
    return check_readonly(*ioas, flags);
}

static EmuArea *area_new(uint64_t iova, uint64_t length, uint8_t *hva,
                         uint32_t flags)
{
    EmuArea *area = g_new0(EmuArea, 1);

    area->iova = iova;
    area->length = length;
    area->hva = hva;
    area->prot = map_prot(flags);
    return area;
}

/*
 * iopt_table_add_domain() -> iopt_fill_domain(): a new domain gets every
 * area of the IOAS mapped into it, area by area (iopt_area_fill_domain(),
 * which can fail on each), and on a failure the areas already mapped are
 * unmapped again. The model's domains translate through the areas, so
 * the unwind has nothing to undo: one injection point per area.
 */
int emu_ioas_fill_domain(EmuIoas *ioas)
{
    GTreeNode *node;
    int rc = 0;

    for (node = g_tree_node_first(ioas->areas); node && !rc;
         node = g_tree_node_next(node)) {
        rc = emu_host_op(ioas->obj.ctx->host);
    }
    return rc;
}

/*
 * iopt_area_fill_domains(): a new area's pages are read (pinned for a
 * user map: pfn_reader_first(), its batch and pin_user_pages()), then
 * mapped into each domain of the IOAS in turn, the ones already filled
 * unmapped again on a failure. One injection point for the read and one
 * per domain; nothing to unwind in the model (see above).
 */
static int area_fill_domains(EmuIoas *ioas)
{
    GList *l;
    int rc;

    if (!ioas->hwpts) {
        return 0;
    }
    rc = emu_host_op(ioas->obj.ctx->host);
    for (l = ioas->hwpts; l && !rc; l = l->next) {
        rc = emu_host_op(ioas->obj.ctx->host);
    }
    return rc;
}

/* "Pin" the caller's pages: the whole range must be mapped memory. */
#define MINCORE_WINDOW  4096ULL         /* pages per mincore() call */

static int check_user_range(uint64_t uptr, uint64_t length)
{
    unsigned char vec[MINCORE_WINDOW];
    uint64_t start = uptr & EMU_PAGE_MASK;
    uint64_t npages;

    if (!uptr || uptr + length < uptr) {
        return -EFAULT;
    }
    npages = (uptr + length - start + EMU_PAGE_SIZE - 1) >> EMU_PAGE_SHIFT;
    while (npages) {
        uint64_t n = MIN(npages, MINCORE_WINDOW);

        if (mincore((void *)(uintptr_t)start, n << EMU_PAGE_SHIFT, vec)) {
            return -EFAULT;
        }
        start += n << EMU_PAGE_SHIFT;
        npages -= n;
    }
    return 0;
}

int emu_ioas_map(EmuCtx *ctx, struct iommu_ioas_map *cmd)
{
    EmuIoas *ioas;
    EmuArea *area;
    uint64_t iova = cmd->iova;
    int rc;

    if ((cmd->flags & ~MAP_FLAGS) || cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX) {
        return -EOVERFLOW;
    }
    rc = map_begin(ctx, cmd->flags, cmd->ioas_id, &ioas);
    if (rc) {
        return rc;
    }
    rc = iova_place(ioas, cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA, &iova,
                    cmd->length, cmd->user_va);
    if (rc) {
        return rc;
    }
    if ((iova ^ cmd->user_va) & (ioas_alignment(ioas) - 1)) {
        return -EINVAL;
    }
    /* The area record (iopt_alloc_pages and iopt_alloc_area's) */
    rc = emu_host_op(ctx->host);
    /* Like Linux, pin (here: check) the pages once a domain needs them. */
    if (!rc && ioas->hwpts) {
        rc = check_user_range(cmd->user_va, cmd->length);
    }
    if (!rc) {
        rc = area_fill_domains(ioas);
    }
    if (rc) {
        return rc;
    }
    area = area_new(iova, cmd->length, (uint8_t *)(uintptr_t)cmd->user_va,
                    cmd->flags);
    area->pages_id = ++ctx->host->next_pages_id;
    area_insert(ioas, area);
    cmd->iova = iova;
    return 0;
}

/*
 * Could a domain pin [start, start+length) of this file? memfd_pin_folios
 * takes shmem and hugetlbfs files only, and only below their size.
 */
static bool file_pinnable(int fd, const struct stat *st, uint64_t start,
                          uint64_t length)
{
    struct statfs sfs;

    if (fstatfs(fd, &sfs) < 0 ||
        (sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC)) {
        return false;
    }
    return start + length - 1 < (uint64_t)st->st_size;
}

int emu_ioas_map_file(EmuCtx *ctx, struct iommu_ioas_map_file *cmd)
{
    const EmuDmabuf *dmabuf;
    EmuIoas *ioas;
    EmuArea *area;
    uint64_t iova = cmd->iova, start_byte;
    struct stat st;
    void *base;
    int rc, prot;

    if ((cmd->flags & ~MAP_FLAGS)) {
        return -EOPNOTSUPP;
    }
    if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX ||
        cmd->start >= UINT64_MAX) {
        return -EOVERFLOW;
    }
    rc = map_begin(ctx, cmd->flags, cmd->ioas_id, &ioas);
    if (rc) {
        return rc;
    }
    if (!cmd->length) {
        return -EINVAL;
    }
    if (fstat(cmd->fd, &st) < 0) {
        return -EBADF;
    }
    dmabuf = emu_dmabuf_find(ctx->host, st.st_dev, st.st_ino);
    if (dmabuf) {
        /* iopt_alloc_dmabuf_pages, and the exporter refusing when revoked */
        if (dmabuf->size <= cmd->start + cmd->length - 1) {
            return -EINVAL;
        }
        if (dmabuf->revoked) {
            return -ENODEV;
        }
    } else if (ioas->hwpts && !file_pinnable(cmd->fd, &st, cmd->start,
                                             cmd->length)) {
        return -EINVAL;     /* memfd_pin_folios, filling the domains */
    }
    rc = iova_place(ioas, cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA, &iova,
                    cmd->length, cmd->start);
    if (!rc) {
        /* The file's pages record (iopt_alloc_file_pages): our mapping */
        rc = emu_host_op(ctx->host);
    }
    if (rc) {
        return rc;
    }
    prot = PROT_READ | ((cmd->flags & IOMMU_IOAS_MAP_WRITEABLE) ? PROT_WRITE
                                                                 : 0);
    /*
     * The start need not be page aligned (iopt_map_file_pages keeps its
     * offset in the first page, start_byte): map from the page holding
     * it and point the area at the byte. A file no domain could pin is
     * not mapped: with no domain Linux takes it unchecked, and it only
     * fails once a domain has to pin it (the area stays unbacked here).
     */
    start_byte = cmd->start & ~EMU_PAGE_MASK;
    base = NULL;
    if (dmabuf || file_pinnable(cmd->fd, &st, cmd->start, cmd->length)) {
        base = mmap(NULL, cmd->length + start_byte, prot, MAP_SHARED,
                    cmd->fd, cmd->start - start_byte);
        if (base == MAP_FAILED) {
            return -errno;
        }
    }
    /* The area (iopt_alloc_area), then the domains (memfd_pin_folios) */
    rc = emu_host_op(ctx->host);
    if (!rc) {
        rc = area_fill_domains(ioas);
    }
    if (rc) {
        if (base) {
            munmap(base, cmd->length + start_byte);
        }
        return rc;
    }
    area = area_new(iova, cmd->length,
                    base ? (uint8_t *)base + start_byte : NULL, cmd->flags);
    area->map_base = base;
    area->map_len = base ? cmd->length + start_byte : 0;
    area->map_refs = g_new(unsigned, 1);
    *area->map_refs = 1;
    area->dmabuf = dmabuf;
    area->pages_id = ++ctx->host->next_pages_id;
    area_insert(ioas, area);
    cmd->iova = iova;
    return 0;
}

/*
 * COPY: the source range must be covered by areas without holes; the
 * destination gets areas pointing at the same memory.
 */
int emu_ioas_copy(EmuCtx *ctx, struct iommu_ioas_copy *cmd)
{
    EmuIoas *src, *dst;
    uint64_t iova = cmd->dst_iova, pos, last;
    GPtrArray *pieces;
    GTreeNode *node;
    guint i;
    int rc;

    if (cmd->flags & ~MAP_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX ||
        cmd->dst_iova >= UINT64_MAX) {
        return -EOVERFLOW;
    }
    if (!(cmd->flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE))) {
        return -EINVAL;
    }
    src = ioas_get(ctx, cmd->src_ioas_id);
    dst = ioas_get(ctx, cmd->dst_ioas_id);
    if (!src || !dst) {
        return -ENOENT;
    }
    if (!cmd->length ||
        __builtin_add_overflow(cmd->src_iova, cmd->length - 1, &last)) {
        return -EINVAL;
    }
    rc = check_readonly(dst, cmd->flags);
    if (rc) {
        return rc;
    }
    /* The source must be mapped throughout. */
    pos = cmd->src_iova;
    for (node = area_iter_first(src, pos); node && pos <= last;
         node = g_tree_node_next(node)) {
        EmuArea *a = g_tree_node_value(node);

        if (a->iova > pos) {
            break;
        }
        pos = a->iova + a->length;
        if (pos == 0) {
            break;
        }
    }
    if (pos <= last && pos != 0) {
        return -ENOENT;
    }
    rc = iova_place(dst, cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA, &iova,
                    cmd->length, cmd->src_iova);
    if (rc) {
        return rc;
    }
    /*
     * iopt_get_pages() lists the source's pages, then iopt_map_pages()
     * allocates an area for each (the model: one record, one injection
     * point each) and fills the destination's domains with each; a
     * failure frees them all and the destination is as before.
     */
    pieces = g_ptr_array_new_with_free_func(area_free);
    for (node = area_iter_first(src, cmd->src_iova); node;
         node = g_tree_node_next(node)) {
        EmuArea *a = g_tree_node_value(node), *n;
        uint64_t from = MAX(a->iova, cmd->src_iova);
        uint64_t to = MIN(a->iova + a->length - 1, last);

        if (a->iova > last) {
            break;
        }
        rc = emu_host_op(ctx->host);   /* the piece's area */
        if (rc) {
            g_ptr_array_free(pieces, true);
            return rc;
        }
        n = area_new(iova + (from - cmd->src_iova), to - from + 1,
                     a->hva ? a->hva + (from - a->iova) : NULL, cmd->flags);
        if (a->map_refs) {
            n->map_base = a->map_base;
            n->map_len = a->map_len;
            n->map_refs = a->map_refs;
            n->dmabuf = a->dmabuf;
            (*n->map_refs)++;
        }
        n->pages_id = a->pages_id;     /* the same iopt_pages */
        g_ptr_array_add(pieces, n);
    }
    for (i = 0; i < pieces->len && !rc; i++) {
        rc = area_fill_domains(dst);   /* iopt_fill_domains_pages() */
    }
    if (rc) {
        g_ptr_array_free(pieces, true);
        return rc;
    }
    g_ptr_array_set_free_func(pieces, NULL);
    for (i = 0; i < pieces->len; i++) {
        area_insert(dst, g_ptr_array_index(pieces, i));
    }
    g_ptr_array_free(pieces, true);
    cmd->dst_iova = iova;
    return 0;
}

/* Walk the areas covering [iova, iova+length); false on a hole. */
static bool pin_walk(EmuIoas *ioas, uint64_t iova, uint64_t length,
                     int delta)
{
    uint64_t pos = iova, end = iova + length;

    while (pos < end) {
        EmuArea *a = emu_ioas_find(ioas, pos);

        if (!a) {
            return false;
        }
        a->pins += delta;
        pos = a->iova + a->length;
        if (!pos) {
            break;              /* the area ends at the top of the space */
        }
    }
    return true;
}

bool emu_ioas_pin(EmuIoas *ioas, uint64_t iova, uint64_t length, bool take)
{
    if (!pin_walk(ioas, iova, length, 0)) {
        return false;
    }
    return !take || pin_walk(ioas, iova, length, 1);
}

void emu_ioas_unpin(EmuIoas *ioas, uint64_t iova, uint64_t length)
{
    pin_walk(ioas, iova, length, -1);
}

static gboolean area_pinned(gpointer key, gpointer value, gpointer opaque)
{
    EmuArea *a = value;
    EmuRange *r = opaque;

    if (a->pins && a->iova <= r->last &&
        r->first <= a->iova + a->length - 1) {
        r->first = 1;
        r->last = 0;            /* found: an empty range as the flag */
        return true;
    }
    return false;
}

static bool range_pinned(EmuIoas *ioas, uint64_t first, uint64_t last)
{
    EmuRange r = { .first = first, .last = last };

    g_tree_foreach(ioas->areas, area_pinned, &r);
    return r.first > r.last;
}

/* Remove whole areas inside [first, last]; ENOENT on a partial overlap. */
static int unmap_range(EmuIoas *ioas, uint64_t first, uint64_t last,
                       uint64_t *unmapped)
{
    GTreeNode *node;
    int rc = -ENOENT;

    *unmapped = 0;
    if (range_pinned(ioas, first, last)) {
        return -EBUSY;          /* a hardware queue lives there */
    }
    while ((node = area_iter_first(ioas, first))) {
        EmuArea *a = g_tree_node_value(node);
        uint64_t a_last = a->iova + a->length - 1;

        if (a->iova > last) {
            break;
        }
        if (a->iova < first || a_last > last) {
            return -ENOENT;
        }
        *unmapped += a->length;
        emu_access_notify_unmap(ioas, a->iova, a->length);
        g_tree_remove(ioas->areas, &a->iova);
        rc = 0;
        if (a_last == UINT64_MAX) {
            break;
        }
        first = a_last + 1;
    }
    return rc;
}

int emu_ioas_unmap(EmuCtx *ctx, struct iommu_ioas_unmap *cmd)
{
    EmuIoas *ioas = ioas_get(ctx, cmd->ioas_id);
    uint64_t unmapped = 0, last;
    int rc;

    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
        rc = unmap_range(ioas, 0, UINT64_MAX, &unmapped);
        if (rc == -ENOENT) {
            rc = 0;         /* unmapping everything of nothing is fine */
        }
    } else {
        if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX) {
            return -EOVERFLOW;
        }
        if (!cmd->length) {
            return -EINVAL;
        }
        if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last)) {
            return -EOVERFLOW;
        }
        rc = unmap_range(ioas, cmd->iova, last, &unmapped);
    }
    cmd->length = unmapped;
    return rc;
}

GArray *emu_ioas_usable(EmuIoas *ioas)
{
    return ioas_usable(ioas);
}

uint64_t emu_ioas_iova_alignment(EmuIoas *ioas)
{
    return ioas_alignment(ioas);
}

bool emu_ioas_range_mapped(EmuIoas *ioas, uint64_t first, uint64_t last)
{
    return range_has_area(ioas, first, last);
}

int emu_ioas_iova_ranges(EmuCtx *ctx, struct iommu_ioas_iova_ranges *cmd)
{
    EmuIoas *ioas = ioas_get(ctx, cmd->ioas_id);
    g_autoptr(GArray) usable = NULL;
    uint32_t max;
    int rc;

    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    usable = ioas_usable(ioas);
    max = cmd->num_iovas;
    cmd->num_iovas = usable->len;
    cmd->out_iova_alignment = ioas_alignment(ioas);
    rc = emu_copy_to_user(cmd->allowed_iovas, usable->data,
                          MIN(max, usable->len) *
                          sizeof(struct iommu_iova_range));
    if (rc) {
        return rc;
    }
    return max < usable->len ? -EMSGSIZE : 0;
}

int emu_ioas_allow_iovas(EmuCtx *ctx, struct iommu_ioas_allow_iovas *cmd)
{
    EmuIoas *ioas = ioas_get(ctx, cmd->ioas_id);
    g_autoptr(GArray) ranges = NULL;
    guint i;
    int rc;

    if (!ioas) {
        return -ENOENT;
    }
    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if (cmd->num_iovas > 1u << 20) {
        return -EINVAL;
    }
    ranges = g_array_sized_new(false, true, sizeof(struct iommu_iova_range),
                               cmd->num_iovas);
    g_array_set_size(ranges, cmd->num_iovas);
    rc = emu_copy_from_user(ranges->data, cmd->allowed_iovas,
                            cmd->num_iovas * sizeof(struct iommu_iova_range));
    if (rc) {
        return rc;
    }
    for (i = 0; i < ranges->len; i++) {
        struct iommu_iova_range *r =
            &g_array_index(ranges, struct iommu_iova_range, i);
        guint j;

        /* Any byte range, as Linux takes (allocation aligns within it). */
        if (r->start > r->last) {
            return -EINVAL;
        }
        for (j = 0; j < i; j++) {
            struct iommu_iova_range *o =
                &g_array_index(ranges, struct iommu_iova_range, j);

            if (o->start <= r->last && r->start <= o->last) {
                return -EINVAL;
            }
        }
    }
    for (i = 0; i < ioas->reserved->len; i++) {
        Range *r = &g_array_index(ioas->reserved, Range, i);

        if (allowed_intersects(ranges, r->first, r->last)) {
            return -EADDRINUSE;
        }
    }
    /*
     * The new allowed list (iommufd_ioas_allow_iovas(): its nodes); the
     * old one stays on failure.
     */
    if (ranges->len) {
        rc = emu_host_op(ctx->host);
        if (rc) {
            return rc;
        }
    }
    g_array_set_size(ioas->allowed, 0);
    g_array_append_vals(ioas->allowed, ranges->data, ranges->len);
    return 0;
}

static gboolean area_not_file(gpointer key, gpointer value, gpointer found)
{
    *(bool *)found = !((EmuArea *)value)->map_refs;
    return *(bool *)found;
}

/*
 * CHANGE_PROCESS moves the pinned-page accounting of every map to the
 * caller. Only MAP_FILE maps can move; the model keeps no per-process
 * accounting, so it only checks that.
 */
int emu_ioas_change_process(EmuCtx *ctx, struct iommu_ioas_change_process *cmd)
{
    bool found = false;
    guint i;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    for (i = 0; i < ctx->objs->len && !found; i++) {
        EmuObj *obj = g_ptr_array_index(ctx->objs, i);

        if (obj && obj->type == EMU_OBJ_IOAS) {
            g_tree_foreach(((EmuIoas *)obj)->areas, area_not_file, &found);
        }
    }
    return found ? -EINVAL : 0;
}

int emu_ioas_option(EmuCtx *ctx, struct iommu_option *cmd)
{
    EmuIoas *ioas;

    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    if (cmd->op != IOMMU_OPTION_OP_SET && cmd->op != IOMMU_OPTION_OP_GET) {
        return -EOPNOTSUPP;
    }
    switch (cmd->option_id) {
    case IOMMU_OPTION_RLIMIT_MODE:
        if (cmd->object_id) {
            return -EOPNOTSUPP;
        }
        if (cmd->op == IOMMU_OPTION_OP_GET) {
            cmd->val64 = ctx->account_mm;
            return 0;
        }
        if (cmd->val64 > 1) {
            return -EINVAL;
        }
        ctx->account_mm = cmd->val64;
        return 0;
    case IOMMU_OPTION_HUGE_PAGES:
        ioas = ioas_get(ctx, cmd->object_id);
        if (!ioas) {
            return -ENOENT;
        }
        if (cmd->op == IOMMU_OPTION_OP_GET) {
            cmd->val64 = ioas->huge_pages;
            return 0;
        }
        if (cmd->val64 > 1) {
            return -EINVAL;
        }
        if (!cmd->val64) {
            return emu_ioas_disable_large_pages(ioas);
        }
        ioas->huge_pages = true;    /* iopt_enable_large_pages */
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}
