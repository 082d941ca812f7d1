/*
 * VNest emulated host IOMMU: host, contexts and the ioctl entry point
 *
 * emu_ctx_ioctl() is what the kernel's iommufd_fops_ioctl() is: one table
 * of commands, each with the size of the struct the model knows and the
 * minimum size older user space may pass; the argument is copied in with
 * copy_struct_from_user() rules (E2BIG for a non-zero unknown tail) and
 * copied back to the size user space gave.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <fcntl.h>
#include <stddef.h>
#include <sys/uio.h>
#include <unistd.h>
#include "emu-internal.h"
#include "emu-selftest-abi.h"

#define OFFSETOFEND(type, member) \
    (offsetof(type, member) + sizeof(((type *)0)->member))

typedef int (*EmuCmdFn)(EmuCtx *ctx, void *cmd);

typedef struct EmuCmdOp {
    unsigned long cmd;
    EmuCmdFn fn;
    size_t size;                /* the struct this model knows */
    size_t min_size;            /* the oldest layout user space may use */
    bool respond_on_error;      /* out fields written back on failure too */
} EmuCmdOp;

static int cmd_destroy(EmuCtx *ctx, void *arg)
{
    struct iommu_destroy *cmd = arg;

    return emu_obj_destroy(ctx, cmd->id);
}

#define OP(num, f, type, last, on_err) \
    [_IOC_NR(num) - IOMMUFD_CMD_BASE] = { .cmd = num, .fn = (EmuCmdFn)(f), \
                                 .size = sizeof(type), \
                                 .min_size = OFFSETOFEND(type, last), \
                                 .respond_on_error = on_err }

static const EmuCmdOp cmd_ops[] = {
    OP(IOMMU_DESTROY, cmd_destroy, struct iommu_destroy, id, false),
    OP(IOMMU_IOAS_ALLOC, emu_ioas_alloc, struct iommu_ioas_alloc,
       out_ioas_id, false),
    OP(IOMMU_IOAS_ALLOW_IOVAS, emu_ioas_allow_iovas,
       struct iommu_ioas_allow_iovas, allowed_iovas, false),
    OP(IOMMU_IOAS_COPY, emu_ioas_copy, struct iommu_ioas_copy, src_iova,
       false),
    OP(IOMMU_IOAS_IOVA_RANGES, emu_ioas_iova_ranges,
       struct iommu_ioas_iova_ranges, out_iova_alignment, true),
    OP(IOMMU_IOAS_MAP, emu_ioas_map, struct iommu_ioas_map, iova, false),
    OP(IOMMU_IOAS_UNMAP, emu_ioas_unmap, struct iommu_ioas_unmap, length,
       false),
    OP(IOMMU_OPTION, emu_ioas_option, struct iommu_option, val64, false),
    OP(IOMMU_VFIO_IOAS, emu_vfio_ioas, struct iommu_vfio_ioas, __reserved,
       false),
    OP(IOMMU_HWPT_ALLOC, emu_hwpt_alloc, struct iommu_hwpt_alloc,
       __reserved, false),
    OP(IOMMU_GET_HW_INFO, emu_hw_info, struct iommu_hw_info, __reserved,
       false),
    OP(IOMMU_HWPT_SET_DIRTY_TRACKING, emu_hwpt_set_dirty,
       struct iommu_hwpt_set_dirty_tracking, __reserved, false),
    OP(IOMMU_HWPT_GET_DIRTY_BITMAP, emu_hwpt_get_dirty,
       struct iommu_hwpt_get_dirty_bitmap, data, false),
    OP(IOMMU_HWPT_INVALIDATE, emu_hwpt_invalidate,
       struct iommu_hwpt_invalidate, __reserved, true),
    OP(IOMMU_FAULT_QUEUE_ALLOC, emu_fault_alloc, struct iommu_fault_alloc,
       out_fault_fd, false),
    OP(IOMMU_IOAS_MAP_FILE, emu_ioas_map_file, struct iommu_ioas_map_file,
       iova, false),
    OP(IOMMU_VIOMMU_ALLOC, emu_viommu_alloc, struct iommu_viommu_alloc,
       out_viommu_id, false),
    OP(IOMMU_VDEVICE_ALLOC, emu_vdevice_alloc, struct iommu_vdevice_alloc,
       virt_id, false),
    OP(IOMMU_IOAS_CHANGE_PROCESS, emu_ioas_change_process,
       struct iommu_ioas_change_process, __reserved, false),
    OP(IOMMU_VEVENTQ_ALLOC, emu_veventq_alloc, struct iommu_veventq_alloc,
       out_veventq_fd, false),
    OP(IOMMU_HW_QUEUE_ALLOC, emu_hw_queue_alloc,
       struct iommu_hw_queue_alloc, length, false),
    /* Only hosts with a selftest mock IOMMU answer it (else ENOTTY). */
    OP(EMU_IOMMU_TEST_CMD, emu_test_cmd, EmuTestCmd, last, false),
};

