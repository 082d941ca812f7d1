/*
 * VNest qtest helpers: the guest's side of an Arm SMMUv3
 *
 * Formats from the SMMUv3 architecture (Arm IHI 0070): STE 7 x 64 bits
 * used of 8 (5.2), CD (5.4), level-1 stream table descriptors (5.1),
 * commands (4.x), event records (7.3); stage-1 page tables are VMSAv8-64
 * descriptors with the 4 KiB granule and a 48-bit input (4 levels).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "smmu-guest.h"

#define PAGE_SIZE           4096ULL
#define PT_INDEX(iova, lvl) (((iova) >> (12 + 9 * (3 - (lvl)))) & 0x1ff)
#define PT_ADDR_MASK        0x0000fffffffff000ULL
#define WAIT_LOOPS          1000

/* VMSAv8-64 descriptors */
#define PTE_VALID_TABLE     0x3ULL      /* table (levels 0-2), page (3) */
#define PTE_AP_UNPRIV       (1ULL << 6) /* AP[1] */
#define PTE_AP_RDONLY       (1ULL << 7) /* AP[2] */
#define PTE_SH_IS           (3ULL << 8)
#define PTE_AF              (1ULL << 10)

/* STE */
#define STE_SIZE            64
#define STE_V               (1ULL << 0)
#define STE_CFG_SHIFT       1
#define STE_CFG_ABORT       0ULL
#define STE_CFG_BYPASS      4ULL
#define STE_CFG_S1          5ULL
#define STE_CTXPTR_MASK     0x000fffffffffffc0ULL
#define STE_S1CDMAX_SHIFT   59
#define STE1_S1DSS_SSID0    2ULL
#define STE1_S1CIR_WBRA     (1ULL << 2)
#define STE1_S1COR_WBRA     (1ULL << 4)
#define STE1_S1CSH_IS       (3ULL << 6)
#define STE1_SHCFG_INCOMING (1ULL << 44)

/* CD */
#define CD_SIZE             64
#define CD0_T0SZ_48         16ULL
#define CD0_IRGN0_WBRA      (1ULL << 8)
#define CD0_ORGN0_WBRA      (1ULL << 10)
#define CD0_SH0_IS          (3ULL << 12)
#define CD0_EPD1            (1ULL << 30)
#define CD0_V               (1ULL << 31)
#define CD0_IPS_SHIFT       32
#define CD0_AA64            (1ULL << 41)
#define CD0_R               (1ULL << 45)
#define CD0_A               (1ULL << 46)
#define CD0_ASET            (1ULL << 47)
#define CD0_ASID_SHIFT      48
#define CD1_TTB0_MASK       0x000ffffffffffff0ULL
#define CD3_MAIR            0xffULL     /* Attr0: normal, write-back */

/* Stream table */
#define STRTAB_LINEAR_LOG2  8
#define STRTAB_2LVL_LOG2    16
#define STRTAB_SPLIT        8
#define STRTAB_CFG_FMT_2LVL (1u << 16)
#define STRTAB_CFG_SPLIT_SHIFT 6
#define L1STD_SPAN          (STRTAB_SPLIT + 1)
#define BASE_RA             (1ULL << 62)

/* Queues: one 4 KiB page each */
#define CMDQ_LOG2           8           /* 16-byte commands */
#define EVTQ_LOG2           7           /* 32-byte records */
#define CMD_SIZE            16
#define EVT_SIZE            32
#define CONS_ERR_SHIFT      24
#define CONS_ERR_MASK       0x7f
#define GBPA_UPDATE         (1u << 31)
#define GBPA_ABORT          (1u << 20)
#define CR1_QUEUE_WB_IS     (1u | 1u << 2 | 3u << 4)
#define CR1_TABLE_WB_IS     (1u << 6 | 1u << 8 | 3u << 10)
#define CR2_RECINVSID       (1u << 1)

