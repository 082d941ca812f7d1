#!/usr/bin/env bash
# Prepare the QEMU 10.0 tree VNest builds in, under build/qemu-src:
# Debian 13's qemu source package (pinned, checksummed, unpacked with
# dpkg-source so Debian's patches apply) or the user's own tree (QEMU_SRC),
# then VNest's hook patches, the newer kernel uAPI headers, the device
# configuration and the vnest/ mount. Re-running reuses the tree unless an
# input changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

inputs_key() {
    {
        echo "QEMU_SRC=${QEMU_SRC:-}"
        cat "$VNEST_ROOT/configs/pin.env" "$0"
        cat "$VNEST_ROOT"/patches/*.patch 2>/dev/null || true
        cat "$VNEST_ROOT"/configs/devices/*/*.mak
    } | sha256sum | cut -d' ' -f1
}

check_sha256() {
    local file=$1 want=$2 got
    got=$(sha256sum "$file" | cut -d' ' -f1)
    [ "$got" = "$want" ] || die "checksum mismatch for $(basename "$file"): got $got, pinned $want"
}

unpack_debian_source() {
    local dir=$VNEST_CACHE/src ver=${QEMU_PKG_VERSION#*:}
    mkdir -p "$dir"
    if [ ! -f "$dir/qemu_$ver.dsc" ]; then
        papt_setup
        msg "downloading Debian source package qemu=$QEMU_PKG_VERSION"
        (cd "$dir" && papt apt-get -q source --download-only "qemu=$QEMU_PKG_VERSION" \
             >"$dir/download.log" 2>&1) ||
            { cat "$dir/download.log" >&2; die "cannot download qemu=$QEMU_PKG_VERSION"; }
    fi
    check_sha256 "$dir/qemu_$ver.dsc" "$QEMU_DSC_SHA256"
    check_sha256 "$dir/qemu_${ver%-*}.orig.tar.xz" "$QEMU_ORIG_SHA256"
    check_sha256 "$dir/qemu_$ver.debian.tar.xz" "$QEMU_DEBIAN_SHA256"
    msg "unpacking qemu $QEMU_PKG_VERSION with dpkg-source"
    dpkg-source --no-check -x "$dir/qemu_$ver.dsc" "$1" >/dev/null
    # dpkg-source leaves a link to the orig tarball beside the tree.
    rm -f "$(dirname "$1")/qemu_${ver%-*}.orig.tar.xz"
}

copy_user_source() {
    [ -f "$QEMU_SRC/VERSION" ] && [ -f "$QEMU_SRC/meson.build" ] ||
        die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree"
    case $(cat "$QEMU_SRC/VERSION") in
        10.0.*) ;;
        *) die "QEMU_SRC=$QEMU_SRC is QEMU $(cat "$QEMU_SRC/VERSION"); VNest needs 10.0.x" ;;
    esac
    msg "copying QEMU $(cat "$QEMU_SRC/VERSION") from $QEMU_SRC"
    mkdir -p "$1"
    tar -C "$QEMU_SRC" --exclude=./.git --exclude=./build --exclude=./vnest -cf - . |
        tar -C "$1" -xf -
}

apply_patches() {
    local p
    for p in "$VNEST_ROOT"/patches/[0-9]*.patch; do
        [ -e "$p" ] || continue
        if ! patch -d "$1" -p1 -N -s --no-backup-if-mismatch --dry-run <"$p" >/dev/null 2>&1; then
            patch -d "$1" -p1 -N --no-backup-if-mismatch --dry-run <"$p" >&2 || true
            die "hook patch $(basename "$p") does not apply to this QEMU tree"
        fi
        patch -d "$1" -p1 -N -s --no-backup-if-mismatch <"$p"
    done
}

# linux/iommufd.h and linux/vfio.h from the newest 7.x linux-libc-dev.
install_uapi_headers() {
    local ver deb dir
    papt_setup
    ver=$LINUX_LIBC_DEV_VERSION
    if ! papt apt-cache madison linux-libc-dev | awk '{ print $3 }' | grep -qxF "$ver"; then
        ver=$(papt apt-cache madison linux-libc-dev | awk '{ print $3 }' |
              sort -V -r | head -n1)
        msg "linux-libc-dev $LINUX_LIBC_DEV_VERSION is gone from the mirror; using $ver"
    fi
    case $ver in
        [7-9].*) ;;
        *) die "no linux-libc-dev 7.x in $DEBIAN_BACKPORTS (newest is $ver)" ;;
    esac
    deb=$(fetch_deb "linux-libc-dev=$ver")
    dir=$VNEST_CACHE/linux-libc-dev-$ver
    [ -f "$dir/usr/include/linux/iommufd.h" ] || extract_deb "$deb" "$dir"
    install -m 0644 "$dir/usr/include/linux/iommufd.h" "$dir/usr/include/linux/vfio.h" \
        "$1/linux-headers/linux/"
    echo "$ver" >"$1/linux-headers/VNEST_LINUX_LIBC_DEV"
    msg "installed linux/iommufd.h and linux/vfio.h from linux-libc-dev $ver"
}

install_device_configs() {
    local f t
    for f in "$VNEST_ROOT"/configs/devices/*/vnest.mak; do
        t=$(basename "$(dirname "$f")")
        install -m 0644 "$f" "$1/configs/devices/$t/vnest.mak"
    done
}

key=$(inputs_key)
if [ -f "$QEMU_TREE/.vnest-key" ] && [ "$(cat "$QEMU_TREE/.vnest-key")" = "$key" ]; then
    exit 0
fi
rm -rf "$QEMU_TREE" "$QEMU_TREE.tmp" "$QEMU_BUILD"
mkdir -p "$VNEST_BUILD"
if [ -n "${QEMU_SRC:-}" ]; then
    copy_user_source "$QEMU_TREE.tmp"
else
    unpack_debian_source "$QEMU_TREE.tmp"
fi
apply_patches "$QEMU_TREE.tmp"
install_uapi_headers "$QEMU_TREE.tmp"
install_device_configs "$QEMU_TREE.tmp"
ln -s "$VNEST_ROOT" "$QEMU_TREE.tmp/vnest"
echo "$key" >"$QEMU_TREE.tmp/.vnest-key"
mv "$QEMU_TREE.tmp" "$QEMU_TREE"
msg "QEMU tree ready: $QEMU_TREE"
