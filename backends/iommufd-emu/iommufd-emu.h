/*
 * VNest emulated host IOMMU: public interface
 *
 * An in-process model of the Linux iommufd ABI (7.3) and of the IOMMU
 * hardware behind it. A program drives it with the very request structs
 * of <linux/iommufd.h> and <linux/vfio.h>; devices attached through it do
 * DMA that only the model translates. C and GLib only: no QEMU headers.
 *
 * Conventions: functions named *_ioctl behave like the system call they
 * model: they return 0 (or a non-negative value) on success and -1 with
 * errno set on failure, and write back what the kernel writes back even
 * on failure. Everything else returns 0 or a negative errno.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef IOMMUFD_EMU_H
#define IOMMUFD_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct EmuHost EmuHost;         /* the emulated machine */
typedef struct EmuIommu EmuIommu;       /* one physical IOMMU instance */
typedef struct EmuDevice EmuDevice;     /* one physical device behind it */
typedef struct EmuCtx EmuCtx;           /* one open of /dev/iommu */
typedef struct EmuVfio EmuVfio;         /* one open of a VFIO device cdev */

/* The hardware an emulated IOMMU instance models. */
typedef enum EmuHwKind {
    EMU_HW_PAGING,      /* paging only, no nesting (e.g. s390 hosts) */
    EMU_HW_VTD,         /* Intel VT-d */
    EMU_HW_SMMUV3,      /* Arm SMMUv3 */
    EMU_HW_SELFTEST,    /* the kernel selftest's mock IOMMU */
} EmuHwKind;

typedef struct EmuHwConfig {
    EmuHwKind kind;
    bool nesting;               /* offer NEST_PARENT and nested HWPTs */
    bool dirty_tracking;        /* IOMMU_HW_CAP_DIRTY_TRACKING */
    uint8_t pasid_bits;         /* 0: no PASID support */
    uint8_t ias;                /* input address bits of paging domains */
    unsigned iotlb_entries;     /* IOTLB + paging-structure cache size,
                                 * 0: EMU_IOTLB_DEFAULT_ENTRIES */
    union {
        struct {
            bool five_level;    /* 57-bit first stage (FS5LP) */
            bool fs1gp;         /* first-stage 1 GiB pages */
            bool errata_spr17;  /* IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 */
        } vtd;
        struct {
            uint8_t ssid_bits;  /* SubstreamID width */
            bool ril;           /* range invalidation */
            bool gran16k;
            bool gran64k;
            bool cd2l;          /* 2-level CD tables */
            bool ats;           /* PCIe ATS (IDR0.ATS) */
            /* IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI */
            bool errata_t264;
        } smmu;
    };
} EmuHwConfig;

/* A hardware IOTLB's order of magnitude (entries, all sizes and kinds) */
#define EMU_IOTLB_DEFAULT_ENTRIES   4096

/* Fill @cfg with a typical configuration for @kind. */
void emu_hw_config_default(EmuHwConfig *cfg, EmuHwKind kind);

EmuHost *emu_host_new(void);
/*
 * Free the host. Returns the number of objects still alive (each named
 * on stderr); 0 means nothing leaked.
 */
unsigned emu_host_free(EmuHost *host);

int emu_host_add_iommu(EmuHost *host, const EmuHwConfig *cfg,
                       EmuIommu **out);
/*
 * A physical device behind @iommu, identified by its requester or
 * stream ID. @name is what leak reports and traces call it.
 */
int emu_host_add_device(EmuHost *host, EmuIommu *iommu, uint32_t rid,
                        const char *name, EmuDevice **out);

/* The device with requester ID @rid behind @iommu, or NULL. */
EmuDevice *emu_host_find_device(EmuHost *host, EmuIommu *iommu,
                                uint32_t rid);

/*
 * One open of /dev/iommu: an object table and its own ids. NULL with
 * errno set when an injected failure hits (emu_host_fail_nth()).
 */
EmuCtx *emu_ctx_open(EmuHost *host);
/* Close: destroys every object this context still holds, leaf first. */
void emu_ctx_close(EmuCtx *ctx);
/* IOMMU_* ioctls on the context, with the kernel's argument structs. */
int emu_ctx_ioctl(EmuCtx *ctx, unsigned long cmd, void *arg);
/*
 * read()/write() on a file descriptor the context returned (vEVENTQ,
 * fault queue). Returns bytes or -1 with errno.
 */