struct SmmuGuest {
    QTestState *qts;
    QGuestAllocator *alloc;
    uint64_t base;
    bool two_level;
    uint64_t strtab;                /* linear table, or level-1 table */
    uint64_t l2[1u << (STRTAB_2LVL_LOG2 - STRTAB_SPLIT)];
    uint64_t cmdq;
    uint32_t cmd_prod;              /* with the wrap bit */
    uint64_t evtq;
    uint32_t evt_cons;              /* with the wrap bit */
    uint32_t evt_ovack;             /* CONS.OVACKFLG */
    GHashTable *cd_tables;          /* sid -> CD table */
    GList *ctxs;
};

struct SmmuCtx {
    SmmuGuest *g;
    uint16_t asid;
    uint64_t ttb0;
};

static uint64_t zalloc(SmmuGuest *g, uint64_t size, uint64_t align)
{
    /* guest_alloc() aligns to pages: over-allocate for more. */
    uint64_t gpa = guest_alloc(g->alloc, size + (align > PAGE_SIZE ?
                                                 align : 0));

    gpa = ROUND_UP(gpa, MAX(align, PAGE_SIZE));
    qtest_memset(g->qts, gpa, 0, size);
    return gpa;
}

uint32_t smmu_guest_readl(SmmuGuest *g, uint64_t reg)
{
    return qtest_readl(g->qts, g->base + reg);
}

void smmu_guest_writel(SmmuGuest *g, uint64_t reg, uint32_t val)
{
    qtest_writel(g->qts, g->base + reg, val);
}

static void writeq_reg(SmmuGuest *g, uint64_t reg, uint64_t val)
{
    qtest_writeq(g->qts, g->base + reg, val);
}

SmmuGuest *smmu_guest_new(QTestState *qts, QGuestAllocator *alloc,
                          uint64_t base, bool two_level)
{
    SmmuGuest *g = g_new0(SmmuGuest, 1);

    g->qts = qts;
    g->alloc = alloc;
    g->base = base;
    g->two_level = two_level;
    if (two_level) {
        /* 2^(16 - 8) level-1 descriptors of 8 bytes */
        g->strtab = zalloc(g, 8u << (STRTAB_2LVL_LOG2 - STRTAB_SPLIT), 0);
    } else {
        /* A linear table is aligned to its size. */
        g->strtab = zalloc(g, STE_SIZE << STRTAB_LINEAR_LOG2,
                           STE_SIZE << STRTAB_LINEAR_LOG2);
    }
    g->cmdq = zalloc(g, CMD_SIZE << CMDQ_LOG2, 0);
    g->evtq = zalloc(g, EVT_SIZE << EVTQ_LOG2, 0);
    g->cd_tables = g_hash_table_new(NULL, NULL);
    return g;
}

void smmu_guest_free(SmmuGuest *g)
{
    g_hash_table_destroy(g->cd_tables);
    g_list_free_full(g->ctxs, g_free);
    g_free(g);
}

void smmu_guest_write_cr0(SmmuGuest *g, uint32_t cr0)
{
    int i;

    smmu_guest_writel(g, SMMU_CR0, cr0);
    for (i = 0; i < WAIT_LOOPS; i++) {
        if (smmu_guest_readl(g, SMMU_CR0ACK) == cr0) {
            return;
        }
    }
    g_error("SMMU CR0ACK stays 0x%x after CR0 0x%x",
            smmu_guest_readl(g, SMMU_CR0ACK), cr0);
}

void smmu_guest_set_gbpa(SmmuGuest *g, bool abort)
{
    int i;

    smmu_guest_writel(g, SMMU_GBPA, GBPA_UPDATE | (abort ? GBPA_ABORT : 0));
    for (i = 0; i < WAIT_LOOPS; i++) {
        if (!(smmu_guest_readl(g, SMMU_GBPA) & GBPA_UPDATE)) {
            g_assert_cmphex(smmu_guest_readl(g, SMMU_GBPA) & GBPA_ABORT, ==,
                            abort ? GBPA_ABORT : 0);
            return;
        }
    }
    g_error("SMMU GBPA.Update does not clear");
}

