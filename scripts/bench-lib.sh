# Shared by the guest benchmarks (scripts/bench-guest*.sh). Sourced.
# shellcheck shell=bash

# bench_medians ARRAY KEY...: in the associative array ARRAY, each
# "RUN,KEY" entry holds one value per boot, space-separated; replace it by
# the median boot's and add "RUN,KEY.range" = "min-max".
bench_medians() {
    local -n bm_v=$1
    shift
    local k key
    for k in "${!bm_v[@]}"; do
        for key in "$@"; do
            [ "${k#*,}" = "$key" ] || continue
            bm_v[$k.range]=$(printf '%s\n' ${bm_v[$k]} | sort -n |
                             awk 'NR == 1 { a = $1 } { b = $1 } END { print a "-" b }')
            bm_v[$k]=$(printf '%s\n' ${bm_v[$k]} | sort -n |
                       awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        done
    done
}

# bench_header LABEL_WIDTH COLUMN_WIDTH "MODE..." TITLE...: the two header
# lines of a table with one group of columns (one per mode) per title.
bench_header() {
    local lw=$1 cw=$2 modes=($3) title mode out
    shift 3
    out=$(printf "%-${lw}s" "")
    for title in "$@"; do
        out+=$(printf "%$((cw * ${#modes[@]}))s  " "$title")
    done
    echo "$out"
    out=$(printf "%-${lw}s" "")
    for title in "$@"; do
        for mode in "${modes[@]}"; do out+=$(printf "%${cw}s" "$mode"); done
        out+="  "
    done
    echo "$out"
}
