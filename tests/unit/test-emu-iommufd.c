/*
 * VNest unit tests: the emulated host's iommufd ABI contract
 *
 * The kernel's iommufd selftest contract, on the paging-only hardware
 * model: struct-size rules for every ioctl, IOAS map/unmap/copy/ranges,
 * HWPT allocation, device attach/replace/detach with DMA that lands where
 * the IOAS maps it, object lifetimes (EBUSY), dirty tracking, fault
 * queues, and the leak check.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>
#include "emu-test.h"
#include "emu-selftest-abi.h"
#include "emu-internal.h"

#define EMU_TEST_PAGE_MASK  (~(PAGE - 1))

static int count_bytes(uint64_t first, uint64_t last, void *opaque)
{
    *(uint64_t *)opaque += last - first + 1;
    return 0;
}

#define RW  (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static void setup_paging(EmuFixture *f, gconstpointer data)
{
    emu_fixture_setup(f, EMU_HW_PAGING);
}

static void setup_vtd(EmuFixture *f, gconstpointer data)
{
    emu_fixture_setup(f, EMU_HW_VTD);
}

static void setup_smmuv3(EmuFixture *f, gconstpointer data)
{
    emu_fixture_setup(f, EMU_HW_SMMUV3);
}

static void teardown(EmuFixture *f, gconstpointer data)
{
    emu_fixture_teardown(f);
}

/* ---- ioctl struct-size rules ---- */

typedef struct SizeCase {
    unsigned long cmd;
    size_t min_size;        /* offsetofend of the oldest layout */
    size_t size;
} SizeCase;

#define SZ(c, t, last) \
    { c, offsetof(struct t, last) + sizeof(((struct t *)0)->last), \
      sizeof(struct t) }

static const SizeCase size_cases[] = {
    SZ(IOMMU_DESTROY, iommu_destroy, id),
    SZ(IOMMU_IOAS_ALLOC, iommu_ioas_alloc, out_ioas_id),
    SZ(IOMMU_IOAS_ALLOW_IOVAS, iommu_ioas_allow_iovas, allowed_iovas),
    SZ(IOMMU_IOAS_COPY, iommu_ioas_copy, src_iova),
    SZ(IOMMU_IOAS_IOVA_RANGES, iommu_ioas_iova_ranges,
       out_iova_alignment),
    SZ(IOMMU_IOAS_MAP, iommu_ioas_map, iova),
    SZ(IOMMU_IOAS_UNMAP, iommu_ioas_unmap, length),
    SZ(IOMMU_OPTION, iommu_option, val64),
    SZ(IOMMU_HWPT_ALLOC, iommu_hwpt_alloc, __reserved),
    SZ(IOMMU_GET_HW_INFO, iommu_hw_info, __reserved),
    SZ(IOMMU_HWPT_SET_DIRTY_TRACKING, iommu_hwpt_set_dirty_tracking,
       __reserved),
    SZ(IOMMU_HWPT_GET_DIRTY_BITMAP, iommu_hwpt_get_dirty_bitmap, data),
    SZ(IOMMU_HWPT_INVALIDATE, iommu_hwpt_invalidate, __reserved),
    SZ(IOMMU_FAULT_QUEUE_ALLOC, iommu_fault_alloc, out_fault_fd),
    SZ(IOMMU_IOAS_MAP_FILE, iommu_ioas_map_file, iova),
    SZ(IOMMU_VIOMMU_ALLOC, iommu_viommu_alloc, out_viommu_id),
    SZ(IOMMU_VDEVICE_ALLOC, iommu_vdevice_alloc, virt_id),
    /* iommufd_ioctl_ops[]: out_veventq_fd, not __reserved */
    SZ(IOMMU_VEVENTQ_ALLOC, iommu_veventq_alloc, out_veventq_fd),
};

/*
 * Every ioctl: shorter than its oldest layout is EINVAL; longer than the
 * model's struct with a non-zero byte past it is E2BIG; with a zero tail
 * the call gets past the size check (whatever it then says).
 */
static void test_ioctl_sizes(EmuFixture *f, gconstpointer data)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(size_cases); i++) {
        const SizeCase *c = &size_cases[i];
        uint8_t buf[256] = { 0 };
        uint32_t *size = (uint32_t *)buf;
        int rc;

        *size = c->min_size - 1;
        g_assert_cmpint(ctx_ioctl(f, c->cmd, buf), ==, EINVAL);

        memset(buf, 0, sizeof(buf));
        *size = c->size + 8;
        buf[c->size + 3] = 1;
        g_assert_cmpint(ctx_ioctl(f, c->cmd, buf), ==, E2BIG);

        buf[c->size + 3] = 0;
        rc = ctx_ioctl(f, c->cmd, buf);
        g_assert_cmpint(rc, !=, E2BIG);
        g_assert(rc != EINVAL || c->cmd != IOMMU_IOAS_ALLOC);
    }
    /* An unknown command is not an iommufd ioctl at all. */
    g_assert_cmpint(ctx_ioctl(f, _IO(IOMMUFD_TYPE, 0xff), f->buf),
                    ==, ENOTTY);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_DESTROY, NULL), ==, EFAULT);
}

/* ---- IOAS ---- */

static void test_ioas_alloc_destroy(EmuFixture *f, gconstpointer data)
{
    struct iommu_ioas_alloc cmd = { .size = sizeof(cmd), .flags = 1 };
    uint32_t id, id2;

    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOC, &cmd), ==, EOPNOTSUPP);
    g_assert_cmpint(t_ioas_alloc(f, &id), ==, 0);
    g_assert_cmpuint(id, !=, f->ioas_id);
    g_assert_cmpint(t_destroy(f, id), ==, 0);
    g_assert_cmpint(t_destroy(f, id), ==, ENOENT);
    g_assert_cmpint(t_destroy(f, 0), ==, ENOENT);
    /* The lowest free id is reused. */
    g_assert_cmpint(t_ioas_alloc(f, &id2), ==, 0);
    g_assert_cmpuint(id2, ==, id);
}

static void test_map_errors(EmuFixture *f, gconstpointer data)
{
    uint64_t iova = 0x100000;

    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA | RW | (1u << 5)),
                    ==, EOPNOTSUPP);
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA), ==, EINVAL);
    g_assert_cmpint(t_map_fixed(f, 999, f->buf, PAGE, iova), ==, ENOENT);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, 0, iova), ==, EINVAL);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, 2 * PAGE, iova),
                    ==, 0);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, iova + PAGE),
                    ==, EEXIST);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, UINT64_MAX),
                    ==, EOVERFLOW);
}

/*
 * Alignment, as a real kernel does it (tests/conformance): an IOAS with no
 * paging domain takes any IOVA, a domain cannot be built over an area not
 * aligned to its pages, and once one exists maps must be aligned.
 */
static void test_map_alignment(EmuFixture *f, gconstpointer data)
{
    uint64_t iova = 0x100000;
    uint32_t hwpt;

    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, iova + 1), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt),
                    ==, EADDRINUSE);
    g_assert_cmpint(t_unmap(f, f->ioas_id, iova + 1, PAGE, NULL), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt), ==, 0);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, iova + 1),
                    ==, EINVAL);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf + 1, PAGE, iova),
                    ==, EINVAL);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, iova), ==, 0);
}

/*
 * Pages are pinned when a domain needs them, as in Linux: without one a
 * bad user address maps; the first domain then fails with EFAULT, and
 * with one the map itself does.
 */
static void test_map_pinning(EmuFixture *f, gconstpointer data)
{
    uint32_t hwpt;

    g_assert_cmpint(t_map_fixed(f, f->ioas_id, NULL, PAGE, 0x1000), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt),
                    ==, EFAULT);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x1000, PAGE, NULL), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt), ==, 0);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, NULL, PAGE, 0x1000), ==, EFAULT);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, (void *)(uintptr_t)PAGE,
                                PAGE, 0x1000), ==, EFAULT);
}