/* ---- user memory access ---- */

/*
 * The model runs in the caller's process, so "user" pointers are plain
 * pointers. process_vm_readv/writev on ourselves copy them without
 * crashing on a bad one: EFAULT, as copy_from_user() would return.
 */
int emu_copy_from_user(void *dst, uint64_t uptr, size_t len)
{
    struct iovec local = { dst, len };
    struct iovec remote = { (void *)(uintptr_t)uptr, len };

    if (!len) {
        return 0;
    }
    if (!uptr) {
        return -EFAULT;
    }
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)len) {
        return -EFAULT;
    }
    return 0;
}

/*
 * Page frames of @n user pages from @va, as /proc/self/pagemap tells them
 * (bit 63: present, bits 0..54: the frame; the frame reads as 0 without
 * CAP_SYS_ADMIN). Each page is read first, so it is faulted in as a pin
 * would do. -EFAULT for an unmapped page, -EPERM when frames are hidden.
 */
int emu_user_pfns(uint64_t va, uint64_t n, uint64_t *pfns)
{
    uint64_t i;
    uint8_t b;
    ssize_t len = n * sizeof(*pfns);
    int fd, rc = 0;

    for (i = 0; i < n; i++) {
        if (emu_copy_from_user(&b, (va & EMU_PAGE_MASK) + i * EMU_PAGE_SIZE,
                               1)) {
            return -EFAULT;
        }
    }
    fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -EPERM;
    }
    if (pread(fd, pfns, len, (va >> EMU_PAGE_SHIFT) * sizeof(*pfns)) != len) {
        rc = -EPERM;
    }
    close(fd);
    for (i = 0; !rc && i < n; i++) {
        if (!(pfns[i] >> 63)) {
            rc = -EFAULT;
        } else if (!(pfns[i] & ((1ULL << 55) - 1))) {
            rc = -EPERM;
        }
        pfns[i] &= (1ULL << 55) - 1;
    }
    return rc;
}

/*
 * Whether user addresses @a and @b lie in the same physical page, as the
 * kernel's selftest compares struct pages (get_user_pages_fast). Where
 * frames are hidden (no CAP_SYS_ADMIN), the same virtual page stands in.
 */
int emu_user_same_page(uint64_t a, uint64_t b, bool *same)
{
    uint64_t pa, pb;
    int rc = emu_user_pfns(a, 1, &pa);

    if (!rc) {
        rc = emu_user_pfns(b, 1, &pb);
    }
    if (rc == -EPERM) {
        *same = (a & EMU_PAGE_MASK) == (b & EMU_PAGE_MASK);
        return 0;
    }
    *same = !rc && pa == pb;
    return rc;
}

int emu_copy_to_user(uint64_t uptr, const void *src, size_t len)
{
    struct iovec local = { (void *)src, len };
    struct iovec remote = { (void *)(uintptr_t)uptr, len };

    if (!len) {
        return 0;
    }
    if (!uptr) {
        return -EFAULT;
    }
    if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) !=
        (ssize_t)len) {
        return -EFAULT;
    }
    /*
     * Proven writable: store again in plain code, so memory checkers
     * (which do not follow process_vm_writev into our own pages) see
     * the data defined.
     */
    memcpy((void *)(uintptr_t)uptr, src, len);
    return 0;
}

