/*
 * VNest: s390 zPCI over iommufd (hooks from hw/s390x/, hook patch 0012)
 *
 * A zPCI function whose PCI device is assigned through iommufd (vfio-pci
 * with iommufd=, or vnest-sim-assign) hands its host side to the zPCI
 * bus through PCIIOMMUOps.set_iommu_device. Its RPCITs are then not
 * turned into one IOMMU notifier event per page: hw/zpci-iommufd/ walks
 * the refreshed range of the guest's DMA tables and brings the device's
 * IOAS in line with one IOMMU_IOAS_MAP per contiguous run and one
 * IOMMU_IOAS_UNMAP per group of vanished runs (docs/s390-zpci-iommufd.rst).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_ZPCI_IOMMUFD_H
#define VNEST_ZPCI_IOMMUFD_H

#include "system/host_iommu_device.h"

typedef struct S390PCIIOMMU S390PCIIOMMU;
typedef struct S390PCIBusDevice S390PCIBusDevice;
typedef struct VNestZpci VNestZpci;

/*
 * PCIIOMMUOps.set_iommu_device / unset_iommu_device of the zPCI bus:
 * remember the host side of the device behind @iommu if it is assigned
 * through iommufd (anything else keeps QEMU's per-page path).
 */
bool vnest_zpci_set_host_dev(S390PCIIOMMU *iommu, HostIOMMUDevice *hiod,
                             Error **errp);
void vnest_zpci_unset_host_dev(S390PCIIOMMU *iommu);

/*
 * rpcit_service_call(), once the function handle and state are checked:
 * refresh [@start, @end) of @pbdev. Returns false to leave the refresh to
 * QEMU's own path; true if done here, with the condition code in *@cc
 * and, if *@cc is not 0, the status for the first operand in *@status.
 */
bool vnest_zpci_rpcit(S390PCIBusDevice *pbdev, uint64_t start, uint64_t end,
                      uint8_t *cc, uint8_t *status);

/*
 * s390_pci_iommu_enable(): the IOMMU region is in place (registration
 * with translation). With x-rpcit-per-page=on, count the notifier events
 * QEMU's path sends, one host call each.
 */
void vnest_zpci_iommu_enable(S390PCIIOMMU *iommu);
/*
 * s390_pci_iommu_disable() (deregistration, reregistration, function
 * disable and reset): the function's mappings leave the IOAS.
 */
void vnest_zpci_iommu_disable(S390PCIIOMMU *iommu);
/* s390_pci_iommu_free() (unplug): forget the host side. */
void vnest_zpci_iommu_free(S390PCIIOMMU *iommu);

/* s390_pci_device_class_init(): the zpci device's x- properties. */
void vnest_zpci_device_class_init(ObjectClass *oc);

#endif
