/*
 * VNest simulated assignment: private definitions
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_SIM_ASSIGN_INTERNAL_H
#define VNEST_SIM_ASSIGN_INTERNAL_H

#include "exec/memory.h"
#include "qom/object.h"
#include "system/host_iommu_device.h"
#include "system/iommufd.h"
#include "vnest/sim-assign.h"
#include "iommufd-emu.h"

OBJECT_DECLARE_SIMPLE_TYPE(VNestSimAssign, VNEST_SIM_ASSIGN)

#define TYPE_VNEST_SIM_DMA_MR "vnest-sim-dma-iommu-memory-region"

/* A stretch of guest RAM: host address range and its guest address. */
typedef struct SimRamRange {
    uint8_t *hva;
    hwaddr gpa;
    uint64_t size;
} SimRamRange;

typedef struct SimIoas SimIoas;

/* One vIOMMU region whose map/unmap notifications we shadow. */
typedef struct SimShadow {
    IOMMUNotifier n;
    IOMMUMemoryRegion *iommu_mr;
    SimIoas *ioas;
    QLIST_ENTRY(SimShadow) next;
} SimShadow;

/* A paging HWPT of an IOAS, attached by the devices that could take it. */
typedef struct SimHwpt {
    uint32_t id;
    uint32_t flags;
    unsigned users;
    QLIST_ENTRY(SimHwpt) next;
} SimHwpt;

/*
 * An IOAS, shared as vfio-pci shares a container's: one per (iommufd,
 * address space it mirrors). A nest parent mirrors guest RAM, whatever
 * vIOMMU address space its device sits behind; a shadowed vIOMMU address
 * space is its device's (or its alias's) own.
 */
struct SimIoas {
    IOMMUFDBackend *iommufd;
    AddressSpace *as;
    bool skip_readonly;             /* an SPR17 nest parent: no RO maps */
    uint32_t id;
    unsigned users;
    MemoryListener listener;        /* fills it from @as */
    bool filling;                   /* the listener's first replay */
    int fill_error;                 /* ... its first failed map */
    hwaddr fill_iova;
    uint64_t fill_size;
    QLIST_HEAD(, SimShadow) shadows;
    QLIST_HEAD(, SimHwpt) hwpts;
    QLIST_ENTRY(SimIoas) next;
};

struct VNestSimAssign {
    Object parent_obj;

    /* properties */
    char *device_id;
    IOMMUFDBackend *iommufd;

    PCIDevice *pdev;
    AddressSpace *viommu_as;        /* what the device sits behind */
    EmuDevice *edev;
    EmuVfio *vfio;
    uint32_t dev_id;
    SimIoas *ioas;                  /* shared with its other devices */
    SimHwpt *hwpt;                  /* ditto */
    uint32_t ioas_id;               /* their ids, for the properties */
    uint32_t hwpt_id;
    uint32_t hwpt_flags;            /* what the vIOMMU in front asked for */
    HostIOMMUDevice *hiod;          /* handed to the vIOMMU */
    bool hiod_set;                  /* ... and the vIOMMU took it */
    bool connected;
    /* Interrupt-message window passed to the vIOMMU, not DMA (x86, s390) */
    uint64_t msi_first, msi_last;   /* empty when msi_first > msi_last */

    IOMMUMemoryRegion dma_mr;       /* the device's DMA goes through here */
    AddressSpace dma_as;

    MemoryListener ram_listener;    /* guest RAM: host -> guest addresses */
    GArray *ram;                    /* SimRamRange, sorted by hva */

    uint64_t dma_faults;
    Error *migration_blocker;
};

/* sim-assign-map.c */
void sim_assign_map_start(VNestSimAssign *sa);
void sim_assign_map_stop(VNestSimAssign *sa);
bool sim_assign_hva_to_gpa(VNestSimAssign *sa, void *hva, hwaddr *gpa);
/* The IOAS of @be that mirrors @as, shared; NULL on failure. */
SimIoas *sim_ioas_get(IOMMUFDBackend *be, AddressSpace *as,
                      bool skip_readonly, Error **errp);
void sim_ioas_put(SimIoas *ioas);

/* sim-assign-hiod.c: the host IOMMU device of a bound, attached @sa */
HostIOMMUDevice *sim_assign_hiod_new(VNestSimAssign *sa, Error **errp);

/* sim-assign-dma.c */
void sim_assign_dma_init(VNestSimAssign *sa);
void sim_assign_msi_window(VNestSimAssign *sa);

#endif
