/*
 * VNest emulated host IOMMU: vEVENTQs and fault queues
 *
 * Each queue owns an eventfd that polls readable while records wait; the
 * records themselves are read with emu_ctx_read() in the kernel's format:
 * a vEVENTQ yields (header, payload) pairs with a sequence number and a
 * LOST_EVENTS header when it overflowed, a fault queue yields
 * struct iommu_hwpt_pgfault and takes struct iommu_hwpt_page_response.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <sys/eventfd.h>
#include <unistd.h>
#include "emu-internal.h"

#define VEVENTQ_MAX_DEPTH   (1u << 19)
#define FAULT_QUEUE_DEPTH   256

static int eventq_new(EmuCtx *ctx, EmuObjType type, EmuEventq **out)
{
    EmuEventq *q;
    int rc = emu_host_op(ctx->host);
    int fd;

    if (rc) {
        return rc;
    }
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        return -errno;
    }
    q = emu_obj_reserve(ctx, type, sizeof(*q));
    q->fd = fd;
    q->is_fault = type == EMU_OBJ_FAULT;
    g_queue_init(&q->records);
    g_hash_table_insert(ctx->fds, GINT_TO_POINTER(fd), q);
    *out = q;
    return 0;
}

int emu_veventq_alloc(EmuCtx *ctx, struct iommu_veventq_alloc *cmd)
{
    EmuViommu *viommu;
    EmuEventq *q;
    int rc;

    if (cmd->flags || cmd->__reserved) {
        return -EOPNOTSUPP;
    }
    viommu = (EmuViommu *)emu_obj_get(ctx, cmd->viommu_id, EMU_OBJ_VIOMMU);
    if (!viommu) {
        return -ENOENT;
    }
    if (!cmd->veventq_depth || cmd->veventq_depth > VEVENTQ_MAX_DEPTH) {
        return -EINVAL;
    }
    if (cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT ||
        !viommu->iommu->ops->veventq_type ||
        cmd->type != viommu->iommu->ops->veventq_type) {
        return -EOPNOTSUPP;
    }
    if (viommu->veventq) {
        return -EEXIST;
    }
    rc = eventq_new(ctx, EMU_OBJ_VEVENTQ, &q);
    if (rc) {
        return rc;
    }
    q->viommu = viommu;
    q->type = cmd->type;
    q->depth = cmd->veventq_depth;
    viommu->veventq = q;
    emu_obj_ref(viommu);        /* put in emu_eventq_destroy() */
    cmd->out_veventq_id = q->obj.id;
    cmd->out_veventq_fd = q->fd;
    emu_obj_finalize(&q->obj);
    return 0;
}

int emu_fault_alloc(EmuCtx *ctx, struct iommu_fault_alloc *cmd)
{
    EmuEventq *q;
    int rc;

    if (cmd->flags) {
        return -EOPNOTSUPP;
    }
    rc = eventq_new(ctx, EMU_OBJ_FAULT, &q);
    if (rc) {
        return rc;
    }
    q->depth = FAULT_QUEUE_DEPTH;
    q->pending = g_hash_table_new(g_direct_hash, g_direct_equal);
    cmd->out_fault_id = q->obj.id;
    cmd->out_fault_fd = q->fd;
    emu_obj_finalize(&q->obj);
    return 0;
}

void emu_eventq_destroy(EmuEventq *q)
{
    g_hash_table_remove(q->obj.ctx->fds, GINT_TO_POINTER(q->fd));
    close(q->fd);
    g_queue_clear_full(&q->records, (GDestroyNotify)g_bytes_unref);
    if (q->pending) {
        g_hash_table_destroy(q->pending);
    }
    if (q->viommu) {
        q->viommu->veventq = NULL;
        emu_obj_unref(q->viommu);
    }
}

static void eventq_signal(EmuEventq *q)
{
    uint64_t one = 1;

    if (write(q->fd, &one, sizeof(one)) != sizeof(one)) {
        /* counter saturated: it is readable anyway */
    }
}

static void eventq_drain_signal(EmuEventq *q)
{
    uint64_t v;

    if (g_queue_is_empty(&q->records) && !q->lost) {
        if (read(q->fd, &v, sizeof(v)) < 0) {
            /* already clear */
        }
    }
}

void emu_veventq_report(EmuViommu *viommu, uint32_t type,
                        const void *payload, size_t len)
{
    EmuEventq *q = viommu->veventq;
    struct iommufd_vevent_header hdr = { 0 };
    GByteArray *rec;

    if (!q || q->type != type) {
        return;
    }
    hdr.sequence = q->seq;
    q->seq = q->seq == INT32_MAX ? 0 : q->seq + 1;
    if (g_queue_get_length(&q->records) >= q->depth) {
        q->lost = true;         /* the gap in sequence numbers says how many */
        eventq_signal(q);
        return;
    }
    rec = g_byte_array_sized_new(sizeof(hdr) + len);
    g_byte_array_append(rec, (const guint8 *)&hdr, sizeof(hdr));
    g_byte_array_append(rec, payload, len);
    g_queue_push_tail(&q->records, g_byte_array_free_to_bytes(rec));
    eventq_signal(q);
}

