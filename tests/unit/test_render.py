"""Rendering: every page parses back to the model that made it, and HTML agrees with JSON."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pkgindex.index.catalog import project_from_json, root_state
from pkgindex.index.html import render_project_html, render_root_html
from pkgindex.index.model import (
    STATUSES,
    IndexFile,
    Project,
    ProjectStatus,
    ProjectSummary,
    SiteInfo,
    Tombstone,
)
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
    removed = [
        Tombstone(
            filename=f"{name.replace('-', '_')}-0.0.{number}.tar.gz",
            sha256=draw(hex64),
            removed_at=draw(times),
            reason=draw(reasons) or None,
        )
        for number in range(draw(st.integers(0, 2)))
    ]
    status = draw(
        st.none()
        | st.builds(
            ProjectStatus,
            status=st.sampled_from(STATUSES),
            reason=reasons.map(lambda text: text or None),
        )
    )
    return Project.from_files(name, files.values(), status=status, removed=removed)


@settings(max_examples=min(60, settings.default.max_examples), deadline=None)
@given(projects())
def test_project_json_parses_back_to_its_model(project: Project) -> None:
    parsed = project_from_json(render_project_json(project), name=project.name, origin="test")
    assert parsed == project


@settings(max_examples=min(60, settings.default.max_examples), deadline=None)
@given(projects())
def test_html_and_json_agree(project: Project) -> None:
    page = parse_page(render_project_html(project, SITE))
    anchors = page.anchors
    document = json.loads(render_project_json(project))
    version = "1.4" if project.status else "1.1"  # project status came with API 1.4
    assert page.meta("pypi:repository-version") == document["meta"]["api-version"] == version
    status = document.get("project-status", {})
    assert page.meta("pypi:project-status") == status.get("status")
    assert page.meta("pypi:project-status-reason") == status.get("reason")
    assert len(anchors) == len(document["files"])  # one <a> per file, no other anchors
    offered = project.status is None or project.status.status != "quarantined"
    assert len(anchors) == (len(project.files) if offered else 0)
    assert sorted(document["versions"]) == sorted({f.version for f in project.offered})
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


@settings(max_examples=min(50, settings.default.max_examples), deadline=None)
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
        yanked="""it's broken: "quotes" & <tags>""",
    )
    odd = IndexFile(  # no filename in the index holds these; escaped should one ever do
        filename="x-2.0-py3-none-<b>&amp;.whl",
        version="2.0",
        sha256="1" * 64,
        size=1,
        upload_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    project = Project.from_files(NormalizedName("x"), [file, odd])
    page = render_project_html(project, SITE).decode()
    assert ">x-2.0-py3-none-&lt;b&gt;&amp;amp;.whl</a>" in page
    assert 'href="x-2.0-py3-none-%3Cb%3E%26amp%3B.whl#sha256=' in page
    assert ">x-1.0.tar.gz</a>" in page  # the filenames of the index need no escaping
    assert 'data-requires-python="&lt;4,&gt;=3.8"' in page
    assert 'data-yanked="it&#x27;s broken: &quot;quotes&quot; &amp; &lt;tags&gt;"' in page
    assert "<index>" not in page and "Test &lt;index&gt; &amp; co" in page


@pytest.mark.parametrize(
    ("reason", "escaped"),
    [("a&b", "a&amp;b"), ("a<b", "a&lt;b"), ("a>b", "a&gt;b"), ('a"b', "a&quot;b"),
     ("a'b", "a&#x27;b"), ("a b", "a b")],
)  # fmt: skip
def test_each_character_that_needs_it_is_escaped(reason: str, escaped: str) -> None:
    file = _wheel("x", "1.0", yanked=reason)
    page = render_project_html(Project.from_files(NormalizedName("x"), [file]), SITE).decode()
    assert f'data-yanked="{escaped}"' in page
    assert f'<span class="badge">yanked: {escaped}</span>' in page


def _wheel(name: str, version: str, yanked: str | None = None) -> IndexFile:
    return IndexFile(
        filename=f"{name}-{version}-py3-none-any.whl",
        version=version,
        sha256="1" * 64,
        size=2048,
        upload_time=datetime(2026, 4, 27, 12, 30, tzinfo=UTC),
        metadata_sha256="2" * 64,
        yanked=yanked,
    )


DACE = Project.from_files(NormalizedName("dace"), [_wheel("dace", "1.0"), _wheel("dace", "2.0")])


def _snippets(page: bytes) -> list[str]:
    """The text of each <pre> block, as a person copies it."""
    text = page.decode()
    blocks = [part.split("</pre>")[0] for part in text.split("<pre>")[1:]]
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]


