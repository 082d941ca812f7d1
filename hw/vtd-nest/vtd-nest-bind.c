/*
 * VNest intel-iommu nesting: the guest's PASID entries, followed by the host
 *
 * When the guest invalidates its PASID cache (or changes the context,
 * the root table pointer or translation enable), the affected PASID
 * entries of each nested device are read again and the host is brought
 * into line with one call per change:
 *   PGTT=first-stage  -> a nested HWPT (IOMMU_HWPT_DATA_VTD_S1: table
 *                        address, width from FSPM, SRE/WPE/EAFE) over the
 *                        device's nest parent, attached or replaced;
 *   PGTT=pass-through -> the nest parent (stage 2 only: guest physical);
 *   not present       -> detached (DMA blocked);
 *   unchanged         -> no host call.
 * Until the invalidation the host keeps the old binding, as hardware keeps
 * a cached PASID entry. A bad entry is reported to the guest as the fault
 * a translation through it would raise, and the PASID is blocked; nothing
 * the guest writes reaches the host unchecked.
 *
 * Nested HWPTs are shared: devices (and PASIDs) whose entries name the same
 * domain, tables and flags over the same parent use one HWPT, so one
 * invalidation entry serves them all.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "vtd-nest-internal.h"
#include "trace.h"

/* PASID entry fields of first-stage translation (VT-d spec 9.6). */
#define PE_FS_SRE               (1ULL << 0)     /* val[2] */
#define PE_FS_FSPM_SHIFT        2               /* val[2] bits 3:2 */
#define PE_FS_FSPM_MASK         3ULL
#define PE_FS_WPE               (1ULL << 4)
#define PE_FS_EAFE              (1ULL << 7)
#define PE_FS_PTR_MASK          (~0xfffULL)
#define VTD_ECAP_EAFS           (1ULL << 34)

/* Entries to scan on a full re-read: bounded by the PASID width. */
#define VTD_PASIDS_PER_TABLE    64

typedef struct VtdWant {
    VtdBindKind kind;
    uint16_t did;
    struct iommu_hwpt_vtd_s1 s1;
    int fault;                      /* VTD_FR_* to report, 0: none */
    bool fpd;
} VtdWant;

/* PASID width the guest sees: ECAP.PSS + 1 with ECAP.PASID, else 0. */
static unsigned vtd_pasid_width(IntelIOMMUState *s)
{
    return (s->ecap & VTD_ECAP_PASID) ?
           (unsigned)((s->ecap >> 35) & 0x1f) + 1 : 0;
}

static bool vtd_fr_not_present(int fr)
{
    switch (fr) {
    case VTD_FR_ROOT_ENTRY_P:
    case VTD_FR_CONTEXT_ENTRY_P:
    case VTD_FR_PASID_DIR_ENTRY_P:
    case VTD_FR_PASID_ENTRY_P:
        return true;
    default:
        return false;
    }
}

/* Decode a present first-stage PASID entry into the host's s1 data. */
static int vtd_want_first_stage(IntelIOMMUState *s, const VTDPASIDEntry *pe,
                                VtdWant *w)
{
    uint64_t fsptr = pe->val[2] & PE_FS_PTR_MASK;
    unsigned fspm = (pe->val[2] >> PE_FS_FSPM_SHIFT) & PE_FS_FSPM_MASK;

    if (fsptr >> s->aw_bits) {
        return VTD_FR_PASID_ENTRY_FSPTPTR_INV;
    }
    /* QEMU's reader already refused levels the vIOMMU does not offer. */
    w->s1.addr_width = fspm ? 57 : 48;
    w->s1.pgtbl_addr = fsptr;
    if (pe->val[2] & PE_FS_SRE) {
        if (!(s->ecap & VTD_ECAP_SRS)) {
            return VTD_FR_PASID_TABLE_ENTRY_INV;
        }
        w->s1.flags |= IOMMU_VTD_S1_SRE;
        if (pe->val[2] & PE_FS_WPE) {
            w->s1.flags |= IOMMU_VTD_S1_WPE;
        }
    }
    if (pe->val[2] & PE_FS_EAFE) {
        if (!(s->ecap & VTD_ECAP_EAFS)) {
            return VTD_FR_PASID_TABLE_ENTRY_INV;
        }
        w->s1.flags |= IOMMU_VTD_S1_EAFE;
    }
    w->did = VTD_SM_PASID_ENTRY_DID(pe->val[1]);
    w->kind = VTD_BIND_NESTED;
    return 0;
}

