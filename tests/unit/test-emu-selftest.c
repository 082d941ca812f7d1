/*
 * VNest unit tests: the kernel selftest's mock IOMMU in the emulated host
 *
 * IOMMU_TEST_CMD as Linux 7.3's drivers/iommu/iommufd/selftest.c answers
 * it: what the mock domain maps and pins, compared by physical page (the
 * kernel compares struct pages), access objects, the DIRTY op's leaves.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "emu-test.h"
#include "emu-selftest-abi.h"

#define MOCK_PAGE       EMU_MOCK_PAGE_SIZE
#define APERTURE        EMU_MOCK_APERTURE_START

static int t_test(EmuFixture *f, uint32_t op, EmuTestCmd *cmd)
{
    cmd->size = sizeof(*cmd);
    cmd->op = op;
    return ctx_ioctl(f, EMU_IOMMU_TEST_CMD, cmd);
}

/* A mock device with a mock domain on @ioas; returns its device id. */
static uint32_t mock_domain(EmuFixture *f, uint32_t ioas, uint32_t *hwpt)
{
    EmuTestCmd cmd = { .id = ioas };

    g_assert_cmpint(t_test(f, EMU_TEST_OP_MOCK_DOMAIN, &cmd), ==, 0);
    if (hwpt) {
        *hwpt = cmd.mock_domain.out_hwpt_id;
    }
    return cmd.mock_domain.out_idev_id;
}

static int check_map(EmuFixture *f, uint32_t hwpt, uint64_t iova,
                     uint64_t len, const void *uptr)
{
    EmuTestCmd cmd = {
        .id = hwpt,
        .check_map = { .iova = iova, .length = len, .uptr = (uintptr_t)uptr },
    };

    return t_test(f, EMU_TEST_OP_MD_CHECK_MAP, &cmd);
}

static int check_refs(EmuFixture *f, const void *uptr, uint64_t len,
                      uint32_t refs)
{
    EmuTestCmd cmd = {
        .check_refs = { .length = len, .uptr = (uintptr_t)uptr,
                        .refs = refs },
    };

    return t_test(f, EMU_TEST_OP_MD_CHECK_REFS, &cmd);
}

static int map_file(EmuFixture *f, uint32_t ioas, int fd, uint64_t start,
                    uint64_t len, uint64_t *iova)
{
    struct iommu_ioas_map_file cmd = {
        .size = sizeof(cmd),
        .flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
                 (*iova ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
        .ioas_id = ioas, .fd = fd, .start = start, .length = len,
        .iova = *iova,
    };
    int rc = ctx_ioctl(f, IOMMU_IOAS_MAP_FILE, &cmd);

    *iova = cmd.iova;
    return rc;
}

static void setup(EmuFixture *f, gconstpointer data)
{
    emu_fixture_setup(f, EMU_HW_SELFTEST);
}

static void teardown(EmuFixture *f, gconstpointer data)
{
    emu_fixture_teardown(f);
}

/*
 * MD_CHECK_MAP compares physical pages (iommufd_test_md_check_pa): a
 * MAP_FILE area, which the model maps itself, matches the caller's own
 * mapping of the file, and not some other memory.
 */
static void test_check_map_file(EmuFixture *f, gconstpointer data)
{
    uint32_t hwpt;
    uint64_t iova = APERTURE;
    uint8_t *user;
    int fd;

    user = t_memfd_buf(4 * PAGE, &fd);
    mock_domain(f, f->ioas_id, &hwpt);
    g_assert_cmpint(map_file(f, f->ioas_id, fd, 0, 4 * PAGE, &iova), ==, 0);
    g_assert_cmpint(check_map(f, hwpt, iova, 4 * PAGE, user), ==, 0);
    g_assert_cmpint(check_map(f, hwpt, iova + PAGE, 2 * PAGE, user + PAGE),
                    ==, 0);
    g_assert_cmpint(check_map(f, hwpt, iova, PAGE, user + PAGE), ==, EINVAL);
    g_assert_cmpint(check_map(f, hwpt, iova, PAGE, f->buf), ==, EINVAL);
    /* alignment to the mock page; a zero length checks nothing */
    g_assert_cmpint(check_map(f, hwpt, iova, PAGE, user + 1), ==, EINVAL);
    g_assert_cmpint(check_map(f, hwpt, iova, 0, user), ==, 0);
    munmap(user, 4 * PAGE);
    close(fd);
}

/*
 * MAP_FILE from a start inside a page (iopt_map_file_pages keeps the
 * offset as start_byte): the area begins at that byte of the file.
 */
static void test_map_file_subpage(EmuFixture *f, gconstpointer data)
{
    uint64_t iova = 0;
    uint32_t hwpt;
    uint8_t *user;
    int fd;

    user = t_memfd_buf(4 * PAGE, &fd);
    mock_domain(f, f->ioas_id, &hwpt);
    g_assert_cmpint(map_file(f, f->ioas_id, fd, MOCK_PAGE, 2 * PAGE, &iova),
                    ==, 0);
    g_assert_cmphex(iova % PAGE, ==, MOCK_PAGE);
    g_assert_cmpint(check_map(f, hwpt, iova, 2 * PAGE, user + MOCK_PAGE),
                    ==, 0);
    g_assert_cmpint(check_refs(f, user, 3 * PAGE, 1), ==, 0);
    /* past the end of the file */
    g_assert_cmpint(map_file(f, f->ioas_id, fd, 3 * PAGE + MOCK_PAGE,
                             PAGE, &iova), ==, EINVAL);
    munmap(user, 4 * PAGE);
    close(fd);
}

/*
 * MD_CHECK_REFS: an area starting in the middle of a page pins that page
 * (the model once tested only where a page starts); a mismatch is EIO.
 */
static void test_check_refs_subpage(EmuFixture *f, gconstpointer data)
{
    uint64_t iova = 0;

    mock_domain(f, f->ioas_id, NULL);
    g_assert_cmpint(check_refs(f, f->buf, 2 * PAGE, 0), ==, 0);
    g_assert_cmpint(t_map(f, f->ioas_id, f->buf + MOCK_PAGE, PAGE, &iova,
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf, 2 * PAGE, 1), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf + 2 * PAGE, PAGE, 0), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf, PAGE, 2), ==, EIO);
    g_assert_cmpint(check_refs(f, f->buf + 1, PAGE, 1), ==, EINVAL);
}

