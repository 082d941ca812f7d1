/*
 * VNest unit tests: Arm SMMUv3 guest structures for the emulated host
 *
 * Guest RAM is the fixture's buffer, mapped into the parent IOAS at
 * S1_GPA_BASE. A bump allocator hands out size-aligned guest physical
 * ranges in it; helpers write VMSAv8-64 stage-1 translation tables (4K,
 * 16K and 64K granules) and context descriptors there, build the vSTE
 * of IOMMU_HWPT_ALLOC and the CMDQ commands of IOMMU_HWPT_INVALIDATE,
 * and read vEVENTQ records. Field positions are the Arm SMMUv3
 * specification's; they are spelled out here independently of the model
 * so the tests check it rather than echo it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_SMMU_S1_H
#define VNEST_TESTS_SMMU_S1_H

#include "emu-test.h"

#define S1_GPA_BASE             0x40000000ULL   /* 1 GiB aligned */

/* ---- guest RAM ---- */

typedef struct S1Mem {
    EmuFixture *f;
    uint64_t next;              /* first free offset in f->buf */
} S1Mem;

/* Map f->buf at S1_GPA_BASE in the fixture's IOAS. */
void s1_mem_init(S1Mem *m, EmuFixture *f);
/* @size bytes (a power of two), aligned to their size, zeroed: a GPA */
uint64_t s1_alloc(S1Mem *m, uint64_t size);
void *s1_hva(S1Mem *m, uint64_t gpa);
uint64_t s1_rd64(S1Mem *m, uint64_t gpa);
void s1_wr64(S1Mem *m, uint64_t gpa, uint64_t val);

/* ---- translation tables ---- */

#define S1_GRANULE_4K           12
#define S1_GRANULE_16K          14
#define S1_GRANULE_64K          16

#define S1_PTE_VALID            (1ULL << 0)
#define S1_PTE_TYPE             (1ULL << 1)     /* table/page, not block */
#define S1_PTE_AP_UNPRIV        (1ULL << 6)
#define S1_PTE_AP_RO            (1ULL << 7)
#define S1_PTE_AF               (1ULL << 10)
#define S1_PTE_APTABLE_RO       (1ULL << 62)
/* Leaf attributes: unprivileged read/write, read-only */
#define S1_RW                   (S1_PTE_AF | S1_PTE_AP_UNPRIV)
#define S1_RO                   (S1_RW | S1_PTE_AP_RO)

typedef struct S1Pt {
    S1Mem *mem;
    unsigned gshift;            /* S1_GRANULE_* */
    unsigned va_bits;           /* 64 - T0SZ */
    uint64_t root;              /* GPA of the start-level table */
} S1Pt;

void s1_pt_init(S1Pt *pt, S1Mem *mem, unsigned gshift, unsigned va_bits);
unsigned s1_pt_start_level(const S1Pt *pt);
/* Bytes a leaf at @level maps */
uint64_t s1_pt_level_size(const S1Pt *pt, unsigned level);
/*
 * Map @iova to @out with a leaf at @level (3: page, else a block) with
 * @attrs, making the tables on the way. Returns the leaf's GPA.
 */
uint64_t s1_pt_map(S1Pt *pt, uint64_t iova, uint64_t out, unsigned level,
                   uint64_t attrs);
/* GPA of the table descriptor at @level on the way to @iova */
uint64_t s1_pt_desc(S1Pt *pt, uint64_t iova, unsigned level);

/* ---- context descriptors ---- */

#define S1_CD_SIZE              64
#define S1_CD0_T0SZ_SHIFT       0
#define S1_CD0_TG0_SHIFT        6
#define S1_CD0_EPD0             (1ULL << 14)
#define S1_CD0_V                (1ULL << 31)
#define S1_CD0_IPS_SHIFT        32
#define S1_CD0_AFFD             (1ULL << 35)
#define S1_CD0_AA64             (1ULL << 41)
#define S1_CD0_R                (1ULL << 45)
#define S1_CD0_A                (1ULL << 46)
#define S1_CD0_ASID_SHIFT       48
#define S1_CD0_ASID_MASK        (0xffffULL << S1_CD0_ASID_SHIFT)
#define S1_IPS_32               0
#define S1_IPS_48               5

/* Word 0 of a valid CD for @pt with @asid (IPS 48 bits, R, A) */
uint64_t s1_cd0(const S1Pt *pt, uint16_t asid);
/* Write a CD (word 0 @cd0, TTB0 = @pt's root) at @gpa */
void s1_cd_write(S1Mem *m, uint64_t gpa, uint64_t cd0, const S1Pt *pt);

#define S1_L1CD_V               (1ULL << 0)

/* ---- STE ---- */

