/*
 * VNest conformance: one program, the real iommufd uAPI, two kernels
 *
 * Uses only what the real uAPI offers (no selftest mock ops): binds a VFIO
 * device cdev to an iommufd, then IOAS map/unmap/copy/ranges, paging HWPT
 * allocation, attach/replace/detach, invalidation on a paging HWPT,
 * hardware info, dirty tracking and object lifetimes. Every step prints
 * one line, "<step>: <result> [key=value...]", with the errno name on
 * failure; run against the real kernel (in a guest, on an emulated device
 * bound to vfio-pci) and against the emulated host, the two outputs must
 * be identical. Lines starting with "info:" are not compared (values the
 * ABI leaves to the implementation).
 *
 *   uapi-check [--nest] [IOMMU_DEV [VFIO_CDEV]]
 *   (defaults: /dev/iommu /dev/vfio/devices/vfio0)
 *
 *   uapi-check --nest-dma [IOMMU_DEV [VFIO_CDEV]]
 *
 * --nest checks the nesting uAPI instead, on an IOMMU that offers it (a
 * guest kernel on QEMU's arm-smmuv3 with x-s2fwb=on, or the emulated host
 * as that hardware): nest parent, then for an SMMUv3 the vIOMMU, vDEVICE,
 * nested HWPTs from vSTEs, vIOMMU invalidation and vEVENTQ, for VT-d the
 * VTD_S1 nested HWPT and its invalidation; attach each, and what each
 * object's lifetime allows.
 *
 * --nest-dma (SMMUv3, the device an edu): makes the device DMA through a
 * nested stage 1 this program writes (CD and page tables at IOVAs of the
 * nest parent, so the IOMMU walks them through stage 2): the data must
 * land where the stage-1 tables say; a changed mapping stays stale until
 * a TLBI through the vIOMMU; an unmapped address is refused and the
 * fault reaches the vEVENTQ with the virtual StreamID.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#define BUF_SIZE    (256 * 1024)
#define IOVA_A      0x100000ULL
#define IOVA_B      0x400000ULL
#define LEN_A       (64 * 1024)

static int iommufd, vfiofd;
static uint8_t *buf;

static const char *err_name(int err)
{
    switch (err) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENOTTY: return "ENOTTY";
    case E2BIG: return "E2BIG";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EADDRINUSE: return "EADDRINUSE";
    case EMSGSIZE: return "EMSGSIZE";
    case EIO: return "EIO";
    default: return "E?";
    }
}

/* Issue an ioctl; returns 0 or the errno. */
static int io(int fd, unsigned long cmd, void *arg)
{
    return ioctl(fd, cmd, arg) ? errno : 0;
}

static void step(const char *name, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void step(const char *name, int err, const char *fmt, ...)
{
    va_list ap;

    printf("%s: %s", name, err_name(err));
    if (fmt) {
        putchar(' ');
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
}

static int ioas_alloc(uint32_t *id)
{
    struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
    int err = io(iommufd, IOMMU_IOAS_ALLOC, &cmd);

    *id = cmd.out_ioas_id;
    return err;
}

static int map(uint32_t ioas, uint64_t iova, void *va, uint64_t len,
               uint32_t flags, uint64_t *out)
{
    struct iommu_ioas_map cmd = {
        .size = sizeof(cmd), .flags = flags, .ioas_id = ioas,
        .user_va = (uintptr_t)va, .length = len, .iova = iova,
    };
    int err = io(iommufd, IOMMU_IOAS_MAP, &cmd);

    if (out) {
        *out = cmd.iova;
    }
    return err;
}

#define RW      (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED   (IOMMU_IOAS_MAP_FIXED_IOVA | RW)

static int unmap(uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *out)
{
    struct iommu_ioas_unmap cmd = {
        .size = sizeof(cmd), .ioas_id = ioas, .iova = iova, .length = len,
    };
    int err = io(iommufd, IOMMU_IOAS_UNMAP, &cmd);

    *out = cmd.length;
    return err;
}

static int destroy(uint32_t id)
{
    struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

    return io(iommufd, IOMMU_DESTROY, &cmd);
}

static int hwpt_alloc(uint32_t dev, uint32_t pt, uint32_t flags,
                      uint32_t *id)
{
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd), .flags = flags, .dev_id = dev, .pt_id = pt,
    };
    int err = io(iommufd, IOMMU_HWPT_ALLOC, &cmd);

    *id = cmd.out_hwpt_id;
    return err;
}

