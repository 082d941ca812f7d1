/*
 * VNest arm-smmuv3 instances on virt: the devicetree
 *
 * Each instance created with -device gets an "arm,smmu-v3" node (the
 * binding's compatible, reg, interrupts and interrupt-names eventq, priq,
 * cmdq-sync, gerror, #iommu-cells = 1) at the root, as virt's own one.
 * The PCIe host bridge's iommu-map (the pci-iommu binding: rid-base,
 * iommu phandle, iommu-base, length) gets one entry for each root bus an
 * SMMU translates, StreamID = RID; the RIDs of a root bus no SMMU
 * translates match no entry, so the guest does not translate them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <libfdt.h>
#include "hw/arm/fdt.h"
#include "hw/arm/virt.h"
#include "system/device_tree.h"
#include "vnest/virt-smmu.h"
#include "virt-smmu-internal.h"

static void virt_smmu_fdt_node(void *fdt, VirtSmmu *v)
{
    static const char compat[] = "arm,smmu-v3";
    static const char irq_names[] = "eventq\0priq\0cmdq-sync\0gerror";
    g_autofree char *node = g_strdup_printf("/smmuv3@%" HWADDR_PRIx,
                                            v->base);
    uint32_t irqs[VIRT_SMMU_NIRQ * 3];
    int i;

    for (i = 0; i < VIRT_SMMU_NIRQ; i++) {
        irqs[3 * i] = cpu_to_be32(GIC_FDT_IRQ_TYPE_SPI);
        irqs[3 * i + 1] = cpu_to_be32(v->spi[i]);
        irqs[3 * i + 2] = cpu_to_be32(GIC_FDT_IRQ_FLAGS_EDGE_LO_HI);
    }
    v->phandle = qemu_fdt_alloc_phandle(fdt);
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, v->base,
                                 2, VIRT_SMMU_MMIO_SIZE);
    qemu_fdt_setprop(fdt, node, "interrupts", irqs, sizeof(irqs));
    qemu_fdt_setprop(fdt, node, "interrupt-names", irq_names,
                     sizeof(irq_names));
    qemu_fdt_setprop(fdt, node, "dma-coherent", NULL, 0);
    qemu_fdt_setprop_cell(fdt, node, "#iommu-cells", 1);
    qemu_fdt_setprop_cell(fdt, node, "phandle", v->phandle);
}

/* iommu-map: <rid-base phandle iommu-base length> per translated bus */
static void virt_smmu_fdt_iommu_map(void *fdt, const char *hb,
                                    VirtSmmuTopo *t)
{
    g_autofree uint32_t *map = g_new(uint32_t, 4 * t->ranges->len);
    unsigned i, n = 0;

    for (i = 0; i < t->ranges->len; i++) {
        VirtSmmuRange *r = &g_array_index(t->ranges, VirtSmmuRange, i);

        if (r->smmu < 0) {
            continue;
        }
        map[n++] = cpu_to_be32(r->rid_base);
        map[n++] = cpu_to_be32(g_array_index(t->smmus, VirtSmmu,
                                             r->smmu).phandle);
        map[n++] = cpu_to_be32(r->rid_base);
        map[n++] = cpu_to_be32(r->rid_count);
    }
    if (n) {
        qemu_fdt_setprop(fdt, hb, "iommu-map", map, n * sizeof(*map));
    } else {
        /* virt's own map, if any, named its SMMU for every RID */
        fdt_delprop(fdt, fdt_path_offset(fdt, hb), "iommu-map");
    }
}

void vnest_virt_smmu_fdt(VirtMachineState *vms)
{
    void *fdt = MACHINE(vms)->fdt;
    VirtSmmuTopo t;
    unsigned i;

    if (!fdt || !virt_smmu_topo(vms, &t)) {
        return;
    }
    for (i = 0; i < t.smmus->len; i++) {
        VirtSmmu *v = &g_array_index(t.smmus, VirtSmmu, i);

        if (!v->builtin) {
            virt_smmu_fdt_node(fdt, v);
        }
    }
    virt_smmu_fdt_iommu_map(fdt, vms->pciehb_nodename, &t);
    virt_smmu_topo_free(&t);
}
