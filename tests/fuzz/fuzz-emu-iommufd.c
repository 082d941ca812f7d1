/*
 * VNest fuzz target: the emulated host's ioctl entry points
 *
 * Each input is a program: a hardware model, then a sequence of iommufd
 * ioctls (argument structs taken from the input, user pointers aimed into
 * a scratch "guest RAM" guarded by an inaccessible region, or at NULL, or
 * at the guard), VFIO attach/detach, device DMA and event reads; and, so
 * that deep state is reached at all, writes of input bytes into the RAM
 * (guest page tables, CDs, invalidation entries), a nesting set-up built
 * from input parameters (nest parent, vIOMMU, vDEVICE, vEVENTQ, nested
 * HWPT, attach), invalidation arrays of several entries and dirty
 * tracking on real objects; and armed failures (emu_host_fail_nth()), so
 * every unwind runs on arbitrary state. After the program everything is
 * closed and the leak check must find nothing.
 * Build and run with: make fuzz [FUZZ_SECONDS=N]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "iommufd-emu.h"

#define RAM_SIZE        (256 * 1024)
#define GUARD_SIZE      (64 * 1024 * 1024)
#define MAX_OPS         64
#define NDEV            2

typedef struct Input {
    const uint8_t *p;
    size_t left;
} Input;

/* A command and where its user-pointer fields sit. */
typedef struct FuzzCmd {
    unsigned long cmd;
    size_t size;
    int ptr_off;            /* u64 user pointer, -1: none */
    int va_off;             /* IOAS_MAP user_va (clipped to RAM), -1 */
    int fd_off;             /* s32 fd to replace with our memfd, -1 */
} FuzzCmd;

#define C(cmd, type, ptr, va, fd) \
    { cmd, sizeof(struct type), ptr, va, fd }

static const FuzzCmd cmds[] = {
    C(IOMMU_DESTROY, iommu_destroy, -1, -1, -1),
    C(IOMMU_IOAS_ALLOC, iommu_ioas_alloc, -1, -1, -1),
    C(IOMMU_IOAS_ALLOW_IOVAS, iommu_ioas_allow_iovas,
      offsetof(struct iommu_ioas_allow_iovas, allowed_iovas), -1, -1),
    C(IOMMU_IOAS_COPY, iommu_ioas_copy, -1, -1, -1),
    C(IOMMU_IOAS_IOVA_RANGES, iommu_ioas_iova_ranges,
      offsetof(struct iommu_ioas_iova_ranges, allowed_iovas), -1, -1),
    C(IOMMU_IOAS_MAP, iommu_ioas_map, -1,
      offsetof(struct iommu_ioas_map, user_va), -1),
    C(IOMMU_IOAS_UNMAP, iommu_ioas_unmap, -1, -1, -1),
    C(IOMMU_OPTION, iommu_option, -1, -1, -1),
    C(IOMMU_HWPT_ALLOC, iommu_hwpt_alloc,
      offsetof(struct iommu_hwpt_alloc, data_uptr), -1, -1),
    C(IOMMU_GET_HW_INFO, iommu_hw_info,
      offsetof(struct iommu_hw_info, data_uptr), -1, -1),
    C(IOMMU_HWPT_SET_DIRTY_TRACKING, iommu_hwpt_set_dirty_tracking,
      -1, -1, -1),
    C(IOMMU_HWPT_GET_DIRTY_BITMAP, iommu_hwpt_get_dirty_bitmap,
      offsetof(struct iommu_hwpt_get_dirty_bitmap, data), -1, -1),
    C(IOMMU_HWPT_INVALIDATE, iommu_hwpt_invalidate,
      offsetof(struct iommu_hwpt_invalidate, data_uptr), -1, -1),
    C(IOMMU_FAULT_QUEUE_ALLOC, iommu_fault_alloc, -1, -1, -1),
    C(IOMMU_IOAS_MAP_FILE, iommu_ioas_map_file, -1, -1,
      offsetof(struct iommu_ioas_map_file, fd)),
    C(IOMMU_VIOMMU_ALLOC, iommu_viommu_alloc,
      offsetof(struct iommu_viommu_alloc, data_uptr), -1, -1),
    C(IOMMU_VDEVICE_ALLOC, iommu_vdevice_alloc, -1, -1, -1),
    C(IOMMU_VEVENTQ_ALLOC, iommu_veventq_alloc, -1, -1, -1),
};

static uint8_t *ram;
static int memfd = -1;

