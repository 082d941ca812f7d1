# Guest profile: s390x s390-ccw-virtio under TCG with an NVMe disk behind
# zpci, assigned through VNest's emulated iommufd (host-iommu=paging, an
# IOMMU without nesting, as s390 hosts have), Debian's s390x kernel (NVMe
# is a module there). The guest's RPCITs reach hw/zpci-iommufd/, which
# shadows its DMA tables into the device's IOAS one host map per run of
# pages; strict mode (iommu.strict=1): one RPCIT per unmapped DMA buffer.
PROFILE_DESC="s390x s390-ccw-virtio + zpci (RPCIT over iommufd, strict) + NVMe assigned through the emulated iommufd"
PROFILE_ARCH=s390x
PROFILE_QEMU=qemu-system-s390x
PROFILE_KERNEL_PKG=linux-image-s390x
PROFILE_KERNEL_GLOB='boot/vmlinuz-*'
PROFILE_CONSOLE=ttysclp0
PROFILE_CMDLINE="iommu.passthrough=0 iommu.strict=1"
PROFILE_TEST=nvme-pattern
PROFILE_DISK_MIB=64
# nvme-core needs nvme-auth (found from its modinfo); nvme-keyring it
# looks up at run time.
PROFILE_MODULES=(nvme-keyring nvme)
# QEMU trace events the report counts (guest/trace-count.sh). Every host
# call must come from the zPCI module (none from the listener's per-page
# shadow), none may fail, and the function must never enter the error
# state.
PROFILE_COUNT=(
    "RPCITs:vnest_zpci_rpcit"
    "IOAS maps:vnest_zpci_map"
    "IOAS unmaps:vnest_zpci_unmap"
    "pages per map:vnest_zpci_map:size:scale=4096:per=vnest_zpci_map"
    "pages per unmap:vnest_zpci_unmap:size:scale=4096:per=vnest_zpci_unmap"
    "calls per RPCIT:vnest_zpci_map+vnest_zpci_unmap:per=vnest_zpci_rpcit"
    "failed calls:vnest_zpci_map+vnest_zpci_unmap:match=ret=-:expect=0"
    "per-page maps:vnest_sim_assign_map:expect=0"
    "error events:vnest_zpci_error:expect=0"
)
profile_qemu_args() {
    # $1: disk image
    echo -M s390-ccw-virtio -cpu max -accel tcg -m 512 -smp 1 -nodefaults \
        -object iommufd,id=emu0,emulated=on,host-iommu=paging \
        -object vnest-sim-assign,id=sa0,iommufd=emu0,device=nvme0 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device zpci,uid=1,fid=1,target=nvme0 \
        -device nvme,id=nvme0,serial=vnest0,drive=disk0
}
