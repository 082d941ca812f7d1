/*
 * VNest qtest: simulated assignment through the emulated iommufd
 *
 * An edu device assigned with vnest-sim-assign through
 * "-object iommufd,emulated=on": bound and attached to a paging HWPT like
 * a VFIO device, its IOAS filled from guest RAM by a memory listener. Its
 * DMA must land where the IOAS maps it (guest RAM at its guest address),
 * and be refused where the IOAS has nothing (a hole in the guest physical
 * map, above RAM) or only a read-only mapping (the BIOS ROM), the refusal counted by
 * the emulated host IOMMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "edu-dma.h"

#define EDU_SLOT        4
#define EDU_DEVFN       QPCI_DEVFN(EDU_SLOT, 0)
#define LEN             512
#define HOLE_GPA        0x10000000ULL   /* above the 128 MiB of RAM */
#define BIOS_GPA        0xfffc0000ULL   /* isa-bios ROM below 4 GiB */

typedef struct Fixture {
    QOSState *qs;
    EduDev edu;
} Fixture;

static void fixture_init(Fixture *f, const char *extra)
{
    f->qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                          "-object iommufd,id=emu0,emulated=on "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=edu0 "
                          "-device edu,id=edu0,addr=%02x.0,"
                          "dma_mask=0xffffffffffffffff %s",
                          EDU_SLOT, extra ? extra : "");
    edu_open(&f->edu, f->qs->qts, f->qs->pcibus, EDU_DEVFN);
}

static void fixture_fini(Fixture *f)
{
    edu_close(&f->edu);
    qtest_shutdown(f->qs);
}

static uint64_t qom_get_uint(Fixture *f, const char *path, const char *prop)
{
    QDict *rsp = qtest_qmp(f->qs->qts, "{ 'execute': 'qom-get', 'arguments':"
                           " { 'path': %s, 'property': %s } }", path, prop);
    uint64_t v;

    g_assert(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return v;
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
    g_assert_cmpuint(faults(&f), ==, 0);
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("edu")) {
        g_test_skip("edu not built in");
        return g_test_run();
    }
    qtest_add_func("/vnest/sim-assign/bound", test_bound);
    qtest_add_func("/vnest/sim-assign/dma-lands", test_dma_lands);
    qtest_add_func("/vnest/sim-assign/dma-refused-unmapped",
                   test_dma_refused_unmapped);
    qtest_add_func("/vnest/sim-assign/dma-readonly", test_dma_readonly);
    return g_test_run();
}
