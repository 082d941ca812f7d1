/*
 * VNest: arm-smmuv3 instances on -M virt, one per PCIe root bus
 *
 * -device arm-smmuv3,primary-bus=BUS is a dynamic sysbus device of virt:
 * virt's plug handler links it to the platform bus, which maps its
 * registers (naturally aligned) and wires its four interrupts to the
 * GIC. Its realize puts its PCIIOMMUOps on BUS, so the devices on that
 * root bus (and behind its root ports) are translated by it, with
 * StreamID = RID (a pxb-pcie's bus numbers start at its bus_nr); with
 * accel=on it nests them with its own host vIOMMU (hw/smmu-nest/).
 *
 * Refused here, before realize: hot-plug; primary-bus missing or not a
 * PCIe root bus; a bus another IOMMU translates (virt's own
 * iommu=smmuv3, another arm-smmuv3), or one that bypasses IOMMUs; devices
 * on that bus created before the SMMU (their DMA address space is chosen
 * when they are realized).
 *
 * Which SMMU the guest must use for which RIDs (virt-smmu-fdt.c,
 * virt-smmu-iort.c): each root bus owns the bus numbers from its own up
 * to the next root bus's (pcie.0 from 0, the last one up to the end of
 * the ECAM), whatever the firmware assigns below it; the SMMU is the one
 * QEMU's DMA path finds (pci_device_get_iommu_bus_devfn()): the root
 * bus's own, else that of the bus its expander sits on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/boards.h"
#include "hw/qdev-core.h"
#include "hw/platform-bus.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pci_host.h"
#include "hw/pci/pcie_host.h"
#include "hw/arm/smmu-common.h"
#include "hw/arm/smmuv3.h"
#include "hw/arm/virt.h"
#include "vnest/virt-smmu.h"
#include "virt-smmu-internal.h"

void vnest_virt_smmu_class_init(MachineClass *mc)
{
    machine_class_allow_dynamic_sysbus_dev(mc, TYPE_ARM_SMMUV3);
}

/* ---- plug ---- */

/* Where the platform bus put @sbdev's registers; -1: not on it. */
static hwaddr virt_smmu_pbus_base(VirtMachineState *vms, SysBusDevice *sbdev)
{
    PlatformBusDevice *pbus = PLATFORM_BUS_DEVICE(vms->platform_bus_dev);
    hwaddr addr = platform_bus_get_mmio_addr(pbus, sbdev, 0);

    return addr == -1 ? -1 : vms->memmap[VIRT_PLATFORM_BUS].base + addr;
}

static void virt_smmu_get_base(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    VirtMachineState *vms = VIRT_MACHINE(qdev_get_machine());
    uint64_t value = virt_smmu_pbus_base(vms, SYS_BUS_DEVICE(obj));

    visit_type_uint64(v, name, &value, errp);
}

/* A device on @bus whose DMA address space is already chosen, or NULL. */
static PCIDevice *virt_smmu_dev_before(PCIBus *bus)
{
    int devfn;

    for (devfn = 0; devfn < ARRAY_SIZE(bus->devices); devfn++) {
        PCIDevice *pdev = bus->devices[devfn];

        /* Host bridges (gpex-root, pxb-pcie) do no DMA of their own. */
        if (pdev && pci_get_word(pdev->config + PCI_CLASS_DEVICE) !=
                    PCI_CLASS_BRIDGE_HOST) {
            return pdev;
        }
    }
    return NULL;
}

static bool virt_smmu_check_bus(VirtMachineState *vms, PCIBus *bus,
                                Error **errp)
{
    const char *name = BUS(bus)->name;
    PCIDevice *pdev;

    if (!pci_bus_is_root(bus) || !pci_bus_is_express(bus)) {
        error_setg(errp, "arm-smmuv3: primary-bus '%s' is not a PCIe root "
                   "bus: give pcie.0 or the id of a pxb-pcie", name);
        return false;
    }
    if (bus == vms->bus && vms->iommu == VIRT_IOMMU_SMMUV3) {
        error_setg(errp, "arm-smmuv3: -M virt,iommu=smmuv3 has an SMMUv3 "
                   "on %s already: drop iommu=smmuv3 or give this one "
                   "another primary-bus", name);
        return false;
    }
    if (bus->iommu_ops) {
        SMMUState *other = (SMMUState *)object_dynamic_cast(
            OBJECT(bus->iommu_opaque), TYPE_ARM_SMMU);

        error_setg(errp, "arm-smmuv3: %s is translated by %s already: one "
                   "IOMMU per PCIe root bus", name,
                   other && DEVICE(other)->id ? DEVICE(other)->id :
                   "another IOMMU");
        return false;
    }
    if (vms->iommu == VIRT_IOMMU_VIRTIO) {
        error_setg(errp, "arm-smmuv3: virt cannot have virtio-iommu and "
                   "arm-smmuv3 together");
        return false;
    }
    if (pci_bus_bypass_iommu(bus)) {
        error_setg(errp, "arm-smmuv3: %s bypasses IOMMUs (bypass_iommu, or "
                   "virt's default-bus-bypass-iommu)", name);
        return false;
    }
    pdev = virt_smmu_dev_before(bus);
    if (pdev) {
        error_setg(errp, "arm-smmuv3: %s has device '%s' already: put "
                   "-device arm-smmuv3 before the devices on its bus",
                   name, DEVICE(pdev)->id ? DEVICE(pdev)->id : pdev->name);
        return false;
    }
    return true;
}

