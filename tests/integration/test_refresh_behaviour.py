"""The refresh's guarantees, called in this process (fast: the mutation run uses these).

The command-line tests (test_generate_index.py) check the same guarantees through
``python -m pkgindex``; these check the library's reports and errors exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import MakeWheel, wheel_bytes

from pkgindex.config import DEFAULT_TITLE
from pkgindex.errors import (
    ConflictError,
    IntegrityError,
    InvalidDistributionError,
    PkgIndexError,
    StaleError,
    ValidationError,
)
from pkgindex.index import refresh as index
from pkgindex.index import scancache
from pkgindex.index.add import add_files
from pkgindex.index.catalog import RootState
from pkgindex.index.remove import remove
from pkgindex.index.render import FORMAT_VERSION
from pkgindex.index.scan import scan_root
from pkgindex.index.yank import set_yanked
from pkgindex.stores.local import RACY_NS, LocalStore

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = datetime(2026, 6, 7, 8, 9, 10, tzinfo=UTC)
EPOCH = "1!0.5"


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ROOT: bytes and mtime (ns)."""
    found = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            found[str(path.relative_to(root))] = (path.read_bytes(), path.lstat().st_mtime_ns)
    return found


def page(root: Path, project: str) -> dict:  # type: ignore[type-arg]
    return json.loads((root / project / "index.json").read_bytes())  # type: ignore[no-any-return]


