/*
 * VNest intel-iommu nesting: options, host checks, device plug/unplug
 *
 * With x-flts=on an assigned device (one whose host IOMMU device object
 * implements vnest-host-dev: vfio-pci on iommufd, or vnest-sim-assign) is
 * nested instead of refused: its default HWPT was allocated as a nest
 * parent (vnest_pci_hwpt_flags() told vfio-pci or sim-assign to), QEMU
 * keeps it filled with guest RAM (its address space is system memory),
 * and vtd-nest-bind.c follows the guest's PASID entries with nested
 * HWPTs. Emulated devices behind the same intel-iommu keep QEMU's own
 * first-stage emulation.
 *
 * Behind a bridge to conventional PCI a device's requests carry the
 * bridge's requester ID (a PCIe-to-PCI bridge: its secondary bus, devfn
 * 0), as on hardware: the device follows that alias's context and PASID
 * entries (RID only: a conventional bus carries no PASID), its faults name
 * the alias, and assigned devices behind one bridge share its binding. An
 * emulated device behind the bridge of a nested one is refused when the
 * nested device is plugged: it shares the alias's address space, which
 * nesting turns into guest RAM. An emulated device hot-plugged behind
 * such a bridge later is not caught: do not.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "migration/blocker.h"
#include "hw/qdev-core.h"
#include "system/runstate.h"
#include "hw/pci/pci_bridge.h"
#include "hw/pci/pcie.h"
#include "vnest/sim-assign.h"
#include "vnest/nest-counters.h"
#include "vnest/viommu-nest.h"
#include "vtd-nest-internal.h"
#include "vnest/vtd-nested.h"
#include "trace.h"

/* Host VT-d register bits the checks need (VT-d spec 11.4.2, 11.4.3). */
#define HOST_CAP_MGAW(cap)      ((((cap) >> 16) & 0x3f) + 1)
#define HOST_CAP_FS1GP          (1ULL << 56)
#define HOST_CAP_FS5LP          (1ULL << 60)
#define HOST_ECAP_NEST          (1ULL << 26)
#define HOST_ECAP_FSTS          (1ULL << 47)
/* ECAP.PSS: PASID size supported, minus one (bits 39:35) */
#define VTD_ECAP_PSS_SHIFT      35
#define VTD_ECAP_PSS_MASK       (0x1fULL << VTD_ECAP_PSS_SHIFT)
#define VTD_PASID_BITS_MAX      20

VNestVtd *vtd_nest_state(IntelIOMMUState *s)
{
    if (!s->vnest) {
        s->vnest = g_new0(VNestVtd, 1);
        s->vnest->s = s;
        QLIST_INIT(&s->vnest->devs);
        QLIST_INIT(&s->vnest->hwpts);
        QLIST_INIT(&s->vnest->faultqs);
        QLIST_INIT(&s->vnest->groups);
    }
    return s->vnest;
}

/* ---- properties ---- */

static bool vtd_prop_settable(Object *obj, const char *name, Error **errp)
{
    if (DEVICE(obj)->realized) {
        error_setg(errp, "intel-iommu property '%s' cannot change once the "
                   "device is realized", name);
        return false;
    }
    return true;
}

/* Later QEMU spells x-scalable-mode and x-flts without the prefix. */
static void vtd_get_alias(Object *obj, Visitor *v, const char *name,
                          void *opaque, Error **errp)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(obj);
    bool *field = (bool *)((char *)s + (uintptr_t)opaque);

    visit_type_bool(v, name, field, errp);
}

static void vtd_set_alias(Object *obj, Visitor *v, const char *name,
                          void *opaque, Error **errp)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(obj);
    bool *field = (bool *)((char *)s + (uintptr_t)opaque);
    bool value;

    if (vtd_prop_settable(obj, name, errp) &&
        visit_type_bool(v, name, &value, errp)) {
        *field = value;
    }
}

static void vtd_get_pasid_bits(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    uint8_t value = vtd_nest_state(INTEL_IOMMU_DEVICE(obj))->pasid_bits;

    visit_type_uint8(v, name, &value, errp);
}

