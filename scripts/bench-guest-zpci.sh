#!/usr/bin/env bash
# `make bench`, s390 zPCI part: the same guest workload (reads of an NVMe
# disk behind zpci, assigned through the emulated iommufd;
# guest/profiles/s390x-zpci-bench.sh) with the guest's RPCITs brought into
# the IOAS two ways -- runs (hw/zpci-iommufd/: one IOMMU_IOAS_MAP per run
# of pages contiguous in IOVA and guest memory, one UNMAP per group of
# vanished runs) and per-page (x-rpcit-per-page=on: QEMU 10.0's path, one
# IOMMU notifier event, so one host call, per page; unmaps of contiguous
# pages in power-of-two blocks) -- for O_DIRECT reads into a user buffer
# (its pages scattered in guest memory) and reads through the page cache
# (folios filled in contiguous pieces), under strict and lazy guest
# flushing. A table of what each guest I/O and each RPCIT cost, counted in
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
OUT=$VNEST_BUILD/bench-zpci
PROFILE=s390x-zpci-bench
WORK=$VNEST_BUILD/guest/$PROFILE
MODES=(runs per-page)
declare -A ZPCI=([runs]="" [per-page]=x-rpcit-per-page=on)
# Sets of columns: iommu.strict, read size, O_DIRECT (1) or page cache
# (0), title.
SETS=("1 64k 1 strict, O_DIRECT 64 KiB" "1 1M 0 strict, page cache"
      "0 1M 0 lazy, page cache")
rm -rf "$OUT"
mkdir -p "$OUT"

# vIOMMU host time in a trace: from each RPCIT's trace line to the last
# host call traced before the next other line, summed over the window, in
# microseconds (the time the RPCIT spends walking and calling the host,
# less the last call's own duration, for both paths alike).
rpcit_us() {   # trace
    local w
    w="pci_nvme_read .* lba $(printf 0x%x $(( ${VNEST_MIB:-16} * 4096 )))\$"
    awk -v w="$w" '
        function t(line) { sub(/^[0-9]+@/, "", line); sub(/:.*/, "", line); return line + 0 }
        function close_rpcit() { if (t0 && t1) sum += t1 - t0; t0 = t1 = 0 }
        $0 ~ w { if (on) { close_rpcit(); exit } on = 1; next }
        !on { next }
        /:vnest_(zpci_map|zpci_unmap|sim_assign_map|sim_assign_unmap) / { if (t0) t1 = t($0); next }
        { close_rpcit() }
        /:vnest_zpci_rpcit/ { t0 = t($0) }
        END { printf "%.0f\n", sum * 1e6 }' "$1"
}

declare -A V C
for rep in $(seq "$REPEAT"); do
    for set in "${SETS[@]}"; do
        read -r strict bs direct _ <<<"$set"
        for mode in "${MODES[@]}"; do
            run=$mode.$strict.$bs.$direct
            msg "bench ($rep/$REPEAT): $mode, iommu.strict=$strict, $bs reads," \
                "$([ "$direct" = 1 ] && echo O_DIRECT || echo page cache)"
            if ! VNEST_BENCH_ZPCI=${ZPCI[$mode]} \
                 VNEST_APPEND="iommu.strict=$strict VNEST_BS=$bs VNEST_DIRECT=$direct VNEST_ROUNDS=$ROUNDS" \
                 "$VNEST_ROOT/guest/run.sh" "$PROFILE" >"$OUT/$run.report" 2>&1; then
                cat "$OUT/$run.report" >&2
                die "bench run $run failed"
            fi
            cp "$WORK/trace.log" "$OUT/$run.trace"
            cp "$WORK/console.log" "$OUT/$run.$rep.console"
            PROFILE_COUNT=()
            . "$VNEST_ROOT/guest/profiles/$PROFILE.sh"
            C=()
            while IFS=$'\t' read -r label value _; do
                C[$label]=$value
                V[$run,$label]+=" $value"
            done < <("$VNEST_ROOT/guest/trace-count.sh" "$OUT/$run.trace" \
                     "${PROFILE_COUNT[@]}")
            V[$run,host]+=" $(awk -v s="${C[window seconds]}" \
                -v r="${C[NVMe reads]}" 'BEGIN { printf "%.1f", s * 1e6 / r }')"
            V[$run,viommu]+=" $(awk -v us="$(rpcit_us "$OUT/$run.trace")" \
                -v r="${C[NVMe reads]}" 'BEGIN { printf "%.1f", us / r }')"
            V[$run,guest]+=" $(awk -v r="${C[NVMe reads]}" -v s="$(
                sed -n 's/^VNEST: bench.seconds=//p' "$OUT/$run.$rep.console" |
                tr -d '\r')" 'BEGIN { printf "%.1f", s * 1e6 / r }')"
        done
    done
