/*
 * VNest qtest: the vnest-dma-test device and PASID-tagged DMA
 *
 * One vnest-dma-test assigned through vnest-sim-assign over an emulated
 * iommufd (no vIOMMU: the IOAS maps guest RAM at its guest address), one
 * left to QEMU. Untagged DMA lands in guest memory and reads back through
 * the emulated host; where the host maps nothing it faults (the device's
 * status and counter, and sim-assign's dma-faults say so); PASID-tagged
 * requests need PASID Enable, are refused by the emulated host while no
 * domain is attached to that PASID, and cannot be issued at all by a
 * device that is not assigned; bad parameters are an error, never a DMA.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_regs.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"

#define SA_SLOT         4           /* assigned through sim-assign */
#define PLAIN_SLOT      5           /* not assigned */
#define HOLE_GPA        0x10000000ULL   /* above the 128 MiB of RAM */
#define PASID           0x1234

typedef struct Fixture {
    QOSState *qs;
    DmaTestDev sa;
    DmaTestDev plain;
} Fixture;

static void fixture_init(Fixture *f, const char *sa_opts)
{
    uint64_t ecam;

    f->qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                          "-object iommufd,id=emu0,emulated=on "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=dma0 "
                          "-device vnest-dma-test,id=dma0,addr=%02x.0%s "
                          "-device vnest-dma-test,id=dma1,addr=%02x.0",
                          SA_SLOT, sa_opts ? sa_opts : "", PLAIN_SLOT);
    dmadev_open(&f->sa, f->qs->qts, f->qs->pcibus, QPCI_DEVFN(SA_SLOT, 0));
    dmadev_open(&f->plain, f->qs->qts, f->qs->pcibus,
                QPCI_DEVFN(PLAIN_SLOT, 0));
    ecam = dmadev_q35_enable_ecam(f->qs->pcibus);
    dmadev_set_ecam(&f->sa, ecam);
    dmadev_set_ecam(&f->plain, ecam);
}

static void fixture_fini(Fixture *f)
{
    dmadev_close(&f->sa);
    dmadev_close(&f->plain);
    qtest_shutdown(f->qs);
}

static uint64_t sa_faults(Fixture *f)
{
    return vnest_qom_get_uint(f->qs->qts, "/objects/sa0", "dma-faults");
}

static void pattern(uint8_t *buf, size_t len, uint8_t seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = seed ^ (i * 7) ^ (i >> 8);
    }
}

/* The device: IDs, and the PASID capability only when it has a width. */
static void test_identity(void)
{
    Fixture f;

    fixture_init(&f, ",pasid-width=8");
    g_assert_cmpuint(dmadev_pasid_cap(&f.sa), ==, 0x100);
    /* PASID capability register: Max PASID Width in bits 12:8. */
    g_assert_cmphex(qtest_readw(f.qs->qts, f.sa.ecam +
                                (QPCI_DEVFN(SA_SLOT, 0) << 12) + 0x104),
                    ==, 8 << 8);
    g_assert_cmphex(qtest_readw(f.qs->qts, f.plain.ecam +
                                (QPCI_DEVFN(PLAIN_SLOT, 0) << 12) + 0x104),
                    ==, 20 << 8);
    fixture_fini(&f);

    fixture_init(&f, ",pasid-width=0");
    g_assert_cmpuint(dmadev_pasid_cap(&f.sa), ==, 0);
    g_assert_cmpuint(dmadev_pasid_cap(&f.plain), ==, 0x100);
    fixture_fini(&f);
}

/*
 * Untagged DMA through sim-assign, no vIOMMU: the buffer lands in guest
 * memory at an unaligned address across a page boundary, and reads back.
 */
static void test_dma_lands(void)
{
    Fixture f;
    uint8_t want[DMADEV_BUF_SIZE], got[DMADEV_BUF_SIZE];
    uint64_t mem, dst;

    fixture_init(&f, NULL);
    mem = guest_alloc(&f.qs->alloc, 3 * DMADEV_BUF_SIZE);
    dst = mem + 0x123;
    qtest_memset(f.qs->qts, mem, 0, 3 * DMADEV_BUF_SIZE);

    pattern(want, sizeof(want), 0x3c);
    dmadev_buf_write(&f.sa, 0, want, sizeof(want));
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, dst,
                                  DMADEV_BUF_SIZE), ==, DMADEV_STATUS_DONE);
    qtest_memread(f.qs->qts, dst, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
    /* Nothing around it was touched. */
    g_assert_cmphex(qtest_readb(f.qs->qts, dst - 1), ==, 0);
    g_assert_cmphex(qtest_readb(f.qs->qts, dst + DMADEV_BUF_SIZE), ==, 0);

    /* Read-back: memory -> buffer, a short odd length. */
    pattern(want, 333, 0xa5);
    qtest_memwrite(f.qs->qts, mem + 0xffd, want, 333);
    g_assert_cmphex(dmadev_from_mem(&f.sa, DMADEV_NO_PASID, mem + 0xffd,
                                    333), ==, DMADEV_STATUS_DONE);
    dmadev_buf_read(&f.sa, 0, got, 333);
    g_assert_cmpmem(got, 333, want, 333);

    g_assert_cmpuint(dmadev_faults(&f.sa), ==, 0);
    g_assert_cmpuint(sa_faults(&f), ==, 0);
    fixture_fini(&f);
}

