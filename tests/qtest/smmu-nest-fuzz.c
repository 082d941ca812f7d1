/*
 * VNest structured fuzzer: a guest that writes anything into its SMMUv3
 * stream table, context descriptors, page tables and command queue, with
 * arm-smmuv3,accel=on
 *
 * The input bytes are decoded into a sequence of guest actions against
 * -M virt,iommu=smmuv3 -global arm-smmuv3.accel=on with two vnest-dma-test
 * devices assigned through the emulated host and one emulated: write an
 * STE (arbitrary 512 bits, or a plausible one with fuzzed Config, S1Fmt,
 * S1CDMax, S1ContextPtr, S1DSS, EATS and stage-2 words) for any StreamID,
 * write CDs (arbitrary, or plausible with fuzzed TTB0, T0SZ, TG0, ASID,
 * EPD, AA64, V...), stage-1 table entries, level-1 stream table
 * descriptors, queue arbitrary 128-bit commands or plausible ones (CFGI_*,
 * TLBI_*, ATC_INV, PREFETCH_*, CMD_SYNC with any CS), move CMDQ_PROD
 * anywhere, toggle CR0's SMMUEN / CMDQEN / EVTQEN, update GBPA, change
 * STRTAB_BASE(_CFG) and the queue bases, recover from a command error
 * (GERRORN), drain the event queue or not, arm the emulated host's
 * x-fail-nth, reset, and DMA from each device with or without a PASID.
 *
 * After each input: QEMU still answers; once the guest turns the SMMU off
 * (SMMUEN=0, GBPA at its reset value: bypass) the emulated host holds
 * exactly its plug-time objects (x-objects back to the baseline measured
 * after init), and DMA from every device lands guest-physical.
 *
 * Runs (scripts/fuzz-nest.sh smmu): without environment, a fixed set of
 * seeds (make check); VNEST_FUZZ_SECONDS=N: random seeds for N seconds;
 * VNEST_FUZZ_REPLAY=FILE: one input from a file. VNEST_FUZZ_LAST=FILE:
 * each input is written there before it runs, so a crash can be kept.
 * VNEST_FUZZ_DEBUG: print each action.
 *
 * Formats: Arm IHI 0070 (STE 5.2, CD 5.4, level-1 descriptors 5.1,
 * commands 4, registers 6) and VMSAv8-64 descriptors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-malloc.h"
#include "tests/qtest/libqos/generic-pcihost.h"
#include "smmu-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"
#include "vnest-fuzz.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (256 * MiB)
#define ECAM_BASE       0x4010000000ULL
#define NDEV            3               /* two assigned, one emulated */
#define NASSIGNED       2
#define DEVFN(i)        QPCI_DEVFN(2 + (i), 0)
#define SID(i)          DEVFN(i)        /* bus 0: the StreamID is the BDF */
#define EMU_PATH        "/objects/emu0"
#define PAGE            4096ULL
#define NPOOL           32              /* pages the fuzzer addresses */
#define IOVA            0x80000000ULL   /* not RAM: bypass cannot hit it */
#define NMAP            8               /* IOVA pages op_map maps */
#define IOVA_CHECK      0x7ff000000ULL  /* the final check's */
#define ASID_CHECK      0x100           /* ... and its ASIDs */
#define CHECK_LEN       768
#define CHECK_SEEDS     120             /* make check: seeds 1..120 */

/* Registers beyond smmu-guest.h's */
#define SMMU_IRQ_CTRL       0x50
#define SMMU_GERROR_IRQ_CFG0 0x68
#define SMMU_EVTQ_IRQ_CFG0  0xb0

/* Stream table: 256 STEs, also the level-2 table of SIDs 0-255 */
#define STE_SIZE        64
#define STRTAB_LOG2     8
#define STRTAB_BYTES    (STE_SIZE << STRTAB_LOG2)
#define CFG_2LVL        (1u << 16)
#define CFG_SPLIT8      (8u << 6)
#define L1_SPAN9        9ULL
#define BASE_RA         (1ULL << 62)
#define CMDQ_LOG2       8
#define CMDQ_MASK       ((1u << CMDQ_LOG2) - 1)
#define CMDQ_WRAP       ((2u << CMDQ_LOG2) - 1)
#define EVTQ_LOG2       7
#define GBPA_UPDATE     (1u << 31)
#define GBPA_ABORT      (1u << 20)
#define GBPA_RESET      0x1000u         /* SHCFG incoming, bypass */
#define CONS_ERR_SHIFT  24

/* STE and CD fields used for plausible entries */
#define STE0_V          1ULL
#define STE0_CTXPTR     0x000fffffffffffc0ULL
#define CD0_V           (1ULL << 31)
#define CD0_AA64        (1ULL << 41)
#define CD0_EPD1        (1ULL << 30)
#define CD0_AF_SET      (1ULL << 45 | 1ULL << 46 | 1ULL << 47) /* R A ASET */
#define PTE_TABLE       0x3ULL
#define PTE_PAGE        (0x3ULL | 1ULL << 6 | 3ULL << 8 | 1ULL << 10)

/* Counters summed over inputs: what was reached. */
static const char *const stat_names[] = {
    "hwpt_allocs", "attaches", "guest_events", "host_errors", "vdevices",
    "inv_calls", "inv_entries",
};
static uint64_t stat_sum[ARRAY_SIZE(stat_names)];
static uint64_t dma_done[2], dma_refused[2], dma_error[2];
static uint64_t cmd_errors, events_seen, fail_hits, inputs;

