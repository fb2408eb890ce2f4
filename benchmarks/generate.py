#!/usr/bin/env python3
"""Benchmark ``pkgindex generate`` against its peers, all measured in the same run.

Corpora come from ``benchmarks/corpus.py`` (the same generator the tests use):

- many small wheels: 10,000 wheels in 2,000 projects (``--projects 2000 --versions 5``);
- large wheels: 200 wheels of 5 MiB, 1 GiB (``--projects 20 --versions 10 --payload-kib 5120``).

Every tool gets a fresh copy of each corpus (hard links: no tool modifies a distribution file)
and is measured cold (first run), warm (run again, nothing changed) and after adding one file:

- ``pkgindex generate`` / ``pkgindex add`` (this checkout, run as ``python -m pkgindex``);
- ``minimal``: the algorithm of the script GT4Py uses today, re-implemented below: for each
  folder, sha256 every file and write one index.html with links. It redoes everything each run;
- ``simple503`` (in place, ``--sort``): hashes every wheel and extracts metadata on every run;
- ``dumb-pypi``: never opens the files (it takes a list of filenames; hashes and
  requires-python must come from the caller), incremental with ``--previous-package-list``.

simple503 and dumb-pypi are installed from PyPI into a venv the benchmark makes with uv.
Times are wall-clock seconds of a fresh process (interpreter start included, as a user sees
it); peak memory is the largest resident set of any one process of the run (``/usr/bin/time
-v``, or ``RUSAGE_CHILDREN`` from a wrapper). On the large corpus, plain ``hashlib.sha256`` of
the same files, sequentially and with threads, gives the speed limit for cold hashing. The page
cache is warm for every tool alike (the corpus was just written).

    python -m benchmarks.generate            # full corpora (~2 GB of scratch space)
    python -m benchmarks.generate --quick    # small corpora, a few seconds

Not a test: it prints a table and checks nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
GNU_TIME = Path("/usr/bin/time")
PEERS = ("simple503", "dumb-pypi")
FLOOR = "floor (benchmarks/floor.py)"
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
RACY_SECONDS = 1.1  # src/pkgindex/stores/local.py RACY_NS, and a margin
HASHLIB_RUNS = 3  # measurements of plain hashlib's speed (median)


@dataclass(frozen=True, slots=True)
class CorpusSpec:
    label: str
    projects: int
    versions: int
    payload_kib: int = 0


FULL = (
    CorpusSpec("10,000 wheels / 2,000 projects", 2000, 5),
    CorpusSpec("200 wheels x 5 MiB (1 GiB)", 20, 10, 5120),
)
QUICK = (
    CorpusSpec("1,000 wheels / 200 projects", 200, 5),
    CorpusSpec("20 wheels x 1 MiB", 4, 5, 1024),
)


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    rss_mb: float
    output: str = ""  # what the command printed


@dataclass(slots=True)
class Result:
    tool: str
    cold: list[Run] = field(default_factory=list)  # each in a fresh copy of the corpus
    warm: list[Run] = field(default_factory=list)
    add: list[Run] = field(default_factory=list)
    extra: dict[str, list[Run]] = field(default_factory=dict)
    steps: dict[str, list[float]] = field(default_factory=dict)  # of cold runs, from --json

    def peak_mb(self) -> float:
        runs = self.cold + self.warm + self.add + [r for rs in self.extra.values() for r in rs]
        return max((r.rss_mb for r in runs), default=0.0)


# --- measuring ------------------------------------------------------------------------------


def measure(command: Sequence[str | Path], *, env: dict[str, str] | None = None) -> Run:
    """Run a command in a fresh process; its wall time and the peak RSS of its processes."""
    command = [str(part) for part in command]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        if GNU_TIME.exists():
            wrapped = [str(GNU_TIME), "-v", "-o", report.name, *command]
        else:
            wrapped = [sys.executable, "-c", _RUSAGE_WRAPPER, report.name, *command]
        os.sync()  # no tool pays for another's pending writeback
        start = time.perf_counter()
        result = subprocess.run(wrapped, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise SystemExit(
                f"benchmark: {' '.join(command)} failed ({result.returncode}):\n{tail}"
            )
        rss_kib = _max_rss_kib(Path(report.name).read_text())
    return Run(seconds=seconds, rss_mb=rss_kib * 1024 / 1e6, output=result.stdout)


_RUSAGE_WRAPPER = """
import resource, subprocess, sys
status = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as out:
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out.write(f"Maximum resident set size (kbytes): {peak}\\n")
sys.exit(status)
"""


def _max_rss_kib(text: str) -> int:
    for line in text.splitlines():
        if "Maximum resident set size" in line:
            return int(line.rsplit(":", 1)[1])
    return 0


def median_seconds(runs: Sequence[Run]) -> float | None:
    return statistics.median(r.seconds for r in runs) if runs else None


# --- corpora --------------------------------------------------------------------------------


def build_corpus(spec: CorpusSpec, out: Path) -> Path:
    from benchmarks.corpus import write_corpus  # not at the top: --run-minimal starts bare

    write_corpus(out, projects=spec.projects, versions=spec.versions, payload_kib=spec.payload_kib)
    return out


def link_tree(source: Path, destination: Path, *, flat: bool = False) -> Path:
    """A copy of a corpus whose distribution files are hard links (fast, no extra space)."""
    destination.mkdir(parents=True)
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        target = destination if flat else destination / folder.name
        target.mkdir(exist_ok=True)
        for path in folder.iterdir():
            os.link(path, target / path.name)
    return destination


def dist_paths(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.name.endswith(DIST_SUFFIXES))


class NewWheels:
    """Wheels that are not in the corpus yet: new versions of its first project."""

    def __init__(self, corpus: Path, payload_kib: int, scratch: Path) -> None:
        self.project = sorted(p.name for p in corpus.iterdir() if p.is_dir())[0]
        self.payload_kib = payload_kib
        self.scratch = scratch
        self.count = 0

    def write(self, directory: Path | None = None) -> Path:
        self.count += 1
        version = f"9.{self.count}.0"
        payload = os.urandom(self.payload_kib * 1024) if self.payload_kib else b""
        from benchmarks.corpus import wheel_bytes

        # like a real wheel, with a Requires-Python and a dependency (both are parsed)
        data = wheel_bytes(self.project, version, ">=3.8", ["numpy>=1.20"], payload)
        directory = directory or self.scratch
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.project}-{version}-py3-none-any.whl"
        path.write_bytes(data)
        return path


# --- the tools ------------------------------------------------------------------------------


# what the `pkgindex` console script that pip installs runs
CONSOLE_SCRIPT = "import sys; from pkgindex.cli import main; sys.exit(main())"


def pkgindex_command(*args: str | Path) -> list[str | Path]:
    return [sys.executable, "-c", CONSOLE_SCRIPT, *args]


def pkgindex_env() -> dict[str, str]:
    """pkgindex from this checkout; its scan cache (docs/generate.md) in the scratch folder."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "PKGINDEX_CACHE_DIR": os.environ["PKGINDEX_CACHE_DIR"],
    }


