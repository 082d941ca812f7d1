/*
 * VNest arm-smmuv3 nesting: host events into the guest's event queue
 *
 * The host translates a nested device's DMA through the guest's STE, CD
 * and stage-1 tables; when that translation fails the host SMMU records
 * the event, and the kernel hands it to user space on the vIOMMU's
 * vEVENTQ (IOMMU_VEVENTQ_TYPE_ARM_SMMUV3) as struct
 * iommu_vevent_arm_smmuv3: the four 64-bit words of the architected
 * record with the physical StreamID replaced by the vDEVICE's virtual ID,
 * which is the guest's StreamID (arm_vmaster_report_event(), Linux 7.3).
 * Only the events the guest's own configuration causes come: C_BAD_STE,
 * F_STREAM_DISABLED, C_BAD_SUBSTREAMID, C_BAD_CD, F_TRANSLATION,
 * F_ADDR_SIZE, F_ACCESS, F_PERMISSION, and never a stage-2 one
 * (arm_smmu_handle_event()).
 *
 * The vEVENTQ is allocated with the vIOMMU and freed with it. Its fd is
 * read from the main loop while the VM runs (nothing is written into
 * guest memory while it is stopped; the host queue holds the events,
 * up to its depth), and each record goes into the guest's EVTQ as the
 * SMMU would write it (Arm IHI 0070, 7.2 and 7.4):
 *   EVTQEN = 0      -> discarded;
 *   EVTQ full       -> lost: SMMU_EVENTQ_PROD.OVFLG toggles, unless an
 *                      overflow is already pending (OVFLG != OVACKFLG);
 *   write aborted   -> lost: GERROR.EVENTQ_ABT_ERR;
 *   else            -> written at PROD, PROD advanced, and the event
 *                      interrupt (once per batch read from the host).
 * Events the host itself lost (a LOST_EVENTS header, a gap in the
 * sequence numbers) are an overflow for the guest: OVFLG, as above.
 * Nothing the host gives is trusted: a record that is short, of an
 * unknown kind, for a stage 2, or for a StreamID no nested device has is
 * refused, counted and traced, and the events it may have carried count
 * as lost.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/bswap.h"
#include "system/dma.h"
#include "system/runstate.h"
#include "exec/address-spaces.h"
#include <linux/iommufd.h>
#include "vnest/iommufd-nest.h"
#include "vnest/nest-counters.h"
#include "smmu-nest-internal.h"
#include "trace.h"

/*
 * Default host queue depth: the fd is read as soon as the main loop
 * runs, so the host queue only buffers a burst, or a stopped VM.
 */
#define SMMU_NEST_VEVENTQ_DEPTH     1024
#define SMMU_NEST_VEVENTQ_MAX       (1u << 19)  /* iommufd's bound */
#define SMMU_NEST_SEQ_MASK          INT32_MAX   /* [0, INT_MAX], wraps */

/* Event record (IHI 0070, 7.3): words 0 and 1 of the 4 64-bit ones */
#define EVT0_ID_MASK                0xffULL
#define EVT0_SID_SHIFT              32
#define EVT1_S2                     (1ULL << 39)
#define EVT_SIZE                    sizeof(struct iommu_vevent_arm_smmuv3)
#define EVT_HDR_SIZE                sizeof(struct iommufd_vevent_header)

/*
 * Records read from the host per read(), and reads per main-loop turn
 * (the fd stays readable if more wait: the next turn takes them).
 */
#define SMMU_NEST_READ_RECORDS      64
#define SMMU_NEST_READ_SIZE         (SMMU_NEST_READ_RECORDS * \
                                     (EVT_HDR_SIZE + EVT_SIZE))
#define SMMU_NEST_READS_PER_TURN    8

/* ---- the guest's event queue ---- */

/*
 * Events were lost (IHI 0070 7.4): toggle SMMU_EVENTQ_PROD.OVFLG unless
 * an overflow is pending already (OVFLG differs from
 * SMMU_EVENTQ_CONS.OVACKFLG until software acknowledges it).
 */
static void smmu_nest_evtq_flag_overflow(SMMUv3State *s)
{
    SMMUQueue *q = &s->eventq;
    bool pending = (q->prod ^ q->cons) & EVT_Q_OVERFLOW;

    if (!pending) {
        q->prod ^= EVT_Q_OVERFLOW;
    }
    trace_vnest_smmu_evtq_overflow(q->prod, q->cons, pending);
}