typedef struct Fuzz {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    DmaTestDev dev[NDEV];
    char *smmu;                         /* QOM path of the SMMUv3 */
    uint64_t strtab, l1, cmdq, evtq, check;
    uint64_t cdtab[NDEV];
    uint64_t pool[NPOOL];
    uint32_t prod;                      /* CMDQ_PROD we write, wrap bit */
    uint32_t evt_cons;
    uint16_t last_asid;                 /* of the last plausible CD */
    uint64_t base_objects;
    /* the input */
    VnestFuzzInput in;
    bool debug;
} Fuzz;

/* ---- input decoding (vnest-fuzz.h): past the end, all reads as 0 ---- */

#define in8(f)  vnest_fuzz_u8(&(f)->in)
#define in16(f) vnest_fuzz_u16(&(f)->in)
#define in32(f) vnest_fuzz_u32(&(f)->in)
#define in64(f) vnest_fuzz_u64(&(f)->in)

/* A 64-bit value: small, a pool page with low flags, or anything. */
static uint64_t in_val(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel & 3) {
    case 0:
        return sel >> 2;
    case 1:
        return f->pool[(sel >> 2) % NPOOL] | (in16(f) & 0xfff);
    case 2:
        return f->pool[(sel >> 2) % NPOOL] | (in64(f) & 0xfff0000000000fffULL);
    default:
        return in64(f);
    }
}

/* A StreamID: mostly a device's, else any in the table, else anything. */
static uint32_t in_sid(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel & 3) {
    case 0:
    case 1:
        return SID((sel >> 2) % NDEV);
    case 2:
        return in8(f);
    default:
        return in32(f);
    }
}

static uint32_t in_ssid(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel & 3) {
    case 0:
    case 1:
        return 0;
    case 2:
        return (sel >> 2) % 4;
    default:
        return in32(f) & 0xfffff;
    }
}

/*
 * An address a device accesses: a page op_map maps, a pool page, a small
 * page number, an MMIO register (the SMMU's own, or a device's BAR: DMA
 * that reenters a device), or anything.
 */
static uint64_t in_iova(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel & 7) {
    case 0:
    case 1:
        return IOVA + ((sel >> 3) % NMAP) * PAGE;
    case 2:
    case 3:
        return f->pool[(sel >> 3) % NPOOL];
    case 4:
        return (uint64_t)in16(f) << 12;
    case 5:
        return SMMU_VIRT_BASE + (in8(f) & 0xfc) + (sel & 8 ? 0x10000 : 0);
    case 6:
        return f->dev[(sel >> 3) % NDEV].bar.addr + (in8(f) & 0x3c);
    default:
        return in64(f);
    }
}

/* ---- the guest's memory and registers ---- */

static uint64_t zpages(Fuzz *f, uint64_t size, uint64_t align)
{
    uint64_t gpa = guest_alloc(&f->alloc, size + (align > PAGE ? align : 0));

    gpa = ROUND_UP(gpa, MAX(align, PAGE));
    qtest_memset(f->qts, gpa, 0, size);
    return gpa;
}

static uint32_t rd(Fuzz *f, uint64_t reg)
{
    return qtest_readl(f->qts, SMMU_VIRT_BASE + reg);
}

static void wr(Fuzz *f, uint64_t reg, uint32_t val)
{
    qtest_writel(f->qts, SMMU_VIRT_BASE + reg, val);
}

static void wrq(Fuzz *f, uint64_t reg, uint64_t val)
{
    qtest_writeq(f->qts, SMMU_VIRT_BASE + reg, val);
}

static void fail_nth(Fuzz *f, uint64_t nth)
{
    vnest_qom_set_uint(f->qts, EMU_PATH, "x-fail-nth", nth);
}

static char *find_smmu(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-list', 'arguments':"
                           " { 'path': '/machine/unattached' } }");
    QList *l = qdict_get_qlist(rsp, "return");
    QListEntry *e;
    char *path = NULL;

    QLIST_FOREACH_ENTRY(l, e) {
        QDict *p = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(p, "type"), "child<arm-smmuv3>")) {
            path = g_strdup_printf("/machine/unattached/%s",
                                   qdict_get_str(p, "name"));
        }
    }
    qobject_unref(rsp);
    g_assert(path);
    return path;
}

/* The stream table as @two_level says (the same STEs either way). */
static void strtab_setup(Fuzz *f, bool two_level)
{
    if (two_level) {
        wrq(f, SMMU_STRTAB_BASE, BASE_RA | f->l1);
        wr(f, SMMU_STRTAB_BASE_CFG, CFG_2LVL | CFG_SPLIT8 | 16);
    } else {
        wrq(f, SMMU_STRTAB_BASE, BASE_RA | f->strtab);
        wr(f, SMMU_STRTAB_BASE_CFG, STRTAB_LOG2);
    }
}

/* What a driver does at probe: tables, queues, then SMMUEN. */
static void smmu_setup(Fuzz *f, bool two_level)
{
    wr(f, SMMU_CR0, 0);
    strtab_setup(f, two_level);
    wrq(f, SMMU_CMDQ_BASE, BASE_RA | f->cmdq | CMDQ_LOG2);
    wr(f, SMMU_CMDQ_PROD, 0);
    wr(f, SMMU_CMDQ_CONS, 0);
    f->prod = 0;
    wrq(f, SMMU_EVTQ_BASE, BASE_RA | f->evtq | EVTQ_LOG2);
    wr(f, SMMU_EVTQ_PROD, 0);
    wr(f, SMMU_EVTQ_CONS, 0);
    f->evt_cons = 0;
    wr(f, SMMU_CR0, SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN | SMMU_CR0_SMMUEN);
}

