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
# Its nesting uAPI step by step against the emulated host's VT-d
cp "$VNEST_BUILD/guest/x86_64-vtd-nesting-host/uapi-check-nest-vtd.tap" \
    "$OUT/kernel/" 2>/dev/null
VNEST_PRELOAD_HW=vtd,nesting=1 LD_PRELOAD=$shim \
    "$QEMU_BUILD/vnest/tests/conformance/uapi-check" --nest \
    >"$OUT/emulated/uapi-check-nest-vtd.tap" 2>&1
if [ -s "$OUT/kernel/uapi-check-nest-vtd.tap" ]; then
    python3 "$VNEST_ROOT/scripts/tap-compare.py" --steps \
        "$OUT/kernel/uapi-check-nest-vtd.tap" "$OUT/emulated/uapi-check-nest-vtd.tap" \
        --title uapi-check-nest-vtd --known "$KNOWN" || rc=1
else
    msg "conformance: no kernel results for uapi-check --nest (see $OUT/nesting-host.txt)"
    rc=1
fi

# End to end (issue 11): L0 intel-iommu,x-nested=on, L1 this kernel with
# the device on vfio-pci, VNest's QEMU in L1 nesting L2's first stage
# through the real /dev/iommu, driven by tests/qtest/vtd-nest-e2e-test;
# the same test on the emulated host. Compared: the steps (what L2 saw)
# and the host calls VNest's QEMU made, with their payloads, in order.
e2e_calls() {  # trace file -> "call-NN: event fields" (ids kept; fds,
               # pointers and the device's name dropped)
    grep -E '^(iommufd_backend_(alloc_hwpt|free_id)|vnest_host_dev_(attach|detach)|vnest_iommufd_(invalidate|alloc_viommu|alloc_vdevice)|vnest_vtd_(hwpt_alloc|inv_queue)|vnest_smmu_(ste|inv_send)) ' "$1" |
        sed -E 's/ (iommufd|fd)=-?[0-9]+//g; s/ data_ptr=0x[0-9a-f]+//;
                s/^(vnest_host_dev_[a-z]+) [^ ]+/\1/; s/  +/ /g' |
        awk '{ printf "call-%02d: %s\n", NR, $0 }'
}
# e2e_compare PROFILE NAME QEMU: the guest run, then NAME-test on the
# emulated host with QEMU, both compared (steps, then host calls).
e2e_compare() {
    local profile=$1 name=$2 qemu=$3 g=$VNEST_BUILD/guest/$1 t
    "$VNEST_ROOT/guest/run.sh" "$profile" >"$OUT/kernel/report-$name.txt" 2>&1 || rc=1
    grep -E '^ *(result|error):' "$OUT/kernel/report-$name.txt" | sed "s/^ */$name guest: /"
    cp "$g/$name.tap" "$OUT/kernel/" 2>/dev/null
    [ -f "$g/$name-trace.tap" ] &&
        e2e_calls "$g/$name-trace.tap" >"$OUT/kernel/$name-calls.tap"
    (cd "$QEMU_BUILD" && VNEST_E2E_LOG=$OUT/emulated/$name.tap \
        VNEST_E2E_TRACE=$OUT/emulated/$name.trace \
        QTEST_QEMU_BINARY=./$qemu \
        "./vnest/tests/qtest/$name-test" >"$OUT/emulated/$name.out" 2>&1) || rc=1
    e2e_calls "$OUT/emulated/$name.trace" >"$OUT/emulated/$name-calls.tap"
    for t in "$name" "$name-calls"; do
        if [ -s "$OUT/kernel/$t.tap" ]; then
            python3 "$VNEST_ROOT/scripts/tap-compare.py" --steps \
                "$OUT/kernel/$t.tap" "$OUT/emulated/$t.tap" \
                --title "$t" --known "$KNOWN" || rc=1
        else
            msg "conformance: no kernel results for $t (see $OUT/kernel/report-$name.txt)"
            rc=1
        fi
    done
}
msg "conformance: end to end, L2 nested through the real kernel (x86_64)"
"$VNEST_ROOT/scripts/build-qemu.sh" vnest/tests/qtest/vtd-nest-e2e-test >/dev/null ||
    die "build failed"
e2e_compare x86_64-vtd-nest-e2e vtd-nest-e2e qemu-system-x86_64

# The arm64 nesting host: QEMU's arm-smmuv3 (stage=nested, x-s2fwb=on)
# under a Linux 7.3 arm64 guest, whose iommufd nests on it; uapi-check
# --nest there and on the emulated host's SMMUv3, compared step by step.
if [ "${1:-}" = --cached ]; then
    adir=$(ls -dt "$VNEST_CACHE"/kernels/arm64-linux-*/.vnest-complete 2>/dev/null |
           head -n1)
    adir=${adir:+$(dirname "$adir")}
else
    adir=$("$VNEST_ROOT/scripts/build-kernel.sh" arm64) || die "arm64 kernel build failed"
fi
if [ -z "$adir" ]; then
    msg "conformance: no cached arm64 kernel; 'make conformance' builds one (~15 min)"
    exit $rc
fi
"$VNEST_ROOT/scripts/build-qemu.sh" qemu-system-aarch64 >/dev/null ||
    die "build failed"
msg "conformance: Linux 7.3 arm64 nesting on QEMU's arm-smmuv3"
VNEST_ARM64_KERNEL_DIR=$adir "$VNEST_ROOT/guest/run.sh" aarch64-iommufd-nest \
    >"$OUT/kernel/report-arm64.txt" 2>&1 || rc=1
grep -E '^ *(result|error):' "$OUT/kernel/report-arm64.txt" | sed 's/^ */arm64 guest: /'
cp "$VNEST_BUILD/guest/aarch64-iommufd-nest/uapi-check-nest.tap" "$OUT/kernel/" 2>/dev/null
VNEST_PRELOAD_HW=smmuv3,nesting=1 LD_PRELOAD=$shim \
    "$QEMU_BUILD/vnest/tests/conformance/uapi-check" --nest \
    >"$OUT/emulated/uapi-check-nest.tap" 2>&1
if [ -s "$OUT/kernel/uapi-check-nest.tap" ]; then
    python3 "$VNEST_ROOT/scripts/tap-compare.py" --steps \
        "$OUT/kernel/uapi-check-nest.tap" "$OUT/emulated/uapi-check-nest.tap" \
        --title uapi-check-nest --known "$KNOWN" || rc=1
else
    msg "conformance: no arm64 kernel results (see $OUT/kernel/report-arm64.txt)"
    rc=1
fi

# End to end on arm64: VNest's QEMU cross-built for arm64 hosts
# (scripts/build-qemu-cross.sh, its Debian arm64 sysroot cached) in that
# guest, nesting L2 through its kernel; the same test on the emulated host.
if [ ! -s "$ARM64_SYSROOT/.vnest-sysroot" ]; then
    msg "conformance: no arm64 sysroot cached; scripts/build-qemu-cross.sh makes one (then the arm64 end-to-end run is part of this)"
    exit $rc
fi
msg "conformance: end to end, L2 nested through the real kernel (arm64)"
"$VNEST_ROOT/scripts/build-qemu.sh" vnest/tests/qtest/smmu-nest-e2e-test >/dev/null ||
    die "build failed"
VNEST_ARM64_KERNEL_DIR=$adir e2e_compare aarch64-smmu-nest-e2e smmu-nest-e2e qemu-system-aarch64
exit $rc
