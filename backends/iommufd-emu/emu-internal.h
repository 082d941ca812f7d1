/*
 * VNest emulated host IOMMU: private definitions
 *
 * Every object and hardware structure of the model lives here, so the
 * object files (one per object kind, as in the kernel's iommufd) share one
 * view. The core returns negative errnos; only the ioctl boundary in
 * emu-main.c turns them into -1/errno.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef IOMMUFD_EMU_INTERNAL_H
#define IOMMUFD_EMU_INTERNAL_H

#include <errno.h>
#include <glib.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "iommufd-emu.h"

#define EMU_PAGE_SHIFT      12
#define EMU_PAGE_SIZE       (1ULL << EMU_PAGE_SHIFT)
#define EMU_PAGE_MASK       (~(EMU_PAGE_SIZE - 1))
#define EMU_ROUND_UP(x, a)  (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define EMU_DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

typedef struct EmuObj EmuObj;
typedef struct EmuRange {
    uint64_t first, last;
} EmuRange;
typedef struct EmuIoas EmuIoas;
typedef struct EmuArea EmuArea;
typedef struct EmuHwpt EmuHwpt;
typedef struct EmuIdev EmuIdev;
typedef struct EmuViommu EmuViommu;
typedef struct EmuVdevice EmuVdevice;
typedef struct EmuEventq EmuEventq;
typedef struct EmuHwOps EmuHwOps;
typedef struct EmuStdev EmuStdev;
typedef struct EmuAccess EmuAccess;
typedef struct EmuHwQueue EmuHwQueue;
typedef struct EmuDirty EmuDirty;
typedef struct EmuMmap EmuMmap;
typedef struct EmuDmabuf EmuDmabuf;
typedef struct EmuPgGroup EmuPgGroup;
typedef struct EmuPrg EmuPrg;

/* ---- Objects (one per iommufd object kind) ---- */

typedef enum EmuObjType {
    EMU_OBJ_NONE,
    EMU_OBJ_IOAS,
    EMU_OBJ_HWPT_PAGING,
    EMU_OBJ_HWPT_NESTED,
    EMU_OBJ_DEVICE,
    EMU_OBJ_VIOMMU,
    EMU_OBJ_VDEVICE,
    EMU_OBJ_VEVENTQ,
    EMU_OBJ_FAULT,
    EMU_OBJ_SELFTEST,       /* a selftest mock device */
    EMU_OBJ_ACCESS,         /* a selftest in-kernel access */
    EMU_OBJ_HW_QUEUE,
    EMU_OBJ_MAX,
} EmuObjType;

/*
 * The header every object starts with. @users counts references held by
 * other objects and attachments; IOMMU_DESTROY refuses (EBUSY) while it is
 * non-zero. An object is reserved (id allocated, not yet visible to
 * lookups) until emu_obj_finalize(), or dropped by emu_obj_abort().
 */
struct EmuObj {
    EmuObjType type;
    uint32_t id;
    unsigned users;
    bool finalized;
    EmuCtx *ctx;
};

struct EmuArea {
    uint64_t iova;
    uint64_t length;
    uint8_t *hva;               /* host address of iova */
    unsigned prot;              /* EMU_DMA_READ | EMU_DMA_WRITE */
    void *map_base;             /* MAP_FILE: our own mmap of the file */
    size_t map_len;
    unsigned *map_refs;         /* shared by copies of a MAP_FILE area */
    unsigned pins;              /* hardware queues: unmap is EBUSY */
    const EmuDmabuf *dmabuf;    /* MAP_FILE of a dma-buf */
    /* the kernel's iopt_pages: one per MAP or MAP_FILE, shared by copies */
    uint64_t pages_id;
};

/*
 * A dma-buf the selftest's DMABUF_GET exported: a memfd of @size bytes,
 * known by its inode; revoked, it maps nothing (iopt_revoke_notify).
 */
struct EmuDmabuf {
    uint64_t dev, ino;
    uint64_t size;
    bool revoked;
};

struct EmuIoas {
    EmuObj obj;
    GTree *areas;               /* iova -> EmuArea, non-overlapping */
    GArray *allowed;            /* struct iommu_iova_range, empty = all */
    GList *hwpts;               /* paging HWPTs built on this IOAS */
    GArray *reserved;           /* Range: reserved by the owner */
    GList *accesses;            /* EmuAccess users of this IOAS */
    bool huge_pages;
};

