/*
 * VNest arm-smmuv3 nesting: the state the nest module's files share
 *
 * smmu-nest.c (plug, STEs), smmu-nest-cmd.c (commands batched up to
 * CMD_SYNC).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_SMMU_NEST_INTERNAL_H
#define HW_SMMU_NEST_INTERNAL_H

#include "hw/arm/smmuv3.h"
#include "hw/arm/smmuv3-internal.h"
#include "hw/pci/pci_device.h"
#include "vnest/host-dev.h"
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
    bool realized;
    IOMMUFDBackend *be;
    uint32_t viommu_id;         /* 0: none yet */
    uint32_t viommu_parent;
    QLIST_HEAD(, SmmuNestDev) devs;
    SmmuNestStats stats;
    Error *migration_blocker;
    VnestInvBatch *batch;       /* commands for the vIOMMU, to CMD_SYNC */
    uint32_t batch_cons;        /* raw CMDQ_CONS of its first command */
    GArray *events;             /* SMMUEventInfo raised, not yet recorded */
};

/* The nested device at @bus/@devfn behind @bs (accel=on), or NULL. */
SmmuNestDev *smmu_nest_find_dev(SMMUState *bs, PCIBus *bus, int devfn);

/* smmu-nest-msi.c: interrupt messages through the guest's stage 1 */
void smmu_nest_msi_claim(SmmuNestDev *d);
void smmu_nest_msi_release(SmmuNestDev *d);

/* smmu-nest-cmd.c: the batch's sender, set up at realize */
int smmu_nest_inv_send(void *opaque, uint32_t id, uint32_t data_type,
                       uint32_t entry_len, const void *entries,
                       uint32_t num, uint32_t *done);

#endif
