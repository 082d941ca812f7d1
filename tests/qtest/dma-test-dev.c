/*
 * VNest qtest helpers: DMA with the vnest-dma-test PCI device
 *
 * Register layout: hw/dma-test/vnest-dma-test.c and
 * docs/dma-test-device.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci_regs.h"
#include "dma-test-dev.h"

#define REG_ID          0x000
#define REG_ADDR_LO     0x008
#define REG_ADDR_HI     0x00c
#define REG_LEN         0x010
#define REG_PASID       0x014
#define REG_CMD         0x018
#define REG_STATUS      0x01c
#define REG_FAULTS      0x020
#define REG_PRG         0x024
#define REG_PRG_STATUS  0x028
#define REG_MSI         0x02c
#define MSI_CAP         0x80    /* 64-bit MSI capability, one vector */
#define BUF             0x1000

#define ID_VALUE        0x11e90001u
#define PASID_VALID     0x80000000u
#define CMD_TO_MEM      1
#define CMD_FROM_MEM    2

/* q35's MCH: PCIEXBAR in the host bridge's config space. */
#define Q35_PCIEXBAR        0x60
#define Q35_PCIEXBAR_BASE   0xb0000000u
#define Q35_PCIEXBAR_EN     0x1u        /* length bits 0: 256 MiB */

#define PCI_EXT_CAP_ID_PASID_   0x1b
#define PASID_CTRL              0x06
#define PASID_CTRL_ENABLE       0x1

void dmadev_open(DmaTestDev *d, QTestState *qts, QPCIBus *bus, int devfn)
{
    memset(d, 0, sizeof(*d));
    d->qts = qts;
    d->dev = qpci_device_find(bus, devfn);
    g_assert(d->dev);
    g_assert_cmphex(qpci_config_readw(d->dev, PCI_VENDOR_ID), ==,
                    DMADEV_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(d->dev, PCI_DEVICE_ID), ==,
                    DMADEV_DEVICE_ID);
    qpci_device_enable(d->dev);
    d->bar = qpci_iomap(d->dev, 0, NULL);
    g_assert_cmphex(qpci_io_readl(d->dev, d->bar, REG_ID), ==, ID_VALUE);
}

void dmadev_close(DmaTestDev *d)
{
    qpci_iounmap(d->dev, d->bar);
    g_free(d->dev);
}

uint64_t dmadev_q35_enable_ecam(QPCIBus *bus)
{
    bus->config_writel(bus, 0, Q35_PCIEXBAR + 4, 0);
    bus->config_writel(bus, 0, Q35_PCIEXBAR,
                       Q35_PCIEXBAR_BASE | Q35_PCIEXBAR_EN);
    return Q35_PCIEXBAR_BASE;
}

void dmadev_set_ecam(DmaTestDev *d, uint64_t base)
{
    d->ecam = base;
}

static uint64_t ecam_addr(DmaTestDev *d, uint16_t offset)
{
    g_assert(d->ecam);
    return d->ecam + ((uint64_t)d->dev->devfn << 12) + offset;
}

uint16_t dmadev_pasid_cap(DmaTestDev *d)
{
    uint16_t offset = 0x100;
    int guard = 0;

    while (offset && guard++ < 64) {
        uint32_t hdr = qtest_readl(d->qts, ecam_addr(d, offset));

        if (!hdr || hdr == UINT32_MAX) {
            return 0;
        }
        if ((hdr & 0xffff) == PCI_EXT_CAP_ID_PASID_) {
            return offset;
        }
        offset = hdr >> 20;
    }
    return 0;
}

void dmadev_pasid_enable(DmaTestDev *d, bool on)
{
    uint16_t cap = dmadev_pasid_cap(d);

    g_assert(cap);
    qtest_writew(d->qts, ecam_addr(d, cap + PASID_CTRL),
                 on ? PASID_CTRL_ENABLE : 0);
    g_assert_cmphex(qtest_readw(d->qts, ecam_addr(d, cap + PASID_CTRL)),
                    ==, on ? PASID_CTRL_ENABLE : 0);
}

void dmadev_buf_write(DmaTestDev *d, uint32_t offset, const void *data,
                      uint32_t len)
{
    g_assert_cmpuint(offset + len, <=, DMADEV_BUF_SIZE);
    qpci_memwrite(d->dev, d->bar, BUF + offset, data, len);
}

void dmadev_buf_read(DmaTestDev *d, uint32_t offset, void *data,
                     uint32_t len)
{
    g_assert_cmpuint(offset + len, <=, DMADEV_BUF_SIZE);
    qpci_memread(d->dev, d->bar, BUF + offset, data, len);
}