struct EmuHwpt {
    EmuObj obj;
    EmuIommu *iommu;            /* hardware instance it was made for */
    uint32_t flags;             /* IOMMU_HWPT_ALLOC_* */
    EmuIoas *ioas;              /* paging: the IOAS it mirrors */
    EmuHwpt *parent;            /* nested: the nest parent (S2) */
    EmuViommu *viommu;          /* nested via a vIOMMU (SMMUv3) */
    EmuEventq *fault;           /* FAULT_ID_VALID */
    uint32_t data_type;         /* nested: IOMMU_HWPT_DATA_* */
    void *data;                 /* nested: the model's stage-1 config */
    uint32_t tag;               /* hardware domain tag (DID, ASID space) */
    bool dirty_tracking;
    EmuDirty *dirty;            /* what its dirty bits hold (emu-dirty.c) */
    uint64_t huge_leaf;         /* selftest mock: leaf size it maps with */
    unsigned attached;          /* device attachments */
    bool auto_domain;           /* made by attaching to an IOAS */
    unsigned nested_attached;   /* attachments of nested children */
    unsigned children;          /* nested HWPTs / vIOMMUs on this parent */
};

/* The iommufd device object: a bound VFIO device. */
struct EmuIdev {
    EmuObj obj;
    EmuDevice *dev;
    EmuVfio *vfio;
    GHashTable *attach;         /* pasid (EMU_NO_PASID for RID) -> hwpt */
    EmuVdevice *vdev;           /* at most one per vIOMMU in practice */
};

struct EmuViommu {
    EmuObj obj;
    EmuIommu *iommu;
    EmuHwpt *parent;
    uint32_t type;
    uint32_t vmid;              /* hardware tag of the S2 */
    GHashTable *vdevs;          /* virt_id -> EmuVdevice */
    GList *veventqs;            /* EmuEventq, at most one per type */
#define EMU_HW_QUEUE_MAX 8
    EmuHwQueue *hw_queues[EMU_HW_QUEUE_MAX];
};

struct EmuVdevice {
    EmuObj obj;
    EmuViommu *viommu;
    EmuIdev *idev;
    uint64_t virt_id;
};

/*
 * vEVENTQ or fault queue: records readable through a file descriptor,
 * fd -1 once the caller closed it (the object lives until destroyed).
 */
struct EmuEventq {
    EmuObj obj;
    int fd;                     /* eventfd, readable while records wait */
    bool is_fault;
    EmuViommu *viommu;          /* vEVENTQ */
    uint32_t type;
    uint32_t depth;
    uint32_t seq;
    bool lost;                  /* the last record is LOST_EVENTS */
    GQueue records;             /* GBytes; a fault queue's: EmuPgGroup */
    GHashTable *pending;        /* fault: cookie -> EmuPgGroup read */
};

/*
 * Intel's iommu_report_device_fault() events carry
 * IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID (include/linux/iommu.h) with
 * PASID_VALID (intel/prq.c:intel_prq_report()), and
 * iommufd_compose_fault_message() copies prm.flags to the record as is:
 * user space sees this bit, which the uAPI does not name.
 */
#define EMU_PGFAULT_FLAGS_NEEDS_PASID   (1u << 2)

/*
 * One page request group on a fault queue (the kernel's iopf_group with
 * its one, last, fault): queued until read, then pending on its cookie
 * until answered. Its attach handle is (idev, attach_pasid): the RID's
 * (EMU_NO_PASID) or a PASID's attachment the request was routed to.
 */
struct EmuPgGroup {
    struct iommu_hwpt_pgfault rec;
    EmuIdev *idev;
    uint32_t attach_pasid;
    EmuDevice *dev;             /* a device's request: gets the response */
    uint32_t req_pasid;         /* its PASID, EMU_NO_PASID if untagged */
};

/* A device's Page Request Group index (PCIe 10.4.1) */
struct EmuPrg {
    int status;                 /* EMU_PRG_*, -ENOENT: never used */
    uint32_t pasid;             /* EMU_NO_PASID: untagged */
    uint64_t addr;
    unsigned access;
};

/* ---- Hardware ---- */

/*
 * The IOTLB (emu-iotlb.c): one per physical IOMMU, tagged as the hardware
 * tags it. A leaf entry maps an input block of 2^shift bytes to an output
 * block; a paging-structure entry (PSC) caches a non-leaf table entry for
 * the input block it covers. Stage 2 is always resolved live from the
 * parent IOAS (what a flush on every S2 unmap amounts to); paging HWPTs
 * are resolved live for the same reason.
 */
typedef enum EmuTlbKind {
    EMU_TLB_LEAF,
    EMU_TLB_PSC,
    EMU_TLB_KINDS,
} EmuTlbKind;
#define EMU_TLB_ALL     ((1u << EMU_TLB_LEAF) | (1u << EMU_TLB_PSC))