static void devices_open(Fuzz *f)
{
    int i;

    for (i = 0; i < NDEV; i++) {
        dmadev_open(&f->dev[i], f->qts, &f->pci.bus, DEVFN(i));
        dmadev_set_ecam(&f->dev[i], ECAM_BASE);
        dmadev_pasid_enable(&f->dev[i], true);
    }
}

static void devices_reopen(Fuzz *f)
{
    int i;

    for (i = 0; i < NDEV; i++) {
        dmadev_close(&f->dev[i]);
    }
    devices_open(f);
}

/* @per_cmd: x-inv-per-cmd=on, one host call a command */
static void fuzz_init(Fuzz *f, bool per_cmd)
{
    int i;

    f->qts = qtest_initf("-M virt,iommu=smmuv3 -cpu max -m 256M -nodefaults "
                         "-global arm-smmuv3.accel=on "
                         "-global arm-smmuv3.x-inv-per-cmd=%s "
                         "-object iommufd,id=emu0,emulated=on,"
                         "host-iommu=smmuv3 "
                         "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                         "device=dma0 "
                         "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                         "device=dma1 "
                         "-device vnest-dma-test,id=dma0,addr=02.0 "
                         "-device vnest-dma-test,id=dma1,addr=03.0 "
                         "-device vnest-dma-test,id=dma2,addr=04.0",
                         per_cmd ? "on" : "off");
    alloc_init(&f->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&f->pci, f->qts, &f->alloc, false);
    devices_open(f);
    f->smmu = find_smmu(f->qts);
    f->base_objects = vnest_qom_get_uint(f->qts, EMU_PATH, "x-objects");

    /* A linear table is aligned to its size. */
    f->strtab = zpages(f, STRTAB_BYTES, STRTAB_BYTES);
    f->l1 = zpages(f, PAGE, 0);
    qtest_writeq(f->qts, f->l1, f->strtab | L1_SPAN9);
    f->cmdq = zpages(f, PAGE, 0);
    f->evtq = zpages(f, PAGE, 0);
    f->check = zpages(f, PAGE, 0);
    for (i = 0; i < NDEV; i++) {
        f->cdtab[i] = zpages(f, PAGE, 0);
    }
    for (i = 0; i < NPOOL; i++) {
        f->pool[i] = zpages(f, PAGE, 0);
    }
    smmu_setup(f, false);
}

static uint64_t ste_addr(Fuzz *f, uint32_t sid)
{
    return f->strtab + (sid % (1u << STRTAB_LOG2)) * STE_SIZE;
}

/* Qword 0 (V, Config) last, as a driver updating a live entry does. */
static void write_entry(Fuzz *f, uint64_t addr, const uint64_t *v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        qtest_writeq(f->qts, addr + i * 8, v[i]);
    }
}

/* ---- the command queue ---- */

static void queue_cmd(Fuzz *f, uint64_t w0, uint64_t w1)
{
    uint64_t slot = f->cmdq + (f->prod & CMDQ_MASK) * 16;

    qtest_writeq(f->qts, slot, w0);
    qtest_writeq(f->qts, slot + 8, w1);
    f->prod = (f->prod + 1) & CMDQ_WRAP;
}

static bool cmdq_error_pending(Fuzz *f)
{
    return (rd(f, SMMU_GERROR) ^ rd(f, SMMU_GERRORN)) & SMMU_GERROR_CMDQ_ERR;
}

/*
 * After a command error, as Linux's arm_smmu_cmdq_skip_err(): the command
 * at CONS becomes a CMD_SYNC, GERRORN acknowledges, the queue goes on.
 */
static void recover(Fuzz *f)
{
    uint32_t cons = rd(f, SMMU_CMDQ_CONS);
    uint64_t slot = f->cmdq + (cons & CMDQ_MASK) * 16;

    if (f->debug) {
        fprintf(stderr, "recover: CONS %x GERROR %x\n", cons,
                rd(f, SMMU_GERROR));
    }
    if (cmdq_error_pending(f)) {
        cmd_errors++;
    }
    qtest_writeq(f->qts, slot, SMMU_CMD_SYNC);
    qtest_writeq(f->qts, slot + 8, 0);
    wr(f, SMMU_GERRORN, rd(f, SMMU_GERROR));
    wr(f, SMMU_CMDQ_PROD, f->prod);
}

/* PROD to the SMMU, a pending command error skipped first (as Linux). */
static void kick(Fuzz *f)
{
    if (cmdq_error_pending(f)) {
        recover(f);
    } else {
        wr(f, SMMU_CMDQ_PROD, f->prod);
    }
}

/*
 * A CMD_SYNC, the kick, and a look at CONS (no error if not reached);
 * @cs bit 2: skip every command the SMMU stops at until the queue drains
 * (a driver's retry loop, bounded).
 */
static void op_sync(Fuzz *f, uint8_t cs)
{
    int i;

    queue_cmd(f, SMMU_CMD_SYNC | (uint64_t)(cs & 3) << 12, 0);
    kick(f);
    for (i = 0; cs & 4 && i < 16 && cmdq_error_pending(f); i++) {
        recover(f);
    }
    if (f->debug) {
        fprintf(stderr, "sync: PROD %x CONS %x GERROR %x GERRORN %x\n",
                f->prod, rd(f, SMMU_CMDQ_CONS), rd(f, SMMU_GERROR),
                rd(f, SMMU_GERRORN));
    }
}