static int create_access(EmuFixture *f, uint32_t ioas, uint32_t flags,
                         uint32_t *fd)
{
    EmuTestCmd cmd = { .id = ioas, .create_access = { .flags = flags } };
    int rc = t_test(f, EMU_TEST_OP_CREATE_ACCESS, &cmd);

    *fd = cmd.create_access.out_access_fd;
    return rc;
}

static int access_pages(EmuFixture *f, uint32_t access, uint64_t iova,
                        uint64_t len, const void *uptr, uint32_t *id)
{
    EmuTestCmd cmd = {
        .id = access,
        .access_pages = { .iova = iova, .length = len,
                          .uptr = (uintptr_t)uptr },
    };
    int rc = t_test(f, EMU_TEST_OP_ACCESS_PAGES, &cmd);

    if (id) {
        *id = cmd.access_pages.out_access_pages_id;
    }
    return rc;
}

/*
 * MD_CHECK_REFS counts pinned page sets (iopt_pages): nothing is pinned in
 * an IOAS with no domain and no access pin; an access pins only what it
 * pins; a copy shares its source's pages, so a page stays at one pin
 * however many IOASes and domains map it.
 */
static void test_check_refs_pinned_only(EmuFixture *f, gconstpointer data)
{
    struct iommu_ioas_copy copy = {
        .size = sizeof(copy), .flags = IOMMU_IOAS_MAP_READABLE,
        .length = 4 * PAGE,
    };
    uint64_t iova = APERTURE;
    uint32_t ioas2, access, pin;
    EmuTestCmd cmd = { 0 };

    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, 4 * PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf, 4 * PAGE, 0), ==, 0);
    g_assert_cmpint(create_access(f, f->ioas_id, EMU_MOCK_ACCESS_NEEDS_PIN,
                                  &access), ==, 0);
    g_assert_cmpint(access_pages(f, access, iova + PAGE, PAGE,
                                 f->buf + PAGE, &pin), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf, PAGE, 0), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf + PAGE, PAGE, 1), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf + 2 * PAGE, 2 * PAGE, 0), ==, 0);
    /* a copy into an IOAS with a domain: one pin, all pages */
    g_assert_cmpint(t_ioas_alloc(f, &ioas2), ==, 0);
    mock_domain(f, ioas2, NULL);
    copy.dst_ioas_id = ioas2;
    copy.src_ioas_id = f->ioas_id;
    copy.src_iova = iova;
    copy.dst_iova = APERTURE;
    copy.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_COPY, &copy), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf, 4 * PAGE, 1), ==, 0);
    cmd.id = access;
    cmd.destroy_access_pages.access_pages_id = pin;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DESTROY_ACCESS_PAGES, &cmd), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf, 4 * PAGE, 1), ==, 0);
    /* a second, separate map of the same memory is a second page set */
    iova = APERTURE + 0x100000;
    g_assert_cmpint(t_map(f, ioas2, f->buf, PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    g_assert_cmpint(check_refs(f, f->buf, PAGE, 2), ==, 0);
}

/* MD_CHECK_REFS of file pages: copies of one MAP_FILE count once. */
static void test_check_refs_file(EmuFixture *f, gconstpointer data)
{
    struct iommu_ioas_copy copy = {
        .size = sizeof(copy),
        .flags = IOMMU_IOAS_MAP_READABLE, .length = 2 * PAGE,
    };
    uint64_t iova = APERTURE;
    uint32_t ioas2;
    uint8_t *user;
    int fd;

    user = t_memfd_buf(4 * PAGE, &fd);
    mock_domain(f, f->ioas_id, NULL);
    g_assert_cmpint(map_file(f, f->ioas_id, fd, PAGE, 2 * PAGE, &iova), ==, 0);
    g_assert_cmpint(check_refs(f, user + PAGE, 2 * PAGE, 1), ==, 0);
    g_assert_cmpint(check_refs(f, user, PAGE, 0), ==, 0);
    g_assert_cmpint(check_refs(f, user + 3 * PAGE, PAGE, 0), ==, 0);
    g_assert_cmpint(t_ioas_alloc(f, &ioas2), ==, 0);
    copy.dst_ioas_id = ioas2;
    copy.src_ioas_id = f->ioas_id;
    copy.src_iova = iova;
    g_assert_cmpint(ctx_ioctl(f, IOMMU_IOAS_COPY, &copy), ==, 0);
    g_assert_cmpint(check_refs(f, user + PAGE, 2 * PAGE, 1), ==, 0);
    munmap(user, 4 * PAGE);
    close(fd);
}


/*
 * ACCESS_PAGES compares the pinned pages with the user's by physical page
 * (iommufd_test_check_pages, EBADE on a mismatch); a NULL uptr skips it.
 */
static void test_access_pages_file(EmuFixture *f, gconstpointer data)
{
    uint64_t iova = APERTURE;
    uint32_t access, plain, pin;
    uint8_t *user;
    int fd;

    user = t_memfd_buf(4 * PAGE, &fd);
    g_assert_cmpint(map_file(f, f->ioas_id, fd, 0, 4 * PAGE, &iova), ==, 0);
    g_assert_cmpint(create_access(f, f->ioas_id, EMU_MOCK_ACCESS_NEEDS_PIN,
                                  &access), ==, 0);
    g_assert_cmpint(access_pages(f, access, iova, 4 * PAGE, user, &pin),
                    ==, 0);
    g_assert_cmpint(access_pages(f, access, iova + 100, 2 * PAGE, user + 100,
                                 NULL), ==, 0);
    g_assert_cmpint(access_pages(f, access, iova, PAGE, user + PAGE, NULL),
                    ==, EBADE);
    g_assert_cmpint(access_pages(f, access, iova, PAGE, NULL, NULL), ==, 0);
    g_assert_cmpint(access_pages(f, access, iova + 4 * PAGE, PAGE, NULL,
                                 NULL), ==, ENOENT);
    /* an access made without NEEDS_PIN_PAGES cannot pin */
    g_assert_cmpint(create_access(f, f->ioas_id, 0, &plain), ==, 0);
    g_assert_cmpint(access_pages(f, plain, iova, PAGE, NULL, NULL), ==,
                    EOPNOTSUPP);
    g_assert_cmpint(emu_ctx_close_fd(f->ctx, plain), ==, 0);
    munmap(user, 4 * PAGE);
    close(fd);
}

/*
 * Replacing an access's IOAS runs its unmap op over the old IOAS
 * (iommufd_access_change_ioas): the selftest access drops its pins and
 * the replace succeeds; the same IOAS again changes nothing.
 */
static void test_access_replace_drops_pins(EmuFixture *f, gconstpointer data)
{
    EmuTestCmd cmd = { 0 };
    uint64_t iova = APERTURE, iova2 = APERTURE;
    uint32_t access, ioas2, pin;

    g_assert_cmpint(t_map(f, f->ioas_id, f->buf, 4 * PAGE, &iova,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    g_assert_cmpint(create_access(f, f->ioas_id, EMU_MOCK_ACCESS_NEEDS_PIN,
                                  &access), ==, 0);
    g_assert_cmpint(access_pages(f, access, iova, 4 * PAGE, f->buf, &pin),
                    ==, 0);
    cmd.id = access;
    cmd.access_replace_ioas.ioas_id = f->ioas_id;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_ACCESS_REPLACE_IOAS, &cmd), ==, 0);
    cmd.destroy_access_pages.access_pages_id = pin;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DESTROY_ACCESS_PAGES, &cmd), ==, 0);
    g_assert_cmpint(access_pages(f, access, iova, 4 * PAGE, f->buf, &pin),
                    ==, 0);
    g_assert_cmpint(t_ioas_alloc(f, &ioas2), ==, 0);
    g_assert_cmpint(t_map(f, ioas2, f->buf, 4 * PAGE, &iova2,
                          IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE), ==, 0);
    cmd.access_replace_ioas.ioas_id = ioas2;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_ACCESS_REPLACE_IOAS, &cmd), ==, 0);
    cmd.destroy_access_pages.access_pages_id = pin;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DESTROY_ACCESS_PAGES, &cmd), ==,
                    ENOENT);
    /* the old IOAS is free of the access: unmap and destroy it */
    g_assert_cmpint(t_unmap(f, f->ioas_id, iova, 4 * PAGE, NULL), ==, 0);
    g_assert_cmpint(t_destroy(f, f->ioas_id), ==, 0);
    f->ioas_id = 0;
    g_assert_cmpint(access_pages(f, access, iova2, PAGE, f->buf, NULL), ==, 0);
}