static void test_map_auto_iova(EmuFixture *f, gconstpointer data)
{
    uint64_t a = 0, b = 0;

    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, 4 * PAGE, &a, RW), ==, 0);
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, 4 * PAGE, &b, RW), ==, 0);
    /* Non-overlapping, aligned like the user address. */
    g_assert(a + 4 * PAGE <= b || b + 4 * PAGE <= a);
    g_assert_cmphex(a % PAGE, ==, 0);
    g_assert_cmphex(b % PAGE, ==, 0);
}

/*
 * iopt_alloc_iova: never page 0 or the last page; aligned to the smaller
 * of the length's power of two and the user address's alignment (at most
 * 2 MiB), with the address's offset in its page.
 */
static void test_map_auto_iova_rules(EmuFixture *f, gconstpointer data)
{
    struct iommu_ioas_allow_iovas allow = {
        .size = sizeof(allow), .ioas_id = f->ioas_id, .num_iovas = 1,
    };
    struct iommu_iova_range range;
    uint64_t a = 0, b = 0, c = 0, d = 0;

    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, PAGE, &a, RW), ==, 0);
    g_assert_cmphex(a, ==, PAGE);
    /* 3 pages from a 16 KiB aligned address: 16 KiB aligned */
    g_assert_cmpint(t_map(f, f->ioas_id,
                          f->buf + (-(uintptr_t)f->buf & (4 * PAGE - 1)),
                          3 * PAGE, &b, RW), ==, 0);
    g_assert_cmphex(b, ==, 4 * PAGE);
    /* a sub-page address keeps its offset, aligned to its own bits */
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf + 0x10, 0x20, &c, RW), ==, 0);
    g_assert_cmphex(c, ==, 2 * PAGE + 0x10);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0, UINT64_MAX, NULL), ==, 0);
    /* only the last pages of the space allowed: the very last is not used */
    range.start = UINT64_MAX - 2 * PAGE + 1;
    range.last = UINT64_MAX;
    allow.allowed_iovas = (uintptr_t)&range;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &allow), ==, 0);
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, PAGE, &d, RW), ==, 0);
    g_assert_cmphex(d, ==, UINT64_MAX - 2 * PAGE + 1);
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, PAGE, &d, RW), ==, ENOSPC);
}

static void test_unmap(EmuFixture *f, gconstpointer data)
{
    uint64_t unmapped;

    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, 4 * PAGE, 0x10000),
                    ==, 0);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, 4 * PAGE, 0x20000),
                    ==, 0);
    /* Never splits an area. */
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x10000, PAGE, NULL), ==, ENOENT);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x30000, PAGE, NULL), ==, ENOENT);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x10000, 0, NULL), ==, EINVAL);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x10000, 4 * PAGE, &unmapped),
                    ==, 0);
    g_assert_cmphex(unmapped, ==, 4 * PAGE);
    /* A range covering more than the areas is fine. */
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0, 0x100000, &unmapped), ==, 0);
    g_assert_cmphex(unmapped, ==, 4 * PAGE);
    /* Unmapping everything of an empty IOAS succeeds. */
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0, UINT64_MAX, &unmapped), ==, 0);
    g_assert_cmphex(unmapped, ==, 0);
}

static void test_iova_ranges(EmuFixture *f, gconstpointer data)
{
    struct iommu_iova_range r[4];
    struct iommu_ioas_iova_ranges cmd = {
        .size = sizeof(cmd), .ioas_id = f->ioas_id,
        .allowed_iovas = (uintptr_t)r,
    };
    uint32_t pt = f->ioas_id;

    /* No device: everything. Too small an array: EMSGSIZE and a count. */
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &cmd), ==,
                    EMSGSIZE);
    g_assert_cmpuint(cmd.num_iovas, ==, 1);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &cmd), ==, 0);
    g_assert_cmphex(r[0].start, ==, 0);
    g_assert_cmphex(r[0].last, ==, UINT64_MAX);
    g_assert_cmphex(cmd.out_iova_alignment, ==, 1);     /* no domain yet */

    /* A VT-d device attached: its aperture and the MSI window go. */
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    cmd.num_iovas = 4;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &cmd), ==, 0);
    g_assert_cmpuint(cmd.num_iovas, ==, 2);
    g_assert_cmphex(r[0].start, ==, 0);
    g_assert_cmphex(r[0].last, ==, 0xfedfffff);
    g_assert_cmphex(r[1].start, ==, 0xfef00000);
    g_assert_cmphex(r[1].last, ==, (1ULL << 48) - 1);
    /* ... and fixed maps there are refused. */
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, 0xfee00000),
                    ==, EINVAL);
    g_assert_cmpint(t_detach(f), ==, 0);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, 0xfee00000),
                    ==, 0);
    /* A mapping in the window blocks attaching such a device. */
    pt = f->ioas_id;
    g_assert_cmpint(t_attach(f, &pt), ==, EADDRINUSE);
}

static void test_allow_iovas(EmuFixture *f, gconstpointer data)
{
    struct iommu_iova_range r[2] = {
        { .start = 0x400000, .last = 0x4fffff },
        { .start = 0x100000, .last = 0x1fffff },
    };
    struct iommu_ioas_allow_iovas cmd = {
        .size = sizeof(cmd), .ioas_id = f->ioas_id, .num_iovas = 1,
        .allowed_iovas = (uintptr_t)r,
    };
    uint64_t iova = 0;

    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &cmd), ==, 0);
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, PAGE, &iova, RW), ==, 0);
    g_assert_cmphex(iova, >=, 0x400000);
    g_assert_cmphex(iova, <=, 0x4fffff);
    r[1].start = 0x480000;      /* overlapping ranges */
    cmd.num_iovas = 2;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &cmd), ==, EINVAL);
    r[1].start = 0x1fffff;      /* start after last */
    r[1].last = 0x100000;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &cmd), ==, EINVAL);
    r[1].start = 0x100001;      /* unaligned: allowed, as in Linux */
    r[1].last = 0x1fffff;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &cmd), ==, 0);
}

static void test_copy(EmuFixture *f, gconstpointer data)
{
    struct iommu_ioas_copy cmd = {
        .size = sizeof(cmd),
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
        .src_iova = 0x10000,
        .length = 2 * PAGE,
        .dst_iova = 0x80000,
    };
    uint32_t dst, pt;
    uint8_t v = 0xa5;

    g_assert_cmpint(t_ioas_alloc(f, &dst), ==, 0);
    cmd.dst_ioas_id = dst;
    cmd.src_ioas_id = f->ioas_id;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_COPY, &cmd), ==, ENOENT);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, 0x10000), ==, 0);
    /* A hole in the source range */
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_COPY, &cmd), ==, ENOENT);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf + PAGE, PAGE,
                                0x11000), ==, 0);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_COPY, &cmd), ==, 0);
    /* The copy maps the same memory. */
    pt = dst;
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x81000 + 8, &v, 1,
                          EMU_DMA_WRITE), ==, 0);
    g_assert_cmphex(f->buf[PAGE + 8], ==, 0xa5);
    g_assert_cmpint(t_detach(f), ==, 0);
}

/*
 * MAP_FILE (iopt_map_file_pages): with no domain Linux takes any file and
 * range unchecked; a domain must pin it (memfd_pin_folios: shmem or
 * hugetlbfs, below the file's size), so attaching one fails EINVAL over a
 * range it cannot pin, and with a domain such a map fails at once.
 */
static void test_map_file(EmuFixture *f, gconstpointer data)
{
    struct iommu_ioas_map_file cmd = {
        .size = sizeof(cmd),
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
        .ioas_id = f->ioas_id,
        .start = PAGE,
        .length = 2 * PAGE,
        .iova = 0x200000,
    };
    int fd = memfd_create("emu-test", 0), pipefd[2];
    uint32_t pt = f->ioas_id;
    uint8_t v = 0x3c, got = 0;

    g_assert_cmpint(fd, >=, 0);
    cmd.fd = fd;
    /* an empty file: taken with no domain, then no domain can come */
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd), ==, 0);
    g_assert_cmpint(t_attach(f, &pt), ==, EINVAL);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x200000, 2 * PAGE, NULL), ==, 0);
    g_assert_cmpint(ftruncate(fd, 4 * PAGE), ==, 0);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd), ==, 0);
    pt = f->ioas_id;
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x201010, &v, 1, EMU_DMA_WRITE),
                    ==, 0);
    g_assert_cmpint(pread(fd, &got, 1, PAGE + PAGE + 0x10), ==, 1);
    g_assert_cmphex(got, ==, 0x3c);
    /* with a domain: past the end, or a file that is not shmem */
    cmd.iova = 0x300000;
    cmd.start = 3 * PAGE;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd), ==, EINVAL);
    g_assert_cmpint(pipe(pipefd), ==, 0);
    cmd.fd = pipefd[0];
    cmd.start = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd), ==, EINVAL);
    cmd.fd = 12345;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd), ==, EBADF);
    cmd.fd = fd;
    cmd.length = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd), ==, EINVAL);
    g_assert_cmpint(t_detach(f), ==, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    close(fd);
}

