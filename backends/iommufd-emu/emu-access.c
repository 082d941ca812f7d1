/*
 * VNest emulated host IOMMU: in-kernel accesses to an IOAS
 *
 * In the kernel, drivers without an IOMMU domain (mdev, emulated devices)
 * reach an IOAS through an "access": they pin pages of it or copy to and
 * from it, and must let go of their pins when user space unmaps the
 * range. The selftest exposes one such user through IOMMU_TEST_CMD;
 * each access is a file descriptor whose close() destroys it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <inttypes.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "emu-internal.h"
#include "emu-selftest-abi.h"

#define ACCESS_FLAGS        EMU_MOCK_ACCESS_NEEDS_PIN
#define ACCESS_PAGES_FLAGS  (EMU_MOCK_ACCESS_WRITE | EMU_MOCK_ACCESS_SYZ)
#define ACCESS_RW_FLAGS     (EMU_MOCK_RW_WRITE | EMU_MOCK_RW_SLOW_PATH)

struct EmuAccess {
    EmuObj obj;
    int fd;
    EmuIoas *ioas;
    uint32_t flags;
    GHashTable *pins;           /* id -> EmuPin */
    uint32_t next_pin;
};

typedef struct EmuPin {
    uint64_t iova;
    uint64_t length;
    uint64_t uptr;
} EmuPin;

static void access_set_ioas(EmuAccess *access, EmuIoas *ioas)
{
    if (access->ioas) {
        access->ioas->accesses = g_list_remove(access->ioas->accesses,
                                               access);
        emu_obj_unref(access->ioas);
    }
    access->ioas = ioas;
    if (ioas) {
        emu_obj_ref(ioas);      /* put when replaced or destroyed */
        ioas->accesses = g_list_prepend(ioas->accesses, access);
    }
}

int emu_access_create(EmuCtx *ctx, uint32_t ioas_id, uint32_t flags,
                      uint32_t *out_fd)
{
    EmuIoas *ioas = (EmuIoas *)emu_obj_get(ctx, ioas_id, EMU_OBJ_IOAS);
    EmuAccess *access;
    int fd, rc;

    if (flags & ~ACCESS_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (!ioas) {
        return -ENOENT;
    }
    rc = emu_obj_reserve(ctx, EMU_OBJ_ACCESS, sizeof(*access), &access);
    if (rc) {
        return rc;
    }
    /* Its file (iommufd_test_create_access(): anon_inode_getfile) */
    rc = emu_host_op(ctx->host);
    fd = rc ? -1 : eventfd(0, EFD_CLOEXEC);
    if (fd < 0) {
        emu_obj_abort(&access->obj);
        return rc ? rc : -errno;
    }
    /* iommufd_access_attach() -> iopt_add_access(): its IOAS slot */
    rc = emu_host_op(ctx->host);
    if (rc) {
        close(fd);
        emu_obj_abort(&access->obj);
        return rc;
    }
    access->fd = fd;
    access->flags = flags;
    access->pins = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                         NULL, g_free);
    access->next_pin = 1;
    access_set_ioas(access, ioas);
    g_hash_table_insert(ctx->fds, GINT_TO_POINTER(fd), access);
    emu_obj_finalize(&access->obj);
    *out_fd = fd;
    return 0;
}

void emu_access_destroy(EmuAccess *access)
{
    g_hash_table_remove(access->obj.ctx->fds, GINT_TO_POINTER(access->fd));
    close(access->fd);
    access_set_ioas(access, NULL);
    g_hash_table_destroy(access->pins);
}

void emu_access_close(EmuAccess *access)
{
    emu_obj_destroy(access->obj.ctx, access->obj.id);
}

EmuAccess *emu_access_get(EmuCtx *ctx, int fd)
{
    EmuObj *obj = g_hash_table_lookup(ctx->fds, GINT_TO_POINTER(fd));

    return obj && obj->type == EMU_OBJ_ACCESS ? (EmuAccess *)obj : NULL;
}

