/*
 * VNest arm-smmuv3 instances on virt: ACPI IORT
 *
 * Written from "IO Remapping Table, Platform Design Document" (Arm DEN
 * 0049, revision E.b layout: table revision 3, SMMUv3 node revision 4,
 * root complex node revision 3), for the layout virt's own table has:
 *   ITS group (the GIC ITS, MADT translation ID 0),
 *   an SMMUv3 node per instance (virt's own included), its StreamIDs
 *   mapped one to one to ITS DeviceIDs,
 *   the root complex (PCI segment 0): one ID mapping per root bus, to the
 *   SMMU that translates it (StreamID = RID), or straight to the ITS
 *   (DeviceID = RID) for a bus no SMMU translates and for RIDs beyond the
 *   ECAM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
#include "hw/arm/virt.h"
#include "hw/intc/arm_gic_common.h"
#include "vnest/virt-smmu.h"
#include "virt-smmu-internal.h"

#define IORT_NODES_OFFSET   48      /* header, node count, offset, reserved */
#define IORT_NODE_ITS       0
#define IORT_NODE_RC        2
#define IORT_NODE_SMMUV3    4
#define IORT_NODE_HDR_SIZE  16
#define IORT_ITS_SIZE       (IORT_NODE_HDR_SIZE + 4 + 4)   /* one ITS */
#define IORT_SMMUV3_SIZE    68
#define IORT_RC_SIZE        36
#define IORT_ID_MAP_SIZE    20
#define IORT_ALL_IDS        0x10000

/* Node header: type, length, revision, identifier, ID mappings. */
static void iort_node_hdr(GArray *table, uint8_t type, uint16_t len,
                          uint8_t rev, uint32_t id, uint32_t nmaps,
                          uint32_t maps_offset)
{
    build_append_int_noprefix(table, type, 1);
    build_append_int_noprefix(table, len, 2);
    build_append_int_noprefix(table, rev, 1);
    build_append_int_noprefix(table, id, 4);
    build_append_int_noprefix(table, nmaps, 4);
    build_append_int_noprefix(table, nmaps ? maps_offset : 0, 4);
}

/* ID mapping: @count IDs from @in to @out of node @ref, one to one. */
static void iort_id_map(GArray *table, uint32_t in, uint32_t count,
                        uint32_t out, uint32_t ref)
{
    build_append_int_noprefix(table, in, 4);
    build_append_int_noprefix(table, count - 1, 4);    /* "minus one" */
    build_append_int_noprefix(table, out, 4);
    build_append_int_noprefix(table, ref, 4);
    build_append_int_noprefix(table, 0, 4);            /* not single */
}

static void iort_its(GArray *table, uint32_t id)
{
    iort_node_hdr(table, IORT_NODE_ITS, IORT_ITS_SIZE, 1, id, 0, 0);
    build_append_int_noprefix(table, 1, 4);     /* number of ITSs */
    build_append_int_noprefix(table, 0, 4);     /* MADT translation ID */
}

static void iort_smmuv3(GArray *table, const VirtSmmu *v, uint32_t id)
{
    iort_node_hdr(table, IORT_NODE_SMMUV3,
                  IORT_SMMUV3_SIZE + IORT_ID_MAP_SIZE, 4, id, 1,
                  IORT_SMMUV3_SIZE);
    build_append_int_noprefix(table, v->base, 8);
    build_append_int_noprefix(table, 1, 4);     /* flags: COHACC override */
    build_append_int_noprefix(table, 0, 4);     /* reserved */
    build_append_int_noprefix(table, 0, 8);     /* VATOS address */
    build_append_int_noprefix(table, 0, 4);     /* model: generic */
    /* GSIVs: event, PRI, GERR, sync (sysbus IRQs 0, 1, 3, 2) */
    build_append_int_noprefix(table, v->spi[0] + GIC_INTERNAL, 4);
    build_append_int_noprefix(table, v->spi[1] + GIC_INTERNAL, 4);
    build_append_int_noprefix(table, v->spi[3] + GIC_INTERNAL, 4);
    build_append_int_noprefix(table, v->spi[2] + GIC_INTERNAL, 4);
    build_append_int_noprefix(table, 0, 4);     /* proximity domain */
    build_append_int_noprefix(table, 0, 4);     /* DeviceID map index */
    iort_id_map(table, 0, IORT_ALL_IDS, 0, IORT_NODES_OFFSET);
}

static uint32_t iort_rc_nmaps(const VirtSmmuTopo *t)
{
    return t->ranges->len + (t->rid_end < IORT_ALL_IDS);
}

static void iort_rc(GArray *table, const VirtSmmuTopo *t, uint32_t id)
{
    uint32_t nmaps = iort_rc_nmaps(t);
    unsigned i;

    iort_node_hdr(table, IORT_NODE_RC,
                  IORT_RC_SIZE + nmaps * IORT_ID_MAP_SIZE, 3, id, nmaps,
                  IORT_RC_SIZE);
    build_append_int_noprefix(table, 1, 4);     /* CCA: fully coherent */
    build_append_int_noprefix(table, 0, 1);     /* allocation hints */
    build_append_int_noprefix(table, 0, 2);     /* reserved */
    build_append_int_noprefix(table, 3, 1);     /* flags: CPM, DACS */
    build_append_int_noprefix(table, 0, 4);     /* ATS attribute */
    build_append_int_noprefix(table, 0, 4);     /* PCI segment */
    build_append_int_noprefix(table, 64, 1);    /* address size limit */
    build_append_int_noprefix(table, 0, 3);     /* reserved */
    for (i = 0; i < t->ranges->len; i++) {
        const VirtSmmuRange *r = &g_array_index(t->ranges, VirtSmmuRange,
                                                i);
        uint32_t ref = r->smmu < 0 ? IORT_NODES_OFFSET :
            g_array_index(t->smmus, VirtSmmu, r->smmu).iort_offset;

        iort_id_map(table, r->rid_base, r->rid_count, r->rid_base, ref);
    }
    if (t->rid_end < IORT_ALL_IDS) {
        iort_id_map(table, t->rid_end, IORT_ALL_IDS - t->rid_end,
                    t->rid_end, IORT_NODES_OFFSET);
    }
}

bool vnest_virt_smmu_build_iort(GArray *table_data, BIOSLinker *linker,
                                VirtMachineState *vms)
{
    AcpiTable table = { .sig = "IORT", .rev = 3, .oem_id = vms->oem_id,
                        .oem_table_id = vms->oem_table_id };
    VirtSmmuTopo t;
    uint32_t id = 0;
    unsigned i;

    if (!virt_smmu_topo(vms, &t)) {
        return false;
    }
    acpi_table_begin(&table, table_data);
    build_append_int_noprefix(table_data, t.smmus->len + 2, 4); /* nodes */
    build_append_int_noprefix(table_data, IORT_NODES_OFFSET, 4);
    build_append_int_noprefix(table_data, 0, 4);                /* reserved */
    iort_its(table_data, id++);
    for (i = 0; i < t.smmus->len; i++) {
        VirtSmmu *v = &g_array_index(t.smmus, VirtSmmu, i);

        v->iort_offset = table_data->len - table.table_offset;
        iort_smmuv3(table_data, v, id++);
    }
    iort_rc(table_data, &t, id++);
    acpi_table_end(linker, &table);
    virt_smmu_topo_free(&t);
    return true;
}
