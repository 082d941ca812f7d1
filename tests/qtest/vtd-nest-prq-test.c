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
 * End to end: a vnest-dma-test with PRI (pri=on) assigned through the
 * emulated host (vnest-sim-assign), whose DMA meets a page the guest's
 * first stage does not map. The emulated host's device sends a page
 * request to the nested HWPT's fault queue; the guest sees one page
 * request descriptor (requester id, PASID, address, access, PRG index),
 * PPR and the event interrupt; its page group response reaches the
 * device, which re-runs its DMA after Success and gives up after
 * Invalid. Queue overflow (PRO, answered for the guest), page requests
 * not enabled (PRE clear), the masked interrupt, a VT-d reset and a
 * detach with a request outstanding (answered, no host object left) too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "qobject/qdict.h"
#include "hw/i386/intel_iommu_internal.h"
#include "vtd-guest.h"
#include "dma-test-dev.h"
#include "vnest-qtest.h"

#define VTD_BASE        0xfed90000ULL
#define IOMMU_PATH      "/machine/peripheral/iommu0"
#define ECAP_PRS        (1ULL << 29)
#define PRS_PPR         1u
#define PRS_PRO         2u
#define PECTL_IM        (1u << 31)
#define PECTL_IP        (1u << 30)
#define EMU_PATH        "/objects/emu0"
#define DEVFN           QPCI_DEVFN(4, 0)
#define SID             DEVFN           /* bus 0 */
#define IOVA            0x40000000ULL
#define PAGE            4096ULL
#define LEN             256
#define MSI_ADDR        0xfee00000u
#define MSI_DATA        0x4041u
#define POLLS           1000

#define PRG_SUCCESS     DMADEV_PRG_SUCCESS
#define PRG_INVALID     DMADEV_PRG_INVALID
#define PRG_PENDING     DMADEV_PRG_PENDING
#define PAGE_REQUEST    (DMADEV_STATUS_DONE | DMADEV_STATUS_FAULT | \
                         DMADEV_STATUS_PAGE_REQUEST)

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
    DmaTestDev dev;
    bool has_dev;
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

/* One vnest-dma-test with PRI at 04.0, assigned through the emulated host */
static void prq_init_dev(Prq *t, const char *dev_opts)
{
    t->qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                          "-device intel-iommu,id=iommu0,x-scalable-mode=on,"
                          "x-flts=on,caching-mode=on,pasid-bits=8,x-prq=on "
                          "-object iommufd,id=emu0,emulated=on,"
                          "host-iommu=vtd "
                          "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                          "device=dma0 "
                          "-device vnest-dma-test,id=dma0,addr=04.0%s",
                          dev_opts);
    t->qts = t->qs->qts;
    dmadev_open(&t->dev, t->qts, t->qs->pcibus, DEVFN);
    dmadev_set_ecam(&t->dev, dmadev_q35_enable_ecam(t->qs->pcibus));
    dmadev_pasid_enable(&t->dev, true);
    t->has_dev = true;
    t->g = vtd_guest_new(t->qts, &t->qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(t->g);
    vtd_guest_enable(t->g);
}

static void prq_fini(Prq *t)
{
    vtd_guest_free(t->g);
    if (t->has_dev) {
        dmadev_close(&t->dev);
    }
    qtest_shutdown(t->qs);
}

static uint64_t qom_uint(Prq *t, const char *path, const char *name)
{
    return vnest_qom_get_uint(t->qts, path, name);
}

