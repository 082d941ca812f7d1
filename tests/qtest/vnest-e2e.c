/*
 * VNest qtests: one nesting scenario, on the emulated host or a real kernel
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqtest.h"
#include "vnest-e2e.h"

char *vnest_e2e_args(const char *hw, const char *addr, const char *events)
{
    const char *sysfs = g_getenv("VNEST_E2E_SYSFSDEV");
    const char *trace = g_getenv("VNEST_E2E_TRACE");
    g_autofree char *host = NULL;
    g_autofree char *tr_str = NULL;
    GString *tr = g_string_new("");

    if (sysfs) {
        host = g_strdup_printf("-object iommufd,id=if0 "
                               "-device vfio-pci,id=dma0,%s,sysfsdev=%s,"
                               "iommufd=if0", addr, sysfs);
    } else {
        host = g_strdup_printf("-object iommufd,id=if0,emulated=on,"
                               "host-iommu=%s "
                               "-object vnest-sim-assign,id=sa0,iommufd=if0,"
                               "device=dma0 "
                               "-device vnest-dma-test,id=dma0,%s", hw, addr);
    }
    if (trace) {
        g_auto(GStrv) ev = g_strsplit(events, ",", -1);
        int i;

        for (i = 0; ev[i]; i++) {
            g_string_append_printf(tr, "-trace enable=%s ", ev[i]);
        }
        g_string_append_printf(tr, "-D %s", trace);
    }
    tr_str = g_string_free(tr, false);
    return g_strdup_printf("%s %s", host, tr_str);
}

FILE *vnest_e2e_log_open(void)
{
    const char *path = g_getenv("VNEST_E2E_LOG");
    FILE *log = path ? fopen(path, "w") : NULL;

    g_assert(!path || log);
    return log;
}

void vnest_e2e_log_close(FILE *log)
{
    if (log) {
        fprintf(log, "done\n");
        fclose(log);
    }
}

void vnest_e2e_step(FILE *log, const char *name, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_test_message("%s: %s", name, msg);
    if (log) {
        fprintf(log, "%s: %s\n", name, msg);
        fflush(log);
    }
}

void vnest_e2e_fill(QTestState *qts, uint64_t gpa, uint8_t seed)
{
    uint8_t buf[VNEST_E2E_LEN];

    dmadev_pattern(buf, VNEST_E2E_LEN, seed);
    qtest_memwrite(qts, gpa, buf, VNEST_E2E_LEN);
}

void vnest_e2e_reads(FILE *log, DmaTestDev *dev, const char *name,
                     uint64_t iova, int want)
{
    int seen = dmadev_read_first(dev, DMADEV_NO_PASID, iova, VNEST_E2E_LEN);

    vnest_e2e_step(log, name, "read=0x%x", seen);
    g_assert_cmphex(seen, ==, want);
}

void vnest_e2e_write_lands(FILE *log, DmaTestDev *dev, uint64_t iova,
                           uint64_t gpa)
{
    bool landed;
    uint32_t st = dmadev_write_pattern(dev, DMADEV_NO_PASID, iova, gpa,
                                       VNEST_E2E_LEN, 0x5b, &landed);

    vnest_e2e_step(log, "dma-write", "status=0x%x landed=%d", st, landed);
    g_assert_true(landed);
}