static void vtd_set_pasid_bits(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(obj);
    uint8_t value;

    if (!vtd_prop_settable(obj, name, errp) ||
        !visit_type_uint8(v, name, &value, errp)) {
        return;
    }
    if (value > VTD_PASID_BITS_MAX) {
        error_setg(errp, "pasid-bits=%u: VT-d PASIDs have at most %u bits",
                   value, VTD_PASID_BITS_MAX);
        return;
    }
    vtd_nest_state(s)->pasid_bits = value;
    s->pasid = value > 0;
}

/* A bool option of the nest state, at offset @opaque in VNestVtd. */
static void vtd_get_nest_bool(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    VNestVtd *n = vtd_nest_state(INTEL_IOMMU_DEVICE(obj));

    visit_type_bool(v, name, (bool *)((char *)n + (uintptr_t)opaque), errp);
}

static void vtd_set_nest_bool(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    VNestVtd *n = vtd_nest_state(INTEL_IOMMU_DEVICE(obj));
    bool value;

    if (vtd_prop_settable(obj, name, errp) &&
        visit_type_bool(v, name, &value, errp)) {
        *(bool *)((char *)n + (uintptr_t)opaque) = value;
    }
}

/* Read-only counters: x-nest-<name>, for tests and the benchmark. */
static void *vtd_nest_stats(Object *obj)
{
    return &vtd_nest_state(INTEL_IOMMU_DEVICE(obj))->stats;
}

static void vtd_get_bindings(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    VNestVtd *n = vtd_nest_state(INTEL_IOMMU_DEVICE(obj));
    uint64_t value = 0;
    VtdNestHwpt *h;

    QLIST_FOREACH(h, &n->hwpts, next) {
        value++;
    }
    visit_type_uint64(v, name, &value, errp);
}

#define VTD_STAT(field, desc) \
    VNEST_COUNTER(vtd_nest_stats, VtdNestStats, field, desc)

