/*
 * VNest qtest: s390 zPCI RPCIT over iommufd on the emulated host
 *
 * -M s390-ccw-virtio, a vnest-dma-test device behind zpci, assigned
 * through the emulated host (host-iommu=paging, as s390 hosts are). The
 * test is the guest: it enables the function (CLP), builds region /
 * segment / page tables in guest memory, registers them (MPCIFC) and
 * refreshes (RPCIT). A qtest runs no guest code, so the instructions go
 * through the zpci device's x-insn property, which calls the same
 * service-call functions as the instruction handlers with the operands in
 * registers (hw/zpci-iommufd/zpci-insn-test.c). The device's DMA is
 * translated only by the emulated host's IOAS, so a DMA landing where the
 * guest's table says proves the refresh reached the host; the zpci
 * device's x-iommufd-* counters say how many host calls it took.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "tests/qtest/libqtest.h"
#include "vnest-qtest.h"

#define ZPCI            "/machine/peripheral/zpci1"
#define ZPCI2           "/machine/peripheral/zpci2"
#define EMU             "/objects/emu0"
#define PAGE            UINT64_C(4096)

/* Guest memory layout */
#define RT_ADDR         UINT64_C(0x100000)     /* region-third table, 16 KiB */
#define ST_ADDR         UINT64_C(0x104000)     /* segment table, 16 KiB */
#define PT_ADDR         UINT64_C(0x108000)     /* page table, 2 KiB */
#define FIB_ADDR        UINT64_C(0x10c000)
#define CLP_ADDR        UINT64_C(0x10d000)
#define TABLES2         UINT64_C(0x100000)     /* the second function's */
#define DATA_ADDR       UINT64_C(0x400000)     /* pages the tables point at */

/* DMA aperture: zPCI's emulated functions start DMA at 4 GiB */
#define IOVA            UINT64_C(0x100000000)
#define APERTURE        (UINT64_C(64) << 20)

/* Table entries (z/Architecture PCI DMA translation) */
#define TE_INVALID      UINT64_C(0x20)         /* region and segment entries */
#define RTE_RTX_FULL    UINT64_C(0x7)          /* type region-third, length 3 */
#define PTE_INVALID     UINT64_C(0x400)
#define STE_FC          UINT64_C(0x400)         /* a 1 MiB frame */
#define TE_PROTECTED    UINT64_C(0x200)
#define IOTA_RTTO       UINT64_C(0x804)        /* translation on, DT region-third */

/* zPCI instructions */
#define CLP_SET_PCI_FN  5
#define CLP_RC_OK       0x10
#define CLP_ENABLE      0
#define CLP_DISABLE     1
#define MPCIFC_REG_IOAT 4
#define MPCIFC_DEREG_IOAT 5
#define MPCIFC_REREG_IOAT 6
#define CONFIG_AS       15
#define ST_INSUFF_RES   16
#define ST_FUNC_IN_ERR  8
#define ST_ERROR_RECOVER 40
#define CC_INVAL_HANDLE 3

/* vnest-dma-test BAR 0 */
#define DT_ADDR_LO      0x08
#define DT_ADDR_HI      0x0c
#define DT_LEN          0x10
#define DT_PASID        0x14
#define DT_CMD          0x18
#define DT_STATUS       0x1c
#define DT_BUF          0x1000
#define DT_TO_MEM       1
#define DT_DONE         0x1
#define DT_FAULT        0x2
#define DMA_LEN         16

typedef struct Zpci {
    QTestState *qts;
    const char *path;           /* QOM path of the zpci device */
    uint64_t tables;            /* its tables are this far above RT_ADDR */
    uint32_t fh;                /* enabled function handle */
} Zpci;

typedef struct Insn {
    unsigned cc;
    uint64_t r1, r2, r3;
} Insn;

