/*
 * VNest emulated host IOMMU: mmap() of an iommufd
 *
 * A driver may expose a region of its hardware to user space through the
 * iommufd file: the kernel's _iommufd_alloc_mmap() gives it a page-aligned
 * offset in the file (never page 0), and iommufd_fops_mmap() maps exactly
 * that region, holding a reference on the object that owns it until the
 * mapping goes, so the owner cannot be destroyed meanwhile (EBUSY). Here
 * a region is a memfd the model maps itself; the caller's mmap() maps the
 * same memfd, so both see the same bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <sys/mman.h>
#include <unistd.h>
#include "emu-internal.h"

struct EmuMmap {
    uint64_t offset;            /* in the iommufd file, page aligned */
    uint64_t length;
    EmuObj *owner;
    int fd;                     /* memfd holding the region */
    void *base;                 /* the model's own mapping of it */
    unsigned maps;              /* caller mappings, each a ref on owner */
};

static void mmap_free(EmuMmap *m)
{
    munmap(m->base, m->length);
    close(m->fd);
    g_free(m);
}

/* _iommufd_alloc_mmap: the lowest free offset from page 1 on. */
int emu_mmap_alloc(EmuCtx *ctx, EmuObj *owner, uint64_t length,
                   uint64_t *offset, void **base)
{
    uint64_t at = EMU_PAGE_SIZE;
    EmuMmap *m;
    GList *l;
    int rc;

    if (!length || (length & ~EMU_PAGE_MASK)) {
        return -EINVAL;
    }
    for (l = ctx->mmaps; l; l = l->next) {
        EmuMmap *e = l->data;

        if (at + length <= e->offset) {
            break;
        }
        at = e->offset + e->length;
    }
    /* The region (_iommufd_alloc_mmap(): kzalloc, mtree_alloc_range) */
    rc = emu_host_op(ctx->host);
    if (rc) {
        return rc;
    }
    m = g_new0(EmuMmap, 1);
    m->fd = memfd_create("iommufd-emu-mmap", MFD_CLOEXEC);
    if (m->fd < 0 || ftruncate(m->fd, length) < 0) {
        int err = -errno;

        if (m->fd >= 0) {
            close(m->fd);
        }
        g_free(m);
        return err;
    }
    m->base = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd,
                   0);
    if (m->base == MAP_FAILED) {
        int err = -errno;

        close(m->fd);
        g_free(m);
        return err;
    }
    m->offset = at;
    m->length = length;
    m->owner = owner;
    ctx->mmaps = g_list_insert_before(ctx->mmaps, l, m);
    *offset = at;
    *base = m->base;
    return 0;
}

/* iommufd_viommu_destroy_mmap: the owner goes, its regions with it. */
void emu_mmap_destroy_owner(EmuCtx *ctx, EmuObj *owner)
{
    GList *l = ctx->mmaps, *next;

    for (; l; l = next) {
        EmuMmap *m = l->data;

        next = l->next;
        if (m->owner == owner) {
            g_assert(!m->maps);
            ctx->mmaps = g_list_delete_link(ctx->mmaps, l);
            mmap_free(m);
        }
    }
}

/* Closing the context: caller mappings no longer pin their owners. */
void emu_mmap_release_all(EmuCtx *ctx)
{
    GList *l;

    for (l = ctx->mmaps; l; l = l->next) {
        EmuMmap *m = l->data;

        for (; m->maps; m->maps--) {
            emu_obj_put_ref(m->owner);
        }
    }
}

int emu_ctx_mmap(EmuCtx *ctx, uint64_t offset, uint64_t length, int prot,
                 int flags, int *fd)
{
    EMU_HOST_LOCK(ctx->host);
    GList *l;

    if (!length || (length & ~EMU_PAGE_MASK)) {
        return -EINVAL;         /* a zero length fails in mmap() itself */
    }
    if (!(flags & MAP_SHARED)) {
        return -EINVAL;
    }
    if (prot & PROT_EXEC) {
        return -EPERM;
    }
    for (l = ctx->mmaps; l; l = l->next) {
        EmuMmap *m = l->data;

        if (offset - m->offset < m->length) {
            /* only the exact region, as mapped by its owner */
            if (offset != m->offset || length != m->length) {
                return -ENXIO;
            }
            emu_obj_get_ref(m->owner);      /* put by emu_ctx_munmap() */
            m->maps++;
            *fd = m->fd;
            return 0;
        }
    }
    return -ENXIO;
}

void emu_ctx_munmap(EmuCtx *ctx, uint64_t offset)
{
    EMU_HOST_LOCK(ctx->host);
    GList *l;

    for (l = ctx->mmaps; l; l = l->next) {
        EmuMmap *m = l->data;

        if (m->offset == offset && m->maps) {
            m->maps--;
            emu_obj_put_ref(m->owner);
            return;
        }
    }
}