/*
 * The event queue had no room for an event: it is lost, and flagged.
 * Also called by QEMU's own event writer (hook patch 0009).
 */
void vnest_smmuv3_evtq_overflow(SMMUv3State *s)
{
    if (s->vnest) {
        s->vnest->evq.stats.events_overflow++;
    }
    smmu_nest_evtq_flag_overflow(s);
}

typedef enum SmmuEvtqPut {
    EVTQ_WRITTEN,
    EVTQ_LOST,                  /* full, or the write aborted */
    EVTQ_OFF,                   /* EVTQEN = 0 */
} SmmuEvtqPut;

/* Write the 32-byte record @rec (little endian) at the guest's PROD. */
static SmmuEvtqPut smmu_nest_evtq_put(SMMUv3State *s, const void *rec)
{
    SMMUQueue *q = &s->eventq;

    if (!smmuv3_eventq_enabled(s)) {
        return EVTQ_OFF;
    }
    if (smmuv3_q_full(q)) {
        vnest_smmuv3_evtq_overflow(s);
        return EVTQ_LOST;
    }
    if (dma_memory_write(&address_space_memory, Q_PROD_ENTRY(q), rec,
                         EVT_SIZE, MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        vnest_smmuv3_trigger_irq(s, SMMU_IRQ_GERROR,
                                 R_GERROR_EVENTQ_ABT_ERR_MASK);
        return EVTQ_LOST;
    }
    queue_prod_incr(q);         /* keeps OVFLG (hook patch 0009) */
    return EVTQ_WRITTEN;
}

/* ---- records from the host ---- */

/* The event numbers arm_smmu_handle_event() (Linux 7.3) forwards */
static bool smmu_nest_evt_forwarded(unsigned id)
{
    switch (id) {
    case SMMU_EVT_C_BAD_STE:
    case SMMU_EVT_F_STREAM_DISABLED:
    case SMMU_EVT_C_BAD_SUBSTREAMID:
    case SMMU_EVT_C_BAD_CD:
    case SMMU_EVT_F_TRANSLATION:
    case SMMU_EVT_F_ADDR_SIZE:
    case SMMU_EVT_F_ACCESS:
    case SMMU_EVT_F_PERMISSION:
        return true;
    default:
        return false;
    }
}

static bool smmu_nest_sid_nested(VNestSmmu *n, uint32_t sid)
{
    SmmuNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        if (d->sid == sid) {
            return true;
        }
    }
    return false;
}

/* Events lost on the host, or by us: an overflow of the guest's queue. */
static void smmu_nest_lost(VNestSmmu *n, uint64_t count)
{
    n->evq.stats.events_lost += count;
    if (smmuv3_eventq_enabled(n->s)) {
        smmu_nest_evtq_flag_overflow(n->s);
    }
}

static void smmu_nest_bad(VNestSmmu *n, const char *why, size_t len)
{
    n->evq.stats.events_bad++;
    trace_vnest_smmu_event_bad(why, len);
}

/*
 * The header's sequence number against the one the host owes: a gap is
 * that many events lost. Returns how many.
 */
static uint32_t smmu_nest_seq(VNestSmmu *n, uint32_t seq)
{
    uint32_t gap = (seq - n->evq.next_seq) & SMMU_NEST_SEQ_MASK;

    if (gap) {
        trace_vnest_smmu_event_gap(n->evq.next_seq, seq, gap);
    }
    n->evq.next_seq = (seq + 1) & SMMU_NEST_SEQ_MASK;
    return gap;
}

/* One event record: true if it was written to the guest's queue. */
static bool smmu_nest_record(VNestSmmu *n,
                             const struct iommu_vevent_arm_smmuv3 *rec)
{
    uint64_t w0 = le64_to_cpu(rec->evt[0]);
    uint64_t w1 = le64_to_cpu(rec->evt[1]);
    unsigned id = w0 & EVT0_ID_MASK;
    uint32_t sid = w0 >> EVT0_SID_SHIFT;
    SmmuEvtqPut put;

    n->evq.stats.host_events++;
    if (!smmu_nest_evt_forwarded(id) || (w1 & EVT1_S2)) {
        smmu_nest_bad(n, "not an event of the guest's stage 1", EVT_SIZE);
        return false;
    }
    if (!smmu_nest_sid_nested(n, sid)) {
        smmu_nest_bad(n, "StreamID of no nested device", EVT_SIZE);
        return false;
    }
    put = smmu_nest_evtq_put(n->s, rec);
    trace_vnest_smmu_event(sid, id, le64_to_cpu(rec->evt[2]), put,
                           n->s->eventq.prod);
    switch (put) {
    case EVTQ_WRITTEN:
        n->evq.stats.events++;
        return true;
    case EVTQ_OFF:
        n->evq.stats.events_discarded++;
        return false;
    case EVTQ_LOST:
    default:
        return false;
    }
}

