# Guest profile: real-kernel nesting END TO END. L0 is this QEMU with
# intel-iommu,x-nested=on (QEMU's VT-d as a nesting host, hook 0014) and a
# vnest-dma-test device; L1 is Linux 7.3 (scripts/build-kernel.sh), which
# binds that device to vfio-pci; in L1, VNest's own QEMU (the real
# /dev/iommu backend, intel-iommu,x-scalable-mode=on,x-flts=on,
# vfio-pci,iommufd=) runs L2 under the qtest accelerator, driven by
# tests/qtest/vtd-nest-e2e-test: L2's first-stage tables, nested by L1's
# kernel on L0's VT-d, translate the device's DMA. The steps and the
# iommufd calls L1's QEMU made come back as vtd-nest-e2e.tap and
# vtd-nest-e2e-trace.tap; scripts/conformance.sh runs the same scenario
# on the emulated host and compares both.
PROFILE_DESC="x86_64 L0 intel-iommu,x-nested=on > L1 Linux 7.3 > VNest QEMU + vfio-pci (real iommufd) > L2 qtest, first stage nested"
PROFILE_ARCH=amd64
PROFILE_QEMU=qemu-system-x86_64
PROFILE_CONSOLE=ttyS0
PROFILE_CMDLINE="intel_iommu=on iommu.passthrough=0 loglevel=1 no_timer_check"
PROFILE_TEST=nest-e2e
PROFILE_DISK_MIB=16
PROFILE_COUNT=(
    "L0 nested translations:vnest_vtd_nested_xlate"
    "L0 nested faults:vnest_vtd_nested_fault"
)
. "$VNEST_ROOT/guest/host-binaries.sh"
profile_prepare() {
    local dir test=$QEMU_BUILD/vnest/tests/qtest/vtd-nest-e2e-test
    dir=${VNEST_KERNEL_DIR:-$("$VNEST_ROOT/scripts/build-kernel.sh")}
    PROFILE_KERNEL=$dir/bzImage
    [ -x "$test" ] || "$VNEST_ROOT/scripts/build-qemu.sh" \
        vnest/tests/qtest/vtd-nest-e2e-test >/dev/null ||
        die "cannot build vtd-nest-e2e-test"
    guest_qemu_files "$test"
}
profile_qemu_args() {
    # $1: disk image (unused)
    echo -M q35 -accel tcg -m 1024 -smp 1 -bios qboot.rom -vga none \
        -device "intel-iommu,x-scalable-mode=on,x-nested=${VNEST_X_NESTED:-on},aw-bits=48" \
        -device vnest-dma-test,addr=05.0
}
