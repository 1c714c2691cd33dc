#!/bin/sh
# run.sh - model-check the park/claim/cancel protocol (tests/model/park.pml).
#
# Verifies the model with spin (exhaustive safety search: assertions and
# invalid end states), which must report no error; then verifies each
# mutant (a deliberately broken protocol, spin -DMUTANT_...), which must
# report one, so that a pass is never vacuous. ctest runs it as model_park
# (LABELS model) where spin is installed.
#
# Environment: SPIN (spin), CC (cc), ROUNDS (the model's default, 2),
# GOC_MODEL_KEEP=1 keeps the work directory (pan output, trails).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SPIN=${SPIN:-spin}
CC=${CC:-cc}
MUTANTS="MUTANT_PLAIN_STORE MUTANT_NO_STICKY MUTANT_NO_ONCPU_WAIT MUTANT_ABORT_RUNS_ON"

work=$(mktemp -d "${TMPDIR:-/tmp}/goc-model.XXXXXX")
if [ "${GOC_MODEL_KEEP:-0}" = 1 ]; then
    echo "model: work directory $work"
else
    trap 'rm -rf "$work"' EXIT
fi
cd "$work"

# verify NAME [spin -D options]: build and run pan for the model; prints
# pan's error count (empty if pan did not finish).
verify() {
    name=$1
    shift
    dir="$work/$name"
    mkdir -p "$dir"
    cp "$here/park.pml" "$dir/"
    (
        cd "$dir"
        rounds=""
        [ -n "${ROUNDS:-}" ] && rounds="-DROUNDS=$ROUNDS"
        "$SPIN" $rounds "$@" -a park.pml >spin.log 2>&1 || { cat spin.log >&2; exit 1; }
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

errors=$(verify model) || errors=""
if [ "$errors" = 0 ]; then
    states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' "$work/model/pan.log")
    echo "model: park.pml verified: errors: 0 ($states states)"
else
    echo "model: park.pml FAILED (errors: ${errors:-none reported})" >&2
    cat "$work/model/pan.log" >&2
    if [ -f "$work/model/park.pml.trail" ]; then
        (cd "$work/model" && "$SPIN" -t -p -g park.pml 2>&1 | tail -n 80) >&2
    fi
    status=1
fi

for m in $MUTANTS; do
    errors=$(verify "$m" "-D$m") || errors=""
    if [ -n "$errors" ] && [ "$errors" -gt 0 ]; then
        what=$(grep -m1 -E "assertion violated|invalid end state|error:" "$work/$m/pan.log" || true)
        echo "model: $m caught as expected: $what"
    else
        echo "model: $m NOT caught (errors: ${errors:-none reported}): the check is vacuous" >&2
        cat "$work/$m/pan.log" >&2
        status=1
    fi
done

exit $status
