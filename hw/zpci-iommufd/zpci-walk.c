/*
 * VNest s390 zPCI over iommufd: walking the guest's DMA translation tables
 *
 * The guest's tables as the z/Architecture PCI facilities define them and
 * QEMU 10.0 reads them (hw/s390x/s390-pci-bus.c): a region-third table
 * (2048 entries, 2 GiB each) designated by the IOTA, segment tables (2048
 * entries, 1 MiB each, or a 1 MiB frame with FC), page tables (256
 * entries, 4 KiB pages). Each entry can be invalid (nothing mapped below
 * it) or protected (read-only below it). A whole range is walked at once
 * and comes out as runs, so an invalid region or segment entry skips its
 * 2 GiB or 1 MiB in one step (a whole-aperture refresh in Linux's lazy
 * mode costs one read per empty 2 GiB).
 *
 * Errors a guest can cause are the error event codes QEMU 10.0 raises for
 * them: an entry of zero, or one that cannot be read because the table is
 * not in guest memory (QEMU reads 0 there), is ERR_EVENT_INVALTE; a
 * region-third entry whose table length or offset is not the full table
 * is ERR_EVENT_INVALTL; an entry of the wrong table type or with a zero
 * origin is ERR_EVENT_TT. A valid page whose frame is not guest RAM is
 * left unmapped: DMA to it is refused, as hardware refuses DMA to a
 * frame that does not exist.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/rcu.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "zpci-iommufd-internal.h"
#include "trace.h"

#define ZW_PAGE         (1ULL << 12)
#define ZW_SEGMENT      (1ULL << 20)
#define ZW_REGION       (1ULL << 31)
#define ZW_ENTRY        8

typedef struct ZpciWalk {
    uint64_t end;           /* the refresh ends here (exclusive) */
    GArray *out;            /* ZpciRun */
    uint64_t fault;         /* IOVA whose entry was bad */
} ZpciWalk;

/* Entry @index of the table at @table; a zero or unreadable one is bad. */
static uint16_t zw_load(uint64_t table, uint64_t index, uint64_t *te)
{
    MemTxResult res;

    *te = address_space_ldq_be(&address_space_memory,
                               table + index * ZW_ENTRY,
                               MEMTXATTRS_UNSPECIFIED, &res);
    return res != MEMTX_OK || !*te ? ERR_EVENT_INVALTE : 0;
}

static void zw_append(ZpciWalk *w, uint64_t iova, uint64_t gpa,
                      uint8_t *hva, uint64_t len, bool ro)
{
    ZpciRun run = { .iova = iova, .len = len, .gpa = gpa, .hva = hva,
                    .ro = ro };
    ZpciRun *last = w->out->len ?
        &g_array_index(w->out, ZpciRun, w->out->len - 1) : NULL;

    if (last && last->iova + last->len == iova &&
        last->gpa + last->len == gpa && last->hva + last->len == hva &&
        last->ro == ro) {
        last->len += len;
        return;
    }
    g_array_append_val(w->out, run);
}

/* [@iova, @iova + @len) translates to guest memory from @gpa. */
static void zw_frame(ZpciWalk *w, uint64_t iova, uint64_t gpa, uint64_t len,
                     bool ro)
{
    RCU_READ_LOCK_GUARD();

    while (len) {
        hwaddr xlat, plen = len;
        MemoryRegion *mr;

        mr = address_space_translate(&address_space_memory, gpa, &xlat,
                                     &plen, !ro, MEMTXATTRS_UNSPECIFIED);
        plen = QEMU_ALIGN_DOWN(MIN(plen, len), ZW_PAGE);
        if (!plen || !memory_region_is_ram(mr) ||
            memory_region_is_ram_device(mr)) {
            trace_vnest_zpci_walk_not_ram(iova, gpa);
            plen = ZW_PAGE;
        } else {
            zw_append(w, iova, gpa,
                      (uint8_t *)memory_region_get_ram_ptr(mr) + xlat, plen,
                      ro || mr->readonly || memory_region_is_rom(mr));
        }
        iova += plen;
        gpa += plen;
        len -= plen;
    }
}

