/*
 * solo.pml - a Promela model of solo mode's gate (sched/solo.h), for spin.
 *
 * What it checks: the solo worker and a plain thread each do ROUNDS
 * operations on one channel, here reduced to a counter. The worker opens
 * a section (store depth = 1, load inside, no fence), then either updates
 * the counter with plain stores (inside was 0) or closes the section and
 * takes the channel lock (a locked instruction). The plain thread
 * announces itself (inside++, a locked RMW), runs membarrier, waits for
 * depth == 0, then takes the lock. The worker's stores go through an
 * x86-TSO store buffer: a FIFO that a separate process drains at any
 * moment, that the worker's own loads read through (forwarding), and
 * that a locked instruction or membarrier drains at once. Memory is
 * otherwise sequentially consistent. Checked, in every interleaving:
 *   - the worker's solo section and the plain thread's critical section
 *     never overlap, nor do two lock holders (ghosts wcs, pcs);
 *   - no update is lost: once both are done and the buffer is empty the
 *     counter is 2 * ROUNDS (a solo update made while the plain thread
 *     was inside would be overwritten, or would overwrite its update).
 *
 * Correspondence to the code:
 *   worker "section"   sched/solo.h goc__shared_begin_on (depth store,
 *                      signal fence, acquire load of inside) and
 *                      goc__shared_end (release store of depth);
 *                      chan/chan.h chan_lock / chan_unlock in
 *                      GOC_SHARED_SOLO mode (no CAS)
 *   plain "enter"      sched/solo.c goc__plain_enter (fetch_add, then
 *                      goc__barrier_everywhere, then wait for depth 0)
 *   lock               chan/chan.h chan_lock's CAS (GOC_SHARED_LOCKED and
 *                      GOC_SHARED_PLAIN)
 *
 * The plain thread may also leave its announcement counted for its next
 * call (linger, sched/solo.c), which takes it over without a membarrier,
 * and a monitor drops a kept one at any moment.
 *
 * Mutants (spin -DMUTANT_...), each of which must make spin report an
 * error (tests/model/run.sh checks that they do):
 *   MUTANT_NO_MEMBARRIER the plain thread does not run membarrier: the
 *                        worker's depth = 1 may sit in its store buffer
 *                        while the plain thread reads depth == 0
 *   MUTANT_NO_WAIT       the plain thread does not wait for depth == 0
 *   MUTANT_NO_CHECK      the worker ignores inside (the unsafe
 *                        one-worker fast path)
 *   MUTANT_STALE_TAKEOVER the take-over reads linger and clears it in
 *                        two steps: the monitor can drop the count in
 *                        between, and the plain thread goes on uncounted
 */

#ifndef ROUNDS
#define ROUNDS 2
#endif

#define DEPTH 0
#define CNT   1
#define LOCK  2
#define NBUF  4

byte mem[3];                /* depth, counter, lock */
byte inside;                /* plain threads announced */
bit linger;                 /* an announcement kept for the next plain call */
byte bvar[NBUF], bval[NBUF];/* the worker's store buffer, oldest first */
byte nbuf;
bit wcs, pcs;               /* ghosts: in a critical section */
bit wdone, pdone;

/* k: a scratch byte of the caller's */
inline drain_one(k) {
    mem[bvar[0]] = bval[0];
    k = 0;
    do
    :: k + 1 < nbuf -> bvar[k] = bvar[k + 1]; bval[k] = bval[k + 1]; k++
    :: else -> break
    od;
    nbuf--
}

inline drain_all(k) {
    do
    :: nbuf > 0 -> drain_one(k)
    :: else -> break
    od
}

/* A full buffer stalls the store until the flusher drains one. */
inline wstore(v, x) {
    atomic { nbuf < NBUF -> bvar[nbuf] = v; bval[nbuf] = x; nbuf++ }
}

/* The worker's load: its latest buffered store to v, else memory. */
inline wload(v, out, j) {
    atomic {
        out = mem[v];
        j = 0;
        do
        :: j < nbuf -> if :: bvar[j] == v -> out = bval[j] :: else -> skip fi; j++
        :: else -> break
        od
    }
}

active proctype Flusher()
{
    byte k;
end:
    do
    :: atomic { nbuf > 0 -> drain_one(k) }
    od
}

active proctype Worker()
{
    byte r = 0, tmp, seen, k;
    do
    :: r < ROUNDS ->
        wstore(DEPTH, 1);
        seen = inside;              /* a plain load: may pass the buffered store */
#ifdef MUTANT_NO_CHECK
        seen = 0;
#endif
        if
        :: seen == 0 ->
            wcs = 1;
            assert(!pcs);
            wload(CNT, tmp, k);
            wstore(CNT, tmp + 1);
            wcs = 0;
            wstore(DEPTH, 0)        /* release: after the counter, in FIFO order */
        :: else ->
            wstore(DEPTH, 0);
            atomic { drain_all(k); mem[LOCK] == 0 -> mem[LOCK] = 1 };  /* lock cmpxchg */
            wcs = 1;
            assert(!pcs);
            wload(CNT, tmp, k);
            wstore(CNT, tmp + 1);
            wcs = 0;
            wstore(LOCK, 0)         /* release store */
        fi;
        r++
    :: else -> break
    od;
    wdone = 1
}

active proctype Plain()
{
    byte r = 0, tmp, k;
    bit took;
    do
    :: r < ROUNDS ->
        /* take over a kept announcement (CAS linger 1 -> 0), or announce */
#ifdef MUTANT_STALE_TAKEOVER
        took = linger;              /* a load, then a store: not one CAS */
        if :: took -> linger = 0 :: else -> skip fi;
#else
        atomic { took = linger; linger = 0 };
#endif
        if
        :: took -> skip
        :: else ->
            atomic { inside++ };    /* fetch_add, seq_cst */
#ifndef MUTANT_NO_MEMBARRIER
            atomic { drain_all(k) };/* membarrier: the worker runs a full barrier */
#endif
#ifndef MUTANT_NO_WAIT
            mem[DEPTH] == 0;
#endif
            skip
        fi;
        atomic { mem[LOCK] == 0 -> mem[LOCK] = 1 };
        pcs = 1;
        assert(!wcs);
        tmp = mem[CNT];
        mem[CNT] = tmp + 1;
        pcs = 0;
        mem[LOCK] = 0;
        /* leave: keep the announcement (CAS linger 0 -> 1) or drop it */
        if
        :: atomic { linger == 0 -> linger = 1 }
        :: atomic { inside-- }
        fi;
        r++
    :: else -> break
    od;
    pdone = 1
}

/* The monitor: drops a kept announcement at any moment (CAS linger
 * 1 -> 0, then inside--). */
active proctype Monitor()
{
end:
    do
    :: atomic { linger == 1 -> linger = 0; inside-- }
    od
}

active proctype Observer()
{
    atomic { wdone && pdone && nbuf == 0 -> assert(mem[CNT] == 2 * ROUNDS) }
    /* (a kept announcement may still be counted: the monitor drops it) */
}