typedef struct EmuTlbKey {
    uint64_t base;              /* input address of the block */
    uint32_t tag;               /* domain tag: DID (VT-d), VMID (SMMUv3) */
    uint32_t asid;              /* PASID (VT-d), ASID (SMMUv3) */
    uint8_t shift;              /* block size: 2^shift */
    uint8_t kind;               /* EmuTlbKind */
} EmuTlbKey;

typedef struct EmuTlbData {
    uint64_t out;               /* output base (leaf) or next table (PSC) */
    unsigned prot;              /* EMU_DMA_* the entry grants */
    uint32_t attr;              /* model-specific (e.g. SMMUv3 CD.R) */
} EmuTlbData;

typedef struct EmuTlbEntry EmuTlbEntry;
typedef struct EmuIotlb EmuIotlb;

typedef struct EmuIotlbStats {
    uint64_t hits[EMU_TLB_KINDS];
    uint64_t misses[EMU_TLB_KINDS];
    uint64_t inserts;
    uint64_t evictions;
    uint64_t flushes;           /* invalidation requests */
    uint64_t flush_work;        /* probes + entries scanned by them */
    uint64_t entries;           /* now */
    uint64_t capacity;
} EmuIotlbStats;

/* One translation through a stage-1 (nested) configuration. */
typedef struct EmuWalk {
    uint64_t out;               /* IPA/GPA of iova */
    uint64_t size;              /* leaf size */
    unsigned prot;
    EmuFaultInfo fault;
    uint64_t hw[4];             /* model-specific fault record */
    bool recoverable;           /* an ATS request would get R=W=0 */
} EmuWalk;

struct EmuHwOps {
    EmuHwKind kind;
    uint32_t hw_info_type;
    /* Fill the type-specific GET_HW_INFO payload; returns its length. */
    size_t (*hw_info)(EmuIommu *iommu, void *buf, size_t len);
    /*
     * Nested HWPT: validate and keep the stage-1 config (data_type). The
     * driver copies it with iommu_copy_struct_from_user(): data_len from
     * nested_data_min (offsetofend of its min_last) to nested_data_size
     * (the struct), EINVAL outside. A data type it does not take is
     * EOPNOTSUPP where the driver checks it first (VT-d, the mock), EINVAL
     * where only the copy helper does (nested_type_einval: SMMUv3).
     * nested_flags: the allocation flags the driver takes besides
     * FAULT_ID_VALID (which the core keeps), others are EOPNOTSUPP.
     */
    uint32_t nested_data_type;
    size_t nested_data_min;
    size_t nested_data_size;
    bool nested_type_einval;
    uint32_t nested_flags;
    int (*nested_alloc)(EmuHwpt *hwpt, const void *data, size_t len);
    /*
     * Paging HWPT with driver data of nested_data_type (may be NULL);
     * sets *huge_leaf to a large leaf size the format maps with, if any.
     */
    int (*paging_data)(EmuIommu *iommu, const void *data,
                       uint64_t *huge_leaf);
    /* Attach-time checks of a nested HWPT for a device (may be NULL). */
    int (*nested_attach)(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid);
    void (*nested_free)(EmuHwpt *hwpt);
    /*
     * The driver sets a domain on a PASID (NULL: the blocked domain, a
     * detach); may fail the attach or replace (may be NULL).
     */
    int (*set_dev_pasid)(EmuIdev *idev, uint32_t pasid, EmuHwpt *hwpt);
    /*
     * HWPT_INVALIDATE on a nested HWPT or a vIOMMU: one entry. A nested
     * HWPT's array is copied entry by entry, each exactly the kernel
     * struct (iommu_copy_struct_from_user_array(), min_last being the
     * last member); a vIOMMU's array is copied whole first with
     * copy_struct_from_user() rules per entry
     * (iommu_copy_struct_from_full_user_array()). See emu-hwpt.c.
     */
    uint32_t inv_data_type;
    size_t inv_entry_size;
    int (*invalidate)(EmuHwpt *hwpt, EmuViommu *viommu, void *entry);
    /* vIOMMU type this hardware offers (0: none) */
    uint32_t viommu_type;
    /* Nested HWPTs also on a plain nest parent (without a vIOMMU) */
    bool nest_on_parent;
    /* vIOMMU invalidation entry size, if not inv_entry_size */
    size_t viommu_inv_entry_size;
    /*
     * vIOMMU: entry_num 0 only checks the data type (the selftest mock's
     * mock_viommu_cache_invalidate()); otherwise it is EINVAL, as
     * iommu_copy_struct_from_full_user_array() refuses an empty array.
     */
    bool viommu_inv_probe;
    /*
     * vIOMMU commands checked before any is issued (may be NULL), and
     * how many are issued at a time (0: each as it is checked). See
     * invalidate_array() in emu-hwpt.c.
     */
    int (*viommu_inv_check)(EmuViommu *viommu, const void *entry);
    unsigned viommu_inv_batch;
    /* vIOMMU type-specific data (data_uptr/data_len), may be NULL */
    int (*viommu_data)(EmuViommu *viommu, struct iommu_viommu_alloc *cmd);
    /* vEVENTQ type this hardware reports (0: none) */
    uint32_t veventq_type;
    /* HW queue type a vIOMMU takes (0: none), and how many */
    uint32_t hw_queue_type;
    uint32_t hw_queue_max;
    /* Smallest page of its paging domains (0: 4 KiB) */
    uint64_t min_page;
    /* Apertures and reserved ranges (Range) beyond the IAS, may be NULL */
    void (*reserved)(const EmuIommu *iommu, GArray *out);
    /*
     * Stage 1 of a nested HWPT for a device request, as the hardware does
     * it: configuration caches, the IOTLB, else a walk. Fills w->out (the
     * IPA/GPA of iova) and w->prot, or returns the fault.
     */
    int (*s1_translate)(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid,
                        uint64_t iova, unsigned access, EmuWalk *w);
    /*
     * The device's @pasid no longer uses @old (detach or replace): what
     * the kernel's driver then invalidates (may be NULL).
     */
    void (*domain_unset)(EmuHwpt *old, EmuIdev *idev, uint32_t pasid);
    /*
     * The device's @pasid now uses the nested @hwpt: the attach or
     * replace is committed, nothing can fail it any more (may be NULL).
     */
    void (*nested_set)(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid);
    /*
     * PCIe PRI (PRS and PDS in VT-d's ECAP): a device with PRI has it
     * enabled, attaching a fault-capable HWPT needs it (ENODEV), and a
     * recoverable fault (EmuWalk.recoverable) becomes a page request.
     */
    bool pri;
    /* Report a stage-1 fault (vEVENTQ record...). */
    void (*report_fault)(EmuHwpt *hwpt, EmuIdev *idev, const EmuWalk *w);
};

