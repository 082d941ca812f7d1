/*
 * VNest structured fuzzer: a guest that writes anything into its VT-d
 * tables and invalidation queue, with nesting on
 *
 * The input bytes are decoded into a sequence of guest actions against
 * q35 + intel-iommu,x-scalable-mode=on,x-flts=on with two vnest-dma-test
 * devices assigned through the emulated host and one emulated: write a
 * PASID entry (arbitrary 512 bits, or a plausible one with fuzzed fields)
 * for any (device, PASID), write first-stage table entries, context and
 * PASID-directory entries, queue arbitrary 256-bit descriptors (PASID
 * cache, PASID-based IOTLB, IOTLB, device-TLB, context cache, wait, or any
 * type), write the tail, toggle TE / SRTP / QIE, arm the emulated host's
 * x-fail-nth, reset, and DMA with or without a PASID.
 *
 * After each input: QEMU still answers, and once the guest turns
 * translation off the nest module holds no nested HWPT and the emulated
 * host holds exactly its plug-time objects (x-objects back to baseline).
 *
 * Runs (scripts/fuzz-vtd-nest.sh): without environment, a fixed set of
 * seeds (make check); VNEST_FUZZ_SECONDS=N: random seeds for N seconds;
 * VNEST_FUZZ_REPLAY=FILE: one input from a file. VNEST_FUZZ_LAST=FILE:
 * each input is written there before it runs, so a crash can be kept.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "hw/i386/intel_iommu_internal.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"
#include "vnest-fuzz.h"

#define VTD_BASE        0xfed90000ULL
#define NDEV            3               /* two assigned, one emulated */
#define DEVFN(i)        QPCI_DEVFN(4 + (i), 0)
#define IOMMU_PATH      "/machine/peripheral/iommu0"
#define EMU_PATH        "/objects/emu0"
#define PAGE            4096ULL
#define NPOOL           32              /* pages the fuzzer addresses */
#define NTABLES         4               /* PASID tables: 256 PASIDs */
#define QI_DESC         32
#define QI_ENTRIES      (PAGE / QI_DESC)
#define IOVA            0x40000000ULL
#define CHECK_SEEDS     150             /* make check: seeds 1..150 */
#define CHECK_LEN       768

/* The nest module's counters, summed over inputs: what was reached. */
static const char *const stat_names[] = {
    "hwpt_allocs", "attaches", "detaches", "inv_calls", "inv_entries",
    "guest_faults", "host_errors",
};
static uint64_t stat_sum[ARRAY_SIZE(stat_names)];
static uint64_t dma_done, dma_refused, dma_error;

typedef struct Fuzz {
    QOSState *qs;
    QTestState *qts;
    DmaTestDev dev[NDEV];
    uint64_t root, ctx, queue, wait;
    uint64_t dir[NDEV];
    uint64_t table[NDEV][NTABLES];
    uint64_t pool[NPOOL];
    unsigned tail;
    uint16_t last_did;                  /* of the last plausible entry */
    uint32_t last_pasid;
    uint64_t base_objects;
    /* the input */
    VnestFuzzInput in;
    bool debug;                         /* VNEST_FUZZ_DEBUG: print ops */
} Fuzz;

/* Input decoding (vnest-fuzz.h): past the end, everything reads as 0. */
#define in8(f)  vnest_fuzz_u8(&(f)->in)
#define in16(f) vnest_fuzz_u16(&(f)->in)
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
        return f->pool[(sel >> 2) % NPOOL] | (in64(f) & 0xfff000000000fffULL);
    default:
        return in64(f);
    }
}

static uint32_t in_pasid(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel & 3) {
    case 0:
        return 0;
    case 1:
        return 1 + (sel >> 2) % 8;
    case 2:
        return in8(f);                  /* within pasid-bits=8 */
    default:
        return in16(f) | (uint32_t)in8(f) << 16;
    }
}

static uint64_t in_iova(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel & 3) {
    case 0:
        return IOVA + (sel >> 2) * PAGE;
    case 1:
        return f->pool[(sel >> 2) % NPOOL];
    case 2:
        return (uint64_t)in16(f) << 12;
    default:
        return in64(f);
    }
}

static uint64_t qom_uint(Fuzz *f, const char *path, const char *prop)
{
    return vnest_qom_get_uint(f->qts, path, prop);
}

