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
 * --nest checks the nesting uAPI instead, on an IOMMU that offers it (a
 * guest kernel on QEMU's arm-smmuv3 with x-s2fwb=on, or the emulated host
 * as that hardware): nest parent, then for an SMMUv3 the vIOMMU, vDEVICE,
 * nested HWPTs from vSTEs, vIOMMU invalidation and vEVENTQ, for VT-d the
 * VTD_S1 nested HWPT and its invalidation; attach each, and what each
 * object's lifetime allows. DMA through nesting is tests/conformance/
 * nest-check's.
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
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0);
    buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        return 2;
    }
    memset(buf, 0x5a, BUF_SIZE);
    if (nest) {
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
