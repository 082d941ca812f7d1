#!/bin/sh
# Guest test (arm64 L1): bind the edu (1234:11e8) to vfio-pci and start
# VNest's qemu-system-aarch64 on this kernel's /dev/iommu with
# arm-smmuv3,accel=on and the edu assigned, under the qtest accelerator,
# stopped (-S): what it allocated comes back as its iommufd_backend_* and
# vnest_* trace (l1-qemu-trace.tap). Passes when QEMU started (the
# monitor answered), made its vIOMMU and plugged the device.
. /vnest/tests/iommu-info.sh

echo "VNEST: boot.seconds=$(cut -d' ' -f1 /proc/uptime)"
[ -c /dev/iommu ] || { echo "VNEST: error=no /dev/iommu"; exit 1; }
edu=$(find_pci 0x1234 0x11e8) ||
    { echo "VNEST: error=no edu device (1234:11e8)"; exit 1; }
iommu_report "$edu"
vfio_bind "$edu" >/dev/null || { echo "VNEST: error=no vfio cdev for $edu"; exit 1; }

q=/vnest/qemu
printf 'info pci\nquit\n' |
    timeout 120 $q/run/qemu-system-aarch64 \
        -M virt,gic-version=3,iommu=smmuv3 -cpu max -accel qtest -m 128 \
        -display none -S -nodefaults -monitor stdio \
        -global arm-smmuv3.accel=on \
        -object iommufd,id=iommufd0 \
        -device "vfio-pci,sysfsdev=/sys/bus/pci/devices/$edu,iommufd=iommufd0" \
        -trace 'iommufd_backend_*' -trace 'vnest_*' -D /tmp/trace.log \
        >/tmp/qemu.out 2>&1
rc=$?
sed 's/^/VNEST: qemu.out=/' /tmp/qemu.out | head -n 40
# Trace lines without the pid/timestamp prefix.
sed 's/^[0-9]*@[0-9.]*://' /tmp/trace.log 2>/dev/null |
    sed 's/^/VNEST-TAP: l1-qemu-trace: /'
echo "VNEST: qemu.rc=$rc"
echo "VNEST: kernel.warnings=$(dmesg | grep -c -E 'WARNING:|BUG:|Oops')"
[ "$rc" = 0 ] && grep -q 'vnest_smmu_viommu' /tmp/trace.log &&
    grep -q 'vnest_smmu_plug' /tmp/trace.log
