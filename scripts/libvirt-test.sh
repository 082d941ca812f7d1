#!/usr/bin/env bash
# `make libvirt-test`: real libvirt starts VNest domains.
#
#   scripts/libvirt-test.sh [--cached] [CASE...]
#
# Debian 13 chroots (scripts/libvirt-chroot.sh: libvirt 11.3 from trixie,
# 12.9 from trixie-backports) are built once under the cache directory.
# For each chroot in use: /proc, /sys, /dev and a fresh /run are mounted,
# VNest's QEMU is copied in, libvirtd and virtlogd are started with a test
# configuration; each case defines a domain from tests/libvirt/*.xml (the
# XML docs/libvirt.rst shows), boots it with `virsh start`, reads the guest
# test's result from the serial log and QEMU's trace events from libvirt's
# domain log (guest/report.sh, as guest/run.sh does), and undefines it.
# The daemons are stopped and everything unmounted on exit, failed or not.
# --cached: skip (exit 0, with a message) when a chroot is not built yet,
# as `make check` does. VNEST_RUN_TIMEOUT bounds each guest (default 300 s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$VNEST_ROOT/scripts/libvirt-chroot.sh"

# CASE:CHROOT:DOMAIN[:EVENT]. The domain is tests/libvirt/DOMAIN.xml
# booting the guest of guest/profiles/PROFILE.sh, PROFILE being DOMAIN
# without a "-11" (libvirt 11.3's spelling of the same); EVENT, a QEMU trace
# event that must happen while the guest runs, shows the configuration
# is the one meant (the nesting objects, or shadowing maps), not merely a
# guest that did its I/O. PROFILE "-": the case's own function.
CASES=(
    vtd-sim:trixie:x86_64-vtd-sim:vnest_sim_assign_map
    vtd-nest:trixie:x86_64-vtd-nest:vnest_vtd_hwpt_alloc
    smmu-nest-11:trixie:aarch64-smmu-nest-11:vnest_smmu_ste
    vtd-nest-12:backports:x86_64-vtd-nest:vnest_vtd_hwpt_alloc
    smmu-nest:backports:aarch64-smmu-nest:vnest_smmu_ste
    hostdev-iommufd:backports:-
    zpci:trixie:s390x-zpci:vnest_zpci_map
)

