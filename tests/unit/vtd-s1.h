/*
 * VNest unit tests: building Intel VT-d first-stage page tables
 *
 * A guest's IA-32e first-stage tables (4 or 5 levels) laid out in the
 * fixture's "guest RAM" buffer, which the tests map into the nest parent's
 * IOAS at VTD_S1_GPA_BASE. Table pages come from the front of the buffer,
 * data pages from the back, so both are guest physical addresses the
 * parent translates.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_VTD_S1_H
#define VNEST_TESTS_VTD_S1_H

#include <stdbool.h>
#include <stdint.h>
#include "emu-test.h"

/* Guest RAM (the fixture's buffer) in guest physical space: 1 GiB aligned,
 * so 2 MiB and 1 GiB leaves can point at its start. */
#define VTD_S1_GPA_BASE     0x40000000ULL
#define VTD_S1_TABLE_PAGES  32u             /* buffer pages for tables */
#define VTD_S1_DATA_PAGES   (BUF_SIZE / PAGE - VTD_S1_TABLE_PAGES)
/* Guest physical address of data page @n */
#define VTD_S1_DATA_GPA(n)  \
    (VTD_S1_GPA_BASE + (VTD_S1_TABLE_PAGES + (uint64_t)(n)) * PAGE)

#define VTD_S1_SIZE_4K      (1ULL << 12)
#define VTD_S1_SIZE_2M      (1ULL << 21)
#define VTD_S1_SIZE_1G      (1ULL << 30)

/* First-stage entry bits (IA-32e paging) */
#define FS_P                (1ULL << 0)
#define FS_RW               (1ULL << 1)
#define FS_US               (1ULL << 2)
#define FS_A                (1ULL << 5)
#define FS_D                (1ULL << 6)
#define FS_PS               (1ULL << 7)
#define FS_EA               (1ULL << 10)
#define FS_ADDR_MASK        0x000ffffffffff000ULL
/* A user-accessible, writable leaf: what Linux uses for DMA mappings */
#define FS_LEAF_RW          (FS_P | FS_RW | FS_US)
#define FS_LEAF_RO          (FS_P | FS_US)

typedef struct VtdS1 {
    uint8_t *ram;               /* host view of guest RAM */
    unsigned levels;            /* 4 or 5 */
    uint64_t root;              /* GPA of the top-level table */
    unsigned next_table;        /* next free table page */
} VtdS1;

/* Empty tables rooted at a fresh page of @ram (BUF_SIZE bytes). */
void vtd_s1_init(VtdS1 *s, uint8_t *ram, unsigned levels);
/* Host address of guest physical @gpa inside guest RAM (asserts). */
void *vtd_s1_hva(VtdS1 *s, uint64_t gpa);
/* A zeroed table page; returns its GPA. */
uint64_t vtd_s1_new_table(VtdS1 *s);
/*
 * Map @iova to @gpa with a leaf of @size (4K, 2M or 1G) and leaf
 * @flags (FS_PS is added for large leaves). Missing intermediate tables
 * are made present, writable and user. Returns the leaf entry.
 */
uint64_t *vtd_s1_map(VtdS1 *s, uint64_t iova, uint64_t gpa, uint64_t size,
                     uint64_t flags);
/* The entry for @iova at @level (5..1) or NULL if a table above is
 * missing. */
uint64_t *vtd_s1_entry(VtdS1 *s, uint64_t iova, unsigned level);

#endif
