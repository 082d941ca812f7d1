/*
 * VNest qtest: arm-smmuv3 accel=on options and the host's capabilities
 *
 * -M virt,iommu=smmuv3 with accel=on and one vnest-dma-test device
 * assigned through the emulated host (host-iommu=smmuv3), whose ID
 * registers the x-host-* properties narrow. Four tables:
 * - defaults: no option set, the guest reads QEMU 10.0's ID registers;
 * - options: each option changes its field of the guest's ID registers,
 *   on a host that can back it (the device is nested);
 * - refusals: a host lacking what the guest is offered refuses the
 *   device at plug and QEMU exits with the field and the option to change;
 * - invalid: a value the SMMU cannot offer is refused at realize.
 * And three behaviours: with ats=on a guest ATC_INV of a nested device
 * reaches the host (without it, it does not); with ssidsize, an STE with
 * S1CDMax is nested instead of raising C_BAD_STE; on a host with erratum
 * T264-SMMU-3 TLBI/CFGI batches go to the host twice.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-malloc.h"
#include "tests/qtest/libqos/generic-pcihost.h"
#include "smmu-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"

#define RAM_BASE        0x40000000ULL
#define RAM_SIZE        (512 * MiB)
#define ECAM_BASE       0x4010000000ULL
#define DEVFN           QPCI_DEVFN(2, 0)
#define SID             DEVFN
#define PAGE            4096ULL
#define LEN             256
#define IOVA            0x80000000ULL
#define ASID            9

#define SMMU_CMD_ATC_INV    0x40

/* ID register fields (SMMUv3 spec 6.3) */
#define IDR0_S2P(v)         ((v) & 1)
#define IDR0_TTF(v)         (((v) >> 2) & 3)
#define IDR0_ATS(v)         (((v) >> 10) & 1)
#define IDR0_CD2L(v)        (((v) >> 19) & 1)
#define IDR1_SSIDSIZE(v)    (((v) >> 6) & 0x1f)
#define IDR3_RIL(v)         (((v) >> 10) & 1)
#define IDR3_FWB            (1u << 8)
#define IDR0_S1P            (1u << 1)
#define IDR3_XNX            (1u << 4)
#define IDR5_OAS(v)         ((v) & 7)
#define IDR5_GRANS(v)       (((v) >> 4) & 7)

typedef struct Caps {
    QTestState *qts;
    QGuestAllocator alloc;
    QGenericPCIBus pci;
    SmmuGuest *g;
    DmaTestDev dev;
    char *smmu;                 /* QOM path of the SMMUv3 */
} Caps;

typedef struct Idrs {
    uint32_t idr0, idr1, idr3, idr5;
} Idrs;

/* virt's SMMUv3 (iommu=smmuv3) */
static char *find_smmu(QTestState *qts)
{
    return vnest_qom_find_child(qts, "/machine/unattached", "arm-smmuv3");
}

/*
 * The command line: @smmu the -global arm-smmuv3 settings (each
 * ",name=value" becomes one -global), @host the emulated host's
 * x-host-* properties, one device assigned unless @host is NULL.
 */
static char *caps_args(const char *smmu, const char *host)
{
    g_auto(GStrv) opts = g_strsplit(smmu, ",", -1);
    GString *s = g_string_new("-M virt,iommu=smmuv3 -cpu max -m 512M "
                              "-nodefaults ");
    int i;

    for (i = 0; opts[i]; i++) {
        if (*opts[i]) {
            g_string_append_printf(s, "-global arm-smmuv3.%s ", opts[i]);
        }
    }
    if (host) {
        g_string_append_printf(s, "-object iommufd,id=emu0,emulated=on,"
                               "host-iommu=smmuv3%s "
                               "-object vnest-sim-assign,id=sa0,"
                               "iommufd=emu0,device=dma0 ", host);
    }
    g_string_append(s, "-device vnest-dma-test,id=dma0,addr=02.0");
    return g_string_free(s, false);
}