def test_install_commands_use_the_index_url_and_never_extra_index_url() -> None:
    site = SiteInfo(title="GT4Py index", url="https://gridtools.github.io/python-pkg-index")
    page = render_project_html(DACE, site)
    pip, uv = _snippets(page)
    assert pip == "pip install --index-url https://gridtools.github.io/python-pkg-index/ dace"
    assert uv == (
        '[[tool.uv.index]]\nname = "gt4py-index"\n'
        'url = "https://gridtools.github.io/python-pkg-index/"\nexplicit = true\n\n'
        '[tool.uv.sources]\ndace = { index = "gt4py-index" }'
    )
    assert b"extra-index-url https" not in page and b"this index&gt;" not in page


def test_dependencies_from_pypi_get_a_two_step_pip_command() -> None:
    site = SiteInfo(title="t", url="https://example.org/simple/")
    page = render_project_html(DACE, site, requires=("numpy", "ghex"), on_index={"dace", "ghex"})
    pip, uv = _snippets(page)
    assert pip == (
        "pip install --no-deps --index-url https://example.org/simple/ dace ghex\npip install dace"
    )
    assert uv.endswith('dace = { index = "t" }\nghex = { index = "t" }')
    assert b"<code>numpy</code>, which this index does not have" in page


def test_without_a_url_the_page_derives_it_and_shows_no_placeholder() -> None:
    page = render_project_html(DACE, SiteInfo(title="t")).decode()
    assert "<div data-needs-url hidden>" in page and "<code data-index-url></code>" in page
    assert 'data-root="../"' in page and "data-url=" not in page
    assert "&lt;" not in page.split("<main>")[1].split("<table>")[0]  # no <placeholder>


def test_project_page_shows_newest_first_with_yank_reason_and_provenance() -> None:
    built = IndexFile(
        filename="dace-3.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        version="3.0",
        sha256="3" * 64,
        size=5_000_000,
        upload_time=datetime(2026, 4, 28, tzinfo=UTC),
        requires_python=">=3.10",
        provenance={
            "source": "GridTools/dace",
            "url": "https://github.com/GridTools/dace.git",
            "commit": "abcdef0123456789" * 2 + "abcdef01",
        },
    )
    yanked = _wheel("dace", "1.0", yanked='bad "build"')
    project = Project.from_files(DACE.name, [yanked, _wheel("dace", "2.0"), built])
    page = render_project_html(project, SiteInfo(title="t", url="https://x/")).decode()
    order = [page.index(f"dace-{v}-") for v in ("3.0", "2.0", "1.0")]
    assert order == sorted(order)
    assert '<span class="badge">yanked: bad &quot;build&quot;</span>' in page
    assert "cp311 <small>/ manylinux_2_28_x86_64</small>" in page
    assert 'action="https://github.com/GridTools/dace/commit/abcdef0123456789' in page
    assert "GridTools/dace @ <code>abcdef012345</code>" in page
    assert "<td>uploaded</td>" in page and "5.0 MB" in page and ">=3.10" not in page
    assert "&gt;=3.10" in page
    assert '<form class="link" action="../" method="get">' in page  # back to the root


def test_quarantined_projects_offer_no_files_but_keep_them_in_the_catalog() -> None:
    project = Project.from_files(
        DACE.name, DACE.files, status=ProjectStatus(status="quarantined", reason="malware")
    )
    document = json.loads(render_project_json(project))
    assert document["files"] == [] and document["versions"] == []
    assert document["project-status"] == {"status": "quarantined", "reason": "malware"}
    assert len(document["_pkgindex"]["withheld"]) == 2
    assert project_from_json(render_project_json(project), name=DACE.name, origin="t") == project
    page = parse_page(render_project_html(project, SiteInfo(title="t")))
    assert page.anchors == [] and page.meta("pypi:project-status") == "quarantined"