/*
 * The fixture's IOAS as the VFIO compat container, type1 v1, and 8 pages
 * of the buffer mapped at APERTURE through VFIO_IOMMU_MAP_DMA.
 */
static void type1v1_map(EmuFixture *f)
{
    struct iommu_vfio_ioas vioas = {
        .size = sizeof(vioas), .ioas_id = f->ioas_id,
        .op = IOMMU_VFIO_IOAS_SET,
    };
    struct vfio_iommu_type1_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
        .vaddr = (uintptr_t)f->buf, .iova = APERTURE, .size = 8 * PAGE,
    };

    g_assert_cmpint(ctx_ioctl(f, IOMMU_VFIO_IOAS, &vioas), ==, 0);
    g_assert_cmpint(emu_err(emu_ctx_ioctl(f->ctx, VFIO_SET_IOMMU,
                                          (void *)VFIO_TYPE1_IOMMU)), ==, 0);
    g_assert_cmpint(ctx_ioctl(f, VFIO_IOMMU_MAP_DMA, &map), ==, 0);
}

/*
 * VFIO type1 (v1) through the compat ioctls: large pages are off
 * (iommufd_vfio_set_iommu), so an unmap inside a mapping first cuts the
 * areas at its ends (iommufd_vfio_unmap_dma, iopt_cut_iova); not while an
 * access pins the area (iopt_area_split refuses, EINVAL).
 */
