/*
 * VNest structured fuzzer: an s390 guest that writes anything into its
 * zPCI DMA tables and refreshes any range, over iommufd
 *
 * The input bytes are decoded into guest actions against one zpci function
 * whose vnest-dma-test device is assigned through the emulated host
 * (zpci-guest.c): write a page-table entry of segment 0 (a data page,
 * read-only or not, invalid, zero, or any 64-bit value), the segment entry
 * of segment 1 (invalid, a 1 MiB frame, a page table, zero, any value), the
 * region-third entry (valid, invalid, zero, any value), RPCIT any range
 * (also beyond the aperture), arm the emulated host's x-fail-nth, reset the
 * error state, deregister and register again, and DMA.
 *
 * An oracle walks the guest's tables itself (the rules of zpci-walk.c,
 * written again from the architecture) and checks each RPCIT's result:
 * condition code 0 where the walk is clean, the function's error state
 * (status 8) exactly where it finds a bad entry, insufficient resources
 * (status 16) only when an injected failure hit. It then knows what each
 * page of the two segments translates to, and each DMA must land or be
 * refused accordingly (pages whose refresh ran out of resources or ended
 * in an error are unknown until refreshed again). After each input, a
 * deregistration leaves no mapping and the emulated host holds the objects
 * it held at the start.
 *
 * Runs: without environment, a fixed set of seeds (make check);
 * VNEST_FUZZ_SECONDS=N: random seeds for N seconds;
 * VNEST_FUZZ_REPLAY=FILE: one input from a file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "zpci-guest.h"
#include "vnest-qtest.h"
#include "vnest-fuzz.h"

#define NPAGES          512             /* segments 0 and 1 */
#define NPOOL           32              /* data pages valid entries use */
#define PT2_ADDR        (PT_ADDR + 0x800)       /* segment 1's page table */
#define FRAME_1M        UINT64_C(0x1000000)
#define CHECK_SEEDS     25
#define CHECK_LEN       256
#define MPCIFC_RESET_ERROR 7

typedef enum PageState {
    PS_UNKNOWN,
    PS_NONE,
    PS_RO,
    PS_RW,
} PageState;

typedef struct Fuzz {
    Zpci z;
    VnestFuzzInput in;
    PageState state[NPAGES];
    uint64_t gpa[NPAGES];
    bool registered;
    bool in_error;
    unsigned fail_nth;          /* armed for the next RPCIT */
} Fuzz;

static uint64_t dma_checked, rpcit_errors, rpcit_nores;

#define next8(f) vnest_fuzz_u8(&(f)->in)

/* big-endian, unlike vnest_fuzz_u64(): the fixed seeds' inputs as before */
static uint64_t next64(Fuzz *f)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = v << 8 | next8(f);
    }
    return v;
}

/* ---- the oracle ---- */

typedef struct Xlate {
    bool bad;                   /* a bad entry: the function errs */
    bool mapped;
    bool ro;
    uint64_t gpa;
    uint64_t span;              /* the same answer for this aligned size */
} Xlate;

static uint64_t rd(Fuzz *f, uint64_t addr)
{
    /* Beyond guest RAM (256 MiB) reads as zero, a bad entry */
    return addr < (256 << 20) ? qtest_readq(f->z.qts, addr) : 0;
}

/* What IOVA @va translates to, by the architecture's rules */
static Xlate oracle(Fuzz *f, uint64_t va)
{
    Xlate x = { .span = UINT64_C(1) << 31 };
    uint64_t rte, ste, pte;

    rte = rd(f, RT_ADDR + ((va >> 31) & 0x7ff) * 8);
    if (!rte) {
        x.bad = true;
        return x;
    }
    if (rte & 0x20) {
        return x;
    }
    if ((rte & 3) != 3 || (rte & 0xc0) || (rte & 0xc) != 4 ||
        !(rte & ~UINT64_C(0x3fff))) {
        x.bad = true;
        return x;
    }
    x.span = 1 << 20;
    ste = rd(f, (rte & ~UINT64_C(0x3fff)) + ((va >> 20) & 0x7ff) * 8);
    if (!ste) {
        x.bad = true;
        return x;
    }
    if (ste & 0x20) {
        return x;
    }
    if ((ste & 0xc) || !(ste & ~UINT64_C(0x7ff))) {
        x.bad = true;
        return x;
    }
    x.ro = (rte | ste) & 0x200;
    if (ste & 0x400) {
        x.mapped = true;
        x.gpa = (ste & ~UINT64_C(0xfffff)) + (va & 0xff000);
        x.span = PAGE;
    } else {
        x.span = PAGE;
        pte = rd(f, (ste & ~UINT64_C(0x7ff)) + ((va >> 12) & 0xff) * 8);
        if (!pte) {
            x.bad = true;
            return x;
        }
        if (pte & 0x400) {
            return x;
        }
        x.mapped = true;
        x.ro |= pte & 0x200;
        x.gpa = pte & ~UINT64_C(0xfff);
    }
    /* A frame that is not guest RAM stays unmapped */
    if (x.gpa >= (256 << 20)) {
        x.mapped = false;
    }
    return x;
}

