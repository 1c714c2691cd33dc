"""exutil - what the asyncio twins of examples/*.c share.

Each twin prints the same timeline as its C program, line for line:

    [  0.000s] event text | free comment

seconds since the main coroutine started; the event text is what
examples/compare.py compares, the part after " | " may differ. The last
line is always "done". Lines that do not start with '[' are headers/notes.

--workers N is accepted so that every program takes the same command line,
but asyncio always runs on one thread with one event loop: it is the model
goc shows with --workers 1.
"""
import argparse
import asyncio
import sys
import time

_t0 = time.monotonic()


def log(msg):
    """Print one timeline line."""
    print(f"[{time.monotonic() - _t0:7.3f}s] {msg}", flush=True)


def run(name, main, what=""):
    """Parse the command line, then run main() on asyncio's event loop."""
    ap = argparse.ArgumentParser(prog=name, description=what)
    ap.add_argument("--workers", "-w", type=int, default=0,
                    help="accepted for symmetry with the C program; asyncio has one thread")
    ap.parse_args()

    async def wrapper():
        global _t0
        _t0 = time.monotonic()
        print(f"# {name} | python asyncio | 1 thread (asyncio model)", flush=True)
        await main()
        log("done")

    asyncio.run(wrapper())
    return 0


if __name__ == "__main__":
    sys.exit("exutil is a module for the examples, not a program")
