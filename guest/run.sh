#!/usr/bin/env bash
# Boot a real Linux guest under VNest's QEMU, run one guest test, report.
#
#   guest/run.sh [PROFILE]        (default: x86_64-vtd; see guest/profiles/)
#
# The harness: a Debian kernel (extracted from its package, cached outside
# the clone), a busybox initramfs assembled here with guest/init and
# guest/tests/, a scratch disk, and QEMU with the profile's machine. The
# guest prints "VNEST: key=value" lines on its console; this script turns
# them into a report and exits 0 only if the guest test passed.
# Environment: VNEST_QEMU (emulator to use), VNEST_RUN_TIMEOUT (seconds,
# default 300), VNEST_VERBOSE=1 (echo the guest console), VNEST_MIB (data
# size the guest test moves, default 16), VNEST_APPEND (more kernel
# parameters, e.g. loglevel=7), VNEST_QEMU_ARGS (more QEMU arguments, e.g.
# -trace 'vnest_*'), VNEST_PREPARE_ONLY=1 (build the kernel and initramfs,
# print "kernel=PATH", "initrd=PATH" and "cmdline=..." lines and stop: for
# scripts/libvirt-test.sh, whose domain XML boots them).
# A profile may set, itself or in a profile_prepare function run here
# before anything else, PROFILE_KERNEL (a kernel image to boot instead of
# PROFILE_KERNEL_PKG's, e.g. one built by scripts/build-kernel.sh) and
# PROFILE_FILES (an array of HOST_PATH:INITRAMFS_PATH, extra files for the
# initramfs), and PROFILE_MODULES (an array of kernel module names: taken
# with their dependencies from the kernel's package, decompressed, and
# loaded by /init in dependency order before the test). Guest tests may stream TAP as "VNEST-TAP: NAME: LINE" console
# lines; each stream is kept in build/guest/PROFILE/NAME.tap.
# A profile may set PROFILE_COUNT, an array of guest/trace-count.sh specs:
# the QEMU trace events they name are logged to build/guest/PROFILE/
# trace.log and the report prints the counts.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

PROFILE=${1:-x86_64-vtd}
pfile=$VNEST_ROOT/guest/profiles/$PROFILE.sh
PROFILE_KERNEL=
PROFILE_FILES=()
PROFILE_MODULES=()
PROFILE_COUNT=()
[ -f "$pfile" ] || die "no guest profile '$PROFILE' (have: $(cd "$VNEST_ROOT/guest/profiles" && ls | sed 's/\.sh$//' | tr '\n' ' '))"
. "$pfile"
WORK=$VNEST_BUILD/guest/$PROFILE
QEMU=${VNEST_QEMU:-$QEMU_BUILD/$PROFILE_QEMU}
[ -x "$QEMU" ] || die "$QEMU is not built; run 'make build' first"
mkdir -p "$WORK"
if declare -F profile_prepare >/dev/null; then profile_prepare; fi

# The kernel image of a (meta)package, extracted once into the cache.
guest_kernel() {
    local pkg=$1 real flavour others c
    papt_setup
    real=$(papt apt-cache depends "$pkg:$PROFILE_ARCH" 2>/dev/null |
           awk '/Depends: linux-image-/ { sub(":.*", "", $2); print $2; exit }')
    [ -n "$real" ] || real=$pkg
    # A mirror may lack the package's current build (this one serves
    # s390x's 6.12.107 but not 6.12.117): then the newest build of the
    # same flavour that is cached, or else that downloads.
    flavour=${real#linux-image-}
    flavour=${flavour#*-}
    others=$(papt apt-cache search --names-only "^linux-image-[0-9][^ ]*-$flavour\$" \
                 2>/dev/null | awk '{ print $1 }' | grep -vx "$real" | sort -rV)
    kernel_cached "$real" || kernel_fetch "$real" && return
    for c in $others; do kernel_cached "$c" && return; done
    for c in $others; do kernel_fetch "$c" && return; done
    die "no guest kernel of $pkg could be downloaded"
}
kernel_cached() {   # prints the image of kernel package $1 if it is cached
    compgen -G "$VNEST_CACHE/kernels/$1/$PROFILE_KERNEL_GLOB" | head -n1 | grep .
}
kernel_fetch() {    # downloads and extracts kernel package $1, prints the image
    local dir=$VNEST_CACHE/kernels/$1 deb
    local miss=$VNEST_CACHE/kernels/.missing-$1
    # A download the mirror refused is not retried for a day.
    [ -z "$(find "$miss" -mmin -1440 2>/dev/null)" ] || return 1
    msg "fetching guest kernel $1"
    mkdir -p "$VNEST_CACHE/kernels"
    deb=$( (fetch_deb "$1:$PROFILE_ARCH") ) || { touch "$miss"; return 1; }
    rm -f "$miss"
    rm -rf "$dir"
    extract_deb "$deb" "$dir"
    kernel_cached "$1"
}

# PROFILE_MODULES and their dependencies from the modules tree beside
# KERNEL (its package's lib/modules), decompressed into DEST in load order
# (DEST/order lists the files).
guest_modules() {
    local kernel=$1 dest=$2 tree f m
    f=$(dirname "$(dirname "$kernel")")
    tree=$( (compgen -G "$f/usr/lib/modules/*/kernel" ||
             compgen -G "$f/lib/modules/*/kernel") | head -n1)
    [ -n "$tree" ] || die "no modules beside $kernel for ${PROFILE_MODULES[*]}"
    mkdir -p "$dest"
    : >"$dest/order"
    declare -A seen=()
    add_module() {   # depth-first: dependencies first
        local name=$1 file dep
        [ -z "${seen[$name]:-}" ] || return 0
        seen[$name]=1
        file=$(find "$tree" -name "$name.ko*" -o -name "${name//-/_}.ko*" | head -n1)
        [ -n "$file" ] || die "module $name is not in $tree"
        case $file in
            *.xz) xz -dc "$file" ;;
            *.zst) zstd -qdc "$file" ;;
            *.gz) gzip -dc "$file" ;;
            *) cat "$file" ;;
        esac >"$dest/$name.ko"
        for dep in $(tr '\0' '\n' <"$dest/$name.ko" |
                     sed -n 's/^depends=//p' | tr ',' ' '); do
            add_module "$dep"
        done
        echo "$name.ko" >>"$dest/order"
    }
    for m in "${PROFILE_MODULES[@]}"; do add_module "$m"; done
}