/* ---- actions ---- */

/* Mostly @plausible; sometimes zero or any value */
static uint64_t any_entry(Fuzz *f, uint64_t plausible)
{
    switch (next8(f) % 16) {
    case 0:
        return 0;
    case 1:
        return next64(f);
    default:
        return plausible;
    }
}

static void act_pte(Fuzz *f)
{
    unsigned i = next8(f) % NPOOL, k = next8(f) % (2 * NPOOL);
    uint8_t how = next8(f) % 5;

    /* Half the time page i on data page i: runs of several pages */
    k = k < NPOOL ? k : i;
    uint64_t te = zpci_data(k) | (how == 1 ? TE_PROTECTED : 0);

    if (how == 2) {
        te = PTE_INVALID;
    } else if (how == 3) {
        te = any_entry(f, te);
    }
    /* Segment 0 or segment 1's page table */
    qtest_writeq(f->z.qts, (next8(f) & 1 ? PT2_ADDR : PT_ADDR) + i * 8, te);
}

static void act_ste(Fuzz *f)
{
    static const uint64_t kinds[] = {
        TE_INVALID, FRAME_1M | STE_FC, FRAME_1M | STE_FC | TE_PROTECTED,
        PT2_ADDR,
    };
    uint64_t te = kinds[next8(f) % ARRAY_SIZE(kinds)];

    qtest_writeq(f->z.qts, ST_ADDR + (((IOVA >> 20) + 1) & 0x7ff) * 8,
                 any_entry(f, te));
}

static void act_rte(Fuzz *f)
{
    uint64_t te = next8(f) & 1 ? TE_INVALID : ST_ADDR | RTE_RTX_FULL;

    qtest_writeq(f->z.qts, RT_ADDR + (IOVA >> 31) * 8, any_entry(f, te));
}

static void expect_unknown(Fuzz *f, uint64_t start, uint64_t end)
{
    uint64_t va;

    for (va = MAX(start, IOVA); va < end && va < IOVA + NPAGES * PAGE;
         va += PAGE) {
        f->state[(va - IOVA) / PAGE] = PS_UNKNOWN;
    }
}

static void act_rpcit(Fuzz *f)
{
    uint8_t kind = next8(f);
    uint64_t first = next8(f) % 300, n = 1 + next8(f) % 64;
    uint64_t start, end, va;
    bool bad = false;
    Insn r;

    if (kind < 0x80) {
        /* A few pages where the entries are: refreshes that cut runs */
        first = (kind & 1 ? 256 : 0) + next8(f) % NPOOL;
        n = 1 + n % 8;
    } else if (kind == 0xff) {
        first += APERTURE / PAGE;       /* beyond the aperture */
    } else if (kind >= 0xf0) {
        first = 0;                      /* the whole aperture */
        n = APERTURE / PAGE;
    } else if (kind >= 0xe8) {
        n = 0;
    }
    start = IOVA + first * PAGE;
    end = MIN(start + n * PAGE, IOVA + APERTURE);
    for (va = start; va < end && !bad; ) {
        Xlate x = oracle(f, va);

        bad = x.bad;
        va = QEMU_ALIGN_DOWN(va, x.span) + x.span;
    }
    if (start >= IOVA + APERTURE) {
        bad = true;                     /* out of range */
    }
    if (f->fail_nth) {
        vnest_qom_set_uint(f->z.qts, EMU, "x-fail-nth", f->fail_nth);
    }
    if (kind >= 0xe0 && kind < 0xe8 && n) {
        /* Unaligned ends inside the first and last page: the same pages */
        uint64_t off = next8(f) * 8, trim = next8(f) * 8;

        r = zpci_insn(&f->z, "rpcit 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64,
                      (uint64_t)f->z.fh << 32, start + off,
                      n * PAGE - off - trim);
    } else {
        r = zpci_rpcit(&f->z, first, n);
    }
    if (f->fail_nth) {
        g_autofree char *site = vnest_qom_get_str(f->z.qts, EMU,
                                                  "x-fail-site");

        vnest_qom_set_uint(f->z.qts, EMU, "x-fail-nth", 0);
        f->fail_nth = 0;
        if (site[0]) {
            /*
             * Only a host call fails: out of resources. The outer parts
             * of a dropped run may be lost too: nothing is known.
             */
            g_assert_cmpuint(r.cc, ==, 1);
            g_assert_cmpuint(zpci_insn_status(r), ==, ST_INSUFF_RES);
            expect_unknown(f, 0, UINT64_MAX);
            rpcit_nores++;
            return;
        }
    }
    if (!f->registered || f->in_error) {
        /* No table: INVALAS puts the function in the error state */
        g_assert_cmpuint(r.cc, ==, 1);
        g_assert_cmpuint(zpci_insn_status(r), ==,
                         f->in_error ? ST_ERROR_RECOVER : ST_FUNC_IN_ERR);
        f->in_error = true;
        return;
    }
    if (bad) {
        g_assert_cmpuint(r.cc, ==, 1);
        g_assert_cmpuint(zpci_insn_status(r), ==, ST_FUNC_IN_ERR);
        f->in_error = true;
        rpcit_errors++;
        return;
    }
    g_assert_cmpuint(r.cc, ==, 0);
    for (va = start; va < end && va < IOVA + NPAGES * PAGE; va += PAGE) {
        Xlate x = oracle(f, va);
        unsigned i = (va - IOVA) / PAGE;

        f->state[i] = !x.mapped ? PS_NONE : x.ro ? PS_RO : PS_RW;
        f->gpa[i] = x.gpa;
    }
}