/*
 * Where the emulated host maps nothing, the DMA faults: FAULT status, the
 * device's counter and sim-assign's dma-faults go up; guest memory and the
 * buffer are not what the DMA would have made them.
 */
static void test_dma_fault_unmapped(void)
{
    Fixture f;
    uint8_t data[64], got[64];
    uint64_t before;

    fixture_init(&f, NULL);
    pattern(data, sizeof(data), 0x77);
    dmadev_buf_write(&f.sa, 0, data, sizeof(data));
    before = sa_faults(&f);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, HOLE_GPA, 64), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT);
    g_assert_cmpuint(dmadev_faults(&f.sa), ==, 1);
    g_assert_cmpuint(sa_faults(&f), >, before);

    before = sa_faults(&f);
    g_assert_cmphex(dmadev_from_mem(&f.sa, DMADEV_NO_PASID, HOLE_GPA + 8,
                                    16), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT);
    g_assert_cmpuint(dmadev_faults(&f.sa), ==, 2);
    g_assert_cmpuint(sa_faults(&f), >, before);

    /* A successful DMA afterwards: status clean, counter kept. */
    before = guest_alloc(&f.qs->alloc, 64);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, before, 64), ==,
                    DMADEV_STATUS_DONE);
    qtest_memread(f.qs->qts, before, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), data, sizeof(data));
    g_assert_cmpuint(dmadev_faults(&f.sa), ==, 2);
    dmadev_clear_faults(&f.sa);
    g_assert_cmpuint(dmadev_faults(&f.sa), ==, 0);
    fixture_fini(&f);
}

/*
 * pri=on: the assigned device has PRI on the emulated host. Its DMA to a
 * hole is a recoverable fault, so it sends a page request (STATUS
 * PAGE_REQUEST, PRG 0); its domain (the IOAS's automatic one) has no
 * fault queue, so the host answers INVALID at once
 * (iommu_report_device_fault(): find_fault_handler() finds no
 * iopf_handler). Without pri the same DMA is a plain fault, and PRG_STATUS
 * says no request was ever sent.
 */
static void test_page_request(void)
{
    Fixture f;
    uint64_t ok;

    fixture_init(&f, ",pri=on,pri-requests=4");
    g_assert_cmphex(dmadev_prg_status(&f.sa), ==, UINT32_MAX);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, HOLE_GPA, 64), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT |
                    DMADEV_STATUS_PAGE_REQUEST);
    g_assert_cmpuint(dmadev_prg(&f.sa), ==, 0);
    g_assert_cmphex(dmadev_prg_status(&f.sa), ==, DMADEV_PRG_INVALID);
    ok = guest_alloc(&f.qs->alloc, 64);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, ok, 64), ==,
                    DMADEV_STATUS_DONE);
    /* not assigned, no PRI: a plain fault */
    g_assert_cmphex(dmadev_to_mem(&f.plain, DMADEV_NO_PASID, HOLE_GPA, 64),
                    ==, DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT);
    g_assert_cmphex(dmadev_prg_status(&f.plain), ==, UINT32_MAX);
    fixture_fini(&f);
}

/*
 * PASID-tagged DMA from the assigned device: refused by the device itself
 * while PASID Enable is clear; once enabled, issued to the emulated host,
 * which blocks it (no domain is attached to that PASID) and counts it.
 */
static void test_pasid_assigned(void)
{
    Fixture f;
    uint8_t zero[64] = { 0 }, got[64];
    uint64_t dst, before;

    fixture_init(&f, NULL);
    dst = guest_alloc(&f.qs->alloc, 64);
    qtest_memset(f.qs->qts, dst, 0, 64);
    memset(got, 0xee, sizeof(got));
    dmadev_buf_write(&f.sa, 0, got, sizeof(got));

    before = sa_faults(&f);
    g_assert_cmphex(dmadev_to_mem(&f.sa, PASID, dst, 64), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    g_assert_cmpuint(sa_faults(&f), ==, before);

    dmadev_pasid_enable(&f.sa, true);
    g_assert_cmphex(dmadev_to_mem(&f.sa, PASID, dst, 64), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT);
    g_assert_cmpuint(sa_faults(&f), ==, before + 1);
    g_assert_cmpuint(dmadev_faults(&f.sa), ==, 1);
    qtest_memread(f.qs->qts, dst, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), zero, sizeof(zero));

    /* A transfer over two pages stops at the first refused one. */
    g_assert_cmphex(dmadev_from_mem(&f.sa, PASID, dst + 0xff0, 64), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT);
    g_assert_cmpuint(sa_faults(&f), ==, before + 2);

    /* Untagged DMA from the same device still works. */
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, dst, 64), ==,
                    DMADEV_STATUS_DONE);
    fixture_fini(&f);
}

