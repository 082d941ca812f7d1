/*
 * VNest arm-smmuv3 nesting (accel=on): plug, and the guest's STEs followed
 *
 * With accel=on an assigned device (one whose host IOMMU device object
 * implements vnest-host-dev: vfio-pci on iommufd, or vnest-sim-assign)
 * is nested: its default HWPT was allocated as a nest parent
 * (vnest_pci_hwpt_flags() told it to), QEMU keeps it filled with guest
 * RAM (its address space is system memory), the SMMUv3 instance gets one
 * IOMMU_VIOMMU_TYPE_ARM_SMMUV3 vIOMMU on that parent and the device a
 * vDEVICE whose virtual ID is its guest StreamID.
 *
 * On CFGI_STE, CFGI_STE_RANGE, CFGI_ALL, an SMMUEN or GBPA change and
 * reset, the STE of each affected nested device is read again and the
 * host brought into line with one nested HWPT (IOMMU_HWPT_DATA_ARM_SMMUV3
 * carrying the STE words the kernel takes) attached or replaced in one
 * step:
 *   SMMUEN=0          -> an abort or bypass vSTE, as GBPA.ABORT says;
 *   V=0               -> the V=0 vSTE (the host aborts, no event);
 *   Config abort      -> an abort vSTE;
 *   Config bypass     -> a bypass vSTE (stage 2 only: guest physical);
 *   Config S1 trans   -> the guest's S1 fields (CD table, S1DSS, ...);
 *   unchanged         -> no host call;
 *   no STE (the StreamID is beyond the stream table, its level-1
 *   descriptor is not there yet, or the fetch fails) -> the V=0 vSTE:
 *   the host aborts, and no event is raised now (hardware raises
 *   C_BAD_STREAMID or F_STE_FETCH for a transaction, not for a table
 *   the guest has not filled: Linux enables the SMMU before it writes
 *   the level-1 descriptors of a 2-level table);
 *   bad (reserved Config, a stage 2 the guest does not own, an S1 format
 *   or CD count the SMMU does not offer, a CD table beyond its OAS) ->
 *   C_BAD_STE in the guest's event queue, once per change, and an abort
 *   vSTE. Nothing the guest writes reaches the host or QEMU's own STE
 *   decoder unchecked.
 * Until the invalidation the host keeps the old STE, as hardware keeps a
 * cached one.
 *
 * The guest's commands: smmu-nest-cmd.c; host events: smmu-nest-event.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "migration/blocker.h"
#include "hw/qdev-core.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/arm/smmuv3.h"
#include "hw/arm/smmuv3-internal.h"
#include "exec/address-spaces.h"
#include <linux/iommufd.h>
#include "vnest/host-dev.h"
#include "vnest/iommufd-nest.h"
#include "vnest/nest-counters.h"
#include "vnest/sim-assign.h"
#include "vnest/smmu-nest.h"
#include "vnest/viommu-nest.h"
#include "smmu-nest-internal.h"
#include "trace.h"

VNestSmmu *smmu_nest_state(SMMUv3State *s)
{
    if (!s->vnest) {
        s->vnest = g_new0(VNestSmmu, 1);
        s->vnest->s = s;
        QLIST_INIT(&s->vnest->devs);
        smmu_nest_caps_init(&s->vnest->caps);
        s->vnest->events = g_array_new(false, false, sizeof(SMMUEventInfo));
    }
    return s->vnest;
}

/* The nest state of @bs when it is an SMMUv3 with accel=on, else NULL. */
static VNestSmmu *smmu_nest_of(SMMUState *bs)
{
    SMMUv3State *s = (SMMUv3State *)object_dynamic_cast(OBJECT(bs),
                                                        TYPE_ARM_SMMUV3);

    return s && s->vnest && s->vnest->realized ? s->vnest : NULL;
}

/* ---- properties ---- */