def compile_bytecode(source: Path = REPO_ROOT / "src" / "pkgindex") -> None:
    """Write the .pyc files of pkgindex, as `pip install` does: with PYTHONDONTWRITEBYTECODE
    set (as on this machine) a checkout would otherwise compile every module on every run."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(source)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def cold_runs(
    count: int, fresh: Callable[[int], Path], command: Callable[[Path], list[str | Path]]
) -> tuple[list[Run], Path]:
    """``count`` first runs, each in a fresh copy; returns them and the last copy.

    No copy is deleted until the benchmark ends: on this machine's ext4 (mounted with
    ``discard``) creating files right after deleting a tree of thousands costs up to 20 times
    more (14,000 files: 0.14 s settled, 1.4-2.8 s after an ``rm -r``), for whatever tool runs
    next. Earlier figures in docs/benchmarks.md carried that."""
    runs: list[Run] = []
    target: Path | None = None
    for attempt in range(count):
        target = fresh(attempt)
        runs.append(measure(command(target), env=pkgindex_env()))
    assert target is not None, "at least one cold run"
    return runs, target


@dataclass(frozen=True, slots=True)
class ColdTool:
    """How to make a fresh copy for a tool's first run, and the command of that run."""

    name: str
    fresh: Callable[[int], Path]
    command: Callable[[Path], list[str | Path]]


