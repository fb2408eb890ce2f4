"""The refresh, in this process (fast enough for property tests and the mutation run):

- files are listed in version order in both page forms (JSON oldest first, HTML newest first),
  whichever way they arrived;
- a file's upload time is the moment it was first indexed, and no later run changes it
  (generate, --verify, add, re-add, yank, unyank, a new title, lost pages, a fresh clone);
- a page or .metadata file whose bytes must change is rewritten even when its length stays.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version
from tests.conftest import wheel_bytes
from tests.simple_html import parse_page
from tests.versions import TRICKY, version_lists, versions

from pkgindex.index import refresh as index
from pkgindex.index.add import add_files
from pkgindex.index.yank import set_yanked
from pkgindex.stores.local import LocalStore

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(slots=True)
class Clock:
    """The time each operation runs at: one second later for every operation."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "index"
    path.mkdir()
    return path


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A fresh folder per call, for property tests (function-scoped fixtures are shared by
    every example hypothesis draws)."""
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def put_wheel(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    path.write_bytes(wheel_bytes(name, version))
    return path


def page_json(root: Path, project: str) -> dict:  # type: ignore[type-arg]
    return json.loads((root / project / "index.json").read_bytes())  # type: ignore[no-any-return]


def listed(root: Path, project: str) -> tuple[list[str], list[str]]:
    """Filenames in the HTML page's order and in the JSON page's order."""
    html = [text for _a, text in parse_page((root / project / "index.html").read_bytes()).anchors]
    return html, [f["filename"] for f in page_json(root, project)["files"]]


def upload_times(root: Path, project: str) -> dict[str, str]:
    return {f["filename"]: f["upload-time"] for f in page_json(root, project)["files"]}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- version order ----------------------------------------------------------------------------


@settings(
    max_examples=min(15, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(drawn=version_lists(min_size=2, max_size=6), split=st.integers(0, 6))
def test_generate_and_add_list_files_in_version_order(
    workspace: Path, drawn: list[str], split: int
) -> None:
    root = workspace / f"index-{len(list(workspace.iterdir()))}"
    root.mkdir()
    for version in drawn[:split]:  # dropped into the folder, then generate
        put_wheel(root / "dace", "dace", version)
    index.generate(LocalStore(root), clock=Clock())
    added = [put_wheel(workspace / "incoming", "dace", version) for version in drawn[split:]]
    if added:  # added to a catalog read back from the JSON page
        add_files(LocalStore(root), added, clock=Clock())
    expected = [f"dace-{v}-py3-none-any.whl" for v in sorted(drawn, key=Version)]
    # JSON oldest first (as PyPI); HTML, for people, newest first
    assert listed(root, "dace") == (expected[::-1], expected)
    assert page_json(root, "dace")["versions"] == sorted(drawn, key=Version)


def test_generate_lists_the_tricky_versions_in_version_order(root: Path) -> None:
    for version in TRICKY:
        put_wheel(root / "dace", "dace", version)
    index.generate(LocalStore(root), clock=Clock())
    html, json_order = listed(root, "dace")
    assert html == json_order[::-1]
    assert [name.split("-")[1] for name in json_order] == [
        "0.0.1", "1.9", "1.9+local.9", "1.9+local.10", "1.9.1", "1.10.dev0", "1.10a1",
        "1.10rc1", "1.10", "1.10+cpu", "1.10.post1", "1!0.1", "2!0.0.1",
    ]  # fmt: skip


# --- upload times never change --------------------------------------------------------------

VERSION = versions()
OPERATIONS = st.one_of(
    st.tuples(st.just("drop"), VERSION),  # a wheel copied into the folder, then generate
    st.tuples(st.just("add"), VERSION),  # pkgindex add (again: a no-op)
    st.tuples(st.just("generate"), st.just("")),
    st.tuples(st.just("verify"), st.just("")),
    st.tuples(st.just("yank"), st.just("")),
    st.tuples(st.just("unyank"), st.just("")),
    st.tuples(st.just("retitle"), st.just("")),  # every page rendered again
    st.tuples(st.just("lose-derived"), st.just("")),  # HTML, .metadata and root JSON deleted
)


@dataclass(slots=True)
class Model:
    """What the index must say: each file's upload time, fixed when it was first indexed."""

    root: Path
    incoming: Path
    clock: Clock = field(default_factory=Clock)
    expected: dict[str, str] = field(default_factory=dict)

    def run(self, operation: str, version: str) -> None:
        now = self.clock.tick()
        filename = f"dace-{version}-py3-none-any.whl"
        if operation == "drop":
            if not (self.root / "dace" / filename).exists():
                put_wheel(self.root / "dace", "dace", version)
            index.generate(LocalStore(self.root), clock=self.clock)
        elif operation == "add":
            add_files(
                LocalStore(self.root), [put_wheel(self.incoming, "dace", version)], clock=self.clock
            )
        elif operation in ("generate", "verify"):
            index.generate(LocalStore(self.root), verify=operation == "verify", clock=self.clock)
        elif operation in ("yank", "unyank") and self.expected:
            first = min(self.expected, key=lambda name: Version(name.split("-")[1]))
            reason = "broken" if operation == "yank" else None
            set_yanked(LocalStore(self.root), "dace", first, reason)
        elif operation == "retitle":
            (self.root / "pkgindex.toml").write_text(f'title = "Index at {now:%H:%M:%S}"\n')
            index.generate(LocalStore(self.root), clock=self.clock)
        elif operation == "lose-derived":
            for path in [*self.root.rglob("*.html"), *self.root.rglob("*.metadata")]:
                path.unlink()
            (self.root / "index.json").unlink(missing_ok=True)
            index.generate(LocalStore(self.root), clock=self.clock)
        if operation in ("drop", "add"):
            self.expected.setdefault(filename, stamp(now))