/* One plausible command of @op, its fields from the input. */
static void plausible_cmd(Fuzz *f, uint8_t op, uint64_t *w0, uint64_t *w1)
{
    *w0 = op;
    *w1 = 0;
    switch (op) {
    case 0x01:  /* PREFETCH_CONFIG */
    case 0x02:  /* PREFETCH_ADDR */
    case 0x03:  /* CFGI_STE */
    case 0x04:  /* CFGI_STE_RANGE (Range 31: CFGI_ALL) */
    case 0x05:  /* CFGI_CD */
    case 0x06:  /* CFGI_CD_ALL */
        *w0 |= (uint64_t)in_sid(f) << 32 | (uint64_t)in_ssid(f) << 12;
        *w1 = op == 0x04 ? in8(f) % 33 : in8(f) & 1;
        if (op == 0x02) {
            *w1 |= in_iova(f) & ~0xfffULL;
        }
        break;
    case 0x10:  /* TLBI_NH_ALL */
    case 0x11:  /* TLBI_NH_ASID */
    case 0x12:  /* TLBI_NH_VA */
    case 0x13:  /* TLBI_NH_VAA */
    case 0x20 ... 0x23: /* TLBI_EL2_* */
    case 0x28:  /* TLBI_S12_VMALL */
    case 0x2a:  /* TLBI_S2_IPA */
    case 0x30:  /* TLBI_NSNH_ALL */
        *w0 |= (uint64_t)(in8(f) & 1 ? in16(f) : f->last_asid) << 48;
        if (in8(f) & 1) {
            /* VMID, NUM, SCALE */
            *w0 |= (uint64_t)in16(f) << 32 | (uint64_t)(in16(f) & 0x1f1f)
                   << 12;
        }
        /* Leaf, TTL, TG, address */
        *w1 = in_iova(f) | (in8(f) & 0xf01);
        break;
    case 0x40:  /* ATC_INV */
        *w0 |= (uint64_t)in_sid(f) << 32 | (uint64_t)in_ssid(f) << 12 |
               (in8(f) & 1) << 11;
        *w1 = in_iova(f) | (in8(f) & 0x3f) | (in8(f) & 1) << 6;
        break;
    default:    /* CMD_SYNC: CS, MSH, MSIAttr, MSIData, MSIAddress */
        *w0 = 0x46 | (uint64_t)(in8(f) & 3) << 12 |
              (uint64_t)(in8(f) & 0x3f) << 22 | (uint64_t)in32(f) << 32;
        *w1 = in8(f) & 1 ? f->pool[in8(f) % NPOOL] : in_val(f) & ~3ULL;
        break;
    }
}

static void op_cmd(Fuzz *f)
{
    static const uint8_t ops[] = {
        0x01, 0x02, 0x03, 0x03, 0x04, 0x05, 0x05, 0x06, 0x10, 0x11, 0x12,
        0x12, 0x13, 0x20, 0x21, 0x22, 0x23, 0x28, 0x2a, 0x30, 0x40, 0x46,
    };
    uint8_t sel = in8(f);
    uint64_t w0, w1;

    if (sel < 240) {
        plausible_cmd(f, ops[sel % ARRAY_SIZE(ops)], &w0, &w1);
        if (sel & 0x80 && in8(f) & 1) {
            /* a reserved or unused bit too */
            w0 ^= 1ULL << (in8(f) % 64);
            w1 ^= 1ULL << (in8(f) % 64);
        }
    } else {
        w0 = in64(f);
        w1 = in64(f);
    }
    if (f->debug) {
        fprintf(stderr, "cmd %016" PRIx64 " %016" PRIx64 "\n", w0, w1);
    }
    queue_cmd(f, w0, w1);
}

/* ---- STEs, CDs, tables ---- */

static void op_ste_raw(Fuzz *f)
{
    uint64_t v[8];
    uint32_t sid = in_sid(f);
    int i;

    for (i = 0; i < 8; i++) {
        v[i] = in_val(f);
    }
    write_entry(f, ste_addr(f, sid), v, 8);
}

/* V, Config, the CD table and the S1 fields from a few bytes. */
static void op_ste_plausible(Fuzz *f)
{
    static const uint8_t cfgs[] = { 5, 5, 5, 4, 4, 0, 6, 7, 1, 5 };
    uint8_t dev = in8(f) % NDEV, sel = in8(f), flags = in8(f);
    uint64_t v[8] = { 0 };

    v[0] = STE0_V | (uint64_t)cfgs[sel % ARRAY_SIZE(cfgs)] << 1 |
           (flags & 1 ? f->pool[in8(f) % NPOOL] : f->cdtab[dev]);
    v[1] = (sel >> 4) & 3;                                  /* S1DSS */
    v[1] |= 0xfcULL;                                        /* WBRA, IS */
    if (flags & 2) {
        v[0] |= (uint64_t)(in8(f) & 3) << 4;                /* S1Fmt */
        v[0] |= (uint64_t)(in8(f) & 0x1f) << 59;            /* S1CDMax */
    }
    if (flags & 4) {
        v[1] |= (uint64_t)(in8(f) & 3) << 28;               /* EATS */
        v[1] |= (uint64_t)(in8(f) & 1) << 27;               /* S1STALLD */
    }
    if (flags & 8) {
        /* stage-2 words: VMID, T0SZ, SL0, TG, PS, AA64, ..., S2TTB */
        v[2] = in64(f);
        v[3] = f->pool[in8(f) % NPOOL];
    }
    if (flags & 0x10) {
        v[0] |= in64(f) & 0x000fffffffffffc0ULL;             /* any ptr */
    }
    if (flags & 0x20) {
        v[in8(f) % 8] ^= 1ULL << (in8(f) % 64);
    }
    write_entry(f, ste_addr(f, SID(dev)), v, 8);
    if (flags & 0x40) {
        /* as a driver does: CFGI_STE, and a CMD_SYNC unless told not */
        queue_cmd(f, 0x03 | (uint64_t)SID(dev) << 32, 1);
        if (flags & 0x80) {
            op_sync(f, 0);
        }
    }
}