int emu_access_replace_ioas(EmuAccess *access, uint32_t ioas_id)
{
    EmuIoas *ioas = (EmuIoas *)emu_obj_get(access->obj.ctx, ioas_id,
                                           EMU_OBJ_IOAS);
    int rc;

    if (!ioas) {
        return -ENOENT;
    }
    if (ioas == access->ioas) {
        return 0;
    }
    /* iopt_add_access(): its slot in the new IOAS (xa_alloc), first */
    rc = emu_host_op(access->obj.ctx->host);
    if (rc) {
        return rc;
    }
    /*
     * iommufd_access_change_ioas: the access's unmap op runs over the
     * whole old IOAS first, so the selftest's access drops every pin.
     */
    g_hash_table_remove_all(access->pins);
    access_set_ioas(access, ioas);
    return 0;
}

/* One injection point per area covering [iova, last]. */
static int ioas_each_area(EmuIoas *ioas, uint64_t iova, uint64_t last)
{
    uint64_t pos = iova;
    int rc;

    while (pos <= last) {
        EmuArea *a = emu_ioas_find(ioas, pos);

        g_assert(a);            /* emu_ioas_pin() checked: no hole */
        rc = emu_host_op(ioas->obj.ctx->host);
        if (rc) {
            return rc;
        }
        pos = a->iova + a->length;
        if (!pos) {
            break;
        }
    }
    return 0;
}

/*
 * IOMMU_TEST_OP_ACCESS_PAGES (iommufd_test_access_pages): pin
 * [iova, iova+length), every page mapped with @prot; then, unless @uptr is
 * NULL, each pinned page must be the physical page of the user memory at
 * @uptr (EBADE otherwise, iommufd_test_check_pages).
 */