static int attach(uint32_t *pt)
{
    struct vfio_device_attach_iommufd_pt cmd = {
        .argsz = sizeof(cmd), .pt_id = *pt,
    };
    int err = io(vfiofd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);

    *pt = cmd.pt_id;
    return err;
}

static int detach(void)
{
    struct vfio_device_detach_iommufd_pt cmd = { .argsz = sizeof(cmd) };

    return io(vfiofd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd);
}

static void check_ranges(const char *name, uint32_t ioas)
{
    struct iommu_iova_range r[8];
    struct iommu_ioas_iova_ranges cmd = {
        .size = sizeof(cmd), .ioas_id = ioas, .num_iovas = 0,
        .allowed_iovas = (uintptr_t)r,
    };
    int err = io(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd);
    uint32_t i;

    step(name, err, "num_iovas=%u", cmd.num_iovas);
    cmd.num_iovas = 8;
    err = io(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd);
    printf("info: %s-full: %s alignment=0x%" PRIx64, name, err_name(err),
           (uint64_t)cmd.out_iova_alignment);
    for (i = 0; !err && i < cmd.num_iovas && i < 8; i++) {
        printf(" [0x%" PRIx64 "-0x%" PRIx64 "]", (uint64_t)r[i].start,
               (uint64_t)r[i].last);
    }
    putchar('\n');
}

static void check_map_unmap(uint32_t ioas)
{
    uint64_t out;
    int err;

    step("map-fixed", map(ioas, IOVA_A, buf, LEN_A, FIXED, NULL), NULL);
    step("map-overlap", map(ioas, IOVA_A + 4096, buf, 4096, FIXED, NULL),
         NULL);
    err = map(ioas, IOVA_B + 1, buf, 4096, FIXED, NULL);
    step("map-unaligned-iova", err, NULL);
    if (!err) {
        /* Each step leaves the IOAS as it found it. */
        err = unmap(ioas, IOVA_B + 1, 4096, &out);
        step("map-unaligned-iova-unmap", err, "length=0x%" PRIx64, out);
    }
    step("map-no-rw", map(ioas, IOVA_B, buf, 4096,
                          IOMMU_IOAS_MAP_FIXED_IOVA, NULL), NULL);
    step("map-bad-flags", map(ioas, IOVA_B, buf, 4096, FIXED | (1u << 8),
                              NULL), NULL);
    step("map-bad-ioas", map(9999, IOVA_B, buf, 4096, FIXED, NULL), NULL);
    err = map(ioas, IOVA_B, NULL, 4096, FIXED, NULL);
    step("map-null-va", err, NULL);
    if (!err) {
        err = unmap(ioas, IOVA_B, 4096, &out);
        step("map-null-va-unmap", err, "length=0x%" PRIx64, out);
    }
    err = map(ioas, 0, buf + LEN_A, 4096, RW, &out);
    step("map-auto", err, NULL);
    printf("info: map-auto iova=0x%" PRIx64 "\n", out);
    if (!err) {
        err = unmap(ioas, out, 4096, &out);
        step("unmap-auto", err, "length=0x%" PRIx64, out);
    }
    step("unmap-split", unmap(ioas, IOVA_A, 4096, &out), NULL);
    step("unmap-none", unmap(ioas, IOVA_B, 4096, &out), NULL);
    step("unmap-zero", unmap(ioas, IOVA_A, 0, &out), NULL);
}

static void check_copy(uint32_t src)
{
    struct iommu_ioas_copy cmd = {
        .size = sizeof(cmd), .flags = FIXED, .src_ioas_id = src,
        .length = LEN_A, .src_iova = IOVA_A, .dst_iova = IOVA_B,
    };
    uint32_t dst;
    uint64_t out;
    int err;

    step("copy-ioas-alloc", ioas_alloc(&dst), NULL);
    cmd.dst_ioas_id = dst;
    step("copy", io(iommufd, IOMMU_IOAS_COPY, &cmd), NULL);
    step("copy-again", io(iommufd, IOMMU_IOAS_COPY, &cmd), NULL);
    cmd.src_iova = IOVA_B;
    step("copy-unmapped-src", io(iommufd, IOMMU_IOAS_COPY, &cmd), NULL);
    err = unmap(dst, IOVA_B, LEN_A, &out);
    step("copy-unmap", err, "length=0x%" PRIx64, out);
    step("copy-destroy", destroy(dst), NULL);
}

