# Guest profile for `make bench` (scripts/bench-guest-smmu.sh): the
# aarch64-smmu-nest machine (arm-smmuv3,accel=on, NVMe assigned through the
# emulated iommufd) reading its disk in VNEST_BS blocks with O_DIRECT
# (guest/tests/nvme-seqread.sh). VNEST_BENCH_SMMU: more arm-smmuv3
# options (-global arm-smmuv3.OPTION=VALUE, comma-separated), e.g.
# x-inv-per-cmd=on for upstream's one host call per command.
. "$(dirname "${BASH_SOURCE[0]}")/aarch64-smmu.sh"
PROFILE_DESC="aarch64 virt + arm-smmuv3,accel=on${VNEST_BENCH_SMMU:+,$VNEST_BENCH_SMMU} + NVMe assigned through the emulated iommufd, O_DIRECT reads"
PROFILE_TEST=nvme-seqread
# The reads between the workload's two sentinel reads (the 4 KiB block at
# 2 * VNEST_MIB MiB, in 512-byte LBAs), counted in QEMU's trace (lines
# carry timestamps: -msg timestamp=on).
bench_window="pci_nvme_read .* lba $(printf 0x%x $(( ${VNEST_MIB:-16} * 4096 )))\$"
bench_window="after=$bench_window:until=$bench_window"
PROFILE_COUNT=(
    "NVMe reads:pci_nvme_read:$bench_window"
    "guest commands:smmuv3_cmdq_opcode:match=<--- SMMU_CMD_(TLBI|CFGI|ATC|PREFETCH):$bench_window"
    "guest CMD_SYNCs:smmuv3_cmdq_opcode:match=<--- SMMU_CMD_SYNC:$bench_window"
    "STE changes:vnest_smmu_ste:$bench_window"
    "invalidate calls:vnest_smmu_inv_send:$bench_window"
    "invalidate entries:vnest_smmu_inv_send:commands:$bench_window"
    "IOAS maps:vnest_sim_assign_map:$bench_window"
    "IOAS unmaps:vnest_sim_assign_unmap:$bench_window"
    "window seconds:pci_nvme_read:span:$bench_window"
)
profile_qemu_args() {
    # $1: disk image
    local g opts=()
    for g in $(echo "${VNEST_BENCH_SMMU:-}" | tr , ' '); do
        opts+=(-global "arm-smmuv3.$g")
    done
    echo -M virt,gic-version=3,iommu=smmuv3 -cpu max -accel tcg -m 512 -smp 1 \
        -global arm-smmuv3.accel=on "${opts[@]}" -msg timestamp=on \
        -object iommufd,id=emu0,host-iommu=smmuv3 \
        -object vnest-sim-assign,id=sa0,iommufd=emu0,device=nvme0 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device nvme,id=nvme0,serial=vnest0,drive=disk0
}
