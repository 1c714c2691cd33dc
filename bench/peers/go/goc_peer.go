// goc_peer.go - the Go peer of goc-bench (see shared BENCHMARKS.md).
//
//	goc-peer-go <workload|all|list> [--workers N] [--n N] [--runs R] [--stack-size B]
//	goc-peer-go echo-server --port P [--host H] [--workers N]
//	goc-peer-go echo-client --port P [--host H] [--workers N] [--conns C] [--msgs M] [--size B]
//
// The same workloads, sizes, checks and JSON lines as goc-bench (bench/bench_*.c),
// written the way a Go programmer would, with runtime.GOMAXPROCS set to the
// worker count (--workers 0 = runtime.NumCPU()). Timing uses time.Now()'s
// monotonic reading. A workload runs once; if that run took under 1 s it runs
// 4 more times and every figure is the median over the 5 (--runs R fixes the
// count). idle always runs once (a second run would reuse the first one's
// memory). --stack-size is accepted and ignored: goroutine stacks start at
// 2 KiB and grow, there is no knob.
//
// Every line also carries "minflt", "nvcsw" and "nivcsw": the process's minor
// page faults and voluntary / involuntary context switches (getrusage
// RUSAGE_SELF, all threads) over the timed span, per operation of the
// workload (see perOp and each workload's comment); medians like the rest.
//
// echo-client honours --workers like every workload: "goc-peer-go echo-client
// --workers 1 --port P" is the Go client, at GOMAXPROCS=1, used to drive
// goc's echo server (so that the client takes one core and the server the
// other on a 2-core machine).
//
// Build: cd bench/peers/go && go build -o ../../../build/bench/goc-peer-go .
// (http_hello.go beside it is a program of its own, kept out of this one by
// its build tag: go build -o ../../../build/bench/http-hello-go http_hello.go)
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// echo-server / echo-client only (--msgs is another name for --n):
	host  string // --host: "" for 127.0.0.1
	port  int    // --port; -1: not given
	conns int    // --conns; 0: the default (64)
	size  int    // --size: bytes per message; 0: the default (64)
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

// figCounts: fig[figCounts:] holds every workload's minflt, nvcsw, nivcsw
// per op (perOp); a workload's own figures use the indices below it.
const figCounts = 5

// rusage is the part of getrusage(RUSAGE_SELF) every line reports.
type rusage struct{ minflt, nvcsw, nivcsw int64 }

// usageNow reads it; taken right beside the clock readings that bound a
// timed span, so that both cover the same work.
func usageNow() rusage {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // cannot fail: RUSAGE_SELF, a valid buffer
	return rusage{int64(ru.Minflt), int64(ru.Nvcsw), int64(ru.Nivcsw)}
}