static uint64_t nstat(Prq *t, const char *name)
{
    return qom_uint(t, IOMMU_PATH, name);
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

/* ---- end to end: a PRI device's DMA ---- */

static void pattern(uint8_t *buf, uint8_t seed)
{
    dmadev_pattern(buf, LEN, seed);
}

/*
 * The guest's side: PASID @pasid of the device (0: its requests without
 * PASID) gets a first stage mapping IOVA only, page requests are enabled
 * in its context entry, and the page request queue (2^@pqs pages) is set
 * up with its interrupt unmasked.
 */
static VtdDomain *prq_setup(Prq *t, uint32_t pasid, uint16_t did,
                            unsigned pqs)
{
    VtdDomain *d = vtd_guest_attach_pasid(t->g, SID, pasid,
                                          VTD_PGTT_FIRST_STAGE, did);

    vtd_domain_map(d, IOVA, guest_alloc(&t->qs->alloc, PAGE), PAGE,
                   VTD_PROT_RW);
    vtd_guest_set_pre(t->g, SID, true);
    vtd_guest_inv_pasid_cache(t->g, did, pasid);
    vtd_guest_prq_enable(t->g, pqs, MSI_ADDR, MSI_DATA);
    return d;
}

/* The host's fault queue is read in QEMU's main loop: give it time. */
static unsigned wait_requests(Prq *t, unsigned n)
{
    unsigned got = 0;
    int i;

    for (i = 0; i < POLLS && got < n; i++) {
        got = vtd_guest_prq_pending(t->g);
    }
    return got;
}

/* Run one DMA that meets an unmapped page: a page request goes out. */
static uint32_t dma_page_request(Prq *t, bool write, uint32_t pasid,
                                 uint64_t iova)
{
    uint32_t sts = dmadev_command(&t->dev, write ? 1 : 2, pasid, iova, LEN);

    g_assert_cmphex(sts, ==, PAGE_REQUEST);
    g_assert_cmphex(dmadev_prg_status(&t->dev), ==, PRG_PENDING);
    return dmadev_prg(&t->dev);
}

/* Exactly one descriptor, as the device asked for it. */
static void take_one(Prq *t, VtdPageReq *r, bool write, uint32_t pasid,
                     uint64_t iova, uint32_t prgi)
{
    g_assert_cmpuint(wait_requests(t, 1), ==, 1);
    /* nothing more comes */
    g_assert_cmpuint(wait_requests(t, 2), ==, 1);
    g_assert_true(vtd_guest_prq_take(t->g, r));
    g_assert_cmpuint(r->type, ==, 1);
    g_assert_cmphex(r->sid, ==, SID);
    g_assert_cmpint(r->has_pasid, ==, pasid != DMADEV_NO_PASID);
    g_assert_cmphex(r->pasid, ==,
                    pasid != DMADEV_NO_PASID ? pasid : 0);
    g_assert_cmphex(r->addr, ==, iova & ~(PAGE - 1));
    g_assert_cmpint(r->wr, ==, write);
    g_assert_cmpint(r->rd, ==, !write);
    g_assert_false(r->exe);
    g_assert_false(r->priv);
    g_assert_true(r->lpig);
    g_assert_cmpuint(r->prgi, ==, prgi);
    g_assert_cmphex(r->priv_data[0] | r->priv_data[1], ==, 0);
    g_assert_false(vtd_guest_prq_take(t->g, r));
}

/*
 * A write (untagged) or a read (PASID 5) of an unmapped page: one
 * descriptor, PPR and one interrupt; the guest maps the page,
 * invalidates, answers Success, and the device's DMA then lands there.
 */
static void test_e2e_success(const void *opaque)
{
    bool tagged = GPOINTER_TO_INT(opaque);
    uint32_t pasid = tagged ? 5 : DMADEV_NO_PASID;
    uint32_t epasid = tagged ? 5 : 0;
    bool write = !tagged;
    uint64_t iova = IOVA + PAGE + 0x80;
    uint8_t want[LEN], got[LEN];
    uint64_t gpa;
    VtdDomain *d;
    VtdPageReq r;
    uint32_t prgi;
    Prq t;

    prq_init_dev(&t, ",pri=on");
    d = prq_setup(&t, epasid, 1, 0);
    pattern(want, 0x5a);
    if (write) {
        dmadev_buf_write(&t.dev, 0, want, LEN);
    }
    prgi = dma_page_request(&t, write, pasid, iova);
    take_one(&t, &r, write, pasid, iova, prgi);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, PRS_PPR);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_events"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_requests"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 1);
    /* Unanswered: the device still waits, and does not ask again. */
    g_assert_cmphex(dmadev_command(&t.dev, write ? 1 : 2, pasid, iova, LEN),
                    ==, PAGE_REQUEST);
    g_assert_cmpuint(dmadev_prg(&t.dev), ==, prgi);
    g_assert_cmpuint(wait_requests(&t, 1), ==, 0);

    /* The guest's fault handler: map, invalidate, answer. */
    gpa = guest_alloc(&t.qs->alloc, PAGE);
    qtest_memset(t.qts, gpa, 0, PAGE);
    if (!write) {
        qtest_memwrite(t.qts, gpa + 0x80, want, LEN);
    }
    vtd_domain_map(d, IOVA + PAGE, gpa, PAGE, VTD_PROT_RW);
    vtd_guest_qi_queue(t.g, vtd_desc_piotlb(true, 1, epasid), IOVA + PAGE);
    vtd_guest_writel(t.g, DMAR_PRS_REG, PRS_PPR);
    vtd_guest_page_response(t.g, &r, PRG_SUCCESS);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_responses"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_SUCCESS);

    /* The device re-runs its DMA: it lands where the guest mapped. */
    g_assert_cmphex(dmadev_command(&t.dev, write ? 1 : 2, pasid, iova, LEN),
                    ==, DMADEV_STATUS_DONE);
    if (write) {
        qtest_memread(t.qts, gpa + 0x80, got, LEN);
    } else {
        dmadev_buf_read(&t.dev, 0, got, LEN);
    }
    g_assert_cmpmem(got, LEN, want, LEN);
    g_assert_cmpuint(wait_requests(&t, 1), ==, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_auto_responses"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_stray"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-host_errors"), ==, 0);
    prq_fini(&t);
}

