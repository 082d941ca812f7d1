/*
 * VNest emulated host IOMMU: IOMMU_TEST_CMD and the selftest mock devices
 *
 * A kernel with CONFIG_IOMMUFD_TEST lets its selftests create devices on
 * a mock bus behind the mock IOMMU (emu-hw-selftest.c), attach them, and
 * look inside the hardware: what a domain maps, the nested IOTLB, a
 * device's cache, pinned page counts. This file gives the emulated host
 * the same test-only ioctl. Each mock device is an object ("selftest")
 * that owns a hot-plugged EmuDevice and its binding; destroying the
 * object unbinds and unplugs the device. Hosts without a mock IOMMU
 * answer ENOTTY, as a kernel without IOMMUFD_TEST does.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "emu-internal.h"
#include "emu-selftest-abi.h"

#define MOCK_DEV_FLAGS  (EMU_MOCK_DEV_NO_DIRTY | EMU_MOCK_DEV_PASID)

struct EmuStdev {
    EmuObj obj;
    EmuDevice *dev;
    EmuIdev *idev;
    EmuMockDev mdev;
};

typedef int (*TestOpFn)(EmuCtx *ctx, EmuTestCmd *cmd);

static EmuIommu *mock_iommu(EmuHost *host)
{
    guint i;

    for (i = 0; i < host->iommus->len; i++) {
        EmuIommu *iommu = g_ptr_array_index(host->iommus, i);

        if (iommu->cfg.kind == EMU_HW_SELFTEST) {
            return iommu;
        }
    }
    return NULL;
}

static EmuStdev *stdev_get(EmuCtx *ctx, uint32_t id)
{
    return (EmuStdev *)emu_obj_get(ctx, id, EMU_OBJ_SELFTEST);
}

/* ---- mock devices ---- */

/* Plug a new device behind the mock IOMMU with a fresh requester ID. */
static int mock_dev_plug(EmuHost *host, EmuIommu *iommu, uint32_t flags,
                         EmuDevice **out)
{
    static uint32_t next_rid;
    int rc;

    /* mock_dev_create(): the mock device (kzalloc) */
    rc = emu_host_op(host);
    if (rc) {
        return rc;
    }
    do {
        rc = emu_host_add_device(host, iommu, next_rid++, "mock", out);
    } while (rc == -EEXIST);
    if (rc) {
        return rc;
    }
    (*out)->no_dirty = flags & EMU_MOCK_DEV_NO_DIRTY;
    (*out)->pasid_bits = (flags & EMU_MOCK_DEV_PASID) ?
                         EMU_MOCK_PASID_WIDTH : 0;
    return 0;
}

static void stdev_init_cache(EmuStdev *stdev)
{
    unsigned i;

    for (i = 0; i < EMU_MOCK_DEV_CACHE_NUM; i++) {
        stdev->mdev.cache[i] = EMU_TEST_DEV_CACHE_DEFAULT;
    }
    stdev->dev->hw_priv = &stdev->mdev;
}

/* MOCK_DOMAIN(_FLAGS): plug, bind and attach a device to @cmd->id. */
static int test_mock_domain(EmuCtx *ctx, EmuTestCmd *cmd, uint32_t flags)
{
    EmuIommu *iommu = mock_iommu(ctx->host);
    uint32_t pt_id = cmd->id;
    EmuStdev *stdev;
    int rc;

    if (flags & ~MOCK_DEV_FLAGS) {
        return -EINVAL;
    }
    rc = emu_obj_reserve(ctx, EMU_OBJ_SELFTEST, sizeof(*stdev), &stdev);
    if (rc) {
        return rc;
    }
    rc = mock_dev_plug(ctx->host, iommu, flags, &stdev->dev);
    if (rc) {
        goto out_abort;
    }
    rc = emu_idev_bind(ctx, stdev->dev, &stdev->idev);
    if (rc) {
        goto out_unplug;
    }
    rc = emu_idev_attach(stdev->idev, EMU_NO_PASID, &pt_id);
    if (rc) {
        goto out_unbind;
    }
    stdev_init_cache(stdev);
    cmd->mock_domain.out_stdev_id = stdev->obj.id;
    cmd->mock_domain.out_hwpt_id = pt_id;
    cmd->mock_domain.out_idev_id = stdev->idev->obj.id;
    emu_obj_finalize(&stdev->obj);
    return 0;

out_unbind:
    emu_idev_unbind(stdev->idev);
out_unplug:
    emu_host_remove_device(ctx->host, stdev->dev);
out_abort:
    emu_obj_abort(&stdev->obj);
    return rc;
}