Cold = tuple[list[Run], Path]  # a tool's first runs, and the copy of its last one


def interleaved_cold_runs(tools: Sequence[ColdTool], count: int) -> dict[str, Cold]:
    """Every tool's first runs, in rounds: each round runs each tool once, in an order that
    turns, so no tool always runs first or last. The scratch folder only grows (nothing is
    deleted, see cold_runs), and creating files gets slower as it grows (on tmpfs, 14,000
    files took 0.08 s in an empty file system and 0.23 s late in a run): a tool measured after
    all the others' copies would pay for them."""
    runs: dict[str, list[Run]] = {tool.name: [] for tool in tools}
    last: dict[str, Path] = {}
    for attempt in range(count):
        turn = attempt % len(tools)
        for tool in [*tools[turn:], *tools[:turn]]:
            last[tool.name] = tool.fresh(attempt)
            runs[tool.name].append(measure(tool.command(last[tool.name]), env=pkgindex_env()))
    return {name: (runs[name], last[name]) for name in runs}


def bench_ours(
    corpus: Path, work: Path, new: NewWheels, repeat: int, cold: int, first: Cold
) -> Result:
    env = pkgindex_env()
    result = Result("pkgindex")
    result.cold, root = first
    # the first run after the cold one lists every folder again (the cold run wrote into all
    # of them: docs/generate.md); it is reported on its own, the warm runs are the ones after it
    # where a cold run's time goes: the steps it reports with --json (separate runs: -q prints
    # nothing, --json describes every path written)
    for run in cold_runs(
        cold,
        lambda n: link_tree(corpus, work / f"ours-steps-{n}"),
        lambda root: pkgindex_command("generate", root, "--json"),
    )[0]:
        for step, spent in json.loads(run.output)["timings"].items():
            result.steps.setdefault(step, []).append(spent)
    # warm runs come later than the cold run's last write by more than the scan cache's racy
    # window (a folder changed within 1 s of its listing is listed again by the next run)
    time.sleep(RACY_SECONDS)
    result.extra["first warm run after the cold run (lists every folder)"] = [
        measure(pkgindex_command("generate", root, "-q"), env=env)
    ]
    result.warm = [
        measure(pkgindex_command("generate", root, "-q"), env=env) for _ in range(repeat)
    ]
    for _ in range(repeat):
        wheel = new.write()
        result.add.append(measure(pkgindex_command("add", wheel, "--root", root, "-q"), env=env))
    dropped: list[Run] = []
    for _ in range(repeat):
        new.write(root / new.project)
        dropped.append(measure(pkgindex_command("generate", root, "-q"), env=env))
    result.extra["generate after a file is dropped in"] = dropped
    result.extra["warm, library call (no interpreter start)"] = library_warm(root, repeat)
    result.extra["interpreter start + import of generate and add"] = [
        measure([sys.executable, "-c", "import pkgindex.cli._index"], env=env)
        for _ in range(repeat)
    ]
    result.extra["interpreter start (python -c pass)"] = [
        measure([sys.executable, "-c", "pass"], env=env) for _ in range(repeat)
    ]
    check_ours(root)
    files, floor = creation_floor(corpus, work, root)
    result.extra[f"creating the {files:,} files it writes, plain os.write, one process"] = [
        Run(seconds=floor, rss_mb=0.0)
    ]
    return result