void vnest_vtd_class_init(ObjectClass *klass)
{
    static const VNestCounter stats[] = {
        VTD_STAT(hwpt_allocs, "nested HWPTs allocated"),
        VTD_STAT(attaches, "host attach or replace calls"),
        VTD_STAT(detaches, "host detach calls"),
        VTD_STAT(inv_calls, "IOMMU_HWPT_INVALIDATE calls"),
        VTD_STAT(inv_entries, "invalidation entries sent"),
        VTD_STAT(guest_faults, "bad PASID entries reported to the guest"),
        VTD_STAT(host_errors, "host calls that failed"),
        VTD_STAT(prq_requests, "page request descriptors written"),
        VTD_STAT(prq_overflows, "page requests refused: queue full (PRO)"),
        VTD_STAT(prq_refused, "page requests refused: PRE clear, queue "
                 "not in memory, unknown device"),
        VTD_STAT(prq_auto_responses, "page responses sent by QEMU"),
        VTD_STAT(prq_responses, "guest page responses sent to the host"),
        VTD_STAT(prq_stray, "guest page responses matching no request"),
        VTD_STAT(prq_events, "page request event interrupts sent"),
        VTD_STAT(prq_groups, "page request groups the guest was shown "
                 "and has not answered"),
    };

    object_class_property_add(klass, "scalable-mode", "bool", vtd_get_alias,
                              vtd_set_alias, NULL,
                              (void *)offsetof(IntelIOMMUState,
                                               scalable_mode));
    object_class_property_set_description(klass, "scalable-mode",
        "same as x-scalable-mode");
    object_class_property_add(klass, "fsts", "bool", vtd_get_alias,
                              vtd_set_alias, NULL,
                              (void *)offsetof(IntelIOMMUState, flts));
    object_class_property_set_description(klass, "fsts",
        "same as x-flts: first-stage translation, nested for assigned "
        "devices");
    object_class_property_add(klass, "pasid-bits", "uint8",
                              vtd_get_pasid_bits, vtd_set_pasid_bits,
                              NULL, NULL);
    object_class_property_set_description(klass, "pasid-bits",
        "PASID width advertised to the guest (ECAP.PSS + 1), 0-20; "
        "implies x-pasid-mode when non-zero");
    object_class_property_add(klass, "x-inv-per-desc", "bool",
                              vtd_get_nest_bool, vtd_set_nest_bool, NULL,
                              (void *)offsetof(VNestVtd, inv_per_desc));
    object_class_property_set_description(klass, "x-inv-per-desc",
        "send one host invalidation per guest descriptor (upstream QEMU's "
        "behaviour, for comparison) instead of one per submission");
    object_class_property_add(klass, "x-fsts-host-caps", "bool",
                              vtd_get_nest_bool, vtd_set_nest_bool, NULL,
                              (void *)offsetof(VNestVtd, host_caps));
    object_class_property_set_description(klass, "x-fsts-host-caps",
        "with x-flts=on: offer the guest the first-stage capabilities "
        "(1 GiB pages, PASID width) of the host IOMMU of the first "
        "cold-plugged assigned device");
    object_class_property_add(klass, "x-prq", "bool",
                              vtd_get_nest_bool, vtd_set_nest_bool, NULL,
                              (void *)offsetof(VNestVtd, prq));
    object_class_property_set_description(klass, "x-prq",
        "page requests (ECAP.PRS): the guest gets a page request queue, "
        "fed by the host's fault queue for nested devices with PRI; "
        "needs x-scalable-mode=on");
    object_class_property_add(klass, "x-nested", "bool",
                              vtd_get_nest_bool, vtd_set_nest_bool, NULL,
                              (void *)offsetof(VNestVtd, nested));
    object_class_property_set_description(klass, "x-nested",
        "be a nesting host for emulated devices: ECAP.NEST with first- "
        "and second-stage translation, PASID entries with PGTT=nested "
        "translated by both stages; needs x-scalable-mode=on, replaces "
        "x-flts=on");
    vnest_add_counters(klass, stats, ARRAY_SIZE(stats));
    object_class_property_add(klass, "x-nest-hwpts", "uint64",
                              vtd_get_bindings, NULL, NULL, NULL);
    object_class_property_set_description(klass, "x-nest-hwpts",
        "nested HWPTs alive now");
}

/* ---- realize ---- */

static uint32_t vtd_nest_hwpt_flags(void *opaque, PCIBus *bus, int devfn)
{
    IntelIOMMUState *s = opaque;
    uint32_t flags = IOMMU_HWPT_ALLOC_NEST_PARENT;

    if (s->pasid) {
        flags |= IOMMU_HWPT_ALLOC_PASID;
    }
    return flags;
}

static const VNestViommuOps vtd_nest_viommu_ops = {
    .hwpt_flags = vtd_nest_hwpt_flags,
};

/*
 * x-nested=on: the VT-d model translates each PASID entry by its PGTT, so
 * it needs scalable mode, and excludes x-flts=on (which makes QEMU walk
 * every PASID entry as first-stage, and nests assigned devices on the
 * host instead).
 */
static bool vtd_nested_realize(IntelIOMMUState *s, Error **errp)
{
    if (!s->scalable_mode) {
        error_setg(errp, "x-nested needs scalable mode (x-scalable-mode=on)");
        return false;
    }
    if (s->flts) {
        error_setg(errp, "x-nested=on already offers first-stage "
                   "translation, chosen per PASID entry; drop x-flts=on");
        return false;
    }
    return true;
}

bool vnest_vtd_nested_on(IntelIOMMUState *s)
{
    return s->vnest && s->vnest->nested;
}

bool vnest_vtd_realize(IntelIOMMUState *s, Error **errp)
{
    VNestVtd *n = vtd_nest_state(s);

    if (n->pasid_bits && !s->scalable_mode) {
        error_setg(errp, "pasid-bits needs scalable mode "
                   "(x-scalable-mode=on)");
        return false;
    }
    if (n->prq && !s->scalable_mode) {
        error_setg(errp, "x-prq needs scalable mode (x-scalable-mode=on)");
        return false;
    }
    if (n->nested && !vtd_nested_realize(s, errp)) {
        return false;
    }
    if (!s->flts) {
        return true;
    }
    vtd_nest_inv_init(n);
    vnest_viommu_register(s, &vtd_nest_viommu_ops);
    n->realized = true;
    return true;
}

