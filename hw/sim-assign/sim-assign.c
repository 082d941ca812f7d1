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
#include "hw/core/cpu.h"
#include "vnest/iommufd-emulated.h"
#include "vnest/viommu-nest.h"
#include "sim-assign-internal.h"
#include "trace.h"

static GList *sim_assigns;

static bool sim_bind_attach(VNestSimAssign *sa, PCIDevice *pdev,
                            Error **errp)
{
    ERRP_GUARD();
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };

    emu_vfio_set_ctx(sa->vfio, vnest_iommufd_emu_ctx(sa->iommufd));
    if (emu_vfio_ioctl(sa->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
        error_setg_errno(errp, errno, "cannot bind %s to the emulated "
                         "iommufd", sa->device_id);
        return false;
    }
    sa->dev_id = bind.out_devid;
    if (!iommufd_backend_alloc_ioas(sa->iommufd, &sa->ioas_id, errp)) {
        return false;
    }
    /* As vfio-pci: a nest parent when the vIOMMU in front nests. */
    sa->hwpt_flags = vnest_pci_hwpt_flags(pdev);
    if (!iommufd_backend_alloc_hwpt(sa->iommufd, sa->dev_id, sa->ioas_id,
                                    sa->hwpt_flags, IOMMU_HWPT_DATA_NONE, 0,
                                    NULL, &sa->hwpt_id, errp)) {
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
    attach.pt_id = sa->hwpt_id;
    if (emu_vfio_ioctl(sa->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
        error_setg_errno(errp, errno, "cannot attach %s to HWPT %u",
                         sa->device_id, sa->hwpt_id);
        return false;
    }
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
    if (sa->hwpt_id) {
        iommufd_backend_free_id(sa->iommufd, sa->hwpt_id);
        sa->hwpt_id = 0;
    }
    if (sa->ioas_id) {
        iommufd_backend_free_id(sa->iommufd, sa->ioas_id);
        sa->ioas_id = 0;
    }
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
    uint16_t rid = PCI_BUILD_BDF(pci_bus_num(pci_get_bus(pdev)),
                                 pdev->devfn);
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
    rc = emu_host_add_device(vnest_iommufd_emu_host(sa->iommufd),
                             vnest_iommufd_emu_iommu(sa->iommufd), rid,
                             sa->device_id, &sa->edev);
    if (rc) {
        error_setg_errno(errp, -rc, "cannot add %s to the emulated host",
                         sa->device_id);
        goto fail;
    }
    sa->vfio = emu_vfio_open(sa->edev);
    if (!sa->vfio || !sim_bind_attach(sa, pdev, errp)) {
        error_prepend(errp, "vnest-sim-assign: ");
        goto fail;
    }
    sa->pdev = pdev;
    sa->hiod = sim_assign_hiod_new(sa, errp);
    if (!sa->hiod) {
        error_prepend(errp, "vnest-sim-assign: ");
        goto fail;
    }
    sa->viommu_as = viommu_as;
    sa->msi_passthrough = !strcmp(target_name(), "x86_64") ||
                          !strcmp(target_name(), "i386");
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

static void sim_assign_complete(UserCreatable *uc, Error **errp)
{
    VNestSimAssign *sa = VNEST_SIM_ASSIGN(uc);

    if (!sa->device_id || !sa->iommufd) {
        error_setg(errp, "vnest-sim-assign needs device=ID and iommufd=ID");
        return;
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

    QLIST_INIT(&sa->shadows);
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