static void test_option(EmuFixture *f, gconstpointer data)
{
    struct iommu_option cmd = {
        .size = sizeof(cmd),
        .option_id = IOMMU_OPTION_HUGE_PAGES,
        .op = IOMMU_OPTION_OP_GET,
        .object_id = f->ioas_id,
    };

    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, 0);
    g_assert_cmpuint(cmd.val64, ==, 1);
    cmd.op = IOMMU_OPTION_OP_SET;
    cmd.val64 = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, 0);
    cmd.op = IOMMU_OPTION_OP_GET;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, 0);
    g_assert_cmpuint(cmd.val64, ==, 0);
    cmd.op = IOMMU_OPTION_OP_SET;
    cmd.val64 = 2;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, EINVAL);
    cmd.op = 7;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, EOPNOTSUPP);
    cmd.op = IOMMU_OPTION_OP_GET;
    cmd.option_id = 99;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, EOPNOTSUPP);
    cmd.option_id = IOMMU_OPTION_HUGE_PAGES;
    cmd.object_id = 999;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, ENOENT);
}

/*
 * HUGE_PAGES=0 is iopt_disable_large_pages: the IOAS's alignment becomes
 * PAGE_SIZE (misaligned maps then fail EINVAL), refused with EADDRINUSE
 * while an area is misaligned and with EINVAL once a domain maps pages.
 */
static void test_option_huge_pages(EmuFixture *f, gconstpointer data)
{
    struct iommu_option cmd = {
        .size = sizeof(cmd), .option_id = IOMMU_OPTION_HUGE_PAGES,
        .op = IOMMU_OPTION_OP_SET, .object_id = f->ioas_id,
    };
    struct iommu_ioas_iova_ranges ranges = {
        .size = sizeof(ranges), .ioas_id = f->ioas_id,
    };
    uint32_t hwpt;

    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, 0x10000), ==, 0);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, 0);
    ctx_ioctl(f, IOMMU_IOAS_IOVA_RANGES, &ranges);
    g_assert_cmphex(ranges.out_iova_alignment, ==, PAGE);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf + 0x800, PAGE,
                                0x20800), ==, EINVAL);
    cmd.val64 = 1;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, 0);
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf + 0x800, PAGE,
                                0x20800), ==, 0);
    cmd.val64 = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, EADDRINUSE);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x20800, PAGE, NULL), ==, 0);
    /* a domain with pages mapped: no more switching off */
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt), ==, 0);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, EINVAL);
    cmd.op = IOMMU_OPTION_OP_GET;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &cmd), ==, 0);
    g_assert_cmpuint(cmd.val64, ==, 1);
}

/* ---- HWPTs, attach and DMA ---- */

static void test_hwpt_alloc_errors(EmuFixture *f, gconstpointer data)
{
    uint32_t id;
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd), .dev_id = f->dev_id, .pt_id = f->ioas_id,
        .__reserved = 1,
    };

    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, EOPNOTSUPP);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 4, &id),
                    ==, EINVAL);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, IOMMU_HWPT_DATA_VTD_S1,
                                 NULL, 0, &id), ==, EINVAL);
    cmd = (struct iommu_hwpt_alloc) {
        .size = sizeof(cmd), .dev_id = 999, .pt_id = f->ioas_id,
    };
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, ENOENT);
    /* iommufd_hwpt_alloc(): the device before the flags */
    cmd.flags = 1u << 9;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, ENOENT);
    /* a pt_id naming no object is EINVAL, as one of the wrong kind */
    g_assert_cmpint(t_hwpt_alloc(f, 999, 0, 0, NULL, 0, &id), ==, EINVAL);
    g_assert_cmpint(t_hwpt_alloc(f, 999, 1u << 9, 0, NULL, 0, &id), ==,
                    EINVAL);
    g_assert_cmpint(t_hwpt_alloc(f, f->dev_id, 0, 0, NULL, 0, &id),
                    ==, EINVAL);
    /* __reserved2 is not checked */
    cmd = (struct iommu_hwpt_alloc) {
        .size = sizeof(cmd), .dev_id = f->dev_id, .pt_id = f->ioas_id,
        .__reserved2 = 1,
    };
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, 0);
    g_assert_cmpint(t_destroy(f, cmd.out_hwpt_id), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 1u << 9, 0, NULL, 0, &id),
                    ==, EOPNOTSUPP);
    /* Paging-only hardware: no nest parent, dirty tracking or PASID. */
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 0, NULL, 0, &id), ==, EOPNOTSUPP);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id,
                                 IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0,
                                 &id), ==, EOPNOTSUPP);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_PASID,
                                 0, NULL, 0, &id), ==, EOPNOTSUPP);
    /* the fault object is looked up last, the new HWPT dropped */
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_FAULT_ID_VALID,
                                 0, NULL, 0, &id), ==, ENOENT);
    g_assert_cmpint(t_hwpt_alloc(f, 999, IOMMU_HWPT_FAULT_ID_VALID,
                                 0, NULL, 0, &id), ==, EINVAL);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &id), ==, 0);
    g_assert_cmpuint(id, ==, cmd.out_hwpt_id);      /* no id leaked */
    g_assert_cmpint(t_destroy(f, id), ==, 0);
}

/*
 * A PASID attach on hardware and a device without PASID: the HWPT is no
 * ALLOC_PASID one, EINVAL (iommufd_hwpt_pasid_compat()), was EOPNOTSUPP.
 */
static void test_attach_pasid_no_pasid(EmuFixture *f, gconstpointer data)
{
    uint32_t hwpt, pt;

    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt), ==, 0);
    pt = hwpt;
    g_assert_cmpint(t_attach_pasid(f, 1, &pt), ==, EINVAL);
    pt = f->ioas_id;
    g_assert_cmpint(t_attach_pasid(f, 1, &pt), ==, EINVAL);
    g_assert_cmpint(t_destroy(f, hwpt), ==, 0);
}

/* DMA lands where the IOAS maps it and is refused where it does not. */
static void test_attach_dma(EmuFixture *f, gconstpointer data)
{
    uint8_t out[64], in[64];
    uint32_t pt = f->ioas_id, hwpt;
    EmuFaultInfo fault;
    int i;

    for (i = 0; i < 64; i++) {
        out[i] = i * 3 + 1;
    }
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf + 2 * PAGE, PAGE,
                                0x40000), ==, 0);
    /* Not attached: blocked. */
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x40000, out, 64, EMU_DMA_WRITE),
                    ==, -EFAULT);
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    g_assert_cmpuint(pt, !=, f->ioas_id);     /* the automatic domain */
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x40000 + 100, out, 64,
                          EMU_DMA_WRITE), ==, 0);
    g_assert_cmpmem(f->buf + 2 * PAGE + 100, 64, out, 64);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x40000 + 100, in, 64,
                          EMU_DMA_READ), ==, 0);
    g_assert_cmpmem(in, 64, out, 64);
    /* Crossing into unmapped space faults, reporting the address. */
    g_assert_cmpint(emu_device_dma(f->dev, EMU_NO_PASID, 0x41000 - 8, in, 64,
                                   EMU_DMA_READ, &fault), ==, -EFAULT);
    g_assert_cmphex(fault.iova, ==, 0x41000);
    /* The automatic domain is an object: busy while attached. */
    g_assert_cmpint(t_destroy(f, pt), ==, EBUSY);
    g_assert_cmpint(t_destroy(f, f->ioas_id), ==, EBUSY);

    /* Replace with an explicit HWPT on another IOAS: new translation. */
    {
        uint32_t ioas2;

        g_assert_cmpint(t_ioas_alloc(f, &ioas2), ==, 0);
        g_assert_cmpint(t_map_fixed(f, ioas2, f->buf + 5 * PAGE, PAGE,
                                    0x40000), ==, 0);
        g_assert_cmpint(t_hwpt_alloc(f, ioas2, 0, 0, NULL, 0, &hwpt), ==, 0);
        pt = hwpt;
        g_assert_cmpint(t_attach(f, &pt), ==, 0);
        g_assert_cmpuint(pt, ==, hwpt);
        g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x40000, out, 8,
                              EMU_DMA_WRITE), ==, 0);
        g_assert_cmpmem(f->buf + 5 * PAGE, 8, out, 8);
        /* The automatic domain went away with its last device. */
        g_assert_cmpint(t_destroy(f, f->ioas_id), ==, 0);
        g_assert_cmpint(t_destroy(f, hwpt), ==, EBUSY);
        g_assert_cmpint(t_destroy(f, ioas2), ==, EBUSY);
        g_assert_cmpint(t_detach(f), ==, 0);
        g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x40000, out, 8,
                              EMU_DMA_WRITE), ==, -EFAULT);
        g_assert_cmpint(t_destroy(f, hwpt), ==, 0);
        g_assert_cmpint(t_destroy(f, ioas2), ==, 0);
    }
}