struct EmuIommu {
    EmuHost *host;
    EmuHwConfig cfg;
    const EmuHwOps *ops;
    unsigned index;
    EmuIotlb *iotlb;
    void *hw_state;             /* hardware model's per-unit state */
    uint32_t next_tag;
};

struct EmuDevice {
    EmuHost *host;
    EmuIommu *iommu;
    uint32_t rid;
    char *name;
    bool no_dirty;              /* cannot take dirty-tracking domains */
    uint8_t pasid_bits;         /* the device's PASID width */
    void *hw_priv;              /* hardware model's per-device state */
    EmuIdev *idev;              /* bound iommufd device, if any */
    EmuVfio *vfio;              /* open cdev, if any */
    /* PCIe PRI (emu-pri.c) */
    bool pri;                   /* PRI + ATS capability */
    bool pri_stopped;           /* got a Response Failure */
    uint32_t pri_capacity;      /* Outstanding Page Request Capacity */
    unsigned pri_outstanding;   /* requests sent, not answered */
    unsigned iopf_refcount;     /* intel device_domain_info's */
    EmuPrg *prgs;               /* [EMU_PRI_GROUPS] while pri */
    EmuPrgNotify *prg_notify;
    void *prg_opaque;
};

struct EmuVfio {
    EmuDevice *dev;
    EmuCtx *ctx;                /* context given to BIND */
    EmuIdev *idev;
};

struct EmuHost {
    GPtrArray *iommus;
    GPtrArray *devices;
    GList *ctxs;
    unsigned long ops_count;    /* host operations since last fail_nth */
    unsigned long fail_at;      /* 0: off */
    int fail_err;
    const char *fail_site;      /* where the last injected failure hit */
    EmuStats stats;
    GPtrArray *dmabufs;         /* EmuDmabuf */
    uint64_t next_pages_id;
    /*
     * Held by every entry point (ioctls, reads, device DMA): QEMU does
     * DMA from iothreads while the main thread issues ioctls. Recursive:
     * a DMA callback may re-enter through another entry point.
     */
    GRecMutex lock;
};

