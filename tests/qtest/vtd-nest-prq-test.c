/*
 * VNest qtest: the guest's page request queue of intel-iommu (x-prq=on)
 *
 * The guest-facing side of page requests: ECAP.PRS and the page request
 * registers (PQH, PQT, PQA, PRS_REG, PECTL, PEDATA, PEADDR), and the page
 * group response descriptor in the invalidation queue: a well-formed one
 * that answers no request is passed on as hardware passes it (nothing
 * for the host), a malformed one stops the queue with IQE at it, and
 * without PRS the descriptor type is unknown (IQE).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "hw/i386/intel_iommu_internal.h"
#include "vtd-guest.h"

#define VTD_BASE        0xfed90000ULL
#define IOMMU_PATH      "/machine/peripheral/iommu0"
#define ECAP_PRS        (1ULL << 29)
#define PRS_PPR         1u
#define PRS_PRO         2u
#define PECTL_IM        (1u << 31)

/* Page group response descriptor (VT-d spec 6.5.2.15) */
#define PGRP_TYPE       0x9ULL
#define PGRP_PASID_P    (1ULL << 4)
#define PGRP_CODE(c)    ((uint64_t)(c) << 12)
#define PGRP_RID(r)     ((uint64_t)(r) << 16)
#define PGRP_PASID(p)   ((uint64_t)(p) << 32)
#define PGRP_PRGI(i)    ((uint64_t)(i) << 3)

typedef struct Prq {
    QOSState *qs;
    QTestState *qts;
    VtdGuest *g;
} Prq;

static void prq_init(Prq *t, const char *opts)
{
    t->qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                          "-device intel-iommu,id=iommu0,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on,pasid-bits=8%s",
                          opts);
    t->qts = t->qs->qts;
    t->g = vtd_guest_new(t->qts, &t->qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(t->g);
    vtd_guest_enable(t->g);
}

static void prq_fini(Prq *t)
{
    vtd_guest_free(t->g);
    qtest_shutdown(t->qs);
}

static uint64_t nstat(Prq *t, const char *name)
{
    QDict *rsp = qtest_qmp(t->qts, "{ 'execute': 'qom-get', 'arguments':"
                           " { 'path': %s, 'property': %s } }", IOMMU_PATH,
                           name);
    uint64_t v;

    g_assert(qdict_haskey(rsp, "return"));
    v = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return v;
}

static void test_registers(void)
{
    Prq t;

    prq_init(&t, ",x-prq=on");
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_ECAP_REG) & ECAP_PRS, ==,
                    ECAP_PRS);
    /* Reset values: interrupt masked, nothing pending, empty queue. */
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PECTL_REG), ==, PECTL_IM);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, 0);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQH_REG), ==, 0);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQT_REG), ==, 0);
    /* PQA: base 63:12 and PQS 2:0; PQH/PQT: 256-bit offsets, 18:5. */
    qtest_writeq(t.qts, VTD_BASE + DMAR_PQA_REG, 0x12345000ULL | 0xffb);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQA_REG), ==,
                    0x12345000ULL | 3);
    qtest_writeq(t.qts, VTD_BASE + DMAR_PQH_REG, ~0ULL);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQH_REG), ==, 0x7ffe0ULL);
    qtest_writeq(t.qts, VTD_BASE + DMAR_PQT_REG, 0x40);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQT_REG), ==, 0x40);
    /* PRS is write-1-to-clear: nothing to set by software. */
    qtest_writel(t.qts, VTD_BASE + DMAR_PRS_REG, PRS_PPR | PRS_PRO);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, 0);
    qtest_writel(t.qts, VTD_BASE + DMAR_PEDATA_REG, 0x4021);
    qtest_writel(t.qts, VTD_BASE + DMAR_PEADDR_REG, 0xfee00003);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PEDATA_REG), ==, 0x4021);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PEADDR_REG), ==, 0xfee00000);
    qtest_writel(t.qts, VTD_BASE + DMAR_PECTL_REG, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PECTL_REG), ==, 0);
    prq_fini(&t);

    /* Without x-prq: no PRS, the registers are reserved (read 0). */
    prq_init(&t, "");
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_ECAP_REG) & ECAP_PRS, ==, 0);
    qtest_writeq(t.qts, VTD_BASE + DMAR_PQA_REG, 0x12345000ULL);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQA_REG), ==, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PECTL_REG), ==, 0);
    prq_fini(&t);
}

