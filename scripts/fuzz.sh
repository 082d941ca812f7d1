#!/usr/bin/env bash
# Build and run the libFuzzer target on the emulated host's ioctl entry
# points (tests/fuzz/). Usage:
#   scripts/fuzz.sh                 run for FUZZ_SECONDS (default 3600)
#   scripts/fuzz.sh --check         short deterministic run for make check
# The corpus stays in build/fuzz/corpus between runs; a crash is saved in
# build/fuzz/ and reproduced with: build/fuzz/fuzz-emu-iommufd CRASHFILE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$VNEST_BUILD/fuzz
BIN=$OUT/fuzz-emu-iommufd
CC=${FUZZ_CC:-clang}

command -v "$CC" >/dev/null || die "$CC not found (scripts/deps.sh installs clang)"
[ -f "$QEMU_TREE/linux-headers/linux/iommufd.h" ] || "$VNEST_ROOT/scripts/prepare-qemu.sh"
mkdir -p "$OUT/corpus"
src=("$VNEST_ROOT"/backends/iommufd-emu/*.c "$VNEST_ROOT/tests/fuzz/fuzz-emu-iommufd.c")
if [ ! -x "$BIN" ] || [ -n "$(find "${src[@]}" "$VNEST_ROOT"/backends/iommufd-emu/*.h \
        -newer "$BIN" 2>/dev/null)" ]; then
    msg "building $BIN"
    # shellcheck disable=SC2046
    "$CC" -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined \
        -I"$VNEST_ROOT/backends/iommufd-emu" -isystem "$QEMU_TREE/linux-headers" \
        $(pkg-config --cflags glib-2.0) "${src[@]}" \
        $(pkg-config --libs glib-2.0) -o "$BIN"
fi
cd "$OUT"
if [ "${1:-}" = --check ]; then
    exec "$BIN" -seed=1 -runs="${FUZZ_RUNS:-20000}" -max_len=4096 \
        -print_final_stats=1 corpus
fi
exec "$BIN" -max_total_time="${FUZZ_SECONDS:-3600}" -max_len=4096 \
    -print_final_stats=1 corpus
