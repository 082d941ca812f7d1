#!/usr/bin/env bash
# Turn a guest console log's "VNEST: key=value" lines into a short report.
#   guest/report.sh LOG DESCRIPTION QEMU_EXIT_CODE WALL_SECONDS \
#                   [TRACE_LOG COUNT_SPEC...]
# Exits 0 only if the guest reported result=PASS, QEMU exited cleanly and
# every count of QEMU's trace (guest/trace-count.sh) that expects a value
# has it.
set -uo pipefail
log=$1 desc=$2 qrc=$3 wall=$4
shift 4

val() { sed -n "s/^VNEST: $1=//p" "$log" | tr -d '\r' | head -n1; }

# Decode the VT-d extended capabilities a guest driver looks at.
ecap_flags() {
    local e=$(( $1 )) out=""
    (( e >> 43 & 1 )) && out+=" scalable-mode"
    (( e >> 47 & 1 )) && out+=" first-stage"
    (( e >> 46 & 1 )) && out+=" second-stage"
    (( e >> 26 & 1 )) && out+=" nesting"
    (( e >> 40 & 1 )) && out+=" pasid"
    (( e >> 1 & 1 )) && out+=" queued-invalidation"
    echo "${out# }"
}

result=$(val result)
echo "== VNest guest run: $desc"
echo "   kernel:        $(val kernel)"
iommu=$(val iommu)
if [ -n "$(val iommu.ecap)" ]; then
    echo "   IOMMU seen:    $iommu, VT-d version $(val iommu.version)," \
         "cap $(val iommu.cap), ecap $(val iommu.ecap)"
    echo "                  ($(ecap_flags "$(val iommu.ecap)"))"
else
    echo "   IOMMU seen:    ${iommu:-nothing reported}"
fi
[ -z "$(val device.bdf)" ] ||
    echo "   device:        $(val device.bdf) in IOMMU group $(val device.iommu_group)," \
         "domain type $(val device.domain_type)"
[ -z "$(val iommufd.dev)" ] ||
    echo "   uAPI:          iommufd $(val iommufd.dev), vfio-pci $(val vfio.driver)," \
         "cdev $(val vfio.cdev)"
if [ -n "$(val qemu.kernel_nest)" ]; then
    echo "   QEMU nesting:  x-flts=on with vfio-pci on this kernel: $(val qemu.kernel_nest)"
fi
if [ -n "$(val qemu.kernel_iommufd)" ]; then
    echo "   QEMU on it:    $(val qemu.kernel_iommufd), VNest's QEMU with the kernel" \
         "iommufd backend and vfio-pci: $(val qemu.kernel_iommufd.maps) IOAS maps"
fi
bytes=$(val data.bytes)
w=$(val data.sha256.written) r=$(val data.sha256.read)
if [ -n "$bytes" ]; then
    if [ "$w" = "$r" ]; then m="match"; else m="MISMATCH"; fi
    echo "   data:          $bytes bytes written and read back by DMA, sha256 $m"
fi
[ -z "$(val bench.ios)" ] ||
    echo "   workload:      $(val bench.ios) random 4 KiB reads, $(val bench.usec_per_io) us" \
         "each (median of $(val bench.rounds) rounds), $(val bench.bad_blocks) bad blocks"
# TAP streams the guest summed up as "VNEST: tap.NAME=SUMMARY"; run.sh kept
# each stream beside the log as NAME.tap.
sed -n 's/^VNEST: tap\.\([^=]*\)=/\1 /p' "$log" | tr -d '\r' |
    while read -r name summary; do
        printf '   %-14s %s\n' "$name:" "$summary"
        printf '   %-14s %s\n' "" "TAP in $(dirname "$log")/$name.tap"
    done
[ -z "$(val kernel.warnings)" ] ||
    echo "   kernel warns:  $(val kernel.warnings) (WARNING/BUG/Oops lines in dmesg)"
sed -n 's/^VNEST: error=/   error:         /p' "$log" | tr -d '\r'
sed -n 's/^VNEST: dmar.log=/   DMAR log:      /p' "$log"
# Counts of QEMU trace events the profile asked for.
counts_ok=1
if [ $# -gt 0 ]; then
    trace=$1
    shift
    head="QEMU trace:"
    while IFS=$'\t' read -r label value expect; do
        note=
        if [ -n "$expect" ]; then
            if [ "$value" = "$expect" ]; then note=" (as expected)"; else
                note=" (EXPECTED $expect)"
                counts_ok=0
            fi
        fi
        printf '   %-14s %s: %s%s\n' "$head" "$label" "$value" "$note"
        head=
    done < <("$(dirname "$0")/trace-count.sh" "$trace" "$@" ||
             echo "trace unreadable	?	ok")
    printf '   %-14s %s\n' "" "trace in $trace"
fi
[ -z "$(val boot.seconds)" ] ||
    echo "   guest boot:    $(val boot.seconds) s of guest uptime when the test started"
echo "   wall time:     ${wall} s (QEMU start to exit)"
if [ "$result" = PASS ] && [ "$qrc" = 0 ] && [ "$counts_ok" = 1 ]; then
    echo "   result:        PASS"
    exit 0
fi
echo "   result:        FAIL (guest: ${result:-no result}, QEMU exit code $qrc$([ "$counts_ok" = 1 ] || echo ", trace counts differ"))"
echo "   last console lines:"
tail -n 15 "$log" | sed 's/^/     | /'
exit 1
