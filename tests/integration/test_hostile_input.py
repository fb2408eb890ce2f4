"""Hostile and broken input through the command line (issue 7): no crash, no escape, no loss.

Each case asserts the exit status, the message, and that the index is byte-identical afterwards
(or, with ``--skip-invalid``, that every other project was indexed). Bombs run in a child with a
memory limit (``resource.setrlimit``) and must be refused within seconds.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests import hostile
from tests.integration.conftest import REPO_ROOT, pkgindex_environment

Run = Callable[..., subprocess.CompletedProcess[str]]
MEMORY_LIMIT = 768 << 20  # address space of the child: pkgindex needs ~100 MiB of it


def contents(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def put(folder: Path, made: hostile.Made) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / made[0]
    path.write_bytes(made[1])
    return path


def failed(result: subprocess.CompletedProcess[str], status: int, words: str) -> None:
    assert result.returncode == status, f"status {result.returncode}\n{result.stderr}"
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def index_root(tmp_path: Path, pkgindex: Run) -> Path:
    """An index with one project, generated."""
    root = tmp_path / "index"
    put(root / "good", hostile.wheel("good", "1.0"))
    result = pkgindex("generate", root, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    return root


MALFORMED = {
    "non-ascii-name": "metadata name 'bäd' does not match the filename's 'bad'",
    "invalid-utf8": "its core metadata is not valid UTF-8",
    "encrypted": "bad-1.0.dist-info/METADATA is encrypted",
    "unsupported-compression": "uses zip compression method 99",
    "corrupt-deflate": "cannot decompress bad-1.0.dist-info/METADATA",
    "corrupt-lzma": "cannot decompress bad-1.0.dist-info/METADATA (Corrupt input data)",
    "tiny-tar-gz": "bad-1.0.tar.gz: not a readable archive",
    "two-dist-info": "the wheel has 2 .dist-info folders",
    "duplicate-metadata": "holds bad-1.0.dist-info/METADATA 2 times",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file(case: str, index_root: Path, pkgindex: Run, tmp_path: Path) -> None:
    made = hostile.MALFORMED[case]()
    words = MALFORMED[case]
    # add: refused, nothing written
    before = contents(index_root)
    failed(pkgindex("add", put(tmp_path / "in", made), "--root", index_root), 1, words)
    assert contents(index_root) == before
    # generate with the file in a folder: refused, nothing written
    put(index_root / "bad", made)
    put(index_root / "other", hostile.wheel("other", "1.0"))
    before = contents(index_root)
    result = pkgindex("generate", index_root)
    failed(result, 1, f"error: bad/{made[0]}: ")
    assert words in result.stderr
    assert contents(index_root) == before
    # --skip-invalid: the file left out, every other project indexed
    result = pkgindex("generate", index_root, "--skip-invalid", "--json")
    failed(result, 3, words)
    report = json.loads(result.stdout)
    assert report["indexed"] == ["other-1.0-py3-none-any.whl"]
    assert listed(index_root, "good") == ["good-1.0-py3-none-any.whl"]
    assert listed(index_root, "other") == ["other-1.0-py3-none-any.whl"]
    assert listed(index_root, "bad") == []


def listed(root: Path, project: str) -> list[str]:
    page = json.loads((root / project / "index.json").read_bytes())
    return [entry["filename"] for entry in page["files"]]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"size": 1e400}, "size inf is not a whole number of bytes"),
        ({"hashes": {"sha256": '"><script>alert(1)</script>'}}, "is not 64 hex digits"),
        ({"core-metadata": {"sha256": '0" onmouseover="alert(1)'}}, "is not 64 hex digits"),
        (None, "nested more than 16 levels deep"),
    ],
    ids=["size-1e400", "sha256-xss", "core-metadata-xss", "deep-json"],
)
def test_tampered_catalog(
    change: dict[str, object] | None, words: str, index_root: Path, pkgindex: Run
) -> None:
    page = index_root / "good" / "index.json"
    if change is None:
        page.write_bytes(hostile.deep_json())
    else:
        catalog = json.loads(page.read_bytes())
        catalog["files"][0].update(change)
        page.write_text(json.dumps(catalog))
    before = contents(index_root)
    result = pkgindex("generate", index_root)
    failed(result, 1, f"error: {page}: the catalog page is damaged (")
    assert words in result.stderr
    assert contents(index_root) == before
    failed(pkgindex("add", put(index_root.parent / "in", hostile.wheel("good", "2.0")),
                    "--root", index_root), 1, words)  # fmt: skip
    assert contents(index_root) == before


def test_long_filenames(index_root: Path, pkgindex: Run, tmp_path: Path) -> None:
    longest = put(tmp_path / "in", hostile.long_name(246))
    result = pkgindex("add", longest, "--root", index_root)
    assert result.returncode == 0, result.stderr
    folder = index_root / longest.name.split("-")[0]
    assert (folder / (longest.name + ".metadata")).is_file()
    assert longest.name in (folder / "index.html").read_text()
    before = contents(index_root)
    too_long = put(tmp_path / "in", hostile.long_name(247))
    result = pkgindex("add", too_long, "--root", index_root)
    failed(result, 1, "a distribution filename of 247 characters is too long")
    assert contents(index_root) == before


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("good-1.0-1-py3-none-any.whl", "a higher build tag"),
        ("good-1.0.0-py3-none-any.whl", "another spelling"),
    ],
)
def test_file_installers_would_prefer(
    filename: str, reason: str, index_root: Path, pkgindex: Run, tmp_path: Path
) -> None:
    version = filename.split("-")[1]
    _, data = hostile.wheel("good", version)
    path = tmp_path / filename
    path.write_bytes(data)
    before = contents(index_root)
    result = pkgindex("add", path, "--root", index_root)
    failed(result, 1, f"error: {filename}: installers would choose it over the published")
    assert reason in result.stderr and "--replace" in result.stderr
    assert contents(index_root) == before
    result = pkgindex("add", path, "--root", index_root, "--replace")
    assert result.returncode == 0, result.stderr
    assert filename in (index_root / "good" / "index.html").read_text()


def test_edited_metadata_file_needs_verify(index_root: Path, pkgindex: Run) -> None:
    """What docs/generate.md promises: a warm run does not read .metadata files; --verify
    restores an edited one from the wheel."""
    metadata = index_root / "good" / "good-1.0-py3-none-any.whl.metadata"
    original = metadata.read_bytes()
    metadata.write_bytes(original.replace(b"Name: good", b"Name: evil"))
    edited = contents(index_root)
    assert pkgindex("generate", index_root).returncode == 0
    assert contents(index_root) == edited
    result = pkgindex("generate", index_root, "--verify")
    assert result.returncode == 0, result.stderr
    assert metadata.read_bytes() == original


# --- bombs ----------------------------------------------------------------------------------

_LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from pkgindex.cli import main
try:
    status = main(sys.argv[1:])
finally:
    # VmHWM: the peak of this program's own memory. Not ru_maxrss, which Linux carries over
    # exec from the forked parent (a big pytest process would be measured instead).
    with open("/proc/self/status") as status_file:
        peak = next(line.split()[1] for line in status_file if line.startswith("VmHWM:"))
    print("max-rss-kib", peak, file=sys.stderr)
sys.exit(status)
"""


