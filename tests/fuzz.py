"""The long fuzz run: ``python -m tests.fuzz [--examples N] [--target NAME ...]``.

Runs every target of tests/fuzzing.py (filenames, METADATA bytes, mutated wheels and sdists,
catalog pages) for N cases each, with fresh random input every run, and prints how many cases
ran. Only pkgindex's own errors may come out; anything else stops the run with the smallest
failing input hypothesis finds. The test suite runs the same targets for a few hundred cases.
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.fuzzing import TARGETS, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--examples", type=int, default=20_000, help="cases per target")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="repeatable")
    args = parser.parse_args(argv)
    total = 0
    for name in args.target or sorted(TARGETS):
        started = time.monotonic()
        cases = run(TARGETS[name], args.examples, derandomize=False)
        total += cases
        print(f"{name}: {cases} cases in {time.monotonic() - started:.1f} s, no crash", flush=True)
    print(f"total: {total} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