static Insn insn(Zpci *z, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static Insn insn(Zpci *z, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_autofree char *res = NULL;
    va_list ap;
    QDict *rsp;
    Insn r;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    rsp = qtest_qmp(z->qts, "{ 'execute': 'qom-set', 'arguments':"
                    " { 'path': %s, 'property': 'x-insn', 'value': %s } }",
                    z->path, cmd);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    res = vnest_qom_get_str(z->qts, z->path, "x-insn-result");
    g_assert_cmpint(sscanf(res, "%u %" SCNx64 " %" SCNx64 " %" SCNx64,
                           &r.cc, &r.r1, &r.r2, &r.r3), ==, 4);
    return r;
}

/* The status an instruction left in its first operand register */
static unsigned insn_status(Insn r)
{
    return (r.r1 >> 24) & 0xff;
}

static uint64_t zstat(Zpci *z, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-iommufd-%s", name);

    return vnest_qom_get_uint(z->qts, z->path, prop);
}

/* ---- the function: enable, BAR access ---- */

/* CLP SET PCI FUNCTION: @oc on the function, which gets a new handle */
static void clp_set_pci_fn(Zpci *z, uint8_t oc)
{
    uint8_t blk[64] = { 0 };
    uint32_t fh = vnest_qom_get_uint(z->qts, z->path, "x-fh");
    Insn r;

    stw_be_p(blk, 32);                  /* request: length, command */
    stw_be_p(blk + 2, CLP_SET_PCI_FN);
    stl_be_p(blk + 16, fh);
    blk[22] = oc;
    blk[23] = 1;                        /* one DMA address space */
    stw_be_p(blk + 32, 32);             /* response length */
    qtest_memwrite(z->qts, CLP_ADDR + z->tables, blk, sizeof(blk));
    r = insn(z, "clp 0x%" PRIx64, CLP_ADDR + z->tables);
    g_assert_cmpuint(r.cc, ==, 0);
    qtest_memread(z->qts, CLP_ADDR + z->tables, blk, sizeof(blk));
    g_assert_cmphex(lduw_be_p(blk + 34), ==, CLP_RC_OK);
    z->fh = ldl_be_p(blk + 48);
}

static uint64_t as_reg(Zpci *z, unsigned as, unsigned len)
{
    return (uint64_t)z->fh << 32 | as << 16 | len;
}

/*
 * PCI memory is little-endian: PCISTG and PCILG move the register's bytes
 * in order, so a register holds a value byte-swapped (as Linux's zpci
 * accessors swap it).
 */
static uint64_t pci_swap(uint64_t val, unsigned len)
{
    return len == 8 ? bswap64(val) : len == 4 ? bswap32(val) : bswap16(val);
}

static void bar_write(Zpci *z, uint64_t off, uint64_t val, unsigned len)
{
    Insn r;

    val = pci_swap(val, len);
    r = insn(z, "pcistg 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64, val,
                  as_reg(z, 0, len), off);

    g_assert_cmpuint(r.cc, ==, 0);
}

static uint64_t bar_read(Zpci *z, uint64_t off, unsigned len)
{
    Insn r = insn(z, "pcilg 0x%" PRIx64 " 0x%" PRIx64, as_reg(z, 0, len),
                  off);

    g_assert_cmpuint(r.cc, ==, 0);
    return pci_swap(r.r1, len);
}

static void bus_master_on(Zpci *z)
{
    Insn r = insn(z, "pcistg 0x%" PRIx64 " 0x%" PRIx64 " 0x4", pci_swap(0x6, 2),
                  as_reg(z, CONFIG_AS, 2));

    g_assert_cmpuint(r.cc, ==, 0);
}

/* The device writes DMA_LEN bytes of pattern @seed to @iova: STATUS */
static uint32_t dma_write(Zpci *z, uint64_t iova, uint8_t seed)
{
    uint8_t pat[DMA_LEN];
    int i;

    for (i = 0; i < DMA_LEN; i++) {
        pat[i] = seed + i;
    }
    bar_write(z, DT_BUF, ldq_le_p(pat), 8);
    bar_write(z, DT_BUF + 8, ldq_le_p(pat + 8), 8);
    bar_write(z, DT_ADDR_LO, (uint32_t)iova, 4);
    bar_write(z, DT_ADDR_HI, iova >> 32, 4);
    bar_write(z, DT_LEN, DMA_LEN, 4);
    bar_write(z, DT_PASID, 0, 4);
    bar_write(z, DT_CMD, DT_TO_MEM, 4);
    return bar_read(z, DT_STATUS, 4);
}

/* Whether pattern @seed is at guest address @gpa */
static bool landed(Zpci *z, uint64_t gpa, uint8_t seed)
{
    uint8_t got[DMA_LEN];
    int i;

    qtest_memread(z->qts, gpa, got, sizeof(got));
    for (i = 0; i < DMA_LEN; i++) {
        if (got[i] != (uint8_t)(seed + i)) {
            return false;
        }
    }
    return true;
}

static void assert_lands(Zpci *z, uint64_t iova, uint64_t gpa, uint8_t seed)
{
    qtest_memset(z->qts, gpa, 0, DMA_LEN);
    g_assert_cmphex(dma_write(z, iova, seed), ==, DT_DONE);
    g_assert_true(landed(z, gpa, seed));
}

static void assert_refused(Zpci *z, uint64_t iova)
{
    g_assert_cmphex(dma_write(z, iova, 0x5a), ==, DT_DONE | DT_FAULT);
}

/* ---- the guest's tables ---- */

static void table_fill(Zpci *z, uint64_t addr, unsigned n, uint64_t te)
{
    g_autofree uint8_t *buf = g_malloc(n * 8);
    unsigned i;

    for (i = 0; i < n; i++) {
        stq_be_p(buf + i * 8, te);
    }
    qtest_memwrite(z->qts, addr, buf, n * 8);
}

/* IOVA page @i (from IOVA) translates to @gpa with @flags */
static void pte(Zpci *z, unsigned i, uint64_t gpa, uint64_t flags)
{
    qtest_writeq(z->qts, PT_ADDR + z->tables + i * 8, gpa | flags);
}

static void pte_clear(Zpci *z, unsigned i)
{
    qtest_writeq(z->qts, PT_ADDR + z->tables + i * 8, PTE_INVALID);
}

static void tables_init(Zpci *z)
{
    table_fill(z, RT_ADDR + z->tables, 2048, TE_INVALID);
    table_fill(z, ST_ADDR + z->tables, 2048, TE_INVALID);
    table_fill(z, PT_ADDR + z->tables, 256, PTE_INVALID);
    qtest_writeq(z->qts, RT_ADDR + z->tables + (IOVA >> 31) * 8,
                 (ST_ADDR + z->tables) | RTE_RTX_FULL);
    qtest_writeq(z->qts, ST_ADDR + z->tables + ((IOVA >> 20) & 0x7ff) * 8,
                 PT_ADDR + z->tables);
}

static Insn mpcifc(Zpci *z, unsigned oc, uint64_t iota)
{
    uint8_t fib[64] = { 0 };

    stq_be_p(fib + 16, IOVA);
    stq_be_p(fib + 24, IOVA + APERTURE - 1);
    stq_be_p(fib + 32, iota);
    qtest_memwrite(z->qts, FIB_ADDR + z->tables, fib, sizeof(fib));
    return insn(z, "mpcifc 0x%" PRIx64 " 0x%" PRIx64,
                (uint64_t)z->fh << 32 | oc, FIB_ADDR + z->tables);
}

static void register_tables(Zpci *z)
{
    uint64_t iota = (RT_ADDR + z->tables) | IOTA_RTTO;

    g_assert_cmpuint(mpcifc(z, MPCIFC_REG_IOAT, iota).cc, ==, 0);
}

/* RPCIT of @n pages from IOVA page @first */
static Insn rpcit(Zpci *z, unsigned first, unsigned n)
{
    return insn(z, "rpcit 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64,
                (uint64_t)z->fh << 32, IOVA + first * PAGE, n * PAGE);
}

static void rpcit_ok(Zpci *z, unsigned first, unsigned n)
{
    g_assert_cmpuint(rpcit(z, first, n).cc, ==, 0);
}

static uint64_t iova(unsigned page)
{
    return IOVA + page * PAGE;
}

static uint64_t data(unsigned page)
{
    return DATA_ADDR + page * PAGE;
}

/* ---- fixture ---- */

/* Enable the function, turn on bus mastering, register empty tables */
static void zpci_setup(Zpci *z)
{
    clp_set_pci_fn(z, CLP_ENABLE);
    bus_master_on(z);
    tables_init(z);
    register_tables(z);
}

static void zpci_start(Zpci *z, const char *zpci_opts)
{
    z->path = ZPCI;
    z->tables = 0;
    z->qts = qtest_initf("-M s390-ccw-virtio -m 256M -nodefaults "
                         "-object iommufd,id=emu0,emulated=on,"
                         "host-iommu=paging "
                         "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                         "device=dev0 "
                         "-device zpci,uid=1,fid=1,target=dev0,id=zpci1%s "
                         "-device vnest-dma-test,id=dev0,msix=on", zpci_opts);
    zpci_setup(z);
}

static void zpci_stop(Zpci *z)
{
    qtest_quit(z->qts);
}

/* ---- cases ---- */

/* N contiguous pages: one host map; DMA lands there and nowhere else */
static void test_contiguous(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 64; i++) {
        pte(&z, i, data(i), 0);
    }
    rpcit_ok(&z, 0, 64);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zstat(&z, "map-pages"), ==, 64);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 1);
    assert_lands(&z, iova(0), data(0), 0x10);
    assert_lands(&z, iova(37) + 0x123, data(37) + 0x123, 0x20);
    assert_lands(&z, iova(63), data(63), 0x30);
    assert_refused(&z, iova(64));
    assert_refused(&z, iova(200));
    /* Unchanged pages cost nothing */
    rpcit_ok(&z, 0, 256);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zstat(&z, "unmaps"), ==, 0);
    zpci_stop(&z);
}

