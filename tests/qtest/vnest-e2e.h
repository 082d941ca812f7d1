/*
 * VNest qtests: one nesting scenario, on the emulated host or a real kernel
 *
 * The end-to-end tests (vtd-nest-e2e-test, smmu-nest-e2e-test) run the same
 * steps either on the emulated host (default: -object iommufd,emulated=on
 * and vnest-sim-assign of a vnest-dma-test) or, with
 * VNEST_E2E_SYSFSDEV=/sys/bus/pci/devices/BDF, on the real /dev/iommu with
 * that device through vfio-pci (inside a guest whose IOMMU nests:
 * docs/kernel-guest.rst). Each step is logged as "STEP: RESULT" to the file
 * VNEST_E2E_LOG names; with VNEST_E2E_TRACE=FILE, QEMU's and VNest's host
 * call trace events go to FILE, for scripts/conformance.sh to compare.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_E2E_H
#define VNEST_TESTS_E2E_H

#include <stdio.h>
#include "dma-test-dev.h"

/*
 * The host side of the command line: the iommufd object "if0" (emulated,
 * as @hw, or the kernel's) and the device "dma0" at @addr ("addr=04.0"),
 * then the trace options (events @events, comma separated patterns).
 */
char *vnest_e2e_args(const char *hw, const char *addr, const char *events);

/* Open VNEST_E2E_LOG (NULL when unset); close writes "done". */
FILE *vnest_e2e_log_open(void);
void vnest_e2e_log_close(FILE *log);

/* One step: to the test's messages and the log. */
void vnest_e2e_step(FILE *log, const char *name, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* The bytes of a DMA in these scenarios */
#define VNEST_E2E_LEN   256

/* Guest memory at @gpa: the pattern of @seed (its first byte is @seed) */
void vnest_e2e_fill(QTestState *qts, uint64_t gpa, uint8_t seed);

/*
 * The device reads @iova (no PASID): step @name logs what it saw, which
 * must be @want (the first byte of a vnest_e2e_fill() pattern).
 */
void vnest_e2e_reads(FILE *log, DmaTestDev *dev, const char *name,
                     uint64_t iova, int want);

/* The device writes a pattern to @iova: step "dma-write", landed at @gpa */
void vnest_e2e_write_lands(FILE *log, DmaTestDev *dev, uint64_t iova,
                           uint64_t gpa);

#endif
