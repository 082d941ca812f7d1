/*
 * VNest qtest helpers: an s390 guest's zPCI driver (zpci-guest.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "zpci-guest.h"
#include "vnest-qtest.h"

Insn zpci_insn(Zpci *z, const char *fmt, ...)
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
unsigned zpci_insn_status(Insn r)
{
    return (r.r1 >> 24) & 0xff;
}

uint64_t zpci_stat(Zpci *z, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-iommufd-%s", name);

    return vnest_qom_get_uint(z->qts, z->path, prop);
}

/* ---- the function: enable, BAR access ---- */

/* CLP SET PCI FUNCTION: @oc on the function, which gets a new handle */
void zpci_clp_set_pci_fn(Zpci *z, uint8_t oc)
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
    r = zpci_insn(z, "clp 0x%" PRIx64, CLP_ADDR + z->tables);
    g_assert_cmpuint(r.cc, ==, 0);
    qtest_memread(z->qts, CLP_ADDR + z->tables, blk, sizeof(blk));
    g_assert_cmphex(lduw_be_p(blk + 34), ==, CLP_RC_OK);
    z->fh = ldl_be_p(blk + 48);
}

uint64_t zpci_as_reg(Zpci *z, unsigned as, unsigned len)
{
    return (uint64_t)z->fh << 32 | as << 16 | len;
}

/*
 * PCI memory is little-endian: PCISTG and PCILG move the register's bytes
 * in order, so a register holds a value byte-swapped (as Linux's zpci
 * accessors swap it).
 */
uint64_t zpci_pci_swap(uint64_t val, unsigned len)
{
    return len == 8 ? bswap64(val) : len == 4 ? bswap32(val) : bswap16(val);
}

void zpci_bar_write(Zpci *z, uint64_t off, uint64_t val, unsigned len)
{
    Insn r;

    val = zpci_pci_swap(val, len);
    r = zpci_insn(z, "pcistg 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64, val,
                  zpci_as_reg(z, 0, len), off);

    g_assert_cmpuint(r.cc, ==, 0);
}

uint64_t zpci_bar_read(Zpci *z, uint64_t off, unsigned len)
{
    Insn r = zpci_insn(z, "pcilg 0x%" PRIx64 " 0x%" PRIx64, zpci_as_reg(z, 0, len),
                  off);

    g_assert_cmpuint(r.cc, ==, 0);
    return zpci_pci_swap(r.r1, len);
}

void zpci_bus_master_on(Zpci *z)
{
    Insn r = zpci_insn(z, "pcistg 0x%" PRIx64 " 0x%" PRIx64 " 0x4", zpci_pci_swap(0x6, 2),
                  zpci_as_reg(z, CONFIG_AS, 2));

    g_assert_cmpuint(r.cc, ==, 0);
}

/* The device writes DMA_LEN bytes of pattern @seed to @iova: STATUS */
uint32_t zpci_dma_write(Zpci *z, uint64_t iova, uint8_t seed)
{
    uint8_t pat[DMA_LEN];
    int i;

    for (i = 0; i < DMA_LEN; i++) {
        pat[i] = seed + i;
    }
    zpci_bar_write(z, DT_BUF, ldq_le_p(pat), 8);
    zpci_bar_write(z, DT_BUF + 8, ldq_le_p(pat + 8), 8);
    zpci_bar_write(z, DT_ADDR_LO, (uint32_t)iova, 4);
    zpci_bar_write(z, DT_ADDR_HI, iova >> 32, 4);
    zpci_bar_write(z, DT_LEN, DMA_LEN, 4);
    zpci_bar_write(z, DT_PASID, 0, 4);
    zpci_bar_write(z, DT_CMD, DT_TO_MEM, 4);
    return zpci_bar_read(z, DT_STATUS, 4);
}

/* Whether pattern @seed is at guest address @gpa */
bool zpci_landed(Zpci *z, uint64_t gpa, uint8_t seed)
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