void smmu_guest_enable(SmmuGuest *g, bool smmuen)
{
    uint64_t cmd[2];
    uint32_t cfg;

    smmu_guest_write_cr0(g, 0);
    smmu_guest_writel(g, SMMU_CR1, CR1_QUEUE_WB_IS | CR1_TABLE_WB_IS);
    smmu_guest_writel(g, SMMU_CR2, CR2_RECINVSID);

    if (g->two_level) {
        cfg = STRTAB_CFG_FMT_2LVL | STRTAB_SPLIT << STRTAB_CFG_SPLIT_SHIFT |
              STRTAB_2LVL_LOG2;
    } else {
        cfg = STRTAB_LINEAR_LOG2;
    }
    writeq_reg(g, SMMU_STRTAB_BASE, BASE_RA | g->strtab);
    smmu_guest_writel(g, SMMU_STRTAB_BASE_CFG, cfg);

    writeq_reg(g, SMMU_CMDQ_BASE, BASE_RA | g->cmdq | CMDQ_LOG2);
    smmu_guest_writel(g, SMMU_CMDQ_PROD, 0);
    smmu_guest_writel(g, SMMU_CMDQ_CONS, 0);
    g->cmd_prod = 0;
    smmu_guest_write_cr0(g, SMMU_CR0_CMDQEN);

    /* Nothing the SMMU cached survives. */
    smmu_cmd_op(cmd, SMMU_CMD_CFGI_ALL);
    cmd[1] = 31;                    /* Range: all StreamIDs */
    smmu_guest_cmd_queue(g, cmd);
    smmu_cmd_op(cmd, SMMU_CMD_TLBI_NSNH_ALL);
    smmu_guest_cmd_queue(g, cmd);
    g_assert(smmu_guest_sync(g));

    writeq_reg(g, SMMU_EVTQ_BASE, BASE_RA | g->evtq | EVTQ_LOG2);
    smmu_guest_writel(g, SMMU_EVTQ_PROD, 0);
    smmu_guest_writel(g, SMMU_EVTQ_CONS, 0);
    g->evt_cons = 0;
    g->evt_ovack = 0;
    smmu_guest_write_cr0(g, SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN);

    if (smmuen) {
        smmu_guest_write_cr0(g, SMMU_CR0_CMDQEN | SMMU_CR0_EVTQEN |
                             SMMU_CR0_SMMUEN);
    }
}

/* ---- the command queue ---- */

#define CMDQ_MASK           ((1u << CMDQ_LOG2) - 1)
#define CMDQ_WRAP_MASK      ((2u << CMDQ_LOG2) - 1)

void smmu_cmd_op(uint64_t cmd[2], uint8_t op)
{
    cmd[0] = op;
    cmd[1] = 0;
}

void smmu_cmd_cfgi_ste(uint64_t cmd[2], uint32_t sid)
{
    smmu_cmd_op(cmd, SMMU_CMD_CFGI_STE);
    cmd[0] |= (uint64_t)sid << 32;
    cmd[1] = 1;                     /* Leaf: the STE only */
}

void smmu_cmd_cfgi_cd(uint64_t cmd[2], uint32_t sid, uint32_t ssid)
{
    smmu_cmd_op(cmd, SMMU_CMD_CFGI_CD);
    cmd[0] |= (uint64_t)sid << 32 | (uint64_t)(ssid & 0xfffff) << 12;
    cmd[1] = 1;
}

void smmu_cmd_tlbi_nh_va(uint64_t cmd[2], uint16_t asid, uint64_t iova)
{
    smmu_cmd_op(cmd, SMMU_CMD_TLBI_NH_VA);
    cmd[0] |= (uint64_t)asid << 48;
    /* One page: NUM/SCALE/TG/TTL 0; Leaf */
    cmd[1] = (iova & ~(PAGE_SIZE - 1)) | 1;
}

void smmu_cmd_tlbi_nh_asid(uint64_t cmd[2], uint16_t asid)
{
    smmu_cmd_op(cmd, SMMU_CMD_TLBI_NH_ASID);
    cmd[0] |= (uint64_t)asid << 48;
}

