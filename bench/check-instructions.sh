#!/usr/bin/env bash
# Instruction-count regression check (part of ./granite test): boot the
# quick benchmark under -icount shift=0, where every figure is an exact,
# repeatable count of guest instructions, and compare with the committed
# baseline. A path that grows by more than 10 % fails.
#   bench/check-instructions.sh ISO BASELINE LOG            check
#   bench/check-instructions.sh ISO BASELINE LOG --update   rewrite the baseline
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
iso=$1 baseline=$2 log=$3 mode=${4:-check}
limit_pct=10
mkdir -p "$(dirname "$log")"

timeout 300 "$here/../boot/qemu.sh" icount "$iso" </dev/null >"$log" 2>&1
status=$?
if ! tr -d '\r' <"$log" | grep -q '^BENCH-DONE'; then
    echo "FAIL: the benchmark did not finish under icount (QEMU status $status); log: $log"
    tail -n 40 "$log" | tr -d '\r'
    exit 1
fi
measured=$(tr -d '\r' <"$log" | awk '$1 == "BENCH" { split($3, m, "="); print $2, m[2] }')

if [ "$mode" = --update ]; then
    {
        echo "# Guest instructions per operation (median under -icount shift=0), from"
        echo "# bench/check-instructions.sh --update on $(date -u +%Y-%m-%d). ./granite test"
        echo "# fails when a figure grows by more than ${limit_pct} %."
        echo "$measured"
    } >"$baseline"
    echo "baseline written: $baseline ($(echo "$measured" | wc -l) figures)"
    exit 0
fi

fail=0
while read -r name want; do
    case $name in ''|'#'*) continue ;; esac
    got=$(echo "$measured" | awk -v n="$name" '$1 == n { print $2 }')
    if [ -z "$got" ]; then
        echo "FAIL $name: no longer measured (baseline $want instructions)"
        fail=1
    elif [ "$got" -gt $((want + want * limit_pct / 100)) ]; then
        echo "FAIL $name: $got instructions, baseline $want (+$(( (got - want) * 100 / want )) %, limit +${limit_pct} %)"
        fail=1
    elif [ "$got" -lt $((want - want * limit_pct / 100)) ]; then
        echo "ok   $name: $got instructions, baseline $want (faster: update the baseline with --update)"
    else
        echo "ok   $name: $got instructions (baseline $want)"
    fi
done <"$baseline"
[ $fail -eq 0 ] && echo "PASS: no instruction count grew by more than ${limit_pct} % (log: $log)"
exit $fail
