"""The index model's own rules: summaries and their JSON, tombstones, statuses, latest versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from pkgindex.index.model import (
    UPLOAD_TIME_FORMAT,
    IndexFile,
    Project,
    ProjectStatus,
    ProjectSummary,
    Tombstone,
    format_upload_time,
    latest_version,
    parse_upload_time,
)
from pkgindex.index.render import render_project_json

NAME = NormalizedName("dace")
WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def a_file(
    version: str, *, yanked: str | None = None, hours: int = 0, sdist: bool = False
) -> IndexFile:
    filename = f"dace-{version}.tar.gz" if sdist else f"dace-{version}-py3-none-any.whl"
    return IndexFile(
        filename=filename,
        version=version,
        sha256="a" * 64,
        size=10,
        upload_time=WHEN + timedelta(hours=hours),
        yanked=yanked,
    )


def test_upload_times_have_microseconds_and_a_z() -> None:
    assert format_upload_time(WHEN) == "2024-05-06T07:08:09.123456Z"
    for moment in (WHEN, WHEN.replace(microsecond=0), datetime(2000, 1, 1, tzinfo=UTC)):
        assert format_upload_time(moment) == moment.strftime(UPLOAD_TIME_FORMAT)
    two_hours_east = WHEN.astimezone(timezone(timedelta(hours=2)))
    assert format_upload_time(two_hours_east) == "2024-05-06T07:08:09.123456Z"
    parsed = parse_upload_time("2024-05-06T07:08:09.123456Z")
    assert parsed == WHEN and parsed.utcoffset() == timedelta(0)
    assert parse_upload_time("2024-05-06T09:08:09.123456+02:00").tzinfo is UTC


def test_a_summary_is_written_with_its_keys_and_read_back() -> None:
    summary = ProjectSummary(
        name=NAME,
        version="2.0",
        files=3,
        last_upload=WHEN,
        status="deprecated",
        requires=("numpy", "attrs"),
    )
    document = summary.to_json()
    assert document == {
        "version": "2.0",
        "files": 3,
        "last-upload": "2024-05-06T07:08:09.123456Z",
        "status": "deprecated",
        "requires": ["numpy", "attrs"],
    }
    assert ProjectSummary.from_json("dace", document) == summary


def test_an_empty_summary_has_only_version_and_files() -> None:
    summary = ProjectSummary(name=NAME)
    assert summary.to_json() == {"version": None, "files": 0}
    assert ProjectSummary.from_json("dace", {"version": None, "files": 0}) == summary
    assert ProjectSummary.from_json("dace", {"version": 2, "files": "4"}).version == "2"


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({"version": "1", "files": 1, "status": "gone"}, ValueError),
        ({"version": "1"}, KeyError),
        ({"version": "1", "files": 1, "last-upload": "yesterday"}, ValueError),
    ],
)
def test_a_damaged_summary_is_refused(document: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        ProjectSummary.from_json("dace", document)


def test_a_summary_from_a_project_counts_offered_files_and_sorts_requirements() -> None:
    project = Project.from_files(
        NAME,
        [a_file("1.0", hours=5), a_file("2.0", hours=1), a_file("3.0", yanked="broken", hours=2)],
        status=ProjectStatus(status="deprecated"),
    )
    summary = ProjectSummary.from_project(project, ["numpy", "attrs", "numpy"])
    assert summary == ProjectSummary(
        name=NAME,
        version="2.0",
        files=3,
        last_upload=WHEN + timedelta(hours=5),
        status="deprecated",
        requires=("attrs", "numpy"),
    )
    quarantined = Project.from_files(
        NAME, [a_file("1.0")], status=ProjectStatus(status="quarantined")
    )
    assert ProjectSummary.from_project(quarantined) == ProjectSummary(
        name=NAME, version=None, files=0, last_upload=None, status="quarantined"
    )


def test_the_latest_version_skips_yanked_files_unless_all_are() -> None:
    assert latest_version([]) is None
    assert latest_version([a_file("1.10"), a_file("1.9")]) == "1.10"
    assert latest_version([a_file("1.10", yanked=""), a_file("1.9")]) == "1.9"
    assert latest_version([a_file("1.10", yanked="x"), a_file("1.9", yanked="")]) == "1.10"


def test_a_projects_latest_version_is_computed_once_and_does_not_change_equality() -> None:
    files = [a_file("1.10", yanked=""), a_file("1.9"), a_file("1.8")]
    project, same = Project.from_files(NAME, files), Project.from_files(NAME, files)
    assert project.latest == "1.9" == latest_version(files)
    assert project._latest == ("1.9",)  # cached: the files are compared once
    assert project == same  # whether or not its latest version was computed
    quarantined = Project.from_files(NAME, files, status=ProjectStatus(status="quarantined"))
    assert quarantined.latest is None  # of the files it offers: none
    assert quarantined._latest == (None,)  # a cached None is told from none cached


@pytest.mark.parametrize(
    ("status", "offers", "accepts"),
    [
        ("active", True, True),
        ("deprecated", True, True),
        ("archived", True, False),
        ("quarantined", False, False),
    ],
)
def test_statuses_decide_what_a_project_offers_and_accepts(
    status: str, offers: bool, accepts: bool
) -> None:
    marker = ProjectStatus(status=status)  # type: ignore[arg-type]
    assert (marker.offers_files, marker.accepts_uploads) == (offers, accepts)
    project = Project.from_files(NAME, [a_file("1.0")], status=marker)
    assert len(project.offered) == (1 if offers else 0)


def test_a_restored_file_loses_its_tombstone_and_the_last_one_counts() -> None:
    first = Tombstone(filename="dace-1.0.tar.gz", sha256="b" * 64, removed_at=WHEN, reason="one")
    second = Tombstone(filename="dace-1.0.tar.gz", sha256="c" * 64, removed_at=WHEN, reason="two")
    other = Tombstone(filename="dace-0.9.tar.gz", sha256="d" * 64, removed_at=WHEN)
    project = Project.from_files(NAME, [a_file("2.0")], removed=[first, other, second])
    assert project.tombstone("dace-1.0.tar.gz") == second
    assert project.tombstone("dace-3.0.tar.gz") is None
    restored = project.with_files([a_file("1.0", sdist=True), a_file("2.0")])
    assert restored.removed == (other,)
    assert [f.filename for f in restored.files] == ["dace-1.0.tar.gz", "dace-2.0-py3-none-any.whl"]


def test_versions_are_listed_once_in_order_and_files_found_by_name() -> None:
    files = [a_file("1.10"), a_file("1.9", sdist=True), a_file("1.9")]
    project = Project.from_files(NAME, files)
    assert project.versions == ("1.9", "1.10")
    assert project.file("dace-1.9.tar.gz") == files[1]
    assert project.file("dace-1.8.tar.gz") is None


def test_tombstones_are_rendered_with_their_keys() -> None:
    tombstones = [
        Tombstone(filename="dace-1.0.tar.gz", sha256="b" * 64, removed_at=WHEN, reason="leak"),
        Tombstone(filename="dace-0.9.tar.gz", sha256="c" * 64, removed_at=WHEN),
    ]
    page = render_project_json(Project.from_files(NAME, [], removed=tombstones)).decode()
    assert page.endswith(
        '"files": [\n\n], "_pkgindex": {"removed": [\n'
        '{"filename": "dace-1.0.tar.gz", "sha256": "' + "b" * 64 + '", '
        '"removed-at": "2024-05-06T07:08:09.123456Z", "reason": "leak"},\n'
        '{"filename": "dace-0.9.tar.gz", "sha256": "' + "c" * 64 + '", '
        '"removed-at": "2024-05-06T07:08:09.123456Z"}\n]}}\n'
    )


def test_a_files_sort_key_is_computed_once_and_does_not_change_equality() -> None:
    file, same = a_file("1.10"), a_file("1.10")
    key = file.sort_key
    assert key == (Version("1.10"), "dace-1.10-py3-none-any.whl")
    assert file.sort_key is key  # cached: the version is parsed once
    assert file == same  # whether or not its key was computed


def test_a_file_of_a_parsed_version_keeps_that_version_as_its_sort_key() -> None:
    version = Version("1.10.0rc1")  # written "1.10.0rc1", the same as str(version)
    file = IndexFile.of_version(
        version, filename="dace-1.10.0rc1-py3-none-any.whl", sha256="a" * 64, size=10,
        upload_time=WHEN,
    )  # fmt: skip
    assert file.version == "1.10.0rc1"
    assert file.sort_key[0] is version  # not parsed again
    assert file.sort_key == (Version("1.10.0rc1"), "dace-1.10.0rc1-py3-none-any.whl")
    assert file == a_file("1.10.0rc1")  # the same file as one built from the version's text
    older = IndexFile.of_version(
        Version("1.9"), filename="dace-1.9-py3-none-any.whl", sha256="b" * 64, size=10,
        upload_time=WHEN,
    )  # fmt: skip
    project = Project.from_files(NAME, [file, older])
    assert [f.version for f in project.files] == ["1.9", "1.10.0rc1"]