void smmu_guest_cmd_queue(SmmuGuest *g, const uint64_t cmd[2])
{
    uint32_t cons = smmu_guest_readl(g, SMMU_CMDQ_CONS) & CMDQ_WRAP_MASK;
    uint64_t slot = g->cmdq + (g->cmd_prod & CMDQ_MASK) * CMD_SIZE;

    /* Full: same index, other wrap. */
    g_assert_cmphex((g->cmd_prod ^ cons), !=, 1u << CMDQ_LOG2);
    qtest_writeq(g->qts, slot, cmd[0]);
    qtest_writeq(g->qts, slot + 8, cmd[1]);
    g->cmd_prod = (g->cmd_prod + 1) & CMDQ_WRAP_MASK;
}

void smmu_guest_cmd_kick(SmmuGuest *g)
{
    smmu_guest_writel(g, SMMU_CMDQ_PROD, g->cmd_prod);
}

unsigned smmu_guest_cmdq_error(SmmuGuest *g, unsigned *cons_index)
{
    uint32_t cons = smmu_guest_readl(g, SMMU_CMDQ_CONS);

    if (cons_index) {
        *cons_index = cons & CMDQ_MASK;
    }
    return (cons >> CONS_ERR_SHIFT) & CONS_ERR_MASK;
}

static bool cmdq_error_pending(SmmuGuest *g)
{
    return (smmu_guest_readl(g, SMMU_GERROR) ^
            smmu_guest_readl(g, SMMU_GERRORN)) & SMMU_GERROR_CMDQ_ERR;
}

bool smmu_guest_sync(SmmuGuest *g)
{
    uint64_t cmd[2];
    int i;

    smmu_cmd_op(cmd, SMMU_CMD_SYNC);    /* CS = SIG_NONE: poll CONS */
    smmu_guest_cmd_queue(g, cmd);
    smmu_guest_cmd_kick(g);
    for (i = 0; i < WAIT_LOOPS; i++) {
        uint32_t cons = smmu_guest_readl(g, SMMU_CMDQ_CONS);

        if ((cons & CMDQ_WRAP_MASK) == g->cmd_prod) {
            return true;
        }
        if (cmdq_error_pending(g)) {
            return false;
        }
    }
    g_error("SMMU CMDQ_CONS 0x%x never reached PROD 0x%x",
            smmu_guest_readl(g, SMMU_CMDQ_CONS), g->cmd_prod);
}

void smmu_guest_cmdq_recover(SmmuGuest *g)
{
    unsigned index;
    uint64_t cmd[2];

    g_assert(cmdq_error_pending(g));
    smmu_guest_cmdq_error(g, &index);
    smmu_cmd_op(cmd, SMMU_CMD_SYNC);
    qtest_writeq(g->qts, g->cmdq + index * CMD_SIZE, cmd[0]);
    qtest_writeq(g->qts, g->cmdq + index * CMD_SIZE + 8, cmd[1]);
    /* Acknowledge: GERRORN takes GERROR's value. */
    smmu_guest_writel(g, SMMU_GERRORN, smmu_guest_readl(g, SMMU_GERROR));
    smmu_guest_cmd_kick(g);
}

static bool queue_sync(SmmuGuest *g, const uint64_t cmd[2])
{
    smmu_guest_cmd_queue(g, cmd);
    return smmu_guest_sync(g);
}

bool smmu_guest_cfgi_ste(SmmuGuest *g, uint32_t sid)
{
    uint64_t cmd[2];

    smmu_cmd_cfgi_ste(cmd, sid);
    return queue_sync(g, cmd);
}

bool smmu_guest_cfgi_cd(SmmuGuest *g, uint32_t sid, uint32_t ssid)
{
    uint64_t cmd[2];

    smmu_cmd_cfgi_cd(cmd, sid, ssid);
    return queue_sync(g, cmd);
}

bool smmu_guest_tlbi_nh_va(SmmuGuest *g, uint16_t asid, uint64_t iova)
{
    uint64_t cmd[2];

    smmu_cmd_tlbi_nh_va(cmd, asid, iova);
    return queue_sync(g, cmd);
}