static void test_vfio_type1v1_cuts(EmuFixture *f, gconstpointer data)
{
    struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
    uint32_t access;

    type1v1_map(f);
    unmap.iova = APERTURE + 3 * PAGE;
    unmap.size = PAGE;
    g_assert_cmpint(ctx_ioctl(f, VFIO_IOMMU_UNMAP_DMA, &unmap), ==, 0);
    g_assert_cmphex(unmap.size, ==, PAGE);
    /* the pieces on both sides are areas of their own now */
    unmap.iova = APERTURE;
    unmap.size = 3 * PAGE;
    g_assert_cmpint(ctx_ioctl(f, VFIO_IOMMU_UNMAP_DMA, &unmap), ==, 0);
    g_assert_cmphex(unmap.size, ==, 3 * PAGE);
    /* an access pinning the rest: no cut */
    g_assert_cmpint(create_access(f, f->ioas_id, EMU_MOCK_ACCESS_NEEDS_PIN,
                                  &access), ==, 0);
    g_assert_cmpint(access_pages(f, access, APERTURE + 4 * PAGE, PAGE,
                                 f->buf + 4 * PAGE, NULL), ==, 0);
    unmap.iova = APERTURE + 6 * PAGE;
    unmap.size = PAGE;
    g_assert_cmpint(ctx_ioctl(f, VFIO_IOMMU_UNMAP_DMA, &unmap), ==, EINVAL);
}

static int pasid_op(EmuFixture *f, uint32_t op, uint32_t stdev,
                    uint32_t pasid, uint32_t pt)
{
    EmuTestCmd cmd = { .id = stdev };

    if (op == EMU_TEST_OP_PASID_CHECK_HWPT) {
        cmd.pasid_check.pasid = pasid;
        cmd.pasid_check.hwpt_id = pt;
    } else if (op == EMU_TEST_OP_PASID_DETACH) {
        cmd.pasid_detach.pasid = pasid;
    } else {
        cmd.pasid_attach.pasid = pasid;
        cmd.pasid_attach.pt_id = pt;
    }
    return t_test(f, op, &cmd);
}

/*
 * The mock driver fails every second domain set on PASID 1024 with
 * ENOMEM (mock_domain_set_dev_pasid_nop): a replace then keeps the old
 * domain; the next one succeeds; a detach resets the count.
 */
static void test_pasid_1024_fake_error(EmuFixture *f, gconstpointer data)
{
    EmuTestCmd md = { .mock_domain = { .dev_flags = EMU_MOCK_DEV_PASID } };
    uint32_t stdev, a, b;

    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_PASID, 0,
                                 NULL, 0, &a), ==, 0);
    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_PASID, 0,
                                 NULL, 0, &b), ==, 0);
    md.id = a;      /* the RID on a PASID-compatible domain */
    g_assert_cmpint(t_test(f, EMU_TEST_OP_MOCK_DOMAIN_FLAGS, &md), ==, 0);
    stdev = md.mock_domain.out_stdev_id;
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_ATTACH, stdev, 1024, a),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_REPLACE, stdev, 1024, b),
                    ==, ENOMEM);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_CHECK_HWPT, stdev, 1024, a),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_REPLACE, stdev, 1024, b),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_CHECK_HWPT, stdev, 1024, b),
                    ==, 0);
    /* other PASIDs never fail; a detach resets 1024 */
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_ATTACH, stdev, 200, a),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_REPLACE, stdev, 200, b),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_DETACH, stdev, 1024, 0),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_ATTACH, stdev, 1024, a),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_REPLACE, stdev, 1024, b),
                    ==, ENOMEM);
}

/*
 * The mock vIOMMU's two pages, mapped through the iommufd
 * (mock_viommu_init, iommufd_fops_mmap): only the exact region, shared,
 * not executable; the mapping holds the vIOMMU (EBUSY) until unmapped.
 */
static void test_viommu_mmap(EmuFixture *f, gconstpointer data)
{
    EmuTestViommuData vd = { .in_data = 0xbeef };
    struct iommu_viommu_alloc va = {
        .size = sizeof(va), .type = EMU_VIOMMU_TYPE_SELFTEST,
        .dev_id = f->dev_id, .data_len = sizeof(vd),
        .data_uptr = (uintptr_t)&vd,
    };
    uint64_t off, len;
    uint32_t *p;
    int fd;

    g_assert_cmpint(t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                                 0, NULL, 0, &va.hwpt_id), ==, 0);
    g_assert_cmpint(ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &va), ==, 0);
    g_assert_cmphex(vd.out_data, ==, 0xbeef);
    off = vd.out_mmap_offset;
    len = vd.out_mmap_length;
    g_assert_cmphex(len, ==, 2 * PAGE);
    g_assert_cmphex(off, >=, PAGE);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off + PAGE, len, PROT_READ,
                                 MAP_SHARED, &fd), ==, -ENXIO);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off, len / 2, PROT_READ,
                                 MAP_SHARED, &fd), ==, -ENXIO);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off, len * 2, PROT_READ,
                                 MAP_SHARED, &fd), ==, -ENXIO);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off, len, PROT_READ,
                                 MAP_PRIVATE, &fd), ==, -EINVAL);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off, 0, PROT_READ, MAP_SHARED, &fd),
                    ==, -EINVAL);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off, len, PROT_READ | PROT_EXEC,
                                 MAP_SHARED, &fd), ==, -EPERM);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off, len, PROT_READ | PROT_WRITE,
                                 MAP_SHARED, &fd), ==, 0);
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    g_assert(p != MAP_FAILED);
    g_assert_cmphex(*p, ==, 0xbeef);
    g_assert_cmpint(t_destroy(f, va.out_viommu_id), ==, EBUSY);
    munmap(p, len);
    emu_ctx_munmap(f->ctx, off);
    g_assert_cmpint(t_destroy(f, va.out_viommu_id), ==, 0);
    g_assert_cmpint(emu_ctx_mmap(f->ctx, off, len, PROT_READ, MAP_SHARED,
                                 &fd), ==, -ENXIO);
}

