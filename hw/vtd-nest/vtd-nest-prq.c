/*
 * VNest intel-iommu: page requests of nested devices (x-prq=on)
 *
 * The guest is offered ECAP.PRS and gets a page request queue: PQH, PQT,
 * PQA (base and size), PRS_REG (PPR, PRO) and the page request event
 * interrupt (PECTL with IM/IP, PEDATA, PEADDR, PEUADDR), VT-d spec 3.x
 * chapter 7.5 and 10.4. A nested device with PRI gets its nested HWPTs
 * allocated with a host fault queue (IOMMU_FAULT_QUEUE_ALLOC); each
 * struct iommu_hwpt_pgfault read from it becomes a page request
 * descriptor in the guest's queue, and the guest's page group response
 * descriptor (invalidation queue type 0x9) goes back to the host as a
 * struct iommu_hwpt_page_response with the group's cookie.
 *
 * Nothing the host reports is dropped silently: a request the guest's
 * queue cannot take is answered for it, as the hardware answers (queue
 * full: Success, the device retries; page requests not enabled for the
 * device: Invalid Request), traced and counted.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/bswap.h"
#include "qapi/error.h"
#include "system/dma.h"
#include "exec/address-spaces.h"
#include "hw/pci/pcie.h"
#include "vtd-nest-internal.h"
#include "trace.h"

#define VTD_ECAP_PRS_BIT        (1ULL << 29)

/* PRS_REG */
#define VTD_PRS_PPR             (1u << 0)   /* pending page request */
#define VTD_PRS_PRO             (1u << 1)   /* page request overflow */
/* PECTL_REG */
#define VTD_PECTL_IM            (1u << 31)
#define VTD_PECTL_IP            (1u << 30)
/* PQH/PQT: offset of a 256-bit descriptor, bits 18:5 */
#define VTD_PQ_OFF_MASK         0x7ffe0ULL
/* PQA: base 63:12, size PQS 2:0 (2^PQS 4 KiB pages) */
#define VTD_PQA_BASE_MASK       (~0xfffULL)
#define VTD_PQA_PQS(v)          ((v) & 7)
#define VTD_PRQ_DESC_SIZE       32

/*
 * Page request descriptor (spec 7.5.1.1; Linux prq.c struct page_req_dsc)
 * QW0: type 7:0 (1), PASID present 8, requester id 31:16, PASID 51:32,
 *      execute requested 52, privileged mode requested 53.
 * QW1: read 0, write 1, last page in group 2, PRG index 11:3, page 63:12.
 * QW2, QW3: private data (none: iommufd carries none).
 */
#define VTD_PRQ_TYPE_PAGE_REQ   0x1ULL
#define VTD_PRQ_PASID_P         (1ULL << 8)
#define VTD_PRQ_RID(r)          ((uint64_t)(r) << 16)
#define VTD_PRQ_PASID(p)        ((uint64_t)((p) & 0xfffff) << 32)
#define VTD_PRQ_EXE             (1ULL << 52)
#define VTD_PRQ_PRIV            (1ULL << 53)
#define VTD_PRQ_RD              (1ULL << 0)
#define VTD_PRQ_WR              (1ULL << 1)
#define VTD_PRQ_LPIG            (1ULL << 2)
#define VTD_PRQ_PRGI(i)         ((uint64_t)((i) & 0x1ff) << 3)

/*
 * Page group response descriptor (spec 6.5.2.15; Linux iommu.h QI_PGRP_*)
 * QW0: type 3:0 (9) and 11:9 (0), PASID present 4, response code 15:12,
 *      requester id 31:16, PASID 51:32; 8:5 and 63:52 reserved.
 * QW1: PRG index 11:3; 2:0 and 63:12 reserved.
 * QW2, QW3: private data, returned to a device that sent some.
 */
