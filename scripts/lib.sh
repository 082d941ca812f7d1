# Shared settings for VNest's build scripts. Sourced, not run.
# shellcheck shell=bash

VNEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Downloads, extracted Debian packages and ccache live outside the clone so
# a fresh clone on the same machine reuses them.
VNEST_CACHE=${VNEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vnest}
VNEST_BUILD=${VNEST_BUILD:-$VNEST_ROOT/build}
QEMU_TREE=$VNEST_BUILD/qemu-src
QEMU_BUILD=$VNEST_BUILD/qemu
# qemu-system-aarch64 cross-built for arm64 hosts (scripts/build-qemu-cross.sh)
# against Debian arm64 libraries extracted into a sysroot in the cache.
QEMU_XBUILD=$VNEST_BUILD/qemu-aarch64
# QEMU's data directory under a prefix is share/$QEMU_DATA_SUFFIX; the
# installed binaries find it relative to their own directory (../share/...).
QEMU_DATA_SUFFIX=vnest-qemu
export CCACHE_DIR=${CCACHE_DIR:-$VNEST_CACHE/ccache}
# Paths differ between clones; make ccache hash them relative to the build.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$VNEST_ROOT}
export CCACHE_NOHASHDIR=1
# Debian's ccache masquerade directory: QEMU's configure records plain "cc",
# which ninja then finds here.
[ -d /usr/lib/ccache ] && export PATH=/usr/lib/ccache:$PATH

# shellcheck source=../configs/pin.env
. "$VNEST_ROOT/configs/pin.env"
ARM64_SYSROOT=$VNEST_CACHE/sysroot-arm64-$DEBIAN_SUITE

msg() { printf 'vnest: %s\n' "$*" >&2; }
die() { printf 'vnest: error: %s\n' "$*" >&2; exit 1; }

# Run a command as root (the machines here run as root; elsewhere use sudo).
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The Debian mirror this machine already uses, read from its apt sources.
# VNEST_DEBIAN_MIRROR overrides it.
debian_mirror() {
    if [ -n "${VNEST_DEBIAN_MIRROR:-}" ]; then
        echo "${VNEST_DEBIAN_MIRROR%/}"
        return
    fi
    local uri
    uri=$(apt-get indextargets --format '$(LABEL) $(REPO_URI)' 2>/dev/null |
          awk '$1 == "Debian" { print $2; exit }')
    if [ -z "$uri" ]; then
        # No index yet: take the first non-security Debian URI from the
        # sources files (deb822 and one-line formats).
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
                  /etc/apt/sources.list.d/*.list 2>/dev/null |
              grep -oE '(https?|file)://[^ ]+' | grep -v -- '-security' |
              grep -iE 'debian' | head -n1)
    fi
    [ -n "$uri" ] || die "cannot find a Debian mirror in this machine's apt sources; set VNEST_DEBIAN_MIRROR"
    echo "${uri%/}"
}

# A private apt configuration for Debian 13 (and its backports) that leaves
# the system's sources untouched. Prints the APT_CONFIG path.
PAPT=$VNEST_CACHE/apt
papt_setup() {
    local mirror stamp sum
    mirror=$(debian_mirror)
    mkdir -p "$PAPT"/lists/partial "$PAPT"/cache/archives/partial \
             "$PAPT"/sources "$PAPT"/prefs
    cat > "$PAPT"/sources/debian.sources <<SRC
Types: deb deb-src
URIs: $mirror
Suites: $DEBIAN_SUITE
Components: main
Architectures: amd64 arm64 s390x
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: $mirror
Suites: $DEBIAN_BACKPORTS
Components: main
Architectures: amd64 arm64
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat > "$PAPT"/apt.conf <<CONF
Dir::State "$PAPT";
Dir::State::Lists "$PAPT/lists";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$PAPT/cache";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$PAPT/sources";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$PAPT/prefs";
APT::Architectures { "amd64"; "arm64"; "s390x"; };
APT::Sandbox::User "root";
CONF
    # Refresh the lists at most once a day, and when the sources change.
    stamp=$PAPT/lists/.updated
    sum=$(sha256sum <"$PAPT"/sources/debian.sources | cut -d' ' -f1)
    if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ] ||
       [ "$(cat "$stamp")" != "$sum" ]; then
        msg "updating private apt lists ($DEBIAN_SUITE, $DEBIAN_BACKPORTS) from $mirror"
        APT_CONFIG=$PAPT/apt.conf apt-get -q update >"$PAPT/update.log" 2>&1 ||
            { cat "$PAPT/update.log" >&2; die "apt-get update with the private configuration failed"; }
        echo "$sum" >"$stamp"
    fi
}

papt() { APT_CONFIG=$PAPT/apt.conf "$@"; }

# Download one Debian package (name or name=version) into $VNEST_CACHE/debs
# and print the path of the .deb.
fetch_deb() {
    local spec=$1 dir=$VNEST_CACHE/debs name ver file arch pat
    mkdir -p "$dir"
    name=${spec%%=*}
    if [ "$spec" != "$name" ]; then ver=${spec#*=}; else
        ver=$(papt apt-cache policy "$name" | awk '/Candidate:/ { print $2 }')
    fi
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "package $name is not in $DEBIAN_SUITE"
    # NAME:ARCH picks that architecture's file (or an "all" one); a bare
    # NAME the native one.
    case $name in
        *:*) arch=${name#*:} ;;
        *) arch=$(dpkg --print-architecture) ;;
    esac
    pat="$dir/${name%%:*}_${ver//:/%3a}_"
    file=$(ls "$pat$arch.deb" "${pat}all.deb" 2>/dev/null | head -n1)
    if [ -z "$file" ]; then
        (cd "$dir" && papt apt-get -q download "$name=$ver" >/dev/null 2>"$dir/.err") ||
            { cat "$dir/.err" >&2; die "cannot download $name=$ver"; }
        file=$(ls "$pat$arch.deb" "${pat}all.deb" 2>/dev/null | head -n1)
        [ -n "$file" ] || die "downloaded $name=$ver but found no ${name%%:*} .deb for $arch"
    fi
    echo "$file"
}

# Extract a .deb into a directory (nothing is installed).
extract_deb() {
    mkdir -p "$2"
    dpkg-deb -x "$1" "$2"
}
