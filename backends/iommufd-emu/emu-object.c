/*
 * VNest emulated host IOMMU: the object table
 *
 * Ids start at 1 and the lowest free id is reused, as the kernel's
 * xarray allocator does. Creation reserves an id, the command fills the
 * object in, then finalizes it (visible to lookups) or aborts (id freed,
 * nothing left behind). IOMMU_DESTROY refuses objects other objects still
 * use (EBUSY); closing the context destroys leaves first.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <inttypes.h>
#include "emu-internal.h"

static const char *const type_names[EMU_OBJ_MAX] = {
    [EMU_OBJ_NONE] = "none",
    [EMU_OBJ_IOAS] = "ioas",
    [EMU_OBJ_HWPT_PAGING] = "hwpt_paging",
    [EMU_OBJ_HWPT_NESTED] = "hwpt_nested",
    [EMU_OBJ_DEVICE] = "device",
    [EMU_OBJ_VIOMMU] = "viommu",
    [EMU_OBJ_VDEVICE] = "vdevice",
    [EMU_OBJ_VEVENTQ] = "veventq",
    [EMU_OBJ_FAULT] = "fault",
    [EMU_OBJ_SELFTEST] = "selftest",
    [EMU_OBJ_ACCESS] = "access",
    [EMU_OBJ_HW_QUEUE] = "hw_queue",
};

const char *emu_obj_type_name(EmuObjType type)
{
    return type < EMU_OBJ_MAX ? type_names[type] : "?";
}

/*
 * Two injection points, as _iommufd_object_alloc() has two allocations:
 * the object (kzalloc) and its id slot (xa_alloc). The slot only costs
 * an allocation when the table has to grow; a reused free id does not.
 * On failure nothing is left behind: *out is NULL.
 */
int emu_obj_reserve(EmuCtx *ctx, EmuObjType type, size_t size, void *out)
{
    EmuObj *obj;
    guint i;
    int rc;

    *(void **)out = NULL;
    rc = emu_host_op(ctx->host);
    if (rc) {
        return rc;
    }
    for (i = 0; i < ctx->objs->len; i++) {
        if (!g_ptr_array_index(ctx->objs, i)) {
            break;
        }
    }
    if (i == ctx->objs->len) {
        rc = emu_host_op(ctx->host);
        if (rc) {
            return rc;
        }
        g_ptr_array_add(ctx->objs, NULL);
    }
    obj = g_malloc0(size);
    obj->type = type;
    obj->ctx = ctx;
    g_ptr_array_index(ctx->objs, i) = obj;
    obj->id = i + 1;
    ctx->host->stats.objects++;
    *(void **)out = obj;
    return 0;
}

void emu_obj_finalize(EmuObj *obj)
{
    obj->finalized = true;
}

static void obj_release(EmuObj *obj)
{
    GPtrArray *objs = obj->ctx->objs;

    g_ptr_array_index(objs, obj->id - 1) = NULL;
    /*
     * Free slots at the end go: the table is as long as the highest id
     * in use, so an aborted reservation leaves it exactly as it was.
     */
    while (objs->len && !g_ptr_array_index(objs, objs->len - 1)) {
        g_ptr_array_set_size(objs, objs->len - 1);
    }
    obj->ctx->host->stats.objects--;
    g_free(obj);
}

/* Undo a reservation: the object must hold no references yet. */
void emu_obj_abort(EmuObj *obj)
{
    g_assert(!obj->finalized && !obj->users);
    obj_release(obj);
}

EmuObj *emu_obj_get(EmuCtx *ctx, uint32_t id, EmuObjType type)
{
    EmuObj *obj;

    if (id == 0 || id > ctx->objs->len) {
        return NULL;
    }
    obj = g_ptr_array_index(ctx->objs, id - 1);
    if (!obj || !obj->finalized) {
        return NULL;
    }
    if (type != EMU_OBJ_NONE && obj->type != type) {
        return NULL;
    }
    return obj;
}