/*
 * A whole-aperture refresh (Linux's lazy flush): the 63 invalid segment
 * entries are skipped, the one run costs one map
 */
static void test_whole_aperture(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 4; i++) {
        pte(&z, i, data(i), 0);
    }
    rpcit_ok(&z, 0, APERTURE / PAGE);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zstat(&z, "map-pages"), ==, 4);
    assert_lands(&z, iova(3), data(3), 0xb0);
    /* Partly outside the aperture: clamped to it, the table beyond unread */
    qtest_writeq(z.qts, ST_ADDR + (((IOVA + APERTURE) >> 20) & 0x7ff) * 8,
                 PT_ADDR);
    rpcit_ok(&z, 0, 2 * APERTURE / PAGE);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 1);
    zpci_stop(&z);
}

/* A segment entry with FC: a 1 MiB frame is one map of 256 pages */
static void test_segment_frame(void)
{
    uint64_t frame = UINT64_C(0x1000000);
    Zpci z;

    zpci_start(&z, "");
    qtest_writeq(z.qts, ST_ADDR + (((IOVA >> 20) + 1) & 0x7ff) * 8,
                 frame | STE_FC);
    rpcit_ok(&z, 256, 256);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 1);
    g_assert_cmpuint(zstat(&z, "map-pages"), ==, 256);
    assert_lands(&z, iova(256) + 0x5000, frame + 0x5000, 0xc0);
    assert_refused(&z, iova(512));
    zpci_stop(&z);
}

