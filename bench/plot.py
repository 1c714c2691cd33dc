#!/usr/bin/env python3
"""plot.py - the benchmark figures as JSON and PNG charts.

    plot.py compare --tsv RESULTS [--curve-tsv POINTS] --out DIR [--meta K=V ...]
    plot.py scaling --tsv RESULTS --out DIR [--meta K=V ...]
    plot.py replot FILE.json [--out DIR]

compare.sh and scaling.sh collect one line per measurement in a TSV file:
"row <TAB> impl <TAB> JSON line or fail" (the JSON line is what goc-bench
or a peer printed, see BENCHMARKS.md). A row is a workload, optionally
with a variant ("echo/goclient", "idle/stack2048") and a worker count
suffix "/wN" ("cpu/w4", "echo/w1"); the rows that differ only in /wN are
one series, measured at several worker counts.

compare writes DIR/compare.json (every record, the ratios) and:
  compare-ratios.png   per row of the table, one bar per peer: the ratio
                       peer vs goc, > 1 where goc is better (log scale);
                       the extra points of the curves (--curve-tsv) are
                       in the JSON's ratios but not in the bars
  compare-workers.png  per series measured at two worker counts or more
                       (cpu, skynet, mpmc, echo ...): the figure over the
                       worker count, one line per implementation
scaling writes DIR/scaling.json and:
  scaling.png          per workload, the speedup over the same
                       implementation at 1 worker, against the worker count
  scaling-vs-peers.png per workload, the ratio peer vs goc at each count
replot draws the PNGs again from a JSON file written by either.

The implementations are whatever the TSV names: goc is the base, every
other name (go, python, node, ...) is a peer and gets its own bars and
lines. Ratios follow compare.sh's table: peer / goc for lower-is-better
units (ns, us, ms, bytes), goc / peer for rates ("/s") and speedups ("x").

The JSON is written first, with the standard library only; without
matplotlib (Debian: python3-matplotlib) the PNGs are skipped with a
message, and the exit status stays 0.
"""
import argparse
import json
import os
import platform
import re
import sys
import time

SCHEMA = 1
WORKERS_SUFFIX = re.compile(r"^(.*)/w(\d+)$")

# extra figures that get a ratio of their own: workload -> [(field, unit)]
EXTRA_FIGURES = {"cpu": [("speedup", "x")],
                 "echo": [("server_cpu_us", "us/roundtrip")],
                 "http": [("server_cpu_us", "us/request")]}

# ------------------------------------------------------------------ reading


def read_tsv(paths, curve_paths=()):
    """[(row, impl, record or None, curve)] in file order; None for a
    failed run; curve: from one of curve_paths (an extra point of a curve,
    no row of the table)."""
    out = []
    for path in list(paths) + list(curve_paths):
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 2)
                if len(parts) != 3:
                    continue
                row, impl, text = parts
                rec = None
                if text != "fail":
                    try:
                        rec = json.loads(text)
                    except ValueError:
                        rec = None
                out.append((row, impl, rec, path in curve_paths))
    return out


def split_row(row):
    """'cpu/w4' -> ('cpu', 4); 'echo/goclient' -> ('echo/goclient', None)."""
    m = WORKERS_SUFFIX.match(row)
    if m:
        return m.group(1), int(m.group(2))
    return row, None


def median(values):
    vals = sorted(values)
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2


def merge_rounds(recs):
    """One record from several rounds of the same row: each number's median,
    ok only if every round was; None if any round failed."""
    if any(r is None for r in recs):
        return None
    if len(recs) == 1:
        return recs[0]
    out = dict(recs[0])
    for key, v in recs[0].items():
        if key in ("workers", "n", "client_workers", "round_trips"):
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = [r[key] for r in recs if isinstance(r.get(key), (int, float))]
            out[key] = median(vals)
    out["ok"] = all(r.get("ok") for r in recs)
    out["rounds"] = len(recs)
    return out


