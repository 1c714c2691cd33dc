#!/usr/bin/env bash
# compare.sh - run goc-bench and its Go and Python asyncio peers side by side
# on this machine, in this run, and print a table of figures and ratios.
#
#   bench/compare.sh [--quick] [workload ...]
#
#   --quick      small sizes (the same n for all three) for a smoke test
#   workload     any of: spawn yield cpu idle timers pingpong mpmc select
#                sieve skynet echo http (default: all of them)
#
# Environment: GOC_BENCH (default build/bench/goc-bench), GOC_HTTP (default
# build/examples/http_hello beside it), GO (default go), PYTHON (default
# python3), WRK (default wrk), TIMEOUT (seconds per command, default 300),
# SERVER_WORKERS (echo and http servers' workers, default 2), PORT_BASE
# (the first port tried for the servers, default 17400), ROUNDS (echo and
# http: run the three servers in turn this many times and report each
# figure's median, default 1; 3 steadies the figures on a busy machine).
#
# echo and http compare servers, with the same client driving each: goc's
# (SERVER_WORKERS workers), Go's (GOMAXPROCS = SERVER_WORKERS) and Python
# asyncio's. For each server in turn: start it, warm it up with a short
# client run (a fresh asyncio server is several times slower until its
# malloc settles), read its CPU time (user+sys from /proc/PID/stat), run
# the timed client, read the CPU time again, stop it. echo's client is
# goc-bench echo-client (64 conns x 20,000 round trips of 64 bytes, every
# byte checked); http's is wrk -t2 -c64 -d5s (an answer is checked with a
# plain request first). Rows: round trips/s or requests/s, and the server's
# CPU microseconds per round trip or request: on a machine where the client
# competes with the server for the cores, that is the figure that tells
# servers apart. The "workers" column gives the servers' workers.
#
# Worker counts: yield at 1 (2 coroutines on 1 worker); pingpong twice, at 1
# (row pingpong/w1) and at one per core; spawn, cpu, idle, timers, mpmc,
# select, sieve, skynet at one per core (nproc); idle once more with goc
# --stack-size 2048. Python asyncio always runs on 1 thread, whatever
# --workers says, so its pingpong figure is taken twice on the same terms.
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
CORES=$(nproc 2>/dev/null || echo 1)

QUICK=0
WANT=()
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        spawn|yield|cpu|idle|timers|pingpong|mpmc|select|sieve|skynet|echo|http) WANT+=("$arg") ;;
        *) echo "compare.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done
[ ${#WANT[@]} -eq 0 ] && WANT=(spawn yield cpu idle timers pingpong mpmc select sieve skynet echo http)

WRK=${WRK:-wrk}
SERVER_WORKERS=${SERVER_WORKERS:-2}
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
: > "$RESULTS"

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
    printf '%s\t%s\t%s\n' "$row" "$impl" "$line" >> "$RESULTS"
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

# bench ROW WORKLOAD WORKERS [GOC_EXTRA...] : the three implementations
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
}

# ---------------------------------------------------------------- servers
# echo and http: one server at a time, in the background, on a port of its
# own; the same client drives each. CPU time is the server process's
# user+sys (all its threads) from /proc/PID/stat, in clock ticks.

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
NEXT_PORT=$PORT_BASE

# port_open PORT : something accepts connections on 127.0.0.1:PORT
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pick_port : set PORT to a port nobody listens on, from NEXT_PORT up (a
# fresh one for each server: no leftover connection can reach the next)
pick_port() {
    while port_open "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
    PORT=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT + 1))
}

# start_server PORT CMD... : start it in the background (SERVER_PID), wait
# up to 10 s for PORT to accept; false if it died or never listened
start_server() {
    local port=$1
    shift
    echo "+ $* &"
    "$@" > "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        port_open "$port" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "  -> the server did not start listening on port $port"
    sed 's/^/     /' "$WORK/server.log" | tail -n 5
    stop_server
    return 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}

# cpu_ticks PID : utime + stime (fields 14 and 15; the name in field 2 may
# hold spaces, so count from the ")" that ends it)
cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# record ROW IMPL JSON_OR_FAIL
record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$RESULTS"
}

