/*
 * VNest qtest: arm-smmuv3 instances on -M virt, one per PCIe root bus
 *
 * -device arm-smmuv3,primary-bus=pcie.0 and another for a pxb-pcie's bus
 * (bus_nr 0x80), accel=on, a vnest-dma-test behind each assigned through
 * the emulated host (host-iommu=smmuv3): on pcie.0, and behind a root
 * port of the pxb, whose secondary bus the test numbers 0x81 as firmware
 * would (StreamID 0x8100). The test drives each SMMU at the address the
 * platform bus gave it (x-virt-base): each instance has its own host
 * vIOMMU, DMA lands where that instance's own stage-1 tables say, an
 * invalidation sent to one instance leaves the other's stale, and a
 * CFGI_CD naming StreamID 0x8100 reaches the host (whose vDEVICE virtual
 * ID must be that StreamID: set once the guest numbered the bus, and
 * following a renumbering).
 *
 * How the guest finds them: the devicetree (QMP dumpdtb, parsed here)
 * has an arm,smmu-v3 node per instance and the host bridge's iommu-map
 * one entry per root bus; ACPI IORT (read from fw_cfg) an SMMUv3 node per
 * instance and the root complex's ID mappings per root bus, the RIDs of a
 * bus no SMMU translates going to the ITS. And what is refused.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "standard-headers/linux/pci_regs.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-malloc.h"
#include "tests/qtest/libqos/generic-pcihost.h"
#include "standard-headers/linux/qemu_fw_cfg.h"
#include "smmu-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512 * MiB)
#define ECAM_BASE       0x4010000000ULL
#define FW_CFG_BASE     0x09020000ULL
#define PCIE_NODE       "/pcie@10000000"
#define PXB_BUS         0x80
#define RP_BUS          0x81    /* the pxb's root port's secondary bus */
#define NSMMU           2
#define LEN             256
#define IOVA            0x80000000ULL
#define PAGE            4096ULL
#define ASID            7
#define ASID_OF(i)      (ASID + 8 * (i))    /* instance i's */

#define MACHINE         "-M virt,gic-version=3 -cpu max -m 512M -nodefaults "
#define PXB             "-device pxb-pcie,id=pcie.1,bus_nr=0x80,bus=pcie.0 "

/* Device i: dma0 on pcie.0 at 02.0, dma1 behind the pxb's root port. */
static const uint32_t dev_sid[NSMMU] = { 0x0010, RP_BUS << 8 };

typedef struct Multi {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    SmmuGuest *g[NSMMU];
    DmaTestDev dev[NSMMU];
    uint64_t base[NSMMU];
} Multi;

static const char *const smmu_path[NSMMU] = {
    "/machine/peripheral/smmu0", "/machine/peripheral/smmu1",
};

/* Config space of @bdf, through the ECAM. */
static uint64_t ecam(uint32_t bdf, uint32_t offset)
{
    return ECAM_BASE + ((uint64_t)bdf << 12) + offset;
}

/*
 * What firmware does for the pxb's root port (80:00.0): its secondary
 * bus numbered @bus, its memory window over libqos's BARs, memory and
 * bus master on.
 */