cached=0
if [ "${1:-}" = --cached ]; then cached=1; shift; fi
want=("$@")
selected=()
for c in "${CASES[@]}"; do
    if [ ${#want[@]} -eq 0 ] || printf '%s\n' "${want[@]}" | grep -qx "${c%%:*}"; then
        selected+=("$c")
    fi
done
[ ${#selected[@]} -gt 0 ] || die "no such case: ${want[*]} (have: $(printf '%s ' "${CASES[@]%%:*}"))"

OUT=$VNEST_BUILD/libvirt
mkdir -p "$OUT" "$VNEST_CACHE"
# The chroots are shared by every clone using this cache directory: one
# run at a time (each copies its own QEMU in).
exec 9>"$VNEST_CACHE/libvirt-chroot.lock"
flock -w 1200 9 || die "another libvirt test has held $VNEST_CACHE/libvirt-chroot.lock for 20 min"
if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
    [ "$cached" = 1 ] && { msg "libvirt test: skipped (needs root or sudo: chroot, mounts)"; exit 0; }
    die "needs root or sudo (chroot, mounts)"
fi

trap lv_stop EXIT
trap 'exit 130' INT TERM

# ---- cases ---------------------------------------------------------------
xml_cmdline() { sed -n 's:.*<cmdline>\(.*\)</cmdline>.*:\1:p' "$1"; }
xml_name() { sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$1" | head -n1; }

# Boot tests/libvirt/DOMAIN.xml and judge its guest as guest/run.sh does.
run_guest_case() {   # case domain event
    local case=$1 profile=${2%-11} must=$3 xml dom dir prep kernel initrd cmdline img
    local state seen start end ev evs=() specs=() spec rc n
    xml=$VNEST_ROOT/tests/libvirt/$2.xml
    [ -f "$xml" ] || die "no domain XML $xml"
    dom=$(xml_name "$xml")
    dir=$OUT/$case
    rm -rf "$dir"
    mkdir -p "$dir"
    # The profile's kernel, initramfs and kernel command line.
    prep=$(VNEST_PREPARE_ONLY=1 "$VNEST_ROOT/guest/run.sh" "$profile")
    kernel=$(sed -n 's/^kernel=//p' <<<"$prep")
    initrd=$(sed -n 's/^initrd=//p' <<<"$prep")
    cmdline=$(sed -n 's/^cmdline=//p' <<<"$prep")
    if [ "$(xml_cmdline "$xml")" != "$cmdline" ]; then
        echo "$case: the XML's <cmdline> is not guest profile $profile's:" >&2
        echo "  XML:     $(xml_cmdline "$xml")" >&2
        echo "  profile: $cmdline" >&2
        return 1
    fi
    img=$ROOT/var/lib/libvirt/images/vnest/$profile
    as_root mkdir -p "$img"
    as_root cp "$kernel" "$img/vmlinuz"
    as_root cp "$initrd" "$img/initrd.img"
    as_root rm -f "$img/disk.img"
    as_root truncate -s 64M "$img/disk.img"
    # QEMU opens the <qemu:commandline> disk itself, as libvirt-qemu.
    lv_chroot "$ROOT" chown libvirt-qemu:libvirt-qemu \
        "/var/lib/libvirt/images/vnest/$profile/disk.img"

    # The profile's trace counts, read from libvirt's domain log. Events
    # are enabled over QMP before the guest runs; the machine-init ones
    # (until=) happen before QMP exists and are left out.
    PROFILE_COUNT=()
    # shellcheck source=/dev/null
    . "$VNEST_ROOT/guest/profiles/$profile.sh"
    for spec in ${PROFILE_COUNT[@]+"${PROFILE_COUNT[@]}"}; do
        case $spec in *:until=*) continue ;; esac
        specs+=("$spec")
        evs+=("$(cut -d: -f2 <<<"$spec")")
        case $spec in
            *:after=*) ev=${spec#*:after=}; evs+=("${ev%%[^A-Za-z0-9_]*}") ;;
        esac
    done

    lv_virsh define "/dev/stdin" <"$xml" >/dev/null ||
        { echo "$case: virsh define failed" >&2; return 1; }
    lv_virsh dumpxml "$dom" >"$dir/domain.xml"
    start=$(date +%s.%N)
    if ! lv_virsh start --paused "$dom" >"$dir/start.txt" 2>&1; then
        cat "$dir/start.txt" >&2
        as_root cp "$ROOT/var/log/libvirt/qemu/$dom.log" "$dir/qemu.log" 2>/dev/null &&
            tail -n 5 "$dir/qemu.log" >&2
        lv_virsh undefine "$dom" >/dev/null 2>&1
        return 1
    fi
    evs+=("$must")
    for ev in $(printf '%s\n' "${evs[@]}" | sort -u); do
        lv_virsh qemu-monitor-command "$dom" \
            "{\"execute\":\"trace-event-set-state\",\"arguments\":{\"name\":\"$ev\",\"enable\":true}}" \
            >/dev/null
    done
    lv_virsh resume "$dom" >/dev/null
    # Until the guest powers off; a guest that reported its result and
    # still runs 15 s later has not (and fails).
    state='' seen=0
    for _ in $(seq "$(( ${VNEST_RUN_TIMEOUT:-300} * 2 ))"); do
        state=$(lv_virsh domstate --reason "$dom" 2>/dev/null || true)
        case $state in "shut off"*) break ;; esac
        if [ "$seen" = 0 ]; then
            as_root grep -q '^VNEST: result=' \
                "$ROOT/var/log/libvirt/qemu/$dom.serial.log" 2>/dev/null || seen=-1
            seen=$((seen + 1))
        else
            seen=$((seen + 1))
            [ "$seen" -gt 30 ] && break
        fi
        sleep 0.5
    done
    end=$(date +%s.%N)
    case $state in
        "shut off (shutdown)") rc=0 ;;
        "shut off"*) rc=1 ;;
        *) rc=124; lv_virsh destroy "$dom" >/dev/null 2>&1 || true ;;
    esac
    as_root cp "$ROOT/var/log/libvirt/qemu/$dom.serial.log" "$dir/console.log" 2>/dev/null ||
        : >"$dir/console.log"
    as_root cp "$ROOT/var/log/libvirt/qemu/$dom.log" "$dir/qemu.log" 2>/dev/null ||
        : >"$dir/qemu.log"
    lv_virsh undefine "$dom" >/dev/null
    echo "   libvirt:       $(sed -n 's/^Using library: //p' "$OUT/version-$CHROOT.txt"), domain $dom, state: $state"
    "$VNEST_ROOT/guest/report.sh" "$dir/console.log" \
        "libvirt $CHROOT: $PROFILE_DESC" "$rc" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" \
        ${specs[@]+"$dir/qemu.log" "${specs[@]}"} || return 1
    n=$("$VNEST_ROOT/guest/trace-count.sh" "$dir/qemu.log" "x:$must" | cut -f2)
    echo "   configuration: $must happened $n times"
    [ "${n:-0}" -gt 0 ] 2>/dev/null ||
        { echo "$case: $must never happened: not the configuration meant" >&2; return 1; }
}

