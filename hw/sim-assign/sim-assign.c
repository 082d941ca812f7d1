/*
 * VNest simulated assignment: the vnest-sim-assign object
 *
 * Assigns an emulated PCI device through an emulated iommufd, the way
 * vfio-pci assigns a physical one: bind (VFIO_DEVICE_BIND_IOMMUFD), an
 * IOAS, a paging HWPT, attach (VFIO_DEVICE_ATTACH_IOMMUFD_PT); from then
 * on the device's DMA is translated only by the emulated host IOMMU.
 * It happens when the device's bus-master address space is built (machine
 * init done, or hotplug), through hook patch 0003.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "qom/object_interfaces.h"
#include "migration/blocker.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pci_bus.h"
#include "hw/core/cpu.h"
#include "exec/address-spaces.h"
#include "vnest/iommufd-emulated.h"
#include "vnest/iommufd-nest.h"
#include "vnest/viommu-nest.h"
#include "sim-assign-internal.h"
#include "trace.h"

static GList *sim_assigns;

/* Host bus numbers of devices the guest sees behind bridges. */
#define SIM_HOST_BUS_FIRST      0x80

static int sim_attach(VNestSimAssign *sa, uint32_t pt_id)
{
    struct vfio_device_attach_iommufd_pt attach = {
        .argsz = sizeof(attach),
        .pt_id = pt_id,
    };

    return emu_vfio_ioctl(sa->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) ?
           -errno : 0;
}

/*
 * Attach to a HWPT of the IOAS that another device allocated with the same
 * flags, as vfio-pci reuses its container's autodomains: -EINVAL from the
 * attach says the domain cannot take this device, so try the next one;
 * then allocate one of our own.
 */
static bool sim_hwpt_attach(VNestSimAssign *sa, Error **errp)
{
    ERRP_GUARD();
    SimIoas *ioas = sa->ioas;
    SimHwpt *h;
    uint32_t id;
    int ret;

    QLIST_FOREACH(h, &ioas->hwpts, next) {
        if (h->flags != sa->hwpt_flags) {
            continue;
        }
        ret = sim_attach(sa, h->id);
        if (!ret) {
            trace_vnest_sim_assign_hwpt_reuse(sa->device_id, h->id);
            h->users++;
            sa->hwpt = h;
            return true;
        }
        if (ret != -EINVAL) {
            error_setg_errno(errp, -ret, "cannot attach %s to HWPT %u",
                             sa->device_id, h->id);
            return false;
        }
        trace_vnest_sim_assign_hwpt_incompatible(sa->device_id, h->id);
    }
    if (!iommufd_backend_alloc_hwpt(sa->iommufd, sa->dev_id, ioas->id,
                                    sa->hwpt_flags, IOMMU_HWPT_DATA_NONE, 0,
                                    NULL, &id, errp)) {
        /* What the flags ask for is missing: EOPNOTSUPP, as the kernel */
        bool unsupported = errno == EOPNOTSUPP;

        error_prepend(errp, "%s: ", sa->device_id);
        if (!unsupported) {
            return false;
        }
        if (sa->hwpt_flags & IOMMU_HWPT_ALLOC_NEST_PARENT) {
            error_append_hint(errp, "The vIOMMU in front of %s nests "
                              "(HWPT flags 0x%x): the emulated host must "
                              "offer nesting (host-iommu=vtd or smmuv3, "
                              "host-nesting=on).\n", sa->device_id,
                              sa->hwpt_flags);
        }
        if (sa->hwpt_flags & IOMMU_HWPT_ALLOC_PASID) {
            error_append_hint(errp, "It offers the guest PASIDs: the "
                              "emulated host must give %s PASIDs "
                              "(x-host-pasid-bits), or the vIOMMU offer "
                              "none.\n", sa->device_id);
        }
        return false;
    }
    ret = sim_attach(sa, id);
    if (ret) {
        error_setg_errno(errp, -ret, "cannot attach %s to HWPT %u",
                         sa->device_id, id);
        iommufd_backend_free_id(sa->iommufd, id);
        return false;
    }
    h = g_new0(SimHwpt, 1);
    h->id = id;
    h->flags = sa->hwpt_flags;
    h->users = 1;
    QLIST_INSERT_HEAD(&ioas->hwpts, h, next);
    trace_vnest_sim_assign_hwpt_new(sa->device_id, ioas->id, id, h->flags);
    sa->hwpt = h;
    return true;
}