/* The host lock, for entry points; g_auto cleanup releases it. */
typedef GRecMutexLocker EmuHostLocker;
#define EMU_HOST_LOCK(host) \
    g_autoptr(GRecMutexLocker) G_GNUC_UNUSED G_PASTE(emu_locker_, __LINE__) = \
        g_rec_mutex_locker_new(&(host)->lock)

struct EmuCtx {
    EmuHost *host;
    GPtrArray *objs;            /* index = id - 1; NULL = free */
    GHashTable *fds;            /* fd -> EmuEventq or EmuAccess */
    bool account_mm;            /* IOMMU_OPTION_RLIMIT_MODE */
    uint32_t vfio_ioas_id;      /* IOMMU_VFIO_IOAS: the compat IOAS */
    bool vfio_type1v1;          /* VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU) */
    GList *mmaps;               /* EmuMmap by offset (emu-mmap.c) */
};

/* emu-object.c */
/* Reserve an id for a new object of @size into *(T **)@out; -errno */
int emu_obj_reserve(EmuCtx *ctx, EmuObjType type, size_t size, void *out);
void emu_obj_finalize(EmuObj *obj);
void emu_obj_abort(EmuObj *obj);
EmuObj *emu_obj_get(EmuCtx *ctx, uint32_t id, EmuObjType type);
int emu_obj_destroy(EmuCtx *ctx, uint32_t id);
void emu_obj_destroy_all(EmuCtx *ctx);
const char *emu_obj_type_name(EmuObjType type);
/* emu_ctx_describe(): each file's own object kinds */
void emu_access_describe(EmuAccess *access, GString *s);
void emu_hw_queue_describe(EmuHwQueue *q, GString *s);
void emu_stdev_describe(EmuStdev *stdev, GString *s);
unsigned emu_obj_leak_report(EmuCtx *ctx);
static inline void emu_obj_get_ref(EmuObj *obj)
{
    obj->users++;
}

static inline void emu_obj_put_ref(EmuObj *obj)
{
    g_assert(obj->users);
    obj->users--;
}
#define emu_obj_ref(o)      emu_obj_get_ref(&(o)->obj)
#define emu_obj_unref(o)    emu_obj_put_ref(&(o)->obj)

/*
 * emu-main.c: failure injection. Called at each injection point: where
 * the model allocates, or does a step that can fail, on a command's path
 * (or where the kernel function it mirrors does); fails the Nth one armed
 * by emu_host_fail_nth(). The caller unwinds to the state before the
 * command. @site names the point for emu_host_fail_site().
 */
int emu_host_op_at(EmuHost *host, const char *site);
#define emu_host_op(host) \
    emu_host_op_at((host), __FILE__ ":" G_STRINGIFY(__LINE__))
/* Safe user copies (EFAULT instead of a crash on a bad pointer) */
int emu_copy_from_user(void *dst, uint64_t uptr, size_t len);
int emu_copy_to_user(uint64_t uptr, const void *src, size_t len);
/* Page frames of @n user pages from @va (/proc/self/pagemap) */
int emu_user_pfns(uint64_t va, uint64_t n, uint64_t *pfns);
/* Do user addresses @a and @b lie in the same physical page? */
int emu_user_same_page(uint64_t a, uint64_t b, bool *same);
/* clear_user(): zero user memory without allocating its size */
int emu_clear_user(uint64_t uptr, uint64_t len);
/* copy_struct_from_user(): E2BIG if a longer user struct has non-zero tail */
int emu_copy_struct(void *dst, size_t ksize, uint64_t uptr, size_t usize);

/* emu-ioas.c */
int emu_ioas_alloc(EmuCtx *ctx, struct iommu_ioas_alloc *cmd);
int emu_ioas_map(EmuCtx *ctx, struct iommu_ioas_map *cmd);
int emu_ioas_map_file(EmuCtx *ctx, struct iommu_ioas_map_file *cmd);
int emu_ioas_copy(EmuCtx *ctx, struct iommu_ioas_copy *cmd);
int emu_ioas_unmap(EmuCtx *ctx, struct iommu_ioas_unmap *cmd);
int emu_ioas_iova_ranges(EmuCtx *ctx, struct iommu_ioas_iova_ranges *cmd);
int emu_ioas_allow_iovas(EmuCtx *ctx, struct iommu_ioas_allow_iovas *cmd);
int emu_ioas_option(EmuCtx *ctx, struct iommu_option *cmd);
int emu_ioas_change_process(EmuCtx *ctx,
                            struct iommu_ioas_change_process *cmd);
