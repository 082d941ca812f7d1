#!/usr/bin/env bash
# make check's test of `make install` and `make deb`.
#
# make install: into a temporary DESTDIR under a prefix the build was not
# configured for, then each installed emulator runs as an unprivileged user
# (nobody, when run as root), from /, with an empty environment and no -L,
# far enough to load its firmware: bios-256k.bin and kvmvapic.bin (q35),
# efi-e1000e.rom (e1000e on q35 and virt), s390-ccw.img (s390-ccw-virtio),
# and VNC's German keymap (-k de).
# A missing or unreadable file makes QEMU fail or warn, which fails the
# test. A control run with bios-256k.bin moved away must then fail: the
# firmware really comes from the installed tree.
#
# make deb (built uncompressed here, for speed): its file list (the
# emulators, firmware and AppArmor rules; nothing in a directory of
# Debian's QEMU; all root-owned), and the same runs from the unpacked
# package.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fail() { printf 'install-check: FAIL: %s\n' "$*" >&2; exit 1; }

dest=$(mktemp -d "${TMPDIR:-/tmp}/vnest-install-check.XXXXXX")
trap 'rm -rf "$dest"' EXIT
chmod 0755 "$dest"
mkdir -m 1777 "$dest/sock"

if [ "$(id -u)" = 0 ]; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    who=nobody
else
    as_user=()
    who=$(id -un)
    msg "install-check: not root, running the installed QEMU as $who"
fi

# run BIN ARGS...: QEMU paused before the guest runs, 'info roms' on its
# monitor, then quit. Output in $out, errors in $err.
run() {
    local bin=$1
    shift
    out=$(cd / && printf 'info roms\nquit\n' |
          "${as_user[@]}" env -i PATH=/usr/bin:/bin \
              "$bin" -nodefaults -display none -S -monitor stdio "$@" 2>"$dest/err")
    rc=$?
    err=$(cat "$dest/err")
    return $rc
}

check() {   # what, bin, args...
    local what=$1 bin=$2
    run "${@:2}" || fail "$what: ${bin##*/} as $who exited non-zero: $err"
    [ -z "$err" ] || fail "$what: ${bin##*/} as $who printed: $err"
}

# check_tree TOP PROGRAM_PREFIX: the runs, for binaries in TOP/bin.
check_tree() {
    local top=$1 p=$2 data=$1/share/$QEMU_DATA_SUFFIX
    check "q35 with e1000e and VNC" "$top/bin/${p}qemu-system-x86_64" -M q35 \
        -netdev user,id=n0 -device e1000e,netdev=n0 \
        -vnc "unix:$dest/sock/vnc" -k de
    grep -q 'name="bios-256k.bin"' <<<"$out" || fail "q35 did not load bios-256k.bin: $out"
    grep -q 'name="kvmvapic.bin"' <<<"$out" || fail "q35 did not load kvmvapic.bin: $out"
    check "virt with e1000e" "$top/bin/${p}qemu-system-aarch64" -M virt -cpu max \
        -netdev user,id=n0 -device e1000e,netdev=n0
    check "s390-ccw-virtio" "$top/bin/${p}qemu-system-s390x" -M s390-ccw-virtio
    # Found relative to the binary: <bindir>/../share/vnest-qemu.
    grep -qF "$top/bin/../share/$QEMU_DATA_SUFFIX/s390-ccw.img" <<<"$out" ||
        fail "s390x did not load $data/s390-ccw.img: $out"

    # Control: without the installed BIOS, q35 must fail to start.
    mv "$data/bios-256k.bin" "$dest/bios-256k.bin"
    if run "$top/bin/${p}qemu-system-x86_64" -M q35; then
        fail "q35 started with bios-256k.bin removed from $data: it loads firmware from elsewhere"
    fi
    grep -q "bios-256k.bin" <<<"$err" || fail "control run failed for another reason: $err"
    mv "$dest/bios-256k.bin" "$data/bios-256k.bin"
}

