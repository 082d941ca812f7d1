#!/bin/sh
# Guest test (L1): bind the vnest-dma-test device (1234:11e9) to vfio-pci
# and run tests/qtest/vtd-nest-e2e-test with VNest's QEMU on this kernel's
# /dev/iommu (VNEST_E2E_SYSFSDEV): L2's scenario, its steps streamed as
# vtd-nest-e2e.tap and L1 QEMU's iommufd calls as vtd-nest-e2e-trace.tap.
. /vnest/tests/iommu-info.sh

echo "VNEST: boot.seconds=$(cut -d' ' -f1 /proc/uptime)"
dev=$(find_pci 0x1234 0x11e9) ||
    { echo "VNEST: error=no vnest-dma-test (1234:11e9)"; exit 1; }
iommu_report "$dev"
vfio_bind "$dev" >/dev/null || { echo "VNEST: error=no vfio cdev for $dev"; exit 1; }

q=/vnest/qemu
VNEST_E2E_SYSFSDEV=/sys/bus/pci/devices/$dev VNEST_E2E_LOG=/tmp/e2e.log \
VNEST_E2E_TRACE=/tmp/e2e.trace QTEST_QEMU_BINARY=$q/run/qemu-system-x86_64 \
    timeout 300 "$q/lib/ld-linux-x86-64.so.2" --library-path "$q/lib" \
    /vnest/bin/vtd-nest-e2e-test >/tmp/e2e.out 2>&1
rc=$?
sed 's/^/VNEST-TAP: vtd-nest-e2e: /' /tmp/e2e.log 2>/dev/null
sed 's/^/VNEST-TAP: vtd-nest-e2e-trace: /' /tmp/e2e.trace 2>/dev/null
grep -E '^(ok|not ok|Bail out|# )' /tmp/e2e.out | head -n 40 |
    sed 's/^/VNEST: e2e.out=/'
echo "VNEST: e2e.rc=$rc"
echo "VNEST: kernel.warnings=$(dmesg | grep -c -E 'WARNING:|BUG:|Oops')"
[ "$rc" = 0 ] && grep -q '^done$' /tmp/e2e.log