# echo_server IMPL WORKERS CMD... : one echo server, warmed up, then timed
echo_server() {
    local impl=$1 workers=$2
    shift 2
    local port line ok c0 c1 n warm
    n=$( [ $QUICK -eq 1 ] && echo 2000 || echo 20000 )
    warm=$( [ $QUICK -eq 1 ] && echo 500 || echo 2000 )
    pick_port
    port=$PORT
    if ! start_server "$port" "$@" --port "$port"; then
        record echo "$impl" fail
        return
    fi
    echo "+ (warm-up) $GOC_BENCH echo-client --port $port --n $warm --runs 1"
    timeout "$TIMEOUT" "$GOC_BENCH" echo-client --port "$port" --n "$warm" --runs 1 > /dev/null 2>&1
    c0=$(cpu_ticks "$SERVER_PID")
    echo "+ $GOC_BENCH echo-client --port $port --n $n --runs 1"
    timeout "$TIMEOUT" "$GOC_BENCH" echo-client --port "$port" --n "$n" --runs 1 \
        > "$WORK/client.out" 2> "$WORK/client.err"
    c1=$(cpu_ticks "$SERVER_PID")
    kill -0 "$SERVER_PID" 2>/dev/null && ok=1 || ok=0
    stop_server
    line=$(grep -m1 '^{' "$WORK/client.out" || true)
    if [ -z "$line" ] || [ "$ok" -eq 0 ]; then
        echo "  -> fail$( [ "$ok" -eq 0 ] && echo ': the server died')"
        sed 's/^/     /' "$WORK/client.err" | tail -n 5
        record echo "$impl" fail
        return
    fi
    # the client's line, as the server's: its workers, its CPU per round trip
    line=$("$PYTHON" - "$line" "$workers" "$c0" "$c1" "$CLK_TCK" <<'PYEOF'
import json, sys
rec = json.loads(sys.argv[1])
workers, c0, c1, tck = (int(a) for a in sys.argv[2:])
cpu_s = (c1 - c0) / tck
out = {"workload": "echo", "workers": workers, "n": rec["n"], "value": rec["value"],
       "unit": rec["unit"], "server_cpu_us": round(cpu_s * 1e6 / rec["round_trips"], 3),
       "server_cpu_s": round(cpu_s, 2), "server_cores": round(cpu_s / rec["secs"], 2),
       "round_trips": rec["round_trips"], "client_workers": rec["workers"], "ok": rec["ok"]}
print(json.dumps(out, separators=(",", ":")))
PYEOF
)
    echo "  -> $line"
    record echo "$impl" "$line"
}

# http_check PORT : one plain request gets "200 OK" and the body "hello"
http_check() {
    local resp
    resp=$(exec 3<>"/dev/tcp/127.0.0.1/$1" &&
           printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 &&
           timeout 5 cat <&3) 2>/dev/null
    [[ "$resp" == "HTTP/1.1 200 OK"* && "$resp" == *$'\r\n\r\nhello' ]]
}

# http_server IMPL WORKERS CMD... : one HTTP server, warmed up, then wrk
http_server() {
    local impl=$1 workers=$2
    shift 2
    local port secs warm c0 c1 checked ok line url
    secs=$( [ $QUICK -eq 1 ] && echo 2 || echo 5 )
    warm=$( [ $QUICK -eq 1 ] && echo 1 || echo 2 )
    pick_port
    port=$PORT
    url=http://127.0.0.1:$port/
    if ! start_server "$port" "$@" --port "$port"; then
        record http "$impl" fail
        return
    fi
    http_check "$port" && checked=1 || checked=0
    echo "+ (warm-up) $WRK -t2 -c64 -d${warm}s $url"
    timeout "$TIMEOUT" "$WRK" -t2 -c64 -d"${warm}s" "$url" > /dev/null 2>&1
    c0=$(cpu_ticks "$SERVER_PID")
    echo "+ $WRK -t2 -c64 -d${secs}s $url"
    timeout "$TIMEOUT" "$WRK" -t2 -c64 -d"${secs}s" "$url" > "$WORK/client.out" 2>&1
    c1=$(cpu_ticks "$SERVER_PID")
    kill -0 "$SERVER_PID" 2>/dev/null && ok=1 || ok=0
    stop_server
    line=$("$PYTHON" - "$WORK/client.out" "$workers" "$c0" "$c1" "$CLK_TCK" "$checked" "$ok" <<'PYEOF'
import json, re, sys
text = open(sys.argv[1]).read()
workers, c0, c1, tck, checked, alive = (int(a) for a in sys.argv[2:])
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
       "socket_errors": errors, "non_2xx": non2xx,
       "ok": bool(checked and alive and errors == 0 and non2xx == 0)}
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
    record http "$impl" "$line"
}