static void number_root_port(QTestState *qts, uint8_t bus)
{
    uint32_t rp = PXB_BUS << 8;

    qtest_writeb(qts, ecam(rp, PCI_PRIMARY_BUS), PXB_BUS);
    qtest_writeb(qts, ecam(rp, PCI_SECONDARY_BUS), bus);
    qtest_writeb(qts, ecam(rp, PCI_SUBORDINATE_BUS), bus);
    qtest_writew(qts, ecam(rp, PCI_MEMORY_BASE), 0x1000);
    qtest_writew(qts, ecam(rp, PCI_MEMORY_LIMIT), 0x2ef0);
    qtest_writew(qts, ecam(rp, PCI_PREF_MEMORY_BASE), 0xfff0);
    qtest_writew(qts, ecam(rp, PCI_PREF_MEMORY_LIMIT), 0);
    qtest_writew(qts, ecam(rp, PCI_COMMAND),
                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void multi_init(Multi *t)
{
    int i;

    t->qts = qtest_init(MACHINE
                        "-object iommufd,id=emu0,emulated=on,"
                        "host-iommu=smmuv3 "
                        "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                        "device=dma0 "
                        "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                        "device=dma1 "
                        "-device arm-smmuv3,primary-bus=pcie.0,id=smmu0,"
                        "accel=on "
                        PXB
                        "-device arm-smmuv3,primary-bus=pcie.1,id=smmu1,"
                        "accel=on "
                        "-device pcie-root-port,id=rp1,bus=pcie.1,chassis=1,"
                        "addr=00.0 "
                        "-device vnest-dma-test,id=dma0,bus=pcie.0,addr=02.0 "
                        "-device vnest-dma-test,id=dma1,bus=rp1");
    alloc_init(&t->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&t->pci, t->qts, &t->alloc, false);
    number_root_port(t->qts, RP_BUS);
    for (i = 0; i < NSMMU; i++) {
        /* ECAM: (bus << 8 | devfn) << 12, which is what devfn gives */
        dmadev_open(&t->dev[i], t->qts, &t->pci.bus, dev_sid[i]);
        dmadev_set_ecam(&t->dev[i], ECAM_BASE);
        t->base[i] = vnest_qom_get_uint(t->qts, smmu_path[i], "x-virt-base");
        /* 2-level stream table for the pxb's StreamIDs */
        t->g[i] = smmu_guest_new(t->qts, &t->alloc, t->base[i], i == 1);
    }
}

static void multi_fini(Multi *t)
{
    int i;

    for (i = 0; i < NSMMU; i++) {
        smmu_guest_free(t->g[i]);
        dmadev_close(&t->dev[i]);
    }
    alloc_destroy(&t->alloc);
    qtest_quit(t->qts);
}

static uint64_t nstat(Multi *t, int i, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-nest-%s", name);

    return vnest_qom_get_uint(t->qts, smmu_path[i], prop);
}

/* A page of guest RAM filled with @val. */
static uint64_t page_of(Multi *t, uint8_t val)
{
    uint64_t gpa = guest_alloc(&t->alloc, PAGE);

    qtest_memset(t->qts, gpa, val, PAGE);
    return gpa;
}

static int dma_reads(Multi *t, int i, uint64_t addr)
{
    return dmadev_read_first(&t->dev[i], DMADEV_NO_PASID, addr, LEN);
}

/* ---- two instances, each nesting with its own vIOMMU ---- */

/*
 * Two register windows, one vIOMMU and one vDEVICE each: device 1's once
 * the guest numbered its bus and the SMMU looks at its STEs again.
 */
static void test_plug(void)
{
    Multi t;
    int i;

    multi_init(&t);
    g_assert_cmphex(t.base[0], !=, t.base[1]);
    g_assert_cmpuint(nstat(&t, 0, "vdevices"), ==, 1);
    g_assert_cmpuint(nstat(&t, 1, "vdevices"), ==, 0);
    for (i = 0; i < NSMMU; i++) {
        smmu_guest_enable(t.g[i], true);
        g_assert_cmphex(t.base[i] & (0x20000 - 1), ==, 0);
        g_assert_cmpuint(nstat(&t, i, "viommus"), ==, 1);
        g_assert_cmpuint(nstat(&t, i, "vdevices"), ==, 1);
        g_assert_cmpuint(nstat(&t, i, "host_errors"), ==, 0);
        /* accel=on: stage 1 only (IDR0.S2P clear, S1P set) */
        g_assert_cmphex(smmu_guest_readl(t.g[i], SMMU_IDR0) & 3, ==, 2);
    }
    multi_fini(&t);
}

/*
 * The guest renumbers the root port's bus: the vDEVICE follows (a new
 * one, virtual ID 0x8200), so StreamID 0x8200's STE and CFGI_CD apply.
 */
static void test_renumber(void)
{
    Multi t;
    SmmuCtx *c;
    uint32_t sid = (RP_BUS + 1) << 8;

    multi_init(&t);
    smmu_guest_enable(t.g[1], true);
    c = smmu_guest_ste_s1(t.g[1], dev_sid[1], 0, ASID);
    smmu_ctx_map(c, IOVA, page_of(&t, 0x51), PAGE, SMMU_PROT_RW);
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x51);
    number_root_port(t.qts, RP_BUS + 1);
    dmadev_close(&t.dev[1]);
    dmadev_open(&t.dev[1], t.qts, &t.pci.bus, sid);
    dmadev_set_ecam(&t.dev[1], ECAM_BASE);
    c = smmu_guest_ste_s1(t.g[1], sid, 0, ASID + 1);
    smmu_ctx_map(c, IOVA, page_of(&t, 0x52), PAGE, SMMU_PROT_RW);
    g_assert_cmpuint(nstat(&t, 1, "vdevices"), ==, 2);
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x52);
    c = smmu_guest_cd_write(t.g[1], sid, 0, ASID + 2);
    smmu_ctx_map(c, IOVA, page_of(&t, 0x53), PAGE, SMMU_PROT_RW);
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x52);
    g_assert(smmu_guest_cfgi_cd(t.g[1], sid, 0));
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x53);
    g_assert_cmpuint(nstat(&t, 1, "host_errors"), ==, 0);
    multi_fini(&t);
}

