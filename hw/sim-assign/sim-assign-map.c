/*
 * VNest simulated assignment: filling the IOAS, as VFIO does
 *
 * Two memory listeners. One, per device, keeps the host-to-guest address
 * map of guest RAM, so a host address the emulated IOMMU yields can be
 * handed back to QEMU's memory core. The other, per IOAS, watches the
 * address space the IOAS mirrors: RAM there is mapped into the IOAS at its
 * guest address; an IOMMU region there (a vIOMMU that does not nest) is
 * shadowed, each map/unmap notification becoming an IOAS map/unmap of the
 * translated RAM. Devices share an IOAS as vfio-pci devices share a
 * container: one per iommufd and address space.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "exec/address-spaces.h"
#include "sim-assign-internal.h"
#include "trace.h"

static bool section_is_ram(MemoryRegionSection *section)
{
    return memory_region_is_ram(section->mr) &&
           !memory_region_is_ram_device(section->mr);
}

static void *section_hva(MemoryRegionSection *section)
{
    return (uint8_t *)memory_region_get_ram_ptr(section->mr) +
           section->offset_within_region;
}

static gint ram_cmp(gconstpointer a, gconstpointer b)
{
    const SimRamRange *x = a, *y = b;

    return x->hva < y->hva ? -1 : x->hva > y->hva;
}

/* ---- host address -> guest address ---- */

static void ram_add(MemoryListener *l, MemoryRegionSection *section)
{
    VNestSimAssign *sa = container_of(l, VNestSimAssign, ram_listener);
    SimRamRange r;

    if (!section_is_ram(section)) {
        return;
    }
    r.hva = section_hva(section);
    r.gpa = section->offset_within_address_space;
    r.size = int128_get64(section->size);
    g_array_append_val(sa->ram, r);
    g_array_sort(sa->ram, ram_cmp);
}

static void ram_del(MemoryListener *l, MemoryRegionSection *section)
{
    VNestSimAssign *sa = container_of(l, VNestSimAssign, ram_listener);
    hwaddr gpa = section->offset_within_address_space;
    guint i;

    for (i = 0; i < sa->ram->len; i++) {
        if (g_array_index(sa->ram, SimRamRange, i).gpa == gpa) {
            g_array_remove_index(sa->ram, i);
            return;
        }
    }
}

bool sim_assign_hva_to_gpa(VNestSimAssign *sa, void *hva, hwaddr *gpa)
{
    uint8_t *p = hva;
    guint lo = 0, hi = sa->ram->len;

    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        SimRamRange *r = &g_array_index(sa->ram, SimRamRange, mid);

        if (p < r->hva) {
            hi = mid;
        } else if (p >= r->hva + r->size) {
            lo = mid + 1;
        } else {
            *gpa = r->gpa + (p - r->hva);
            return true;
        }
    }
    return false;
}

/* ---- the IOAS ---- */

static void ioas_map(SimIoas *ioas, hwaddr iova, uint64_t size,
                     void *hva, bool readonly)
{
    int ret = iommufd_backend_map_dma(ioas->iommufd, ioas->id, iova, size,
                                      hva, readonly);

    trace_vnest_sim_assign_map(ioas->id, iova, size, readonly, ret);
    if (ret && ioas->filling) {
        /* The first fill: the caller refuses the device, as VFIO does */
        if (!ioas->fill_error) {
            ioas->fill_error = ret;
            ioas->fill_iova = iova;
            ioas->fill_size = size;
        }
    } else if (ret) {
        /* The guest picks shadowed IOVAs: say it once, trace the rest. */
        error_report_once("vnest-sim-assign: map of 0x%" HWADDR_PRIx
                          "+0x%" PRIx64 " into IOAS %u failed: %s", iova,
                          size, ioas->id, strerror(-ret));
    }
}

