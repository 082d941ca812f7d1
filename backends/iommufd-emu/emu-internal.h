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
    EmuEventq *veventq;
#define EMU_HW_QUEUE_MAX 8
    EmuHwQueue *hw_queues[EMU_HW_QUEUE_MAX];
};

struct EmuVdevice {
    EmuObj obj;
    EmuViommu *viommu;
    EmuIdev *idev;
    uint64_t virt_id;
};

/* vEVENTQ or fault queue: records readable through a file descriptor. */
struct EmuEventq {
    EmuObj obj;
    int fd;                     /* eventfd: readable while records wait */
    bool is_fault;
    EmuViommu *viommu;          /* vEVENTQ */
    uint32_t type;
    uint32_t depth;
    uint32_t seq;
    bool lost;
    GQueue records;             /* GBytes */
    GHashTable *pending;        /* fault: cookie -> device (responses) */
    uint32_t next_cookie;
};

/* ---- Hardware ---- */

/*
 * A cached stage-1 translation (input page -> IPA), keyed the way the
 * hardware keys its IOTLB. Stage 2 is always resolved live from the
 * parent IOAS, which is what a flush on every S2 unmap amounts to; paging
 * HWPTs are resolved live for the same reason.
 */
typedef struct EmuTlbKey {
    uint32_t tag;               /* domain tag (DID / VMID) */
    uint32_t asid;              /* PASID (VT-d) or ASID (SMMUv3) */
    uint64_t page;              /* input address >> 12 */
} EmuTlbKey;

typedef struct EmuTlbEntry {
    EmuTlbKey key;
    uint64_t out;               /* output address of the page (IPA/GPA) */
    uint64_t size;              /* page size of the leaf */
    unsigned prot;
    uint32_t ftag;              /* what invalidations match: DID / VMID */
    uint32_t fasid;             /* ... and PASID / ASID */
    const EmuHwpt *hwpt;        /* nested HWPT the entry was walked for */
} EmuTlbEntry;

/* One translation through a stage-1 (nested) configuration. */
typedef struct EmuWalk {
    uint64_t out;               /* IPA/GPA of iova */
    uint64_t size;              /* leaf size */
    unsigned prot;
    uint32_t asid;              /* IOTLB tag for the request */
    EmuFaultInfo fault;
    uint64_t hw[4];             /* model-specific fault record */
} EmuWalk;

struct EmuHwOps {
    EmuHwKind kind;
    uint32_t hw_info_type;
    /* Fill the type-specific GET_HW_INFO payload; returns its length. */
    size_t (*hw_info)(EmuIommu *iommu, void *buf, size_t len);
    /* Nested HWPT: validate and keep the stage-1 config (data_type). */
    uint32_t nested_data_type;
    size_t nested_data_min;
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
    /* HWPT_INVALIDATE on a nested HWPT or a vIOMMU: one entry. */
    uint32_t inv_data_type;
    size_t inv_entry_min;
    bool inv_entry_exact;       /* entry_len must be the struct size */
    int (*invalidate)(EmuHwpt *hwpt, EmuViommu *viommu, void *entry);
    /* vIOMMU type this hardware offers (0: none) */
    uint32_t viommu_type;
    /* Nested HWPTs also on a plain nest parent (without a vIOMMU) */
    bool nest_on_parent;
    /* vIOMMU invalidation entry size, if not inv_entry_min */
    size_t viommu_inv_entry_min;
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
    /* Stage-1 walk of a nested HWPT for a device request. */
    int (*walk)(EmuHwpt *hwpt, EmuIdev *idev, uint32_t pasid,
                uint64_t iova, unsigned access, EmuWalk *w);
    /* Report a stage-1 fault (vEVENTQ record...). */
    void (*report_fault)(EmuHwpt *hwpt, EmuIdev *idev, const EmuWalk *w);
};

struct EmuIommu {
    EmuHost *host;
    EmuHwConfig cfg;
    const EmuHwOps *ops;
    unsigned index;
    GHashTable *iotlb;          /* EmuTlbKey -> EmuTlbEntry */
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
    EmuStats stats;
    GPtrArray *dmabufs;         /* EmuDmabuf */
    uint64_t next_pages_id;
};

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
void *emu_obj_reserve(EmuCtx *ctx, EmuObjType type, size_t size);
void emu_obj_finalize(EmuObj *obj);
void emu_obj_abort(EmuObj *obj);
EmuObj *emu_obj_get(EmuCtx *ctx, uint32_t id, EmuObjType type);
int emu_obj_destroy(EmuCtx *ctx, uint32_t id);
void emu_obj_destroy_all(EmuCtx *ctx);
const char *emu_obj_type_name(EmuObjType type);
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

/* emu-main.c: failure injection; every host operation calls this first */
int emu_host_op(EmuHost *host);
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
/* Queue @rec (flags, pasid, grpid, perm, addr) on @q for @idev. */
void emu_fault_queue(EmuEventq *q, EmuIdev *idev,
                     const struct iommu_hwpt_pgfault *rec);
/* Queue a page fault record on @q for @idev. */
void emu_fault_report(EmuEventq *q, EmuIdev *idev, uint32_t pasid,
                      uint64_t iova, unsigned access);

/* emu-translate.c */
void emu_iotlb_insert(EmuIommu *iommu, const EmuTlbEntry *e);
/*
 * Drop entries whose ftag is @tag (and fasid @asid unless EMU_ANY) with
 * an input page in [first, last]. Returns the number dropped.
 */
#define EMU_ANY UINT32_MAX
unsigned emu_iotlb_flush(EmuIommu *iommu, uint32_t tag, uint32_t asid,
                         uint64_t first, uint64_t last);
/* Drop every entry walked for @hwpt (it is being freed). */
void emu_iotlb_flush_hwpt(EmuIommu *iommu, const EmuHwpt *hwpt);
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
