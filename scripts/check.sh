#!/usr/bin/env bash
# `make check`: build, then run every VNest test and the QEMU qtests that
# concern IOMMUs and PCI on the targets we build, the style check and the
# guest run. Ends with one "N passed, N failed" line.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# QEMU's own qtests that concern IOMMUs and PCI, per target.
QEMU_QTESTS=(
    x86_64:intel-iommu-test x86_64:q35-test x86_64:device-introspect-test
    x86_64:qos-test
    aarch64:device-introspect-test aarch64:qos-test
    s390x:device-introspect-test
)

passed=0 failed=0 failures=()
record() {   # name rc
    if [ "$2" = 0 ]; then passed=$((passed + 1)); else
        failed=$((failed + 1)); failures+=("$1"); fi
}

targets=(qemu-system-x86_64 qemu-system-aarch64 qemu-system-s390x vnest-tests)
names=()
for t in "${QEMU_QTESTS[@]}"; do
    targets+=("tests/qtest/${t#*:}")
    names+=("qtest-${t%%:*}/${t#*:}")
done
"$VNEST_ROOT/scripts/build-qemu.sh" $(printf '%s\n' "${targets[@]}" | sort -u) ||
    die "build failed"

# meson selects by suite or by name, not both: two runs, two logs.
run_meson() {   # logbase, selection...
    local base=$1
    shift
    (cd "$QEMU_BUILD" && meson test --no-rebuild --print-errorlogs \
        --num-processes "$(nproc)" --logbase "$base" "$@")
    # Count every test program from meson's log.
    if [ -f "$QEMU_BUILD/meson-logs/$base.json" ]; then
        while read -r name res; do
            case $res in
                OK|SKIP|EXPECTEDFAIL) record "$name" 0 ;;
                *) record "$name" 1 ;;
            esac
        done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["name"].replace(" ", "_"), t["result"])
' "$QEMU_BUILD/meson-logs/$base.json")
    else
        record "meson-$base" 1
    fi
}

msg "running VNest's tests (meson suite vnest)"
run_meson vnest-tests --suite vnest
msg "running QEMU's IOMMU and PCI qtests: ${names[*]}"
run_meson qemu-qtests "${names[@]}"

msg "install: make install into a temporary DESTDIR, the emulators run as nobody from /"
"$VNEST_ROOT/scripts/install-check.sh"
record install-check $?

msg "sanitizers: the emulated host's unit suites under ASan and UBSan"
"$VNEST_ROOT/scripts/unit-san.sh"
record unit-san $?

msg "style: QEMU's checkpatch.pl on VNest's C files"
"$VNEST_ROOT/scripts/checkpatch.sh"
record checkpatch $?

msg "conformance comparison: tests of scripts/tap-compare.py"
python3 "$VNEST_ROOT/tests/conformance/test-tap-compare.py"
record tap-compare $?

msg "fuzz: a short deterministic libFuzzer run (make fuzz runs for hours)"
"$VNEST_ROOT/scripts/fuzz.sh" --check >"$VNEST_BUILD/fuzz-check.log" 2>&1
rc=$?
tail -n 4 "$VNEST_BUILD/fuzz-check.log"
record fuzz-emu-iommufd $rc

msg "conformance: Linux's selftests and uapi-check, real kernel vs emulated host"
"$VNEST_ROOT/scripts/conformance.sh" --cached >"$VNEST_BUILD/conformance.log" 2>&1
rc=$?
grep -E "agree|no cached kernel|error|QEMU on it|Nesting host" "$VNEST_BUILD/conformance.log"
record conformance $rc

msg "libvirt: Debian 13's libvirt 11.3 and 12.9 start VNest domains (when make libvirt-test built their chroots)"
# Bounded: about 90 s; 15 min at most, waiting for another clone's run.
timeout 900 "$VNEST_ROOT/scripts/libvirt-test.sh" --cached >"$VNEST_BUILD/libvirt-check.log" 2>&1
rc=$?
grep -E "^vnest: libvirt test|^FAILED|^libvirt test:|error" "$VNEST_BUILD/libvirt-check.log"
record libvirt $rc

for profile in x86_64-vtd x86_64-vtd-sim x86_64-vtd-nest aarch64-smmu aarch64-smmu-nest \
               s390x-zpci s390x-zpci-lazy; do
    msg "guest: $profile"
    "$VNEST_ROOT/guest/run.sh" "$profile"
    record "guest-$profile" $?
done

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
