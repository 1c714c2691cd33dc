#!/usr/bin/env bash
# scaling.sh - goc and Go over worker counts, on this machine, in one run:
# cpu, skynet, mpmc, select and echo at 1, 2, 4, 8, 16 ... workers up to
# the core count (and twice that with --oversubscribe), Go at the same
# GOMAXPROCS beside each; JSON and PNG speedup charts (bench/plot.py).
#
#   bench/scaling.sh [--max-workers N] [--oversubscribe] [--quick]
#                    [--budget SECONDS] [--out DIR] [--no-build] [workload ...]
#
#   --max-workers N  the last worker count (default: the cores, nproc)
#   --oversubscribe  one more count past it: 2 x N workers on N cores
#   --quick          smaller sizes and fewer runs (see "Time" below)
#   --budget S       stop starting new measurements after S seconds
#                    (default 480; the build is not counted); what was
#                    measured is still written and charted
#   --out DIR        where the results go (default build/bench/results):
#                    scaling.json, scaling.png (each implementation's
#                    speedup over its own 1-worker figure) and
#                    scaling-vs-peers.png (Go vs goc at each count, > 1
#                    where goc is better)
#   --no-build       use the binaries already in BUILD (below)
#   workload         any of: cpu skynet mpmc select echo (default: all)
#
# It builds first, with what the machine has: goc-bench in BUILD (default
# build-scaling: a Release-like tree without tests or examples, so cmocka
# is not needed) and the Go peer; it installs nothing, and stops before
# measuring anything if a tool is missing, naming the Debian packages
# (make deps and make deps-bench install them). matplotlib is optional:
# without it, the JSON only.
#
# One command on a fresh machine (the deps installed):
#   bench/scaling.sh --max-workers 16 --quick
# or `make scaling SCALING_ARGS='--max-workers 16 --quick'`.
#
# Environment: BUILD, JOBS (build jobs, default nproc), GO (go), PYTHON
# (python3), PLOT_PYTHON (the python3 that draws; default the first of
# $PYTHON, python3, /usr/bin/python3 with matplotlib), TIMEOUT (seconds
# per command, default 120), PORT_BASE (echo's first port, 17600).
#
# What is measured, at each worker count W (counts in the outer loop, so
# a budget cut leaves every workload with its low counts):
#   cpu, skynet, mpmc, select: goc-bench WORKLOAD --workers W and
#     goc-peer-go WORKLOAD --workers W (GOMAXPROCS=W); goc's workers are
#     pinned to cores, Go's threads are not. cpu runs max(64, 4 x the last
#     count) jobs (--quick: 2 x the last count, and one run), so that every
#     worker has jobs to run.
#   echo: goc's echo server at W workers, then Go's at GOMAXPROCS=W, each
#     warmed up, then driven by goc-bench echo-client (64 connections, one
#     worker per core, unpinned: it shares the machine with the server);
#     round trips/s, and the server's CPU microseconds per round trip.
# Speedup = the figure at 1 worker / the figure at W (times), or the
# figure at W / at 1 (rates), each implementation against itself.
#
# Time (an estimate, not yet measured on 16 cores): cpu costs most, since
# goc-bench and the Go peer each time it again at 1 worker for their own
# speedup field: at --quick on 16 cores about 6 s per count and
# implementation; the other four together about 10 s per count for both.
# 5 counts (1 2 4 8 16) come to about 3-4 minutes after a build of under a
# minute; on this project's loaded 2-core machine, --quick --oversubscribe
# (1 2 4) took 172 s. The full sizes take about three times as long;
# --budget bounds both.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-scaling}
GO=${GO:-go}
PYTHON=${PYTHON:-python3}
TIMEOUT=${TIMEOUT:-120}
PORT_BASE=${PORT_BASE:-17600}
CORES=$(nproc 2>/dev/null || echo 1)
JOBS=${JOBS:-$CORES}

MAX=$CORES
OVERSUB=0
QUICK=0
BUDGET=480
OUT=$ROOT/build/bench/results
DO_BUILD=1
WANT=()

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