def test_a_project_page_has_these_exact_bytes() -> None:
    """The catalog is committed to git: its bytes are a format (a fresh clone regenerates
    them identically), so they are pinned here, one file object per line."""
    built = IndexFile(
        filename="dace-2.0.tar.gz",
        version="2.0",
        sha256="3" * 64,
        size=7,
        upload_time=datetime(2026, 4, 28, 1, 2, 3, 456000, tzinfo=UTC),
        requires_python=">=3.10",
        yanked="",
        provenance={"commit": "c" * 40},
        extra={"replaced": []},
    )
    project = Project.from_files(
        DACE.name,
        [_wheel("dace", "2.0", yanked="bad"), built],
        status=ProjectStatus(status="deprecated", reason="use ghex"),
    )
    assert render_project_json(project).decode() == (
        '{"meta": {"api-version": "1.4"}, "name": "dace", "versions": ["2.0"], '
        '"project-status": {"status": "deprecated", "reason": "use ghex"}, "files": [\n'
        '{"filename": "dace-2.0-py3-none-any.whl", "url": "dace-2.0-py3-none-any.whl", '
        f'"hashes": {{"sha256": "{"1" * 64}"}}, "core-metadata": {{"sha256": "{"2" * 64}"}}, '
        '"size": 2048, "upload-time": "2026-04-27T12:30:00.000000Z", "yanked": "bad"},\n'
        '{"filename": "dace-2.0.tar.gz", "url": "dace-2.0.tar.gz", '
        f'"hashes": {{"sha256": "{"3" * 64}"}}, "requires-python": ">=3.10", "size": 7, '
        '"upload-time": "2026-04-28T01:02:03.456000Z", "yanked": true, '
        f'"_pkgindex": {{"replaced": [], "provenance": {{"commit": "{"c" * 40}"}}}}}}\n'
        "]}\n"
    )
    plain = render_project_json(Project.from_files(DACE.name, [_wheel("dace", "1.0")]))
    assert plain.startswith(
        b'{"meta": {"api-version": "1.1"}, "name": "dace", "versions": ["1.0"], "files": [\n'
    )
    assert plain.endswith(b'"yanked": false}\n]}\n')
    status = Project.from_files(DACE.name, [], status=ProjectStatus(status="archived"))
    assert render_project_json(status) == (
        b'{"meta": {"api-version": "1.4"}, "name": "dace", "versions": [], '
        b'"project-status": {"status": "archived"}, "files": [\n\n]}\n'
    )


def test_a_root_page_has_these_exact_bytes() -> None:
    assert render_root_json(["attrs", "dace"]) == (
        b'{"meta": {"api-version": "1.1"},\n"projects": [\n'
        b'{"name": "attrs"},\n{"name": "dace"}\n]\n}\n'
    )
    state = {
        "format": 3,
        "title": "Paketindex für GT4Py",
        "fingerprints": {"dace": "f1", "attrs": "f0"},
        "summaries": {"dace": {"version": "1.0", "files": 1}},
    }
    assert render_root_json(["dace"], state).decode() == (
        '{"meta": {"api-version": "1.1"},\n"projects": [\n{"name": "dace"}\n],\n'
        '"_pkgindex": {"format": 3, "title": "Paketindex für GT4Py", "fingerprints": {\n'
        '"dace": "f1",\n"attrs": "f0"\n}, '
        '"summaries": {\n"dace": {"version": "1.0", "files": 1}\n}}\n}\n'
    )
    only_maps = {"summaries": {}, "fingerprints": {"dace": "f1"}}
    assert render_root_json(["dace"], only_maps).decode() == (
        '{"meta": {"api-version": "1.1"},\n"projects": [\n{"name": "dace"}\n],\n'
        '"_pkgindex": {"fingerprints": {\n"dace": "f1"\n}, "summaries": {\n\n}}\n}\n'
    )
    assert json.loads(render_root_json(["dace"], {"url": None})) == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "dace"}],
        "_pkgindex": {"url": None},
    }


def test_a_quarantined_page_keeps_removed_and_withheld_files_in_exact_bytes() -> None:
    removed = Tombstone(
        filename="dace-0.9.tar.gz",
        sha256="4" * 64,
        removed_at=datetime(2026, 1, 1, tzinfo=UTC),
        reason="fuite de clé",  # not ASCII: kept as UTF-8, readable in a diff
    )
    project = Project.from_files(
        DACE.name,
        [_wheel("dace", "1.0", yanked="cassé")],
        status=ProjectStatus(status="quarantined", reason="logiciel malveillant ☠"),
        removed=[removed],
    )
    assert render_project_json(project).decode() == (
        '{"meta": {"api-version": "1.4"}, "name": "dace", "versions": [], '
        '"project-status": {"status": "quarantined", "reason": "logiciel malveillant ☠"}, '
        '"files": [\n\n], "_pkgindex": {'
        '"removed": [\n'
        f'{{"filename": "dace-0.9.tar.gz", "sha256": "{"4" * 64}", '
        '"removed-at": "2026-01-01T00:00:00.000000Z", "reason": "fuite de clé"}\n], '
        '"withheld": [\n'
        '{"filename": "dace-1.0-py3-none-any.whl", "url": "dace-1.0-py3-none-any.whl", '
        f'"hashes": {{"sha256": "{"1" * 64}"}}, "core-metadata": {{"sha256": "{"2" * 64}"}}, '
        '"size": 2048, "upload-time": "2026-04-27T12:30:00.000000Z", "yanked": "cassé"}\n]}}\n'
    )
    assert project_from_json(render_project_json(project), name=DACE.name, origin="t") == project
