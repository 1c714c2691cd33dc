"""taskgroup_cancel - a task group: one task fails, the others are cancelled.

Twin of examples/taskgroup_cancel.c (asyncio.TaskGroup, Python 3.11+).
"""
import asyncio

from exutil import log, run


class BadInput(Exception):
    pass


async def member(name, seconds, fails=False):
    log(f"task {name}: started")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        log(f"task {name}: cancelled, cleaning up")
        raise
    if fails:
        log(f"task {name}: fails")
        raise BadInput("invalid argument")
    log(f"task {name}: done")


async def run_group(label, steps):
    log(f"{label}: start tasks A, B, C in a group")
    try:
        async with asyncio.TaskGroup() as tg:
            for name, seconds, fails in steps:
                tg.create_task(member(name, seconds, fails))
    except* BadInput as eg:
        log(f"{label}: group failed | first error: {eg.exceptions[0]}")
    else:
        log(f"{label}: group done, every task succeeded")


async def main():
    await run_group("failing", [("A", 1.0, False), ("B", 0.2, True), ("C", 0.5, False)])
    await run_group("all ok", [("A", 0.3, False), ("B", 0.1, False), ("C", 0.2, False)])


if __name__ == "__main__":
    run("taskgroup_cancel", main, "one task fails, the group cancels the rest")
