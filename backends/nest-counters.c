/*
 * VNest: the x-nest-* counters of the nest modules, as QOM properties
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/visitor.h"
#include "vnest/nest-counters.h"

static void get_counter(Object *obj, Visitor *v, const char *name,
                        void *opaque, Error **errp)
{
    const VNestCounter *c = opaque;
    uint64_t value = *(uint64_t *)((char *)c->stats(obj) + c->offset);

    visit_type_uint64(v, name, &value, errp);
}

void vnest_add_counters(ObjectClass *klass, const VNestCounter *counters,
                        size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        object_class_property_add(klass, counters[i].name, "uint64",
                                  get_counter, NULL, NULL,
                                  (void *)&counters[i]);
        object_class_property_set_description(klass, counters[i].name,
                                              counters[i].desc);
    }
}
