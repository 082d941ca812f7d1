/*
 * VNest: the emulated mode of QEMU's iommufd backend object
 *
 * -object iommufd,id=ID[,emulated=on|off|auto][,host-iommu=vtd|smmuv3|paging]
 *                    [,host-nesting=on|off]
 *
 * With emulated=on (or auto on a machine without /dev/iommu) the backend
 * talks to VNest's in-process emulated host IOMMU instead of the kernel.
 * Every iommufd ioctl QEMU issues goes through vnest_iommufd_ioctl(), so
 * QEMU builds exactly the same structs for the kernel and for the model.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_IOMMUFD_EMULATED_H
#define VNEST_IOMMUFD_EMULATED_H

#include "system/iommufd.h"

typedef struct EmuHost EmuHost;
typedef struct EmuCtx EmuCtx;
typedef struct EmuIommu EmuIommu;

/* Hooks called from backends/iommufd.c (hook patch 0002). */
void vnest_iommufd_class_init(ObjectClass *oc);
bool vnest_iommufd_emulated(IOMMUFDBackend *be);
bool vnest_iommufd_emu_connect(IOMMUFDBackend *be, Error **errp);
void vnest_iommufd_emu_disconnect(IOMMUFDBackend *be);
/* The backend's single dispatch point: kernel or emulated host. */
int vnest_iommufd_ioctl(IOMMUFDBackend *be, unsigned long cmd, void *arg);

/* For simulated assignment: the emulated host behind a connected backend */
EmuHost *vnest_iommufd_emu_host(IOMMUFDBackend *be);
EmuIommu *vnest_iommufd_emu_iommu(IOMMUFDBackend *be);
EmuCtx *vnest_iommufd_emu_ctx(IOMMUFDBackend *be);

#endif
