/*
 * VNest qtest helpers: the guest's side of an Arm SMMUv3
 *
 * A small guest SMMUv3 driver for qtests: it builds a linear or 2-level
 * stream table, STEs (abort, bypass, stage-1 translate), context
 * descriptor tables and AArch64 4 KiB-granule stage-1 page tables in guest
 * memory, runs the command queue (CFGI_*, TLBI_*, CMD_SYNC polled through
 * CMDQ_CONS) and reads decoded records from the event queue, so tests can
 * drive device DMA through the emulated (or nested) SMMUv3 as a guest
 * kernel would. Formats: Arm IHI 0070 (SMMUv3) and the Arm ARM (VMSAv8-64
 * translation table descriptors).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_SMMU_GUEST_H
#define VNEST_TESTS_SMMU_GUEST_H

#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-malloc.h"

/* -M virt: the SMMUv3 of iommu=smmuv3 (hw/arm/virt.c, VIRT_SMMU) */
#define SMMU_VIRT_BASE      0x09050000ULL

/* Registers (page 0; the event queue's PROD/CONS are in page 1) */
#define SMMU_IDR0           0x00
#define SMMU_IDR1           0x04
#define SMMU_IDR3           0x0c
#define SMMU_IDR5           0x14
#define SMMU_CR0            0x20
#define SMMU_CR0ACK         0x24
#define SMMU_CR1            0x28
#define SMMU_CR2            0x2c
#define SMMU_GBPA           0x44
#define SMMU_IRQ_CTRL       0x50
#define SMMU_GERROR         0x60
#define SMMU_GERRORN        0x64
#define SMMU_STRTAB_BASE    0x80
#define SMMU_STRTAB_BASE_CFG 0x88
#define SMMU_CMDQ_BASE      0x90
#define SMMU_CMDQ_PROD      0x98
#define SMMU_CMDQ_CONS      0x9c
#define SMMU_EVTQ_BASE      0xa0
#define SMMU_EVTQ_PROD      0x100a8
#define SMMU_EVTQ_CONS      0x100ac

#define SMMU_CR0_SMMUEN     (1u << 0)
#define SMMU_CR0_EVTQEN     (1u << 2)
#define SMMU_CR0_CMDQEN     (1u << 3)
#define SMMU_GERROR_CMDQ_ERR (1u << 0)
#define SMMU_GERROR_EVTQ_ABT_ERR (1u << 2)
#define SMMU_IRQ_CTRL_EVTQ_IRQEN (1u << 2)
#define SMMU_EVTQ_OVFLG     (1u << 31)  /* PROD.OVFLG, CONS.OVACKFLG */

/* Command opcodes (CMDQ_0_OP) */
#define SMMU_CMD_CFGI_STE       0x03
#define SMMU_CMD_CFGI_CD        0x05
#define SMMU_CMD_CFGI_ALL       0x04    /* CFGI_STE_RANGE, Range 31 */
#define SMMU_CMD_TLBI_NH_ALL    0x10
#define SMMU_CMD_TLBI_NH_ASID   0x11
#define SMMU_CMD_TLBI_NH_VA     0x12
#define SMMU_CMD_TLBI_NSNH_ALL  0x30
#define SMMU_CMD_SYNC           0x46

/* Event record types */
#define SMMU_EVT_C_BAD_STREAMID 0x02
#define SMMU_EVT_C_BAD_STE      0x04
#define SMMU_EVT_C_BAD_SUBSTREAMID 0x08
#define SMMU_EVT_C_BAD_CD       0x0a
#define SMMU_EVT_F_TRANSLATION  0x10
#define SMMU_EVT_F_ACCESS       0x12
#define SMMU_EVT_F_PERMISSION   0x13

/* CMDQ_CONS.ERR: command errors */
#define SMMU_CERROR_NONE    0
#define SMMU_CERROR_ILL     1

#define SMMU_PROT_READ      1
#define SMMU_PROT_WRITE     2
#define SMMU_PROT_RW        (SMMU_PROT_READ | SMMU_PROT_WRITE)

/* One decoded event record (IHI 0070, 7.3). */
typedef struct SmmuEvent {
    uint8_t type;
    uint32_t sid;
    bool ssv;           /* a SubstreamID came with the transaction */
    uint32_t ssid;
    bool rnw;           /* the faulting access was a read */
    bool s2;            /* stage 2 fault */
    uint8_t cls;        /* CLASS: 0 CD, 1 TT, 2 IN */
    uint64_t addr;      /* InputAddr */
    uint64_t addr2;     /* IPA / fetch address */
    uint64_t raw[4];
} SmmuEvent;

typedef struct SmmuGuest SmmuGuest;
typedef struct SmmuCtx SmmuCtx;   /* one CD: an ASID and its page tables */

/*
 * A driver for the SMMUv3 at @base. @two_level: a 2-level stream table
 * (16-bit StreamIDs, split 8, level-2 tables on first use), else a linear
 * one for StreamIDs < 256.
 */
SmmuGuest *smmu_guest_new(QTestState *qts, QGuestAllocator *alloc,
                          uint64_t base, bool two_level);
void smmu_guest_free(SmmuGuest *g);

uint32_t smmu_guest_readl(SmmuGuest *g, uint64_t reg);
void smmu_guest_writel(SmmuGuest *g, uint64_t reg, uint32_t val);

/*
 * What Linux's arm_smmu_device_reset() does: SMMUEN off, CR1/CR2, stream
 * table, command queue on, CFGI_ALL + TLBI_NSNH_ALL + SYNC, event queue
 * on, then SMMUEN (unless @smmuen is false: GBPA decides then). Every CR0
 * write waits for CR0ACK.
 */