def floor_tool(corpus: Path, work: Path) -> ColdTool:
    """benchmarks/floor.py: hash, read METADATA, write the same files, a process per core."""
    return ColdTool(
        FLOOR,
        lambda n: link_tree(corpus, work / f"floor-{n}"),
        lambda root: [sys.executable, REPO_ROOT / "benchmarks" / "floor.py", root],
    )


def library_warm(root: Path, repeat: int) -> list[Run]:
    driver = (
        "import sys, time; from pathlib import Path; from pkgindex.index import refresh as index\n"
        "from pkgindex.stores.local import LocalStore\n"
        "start = time.perf_counter(); index.generate(LocalStore(Path(sys.argv[1])))\n"
        "print(time.perf_counter() - start)"
    )
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", driver, str(root)],
            check=True,
            capture_output=True,
            text=True,
            env=pkgindex_env(),
        )
        runs.append(Run(seconds=float(out.stdout.strip()), rss_mb=0.0))
    return runs


def check_ours(root: Path) -> None:
    """A sanity check that the run produced an index (every file listed once)."""
    pages = list(root.glob("*/index.html"))
    listed = sum(page.read_text().count("<a href=") for page in pages)
    files = len(dist_paths(root))
    if listed != files:
        raise SystemExit(f"benchmark: pkgindex listed {listed} files, the corpus has {files}")


def minimal_tool(corpus: Path, work: Path) -> ColdTool:
    return ColdTool(
        "minimal script",
        lambda n: link_tree(corpus, work / f"minimal-{n}"),
        lambda root: [sys.executable, __file__, "--run-minimal", root],
    )


def bench_minimal(new: NewWheels, repeat: int, first: Cold) -> Result:
    result = Result("minimal script")
    result.cold, root = first
    command = [sys.executable, __file__, "--run-minimal", root]
    result.warm = [measure(command) for _ in range(repeat)]
    for _ in range(repeat):
        new.write(root / new.project)
        result.add.append(measure(command))
    return result


