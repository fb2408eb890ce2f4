#!/usr/bin/env python3
"""Benchmark ``pkgindex serve`` against nginx, pypiserver and simple-repository-server.

All in one run, on one corpus (``python -m benchmarks.corpus --projects 2000 --versions 5``:
10,000 wheels in 2,000 projects, indexed with ``pkgindex generate``), all on 127.0.0.1:

- **pkgindex serve**: ``pkgindex serve --workers 2`` (granian, uvloop);
- **pkgindex app on uvicorn**: the same application (``app_from_environment``) under uvicorn
  with httptools and uvloop, 2 workers: the measurement that chose the ASGI server;
- **nginx**: the static tree, 2 worker processes, negotiation by a ``map`` on Accept (the config
  of docs/server.md), access log off;
- **pypiserver** (``--backend simple-dir``, the default without watchdog) and
  **simple-repository-server** over the same project folders.

The load generator is ``wrk`` (Debian package) with 2 threads, for a fixed duration per run, at
16 and 64 connections: requests/s and p50/p99 latency for one project page as JSON and as HTML
and for one ``.metadata`` file. Every server logs nothing per request (pkgindex with
``--no-access-log``, nginx ``access_log off``). Then the upload-to-visible time: a wheel is
uploaded to ``/legacy/`` and the project page is fetched (from either worker) until it lists
the file.

    python benchmarks/serve.py              # the full corpus, 3 s per run, 3 rounds
    python benchmarks/serve.py --quick      # 200 projects, 2 s per run

Needs ``wrk`` and ``nginx`` (apt-get install wrk nginx) and the ``bench`` extra. Not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
OURS = "pkgindex serve"
SLOW_SECONDS = 20  # pypiserver rescans the tree for every request
PIP_ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
NGINX_CONFIG = """
worker_processes 2;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    map $http_accept $simple_page {{
        default index.html;
        "~application/vnd\\.pypi\\.simple\\.(v1|latest)\\+json" index.json;
    }}
    server {{
        listen 127.0.0.1:{port};
        location /simple/ {{
            alias {root}/;
            index $simple_page;
            types {{
                application/vnd.pypi.simple.v1+json json;
                text/html html;
                application/zip whl;
                text/plain metadata;
            }}
            add_header Vary Accept;
        }}
    }}
}}
"""


@dataclass(frozen=True, slots=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _ = get(url)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    host, _, rest = url.removeprefix("http://").partition("/")
    connection = http.client.HTTPConnection(host, timeout=120)
    try:
        connection.request("GET", "/" + rest, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextmanager
def process(
    command: Sequence[str],
    ready_url: str,
    env: dict[str, str] | None = None,
) -> Iterator[None]:
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        try:
            wait_ready(ready_url)
            yield
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wrk(url: str, connections: int, seconds: float, accept: str | None) -> Load:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if accept:
        command += ["-H", f"Accept: {accept}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"timeout (\d+)", output))
    return Load(rate, _percentile(output, "50"), _percentile(output, "99"), errors)


def _percentile(output: str, which: str) -> float:
    match = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def make_index(scratch: Path, projects: int) -> Path:
    root = scratch / "index"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.corpus",
            str(root),
            "--projects",
            str(projects),
            "--versions",
            "5",
        ],
        check=True,
        capture_output=True,
        cwd=REPO_ROOT,
    )
    subprocess.run(
        [sys.executable, "-m", "pkgindex", "generate", str(root), "-q"],
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
    )
    return root


def servers(root: Path, scratch: Path) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """name -> (command with {port}, environment)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    settings = {
        "root": str(root),
        "endpoint_url": None,
        "region": None,
        "profile": None,
        "tokens": None,
        "private": False,
        "max_upload": 100 << 20,
        "page_ttl": None,
        "page_max_age": 0,
        "upload_directory": None,
        "access_log": False,
        "log_level": 40,
    }
    bin_dir = Path(sys.executable).parent
    serve = [sys.executable, "-m", "pkgindex", "serve", "--root", str(root), "--port", "{port}"]
    return {
        OURS: ([*serve, "--workers", "2", "--read-only", "--no-access-log", "-q"], env),
        "pkgindex app on uvicorn": (
            [
                str(bin_dir / "uvicorn"),
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "--workers",
                "2",
                "--http",
                "httptools",
                "--loop",
                "uvloop",
                "--no-access-log",
                "--log-level",
                "error",
                "pkgindex.server.run:app_from_environment",
            ],
            {**env, "PKGINDEX_SERVE_SETTINGS": json.dumps(settings)},
        ),
        "nginx": (
            ["nginx", "-p", str(scratch), "-c", str(scratch / "nginx.conf"), "-g", "daemon off;"],
            None,
        ),
        "pypiserver": (
            [
                str(bin_dir / "pypi-server"),
                "run",
                "-p",
                "{port}",
                "-i",
                "127.0.0.1",
                "--backend",
                "simple-dir",
                "--disable-fallback",
                "-a",
                ".",
                "-P",
                ".",
                "--log-stream",
                "none",
                str(root),
            ],
            None,
        ),
        "simple-repository-server": (
            [
                str(bin_dir / "simple-repository-server"),
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                str(root),
            ],
            None,
        ),
    }


