#!/usr/bin/env bash
# compare.sh - run goc-bench and its Go, Python asyncio and Node.js peers side
# by side on this machine, in this run, and print a table of figures and
# ratios.
#
#   bench/compare.sh [--quick] [--out DIR] [--no-curves] [--oversubscribe]
#                    [workload ...]
#
#   --quick      small sizes (the same n for all three) for a smoke test
#   --out DIR    where the results go (default build/bench/results):
#                compare.json (every figure and ratio, see bench/plot.py),
#                compare-ratios.png and compare-workers.png (matplotlib;
#                without it, the JSON only)
#   --no-curves  skip the curves: cpu, skynet and mpmc at 1, 2, 4 ... up to
#                one worker per core for goc and Go (GOMAXPROCS)
#   --oversubscribe  the curves go on to twice the cores
#   workload     any of: spawn yield cpu idle timers pingpong mpmc select
#                sieve skynet echo http (default: all of them)
#
# Environment: GOC_BENCH (default build/bench/goc-bench), GOC_HTTP (default
# build/examples/http_hello beside it), GO (default go), PYTHON (default
# python3), NODE (default node), WRK (default wrk), TIMEOUT (seconds per command, default 300),
# SERVER_WORKERS (echo and http servers' workers, default 2), SERVER_W1 (1:
# the servers again at 1 worker, default), PERF (default perf), PORT_BASE
# (the first port tried for the servers, default 17400), ROUNDS (echo and
# http: run the three servers in turn this many times and report each
# figure's median, default 1; 3 steadies the figures on a busy machine),
# PLOT_PYTHON (the python3 that draws the charts; default: the first of
# $PYTHON, python3, /usr/bin/python3 that has matplotlib).
#
# echo and http compare servers, with the same client driving each: goc's
# (SERVER_WORKERS workers), Go's (GOMAXPROCS = SERVER_WORKERS) and Python
# asyncio's, and (SERVER_W1=1, the default) goc's and Go's again at 1
# worker (rows .../w1). For each server in turn: start it, warm it up with
# a short client run (a fresh asyncio server is several times slower until
# its malloc settles), start counting (below), read its CPU time (user+sys
# from /proc/PID/stat), run the timed client, read the CPU time and the
# counts again, stop it. echo has two clients, each 64 conns x 20,000
# round trips of 64 bytes, every byte checked: goc-bench echo-client (row
# echo, unpinned) and the Go peer's at GOMAXPROCS=1 (row echo/goclient: a
# client we did not write for goc). http's is wrk -t2 -c64 -d5s (an answer
# is checked with a plain request first). Rows: round trips/s or
# requests/s, and the server's CPU microseconds per round trip or request:
# on a machine where the client competes with the server for the cores,
# that is the figure that tells servers apart. The "workers" column gives
# the servers' workers. Server counts per round trip or request: syscalls
# and wake-ups issued (perf stat's raw_syscalls:sys_enter and
# sched:sched_wakeup tracepoints on the server's threads; strace -c -f
# where perf cannot, then no wake-ups), context switches and minor faults
# (/proc), over a second, shorter client run (counting costs CPU). Every other row's counts are getrusage deltas over the timed
# part (minflt, nvcsw, nivcsw per operation), printed by the benchmark
# programs themselves; a second table shows them all.
#
# Worker counts: yield at 1 (2 coroutines on 1 worker); pingpong twice, at 1
# (row pingpong/w1) and at one per core; spawn, cpu, idle, timers, mpmc,
# select, sieve, skynet at one per core (nproc); idle once more with goc
# --stack-size 2048. Python asyncio always runs on 1 thread, whatever
# --workers says, so its pingpong figure is taken twice on the same terms.
#
# Node.js (bench/peers/node; skipped when there is no node): one thread
# and one libuv loop, like Python. It has the workloads with a natural JS
# form: spawn, yield (await setImmediate), timers, pingpong (a promise
# channel), and the echo (net) and http (http module) servers; its other
# cells read "-".
#
# Ratios are written so that > 1 means goc is better: peer / goc for
# lower-is-better units (ns, us, ms, bytes), goc / peer for higher-is-better
# ones (anything per second, e.g. mpmc's Mmsg/s, and speedup). The note
# column marks rows where a peer ran another size: Python's cpu runs 2 jobs
# (1 with --quick) on its one thread, and its raw ms is scaled linearly to
# goc's job count; any other size mismatch gets no ratio.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GOC_BENCH=${GOC_BENCH:-$ROOT/build/bench/goc-bench}
GO=${GO:-go}
PYTHON=${PYTHON:-python3}
TIMEOUT=${TIMEOUT:-300}
GO_PEER=$ROOT/build/bench/goc-peer-go
PY_PEER=$ROOT/bench/peers/python/goc_peer.py
NODE=${NODE:-node}
NODE_PEER=$ROOT/bench/peers/node/goc_peer.js
NODE_HTTP=$ROOT/bench/peers/node/http_hello.js
NODE_WORKLOADS=" spawn yield timers pingpong "
CORES=$(nproc 2>/dev/null || echo 1)

