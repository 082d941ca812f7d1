/*
 * VNest: run an unmodified iommufd program against the emulated host
 *
 * LD_PRELOAD=libiommufd-preload.so ./program
 *
 * open("/dev/iommu") returns a real file descriptor (a memfd, so numbers
 * stay unique and close() works) backed by one emulated iommufd context;
 * ioctl() on it goes to emu_ctx_ioctl(). The vEVENTQ and fault queue
 * descriptors the model hands out are real eventfds (poll() works as is);
 * read(), write() and close() on them go to the model. mmap() of an
 * iommufd maps the region the model hands out (a vIOMMU's page), and
 * munmap() of it lets the model release the region's owner. Everything
 * else passes through to libc. One emulated host per process, with one
 * IOMMU of the kernel selftest's mock kind, as a kernel with IOMMUFD_TEST
 * has.
 *
 * Per-task fault injection (/proc/self/task/TID/fail-nth, which
 * iommufd_fail_nth writes) is routed to emu_host_fail_nth(): writing N
 * makes the Nth model operation fail with ENOMEM; reading returns 0 once
 * the injected failure happened, as the kernel's file does. The debugfs
 * knobs the test sets first (/sys/kernel/debug/fail*) become sinks, so it
 * finds "fault injection enabled". Only model operations (emu_host_op())
 * are injection points, far fewer than the kernel's allocations.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

/*
 * Both open() and open64() (and friends) are interposed: build without the
 * large-file renaming QEMU's flags turn on, or the two would be one symbol.
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>
#include "iommufd-emu.h"

#define IOMMU_PATH      "/dev/iommu"
#define VFIO_CDEV_PREFIX "/dev/vfio/devices/vfio"
#define HW_ENV          "VNEST_PRELOAD_HW"      /* kind[,key=value...] */
#define VFIO_RID_BASE   0x10                    /* vfioN is RID 0x10 + N */
#define DEBUGFS_PATH    "/sys/kernel/debug"
#define FAULT_PREFIX    "fail"          /* failslab/, fail_page_alloc/ */
#define FAIL_NTH_SUFFIX "/fail-nth"
#define MAX_FDS         4096
#define TRACE_ENV       "VNEST_PRELOAD_TRACE"   /* set: log fail-nth */
#define EMU_SHIM_PAGE_SIZE 4096     /* mmap offsets: x86 and the model */

typedef enum FdKind {
    FD_NONE,
    FD_IOMMU,           /* an open of /dev/iommu */
    FD_FAIL_NTH,        /* a task's fail-nth file */
    FD_SINK,            /* a debugfs fault-injection knob */
    FD_VFIO,            /* an open of /dev/vfio/devices/vfioN */
} FdKind;

/* A caller's mmap() of an iommufd region (emu_ctx_mmap) */
#define MAX_MAPS        64
typedef struct PreloadMap {
    void *addr;
    EmuCtx *ctx;
    uint64_t offset;
} PreloadMap;

typedef struct Preload {
    pthread_mutex_t lock;
    PreloadMap maps[MAX_MAPS];
    EmuHost *host;
    FdKind kind[MAX_FDS];
    EmuCtx *ctx[MAX_FDS];
    EmuVfio *vfio[MAX_FDS];
    EmuIommu *iommu;
    unsigned long fail_nth;     /* armed: what was written */
} Preload;

static Preload pl = {
    .lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
};

/*
 * Set while this thread runs the model: the model's own read(), write()
 * and close() of its eventfds must reach libc, not come back here.
 */
static __thread int in_model;

static void model_enter(void)
{
    pthread_mutex_lock(&pl.lock);
    in_model++;
}

static void model_exit(void)
{
    in_model--;
    pthread_mutex_unlock(&pl.lock);
}

/* ---- libc entry points ---- */