/*
 * Invalid, or Response Failure (which iommufd cannot carry: Invalid): the
 * device gives up; nothing stays pending anywhere.
 */
static void test_e2e_invalid(const void *opaque)
{
    unsigned code = GPOINTER_TO_UINT(opaque);
    VtdPageReq r;
    uint32_t prgi;
    Prq t;

    prq_init_dev(&t, ",pri=on");
    prq_setup(&t, 0, 1, 0);
    prgi = dma_page_request(&t, true, DMADEV_NO_PASID, IOVA + PAGE);
    take_one(&t, &r, true, DMADEV_NO_PASID, IOVA + PAGE, prgi);
    vtd_guest_writel(t.g, DMAR_PRS_REG, PRS_PPR);
    vtd_guest_page_response(t.g, &r, code);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_responses"), ==, 1);
    g_assert_cmpuint(wait_requests(&t, 1), ==, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, 0);
    /* A second answer to the same group is a stray, not a host error. */
    vtd_guest_page_response(t.g, &r, PRG_SUCCESS);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_stray"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-host_errors"), ==, 0);
    prq_fini(&t);
}

/*
 * The guest's queue full: PRO (no interrupt), nothing written, the
 * request answered Success for the guest so the device asks again; not
 * while PRO stays set even with room; once the guest drained its queue
 * and cleared PRO, the next request arrives.
 */