void zpci_assert_lands(Zpci *z, uint64_t iova, uint64_t gpa, uint8_t seed)
{
    qtest_memset(z->qts, gpa, 0, DMA_LEN);
    g_assert_cmphex(zpci_dma_write(z, iova, seed), ==, DT_DONE);
    g_assert_true(zpci_landed(z, gpa, seed));
}

void zpci_assert_refused(Zpci *z, uint64_t iova)
{
    g_assert_cmphex(zpci_dma_write(z, iova, 0x5a), ==, DT_DONE | DT_FAULT);
}

/* ---- the guest's tables ---- */

void zpci_table_fill(Zpci *z, uint64_t addr, unsigned n, uint64_t te)
{
    g_autofree uint8_t *buf = g_malloc(n * 8);
    unsigned i;

    for (i = 0; i < n; i++) {
        stq_be_p(buf + i * 8, te);
    }
    qtest_memwrite(z->qts, addr, buf, n * 8);
}

/* IOVA page @i (from IOVA) translates to @gpa with @flags */
void zpci_pte(Zpci *z, unsigned i, uint64_t gpa, uint64_t flags)
{
    qtest_writeq(z->qts, PT_ADDR + z->tables + i * 8, gpa | flags);
}

void zpci_pte_clear(Zpci *z, unsigned i)
{
    qtest_writeq(z->qts, PT_ADDR + z->tables + i * 8, PTE_INVALID);
}

void zpci_tables_init(Zpci *z)
{
    zpci_table_fill(z, RT_ADDR + z->tables, 2048, TE_INVALID);
    zpci_table_fill(z, ST_ADDR + z->tables, 2048, TE_INVALID);
    zpci_table_fill(z, PT_ADDR + z->tables, 256, PTE_INVALID);
    qtest_writeq(z->qts, RT_ADDR + z->tables + (IOVA >> 31) * 8,
                 (ST_ADDR + z->tables) | RTE_RTX_FULL);
    qtest_writeq(z->qts, ST_ADDR + z->tables + ((IOVA >> 20) & 0x7ff) * 8,
                 PT_ADDR + z->tables);
}

Insn zpci_mpcifc(Zpci *z, unsigned oc, uint64_t iota)
{
    uint8_t fib[64] = { 0 };

    stq_be_p(fib + 16, IOVA);
    stq_be_p(fib + 24, IOVA + APERTURE - 1);
    stq_be_p(fib + 32, iota);
    qtest_memwrite(z->qts, FIB_ADDR + z->tables, fib, sizeof(fib));
    return zpci_insn(z, "mpcifc 0x%" PRIx64 " 0x%" PRIx64,
                (uint64_t)z->fh << 32 | oc, FIB_ADDR + z->tables);
}

void zpci_register(Zpci *z)
{
    uint64_t iota = (RT_ADDR + z->tables) | IOTA_RTTO;

    g_assert_cmpuint(zpci_mpcifc(z, MPCIFC_REG_IOAT, iota).cc, ==, 0);
}

/* RPCIT of @n pages from IOVA page @first */
Insn zpci_rpcit(Zpci *z, unsigned first, unsigned n)
{
    return zpci_insn(z, "rpcit 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64,
                (uint64_t)z->fh << 32, IOVA + first * PAGE, n * PAGE);
}

void zpci_rpcit_ok(Zpci *z, unsigned first, unsigned n)
{
    g_assert_cmpuint(zpci_rpcit(z, first, n).cc, ==, 0);
}

uint64_t zpci_iova(unsigned page)
{
    return IOVA + page * PAGE;
}

uint64_t zpci_data(unsigned page)
{
    return DATA_ADDR + page * PAGE;
}

/* ---- fixture ---- */

/* Enable the function, turn on bus mastering, register empty tables */
void zpci_setup(Zpci *z)
{
    zpci_clp_set_pci_fn(z, CLP_ENABLE);
    zpci_bus_master_on(z);
    zpci_tables_init(z);
    zpci_register(z);
}

void zpci_start(Zpci *z, const char *zpci_opts)
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

void zpci_stop(Zpci *z)
{
    qtest_quit(z->qts);
}