def collect(lines):
    """The merged results, one per (row, impl), in first-seen order."""
    grouped, order, curve = {}, [], set()
    for row, impl, rec, is_curve in lines:
        if (row, impl) not in grouped:
            grouped[(row, impl)] = []
            order.append((row, impl))
        grouped[(row, impl)].append(rec)
        if is_curve:
            curve.add(row)
    results = []
    for row, impl in order:
        rec = merge_rounds(grouped[(row, impl)])
        series, suffix_workers = split_row(row)
        workers = rec.get("workers") if rec else suffix_workers
        entry = {"row": row, "series": series, "impl": impl, "workers": workers,
                 "ok": bool(rec and rec.get("ok")), "curve_point": row in curve,
                 "record": rec}
        results.append(entry)
    return results


def impls_of(results):
    """goc first, then every other implementation in first-seen order."""
    seen = []
    for r in results:
        if r["impl"] not in seen:
            seen.append(r["impl"])
    return ["goc"] + [i for i in seen if i != "goc"] if "goc" in seen else seen


def host_facts():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") or line.startswith("Model"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "machine": platform.machine(),
            "kernel": platform.release(), "cpu": cpu,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

# ------------------------------------------------------------------ figures


def higher_is_better(unit):
    return unit.endswith("/s") or unit == "x"


def figure_of(rec, field, goc_n):
    """A usable number from one record, or None. Python's cpu runs fewer
    jobs on its one thread: its raw ms goes onto goc's job count."""
    if rec is None or not rec.get("ok"):
        return None
    v = rec.get(field)
    if (rec.get("workload") == "cpu" and field == "value" and goc_n
            and rec.get("n") != goc_n and "measured_ms" in rec):
        v = rec["measured_ms"] * goc_n / rec["n"]
    elif goc_n is not None and rec.get("n") != goc_n and not (
            rec.get("workload") == "cpu" and field == "speedup"):
        return None  # another size: not comparable
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        return None
    return float(v)


def ratio(goc, peer, unit):
    """> 1 where goc is better."""
    if goc is None or peer is None:
        return None
    return goc / peer if higher_is_better(unit) else peer / goc


def compare_ratios(results, impls):
    """One entry per (row, figure, peer) that has both numbers."""
    by_row, order, curve = {}, [], set()
    for r in results:
        if r.get("curve_point"):
            curve.add(r["row"])
        if r["row"] not in by_row:
            by_row[r["row"]] = {}
            order.append(r["row"])
        by_row[r["row"]][r["impl"]] = r["record"]
    # the peers have no --stack-size: their idle figures stand for both rows
    if "idle/stack2048" in by_row and "idle" in by_row:
        for impl, rec in by_row["idle"].items():
            by_row["idle/stack2048"].setdefault(impl, rec)
    out = []
    for row in order:
        recs = by_row[row]
        goc = recs.get("goc")
        if goc is None:
            continue
        unit = goc.get("unit", "?")
        workload = row.split("/")[0]
        figures = [("value", unit)]
        if split_row(row)[1] is None:
            figures += EXTRA_FIGURES.get(workload, [])
        for field, u in figures:
            gv = figure_of(goc, field, None)
            for peer in impls:
                if peer == "goc" or peer not in recs:
                    continue
                pv = figure_of(recs[peer], field, goc.get("n"))
                r = ratio(gv, pv, u)
                if r is None:
                    continue
                out.append({"row": row, "figure": field, "unit": u, "peer": peer,
                            "workers": goc.get("workers"), "goc": gv, "peer_value": pv,
                            "ratio": round(r, 4), "curve_point": row in curve})
    return out


def scaling_speedups(results):
    """Per (series, impl, workers): the figure at 1 worker over the figure
    now (lower-is-better units), or now over 1 (rates)."""
    base = {}
    for r in results:
        if r["workers"] == 1 and r["ok"]:
            base[(r["series"], r["impl"])] = r["record"]
    out = []
    for r in results:
        b = base.get((r["series"], r["impl"]))
        if not r["ok"] or b is None:
            continue
        unit = r["record"].get("unit", "?")
        v, v1 = float(r["record"]["value"]), float(b["value"])
        if v <= 0 or v1 <= 0:
            continue
        s = v / v1 if higher_is_better(unit) else v1 / v
        out.append({"series": r["series"], "impl": r["impl"], "workers": r["workers"],
                    "speedup": round(s, 4)})
    return out

