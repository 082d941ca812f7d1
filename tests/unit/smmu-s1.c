/*
 * VNest unit tests: Arm SMMUv3 guest structures for the emulated host
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "smmu-s1.h"

#define S1_LEVELS               4
#define S1_LAST_LEVEL           3
#define S1_PTE_SIZE             8
#define S1_TABLE_MIN            16      /* TTB0 is 16-byte aligned */
#define S1_OA_MASK              0x0000fffffffff000ULL   /* OA[47:12] */
#define S1_CD1_TTB0_MASK        0x000ffffffffffff0ULL   /* TTB0[51:4] */
#define S1_CD_TG0_4K            0
#define S1_CD_TG0_64K           1
#define S1_CD_TG0_16K           2
#define S1_CMD0_SSV             (1ULL << 11)
#define S1_CMD0_NUM_SHIFT       12
#define S1_CMD0_SSID_SHIFT      12
#define S1_CMD0_SCALE_SHIFT     20
#define S1_CMD0_SID_SHIFT       32
#define S1_CMD0_ASID_SHIFT      48
#define S1_CMD1_TG_SHIFT        10
#define S1_CMD1_VA_MASK         (~0xfffULL)
#define S1_EVT_RECORD           (sizeof(struct iommufd_vevent_header) + \
                                 sizeof(struct iommu_vevent_arm_smmuv3))

/* ---- guest RAM ---- */

void s1_mem_init(S1Mem *m, EmuFixture *f)
{
    m->f = f;
    m->next = 0;
    g_assert_cmpint(t_map_fixed(f, f->ioas_id, f->buf, BUF_SIZE,
                                S1_GPA_BASE), ==, 0);
}

uint64_t s1_alloc(S1Mem *m, uint64_t size)
{
    uint64_t off;

    g_assert(size && !(size & (size - 1)));
    off = (m->next + size - 1) & ~(size - 1);
    g_assert_cmpuint(off + size, <=, BUF_SIZE);
    memset(m->f->buf + off, 0, size);
    m->next = off + size;
    return S1_GPA_BASE + off;
}

void *s1_hva(S1Mem *m, uint64_t gpa)
{
    g_assert_cmpuint(gpa - S1_GPA_BASE, <, BUF_SIZE);
    return m->f->buf + (gpa - S1_GPA_BASE);
}

uint64_t s1_rd64(S1Mem *m, uint64_t gpa)
{
    uint64_t v;

    memcpy(&v, s1_hva(m, gpa), sizeof(v));
    return GUINT64_FROM_LE(v);
}

void s1_wr64(S1Mem *m, uint64_t gpa, uint64_t val)
{
    uint64_t v = GUINT64_TO_LE(val);

    memcpy(s1_hva(m, gpa), &v, sizeof(v));
}

/* ---- translation tables ---- */

static unsigned level_shift(const S1Pt *pt, unsigned level)
{
    return pt->gshift + (S1_LAST_LEVEL - level) * (pt->gshift - 3);
}

unsigned s1_pt_start_level(const S1Pt *pt)
{
    unsigned stride = pt->gshift - 3;

    return S1_LEVELS - (pt->va_bits - pt->gshift + stride - 1) / stride;
}

uint64_t s1_pt_level_size(const S1Pt *pt, unsigned level)
{
    return 1ULL << level_shift(pt, level);
}

static unsigned index_bits(const S1Pt *pt, unsigned level)
{
    return MIN(pt->gshift - 3, pt->va_bits - level_shift(pt, level));
}

void s1_pt_init(S1Pt *pt, S1Mem *mem, unsigned gshift, unsigned va_bits)
{
    uint64_t size;

    pt->mem = mem;
    pt->gshift = gshift;
    pt->va_bits = va_bits;
    size = S1_PTE_SIZE << index_bits(pt, s1_pt_start_level(pt));
    pt->root = s1_alloc(mem, MAX(size, S1_TABLE_MIN));
}

static uint64_t desc_addr(const S1Pt *pt, uint64_t table, uint64_t iova,
                          unsigned level)
{
    uint64_t idx = (iova >> level_shift(pt, level)) &
                   ((1ULL << index_bits(pt, level)) - 1);

    return table + idx * S1_PTE_SIZE;
}

