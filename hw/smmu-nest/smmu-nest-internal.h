/*
 * VNest arm-smmuv3 nesting: the state the nest module's files share
 *
 * smmu-nest.c (plug, STEs), smmu-nest-cmd.c (commands batched up to
 * CMD_SYNC), smmu-nest-caps.c (the options, the guest's ID registers and
 * the host's), smmu-nest-event.c (host events into the guest's EVTQ),
 * smmu-nest-msi.c (interrupt messages).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_SMMU_NEST_INTERNAL_H
#define HW_SMMU_NEST_INTERNAL_H

#include "qapi/qapi-types-common.h"
#include "hw/arm/smmuv3.h"
#include "hw/arm/smmuv3-internal.h"
#include "hw/pci/pci_device.h"
#include "vnest/host-dev.h"
#include "vnest/iommufd-nest.h"
#include "vnest/smmu-nest.h"
#include "inv-batch.h"

/* STE fields (SMMUv3 architecture, 5.2), as 64-bit words 0 and 1. */
#define STE0_V              (1ULL << 0)
#define STE0_CFG_SHIFT      1
#define STE0_CFG_MASK       (7ULL << STE0_CFG_SHIFT)
#define STE0_S1FMT_SHIFT    4
#define STE0_S1FMT_MASK     (3ULL << STE0_S1FMT_SHIFT)
#define STE0_CTXPTR_MASK    MAKE_64BIT_MASK(6, 46)
#define STE0_S1CDMAX_SHIFT  59
#define STE0_S1CDMAX_MASK   (0x1fULL << STE0_S1CDMAX_SHIFT)
#define STE1_S1DSS_MASK     (3ULL << 0)
#define STE1_S1CIR_MASK     (3ULL << 2)
#define STE1_S1COR_MASK     (3ULL << 4)
#define STE1_S1CSH_MASK     (3ULL << 6)
#define STE1_S1STALLD       (1ULL << 27)
#define STE1_EATS_SHIFT     28
#define STE1_EATS_MASK      (3ULL << STE1_EATS_SHIFT)

/*
 * What arm_smmu_validate_vste() (Linux 7.3) takes from a vSTE:
 * STRTAB_STE_0_NESTING_ALLOWED and STRTAB_STE_1_NESTING_ALLOWED.
 */
#define STE0_NESTED         (STE0_V | STE0_CFG_MASK | STE0_S1FMT_MASK | \
                             STE0_CTXPTR_MASK | STE0_S1CDMAX_MASK)
#define STE1_NESTED         (STE1_S1DSS_MASK | STE1_S1CIR_MASK | \
                             STE1_S1COR_MASK | STE1_S1CSH_MASK | \
                             STE1_S1STALLD | STE1_EATS_MASK)

#define VSTE_CFG_ABORT       0
#define VSTE_CFG_BYPASS      4
#define VSTE_CFG_S1          5

#define VSTE(cfg)           (STE0_V | ((uint64_t)(cfg) << STE0_CFG_SHIFT))

typedef struct SmmuNestStats {
    uint64_t hwpt_allocs;
    uint64_t attaches;
    uint64_t guest_events;
    uint64_t host_errors;
    uint64_t vdevices;
    uint64_t viommus;
    uint64_t inv_calls;
    uint64_t inv_entries;
} SmmuNestStats;

/* The accel=on options: what the guest's ID registers offer */
typedef struct SmmuNestCaps {
    OnOffAuto ats;              /* IDR0.ATS */
    OnOffAuto ril;              /* IDR3.RIL */
    int ssidsize;               /* IDR1.SSIDSIZE, -1: auto; CD2L when > 0 */
    int oas;                    /* IDR5.OAS in bits, -1: auto */
} SmmuNestCaps;

/* smmu-nest-event.c: the x-nest-* counters of the event path */
typedef struct SmmuNestEventStats {
    uint64_t host_events;       /* event records read from the vEVENTQ */
    uint64_t events;            /* ... written to the guest's EVTQ */
    uint64_t events_lost;       /* lost on the host (LOST_EVENTS, gaps) */
    uint64_t events_overflow;   /* lost to a full guest EVTQ */
    uint64_t events_discarded;  /* dropped: the guest's EVTQ is off */
    uint64_t events_bad;        /* records refused (length, type, SID) */
} SmmuNestEventStats;