def run_minimal(root: Path) -> None:
    """The current GT4Py generator's algorithm: hash every file, write one page per folder."""
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        links = []
        for path in sorted(folder.iterdir()):
            if not path.name.endswith(DIST_SUFFIXES):
                continue
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            name = html.escape(path.name)
            links.append(f'<a href="{name}#sha256={digest}">{name}</a><br>')
        page = "<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        (folder / "index.html").write_text(page)
    items = "".join(f'<a href="{f.name}/">{f.name}</a><br>\n' for f in folders)
    (root / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{items}</body></html>\n")


def simple503_tool(tool: Path, corpus: Path, work: Path) -> ColdTool:
    return ColdTool(
        "simple503",
        lambda n: link_tree(corpus, work / f"simple503-{n}", flat=True),
        lambda root: [tool, root, "--sort"],  # in place: moves wheels into project folders
    )


def bench_simple503(tool: Path, new: NewWheels, repeat: int, first: Cold) -> Result:
    result = Result("simple503")
    result.cold, root = first
    command = [tool, root, "--sort"]
    result.warm = [measure(command) for _ in range(repeat)]
    for _ in range(repeat):
        new.write(root)
        result.add.append(measure(command))
    return result


DUMB_PYPI_OPTIONS = ("--packages-url", "../../pool/", "--no-generate-timestamp")


def dumb_pypi_list(work: Path, number: int) -> Path:
    """The list of filenames given to dumb-pypi: the corpus's (0), then one more file each."""
    return work / "dumb-pypi-lists" / f"packages-{number}.txt"


def dumb_pypi_tool(tool: Path, corpus: Path, work: Path) -> ColdTool:
    """dumb-pypi, given the list of the corpus's filenames (written here)."""
    current = dumb_pypi_list(work, 0)
    current.parent.mkdir(parents=True)
    current.write_text("\n".join(p.name for p in dist_paths(corpus)) + "\n")
    return ColdTool(
        "dumb-pypi",
        lambda n: work / f"dumb-pypi-{n}",
        lambda out: [tool, "--output-dir", out, *DUMB_PYPI_OPTIONS, "--package-list", current],
    )


def bench_dumb_pypi(
    tool: Path, corpus: Path, work: Path, new: NewWheels, repeat: int, first: Cold
) -> Result:
    names = [p.name for p in dist_paths(corpus)]
    current = dumb_pypi_list(work, 0)
    options = list(DUMB_PYPI_OPTIONS)
    result = Result("dumb-pypi")
    result.cold, out = first
    base = [tool, "--output-dir", out, *options]
    warm = [*base, "--package-list", current, "--previous-package-list", current]
    result.warm = [measure(warm) for _ in range(repeat)]
    for number in range(1, repeat + 1):
        names.append(new.write().name)
        following = dumb_pypi_list(work, number)
        following.write_text("\n".join(names) + "\n")
        command = [*base, "--package-list", following, "--previous-package-list", current]
        result.add.append(measure(command))
        current = following
    return result


def install_peers(work: Path) -> dict[str, Path]:
    """simple503 and dumb-pypi from PyPI, in a venv of their own (made with uv)."""
    venv = work / "peers-venv"
    uv = shutil.which("uv")
    try:
        if uv:
            subprocess.run([uv, "venv", "-q", "--python", sys.executable, venv], check=True)
            install = [uv, "pip", "install", "-q", "--python", venv / "bin" / "python"]
        else:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            install = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
        subprocess.run([*install, *PEERS], check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        print(f"benchmark: could not install {', '.join(PEERS)}: {exc}", file=sys.stderr)
        return {}
    return {name: venv / "bin" / name for name in PEERS}


def peer_versions(tools: dict[str, Path]) -> str:
    if not tools:
        return "peers not installed"
    python = next(iter(tools.values())).parent / "python"
    script = (
        "from importlib.metadata import version\n"
        f"print(', '.join(f'{{n}} {{version(n)}}' for n in {list(PEERS)!r}))"
    )
    return subprocess.run([python, "-c", script], capture_output=True, text=True).stdout.strip()


# --- speed limits ---------------------------------------------------------------------------


def creation_floor(corpus: Path, work: Path, reference: Path) -> tuple[int, float]:
    """Seconds to create, with plain os.open/write, as many files as pkgindex wrote into the
    reference copy (same folders, same sizes): what the file system alone costs a cold run."""
    written = [
        path.relative_to(reference)
        for path in reference.rglob("*")
        if path.is_file() and not path.name.endswith(DIST_SUFFIXES)
    ]
    root = link_tree(corpus, work / "floor")
    sizes = {name: (reference / name).stat().st_size for name in written}
    os.sync()
    start = time.perf_counter()
    for name, size in sizes.items():
        descriptor = os.open(root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(descriptor, b"x" * size)
        os.close(descriptor)
    return len(sizes), time.perf_counter() - start


# --- hashing speed limit --------------------------------------------------------------------


def hashlib_speed(paths: Sequence[Path], threads: int) -> float:
    """MB/s of plain hashlib.sha256 over the files, with this many threads (1: sequential)."""

    def digest(path: Path) -> str:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()

    total = sum(p.stat().st_size for p in paths)
    start = time.perf_counter()
    if threads == 1:
        for path in paths:
            digest(path)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(digest, paths))
    return total / (time.perf_counter() - start) / 1e6


# --- report ---------------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def ratio(ours: float | None, peer: float | None) -> str:
    return "-" if ours is None or not peer else f"{ours / peer:.2f}"


def report_corpus(
    spec: CorpusSpec, files: int, size_mb: float, results: list[Result], hashing: dict[str, float]
) -> list[str]:
    ours = results[0]
    lines = [
        f"### {spec.label}: {files:,} files, {size_mb:,.0f} MB",
        "",
        "| tool | cold s | warm s | add one file s | peak RSS MB "
        "| cold ours/peer | warm ours/peer | add ours/peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ours_cold = median_seconds(ours.cold)
    ours_warm, ours_add = median_seconds(ours.warm), median_seconds(ours.add)
    for result in results:
        cold = median_seconds(result.cold)
        warm, add = median_seconds(result.warm), median_seconds(result.add)
        is_ours = result is ours
        lines.append(
            f"| {result.tool} | {seconds(cold)} | {seconds(warm)} | {seconds(add)} "
            f"| {result.peak_mb():.0f} "
            f"| {'' if is_ours else ratio(ours_cold, cold)} "
            f"| {'' if is_ours else ratio(ours_warm, warm)} "
            f"| {'' if is_ours else ratio(ours_add, add)} |"
        )
    lines += ["", "pkgindex details (medians):", ""]
    for label, runs in ours.extra.items():
        lines.append(f"- {label}: {seconds(median_seconds(runs))} s")
    steps = ", ".join(
        f"{step} {statistics.median(spent):.3f}" for step, spent in ours.steps.items()
    )
    lines.append(f"- steps of a cold run (--json timings, s): {steps}")
    if hashing:
        lines += ["", "Cold hashing speed (MB/s, page cache warm):", ""]
        for label, speed in hashing.items():
            unit = "" if "%" in label else " MB/s"  # the share is a percentage
            lines.append(f"- {label}: {speed:,.0f}{unit}")
    lines += ["", *targets(spec, ours, results), ""]
    return lines


def targets(spec: CorpusSpec, ours: Result, results: list[Result]) -> list[str]:
    """The targets of issue 13, each with its measured value and verdict."""
    if spec.payload_kib:
        return []
    peers = {r.tool: median_seconds(r.cold) or 0.0 for r in results}
    cold = median_seconds(ours.cold) or 0.0
    warm, add = median_seconds(ours.warm) or 0.0, median_seconds(ours.add) or 0.0
    minimal = next((r for r in results if r.tool == "minimal script"), None)
    minimal_warm = median_seconds(minimal.warm) if minimal else None
    checks: list[tuple[str, float, float]] = []
    if peers.get("minimal script"):
        checks.append(("cold / minimal script (<= 3)", cold / peers["minimal script"], 3.0))
    if peers.get("simple503"):
        checks.append(("simple503 cold / ours (>= 8)", -peers["simple503"] / cold, -8.0))
    if peers.get(FLOOR):
        checks.append(("cold / floor (<= 1.5)", cold / peers[FLOOR], 1.5))
    checks.append(("warm s (<= 0.2)", warm, 0.2))
    if minimal_warm:
        checks.append(("warm / minimal script's warm (<= 0.25)", warm / minimal_warm, 0.25))
    checks.append(("add one file s (<= 0.15)", add, 0.15))
    checks.append(("peak RSS MB (< 200)", ours.peak_mb(), 200.0))
    lines = ["Targets:", ""]
    for label, value, limit in checks:
        verdict = "met" if value <= limit else "MISSED"
        lines.append(f"- {label}: {abs(value):.3f} — {verdict}")
    return lines


# --- main -----------------------------------------------------------------------------------


def bench_corpus(
    spec: CorpusSpec, work: Path, tools: dict[str, Path], repeat: int, cold: int
) -> list[str]:
    print(f"benchmark: building {spec.label} …", file=sys.stderr)
    corpus = build_corpus(spec, work / "corpus")
    paths = dist_paths(corpus)
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    hashing: dict[str, float] = {}
    if spec.payload_kib:
        cores = os.cpu_count() or 1
        # the median of three runs each, as pkgindex's read step is the median of its cold runs
        hashing["hashlib sequential"] = statistics.median(
            hashlib_speed(paths, 1) for _ in range(HASHLIB_RUNS)
        )
        for threads in sorted({2, cores}):
            hashing[f"hashlib, {threads} threads"] = statistics.median(
                hashlib_speed(paths, threads) for _ in range(HASHLIB_RUNS)
            )
    new = NewWheels(corpus, spec.payload_kib, work / "incoming")
    compared = [
        ColdTool(
            "pkgindex",
            lambda n: link_tree(corpus, work / f"ours-{n}"),
            lambda root: pkgindex_command("generate", root, "-q"),
        ),
        minimal_tool(corpus, work),
        floor_tool(corpus, work),
    ]
    if "simple503" in tools:
        compared.append(simple503_tool(tools["simple503"], corpus, work))
    if "dumb-pypi" in tools:
        compared.append(dumb_pypi_tool(tools["dumb-pypi"], corpus, work))
    print(f"benchmark:   first runs, {cold} rounds of every tool …", file=sys.stderr)
    first = interleaved_cold_runs(compared, cold)
    runners: list[tuple[str, Callable[[], Result]]] = [
        ("pkgindex", lambda: bench_ours(corpus, work, new, repeat, cold, first["pkgindex"])),
        ("minimal", lambda: bench_minimal(new, repeat, first["minimal script"])),
        ("floor", lambda: Result(FLOOR, cold=first[FLOOR][0])),
    ]
    if "simple503" in tools:
        runners.append(
            (
                "simple503",
                lambda: bench_simple503(tools["simple503"], new, repeat, first["simple503"]),
            )
        )
    if "dumb-pypi" in tools:
        runners.append(
            (
                "dumb-pypi",
                lambda: bench_dumb_pypi(
                    tools["dumb-pypi"], corpus, work, new, repeat, first["dumb-pypi"]
                ),
            )
        )
    results = []
    for name, runner in runners:
        print(f"benchmark:   {name} …", file=sys.stderr)
        results.append(runner())
    if hashing and results[0].cold:
        best = max(hashing.values())
        whole = size_mb / (median_seconds(results[0].cold) or 1.0)
        read = size_mb / statistics.median(results[0].steps["read"])
        hashing["pkgindex generate, cold: its read step (hash and read every file)"] = read
        hashing["pkgindex generate, cold: the whole run (interpreter start included)"] = whole
        hashing["read step as a share of the fastest hashlib figure, % (target >= 90)"] = (
            100 * read / best
        )
        hashing["whole run as a share of the fastest hashlib figure, %"] = 100 * whole / best
    return report_corpus(spec, len(paths), size_mb, results, hashing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small corpora (seconds, not minutes)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per warm/add measurement")
    parser.add_argument(
        "--cold-repeat", type=int, default=3, help="first runs, each in a fresh copy (median)"
    )
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--no-peers", action="store_true", help="skip simple503 and dumb-pypi")
    parser.add_argument(
        "--only", type=int, choices=(0, 1), help="only the first (0) or second (1) corpus"
    )
    parser.add_argument("--run-minimal", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_minimal:
        run_minimal(args.run_minimal)
        return 0
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="pkgindex-bench-", dir=args.workdir))
    os.environ["PKGINDEX_CACHE_DIR"] = str(scratch / "cache")
    compile_bytecode()
    try:
        tools = {} if args.no_peers else install_peers(scratch)
        lines = [
            f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"{peer_versions(tools)}; load average at the start: {os.getloadavg()[0]:.2f}",
            "",
        ]
        specs: tuple[CorpusSpec, ...] = QUICK if args.quick else FULL
        if args.only is not None:
            specs = (specs[args.only],)
        for number, spec in enumerate(specs):
            work = scratch / f"corpus-{number}"
            lines += bench_corpus(spec, work, tools, args.repeat, args.cold_repeat)
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        lines.append(f"Load average at the end (1, 5, 15 min): {load}")
        print("\n".join(lines))
    finally:
        if args.keep:
            print(f"benchmark: scratch files kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