static void caps_init(Caps *t, const char *smmu, const char *host)
{
    g_autofree char *args = caps_args(smmu, host);

    t->qts = qtest_init(args);
    alloc_init(&t->alloc, 0, RAM_BASE, RAM_BASE + RAM_SIZE, PAGE);
    qpci_init_generic(&t->pci, t->qts, &t->alloc, false);
    dmadev_open(&t->dev, t->qts, &t->pci.bus, DEVFN);
    dmadev_set_ecam(&t->dev, ECAM_BASE);
    t->g = smmu_guest_new(t->qts, &t->alloc, SMMU_VIRT_BASE, false);
    t->smmu = find_smmu(t->qts);
}

static void caps_fini(Caps *t)
{
    smmu_guest_free(t->g);
    dmadev_close(&t->dev);
    alloc_destroy(&t->alloc);
    g_free(t->smmu);
    qtest_quit(t->qts);
}

static uint64_t nstat(Caps *t, const char *name)
{
    g_autofree char *prop = g_strdup_printf("x-nest-%s", name);

    return vnest_qom_get_uint(t->qts, t->smmu, prop);
}

static Idrs read_idrs(Caps *t)
{
    return (Idrs) {
        .idr0 = smmu_guest_readl(t->g, SMMU_IDR0),
        .idr1 = smmu_guest_readl(t->g, SMMU_IDR1),
        .idr3 = smmu_guest_readl(t->g, SMMU_IDR3),
        .idr5 = smmu_guest_readl(t->g, SMMU_IDR5),
    };
}

/* ---- defaults: QEMU 10.0's ID registers ---- */

/*
 * accel=on with no option set reads as accel=off does, but for what
 * accel=on has always changed: stage 2 (S2P, and XNX which comes with it)
 * is the host's.
 */
static void test_defaults(void)
{
    Caps t;
    Idrs off, on;

    caps_init(&t, "", NULL);
    off = read_idrs(&t);
    caps_fini(&t);
    caps_init(&t, "accel=on", "");
    on = read_idrs(&t);
    g_assert_cmpuint(nstat(&t, "vdevices"), ==, 1);
    caps_fini(&t);

    g_assert_cmphex(on.idr0, ==, off.idr0 & ~1u);
    g_assert_cmphex(on.idr1, ==, off.idr1);
    g_assert_cmphex(on.idr3, ==, off.idr3 & ~IDR3_XNX);
    g_assert_cmphex(on.idr5, ==, off.idr5);
    /* QEMU 10.0's: no ATS, no CD2L, no SSID, RIL, 44 bits, 4K/16K/64K */
    g_assert_true(IDR0_S2P(off.idr0));
    g_assert_cmphex(off.idr3 & IDR3_FWB, ==, 0);
    g_assert_cmpuint(IDR0_TTF(on.idr0), ==, 2);
    g_assert_cmpuint(IDR0_ATS(on.idr0), ==, 0);
    g_assert_cmpuint(IDR0_CD2L(on.idr0), ==, 0);
    g_assert_cmpuint(IDR1_SSIDSIZE(on.idr1), ==, 0);
    g_assert_cmpuint(IDR3_RIL(on.idr3), ==, 1);
    g_assert_cmpuint(IDR5_OAS(on.idr5), ==, 4);
    g_assert_cmpuint(IDR5_GRANS(on.idr5), ==, 7);
}

/* ---- options: each changes its field, on a host that backs it ---- */

typedef struct OptionCase {
    const char *name;
    const char *smmu;           /* -global arm-smmuv3.* */
    const char *host;           /* x-host-* of the emulated host */
    bool ats, cd2l, ril;
    unsigned ssidsize, oas;     /* IDR1.SSIDSIZE, IDR5.OAS encoding */
} OptionCase;

static const OptionCase option_cases[] = {
    { "ats", ",ats=on", ",x-host-ats=on", true, false, true, 0, 4 },
    { "ril-off", ",ril=off", ",x-host-ril=off", false, false, false, 0, 4 },
    { "ril-off-host-has", ",ril=off", "", false, false, false, 0, 4 },
    { "ssidsize", ",ssidsize=8", ",x-host-ssid-bits=8", false, true, true,
      8, 4 },
    { "ssidsize-20", ",ssidsize=20", "", false, true, true, 20, 4 },
    { "oas-48", ",oas=48", "", false, false, true, 0, 5 },
    { "oas-40", ",oas=40", ",x-host-oas=40", false, false, true, 0, 2 },
    { "oas-32", ",oas=32", ",x-host-oas=32", false, false, true, 0, 0 },
};