/* Unmap takes effect for the device at once. */
static void test_unmap_blocks_dma(EmuFixture *f, gconstpointer data)
{
    uint32_t pt = f->ioas_id;
    uint8_t v = 1;

    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, PAGE, 0x1000), ==, 0);
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x1000, &v, 1, EMU_DMA_READ), ==, 0);
    g_assert_cmpint(t_unmap(f, f->ioas_id, 0x1000, PAGE, NULL), ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x1000, &v, 1, EMU_DMA_READ),
                    ==, -EFAULT);
    g_assert_cmpint(t_detach(f), ==, 0);
}

static void test_map_readonly(EmuFixture *f, gconstpointer data)
{
    uint32_t pt = f->ioas_id;
    uint64_t iova = 0x3000;
    uint8_t v = 0x77;

    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x3000, &v, 1, EMU_DMA_WRITE),
                    ==, -EFAULT);
    g_assert_cmphex(f->buf[0], ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x3000, &v, 1, EMU_DMA_READ),
                    ==, 0);
    g_assert_cmpint(t_detach(f), ==, 0);
}

static void test_hw_info_paging(EmuFixture *f, gconstpointer data)
{
    uint8_t buf[16];
    struct iommu_hw_info cmd = {
        .size = sizeof(cmd), .dev_id = f->dev_id,
        .data_len = sizeof(buf), .data_uptr = (uintptr_t)buf,
    };

    memset(buf, 0xff, sizeof(buf));
    g_assert_cmpint(ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd), ==, 0);
    g_assert_cmpuint(cmd.out_data_type, ==, IOMMU_HW_INFO_TYPE_NONE);
    g_assert_cmpuint(cmd.data_len, ==, 0);
    g_assert_cmphex(buf[0] | buf[15], ==, 0);   /* zero-filled */
    g_assert_cmpuint(cmd.out_max_pasid_log2, ==, 0);
    /*
     * No modelled IOMMU offers ATS: the device is not
     * device_iommu_capable(IOMMU_CAP_PCI_ATS_SUPPORTED)
     * (iommufd_get_hw_info())
     */
    g_assert_cmphex(cmd.out_capabilities, ==,
                    IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
    /*
     * A huge buffer length is zeroed as far as the memory goes, then
     * EFAULT (found by the fuzzer: the model once allocated data_len
     * bytes). The buffer ends at an inaccessible page.
     */
    g_assert_cmpint(mprotect(f->buf + PAGE, PAGE, PROT_NONE), ==, 0);
    cmd.data_uptr = (uintptr_t)f->buf + PAGE - 16;
    cmd.data_len = 0x80000000u;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd), ==, EFAULT);
    g_assert_cmpint(mprotect(f->buf + PAGE, PAGE, PROT_READ | PROT_WRITE),
                    ==, 0);
    cmd.data_uptr = (uintptr_t)buf;
    cmd.data_len = sizeof(buf);
    cmd.flags = 2;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd), ==, EOPNOTSUPP);
    cmd.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    cmd.in_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd), ==, EOPNOTSUPP);
    cmd.flags = 0;
    cmd.dev_id = 77;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd), ==, ENOENT);
}

static void test_invalidate_paging(EmuFixture *f, gconstpointer data)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = 1 };
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .data_uptr = (uintptr_t)&inv,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(inv), .entry_num = 1,
    };
    uint32_t hwpt;

    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt), ==, 0);
    cmd.hwpt_id = hwpt;
    /* A paging HWPT has no user-managed cache: EINVAL, nothing handled. */
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_INVALIDATE, &cmd), ==, EINVAL);
    g_assert_cmpuint(cmd.entry_num, ==, 0);
    cmd.hwpt_id = 999;
    cmd.entry_num = 1;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_INVALIDATE, &cmd), ==, ENOENT);
    /* entry_num is written back (0 handled) even on failure */
    g_assert_cmpuint(cmd.entry_num, ==, 0);
    cmd.entry_num = 1;
    cmd.data_uptr = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_INVALIDATE, &cmd), ==, EINVAL);
    cmd.__reserved = 1;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_INVALIDATE, &cmd), ==,
                    EOPNOTSUPP);
}

/* VT-d erratum 772415: no read-only mappings under a nest parent. */
static void test_spr17_readonly(void)
{
    EmuHwConfig cfg;
    EmuFixture f;
    uint64_t iova = 0x2000;
    uint32_t parent, ioas2;

    emu_hw_config_default(&cfg, EMU_HW_VTD);
    cfg.vtd.errata_spr17 = true;
    emu_fixture_setup_cfg(&f, &cfg);
    g_assert_cmpint(t_map(&f, f.ioas_id, f.buf, PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(&f, f.ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 0, NULL, 0, &parent), ==, EINVAL);
    g_assert_cmpint(t_ioas_alloc(&f, &ioas2), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(&f, ioas2, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 0, NULL, 0, &parent), ==, 0);
    iova = 0x2000;
    g_assert_cmpint(t_map(&f, ioas2, f.buf, PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, EINVAL);
    g_assert_cmpint(t_map_fixed(&f, ioas2, f.buf, PAGE, 0x2000), ==, 0);
    emu_fixture_teardown(&f);
}

/* ---- dirty tracking (VT-d hardware has it) ---- */

static void test_dirty_tracking(EmuFixture *f, gconstpointer data)
{
    uint64_t bitmap[2];
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
    };
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get), .iova = 0x100000, .length = 16 * PAGE,
        .page_size = PAGE, .data = (uintptr_t)bitmap,
    };
    uint32_t hwpt, plain, pt;
    uint8_t v = 9;

    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, 16 * PAGE, 0x100000),
                    ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &plain), ==, 0);
    /* No dirty ops on its domain: iopt_set_dirty_tracking, EOPNOTSUPP. */
    set.hwpt_id = plain;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set),
                    ==, EOPNOTSUPP);
    get.hwpt_id = plain;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get),
                    ==, EOPNOTSUPP);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id,
                                 IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0,
                                 &hwpt), ==, 0);
    pt = hwpt;
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    /* Writes before tracking starts are not reported. */
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x101000, &v, 1, EMU_DMA_WRITE),
                    ==, 0);
    set.hwpt_id = hwpt;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set), ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x103000, &v, 1, EMU_DMA_WRITE),
                    ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x10f000, &v, 1, EMU_DMA_WRITE),
                    ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x105000, &v, 1, EMU_DMA_READ),
                    ==, 0);
    get.hwpt_id = hwpt;
    get.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
    memset(bitmap, 0, sizeof(bitmap));
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap[0], ==, (1u << 3) | (1u << 15));
    get.flags = 0;
    memset(bitmap, 0, sizeof(bitmap));
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap[0], ==, (1u << 3) | (1u << 15));
    /* Read and cleared; bits already set in the user's bitmap stay set. */
    bitmap[0] = 1u << 7;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap[0], ==, 1u << 7);
    /* Bits of half a 4 KiB leaf: both halves report it. */
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x102800, &v, 1, EMU_DMA_WRITE),
                    ==, 0);
    get.page_size = PAGE / 2;
    get.length = 2 * PAGE;
    memset(bitmap, 0, sizeof(bitmap));
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap[0], ==, 0);
    get.iova = 0x102000;
    get.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap[0], ==, 0x3);
    /* iommufd_check_iova_range: misaligned, zero-sized, overflowing */
    get.page_size = 2 * PAGE;
    get.iova = 0x101000;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==,
                    EINVAL);
    get.page_size = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==,
                    EINVAL);
    get.page_size = PAGE;
    get.length = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==,
                    EINVAL);
    get.iova = UINT64_MAX & EMU_TEST_PAGE_MASK;
    get.length = 2 * PAGE;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==,
                    EOVERFLOW);
    /* A hole in the range: iopt_area_contig_done() fails it. */
    get.iova = 0x100000;
    get.length = 32 * PAGE;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==,
                    EINVAL);
    /* Disabling keeps the bits readable; enabling clears them. */
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x104000, &v, 1, EMU_DMA_WRITE),
                    ==, 0);
    set.flags = 0;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set), ==, 0);
    get.length = 16 * PAGE;
    memset(bitmap, 0, sizeof(bitmap));
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap[0], ==, (1u << 2) | (1u << 4));
    set.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set), ==, 0);
    memset(bitmap, 0, sizeof(bitmap));
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap[0], ==, 0);
    g_assert_cmpint(t_detach(f), ==, 0);
}

