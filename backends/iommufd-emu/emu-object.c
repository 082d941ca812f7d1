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
    g_ptr_array_index(obj->ctx->objs, obj->id - 1) = NULL;
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
