# Guest profile: a real Linux 7.3 with iommufd (built by
# scripts/build-kernel.sh from Debian's linux-source package) on q35 with
# intel-iommu in scalable mode, running the kernel's own iommufd selftests
# (iommufd and iommufd_fail_nth, against the kernel's mock IOMMU) and
# binding an edu device to vfio-pci, so /dev/iommu and a vfio cdev exist.
# QEMU 10.0's VT-d offers no nesting, so x-flts is left off: the guest
# kernel uses second-stage tables for its own DMA domains.
PROFILE_DESC="x86_64 q35 + intel-iommu (scalable mode) + Linux iommufd selftests"
PROFILE_ARCH=amd64
PROFILE_QEMU=qemu-system-x86_64
PROFILE_CONSOLE=ttyS0
# loglevel=1: keep kernel messages out of the TAP stream on the console;
# the test reports warnings from dmesg itself. no_timer_check: on a busy
# host, TCG can miss the boot-time IO-APIC timer check, which panics with
# interrupt remapping on ("timer doesn't work through Interrupt-remapped
# IO-APIC"; seen once with Debian's 6.12 kernel here).
PROFILE_CMDLINE="intel_iommu=on iommu.passthrough=0 loglevel=1 no_timer_check"
# Known failures of Linux 7.3.4 against its own selftests: the kernel's
# IOMMU_TEST_OP_DMABUF_GET creates the dmabuf fd but returns 0 from the
# ioctl, and the selftest takes that return value as the fd, so
# dmabuf_simple and dmabuf_revoke (4 variants each) map fd 0 and fail.
PROFILE_CMDLINE="$PROFILE_CMDLINE VNEST_SELFTEST_KNOWN_FAIL=dmabuf_simple,dmabuf_revoke"
PROFILE_TEST=iommufd-selftest
PROFILE_DISK_MIB=16
profile_prepare() {
    local dir uapi=$WORK/uapi-check
    # VNEST_KERNEL_DIR: a kernel build-kernel.sh made (conformance --cached)
    dir=${VNEST_KERNEL_DIR:-$("$VNEST_ROOT/scripts/build-kernel.sh")}
    PROFILE_KERNEL=$dir/bzImage
    # tests/conformance/uapi-check, static, against the 7.3 uAPI headers
    # the QEMU tree carries (scripts/prepare-qemu.sh installs them).
    [ -f "$QEMU_TREE/linux-headers/linux/iommufd.h" ] ||
        "$VNEST_ROOT/scripts/prepare-qemu.sh"
    gcc -O2 -static -Wall -Werror -isystem "$QEMU_TREE/linux-headers" \
        "$VNEST_ROOT/tests/conformance/uapi-check.c" -o "$uapi" ||
        die "cannot build uapi-check"
    PROFILE_FILES=("$dir/iommufd:/vnest/bin/iommufd"
                   "$dir/iommufd_fail_nth:/vnest/bin/iommufd_fail_nth"
                   "$uapi:/vnest/bin/uapi-check")
    guest_qemu_files
}

# VNest's own QEMU, its shared libraries and the firmware it needs, so the
# guest can run it on the real kernel's iommufd (the kernel backend path
# of backends/, with vfio-pci on the guest's edu device).
. "$VNEST_ROOT/guest/host-binaries.sh"
profile_qemu_args() {
    # $1: disk image (unused: the selftests need no disk)
    echo -M q35 -accel tcg -m 1024 -smp 1 -bios qboot.rom -vga none \
        -device intel-iommu,x-scalable-mode=on \
        -device edu
}