need_value() {
    [ $# -ge 2 ] && [ -n "$2" ] || { echo "scaling.sh: $1 needs a value" >&2; exit 2; }
}

while [ $# -gt 0 ]; do
    case "$1" in
        --max-workers) need_value "$@"; MAX=$2; shift ;;
        --oversubscribe) OVERSUB=1 ;;
        --quick) QUICK=1 ;;
        --budget) need_value "$@"; BUDGET=$2; shift ;;
        --out) need_value "$@"; OUT=$2; shift ;;
        --no-build) DO_BUILD=0 ;;
        -h|--help) usage; exit 0 ;;
        cpu|skynet|mpmc|select|echo) WANT+=("$1") ;;
        *) echo "scaling.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
    shift
done
[[ "$MAX" =~ ^[1-9][0-9]*$ ]] || { echo "scaling.sh: --max-workers wants a count >= 1" >&2; exit 2; }
[[ "$BUDGET" =~ ^[0-9]+$ ]] || { echo "scaling.sh: --budget wants seconds" >&2; exit 2; }
[ ${#WANT[@]} -eq 0 ] && WANT=(cpu skynet mpmc select echo)

GOC_BENCH=$BUILD/bench/goc-bench
GO_PEER=$BUILD/bench/goc-peer-go

# ---------------------------------------------------------------- tools
# check_tools : every tool the run needs, or a list of what is missing
check_tools() {
    local missing=()
    if [ $DO_BUILD -eq 1 ]; then
        command -v cmake >/dev/null 2>&1 || missing+=("cmake (Debian: cmake)")
        command -v "${CC:-cc}" >/dev/null 2>&1 || missing+=("a C compiler (Debian: gcc libc6-dev)")
        if ! command -v pkg-config >/dev/null 2>&1; then
            missing+=("pkg-config (Debian: pkg-config)")
        else
            pkg-config --exists libuv || missing+=("libuv (Debian: libuv1-dev)")
            pkg-config --exists hwloc || missing+=("hwloc (Debian: libhwloc-dev)")
        fi
        command -v "$GO" >/dev/null 2>&1 || missing+=("go (Debian: golang-go)")
    else
        [ -x "$GOC_BENCH" ] || missing+=("$GOC_BENCH (run without --no-build)")
        [ -x "$GO_PEER" ] || missing+=("$GO_PEER (run without --no-build)")
    fi
    command -v "$PYTHON" >/dev/null 2>&1 || missing+=("$PYTHON (Debian: python3)")
    command -v timeout >/dev/null 2>&1 || missing+=("timeout (Debian: coreutils)")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "scaling.sh: missing, nothing measured (make deps installs them):" >&2
        printf '  %s\n' "${missing[@]}" >&2
        exit 3
    fi
}

build() {
    echo "== building goc-bench in $BUILD and the Go peer"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOC_SANITIZE=none \
        -DGOC_BUILD_TESTS=OFF -DGOC_BUILD_EXAMPLES=OFF -DGOC_BUILD_BENCH=ON > "$WORK/build.log" 2>&1 &&
        cmake --build "$BUILD" -j "$JOBS" --target goc-bench >> "$WORK/build.log" 2>&1 || {
        echo "scaling.sh: goc-bench did not build:" >&2
        tail -n 20 "$WORK/build.log" >&2
        exit 3
    }
    (cd "$ROOT/bench/peers/go" && GO111MODULE=on GOFLAGS= "$GO" build -o "$GO_PEER" .) || {
        echo "scaling.sh: the Go peer did not build" >&2
        exit 3
    }
}

# ---------------------------------------------------------------- counts
# worker_counts : 1, 2, 4 ... below MAX, MAX, and 2 x MAX if asked
worker_counts() {
    local w=1
    while [ $w -lt "$MAX" ]; do echo $w; w=$((w * 2)); done
    echo "$MAX"
    [ $OVERSUB -eq 1 ] && echo $((MAX * 2))
}

# size_opts WORKLOAD : the goc-bench / peer options for its size
size_opts() {
    local last=$MAX
    [ $OVERSUB -eq 1 ] && last=$((MAX * 2))
    if [ $QUICK -eq 1 ]; then
        case "$1" in
            cpu) echo --n $((last * 2 > 8 ? last * 2 : 8)) --runs 1 ;;
            skynet) echo --runs 3 ;;
            mpmc) echo --n 2000000 --runs 3 ;;
            select) echo --n 500000 --runs 3 ;;
        esac
    else
        case "$1" in
            cpu) echo --n $((last * 4 > 64 ? last * 4 : 64)) ;;
        esac
    fi
}