/*
 * @pages of the fixture's buffer at IOVA 0x100000, a dirty-tracking HWPT
 * on them attached to the device, tracking on; returns the HWPT.
 */
static uint32_t dirty_up(EmuFixture *f, unsigned pages)
{
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
    };
    uint32_t hwpt, pt;

    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, pages * PAGE,
                                0x100000), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id,
                                 IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0,
                                 &hwpt), ==, 0);
    pt = hwpt;
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    set.hwpt_id = hwpt;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set), ==, 0);
    return hwpt;
}

/*
 * The bitmap is u64 words at any byte address (iova_bitmap): bit n is
 * bit n % 8 of byte n / 8. A bitmap one byte off its alignment, with a
 * run of dirty pages that crosses whole bytes.
 */
static void test_dirty_bitmap_layout(EmuFixture *f, gconstpointer data)
{
    uint8_t raw[16];
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get), .iova = 0x100000, .length = 48 * PAGE,
        .page_size = PAGE, .data = (uintptr_t)(raw + 1),
    };
    uint32_t hwpt;
    uint8_t v[30 * PAGE];

    memset(v, 0x5a, sizeof(v));
    hwpt = dirty_up(f, 48);
    /* pages 5..34 in one write, then page 40 */
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x105000, v, sizeof(v),
                          EMU_DMA_WRITE), ==, 0);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x128000, v, 1, EMU_DMA_WRITE),
                    ==, 0);
    memset(raw, 0, sizeof(raw));
    get.hwpt_id = hwpt;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(raw[0], ==, 0);
    g_assert_cmphex(raw[1], ==, 0xe0);          /* bits 5..7 */
    g_assert_cmphex(raw[2], ==, 0xff);          /* 8..15 */
    g_assert_cmphex(raw[3], ==, 0xff);          /* 16..23 */
    g_assert_cmphex(raw[4], ==, 0xff);          /* 24..31 */
    g_assert_cmphex(raw[5], ==, 0x07);          /* 32..34 */
    g_assert_cmphex(raw[6], ==, 0x01);          /* 40 */
    g_assert_cmphex(raw[7], ==, 0);
    g_assert_cmpint(t_detach(f), ==, 0);
}

/*
 * The dirty store keeps runs: writing a large range page by page makes
 * one run, a read of part of it splits it, and a GET over a huge range
 * with little dirty in it visits only that.
 */
static void test_dirty_runs(void)
{
    EmuDirty *d = emu_dirty_new();
    uint64_t p, seen = 0;

    for (p = 0; p < 100000; p++) {
        emu_dirty_mark(d, p * PAGE, p * PAGE + PAGE - 1);
        emu_dirty_mark(d, p * PAGE, p * PAGE + PAGE - 1);
    }
    g_assert_cmpuint(emu_dirty_nr_runs(d), ==, 1);
    emu_dirty_clean(d, 10 * PAGE, 20 * PAGE - 1);
    g_assert_cmpuint(emu_dirty_nr_runs(d), ==, 2);
    emu_dirty_mark(d, 1ULL << 50, (1ULL << 50) + PAGE - 1);
    emu_dirty_mark(d, UINT64_MAX - PAGE + 1, UINT64_MAX);
    g_assert_cmpuint(emu_dirty_nr_runs(d), ==, 4);
    g_assert_cmpint(emu_dirty_report(d, 15 * PAGE, UINT64_MAX, count_bytes,
                                     &seen), ==, 0);
    g_assert_cmpuint(seen, ==, (100000 - 20) * PAGE + 2 * PAGE);
    /* filling the hole merges everything up to the next run */
    emu_dirty_mark(d, 5 * PAGE, 30 * PAGE);
    g_assert_cmpuint(emu_dirty_nr_runs(d), ==, 3);
    emu_dirty_clean(d, 0, UINT64_MAX);
    g_assert_cmpuint(emu_dirty_nr_runs(d), ==, 0);
    emu_dirty_free(d);
}

/*
 * The same page written twice while tracking: the dirty set must keep one
 * record of it (the old GHashTable code freed the key it had just stored,
 * a use-after-free ASan reports on the next lookup).
 */
static void test_dirty_rewrite(EmuFixture *f, gconstpointer data)
{
    uint64_t bitmap = 0;
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get), .iova = 0x100000, .length = 16 * PAGE,
        .page_size = PAGE, .data = (uintptr_t)&bitmap,
    };
    uint32_t hwpt;
    uint8_t v = 1;
    int i;

    hwpt = dirty_up(f, 16);
    for (i = 0; i < 3; i++) {
        g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x102000 + i, &v, 1,
                              EMU_DMA_WRITE), ==, 0);
    }
    get.hwpt_id = hwpt;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
    g_assert_cmphex(bitmap, ==, 1u << 2);
    g_assert_cmpint(t_detach(f), ==, 0);
}

/* Reference for the runs: one flag per byte of a small space. */
typedef struct DirtyRef {
    uint8_t *bytes;
    uint64_t seen;
    bool ok;
} DirtyRef;

static int check_piece(uint64_t first, uint64_t last, void *opaque)
{
    DirtyRef *ref = opaque;
    uint64_t b;

    for (b = first; b <= last; b++) {
        ref->ok &= ref->bytes[b];
    }
    ref->seen += last - first + 1;
    return 0;
}

/*
 * Random marks, cleans and reports over a 4 KiB space against a byte
 * array: the runs hold exactly the dirty bytes, report them in order
 * without overlap, and stay disjoint and non-adjacent (merged).
 */
static void test_dirty_runs_random(void)
{
    const uint64_t space = 4096;
    g_autofree uint8_t *bytes = g_malloc0(space);
    EmuDirty *d = emu_dirty_new();
    GRand *rand = g_rand_new_with_seed(7);
    unsigned i;

    for (i = 0; i < 20000; i++) {
        uint64_t a = g_rand_int_range(rand, 0, space);
        uint64_t b = a + g_rand_int_range(rand, 0, 64);
        uint64_t x, expect = 0, runs = 0;
        DirtyRef ref = { .bytes = bytes, .ok = true };

        b = MIN(space - 1, b);
        if (g_rand_int_range(rand, 0, 3)) {
            emu_dirty_mark(d, a, b);
            memset(bytes + a, 1, b - a + 1);
        } else {
            emu_dirty_clean(d, a, b);
            memset(bytes + a, 0, b - a + 1);
        }
        a = g_rand_int_range(rand, 0, space);
        b = a + g_rand_int_range(rand, 0, 512);
        b = MIN(space - 1, b);
        g_assert_cmpint(emu_dirty_report(d, a, b, check_piece, &ref), ==, 0);
        for (x = a; x <= b; x++) {
            expect += bytes[x];
        }
        g_assert_true(ref.ok);
        g_assert_cmpuint(ref.seen, ==, expect);
        for (x = 0; x < space; x++) {
            runs += bytes[x] && (!x || !bytes[x - 1]);
        }
        g_assert_cmpuint(emu_dirty_nr_runs(d), ==, runs);
    }
    g_rand_free(rand);
    emu_dirty_free(d);
}

