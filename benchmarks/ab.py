#!/usr/bin/env python3
"""Compare two pkgindex source trees on cold runs, alternating them on fresh copies of one
corpus, so that both see the same machine: on a shared VM the speed drifts by 10% and more
within the hour, and two benchmark runs minutes apart cannot tell a change of that size.

    python -m benchmarks.ab OLD/src NEW/src                    # 10,000 wheels, 10 rounds
    python -m benchmarks.ab OLD/src NEW/src --rounds 4 --workdir /dev/shm/ab

Each round runs ``pkgindex generate --json`` once with each tree (the first tree first in even
rounds, the second in odd ones) and deletes the copy after it; use tmpfs (``--workdir
/dev/shm/…``): on ext4 mounted with ``discard`` the deletions slow the next file creations
(docs/benchmarks.md). Prints the mean and median wall time and the mean of each step.
Not a test: it checks nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.generate import CONSOLE_SCRIPT, compile_bytecode, link_tree


def cold_run(source: Path, corpus: Path, copy: Path) -> tuple[float, dict[str, float]]:
    link_tree(corpus, copy)
    env = {**os.environ, "PYTHONPATH": str(source)}
    env["PKGINDEX_CACHE_DIR"] = str(copy.parent / "cache")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, "generate", "--json", str(copy)],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    shutil.rmtree(copy)
    if done.returncode != 0:
        raise SystemExit(f"ab: {source}: generate failed:\n{done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)["timings"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two src folders to compare")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temp folder)")
    args = parser.parse_args(argv)
    from benchmarks.corpus import write_corpus

    for tree in args.trees:
        compile_bytecode(tree)
    with tempfile.TemporaryDirectory(prefix="pkgindex-ab-", dir=args.workdir) as scratch:
        corpus = Path(scratch) / "corpus"
        write_corpus(corpus, projects=args.projects, versions=args.versions)
        walls: dict[Path, list[float]] = {tree: [] for tree in args.trees}
        steps: dict[Path, list[dict[str, float]]] = {tree: [] for tree in args.trees}
        for number in range(args.rounds):
            order = args.trees if number % 2 == 0 else args.trees[::-1]
            for tree in order:
                seconds, timings = cold_run(tree, corpus, Path(scratch) / "copy")
                walls[tree].append(seconds)
                steps[tree].append(timings)
        for tree in args.trees:
            names = sorted({name for timings in steps[tree] for name in timings})
            means = {n: statistics.mean(t.get(n, 0.0) for t in steps[tree]) for n in names}
            print(
                f"{tree}: cold mean {statistics.mean(walls[tree]):.3f} s, median "
                f"{statistics.median(walls[tree]):.3f} s; steps "
                + ", ".join(f"{name} {seconds:.3f}" for name, seconds in means.items())
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