/* Type-specific teardown: drops the references the object holds. */
static void obj_teardown(EmuObj *obj)
{
    switch (obj->type) {
    case EMU_OBJ_IOAS:
        emu_ioas_destroy((EmuIoas *)obj);
        break;
    case EMU_OBJ_HWPT_PAGING:
    case EMU_OBJ_HWPT_NESTED:
        emu_hwpt_destroy((EmuHwpt *)obj);
        break;
    case EMU_OBJ_DEVICE:
        emu_idev_destroy((EmuIdev *)obj);
        break;
    case EMU_OBJ_VIOMMU:
        emu_viommu_destroy((EmuViommu *)obj);
        break;
    case EMU_OBJ_VDEVICE:
        emu_vdevice_destroy((EmuVdevice *)obj);
        break;
    case EMU_OBJ_VEVENTQ:
    case EMU_OBJ_FAULT:
        emu_eventq_destroy((EmuEventq *)obj);
        break;
    case EMU_OBJ_SELFTEST:
        emu_stdev_destroy((EmuStdev *)obj);
        break;
    case EMU_OBJ_ACCESS:
        emu_access_destroy((EmuAccess *)obj);
        break;
    case EMU_OBJ_HW_QUEUE:
        emu_hw_queue_destroy((EmuHwQueue *)obj);
        break;
    default:
        g_assert_not_reached();
    }
}

int emu_obj_destroy(EmuCtx *ctx, uint32_t id)
{
    EmuObj *obj = emu_obj_get(ctx, id, EMU_OBJ_NONE);

    if (!obj) {
        return -ENOENT;
    }
    if (obj->users) {
        return -EBUSY;
    }
    obj_teardown(obj);
    obj_release(obj);
    return 0;
}

/*
 * Close: destroy whatever nothing else uses, repeatedly, so leaves go
 * first. Devices are unbound by their VFIO owner, not here; anything left
 * after that is a leak for emu_obj_leak_report().
 */
void emu_obj_destroy_all(EmuCtx *ctx)
{
    bool progress = true;
    guint i;

    while (progress) {
        progress = false;
        for (i = 0; i < ctx->objs->len; i++) {
            EmuObj *obj = g_ptr_array_index(ctx->objs, i);

            if (obj && obj->finalized && !obj->users) {
                obj_teardown(obj);
                obj_release(obj);
                progress = true;
            }
        }
    }
}

unsigned emu_obj_leak_report(EmuCtx *ctx)
{
    unsigned n = 0;
    guint i;

    for (i = 0; i < ctx->objs->len; i++) {
        EmuObj *obj = g_ptr_array_index(ctx->objs, i);

        if (obj) {
            g_printerr("iommufd-emu: leaked %s object id %u (%u users%s)\n",
                       emu_obj_type_name(obj->type), obj->id, obj->users,
                       obj->finalized ? "" : ", never finalized");
            n++;
        }
    }
    return n;
}

/* ---- state description, for tests ---- */

static uint32_t obj_id(const void *obj)
{
    return obj ? ((const EmuObj *)obj)->id : 0;
}

static gboolean describe_area(gpointer key, gpointer value, gpointer data)
{
    const EmuArea *a = value;

    g_string_append_printf(data, "  area 0x%" PRIx64 "+0x%" PRIx64
                           " hva %p prot %u pins %u pages %" PRIu64
                           " refs %u\n", a->iova, a->length, a->hva,
                           a->prot, a->pins, a->pages_id,
                           a->map_refs ? *a->map_refs : 0);
    return false;
}

static void describe_ids(GString *s, const char *what, GList *l)
{
    g_string_append_printf(s, "  %s", what);
    for (; l; l = l->next) {
        g_string_append_printf(s, " %u", obj_id(l->data));
    }
    g_string_append_c(s, '\n');
}

static void describe_ioas(GString *s, EmuIoas *ioas)
{
    guint i;

    g_string_append_printf(s, "  huge_pages %d\n", ioas->huge_pages);
    g_tree_foreach(ioas->areas, describe_area, s);
    for (i = 0; i < ioas->allowed->len; i++) {
        struct iommu_iova_range *r =
            &g_array_index(ioas->allowed, struct iommu_iova_range, i);

        g_string_append_printf(s, "  allowed 0x%llx-0x%llx\n",
                               (unsigned long long)r->start,
                               (unsigned long long)r->last);
    }
    for (i = 0; i < ioas->reserved->len; i++) {
        EmuRange *r = &g_array_index(ioas->reserved, EmuRange, i);

        g_string_append_printf(s, "  reserved 0x%" PRIx64 "-0x%" PRIx64 "\n",
                               r->first, r->last);
    }
    describe_ids(s, "hwpts", ioas->hwpts);
    describe_ids(s, "accesses", ioas->accesses);
}

static gint pasid_key_cmp(gconstpointer a, gconstpointer b)
{
    guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);

    return x < y ? -1 : x > y;
}

