/*
 * VNest emulated host IOMMU: the IOTLB and paging-structure cache
 *
 * One cache per physical IOMMU, shared by every domain on it, tagged the
 * way the hardware tags it: a domain tag (VT-d DID, SMMUv3 VMID of the
 * stage-2 parent) and an address-space tag (VT-d PASID, SMMUv3 ASID).
 * Nothing else (not the HWPT, not the device) selects an entry, so two
 * configurations that carry the same tags share entries, as on hardware,
 * and only an invalidation that names the tags drops them.
 *
 * Entries:
 * - leaves (EMU_TLB_LEAF): one entry per leaf, whatever its size (a
 *   1 GiB leaf is one entry, not 262144), input base -> output base;
 * - paging-structure entries (EMU_TLB_PSC): a non-leaf table entry of a
 *   walk, keyed by the input range it covers, giving the next table.
 *
 * Capacity is bounded (EmuHwConfig.iotlb_entries) with least-recently
 * used eviction, as a hardware cache of fixed size replaces entries: a
 * guest cannot grow host memory through it. A lookup costs one hash probe
 * per page size present in the address space; a range invalidation costs
 * the smaller of the pages it covers and the entries the address space
 * holds, never the size of the whole cache.
 *
 * The cache does no locking: callers hold the host lock (emu-main.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-internal.h"

#define EMU_TLB_SHIFTS  64

/* Everything one (tag, asid) holds: what a flush selects. */
typedef struct TlbSpace {
    uint32_t tag, asid;
    GQueue entries;                     /* EmuTlbEntry, via space_link */
    unsigned count[EMU_TLB_KINDS][EMU_TLB_SHIFTS];  /* per kind and size */
    uint64_t sizes[EMU_TLB_KINDS];      /* bit n: count[kind][n] != 0 */
    GList tag_link;                     /* in EmuIotlb.tags[tag] */
} TlbSpace;

struct EmuTlbEntry {
    EmuTlbKey key;
    EmuTlbData data;
    TlbSpace *space;
    GList space_link;
    GList lru_link;
};

struct EmuIotlb {
    GHashTable *entries;        /* EmuTlbKey -> EmuTlbEntry */
    GHashTable *spaces;         /* (tag << 32 | asid) -> TlbSpace */
    GHashTable *tags;           /* tag -> GQueue of TlbSpace */
    GQueue lru;                 /* most recently used first */
    unsigned capacity;
    EmuIotlbStats stats;
};

static guint key_hash(gconstpointer p)
{
    const EmuTlbKey *k = p;
    uint64_t h = k->base ^ ((uint64_t)k->tag << 40) ^
                 ((uint64_t)k->asid << 20) ^ ((uint64_t)k->shift << 8) ^
                 k->kind;

    h *= 0x9e3779b97f4a7c15ULL;
    return (guint)(h >> 32);
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    const EmuTlbKey *x = a, *y = b;

    return x->base == y->base && x->tag == y->tag && x->asid == y->asid &&
           x->shift == y->shift && x->kind == y->kind;
}

static uint64_t space_id(uint32_t tag, uint32_t asid)
{
    return ((uint64_t)tag << 32) | asid;
}

EmuIotlb *emu_iotlb_new(unsigned capacity)
{
    EmuIotlb *tlb = g_new0(EmuIotlb, 1);

    g_assert(capacity);
    tlb->entries = g_hash_table_new(key_hash, key_equal);
    tlb->spaces = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                        g_free, NULL);
    tlb->tags = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_queue_init(&tlb->lru);
    tlb->capacity = capacity;
    return tlb;
}

static TlbSpace *space_find(EmuIotlb *tlb, uint32_t tag, uint32_t asid)
{
    uint64_t id = space_id(tag, asid);

    return g_hash_table_lookup(tlb->spaces, &id);
}

static TlbSpace *space_get(EmuIotlb *tlb, uint32_t tag, uint32_t asid)
{
    TlbSpace *s = space_find(tlb, tag, asid);
    GQueue *q;

    if (s) {
        return s;
    }
    s = g_new0(TlbSpace, 1);
    s->tag = tag;
    s->asid = asid;
    s->tag_link.data = s;
    g_hash_table_insert(tlb->spaces, g_memdup2(&(uint64_t){
                            space_id(tag, asid) }, sizeof(uint64_t)), s);
    q = g_hash_table_lookup(tlb->tags, GUINT_TO_POINTER(tag));
    if (!q) {
        q = g_queue_new();
        g_hash_table_insert(tlb->tags, GUINT_TO_POINTER(tag), q);
    }
    g_queue_push_tail_link(q, &s->tag_link);
    return s;
}