/* A bool option of VNestSmmu at offset @opaque, fixed once realized */
static void smmu_get_nest_bool(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    bool *field = (bool *)((char *)smmu_nest_state(ARM_SMMUV3(obj)) +
                           (uintptr_t)opaque);

    visit_type_bool(v, name, field, errp);
}

static void smmu_set_nest_bool(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    bool value;

    if (DEVICE(obj)->realized) {
        error_setg(errp, "arm-smmuv3 property '%s' cannot change once the "
                   "device is realized", name);
        return;
    }
    if (visit_type_bool(v, name, &value, errp)) {
        *(bool *)((char *)smmu_nest_state(ARM_SMMUV3(obj)) +
                  (uintptr_t)opaque) = value;
    }
}

static void *smmu_nest_stats(Object *obj)
{
    return &smmu_nest_state(ARM_SMMUV3(obj))->stats;
}

#define SMMU_STAT(field, desc) \
    VNEST_COUNTER(smmu_nest_stats, SmmuNestStats, field, desc)

void vnest_smmuv3_class_init(ObjectClass *klass)
{
    static const VNestCounter stats[] = {
        SMMU_STAT(hwpt_allocs, "nested HWPTs allocated"),
        SMMU_STAT(attaches, "host attach or replace calls"),
        SMMU_STAT(guest_events, "bad STEs reported to the guest"),
        SMMU_STAT(host_errors, "host calls that failed"),
        SMMU_STAT(vdevices, "vDEVICEs allocated"),
        SMMU_STAT(viommus, "vIOMMUs allocated"),
        SMMU_STAT(inv_calls, "IOMMU_HWPT_INVALIDATE calls"),
        SMMU_STAT(inv_entries, "commands sent in them"),
    };

    object_class_property_add(klass, "accel", "bool", smmu_get_nest_bool,
                              smmu_set_nest_bool, NULL,
                              (void *)offsetof(VNestSmmu, accel));
    object_class_property_set_description(klass, "accel",
        "nest assigned devices: the host translates the guest's stage 1 "
        "(an iommufd vIOMMU per SMMUv3)");
    object_class_property_add(klass, "x-inv-per-cmd", "bool",
                              smmu_get_nest_bool, smmu_set_nest_bool, NULL,
                              (void *)offsetof(VNestSmmu, inv_per_cmd));
    object_class_property_set_description(klass, "x-inv-per-cmd",
        "with accel=on: one host invalidation call per guest command "
        "(upstream QEMU's behaviour, for comparison) instead of one per "
        "CMD_SYNC batch");
    object_class_property_add(klass, "x-s2fwb", "bool",
                              smmu_get_nest_bool, smmu_set_nest_bool, NULL,
                              (void *)offsetof(VNestSmmu, s2fwb));
    object_class_property_set_description(klass, "x-s2fwb",
        "advertise stage-2 forced write-back (IDR3.FWB), which Linux "
        "requires to nest on this SMMU; needs stage=nested or stage=2");
    vnest_add_counters(klass, stats, ARRAY_SIZE(stats));
    smmu_nest_caps_class_init(klass);
    smmu_nest_event_class_init(klass);
}

/* ---- realize ---- */

static uint32_t smmu_nest_hwpt_flags(void *opaque, PCIBus *bus, int devfn)
{
    return IOMMU_HWPT_ALLOC_NEST_PARENT;
}

static const VNestViommuOps smmu_nest_viommu_ops = {
    .hwpt_flags = smmu_nest_hwpt_flags,
};

bool vnest_smmuv3_realize(SMMUv3State *s, Error **errp)
{
    VNestSmmu *n = smmu_nest_state(s);

    if (!smmu_nest_caps_realize(n, errp) || !smmu_s2fwb_realize(n, errp)) {
        return false;
    }
    if (!n->accel) {
        return true;
    }
    if (s->stage && !strcmp(s->stage, "2")) {
        error_setg(errp, "arm-smmuv3,accel=on: the guest owns stage 1 only "
                   "(the host's stage 2 holds guest RAM): drop stage=2");
        return false;
    }
    /*
     * virt asks for stage=nested: the guest is offered stage 1 only, the
     * host's stage 2 is the nest parent (IDR0.S2P clear, read at reset).
     */
    g_free(s->stage);
    s->stage = g_strdup("1");
    /* x-inv-per-cmd: the same batch, sent one entry a call */
    n->batch = vnest_inv_batch_new(smmu_nest_inv_send, n,
                                   n->inv_per_cmd ? 1 : 0);
    /* The PCIIOMMUOps opaque is the SMMUState (smmu-common.c). */
    vnest_viommu_register(ARM_SMMU(s), &smmu_nest_viommu_ops);
    n->realized = true;
    return true;
}