static void setup_once(void)
{
    uint8_t *base;

    if (ram) {
        return;
    }
    base = mmap(NULL, RAM_SIZE + GUARD_SIZE, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED ||
        mprotect(base, RAM_SIZE, PROT_READ | PROT_WRITE)) {
        abort();
    }
    ram = base;
    memfd = memfd_create("fuzz", 0);
    if (memfd < 0 || ftruncate(memfd, RAM_SIZE)) {
        abort();
    }
}

static bool take(Input *in, void *dst, size_t n)
{
    if (in->left < n) {
        return false;
    }
    memcpy(dst, in->p, n);
    in->p += n;
    in->left -= n;
    return true;
}

static uint8_t take8(Input *in)
{
    uint8_t v = 0;

    take(in, &v, 1);
    return v;
}

static uint32_t take32(Input *in)
{
    uint32_t v = 0;

    take(in, &v, sizeof(v));
    return v;
}

/* NULL, the guard, or somewhere in RAM (whole structs may overrun). */
static uint64_t user_ptr(Input *in)
{
    uint32_t sel = take32(in);

    switch (sel & 3) {
    case 0:
        return 0;
    case 1:
        return (uintptr_t)ram + RAM_SIZE + (sel >> 2) % GUARD_SIZE;
    default:
        return (uintptr_t)ram + (sel >> 2) % RAM_SIZE;
    }
}

static void do_ioctl(EmuCtx *ctx, Input *in)
{
    const FuzzCmd *c = &cmds[take8(in) % (sizeof(cmds) / sizeof(cmds[0]))];
    uint8_t arg[128] = { 0 };
    uint32_t size;

    if (!take(in, arg, c->size)) {
        return;
    }
    /* Mostly the right size; sometimes shorter or longer. */
    size = take8(in) < 200 ? c->size : take8(in) % sizeof(arg);
    memcpy(arg, &size, sizeof(size));
    if (c->ptr_off >= 0) {
        uint64_t p = user_ptr(in);

        memcpy(arg + c->ptr_off, &p, sizeof(p));
    }
    if (c->va_off >= 0) {
        struct iommu_ioas_map *m = (void *)arg;
        uint32_t off = take32(in) % RAM_SIZE;

        m->user_va = (uintptr_t)ram + (off & ~0xfffu);
        if (m->length > RAM_SIZE - (off & ~0xfffu)) {
            m->length = RAM_SIZE - (off & ~0xfffu);
        }
    }
    if (c->fd_off >= 0) {
        int32_t fd = take8(in) & 1 ? memfd : -1;

        memcpy(arg + c->fd_off, &fd, sizeof(fd));
    }
    emu_ctx_ioctl(ctx, c->cmd, arg);
}

/*
 * The same, checking that a command the armed failure hit left no trace
 * (the state described as before it), or abort.
 */
static void do_ioctl_checked(EmuHost *host, EmuCtx *ctx, Input *in)
{
    g_autofree char *before = emu_ctx_describe(ctx);
    g_autofree char *after = NULL;
    const char *site = emu_host_fail_site(host);

    do_ioctl(ctx, in);
    if (emu_host_fail_site(host) != site) {
        after = emu_ctx_describe(ctx);
        if (strcmp(before, after)) {
            fprintf(stderr, "failure at %s left a trace:\n%s\n---\n%s\n",
                    emu_host_fail_site(host), before, after);
            abort();
        }
    }
}