#define VTD_PGRP_PASID_P        (1ULL << 4)
#define VTD_PGRP_CODE(lo)       (((lo) >> 12) & 0xf)
#define VTD_PGRP_RID(lo)        (((lo) >> 16) & 0xffff)
#define VTD_PGRP_PASID(lo)      (((lo) >> 32) & 0xfffff)
#define VTD_PGRP_RSVD_LO        0xfff00000000001e0ULL
#define VTD_PGRP_PRGI(hi)       (((hi) >> 3) & 0x1ff)
#define VTD_PGRP_RSVD_HI        0xfffffffffffff007ULL
#define VTD_PGRP_SUCCESS        0x0
#define VTD_PGRP_INVALID        0x1
#define VTD_PGRP_FAILURE        0xf

#define VTD_FQ_READ_RECORDS     64

static uint32_t prq_get_long(IntelIOMMUState *s, hwaddr addr)
{
    return ldl_le_p(&s->csr[addr]);
}

static void prq_set_long(IntelIOMMUState *s, hwaddr addr, uint32_t val)
{
    stl_le_p(&s->csr[addr], val);
}

static uint64_t prq_get_quad(IntelIOMMUState *s, hwaddr addr)
{
    return ldq_le_p(&s->csr[addr]);
}

static void prq_define_quad(IntelIOMMUState *s, hwaddr addr, uint64_t val,
                            uint64_t wmask, uint64_t w1cmask)
{
    stq_le_p(&s->csr[addr], val);
    stq_le_p(&s->wmask[addr], wmask);
    stq_le_p(&s->w1cmask[addr], w1cmask);
}

static void prq_define_long(IntelIOMMUState *s, hwaddr addr, uint32_t val,
                            uint32_t wmask, uint32_t w1cmask)
{
    stl_le_p(&s->csr[addr], val);
    stl_le_p(&s->wmask[addr], wmask);
    stl_le_p(&s->w1cmask[addr], w1cmask);
}

static bool prq_offered(IntelIOMMUState *s)
{
    return s->vnest && s->vnest->prq && (s->ecap & VTD_ECAP_PRS_BIT);
}

/* ---- host responses ---- */

static const char *prq_code_name(uint32_t code)
{
    return code == IOMMUFD_PAGE_RESP_SUCCESS ? "success" : "invalid";
}

static void prq_respond(VNestVtd *n, VtdNestFaultq *fq, uint32_t cookie,
                        uint32_t code, bool for_guest)
{
    struct iommu_hwpt_page_response resp = {
        .cookie = cookie,
        .code = code,
    };
    ssize_t ret;

    ret = vnest_iommufd_fd_write(fq->be, fq->fd, &resp, sizeof(resp));
    trace_vnest_vtd_prq_respond(fq->id, cookie, prq_code_name(code),
                                for_guest, ret < 0 ? errno : 0);
    if (for_guest) {
        n->stats.prq_responses++;
    } else {
        n->stats.prq_auto_responses++;
    }
    if (ret < 0 && errno == EINVAL && for_guest) {
        /*
         * The host answered the group itself (Invalid) when the device's
         * binding was replaced or detached (iommufd_auto_response_faults())
         * and forgot the cookie: the device already has its answer.
         */
        n->stats.prq_stray++;
        return;
    }
    if (ret != sizeof(resp)) {
        n->stats.host_errors++;
        error_report_once("intel-iommu: the host refused the page response "
                          "to group cookie %u: %s", cookie,
                          ret < 0 ? strerror(errno) : "short write");
    }
}

static void prq_group_drop(VNestVtd *n, VtdPrqGroup *g)
{
    QLIST_REMOVE(g, next);
    g_free(g);
    n->stats.prq_groups--;
}

/* Answer every group shown to the guest for @d (all devices: NULL). */
static void prq_answer_pending(VNestVtd *n, VtdNestDev *d, uint32_t code)
{
    VtdPrqGroup *g, *next;

    QLIST_FOREACH_SAFE(g, &n->groups, next, next) {
        if (d && g->dev != d) {
            continue;
        }
        prq_respond(n, g->dev->fq, g->cookie, code, false);
        prq_group_drop(n, g);
    }
}

