/*
 * VNest intel-iommu nesting: private definitions
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_VTD_NEST_INTERNAL_H
#define VNEST_VTD_NEST_INTERNAL_H

#include <linux/iommufd.h>
#include "qemu/queue.h"
#include "hw/i386/intel_iommu.h"
#include "hw/i386/intel_iommu_internal.h"
#include "hw/pci/pci_bus.h"
#include "vnest/host-dev.h"
#include "vnest/iommufd-nest.h"
#include "vnest/vtd-nest.h"
#include "inv-batch.h"

/* PASID-entry translation type (as hw/i386/intel_iommu.c reads it) */
#define VTD_PE_GET_TYPE(pe) ((pe)->val[0] & VTD_SM_PASID_ENTRY_PGTT)

/* A host fault queue (IOMMU_FAULT_QUEUE_ALLOC): page requests come here. */
typedef struct VtdNestFaultq {
    VNestVtd *nest;
    IOMMUFDBackend *be;
    uint32_t id;
    int fd;
    unsigned users;                 /* devices whose HWPTs report here */
    struct iommu_hwpt_pgfault *buf; /* read buffer */
    QLIST_ENTRY(VtdNestFaultq) next;
} VtdNestFaultq;

/* A nested HWPT: one guest first-stage configuration over one parent. */
typedef struct VtdNestHwpt {
    IOMMUFDBackend *be;
    VtdNestFaultq *fq;              /* its page requests go there, or NULL */
    uint32_t parent_id;
    uint32_t id;
    uint32_t key;                   /* its name in the invalidation batch */
    uint16_t did;                   /* the guest domain it belongs to */
    struct iommu_hwpt_vtd_s1 s1;
    unsigned users;                 /* (device, PASID) bindings */
    QLIST_ENTRY(VtdNestHwpt) next;
} VtdNestHwpt;

/* What the host does with one (device, PASID). */
typedef enum VtdBindKind {
    VTD_BIND_BLOCKED,               /* detached: DMA blocked */
    VTD_BIND_PARENT,                /* stage 2 only: GPA (PT, TE off) */
    VTD_BIND_NESTED,                /* the guest's first stage */
} VtdBindKind;

typedef struct VtdBind {
    VtdBindKind kind;
    VtdNestHwpt *hwpt;              /* VTD_BIND_NESTED */
    uint32_t gpasid;                /* the guest PASID entry it follows */
} VtdBind;

/* One assigned device behind the vIOMMU. */
typedef struct VtdNestDev {
    VNestVtd *nest;
    HostIOMMUDevice *hiod;
    VNestHostDevInfo info;
    PCIBus *bus;                    /* where it is plugged */
    int devfn;
    PCIBus *alias_bus;              /* what the VT-d sees (bridges alias) */
    int alias_devfn;
    bool no_pasid;                  /* on a conventional bus: RID only */
    uint32_t rid2pasid;             /* the context's RID_PASID, last read */
    VtdNestFaultq *fq;              /* PRI device with x-prq=on, or NULL */
    GHashTable *binds;              /* host PASID key -> VtdBind */
    QLIST_ENTRY(VtdNestDev) next;
} VtdNestDev;

/* Counters, for tests (QOM properties) and the benchmark. */
typedef struct VtdNestStats {
    uint64_t hwpt_allocs;
    uint64_t attaches;              /* attach or replace */
    uint64_t detaches;
    uint64_t inv_calls;
    uint64_t inv_entries;
    uint64_t guest_faults;          /* bad entries reported to the guest */
    uint64_t host_errors;
    uint64_t prq_requests;          /* page request descriptors written */
    uint64_t prq_overflows;         /* requests refused: queue full (PRO) */
    uint64_t prq_refused;           /* ... PRE clear, no queue, unknown */
    uint64_t prq_auto_responses;    /* responses QEMU sent for the guest */
    uint64_t prq_responses;         /* guest responses sent to the host */
    uint64_t prq_stray;             /* guest responses matching no request */
    uint64_t prq_events;            /* page request event interrupts sent */
    uint64_t prq_groups;            /* groups shown, not answered (gauge) */
} VtdNestStats;

/* A page request group the guest was shown and must answer. */
typedef struct VtdPrqGroup {
    VtdNestDev *dev;
    uint32_t hpasid;                /* host PASID, VNEST_NO_PASID: RID */
    uint16_t prgi;
    uint32_t cookie;
    QLIST_ENTRY(VtdPrqGroup) next;
} VtdPrqGroup;

struct VNestVtd {
    IntelIOMMUState *s;
    /* properties */
    uint8_t pasid_bits;             /* 0: QEMU's x-pasid-mode width */
    bool inv_per_desc;              /* upstream-like: a call per descriptor */
    bool host_caps;                 /* x-fsts-host-caps: follow the host */
    bool prq;                       /* x-prq: page requests (ECAP.PRS) */
    bool nested;                    /* x-nested: nesting host (0014) */
    bool derived;                   /* ... and the first device was seen */
    bool derived_fs1gp;
    uint8_t derived_pasid_bits;
    bool realized;

    QLIST_HEAD(, VtdNestDev) devs;
    QLIST_HEAD(, VtdNestHwpt) hwpts;
    VnestInvBatch *batch;
    uint32_t next_key;
    uint16_t batch_head;            /* queue index of batch index 0 */
    uint64_t batch_seq;             /* descriptors since batch_head */
    VtdNestStats stats;
    Error *migration_blocker;
    QLIST_HEAD(, VtdNestFaultq) faultqs;
    QLIST_HEAD(, VtdPrqGroup) groups;   /* shown to the guest, unanswered */
};

/* Host key of a PASID: the RID is VNEST_NO_PASID. */
static inline gpointer vtd_nest_key(uint32_t pasid)
{
    return GUINT_TO_POINTER(pasid == VNEST_NO_PASID ? 0 : pasid + 1);
}

static inline uint32_t vtd_nest_key_pasid(gpointer key)
{
    guint k = GPOINTER_TO_UINT(key);

    return k ? k - 1 : VNEST_NO_PASID;
}

/*
 * The requester ID the VT-d sees for @d: its alias's. Read when needed,
 * not at plug: the guest numbers the buses behind bridges after that.
 */
static inline uint16_t vtd_nest_sid(const VtdNestDev *d)
{
    return PCI_BUILD_BDF(pci_bus_num(d->alias_bus), d->alias_devfn);
}

VNestVtd *vtd_nest_state(IntelIOMMUState *s);

/* vtd-nest-bind.c */
void vtd_nest_sync_dev(VtdNestDev *d, bool scan);
void vtd_nest_sync_pasid(VNestVtd *n, uint32_t pasid);
void vtd_nest_sync_did(VNestVtd *n, uint16_t did);
void vtd_nest_dev_release(VtdNestDev *d);
bool vtd_nest_pc_desc(VNestVtd *n, const VTDInvDesc *desc);

/* vtd-nest-prq.c */
void vtd_nest_prq_reset(VNestVtd *n);
void vtd_nest_prq_plug(VtdNestDev *d);
void vtd_nest_prq_unplug(VtdNestDev *d);
void vtd_nest_prq_release(VtdNestDev *d);
void vtd_nest_prq_forget(VtdNestDev *d, uint32_t hpasid);

/* vtd-nest-inv.c */
void vtd_nest_inv_init(VNestVtd *n);
void vtd_nest_inv_fini(VNestVtd *n);
bool vtd_nest_inv_flush(VNestVtd *n, uint16_t *fail_head);

#endif