# ---------------------------------------------------------------- running
START=$SECONDS
SKIPPED=0

# in_budget : true while new measurements may start
in_budget() {
    [ $((SECONDS - START)) -lt "$BUDGET" ] && return 0
    SKIPPED=$((SKIPPED + 1))
    return 1
}

# cmd_timeout : TIMEOUT, or what is left of the budget if less (>= 10 s)
cmd_timeout() {
    local left=$((BUDGET - (SECONDS - START)))
    [ $left -lt 10 ] && left=10
    [ $left -lt "$TIMEOUT" ] && echo $left || echo "$TIMEOUT"
}

# record ROW IMPL JSON_OR_FAIL
record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$RESULTS"
}

# run ROW IMPL CMD... : one command, its JSON line (or fail) recorded
run() {
    local row=$1 impl=$2 line rc
    shift 2
    in_budget || { echo "  (budget spent: $row $impl skipped)"; return; }
    echo "+ $*"
    timeout "$(cmd_timeout)" "$@" > "$WORK/out" 2> "$WORK/err"
    rc=$?
    line=$(grep -m1 '^{' "$WORK/out" || true)
    if [ -z "$line" ]; then
        echo "  -> fail (exit $rc)$( [ $rc -eq 124 ] && echo ': timed out')"
        tail -n 5 "$WORK/err" | sed 's/^/     /'
        line=fail
    else
        echo "  -> $line"
    fi
    record "$row" "$impl" "$line"
}

# ---------------------------------------------------------------- echo
NEXT_PORT=$PORT_BASE
# port_open, pick_port, start_server, stop_server, cpu_ticks
. "$(dirname "${BASH_SOURCE[0]}")/server.sh"