static void test_e2e_overflow(void)
{
    VtdPageReq r;
    uint32_t prgi;
    uint64_t gpa;
    VtdDomain *d;
    Prq t;
    int i;

    prq_init_dev(&t, ",pri=on");
    d = prq_setup(&t, 0, 1, 0);
    /* PQH one descriptor past PQT: 127 descriptors the guest has not read */
    qtest_writeq(t.qts, VTD_BASE + DMAR_PQH_REG, 0x20);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA + PAGE, LEN),
                    ==, PAGE_REQUEST);
    for (i = 0; i < POLLS; i++) {
        if (vtd_guest_readl(t.g, DMAR_PRS_REG) & PRS_PRO) {
            break;
        }
    }
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, PRS_PRO);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQT_REG), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_overflows"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_auto_responses"), ==, 1);
    /* PRO is no interrupt condition (PECTL.IP: only a request with LPIG) */
    g_assert_cmpuint(nstat(&t, "x-nest-prq_events"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);
    /* Answered for the guest: the device asks again, and is refused again */
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_SUCCESS);
    /* (QEMU may read the host's queue before the test reads PRG_STATUS) */
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA + PAGE, LEN),
                    ==, PAGE_REQUEST);
    for (i = 0; i < POLLS; i++) {
        if (nstat(&t, "x-nest-prq_overflows") == 2) {
            break;
        }
    }
    g_assert_cmpuint(nstat(&t, "x-nest-prq_overflows"), ==, 2);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_SUCCESS);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQT_REG), ==, 0);

    /* The guest drains its queue: while PRO is set nothing is written. */
    qtest_writeq(t.qts, VTD_BASE + DMAR_PQH_REG, 0);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA + PAGE, LEN),
                    ==, PAGE_REQUEST);
    for (i = 0; i < POLLS; i++) {
        if (nstat(&t, "x-nest-prq_overflows") == 3) {
            break;
        }
    }
    g_assert_cmpuint(nstat(&t, "x-nest-prq_overflows"), ==, 3);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQT_REG), ==, 0);
    /* ... and once PRO is cleared, the next request arrives. */
    vtd_guest_writel(t.g, DMAR_PRS_REG, PRS_PRO);
    prgi = dma_page_request(&t, true, DMADEV_NO_PASID, IOVA + PAGE);
    take_one(&t, &r, true, DMADEV_NO_PASID, IOVA + PAGE, prgi);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, PRS_PPR);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_events"), ==, 1);
    gpa = guest_alloc(&t.qs->alloc, PAGE);
    vtd_domain_map(d, IOVA + PAGE, gpa, PAGE, VTD_PROT_RW);
    vtd_guest_qi_queue(t.g, vtd_desc_piotlb(true, 1, 0), IOVA + PAGE);
    vtd_guest_page_response(t.g, &r, PRG_SUCCESS);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA + PAGE, LEN),
                    ==, DMADEV_STATUS_DONE);
    g_assert_cmpuint(nstat(&t, "x-nest-host_errors"), ==, 0);
    prq_fini(&t);
}

/*
 * Masked (PECTL.IM): IP is held, and the interrupt sent on unmasking, or
 * dropped when the guest services PPR first (spec 10.4.33 PECTL.IP).
 */
static void test_e2e_masked(void)
{
    VtdPageReq r;
    uint32_t prgi;
    Prq t;

    prq_init_dev(&t, ",pri=on");
    prq_setup(&t, 0, 1, 0);
    vtd_guest_writel(t.g, DMAR_PECTL_REG, PECTL_IM);
    prgi = dma_page_request(&t, true, DMADEV_NO_PASID, IOVA + PAGE);
    take_one(&t, &r, true, DMADEV_NO_PASID, IOVA + PAGE, prgi);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PECTL_REG), ==,
                    PECTL_IM | PECTL_IP);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_events"), ==, 0);
    vtd_guest_writel(t.g, DMAR_PECTL_REG, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PECTL_REG), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_events"), ==, 1);
    vtd_guest_page_response(t.g, &r, PRG_INVALID);

    /* Held again; the guest services PPR first: the interrupt is dropped */
    vtd_guest_writel(t.g, DMAR_PRS_REG, PRS_PPR);
    vtd_guest_writel(t.g, DMAR_PECTL_REG, PECTL_IM);
    prgi = dma_page_request(&t, true, DMADEV_NO_PASID, IOVA + 2 * PAGE);
    take_one(&t, &r, true, DMADEV_NO_PASID, IOVA + 2 * PAGE, prgi);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PECTL_REG), ==,
                    PECTL_IM | PECTL_IP);
    vtd_guest_writel(t.g, DMAR_PRS_REG, PRS_PPR);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PECTL_REG), ==, PECTL_IM);
    vtd_guest_writel(t.g, DMAR_PECTL_REG, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_events"), ==, 1);
    vtd_guest_page_response(t.g, &r, PRG_INVALID);
    prq_fini(&t);
}