QUICK=0
OUT=$ROOT/build/bench/results
CURVES=1
OVERSUB=0
WANT=()
while [ $# -gt 0 ]; do
    arg=$1
    shift
    case "$arg" in
        --quick) QUICK=1 ;;
        --out) [ $# -gt 0 ] || { echo "compare.sh: --out needs a directory" >&2; exit 2; }
               OUT=$1; shift ;;
        --no-curves) CURVES=0 ;;
        --oversubscribe) OVERSUB=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        spawn|yield|cpu|idle|timers|pingpong|mpmc|select|sieve|skynet|echo|http) WANT+=("$arg") ;;
        *) echo "compare.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT" || exit 2
[ ${#WANT[@]} -eq 0 ] && WANT=(spawn yield cpu idle timers pingpong mpmc select sieve skynet echo http)

WRK=${WRK:-wrk}
SERVER_WORKERS=${SERVER_WORKERS:-2}
SERVER_W1=${SERVER_W1:-1}
PORT_BASE=${PORT_BASE:-17400}
ROUNDS=${ROUNDS:-1}
GOC_HTTP=${GOC_HTTP:-$(dirname "$GOC_BENCH")/../examples/http_hello}
GO_HTTP=$ROOT/build/bench/http-hello-go
PY_HTTP=$ROOT/bench/peers/python/http_hello.py
SERVER_PID=
PORT=

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goc-compare.XXXXXX")
trap 'stop_server; rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.tsv   # row <TAB> impl <TAB> JSON line or "fail"
CURVE_RESULTS=$WORK/curves.tsv # the same for the curves' extra points
: > "$RESULTS"
: > "$CURVE_RESULTS"

# ---------------------------------------------------------------- build
echo "== building the Go peer"
mkdir -p "$ROOT/build/bench"
GO_OK=1
if command -v "$GO" >/dev/null 2>&1; then
    echo "+ (cd bench/peers/go && $GO build -o $GO_PEER .)"
    if ! (cd "$ROOT/bench/peers/go" && GO111MODULE=on GOFLAGS= "$GO" build -o "$GO_PEER" .); then
        echo "compare.sh: the Go peer did not build" >&2
        GO_OK=0
    fi
    if [[ " ${WANT[*]} " == *" http "* ]]; then
        echo "+ (cd bench/peers/go && $GO build -o $GO_HTTP http_hello.go)"
        (cd "$ROOT/bench/peers/go" && GO111MODULE=on GOFLAGS= "$GO" build -o "$GO_HTTP" http_hello.go) ||
            echo "compare.sh: the Go http_hello did not build" >&2
    fi
else
    echo "compare.sh: '$GO' not found: Go columns will read fail" >&2
    GO_OK=0
fi
NODE_OK=1
if ! command -v "$NODE" >/dev/null 2>&1; then
    echo "compare.sh: '$NODE' not found (Debian: apt-get install nodejs): no Node.js column" >&2
    NODE_OK=0
fi
if [ ! -x "$GOC_BENCH" ]; then
    echo "compare.sh: $GOC_BENCH not found (build it, or set GOC_BENCH): goc columns will read fail" >&2
fi

# ---------------------------------------------------------------- running
# run ROW IMPL CMD... : run one command, keep its JSON line (or "fail").
run() {
    local row=$1 impl=$2
    shift 2
    echo "+ $*"
    local out=$WORK/out.$$ err=$WORK/err.$$ rc line
    timeout "$TIMEOUT" "$@" > "$out" 2> "$err"
    rc=$?
    line=$(grep -m1 '^{' "$out" || true)
    if [ -z "$line" ]; then
        echo "  -> fail (exit $rc)$( [ $rc -eq 124 ] && echo ': timed out')"
        sed 's/^/     /' "$err" | tail -n 5
        line=fail
    else
        echo "  -> $line"
        [ $rc -ne 0 ] && { echo "  (exit $rc)"; sed 's/^/     /' "$err" | tail -n 5; }
    fi
    printf '%s\t%s\t%s\n' "$row" "$impl" "$line" >> "${RESULTS_TO:-$RESULTS}"
}

# size W : the --n for workload W in --quick mode (empty: the defaults)
size() {
    [ $QUICK -eq 1 ] || return 0
    case "$1" in
        spawn) echo 100000 ;;
        yield) echo 200000 ;;
        cpu) echo 4 ;;
        idle) echo 100000 ;;
        timers) echo 10000 ;;
        pingpong) echo 100000 ;;
        mpmc) echo 200000 ;;
        select) echo 100000 ;;
        sieve) echo 500 ;;
        skynet) echo 100000 ;;
    esac
}

