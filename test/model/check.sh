#!/usr/bin/env bash
# Model-check Granite's IPC and grant protocols with spin (see README.md).
#
#   check.sh SCRATCH [ipc|grants|all] [--teeth]
#
# SCRATCH is a directory for spin's and pan's files (created; never the
# source tree). The default runs are the checks: every one must end with
# "errors: 0" and a complete search. --teeth runs the other direction
# instead: deliberately broken variants (MUTANT_*) must be caught, and every
# reachability probe (PROBE=n) must be reached, so a pass is not vacuous.
# Exit status: 0 all as expected, 1 a check failed, 2 usage or missing tool.
set -u

here=$(cd "$(dirname "$0")" && pwd)
SPIN=${SPIN:-spin}
PAN_CC=${PAN_CC:-gcc}

usage() {
    echo "usage: $0 SCRATCH_DIR [ipc|grants|all] [--teeth]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
scratch=$1
shift
what=all
teeth=0
for a in "$@"; do
    case $a in
    ipc | grants | all) what=$a ;;
    --teeth) teeth=1 ;;
    *) usage ;;
    esac
done

if ! command -v "$SPIN" >/dev/null 2>&1; then
    echo "check.sh: spin not found (SPIN=$SPIN): install the 'spin' package" \
        "(Debian/Ubuntu: apt-get install spin) to run the model checks" >&2
    exit 2
fi
if ! command -v "$PAN_CC" >/dev/null 2>&1; then
    echo "check.sh: no C compiler for pan (PAN_CC=$PAN_CC)" >&2
    exit 2
fi

scratch=$(realpath -m "$scratch")
case $scratch/ in
"$here"/*)
    echo "check.sh: the scratch directory must not be inside $here" >&2
    exit 2
    ;;
esac
mkdir -p "$scratch" || exit 2

failures=0
total_start=$(date +%s.%N)

# run NAME MODEL EXPECT "SPIN -D flags" "CC flags" "pan flags" [HINT]
#   EXPECT pass: errors: 0 and a complete search, else a failure (with trail)
#   EXPECT fail: at least one error found, else a failure (model lost teeth)
#   HINT: printed with a failure
run() {
    local name=$1 model=$2 expect=$3 sdefs=$4 cflags=$5 pflags=$6 hint=${7:-}
    local dir=$scratch/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$here/$model" "$dir/$model"
    local start end secs errors states
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    if ! (cd "$dir" && "$SPIN" $sdefs -a "$model" >spin.log 2>&1); then
        echo "model $name: FAIL: spin -a failed:"
        sed 's/^/    /' "$dir/spin.log" | tail -20
        failures=$((failures + 1))
        return
    fi
    # shellcheck disable=SC2086
    if ! (cd "$dir" && "$PAN_CC" $cflags -w -DMEMLIM=2048 -o pan pan.c >cc.log 2>&1); then
        echo "model $name: FAIL: compiling pan failed:"
        sed 's/^/    /' "$dir/cc.log" | tail -20
        failures=$((failures + 1))
        return
    fi
    # shellcheck disable=SC2086
    (cd "$dir" && ./pan -m20000 $pflags >pan.log 2>&1)
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$dir/pan.log" | tail -1)
    states=$(awk '/states, stored/ { print $1; exit }' "$dir/pan.log")
    if [ -z "$errors" ]; then
        echo "model $name: FAIL: pan did not finish (no \"errors:\" line), see $dir/pan.log"
        tail -5 "$dir/pan.log" | sed 's/^/    /'
        failures=$((failures + 1))
        return
    fi
    local incomplete=""
    grep -q "max search depth too small" "$dir/pan.log" && incomplete="search depth limit (-m) hit"
    grep -q "reached -DMEMLIM bound\|out of memory" "$dir/pan.log" && incomplete="memory limit hit"
    if [ "$errors" = 0 ] && grep -q "Search not completed" "$dir/pan.log" && [ -z "$incomplete" ]; then
        incomplete="search not completed"
    fi

    if [ "$expect" = pass ]; then
        if [ "$errors" != 0 ]; then
            echo "model $name: FAIL: errors: $errors (${secs}s)"
            grep -E "^pan:[0-9]+:" "$dir/pan.log" | head -3 | sed 's/^/    /'
            # shellcheck disable=SC2086
            (cd "$dir" && "$SPIN" $sdefs -t "$model" >story.txt 2>&1)
            # shellcheck disable=SC2086
            (cd "$dir" && "$SPIN" $sdefs -t -p -g "$model" >trail.txt 2>&1)
            echo "    counterexample (full: $dir/trail.txt):"
            sed -n '/spin: trail ends/q; p' "$dir/story.txt" | sed 's/^ *//' |
                grep -vE "^(ltl |Never claim|spin: text of failed)" | tail -30 | sed 's/^/      /'
            [ -n "$hint" ] && echo "    $hint"
            failures=$((failures + 1))
        elif [ -n "$incomplete" ]; then
            echo "model $name: FAIL: incomplete search ($incomplete), $states states, ${secs}s"
            failures=$((failures + 1))
        else
            echo "model $name: ok ($states states, ${secs}s)"
        fi
    else
        if [ "$errors" = 0 ]; then
            echo "model $name: FAIL: expected a violation, none found ($states states${incomplete:+, $incomplete})"
            failures=$((failures + 1))
        else
            local why
            why=$(grep -m1 -oE "assertion violated|invalid end state|acceptance cycle" "$dir/pan.log")
            echo "model $name: caught as expected ($why, ${secs}s)"
        fi
    fi
}

