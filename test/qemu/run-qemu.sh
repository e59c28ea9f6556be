#!/usr/bin/env bash
# Boot one ISO for a test and judge it: QEMU's exit status must be the
# expected one and every --expect regex must match a line of the serial log
# (no --reject regex may). On failure the log is printed with its path.
#   run-qemu.sh --iso X.iso --log L --timeout S --exit 33 [--expect RE]... [--reject RE]...
#               [--input TEXT [--input-after RE]] [--icount]
# --input types TEXT on the serial console once a log line matches
# --input-after (default: after 1 s), so nothing is typed while GRUB owns the port.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
iso= log= timeout=60 want=33 input= input_after= mode=test
expects=() rejects=()
while [ $# -gt 0 ]; do
    case $1 in
    --iso) iso=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --exit) want=$2; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    --input) input=$2; shift 2 ;;
    --input-after) input_after=$2; shift 2 ;;
    --icount) mode=icount; shift ;;
    *) echo "run-qemu.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$(dirname "$log")"

start=$(date +%s%N)
if [ -n "$input" ]; then
    : >"$log"
    fifo=$(mktemp -u "${log%.log}.XXXX.in")
    mkfifo "$fifo"
    (
        if [ -n "$input_after" ]; then
            for _ in $(seq $((timeout * 10))); do
                grep -Eq -- "$input_after" "$log" && break
                sleep 0.1
            done
        else
            sleep 1
        fi
        printf '%b' "$input"
        exec sleep "$timeout" # keep the console's input open; killed when QEMU ends
    ) >"$fifo" &
    writer=$!
    timeout "$timeout" "$here/../../boot/qemu.sh" "$mode" "$iso" <"$fifo" >"$log" 2>&1
    status=$?
    kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
    rm -f "$fifo"
else
    timeout "$timeout" "$here/../../boot/qemu.sh" "$mode" "$iso" </dev/null >"$log" 2>&1
    status=$?
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
elapsed=$((ms / 1000)).$(printf %03d $((ms % 1000)))

fail() {
    echo "FAIL: $*"
    echo "----- serial log ($log), last 150 lines -----"
    tail -n 150 "$log" | tr -d '\r'
    echo "----- end of log ($log) -----"
    exit 1
}

[ $status -eq 124 ] && fail "QEMU did not finish within ${timeout}s"
[ "$status" -eq "$want" ] || fail "QEMU exit status $status, expected $want (33 = guest success, 35 = guest reported failure, 37 = kernel panic/exception)"
# The console writes CR LF: match on lines without the CR.
clean=$(tr -d '\r' <"$log")
for re in "${expects[@]}"; do
    grep -Eq -- "$re" <<<"$clean" || fail "expected a serial line matching /$re/"
done
for re in "${rejects[@]}"; do
    if line=$(grep -Em1 -- "$re" <<<"$clean"); then fail "unexpected serial line: $line"; fi
done
echo "PASS ($(basename "$iso"), exit $status, ${elapsed}s, log $log)"