static unsigned vtd_guest_pasid_bits(IntelIOMMUState *s);

static void vtd_set_pasid_width(IntelIOMMUState *s, unsigned bits)
{
    s->ecap &= ~(VTD_ECAP_PSS_MASK | VTD_ECAP_PASID);
    if (bits) {
        s->ecap |= VTD_ECAP_PASID |
                   ((uint64_t)(bits - 1) << VTD_ECAP_PSS_SHIFT);
    }
}

void vnest_vtd_cap_init(IntelIOMMUState *s)
{
    VNestVtd *n = s->vnest;

    if (!n) {
        return;
    }
    if (n->pasid_bits) {
        vtd_set_pasid_width(s, n->pasid_bits);
    }
    vtd_nest_prq_reset(n);
    if (n->nested) {
        /* x-nested: first stage beside QEMU's second stage, and nesting */
        s->ecap |= HOST_ECAP_NEST | VTD_ECAP_FLTS;
        if (s->fs1gp) {
            s->cap |= VTD_CAP_FS1GP;
        }
    }
    if (n->derived) {
        /* x-fsts-host-caps: what the first device's host offers */
        s->cap = n->derived_fs1gp ? s->cap | VTD_CAP_FS1GP :
                                    s->cap & ~VTD_CAP_FS1GP;
        vtd_set_pasid_width(s, n->derived_pasid_bits);
    }
}

/*
 * x-fsts-host-caps: the first cold-plugged device's host decides what
 * first-stage capabilities the guest is offered, within what the user
 * asked for: 1 GiB pages if the host has them, the PASID width asked for
 * (pasid-bits, x-pasid-mode) cut to the host's.
 */
static void vtd_derive_caps(IntelIOMMUState *s, const VNestHwInfo *hw)
{
    VNestVtd *n = vtd_nest_state(s);
    unsigned want = vtd_guest_pasid_bits(s);

    /* Cold-plugged: before the guest first runs (devices plugged later
     * must fit what the guest has already been shown). */
    if (!n->host_caps || n->derived || !runstate_check(RUN_STATE_PRELAUNCH)) {
        return;
    }
    n->derived = true;
    n->derived_fs1gp = (s->cap & VTD_CAP_FS1GP) &&
                       (hw->data.vtd.cap_reg & HOST_CAP_FS1GP);
    n->derived_pasid_bits = MIN(want, hw->max_pasid_log2);
    vnest_vtd_cap_init(s);
}

/* PASID width the guest sees: ECAP.PSS + 1 when ECAP.PASID, else 0. */
static unsigned vtd_guest_pasid_bits(IntelIOMMUState *s)
{
    if (!(s->ecap & VTD_ECAP_PASID)) {
        return 0;
    }
    return ((s->ecap & VTD_ECAP_PSS_MASK) >> VTD_ECAP_PSS_SHIFT) + 1;
}

/* ---- plug ---- */

/*
 * The bus and devfn whose requester ID the VT-d sees for @pdev: a bridge
 * to conventional PCI takes ownership of the requests from below it.
 * The rule of pci_device_get_iommu_bus_devfn() (hw/pci/pci.c), which is
 * not exported: a PCIe-to-PCI bridge uses its secondary bus and devfn 0
 * (PCIe-to-PCI/PCI-X bridge spec 2.3), other bridges their own ID.
 */