static void op_l1(Fuzz *f)
{
    qtest_writeq(f->qts, f->l1 + (in8(f) % 8) * 8,
                 in8(f) & 1 ? f->strtab | (in8(f) % 12) : in_val(f));
}

static void op_cd_raw(Fuzz *f)
{
    uint64_t cd = f->cdtab[in8(f) % NDEV] + (in8(f) % 64) * 64;
    uint64_t v[8];
    int i;

    for (i = 0; i < 8; i++) {
        v[i] = in_val(f);
    }
    write_entry(f, cd, v, 8);
}

/* A valid-looking CD: T0SZ, TG0, EPD, IPS, ASID, TTB0 fuzzed at times. */
static void op_cd_plausible(Fuzz *f)
{
    uint8_t dev = in8(f) % NDEV, ssid = in8(f) % 4, flags = in8(f);
    uint64_t v[8] = { 0 };

    f->last_asid = in8(f) % 8;
    v[0] = 16 | 1ULL << 8 | 1ULL << 10 | 3ULL << 12 | CD0_EPD1 | CD0_V |
           4ULL << 32 | CD0_AA64 | CD0_AF_SET |
           (uint64_t)f->last_asid << 48;
    v[1] = f->pool[flags & 1 ? in8(f) % NPOOL : 0];        /* TTB0 */
    v[3] = 0xff;                                            /* MAIR */
    if (flags & 2) {
        v[0] = deposit64(v[0], 0, 6, in8(f));               /* T0SZ */
        v[0] = deposit64(v[0], 6, 2, in8(f));               /* TG0 */
    }
    if (flags & 4) {
        v[0] ^= (uint64_t)(in8(f) & 0x4f) << 12;   /* SH0 EPD0 ENDI EPD1 */
        v[0] = deposit64(v[0], 32, 3, in8(f));              /* IPS */
    }
    if (flags & 8) {
        v[0] ^= (uint64_t)(in8(f) & 0x3f) << 41;   /* AA64 HD HA S R A */
        v[0] ^= (uint64_t)(in8(f) & 1) << 31;               /* V */
    }
    if (flags & 0x10) {
        v[1] = in_val(f);
        v[2] = in_val(f);
    }
    if (flags & 0x20) {
        v[in8(f) % 8] ^= 1ULL << (in8(f) % 64);
    }
    write_entry(f, f->cdtab[dev] + ssid * 64, v, 8);
    if (flags & 0x40) {
        queue_cmd(f, 0x05 | (uint64_t)SID(dev) << 32 |
                  (uint64_t)ssid << 12, 1);
        if (flags & 0x80) {
            op_sync(f, 0);
        }
    }
}

/* A stage-1 (or any) table entry in a pool page. */
static void op_pt(Fuzz *f)
{
    uint64_t page = f->pool[in8(f) % NPOOL];
    uint64_t slot = page + (in16(f) % 512) * 8;
    uint8_t sel = in8(f);
    uint64_t v;

    if (sel & 1) {
        /* a table or page (level decides), or a block, to a pool page */
        v = f->pool[(sel >> 1) % NPOOL] | (sel & 0x80 ? 0x1ULL << 10 | 1 :
                                            PTE_PAGE);
    } else {
        v = in_val(f);
    }
    qtest_writeq(f->qts, slot, v);
}

/*
 * Map IOVA page n to a pool page through pool tables 0-3 (4 levels);
 * returns the IOVA.
 */
static uint64_t op_map(Fuzz *f)
{
    uint8_t n = in8(f) % NMAP, tgt = in8(f) % NPOOL;
    uint64_t iova = IOVA + n * PAGE;
    int lvl;

    for (lvl = 0; lvl < 3; lvl++) {
        uint64_t idx = (iova >> (39 - 9 * lvl)) & 0x1ff;

        qtest_writeq(f->qts, f->pool[lvl] + idx * 8,
                     f->pool[lvl + 1] | PTE_TABLE);
    }
    qtest_writeq(f->qts, f->pool[3] + ((iova >> 12) & 0x1ff) * 8,
                 f->pool[tgt] | PTE_PAGE);
    return iova;
}

static void dma_one(Fuzz *f, int dev, bool to_mem, uint32_t pasid,
                    uint64_t iova, uint32_t len);

/*
 * What a driver does to attach a domain: STE S1 with the CD table, CD 0
 * with the ASID and table, CFGI_STE, CFGI_CD, several TLBIs of that ASID,
 * then a CMD_SYNC or the kick alone: the batching path.
 */
