/*
 * VNest: which vIOMMU nests the DMA of a PCI device
 *
 * A short list keyed by the opaque each vIOMMU set up its PCI bus with;
 * the lookup walks the PCI topology exactly as QEMU does when it picks a
 * device's DMA address space (pci_device_get_iommu_bus_devfn()), so a
 * device behind a PCIe-to-PCI bridge gets its alias's answer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "vnest/viommu-nest.h"
#include "trace.h"

typedef struct VNestViommu {
    void *opaque;
    const VNestViommuOps *ops;
} VNestViommu;

static GSList *viommus;

static VNestViommu *viommu_find(void *opaque)
{
    GSList *l;

    for (l = viommus; l; l = l->next) {
        VNestViommu *v = l->data;

        if (v->opaque == opaque) {
            return v;
        }
    }
    return NULL;
}

void vnest_viommu_register(void *iommu_opaque, const VNestViommuOps *ops)
{
    VNestViommu *v = viommu_find(iommu_opaque);

    trace_vnest_viommu_register(iommu_opaque);
    if (v) {
        v->ops = ops;
        return;
    }
    v = g_new0(VNestViommu, 1);
    v->opaque = iommu_opaque;
    v->ops = ops;
    viommus = g_slist_prepend(viommus, v);
}

void vnest_viommu_unregister(void *iommu_opaque)
{
    VNestViommu *v = viommu_find(iommu_opaque);

    trace_vnest_viommu_unregister(iommu_opaque);
    if (v) {
        viommus = g_slist_remove(viommus, v);
        g_free(v);
    }
}

uint32_t vnest_pci_hwpt_flags(PCIDevice *pdev)
{
    PCIBus *iommu_bus, *bus;
    VNestViommu *v;
    uint32_t flags = 0;
    int devfn;

    pci_device_get_iommu_bus_devfn(pdev, &iommu_bus, &bus, &devfn);
    v = iommu_bus ? viommu_find(iommu_bus->iommu_opaque) : NULL;
    if (v && v->ops->hwpt_flags) {
        flags = v->ops->hwpt_flags(v->opaque, bus, devfn);
    }
    trace_vnest_pci_hwpt_flags(pci_bus_num(pci_get_bus(pdev)),
                               PCI_SLOT(pdev->devfn), PCI_FUNC(pdev->devfn),
                               v ? v->opaque : NULL, flags);
    return flags;
}
