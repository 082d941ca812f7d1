/*
 * VNest qtest helpers shared by every VNest qtest: QOM properties
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
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

char *vnest_qom_find_child(QTestState *qts, const char *parent,
                           const char *type)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-list', 'arguments':"
                           " { 'path': %s } }", parent);
    g_autofree char *child = g_strdup_printf("child<%s>", type);
    QList *l = qdict_get_qlist(rsp, "return");
    QListEntry *e;
    char *path = NULL;

    QLIST_FOREACH_ENTRY(l, e) {
        QDict *p = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(p, "type"), child)) {
            g_assert_null(path);
            path = g_strdup_printf("%s/%s", parent, qdict_get_str(p, "name"));
        }
    }
    qobject_unref(rsp);
    g_assert_nonnull(path);
    return path;
}

int vnest_run_qemu(const char *args, const char *qmp, char **out,
                   char **err)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *script = NULL;
    g_auto(GStrv) env = g_get_environ();
    GError *gerr = NULL;
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", NULL, NULL };
    int status;

    g_assert(qemu);
    env = g_environ_setenv(env, "VNEST_QMP", qmp, true);
    env = g_environ_setenv(env, "VNEST_QEMU", qemu, true);
    /* QMP in on stdin; the commands wait for the greeting's handshake */
    script = g_strdup_printf("{ echo '{\"execute\": \"qmp_capabilities\"}';"
                             " printf '%%s\\n' \"$VNEST_QMP\"; } | "
                             "exec \"$VNEST_QEMU\" %s -display none -S "
                             "-qmp stdio", args);
    argv[2] = script;
    if (!g_spawn_sync(NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status,
                      &gerr)) {
        g_error("cannot run %s: %s", qemu, gerr->message);
    }
    return status;
}
