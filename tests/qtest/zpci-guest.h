/*
 * VNest qtest helpers: an s390 guest's zPCI driver
 *
 * The guest side of a zPCI function for qtests on -M s390-ccw-virtio:
 * enable it (CLP), reach its configuration space and BAR 0 (PCISTG,
 * PCILG), build region-third / segment / page tables in guest memory,
 * register them (MPCIFC) and refresh (RPCIT), and drive a vnest-dma-test
 * device's DMA. A qtest runs no guest code: the instructions go through
 * the zpci device's x-insn property, which calls the same service-call
 * functions as the instruction handlers (hw/zpci-iommufd/zpci-insn-test.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_ZPCI_GUEST_H
#define VNEST_TESTS_ZPCI_GUEST_H

#include "tests/qtest/libqtest.h"

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

Insn zpci_insn(Zpci *z, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The status an instruction left in its first operand register */
unsigned zpci_insn_status(Insn r);
uint64_t zpci_stat(Zpci *z, const char *name);
/* CLP SET PCI FUNCTION: @oc on the function, which gets a new handle */
void zpci_clp_set_pci_fn(Zpci *z, uint8_t oc);
uint64_t zpci_as_reg(Zpci *z, unsigned as, unsigned len);
/*
 * PCI memory is little-endian: PCISTG and PCILG move the register's bytes
 * in order, so a register holds a value byte-swapped (as Linux's zpci
 * accessors swap it).
 */
uint64_t zpci_pci_swap(uint64_t val, unsigned len);
void zpci_bar_write(Zpci *z, uint64_t off, uint64_t val, unsigned len);
uint64_t zpci_bar_read(Zpci *z, uint64_t off, unsigned len);
void zpci_bus_master_on(Zpci *z);
/* The device writes DMA_LEN bytes of pattern @seed to @iova: STATUS */
uint32_t zpci_dma_write(Zpci *z, uint64_t iova, uint8_t seed);
/* Whether pattern @seed is at guest address @gpa */
bool zpci_landed(Zpci *z, uint64_t gpa, uint8_t seed);
void zpci_assert_lands(Zpci *z, uint64_t iova, uint64_t gpa, uint8_t seed);
void zpci_assert_refused(Zpci *z, uint64_t iova);
void zpci_table_fill(Zpci *z, uint64_t addr, unsigned n, uint64_t te);
/* IOVA page @i (from IOVA) translates to @gpa with @flags */
void zpci_pte(Zpci *z, unsigned i, uint64_t gpa, uint64_t flags);
void zpci_pte_clear(Zpci *z, unsigned i);
void zpci_tables_init(Zpci *z);
Insn zpci_mpcifc(Zpci *z, unsigned oc, uint64_t iota);
void zpci_register(Zpci *z);
/* RPCIT of @n pages from IOVA page @first */
Insn zpci_rpcit(Zpci *z, unsigned first, unsigned n);
void zpci_rpcit_ok(Zpci *z, unsigned first, unsigned n);
uint64_t zpci_iova(unsigned page);
uint64_t zpci_data(unsigned page);
/* Enable the function, turn on bus mastering, register empty tables */
void zpci_setup(Zpci *z);
void zpci_start(Zpci *z, const char *zpci_opts);
void zpci_stop(Zpci *z);

#endif
