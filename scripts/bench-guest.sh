#!/usr/bin/env bash
# `make bench`, guest part: the same guest I/O workload (4 KiB random reads
# with O_DIRECT from an NVMe disk assigned through the emulated iommufd,
# guest/profiles/x86_64-vtd-bench.sh) with intel-iommu three ways --
# nested, shadow (second stage, caching mode) and nested with one host
# call per descriptor -- under strict and lazy guest IOTLB flushing, and
# with two disks in one guest DMA domain; a table of what each guest I/O
# cost, counted in QEMU's trace between the workload's two sentinel reads.
# Figures, not pass/fail.
# Times under TCG vary from boot to boot by up to 2x, more than the modes
# differ per read: each configuration boots VNEST_BENCH_REPEAT times
# (default 3), in turn with the others, and the table gives the median.
# Environment: VNEST_BENCH_IOS (reads per round, default 1000),
# VNEST_BENCH_ROUNDS (rounds per boot, default 5: the median round gives
# the boot's guest time per read), VNEST_BENCH_REPEAT, VNEST_BENCH_SHARED
# (0: skip the two-disk domain), VNEST_MIB (region read, default 16).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bench-lib.sh"

IOS=${VNEST_BENCH_IOS:-1000}
ROUNDS=${VNEST_BENCH_ROUNDS:-5}
REPEAT=${VNEST_BENCH_REPEAT:-3}
OUT=$VNEST_BUILD/bench
PROFILE=x86_64-vtd-bench
WORK=$VNEST_BUILD/guest/$PROFILE
MODES=(nested shadow per-desc)
declare -A IOMMU=(
    [nested]=x-scalable-mode=on,x-flts=on,caching-mode=on
    [shadow]=x-scalable-mode=on,caching-mode=on
    [per-desc]=x-scalable-mode=on,x-flts=on,caching-mode=on,x-inv-per-desc=on
)
# Sets of columns: iommu.strict value, number of disks, title.
SETS=("1 1 iommu.strict=1" "0 1 iommu.strict=0 (lazy)")
[ "${VNEST_BENCH_SHARED:-1}" = 0 ] ||
    SETS+=("1 2 2 disks, 1 domain, strict=1")
rm -rf "$OUT"
mkdir -p "$OUT"

declare -A V
for rep in $(seq "$REPEAT"); do
    for group in "${SETS[@]}"; do
        read -r strict devs _ <<<"$group"
        for mode in "${MODES[@]}"; do
            run=$mode.strict$strict.disks$devs
            msg "bench ($rep/$REPEAT): $ROUNDS x $IOS random reads, $mode," \
                "iommu.strict=$strict, $devs disk(s)"
            if ! VNEST_BENCH_IOMMU=${IOMMU[$mode]} VNEST_BENCH_DEVICES=$devs \
                 VNEST_APPEND="iommu.strict=$strict VNEST_IOS=$IOS VNEST_ROUNDS=$ROUNDS" \
                 "$VNEST_ROOT/guest/run.sh" "$PROFILE" >"$OUT/$run.report" 2>&1; then
                cat "$OUT/$run.report" >&2
                die "bench run $run failed"
            fi
            cp "$WORK/trace.log" "$OUT/$run.trace"
            cp "$WORK/console.log" "$OUT/$run.$rep.console"
            # The profile's counts, for this run's environment.
            PROFILE_COUNT=()
            VNEST_BENCH_IOMMU=${IOMMU[$mode]} VNEST_BENCH_DEVICES=$devs
            . "$VNEST_ROOT/guest/profiles/$PROFILE.sh"
            while IFS=$'\t' read -r label value _; do
                V[$run,$label]=$value
            done < <("$VNEST_ROOT/guest/trace-count.sh" "$OUT/$run.trace" \
                     "${PROFILE_COUNT[@]}")
            val() {
                sed -n "s/^VNEST: $1=//p" "$OUT/$run.$rep.console" | tr -d '\r' |
                    head -n1
            }
            V[$run,us]+=" $(val bench.usec_per_io)"
            V[$run,host]+=" $(awk -v s="${V[$run,window seconds]}" \
                -v r="${V[$run,NVMe reads]}" 'BEGIN { printf "%.1f", s * 1e6 / r }')"
            V[$run,domain]=$(val device.domain_type)
            V[$run,groups]=$(val device.iommu_group)
            [ "$devs" = 1 ] || V[$run,groups]+=,$(val device2.iommu_group)
        done
    done
