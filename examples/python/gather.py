"""gather - start several tasks, wait for all of them.

Twin of examples/gather.c: asyncio.gather with all succeeding, failing fast
(the others run on), and with return_exceptions=True.
"""
import asyncio

from exutil import log, run


class FetchError(Exception):
    pass


async def fetch_user(user, delay, fails=False):
    await asyncio.sleep(delay)
    if fails:
        log(f"fetch user {user} failed")
        raise FetchError("operation timed out")
    log(f"fetch user {user} done")
    return f"user_{user}"


async def gather_all():
    log("gather: fetch users 1, 2, 3 (0.3 s, 0.1 s, 0.2 s)")
    results = await asyncio.gather(fetch_user(1, 0.3), fetch_user(2, 0.1), fetch_user(3, 0.2))
    log("gather: results in argument order: " + " ".join(results))


async def gather_fail_fast():
    log("fail fast: fetch users 1, 2, 3; fetch 2 fails after 0.1 s")
    try:
        await asyncio.gather(fetch_user(1, 0.3), fetch_user(2, 0.1, fails=True),
                             fetch_user(3, 0.2))
    except FetchError as e:
        log(f"fail fast: gather raised the first failure | {e}")
    await asyncio.sleep(0.3)
    log("fail fast: the other two fetches finished on their own")


async def gather_settled():
    log("settled: the same, waiting for every outcome")
    outcomes = await asyncio.gather(fetch_user(1, 0.3), fetch_user(2, 0.1, fails=True),
                                    fetch_user(3, 0.2), return_exceptions=True)
    words = ["error" if isinstance(o, BaseException) else o for o in outcomes]
    log("settled: outcomes in argument order: " + " ".join(words))


async def main():
    await gather_all()
    await gather_fail_fast()
    await gather_settled()


if __name__ == "__main__":
    run("gather", main, "wait for several tasks (asyncio.gather)")
