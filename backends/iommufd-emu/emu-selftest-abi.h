/*
 * VNest emulated host IOMMU: the kernel selftest's test-only ABI
 *
 * Linux built with CONFIG_IOMMUFD_TEST adds one ioctl, IOMMU_TEST_CMD,
 * and a mock IOMMU with its own hw_info, nested, invalidation, vIOMMU
 * and vEVENTQ data types. The kernel keeps these in a private header
 * (drivers/iommu/iommufd/iommufd_test.h) that the selftests include; this
 * file restates the same binary interface (Linux 7.3) so the model does
 * not depend on the kernel sources.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef EMU_SELFTEST_ABI_H
#define EMU_SELFTEST_ABI_H

#include <linux/iommufd.h>
#include <linux/types.h>
#include <stdbool.h>

/* Operations of IOMMU_TEST_CMD: positional, starting at 1. */
enum {
    EMU_TEST_OP_ADD_RESERVED = 1,
    EMU_TEST_OP_MOCK_DOMAIN,
    EMU_TEST_OP_MD_CHECK_MAP,
    EMU_TEST_OP_MD_CHECK_REFS,
    EMU_TEST_OP_CREATE_ACCESS,
    EMU_TEST_OP_DESTROY_ACCESS_PAGES,
    EMU_TEST_OP_ACCESS_PAGES,
    EMU_TEST_OP_ACCESS_RW,
    EMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
    EMU_TEST_OP_MOCK_DOMAIN_REPLACE,
    EMU_TEST_OP_ACCESS_REPLACE_IOAS,
    EMU_TEST_OP_MOCK_DOMAIN_FLAGS,
    EMU_TEST_OP_DIRTY,
    EMU_TEST_OP_MD_CHECK_IOTLB,
    EMU_TEST_OP_TRIGGER_IOPF,
    EMU_TEST_OP_DEV_CHECK_CACHE,
    EMU_TEST_OP_TRIGGER_VEVENT,
    EMU_TEST_OP_PASID_ATTACH,
    EMU_TEST_OP_PASID_REPLACE,
    EMU_TEST_OP_PASID_DETACH,
    EMU_TEST_OP_PASID_CHECK_HWPT,
    EMU_TEST_OP_DMABUF_GET,
    EMU_TEST_OP_DMABUF_REVOKE,
};

/* The mock IOMMU's paging domain */
#define EMU_MOCK_APERTURE_START     (1ULL << 24)
#define EMU_MOCK_APERTURE_LAST      ((1ULL << 31) - 1)
#define EMU_MOCK_PAGE_SIZE          2048ULL
#define EMU_MOCK_HUGE_PAGE_SIZE     (512 * EMU_MOCK_PAGE_SIZE)
#define EMU_MOCK_IOMMUPT_DEFAULT    0       /* pagetable_type */
#define EMU_MOCK_IOMMUPT_HUGE       1

#define EMU_MOCK_ACCESS_WRITE       (1u << 0)   /* create_access/pages */
#define EMU_MOCK_ACCESS_SYZ         (1u << 16)
#define EMU_MOCK_RW_WRITE           (1u << 0)   /* access_rw.flags */
#define EMU_MOCK_RW_SLOW_PATH       (1u << 2)
#define EMU_MOCK_ACCESS_NEEDS_PIN   (1u << 0)   /* create_access.flags */

#define EMU_MOCK_DEV_NO_DIRTY       (1u << 0)   /* mock_domain_flags */
#define EMU_MOCK_DEV_PASID          (1u << 2)

#define EMU_MOCK_IOTLB_NUM          4
#define EMU_MOCK_DEV_CACHE_NUM      4
#define EMU_MOCK_PASID_WIDTH        20
#define EMU_TEST_PASID_RESERVED     1024

/*
 * Not ABI: the model's per-device state of a mock device (its
 * EmuDevice.hw_priv), shared by emu-selftest.c and emu-hw-selftest.c.
 */
typedef struct EmuMockDev {
    __u32 cache[EMU_MOCK_DEV_CACHE_NUM];
    bool pasid_1024_fake_error;     /* mock_domain_set_dev_pasid_nop */
} EmuMockDev;