static void op_bind_inv(Fuzz *f)
{
    uint8_t dev = in8(f) % NDEV, ctl = in8(f);
    unsigned n = 1 + in8(f) % 12, i;
    uint64_t ste[8] = {
        STE0_V | 5ULL << 1 | f->cdtab[dev], 0xfcULL,
    };
    uint64_t cd[8] = {
        16 | 1ULL << 8 | 1ULL << 10 | 3ULL << 12 | CD0_EPD1 | CD0_V |
        4ULL << 32 | CD0_AA64 | CD0_AF_SET | (uint64_t)(ctl % 8) << 48,
        f->pool[0], 0, 0xff,
    };

    f->last_asid = ctl % 8;
    write_entry(f, f->cdtab[dev], cd, 8);
    write_entry(f, ste_addr(f, SID(dev)), ste, 8);
    queue_cmd(f, 0x03 | (uint64_t)SID(dev) << 32, 1);
    queue_cmd(f, 0x05 | (uint64_t)SID(dev) << 32, 1);
    for (i = 0; i < n; i++) {
        uint8_t kind = in8(f);

        switch (kind % 4) {
        case 0:
            queue_cmd(f, 0x12 | (uint64_t)f->last_asid << 48,
                      in_iova(f) | (kind >> 7));
            break;
        case 1:
            queue_cmd(f, 0x11 | (uint64_t)f->last_asid << 48, 0);
            break;
        case 2:
            queue_cmd(f, 0x05 | (uint64_t)SID(kind >> 2 & 1) << 32, 1);
            break;
        default:
            queue_cmd(f, kind & 0x80 ? 0x10 : 0x30, 0);
            break;
        }
    }
    if (ctl & 0x80) {
        kick(f);
    } else {
        op_sync(f, ctl >> 3 | 4);
    }
    if (ctl & 0x40) {
        /* and a DMA through what it mapped */
        dma_one(f, dev, ctl & 0x20, DMADEV_NO_PASID, op_map(f), PAGE);
    }
}

/* ---- registers ---- */

static void op_cr0(Fuzz *f)
{
    static const uint32_t bits[] = {
        SMMU_CR0_SMMUEN, SMMU_CR0_CMDQEN, SMMU_CR0_EVTQEN,
        SMMU_CR0_SMMUEN | SMMU_CR0_CMDQEN,
    };
    uint8_t sel = in8(f);

    switch (sel % 8) {
    case 0 ... 3:
        wr(f, SMMU_CR0, rd(f, SMMU_CR0) ^ bits[sel % 4]);
        break;
    case 4 ... 6:
        smmu_setup(f, sel & 0x80);
        break;
    default:
        wr(f, SMMU_CR0, in32(f));
        break;
    }
}

static void op_gbpa(Fuzz *f)
{
    uint8_t sel = in8(f);

    if ((sel & 3) == 3) {
        wr(f, SMMU_GBPA, in32(f));
    } else {
        wr(f, SMMU_GBPA, GBPA_UPDATE | GBPA_RESET |
           (sel & 4 ? GBPA_ABORT : 0));
    }
}

static void op_strtab(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel % 8) {
    case 0 ... 4:
        strtab_setup(f, sel & 0x80);
        break;
    case 5:
        wrq(f, SMMU_STRTAB_BASE, in_val(f));
        break;
    case 6:
        wr(f, SMMU_STRTAB_BASE_CFG, in32(f) & 0x301ffff);
        break;
    default:
        /* the queue bases: any size, any place (MMIO too) */
        wrq(f, sel & 0x20 ? SMMU_CMDQ_BASE : SMMU_EVTQ_BASE,
            sel & 0x10 ? in_iova(f) | (in8(f) & 0x1f) : in_val(f));
        break;
    }
    if (sel & 0x40) {
        /* CFGI_ALL, as after a stream table change */
        queue_cmd(f, 0x04, 31);
        op_sync(f, sel >> 4);
    }
}

static void op_prod(Fuzz *f)
{
    uint8_t sel = in8(f);

    if (sel & 1) {
        wr(f, SMMU_CMDQ_PROD, in32(f));
    } else {
        /* skip or rewind: the queue holds whatever is there */
        f->prod = (f->prod + in8(f)) & CMDQ_WRAP;
        kick(f);
    }
}

static void op_evtq(Fuzz *f)
{
    static const uint64_t regs[] = {
        SMMU_IRQ_CTRL, SMMU_CR1, SMMU_CR2, SMMU_GERROR_IRQ_CFG0,
        SMMU_EVTQ_IRQ_CFG0,
    };
    uint8_t sel = in8(f);
    uint32_t prod = rd(f, SMMU_EVTQ_PROD);

    switch (sel % 4) {
    case 0:
    case 1:
        /* drain: every record read, CONS to PROD */
        events_seen += (prod - f->evt_cons) & ((2u << EVTQ_LOG2) - 1);
        f->evt_cons = prod & ((2u << EVTQ_LOG2) - 1);
        wr(f, SMMU_EVTQ_CONS, f->evt_cons);
        break;
    case 2:
        wr(f, SMMU_EVTQ_CONS, in32(f));
        break;
    default:
        /* interrupts, their configuration, CR1/CR2 */
        wr(f, regs[(sel >> 2) % ARRAY_SIZE(regs)], in32(f));
        break;
    }
}

/* ---- devices ---- */

/* Device @dev reads (or writes, @to_mem) @len bytes at @iova. */
static void dma_one(Fuzz *f, int dev, bool to_mem, uint32_t pasid,
                    uint64_t iova, uint32_t len)
{
    int kind = dev < NASSIGNED ? 0 : 1;
    uint32_t sts;

    if (f->debug) {
        fprintf(stderr, "dma dev %d %s pasid %x iova %" PRIx64 " len %u\n",
                dev, to_mem ? "to" : "from", pasid, iova, len);
    }
    /* Done, refused or not issued: all fine, as long as QEMU carries on */
    sts = dmadev_try_command(&f->dev[dev], to_mem ? 1 : 2, pasid, iova, len);
    if (f->debug) {
        fprintf(stderr, "dma status %x (CR0 %x GBPA %x STRTAB %" PRIx64
                " CFG %x)\n", sts, rd(f, SMMU_CR0), rd(f, SMMU_GBPA),
                qtest_readq(f->qts, SMMU_VIRT_BASE + SMMU_STRTAB_BASE),
                rd(f, SMMU_STRTAB_BASE_CFG));
    }
    if (sts & DMADEV_STATUS_ERROR) {
        dma_error[kind]++;
    } else if (sts & DMADEV_STATUS_FAULT) {
        dma_refused[kind]++;
    } else {
        dma_done[kind]++;
    }
}