done
# The median boot's times per read (the counts are the last boot's: they
# do not change from boot to boot).
bench_medians V us host

# One row: a label, then per run a string, or an awk expression over r
# (reads), s (submissions), d (descriptors), a (allocs), t (attaches), c
# (calls), e (entries), m (maps), u (unmaps), host and us (host and guest
# time per read, microseconds), hostr and usr (their ranges over boots),
# host0 and us0 (nested's in the same group).
row() {   # label, awk expression | -KEY (the string V[run,KEY])
    local label=$1 expr=$2 group strict devs mode run out
    out=$(printf '%-28s' "$label")
    for group in "${SETS[@]}"; do
        read -r strict devs _ <<<"$group"
        for mode in "${MODES[@]}"; do
            run=$mode.strict$strict.disks$devs
            if [ "${expr#-}" != "$expr" ]; then
                out+=$(printf '%12s' "${V[$run,${expr#-}]}")
                continue
            fi
            out+=$(awk -v r="${V[$run,NVMe reads]}" \
                -v s="${V[$run,guest submissions (tail writes)]}" \
                -v d="${V[$run,guest IOTLB descriptors]}" \
                -v a="${V[$run,nested HWPT allocs]}" \
                -v t="${V[$run,host attaches]}" \
                -v c="${V[$run,invalidate calls]}" \
                -v e="${V[$run,invalidate entries]}" \
                -v m="${V[$run,IOAS maps]}" -v u="${V[$run,IOAS unmaps]}" \
                -v us="${V[$run,us]}" -v usr="${V[$run,us.range]}" \
                -v us0="${V[nested.strict$strict.disks$devs,us]}" \
                -v host="${V[$run,host]}" -v hostr="${V[$run,host.range]}" \
                -v host0="${V[nested.strict$strict.disks$devs,host]}" \
                "BEGIN { v = $expr; printf \"%12s\", v }")
        done
        out+="  "
    done
    echo "$out"
}
num() { echo "(r ? sprintf(\"%.3f\", $1) : \"-\")"; }

echo
echo "== Guest I/O through intel-iommu on the emulated host: $ROUNDS x $IOS random"
echo "   4 KiB O_DIRECT reads of NVMe, per guest I/O (counted between the"
echo "   workload's sentinel reads in QEMU's trace; host time: between those"
echo "   reads' trace timestamps; guest time: the guest's clock, each boot's"
echo "   median round; both the median of $REPEAT boots); TCG, $(nproc) host cores"
titles=()
for group in "${SETS[@]}"; do
    read -r _ _ title <<<"$group"
    titles+=("$title")
done
bench_header 28 12 "${MODES[*]}" "${titles[@]}"
row "guest domain type" -domain
row "devices' IOMMU groups" -groups
row "NVMe reads counted" "r"
row "guest submissions / I/O" "$(num "s / r")"
row "IOTLB descriptors / I/O" "$(num "d / r")"
row "nested HWPT allocs / I/O" "$(num "a / r")"
row "host attaches / I/O" "$(num "t / r")"
row "HWPT_INVALIDATE calls / I/O" "$(num "c / r")"
row "entries / invalidate call" "(c ? sprintf(\"%.2f\", e / c) : \"-\")"
row "IOAS maps / I/O" "$(num "m / r")"
row "IOAS unmaps / I/O" "$(num "u / r")"
row "host iommufd calls / I/O" "$(num "(a + t + c + m + u) / r")"
row "host wall us / I/O" "host"
row "  boots, min-max" "hostr"
row "  vs nested" "(host0 ? sprintf(\"%.2fx\", host / host0) : \"-\")"
row "guest clock us / I/O" "us"
row "  boots, min-max" "usr"
echo "   reports, traces and consoles of each run: $OUT"
