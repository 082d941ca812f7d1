/*
 * VNest unit tests of the emulated host IOMMU: shared fixture and helpers
 *
 * In the style of the kernel's iommufd selftests: a fixture holds an
 * emulated host, one IOMMU, one device bound through its VFIO cdev and an
 * IOAS; ioctl helpers return the errno (0 on success) so tests read as
 * "this call fails with that errno".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_EMU_TEST_H
#define VNEST_TESTS_EMU_TEST_H

#include <errno.h>
#include <string.h>
#include <glib.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "iommufd-emu.h"

#define PAGE            4096ULL
#define BUF_SIZE        (64 * PAGE)

typedef struct EmuFixture {
    EmuHost *host;
    EmuIommu *iommu;
    EmuDevice *dev;
    EmuCtx *ctx;
    EmuVfio *vfio;
    uint32_t dev_id;
    uint32_t ioas_id;
    uint8_t *buf;               /* "guest RAM": BUF_SIZE, page aligned */
} EmuFixture;

/* errno of an emulated ioctl: 0 on success */
static inline int emu_err(int rc)
{
    return rc < 0 ? errno : 0;
}

#define ctx_ioctl(f, cmd, arg)  emu_err(emu_ctx_ioctl((f)->ctx, cmd, arg))

void emu_fixture_setup(EmuFixture *f, EmuHwKind kind);
/* Like setup, with a chosen hardware configuration. */
void emu_fixture_setup_cfg(EmuFixture *f, const EmuHwConfig *cfg);
/* Like setup_cfg, @prep (may be NULL) called on the device before bind. */
void emu_fixture_setup_prep(EmuFixture *f, const EmuHwConfig *cfg,
                            void (*prep)(EmuDevice *dev));
/* Tears down and asserts nothing leaked. */
void emu_fixture_teardown(EmuFixture *f);

int t_ioas_alloc(EmuFixture *f, uint32_t *id);
int t_map(EmuFixture *f, uint32_t ioas, void *va, uint64_t len,
          uint64_t *iova, uint32_t flags);
int t_map_fixed(EmuFixture *f, uint32_t ioas, void *va, uint64_t len,
                uint64_t iova);
int t_unmap(EmuFixture *f, uint32_t ioas, uint64_t iova, uint64_t len,
            uint64_t *unmapped);
int t_hwpt_alloc(EmuFixture *f, uint32_t pt_id, uint32_t flags,
                 uint32_t data_type, const void *data, uint32_t data_len,
                 uint32_t *hwpt_id);
int t_attach(EmuFixture *f, uint32_t *pt_id);
int t_attach_pasid(EmuFixture *f, uint32_t pasid, uint32_t *pt_id);
int t_detach(EmuFixture *f);
int t_destroy(EmuFixture *f, uint32_t id);
/* A memfd of @len bytes and the caller's own shared mapping of it. */
uint8_t *t_memfd_buf(uint64_t len, int *fd);
/* Device DMA: returns 0 or the negative errno of the fault. */
int t_dma(EmuFixture *f, uint32_t pasid, uint64_t iova, void *data,
          size_t len, unsigned access);

/*
 * Fail-nth sweeps. A step is one command (or a few that only make sense
 * together) returning its errno; @opaque is the test's own state.
 */
typedef int (*EmuStepFn)(EmuFixture *f, void *opaque);
/*
 * Fail each injection point of @step in turn, nth = 1, 2, ..., until the
 * step succeeds: every failure must be ENOMEM and leave the context as
 * it found it (emu_ctx_describe()), and no armed failure may be
 * swallowed. Returns how many injection points the step went through.
 */
unsigned emu_sweep_step(EmuFixture *f, EmuStepFn step, void *opaque);
/*
 * Record where the last injected failure on @host hit, for the check
 * that the sweeps reach every injection point: at exit the sites go to
 * the file $EMU_FAIL_SITES names, if set (scripts/unit-san.sh).
 */
void emu_sweep_note(EmuHost *host);

#endif