uint32_t dmadev_try_command(DmaTestDev *d, uint32_t cmd, uint32_t pasid,
                            uint64_t addr, uint32_t len)
{
    qpci_io_writel(d->dev, d->bar, REG_ADDR_LO, addr);
    qpci_io_writel(d->dev, d->bar, REG_ADDR_HI, addr >> 32);
    qpci_io_writel(d->dev, d->bar, REG_LEN, len);
    qpci_io_writel(d->dev, d->bar, REG_PASID,
                   pasid == DMADEV_NO_PASID ? 0 : pasid | PASID_VALID);
    qpci_io_writel(d->dev, d->bar, REG_CMD, cmd);
    /* Synchronous: the status is final once the write returned. */
    return qpci_io_readl(d->dev, d->bar, REG_STATUS);
}

uint32_t dmadev_command(DmaTestDev *d, uint32_t cmd, uint32_t pasid,
                        uint64_t addr, uint32_t len)
{
    uint32_t status = dmadev_try_command(d, cmd, pasid, addr, len);

    g_assert(status & DMADEV_STATUS_DONE);
    return status;
}

uint32_t dmadev_to_mem(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                       uint32_t len)
{
    return dmadev_command(d, CMD_TO_MEM, pasid, addr, len);
}

uint32_t dmadev_from_mem(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                         uint32_t len)
{
    return dmadev_command(d, CMD_FROM_MEM, pasid, addr, len);
}

void dmadev_msi_enable(DmaTestDev *d, uint64_t addr, uint32_t data)
{
    g_assert_cmpint(qpci_config_readb(d->dev, MSI_CAP), ==, PCI_CAP_ID_MSI);
    qpci_config_writel(d->dev, MSI_CAP + PCI_MSI_ADDRESS_LO, (uint32_t)addr);
    qpci_config_writel(d->dev, MSI_CAP + PCI_MSI_ADDRESS_HI, addr >> 32);
    qpci_config_writew(d->dev, MSI_CAP + PCI_MSI_DATA_64, data);
    qpci_config_writew(d->dev, MSI_CAP + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
}

uint32_t dmadev_msi_send(DmaTestDev *d)
{
    qpci_io_writel(d->dev, d->bar, REG_MSI, 1);
    return qpci_io_readl(d->dev, d->bar, REG_MSI);
}

uint64_t dmadev_addr_reg(DmaTestDev *d, uint64_t *value)
{
    *value = qpci_io_readl(d->dev, d->bar, REG_ADDR_LO) |
             (uint64_t)qpci_io_readl(d->dev, d->bar, REG_ADDR_HI) << 32;
    return d->bar.addr + REG_ADDR_LO;
}

uint32_t dmadev_faults(DmaTestDev *d)
{
    return qpci_io_readl(d->dev, d->bar, REG_FAULTS);
}

uint32_t dmadev_prg(DmaTestDev *d)
{
    return qpci_io_readl(d->dev, d->bar, REG_PRG);
}

uint32_t dmadev_prg_status(DmaTestDev *d)
{
    return qpci_io_readl(d->dev, d->bar, REG_PRG_STATUS);
}

void dmadev_clear_faults(DmaTestDev *d)
{
    qpci_io_writel(d->dev, d->bar, REG_FAULTS, 0);
}

void dmadev_pattern(uint8_t *buf, uint32_t len, uint8_t seed)
{
    uint32_t i;

    for (i = 0; i < len; i++) {
        buf[i] = seed ^ (i * 7);
    }
}

uint32_t dmadev_write_pattern(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                              uint64_t gpa, uint32_t len, uint8_t seed,
                              bool *landed)
{
    g_autofree uint8_t *want = g_malloc(len);
    g_autofree uint8_t *got = g_malloc(len);
    uint32_t status;

    dmadev_pattern(want, len, seed);
    qtest_memset(d->qts, gpa, 0, len);
    dmadev_buf_write(d, 0, want, len);
    status = dmadev_to_mem(d, pasid, addr, len);
    qtest_memread(d->qts, gpa, got, len);
    *landed = !memcmp(got, want, len);
    return status;
}

void dmadev_assert_lands(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                         uint64_t gpa, uint32_t len, uint8_t seed)
{
    bool landed;

    g_assert_cmphex(dmadev_write_pattern(d, pasid, addr, gpa, len, seed,
                                         &landed), ==, DMADEV_STATUS_DONE);
    g_assert_true(landed);
}

void dmadev_assert_refused(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                           uint32_t len)
{
    g_assert_cmphex(dmadev_to_mem(d, pasid, addr, len), ==, DMADEV_REFUSED);
}

int dmadev_read_first(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                      uint32_t len)
{
    uint8_t first;
    uint32_t status = dmadev_from_mem(d, pasid, addr, len);

    if (status != DMADEV_STATUS_DONE) {
        g_assert_cmphex(status, ==, DMADEV_REFUSED);
        return -1;
    }
    dmadev_buf_read(d, 0, &first, 1);
    return first;
}