/* PRE clear in the context entry: nothing for the guest, Invalid. */
static void test_e2e_pre_clear(void)
{
    Prq t;
    int i;

    prq_init_dev(&t, ",pri=on");
    prq_setup(&t, 0, 1, 0);
    vtd_guest_set_pre(t.g, SID, false);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA + PAGE, LEN),
                    ==, PAGE_REQUEST);
    for (i = 0; i < POLLS; i++) {
        if (dmadev_prg_status(&t.dev) != PRG_PENDING) {
            break;
        }
    }
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_refused"), ==, 1);
    g_assert_cmpuint(vtd_guest_prq_pending(t.g), ==, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, 0);
    prq_fini(&t);
}

/*
 * A VT-d reset with a request the guest was shown and did not answer:
 * the device gets Invalid, and once translation is off the emulated host
 * holds what it held at plug (the fault queue stays with the device).
 */
static void test_e2e_reset(void)
{
    VtdPageReq r;
    uint64_t base;
    uint32_t prgi;
    QDict *rsp;
    Prq t;

    prq_init_dev(&t, ",pri=on");
    base = qom_uint(&t, EMU_PATH, "x-objects");
    prq_setup(&t, 0, 1, 0);
    prgi = dma_page_request(&t, true, DMADEV_NO_PASID, IOVA + PAGE);
    take_one(&t, &r, true, DMADEV_NO_PASID, IOVA + PAGE, prgi);
    g_assert_cmpuint(qom_uint(&t, EMU_PATH, "x-objects"), >, base);
    rsp = qtest_qmp(t.qts, "{ 'execute': 'system_reset' }");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qtest_qmp_eventwait(t.qts, "RESET");
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_auto_responses"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-host_errors"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-hwpts"), ==, 0);
    g_assert_cmpuint(qom_uint(&t, EMU_PATH, "x-objects"), ==, base);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQA_REG), ==, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, 0);

    /*
     * The device was answered: the reset guest sets everything up again
     * and the same access sends a new request (a device waiting on an
     * unanswered one for that page would send nothing).
     */
    vtd_guest_free(t.g);
    dmadev_close(&t.dev);
    dmadev_open(&t.dev, t.qts, t.qs->pcibus, DEVFN);
    dmadev_set_ecam(&t.dev, dmadev_q35_enable_ecam(t.qs->pcibus));
    dmadev_pasid_enable(&t.dev, true);
    t.g = vtd_guest_new(t.qts, &t.qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(t.g);
    vtd_guest_enable(t.g);
    prq_setup(&t, 0, 1, 0);
    prgi = dma_page_request(&t, true, DMADEV_NO_PASID, IOVA + PAGE);
    take_one(&t, &r, true, DMADEV_NO_PASID, IOVA + PAGE, prgi);
    vtd_guest_page_response(t.g, &r, PRG_INVALID);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    g_assert_cmpuint(nstat(&t, "x-nest-host_errors"), ==, 0);
    prq_fini(&t);
}

/*
 * The guest detaches the PASID with a request outstanding: the host
 * answers it (Invalid, the kernel's iommufd_auto_response_faults()) and
 * the guest's late response is a counted stray, not a host error.
 */
