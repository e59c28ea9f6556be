#!/usr/bin/env bash
# A quick look at a few rows: the quick benchmark image, with the full
# benchmark's batches but only the figures whose names contain TEXT (or
# one of the TEXTs), booted RUNS times in plain TCG (wall time) and once
# under -icount shift=0 (instructions); prints each run's median and min.
#   bench/rows.sh BUILD_DIR TEXT[,TEXT...] [RUNS]
# ROWS_ARGS adds bench arguments (warmup=N: N untimed batches first).
# ROWS_STAGE: another staged bench-quick image (a copy kept to compare with).
# Figures only: on a loaded machine compare runs made side by side.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "${1:?build dir}" && pwd)
text=${2:?text of the row names}
runs=${3:-3}
stage=${ROWS_STAGE:-$build/iso-stage/bench-quick}
[ -f "$stage/boot/grub/grub.cfg" ] || { echo "rows.sh: build the bench-quick image first" >&2; exit 2; }
work=$(mktemp -d "$build/bench-rows.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$stage" "$work/stage"
sed -i "/module2 \/boot\/bench.elf bench /{s/ quick//;s/\$/ only=$text ${ROWS_ARGS:-}/}" "$work/stage/boot/grub/grub.cfg"
grep -q "only=$text" "$work/stage/boot/grub/grub.cfg" || { echo "rows.sh: no bench module line" >&2; exit 1; }
"$root/boot/mkiso.sh" "$work/stage" "$work/rows.iso"
one() { # mode (QEMU's exit status is the guest's isa-debug-exit code: ignored)
    { timeout 300 "$root/boot/qemu.sh" "$1" "$work/rows.iso" </dev/null 2>&1 || true; } | tr -d '\r' |
        sed -n 's/^BENCH \([^ ]*\) cycles_median=\([0-9]*\) cycles_min=\([0-9]*\).*/\1 \2 \3/p'
}
for i in $(seq "$runs"); do
    one test | grep -v '^kernel\.' >"$work/wall-$i"
done
one icount | grep -v '^kernel\.' >"$work/icount"
# One line a row: instructions, the median of the runs' medians, the least
# minimum (the steadier figure on a loaded machine), each run's median.
cat "$work"/wall-* | awk -v icount="$work/icount" '
    BEGIN { while ((getline l < icount) > 0) { split(l, f, " "); instr[f[1]] = f[2] } }
    { if (!($1 in n)) order[++rows] = $1; v[$1, ++n[$1]] = $2; if (!($1 in lo) || $3 < lo[$1]) lo[$1] = $3 }
    END {
        printf "%-36s %12s %12s %10s  %s\n", "figure", "instructions", "wall median", "least min", "runs (TSC cycles)"
        for (r = 1; r <= rows; r++) {
            k = order[r]; m = n[k]; list = ""
            for (i = 1; i <= m; i++) { a[i] = v[k, i]; list = list " " a[i] }
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            printf "%-36s %12s %12s %10s %s\n", k, instr[k], a[int((m + 1) / 2)], lo[k], list
        }
    }'
