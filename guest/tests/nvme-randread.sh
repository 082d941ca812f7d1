#!/bin/sh
# Guest test (benchmark workload): 4 KiB random reads from the first NVMe
# namespace with O_DIRECT, each one a device DMA through the IOMMU, by
# /vnest/bin/randread (built from guest/bin/randread.c): VNEST_ROUNDS
# rounds (default 3) of VNEST_IOS reads (default 1000) over VNEST_MIB MiB
# (default 16), stamped first and checked; the median round is reported.
# VNEST_DEVICES=2: two NVMe controllers, read in turn (the profile puts
# them in one IOMMU group, so the guest gives them one DMA domain).
. /vnest/tests/iommu-info.sh

devs=/dev/nvme0n1
[ "${VNEST_DEVICES:-1}" = 2 ] && devs=$devs,/dev/nvme1n1
for dev in $(echo $devs | tr , ' '); do
    for i in $(seq 50); do [ -b $dev ] && break; sleep 0.1; done
    [ -b $dev ] || { echo "VNEST: error=$dev did not appear"; exit 1; }
done
[ -x /vnest/bin/randread ] ||
    { echo "VNEST: error=no /vnest/bin/randread in the initramfs"; exit 1; }

bdf=$(basename "$(readlink /sys/class/block/nvme0n1/device/device)")
iommu_report "$bdf"
if [ "${VNEST_DEVICES:-1}" = 2 ]; then
    bdf=$(basename "$(readlink /sys/class/block/nvme1n1/device/device)")
    echo "VNEST: device2.bdf=$bdf"
    echo "VNEST: device2.iommu_group=$(basename "$(readlink /sys/bus/pci/devices/$bdf/iommu_group)")"
fi
for arg in $(cat /proc/cmdline); do
    case $arg in iommu.strict=*) echo "VNEST: iommu.strict=${arg#*=}" ;; esac
done
/vnest/bin/randread $devs "${VNEST_MIB:-16}" "${VNEST_IOS:-1000}" \
    "${VNEST_ROUNDS:-3}" 1