# ------------------------------------------------------------------ text


def print_series_table(results, impls):
    """The series measured at several worker counts, as text."""
    series = worker_series(results, impls)
    if not series:
        return
    print("figures over worker counts:")
    for name, per_impl in series.items():
        unit = next(iter(per_impl.values()))[0][2]
        for impl, pts in per_impl.items():
            print("  %-26s %-7s %s" % (name + " [" + unit + "]", impl,
                                       "  ".join("w%d=%.4g" % (w, v) for w, v, _ in pts)))


def print_scaling_table(data):
    """Each workload's figure and speedup per worker count, as text."""
    speed = {(s["series"], s["impl"], s["workers"]): s["speedup"] for s in data["speedup"]}
    rows = {}
    for r in data["results"]:
        key = (r["series"], r["impl"])
        cell = "fail"
        if r["ok"]:
            v = float(r["record"]["value"])
            sp = speed.get((r["series"], r["impl"], r["workers"]))
            cell = "%.4g" % v + (" (%.2fx)" % sp if sp is not None else "")
        rows.setdefault(key, []).append("w%s=%s" % (r["workers"], cell))
    print("figure (speedup over 1 worker) per worker count:")
    for (series, impl), cells in rows.items():
        unit = next((r["record"].get("unit", "?") for r in data["results"]
                     if r["series"] == series and r["ok"]), "?")
        print("  %-22s %-7s %s" % ("%s [%s]" % (series, unit), impl, "  ".join(cells)))


def worker_series(results, impls):
    """{series: {impl: [(workers, value, unit)]}} for the series with two
    worker counts or more for at least one implementation; an
    implementation with a single count (asyncio's one thread) is left out."""
    acc = {}
    for r in results:
        if not r["ok"] or r["workers"] is None:
            continue
        rec = r["record"]
        pts = acc.setdefault(r["series"], {}).setdefault(r["impl"], {})
        pts.setdefault(r["workers"], []).append((float(rec["value"]), rec.get("unit", "?")))
    out = {}
    for name, per_impl in acc.items():
        lines = {}
        for impl in impls:
            pts = per_impl.get(impl, {})
            if len(pts) < 2:
                continue
            lines[impl] = [(w, median([v for v, _ in vs]), vs[0][1])
                           for w, vs in sorted(pts.items())]
        if lines:
            out[name] = lines
    return out

# ------------------------------------------------------------------ charts


def load_pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("plot.py: matplotlib is not installed for %s (Debian: apt-get install "
              "python3-matplotlib, or make deps-bench): JSON written, no PNG charts"
              % sys.executable, file=sys.stderr)
        return None


def impl_style(impls):
    """A fixed colour per implementation: goc blue, go orange, python
    green, then the next colours of the cycle for any other peer."""
    fixed = {"goc": "C0", "go": "C1", "python": "C2", "node": "C3"}
    free = [c for c in ("C4", "C5", "C6", "C8", "C9", "C7") if c not in fixed.values()]
    colours = {}
    for impl in impls:
        colours[impl] = fixed.get(impl) or free[len(colours) % len(free)]
    return colours


def subtitle(data):
    h = data.get("host", {})
    opts = data.get("options", {})
    text = "%s cores %s, %s, %s" % (h.get("cores", "?"), h.get("machine", ""),
                                    h.get("cpu", "") or "?", h.get("date", "")[:10])
    if opts.get("quick") in (True, "1", 1):
        text += ", --quick sizes"
    if opts.get("note"):
        text += "\n" + opts["note"]
    return text


