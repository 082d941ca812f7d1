/*
 * VNest unit test: backends/iommufd-nest.c against the emulated host
 *
 * The nesting calls go through the iommufd backend's dispatch point
 * (backends/iommufd-emulated.c) to the emulated host exactly as QEMU
 * makes them. QEMU's iommufd backend object itself (backends/iommufd.c)
 * is not linked: a stand-in type of the same name carries the emulated
 * mode's properties, which is all the dispatch point looks at.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "qapi/error.h"
#include "qemu/module.h"
#include "vnest/iommufd-emulated.h"
#include "vnest/iommufd-nest.h"
#include "iommufd-emu.h"

#define RID     0x10

/* iommufd-emulated.c picks the default host IOMMU by target */
const char *target_name(void)
{
    return "x86_64";
}

static void be_class_init(ObjectClass *oc, void *data)
{
    vnest_iommufd_class_init(oc);
}

static const TypeInfo be_info = {
    .name = TYPE_IOMMUFD_BACKEND,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(IOMMUFDBackend),
    .class_size = sizeof(IOMMUFDBackendClass),
    .class_init = be_class_init,
};

typedef struct Fixture {
    IOMMUFDBackend *be;
    EmuVfio *vfio;
    uint32_t dev_id;
    uint32_t ioas_id;
} Fixture;

static void setup(Fixture *f, const char *hw)
{
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
    EmuDevice *edev;

    f->be = IOMMUFD_BACKEND(object_new(TYPE_IOMMUFD_BACKEND));
    f->be->owned = true;
    object_property_set_str(OBJECT(f->be), "emulated", "on", &error_abort);
    object_property_set_str(OBJECT(f->be), "host-iommu", hw, &error_abort);
    g_assert_true(vnest_iommufd_emu_connect(f->be, &error_abort));
    g_assert_cmpint(emu_host_add_device(vnest_iommufd_emu_host(f->be),
                                        vnest_iommufd_emu_iommu(f->be), RID,
                                        "dev0", &edev), ==, 0);
    f->vfio = emu_vfio_open(edev);
    g_assert_nonnull(f->vfio);
    emu_vfio_set_ctx(f->vfio, vnest_iommufd_emu_ctx(f->be));
    g_assert_cmpint(emu_vfio_ioctl(f->vfio, VFIO_DEVICE_BIND_IOMMUFD, &bind),
                    ==, 0);
    f->dev_id = bind.out_devid;
    g_assert_cmpint(vnest_iommufd_ioctl(f->be, IOMMU_IOAS_ALLOC, &ioas),
                    ==, 0);
    f->ioas_id = ioas.out_ioas_id;
}

static void teardown(Fixture *f)
{
    struct iommu_destroy cmd = { .size = sizeof(cmd), .id = f->ioas_id };
    EmuStats st;

    g_assert_cmpint(vnest_iommufd_ioctl(f->be, IOMMU_DESTROY, &cmd), ==, 0);
    emu_vfio_close(f->vfio);
    /* Every object a test made, it destroyed: nothing leaks. */
    emu_host_stats(vnest_iommufd_emu_host(f->be), &st);
    g_assert_cmpuint(st.objects, ==, 0);
    vnest_iommufd_emu_disconnect(f->be);
    g_assert_null(vnest_iommufd_emu_host(f->be));
    object_unref(OBJECT(f->be));
}

static uint32_t hwpt_alloc(Fixture *f, uint32_t pt_id, uint32_t flags,
                           uint32_t data_type, void *data, uint32_t len)
{
    struct iommu_hwpt_alloc cmd = {
        .size = sizeof(cmd),
        .flags = flags,
        .dev_id = f->dev_id,
        .pt_id = pt_id,
        .data_type = data_type,
        .data_len = len,
        .data_uptr = (uintptr_t)data,
    };

    g_assert_cmpint(vnest_iommufd_ioctl(f->be, IOMMU_HWPT_ALLOC, &cmd),
                    ==, 0);
    return cmd.out_hwpt_id;
}

static uint32_t nest_parent(Fixture *f)
{
    return hwpt_alloc(f, f->ioas_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
                      IOMMU_HWPT_DATA_NONE, NULL, 0);
}

static void destroy(Fixture *f, uint32_t id)
{
    struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

    g_assert_cmpint(vnest_iommufd_ioctl(f->be, IOMMU_DESTROY, &cmd), ==, 0);
}

static void test_hw_info(void)
{
    Fixture f;
    VNestHwInfo info;
    Error *err = NULL;

    setup(&f, "vtd");
    g_assert_true(vnest_iommufd_get_hw_info(f.be, f.dev_id, &info,
                                            &error_abort));
    g_assert_cmpuint(info.type, ==, IOMMU_HW_INFO_TYPE_INTEL_VTD);
    g_assert_cmpuint(info.max_pasid_log2, ==, 20);
    g_assert_true(info.caps & IOMMU_HW_CAP_DIRTY_TRACKING);
    /* CAP_REG.MGAW: 48-bit paging, the emulated VT-d's default */
    g_assert_cmpuint(((info.data.vtd.cap_reg >> 16) & 0x3f) + 1, ==, 48);

    g_assert_false(vnest_iommufd_get_hw_info(f.be, f.dev_id + 100, &info,
                                             &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "IOMMU_GET_HW_INFO"));
    error_free(err);
    teardown(&f);
}