/* The table at @level on the way to @iova, made if missing. */
static uint64_t table_at(S1Pt *pt, uint64_t iova, unsigned level)
{
    uint64_t table = pt->root;
    unsigned l;

    for (l = s1_pt_start_level(pt); l < level; l++) {
        uint64_t d = desc_addr(pt, table, iova, l);
        uint64_t pte = s1_rd64(pt->mem, d);

        if (!(pte & S1_PTE_VALID)) {
            pte = s1_alloc(pt->mem, 1ULL << pt->gshift) | S1_PTE_VALID |
                  S1_PTE_TYPE;
            s1_wr64(pt->mem, d, pte);
        }
        table = pte & S1_OA_MASK & ~((1ULL << pt->gshift) - 1);
    }
    return table;
}

uint64_t s1_pt_map(S1Pt *pt, uint64_t iova, uint64_t out, unsigned level,
                   uint64_t attrs)
{
    uint64_t d = desc_addr(pt, table_at(pt, iova, level), iova, level);
    uint64_t pte = out | attrs | S1_PTE_VALID;

    if (level == S1_LAST_LEVEL) {
        pte |= S1_PTE_TYPE;
    }
    s1_wr64(pt->mem, d, pte);
    return d;
}

uint64_t s1_pt_desc(S1Pt *pt, uint64_t iova, unsigned level)
{
    return desc_addr(pt, table_at(pt, iova, level), iova, level);
}

/* ---- context descriptors ---- */

static uint64_t tg0(unsigned gshift)
{
    switch (gshift) {
    case S1_GRANULE_4K:
        return S1_CD_TG0_4K;
    case S1_GRANULE_16K:
        return S1_CD_TG0_16K;
    default:
        return S1_CD_TG0_64K;
    }
}

uint64_t s1_cd0(const S1Pt *pt, uint16_t asid)
{
    return ((uint64_t)(64 - pt->va_bits) << S1_CD0_T0SZ_SHIFT) |
           (tg0(pt->gshift) << S1_CD0_TG0_SHIFT) | S1_CD0_V |
           ((uint64_t)S1_IPS_48 << S1_CD0_IPS_SHIFT) | S1_CD0_AA64 |
           S1_CD0_R | S1_CD0_A | ((uint64_t)asid << S1_CD0_ASID_SHIFT);
}

void s1_cd_write(S1Mem *m, uint64_t gpa, uint64_t cd0, const S1Pt *pt)
{
    s1_wr64(m, gpa, cd0);
    s1_wr64(m, gpa + 8, pt ? pt->root & S1_CD1_TTB0_MASK : 0);
}

/* ---- STE ---- */

void s1_vste(struct iommu_hwpt_arm_smmuv3 *ste, unsigned cfg,
             uint64_t ctxptr, unsigned fmt, unsigned cdmax, unsigned dss)
{
    uint64_t w0 = S1_STE0_V | ((uint64_t)cfg << S1_STE0_CFG_SHIFT) |
                  ((uint64_t)fmt << S1_STE0_S1FMT_SHIFT) | ctxptr |
                  ((uint64_t)cdmax << S1_STE0_S1CDMAX_SHIFT);
    uint64_t w1 = (uint64_t)dss << S1_STE1_S1DSS_SHIFT;

    ste->ste[0] = GUINT64_TO_LE(w0);
    ste->ste[1] = GUINT64_TO_LE(w1);
}

/* ---- commands ---- */

static S1Cmd cmd_make(uint64_t w0, uint64_t w1)
{
    S1Cmd c = { { GUINT64_TO_LE(w0), GUINT64_TO_LE(w1) } };

    return c;
}

S1Cmd s1_cmd(uint8_t op)
{
    return cmd_make(op, 0);
}

S1Cmd s1_cmd_asid(uint8_t op, uint16_t asid)
{
    return cmd_make(op | ((uint64_t)asid << S1_CMD0_ASID_SHIFT), 0);
}

