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
