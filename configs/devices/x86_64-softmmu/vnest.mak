# VNest device set for qemu-system-x86_64: q35 with intel-iommu and the PCI
# devices nesting work assigns or uses as DMA sources.
# On top of QEMU's default device set for the target (what Debian's
# qemu-system-* has), so libvirt's default domains and external test
# suites find the devices they expect. The lines below keep VNest's own
# needs explicit, should the defaults change.
include default.mak
CONFIG_Q35=y
# The pc machine too: libqos runs its PCI device tests (qos-test) on pc.
CONFIG_I440FX=y
CONFIG_VTD=y
CONFIG_PCIE_PORT=y
# Devices behind a PCIe-to-PCI bridge share its requester ID (nesting test).
CONFIG_PCIE_PCI_BRIDGE=y
CONFIG_PCI_BRIDGE=y
CONFIG_NVME_PCI=y
CONFIG_E1000E_PCI_EXPRESS=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_NET=y
CONFIG_VIRTIO_RNG=y
CONFIG_VFIO_PCI=y
CONFIG_IOMMUFD=y
CONFIG_EDU=y
CONFIG_PCI_TESTDEV=y
CONFIG_ISA_TESTDEV=y
