#!/usr/bin/env bash
# `make deb`: a Debian package of VNest's QEMU build, vnest-qemu, that
# installs beside Debian's qemu-system-* packages, sharing no path with them:
#
#   /usr/bin/vnest-qemu-system-{x86_64,aarch64,s390x}   the emulators
#   /usr/share/vnest-qemu/                               firmware, keymaps
#   /etc/apparmor.d/abstractions/libvirt-qemu.d/vnest-qemu
#                                                        libvirt's AppArmor
#
# /usr/bin, not /opt: Debian's libvirtd AppArmor profile lets the daemon
# execute programs from /usr/bin (to probe an emulator's capabilities) and
# nothing from /opt or /usr/lib/<pkg>. The guests' profile (abstraction
# libvirt-qemu) names each emulator it may run and the data directories it
# may read; the abstraction includes libvirt-qemu.d/, where this package
# adds its own. docs/building.rst ("Installing") has the details.
#
# The package is written to build/; its path is printed last. Depends is
# computed by dpkg-shlibdeps from the binaries' NEEDED libraries.
# VNEST_DEB_COMPRESS (default xz) is passed to dpkg-deb -Z; VNEST_DEB_DIR
# (default build/) is where the package is written.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKG=vnest-qemu
EMULATORS=(qemu-system-x86_64 qemu-system-aarch64 qemu-system-s390x)
work=${VNEST_DEB_DIR:-$VNEST_BUILD}/deb
root=$work/root
arch=$(dpkg --print-architecture)

# 10.0.13 from 1:10.0.13+ds-0+deb13u1, then the commit: later commits sort
# later (git rev-list --count), the hash says which one it is.
upstream=${QEMU_PKG_VERSION#*:}
upstream=${upstream%%+*}
upstream=${upstream%%-*}
commit=$(git -C "$VNEST_ROOT" rev-parse --short=10 HEAD 2>/dev/null) ||
    die "make deb needs the git checkout (for the package version)"
count=$(git -C "$VNEST_ROOT" rev-list --count HEAD)
version=$upstream+vnest.$count.g$commit
if [ -n "$(git -C "$VNEST_ROOT" status --porcelain --untracked-files=no)" ]; then
    version=$version.dirty
fi

rm -rf "$work"
mkdir -p "$root/DEBIAN"
DESTDIR=$root PREFIX=/usr PROGRAM_PREFIX=vnest- "$VNEST_ROOT/scripts/install.sh"
for e in "${EMULATORS[@]}"; do
    # What dh_strip does: debug info out, .comment and .note gone.
    strip --strip-unneeded --remove-section=.comment --remove-section=.note \
        "$root/usr/bin/vnest-$e"
done

aa=$root/etc/apparmor.d/abstractions/libvirt-qemu.d
install -d -m 0755 "$aa"
cat >"$aa/$PKG" <<EOF
# VNest's QEMU ($PKG): the guest processes libvirt starts from
# <emulator>/usr/bin/vnest-qemu-system-...</emulator> may run that binary
# and read its firmware and keymaps. Included by libvirt's
# abstractions/libvirt-qemu (include if exists <abstractions/libvirt-qemu.d>).
  /usr/bin/vnest-qemu-system-x86_64 rmix,
  /usr/bin/vnest-qemu-system-aarch64 rmix,
  /usr/bin/vnest-qemu-system-s390x rmix,
  /usr/share/$QEMU_DATA_SUFFIX/ r,
  /usr/share/$QEMU_DATA_SUFFIX/** r,
EOF
chmod 0644 "$aa/$PKG"
echo "/etc/apparmor.d/abstractions/libvirt-qemu.d/$PKG" >"$root/DEBIAN/conffiles"

# Licences: QEMU's and those of the firmware shipped (Debian's copyright
# files of the packages it comes from).
doc=$root/usr/share/doc/$PKG
install -d -m 0755 "$doc"
{
    echo "vnest-qemu: QEMU $upstream (Debian source package qemu $QEMU_PKG_VERSION)"
    echo "with VNest (commit $commit), and firmware from Debian's packages."
    echo
    echo "The copyright and licence of each part follows: QEMU's, then each"
    echo "firmware package's (copyright.<package> in this directory)."
    echo
    if [ -f "$QEMU_TREE/debian/copyright" ]; then
        cat "$QEMU_TREE/debian/copyright"
    else   # a QEMU_SRC tree
        cat "$QEMU_TREE/LICENSE" "$QEMU_TREE/COPYING"
    fi
} >"$doc/copyright"
for p in qemu-system-data seabios ipxe-qemu; do
    f=$VNEST_CACHE/firmware-root/usr/share/doc/$p/copyright
    [ -f "$f" ] || die "missing $f: re-run scripts/fetch-firmware.sh"
    install -m 0644 "$f" "$doc/copyright.$p"
done
chmod 0644 "$doc/copyright"

# Depends from the binaries' NEEDED libraries. dpkg-shlibdeps wants a
# debian/control beside it.
mkdir -p "$work/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PKG" "$PKG" \
    >"$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" &&
          dpkg-shlibdeps -O "${EMULATORS[@]/#/$root/usr/bin/vnest-}" 2>"$work/shlibdeps.err" |
          sed -n 's/^shlibs:Depends=//p') ||
    { cat "$work/shlibdeps.err" >&2; die "dpkg-shlibdeps failed"; }
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: $PKG
Version: $version
Architecture: $arch
Maintainer: ${VNEST_DEB_MAINTAINER:-VNest local build <root@localhost>}
Installed-Size: $size
Depends: $depends
Suggests: libvirt-daemon-system
Section: otherosfs
Priority: optional
Homepage: https://www.qemu.org/
Description: QEMU with VNest's nested vIOMMU support, beside Debian's QEMU
 QEMU $upstream system emulators for x86_64, aarch64 and s390x built with
 VNest: nested translation for intel-iommu, arm-smmuv3 and s390x zPCI
 through an emulated iommufd host, and QEMU's default device set.
 .
 Installed as /usr/bin/vnest-qemu-system-* with data files in
 /usr/share/$QEMU_DATA_SUFFIX, so it coexists with Debian's qemu-system-*
 packages. For libvirt, set
 <emulator>/usr/bin/vnest-qemu-system-x86_64</emulator> in the domain XML.
EOF
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
     LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles"

outdir=${VNEST_DEB_DIR:-$VNEST_BUILD}
out=$outdir/${PKG}_${version}_$arch.deb
rm -f "$outdir/${PKG}"_*.deb
dpkg-deb --root-owner-group -Z"${VNEST_DEB_COMPRESS:-xz}" --build "$root" "$out" >/dev/null
msg "built $out ($(du -h "$out" | cut -f1))"
echo "$out"