# bench ROW WORKLOAD WORKERS [GOC_EXTRA...] : the three implementations, and
# Node.js's where it has the workload
bench() {
    local row=$1 w=$2 workers=$3
    shift 3
    local n nopt=() pyopt=()
    n=$(size "$w")
    [ -n "$n" ] && nopt=(--n "$n")
    pyopt=("${nopt[@]}")
    [ "$w" = cpu ] && [ $QUICK -eq 1 ] && pyopt=(--n 1) # one CPython job takes seconds
    run "$row" goc "$GOC_BENCH" "$w" --workers "$workers" "${nopt[@]}" "$@"
    if [ $GO_OK -eq 1 ]; then
        run "$row" go "$GO_PEER" "$w" --workers "$workers" "${nopt[@]}"
    else
        printf '%s\tgo\tfail\n' "$row" >> "$RESULTS"
    fi
    run "$row" python "$PYTHON" "$PY_PEER" "$w" --workers "$workers" "${pyopt[@]}"
    if [ $NODE_OK -eq 1 ] && [[ "$NODE_WORKLOADS" == *" $w "* ]]; then
        run "$row" node "$NODE" "$NODE_PEER" "$w" --workers "$workers" "${nopt[@]}"
    fi
}

# curve_counts : the worker counts of the curves besides CORES (the main
# row's): 1, 2, 4 ... below the cores, and 2 x CORES with --oversubscribe
curve_counts() {
    local w=1
    while [ $w -lt "$CORES" ]; do echo $w; w=$((w * 2)); done
    [ $OVERSUB -eq 1 ] && echo $((CORES * 2))
}

# bench_curve WORKLOAD : goc and Go at each count of curve_counts, as rows
# WORKLOAD/wN in $CURVE_RESULTS (kept out of the table; plot.py joins them
# to the main row for the curves). asyncio has one thread: no curve.
bench_curve() {
    local w=$1 workers n nopt=()
    [ $CURVES -eq 1 ] || return 0
    n=$(size "$w")
    [ -n "$n" ] && nopt=(--n "$n")
    for workers in $(curve_counts); do
        RESULTS_TO=$CURVE_RESULTS run "$w/w$workers" goc "$GOC_BENCH" "$w" --workers "$workers" "${nopt[@]}"
        [ $GO_OK -eq 1 ] &&
            RESULTS_TO=$CURVE_RESULTS run "$w/w$workers" go "$GO_PEER" "$w" --workers "$workers" "${nopt[@]}"
    done
}

# ---------------------------------------------------------------- servers
# echo and http: one server at a time, in the background, on a port of its
# own; the same client drives each. CPU time is the server process's
# user+sys (all its threads) from /proc/PID/stat, in clock ticks.

NEXT_PORT=$PORT_BASE
# port_open, pick_port, start_server, stop_server, cpu_ticks
. "$(dirname "${BASH_SOURCE[0]}")/server.sh"

# Server counts over the timed client run, all of the server's threads:
# syscalls (perf stat's raw_syscalls:sys_enter tracepoint; strace -c -f
# where perf cannot, which slows the server but not its counts), wake-ups
# it issued (sched:sched_wakeup: of its own threads and of its clients;
# perf only), voluntary and involuntary context switches (each voluntary
# one is a sleep that took a wake-up to end) and minor faults, both from
# /proc. They are taken over a second, shorter client run after the timed
# one: perf's per-thread events and tracepoints (more so strace) add to the
# server's CPU, more with more threads, so the timed run goes uncounted.
# counts_begin PID ... counts_end PID OPS leaves one line in $WORK/counts:
# "syscalls wakeups nvcsw nivcsw minflt method", each per operation ("-"
# for a count not taken).
PERF=${PERF:-perf}
COUNTS_PID=
COUNT_METHOD=none
if "$PERF" stat -x, -e raw_syscalls:sys_enter,sched:sched_wakeup -o /dev/null -- true >/dev/null 2>&1; then
    COUNT_METHOD=perf
elif command -v strace >/dev/null 2>&1; then
    COUNT_METHOD=strace
fi

