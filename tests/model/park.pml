/*
 * park.pml - a Promela model of the park/claim/cancel protocol, for spin.
 *
 * What it checks: one coroutine parks (ROUNDS times) the way every blocking
 * call does (sched/runtime.h, "Parking"): park_begin, register on a
 * channel's wait queue under the channel lock, arm a timeout, then park or
 * (if the condition turned true meanwhile) park_abort, and after waking
 * take its registrations off again. Four wakers race for it, each acting
 * at most once, at any moment, or never: a sender handing over one value
 * (goc_chan_trysend), a closer (goc_chan_close), the timer (timers_run
 * firing the timeout) and a canceller (goc_cancel). A worker makes the
 * coroutine run again when it is runnable. Checked, in every interleaving:
 *   - exactly one wake reason wins each park (the ghost `winner` is set
 *     once, with the winning CAS; park_abort's own CAS counts as a win);
 *   - the coroutine is made runnable at most once per park, and exactly
 *     once if anything won it (runq <= 1; 0 again before each park and at
 *     the end), and a worker never resumes it while on_cpu is 1 (its
 *     registers not yet saved) nor after it exited;
 *   - the reason park returns matches its waiter: WOKEN iff a claimer
 *     fired the waiter (value or close), TIMEDOUT iff the timer won,
 *     CANCELED iff the canceller won, never WAITING;
 *   - a value is never lost nor duplicated: it is either still the
 *     sender's (its claim failed) or received once, and a coroutine woken
 *     by anything else got no value;
 *   - a pending cancel is never missed: park_begin never succeeds after
 *     the cancel bit was set, so the sticky bit fails every later park;
 *   - no lost wake-up: when the system is quiescent (Observer's timeout),
 *     the coroutine has finished, or it is parked, still WAITING, while
 *     nothing that could wake it happened (no close, no cancel, no timer
 *     pending).
 *
 * Correspondence to the code (names of this file -> C functions):
 *   Co, steps "select"        chan/chan.c select_run / park_on_all: lock the
 *                             channel, closed? else park_begin, enqueue_all
 *                             (sg_queued), unlock_all
 *   arm_timer / remove_timer  sched/timer.c goc__park_until: goc__timer_add
 *                             before parking; goc__timer_remove after,
 *                             unless the reason is TIMEDOUT
 *   park_begin                sched/park.c goc__park_begin (relaxed load,
 *                             CANCEL? then CAS cur -> WAITING)
 *   park                      sched/park.c goc__park: goc__switch_away saves
 *                             the registers (saved), the worker's run_co /
 *                             after_resume stores on_cpu = 0 (release); on
 *                             resume, load wstate (acquire), not WAITING
 *   park_abort                sched/park.c goc__park_abort (CAS WAITING ->
 *                             RUNNING, else park once); the users that abort
 *                             are chan/wg.c goc_wg_wait, asyncio/task.c
 *                             multi-wait and goc_join; the model lets the
 *                             channel waiter abort too (a superset)
 *   unregister                chan/chan.c park_on_all's pass 3: under the
 *                             lock, fired? else goc__waitq_remove
 *   claim                     sched/park.c goc__claim: CAS WAITING -> reason
 *                             (exactly WAITING: a set CANCEL bit fails it)
 *   ready                     sched/runq.c goc__ready (enqueue_local or
 *                             _global: one abstract run queue, runq)
 *   Sender                    chan/chan.c chan_op(SEND, block=0) /
 *                             try_send_locked: goc__waitq_claim pops the
 *                             waiter and claims it WOKEN; copy, fired; ready
 *                             after unlock; a failed claim keeps the value
 *   Closer                    chan/chan.c goc_chan_close: closed = 1, claim
 *                             every waiter WOKEN, fired + closed; ready
 *                             after unlock
 *   Timer                     sched/timer.c goc__timers_run under the heap
 *                             lock: heap_delete, fire = wake_timed_out =
 *                             goc__wake(co, TIMEDOUT)
 *   Canceller                 sched/park.c goc__cancel_co: life ALIVE?,
 *                             fetch_or CANCEL, and only if it found plain
 *                             WAITING, CAS WAITING|CANCEL -> CANCELED|CANCEL
 *                             and ready
 *   Worker                    sched/sched.c run_co / claim / wait_off_cpu:
 *                             take a runnable coroutine, wait until on_cpu
 *                             is 0, set it to 1, switch to it
 *   Co's exit                 sched/sched.c on_exit_of: on_cpu = 0, life
 *                             DEAD (alive = 0)
 * Not modelled: the HELD state (goc__hold_begin, thread-pool work), memory
 * orders beyond sequential consistency (the C code's acquire/release pairs
 * are what makes that abstraction sound), several coroutines per queue.
 *
 * Mutants (spin -DMUTANT_...), each of which must make spin report an
 * error, so that a passing run is not vacuous (tests/model/run.sh):
 *   MUTANT_PLAIN_STORE   the sender claims with a load and a plain store
 *                        instead of the CAS
 *   MUTANT_NO_STICKY     goc__cancel_co forgets the sticky CANCEL bit (a
 *                        plain CAS WAITING -> CANCELED, nothing if not
 *                        waiting)
 *   MUTANT_NO_ONCPU_WAIT the worker resumes without waiting for on_cpu 0
 *   MUTANT_ABORT_RUNS_ON park_abort returns at once when its CAS fails,
 *                        instead of parking to absorb the waker's ready
 *
 * Run: spin -a park.pml && cc -DSAFETY -o pan pan.c && ./pan -m200000 -w20
 * (about 300,000 states, a fraction of a second; spin -t -p park.pml
 * replays a trail). tests/model/run.sh does it, and the mutants.
 */