def mark_oversubscribed(ax, cores, xmax):
    """Shade the worker counts above the core count."""
    if cores and xmax > cores:
        ax.axvspan(cores * 1.2, xmax * 1.1, color="0.92", zorder=0)
        ax.text(cores * 1.2, 0.02, " more workers\n than cores", transform=ax.get_xaxis_transform(),
                va="bottom", ha="left", fontsize=6, color="0.4")


def plot_ratios(plt, data, path):
    ratios = [r for r in data["ratios"] if not r.get("curve_point")]
    if not ratios:
        return False
    peers = [i for i in data["impls"] if i != "goc" and any(r["peer"] == i for r in ratios)]
    colours = impl_style(data["impls"])
    labels = []
    for r in ratios:
        key = (r["row"], r["figure"])
        if key not in labels:
            labels.append(key)
    height = 0.8 / max(1, len(peers))
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(labels) + 1.8))
    for k, peer in enumerate(peers):
        ys, xs = [], []
        for i, key in enumerate(labels):
            r = next((r for r in ratios if (r["row"], r["figure"]) == key and r["peer"] == peer), None)
            if r:
                ys.append(i + (k - (len(peers) - 1) / 2) * height)
                xs.append(r["ratio"])
        ax.barh(ys, xs, height=height, color=colours[peer], label="%s vs goc" % peer)
        for y, x in zip(ys, xs):
            ax.text(x, y, " %.2fx" % x, va="center", fontsize=6)
    names = []
    for row, field in labels:
        r = next(r for r in ratios if (r["row"], r["figure"]) == (row, field))
        what = row if field == "value" else "%s %s" % (row, field)
        names.append("%s [%s] w%s" % (what, r["unit"], r["workers"]))
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="k", linewidth=0.8)
    ax.set_xlabel("ratio (> 1: goc is better; peer/goc for times and sizes, goc/peer for rates)")
    ax.set_title("goc against its peers, same machine, same run\n" + subtitle(data), fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def grid(plt, n, width=4.2, height=3.2):
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.6),
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def worker_axis(ax, counts):
    ax.set_xscale("log", base=2)
    ax.set_xticks(counts)
    ax.set_xticklabels([str(c) for c in counts])
    ax.set_xlabel("workers (goc) / GOMAXPROCS (Go)", fontsize=7)