static void do_vfio(EmuVfio **vfio, Input *in)
{
    uint8_t op = take8(in);
    EmuVfio *v = vfio[op % NDEV];
    struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
    struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

    if (op & 0x80) {
        d.flags = take8(in) & 3;
        d.pasid = take32(in);
        emu_vfio_ioctl(v, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
        return;
    }
    a.flags = take8(in) & 3;
    a.pt_id = take8(in);
    a.pasid = take32(in);
    emu_vfio_ioctl(v, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
}

static void do_dma(EmuDevice **dev, Input *in)
{
    uint8_t buf[8192];
    uint8_t op = take8(in);
    uint32_t pasid = (op & 2) ? take32(in) % 16 : EMU_NO_PASID;
    uint64_t iova = (uint64_t)take32(in) << (take8(in) % 20);
    size_t len = take32(in) % sizeof(buf);

    memset(buf, op, sizeof(buf));
    emu_device_dma(dev[op % NDEV], pasid, iova, buf, len,
                   (op & 4) ? EMU_DMA_WRITE : EMU_DMA_READ, NULL);
}

/* Input bytes into the RAM: tables, descriptors, entries. */
static void do_poke(Input *in)
{
    uint32_t off = take32(in) % RAM_SIZE;
    size_t n = take8(in);

    if (n > in->left) {
        n = in->left;
    }
    if (n > RAM_SIZE - off) {
        n = RAM_SIZE - off;
    }
    take(in, ram + off, n);
}

#define GPA_BASE        0x40000000ULL   /* where do_nest() maps the RAM */

static uint32_t ioctl_id(EmuCtx *ctx, unsigned long cmd, void *arg,
                         size_t id_off)
{
    uint32_t id = 0;

    if (!emu_ctx_ioctl(ctx, cmd, arg)) {
        memcpy(&id, (uint8_t *)arg + id_off, sizeof(id));
    }
    return id;
}

/*
 * A whole nesting set-up with input parameters: the RAM mapped at
 * GPA_BASE in a new IOAS, a nest parent (maybe dirty tracking), for
 * SMMUv3 a vIOMMU, vDEVICE and vEVENTQ, a nested HWPT whose driver data
 * is input bytes, and the device attached to it (RID or a PASID).
 */
static void do_nest(EmuCtx *ctx, EmuVfio **vfio, const uint32_t *dev_ids,
                    EmuHwKind kind, Input *in)
{
    uint8_t op = take8(in);
    unsigned d = op % NDEV;
    struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
    struct iommu_ioas_map map = {
        .size = sizeof(map), .flags = IOMMU_IOAS_MAP_FIXED_IOVA |
        IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
        .user_va = (uintptr_t)ram, .length = RAM_SIZE, .iova = GPA_BASE,
    };
    struct iommu_hwpt_alloc hw = { .size = sizeof(hw) };
    struct iommu_viommu_alloc vi = { .size = sizeof(vi) };
    struct iommu_vdevice_alloc vd = { .size = sizeof(vd) };
    struct iommu_veventq_alloc vq = { .size = sizeof(vq) };
    struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
    uint32_t parent, pt;
    uint8_t data[64];

    map.ioas_id = ioctl_id(ctx, IOMMU_IOAS_ALLOC, &ioas,
                           offsetof(struct iommu_ioas_alloc, out_ioas_id));
    emu_ctx_ioctl(ctx, IOMMU_IOAS_MAP, &map);
    hw.dev_id = dev_ids[d];
    hw.pt_id = map.ioas_id;
    hw.flags = IOMMU_HWPT_ALLOC_NEST_PARENT |
               ((op & 0x10) ? IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0) |
               ((op & 0x20) ? IOMMU_HWPT_ALLOC_PASID : 0);
    parent = ioctl_id(ctx, IOMMU_HWPT_ALLOC, &hw,
                      offsetof(struct iommu_hwpt_alloc, out_hwpt_id));
    pt = parent;
    if (kind == EMU_HW_SMMUV3) {
        vi.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
        vi.dev_id = dev_ids[d];
        vi.hwpt_id = parent;
        pt = ioctl_id(ctx, IOMMU_VIOMMU_ALLOC, &vi,
                      offsetof(struct iommu_viommu_alloc, out_viommu_id));
        vd.viommu_id = pt;
        vd.dev_id = dev_ids[d];
        vd.virt_id = take8(in);
        emu_ctx_ioctl(ctx, IOMMU_VDEVICE_ALLOC, &vd);
        vq.viommu_id = pt;
        vq.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3;
        vq.veventq_depth = take8(in) % 8 + 1;
        emu_ctx_ioctl(ctx, IOMMU_VEVENTQ_ALLOC, &vq);
    }
    memset(data, 0, sizeof(data));
    take(in, data, kind == EMU_HW_SMMUV3 ?
         sizeof(struct iommu_hwpt_arm_smmuv3) :
         sizeof(struct iommu_hwpt_vtd_s1));
    memcpy(ram, data, sizeof(data));
    hw = (struct iommu_hwpt_alloc) {
        .size = sizeof(hw), .dev_id = dev_ids[d], .pt_id = pt,
        .flags = (op & 0x20) ? IOMMU_HWPT_ALLOC_PASID : 0,
        .data_type = kind == EMU_HW_SMMUV3 ? IOMMU_HWPT_DATA_ARM_SMMUV3 :
                     IOMMU_HWPT_DATA_VTD_S1,
        .data_len = kind == EMU_HW_SMMUV3 ?
                    sizeof(struct iommu_hwpt_arm_smmuv3) :
                    sizeof(struct iommu_hwpt_vtd_s1),
        .data_uptr = (uintptr_t)ram,
    };
    at.pt_id = ioctl_id(ctx, IOMMU_HWPT_ALLOC, &hw,
                        offsetof(struct iommu_hwpt_alloc, out_hwpt_id));
    if (op & 0x40) {
        at.flags = VFIO_DEVICE_ATTACH_PASID;
        at.pasid = take8(in) % 16;
    }
    emu_vfio_ioctl(vfio[d], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
}

/* An invalidation array of input entries (already poked into RAM). */
static void do_invalidate(EmuCtx *ctx, EmuHwKind kind, Input *in)
{
    static const uint32_t lens[] = { 8, 16, 24, 32 };
    uint8_t op = take8(in);
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv), .hwpt_id = take8(in) % 16,
        .data_uptr = (uintptr_t)ram + (take32(in) % RAM_SIZE & ~7u),
        .data_type = kind == EMU_HW_SMMUV3 ?
                     IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 :
                     IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
        .entry_len = lens[op & 3],
        .entry_num = (op >> 2) % 16,
    };

    emu_ctx_ioctl(ctx, IOMMU_HWPT_INVALIDATE, &inv);
}

/* Dirty tracking on an object of the program, the bitmap in RAM. */
static void do_dirty(EmuCtx *ctx, Input *in)
{
    uint8_t op = take8(in);
    struct iommu_hwpt_set_dirty_tracking set = {
        .size = sizeof(set), .hwpt_id = op % 16,
        .flags = (op & 0x10) ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
    };
    struct iommu_hwpt_get_dirty_bitmap get = {
        .size = sizeof(get), .hwpt_id = op % 16,
        .iova = GPA_BASE + ((uint64_t)take8(in) << 12),
        .length = ((uint64_t)take8(in) + 1) << 12,
        .page_size = 4096u << (take8(in) % 3),
        .flags = (op & 0x20) ? IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0,
        .data = (uintptr_t)ram + RAM_SIZE - 4096,
    };

    if (op & 0x40) {
        emu_ctx_ioctl(ctx, IOMMU_HWPT_SET_DIRTY_TRACKING, &set);
    }
    emu_ctx_ioctl(ctx, IOMMU_HWPT_GET_DIRTY_BITMAP, &get);
}

static void do_read(EmuCtx *ctx, Input *in)
{
    uint8_t buf[512];
    int fd = take8(in);

    if (emu_ctx_owns_fd(ctx, fd)) {
        emu_ctx_read(ctx, fd, buf, take8(in) * 2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Input in = { data, size };
    EmuHost *host;
    EmuIommu *iommu;
    EmuDevice *dev[NDEV];
    EmuVfio *vfio[NDEV];
    EmuCtx *ctx;
    EmuHwConfig cfg;
    uint32_t dev_ids[NDEV];
    int i, ops;

    setup_once();
    memset(ram, 0, RAM_SIZE);
    emu_hw_config_default(&cfg, take8(&in) % 3);
    host = emu_host_new();
    if (emu_host_add_iommu(host, &cfg, &iommu)) {
        abort();
    }
    ctx = emu_ctx_open(host);
    if (!ctx) {
        abort();
    }
    for (i = 0; i < NDEV; i++) {
        struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };

        if (emu_host_add_device(host, iommu, 0x10 + i, "fuzz", &dev[i])) {
            abort();
        }
        vfio[i] = emu_vfio_open(dev[i]);
        emu_vfio_set_ctx(vfio[i], ctx);
        emu_vfio_ioctl(vfio[i], VFIO_DEVICE_BIND_IOMMUFD, &bind);
        dev_ids[i] = bind.out_devid;
    }
    for (ops = 0; ops < MAX_OPS && in.left; ops++) {
        switch (take8(&in) % 13) {
        case 0 ... 3:
            do_ioctl_checked(host, ctx, &in);
            break;
        case 4:
            do_vfio(vfio, &in);
            break;
        case 5:
            do_dma(dev, &in);
            break;
        case 6:
            do_poke(&in);
            break;
        case 7:
            do_nest(ctx, vfio, dev_ids, cfg.kind, &in);
            break;
        case 8:
            do_invalidate(ctx, cfg.kind, &in);
            break;
        case 9:
            do_dirty(ctx, &in);
            break;
        case 12:
            /* one of the next host operations fails, wherever it is */
            emu_host_fail_nth(host, 1 + take8(&in) % 32, ENOMEM);
            break;
        default:
            do_read(ctx, &in);
            break;
        }
    }
    emu_host_fail_nth(host, 0, 0);
    for (i = 0; i < NDEV; i++) {
        emu_vfio_close(vfio[i]);
    }
    emu_ctx_close(ctx);
    if (emu_host_free(host)) {
        abort();                /* the leak check found something */
    }
    return 0;
}
