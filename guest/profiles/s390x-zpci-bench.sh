# Guest profile for `make bench` (scripts/bench-guest-zpci.sh): the
# s390x-zpci machine (NVMe behind zpci, assigned through the emulated
# iommufd) reading its disk in VNEST_BS blocks with O_DIRECT
# (guest/tests/nvme-seqread.sh). VNEST_BENCH_ZPCI: more zpci options
# (comma-separated), e.g. x-rpcit-per-page=on for QEMU 10.0's one host
# call per page.
. "$(dirname "${BASH_SOURCE[0]}")/s390x-zpci.sh"
PROFILE_DESC="s390x s390-ccw-virtio + zpci${VNEST_BENCH_ZPCI:+,$VNEST_BENCH_ZPCI} + NVMe assigned through the emulated iommufd, O_DIRECT reads"
PROFILE_TEST=nvme-seqread
# The reads between the workload's two sentinel reads (the 4 KiB block at
# 2 * VNEST_MIB MiB, in 512-byte LBAs), counted in QEMU's trace (lines
# carry timestamps: -msg timestamp=on). Host calls are the zPCI module's
# (runs) or the listener's, one per IOMMU notifier event (per page).
bench_window="pci_nvme_read .* lba $(printf 0x%x $(( ${VNEST_MIB:-16} * 4096 )))\$"
bench_window="after=$bench_window:until=$bench_window"
PROFILE_COUNT=(
    "NVMe reads:pci_nvme_read:$bench_window"
    "RPCITs:vnest_zpci_rpcit+vnest_zpci_rpcit_per_page:$bench_window"
    "IOAS maps:vnest_zpci_map+vnest_sim_assign_map:$bench_window"
    "IOAS unmaps:vnest_zpci_unmap+vnest_sim_assign_unmap:$bench_window"
    "mapped bytes:vnest_zpci_map+vnest_sim_assign_map:size:$bench_window"
    "failed calls:vnest_zpci_map+vnest_zpci_unmap+vnest_sim_assign_map+vnest_sim_assign_unmap:match=ret=-:expect=0"
    "error events:vnest_zpci_error:expect=0"
    "window seconds:pci_nvme_read:span:$bench_window"
)
profile_qemu_args() {
    # $1: disk image
    echo -M s390-ccw-virtio -cpu max -accel tcg -m 512 -smp 1 -nodefaults \
        -msg timestamp=on \
        -object iommufd,id=emu0,emulated=on,host-iommu=paging \
        -object vnest-sim-assign,id=sa0,iommufd=emu0,device=nvme0 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device zpci,uid=1,fid=1,target=nvme0${VNEST_BENCH_ZPCI:+,$VNEST_BENCH_ZPCI} \
        -device nvme,id=nvme0,serial=vnest0,drive=disk0
}