typedef struct EmuTestCmd {
    __u32 size;
    __u32 op;
    __u32 id;
    __u32 __reserved;
    union {
        struct {
            __aligned_u64 start;
            __aligned_u64 length;
        } add_reserved;
        struct {
            __u32 out_stdev_id;
            __u32 out_hwpt_id;
            __u32 out_idev_id;
            __u32 dev_flags;    /* MOCK_DOMAIN_FLAGS only */
        } mock_domain;
        struct {
            __u32 pt_id;
        } mock_domain_replace;
        struct {
            __aligned_u64 iova;
            __aligned_u64 length;
            __aligned_u64 uptr;
        } check_map;
        struct {
            __aligned_u64 length;
            __aligned_u64 uptr;
            __u32 refs;
        } check_refs;
        struct {
            __u32 out_access_fd;
            __u32 flags;
        } create_access;
        struct {
            __u32 access_pages_id;
        } destroy_access_pages;
        struct {
            __u32 flags;
            __u32 out_access_pages_id;
            __aligned_u64 iova;
            __aligned_u64 length;
            __aligned_u64 uptr;
        } access_pages;
        struct {
            __aligned_u64 iova;
            __aligned_u64 length;
            __aligned_u64 uptr;
            __u32 flags;
        } access_rw;
        struct {
            __u32 limit;
        } memory_limit;
        struct {
            __u32 ioas_id;
        } access_replace_ioas;
        struct {
            __u32 flags;
            __aligned_u64 iova;
            __aligned_u64 length;
            __aligned_u64 page_size;
            __aligned_u64 uptr;
            __aligned_u64 out_nr_dirty;
        } dirty;
        struct {
            __u32 id;
            __u32 iotlb;
        } check_iotlb;
        struct {
            __u32 dev_id;
            __u32 pasid;
            __u32 grpid;
            __u32 perm;
            __u64 addr;
        } trigger_iopf;
        struct {
            __u32 id;
            __u32 cache;
        } check_dev_cache;
        struct {
            __u32 dev_id;
        } trigger_vevent;
        struct {
            __u32 pasid;
            __u32 pt_id;
        } pasid_attach;         /* also PASID_REPLACE */
        struct {
            __u32 pasid;
        } pasid_detach;
        struct {
            __u32 pasid;
            __u32 hwpt_id;
        } pasid_check;
        struct {
            __u32 length;
            __u32 open_flags;
        } dmabuf_get;
        struct {
            __s32 dmabuf_fd;
            __u32 revoked;
        } dmabuf_revoke;
    };
    __u32 last;
} EmuTestCmd;

#define EMU_IOMMU_TEST_CMD  _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* GET_HW_INFO of the mock IOMMU */
#define EMU_HW_INFO_TYPE_SELFTEST   0xfeedbeef
#define EMU_SELFTEST_REGVAL         0xdeadbeef
typedef struct EmuTestHwInfo {
    __u32 flags;
    __u32 test_reg;
} EmuTestHwInfo;

/* Nested HWPT data: the initial value of every mock IOTLB slot */
#define EMU_HWPT_DATA_SELFTEST      0xdead
#define EMU_TEST_IOTLB_DEFAULT      0xbadbeef
#define EMU_TEST_DEV_CACHE_DEFAULT  0xbaddad
typedef struct EmuTestHwptData {
    __u32 iotlb;
    __u32 pagetable_type;
} EmuTestHwptData;

/* HWPT and vIOMMU invalidation */
#define EMU_INV_DATA_SELFTEST       0xdeadbeef
#define EMU_TEST_INV_FLAG_ALL       (1u << 0)
typedef struct EmuTestHwptInv {
    __u32 flags;
    __u32 iotlb_id;
} EmuTestHwptInv;

typedef struct EmuTestViommuInv {
    __u32 flags;
    __u32 vdev_id;
    __u32 cache_id;
} EmuTestViommuInv;

/* vIOMMU: in_data comes back as out_data */
#define EMU_VIOMMU_TYPE_SELFTEST    0xdeadbeef
typedef struct EmuTestViommuData {
    __u32 in_data;
    __u32 out_data;
    __aligned_u64 out_mmap_offset;
    __aligned_u64 out_mmap_length;
} EmuTestViommuData;

/* vEVENTQ: one record per TRIGGER_VEVENT */
#define EMU_VEVENTQ_TYPE_SELFTEST   0xbeefbeef
typedef struct EmuTestVevent {
    __u32 virt_id;
} EmuTestVevent;

/* HW queues of the mock vIOMMU */
#define EMU_HW_QUEUE_TYPE_SELFTEST  0xdeadbeef
#define EMU_TEST_HW_QUEUE_MAX       2

#endif
