/*
 * VNest qtest helpers shared by every VNest qtest: QOM properties
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "vnest-qtest.h"

static QDict *qom_get(QTestState *qts, const char *path, const char *prop)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments':"
                           " { 'path': %s, 'property': %s } }", path, prop);

    g_assert(qdict_haskey(rsp, "return"));
    return rsp;
}

uint64_t vnest_qom_get_uint(QTestState *qts, const char *path,
                            const char *prop)
{
    QDict *rsp = qom_get(qts, path, prop);
    uint64_t v = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return v;
}

char *vnest_qom_get_str(QTestState *qts, const char *path, const char *prop)
{
    QDict *rsp = qom_get(qts, path, prop);
    char *v = g_strdup(qdict_get_str(rsp, "return"));

    qobject_unref(rsp);
    return v;
}

void vnest_qom_set_uint(QTestState *qts, const char *path, const char *prop,
                        uint64_t value)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-set', 'arguments':"
                           " { 'path': %s, 'property': %s, 'value': %"
                           PRIu64 " } }", path, prop, value);

    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}