build_initramfs() {
    local root=$WORK/initramfs bb
    bb=$VNEST_CACHE/busybox-$PROFILE_ARCH
    if [ ! -x "$bb/usr/bin/busybox" ] && [ ! -x "$bb/bin/busybox" ]; then
        papt_setup
        rm -rf "$bb"
        extract_deb "$(fetch_deb "busybox-static:$PROFILE_ARCH")" "$bb"
    fi
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/vnest/tests"
    cp "$(ls "$bb"/usr/bin/busybox "$bb"/bin/busybox 2>/dev/null | head -n1)" \
        "$root/bin/busybox"
    cp "$VNEST_ROOT/guest/init" "$root/init"
    cp "$VNEST_ROOT"/guest/tests/* "$root/vnest/tests/"
    local f
    for f in ${PROFILE_FILES[@]+"${PROFILE_FILES[@]}"}; do
        [ -f "${f%%:*}" ] || die "profile file ${f%%:*} is missing"
        install -D "${f%%:*}" "$root/${f#*:}"
    done
    if [ ${#PROFILE_MODULES[@]} -gt 0 ]; then
        guest_modules "$kernel" "$root/vnest/modules"
    fi
    (cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$WORK/initramfs.cpio.gz"
}

if [ -n "$PROFILE_KERNEL" ]; then
    [ -f "$PROFILE_KERNEL" ] || die "profile kernel $PROFILE_KERNEL is missing"
    kernel=$PROFILE_KERNEL
else
    kernel=$(guest_kernel "$PROFILE_KERNEL_PKG")
fi
build_initramfs
disk=$WORK/disk.img
rm -f "$disk"
truncate -s "${PROFILE_DISK_MIB}M" "$disk"
log=$WORK/console.log
: >"$log"

# shellcheck disable=SC2207
qargs=($(profile_qemu_args "$disk"))
cmdline="console=$PROFILE_CONSOLE panic=-1 quiet $PROFILE_CMDLINE vnest.test=$PROFILE_TEST"
# Unknown key=value parameters reach /init as environment variables.
cmdline="$cmdline VNEST_MIB=${VNEST_MIB:-16} ${VNEST_APPEND:-}"
if [ "${VNEST_PREPARE_ONLY:-0}" = 1 ]; then
    printf 'kernel=%s\ninitrd=%s\ncmdline=%s\n' "$kernel" \
        "$WORK/initramfs.cpio.gz" "${cmdline% }"
    exit 0
fi
# The events the counts name, markers (after=/until=) included, go to
# trace.log through QEMU's log trace backend.
trace=$WORK/trace.log
rm -f "$trace"
if [ ${#PROFILE_COUNT[@]} -gt 0 ]; then
    for ev in $(printf '%s\n' "${PROFILE_COUNT[@]}" |
                awk -F: '{ n = split($2, e, "+")
                           for (j = 1; j <= n; j++) print e[j]
                           for (i = 3; i <= NF; i++)
                               if ($i ~ /^per=/) {
                                   n = split(substr($i, 5), e, "+")
                                   for (j = 1; j <= n; j++) print e[j]
                               } else if ($i ~ /^(after|until)=/) {
                                   sub(/^[a-z]+=/, "", $i)
                                   match($i, /^[A-Za-z0-9_]+/)
                                   print substr($i, 1, RLENGTH)
                               } }' | sort -u); do
        qargs+=(-trace "enable=$ev")
    done
    qargs+=(-trace "file=$trace")
fi
msg "booting $PROFILE_DESC"
msg "kernel ${PROFILE_KERNEL:-$(basename "$kernel")}, console log in $log"
start=$(date +%s.%N)
set +e
if [ "${VNEST_VERBOSE:-0}" = 1 ]; then tail -n +1 -f "$log" & tailpid=$!; fi
timeout "${VNEST_RUN_TIMEOUT:-300}" "$QEMU" "${qargs[@]}" \
    -display none -monitor none -serial "file:$log" -no-reboot \
    -kernel "$kernel" -initrd "$WORK/initramfs.cpio.gz" \
    -append "$cmdline" ${VNEST_QEMU_ARGS:-}
qrc=$?
[ -n "${tailpid:-}" ] && kill "$tailpid" 2>/dev/null
set -e
end=$(date +%s.%N)

# Split the TAP streams out of the console log, one file per name.
rm -f "$WORK"/*.tap
for name in $(tr -d '\r' <"$log" | sed -n 's/^VNEST-TAP: \([A-Za-z0-9_.-]*\): .*/\1/p' | sort -u); do
    tr -d '\r' <"$log" | sed -n "s/^VNEST-TAP: $name: //p" >"$WORK/$name.tap"
done

exec "$VNEST_ROOT/guest/report.sh" "$log" "$PROFILE_DESC" "$qrc" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" \
    ${PROFILE_COUNT[@]+"$trace" "${PROFILE_COUNT[@]}"}