#ifndef ROUNDS
#define ROUNDS 2
#endif

/* wstate: the park state in the low bits, CANCEL sticky (runtime.h) */
#define RUNNING   0
#define WAITING   1
#define WOKEN     2
#define TIMEDOUT  3
#define CANCELED  4
#define MASK      7
#define CANCEL    8

/* who won a park (ghost) */
#define W_NONE    0
#define W_SELF    1   /* park_abort's own CAS */
#define W_VALUE   2
#define W_CLOSE   3
#define W_TIMER   4
#define W_CANCEL  5

/* what a round of Co returned */
#define R_VALUE     1
#define R_CLOSED    2
#define R_TIMEDOUT  3
#define R_CANCELED  4
#define R_ABORTED   5

byte wstate = RUNNING;   /* goc_co.wstate */
bit on_cpu = 1;          /* goc_co.on_cpu: Co starts running on a worker */
bit alive = 1;           /* goc_co.life == GOC_LIFE_ALIVE */
byte runq = 0;           /* times made runnable and not yet resumed */
bit saved = 0;           /* ghost: its registers are saved (switched out) */
bit resumed = 0;         /* a worker switched to it */
byte winner = W_NONE;    /* ghost: who won the current park */

bit ch_lock = 0;         /* the channel's LOCKED bit */
bit ch_closed = 0;
bit sg_queued = 0;       /* Co's sudog on recvq (goc_waiter.queued) */
bit sg_fired = 0;
bit sg_closed = 0;
byte elem = 0;           /* where the received value goes */

bit heap_lock = 0;       /* the worker's timer heap lock */
bit t_queued = 0;        /* the timeout timer is in the heap */

byte has_value = 1;      /* the sender still holds its one value */
byte got = 0;            /* values Co received, all rounds */
bit cancel_issued = 0;   /* ghost: the canceller set (or tried) the bit */
bit co_done = 0;

inline lock(l) { atomic { l == 0 -> l = 1 } }
inline unlock(l) { l = 0 }

/* goc__ready: at most one pending per park */
inline ready() {
    atomic { runq++; assert(runq == 1) }
}

/* goc__claim: CAS exactly WAITING -> reason */
inline claim(reason, who, ok) {
    atomic {
        if
        :: wstate == WAITING ->
            wstate = reason; ok = 1;
            assert(winner == W_NONE); winner = who
        :: else -> ok = 0
        fi
    }
}

/* ------------------------------------------------------------ the coroutine */

