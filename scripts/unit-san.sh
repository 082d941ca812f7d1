#!/usr/bin/env bash
# The emulated host's unit tests built outside QEMU with AddressSanitizer
# and UndefinedBehaviorSanitizer (clang), and run. The model is C and GLib
# only, so this needs no QEMU build: only the uAPI headers QEMU's tree
# carries (scripts/prepare-qemu.sh puts them there).
#
#   scripts/unit-san.sh                 build and run every unit suite
#   scripts/unit-san.sh test-emu-vtd    one suite (extra args go to it)
#
# Binaries in build/unit-san/. Exit status: non-zero on any failure or
# sanitizer report. make check runs it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$VNEST_BUILD/unit-san
CC=${SAN_CC:-clang}
command -v "$CC" >/dev/null || die "$CC not found (scripts/deps.sh installs clang)"
[ -f "$QEMU_TREE/linux-headers/linux/iommufd.h" ] || "$VNEST_ROOT/scripts/prepare-qemu.sh"
mkdir -p "$OUT"

# suite -> its extra sources (besides the model and emu-test.c), relative
# to the project root
declare -A SUITES=(
    [test-emu-iommufd]=""
    [test-emu-selftest]=""
    [test-emu-vtd]="tests/unit/vtd-s1.c"
    [test-emu-smmuv3]="tests/unit/smmu-s1.c"
    [test-inv-batch]="tests/unit/smmu-s1.c backends/inv-batch.c"
)
CFLAGS=(-g -O1 -D_GNU_SOURCE -Wall -Werror -Wno-unused-function
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -fno-omit-frame-pointer
        -I"$VNEST_ROOT/backends/iommufd-emu" -I"$VNEST_ROOT/tests/unit"
        -I"$VNEST_ROOT/backends"
        -isystem "$QEMU_TREE/linux-headers")
read -ra GLIB_CFLAGS <<<"$(pkg-config --cflags glib-2.0)"
read -ra GLIB_LIBS <<<"$(pkg-config --libs glib-2.0)"

build() {   # suite
    local name=$1 bin=$OUT/$1 srcs=() s
    for s in ${SUITES[$name]}; do srcs+=("$VNEST_ROOT/$s"); done
    srcs+=("$VNEST_ROOT"/backends/iommufd-emu/*.c
           "$VNEST_ROOT/tests/unit/emu-test.c" "$VNEST_ROOT/tests/unit/$name.c")
    if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" "$VNEST_ROOT"/backends/iommufd-emu/*.h "$VNEST_ROOT"/backends/*.h \
            "$VNEST_ROOT"/tests/unit/*.h -newer "$bin" 2>/dev/null)" ]; then
        "$CC" "${CFLAGS[@]}" "${GLIB_CFLAGS[@]}" "${srcs[@]}" "${GLIB_LIBS[@]}" -o "$bin"
    fi
}

# ThreadSanitizer: the suites' tests that run threads (the host lock).
TSAN_TESTS=(test-emu-vtd:/emu/vtd/threads)

build_tsan() {   # suite
    local name=$1 bin=$OUT/$1-tsan srcs=() s
    for s in ${SUITES[$name]}; do srcs+=("$VNEST_ROOT/$s"); done
    srcs+=("$VNEST_ROOT"/backends/iommufd-emu/*.c
           "$VNEST_ROOT/tests/unit/emu-test.c" "$VNEST_ROOT/tests/unit/$name.c")
    if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" "$VNEST_ROOT"/backends/iommufd-emu/*.h "$VNEST_ROOT"/backends/*.h \
            "$VNEST_ROOT"/tests/unit/*.h -newer "$bin" 2>/dev/null)" ]; then
        "$CC" "${CFLAGS[@]/-fsanitize=address,undefined/-fsanitize=thread}" \
            "${GLIB_CFLAGS[@]}" "${srcs[@]}" "${GLIB_LIBS[@]}" -o "$bin"
    fi
}

export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ $# -gt 0 ]; then
    name=$1
    shift
    build "$name"
    exec "$OUT/$name" "$@"
fi
rc=0
# The injection points the suites' fail-nth sweeps fail (emu_sweep_note())
export EMU_FAIL_SITES=$OUT/fail-sites.txt
: >"$EMU_FAIL_SITES"
for name in $(printf '%s\n' "${!SUITES[@]}" | sort); do
    build "$name" || { rc=1; continue; }
    if "$OUT/$name" >"$OUT/$name.log" 2>&1; then
        echo "ok: $name ($(grep -c '^ok' "$OUT/$name.log" || true) cases, ASan+UBSan)"
    else
        rc=1
        tail -n 30 "$OUT/$name.log"
        echo "FAILED: $name (see $OUT/$name.log)"
    fi
done
for t in "${TSAN_TESTS[@]}"; do
    name=${t%%:*}
    build_tsan "$name" || { rc=1; continue; }
    if "$OUT/$name-tsan" -p "${t#*:}" >"$OUT/$name-tsan.log" 2>&1; then
        echo "ok: $name ${t#*:} (ThreadSanitizer)"
    else
        rc=1
        grep -A 12 'WARNING: ThreadSanitizer' "$OUT/$name-tsan.log" | head -n 40
        echo "FAILED: $name ${t#*:} under ThreadSanitizer (see $OUT/$name-tsan.log)"
    fi
done
# Every injection point of the model (each emu_host_op() call) must be
# failed by some sweep: a point no test reaches is an unwind never run.
points=$(cd "$VNEST_ROOT/backends/iommufd-emu" &&
         grep -n 'emu_host_op([a-z]' ./*.c | cut -d: -f1,2 | sed 's|^\./||' |
         sort -u)
missing=$(comm -23 <(echo "$points") <(sort -u "$EMU_FAIL_SITES"))
if [ -n "$missing" ]; then
    rc=1
    echo "FAILED: injection points no fail-nth sweep reaches:"
    echo "$missing" | sed 's/^/  /'
else
    echo "ok: fail-nth sweeps reach all $(echo "$points" | wc -l) injection points"
fi
exit $rc