int emu_access_pin(EmuAccess *access, uint64_t iova, uint64_t length,
                   uint64_t uptr, uint32_t flags, uint32_t *out_id)
{
    unsigned prot = EMU_DMA_READ |
                    ((flags & EMU_MOCK_ACCESS_WRITE) ? EMU_DMA_WRITE : 0);
    uint64_t page, first, last;
    EmuPin *pin;
    bool same;
    int rc;

    if (length > 16 * 1024 * 1024) {
        return -ENOMEM;
    }
    if (flags & ~ACCESS_PAGES_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (!(access->flags & EMU_MOCK_ACCESS_NEEDS_PIN)) {
        return -EOPNOTSUPP;
    }
    if (!access->ioas) {
        return -ENOENT;
    }
    if (!length || __builtin_add_overflow(iova, length - 1, &last)) {
        return -EINVAL;
    }
    first = iova & EMU_PAGE_MASK;
    if (!emu_ioas_pin(access->ioas, iova, length, false)) {
        return -ENOENT;
    }
    /* iommufd_test_access_pages(): the pages array (kvzalloc) */
    rc = emu_host_op(access->obj.ctx->host);
    if (!rc) {
        /*
         * iommufd_access_pin_pages(): area by area, iopt_area_add_access()
         * fills the pages' xarray, which can fail on each; the areas
         * already done are released again. Nothing to release here.
         */
        rc = ioas_each_area(access->ioas, iova, last);
    }
    if (rc) {
        return rc;
    }
    for (page = first; page <= last; page += EMU_PAGE_SIZE) {
        uint64_t at = MAX(page, iova);
        uint8_t *hva = emu_ioas_resolve(access->ioas, at, 1, prot);

        if (!hva) {
            return -EPERM;
        }
        if (!uptr || (flags & EMU_MOCK_ACCESS_SYZ)) {
            continue;
        }
        rc = emu_user_same_page((uintptr_t)hva, uptr + (at - iova), &same);
        if (rc) {
            return rc;
        }
        if (!same) {
            return -EBADE;
        }
        if (page + EMU_PAGE_SIZE - 1 >= last) {
            break;
        }
    }
    /* iommufd_test_access_pages(): the item recording the pin (kzalloc) */
    rc = emu_host_op(access->obj.ctx->host);
    if (rc) {
        return rc;
    }
    pin = g_new(EmuPin, 1);
    *pin = (EmuPin) { .iova = iova, .length = length, .uptr = uptr };
    *out_id = access->next_pin++;
    g_hash_table_insert(access->pins, GUINT_TO_POINTER(*out_id), pin);
    return 0;
}

int emu_access_unpin(EmuAccess *access, uint32_t id)
{
    return g_hash_table_remove(access->pins, GUINT_TO_POINTER(id)) ?
           0 : -ENOENT;
}

/* Copy between the IOAS and user memory, page by page. */
int emu_access_rw(EmuAccess *access, uint64_t iova, uint64_t length,
                  uint64_t uptr, uint32_t flags)
{
    unsigned acc = (flags & EMU_MOCK_RW_WRITE) ? EMU_DMA_WRITE
                                               : EMU_DMA_READ;
    uint64_t done = 0;
    int rc;

    if (flags & ~ACCESS_RW_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (!access->ioas) {
        return -ENOENT;
    }
    if (!length || iova + length < iova) {
        return -EINVAL;
    }
    /*
     * iommufd_test_access_rw()'s bounce buffer (kvzalloc). The copy
     * itself allocates nothing: the caller's own mm is used directly.
     */
    rc = emu_host_op(access->obj.ctx->host);
    if (rc) {
        return rc;
    }
    while (done < length) {
        uint64_t len = MIN(EMU_PAGE_SIZE - ((iova + done) & ~EMU_PAGE_MASK),
                           length - done);
        uint8_t *hva = emu_ioas_resolve(access->ioas, iova + done, len, acc);

        if (!hva) {
            return -EFAULT;
        }
        rc = acc == EMU_DMA_WRITE ?
             emu_copy_from_user(hva, uptr + done, len) :
             emu_copy_to_user(uptr + done, hva, len);
        if (rc) {
            return rc;
        }
        done += len;
    }
    return 0;
}

static gboolean pin_overlaps(gpointer key, gpointer value, gpointer opaque)
{
    const EmuPin *pin = value;
    const EmuRange *r = opaque;

    return pin->iova <= r->last && r->first <= pin->iova + pin->length - 1;
}

/* The selftest's access drops its pins in a range user space unmaps. */
void emu_access_notify_unmap(EmuIoas *ioas, uint64_t iova, uint64_t len)
{
    EmuRange r = { .first = iova, .last = iova + len - 1 };
    GList *l;

    for (l = ioas->accesses; l; l = l->next) {
        EmuAccess *access = l->data;

        g_hash_table_foreach_remove(access->pins, pin_overlaps, &r);
    }
}

bool emu_access_pins_range(EmuIoas *ioas, uint64_t first, uint64_t last)
{
    EmuRange r = { .first = first, .last = last };
    GList *l;

    for (l = ioas->accesses; l; l = l->next) {
        EmuAccess *access = l->data;

        if (g_hash_table_find(access->pins, pin_overlaps, &r)) {
            return true;
        }
    }
    return false;
}


static gint pin_id_cmp(gconstpointer a, gconstpointer b)
{
    guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);

    return x < y ? -1 : x > y;
}

void emu_access_describe(EmuAccess *access, GString *s)
{
    GList *ids = g_list_sort(g_hash_table_get_keys(access->pins),
                             pin_id_cmp);
    GList *l;

    g_string_append_printf(s, "  ioas %u flags 0x%x\n",
                           access->ioas ? access->ioas->obj.id : 0,
                           access->flags);
    for (l = ids; l; l = l->next) {
        gpointer k = l->data;
        const EmuPin *pin = g_hash_table_lookup(access->pins, k);

        g_string_append_printf(s, "  pin %u 0x%" PRIx64 "+0x%" PRIx64 "\n",
                               GPOINTER_TO_UINT(k), pin->iova, pin->length);
    }
    g_list_free(ids);
}
