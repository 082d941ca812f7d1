#!/bin/sh
# Guest test (L1) of the end-to-end runs: bind the vnest-dma-test device
# (1234:11e9) to vfio-pci and run the qtest VNEST_E2E_TEST names
# (vtd-nest-e2e-test or smmu-nest-e2e-test, default the former) with
# VNest's QEMU on this kernel's /dev/iommu (VNEST_E2E_SYSFSDEV): L2's
# scenario, its steps streamed as NAME.tap and L1 QEMU's host calls as
# NAME-trace.tap (NAME: the test without "-test").
. /vnest/tests/iommu-info.sh

test=${VNEST_E2E_TEST:-vtd-nest-e2e-test}
name=${test%-test}
echo "VNEST: boot.seconds=$(cut -d' ' -f1 /proc/uptime)"
dev=$(find_pci 0x1234 0x11e9) ||
    { echo "VNEST: error=no vnest-dma-test (1234:11e9)"; exit 1; }
iommu_report "$dev"
vfio_bind "$dev" >/dev/null || { echo "VNEST: error=no vfio cdev for $dev"; exit 1; }

q=/vnest/qemu
ld=$(ls "$q"/lib/ld-linux-*.so.* | head -n1)
qemu=$(ls "$q"/run/qemu-system-* | head -n1)
VNEST_E2E_SYSFSDEV=/sys/bus/pci/devices/$dev VNEST_E2E_LOG=/tmp/e2e.log \
VNEST_E2E_TRACE=/tmp/e2e.trace QTEST_QEMU_BINARY=$qemu \
    timeout 300 "$ld" --library-path "$q/lib" "/vnest/bin/$test" >/tmp/e2e.out 2>&1
rc=$?
sed "s/^/VNEST-TAP: $name: /" /tmp/e2e.log 2>/dev/null
sed "s/^/VNEST-TAP: $name-trace: /" /tmp/e2e.trace 2>/dev/null
grep -E '^(ok|not ok|Bail out|# )' /tmp/e2e.out | head -n 40 |
    sed 's/^/VNEST: e2e.out=/'
echo "VNEST: e2e.rc=$rc"
echo "VNEST: kernel.warnings=$(dmesg | grep -c -E 'WARNING:|BUG:|Oops')"
[ "$rc" = 0 ] && grep -q '^done$' /tmp/e2e.log