static void test_e2e_detach(void)
{
    VtdPageReq r;
    uint32_t prgi;
    Prq t;

    prq_init_dev(&t, ",pri=on");
    prq_setup(&t, 5, 1, 0);
    prgi = dma_page_request(&t, false, 5, IOVA + PAGE);
    take_one(&t, &r, false, 5, IOVA + PAGE, prgi);
    vtd_guest_clear_pasid(t.g, SID, 5);
    vtd_guest_inv_pasid_cache(t.g, 1, 5);
    g_assert_cmpuint(nstat(&t, "x-nest-hwpts"), ==, 0);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);
    vtd_guest_page_response(t.g, &r, PRG_SUCCESS);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_stray"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-host_errors"), ==, 0);
    prq_fini(&t);
}

/* The queue where no memory is: nothing written, the request Invalid. */
static void test_e2e_queue_not_in_memory(void)
{
    Prq t;
    int i;

    prq_init_dev(&t, ",pri=on");
    prq_setup(&t, 0, 1, 0);
    qtest_writeq(t.qts, VTD_BASE + DMAR_PQA_REG, 0x4000000000ULL);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA + PAGE, LEN),
                    ==, PAGE_REQUEST);
    for (i = 0; i < POLLS; i++) {
        if (dmadev_prg_status(&t.dev) != PRG_PENDING) {
            break;
        }
    }
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_refused"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_requests"), ==, 0);
    g_assert_cmphex(vtd_guest_readq(t.g, DMAR_PQT_REG), ==, 0);
    g_assert_cmphex(vtd_guest_readl(t.g, DMAR_PRS_REG), ==, 0);
    prq_fini(&t);
}

/*
 * Without x-prq the device's HWPTs have no fault queue: the host answers
 * its page request Invalid at once (the device gives up).
 */
static void test_e2e_no_prq(void)
{
    Prq t;

    t.qs = qtest_pc_boot("-M q35 -m 128M -vga none "
                         "-device intel-iommu,id=iommu0,x-scalable-mode=on,"
                         "x-flts=on,caching-mode=on,pasid-bits=8 "
                         "-object iommufd,id=emu0,emulated=on,"
                         "host-iommu=vtd "
                         "-object vnest-sim-assign,id=sa0,iommufd=emu0,"
                         "device=dma0 "
                         "-device vnest-dma-test,id=dma0,addr=04.0,pri=on");
    t.qts = t.qs->qts;
    dmadev_open(&t.dev, t.qts, t.qs->pcibus, DEVFN);
    t.has_dev = true;
    t.g = vtd_guest_new(t.qts, &t.qs->alloc, VTD_BASE);
    vtd_guest_qi_enable(t.g);
    vtd_guest_enable(t.g);
    vtd_domain_map(vtd_guest_attach_pasid(t.g, SID, 0, VTD_PGTT_FIRST_STAGE,
                                          1),
                   IOVA, guest_alloc(&t.qs->alloc, PAGE), PAGE, VTD_PROT_RW);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-hwpts"), ==, 1);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA + PAGE, LEN),
                    ==, PAGE_REQUEST);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, IOVA, LEN), ==,
                    DMADEV_STATUS_DONE);
    prq_fini(&t);
}

/*
 * A pass-through PASID is on the host's nest parent, which has no fault
 * queue: a hole in it (beyond guest RAM) is answered Invalid by the host,
 * the guest is shown nothing.
 */
