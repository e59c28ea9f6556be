#!/usr/bin/env bash
# Boot one ISO for a test and judge it: QEMU's exit status must be the
# expected one and every --expect regex must match a line of the serial log
# (no --reject regex may). On failure the log is printed with its path.
#   run-qemu.sh --iso X.iso --log L --timeout S --exit 33 [--expect RE]... [--reject RE]...
#               [--input-after RE --input TEXT]... [--icount] [--disk-mib N [--disk-fat]]
#               [--disk-image IMG] [--host-check CMD]
# Each --input types TEXT on the serial console once a log line matches the
# --input-after before it (default: after 1 s), so nothing is typed while
# GRUB owns the port and each command waits for what it depends on. Steps
# run in order; a step's regex must match a line after the previous step's.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
iso= log= timeout=60 want=33 mode=test disk_mib= disk_fat= disk_image= host_check=
expects=() rejects=() inputs=() afters=() after=
while [ $# -gt 0 ]; do
    case $1 in
    --iso) iso=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --exit) want=$2; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    --input) inputs+=("$2"); afters+=("$after"); after=; shift 2 ;;
    --input-after) after=$2; shift 2 ;;
    --icount) mode=icount; shift ;;
    --disk-mib) disk_mib=$2; shift 2 ;;
    --disk-fat) disk_fat=1; shift ;;
    --disk-image) disk_image=$2; shift 2 ;;
    --host-check) host_check=$2; shift 2 ;;
    *) echo "run-qemu.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$(dirname "$log")"
# The mutation campaign (test/mutate) caps every boot at a few times its
# normal length, so a mutant that hangs costs seconds, not minutes.
if [ -n "${GRANITE_QEMU_TIMEOUT:-}" ] && [ "$GRANITE_QEMU_TIMEOUT" -lt "$timeout" ]; then
    timeout=$GRANITE_QEMU_TIMEOUT
fi

# A fresh disk for each run (--disk-mib N: N MiB of zeros; --disk-fat:
# formatted FAT32 with mkfs.fat), next to the log.
qemu_extra=()
# --disk-image IMG: that image instead of one beside the log; without
# --disk-mib it is used as it is (a second boot on the same disk).
if [ -n "$disk_image" ] && [ -z "$disk_mib" ]; then
    [ -f "$disk_image" ] || { echo "run-qemu.sh: no disk image $disk_image" >&2; exit 2; }
    qemu_extra=(--disk "$disk_image")
fi
if [ -n "$disk_mib" ]; then
    disk=${disk_image:-${log%.log}.img}
    rm -f "$disk"
    if [ -n "$disk_fat" ]; then
        mkfs.fat -F 32 -n GRANITE -C "$disk" $((disk_mib * 1024)) >/dev/null
    else
        truncate -s "${disk_mib}M" "$disk"
    fi
    qemu_extra=(--disk "$disk")
fi

start=$(date +%s%N)
if [ ${#inputs[@]} -gt 0 ]; then
    : >"$log"
    fifo=$(mktemp -u "${log%.log}.XXXX.in")
    mkfifo "$fifo"
    (
        seen=0 # log lines consumed by earlier steps
        for i in "${!inputs[@]}"; do
            if [ -n "${afters[$i]}" ]; then
                for _ in $(seq $((timeout * 10))); do
                    line=$(tail -n +$((seen + 1)) "$log" | tr -d '\r' | grep -Enm1 -- "${afters[$i]}" | cut -d: -f1)
                    [ -n "$line" ] && { seen=$((seen + line)); break; }
                    sleep 0.1
                done
            else
                sleep 1
            fi
            printf '%b' "${inputs[$i]}"
        done
        exec sleep "$timeout" # keep the console's input open; killed when QEMU ends
    ) >"$fifo" &
    writer=$!
    timeout "$timeout" "$here/../../boot/qemu.sh" "$mode" "$iso" "${qemu_extra[@]}" <"$fifo" >"$log" 2>&1
    status=$?
    kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
    rm -f "$fifo"
else
    timeout "$timeout" "$here/../../boot/qemu.sh" "$mode" "$iso" "${qemu_extra[@]}" </dev/null >"$log" 2>&1
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
# --host-check CMD: run on the host after QEMU, with the disk image as its
# argument (fsck.fat, mtools); its output joins the log, a failure fails.
if [ -n "$host_check" ]; then
    img=${disk_image:-${log%.log}.img}
    if ! out=$($host_check "$img" 2>&1); then
        printf '%s\n' "$out" >>"$log"
        fail "the host check ($host_check) failed: $(tail -n 5 <<<"$out")"
    fi
    printf '%s\n' "$out" >>"$log"
fi
echo "PASS ($(basename "$iso"), exit $status, ${elapsed}s, log $log)"
