/*
 * VNest unit tests: batching guest invalidations into host calls
 *
 * backends/inv-batch.c against the emulated host's real
 * IOMMU_HWPT_INVALIDATE: one call per host object per flush, entries in
 * guest order, a partial failure mapped back to the guest queue index
 * of the first entry the host did not handle, later entries held back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "emu-test.h"
#include "inv-batch.h"
#include "smmu-s1.h"

typedef struct Call {
    uint32_t id;
    uint32_t n;
    uint32_t done;
    int err;
} Call;

typedef struct BatchTest {
    EmuFixture f;
    VnestInvBatch *b;
    GArray *calls;              /* Call, what the host was asked */
    uint32_t parent, hwpt[2];
} BatchTest;

/* The send callback: IOMMU_HWPT_INVALIDATE on the emulated host. */
static int send_emu(void *opaque, uint32_t id, uint32_t data_type,
                    uint32_t entry_len, const void *entries, uint32_t n,
                    uint32_t *done)
{
    BatchTest *t = opaque;
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd), .hwpt_id = id,
        .data_uptr = (uintptr_t)entries, .data_type = data_type,
        .entry_len = entry_len, .entry_num = n,
    };
    int err = ctx_ioctl(&t->f, IOMMU_HWPT_INVALIDATE, &cmd);
    Call c = { id, n, cmd.entry_num, err };

    g_array_append_val(t->calls, c);
    *done = cmd.entry_num;
    return -err;
}

static const Call *call(BatchTest *t, unsigned i)
{
    g_assert_cmpuint(i, <, t->calls->len);
    return &g_array_index(t->calls, Call, i);
}

/* Two nested VT-d HWPTs over one nest parent. */
static void setup_vtd(BatchTest *t, gconstpointer data)
{
    struct iommu_hwpt_vtd_s1 s1 = {
        .pgtbl_addr = 0x1000, .addr_width = 48,
    };
    unsigned i;

    memset(t, 0, sizeof(*t));
    emu_fixture_setup(&t->f, EMU_HW_VTD);
    t->calls = g_array_new(false, false, sizeof(Call));
    t->b = vnest_inv_batch_new(send_emu, t, 0);
    g_assert_cmpint(t_hwpt_alloc(&t->f, t->f.ioas_id,
                                 IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                                 &t->parent), ==, 0);
    for (i = 0; i < 2; i++) {
        g_assert_cmpint(t_hwpt_alloc(&t->f, t->parent, 0,
                                     IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1),
                                     &t->hwpt[i]), ==, 0);
    }
}

static void teardown(BatchTest *t, gconstpointer data)
{
    vnest_inv_batch_free(t->b);
    g_array_unref(t->calls);
    emu_fixture_teardown(&t->f);
}

static void add_vtd(BatchTest *t, unsigned h, uint64_t addr, uint32_t flags,
                    uint64_t gidx)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = {
        .addr = addr, .npages = 1, .flags = flags,
    };

    vnest_inv_batch_add(t->b, t->hwpt[h], IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                        sizeof(inv), &inv, gidx);
}

/* Descriptors for two domains, interleaved: one call each, in order. */
static void test_one_call_per_object(BatchTest *t, gconstpointer data)
{
    static const unsigned owner[] = { 0, 1, 0, 0, 1, 0 };
    VnestInvStats st;
    uint64_t failed = 99;
    unsigned i;

    for (i = 0; i < G_N_ELEMENTS(owner); i++) {
        add_vtd(t, owner[i], 0x1000 * i, 0, 10 + i);
    }
    g_assert_cmpuint(vnest_inv_batch_pending(t->b), ==, 6);
    g_assert_cmpint(vnest_inv_batch_flush(t->b, &failed), ==, 0);
    g_assert_cmpuint(failed, ==, 99);
    g_assert_cmpuint(t->calls->len, ==, 2);
    g_assert_cmpuint(call(t, 0)->id, ==, t->hwpt[0]);
    g_assert_cmpuint(call(t, 0)->n, ==, 4);
    g_assert_cmpuint(call(t, 0)->done, ==, 4);
    g_assert_cmpuint(call(t, 1)->id, ==, t->hwpt[1]);
    g_assert_cmpuint(call(t, 1)->n, ==, 2);
    g_assert_cmpuint(vnest_inv_batch_pending(t->b), ==, 0);
    /* an empty flush makes no call */
    g_assert_cmpint(vnest_inv_batch_flush(t->b, &failed), ==, 0);
    g_assert_cmpuint(t->calls->len, ==, 2);
    vnest_inv_batch_stats(t->b, &st);
    g_assert_cmpuint(st.calls, ==, 2);
    g_assert_cmpuint(st.entries, ==, 6);
    g_assert_cmpuint(st.flushes, ==, 1);
}

