// goc_peer.go - the Go peer of goc-bench (see shared BENCHMARKS.md).
//
//	goc-peer-go <workload|all|list> [--workers N] [--n N] [--runs R] [--stack-size B]
//
// The same workloads, sizes, checks and JSON lines as bench/goc-bench.c,
// written the way a Go programmer would, with runtime.GOMAXPROCS set to the
// worker count (--workers 0 = runtime.NumCPU()). Timing uses time.Now()'s
// monotonic reading. A workload runs once; if that run took under 1 s it runs
// 4 more times and every figure is the median over the 5 (--runs R fixes the
// count). idle always runs once (a second run would reuse the first one's
// memory). --stack-size is accepted and ignored: goroutine stacks start at
// 2 KiB and grow, there is no knob.
//
// Build: cd bench/peers/go && go build -o ../../../build/bench/goc-peer-go .
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ------------------------------------------------------------ options

type opts struct {
	workload   string
	workers    int
	workersSet bool
	n          int
	nSet       bool
	runs       int // 0: automatic
	stackSize  int // accepted, ignored (see above)
}

// setWorkers applies GOMAXPROCS for a worker count and returns the count used.
func setWorkers(w int) int {
	if w <= 0 {
		w = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(w)
	return w
}

// ------------------------------------------------------------ stats

const autoRuns = 5

type sample struct {
	ok      bool
	workers int
	span    time.Duration // decides whether to repeat
	fig     [8]float64    // the workload's figures; medians per index
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile: nearest rank on a sorted slice, 0 < p <= 1.
func percentile(sorted []int64, p float64) int64 {
	exact := p * float64(len(sorted))
	rank := int(exact)
	if float64(rank) < exact {
		rank++
	}
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// runMedian runs measure once, 4 more times if that was under 1 s, or
// exactly o.runs times; figures are per-index medians, ok only if all were.
func runMedian(o opts, measure func() sample) sample {
	want := 1
	if o.runs > 0 {
		want = o.runs
	}
	var runs []sample
	for len(runs) < want {
		s := measure()
		runs = append(runs, s)
		if !s.ok {
			break
		}
		if o.runs == 0 && len(runs) == 1 && s.span < time.Second {
			want = autoRuns
		}
	}
	out := sample{ok: true, workers: runs[0].workers}
	col := make([]float64, len(runs))
	for f := range out.fig {
		for r := range runs {
			col[r] = runs[r].fig[f]
		}
		out.fig[f] = median(col)
	}
	for r := range runs {
		out.ok = out.ok && runs[r].ok
		col[r] = float64(runs[r].span)
	}
	out.span = time.Duration(median(col))
	return out
}

// xorshift64 (13, 7, 17): the same generator as goc-bench.c.
func xorshift64(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

// ------------------------------------------------------------ JSON output

type jsonLine struct{ b strings.Builder }

func (j *jsonLine) key(k string) {
	if j.b.Len() == 0 {
		j.b.WriteString("{")
	} else {
		j.b.WriteString(",")
	}
	j.b.WriteString(strconv.Quote(k) + ":")
}

func (j *jsonLine) str(k, v string)       { j.key(k); j.b.WriteString(strconv.Quote(v)) }
func (j *jsonLine) int(k string, v int64) { j.key(k); j.b.WriteString(strconv.FormatInt(v, 10)) }
func (j *jsonLine) bool(k string, v bool) { j.key(k); j.b.WriteString(strconv.FormatBool(v)) }

// num prints like goc-bench: 3 decimals, trailing zeros trimmed.
func (j *jsonLine) num(k string, v float64) {
	j.key(k)
	if v != v || v > 1e300 || v < -1e300 {
		j.b.WriteString("null")
		return
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	j.b.WriteString(s)
}

func begin(o opts, workers int, n int, value float64, unit string) *jsonLine {
	j := &jsonLine{}
	j.str("workload", o.workload)
	j.int("workers", int64(workers))
	j.int("n", int64(n))
	j.num("value", value)
	j.str("unit", unit)
	return j
}

func (j *jsonLine) end(ok bool) {
	j.bool("ok", ok)
	j.b.WriteString("}\n")
	os.Stdout.WriteString(j.b.String())
}

// ================================================================ spawn
// N goroutines that each do nothing but wg.Done(); ns per goroutine.

func benchSpawn(o opts) bool {
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		var wg sync.WaitGroup
		t0 := time.Now()
		wg.Add(o.n)
		for i := 0; i < o.n; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
		s.span = time.Since(t0)
		s.fig[0] = float64(s.span.Nanoseconds()) / float64(o.n)
		s.ok = true // wg.Wait returned: all N ran (Go panics on a negative count)
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ns/coroutine")
	j.end(m.ok)
	return m.ok
}

// ================================================================ yield
// 2 goroutines each call runtime.Gosched N times (GOMAXPROCS=1 by default);
// ns per switch = wall / 2N. Check: both counters reached N.

func benchYield(o opts) bool {
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		var count [2]int
		var wg sync.WaitGroup
		t0 := time.Now()
		wg.Add(2)
		for k := 0; k < 2; k++ {
			go func(k int) {
				i := 0
				for ; i < o.n; i++ {
					runtime.Gosched()
				}
				count[k] = i
				wg.Done()
			}(k)
		}
		wg.Wait()
		s.span = time.Since(t0)
		s.fig[0] = float64(s.span.Nanoseconds()) / (2 * float64(o.n))
		s.ok = count[0] == o.n && count[1] == o.n
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ns/switch")
	j.end(m.ok)
	return m.ok
}

// ================================================================ cpu
// N (64) goroutines each run 2^24 steps of xorshift64; ms for all, and
// speedup = time at GOMAXPROCS=1 / time now. Check: every result equals the
// value computed once up front. (Go has no public P id, so no workers_seen.)

const cpuSteps = 1 << 24
const cpuSeed = 0x9E3779B97F4A7C15

//go:noinline
func cpuJob(seed uint64, steps int) uint64 {
	x, acc := seed, uint64(0)
	for i := 0; i < steps; i++ {
		x = xorshift64(x)
		acc += x
	}
	return acc ^ x
}

func benchCPU(o opts) bool {
	expected := cpuJob(cpuSeed, cpuSteps)
	measure := func(workers int) func() sample {
		return func() sample {
			s := sample{workers: setWorkers(workers)}
			results := make([]uint64, o.n)
			var wg sync.WaitGroup
			t0 := time.Now()
			wg.Add(o.n)
			for i := 0; i < o.n; i++ {
				go func(i int) {
					results[i] = cpuJob(cpuSeed, cpuSteps)
					wg.Done()
				}(i)
			}
			wg.Wait()
			s.span = time.Since(t0)
			s.fig[0] = float64(s.span.Nanoseconds()) / 1e6
			s.ok = true
			for _, r := range results {
				s.ok = s.ok && r == expected
			}
			return s
		}
	}
	tn := runMedian(o, measure(o.workers))
	ok, speedup := tn.ok, 1.0
	if tn.workers > 1 {
		t1 := runMedian(o, measure(1))
		ok = ok && t1.ok
		speedup = t1.fig[0] / tn.fig[0]
	}
	j := begin(o, tn.workers, o.n, tn.fig[0], "ms")
	j.num("speedup", speedup)
	j.end(ok)
	return ok
}

// ================================================================ idle
// N goroutines parked on a sync.WaitGroup gate. Resident memory growth per
// goroutine (VmRSS after all are parked - before, after runtime.GC and
// debug.FreeOSMemory), "pte_bytes" from VmPTE, and "wake_ms" from releasing
// the gate until all have exited. Always one run.

// procStatusKB reads a "Vm...:" line of /proc/self/status, in kB, or -1.
func procStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, field+":") {
			fs := strings.Fields(line[len(field)+1:])
			if len(fs) > 0 {
				if v, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
					return v
				}
			}
		}
	}
	return -1
}

func benchIdle(o opts) bool {
	workers := setWorkers(o.workers)
	var gate, done sync.WaitGroup
	var parked int64
	gate.Add(1)
	done.Add(o.n)

	runtime.GC()
	debug.FreeOSMemory()
	rssBefore, pteBefore := procStatusKB("VmRSS"), procStatusKB("VmPTE")

	t0 := time.Now()
	for i := 0; i < o.n; i++ {
		go func() {
			atomic.AddInt64(&parked, 1)
			gate.Wait()
			done.Done()
		}()
	}
	for atomic.LoadInt64(&parked) < int64(o.n) && time.Since(t0) < 120*time.Second {
		time.Sleep(time.Millisecond)
	}
	allParked := atomic.LoadInt64(&parked) == int64(o.n)
	time.Sleep(20 * time.Millisecond) // the last to count themselves may not have parked yet
	rssAfter, pteAfter := procStatusKB("VmRSS"), procStatusKB("VmPTE")

	w0 := time.Now()
	gate.Done()
	if allParked {
		done.Wait()
	}
	wake := time.Since(w0)

	ok := allParked && rssBefore >= 0 && rssAfter >= 0
	j := begin(o, workers, o.n, float64(rssAfter-rssBefore)*1024/float64(o.n), "bytes/coroutine")
	j.num("wake_ms", float64(wake.Nanoseconds())/1e6)
	j.num("pte_bytes", float64(pteAfter-pteBefore)*1024/float64(o.n))
	j.str("parked_on", "sync.WaitGroup")
	j.str("note", "goroutine stacks start at 2 KiB and grow; --stack-size does not apply")
	j.end(ok)
	return ok
}

// ================================================================ timers
// N goroutines each sleep a pseudo-random 0..100 ms (xorshift64, same seed
// and draws as goc-bench); lateness = wake - deadline. value = p99 in µs,
// plus p50_us, p99_us, total_ms. Check: all woke, none early.

const timerSeed = 0x2545F4914F6CDD1D
const timerMaxUS = 100000

func benchTimers(o opts) bool {
	dur := make([]time.Duration, o.n)
	x := uint64(timerSeed)
	for i := range dur {
		x = xorshift64(x)
		dur[i] = time.Duration(x%(timerMaxUS+1)) * time.Microsecond
	}
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		late := make([]int64, o.n)
		var wg sync.WaitGroup
		t0 := time.Now()
		wg.Add(o.n)
		for i := 0; i < o.n; i++ {
			go func(i int) {
				deadline := time.Now().Add(dur[i])
				time.Sleep(dur[i])
				late[i] = time.Since(deadline).Nanoseconds()
				wg.Done()
			}(i)
		}
		wg.Wait()
		s.span = time.Since(t0)
		sort.Slice(late, func(a, b int) bool { return late[a] < late[b] })
		s.fig[0] = float64(percentile(late, 0.50)) / 1e3
		s.fig[1] = float64(percentile(late, 0.99)) / 1e3
		s.fig[2] = float64(s.span.Nanoseconds()) / 1e6
		s.ok = late[0] >= 0
		if !s.ok {
			fmt.Fprintf(os.Stderr, "timers: woke early by %d ns\n", -late[0])
		}
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[1], "us")
	j.num("p50_us", m.fig[0])
	j.num("p99_us", m.fig[1])
	j.num("total_ms", m.fig[2])
	j.end(m.ok)
	return m.ok
}