static void check_hw_info(uint32_t dev)
{
    uint8_t data[256];
    struct iommu_hw_info cmd = {
        .size = sizeof(cmd), .dev_id = dev, .data_len = sizeof(data),
        .data_uptr = (uintptr_t)data,
    };
    int err = io(iommufd, IOMMU_GET_HW_INFO, &cmd);

    step("hw-info", err, "type=%u data_len=%u", cmd.out_data_type,
         cmd.data_len);
    printf("info: hw-info caps=0x%" PRIx64 " max_pasid_log2=%u\n",
           (uint64_t)cmd.out_capabilities, cmd.out_max_pasid_log2);
    cmd.dev_id = 9999;
    step("hw-info-bad-dev", io(iommufd, IOMMU_GET_HW_INFO, &cmd), NULL);
    cmd.dev_id = dev;
    cmd.flags = 1u << 7;
    step("hw-info-bad-flags", io(iommufd, IOMMU_GET_HW_INFO, &cmd), NULL);
}

static void check_invalidate(uint32_t hwpt)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = 1 };
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .hwpt_id = hwpt, .data_uptr = (uintptr_t)&inv,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(inv), .entry_num = 1,
    };
    int err = io(iommufd, IOMMU_HWPT_INVALIDATE, &cmd);

    step("invalidate-paging", err, "entry_num=%u", cmd.entry_num);
}

static void check_dirty(uint32_t dev, uint32_t ioas)
{
    uint32_t hwpt;
    int err = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt);
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
        .hwpt_id = hwpt,
    };

    step("dirty-hwpt-alloc", err, NULL);
    if (!err) {
        step("dirty-enable", io(iommufd, IOMMU_HWPT_SET_DIRTY_TRACKING, &set),
             NULL);
        step("dirty-hwpt-destroy", destroy(hwpt), NULL);
    }
}

/* Attach, replace, detach and what each does to object lifetimes. */
static void check_attach(uint32_t dev, uint32_t ioas)
{
    uint32_t hwpt, pt;
    int err;

    err = hwpt_alloc(dev, ioas, 0, &hwpt);
    step("hwpt-alloc-paging", err, NULL);
    step("hwpt-alloc-nest-parent",
         hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &pt), NULL);
    step("hwpt-alloc-bad-flags", hwpt_alloc(dev, ioas, 1u << 12, &pt), NULL);
    step("hwpt-alloc-bad-dev", hwpt_alloc(9999, ioas, 0, &pt), NULL);
    pt = hwpt;
    step("attach-hwpt", attach(&pt), "same_id=%d", pt == hwpt);
    check_ranges("ranges-attached", ioas);
    step("destroy-attached-hwpt", destroy(hwpt), NULL);
    step("destroy-busy-ioas", destroy(ioas), NULL);
    check_invalidate(hwpt);
    pt = ioas;
    err = attach(&pt);
    step("replace-with-ioas", err, "auto_domain=%d", !err && pt != ioas);
    step("destroy-replaced-hwpt", destroy(hwpt), NULL);
    step("detach", detach(), NULL);
    step("detach-again", detach(), NULL);
}

/* ---- --nest: the nesting uAPI ---- */

#define NEST_VSID       0x8         /* the vDEVICE's virtual StreamID */
#define STE0_V          (1ULL << 0)
#define STE0_CFG(c)     ((uint64_t)(c) << 1)
#define STE_ABORT       (STE0_V | STE0_CFG(0))
#define STE_BYPASS      (STE0_V | STE0_CFG(4))
#define STE_S1          (STE0_V | STE0_CFG(5))
#define CMD_CFGI_CD     0x05
#define CMD_TLBI_NH_ASID 0x11