/*
 * The third entry of domain 0 (guest index 13) is malformed: the host
 * handles two, EOPNOTSUPP; the failure is reported at 13. Domain 1's
 * entry at 11 precedes it and is sent; its entry at 14 follows it and
 * is not.
 */
static void test_partial_failure(BatchTest *t, gconstpointer data)
{
    uint64_t failed = 0;

    add_vtd(t, 0, 0x1000, 0, 10);
    add_vtd(t, 1, 0x1000, 0, 11);
    add_vtd(t, 0, 0x2000, 0, 12);
    add_vtd(t, 0, 0x3000, 1u << 7, 13);     /* unknown flag */
    add_vtd(t, 1, 0x2000, 0, 14);
    add_vtd(t, 0, 0x4000, 0, 15);
    g_assert_cmpint(vnest_inv_batch_flush(t->b, &failed), ==, -EOPNOTSUPP);
    g_assert_cmpuint(failed, ==, 13);
    g_assert_cmpuint(t->calls->len, ==, 2);
    g_assert_cmpuint(call(t, 0)->n, ==, 4);
    g_assert_cmpuint(call(t, 0)->done, ==, 2);
    g_assert_cmpint(call(t, 0)->err, ==, EOPNOTSUPP);
    g_assert_cmpuint(call(t, 1)->id, ==, t->hwpt[1]);
    g_assert_cmpuint(call(t, 1)->n, ==, 1);
}

/* The host's cap on entries per call splits a group, nothing more. */
static void test_max_entries(BatchTest *t, gconstpointer data)
{
    unsigned i;

    vnest_inv_batch_free(t->b);
    t->b = vnest_inv_batch_new(send_emu, t, 4);
    for (i = 0; i < 10; i++) {
        add_vtd(t, 0, 0x1000 * i, 0, i);
    }
    g_assert_cmpint(vnest_inv_batch_flush(t->b, NULL), ==, 0);
    g_assert_cmpuint(t->calls->len, ==, 3);
    g_assert_cmpuint(call(t, 0)->n, ==, 4);
    g_assert_cmpuint(call(t, 1)->n, ==, 4);
    g_assert_cmpuint(call(t, 2)->n, ==, 2);
}

/* An object the host does not know: nothing handled, the first entry. */
static void test_unknown_object(BatchTest *t, gconstpointer data)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = { .npages = 1 };
    uint64_t failed = 0;

    add_vtd(t, 0, 0x1000, 0, 3);
    vnest_inv_batch_add(t->b, 999, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                        sizeof(inv), &inv, 4);
    vnest_inv_batch_add(t->b, 999, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                        sizeof(inv), &inv, 5);
    g_assert_cmpint(vnest_inv_batch_flush(t->b, &failed), ==, -ENOENT);
    g_assert_cmpuint(failed, ==, 4);
    /* discard drops what is queued */
    add_vtd(t, 0, 0x1000, 0, 6);
    vnest_inv_batch_discard(t->b);
    g_assert_cmpint(vnest_inv_batch_flush(t->b, &failed), ==, 0);
    g_assert_cmpuint(t->calls->len, ==, 2);
}

/*
 * SMMUv3 commands to a vIOMMU: the host takes the whole array; a bad
 * command (CMD_SYNC is the VMM's, never the host's) fails at its index.
 */