#define UACCESS_CHUNK   256

/* Like the kernel's check_zeroed_user(): no allocation of user sizes. */
static int check_zeroed_user(uint64_t uptr, uint64_t len)
{
    uint8_t buf[UACCESS_CHUNK];

    while (len) {
        size_t n = MIN(len, sizeof(buf));
        size_t i;
        int rc = emu_copy_from_user(buf, uptr, n);

        if (rc) {
            return rc;
        }
        for (i = 0; i < n; i++) {
            if (buf[i]) {
                return -E2BIG;
            }
        }
        uptr += n;
        len -= n;
    }
    return 0;
}

int emu_clear_user(uint64_t uptr, uint64_t len)
{
    static const uint8_t zeros[UACCESS_CHUNK];

    while (len) {
        size_t n = MIN(len, sizeof(zeros));
        int rc = emu_copy_to_user(uptr, zeros, n);

        if (rc) {
            return rc;
        }
        uptr += n;
        len -= n;
    }
    return 0;
}

int emu_copy_struct(void *dst, size_t ksize, uint64_t uptr, size_t usize)
{
    memset(dst, 0, ksize);
    if (usize > ksize) {
        int rc = check_zeroed_user(uptr + ksize, usize - ksize);

        if (rc) {
            return rc;
        }
    }
    return emu_copy_from_user(dst, uptr, MIN(ksize, usize));
}

/* ---- failure injection ---- */

int emu_host_op_at(EmuHost *host, const char *site)
{
    host->ops_count++;
    if (host->fail_at && host->ops_count == host->fail_at) {
        host->fail_at = 0;
        host->fail_site = site;
        return -host->fail_err;
    }
    return 0;
}

const char *emu_host_fail_site(EmuHost *host)
{
    EMU_HOST_LOCK(host);

    return host->fail_site;
}

unsigned long emu_host_fail_nth(EmuHost *host, unsigned long nth, int err)
{
    EMU_HOST_LOCK(host);
    unsigned long ran = host->ops_count;

    host->ops_count = 0;
    host->fail_at = nth;
    if (nth) {
        host->fail_site = NULL;
    }
    host->fail_err = err ? err : ENOMEM;
    return ran;
}

/* ---- host and contexts ---- */

EmuHost *emu_host_new(void)
{
    EmuHost *host = g_new0(EmuHost, 1);

    host->iommus = g_ptr_array_new();
    host->devices = g_ptr_array_new();
    g_rec_mutex_init(&host->lock);
    host->dmabufs = g_ptr_array_new_with_free_func(g_free);
    return host;
}

const EmuDmabuf *emu_dmabuf_find(EmuHost *host, uint64_t dev, uint64_t ino)
{
    guint i;

    for (i = 0; i < host->dmabufs->len; i++) {
        const EmuDmabuf *d = g_ptr_array_index(host->dmabufs, i);

        if (d->dev == dev && d->ino == ino) {
            return d;
        }
    }
    return NULL;
}

static void iommu_free(gpointer p)
{
    EmuIommu *iommu = p;

    emu_iotlb_free(iommu->iotlb);
    g_free(iommu);
}

static void device_free(gpointer p)
{
    EmuDevice *dev = p;

    emu_pri_free(dev);
    g_free(dev->name);
    g_free(dev);
}

unsigned emu_host_free(EmuHost *host)
{
    unsigned leaks = 0;
    guint i;
    GList *l;

    for (i = 0; i < host->devices->len; i++) {
        EmuDevice *dev = g_ptr_array_index(host->devices, i);

        if (dev->vfio) {
            g_printerr("iommufd-emu: leaked VFIO open of device %s\n",
                       dev->name);
            leaks++;
        }
    }
    for (l = host->ctxs; l; l = l->next) {
        g_printerr("iommufd-emu: leaked open iommufd context\n");
        leaks += 1 + emu_obj_leak_report(l->data);
    }
    if (leaks) {
        /* Leave leaked state alone: freeing it could crash. */
        return leaks;
    }
    g_ptr_array_set_free_func(host->devices, device_free);
    g_ptr_array_set_free_func(host->iommus, iommu_free);
    g_ptr_array_free(host->devices, true);
    g_ptr_array_free(host->iommus, true);
    g_rec_mutex_clear(&host->lock);
    g_ptr_array_free(host->dmabufs, true);
    g_free(host);
    return 0;
}