void emu_stdev_destroy(EmuStdev *stdev)
{
    EmuHost *host = stdev->obj.ctx->host;

    emu_idev_unbind(stdev->idev);
    emu_host_remove_device(host, stdev->dev);
}

static int op_mock_domain(EmuCtx *ctx, EmuTestCmd *cmd)
{
    return test_mock_domain(ctx, cmd, 0);
}

static int op_mock_domain_flags(EmuCtx *ctx, EmuTestCmd *cmd)
{
    return test_mock_domain(ctx, cmd, cmd->mock_domain.dev_flags);
}

static int op_mock_domain_replace(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuStdev *stdev = stdev_get(ctx, cmd->id);

    if (!stdev) {
        return -ENOENT;
    }
    return emu_idev_attach(stdev->idev, EMU_NO_PASID,
                           &cmd->mock_domain_replace.pt_id);
}

/* ---- PASID attachments of a mock device ---- */

static int op_pasid_attach(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuStdev *stdev = stdev_get(ctx, cmd->id);
    uint32_t pt_id = cmd->pasid_attach.pt_id;
    bool replace = cmd->op == EMU_TEST_OP_PASID_REPLACE;
    EmuHwpt *cur;

    if (!stdev) {
        return -ENOENT;
    }
    cur = emu_idev_domain(stdev->idev, cmd->pasid_attach.pasid);
    if (!replace && cur) {
        return -EBUSY;
    }
    if (replace && !cur) {
        return -EINVAL;
    }
    return emu_idev_attach(stdev->idev, cmd->pasid_attach.pasid, &pt_id);
}

static int op_pasid_detach(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuStdev *stdev = stdev_get(ctx, cmd->id);

    if (!stdev) {
        return -ENOENT;
    }
    return emu_idev_detach(stdev->idev, cmd->pasid_detach.pasid);
}

static int op_pasid_check_hwpt(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuStdev *stdev = stdev_get(ctx, cmd->id);
    EmuHwpt *hwpt;

    if (!stdev) {
        return -ENOENT;
    }
    hwpt = emu_idev_domain(stdev->idev, cmd->pasid_check.pasid);
    if (!cmd->pasid_check.hwpt_id) {
        return hwpt ? -EINVAL : 0;
    }
    return hwpt && hwpt->obj.id == cmd->pasid_check.hwpt_id ? 0 : -EINVAL;
}

/* ---- looking inside the hardware ---- */

static EmuHwpt *mock_paging(EmuCtx *ctx, uint32_t id)
{
    EmuHwpt *hwpt = (EmuHwpt *)emu_obj_get(ctx, id, EMU_OBJ_HWPT_PAGING);

    return hwpt && hwpt->iommu->cfg.kind == EMU_HW_SELFTEST ? hwpt : NULL;
}

/*
 * IOMMU_TEST_OP_MD_CHECK_MAP (iommufd_test_md_check_pa): each mock page of
 * [iova, iova+length) translates to the physical page the user memory at
 * uptr is, compared by page frame, so a MAP_FILE area (mapped by the model
 * itself) matches the caller's own mapping of the file.
 */
