#!/bin/sh
# Guest test: write a random pattern to the first NVMe namespace with
# O_DIRECT, read it back the same way (so both directions are device DMA
# through the IOMMU), and compare.
. /vnest/tests/iommu-info.sh

MIB=${VNEST_MIB:-16}
dev=/dev/nvme0n1
for i in $(seq 50); do [ -b $dev ] && break; sleep 0.1; done
[ -b $dev ] || { echo "VNEST: error=$dev did not appear"; exit 1; }

bdf=$(basename "$(readlink /sys/class/block/nvme0n1/device/device)")
iommu_report "$bdf"

dd if=/dev/urandom of=/tmp/pattern bs=1M count="$MIB" 2>/dev/null
dd if=/tmp/pattern of=$dev bs=1M oflag=direct 2>/dev/null ||
    { echo "VNEST: error=write to $dev failed"; exit 1; }
echo 3 >/proc/sys/vm/drop_caches
dd if=$dev of=/tmp/readback bs=1M count="$MIB" iflag=direct 2>/dev/null ||
    { echo "VNEST: error=read from $dev failed"; exit 1; }

want=$(sha256sum /tmp/pattern | cut -d' ' -f1)
got=$(sha256sum /tmp/readback | cut -d' ' -f1)
bytes=$(stat -c %s /tmp/readback)
echo "VNEST: data.bytes=$bytes"
echo "VNEST: data.sha256.written=$want"
echo "VNEST: data.sha256.read=$got"
dmesg | grep -i -E 'DMAR.*(fault|error)' | head -n 3 | sed 's/^/VNEST: dmar.log=/'
# s390: an error event the platform raised for a PCI function (the
# function entered the error state; arch/s390/pci/pci_event.c logs it).
zerr=$(dmesg | grep -c 'reports an error for PCI function')
[ "$zerr" = 0 ] || dmesg | grep 'reports an error for PCI function' |
    head -n 3 | sed 's/^/VNEST: error=/'
[ "$want" = "$got" ] && [ "$bytes" -eq $((MIB * 1024 * 1024)) ] && [ "$zerr" = 0 ]