/* The fd a DMABUF_GET left open: /proc/self/fd names it "memfd:NAME". */
static int find_dmabuf_fd(void)
{
    char path[64], link[128];
    int fd, found = -1;
    ssize_t n;

    for (fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = 0;
            if (strstr(link, "memfd:iommufd-test-dmabuf")) {
                found = fd;
            }
        }
    }
    return found;
}

/*
 * DMABUF_GET returns 0, not the fd, as Linux 7.3.4's
 * iommufd_test_dmabuf_get does (the selftest then maps fd 0); the dma-buf
 * maps (iopt_alloc_dmabuf_pages: EINVAL past its size), a revoked one
 * maps nothing and refuses new maps (ENODEV), DMABUF_REVOKE of a file
 * that is no dma-buf is EINVAL.
 */
static void test_dmabuf(EmuFixture *f, gconstpointer data)
{
    EmuTestCmd get = { .dmabuf_get = { .length = 3 * PAGE + 1,
                                       .open_flags = O_CLOEXEC } };
    EmuTestCmd rev = { 0 };
    uint64_t iova = APERTURE, iova2 = APERTURE + 0x100000;
    int dfd, other;

    /* 0, not the fd */
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DMABUF_GET, &get), ==, 0);
    dfd = find_dmabuf_fd();
    g_assert_cmpint(dfd, >=, 0);
    /* rounded up to 4 pages */
    g_assert_cmpint(map_file(f, f->ioas_id, dfd, 4 * PAGE, PAGE, &iova), ==,
                    EINVAL);
    g_assert_cmpint(map_file(f, f->ioas_id, dfd, 0, 4 * PAGE, &iova), ==, 0);
    mock_domain(f, f->ioas_id, NULL);
    rev.dmabuf_revoke.dmabuf_fd = dfd;
    rev.dmabuf_revoke.revoked = 1;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DMABUF_REVOKE, &rev), ==, 0);
    g_assert_cmpint(map_file(f, f->ioas_id, dfd, 0, 4 * PAGE, &iova2), ==,
                    ENODEV);
    rev.dmabuf_revoke.revoked = 0;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DMABUF_REVOKE, &rev), ==, 0);
    g_assert_cmpint(map_file(f, f->ioas_id, dfd, 0, 4 * PAGE, &iova2), ==, 0);
    /* not a dma-buf; not a file */
    other = memfd_create("other", MFD_CLOEXEC);
    rev.dmabuf_revoke.dmabuf_fd = other;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DMABUF_REVOKE, &rev), ==, EINVAL);
    rev.dmabuf_revoke.dmabuf_fd = 4000;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DMABUF_REVOKE, &rev), ==, EBADF);
    get.dmabuf_get.length = 513 * PAGE;
    g_assert_cmpint(t_test(f, EMU_TEST_OP_DMABUF_GET, &get), ==, EINVAL);
    close(other);
    close(dfd);
}

static int mock_dirty(EmuFixture *f, uint32_t hwpt, uint64_t iova,
                      uint64_t len, uint64_t *bitmap, uint64_t *nr)
{
    EmuTestCmd cmd = {
        .id = hwpt,
        .dirty = { .iova = iova, .length = len, .page_size = MOCK_PAGE,
                   .uptr = (uintptr_t)bitmap },
    };
    int rc = t_test(f, EMU_TEST_OP_DIRTY, &cmd);

    *nr = cmd.dirty.out_nr_dirty;
    return rc;
}

static unsigned popcount_bitmap(const uint64_t *b, size_t words)
{
    unsigned n = 0;
    size_t i;

    for (i = 0; i < words; i++) {
        n += __builtin_popcountll(b[i]);
    }
    return n;
}

/*
 * The DIRTY op dirties the leaf holding the IOVA: a whole
 * MOCK_HUGE_PAGE_SIZE leaf on a MOCK_IOMMUPT_HUGE domain over hugetlb
 * memory, one PAGE_SIZE leaf once the IOAS has large pages disabled.
 */
static void test_dirty_huge_leaf(EmuFixture *f, gconstpointer data)
{
    const uint64_t len = 2 * 1024 * 1024, nbits = len / MOCK_PAGE;
    EmuTestHwptData hd = { .pagetable_type = EMU_MOCK_IOMMUPT_HUGE };
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
    };
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get), .iova = APERTURE, .length = len,
        .page_size = MOCK_PAGE,
    };
    struct iommu_option opt = {
        .size = sizeof(opt), .option_id = IOMMU_OPTION_HUGE_PAGES,
        .op = IOMMU_OPTION_OP_SET, .val64 = 0,
    };
    g_autofree uint64_t *bitmap = g_new0(uint64_t, nbits / 64);
    uint64_t nr;
    uint32_t idev, hwpt, ioas2, i;
    uint8_t *huge;

    huge = mmap(NULL, len, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
                -1, 0);
    if (huge == MAP_FAILED) {
        g_test_skip("no 2 MiB hugetlb page (vm.nr_hugepages)");
        return;
    }
    for (i = 0; i < 2; i++) {
        uint32_t ioas = f->ioas_id;

        if (i) {
            g_assert_cmpint(t_ioas_alloc(f, &ioas2), ==, 0);
            ioas = ioas2;
            opt.object_id = ioas;
            g_assert_cmpint(ctx_ioctl(f, IOMMU_OPTION, &opt), ==, 0);
        }
        g_assert_cmpint(t_map_fixed(f, ioas, huge, len, APERTURE), ==, 0);
        idev = mock_domain(f, ioas, NULL);
        {
            struct iommu_hwpt_alloc cmd = {
                .size = sizeof(cmd), .dev_id = idev, .pt_id = ioas,
                .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
                .data_type = EMU_HWPT_DATA_SELFTEST,
                .data_len = sizeof(hd), .data_uptr = (uintptr_t)&hd,
            };

            g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd), ==, 0);
            hwpt = cmd.out_hwpt_id;
        }
        set.hwpt_id = hwpt;
        g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set),
                        ==, 0);
        /* one bit: the mock page at 1 MiB + 8 KiB */
        memset(bitmap, 0, nbits / 8);
        bitmap[516 / 64] = 1ULL << (516 % 64);
        g_assert_cmpint(mock_dirty(f, hwpt, APERTURE, len, bitmap, &nr),
                        ==, 0);
        g_assert_cmpuint(nr, ==, 1);
        memset(bitmap, 0, nbits / 8);
        get.hwpt_id = hwpt;
        get.data = (uintptr_t)bitmap;
        g_assert_cmpint(ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get), ==, 0);
        if (!i) {
            /* the second 1 MiB leaf: bits 512..1023 */
            g_assert_cmpuint(popcount_bitmap(bitmap, nbits / 64), ==, 512);
            g_assert_cmphex(bitmap[8], ==, UINT64_MAX);
            g_assert_cmphex(bitmap[15], ==, UINT64_MAX);
        } else {
            /* PAGE_SIZE leaves: bits 516 and 517 */
            g_assert_cmpuint(popcount_bitmap(bitmap, nbits / 64), ==, 2);
            g_assert_cmphex(bitmap[8], ==, 3ULL << 4);
        }
    }
    munmap(huge, len);
}

