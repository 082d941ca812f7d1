/*
 * VNest: a real kernel nests on QEMU's IOMMU: DMA through both stages
 *
 * Runs in a Linux guest whose IOMMU is QEMU's intel-iommu with
 * x-nested=on (guest profile x86_64-vtd-nesting-host) or QEMU's
 * arm-smmuv3 with x-s2fwb=on (aarch64-iommufd-nest), on an edu device
 * bound to vfio-pci. The IOMMU's kind (IOMMU_GET_HW_INFO) picks the
 * stage-1 format; the steps are the same. For VT-d: through the real
 * iommufd uAPI it allocates a nest parent over an IOAS, builds
 * first-stage tables in memory mapped into that IOAS (their pointers are
 * IOAS addresses: the guest's stage 2), allocates a
 * nested HWPT of type IOMMU_HWPT_DATA_VTD_S1 on them and attaches the
 * device. Then it makes the edu device DMA (its BAR through VFIO) and
 * checks the data landed where the first stage then the stage 2 say, the
 * A/D flags the VT-d set in the tables, that a first-stage change
 * shows only after IOMMU_HWPT_INVALIDATE, and a stage-2 change (an IOAS
 * page replaced) right after the kernel's flush of the parent. For an
 * SMMUv3 the same with a vIOMMU and vDEVICE, a CD and AArch64 stage-1
 * tables, the TLBI sent through the vIOMMU, and the fault of the unmapped
 * DMA read back from the vEVENTQ with the virtual StreamID. One line
 * per step, "<step>:
 * <result>", the errno name on failure; "info:" lines are values.
 *
 *   nest-check [IOMMU_DEV [VFIO_CDEV]]
 *   (defaults: /dev/iommu /dev/vfio/devices/vfio0)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#define PAGE            4096ULL
#define BUF_SIZE        (32 * PAGE)
#define S2_BASE         0x1000000ULL    /* where the buffer sits in the IOAS */
/* buffer pages: 0-3 first-stage tables, 8 source, 9 and 10 destinations */
#define PG_SRC          8
#define PG_DST          9
#define PG_DST2         10
#define PG_SPARE        (-1)    /* the spare page, see page_at() */
#define IOVA_SRC        0x100000ULL     /* first-stage input addresses */
#define IOVA_DST        0x200000ULL
#define IOVA_UNMAPPED   0x300000ULL
#define LEN             256

#define FS_P            (1ULL << 0)
#define FS_RW           (1ULL << 1)
#define FS_US           (1ULL << 2)
#define FS_A            (1ULL << 5)
#define FS_D            (1ULL << 6)

/* edu (hw/misc/edu.c): DMA registers, its buffer at 0x40000 */
#define EDU_DMA_SRC     0x80
#define EDU_DMA_DST     0x88
#define EDU_DMA_CNT     0x90
#define EDU_DMA_CMD     0x98
#define EDU_DMA_RUN     1
#define EDU_DMA_TO_PCI  2
#define EDU_BUF         0x40000

static int iommufd, vfiofd;
static uint8_t *buf;
static uint8_t *spare;          /* replaces buf's PG_DST2 page in stage 2 */
/* edu's BAR 0: MMIO registers, each access must reach the device */
static volatile uint8_t *bar;

static const char *err_name(int err)
{
    switch (err) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case ENODEV: return "ENODEV";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EIO: return "EIO";
    case ETIMEDOUT: return "ETIMEDOUT";
    default: return "E?";
    }
}