bench_echo() {
    echo_server goc "$SERVER_WORKERS" "$GOC_BENCH" echo-server --workers "$SERVER_WORKERS"
    if [ $GO_OK -eq 1 ]; then
        echo_server go "$SERVER_WORKERS" "$GO_PEER" echo-server --workers "$SERVER_WORKERS"
    else
        record echo go fail
    fi
    echo_server python 1 "$PYTHON" "$PY_PEER" echo-server
}

bench_http() {
    if ! command -v "$WRK" >/dev/null 2>&1; then
        echo "compare.sh: '$WRK' not found (Debian: apt-get install wrk): no http rows" >&2
        return
    fi
    if [ -x "$GOC_HTTP" ]; then
        http_server goc "$SERVER_WORKERS" "$GOC_HTTP" --workers "$SERVER_WORKERS"
    else
        echo "compare.sh: $GOC_HTTP not found (build the examples)" >&2
        record http goc fail
    fi
    if [ -x "$GO_HTTP" ]; then
        http_server go "$SERVER_WORKERS" "$GO_HTTP" --workers "$SERVER_WORKERS"
    else
        record http go fail
    fi
    http_server python 1 "$PYTHON" "$PY_HTTP"
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
        echo) for _ in $(seq "$ROUNDS"); do bench_echo; done ;;
        http) for _ in $(seq "$ROUNDS"); do bench_http; done ;;
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
    for impl in ("go", "python"):
        rows["idle/stack2048"].setdefault(impl, rows["idle"].get(impl))

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
    if row == w:
        lines += [("%s.%s" % (row, f), f, u) for f, u in EXTRA.get(w, [])]
    for label, field, u in lines:
        gn = recs["goc"]["n"] if recs.get("goc") else None
        g, gv = cell(recs.get("goc"), field)
        o, ov = cell(recs.get("go"), field, gn)
        p, pv = cell(recs.get("python"), field, gn)
        workers = "/".join(str(recs[i]["workers"]) if recs.get(i) else "?"
                           for i in ("goc", "go", "python"))
        notes = []
        for impl in ("go", "python"):
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
                elif not scaled:
                    pv = None
        if row.endswith("stack2048") and field == "value":
            notes.append("peers: no stack knob, same as idle")
        table.append([label + " [" + u + "]", workers, g, o, p,
                      ratio(gv, ov, u), ratio(gv, pv, u), "; ".join(notes)])

head = ["workload [unit]", "workers goc/go/py", "goc", "go", "python",
        "go/goc", "python/goc", "note"]
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
          " http: wrk -t2 -c64); workers = the servers'; server_cpu_us = the server's"
          " user+sys CPU per round trip or request%s" %
          ("; medians of %d rounds" % rounds if rounds > 1 else ""))

# issue 4's bar for the servers: goc at least Go's rate, at most Go's CPU
def verdict(row, field, what, goc_better):
    g, o = (rows.get(row, {}).get(i) for i in ("goc", "go"))
    if not g or not o or not g.get("ok") or not o.get("ok") or field not in g or field not in o:
        return
    gv, ov = float(g[field]), float(o[field])
    met = goc_better(gv, ov)
    print("check: %-44s %s (goc %s, go %s)" % (what, "yes" if met else "NO", fmt(gv), fmt(ov)))
verdict("echo", "value", "echo round trips/s, goc >= go:", lambda g, o: g >= o)
verdict("echo", "server_cpu_us", "echo server CPU us/round trip, goc <= go:", lambda g, o: g <= o)
verdict("http", "value", "http requests/s, goc >= go:", lambda g, o: g >= o)
EOF

# exit non-zero when goc itself failed anywhere
if awk -F'\t' '$2 == "goc" && ($3 == "fail" || $3 ~ /"ok":false/) { bad = 1 } END { exit !bad }' "$RESULTS"; then
    exit 1
fi
exit 0