int emu_host_add_iommu(EmuHost *host, const EmuHwConfig *cfg,
                       EmuIommu **out)
{
    EMU_HOST_LOCK(host);
    EmuIommu *iommu = g_new0(EmuIommu, 1);

    switch (cfg->kind) {
    case EMU_HW_PAGING:
        iommu->ops = &emu_hw_paging_ops;
        break;
    case EMU_HW_VTD:
        iommu->ops = &emu_hw_vtd_ops;
        break;
    case EMU_HW_SMMUV3:
        iommu->ops = &emu_hw_smmuv3_ops;
        break;
    case EMU_HW_SELFTEST:
        iommu->ops = &emu_hw_selftest_ops;
        break;
    default:
        g_free(iommu);
        return -EINVAL;
    }
    iommu->host = host;
    iommu->cfg = *cfg;
    iommu->index = host->iommus->len;
    iommu->iotlb = emu_iotlb_new(cfg->iotlb_entries ? cfg->iotlb_entries :
                                 EMU_IOTLB_DEFAULT_ENTRIES);
    iommu->next_tag = 1;
    g_ptr_array_add(host->iommus, iommu);
    *out = iommu;
    return 0;
}

EmuDevice *emu_host_find_device(EmuHost *host, EmuIommu *iommu, uint32_t rid)
{
    EMU_HOST_LOCK(host);
    guint i;

    for (i = 0; i < host->devices->len; i++) {
        EmuDevice *dev = g_ptr_array_index(host->devices, i);

        if (dev->iommu == iommu && dev->rid == rid) {
            return dev;
        }
    }
    return NULL;
}

int emu_host_add_device(EmuHost *host, EmuIommu *iommu, uint32_t rid,
                        const char *name, EmuDevice **out)
{
    EMU_HOST_LOCK(host);
    EmuDevice *dev;
    guint i;

    for (i = 0; i < host->devices->len; i++) {
        dev = g_ptr_array_index(host->devices, i);
        if (dev->iommu == iommu && dev->rid == rid) {
            return -EEXIST;
        }
    }
    dev = g_new0(EmuDevice, 1);
    dev->host = host;
    dev->iommu = iommu;
    dev->rid = rid;
    dev->name = g_strdup(name ? name : "device");
    dev->pasid_bits = iommu->cfg.pasid_bits;
    g_ptr_array_add(host->devices, dev);
    *out = dev;
    return 0;
}

/* Hot-unplug a device nothing has open or bound any more. */
void emu_host_remove_device(EmuHost *host, EmuDevice *dev)
{
    g_assert(!dev->idev && !dev->vfio);
    g_ptr_array_remove(host->devices, dev);
    device_free(dev);
}

void emu_host_stats(EmuHost *host, EmuStats *st)
{
    guint i;

    EMU_HOST_LOCK(host);

    memset(st, 0, sizeof(*st));
    st->translations = host->stats.translations;
    st->faults = host->stats.faults;
    st->objects = host->stats.objects;
    for (i = 0; i < host->iommus->len; i++) {
        EmuIommu *iommu = g_ptr_array_index(host->iommus, i);
        EmuIotlbStats ts;

        emu_iotlb_stats(iommu->iotlb, &ts);
        st->iotlb_hits += ts.hits[EMU_TLB_LEAF];
        st->iotlb_misses += ts.misses[EMU_TLB_LEAF];
        st->iotlb_entries += ts.entries;
        st->iotlb_evictions += ts.evictions;
        st->iotlb_flush_work += ts.flush_work;
        st->psc_hits += ts.hits[EMU_TLB_PSC];
    }
}

