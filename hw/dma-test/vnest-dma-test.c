/*
 * VNest: vnest-dma-test, a PCI DMA test device that can tag its requests
 * with a PASID
 *
 * -device vnest-dma-test[,pasid-width=N]
 *
 * PCI ID 1234:11e9 (QEMU's test vendor; edu is 1234:11e8), class "other
 * system peripheral". On a PCI Express bus a PCI Express endpoint (an
 * integrated endpoint on a root bus) with a PASID extended capability at
 * 0x100 (QEMU 10.0 has no pcie_pasid_init(): it is built here), Max PASID
 * Width pasid-width (default 20; 0 leaves the capability out), no Execute
 * or Privileged Mode. PASID-tagged requests need the capability's PASID
 * Enable set. On a conventional PCI bus (behind a PCIe-to-PCI bridge) it
 * is a conventional PCI device: no PCI Express or PASID capability (a
 * conventional bus carries no PASID), so a PASID-tagged request is an
 * ERROR.
 *
 * BAR 0, 8 KiB of memory, little endian:
 *
 *   0x000  ID        RO  0x11e90001 (device id, register layout version)
 *   0x008  ADDR_LO   RW  DMA bus address, bits 31:0
 *   0x00c  ADDR_HI   RW  DMA bus address, bits 63:32
 *   0x010  LEN       RW  DMA length in bytes, 1..4096
 *   0x014  PASID     RW  bits 19:0 PASID, bit 31 VALID (tag the request
 *                        with the PASID); other bits read as 0
 *   0x018  CMD       WO  1: TO_MEM (buffer[0, LEN) -> memory at ADDR),
 *                        2: FROM_MEM (memory at ADDR -> buffer[0, LEN));
 *                        reads as 0
 *   0x01c  STATUS    RO  bit 0 DONE (the last command completed),
 *                        bit 1 FAULT (its DMA was issued and refused: IOMMU
 *                        fault, nothing at the address...),
 *                        bit 2 ERROR (its DMA was not issued: bad command,
 *                        LEN out of range, ADDR + LEN wraps, bus mastering
 *                        off, PASID tag without PASID Enable or wider than
 *                        the capability, or PASID requests not possible
 *                        for this device: only devices assigned through
 *                        vnest-sim-assign can issue them)
 *                        bit 3 PAGE_REQUEST (with FAULT: the DMA was not
 *                        done, the device sent a page request, or waits on
 *                        the one it sent for that page; PRG has its index)
 *   0x020  FAULTS    RW  commands that ended with FAULT since reset;
 *                        writing any value sets it to 0
 *   0x024  PRG       RO  bits 8:0 the PRG index of the last page request
 *   0x028  PRG_STATUS RO the response to it: 0x10 PENDING, 0x0 SUCCESS
 *                        (re-run the command), 0x1 INVALID, 0xf FAILURE
 *                        (give up: PCIe 10.4.2); 0xffffffff: no request yet
 *   0x02c  MSI       WO  any value: send MSI vector 0 (the message the MSI
 *                        capability at 0x80 holds) when MSI is enabled;
 *                        reads as the number sent since reset
 *
 * pri=on (PCI Express only; needs vnest-sim-assign to take effect) adds
 * an ATS extended capability after the PASID one (0x108; 0x100 without
 * it: PRI needs ATS, Linux enables PRI only on an ATS-enabled device)
 * and a PRI one right after it (0x110 or 0x108), Outstanding Page
 * Request Capacity pri-requests (default 32), PRG Response PASID Required
 * when the PASID capability is there. The emulated host enables PRI at
 * assignment (its host kernel's job); the guest's PRI Enable bit is
 * writable and does not gate requests. A device with PRI whose DMA meets
 * a recoverable fault sends a page request instead (STATUS FAULT |
 * PAGE_REQUEST): the guest waits for PRG_STATUS to leave PENDING and, on
 * SUCCESS, writes CMD again.
 *   0x1000-0x1fff    RW  the 4 KiB DMA buffer, any access of 1, 2, 4 or 8
 *                        naturally aligned bytes
 *
 * The registers take 4-byte accesses (8-byte ones are split into two,
 * low address first). A command runs synchronously when CMD is written:
 * STATUS is final when the write returns. Any address alignment works. A
 * TO_MEM that faults part-way has written the pages before the fault; a
 * FROM_MEM that faults leaves the buffer unchanged.
 * Nothing a guest writes can make the device assert.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "vnest/host-dev.h"
#include "vnest/sim-assign.h"
#include "trace.h"

#define TYPE_VNEST_DMA_TEST "vnest-dma-test"
OBJECT_DECLARE_SIMPLE_TYPE(VNestDmaTest, VNEST_DMA_TEST)

#define DMA_TEST_VENDOR_ID      PCI_VENDOR_ID_QEMU
#define DMA_TEST_DEVICE_ID      0x11e9

#define DMA_TEST_REG_ID         0x000
#define DMA_TEST_REG_ADDR_LO    0x008
#define DMA_TEST_REG_ADDR_HI    0x00c
#define DMA_TEST_REG_LEN        0x010
#define DMA_TEST_REG_PASID      0x014
#define DMA_TEST_REG_CMD        0x018
#define DMA_TEST_REG_STATUS     0x01c
#define DMA_TEST_REG_FAULTS     0x020
#define DMA_TEST_REG_PRG        0x024
#define DMA_TEST_REG_PRG_STATUS 0x028
#define DMA_TEST_REG_MSI        0x02c
#define DMA_TEST_REGS_SIZE      0x1000
#define DMA_TEST_BUF            0x1000
#define DMA_TEST_BUF_SIZE       0x1000
#define DMA_TEST_BAR_SIZE       (DMA_TEST_BUF + DMA_TEST_BUF_SIZE)

#define DMA_TEST_ID_VALUE       ((DMA_TEST_DEVICE_ID << 16) | 0x0001)
#define DMA_TEST_PASID_MASK     0x000fffffu
#define DMA_TEST_PASID_VALID    0x80000000u
#define DMA_TEST_CMD_TO_MEM     1
#define DMA_TEST_CMD_FROM_MEM   2
#define DMA_TEST_STATUS_DONE    0x1
#define DMA_TEST_STATUS_FAULT   0x2
#define DMA_TEST_STATUS_ERROR   0x4
#define DMA_TEST_STATUS_PAGE_REQUEST 0x8
#define DMA_TEST_ATS_OFFSET     0x108
#define DMA_TEST_PRI_VER        1

#define DMA_TEST_EXP_OFFSET     0x40
#define DMA_TEST_MSI_OFFSET     0x80
#define DMA_TEST_PASID_OFFSET   0x100
#define DMA_TEST_PASID_VER      1
#define DMA_TEST_PASID_MAX_WIDTH 20

struct VNestDmaTest {
    PCIDevice parent_obj;

    MemoryRegion bar;
    MemoryRegion regs;
    MemoryRegion buf_mr;

    /* properties */
    uint8_t pasid_width;
    bool pri;
    uint32_t pri_requests;
    bool msix;

    /* registers */
    uint64_t addr;
    uint32_t len;
    uint32_t pasid;
    uint32_t status;
    uint32_t faults;
    uint32_t msis;
    uint32_t prg;               /* last page request's index, or ~0 */
    uint8_t buf[DMA_TEST_BUF_SIZE];
    uint8_t bounce[DMA_TEST_BUF_SIZE];     /* FROM_MEM lands here first */
};