/* ---- failure injection: what iommufd_fail_nth sweeps, and more ---- */

typedef struct MockSweep {
    unsigned step;
    uint32_t stdev, hwpt, access, pin, ioas2, parent, viommu, vdev;
    uint32_t fault, veventq, nested, pasid_hwpt, pasid_stdev, queue;
    uint32_t dirty_hwpt;
    int fault_fd, veventq_fd;
    uint64_t dirty_bits;
    uint8_t rw[64];
} MockSweep;

static int mock_sweep_step(EmuFixture *f, void *opaque)
{
    MockSweep *s = opaque;
    EmuTestCmd cmd = { 0 };
    int rc;

    switch (s->step) {
    case 0:
        return t_map_fixed(f, f->ioas_id, f->buf, 8 * PAGE, APERTURE);
    case 1:
        return t_map_fixed(f, f->ioas_id, f->buf + 8 * PAGE, 8 * PAGE,
                           APERTURE + 8 * PAGE);
    case 2:
        cmd.id = f->ioas_id;
        rc = t_test(f, EMU_TEST_OP_MOCK_DOMAIN, &cmd);
        s->stdev = cmd.mock_domain.out_stdev_id;
        s->hwpt = cmd.mock_domain.out_hwpt_id;
        return rc;
    case 3:
        return create_access(f, f->ioas_id, EMU_MOCK_ACCESS_NEEDS_PIN,
                             &s->access);
    case 4:     /* across both areas */
        return access_pages(f, s->access, APERTURE + 4 * PAGE, 8 * PAGE,
                            f->buf + 4 * PAGE, &s->pin);
    case 5:
        cmd.id = s->access;
        cmd.access_rw.iova = APERTURE + 8 * PAGE - 32;
        cmd.access_rw.length = sizeof(s->rw);
        cmd.access_rw.uptr = (uintptr_t)s->rw;
        cmd.access_rw.flags = EMU_MOCK_RW_WRITE;
        return t_test(f, EMU_TEST_OP_ACCESS_RW, &cmd);
    case 6:
        return t_ioas_alloc(f, &s->ioas2);
    case 7:     /* the pins go, but not on failure */
        cmd.id = s->access;
        cmd.access_replace_ioas.ioas_id = s->ioas2;
        return t_test(f, EMU_TEST_OP_ACCESS_REPLACE_IOAS, &cmd);
    case 8:
        cmd.id = f->ioas_id;
        cmd.add_reserved.start = APERTURE + 0x100000;
        cmd.add_reserved.length = PAGE;
        return t_test(f, EMU_TEST_OP_ADD_RESERVED, &cmd);
    case 9:
        return t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                            NULL, 0, &s->parent);
    case 10: {
        EmuTestViommuData vd = { .in_data = 1 };
        struct iommu_viommu_alloc va = {
            .size = sizeof(va), .type = EMU_VIOMMU_TYPE_SELFTEST,
            .dev_id = f->dev_id, .hwpt_id = s->parent,
            .data_len = sizeof(vd), .data_uptr = (uintptr_t)&vd,
        };

        rc = ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &va);
        s->viommu = va.out_viommu_id;
        return rc;
    }
    case 11: {
        struct iommu_vdevice_alloc vd = {
            .size = sizeof(vd), .viommu_id = s->viommu,
            .dev_id = f->dev_id, .virt_id = 0x42,
        };

        rc = ctx_ioctl(f, IOMMU_VDEVICE_ALLOC, &vd);
        s->vdev = vd.out_vdevice_id;
        return rc;
    }
    case 12: {
        struct iommu_hw_queue_alloc q = {
            .size = sizeof(q), .viommu_id = s->viommu,
            .type = EMU_HW_QUEUE_TYPE_SELFTEST,
            .nesting_parent_iova = APERTURE, .length = PAGE,
        };

        rc = ctx_ioctl(f, IOMMU_HW_QUEUE_ALLOC, &q);
        s->queue = q.out_hw_queue_id;
        return rc;
    }
    case 13: {
        struct iommu_fault_alloc fa = { .size = sizeof(fa) };

        rc = ctx_ioctl(f, IOMMU_FAULT_QUEUE_ALLOC, &fa);
        s->fault = fa.out_fault_id;
        s->fault_fd = fa.out_fault_fd;
        return rc;
    }
    case 14: {
        struct iommu_veventq_alloc vq = {
            .size = sizeof(vq), .viommu_id = s->viommu,
            .type = EMU_VEVENTQ_TYPE_SELFTEST, .veventq_depth = 2,
        };

        rc = ctx_ioctl(f, IOMMU_VEVENTQ_ALLOC, &vq);
        s->veventq = vq.out_veventq_id;
        s->veventq_fd = vq.out_veventq_fd;
        return rc;
    }
    case 15: {
        EmuTestHwptData d = { .iotlb = EMU_TEST_IOTLB_DEFAULT };
        struct iommu_hwpt_alloc ha = {
            .size = sizeof(ha), .flags = IOMMU_HWPT_FAULT_ID_VALID,
            .dev_id = f->dev_id, .pt_id = s->viommu,
            .data_type = EMU_HWPT_DATA_SELFTEST, .data_len = sizeof(d),
            .data_uptr = (uintptr_t)&d, .fault_id = s->fault,
        };

        rc = ctx_ioctl(f, IOMMU_HWPT_ALLOC, &ha);
        s->nested = ha.out_hwpt_id;
        return rc;
    }
    case 16:
        return t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_PASID, 0, NULL,
                            0, &s->pasid_hwpt);
    case 17:
        cmd.id = s->pasid_hwpt;
        cmd.mock_domain.dev_flags = EMU_MOCK_DEV_PASID;
        rc = t_test(f, EMU_TEST_OP_MOCK_DOMAIN_FLAGS, &cmd);
        s->pasid_stdev = cmd.mock_domain.out_stdev_id;
        return rc;
    case 18:
        return pasid_op(f, EMU_TEST_OP_PASID_ATTACH, s->pasid_stdev, 200,
                        s->pasid_hwpt);
    case 19:    /* a replace of the mock domain: the old one stays */
        cmd.id = s->stdev;
        cmd.mock_domain_replace.pt_id = s->pasid_hwpt;
        return t_test(f, EMU_TEST_OP_MOCK_DOMAIN_REPLACE, &cmd);
    case 20:
        cmd.dmabuf_get.length = PAGE;
        cmd.dmabuf_get.open_flags = O_CLOEXEC;
        return t_test(f, EMU_TEST_OP_DMABUF_GET, &cmd);
    case 21:
        return t_hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
                            0, NULL, 0, &s->dirty_hwpt);
    case 22: {
        struct iommu_hwpt_set_dirty_tracking set = {
            .size = sizeof(set), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
            .hwpt_id = s->dirty_hwpt,
        };

        return ctx_ioctl(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &set);
    }
    case 23: {  /* mock pages 2 and 5 of the area: dirty on failure? */
        uint64_t bits = (1ULL << 2) | (1ULL << 5), nr;

        return mock_dirty(f, s->dirty_hwpt, APERTURE, 64 * MOCK_PAGE, &bits,
                          &nr);
    }
    case 24: {  /* read and clear: nothing cleared on failure */
        struct iommu_hwpt_get_dirty_bitmap get = {
            .size = sizeof(get), .hwpt_id = s->dirty_hwpt, .iova = APERTURE,
            .length = 16 * PAGE, .page_size = PAGE,
            .data = (uintptr_t)&s->dirty_bits,
        };

        s->dirty_bits = 0;
        return ctx_ioctl(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &get);
    }
    }
    g_assert_not_reached();
}

