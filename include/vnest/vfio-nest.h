/*
 * VNest: what vfio-pci's iommufd container asks VNest (hook patch 0005)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_VFIO_NEST_H
#define VNEST_VFIO_NEST_H

#include "exec/memory.h"
#include "hw/vfio/vfio-common.h"

/*
 * The container's default HWPT was allocated with @flags: a nest parent
 * on a host with VT-d erratum 772415 (SPR17) must not map read-only
 * sections, so the container's listener skips them from now on.
 */
void vnest_vfio_hwpt_allocated(VFIODevice *vbasedev,
                               VFIOContainerBase *bcontainer, uint32_t flags);
/* The container's listener must not map (or unmap) @section. */
bool vnest_vfio_skip_section(VFIOContainerBase *bcontainer,
                             MemoryRegionSection *section);
void vnest_vfio_container_gone(VFIOContainerBase *bcontainer);

#endif