def run_limited(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """pkgindex under a memory limit: (result, CPU seconds, peak RSS in KiB).

    CPU time, not wall time: a bomb that is inflated costs CPU seconds whatever the machine's
    load, while a busy machine must not fail the test.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-c", _LIMITED.format(limit=MEMORY_LIMIT), *map(str, args)],
        capture_output=True,
        text=True,
        env=pkgindex_environment(),
        cwd=REPO_ROOT,
        timeout=120,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = int(result.stderr.rsplit("max-rss-kib", 1)[1].split()[0])
    return result, seconds, peak


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (hostile.metadata_bomb, "METADATA is 268435521 bytes; the limit is 4194304 (4 MiB)"),
        (hostile.lying_size_bomb, "Bad CRC-32"),
        (hostile.pkg_info_bomb, "PKG-INFO is 268435521 bytes; the limit is 4194304"),
        (hostile.long_name_header_bomb, "an extension header of 268435456 bytes"),
        (hostile.ratio_bomb, "(more than 200 times)"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_bomb(
    make: Callable[[], hostile.Made], words: str, index_root: Path, tmp_path: Path
) -> None:
    """256 MiB bombs: refused in seconds, far below the memory limit, nothing written."""
    made = make()
    bomb = put(tmp_path / "in", made)
    before = contents(index_root)
    result, seconds, peak = run_limited("add", bomb, "--root", index_root)
    failed(result, 1, words)
    assert contents(index_root) == before
    assert seconds < 20 and peak < 200 << 10, (seconds, peak)
    put(index_root / "bad", made)
    result, seconds, peak = run_limited("generate", index_root, "--skip-invalid")
    failed(result, 3, words)
    assert seconds < 20 and peak < 200 << 10, (seconds, peak)


def test_many_members(index_root: Path, tmp_path: Path) -> None:
    bomb = put(tmp_path / "in", hostile.many_members(100_001))
    result, seconds, peak = run_limited("add", bomb, "--root", index_root)
    failed(result, 1, "the archive has 100002 members (the limit is 100000)")
    assert seconds < 20 and peak < 300 << 10, (seconds, peak)


def test_pull_mode_never_commits_temporary_files(tmp_path: Path) -> None:
    """A killed run's ``.NAME.PID.THREAD.tmp`` files in the checkout are never staged."""
    from pkgindex.process import Runner
    from pkgindex.pull.vcs import commit_and_push

    checkout = tmp_path / "index"
    checkout.mkdir()
    for command in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "0"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *command],
            cwd=checkout,
            check=True,
        )

    def apply(root: Path) -> str:
        put(root / "good", hostile.wheel("good", "1.0"))
        (root / "good" / ".index.html.4242.139.tmp").write_text("partial")
        (root / ".index.json.4242.139.tmp").write_text("partial")
        return "add good"

    result = commit_and_push(checkout, apply, runner=Runner(log_dir=tmp_path / "logs"))
    assert result.commit is not None
    committed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "HEAD"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert committed == ["good/good-1.0-py3-none-any.whl"]