static void op_dma(Fuzz *f)
{
    int dev = in8(f) % NDEV;
    uint8_t sel = in8(f);
    uint32_t pasid = sel & 1 ? DMADEV_NO_PASID : in_ssid(f);
    uint64_t iova = in_iova(f);

    dma_one(f, dev, sel & 2, pasid, iova, 1 + in8(f) * 16);
}

/* An interrupt message, to any address (a nested one: guest's stage 1) */
static void op_msi(Fuzz *f)
{
    int dev = in8(f) % NDEV;
    uint64_t addr = in_iova(f);

    dmadev_msi_enable(&f->dev[dev], addr, in16(f));
    dmadev_msi_send(&f->dev[dev]);
    if (f->debug) {
        fprintf(stderr, "msi dev %d addr %" PRIx64 "\n", dev, addr);
    }
}

static void op_reset(Fuzz *f)
{
    QDict *rsp = qtest_qmp(f->qts, "{ 'execute': 'system_reset' }");

    qobject_unref(rsp);
    qtest_qmp_eventwait(f->qts, "RESET");
    /* Firmware's part again: BARs, bus mastering, PASID Enable */
    devices_reopen(f);
    if (in8(f) & 1) {
        smmu_setup(f, false);
    }
}

static void op_misc(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel % 8) {
    case 0:
        dmadev_pasid_enable(&f->dev[(sel >> 3) % NDEV], sel & 0x80);
        break;
    case 1:
        recover(f);
        break;
    case 2:
        /* acknowledge whatever GERRORN says */
        wr(f, SMMU_GERRORN, in32(f));
        break;
    case 3:
        devices_reopen(f);
        break;
    default:
        op_msi(f);
        break;
    }
}

static void fuzz_step(Fuzz *f, uint8_t op)
{
    switch (op % 24) {
    case 0:
    case 1:
        op_ste_plausible(f);
        break;
    case 2:
        op_ste_raw(f);
        break;
    case 3:
        op_cd_plausible(f);
        break;
    case 4:
        op_cd_raw(f);
        break;
    case 5:
        op_pt(f);
        break;
    case 6:
        op_map(f);
        break;
    case 7:
        op_bind_inv(f);
        break;
    case 8:
    case 9:
    case 10:
        op_cmd(f);
        break;
    case 11:
        kick(f);
        break;
    case 12:
        op_sync(f, op >> 6);
        break;
    case 13:
        op_prod(f);
        break;
    case 14:
        op_cr0(f);
        break;
    case 15:
        op_gbpa(f);
        break;
    case 16:
        op_strtab(f);
        break;
    case 17:
        op_l1(f);
        break;
    case 18:
        op_evtq(f);
        break;
    case 19:
        fail_nth(f, in8(f) % 24);
        break;
    case 20:
    case 21:
        op_dma(f);
        break;
    case 22:
        op_misc(f);
        break;
    default:
        if (op & 0x80) {
            op_reset(f);
        } else {
            recover(f);
        }
        break;
    }
}

/* A fresh stage-1 context for @dev: IOVA_CHECK -> the check page. */
static void check_ste_s1(Fuzz *f, int dev)
{
    uint64_t cdtab = zpages(f, PAGE, 0), table[4];
    uint64_t cd[8] = { 0 }, ste[8] = { 0 };
    int lvl;

    for (lvl = 0; lvl < 4; lvl++) {
        table[lvl] = zpages(f, PAGE, 0);
    }
    for (lvl = 0; lvl < 3; lvl++) {
        qtest_writeq(f->qts, table[lvl] +
                     ((IOVA_CHECK >> (39 - 9 * lvl)) & 0x1ff) * 8,
                     table[lvl + 1] | PTE_TABLE);
    }
    qtest_writeq(f->qts, table[3] + ((IOVA_CHECK >> 12) & 0x1ff) * 8,
                 f->check | PTE_PAGE);
    cd[0] = 16 | 1ULL << 8 | 1ULL << 10 | 3ULL << 12 | CD0_EPD1 | CD0_V |
            4ULL << 32 | CD0_AA64 | CD0_AF_SET |
            (uint64_t)(ASID_CHECK + dev) << 48;
    cd[1] = table[0];
    cd[3] = 0xff;
    write_entry(f, cdtab, cd, 8);
    ste[0] = STE0_V | 5ULL << 1 | cdtab;
    ste[1] = 0xfc;
    write_entry(f, ste_addr(f, SID(dev)), ste, 8);
    queue_cmd(f, 0x03 | (uint64_t)SID(dev) << 32, 1);       /* CFGI_STE */
    queue_cmd(f, 0x06 | (uint64_t)SID(dev) << 32, 0);       /* CFGI_CD_ALL */
}

/*
 * The invariants. The guest turns the SMMU off, GBPA back to its reset
 * value (bypass): the emulated host holds its plug-time objects and every
 * device's DMA lands guest-physical. Then the guest starts over as a
 * driver probing it does (error acknowledged, tables and queues set up,
 * a fresh stage 1 for every device, everything invalidated): each DMA
 * lands where that stage 1 says. Whatever came before leaves nothing
 * stale behind.
 */