ssize_t emu_ctx_read(EmuCtx *ctx, int fd, void *buf, size_t len);
ssize_t emu_ctx_write(EmuCtx *ctx, int fd, const void *buf, size_t len);
/* True if @fd is one this context returned and has not closed. */
bool emu_ctx_owns_fd(EmuCtx *ctx, int fd);
/* close() of such a file descriptor. */
int emu_ctx_close_fd(EmuCtx *ctx, int fd);
/*
 * mmap() of the iommufd at @offset (iommufd_fops_mmap): on success @fd is
 * a file descriptor of the region to map at offset 0 with the caller's
 * own mmap(), and the region's owner is held until emu_ctx_munmap().
 * Returns 0 or a negative errno (ENXIO: not exactly a region).
 */
int emu_ctx_mmap(EmuCtx *ctx, uint64_t offset, uint64_t length, int prot,
                 int flags, int *fd);
/* The caller unmapped the region it mapped at @offset. */
void emu_ctx_munmap(EmuCtx *ctx, uint64_t offset);

/* One open of the device's VFIO cdev (/dev/vfio/devices/vfioN). */
EmuVfio *emu_vfio_open(EmuDevice *dev);
/*
 * VFIO_DEVICE_BIND_IOMMUFD takes the emulated context in place of an fd:
 * the caller resolves bind.iommufd with emu_vfio_set_ctx() first.
 */
void emu_vfio_set_ctx(EmuVfio *vfio, EmuCtx *ctx);
int emu_vfio_ioctl(EmuVfio *vfio, unsigned long cmd, void *arg);
void emu_vfio_close(EmuVfio *vfio);

/* Device DMA, translated by the model only. */
#define EMU_NO_PASID    UINT32_MAX
#define EMU_DMA_READ    1u      /* device reads memory */
#define EMU_DMA_WRITE   2u      /* device writes memory */

typedef struct EmuFaultInfo {
    int err;                    /* -EFAULT, -EPERM ... */
    uint32_t pasid;
    uint64_t iova;
    unsigned access;
    const char *reason;         /* static string for traces */
    /*
     * Set with err -EAGAIN when the device issued (or still waits on) a
     * PCIe Page Request for this page instead of the access: @grpid is
     * its Page Request Group index (see emu_device_set_pri()).
     */
    bool page_request;
    uint32_t grpid;
} EmuFaultInfo;

/*
 * Copy @len bytes between @buf and the device's I/O address @iova as the
 * IOMMU translates it. 0 on success; on a fault, a negative errno and, if
 * @fault is given, what faulted. A fault reports to the attached HWPT's
 * fault queue or vEVENTQ the way the hardware would. With PRI: -EAGAIN
 * (a page request is out, retry after its response) or -EBUSY (the
 * device's page request allocation is used up), see emu_device_set_pri().
 * Bytes before the faulting page were already copied.
 */
int emu_device_dma(EmuDevice *dev, uint32_t pasid, uint64_t iova,
                   void *buf, size_t len, unsigned access,
                   EmuFaultInfo *fault);

/*
 * The host address of @len bytes at @iova (within one 4 KiB page) for
 * @access, or NULL with @fault filled and reported as emu_device_dma()
 * does. For VMMs that copy themselves (QEMU's DMA address spaces).
 */
void *emu_device_translate(EmuDevice *dev, uint32_t pasid, uint64_t iova,
                           size_t len, unsigned access, EmuFaultInfo *fault);

/*
 * PCIe Page Request Interface (PRI, PCIe 6.x 10.4) of a device.
 *
 * A device with PRI (and ATS, which PRI needs: Linux enables PRI only on
 * an ATS-enabled device, intel iommu.c:iommu_enable_pci_pri()) is probed
 * by the host as Linux 7.3's VT-d driver probes it: PRI is usable when
 * the IOMMU reports PRS and PDS (intel_iommu_probe_device(): pri_supported)
 * and the host then grants it min(capacity, 2048) outstanding page
 * requests (pci_enable_pri(pdev, PRQ_DEPTH)). Set both before the device
 * is bound (VFIO_DEVICE_BIND_IOMMUFD), as probing happens before: -EBUSY
 * once bound. Only the VT-d model takes page requests: on other hardware
 * models the capability is kept but never enabled (Linux 7.3's SMMUv3,
 * s390 and selftest mock drivers enable no PCIe PRI), and fault-queue
 * HWPTs attach as before.
 *
 * With PRI, a HWPT allocated with a fault queue (IOMMU_HWPT_FAULT_ID_VALID)
 * attaches; without, attaching one is ENODEV (intel_iommu_enable_iopf()).
 *
 * A DMA of such a device (emu_device_dma(), emu_device_translate()) that
 * meets a recoverable translation fault (not present, or no permission)
 * is not done: the device sends a Page Request for the page with the
 * access it needs and the call returns -EAGAIN with fault->page_request
 * and fault->grpid. The request reaches the attached HWPT's fault queue
 * as a struct iommu_hwpt_pgfault; the answer user space writes there
 * (or the kernel's automatic INVALID on detach, replace or queue destroy)
 * is the group's Page Request Group Response: emu_device_prg_status()
 * then reports it, and the notifier, if set, is called. The device
 * retries its access after SUCCESS and gives up after INVALID or FAILURE
 * (PCIe 10.4.2). While the same page is requested and unanswered, a new
 * access to it returns -EAGAIN with the same group and sends nothing.
 * When its outstanding requests reach the allocation, the device sends
 * none: the DMA fails with -EBUSY (page_request false) until a response
 * frees one (PCIe 10.4.1: a Function never exceeds its allocation).
 */
