/*
 * VNest qtest helpers shared by every VNest qtest: QOM properties
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_VNEST_QTEST_H
#define VNEST_TESTS_VNEST_QTEST_H

#include "tests/qtest/libqtest.h"

/* qom-get of an integer / string property; the call must succeed. */
uint64_t vnest_qom_get_uint(QTestState *qts, const char *path,
                            const char *prop);
char *vnest_qom_get_str(QTestState *qts, const char *path, const char *prop);
/* qom-set of an integer property; the call must succeed. */
void vnest_qom_set_uint(QTestState *qts, const char *path, const char *prop,
                        uint64_t value);

/*
 * The QOM path of the one child of @parent whose type is @type (e.g.
 * "arm-smmuv3" under "/machine/unattached"); the child must exist. g_free.
 */
char *vnest_qom_find_child(QTestState *qts, const char *parent,
                           const char *type);

/*
 * Run QEMU (QTEST_QEMU_BINARY) on its own, outside libqtest, for runs
 * that may end at startup: @args (shell words) plus "-display none -S
 * -qmp stdio", with @qmp (QMP commands, one per line, after
 * qmp_capabilities; end with quit) on its stdin. Returns the wait status;
 * *@out and *@err get QEMU's output (g_free them).
 */
int vnest_run_qemu(const char *args, const char *qmp, char **out,
                   char **err);

#endif
