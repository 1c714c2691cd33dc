#!/bin/sh
# run.sh - model-check the park/claim/cancel protocol (tests/model/park.pml)
# and solo mode's gate (tests/model/solo.pml).
#
# Verifies each model with spin (exhaustive safety search: assertions and
# invalid end states), which must report no error; then verifies each of
# its mutants (a deliberately broken protocol, spin -DMUTANT_...), which
# must report one, so that a pass is never vacuous. ctest runs it as
# model_park (LABELS model) where spin is installed.
#
# Environment: SPIN (spin), CC (cc), ROUNDS (the model's default, 2),
# GOC_MODEL_KEEP=1 keeps the work directory (pan output, trails).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SPIN=${SPIN:-spin}
CC=${CC:-cc}
PARK_MUTANTS="MUTANT_PLAIN_STORE MUTANT_NO_STICKY MUTANT_NO_ONCPU_WAIT MUTANT_ABORT_RUNS_ON"
SOLO_MUTANTS="MUTANT_NO_MEMBARRIER MUTANT_NO_WAIT MUTANT_NO_CHECK MUTANT_STALE_TAKEOVER"

work=$(mktemp -d "${TMPDIR:-/tmp}/goc-model.XXXXXX")
if [ "${GOC_MODEL_KEEP:-0}" = 1 ]; then
    echo "model: work directory $work"
else
    trap 'rm -rf "$work"' EXIT
fi
cd "$work"

# verify MODEL NAME [spin -D options]: build and run pan for MODEL.pml;
# prints pan's error count (empty if pan did not finish).
verify() {
    model=$1
    name=$2
    shift 2
    dir="$work/$model-$name"
    mkdir -p "$dir"
    cp "$here/$model.pml" "$dir/"
    (
        cd "$dir"
        rounds=""
        [ -n "${ROUNDS:-}" ] && rounds="-DROUNDS=$ROUNDS"
        "$SPIN" $rounds "$@" -a "$model.pml" >spin.log 2>&1 || { cat spin.log >&2; exit 1; }
        # -O0: pan.c compiles 4x faster and the search (0.3 s) barely slows
        "$CC" -O0 -DSAFETY -o pan pan.c >cc.log 2>&1 || { cat cc.log >&2; exit 1; }
        ./pan -m200000 -w20 >pan.log 2>&1 || true
    ) || return 1
    if grep -q "max search depth too small" "$dir/pan.log"; then
        echo "model: $name: search depth too small (raise -m)" >&2
        return 1
    fi
    sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$dir/pan.log" | head -n 1
}

status=0

# check MODEL "MUTANTS": the model verified, each mutant caught.
check() {
    model=$1
    dir="$work/$model-model"
    errors=$(verify "$model" model) || errors=""
    if [ "$errors" = 0 ]; then
        states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' "$dir/pan.log")
        echo "model: $model.pml verified: errors: 0 ($states states)"
    else
        echo "model: $model.pml FAILED (errors: ${errors:-none reported})" >&2
        cat "$dir/pan.log" >&2
        if [ -f "$dir/$model.pml.trail" ]; then
            (cd "$dir" && "$SPIN" -t -p -g "$model.pml" 2>&1 | tail -n 80) >&2
        fi
        status=1
    fi
    for m in $2; do
        errors=$(verify "$model" "$m" "-D$m") || errors=""
        if [ -n "$errors" ] && [ "$errors" -gt 0 ]; then
            what=$(grep -m1 -E "assertion violated|invalid end state|error:" "$work/$model-$m/pan.log" || true)
            echo "model: $model: $m caught as expected: $what"
        else
            echo "model: $model: $m NOT caught (errors: ${errors:-none reported}): the check is vacuous" >&2
            cat "$work/$model-$m/pan.log" >&2
            status=1
        fi
    done
}

check park "$PARK_MUTANTS"
check solo "$SOLO_MUTANTS"

exit $status