/* What the guest's tables ask for @gpasid (PCI_NO_PASID: RID_PASID). */
static void vtd_want(VtdNestDev *d, uint32_t gpasid, VtdWant *w)
{
    IntelIOMMUState *s = d->nest->s;
    uint32_t rid2pasid = 0;
    VTDPASIDEntry pe;
    int ret;

    memset(w, 0, sizeof(*w));
    w->kind = VTD_BIND_BLOCKED;
    if (!s->dmar_enabled) {
        /* Untranslated: requests without PASID reach guest memory. */
        if (gpasid == PCI_NO_PASID) {
            w->kind = VTD_BIND_PARENT;
        }
        return;
    }
    if (!s->root_scalable) {
        /* First stage exists only in scalable mode: nothing is mapped. */
        return;
    }
    if (gpasid != PCI_NO_PASID && gpasid >> vtd_pasid_width(s)) {
        /* Beyond the PASID width the guest was offered: no such PASID. */
        return;
    }
    ret = vnest_vtd_read_pasid_entry(s, d->alias_bus, d->alias_devfn,
                                     gpasid, &pe, &rid2pasid, &w->fpd);
    if (gpasid == PCI_NO_PASID && ret != -VTD_FR_ROOT_ENTRY_P &&
        ret != -VTD_FR_CONTEXT_ENTRY_P) {
        d->rid2pasid = rid2pasid;
    }
    if (ret) {
        if (!vtd_fr_not_present(-ret)) {
            w->fault = -ret;
        }
        return;
    }
    switch (VTD_PE_GET_TYPE(&pe)) {
    case VTD_SM_PASID_ENTRY_PT:
        w->kind = VTD_BIND_PARENT;
        break;
    case VTD_SM_PASID_ENTRY_FLT:
        w->fault = vtd_want_first_stage(s, &pe, w);
        if (w->fault) {
            w->kind = VTD_BIND_BLOCKED;
        }
        break;
    default:
        /* QEMU's reader refuses types the vIOMMU does not offer. */
        w->fault = VTD_FR_PASID_TABLE_ENTRY_INV;
        break;
    }
}

static bool vtd_bind_same(const VtdBind *b, const VtdWant *w)
{
    if (b->kind != w->kind) {
        return false;
    }
    if (b->kind != VTD_BIND_NESTED) {
        return true;
    }
    return b->hwpt->did == w->did &&
           !memcmp(&b->hwpt->s1, &w->s1, sizeof(w->s1));
}

/* ---- nested HWPTs, shared by identical configurations ---- */