static int op_md_check_map(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuHwpt *hwpt = mock_paging(ctx, cmd->id);
    uint64_t iova = cmd->check_map.iova, off, end;
    uint64_t uptr = cmd->check_map.uptr;
    bool same;
    int rc;

    if (!hwpt) {
        return -ENOENT;
    }
    if ((iova | cmd->check_map.length | uptr) & (EMU_MOCK_PAGE_SIZE - 1) ||
        __builtin_add_overflow(uptr, cmd->check_map.length, &end)) {
        return -EINVAL;
    }
    for (off = 0; off < cmd->check_map.length; off += EMU_MOCK_PAGE_SIZE) {
        uint8_t *hva = emu_ioas_resolve(hwpt->ioas, iova + off, 1, 0);

        if (!hva) {
            return -EINVAL;
        }
        rc = emu_user_same_page((uintptr_t)hva, uptr + off, &same);
        if (rc) {
            return rc;
        }
        if (!same || ((uintptr_t)hva ^ (uptr + off)) & ~EMU_PAGE_MASK) {
            return -EINVAL;
        }
    }
    return 0;
}

/* Pins of one user page across the host: one per pinned page set. */
static unsigned user_page_refs(EmuHost *host, uint64_t addr)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash,
                                                  g_int64_equal);
    unsigned n = 0;
    GList *l;
    guint i;

    for (l = host->ctxs; l; l = l->next) {
        EmuCtx *ctx = l->data;

        for (i = 0; i < ctx->objs->len; i++) {
            EmuObj *obj = g_ptr_array_index(ctx->objs, i);

            if (obj && obj->type == EMU_OBJ_IOAS) {
                n += emu_ioas_user_refs((EmuIoas *)obj, addr, seen);
            }
        }
    }
    return n;
}

/*
 * IOMMU_TEST_OP_MD_CHECK_REFS (iommufd_test_md_check_refs): page-aligned
 * range, EIO when a page's pin count is not @refs.
 */
static int op_md_check_refs(EmuCtx *ctx, EmuTestCmd *cmd)
{
    uint64_t addr = cmd->check_refs.uptr, end;

    if ((cmd->check_refs.length | addr) & ~EMU_PAGE_MASK ||
        __builtin_add_overflow(addr, cmd->check_refs.length, &end)) {
        return -EINVAL;
    }
    for (; addr < end; addr += EMU_PAGE_SIZE) {
        if (user_page_refs(ctx->host, addr) != cmd->check_refs.refs) {
            return -EIO;
        }
    }
    return 0;
}

static int op_md_check_iotlb(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuHwpt *hwpt = (EmuHwpt *)emu_obj_get(ctx, cmd->id,
                                           EMU_OBJ_HWPT_NESTED);
    uint32_t *iotlb;

    if (!hwpt || hwpt->iommu->cfg.kind != EMU_HW_SELFTEST) {
        return -ENOENT;
    }
    if (cmd->check_iotlb.id >= EMU_MOCK_IOTLB_NUM) {
        return -EINVAL;
    }
    iotlb = hwpt->data;
    return iotlb[cmd->check_iotlb.id] == cmd->check_iotlb.iotlb ? 0 : -EINVAL;
}

static int op_dev_check_cache(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuIdev *idev = emu_idev_get(ctx, cmd->id);
    uint32_t *cache;

    if (!idev || !idev->dev->hw_priv) {
        return -ENOENT;
    }
    if (cmd->check_dev_cache.id >= EMU_MOCK_DEV_CACHE_NUM) {
        return -EINVAL;
    }
    cache = ((EmuMockDev *)idev->dev->hw_priv)->cache;
    return cache[cmd->check_dev_cache.id] == cmd->check_dev_cache.cache ?
           0 : -EINVAL;
}

/* ---- IOAS helpers ---- */

static int op_add_reserved(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuIoas *ioas = (EmuIoas *)emu_obj_get(ctx, cmd->id, EMU_OBJ_IOAS);
    uint64_t last;

    if (!ioas) {
        return -ENOENT;
    }
    if (!cmd->add_reserved.length ||
        __builtin_add_overflow(cmd->add_reserved.start,
                               cmd->add_reserved.length - 1, &last)) {
        return -EINVAL;
    }
    return emu_ioas_add_reserved(ioas, cmd->add_reserved.start, last);
}

