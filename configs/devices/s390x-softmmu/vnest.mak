# VNest device set for qemu-system-s390x: s390-ccw-virtio with zPCI.
# On top of QEMU's default device set for the target (what Debian's
# qemu-system-* has), so libvirt's default domains and external test
# suites find the devices they expect. The lines below keep VNest's own
# needs explicit, should the defaults change.
include default.mak
CONFIG_S390_CCW_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_CCW=y
CONFIG_NVME_PCI=y
CONFIG_E1000E_PCI_EXPRESS=y
CONFIG_VFIO_PCI=y
CONFIG_IOMMUFD=y
CONFIG_EDU=y
CONFIG_PCI_TESTDEV=y
