"""Writing pages into a folder store: requirements, root pages, lost races, site settings."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from pkgindex.config import DEFAULT_TITLE
from pkgindex.errors import ConfigError, StaleError
from pkgindex.index import pages
from pkgindex.index.catalog import RootState
from pkgindex.index.model import IndexFile, Project, ProjectSummary, SiteInfo
from pkgindex.index.pages import (
    ROOT_ATTEMPTS,
    backoff,
    load_site,
    load_store_config,
    read_requires,
    read_root_state,
    render_folder_pages,
    requires_dist,
    root_pages,
    same_site,
    site_state,
    summarize,
    write_pages,
    write_root,
)
from pkgindex.index.render import FORMAT_VERSION, render_project_json
from pkgindex.stores.local import LocalStore

NAME = NormalizedName("dace")
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
SITE = SiteInfo(title="Tests", url="https://example.org/simple/")
METADATA = b"""Metadata-Version: 2.1
Name: dace
Version: 2.0
Requires-Dist: not a requirement !!
Requires-Dist: NumPy>=1.20
Requires-Dist: attrs ; python_version >= "3.8"
Requires-Dist: pytest ; extra == "test"
Requires-Dist: dace[extra]
Requires-Dist: Typing_Extensions

"""


def wheel(version: str, *, yanked: str | None = None, metadata: bool = True) -> IndexFile:
    return IndexFile(
        filename=f"dace-{version}-py3-none-any.whl",
        version=version,
        sha256="a" * 64,
        size=1,
        upload_time=WHEN,
        metadata_sha256="b" * 64 if metadata else None,
        yanked=yanked,
    )


def store_with_metadata(root: Path, version: str, data: bytes = METADATA) -> LocalStore:
    store = LocalStore(root)
    store.create(f"dace/dace-{version}-py3-none-any.whl.metadata", data)
    return store


def test_requirements_of_the_latest_wheel_leave_out_extras_and_the_project(
    tmp_path: Path,
) -> None:
    store = store_with_metadata(tmp_path, "2.0")
    project = Project.from_files(NAME, [wheel("1.0"), wheel("2.0")])
    assert read_requires(store, project) == ("attrs", "numpy", "typing-extensions")
    rendered, summary = render_folder_pages(store, project, SITE, on_index={"numpy"})
    assert summary.requires == ("attrs", "numpy", "typing-extensions")
    assert rendered["index.json"] == render_project_json(project)
    assert b"numpy" in rendered["index.html"]


def test_requirements_come_from_a_usable_wheel_only(tmp_path: Path) -> None:
    store = store_with_metadata(tmp_path, "2.0")
    yanked = Project.from_files(NAME, [wheel("2.0", yanked="broken")])
    assert read_requires(store, yanked) == ()
    assert read_requires(store, Project.from_files(NAME, [wheel("2.0", metadata=False)])) == ()
    assert read_requires(store, Project.from_files(NAME, [wheel("3.0")])) == ()  # no file
    assert read_requires(store, Project.from_files(NAME, [])) == ()


def test_an_oversized_metadata_file_gives_no_requirements(tmp_path: Path) -> None:
    limit = 16 << 20
    header = METADATA.rstrip(b"\n") + b"\nSummary: "
    big = header + b"x" * (limit + 1 - len(header) - 2) + b"\n\n"
    assert len(big) == limit + 1
    store = store_with_metadata(tmp_path, "2.0", big)
    project = Project.from_files(NAME, [wheel("2.0")])
    assert read_requires(store, project) == ()
    exact = header + b"x" * (limit - len(header) - 2) + b"\n\n"
    store = store_with_metadata(tmp_path / "other", "2.0", exact)
    assert read_requires(store, project) == ("attrs", "numpy", "typing-extensions")


def test_pages_are_written_only_when_they_change(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    new = {"index.html": b"<html>", "index.json": b"{}"}
    assert write_pages(store, "dace", new, {}) == ["dace/index.html", "dace/index.json"]
    etags = {name: read.etag for name in new if (read := store.read(f"dace/{name}"))}
    changed = {"index.html": b"<html>", "index.json": b"{1}"}
    assert write_pages(store, "dace", changed, etags) == ["dace/index.json"]
    with pytest.raises(StaleError, match="changed by another writer"):
        write_pages(store, "dace", {"index.html": b"<p>", "index.json": b"{2}"}, etags)
    assert (tmp_path / "dace" / "index.html").read_bytes() == b"<p>"  # its ETag still held
    assert (tmp_path / "dace" / "index.json").read_bytes() == b"{1}"


def test_backoff_is_random_grows_and_stays_under_two_seconds() -> None:
    first = [backoff(0) for _ in range(300)]
    assert all(0 <= wait <= 0.05 for wait in first) and len(set(first)) > 250
    fourth = [backoff(3) for _ in range(300)]
    assert all(0 <= wait <= 0.4 for wait in fourth) and max(fourth) > 0.2
    assert all(0 <= backoff(attempt) <= 2.0 for attempt in range(20) for _ in range(20))
    assert max(backoff(10) for _ in range(300)) > 1.5


def a_root(store: LocalStore, names: list[str]) -> RootState:
    write_root(store, read_root_state(store), names, SITE, {}, {})
    return read_root_state(store)


def test_a_stale_root_without_merge_raises(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state = a_root(store, ["dace"])
    (tmp_path / "index.json").write_bytes(b"{}\n")  # another writer
    with pytest.raises(StaleError, match="changed by another writer"):
        write_root(store, state, ["dace", "numpy"], SITE, {}, {})
    assert (tmp_path / "index.json").read_bytes() == b"{}\n"


def test_a_stale_root_is_merged_and_written(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state = a_root(store, ["dace"])
    a_root(store, ["attrs", "dace"])  # another writer added a project
    seen: list[tuple[str, ...]] = []

    def merge(now: RootState) -> tuple[list[str], dict[str, str], dict[str, ProjectSummary]]:
        seen.append(now.names)
        return sorted({*now.names, "numpy"}), {"numpy": "f1"}, {}

    written = write_root(store, state, ["dace", "numpy"], SITE, {}, {}, merge=merge)
    assert seen == [("attrs", "dace")]
    assert written == ["index.html", "index.json"]
    after = read_root_state(store)
    assert after.names == ("attrs", "dace", "numpy")
    assert after.fingerprints == {"numpy": "f1"}


def test_a_root_that_keeps_changing_is_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(pages.time, "sleep", waits.append)
    store = LocalStore(tmp_path)
    state = a_root(store, ["dace"])
    (tmp_path / "index.json").write_bytes(b"{}\n")
    merges = 0

    def merge(now: RootState) -> tuple[list[str], dict[str, str], dict[str, ProjectSummary]]:
        nonlocal merges
        merges += 1
        (tmp_path / "index.json").write_bytes(b"{}\n" + b" " * merges)  # yet another writer
        return ["dace"], {}, {}

    with pytest.raises(StaleError, match=f"index.json: still changing after {ROOT_ATTEMPTS} "):
        write_root(store, state, ["dace"], SITE, {}, {}, merge=merge)
    assert ROOT_ATTEMPTS == 12 and merges == 12 and len(waits) == 12
    assert all(wait <= 2.0 for wait in waits) and max(waits[6:]) > 0.05


def test_root_pages_summarize_projects_without_a_summary(tmp_path: Path) -> None:
    store = store_with_metadata(tmp_path, "2.0")
    project = Project.from_files(NAME, [wheel("1.0"), wheel("2.0")])
    store.replace("dace/index.json", render_project_json(project), etag=None)
    given = ProjectSummary(name=NormalizedName("attrs"), version="1.0", files=1)
    found = root_pages(store, ["attrs", "dace", "gone"], SITE, {"dace": "f"}, {"attrs": given})
    document = json.loads(found["index.json"])
    assert [entry["name"] for entry in document["projects"]] == ["attrs", "dace", "gone"]
    assert document["_pkgindex"] == {
        "format": FORMAT_VERSION,
        "title": "Tests",
        "url": "https://example.org/simple/",
        "fingerprints": {"dace": "f"},
        "summaries": {
            "attrs": {"version": "1.0", "files": 1},
            "dace": {
                "version": "2.0",
                "files": 2,
                "last-upload": "2024-05-06T07:08:09.000000Z",
                "requires": ["attrs", "numpy", "typing-extensions"],
            },
            "gone": {"version": None, "files": 0},
        },
    }
    assert b"dace" in found["index.html"] and b"Tests" in found["index.html"]


def test_a_damaged_catalog_page_summarizes_as_empty(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.replace("dace/index.json", b'{"name": "other", "files": []}', etag=None)
    assert summarize(store, "Dace") == ProjectSummary(name=NAME)
    assert summarize(store, "numpy") == ProjectSummary(name=NormalizedName("numpy"))


def test_the_site_comes_from_the_option_the_config_or_the_last_run(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert load_site(store) == SiteInfo(title=DEFAULT_TITLE, url=None)
    remembered = RootState(private={"url": "https://old.example/"})
    assert load_site(store, state=remembered).url == "https://old.example/"
    assert load_site(store, state=RootState(private={"url": ""})).url is None
    assert load_site(store, state=RootState(private={"url": 3})).url is None
    assert load_site(store, "https://new.example/", state=remembered).url == "https://new.example/"
    a_root(store, ["dace"])
    assert load_site(store).url == "https://example.org/simple/"  # read from the root page
    (tmp_path / "pkgindex.toml").write_text('title = "Ours"\nurl = "https://config.example/"\n')
    assert load_site(store, state=remembered) == SiteInfo(
        title="Ours", url="https://config.example/"
    )
    assert load_site(store, "https://new.example/").url == "https://new.example/"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"title = \n", "pkgindex.toml: not valid TOML"),
        (b'title = "\xff"\n', "pkgindex.toml: not valid TOML"),
    ],
)
def test_a_broken_config_is_an_error(tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "pkgindex.toml").write_bytes(data)
    with pytest.raises(ConfigError, match=message):
        load_store_config(LocalStore(tmp_path))


def test_a_config_of_more_than_a_mebibyte_is_refused(tmp_path: Path) -> None:
    line = b'title = "x"\n'
    (tmp_path / "pkgindex.toml").write_bytes(line + b"#" * ((1 << 20) - len(line)))
    assert load_store_config(LocalStore(tmp_path)).title == "x"
    (tmp_path / "pkgindex.toml").write_bytes(line + b"#" * ((1 << 20) - len(line) + 1))
    with pytest.raises(Exception, match=r"pkgindex.toml: 1048577 bytes, more than the 1048576"):
        load_store_config(LocalStore(tmp_path))


def test_the_root_state_has_the_etags_of_the_pages_there_are(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert read_root_state(store) == RootState()
    (tmp_path / "index.html").write_text("<html>")
    html = store.stat("index.html")
    assert html is not None and read_root_state(store) == RootState(etags={"index.html": html.etag})
    state = a_root(store, ["dace"])
    read = store.read("index.json")
    assert read is not None and state.names == ("dace",)
    assert set(state.etags) == {"index.html", "index.json"}
    assert state.etags["index.json"] == read.etag


def test_same_site_compares_format_title_and_url() -> None:
    state = RootState(private={**site_state(SITE), "fingerprints": {}})
    # format 3: pages rendered by an earlier format are rewritten once; bump it with this test
    assert site_state(SITE) == {"format": 3, "title": "Tests", "url": SITE.url}
    assert same_site(state, SITE)
    assert not same_site(state, SiteInfo(title="Tests", url=None))
    assert not same_site(state, SiteInfo(title="Other", url=SITE.url))
    assert not same_site(RootState(private={**site_state(SITE), "format": 0}), SITE)


def test_unchanged_projects_keep_their_root_rows_as_they_were(tmp_path: Path) -> None:
    """A run that changes one project renders one row: the others are kept byte for byte
    (shown here by a row edited on disk), unless the site changed (then all are rendered)."""
    store = LocalStore(tmp_path)
    a_root(store, ["alpha", "bravo"])
    page = tmp_path / "index.html"
    html = page.read_text()
    row = next(line for line in html.splitlines() if 'data-name="alpha"' in line)
    assert '<td class="num">0</td>' in row
    page.write_text(html.replace(row, row.replace('"num">0<', '"num">7<')))
    charlie = ProjectSummary(name=NormalizedName("charlie"), version="1.0", files=2)
    written = write_root(
        store, read_root_state(store), ["alpha", "bravo", "charlie"], SITE, {}, {"charlie": charlie}
    )
    assert written == ["index.html", "index.json"]
    rows = [line for line in page.read_text().splitlines() if "data-name=" in line]
    assert [r.split('data-name="')[1].split('"')[0] for r in rows] == ["alpha", "bravo", "charlie"]
    assert '"num">7<' in rows[0] and '"num">2<' in rows[2]
    summaries = read_root_state(store).summaries
    assert summaries["charlie"] == charlie and summaries["alpha"].files == 0
    other = SiteInfo(title="Other", url=SITE.url)
    write_root(store, read_root_state(store), ["alpha", "bravo", "charlie"], other, {}, {})
    rows = [line for line in page.read_text().splitlines() if "data-name=" in line]
    assert '"num">0<' in rows[0] and '"num">2<' in rows[2]  # rendered again from summaries


def test_requirements_come_from_the_last_wheel_of_the_latest_version(tmp_path: Path) -> None:
    store = store_with_metadata(tmp_path, "2.0")  # dace-2.0-py3-none-any.whl
    built = "dace-2.0-cp311-cp311-linux_x86_64.whl"
    store.create(f"dace/{built}.metadata", b"Metadata-Version: 2.1\nName: dace\nVersion: 2.0\n\n")
    files = [wheel("2.0"), dataclasses.replace(wheel("2.0"), filename=built)]
    project = Project.from_files(NAME, files)
    assert [f.filename for f in project.files] == [built, "dace-2.0-py3-none-any.whl"]
    assert read_requires(store, project) == ("attrs", "numpy", "typing-extensions")


def test_a_root_page_removed_after_it_was_read_is_a_lost_race(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    state = a_root(store, ["dace"])
    (tmp_path / "index.html").unlink()  # another writer
    with pytest.raises(StaleError, match=r"index\.html: removed by another writer"):
        write_root(store, state, ["dace", "numpy"], SITE, {}, {})


def test_requires_dist_reads_as_email_does() -> None:
    metadata = (
        b"Metadata-Version: 2.1\nName: x\nRequires-Dist: caf\xc3\xa9 >=1\nRequires-Dist: numpy\n"
        b"Summary: na\xc3\xafve\n\nRequires-Dist: not a header\n"
    )
    expected = ["caf\ufffd\ufffd >=1", "numpy"]  # what str() of compat32's Header gives
    assert requires_dist(metadata) == expected
    ascii_only = b"Name: x\nRequires-Dist: attrs\nRequires-Dist: numpy ; extra == 'a'\n"
    assert requires_dist(ascii_only) == ["attrs", "numpy ; extra == 'a'"]
    assert requires_dist(b"Name: x\nSummary: \xc3\xa9\n") == []


def test_requirements_of_a_wheel_read_in_this_run_come_from_memory(tmp_path: Path) -> None:
    built = "dace-2.0-cp311-cp311-linux_x86_64.whl"
    files = [wheel("2.0"), dataclasses.replace(wheel("2.0"), filename=built)]
    project = Project.from_files(NAME, files)
    known = {built: b"Name: dace\nVersion: 2.0\n\n", "dace-2.0-py3-none-any.whl": METADATA}
    store = LocalStore(tmp_path)  # holds no metadata file at all
    assert read_requires(store, project, known) == ("attrs", "numpy", "typing-extensions")