void emu_ioas_destroy(EmuIoas *ioas);
/* IOMMU_OPTION_HUGE_PAGES=0: iopt_disable_large_pages */
int emu_ioas_disable_large_pages(EmuIoas *ioas);
/* Split the area holding @iova after it (iopt_cut_iova) */
int emu_ioas_cut(EmuIoas *ioas, uint64_t iova);
int emu_ioas_check_attach(EmuIoas *ioas, const EmuIommu *iommu);
bool emu_ioas_has_readonly(EmuIoas *ioas);
int emu_ioas_check_domain(EmuIoas *ioas, const EmuIommu *iommu);
/* Map every area into a new domain: one injection point per area */
int emu_ioas_fill_domain(EmuIoas *ioas);
/* Reserve what lies outside a new domain's aperture (EADDRINUSE) */
int emu_ioas_reserve_aperture(EmuIoas *ioas, const EmuIommu *iommu);
/* Reserve the regions the driver reserves for its devices (EADDRINUSE) */
int emu_ioas_reserve_dev_regions(EmuIoas *ioas, const EmuIommu *iommu);
/* Usable IOVA ranges (struct iommu_iova_range); caller frees */
GArray *emu_ioas_usable(EmuIoas *ioas);
uint64_t emu_ioas_iova_alignment(EmuIoas *ioas);
bool emu_ioas_range_mapped(EmuIoas *ioas, uint64_t first, uint64_t last);
/*
 * Is [iova, iova+length) mapped without holes? If so and @take, pin its
 * areas (UNMAP then fails with EBUSY) until emu_ioas_unpin().
 */
bool emu_ioas_pin(EmuIoas *ioas, uint64_t iova, uint64_t length, bool take);
void emu_ioas_unpin(EmuIoas *ioas, uint64_t iova, uint64_t length);
/*
 * Pins of the user page at @addr by @ioas's areas: one per page set
 * (iopt_pages) holding it that is pinned, by a domain of its IOAS or an
 * access pin; @seen collects the sets already counted, so copies of one
 * mapping count once.
 */
unsigned emu_ioas_user_refs(EmuIoas *ioas, uint64_t addr, GHashTable *seen);
/* Reserve [first, last] (EADDRINUSE if mapped) */
int emu_ioas_add_reserved(EmuIoas *ioas, uint64_t first, uint64_t last);
EmuArea *emu_ioas_find(EmuIoas *ioas, uint64_t iova);
/* Resolve [iova, iova+len) for @access; returns the host address or NULL */
uint8_t *emu_ioas_resolve(EmuIoas *ioas, uint64_t iova, size_t len,
                          unsigned access);

/* emu-hwpt.c */
int emu_hwpt_alloc(EmuCtx *ctx, struct iommu_hwpt_alloc *cmd);
int emu_hwpt_invalidate(EmuCtx *ctx, struct iommu_hwpt_invalidate *cmd);
int emu_hwpt_set_dirty(EmuCtx *ctx,
                       struct iommu_hwpt_set_dirty_tracking *cmd);
int emu_hwpt_get_dirty(EmuCtx *ctx, struct iommu_hwpt_get_dirty_bitmap *cmd);
void emu_hwpt_destroy(EmuHwpt *hwpt);
int emu_hwpt_paging_new(EmuCtx *ctx, EmuIoas *ioas, EmuIommu *iommu,
                        uint32_t flags, EmuHwpt **out);
void emu_hwpt_mark_dirty(EmuHwpt *hwpt, uint64_t addr, uint64_t len);
/* Mark [first, last] as one dirty leaf (a large page written to) */
void emu_hwpt_mark_dirty_leaf(EmuHwpt *hwpt, uint64_t first, uint64_t last);
int emu_hw_info(EmuCtx *ctx, struct iommu_hw_info *cmd);

/* emu-main.c */
void emu_host_remove_device(EmuHost *host, EmuDevice *dev);

/*
 * emu-dirty.c: dirty bytes as sorted runs. Marking, reporting and cleaning
 * cost what is dirty in the range, not its length.
 */
typedef int (*EmuDirtyFn)(uint64_t first, uint64_t last, void *opaque);
EmuDirty *emu_dirty_new(void);
void emu_dirty_free(EmuDirty *d);
void emu_dirty_clear(EmuDirty *d);
void emu_dirty_mark(EmuDirty *d, uint64_t first, uint64_t last);
/* Call @fn on each dirty piece of [first, last], in order; stops on error */
int emu_dirty_report(EmuDirty *d, uint64_t first, uint64_t last,
                     EmuDirtyFn fn, void *opaque);
/* Forget what is dirty in [first, last] */
void emu_dirty_clean(EmuDirty *d, uint64_t first, uint64_t last);
unsigned emu_dirty_nr_runs(const EmuDirty *d);

