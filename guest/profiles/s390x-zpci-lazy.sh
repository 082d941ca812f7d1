# Guest profile: s390x-zpci in lazy mode (iommu.strict=0, Debian's s390x
# default): the guest unmaps without an RPCIT and refreshes the whole
# aperture when it reuses IOVAs (s390-iommu's flush of everything), so
# hw/zpci-iommufd/ sees few, wide RPCITs and skips the empty parts of the
# guest's tables in one step each.
. "$(dirname "${BASH_SOURCE[0]}")/s390x-zpci.sh"
PROFILE_DESC="s390x s390-ccw-virtio + zpci (RPCIT over iommufd, lazy) + NVMe assigned through the emulated iommufd"
PROFILE_CMDLINE="iommu.passthrough=0 iommu.strict=0"