/* ---- plug ---- */

static bool smmu_nest_assigned(PCIDevice *pdev)
{
    return object_dynamic_cast(OBJECT(pdev), "vfio-pci") ||
           vnest_sim_assign_claims(pdev);
}

AddressSpace *vnest_smmu_dma_as(SMMUState *bs, PCIBus *bus, int devfn,
                                AddressSpace *as)
{
    PCIDevice *pdev = bus->devices[devfn];

    if (smmu_nest_of(bs) && pdev && smmu_nest_assigned(pdev)) {
        /* Nested: the host translates, QEMU's accesses see guest RAM. */
        return &address_space_memory;
    }
    return as;
}

static SmmuNestDev *smmu_nest_find(VNestSmmu *n, PCIBus *bus, int devfn)
{
    SmmuNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        if (d->bus == bus && d->devfn == devfn) {
            return d;
        }
    }
    return NULL;
}

static void smmu_nest_sync_dev(SmmuNestDev *d);

/* Whether the guest has numbered @bus: a root bus's number is fixed. */
static bool smmu_nest_sid_known(PCIBus *bus)
{
    return pci_bus_is_root(bus) || pci_bus_num(bus);
}

/*
 * Keep the vDEVICE's virtual ID the guest's StreamID of @d (the host takes
 * the guest's StreamIDs in commands, and gives them in events, through
 * it): once the guest numbers the device's bus, and again if it renumbers
 * it. Returns true when the StreamID or the vDEVICE changed: the STE that
 * applies is then the one at the new StreamID (none was cached for it),
 * to be attached again even with the same words, since the host takes the
 * vDEVICE (the vSID its events carry) at attach. Without a vDEVICE (bus
 * not numbered yet, or the host refused one) nothing translates for @d.
 */
static bool smmu_nest_follow_sid(SmmuNestDev *d)
{
    VNestSmmu *n = d->nest;
    uint32_t sid = PCI_BUILD_BDF(pci_bus_num(d->bus), d->devfn);
    Error *err = NULL;

    if (sid == d->sid &&
        (d->vdev_id || d->vdev_refused || !smmu_nest_sid_known(d->bus))) {
        return false;
    }
    trace_vnest_smmu_sid(d->hiod->name, d->sid, sid);
    if (sid != d->sid) {
        d->vdev_refused = false;
        d->vdev_reported = false;
    }
    if (d->vdev_id) {
        iommufd_backend_free_id(d->info.be, d->vdev_id);
        d->vdev_id = 0;
    }
    d->sid = sid;
    d->vste[0] = d->vste[1] = UINT64_MAX;
    if (!smmu_nest_sid_known(d->bus)) {
        return true;
    }
    if (!vnest_iommufd_alloc_vdevice(d->info.be, n->viommu_id,
                                     d->info.dev_id, sid, &d->vdev_id,
                                     &err)) {
        n->stats.host_errors++;
        /* Once per StreamID; retried when the guest names it (CFGI_STE) */
        if (!d->vdev_reported) {
            error_reportf_err(err, "arm-smmuv3: %s has no vDEVICE for "
                              "StreamID 0x%x, so its DMA stays blocked: ",
                              d->hiod->name, sid);
            d->vdev_reported = true;
        } else {
            error_free(err);
        }
        d->vdev_refused = true;
        d->vdev_id = 0;
        return true;
    }
    n->stats.vdevices++;
    return true;
}

