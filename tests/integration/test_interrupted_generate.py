"""A cold ``generate`` killed with SIGKILL at random moments, 20 times (issue 7, item 12).

After each kill, nothing the run started may live on (its process-pool workers included), and
the next run must start at once (no orphan holds the lock), finish in seconds, and leave output
byte-identical to an uninterrupted run, with no temporary file left anywhere.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import hostile
from tests.integration.conftest import pkgindex_environment

ROUNDS = 20
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def contents(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def write_corpus(root: Path) -> None:
    """70 small wheels in 14 projects: enough for the process pool (64 files and more)."""
    for project in range(14):
        for minor in range(5):
            filename, data = hostile.wheel(f"p{project}", f"1.{minor}")
            folder = root / f"p{project}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / filename).write_bytes(data)


def generate(root: Path, marker: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pkgindex", "generate", str(root), "-q"],
        env={**pkgindex_environment(), **EPOCH, "PKGINDEX_TEST_MARKER": marker},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def survivors(marker: str) -> list[int]:
    """Processes whose environment carries ``marker``: the run and everything it started."""
    found = []
    needle = f"PKGINDEX_TEST_MARKER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue  # gone, or not ours
    return found


def finish(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stderr.decode()


def test_killed_cold_generate_recovers(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    write_corpus(pristine)
    reference = tmp_path / "reference"
    shutil.copytree(pristine, reference)
    started = time.monotonic()
    status, stderr = finish(generate(reference, "reference"), timeout=120)
    duration = time.monotonic() - started
    assert status == 0, stderr
    expected = contents(reference)
    assert any(name.endswith(".metadata") for name in expected)

    moments = random.Random(7).sample(range(1000), ROUNDS)
    for round_number, moment in enumerate(moments):
        root = tmp_path / f"round{round_number}"
        shutil.copytree(pristine, root)
        marker = f"{os.getpid()}-{round_number}"
        process = generate(root, marker)
        time.sleep(duration * moment / 1000)
        process.send_signal(signal.SIGKILL)
        finish(process, timeout=60)
        deadline = time.monotonic() + 5
        while survivors(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert survivors(marker) == [], f"round {round_number}: processes outlived the run"

        started = time.monotonic()
        status, stderr = finish(generate(root, f"{marker}-next"), timeout=60)
        elapsed = time.monotonic() - started
        assert status == 0, f"round {round_number} (kill at {moment / 10:.1f}%): {stderr}"
        assert elapsed < 10 + duration, f"round {round_number}: the next run took {elapsed:.1f} s"
        assert contents(root) == expected, f"round {round_number} (kill at {moment / 10:.1f}%)"
        assert list(root.rglob("*.tmp")) == []
        shutil.rmtree(root)
