/*
 * VNest qtest helpers: DMA with QEMU's "edu" PCI device
 *
 * edu copies between its 4 KiB internal buffer and a bus address, through
 * whatever IOMMU sits in front of it: a handy DMA source for tests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_EDU_DMA_H
#define VNEST_TESTS_EDU_DMA_H

#include "tests/qtest/libqos/pci.h"

typedef struct EduDev {
    QTestState *qts;
    QPCIDevice *dev;
    QPCIBar bar;
} EduDev;

/* Find edu at @devfn on @bus, map BAR 0 and enable bus mastering. */
void edu_open(EduDev *edu, QTestState *qts, QPCIBus *bus, int devfn);
void edu_close(EduDev *edu);

/* Device reads @len bytes at bus address @addr into its buffer. */
void edu_dma_from_bus(EduDev *edu, uint64_t addr, uint32_t len);
/* Device writes the first @len bytes of its buffer to bus address @addr. */
void edu_dma_to_bus(EduDev *edu, uint64_t addr, uint32_t len);

#endif