/*
 * Before the guest's StreamIDs are acted on (CFGI_STE*, CFGI_CD, ATC_INV):
 * the devices whose bus the guest (re)numbered take their STE at the new
 * StreamID at once.
 */
void smmu_nest_follow_sids(VNestSmmu *n)
{
    SmmuNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        if (smmu_nest_follow_sid(d)) {
            smmu_nest_sync_dev(d);
        }
    }
}

SmmuNestDev *smmu_nest_find_dev(SMMUState *bs, PCIBus *bus, int devfn)
{
    VNestSmmu *n = smmu_nest_of(bs);

    return n ? smmu_nest_find(n, bus, devfn) : NULL;
}

static void smmu_nest_record_events(VNestSmmu *n);

static bool smmu_nest_check(VNestSmmu *n, HostIOMMUDevice *hiod,
                            const char *name, VNestHostDevInfo *info,
                            Error **errp)
{
    VNestHwInfo hw;

    if (!vnest_host_dev_check(hiod)) {
        error_setg(errp, "%s cannot be nested by arm-smmuv3,accel=on: "
                   "assign it through iommufd (-device vfio-pci,"
                   "iommufd=ID) or use accel=off", name);
        return false;
    }
    vnest_host_dev_info(hiod, info);
    if (!(info->hwpt_flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
        error_setg(errp, "%s: its HWPT %u is not a nest parent, so "
                   "accel=on cannot nest it (was it plugged before "
                   "arm-smmuv3?)", name, info->hwpt_id);
        return false;
    }
    if (!vnest_iommufd_get_hw_info(info->be, info->dev_id, &hw, errp)) {
        error_prepend(errp, "%s: ", name);
        return false;
    }
    if (hw.type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        error_setg(errp, "%s: the host IOMMU is not an Arm SMMUv3 (iommufd "
                   "type %u): arm-smmuv3,accel=on nests only on SMMUv3; "
                   "use accel=off", name, hw.type);
        return false;
    }
    return smmu_nest_caps_check(n, &hw, name, errp);
}

/*
 * With no nested device left, the vIOMMU and its vEVENTQ go (the nest
 * parent they hold must be free to go with its last device).
 */
static void smmu_nest_viommu_put(VNestSmmu *n)
{
    if (!QLIST_EMPTY(&n->devs) || !n->viommu_id) {
        return;
    }
    /* Its commands go with it: no device is left to need them. */
    vnest_inv_batch_discard(n->batch);
    smmu_nest_event_free(n);
    iommufd_backend_free_id(n->be, n->viommu_id);
    n->viommu_id = 0;
    n->be = NULL;
    n->repeat_inv = false;
    if (n->migration_blocker) {
        migrate_del_blocker(&n->migration_blocker);
    }
}

bool vnest_smmu_set_iommu_device(SMMUState *bs, PCIBus *bus, int devfn,
                                 HostIOMMUDevice *hiod, Error **errp)
{
    VNestSmmu *n = smmu_nest_of(bs);
    const char *name = hiod->name ? hiod->name : "assigned device";
    SmmuNestDev *d;
    VNestHostDevInfo info;
    uint32_t sid = PCI_BUILD_BDF(pci_bus_num(bus), devfn);
    uint32_t vdev_id = 0;

    if (!n) {
        return true;            /* QEMU 10.0's behaviour: not nested */
    }
    if (smmu_nest_find(n, bus, devfn)) {
        error_setg(errp, "%s: StreamID 0x%x is nested already", name, sid);
        return false;
    }
    if (!smmu_nest_check(n, hiod, name, &info, errp)) {
        return false;
    }
    if (!n->viommu_id) {
        if (!vnest_iommufd_alloc_viommu(info.be, info.dev_id,
                                        IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                        info.hwpt_id, NULL, 0,
                                        &n->viommu_id, errp)) {
            error_prepend(errp, "%s: ", name);
            return false;
        }
        n->be = info.be;
        n->viommu_parent = info.hwpt_id;
        n->stats.viommus++;
        trace_vnest_smmu_viommu(n->viommu_id, info.hwpt_id);
        smmu_nest_event_alloc(n);
    } else if (info.be != n->be) {
        error_setg(errp, "%s: bound to another iommufd than the devices "
                   "already nested by this arm-smmuv3", name);
        return false;
    }
    /*
     * Nothing the host holds for the guest migrates: blocked before
     * anything is nested (-only-migratable, or a migration under way,
     * refuses the device instead).
     */
    if (!n->migration_blocker) {
        error_setg(&n->migration_blocker, "arm-smmuv3,accel=on: the "
                   "host's vIOMMU, vDEVICEs and nested STEs of assigned "
                   "devices do not migrate; unplug them (or use accel=off "
                   "without assigned devices) to migrate");
        if (migrate_add_blocker(&n->migration_blocker, errp) < 0) {
            error_prepend(errp, "%s: ", name);
            smmu_nest_viommu_put(n);
            return false;
        }
    }
    /*
     * The guest's StreamID: behind a root port or bridge its bus number is
     * the guest's to assign, 0 until it enumerates; the vDEVICE waits for
     * it then (smmu_nest_follow_sid()).
     */
    if (smmu_nest_sid_known(bus)) {
        if (!vnest_iommufd_alloc_vdevice(info.be, n->viommu_id, info.dev_id,
                                         sid, &vdev_id, errp)) {
            error_prepend(errp, "%s: ", name);
            smmu_nest_viommu_put(n);
            return false;
        }
        n->stats.vdevices++;
    }
    d = g_new0(SmmuNestDev, 1);
    d->nest = n;
    d->hiod = hiod;
    object_ref(hiod);
    d->info = info;
    d->bus = bus;
    d->devfn = devfn;
    d->pdev = bus->devices[devfn];
    d->sid = sid;
    d->vdev_id = vdev_id;
    QLIST_INSERT_HEAD(&n->devs, d, next);
    if (d->pdev) {
        smmu_nest_msi_claim(d);
    }
    trace_vnest_smmu_plug(name, sid, info.dev_id, n->viommu_id, vdev_id);

    /* Attached to the parent at plug: follow the guest at once. */
    smmu_nest_sync_dev(d);
    smmu_nest_record_events(n);
    return true;
}

void vnest_smmu_unset_iommu_device(SMMUState *bs, PCIBus *bus, int devfn)
{
    VNestSmmu *n = smmu_nest_of(bs);
    SmmuNestDev *d = n ? smmu_nest_find(n, bus, devfn) : NULL;
    Error *err = NULL;

    if (!d) {
        return;
    }
    trace_vnest_smmu_unplug(d->hiod->name, d->sid);
    if (d->hwpt_id) {
        if (!vnest_host_dev_attach(d->hiod, VNEST_NO_PASID, d->info.hwpt_id,
                                   &err)) {
            error_report_err(err);
            err = NULL;
        }
        iommufd_backend_free_id(d->info.be, d->hwpt_id);
    }
    if (d->vdev_id) {
        iommufd_backend_free_id(d->info.be, d->vdev_id);
    }
    if (d->pdev) {
        smmu_nest_msi_release(d);
    }
    QLIST_REMOVE(d, next);
    object_unref(d->hiod);
    g_free(d);
    smmu_nest_viommu_put(n);
}

/* ---- following the guest's STEs ---- */

/*
 * An event for the guest's queue, recorded by smmu_nest_record_events():
 * a CFGI_STE runs under QEMU's SMMUv3 lock, and writing the record there
 * deadlocks when the queue is a device register whose DMA or MSI this
 * SMMU translates (smmuv3_translate() takes the lock).
 */
static void smmu_nest_event(SmmuNestDev *d, SMMUEventInfo *ev)
{
    d->nest->stats.guest_events++;
    trace_vnest_smmu_bad_ste(d->sid, ev->type);
    g_array_append_val(d->nest->events, *ev);
}

/* Record what smmu_nest_event() kept, in order; the lock is not held. */
static void smmu_nest_record_events(VNestSmmu *n)
{
    SMMUEventInfo ev;

    /* Writing a record may raise more (a GBPA write through it): FIFO */
    while (n->events->len) {
        ev = g_array_index(n->events, SMMUEventInfo, 0);
        g_array_remove_index(n->events, 0);
        smmuv3_record_event(n->s, &ev);
    }
}

void vnest_smmuv3_unlocked(SMMUv3State *s)
{
    if (s->vnest && s->vnest->realized) {
        smmu_nest_record_events(s->vnest);
    }
}

/*
 * Whether the S1-translate STE @w0/@w1 is one this SMMUv3 offers the guest
 * (what QEMU's own decoder would refuse, checked before it could see it).
 */
static bool smmu_nest_s1_ok(SMMUv3State *s, uint64_t w0, uint64_t w1)
{
    unsigned s1fmt = (w0 & STE0_S1FMT_MASK) >> STE0_S1FMT_SHIFT;
    unsigned cdmax = (w0 & STE0_S1CDMAX_MASK) >> STE0_S1CDMAX_SHIFT;
    unsigned eats = (w1 & STE1_EATS_MASK) >> STE1_EATS_SHIFT;
    unsigned oas = oas2bits(FIELD_EX32(s->idr[5], IDR5, OAS));

    if (cdmax > FIELD_EX32(s->idr[1], IDR1, SSIDSIZE)) {
        return false;
    }
    /* S1Fmt: linear only, or 2-level CD tables with IDR0.CD2L */
    /* S1Fmt is ignored with a single CD (S1CDMax 0) */
    if (cdmax && (s1fmt == 3 || (s1fmt && !FIELD_EX32(s->idr[0], IDR0,
                                                      CD2L)))) {
        return false;
    }
    if ((w0 & STE0_CTXPTR_MASK) >> oas) {
        return false;
    }
    /* EATS: 0 or full ATS, and only when ATS is offered (else ignored) */
    if (FIELD_EX32(s->idr[0], IDR0, ATS) && eats > 1) {
        return false;
    }
    return true;
}

/*
 * The vSTE the host must have for @d: the guest's STE as the kernel takes
 * it, or the architecture's answer. Raises the event of a bad STE (once
 * per change of the guest's words).
 */
static void smmu_nest_want(SmmuNestDev *d, uint64_t vste[2])
{
    SMMUv3State *s = d->nest->s;
    SMMUEventInfo ev = { .sid = d->sid };
    STE ste;
    uint64_t w0, w1;
    unsigned cfg;

    vste[0] = vste[1] = 0;
    if (!smmu_enabled(s)) {
        vste[0] = VSTE(FIELD_EX32(s->gbpa, GBPA, ABORT) ? VSTE_CFG_ABORT :
                       VSTE_CFG_BYPASS);
        d->bad = false;
        return;
    }
    if (!d->vdev_id) {
        /* No StreamID the host knows: no STE of the guest's applies */
        vste[0] = VSTE(VSTE_CFG_ABORT);
        return;
    }
    if (vnest_smmuv3_find_ste(s, d->sid, &ste, &ev)) {
        /* No STE yet: aborted, as V=0; events are for transactions */
        trace_vnest_smmu_no_ste(d->sid, ev.type);
        d->bad = false;
        return;
    }
    w0 = ste.word[0] | (uint64_t)ste.word[1] << 32;
    w1 = ste.word[2] | (uint64_t)ste.word[3] << 32;
    if (!(w0 & STE0_V)) {
        /* arm_smmu_validate_vste() takes V=0: the host aborts. */
        d->bad = false;
        return;
    }
    cfg = (w0 & STE0_CFG_MASK) >> STE0_CFG_SHIFT;
    switch (cfg) {
    case VSTE_CFG_ABORT:
    case VSTE_CFG_BYPASS:
        vste[0] = VSTE(cfg);
        d->bad = false;
        return;
    case VSTE_CFG_S1:
        if (!smmu_nest_s1_ok(s, w0, w1)) {
            break;
        }
        vste[0] = w0 & STE0_NESTED;
        vste[1] = w1 & STE1_NESTED;
        if (!FIELD_EX32(s->idr[0], IDR0, ATS)) {
            vste[1] &= ~STE1_EATS_MASK;
        }
        d->bad = false;
        return;
    default:
        /* Reserved, or a stage 2 the guest does not own: ILLEGAL */
        break;
    }
    ev.type = SMMU_EVT_C_BAD_STE;
    ev.u.c_bad_ste.ssv = false;
    vste[0] = VSTE(VSTE_CFG_ABORT);
    if (!d->bad || d->bad_ste[0] != w0 || d->bad_ste[1] != w1) {
        d->bad = true;
        d->bad_ste[0] = w0;
        d->bad_ste[1] = w1;
        smmu_nest_event(d, &ev);
    }
}

/* Bring the host into line with the guest's STE of @d: one call a change */
static void smmu_nest_sync_dev(SmmuNestDev *d)
{
    VNestSmmu *n = d->nest;
    struct iommu_hwpt_arm_smmuv3 data = { };
    uint64_t vste[2];
    uint32_t id, old = d->hwpt_id;
    Error *err = NULL;

    smmu_nest_follow_sid(d);
    smmu_nest_want(d, vste);
    if (d->hwpt_id && vste[0] == d->vste[0] && vste[1] == d->vste[1]) {
        trace_vnest_smmu_ste_same(d->sid);
        return;
    }
    data.ste[0] = cpu_to_le64(vste[0]);
    data.ste[1] = cpu_to_le64(vste[1]);
    if (!vnest_iommufd_alloc_hwpt(d->info.be, d->info.dev_id, n->viommu_id,
                                  0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                                  sizeof(data), &data, NULL, &id, &err)) {
        goto fail;
    }
    n->stats.hwpt_allocs++;
    /* Attach or replace in one step: no window without an STE. */
    n->stats.attaches++;
    if (!vnest_host_dev_attach(d->hiod, VNEST_NO_PASID, id, &err)) {
        iommufd_backend_free_id(d->info.be, id);
        goto fail;
    }
    trace_vnest_smmu_ste(d->sid, vste[0], vste[1], id);
    d->hwpt_id = id;
    d->vste[0] = vste[0];
    d->vste[1] = vste[1];
    if (old) {
        iommufd_backend_free_id(d->info.be, old);
    }
    return;

fail:
    n->stats.host_errors++;
    error_reportf_err(err, "arm-smmuv3: cannot follow the STE of %s "
                      "(StreamID 0x%x) on the host, blocking it: ",
                      d->hiod->name, d->sid);
    if (!vnest_host_dev_detach(d->hiod, VNEST_NO_PASID, &err)) {
        error_report_err(err);
        return;
    }
    if (old) {
        iommufd_backend_free_id(d->info.be, old);
    }
    d->hwpt_id = 0;
}

void vnest_smmuv3_cfgi_ste(SMMUv3State *s, uint32_t sid, uint32_t mask)
{
    VNestSmmu *n = s->vnest;
    SmmuNestDev *d;

    if (!n || !n->realized) {
        return;
    }
    QLIST_FOREACH(d, &n->devs, next) {
        if ((d->sid & ~mask) == (sid & ~mask)) {
            d->vdev_refused = false;    /* the guest names it: try again */
        }
    }
    smmu_nest_follow_sids(n);
    QLIST_FOREACH(d, &n->devs, next) {
        if ((d->sid & ~mask) == (sid & ~mask)) {
            smmu_nest_sync_dev(d);
        }
    }
}

/* SMMU_CR0, GBPA, reset: not under the SMMU's lock, events go at once */
void vnest_smmuv3_sync_all(SMMUv3State *s)
{
    vnest_smmuv3_cfgi_ste(s, 0, UINT32_MAX);
    vnest_smmuv3_unlocked(s);
}