static void space_put(EmuIotlb *tlb, TlbSpace *s)
{
    uint64_t id = space_id(s->tag, s->asid);
    GQueue *q;

    if (s->entries.length) {
        return;
    }
    q = g_hash_table_lookup(tlb->tags, GUINT_TO_POINTER(s->tag));
    g_queue_unlink(q, &s->tag_link);
    if (!q->length) {
        g_hash_table_remove(tlb->tags, GUINT_TO_POINTER(s->tag));
        g_queue_free(q);
    }
    g_hash_table_remove(tlb->spaces, &id);
    g_free(s);
}

/* Unlink and free @e; its space goes too once empty. */
static void entry_drop(EmuIotlb *tlb, EmuTlbEntry *e)
{
    TlbSpace *s = e->space;

    g_hash_table_remove(tlb->entries, &e->key);
    g_queue_unlink(&tlb->lru, &e->lru_link);
    g_queue_unlink(&s->entries, &e->space_link);
    if (!--s->count[e->key.kind][e->key.shift]) {
        s->sizes[e->key.kind] &= ~(1ULL << e->key.shift);
    }
    g_free(e);
    space_put(tlb, s);
}

void emu_iotlb_free(EmuIotlb *tlb)
{
    while (tlb->lru.head) {
        entry_drop(tlb, tlb->lru.head->data);
    }
    g_hash_table_destroy(tlb->entries);
    g_hash_table_destroy(tlb->spaces);
    g_hash_table_destroy(tlb->tags);
    g_free(tlb);
}

const EmuTlbData *emu_iotlb_lookup(EmuIotlb *tlb, EmuTlbKind kind,
                                   uint32_t tag, uint32_t asid,
                                   uint64_t addr, unsigned *shift)
{
    TlbSpace *s = space_find(tlb, tag, asid);
    EmuTlbKey key = { .tag = tag, .asid = asid, .kind = kind };
    unsigned sh;

    if (s) {
        uint64_t sizes = s->sizes[kind];

        /* Smallest size first: a stale small entry wins over a newer
         * large one, as a TLB that holds both may use either. */
        for (; sizes; sizes &= sizes - 1) {
            EmuTlbEntry *e;

            sh = __builtin_ctzll(sizes);
            key.shift = sh;
            key.base = addr & ~((1ULL << sh) - 1);
            e = g_hash_table_lookup(tlb->entries, &key);
            if (e) {
                g_queue_unlink(&tlb->lru, &e->lru_link);
                g_queue_push_head_link(&tlb->lru, &e->lru_link);
                tlb->stats.hits[kind]++;
                if (shift) {
                    *shift = sh;
                }
                return &e->data;
            }
        }
    }
    tlb->stats.misses[kind]++;
    return NULL;
}

void emu_iotlb_insert(EmuIotlb *tlb, EmuTlbKind kind, uint32_t tag,
                      uint32_t asid, uint64_t addr, unsigned shift,
                      const EmuTlbData *data)
{
    EmuTlbKey key = {
        .tag = tag, .asid = asid, .kind = kind, .shift = shift,
        .base = addr & ~((1ULL << shift) - 1),
    };
    EmuTlbEntry *e = g_hash_table_lookup(tlb->entries, &key);
    TlbSpace *s;

    g_assert(shift >= EMU_PAGE_SHIFT && shift < EMU_TLB_SHIFTS);
    if (e) {
        e->data = *data;
        g_queue_unlink(&tlb->lru, &e->lru_link);
        g_queue_push_head_link(&tlb->lru, &e->lru_link);
        return;
    }
    if (tlb->lru.length >= tlb->capacity) {
        entry_drop(tlb, tlb->lru.tail->data);
        tlb->stats.evictions++;
    }
    s = space_get(tlb, tag, asid);
    e = g_new0(EmuTlbEntry, 1);
    e->key = key;
    e->data = *data;
    e->space = s;
    e->space_link.data = e;
    e->lru_link.data = e;
    g_hash_table_insert(tlb->entries, &e->key, e);
    g_queue_push_head_link(&tlb->lru, &e->lru_link);
    g_queue_push_tail_link(&s->entries, &e->space_link);
    s->count[kind][shift]++;
    s->sizes[kind] |= 1ULL << shift;
    tlb->stats.inserts++;
}