/* ---- fault queue ---- */

static void fault_alloc(EmuFixture *f, struct iommu_fault_alloc *fa,
                        uint32_t *hwpt)
{
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd), .flags = IOMMU_HWPT_FAULT_ID_VALID,
        .dev_id = f->dev_id, .pt_id = f->ioas_id,
    };
    uint32_t pt;

    *fa = (struct iommu_fault_alloc) { .size = sizeof(*fa) };
    g_assert_cmpint(ctx_ioctl(f, IOMMU_FAULT_QUEUE_ALLOC, fa), ==, 0);
    g_assert_true(emu_ctx_owns_fd(f->ctx, fa->out_fault_fd));
    cmd.fault_id = fa->out_fault_id;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, 0);
    *hwpt = pt = cmd.out_hwpt_id;
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
}

/*
 * An unrecoverable DMA fault puts nothing on the HWPT's fault queue: only
 * PRI page requests and stalls go through iommu_report_device_fault() to
 * iommufd_fault_iopf_handler(), and the model's devices issue none. On
 * SMMUv3, where arm_smmu_enable_iopf() lets a master without stalls
 * attach such a HWPT (VT-d would refuse a device without PRI).
 */
static void test_fault_not_a_page_request(EmuFixture *f, gconstpointer data)
{
    struct iommu_hwpt_pgfault pf[2];
    struct iommu_fault_alloc fa;
    uint32_t hwpt;
    EmuStats st;
    uint8_t v;

    fault_alloc(f, &fa, &hwpt);
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, 0x7123, &v, 1, EMU_DMA_WRITE),
                    ==, -EFAULT);
    emu_host_stats(f->host, &st);
    g_assert_cmpuint(st.faults, ==, 1);
    g_assert_cmpint(emu_ctx_read(f->ctx, fa.out_fault_fd, pf, sizeof(pf)),
                    ==, 0);
    g_assert_cmpint(t_detach(f), ==, 0);
}

static int trigger_iopf(EmuFixture *f, uint32_t pasid, uint32_t grpid,
                        uint64_t addr)
{
    EmuTestCmd cmd = {
        .size = sizeof(cmd), .op = EMU_TEST_OP_TRIGGER_IOPF,
        .trigger_iopf = {
            .dev_id = f->dev_id, .pasid = pasid, .grpid = grpid,
            .perm = IOMMU_PGFAULT_PERM_READ, .addr = addr,
        },
    };

    return ctx_ioctl(f, EMU_IOMMU_TEST_CMD, &cmd);
}

/*
 * The fault queue's file, fed by page requests (the selftest mock's
 * TRIGGER_IOPF): iommufd_fault_fops_read() takes a multiple of the record
 * (ESPIPE otherwise) big enough for one (EINVAL), gives each record read
 * a cookie, lowest free from 1, with length 0
 * (iommufd_compose_fault_message()); iommufd_fault_fops_write() takes
 * whole responses (ESPIPE) to cookies read (EINVAL). The open fd holds
 * the object: IOMMU_DESTROY is EBUSY until it is closed.
 */
static void test_fault_queue(void)
{
    struct iommu_hwpt_page_response resp = { 0 };
    struct iommu_hwpt_pgfault pf[2];
    struct iommu_fault_alloc fa;
    EmuFixture fix, *f = &fix;
    uint32_t hwpt;
    int fd;

    emu_fixture_setup(f, EMU_HW_SELFTEST);
    fault_alloc(f, &fa, &hwpt);
    fd = fa.out_fault_fd;
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==, 0);
    g_assert_cmpint(trigger_iopf(f, 5, 7, 0x7000), ==, 0);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, 8), ==, -1);
    g_assert_cmpint(errno, ==, ESPIPE);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, 0), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==,
                    sizeof(pf[0]));
    g_assert_cmphex(pf[0].addr, ==, 0x7000);
    g_assert_cmpuint(pf[0].dev_id, ==, f->dev_id);
    g_assert_cmpuint(pf[0].pasid, ==, 5);
    g_assert_cmpuint(pf[0].grpid, ==, 7);
    g_assert_cmpuint(pf[0].perm, ==, IOMMU_PGFAULT_PERM_READ);
    g_assert_cmpuint(pf[0].length, ==, 0);
    g_assert_cmpuint(pf[0].cookie, ==, 1);
    g_assert_cmpint(trigger_iopf(f, 5, 8, 0x8000), ==, 0);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==,
                    sizeof(pf[0]));
    g_assert_cmpuint(pf[0].cookie, ==, 2);
    /* Respond once; a second response to the same cookie is invalid. */
    resp.cookie = 1;
    g_assert_cmpint(emu_ctx_write(f->ctx, fd, &resp, 4), ==, -1);
    g_assert_cmpint(errno, ==, ESPIPE);
    g_assert_cmpint(emu_ctx_write(f->ctx, fd, &resp, sizeof(resp)), ==,
                    sizeof(resp));
    g_assert_cmpint(emu_ctx_write(f->ctx, fd, &resp, sizeof(resp)), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    /* cookie 1 is free again */
    g_assert_cmpint(trigger_iopf(f, 5, 9, 0x9000), ==, 0);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==,
                    sizeof(pf[0]));
    g_assert_cmpuint(pf[0].cookie, ==, 1);
    /*
     * iopf_group_alloc() failing (iommu_report_device_fault()): the
     * request is answered as failed, nothing is queued, and TRIGGER_IOPF
     * still returns 0
     */
    emu_host_fail_nth(f->host, 1, ENOMEM);
    g_assert_cmpint(trigger_iopf(f, 5, 10, 0xa000), ==, 0);
    emu_host_fail_nth(f->host, 0, 0);
    emu_sweep_note(f->host);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==, 0);
    /*
     * the response cookie's slot failing (iommufd_fault_fops_read()):
     * ENOMEM, and the record is still there for the next read
     */
    g_assert_cmpint(trigger_iopf(f, 5, 11, 0xb000), ==, 0);
    emu_host_fail_nth(f->host, 1, ENOMEM);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==, -1);
    g_assert_cmpint(errno, ==, ENOMEM);
    emu_host_fail_nth(f->host, 0, 0);
    emu_sweep_note(f->host);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==,
                    sizeof(pf[0]));
    g_assert_cmphex(pf[0].addr, ==, 0xb000);
    g_assert_cmpuint(pf[0].grpid, ==, 11);
    /*
     * Detach answers INVALID what the attachment still has, read (11) or
     * not (12): iommufd_hwpt_detach_device() ->
     * iommufd_auto_response_faults(); the cookie is gone (EINVAL).
     */
    g_assert_cmpint(trigger_iopf(f, 5, 12, 0xc000), ==, 0);
    g_assert_cmpint(t_destroy(f, fa.out_fault_id), ==, EBUSY);
    g_assert_cmpint(t_detach(f), ==, 0);
    resp.cookie = pf[0].cookie;
    g_assert_cmpint(emu_ctx_write(f->ctx, fd, &resp, sizeof(resp)), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, pf, sizeof(pf)), ==, 0);
    /* the HWPT holds the queue, then its fd does */
    g_assert_cmpint(t_destroy(f, hwpt), ==, 0);
    g_assert_cmpint(t_destroy(f, fa.out_fault_id), ==, EBUSY);
    g_assert_cmpint(emu_ctx_close_fd(f->ctx, fd), ==, 0);
    g_assert_false(emu_ctx_owns_fd(f->ctx, fd));
    g_assert_cmpint(t_destroy(f, fa.out_fault_id), ==, 0);
    emu_fixture_teardown(f);
}

