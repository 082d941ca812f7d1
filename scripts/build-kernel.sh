#!/usr/bin/env bash
# Build the Linux kernel VNest boots as an iommufd guest, and the kernel's
# own iommufd selftests from the same source.
#
#   scripts/build-kernel.sh        prints the result directory on stdout
#   scripts/build-kernel.sh arm64  the arm64 kernel of the nesting-host
#                                  guest (guest/profiles/aarch64-iommufd-nest)
#
# The source is Debian's newest linux-source package from the backports
# suite (linux-source-7.3 7.3.4-1~bpo13+1 preferred), fetched through the
# private apt configuration (nothing is installed). The kernel is
# x86_64_defconfig plus the fragment below (intel-iommu, IOMMUFD with its
# test mock, fault injection for iommufd_fail_nth, VFIO cdev, NVMe,
# virtio), built out of tree with ccache. The selftests iommufd and
# iommufd_fail_nth are linked statically against the uapi headers of the
# same source (the selftests run ahead of any other kernel's headers).
#
# Everything lives under $VNEST_CACHE (~/.cache/vnest), outside the clone:
#   kernel-src/<package>_<version>/   the unpacked source (shared)
#   kernel-build/<key>/               the object tree (removed on success)
#   kernels/<key>/{bzImage,iommufd,iommufd_fail_nth,config,build-time}
# where <key> is linux-<kernel version>-<hash of the package version, the
# config fragment and this script's code (not its comments)>, so a fresh
# clone reuses the result and any change of those inputs builds a new one.
# The arm64 kernel is allnoconfig plus ARM64_FRAGMENT (QEMU's virt machine,
# SMMUv3, IOMMUFD, VFIO cdev: what Debian's arm64 kernel lacks, it has no
# IOMMUFD), cross-built with gcc-aarch64-linux-gnu, no selftests; its key
# starts with arm64-linux-, and kernels/<key>/ holds Image and config.
# Environment: VNEST_KERNEL_SRC_PKG / VNEST_KERNEL_SRC_VERSION (another
# linux-source package and version), VNEST_KERNEL_JOBS (make -j, default 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC_PKG=${VNEST_KERNEL_SRC_PKG:-linux-source-7.3}
SRC_VERSION=${VNEST_KERNEL_SRC_VERSION:-7.3.4-1~bpo13+1}
JOBS=${VNEST_KERNEL_JOBS:-2}
KARCH=${1:-x86_64}
case $KARCH in x86_64|arm64) ;; *) die "no kernel recipe for '$KARCH' (x86_64, arm64)" ;; esac

# Options on top of x86_64_defconfig. Each "=y" line is checked after
# olddefconfig: a dependency that Kconfig silently drops stops the build.
# IOMMUFD_TEST and the fault-injection options are what
# tools/testing/selftests/iommu/config asks for (FAIL_PAGE_ALLOC is optional
# there and left out: fail_nth then injects into slab allocations only).
# IOMMUFD_TEST also needs IOMMU_PT_AMDV1=y, which AMD_IOMMU=y (defconfig)
# selects. Graphics, sound, USB and wireless are dropped: the guest has
# none, and they are a good part of defconfig's build time.
CONFIG_FRAGMENT='
IOMMU_SUPPORT=y
INTEL_IOMMU=y
IOMMU_PT_AMDV1=y
IOMMUFD=y
IOMMUFD_TEST=y
DEBUG_KERNEL=y
RUNTIME_TESTING_MENU=y
DEBUG_FS=y
FAULT_INJECTION=y
FAILSLAB=y
FAULT_INJECTION_DEBUG_FS=y
VFIO=y
VFIO_PCI=y
VFIO_DEVICE_CDEV=y
PCI_MSI=y
BLK_DEV_NVME=y
VIRTIO=y
VIRTIO_PCI=y
VIRTIO_BLK=y
DEVTMPFS=y
SERIAL_8250=y
SERIAL_8250_CONSOLE=y
BLK_DEV_INITRD=y
RD_GZIP=y
HUGETLBFS=y
TRANSPARENT_HUGEPAGE=y
DEBUG_INFO_NONE=y
DRM=n
SOUND=n
USB_SUPPORT=n
WIRELESS=n
WLAN=n
'

# arm64 on top of allnoconfig: the virt machine's PL011, GICv3 + ITS,
# generic ECAM PCI host, PSCI power-off; the SMMUv3 driver with its iommufd
# (vIOMMU) support; VFIO cdev; what busybox and the initramfs need; and
# AF_UNIX sockets, which libqtest and QMP use (VNest's QEMU and its qtests
# run in this guest).
ARM64_FRAGMENT='
PRINTK=y
TTY=y
SERIAL_AMBA_PL011=y
SERIAL_AMBA_PL011_CONSOLE=y
BINFMT_ELF=y
BINFMT_SCRIPT=y
PROC_FS=y
SYSFS=y
SHMEM=y
TMPFS=y
DEVTMPFS=y
BLOCK=y
BLK_DEV_INITRD=y
RD_GZIP=y
FUTEX=y
EPOLL=y
SIGNALFD=y
TIMERFD=y
EVENTFD=y
MULTIUSER=y
NET=y
UNIX=y
PCI=y
PCI_MSI=y
PCI_HOST_GENERIC=y
ARM_GIC_V3_ITS=y
IOMMU_SUPPORT=y
ARM_SMMU_V3=y
IOMMUFD=y
ARM_SMMU_V3_IOMMUFD=y
VFIO=y
VFIO_PCI=y
VFIO_DEVICE_CDEV=y
'