/* The model keeps no page accounting to limit: accept the setting. */
static int op_set_temp_memory_limit(EmuCtx *ctx, EmuTestCmd *cmd)
{
    return 0;
}

/* ---- dirty tracking: the "device" writes where the bitmap says ---- */

/*
 * The leaf the mock's set_dirty op dirties for @iova. The huge page table
 * format maps a MOCK_HUGE_PAGE_SIZE leaf wherever the block is aligned,
 * lies in one area and is physically contiguous and aligned alike (how
 * iommu_map picks page sizes), unless the IOAS has large pages disabled
 * (iopt_disable_large_pages: PAGE_SIZE units). Otherwise the leaf is the
 * PAGE_SIZE page holding @iova.
 */
static void mock_dirty_leaf(EmuHwpt *hwpt, uint64_t iova, uint64_t *first,
                            uint64_t *last)
{
    uint64_t leaf = hwpt->huge_leaf, block = iova & ~(leaf - 1);
    EmuArea *a = leaf ? emu_ioas_find(hwpt->ioas, block) : NULL;

    *first = iova & EMU_PAGE_MASK;
    *last = *first + EMU_PAGE_SIZE - 1;
    if (a && hwpt->ioas->huge_pages &&
        block + leaf - 1 <= a->iova + a->length - 1) {
        uint64_t n = leaf / EMU_PAGE_SIZE, i;
        g_autofree uint64_t *pfns = g_new(uint64_t, n);
        uint64_t va = (uintptr_t)a->hva + (block - a->iova);

        if (emu_user_pfns(va, n, pfns) || pfns[0] % n) {
            return;
        }
        for (i = 1; i < n; i++) {
            if (pfns[i] != pfns[0] + i) {
                return;
            }
        }
        *first = block;
        *last = block + leaf - 1;
    }
}

/*
 * IOMMU_TEST_OP_DIRTY (iommufd_test_dirty): the "device" dirties the leaf
 * at each bit set in the user's bitmap. Every set bit counts, mapped or
 * not, as the kernel counts them.
 */
static int op_dirty(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuHwpt *hwpt;
    uint64_t psize = cmd->dirty.page_size, nbits, i, word = 0;
    uint64_t n = 0, first, last;
    int rc;

    if (!psize || !cmd->dirty.length || cmd->dirty.iova % psize ||
        cmd->dirty.length % psize || !cmd->dirty.uptr) {
        return -EINVAL;
    }
    nbits = cmd->dirty.length / psize;
    if (nbits > 16ULL * 1024 * 1024 * 8) {
        return -EOVERFLOW;
    }
    hwpt = mock_paging(ctx, cmd->id);
    if (!hwpt) {
        return -ENOENT;
    }
    if (!hwpt->dirty_tracking) {
        return -EINVAL;
    }
    /* iommufd_test_dirty(): the copy of the bitmap (kvzalloc), first */
    rc = emu_host_op(ctx->host);
    if (rc) {
        return rc;
    }
    for (i = 0; i < nbits; i++) {
        uint64_t iova = cmd->dirty.iova + i * psize;

        if (i % 64 == 0) {
            word = 0;
            rc = emu_copy_from_user(&word, cmd->dirty.uptr + i / 8,
                                    MIN(8, EMU_DIV_ROUND_UP(nbits - i, 8)));
            if (rc) {
                return rc;
            }
        }
        if (!((word >> (i % 64)) & 1)) {
            continue;
        }
        n++;
        if (emu_ioas_resolve(hwpt->ioas, iova, 1, 0)) {
            mock_dirty_leaf(hwpt, iova, &first, &last);
            emu_hwpt_mark_dirty_leaf(hwpt, first, last);
        }
    }
    cmd->dirty.out_nr_dirty = n;
    return 0;
}

/* ---- accesses ---- */