/*
 * TRIGGER_VEVENT whose record cannot be allocated: the event is lost, a
 * LOST_EVENTS header takes its place and the command fails ENOMEM
 * (iommufd_viommu_report_event()); the next event comes after it, and
 * reading it drops the header.
 */
static void trigger_vevent_lost(EmuFixture *f, int fd)
{
    EmuTestCmd cmd = { .trigger_vevent = { .dev_id = f->dev_id } };
    struct {
        struct iommufd_vevent_header hdr;
        EmuTestVevent ev;
    } rec[2];

    emu_host_fail_nth(f->host, 1, ENOMEM);
    g_assert_cmpint(t_test(f, EMU_TEST_OP_TRIGGER_VEVENT, &cmd), ==, ENOMEM);
    emu_host_fail_nth(f->host, 0, 0);
    emu_sweep_note(f->host);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, rec, sizeof(rec)), ==,
                    sizeof(rec[0].hdr));
    g_assert_cmphex(rec[0].hdr.flags, ==, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
    g_assert_cmpuint(rec[0].hdr.sequence, ==, 0);
    g_assert_cmpint(t_test(f, EMU_TEST_OP_TRIGGER_VEVENT, &cmd), ==, 0);
    g_assert_cmpint(emu_ctx_read(f->ctx, fd, rec, sizeof(rec)), ==,
                    sizeof(rec[0]));
    g_assert_cmphex(rec[0].hdr.flags, ==, 0);
    g_assert_cmpuint(rec[0].hdr.sequence, ==, 1);
    g_assert_cmphex(rec[0].ev.virt_id, ==, 0x42);
}

/*
 * The paths iommufd_fail_nth sweeps (mock domains, access pins and
 * copies, device, vIOMMU, vDEVICE, HW queue, fault and vEVENTQ objects,
 * PASID attach), each injection point failed in turn: every failure
 * leaves the state as it was, and the mock domain then maps what the
 * IOAS does. Lower bounds per step: losing a point fails.
 */
