#!/usr/bin/env bash
# The structured fuzzers for nesting vIOMMUs: random guests that write their
# vIOMMU's tables and queues with nesting on, one QEMU per input.
#   vtd   intel-iommu,x-flts=on (tests/qtest/vtd-nest-fuzz.c): PASID
#         entries, page tables, invalidation descriptors
#   smmu  arm-smmuv3,accel=on (tests/qtest/smmu-nest-fuzz.c): STEs, CDs,
#         page tables, commands, CR0 / GBPA / stream table changes
#   zpci  s390 zPCI over iommufd (tests/qtest/zpci-iommufd-fuzz.c): the
#         guest's DMA tables, RPCIT operands, injected host failures,
#         registration changes (no nesting: RPCIT shadowed into an IOAS)
# Usage:
#   scripts/fuzz-nest.sh vtd|smmu|zpci      FUZZ_SECONDS (default 600),
#                                           FUZZ_JOBS processes (default:
#                                           nproc)
#   scripts/fuzz-nest.sh vtd|smmu|zpci FILE...  replay inputs (a saved crash)
# make check runs each one's fixed seeds as the qtests
# vnest-x86_64/vtd-nest-fuzz, vnest-aarch64/smmu-nest-fuzz and
# vnest-s390x/zpci-iommufd-fuzz. A failing input is saved as
# build/fuzz-<which>-nest/crash-<sha1> (build/fuzz-zpci/ for zpci), with
# the test's output beside it (.log).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# KNOWN_ABORTS: QEMU 10.0's own aborts on guest input (extended regular
# expression on the failing run's log), not VNest's: an input that ends in
# one is kept as known-<sha1>, not reported as a failure.
case "${1:-}" in
vtd)
    ARCH=x86_64 WHAT="intel-iommu nesting" KNOWN_ABORTS= ;;
smmu)
    # (decode_cd()'s abort on a reserved CD.IPS: fixed, hook patch 0013)
    ARCH=aarch64 WHAT="arm-smmuv3 nesting (accel=on)" KNOWN_ABORTS= ;;
zpci)
    ARCH=s390x WHAT="s390 zPCI RPCIT over iommufd" KNOWN_ABORTS= ;;
*)
    die "usage: $0 vtd|smmu|zpci [FILE...]" ;;
esac
WHICH=$1
shift

OUT=$VNEST_BUILD/fuzz-$WHICH-nest
BIN=vnest/tests/qtest/$WHICH-nest-fuzz
if [ "$WHICH" = zpci ]; then
    OUT=$VNEST_BUILD/fuzz-zpci
    BIN=vnest/tests/qtest/zpci-iommufd-fuzz
fi
inputs=()
for f in "$@"; do
    inputs+=("$(realpath "$f")")      # before the cd below
done
"$VNEST_ROOT/scripts/build-qemu.sh" "qemu-system-$ARCH" "$BIN" >/dev/null
mkdir -p "$OUT"
cd "$QEMU_BUILD"
export QTEST_QEMU_BINARY=./qemu-system-$ARCH

if [ ${#inputs[@]} -gt 0 ]; then
    rc=0
    for f in "${inputs[@]}"; do
        VNEST_FUZZ_REPLAY=$f "./$BIN" --tap -k || rc=1
    done
    exit $rc
fi

job() {   # n: fuzz until the time is up, restarting after a failure
    local n=$1 end=$((SECONDS + ${FUZZ_SECONDS:-600})) left last=$OUT/last-$1
    while left=$((end - SECONDS)); [ "$left" -gt 0 ]; do
        [ -x "./$BIN" ] || die "$BIN is gone (rebuilt under the fuzzer?)"
        if VNEST_FUZZ_LAST=$last VNEST_FUZZ_SECONDS=$left \
                "./$BIN" --tap -k >"$OUT/job-$n.log" 2>&1; then
            break
        fi
        sum=$(sha1sum "$last" | cut -d' ' -f1)
        kind=crash
        if [ -n "$KNOWN_ABORTS" ] &&
           grep -Eq "$KNOWN_ABORTS" "$OUT/job-$n.log"; then
            kind=known
        fi
        cp "$last" "$OUT/$kind-$sum"
        cp "$OUT/job-$n.log" "$OUT/$kind-$sum.log"
        msg "$kind failure saved: $OUT/$kind-$sum (replay: $0 $WHICH $OUT/$kind-$sum)"
    done
    grep -E "inputs in|nest counters|guest:|DMA" "$OUT/job-$n.log" |
        sed "s/^/job $n: /"
}

jobs=${FUZZ_JOBS:-$(nproc)}
msg "fuzzing $WHAT for ${FUZZ_SECONDS:-600} s with $jobs processes"
for n in $(seq "$jobs"); do
    job "$n" &
done
wait
if compgen -G "$OUT/crash-*" >/dev/null; then
    ls "$OUT"/crash-* | grep -v '\.log$'
    exit 1
fi