/*
 * Each device's DMA goes where its own SMMU's tables say (the same
 * IOVA on both), a TLBI on one SMMU leaves the other stale, and CFGI_CD
 * of StreamID 0x8100 reaches the host through smmu1's vDEVICE.
 *
 * Both vIOMMUs sit on one nest parent, so they share its VMID (Linux 7.3
 * arm_vsmmu_init(): vsmmu->vmid = s2_parent->s2_cfg.vmid) and so the
 * host's TLB tags: the ASIDs differ, as a Linux guest's do (one ASID
 * space for all its SMMUs).
 */
static void test_s1_isolated(void)
{
    Multi t;
    SmmuCtx *c[NSMMU];
    uint64_t calls[NSMMU];
    int i;

    multi_init(&t);
    for (i = 0; i < NSMMU; i++) {
        smmu_guest_enable(t.g[i], true);
        /*
         * SMMUEN with 0x8100's level-1 descriptor not there yet: aborted,
         * and no event before a transaction (as hardware; Linux does this)
         */
        g_assert_cmpuint(smmu_guest_events_pending(t.g[i]), ==, 0);
        c[i] = smmu_guest_ste_s1(t.g[i], dev_sid[i], 0, ASID_OF(i));
        smmu_ctx_map(c[i], IOVA, page_of(&t, 0x10 + i), PAGE, SMMU_PROT_RW);
    }
    for (i = 0; i < NSMMU; i++) {
        g_assert_cmpint(dma_reads(&t, i, IOVA), ==, 0x10 + i);
        /* changed without an invalidation: the host's IOTLB keeps it */
        smmu_ctx_map(c[i], IOVA, page_of(&t, 0x20 + i), PAGE, SMMU_PROT_RW);
        g_assert_cmpint(dma_reads(&t, i, IOVA), ==, 0x10 + i);
        calls[i] = nstat(&t, i, "inv_calls");
    }
    /* smmu0's TLBI: device 0 fresh, device 1 (smmu1's vIOMMU) stale */
    g_assert(smmu_guest_tlbi_nh_asid(t.g[0], ASID_OF(0)));
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x20);
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x11);
    g_assert_cmpuint(nstat(&t, 0, "inv_calls"), ==, calls[0] + 1);
    g_assert_cmpuint(nstat(&t, 1, "inv_calls"), ==, calls[1]);
    g_assert(smmu_guest_tlbi_nh_asid(t.g[1], ASID_OF(1)));
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x21);
    g_assert_cmpuint(nstat(&t, 0, "inv_calls"), ==, calls[0] + 1);

    /* A new CD for StreamID 0x8100: stale until its CFGI_CD */
    c[1] = smmu_guest_cd_write(t.g[1], dev_sid[1], 0, ASID_OF(1) + 1);
    smmu_ctx_map(c[1], IOVA, page_of(&t, 0x31), PAGE, SMMU_PROT_RW);
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x21);
    g_assert(smmu_guest_cfgi_cd(t.g[1], dev_sid[1], 0));
    g_assert_cmpint(dma_reads(&t, 1, IOVA), ==, 0x31);
    g_assert_cmpint(dma_reads(&t, 0, IOVA), ==, 0x20);
    for (i = 0; i < NSMMU; i++) {
        g_assert_cmpuint(nstat(&t, i, "host_errors"), ==, 0);
        g_assert_cmpuint(smmu_guest_events_pending(t.g[i]), ==, 0);
    }
    multi_fini(&t);
}