# What libvirt makes of a host device assigned with iommufd, and whether
# VNest's QEMU takes it. No VFIO device exists here, so libvirt only
# prints the command line (virsh domxml-to-native); it refuses even that
# on a host with no IOMMU groups and no /dev/vfio/vfio, so for that one
# command the chroot sees a /dev and /sys/kernel that have them (empty
# stand-ins, never the host's). Then QEMU runs that command line, paused
# (-S, as libvirt starts it), twice:
#   as is: QEMU parses all of it and gets as far as realizing vfio-pci,
#       which fails only for want of a host device;
#   with each vfio-pci replaced by an emulated NVMe of the same id, bus
#       and addr, assigned through the same iommufd object by
#       vnest-sim-assign: QEMU starts, and over its QMP socket the
#       device's IOMMU objects are in the emulated host and intel-iommu
#       has the properties libvirt and <qemu:override> gave it.
# At a real start libvirt also passes file descriptors ("fd" of the
# iommufd object and of vfio-pci: /dev/iommu and the VFIO cdev).
run_hostdev_iommufd_case() {   # case
    local case=$1 xml dir home rc=0
    xml=$VNEST_ROOT/tests/libvirt/x86_64-vtd-hostdev-iommufd.xml
    dir=$OUT/$case
    rm -rf "$dir"
    mkdir -p "$dir"
    as_root cp "$xml" "$ROOT/tmp/vnest-hostdev.xml"
    as_root mount -t tmpfs -o mode=755 vnest-test-dev "$ROOT/dev"
    LV_MOUNTS+=("$ROOT/dev")
    as_root mkdir -p "$ROOT/dev/vfio"
    as_root touch "$ROOT/dev/vfio/vfio" "$ROOT/dev/iommu" "$ROOT/dev/null"
    as_root mount --bind /dev/null "$ROOT/dev/null"
    LV_MOUNTS+=("$ROOT/dev/null")
    as_root mount -t tmpfs vnest-test-sys "$ROOT/sys/kernel"
    LV_MOUNTS+=("$ROOT/sys/kernel")
    as_root mkdir -p "$ROOT/sys/kernel/iommu_groups/0"
    lv_virsh domxml-to-native qemu-argv /tmp/vnest-hostdev.xml \
        >"$dir/argv.txt" 2>"$dir/argv.err" || rc=1
    for _ in 1 2 3; do
        as_root umount "${LV_MOUNTS[-1]}"
        unset 'LV_MOUNTS[-1]'
    done
    if [ "$rc" != 0 ]; then cat "$dir/argv.err" >&2; return 1; fi
    echo "   libvirt:       $(sed -n 's/^Using library: //p' "$OUT/version-$CHROOT.txt") emits:"
    tr ' ' '\n' <"$dir/argv.txt" | grep -E "iommufd|vfio-pci" | sed 's/^/                  /'

    # The files libvirt would have made for the domain: its master key
    # (a -object secret) and the directory of its monitor socket.
    home=$(tr ' ' '\n' <"$dir/argv.txt" | sed -n 's/^HOME=//p')
    as_root mkdir -p "$ROOT$home"
    as_root sh -c "head -c 32 /dev/urandom >'$ROOT$home/master-key.aes'"
    as_root rm -f "$ROOT$home/monitor.sock"

    qemu_from() {   # output, python split args...
        local out=$1 env=() args=() w seen=0
        shift
        while IFS= read -r -d '' w; do
            if [ "$seen" = 0 ]; then
                if [ "$w" = -- ]; then seen=1; else env+=("$w"); fi
            else args+=("$w"); fi
        done < <(python3 "$VNEST_ROOT/scripts/libvirt-argv.py" split "$@")
        [ ${#args[@]} -gt 0 ] || return 1
        printf '%q ' "${args[@]}" >"$out.cmd"
        as_root env -i "${env[@]}" chroot "$ROOT" "${args[@]}" >"$out" 2>&1
    }
    # As is: the one error must be vfio-pci's missing host device.
    timeout 60 bash -c "$(declare -f qemu_from as_root); ROOT='$ROOT' VNEST_ROOT='$VNEST_ROOT'
        qemu_from '$dir/as-is.log' '$dir/argv.txt'" && rc=0 || rc=$?
    if [ "$rc" = 0 ] || [ "$rc" = 124 ] ||
       ! grep -q '"driver":"vfio-pci".*: No provided host device$' "$dir/as-is.log"; then
        echo "$case: libvirt's command line as is: expected vfio-pci to fail for want of a host device (exit $rc):" >&2
        cat "$dir/as-is.log" >&2
        return 1
    fi
    echo "   as is:         vfio-pci: $(head -n 1 "$dir/as-is.log" | sed 's/.*: //')"
    # With the stand-in: QEMU starts paused; QMP checks, then quits.
    as_root rm -f "$ROOT$home/monitor.sock"
    (ROOT=$ROOT qemu_from "$dir/stand-in.log" "$dir/argv.txt" stand-in) &
    local qpid=$!
    rc=0
    timeout 60 python3 "$VNEST_ROOT/scripts/libvirt-argv.py" qmp \
        "$ROOT$home/monitor.sock" || rc=1
    if ! wait "$qpid"; then rc=1; fi
    [ "$rc" = 0 ] || { echo "$case: QEMU with the stand-in:" >&2; cat "$dir/stand-in.log" >&2; }
    as_root rm -rf "$ROOT$home" "$ROOT/tmp/vnest-hostdev.xml"
    if [ "$rc" = 0 ]; then echo "   result:        PASS"; else echo "   result:        FAIL"; fi
    return "$rc"
}

passed=0 failed=0 failures=()
CHROOT=
t0=$(date +%s)
for chroot_name in "${LV_CHROOTS[@]}"; do
    mine=()
    for c in "${selected[@]}"; do
        IFS=: read -r case cr profile must <<<"$c"
        [ "$cr" = "$chroot_name" ] && mine+=("$case:$profile:${must:-}")
    done
    [ ${#mine[@]} -gt 0 ] || continue
    if [ ! -f "$(lv_root "$chroot_name")/.vnest-libvirt" ]; then
        if [ "$cached" = 1 ]; then
            msg "libvirt test: no cached $chroot_name chroot; skipped (make libvirt-test builds it)"
            continue
        fi
        t=$(date +%s)
        lv_build "$chroot_name"
        msg "$chroot_name chroot built in $(( $(date +%s) - t )) s"
    fi
    CHROOT=$chroot_name
    lv_start "$chroot_name"
    for m in "${mine[@]}"; do
        IFS=: read -r case profile must <<<"$m"
        msg "libvirt test: $case ($chroot_name)"
        if [ "$profile" = - ]; then
            "run_${case//-/_}_case" "$case" && rc=0 || rc=$?
        else
            run_guest_case "$case" "$profile" "$must" && rc=0 || rc=$?
        fi
        if [ "$rc" = 0 ]; then passed=$((passed + 1)); else
            failed=$((failed + 1)); failures+=("$case"); fi
    done
    lv_stop
done
for f in ${failures[@]+"${failures[@]}"}; do echo "FAILED: libvirt $f"; done
echo "libvirt test: $passed passed, $failed failed ($(( $(date +%s) - t0 )) s)"
[ "$failed" = 0 ]
