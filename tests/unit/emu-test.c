/*
 * VNest unit tests of the emulated host IOMMU: shared fixture and helpers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "emu-test.h"

void emu_fixture_setup_cfg(EmuFixture *f, const EmuHwConfig *cfg)
{
    emu_fixture_setup_prep(f, cfg, NULL);
}

void emu_fixture_setup_prep(EmuFixture *f, const EmuHwConfig *cfg,
                            void (*prep)(EmuDevice *dev))
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };

    memset(f, 0, sizeof(*f));
    f->host = emu_host_new();
    g_assert_cmpint(emu_host_add_iommu(f->host, cfg, &f->iommu), ==, 0);
    g_assert_cmpint(emu_host_add_device(f->host, f->iommu, 0x0010, "dev0",
                                        &f->dev), ==, 0);
    if (prep) {
        prep(f->dev);
    }
    f->ctx = emu_ctx_open(f->host);
    f->vfio = emu_vfio_open(f->dev);
    g_assert_nonnull(f->vfio);
    emu_vfio_set_ctx(f->vfio, f->ctx);
    g_assert_cmpint(emu_vfio_ioctl(f->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind),
                    ==, 0);
    f->dev_id = bind.out_devid;
    g_assert_cmpint(t_ioas_alloc(f, &f->ioas_id), ==, 0);
    f->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert(f->buf != MAP_FAILED);
}

void emu_fixture_setup(EmuFixture *f, EmuHwKind kind)
{
    EmuHwConfig cfg;

    emu_hw_config_default(&cfg, kind);
    emu_fixture_setup_cfg(f, &cfg);
}

void emu_fixture_teardown(EmuFixture *f)
{
    if (f->vfio) {
        emu_vfio_close(f->vfio);
    }
    emu_ctx_close(f->ctx);
    g_assert_cmpuint(emu_host_free(f->host), ==, 0);
    munmap(f->buf, BUF_SIZE);
}

int t_ioas_alloc(EmuFixture *f, uint32_t *id)
{
    struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
    int rc = ctx_ioctl(f, IOMMU_IOAS_ALLOC, &cmd);

    *id = cmd.out_ioas_id;
    return rc;
}

int t_map(EmuFixture *f, uint32_t ioas, void *va, uint64_t len,
          uint64_t *iova, uint32_t flags)
{
    struct iommu_ioas_map cmd = {
        .size = sizeof(cmd),
        .flags = flags,
        .ioas_id = ioas,
        .user_va = (uintptr_t)va,
        .length = len,
        .iova = *iova,
    };
    int rc = ctx_ioctl(f, IOMMU_IOAS_MAP, &cmd);

    *iova = cmd.iova;
    return rc;
}

int t_map_fixed(EmuFixture *f, uint32_t ioas, void *va, uint64_t len,
                uint64_t iova)
{
    return t_map(f, ioas, va, len, &iova,
                 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE);
}

int t_unmap(EmuFixture *f, uint32_t ioas, uint64_t iova, uint64_t len,
            uint64_t *unmapped)
{
    struct iommu_ioas_unmap cmd = {
        .size = sizeof(cmd), .ioas_id = ioas, .iova = iova, .length = len,
    };
    int rc = ctx_ioctl(f, IOMMU_IOAS_UNMAP, &cmd);

    if (unmapped) {
        *unmapped = cmd.length;
    }
    return rc;
}

int t_hwpt_alloc(EmuFixture *f, uint32_t pt_id, uint32_t flags,
                 uint32_t data_type, const void *data, uint32_t data_len,
                 uint32_t *hwpt_id)
{
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd),
        .flags = flags,
        .dev_id = f->dev_id,
        .pt_id = pt_id,
        .data_type = data_type,
        .data_len = data_len,
        .data_uptr = (uintptr_t)data,
    };
    int rc = ctx_ioctl(f, IOMMU_HWPT_ALLOC, &cmd);

    if (hwpt_id) {
        *hwpt_id = cmd.out_hwpt_id;
    }
    return rc;
}

int t_attach_pasid(EmuFixture *f, uint32_t pasid, uint32_t *pt_id)
{
    struct vfio_device_attach_iommufd_pt a = {
        .argsz = sizeof(a),
        .pt_id = *pt_id,
    };
    int rc;

    if (pasid != EMU_NO_PASID) {
        a.flags = VFIO_DEVICE_ATTACH_PASID;
        a.pasid = pasid;
    }
    rc = emu_err(emu_vfio_ioctl(f->vfio, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
    *pt_id = a.pt_id;
    return rc;
}

int t_attach(EmuFixture *f, uint32_t *pt_id)
{
    return t_attach_pasid(f, EMU_NO_PASID, pt_id);
}

int t_detach(EmuFixture *f)
{
    struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

    return emu_err(emu_vfio_ioctl(f->vfio, VFIO_DEVICE_DETACH_IOMMUFD_PT,
                                  &d));
}

int t_destroy(EmuFixture *f, uint32_t id)
{
    struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

    return ctx_ioctl(f, IOMMU_DESTROY, &cmd);
}

int t_dma(EmuFixture *f, uint32_t pasid, uint64_t iova, void *data,
          size_t len, unsigned access)
{
    return emu_device_dma(f->dev, pasid, iova, data, len, access, NULL);
}

/* ---- fail-nth sweeps ---- */

static GHashTable *fail_sites;      /* "file.c:line" reached by a sweep */

void emu_sweep_note(EmuHost *host)
{
    const char *site = emu_host_fail_site(host);

    g_assert_nonnull(site);
    if (!fail_sites) {
        fail_sites = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           NULL);
    }
    g_hash_table_add(fail_sites, g_path_get_basename(site));
}

static void __attribute__((destructor)) fail_sites_save(void)
{
    const char *path = getenv("EMU_FAIL_SITES");
    GHashTableIter it;
    gpointer site;
    FILE *out;

    if (!path || !fail_sites) {
        return;
    }
    out = fopen(path, "a");
    if (!out) {
        return;
    }
    g_hash_table_iter_init(&it, fail_sites);
    while (g_hash_table_iter_next(&it, &site, NULL)) {
        fprintf(out, "%s\n", (char *)site);
    }
    fclose(out);
}

unsigned emu_sweep_step(EmuFixture *f, EmuStepFn step, void *opaque)
{
    unsigned long nth, ran;

    for (nth = 1; ; nth++) {
        g_autofree char *before = emu_ctx_describe(f->ctx);
        g_autofree char *after = NULL;
        int rc;

        emu_host_fail_nth(f->host, nth, ENOMEM);
        rc = step(f, opaque);
        ran = emu_host_fail_nth(f->host, 0, 0);
        if (!rc) {
            g_assert_cmpuint(ran, <, nth);      /* none swallowed */
            return nth - 1;
        }
        g_assert_cmpint(rc, ==, ENOMEM);
        g_assert_cmpuint(ran, >=, nth);
        emu_sweep_note(f->host);
        g_test_message("  nth %lu: %s", nth, emu_host_fail_site(f->host));
        after = emu_ctx_describe(f->ctx);
        g_assert_cmpstr(before, ==, after);
    }
}

uint8_t *t_memfd_buf(uint64_t len, int *fd)
{
    uint8_t *p;

    *fd = memfd_create("emu-test", MFD_CLOEXEC);
    g_assert_cmpint(*fd, >=, 0);
    g_assert_cmpint(ftruncate(*fd, len), ==, 0);
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    g_assert(p != MAP_FAILED);
    return p;
}