bool smmu_guest_tlbi_nh_asid(SmmuGuest *g, uint16_t asid)
{
    uint64_t cmd[2];

    smmu_cmd_tlbi_nh_asid(cmd, asid);
    return queue_sync(g, cmd);
}

bool smmu_guest_tlbi_nh_all(SmmuGuest *g)
{
    uint64_t cmd[2];

    smmu_cmd_op(cmd, SMMU_CMD_TLBI_NH_ALL);
    return queue_sync(g, cmd);
}

bool smmu_guest_tlbi_nsnh_all(SmmuGuest *g)
{
    uint64_t cmd[2];

    smmu_cmd_op(cmd, SMMU_CMD_TLBI_NSNH_ALL);
    return queue_sync(g, cmd);
}

/* ---- stream table ---- */

static uint64_t ste_addr(SmmuGuest *g, uint32_t sid)
{
    uint32_t l1;

    if (!g->two_level) {
        g_assert_cmpuint(sid, <, 1u << STRTAB_LINEAR_LOG2);
        return g->strtab + sid * STE_SIZE;
    }
    g_assert_cmpuint(sid, <, 1u << STRTAB_2LVL_LOG2);
    l1 = sid >> STRTAB_SPLIT;
    if (!g->l2[l1]) {
        g->l2[l1] = zalloc(g, STE_SIZE << STRTAB_SPLIT, 0);
        qtest_writeq(g->qts, g->strtab + l1 * 8, g->l2[l1] | L1STD_SPAN);
    }
    return g->l2[l1] + (sid & ((1u << STRTAB_SPLIT) - 1)) * STE_SIZE;
}

void smmu_guest_ste_raw(SmmuGuest *g, uint32_t sid, const uint64_t ste[8])
{
    uint64_t a = ste_addr(g, sid);
    int i;

    /* Qword 0 (V, Config) last, as a driver updating a live STE would. */
    for (i = 7; i >= 0; i--) {
        qtest_writeq(g->qts, a + i * 8, ste[i]);
    }
}

void smmu_guest_ste_read(SmmuGuest *g, uint32_t sid, uint64_t ste[8])
{
    uint64_t a = ste_addr(g, sid);
    int i;

    for (i = 0; i < 8; i++) {
        ste[i] = qtest_readq(g->qts, a + i * 8);
    }
}

static void ste_install(SmmuGuest *g, uint32_t sid, const uint64_t ste[8])
{
    smmu_guest_ste_raw(g, sid, ste);
    g_assert(smmu_guest_cfgi_ste(g, sid));
}

void smmu_guest_ste_abort(SmmuGuest *g, uint32_t sid)
{
    uint64_t ste[8] = { STE_V | STE_CFG_ABORT << STE_CFG_SHIFT };

    g_hash_table_remove(g->cd_tables, GUINT_TO_POINTER(sid));
    ste_install(g, sid, ste);
}

void smmu_guest_ste_bypass(SmmuGuest *g, uint32_t sid)
{
    uint64_t ste[8] = { STE_V | STE_CFG_BYPASS << STE_CFG_SHIFT,
                        STE1_SHCFG_INCOMING };

    g_hash_table_remove(g->cd_tables, GUINT_TO_POINTER(sid));
    ste_install(g, sid, ste);
}

/* ---- context descriptors and page tables ---- */

static SmmuCtx *ctx_new(SmmuGuest *g, uint16_t asid)
{
    SmmuCtx *c = g_new0(SmmuCtx, 1);

    c->g = g;
    c->asid = asid;
    c->ttb0 = zalloc(g, PAGE_SIZE, 0);
    g->ctxs = g_list_prepend(g->ctxs, c);
    return c;
}

