"""What a cold run sends to its workers and back comes out of pickle as it went in."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.version import Version

from pkgindex.index import pickled
from pkgindex.index.distfile import inspect_distribution, parse_filename
from pkgindex.index.model import (
    IndexFile,
    Project,
    ProjectStatus,
    ProjectSummary,
    Tombstone,
)
from pkgindex.index.scan import scan_folder
from pkgindex.stores.local import LocalStore
from tests.unit.wheels import write_wheel

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def round_trip(value: object) -> object:
    assert value.__reduce__()[0] is pickled._rebuild  # pickled by its constructor
    return pickle.loads(pickle.dumps(value))


def test_inspected_files_round_trip(tmp_path: Path) -> None:
    item = inspect_distribution(write_wheel(tmp_path, "dace", "1!2.0+x", requires_python=">=3"))
    back = round_trip(item)
    assert back == item and back.dist.version == Version("1!2.0+x")
    assert round_trip(parse_filename("dace-1.0.tar.gz")) == parse_filename("dace-1.0.tar.gz")


@pytest.mark.parametrize("sorted_first", [False, True])
def test_projects_round_trip_without_their_cached_sort_keys(sorted_first: bool) -> None:
    files = [
        IndexFile(filename=f"p-{v}-py3-none-any.whl", version=v, sha256="a" * 64, size=1,
                  upload_time=T0, yanked="" if v == "2.0" else None, extra={"x": [1]},
                  provenance={"commit": "c"})
        for v in ("10.0", "2.0")
    ]  # fmt: skip
    project = Project.from_files(
        "p",  # type: ignore[arg-type]
        files,
        status=ProjectStatus(status="deprecated", reason="r"),
        removed=[Tombstone(filename="p-0.1.tar.gz", sha256="b" * 64, removed_at=T0)],
    )
    if sorted_first:
        assert [f.version for f in project.files] == ["2.0", "10.0"]  # keys cached
    back = round_trip(project)
    assert isinstance(back, Project) and back == project
    assert [f._sort_key for f in back.files] == [None, None]  # parsed again where needed
    assert [f.sort_key for f in back.files] == [f.sort_key for f in project.files]
    summary = ProjectSummary.from_project(project, ["q"])
    assert round_trip(summary) == summary


def test_folders_round_trip(tmp_path: Path) -> None:
    (tmp_path / "dace").mkdir()
    write_wheel(tmp_path / "dace", "dace", "1.0")
    folder, problems = scan_folder(LocalStore(tmp_path), "dace", stamp="1:2:3")
    assert folder is not None and not problems
    back = round_trip(folder)
    assert back == folder and back.stamp == "1:2:3" and back.listed
    assert dict(back.etags) == dict(folder.etags) and "index.html" not in back.etags