/* @size 0: the whole 64-bit space (its size wrapped), from @iova 0. */
static void ioas_unmap(SimIoas *ioas, hwaddr iova, uint64_t size)
{
    int ret;

    if (!size) {
        /* IOMMU_IOAS_UNMAP's "everything": iova 0, length UINT64_MAX */
        assert(!iova);
        size = UINT64_MAX;
    }
    ret = iommufd_backend_unmap_dma(ioas->iommufd, ioas->id, iova, size);

    trace_vnest_sim_assign_unmap(ioas->id, iova, size, ret);
}

static void shadow_notify(IOMMUNotifier *n, IOMMUTLBEntry *iotlb)
{
    SimShadow *s = container_of(n, SimShadow, n);
    SimIoas *ioas = s->ioas;
    uint64_t size = iotlb->addr_mask + 1;
    Error *err = NULL;
    bool readonly;
    void *hva;

    if (iotlb->target_as != &address_space_memory) {
        error_report_once("vnest-sim-assign: IOAS %u: vIOMMU translates "
                          "to another address space", ioas->id);
        return;
    }
    if (!(iotlb->perm & IOMMU_RW)) {
        ioas_unmap(ioas, iotlb->iova, size);
        return;
    }
    if (!memory_get_xlat_addr(iotlb, &hva, NULL, &readonly, NULL, &err)) {
        /* The guest mapped something that is not RAM: once is enough. */
        warn_report_err_once(err);
        return;
    }
    /*
     * As vfio-pci: a MAP is one host map. A vIOMMU sends an UNMAP before
     * the MAP of a changed mapping (vtd_page_walk_one()), so nothing is
     * in the way.
     */
    ioas_map(ioas, iotlb->iova, size, hva,
             readonly || !(iotlb->perm & IOMMU_WO));
}

static void shadow_add(SimIoas *ioas, MemoryRegionSection *section)
{
    IOMMUMemoryRegion *iommu_mr = IOMMU_MEMORY_REGION(section->mr);
    SimShadow *s = g_new0(SimShadow, 1);
    hwaddr start = section->offset_within_region;
    /* An IOMMU region may span the whole 64-bit space (SMMUv3's does). */
    hwaddr end = int128_get64(int128_sub(int128_add(int128_make64(start),
                                                    section->size),
                                         int128_one()));
    int idx = memory_region_iommu_attrs_to_index(iommu_mr,
                                                 MEMTXATTRS_UNSPECIFIED);
    Error *err = NULL;

    s->ioas = ioas;
    s->iommu_mr = iommu_mr;
    iommu_notifier_init(&s->n, shadow_notify, IOMMU_NOTIFIER_IOTLB_EVENTS,
                        start, end, idx);
    if (memory_region_register_iommu_notifier(section->mr, &s->n, &err)) {
        error_prepend(&err, "vnest-sim-assign: IOAS %u cannot follow the "
                      "vIOMMU: ", ioas->id);
        error_report_err(err);
        g_free(s);
        return;
    }
    QLIST_INSERT_HEAD(&ioas->shadows, s, next);
    memory_region_iommu_replay(iommu_mr, &s->n);
}

static void shadow_del(SimIoas *ioas, MemoryRegionSection *section)
{
    SimShadow *s, *tmp;

    QLIST_FOREACH_SAFE(s, &ioas->shadows, next, tmp) {
        if (MEMORY_REGION(s->iommu_mr) == section->mr &&
            s->n.start == section->offset_within_region) {
            memory_region_unregister_iommu_notifier(section->mr, &s->n);
            ioas_unmap(ioas, s->n.start, s->n.end - s->n.start + 1);
            QLIST_REMOVE(s, next);
            g_free(s);
        }
    }
}

static bool section_is_readonly(MemoryRegionSection *section)
{
    return section->readonly || section->mr->readonly ||
           memory_region_is_rom(section->mr);
}

