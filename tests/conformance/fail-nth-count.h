/*
 * VNest: count the failure points Linux's iommufd_fail_nth selftest
 * sweeps, on the real kernel and on the emulated host alike
 *
 * Force-included (gcc -include) when scripts/fail-nth-density.sh builds
 * the unmodified selftest source. The harness arms each iteration by
 * writing its number to /proc/self/task/TID/fail-nth; this wraps pwrite()
 * to print that number as a TAP comment ("# vnest-fail-nth: N") before
 * the write. The last number printed inside a test is how many failure
 * points that test's sweep went through before an operation succeeded
 * with no failure left to inject.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_FAIL_NTH_COUNT_H
#define VNEST_FAIL_NTH_COUNT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline ssize_t vnest_counting_pwrite(int fd, const void *buf,
                                            size_t len, off_t off)
{
    char num[24];

    if (len && len < sizeof(num)) {
        memcpy(num, buf, len);
        num[len] = 0;
        if (strcmp(num, "0")) {
            printf("# vnest-fail-nth: %s\n", num);
            fflush(stdout);
        }
    }
    return pwrite(fd, buf, len, off);
}

#define pwrite vnest_counting_pwrite

#endif