/* The PASID to tag requests with, VNEST_NO_PASID, or false: cannot. */
static bool dma_test_pasid(VNestDmaTest *s, uint32_t *pasid,
                           const char **why)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint16_t ctrl;

    *pasid = VNEST_NO_PASID;
    if (!(s->pasid & DMA_TEST_PASID_VALID)) {
        return true;
    }
    if (!s->pasid_width || !pci_is_express(pdev)) {
        *why = "no PASID capability";
        return false;
    }
    ctrl = pci_get_word(pdev->config + DMA_TEST_PASID_OFFSET +
                        PCI_PASID_CTRL);
    if (!(ctrl & PCI_PASID_CTRL_ENABLE)) {
        *why = "PASID Enable is clear";
        return false;
    }
    *pasid = s->pasid & DMA_TEST_PASID_MASK;
    if (*pasid >> s->pasid_width) {
        *why = "PASID wider than Max PASID Width";
        return false;
    }
    if (!vnest_sim_assign_pasid_capable(pdev)) {
        *why = "PASID requests need vnest-sim-assign";
        return false;
    }
    return true;
}

static void dma_test_run(VNestDmaTest *s, uint32_t cmd)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool to_mem = cmd == DMA_TEST_CMD_TO_MEM;
    const char *why = NULL;
    uint32_t pasid = VNEST_NO_PASID;
    VNestPageRequest pr;
    MemTxResult r;

    s->status = 0;
    if (cmd != DMA_TEST_CMD_TO_MEM && cmd != DMA_TEST_CMD_FROM_MEM) {
        why = "unknown command";
    } else if (!s->len || s->len > DMA_TEST_BUF_SIZE) {
        why = "length out of range";
    } else if (s->addr + s->len - 1 < s->addr) {
        why = "address range wraps";
    } else if (!(pci_get_word(pdev->config + PCI_COMMAND) &
                 PCI_COMMAND_MASTER)) {
        why = "bus mastering is off";
    } else {
        dma_test_pasid(s, &pasid, &why);
    }
    if (why) {
        s->status = DMA_TEST_STATUS_DONE | DMA_TEST_STATUS_ERROR;
        qemu_log_mask(LOG_GUEST_ERROR, "%s: command 0x%x not run: %s\n",
                      TYPE_VNEST_DMA_TEST, cmd, why);
        trace_vnest_dma_test_refused(cmd, s->addr, s->len, s->pasid, why);
        return;
    }
    /* A read that faults leaves the buffer as it was. */
    r = vnest_sim_assign_dma_rw_pri(pdev, pasid, s->addr,
                                    to_mem ? s->buf : s->bounce, s->len,
                                    to_mem, &pr);
    s->status = DMA_TEST_STATUS_DONE;
    if (r != MEMTX_OK) {
        s->status |= DMA_TEST_STATUS_FAULT;
        s->faults++;
        if (pr.sent) {
            s->status |= DMA_TEST_STATUS_PAGE_REQUEST;
            s->prg = pr.grpid;
        }
    } else if (!to_mem) {
        memcpy(s->buf, s->bounce, s->len);
    }
    trace_vnest_dma_test_dma(to_mem, s->addr, s->len, pasid, r);
}