static void cd_write(SmmuGuest *g, uint64_t cd, SmmuCtx *c)
{
    /* IPS: what the SMMU's output size allows (IDR5.OAS, up to 48 bits) */
    uint64_t ips = MIN(smmu_guest_readl(g, SMMU_IDR5) & 7, 5);
    uint64_t q0 = CD0_T0SZ_48 | CD0_IRGN0_WBRA | CD0_ORGN0_WBRA |
                  CD0_SH0_IS | CD0_EPD1 | CD0_V | ips << CD0_IPS_SHIFT |
                  CD0_AA64 | CD0_R | CD0_A | CD0_ASET |
                  (uint64_t)c->asid << CD0_ASID_SHIFT;

    qtest_writeq(g->qts, cd + 8, c->ttb0 & CD1_TTB0_MASK);
    qtest_writeq(g->qts, cd + 16, 0);
    qtest_writeq(g->qts, cd + 24, CD3_MAIR);
    qtest_writeq(g->qts, cd, q0);
}

SmmuCtx *smmu_guest_ste_s1(SmmuGuest *g, uint32_t sid, unsigned s1cdmax,
                           uint16_t asid)
{
    uint64_t cdtab = zalloc(g, CD_SIZE << s1cdmax, 0);
    uint64_t ste[8] = { 0 };
    SmmuCtx *c = ctx_new(g, asid);

    cd_write(g, cdtab, c);
    g_hash_table_insert(g->cd_tables, GUINT_TO_POINTER(sid),
                        (gpointer)(uintptr_t)cdtab);
    ste[0] = STE_V | STE_CFG_S1 << STE_CFG_SHIFT |
             (cdtab & STE_CTXPTR_MASK) |
             (uint64_t)s1cdmax << STE_S1CDMAX_SHIFT;
    ste[1] = (s1cdmax ? STE1_S1DSS_SSID0 : 0) | STE1_S1CIR_WBRA |
             STE1_S1COR_WBRA | STE1_S1CSH_IS;
    ste_install(g, sid, ste);
    return c;
}

SmmuCtx *smmu_guest_cd_write(SmmuGuest *g, uint32_t sid, uint32_t ssid,
                             uint16_t asid)
{
    gpointer p = g_hash_table_lookup(g->cd_tables, GUINT_TO_POINTER(sid));
    SmmuCtx *c;

    g_assert(p);
    c = ctx_new(g, asid);
    cd_write(g, (uintptr_t)p + ssid * CD_SIZE, c);
    return c;
}

SmmuCtx *smmu_guest_cd(SmmuGuest *g, uint32_t sid, uint32_t ssid,
                       uint16_t asid)
{
    SmmuCtx *c = smmu_guest_cd_write(g, sid, ssid, asid);

    g_assert(smmu_guest_cfgi_cd(g, sid, ssid));
    return c;
}

uint16_t smmu_ctx_asid(SmmuCtx *c)
{
    return c->asid;
}

/* The level-3 entry of @iova, creating tables on the way if @alloc. */
static uint64_t pte_addr(SmmuCtx *c, uint64_t iova, bool alloc)
{
    QTestState *qts = c->g->qts;
    uint64_t table = c->ttb0;
    int lvl;

    for (lvl = 0; lvl < 3; lvl++) {
        uint64_t e = table + PT_INDEX(iova, lvl) * 8;
        uint64_t d = qtest_readq(qts, e);

        if (!(d & 1)) {
            if (!alloc) {
                return 0;
            }
            d = zalloc(c->g, PAGE_SIZE, 0) | PTE_VALID_TABLE;
            qtest_writeq(qts, e, d);
        }
        table = d & PT_ADDR_MASK;
    }
    return table + PT_INDEX(iova, 3) * 8;
}

void smmu_ctx_map(SmmuCtx *c, uint64_t iova, uint64_t pa, uint64_t size,
                  int prot)
{
    uint64_t off;

    g_assert(prot & SMMU_PROT_READ);
    for (off = 0; off < size; off += PAGE_SIZE) {
        uint64_t pte = ((pa + off) & PT_ADDR_MASK) | PTE_VALID_TABLE |
                       PTE_AF | PTE_SH_IS | PTE_AP_UNPRIV;

        if (!(prot & SMMU_PROT_WRITE)) {
            pte |= PTE_AP_RDONLY;
        }
        qtest_writeq(c->g->qts, pte_addr(c, iova + off, true), pte);
    }
}

