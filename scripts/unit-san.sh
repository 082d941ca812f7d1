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

# suite -> its extra sources (besides the model and emu-test.c)
declare -A SUITES=(
    [test-emu-iommufd]=""
    [test-emu-selftest]=""
    [test-emu-vtd]="vtd-s1.c"
    [test-emu-smmuv3]="smmu-s1.c"
)
CFLAGS=(-g -O1 -D_GNU_SOURCE -Wall -Werror -Wno-unused-function
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -fno-omit-frame-pointer
        -I"$VNEST_ROOT/backends/iommufd-emu" -I"$VNEST_ROOT/tests/unit"
        -isystem "$QEMU_TREE/linux-headers")
read -ra GLIB_CFLAGS <<<"$(pkg-config --cflags glib-2.0)"
read -ra GLIB_LIBS <<<"$(pkg-config --libs glib-2.0)"

build() {   # suite
    local name=$1 bin=$OUT/$1 srcs=() s
    for s in ${SUITES[$name]}; do srcs+=("$VNEST_ROOT/tests/unit/$s"); done
    srcs+=("$VNEST_ROOT"/backends/iommufd-emu/*.c
           "$VNEST_ROOT/tests/unit/emu-test.c" "$VNEST_ROOT/tests/unit/$name.c")
    if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" "$VNEST_ROOT"/backends/iommufd-emu/*.h \
            "$VNEST_ROOT"/tests/unit/*.h -newer "$bin" 2>/dev/null)" ]; then
        "$CC" "${CFLAGS[@]}" "${GLIB_CFLAGS[@]}" "${srcs[@]}" "${GLIB_LIBS[@]}" -o "$bin"
    fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ $# -gt 0 ]; then
    name=$1
    shift
    build "$name"
    exec "$OUT/$name" "$@"
fi
rc=0
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
exit $rc