static int nested_alloc(uint32_t dev, uint32_t pt, uint32_t type,
                        void *data, uint32_t len, uint32_t *id)
{
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd), .dev_id = dev, .pt_id = pt,
        .data_type = type, .data_len = len, .data_uptr = (uintptr_t)data,
    };
    int err = io(iommufd, IOMMU_HWPT_ALLOC, &cmd);

    *id = cmd.out_hwpt_id;
    return err;
}

static int vste_alloc(uint32_t dev, uint32_t viommu, uint64_t w0,
                      uint64_t w1, uint32_t *id)
{
    struct iommu_hwpt_arm_smmuv3 ste = { .ste = { w0, w1 } };

    return nested_alloc(dev, viommu, IOMMU_HWPT_DATA_ARM_SMMUV3, &ste,
                        sizeof(ste), id);
}

/* One IOMMU_HWPT_INVALIDATE of @n commands on @id; entry_num after it. */
static int smmu_invalidate(uint32_t id, const uint64_t (*cmds)[2], uint32_t n,
                           uint32_t *done)
{
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .hwpt_id = id, .data_uptr = (uintptr_t)cmds,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = sizeof(*cmds), .entry_num = n,
    };
    int err = io(iommufd, IOMMU_HWPT_INVALIDATE, &cmd);

    *done = cmd.entry_num;
    return err;
}

static void check_nest_smmuv3(uint32_t dev, uint32_t ioas, uint32_t parent)
{
    struct iommu_viommu_alloc va = {
        .size = sizeof(va), .type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
        .dev_id = dev, .hwpt_id = parent,
    };
    struct iommu_vdevice_alloc vd = {
        .size = sizeof(vd), .dev_id = dev, .virt_id = NEST_VSID,
    };
    struct iommu_veventq_alloc vq = {
        .size = sizeof(vq), .type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
        .veventq_depth = 16,
    };
    /* A TLBI by ASID and a CD invalidation of the vDEVICE's StreamID */
    const uint64_t cmds[2][2] = {
        { CMD_TLBI_NH_ASID | (1ULL << 48), 0 },
        { CMD_CFGI_CD | ((uint64_t)NEST_VSID << 32), 1 /* leaf */ },
    };
    const uint64_t bad_cmd[1][2] = { { 0x7f, 0 } };
    uint32_t viommu, paging, abort_id, bypass, s1, id, done;
    int err;

    err = hwpt_alloc(dev, ioas, 0, &paging);
    step("nest-paging-alloc", err, NULL);
    va.hwpt_id = paging;
    step("viommu-alloc-not-parent", io(iommufd, IOMMU_VIOMMU_ALLOC, &va),
         NULL);
    va.hwpt_id = parent;
    err = io(iommufd, IOMMU_VIOMMU_ALLOC, &va);
    step("viommu-alloc", err, NULL);
    if (err) {
        return;
    }
    viommu = va.out_viommu_id;
    /* The vDEVICE is needed to attach, not to allocate */
    err = vste_alloc(dev, viommu, STE_S1 | IOVA_A, 0, &id);
    step("nested-before-vdevice", err, NULL);
    if (!err) {
        step("destroy-nested-before-vdevice", destroy(id), NULL);
    }
    vd.viommu_id = viommu;
    err = io(iommufd, IOMMU_VDEVICE_ALLOC, &vd);
    step("vdevice-alloc", err, NULL);
    step("vdevice-alloc-again", io(iommufd, IOMMU_VDEVICE_ALLOC, &vd), NULL);
    step("nested-abort", vste_alloc(dev, viommu, STE_ABORT, 0, &abort_id),
         NULL);
    step("nested-bypass", vste_alloc(dev, viommu, STE_BYPASS, 0, &bypass),
         NULL);
    /* Stage 1: the CD table at an IOVA of the nest parent */
    step("nested-s1", vste_alloc(dev, viommu, STE_S1 | IOVA_A, 0, &s1),
         NULL);
    step("nested-bad-cfg", vste_alloc(dev, viommu, STE0_V | STE0_CFG(6), 0,
                                      &id), NULL);
    step("nested-reserved-bit", vste_alloc(dev, viommu, STE_S1 | IOVA_A,
                                           1ULL << 63, &id), NULL);
    step("nested-on-parent", vste_alloc(dev, parent, STE_BYPASS, 0, &id),
         NULL);
    id = s1;
    step("attach-nested-s1", attach(&id), NULL);
    id = abort_id;
    step("replace-nested-abort", attach(&id), NULL);
    id = bypass;
    step("replace-nested-bypass", attach(&id), NULL);
    err = smmu_invalidate(viommu, cmds, 2, &done);
    step("viommu-invalidate", err, "entry_num=%u", done);
    err = smmu_invalidate(viommu, bad_cmd, 1, &done);
    step("viommu-invalidate-bad-opcode", err, "entry_num=%u", done);
    err = smmu_invalidate(parent, cmds, 1, &done);
    step("invalidate-parent-smmu-data", err, "entry_num=%u", done);
    vq.viommu_id = viommu;
    err = io(iommufd, IOMMU_VEVENTQ_ALLOC, &vq);
    step("veventq-alloc", err, NULL);
    step("veventq-alloc-again", io(iommufd, IOMMU_VEVENTQ_ALLOC, &vq), NULL);
    if (!err) {
        close(vq.out_veventq_fd);
        step("veventq-destroy", destroy(vq.out_veventq_id), NULL);
    }
    step("destroy-busy-viommu", destroy(viommu), NULL);
    step("destroy-attached-nested", destroy(bypass), NULL);
    id = ioas;
    step("replace-with-ioas-nest", attach(&id), NULL);
    step("destroy-nested", destroy(bypass), NULL);
    step("destroy-nested-s1", destroy(s1), NULL);
    step("destroy-nested-abort", destroy(abort_id), NULL);
    step("destroy-vdevice", destroy(vd.out_vdevice_id), NULL);
    step("destroy-viommu", destroy(viommu), NULL);
    step("destroy-nest-paging", destroy(paging), NULL);
}