/*
 * @d's host PASID @hpasid (VNEST_NO_PASID: the RID) left a HWPT with a
 * fault queue (detach or replace): the host answered that attachment's
 * groups itself, Invalid (iommufd_auto_response_faults()), and may give
 * their cookies to new groups. Forget them: the guest's late response is
 * then a stray, and no stale cookie is ever written.
 */
void vtd_nest_prq_forget(VtdNestDev *d, uint32_t hpasid)
{
    VNestVtd *n = d->nest;
    VtdPrqGroup *g, *next;

    QLIST_FOREACH_SAFE(g, &n->groups, next, next) {
        if (g->dev == d && g->hpasid == hpasid) {
            trace_vnest_vtd_prq_forget(vtd_nest_sid(d), hpasid, g->prgi,
                                       g->cookie);
            prq_group_drop(n, g);
        }
    }
}

/* ---- the guest's queue ---- */

typedef enum PrqPut {
    PRQ_WRITTEN,
    PRQ_OVERFLOW,                   /* full, or PRO still set */
    PRQ_REFUSED,                    /* page requests not enabled */
} PrqPut;

static void prq_event(IntelIOMMUState *s)
{
    uint32_t pectl = prq_get_long(s, DMAR_PECTL_REG);

    if (pectl & VTD_PECTL_IM) {
        prq_set_long(s, DMAR_PECTL_REG, pectl | VTD_PECTL_IP);
        trace_vnest_vtd_prq_event(true);
        return;
    }
    trace_vnest_vtd_prq_event(false);
    s->vnest->stats.prq_events++;
    vnest_vtd_msi(s, DMAR_PEADDR_REG, DMAR_PEDATA_REG);
}

/*
 * Put @f's page request in the guest's queue (spec 7.5.1): not when PRO
 * is set or the queue is full (PQT + 1 == PQH), which sets PRO. A request
 * that ends its group (LPIG) sets PPR, and PPR going from 0 to 1 is the
 * page request event (10.4.33 PECTL.IP).
 */
static PrqPut prq_put(VtdNestDev *d, const struct iommu_hwpt_pgfault *f)
{
    IntelIOMMUState *s = d->nest->s;
    uint64_t pqa = prq_get_quad(s, DMAR_PQA_REG);
    uint64_t size = 4096ULL << VTD_PQA_PQS(pqa);
    uint64_t head = (prq_get_quad(s, DMAR_PQH_REG) & VTD_PQ_OFF_MASK) % size;
    uint64_t tail = (prq_get_quad(s, DMAR_PQT_REG) & VTD_PQ_OFF_MASK) % size;
    uint32_t prs = prq_get_long(s, DMAR_PRS_REG);
    bool last = f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    uint16_t sid = vtd_nest_sid(d);
    uint64_t desc[4] = { 0 };
    int pre;

    pre = vnest_vtd_context_pre(s, d->alias_bus, d->alias_devfn);
    if (pre <= 0) {
        trace_vnest_vtd_prq_refused(sid, pre);
        return PRQ_REFUSED;
    }
    if ((prs & VTD_PRS_PRO) || (tail + VTD_PRQ_DESC_SIZE) % size == head) {
        prq_set_long(s, DMAR_PRS_REG, prs | VTD_PRS_PRO);
        trace_vnest_vtd_prq_overflow(sid, f->grpid, head, tail);
        return PRQ_OVERFLOW;
    }
    desc[0] = VTD_PRQ_TYPE_PAGE_REQ | VTD_PRQ_RID(sid);
    if (f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) {
        desc[0] |= VTD_PRQ_PASID_P | VTD_PRQ_PASID(f->pasid);
    }
    if (f->perm & IOMMU_PGFAULT_PERM_EXEC) {
        desc[0] |= VTD_PRQ_EXE;
    }
    if (f->perm & IOMMU_PGFAULT_PERM_PRIV) {
        desc[0] |= VTD_PRQ_PRIV;
    }
    desc[1] = (f->addr & VTD_PQA_BASE_MASK) | VTD_PRQ_PRGI(f->grpid) |
              (last ? VTD_PRQ_LPIG : 0) |
              (f->perm & IOMMU_PGFAULT_PERM_READ ? VTD_PRQ_RD : 0) |
              (f->perm & IOMMU_PGFAULT_PERM_WRITE ? VTD_PRQ_WR : 0);
    for (int i = 0; i < 4; i++) {
        desc[i] = cpu_to_le64(desc[i]);
    }
    if (dma_memory_write(&address_space_memory,
                         (pqa & VTD_PQA_BASE_MASK) + tail, desc, sizeof(desc),
                         MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        /* The queue is not in memory: the request cannot be recorded. */
        trace_vnest_vtd_prq_refused(sid, -1);
        return PRQ_REFUSED;
    }
    tail = (tail + VTD_PRQ_DESC_SIZE) % size;
    stq_le_p(&s->csr[DMAR_PQT_REG], tail);
    d->nest->stats.prq_requests++;
    trace_vnest_vtd_prq_request(sid, f->pasid,
                                !!(f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID),
                                f->addr, f->perm, f->grpid, last, tail);
    if (last && !(prs & VTD_PRS_PPR)) {
        prq_set_long(s, DMAR_PRS_REG, prs | VTD_PRS_PPR);
        prq_event(s);
    }
    return PRQ_WRITTEN;
}

static VtdNestDev *prq_find_dev(VNestVtd *n, VtdNestFaultq *fq,
                                uint32_t dev_id)
{
    VtdNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        if (d->fq == fq && d->info.dev_id == dev_id) {
            return d;
        }
    }
    return NULL;
}