/* A PASID beyond the capability's Max PASID Width is not issued. */
static void test_pasid_too_wide(void)
{
    Fixture f;
    uint64_t dst, before;

    fixture_init(&f, ",pasid-width=4");
    dst = guest_alloc(&f.qs->alloc, 64);
    dmadev_pasid_enable(&f.sa, true);
    before = sa_faults(&f);
    g_assert_cmphex(dmadev_to_mem(&f.sa, 0x10, dst, 64), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    g_assert_cmpuint(sa_faults(&f), ==, before);
    /* Within the width it reaches the emulated host (and is blocked). */
    g_assert_cmphex(dmadev_to_mem(&f.sa, 0xf, dst, 64), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT);
    g_assert_cmpuint(sa_faults(&f), ==, before + 1);
    fixture_fini(&f);
}

/*
 * A device QEMU emulates without assignment: untagged DMA goes straight to
 * guest memory; a PASID-tagged request cannot be issued (QEMU 10.0's DMA
 * API has no PASID): ERROR status, memory untouched.
 */
static void test_not_assigned(void)
{
    Fixture f;
    uint8_t want[100], got[100], zero[100] = { 0 };
    uint64_t dst;

    fixture_init(&f, NULL);
    dst = guest_alloc(&f.qs->alloc, sizeof(want));
    qtest_memset(f.qs->qts, dst, 0, sizeof(want));
    pattern(want, sizeof(want), 0x19);
    dmadev_buf_write(&f.plain, 0, want, sizeof(want));

    dmadev_pasid_enable(&f.plain, true);
    g_assert_cmphex(dmadev_to_mem(&f.plain, PASID, dst, sizeof(want)), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    qtest_memread(f.qs->qts, dst, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), zero, sizeof(zero));
    g_assert_cmpuint(dmadev_faults(&f.plain), ==, 0);

    g_assert_cmphex(dmadev_to_mem(&f.plain, DMADEV_NO_PASID, dst,
                                  sizeof(want)), ==, DMADEV_STATUS_DONE);
    qtest_memread(f.qs->qts, dst, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), want, sizeof(want));
    g_assert_cmpuint(sa_faults(&f), ==, 0);
    fixture_fini(&f);
}

/* Bad commands and parameters: ERROR status, nothing transferred. */
static void test_bad_parameters(void)
{
    Fixture f;
    uint8_t data[16], got[16], zero[16] = { 0 };
    uint64_t dst;

    fixture_init(&f, NULL);
    dst = guest_alloc(&f.qs->alloc, 2 * DMADEV_BUF_SIZE);
    qtest_memset(f.qs->qts, dst, 0, 2 * DMADEV_BUF_SIZE);
    pattern(data, sizeof(data), 0x42);
    dmadev_buf_write(&f.sa, 0, data, sizeof(data));

    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, dst, 0), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, dst,
                                  DMADEV_BUF_SIZE + 1), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    g_assert_cmphex(dmadev_from_mem(&f.sa, DMADEV_NO_PASID, dst,
                                    UINT32_MAX), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID,
                                  UINT64_MAX - 0xf, 0x20), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    g_assert_cmphex(dmadev_command(&f.sa, 0, DMADEV_NO_PASID, dst, 16), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    g_assert_cmphex(dmadev_command(&f.sa, 3, DMADEV_NO_PASID, dst, 16), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);
    /* Bus mastering off: the device issues nothing. */
    qpci_config_writew(f.sa.dev, PCI_COMMAND,
                       qpci_config_readw(f.sa.dev, PCI_COMMAND) &
                       ~PCI_COMMAND_MASTER);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, dst, 16), ==,
                    DMADEV_STATUS_DONE | DMADEV_STATUS_ERROR);

    qtest_memread(f.qs->qts, dst, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), zero, sizeof(zero));
    g_assert_cmpuint(dmadev_faults(&f.sa), ==, 0);
    g_assert_cmpuint(sa_faults(&f), ==, 0);

    /* The largest length still works once mastering is back. */
    qpci_device_enable(f.sa.dev);
    g_assert_cmphex(dmadev_to_mem(&f.sa, DMADEV_NO_PASID, dst + 1,
                                  DMADEV_BUF_SIZE), ==, DMADEV_STATUS_DONE);
    qtest_memread(f.qs->qts, dst + 1, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), data, sizeof(data));
    fixture_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vnest/dma-test-dev/identity", test_identity);
    qtest_add_func("/vnest/dma-test-dev/dma-lands", test_dma_lands);
    qtest_add_func("/vnest/dma-test-dev/fault-unmapped",
                   test_dma_fault_unmapped);
    qtest_add_func("/vnest/dma-test-dev/pasid-assigned", test_pasid_assigned);
    qtest_add_func("/vnest/dma-test-dev/pasid-too-wide", test_pasid_too_wide);
    qtest_add_func("/vnest/dma-test-dev/not-assigned", test_not_assigned);
    qtest_add_func("/vnest/dma-test-dev/page-request", test_page_request);
    qtest_add_func("/vnest/dma-test-dev/bad-parameters", test_bad_parameters);
    return g_test_run();
}