static VtdNestHwpt *vtd_hwpt_get(VtdNestDev *d, const VtdWant *w,
                                 Error **errp)
{
    VNestVtd *n = d->nest;
    uint32_t flags = d->info.hwpt_flags & IOMMU_HWPT_ALLOC_PASID;
    VtdNestHwpt *h;
    struct iommu_hwpt_vtd_s1 s1 = w->s1;

    QLIST_FOREACH(h, &n->hwpts, next) {
        if (h->be == d->info.be && h->parent_id == d->info.hwpt_id &&
            h->fq == d->fq &&
            h->did == w->did && !memcmp(&h->s1, &w->s1, sizeof(w->s1))) {
            h->users++;
            return h;
        }
    }
    h = g_new0(VtdNestHwpt, 1);
    if (d->fq ?
        /* A PRI device's page requests go to the fault queue (x-prq). */
        !vnest_iommufd_alloc_hwpt(d->info.be, d->info.dev_id,
                                  d->info.hwpt_id, flags,
                                  IOMMU_HWPT_DATA_VTD_S1, sizeof(s1), &s1,
                                  &d->fq->id, &h->id, errp) :
        !iommufd_backend_alloc_hwpt(d->info.be, d->info.dev_id,
                                    d->info.hwpt_id, flags,
                                    IOMMU_HWPT_DATA_VTD_S1, sizeof(s1), &s1,
                                    &h->id, errp)) {
        g_free(h);
        return NULL;
    }
    h->fq = d->fq;
    n->stats.hwpt_allocs++;
    h->be = d->info.be;
    h->parent_id = d->info.hwpt_id;
    h->did = w->did;
    h->s1 = w->s1;
    h->users = 1;
    h->key = ++n->next_key;
    QLIST_INSERT_HEAD(&n->hwpts, h, next);
    trace_vnest_vtd_hwpt_alloc(h->id, h->parent_id, h->did,
                               h->s1.pgtbl_addr, h->s1.addr_width,
                               (unsigned)h->s1.flags);
    return h;
}

static void vtd_hwpt_put(VNestVtd *n, VtdNestHwpt *h)
{
    uint16_t unused;

    if (!h || --h->users) {
        return;
    }
    /* Entries batched for it must not outlive it. */
    vtd_nest_inv_flush(n, &unused);
    trace_vnest_vtd_hwpt_free(h->id);
    QLIST_REMOVE(h, next);
    iommufd_backend_free_id(h->be, h->id);
    g_free(h);
}

/* ---- bringing one (device, PASID) into line ---- */

static VtdBind *vtd_bind_get(VtdNestDev *d, uint32_t hpasid)
{
    return g_hash_table_lookup(d->binds, vtd_nest_key(hpasid));
}

/*
 * Make the host do @w for host PASID @hpasid (VNEST_NO_PASID: the RID),
 * following guest PASID @gpasid. One host call when it changes, none
 * otherwise. On a host failure the PASID is blocked: the old binding
 * must not keep translating what the guest has changed.
 */
static void vtd_apply(VtdNestDev *d, uint32_t hpasid, uint32_t gpasid,
                      const VtdWant *w)
{
    VNestVtd *n = d->nest;
    VtdBind *b = vtd_bind_get(d, hpasid);
    static const VtdWant want_blocked = { .kind = VTD_BIND_BLOCKED };
    VtdBind blocked = { .kind = VTD_BIND_BLOCKED };
    VtdNestHwpt *h = NULL;
    Error *err = NULL;
    uint16_t sid = vtd_nest_sid(d);
    bool ok = true;

    if (w->fault) {
        n->stats.guest_faults++;
        trace_vnest_vtd_bad_entry(sid, gpasid, w->fault);
        vnest_vtd_record_fault(n->s, sid, gpasid != PCI_NO_PASID,
                               gpasid == PCI_NO_PASID ? 0 : gpasid, 0,
                               false, w->fault, w->fpd);
    }
    if (vtd_bind_same(b ? b : &blocked, w)) {
        return;
    }
    switch (w->kind) {
    case VTD_BIND_BLOCKED:
        ok = vnest_host_dev_detach(d->hiod, hpasid, &err);
        n->stats.detaches++;
        break;
    case VTD_BIND_PARENT:
        ok = vnest_host_dev_attach(d->hiod, hpasid, d->info.hwpt_id, &err);
        n->stats.attaches++;
        break;
    case VTD_BIND_NESTED:
        h = vtd_hwpt_get(d, w, &err);
        if (h) {
            /* Attach or replace in one step: no window without tables. */
            ok = vnest_host_dev_attach(d->hiod, hpasid, h->id, &err);
            n->stats.attaches++;
        } else {
            ok = false;
        }
        break;
    }
    if (!ok) {
        n->stats.host_errors++;
        error_reportf_err(err, "intel-iommu: cannot follow PASID %d of "
                          "%s (requester %02x:%02x.%x) on the host, "
                          "blocking it: ",
                          gpasid == PCI_NO_PASID ? -1 : (int)gpasid,
                          d->hiod->name, PCI_BUS_NUM(sid),
                          PCI_SLOT(sid & 0xff), PCI_FUNC(sid & 0xff));
        vtd_hwpt_put(n, h);
        if (b && b->kind != VTD_BIND_BLOCKED &&
            !vnest_host_dev_detach(d->hiod, hpasid, &err)) {
            /* Nothing else to try: keep what the host still has. */
            error_report_err(err);
            return;
        }
        h = NULL;
        w = &want_blocked;
    }
    if (b && b->hwpt && b->hwpt->fq) {
        /* Left a HWPT with a fault queue: the host answered its groups. */
        vtd_nest_prq_forget(d, hpasid);
    }
    if (b) {
        vtd_hwpt_put(n, b->hwpt);
    }
    if (w->kind == VTD_BIND_BLOCKED) {
        g_hash_table_remove(d->binds, vtd_nest_key(hpasid));
        return;
    }
    if (!b) {
        b = g_new0(VtdBind, 1);
        g_hash_table_insert(d->binds, vtd_nest_key(hpasid), b);
    }
    b->kind = w->kind;
    b->hwpt = h;
    b->gpasid = gpasid;
}

