/*
 * VNest emulated host IOMMU: the VFIO type1 container API on /dev/iommu
 *
 * Linux lets /dev/iommu stand in for a VFIO container: one IOAS of the
 * context (chosen with IOMMU_VFIO_IOAS) serves VFIO_SET_IOMMU,
 * VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA and VFIO_IOMMU_GET_INFO. The
 * model maps them onto its IOAS operations.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stddef.h>
#include "emu-internal.h"

#define OFFSETOFEND(type, member) \
    (offsetof(type, member) + sizeof(((type *)0)->member))

#define DMA_MAP_FLAGS   (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define DMA_AVAIL_MAX   65535u      /* Linux reports its default limit */

static EmuIoas *compat_ioas(EmuCtx *ctx)
{
    return (EmuIoas *)emu_obj_get(ctx, ctx->vfio_ioas_id, EMU_OBJ_IOAS);
}

int emu_vfio_ioas(EmuCtx *ctx, struct iommu_vfio_ioas *cmd)
{
    if (cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    switch (cmd->op) {
    case IOMMU_VFIO_IOAS_GET:
        if (!compat_ioas(ctx)) {
            return -ENODEV;
        }
        cmd->ioas_id = ctx->vfio_ioas_id;
        return 0;
    case IOMMU_VFIO_IOAS_SET:
        if (!emu_obj_get(ctx, cmd->ioas_id, EMU_OBJ_IOAS)) {
            return -ENOENT;
        }
        ctx->vfio_ioas_id = cmd->ioas_id;
        return 0;
    case IOMMU_VFIO_IOAS_CLEAR:
        ctx->vfio_ioas_id = 0;
        return 0;
    default:
        return -EOPNOTSUPP;
    }
}

static int compat_set_iommu(EmuCtx *ctx, unsigned long type)
{
    EmuIoas *ioas = compat_ioas(ctx);

    if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU) {
        return -EINVAL;
    }
    if (!ioas) {
        return -ENODEV;
    }
    /*
     * type1 (v1) may unmap inside a mapping: no large pages then
     * (iommufd_vfio_set_iommu calls iopt_disable_large_pages).
     */
    ctx->vfio_type1v1 = type == VFIO_TYPE1_IOMMU;
    return ctx->vfio_type1v1 ? emu_ioas_disable_large_pages(ioas) : 0;
}

static int compat_check_extension(unsigned long ext)
{
    switch (ext) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_UNMAP_ALL:
        return 1;
    default:
        return 0;
    }
}

static int compat_map(EmuCtx *ctx, struct vfio_iommu_type1_dma_map *map)
{
    struct iommu_ioas_map cmd = {
        .size = sizeof(cmd), .flags = IOMMU_IOAS_MAP_FIXED_IOVA,
        .user_va = map->vaddr, .length = map->size, .iova = map->iova,
    };

    if (map->argsz < OFFSETOFEND(struct vfio_iommu_type1_dma_map, size) ||
        (map->flags & ~DMA_MAP_FLAGS)) {
        return -EINVAL;
    }
    if (!compat_ioas(ctx)) {
        return -ENODEV;
    }
    if (map->flags & VFIO_DMA_MAP_FLAG_READ) {
        cmd.flags |= IOMMU_IOAS_MAP_READABLE;
    }
    if (map->flags & VFIO_DMA_MAP_FLAG_WRITE) {
        cmd.flags |= IOMMU_IOAS_MAP_WRITEABLE;
    }
    cmd.ioas_id = ctx->vfio_ioas_id;
    return emu_ioas_map(ctx, &cmd);
}

static int compat_unmap(EmuCtx *ctx, struct vfio_iommu_type1_dma_unmap *um)
{
    struct iommu_ioas_unmap cmd = {
        .size = sizeof(cmd), .iova = um->iova, .length = um->size,
    };
    int rc;

    if (um->argsz < OFFSETOFEND(struct vfio_iommu_type1_dma_unmap, size) ||
        (um->flags & ~VFIO_DMA_UNMAP_FLAG_ALL)) {
        return -EINVAL;
    }
    if (!compat_ioas(ctx)) {
        return -ENODEV;
    }
    if (um->flags & VFIO_DMA_UNMAP_FLAG_ALL) {
        if (um->iova || um->size) {
            return -EINVAL;
        }
        cmd.iova = 0;
        cmd.length = UINT64_MAX;
    }
    if (cmd.length && cmd.length != UINT64_MAX &&
        !emu_ioas_range_mapped(compat_ioas(ctx), cmd.iova,
                               cmd.iova + cmd.length - 1)) {
        um->size = 0;
        return 0;               /* type1 unmaps nothing successfully */
    }
    if (!(um->flags & VFIO_DMA_UNMAP_FLAG_ALL) &&
        !compat_ioas(ctx)->huge_pages) {
        /*
         * iommufd_vfio_unmap_dma: with large pages off (type1 v1), cut the
         * areas at both ends of the range first, so an unmap inside a
         * mapping succeeds; no cut is needed before IOVA 0.
         */
        rc = emu_ioas_cut(compat_ioas(ctx), um->iova + um->size - 1);
        if (!rc && um->iova) {
            rc = emu_ioas_cut(compat_ioas(ctx), um->iova - 1);
        }
        if (rc) {
            return rc;
        }
    }
    cmd.ioas_id = ctx->vfio_ioas_id;
    rc = emu_ioas_unmap(ctx, &cmd);
    um->size = rc ? 0 : cmd.length;
    return rc;
}

