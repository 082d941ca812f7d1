/*
 * VNest qtest: intel-iommu nesting of devices behind a PCIe-to-PCI bridge
 *
 * Requests from behind a PCIe-to-PCI bridge reach the VT-d with the
 * bridge's requester ID: its secondary bus, devfn 0 (PCIe-to-PCI/PCI-X
 * bridge spec 2.3). The guest's tables for that alias translate every
 * device behind the bridge, so two assigned devices there share one
 * binding. The test is the firmware (it numbers the bridge's buses and
 * opens its memory window) and the guest's IOMMU driver (vtd-guest.c).
 * An emulated device behind the same bridge as a nested one is refused:
 * nesting makes the alias's address space guest RAM, which it would
 * reach untranslated.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_regs.h"
#include "hw/i386/intel_iommu_internal.h"
#include "vtd-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"

#define VTD_BASE        0xfed90000ULL
#define IOMMU_PATH      "/machine/peripheral/iommu0"
#define BRIDGE_DEVFN    QPCI_DEVFN(7, 0)
#define SECBUS          1
/* libqos config accesses take bus << 8 | devfn where they take a devfn */
#define BEHIND(slot)    ((SECBUS << 8) | QPCI_DEVFN(slot, 0))
#define ALIAS_SID       (SECBUS << 8)   /* secondary bus, devfn 0 */
#define WINDOW          (16 * MiB)
#define NDEV            4
#define ROOT_DEV        2               /* assigned, on the root bus */
#define EMU_DEV         3               /* emulated, on the root bus */
#define LEN             256
#define IOVA            0x40000000ULL
#define PAGE            4096ULL
#define REFUSED         DMADEV_REFUSED

typedef struct Bridged {
    QOSState *qs;
    QTestState *qts;
    VtdGuest *g;
    QPCIDevice *bridge;
    DmaTestDev dev[NDEV];
} Bridged;

/*
 * What firmware would do: number the bridge's buses, give it a memory
 * window and open the devices behind it inside that window.
 */
static void bridge_setup(Bridged *t)
{
    QPCIBus *bus = t->qs->pcibus;
    uint64_t base;

    t->bridge = qpci_device_find(bus, BRIDGE_DEVFN);
    g_assert(t->bridge);
    qpci_config_writeb(t->bridge, PCI_PRIMARY_BUS, 0);
    qpci_config_writeb(t->bridge, PCI_SECONDARY_BUS, SECBUS);
    qpci_config_writeb(t->bridge, PCI_SUBORDINATE_BUS, SECBUS);

    /* A 1 MiB-aligned window, carved out of libqos's allocator. */
    base = QEMU_ALIGN_UP(bus->mmio_alloc_ptr, MiB);
    g_assert(base + WINDOW <= bus->mmio_limit);
    qpci_config_writew(t->bridge, PCI_MEMORY_BASE, base >> 16);
    qpci_config_writew(t->bridge, PCI_MEMORY_LIMIT,
                       (base + WINDOW - 1) >> 16);
    /* No prefetchable or I/O window: base above limit. */
    qpci_config_writew(t->bridge, PCI_PREF_MEMORY_BASE, 0xfff0);
    qpci_config_writew(t->bridge, PCI_PREF_MEMORY_LIMIT, 0);
    qpci_config_writeb(t->bridge, PCI_IO_BASE, 0xf0);
    qpci_config_writeb(t->bridge, PCI_IO_LIMIT, 0);
    qpci_device_enable(t->bridge);

    bus->mmio_alloc_ptr = base;
    dmadev_open(&t->dev[0], t->qts, bus, BEHIND(1));
    dmadev_open(&t->dev[1], t->qts, bus, BEHIND(2));
    g_assert(bus->mmio_alloc_ptr <= base + WINDOW);
    bus->mmio_alloc_ptr = base + WINDOW;
}