static void test_fail_nth_mock(EmuFixture *f, gconstpointer data)
{
    static const unsigned min_points[] = {
        1, 1,   /* MAP: the area */
        /*
         * MOCK_DOMAIN: selftest object 2, mock device, device 2, its
         * group, automatic domain 2, its domain, both sides of its
         * aperture, its slot in the IOAS, 2 areas, the handle
         */
        15,
        4,      /* CREATE_ACCESS: object 2, file, IOAS slot */
        4,      /* ACCESS_PAGES: pages array, 2 areas, item */
        1,      /* ACCESS_RW: bounce buffer */
        2,      /* IOAS */
        1,      /* ACCESS_REPLACE_IOAS: the new IOAS slot */
        1,      /* ADD_RESERVED */
        8,      /* nest parent: object 2, domain, aperture 2, slot, 2 areas */
        3,      /* vIOMMU: object 2, mmap region */
        3,      /* vDEVICE: object 2, virt_id slot */
        3,      /* HW queue: object 2, pin */
        3,      /* fault queue: object 2, file */
        3,      /* vEVENTQ: object 2, file */
        3,      /* nested HWPT: object 2, the mock's nested domain */
        8,      /* PASID-capable paging HWPT */
        7,      /* MOCK_DOMAIN_FLAGS on it: no automatic domain */
        1,      /* PASID_ATTACH: the handle */
        1,      /* MOCK_DOMAIN_REPLACE: the handle */
        1,      /* DMABUF_GET */
        7,      /* dirty HWPT: the replaced domain's free id, no slot */
        0,      /* SET_DIRTY_TRACKING: nothing allocated */
        1,      /* DIRTY: the bitmap copy */
        1,      /* GET_DIRTY_BITMAP: iova_bitmap_alloc */
    };
    MockSweep s = { 0 };
    unsigned total = 0, n;
    int dfd;

    memset(f->buf, 0, 16 * PAGE);
    memset(s.rw, 0xa5, sizeof(s.rw));
    for (s.step = 0; s.step < G_N_ELEMENTS(min_points); s.step++) {
        n = emu_sweep_step(f, mock_sweep_step, &s);
        g_test_message("step %u: %u injection points", s.step, n);
        g_assert_cmpuint(n, >=, min_points[s.step]);
        total += n;
    }
    g_test_message("%u injection points in all", total);
    g_assert_cmpuint(total, >=, 83);
    /* mock pages 2 and 5: the first 4 KiB page and the third */
    g_assert_cmphex(s.dirty_bits, ==, (1u << 1) | (1u << 2));
    /* the write landed once, across the two areas */
    g_assert_cmpmem(f->buf + 8 * PAGE - 32, sizeof(s.rw), s.rw,
                    sizeof(s.rw));
    /* the replaced automatic domain went (its id reused); the new one */
    g_assert_cmpuint(s.dirty_hwpt, ==, s.hwpt);
    g_assert_cmpint(check_map(f, s.pasid_hwpt, APERTURE, 16 * PAGE, f->buf),
                    ==, 0);
    g_assert_cmpint(pasid_op(f, EMU_TEST_OP_PASID_CHECK_HWPT, s.pasid_stdev,
                             200, s.pasid_hwpt), ==, 0);
    trigger_vevent_lost(f, s.veventq_fd);
    close(s.fault_fd);
    g_assert_cmpint(emu_ctx_close_fd(f->ctx, s.veventq_fd), ==, 0);
    g_assert_cmpint(t_destroy(f, s.veventq), ==, 0);
    {
        /* no vEVENTQ of the type: iommufd_viommu_report_event() */
        EmuTestCmd cmd = { .trigger_vevent = { .dev_id = f->dev_id } };

        g_assert_cmpint(t_test(f, EMU_TEST_OP_TRIGGER_VEVENT, &cmd), ==,
                        EOPNOTSUPP);
    }
    dfd = find_dmabuf_fd();
    g_assert_cmpint(dfd, >=, 0);
    close(dfd);
}

/*
 * The type1 v1 unmap inside a mapping cuts the area first
 * (iopt_area_split): its injection point, failed, leaves the area whole.
 */
static int cut_step(EmuFixture *f, void *opaque)
{
    struct vfio_iommu_type1_dma_unmap *unmap = opaque;

    unmap->iova = APERTURE;
    unmap->size = 3 * PAGE;
    return ctx_ioctl(f, VFIO_IOMMU_UNMAP_DMA, unmap);
}

static void test_fail_nth_cut(EmuFixture *f, gconstpointer data)
{
    struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };

    type1v1_map(f);
    g_assert_cmpuint(emu_sweep_step(f, cut_step, &unmap), >=, 1);
    g_assert_cmphex(unmap.size, ==, 3 * PAGE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(path, fn) \
    g_test_add("/emu/selftest/" path, EmuFixture, NULL, setup, fn, teardown)
    T("check-map/file", test_check_map_file);
    T("map-file/sub-page", test_map_file_subpage);
    T("check-refs/sub-page", test_check_refs_subpage);
    T("check-refs/file", test_check_refs_file);
    T("check-refs/pinned-only", test_check_refs_pinned_only);
    T("access/pages-file", test_access_pages_file);
    T("access/replace-drops-pins", test_access_replace_drops_pins);
    T("dirty/huge-leaf", test_dirty_huge_leaf);
    T("vfio/type1v1-cuts", test_vfio_type1v1_cuts);
    T("pasid/1024-fake-error", test_pasid_1024_fake_error);
    T("viommu/mmap", test_viommu_mmap);
    T("dmabuf", test_dmabuf);
    T("fail-nth/mock", test_fail_nth_mock);
    T("fail-nth/cut", test_fail_nth_cut);
#undef T
    return g_test_run();
}
