# Guest profile: a real Linux 7.3 (scripts/build-kernel.sh, as for
# x86_64-iommufd-selftest) on q35 with intel-iommu,x-nested=on: QEMU's VT-d
# as a nesting host (ECAP.NEST, PGTT=nested, hook patch 0014). An edu
# device bound to vfio-pci; tests/conformance/nest-check asks the kernel's
# iommufd for a nest parent and a VTD_S1 nested HWPT, attaches the device
# and checks its DMA through the two stages (guest test vtd-nesting-host).
# VNEST_X_NESTED=off runs the same on QEMU 10.0's own VT-d: the kernel
# must refuse the nest parent (EOPNOTSUPP: no ECAP.NEST).
PROFILE_DESC="x86_64 q35 + intel-iommu (x-nested=on) + Linux 7.3 iommufd nesting on it"
PROFILE_ARCH=amd64
PROFILE_QEMU=qemu-system-x86_64
PROFILE_CONSOLE=ttyS0
# loglevel=1: the console carries the report only; the test reads dmesg.
PROFILE_CMDLINE="intel_iommu=on iommu.passthrough=0 loglevel=1 no_timer_check"
PROFILE_TEST=vtd-nesting-host
PROFILE_DISK_MIB=16
# QEMU trace events the report counts (guest/trace-count.sh): translations
# and faults of nested PASID entries, as the guest kernel programs them.
PROFILE_COUNT=(
    "nested translations:vnest_vtd_nested_xlate"
    "nested faults:vnest_vtd_nested_fault"
)
profile_prepare() {
    local dir bin=$WORK/nest-check
    dir=${VNEST_KERNEL_DIR:-$("$VNEST_ROOT/scripts/build-kernel.sh")}
    PROFILE_KERNEL=$dir/bzImage
    [ -f "$QEMU_TREE/linux-headers/linux/iommufd.h" ] ||
        "$VNEST_ROOT/scripts/prepare-qemu.sh"
    gcc -O2 -static -Wall -Werror -isystem "$QEMU_TREE/linux-headers" \
        "$VNEST_ROOT/tests/conformance/nest-check.c" -o "$bin" ||
        die "cannot build nest-check"
    gcc -O2 -static -Wall -Werror -isystem "$QEMU_TREE/linux-headers" \
        "$VNEST_ROOT/tests/conformance/uapi-check.c" -o "$WORK/uapi-check" ||
        die "cannot build uapi-check"
    PROFILE_FILES=("$bin:/vnest/bin/nest-check"
                   "$WORK/uapi-check:/vnest/bin/uapi-check")
}
profile_qemu_args() {
    # $1: disk image (unused)
    echo -M q35 -accel tcg -m 1024 -smp 1 -bios qboot.rom -vga none \
        -device "intel-iommu,x-scalable-mode=on,x-nested=${VNEST_X_NESTED:-on},aw-bits=48" \
        -device edu
}