EmuCtx *emu_ctx_open(EmuHost *host)
{
    EMU_HOST_LOCK(host);
    EmuCtx *ctx;
    /* iommufd_fops_open(): the context (kzalloc) */
    int rc = emu_host_op(host);

    if (rc) {
        errno = -rc;
        return NULL;
    }
    ctx = g_new0(EmuCtx, 1);
    ctx->host = host;
    ctx->objs = g_ptr_array_new();
    ctx->fds = g_hash_table_new(g_direct_hash, g_direct_equal);
    host->ctxs = g_list_prepend(host->ctxs, ctx);
    return ctx;
}

void emu_ctx_close(EmuCtx *ctx)
{
    EmuHost *host = ctx->host;
    EMU_HOST_LOCK(host);

    emu_eventq_close_fds(ctx);
    emu_mmap_release_all(ctx);
    emu_obj_destroy_all(ctx);
    if (emu_obj_leak_report(ctx)) {
        /*
         * Still referenced (a device bound by an open VFIO cdev): keep
         * the context so emu_host_free() reports it.
         */
        return;
    }
    host->ctxs = g_list_remove(host->ctxs, ctx);
    g_ptr_array_free(ctx->objs, true);
    g_hash_table_destroy(ctx->fds);
    g_free(ctx);
}

int emu_ctx_ioctl(EmuCtx *ctx, unsigned long cmd, void *arg)
{
    unsigned long nr = _IOC_NR(cmd);
    const EmuCmdOp *op;
    uint64_t ubuf = (uintptr_t)arg;
    uint8_t kbuf[128];
    uint32_t usize;
    int rc;
    EMU_HOST_LOCK(ctx->host);

    if (_IOC_TYPE(cmd) == VFIO_TYPE && nr < IOMMUFD_CMD_BASE) {
        rc = emu_vfio_compat_ioctl(ctx, cmd, arg);
        if (rc < 0) {
            errno = -rc;
            return -1;
        }
        return rc;
    }
    if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= G_N_ELEMENTS(cmd_ops)
        || cmd_ops[nr - IOMMUFD_CMD_BASE].cmd != cmd) {
        errno = ENOTTY;
        return -1;
    }
    op = &cmd_ops[nr - IOMMUFD_CMD_BASE];
    g_assert(op->size <= sizeof(kbuf));
    rc = emu_copy_from_user(&usize, ubuf, sizeof(usize));
    if (!rc && usize < op->min_size) {
        rc = -EINVAL;
    }
    if (!rc) {
        rc = emu_copy_struct(kbuf, op->size, ubuf, usize);
    }
    if (!rc) {
        rc = op->fn(ctx, kbuf);
        if ((rc == 0 || op->respond_on_error) &&
            emu_copy_to_user(ubuf, kbuf, MIN(usize, op->size))) {
            rc = -EFAULT;
        }
    }
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return rc;
}

void emu_hw_config_default(EmuHwConfig *cfg, EmuHwKind kind)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kind = kind;
    switch (kind) {
    case EMU_HW_PAGING:
        cfg->ias = 64;
        break;
    case EMU_HW_VTD:
        cfg->nesting = true;
        cfg->dirty_tracking = true;
        cfg->pasid_bits = 20;
        cfg->ias = 48;
        cfg->vtd.fs1gp = true;
        /*
         * Linux 7.3 reports erratum 772415 on every VT-d
         * (intel_iommu_hw_info()) and gives every nest parent
         * PT_FEAT_VTDSS_FORCE_WRITEABLE: no read-only mapping.
         */
        cfg->vtd.errata_spr17 = true;
        break;
    case EMU_HW_SMMUV3:
        cfg->nesting = true;
        cfg->dirty_tracking = true;
        cfg->pasid_bits = 20;
        cfg->ias = 48;
        cfg->smmu.ssid_bits = 20;
        cfg->smmu.ril = true;
        cfg->smmu.gran16k = true;
        cfg->smmu.gran64k = true;
        cfg->smmu.cd2l = true;
        break;
    case EMU_HW_SELFTEST:
        /* What the kernel's mock IOMMU offers; devices choose PASID */
        cfg->nesting = true;
        cfg->dirty_tracking = true;
        cfg->pasid_bits = EMU_MOCK_PASID_WIDTH;
        cfg->ias = 64;
        break;
    }
}
