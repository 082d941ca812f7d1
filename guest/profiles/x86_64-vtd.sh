# Guest profile: q35 with intel-iommu in scalable mode (first-stage tables),
# an NVMe disk behind it, Debian's cloud kernel for amd64, qboot.
PROFILE_DESC="x86_64 q35 + intel-iommu (scalable mode, first-stage)"
PROFILE_ARCH=amd64
PROFILE_QEMU=qemu-system-x86_64
PROFILE_KERNEL_PKG=linux-image-cloud-amd64
PROFILE_KERNEL_GLOB='boot/vmlinuz-*'
PROFILE_CONSOLE=ttyS0
PROFILE_CMDLINE="intel_iommu=on iommu.passthrough=0 iommu.strict=1"
PROFILE_TEST=nvme-pattern
PROFILE_DISK_MIB=64
profile_qemu_args() {
    # $1: disk image
    echo -M q35 -accel tcg -m 512 -smp 1 -bios qboot.rom -vga none \
        -device intel-iommu,x-scalable-mode=on,x-flts=on \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device nvme,serial=vnest0,drive=disk0
}