static int op_create_access(EmuCtx *ctx, EmuTestCmd *cmd)
{
    return emu_access_create(ctx, cmd->id, cmd->create_access.flags,
                             &cmd->create_access.out_access_fd);
}

static EmuAccess *access_of(EmuCtx *ctx, EmuTestCmd *cmd)
{
    return emu_access_get(ctx, (int)cmd->id);
}

static int op_access_replace_ioas(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuAccess *access = access_of(ctx, cmd);

    return access ? emu_access_replace_ioas(access,
                                            cmd->access_replace_ioas.ioas_id)
                  : -EBADF;
}

static int op_access_pages(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuAccess *access = access_of(ctx, cmd);

    if (!access) {
        return -EBADF;
    }
    return emu_access_pin(access, cmd->access_pages.iova,
                          cmd->access_pages.length, cmd->access_pages.uptr,
                          cmd->access_pages.flags,
                          &cmd->access_pages.out_access_pages_id);
}

static int op_destroy_access_pages(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuAccess *access = access_of(ctx, cmd);

    if (!access) {
        return -EBADF;
    }
    return emu_access_unpin(access,
                            cmd->destroy_access_pages.access_pages_id);
}

static int op_access_rw(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuAccess *access = access_of(ctx, cmd);

    if (!access) {
        return -EBADF;
    }
    return emu_access_rw(access, cmd->access_rw.iova, cmd->access_rw.length,
                         cmd->access_rw.uptr, cmd->access_rw.flags);
}

/* ---- faults and events ---- */

static int op_trigger_iopf(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuIdev *idev = emu_idev_get(ctx, cmd->trigger_iopf.dev_id);
    struct iommu_hwpt_pgfault f = { 0 };
    uint32_t pasid = cmd->trigger_iopf.pasid;
    EmuHwpt *hwpt;

    if (!idev) {
        return -ENOENT;
    }
    hwpt = emu_idev_domain(idev, pasid);
    if (!hwpt) {
        hwpt = emu_idev_domain(idev, EMU_NO_PASID);
    }
    if (!hwpt || !hwpt->fault) {
        return -EINVAL;
    }
    f.flags = IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    f.pasid = pasid;
    f.grpid = cmd->trigger_iopf.grpid;
    f.perm = cmd->trigger_iopf.perm;
    f.addr = cmd->trigger_iopf.addr;
    emu_fault_queue(hwpt->fault, idev, &f);
    return 0;
}

static int op_trigger_vevent(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuIdev *idev = emu_idev_get(ctx, cmd->trigger_vevent.dev_id);
    EmuTestVevent ev;

    if (!idev) {
        return -ENOENT;
    }
    if (!idev->vdev) {
        return -EINVAL;
    }
    ev.virt_id = idev->vdev->virt_id;
    return emu_veventq_report_task(idev->vdev->viommu,
                                   EMU_VEVENTQ_TYPE_SELFTEST, &ev,
                                   sizeof(ev));
}

/* ---- dispatch ---- */

/* ---- dma-bufs (iommufd_test_dmabuf_get, iommufd_test_dmabuf_revoke) ---- */

/*
 * Export a dma-buf of @length (rounded up to pages, at most 512): a memfd
 * the model knows as a dma-buf. Linux 7.3.4's iommufd_test_dmabuf_get
 * installs the new fd but returns 0, not the fd, and the selftest takes
 * the return value as the fd; the model does the same, so the fd is left
 * open and unnamed, as the kernel leaves it.
 */