static void check_nest_vtd(uint32_t dev, uint32_t ioas, uint32_t parent,
                           const struct iommu_hw_info_vtd *hw)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = IOVA_A, .addr_width = 48 };
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = 1 };
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .data_uptr = (uintptr_t)&inv,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(inv), .entry_num = 1,
    };
    uint32_t nested, bad, id;
    uint64_t out;
    int err;

    /*
     * Erratum 772415: a nest parent takes no read-only mapping. Linux 7.3
     * reports the flag on every VT-d and refuses them on every parent.
     */
    step("vtd-errata-spr17", 0, "flag=%d",
         !!(hw->flags & IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17));
    err = map(ioas, IOVA_B, buf, 4096, IOMMU_IOAS_MAP_FIXED_IOVA |
              IOMMU_IOAS_MAP_READABLE, NULL);
    step("nest-map-readonly", err, NULL);
    if (!err) {
        step("nest-unmap-readonly", unmap(ioas, IOVA_B, 4096, &out), NULL);
    }
    err = nested_alloc(dev, parent, IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
                       &nested);
    step("nested-vtd-s1", err, NULL);
    if (err) {
        return;
    }
    /* Linux checks the first-stage width when it writes the PASID entry */
    s1.addr_width = 30;
    err = nested_alloc(dev, parent, IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
                       &bad);
    step("nested-vtd-bad-width", err, NULL);
    if (!err) {
        id = bad;
        step("attach-nested-vtd-bad-width", attach(&id), NULL);
        step("destroy-nested-vtd-bad-width", destroy(bad), NULL);
    }
    id = nested;
    step("attach-nested-vtd", attach(&id), NULL);
    cmd.hwpt_id = nested;
    err = io(iommufd, IOMMU_HWPT_INVALIDATE, &cmd);
    step("invalidate-nested-vtd", err, "entry_num=%u", cmd.entry_num);
    id = ioas;
    step("replace-with-ioas-nest", attach(&id), NULL);
    step("destroy-nested", destroy(nested), NULL);
}