# echo_point IMPL WORKERS SERVER_CMD... : one server, warmed up, timed with
# goc-bench's echo client
echo_point() {
    local impl=$1 workers=$2 port c0 c1 t0 t1 line msgs warm
    shift 2
    in_budget || { echo "  (budget spent: echo/w$workers $impl skipped)"; return; }
    msgs=$( [ $QUICK -eq 1 ] && echo 2000 || echo 20000 )
    warm=$( [ $QUICK -eq 1 ] && echo 300 || echo 2000 )
    pick_port
    port=$PORT
    # goc's server prints its counters every 50 ms (GOC_DEBUG=schedtrace):
    # the last line before and after the timed run give counts per round trip
    if ! start_server "$port" env GOC_DEBUG=schedtrace=50 "$@" --port "$port"; then
        record "echo/w$workers" "$impl" fail
        return
    fi
    timeout "$(cmd_timeout)" "$GOC_BENCH" echo-client --port "$port" --n "$warm" --runs 1 > /dev/null 2>&1
    sleep 0.12
    t0=$(grep schedtrace "$WORK/server.log" | tail -n 1 || true)
    c0=$(cpu_ticks "$SERVER_PID")
    echo "+ $GOC_BENCH echo-client --port $port --n $msgs --runs 1"
    timeout "$(cmd_timeout)" "$GOC_BENCH" echo-client --port "$port" --n "$msgs" --runs 1 \
        > "$WORK/out" 2> "$WORK/err"
    c1=$(cpu_ticks "$SERVER_PID" 2>/dev/null || echo -1)
    sleep 0.12
    t1=$(grep schedtrace "$WORK/server.log" | tail -n 1 || true)
    kill -0 "$SERVER_PID" 2>/dev/null || c1=-1
    stop_server
    line=$(grep -m1 '^{' "$WORK/out" || true)
    if [ -z "$line" ] || [ "$c1" -lt 0 ]; then
        echo "  -> fail$( [ "$c1" -lt 0 ] && echo ': the server died')"
        tail -n 5 "$WORK/err" | sed 's/^/     /'
        record "echo/w$workers" "$impl" fail
        return
    fi
    # the client's line as the server's: its workers, CPU per round trip
    # and, for goc, its scheduler's counts per round trip and per socket event
    line=$("$PYTHON" -c '
import json, re, sys
rec = json.loads(sys.argv[1])
workers, c0, c1, tck = (int(a) for a in sys.argv[2:6])
cpu_s = (c1 - c0) / tck
rt = rec["round_trips"]
rec.update(workers=workers, client_workers=rec.get("workers"),
           server_cpu_us=round(cpu_s * 1e6 / rt, 3), server_cpu_s=round(cpu_s, 2))
def counters(l):
    m = {k: [int(x) for x in v.split("/")] for k, v in re.findall(r"(\w+)=([0-9/]+)(?=\s|$)", l)}
    return m if "wakeups" in m and "netpoll" in m and "switches" in m else None
a, b = counters(sys.argv[6]), counters(sys.argv[7])
if a and b:
    d = lambda k, i=0: b[k][i] - a[k][i]
    events = d("netpoll", 2)
    rec.update(server_switches_per_rt=round(d("switches") / rt, 3),
               server_wakeups_per_rt=round(d("wakeups") / rt, 4),
               server_netpoll_events=events,
               server_netpoll_wakeups_per_event=round(d("netpoll", 3) / max(events, 1), 4),
               server_wasted_per_event=round(d("wakeups", 1) / max(events, 1), 4),
               server_sleeps_per_rt=round(d("sleeps") / rt, 4))
print(json.dumps(rec, separators=(",", ":")))' "$line" "$workers" "$c0" "$c1" "$CLK_TCK" "$t0" "$t1")
    echo "  -> $line"
    record "echo/w$workers" "$impl" "$line"
}

# ---------------------------------------------------------------- main
WORK=$(mktemp -d "${TMPDIR:-/tmp}/goc-scaling.XXXXXX")
trap 'stop_server; rm -rf "$WORK"' EXIT
RESULTS=$WORK/scaling.tsv
: > "$RESULTS"

check_tools
mkdir -p "$OUT" || exit 2
[ $DO_BUILD -eq 1 ] && build
COUNTS=$(worker_counts | tr '\n' ' ')
echo "== measuring (cores: $CORES; workers: $COUNTS; budget ${BUDGET}s$( [ $QUICK -eq 1 ] && echo '; quick'))"
START=$SECONDS
for workers in $COUNTS; do
    for w in "${WANT[@]}"; do
        case "$w" in
            echo)
                echo_point goc "$workers" "$GOC_BENCH" echo-server --workers "$workers"
                echo_point go "$workers" "$GO_PEER" echo-server --workers "$workers"
                ;;
            *)
                # shellcheck disable=SC2046 # size_opts is words by design
                run "$w/w$workers" goc "$GOC_BENCH" "$w" --workers "$workers" $(size_opts "$w")
                # shellcheck disable=SC2046
                run "$w/w$workers" go "$GO_PEER" "$w" --workers "$workers" $(size_opts "$w")
                ;;
        esac
    done
done
echo "== measured in $((SECONDS - START)) s$( [ $SKIPPED -gt 0 ] && echo "; $SKIPPED measurements skipped: the budget was spent")"

if [ -z "${PLOT_PYTHON:-}" ]; then
    for p in "$PYTHON" python3 /usr/bin/python3; do
        if "$p" -c 'import matplotlib' >/dev/null 2>&1; then PLOT_PYTHON=$p; break; fi
    done
fi
"${PLOT_PYTHON:-$PYTHON}" "$ROOT/bench/plot.py" scaling --tsv "$RESULTS" --out "$OUT" \
    --meta quick=$QUICK --meta max_workers="$MAX" --meta oversubscribe=$OVERSUB \
    --meta budget_s="$BUDGET" --meta skipped=$SKIPPED || {
    echo "scaling.sh: bench/plot.py failed: no JSON in $OUT" >&2
    exit 1
}

# non-zero when goc itself failed anywhere
if awk -F'\t' '$2 == "goc" && ($3 == "fail" || $3 ~ /"ok":false/) { bad = 1 } END { exit !bad }' "$RESULTS"; then
    exit 1
fi
exit 0