// perOp: minflt, nvcsw, nivcsw from u0 to u1 divided by ops, the count the
// workload's value is per (no ops: NaN or an infinity, which num prints as
// null).
func perOp(u0, u1 rusage, ops int) []float64 {
	d := func(a, b int64) float64 { return float64(b-a) / float64(ops) }
	return []float64{d(u0.minflt, u1.minflt), d(u0.nvcsw, u1.nvcsw), d(u0.nivcsw, u1.nivcsw)}
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

// xorshift64 (13, 7, 17): the same generator as goc-bench (bench/harness.h).
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

// count prints a count per operation like goc-bench: 4 significant digits
// (a fault per 10,000 goroutines is a figure, not 0).
func (j *jsonLine) count(k string, v float64) {
	j.key(k)
	if v != v || v > 1e300 || v < -1e300 {
		j.b.WriteString("null")
		return
	}
	j.b.WriteString(strconv.FormatFloat(v, 'g', 4, 64))
}

// end adds the per-op counts (perOp's three) and ok, and prints the line.
func (j *jsonLine) end(counts []float64, ok bool) {
	j.count("minflt", counts[0])
	j.count("nvcsw", counts[1])
	j.count("nivcsw", counts[2])
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
		u0, t0 := usageNow(), time.Now()
		wg.Add(o.n)
		for i := 0; i < o.n; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
		s.span = time.Since(t0)
		u1 := usageNow()
		copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per goroutine
		s.fig[0] = float64(s.span.Nanoseconds()) / float64(o.n)
		s.ok = true // wg.Wait returned: all N ran (Go panics on a negative count)
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ns/coroutine")
	j.end(m.fig[figCounts:], m.ok)
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
		u0, t0 := usageNow(), time.Now()
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
		u1 := usageNow()
		s.fig[0] = float64(s.span.Nanoseconds()) / (2 * float64(o.n))
		copy(s.fig[figCounts:], perOp(u0, u1, 2*o.n)) // per switch
		s.ok = count[0] == o.n && count[1] == o.n
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ns/switch")
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ cpu
// N (64) goroutines each run 2^24 steps of xorshift64; ms for all, and
// speedup = time at GOMAXPROCS=1 / time now. Check: every result equals the
// value computed once up front. (Go has no public P id, so no workers_seen.)
// The value is ms for all N jobs, not per op: the counts are per job (/ N),
// and those of the run at the worker count asked for (not the 1-worker one).

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
			u0, t0 := usageNow(), time.Now()
			wg.Add(o.n)
			for i := 0; i < o.n; i++ {
				go func(i int) {
					results[i] = cpuJob(cpuSeed, cpuSteps)
					wg.Done()
				}(i)
			}
			wg.Wait()
			s.span = time.Since(t0)
			u1 := usageNow()
			s.fig[0] = float64(s.span.Nanoseconds()) / 1e6
			copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per job
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
	j.end(tn.fig[figCounts:], ok)
	return ok
}

// ================================================================ idle
// N goroutines parked receiving from one chan struct{}; closing it releases
// them all (the same as goc-bench). Resident memory growth per
// goroutine (VmRSS after all are parked - before, after runtime.GC and
// debug.FreeOSMemory), "pte_bytes" from VmPTE, and "wake_ms" from releasing
// the gate until all have exited. Always one run. The counts cover the
// goroutines' whole life, from the "before" reading through parking to the
// last exit after the wake, per goroutine (so the polling and 20 ms sleeps
// of main are in them: a few dozen switches, nothing per goroutine).

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
	gate := make(chan struct{})
	var done sync.WaitGroup
	var parked int64
	done.Add(o.n)

	runtime.GC()
	debug.FreeOSMemory()
	rssBefore, pteBefore := procStatusKB("VmRSS"), procStatusKB("VmPTE")

	u0, t0 := usageNow(), time.Now()
	for i := 0; i < o.n; i++ {
		go func() {
			atomic.AddInt64(&parked, 1)
			<-gate
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
	close(gate)
	if allParked {
		done.Wait()
	}
	wake := time.Since(w0)
	u1 := usageNow()

	ok := allParked && rssBefore >= 0 && rssAfter >= 0
	j := begin(o, workers, o.n, float64(rssAfter-rssBefore)*1024/float64(o.n), "bytes/coroutine")
	j.num("wake_ms", float64(wake.Nanoseconds())/1e6)
	j.num("pte_bytes", float64(pteAfter-pteBefore)*1024/float64(o.n))
	j.str("parked_on", "channel receive")
	j.str("note", "goroutine stacks start at 2 KiB and grow; --stack-size does not apply")
	j.end(perOp(u0, u1, o.n), ok) // per parked goroutine
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
		u0, t0 := usageNow(), time.Now()
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
		u1 := usageNow()
		sort.Slice(late, func(a, b int) bool { return late[a] < late[b] })
		s.fig[0] = float64(percentile(late, 0.50)) / 1e3
		s.fig[1] = float64(percentile(late, 0.99)) / 1e3
		s.fig[2] = float64(s.span.Nanoseconds()) / 1e6
		copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per sleeper
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
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ pingpong
// 2 goroutines bounce a counter over two unbuffered channels: A sends c on
// ping and takes c+1 back on pong, N times. ns per round trip = wall / N.
// Check: the counter came back as N.

func benchPingpong(o opts) bool {
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		ping, pong := make(chan int64), make(chan int64)
		var final int64
		var wg sync.WaitGroup
		u0, t0 := usageNow(), time.Now()
		wg.Add(2)
		go func() {
			c := int64(0)
			for i := 0; i < o.n; i++ {
				ping <- c
				c = <-pong
			}
			final = c
			wg.Done()
		}()
		go func() {
			for i := 0; i < o.n; i++ {
				v := <-ping
				pong <- v + 1
			}
			wg.Done()
		}()
		wg.Wait()
		s.span = time.Since(t0)
		u1 := usageNow()
		s.fig[0] = float64(s.span.Nanoseconds()) / float64(o.n)
		copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per round trip
		s.ok = final == int64(o.n)
		if !s.ok {
			fmt.Fprintf(os.Stderr, "pingpong: counter %d, want %d\n", final, o.n)
		}
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ns/roundtrip")
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ mpmc
// One channel of capacity 128; 4 producers send the ints 0..N-1 (producer p
// the ones with i % 4 == p), 4 consumers receive until it is closed (after
// every producer is done) and sum. value = N / wall in millions of messages
// per second. Check: count == N and sum == N(N-1)/2 exactly.

const mpmcCap, mpmcProducers, mpmcConsumers = 128, 4, 4

func benchMPMC(o opts) bool {
	want := int64(o.n) * int64(o.n-1) / 2
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		ch := make(chan int64, mpmcCap)
		var sums, counts [mpmcConsumers]int64
		var prod, cons sync.WaitGroup
		u0, t0 := usageNow(), time.Now()
		prod.Add(mpmcProducers)
		cons.Add(mpmcConsumers)
		for p := 0; p < mpmcProducers; p++ {
			go func(p int) {
				for i := int64(p); i < int64(o.n); i += mpmcProducers {
					ch <- i
				}
				prod.Done()
			}(p)
		}
		for c := 0; c < mpmcConsumers; c++ {
			go func(c int) {
				var sum, count int64
				for v := range ch {
					sum += v
					count++
				}
				sums[c], counts[c] = sum, count
				cons.Done()
			}(c)
		}
		prod.Wait()
		close(ch)
		cons.Wait()
		s.span = time.Since(t0)
		u1 := usageNow()
		var sum, count int64
		for c := 0; c < mpmcConsumers; c++ {
			sum += sums[c]
			count += counts[c]
		}
		s.fig[0] = float64(o.n) / s.span.Seconds() / 1e6
		copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per message
		s.ok = sum == want && count == int64(o.n)
		if !s.ok {
			fmt.Fprintf(os.Stderr, "mpmc: count %d sum %d, want %d and %d\n", count, sum, o.n, want)
		}
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "Mmsg/s")
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ select
// 4 unbuffered channels, 4 senders (N/4 each, the first N%4 one more; sender
// k sends the ints i < N with i % 4 == k, then closes its channel), and one
// receiver in a select statement over all 4 that nils a channel once closed.
// ns per select = wall / N (the N selects that took a value; the 4 that saw
// a close are not counted). Check: N values received, each channel's count
// right, and their sum == N(N-1)/2.

const selectChans = 4

func benchSelect(o opts) bool {
	want := int64(o.n) * int64(o.n-1) / 2
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		var chans [selectChans]chan int64
		for k := range chans {
			chans[k] = make(chan int64)
		}
		u0, t0 := usageNow(), time.Now()
		for k := 0; k < selectChans; k++ {
			go func(k int) {
				for i := int64(k); i < int64(o.n); i += selectChans {
					chans[k] <- i
				}
				close(chans[k])
			}(k)
		}
		c0, c1, c2, c3 := chans[0], chans[1], chans[2], chans[3]
		var got [selectChans]int64
		var sum int64
		for open := selectChans; open > 0; {
			var v int64
			var ok bool
			var k int
			select {
			case v, ok = <-c0:
				if !ok {
					c0 = nil
				}
			case v, ok = <-c1:
				k = 1
				if !ok {
					c1 = nil
				}
			case v, ok = <-c2:
				k = 2
				if !ok {
					c2 = nil
				}
			case v, ok = <-c3:
				k = 3
				if !ok {
					c3 = nil
				}
			}
			if !ok {
				open--
				continue
			}
			got[k]++
			sum += v
		}
		s.span = time.Since(t0)
		u1 := usageNow()
		s.fig[0] = float64(s.span.Nanoseconds()) / float64(o.n)
		copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per value received
		s.ok = sum == want
		total := int64(0)
		for k := 0; k < selectChans; k++ {
			total += got[k]
			s.ok = s.ok && got[k] == int64((o.n-k+selectChans-1)/selectChans)
		}
		s.ok = s.ok && total == int64(o.n)
		if !s.ok {
			fmt.Fprintf(os.Stderr, "select: got %v (total %d) sum %d, want %d values summing to %d\n",
				got, total, sum, o.n, want)
		}
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ns/select")
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ sieve
// The concurrent prime sieve (as in the Go tour): a generator sends 2, 3,
// 4, ... on an unbuffered channel; the main goroutine takes a prime from
// the last channel of the chain and puts a new filter goroutine after it.
// ms until the K-th prime has arrived. Check: the K primes equal those of
// a plain trial division (and the 3000th is 27449). The value is ms for
// all K, not per op: the counts are per prime (/ K), that is per filter
// stage, as each prime adds one filter goroutine and one channel.
// Shutting down (outside the timing): the main goroutine sets a flag; the
// generator sees it after its next send and closes its channel, each filter
// closes its output when its input is closed, and main drains the last one.

func referencePrimes(k int) []int64 {
	ps := make([]int64, 0, k)
	for c := int64(2); len(ps) < k; c++ {
		prime := true
		for _, p := range ps {
			if p*p > c {
				break
			}
			if c%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			ps = append(ps, c)
		}
	}
	return ps
}

func sieveGenerate(out chan<- int64, stop *int32) {
	for i := int64(2); atomic.LoadInt32(stop) == 0; i++ {
		out <- i
	}
	close(out)
}

func sieveFilter(in <-chan int64, out chan<- int64, prime int64) {
	for i := range in {
		if i%prime != 0 {
			out <- i
		}
	}
	close(out)
}

func benchSieve(o opts) bool {
	ref := referencePrimes(o.n)
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		primes := make([]int64, 0, o.n)
		var stop int32
		u0, t0 := usageNow(), time.Now()
		ch := make(chan int64)
		go sieveGenerate(ch, &stop)
		for i := 0; i < o.n; i++ {
			prime := <-ch
			primes = append(primes, prime)
			ch1 := make(chan int64)
			go sieveFilter(ch, ch1, prime)
			ch = ch1
		}
		s.span = time.Since(t0)
		u1 := usageNow()
		atomic.StoreInt32(&stop, 1)
		for range ch {
		}
		s.fig[0] = float64(s.span.Nanoseconds()) / 1e6
		copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per prime
		s.ok = len(primes) == len(ref)
		for i := 0; s.ok && i < len(ref); i++ {
			s.ok = primes[i] == ref[i]
		}
		s.ok = s.ok && (o.n != 3000 || primes[2999] == 27449)
		if !s.ok {
			fmt.Fprintf(os.Stderr, "sieve: wrong primes (last %d, want %d)\n",
				primes[len(primes)-1], ref[len(ref)-1])
		}
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ms")
	j.int("last_prime", ref[len(ref)-1])
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ skynet
// The skynet tree: the root covers leaves 0..N-1; a node of size > 1 makes
// a channel of capacity 10, starts its (up to) 10 children on even shares
// of its range, sums the 10 subtotals they send on it and sends the sum on
// its parent's channel; leaf i sends i. ms for the whole tree. Check:
// sum == N(N-1)/2 (499999500000 for 1,000,000 leaves). The value is ms
// for the tree, not per op: the counts are per leaf (/ N; the tree has
// about 1.11 N goroutines in all).

const skynetFanout = 10

func skynet(out chan<- int64, num, size int64) {
	if size == 1 {
		out <- num
		return
	}
	kids := int64(skynetFanout)
	if size < kids {
		kids = size
	}
	ch := make(chan int64, skynetFanout)
	start := num
	for i := int64(0); i < kids; i++ {
		share := size / kids
		if i < size%kids {
			share++
		}
		go skynet(ch, start, share)
		start += share
	}
	sum := int64(0)
	for i := int64(0); i < kids; i++ {
		sum += <-ch
	}
	out <- sum
}

func benchSkynet(o opts) bool {
	want := int64(o.n) * int64(o.n-1) / 2
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		u0, t0 := usageNow(), time.Now()
		root := make(chan int64, 1)
		go skynet(root, 0, int64(o.n))
		sum := <-root
		s.span = time.Since(t0)
		u1 := usageNow()
		s.fig[0] = float64(s.span.Nanoseconds()) / 1e6
		copy(s.fig[figCounts:], perOp(u0, u1, o.n)) // per leaf
		s.ok = sum == want
		if !s.ok {
			fmt.Fprintf(os.Stderr, "skynet: sum %d, want %d\n", sum, want)
		}
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "ms")
	j.int("fanout", skynetFanout)
	j.str("node_chan", "buffered, capacity 10")
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ echo
// TCP echo, the twin of goc-bench's echo-server and echo-client:
//
//	goc-peer-go echo-server --port P [--host H] [--workers N]
//	goc-peer-go echo-client --port P [--host H] [--workers N] [--conns 64] [--msgs 20000] [--size 64]
//
// The server is what a Go programmer writes: net.Listen, one goroutine per
// connection reading up to 16 KiB and writing back what it read, until the
// peer closes (a plain Read/Write loop, as goc's; io.Copy would be the same
// loop with a 32 KiB buffer). It says where it listens on stderr and
// serves until killed. The client opens every connection first, then each
// goroutine sends its messages one at a time, waiting for the whole echo
// (io.ReadFull) before the next; round trips/s over the span from releasing
// the connections to the last echo. Check: every echo equals the message,
// a pattern seeded by connection and sequence number (as goc-bench's).
// The counts are the client process's, per round trip echoed.

const (
	echoConns     = 64
	echoMsgSize   = 64
	echoServerBuf = 16384
	echoTimeout   = 10 * time.Second
)

func echoHost(o opts) string {
	if o.host == "" {
		return "127.0.0.1"
	}
	return o.host
}

func echoServeConn(c net.Conn) {
	defer c.Close()
	buf := make([]byte, echoServerBuf)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF: the peer is done
		}
	}
}

func benchEchoServer(o opts) bool {
	if o.port < 0 {
		fmt.Fprintln(os.Stderr, "goc-peer-go echo-server: needs --port P (0: pick a free one)")
		return false
	}
	workers := setWorkers(o.workers)
	l, err := net.Listen("tcp", net.JoinHostPort(echoHost(o), strconv.Itoa(o.port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "goc-peer-go echo-server:", err)
		return false
	}
	fmt.Fprintf(os.Stderr, "goc-peer-go echo-server: listening on %s, %d workers\n", l.Addr(), workers)
	for {
		c, err := l.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			fmt.Fprintln(os.Stderr, "goc-peer-go echo-server:", err)
			return false
		}
		go echoServeConn(c)
	}
}

// echoFill writes message seq of connection id: goc-bench's pattern.
func echoFill(buf []byte, id, seq int) {
	x := ((uint64(id)<<32)^uint64(seq))*cpuSeed | 1
	for i := range buf {
		x = xorshift64(x)
		buf[i] = byte(x >> 24)
	}
}

// echoConn runs one connection's round trips; it returns how many echoed right.
func echoConn(c net.Conn, id, msgs, size int) (int, error) {
	out, in := make([]byte, size), make([]byte, size)
	for seq := 0; seq < msgs; seq++ {
		echoFill(out, id, seq)
		c.SetDeadline(time.Now().Add(echoTimeout))
		if _, err := c.Write(out); err != nil {
			return seq, err
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return seq, err
		}
		if !bytes.Equal(in, out) {
			return seq, errors.New("an echo differed from the message sent")
		}
	}
	return msgs, nil
}

func benchEchoClient(o opts) bool {
	if o.port <= 0 {
		fmt.Fprintln(os.Stderr, "goc-peer-go echo-client: needs --port P (where echo-server listens)")
		return false
	}
	conns, size := o.conns, o.size
	if conns <= 0 {
		conns = echoConns
	}
	if size <= 0 {
		size = echoMsgSize
	}
	addr := net.JoinHostPort(echoHost(o), strconv.Itoa(o.port))
	m := runMedian(o, func() sample {
		s := sample{workers: setWorkers(o.workers)}
		cs := make([]net.Conn, conns)
		var failed int
		var firstErr error
		for i := range cs {
			c, err := net.DialTimeout("tcp", addr, echoTimeout)
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			cs[i] = c
		}
		echoed := make([]int, conns)
		errs := make([]error, conns)
		var wg sync.WaitGroup
		u0, t0 := usageNow(), time.Now()
		for i, c := range cs {
			if c == nil {
				continue
			}
			wg.Add(1)
			go func(i int, c net.Conn) {
				defer wg.Done()
				echoed[i], errs[i] = echoConn(c, i, o.n, size)
				c.Close()
			}(i, c)
		}
		wg.Wait()
		s.span = time.Since(t0)
		u1 := usageNow()
		total := 0
		for i := range cs {
			total += echoed[i]
			if errs[i] != nil {
				failed++
				if firstErr == nil {
					firstErr = errs[i]
				}
			}
		}
		secs := s.span.Seconds()
		s.fig[0] = float64(total) / secs
		s.fig[1] = secs
		copy(s.fig[figCounts:], perOp(u0, u1, total)) // per round trip
		s.ok = failed == 0 && total == conns*o.n
		if failed > 0 {
			fmt.Fprintf(os.Stderr, "echo-client: %d of %d connections to %s failed, the first: %v\n",
				failed, conns, addr, firstErr)
		}
		if !s.ok {
			fmt.Fprintf(os.Stderr, "echo-client: %d of %d round trips echoed correctly\n", total, conns*o.n)
		}
		return s
	})
	j := begin(o, m.workers, o.n, m.fig[0], "roundtrips/s")
	j.int("conns", int64(conns))
	j.int("msg_size", int64(size))
	j.int("round_trips", int64(conns*o.n))
	j.num("secs", m.fig[1])
	j.end(m.fig[figCounts:], m.ok)
	return m.ok
}

// ================================================================ the table

type workload struct {
	name           string
	run            func(o opts) bool
	defaultN       int
	defaultWorkers int
	what           string
	byNameOnly     bool // not part of "all"
}

var workloads = []workload{
	{"spawn", benchSpawn, 1000000, 0, "N goroutines that only wg.Done; ns/coroutine", false},
	{"yield", benchYield, 5000000, 1, "2 goroutines Gosched N times each; ns/switch", false},
	{"cpu", benchCPU, 64, 0, "N jobs of 2^24 xorshift64 steps; ms, speedup", false},
	{"idle", benchIdle, 1000000, 0, "N parked goroutines; bytes/coroutine, wake_ms", false},
	{"timers", benchTimers, 100000, 0, "N sleeps of 0..100 ms; lateness p99 us", false},
	{"pingpong", benchPingpong, 1000000, 0, "counter over two unbuffered channels; ns/roundtrip", false},
	{"mpmc", benchMPMC, 4000000, 0, "4 producers, 4 consumers, cap 128; M msgs/s", false},
	{"select", benchSelect, 1000000, 0, "4 senders, 1 receiver selecting; ns/select", false},
	{"sieve", benchSieve, 3000, 0, "concurrent prime sieve, first K primes; ms", false},
	{"skynet", benchSkynet, 1000000, 0, "skynet tree, fan-out 10; ms", false},
	// TCP echo: a server and a client, run side by side (not in "all"):
	{"echo-server", benchEchoServer, 0, 0, "TCP echo server on --port, until killed", true},
	{"echo-client", benchEchoClient, 20000, 0, "--conns 64 x --msgs 20000 echoes; round trips/s", true},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: goc-peer-go <workload|all|list> [--workers N] [--n N] [--runs R] [--stack-size B]")
	fmt.Fprintln(os.Stderr, "       goc-peer-go echo-server --port P [--host H] [--workers N]")
	fmt.Fprintln(os.Stderr, "       goc-peer-go echo-client --port P [--host H] [--workers N] [--conns C] [--msgs M] [--size B]")
	fmt.Fprintln(os.Stderr, "workloads ('all' runs those without *):")
	for _, w := range workloads {
		star := " "
		if w.byNameOnly {
			star = "*"
		}
		fmt.Fprintf(os.Stderr, "  %-12s%s %s\n", w.name, star, w.what)
	}
}

func parseOpts(args []string) (opts, error) {
	o := opts{port: -1}
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
		if name == "--host" && val != "" {
			o.host = val
			continue
		}
		v, err := strconv.Atoi(val)
		if err != nil || v < 0 {
			return o, fmt.Errorf("bad value for %s: %q", name, val)
		}
		switch name {
		case "--workers":
			o.workers, o.workersSet = v, true
		case "--n", "--msgs":
			if v < 1 {
				return o, fmt.Errorf("--n must be >= 1")
			}
			o.n, o.nSet = v, true
		case "--runs":
			o.runs = v
		case "--stack-size":
			o.stackSize = v
		case "--port":
			if v > 65535 {
				return o, fmt.Errorf("bad port %d", v)
			}
			o.port = v
		case "--conns":
			if v < 1 {
				return o, fmt.Errorf("--conns must be >= 1")
			}
			o.conns = v
		case "--size":
			if v < 1 || v > 65536 { // a message must fit in the socket buffers (bench/harness.h)
				return o, fmt.Errorf("bad --size %d", v)
			}
			o.size = v
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
		if (os.Args[1] == "all" && !w.byNameOnly) || os.Args[1] == w.name {
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
