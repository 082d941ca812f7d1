/*
 * VNest qtest: simulated assignment through the emulated iommufd
 *
 * An edu device assigned with vnest-sim-assign through
 * "-object iommufd,emulated=on": bound and attached to a paging HWPT like
 * a VFIO device, its IOAS filled from guest RAM by a memory listener. Its
 * DMA must land where the IOAS maps it (guest RAM at its guest address),
 * and be refused where the IOAS has nothing (a hole in the guest physical
 * map, above RAM) or only a read-only mapping (the BIOS ROM), the refusal
 * counted by the emulated host IOMMU. Behind a vIOMMU that does not nest,
 * the IOAS follows the guest's mappings as the vIOMMU notifies them, the
 * default HWPT has no nesting flags, and the vIOMMU gets the device's host
 * IOMMU device (and checks its address width) as vfio-pci's.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "hw/i386/intel_iommu.h"
#include "edu-dma.h"
#include "vtd-guest.h"
#include "vnest-qtest.h"

#define EDU_SLOT        4
#define EDU_DEVFN       QPCI_DEVFN(EDU_SLOT, 0)
#define LEN             512
#define HOLE_GPA        0x10000000ULL   /* above the 128 MiB of RAM */
#define BIOS_GPA        0xfffc0000ULL   /* isa-bios ROM below 4 GiB */

typedef struct Fixture {
    QOSState *qs;
    EduDev edu;
} Fixture;

/* @host: more options of the emulated iommufd object, from a comma */
static void fixture_init_host(Fixture *f, const char *extra, const char *host)
{
    /* A vIOMMU (extra) must be created before the devices behind it. */
    f->qs = qtest_pc_boot("-M q35 -m 128M -vga none %s "
                          "-object iommufd,id=emu0,emulated=on%s "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=edu0 "
                          "-device edu,id=edu0,addr=%02x.0,"
                          "dma_mask=0xffffffffffffffff",
                          extra ? extra : "", host, EDU_SLOT);
    edu_open(&f->edu, f->qs->qts, f->qs->pcibus, EDU_DEVFN);
}

static void fixture_init(Fixture *f, const char *extra)
{
    fixture_init_host(f, extra, "");
}

static void fixture_fini(Fixture *f)
{
    edu_close(&f->edu);
    qtest_shutdown(f->qs);
}

static uint64_t qom_get_uint(Fixture *f, const char *path, const char *prop)
{
    return vnest_qom_get_uint(f->qs->qts, path, prop);
}

static uint64_t faults(Fixture *f)
{
    return qom_get_uint(f, "/objects/sa0", "dma-faults");
}

static void fill(Fixture *f, uint64_t gpa, uint8_t seed)
{
    uint8_t buf[LEN];
    int i;

    for (i = 0; i < LEN; i++) {
        buf[i] = seed ^ (i * 13);
    }
    qtest_memwrite(f->qs->qts, gpa, buf, LEN);
}

/* The device is bound and attached like a VFIO device. */
static void test_bound(void)
{
    Fixture f;

    fixture_init(&f, NULL);
    g_assert_cmpuint(qom_get_uint(&f, "/objects/sa0", "dev-id"), !=, 0);
    g_assert_cmpuint(qom_get_uint(&f, "/objects/sa0", "ioas-id"), !=, 0);
    g_assert_cmpuint(qom_get_uint(&f, "/objects/sa0", "hwpt-id"), !=, 0);
    /* No vIOMMU asks for nesting: a plain paging HWPT, as before. */
    g_assert_cmpuint(qom_get_uint(&f, "/objects/sa0", "hwpt-flags"), ==, 0);
    g_assert_cmpuint(faults(&f), ==, 0);
    fixture_fini(&f);
}

/*
 * The device hands its host IOMMU device to the vIOMMU as vfio-pci does:
 * intel-iommu checks the host's address width against its own aw-bits
 * (48, the emulated hosts' 48 or 64) and would refuse the device, ending
 * QEMU, if the host side reported less. A vIOMMU that does not nest asks
 * for no HWPT flags, and DMA works as without it.
 */
static void test_viommu_takes_hiod(gconstpointer data)
{
    const char *host = data;
    Fixture f;
    uint64_t src, dst;
    uint8_t want[LEN], got[LEN];

    fixture_init_host(&f, "-device intel-iommu,x-scalable-mode=on,"
                      "aw-bits=48", host);
    g_assert_cmpuint(qom_get_uint(&f, "/objects/sa0", "hwpt-flags"), ==, 0);
    src = guest_alloc(&f.qs->alloc, LEN);
    dst = guest_alloc(&f.qs->alloc, LEN);
    fill(&f, src, 0x3c);
    qtest_memset(f.qs->qts, dst, 0, LEN);
    edu_dma_from_bus(&f.edu, src, LEN);
    edu_dma_to_bus(&f.edu, dst, LEN);
    qtest_memread(f.qs->qts, src, want, LEN);
    qtest_memread(f.qs->qts, dst, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);
    g_assert_cmpuint(faults(&f), ==, 0);
    fixture_fini(&f);
}