done
# Medians over boots, counts too: how contiguous the guest's buffers are
# in its RAM changes from boot to boot.
bench_medians V host guest viommu "NVMe reads" RPCITs "IOAS maps" \
    "IOAS unmaps" "mapped bytes"

# One row: a label and an awk expression over r (NVMe reads), p (RPCITs),
# m/u (IOAS maps, unmaps), b (bytes mapped), host and guest (us per read,
# host wall and guest clock), viommu (us per read from RPCITs to their
# host calls), hostr and viommur (ranges over boots), and m0, u0, host0,
# viommu0 (the runs mode's in the same set).
row() {
    local label=$1 expr=$2 set strict bs direct mode run b out
    out=$(printf '%-30s' "$label")
    for set in "${SETS[@]}"; do
        read -r strict bs direct _ <<<"$set"
        b=runs.$strict.$bs.$direct
        for mode in "${MODES[@]}"; do
            run=$mode.$strict.$bs.$direct
            out+=$(awk -v r="${V[$run,NVMe reads]}" -v p="${V[$run,RPCITs]}" \
                -v m="${V[$run,IOAS maps]}" -v u="${V[$run,IOAS unmaps]}" \
                -v b="${V[$run,mapped bytes]}" -v host="${V[$run,host]}" \
                -v hostr="${V[$run,host.range]}" -v guest="${V[$run,guest]}" \
                -v m0="${V[$b,IOAS maps]}" -v u0="${V[$b,IOAS unmaps]}" \
                -v host0="${V[$b,host]}" -v viommu="${V[$run,viommu]}" \
                -v viommur="${V[$run,viommu.range]}" -v viommu0="${V[$b,viommu]}" \
                "BEGIN { v = $expr; printf \"%16s\", v }")
        done
        out+="  "
    done
    echo "$out"
}
num() { echo "(r ? sprintf(\"%.2f\", $1) : \"-\")"; }
per() { echo "($2 ? sprintf(\"%.2f\", $1 / $2) : \"-\")"; }

titles=()
for set in "${SETS[@]}"; do
    read -r _ _ _ title <<<"$set"
    titles+=("$title")
done
echo
echo "== Guest I/O through zPCI on the emulated host (host-iommu=paging): $ROUNDS"
echo "   passes over ${VNEST_MIB:-16} MiB of NVMe, per guest I/O and per RPCIT (counted"
echo "   between the workload's sentinel reads in QEMU's trace; host time: between"
echo "   those reads' trace timestamps, median of $REPEAT boots); TCG, $(nproc) host cores"
bench_header 30 16 "${MODES[*]}" "${titles[@]}"
row "NVMe reads counted" "r"
row "RPCITs / I/O" "$(num "p / r")"
row "IOAS maps / RPCIT" "$(per m p)"
row "IOAS unmaps / RPCIT" "$(per u p)"
row "host calls / RPCIT" "$(per "(m + u)" p)"
row "host calls / I/O" "$(num "(m + u) / r")"
row "  vs runs" "((m0 + u0) ? sprintf(\"%.2fx\", (m + u) / (m0 + u0)) : \"-\")"
row "4 KiB pages / map" "(m ? sprintf(\"%.2f\", b / 4096 / m) : \"-\")"
row "RPCIT host time us / I/O" "viommu"
row "  boots, min-max" "viommur"
row "  vs runs" "(viommu0 ? sprintf(\"%.2fx\", viommu / viommu0) : \"-\")"
row "host wall us / I/O" "host"
row "  boots, min-max" "hostr"
row "  vs runs" "(host0 ? sprintf(\"%.2fx\", host / host0) : \"-\")"
row "guest clock us / I/O" "guest"
echo "   reports, traces and consoles of each run: $OUT"