SAFE="-O2 -DSAFETY -DNOCLAIM"
LIVE="-O2 -DNFAIR=3"
TEETH_SAFE="-O0 -DSAFETY -DNOCLAIM"
TEETH_LIVE="-O0 -DNFAIR=3"

if [ $teeth = 0 ]; then
    if [ "$what" = ipc ] || [ "$what" = all ]; then
        # call / reply_recv with timeouts, deaths, restart: assertions + end states
        run ipc.safety ipc.pml pass "-DNCALLS=3" "$SAFE" ""
        # every client eventually finishes (ltl clients_finish, weak fairness)
        run ipc.liveness ipc.pml pass "" "$LIVE" "-a -f"
        # a server that defers replies (SERVER_DEFER) and answers later
        run ipc.defer ipc.pml pass "-DDEFER -DMAX_SRV_KILLS=1" "$SAFE" ""
    fi
    if [ "$what" = grants ] || [ "$what" = all ]; then
        # grantees use the ids they were given, stale ones included
        run grants.kept-ids grants.pml pass "" "$SAFE" ""
        # grantees pass any id at all: the kernel must not trust ids
        run grants.any-id grants.pml pass "-DGRANTEE_FORGES" "$SAFE" ""
        # the make() this model caught (flags stored first) must still fail
        run grants.any-id.old-make grants.pml fail "-DGRANTEE_FORGES -DMAKE_AS_WRITTEN" "$SAFE" ""
        # indirect chains: loops end in -E_GRANT_DEPTH, successes are sound
        run grants.chain grants.pml pass "-DCHAIN" "$SAFE" ""
        # map grants: no access through a revoked mapping, a dead granter's, or a freed page's
        run grants.map grants.pml pass "-DMAP" "$SAFE" ""
    fi
else
    if [ "$what" = ipc ] || [ "$what" = all ]; then
        for m in NO_REPLY_WAKE KEEP_SENDERS REPLY_ANYONE TIMEOUT_NO_DEQUEUE NO_TID_CHECK; do
            run "ipc.mutant.$m" ipc.pml fail "-DMUTANT_$m" "$TEETH_SAFE" ""
        done
        # without the invariant assertions, the stuck client is still an
        # invalid end state, and a liveness violation
        run ipc.mutant.NO_REPLY_WAKE.endstate ipc.pml fail "-DMUTANT_NO_REPLY_WAKE -DNO_INVARIANTS" "$TEETH_SAFE" ""
        run ipc.mutant.NO_REPLY_WAKE.liveness ipc.pml fail "-DMUTANT_NO_REPLY_WAKE -DNO_INVARIANTS" "$TEETH_LIVE" "-a -f"
        # known limitation: with deferred replies a late reply may answer a
        # newer call of the same thread (README.md)
        run ipc.defer.strict-tag ipc.pml fail "-DDEFER -DMAX_SRV_KILLS=1 -DSTRICT_TAG" "$TEETH_SAFE" ""
        for p in $(seq 1 17); do
            run "ipc.probe.$p" ipc.pml fail "-DPROBE=$p" "$TEETH_SAFE" ""
        done
        for p in 20 21; do
            run "ipc.defer.probe.$p" ipc.pml fail "-DDEFER -DMAX_SRV_KILLS=1 -DPROBE=$p" "$TEETH_SAFE" ""
        done
    fi
    if [ "$what" = grants ] || [ "$what" = all ]; then
        run grants.mutant.REVOKE_NO_GEN grants.pml fail "-DMUTANT_REVOKE_NO_GEN" "$TEETH_SAFE" ""
        run grants.mutant.NO_GEN_CHECK grants.pml fail "-DMUTANT_NO_GEN_CHECK" "$TEETH_SAFE" ""
        run grants.mutant.VALID_FIRST grants.pml fail "-DMUTANT_VALID_FIRST -DGRANTEE_FORGES" "$TEETH_SAFE" ""
        run grants.mutant.NO_DEPTH grants.pml fail "-DCHAIN -DMUTANT_NO_DEPTH" "$TEETH_SAFE" ""
        for p in 1 2; do
            run "grants.probe.$p" grants.pml fail "-DPROBE=$p" "$TEETH_SAFE" ""
        done
        for p in 3 4 5 6; do
            run "grants.chain.probe.$p" grants.pml fail "-DCHAIN -DPROBE=$p" "$TEETH_SAFE" ""
        done
        for m in UNMAP_FIRST NO_KERNEL_REVOKE SOURCE_KEEPS DEATH_KEEPS; do
            run "grants.map.mutant.$m" grants.pml fail "-DMAP -DMUTANT_$m" "$TEETH_SAFE" ""
        done
        for p in 7 8; do
            run "grants.map.probe.$p" grants.pml fail "-DMAP -DPROBE=$p" "$TEETH_SAFE" ""
        done
    fi
fi

total=$(awk -v a="$total_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ $failures -ne 0 ]; then
    echo "check.sh: $failures model check(s) FAILED (${total}s); logs in $scratch"
    exit 1
fi
echo "check.sh: all model checks as expected (${total}s)"
exit 0