/* One record from the host. Its group is answered once, on its last. */
static void prq_host_fault(VtdNestFaultq *fq,
                           const struct iommu_hwpt_pgfault *f)
{
    VNestVtd *n = fq->nest;
    VtdNestDev *d = prq_find_dev(n, fq, f->dev_id);
    bool last = f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE;
    VtdPrqGroup *g;
    PrqPut put = d ? prq_put(d, f) : PRQ_REFUSED;

    switch (put) {
    case PRQ_WRITTEN:
        if (!last) {
            return;
        }
        /* A PRG index is the device's until answered (PCIe 10.4.1). */
        QLIST_FOREACH(g, &n->groups, next) {
            if (g->dev == d && g->prgi == f->grpid) {
                /*
                 * The device reused it: the old one can never be matched.
                 * Answer it, unless the host forgot it and gave its cookie
                 * to this one (groups the host answered are forgotten at
                 * the detach, vtd_nest_prq_forget(): not expected).
                 */
                if (g->cookie != f->cookie) {
                    prq_respond(n, fq, g->cookie, IOMMUFD_PAGE_RESP_INVALID,
                                false);
                }
                prq_group_drop(n, g);
                break;
            }
        }
        g = g_new0(VtdPrqGroup, 1);
        g->dev = d;
        g->prgi = f->grpid;
        g->cookie = f->cookie;
        g->hpasid = f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID ?
                    f->pasid : VNEST_NO_PASID;
        QLIST_INSERT_HEAD(&n->groups, g, next);
        n->stats.prq_groups++;
        return;
    case PRQ_OVERFLOW:
        /*
         * Spec 7.5.1: a page request that finds the queue full is not
         * recorded; when it ends its group the hardware itself answers
         * it with Success, so the device asks again later.
         */
        n->stats.prq_overflows++;
        if (last) {
            prq_respond(n, fq, f->cookie, IOMMUFD_PAGE_RESP_SUCCESS, false);
        }
        return;
    case PRQ_REFUSED:
        /* Page requests not enabled (context PRE clear), or no device. */
        n->stats.prq_refused++;
        if (!d) {
            trace_vnest_vtd_prq_unknown_dev(fq->id, f->dev_id);
        }
        if (last) {
            prq_respond(n, fq, f->cookie, IOMMUFD_PAGE_RESP_INVALID, false);
        }
        return;
    }
}

