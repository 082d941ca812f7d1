#!/usr/bin/env bash
# Firmware and option ROMs for the guests and qtests, from Debian 13's
# packages (the +ds source tarball carries none): qemu-system-data (qboot,
# s390-ccw.img, linuxboot_dma.bin, kvmvapic.bin...), seabios and ipxe-qemu.
# Extracted, never installed, into $VNEST_CACHE/firmware, which the QEMU
# build uses as its firmware path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FW=$VNEST_CACHE/firmware
PKGS=(qemu-system-data seabios ipxe-qemu)

# VNC's keymaps (-k, libvirt's keymap=) come from qemu-system-data too.
# Added beside an existing firmware directory, never by re-creating it:
# other checkouts may be running QEMU from it.
add_keymaps() {
    local tmp
    [ -d "$FW/keymaps" ] && return 0
    tmp=$(mktemp -d "$VNEST_CACHE/keymaps.XXXXXX")
    extract_deb "$(fetch_deb "qemu-system-data=$QEMU_PKG_VERSION")" "$tmp"
    [ -f "$tmp/usr/share/qemu/keymaps/en-us" ] || die "no keymaps in qemu-system-data"
    chmod 0755 "$tmp/usr/share/qemu/keymaps"
    mv "$tmp/usr/share/qemu/keymaps" "$FW/keymaps" 2>/dev/null || [ -d "$FW/keymaps" ]
    rm -rf "$tmp"
}

if [ -f "$FW/.done" ] && [ "$(cat "$FW/.done")" = "${PKGS[*]} $QEMU_PKG_VERSION" ]; then
    [ -d "$FW/keymaps" ] || { papt_setup; add_keymaps; }
    exit 0
fi
papt_setup
root=$VNEST_CACHE/firmware-root
rm -rf "$root" "$FW"
for p in "${PKGS[@]}"; do
    spec=$p
    [ "$p" = qemu-system-data ] && spec="$p=$QEMU_PKG_VERSION"
    extract_deb "$(fetch_deb "$spec")" "$root"
done
mkdir -p "$FW"
# qemu-system-data links into seabios' and ipxe's directories: resolve
# every link inside the extracted tree and copy plain files.
for f in "$root"/usr/share/qemu/* "$root"/usr/share/seabios/*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    t=$f
    if [ -L "$f" ]; then
        l=$(readlink "$f")
        case $l in
            /*) t=$root$l ;;
            *) t=$(dirname "$f")/$l ;;
        esac
    fi
    [ -f "$t" ] && cp -n "$t" "$FW/$(basename "$f")"
done
add_keymaps
[ -f "$FW/bios-256k.bin" ] && [ -f "$FW/qboot.rom" ] && [ -f "$FW/s390-ccw.img" ] ||
    die "firmware extraction incomplete in $FW"
echo "${PKGS[*]} $QEMU_PKG_VERSION" >"$FW/.done"
msg "firmware ready: $FW"
