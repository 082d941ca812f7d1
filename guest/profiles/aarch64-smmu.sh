# Guest profile: -M virt with QEMU's emulated SMMUv3 (stage 1) in front of
# an emulated NVMe disk, Debian's cloud kernel for arm64 (ARM_SMMU_V3 and
# NVMe built in), booted straight from -kernel (no firmware).
PROFILE_DESC="aarch64 virt + arm-smmuv3 (emulated stage 1) + NVMe"
PROFILE_ARCH=arm64
PROFILE_QEMU=qemu-system-aarch64
PROFILE_KERNEL_PKG=linux-image-cloud-arm64
PROFILE_KERNEL_GLOB='boot/vmlinuz-*'
PROFILE_CONSOLE=ttyAMA0
PROFILE_CMDLINE="iommu.passthrough=0 iommu.strict=1"
PROFILE_TEST=nvme-pattern
PROFILE_DISK_MIB=64
profile_qemu_args() {
    # $1: disk image
    echo -M virt,gic-version=3,iommu=smmuv3 -cpu max -accel tcg -m 512 -smp 1 \
        -drive file="$1",if=none,id=disk0,format=raw,cache=unsafe \
        -device nvme,id=nvme0,serial=vnest0,drive=disk0
}