/* Scattered pages: one host map per run; read-only is its own run */
static void test_scattered(void)
{
    Zpci z;

    zpci_start(&z, "");
    pte(&z, 0, data(10), 0);
    pte(&z, 1, data(11), 0);
    pte(&z, 2, data(12), 0);
    pte(&z, 3, data(40), 0);            /* guest address jumps */
    pte(&z, 4, data(41), TE_PROTECTED); /* permission changes */
    pte(&z, 6, data(42), 0);            /* IOVA hole at 5 */
    rpcit_ok(&z, 0, 16);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 4);
    g_assert_cmpuint(zstat(&z, "map-pages"), ==, 6);
    assert_lands(&z, iova(2), data(12), 0x40);
    assert_lands(&z, iova(3), data(40), 0x41);
    assert_refused(&z, iova(4));        /* read-only */
    assert_refused(&z, iova(5));
    assert_lands(&z, iova(6), data(42), 0x42);
    zpci_stop(&z);
}

/* Vanished runs: one host unmap for the group; DMA refused after */
static void test_unmap_coalesced(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 32; i++) {
        pte(&z, i, data(i * 2), 0);     /* 32 runs of one page */
    }
    rpcit_ok(&z, 0, 32);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 32);
    for (i = 0; i < 32; i++) {
        pte_clear(&z, i);
    }
    rpcit_ok(&z, 0, 32);
    g_assert_cmpuint(zstat(&z, "unmaps"), ==, 1);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 0);
    assert_refused(&z, iova(0));
    assert_refused(&z, iova(31));
    zpci_stop(&z);
}