static void fail_nth(Fuzz *f, uint64_t nth)
{
    vnest_qom_set_uint(f->qts, EMU_PATH, "x-fail-nth", nth);
}

static uint64_t zpage(Fuzz *f, int n)
{
    uint64_t gpa = guest_alloc(&f->qs->alloc, n * PAGE);

    g_assert_cmphex(gpa & (PAGE - 1), ==, 0);
    qtest_memset(f->qts, gpa, 0, n * PAGE);
    return gpa;
}

static void gcmd(Fuzz *f, uint32_t cmd)
{
    uint32_t sts = qtest_readl(f->qts, VTD_BASE + DMAR_GSTS_REG);

    /* GCMD takes one-shot commands on top of the persistent status. */
    sts &= VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES | VTD_GSTS_CFIS;
    qtest_writel(f->qts, VTD_BASE + DMAR_GCMD_REG, sts | cmd);
}

/* Queued invalidation, root table, translation on. */
static void vtd_setup(Fuzz *f)
{
    qtest_writeq(f->qts, VTD_BASE + DMAR_IQT_REG, 0);
    qtest_writeq(f->qts, VTD_BASE + DMAR_IQA_REG, f->queue | (1ULL << 11));
    gcmd(f, VTD_GCMD_QIE);
    qtest_writeq(f->qts, VTD_BASE + DMAR_RTADDR_REG, f->root | VTD_RTADDR_SMT);
    gcmd(f, VTD_GCMD_SRTP);
    gcmd(f, VTD_GCMD_TE);
    f->tail = 0;
}

/* Root, context, PASID directory and tables: a guest that did it right. */
static void fuzz_init(Fuzz *f)
{
    uint64_t ecam;
    int i, j;

    f->qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                          "-device intel-iommu,id=iommu0,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on,pasid-bits=8 "
                          "-object iommufd,id=emu0,emulated=on,host-iommu=vtd "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=dma0 "
                          "-object vnest-sim-assign,id=sa1,iommufd=emu0,"
                          "device=dma1 "
                          "-device vnest-dma-test,id=dma0,addr=04.0 "
                          "-device vnest-dma-test,id=dma1,addr=05.0 "
                          "-device vnest-dma-test,id=dma2,addr=06.0");
    f->qts = f->qs->qts;
    ecam = dmadev_q35_enable_ecam(f->qs->pcibus);
    for (i = 0; i < NDEV; i++) {
        dmadev_open(&f->dev[i], f->qts, f->qs->pcibus, DEVFN(i));
        dmadev_set_ecam(&f->dev[i], ecam);
        dmadev_pasid_enable(&f->dev[i], true);
    }
    f->base_objects = qom_uint(f, EMU_PATH, "x-objects");

    f->root = zpage(f, 1);
    f->ctx = zpage(f, 1);
    f->queue = zpage(f, 1);
    f->wait = zpage(f, 1);
    for (i = 0; i < NPOOL; i++) {
        f->pool[i] = zpage(f, 1);
    }
    qtest_writeq(f->qts, f->root, f->ctx | VTD_ROOT_ENTRY_P);
    for (i = 0; i < NDEV; i++) {
        uint64_t ce = f->ctx + DEVFN(i) * 32;

        f->dir[i] = zpage(f, 1);
        for (j = 0; j < NTABLES; j++) {
            f->table[i][j] = zpage(f, 1);
            qtest_writeq(f->qts, f->dir[i] + j * 8,
                         f->table[i][j] | VTD_PASID_ENTRY_P);
        }
        /* PDTS 0: 128 directory entries, RID_PASID 0 */
        qtest_writeq(f->qts, ce, f->dir[i] | VTD_CONTEXT_ENTRY_P);
    }

    vtd_setup(f);
}

static uint64_t pasid_entry(Fuzz *f, int dev, uint32_t pasid)
{
    return f->table[dev][(pasid >> 6) % NTABLES] + (pasid & 63) * 64;
}

static void queue_desc(Fuzz *f, const uint64_t d[4])
{
    uint64_t slot = f->queue + f->tail * QI_DESC;
    int i;

    for (i = 0; i < 4; i++) {
        qtest_writeq(f->qts, slot + i * 8, d[i]);
    }
    f->tail = (f->tail + 1) % QI_ENTRIES;
}