static uint64_t dma_test_reg_read(void *opaque, hwaddr addr, unsigned size)
{
    VNestDmaTest *s = opaque;
    uint64_t val = 0;

    switch (addr) {
    case DMA_TEST_REG_ID:
        val = DMA_TEST_ID_VALUE;
        break;
    case DMA_TEST_REG_ADDR_LO:
        val = (uint32_t)s->addr;
        break;
    case DMA_TEST_REG_ADDR_HI:
        val = s->addr >> 32;
        break;
    case DMA_TEST_REG_LEN:
        val = s->len;
        break;
    case DMA_TEST_REG_PASID:
        val = s->pasid;
        break;
    case DMA_TEST_REG_STATUS:
        val = s->status;
        break;
    case DMA_TEST_REG_FAULTS:
        val = s->faults;
        break;
    case DMA_TEST_REG_MSI:
        val = s->msis;
        break;
    case DMA_TEST_REG_PRG:
        val = s->prg == UINT32_MAX ? 0 : s->prg;
        break;
    case DMA_TEST_REG_PRG_STATUS:
        val = UINT32_MAX;
        if (s->prg != UINT32_MAX) {
            int st = vnest_sim_assign_prg_status(PCI_DEVICE(s), s->prg);

            val = st < 0 ? UINT32_MAX : st;
        }
        break;
    default:
        break;
    }
    trace_vnest_dma_test_read(addr, val);
    return val;
}

static void dma_test_reg_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    VNestDmaTest *s = opaque;

    trace_vnest_dma_test_write(addr, val);
    switch (addr) {
    case DMA_TEST_REG_ADDR_LO:
        s->addr = deposit64(s->addr, 0, 32, val);
        break;
    case DMA_TEST_REG_ADDR_HI:
        s->addr = deposit64(s->addr, 32, 32, val);
        break;
    case DMA_TEST_REG_LEN:
        s->len = val;
        break;
    case DMA_TEST_REG_PASID:
        s->pasid = val & (DMA_TEST_PASID_VALID | DMA_TEST_PASID_MASK);
        break;
    case DMA_TEST_REG_CMD:
        dma_test_run(s, val);
        break;
    case DMA_TEST_REG_FAULTS:
        s->faults = 0;
        break;
    case DMA_TEST_REG_MSI:
        if (msi_enabled(PCI_DEVICE(s))) {
            s->msis++;
            msi_notify(PCI_DEVICE(s), 0);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write to read-only or unknown "
                      "register 0x%" HWADDR_PRIx "\n", TYPE_VNEST_DMA_TEST,
                      addr);
        break;
    }
}