static void sim_hwpt_put(VNestSimAssign *sa)
{
    SimHwpt *h = sa->hwpt;

    sa->hwpt = NULL;
    if (!h || --h->users) {
        return;
    }
    QLIST_REMOVE(h, next);
    iommufd_backend_free_id(sa->iommufd, h->id);
    g_free(h);
}

/*
 * VT-d erratum 772415 (SPR17): a nest parent must hold no read-only
 * mapping, so its IOAS leaves read-only sections out (guest ROM is not
 * DMA-reachable then, as on such hardware), as vfio-pci's container does.
 */
static bool sim_spr17_parent(VNestSimAssign *sa, bool *spr17, Error **errp)
{
    VNestHwInfo hw;

    *spr17 = false;
    if (!(sa->hwpt_flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
        return true;
    }
    if (!vnest_iommufd_get_hw_info(sa->iommufd, sa->dev_id, &hw, errp)) {
        return false;
    }
    *spr17 = hw.type == IOMMU_HW_INFO_TYPE_INTEL_VTD &&
             (hw.data.vtd.flags & IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17);
    return true;
}

static bool sim_bind_attach(VNestSimAssign *sa, PCIDevice *pdev,
                            AddressSpace *viommu_as, Error **errp)
{
    ERRP_GUARD();
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    bool spr17;

    emu_vfio_set_ctx(sa->vfio, vnest_iommufd_emu_ctx(sa->iommufd));
    if (emu_vfio_ioctl(sa->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
        error_setg_errno(errp, errno, "cannot bind %s to the emulated "
                         "iommufd", sa->device_id);
        return false;
    }
    sa->dev_id = bind.out_devid;
    /* As vfio-pci: a nest parent when the vIOMMU in front nests. */
    sa->hwpt_flags = vnest_pci_hwpt_flags(pdev);
    /*
     * One IOAS per address space, as vfio-pci has one container per
     * address space. A nest parent holds guest RAM (the vIOMMU nests:
     * the host walks the guest's first stage over it), so every nested
     * device shares one; a shadowed vIOMMU address space is the device's
     * own (or its bridge alias's).
     */
    if (!sim_spr17_parent(sa, &spr17, errp)) {
        error_prepend(errp, "%s: ", sa->device_id);
        return false;
    }
    sa->ioas = sim_ioas_get(sa->iommufd,
                            (sa->hwpt_flags & IOMMU_HWPT_ALLOC_NEST_PARENT) ?
                            &address_space_memory : viommu_as,
                            spr17, errp);
    if (!sa->ioas) {
        error_prepend(errp, "%s: ", sa->device_id);
        return false;
    }
    sa->ioas_id = sa->ioas->id;
    if (!sim_hwpt_attach(sa, errp)) {
        return false;
    }
    sa->hwpt_id = sa->hwpt->id;
    trace_vnest_sim_assign_attach(sa->device_id, sa->dev_id, sa->ioas_id,
                                  sa->hwpt_id, sa->hwpt_flags);
    return true;
}

/* Undo whatever sim_connect() got done, in reverse order. */
static void sim_disconnect(VNestSimAssign *sa)
{
    if (sa->migration_blocker) {
        migrate_del_blocker(&sa->migration_blocker);
    }
    if (sa->hiod_set) {
        /* The vIOMMU lets go of the device while it is still attached. */
        pci_device_unset_iommu_device(sa->pdev);
        sa->hiod_set = false;
    }
    if (sa->hiod) {
        object_unref(OBJECT(sa->hiod));
        sa->hiod = NULL;
    }
    if (sa->ram) {
        sim_assign_map_stop(sa);
    }
    if (sa->vfio) {
        emu_vfio_close(sa->vfio);   /* detaches and unbinds */
        sa->vfio = NULL;
    }
    /* Detached (or never attached) now: let go of the shared objects. */
    sim_hwpt_put(sa);
    sa->hwpt_id = 0;
    sim_ioas_put(sa->ioas);
    sa->ioas = NULL;
    sa->ioas_id = 0;
    sa->hwpt_flags = 0;
    sa->edev = NULL;
    sa->pdev = NULL;
    if (sa->connected) {
        iommufd_backend_disconnect(sa->iommufd);
        sa->connected = false;
    }
}

static bool sim_connect(VNestSimAssign *sa, PCIDevice *pdev,
                        AddressSpace *viommu_as, Error **errp)
{
    PCIBus *bus = pci_get_bus(pdev);
    bool root = pci_bus_is_root(bus);
    unsigned host_bus = root ? pci_bus_num(bus) : SIM_HOST_BUS_FIRST;
    int rc;

    /* The emulated host's objects and translations are not migrated. */
    error_setg(&sa->migration_blocker, "vnest-sim-assign: %s is assigned "
               "through the emulated host IOMMU, whose state does not "
               "migrate", sa->device_id);
    if (migrate_add_blocker(&sa->migration_blocker, errp) < 0) {
        return false;
    }
    if (!iommufd_backend_connect(sa->iommufd, errp)) {
        goto fail;
    }
    sa->connected = true;
    if (!vnest_iommufd_emu_host(sa->iommufd)) {
        error_setg(errp, "vnest-sim-assign needs an emulated iommufd "
                   "backend (-object iommufd,emulated=on)");
        goto fail;
    }
    /*
     * The device's requester ID on the host: a physical device's is where
     * it sits on the host, unrelated to where the guest sees it. On a root
     * bus take the guest's; behind a bridge the guest has not numbered the
     * buses yet (bus 0 now would collide with the root bus), so take the
     * first free one on host buses SIM_HOST_BUS_FIRST and up.
     */
    do {
        rc = emu_host_add_device(vnest_iommufd_emu_host(sa->iommufd),
                                 vnest_iommufd_emu_iommu(sa->iommufd),
                                 PCI_BUILD_BDF(host_bus, pdev->devfn),
                                 sa->device_id, &sa->edev);
    } while (rc == -EEXIST && !root && ++host_bus <= PCI_BUS_MAX - 1);
    if (rc) {
        error_setg_errno(errp, -rc, "cannot add %s to the emulated host",
                         sa->device_id);
        goto fail;
    }
    /*
     * A PRI capability: the host probes it before the bind (PRI enabled
     * by intel_iommu_probe_device() / iommu_enable_pci_pri()).
     */
    if (pci_is_express(pdev)) {
        uint16_t pri = pcie_find_capability(pdev, PCI_EXT_CAP_ID_PRI);

        if (pri) {
            uint32_t cap = pci_get_long(pdev->config + pri +
                                        PCI_PRI_MAX_REQ);

            emu_device_set_pri(sa->edev, true);
            emu_device_set_pri_capacity(sa->edev, cap);
            trace_vnest_sim_assign_pri(sa->device_id, cap);
        }
    }
    sa->vfio = emu_vfio_open(sa->edev);
    if (!sa->vfio || !sim_bind_attach(sa, pdev, viommu_as, errp)) {
        error_prepend(errp, "vnest-sim-assign: ");
        goto fail;
    }
    sa->pdev = pdev;
    sa->hiod = sim_assign_hiod_new(sa, errp);
    if (!sa->hiod) {
        error_prepend(errp, "vnest-sim-assign: %s: ", sa->device_id);
        goto fail;
    }
    sa->viommu_as = viommu_as;
    sim_assign_msi_window(sa);
    sim_assign_dma_init(sa);
    sim_assign_map_start(sa);
    /*
     * Hand the vIOMMU the host side once bound, attached and the IOAS
     * filled, as vfio-pci does at the end of its realize. A refusal ends
     * QEMU (the caller exits), so the DMA region is not torn down.
     */
    if (!pci_device_set_iommu_device(pdev, sa->hiod, errp)) {
        error_prepend(errp, "vnest-sim-assign: the vIOMMU refuses %s: ",
                      sa->device_id);
        goto fail;
    }
    sa->hiod_set = true;
    return true;

fail:
    sim_disconnect(sa);
    return false;
}

bool vnest_sim_assign_claims(PCIDevice *pdev)
{
    const char *id = DEVICE(pdev)->id;
    GList *l;

    for (l = sim_assigns; id && l; l = l->next) {
        if (!strcmp(((VNestSimAssign *)l->data)->device_id, id)) {
            return true;
        }
    }
    return false;
}

AddressSpace *vnest_sim_assign_dma_as(PCIDevice *pdev, AddressSpace *dma_as)
{
    const char *id = DEVICE(pdev)->id;
    Error *err = NULL;
    GList *l;

    if (!id) {
        return dma_as;
    }
    for (l = sim_assigns; l; l = l->next) {
        VNestSimAssign *sa = l->data;

        if (strcmp(sa->device_id, id)) {
            continue;
        }
        if (sa->pdev) {
            error_report("vnest-sim-assign: %s is already assigned", id);
            exit(1);
        }
        if (!sim_connect(sa, pdev, dma_as, &err)) {
            error_report_err(err);
            exit(1);
        }
        return &sa->dma_as;
    }
    return dma_as;
}

/* ---- QOM ---- */

static char *get_device(Object *obj, Error **errp)
{
    return g_strdup(VNEST_SIM_ASSIGN(obj)->device_id);
}

static void set_device(Object *obj, const char *value, Error **errp)
{
    VNestSimAssign *sa = VNEST_SIM_ASSIGN(obj);

    if (sa->pdev) {
        error_setg(errp, "device cannot change once assigned");
        return;
    }
    g_free(sa->device_id);
    sa->device_id = g_strdup(value);
}

static void get_u32(Object *obj, Visitor *v, const char *name, void *opaque,
                    Error **errp)
{
    uint32_t value = *(uint32_t *)opaque;

    visit_type_uint32(v, name, &value, errp);
}

static void get_dma_faults(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    uint64_t value = VNEST_SIM_ASSIGN(obj)->dma_faults;

    visit_type_uint64(v, name, &value, errp);
}

/*
 * The assigned device goes (device_del, or the guest powering its slot
 * off): the host lets go of it, as vfio-pci's exit does, so nothing keeps
 * pointing at it. Called once the device is unrealized, before it is
 * freed.
 */
static void sim_assign_dev_unrealize(DeviceListener *listener,
                                     DeviceState *dev)
{
    GList *l;

    for (l = sim_assigns; l; l = l->next) {
        VNestSimAssign *sa = l->data;

        if (sa->pdev && DEVICE(sa->pdev) == dev) {
            trace_vnest_sim_assign_unplug(sa->device_id);
            sim_disconnect(sa);
        }
    }
}

static DeviceListener sim_assign_dev_listener = {
    .unrealize = sim_assign_dev_unrealize,
};

static void sim_assign_complete(UserCreatable *uc, Error **errp)
{
    VNestSimAssign *sa = VNEST_SIM_ASSIGN(uc);
    static bool listening;

    if (!sa->device_id || !sa->iommufd) {
        error_setg(errp, "vnest-sim-assign needs device=ID and iommufd=ID");
        return;
    }
    if (!listening) {
        device_listener_register(&sim_assign_dev_listener);
        listening = true;
    }
    sim_assigns = g_list_prepend(sim_assigns, sa);
}

static bool sim_assign_can_be_deleted(UserCreatable *uc)
{
    return !VNEST_SIM_ASSIGN(uc)->pdev;
}

static void sim_assign_init(Object *obj)
{
    VNestSimAssign *sa = VNEST_SIM_ASSIGN(obj);

    object_property_add(obj, "dev-id", "uint32", get_u32, NULL, NULL,
                        &sa->dev_id);
    object_property_add(obj, "ioas-id", "uint32", get_u32, NULL, NULL,
                        &sa->ioas_id);
    object_property_add(obj, "hwpt-id", "uint32", get_u32, NULL, NULL,
                        &sa->hwpt_id);
    object_property_add(obj, "hwpt-flags", "uint32", get_u32, NULL, NULL,
                        &sa->hwpt_flags);
}

static void sim_assign_finalize(Object *obj)
{
    VNestSimAssign *sa = VNEST_SIM_ASSIGN(obj);

    sim_assigns = g_list_remove(sim_assigns, sa);
    g_free(sa->device_id);
}

static void sim_assign_class_init(ObjectClass *oc, void *data)
{
    UserCreatableClass *ucc = USER_CREATABLE_CLASS(oc);

    ucc->complete = sim_assign_complete;
    ucc->can_be_deleted = sim_assign_can_be_deleted;
    object_class_property_add_str(oc, "device", get_device, set_device);
    object_class_property_set_description(oc, "device",
        "id of the PCI device to assign through the emulated iommufd");
    object_class_property_add_link(oc, "iommufd", TYPE_IOMMUFD_BACKEND,
        offsetof(VNestSimAssign, iommufd),
        object_property_allow_set_link, OBJ_PROP_LINK_STRONG);
    object_class_property_set_description(oc, "iommufd",
        "the emulated iommufd backend object to assign through");
    object_class_property_add(oc, "dma-faults", "uint64", get_dma_faults,
                              NULL, NULL, NULL);
    object_class_property_set_description(oc, "dma-faults",
        "device DMA the emulated host IOMMU refused");
}

static const TypeInfo sim_assign_info = {
    .name = TYPE_VNEST_SIM_ASSIGN,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(VNestSimAssign),
    .instance_init = sim_assign_init,
    .instance_finalize = sim_assign_finalize,
    .class_init = sim_assign_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_USER_CREATABLE },
        { }
    },
};

static void sim_assign_register_types(void)
{
    type_register_static(&sim_assign_info);
}

type_init(sim_assign_register_types)