/* Device 1's STE is smmu1's business: smmu0 aborting all is not. */
static void test_ste_isolated(void)
{
    Multi t;
    uint64_t gpa;

    multi_init(&t);
    gpa = page_of(&t, 0);
    smmu_guest_set_gbpa(t.g[0], true);
    dmadev_assert_refused(&t.dev[0], DMADEV_NO_PASID, gpa, LEN);
    dmadev_assert_lands(&t.dev[1], DMADEV_NO_PASID, gpa, gpa, LEN, 0x41);
    smmu_guest_enable(t.g[1], true);
    smmu_guest_ste_abort(t.g[1], dev_sid[1]);
    dmadev_assert_refused(&t.dev[1], DMADEV_NO_PASID, gpa, LEN);
    smmu_guest_set_gbpa(t.g[0], false);
    dmadev_assert_lands(&t.dev[0], DMADEV_NO_PASID, gpa, gpa, LEN, 0x42);
    multi_fini(&t);
}

/* ---- the devicetree ---- */

#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9

typedef struct Dtb {
    gchar *blob;
    gsize size;
} Dtb;

static uint32_t be32_at(const void *p)
{
    return be32_to_cpu(*(const uint32_t *)p);
}

static void dtb_dump(QTestState *qts, Dtb *d)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("virt-smmu-XXXXXX.dtb", &path, NULL);
    QDict *rsp;

    g_assert(fd >= 0);
    close(fd);
    rsp = qtest_qmp(qts, "{ 'execute': 'dumpdtb', 'arguments':"
                    " { 'filename': %s } }", path);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    g_assert(g_file_get_contents(path, &d->blob, &d->size, NULL));
    unlink(path);
    g_assert_cmphex(be32_at(d->blob), ==, 0xd00dfeed);
}

/*
 * Property @prop of node @path (full path, unit addresses included), its
 * length in *@len; NULL when absent. A flat walk of the structure block.
 */
static const uint8_t *dtb_prop(Dtb *d, const char *path, const char *prop,
                               int *len)
{
    const uint8_t *s = (uint8_t *)d->blob + be32_at(d->blob + 8);
    const char *strings = d->blob + be32_at(d->blob + 12);
    g_autoptr(GString) cur = g_string_new("");
    g_autoptr(GArray) lens = g_array_new(false, false, sizeof(gsize));
    const uint8_t *p = s;

    for (;;) {
        uint32_t tok = be32_at(p);
        const char *name;
        uint32_t plen;

        p += 4;
        switch (tok) {
        case FDT_BEGIN_NODE:
            name = (const char *)p;
            g_array_append_val(lens, cur->len);
            if (cur->len > 1) {
                g_string_append_c(cur, '/');
            }
            g_string_append(cur, cur->len ? name : "/");
            p += ROUND_UP(strlen(name) + 1, 4);
            break;
        case FDT_END_NODE:
            g_assert(lens->len);
            g_string_truncate(cur, g_array_index(lens, gsize,
                                                 lens->len - 1));
            g_array_set_size(lens, lens->len - 1);
            break;
        case FDT_PROP:
            plen = be32_at(p);
            name = strings + be32_at(p + 4);
            if (!strcmp(cur->str, path) && !strcmp(name, prop)) {
                *len = plen;
                return p + 8;
            }
            p += 8 + ROUND_UP(plen, 4);
            break;
        case FDT_NOP:
            break;
        default:
            g_assert_cmpuint(tok, ==, FDT_END);
            return NULL;
        }
        g_assert((gchar *)p < d->blob + d->size);
    }
}