static void describe_idev(GString *s, EmuIdev *idev)
{
    GList *keys = g_list_sort(g_hash_table_get_keys(idev->attach),
                              pasid_key_cmp);
    GList *l;

    g_string_append_printf(s, "  rid 0x%x vdev %u\n", idev->dev->rid,
                           obj_id(idev->vdev));
    for (l = keys; l; l = l->next) {
        gpointer k = l->data;

        g_string_append_printf(s, "  attach key %u hwpt %u\n",
                               GPOINTER_TO_UINT(k),
                               obj_id(g_hash_table_lookup(idev->attach, k)));
    }
    g_list_free(keys);
}

static int describe_dirty(uint64_t first, uint64_t last, void *opaque)
{
    g_string_append_printf(opaque, "  dirty 0x%" PRIx64 "-0x%" PRIx64 "\n",
                           first, last);
    return 0;
}

static void describe_obj(GString *s, EmuObj *obj)
{
    g_string_append_printf(s, "%u %s users %u%s\n", obj->id,
                           emu_obj_type_name(obj->type), obj->users,
                           obj->finalized ? "" : " reserved");
    switch (obj->type) {
    case EMU_OBJ_IOAS:
        describe_ioas(s, (EmuIoas *)obj);
        break;
    case EMU_OBJ_HWPT_PAGING:
    case EMU_OBJ_HWPT_NESTED: {
        EmuHwpt *h = (EmuHwpt *)obj;

        g_string_append_printf(s, "  flags 0x%x ioas %u parent %u viommu %u"
                               " fault %u attached %u auto %d nested %u"
                               " children %u dirty %d\n", h->flags,
                               obj_id(h->ioas), obj_id(h->parent),
                               obj_id(h->viommu), obj_id(h->fault),
                               h->attached, h->auto_domain,
                               h->nested_attached, h->children,
                               h->dirty_tracking);
        if (h->dirty) {
            emu_dirty_report(h->dirty, 0, UINT64_MAX, describe_dirty, s);
        }
        break;
    }
    case EMU_OBJ_DEVICE:
        describe_idev(s, (EmuIdev *)obj);
        break;
    case EMU_OBJ_VIOMMU: {
        EmuViommu *v = (EmuViommu *)obj;
        guint i;

        g_string_append_printf(s, "  parent %u vdevs %u queues",
                               obj_id(v->parent),
                               g_hash_table_size(v->vdevs));
        for (i = 0; i < EMU_HW_QUEUE_MAX; i++) {
            g_string_append_printf(s, " %u", obj_id(v->hw_queues[i]));
        }
        g_string_append_c(s, '\n');
        describe_ids(s, "veventqs", v->veventqs);
        break;
    }
    case EMU_OBJ_VDEVICE: {
        EmuVdevice *v = (EmuVdevice *)obj;

        g_string_append_printf(s, "  viommu %u idev %u virt_id %" PRIu64 "\n",
                               obj_id(v->viommu), obj_id(v->idev),
                               v->virt_id);
        break;
    }
    case EMU_OBJ_VEVENTQ:
    case EMU_OBJ_FAULT: {
        EmuEventq *q = (EmuEventq *)obj;

        g_string_append_printf(s, "  open %d viommu %u type %u depth %u"
                               " records %u\n", q->fd >= 0,
                               obj_id(q->viommu), q->type, q->depth,
                               g_queue_get_length(&q->records));
        break;
    }
    case EMU_OBJ_ACCESS:
        emu_access_describe((EmuAccess *)obj, s);
        break;
    case EMU_OBJ_HW_QUEUE:
        emu_hw_queue_describe((EmuHwQueue *)obj, s);
        break;
    case EMU_OBJ_SELFTEST:
        emu_stdev_describe((EmuStdev *)obj, s);
        break;
    default:
        break;
    }
}

char *emu_ctx_describe(EmuCtx *ctx)
{
    EMU_HOST_LOCK(ctx->host);
    GString *s = g_string_new(NULL);
    guint i;

    g_string_append_printf(s, "host devices %u dmabufs %u objects %" PRIu64
                           "\nctx ids %u fds %u mmaps %u\n",
                           ctx->host->devices->len, ctx->host->dmabufs->len,
                           ctx->host->stats.objects, ctx->objs->len,
                           g_hash_table_size(ctx->fds),
                           g_list_length(ctx->mmaps));
    for (i = 0; i < ctx->objs->len; i++) {
        EmuObj *obj = g_ptr_array_index(ctx->objs, i);

        if (obj) {
            describe_obj(s, obj);
        }
    }
    return g_string_free(s, false);
}
