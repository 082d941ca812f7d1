#!/bin/sh
# Guest test: the kernel's own iommufd selftests (tools/testing/selftests/
# iommu, built with the kernel by scripts/build-kernel.sh and put in the
# initramfs at /vnest/bin), run against the kernel's mock IOMMU
# (IOMMUFD_TEST). First checks the real uAPI is there: /dev/iommu, and an
# edu device bound to vfio-pci so its vfio cdev appears.
#
# Each binary's output (TAP, with the harness's "#" diagnostics) is copied
# to the console as "VNEST-TAP: NAME: LINE" (the host keeps it as
# NAME.tap) and summed up as "VNEST: tap.NAME=...".
# Environment (kernel parameters, e.g. through VNEST_APPEND):
#   VNEST_SELFTESTS=iommufd,iommufd_fail_nth   which binaries to run ("none":
#                                   only the /dev/iommu and vfio checks)
#   VNEST_IOMMUFD_ARGS=...          harness arguments for iommufd, and
#   VNEST_IOMMUFD_FAIL_NTH_ARGS=... for iommufd_fail_nth, commas for spaces
#                                   (e.g. -f,basic_fail_nth or -T,access_pin;
#                                   the harness's -l lists the tests)
#   VNEST_SELFTEST_TIMEOUT=600      limit per binary, in seconds
#   VNEST_SELFTEST_KNOWN_FAIL=a,b   test names (the last part of
#                                   FIXTURE.VARIANT.TEST) whose failure is
#                                   known: counted apart, they do not fail
#                                   this test; any other failure does
. /vnest/tests/iommu-info.sh

uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "VNEST: boot.seconds=$(uptime_s)"
ok=1

# /dev/iommu and a vfio-pci cdev for the edu device (vendor 1234, device
# 11e8). edu has no driver of its own; driver_override makes vfio-pci take
# it on the next probe.
if [ -c /dev/iommu ]; then
    echo "VNEST: iommufd.dev=/dev/iommu"
else
    echo "VNEST: iommufd.dev=missing"; ok=0
fi
edu=
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
        edu=$(basename "$d")
        break
    fi
done
if [ -n "$edu" ]; then
    iommu_report "$edu"
    echo vfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
    echo "$edu" >/sys/bus/pci/drivers_probe 2>/dev/null
    drv=$(basename "$(readlink "/sys/bus/pci/devices/$edu/driver" 2>/dev/null)")
    echo "VNEST: vfio.driver=${drv:-none}"
    cdev=$(ls "/sys/bus/pci/devices/$edu/vfio-dev" 2>/dev/null | head -n1)
    if [ -n "$cdev" ] && [ -c "/dev/vfio/devices/$cdev" ]; then
        echo "VNEST: vfio.cdev=/dev/vfio/devices/$cdev"
    else
        echo "VNEST: vfio.cdev=missing"; ok=0
    fi
else
    echo "VNEST: error=no edu device (1234:11e8) on the PCI bus"; ok=0
fi

# iommufd_fail_nth drives the fault injection through debugfs. Some
# iommufd cases map MAP_HUGETLB buffers (the dirty-tracking ones up to
# 128 MiB), so reserve 256 MiB of huge pages.
mount -t debugfs debugfs /sys/kernel/debug
echo 128 >/proc/sys/vm/nr_hugepages
echo "VNEST: hugepages=$(cat /proc/sys/vm/nr_hugepages)"