static void test_option(gconstpointer opaque)
{
    const OptionCase *c = opaque;
    g_autofree char *smmu = g_strdup_printf("accel=on%s", c->smmu);
    Caps t;
    Idrs r;

    caps_init(&t, smmu, c->host);
    r = read_idrs(&t);
    g_assert_cmpuint(nstat(&t, "vdevices"), ==, 1);
    g_assert_cmpuint(IDR0_ATS(r.idr0), ==, c->ats);
    g_assert_cmpuint(IDR0_CD2L(r.idr0), ==, c->cd2l);
    g_assert_cmpuint(IDR1_SSIDSIZE(r.idr1), ==, c->ssidsize);
    g_assert_cmpuint(IDR3_RIL(r.idr3), ==, c->ril);
    g_assert_cmpuint(IDR5_OAS(r.idr5), ==, c->oas);
    /* What no option touches stays QEMU 10.0's */
    g_assert_cmpuint(IDR0_TTF(r.idr0), ==, 2);
    g_assert_cmpuint(IDR5_GRANS(r.idr5), ==, 7);
    /* and survives a reset */
    qtest_system_reset(t.qts);
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_IDR1), ==, r.idr1);
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_IDR0), ==, r.idr0);
    caps_fini(&t);
}

/* ---- refusals: the host cannot back what the guest is offered ---- */

typedef struct RefusalCase {
    const char *name;
    const char *smmu;
    const char *host;
    const char *stderr_glob;    /* names the field and the option */
} RefusalCase;

static const RefusalCase refusal_cases[] = {
    { "ril", "", ",x-host-ril=off",
      "*dma0: the host SMMUv3 lacks range invalidation (IDR3.RIL)*"
      "use arm-smmuv3 ril=off*" },
    { "ats", ",ats=on", "",
      "*lacks ATS (IDR0.ATS)*use arm-smmuv3 ats=off*" },
    { "ssidsize", ",ssidsize=8", ",x-host-ssid-bits=4",
      "*has 4 SubstreamID bits (IDR1.SSIDSIZE)*offers the guest 8*"
      "use arm-smmuv3 ssidsize=4 or less*" },
    { "ssid-none", ",ssidsize=1", ",x-host-ssid-bits=0",
      "*has 0 SubstreamID bits (IDR1.SSIDSIZE)*"
      "use arm-smmuv3 ssidsize=0 or less*" },
    { "cd2l", ",ssidsize=8", ",x-host-cd2l=off",
      "*lacks 2-level CD tables (IDR0.CD2L)*use arm-smmuv3 ssidsize=0*" },
    { "oas-default", "", ",x-host-oas=40",
      "*has 40 output address bits (IDR5.OAS)*offers the guest 44*"
      "use arm-smmuv3 oas=40 or less*" },
    { "oas-48", ",oas=48", ",x-host-oas=44",
      "*has 44 output address bits (IDR5.OAS)*offers the guest 48*"
      "use arm-smmuv3 oas=44 or less*" },
    { "gran16k", "", ",x-host-gran16k=off",
      "*lacks the 16KB granule (IDR5.GRAN16K)*use arm-smmuv3 accel=off*" },
    { "gran64k", "", ",x-host-gran64k=off",
      "*lacks the 64KB granule (IDR5.GRAN64K)*use arm-smmuv3 accel=off*" },
};

