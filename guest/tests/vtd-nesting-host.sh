#!/bin/sh
# Guest test: this kernel nests on its VT-d (QEMU's intel-iommu with
# x-nested=on). Binds the edu device to vfio-pci, runs
# /vnest/bin/nest-check on its cdev (nest parent, VTD_S1 nested HWPT,
# attach, DMA through both stages, invalidation), reports each step as
# "VNEST: nest.STEP=RESULT", and finds the fault the unmapped DMA must
# have left in the kernel log (reason 0x71, first-stage entry not
# present). If the kernel refuses a step, the errno is the report.
. /vnest/tests/iommu-info.sh

echo "VNEST: boot.seconds=$(cut -d' ' -f1 /proc/uptime)"
ok=1
edu=$(find_pci 0x1234 0x11e8) || { echo "VNEST: error=no edu device"; exit 1; }
iommu_report "$edu"
cdev=$(vfio_bind "$edu") || { echo "VNEST: error=no vfio cdev for $edu"; exit 1; }

# The nesting uAPI step by step (uapi-check --nest), as on the emulated
# host: scripts/conformance.sh compares the two (uapi-check-nest-vtd.tap).
timeout 120 /vnest/bin/uapi-check --nest /dev/iommu "$cdev" 2>&1 |
    sed 's/^/VNEST-TAP: uapi-check-nest-vtd: /'

out=$(timeout 120 /vnest/bin/nest-check /dev/iommu "$cdev" 2>&1)
rc=$?
echo "$out" | sed -n 's/^info: \(.*\)/VNEST: nest.info=\1/p'
echo "$out" | grep -v '^info:' | grep ': ' |
    sed 's/^\([^:]*\): \(.*\)/VNEST: nest.\1=\2/'
echo "$out" | grep -q '^done$' || ok=0
echo "$out" | grep -v '^info:' | grep ': ' | grep -qv ': ok$' && ok=0
[ "$rc" = 0 ] || ok=0

# "DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x300000
# [fault reason 0x71] SM: Present bit in first-level paging entry is clear"
fault=$(dmesg | grep -m1 'DMAR: \[DMA Read' | sed 's/.*\(Request device\)/\1/')
echo "VNEST: nest.fault=${fault:-none}"
echo "$fault" | grep -q 'fault addr 0x300000 \[fault reason 0x71\]' || ok=0
# What the kernel said of nesting, if it refused (not the command line)
dmesg | grep 'DMAR:' | grep -iE 'nest|refus|not supported|fail' |
    head -n 5 | sed 's/^/VNEST: kernel=/'
# VNest's own QEMU on this kernel, nesting an L2 through it: guest profile
# x86_64-vtd-nest-e2e (scripts/conformance.sh runs both).

echo "VNEST: kernel.warnings=$(dmesg | grep -c -E 'WARNING:|BUG:|Oops')"
[ "$ok" = 1 ]
