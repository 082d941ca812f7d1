/*
 * VNest qtest helpers: DMA with QEMU's "edu" PCI device
 *
 * Register layout from docs/specs/edu.rst: DMA source 0x80, destination
 * 0x88, count 0x90, command 0x98; the buffer sits at 0x40000 in the
 * device's DMA view, and a transfer completes on a 100 ms virtual timer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci_regs.h"
#include "edu-dma.h"

#define EDU_VENDOR_ID   0x1234
#define EDU_DEVICE_ID   0x11e8
#define EDU_DMA_SRC     0x80
#define EDU_DMA_DST     0x88
#define EDU_DMA_CNT     0x90
#define EDU_DMA_CMD     0x98
#define EDU_CMD_RUN     0x1
#define EDU_CMD_TO_BUS  0x2
#define EDU_BUF         0x40000
#define EDU_BUF_SIZE    4096
#define EDU_TIMER_NS    (100 * 1000 * 1000)

void edu_open(EduDev *edu, QTestState *qts, QPCIBus *bus, int devfn)
{
    edu->qts = qts;
    edu->dev = qpci_device_find(bus, devfn);
    g_assert(edu->dev);
    g_assert_cmphex(qpci_config_readw(edu->dev, PCI_VENDOR_ID), ==,
                    EDU_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(edu->dev, PCI_DEVICE_ID), ==,
                    EDU_DEVICE_ID);
    qpci_device_enable(edu->dev);
    edu->bar = qpci_iomap(edu->dev, 0, NULL);
}

void edu_close(EduDev *edu)
{
    qpci_iounmap(edu->dev, edu->bar);
    g_free(edu->dev);
}

static void edu_dma(EduDev *edu, uint64_t src, uint64_t dst, uint32_t len,
                    uint64_t cmd)
{
    g_assert_cmpuint(len, <=, EDU_BUF_SIZE);
    qpci_io_writeq(edu->dev, edu->bar, EDU_DMA_SRC, src);
    qpci_io_writeq(edu->dev, edu->bar, EDU_DMA_DST, dst);
    qpci_io_writeq(edu->dev, edu->bar, EDU_DMA_CNT, len);
    qpci_io_writeq(edu->dev, edu->bar, EDU_DMA_CMD, cmd | EDU_CMD_RUN);
    qtest_clock_step(edu->qts, 2 * EDU_TIMER_NS);
    g_assert_false(qpci_io_readq(edu->dev, edu->bar, EDU_DMA_CMD) &
                   EDU_CMD_RUN);
}

void edu_dma_from_bus(EduDev *edu, uint64_t addr, uint32_t len)
{
    edu_dma(edu, addr, EDU_BUF, len, 0);
}

void edu_dma_to_bus(EduDev *edu, uint64_t addr, uint32_t len)
{
    edu_dma(edu, EDU_BUF, addr, len, EDU_CMD_TO_BUS);
}
