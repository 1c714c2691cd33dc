#!/usr/bin/env bash
# compare.sh - run goc-bench and its Go and Python asyncio peers side by side
# on this machine, in this run, and print a table of figures and ratios.
#
#   bench/compare.sh [--quick] [workload ...]
#
#   --quick      small sizes (the same n for all three) for a smoke test
#   workload     any of: spawn yield cpu idle timers pingpong mpmc select
#                sieve skynet (default: all of them)
#
# Environment: GOC_BENCH (default build/bench/goc-bench), GO (default go),
# PYTHON (default python3), TIMEOUT (seconds per command, default 300).
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
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        spawn|yield|cpu|idle|timers|pingpong|mpmc|select|sieve|skynet) WANT+=("$arg") ;;
        *) echo "compare.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done
[ ${#WANT[@]} -eq 0 ] && WANT=(spawn yield cpu idle timers pingpong mpmc select sieve skynet)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goc-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
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
        rows[row][impl] = json.loads(js) if js != "fail" else None
    except ValueError:
        rows[row][impl] = None

# the peers have no --stack-size: reuse their idle figures
if "idle/stack2048" in rows and "idle" in rows:
    for impl in ("go", "python"):
        rows["idle/stack2048"].setdefault(impl, rows["idle"].get(impl))

def higher_is_better(unit):
    return unit.endswith("/s") or unit == "x"

# extra figures shown as rows of their own: (workload, field, unit)
EXTRA = {"cpu": [("speedup", "x")], "idle": [("wake_ms", "ms")],
         "timers": [("p50_us", "us"), ("total_ms", "ms")]}

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
EOF

# exit non-zero when goc itself failed anywhere
if awk -F'\t' '$2 == "goc" && ($3 == "fail" || $3 ~ /"ok":false/) { bad = 1 } END { exit !bad }' "$RESULTS"; then
    exit 1
fi
exit 0