static void bridged_init(Bridged *t)
{
    t->qs = qtest_pc_boot("-M q35 -m 128M -vga none -nic none "
                          "-device intel-iommu,id=iommu0,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on "
                          "-object iommufd,id=emu0,emulated=on,host-iommu=vtd "
                          "-device pcie-pci-bridge,id=br0,addr=07.0 "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=dma0 "
                          "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                          "device=dma1 "
                          "-object vnest-sim-assign,id=sa2,iommufd=emu0,"
                          "device=dma2 "
                          "-device vnest-dma-test,id=dma0,bus=br0,addr=01.0 "
                          "-device vnest-dma-test,id=dma1,bus=br0,addr=02.0 "
                          /* the same devfn as dma0, on the root bus */
                          "-device vnest-dma-test,id=dma2,addr=01.0 "
                          "-device vnest-dma-test,id=dma3,addr=02.0");
    t->qts = t->qs->qts;
    bridge_setup(t);
    dmadev_open(&t->dev[ROOT_DEV], t->qts, t->qs->pcibus, QPCI_DEVFN(1, 0));
    dmadev_open(&t->dev[EMU_DEV], t->qts, t->qs->pcibus, QPCI_DEVFN(2, 0));
    t->g = vtd_guest_new(t->qts, &t->qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(t->g);
    vtd_guest_enable(t->g);
}

static void bridged_fini(Bridged *t)
{
    int i;

    vtd_guest_free(t->g);
    for (i = 0; i < NDEV; i++) {
        dmadev_close(&t->dev[i]);
    }
    g_free(t->bridge);
    qtest_shutdown(t->qs);
}

static uint64_t nstat(Bridged *t, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-nest-%s", name);

    return vnest_qom_get_uint(t->qts, IOMMU_PATH, prop);
}

static void dma_lands(Bridged *t, int i, uint64_t iova, uint64_t gpa,
                      uint8_t seed)
{
    dmadev_assert_lands(&t->dev[i], DMADEV_NO_PASID, iova, gpa, LEN, seed);
}

static void dma_refused(Bridged *t, int i, uint64_t iova)
{
    dmadev_assert_refused(&t->dev[i], DMADEV_NO_PASID, iova, LEN);
}

static VtdDomain *bind_alias(Bridged *t, uint16_t did, uint64_t gpa)
{
    VtdDomain *d = vtd_guest_attach_pasid(t->g, ALIAS_SID, 0,
                                          VTD_PGTT_FIRST_STAGE, did);

    vtd_domain_map(d, IOVA, gpa, PAGE, VTD_PROT_RW);
    vtd_guest_inv_pasid_cache(t->g, did, 0);
    return d;
}

/*
 * The alias's entries translate both devices behind the bridge: one
 * nested HWPT, one host invalidation call; DMA walked by the host.
 */
static void test_alias_binding(void)
{
    Bridged t;
    uint64_t gpa, calls;

    bridged_init(&t);
    dma_refused(&t, 0, IOVA);
    dma_refused(&t, 1, IOVA);

    gpa = guest_alloc(&t.qs->alloc, PAGE);
    bind_alias(&t, 1, gpa);
    g_assert_cmpuint(nstat(&t, "hwpt_allocs"), ==, 1);
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 1);
    dma_lands(&t, 0, IOVA, gpa, 0x21);
    dma_lands(&t, 1, IOVA, gpa, 0x22);
    dma_refused(&t, 0, IOVA + PAGE);
    /* The root-bus devices are not behind the alias. */
    dma_refused(&t, ROOT_DEV, IOVA);
    dma_refused(&t, EMU_DEV, IOVA);

    calls = nstat(&t, "inv_calls");
    vtd_guest_inv_pasid(t.g, 1, 0);
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + 1);

    /* Cleared: both devices lose it at once. */
    vtd_guest_clear_pasid(t.g, ALIAS_SID, 0);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    g_assert_cmpuint(nstat(&t, "hwpts"), ==, 0);
    dma_refused(&t, 0, IOVA);
    dma_refused(&t, 1, IOVA);
    bridged_fini(&t);
}

/*
 * A device-selective context-cache invalidation names the alias, with
 * the bus number the guest gave the bridge after the devices were plugged.
 */
static void test_context_invalidate(void)
{
    Bridged t;
    uint64_t gpa0, gpa1;
    VtdDomain *d;

    bridged_init(&t);
    gpa0 = guest_alloc(&t.qs->alloc, PAGE);
    gpa1 = guest_alloc(&t.qs->alloc, PAGE);
    bind_alias(&t, 1, gpa0);
    dma_lands(&t, 0, IOVA, gpa0, 0x23);

    /* Another domain for the alias, announced by a context invalidation */
    d = vtd_guest_attach_pasid(t.g, ALIAS_SID, 0, VTD_PGTT_FIRST_STAGE, 2);
    vtd_domain_map(d, IOVA, gpa1, PAGE, VTD_PROT_RW);
    vtd_guest_qi_queue(t.g, VTD_INV_DESC_CC | VTD_INV_DESC_CC_DEVICE |
                       (2ULL << 16) | ((uint64_t)ALIAS_SID << 32), 0);
    g_assert_true(vtd_guest_qi_sync(t.g));
    dma_lands(&t, 0, IOVA, gpa1, 0x24);
    dma_lands(&t, 1, IOVA, gpa1, 0x25);
    bridged_fini(&t);
}

/* A bad entry of the alias: the fault names the alias's requester ID. */
static void test_fault_sid(void)
{
    Bridged t;
    VtdFault f;
    uint64_t pe[8] = { 0 };

    bridged_init(&t);
    /* PGTT second stage: not offered with x-flts=on */
    pe[0] = VTD_PASID_ENTRY_P | (2ULL << 6) |
            guest_alloc(&t.qs->alloc, PAGE);
    pe[1] = 1;
    vtd_guest_pasid_entry_raw(t.g, ALIAS_SID, 0, pe);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    g_assert_true(vtd_guest_take_fault(t.g, &f));
    g_assert_cmphex(f.sid, ==, ALIAS_SID);
    g_assert_cmphex(f.reason, ==, VTD_FR_PASID_TABLE_ENTRY_INV);
    bridged_fini(&t);
}

/*
 * An emulated device behind the bridge of a nested one would reach the
 * alias's address space, guest RAM once nested, untranslated: refused.
 */
static void test_emulated_behind_alias(void)
{
    if (g_test_subprocess()) {
        QTestState *qts = qtest_init("-M q35 -m 128M -vga none "
                          "-device intel-iommu,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on "
                          "-object iommufd,id=emu0,emulated=on,"
                          "host-iommu=vtd "
                          "-device pcie-pci-bridge,id=br0,addr=07.0 "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=dma0 "
                          "-device vnest-dma-test,id=dma1,bus=br0,addr=01.0 "
                          "-device vnest-dma-test,id=dma0,bus=br0,"
                          "addr=02.0");
        qtest_quit(qts);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*dma0 shares the requester ID of br0 with "
                              "the emulated device dma1*");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vtd-nest-bridge/alias-binding", test_alias_binding);
    qtest_add_func("/vtd-nest-bridge/context-invalidate",
                   test_context_invalidate);
    qtest_add_func("/vtd-nest-bridge/fault-sid", test_fault_sid);
    qtest_add_func("/vtd-nest-bridge/emulated-behind-alias",
                   test_emulated_behind_alias);
    return g_test_run();
}