/* Follow guest PASID @gpasid of @d (PCI_NO_PASID: the RID's). */
static void vtd_sync_one(VtdNestDev *d, uint32_t gpasid)
{
    VtdWant w;

    vtd_want(d, gpasid, &w);
    vtd_apply(d, gpasid == PCI_NO_PASID ? VNEST_NO_PASID : gpasid, gpasid,
              &w);
}

/* Guest PASIDs a full re-read covers: those bound, and present ones. */
static void vtd_scan_present(VtdNestDev *d, GHashTable *todo)
{
    IntelIOMMUState *s = d->nest->s;
    unsigned bits = vtd_pasid_width(s);
    uint32_t limit = bits ? 1u << bits : 0;
    uint32_t rid2pasid = 0, p;
    VTDPASIDEntry pe;
    bool fpd;
    int ret;

    /*
     * PASIDs other than RID_PASID only matter when the guest may use
     * them, and when the device's context entry is good (a failure of
     * the PASID-table levels is not the context's). A directory entry
     * covers 64 PASIDs; an absent one is skipped in one read.
     */
    if (!limit || d->no_pasid) {
        return;
    }
    ret = vnest_vtd_read_pasid_entry(s, d->alias_bus, d->alias_devfn,
                                     PCI_NO_PASID, &pe, &rid2pasid, &fpd);
    if (ret && !(-ret >= VTD_FR_PASID_DIR_ACCESS_ERR &&
                 -ret <= VTD_FR_PASID_TABLE_ENTRY_INV)) {
        return;
    }
    for (p = 1; p < limit; p++) {
        ret = vnest_vtd_read_pasid_entry(s, d->alias_bus, d->alias_devfn, p,
                                         &pe, &rid2pasid, &fpd);

        if (ret == -VTD_FR_PASID_DIR_ENTRY_P) {
            p |= VTD_PASIDS_PER_TABLE - 1;
            continue;
        }
        if (ret == -VTD_FR_PASID_ENTRY_P) {
            continue;
        }
        g_hash_table_add(todo, GUINT_TO_POINTER(p + 1));
    }
}

void vtd_nest_sync_dev(VtdNestDev *d, bool scan)
{
    g_autoptr(GHashTable) todo = g_hash_table_new(NULL, NULL);
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, d->binds);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        uint32_t hpasid = vtd_nest_key_pasid(key);

        if (hpasid != VNEST_NO_PASID) {
            g_hash_table_add(todo, GUINT_TO_POINTER(hpasid + 1));
        }
    }
    if (scan && d->nest->s->dmar_enabled && d->nest->s->root_scalable) {
        vtd_scan_present(d, todo);
    }
    vtd_sync_one(d, PCI_NO_PASID);
    g_hash_table_iter_init(&it, todo);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        vtd_sync_one(d, GPOINTER_TO_UINT(key) - 1);
    }
}