/* A changed translation is stale until refreshed, then replaced */
static void test_stale_until_refresh(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 8; i++) {
        pte(&z, i, data(i), 0);
    }
    rpcit_ok(&z, 0, 8);
    pte(&z, 3, data(100), 0);
    assert_lands(&z, iova(3), data(3), 0x50);       /* stale */
    rpcit_ok(&z, 3, 1);
    assert_lands(&z, iova(3), data(100), 0x51);
    /* The run left whole and its outer parts came back */
    assert_lands(&z, iova(2), data(2), 0x52);
    assert_lands(&z, iova(7), data(7), 0x53);
    g_assert_cmpuint(zstat(&z, "unmaps"), ==, 1);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 1 + 3);
    zpci_stop(&z);
}

/* Host out of resources: insufficient resources, then a retry works */
static void test_enomem_retry(void)
{
    Zpci z;
    uint64_t objects;
    Insn r;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 16; i++) {
        pte(&z, i, data(i), 0);
    }
    objects = vnest_qom_get_uint(z.qts, EMU, "x-objects");
    vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", 1);
    r = rpcit(&z, 0, 16);
    g_assert_cmpuint(r.cc, ==, 1);
    g_assert_cmpuint(insn_status(r), ==, ST_INSUFF_RES);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 0);
    assert_refused(&z, iova(0));
    g_assert_cmpuint(vnest_qom_get_uint(z.qts, EMU, "x-objects"), ==,
                     objects);
    rpcit_ok(&z, 0, 16);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 1);
    assert_lands(&z, iova(15), data(15), 0x60);
    zpci_stop(&z);
}

/* Deregistration empties the IOAS of the function's mappings */
static void test_deregister(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, "");
    for (i = 0; i < 8; i++) {
        pte(&z, i, data(i), 0);
    }
    rpcit_ok(&z, 0, 8);
    assert_lands(&z, iova(1), data(1), 0x70);
    g_assert_cmpuint(mpcifc(&z, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 0);
    assert_refused(&z, iova(1));
    /* A new registration starts empty */
    register_tables(&z);
    assert_refused(&z, iova(1));
    rpcit_ok(&z, 0, 8);
    assert_lands(&z, iova(1), data(1), 0x71);
    zpci_stop(&z);
}

