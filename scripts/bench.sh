#!/usr/bin/env bash
# Build and run VNest's benchmarks; they print figures.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$VNEST_ROOT/scripts/build-qemu.sh" vnest/tests/bench/bench-emu-translate >/dev/null
"$QEMU_BUILD/vnest/tests/bench/bench-emu-translate"

"$VNEST_ROOT/scripts/build-qemu.sh" qemu-system-x86_64 >/dev/null
"$VNEST_ROOT/scripts/bench-guest.sh"

"$VNEST_ROOT/scripts/build-qemu.sh" qemu-system-aarch64 >/dev/null
"$VNEST_ROOT/scripts/bench-guest-smmu.sh"

"$VNEST_ROOT/scripts/build-qemu.sh" qemu-system-s390x >/dev/null
"$VNEST_ROOT/scripts/bench-guest-zpci.sh"