def entries(root: Path, project: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["filename"]: f for f in page(root, project)["files"]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def relative(root: Path, keys: tuple[str, ...]) -> set[str]:
    """The keys a report says were written (relative to ROOT already, in the Store protocol)."""
    return set(keys)


def garble(path: Path) -> None:
    """Same size, other bytes: a run that reads the file fails on it."""
    path.write_bytes(bytes((i * 7 + 13) % 256 for i in range(path.stat().st_size)))


@pytest.fixture
def root(tmp_path: Path, make_wheel: MakeWheel) -> Path:
    root = tmp_path / "index"
    make_wheel(root / "dace", "dace", "1.0", requires_python=">=3.8")
    make_wheel(root / "dace", "dace", EPOCH, requires_python=">=3.9")
    make_wheel(root / "ghex", "ghex", "0.4.1", tag="cp311-cp311-linux_x86_64")
    report = index.generate(LocalStore(root), clock=at(T0))
    assert report.projects == ("dace", "ghex")
    assert sorted(report.indexed) == [
        "dace-1!0.5-py3-none-any.whl",
        "dace-1.0-py3-none-any.whl",
        "ghex-0.4.1-cp311-cp311-linux_x86_64.whl",
    ]
    assert report.dropped == () and report.skipped == ()
    return root


# --- what a first run writes ------------------------------------------------------------------


def test_the_report_times_the_steps_that_ran(root: Path, make_wheel: MakeWheel) -> None:
    store = LocalStore(root)
    assert set(index.generate(store, clock=at(T1)).timings) == {"scan"}  # nothing else to do
    (root / "index.html").unlink()  # the root pages are written again, nothing else
    assert set(index.generate(store, clock=at(T1)).timings) == {"scan", "root"}
    make_wheel(root / "dace", "dace", "2.0")  # a new file: read, its folder and the root written
    started = time.perf_counter()
    timings = index.generate(store, clock=at(T1)).timings
    elapsed = time.perf_counter() - started
    assert set(timings) == {"scan", "read", "write", "root"}
    assert all(0 <= seconds <= elapsed for seconds in timings.values())
    assert sum(timings.values()) <= elapsed
    (root / "ghex" / "index.html").unlink()  # a folder written again, no file to read
    assert set(index.generate(store, clock=at(T1)).timings) == {"scan", "write", "root"}


def test_a_first_run_writes_every_page_and_metadata_file(root: Path) -> None:
    files = set(snapshot(root))
    assert files == {
        "index.html", "index.json",
        "dace/index.html", "dace/index.json",
        "dace/dace-1.0-py3-none-any.whl", "dace/dace-1.0-py3-none-any.whl.metadata",
        "dace/dace-1!0.5-py3-none-any.whl", "dace/dace-1!0.5-py3-none-any.whl.metadata",
        "ghex/index.html", "ghex/index.json",
        "ghex/ghex-0.4.1-cp311-cp311-linux_x86_64.whl",
        "ghex/ghex-0.4.1-cp311-cp311-linux_x86_64.whl.metadata",
    }  # fmt: skip
    dace = entries(root, "dace")
    wheel = root / "dace" / "dace-1.0-py3-none-any.whl"
    metadata = (root / "dace" / "dace-1.0-py3-none-any.whl.metadata").read_bytes()
    assert metadata == b"Metadata-Version: 2.1\nName: dace\nVersion: 1.0\nSummary: test\n" + (
        b"Requires-Python: >=3.8\n\n"
    )
    assert dace[wheel.name] == {
        "filename": wheel.name,
        "url": "dace-1.0-py3-none-any.whl",
        "hashes": {"sha256": sha256(wheel)},
        "requires-python": ">=3.8",
        "core-metadata": {"sha256": hashlib.sha256(metadata).hexdigest()},
        "size": wheel.stat().st_size,
        "upload-time": "2025-01-02T03:04:05.000000Z",
        "yanked": False,
    }
    assert dace["dace-1!0.5-py3-none-any.whl"]["url"] == "dace-1%210.5-py3-none-any.whl"
    assert "requires-python" not in entries(root, "ghex")["ghex-0.4.1-cp311-cp311-linux_x86_64.whl"]
    assert page(root, "dace")["versions"] == ["1.0", "1!0.5"]
    root_page = json.loads((root / "index.json").read_bytes())
    assert root_page["projects"] == [{"name": "dace"}, {"name": "ghex"}]
    private = root_page["_pkgindex"]
    assert set(private.pop("fingerprints")) == {"dace", "ghex"}
    assert private.pop("summaries") == {
        "dace": {"files": 2, "last-upload": "2025-01-02T03:04:05.000000Z", "version": "1!0.5"},
        "ghex": {"files": 1, "last-upload": "2025-01-02T03:04:05.000000Z", "version": "0.4.1"},
    }
    # the render format and site settings: a change to either renders every page again
    assert private == {"format": FORMAT_VERSION, "title": DEFAULT_TITLE, "url": None}


# --- incremental ------------------------------------------------------------------------------


def test_a_warm_run_reads_and_writes_nothing(root: Path) -> None:
    for wheel in root.glob("*/*.whl"):
        garble(wheel)
    before = snapshot(root)
    report = index.generate(LocalStore(root), clock=at(T1))
    assert (report.written, report.indexed, report.dropped) == ((), (), ())
    assert report.projects == ("dace", "ghex")
    assert snapshot(root) == before


def test_a_warm_run_does_not_read_the_catalog_of_an_unchanged_folder(root: Path) -> None:
    """Proof that nothing is read: catalog pages damaged in place (same size, so the same
    fingerprint) go unnoticed until --verify reads every folder."""
    for catalog in root.glob("*/index.json"):
        garble(catalog)
    before = snapshot(root)
    report = index.generate(LocalStore(root), clock=at(T1))
    assert (report.written, report.indexed, report.dropped) == ((), (), ())
    assert snapshot(root) == before
    with pytest.raises(ValidationError) as raised:
        index.generate(LocalStore(root), verify=True, clock=at(T1))
    assert sorted(p.message.split(":")[0] for p in raised.value.problems) == [
        str(root / "dace" / "index.json"),
        str(root / "ghex" / "index.json"),
    ]


def test_a_new_url_relists_remembered_folders_and_forgets_the_ones_written(
    tmp_path: Path, make_wheel: MakeWheel
) -> None:
    root = tmp_path / "index"
    for name in ("alpha", "bravo"):
        make_wheel(root / name, name, "1.0")
    index.generate(LocalStore(root), clock=at(T0))
    time.sleep(RACY_NS / 1e9 + 0.1)  # old enough to be stamped
    assert index.generate(LocalStore(root), clock=at(T0)).written == ()
    assert sorted(scancache.load(LocalStore(root))) == ["alpha", "bravo"]  # taken unlisted next
    listed, _ = scan_root(LocalStore(root))  # with nothing remembered: every folder listed
    assert [(f.name, f.listed, f.stamp is not None) for f in listed] == [
        ("alpha", True, True),
        ("bravo", True, True),
    ]
    report = index.generate(LocalStore(root), url="https://new.example/simple/", clock=at(T1))
    assert sorted(report.written) == [
        "alpha/index.html", "bravo/index.html", "index.html", "index.json",
    ]  # fmt: skip
    assert "https://new.example/simple/" in (root / "alpha" / "index.html").read_text()
    assert scancache.load(LocalStore(root)) == {}  # written: their stamps changed


def test_a_skipped_problem_is_reported_by_every_later_run(
    tmp_path: Path, make_wheel: MakeWheel
) -> None:
    """A broken link is found by listing its folder: the scan cache must not let a later run
    take that folder unlisted, or a strict run would pass without reporting it."""
    root = tmp_path / "index"
    for name in ("alpha", "bravo"):
        make_wheel(root / name, name, "1.0")
    (root / "bravo" / "bravo-9.0-py3-none-any.whl").symlink_to(root / "missing.whl")
    broken = "bravo/bravo-9.0-py3-none-any.whl: a broken symbolic link"
    report = index.generate(LocalStore(root), skip_invalid=True, clock=at(T0))
    assert [p.message for p in report.skipped] == [broken]
    time.sleep(RACY_NS / 1e9 + 0.1)  # old enough to be stamped
    report = index.generate(LocalStore(root), skip_invalid=True, clock=at(T0))
    assert [p.message for p in report.skipped] == [broken]
    assert scancache.load(LocalStore(root)) == {}
    with pytest.raises(PkgIndexError) as raised:
        index.generate(LocalStore(root), clock=at(T0))
    assert raised.value.message == broken


def test_a_warm_run_leaves_the_root_pages_as_they_are(root: Path) -> None:
    """Nothing changed, so the root pages are not even rendered: bytes no run would write
    (an extra newline) stay."""
    for name in ("index.html", "index.json"):
        (root / name).write_bytes((root / name).read_bytes() + b"\n")
    before = snapshot(root)
    report = index.generate(LocalStore(root), clock=at(T1))
    assert report.written == ()
    assert snapshot(root) == before


def test_add_to_an_index_without_root_pages_lists_every_project(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    for name in ("index.html", "index.json"):
        (root / name).unlink()
    new = make_wheel(tmp_path / "incoming", "numpy", "2.0")
    add_files(LocalStore(root), [new], clock=at(T1))
    listed = [entry["name"] for entry in json.loads((root / "index.json").read_bytes())["projects"]]
    assert listed == ["dace", "ghex", "numpy"]


def test_a_remembered_folder_whose_links_all_broke_is_no_project_when_listed(
    tmp_path: Path, make_wheel: MakeWheel
) -> None:
    root = tmp_path / "index"
    store = root / ".store"  # a dot-folder is not a project
    target = make_wheel(store, "alpha", "1.0")
    (root / "alpha").mkdir()
    (root / "alpha" / target.name).symlink_to(target)
    index.generate(LocalStore(root), clock=at(T0))
    (root / "alpha" / "index.json").rename(store / "index.json")
    (root / "alpha" / "index.json").symlink_to(store / "index.json")
    time.sleep(RACY_NS / 1e9 + 0.1)  # old enough to be stamped
    assert index.generate(LocalStore(root), clock=at(T0)).written == ()
    assert list(scancache.load(LocalStore(root))) == ["alpha"]
    for path in (target, store / "index.json"):
        path.unlink()  # alpha's own entries are unchanged: its stamp too
    with pytest.raises(ValidationError) as raised:
        index.generate(LocalStore(root), url="https://new.example/", clock=at(T1))
    assert sorted(p.message for p in raised.value.problems) == [
        f"alpha/{target.name}: a broken symbolic link",
        "alpha/index.json: a broken symbolic link",
    ]


def test_a_new_file_is_the_only_one_read(root: Path, make_wheel: MakeWheel) -> None:
    for wheel in root.glob("*/*.whl"):
        garble(wheel)
    new = make_wheel(root / "ghex", "ghex", "0.6")
    report = index.generate(LocalStore(root), clock=at(T1))
    assert report.indexed == (new.name,)
    assert relative(root, report.written) == {
        "ghex/index.html", "ghex/index.json", f"ghex/{new.name}.metadata",
        "index.json", "index.html",  # the root page shows each project's newest upload
    }  # fmt: skip
    assert entries(root, "ghex")[new.name]["upload-time"] == "2026-06-07T08:09:10.000000Z"


def test_a_file_that_disappears_is_dropped(root: Path) -> None:
    (root / "dace" / "dace-1.0-py3-none-any.whl").unlink()
    report = index.generate(LocalStore(root), clock=at(T1))
    assert report.dropped == ("dace-1.0-py3-none-any.whl",)
    assert list(entries(root, "dace")) == ["dace-1!0.5-py3-none-any.whl"]
    assert relative(root, report.written) == {
        "dace/index.html", "dace/index.json", "index.json", "index.html",
    }  # fmt: skip


def test_a_project_whose_files_all_disappear_stays_listed_without_files(root: Path) -> None:
    for wheel in (root / "ghex").glob("*.whl"):
        wheel.unlink()
    report = index.generate(LocalStore(root), clock=at(T1))
    assert report.projects == ("dace", "ghex")
    assert page(root, "ghex")["files"] == []


def test_a_missing_metadata_file_is_restored_and_nothing_else_written(root: Path) -> None:
    metadata = root / "dace" / f"dace-{EPOCH}-py3-none-any.whl.metadata"
    expected = metadata.read_bytes()
    metadata.unlink()
    catalog = (root / "dace" / "index.json").read_bytes()
    report = index.generate(LocalStore(root), clock=at(T1))
    assert metadata.read_bytes() == expected
    assert report.indexed == ()
    assert relative(root, report.written) == {f"dace/{metadata.name}"}
    assert (root / "dace" / "index.json").read_bytes() == catalog


def test_a_partial_metadata_file_left_by_a_killed_run_is_rewritten(
    root: Path, make_wheel: MakeWheel
) -> None:
    # a new wheel's metadata file is created in place: a run killed while writing it leaves
    # it cut short, beside a wheel the catalog does not list yet
    new = make_wheel(root / "ghex", "ghex", "0.6")
    partial = root / "ghex" / f"{new.name}.metadata"
    partial.write_bytes(b"Metadata-Vers")
    report = index.generate(LocalStore(root), clock=at(T1))
    assert report.indexed == (new.name,)
    assert partial.read_bytes() == b"Metadata-Version: 2.1\nName: ghex\nVersion: 0.6\n" + (
        b"Summary: test\n\n"
    )
    assert entries(root, "ghex")[new.name]["core-metadata"] == {"sha256": sha256(partial)}
    assert f"ghex/{partial.name}" in report.written


def test_lost_derived_files_come_back_identical(root: Path) -> None:
    before = {name: data for name, (data, _) in snapshot(root).items()}
    for path in [*root.rglob("*.html"), *root.rglob("*.metadata"), root / "index.json"]:
        path.unlink()
    index.generate(LocalStore(root), clock=at(T1))
    assert {name: data for name, (data, _) in snapshot(root).items()} == before


def test_many_projects_at_once_are_written_like_few(tmp_path: Path) -> None:
    # eight or more folders are written by a thread pool
    root = tmp_path / "index"
    for number in range(9):
        folder = root / f"p{number}"
        folder.mkdir(parents=True)
        (folder / f"p{number}-1.0-py3-none-any.whl").write_bytes(wheel_bytes(f"p{number}", "1.0"))
    report = index.generate(LocalStore(root), clock=at(T0))
    assert report.projects == tuple(f"p{n}" for n in range(9))
    assert len(report.written) == 9 * 3 + 2
    for number in range(9):
        assert list(entries(root, f"p{number}")) == [f"p{number}-1.0-py3-none-any.whl"]


# --- published files do not change -----------------------------------------------------------


def test_verify_reports_a_changed_file(root: Path) -> None:
    wheel = root / "dace" / "dace-1.0-py3-none-any.whl"
    garble(wheel)
    index.generate(LocalStore(root), clock=at(T1))  # same size: a normal run does not read it
    before = snapshot(root)
    with pytest.raises(IntegrityError) as raised:
        index.generate(LocalStore(root), verify=True, clock=at(T1))
    assert raised.value.message == (
        "dace/dace-1.0-py3-none-any.whl: the file changed after it was published "
        "(its sha256 differs)"
    )
    assert "restore the original bytes" in (raised.value.hint or "")
    assert snapshot(root) == before


def test_verify_reports_a_valid_wheel_with_other_bytes(root: Path, tmp_path: Path) -> None:
    first = tmp_path / "dace-2.0-py3-none-any.whl"
    first.write_bytes(wheel_bytes("dace", "2.0", payload=b"x" * 100))
    add_files(LocalStore(root), [first], clock=at(T0))
    for filler in b"abcdefghijklmnopqrstuvw":  # a valid wheel of exactly the same size
        twin = wheel_bytes("dace", "2.0", payload=bytes([filler]) * 100)
        if len(twin) == first.stat().st_size:
            break
    else:
        pytest.fail("no same-size twin")
    (root / "dace" / first.name).write_bytes(twin)
    with pytest.raises(IntegrityError) as raised:
        index.generate(LocalStore(root), verify=True, clock=at(T1))
    assert raised.value.message == (
        f"dace/{first.name}: the file changed after it was published (its sha256 differs)"
    )


def test_verify_reports_every_changed_file_at_once(root: Path) -> None:
    for wheel in root.glob("*/*.whl"):
        garble(wheel)
    with pytest.raises(ValidationError) as raised:
        index.generate(LocalStore(root), verify=True, clock=at(T1))
    assert raised.value.message == "3 problems found; nothing was written"
    assert sorted(p.message.split(":")[0] for p in raised.value.problems) == [
        "dace/dace-1!0.5-py3-none-any.whl",
        "dace/dace-1.0-py3-none-any.whl",
        "ghex/ghex-0.4.1-cp311-cp311-linux_x86_64.whl",
    ]


def test_a_size_change_is_reported_without_verify(root: Path) -> None:
    wheel = root / "dace" / "dace-1.0-py3-none-any.whl"
    with wheel.open("ab") as stream:
        stream.write(b"\0")
    before = snapshot(root)
    with pytest.raises(IntegrityError) as raised:
        index.generate(LocalStore(root), clock=at(T1))
    size = wheel.stat().st_size
    assert raised.value.message == (
        f"dace/{wheel.name}: the file changed after it was published (its size is now {size} bytes)"
    )
    assert snapshot(root) == before


def test_a_damaged_catalog_is_reported(root: Path) -> None:
    catalog = root / "ghex" / "index.json"
    catalog.write_bytes(catalog.read_bytes()[:-5])
    (root / "ghex" / "ghex-0.5-py3-none-any.whl").write_bytes(wheel_bytes("ghex", "0.5"))
    before = snapshot(root)
    with pytest.raises(IntegrityError) as raised:
        index.generate(LocalStore(root), clock=at(T1))
    assert raised.value.message.startswith(f"{catalog}: the catalog page is damaged (")
    assert snapshot(root) == before


def test_a_catalog_naming_another_project_is_damaged(root: Path) -> None:
    catalog = root / "ghex" / "index.json"
    catalog.write_bytes(catalog.read_bytes().replace(b'"name": "ghex"', b'"name": "dace"'))
    (root / "ghex" / "ghex-0.5-py3-none-any.whl").write_bytes(wheel_bytes("ghex", "0.5"))
    with pytest.raises(IntegrityError, match="describes project 'dace', not 'ghex'"):
        index.generate(LocalStore(root), clock=at(T1))


# --- bad input --------------------------------------------------------------------------------


def bad_cases(root: Path, outside: Path, make_wheel: MakeWheel) -> dict[str, str]:
    """Put bad files in place; return, per case, the start of the message reporting it."""
    (root / "dace" / "dace-2.1-py3-none-any.whl").write_bytes(b"not a zip file at all")
    make_wheel(root / "dace", "dace", "3.0", with_metadata=False)
    make_wheel(root / "dace", "dace", "4.0", metadata_name="notdace")
    make_wheel(root / "dace", "dace", "1.0", filename="dace-notaversion-py3-none-any.whl")
    make_wheel(root / "dace", "ghex", "9.0")
    make_wheel(root / "Dace", "dace", "6.0")
    target = make_wheel(outside, "dace", "7.0")
    (root / "dace" / target.name).symlink_to(target)
    make_wheel(root, "dace", "9.0")
    return {
        "garbage": "dace/dace-2.1-py3-none-any.whl: ",
        "no-metadata": "dace/dace-3.0-py3-none-any.whl: ",
        "metadata-name": "dace/dace-4.0-py3-none-any.whl: ",
        "filename": "dace/dace-notaversion-py3-none-any.whl: not a valid distribution filename",
        "folder": "dace/ghex-9.0-py3-none-any.whl: project 'ghex' does not match folder 'dace'",
        "spelling": "Dace/: a project folder must be named by its normalized name (PEP 503)",
        "symlink": "dace/dace-7.0-py3-none-any.whl: a symbolic link that leaves the index root",
        "root": "dace-9.0-py3-none-any.whl: distribution files belong in a project folder",
    }


def test_every_problem_is_reported_at_once_and_nothing_written(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    expected = bad_cases(root, tmp_path / "outside", make_wheel)
    good = make_wheel(root / "dace", "dace", "9.9")
    before = snapshot(root)
    with pytest.raises(ValidationError) as raised:
        index.generate(LocalStore(root), clock=at(T1))
    messages = sorted(problem.message for problem in raised.value.problems)
    assert len(messages) == len(expected)
    for case, start in expected.items():
        assert any(message.startswith(start) for message in messages), (case, messages)
    assert raised.value.message == f"{len(expected)} problems found; nothing was written"
    assert snapshot(root) == before

    report = index.generate(LocalStore(root), skip_invalid=True, clock=at(T1))
    assert sorted(problem.message for problem in report.skipped) == messages
    assert report.indexed == (good.name,)
    assert list(entries(root, "dace")) == [
        "dace-1.0-py3-none-any.whl", good.name, "dace-1!0.5-py3-none-any.whl",
    ]  # fmt: skip
    assert report.projects == ("dace", "ghex")


def test_one_problem_is_raised_as_itself(root: Path, make_wheel: MakeWheel) -> None:
    make_wheel(root / "dace", "dace", "4.0", metadata_name="notdace")
    with pytest.raises(InvalidDistributionError) as raised:
        index.generate(LocalStore(root), clock=at(T1))
    assert raised.value.message.startswith("dace/dace-4.0-py3-none-any.whl: ")
    assert "notdace" in raised.value.message
    assert raised.value.hint == "rename the file to match its metadata, or rebuild it"


# --- add --------------------------------------------------------------------------------------


def test_add_places_the_file_and_reads_nothing_else(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    for wheel in root.glob("*/*.whl"):
        garble(wheel)
    new = make_wheel(tmp_path / "incoming", "Dace", "2.0")
    report = add_files(LocalStore(root), [new], provenance={"source": "here"}, clock=at(T1))
    assert report.added == (new.name,) and report.unchanged == () and report.skipped == ()
    assert (root / "dace" / new.name).read_bytes() == new.read_bytes()
    assert relative(root, report.written) == {
        "dace/index.html", "dace/index.json", f"dace/{new.name}.metadata",
        "index.json", "index.html",
    }  # fmt: skip
    entry = entries(root, "dace")[new.name]
    assert entry["upload-time"] == "2026-06-07T08:09:10.000000Z"
    assert entry["_pkgindex"] == {"provenance": {"source": "here"}}


def test_add_creates_a_new_project(root: Path, tmp_path: Path, make_wheel: MakeWheel) -> None:
    new = make_wheel(tmp_path / "incoming", "alpha", "1.0")
    report = add_files(LocalStore(root), [new], clock=at(T1))
    assert report.added == (new.name,)
    assert [p["name"] for p in json.loads((root / "index.json").read_bytes())["projects"]] == [
        "alpha", "dace", "ghex",
    ]  # fmt: skip
    assert list(entries(root, "alpha")) == [new.name]


def test_adding_the_same_file_again_changes_nothing(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    new = make_wheel(tmp_path / "incoming", "dace", "2.0")
    add_files(LocalStore(root), [new], clock=at(T0))
    before = snapshot(root)
    report = add_files(LocalStore(root), [new], clock=at(T1))
    assert report.added == () and report.unchanged == (new.name,) and report.written == ()
    assert snapshot(root) == before


def test_other_bytes_under_a_published_name_are_refused_or_replaced(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    published = root / "dace" / "dace-1.0-py3-none-any.whl"
    old_sha = sha256(published)
    other = make_wheel(tmp_path / "incoming", "dace", "1.0", payload=b"rebuilt")
    before = snapshot(root)
    with pytest.raises(ConflictError) as raised:
        add_files(LocalStore(root), [other], clock=at(T1))
    assert raised.value.message == (
        "dace-1.0-py3-none-any.whl: the index already has a different file with this name"
    )
    assert snapshot(root) == before

    report = add_files(LocalStore(root), [other], replace=True, clock=at(T1))
    assert report.added == (published.name,)
    assert published.read_bytes() == other.read_bytes()
    entry = entries(root, "dace")[published.name]
    assert entry["hashes"]["sha256"] == sha256(other)
    assert entry["upload-time"] == "2026-06-07T08:09:10.000000Z"
    assert entry["_pkgindex"]["replaced"] == [
        {
            "sha256": old_sha,
            "upload-time": "2025-01-02T03:04:05.000000Z",
            "replaced-at": "2026-06-07T08:09:10.000000Z",
        }
    ]
    index.generate(
        LocalStore(root), verify=True, clock=at(T1)
    )  # the catalog agrees with the new bytes
    same = add_files(LocalStore(root), [other], replace=True, clock=at(T1))
    assert same.added == () and same.unchanged == (published.name,)


def test_a_second_replacement_keeps_the_first_in_the_history(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    published = root / "dace" / "dace-1.0-py3-none-any.whl"
    shas = [sha256(published)]
    for number, moment in enumerate((T1, datetime(2027, 1, 1, tzinfo=UTC))):
        other = make_wheel(tmp_path / f"build{number}", "dace", "1.0", payload=b"v%d" % number)
        add_files(LocalStore(root), [other], replace=True, clock=at(moment))
        shas.append(sha256(other))
    entry = entries(root, "dace")[published.name]
    assert entry["hashes"]["sha256"] == shas[2]
    assert entry["upload-time"] == "2027-01-01T00:00:00.000000Z"
    assert entry["_pkgindex"]["replaced"] == [
        {
            "sha256": shas[0],
            "upload-time": "2025-01-02T03:04:05.000000Z",
            "replaced-at": "2026-06-07T08:09:10.000000Z",
        },
        {
            "sha256": shas[1],
            "upload-time": "2026-06-07T08:09:10.000000Z",
            "replaced-at": "2027-01-01T00:00:00.000000Z",
        },
    ]


def test_a_removed_file_returns_only_with_its_bytes_and_restore(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    published = root / "dace" / "dace-1.0-py3-none-any.whl"
    kept = tmp_path / "kept" / published.name
    kept.parent.mkdir()
    kept.write_bytes(published.read_bytes())
    remove(LocalStore(root), "dace", ["1.0"], reason="leak", clock=at(T1))
    assert not published.exists() and published.name not in entries(root, "dace")
    with pytest.raises(ConflictError) as raised:
        add_files(LocalStore(root), [kept], clock=at(T1))
    assert raised.value.message == (
        "dace/dace-1.0-py3-none-any.whl: this file was removed on 2026-06-07"
    )
    other = make_wheel(tmp_path / "other", "dace", "1.0", payload=b"rebuilt")
    with pytest.raises(ConflictError) as raised:
        add_files(LocalStore(root), [other], restore=True, clock=at(T1))
    assert raised.value.message == (
        "dace/dace-1.0-py3-none-any.whl: this filename was removed on 2026-06-07 and cannot "
        "return with other bytes"
    )
    assert not published.exists()
    published.write_bytes(b"a leftover of the removal")  # restore overwrites it
    report = add_files(LocalStore(root), [kept], restore=True, clock=at(T1))
    assert report.added == () and report.repaired == (published.name,)
    assert published.read_bytes() == kept.read_bytes()
    entry = entries(root, "dace")[published.name]
    assert entry["hashes"]["sha256"] == sha256(kept)
    assert "_pkgindex" not in page(root, "dace")  # the tombstone is gone
    remove(LocalStore(root), "dace", ["1.0"], clock=at(T1))
    report = add_files(LocalStore(root), [kept], restore=True, clock=at(T1))
    assert report.added == (published.name,) and report.repaired == ()
    assert published.read_bytes() == kept.read_bytes()


def test_adding_the_original_bytes_repairs_a_missing_or_damaged_published_file(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    published = root / "dace" / "dace-1.0-py3-none-any.whl"
    original = tmp_path / published.name
    original.write_bytes(published.read_bytes())
    before = page(root, "dace")
    warning = "dace/dace-1.0-py3-none-any.whl: stored bytes differ from the catalog"
    for damage, warned in ((published.unlink, []), (lambda: garble(published), [warning])):
        damage()
        caplog.clear()
        report = add_files(LocalStore(root), [original], clock=at(T1))
        assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == warned
        assert (report.added, report.unchanged) == ((), ())
        assert report.repaired == (published.name,)
        assert published.read_bytes() == original.read_bytes()
        assert page(root, "dace") == before  # the catalog (and its upload time) stays
    report = add_files(LocalStore(root), [original], clock=at(T1))
    assert report.unchanged == (published.name,) and report.repaired == ()


def test_a_removed_file_put_back_in_its_folder_is_refused(root: Path, tmp_path: Path) -> None:
    published = root / "dace" / "dace-1.0-py3-none-any.whl"
    kept = published.read_bytes()
    remove(LocalStore(root), "dace", ["1.0"], clock=at(T1))
    published.write_bytes(kept)
    with pytest.raises(ConflictError) as raised:
        index.generate(LocalStore(root), clock=at(T1))
    assert raised.value.message == (
        "dace/dace-1.0-py3-none-any.whl: this file was removed on 2026-06-07"
    )
    report = index.generate(LocalStore(root), skip_invalid=True, clock=at(T1))
    assert [p.message for p in report.skipped] == [raised.value.message]
    assert published.name not in entries(root, "dace")


def test_a_catalog_removed_after_the_scan_is_a_lost_race(root: Path) -> None:
    store = LocalStore(root)
    folders, problems = scan_root(store)
    assert problems == []
    (root / "dace" / "index.json").unlink()  # another writer, between scan and read
    with pytest.raises(StaleError) as raised:
        index.refresh_folders(
            store,
            folders,
            state=RootState(),  # no fingerprints: every folder is read
            all_names=["dace", "ghex"],
            batch=index.Batch(),
            problems=[],
            verify=False,
            skip_invalid=False,
            clock=at(T1),
        )
    assert raised.value.message == f"{root / 'dace' / 'index.json'}: removed by another writer"


def test_a_link_broken_behind_a_remembered_folder_is_found_when_it_is_listed(
    tmp_path: Path, make_wheel: MakeWheel
) -> None:
    root = tmp_path / "index"
    make_wheel(root / "alpha", "alpha", "1.0")
    target = make_wheel(root / ".store", "alpha", "2.0")  # a dot-folder is not a project
    (root / "alpha" / target.name).symlink_to(target)
    index.generate(LocalStore(root), clock=at(T0))
    time.sleep(RACY_NS / 1e9 + 0.1)  # old enough to be stamped
    index.generate(LocalStore(root), clock=at(T0))
    assert list(scancache.load(LocalStore(root))) == ["alpha"]
    target.unlink()  # alpha's own entries are unchanged: its stamp too
    with pytest.raises(PkgIndexError) as raised:
        index.generate(LocalStore(root), url="https://new.example/", clock=at(T1))
    assert raised.value.message == f"alpha/{target.name}: a broken symbolic link"


def test_a_file_installers_would_prefer_to_a_published_one_is_refused(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    wheel = make_wheel(tmp_path / "build", "dace", "1.0", filename="dace-1.0-1-py3-none-any.whl")
    before = snapshot(root)
    with pytest.raises(ConflictError) as raised:
        add_files(LocalStore(root), [wheel], clock=at(T1))
    assert raised.value.message == (
        "dace-1.0-1-py3-none-any.whl: installers would choose it over the published "
        "dace-1.0-py3-none-any.whl (a higher build tag), so dace==1.0 would install other bytes"
    )
    assert snapshot(root) == before
    report = add_files(LocalStore(root), [wheel], skip_invalid=True, clock=at(T1))
    assert report.added == () and [p.message for p in report.skipped] == [raised.value.message]
    assert snapshot(root) == before
    report = add_files(LocalStore(root), [wheel], replace=True, clock=at(T1))
    assert report.added == (wheel.name,)
    assert set(entries(root, "dace")) == {
        "dace-1.0-py3-none-any.whl", "dace-1.0-1-py3-none-any.whl", "dace-1!0.5-py3-none-any.whl",
    }  # fmt: skip


def test_a_refused_file_is_skipped_not_added(root: Path, tmp_path: Path) -> None:
    published = root / "dace" / "dace-1.0-py3-none-any.whl"
    kept = tmp_path / published.name
    kept.write_bytes(published.read_bytes())
    remove(LocalStore(root), "dace", ["1.0"], clock=at(T1))
    report = add_files(LocalStore(root), [kept], skip_invalid=True, clock=at(T1))
    assert report.added == () and report.repaired == ()
    assert [p.message for p in report.skipped] == [
        "dace/dace-1.0-py3-none-any.whl: this file was removed on 2026-06-07"
    ]
    assert not published.exists() and published.name not in entries(root, "dace")


def test_a_file_in_a_folder_but_not_yet_indexed_is_compared_by_bytes(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    waiting = make_wheel(root / "dace", "dace", "3.0")  # copied in (or an interrupted add)
    other = make_wheel(tmp_path / "incoming", "dace", "3.0", payload=b"other")
    with pytest.raises(ConflictError):
        add_files(LocalStore(root), [other], clock=at(T1))
    assert waiting.read_bytes() != other.read_bytes()
    same = make_wheel(tmp_path / "same", "dace", "3.0")
    assert same.read_bytes() == waiting.read_bytes()
    report = add_files(LocalStore(root), [same], clock=at(T1))
    assert report.added == (waiting.name,)  # the same bytes: listed now
    assert entries(root, "dace")[waiting.name]["upload-time"] == "2026-06-07T08:09:10.000000Z"


def test_add_refuses_bad_files_and_writes_nothing(
    root: Path, tmp_path: Path, make_wheel: MakeWheel
) -> None:
    incoming = tmp_path / "incoming"
    bad = make_wheel(incoming, "dace", "4.0", metadata_name="notdace")
    good = make_wheel(incoming, "dace", "2.0")
    before = snapshot(root)
    with pytest.raises(ValidationError) as raised:
        add_files(
            LocalStore(root), [bad, good, incoming / "missing.whl", good, tmp_path], clock=at(T1)
        )
    messages = [problem.message for problem in raised.value.problems]
    assert messages[0] == f"{incoming / 'missing.whl'}: no such file"
    assert messages[1] == f"{good.name}: given twice"
    assert messages[2] == f"{tmp_path}: a folder, not a distribution file"
    assert raised.value.problems[2].hint == f"pass the files in it, e.g. {tmp_path}/*.whl"
    assert messages[3].startswith(f"{bad.name}: ")
    assert len(messages) == 4
    assert snapshot(root) == before

    report = add_files(LocalStore(root), [bad, good], skip_invalid=True, clock=at(T1))
    assert report.added == (good.name,)
    assert [problem.message.split(":")[0] for problem in report.skipped] == [bad.name]
    assert set(entries(root, "dace")) == {
        "dace-1.0-py3-none-any.whl", "dace-2.0-py3-none-any.whl", "dace-1!0.5-py3-none-any.whl",
    }  # fmt: skip


# --- yank -------------------------------------------------------------------------------------


def test_yank_and_unyank_round_trip(root: Path) -> None:
    before = {name: data for name, (data, _) in snapshot(root).items()}
    changed = set_yanked(LocalStore(root), "DACE", "1!0.5", 'broken <b>"build"</b>')
    assert changed == ["dace-1!0.5-py3-none-any.whl"]
    dace = entries(root, "dace")
    assert dace["dace-1!0.5-py3-none-any.whl"]["yanked"] == 'broken <b>"build"</b>'
    assert dace["dace-1.0-py3-none-any.whl"]["yanked"] is False
    html = (root / "dace" / "index.html").read_text()
    assert 'data-yanked="broken &lt;b&gt;&quot;build&quot;&lt;/b&gt;"' in html
    assert set_yanked(LocalStore(root), "dace", "1!0.5", 'broken <b>"build"</b>') == []
    assert set_yanked(LocalStore(root), "dace", "dace-1!0.5-py3-none-any.whl", None) == [
        "dace-1!0.5-py3-none-any.whl"
    ]
    assert {name: data for name, (data, _) in snapshot(root).items()} == before
    index.generate(LocalStore(root), clock=at(T1))  # a later run keeps the pages as they are
    assert {name: data for name, (data, _) in snapshot(root).items()} == before


def test_a_yank_brings_the_root_up_to_date_so_the_next_run_has_nothing_to_do(root: Path) -> None:
    """A yank rewrites the project's pages and the root's record of them (fingerprint and
    summary): a warm run afterwards reads and writes nothing, and a cold run from scratch comes
    to the same root pages."""
    set_yanked(LocalStore(root), "dace", "1!0.5", "broken")
    after_yank = snapshot(root)
    report = index.generate(LocalStore(root), clock=at(T1))
    assert report.indexed == () and report.written == ()
    assert snapshot(root) == after_yank
    for name in ("index.json", "index.html"):
        (root / name).unlink()
    index.generate(LocalStore(root), clock=at(T1))
    again = snapshot(root)
    assert again["index.json"][0] == after_yank["index.json"][0]  # same bytes (new mtime)
    assert again["index.html"][0] == after_yank["index.html"][0]


def test_yank_without_a_reason_and_by_an_equivalent_version(root: Path) -> None:
    assert set_yanked(LocalStore(root), "dace", "1.0.0", "") == ["dace-1.0-py3-none-any.whl"]
    assert entries(root, "dace")["dace-1.0-py3-none-any.whl"]["yanked"] is True
    assert 'data-yanked=""' in (root / "dace" / "index.html").read_text()


def test_yank_refuses_what_is_not_there(root: Path) -> None:
    with pytest.raises(PkgIndexError) as raised:
        set_yanked(LocalStore(root), "dace", "7.7", "x")
    assert raised.value.message == "dace: no file or version '7.7'"
    assert raised.value.hint == "versions: 1.0, 1!0.5"
    with pytest.raises(PkgIndexError) as raised:
        set_yanked(LocalStore(root), "dace", "not a version", "x")
    assert raised.value.message == "dace: no file or version 'not a version'"
    with pytest.raises(PkgIndexError) as raised:
        set_yanked(LocalStore(root), "nope", "1.0", "x")
    assert raised.value.message == f"nope: no such project in {root}"


def test_load_project(root: Path) -> None:
    project = index.load_project(LocalStore(root), "Dace")
    assert project is not None and project.name == "dace"
    assert [f.filename for f in project.files] == [
        "dace-1.0-py3-none-any.whl", "dace-1!0.5-py3-none-any.whl",
    ]  # fmt: skip
    assert project.files[0].upload_time == T0
    assert index.load_project(LocalStore(root), "nope") is None


def test_a_missing_root_is_named(tmp_path: Path) -> None:
    with pytest.raises(PkgIndexError) as raised:
        index.generate(LocalStore(tmp_path / "nowhere"))
    assert raised.value.message == f"{tmp_path / 'nowhere'}: no such folder"


def test_a_change_to_one_project_keeps_the_others_summaries(
    root: Path, make_wheel: MakeWheel
) -> None:
    def summaries() -> dict:  # type: ignore[type-arg]
        document = json.loads((root / "index.json").read_bytes())
        return document["_pkgindex"]["summaries"]  # type: ignore[no-any-return]

    before = summaries()
    html_dace = (root / "index.html").read_text().count("1!0.5")
    make_wheel(root / "ghex", "ghex", "0.6")
    index.generate(LocalStore(root), clock=at(T1))
    after = summaries()
    assert after["dace"] == before["dace"]
    assert after["ghex"] == {
        "files": 2, "last-upload": "2026-06-07T08:09:10.000000Z", "version": "0.6",
    }  # fmt: skip
    assert (root / "index.html").read_text().count("1!0.5") == html_dace