/* The emulated host's state does not migrate: migration is refused. */
static void test_migration_blocked(void)
{
    Fixture f;
    QDict *rsp;

    fixture_init(&f, NULL);
    rsp = qtest_qmp(f.qs->qts, "{ 'execute': 'migrate', 'arguments': "
                    "{ 'uri': 'exec:cat >/dev/null' } }");
    g_assert(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"), "does not migrate"));
    qobject_unref(rsp);
    fixture_fini(&f);
}

/* DMA through the paging HWPT lands where the IOAS maps it. */
static void test_dma_lands(void)
{
    Fixture f;
    uint64_t src, dst;
    uint8_t want[LEN], got[LEN];

    fixture_init(&f, NULL);
    src = guest_alloc(&f.qs->alloc, LEN);
    dst = guest_alloc(&f.qs->alloc, LEN);
    fill(&f, src, 0x5d);
    qtest_memset(f.qs->qts, dst, 0, LEN);

    edu_dma_from_bus(&f.edu, src, LEN);
    edu_dma_to_bus(&f.edu, dst, LEN);

    qtest_memread(f.qs->qts, src, want, LEN);
    qtest_memread(f.qs->qts, dst, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);
    g_assert_cmpuint(faults(&f), ==, 0);
    fixture_fini(&f);
}

/* Where the IOAS maps nothing, the emulated IOMMU refuses the DMA. */
static void test_dma_refused_unmapped(void)
{
    Fixture f;
    uint64_t src;

    fixture_init(&f, NULL);
    src = guest_alloc(&f.qs->alloc, LEN);
    fill(&f, src, 0x11);
    edu_dma_from_bus(&f.edu, src, LEN);
    edu_dma_to_bus(&f.edu, HOLE_GPA, LEN);
    g_assert_cmpuint(faults(&f), >=, 1);
    fixture_fini(&f);
}

/* A read-only mapping (ROM) can be read by the device, not written. */
static void test_dma_readonly(void)
{
    Fixture f;
    uint64_t src, dst;
    uint8_t before[LEN], after[LEN], got[LEN];

    fixture_init(&f, NULL);
    src = guest_alloc(&f.qs->alloc, LEN);
    dst = guest_alloc(&f.qs->alloc, LEN);
    fill(&f, src, 0x7e);
    qtest_memread(f.qs->qts, BIOS_GPA, before, LEN);

    edu_dma_from_bus(&f.edu, src, LEN);
    edu_dma_to_bus(&f.edu, BIOS_GPA, LEN);
    g_assert_cmpuint(faults(&f), >=, 1);
    qtest_memread(f.qs->qts, BIOS_GPA, after, LEN);
    g_assert_cmpmem(after, LEN, before, LEN);

    /* Reading the ROM through the IOMMU is allowed. */
    edu_dma_from_bus(&f.edu, BIOS_GPA, LEN);
    edu_dma_to_bus(&f.edu, dst, LEN);
    qtest_memread(f.qs->qts, dst, got, LEN);
    g_assert_cmpmem(got, LEN, before, LEN);
    fixture_fini(&f);
}

/*
 * Behind intel-iommu that does not nest (second stage, caching mode), the
 * assigned device's IOAS follows the guest's mappings: what is mapped
 * when translation is enabled, then each map and unmap the guest
 * invalidates. The emulated host translates with that IOAS only.
 */
#define SHADOW_DID      3
#define IOVA_SRC        0x100000ULL
#define IOVA_DST        0x200000ULL
#define IOVA_LATE       0x300000ULL

static void shadow_dma(Fixture *f, uint64_t iova_dst, uint64_t src_gpa)
{
    fill(f, src_gpa, 0x42);
    edu_dma_from_bus(&f->edu, IOVA_SRC, LEN);
    edu_dma_to_bus(&f->edu, iova_dst, LEN);
}

static void test_shadow_viommu(void)
{
    Fixture f;
    VtdGuest *vtd;
    VtdDomain *dom;
    uint64_t src, dst, late, n;
    uint8_t want[LEN], got[LEN], zero[LEN] = { 0 };

    fixture_init(&f, "-device intel-iommu,x-scalable-mode=on,"
                 "caching-mode=on");
    vtd = vtd_guest_new(f.qs->qts, &f.qs->alloc, Q35_HOST_BRIDGE_IOMMU_ADDR);
    src = guest_alloc(&f.qs->alloc, 4096);
    dst = guest_alloc(&f.qs->alloc, 4096);
    late = guest_alloc(&f.qs->alloc, 4096);
    qtest_memset(f.qs->qts, dst, 0, 4096);
    qtest_memset(f.qs->qts, late, 0, 4096);
    dom = vtd_guest_attach(vtd, EDU_DEVFN, VTD_PGTT_SECOND_STAGE, SHADOW_DID);
    vtd_domain_map(dom, IOVA_SRC, src, 4096, VTD_PROT_READ);
    vtd_domain_map(dom, IOVA_DST, dst, 4096, VTD_PROT_RW);
    vtd_guest_qi_enable(vtd);
    vtd_guest_enable(vtd);
    g_assert_cmpuint(qom_get_uint(&f, "/objects/sa0", "hwpt-flags"), ==, 0);

    /* Enabling translation brought the guest's mappings into the IOAS. */
    shadow_dma(&f, IOVA_DST, src);
    qtest_memread(f.qs->qts, src, want, LEN);
    qtest_memread(f.qs->qts, dst, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);
    g_assert_cmpuint(faults(&f), ==, 0);

    /* Not yet invalidated: the IOAS does not have it, DMA is refused. */
    vtd_domain_map(dom, IOVA_LATE, late, 4096, VTD_PROT_RW);
    n = faults(&f);
    shadow_dma(&f, IOVA_LATE, src);
    g_assert_cmpuint(faults(&f), >, n);
    qtest_memread(f.qs->qts, late, got, LEN);
    g_assert_cmpmem(got, LEN, zero, LEN);
    /* The guest's invalidation maps it. */
    vtd_guest_inv_pasid(vtd, SHADOW_DID, 0);
    n = faults(&f);
    shadow_dma(&f, IOVA_LATE, src);
    qtest_memread(f.qs->qts, late, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);
    g_assert_cmpuint(faults(&f), ==, n);

    /* Unmapped and invalidated: gone from the IOAS. */
    vtd_domain_unmap(dom, IOVA_LATE, 4096);
    vtd_guest_inv_pasid(vtd, SHADOW_DID, 0);
    qtest_memset(f.qs->qts, late, 0, 4096);
    shadow_dma(&f, IOVA_LATE, src);
    g_assert_cmpuint(faults(&f), >, n);
    qtest_memread(f.qs->qts, late, got, LEN);
    g_assert_cmpmem(got, LEN, zero, LEN);

    /* A read-only guest mapping is read-only in the IOAS too. */
    n = faults(&f);
    edu_dma_to_bus(&f.edu, IOVA_SRC, LEN);
    g_assert_cmpuint(faults(&f), >, n);
    qtest_memread(f.qs->qts, src, got, LEN);
    g_assert_cmpmem(got, LEN, want, LEN);

    vtd_guest_free(vtd);
    fixture_fini(&f);
}

/*
 * Two devices on one emulated iommufd share what two vfio-pci devices in
 * one container share: the IOAS of their address space and, the domain
 * being compatible, its HWPT. Behind a shadowing vIOMMU each device has
 * its own address space, so its own IOAS.
 */
static void test_shared_ioas(gconstpointer data)
{
    bool viommu = GPOINTER_TO_INT(data);
    Fixture f = { 0 };
    uint64_t ioas0, ioas1, hwpt0, hwpt1;

    f.qs = qtest_pc_boot("-M q35 -m 128M -vga none %s "
                         "-object iommufd,id=emu0,emulated=on "
                         "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                         "device=edu0 "
                         "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                         "device=edu1 "
                         "-device edu,id=edu0,addr=04.0 "
                         "-device edu,id=edu1,addr=05.0",
                         viommu ? "-device intel-iommu,caching-mode=on" : "");
    ioas0 = qom_get_uint(&f, "/objects/sa0", "ioas-id");
    ioas1 = qom_get_uint(&f, "/objects/sa1", "ioas-id");
    hwpt0 = qom_get_uint(&f, "/objects/sa0", "hwpt-id");
    hwpt1 = qom_get_uint(&f, "/objects/sa1", "hwpt-id");
    g_assert_cmpuint(ioas0, !=, 0);
    g_assert_cmpuint(ioas1, !=, 0);
    if (viommu) {
        g_assert_cmpuint(ioas0, !=, ioas1);
        g_assert_cmpuint(hwpt0, !=, hwpt1);
    } else {
        g_assert_cmpuint(ioas0, ==, ioas1);
        g_assert_cmpuint(hwpt0, ==, hwpt1);
    }
    qtest_shutdown(f.qs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("edu")) {
        g_test_skip("edu not built in");
        return g_test_run();
    }
    qtest_add_func("/vnest/sim-assign/bound", test_bound);
    qtest_add_func("/vnest/sim-assign/dma-lands", test_dma_lands);
    qtest_add_func("/vnest/sim-assign/migration-blocked",
                   test_migration_blocked);
    qtest_add_func("/vnest/sim-assign/dma-refused-unmapped",
                   test_dma_refused_unmapped);
    qtest_add_func("/vnest/sim-assign/dma-readonly", test_dma_readonly);
    if (qtest_has_device("intel-iommu")) {
        qtest_add_func("/vnest/sim-assign/shadow-viommu", test_shadow_viommu);
        qtest_add_data_func("/vnest/sim-assign/shared-ioas/no-viommu",
                            GINT_TO_POINTER(false), test_shared_ioas);
        qtest_add_data_func("/vnest/sim-assign/shared-ioas/shadowing",
                            GINT_TO_POINTER(true), test_shared_ioas);
        qtest_add_data_func("/vnest/sim-assign/viommu-takes-hiod/vtd", "",
                            test_viommu_takes_hiod);
        qtest_add_data_func("/vnest/sim-assign/viommu-takes-hiod/paging",
                            ",host-iommu=paging", test_viommu_takes_hiod);
    }
    return g_test_run();
}
