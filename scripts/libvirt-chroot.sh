# Debian 13 chroots with a real libvirt for scripts/libvirt-test.sh.
# Sourced, not run (after lib.sh).
# shellcheck shell=bash
#
# Two chroots, cached under the cache directory and built once:
#   libvirt-chroot-trixie     libvirt from trixie (11.3)
#   libvirt-chroot-backports  libvirt from trixie-backports (12.9)
# Each has libvirt's daemons and virsh and no QEMU of Debian's: the only
# emulator in it is VNest's, copied in for each run.

# shellcheck disable=SC2034 # used by scripts/libvirt-test.sh
LV_CHROOTS=(trixie backports)
# Packages: the modular QEMU daemon and its log daemon, virsh. Without
# recommends, so Debian's qemu-system-* never comes in.
LV_PKGS=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients)

# Where sessions leave their files (versions, logs).
OUT=${OUT:-$VNEST_BUILD/libvirt}

lv_root() { echo "$VNEST_CACHE/libvirt-chroot-$1"; }

# The chroot's pseudo file systems. Everything mounted is recorded in
# LV_MOUNTS so lv_umount_all (run from an EXIT trap) undoes exactly that.
LV_MOUNTS=()
lv_mount() {   # root
    local root=$1 d
    for d in proc sys dev; do
        mkdir -p "$root/$d"
        if [ "$d" = proc ]; then
            as_root mount -t proc proc "$root/proc"
        else
            as_root mount --rbind "/$d" "$root/$d"
            as_root mount --make-rslave "$root/$d"
        fi
        LV_MOUNTS+=("$root/$d")
    done
}