/* QEMU with @smmu and @host exits, saying @glob. */
static void assert_exits(const char *smmu, const char *host,
                         const char *glob)
{
    if (g_test_subprocess()) {
        g_autofree char *args = caps_args(smmu, host);
        QTestState *qts = qtest_init(args);

        qtest_quit(qts);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr(glob);
}

static void test_refusal(gconstpointer opaque)
{
    const RefusalCase *c = opaque;
    g_autofree char *smmu = g_strdup_printf("accel=on%s", c->smmu);

    assert_exits(smmu, c->host, c->stderr_glob);
}

/* ---- invalid values: refused at realize ---- */

static const RefusalCase invalid_cases[] = {
    { "ssidsize-21", "accel=on,ssidsize=21", NULL,
      "*arm-smmuv3 ssidsize=21: SubstreamIDs have at most 20 bits "
      "(IDR1.SSIDSIZE)*" },
    { "oas-52", "accel=on,oas=52", NULL,
      "*arm-smmuv3 oas=52: not an output address size this SMMUv3 offers "
      "(IDR5.OAS)*oas=32, 36, 40, 42, 44 or 48*" },
    { "oas-45", "accel=on,oas=45", NULL, "*arm-smmuv3 oas=45: not an*" },
    { "ats-no-accel", "ats=on", NULL,
      "*arm-smmuv3 option 'ats' is for accel=on*" },
    { "ril-no-accel", "ril=off", NULL,
      "*arm-smmuv3 option 'ril' is for accel=on*" },
    { "ssidsize-no-accel", "ssidsize=4", NULL,
      "*arm-smmuv3 option 'ssidsize' is for accel=on*" },
    { "oas-no-accel", "oas=48", NULL,
      "*arm-smmuv3 option 'oas' is for accel=on*" },
    { "ats-auto", "accel=on,ats=auto", NULL,
      "*arm-smmuv3 ats=auto (the host's value) is not supported*" },
    { "ssidsize-auto", "accel=on,ssidsize=auto", NULL,
      "*arm-smmuv3 ssidsize=auto (the host's value) is not supported*" },
    { "oas-word", "accel=on,oas=wide", NULL,
      "*arm-smmuv3 oas='wide': expected a number of bits*" },
    { "s2fwb-accel", "accel=on,x-s2fwb=on", NULL,
      "*x-s2fwb=on describes the stage 2 QEMU emulates, but with accel=on "
      "the host's SMMU owns stage 2: drop x-s2fwb*" },
};

/*
 * x-s2fwb=on (virt's stage=nested SMMU, accel=off): IDR3.FWB set, the
 * rest as without it; both stages still offered. What a Linux guest
 * needs to offer nesting (guest/profiles/aarch64-iommufd-nest.sh).
 */
static void test_s2fwb(void)
{
    Caps t;
    Idrs off, on;

    caps_init(&t, "", NULL);
    off = read_idrs(&t);
    caps_fini(&t);
    caps_init(&t, "x-s2fwb=on", NULL);
    on = read_idrs(&t);
    /* ... and after a reset, which rewrites the ID registers */
    qtest_system_reset(t.qts);
    g_assert_cmphex(smmu_guest_readl(t.g, SMMU_IDR3), ==, on.idr3);
    caps_fini(&t);

    g_assert_cmphex(on.idr3, ==, off.idr3 | IDR3_FWB);
    g_assert_cmphex(on.idr0, ==, off.idr0);
    g_assert_true(IDR0_S2P(on.idr0) && (on.idr0 & IDR0_S1P));
    g_assert_cmphex(on.idr1, ==, off.idr1);
    g_assert_cmphex(on.idr5, ==, off.idr5);
}

static void test_invalid(gconstpointer opaque)
{
    const RefusalCase *c = opaque;

    assert_exits(c->smmu, c->host, c->stderr_glob);
}

/* ---- behaviour ---- */

/* A guest ATC_INV of the nested device, then CMD_SYNC */
static bool atc_inv(Caps *t)
{
    uint64_t cmd[2] = { SMMU_CMD_ATC_INV | (uint64_t)SID << 32, 52 };

    smmu_guest_cmd_queue(t->g, cmd);
    return smmu_guest_sync(t->g);
}

/*
 * ats=on: ATC_INV of a nested device goes to the host (which takes it: it
 * has ATS). Without ats, QEMU keeps it (nothing is cached anywhere).
 */
static void test_ats_atc_inv(void)
{
    Caps t;
    uint64_t entries;

    caps_init(&t, "accel=on,ats=on", ",x-host-ats=on");
    smmu_guest_enable(t.g, true);
    entries = nstat(&t, "inv_entries");
    g_assert_true(atc_inv(&t));
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries + 1);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    caps_fini(&t);

    caps_init(&t, "accel=on", ",x-host-ats=on");
    smmu_guest_enable(t.g, true);
    entries = nstat(&t, "inv_entries");
    g_assert_true(atc_inv(&t));
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries);
    caps_fini(&t);
}