static void fuzz_check(Fuzz *f)
{
    g_autofree char *site = NULL;
    size_t i;

    site = vnest_qom_get_str(f->qts, EMU_PATH, "x-fail-site");
    fail_hits += *site != 0;
    fail_nth(f, 0);
    for (i = 0; i < ARRAY_SIZE(stat_names); i++) {
        g_autofree char *prop = g_strdup_printf("x-nest-%s", stat_names[i]);

        stat_sum[i] += vnest_qom_get_uint(f->qts, f->smmu, prop);
    }
    wr(f, SMMU_CR0, rd(f, SMMU_CR0) & ~SMMU_CR0_SMMUEN);
    wr(f, SMMU_GBPA, GBPA_UPDATE | GBPA_RESET);
    g_assert_cmphex(rd(f, SMMU_CR0ACK) & SMMU_CR0_SMMUEN, ==, 0);
    g_assert_cmphex(rd(f, SMMU_GBPA), ==, GBPA_RESET);
    g_assert_cmpuint(vnest_qom_get_uint(f->qts, EMU_PATH, "x-objects"), ==,
                     f->base_objects);
    devices_reopen(f);
    for (i = 0; i < NDEV; i++) {
        if (f->debug) {
            fprintf(stderr, "check: bypass of dev %zu\n", i);
        }
        dmadev_assert_lands(&f->dev[i], DMADEV_NO_PASID, f->check, f->check,
                            256, 0x40 + i);
    }

    /*
     * Queue off before the acknowledgement, which restarts it. A 2-level
     * stream table: QEMU 10.0 keeps walking one as 2-level once the guest
     * chose that format, whatever STRTAB_BASE_CFG.FMT says later (its
     * SMMU_FEATURE_2LVL_STE is only cleared by reset).
     */
    wr(f, SMMU_CR0, 0);
    wr(f, SMMU_GERRORN, rd(f, SMMU_GERROR));
    qtest_writeq(f->qts, f->l1, f->strtab | L1_SPAN9);
    smmu_setup(f, true);
    if (f->debug) {
        fprintf(stderr, "check: setup, GERROR %x GERRORN %x CONS %x\n",
                rd(f, SMMU_GERROR), rd(f, SMMU_GERRORN),
                rd(f, SMMU_CMDQ_CONS));
    }
    for (i = 0; i < NDEV; i++) {
        check_ste_s1(f, i);
    }
    queue_cmd(f, 0x30, 0);                                  /* NSNH_ALL */
    queue_cmd(f, SMMU_CMD_SYNC, 0);
    kick(f);
    g_assert_cmphex(rd(f, SMMU_CMDQ_CONS), ==, f->prod);
    for (i = 0; i < NDEV; i++) {
        if (f->debug) {
            fprintf(stderr, "check: stage 1 of dev %zu\n", i);
        }
        dmadev_assert_lands(&f->dev[i], DMADEV_NO_PASID, IOVA_CHECK,
                            f->check, 256, 0x50 + i);
    }
}

static void fuzz_one(Fuzz *f)
{
    unsigned steps = 0;

    while (vnest_fuzz_more(&f->in) && steps++ < 512) {
        uint8_t op = in8(f);

        if (f->debug) {
            fprintf(stderr, "op %u (%u) at %td\n", op % 24, op,
                    f->in.p - f->in.start);
        }
        fuzz_step(f, op);
    }
    fuzz_check(f);
}

static void fuzz_fini(Fuzz *f)
{
    int i;

    for (i = 0; i < NDEV; i++) {
        dmadev_close(&f->dev[i]);
    }
    alloc_destroy(&f->alloc);
    g_free(f->smmu);
    qtest_quit(f->qts);
}

/* An input that runs longer than this hangs QEMU: fail, keep it. */
#define INPUT_TIMEOUT   60

static void watchdog(int sig)
{
    static const char msg[] = "smmu-nest-fuzz: the input did not finish "
                              "in " stringify(INPUT_TIMEOUT) " s: a hang\n";

    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* dying anyway */
    }
    abort();                /* libqtest's handler kills QEMU */
}

static void run_input(const uint8_t *data, size_t len)
{
    Fuzz f = { .in = vnest_fuzz_input(data, len) };
    struct sigaction sa = { .sa_handler = watchdog };

    sigaction(SIGALRM, &sa, NULL);
    alarm(INPUT_TIMEOUT);

    f.debug = !!g_getenv("VNEST_FUZZ_DEBUG");
    /* the first byte: the host call per CMD_SYNC, or per command */
    fuzz_init(&f, (in8(&f) & 0xf) == 0xf);
    fuzz_one(&f);
    fuzz_fini(&f);
    alarm(0);
    inputs++;
}

static void print_stats(void)
{
    g_autoptr(GString) s = g_string_new("nest counters:");
    size_t i;

    for (i = 0; i < ARRAY_SIZE(stat_names); i++) {
        g_string_append_printf(s, " %s %" PRIu64, stat_names[i],
                               stat_sum[i]);
    }
    g_test_message("%s", s->str);
    g_test_message("guest: %" PRIu64 " inputs, %" PRIu64 " command errors "
                   "recovered, %" PRIu64 " event records drained, %" PRIu64
                   " inputs hit x-fail-nth", inputs, cmd_errors, events_seen,
                   fail_hits);
    for (i = 0; i < 2; i++) {
        g_test_message("DMA (%s): %" PRIu64 " done, %" PRIu64 " refused, %"
                       PRIu64 " not issued", i ? "emulated" : "assigned",
                       dma_done[i], dma_refused[i], dma_error[i]);
    }
}

int main(int argc, char **argv)
{
    static const VnestFuzz fz = {
        .name = "smmu-nest-fuzz",
        .run = run_input,
        .stats = print_stats,
        .check_seeds = CHECK_SEEDS,
        .check_len = CHECK_LEN,
        .timed_len = 2048,
    };

    return vnest_fuzz_main(argc, argv, &fz);
}
