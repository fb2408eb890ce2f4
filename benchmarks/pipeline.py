"""How much time does pull mode add on top of the build backend itself?

Runs ``pkgindex update`` on a small pure package (the in-tree sample backend, so no download)
into a git index with a bare origin (so commit and push are measured too), several times, and
prints the median per step. "Backend" is the build backend alone (``build_wheel`` called in a
fresh interpreter); "overhead" is everything else: git fetch, frontend isolation, the verify
venv, install, smoke import, adding to the index, commit and push. For comparison, the same
pipeline with ``--frontend build`` (pypa/build) and the steps of the old GitHub workflow
(git clone, ``python -m build --wheel``, ``pip install --no-deps``) are timed in the same run.

    python benchmarks/pipeline.py [--runs 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pkgindex.process import Runner
from pkgindex.pull.builder import Frontend
from pkgindex.pull.sample import commit_all, tag, write_sample_project
from pkgindex.pull.update import init_index_repository, update

TARGET_OVERHEAD = 3.0


def make_source(base: Path, runner: Runner) -> str:
    source = write_sample_project(
        base / "sources" / "bench" / "pkg", name="bench-pkg", module="bench_pkg"
    )
    commit_all(source, "bench", runner=runner)
    tag(source, "v1.0.0", runner=runner)
    return f"{(base / 'sources').as_uri()}/{{owner}}/{{repo}}"


def time_backend(source: Path, out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    code = f"import sample_backend; sample_backend.build_wheel({str(out)!r})"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=source, check=True)
    return time.perf_counter() - started


def time_pipeline(base: Path, url: str, run: int, frontend: Frontend) -> dict[str, float]:
    runner = Runner(log_dir=base / "logs")
    root = base / f"index-{frontend}-{run}"
    init_index_repository(root, base / f"origin-{frontend}-{run}.git", runner=runner)
    started = time.perf_counter()
    report = update(
        root, owner="bench", repo="pkg", ref="v1.0.0", source_url=url, frontend=frontend
    )
    total = time.perf_counter() - started
    assert report.pushed
    return {"total": total, **report.timings, "frontend+backend": report.backend_seconds}


def time_old_workflow(base: Path, run: int) -> float:
    work = base / f"old-{run}"
    steps: list[list[str]] = [
        [
            "git",
            "clone",
            "--quiet",
            "--depth=1",
            (base / "sources" / "bench" / "pkg").as_uri(),
            str(work / "src"),
        ],
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--outdir",
            str(work / "dist"),
            str(work / "src"),
        ],
        [sys.executable, "-m", "venv", "--without-pip", str(work / "venv")],
    ]
    started = time.perf_counter()
    for argv in steps:
        subprocess.run(argv, check=True, capture_output=True)
    wheel = next((work / "dist").glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(work / "venv" / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample.get(key, 0.0) for sample in samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("pkgindex").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="pkgindex-bench-") as tmp:
        base = Path(tmp)
        url = make_source(base, Runner(log_dir=base / "logs"))
        source = base / "sources" / "bench" / "pkg"
        backend = statistics.median(
            time_backend(source, base / f"backend-{i}") for i in range(args.runs)
        )
        results: dict[str, list[dict[str, float]]] = {}
        for frontend in ("uv", "build"):
            results[frontend] = [time_pipeline(base, url, i, frontend) for i in range(args.runs)]
        old = statistics.median(time_old_workflow(base, i) for i in range(args.runs))
    report(results, backend, old, args.runs)
    overhead = median(results["uv"], "total") - backend
    return 0 if overhead < TARGET_OVERHEAD else 1


def report(
    results: dict[str, list[dict[str, float]]], backend: float, old: float, runs: int
) -> None:
    print(f"pkgindex update, small pure package, median of {runs} runs (seconds)")
    keys = ["fetch", "build", "verify", "publish", "total"]
    print(f"{'step':<18}" + "".join(f"{frontend:>12}" for frontend in results))
    for key in keys:
        print(
            f"{key:<18}" + "".join(f"{median(samples, key):>12.2f}" for samples in results.values())
        )
    print(f"{'backend alone':<18}{backend:>12.2f}")
    line: Callable[[str], float] = lambda frontend: median(results[frontend], "total") - backend  # noqa: E731
    print(f"{'overhead':<18}" + "".join(f"{line(frontend):>12.2f}" for frontend in results))
    uv_total = median(results["uv"], "total")
    print(f"old workflow steps (clone, python -m build, pip install --no-deps): {old:.2f}")
    print(f"ratio pkgindex update (uv) / old workflow steps: {uv_total / old:.2f}")
    status = "met" if line("uv") < TARGET_OVERHEAD else "MISSED"
    print(f"target: overhead under {TARGET_OVERHEAD:.0f} s with uv: {status}")


if __name__ == "__main__":
    raise SystemExit(main())