proctype Co() {
    byte round = 0, cur, reason, result;
    bit ok;

next_round:
    if
    :: round == ROUNDS -> goto exit
    :: else -> round++
    fi;
    elem = 0;

    /* select_run: lock, poll (only close can make a recv ready here: the
     * sender never parks), else park on the channel */
    lock(ch_lock);
    if
    :: ch_closed -> unlock(ch_lock); result = R_CLOSED; goto round_done
    :: else -> skip
    fi;

    /* park_begin */
    assert(runq == 0);               /* no stale wake-up pending */
    cur = wstate;                    /* relaxed load */
    if
    :: (cur & CANCEL) != 0 -> unlock(ch_lock); result = R_CANCELED; goto round_done
    :: else -> skip
    fi;
    atomic {
        if
        :: wstate == cur ->
            wstate = WAITING; ok = 1; winner = W_NONE;
            assert(!cancel_issued)   /* a pending cancel is never missed */
        :: else -> ok = 0            /* only a cancel changes it under us */
        fi
    }
    if
    :: !ok -> unlock(ch_lock); result = R_CANCELED; goto round_done
    :: else -> skip
    fi;

    /* enqueue_all, unlock_all */
    sg_fired = 0; sg_closed = 0; sg_queued = 1;
    unlock(ch_lock);

    /* goc__park_until: arm the timeout, or wait forever */
    if
    :: true -> lock(heap_lock); t_queued = 1; unlock(heap_lock)
    :: true -> skip
    fi;

    if
    :: true -> goto park              /* goc__park */
    :: true ->                        /* goc__park_abort */
        atomic {
            if
            :: wstate == WAITING ->
                wstate = RUNNING; ok = 1;
                assert(winner == W_NONE); winner = W_SELF
            :: else -> ok = 0
            fi
        }
        if
        :: ok -> reason = RUNNING; goto unregister
        :: else -> skip               /* a waker won: let its wake-up complete */
        fi;
#ifdef MUTANT_ABORT_RUNS_ON
        reason = wstate & MASK; goto unregister;
#endif
        goto park
    fi;

park:
    saved = 1;                        /* goc__switch_away saved the registers */
    on_cpu = 0;                       /* the worker, after the switch (release) */
end_parked:
    resumed == 1;
    atomic {
        resumed = 0;
        assert(on_cpu == 1 && !saved);
        reason = wstate & MASK;       /* acquire */
        assert(reason != WAITING)     /* only a claim resumes us */
    }

unregister:
    /* goc__park_until: the timer is gone unless it fired */
    if
    :: reason != TIMEDOUT -> lock(heap_lock); t_queued = 0; unlock(heap_lock)
    :: else -> assert(!t_queued)
    fi;

    /* park_on_all, pass 3 */
    lock(ch_lock);
    if
    :: sg_fired -> assert(!sg_queued)
    :: else -> sg_queued = 0          /* goc__waitq_remove */
    fi;
    assert((reason == WOKEN) == sg_fired);
    if
    :: reason == WOKEN && sg_closed -> result = R_CLOSED; assert(winner == W_CLOSE)
    :: reason == WOKEN && !sg_closed -> result = R_VALUE; assert(winner == W_VALUE)
    :: reason == TIMEDOUT -> result = R_TIMEDOUT; assert(winner == W_TIMER)
    :: reason == CANCELED -> result = R_CANCELED; assert(winner == W_CANCEL)
    :: reason == RUNNING -> result = R_ABORTED; assert(winner == W_SELF)
    :: else -> assert(false)
    fi;
    unlock(ch_lock);

round_done:
    /* a value moved to us only in a round that returned it */
    assert((result == R_VALUE) == (elem == 1));
    got = got + elem;
    assert(got + has_value == 1);
    goto next_round;

exit:
    atomic { assert(runq == 0); alive = 0; on_cpu = 0; co_done = 1 }
}

/* ---------------------------------------------------------------- wakers */