void emu_fault_report(EmuEventq *q, EmuIdev *idev, uint32_t pasid,
                      uint64_t iova, unsigned access)
{
    struct iommu_hwpt_pgfault f = { 0 };

    f.flags = IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    if (pasid != EMU_NO_PASID) {
        f.flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
        f.pasid = pasid;
    }
    f.grpid = q->next_cookie;
    f.perm = ((access & EMU_DMA_READ) ? IOMMU_PGFAULT_PERM_READ : 0) |
             ((access & EMU_DMA_WRITE) ? IOMMU_PGFAULT_PERM_WRITE : 0);
    f.addr = iova & EMU_PAGE_MASK;
    emu_fault_queue(q, idev, &f);
}

void emu_fault_queue(EmuEventq *q, EmuIdev *idev,
                     const struct iommu_hwpt_pgfault *rec)
{
    struct iommu_hwpt_pgfault f = *rec;

    if (g_queue_get_length(&q->records) >= q->depth) {
        return;                 /* the hardware's page request queue is full */
    }
    f.dev_id = idev->obj.id;
    f.length = EMU_PAGE_SIZE;
    f.cookie = q->next_cookie++;
    g_hash_table_insert(q->pending, GUINT_TO_POINTER(f.cookie), idev);
    g_queue_push_tail(&q->records, g_bytes_new(&f, sizeof(f)));
    eventq_signal(q);
}

static EmuObj *fd_obj(EmuCtx *ctx, int fd)
{
    return g_hash_table_lookup(ctx->fds, GINT_TO_POINTER(fd));
}

/* The queue behind @fd, if @fd is a vEVENTQ or fault queue. */
static EmuEventq *fd_queue(EmuCtx *ctx, int fd)
{
    EmuObj *obj = fd_obj(ctx, fd);

    if (!obj || (obj->type != EMU_OBJ_VEVENTQ &&
                 obj->type != EMU_OBJ_FAULT)) {
        return NULL;
    }
    return (EmuEventq *)obj;
}

bool emu_ctx_owns_fd(EmuCtx *ctx, int fd)
{
    return fd_obj(ctx, fd) != NULL;
}

/* Whole records only; a buffer too small for the next one reads 0. */
ssize_t emu_ctx_read(EmuCtx *ctx, int fd, void *buf, size_t len)
{
    EmuEventq *q = fd_queue(ctx, fd);
    size_t done = 0;

    if (!q) {
        errno = EBADF;
        return -1;
    }
    while (!g_queue_is_empty(&q->records)) {
        GBytes *rec = g_queue_peek_head(&q->records);
        gsize n;
        const void *data = g_bytes_get_data(rec, &n);

        if (done + n > len) {
            break;
        }
        if (emu_copy_to_user((uintptr_t)buf + done, data, n)) {
            errno = EFAULT;
            return done ? (ssize_t)done : -1;
        }
        done += n;
        g_bytes_unref(g_queue_pop_head(&q->records));
    }
    if (q->lost && g_queue_is_empty(&q->records) && !q->is_fault) {
        struct iommufd_vevent_header hdr = {
            .flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS,
            .sequence = q->seq,
        };

        if (done + sizeof(hdr) <= len &&
            !emu_copy_to_user((uintptr_t)buf + done, &hdr, sizeof(hdr))) {
            done += sizeof(hdr);
            q->lost = false;
        }
    }
    eventq_drain_signal(q);
    return done;
}

/* Page responses to a fault queue. */
ssize_t emu_ctx_write(EmuCtx *ctx, int fd, const void *buf, size_t len)
{
    EmuEventq *q = fd_queue(ctx, fd);
    struct iommu_hwpt_page_response resp;
    size_t done = 0;

    if (!q) {
        errno = EBADF;
        return -1;
    }
    if (!q->is_fault || len % sizeof(resp)) {
        errno = EINVAL;
        return -1;
    }
    while (done < len) {
        if (emu_copy_from_user(&resp, (uintptr_t)buf + done, sizeof(resp))) {
            errno = EFAULT;
            return done ? (ssize_t)done : -1;
        }
        if (resp.code > IOMMUFD_PAGE_RESP_INVALID ||
            !g_hash_table_remove(q->pending, GUINT_TO_POINTER(resp.cookie))) {
            errno = EINVAL;
            return done ? (ssize_t)done : -1;
        }
        done += sizeof(resp);
    }
    return done;
}

int emu_ctx_close_fd(EmuCtx *ctx, int fd)
{
    EmuObj *obj = fd_obj(ctx, fd);

    if (!obj) {
        errno = EBADF;
        return -1;
    }
    if (obj->type == EMU_OBJ_ACCESS) {
        /* An access lives as long as its file: closing destroys it. */
        emu_access_close((EmuAccess *)obj);
        return 0;
    }
    /*
     * The fd holds the object in the kernel; here IOMMU_DESTROY or
     * closing the context frees both, so closing early only stops
     * delivery.
     */
    return 0;
}