static void prq_fq_readable(void *opaque)
{
    VtdNestFaultq *fq = opaque;
    const size_t len = VTD_FQ_READ_RECORDS * sizeof(*fq->buf);

    for (;;) {
        ssize_t ret = vnest_iommufd_fd_read(fq->be, fq->fd, fq->buf, len);

        if (ret <= 0) {
            if (ret < 0 && errno != EAGAIN && errno != EINTR) {
                fq->nest->stats.host_errors++;
                error_report_once("intel-iommu: reading the host fault "
                                  "queue %u failed: %s", fq->id,
                                  strerror(errno));
            }
            return;
        }
        for (size_t i = 0; i < ret / sizeof(*fq->buf); i++) {
            prq_host_fault(fq, &fq->buf[i]);
        }
    }
}

/* ---- fault queues, one per iommufd ---- */

static bool prq_dev_has_pri(VtdNestDev *d)
{
    PCIDevice *pdev = pci_find_device(d->bus, pci_bus_num(d->bus), d->devfn);

    return pdev && pci_is_express(pdev) &&
           pcie_find_capability(pdev, PCI_EXT_CAP_ID_PRI);
}

void vtd_nest_prq_plug(VtdNestDev *d)
{
    VNestVtd *n = d->nest;
    VtdNestFaultq *fq;
    Error *err = NULL;

    if (!prq_offered(n->s) || !prq_dev_has_pri(d)) {
        return;
    }
    QLIST_FOREACH(fq, &n->faultqs, next) {
        if (fq->be == d->info.be) {
            fq->users++;
            d->fq = fq;
            return;
        }
    }
    fq = g_new0(VtdNestFaultq, 1);
    if (!vnest_iommufd_alloc_fault_queue(d->info.be, &fq->id, &fq->fd,
                                         &err)) {
        n->stats.host_errors++;
        error_reportf_err(err, "intel-iommu: %s keeps working without page "
                          "requests: ", d->hiod->name);
        g_free(fq);
        return;
    }
    fq->nest = n;
    fq->be = d->info.be;
    fq->users = 1;
    fq->buf = g_new0(struct iommu_hwpt_pgfault, VTD_FQ_READ_RECORDS);
    QLIST_INSERT_HEAD(&n->faultqs, fq, next);
    qemu_set_fd_handler(fq->fd, prq_fq_readable, NULL, fq);
    d->fq = fq;
    trace_vnest_vtd_prq_faultq(fq->id, fq->fd, d->hiod->name);
}

/* Before the device's HWPTs go: what the guest was shown is answered. */
void vtd_nest_prq_unplug(VtdNestDev *d)
{
    if (d->fq) {
        prq_answer_pending(d->nest, d, IOMMUFD_PAGE_RESP_INVALID);
    }
}

/* After the device's HWPTs are gone: the queue may have no more users. */
void vtd_nest_prq_release(VtdNestDev *d)
{
    VtdNestFaultq *fq = d->fq;

    if (!fq) {
        return;
    }
    d->fq = NULL;
    if (--fq->users) {
        return;
    }
    qemu_set_fd_handler(fq->fd, NULL, NULL, NULL);
    vnest_iommufd_fd_close(fq->be, fq->fd);
    iommufd_backend_free_id(fq->be, fq->id);
    QLIST_REMOVE(fq, next);
    g_free(fq->buf);
    g_free(fq);
}

/* ---- registers ---- */

/*
 * At realize and reset (from vtd_init()'s capability pass): PRS and the
 * page request registers, at their reset values. Groups the guest was
 * shown are answered Invalid: its queue is gone.
 */
