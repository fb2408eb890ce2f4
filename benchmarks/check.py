"""How fast `pkgindex check` re-hashes an index, against `sha256sum` and a one-thread hashlib loop.

Builds a temporary index of a few big wheels (random payload) and many small ones with
``pkgindex add``, then times, each as a fresh process (median of 3 runs, files in the page
cache after a first read):

- ``pkgindex check`` (every file and metadata file re-hashed, pages re-rendered and compared);
- ``sha256sum`` over the same distribution and metadata files (coreutils, one process);
- a Python loop of ``hashlib.file_digest`` over the same files (one thread).

Prints the times and the ratios. Not a test: nothing passes or fails.

    python benchmarks/check.py [--big 4] [--big-mib 64] [--small 300]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import _make_wheel  # noqa: E402  (the tests' real-wheel writer)

HASH_LOOP = """
import hashlib, sys
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        hashlib.file_digest(handle, "sha256").hexdigest()
"""


def build(root: Path, big: int, big_mib: int, small: int) -> list[Path]:
    wheels = root.parent / "wheels"
    made = [
        _make_wheel(wheels, f"big{n}", "1.0", payload=os.urandom(big_mib << 20)) for n in range(big)
    ]
    made += [_make_wheel(wheels, f"small{n % 50}", f"1.{n}") for n in range(small)]
    root.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pkgindex", "add", "-q", "--root", str(root), *map(str, made)],
        check=True,
    )
    shutil.rmtree(wheels)
    return sorted(p for p in root.rglob("*") if p.name.endswith((".whl", ".metadata")))


def timed(command: list[str]) -> tuple[float, float]:
    """Median wall-clock and CPU (user + system, every thread) seconds of 3 runs."""
    walls, cpus = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=4)
    parser.add_argument("--big-mib", type=int, default=64)
    parser.add_argument("--small", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "index"
        files = build(root, args.big, args.big_mib, args.small)
        size = sum(p.stat().st_size for p in files)
        paths = list(map(str, files))
        subprocess.run(["cat", *paths], check=True, stdout=subprocess.DEVNULL)  # warm the cache
        results = {
            "pkgindex check": timed(
                [sys.executable, "-m", "pkgindex", "check", "--root", str(root)]
            ),
            "sha256sum": timed(["sha256sum", *paths]),
            "hashlib, 1 thread": timed([sys.executable, "-c", HASH_LOOP, *paths]),
        }
    load = os.getloadavg()[0]
    print(f"{len(files)} files, {size / 1e6:.0f} MB, {os.cpu_count()} cores, load {load:.1f}")
    base_wall, base_cpu = results["pkgindex check"]
    for name, (wall, cpu) in results.items():
        print(
            f"{name:18} wall {wall:6.2f} s ({size / wall / 1e6:5.0f} MB/s, "
            f"{wall / base_wall:4.2f}x pkgindex)  cpu {cpu:6.2f} s ({cpu / base_cpu:4.2f}x)"
        )


if __name__ == "__main__":
    main()