/*
 * After IQE / ITE, as Linux's qi_check_fault() does: overwrite the
 * refused descriptor at the head with a harmless wait, clear the error;
 * the hardware resumes from the head with the descriptors after it.
 */
static void recover(Fuzz *f)
{
    uint64_t head = qtest_readq(f->qts, VTD_BASE + DMAR_IQH_REG) % PAGE;
    uint64_t wait[4] = { 5 | (1ULL << 5), f->wait + 8 };     /* SW */
    int i;

    for (i = 0; i < 4; i++) {
        qtest_writeq(f->qts, f->queue + head + i * 8, wait[i]);
    }
    qtest_writel(f->qts, VTD_BASE + DMAR_FSTS_REG,
                 VTD_FSTS_IQE | (1 << 5) | (1 << 6));      /* ICE, ITE */
}

static void kick(Fuzz *f)
{
    if (qtest_readl(f->qts, VTD_BASE + DMAR_FSTS_REG) & VTD_FSTS_IQE) {
        recover(f);
    }
    qtest_writeq(f->qts, VTD_BASE + DMAR_IQT_REG, (uint64_t)f->tail * QI_DESC);
}

/* One descriptor: a known type with fuzzed fields, or anything at all. */
static void op_desc(Fuzz *f)
{
    static const uint8_t types[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint8_t sel = in8(f);
    uint64_t d[4] = { 0 };

    if (sel < 224) {
        uint8_t gran = in8(f);

        /* DID and PASID: mostly those of the last entry written */
        d[0] = types[sel % ARRAY_SIZE(types)] | ((uint64_t)(gran & 3) << 4);
        if (gran & 0x80) {
            d[0] |= ((uint64_t)(in8(f) % 4) << 16) |
                    ((uint64_t)in_pasid(f) << 32);
        } else {
            d[0] |= ((uint64_t)f->last_did << 16) |
                    ((uint64_t)f->last_pasid << 32);
        }
        if ((sel & 0xc0) == 0xc0) {
            d[0] ^= in64(f) & 0xfff0000fff00ffc0ULL;      /* other fields */
        }
        if (types[sel % ARRAY_SIZE(types)] == 5) {
            /* wait: status write somewhere in the pool, or anywhere */
            d[1] = sel & 0x40 ? in_val(f) : f->wait;
        } else {
            d[1] = in_iova(f) | (in8(f) & 0x7f);           /* AM, IH */
        }
    } else {
        d[0] = in64(f);
        d[1] = in64(f);
    }
    if ((sel & 0x30) == 0x30) {
        d[2] = in_val(f);
        d[3] = in_val(f);
    }
    queue_desc(f, d);
}

/* A wait descriptor, the tail, and a bounded poll (no error if none). */
static void op_wait(Fuzz *f)
{
    uint64_t d[4] = { 5 | (1ULL << 5) | (0x600dULL << 32), f->wait };
    int i;

    qtest_writel(f->qts, f->wait, 0);
    queue_desc(f, d);
    kick(f);
    for (i = 0; i < 4; i++) {
        if (qtest_readl(f->qts, f->wait) == 0x600d) {
            break;
        }
    }
    if (f->debug) {
        fprintf(stderr, "wait %s, FSTS %x GSTS %x IQH %" PRIx64 " tail %u\n",
                i < 4 ? "done" : "not done",
                qtest_readl(f->qts, VTD_BASE + DMAR_FSTS_REG),
                qtest_readl(f->qts, VTD_BASE + DMAR_GSTS_REG),
                qtest_readq(f->qts, VTD_BASE + DMAR_IQH_REG), f->tail);
    }
}

static void op_pasid_raw(Fuzz *f)
{
    int dev = in8(f) % NDEV;
    uint64_t pe = pasid_entry(f, dev, in_pasid(f));
    int i;

    for (i = 7; i >= 0; i--) {
        qtest_writeq(f->qts, pe + i * 8, in_val(f));
    }
}

/* Present, PGTT, DID and table from a few bytes, then some bits flipped. */
static void op_pasid_plausible(Fuzz *f)
{
    static const uint8_t pgtts[] = { 1, 1, 1, 4, 4, 2, 0, 3 };
    int dev = in8(f) % NDEV;
    uint32_t pasid = in_pasid(f);
    uint64_t pe = pasid_entry(f, dev, pasid);
    uint8_t pgtt = in8(f), flags = in8(f);
    uint64_t v[8] = { 0 };
    int i;

    v[0] = VTD_PASID_ENTRY_P | (2ULL << 2) |
           ((uint64_t)pgtts[pgtt & 7] << 6);
    v[1] = in8(f) % 4;                                     /* DID */
    f->last_did = v[1];
    f->last_pasid = pasid;
    v[2] = f->pool[(pgtt >> 3) % NPOOL];                   /* FSPTPTR */
    if (flags & 0x10) {
        v[2] |= in8(f) & 0x9f;                             /* SRE FSPM WPE */
    }
    if (flags & 0x20) {
        v[0] |= f->pool[in8(f) % NPOOL];                   /* SSPTPTR */
    }
    if (flags & 0x40) {
        v[in8(f) % 8] ^= 1ULL << (in8(f) % 64);
    }
    for (i = 7; i >= 0; i--) {
        qtest_writeq(f->qts, pe + i * 8, v[i]);
    }
    if (flags & 0x80) {
        /* as a driver does: a PASID-selective PASID-cache invalidation */
        uint64_t d[4] = { 0x7 | (1ULL << 4) | (v[1] & 0xffff) << 16 |
                          (uint64_t)pasid << 32 };

        queue_desc(f, d);
        if (flags & 1) {
            kick(f);
        }
    }
}

/*
 * What a driver does around a mapping change: a valid first-stage PASID
 * entry (its PASID-cache invalidation unless told not to), then several
 * invalidations of that domain and PASID in one submission (PASID-based
 * IOTLB page- or PASID-selective, domain-selective IOTLB, device TLB),
 * ended by a wait or by the tail alone: the batching path.
 */
static void op_bind_inv(Fuzz *f)
{
    int dev = in8(f) % NDEV;
    uint32_t pasid = in_pasid(f);
    uint16_t did = in8(f) % 4;
    uint8_t ctl = in8(f);
    unsigned n = 1 + in8(f) % 12, i;
    uint64_t pe = pasid_entry(f, dev, pasid);
    uint64_t v[8] = {
        VTD_PASID_ENTRY_P | (2ULL << 2) | (1ULL << 6), did,
        f->pool[ctl % NPOOL],
    };

    for (i = 8; i-- > 0;) {
        qtest_writeq(f->qts, pe + i * 8, v[i]);
    }
    f->last_did = did;
    f->last_pasid = pasid;
    if (!(ctl & 0x80)) {
        uint64_t d[4] = { 0x7 | (1ULL << 4) | (uint64_t)did << 16 |
                          (uint64_t)pasid << 32 };

        queue_desc(f, d);
    }
    for (i = 0; i < n; i++) {
        uint8_t kind = in8(f);
        uint64_t d[4] = { 0 };

        switch (kind % 4) {
        case 0:     /* PASID-based IOTLB, page-selective, AM, IH */
        case 1:     /* ... or all of the PASID */
            d[0] = 0x6 | (kind % 4 ? 2ULL << 4 : 3ULL << 4) |
                   (uint64_t)did << 16 | (uint64_t)pasid << 32;
            d[1] = in_iova(f) | (kind >> 2 & 0x7f);
            break;
        case 2:     /* domain-selective IOTLB */
            d[0] = 0x2 | (2ULL << 4) | (uint64_t)did << 16;
            break;
        default:    /* PASID-based device TLB, S bit from the input */
            d[0] = 0x8 | (uint64_t)DEVFN(dev) << 16 | (uint64_t)pasid << 32;
            d[1] = in_iova(f) | (kind & 0x80 ? 1ULL << 11 : 0);
            break;
        }
        queue_desc(f, d);
    }
    if (ctl & 0x40) {
        kick(f);
    } else {
        op_wait(f);
    }
}

/* A first-stage (or any) table entry in a pool page. */
static void op_pt(Fuzz *f)
{
    uint64_t page = f->pool[in8(f) % NPOOL];
    uint64_t slot = page + (in16(f) % 512) * 8;
    uint8_t sel = in8(f);
    uint64_t v;

    if (sel & 1) {
        /* present, writable, user, maybe PS: a pool page */
        v = f->pool[(sel >> 1) % NPOOL] | 0x7 | (sel & 0x80 ? 0x80 : 0);
    } else {
        v = in_val(f);
    }
    qtest_writeq(f->qts, slot, v);
}

static void op_map(Fuzz *f)
{
    /* Map IOVA page n to a pool page through pool tables 0-3 (4 levels). */
    uint8_t n = in8(f) % 64, tgt = in8(f) % NPOOL;
    uint64_t iova = IOVA + n * PAGE;
    int lvl;

    for (lvl = 4; lvl > 1; lvl--) {
        uint64_t idx = (iova >> (12 + 9 * (lvl - 1))) & 0x1ff;

        qtest_writeq(f->qts, f->pool[4 - lvl] + idx * 8,
                     f->pool[5 - lvl] | 0x7);
    }
    qtest_writeq(f->qts, f->pool[3] + ((iova >> 12) & 0x1ff) * 8,
                 f->pool[tgt] | 0x7);
}

static void op_gcmd(Fuzz *f)
{
    uint8_t sel = in8(f);

    switch (sel % 5) {
    case 0:
        gcmd(f, VTD_GCMD_SRTP);
        break;
    case 1:
        /* TE off, then maybe on again */
        qtest_writel(f->qts, VTD_BASE + DMAR_GCMD_REG,
                     qtest_readl(f->qts, VTD_BASE + DMAR_GSTS_REG) &
                     (VTD_GSTS_QIES | VTD_GSTS_IRES));
        if (sel & 0x80) {
            gcmd(f, VTD_GCMD_TE);
        }
        break;
    case 2:
        qtest_writeq(f->qts, VTD_BASE + DMAR_RTADDR_REG,
                     (sel & 0x40 ? in_val(f) : f->root) |
                     (sel & 0x80 ? VTD_RTADDR_SMT : 0));
        gcmd(f, VTD_GCMD_SRTP);
        break;
    case 3:
        if (sel & 0x80) {
            qtest_writel(f->qts, VTD_BASE + DMAR_GCMD_REG, in16(f) << 16);
        } else {
            vtd_setup(f);
        }
        break;
    default:
        /* queue off and on again: head and tail restart at 0 */
        qtest_writel(f->qts, VTD_BASE + DMAR_GCMD_REG,
                     qtest_readl(f->qts, VTD_BASE + DMAR_GSTS_REG) &
                     VTD_GSTS_TES);
        qtest_writeq(f->qts, VTD_BASE + DMAR_IQT_REG, 0);
        qtest_writeq(f->qts, VTD_BASE + DMAR_IQA_REG,
                     sel & 0x80 ? in_val(f) : f->queue | (1ULL << 11));
        f->tail = 0;
        gcmd(f, VTD_GCMD_QIE);
        break;
    }
}

static void op_dma(Fuzz *f)
{
    int dev = in8(f) % NDEV;
    uint8_t sel = in8(f);
    uint32_t pasid = sel & 1 ? DMADEV_NO_PASID : in_pasid(f);
    uint64_t iova = in_iova(f);
    uint32_t len = 1 + in8(f) * 16;

    /* Done, refused or not issued: all fine, as long as QEMU carries on. */
    uint32_t sts;

    if (f->debug) {
        fprintf(stderr, "dma dev %d %s pasid %x iova %" PRIx64 " len %u\n",
                dev, sel & 2 ? "to" : "from", pasid, iova, len);
    }
    sts = dmadev_try_command(&f->dev[dev], sel & 2 ? 1 : 2, pasid, iova, len);
    if (f->debug) {
        fprintf(stderr, "dma status %x\n", sts);
    }
    if (sts & DMADEV_STATUS_ERROR) {
        dma_error++;
    } else if (sts & DMADEV_STATUS_FAULT) {
        dma_refused++;
    } else {
        dma_done++;
    }
}

static void op_reset(Fuzz *f)
{
    QDict *rsp = qtest_qmp(f->qts, "{ 'execute': 'system_reset' }");
    uint64_t ecam;
    int i;

    qobject_unref(rsp);
    qtest_qmp_eventwait(f->qts, "RESET");
    /* Firmware's part again: MMCONFIG, the devices' BARs and PASID. */
    ecam = dmadev_q35_enable_ecam(f->qs->pcibus);
    for (i = 0; i < NDEV; i++) {
        dmadev_close(&f->dev[i]);
        dmadev_open(&f->dev[i], f->qts, f->qs->pcibus, DEVFN(i));
        dmadev_set_ecam(&f->dev[i], ecam);
        dmadev_pasid_enable(&f->dev[i], true);
    }
    if (in8(f) & 1) {
        vtd_setup(f);
    }
}

static void fuzz_one(Fuzz *f)
{
    unsigned steps = 0;
    size_t i;

    while (vnest_fuzz_more(&f->in) && steps++ < 512) {
        uint8_t op = in8(f);

        if (f->debug) {
            fprintf(stderr, "op %u (%u) at %td\n", op % 20, op,
                    f->in.p - f->in.start);
        }

        switch (op % 20) {
        case 0:
        case 1:
            op_pasid_plausible(f);
            break;
        case 2:
            op_pasid_raw(f);
            break;
        case 3:
            op_pt(f);
            break;
        case 4:
            op_bind_inv(f);
            break;
        case 5:
            op_map(f);
            break;
        case 6:
        case 7:
        case 8:
            op_desc(f);
            break;
        case 9:
        case 10:
            kick(f);
            break;
        case 11:
            qtest_writeq(f->qts, VTD_BASE + DMAR_IQT_REG,
                         op & 0x80 ? in64(f) : (uint64_t)in8(f) << 5);
            break;
        case 12:
        case 13:
            op_wait(f);
            break;
        case 14:
            op_gcmd(f);
            break;
        case 15:
            fail_nth(f, in8(f) % 24);
            break;
        case 16:
        case 17:
            op_dma(f);
            break;
        case 18:
            switch (in8(f) % 4) {
            case 0:
                qtest_writeq(f->qts, f->ctx + DEVFN(in8(f) % NDEV) * 32 +
                             (in8(f) % 4) * 8, in_val(f));
                break;
            case 1:
                qtest_writeq(f->qts, f->dir[in8(f) % NDEV] +
                             (in8(f) % 128) * 8, in_val(f));
                break;
            case 2:
                dmadev_pasid_enable(&f->dev[in8(f) % NDEV], in8(f) & 1);
                break;
            default:
                recover(f);
                break;
            }
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

    /* QEMU still answers; then the guest turns translation off. */
    fail_nth(f, 0);
    for (i = 0; i < ARRAY_SIZE(stat_names); i++) {
        g_autofree char *prop = g_strdup_printf("x-nest-%s", stat_names[i]);

        stat_sum[i] += qom_uint(f, IOMMU_PATH, prop);
    }
    qtest_writel(f->qts, VTD_BASE + DMAR_GCMD_REG, 0);
    g_assert_false(qtest_readl(f->qts, VTD_BASE + DMAR_GSTS_REG) &
                   VTD_GSTS_TES);
    g_assert_cmpuint(qom_uint(f, IOMMU_PATH, "x-nest-hwpts"), ==, 0);
    g_assert_cmpuint(qom_uint(f, EMU_PATH, "x-objects"), ==,
                     f->base_objects);
}

static void fuzz_fini(Fuzz *f)
{
    int i;

    for (i = 0; i < NDEV; i++) {
        dmadev_close(&f->dev[i]);
    }
    qtest_shutdown(f->qs);
}

static void run_input(const uint8_t *data, size_t len)
{
    Fuzz f = { .in = vnest_fuzz_input(data, len) };

    f.debug = !!g_getenv("VNEST_FUZZ_DEBUG");

    fuzz_init(&f);
    fuzz_one(&f);
    fuzz_fini(&f);
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
    g_test_message("DMA: %" PRIu64 " done, %" PRIu64 " refused, %" PRIu64
                   " not issued", dma_done, dma_refused, dma_error);
}

int main(int argc, char **argv)
{
    static const VnestFuzz fz = {
        .name = "vtd-nest-fuzz",
        .run = run_input,
        .stats = print_stats,
        .check_seeds = CHECK_SEEDS,
        .check_len = CHECK_LEN,
        .timed_len = 2048,
    };

    return vnest_fuzz_main(argc, argv, &fz);
}