/* Issue an ioctl: 0 or -errno. Every helper here returns 0 or -errno. */
static int io(int fd, unsigned long cmd, void *arg)
{
    return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int step(const char *name, int err)
{
    printf("%s: %s\n", name, err_name(-err));
    return err;
}

static uint64_t *slot(unsigned page, unsigned index)
{
    return (uint64_t *)(buf + page * PAGE) + index;
}

/* IOAS (stage-2 input) address of a buffer page */
static uint64_t s2(unsigned page)
{
    return S2_BASE + page * PAGE;
}

/* Four levels, IOVAs below 2 MiB * 512: one table of each kind. */
static void fs_build(void)
{
    *slot(0, 0) = s2(1) | FS_P | FS_RW | FS_US;
    *slot(1, 0) = s2(2) | FS_P | FS_RW | FS_US;
    *slot(2, 0) = s2(3) | FS_P | FS_RW | FS_US;     /* 0 - 2 MiB */
    *slot(2, 1) = s2(4) | FS_P | FS_RW | FS_US;     /* 2 - 4 MiB */
    *slot(3, (IOVA_SRC >> 12) & 0x1ff) = s2(PG_SRC) | FS_P | FS_US;
    *slot(4, (IOVA_DST >> 12) & 0x1ff) = s2(PG_DST) | FS_P | FS_RW | FS_US;
}

static int edu_reg_write(unsigned off, uint64_t val)
{
    *(volatile uint64_t *)(bar + off) = val;    /* MMIO: see bar */
    return 0;
}

/* One edu DMA of LEN bytes; waits for it (edu runs it 100 ms later). */
static int edu_dma(uint64_t src, uint64_t dst, bool to_pci)
{
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    int i;

    edu_reg_write(EDU_DMA_SRC, src);
    edu_reg_write(EDU_DMA_DST, dst);
    edu_reg_write(EDU_DMA_CNT, LEN);
    edu_reg_write(EDU_DMA_CMD, EDU_DMA_RUN | (to_pci ? EDU_DMA_TO_PCI : 0));
    for (i = 0; i < 500; i++) {
        /* MMIO: see bar */
        if (!(*(volatile uint64_t *)(bar + EDU_DMA_CMD) & EDU_DMA_RUN)) {
            return 0;
        }
        nanosleep(&ts, NULL);
    }
    return -ETIMEDOUT;
}

/* BAR 0 mapped, bus mastering on: the device can be driven. */
static int edu_open(void)
{
    struct vfio_region_info reg = { .argsz = sizeof(reg), .index = 0 };
    struct vfio_region_info cfg = {
        .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
    };
    uint16_t cmd;
    void *p;
    int err = io(vfiofd, VFIO_DEVICE_GET_REGION_INFO, &reg);

    if (!err) {
        err = io(vfiofd, VFIO_DEVICE_GET_REGION_INFO, &cfg);
    }
    if (err) {
        return err;
    }
    if (pread(vfiofd, &cmd, 2, cfg.offset + 4) != 2) {
        return -EIO;
    }
    cmd |= 0x6;                 /* memory space, bus master */
    if (pwrite(vfiofd, &cmd, 2, cfg.offset + 4) != 2) {
        return -EIO;
    }
    p = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, vfiofd,
             reg.offset);
    if (p == MAP_FAILED) {
        return -errno;
    }
    bar = p;
    return 0;
}

/* A buffer page, or the spare page */
static uint8_t *page_at(int page)
{
    return page == PG_SPARE ? spare + PG_DST2 * PAGE : buf + page * PAGE;
}

static int pattern_at(int page, uint8_t seed)
{
    int i;

    for (i = 0; i < LEN; i++) {
        if (page_at(page)[i] != (uint8_t)(seed + i)) {
            return -EIO;
        }
    }
    return 0;
}

/* DMA src -> edu -> dst through the nested translation; where it went. */
static void dma_through(const char *name, int want_page, uint8_t seed)
{
    int i, err;

    for (i = 0; i < LEN; i++) {
        buf[PG_SRC * PAGE + i] = seed + i;
    }
    memset(buf + PG_DST * PAGE, 0, LEN);
    memset(buf + PG_DST2 * PAGE, 0, LEN);
    memset(page_at(PG_SPARE), 0, LEN);
    err = edu_dma(IOVA_SRC, EDU_BUF, false);
    if (!err) {
        err = edu_dma(EDU_BUF, IOVA_DST, true);
    }
    if (!err) {
        err = pattern_at(want_page, seed);
    }
    step(name, err);
}

/* The IOMMU's kind (IOMMU_HW_INFO_TYPE_*), 0 when the kernel refused */
static uint32_t hw_info(uint32_t dev)
{
    union {
        struct iommu_hw_info_vtd vtd;
        struct iommu_hw_info_arm_smmuv3 smmu;
    } data;
    struct iommu_hw_info cmd = {
        .size = sizeof(cmd), .dev_id = dev, .data_len = sizeof(data),
        .data_uptr = (uintptr_t)&data,
    };
    int err = io(iommufd, IOMMU_GET_HW_INFO, &cmd);

    if (!err && cmd.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD) {
        printf("info: cap=0x%" PRIx64 " ecap=0x%" PRIx64 " nest=%d\n",
               (uint64_t)data.vtd.cap_reg, (uint64_t)data.vtd.ecap_reg,
               (int)((data.vtd.ecap_reg >> 26) & 1));
    } else if (!err && cmd.out_data_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        printf("info: idr0=0x%x idr3=0x%x fwb=%d\n", data.smmu.idr[0],
               data.smmu.idr[3], (int)((data.smmu.idr[3] >> 8) & 1));
    }
    return step("hw-info", err) ? 0 : cmd.out_data_type;
}