# run_selftest NAME ARGS: run /vnest/bin/NAME, stream its output, sum it up.
run_selftest() {
    local name=$1 args=$2 t0 t1 rc totals pass fail skip xfail planned secs
    local tcase k known=0 unexpected=0 is_known
    t0=$(uptime_s)
    # The harness forks one child per case: when the time limit stops the
    # parent, kill a child still running too, or it keeps the pipe open.
    # shellcheck disable=SC2086
    { timeout "${VNEST_SELFTEST_TIMEOUT:-600}" "/vnest/bin/$name" $args 2>&1
      echo $? >"/tmp/$name.rc"
      killall -KILL "$name" 2>/dev/null; } |
        tee "/tmp/$name.tap" |
        awk -v p="VNEST-TAP: $name: " '{ print p $0; fflush() }'
    t1=$(uptime_s)
    rc=$(cat "/tmp/$name.rc")
    # The harness's last line: "# Totals: pass:N fail:N xfail:N xpass:N
    # skip:N error:N".
    totals=$(sed -n 's/^# Totals: //p' "/tmp/$name.tap" | tail -n1)
    if [ -n "$totals" ]; then
        count() { echo "$totals" | tr ' ' '\n' | sed -n "s/^$1:\([0-9]*\)$/\1/p"; }
        pass=$(count pass) fail=$(( $(count fail) + $(count error) ))
        skip=$(count skip) xfail=$(count xfail)
    else
        # No totals line (stopped by the time limit): count what ran.
        skip=$(grep -c '^ok .*# SKIP' "/tmp/$name.tap")
        xfail=$(grep -c '^ok .*# XFAIL' "/tmp/$name.tap")
        pass=$(( $(grep -c '^ok ' "/tmp/$name.tap") - skip - xfail ))
        fail=$(grep -c '^not ok ' "/tmp/$name.tap")
    fi
    # Sort the failed cases into known and unexpected ones.
    for tcase in $(sed -n 's/^not ok [0-9]* \([^ ]*\).*/\1/p' "/tmp/$name.tap"); do
        is_known=0
        for k in $(echo "${VNEST_SELFTEST_KNOWN_FAIL:-}" | tr ',' ' '); do
            [ "$k" = "${tcase##*.}" ] && is_known=1
        done
        if [ "$is_known" = 1 ]; then
            known=$((known + 1))
        else
            unexpected=$((unexpected + 1))
            echo "VNEST: selftest.$name.failed=$tcase"
        fi
    done
    planned=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "/tmp/$name.tap" | head -n1)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
    echo "VNEST: tap.$name=pass $pass fail $fail ($known known) skip $skip xfail $xfail of ${planned:-?} planned, exit $rc, $secs s"
    echo "VNEST: selftest.$name.seconds=$secs"
    [ "$rc" = 124 ] || [ "$rc" = 143 ] &&
        echo "VNEST: error=$name stopped by the ${VNEST_SELFTEST_TIMEOUT:-600} s limit"
    # The harness exits 1 when any case failed; known failures only are fine.
    case $rc in 0|1) ;; *) return 1 ;; esac
    [ "$unexpected" = 0 ] && [ "$fail" = "$known" ]
}

# The project's own real-uAPI check against this kernel (no mock ops):
# its lines go to the host as uapi-check.tap for scripts/conformance.sh.
if [ -x /vnest/bin/uapi-check ] && [ -n "${cdev:-}" ]; then
    /vnest/bin/uapi-check /dev/iommu "/dev/vfio/devices/$cdev" 2>&1 |
        awk -v p="VNEST-TAP: uapi-check: " '{ print p $0; fflush() }'
fi