void smmu_guest_enable(SmmuGuest *g, bool smmuen);
/* Write CR0 and wait for CR0ACK to follow. */
void smmu_guest_write_cr0(SmmuGuest *g, uint32_t cr0);
/* GBPA.ABORT (what SMMUEN=0 does), through GBPA.Update. */
void smmu_guest_set_gbpa(SmmuGuest *g, bool abort);

/* STEs. Each writes the STE, then CFGI_STE + SYNC. */
void smmu_guest_ste_abort(SmmuGuest *g, uint32_t sid);
void smmu_guest_ste_bypass(SmmuGuest *g, uint32_t sid);
/*
 * Stage-1 translate with a linear CD table of 2^@s1cdmax CDs
 * (S1CDMax; 0: one CD, no SubstreamIDs) and CD 0 (SSID 0) pointing at a
 * new context tagged @asid with empty page tables (48-bit input, 4 KiB
 * granule). The STE's S1DSS sends untagged DMA to CD 0.
 */
SmmuCtx *smmu_guest_ste_s1(SmmuGuest *g, uint32_t sid, unsigned s1cdmax,
                           uint16_t asid);
/* CD @ssid of @sid (whose STE is stage-1): a new context; CFGI_CD + SYNC */
SmmuCtx *smmu_guest_cd(SmmuGuest *g, uint32_t sid, uint32_t ssid,
                       uint16_t asid);
/* The same without the command. */
SmmuCtx *smmu_guest_cd_write(SmmuGuest *g, uint32_t sid, uint32_t ssid,
                             uint16_t asid);
/* The STE as given (no command): its 8 qwords. */
void smmu_guest_ste_raw(SmmuGuest *g, uint32_t sid, const uint64_t ste[8]);
void smmu_guest_ste_read(SmmuGuest *g, uint32_t sid, uint64_t ste[8]);

/*
 * Map [iova, iova + size) to [pa, pa + size) with 4 KiB pages (AF set;
 * without SMMU_PROT_WRITE: read-only, AP[2]); replaces what was there,
 * with no invalidation (the caller decides).
 */
void smmu_ctx_map(SmmuCtx *c, uint64_t iova, uint64_t pa, uint64_t size,
                  int prot);
/* Clear the leaf entries of [iova, iova + size) (no invalidation). */
void smmu_ctx_unmap(SmmuCtx *c, uint64_t iova, uint64_t size);
uint16_t smmu_ctx_asid(SmmuCtx *c);

/*
 * The command queue, command by command: queue writes one without telling
 * the SMMU; kick writes CMDQ_PROD; sync queues a CMD_SYNC, kicks and polls
 * CMDQ_CONS up to it, returning false if the SMMU stopped on a command
 * error instead (CMDQ_CONS.ERR, GERROR.CMDQ_ERR).
 */
void smmu_guest_cmd_queue(SmmuGuest *g, const uint64_t cmd[2]);
void smmu_guest_cmd_kick(SmmuGuest *g);
bool smmu_guest_sync(SmmuGuest *g);
/* CMDQ_CONS.ERR and the index CMDQ_CONS points at. */
unsigned smmu_guest_cmdq_error(SmmuGuest *g, unsigned *cons_index);
/*
 * After a command error: skip the failing command (as Linux does, it
 * becomes a CMD_SYNC), acknowledge GERROR.CMDQ_ERR, and kick again.
 */
void smmu_guest_cmdq_recover(SmmuGuest *g);

/* Each queues the command, then syncs; returns what the sync returned. */
bool smmu_guest_cfgi_ste(SmmuGuest *g, uint32_t sid);
bool smmu_guest_cfgi_cd(SmmuGuest *g, uint32_t sid, uint32_t ssid);
bool smmu_guest_tlbi_nh_va(SmmuGuest *g, uint16_t asid, uint64_t iova);
bool smmu_guest_tlbi_nh_asid(SmmuGuest *g, uint16_t asid);
bool smmu_guest_tlbi_nh_all(SmmuGuest *g);
bool smmu_guest_tlbi_nsnh_all(SmmuGuest *g);

/* Command encodings (for tests that queue them by hand). */
void smmu_cmd_cfgi_ste(uint64_t cmd[2], uint32_t sid);
void smmu_cmd_cfgi_cd(uint64_t cmd[2], uint32_t sid, uint32_t ssid);
void smmu_cmd_tlbi_nh_va(uint64_t cmd[2], uint16_t asid, uint64_t iova);
void smmu_cmd_tlbi_nh_asid(uint64_t cmd[2], uint16_t asid);
void smmu_cmd_op(uint64_t cmd[2], uint8_t op);

/* Records between EVTQ_CONS and EVTQ_PROD. */
unsigned smmu_guest_events_pending(SmmuGuest *g);
/* Read the record at EVTQ_CONS and advance it; false: queue empty. */
bool smmu_guest_take_event(SmmuGuest *g, SmmuEvent *e);
/* The record at EVTQ_CONS, left there; false: queue empty. */
bool smmu_guest_peek_event(SmmuGuest *g, SmmuEvent *e);
/* Drop every pending record. */
void smmu_guest_drain_events(SmmuGuest *g);
/* How many records the event queue holds. */
unsigned smmu_guest_evtq_entries(SmmuGuest *g);
/*
 * An overflow the guest has not acknowledged: PROD.OVFLG differs from
 * CONS.OVACKFLG (IHI 0070 7.4); ack copies OVFLG into OVACKFLG, as
 * Linux's event queue thread does.
 */
bool smmu_guest_evtq_overflowed(SmmuGuest *g);
void smmu_guest_evtq_ack_overflow(SmmuGuest *g);
const char *smmu_event_name(uint8_t type);

#endif