/*
 * What one read() gave: (header, record) pairs, a LOST_EVENTS header
 * alone (iommufd_veventq_fops_read()). Returns whether a record was
 * written to the guest's queue.
 */
static bool smmu_nest_parse(VNestSmmu *n, const uint8_t *p, size_t len)
{
    struct iommufd_vevent_header hdr;
    struct iommu_vevent_arm_smmuv3 rec;
    bool written = false;
    uint32_t gap;

    while (len) {
        if (len < EVT_HDR_SIZE) {
            smmu_nest_bad(n, "short header", len);
            smmu_nest_lost(n, 1);
            break;
        }
        memcpy(&hdr, p, EVT_HDR_SIZE);
        if (hdr.flags & ~IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
            /* Its length is unknown: the rest of the read is lost too. */
            smmu_nest_bad(n, "unknown header flags", len);
            smmu_nest_lost(n, 1);
            break;
        }
        gap = smmu_nest_seq(n, hdr.sequence & SMMU_NEST_SEQ_MASK);
        if (hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
            /* It stands for the event of its sequence number, lost. */
            smmu_nest_lost(n, gap + 1);
            p += EVT_HDR_SIZE;
            len -= EVT_HDR_SIZE;
            continue;
        }
        if (gap) {
            smmu_nest_lost(n, gap);
        }
        if (len < EVT_HDR_SIZE + EVT_SIZE) {
            smmu_nest_bad(n, "short record", len);
            smmu_nest_lost(n, 1);
            break;
        }
        memcpy(&rec, p + EVT_HDR_SIZE, EVT_SIZE);
        written |= smmu_nest_record(n, &rec);
        p += EVT_HDR_SIZE + EVT_SIZE;
        len -= EVT_HDR_SIZE + EVT_SIZE;
    }
    return written;
}

static void smmu_nest_listen(VNestSmmu *n, bool on);

static void smmu_nest_readable(void *opaque)
{
    VNestSmmu *n = opaque;
    SmmuNestEventq *q = &n->evq;
    bool written = false;
    ssize_t len;
    unsigned i;

    for (i = 0; i < SMMU_NEST_READS_PER_TURN; i++) {
        len = vnest_iommufd_fd_read(n->be, q->fd, q->buf,
                                    SMMU_NEST_READ_SIZE);
        if (len > 0) {
            written |= smmu_nest_parse(n, q->buf, len);
            continue;
        }
        if (len < 0 && errno == EINTR) {
            continue;
        }
        if (len < 0 && errno != EAGAIN && errno != ENOMEM) {
            /* Not transient: stop, rather than spin on a readable fd. */
            n->stats.host_errors++;
            error_report("arm-smmuv3: reading the host vEVENTQ %u failed, "
                         "its events stop reaching the guest (until the VM "
                         "is stopped and resumed): %s", q->id,
                         strerror(errno));
            smmu_nest_listen(n, false);
        }
        break;
    }
    if (written) {
        /* Gated by IRQ_CTRL.EVENTQ_IRQEN in QEMU's trigger */
        vnest_smmuv3_trigger_irq(n->s, SMMU_IRQ_EVTQ, 0);
    }
}

static void smmu_nest_listen(VNestSmmu *n, bool on)
{
    SmmuNestEventq *q = &n->evq;

    if (!q->id || q->reading == on) {
        return;
    }
    qemu_set_fd_handler(q->fd, on ? smmu_nest_readable : NULL, NULL, n);
    q->reading = on;
    trace_vnest_smmu_veventq_listen(q->id, on);
}

/* Guest memory is written only while the VM runs. */
static void smmu_nest_vm_state(void *opaque, bool running, RunState state)
{
    smmu_nest_listen(opaque, running);
}

/* ---- lifetime: the vIOMMU's ---- */