# make install
prefix=/opt/vnest-check
DESTDIR=$dest/inst PREFIX=$prefix "$VNEST_ROOT/scripts/install.sh" 2>/dev/null ||
    fail "scripts/install.sh failed"
top=$dest/inst$prefix
# Plain files, world-readable, no link back into the builder's cache.
links=$(find "$dest/inst" -type l)
[ -z "$links" ] || fail "links installed: $links"
bad=$(find "$top/bin" -type f ! -perm 0755)
[ -z "$bad" ] || fail "programs not 0755: $bad"
bad=$(find "$top/share" -type f ! -perm 0644; find "$dest/inst" -type d ! -perm 0755)
[ -z "$bad" ] || fail "data files not 0644 or directories not 0755: $bad"
[ -f "$top/share/$QEMU_DATA_SUFFIX/keymaps/en-us" ] || fail "no keymaps installed"
if [ "$(id -u)" = 0 ]; then
    bad=$(find "$top" ! -user root -o ! -group root)
    [ -z "$bad" ] || fail "not owned by root: $bad"
fi
check_tree "$top" ""

# The devices libvirt adds to a default domain (memballoon, USB controller
# and tablet, pvpanic, a VGA) and that test harnesses use (isa-debug-exit):
# QEMU's default device set, which a VNest-only set lacked.
check "libvirt's default q35 devices" "$top/bin/qemu-system-x86_64" -M q35 \
    -device virtio-balloon-pci -device qemu-xhci -device usb-tablet \
    -device pvpanic -device VGA -device isa-debug-exit,iobase=0xf4,iosize=0x4
check "libvirt's default virt devices" "$top/bin/qemu-system-aarch64" -M virt -cpu max \
    -device virtio-balloon-pci -device qemu-xhci -device usb-tablet -device virtio-gpu-pci
check "libvirt's default s390x devices" "$top/bin/qemu-system-s390x" -M s390-ccw-virtio \
    -device virtio-balloon-ccw -device virtio-serial-ccw

# make deb
deb=$(VNEST_DEB_DIR=$dest VNEST_DEB_COMPRESS=none "$VNEST_ROOT/scripts/make-deb.sh" 2>/dev/null) ||
    fail "scripts/make-deb.sh failed"
list=$(dpkg-deb --contents "$deb") || fail "dpkg-deb cannot read $deb"
for f in ./usr/bin/vnest-qemu-system-x86_64 ./usr/bin/vnest-qemu-system-aarch64 \
         ./usr/bin/vnest-qemu-system-s390x "./usr/share/$QEMU_DATA_SUFFIX/bios-256k.bin" \
         ./etc/apparmor.d/abstractions/libvirt-qemu.d/vnest-qemu \
         ./usr/share/doc/vnest-qemu/copyright; do
    grep -qE " $f\$" <<<"$list" || fail "$deb lacks $f"
done
# Nothing where Debian's qemu-system-* and qemu-system-data have files.
bad=$(awk '{ print $6 }' <<<"$list" |
      grep -E '^\./usr/share/(qemu|seabios)/|^\./usr/bin/qemu|^\./usr/(lib|libexec)/qemu' || true)
[ -z "$bad" ] || fail "$deb has files where Debian's QEMU has its own: $bad"
bad=$(awk '$2 != "root/root"' <<<"$list")
[ -z "$bad" ] || fail "$deb has files not owned by root: $bad"
dpkg-deb --field "$deb" Depends | grep -q 'libglib2.0-0' || fail "$deb: Depends lacks glib"
mkdir -m 0755 "$dest/unpacked"
dpkg-deb -x "$deb" "$dest/unpacked"
chmod 0755 "$dest/unpacked"
check_tree "$dest/unpacked/usr" vnest-

echo "install-check: make install and make deb: each QEMU runs as $who from / with its own firmware"