/* The capability chain GET_INFO appends: IOVA ranges, then DMA limit. */
static GByteArray *info_caps(EmuIoas *ioas, size_t base)
{
    g_autoptr(GArray) usable = emu_ioas_usable(ioas);
    struct vfio_iommu_type1_info_cap_iova_range range = {
        .header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
        .header.version = 1,
        .nr_iovas = usable->len,
    };
    struct vfio_iommu_type1_info_dma_avail avail = {
        .header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
        .header.version = 1,
        .avail = DMA_AVAIL_MAX,
    };
    GByteArray *caps = g_byte_array_new();
    guint i;

    range.header.next = base + sizeof(range) +
                        usable->len * sizeof(struct vfio_iova_range);
    g_byte_array_append(caps, (const guint8 *)&range, sizeof(range));
    for (i = 0; i < usable->len; i++) {
        struct iommu_iova_range *u =
            &g_array_index(usable, struct iommu_iova_range, i);
        struct vfio_iova_range r = { .start = u->start, .end = u->last };

        g_byte_array_append(caps, (const guint8 *)&r, sizeof(r));
    }
    g_byte_array_append(caps, (const guint8 *)&avail, sizeof(avail));
    return caps;
}

static int compat_info(EmuCtx *ctx, uint64_t uptr,
                       struct vfio_iommu_type1_info *info)
{
    size_t min = OFFSETOFEND(struct vfio_iommu_type1_info, iova_pgsizes);
    uint32_t argsz = info->argsz;
    g_autoptr(GByteArray) caps = NULL;
    EmuIoas *ioas = compat_ioas(ctx);
    int rc;

    if (argsz < min) {
        return -EINVAL;
    }
    if (!ioas) {
        return -ENODEV;
    }
    info->flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
    info->iova_pgsizes = ~(emu_ioas_iova_alignment(ioas) - 1);
    info->cap_offset = 0;
    caps = info_caps(ioas, sizeof(*info));
    if (argsz >= sizeof(*info) + caps->len) {
        info->cap_offset = sizeof(*info);
        rc = emu_copy_to_user(uptr + sizeof(*info), caps->data, caps->len);
        if (rc) {
            return rc;
        }
    }
    /* Too small for the caps: say how large a buffer would do */
    info->argsz = MAX(argsz, sizeof(*info) + caps->len);
    return emu_copy_to_user(uptr, info, MIN(argsz, sizeof(*info)));
}

/* A struct ioctl: copy in argsz (at most @size) bytes, run, copy back. */
static int compat_struct(EmuCtx *ctx, unsigned long cmd, uint64_t uptr)
{
    uint8_t kbuf[64] = { 0 };
    uint32_t argsz;
    size_t size;
    int rc;

    size = cmd == VFIO_IOMMU_MAP_DMA ?
           sizeof(struct vfio_iommu_type1_dma_map) :
           cmd == VFIO_IOMMU_UNMAP_DMA ?
           sizeof(struct vfio_iommu_type1_dma_unmap) :
           sizeof(struct vfio_iommu_type1_info);
    rc = emu_copy_from_user(&argsz, uptr, sizeof(argsz));
    if (!rc) {
        rc = emu_copy_from_user(kbuf, uptr, MIN(argsz, size));
    }
    if (rc) {
        return rc;
    }
    switch (cmd) {
    case VFIO_IOMMU_MAP_DMA:
        return compat_map(ctx, (void *)kbuf);
    case VFIO_IOMMU_UNMAP_DMA:
        rc = compat_unmap(ctx, (void *)kbuf);
        if (!rc) {
            rc = emu_copy_to_user(uptr, kbuf, MIN(argsz, size));
        }
        return rc;
    default:
        return compat_info(ctx, uptr, (void *)kbuf);
    }
}

int emu_vfio_compat_ioctl(EmuCtx *ctx, unsigned long cmd, void *arg)
{
    switch (cmd) {
    case VFIO_GET_API_VERSION:
        return VFIO_API_VERSION;
    case VFIO_CHECK_EXTENSION:
        return compat_check_extension((uintptr_t)arg);
    case VFIO_SET_IOMMU:
        return compat_set_iommu(ctx, (uintptr_t)arg);
    case VFIO_IOMMU_MAP_DMA:
    case VFIO_IOMMU_UNMAP_DMA:
    case VFIO_IOMMU_GET_INFO:
        return compat_struct(ctx, cmd, (uintptr_t)arg);
    default:
        return -ENOTTY;
    }
}
