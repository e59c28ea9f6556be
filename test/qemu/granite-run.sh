#!/usr/bin/env bash
# The non-interactive ./granite run exactly as a user types it (README):
# the command lines go in through a pipe; the exit status and the output
# are checked (every --expect regex must match a line of it).
#   granite-run.sh --build DIR --log L --status N [--expect RE]... -- LINE...
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build= log= want= expects=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --status) want=$2; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "granite-run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$(dirname "$log")"
printf '%s\n' "$@" | GRANITE_BUILD_DIR=$build "$root/granite" run >"$log" 2>&1
status=$?
fail() {
    echo "FAIL: $*"
    echo "----- output ($log), last 100 lines -----"
    tail -n 100 "$log"
    exit 1
}
[ "$status" -eq "$want" ] || fail "./granite run exited with $status, expected $want"
for e in "${expects[@]}"; do
    grep -Eq -- "$e" "$log" || fail "no line matches: $e"
done
echo "PASS: ./granite run exited with $status; ${#expects[@]} expected lines found"