/*
 * A host with erratum T264-SMMU-3 (x-host-errata-t264): each TLBI/CFGI
 * batch is sent twice, ATC_INV once; the guest sees one CMD_SYNC. Without
 * the erratum, once.
 */
static void test_errata_repeat(void)
{
    Caps t;
    uint64_t calls, entries, cmd[2];

    caps_init(&t, "accel=on,ats=on", ",x-host-ats=on,x-host-errata-t264=on");
    smmu_guest_enable(t.g, true);
    calls = nstat(&t, "inv_calls");
    entries = nstat(&t, "inv_entries");
    g_assert_true(smmu_guest_tlbi_nh_all(t.g));
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + 2);
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries + 2);
    g_assert_true(atc_inv(&t));
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + 3);
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries + 3);
    /* a mixed batch: both commands, then the TLBI alone */
    smmu_cmd_op(cmd, SMMU_CMD_TLBI_NH_ALL);
    smmu_guest_cmd_queue(t.g, cmd);
    g_assert_true(atc_inv(&t));
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + 5);
    g_assert_cmpuint(nstat(&t, "inv_entries"), ==, entries + 6);
    g_assert_cmpuint(nstat(&t, "host_errors"), ==, 0);
    caps_fini(&t);

    caps_init(&t, "accel=on", "");
    smmu_guest_enable(t.g, true);
    calls = nstat(&t, "inv_calls");
    g_assert_true(smmu_guest_tlbi_nh_all(t.g));
    g_assert_cmpuint(nstat(&t, "inv_calls"), ==, calls + 1);
    caps_fini(&t);
}

/*
 * ssidsize: an STE with a CD table of 2^4 CDs is the guest's to use: it is
 * nested and its CD 0 translates. Without, the same STE is C_BAD_STE.
 */
static void test_ssidsize_ste(void)
{
    Caps t;
    SmmuCtx *c;
    SmmuEvent e;
    uint64_t gpa;

    caps_init(&t, "accel=on,ssidsize=8", "");
    smmu_guest_enable(t.g, true);
    gpa = guest_alloc(&t.alloc, PAGE);
    c = smmu_guest_ste_s1(t.g, SID, 4, ASID);
    smmu_ctx_map(c, IOVA, gpa, PAGE, SMMU_PROT_RW);
    dmadev_assert_lands(&t.dev, DMADEV_NO_PASID, IOVA, gpa, LEN, 0x5a);
    g_assert_cmpuint(smmu_guest_events_pending(t.g), ==, 0);
    caps_fini(&t);

    caps_init(&t, "accel=on", "");
    smmu_guest_enable(t.g, true);
    smmu_guest_ste_s1(t.g, SID, 4, ASID);
    g_assert_true(smmu_guest_take_event(t.g, &e));
    g_assert_cmphex(e.type, ==, SMMU_EVT_C_BAD_STE);
    g_assert_cmphex(e.sid, ==, SID);
    caps_fini(&t);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/smmu-nest-caps/defaults", test_defaults);
    for (i = 0; i < G_N_ELEMENTS(option_cases); i++) {
        g_autofree char *p = g_strdup_printf("/smmu-nest-caps/option/%s",
                                             option_cases[i].name);

        qtest_add_data_func(p, &option_cases[i], test_option);
    }
    for (i = 0; i < G_N_ELEMENTS(refusal_cases); i++) {
        g_autofree char *p = g_strdup_printf("/smmu-nest-caps/refused/%s",
                                             refusal_cases[i].name);

        qtest_add_data_func(p, &refusal_cases[i], test_refusal);
    }
    for (i = 0; i < G_N_ELEMENTS(invalid_cases); i++) {
        g_autofree char *p = g_strdup_printf("/smmu-nest-caps/invalid/%s",
                                             invalid_cases[i].name);

        qtest_add_data_func(p, &invalid_cases[i], test_invalid);
    }
    qtest_add_func("/smmu-nest-caps/ats-atc-inv", test_ats_atc_inv);
    qtest_add_func("/smmu-nest-caps/ssidsize-ste", test_ssidsize_ste);
    qtest_add_func("/smmu-nest-caps/errata-repeat", test_errata_repeat);
    qtest_add_func("/smmu-nest-caps/s2fwb", test_s2fwb);
    return g_test_run();
}