static uint32_t dtb_cell(Dtb *d, const char *path, const char *prop)
{
    int len;
    const uint8_t *v = dtb_prop(d, path, prop, &len);

    g_assert(v);
    g_assert_cmpint(len, ==, 4);
    return be32_at(v);
}

/* The node of the SMMU at @base: what the arm,smmu-v3 binding asks. */
static uint32_t dtb_check_smmu(Dtb *d, uint64_t base)
{
    g_autofree char *node = g_strdup_printf("/smmuv3@%" PRIx64, base);
    const uint8_t *v;
    int len;

    v = dtb_prop(d, node, "compatible", &len);
    g_assert(v);
    g_assert_cmpstr((const char *)v, ==, "arm,smmu-v3");
    v = dtb_prop(d, node, "reg", &len);
    g_assert_cmpint(len, ==, 16);
    g_assert_cmphex((uint64_t)be32_at(v) << 32 | be32_at(v + 4), ==, base);
    g_assert_cmphex(be32_at(v + 12), ==, 0x20000);
    v = dtb_prop(d, node, "interrupts", &len);
    g_assert_cmpint(len, ==, 4 * 3 * 4);
    v = dtb_prop(d, node, "interrupt-names", &len);
    g_assert(v && !memcmp(v, "eventq\0priq\0cmdq-sync\0gerror", len));
    g_assert_cmpuint(dtb_cell(d, node, "#iommu-cells"), ==, 1);
    return dtb_cell(d, node, "phandle");
}

/* iommu-map of the host bridge: @n entries <rid phandle rid count>. */
static void dtb_check_map(Dtb *d, const uint32_t (*want)[4], int n)
{
    int len, i, j;
    const uint8_t *v = dtb_prop(d, PCIE_NODE, "iommu-map", &len);

    g_assert(v);
    g_assert_cmpint(len, ==, n * 16);
    for (i = 0; i < n; i++) {
        for (j = 0; j < 4; j++) {
            g_assert_cmphex(be32_at(v + 16 * i + 4 * j), ==, want[i][j]);
        }
    }
}

static void test_dt(void)
{
    Multi t;
    Dtb d;
    uint32_t ph[NSMMU];
    int i;

    multi_init(&t);
    dtb_dump(t.qts, &d);
    for (i = 0; i < NSMMU; i++) {
        ph[i] = dtb_check_smmu(&d, t.base[i]);
    }
    g_assert_cmphex(ph[0], !=, ph[1]);
    dtb_check_map(&d, (const uint32_t [][4]) {
        { 0, ph[0], 0, PXB_BUS << 8 },
        { PXB_BUS << 8, ph[1], PXB_BUS << 8, 0x10000 - (PXB_BUS << 8) },
    }, 2);
    g_free(d.blob);
    multi_fini(&t);
}

/* ---- ACPI IORT ---- */

#define IORT_ITS        0
#define IORT_RC         2
#define IORT_SMMUV3     4

typedef struct Iort {
    uint8_t *tables;
    const uint8_t *t;           /* the IORT in it */
    uint32_t len;
} Iort;

/*
 * virt's fw_cfg: data at +0, a big-endian selector at +8 (libqos's MMIO
 * fw_cfg has another layout).
 */
static void fw_cfg_read(QTestState *qts, uint16_t key, void *buf,
                        size_t len)
{
    uint8_t *p = buf;
    size_t i;

    qtest_writew(qts, FW_CFG_BASE + 8, bswap16(key));
    for (i = 0; i < len; i++) {
        p[i] = qtest_readb(qts, FW_CFG_BASE);
    }
}

