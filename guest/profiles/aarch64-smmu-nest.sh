# Guest profile: the aarch64-smmu machine with its NVMe disk assigned
# through VNest's emulated iommufd (host-iommu=smmuv3), and arm-smmuv3
# NESTING (accel=on): the guest's STE becomes a nested HWPT on a host
# vIOMMU, the emulated host's SMMUv3 walks the guest's CD and stage-1
# tables through the nest parent (guest RAM, mapped once at machine init),
# and the guest's commands reach the host as one IOMMU_HWPT_INVALIDATE per
# CMD_SYNC batch, never as IOAS maps.
. "$(dirname "${BASH_SOURCE[0]}")/aarch64-smmu.sh"
PROFILE_DESC="aarch64 virt + arm-smmuv3,accel=on (stage 1 nested) + NVMe assigned through the emulated iommufd"
# QEMU trace events the report counts (guest/trace-count.sh); a healthy
# guest makes no event of either kind (Linux logs "event 0x.. received").
PROFILE_COUNT=(
    "vIOMMUs:vnest_smmu_viommu"
    "vDEVICEs:vnest_smmu_plug"
    "nested HWPTs (STE changes):vnest_smmu_ste"
    "invalidation calls:vnest_smmu_inv_send"
    "commands in them:vnest_smmu_inv_send:commands"
    "IOAS maps at init:vnest_sim_assign_map:until=pci_nvme_io_cmd"
    "IOAS maps after boot:vnest_sim_assign_map:after=pci_nvme_io_cmd:expect=0"
    "IOAS unmaps after boot:vnest_sim_assign_unmap:after=pci_nvme_io_cmd:expect=0"
    "bad-STE events to the guest:vnest_smmu_bad_ste:expect=0"
    "host events to the guest:vnest_smmu_event:expect=0"
)
profile_qemu_args() {
    # $1: disk image
    echo -M virt,gic-version=3,iommu=smmuv3 -cpu max -accel tcg -m 512 -smp 1 \
        -global arm-smmuv3.accel=on \
        -object iommufd,id=emu0,host-iommu=smmuv3 \
        -object vnest-sim-assign,id=sa0,iommufd=emu0,device=nvme0 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device nvme,id=nvme0,serial=vnest0,drive=disk0
}
