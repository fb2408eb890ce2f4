#!/usr/bin/env python3
"""Benchmark the two stores: an index in a folder against the same index in an S3 bucket.

The bucket is a real S3 HTTP API on loopback (moto's server, ``tests/integration/s3_server.py``,
one request at a time), so times are those of a fast, near server; the *request counts* are
what carries over to AWS S3 or R2, where every request costs money and tens of milliseconds.

For a corpus of wheels (``make_corpus.py``; default 10,000 wheels in 2,000 projects):

1. ``generate`` the folder (cold), then ``pkgindex sync`` it into an empty bucket;
2. warm ``generate`` on each (median of 3);
3. ``add`` one new wheel to an existing project on each (median of 3, a new wheel each time);

and for each step on the bucket, the number of S3 requests by method. Each time is the wall
clock of a fresh ``python -m pkgindex`` process, interpreter start included.

    python benchmarks/stores.py                      # 10,000 wheels (several minutes)
    python benchmarks/stores.py --projects 200       # 1,000 wheels, under a minute

Not a test: it prints a table and checks nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVER = REPO_ROOT / "tests" / "integration" / "s3_server.py"
CORPUS_SCRIPTS = (
    REPO_ROOT / "benchmarks" / "make_corpus.py",
    REPO_ROOT / ".." / "shared" / "bench" / "make_corpus.py",
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--make-corpus", type=Path, help="path of make_corpus.py")
    args = parser.parse_args(argv)
    script = args.make_corpus or next((p for p in CORPUS_SCRIPTS if p.is_file()), None)
    if script is None:
        sys.exit("make_corpus.py not found: pass --make-corpus PATH")
    with tempfile.TemporaryDirectory(prefix="pkgindex-bench-stores-") as scratch:
        run_benchmark(Path(scratch), script, args.projects, args.versions, args.repeat)


def run_benchmark(work: Path, script: Path, projects: int, versions: int, repeat: int) -> None:
    folder = work / "index"
    subprocess.run(
        [sys.executable, str(script), str(folder), "--projects", str(projects),
         "--versions", str(versions)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheels = sum(1 for _ in folder.glob("*/*.whl"))
    server = subprocess.Popen(
        [sys.executable, str(SERVER)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT / "src"),
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        env.pop("SOURCE_DATE_EPOCH", None)
        bucket_root = "s3://bench/simple"
        request(url, "/bench", "PUT")  # create the bucket
        rows = measure(work, folder, bucket_root, url, env, repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
    print(f"\ncorpus: {wheels} wheels in {projects} projects; median of {repeat} where repeated")
    print(f"{'operation':32} {'folder s':>9} {'bucket s':>9} {'bucket/folder':>14}  S3 requests")
    for name, local, remote, counts in rows:
        ratio = f"{remote / local:.1f}x" if local else "-"
        shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"
        local_text = f"{local:9.2f}" if local else f"{'-':>9}"
        print(f"{name:32} {local_text} {remote:9.2f} {ratio:>14}  {shown}")


def measure(
    work: Path, folder: Path, bucket: str, url: str, env: dict[str, str], repeat: int
) -> list[tuple[str, float, float, dict[str, int]]]:
    rows = []
    cold = timed(["generate", str(folder)], env)
    synced, counts = counted(url, lambda: timed(["sync", str(folder), bucket], env))
    rows.append(("fill (folder: generate; bucket: sync)", cold, synced, counts))
    local = median(repeat, lambda: timed(["generate", str(folder)], env))
    remote, counts = counted(url, lambda: timed(["generate", bucket], env))
    rows.append(("warm generate", local, remote, counts))
    project = sorted(p.name for p in folder.iterdir() if p.is_dir())[0]
    local_times, remote_times = [], []
    for n in range(repeat):
        wheel = new_wheel(work, folder, project, n)
        local_times.append(timed(["add", str(wheel), "--root", str(folder)], env))
        remote_time, counts = counted(
            url, lambda w=wheel: timed(["add", str(w), "--root", bucket], env)
        )
        remote_times.append(remote_time)
    rows.append(("add one file", statistics.median(local_times), statistics.median(remote_times),
                 counts))  # fmt: skip
    return rows


def new_wheel(work: Path, folder: Path, project: str, n: int) -> Path:
    """A copy of one of the project's wheels under a new version (valid: same metadata name)."""
    import zipfile

    source = sorted((folder / project).glob("*.whl"))[0]
    name, version, rest = source.name.split("-", 2)
    new_version = f"999.{n}"
    target = work / "incoming" / f"{name}-{new_version}-{rest}"
    target.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            path = item.filename.replace(
                f"{name}-{version}.dist-info", f"{name}-{new_version}.dist-info"
            )
            if path.endswith("/METADATA"):
                data = data.replace(
                    f"Version: {version}".encode(), f"Version: {new_version}".encode()
                )
            if path.endswith("/RECORD"):
                data = b""  # RECORD hashes are not checked by the index
            new.writestr(path, data)
    return target


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pkgindex", *args, "-q"], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"pkgindex {' '.join(args)} failed:\n{result.stderr}")
    return elapsed


def median(repeat: int, action) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(action() for _ in range(repeat))


def counted(url: str, action) -> tuple[float, dict[str, int]]:  # type: ignore[no-untyped-def]
    before = json.loads(request(url, "/__requests__"))
    elapsed = action()
    after = json.loads(request(url, "/__requests__"))
    return elapsed, {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def request(url: str, path: str, method: str = "GET") -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url + path, method=method)) as reply:
        return reply.read()


if __name__ == "__main__":
    main()