@settings(
    max_examples=min(25, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=10))
def test_upload_times_never_change(workspace: Path, operations: list[tuple[str, str]]) -> None:
    run = workspace / f"run-{len(list(workspace.iterdir()))}"
    model = Model(root=run / "index", incoming=run / "incoming")
    model.root.mkdir(parents=True)
    for operation, version in operations:
        model.run(operation, version)
        if model.expected:
            assert upload_times(model.root, "dace") == model.expected, operation
    if model.expected:  # a fresh clone (catalog pages only) regenerates the same times
        clone = run / "clone"
        shutil.copytree(model.root, clone, ignore=shutil.ignore_patterns("*.html", "*.metadata"))
        (clone / "index.json").unlink()
        index.generate(LocalStore(clone), clock=Clock(datetime(2030, 1, 1, tzinfo=UTC)))
        assert upload_times(clone, "dace") == model.expected


def test_upload_time_is_the_clock_of_the_run_that_first_indexed_the_file(root: Path) -> None:
    put_wheel(root / "dace", "dace", "1.0")
    index.generate(LocalStore(root), clock=Clock(datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)))
    index.generate(LocalStore(root), verify=True, clock=Clock(datetime(2029, 1, 1, tzinfo=UTC)))
    assert upload_times(root, "dace") == {
        "dace-1.0-py3-none-any.whl": "2024-05-06T07:08:09.123456Z"
    }


# --- same length, other bytes -----------------------------------------------------------------


def same_length_change(path: Path) -> bytes:
    """Change one byte of the file, keeping its length; return the original bytes."""
    original = path.read_bytes()
    position = original.index(b"dace") if b"dace" in original else len(original) // 2
    changed = bytearray(original)
    changed[position] = ord("D") if changed[position] != ord("D") else ord("d")
    path.write_bytes(bytes(changed))
    assert len(changed) == len(original) and bytes(changed) != original
    return original


@pytest.fixture
def small_index(root: Path) -> Path:
    put_wheel(root / "dace", "dace", "1.0")
    put_wheel(root / "dace", "dace", "1.10")
    (root / "pkgindex.toml").write_text('title = "Index A"\n')
    index.generate(LocalStore(root), clock=Clock())
    return root


def test_a_new_title_of_the_same_length_rewrites_every_page(
    small_index: Path, tmp_path: Path
) -> None:
    pages = ["index.html", "dace/index.html"]
    before = {page: (small_index / page).read_bytes() for page in pages}
    (small_index / "pkgindex.toml").write_text('title = "Index B"\n')
    report = index.generate(LocalStore(small_index), clock=Clock())
    # what a fresh index with that title holds, byte for byte
    fresh = tmp_path / "fresh"
    shutil.copytree(small_index, fresh, ignore=shutil.ignore_patterns("*.html", "*.json"))
    index.generate(LocalStore(fresh), clock=Clock())
    for page in pages:
        after = (small_index / page).read_bytes()
        assert len(after) == len(before[page]) and after != before[page]
        assert after == (fresh / page).read_bytes(), page
        assert page in report.written


@pytest.mark.parametrize(
    "relative", ["index.html", "dace/index.html", "dace/dace-1.10-py3-none-any.whl.metadata"]
)
def test_verify_restores_a_file_changed_in_place(small_index: Path, relative: str) -> None:
    path = small_index / relative
    original = same_length_change(path)
    report = index.generate(LocalStore(small_index), verify=True, clock=Clock())
    assert path.read_bytes() == original
    assert report.written == (relative,)


# --- root pages kept line by line -------------------------------------------------------------

PROJECTS = ("alpha", "bravo", "charlie", "delta")
ROOT_OPERATIONS = st.tuples(
    st.sampled_from(("drop", "add", "yank", "unyank", "delete-folder", "generate")),
    st.sampled_from(PROJECTS),
    st.sampled_from(("1.0", "1.1", "2.0rc1", "2.0")),
)


@settings(
    max_examples=min(25, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(ROOT_OPERATIONS, min_size=1, max_size=8))
def test_root_pages_kept_line_by_line_equal_a_full_render(
    workspace: Path, operations: list[tuple[str, str, str]]
) -> None:
    """A run renders only the root lines of the projects it changed and keeps the others from
    the pages it read; the result is byte for byte what rendering every line gives."""
    run = workspace / f"run-{len(list(workspace.iterdir()))}"
    root, incoming, clock = run / "index", run / "incoming", Clock()
    root.mkdir(parents=True)
    for operation, name, version in operations:
        clock.tick()
        store = LocalStore(root)
        if operation == "drop":
            put_wheel(root / name, name, version)
            index.generate(store, clock=clock)
        elif operation == "add":
            add_files(store, [put_wheel(incoming, name, version)], clock=clock)
        elif operation in ("yank", "unyank") and (root / name / "index.json").exists():
            files = [f["filename"] for f in page_json(root, name)["files"]]
            if files:
                set_yanked(store, name, files[0], "broken" if operation == "yank" else None)
        elif operation == "delete-folder":
            shutil.rmtree(root / name, ignore_errors=True)
            index.generate(store, clock=clock)
        else:
            index.generate(store, clock=clock)
        if not (root / "index.json").exists():
            continue
        full = run / "full"
        shutil.rmtree(full, ignore_errors=True)
        shutil.copytree(root, full)
        for page in ("index.html", "index.json"):  # nothing to keep lines from
            (full / page).unlink()
        index.generate(LocalStore(full), verify=True, clock=clock)
        for page in ("index.html", "index.json"):
            assert (root / page).read_bytes() == (full / page).read_bytes(), (operation, page)