static void test_smmuv3_array(void)
{
    BatchTest t = { 0 };
    uint32_t viommu;
    S1Cmd cmds[3];
    uint64_t failed = 0;
    unsigned i;

    emu_fixture_setup(&t.f, EMU_HW_SMMUV3);
    t.calls = g_array_new(false, false, sizeof(Call));
    t.b = vnest_inv_batch_new(send_emu, &t, 0);
    g_assert_cmpint(t_hwpt_alloc(&t.f, t.f.ioas_id,
                                 IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                                 &t.parent), ==, 0);
    g_assert_cmpint(s1_viommu_alloc(&t.f, t.f.dev_id,
                                    IOMMU_VIOMMU_TYPE_ARM_SMMUV3, t.parent,
                                    &viommu), ==, 0);
    cmds[0] = s1_cmd_asid(S1_CMD_TLBI_NH_ASID, 1);
    cmds[1] = s1_cmd(S1_CMD_TLBI_NH_ALL);
    cmds[2] = s1_cmd(S1_CMD_SYNC);
    for (i = 0; i < 3; i++) {
        vnest_inv_batch_add(t.b, viommu,
                            IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
                            sizeof(S1Cmd), &cmds[i], 100 + i);
    }
    g_assert_cmpint(vnest_inv_batch_flush(t.b, &failed), ==, -EIO);
    g_assert_cmpuint(failed, ==, 102);
    g_assert_cmpuint(t.calls->len, ==, 1);
    g_assert_cmpuint(call(&t, 0)->done, ==, 2);
    for (i = 0; i < 2; i++) {
        vnest_inv_batch_add(t.b, viommu,
                            IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
                            sizeof(S1Cmd), &cmds[i], 200 + i);
    }
    g_assert_cmpint(vnest_inv_batch_flush(t.b, &failed), ==, 0);
    g_assert_cmpuint(t.calls->len, ==, 2);
    g_assert_cmpint(t_destroy(&t.f, viommu), ==, 0);
    vnest_inv_batch_free(t.b);
    g_array_unref(t.calls);
    emu_fixture_teardown(&t.f);
}

/* An equal entry already queued for the object is found; others are not */
static void test_contains(BatchTest *t, gconstpointer data)
{
    struct iommu_hwpt_vtd_s1_invalidate inv = { .addr = 0x3000, .npages = 1 };
    uint64_t failed;

    add_vtd(t, 0, 0x1000, 0, 0);
    add_vtd(t, 0, 0x3000, 0, 1);
    g_assert_true(vnest_inv_batch_contains(t->b, t->hwpt[0],
                  IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv), &inv));
    /* same entry, other object; other flags; other length */
    g_assert_false(vnest_inv_batch_contains(t->b, t->hwpt[1],
                   IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv), &inv));
    inv.flags = IOMMU_VTD_INV_FLAGS_LEAF;
    g_assert_false(vnest_inv_batch_contains(t->b, t->hwpt[0],
                   IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv), &inv));
    inv.flags = 0;
    inv.npages = 2;
    g_assert_false(vnest_inv_batch_contains(t->b, t->hwpt[0],
                   IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv), &inv));
    /* a flush empties the batch */
    inv.npages = 1;
    g_assert_cmpint(vnest_inv_batch_flush(t->b, &failed), ==, 0);
    g_assert_false(vnest_inv_batch_contains(t->b, t->hwpt[0],
                   IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sizeof(inv), &inv));
}

#define BATCH_TEST(path, fn) \
    g_test_add("/inv-batch/" path, BatchTest, NULL, setup_vtd, fn, teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    BATCH_TEST("vtd/one-call-per-object", test_one_call_per_object);
    BATCH_TEST("vtd/partial-failure", test_partial_failure);
    BATCH_TEST("vtd/max-entries", test_max_entries);
    BATCH_TEST("vtd/unknown-object", test_unknown_object);
    BATCH_TEST("vtd/contains", test_contains);
    g_test_add_func("/inv-batch/smmuv3/array", test_smmuv3_array);
    return g_test_run();
}
