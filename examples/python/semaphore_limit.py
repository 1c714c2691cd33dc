"""semaphore_limit - 10 jobs, at most 2 at a time.

Twin of examples/semaphore_limit.c. The main coroutine takes a permit of an
asyncio.Semaphore(2) before it starts each job; the job gives it back when
it ends. 10 jobs of 0.2 s take 5 rounds: about 1 s.
"""
import asyncio

from exutil import log, run

NJOBS = 10
LIMIT = 2
WORK_S = 0.2


class Pool:
    def __init__(self):
        self.sem = asyncio.Semaphore(LIMIT)
        self.running = 0
        self.most = 0


async def run_job(p, i):
    try:
        p.running += 1
        p.most = max(p.most, p.running)
        log(f"job {i} started | {p.running} running")
        await asyncio.sleep(WORK_S)
        p.running -= 1
        log(f"job {i} finished | {p.running} running")
    finally:
        p.sem.release()


async def main():
    p = Pool()
    log(f"start {NJOBS} jobs of 0.2 s, at most {LIMIT} at a time")
    tasks = []
    for i in range(NJOBS):
        await p.sem.acquire()
        tasks.append(asyncio.create_task(run_job(p, i)))
    await asyncio.gather(*tasks)
    log(f"all {NJOBS} jobs finished | at most {p.most} ran at once")
    assert p.most <= LIMIT


if __name__ == "__main__":
    run("semaphore_limit", main, "10 jobs, at most 2 at a time")
