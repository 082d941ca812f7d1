/*
 * VNest unit tests: building Intel VT-d first-stage page tables
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "vtd-s1.h"

#define LEVEL_BITS      9
#define LEVEL_ENTRIES   (1u << LEVEL_BITS)

static unsigned level_shift(unsigned level)
{
    return 12 + LEVEL_BITS * (level - 1);
}

static unsigned leaf_level(uint64_t size)
{
    switch (size) {
    case VTD_S1_SIZE_4K:
        return 1;
    case VTD_S1_SIZE_2M:
        return 2;
    case VTD_S1_SIZE_1G:
        return 3;
    default:
        g_assert_not_reached();
    }
}

void *vtd_s1_hva(VtdS1 *s, uint64_t gpa)
{
    g_assert_cmphex(gpa, >=, VTD_S1_GPA_BASE);
    g_assert_cmphex(gpa - VTD_S1_GPA_BASE, <, BUF_SIZE);
    return s->ram + (gpa - VTD_S1_GPA_BASE);
}

uint64_t vtd_s1_new_table(VtdS1 *s)
{
    uint64_t gpa;

    g_assert_cmpuint(s->next_table, <, VTD_S1_TABLE_PAGES);
    gpa = VTD_S1_GPA_BASE + (uint64_t)s->next_table++ * PAGE;
    memset(vtd_s1_hva(s, gpa), 0, PAGE);
    return gpa;
}

void vtd_s1_init(VtdS1 *s, uint8_t *ram, unsigned levels)
{
    g_assert(levels == 4 || levels == 5);
    memset(s, 0, sizeof(*s));
    s->ram = ram;
    s->levels = levels;
    s->root = vtd_s1_new_table(s);
}

static uint64_t *slot(VtdS1 *s, uint64_t table, uint64_t iova,
                      unsigned level)
{
    uint64_t index = (iova >> level_shift(level)) & (LEVEL_ENTRIES - 1);

    return (uint64_t *)vtd_s1_hva(s, table) + index;
}

uint64_t *vtd_s1_map(VtdS1 *s, uint64_t iova, uint64_t gpa, uint64_t size,
                     uint64_t flags)
{
    unsigned leaf = leaf_level(size);
    uint64_t table = s->root;
    unsigned level;
    uint64_t *e;

    g_assert_cmphex((iova | gpa) & (size - 1), ==, 0);
    for (level = s->levels; level > leaf; level--) {
        e = slot(s, table, iova, level);
        if (!(*e & FS_P)) {
            *e = vtd_s1_new_table(s) | FS_P | FS_RW | FS_US;
        }
        table = *e & FS_ADDR_MASK;
    }
    e = slot(s, table, iova, leaf);
    *e = gpa | flags | (leaf > 1 ? FS_PS : 0);
    return e;
}

uint64_t *vtd_s1_entry(VtdS1 *s, uint64_t iova, unsigned level)
{
    uint64_t table = s->root;
    unsigned l;

    for (l = s->levels; l > level; l--) {
        uint64_t *e = slot(s, table, iova, l);

        if (!(*e & FS_P) || (*e & FS_PS)) {
            return NULL;
        }
        table = *e & FS_ADDR_MASK;
    }
    return slot(s, table, iova, level);
}
