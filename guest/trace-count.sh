#!/usr/bin/env bash
# Count events in a QEMU trace log (the "log" trace backend's file).
#   guest/trace-count.sh TRACE_LOG SPEC...
# Each SPEC is "LABEL:EVENT[:OPTION]...", EVENT one event or several
# joined by "+" (counted together), options being
#   FIELD       sum the event's FIELD=N values instead of counting lines
#               (N decimal, or hexadecimal with 0x)
#   per=EVENTS  divide by the number of EVENTS lines (same window; two
#               decimals, "n/a" when there were none)
#   scale=N     divide by N (e.g. scale=4096: bytes to 4 KiB pages)
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
    label=${f[0]} event=${f[1]:-} field= match= after= until= expect= per= scale=1
    [ -n "$event" ] || { echo "trace-count: bad spec '$spec'" >&2; exit 1; }
    for opt in "${f[@]:2}"; do
        case $opt in
            match=*) match=${opt#match=} ;;
            after=*) after=${opt#after=} ;;
            until=*) until=${opt#until=} ;;
            expect=*) expect=${opt#expect=} ;;
            per=*) per=${opt#per=} ;;
            scale=*) scale=${opt#scale=} ;;
            span) field=-span ;;
            *) field=$opt ;;
        esac
    done
    # The log backend writes "EVENT args", or "PID@SECONDS:EVENT args"
    # with -msg timestamp=on.
    value=$(awk -v evs="$event" -v field="$field" -v match_re="$match" \
                -v after="$after" -v until="$until" -v pers="$per" \
                -v scale="$scale" '
        function num(s,    i, c, v) {
            if (substr(s, 1, 2) != "0x") return s + 0
            v = 0
            for (i = 3; i <= length(s); i++) {
                c = index("0123456789abcdef", tolower(substr(s, i, 1)))
                if (!c) break
                v = v * 16 + c - 1
            }
            return v
        }
        function stamp(line) {
            if (!match(line, /^[0-9]+@[0-9.]+:/)) return -1
            return substr(line, index(line, "@") + 1, RLENGTH - index(line, "@") - 1) + 0
        }
        BEGIN {
            on = (after == ""); n = 0; d = 0
            k = split(evs, a, "+"); for (i = 1; i <= k; i++) ev[a[i]] = 1
            k = split(pers, a, "+"); for (i = 1; i <= k; i++) per[a[i]] = 1
        }
        !on { if ($0 ~ after) { on = 1; t0 = stamp($0) } next }
        until != "" && $0 ~ until { t1 = stamp($0); closed = 1; exit }
        field == "-span" { next }
        {
            name = $1
            sub(/^[0-9]+@[0-9.]+:/, "", name)
            if (name in per) d++
            if (!(name in ev) || (match_re != "" && $0 !~ match_re)) next
            if (field == "") { n++; next }
            for (i = 2; i <= NF; i++) {
                if (index($i, field "=") == 1) {
                    n += num(substr($i, length(field) + 2))
                }
            }
        }
        END {
            if (!on) print "no-marker"
            else if (field != "-span" && pers != "" && !d) print "n/a"
            else if (field != "-span" && pers != "") printf "%.2f\n", n / scale / d
            else if (field != "-span" && scale != 1) printf "%.2f\n", n / scale
            else if (field != "-span") print n
            else if (closed && t0 >= 0 && t1 >= 0) printf "%.6f\n", t1 - t0
            else print "no-span"
        }' "$trace")
    printf '%s\t%s\t%s\n' "$label" "$value" "$expect"
done
