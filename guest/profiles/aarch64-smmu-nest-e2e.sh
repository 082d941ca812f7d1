# Guest profile: arm-smmuv3 nesting END TO END, the arm64 twin of
# x86_64-vtd-nest-e2e. L0 is this QEMU with -M virt's arm-smmuv3
# (stage=nested, x-s2fwb=on) and a vnest-dma-test device; L1 is Linux 7.3
# for arm64 (scripts/build-kernel.sh arm64), which binds that device to
# vfio-pci; in L1, VNest's qemu-system-aarch64 cross-built for arm64 hosts
# (scripts/build-qemu-cross.sh) runs L2 under the qtest accelerator with
# arm-smmuv3,accel=on and vfio-pci on the real /dev/iommu, driven by
# tests/qtest/smmu-nest-e2e-test (cross-built too): L2's CD and stage-1
# tables, nested by L1's kernel on L0's SMMUv3, translate the device's DMA.
# Its steps and host calls come back as smmu-nest-e2e.tap and
# smmu-nest-e2e-trace.tap, compared by scripts/conformance.sh with the same
# test on the emulated host.
PROFILE_DESC="aarch64 L0 arm-smmuv3 (x-s2fwb=on) > L1 Linux 7.3 > VNest QEMU, arm-smmuv3,accel=on + vfio-pci (real iommufd) > L2 qtest"
PROFILE_ARCH=arm64
PROFILE_QEMU=qemu-system-aarch64
PROFILE_CONSOLE=ttyAMA0
PROFILE_CMDLINE="iommu.passthrough=0 iommu.strict=1 VNEST_E2E_TEST=smmu-nest-e2e-test"
PROFILE_TEST=nest-e2e
PROFILE_DISK_MIB=16
. "$VNEST_ROOT/guest/host-binaries.sh"
profile_prepare() {
    local dir test=$QEMU_XBUILD/vnest/tests/qtest/smmu-nest-e2e-test
    dir=${VNEST_ARM64_KERNEL_DIR:-$("$VNEST_ROOT/scripts/build-kernel.sh" arm64)}
    PROFILE_KERNEL=$dir/Image
    "$VNEST_ROOT/scripts/build-qemu-cross.sh" qemu-system-aarch64 \
        vnest/tests/qtest/smmu-nest-e2e-test >/dev/null ||
        die "cannot cross-build qemu-system-aarch64 and smmu-nest-e2e-test"
    guest_qemu_files_arm64 "$test"
}
profile_qemu_args() {
    # $1: disk image (unused)
    echo -M virt,gic-version=3,iommu=smmuv3 -cpu max -accel tcg -m 1024 -smp 1 \
        -global arm-smmuv3.x-s2fwb=on -device vnest-dma-test,addr=03.0
}