void smmu_ctx_unmap(SmmuCtx *c, uint64_t iova, uint64_t size)
{
    uint64_t off;

    for (off = 0; off < size; off += PAGE_SIZE) {
        uint64_t e = pte_addr(c, iova + off, false);

        if (e) {
            qtest_writeq(c->g->qts, e, 0);
        }
    }
}

/* ---- the event queue ---- */

#define EVTQ_MASK           ((1u << EVTQ_LOG2) - 1)
#define EVTQ_WRAP_MASK      ((2u << EVTQ_LOG2) - 1)

unsigned smmu_guest_events_pending(SmmuGuest *g)
{
    uint32_t prod = smmu_guest_readl(g, SMMU_EVTQ_PROD) & EVTQ_WRAP_MASK;

    return (prod - g->evt_cons) & EVTQ_WRAP_MASK;
}

bool smmu_guest_peek_event(SmmuGuest *g, SmmuEvent *e)
{
    uint64_t slot = g->evtq + (g->evt_cons & EVTQ_MASK) * EVT_SIZE;
    int i;

    if (!smmu_guest_events_pending(g)) {
        return false;
    }
    memset(e, 0, sizeof(*e));
    for (i = 0; i < 4; i++) {
        e->raw[i] = qtest_readq(g->qts, slot + i * 8);
    }
    e->type = e->raw[0] & 0xff;
    e->ssv = (e->raw[0] >> 11) & 1;
    e->ssid = (e->raw[0] >> 12) & 0xfffff;
    e->sid = e->raw[0] >> 32;
    e->rnw = (e->raw[1] >> 35) & 1;
    e->s2 = (e->raw[1] >> 39) & 1;
    e->cls = (e->raw[1] >> 40) & 3;
    e->addr = e->raw[2];
    e->addr2 = e->raw[3] & ~7ULL;
    return true;
}

bool smmu_guest_take_event(SmmuGuest *g, SmmuEvent *e)
{
    if (!smmu_guest_peek_event(g, e)) {
        return false;
    }
    g->evt_cons = (g->evt_cons + 1) & EVTQ_WRAP_MASK;
    smmu_guest_writel(g, SMMU_EVTQ_CONS, g->evt_cons | g->evt_ovack);
    return true;
}

unsigned smmu_guest_evtq_entries(SmmuGuest *g)
{
    return 1u << EVTQ_LOG2;
}

bool smmu_guest_evtq_overflowed(SmmuGuest *g)
{
    return (smmu_guest_readl(g, SMMU_EVTQ_PROD) ^ g->evt_ovack) &
           SMMU_EVTQ_OVFLG;
}

void smmu_guest_evtq_ack_overflow(SmmuGuest *g)
{
    g->evt_ovack = smmu_guest_readl(g, SMMU_EVTQ_PROD) & SMMU_EVTQ_OVFLG;
    smmu_guest_writel(g, SMMU_EVTQ_CONS, g->evt_cons | g->evt_ovack);
}

void smmu_guest_drain_events(SmmuGuest *g)
{
    SmmuEvent e;

    while (smmu_guest_take_event(g, &e)) {
        /* drop it */
    }
}

const char *smmu_event_name(uint8_t type)
{
    switch (type) {
    case SMMU_EVT_C_BAD_STREAMID:
        return "C_BAD_STREAMID";
    case SMMU_EVT_C_BAD_STE:
        return "C_BAD_STE";
    case SMMU_EVT_C_BAD_SUBSTREAMID:
        return "C_BAD_SUBSTREAMID";
    case SMMU_EVT_C_BAD_CD:
        return "C_BAD_CD";
    case SMMU_EVT_F_TRANSLATION:
        return "F_TRANSLATION";
    case SMMU_EVT_F_ACCESS:
        return "F_ACCESS";
    case SMMU_EVT_F_PERMISSION:
        return "F_PERMISSION";
    default:
        return "other";
    }
}
