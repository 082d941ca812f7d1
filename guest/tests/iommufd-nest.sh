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
edu=$(find_pci 0x1234 0x11e8) ||
    { echo "VNEST: error=no edu device (1234:11e8)"; exit 1; }
iommu_report "$edu"
cdev=$(vfio_bind "$edu") || { echo "VNEST: error=no vfio cdev for $edu"; exit 1; }
echo "VNEST: vfio.cdev=$cdev"
/vnest/bin/uapi-check --nest /dev/iommu "$cdev" \
    >/tmp/nest.out 2>&1
awk -v p="VNEST-TAP: uapi-check-nest: " '{ print p $0 }' /tmp/nest.out
for s in nest-parent-alloc viommu-alloc vdevice-alloc attach-nested-s1 \
         viommu-invalidate veventq-alloc; do
    r=$(sed -n "s/^$s: \([A-Za-z?]*\).*/\1/p" /tmp/nest.out)
    echo "VNEST: nest.$s=${r:-not reached}"
    [ "$r" = ok ] ||
        { echo "VNEST: error=uapi-check --nest: $s: ${r:-not reached}"; exit 1; }
done
grep -q '^done$' /tmp/nest.out || exit 1

# DMA through the nested stage 1 (nest-check, edu): what a user of
# nesting sees. Not compared with the emulated host (it has no edu);
# every step must be ok.
timeout 120 /vnest/bin/nest-check /dev/iommu "$cdev" \
    >/tmp/dma.out 2>&1
awk -v p="VNEST-TAP: nest-check: " '{ print p $0 }' /tmp/dma.out
sed -n 's/^info: \(.*\)/VNEST: nest.info=\1/p' /tmp/dma.out
grep -v '^info:' /tmp/dma.out | grep ': ' |
    sed 's/^\([^:]*\): \(.*\)/VNEST: nest.\1=\2/'
bad=$(grep -v '^info:' /tmp/dma.out | grep ': ' | grep -v ': ok$' | head -n1)
[ -z "$bad" ] || { echo "VNEST: error=nest-check: $bad"; exit 1; }
grep -q '^done$' /tmp/dma.out
