# VNest device set for qemu-system-aarch64: the virt board with SMMUv3,
# and pxb-pcie for more PCIe root buses (an arm-smmuv3 each; pxb-pcie
# links against CXL, which links against the CXL memory device).
# On top of QEMU's default device set for the target (what Debian's
# qemu-system-* has), so libvirt's default domains and external test
# suites find the devices they expect. The lines below keep VNest's own
# needs explicit, should the defaults change.
include default.mak
CONFIG_ARM_VIRT=y
CONFIG_ARM_SMMUV3=y
CONFIG_PCIE_PORT=y
CONFIG_PXB=y
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
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
