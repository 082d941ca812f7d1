#!/usr/bin/env bash
# Run QEMU's scripts/checkpatch.pl over every C source and header of VNest.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ -x "$QEMU_TREE/scripts/checkpatch.pl" ] || "$VNEST_ROOT/scripts/prepare-qemu.sh"
cd "$VNEST_ROOT"
rc=0
while IFS= read -r f; do
    out=$("$QEMU_TREE/scripts/checkpatch.pl" --no-tree --terse -f "$f" 2>&1) || {
        echo "$out"; rc=1; }
done < <(git ls-files --cached --others --exclude-standard '*.c' '*.h')
exit $rc