static void test_invalidate(void)
{
    struct iommu_hwpt_vtd_s1 s1 = {
        .pgtbl_addr = 0x100000,
        .addr_width = 48,
    };
    struct iommu_hwpt_vtd_s1_invalidate inv[3] = {
        { .addr = 0x1000, .npages = 1 },
        { .addr = 0x2000, .npages = 2, .flags = IOMMU_VTD_INV_FLAGS_LEAF },
        { .addr = 0, .npages = UINT64_MAX },
    };
    Fixture f;
    uint32_t parent, nested, n;

    setup(&f, "vtd");
    parent = nest_parent(&f);
    nested = hwpt_alloc(&f, parent, 0, IOMMU_HWPT_DATA_VTD_S1, &s1,
                        sizeof(s1));
    n = 3;
    g_assert_cmpint(vnest_iommufd_invalidate(f.be, nested,
                                             IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                                             sizeof(inv[0]), &n, inv),
                    ==, 0);
    g_assert_cmpuint(n, ==, 3);

    /* The second entry is refused: one handled, reported back. */
    inv[1].flags = 0x80;
    n = 3;
    g_assert_cmpint(vnest_iommufd_invalidate(f.be, nested,
                                             IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                                             sizeof(inv[0]), &n, inv),
                    ==, -EOPNOTSUPP);
    g_assert_cmpuint(n, ==, 1);

    /* A stage-2 (the parent) takes no invalidation: none handled. */
    n = 1;
    g_assert_cmpint(vnest_iommufd_invalidate(f.be, parent,
                                             IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                                             sizeof(inv[0]), &n, inv),
                    <, 0);
    g_assert_cmpuint(n, ==, 0);

    destroy(&f, nested);
    destroy(&f, parent);
    teardown(&f);
}

static void test_viommu_objects(void)
{
    Fixture f;
    uint32_t parent, viommu, vdev, veventq, fault;
    int veventq_fd, fault_fd;
    uint8_t buf[256];
    Error *err = NULL;

    setup(&f, "smmuv3");
    parent = nest_parent(&f);
    g_assert_true(vnest_iommufd_alloc_viommu(f.be, f.dev_id,
                                             IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                                             parent, NULL, 0, &viommu,
                                             &error_abort));
    g_assert_true(vnest_iommufd_alloc_vdevice(f.be, viommu, f.dev_id, 0x42,
                                              &vdev, &error_abort));
    /* One vDEVICE per device: the second is refused, and says why. */
    g_assert_false(vnest_iommufd_alloc_vdevice(f.be, viommu, f.dev_id, 0x43,
                                               &vdev, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "vDEVICE"));
    error_free(err);
    err = NULL;

    g_assert_true(vnest_iommufd_alloc_veventq(f.be, viommu,
                                              IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                                              64, &veventq, &veventq_fd,
                                              &error_abort));
    g_assert_false(vnest_iommufd_alloc_veventq(f.be, viommu,
                                               IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                                               64, &veventq, &veventq_fd,
                                               &err));
    error_free(err);
    /* Empty: nothing to read, from the emulated queue, not the fd */
    g_assert_cmpint(vnest_iommufd_fd_read(f.be, veventq_fd, buf,
                                          sizeof(buf)), ==, 0);

    g_assert_true(vnest_iommufd_alloc_fault_queue(f.be, &fault, &fault_fd,
                                                  &error_abort));
    g_assert_true(emu_ctx_owns_fd(vnest_iommufd_emu_ctx(f.be), fault_fd));
    /*
     * Refusals only the emulated queues give (a pipe or file would take
     * the bytes): a partial page response, a write to a vEVENTQ.
     */
    g_assert_cmpint(vnest_iommufd_fd_write(f.be, fault_fd, buf, 1), ==, -1);
    g_assert_cmpint(errno, ==, ESPIPE);
    g_assert_cmpint(vnest_iommufd_fd_write(f.be, veventq_fd, buf, 8), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);

    vnest_iommufd_fd_close(f.be, fault_fd);
    g_assert_false(emu_ctx_owns_fd(vnest_iommufd_emu_ctx(f.be), fault_fd));
    vnest_iommufd_fd_close(f.be, veventq_fd);
    g_assert_false(emu_ctx_owns_fd(vnest_iommufd_emu_ctx(f.be), veventq_fd));
    destroy(&f, fault);
    destroy(&f, veventq);
    destroy(&f, vdev);
    destroy(&f, viommu);
    destroy(&f, parent);
    teardown(&f);
}

/* A file the emulated host did not return goes to the system calls. */
static void test_kernel_fd(void)
{
    Fixture f;
    char buf[4];
    int p[2];

    setup(&f, "vtd");
    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(vnest_iommufd_fd_write(f.be, p[1], "abc", 3), ==, 3);
    g_assert_cmpint(vnest_iommufd_fd_read(f.be, p[0], buf, sizeof(buf)),
                    ==, 3);
    g_assert_cmpmem(buf, 3, "abc", 3);
    vnest_iommufd_fd_close(f.be, p[0]);
    vnest_iommufd_fd_close(f.be, p[1]);
    g_assert_cmpint(fcntl(p[0], F_GETFD), ==, -1);
    g_assert_cmpint(errno, ==, EBADF);
    teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    module_call_init(MODULE_INIT_QOM);
    type_register_static(&be_info);
    g_test_add_func("/vnest/iommufd-nest/hw-info", test_hw_info);
    g_test_add_func("/vnest/iommufd-nest/invalidate", test_invalidate);
    g_test_add_func("/vnest/iommufd-nest/viommu-objects",
                    test_viommu_objects);
    g_test_add_func("/vnest/iommufd-nest/kernel-fd", test_kernel_fd);
    return g_test_run();
}
