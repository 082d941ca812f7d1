#!/bin/sh
# Guest test (benchmark workload, busybox only): VNEST_ROUNDS rounds
# (default 3) of O_DIRECT reads of the first VNEST_MIB MiB (default 16) of
# the first NVMe namespace in VNEST_BS blocks (default 4k), each a device
# DMA through the IOMMU (mapped before, unmapped after it), bracketed by
# one "sentinel" read of the 4 KiB block at 2 * VNEST_MIB MiB so that the
# host finds the workload's reads in a trace of the NVMe commands (the
# same sentinel guest/bin/randread.c reads). The data is checked against a
# pattern written first. VNEST_DIRECT=0 reads through the page cache
# instead (dropped before each round), whose folios the kernel fills in
# larger, physically contiguous pieces than a user buffer's pages.
. /vnest/tests/iommu-info.sh

MIB=${VNEST_MIB:-16}
BS=${VNEST_BS:-4k}
ROUNDS=${VNEST_ROUNDS:-3}
DIRECT=${VNEST_DIRECT:-1}
case $BS in
    *k) bytes=$((${BS%k} * 1024)) ;;
    *M) bytes=$((${BS%M} * 1048576)) ;;
    *) bytes=$BS ;;
esac
dev=/dev/nvme0n1
for i in $(seq 50); do [ -b $dev ] && break; sleep 0.1; done
[ -b $dev ] || { echo "VNEST: error=$dev did not appear"; exit 1; }
bdf=$(basename "$(readlink /sys/class/block/nvme0n1/device/device)")
iommu_report "$bdf"
for arg in $(cat /proc/cmdline); do
    case $arg in iommu.strict=*) echo "VNEST: iommu.strict=${arg#*=}" ;; esac
done

dd if=/dev/urandom of=/tmp/pattern bs=1M count="$MIB" 2>/dev/null
dd if=/tmp/pattern of=$dev bs=1M oflag=direct 2>/dev/null ||
    { echo "VNEST: error=write to $dev failed"; exit 1; }
want=$(sha256sum /tmp/pattern | cut -d' ' -f1)
rm -f /tmp/pattern
sentinel() {
    dd if=$dev of=/dev/null bs=4k count=1 skip=$((MIB * 512)) iflag=direct \
        2>/dev/null || { echo "VNEST: error=sentinel read failed"; exit 1; }
}
sentinel
start=$(cut -d' ' -f1 /proc/uptime)
r=0
flag=iflag=direct
[ "$DIRECT" = 1 ] || flag=
while [ $r -lt "$ROUNDS" ]; do
    [ "$DIRECT" = 1 ] || echo 3 >/proc/sys/vm/drop_caches
    got=$(dd if=$dev bs="$bytes" count=$((MIB * 1048576 / bytes)) \
          $flag 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || { echo "VNEST: error=round $r read back wrong data"; exit 1; }
    r=$((r + 1))
done
end=$(cut -d' ' -f1 /proc/uptime)
sentinel
echo "VNEST: bench.bs=$BS"
echo "VNEST: bench.direct=$DIRECT"
echo "VNEST: bench.rounds=$ROUNDS"
echo "VNEST: bench.seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
echo "VNEST: data.sha256.written=$want"
echo "VNEST: data.sha256.read=$got"
