"""Rendering: every page parses back to the model that made it, and HTML agrees with JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pkgindex.index.catalog import project_from_json, root_state
from pkgindex.index.html import render_project_html, render_root_html
from pkgindex.index.model import IndexFile, Project, ProjectSummary, SiteInfo
from pkgindex.index.render import render_project_json, render_root_json
from tests.simple_html import parse_page

SITE = SiteInfo(title="Test <index> & co")

names = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True).map(
    lambda name: NormalizedName(canonicalize_name(name))
)
versions = st.builds(
    lambda epoch, release, local: Version(
        (f"{epoch}!" if epoch else "")
        + ".".join(map(str, release))
        + (f"+{local}" if local else "")
    ),
    st.integers(0, 50),
    st.lists(st.integers(0, 2030), min_size=1, max_size=3),
    st.none() | st.from_regex(r"[a-z0-9]{1,5}", fullmatch=True),
)
hex64 = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
requires_python = st.none() | st.sampled_from([">=3.10", ">=3.8,<4", "<3.13,>=3.9", "!=3.0.*"])
reasons = st.none() | st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20
)


@st.composite
def projects(draw: st.DrawFn) -> Project:
    name = draw(names)
    files = {}
    for version in draw(st.lists(versions, min_size=0, max_size=6)):
        wheel = draw(st.booleans())
        stem = f"{name.replace('-', '_')}-{version}"
        filename = f"{stem}-py3-none-any.whl" if wheel else f"{stem}.tar.gz"
        files[filename] = IndexFile(
            filename=filename,
            version=str(version),
            sha256=draw(hex64),
            size=draw(st.integers(0, 10**10)),
            upload_time=draw(times),
            requires_python=draw(requires_python),
            metadata_sha256=draw(hex64) if wheel else None,
            yanked=draw(reasons),
            provenance=draw(st.none() | st.just({"source": "o/r", "commit": "a" * 40})),
        )
    return Project.from_files(name, files.values())


@settings(max_examples=60, deadline=None)
@given(projects())
def test_project_json_parses_back_to_its_model(project: Project) -> None:
    parsed = project_from_json(render_project_json(project), name=project.name, origin="test")
    assert parsed == project


@settings(max_examples=60, deadline=None)
@given(projects())
def test_html_and_json_agree(project: Project) -> None:
    page = parse_page(render_project_html(project, SITE))
    anchors = page.anchors
    document = json.loads(render_project_json(project))
    assert page.meta("pypi:repository-version") == document["meta"]["api-version"] == "1.1"
    assert len(anchors) == len(document["files"])  # one <a> per file, no other anchors
    # the HTML page lists the newest version first, the JSON page in ascending order
    by_name = {entry["filename"]: entry for entry in document["files"]}
    for attributes, text in anchors:
        entry = by_name.pop(text)
        href = str(attributes["href"])
        url, _, fragment = href.partition("#")
        assert text == entry["filename"] == unquote(url) == unquote(entry["url"])
        assert fragment == f"sha256={entry['hashes']['sha256']}"
        assert attributes.get("data-requires-python") == entry.get("requires-python")
        metadata = entry.get("core-metadata")
        expected = f"sha256={metadata['sha256']}" if metadata else None
        assert attributes.get("data-core-metadata") == expected
        assert attributes.get("data-dist-info-metadata") == expected
        assert "dist-info-metadata" not in entry
        yanked = entry["yanked"]
        if yanked is False:
            assert "data-yanked" not in attributes
        else:
            assert attributes["data-yanked"] == ("" if yanked is True else yanked)
            assert yanked != ""  # the spec forbids an empty reason string in JSON


@settings(max_examples=50, deadline=None)
@given(st.lists(names, unique=True, max_size=20))
def test_root_pages_list_every_project_once(project_names: list[str]) -> None:
    ordered = sorted(project_names)
    summaries = [ProjectSummary(name=NormalizedName(name)) for name in ordered]
    anchors = parse_page(render_root_html(summaries, SITE)).anchors
    assert [text for _, text in anchors] == ordered
    assert [attributes["href"] for attributes, _ in anchors] == [f"{n}/" for n in ordered]
    state = {"format": 1, "title": "t", "url": None, "fingerprints": dict.fromkeys(ordered, "x")}
    rendered = render_root_json(ordered, state)
    assert root_state(rendered).names == tuple(ordered)
    assert root_state(rendered).private == state == json.loads(rendered)["_pkgindex"]


def test_files_sort_by_version_with_epochs() -> None:
    def wheel(version: str) -> IndexFile:
        return IndexFile(
            filename=f"dace-{version}-py3-none-any.whl",
            version=str(Version(version)),
            sha256="0" * 64,
            size=1,
            upload_time=datetime(2026, 1, 1, tzinfo=UTC),
        )

    project = Project.from_files(
        NormalizedName("dace"), [wheel(v) for v in ("43!2025.12.17", "1.10", "1.9", "2.0rc1")]
    )
    assert project.versions == ("1.9", "1.10", "2.0rc1", "43!2025.12.17")
    anchors = parse_page(render_project_html(project, SITE)).anchors
    assert anchors[0][0]["href"] == "dace-43%212025.12.17-py3-none-any.whl#sha256=" + "0" * 64
    assert [text for _, text in anchors][1:] == [
        f"dace-{v}-py3-none-any.whl" for v in ("2.0rc1", "1.10", "1.9")
    ]


def test_attribute_values_are_escaped() -> None:
    file = IndexFile(
        filename="x-1.0.tar.gz",
        version="1.0",
        sha256="0" * 64,
        size=1,
        upload_time=datetime(2026, 1, 1, tzinfo=UTC),
        requires_python="<4,>=3.8",
        yanked='broken "quotes" & <tags>',
    )
    page = render_project_html(Project.from_files(NormalizedName("x"), [file]), SITE).decode()
    assert 'data-requires-python="&lt;4,&gt;=3.8"' in page
    assert 'data-yanked="broken &quot;quotes&quot; &amp; &lt;tags&gt;"' in page
    assert "<index>" not in page and "Test &lt;index&gt; &amp; co" in page
