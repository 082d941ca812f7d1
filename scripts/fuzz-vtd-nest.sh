#!/usr/bin/env bash
# The structured fuzzer for intel-iommu nesting (tests/qtest/vtd-nest-fuzz.c):
# random guests that write PASID entries, page tables and invalidation
# descriptors with nesting on, one QEMU per input. Usage:
#   scripts/fuzz-vtd-nest.sh             FUZZ_SECONDS (default 600), FUZZ_JOBS
#                                        processes (default: nproc)
#   scripts/fuzz-vtd-nest.sh FILE...     replay inputs (a saved crash)
# make check runs its fixed seeds as the qtest vnest-x86_64/vtd-nest-fuzz.
# A failing input is saved as build/fuzz-vtd-nest/crash-<sha1>, with the
# test's output beside it (.log).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$VNEST_BUILD/fuzz-vtd-nest
BIN=vnest/tests/qtest/vtd-nest-fuzz
"$VNEST_ROOT/scripts/build-qemu.sh" qemu-system-x86_64 "$BIN" >/dev/null
mkdir -p "$OUT"
cd "$QEMU_BUILD"
export QTEST_QEMU_BINARY=./qemu-system-x86_64

if [ $# -gt 0 ]; then
    rc=0
    for f in "$@"; do
        VNEST_FUZZ_REPLAY=$(realpath "$f") "./$BIN" --tap -k || rc=1
    done
    exit $rc
fi

job() {   # n: fuzz until the time is up, restarting after a failure
    local n=$1 end=$((SECONDS + ${FUZZ_SECONDS:-600})) left last=$OUT/last-$1
    while left=$((end - SECONDS)); [ "$left" -gt 0 ]; do
        if VNEST_FUZZ_LAST=$last VNEST_FUZZ_SECONDS=$left \
                "./$BIN" --tap -k >"$OUT/job-$n.log" 2>&1; then
            break
        fi
        sum=$(sha1sum "$last" | cut -d' ' -f1)
        cp "$last" "$OUT/crash-$sum"
        cp "$OUT/job-$n.log" "$OUT/crash-$sum.log"
        msg "failure saved: $OUT/crash-$sum (replay: $0 $OUT/crash-$sum)"
    done
    grep -E "inputs in|nest counters|DMA:" "$OUT/job-$n.log" | sed "s/^/job $n: /"
}

jobs=${FUZZ_JOBS:-$(nproc)}
msg "fuzzing intel-iommu nesting for ${FUZZ_SECONDS:-600} s with $jobs processes"
for n in $(seq "$jobs"); do
    job "$n" &
done
wait
if compgen -G "$OUT/crash-*" >/dev/null; then
    ls "$OUT"/crash-* | grep -v '\.log$'
    exit 1
fi
