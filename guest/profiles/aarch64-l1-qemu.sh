# Guest profile: VNest's own qemu-system-aarch64 INSIDE an arm64 L1, on
# the real /dev/iommu of its kernel. L0 is aarch64-iommufd-nest's machine
# (QEMU's arm-smmuv3 with stage=nested and x-s2fwb=on, an edu device); L1
# is Linux 7.3 (scripts/build-kernel.sh arm64), which binds the edu to
# vfio-pci and starts VNest's QEMU, cross-built for arm64 hosts
# (scripts/build-qemu-cross.sh), under the qtest accelerator with
# -global arm-smmuv3.accel=on and -device vfio-pci on that edu: the host
# side of nesting (nest parent, vIOMMU, vDEVICE) is allocated by L1's
# kernel. No L2 scenario is driven yet; the iommufd calls L1's QEMU made
# come back as l1-qemu-trace.tap.
PROFILE_DESC="aarch64 virt + arm-smmuv3 (stage=nested, x-s2fwb=${VNEST_S2FWB:-on}) > Linux 7.3 > VNest qemu-system-aarch64, arm-smmuv3,accel=on + vfio-pci (real iommufd)"
PROFILE_ARCH=arm64
PROFILE_QEMU=qemu-system-aarch64
PROFILE_CONSOLE=ttyAMA0
PROFILE_CMDLINE="iommu.passthrough=0 iommu.strict=1"
PROFILE_TEST=smmu-l1-qemu
PROFILE_DISK_MIB=16
. "$VNEST_ROOT/guest/host-binaries.sh"
profile_prepare() {
    local dir
    dir=${VNEST_ARM64_KERNEL_DIR:-$("$VNEST_ROOT/scripts/build-kernel.sh" arm64)}
    PROFILE_KERNEL=$dir/Image
    [ -x "$QEMU_XBUILD/qemu-system-aarch64" ] ||
        "$VNEST_ROOT/scripts/build-qemu-cross.sh" >/dev/null ||
        die "cannot cross-build qemu-system-aarch64"
    guest_qemu_files_arm64
}
profile_qemu_args() {
    # $1: disk image (unused)
    echo -M virt,gic-version=3,iommu=smmuv3 -cpu max -accel tcg -m 1024 -smp 1 \
        -global arm-smmuv3.x-s2fwb="${VNEST_S2FWB:-on}" -device edu,addr=03.0
}