def measure_reads(
    root: Path, scratch: Path, seconds: float, rounds: int, only: Sequence[str]
) -> dict:
    project = sorted(p.name for p in root.iterdir() if p.is_dir())[len(list(root.iterdir())) // 2]
    wheel = sorted((root / project).glob("*.whl"))[-1].name
    targets = {
        "page JSON": (f"/simple/{project}/", PIP_ACCEPT),
        "page HTML": (f"/simple/{project}/", "text/html"),
        "metadata": (f"/simple/{project}/{wheel}.metadata", None),
    }
    chosen = {
        name: spec for name, spec in servers(root, scratch).items() if not only or name in only
    }
    samples: dict[str, dict[str, list[Load]]] = {name: {} for name in chosen}
    with ExitStack() as stack:
        bases = {}
        for name, (command, env) in chosen.items():  # all up at once; idle ones cost nothing
            port = free_port()
            if name == "nginx":
                config = NGINX_CONFIG.format(prefix=scratch, port=port, root=root)
                (scratch / "nginx.conf").write_text(config)
            bases[name] = base = f"http://127.0.0.1:{port}"
            command = [part.replace("{port}", str(port)) for part in command]
            stack.enter_context(process(command, f"{base}/simple/{project}/", env))
        for round_number in range(rounds):  # interleaved: a busy moment hits every server alike
            for label, (path, accept) in targets.items():
                for connections in (16, 64):
                    for name, base in bases.items():
                        duration = seconds
                        if name == "pypiserver":  # seconds per request: one long run only
                            if round_number:
                                continue
                            duration = SLOW_SECONDS
                        load = wrk(base + path, connections, duration, accept)
                        key = f"{label} c{connections}"
                        samples[name].setdefault(key, []).append(load)
    results = {
        name: {key: _median(loads) for key, loads in by_key.items()}
        for name, by_key in samples.items()
    }
    for name, loads in results.items():
        for key, load in loads.items():
            rate = load.requests_per_second
            print(
                f"{name:26} {key:14} {rate:10.{1 if rate < 10 else 0}f} req/s  "
                f"p50 {load.p50_ms:8.2f} ms  p99 {load.p99_ms:8.2f} ms  errors {load.errors}",
                flush=True,
            )
    return results


def _median(loads: list[Load]) -> Load:
    """The run with the median requests/s (its latencies with it)."""
    ordered = sorted(loads, key=lambda load: load.requests_per_second)
    return ordered[len(ordered) // 2]


def measure_upload(root: Path, scratch: Path, count: int) -> list[float]:
    """Seconds from an upload's response to the first page fetch that lists the file."""
    sys.path.insert(0, str(REPO_ROOT / "src"))
    tokens = scratch / "tokens.json"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    made = subprocess.run(
        [sys.executable, "-m", "pkgindex", "token", "create", "--tokens", str(tokens), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    token = json.loads(made.stdout)["token"]
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "pkgindex",
        "serve",
        "--root",
        str(root),
        "--port",
        str(port),
        "--workers",
        "2",
        "--tokens",
        str(tokens),
        "--no-access-log",
        "-q",
    ]
    base = f"http://127.0.0.1:{port}"
    delays = []
    sys.path.insert(0, str(REPO_ROOT))
    from tests.conftest import wheel_bytes  # a real wheel, made in memory

    with process(command, f"{base}/simple/", env):
        for n in range(count):
            filename = f"uploaded-{n}.0-py3-none-any.whl"
            status = _upload(base, token, filename, wheel_bytes("uploaded", f"{n}.0"))
            answered = time.perf_counter()
            assert status == 200, status
            while True:
                _, page = get(f"{base}/simple/uploaded/", {"Accept": JSON_TYPE})
                if filename.encode() in page:
                    break
            delays.append(time.perf_counter() - answered)
    return delays


def _upload(base: str, token: str, filename: str, content: bytes) -> int:
    import base64

    boundary = uuid.uuid4().hex
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "sha256_digest": hashlib.sha256(content).hexdigest(),
    }
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
            f'filename="{filename}"\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    credentials = base64.b64encode(f"__token__:{token}".encode()).decode()
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
    try:
        connection.request(
            "POST",
            "/legacy/",
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Authorization": f"Basic {credentials}",
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def report(results: dict, delays: list[float]) -> None:
    ours = results.get(OURS, {})
    print(f"\nratios of {OURS} requests/s to each peer:")
    for name, loads in results.items():
        if name == OURS:
            continue
        ratios = [
            f"{key} {ours[key].requests_per_second / load.requests_per_second:.2f}x"
            for key, load in loads.items()
            if key in ours and load.requests_per_second
        ]
        print(f"  vs {name}: " + ", ".join(ratios))
    if delays:
        print(
            f"\nupload to visible: median {statistics.median(delays) * 1000:.1f} ms, "
            f"max {max(delays) * 1000:.1f} ms over {len(delays)} uploads"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus, short runs")
    parser.add_argument("--only", action="append", default=[], help="measure only this server")
    parser.add_argument("--seconds", type=float, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the servers on the way out
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            sys.exit(f"error: {tool} not found\n  hint: apt-get install wrk nginx")
    seconds = args.seconds or (2 if args.quick else 3)
    with tempfile.TemporaryDirectory(prefix="pkgindex-serve-bench-") as temporary:
        scratch = Path(temporary)
        root = make_index(scratch, 200 if args.quick else 2000)
        print(
            f"corpus: {sum(1 for _ in root.glob('*/*.whl'))} wheels in "
            f"{sum(1 for p in root.iterdir() if p.is_dir())} projects; wrk -t2, {seconds} s "
            f"per run, median of {args.rounds} interleaved rounds",
            flush=True,
        )
        results = measure_reads(root, scratch, seconds, args.rounds, args.only)
        delays = measure_upload(root, scratch, 10 if args.quick else 20)
        report(results, delays)


if __name__ == "__main__":
    main()
