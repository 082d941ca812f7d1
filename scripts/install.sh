#!/usr/bin/env bash
# `make install`: VNest's three emulators and the data files they load
# (firmware, option ROMs, keymaps), copied as plain files:
#
#   $DESTDIR$PREFIX/bin/$PROGRAM_PREFIX qemu-system-{x86_64,aarch64,s390x}
#   $DESTDIR$PREFIX/share/vnest-qemu/   bios-256k.bin, s390-ccw.img, ...
#
# QEMU finds its data directory relative to its own executable (bin/ ->
# ../share/vnest-qemu), so the installed binaries run from any directory,
# as any user, with no -L, whatever PREFIX is. PREFIX defaults to
# /usr/local; DESTDIR stages the tree elsewhere (packaging, chroots);
# PROGRAM_PREFIX renames the binaries (the Debian package uses "vnest-").
# Files are 0755 (programs) and 0644 (data), owned by the installing user:
# install as root for a system-wide tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
PROGRAM_PREFIX=${PROGRAM_PREFIX:-}
EMULATORS=(qemu-system-x86_64 qemu-system-aarch64 qemu-system-s390x)
FW=$VNEST_CACHE/firmware

case $PREFIX in
    /*) ;;
    *) die "PREFIX must be an absolute path (got '$PREFIX')" ;;
esac
case $PROGRAM_PREFIX in
    */*) die "PROGRAM_PREFIX must not contain '/' (got '$PROGRAM_PREFIX')" ;;
esac
for e in "${EMULATORS[@]}"; do
    [ -x "$QEMU_BUILD/$e" ] || die "$QEMU_BUILD/$e is missing: run 'make build' first"
done
[ -f "$FW/.done" ] || die "no firmware in $FW: run 'make build' first"

bindir=$DESTDIR$PREFIX/bin
datadir=$DESTDIR$PREFIX/share/$QEMU_DATA_SUFFIX
umask 022
install -d -m 0755 "$bindir" "$datadir"
for e in "${EMULATORS[@]}"; do
    install -m 0755 "$QEMU_BUILD/$e" "$bindir/$PROGRAM_PREFIX$e"
done
# install(1) copies what a link points to: the result holds no link into
# the builder's cache, which other users (libvirt's QEMU) cannot read.
n=0
for f in "$FW"/*; do
    if [ -d "$f" ]; then
        install -d -m 0755 "$datadir/${f##*/}"
        for g in "$f"/*; do
            [ -f "$g" ] && install -m 0644 "$g" "$datadir/${f##*/}/${g##*/}"
        done
    elif [ -f "$f" ]; then
        install -m 0644 "$f" "$datadir/${f##*/}"
        n=$((n + 1))
    fi
done
msg "installed ${EMULATORS[*]/#/$PROGRAM_PREFIX} in $bindir and $n data files in $datadir"
