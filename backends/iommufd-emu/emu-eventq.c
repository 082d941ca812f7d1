/*
 * VNest emulated host IOMMU: vEVENTQs and fault queues
 *
 * Each queue owns an eventfd that polls readable while records wait; the
 * records themselves are read with emu_ctx_read() in the kernel's format:
 * a vEVENTQ yields (header, payload) pairs with a sequence number and a
 * LOST_EVENTS header when it overflowed, a fault queue yields
 * struct iommu_hwpt_pgfault and takes struct iommu_hwpt_page_response.
 * As the kernel's anon-inode file, the open fd holds a reference on its
 * object (iommufd_eventq_init()): IOMMU_DESTROY is EBUSY until the caller
 * closes it with emu_ctx_close_fd() (iommufd_eventq_fops_release()).
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
    int rc = emu_obj_reserve(ctx, type, sizeof(*q), &q);
    int fd;

    if (rc) {
        return rc;
    }
    /* Its file (iommufd_fault_init(): anon_inode_getfile) */
    rc = emu_host_op(ctx->host);
    fd = rc ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        emu_obj_abort(&q->obj);
        return rc ? rc : -errno;
    }
    q->fd = fd;
    emu_obj_ref(q);             /* the open fd's, put by eventq_close_fd() */
    q->is_fault = type == EMU_OBJ_FAULT;
    g_queue_init(&q->records);
    g_hash_table_insert(ctx->fds, GINT_TO_POINTER(fd), q);
    *out = q;
    return 0;
}

/* The vIOMMU's queue of @type (iommufd_viommu_find_veventq()) */
static EmuEventq *veventq_find(EmuViommu *viommu, uint32_t type)
{
    GList *l;

    for (l = viommu->veventqs; l; l = l->next) {
        EmuEventq *q = l->data;

        if (q->type == type) {
            return q;
        }
    }
    return NULL;
}

/*
 * iommufd_veventq_alloc(): flags, __reserved and the DEFAULT type, then
 * the depth, then the vIOMMU. Any other type is taken, whether or not the
 * driver reports it (iommufd_viommu_report_event() finds the queue by
 * type); one queue per type.
 */