/* One page of @va at the IOAS address of buffer page @page */
static int map_page(uint32_t ioas, unsigned page, uint8_t *va)
{
    struct iommu_ioas_map cmd = {
        .size = sizeof(cmd), .ioas_id = ioas, .length = PAGE,
        .iova = s2(page), .user_va = (uintptr_t)(va + page * PAGE),
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE,
    };

    return io(iommufd, IOMMU_IOAS_MAP, &cmd);
}

static int unmap_page(uint32_t ioas, unsigned page)
{
    struct iommu_ioas_unmap cmd = {
        .size = sizeof(cmd), .ioas_id = ioas, .iova = s2(page),
        .length = PAGE,
    };

    return io(iommufd, IOMMU_IOAS_UNMAP, &cmd);
}

static int destroy(uint32_t id)
{
    struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

    return io(iommufd, IOMMU_DESTROY, &cmd);
}

static int invalidate(uint32_t hwpt, uint64_t iova)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = { .addr = iova, .npages = 1 };
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .hwpt_id = hwpt, .data_uptr = (uintptr_t)&inv,
        .data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = sizeof(inv), .entry_num = 1,
    };

    return io(iommufd, IOMMU_HWPT_INVALIDATE, &cmd);
}

/* An IOAS holding the buffer at S2_BASE, and a nest parent on it */
static int nest_parent(uint32_t dev, uint32_t *ioas_id, uint32_t *parent_id)
{
    struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
    struct iommu_ioas_map map = {
        .size = sizeof(map), .length = PG_DST2 * PAGE, .iova = S2_BASE,
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE, .user_va = (uintptr_t)buf,
    };
    struct iommu_hwpt_alloc parent = {
        .size = sizeof(parent), .flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
        .dev_id = dev,
    };

    if (step("ioas-alloc", io(iommufd, IOMMU_IOAS_ALLOC, &ioas))) {
        return 1;
    }
    map.ioas_id = parent.pt_id = *ioas_id = ioas.out_ioas_id;
    if (step("ioas-map", io(iommufd, IOMMU_IOAS_MAP, &map)) ||
        step("ioas-map-dst2", map_page(map.ioas_id, PG_DST2, buf)) ||
        step("hwpt-alloc-nest-parent",
             io(iommufd, IOMMU_HWPT_ALLOC, &parent))) {
        return 1;
    }
    *parent_id = parent.out_hwpt_id;
    return 0;
}

/* Nested HWPT @hwpt attached, the device's BAR open */
static int attach_nested(uint32_t hwpt)
{
    struct vfio_device_attach_iommufd_pt at = {
        .argsz = sizeof(at), .pt_id = hwpt,
    };

    return step("attach-nested", io(vfiofd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
                                    &at)) || step("edu-open", edu_open());
}

/*
 * A stage-2 change (the page behind s2(PG_DST2) replaced): the kernel's
 * own flush of the parent must drop the combined translation of IOVA_DST.
 * Then a DMA stage 1 does not map.
 */
static void s2_change_and_unmapped(uint32_t ioas_id)
{
    step("ioas-unmap-dst2", unmap_page(ioas_id, PG_DST2));
    step("ioas-map-dst2-elsewhere", map_page(ioas_id, PG_DST2, spare));
    dma_through("dma-fresh-after-s2-change", PG_SPARE, 0x60);
    step("dma-unmapped-issued", edu_dma(IOVA_UNMAPPED, EDU_BUF, false));
}