#define S1_STE_CFG_ABORT        0
#define S1_STE_CFG_BYPASS       4
#define S1_STE_CFG_S1           5
#define S1_STE0_V               (1ULL << 0)
#define S1_STE0_CFG_SHIFT       1
#define S1_STE0_S1FMT_SHIFT     4
#define S1_STE0_S1CDMAX_SHIFT   59
#define S1_STE1_S1DSS_SHIFT     0
#define S1_STE1_EATS_SHIFT      28
#define S1_FMT_LINEAR           0
#define S1_FMT_2L_4K            1
#define S1_FMT_2L_64K           2
#define S1_DSS_TERMINATE        0
#define S1_DSS_BYPASS           1
#define S1_DSS_SSID0            2

void s1_vste(struct iommu_hwpt_arm_smmuv3 *ste, unsigned cfg,
             uint64_t ctxptr, unsigned fmt, unsigned cdmax, unsigned dss);

/* ---- commands ---- */

#define S1_CMD_CFGI_STE         0x03
#define S1_CMD_CFGI_CD          0x05
#define S1_CMD_CFGI_CD_ALL      0x06
#define S1_CMD_TLBI_NH_ALL      0x10
#define S1_CMD_TLBI_NH_ASID     0x11
#define S1_CMD_TLBI_NH_VA       0x12
#define S1_CMD_TLBI_NH_VAA      0x13
#define S1_CMD_TLBI_S12_VMALL   0x28
#define S1_CMD_TLBI_NSNH_ALL    0x30
#define S1_CMD_ATC_INV          0x40
#define S1_CMD_SYNC             0x46
#define S1_TLBI_TG_4K           1
#define S1_TLBI_TG_16K          2
#define S1_TLBI_TG_64K          3

typedef struct iommu_viommu_arm_smmuv3_invalidate S1Cmd;

S1Cmd s1_cmd(uint8_t op);
S1Cmd s1_cmd_asid(uint8_t op, uint16_t asid);
/* TLBI_NH_VA(A): @tg 0 for no range/hint, else NUM/SCALE range fields */
S1Cmd s1_cmd_va(uint8_t op, uint16_t asid, uint64_t va, unsigned tg,
                unsigned num, unsigned scale);
/* CFGI_CD(_ALL), ATC_INV: the guest's StreamID and SubstreamID */
S1Cmd s1_cmd_sid(uint8_t op, uint32_t vsid, uint32_t ssid, bool ssv);

/* ---- events ---- */

#define S1_EVT_C_BAD_STE        0x04
#define S1_EVT_F_STREAM_DISABLED 0x06
#define S1_EVT_C_BAD_SUBSTREAMID 0x08
#define S1_EVT_C_BAD_CD         0x0a
#define S1_EVT_F_TRANSLATION    0x10
#define S1_EVT_F_ADDR_SIZE      0x11
#define S1_EVT_F_ACCESS         0x12
#define S1_EVT_F_PERMISSION     0x13
#define S1_EVT0_SSV             (1ULL << 11)
#define S1_EVT1_RNW             (1ULL << 35)
#define S1_EVT1_S2              (1ULL << 39)
#define S1_EVT1_CLASS_SHIFT     40
#define S1_EVT_CLASS_IN         2

typedef struct S1Event {
    uint32_t flags;             /* IOMMU_VEVENTQ_FLAG_* */
    uint32_t seq;
    bool payload;               /* false for a LOST_EVENTS header */
    uint64_t evt[4];            /* CPU order */
} S1Event;

static inline unsigned s1_evt_id(const S1Event *e)
{
    return e->evt[0] & 0xff;
}

static inline uint32_t s1_evt_sid(const S1Event *e)
{
    return e->evt[0] >> 32;
}

static inline uint32_t s1_evt_ssid(const S1Event *e)
{
    return (e->evt[0] >> 12) & 0xfffff;
}

/* Read up to @max records from a vEVENTQ; returns how many. */
unsigned s1_read_events(EmuFixture *f, int fd, S1Event *ev, unsigned max);

/* ---- ioctls of the vIOMMU objects; return the errno (0: success) ---- */

int s1_viommu_alloc(EmuFixture *f, uint32_t dev_id, uint32_t type,
                    uint32_t hwpt_id, uint32_t *out);
int s1_vdevice_alloc(EmuFixture *f, uint32_t viommu_id, uint32_t dev_id,
                     uint64_t virt_id, uint32_t *out);
int s1_veventq_alloc(EmuFixture *f, uint32_t viommu_id, uint32_t type,
                     uint32_t depth, uint32_t *out, int *fd);
/* HWPT_INVALIDATE on @id with @n commands; @done gets entry_num */
int s1_invalidate(EmuFixture *f, uint32_t id, const S1Cmd *cmds,
                  uint32_t n, uint32_t *done);

#endif