/*
 * Bad guest input: each case breaks one thing the guest controls; the
 * RPCIT ends with the function in the error state (cc 1, status 8), no
 * host call is made, and the next RPCIT finds the function in error.
 */
typedef struct BadCase {
    const char *name;
    uint64_t addr;              /* guest address to overwrite, 0: none */
    uint64_t value;
    unsigned page, npages;      /* the refresh */
} BadCase;

#define RTE_SLOT        (RT_ADDR + (IOVA >> 31) * 8)
#define STE_SLOT        (ST_ADDR + ((IOVA >> 20) & 0x7ff) * 8)

static const BadCase bad_cases[] = {
    /* region-third entry: table length 0, offset not 0, type, zero */
    { "rte-length", RTE_SLOT, ST_ADDR | 0x4, 0, 1 },
    { "rte-offset", RTE_SLOT, ST_ADDR | RTE_RTX_FULL | 0x40, 0, 1 },
    { "rte-type", RTE_SLOT, ST_ADDR | 0x3, 0, 1 },
    { "rte-zero", RTE_SLOT, 0, 0, 1 },
    /* a segment table beyond guest RAM (256 MiB) */
    { "st-outside-ram", RTE_SLOT, UINT64_C(0x40000000000) | RTE_RTX_FULL,
      0, 1 },
    /* segment entry: region type, zero origin, zero */
    { "ste-type", STE_SLOT, PT_ADDR | 0x4, 0, 1 },
    { "ste-no-origin", STE_SLOT, 0x100, 0, 1 },
    { "ste-zero", STE_SLOT, 0, 0, 1 },
    /* a page-table entry of zero */
    { "pte-zero", PT_ADDR + 5 * 8, 0, 0, 8 },
    /* a range entirely outside the aperture */
    { "outside-aperture", 0, 0, APERTURE / PAGE + 16, 1 },
};

static void test_bad_input(const void *opaque)
{
    const BadCase *c = opaque;
    Zpci z;
    Insn r;

    zpci_start(&z, "");
    if (c->addr) {
        qtest_writeq(z.qts, c->addr, c->value);
    }
    r = rpcit(&z, c->page, c->npages);
    g_assert_cmpuint(r.cc, ==, 1);
    g_assert_cmpuint(insn_status(r), ==, ST_FUNC_IN_ERR);
    g_assert_cmpuint(zstat(&z, "maps"), ==, 0);
    r = rpcit(&z, 0, 1);
    g_assert_cmpuint(r.cc, ==, 1);
    g_assert_cmpuint(insn_status(r), ==, ST_ERROR_RECOVER);
    zpci_stop(&z);
}

/*
 * Host failure sweep: the Nth emulated-host operation of a refresh fails
 * (ENOMEM), for every N until the refresh gets through. Each failure is
 * "insufficient resources"; the runs that reached the host take DMA and
 * the others do not; the guest's retry maps the rest; nothing leaks.
 */
static const unsigned sweep_pages[][3] = {
    /* IOVA page, guest page, pages */
    { 0, 0, 4 }, { 8, 20, 2 }, { 12, 30, 1 }, { 14, 40, 2 },
};

static void sweep_tables(Zpci *z)
{
    unsigned i, j;

    for (i = 0; i < ARRAY_SIZE(sweep_pages); i++) {
        for (j = 0; j < sweep_pages[i][2]; j++) {
            pte(z, sweep_pages[i][0] + j, data(sweep_pages[i][1] + j), 0);
        }
    }
}

static void sweep_check(Zpci *z, unsigned mapped)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(sweep_pages); i++) {
        if (i < mapped) {
            assert_lands(z, iova(sweep_pages[i][0]),
                         data(sweep_pages[i][1]), 0x90 + i);
        } else {
            assert_refused(z, iova(sweep_pages[i][0]));
        }
    }
}