static int op_dmabuf_get(EmuCtx *ctx, EmuTestCmd *cmd)
{
    uint64_t len = EMU_ROUND_UP((uint64_t)cmd->dmabuf_get.length,
                                EMU_PAGE_SIZE);
    EmuDmabuf *d;
    struct stat st;
    int fd, rc;

    if (!len || len > 512 * EMU_PAGE_SIZE) {
        return -EINVAL;
    }
    /* iommufd_test_dmabuf_get(): its private data (kzalloc) */
    rc = emu_host_op(ctx->host);
    if (rc) {
        return rc;
    }
    fd = memfd_create("iommufd-test-dmabuf",
                      (cmd->dmabuf_get.open_flags & O_CLOEXEC) ?
                      MFD_CLOEXEC : 0);
    if (fd < 0) {
        return -errno;
    }
    if (ftruncate(fd, len) < 0 || fstat(fd, &st) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    d = g_new0(EmuDmabuf, 1);
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->size = len;
    g_ptr_array_add(ctx->host->dmabufs, d);
    return 0;
}

/* Revoke or restore a dma-buf: EINVAL for a file that is not one. */
static int op_dmabuf_revoke(EmuCtx *ctx, EmuTestCmd *cmd)
{
    EmuDmabuf *d;
    struct stat st;

    if (fstat(cmd->dmabuf_revoke.dmabuf_fd, &st) < 0) {
        return -EBADF;
    }
    d = (EmuDmabuf *)emu_dmabuf_find(ctx->host, st.st_dev, st.st_ino);
    if (!d) {
        return -EINVAL;
    }
    d->revoked = cmd->dmabuf_revoke.revoked;
    return 0;
}

static const TestOpFn test_ops[] = {
    [EMU_TEST_OP_ADD_RESERVED] = op_add_reserved,
    [EMU_TEST_OP_MOCK_DOMAIN] = op_mock_domain,
    [EMU_TEST_OP_MD_CHECK_MAP] = op_md_check_map,
    [EMU_TEST_OP_MD_CHECK_REFS] = op_md_check_refs,
    [EMU_TEST_OP_CREATE_ACCESS] = op_create_access,
    [EMU_TEST_OP_DESTROY_ACCESS_PAGES] = op_destroy_access_pages,
    [EMU_TEST_OP_ACCESS_PAGES] = op_access_pages,
    [EMU_TEST_OP_ACCESS_RW] = op_access_rw,
    [EMU_TEST_OP_SET_TEMP_MEMORY_LIMIT] = op_set_temp_memory_limit,
    [EMU_TEST_OP_MOCK_DOMAIN_REPLACE] = op_mock_domain_replace,
    [EMU_TEST_OP_ACCESS_REPLACE_IOAS] = op_access_replace_ioas,
    [EMU_TEST_OP_MOCK_DOMAIN_FLAGS] = op_mock_domain_flags,
    [EMU_TEST_OP_DIRTY] = op_dirty,
    [EMU_TEST_OP_MD_CHECK_IOTLB] = op_md_check_iotlb,
    [EMU_TEST_OP_TRIGGER_IOPF] = op_trigger_iopf,
    [EMU_TEST_OP_DEV_CHECK_CACHE] = op_dev_check_cache,
    [EMU_TEST_OP_TRIGGER_VEVENT] = op_trigger_vevent,
    [EMU_TEST_OP_PASID_ATTACH] = op_pasid_attach,
    [EMU_TEST_OP_PASID_REPLACE] = op_pasid_attach,
    [EMU_TEST_OP_PASID_DETACH] = op_pasid_detach,
    [EMU_TEST_OP_PASID_CHECK_HWPT] = op_pasid_check_hwpt,
    [EMU_TEST_OP_DMABUF_GET] = op_dmabuf_get,
    [EMU_TEST_OP_DMABUF_REVOKE] = op_dmabuf_revoke,
};

int emu_test_cmd(EmuCtx *ctx, void *arg)
{
    EmuTestCmd *cmd = arg;

    if (!mock_iommu(ctx->host)) {
        return -ENOTTY;
    }
    if (cmd->op >= G_N_ELEMENTS(test_ops) || !test_ops[cmd->op]) {
        return -EOPNOTSUPP;
    }
    return test_ops[cmd->op](ctx, cmd);
}

void emu_stdev_describe(EmuStdev *stdev, GString *s)
{
    g_string_append_printf(s, "  idev %u rid 0x%x\n",
                           stdev->idev ? stdev->idev->obj.id : 0,
                           stdev->dev ? stdev->dev->rid : 0);
}
