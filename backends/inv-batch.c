/*
 * VNest: guest invalidations batched into one host call per host object
 *
 * See inv-batch.h. A batch holds one group per host object (id, data
 * type, entry size): the entries in guest order and, beside them, the
 * guest queue index of each.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <string.h>
#include <glib.h>
#include "inv-batch.h"

typedef struct InvGroup {
    uint32_t id;
    uint32_t data_type;
    uint32_t entry_len;
    GByteArray *entries;
    GArray *gidx;               /* uint64_t per entry */
} InvGroup;

struct VnestInvBatch {
    VnestInvSendFn send;
    void *opaque;
    uint32_t max_entries;
    GPtrArray *groups;          /* InvGroup, in order of first use */
    uint32_t pending;
    VnestInvStats stats;
};

static void group_free(gpointer p)
{
    InvGroup *g = p;

    g_byte_array_unref(g->entries);
    g_array_unref(g->gidx);
    g_free(g);
}

VnestInvBatch *vnest_inv_batch_new(VnestInvSendFn send, void *opaque,
                                   uint32_t max_entries)
{
    VnestInvBatch *b = g_new0(VnestInvBatch, 1);

    b->send = send;
    b->opaque = opaque;
    b->max_entries = max_entries ? max_entries : UINT32_MAX;
    b->groups = g_ptr_array_new_with_free_func(group_free);
    return b;
}

void vnest_inv_batch_free(VnestInvBatch *b)
{
    if (b) {
        g_ptr_array_unref(b->groups);
        g_free(b);
    }
}

static InvGroup *group_get(VnestInvBatch *b, uint32_t id, uint32_t data_type,
                           uint32_t entry_len)
{
    InvGroup *g;
    guint i;

    /* A submission names a handful of host objects: a scan is enough. */
    for (i = 0; i < b->groups->len; i++) {
        g = g_ptr_array_index(b->groups, i);
        if (g->id == id && g->data_type == data_type &&
            g->entry_len == entry_len) {
            return g;
        }
    }
    g = g_new0(InvGroup, 1);
    g->id = id;
    g->data_type = data_type;
    g->entry_len = entry_len;
    g->entries = g_byte_array_new();
    g->gidx = g_array_new(false, false, sizeof(uint64_t));
    g_ptr_array_add(b->groups, g);
    return g;
}

void vnest_inv_batch_add(VnestInvBatch *b, uint32_t id, uint32_t data_type,
                         uint32_t entry_len, const void *entry,
                         uint64_t gidx)
{
    InvGroup *g = group_get(b, id, data_type, entry_len);

    g_assert(entry_len);
    g_byte_array_append(g->entries, entry, entry_len);
    g_array_append_val(g->gidx, gidx);
    b->pending++;
}

bool vnest_inv_batch_contains(const VnestInvBatch *b, uint32_t id,
                              uint32_t data_type, uint32_t entry_len,
                              const void *entry)
{
    guint i, k;

    for (i = 0; i < b->groups->len; i++) {
        const InvGroup *g = g_ptr_array_index(b->groups, i);

        if (g->id != id || g->data_type != data_type ||
            g->entry_len != entry_len) {
            continue;
        }
        for (k = 0; k < g->gidx->len; k++) {
            if (!memcmp(g->entries->data + (size_t)k * entry_len, entry,
                        entry_len)) {
                return true;
            }
        }
    }
    return false;
}

uint32_t vnest_inv_batch_pending(const VnestInvBatch *b)
{
    return b->pending;
}

/* Entries of @g (from @first) whose guest index is below @limit. */
static uint32_t group_count_below(const InvGroup *g, uint32_t first,
                                  uint64_t limit)
{
    uint32_t n = first;

    while (n < g->gidx->len && g_array_index(g->gidx, uint64_t, n) < limit) {
        n++;
    }
    return n - first;
}

/*
 * Send group @g, in calls of at most max_entries, stopping before guest
 * index @limit. On a failure returns its errno with the first unhandled
 * entry's guest index in *@failed.
 */
static int group_send(VnestInvBatch *b, InvGroup *g, uint64_t limit,
                      uint64_t *failed)
{
    uint32_t sent = 0, total = group_count_below(g, 0, limit);

    while (sent < total) {
        uint32_t n = MIN(total - sent, b->max_entries), done = 0;
        int rc = b->send(b->opaque, g->id, g->data_type, g->entry_len,
                         g->entries->data + (size_t)sent * g->entry_len,
                         n, &done);

        b->stats.calls++;
        b->stats.entries += n;
        if (rc || done < n) {
            b->stats.failures++;
            *failed = g_array_index(g->gidx, uint64_t,
                                    sent + MIN(done, n - 1));
            return rc ? rc : -EIO;
        }
        sent += n;
    }
    return 0;
}

int vnest_inv_batch_flush(VnestInvBatch *b, uint64_t *failed_gidx)
{
    uint64_t limit = UINT64_MAX;
    int ret = 0;
    guint i;

    if (b->pending) {
        b->stats.flushes++;
    }
    for (i = 0; i < b->groups->len; i++) {
        uint64_t failed = UINT64_MAX;
        int rc = group_send(b, g_ptr_array_index(b->groups, i), limit,
                            &failed);

        if (rc && failed < limit) {
            limit = failed;
            ret = rc;
        }
    }
    if (ret && failed_gidx) {
        *failed_gidx = limit;
    }
    vnest_inv_batch_discard(b);
    return ret;
}

void vnest_inv_batch_discard(VnestInvBatch *b)
{
    g_ptr_array_set_size(b->groups, 0);
    b->pending = 0;
}

void vnest_inv_batch_stats(const VnestInvBatch *b, VnestInvStats *st)
{
    *st = b->stats;
}
