# Guest profile: the x86_64-vtd machine with its NVMe disk assigned through
# VNest's emulated iommufd (simulated assignment). intel-iommu does not
# nest here, so the assigned device's IOAS shadows the guest's second-stage
# mappings (caching mode), as vfio-pci does; every DMA of the disk is
# translated by the emulated host IOMMU.
. "$(dirname "${BASH_SOURCE[0]}")/x86_64-vtd.sh"
PROFILE_DESC="x86_64 q35 + intel-iommu (scalable, second-stage, caching mode) + NVMe assigned through the emulated iommufd"
profile_qemu_args() {
    # $1: disk image
    echo -M q35 -accel tcg -m 512 -smp 1 -bios qboot.rom -vga none \
        -device intel-iommu,x-scalable-mode=on,caching-mode=on \
        -object iommufd,id=emu0 \
        -object vnest-sim-assign,id=sa0,iommufd=emu0,device=nvme0 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device nvme,id=nvme0,serial=vnest0,drive=disk0
}