static void vtd_nest_alias_of(PCIDevice *pdev, PCIBus **abus, int *adevfn)
{
    PCIBus *bus = pci_get_bus(pdev), *iommu_bus = bus;
    int devfn = pdev->devfn;

    while (iommu_bus && !iommu_bus->iommu_ops && iommu_bus->parent_dev) {
        PCIDevice *parent = iommu_bus->parent_dev;
        PCIBus *parent_bus = pci_get_bus(parent);

        if (!pci_bus_is_express(iommu_bus)) {
            if (pci_is_express(parent) &&
                pcie_cap_get_type(parent) == PCI_EXP_TYPE_PCI_BRIDGE) {
                devfn = PCI_DEVFN(0, 0);
                bus = iommu_bus;
            } else {
                devfn = parent->devfn;
                bus = parent_bus;
            }
        }
        iommu_bus = parent_bus;
    }
    *abus = bus;
    *adevfn = devfn;
}

/* Assigned: its DMA is translated by a host IOMMU, not by QEMU. */
static bool vtd_nest_pci_assigned(PCIDevice *pdev)
{
    return object_dynamic_cast(OBJECT(pdev), "vfio-pci") ||
           vnest_sim_assign_claims(pdev);
}

typedef struct VtdAliasCheck {
    PCIBus *alias_bus;
    int alias_devfn;
    PCIDevice *emulated;            /* the first one found */
} VtdAliasCheck;

static void vtd_alias_check_dev(PCIBus *bus, PCIDevice *pdev, void *opaque)
{
    VtdAliasCheck *c = opaque;
    PCIBus *abus;
    int adevfn;

    /* Bridges do not master DMA of their own here. */
    if (c->emulated || IS_PCI_BRIDGE(pdev) || vtd_nest_pci_assigned(pdev)) {
        return;
    }
    vtd_nest_alias_of(pdev, &abus, &adevfn);
    if (abus == c->alias_bus && adevfn == c->alias_devfn) {
        c->emulated = pdev;
    }
}

static void vtd_alias_check_bus(PCIBus *bus, void *opaque)
{
    pci_for_each_device_under_bus(bus, vtd_alias_check_dev, opaque);
}

/*
 * A device behind a bridge shares its requester ID, so its QEMU address
 * space, with every device behind that bridge: nesting one of them makes
 * that address space guest RAM (the host translates), which would let an
 * emulated device behind the same bridge bypass the guest's translation.
 * Refuse the nested device then; assigned devices may share an alias
 * (they are translated by the host, each through its own attachment).
 */
static bool vtd_nest_check_alias(HostIOMMUDevice *hiod, const char *name,
                                 Error **errp)
{
    VtdAliasCheck c = {
        .alias_bus = hiod->aliased_bus,
        .alias_devfn = hiod->aliased_devfn,
    };
    PCIBus *root = hiod->aliased_bus;

    if (!root) {
        return true;
    }
    while (!root->iommu_ops && root->parent_dev) {
        root = pci_get_bus(root->parent_dev);
    }
    pci_for_each_bus(root, vtd_alias_check_bus, &c);
    if (c.emulated) {
        /* The bridge whose requester ID they share (see above) */
        PCIDevice *br = c.alias_devfn == PCI_DEVFN(0, 0) &&
                        !pci_bus_is_root(c.alias_bus) ?
                        c.alias_bus->parent_dev :
                        c.alias_bus->devices[c.alias_devfn];
        const char *br_name = br && DEVICE(br)->id ? DEVICE(br)->id :
                              br ? br->name : "its bridge";
        const char *emu = DEVICE(c.emulated)->id ? DEVICE(c.emulated)->id :
                          c.emulated->name;

        error_setg(errp, "%s shares the requester ID of %s with the "
                   "emulated device %s: nesting %s would let %s bypass the "
                   "guest's DMA translation", name, br_name, emu, name, emu);
        error_append_hint(errp, "Assign every device behind that bridge, "
                          "move the emulated one out from behind it, or "
                          "use intel-iommu,x-flts=off.\n");
        return false;
    }
    return true;
}