typedef int (*OpenatFn)(int, const char *, int, ...);
typedef int (*IoctlFn)(int, unsigned long, ...);
typedef ssize_t (*ReadFn)(int, void *, size_t);
typedef ssize_t (*WriteFn)(int, const void *, size_t);
typedef ssize_t (*PreadFn)(int, void *, size_t, off_t);
typedef ssize_t (*PwriteFn)(int, const void *, size_t, off_t);
typedef int (*CloseFn)(int);
typedef void *(*MmapFn)(void *, size_t, int, int, int, off_t);
typedef int (*MunmapFn)(void *, size_t);

static void *real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);

    if (!fn) {
        fprintf(stderr, "iommufd-preload: no libc symbol %s\n", name);
        abort();
    }
    return fn;
}

#define REAL(type, name) ((type)real(name))

/* ---- the emulated host ---- */

/*
 * The hardware: the selftest's mock IOMMU unless VNEST_PRELOAD_HW says
 * otherwise, e.g. "vtd,nesting=0,dirty=0,pasid=0" to match a guest whose
 * IOMMU is QEMU's intel-iommu in scalable mode.
 */
static void hw_config(EmuHwConfig *cfg)
{
    const char *env = getenv(HW_ENV);
    EmuHwKind kind = EMU_HW_SELFTEST;
    const char *p;

    if (env && !strncmp(env, "vtd", 3)) {
        kind = EMU_HW_VTD;
    } else if (env && !strncmp(env, "smmuv3", 6)) {
        kind = EMU_HW_SMMUV3;
    } else if (env && !strncmp(env, "paging", 6)) {
        kind = EMU_HW_PAGING;
    }
    emu_hw_config_default(cfg, kind);
    for (p = env ? strchr(env, ',') : NULL; p; p = strchr(p + 1, ',')) {
        if (!strncmp(p + 1, "nesting=", 8)) {
            cfg->nesting = p[9] == '1';
        } else if (!strncmp(p + 1, "dirty=", 6)) {
            cfg->dirty_tracking = p[7] == '1';
        } else if (!strncmp(p + 1, "pasid=", 6)) {
            cfg->pasid_bits = (uint8_t)atoi(p + 7);
        }
    }
}

static EmuHost *host_get(void)
{
    EmuHwConfig cfg;

    if (pl.host) {
        return pl.host;
    }
    pl.host = emu_host_new();
    hw_config(&cfg);
    if (emu_host_add_iommu(pl.host, &cfg, &pl.iommu)) {
        fprintf(stderr, "iommufd-preload: cannot add the emulated IOMMU\n");
        abort();
    }
    return pl.host;
}

/* The emulated device behind /dev/vfio/devices/vfio@n, made on demand. */
static EmuVfio *vfio_open(unsigned n)
{
    char name[32];
    EmuDevice *dev;
    int rc;

    snprintf(name, sizeof(name), "vfio%u", n);
    rc = emu_host_add_device(host_get(), pl.iommu, VFIO_RID_BASE + n, name,
                             &dev);
    if (rc && rc != -EEXIST) {
        return NULL;
    }
    if (rc == -EEXIST) {
        dev = emu_host_find_device(pl.host, pl.iommu, VFIO_RID_BASE + n);
    }
    return dev ? emu_vfio_open(dev) : NULL;
}

static bool fd_valid(int fd)
{
    return fd >= 0 && fd < MAX_FDS;
}

static FdKind fd_kind(int fd)
{
    return fd_valid(fd) ? pl.kind[fd] : FD_NONE;
}

/* The context that handed out event fd @fd, or NULL. */
static EmuCtx *event_fd_ctx(int fd)
{
    int i;

    if (!pl.host) {
        return NULL;
    }
    for (i = 0; i < MAX_FDS; i++) {
        if (pl.kind[i] == FD_IOMMU && emu_ctx_owns_fd(pl.ctx[i], fd)) {
            return pl.ctx[i];
        }
    }
    return NULL;
}

static bool is_fail_nth(const char *path)
{
    size_t n = strlen(path), s = strlen(FAIL_NTH_SUFFIX);

    return !strncmp(path, "/proc/", strlen("/proc/")) && n > s &&
           !strcmp(path + n - s, FAIL_NTH_SUFFIX);
}