/* What one flush selects within an address space. */
typedef struct TlbSel {
    unsigned kinds;             /* EMU_TLB_* bits */
    uint64_t first, last;
    uint64_t sizes;             /* bit n: blocks of 2^n, all bits: any */
} TlbSel;

static bool entry_in(const EmuTlbEntry *e, const TlbSel *sel)
{
    uint64_t end = e->key.base + ((1ULL << e->key.shift) - 1);

    return (sel->kinds & (1u << e->key.kind)) &&
           (sel->sizes & (1ULL << e->key.shift)) &&
           e->key.base <= sel->last && end >= sel->first;
}

/* Number of aligned blocks of 2^@shift that [first, last] touches. */
static uint64_t blocks(uint64_t first, uint64_t last, unsigned shift)
{
    return (last >> shift) - (first >> shift) + 1;
}

static unsigned space_flush(EmuIotlb *tlb, TlbSpace *s, const TlbSel *sel)
{
    unsigned kinds = sel->kinds;
    uint64_t first = sel->first, last = sel->last;
    uint64_t probes = 0, n = s->entries.length;
    unsigned dropped = 0, kind, sh;
    GList *l, *next;

    /* Probing each block costs what the range covers; scanning costs
     * what the space holds. Take the cheaper. */
    for (kind = 0; kind < EMU_TLB_KINDS && probes <= n; kind++) {
        if (!(kinds & (1u << kind))) {
            continue;
        }
        uint64_t sizes = s->sizes[kind] & sel->sizes;

        for (; sizes && probes <= n; sizes &= sizes - 1) {
            probes += blocks(first, last, __builtin_ctzll(sizes));
        }
    }
    tlb->stats.flush_work += MIN(probes, n);
    if (probes > n) {
        for (l = s->entries.head; l; l = next) {
            EmuTlbEntry *e = l->data;

            next = l->next;
            if (entry_in(e, sel)) {
                dropped++;
                entry_drop(tlb, e);     /* the last one frees the space */
            }
        }
        return dropped;
    }
    for (kind = 0; kind < EMU_TLB_KINDS; kind++) {
        if (!(kinds & (1u << kind))) {
            continue;
        }
        uint64_t sizes = s->sizes[kind] & sel->sizes;

        for (; sizes; sizes &= sizes - 1) {
            uint64_t b, nb;
            EmuTlbKey key = {
                .tag = s->tag, .asid = s->asid, .kind = kind,
            };

            sh = __builtin_ctzll(sizes);
            key.shift = sh;
            nb = blocks(first, last, sh);
            key.base = first & ~((1ULL << sh) - 1);
            for (b = 0; b < nb; b++, key.base += 1ULL << sh) {
                EmuTlbEntry *e = g_hash_table_lookup(tlb->entries, &key);

                if (e) {
                    bool last_one = s->entries.length == 1;

                    entry_drop(tlb, e);
                    dropped++;
                    if (last_one) {
                        return dropped;     /* the space is gone */
                    }
                }
            }
        }
    }
    return dropped;
}

unsigned emu_iotlb_flush_size(EmuIotlb *tlb, unsigned kinds, uint32_t tag,
                              uint32_t asid, uint64_t first, uint64_t last,
                              unsigned shift)
{
    TlbSel sel = {
        .kinds = kinds, .first = first, .last = last,
        .sizes = shift ? 1ULL << shift : UINT64_MAX,
    };
    unsigned dropped = 0;
    GQueue *q;
    GList *l, *next;

    tlb->stats.flushes++;
    if (asid != EMU_ANY) {
        TlbSpace *s = space_find(tlb, tag, asid);

        return s ? space_flush(tlb, s, &sel) : 0;
    }
    q = g_hash_table_lookup(tlb->tags, GUINT_TO_POINTER(tag));
    if (!q) {
        return 0;
    }
    /* Flushing the last space of the tag frees the queue: stop there. */
    for (l = q->head; l; l = next) {
        bool last_space = !l->next;

        next = l->next;
        dropped += space_flush(tlb, l->data, &sel);
        if (last_space) {
            break;
        }
    }
    return dropped;
}

unsigned emu_iotlb_flush(EmuIotlb *tlb, unsigned kinds, uint32_t tag,
                         uint32_t asid, uint64_t first, uint64_t last)
{
    return emu_iotlb_flush_size(tlb, kinds, tag, asid, first, last, 0);
}

void emu_iotlb_stats(EmuIotlb *tlb, EmuIotlbStats *st)
{
    *st = tlb->stats;
    st->entries = tlb->lru.length;
    st->capacity = tlb->capacity;
}