static void act_dma(Fuzz *f)
{
    unsigned i = next8(f) % NPOOL + (next8(f) & 1 ? 256 : 0);
    uint64_t gpa = f->gpa[i];

    if (f->in_error) {
        return;                 /* PCISTG is refused: no DMA to start */
    }
    switch (f->state[i]) {
    case PS_RW:
        /* Only into the data pools: elsewhere it could hit the tables */
        if ((gpa >= DATA_ADDR && gpa < DATA_ADDR + NPOOL * PAGE) ||
            (gpa >= FRAME_1M && gpa < FRAME_1M + (1 << 20))) {
            zpci_assert_lands(&f->z, zpci_iova(i), gpa, i);
            dma_checked++;
        }
        break;
    case PS_RO:
    case PS_NONE:
        zpci_assert_refused(&f->z, zpci_iova(i));
        dma_checked++;
        break;
    case PS_UNKNOWN:
        break;
    }
}

static void act_reset_error(Fuzz *f)
{
    Insn r = zpci_mpcifc(&f->z, MPCIFC_RESET_ERROR, 0);

    g_assert_cmpuint(r.cc, ==, f->in_error ? 0 : 1);
    f->in_error = false;
}

static void act_reregister(Fuzz *f)
{
    unsigned i;

    if (f->registered) {
        g_assert_cmpuint(zpci_mpcifc(&f->z, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
        g_assert_cmpuint(zpci_stat(&f->z, "runs"), ==, 0);
        for (i = 0; i < NPAGES; i++) {
            f->state[i] = PS_NONE;
        }
    }
    f->registered = !f->registered || next8(f) & 1;
    if (f->registered) {
        zpci_register(&f->z);
    }
}

static void fuzz_one(Fuzz *f)
{
    while (vnest_fuzz_more(&f->in)) {
        switch (next8(f) % 16) {
        case 0 ... 4:
            act_pte(f);
            break;
        case 5:
            act_ste(f);
            break;
        case 6:
            if (next8(f) % 8) {
                act_pte(f);
            } else {
                act_rte(f);
            }
            break;
        case 7 ... 9:
            act_rpcit(f);
            break;
        case 10 ... 13:
            act_dma(f);
            break;
        case 14:
            if (next8(f) % 4) {
                act_reset_error(f);
            } else {
                f->fail_nth = 1 + next8(f) % 4;
            }
            break;
        case 15:
            if (next8(f) % 4) {
                act_dma(f);
            } else {
                act_reregister(f);
            }
            break;
        }
    }
}

static void run_input(const uint8_t *data, size_t len)
{
    Fuzz f = { .in = vnest_fuzz_input(data, len), .registered = true };
    uint64_t objects;
    unsigned i;

    for (i = 0; i < NPAGES; i++) {
        f.state[i] = PS_NONE;
    }
    zpci_start(&f.z, "");
    zpci_table_fill(&f.z, PT2_ADDR, 256, PTE_INVALID);
    objects = vnest_qom_get_uint(f.z.qts, EMU, "x-objects");
    fuzz_one(&f);
    if (f.in_error) {
        act_reset_error(&f);
    }
    if (f.registered) {
        g_assert_cmpuint(zpci_mpcifc(&f.z, MPCIFC_DEREG_IOAT, 0).cc, ==, 0);
    }
    g_assert_cmpuint(zpci_stat(&f.z, "runs"), ==, 0);
    g_assert_cmpuint(vnest_qom_get_uint(f.z.qts, EMU, "x-objects"), ==,
                     objects);
    zpci_stop(&f.z);
}

static void print_stats(void)
{
    g_test_message("DMA checked %" PRIu64 ", RPCITs in error %" PRIu64
                   ", out of resources %" PRIu64, dma_checked, rpcit_errors,
                   rpcit_nores);
}

int main(int argc, char **argv)
{
    static const VnestFuzz fz = {
        .name = "zpci-iommufd-fuzz",
        .run = run_input,
        .stats = print_stats,
        .check_seeds = CHECK_SEEDS,
        .check_len = CHECK_LEN,
        .timed_len = 1024,
    };

    return vnest_fuzz_main(argc, argv, &fz);
}
