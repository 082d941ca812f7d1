# Sourced by guest profiles: host binaries for the initramfs, so that a
# guest can run VNest's own QEMU (and its qtests) on its real kernel.
# guest_qemu_files [BIN...]: qemu-system-x86_64 (debug info stripped) at
# /vnest/qemu/, each BIN at /vnest/bin/, the shared libraries of all of
# them at /vnest/qemu/lib/ (run through its ld-linux, --library-path),
# the firmware q35 loads at /vnest/qemu/fw/, and a wrapper
# /vnest/qemu/run/qemu-system-x86_64 that does both, for QTEST_QEMU_BINARY.
guest_qemu_files() {
    local qemu=$QEMU_BUILD/qemu-system-x86_64 lib f bin
    objcopy --strip-debug "$qemu" "$WORK/qemu-system-x86_64" ||
        die "cannot strip $qemu"
    PROFILE_FILES+=("$WORK/qemu-system-x86_64:/vnest/qemu/qemu-system-x86_64")
    for bin in "$@"; do
        objcopy --strip-debug "$bin" "$WORK/$(basename "$bin")" ||
            die "cannot strip $bin"
        PROFILE_FILES+=("$WORK/$(basename "$bin"):/vnest/bin/$(basename "$bin")")
    done
    for lib in $(ldd "$qemu" "$@" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' |
                 sort -u); do
        PROFILE_FILES+=("$(readlink -f "$lib"):/vnest/qemu/lib/$(basename "$lib")")
    done
    for f in bios-256k.bin kvmvapic.bin linuxboot_dma.bin; do
        PROFILE_FILES+=("$VNEST_CACHE/firmware/$f:/vnest/qemu/fw/$f")
    done
    cat >"$WORK/qemu-wrapper" <<'SH'
#!/bin/sh
q=/vnest/qemu
exec "$q/lib/ld-linux-x86-64.so.2" --library-path "$q/lib" \
    "$q/qemu-system-x86_64" -L "$q/fw" "$@"
SH
    chmod +x "$WORK/qemu-wrapper"
    PROFILE_FILES+=("$WORK/qemu-wrapper:/vnest/qemu/run/qemu-system-x86_64")
}

# guest_qemu_files_arm64 [BIN...]: the same for an arm64 guest, from the
# cross build (scripts/build-qemu-cross.sh): qemu-system-aarch64 at
# /vnest/qemu/, each BIN at /vnest/bin/, their shared libraries, found
# through their DT_NEEDED entries in the arm64 sysroot the build linked
# against, at /vnest/qemu/lib/, and the wrapper
# /vnest/qemu/run/qemu-system-aarch64 (run through ld-linux-aarch64).
# -M virt under the qtest accelerator loads no firmware.
arm64_needed() {
    aarch64-linux-gnu-readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}
guest_qemu_files_arm64() {
    local qemu=$QEMU_XBUILD/qemu-system-aarch64 bin lib path d seen=" "
    local strip=aarch64-linux-gnu-objcopy
    local -a todo
    [ -x "$qemu" ] || die "$qemu is not built; run scripts/build-qemu-cross.sh"
    for bin in "$qemu" "$@"; do
        $strip --strip-debug "$bin" "$WORK/$(basename "$bin")" ||
            die "cannot strip $bin"
    done
    PROFILE_FILES+=("$WORK/qemu-system-aarch64:/vnest/qemu/qemu-system-aarch64")
    for bin in "$@"; do
        PROFILE_FILES+=("$WORK/$(basename "$bin"):/vnest/bin/$(basename "$bin")")
    done
    mapfile -t todo < <(for bin in "$qemu" "$@"; do arm64_needed "$bin"; done)
    while [ ${#todo[@]} -gt 0 ]; do
        lib=${todo[0]}
        todo=("${todo[@]:1}")
        case $seen in *" $lib "*) continue ;; esac
        seen="$seen$lib "
        path=
        for d in usr/lib/aarch64-linux-gnu usr/lib; do
            [ -e "$ARM64_SYSROOT/$d/$lib" ] && { path=$ARM64_SYSROOT/$d/$lib; break; }
        done
        [ -n "$path" ] || die "$lib (needed by the arm64 QEMU) is not in $ARM64_SYSROOT"
        path=$(readlink -f "$path")
        PROFILE_FILES+=("$path:/vnest/qemu/lib/$lib")
        mapfile -t -O ${#todo[@]} todo < <(arm64_needed "$path")
    done
    cat >"$WORK/qemu-wrapper" <<'SH'
#!/bin/sh
q=/vnest/qemu
exec "$q/lib/ld-linux-aarch64.so.1" --library-path "$q/lib" \
    "$q/qemu-system-aarch64" "$@"
SH
    chmod +x "$WORK/qemu-wrapper"
    PROFILE_FILES+=("$WORK/qemu-wrapper:/vnest/qemu/run/qemu-system-aarch64")
}