bool vnest_virt_smmu_pre_plug(VirtMachineState *vms, DeviceState *dev,
                              Error **errp)
{
    SMMUState *bs = ARM_SMMU(dev);

    if (!phase_check(PHASE_MACHINE_INITIALIZED)) {
        return true;            /* virt's own, made by iommu=smmuv3 */
    }
    if (phase_check(PHASE_MACHINE_READY)) {
        error_setg(errp, "arm-smmuv3 cannot be hot-plugged: give it with "
                   "-device at start-up");
        return false;
    }
    if (!bs->primary_bus) {
        error_setg(errp, "arm-smmuv3: primary-bus is missing: name the PCIe "
                   "root bus it translates (pcie.0, or the id of a "
                   "pxb-pcie)");
        return false;
    }
    if (!virt_smmu_check_bus(vms, bs->primary_bus, errp)) {
        return false;
    }
    object_property_add(OBJECT(dev), "x-virt-base", "uint64",
                        virt_smmu_get_base, NULL, NULL, NULL);
    object_property_set_description(OBJECT(dev), "x-virt-base",
        "guest physical address of its registers (platform bus)");
    return true;
}

/* ---- which SMMU translates which RIDs ---- */

static int virt_smmu_collect(Object *obj, void *opaque)
{
    GPtrArray *found = opaque;

    if (object_dynamic_cast(obj, TYPE_ARM_SMMUV3) && DEVICE(obj)->realized) {
        g_ptr_array_add(found, obj);
    }
    return 0;
}

static void virt_smmu_add(VirtMachineState *vms, VirtSmmuTopo *t,
                          SMMUv3State *s)
{
    PlatformBusDevice *pbus = PLATFORM_BUS_DEVICE(vms->platform_bus_dev);
    SysBusDevice *sbdev = SYS_BUS_DEVICE(s);
    VirtSmmu v = { .s = s };
    int i;

    v.base = virt_smmu_pbus_base(vms, sbdev);
    v.builtin = v.base == -1;
    for (i = 0; i < VIRT_SMMU_NIRQ; i++) {
        v.spi[i] = v.builtin ? vms->irqmap[VIRT_SMMU] + i :
                   vms->irqmap[VIRT_PLATFORM_BUS] +
                   platform_bus_get_irqn(pbus, sbdev, i);
    }
    if (v.builtin) {
        v.base = vms->memmap[VIRT_SMMU].base;
        v.phandle = vms->iommu_phandle;
    }
    g_array_append_val(t->smmus, v);
}

static gint virt_smmu_cmp(gconstpointer a, gconstpointer b)
{
    const VirtSmmu *x = a, *y = b;

    return x->base < y->base ? -1 : x->base > y->base;
}

/* The index of the SMMU that translates root bus @root, or -1. */
static int virt_smmu_of_root(VirtSmmuTopo *t, PCIBus *root)
{
    PCIBus *bus = root;
    unsigned i;

    if (pci_bus_bypass_iommu(root)) {
        return -1;
    }
    while (!bus->iommu_ops && bus->parent_dev) {
        bus = pci_get_bus(bus->parent_dev);
    }
    for (i = 0; bus->iommu_ops && i < t->smmus->len; i++) {
        if (bus->iommu_opaque == g_array_index(t->smmus, VirtSmmu, i).s) {
            return i;
        }
    }
    return -1;
}

static gint virt_smmu_bus_cmp(gconstpointer a, gconstpointer b)
{
    int x = pci_bus_num(*(PCIBus **)a), y = pci_bus_num(*(PCIBus **)b);

    return x - y;
}

static void virt_smmu_ranges(VirtMachineState *vms, VirtSmmuTopo *t)
{
    int ecam = VIRT_ECAM_ID(vms->highmem_ecam);
    g_autoptr(GPtrArray) roots = g_ptr_array_new();
    PCIBus *child;
    unsigned i;

    t->rid_end = MIN(vms->memmap[ecam].size / PCIE_MMCFG_SIZE_MIN, 256) << 8;
    g_ptr_array_add(roots, vms->bus);
    QLIST_FOREACH(child, &vms->bus->child, sibling) {
        if (pci_bus_is_root(child)) {
            g_ptr_array_add(roots, child);     /* an expander's bus */
        }
    }
    g_ptr_array_sort(roots, virt_smmu_bus_cmp);
    for (i = 0; i < roots->len; i++) {
        PCIBus *bus = g_ptr_array_index(roots, i);
        uint32_t end = i + 1 < roots->len ?
            pci_bus_num(g_ptr_array_index(roots, i + 1)) << 8 : t->rid_end;
        VirtSmmuRange r = {
            .rid_base = pci_bus_num(bus) << 8,
            .smmu = virt_smmu_of_root(t, bus),
        };

        r.rid_count = end - r.rid_base;
        g_array_append_val(t->ranges, r);
    }
}

bool virt_smmu_topo(VirtMachineState *vms, VirtSmmuTopo *t)
{
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    bool user = false;
    unsigned i;

    if (!vms->bus || !vms->platform_bus_dev) {
        return false;
    }
    object_child_foreach_recursive(object_get_root(), virt_smmu_collect,
                                   found);
    t->smmus = g_array_new(false, true, sizeof(VirtSmmu));
    t->ranges = g_array_new(false, true, sizeof(VirtSmmuRange));
    for (i = 0; i < found->len; i++) {
        virt_smmu_add(vms, t, ARM_SMMUV3(g_ptr_array_index(found, i)));
        user |= !g_array_index(t->smmus, VirtSmmu, i).builtin;
    }
    if (!user) {
        virt_smmu_topo_free(t);
        return false;
    }
    g_array_sort(t->smmus, virt_smmu_cmp);
    virt_smmu_ranges(vms, t);
    return true;
}

void virt_smmu_topo_free(VirtSmmuTopo *t)
{
    g_array_free(t->smmus, true);
    g_array_free(t->ranges, true);
    t->smmus = t->ranges = NULL;
}
