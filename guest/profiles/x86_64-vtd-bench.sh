# Guest profile for `make bench` (scripts/bench-guest.sh): the x86_64-vtd
# machine with its NVMe disk assigned through VNest's emulated iommufd,
# running 4 KiB random reads (guest/tests/nvme-randread.sh). The
# intel-iommu options come from VNEST_BENCH_IOMMU (default: nesting), so
# one profile runs nested, shadow and per-descriptor modes; the kernel's
# iommu.strict from VNEST_APPEND (a later parameter wins).
# VNEST_BENCH_DEVICES=2: two NVMe controllers, functions 0 and 1 of one
# slot, each assigned through the emulated iommufd. Without ACS, Linux
# puts the functions of a multifunction device in one IOMMU group, so
# they share one DMA domain (one set of guest tables and invalidations).
. "$(dirname "${BASH_SOURCE[0]}")/x86_64-vtd.sh"
PROFILE_DESC="x86_64 q35 + intel-iommu (${VNEST_BENCH_IOMMU:=x-scalable-mode=on,x-flts=on,caching-mode=on}) + NVMe assigned through the emulated iommufd, random reads"
PROFILE_TEST=nvme-randread
PROFILE_CMDLINE="$PROFILE_CMDLINE VNEST_DEVICES=${VNEST_BENCH_DEVICES:=1}"
# no_timer_check: on a busy host, TCG can miss the boot-time IO-APIC timer
# check, which panics with interrupt remapping on (seen in a bench run).
PROFILE_CMDLINE="$PROFILE_CMDLINE no_timer_check"
# The reads between the workload's two sentinel reads (and the host time
# between them: trace lines carry a timestamp, -msg timestamp=on) (the block at
# 2 * VNEST_MIB MiB, in 512-byte LBAs), counted in QEMU's trace.
bench_window="pci_nvme_read .* lba $(printf 0x%x $(( ${VNEST_MIB:-16} * 4096 )))\$"
bench_window="after=$bench_window:until=$bench_window"
PROFILE_COUNT=(
    "NVMe reads:pci_nvme_read:$bench_window"
    "guest submissions (tail writes):vtd_inv_qi_tail:$bench_window"
    "guest IOTLB descriptors:vtd_inv_desc:match=type (p-)?iotlb :$bench_window"
    "nested HWPT allocs:vnest_vtd_hwpt_alloc:$bench_window"
    "host attaches:vnest_host_dev_attach:$bench_window"
    "invalidate calls:vnest_vtd_inv_send:$bench_window"
    "invalidate entries:vnest_vtd_inv_send:entries:$bench_window"
    "IOAS maps:vnest_sim_assign_map:$bench_window"
    "IOAS unmaps:vnest_sim_assign_unmap:$bench_window"
    "window seconds:pci_nvme_read:span:$bench_window"
)
profile_prepare() {
    gcc -O2 -static -Wall -Werror "$VNEST_ROOT/guest/bin/randread.c" \
        -o "$WORK/randread" || die "cannot build guest/bin/randread.c"
    PROFILE_FILES=("$WORK/randread:/vnest/bin/randread")
}
profile_qemu_args() {
    # $1: disk image (a second controller gets an image beside it)
    echo -M q35 -accel tcg -m 512 -smp 1 -bios qboot.rom -vga none \
        -device "intel-iommu,$VNEST_BENCH_IOMMU" \
        -object iommufd,id=emu0 -msg timestamp=on \
        -object vnest-sim-assign,id=sa0,iommufd=emu0,device=nvme0 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe
    if [ "$VNEST_BENCH_DEVICES" = 2 ]; then
        rm -f "$1.2"
        truncate -s "${PROFILE_DISK_MIB}M" "$1.2"
        echo -device nvme,id=nvme0,serial=vnest0,drive=disk0,addr=4.0,multifunction=on \
            -object vnest-sim-assign,id=sa1,iommufd=emu0,device=nvme1 \
            -drive file="$1.2",if=none,id=disk1,format=raw,cache=unsafe \
            -device nvme,id=nvme1,serial=vnest1,drive=disk1,addr=4.1
    else
        echo -device nvme,id=nvme0,serial=vnest0,drive=disk0
    fi
}
