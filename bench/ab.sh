#!/usr/bin/env bash
# ab.sh - before/after: two goc-bench binaries run in turn, workload by
# workload, round after round, and the medians side by side.
#
#   bench/ab.sh BASE_GOC_BENCH HEAD_GOC_BENCH [workload ...]
#
# On a shared or virtual machine the same binary drifts by 10-30% from one
# hour to the next; alternating the two in one loop is what makes their
# ratio mean something. Each round runs, for each worker count and each
# workload, BASE then HEAD (goc-bench's own medians of 5 runs where a run
# is short). Default workloads: yield pingpong spawn select mpmc skynet.
#
# Environment: ROUNDS (default 7), WORKERS (default "1 2").
# Output: one line per workload and worker count: both medians and
# head/base (for mpmc, M msgs/s, higher is better; for the rest lower).
set -euo pipefail
base=${1:?usage: ab.sh BASE_GOC_BENCH HEAD_GOC_BENCH [workload ...]}
head=${2:?usage: ab.sh BASE_GOC_BENCH HEAD_GOC_BENCH [workload ...]}
shift 2
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(yield pingpong spawn select mpmc skynet)
rounds=${ROUNDS:-7}
workers=${WORKERS:-1 2}
raw=$(mktemp "${TMPDIR:-/tmp}/goc-ab.XXXXXX")
trap 'rm -f "$raw"' EXIT

value_of() { # the "value" of goc-bench's JSON line
    grep -m1 '^{' | sed -n 's/.*"value":\([0-9.eE+-]*\).*/\1/p'
}

for r in $(seq "$rounds"); do
    for w in $workers; do
        for wl in "${workloads[@]}"; do
            echo "base $w $wl $("$base" "$wl" --workers "$w" 2>/dev/null | value_of)" >> "$raw"
            echo "head $w $wl $("$head" "$wl" --workers "$w" 2>/dev/null | value_of)" >> "$raw"
        done
    done
    echo "round $r of $rounds done" >&2
done

python3 - "$raw" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, w, wl, *v = line.split()
    if v:
        runs[(wl, int(w), side)].append(float(v[0]))
for wl, w in sorted({(k[0], k[1]) for k in runs}):
    b, h = runs.get((wl, w, "base")), runs.get((wl, w, "head"))
    if b and h:
        mb, mh = statistics.median(b), statistics.median(h)
        print(f"{wl:9s} w{w}  base {mb:10.2f}  head {mh:10.2f}  head/base {mh / mb:.3f}  (runs {len(b)}, {len(h)})")
EOF