static void check_nest(uint32_t dev, uint32_t ioas)
{
    uint8_t data[256];
    struct iommu_hw_info hw = {
        .size = sizeof(hw), .dev_id = dev, .data_len = sizeof(data),
        .data_uptr = (uintptr_t)data,
    };
    uint32_t parent;
    int err;

    err = io(iommufd, IOMMU_GET_HW_INFO, &hw);
    step("hw-info", err, "type=%u", hw.out_data_type);
    step("nest-map", map(ioas, IOVA_A, buf, LEN_A, FIXED, NULL), NULL);
    err = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
    step("nest-parent-alloc", err, NULL);
    if (err) {
        return;
    }
    switch (hw.out_data_type) {
    case IOMMU_HW_INFO_TYPE_ARM_SMMUV3:
        check_nest_smmuv3(dev, ioas, parent);
        break;
    case IOMMU_HW_INFO_TYPE_INTEL_VTD:
        check_nest_vtd(dev, ioas, parent, (const void *)data);
        break;
    default:
        step("nest-hw-type", EOPNOTSUPP, "type=%u", hw.out_data_type);
    }
    step("destroy-nest-parent", destroy(parent), NULL);
    step("detach-nest", detach(), NULL);
}

/* ---- --nest-dma: DMA of an edu device through a nested stage 1 ---- */

/*
 * The IOAS holds buf at NEST_IPA (the "guest physical" side, which the
 * host's stage 2 translates); the stage-1 tables, the CD and the data
 * pages are all in buf. edu masks DMA addresses to 28 bits, so the
 * stage-1 input addresses stay below 256 MiB.
 */
#define NEST_IPA        0x100000ULL
#define OFF_CD          0x0000
#define OFF_L1          0x1000
#define OFF_L2          0x2000
#define OFF_L3          0x3000
#define OFF_PAGE_A      0x10000     /* what the device reads */
#define OFF_PAGE_B      0x11000     /* where VA_OUT points first */
#define OFF_PAGE_C      0x12000     /* ... and after the change */
#define VA_IN           0x08000000ULL
#define VA_OUT          0x08001000ULL
#define VA_NONE         0x08005000ULL /* no stage-1 mapping */
#define NEST_ASID       1
#define DMA_LEN         256

#define EDU_SRC         0x80
#define EDU_DST         0x88
#define EDU_CNT         0x90
#define EDU_CMD         0x98
#define EDU_BUF         0x40000
#define EDU_RUN         1
#define EDU_TO_RAM      2

static uint64_t bar0_off, cfg_off;

static uint64_t *desc(uint32_t off)
{
    return (uint64_t *)(buf + off);
}

/* A 4 KiB stage-1 leaf for @va (39-bit VA: L1, L2, L3) to IPA @ipa */
static void s1_map(uint64_t va, uint64_t ipa)
{
    /* AF, inner shareable, AP RW at any EL, AttrIndx 0, page */
    desc(OFF_L3)[(va >> 12) & 511] = ipa | (1ULL << 10) | (3ULL << 8) |
                                     (1ULL << 6) | 3;
}

static void s1_build(void)
{
    uint64_t *cd = desc(OFF_CD);

    memset(buf, 0, 0x4000);
    desc(OFF_L1)[(VA_IN >> 30) & 511] = (NEST_IPA + OFF_L2) | 3;
    desc(OFF_L2)[(VA_IN >> 21) & 511] = (NEST_IPA + OFF_L3) | 3;
    s1_map(VA_IN, NEST_IPA + OFF_PAGE_A);
    s1_map(VA_OUT, NEST_IPA + OFF_PAGE_B);
    /*
     * CD: T0SZ 25 (39 bits), TG0 4K, IRGN0/ORGN0 WB, SH0 inner, EPD1,
     * V, IPS 40 bits, AFFD, AA64, R, A, ASET, ASID; TTB0; MAIR attr 0 WB.
     */
    cd[0] = 25 | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (1ULL << 30) |
            (1ULL << 31) | (2ULL << 32) | (1ULL << 35) | (1ULL << 41) |
            (1ULL << 45) | (1ULL << 46) | (1ULL << 47) |
            ((uint64_t)NEST_ASID << 48);
    cd[1] = NEST_IPA + OFF_L1;
    cd[3] = 0xff;
}

static int region(uint32_t index, uint64_t *off)
{
    struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
    int err = io(vfiofd, VFIO_DEVICE_GET_REGION_INFO, &info);

    *off = info.offset;
    return err;
}

static int edu_write(uint64_t reg, uint64_t val)
{
    return pwrite(vfiofd, &val, 8, bar0_off + reg) == 8 ? 0 : EIO;
}