bool vnest_vtd_check_hiod(IntelIOMMUState *s, HostIOMMUDevice *hiod,
                          Error **errp)
{
    const char *name = hiod->name ? hiod->name : "assigned device";
    VNestHostDevInfo info;
    VNestHwInfo hw;
    unsigned want_pasid;

    if (!vnest_host_dev_check(hiod)) {
        error_setg(errp, "%s cannot be nested by intel-iommu,x-flts=on: "
                   "assign it through iommufd (-device vfio-pci,"
                   "iommufd=ID) or use x-flts=off", name);
        return false;
    }
    vnest_host_dev_info(hiod, &info);
    if (!(info.hwpt_flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
        error_setg(errp, "%s: its HWPT %u is not a nest parent, so "
                   "x-flts=on cannot nest it (was it plugged before "
                   "intel-iommu?)", name, info.hwpt_id);
        return false;
    }
    if (!vnest_iommufd_get_hw_info(info.be, info.dev_id, &hw, errp)) {
        error_prepend(errp, "%s: ", name);
        return false;
    }
    if (hw.type != IOMMU_HW_INFO_TYPE_INTEL_VTD) {
        error_setg(errp, "%s: the host IOMMU is not Intel VT-d (iommufd "
                   "type %u): intel-iommu,x-flts=on nests only on VT-d; "
                   "use x-flts=off", name, hw.type);
        return false;
    }
    vtd_derive_caps(s, &hw);
    if (!(hw.data.vtd.ecap_reg & HOST_ECAP_NEST) ||
        !(hw.data.vtd.ecap_reg & HOST_ECAP_FSTS)) {
        error_setg(errp, "%s: the host VT-d lacks nested translation "
                   "(ECAP.NEST%s): use x-flts=off", name,
                   hw.data.vtd.ecap_reg & HOST_ECAP_FSTS ? "" :
                   " and first-stage translation, ECAP.FSTS");
        return false;
    }
    if ((s->cap & VTD_CAP_FS1GP) && !(hw.data.vtd.cap_reg & HOST_CAP_FS1GP)) {
        error_setg(errp, "%s: the host VT-d lacks first-stage 1 GiB pages "
                   "(CAP.FS1GP) that the guest is offered: set "
                   "intel-iommu,fs1gp=off", name);
        return false;
    }
    if (s->aw_bits > HOST_CAP_MGAW(hw.data.vtd.cap_reg)) {
        error_setg(errp, "%s: the guest's %u-bit addresses exceed the host "
                   "VT-d's %u bits (CAP.MGAW): set intel-iommu,aw-bits=%u",
                   name, s->aw_bits,
                   (unsigned)HOST_CAP_MGAW(hw.data.vtd.cap_reg),
                   (unsigned)HOST_CAP_MGAW(hw.data.vtd.cap_reg));
        return false;
    }
    want_pasid = vtd_guest_pasid_bits(s);
    if (want_pasid > hw.max_pasid_log2) {
        if (!hw.max_pasid_log2) {
            error_setg(errp, "%s: the host gives this device no PASIDs, "
                       "and the guest is offered %u bits: set "
                       "intel-iommu,x-pasid-mode=off,pasid-bits=0",
                       name, want_pasid);
        } else {
            error_setg(errp, "%s: the guest is offered %u-bit PASIDs, the "
                       "host gives this device %u: set intel-iommu,"
                       "pasid-bits=%u", name, want_pasid,
                       hw.max_pasid_log2, hw.max_pasid_log2);
        }
        return false;
    }
    if (want_pasid && !(info.hwpt_flags & IOMMU_HWPT_ALLOC_PASID)) {
        error_setg(errp, "%s: its nest parent HWPT %u cannot take PASIDs "
                   "(allocated without IOMMU_HWPT_ALLOC_PASID)", name,
                   info.hwpt_id);
        return false;
    }
    return vtd_nest_check_alias(hiod, name, errp);
}

static VtdNestDev *vtd_nest_find(VNestVtd *n, PCIBus *bus, int devfn)
{
    VtdNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        if (d->bus == bus && d->devfn == devfn) {
            return d;
        }
    }
    return NULL;
}

