"""The folder store's primitives: listings, links, limits, atomic writes and stale temporaries."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkgindex.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    PkgIndexError,
    StaleError,
    UsageError,
)
from pkgindex.stores.base import ANY
from pkgindex.stores.local import (
    RACY_NS,
    LocalStore,
    copy_atomic,
    locked,
    remove_if_stale,
    remove_stale_temporaries,
    temporary_name,
    write_atomic,
    write_new,
)


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """A process id no process can have (above Linux's largest pid_max, 2**22): signalling it
    never reaches anyone, even if a planted bug sends a real signal."""
    return 2**22 + 1


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A process of our own that stays alive while the test runs (and is collected after);
    a planted bug that sends it a real signal (SIGHUP, even under nohup) kills it."""
    code = (
        "import signal, sys, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
        "print('ready', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        yield child.pid
        with pytest.raises(subprocess.TimeoutExpired):  # a planted signal has landed by then
            child.wait(timeout=0.3)
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def temporary(folder: Path, name: str, pid: int) -> Path:
    path = folder / f".{name}.{pid}.{threading.get_ident()}.tmp"
    path.write_bytes(b"partial")
    return path


def sizes_of(store: LocalStore, folder: str) -> dict[str, int]:
    listing = store.list_folder(folder, sized=lambda name: name.endswith(".whl"))
    assert listing is not None
    return dict(listing.sizes)


def test_the_root_listing_sorts_folders_and_files_and_leaves_out_dot_names(tmp_path: Path) -> None:
    for folder in ("numpy", "attrs", ".git"):
        (tmp_path / folder).mkdir()
    for file in ("index.json", "index.html", ".nojekyll"):
        (tmp_path / file).write_text("x")
    listing = LocalStore(tmp_path).list_root()
    assert listing.folders == ("attrs", "numpy")
    assert listing.files == ("index.html", "index.json")


def test_a_linked_folder_in_the_root_listing_is_still_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    store = LocalStore(tmp_path)
    assert store.list_root().folders == ("linked", "real")
    listing = store.list_folder("linked", sized=lambda _: True)
    assert listing is not None and listing.sizes == {}
    assert [p.message for p in listing.problems] == [
        "linked/: a symbolic link; project folders must be real folders inside the index root"
    ]
    assert store.list_folder("real", sized=lambda _: True) is None  # empty


def test_stale_temporaries_are_removed_only_under_the_lock(tmp_path: Path, dead_pid: int) -> None:
    (tmp_path / "dace").mkdir()
    (tmp_path / "dace" / "dace-1.0-py3-none-any.whl").write_bytes(b"12345")
    in_root = temporary(tmp_path, "index.html", dead_pid)
    in_folder = temporary(tmp_path / "dace", "index.html", dead_pid)
    ours = temporary(tmp_path / "dace", "index.json", os.getpid())
    store = LocalStore(tmp_path)
    assert store.list_root().files == ()
    assert sizes_of(store, "dace") == {"dace-1.0-py3-none-any.whl": 5}
    assert in_root.exists() and in_folder.exists()
    with store.lock():
        assert not in_root.exists()  # taking the lock cleans the root
        late = temporary(tmp_path, "index.json", dead_pid)
        store.list_root()
        assert not late.exists()
        assert sizes_of(store, "dace") == {"dace-1.0-py3-none-any.whl": 5}
        assert not in_folder.exists() and ours.exists()  # a live writer's file stays
    late = temporary(tmp_path, "index.json", dead_pid)
    store.list_root()
    assert late.exists()


def test_remove_if_stale_reads_the_writer_from_the_name(
    tmp_path: Path, dead_pid: int, live_pid: int
) -> None:
    assert remove_if_stale(temporary(tmp_path, "a.whl", dead_pid)) is True
    assert remove_if_stale(temporary(tmp_path, "b.whl", os.getpid())) is False
    assert remove_if_stale(temporary(tmp_path, "c.whl", live_pid)) is False
    odd = tmp_path / ".odd.tmp"
    odd.write_bytes(b"")
    assert remove_if_stale(odd) is False and odd.exists()
    not_a_pid = tmp_path / ".x.whl.pid.1.tmp"
    not_a_pid.write_bytes(b"")
    assert remove_if_stale(not_a_pid) is False and not_a_pid.exists()
    gone = temporary(tmp_path, "d.whl", dead_pid)
    gone.unlink()
    assert remove_if_stale(gone) is False
    names = sorted(p.name for p in tmp_path.iterdir())
    thread = threading.get_ident()
    assert names == [
        f".b.whl.{os.getpid()}.{thread}.tmp",
        f".c.whl.{live_pid}.{thread}.tmp",
        ".odd.tmp",
        ".x.whl.pid.1.tmp",
    ]


def test_remove_stale_temporaries_names_what_it_removed(tmp_path: Path, dead_pid: int) -> None:
    stale = temporary(tmp_path, "index.html", dead_pid)
    temporary(tmp_path, "index.json", os.getpid())
    (tmp_path / "index.tmp").write_bytes(b"not ours: no dot")
    (tmp_path / f"index.{dead_pid}.1.tmp").write_bytes(b"not ours: no dot")
    (tmp_path / ".index.html").write_bytes(b"not ours: no .tmp")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert len(list(tmp_path.iterdir())) == 4


def test_a_folder_listing_sizes_what_is_asked_and_names_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "dace"
    folder.mkdir()
    (folder / "dace-1.0-py3-none-any.whl").write_bytes(b"123")
    (folder / "index.html").write_bytes(b"12345")
    (folder / ".hidden.whl").write_bytes(b"1")
    listing = LocalStore(tmp_path).list_folder("dace", sized=lambda n: n.endswith(".whl"))
    assert listing is not None
    assert listing.sizes == {"dace-1.0-py3-none-any.whl": 3}
    assert listing.names == frozenset({"index.html"})
    assert listing.problems == ()
    assert sorted(listing.etags) == [".hidden.whl", "dace-1.0-py3-none-any.whl", "index.html"]
    assert len(listing.etags) == 3
    stat = (folder / "index.html").stat()
    assert listing.etags["index.html"] == f"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}"
    with pytest.raises(KeyError, match=r"index\.json"):
        listing.etags["index.json"]


def test_links_inside_the_root_are_files_and_others_are_problems(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "dace").mkdir(parents=True)
    outside.mkdir()
    (root / "shared.whl").write_bytes(b"1234")
    (outside / "secret.whl").write_bytes(b"12")
    (root / "dace" / "in.whl").symlink_to(root / "shared.whl")
    (root / "dace" / "out.whl").symlink_to(outside / "secret.whl")
    (root / "dace" / "broken.whl").symlink_to(root / "missing.whl")
    listing = LocalStore(root).list_folder("dace", sized=lambda _: True)
    assert listing is not None
    assert listing.sizes == {"in.whl": 4}
    assert sorted(p.message for p in listing.problems) == [
        "dace/broken.whl: a broken symbolic link",
        "dace/out.whl: a symbolic link that leaves the index root",
    ]


@pytest.mark.parametrize("folder", ["missing", "file.txt", "empty"])
def test_a_folder_with_nothing_in_it_lists_as_none(tmp_path: Path, folder: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".dot").write_text("x")
    assert LocalStore(tmp_path).list_folder(folder, sized=lambda _: True) is None


def test_reads_are_limited_and_missing_keys_are_none(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "index.json").write_bytes(b"12345")
    read = store.read("index.json", max_size=5)
    assert read is not None and read.data == b"12345"
    with pytest.raises(IntegrityError, match=r"index.json: 5 bytes, more than the 4 allowed"):
        store.read("index.json", max_size=4)
    assert store.read("missing.json") is None
    assert store.read("index.json/below") is None
    assert store.stat("index.json/below") is None and store.stat("nothing") is None
    info = store.stat("index.json")
    assert info is not None and info.size == 5 and info.etag == read.etag
    with store.open("index.json") as stream:
        assert stream.read() == b"12345"
    with store.local_paths(["index.json", "dace/x.whl"]) as paths:
        assert paths == {
            "index.json": str(tmp_path / "index.json"),
            "dace/x.whl": str(tmp_path / "dace/x.whl"),
        }


def test_created_copies_are_compared_by_size_then_bytes(tmp_path: Path) -> None:
    source = tmp_path / "source.whl"
    source.write_bytes(b"abcd")
    store = LocalStore(tmp_path / "index")
    assert store.create("dace/dace-1.0-py3-none-any.whl", source) is True
    target = tmp_path / "index" / "dace" / "dace-1.0-py3-none-any.whl"
    assert target.read_bytes() == b"abcd"
    assert store.create("dace/dace-1.0-py3-none-any.whl", source) is False
    for other in (b"abcD", b"abcde"):
        source.write_bytes(other)
        with pytest.raises(ConflictError, match=r"dace-1\.0-py3-none-any\.whl: the index"):
            store.create("dace/dace-1.0-py3-none-any.whl", source)
    with pytest.raises(ConflictError):
        store.create("dace/dace-1.0-py3-none-any.whl", b"abcD")  # same size, other bytes
    assert target.read_bytes() == b"abcd"
    store.overwrite("dace/dace-1.0-py3-none-any.whl", source)
    assert target.read_bytes() == b"abcde"
    assert store.delete("dace/dace-1.0-py3-none-any.whl") is True
    assert store.delete("dace/dace-1.0-py3-none-any.whl") is False


def test_replacing_a_removed_page_is_stale_unless_unconditional(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.replace("dace/index.json", b"{}", etag=None) is True
    read = store.read("dace/index.json")
    assert read is not None
    (tmp_path / "dace" / "index.json").unlink()
    with pytest.raises(StaleError, match=r"dace/index.json: removed by another writer"):
        store.replace("dace/index.json", b"{1}", etag=read.etag)
    assert not (tmp_path / "dace" / "index.json").exists()
    assert store.replace("dace/index.json", b"{2}", etag=ANY) is True
    assert store.replace("dace/index.json", b"{2}", etag=ANY) is False
    assert store.replace("dace/index.json", b"{3}", etag=ANY) is True
    assert (tmp_path / "dace" / "index.json").read_bytes() == b"{3}"


def test_temporary_names_fit_a_file_system_name() -> None:
    name = "a" * 246 + ".whl.metadata"
    expected = f".{name[:200]}.{os.getpid()}.{threading.get_ident()}.tmp"
    assert temporary_name(name) == expected
    assert temporary_name("index.html") == f".index.html.{os.getpid()}.{threading.get_ident()}.tmp"


def test_atomic_writes_make_folders_and_leave_no_temporary(tmp_path: Path) -> None:
    write_atomic(tmp_path / "new" / "index.html", b"page")
    assert (tmp_path / "new" / "index.html").read_bytes() == b"page"
    source = tmp_path / "big.whl"
    source.write_bytes(bytes(range(256)) * 9000)  # more than one buffer
    copy_atomic(source, tmp_path / "copy" / "big.whl")
    assert (tmp_path / "copy" / "big.whl").read_bytes() == source.read_bytes()
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["big.whl"]


def test_a_failed_copy_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        copy_atomic(tmp_path / "missing", tmp_path / "index.html")
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
    assert (tmp_path / "index.html").read_bytes() == b"old"


def test_the_lock_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing: no such folder"), locked(tmp_path / "missing"):
        pass
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"file: not a folder"), locked(tmp_path / "file"):
        pass


def test_the_lock_resolves_a_linked_root(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    store = LocalStore(tmp_path / "link")
    assert store.location == str(tmp_path / "link") and store.exists()
    assert repr(store) == f"LocalStore({str(tmp_path / 'link')!r})"
    with store.lock():
        assert store.location == str(tmp_path / "real")
    assert store.describe("dace/index.html") == str(tmp_path / "real" / "dace" / "index.html")
    assert store.writes_in_processes is True
    assert not LocalStore(tmp_path / "nothing").exists()


@pytest.mark.parametrize("key", ["../outside.whl", "/etc/passwd", "dace/../../outside.whl", ""])
def test_no_key_reaches_outside_the_root(tmp_path: Path, key: str) -> None:
    (tmp_path / "outside.whl").write_bytes(b"secret")
    store = LocalStore(tmp_path / "index")
    for call in (
        lambda: store.read(key),
        lambda: store.stat(key),
        lambda: store.create(key, b"x"),
        lambda: store.replace(key, b"x", etag=ANY),
        lambda: store.delete(key),
    ):
        with pytest.raises(PkgIndexError, match="not a valid path inside the index"):
            call()
    assert (tmp_path / "outside.whl").read_bytes() == b"secret"


def test_a_folder_changed_within_the_racy_window_has_no_stamp(tmp_path: Path) -> None:
    (tmp_path / "fresh").mkdir()
    soon = time.time_ns() + RACY_NS // 2  # changed "in half a second": surely too recent
    os.utime(tmp_path / "fresh", ns=(soon, soon))
    listing = LocalStore(tmp_path).list_root()
    assert listing.folders == ("fresh",) and listing.stamps == {}


def test_files_are_written_readable_by_all_and_writable_by_the_owner(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "two" / "levels" / "index.html", b"page")
        copy_atomic(tmp_path / "two" / "levels" / "index.html", tmp_path / "copy.html")
        LocalStore(tmp_path).create("dace/dace-1.0.tar.gz", b"sdist")
    finally:
        os.umask(previous)
    for path in ("two/levels/index.html", "copy.html", "dace/dace-1.0.tar.gz"):
        assert stat.S_IMODE((tmp_path / path).stat().st_mode) == 0o644, path


def test_the_lock_excludes_other_holders(tmp_path: Path) -> None:
    other = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with locked(tmp_path), pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released
    finally:
        os.close(other)


def test_write_new_never_replaces_or_follows_a_link(tmp_path: Path) -> None:
    write_new(tmp_path / "a.metadata", b"one")
    with pytest.raises(FileExistsError):
        write_new(tmp_path / "a.metadata", b"two")
    (tmp_path / "link.metadata").symlink_to(tmp_path / "target")
    with pytest.raises(FileExistsError):
        write_new(tmp_path / "link.metadata", b"two")
    assert (tmp_path / "a.metadata").read_bytes() == b"one"
    assert not (tmp_path / "target").exists()


def test_a_file_created_in_place_is_whole_or_absent(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    previous = os.umask(0o022)
    try:
        assert LocalStore(tmp_path).create("dace/a.metadata", b"m", atomic=False) is True
        write_new(tmp_path / "b.metadata", b"n")
    finally:
        os.umask(previous)
    for name in ("dace/a.metadata", "b.metadata"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    with pytest.raises(TypeError):
        write_new(tmp_path / "c.metadata", "not bytes")  # type: ignore[arg-type]
    assert not (tmp_path / "c.metadata").exists()  # a failed write leaves nothing
    assert len(os.listdir("/proc/self/fd")) == before  # and no open descriptor


def test_root_files_may_be_links_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / ".pages").mkdir()
    (tmp_path / ".pages" / "index.json").write_bytes(b"{}")
    (tmp_path / "index.json").symlink_to(tmp_path / ".pages" / "index.json")
    found = LocalStore(tmp_path).read("index.json")
    assert found is not None and found.data == b"{}"


def test_a_worker_starting_by_importing_the_main_script_may_not_take_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """multiprocessing marks a worker that imports the main script as _inheriting; a command
    run at that moment would wait forever for the lock its parent holds."""
    import multiprocessing

    with locked(tmp_path):
        pass  # an ordinary process takes it
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with (
        pytest.raises(UsageError, match="imported the main script again") as raised,
        locked(tmp_path),
    ):
        pytest.fail("the lock was taken")
    assert "if __name__ == '__main__'" in (raised.value.hint or "")
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", False)
    with locked(tmp_path):
        pass