/* The vIOMMU's vEVENTQ (IOMMU_VEVENTQ_TYPE_ARM_SMMUV3) */
typedef struct SmmuNestEventq {
    uint32_t id;                /* 0: none */
    int fd;                     /* valid while id != 0 */
    uint32_t depth;             /* x-nest-veventq-depth */
    uint32_t next_seq;          /* the sequence number the host owes next */
    bool reading;               /* fd handler installed (VM running) */
    uint8_t *buf;
    VMChangeStateEntry *vm_state;
    SmmuNestEventStats stats;
} SmmuNestEventq;

typedef struct SmmuNestDev {
    VNestSmmu *nest;
    HostIOMMUDevice *hiod;
    VNestHostDevInfo info;
    PCIDevice *pdev;
    MSITriggerFunc *msi_trigger;    /* PCI's, while ours is installed */
    PCIBus *bus;
    int devfn;
    uint32_t sid;               /* the guest's StreamID: the vDEVICE's */
    uint32_t vdev_id;
    bool vdev_refused;          /* the host refused a vDEVICE for @sid */
    bool vdev_reported;         /* ... and that was reported */
    uint32_t hwpt_id;           /* nested HWPT attached, 0: the parent */
    uint64_t vste[2];           /* ... carrying these words */
    bool bad;                   /* the guest's STE was reported bad ... */
    uint64_t bad_ste[2];        /* ... with these words */
    QLIST_ENTRY(SmmuNestDev) next;
} SmmuNestDev;

struct VNestSmmu {
    SMMUv3State *s;
    bool accel;
    bool inv_per_cmd;           /* x-inv-per-cmd: one host call a command */
    bool s2fwb;                 /* x-s2fwb: IDR3.FWB (smmu-s2fwb.c) */
    bool realized;
    IOMMUFDBackend *be;
    uint32_t viommu_id;         /* 0: none yet */
    uint32_t viommu_parent;
    QLIST_HEAD(, SmmuNestDev) devs;
    SmmuNestStats stats;
    Error *migration_blocker;
    VnestInvBatch *batch;       /* commands for the vIOMMU, to CMD_SYNC */
    uint32_t batch_cons;        /* raw CMDQ_CONS of its first command */
    bool repeat_inv;            /* host erratum: TLBI/CFGI sent twice */
    SmmuNestCaps caps;
    SmmuNestEventq evq;         /* host events for the guest's EVTQ */
    GArray *events;             /* SMMUEventInfo raised, not yet recorded */
};

/*
 * smmu-s2fwb.c: x-s2fwb (IDR3.FWB, for a guest that nests on this SMMU):
 * its checks at realize and its ID register bit at reset.
 */
bool smmu_s2fwb_realize(VNestSmmu *n, Error **errp);
void smmu_s2fwb_init_regs(VNestSmmu *n);

/* The nested device at @bus/@devfn behind @bs (accel=on), or NULL. */
SmmuNestDev *smmu_nest_find_dev(SMMUState *bs, PCIBus *bus, int devfn);

/*
 * smmu-nest.c: the vDEVICEs follow the bus numbers the guest gives the
 * buses below root ports (their virtual IDs are the guest's StreamIDs).
 */
void smmu_nest_follow_sids(VNestSmmu *n);

/* smmu-nest-msi.c: interrupt messages through the guest's stage 1 */
void smmu_nest_msi_claim(SmmuNestDev *d);
void smmu_nest_msi_release(SmmuNestDev *d);

/* smmu-nest.c: @s's nest state, created with its defaults on first use */
VNestSmmu *smmu_nest_state(SMMUv3State *s);

/* smmu-nest-cmd.c: the batch's sender, set up at realize */
int smmu_nest_inv_send(void *opaque, uint32_t id, uint32_t data_type,
                       uint32_t entry_len, const void *entries,
                       uint32_t num, uint32_t *done);

/* smmu-nest-caps.c */
void smmu_nest_caps_init(SmmuNestCaps *c);
void smmu_nest_caps_class_init(ObjectClass *klass);
/* The options' values: accel=off takes only the defaults. */
bool smmu_nest_caps_realize(VNestSmmu *n, Error **errp);
/* IOMMU_GET_HW_INFO @hw of a device to plug: can the host back them? */
bool smmu_nest_caps_check(VNestSmmu *n, const VNestHwInfo *hw,
                          const char *name, Error **errp);

/*
 * smmu-nest-event.c: the vEVENTQ, allocated right after the vIOMMU and
 * freed right before it; its properties and counters at class init.
 */
void smmu_nest_event_class_init(ObjectClass *klass);
void smmu_nest_event_alloc(VNestSmmu *n);
void smmu_nest_event_free(VNestSmmu *n);

#endif