/* One edu DMA of DMA_LEN bytes; 0 once the engine is idle again. */
static int edu_dma(uint64_t src, uint64_t dst, bool to_ram)
{
    uint64_t cmd = 0;
    int i, err = edu_write(EDU_SRC, src) ?: edu_write(EDU_DST, dst) ?:
                 edu_write(EDU_CNT, DMA_LEN) ?:
                 edu_write(EDU_CMD, EDU_RUN | (to_ram ? EDU_TO_RAM : 0));

    /* edu runs the transfer from a 100 ms timer */
    for (i = 0; !err && i < 100; i++) {
        usleep(20000);
        if (pread(vfiofd, &cmd, 8, bar0_off + EDU_CMD) != 8) {
            return EIO;
        }
        if (!(cmd & EDU_RUN)) {
            return 0;
        }
    }
    return err ?: ETIMEDOUT;
}

static bool filled(uint32_t off, uint8_t v)
{
    uint32_t i;

    for (i = 0; i < DMA_LEN; i++) {
        if (buf[off + i] != v) {
            return false;
        }
    }
    return true;
}

static int smmu_tlbi_asid(uint32_t viommu)
{
    const uint64_t cmd[1][2] = {
        { CMD_TLBI_NH_ASID | ((uint64_t)NEST_ASID << 48), 0 },
    };
    uint32_t done;

    return smmu_invalidate(viommu, cmd, 1, &done);
}

/* The fault of the refused DMA, from the vEVENTQ: its StreamID is ours */
static void check_vevent(int fd)
{
    struct {
        struct iommufd_vevent_header hdr;
        struct iommu_vevent_arm_smmuv3 evt;
    } rec;
    ssize_t n;
    int i;

    for (i = 0; i < 50; i++) {
        n = read(fd, &rec, sizeof(rec));
        if (n > 0 || (n < 0 && errno != EAGAIN)) {
            break;
        }
        usleep(20000);
    }
    step("dma-fault-vevent", n == (ssize_t)sizeof(rec) ? 0 : EIO,
         "vsid=0x%x", n == (ssize_t)sizeof(rec) ?
         (uint32_t)(rec.evt.evt[0] >> 32) : 0);
    if (n == (ssize_t)sizeof(rec)) {
        printf("info: dma-fault-vevent id=0x%02x addr=0x%" PRIx64 "\n",
               (unsigned)(rec.evt.evt[0] & 0xff), (uint64_t)rec.evt.evt[2]);
    }
}

