#!/usr/bin/env bash
# How many failure points Linux's iommufd_fail_nth selftest sweeps, per
# test, on the real Linux 7.3 kernel (in a guest) and on the emulated
# host (through the LD_PRELOAD shim), side by side.
#
#   scripts/fail-nth-density.sh          needs the kernel make conformance
#                                        builds (cached in ~/.cache/vnest)
#
# The unmodified selftest source is built twice with
# tests/conformance/fail-nth-count.h force-included, which prints each
# iteration number the harness arms; the last one in a test is its number
# of failure points. Results in build/fail-nth-density/. A figure, not a
# test: the emulated host has fewer injection points than the kernel has
# allocations (docs/emulated-host.rst says where).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$VNEST_BUILD/fail-nth-density
PROFILE=x86_64-iommufd-selftest
COUNT_H=$VNEST_ROOT/tests/conformance/fail-nth-count.h

kdir=$(ls -dt "$VNEST_CACHE"/kernels/linux-*/.vnest-complete 2>/dev/null | head -n1)
[ -n "$kdir" ] || die "no cached kernel: run 'make conformance' first (~20-30 min)"
kdir=$(dirname "$kdir")
srcpkg=$(cat "$kdir/source")
src=$VNEST_CACHE/kernel-src/${srcpkg%%=*}_${srcpkg#*=}
st=$src/tools/testing/selftests
[ -f "$st/iommu/iommufd_fail_nth.c" ] || die "no selftest sources in $src"
"$VNEST_ROOT/scripts/build-qemu.sh" qemu-system-x86_64 \
    vnest/tests/preload/libiommufd-preload.so >/dev/null || die "build failed"
rm -rf "$OUT"
mkdir -p "$OUT/kdir" "$OUT/kernel" "$OUT/emulated"
hdr=$QEMU_TREE/linux-headers

# The guest's copy, static as build-kernel.sh builds it; the rest of the
# kernel directory is the cached one.
gcc -static -Wall -O2 -Wno-unused-function -D_GNU_SOURCE= -include "$COUNT_H" \
    -isystem "$hdr" -I "$st" -o "$OUT/kdir/iommufd_fail_nth" \
    "$st/iommu/iommufd_fail_nth.c" -lcap 2>"$OUT/build-static.log" ||
    die "cannot build the static selftest (see $OUT/build-static.log)"
for f in bzImage iommufd source config; do ln -s "$kdir/$f" "$OUT/kdir/$f"; done
# The host's copy, dynamic, for the shim.
gcc -O2 -D_GNU_SOURCE -Wno-unused-function -include "$COUNT_H" \
    -isystem "$hdr" -I"$st" -I"$src/tools/include" \
    "$st/iommu/iommufd_fail_nth.c" -lcap -o "$OUT/iommufd_fail_nth" \
    2>"$OUT/build-host.log" || die "cannot build the host selftest (see $OUT/build-host.log)"

msg "fail-nth density: the real kernel, in a guest"
VNEST_KERNEL_DIR=$OUT/kdir VNEST_APPEND="VNEST_SELFTESTS=iommufd_fail_nth" \
    "$VNEST_ROOT/guest/run.sh" "$PROFILE" >"$OUT/kernel/report.txt" 2>&1
cp "$VNEST_BUILD/guest/$PROFILE/iommufd_fail_nth.tap" "$OUT/kernel/" 2>/dev/null ||
    die "no kernel results (see $OUT/kernel/report.txt)"

msg "fail-nth density: the emulated host"
(cd "$OUT/emulated" &&
 LD_PRELOAD=$QEMU_BUILD/vnest/tests/preload/libiommufd-preload.so \
     timeout 600 "$OUT/iommufd_fail_nth" >iommufd_fail_nth.tap 2>&1)

python3 - "$OUT/kernel/iommufd_fail_nth.tap" "$OUT/emulated/iommufd_fail_nth.tap" <<'PY'
import re, sys

def points(path):
    counts, cur = {}, 0
    for line in open(path, errors='replace'):
        line = line.strip()
        m = re.search(r'# vnest-fail-nth: (\d+)', line)
        if m:
            cur = max(cur, int(m.group(1)))
            continue
        m = re.match(r'^(?:not )?ok \d+ (\S+)', line)
        if m:
            counts[m.group(1)] = cur
            cur = 0
    return counts

k, e = points(sys.argv[1]), points(sys.argv[2])
print('== iommufd_fail_nth: failure points swept per test')
print('  %-40s %8s %8s %7s' % ('test', 'kernel', 'emulated', 'ratio'))
tk = te = 0
for name in sorted(set(k) | set(e)):
    a, b = k.get(name, 0), e.get(name, 0)
    tk, te = tk + a, te + b
    print('  %-40s %8d %8d %6.2fx' % (name[:40], a, b, b / a if a else 0))
print('  %-40s %8d %8d %6.2fx' % ('all', tk, te, te / tk if tk else 0))
PY