need_tools() {
    local t missing=()
    for t in make gcc bc flex bison perl xz dpkg-deb; do
        command -v "$t" >/dev/null || missing+=("$t")
    done
    [ -e /usr/include/gelf.h ] || missing+=("libelf-dev (gelf.h, for objtool)")
    [ -e /usr/include/openssl/ssl.h ] || missing+=("libssl-dev")
    [ -e /usr/include/sys/capability.h ] && compgen -G '/usr/lib/*/libcap.a' >/dev/null ||
        missing+=("libcap-dev (static libcap for the selftests)")
    [ ${#missing[@]} -eq 0 ] ||
        die "missing to build the kernel: ${missing[*]}; run scripts/deps.sh"
}

# The source package and its version, as "PACKAGE VERSION": the preferred
# ones, else the linux-source-X.Y that the newest "linux-source"
# metapackage depends on (backports moves on and drops old versions).
pick_source() {
    local meta pkg ver
    if papt apt-cache madison "$SRC_PKG" | awk '{ print $3 }' | grep -qxF "$SRC_VERSION"; then
        echo "$SRC_PKG $SRC_VERSION"
        return
    fi
    meta=$(papt apt-cache madison linux-source | awk '{ print $3 }' | sort -V -r | head -n1)
    [ -n "$meta" ] || die "no linux-source package in $DEBIAN_SUITE or $DEBIAN_BACKPORTS"
    pkg=$(papt apt-cache show "linux-source=$meta" |
          sed -n 's/^Depends: \(linux-source-[0-9.]*\).*/\1/p' | head -n1)
    [ -n "$pkg" ] || die "linux-source $meta depends on no linux-source-X.Y package"
    ver=$(papt apt-cache madison "$pkg" | awk '{ print $3 }' | sort -V -r | head -n1)
    [ -n "$ver" ] || die "$pkg (from linux-source $meta) is not in the mirror"
    msg "$SRC_PKG $SRC_VERSION is gone from the mirror; using $pkg $ver"
    echo "$pkg $ver"
}

# Unpack the package's source tarball once; prints the source tree.
unpack_source() {
    local ver=$1 dir deb tarball
    dir=$VNEST_CACHE/kernel-src/${SRC_PKG}_$ver
    if [ ! -f "$dir/.vnest-unpacked" ]; then
        deb=$(fetch_deb "$SRC_PKG=$ver")
        msg "unpacking $(basename "$deb")"
        rm -rf "$dir" "$dir.tmp" "$dir.deb"
        mkdir -p "$dir.tmp" "$dir.deb"
        # The .deb holds one tarball, usr/src/linux-source-X.Y.tar.xz.
        dpkg-deb --fsys-tarfile "$deb" |
            tar -C "$dir.deb" -x --wildcards './usr/src/linux-source-*.tar.xz'
        tarball=$(compgen -G "$dir.deb/usr/src/linux-source-*.tar.xz" | head -n1)
        [ -n "$tarball" ] || die "$(basename "$deb") has no usr/src/linux-source-*.tar.xz"
        tar -C "$dir.tmp" -xJf "$tarball" --strip-components=1
        rm -rf "$dir.deb"
        [ -f "$dir.tmp/Makefile" ] && [ -d "$dir.tmp/tools/testing/selftests/iommu" ] ||
            die "$tarball is not a kernel source tree with the iommu selftests"
        touch "$dir.tmp/.vnest-unpacked"
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}

kernel_version() {
    make -s -C "$1" kernelversion 2>/dev/null
}

# make in the object tree, with ccache and a fixed build stamp (so ccache
# hits across rebuilds), the log kept in the object tree.
kmake() {
    make -C "$src" O="$obj" -j"$JOBS" CC="${KCC:-${CROSS}gcc}" \
        ${CROSS:+ARCH=arm64 CROSS_COMPILE=$CROSS} \
        KBUILD_BUILD_TIMESTAMP="vnest" KBUILD_BUILD_USER=vnest \
        KBUILD_BUILD_HOST=vnest "$@" >>"$obj/build.log" 2>&1 ||
        { tail -n 40 "$obj/build.log" >&2; die "make $* failed; log: $obj/build.log"; }
}

configure() {
    local line opt val bad=()
    kmake "$BASE_CONFIG"
    while read -r line; do
        [ -n "$line" ] || continue
        opt=${line%%=*} val=${line#*=}
        case $val in
            y) "$src/scripts/config" --file "$obj/.config" --enable "$opt" ;;
            n) "$src/scripts/config" --file "$obj/.config" --disable "$opt" ;;
            *) "$src/scripts/config" --file "$obj/.config" --set-val "$opt" "$val" ;;
        esac
    done <<<"$FRAGMENT"
    kmake olddefconfig
    # Kconfig drops an option whose dependencies are not met without a word.
    while read -r line; do
        [ -n "$line" ] || continue
        opt=${line%%=*} val=${line#*=}
        case $val in
            y) grep -qx "CONFIG_$opt=y" "$obj/.config" || bad+=("$opt") ;;
            n) ! grep -q "^CONFIG_$opt=[ym]" "$obj/.config" || bad+=("$opt(should be off)") ;;
        esac
    done <<<"$FRAGMENT"
    [ ${#bad[@]} -eq 0 ] ||
        die "after olddefconfig these options are not as asked: ${bad[*]} (config: $obj/.config)"
}

# The selftests, statically linked, against the uapi headers of this source
# ("make headers" puts them in the object tree's usr/include, as
# headers_install would, without needing rsync), with the flags of the
# selftests' own lib.mk.
build_selftests() {
    local st=$src/tools/testing/selftests t
    kmake headers
    for t in iommufd iommufd_fail_nth; do
        gcc -static -Wall -O2 -Wno-unused-function -D_GNU_SOURCE= \
            -isystem "$obj/usr/include" -I "$st" \
            -o "$obj/$t" "$st/iommu/$t.c" -lcap >>"$obj/build.log" 2>&1 ||
            { tail -n 40 "$obj/build.log" >&2; die "building selftest $t failed; log: $obj/build.log"; }
    done
}

if [ "$KARCH" = arm64 ]; then
    FRAGMENT=$ARM64_FRAGMENT BASE_CONFIG=allnoconfig CROSS=aarch64-linux-gnu-
    IMAGE=arch/arm64/boot/Image KEY_PREFIX=arm64-linux
    command -v "${CROSS}gcc" >/dev/null ||
        die "${CROSS}gcc is missing (gcc-aarch64-linux-gnu); run scripts/deps.sh"
else
    FRAGMENT=$CONFIG_FRAGMENT BASE_CONFIG=x86_64_defconfig CROSS=
    IMAGE=arch/x86/boot/bzImage KEY_PREFIX=linux
fi
need_tools
papt_setup
sel=$(pick_source)
read -r SRC_PKG ver <<<"$sel"
src=$(unpack_source "$ver")
kver=$(kernel_version "$src")
[ -n "$kver" ] || die "cannot read the kernel version of $src"
# The script's comment lines are left out of the key: editing a comment
# must not cost a kernel build.
hash=$({ echo "$SRC_PKG=$ver"; echo "$FRAGMENT"; grep -v '^[[:space:]]*#' "$0"; } |
       sha256sum | cut -c1-12)
key=$KEY_PREFIX-$kver-$hash
out=$VNEST_CACHE/kernels/$key
obj=$VNEST_CACHE/kernel-build/$key
mkdir -p "$VNEST_CACHE/kernels" "$VNEST_CACHE/kernel-build"

# One build at a time per machine; a second caller waits, then reuses it.
exec 9>"$VNEST_CACHE/kernels/.lock"
flock 9

if [ -f "$out/.vnest-complete" ]; then
    msg "kernel $key is cached: $out (its build took $(cat "$out/build-time" 2>/dev/null || echo '?') s)"
    echo "$out"
    exit 0
fi

msg "building Linux $kver from $SRC_PKG $ver into $out (make -j$JOBS; log: $obj/build.log)"
start=$(date +%s)
rm -rf "$obj" "$out.tmp"
mkdir -p "$obj" "$out.tmp"
if command -v ccache >/dev/null; then KCC="ccache ${CROSS}gcc"; CCACHE_BASEDIR=$VNEST_CACHE; fi
export CCACHE_BASEDIR
configure
msg "configured; building $(basename "$IMAGE")"
kmake "$(basename "$IMAGE")"
install -m 0644 "$obj/$IMAGE" "$out.tmp/"
install -m 0644 "$obj/.config" "$out.tmp/config"
if [ "$KARCH" = x86_64 ]; then
    build_selftests
    install -m 0755 "$obj/iommufd" "$obj/iommufd_fail_nth" "$out.tmp/"
fi
echo "$SRC_PKG=$ver" >"$out.tmp/source"
echo $(( $(date +%s) - start )) >"$out.tmp/build-time"
touch "$out.tmp/.vnest-complete"
rm -rf "$out"
mv "$out.tmp" "$out"
# The object tree is large; ccache keeps a rebuild cheap without it.
rm -rf "$obj"
msg "kernel $key built in $(cat "$out/build-time") s: $out"
echo "$out"