static const MemoryRegionOps dma_test_reg_ops = {
    .read = dma_test_reg_read,
    .write = dma_test_reg_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t dma_test_buf_read(void *opaque, hwaddr addr, unsigned size)
{
    VNestDmaTest *s = opaque;

    return ldn_le_p(s->buf + addr, size);
}

static void dma_test_buf_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    VNestDmaTest *s = opaque;

    stn_le_p(s->buf + addr, size, val);
}

static const MemoryRegionOps dma_test_buf_ops = {
    .read = dma_test_buf_read,
    .write = dma_test_buf_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

/* The PASID extended capability (PCIe r6.0, 7.8.8), built by hand. */
static void dma_test_pasid_init(VNestDmaTest *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint16_t off = DMA_TEST_PASID_OFFSET;

    pcie_add_capability(pdev, PCI_EXT_CAP_ID_PASID, DMA_TEST_PASID_VER, off,
                        PCI_EXT_CAP_PASID_SIZEOF);
    pci_set_word(pdev->config + off + PCI_PASID_CAP,
                 (s->pasid_width << 8) & PCI_PASID_CAP_WIDTH);
    pci_set_word(pdev->config + off + PCI_PASID_CTRL, 0);
    pci_set_word(pdev->wmask + off + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
}

/*
 * The PRI extended capability (PCIe r6.0, 7.8.11), by hand as QEMU 10.0
 * has no helper: Enable and Reset writable, the capacity read-only, the
 * allocation register the host writes (pci_enable_pri()).
 */
static void dma_test_pri_init(VNestDmaTest *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    /* right after the PASID capability, or first without it */
    uint16_t ats = s->pasid_width ? DMA_TEST_ATS_OFFSET
                                  : DMA_TEST_PASID_OFFSET;
    uint16_t off = ats + PCI_EXT_CAP_ATS_SIZEOF;

    pcie_ats_init(pdev, ats, true);
    pcie_add_capability(pdev, PCI_EXT_CAP_ID_PRI, DMA_TEST_PRI_VER, off,
                        PCI_EXT_CAP_PRI_SIZEOF);
    pci_set_word(pdev->wmask + off + PCI_PRI_CTRL,
                 PCI_PRI_CTRL_ENABLE | PCI_PRI_CTRL_RESET);
    pci_set_word(pdev->config + off + PCI_PRI_STATUS,
                 PCI_PRI_STATUS_STOPPED |
                 (s->pasid_width ? PCI_PRI_STATUS_PASID : 0));
    pci_set_long(pdev->config + off + PCI_PRI_MAX_REQ, s->pri_requests);
    pci_set_long(pdev->wmask + off + PCI_PRI_ALLOC_REQ, UINT32_MAX);
}

static void dma_test_realize(PCIDevice *pdev, Error **errp)
{
    VNestDmaTest *s = VNEST_DMA_TEST(pdev);

    if (s->pasid_width > DMA_TEST_PASID_MAX_WIDTH) {
        error_setg(errp, "%s: pasid-width=%u is more than a PCIe PASID "
                   "has (%u bits)", TYPE_VNEST_DMA_TEST, s->pasid_width,
                   DMA_TEST_PASID_MAX_WIDTH);
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 0);
    if (pci_is_express(pdev)) {
        if (pcie_endpoint_cap_init(pdev, DMA_TEST_EXP_OFFSET) < 0) {
            error_setg(errp, "%s: cannot add the PCI Express capability",
                       TYPE_VNEST_DMA_TEST);
            return;
        }
        if (s->pasid_width) {
            dma_test_pasid_init(s);
        }
        if (s->pri) {
            dma_test_pri_init(s);
        }
    } else if (s->pri) {
        error_setg(errp, "%s: pri=on needs a PCI Express bus",
                   TYPE_VNEST_DMA_TEST);
        return;
    }

    /* One vector, 64-bit, no masking; machines without MSI go without */
    if (msi_init(pdev, DMA_TEST_MSI_OFFSET, 1, true, false, NULL) < 0 &&
        msi_nonbroken) {
        error_setg(errp, "%s: cannot add the MSI capability",
                   TYPE_VNEST_DMA_TEST);
        return;
    }
    /* s390's zPCI takes only devices with MSI-X: one vector, in BAR 2 */
    if (s->msix && msix_init_exclusive_bar(pdev, 1, 2, errp)) {
        return;
    }
    memory_region_init(&s->bar, OBJECT(s), "vnest-dma-test",
                       DMA_TEST_BAR_SIZE);
    memory_region_init_io(&s->regs, OBJECT(s), &dma_test_reg_ops, s,
                          "vnest-dma-test-regs", DMA_TEST_REGS_SIZE);
    memory_region_init_io(&s->buf_mr, OBJECT(s), &dma_test_buf_ops, s,
                          "vnest-dma-test-buf", DMA_TEST_BUF_SIZE);
    memory_region_add_subregion(&s->bar, 0, &s->regs);
    memory_region_add_subregion(&s->bar, DMA_TEST_BUF, &s->buf_mr);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->bar);
}

static void dma_test_exit(PCIDevice *pdev)
{
    if (VNEST_DMA_TEST(pdev)->msix) {
        msix_uninit_exclusive_bar(pdev);
    }
    msi_uninit(pdev);
    if (pci_is_express(pdev)) {
        pcie_cap_exit(pdev);
    }
}

typedef struct VNestDmaTestClass {
    PCIDeviceClass parent_class;
    DeviceRealize parent_realize;
} VNestDmaTestClass;

/*
 * A hybrid device: PCI Express on a PCI Express bus, conventional PCI on
 * a conventional one (virtio-pci does the same). pci_qdev_realize() sizes
 * the configuration space from QEMU_PCI_CAP_EXPRESS, so decide it first.
 */
static void dma_test_dc_realize(DeviceState *dev, Error **errp)
{
    VNestDmaTestClass *c = (VNestDmaTestClass *)object_get_class(OBJECT(dev));
    PCIDevice *pdev = PCI_DEVICE(dev);

    if (pci_bus_is_express(pci_get_bus(pdev))) {
        pdev->cap_present |= QEMU_PCI_CAP_EXPRESS;
    }
    c->parent_realize(dev, errp);
}

static void dma_test_reset(DeviceState *dev)
{
    VNestDmaTest *s = VNEST_DMA_TEST(dev);

    s->addr = 0;
    s->len = 0;
    s->pasid = 0;
    s->status = 0;
    s->faults = 0;
    s->msis = 0;
    s->prg = UINT32_MAX;
    msi_reset(PCI_DEVICE(dev));
    memset(s->buf, 0, sizeof(s->buf));
}

static const VMStateDescription vmstate_dma_test = {
    .name = TYPE_VNEST_DMA_TEST,
    .version_id = 3,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, VNestDmaTest),
        VMSTATE_UINT64(addr, VNestDmaTest),
        VMSTATE_UINT32(len, VNestDmaTest),
        VMSTATE_UINT32(pasid, VNestDmaTest),
        VMSTATE_UINT32(status, VNestDmaTest),
        VMSTATE_UINT32(faults, VNestDmaTest),
        VMSTATE_UINT32_V(prg, VNestDmaTest, 2),
        VMSTATE_UINT32_V(msis, VNestDmaTest, 3),
        VMSTATE_UINT8_ARRAY(buf, VNestDmaTest, DMA_TEST_BUF_SIZE),
        VMSTATE_END_OF_LIST()
    },
};

