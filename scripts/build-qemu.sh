#!/usr/bin/env bash
# Configure and build QEMU with VNest mounted in. Extra arguments are ninja
# targets; without any, the three emulators are built. The build directory
# is reconfigured from scratch only when the configure options change.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FW=$VNEST_CACHE/firmware
CONFIGURE_ARGS=(
    --python=/usr/bin/python3
    # Data files in <prefix>/share/vnest-qemu, so an installed VNest never
    # shares a directory with Debian's qemu-system-data (docs/building.rst).
    --with-suffix="$QEMU_DATA_SUFFIX"
    --target-list=x86_64-softmmu,aarch64-softmmu,s390x-softmmu
    --without-default-features
    --with-devices-x86_64=vnest
    --with-devices-aarch64=vnest
    --with-devices-s390x=vnest
    --enable-tcg --enable-kvm --enable-fdt=system
    # What libvirt's default domains use: display devices and VNC (pixman),
    # user networking (libslirp), vhost-net for its tap networks (it asks
    # for vhost=on when /dev/vhost-net exists) and vhost-user (virtiofs).
    --enable-pixman --enable-vnc --enable-slirp
    --enable-vhost-kernel --enable-vhost-net --enable-vhost-user
    --disable-install-blobs --disable-docs --disable-rust
)

configure() {
    local key=$1
    rm -rf "$QEMU_BUILD"
    mkdir -p "$QEMU_BUILD"
    msg "configuring QEMU in $QEMU_BUILD"
    (cd "$QEMU_BUILD" && "$QEMU_TREE/configure" "${CONFIGURE_ARGS[@]}" \
        >"$QEMU_BUILD/configure.log" 2>&1) ||
        { tail -n 40 "$QEMU_BUILD/configure.log" >&2
          die "QEMU configure failed (log: $QEMU_BUILD/configure.log)"; }
    echo "$key" >"$QEMU_BUILD/.vnest-configure"
}

"$VNEST_ROOT/scripts/prepare-qemu.sh"
"$VNEST_ROOT/scripts/fetch-firmware.sh"
key=$(printf '%s\n' "${CONFIGURE_ARGS[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$QEMU_BUILD/build.ninja" ] ||
   [ "$(cat "$QEMU_BUILD/.vnest-configure" 2>/dev/null)" != "$key" ]; then
    configure "$key"
fi
mkdir -p "$CCACHE_DIR"
if [ $# -eq 0 ]; then
    set -- qemu-system-x86_64 qemu-system-aarch64 qemu-system-s390x
fi
msg "building: $*"
ninja -C "$QEMU_BUILD" "$@"

# A QEMU run from its build tree looks for firmware in qemu-bundle's data
# directory, where an installing build would put pc-bios/: link Debian's
# firmware there.
bundle=$QEMU_BUILD/qemu-bundle/usr/local/share/$QEMU_DATA_SUFFIX
mkdir -p "$bundle"
for f in "$FW"/*; do
    [ -e "$bundle/${f##*/}" ] || ln -s "$f" "$bundle/${f##*/}"
done
