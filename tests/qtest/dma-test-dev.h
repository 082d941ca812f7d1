/*
 * VNest qtest helpers: DMA with the vnest-dma-test PCI device
 *
 * vnest-dma-test (hw/dma-test/vnest-dma-test.c, docs/dma-test-device.rst)
 * copies between its 4 KiB buffer and a bus address, synchronously, and
 * can tag the request with a PASID; it reports done / fault / error.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_DMA_TEST_DEV_H
#define VNEST_TESTS_DMA_TEST_DEV_H

#include "tests/qtest/libqos/pci.h"

#define DMADEV_VENDOR_ID    0x1234
#define DMADEV_DEVICE_ID    0x11e9
#define DMADEV_BUF_SIZE     4096
/* DmaTestDev pasid argument: an untagged request. */
#define DMADEV_NO_PASID     UINT32_MAX

/* STATUS bits: what the last command did. */
#define DMADEV_STATUS_DONE  0x1
#define DMADEV_STATUS_FAULT 0x2     /* issued, refused (IOMMU fault...) */
#define DMADEV_REFUSED      (DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT)
#define DMADEV_STATUS_ERROR 0x4     /* not issued: bad parameters */
#define DMADEV_STATUS_PAGE_REQUEST 0x8  /* with FAULT: a page request */

/* PRG_STATUS values: the PCIe response codes, and pending */
#define DMADEV_PRG_SUCCESS  0x0
#define DMADEV_PRG_INVALID  0x1
#define DMADEV_PRG_FAILURE  0xf
#define DMADEV_PRG_PENDING  0x10

typedef struct DmaTestDev {
    QTestState *qts;
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t ecam;          /* extended config space base, 0: none */
} DmaTestDev;

/* Find the device at @devfn on @bus, map BAR 0, enable bus mastering. */
void dmadev_open(DmaTestDev *d, QTestState *qts, QPCIBus *bus, int devfn);
void dmadev_close(DmaTestDev *d);

/*
 * q35 without firmware: turn on MMCONFIG at 0xb0000000 (what SeaBIOS
 * does) so that devices' extended configuration space can be reached;
 * returns that base, for dmadev_set_ecam().
 */
uint64_t dmadev_q35_enable_ecam(QPCIBus *bus);
/* Where the device's extended config space is (bus 0): ECAM @base. */
void dmadev_set_ecam(DmaTestDev *d, uint64_t base);

/*
 * Offset of the PASID extended capability, 0 if the device has none
 * (needs dmadev_set_ecam()).
 */
uint16_t dmadev_pasid_cap(DmaTestDev *d);
/* Set or clear PASID Enable in the PASID capability (which must exist). */
void dmadev_pasid_enable(DmaTestDev *d, bool on);

/* Buffer access: @len bytes at @offset of the device's 4 KiB buffer. */
void dmadev_buf_write(DmaTestDev *d, uint32_t offset, const void *data,
                      uint32_t len);
void dmadev_buf_read(DmaTestDev *d, uint32_t offset, void *data,
                     uint32_t len);

/*
 * Run one transfer and return STATUS. @pasid: DMADEV_NO_PASID or the
 * PASID to tag the request with (any 32-bit value: the device keeps bits
 * 19:0). @len is passed as is, so tests can give bad ones.
 */
/* Device writes buffer[0, @len) to bus address @addr. */
uint32_t dmadev_to_mem(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                       uint32_t len);
/* Device reads @len bytes at bus address @addr into buffer[0, @len). */
uint32_t dmadev_from_mem(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                         uint32_t len);
/* Raw command (for unknown ones); returns STATUS. */
uint32_t dmadev_command(DmaTestDev *d, uint32_t cmd, uint32_t pasid,
                        uint64_t addr, uint32_t len);

/*
 * The same without expecting DONE: for fuzzing, where the guest may have
 * turned the device off behind the test's back (a DMA into its own
 * configuration space, for instance).
 */
uint32_t dmadev_try_command(DmaTestDev *d, uint32_t cmd, uint32_t pasid,
                            uint64_t addr, uint32_t len);

/*
 * MSI: program the capability with @addr / @data and enable it; send
 * vector 0 (returns the number sent since reset).
 */
void dmadev_msi_enable(DmaTestDev *d, uint64_t addr, uint32_t data);
uint32_t dmadev_msi_send(DmaTestDev *d);
/*
 * The guest-physical address of the ADDR_LO register (a 32-bit register
 * anything can write: a stand-in for an interrupt doorbell) and, in
 * *@value, what ADDR holds now.
 */
uint64_t dmadev_addr_reg(DmaTestDev *d, uint64_t *value);

/* The device's fault counter (commands that ended with FAULT). */
uint32_t dmadev_faults(DmaTestDev *d);
/* PRG: the last page request's index; PRG_STATUS: its response */
uint32_t dmadev_prg(DmaTestDev *d);
uint32_t dmadev_prg_status(DmaTestDev *d);
void dmadev_clear_faults(DmaTestDev *d);

/*
 * What a test checks of a DMA: the device writes @len bytes of a pattern
 * made from @seed to @addr; STATUS is returned and *@landed says whether
 * the pattern is at guest address @gpa afterwards (cleared first).
 */
void dmadev_pattern(uint8_t *buf, uint32_t len, uint8_t seed);
uint32_t dmadev_write_pattern(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                              uint64_t gpa, uint32_t len, uint8_t seed,
                              bool *landed);
/* ... which must complete and land at @gpa */
void dmadev_assert_lands(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                         uint64_t gpa, uint32_t len, uint8_t seed);
/* ... which the IOMMU must refuse (a fault, not a bad command) */
void dmadev_assert_refused(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                           uint32_t len);
/* The device reads @len bytes at @addr: the first one, or -1 if refused */
int dmadev_read_first(DmaTestDev *d, uint32_t pasid, uint64_t addr,
                      uint32_t len);

#endif
