#!/usr/bin/env bash
# Install what building and running VNest needs, from Debian packages only.
# Idempotent: installs nothing when everything is present.
#   scripts/deps.sh [--libvirt]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Tools and libraries from the machine's own Debian release. The last line
# is for scripts/build-kernel.sh: bc, libelf (objtool) and libssl
# (extract-cert) for the kernel, a static libcap for its iommufd selftests;
# the cross compiler builds uapi-check for the arm64 conformance guest.
PKGS=(gcc make binutils libc6-dev ccache flex bison pkg-config ninja-build
      python3 python3-venv
      python3-setuptools libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
      libslirp-dev
      dpkg-dev xz-utils cpio debian-archive-keyring git perl clang
      bc libelf-dev libssl-dev libcap-dev
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
# `--libvirt`: also what scripts/libvirt-test.sh needs to build its chroots.
if [ "${1:-}" = --libvirt ]; then PKGS+=(debootstrap); fi
MESON_MIN=1.5

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$p")
done

meson_ok() {
    command -v meson >/dev/null &&
        dpkg --compare-versions "$(meson --version)" ge "$MESON_MIN"
}

if [ ${#missing[@]} -gt 0 ] || ! meson_ok; then
    export DEBIAN_FRONTEND=noninteractive
    if [ ${#missing[@]} -gt 0 ]; then
        msg "installing: ${missing[*]}"
        as_root apt-get -q update >/dev/null
        as_root apt-get -q install -y --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# libFuzzer's runtime matching the installed clang (tests/fuzz/).
clang_v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p')
if [ -n "$clang_v" ] &&
   ! compgen -G "/usr/lib/llvm-$clang_v/lib/clang/*/lib/linux/libclang_rt.fuzzer-$(uname -m).a" \
        >/dev/null; then
    msg "installing libclang-rt-$clang_v-dev (libFuzzer)"
    as_root apt-get -q install -y --no-install-recommends \
        "libclang-rt-$clang_v-dev" >/dev/null
fi

if ! meson_ok; then
    # Debian 12's meson is too old for QEMU 10.0: take Debian 13's.
    cand=$(apt-cache policy meson | awk '/Candidate:/ { print $2 }')
    if [ -n "$cand" ] && dpkg --compare-versions "$cand" ge "$MESON_MIN"; then
        as_root apt-get -q install -y --no-install-recommends meson >/dev/null
    else
        papt_setup
        deb=$(fetch_deb "meson")
        msg "installing meson from $DEBIAN_SUITE: $(basename "$deb")"
        as_root apt-get -q install -y --no-install-recommends "$deb" >/dev/null
    fi
    meson_ok || die "meson >= $MESON_MIN is still missing after installing it"
fi