/* fw_cfg file @name, its size in *@size. */
static uint8_t *fw_cfg_file(QTestState *qts, const char *name, size_t *size)
{
    struct {
        uint32_t size;
        uint16_t select, reserved;
        char name[56];
    } QEMU_PACKED f;
    uint32_t count, i;
    uint8_t *buf;

    fw_cfg_read(qts, FW_CFG_FILE_DIR, &count, 4);
    count = be32_to_cpu(count);
    /* Selected again, read whole: the count, then the entries. */
    buf = g_malloc(4 + count * sizeof(f));
    fw_cfg_read(qts, FW_CFG_FILE_DIR, buf, 4 + count * sizeof(f));
    for (i = 0; i < count; i++) {
        memcpy(&f, buf + 4 + i * sizeof(f), sizeof(f));
        if (!strcmp(f.name, name)) {
            g_free(buf);
            *size = be32_to_cpu(f.size);
            buf = g_malloc(*size);
            fw_cfg_read(qts, be16_to_cpu(f.select), buf, *size);
            return buf;
        }
    }
    g_free(buf);
    return NULL;
}

static void iort_read(QTestState *qts, Iort *io)
{
    size_t size, i;

    io->tables = fw_cfg_file(qts, "etc/acpi/tables", &size);
    g_assert(io->tables);
    io->t = NULL;
    for (i = 0; i + 36 <= size; i++) {
        if (!memcmp(io->tables + i, "IORT", 4)) {
            io->t = io->tables + i;
            io->len = ldl_le_p(io->t + 4);
            break;
        }
    }
    g_assert(io->t);
    g_assert_cmpuint(i + io->len, <=, size);
}

/* The node at @off: its type, and the SMMUv3 base or 0. */
static uint8_t iort_node(Iort *io, uint32_t off, uint64_t *base)
{
    g_assert_cmpuint(off + 16, <=, io->len);
    *base = io->t[off] == IORT_SMMUV3 ? ldq_le_p(io->t + off + 16) : 0;
    return io->t[off];
}

/*
 * The root complex's ID mappings: @n of { RID base, count, SMMU base or
 * 0 for the ITS }, each one to one.
 */
static void iort_check_rc(Iort *io, const uint64_t (*want)[3], int n)
{
    uint32_t nodes = ldl_le_p(io->t + 36), off = ldl_le_p(io->t + 40);
    uint32_t i, maps;
    uint64_t base;
    const uint8_t *m;

    for (i = 0; i < nodes - 1; i++) {
        off += lduw_le_p(io->t + off + 1);
    }
    g_assert_cmpuint(iort_node(io, off, &base), ==, IORT_RC);
    maps = ldl_le_p(io->t + off + 8);
    g_assert_cmpuint(maps, ==, n);
    m = io->t + off + ldl_le_p(io->t + off + 12);
    for (i = 0; i < maps; i++, m += 20) {
        g_assert_cmphex(ldl_le_p(m), ==, want[i][0]);
        g_assert_cmphex(ldl_le_p(m + 4) + 1, ==, want[i][1]);
        g_assert_cmphex(ldl_le_p(m + 8), ==, want[i][0]);
        g_assert_cmpuint(iort_node(io, ldl_le_p(m + 12), &base), ==,
                         want[i][2] ? IORT_SMMUV3 : IORT_ITS);
        g_assert_cmphex(base, ==, want[i][2]);
    }
}

/* SMMUv3 nodes: at @bases, in this order, each mapped to the ITS. */
static void iort_check_smmus(Iort *io, const uint64_t *bases, int n)
{
    uint32_t nodes = ldl_le_p(io->t + 36), off = ldl_le_p(io->t + 40);
    uint64_t base;
    int i;

    g_assert_cmpuint(nodes, ==, n + 2);
    g_assert_cmpuint(iort_node(io, off, &base), ==, IORT_ITS);
    for (i = 0; i < n; i++) {
        off += lduw_le_p(io->t + off + 1);
        g_assert_cmpuint(iort_node(io, off, &base), ==, IORT_SMMUV3);
        g_assert_cmphex(base, ==, bases[i]);
        g_assert_cmpuint(ldl_le_p(io->t + off + 8), ==, 1);
        /* its only mapping: every StreamID to the ITS node */
        g_assert_cmphex(ldl_le_p(io->t + off + 68 + 12), ==,
                        ldl_le_p(io->t + 40));
    }
}