/*
 * Right after the vIOMMU. A host without vEVENTQs (Linux before 6.15)
 * still nests: the guest gets no host events, which is said once.
 */
void smmu_nest_event_alloc(VNestSmmu *n)
{
    SmmuNestEventq *q = &n->evq;
    uint32_t depth = q->depth ? q->depth : SMMU_NEST_VEVENTQ_DEPTH;
    Error *err = NULL;

    if (!vnest_iommufd_alloc_veventq(n->be, n->viommu_id,
                                     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, depth,
                                     &q->id, &q->fd, &err)) {
        n->stats.host_errors++;
        q->id = 0;
        warn_reportf_err(err, "arm-smmuv3,accel=on: faults of nested "
                         "devices will not reach the guest's event queue: ");
        return;
    }
    q->next_seq = 0;            /* a new queue starts at 0 */
    q->buf = g_malloc(SMMU_NEST_READ_SIZE);
    q->vm_state = qemu_add_vm_change_state_handler(smmu_nest_vm_state, n);
    trace_vnest_smmu_veventq(q->id, q->fd, depth);
    smmu_nest_listen(n, runstate_is_running());
}

/* Right before the vIOMMU: what is still queued on the host goes too. */
void smmu_nest_event_free(VNestSmmu *n)
{
    SmmuNestEventq *q = &n->evq;

    if (!q->id) {
        return;
    }
    trace_vnest_smmu_veventq_free(q->id);
    smmu_nest_listen(n, false);
    qemu_del_vm_change_state_handler(q->vm_state);
    q->vm_state = NULL;
    /* The open fd holds the queue: close it before IOMMU_DESTROY. */
    vnest_iommufd_fd_close(n->be, q->fd);
    iommufd_backend_free_id(n->be, q->id);
    q->id = 0;
    g_free(q->buf);
    q->buf = NULL;
}

/* ---- properties ---- */

static void smmu_nest_get_depth(Object *obj, Visitor *v, const char *name,
                                void *opaque, Error **errp)
{
    VNestSmmu *n = smmu_nest_state(ARM_SMMUV3(obj));
    uint32_t value = n->evq.depth ? n->evq.depth : SMMU_NEST_VEVENTQ_DEPTH;

    visit_type_uint32(v, name, &value, errp);
}

static void smmu_nest_set_depth(Object *obj, Visitor *v, const char *name,
                                void *opaque, Error **errp)
{
    uint32_t value;

    if (DEVICE(obj)->realized) {
        error_setg(errp, "arm-smmuv3 property '%s' cannot change once the "
                   "device is realized", name);
        return;
    }
    if (!visit_type_uint32(v, name, &value, errp)) {
        return;
    }
    if (!value || value > SMMU_NEST_VEVENTQ_MAX) {
        error_setg(errp, "arm-smmuv3 property '%s' is %u: the host takes "
                   "a vEVENTQ depth of 1 to %u", name, value,
                   SMMU_NEST_VEVENTQ_MAX);
        return;
    }
    smmu_nest_state(ARM_SMMUV3(obj))->evq.depth = value;
}

static void *smmu_nest_evstats(Object *obj)
{
    return &smmu_nest_state(ARM_SMMUV3(obj))->evq.stats;
}

#define SMMU_EVSTAT(field, desc) \
    VNEST_COUNTER(smmu_nest_evstats, SmmuNestEventStats, field, desc)

void smmu_nest_event_class_init(ObjectClass *klass)
{
    static const VNestCounter stats[] = {
        SMMU_EVSTAT(host_events, "event records read from the vEVENTQ"),
        SMMU_EVSTAT(events, "host events written to the guest's EVTQ"),
        SMMU_EVSTAT(events_lost, "events the host lost (vEVENTQ full)"),
        SMMU_EVSTAT(events_overflow, "events lost to a full guest EVTQ"),
        SMMU_EVSTAT(events_discarded, "host events dropped, EVTQEN = 0"),
        SMMU_EVSTAT(events_bad, "host event records refused"),
    };
    object_class_property_add(klass, "x-nest-veventq-depth", "uint32",
                              smmu_nest_get_depth, smmu_nest_set_depth,
                              NULL, NULL);
    object_class_property_set_description(klass, "x-nest-veventq-depth",
        "accel=on: events the host vEVENTQ holds before it loses some "
        "(the guest then sees an EVTQ overflow)");
    vnest_add_counters(klass, stats, ARRAY_SIZE(stats));
}