void vnest_vtd_plug(IntelIOMMUState *s, PCIBus *bus, int devfn,
                    HostIOMMUDevice *hiod)
{
    VNestVtd *n = vtd_nest_state(s);
    VtdNestDev *d = g_new0(VtdNestDev, 1);
    VtdBind *rid = g_new0(VtdBind, 1);
    Error *err = NULL;

    d->nest = n;
    d->hiod = hiod;
    object_ref(hiod);
    vnest_host_dev_info(hiod, &d->info);
    d->bus = bus;
    d->devfn = devfn;
    d->alias_bus = hiod->aliased_bus ? hiod->aliased_bus : bus;
    d->alias_devfn = hiod->aliased_bus ? hiod->aliased_devfn : devfn;
    /* A conventional PCI bus carries no PASID (no TLP prefix). */
    d->no_pasid = !pci_bus_is_express(bus);
    d->binds = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    /* At plug the RID is attached to the nest parent: stage 2 only. */
    rid->kind = VTD_BIND_PARENT;
    rid->gpasid = VNEST_NO_PASID;
    g_hash_table_insert(d->binds, vtd_nest_key(VNEST_NO_PASID), rid);
    QLIST_INSERT_HEAD(&n->devs, d, next);
    vtd_nest_prq_plug(d);
    trace_vnest_vtd_plug(hiod->name, vtd_nest_sid(d), d->info.dev_id,
                         d->info.hwpt_id);

    if (!n->migration_blocker) {
        error_setg(&n->migration_blocker, "intel-iommu,x-flts=on: the "
                   "host's nested first-stage bindings of assigned devices "
                   "are not migrated yet");
        if (migrate_add_blocker(&n->migration_blocker, &err) < 0) {
            /* A migration is running: it cannot include the nest state. */
            warn_reportf_err(err, "intel-iommu: ");
        }
    }
    /* Hot-plugged while the guest has it configured: follow at once. */
    vtd_nest_sync_dev(d, true);
}

void vnest_vtd_unplug(IntelIOMMUState *s, PCIBus *bus, int devfn)
{
    VNestVtd *n = s->vnest;
    VtdNestDev *d = n ? vtd_nest_find(n, bus, devfn) : NULL;

    if (!d) {
        return;
    }
    trace_vnest_vtd_unplug(d->hiod->name, vtd_nest_sid(d));
    vtd_nest_prq_unplug(d);
    vtd_nest_dev_release(d);
    vtd_nest_prq_release(d);
    QLIST_REMOVE(d, next);
    g_hash_table_unref(d->binds);
    object_unref(d->hiod);
    g_free(d);
    if (QLIST_EMPTY(&n->devs) && n->migration_blocker) {
        migrate_del_blocker(&n->migration_blocker);
    }
}

bool vnest_vtd_host_translates(IntelIOMMUState *s, PCIBus *bus, int devfn)
{
    VNestVtd *n = s->vnest;
    VtdNestDev *d;

    if (!n) {
        return false;
    }
    /* @bus/@devfn name what the VT-d sees: an alias covers its devices. */
    QLIST_FOREACH(d, &n->devs, next) {
        if ((d->alias_bus == bus && d->alias_devfn == devfn) ||
            (d->bus == bus && d->devfn == devfn)) {
            return true;
        }
    }
    return false;
}

void vnest_vtd_sync_all(IntelIOMMUState *s)
{
    VNestVtd *n = s->vnest;
    VtdNestDev *d;
    uint16_t unused;

    if (!n || QLIST_EMPTY(&n->devs)) {
        return;
    }
    /* What was batched belongs to the old configuration: send it first. */
    vtd_nest_inv_flush(n, &unused);
    QLIST_FOREACH(d, &n->devs, next) {
        vtd_nest_sync_dev(d, true);
    }
}

void vnest_vtd_sync_sid(IntelIOMMUState *s, uint16_t sid, uint16_t mask)
{
    VNestVtd *n = s->vnest;
    VtdNestDev *d;
    uint16_t unused;

    if (!n || QLIST_EMPTY(&n->devs)) {
        return;
    }
    vtd_nest_inv_flush(n, &unused);
    QLIST_FOREACH(d, &n->devs, next) {
        if ((vtd_nest_sid(d) & mask) == (sid & mask)) {
            vtd_nest_sync_dev(d, true);
        }
    }
}