int emu_veventq_alloc(EmuCtx *ctx, struct iommu_veventq_alloc *cmd)
{
    EmuViommu *viommu;
    EmuEventq *q;
    int rc;

    if (cmd->flags || cmd->__reserved ||
        cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT) {
        return -EOPNOTSUPP;
    }
    if (!cmd->veventq_depth || cmd->veventq_depth > VEVENTQ_MAX_DEPTH) {
        return -EINVAL;
    }
    viommu = (EmuViommu *)emu_obj_get(ctx, cmd->viommu_id, EMU_OBJ_VIOMMU);
    if (!viommu) {
        return -ENOENT;
    }
    if (veventq_find(viommu, cmd->type)) {
        return -EEXIST;
    }
    rc = eventq_new(ctx, EMU_OBJ_VEVENTQ, &q);
    if (rc) {
        return rc;
    }
    q->viommu = viommu;
    q->type = cmd->type;
    q->depth = cmd->veventq_depth;
    viommu->veventqs = g_list_append(viommu->veventqs, q);
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

/* close() of the queue's fd: the object stays until IOMMU_DESTROY. */
static void eventq_close_fd(EmuEventq *q)
{
    g_hash_table_remove(q->obj.ctx->fds, GINT_TO_POINTER(q->fd));
    close(q->fd);
    q->fd = -1;
    emu_obj_unref(q);
}

/*
 * The context is closing: its queues' fds go with it (the kernel would
 * keep the context until the last one is closed; the model's caller
 * gives up every fd of the context at once).
 */
void emu_eventq_close_fds(EmuCtx *ctx)
{
    GHashTableIter it;
    gpointer obj;
    GPtrArray *qs = g_ptr_array_new();
    guint i;

    g_hash_table_iter_init(&it, ctx->fds);
    while (g_hash_table_iter_next(&it, NULL, &obj)) {
        EmuObj *o = obj;

        if (o->type == EMU_OBJ_VEVENTQ || o->type == EMU_OBJ_FAULT) {
            g_ptr_array_add(qs, o);
        }
    }
    for (i = 0; i < qs->len; i++) {
        eventq_close_fd(g_ptr_array_index(qs, i));
    }
    g_ptr_array_free(qs, true);
}

/*
 * iopf_group_response() then iopf_free_group(): the response goes to the
 * device through the IOMMU (intel_iommu_page_response()); a selftest
 * mock's group has no device to answer.
 */
static void group_respond(EmuPgGroup *g, int code)
{
    if (g->dev) {
        emu_pri_respond(g->dev, g->req_pasid, g->rec.grpid, code);
    }
    g_free(g);
}

/*
 * iommufd_fault_destroy(): groups still queued, then those read and not
 * answered, are answered INVALID.
 */
static void fault_destroy(EmuEventq *q)
{
    GHashTableIter it;
    gpointer g;
    EmuPgGroup *grp;

    while ((grp = g_queue_pop_head(&q->records))) {
        group_respond(grp, IOMMUFD_PAGE_RESP_INVALID);
    }
    g_hash_table_iter_init(&it, q->pending);
    while (g_hash_table_iter_next(&it, NULL, &g)) {
        g_hash_table_iter_remove(&it);
        group_respond(g, IOMMUFD_PAGE_RESP_INVALID);
    }
    g_hash_table_destroy(q->pending);
}

void emu_eventq_destroy(EmuEventq *q)
{
    g_assert(q->fd < 0);        /* the fd holds the object */
    if (q->is_fault) {
        fault_destroy(q);
    } else {
        g_queue_clear_full(&q->records, (GDestroyNotify)g_bytes_unref);
    }
    if (q->viommu) {
        q->viommu->veventqs = g_list_remove(q->viommu->veventqs, q);
        emu_obj_unref(q->viommu);
    }
}

static void eventq_signal(EmuEventq *q)
{
    uint64_t one = 1;

    if (q->fd >= 0 && write(q->fd, &one, sizeof(one)) != sizeof(one)) {
        /* counter saturated: it is readable anyway */
    }
}

static void eventq_drain_signal(EmuEventq *q)
{
    uint64_t v;

    if (g_queue_is_empty(&q->records)) {
        if (q->fd >= 0 && read(q->fd, &v, sizeof(v)) < 0) {
            /* already clear */
        }
    }
}

/*
 * iommufd_viommu_report_event() and iommufd_vevent_handler(): every
 * report takes the next sequence number, a lost one too. A full queue
 * (depth normal events) gets the LOST_EVENTS header, with the sequence
 * number of the event it stands for, and only ever as its last record:
 * any newer report first deletes it, the gap in the numbers then says
 * how many were lost.
 */
static int veventq_report(EmuViommu *viommu, uint32_t type,
                          const void *payload, size_t len, bool task)
{
    EmuEventq *q = veventq_find(viommu, type);
    struct iommufd_vevent_header hdr = { 0 };
    guint events;
    GByteArray *rec;
    int rc = 0;

    if (!q) {
        /* iommufd_viommu_report_event(): no queue of that type */
        return -EOPNOTSUPP;
    }
    /*
     * iommufd_viommu_report_event(): the record is allocated first; if
     * that fails the event is lost, the LOST_EVENTS header takes its
     * place as when the queue is full, and the caller sees ENOMEM.
     * Only a report made for a command is an injection point: fail_nth
     * does not reach the hardware's interrupt path.
     */
    if (task) {
        rc = emu_host_op(viommu->obj.ctx->host);
    }
    hdr.sequence = q->seq;
    q->seq = (q->seq + 1) & INT32_MAX;
    if (q->lost) {
        g_bytes_unref(g_queue_pop_tail(&q->records));
        q->lost = false;
    }
    events = g_queue_get_length(&q->records);
    rec = g_byte_array_sized_new(sizeof(hdr) + len);
    if (rc || events >= q->depth) {
        hdr.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
        q->lost = true;
    }
    g_byte_array_append(rec, (const guint8 *)&hdr, sizeof(hdr));
    if (!q->lost) {
        g_byte_array_append(rec, payload, len);
    }
    g_queue_push_tail(&q->records, g_byte_array_free_to_bytes(rec));
    eventq_signal(q);
    return rc;
}

void emu_veventq_report(EmuViommu *viommu, uint32_t type,
                        const void *payload, size_t len)
{
    veventq_report(viommu, type, payload, len, false);
}

int emu_veventq_report_task(EmuViommu *viommu, uint32_t type,
                            const void *payload, size_t len)
{
    return veventq_report(viommu, type, payload, len, true);
}

static int fault_group_add(EmuEventq *q, EmuIdev *idev, uint32_t attach_pasid,
                           EmuDevice *dev, uint32_t req_pasid,
                           const struct iommu_hwpt_pgfault *rec)
{
    EmuPgGroup *g;

    /*
     * iommu_report_device_fault(): iopf_group_alloc() (kzalloc) failing
     * aborts the request, answered FAILURE to the device, nothing is
     * queued (the report itself returns 0).
     */
    if (emu_host_op(idev->obj.ctx->host)) {
        return -ENOMEM;
    }
    g = g_new0(EmuPgGroup, 1);
    g->rec = *rec;
    g->rec.dev_id = idev->obj.id;   /* iommufd_compose_fault_message() */
    g->rec.length = 0;
    g->rec.cookie = 0;              /* given when read */
    g->idev = idev;
    g->attach_pasid = attach_pasid;
    g->dev = dev;
    g->req_pasid = req_pasid;
    /* iommufd_fault_iopf_handler(): the deliver list, unbounded */
    g_queue_push_tail(&q->records, g);
    eventq_signal(q);
    return 0;
}

/*
 * A page request (PRI) or stall for @idev on @q, as the selftest's
 * TRIGGER_IOPF (iommufd_test_trigger_iopf()) reports it.
 */
void emu_fault_queue(EmuEventq *q, EmuIdev *idev,
                     const struct iommu_hwpt_pgfault *rec)
{
    uint32_t attach = emu_idev_domain(idev, rec->pasid) ? rec->pasid
                                                        : EMU_NO_PASID;

    if (g_queue_get_length(&q->records) >= q->depth) {
        return;                 /* the hardware's page request queue is full */
    }
    fault_group_add(q, idev, attach, NULL, rec->pasid, rec);
}

int emu_fault_report(EmuEventq *q, EmuIdev *idev, uint32_t attach_pasid,
                     EmuDevice *dev, uint32_t req_pasid,
                     const struct iommu_hwpt_pgfault *rec)
{
    return fault_group_add(q, idev, attach_pasid, dev, req_pasid, rec);
}

static bool group_of_handle(EmuPgGroup *g, EmuIdev *idev, uint32_t pasid)
{
    return g->idev == idev && g->attach_pasid == pasid;
}

void emu_fault_auto_response(EmuEventq *q, EmuIdev *idev, uint32_t pasid)
{
    GList *l, *next;
    GHashTableIter it;
    gpointer g;

    /* the deliver list first, then the response xarray, as the kernel */
    for (l = q->records.head; l; l = next) {
        next = l->next;
        if (group_of_handle(l->data, idev, pasid)) {
            EmuPgGroup *grp = l->data;

            g_queue_delete_link(&q->records, l);
            group_respond(grp, IOMMUFD_PAGE_RESP_INVALID);
        }
    }
    g_hash_table_iter_init(&it, q->pending);
    while (g_hash_table_iter_next(&it, NULL, &g)) {
        if (group_of_handle(g, idev, pasid)) {
            g_hash_table_iter_remove(&it);
            group_respond(g, IOMMUFD_PAGE_RESP_INVALID);
        }
    }
    eventq_drain_signal(q);
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
    EMU_HOST_LOCK(ctx->host);

    return fd_obj(ctx, fd) != NULL;
}

/* The lowest free response cookie from 1 (xa_alloc() on XA_FLAGS_ALLOC1) */
static uint32_t fault_cookie(EmuEventq *q)
{
    uint32_t c = 1;

    while (g_hash_table_contains(q->pending, GUINT_TO_POINTER(c))) {
        c++;
    }
    return c;
}

/*
 * iommufd_fault_fops_read(): a count that is not a multiple of the record
 * is ESPIPE; whole records only, and a count too small for the first one
 * is EINVAL. Each record read gets its response cookie.
 */
static ssize_t fault_read(EmuEventq *q, void *buf, size_t len)
{
    const size_t rsize = sizeof(struct iommu_hwpt_pgfault);
    size_t done = 0;

    if (len % rsize) {
        errno = ESPIPE;
        return -1;
    }
    while (!g_queue_is_empty(&q->records)) {
        struct iommu_hwpt_pgfault f;
        EmuPgGroup *grp;

        if (done >= len) {
            if (!done) {
                errno = EINVAL;
                return -1;
            }
            break;
        }
        /*
         * iommufd_fault_fops_read(): the response cookie's slot first
         * (xa_alloc); on failure the record stays queued and the read
         * returns what it has, or the error
         */
        if (emu_host_op(q->obj.ctx->host)) {
            if (!done) {
                errno = ENOMEM;
                return -1;
            }
            break;
        }
        grp = g_queue_peek_head(&q->records);
        f = grp->rec;
        f.cookie = fault_cookie(q);
        if (emu_copy_to_user((uintptr_t)buf + done, &f, sizeof(f))) {
            if (!done) {
                errno = EFAULT;
                return -1;
            }
            break;
        }
        grp->rec.cookie = f.cookie;
        g_hash_table_insert(q->pending, GUINT_TO_POINTER(f.cookie), grp);
        g_queue_pop_head(&q->records);
        done += rsize;
    }
    eventq_drain_signal(q);
    return done;
}

/*
 * iommufd_veventq_fops_read(): at least a header's worth (EINVAL); whole
 * records only, a LOST_EVENTS header needing just its own 8 bytes; a
 * count too small for the first event is EINVAL.
 */
static ssize_t veventq_read(EmuEventq *q, void *buf, size_t len)
{
    size_t done = 0;

    if (len < sizeof(struct iommufd_vevent_header)) {
        errno = EINVAL;
        return -1;
    }
    while (!g_queue_is_empty(&q->records)) {
        GBytes *rec = g_queue_peek_head(&q->records);
        gsize n;
        const void *data = g_bytes_get_data(rec, &n);

        if (n > len - done) {
            if (!done) {
                errno = EINVAL;
                return -1;
            }
            break;
        }
        if (emu_copy_to_user((uintptr_t)buf + done, data, n)) {
            if (!done) {
                errno = EFAULT;
                return -1;
            }
            break;
        }
        done += n;
        if (q->lost && g_queue_get_length(&q->records) == 1) {
            q->lost = false;    /* the LOST_EVENTS header was read */
        }
        g_bytes_unref(g_queue_pop_head(&q->records));
    }
    eventq_drain_signal(q);
    return done;
}

ssize_t emu_ctx_read(EmuCtx *ctx, int fd, void *buf, size_t len)
{
    EMU_HOST_LOCK(ctx->host);
    EmuEventq *q = fd_queue(ctx, fd);

    if (!q) {
        errno = EBADF;
        return -1;
    }
    return q->is_fault ? fault_read(q, buf, len) : veventq_read(q, buf, len);
}

/*
 * Page responses to a fault queue (iommufd_fault_fops_write()): whole
 * responses (ESPIPE otherwise), each to a cookie read and not yet
 * answered (EINVAL: never read, or answered already; a code other than
 * SUCCESS or INVALID too), the answer going to the device's PRG. A
 * failing response stops the write, which returns the bytes done
 * before it, or -1. A vEVENTQ has no write op: EINVAL, as vfs_write() says.
 */
ssize_t emu_ctx_write(EmuCtx *ctx, int fd, const void *buf, size_t len)
{
    EMU_HOST_LOCK(ctx->host);
    EmuEventq *q = fd_queue(ctx, fd);
    struct iommu_hwpt_page_response resp;
    EmuPgGroup *grp;
    size_t done = 0;

    if (!q) {
        errno = EBADF;
        return -1;
    }
    if (!q->is_fault) {
        errno = EINVAL;
        return -1;
    }
    if (len % sizeof(resp)) {
        errno = ESPIPE;
        return -1;
    }
    while (done < len) {
        if (emu_copy_from_user(&resp, (uintptr_t)buf + done, sizeof(resp))) {
            errno = EFAULT;
            return done ? (ssize_t)done : -1;
        }
        grp = resp.code > IOMMUFD_PAGE_RESP_INVALID ? NULL :
              g_hash_table_lookup(q->pending, GUINT_TO_POINTER(resp.cookie));
        if (!grp) {
            errno = EINVAL;
            return done ? (ssize_t)done : -1;
        }
        /* xa_erase(), iopf_group_response(), iopf_free_group() */
        g_hash_table_remove(q->pending, GUINT_TO_POINTER(resp.cookie));
        group_respond(grp, resp.code);
        done += sizeof(resp);
    }
    return done;
}

int emu_ctx_close_fd(EmuCtx *ctx, int fd)
{
    EMU_HOST_LOCK(ctx->host);
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
    /* The object stays (IOMMU_DESTROY frees it), no longer busy. */
    eventq_close_fd((EmuEventq *)obj);
    return 0;
}
