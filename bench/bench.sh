#!/usr/bin/env bash
# ./granite bench: measure Granite's IPC in QEMU TCG twice (wall time, then
# -icount shift=0 for exact instruction counts), measure Linux in the same
# emulator the same way (and, in the wall-time run, its disk on the device
# bench/disk-device.sh describes), and write the table, results.json and the charts.
#   bench/bench.sh BUILD_DIR [--update-docs]
# --update-docs also copies the report and charts into docs/, keeping the
# hand-written parts of docs/benchmarks.md that are marked as such.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:?build dir}
update_docs=${2:-}
out=$build/bench
mkdir -p "$out"
say() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }
fail() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

run_granite() { # mode log
    local mode=$1 log=$2
    say "booting the benchmark image ($mode); log: $log"
    set +e
    timeout 900 "$root/boot/qemu.sh" "$3" "$build/iso/bench.iso" --disk "$out/granite-disk.img" \
        </dev/null >"$log" 2>&1
    local status=$?
    set -e
    grep -q '^BENCH-DONE' <(tr -d '\r' <"$log") ||
        fail "the Granite benchmark ($mode) did not finish (QEMU status $status); see $log"
    say "  $(tr -d '\r' <"$log" | grep -c '^BENCH ') figures"
}

start=$SECONDS
# The disk of disk.raw_read_4KiB_iops: the same device and image Linux gets.
# shellcheck source=disk-device.sh
. "$here/disk-device.sh"
bench_disk_image "$out/granite-disk.img"
# FAT32 for the file-system rows (fs-bench); the raw reads read it as blocks.
mkfs.fat -F 32 -n BENCH "$out/granite-disk.img" >/dev/null ||
    fail "mkfs.fat failed on $out/granite-disk.img"
# Wall time three times: the host's own noise comes in bursts, and the
# median of three runs' medians is steadier than any one run.
runs=${GRANITE_BENCH_RUNS:-3}
wall_logs=()
for i in $(seq "$runs"); do
    run_granite "wall time, plain TCG, run $i of $runs" "$out/granite-wall-$i.log" test
    wall_logs+=(--granite-wall "$out/granite-wall-$i.log")
done
run_granite "instructions, -icount shift=0" "$out/granite-icount.log" icount

say "building the Linux reference (Debian's kernel and busybox, fetched with apt-get download)"
"$here/linux/build.sh" "$out/linux" >"$out/linux-build.log" 2>&1 ||
    fail "building the Linux reference failed; see $out/linux-build.log"
for mode in wall icount; do
    say "booting Linux ($mode)"
    "$here/linux/run.sh" "$out/linux" "$mode" >"$out/linux-$mode.bench" 2>>"$out/linux-build.log" ||
        fail "the Linux benchmark ($mode) failed; see $out/linux/linux-$mode.log"
done

say "writing the report"
args=("${wall_logs[@]}" --granite-icount "$out/granite-icount.log"
      --linux-wall "$out/linux/linux-wall.log" --linux-icount "$out/linux/linux-icount.log"
      --out "$out")
[ "$update_docs" = --update-docs ] && args+=(--docs "$root/docs")
python3 "$here/report.py" "${args[@]}"
say "done in $((SECONDS - start)) s: $out/results.json, $out/benchmarks.md, $out/*.svg"