static void ioas_region_add(MemoryListener *l, MemoryRegionSection *section)
{
    SimIoas *ioas = container_of(l, SimIoas, listener);

    if (memory_region_is_iommu(section->mr)) {
        shadow_add(ioas, section);
    } else if (section_is_ram(section) &&
               !(ioas->skip_readonly && section_is_readonly(section))) {
        ioas_map(ioas, section->offset_within_address_space,
                 int128_get64(section->size), section_hva(section),
                 section_is_readonly(section));
    }
}

static void ioas_region_del(MemoryListener *l, MemoryRegionSection *section)
{
    SimIoas *ioas = container_of(l, SimIoas, listener);

    if (memory_region_is_iommu(section->mr)) {
        shadow_del(ioas, section);
    } else if (section_is_ram(section) &&
               !(ioas->skip_readonly && section_is_readonly(section))) {
        ioas_unmap(ioas, section->offset_within_address_space,
                   int128_get64(section->size));
    }
}

/* ---- IOASes, shared per (iommufd, address space) ---- */

static QLIST_HEAD(, SimIoas) sim_ioases = QLIST_HEAD_INITIALIZER(sim_ioases);

SimIoas *sim_ioas_get(IOMMUFDBackend *be, AddressSpace *as,
                      bool skip_readonly, Error **errp)
{
    SimIoas *ioas;
    uint32_t id;

    QLIST_FOREACH(ioas, &sim_ioases, next) {
        if (ioas->iommufd == be && ioas->as == as &&
            ioas->skip_readonly == skip_readonly) {
            ioas->users++;
            return ioas;
        }
    }
    if (!iommufd_backend_alloc_ioas(be, &id, errp)) {
        return NULL;
    }
    ioas = g_new0(SimIoas, 1);
    ioas->iommufd = be;
    ioas->as = as;
    ioas->skip_readonly = skip_readonly;
    ioas->id = id;
    ioas->users = 1;
    QLIST_INIT(&ioas->shadows);
    QLIST_INIT(&ioas->hwpts);
    QLIST_INSERT_HEAD(&sim_ioases, ioas, next);
    trace_vnest_sim_assign_ioas_new(id, as->name);
    ioas->listener = (MemoryListener) {
        .name = "vnest-sim-assign-ioas",
        .region_add = ioas_region_add,
        .region_del = ioas_region_del,
        .priority = MEMORY_LISTENER_PRIORITY_DEV_BACKEND,
    };
    ioas->filling = true;
    memory_listener_register(&ioas->listener, as);
    ioas->filling = false;
    if (ioas->fill_error) {
        /*
         * A device that cannot reach guest memory must not start (VFIO's
         * listener fails the realize the same way).
         */
        error_setg_errno(errp, -ioas->fill_error, "cannot map guest memory "
                         "0x%" HWADDR_PRIx "+0x%" PRIx64 " into IOAS %u",
                         ioas->fill_iova, ioas->fill_size, id);
        sim_ioas_put(ioas);
        return NULL;
    }
    return ioas;
}

void sim_ioas_put(SimIoas *ioas)
{
    if (!ioas || --ioas->users) {
        return;
    }
    /* Its HWPTs went with their last devices. */
    g_assert(QLIST_EMPTY(&ioas->hwpts));
    memory_listener_unregister(&ioas->listener);
    QLIST_REMOVE(ioas, next);
    trace_vnest_sim_assign_ioas_free(ioas->id);
    iommufd_backend_free_id(ioas->iommufd, ioas->id);
    g_free(ioas);
}

void sim_assign_map_start(VNestSimAssign *sa)
{
    sa->ram = g_array_new(false, false, sizeof(SimRamRange));
    sa->ram_listener = (MemoryListener) {
        .name = "vnest-sim-assign-ram",
        .region_add = ram_add,
        .region_del = ram_del,
    };
    memory_listener_register(&sa->ram_listener, &address_space_memory);
}

void sim_assign_map_stop(VNestSimAssign *sa)
{
    memory_listener_unregister(&sa->ram_listener);
    g_array_free(sa->ram, true);
    sa->ram = NULL;
}