static void test_iort(void)
{
    Multi t;
    Iort io;

    multi_init(&t);
    iort_read(t.qts, &io);
    iort_check_smmus(&io, t.base, NSMMU);
    iort_check_rc(&io, (const uint64_t [][3]) {
        { 0, PXB_BUS << 8, t.base[0] },
        { PXB_BUS << 8, 0x10000 - (PXB_BUS << 8), t.base[1] },
    }, 2);
    g_free(io.tables);
    multi_fini(&t);
}

/*
 * virt's own SMMU (iommu=smmuv3) on pcie.0 and one for the pxb: both in
 * the devicetree and IORT; with default-bus-bypass-iommu=on pcie.0 has
 * none, its RIDs match no iommu-map entry and go to the ITS in IORT.
 */
static void test_mixed(const void *opaque)
{
    bool builtin = GPOINTER_TO_INT(opaque);
    QTestState *qts;
    uint64_t base, bases[2] = { SMMU_VIRT_BASE };
    uint32_t ph = 0, ph1;
    Dtb d;
    Iort io;

    qts = qtest_initf(MACHINE "-M %s " PXB
                      "-device arm-smmuv3,primary-bus=pcie.1,id=smmu1",
                      builtin ? "iommu=smmuv3" :
                      "default-bus-bypass-iommu=on");
    base = vnest_qom_get_uint(qts, smmu_path[1], "x-virt-base");
    bases[builtin] = base;
    dtb_dump(qts, &d);
    ph1 = dtb_check_smmu(&d, base);
    iort_read(qts, &io);
    iort_check_smmus(&io, bases, 1 + builtin);
    if (builtin) {
        ph = dtb_cell(&d, "/smmuv3@9050000", "phandle");
        dtb_check_map(&d, (const uint32_t [][4]) {
            { 0, ph, 0, PXB_BUS << 8 },
            { PXB_BUS << 8, ph1, PXB_BUS << 8, 0x10000 - (PXB_BUS << 8) },
        }, 2);
    } else {
        dtb_check_map(&d, (const uint32_t [][4]) {
            { PXB_BUS << 8, ph1, PXB_BUS << 8, 0x10000 - (PXB_BUS << 8) },
        }, 1);
    }
    iort_check_rc(&io, (const uint64_t [][3]) {
        { 0, PXB_BUS << 8, builtin ? SMMU_VIRT_BASE : 0 },
        { PXB_BUS << 8, 0x10000 - (PXB_BUS << 8), base },
    }, 2);
    g_free(io.tables);
    g_free(d.blob);
    qtest_quit(qts);
}

/*
 * What libvirt 12.x probes before it takes <driver pciBus=...>: an
 * smmu_per_bus property in device-list-properties; true on a -device
 * instance.
 */
static void test_per_bus_property(void)
{
    QTestState *qts = qtest_init(MACHINE PXB
                                 "-device arm-smmuv3,primary-bus=pcie.1,"
                                 "id=smmu1");
    QDict *rsp;
    QListEntry *e;
    bool listed = false;

    rsp = qtest_qmp(qts, "{'execute': 'device-list-properties',"
                    " 'arguments': {'typename': 'arm-smmuv3'}}");
    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *prop = qobject_to(QDict, qlist_entry_obj(e));

        listed |= !strcmp(qdict_get_str(prop, "name"), "smmu_per_bus");
    }
    qobject_unref(rsp);
    g_assert_true(listed);
    rsp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {'path': %s,"
                    " 'property': 'smmu_per_bus'}}", smmu_path[1]);
    g_assert_true(qdict_get_bool(rsp, "return"));
    qobject_unref(rsp);
    qtest_quit(qts);
}

/* ---- refused ---- */

typedef struct Refusal {
    const char *name;
    const char *args;
    const char *error;          /* in what QEMU prints */
} Refusal;

