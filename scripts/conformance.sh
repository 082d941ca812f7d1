#!/usr/bin/env bash
# make conformance: Linux's own iommufd selftests (iommufd, iommufd_fail_nth)
# and VNest's real-uAPI check (tests/conformance/uapi-check) run against a
# real Linux 7.3 kernel in a guest and against the emulated host (through
# the LD_PRELOAD shim), compared case by case.
#
#   scripts/conformance.sh            build the kernel if needed, run all
#   scripts/conformance.sh --cached   only if the kernel is already built
#                                     (what make check does)
# Results: build/conformance/{kernel,emulated}/*.tap and the tables printed.
# Exit status 0 when every difference is a known one
# (tests/conformance/known-differences.txt, each with its reason and the
# failing assertion lines each side prints) and no known entry is stale.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$VNEST_BUILD/conformance
PROFILE=x86_64-iommufd-selftest
KNOWN=$VNEST_ROOT/tests/conformance/known-differences.txt
# The emulated hardware uapi-check runs on: what the guest's vIOMMU is,
# QEMU's intel-iommu in scalable mode (no nesting, dirty tracking or PASID).
UAPI_HW="vtd,nesting=0,dirty=0,pasid=0"

if [ "${1:-}" = --cached ]; then
    # Whatever kernel build-kernel.sh last completed; never build here.
    kdir=$(ls -dt "$VNEST_CACHE"/kernels/linux-*/.vnest-complete 2>/dev/null |
           head -n1)
    if [ -z "$kdir" ]; then
        msg "conformance: no cached kernel; 'make conformance' builds one (~20 min)"
        exit 0
    fi
    kdir=$(dirname "$kdir")
else
    kdir=$("$VNEST_ROOT/scripts/build-kernel.sh") || die "kernel build failed"
fi
export VNEST_KERNEL_DIR=$kdir
# "linux-source-7.3=7.3.4-1~bpo13+1" -> its unpacked tree in the cache
srcpkg=$(cat "$kdir/source")
src=$VNEST_CACHE/kernel-src/${srcpkg%%=*}_${srcpkg#*=}
[ -d "$src/tools/testing/selftests/iommu" ] || die "no selftest sources in $src"
"$VNEST_ROOT/scripts/build-qemu.sh" qemu-system-x86_64 \
    vnest/tests/preload/libiommufd-preload.so \
    vnest/tests/conformance/uapi-check >/dev/null || die "build failed"
rm -rf "$OUT"
mkdir -p "$OUT/kernel" "$OUT/emulated" "$OUT/bin"

# The same selftest sources, built for this host and dynamically linked,
# so the shim can take /dev/iommu.
hdr=$QEMU_TREE/linux-headers
for b in iommufd iommufd_fail_nth; do
    (cd "$src/tools/testing/selftests/iommu" &&
     gcc -O2 -D_GNU_SOURCE -Wno-unused-function -isystem "$hdr" -I.. \
         -I"$src/tools/include" "$b.c" -lcap -o "$OUT/bin/$b" 2>"$OUT/bin/$b.log") ||
        die "cannot build the $b selftest for the host (see $OUT/bin/$b.log)"
done

msg "conformance: the real kernel, in a guest"
"$VNEST_ROOT/guest/run.sh" "$PROFILE" >"$OUT/kernel/report.txt" 2>&1
cp "$VNEST_BUILD/guest/$PROFILE"/*.tap "$OUT/kernel/" 2>/dev/null

msg "conformance: the emulated host"
shim=$QEMU_BUILD/vnest/tests/preload/libiommufd-preload.so
# The selftests' huge-page variants need hugetlb pages, as in the guest.
hugepages=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
if [ "$hugepages" -lt 256 ]; then
    echo 256 | as_root tee /proc/sys/vm/nr_hugepages >/dev/null 2>&1 || true
fi
# Standard input is a character device, as the guest's console is: the
# dmabuf cases map fd 0 (Linux 7.3.4's DMABUF_GET returns 0, not the fd).
for b in iommufd iommufd_fail_nth; do
    (cd "$OUT/emulated" && LD_PRELOAD=$shim timeout 600 "$OUT/bin/$b" \
        </dev/null >"$OUT/emulated/$b.tap" 2>&1)
done
VNEST_PRELOAD_HW=$UAPI_HW LD_PRELOAD=$shim \
    "$QEMU_BUILD/vnest/tests/conformance/uapi-check" >"$OUT/emulated/uapi-check.tap" 2>&1
if [ "$hugepages" -lt 256 ]; then
    echo "$hugepages" | as_root tee /proc/sys/vm/nr_hugepages >/dev/null 2>&1 || true
fi

rc=0
# VNest's QEMU ran in the guest with the kernel's iommufd (backends/ real path)
qline=$(grep 'QEMU on it:' "$OUT/kernel/report.txt" | sed 's/^ *//')
echo "${qline:-QEMU on it: no result}"
case $qline in *" ok, "*) ;; *) rc=1 ;; esac
# ... and with intel-iommu,x-flts=on: the kernel must refuse the nest parent
nline=$(grep 'QEMU nesting:' "$OUT/kernel/report.txt" | sed 's/^ *//')
echo "${nline:-QEMU nesting: no result}"
case $nline in *"refused by the kernel"*) ;; *) rc=1 ;; esac
for b in iommufd iommufd_fail_nth; do
    if [ ! -s "$OUT/kernel/$b.tap" ]; then
        msg "conformance: no kernel results for $b (see $OUT/kernel/report.txt)"
        rc=1
        continue
    fi
    python3 "$VNEST_ROOT/scripts/tap-compare.py" "$OUT/kernel/$b.tap" \
        "$OUT/emulated/$b.tap" --title "$b" --known "$KNOWN" || rc=1
done
# uapi-check: every line, "info:" ones included, step by step; a step
# on one side only is a difference too.
if [ -s "$OUT/kernel/uapi-check.tap" ]; then
    python3 "$VNEST_ROOT/scripts/tap-compare.py" --steps \
        "$OUT/kernel/uapi-check.tap" "$OUT/emulated/uapi-check.tap" \
        --title uapi-check --known "$KNOWN" || rc=1
else
    msg "conformance: no kernel results for uapi-check (see $OUT/kernel/report.txt)"
    rc=1
fi
# The same kernel on intel-iommu,x-nested=on (docs/vtd-nested-host.rst):
# it must nest (nest parent, VTD_S1 nested HWPT, DMA through both stages).
msg "conformance: the real kernel nesting on intel-iommu,x-nested=on"
"$VNEST_ROOT/guest/run.sh" x86_64-vtd-nesting-host >"$OUT/nesting-host.txt" 2>&1
steps=$(grep -c '^VNEST: nest\.[a-z0-9-]*=ok' \
        "$VNEST_BUILD/guest/x86_64-vtd-nesting-host/console.log" 2>/dev/null)
if grep -q 'result: *PASS' "$OUT/nesting-host.txt"; then
    echo "Nesting host: Linux 7.3 nests on x-nested=on, ${steps:-0} steps ok"
else
    echo "Nesting host: FAILED ($(grep -m1 '^VNEST: nest\.[a-z0-9-]*=[A-Z]' \
          "$VNEST_BUILD/guest/x86_64-vtd-nesting-host/console.log" 2>/dev/null |
          sed 's/^VNEST: nest\.//'); see $OUT/nesting-host.txt)"
    rc=1
fi
exit $rc
