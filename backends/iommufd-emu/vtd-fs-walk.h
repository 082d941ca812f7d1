/*
 * VNest: the VT-d first-stage walk (IA-32e paging, 4 or 5 levels)
 *
 * One walker, two callers:
 * - the emulated host's VT-d model (emu-hw-vtd.c): nested HWPTs of type
 *   IOMMU_HWPT_DATA_VTD_S1, every table access through the nest parent
 *   (an IOAS), with paging-structure caching in its IOTLB;
 * - intel-iommu's nested translation (x-nested=on, hw/vtd-nested-xlate/):
 *   PASID entries with PGTT=first-stage or nested, every table access
 *   through the PASID entry's second-stage tables in guest memory.
 *
 * The walker knows the first-stage format (VT-d spec 9.7) and its fault
 * conditions (SFS.x, SGN.x in spec 7.1.3); the caller provides the memory
 * the tables live in (through its second stage, with that stage's fault
 * reasons) and, if it caches them, the paging-structure entries.
 * C only, no QEMU or GLib headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_VTD_FS_WALK_H
#define VNEST_VTD_FS_WALK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Scalable-mode fault reasons (VT-d spec 7.1.3; the kernel's names in
 * dma_remap_sm_fault_reasons[], drivers/iommu/intel/dmar.c).
 */
#define VTD_FS_FR_ENTRY_ACCESS  0x70    /* SFS.1: fetching an FS entry */
#define VTD_FS_FR_NOT_PRESENT   0x71    /* SFS.2: P clear */
#define VTD_FS_FR_RESERVED      0x72    /* SFS.3: reserved bit, P set */
#define VTD_FS_FR_PTPTR         0x73    /* SFS.4: fetch via FSPTPTR */
#define VTD_FS_FR_NON_CANONICAL 0x80    /* SGN.1: input not canonical */
#define VTD_FS_FR_PRIVILEGE     0x81    /* SGN.2: user request, U/S 0 */
#define VTD_FS_FR_WRITE         0x85    /* SGN.6: no write permission */
#define VTD_FS_FR_READ          0x86    /* SGN.7: no read permission */
#define VTD_FS_FR_AD_UPDATE     0x91    /* A/D/EA update failed */

/* Permissions of a translation */
#define VTD_FS_READ             1u
#define VTD_FS_WRITE            2u

/* What the walker asks of the memory the tables live in */
typedef enum VtdFsAccess {
    VTD_FS_FETCH_ROOT,          /* an entry of the table FSPTPTR names */
    VTD_FS_FETCH,               /* an entry of a lower table */
} VtdFsAccess;

/* The update found the entry changed: the walker evaluates it again. */
#define VTD_FS_CHANGED          (~0u)

typedef struct VtdFsWalkOps {
    /* Read the 8-byte entry at @gpa: 0, or the fault reason to report. */
    unsigned (*read)(void *opaque, uint64_t gpa, VtdFsAccess kind,
                     uint64_t *ent);
    /*
     * Atomically replace @old by @new at @gpa (setting A, EA, D): 0,
     * VTD_FS_CHANGED if it no longer holds @old, or the fault reason.
     */
    unsigned (*update)(void *opaque, uint64_t gpa, uint64_t old,
                       uint64_t new);
    /*
     * Optional paging-structure cache. psc_lookup: the deepest cached
     * non-leaf entry for @iova: its level, the table it points to and
     * the walk state (@attr, VTD_FS_PSC_*) below it. psc_insert: cache
     * the non-leaf entry at @level the walk just used.
     */
    bool (*psc_lookup)(void *opaque, uint64_t iova, unsigned *level,
                       uint64_t *table, unsigned *attr);
    void (*psc_insert)(void *opaque, uint64_t iova, unsigned level,
                       uint64_t table, unsigned attr);
} VtdFsWalkOps;

#define VTD_FS_PSC_USER         1u      /* U/S set in every entry so far */
#define VTD_FS_PSC_WRITABLE     2u      /* R/W set in every entry so far */

/* The PASID-entry side of a walk (or a VTD_S1 HWPT's) */
typedef struct VtdFsConfig {
    uint64_t fsptptr;           /* first-stage table pointer */
    unsigned width;             /* input width: 48 (4-level), 57 (5-level) */
    unsigned oas;               /* output bits; above them is reserved */
    bool fs1gp;                 /* CAP.FS1GP: 1 GiB leaves allowed */
    bool eafe;                  /* PASID entry EAFE: set EA with A */
} VtdFsConfig;

typedef struct VtdFsResult {
    uint64_t out;               /* output address of the input address */
    uint64_t size;              /* leaf size (4 KiB, 2 MiB, 1 GiB) */
    unsigned prot;              /* VTD_FS_* a user request gets */
    unsigned level;             /* level of the leaf, or of the fault */
    bool user;                  /* U/S set at every level */
} VtdFsResult;

/*
 * Translate @iova for a user-mode request (@write: it writes), setting
 * A (EA) in every entry used and D in the leaf of a write the entries
 * allow. Returns 0 with @res filled (its prot may not grant the access:
 * see vtd_fs_access_fault()), or the fault reason with res->level.
 */
unsigned vtd_fs_walk(const VtdFsConfig *cfg, const VtdFsWalkOps *ops,
                     void *opaque, uint64_t iova, bool write,
                     VtdFsResult *res);

/* The fault reason for @access (VTD_FS_*) that @res denies, or 0. */
unsigned vtd_fs_access_fault(const VtdFsResult *res, unsigned access);

/* A short description of a VTD_FS_FR_* reason, for traces. */
const char *vtd_fs_fault_str(unsigned reason);

#endif