# VNest's QEMU on this kernel's iommufd (the real-kernel backend path):
# vfio-pci takes the edu device through its cdev; QEMU maps its RAM into
# the kernel's IOAS. qtest accel: no guest CPU runs, the setup is the test.
qemu_on_kernel() {
    local q=/vnest/qemu out maps fails
    [ -x "$q/run/qemu-system-x86_64" ] && [ -n "${edu:-}" ] || return 0
    out=$(echo quit | timeout 120 "$q/run/qemu-system-x86_64" -M q35 -m 64 \
          -accel qtest -display none -vga none -nodefaults \
          -object iommufd,id=if0,emulated=off \
          -device "vfio-pci,sysfsdev=/sys/bus/pci/devices/$edu,iommufd=if0" \
          -monitor stdio -trace 'iommufd_backend_*' 2>&1)
    echo "$out" | sed -n 's/^\(iommufd_backend_[a-z_]*\).*/VNEST: qemu.trace=&/p' |
        head -n 8
    maps=$(echo "$out" | grep -c 'iommufd_backend_map_dma.* (0)$')
    fails=$(echo "$out" | grep -c -i 'error\|failed')
    echo "VNEST: qemu.kernel_iommufd.maps=$maps"
    if [ "$maps" -gt 0 ] && [ "$fails" = 0 ]; then
        echo "VNEST: qemu.kernel_iommufd=ok"
    else
        echo "$out" | tail -n 5 | sed 's/^/VNEST: qemu.log=/'
        echo "VNEST: qemu.kernel_iommufd=failed"
        return 1
    fi
}
qemu_on_kernel || ok=0

# The same with intel-iommu,x-flts=on in front of vfio-pci: VNest's QEMU
# asks this kernel for a nest parent (vfio-pci's default HWPT with
# IOMMU_HWPT_ALLOC_NEST_PARENT, hook patch 0005). The VT-d this kernel runs
# on (QEMU's own, no ECAP.NEST) cannot nest, so the kernel refuses it and
# QEMU must stop with that reason, not nest half-way or crash.
qemu_nest_on_kernel() {
    local q=/vnest/qemu out
    [ -x "$q/run/qemu-system-x86_64" ] && [ -n "${edu:-}" ] || return 0
    out=$(echo quit | timeout 120 "$q/run/qemu-system-x86_64" -M q35 -m 64 \
          -accel qtest -display none -vga none -nodefaults \
          -device intel-iommu,x-scalable-mode=on,x-flts=on,caching-mode=on \
          -object iommufd,id=if0,emulated=off \
          -device "vfio-pci,sysfsdev=/sys/bus/pci/devices/$edu,iommufd=if0" \
          -monitor stdio -trace 'iommufd_backend_alloc_hwpt*' 2>&1)
    echo "$out" | grep -m1 'iommufd_backend_alloc_hwpt' |
        sed 's/^/VNEST: qemu.nest_trace=/'
    if echo "$out" | grep -q 'iommufd_backend_alloc_hwpt.*flags=0x1' &&
       echo "$out" | grep -qi 'Failed to allocate hwpt: Operation not supported'; then
        echo "VNEST: qemu.kernel_nest=refused by the kernel (no ECAP.NEST), as it must"
    else
        echo "$out" | tail -n 5 | sed 's/^/VNEST: qemu.log=/'
        echo "VNEST: qemu.kernel_nest=failed"
        return 1
    fi
}
qemu_nest_on_kernel || ok=0

for name in $(echo "${VNEST_SELFTESTS:-iommufd,iommufd_fail_nth}" | tr ',' ' '); do
    [ "$name" = none ] && continue
    if [ ! -x "/vnest/bin/$name" ]; then
        echo "VNEST: error=no selftest binary $name"; ok=0; continue
    fi
    case $name in
        iommufd) args=${VNEST_IOMMUFD_ARGS:-} ;;
        iommufd_fail_nth) args=${VNEST_IOMMUFD_FAIL_NTH_ARGS:-} ;;
        *) args= ;;
    esac
    [ -z "$args" ] || echo "VNEST: selftest.$name.args=$args"
    run_selftest "$name" "$(echo "$args" | tr ',' ' ')" || ok=0
done

# Kernel warnings the selftests provoked (the console shows none:
# loglevel=1).
echo "VNEST: kernel.warnings=$(dmesg | grep -c -E 'WARNING:|BUG:|Oops')"
dmesg | grep -E 'WARNING:|BUG:|Oops' | head -n 3 | sed 's/^/VNEST: kernel.warning=/'
[ "$ok" = 1 ]
