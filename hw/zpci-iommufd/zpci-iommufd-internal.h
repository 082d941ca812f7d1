/*
 * VNest s390 zPCI over iommufd: private definitions
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_ZPCI_IOMMUFD_INTERNAL_H
#define VNEST_ZPCI_IOMMUFD_INTERNAL_H

#include "hw/s390x/s390-pci-bus.h"
#include "vnest/host-dev.h"
#include "vnest/zpci-iommufd.h"

/*
 * One host mapping (one IOMMU_IOAS_MAP, so one IOAS area): @len bytes
 * of IOVA from @iova onto guest memory from @gpa (at @hva in QEMU).
 */
typedef struct ZpciRun {
    uint64_t iova;
    uint64_t len;
    uint64_t gpa;
    uint8_t *hva;
    bool ro;
} ZpciRun;

/* Host calls made for a function (QOM counters, docs). */
typedef struct ZpciStats {
    uint64_t rpcits;        /* refreshes handled here */
    uint64_t maps;          /* IOMMU_IOAS_MAP calls */
    uint64_t unmaps;        /* IOMMU_IOAS_UNMAP calls */
    uint64_t map_pages;     /* 4 KiB pages those maps covered */
} ZpciStats;

/* A zPCI function's IOMMU whose device is assigned through iommufd. */
struct VNestZpci {
    S390PCIIOMMU *iommu;
    HostIOMMUDevice *hiod;
    VNestHostDevInfo info;
    /* What the IOAS holds for the guest: ZpciRun, sorted, disjoint. */
    GArray *runs;
    ZpciStats stats;
    /* x-rpcit-per-page=on: QEMU's notifier events, counted */
    IOMMUNotifier per_page;
    bool per_page_counting;
};

/* The outcome of one refresh: RPCIT's condition code and status. */
typedef enum ZpciResult {
    ZPCI_RES_OK,
    ZPCI_RES_NO_RESOURCES,  /* host out of mappings: purge and retry */
    ZPCI_RES_ERROR,         /* function error state, event raised */
} ZpciResult;

/*
 * zpci-walk.c: the guest's translations of [@start, @end) as maximal runs
 * (IOVA, guest address and QEMU address contiguous, same permission)
 * appended to @out. 0, or the error event code for the entry at *@fault.
 */
uint16_t zpci_walk(uint64_t g_iota, uint64_t start, uint64_t end,
                   GArray *out, uint64_t *fault);

/* zpci-runs.c: bring the IOAS in line with @want over [@start, @end). */
ZpciResult zpci_runs_refresh(VNestZpci *z, uint64_t start, uint64_t end,
                             GArray *want);
/* Every run leaves the IOAS (one unmap). */
void zpci_runs_clear(VNestZpci *z);

/* zpci-insn-test.c: the x-insn properties for qtests. */
void vnest_zpci_insn_class_init(ObjectClass *oc);

#endif