proctype Sender() {
    bit ok = 0;
    if
    :: true -> skip                   /* never sends */
    :: true ->
        lock(ch_lock);
        if
        :: ch_closed -> skip          /* GOC_ECLOSED: the value stays */
        :: !ch_closed && sg_queued ->
            sg_queued = 0;            /* goc__waitq_pop */
#ifdef MUTANT_PLAIN_STORE
            if
            :: (wstate & MASK) == WAITING ->
                atomic { wstate = WOKEN; ok = 1; assert(winner == W_NONE); winner = W_VALUE }
            :: else -> ok = 0
            fi;
#else
            claim(WOKEN, W_VALUE, ok);
#endif
            if
            :: ok -> atomic { elem = 1; has_value = 0 }; sg_fired = 1
            :: else -> skip           /* lost the claim: dropped, value stays */
            fi
        :: !ch_closed && !sg_queued -> skip   /* GOC_EAGAIN */
        fi;
        unlock(ch_lock);
        if
        :: ok -> ready()
        :: else -> skip
        fi
    fi
}

proctype Closer() {
    bit ok = 0;
    if
    :: true -> skip
    :: true ->
        lock(ch_lock);
        if
        :: ch_closed -> skip
        :: else ->
            ch_closed = 1;
            if
            :: sg_queued ->
                sg_queued = 0;
                claim(WOKEN, W_CLOSE, ok);
                if
                :: ok -> sg_fired = 1; sg_closed = 1
                :: else -> skip
                fi
            :: else -> skip
            fi
        fi;
        unlock(ch_lock);
        if
        :: ok -> ready()
        :: else -> skip
        fi
    fi
}

proctype Timer() {
    bit ok;
end_idle:
    do
    :: atomic { heap_lock == 0 && t_queued -> heap_lock = 1 };
        t_queued = 0;                 /* heap_delete */
        claim(TIMEDOUT, W_TIMER, ok); /* wake_timed_out */
        if
        :: ok -> ready()
        :: else -> skip
        fi;
        unlock(heap_lock)
    od
}

proctype Canceller() {
    byte old;
    bit ok = 0;
    if
    :: true -> skip
    :: true ->
        if
        :: alive -> skip
        :: else -> goto done          /* not ALIVE: nothing to cancel */
        fi;
#ifdef MUTANT_NO_STICKY
        atomic { old = wstate; cancel_issued = 1 };
        atomic {
            if
            :: wstate == WAITING ->
                wstate = CANCELED; ok = 1;
                assert(winner == W_NONE); winner = W_CANCEL
            :: else -> ok = 0
            fi
        }
#else
        atomic { old = wstate; wstate = wstate | CANCEL; cancel_issued = 1 };
        if
        :: (old & MASK) != WAITING || (old & CANCEL) != 0 -> skip
        :: else ->
            /* wakers CAS from plain WAITING: only we can finish this one */
            atomic {
                if
                :: wstate == (WAITING | CANCEL) ->
                    wstate = CANCELED | CANCEL; ok = 1;
                    assert(winner == W_NONE); winner = W_CANCEL
                :: else -> ok = 0
                fi
            }
        fi;
#endif
        if
        :: ok -> ready()
        :: else -> skip
        fi
    fi;
done:
    skip
}

/* --------------------------------------------------------------- workers */

proctype Worker() {
end_idle:
    do
    :: atomic { runq > 0 -> runq-- };
#ifndef MUTANT_NO_ONCPU_WAIT
        on_cpu == 0;                  /* wait_off_cpu (acquire) */
#endif
        atomic {
            assert(alive && saved && !resumed);  /* switched out, not exited */
            on_cpu = 1; saved = 0; resumed = 1
        }
    od
}

/* At quiescence: nothing pending, values accounted for, and Co either
 * finished or parked with nothing left that could wake it: still WAITING
 * (a claim that won and forgot to ready would have left its reason), no
 * cancel, no close, no timer pending. A sender may have come before Co
 * registered (its value stays with it) or in an earlier round. */
proctype Observer() {
    timeout ->
    assert(runq == 0);
    assert(got + has_value == 1);
    assert(co_done || (wstate == WAITING && !cancel_issued && !ch_closed && !t_queued))
}

init {
    atomic {
        run Co(); run Worker(); run Sender(); run Closer();
        run Timer(); run Canceller(); run Observer()
    }
}