static int detach(void)
{
    struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };

    return step("detach", io(vfiofd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
}

static int run_vtd(uint32_t dev)
{
    struct iommu_hwpt_vtd_s1 s1 = { .pgtbl_addr = s2(0), .addr_width = 48 };
    struct iommu_hwpt_alloc nested = {
        .size = sizeof(nested), .dev_id = dev,
        .data_type = IOMMU_HWPT_DATA_VTD_S1, .data_len = sizeof(s1),
        .data_uptr = (uintptr_t)&s1,
    };
    uint32_t ioas, parent;

    if (nest_parent(dev, &ioas, &parent)) {
        return 1;
    }
    fs_build();
    nested.pt_id = parent;
    if (step("hwpt-alloc-nested-vtd-s1",
             io(iommufd, IOMMU_HWPT_ALLOC, &nested)) ||
        attach_nested(nested.out_hwpt_id)) {
        return 1;
    }
    dma_through("dma-nested", PG_DST, 0x30);
    step("fs-leaf-accessed-dirty",
         (*slot(4, (IOVA_DST >> 12) & 0x1ff) & (FS_A | FS_D)) ==
         (FS_A | FS_D) ? 0 : -EIO);
    /* A first-stage change: stale until the nested HWPT is invalidated */
    *slot(4, (IOVA_DST >> 12) & 0x1ff) = s2(PG_DST2) | FS_P | FS_RW | FS_US;
    dma_through("dma-stale-before-invalidate", PG_DST, 0x40);
    step("invalidate-nested", invalidate(nested.out_hwpt_id, IOVA_DST));
    dma_through("dma-fresh-after-invalidate", PG_DST2, 0x50);
    /*
     * The kernel flushes the parent with an IOTLB invalidation of the
     * nested domain's DID and the stage-2 address. The unmapped DMA: the
     * VT-d records a fault (0x71).
     */
    s2_change_and_unmapped(ioas);
    detach();
    step("destroy-nested", destroy(nested.out_hwpt_id));
    step("destroy-parent", destroy(parent));
    return 0;
}

/* ---- SMMUv3 ---- */

/*
 * Stage 1 in AArch64 format, 4 KiB granule, 39-bit input (T0SZ 25: three
 * levels): page 0 the level-1 table, 1 the level-2, 2 and 3 the level-3
 * tables of 0-2 MiB and 2-4 MiB, 5 the CD. Pointers are IOAS addresses.
 */
#define PG_CD           5
#define NEST_VSID       0x8
#define NEST_ASID       1
#define SMMU_TABLE      3ULL
#define SMMU_PAGE       ((1ULL << 10) | (3ULL << 8) | (1ULL << 6) | 3)
#define STE_S1          ((1ULL << 0) | (5ULL << 1))     /* V, Config S1 */
#define CMD_TLBI_NH_ASID 0x11

static void smmu_map(uint64_t iova, int page)
{
    *slot(2 + (iova >> 21), (iova >> 12) & 0x1ff) = s2(page) | SMMU_PAGE;
}

static void smmu_s1_build(void)
{
    uint64_t *cd = slot(PG_CD, 0);

    *slot(0, 0) = s2(1) | SMMU_TABLE;
    *slot(1, 0) = s2(2) | SMMU_TABLE;                /* 0 - 2 MiB */
    *slot(1, 1) = s2(3) | SMMU_TABLE;                /* 2 - 4 MiB */
    smmu_map(IOVA_SRC, PG_SRC);
    smmu_map(IOVA_DST, PG_DST);
    /*
     * T0SZ 25, TG0 4K, IRGN0/ORGN0 write-back, SH0 inner, EPD1, V, IPS
     * 40 bits, AFFD, AA64, R, A, ASET, ASID; TTB0; MAIR attribute 0 WB.
     */
    cd[0] = 25 | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (1ULL << 30) |
            (1ULL << 31) | (2ULL << 32) | (1ULL << 35) | (1ULL << 41) |
            (1ULL << 45) | (1ULL << 46) | (1ULL << 47) |
            ((uint64_t)NEST_ASID << 48);
    cd[1] = s2(0);
    cd[3] = 0xff;
}

static int smmu_tlbi_asid(uint32_t viommu)
{
    uint64_t cmd[2] = { CMD_TLBI_NH_ASID | ((uint64_t)NEST_ASID << 48), 0 };
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv), .hwpt_id = viommu, .data_uptr = (uintptr_t)cmd,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = sizeof(cmd), .entry_num = 1,
    };

    return io(iommufd, IOMMU_HWPT_INVALIDATE, &inv);
}

