#!/usr/bin/env bash
# Cross-build VNest's qemu-system-aarch64 for an arm64 HOST (an arm64 L1
# guest runs it on its real kernel, docs/kernel-guest.rst). Nothing is
# installed into the machine's dpkg: Debian 13's arm64 development
# packages are downloaded with the private apt configuration and
# extracted into a sysroot under the cache; Debian's
# gcc-aarch64-linux-gnu compiles against that sysroot (--sysroot), so the
# binary links against trixie's glibc and libraries, which an arm64
# trixie userland (or the libraries copied next to it) provides.
# Uses the prepared tree (build/qemu-src) and its own build directory
# (build/qemu-aarch64). Extra arguments are ninja targets; without any,
# qemu-system-aarch64 is built.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SYSROOT=$ARM64_SYSROOT
XPREFIX=aarch64-linux-gnu-
TRIPLET=aarch64-linux-gnu

# The arm64 packages the configuration below needs, with the libraries
# their pkg-config files require (apt-cache depends --recurse, less the
# tools that are not linked against).
SYSROOT_PKGS=(
    libc6 libc6-dev libcrypt1 libcrypt-dev libgcc-s1
    libglib2.0-0t64 libglib2.0-dev libgio-2.0-dev libsysprof-capture-4-dev
    libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libpcre2-dev
    libffi8 libffi-dev zlib1g zlib1g-dev
    libmount1 libmount-dev libblkid1 libblkid-dev uuid-dev libuuid1
    libselinux1 libselinux1-dev libsepol2 libsepol-dev
    libpixman-1-0 libpixman-1-dev libfdt1 libfdt-dev libslirp0 libslirp-dev
    libatomic1
)

make_sysroot() {
    local key pkg deb
    key=$(printf '%s\n' "$DEBIAN_SUITE" "${SYSROOT_PKGS[@]}" | sha256sum | cut -d' ' -f1)
    [ "$(cat "$SYSROOT/.vnest-sysroot" 2>/dev/null)" = "$key" ] && return
    papt_setup
    rm -rf "$SYSROOT"
    mkdir -p "$SYSROOT/usr/lib"
    # Debian 13 is merged-/usr: /lib and /lib64 are links into /usr.
    ln -s usr/lib "$SYSROOT/lib"
    msg "extracting ${#SYSROOT_PKGS[@]} $DEBIAN_SUITE arm64 packages into $SYSROOT"
    for pkg in "${SYSROOT_PKGS[@]}"; do
        deb=$(fetch_deb "$pkg:arm64")
        extract_deb "$deb" "$SYSROOT"
    done
    # The kernel's uAPI headers: one package for all architectures.
    extract_deb "$(fetch_deb linux-libc-dev)" "$SYSROOT"

    # Development links that point at absolute paths would leave the
    # sysroot: make them relative to it.
    find "$SYSROOT" -type l -lname '/*' | while read -r l; do
        ln -sfn "$SYSROOT$(readlink "$l")" "$l"
    done
    echo "$key" >"$SYSROOT/.vnest-sysroot"
}

# pkg-config that sees only the sysroot's .pc files and prefixes their paths.
make_pkg_config() {
    mkdir -p "$QEMU_XBUILD/bin"
    cat >"$QEMU_XBUILD/bin/${XPREFIX}pkg-config" <<SH
#!/bin/sh
PKG_CONFIG_LIBDIR=$SYSROOT/usr/lib/$TRIPLET/pkgconfig:$SYSROOT/usr/share/pkgconfig \\
PKG_CONFIG_SYSROOT_DIR=$SYSROOT PKG_CONFIG_PATH= exec pkg-config "\$@"
SH
    chmod +x "$QEMU_XBUILD/bin/${XPREFIX}pkg-config"
}

# The sysroot's headers and libraries, never the cross toolchain's own
# (Debian 12's libc6-dev-arm64-cross is glibc 2.36; trixie's libraries
# need 2.41 and its headers): gcc searches /usr/aarch64-linux-gnu/include
# and .../lib before a --sysroot's, so the include path is given whole
# (-nostdinc; gcc's own headers with -idirafter, as meson drops an
# -isystem naming a compiler default directory) and the sysroot's library
# directory comes first (-B for crt*.o, -L for libc.so).
GCC_INCLUDE=$(${XPREFIX}gcc -print-file-name=include)
XCFLAGS="--sysroot=$SYSROOT -nostdinc -isystem $SYSROOT/usr/include/$TRIPLET"
XCFLAGS+=" -isystem $SYSROOT/usr/include -idirafter $GCC_INCLUDE"
XLDFLAGS="--sysroot=$SYSROOT -B$SYSROOT/usr/lib/$TRIPLET/ -L$SYSROOT/usr/lib/$TRIPLET"
CONFIGURE_ARGS=(
    --python=/usr/bin/python3
    --cross-prefix="$XPREFIX"
    --extra-cflags="$XCFLAGS"
    --extra-ldflags="$XLDFLAGS"
    --with-suffix="$QEMU_DATA_SUFFIX"
    --target-list=aarch64-softmmu
    --without-default-features
    --with-devices-aarch64=vnest
    --enable-tcg --enable-kvm --enable-fdt=system
    --enable-pixman --enable-slirp
    --disable-install-blobs --disable-docs --disable-rust
)

command -v "${XPREFIX}gcc" >/dev/null ||
    die "${XPREFIX}gcc not found: install gcc-aarch64-linux-gnu (scripts/deps.sh)"
"$VNEST_ROOT/scripts/prepare-qemu.sh"
make_sysroot
key=$(printf '%s\n' "${CONFIGURE_ARGS[@]}" "$(cat "$SYSROOT/.vnest-sysroot")" |
      sha256sum | cut -d' ' -f1)
if [ ! -f "$QEMU_XBUILD/build.ninja" ] ||
   [ "$(cat "$QEMU_XBUILD/.vnest-configure" 2>/dev/null)" != "$key" ]; then
    rm -rf "$QEMU_XBUILD"
    make_pkg_config
    msg "configuring QEMU for an aarch64 host in $QEMU_XBUILD"
    (cd "$QEMU_XBUILD" && PATH=$QEMU_XBUILD/bin:$PATH \
        "$QEMU_TREE/configure" "${CONFIGURE_ARGS[@]}" >configure.log 2>&1) ||
        { tail -n 40 "$QEMU_XBUILD/configure.log" >&2
          die "QEMU configure failed (log: $QEMU_XBUILD/configure.log)"; }
    echo "$key" >"$QEMU_XBUILD/.vnest-configure"
fi
mkdir -p "$CCACHE_DIR"
[ $# -gt 0 ] || set -- qemu-system-aarch64
msg "building for aarch64 hosts: $*"
PATH=$QEMU_XBUILD/bin:$PATH ninja -C "$QEMU_XBUILD" ${VNEST_JOBS:+-j"$VNEST_JOBS"} "$@"