/* The dma-buf whose memfd is inode @ino of device @dev, or NULL */
const EmuDmabuf *emu_dmabuf_find(EmuHost *host, uint64_t dev, uint64_t ino);

/* emu-mmap.c: regions of the iommufd file a caller may mmap() */
int emu_mmap_alloc(EmuCtx *ctx, EmuObj *owner, uint64_t length,
                   uint64_t *offset, void **base);
void emu_mmap_destroy_owner(EmuCtx *ctx, EmuObj *owner);
void emu_mmap_release_all(EmuCtx *ctx);

/* emu-device.c */
/* Bind @dev to @ctx: the iommufd device object, held by the binding. */
int emu_idev_bind(EmuCtx *ctx, EmuDevice *dev, EmuIdev **out);
/* Unbind: destroys the device object (and its vDEVICE). */
void emu_idev_unbind(EmuIdev *idev);
int emu_idev_attach(EmuIdev *idev, uint32_t pasid, uint32_t *pt_id);
int emu_idev_detach(EmuIdev *idev, uint32_t pasid);
void emu_idev_destroy(EmuIdev *idev);
/* The HWPT the device's RID (EMU_NO_PASID) or @pasid is attached to. */
EmuHwpt *emu_idev_domain(EmuIdev *idev, uint32_t pasid);
EmuIdev *emu_idev_get(EmuCtx *ctx, uint32_t dev_id);

/* emu-viommu.c */
int emu_viommu_alloc(EmuCtx *ctx, struct iommu_viommu_alloc *cmd);
int emu_vdevice_alloc(EmuCtx *ctx, struct iommu_vdevice_alloc *cmd);
void emu_viommu_destroy(EmuViommu *viommu);
void emu_vdevice_destroy(EmuVdevice *vdev);
/* The device a guest's virtual ID names on @viommu, or NULL. */
EmuIdev *emu_viommu_find_dev(EmuViommu *viommu, uint64_t virt_id);

/* emu-eventq.c */
int emu_veventq_alloc(EmuCtx *ctx, struct iommu_veventq_alloc *cmd);
int emu_fault_alloc(EmuCtx *ctx, struct iommu_fault_alloc *cmd);
void emu_eventq_destroy(EmuEventq *q);
/* Queue a vEVENT (payload) on the vIOMMU's queue of @type, if any. */
void emu_veventq_report(EmuViommu *viommu, uint32_t type,
                        const void *payload, size_t len);
/*
 * The same for a command (the selftest's TRIGGER_VEVENT): the record's
 * allocation is an injection point; -ENOMEM when it failed, the event
 * then lost (a LOST_EVENTS header queued in its place); -EOPNOTSUPP when
 * the vIOMMU has no queue of @type.
 */
int emu_veventq_report_task(EmuViommu *viommu, uint32_t type,
                            const void *payload, size_t len);
/*
 * Queue a page request @rec (flags, pasid, grpid, perm, addr) on @q for
 * @idev: only what iommu_report_device_fault() reports, a PRI page
 * request or a stall; an unrecoverable DMA fault never comes here.
 */
void emu_fault_queue(EmuEventq *q, EmuIdev *idev,
                     const struct iommu_hwpt_pgfault *rec);
/*
 * A device's page request for @hwpt's fault queue, routed to the attach
 * handle (@idev, @attach_pasid). The group's allocation is an injection
 * point (iopf_group_alloc()): on failure nothing is queued and -ENOMEM
 * returned, the caller answers FAILURE as iommu_report_device_fault()
 * does.
 */
int emu_fault_report(EmuEventq *q, EmuIdev *idev, uint32_t attach_pasid,
                     EmuDevice *dev, uint32_t req_pasid,
                     const struct iommu_hwpt_pgfault *rec);
/*
 * iommufd_auto_response_faults(): the attach handle (@idev, @pasid) of a
 * HWPT with fault queue @q went away: its groups, read or not, are
 * answered INVALID.
 */
void emu_fault_auto_response(EmuEventq *q, EmuIdev *idev, uint32_t pasid);
/* Close the fds of @ctx's queues (the context is closing). */
void emu_eventq_close_fds(EmuCtx *ctx);

/* emu-pri.c */
/*
 * @dev's DMA met a recoverable fault on @hwpt (attached to @pasid's or
 * the RID's handle): the device sends a page request if it can. Returns
 * -EAGAIN (sent, or one for the page is outstanding), -EBUSY (allocation
 * used up) with @f updated, or 0 (no PRI: the fault stands).
 */