// ================================================================ the table

type workload struct {
	name           string
	run            func(o opts) bool
	defaultN       int
	defaultWorkers int
	what           string
}

var workloads = []workload{
	{"spawn", benchSpawn, 1000000, 0, "N goroutines that only wg.Done; ns/coroutine"},
	{"yield", benchYield, 5000000, 1, "2 goroutines Gosched N times each; ns/switch"},
	{"cpu", benchCPU, 64, 0, "N jobs of 2^24 xorshift64 steps; ms, speedup"},
	{"idle", benchIdle, 1000000, 0, "N parked goroutines; bytes/coroutine, wake_ms"},
	{"timers", benchTimers, 100000, 0, "N sleeps of 0..100 ms; lateness p99 us"},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: goc-peer-go <workload|all|list> [--workers N] [--n N] [--runs R] [--stack-size B]")
	for _, w := range workloads {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", w.name, w.what)
	}
}

func parseOpts(args []string) (opts, error) {
	var o opts
	for i := 0; i < len(args); i++ {
		name, val := args[i], ""
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name, val = name[:eq], name[eq+1:]
		} else if i+1 < len(args) {
			i++
			val = args[i]
		} else {
			return o, fmt.Errorf("%s needs a value", name)
		}
		v, err := strconv.Atoi(val)
		if err != nil || v < 0 {
			return o, fmt.Errorf("bad value for %s: %q", name, val)
		}
		switch name {
		case "--workers":
			o.workers, o.workersSet = v, true
		case "--n":
			if v < 1 {
				return o, fmt.Errorf("--n must be >= 1")
			}
			o.n, o.nSet = v, true
		case "--runs":
			o.runs = v
		case "--stack-size":
			o.stackSize = v
		default:
			return o, fmt.Errorf("unknown option %s", name)
		}
	}
	return o, nil
}

func runWorkload(w workload, given opts) bool {
	o := given
	o.workload = w.name
	if !o.workersSet {
		o.workers = w.defaultWorkers
	}
	if !o.nSet {
		o.n = w.defaultN
	}
	return w.run(o)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	if os.Args[1] == "list" {
		for _, w := range workloads {
			fmt.Println(w.name)
		}
		return
	}
	o, err := parseOpts(os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "goc-peer-go:", err)
		usage()
		os.Exit(2)
	}
	ok := true
	found := false
	for _, w := range workloads {
		if os.Args[1] == "all" || os.Args[1] == w.name {
			found = true
			ok = runWorkload(w, o) && ok
		}
	}
	if !found {
		fmt.Fprintf(os.Stderr, "goc-peer-go: unknown workload %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