# task_sum PID FIELD : FIELD summed over /proc/PID/task/*/status
task_sum() {
    cat /proc/"$1"/task/*/status 2>/dev/null | awk -v f="$2:" '$1 == f { s += $2 } END { print s + 0 }'
}

# minflt PID : the process's minor faults (field 10 of /proc/PID/stat)
minflt() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $8 }'
}

counts_begin() {
    local pid=$1
    COUNTS0="$(task_sum "$pid" voluntary_ctxt_switches) $(task_sum "$pid" nonvoluntary_ctxt_switches) $(minflt "$pid")"
    rm -f "$WORK/perf.out" "$WORK/strace.out"
    case "$COUNT_METHOD" in
        perf) "$PERF" stat -x, -e raw_syscalls:sys_enter,sched:sched_wakeup -p "$pid" \
                  -o "$WORK/perf.out" > /dev/null 2>&1 &
              COUNTS_PID=$! ;;
        strace) strace -c -f -p "$pid" -o "$WORK/strace.out" > /dev/null 2>&1 &
                COUNTS_PID=$! ;;
    esac
    sleep 0.5 # let it attach to every thread
}

counts_end() {
    local pid=$1 ops=$2 sys=- wake=- c1
    c1="$(task_sum "$pid" voluntary_ctxt_switches) $(task_sum "$pid" nonvoluntary_ctxt_switches) $(minflt "$pid")"
    if [ -n "$COUNTS_PID" ]; then
        kill -INT "$COUNTS_PID" 2>/dev/null
        wait "$COUNTS_PID" 2>/dev/null
        COUNTS_PID=
    fi
    case "$COUNT_METHOD" in
        perf) sys=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$WORK/perf.out" 2>/dev/null)
              wake=$(awk -F, '$3 == "sched:sched_wakeup" { print $1 }' "$WORK/perf.out" 2>/dev/null) ;;
        strace) sys=$(awk '$NF == "total" { print $(NF-2) }' "$WORK/strace.out" 2>/dev/null) ;;
    esac
    [[ "$sys" =~ ^[0-9]+$ ]] || sys=-
    [[ "$wake" =~ ^[0-9]+$ ]] || wake=-
    set -- $COUNTS0 $c1
    awk -v ops="$ops" -v m="$COUNT_METHOD" 'function per(v) { return (v == "-" || ops <= 0) ? "-" : sprintf("%.4g", v / ops) }
        { print per($1), per($2), per($3), per($4), per($5), m }' \
        <<< "$sys $wake $(($4 - $1)) $(($5 - $2)) $(($6 - $3))" > "$WORK/counts"
}

# record ROW IMPL JSON_OR_FAIL
record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$RESULTS"
}

# client_cmd CLIENT PORT N : CLIENT_CMD, one run of the echo client:
# goc-bench's (one worker per core, unpinned) or Go's at GOMAXPROCS=1
client_cmd() {
    case "$1" in
        goc) CLIENT_CMD=("$GOC_BENCH" echo-client --port "$2" --n "$3" --runs 1) ;;
        go) CLIENT_CMD=("$GO_PEER" echo-client --workers 1 --port "$2" --n "$3" --runs 1) ;;
    esac
}

# echo_server ROW CLIENT IMPL WORKERS CMD... : one echo server, warmed up,
# then timed with the client CLIENT (goc or go)
echo_server() {
    local row=$1 client=$2 impl=$3 workers=$4
    shift 4
    local port line ok c0 c1 n warm
    n=$( [ $QUICK -eq 1 ] && echo 2000 || echo 20000 )
    warm=$( [ $QUICK -eq 1 ] && echo 500 || echo 2000 )
    pick_port
    port=$PORT
    if ! start_server "$port" "$@" --port "$port"; then
        record "$row" "$impl" fail
        return
    fi
    client_cmd "$client" "$port" "$warm"
    echo "+ (warm-up) ${CLIENT_CMD[*]}"
    timeout "$TIMEOUT" "${CLIENT_CMD[@]}" > /dev/null 2>&1
    c0=$(cpu_ticks "$SERVER_PID")
    client_cmd "$client" "$port" "$n"
    echo "+ ${CLIENT_CMD[*]}"
    timeout "$TIMEOUT" "${CLIENT_CMD[@]}" > "$WORK/client.out" 2> "$WORK/client.err"
    c1=$(cpu_ticks "$SERVER_PID")
    counts_begin "$SERVER_PID"
    client_cmd "$client" "$port" "$((n / 4))"
    echo "+ (counted, $COUNT_METHOD) ${CLIENT_CMD[*]}"
    timeout "$TIMEOUT" "${CLIENT_CMD[@]}" > "$WORK/counted.out" 2> /dev/null
    counts_end "$SERVER_PID" "$(grep -o '"round_trips":[0-9]*' "$WORK/counted.out" | cut -d: -f2)"
    kill -0 "$SERVER_PID" 2>/dev/null && ok=1 || ok=0
    stop_server
    line=$(grep -m1 '^{' "$WORK/client.out" || true)
    if [ -z "$line" ] || [ "$ok" -eq 0 ]; then
        echo "  -> fail$( [ "$ok" -eq 0 ] && echo ': the server died')"
        sed 's/^/     /' "$WORK/client.err" | tail -n 5
        record "$row" "$impl" fail
        return
    fi
    # the client's line, as the server's: its workers, its CPU and counts
    # per round trip
    line=$("$PYTHON" - "$line" "$workers" "$c0" "$c1" "$CLK_TCK" "$client" "$WORK/counts" <<'PYEOF'
import json, sys
rec = json.loads(sys.argv[1])
workers, c0, c1, tck = (int(a) for a in sys.argv[2:6])
client, counts = sys.argv[6], open(sys.argv[7]).read().split()
rts = rec["round_trips"]
cpu_s = (c1 - c0) / tck
out = {"workload": "echo", "workers": workers, "n": rec["n"], "value": rec["value"],
       "unit": rec["unit"], "server_cpu_us": round(cpu_s * 1e6 / rts, 3),
       "server_cpu_s": round(cpu_s, 2), "server_cores": round(cpu_s / rec["secs"], 2),
       "round_trips": rts, "client": client, "client_workers": rec["workers"]}
for key, v in zip(("syscalls", "wakeups", "nvcsw", "nivcsw", "minflt"), counts[:5]):
    out[key] = float(v) if v != "-" else None
out["counts_per"] = "roundtrip"
out["counted_by"] = counts[5]
out["ok"] = rec["ok"]
print(json.dumps(out, separators=(",", ":")))
PYEOF
)
    echo "  -> $line"
    record "$row" "$impl" "$line"
}

# http_check PORT : one plain request gets "200 OK" and the body "hello"
http_check() {
    local resp
    resp=$(exec 3<>"/dev/tcp/127.0.0.1/$1" &&
           printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 &&
           timeout 5 cat <&3) 2>/dev/null
    [[ "$resp" == "HTTP/1.1 200 OK"* && "$resp" == *$'\r\n\r\nhello' ]]
}

# http_server ROW IMPL WORKERS CMD... : one HTTP server, warmed up, then wrk
http_server() {
    local row=$1 impl=$2 workers=$3
    shift 3
    local port secs warm c0 c1 checked ok line url
    secs=$( [ $QUICK -eq 1 ] && echo 2 || echo 5 )
    warm=$( [ $QUICK -eq 1 ] && echo 1 || echo 2 )
    pick_port
    port=$PORT
    url=http://127.0.0.1:$port/
    if ! start_server "$port" "$@" --port "$port"; then
        record "$row" "$impl" fail
        return
    fi
    http_check "$port" && checked=1 || checked=0
    echo "+ (warm-up) $WRK -t2 -c64 -d${warm}s $url"
    timeout "$TIMEOUT" "$WRK" -t2 -c64 -d"${warm}s" "$url" > /dev/null 2>&1
    c0=$(cpu_ticks "$SERVER_PID")
    echo "+ $WRK -t2 -c64 -d${secs}s $url"
    timeout "$TIMEOUT" "$WRK" -t2 -c64 -d"${secs}s" "$url" > "$WORK/client.out" 2>&1
    c1=$(cpu_ticks "$SERVER_PID")
    counts_begin "$SERVER_PID"
    echo "+ (counted, $COUNT_METHOD) $WRK -t2 -c64 -d${warm}s $url"
    timeout "$TIMEOUT" "$WRK" -t2 -c64 -d"${warm}s" "$url" > "$WORK/counted.out" 2>&1
    counts_end "$SERVER_PID" "$(grep -oE '^ *[0-9]+ requests in' "$WORK/counted.out" | awk '{ print $1 }')"
    kill -0 "$SERVER_PID" 2>/dev/null && ok=1 || ok=0
    stop_server
    line=$("$PYTHON" - "$WORK/client.out" "$workers" "$c0" "$c1" "$CLK_TCK" "$checked" "$ok" "$WORK/counts" <<'PYEOF'
import json, re, sys
text = open(sys.argv[1]).read()
workers, c0, c1, tck, checked, alive = (int(a) for a in sys.argv[2:8])
counts = open(sys.argv[8]).read().split()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)
if not rps or not total or int(total.group(1)) == 0:
    print("fail")
    sys.exit()
requests = int(total.group(1))
errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)",
                                        " ".join(re.findall(r"Socket errors:.*", text))))
non2xx = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
lat = re.search(r"Latency\s+([\d.]+)(us|ms|s)", text)
lat_us = float(lat.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[lat.group(2)] if lat else None
cpu_s = (c1 - c0) / tck
out = {"workload": "http", "workers": workers, "n": 64, "value": float(rps.group(1)),
       "unit": "requests/s", "server_cpu_us": round(cpu_s * 1e6 / requests, 3),
       "server_cpu_s": round(cpu_s, 2), "requests": requests, "latency_avg_us": lat_us,
       "socket_errors": errors, "non_2xx": non2xx}
for key, v in zip(("syscalls", "wakeups", "nvcsw", "nivcsw", "minflt"), counts[:5]):
    out[key] = float(v) if v != "-" else None
out["counts_per"] = "request"
out["counted_by"] = counts[5]
out["ok"] = bool(checked and alive and errors == 0 and non2xx == 0)
print(json.dumps(out, separators=(",", ":")))
PYEOF
)
    if [ "$line" = fail ]; then
        echo "  -> fail"
        sed 's/^/     /' "$WORK/client.out" | tail -n 5
    else
        echo "  -> $line"
        [ "$checked" -eq 0 ] && echo "  (a plain GET / did not get 200 OK and \"hello\")"
    fi
    record "$row" "$impl" "$line"
}

# bench_echo ROW CLIENT WORKERS : goc's, Go's and asyncio's echo servers
# (goc and Go at WORKERS; asyncio has one thread) driven by CLIENT
bench_echo() {
    local row=$1 client=$2 workers=$3
    echo_server "$row" "$client" goc "$workers" "$GOC_BENCH" echo-server --workers "$workers"
    if [ $GO_OK -eq 1 ]; then
        echo_server "$row" "$client" go "$workers" "$GO_PEER" echo-server --workers "$workers"
    else
        record "$row" go fail
    fi
    echo_server "$row" "$client" python 1 "$PYTHON" "$PY_PEER" echo-server
    [ $NODE_OK -eq 1 ] && echo_server "$row" "$client" node 1 "$NODE" "$NODE_PEER" echo-server
}

# bench_http ROW WORKERS : goc's, Go's and asyncio's HTTP servers under wrk
bench_http() {
    local row=$1 workers=$2
    if ! command -v "$WRK" >/dev/null 2>&1; then
        echo "compare.sh: '$WRK' not found (Debian: apt-get install wrk): no http rows" >&2
        return
    fi
    if [ -x "$GOC_HTTP" ]; then
        http_server "$row" goc "$workers" "$GOC_HTTP" --workers "$workers"
    else
        echo "compare.sh: $GOC_HTTP not found (build the examples)" >&2
        record "$row" goc fail
    fi
    if [ -x "$GO_HTTP" ]; then
        http_server "$row" go "$workers" "$GO_HTTP" --workers "$workers"
    else
        record "$row" go fail
    fi
    http_server "$row" python 1 "$PYTHON" "$PY_HTTP"
    [ $NODE_OK -eq 1 ] && http_server "$row" node 1 "$NODE" "$NODE_HTTP"
}

# the server rows: at SERVER_WORKERS, and (SERVER_W1=1, the default, when
# SERVER_WORKERS is not 1) once more at 1 worker, the asyncio model, to
# show what the second worker costs and gives
server_rows() {
    SERVER_ROWS=("$SERVER_WORKERS:")
    [ "$SERVER_W1" = 1 ] && [ "$SERVER_WORKERS" != 1 ] && SERVER_ROWS+=("1:/w1")
}

echo "== running (cores: $CORES)"
for w in "${WANT[@]}"; do
    case "$w" in
        yield) bench yield yield 1 ;;
        pingpong)
            bench pingpong/w1 pingpong 1
            bench pingpong pingpong "$CORES"
            ;;
        idle)
            bench idle idle "$CORES"
            # goc again with 2 KiB stacks; the peers have no such knob, so
            # their figures from the row above are reused
            run "idle/stack2048" goc "$GOC_BENCH" idle --workers "$CORES" \
                $( [ -n "$(size idle)" ] && echo --n "$(size idle)" ) --stack-size 2048
            ;;
        echo)
            server_rows
            for _ in $(seq "$ROUNDS"); do
                for r in "${SERVER_ROWS[@]}"; do
                    bench_echo "echo${r#*:}" goc "${r%%:*}"
                    [ $GO_OK -eq 1 ] && bench_echo "echo/goclient${r#*:}" go "${r%%:*}"
                done
            done ;;
        http)
            server_rows
            for _ in $(seq "$ROUNDS"); do
                for r in "${SERVER_ROWS[@]}"; do bench_http "http${r#*:}" "${r%%:*}"; done
            done ;;
        cpu|skynet|mpmc)
            bench "$w" "$w" "$CORES"
            bench_curve "$w" ;;
        *) bench "$w" "$w" "$CORES" ;;
    esac
done

# ---------------------------------------------------------------- the table
echo
"$PYTHON" - "$RESULTS" <<'EOF'
import json, sys

rows, order = {}, []
for line in open(sys.argv[1]):
    row, impl, js = line.rstrip("\n").split("\t", 2)
    if row not in rows:
        rows[row] = {}
        order.append(row)
    try:
        rec = json.loads(js) if js != "fail" else None
    except ValueError:
        rec = None
    rows[row].setdefault(impl, []).append(rec)

def merge(recs):
    """One record from a row's runs (ROUNDS > 1 for the servers): the
    median of each number, ok only if every run was; None if one failed."""
    if len(recs) == 1 or any(r is None for r in recs):
        return recs[0] if len(recs) == 1 else None
    out = dict(recs[0])
    for k, v in out.items():
        if k in ("workers", "n", "client_workers", "round_trips"):
            continue  # what was run, the same in every round
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = sorted(r[k] for r in recs if isinstance(r.get(k), (int, float)))
            out[k] = vals[len(vals) // 2] if len(vals) % 2 else (vals[len(vals) // 2 - 1] +
                                                                 vals[len(vals) // 2]) / 2
    out["ok"] = all(r.get("ok") for r in recs)
    out["rounds"] = len(recs)
    return out

for row in rows:
    for impl in rows[row]:
        rows[row][impl] = merge(rows[row][impl])

# the peers have no --stack-size: reuse their idle figures
if "idle/stack2048" in rows and "idle" in rows:
    for impl in ("go", "python", "node"):
        if impl in rows["idle"]:
            rows["idle/stack2048"].setdefault(impl, rows["idle"][impl])

def higher_is_better(unit):
    return unit.endswith("/s") or unit == "x"

# extra figures shown as rows of their own: (workload, field, unit)
EXTRA = {"cpu": [("speedup", "x")], "idle": [("wake_ms", "ms")],
         "timers": [("p50_us", "us"), ("total_ms", "ms")],
         "echo": [("server_cpu_us", "us/roundtrip")],
         "http": [("server_cpu_us", "us/request")]}

def fmt(v):
    if v is None:
        return "fail"
    if abs(v) >= 1000:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v

def cell(rec, field, goc_n=None):
    """(text, number or None) for one implementation's figure."""
    if rec is None:
        return "fail", None
    v = rec.get(field)
    # Python's cpu runs fewer jobs on one thread (time linear in jobs): put
    # its raw ms on goc's job count
    if (rec.get("workload") == "cpu" and field == "value" and goc_n
            and rec.get("n") != goc_n and "measured_ms" in rec):
        v = rec["measured_ms"] * goc_n / rec["n"]
    if not isinstance(v, (int, float)):
        return "-", None
    if not rec.get("ok", False):
        return "fail(ok=false)", None
    return fmt(float(v)), float(v)

def ratio(goc, peer, unit):
    if goc is None or peer is None or goc == 0 or peer == 0:
        return "-"
    r = goc / peer if higher_is_better(unit) else peer / goc
    return "%.2fx" % r

table = []
for row in order:
    recs = rows[row]
    base = next((r for r in (recs.get("goc"), recs.get("go"), recs.get("python")) if r), None)
    unit = base.get("unit", "?") if base else "?"
    w = row.split("/")[0]
    lines = [(row, "value", unit)]
    if row == w or w in ("echo", "http"):
        lines += [("%s.%s" % (row, f), f, u) for f, u in EXTRA.get(w, [])]
    for label, field, u in lines:
        gn = recs["goc"]["n"] if recs.get("goc") else None
        g, gv = cell(recs.get("goc"), field)
        o, ov = cell(recs.get("go"), field, gn)
        p, pv = cell(recs.get("python"), field, gn)
        # Node.js: "-" where it has no peer for the workload
        j, jv = cell(recs["node"], field, gn) if "node" in recs else ("-", None)
        workers = "/".join(str(recs[i]["workers"]) if recs.get(i) else
                           ("-" if i == "node" and i not in recs else "?")
                           for i in ("goc", "go", "python", "node"))
        notes = []
        for impl in ("go", "python", "node"):
            r = recs.get(impl)
            if gn is not None and r and r.get("n") != gn:
                # cpu: ms scaled to goc's job count, speedup does not depend
                # on it; any other workload at another size is not comparable
                scaled = w == "cpu" and "measured_ms" in r
                if field == "value":
                    notes.append("%s n=%s (goc %s)%s" % (impl, r.get("n"), gn,
                                                        ", scaled" if scaled else ", no ratio"))
                if not scaled and impl == "go":
                    ov = None
                elif not scaled and impl == "python":
                    pv = None
                elif not scaled:
                    jv = None
        if row.endswith("stack2048") and field == "value":
            notes.append("peers: no stack knob, same as idle")
        table.append([label + " [" + u + "]", workers, g, o, p, j,
                      ratio(gv, ov, u), ratio(gv, pv, u), ratio(gv, jv, u), "; ".join(notes)])

head = ["workload [unit]", "workers goc/go/py/node", "goc", "go", "python", "node",
        "go/goc", "python/goc", "node/goc", "note"]
widths = [max(len(str(r[i])) for r in table + [head]) for i in range(len(head))]
def show(r):
    print(" | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip())
show(head)
print("-+-".join("-" * w for w in widths))
for r in table:
    show(r)
print()
print("ratios > 1: goc is better (peer/goc for times and sizes, goc/peer for rates and speedup)")
if "echo" in rows or "http" in rows:
    rounds = max((r or {}).get("rounds", 1) for w in ("echo", "http")
                 for r in rows.get(w, {}).values())
    print("echo, http: servers side by side with one client (echo: goc-bench echo-client;"
          " echo/goclient: Go's at GOMAXPROCS=1; http: wrk -t2 -c64); workers = the servers';"
          " /w1 rows: at 1 worker; server_cpu_us = the server's user+sys CPU per round trip"
          " or request%s" % ("; medians of %d rounds" % rounds if rounds > 1 else ""))

# counts per operation beside the times: they do not depend on the host's
# speed. minflt, nvcsw, nivcsw: getrusage deltas over the timed part (the
# whole process); for the servers, the server's own counts over the timed
# client run: syscalls and wake-ups it issued (perf or strace), context
# switches and faults (/proc).
COUNT_KEYS = ("minflt", "nvcsw", "nivcsw", "syscalls", "wakeups")
crow = []
for row in order:
    for impl in ("goc", "go", "python", "node"):
        rec = rows[row].get(impl)
        if not rec or not any(k in rec for k in COUNT_KEYS):
            continue
        vals = ["-" if rec.get(k) is None else "%.4g" % rec[k] for k in COUNT_KEYS]
        by = rec.get("counted_by", "getrusage")
        per = rec.get("counts_per") or (rows[row].get("goc") or {}).get("counts_per", "?")
        crow.append([row, impl, per] + vals + [by])
if crow:
    print()
    chead = ["counts per op", "impl", "per"] + list(COUNT_KEYS) + ["counted by"]
    cw = [max(len(str(r[i])) for r in crow + [chead]) for i in range(len(chead))]
    print(" | ".join(str(c).ljust(cw[i]) for i, c in enumerate(chead)).rstrip())
    print("-+-".join("-" * x for x in cw))
    for r in crow:
        print(" | ".join(str(c).ljust(cw[i]) for i, c in enumerate(r)).rstrip())

# the bars for the servers (issues 4 and 9): at the servers' workers goc at
# least Go's rate and at most Go's CPU; and the second worker must not cost
# more than 10% CPU per round trip or request over goc's own 1-worker row
def rec_of(row, impl):
    r = rows.get(row, {}).get(impl)
    return r if r and r.get("ok") else None

def verdict(what, gv, ov, met):
    print("check: %-58s %s (%s, %s)" % (what, "yes" if met else "NO", gv, ov))

print()
for srv in ("echo", "echo/goclient", "http"):
    g, o, g1 = rec_of(srv, "goc"), rec_of(srv, "go"), rec_of(srv + "/w1", "goc")
    if g and o:
        verdict("%s: goc rate >= go's" % srv, "goc " + fmt(g["value"]), "go " + fmt(o["value"]),
                g["value"] >= o["value"])
        verdict("%s: goc server CPU/op <= go's" % srv, "goc " + fmt(g["server_cpu_us"]),
                "go " + fmt(o["server_cpu_us"]), g["server_cpu_us"] <= o["server_cpu_us"])
    if g and g1:
        verdict("%s: goc CPU/op at %s workers <= 1.1x its 1-worker" % (srv, g["workers"]),
                "w%s %s" % (g["workers"], fmt(g["server_cpu_us"])), "w1 " + fmt(g1["server_cpu_us"]),
                g["server_cpu_us"] <= 1.1 * g1["server_cpu_us"])
EOF

# ---------------------------------------------------------------- JSON, charts
echo
if [ -z "${PLOT_PYTHON:-}" ]; then
    for p in "$PYTHON" python3 /usr/bin/python3; do
        if "$p" -c 'import matplotlib' >/dev/null 2>&1; then PLOT_PYTHON=$p; break; fi
    done
fi
"${PLOT_PYTHON:-$PYTHON}" "$ROOT/bench/plot.py" compare --tsv "$RESULTS" --curve-tsv "$CURVE_RESULTS" \
    --out "$OUT" --meta quick=$QUICK --meta rounds=$ROUNDS ||
    echo "compare.sh: bench/plot.py failed: no JSON or charts in $OUT" >&2

# exit non-zero when goc itself failed anywhere
if cat "$RESULTS" "$CURVE_RESULTS" |
        awk -F'\t' '$2 == "goc" && ($3 == "fail" || $3 ~ /"ok":false/) { bad = 1 } END { exit !bad }'; then
    exit 1
fi
exit 0