/*
 * The selftest mock's vIOMMU data (mock_viommu_init()): data_len from the
 * end of out_data to the whole struct, EINVAL outside, longer with a zero
 * tail too (__iommu_copy_struct_from_user()); in_data comes back.
 */
static void test_mock_viommu_data(void)
{
    EmuTestViommuData d[2];
    EmuFixture fix, *f = &fix;
    struct iommu_viommu_alloc cmd = {
        .size = sizeof(cmd), .type = EMU_VIOMMU_TYPE_SELFTEST,
        .data_uptr = (uintptr_t)d,
    };
    uint32_t s2;

    emu_fixture_setup(f, EMU_HW_SELFTEST);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 0, NULL, 0, &s2), ==, 0);
    cmd.dev_id = f->dev_id;
    cmd.hwpt_id = s2;
    memset(d, 0, sizeof(d));
    d[0].in_data = 0x1234;
    cmd.data_len = offsetof(EmuTestViommuData, out_data) + 3;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &cmd), ==, EINVAL);
    cmd.data_len = sizeof(d[0]) + 8;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &cmd), ==, EINVAL);
    cmd.data_len = offsetof(EmuTestViommuData, out_data) + 4;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &cmd), ==, 0);
    g_assert_cmphex(d[0].out_data, ==, 0x1234);
    g_assert_cmpint(t_destroy(f, cmd.out_viommu_id), ==, 0);
    g_assert_cmpint(t_destroy(f, s2), ==, 0);
    emu_fixture_teardown(f);
}

/* ---- lifetimes and leaks ---- */

static void test_close_destroys_everything(void)
{
    EmuFixture f;
    uint32_t hwpt, ioas2;

    emu_fixture_setup(&f, EMU_HW_VTD);
    g_assert_cmpint(t_ioas_alloc(&f, &ioas2), ==, 0);
    g_assert_cmpint(t_map_fixed(&f, ioas2, f.buf, PAGE, 0x1000), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(&f, ioas2, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                                 NULL, 0, &hwpt), ==, 0);
    /* Leaves first: closing the device, then the context, frees all. */
    emu_fixture_teardown(&f);
}

static void test_leak_report(void)
{
    EmuHost *host = emu_host_new();
    EmuHwConfig cfg;
    EmuIommu *iommu;
    EmuDevice *dev;
    EmuVfio *vfio;
    EmuCtx *ctx;
    uint32_t id;
    struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

    emu_hw_config_default(&cfg, EMU_HW_PAGING);
    g_assert_cmpint(emu_host_add_iommu(host, &cfg, &iommu), ==, 0);
    g_assert_cmpint(emu_host_add_device(host, iommu, 1, "leaky", &dev), ==, 0);
    g_assert_cmpint(emu_host_add_device(host, iommu, 1, "dup", &dev), ==,
                    -EEXIST);
    ctx = emu_ctx_open(host);
    g_assert_cmpint(emu_ctx_ioctl(ctx, IOMMU_IOAS_ALLOC, &cmd), ==, 0);
    id = cmd.out_ioas_id;
    g_assert_cmpuint(id, ==, 1);
    vfio = emu_vfio_open(dev);
    g_assert_null(emu_vfio_open(dev));      /* one open at a time */
    /* Nothing closed: the cdev, the context and its IOAS are named. */
    g_assert_cmpuint(emu_host_free(host), ==, 3);
    /* The report leaves everything in place: clean up and re-check. */
    emu_vfio_close(vfio);
    emu_ctx_close(ctx);
    g_assert_cmpuint(emu_host_free(host), ==, 0);
}

/* ---- failure injection: the IOAS, HWPT and attach paths ---- */

/*
 * iopt_reserve_iova() refuses a range an allowed range meets, as one an
 * area holds (EADDRINUSE): a new domain reserves what lies outside its
 * aperture (iopt_table_add_domain(), above 2^48 on this VT-d), a
 * device's first attach the regions its driver reserves
 * (iopt_table_enforce_dev_resv_regions(): the x86 MSI window).
 */
static void test_reserved_vs_allowed(EmuFixture *f, gconstpointer data)
{
    struct iommu_iova_range r = { .start = 0 };
    struct iommu_ioas_allow_iovas allow = {
        .size = sizeof(allow), .ioas_id = f->ioas_id, .num_iovas = 1,
        .allowed_iovas = (uintptr_t)&r,
    };
    uint32_t hwpt, pt;

    r.last = (1ULL << 49) - 1;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &allow), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt), ==,
                    EADDRINUSE);
    r.last = (1ULL << 32) - 1;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &allow), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, 0, 0, NULL, 0, &hwpt), ==, 0);
    pt = hwpt;
    g_assert_cmpint(t_attach(f, &pt), ==, EADDRINUSE);
    r.last = 0xfedfffff;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &allow), ==, 0);
    g_assert_cmpint(t_attach(f, &pt), ==, 0);
    g_assert_cmpint(t_detach(f), ==, 0);
}

typedef struct IoasSweep {
    unsigned step;
    uint32_t ioas2, hwpt1, hwpt2, pt;
    int memfd;
} IoasSweep;

#define SWEEP_BASE      0x100000ULL     /* two adjacent areas */
#define SWEEP_DOMAIN    0x200000ULL     /* mapped with one domain */
#define SWEEP_TWO       0x300000ULL     /* mapped with two domains */
#define SWEEP_COPY      0x400000ULL     /* a copy of SWEEP_BASE */
#define SWEEP_FILE      0x500000ULL     /* MAP_FILE */
#define SWEEP_COPY2     0x600000ULL     /* the copy in the second IOAS */

static int copy_range(EmuFixture *f, uint32_t dst, uint64_t dst_iova,
                      uint64_t src_iova, uint64_t len)
{
    struct iommu_ioas_copy cmd = {
        .size = sizeof(cmd),
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
        .dst_ioas_id = dst, .src_ioas_id = f->ioas_id,
        .dst_iova = dst_iova, .src_iova = src_iova, .length = len,
    };

    return ctx_ioctl(f, IOMMU_IOAS_COPY, &cmd);
}

static int ioas_sweep_step(EmuFixture *f, void *opaque)
{
    IoasSweep *s = opaque;

    switch (s->step) {
    case 0:
        return t_ioas_alloc(f, &s->ioas2);
    case 1:
    case 15: {  /* a new list replaces the old one, kept on failure */
        struct iommu_iova_range r = {
            .start = 0, .last = (1ULL << (s->step == 1 ? 31 : 30)) - 1,
        };
        struct iommu_ioas_allow_iovas cmd = {
            .size = sizeof(cmd), .ioas_id = s->ioas2, .num_iovas = 1,
            .allowed_iovas = (uintptr_t)&r,
        };

        return ctx_ioctl(f, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
    }
    case 16: {
        /*
         * iopt_unmap_iova_range() returns no allocation failure: the
         * batch it may allocate falls back to a buffer on the stack
         * (batch_init_backup()), so there is nothing to fail here
         */
        uint64_t unmapped;

        return t_unmap(f, s->ioas2, SWEEP_COPY2, 32 * PAGE, &unmapped);
    }
    case 2:
        return t_map_fixed(f, f->ioas_id, f->buf, 16 * PAGE, SWEEP_BASE);
    case 3:
        return t_map_fixed(f, f->ioas_id, f->buf + 16 * PAGE, 16 * PAGE,
                           SWEEP_BASE + 16 * PAGE);
    case 4:
        return copy_range(f, s->ioas2, SWEEP_COPY2, SWEEP_BASE, 32 * PAGE);
    case 5:
        return t_hwpt_alloc(f, f->ioas_id, 0, IOMMU_HWPT_DATA_NONE, NULL, 0,
                            &s->hwpt1);
    case 6:
        s->pt = s->hwpt1;
        return t_attach(f, &s->pt);
    case 7:
        return t_map_fixed(f, f->ioas_id, f->buf + 32 * PAGE, 8 * PAGE,
                           SWEEP_DOMAIN);
    case 8:
        return t_hwpt_alloc(f, f->ioas_id, 0, IOMMU_HWPT_DATA_NONE, NULL, 0,
                            &s->hwpt2);
    case 9:
        return t_map_fixed(f, f->ioas_id, f->buf + 40 * PAGE, 8 * PAGE,
                           SWEEP_TWO);
    case 10:
        return copy_range(f, f->ioas_id, SWEEP_COPY, SWEEP_BASE, 32 * PAGE);
    case 11: {
        struct iommu_ioas_map_file cmd = {
            .size = sizeof(cmd),
            .flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
            .ioas_id = f->ioas_id, .fd = s->memfd, .length = 4 * PAGE,
            .iova = SWEEP_FILE,
        };

        return ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd);
    }
    case 12:
        s->pt = s->hwpt2;       /* a replace: hwpt1 stays on failure */
        return t_attach(f, &s->pt);
    case 13: {
        uint8_t info[64];
        struct iommu_hw_info cmd = {
            .size = sizeof(cmd), .dev_id = f->dev_id,
            .data_len = sizeof(info), .data_uptr = (uintptr_t)info,
        };

        return ctx_ioctl(f, IOMMU_GET_HW_INFO, &cmd);
    }
    case 14:
        s->pt = s->ioas2;       /* an automatic domain, filled */
        return t_attach(f, &s->pt);
    }
    g_assert_not_reached();
}

