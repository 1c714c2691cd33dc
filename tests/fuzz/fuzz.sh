#!/bin/sh
# fuzz.sh BUILD_DIR [SECONDS [HARNESS...]] - run the libFuzzer harnesses.
#
#   CC=clang cmake -S . -B build-fuzz -DGOC_FUZZ=ON -DGOC_SANITIZE=address
#   cmake --build build-fuzz --target fuzz_api fuzz_http
#   sh tests/fuzz/fuzz.sh build-fuzz 60              # each harness 60 s
#   sh tests/fuzz/fuzz.sh build-fuzz 600 fuzz_api    # one of them
#
# SECONDS defaults to $FUZZ_SECONDS, else 60. Each harness runs in turn for
# that long, under cmake/run-test.sh (ASLR off where the sanitizers need
# it), with the runtime options the ctest runs use. Its working corpus,
# BUILD_DIR/fuzz/corpus/<h>, is kept between runs and starts from the
# checked-in seeds (tests/fuzz/corpus/<h>) and regressions
# (tests/fuzz/regress/<h>), which are only read. A crash, a failed check,
# a leak or a hang (an input running over 10 s) is written to
# BUILD_DIR/fuzz/findings/<h>/ and makes the script exit 1 once every
# harness has run; reproduce one with
#   cmake/run-test.sh BUILD_DIR/tests/fuzz/<h> FILE
# and, once fixed, keep it as a regression: copy it to tests/fuzz/regress/<h>/.
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [SECONDS [HARNESS...]]" >&2
    exit 2
fi
build=$1
shift
secs=${FUZZ_SECONDS:-60}
if [ $# -gt 0 ]; then
    secs=$1
    shift
fi
harnesses=${*:-fuzz_api fuzz_http}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

: "${ASAN_OPTIONS:=halt_on_error=1:abort_on_error=0:detect_leaks=1:print_summary=1}"
: "${UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1:report_error_type=1}"
export ASAN_OPTIONS UBSAN_OPTIONS

failed=""
for h in $harnesses; do
    bin=$build/tests/fuzz/$h
    if [ ! -x "$bin" ]; then
        echo "fuzz.sh: no $bin (configure with -DGOC_FUZZ=ON and build target $h)" >&2
        exit 2
    fi
    case $h in
    fuzz_api)  extra="-max_len=193" ;;   # 1 config byte + 64 ops of 3 bytes
    fuzz_http) extra="-max_len=4096" ;;
    *)         extra="" ;;
    esac
    corpus=$build/fuzz/corpus/$h
    findings=$build/fuzz/findings/$h
    mkdir -p "$corpus" "$findings"
    seeds=""
    for d in "$here/corpus/$h" "$here/regress/$h"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    log=$build/fuzz/$h.log
    echo "fuzz.sh: $h for ${secs}s (log: $log)"
    # shellcheck disable=SC2086
    "$root/cmake/run-test.sh" "$bin" -max_total_time="$secs" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$findings/" $extra \
        "$corpus" $seeds >"$log" 2>&1
    rc=$?
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" |
        tr '\n' ' '
    echo
    if [ $rc -ne 0 ]; then
        echo "fuzz.sh: $h FAILED (exit $rc); the finding is in $findings/:" >&2
        ls -t "$findings" 2>/dev/null | head -3 >&2
        grep -E 'check failed|ERROR: |SUMMARY: ' "$log" | head -5 >&2
        failed="$failed $h"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz.sh: FAILED:$failed" >&2
    exit 1
fi
echo "fuzz.sh: $harnesses: nothing found in ${secs}s each"