def plot_workers(plt, data, path):
    series = worker_series(data["results"], data["impls"])
    if not series:
        return False
    colours = impl_style(data["impls"])
    cores = data.get("host", {}).get("cores")
    fig, axes = grid(plt, len(series))
    for ax, (name, lines) in zip(axes, series.items()):
        counts = sorted({w for pts in lines.values() for w, _, _ in pts})
        unit = next(iter(lines.values()))[0][2]
        for impl, pts in lines.items():
            ax.plot([w for w, _, _ in pts], [v for _, v, _ in pts], marker="o",
                    color=colours[impl], label=impl)
        worker_axis(ax, counts)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("%s (%s is better)" % (unit, "higher" if higher_is_better(unit) else "lower"),
                      fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        mark_oversubscribed(ax, cores, counts[-1])
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("figures over worker counts\n" + subtitle(data), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_speedup(plt, data, path):
    speedups = data["speedup"]
    if not speedups:
        return False
    colours = impl_style(data["impls"])
    cores = data.get("host", {}).get("cores")
    names = []
    for s in speedups:
        if s["series"] not in names:
            names.append(s["series"])
    fig, axes = grid(plt, len(names))
    for ax, name in zip(axes, names):
        pts = [s for s in speedups if s["series"] == name]
        counts = sorted({s["workers"] for s in pts})
        ideal = [min(c, cores or c) for c in counts]
        ax.plot(counts, ideal, linestyle=":", color="0.5", label="ideal")
        for impl in data["impls"]:
            mine = sorted((s["workers"], s["speedup"]) for s in pts if s["impl"] == impl)
            if mine:
                ax.plot([w for w, _ in mine], [v for _, v in mine], marker="o",
                        color=colours[impl], label=impl)
        worker_axis(ax, counts)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("speedup over 1 worker", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        mark_oversubscribed(ax, cores, counts[-1])
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("scaling: each implementation against itself at 1 worker\n" + subtitle(data),
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_scaling_vs_peers(plt, data, path):
    """Per workload, ratio peer vs goc at each worker count."""
    by = {}
    for r in data["results"]:
        if r["ok"]:
            by[(r["series"], r["workers"], r["impl"])] = r["record"]
    colours = impl_style(data["impls"])
    cores = data.get("host", {}).get("cores")
    names = []
    for r in data["results"]:
        if r["series"] not in names:
            names.append(r["series"])
    panels = []
    for name in names:
        lines = {}
        for (series, workers, impl), rec in by.items():
            goc = by.get((series, workers, "goc"))
            if series != name or impl == "goc" or goc is None:
                continue
            rt = ratio(figure_of(goc, "value", None), figure_of(rec, "value", goc.get("n")),
                       goc.get("unit", "?"))
            if rt is not None:
                lines.setdefault(impl, []).append((workers, rt))
        if lines:
            panels.append((name, lines))
    if not panels:
        return False
    fig, axes = grid(plt, len(panels))
    for ax, (name, lines) in zip(axes, panels):
        counts = sorted({w for pts in lines.values() for w, _ in pts})
        for impl, pts in lines.items():
            pts.sort()
            ax.plot([w for w, _ in pts], [v for _, v in pts], marker="o",
                    color=colours[impl], label="%s vs goc" % impl)
        ax.axhline(1.0, color="k", linewidth=0.8)
        worker_axis(ax, counts)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("ratio (> 1: goc is better)", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        mark_oversubscribed(ax, cores, counts[-1])
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("goc against its peers at the same worker count\n" + subtitle(data), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def draw(data, out_dir):
    """The PNGs for one JSON document; the paths written."""
    plt = load_pyplot()
    if plt is None:
        return []
    if data["kind"] == "compare":
        charts = [("compare-ratios.png", plot_ratios), ("compare-workers.png", plot_workers)]
    else:
        charts = [("scaling.png", plot_speedup), ("scaling-vs-peers.png", plot_scaling_vs_peers)]
    written = []
    for name, fn in charts:
        path = os.path.join(out_dir, name)
        if fn(plt, data, path):
            written.append(path)
    return written

# ------------------------------------------------------------------ main


def build_document(kind, tsv_paths, curve_paths, meta):
    results = collect(read_tsv(tsv_paths, curve_paths))
    impls = impls_of(results)
    data = {"kind": kind, "schema": SCHEMA, "host": host_facts(), "options": meta,
            "impls": impls, "results": results}
    if kind == "compare":
        data["ratios"] = compare_ratios(results, impls)
    else:
        data["speedup"] = scaling_speedups(results)
    return data


def parse_meta(pairs):
    meta = {}
    for p in pairs:
        key, _, value = p.partition("=")
        meta[key] = value
    return meta


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for kind in ("compare", "scaling"):
        p = sub.add_parser(kind)
        p.add_argument("--tsv", action="append", required=True)
        p.add_argument("--curve-tsv", action="append", default=[],
                       help="extra points of the curves, no rows of the ratio chart")
        p.add_argument("--out", required=True)
        p.add_argument("--meta", action="append", default=[])
    p = sub.add_parser("replot")
    p.add_argument("json")
    p.add_argument("--out")
    args = ap.parse_args(argv)

    if args.cmd == "replot":
        with open(args.json) as f:
            data = json.load(f)
        out_dir = args.out or os.path.dirname(os.path.abspath(args.json))
    else:
        out_dir = args.out
        data = build_document(args.cmd, args.tsv, args.curve_tsv, parse_meta(args.meta))
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, args.cmd + ".json")
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        print("plot.py: wrote %s" % path)
        if args.cmd == "compare":
            print_series_table(data["results"], data["impls"])
        else:
            print_scaling_table(data)
    os.makedirs(out_dir, exist_ok=True)
    for path in draw(data, out_dir):
        print("plot.py: wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