/*
 * Every injection point on the way, failed in turn: each failure leaves
 * the state as it was (a failed replace keeps the old domain), then the
 * step succeeds and DMA lands where the IOAS maps it. The lower bounds
 * per step are the points the model has there: losing one fails.
 */
static void test_fail_nth_ioas(EmuFixture *f, gconstpointer data)
{
    static const unsigned min_points[] = {
        2,      /* IOAS: object, id slot */
        1,      /* ALLOW_IOVAS: the new list */
        1, 1,   /* MAP, no domain: the area */
        2,      /* COPY, no domain: an area per piece */
        /* HWPT: object, slot, domain, above the aperture, IOAS slot, areas */
        7,
        2,      /* attach: the MSI window reserved, the handle */
        3,      /* MAP, one domain: area, pin, the domain */
        8,      /* HWPT: object, slot, domain, aperture, IOAS slot, 3 areas */
        4,      /* MAP, two domains */
        8,      /* COPY of two pieces into two domains */
        5,      /* MAP_FILE: file, area, pin, two domains */
        1,      /* replace within the IOAS: the handle */
        1,      /* GET_HW_INFO: the driver's copy */
        /*
         * replace onto an automatic domain of another IOAS: object,
         * slot, domain, aperture, IOAS slot, 2 areas, the MSI window,
         * the handle
         */
        9,
        1,      /* ALLOW_IOVAS again: the old list stays on failure */
        0,      /* UNMAP: nothing that can fail */
    };
    IoasSweep s = { 0 };
    unsigned total = 0, n;
    uint64_t v = 0x1122334455667788ULL, got = 0;
    uint8_t *file;

    /* opening a context (iommufd_fops_open): nothing is left behind */
    emu_host_fail_nth(f->host, 1, ENOMEM);
    g_assert_null(emu_ctx_open(f->host));
    g_assert_cmpint(errno, ==, ENOMEM);
    emu_host_fail_nth(f->host, 0, 0);
    emu_sweep_note(f->host);
    emu_ctx_close(emu_ctx_open(f->host));

    file = t_memfd_buf(4 * PAGE, &s.memfd);
    for (s.step = 0; s.step < G_N_ELEMENTS(min_points); s.step++) {
        n = emu_sweep_step(f, ioas_sweep_step, &s);
        g_test_message("step %u: %u injection points", s.step, n);
        g_assert_cmpuint(n, >=, min_points[s.step]);
        total += n;
        if (s.step == 12) {
            /* hwpt2 attached: the copy of the second area lands in it */
            g_assert_cmpint(t_dma(f, EMU_NO_PASID, SWEEP_COPY + 17 * PAGE + 8,
                                  &v, sizeof(v), EMU_DMA_WRITE), ==, 0);
            g_assert_cmpmem(f->buf + 17 * PAGE + 8, sizeof(v), &v,
                            sizeof(v));
            g_assert_cmpint(t_dma(f, EMU_NO_PASID, SWEEP_FILE + PAGE, &v,
                                  sizeof(v), EMU_DMA_WRITE), ==, 0);
            g_assert_cmpmem(file + PAGE, sizeof(v), &v, sizeof(v));
        }
        if (s.step == 14) {
            /* the automatic domain on the second IOAS: its copy */
            g_assert_cmpint(t_dma(f, EMU_NO_PASID,
                                  SWEEP_COPY2 + 17 * PAGE + 8, &got,
                                  sizeof(got), EMU_DMA_READ), ==, 0);
            g_assert_cmpuint(got, ==, v);
        }
    }
    g_test_message("%u injection points in all", total);
    g_assert_cmpuint(total, >=, 56);
    /* the automatic domain on the second IOAS: its copy, now unmapped */
    g_assert_cmpint(t_dma(f, EMU_NO_PASID, SWEEP_COPY2 + 17 * PAGE + 8, &got,
                          sizeof(got), EMU_DMA_READ), <, 0);
    g_assert_cmpint(t_detach(f), ==, 0);
    munmap(file, 4 * PAGE);
    close(s.memfd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(path, fn, setup) \
    g_test_add("/emu/iommufd/" path, EmuFixture, NULL, setup, fn, teardown)
    T("ioctl-sizes", test_ioctl_sizes, setup_paging);
    T("ioas/alloc-destroy", test_ioas_alloc_destroy, setup_paging);
    T("ioas/map-errors", test_map_errors, setup_paging);
    T("ioas/map-alignment", test_map_alignment, setup_paging);
    T("ioas/map-pinning", test_map_pinning, setup_paging);
    T("ioas/map-auto-iova", test_map_auto_iova, setup_paging);
    T("ioas/map-auto-iova-rules", test_map_auto_iova_rules, setup_paging);
    T("ioas/unmap", test_unmap, setup_paging);
    T("ioas/iova-ranges", test_iova_ranges, setup_vtd);
    T("ioas/allow-iovas", test_allow_iovas, setup_paging);
    T("ioas/copy", test_copy, setup_paging);
    T("ioas/map-file", test_map_file, setup_paging);
    T("ioas/option", test_option, setup_paging);
    T("ioas/option-huge-pages", test_option_huge_pages, setup_paging);
    T("hwpt/alloc-errors", test_hwpt_alloc_errors, setup_paging);
    T("hwpt/invalidate-paging", test_invalidate_paging, setup_vtd);
    T("device/attach-dma", test_attach_dma, setup_paging);
    T("device/attach-pasid-no-pasid", test_attach_pasid_no_pasid,
      setup_paging);
    T("device/unmap-blocks-dma", test_unmap_blocks_dma, setup_paging);
    T("device/map-readonly", test_map_readonly, setup_paging);
    T("hw-info/paging", test_hw_info_paging, setup_paging);
    T("dirty/tracking", test_dirty_tracking, setup_vtd);
    T("fault/not-a-page-request", test_fault_not_a_page_request,
      setup_smmuv3);
    T("dirty/rewrite", test_dirty_rewrite, setup_vtd);
    T("dirty/bitmap-layout", test_dirty_bitmap_layout, setup_vtd);
    T("fail-nth/ioas", test_fail_nth_ioas, setup_vtd);
    T("ioas/reserved-vs-allowed", test_reserved_vs_allowed, setup_vtd);
#undef T
    g_test_add_func("/emu/iommufd/close-destroys-everything",
                    test_close_destroys_everything);
    g_test_add_func("/emu/iommufd/leak-report", test_leak_report);
    g_test_add_func("/emu/iommufd/fault/queue", test_fault_queue);
    g_test_add_func("/emu/iommufd/selftest/viommu-data",
                    test_mock_viommu_data);
    g_test_add_func("/emu/iommufd/dirty/runs", test_dirty_runs);
    g_test_add_func("/emu/iommufd/dirty/runs-random",
                    test_dirty_runs_random);
    g_test_add_func("/emu/iommufd/hwpt/spr17-readonly", test_spr17_readonly);
    return g_test_run();
}