/* A real descriptor standing for an emulated file of @kind. */
static int fake_open(const char *path, int flags, FdKind kind)
{
    int fd = memfd_create(kind == FD_IOMMU ? "iommufd" : "fault-knob",
                          (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);

    if (fd < 0) {
        return -1;
    }
    if (!fd_valid(fd)) {
        REAL(CloseFn, "close")(fd);
        errno = EMFILE;
        return -1;
    }
    model_enter();
    pl.kind[fd] = kind;
    if (kind == FD_IOMMU) {
        pl.ctx[fd] = emu_ctx_open(host_get());
        if (!pl.ctx[fd]) {
            int err = errno;

            pl.kind[fd] = FD_NONE;
            model_exit();
            REAL(CloseFn, "close")(fd);
            errno = err;
            return -1;
        }
    } else if (kind == FD_VFIO) {
        pl.vfio[fd] = vfio_open(atoi(path + strlen(VFIO_CDEV_PREFIX)));
        if (!pl.vfio[fd]) {
            pl.kind[fd] = FD_NONE;
            model_exit();
            REAL(CloseFn, "close")(fd);
            errno = EBUSY;
            return -1;
        }
    }
    model_exit();
    return fd;
}

static FdKind path_kind(const char *path);

/* Is @dirfd an open directory of debugfs? */
static bool is_debugfs_dir(int dirfd)
{
    char link[64], target[sizeof(DEBUGFS_PATH) + 1];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
    n = readlink(link, target, sizeof(target) - 1);
    if (n < 0) {
        return false;
    }
    target[n] = '\0';
    return !strcmp(target, DEBUGFS_PATH);
}

/* A fault-injection knob, absolute or relative to debugfs */
static bool is_fault_knob(int dirfd, const char *path)
{
    const char *abs = DEBUGFS_PATH "/" FAULT_PREFIX;

    if (!strncmp(path, abs, strlen(abs))) {
        return true;
    }
    return path[0] != '/' && dirfd != AT_FDCWD &&
           !strncmp(path, FAULT_PREFIX, strlen(FAULT_PREFIX)) &&
           is_debugfs_dir(dirfd);
}

/* What openat() of @path should do: FD_NONE means pass through. */
static FdKind path_kind_at(int dirfd, const char *path)
{
    if (path && is_fault_knob(dirfd, path)) {
        return FD_SINK;
    }
    return path_kind(path);
}

/* What open() of @path should do: FD_NONE means pass through. */
static FdKind path_kind(const char *path)
{
    if (!path) {
        return FD_NONE;
    }
    if (!strcmp(path, IOMMU_PATH)) {
        return FD_IOMMU;
    }
    if (!strncmp(path, VFIO_CDEV_PREFIX, strlen(VFIO_CDEV_PREFIX))) {
        return FD_VFIO;
    }
    if (is_fail_nth(path)) {
        return FD_FAIL_NTH;
    }
    if (is_fault_knob(AT_FDCWD, path)) {
        return FD_SINK;
    }
    return FD_NONE;
}

static mode_t open_mode(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

/*
 * All four open entry points end here: an emulated file, or libc's
 * openat() (open(path) is openat(AT_FDCWD, path)).
 */
static int open_common(int dirfd, const char *path, int flags, mode_t mode)
{
    FdKind kind = path_kind_at(dirfd, path);

    if (kind != FD_NONE) {
        return fake_open(path, flags, kind);
    }
    return REAL(OpenatFn, "openat")(dirfd, path, flags, mode);
}

#define OPEN_ENTRY(name, ...) \
    int name(__VA_ARGS__, int flags, ...) \
    { \
        va_list ap; \
        mode_t mode; \
        \
        va_start(ap, flags); \
        mode = open_mode(flags, ap); \
        va_end(ap); \
        return open_common(OPEN_DIRFD, path, flags, mode); \
    }

#define OPEN_DIRFD AT_FDCWD
OPEN_ENTRY(open, const char *path)
OPEN_ENTRY(open64, const char *path)
#undef OPEN_DIRFD
#define OPEN_DIRFD dirfd
OPEN_ENTRY(openat, int dirfd, const char *path)
OPEN_ENTRY(openat64, int dirfd, const char *path)
#undef OPEN_DIRFD

/* A VFIO cdev ioctl; BIND names its iommufd by (our) file descriptor. */
static int vfio_ioctl(int fd, unsigned long req, void *arg)
{
    int rc;

    model_enter();
    if (req == VFIO_DEVICE_BIND_IOMMUFD) {
        struct vfio_device_bind_iommufd *bind = arg;

        if (fd_kind(bind->iommufd) != FD_IOMMU) {
            model_exit();
            errno = EBADF;
            return -1;
        }
        emu_vfio_set_ctx(pl.vfio[fd], pl.ctx[bind->iommufd]);
    }
    rc = emu_vfio_ioctl(pl.vfio[fd], req, arg);
    model_exit();
    return rc;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;
    int rc;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (fd_kind(fd) == FD_VFIO) {
        return vfio_ioctl(fd, req, arg);
    }
    if (fd_kind(fd) != FD_IOMMU) {
        return REAL(IoctlFn, "ioctl")(fd, req, arg);
    }
    model_enter();
    rc = emu_ctx_ioctl(pl.ctx[fd], req, arg);
    model_exit();
    return rc;
}

/* ---- fail-nth ---- */

/* The decimal number at the start of @buf (no libc: we are its hook) */
static unsigned long parse_decimal(const char *buf, size_t len)
{
    unsigned long v = 0;
    size_t i;

    for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
        v = v * 10 + (buf[i] - '0');
    }
    return v;
}

/* Parse the number the test writes and arm the model. */
static ssize_t fail_nth_write(const void *buf, size_t len)
{
    pl.fail_nth = parse_decimal(buf, len);
    emu_host_fail_nth(host_get(), pl.fail_nth, ENOMEM);
    return len;
}

/*
 * The kernel's file reads back 0 once the armed failure fired, else the
 * number of calls still to go. The model disarms when it fires.
 */
static ssize_t fail_nth_read(void *buf, size_t len)
{
    EmuHost *host = host_get();
    unsigned long ran = emu_host_fail_nth(host, 0, 0);
    unsigned long left = pl.fail_nth > ran ? pl.fail_nth - ran : 0;
    char text[32];
    int n;

    if (left) {
        emu_host_fail_nth(host, left, ENOMEM);
    }
    if (getenv(TRACE_ENV)) {
        fprintf(stderr, "iommufd-preload: fail-nth %lu: %s\n", pl.fail_nth,
                left ? "not reached" : "injected");
    }
    pl.fail_nth = left;
    n = snprintf(text, sizeof(text), "%lu\n", left);
    if ((size_t)n > len) {
        n = len;
    }
    memcpy(buf, text, n);
    return n;
}

ssize_t read(int fd, void *buf, size_t len)
{
    EmuCtx *ctx;
    ssize_t rc;

    if (in_model) {
        return REAL(ReadFn, "read")(fd, buf, len);
    }

    model_enter();
    if (fd_kind(fd) == FD_FAIL_NTH) {
        rc = fail_nth_read(buf, len);
        model_exit();
        return rc;
    }
    ctx = event_fd_ctx(fd);
    if (ctx) {
        rc = emu_ctx_read(ctx, fd, buf, len);
        model_exit();
        return rc;
    }
    model_exit();
    return REAL(ReadFn, "read")(fd, buf, len);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    EmuCtx *ctx;
    ssize_t rc;

    if (in_model) {
        return REAL(WriteFn, "write")(fd, buf, len);
    }

    model_enter();
    if (fd_kind(fd) == FD_FAIL_NTH || fd_kind(fd) == FD_SINK) {
        rc = fd_kind(fd) == FD_SINK ? (ssize_t)len : fail_nth_write(buf, len);
        model_exit();
        return rc;
    }
    ctx = event_fd_ctx(fd);
    if (ctx) {
        rc = emu_ctx_write(ctx, fd, buf, len);
        model_exit();
        return rc;
    }
    model_exit();
    return REAL(WriteFn, "write")(fd, buf, len);
}

/* The fail-nth file is read and written at offset 0 with pread/pwrite */
ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
    ssize_t rc;

    if (fd_kind(fd) != FD_FAIL_NTH) {
        return REAL(PreadFn, "pread")(fd, buf, len, off);
    }
    model_enter();
    rc = fail_nth_read(buf, len);
    model_exit();
    return rc;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    ssize_t rc;

    if (fd_kind(fd) != FD_FAIL_NTH) {
        return REAL(PwriteFn, "pwrite")(fd, buf, len, off);
    }
    model_enter();
    rc = fail_nth_write(buf, len);
    model_exit();
    return rc;
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
    return pread(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    return pwrite(fd, buf, len, off);
}

/* The context is closing: its regions no longer track mappings. */
static void maps_forget(EmuCtx *ctx)
{
    int i;

    for (i = 0; i < MAX_MAPS; i++) {
        if (pl.maps[i].ctx == ctx) {
            pl.maps[i].ctx = NULL;
            pl.maps[i].addr = NULL;
        }
    }
}

/*
 * mmap() of an iommufd: the model checks the request as
 * iommufd_fops_mmap does and hands out the region's memfd, which is
 * mapped in its place.
 */
static void *mmap_common(void *addr, size_t len, int prot, int flags, int fd,
                         off_t off)
{
    void *p;
    int rfd, rc, i;

    if (in_model || fd_kind(fd) != FD_IOMMU) {
        return REAL(MmapFn, "mmap")(addr, len, prot, flags, fd, off);
    }
    if (off & (EMU_SHIM_PAGE_SIZE - 1)) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    model_enter();
    for (i = 0; i < MAX_MAPS && pl.maps[i].ctx; i++) {
        /* a free slot */
    }
    rc = i == MAX_MAPS ? -ENOMEM :
         emu_ctx_mmap(pl.ctx[fd], off, len, prot, flags, &rfd);
    if (rc) {
        model_exit();
        errno = -rc;
        return MAP_FAILED;
    }
    p = REAL(MmapFn, "mmap")(addr, len, prot, flags, rfd, 0);
    if (p == MAP_FAILED) {
        rc = errno;
        emu_ctx_munmap(pl.ctx[fd], off);
        errno = rc;
    } else {
        pl.maps[i] = (PreloadMap) { .addr = p, .ctx = pl.ctx[fd],
                                    .offset = off };
    }
    model_exit();
    return p;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_common(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_common(addr, len, prot, flags, fd, off);
}

/* Unmapping a region's mapping releases its owner in the model. */
int munmap(void *addr, size_t len)
{
    int rc = REAL(MunmapFn, "munmap")(addr, len), i;

    if (in_model || rc) {
        return rc;
    }
    model_enter();
    for (i = 0; i < MAX_MAPS; i++) {
        if (pl.maps[i].ctx && pl.maps[i].addr == addr) {
            emu_ctx_munmap(pl.maps[i].ctx, pl.maps[i].offset);
            pl.maps[i].ctx = NULL;
            pl.maps[i].addr = NULL;
            break;
        }
    }
    model_exit();
    return 0;
}

int close(int fd)
{
    EmuCtx *ctx;
    int rc;

    if (in_model) {
        return REAL(CloseFn, "close")(fd);
    }

    model_enter();
    switch (fd_kind(fd)) {
    case FD_VFIO:
        emu_vfio_close(pl.vfio[fd]);
        pl.vfio[fd] = NULL;
        pl.kind[fd] = FD_NONE;
        break;
    case FD_IOMMU:
        maps_forget(pl.ctx[fd]);
        emu_ctx_close(pl.ctx[fd]);
        pl.ctx[fd] = NULL;
        /* fall through */
    case FD_FAIL_NTH:
    case FD_SINK:
        pl.kind[fd] = FD_NONE;
        break;
    default:
        ctx = event_fd_ctx(fd);
        if (ctx) {
            rc = emu_ctx_close_fd(ctx, fd);
            model_exit();
            return rc;
        }
        break;
    }
    model_exit();
    return REAL(CloseFn, "close")(fd);
}