static const Property dma_test_properties[] = {
    DEFINE_PROP_UINT8("pasid-width", VNestDmaTest, pasid_width,
                      DMA_TEST_PASID_MAX_WIDTH),
    DEFINE_PROP_BOOL("pri", VNestDmaTest, pri, false),
    DEFINE_PROP_UINT32("pri-requests", VNestDmaTest, pri_requests, 32),
    DEFINE_PROP_BOOL("msix", VNestDmaTest, msix, false),
};

static void dma_test_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = dma_test_realize;
    k->exit = dma_test_exit;
    k->vendor_id = DMA_TEST_VENDOR_ID;
    k->device_id = DMA_TEST_DEVICE_ID;
    k->revision = 1;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "VNest DMA test device (PASID-tagged requests)";
    device_class_set_legacy_reset(dc, dma_test_reset);
    dc->vmsd = &vmstate_dma_test;
    device_class_set_props(dc, dma_test_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_parent_realize(dc, dma_test_dc_realize,
                                    &((VNestDmaTestClass *)klass)->
                                    parent_realize);
}

static const TypeInfo dma_test_info = {
    .name = TYPE_VNEST_DMA_TEST,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(VNestDmaTest),
    .class_size = sizeof(VNestDmaTestClass),
    .class_init = dma_test_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { }
    },
};

static void dma_test_register_types(void)
{
    type_register_static(&dma_test_info);
}

type_init(dma_test_register_types)