static void check_nest_dma(uint32_t dev, uint32_t ioas)
{
    struct iommu_viommu_alloc va = {
        .size = sizeof(va), .type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
        .dev_id = dev,
    };
    struct iommu_vdevice_alloc vd = {
        .size = sizeof(vd), .dev_id = dev, .virt_id = NEST_VSID,
    };
    struct iommu_veventq_alloc vq = {
        .size = sizeof(vq), .type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
        .veventq_depth = 16,
    };
    uint16_t pcicmd;
    uint32_t parent, s1, id;
    int err;

    s1_build();
    memset(buf + OFF_PAGE_A, 0xa5, DMA_LEN);
    err = region(VFIO_PCI_BAR0_REGION_INDEX, &bar0_off) ?:
          region(VFIO_PCI_CONFIG_REGION_INDEX, &cfg_off);
    step("dma-regions", err, NULL);
    /* Bus master on, or the device's DMA goes nowhere */
    if (!err && pread(vfiofd, &pcicmd, 2, cfg_off + 4) == 2) {
        pcicmd |= 4;
        err = pwrite(vfiofd, &pcicmd, 2, cfg_off + 4) == 2 ? 0 : EIO;
    }
    step("dma-bus-master", err, NULL);
    step("dma-map", map(ioas, NEST_IPA, buf, BUF_SIZE, FIXED, NULL), NULL);
    err = hwpt_alloc(dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &parent);
    step("dma-nest-parent", err, NULL);
    if (err) {
        return;
    }
    va.hwpt_id = parent;
    err = io(iommufd, IOMMU_VIOMMU_ALLOC, &va);
    step("dma-viommu", err, NULL);
    vd.viommu_id = vq.viommu_id = va.out_viommu_id;
    err = err ?: io(iommufd, IOMMU_VDEVICE_ALLOC, &vd);
    step("dma-vdevice", err, NULL);
    err = err ?: io(iommufd, IOMMU_VEVENTQ_ALLOC, &vq);
    step("dma-veventq", err, NULL);
    err = err ?: vste_alloc(dev, va.out_viommu_id,
                            STE_S1 | (NEST_IPA + OFF_CD), 0, &s1);
    step("dma-nested-s1", err, NULL);
    id = s1;
    err = err ?: attach(&id);
    step("dma-attach", err, NULL);
    if (err) {
        return;
    }
    /* RAM -> device through VA_IN, device -> RAM through VA_OUT */
    step("dma-read", edu_dma(VA_IN, EDU_BUF, false), NULL);
    err = edu_dma(EDU_BUF, VA_OUT, true);
    step("dma-write", err, "landed=%d", filled(OFF_PAGE_B, 0xa5));
    /* VA_OUT now says page C; the IOTLB still has page B */
    memset(buf + OFF_PAGE_B, 0, DMA_LEN);
    s1_map(VA_OUT, NEST_IPA + OFF_PAGE_C);
    err = edu_dma(EDU_BUF, VA_OUT, true);
    step("dma-before-tlbi", err, "old=%d new=%d", filled(OFF_PAGE_B, 0xa5),
         filled(OFF_PAGE_C, 0xa5));
    memset(buf + OFF_PAGE_B, 0, DMA_LEN);
    step("dma-tlbi", smmu_tlbi_asid(va.out_viommu_id), NULL);
    err = edu_dma(EDU_BUF, VA_OUT, true);
    step("dma-after-tlbi", err, "old=%d new=%d", filled(OFF_PAGE_B, 0xa5),
         filled(OFF_PAGE_C, 0xa5));
    /* No stage-1 mapping: refused, and the fault is ours to see */
    err = edu_dma(EDU_BUF, VA_NONE, true);
    step("dma-unmapped", err, NULL);
    check_vevent(vq.out_veventq_fd);
    id = ioas;
    step("dma-detach-nested", attach(&id), NULL);
    close(vq.out_veventq_fd);
    step("dma-destroy", destroy(s1) ?: destroy(vq.out_veventq_id) ?:
         destroy(vd.out_vdevice_id) ?: destroy(va.out_viommu_id) ?:
         destroy(parent), NULL);
    step("dma-detach", detach(), NULL);
}

static int open_and_bind(const char *iommu_path, const char *vfio_path,
                         uint32_t *dev)
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    int err;

    iommufd = open(iommu_path, O_RDWR);
    vfiofd = open(vfio_path, O_RDWR);
    if (iommufd < 0 || vfiofd < 0) {
        fprintf(stderr, "uapi-check: cannot open %s or %s: %s\n",
                iommu_path, vfio_path, strerror(errno));
        return -1;
    }
    bind.iommufd = iommufd;
    err = io(vfiofd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
    step("bind", err, NULL);
    *dev = bind.out_devid;
    return err ? -1 : 0;
}

int main(int argc, char **argv)
{
    uint32_t dev, ioas;
    uint64_t out;
    bool nest = argc > 1 && !strcmp(argv[1], "--nest");
    bool nest_dma = argc > 1 && !strcmp(argv[1], "--nest-dma");
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0);
    buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        return 2;
    }
    memset(buf, 0x5a, BUF_SIZE);
    if (nest || nest_dma) {
        argc--;
        argv++;
    }
    if (open_and_bind(argc > 1 ? argv[1] : "/dev/iommu",
                      argc > 2 ? argv[2] : "/dev/vfio/devices/vfio0", &dev)) {
        return 1;
    }
    step("ioas-alloc", ioas_alloc(&ioas), NULL);
    if (nest) {
        check_nest(dev, ioas);
    } else if (nest_dma) {
        check_nest_dma(dev, ioas);
    } else {
        check_ranges("ranges-detached", ioas);
        check_map_unmap(ioas);
        check_copy(ioas);
        check_hw_info(dev);
        check_attach(dev, ioas);
        check_dirty(dev, ioas);
    }
    err = unmap(ioas, 0, UINT64_MAX, &out);
    step("unmap-all", err, "length=0x%" PRIx64, out);
    step("destroy-ioas", destroy(ioas), NULL);
    step("destroy-again", destroy(ioas), NULL);
    close(vfiofd);
    close(iommufd);
    printf("done\n");
    return 0;
}