S1Cmd s1_cmd_va(uint8_t op, uint16_t asid, uint64_t va, unsigned tg,
                unsigned num, unsigned scale)
{
    uint64_t w0 = op | ((uint64_t)asid << S1_CMD0_ASID_SHIFT) |
                  ((uint64_t)num << S1_CMD0_NUM_SHIFT) |
                  ((uint64_t)scale << S1_CMD0_SCALE_SHIFT);

    return cmd_make(w0, (va & S1_CMD1_VA_MASK) |
                        ((uint64_t)tg << S1_CMD1_TG_SHIFT));
}

S1Cmd s1_cmd_sid(uint8_t op, uint32_t vsid, uint32_t ssid, bool ssv)
{
    uint64_t w0 = op | ((uint64_t)vsid << S1_CMD0_SID_SHIFT) |
                  ((uint64_t)ssid << S1_CMD0_SSID_SHIFT);

    return cmd_make(w0 | (ssv ? S1_CMD0_SSV : 0), 0);
}

/* ---- events ---- */

unsigned s1_read_events(EmuFixture *f, int fd, S1Event *ev, unsigned max)
{
    g_autofree uint8_t *buf = g_malloc0(max * S1_EVT_RECORD);
    ssize_t len = emu_ctx_read(f->ctx, fd, buf, max * S1_EVT_RECORD);
    size_t off = 0;
    unsigned n = 0, i;

    g_assert_cmpint(len, >=, 0);
    while (off < (size_t)len) {
        struct iommufd_vevent_header hdr;

        g_assert_cmpuint(n, <, max);
        memcpy(&hdr, buf + off, sizeof(hdr));
        off += sizeof(hdr);
        ev[n].flags = hdr.flags;
        ev[n].seq = hdr.sequence;
        ev[n].payload = !(hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
        for (i = 0; ev[n].payload && i < 4; i++) {
            uint64_t v;

            memcpy(&v, buf + off, sizeof(v));
            ev[n].evt[i] = GUINT64_FROM_LE(v);
            off += sizeof(v);
        }
        n++;
    }
    return n;
}

/* ---- ioctls ---- */

int s1_viommu_alloc(EmuFixture *f, uint32_t dev_id, uint32_t type,
                    uint32_t hwpt_id, uint32_t *out)
{
    struct iommu_viommu_alloc cmd = {
        .size = sizeof(cmd), .type = type, .dev_id = dev_id,
        .hwpt_id = hwpt_id,
    };
    int rc = ctx_ioctl(f, IOMMU_VIOMMU_ALLOC, &cmd);

    *out = cmd.out_viommu_id;
    return rc;
}

int s1_vdevice_alloc(EmuFixture *f, uint32_t viommu_id, uint32_t dev_id,
                     uint64_t virt_id, uint32_t *out)
{
    struct iommu_vdevice_alloc cmd = {
        .size = sizeof(cmd), .viommu_id = viommu_id, .dev_id = dev_id,
        .virt_id = virt_id,
    };
    int rc = ctx_ioctl(f, IOMMU_VDEVICE_ALLOC, &cmd);

    *out = cmd.out_vdevice_id;
    return rc;
}

int s1_veventq_alloc(EmuFixture *f, uint32_t viommu_id, uint32_t type,
                     uint32_t depth, uint32_t *out, int *fd)
{
    struct iommu_veventq_alloc cmd = {
        .size = sizeof(cmd), .viommu_id = viommu_id, .type = type,
        .veventq_depth = depth,
    };
    int rc = ctx_ioctl(f, IOMMU_VEVENTQ_ALLOC, &cmd);

    *out = cmd.out_veventq_id;
    *fd = cmd.out_veventq_fd;
    return rc;
}

int s1_invalidate(EmuFixture *f, uint32_t id, const S1Cmd *cmds,
                  uint32_t n, uint32_t *done)
{
    struct iommu_hwpt_invalidate cmd = {
        .size = sizeof(cmd),
        .hwpt_id = id,
        .data_uptr = (uintptr_t)cmds,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = sizeof(S1Cmd),
        .entry_num = n,
    };
    int rc = ctx_ioctl(f, IOMMU_HWPT_INVALIDATE, &cmd);

    if (done) {
        *done = cmd.entry_num;
    }
    return rc;
}
