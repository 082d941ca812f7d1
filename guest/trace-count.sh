#!/usr/bin/env bash
# Count events in a QEMU trace log (the "log" trace backend's file).
#   guest/trace-count.sh TRACE_LOG SPEC...
# Each SPEC is "LABEL:EVENT[:OPTION]...", options being
#   FIELD       sum the event's FIELD=N values instead of counting lines
#   match=RE    count only the event's lines that match RE (an awk ERE)
#   after=RE    count only after the first line matching RE (an awk ERE)
#   until=RE    stop at the first line matching RE (after the "after" one)
#   span        instead of counting, the seconds from the "after" line to
#               the "until" line (needs QEMU's -msg timestamp=on)
#   expect=N    the value the caller should insist on
# and prints one "LABEL<tab>VALUE<tab>EXPECTED" line per SPEC (EXPECTED
# empty when there is none; VALUE "no-marker" when the "after" line never
# came, so that an expected 0 is not met by a run that never got there).
set -euo pipefail
trace=$1
shift
[ -r "$trace" ] || { echo "trace-count: cannot read $trace" >&2; exit 1; }
for spec in "$@"; do
    IFS=: read -r -a f <<<"$spec"
    label=${f[0]} event=${f[1]:-} field= match= after= until= expect=
    [ -n "$event" ] || { echo "trace-count: bad spec '$spec'" >&2; exit 1; }
    for opt in "${f[@]:2}"; do
        case $opt in
            match=*) match=${opt#match=} ;;
            after=*) after=${opt#after=} ;;
            until=*) until=${opt#until=} ;;
            expect=*) expect=${opt#expect=} ;;
            span) field=-span ;;
            *) field=$opt ;;
        esac
    done
    # The log backend writes "EVENT args", or "PID@SECONDS:EVENT args"
    # with -msg timestamp=on.
    value=$(awk -v ev="$event" -v field="$field" -v match_re="$match" \
                -v after="$after" -v until="$until" '
        function stamp(line) {
            if (!match(line, /^[0-9]+@[0-9.]+:/)) return -1
            return substr(line, index(line, "@") + 1, RLENGTH - index(line, "@") - 1) + 0
        }
        BEGIN { on = (after == ""); n = 0 }
        !on { if ($0 ~ after) { on = 1; t0 = stamp($0) } next }
        until != "" && $0 ~ until { t1 = stamp($0); closed = 1; exit }
        field == "-span" { next }
        {
            name = $1
            sub(/^[0-9]+@[0-9.]+:/, "", name)
            if (name != ev || (match_re != "" && $0 !~ match_re)) next
            if (field == "") { n++; next }
            for (i = 2; i <= NF; i++) {
                if (index($i, field "=") == 1) {
                    n += substr($i, length(field) + 2) + 0
                }
            }
        }
        END {
            if (!on) print "no-marker"
            else if (field != "-span") print n
            else if (closed && t0 >= 0 && t1 >= 0) printf "%.6f\n", t1 - t0
            else print "no-span"
        }' "$trace")
    printf '%s\t%s\t%s\n' "$label" "$value" "$expect"
done