#define EMU_PRI_DEFAULT_CAPACITY    32      /* model's choice, see docs */
#define EMU_PRI_PRQ_DEPTH           2048    /* intel PRQ_DEPTH */
#define EMU_PRI_GROUPS              512     /* 9-bit PRG index */

/* Give @dev a PRI (and ATS) capability, or take it away. */
int emu_device_set_pri(EmuDevice *dev, bool pri);
/* Its Outstanding Page Request Capacity (0: EMU_PRI_DEFAULT_CAPACITY) */
int emu_device_set_pri_capacity(EmuDevice *dev, uint32_t capacity);
/* Did the host enable PRI on @dev (capability and IOMMU PRS + PDS)? */
bool emu_device_pri_enabled(EmuDevice *dev);
/*
 * How many attached domains hold the device's IOPF enabled (the VT-d
 * driver's iopf_refcount: one per RID or PASID attachment of a HWPT
 * with a fault queue).
 */
unsigned emu_device_iopf_refcount(EmuDevice *dev);

/* A Page Request Group's state; the responses are the PCIe codes. */
#define EMU_PRG_SUCCESS     0x0     /* retry the access */
#define EMU_PRG_INVALID     0x1     /* give up: the page will not come */
#define EMU_PRG_FAILURE     0xf     /* Response Failure: PRI stopped */
#define EMU_PRG_PENDING     0x10    /* sent, not answered yet */
/*
 * The state of group @grpid: the last request that used the index, until
 * a new request takes it; -ENOENT if none ever did, -EINVAL if @grpid is
 * not a 9-bit index or the device has no PRI.
 */
int emu_device_prg_status(EmuDevice *dev, uint32_t grpid);
/*
 * Called, with the host lock held and in the thread that answers, when a
 * group of @dev is answered with @status (EMU_PRG_SUCCESS, _INVALID,
 * _FAILURE); @pasid is EMU_NO_PASID for an untagged request. It may call
 * back into the model. NULL @fn removes it.
 */
typedef void EmuPrgNotify(void *opaque, EmuDevice *dev, uint32_t pasid,
                          uint32_t grpid, int status);
void emu_device_set_prg_notify(EmuDevice *dev, EmuPrgNotify *fn,
                               void *opaque);

/*
 * Failure injection: the @nth host operation from now fails with -@err
 * (0 disables). Returns how many operations ran since the last call.
 */
unsigned long emu_host_fail_nth(EmuHost *host, unsigned long nth, int err);
/*
 * Where the last injected failure hit ("file.c:line" of its injection
 * point), NULL if none hit since the last arming.
 */
const char *emu_host_fail_site(EmuHost *host);
/*
 * The context's state as text (objects, references, areas, attachments,
 * pins...), for tests: a command that failed must leave it unchanged.
 * Free with g_free().
 */
char *emu_ctx_describe(EmuCtx *ctx);

/* Statistics, for tests and benchmarks. */
typedef struct EmuStats {
    uint64_t translations;
    uint64_t iotlb_hits;
    uint64_t iotlb_misses;
    uint64_t iotlb_entries;     /* now, leaves and table entries */
    uint64_t iotlb_evictions;   /* capacity replacements */
    uint64_t iotlb_flush_work;  /* entries probed or scanned by flushes */
    uint64_t psc_hits;          /* walks shortened by cached tables */
    uint64_t faults;
    uint64_t objects;
} EmuStats;
void emu_host_stats(EmuHost *host, EmuStats *st);

#endif
