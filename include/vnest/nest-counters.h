/*
 * VNest: the x-nest-* counters of the nest modules, as QOM properties
 *
 * Each nest module keeps uint64_t counters in a struct it finds from its
 * vIOMMU object; a table of VNestCounter names them, and one call adds a
 * read-only uint64 property for each (backends/nest-counters.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_NEST_COUNTERS_H
#define VNEST_NEST_COUNTERS_H

#include "qom/object.h"

typedef struct VNestCounter {
    const char *name;
    const char *desc;
    size_t offset;                  /* of the uint64_t in what @stats gives */
    void *(*stats)(Object *obj);    /* the counters' struct of @obj */
} VNestCounter;

/* "x-nest-FIELD", the uint64_t FIELD of TYPE, which @stats returns */
#define VNEST_COUNTER(stats_fn, type, field, description) \
    { .name = "x-nest-" #field, .desc = (description), \
      .offset = offsetof(type, field), .stats = (stats_fn) }

void vnest_add_counters(ObjectClass *klass, const VNestCounter *counters,
                        size_t n);

#endif
