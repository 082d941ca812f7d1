# Guest profile: the x86_64-vtd machine with its NVMe disk assigned through
# VNest's emulated iommufd, and intel-iommu NESTING: the guest's first-stage
# tables are walked by the emulated host IOMMU through a nested HWPT over
# the device's nest-parent HWPT. The parent's IOAS holds guest RAM, mapped
# once at machine init; the guest's own maps and unmaps reach the host only
# as invalidations (one IOMMU_HWPT_INVALIDATE per guest submission and
# nested HWPT), never as IOAS maps.
. "$(dirname "${BASH_SOURCE[0]}")/x86_64-vtd.sh"
PROFILE_DESC="x86_64 q35 + intel-iommu (scalable, first-stage nested, caching mode) + NVMe assigned through the emulated iommufd"
# no_timer_check: on a busy host, TCG can miss the boot-time IO-APIC timer
# check, which panics with interrupt remapping on (seen in a bench run).
PROFILE_CMDLINE="$PROFILE_CMDLINE no_timer_check"
# QEMU trace events the report counts (see guest/trace-count.sh): the host
# objects and calls of the nest module, and the IOAS maps and unmaps once
# the guest has started doing I/O (its first NVMe I/O command); none may
# happen in nested mode.
PROFILE_COUNT=(
    "nested HWPTs allocated:vnest_vtd_hwpt_alloc"
    "invalidation calls:vnest_vtd_inv_send"
    "invalidation entries:vnest_vtd_inv_send:entries"
    "IOAS maps at init:vnest_sim_assign_map:until=pci_nvme_io_cmd"
    "IOAS maps after boot:vnest_sim_assign_map:after=pci_nvme_io_cmd:expect=0"
    "IOAS unmaps after boot:vnest_sim_assign_unmap:after=pci_nvme_io_cmd:expect=0"
)
profile_qemu_args() {
    # $1: disk image
    echo -M q35 -accel tcg -m 512 -smp 1 -bios qboot.rom -vga none \
        -device intel-iommu,x-scalable-mode=on,x-flts=on,caching-mode=on \
        -object iommufd,id=emu0 \
        -object vnest-sim-assign,id=sa0,iommufd=emu0,device=nvme0 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device nvme,id=nvme0,serial=vnest0,drive=disk0
}
