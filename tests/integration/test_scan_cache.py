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


def test_where_the_cache_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    monkeypatch.setenv("PKGINDEX_CACHE_DIR", str(tmp_path / "explicit"))
    path = scancache.cache_file(store)
    assert path is not None and path.parent == tmp_path / "explicit" / "folders"
    assert path.suffix == ".json" and len(path.stem) == 32  # a 16-byte digest of the root
    monkeypatch.delenv("PKGINDEX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert scancache.cache_file(store) == tmp_path / "xdg" / "pkgindex" / "folders" / path.name
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".cache" / "pkgindex" / "folders" / path.name
    assert scancache.cache_file(store) == expected


def test_a_root_whose_path_is_not_utf8_has_a_cache(tmp_path: Path, make_wheel: MakeWheel) -> None:
    root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/index-\xff"))
    make_wheel(root / "alpha", "alpha", "1.0")
    path = scancache.cache_file(LocalStore(root))
    assert path is not None and path.parent.name == "folders"


def test_what_a_cache_file_must_hold(tmp_path: Path, make_wheel: MakeWheel) -> None:
    root = tmp_path / "index"
    make_wheel(root / "alpha", "alpha", "1.0")
    store = LocalStore(root)
    path = scancache.cache_file(store)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    good = {"c": ["1:2:3", "fp"]}
    entries = {"a": [1, "fp"], "b": ["1:2:3", 2], "d": ["1:2:3"], "e": "1:2:3", **good}
    path.write_text(json.dumps({"format": 1, "root": str(root), "folders": entries}))
    assert scancache.load(store) == {"c": ("1:2:3", "fp")}  # the others are left out
    path.write_text(json.dumps({"format": 2, "folders": good}))
    assert scancache.load(store) == {}  # another format
    path.write_text(json.dumps({"format": 1, "folders": ["c"]}))
    assert scancache.load(store) == {}


def test_a_cache_file_over_the_limit_is_ignored(tmp_path: Path) -> None:
    """64 MiB: about 700,000 folders; more is not a cache this code wrote."""
    limit = 64 << 20
    store = LocalStore(tmp_path)
    path = scancache.cache_file(store)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    document = json.dumps({"format": 1, "folders": {"c": ["1:2:3", "fp"]}}).encode()
    path.write_bytes(document + b" " * (limit + 1 - len(document)))
    assert scancache.load(store) == {}  # valid JSON, but more bytes than a cache may have
    path.write_bytes(document + b" " * (limit - len(document)))
    assert scancache.load(store) == {"c": ("1:2:3", "fp")}


def test_the_cache_folder_is_made_with_its_parents(
    settled: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PKGINDEX_CACHE_DIR", str(tmp_path / "a" / "b"))
    generate(settled)  # lists every folder (nothing remembered here) and remembers them
    assert sorted(remembered(settled)) == list(PROJECTS)
    saved = json.loads(next((tmp_path / "a" / "b" / "folders").iterdir()).read_bytes())
    assert saved["format"] == 1 and sorted(saved["folders"]) == list(PROJECTS)


def test_a_cache_that_cannot_be_written_after_a_listing_is_skipped(
    settled: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("PKGINDEX_CACHE_DIR", str(blocker))
    assert generate(settled).written == ()  # every folder listed, nothing to remember it in
    assert remembered(settled) == {}
    assert not list(tmp_path.glob("**/.*.tmp"))


def test_a_cache_file_that_cannot_be_replaced_leaves_no_temporary(settled: Path) -> None:
    path = scancache.cache_file(LocalStore(settled))
    assert path is not None
    path.unlink()
    path.mkdir()  # the rename onto it fails
    (settled / "alpha" / "index.html").unlink()
    assert generate(settled).written == ("alpha/index.html",)
    assert path.is_dir() and not list(path.parent.glob(f".{path.name}.*"))  # no temporary