lv_umount_all() {
    local i m
    for ((i = ${#LV_MOUNTS[@]} - 1; i >= 0; i--)); do
        m=${LV_MOUNTS[i]}
        if mountpoint -q "$m"; then
            as_root umount -R "$m" 2>/dev/null || as_root umount -Rl "$m"
        fi
    done
    LV_MOUNTS=()
}

# Refuse to delete a tree that still has anything mounted in it (a bind of
# /dev or /sys would take the host's with it).
lv_safe_rm() {   # dir
    if grep -q " $1/" /proc/self/mounts; then
        die "$1 still has mounts; not removing it"
    fi
    as_root rm -rf "$1"
}

lv_chroot() {   # root, command...
    local root=$1
    shift
    as_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
}

# The base system, once: a minbase debootstrap of trixie, kept as a
# tarball so both chroots start from it without a second download.
lv_base_tarball() {
    local tar=$VNEST_CACHE/libvirt-chroot-base.tar tmp mirror
    if [ ! -f "$tar" ]; then
        command -v debootstrap >/dev/null || "$VNEST_ROOT/scripts/deps.sh" --libvirt
        mirror=$(debian_mirror)
        tmp=$VNEST_CACHE/libvirt-chroot-base.tmp
        lv_safe_rm "$tmp"
        msg "debootstrap $DEBIAN_SUITE (minbase) from $mirror"
        as_root debootstrap --variant=minbase "$DEBIAN_SUITE" "$tmp" "$mirror" \
            >"$VNEST_CACHE/libvirt-chroot-base.log" 2>&1 ||
            { tail -n 20 "$VNEST_CACHE/libvirt-chroot-base.log" >&2
              die "debootstrap failed (log: $VNEST_CACHE/libvirt-chroot-base.log)"; }
        as_root tar -C "$tmp" -cf "$tar.tmp" .
        mv "$tar.tmp" "$tar"
        lv_safe_rm "$tmp"
    fi
    echo "$tar"
}

# Build one chroot (trixie or backports) unless it is cached.
lv_build() {   # name
    local name=$1 root tmp tar mirror suite log
    root=$(lv_root "$name")
    [ -f "$root/.vnest-libvirt" ] && return 0
    tar=$(lv_base_tarball)
    mirror=$(debian_mirror)
    tmp=$root.tmp
    log=$VNEST_CACHE/libvirt-chroot-$name.log
    lv_safe_rm "$tmp"
    mkdir -p "$tmp"
    as_root tar -C "$tmp" -xf "$tar"
    suite=$DEBIAN_SUITE
    [ "$name" = backports ] && suite=$DEBIAN_BACKPORTS
    # The chroot's apt reads the same mirror as the machine.
    as_root tee "$tmp/etc/apt/sources.list" >/dev/null <<SRC
deb $mirror $DEBIAN_SUITE main
deb $mirror $DEBIAN_BACKPORTS main
SRC
    # Packages must not start services inside the chroot.
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$tmp/usr/sbin/policy-rc.d" >/dev/null
    as_root chmod 755 "$tmp/usr/sbin/policy-rc.d"
    msg "installing libvirt from $suite into $tmp"
    (
        trap lv_umount_all EXIT
        lv_mount "$tmp"
        lv_chroot "$tmp" apt-get -q update &&
        lv_chroot "$tmp" apt-get -q install -y --no-install-recommends \
            -t "$suite" "${LV_PKGS[@]}" &&
        lv_chroot "$tmp" apt-get clean
    ) >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "installing libvirt into the chroot failed (log: $log)"; }
    lv_chroot "$tmp" virsh --version >"$tmp/.vnest-libvirt" ||
        die "virsh does not run in the $name chroot"
    as_root mv "$tmp" "$root"
    msg "libvirt $(cat "$root/.vnest-libvirt") in $root"
}

# One chroot's session: mounts, VNest's QEMU, daemons. lv_start NAME, then
# lv_virsh ...; lv_stop (from an EXIT trap) undoes everything. Writes the
# libvirt version to $OUT/version-NAME.txt.
ROOT=
lv_virsh() { lv_chroot "$ROOT" virsh -q -c qemu:///system "$@"; }

# Every domain goes, running or defined: a run cut short leaves none for
# the next one.
lv_clean_domains() {
    local n
    for n in $(lv_virsh list --all --name 2>/dev/null); do
        lv_virsh destroy "$n" >/dev/null 2>&1 || true
        lv_virsh undefine "$n" >/dev/null 2>&1 || true
    done
}

lv_stop() {
    local pidf pid
    if [ -n "$ROOT" ] && [ -S "$ROOT/run/libvirt/libvirt-sock" ]; then
        lv_clean_domains
    fi
    for pidf in libvirtd.pid virtlogd.pid; do
        { [ -n "$ROOT" ] && [ -f "$ROOT/run/$pidf" ]; } || continue
        pid=$(cat "$ROOT/run/$pidf")
        as_root kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do as_root kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        as_root kill -9 "$pid" 2>/dev/null || true
    done
    lv_umount_all
    ROOT=
}

# VNest's QEMU and its data files under /opt/vnest, by `make install`
# (scripts/install.sh): the binary finds its data relative to itself.
lv_install_qemu() {
    as_root env DESTDIR="$1" PREFIX=/opt/vnest "$VNEST_ROOT/scripts/install.sh" >/dev/null
}

lv_start() {   # chroot name
    local name=$1 i
    ROOT=$(lv_root "$name")
    mkdir -p "$OUT"
    lv_mount "$ROOT"
    # A fresh /run per session: no stale sockets or pid files.
    as_root mount -t tmpfs -o mode=755 vnest-run "$ROOT/run"
    LV_MOUNTS+=("$ROOT/run")
    lv_install_qemu "$ROOT"
    # Test setup, not user configuration: libvirtd in a chroot cannot give
    # QEMU a private /dev (namespaces) and has no cgroup hierarchy of its
    # own here (cgroup_controllers); QEMU runs as Debian's libvirt-qemu.
    [ -f "$ROOT/etc/libvirt/qemu.conf.dist" ] ||
        as_root cp "$ROOT/etc/libvirt/qemu.conf" "$ROOT/etc/libvirt/qemu.conf.dist"
    as_root tee "$ROOT/etc/libvirt/qemu.conf" >/dev/null <<'CONF'
# scripts/libvirt-test.sh: the chroot's test configuration.
namespaces = [ ]
cgroup_controllers = [ ]
CONF
    # VNEST_LIBVIRT_DEBUG=1: libvirtd logs its QMP traffic to the
    # chroot's /var/log/libvirt/debug.log.
    [ -f "$ROOT/etc/libvirt/libvirtd.conf.dist" ] ||
        as_root cp "$ROOT/etc/libvirt/libvirtd.conf" "$ROOT/etc/libvirt/libvirtd.conf.dist"
    as_root cp "$ROOT/etc/libvirt/libvirtd.conf.dist" "$ROOT/etc/libvirt/libvirtd.conf"
    if [ "${VNEST_LIBVIRT_DEBUG:-0}" = 1 ]; then
        printf '%s\n' 'log_filters="1:qemu.qemu_monitor 1:qemu.qemu_capabilities"' \
            'log_outputs="1:file:/var/log/libvirt/debug.log"' |
            as_root tee -a "$ROOT/etc/libvirt/libvirtd.conf" >/dev/null
    fi
    as_root rm -rf "$ROOT/var/log/libvirt/qemu"/vnest-*
    lv_chroot "$ROOT" virtlogd -d
    lv_chroot "$ROOT" libvirtd -d
    for i in $(seq 100); do
        [ -S "$ROOT/run/libvirt/libvirt-sock" ] && break
        sleep 0.1
    done
    lv_virsh version >"$OUT/version-$name.txt" 2>&1 ||
        { cat "$OUT/version-$name.txt" >&2; die "libvirtd did not come up in the $name chroot"; }
    msg "$name chroot: $(grep -i 'using library' "$OUT/version-$name.txt" | head -n1 | sed 's/^ *//')"
    lv_clean_domains
}