/* A response to no request: passed on as hardware does, no error. */
static void test_response_stray(void)
{
    Prq t;

    prq_init(&t, ",x-prq=on");
    vtd_guest_qi_queue(t.g, PGRP_TYPE | PGRP_PASID_P | PGRP_PASID(5) |
                       PGRP_RID(0x20) | PGRP_CODE(0), PGRP_PRGI(0x1ff));
    vtd_guest_qi_queue(t.g, PGRP_TYPE | PGRP_RID(0x20) | PGRP_CODE(0xf),
                       PGRP_PRGI(3));
    g_assert_true(vtd_guest_qi_sync(t.g));
    g_assert_cmpuint(nstat(&t, "x-nest-prq_stray"), ==, 2);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_responses"), ==, 0);
    prq_fini(&t);
}

static const struct {
    const char *name;
    uint64_t lo, hi;
} bad_responses[] = {
    { "qw0-bit5", PGRP_TYPE | (1ULL << 5), 0 },
    { "qw0-bit8", PGRP_TYPE | (1ULL << 8), 0 },
    { "qw0-bit52", PGRP_TYPE | (1ULL << 52), 0 },
    { "qw1-bit0", PGRP_TYPE, 1 },
    { "qw1-bit2", PGRP_TYPE, 1ULL << 2 },
    { "qw1-bit12", PGRP_TYPE, 1ULL << 12 },
    { "code-2", PGRP_TYPE | PGRP_CODE(2), 0 },
    { "code-0xe", PGRP_TYPE | PGRP_CODE(0xe), 0 },
};

/* A malformed response stops the queue with IQE at it (6.5.2.15). */
static void test_response_bad(const void *opaque)
{
    unsigned i = GPOINTER_TO_UINT(opaque);
    Prq t;
    unsigned at;

    prq_init(&t, ",x-prq=on");
    vtd_guest_qi_queue(t.g, PGRP_TYPE | PGRP_RID(0x20), PGRP_PRGI(1));
    at = vtd_guest_qi_tail(t.g);
    vtd_guest_qi_queue(t.g, bad_responses[i].lo | PGRP_RID(0x20),
                       bad_responses[i].hi | PGRP_PRGI(2));
    g_assert_false(vtd_guest_qi_sync(t.g));
    g_assert_cmpuint(vtd_guest_qi_head(t.g), ==, at);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_stray"), ==, 1);
    /* The driver skips it: the queue works again. */
    vtd_guest_qi_recover(t.g);
    g_assert_true(vtd_guest_qi_sync(t.g));
    prq_fini(&t);
}

/* Without PRS the page group response is an unknown descriptor type. */
static void test_response_no_prs(void)
{
    Prq t;
    unsigned at;

    prq_init(&t, "");
    at = vtd_guest_qi_tail(t.g);
    vtd_guest_qi_queue(t.g, PGRP_TYPE | PGRP_RID(0x20), PGRP_PRGI(1));
    g_assert_false(vtd_guest_qi_sync(t.g));
    g_assert_cmpuint(vtd_guest_qi_head(t.g), ==, at);
    prq_fini(&t);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vtd-nest-prq/registers", test_registers);
    qtest_add_func("/vtd-nest-prq/response/stray", test_response_stray);
    qtest_add_func("/vtd-nest-prq/response/no-prs", test_response_no_prs);
    for (i = 0; i < ARRAY_SIZE(bad_responses); i++) {
        g_autofree char *path =
            g_strdup_printf("/vtd-nest-prq/response/bad/%s",
                            bad_responses[i].name);

        qtest_add_data_func(path, GUINT_TO_POINTER(i), test_response_bad);
    }
    return g_test_run();
}