static void test_fail_nth_sweep(void)
{
    unsigned n;
    bool hit = true;

    for (n = 1; hit; n++) {
        g_autofree char *site = NULL;
        uint64_t objects;
        Zpci z;
        Insn r;

        zpci_start(&z, "");
        sweep_tables(&z);
        objects = vnest_qom_get_uint(z.qts, EMU, "x-objects");
        vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", n);
        r = rpcit(&z, 0, 16);
        site = vnest_qom_get_str(z.qts, EMU, "x-fail-site");
        vnest_qom_set_uint(z.qts, EMU, "x-fail-nth", 0);
        hit = site[0];
        if (hit) {
            g_test_message("fail-nth %u hit %s", n, site);
            g_assert_cmpuint(r.cc, ==, 1);
            g_assert_cmpuint(insn_status(r), ==, ST_INSUFF_RES);
            g_assert_cmpuint(zstat(&z, "runs"), <, ARRAY_SIZE(sweep_pages));
            sweep_check(&z, zstat(&z, "runs"));
            rpcit_ok(&z, 0, 16);
        } else {
            g_assert_cmpuint(r.cc, ==, 0);
        }
        g_assert_cmpuint(zstat(&z, "runs"), ==, ARRAY_SIZE(sweep_pages));
        sweep_check(&z, ARRAY_SIZE(sweep_pages));
        g_assert_cmpuint(mpcifc(&z, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
        sweep_check(&z, 0);
        g_assert_cmpuint(vnest_qom_get_uint(z.qts, EMU, "x-objects"), ==,
                         objects);
        zpci_stop(&z);
    }
    g_assert_cmpuint(n, >, 2);
}

/*
 * Two functions, each with its own IOAS and tables: each one's DMA goes
 * where its own table says, and deregistering one leaves the other
 */
static void test_two_functions(void)
{
    Zpci a = { .path = ZPCI, .tables = 0 };
    Zpci b = { .path = ZPCI2, .tables = TABLES2 };

    a.qts = b.qts = qtest_init("-M s390-ccw-virtio -m 256M -nodefaults "
                               "-object iommufd,id=emu0,emulated=on,"
                               "host-iommu=paging "
                               "-object vnest-sim-assign,id=sa0,"
                               "iommufd=emu0,device=dev0 "
                               "-object vnest-sim-assign,id=sa1,"
                               "iommufd=emu0,device=dev1 "
                               "-device zpci,uid=1,fid=1,target=dev0,"
                               "id=zpci1 "
                               "-device zpci,uid=2,fid=2,target=dev1,"
                               "id=zpci2 "
                               "-device vnest-dma-test,id=dev0,msix=on "
                               "-device vnest-dma-test,id=dev1,msix=on");
    g_assert_cmpuint(vnest_qom_get_uint(a.qts, "/objects/sa0", "ioas-id"),
                     !=, vnest_qom_get_uint(a.qts, "/objects/sa1",
                                            "ioas-id"));
    zpci_setup(&a);
    zpci_setup(&b);
    pte(&a, 0, data(1), 0);
    pte(&b, 0, data(2), 0);
    rpcit_ok(&a, 0, 1);
    assert_refused(&b, iova(0));        /* b has not refreshed yet */
    rpcit_ok(&b, 0, 1);
    assert_lands(&a, iova(0), data(1), 0xd0);
    assert_lands(&b, iova(0), data(2), 0xd1);
    g_assert_cmpuint(mpcifc(&a, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
    assert_refused(&a, iova(0));
    assert_lands(&b, iova(0), data(2), 0xd2);
    qtest_quit(a.qts);
}

/*
 * Reregistration at another table address: the old mappings leave, and
 * the new table's take effect at the next refresh
 */
static void test_reregister(void)
{
    Zpci z;
    uint64_t iota = (RT_ADDR + TABLES2) | IOTA_RTTO;

    zpci_start(&z, "");
    pte(&z, 0, data(1), 0);
    rpcit_ok(&z, 0, 1);
    assert_lands(&z, iova(0), data(1), 0xe0);
    /* A second set of tables, translating page 0 elsewhere */
    z.tables = TABLES2;
    tables_init(&z);
    pte(&z, 0, data(3), 0);
    g_assert_cmpuint(mpcifc(&z, MPCIFC_REREG_IOAT, iota).cc, ==, 0);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 0);
    assert_refused(&z, iova(0));
    rpcit_ok(&z, 0, 1);
    assert_lands(&z, iova(0), data(3), 0xe1);
    zpci_stop(&z);
}

/* Disable (CLP) and reset leave the IOAS empty of the function's pages */
static void test_disable_reset(void)
{
    Zpci z;
    unsigned i;
    QDict *rsp;

    zpci_start(&z, "");
    for (i = 0; i < 8; i++) {
        pte(&z, i, data(i), 0);
    }
    rpcit_ok(&z, 0, 8);
    clp_set_pci_fn(&z, CLP_DISABLE);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 0);
    g_assert_cmpuint(zstat(&z, "unmaps"), ==, 1);
    /* A refresh on a disabled function: invalid handle */
    g_assert_cmpuint(rpcit(&z, 0, 8).cc, ==, CC_INVAL_HANDLE);
    g_assert_cmpuint(zstat(&z, "rpcits"), ==, 1);

    clp_set_pci_fn(&z, CLP_ENABLE);
    bus_master_on(&z);
    register_tables(&z);
    rpcit_ok(&z, 0, 8);
    assert_lands(&z, iova(4), data(4), 0xa0);
    rsp = qtest_qmp(z.qts, "{ 'execute': 'system_reset' }");
    qobject_unref(rsp);
    g_assert_cmpuint(zstat(&z, "runs"), ==, 0);
    g_assert_cmpuint(zstat(&z, "unmaps"), ==, 2);
    zpci_stop(&z);
}

/* x-rpcit-per-page=on: QEMU 10.0's path, which this module bypasses */
static void test_per_page(void)
{
    Zpci z;
    unsigned i;

    zpci_start(&z, ",x-rpcit-per-page=on");
    for (i = 0; i < 8; i++) {
        pte(&z, i, data(i), 0);
    }
    rpcit_ok(&z, 0, 8);
    g_assert_cmpuint(zstat(&z, "rpcits"), ==, 0);
    assert_lands(&z, iova(5), data(5), 0x80);
    zpci_stop(&z);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vnest/zpci-iommufd/contiguous", test_contiguous);
    qtest_add_func("/vnest/zpci-iommufd/scattered", test_scattered);
    qtest_add_func("/vnest/zpci-iommufd/whole-aperture", test_whole_aperture);
    qtest_add_func("/vnest/zpci-iommufd/segment-frame", test_segment_frame);
    qtest_add_func("/vnest/zpci-iommufd/unmap-coalesced",
                   test_unmap_coalesced);
    qtest_add_func("/vnest/zpci-iommufd/stale-until-refresh",
                   test_stale_until_refresh);
    qtest_add_func("/vnest/zpci-iommufd/enomem-retry", test_enomem_retry);
    qtest_add_func("/vnest/zpci-iommufd/deregister", test_deregister);
    for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        g_autofree char *name =
            g_strdup_printf("/vnest/zpci-iommufd/bad-input/%s",
                            bad_cases[i].name);

        qtest_add_data_func(name, &bad_cases[i], test_bad_input);
    }
    qtest_add_func("/vnest/zpci-iommufd/fail-nth-sweep",
                   test_fail_nth_sweep);
    qtest_add_func("/vnest/zpci-iommufd/disable-reset", test_disable_reset);
    qtest_add_func("/vnest/zpci-iommufd/two-functions", test_two_functions);
    qtest_add_func("/vnest/zpci-iommufd/reregister", test_reregister);
    qtest_add_func("/vnest/zpci-iommufd/per-page", test_per_page);
    return g_test_run();
}
