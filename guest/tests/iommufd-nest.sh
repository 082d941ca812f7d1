#!/bin/sh
# Guest test: the kernel's iommufd NESTING uAPI on the guest's own IOMMU
# (QEMU's emulated one, offering nesting): bind the edu device (1234:11e8)
# to vfio-pci, run uapi-check --nest on its cdev. Its lines go to the host
# as uapi-check-nest.tap, compared with the emulated host's by
# scripts/conformance.sh. Fails when a step that must work did not (the
# VNEST: nest.STEP lines say which, and the TAP lines the errno).
. /vnest/tests/iommu-info.sh

echo "VNEST: boot.seconds=$(cut -d' ' -f1 /proc/uptime)"
[ -c /dev/iommu ] || { echo "VNEST: error=no /dev/iommu"; exit 1; }
edu=
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
        edu=$(basename "$d")
        break
    fi
done
[ -n "$edu" ] || { echo "VNEST: error=no edu device (1234:11e8)"; exit 1; }
iommu_report "$edu"
echo vfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe 2>/dev/null
cdev=$(ls "/sys/bus/pci/devices/$edu/vfio-dev" 2>/dev/null | head -n1)
if [ -z "$cdev" ] || [ ! -c "/dev/vfio/devices/$cdev" ]; then
    echo "VNEST: error=no vfio cdev for $edu"; exit 1
fi
echo "VNEST: vfio.cdev=/dev/vfio/devices/$cdev"
/vnest/bin/uapi-check --nest /dev/iommu "/dev/vfio/devices/$cdev" \
    >/tmp/nest.out 2>&1
awk -v p="VNEST-TAP: uapi-check-nest: " '{ print p $0 }' /tmp/nest.out
for s in nest-parent-alloc viommu-alloc vdevice-alloc attach-nested-s1 \
         viommu-invalidate veventq-alloc; do
    r=$(sed -n "s/^$s: \([A-Za-z?]*\).*/\1/p" /tmp/nest.out)
    echo "VNEST: nest.$s=${r:-not reached}"
    [ "$r" = ok ] || exit 1
done
grep -q '^done$' /tmp/nest.out
