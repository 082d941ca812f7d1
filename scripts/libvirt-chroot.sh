# Debian 13 chroots with a real libvirt for scripts/libvirt-test.sh.
# Sourced, not run (after lib.sh).
# shellcheck shell=bash
#
# Two chroots, cached under the cache directory and built once:
#   libvirt-chroot-trixie     libvirt from trixie (11.3)
#   libvirt-chroot-backports  libvirt from trixie-backports (12.9)
# Each has libvirt's daemons and virsh and no QEMU of Debian's: the only
# emulator in it is VNest's, copied in for each run.

LV_CHROOTS=(trixie backports)
# Packages: the modular QEMU daemon and its log daemon, virsh. Without
# recommends, so Debian's qemu-system-* never comes in.
LV_PKGS=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients)

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