/* The pages of one page table from @iova to the end of its 1 MiB. */
static uint16_t zw_pages(ZpciWalk *w, uint64_t pto, uint64_t iova,
                         uint64_t seg_end, bool ro)
{
    uint64_t te;
    uint16_t err;

    for (; iova < seg_end && iova < w->end; iova += ZW_PAGE) {
        err = zw_load(pto, (iova >> 12) & (ZPCI_PT_ENTRIES - 1), &te);
        if (err) {
            w->fault = iova;
            return err;
        }
        if ((te & ZPCI_PTE_VALID_MASK) != ZPCI_PTE_VALID) {
            continue;
        }
        zw_frame(w, iova, te & ZPCI_PTE_ADDR_MASK, ZW_PAGE,
                 ro || (te & ZPCI_TABLE_PROT_MASK));
    }
    return 0;
}

/* One segment entry's 1 MiB (the part from @iova). */
static uint16_t zw_segment(ZpciWalk *w, uint64_t sto, uint64_t iova, bool ro)
{
    uint64_t seg_end = QEMU_ALIGN_DOWN(iova, ZW_SEGMENT) + ZW_SEGMENT;
    uint64_t te, frame;
    uint16_t err;

    err = zw_load(sto, (iova >> 20) & ZPCI_INDEX_MASK, &te);
    if (err) {
        w->fault = iova;
        return err;
    }
    if ((te & ZPCI_TABLE_VALID_MASK) != ZPCI_TABLE_VALID) {
        return 0;
    }
    if ((te & ZPCI_TABLE_TYPE_MASK) != ZPCI_TABLE_TYPE_SX ||
        !(te & ZPCI_STE_ADDR_MASK)) {
        w->fault = iova;
        return ERR_EVENT_TT;
    }
    ro = ro || (te & ZPCI_TABLE_PROT_MASK);
    if (te & ZPCI_TABLE_FC) {
        /* A 1 MiB frame */
        frame = (te & ZPCI_SFAA_MASK) + (iova & (ZW_SEGMENT - 1));
        zw_frame(w, iova, frame, MIN(seg_end, w->end) - iova, ro);
        return 0;
    }
    return zw_pages(w, te & ZPCI_STE_ADDR_MASK, iova, seg_end, ro);
}

/* One region-third entry's 2 GiB (the part from @iova). */
static uint16_t zw_region(ZpciWalk *w, uint64_t rto, uint64_t iova, bool ro)
{
    uint64_t reg_end = QEMU_ALIGN_DOWN(iova, ZW_REGION) + ZW_REGION;
    uint64_t te, sto;
    uint16_t err;

    err = zw_load(rto, (iova >> 31) & ZPCI_INDEX_MASK, &te);
    if (err) {
        w->fault = iova;
        return err;
    }
    if ((te & ZPCI_TABLE_VALID_MASK) != ZPCI_TABLE_VALID) {
        return 0;
    }
    if ((te & ZPCI_TABLE_LEN_RTX) != ZPCI_TABLE_LEN_RTX ||
        (te & ZPCI_TABLE_OFFSET_MASK)) {
        w->fault = iova;
        return ERR_EVENT_INVALTL;
    }
    sto = te & ZPCI_RTE_ADDR_MASK;
    if ((te & ZPCI_TABLE_TYPE_MASK) != ZPCI_TABLE_TYPE_RTX || !sto) {
        w->fault = iova;
        return ERR_EVENT_TT;
    }
    ro = ro || (te & ZPCI_TABLE_PROT_MASK);
    while (iova < reg_end && iova < w->end) {
        err = zw_segment(w, sto, iova, ro);
        if (err) {
            return err;
        }
        iova = QEMU_ALIGN_DOWN(iova, ZW_SEGMENT) + ZW_SEGMENT;
    }
    return 0;
}

uint16_t zpci_walk(uint64_t g_iota, uint64_t start, uint64_t end,
                   GArray *out, uint64_t *fault)
{
    ZpciWalk w = { .end = end, .out = out };
    uint64_t rto = g_iota & ~(ZPCI_TABLE_ALIGN - 1);
    bool ro = g_iota & ZPCI_TABLE_PROT_MASK;
    uint64_t iova = QEMU_ALIGN_DOWN(start, ZW_PAGE);
    uint16_t err;

    while (iova < end) {
        err = zw_region(&w, rto, iova, ro);
        if (err) {
            *fault = w.fault;
            return err;
        }
        iova = QEMU_ALIGN_DOWN(iova, ZW_REGION) + ZW_REGION;
        if (!iova) {
            break;      /* wrapped at the top of the 64-bit space */
        }
    }
    return 0;
}
