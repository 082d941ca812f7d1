# Guest profile: QEMU's arm-smmuv3 as a NESTING HOST for a real Linux: a
# Linux 7.3 arm64 guest (scripts/build-kernel.sh arm64: Debian's arm64
# kernel has no IOMMUFD) on -M virt with QEMU's SMMUv3 emulating both
# stages (stage=nested, virt's default) and advertising stage-2 forced
# write-back (x-s2fwb=on), without which Linux offers no vIOMMU. An edu
# device is bound to vfio-pci and tests/conformance/uapi-check --nest
# drives the kernel's nesting uAPI on it (nest parent, vIOMMU, vDEVICE,
# nested HWPTs from vSTEs, vIOMMU invalidation, vEVENTQ);
# scripts/conformance.sh compares its steps with the emulated host's.
# tests/conformance/nest-check then makes the edu DMA through a stage 1
# it writes, nested on the kernel's stage 2.
# VNEST_S2FWB=off boots the same without x-s2fwb (Linux then refuses the
# vIOMMU: the run fails at viommu-alloc).
PROFILE_DESC="aarch64 virt + arm-smmuv3 (stage=nested, x-s2fwb=${VNEST_S2FWB:-on}) + Linux 7.3 iommufd nesting uAPI"
PROFILE_ARCH=arm64
PROFILE_QEMU=qemu-system-aarch64
PROFILE_CONSOLE=ttyAMA0
PROFILE_CMDLINE="iommu.passthrough=0 iommu.strict=1"
PROFILE_TEST=iommufd-nest
PROFILE_DISK_MIB=16
profile_prepare() {
    local dir
    # VNEST_ARM64_KERNEL_DIR: a kernel build-kernel.sh arm64 made
    dir=${VNEST_ARM64_KERNEL_DIR:-$("$VNEST_ROOT/scripts/build-kernel.sh" arm64)}
    PROFILE_KERNEL=$dir/Image
    # uapi-check, static, for arm64 (gcc-aarch64-linux-gnu, scripts/deps.sh)
    [ -f "$QEMU_TREE/linux-headers/linux/iommufd.h" ] ||
        "$VNEST_ROOT/scripts/prepare-qemu.sh"
    aarch64-linux-gnu-gcc -O2 -static -Wall -Werror \
        -isystem "$QEMU_TREE/linux-headers" \
        "$VNEST_ROOT/tests/conformance/uapi-check.c" -o "$WORK/uapi-check" ||
        die "cannot build uapi-check for arm64"
    aarch64-linux-gnu-gcc -O2 -static -Wall -Werror \
        -isystem "$QEMU_TREE/linux-headers" \
        "$VNEST_ROOT/tests/conformance/nest-check.c" -o "$WORK/nest-check" ||
        die "cannot build nest-check for arm64"
    PROFILE_FILES=("$WORK/uapi-check:/vnest/bin/uapi-check"
                   "$WORK/nest-check:/vnest/bin/nest-check")
}
profile_qemu_args() {
    # $1: disk image (unused)
    echo -M virt,gic-version=3,iommu=smmuv3 -cpu max -accel tcg -m 512 -smp 1 \
        -global arm-smmuv3.x-s2fwb="${VNEST_S2FWB:-on}" -device edu,addr=03.0
}