void vtd_nest_sync_pasid(VNestVtd *n, uint32_t pasid)
{
    VtdNestDev *d;

    QLIST_FOREACH(d, &n->devs, next) {
        /* The RID follows the context's RID_PASID entry (0 for Linux). */
        if (pasid == d->rid2pasid) {
            vtd_sync_one(d, PCI_NO_PASID);
        } else if (!d->no_pasid) {
            vtd_sync_one(d, pasid);
        }
    }
}

void vtd_nest_sync_did(VNestVtd *n, uint16_t did)
{
    VtdNestDev *d;

    /*
     * A domain-selective invalidation drops every cached entry of @did,
     * and entries newly made present with it must be picked up: re-read
     * what each device has bound and what is present.
     */
    QLIST_FOREACH(d, &n->devs, next) {
        vtd_nest_sync_dev(d, true);
    }
    trace_vnest_vtd_sync_did(did);
}

/* The device goes away: the host keeps nothing of the guest's. */
void vtd_nest_dev_release(VtdNestDev *d)
{
    GHashTableIter it;
    VtdBind *b;
    Error *err = NULL;
    gpointer key;

    g_hash_table_iter_init(&it, d->binds);
    while (g_hash_table_iter_next(&it, &key, (gpointer *)&b)) {
        uint32_t hpasid = vtd_nest_key_pasid(key);

        if (b->kind == VTD_BIND_NESTED) {
            /* The RID goes back to the parent, a PASID is detached. */
            bool ok = hpasid == VNEST_NO_PASID ?
                vnest_host_dev_attach(d->hiod, hpasid, d->info.hwpt_id,
                                      &err) :
                vnest_host_dev_detach(d->hiod, hpasid, &err);
            if (!ok) {
                error_report_err(err);
                err = NULL;
            }
            vtd_hwpt_put(d->nest, b->hwpt);
        }
        g_hash_table_iter_remove(&it);
    }
}

/*
 * PASID-cache invalidate descriptor (VT-d spec 6.5.2.2): granularity in
 * bits 5:4 (0 domain-selective, 1 PASID-selective, 3 global), DID in
 * 31:16, PASID in 51:32; everything else is reserved.
 */
#define PC_GRAN(lo)             (((lo) >> 4) & 3)
#define PC_GRAN_DOMAIN          0
#define PC_GRAN_PASID           1
#define PC_GRAN_GLOBAL          3
#define PC_DID(lo)              (((lo) >> 16) & 0xffff)
#define PC_PASID(lo)            (((lo) >> 32) & 0xfffff)
#define PC_RSVD_LO              0xfff000000000ffc0ULL

bool vtd_nest_pc_desc(VNestVtd *n, const VTDInvDesc *desc)
{
    uint64_t lo = desc->val[0];

    if ((lo & PC_RSVD_LO) || desc->val[1] ||
        (n->s->iq_dw && (desc->val[2] || desc->val[3]))) {
        error_report_once("intel-iommu: PASID-cache invalidation with "
                          "reserved bits set: 0x%" PRIx64 " 0x%" PRIx64,
                          desc->val[1], lo);
        return false;
    }
    trace_vnest_vtd_pc_inv(PC_GRAN(lo), PC_DID(lo), PC_PASID(lo));
    switch (PC_GRAN(lo)) {
    case PC_GRAN_DOMAIN:
        vtd_nest_sync_did(n, PC_DID(lo));
        return true;
    case PC_GRAN_PASID:
        vtd_nest_sync_pasid(n, PC_PASID(lo));
        return true;
    case PC_GRAN_GLOBAL: {
        VtdNestDev *d;

        QLIST_FOREACH(d, &n->devs, next) {
            vtd_nest_sync_dev(d, true);
        }
        return true;
    }
    default:
        error_report_once("intel-iommu: PASID-cache invalidation with "
                          "reserved granularity 2");
        return false;
    }
}