static const Refusal refusals[] = {
    { "builtin-same-bus", "-M iommu=smmuv3 "
      "-device arm-smmuv3,primary-bus=pcie.0",
      "-M virt,iommu=smmuv3 has an SMMUv3 on pcie.0 already" },
    { "two-on-one-bus", "-device arm-smmuv3,primary-bus=pcie.0,id=smmu0 "
      "-device arm-smmuv3,primary-bus=pcie.0,id=smmu1",
      "pcie.0 is translated by smmu0 already" },
    { "no-primary-bus", "-device arm-smmuv3",
      "primary-bus is missing" },
    { "not-root-bus", "-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1 "
      "-device arm-smmuv3,primary-bus=rp0",
      "primary-bus 'rp0' is not a PCIe root bus" },
    { "device-before", "-device vnest-dma-test,id=dma0,bus=pcie.0 "
      "-device arm-smmuv3,primary-bus=pcie.0",
      "pcie.0 has device 'dma0' already" },
    { "bypass-bus", "-M default-bus-bypass-iommu=on "
      "-device arm-smmuv3,primary-bus=pcie.0",
      "pcie.0 bypasses IOMMUs" },
    /* x-s2fwb describes a stage 2: -device arm-smmuv3 is stage 1 */
    { "s2fwb-stage-1", "-device arm-smmuv3,primary-bus=pcie.0,x-s2fwb=on",
      "x-s2fwb=on needs stage 2 translation: use stage=nested" },
};

/* QEMU must exit with @r->error (else it dumps its dtb and exits 0). */
static void test_refused(const void *opaque)
{
    const Refusal *r = opaque;
    g_autofree char *dtb = NULL, *cmd = NULL;
    g_auto(GStrv) argv = NULL;
    g_autofree char *out = NULL, *err = NULL;
    int status, fd = g_file_open_tmp("virt-smmu-XXXXXX.dtb", &dtb, NULL);

    g_assert(fd >= 0);
    close(fd);
    cmd = g_strdup_printf("%s " MACHINE "-display none -M dumpdtb=%s %s",
                          g_getenv("QTEST_QEMU_BINARY"), dtb, r->args);
    g_assert(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    g_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                          &out, &err, &status, NULL));
    unlink(dtb);
    if (!strstr(err, r->error)) {
        g_error("%s: expected \"%s\", QEMU said: %s", r->name, r->error,
                err);
    }
    g_assert(WIFEXITED(status) && WEXITSTATUS(status));
}

/* device_add after start-up: refused, never half-plugged. */
static void test_hotplug_refused(void)
{
    QTestState *qts = qtest_init(MACHINE PXB);
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments':"
                           " { 'driver': 'arm-smmuv3',"
                           "   'primary-bus': 'pcie.1' } }");

    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vnest/virt-smmu/plug", test_plug);
    qtest_add_func("/vnest/virt-smmu/renumber", test_renumber);
    qtest_add_func("/vnest/virt-smmu/s1-isolated", test_s1_isolated);
    qtest_add_func("/vnest/virt-smmu/ste-isolated", test_ste_isolated);
    qtest_add_func("/vnest/virt-smmu/dt", test_dt);
    qtest_add_func("/vnest/virt-smmu/iort", test_iort);
    qtest_add_func("/vnest/virt-smmu/per-bus-property", test_per_bus_property);
    qtest_add_data_func("/vnest/virt-smmu/mixed/builtin", GINT_TO_POINTER(1),
                        test_mixed);
    qtest_add_data_func("/vnest/virt-smmu/mixed/bypass", GINT_TO_POINTER(0),
                        test_mixed);
    for (i = 0; i < ARRAY_SIZE(refusals); i++) {
        g_autofree char *name = g_strdup_printf("/vnest/virt-smmu/refused/%s",
                                                refusals[i].name);

        qtest_add_data_func(name, &refusals[i], test_refused);
    }
    qtest_add_func("/vnest/virt-smmu/refused/hotplug", test_hotplug_refused);
    return g_test_run();
}