void vtd_nest_prq_reset(VNestVtd *n)
{
    IntelIOMMUState *s = n->s;

    if (!n->prq) {
        return;
    }
    s->ecap |= VTD_ECAP_PRS_BIT;
    prq_answer_pending(n, NULL, IOMMUFD_PAGE_RESP_INVALID);
    prq_define_quad(s, DMAR_PQH_REG, 0, VTD_PQ_OFF_MASK, 0);
    prq_define_quad(s, DMAR_PQT_REG, 0, VTD_PQ_OFF_MASK, 0);
    prq_define_quad(s, DMAR_PQA_REG, 0, VTD_PQA_BASE_MASK | 7, 0);
    prq_define_long(s, DMAR_PRS_REG, 0, 0, VTD_PRS_PPR | VTD_PRS_PRO);
    prq_define_long(s, DMAR_PECTL_REG, VTD_PECTL_IM, VTD_PECTL_IM, 0);
    prq_define_long(s, DMAR_PEDATA_REG, 0, 0xffffffffu, 0);
    prq_define_long(s, DMAR_PEADDR_REG, 0, 0xfffffffcu, 0);
    /* As IEUADDR in QEMU: no upper address (no x2APIC destinations). */
    prq_define_long(s, DMAR_PEUADDR_REG, 0, 0, 0);
}

void vnest_vtd_mmio_written(IntelIOMMUState *s, hwaddr addr)
{
    uint32_t pectl;

    if (!prq_offered(s)) {
        return;
    }
    switch (addr) {
    case DMAR_PRS_REG:
        /* Software serviced PPR: a held interrupt is dropped (10.4.33). */
        if (!(prq_get_long(s, DMAR_PRS_REG) & VTD_PRS_PPR)) {
            pectl = prq_get_long(s, DMAR_PECTL_REG);
            prq_set_long(s, DMAR_PECTL_REG, pectl & ~VTD_PECTL_IP);
        }
        break;
    case DMAR_PECTL_REG:
        pectl = prq_get_long(s, DMAR_PECTL_REG);
        if (!(pectl & VTD_PECTL_IM) && (pectl & VTD_PECTL_IP)) {
            prq_set_long(s, DMAR_PECTL_REG, pectl & ~VTD_PECTL_IP);
            trace_vnest_vtd_prq_event(false);
            s->vnest->stats.prq_events++;
            vnest_vtd_msi(s, DMAR_PEADDR_REG, DMAR_PEDATA_REG);
        }
        break;
    }
}

/* ---- the guest's answer ---- */

bool vnest_vtd_page_response(IntelIOMMUState *s, const VTDInvDesc *desc)
{
    VNestVtd *n = s->vnest;
    uint64_t lo = desc->val[0], hi = desc->val[1];
    uint32_t code = VTD_PGRP_CODE(lo);
    uint16_t sid = VTD_PGRP_RID(lo);
    uint16_t prgi = VTD_PGRP_PRGI(hi);
    VtdPrqGroup *g;

    if (!prq_offered(s)) {
        /* An unknown descriptor type without PRS, as in QEMU. */
        error_report_once("%s: page group response without ECAP.PRS "
                          "(intel-iommu,x-prq=on)", __func__);
        return false;
    }
    if ((lo & VTD_PGRP_RSVD_LO) || (hi & VTD_PGRP_RSVD_HI) ||
        (code != VTD_PGRP_SUCCESS && code != VTD_PGRP_INVALID &&
         code != VTD_PGRP_FAILURE)) {
        trace_vnest_vtd_prq_bad_response(lo, hi);
        return false;
    }
    trace_vnest_vtd_prq_guest_response(sid, !!(lo & VTD_PGRP_PASID_P),
                                       VTD_PGRP_PASID(lo), prgi, code);
    QLIST_FOREACH(g, &n->groups, next) {
        if (g->prgi == prgi && vtd_nest_sid(g->dev) == sid) {
            break;
        }
    }
    if (!g) {
        /*
         * The hardware sends it to the device whatever it is; the device
         * ignores a response to no request of its own (PCIe 10.4.2.1).
         */
        n->stats.prq_stray++;
        return true;
    }
    /* iommufd has no Response Failure: Invalid, the device gives up. */
    prq_respond(n, g->dev->fq, g->cookie,
                code == VTD_PGRP_SUCCESS ? IOMMUFD_PAGE_RESP_SUCCESS :
                                           IOMMUFD_PAGE_RESP_INVALID, true);
    prq_group_drop(n, g);
    return true;
}
