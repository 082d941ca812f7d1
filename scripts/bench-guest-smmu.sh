#!/usr/bin/env bash
# `make bench`, arm-smmuv3 part: the same guest workload (O_DIRECT reads
# of an NVMe disk assigned through the emulated iommufd behind
# arm-smmuv3,accel=on; guest/profiles/aarch64-smmu-bench.sh) with the
# guest's commands sent to the host two ways -- batched (ONE
# IOMMU_HWPT_INVALIDATE per CMD_SYNC) and per-cmd (x-inv-per-cmd=on: one
# call per command, upstream QEMU's behaviour) -- for 4 KiB and 64 KiB
# reads, with range invalidation (RIL) offered or not, under strict and
# lazy guest flushing. A table of what each guest I/O cost, counted in
# QEMU's trace between the workload's two sentinel reads. Figures, not
# pass/fail. Each configuration boots VNEST_BENCH_REPEAT times (default
# 3), in turn with the others; times are the median boot.
# Environment: VNEST_BENCH_ROUNDS (passes over the region per boot,
# default 2), VNEST_BENCH_REPEAT, VNEST_MIB (region read, default 16).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

ROUNDS=${VNEST_BENCH_ROUNDS:-2}
REPEAT=${VNEST_BENCH_REPEAT:-3}
OUT=$VNEST_BUILD/bench-smmu
PROFILE=aarch64-smmu-bench
WORK=$VNEST_BUILD/guest/$PROFILE
MODES=(batched per-cmd)
declare -A SMMU=([batched]="" [per-cmd]=x-inv-per-cmd=on)
# Sets of columns: iommu.strict, read size, arm-smmuv3 options, title.
SETS=("1 4k - strict, 4 KiB" "1 64k - strict, 64 KiB")
if "$QEMU_BUILD/qemu-system-aarch64" -device arm-smmuv3,help 2>/dev/null |
   grep -q '^  ril='; then
    SETS+=("1 64k ril=off strict, 64 KiB, ril=off")
fi
SETS+=("0 64k - lazy, 64 KiB")
rm -rf "$OUT"
mkdir -p "$OUT"

declare -A V
for rep in $(seq "$REPEAT"); do
    for set in "${SETS[@]}"; do
        read -r strict bs opts _ <<<"$set"
        for mode in "${MODES[@]}"; do
            run=$mode.$strict.$bs.$opts
            smmu=${SMMU[$mode]}
            [ "$opts" = - ] || smmu=${smmu:+$smmu,}$opts
            msg "bench ($rep/$REPEAT): $mode, iommu.strict=$strict, $bs reads${smmu:+, $smmu}"
            if ! VNEST_BENCH_SMMU=$smmu \
                 VNEST_APPEND="iommu.strict=$strict VNEST_BS=$bs VNEST_ROUNDS=$ROUNDS" \
                 "$VNEST_ROOT/guest/run.sh" "$PROFILE" >"$OUT/$run.report" 2>&1; then
                cat "$OUT/$run.report" >&2
                die "bench run $run failed"
            fi
            cp "$WORK/trace.log" "$OUT/$run.trace"
            PROFILE_COUNT=()
            . "$VNEST_ROOT/guest/profiles/$PROFILE.sh"
            while IFS=$'\t' read -r label value _; do
                V[$run,$label]=$value
            done < <("$VNEST_ROOT/guest/trace-count.sh" "$OUT/$run.trace" \
                     "${PROFILE_COUNT[@]}")
            V[$run,host]+=" $(awk -v s="${V[$run,window seconds]}" \
                -v r="${V[$run,NVMe reads]}" 'BEGIN { printf "%.1f", s * 1e6 / r }')"
        done
    done
done
bench_medians V host

# One row: a label and an awk expression over r (reads), k (guest
# commands), y (CMD_SYNCs), c (host calls), e (entries), m/u (IOAS maps,
# unmaps), host (wall us per read), hostr (its range over boots), c0 and
# host0 (batched's in the same set).
row() {
    local label=$1 expr=$2 set strict bs opts mode run b out
    out=$(printf '%-30s' "$label")
    for set in "${SETS[@]}"; do
        read -r strict bs opts _ <<<"$set"
        b=batched.$strict.$bs.$opts
        for mode in "${MODES[@]}"; do
            run=$mode.$strict.$bs.$opts
            out+=$(awk -v r="${V[$run,NVMe reads]}" -v k="${V[$run,guest commands]}" \
                -v y="${V[$run,guest CMD_SYNCs]}" -v c="${V[$run,invalidate calls]}" \
                -v e="${V[$run,invalidate entries]}" -v m="${V[$run,IOAS maps]}" \
                -v u="${V[$run,IOAS unmaps]}" -v host="${V[$run,host]}" \
                -v hostr="${V[$run,host.range]}" -v c0="${V[$b,invalidate calls]}" \
                -v host0="${V[$b,host]}" "BEGIN { v = $expr; printf \"%14s\", v }")
        done
        out+="  "
    done
    echo "$out"
}
num() { echo "(r ? sprintf(\"%.2f\", $1) : \"-\")"; }

echo
echo "== Guest I/O through arm-smmuv3,accel=on on the emulated host: $ROUNDS passes"
echo "   over ${VNEST_MIB:-16} MiB of NVMe in O_DIRECT reads, per guest I/O (counted"
echo "   between the workload's sentinel reads in QEMU's trace; host time: between"
echo "   those reads' trace timestamps, median of $REPEAT boots); TCG, $(nproc) host cores"
titles=()
for set in "${SETS[@]}"; do
    read -r _ _ _ title <<<"$set"
    titles+=("$title")
done
bench_header 30 14 "${MODES[*]}" "${titles[@]}"
row "NVMe reads counted" "r"
row "guest commands / I/O" "$(num "k / r")"
row "guest CMD_SYNCs / I/O" "$(num "y / r")"
row "HWPT_INVALIDATE calls / I/O" "$(num "c / r")"
row "commands / host call" "(c ? sprintf(\"%.2f\", e / c) : \"-\")"
row "  calls vs batched" "(c0 ? sprintf(\"%.2fx\", c / c0) : \"-\")"
row "IOAS maps+unmaps / I/O" "$(num "(m + u) / r")"
row "host wall us / I/O" "host"
row "  boots, min-max" "hostr"
row "  vs batched" "(host0 ? sprintf(\"%.2fx\", host / host0) : \"-\")"
echo "   reports and traces of each run: $OUT"