/* The unmapped DMA's fault, from the vEVENTQ: its StreamID is the vSID */
static void smmu_vevent(int fd)
{
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    struct {
        struct iommufd_vevent_header hdr;
        struct iommu_vevent_arm_smmuv3 evt;
    } rec;
    ssize_t n = 0;
    int i;

    for (i = 0; i < 100 && n <= 0; i++) {
        n = read(fd, &rec, sizeof(rec));
        if (n < 0 && errno != EAGAIN) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    if (n == (ssize_t)sizeof(rec)) {
        printf("info: vevent id=0x%02x sid=0x%x addr=0x%" PRIx64 "\n",
               (unsigned)(rec.evt.evt[0] & 0xff),
               (unsigned)(rec.evt.evt[0] >> 32), (uint64_t)rec.evt.evt[2]);
    }
    step("dma-unmapped-vevent-vsid",
         n == (ssize_t)sizeof(rec) && (rec.evt.evt[0] >> 32) == NEST_VSID &&
         rec.evt.evt[2] == IOVA_UNMAPPED ? 0 : -EIO);
}

static int run_smmuv3(uint32_t dev)
{
    struct iommu_viommu_alloc viommu = {
        .size = sizeof(viommu), .type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
        .dev_id = dev,
    };
    struct iommu_vdevice_alloc vdev = {
        .size = sizeof(vdev), .dev_id = dev, .virt_id = NEST_VSID,
    };
    struct iommu_veventq_alloc veventq = {
        .size = sizeof(veventq), .type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
        .veventq_depth = 16,
    };
    struct iommu_hwpt_arm_smmuv3 ste = { .ste = { STE_S1 | s2(PG_CD), 0 } };
    struct iommu_hwpt_alloc nested = {
        .size = sizeof(nested), .dev_id = dev,
        .data_type = IOMMU_HWPT_DATA_ARM_SMMUV3, .data_len = sizeof(ste),
        .data_uptr = (uintptr_t)&ste,
    };
    uint32_t ioas, parent;

    if (nest_parent(dev, &ioas, &parent)) {
        return 1;
    }
    viommu.hwpt_id = parent;
    if (step("viommu-alloc", io(iommufd, IOMMU_VIOMMU_ALLOC, &viommu))) {
        return 1;
    }
    vdev.viommu_id = veventq.viommu_id = viommu.out_viommu_id;
    if (step("vdevice-alloc", io(iommufd, IOMMU_VDEVICE_ALLOC, &vdev)) ||
        step("veventq-alloc", io(iommufd, IOMMU_VEVENTQ_ALLOC, &veventq))) {
        return 1;
    }
    smmu_s1_build();
    nested.pt_id = viommu.out_viommu_id;
    if (step("hwpt-alloc-nested-smmuv3-ste",
             io(iommufd, IOMMU_HWPT_ALLOC, &nested)) ||
        attach_nested(nested.out_hwpt_id)) {
        return 1;
    }
    dma_through("dma-nested", PG_DST, 0x30);
    /* A stage-1 change: stale until a TLBI through the vIOMMU */
    smmu_map(IOVA_DST, PG_DST2);
    dma_through("dma-stale-before-invalidate", PG_DST, 0x40);
    step("invalidate-viommu-tlbi-asid", smmu_tlbi_asid(viommu.out_viommu_id));
    dma_through("dma-fresh-after-invalidate", PG_DST2, 0x50);
    /* The kernel TLBIs the parent; the fault comes to the vEVENTQ */
    s2_change_and_unmapped(ioas);
    smmu_vevent(veventq.out_veventq_fd);
    detach();
    close(veventq.out_veventq_fd);
    step("destroy-nested", destroy(nested.out_hwpt_id));
    step("destroy-veventq", destroy(veventq.out_veventq_id));
    step("destroy-vdevice", destroy(vdev.out_vdevice_id));
    step("destroy-viommu", destroy(viommu.out_viommu_id));
    step("destroy-parent", destroy(parent));
    return 0;
}

static int run(uint32_t dev)
{
    switch (hw_info(dev)) {
    case IOMMU_HW_INFO_TYPE_INTEL_VTD:
        return run_vtd(dev);
    case IOMMU_HW_INFO_TYPE_ARM_SMMUV3:
        return run_smmuv3(dev);
    default:
        step("iommu-kind", -EOPNOTSUPP);
        return 1;
    }
}

int main(int argc, char **argv)
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    const char *iommu_path = argc > 1 ? argv[1] : "/dev/iommu";
    const char *vfio_path = argc > 2 ? argv[2] : "/dev/vfio/devices/vfio0";

    setvbuf(stdout, NULL, _IOLBF, 0);
    buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    spare = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    iommufd = open(iommu_path, O_RDWR);
    vfiofd = open(vfio_path, O_RDWR);
    if (buf == MAP_FAILED || spare == MAP_FAILED || iommufd < 0 ||
        vfiofd < 0) {
        fprintf(stderr, "nest-check: cannot open %s or %s: %s\n",
                iommu_path, vfio_path, strerror(errno));
        return 2;
    }
    memset(buf, 0, BUF_SIZE);
    memset(spare, 0, BUF_SIZE);
    bind.iommufd = iommufd;
    if (step("bind", io(vfiofd, VFIO_DEVICE_BIND_IOMMUFD, &bind))) {
        return 1;
    }
    if (run(bind.out_devid)) {
        return 1;
    }
    printf("done\n");
    return 0;
}