static void test_e2e_pass_through(void)
{
    Prq t;
    int i;

    prq_init_dev(&t, ",pri=on");
    vtd_guest_attach_pasid(t.g, SID, 0, VTD_PGTT_PASS_THROUGH, 1);
    vtd_guest_set_pre(t.g, SID, true);
    vtd_guest_inv_pasid_cache(t.g, 1, 0);
    vtd_guest_prq_enable(t.g, 0, MSI_ADDR, MSI_DATA);
    g_assert_cmphex(dmadev_to_mem(&t.dev, DMADEV_NO_PASID, 0x4000000000ULL,
                                  LEN), ==, PAGE_REQUEST);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    for (i = 0; i < POLLS; i++) {
        g_assert_cmpuint(vtd_guest_prq_pending(t.g), ==, 0);
    }
    g_assert_cmpuint(nstat(&t, "x-nest-prq_requests"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_refused"), ==, 0);
    prq_fini(&t);
}

/*
 * Detached with a request outstanding and never answered by the guest:
 * once rebound, the device's next request reuses the PRG index and the
 * host the cookie. It is shown to the guest and waits for the guest's
 * answer: the group the host answered at the detach was forgotten then,
 * so nothing answers the new one behind the guest's back.
 */
static void test_e2e_detach_reuse(void)
{
    VtdPageReq r, r2;
    uint32_t prgi;
    VtdDomain *d;
    Prq t;

    prq_init_dev(&t, ",pri=on");
    prq_setup(&t, 5, 1, 0);
    prgi = dma_page_request(&t, false, 5, IOVA + PAGE);
    take_one(&t, &r, false, 5, IOVA + PAGE, prgi);
    vtd_guest_clear_pasid(t.g, SID, 5);
    vtd_guest_inv_pasid_cache(t.g, 1, 5);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    /* The host answered it: QEMU holds it no more. */
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);

    d = vtd_guest_attach_pasid(t.g, SID, 5, VTD_PGTT_FIRST_STAGE, 2);
    vtd_domain_map(d, IOVA, guest_alloc(&t.qs->alloc, PAGE), PAGE,
                   VTD_PROT_RW);
    vtd_guest_inv_pasid_cache(t.g, 2, 5);
    vtd_guest_writel(t.g, DMAR_PRS_REG, PRS_PPR);
    prgi = dma_page_request(&t, false, 5, IOVA + PAGE);
    g_assert_cmpuint(prgi, ==, r.prgi);
    take_one(&t, &r2, false, 5, IOVA + PAGE, prgi);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 1);
    vtd_guest_page_response(t.g, &r2, PRG_INVALID);
    g_assert_cmphex(dmadev_prg_status(&t.dev), ==, PRG_INVALID);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_groups"), ==, 0);
    g_assert_cmpuint(nstat(&t, "x-nest-prq_responses"), ==, 1);
    g_assert_cmpuint(nstat(&t, "x-nest-host_errors"), ==, 0);
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
    qtest_add_data_func("/vtd-nest-prq/e2e/success/untagged-write",
                        GINT_TO_POINTER(false), test_e2e_success);
    qtest_add_data_func("/vtd-nest-prq/e2e/success/pasid-read",
                        GINT_TO_POINTER(true), test_e2e_success);
    qtest_add_data_func("/vtd-nest-prq/e2e/invalid/invalid",
                        GUINT_TO_POINTER(PRG_INVALID), test_e2e_invalid);
    qtest_add_data_func("/vtd-nest-prq/e2e/invalid/failure",
                        GUINT_TO_POINTER(DMADEV_PRG_FAILURE),
                        test_e2e_invalid);
    qtest_add_func("/vtd-nest-prq/e2e/queue-not-in-memory",
                   test_e2e_queue_not_in_memory);
    qtest_add_func("/vtd-nest-prq/e2e/no-prq", test_e2e_no_prq);
    qtest_add_func("/vtd-nest-prq/e2e/pass-through", test_e2e_pass_through);
    qtest_add_func("/vtd-nest-prq/e2e/overflow", test_e2e_overflow);
    qtest_add_func("/vtd-nest-prq/e2e/masked", test_e2e_masked);
    qtest_add_func("/vtd-nest-prq/e2e/pre-clear", test_e2e_pre_clear);
    qtest_add_func("/vtd-nest-prq/e2e/reset", test_e2e_reset);
    qtest_add_func("/vtd-nest-prq/e2e/detach", test_e2e_detach);
    qtest_add_func("/vtd-nest-prq/e2e/detach-reuse", test_e2e_detach_reuse);
    return g_test_run();
}