int emu_pri_request(EmuDevice *dev, EmuHwpt *hwpt, uint32_t pasid,
                    uint64_t iova, unsigned access, EmuFaultInfo *f);
/* The PRG response @code for @grpid reaches the device. */
void emu_pri_respond(EmuDevice *dev, uint32_t pasid, uint32_t grpid,
                     int code);
/* attach: does @hwpt need the device's IOPF (and can it have it)? */
int emu_pri_iopf_check(EmuDevice *dev, EmuHwpt *hwpt);
void emu_pri_free(EmuDevice *dev);

/* emu-iotlb.c */
EmuIotlb *emu_iotlb_new(unsigned capacity);
void emu_iotlb_free(EmuIotlb *tlb);
/*
 * The entry of @kind for (@tag, @asid) whose block holds @addr, or NULL;
 * @shift (may be NULL) gets its size. A hit makes it most recently used.
 */
const EmuTlbData *emu_iotlb_lookup(EmuIotlb *tlb, EmuTlbKind kind,
                                   uint32_t tag, uint32_t asid,
                                   uint64_t addr, unsigned *shift);
/* Cache the block of 2^@shift holding @addr; may evict the LRU entry. */
void emu_iotlb_insert(EmuIotlb *tlb, EmuTlbKind kind, uint32_t tag,
                      uint32_t asid, uint64_t addr, unsigned shift,
                      const EmuTlbData *data);
/*
 * Drop the entries of @kinds (EMU_TLB_* bits) tagged @tag (and @asid
 * unless EMU_ANY) whose block overlaps [first, last]. Returns how many.
 */
#define EMU_ANY UINT32_MAX
unsigned emu_iotlb_flush(EmuIotlb *tlb, unsigned kinds, uint32_t tag,
                         uint32_t asid, uint64_t first, uint64_t last);
/* The same, only blocks of 2^@shift (a level hint); 0: any size. */
unsigned emu_iotlb_flush_size(EmuIotlb *tlb, unsigned kinds, uint32_t tag,
                              uint32_t asid, uint64_t first, uint64_t last,
                              unsigned shift);
void emu_iotlb_stats(EmuIotlb *tlb, EmuIotlbStats *st);

/* emu-translate.c */
/* Translate through a HWPT's parent (S2) for a stage-1 table access */
uint8_t *emu_s2_resolve(EmuHwpt *nested, uint64_t ipa, size_t len,
                        unsigned access);

/* emu-selftest.c: IOMMU_TEST_CMD and the mock devices it creates */
int emu_test_cmd(EmuCtx *ctx, void *cmd);
void emu_stdev_destroy(EmuStdev *stdev);

/* emu-access.c: in-kernel accesses to an IOAS (selftest ops) */
void emu_access_destroy(EmuAccess *access);
/* close() of the access's file descriptor */
void emu_access_close(EmuAccess *access);
int emu_access_create(EmuCtx *ctx, uint32_t ioas_id, uint32_t flags,
                      uint32_t *out_fd);
EmuAccess *emu_access_get(EmuCtx *ctx, int fd);
int emu_access_replace_ioas(EmuAccess *access, uint32_t ioas_id);
int emu_access_pin(EmuAccess *access, uint64_t iova, uint64_t length,
                   uint64_t uptr, uint32_t flags, uint32_t *out_id);
int emu_access_unpin(EmuAccess *access, uint32_t id);
int emu_access_rw(EmuAccess *access, uint64_t iova, uint64_t length,
                  uint64_t uptr, uint32_t flags);
/* An IOAS unmaps [iova, iova+len): accesses drop their pins there. */
void emu_access_notify_unmap(EmuIoas *ioas, uint64_t iova, uint64_t len);
/* Does an access hold a pin in [first, last] of @ioas? */
bool emu_access_pins_range(EmuIoas *ioas, uint64_t first, uint64_t last);

/* emu-hw-queue.c */
int emu_hw_queue_alloc(EmuCtx *ctx, struct iommu_hw_queue_alloc *cmd);
void emu_hw_queue_destroy(EmuHwQueue *q);

/* emu-vfio-compat.c: /dev/iommu as a VFIO type1 container */
int emu_vfio_ioas(EmuCtx *ctx, struct iommu_vfio_ioas *cmd);
int emu_vfio_compat_ioctl(EmuCtx *ctx, unsigned long cmd, void *arg);

/* Hardware models */
extern const EmuHwOps emu_hw_paging_ops;
extern const EmuHwOps emu_hw_vtd_ops;
extern const EmuHwOps emu_hw_smmuv3_ops;
extern const EmuHwOps emu_hw_selftest_ops;

#endif
