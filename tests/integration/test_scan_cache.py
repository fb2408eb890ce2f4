"""The scan cache: a warm run lists only the folders that changed since the last run.

Folders are remembered by their stamp (inode, mtime, ctime) once their last change is older
than ``RACY_NS``, so each test waits that long once before the run that remembers them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import MakeWheel

from pkgindex.errors import IntegrityError
from pkgindex.index import refresh as index
from pkgindex.index import scancache
from pkgindex.stores.local import RACY_NS, LocalStore

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
PROJECTS = ("alpha", "bravo", "charlie", "delta", "echo")


def generate(root: Path, **options: bool) -> index.GenerateReport:
    return index.generate(LocalStore(root), clock=lambda: T0, **options)


def remembered(root: Path) -> dict[str, tuple[str, str]]:
    return scancache.load(LocalStore(root))


@pytest.fixture
def settled(tmp_path: Path, make_wheel: MakeWheel) -> Path:
    """An index of five projects, generated, aged past RACY_NS, and generated again (which
    remembers every folder)."""
    root = tmp_path / "index"
    for name in PROJECTS:
        make_wheel(root / name, name, "1.0")
        make_wheel(root / name, name, "2.0")
    generate(root)
    time.sleep(RACY_NS / 1e9 + 0.1)
    assert generate(root).written == ()
    assert sorted(remembered(root)) == list(PROJECTS)
    return root


def test_changes_that_touch_a_folder_are_noticed(settled: Path, make_wheel: MakeWheel) -> None:
    root = settled
    make_wheel(root / "alpha", "alpha", "3.0")  # a new file
    (root / "bravo" / "bravo-1.0-py3-none-any.whl").unlink()  # a removed file
    (root / "charlie" / "index.html").unlink()  # a deleted page
    metadata = root / "delta" / "delta-2.0-py3-none-any.whl.metadata"
    metadata.rename(metadata.with_name("elsewhere"))  # a metadata file moved out
    report = generate(root)
    assert report.indexed == ("alpha-3.0-py3-none-any.whl",)
    assert report.dropped == ("bravo-1.0-py3-none-any.whl",)
    assert "charlie/index.html" in report.written
    assert "delta/delta-2.0-py3-none-any.whl.metadata" in report.written
    assert not any(key.startswith("echo/") for key in report.written)
    # the folders written into are listed again by the next run: not remembered yet
    assert set(remembered(root)) == {"echo"}


def test_a_folder_put_in_place_of_another_is_noticed(
    settled: Path, make_wheel: MakeWheel, tmp_path: Path
) -> None:
    root = settled
    other = tmp_path / "other"
    make_wheel(other, "echo", "9.0")
    shutil.copystat(root / "echo", other)  # same mtime: the inode and ctime differ
    shutil.rmtree(root / "echo")
    other.rename(root / "echo")
    assert generate(root).indexed == ("echo-9.0-py3-none-any.whl",)


def test_a_reset_mtime_is_noticed(settled: Path, make_wheel: MakeWheel) -> None:
    """``touch -d`` or ``rsync -a`` putting back a folder's old mtime still changes its ctime."""
    folder = settled / "alpha"
    before = folder.stat()
    make_wheel(folder, "alpha", "3.0")
    os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert folder.stat().st_mtime_ns == before.st_mtime_ns
    assert generate(settled).indexed == ("alpha-3.0-py3-none-any.whl",)


def test_a_rewrite_in_place_is_left_to_verify(settled: Path) -> None:
    """What the cache does not see, and docs/generate.md says so: a file rewritten in place,
    under its name, changes no entry of its folder. ``--verify`` lists and reads everything."""
    wheel = settled / "delta" / "delta-1.0-py3-none-any.whl"
    with wheel.open("ab") as stream:
        stream.write(b"appended")
    assert generate(settled).written == ()
    with pytest.raises(IntegrityError, match=r"delta/delta-1.0-py3-none-any.whl: the file changed"):
        generate(settled, verify=True)


def test_a_damaged_cache_lists_every_folder(settled: Path) -> None:
    path = scancache.cache_file(LocalStore(settled))
    assert path is not None
    saved = json.loads(path.read_bytes())
    assert saved["format"] == scancache.FORMAT
    assert saved["root"] == str(settled)
    for damage in (b"{", b"[]", b'{"format": 1, "folders": {"alpha": "x"}}'):
        path.write_bytes(damage)
        assert remembered(settled) == {}
        wheel = settled / "echo" / "echo-2.0-py3-none-any.whl"
        with wheel.open("ab") as stream:  # noticed only by listing: a size change in place
            stream.write(b"x")
        with pytest.raises(IntegrityError, match="its size is now"):
            generate(settled)
        wheel.write_bytes(wheel.read_bytes()[:-1])


def test_a_cache_that_cannot_be_written_is_skipped(
    tmp_path: Path, make_wheel: MakeWheel, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("PKGINDEX_CACHE_DIR", str(blocker))
    root = tmp_path / "index"
    make_wheel(root / "alpha", "alpha", "1.0")
    assert generate(root).indexed == ("alpha-1.0-py3-none-any.whl",)
    assert remembered(root) == {}
