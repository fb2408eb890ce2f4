"""Both page forms list a project's files in ``packaging.version.Version`` order, never in string
order: 1.9 < 1.10, dev < pre < release < post, local versions after their public version,
epochs first of all. Ties (several files of one version) go by filename."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.utils import NormalizedName
from packaging.version import Version

from pkgindex.index.catalog import project_from_json
from pkgindex.index.html import render_project_html
from pkgindex.index.model import IndexFile, Project, SiteInfo
from pkgindex.index.render import render_project_json
from tests.simple_html import parse_page
from tests.versions import TRICKY, version_lists

NAME = NormalizedName("dace")
SITE = SiteInfo(title="Test index")
KINDS = ("-py3-none-any.whl", "-cp311-cp311-linux_x86_64.whl", ".tar.gz")


def index_file(version: str, suffix: str) -> IndexFile:
    return IndexFile(
        filename=f"dace-{version}{suffix}",
        version=version,
        sha256="0" * 64,
        size=1,
        upload_time=datetime(2025, 1, 1, tzinfo=UTC),
    )


def expected_order(files: list[IndexFile]) -> list[str]:
    """The JSON order: oldest version first, files of one version by name."""
    return [f.filename for f in sorted(files, key=lambda f: (Version(f.version), f.filename))]


def newest_first(files: list[IndexFile]) -> list[str]:
    """The HTML order, for people: newest version first, files of one version by name."""
    by_name = sorted(files, key=lambda f: f.filename)
    return [f.filename for f in sorted(by_name, key=lambda f: Version(f.version), reverse=True)]


def both_forms(project: Project) -> tuple[list[str], list[str], list[str]]:
    """Filenames in HTML order, in JSON order, and the JSON ``versions`` list."""
    html = [text for _attrs, text in parse_page(render_project_html(project, SITE)).anchors]
    document = json.loads(render_project_json(project))
    return html, [f["filename"] for f in document["files"]], document["versions"]


@settings(max_examples=min(200, settings.default.max_examples * 2), deadline=None)
@given(version_lists(), st.randoms(use_true_random=False), st.data())
@example(TRICKY, random.Random(0), None)
def test_pages_list_files_in_version_order(
    drawn: list[str], shuffle: random.Random, data: st.DataObject | None
) -> None:
    files = []
    for version in drawn:
        kinds = data.draw(st.sets(st.sampled_from(KINDS), min_size=1)) if data else KINDS
        files += [index_file(version, kind) for kind in sorted(kinds)]
    shuffle.shuffle(files)
    project = Project.from_files(NAME, files)
    expected = expected_order(files)
    html, json_files, json_versions = both_forms(project)
    assert html == newest_first(files)
    assert json_files == expected
    assert json_versions == sorted(set(drawn), key=Version)
    # read back from the catalog page (what the next run starts from): the same order again
    again = project_from_json(render_project_json(project), name=NAME, origin="index.json")
    assert both_forms(again) == (newest_first(files), expected, json_versions)


def test_the_tricky_versions_in_their_exact_order() -> None:
    # a literal, so that the test does not share its notion of order with the code under test
    files = [index_file(v, ".tar.gz") for v in TRICKY]
    html, json_files, versions = both_forms(Project.from_files(NAME, files))
    assert versions == [
        "0.0.1", "1.9", "1.9+local.9", "1.9+local.10", "1.9.1", "1.10.dev0", "1.10a1",
        "1.10rc1", "1.10", "1.10+cpu", "1.10.post1", "1!0.1", "2!0.0.1",
    ]  # fmt: skip
    assert json_files == [f"dace-{v}.tar.gz" for v in versions]
    assert html == json_files[::-1]  # people read the newest version first
