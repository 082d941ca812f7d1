#!/bin/sh
# Guest test (benchmark workload): 4 KiB random reads from the first NVMe
# namespace with O_DIRECT, each one a device DMA through the IOMMU, by
# /vnest/bin/randread (built from guest/bin/randread.c): VNEST_ROUNDS
# rounds (default 3) of VNEST_IOS reads (default 1000) over VNEST_MIB MiB
# (default 16), stamped first and checked; the median round is reported.
. /vnest/tests/iommu-info.sh

dev=/dev/nvme0n1
for i in $(seq 50); do [ -b $dev ] && break; sleep 0.1; done
[ -b $dev ] || { echo "VNEST: error=$dev did not appear"; exit 1; }
[ -x /vnest/bin/randread ] ||
    { echo "VNEST: error=no /vnest/bin/randread in the initramfs"; exit 1; }

bdf=$(basename "$(readlink /sys/class/block/nvme0n1/device/device)")
iommu_report "$bdf"
for arg in $(cat /proc/cmdline); do
    case $arg in iommu.strict=*) echo "VNEST: iommu.strict=${arg#*=}" ;; esac
done
/vnest/bin/randread $dev "${VNEST_MIB:-16}" "${VNEST_IOS:-1000}" \
    "${VNEST_ROUNDS:-3}" 1
