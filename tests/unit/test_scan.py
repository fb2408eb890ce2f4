"""Finding project folders and their fingerprints, without reading a distribution file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName

from pkgindex.errors import InvalidDistributionError
from pkgindex.index.model import IndexFile, Project
from pkgindex.index.scan import project_fingerprint, scan_folder, scan_root
from pkgindex.stores.base import Listing, RootListing
from pkgindex.stores.local import LocalStore

WHEEL = "dace-1.0-py3-none-any.whl"


def folder_with(root: Path, name: str, files: dict[str, bytes]) -> None:
    (root / name).mkdir(parents=True)
    for filename, data in files.items():
        (root / name / filename).write_bytes(data)


def test_distributions_in_the_root_are_problems_with_a_move_command(tmp_path: Path) -> None:
    for name in (WHEEL, "not-a-dist.whl", "README.md", "index.html"):
        (tmp_path / name).write_bytes(b"x")
    folders, problems = scan_root(LocalStore(tmp_path))
    assert folders == []
    assert all(isinstance(p, InvalidDistributionError) for p in problems)
    assert [(p.message, p.hint) for p in problems] == [
        (
            f"{WHEEL}: distribution files belong in a project folder, not in the index root",
            f"move it into its project folder: mkdir -p {tmp_path}/dace && "
            f"mv {tmp_path}/{WHEEL} {tmp_path}/dace/",
        ),
        (
            "not-a-dist.whl: distribution files belong in a project folder, not in the index root",
            "move it into the folder of its project (named by its normalized name)",
        ),
    ]


def test_a_folder_is_a_project_if_it_has_distributions_or_a_catalog(tmp_path: Path) -> None:
    folder_with(tmp_path, "dace", {WHEEL: b"12345", f"{WHEEL}.metadata": b"m", "notes.txt": b""})
    folder_with(tmp_path, "ghex", {"index.json": b"{}", "index.html": b"<html>"})
    folder_with(tmp_path, "docs", {"index.html": b"<html>", "notes.txt": b""})
    folder_with(tmp_path, "empty", {})
    folders, problems = scan_root(LocalStore(tmp_path))
    assert problems == []
    assert [f.name for f in folders] == ["dace", "ghex"]
    dace, ghex = folders
    assert (dace.sizes, dace.pages, dace.metadata) == (
        {WHEEL: 5},
        {},
        frozenset({f"{WHEEL}.metadata"}),
    )
    assert (ghex.sizes, ghex.pages, ghex.metadata) == (
        {},
        {"index.json": 2, "index.html": 6},
        frozenset(),
    )
    assert dace.key("index.html") == "dace/index.html"
    etag = LocalStore(tmp_path).stat("ghex/index.json")
    assert etag is not None and ghex.etags["index.json"] == etag.etag


def test_a_folder_not_named_by_its_normalized_name_is_a_problem(tmp_path: Path) -> None:
    folder_with(tmp_path, "Dace_Py", {"dace_py-1.0.tar.gz": b"x"})
    folder_with(tmp_path, "-bad-", {"x-1.0.tar.gz": b"x"})
    folders, problems = scan_root(LocalStore(tmp_path))
    assert folders == []
    assert [(p.message, p.hint) for p in problems] == [
        ("-bad-/: a project folder must be named by its normalized name (PEP 503)",
         "rename it to a valid project name"),
        ("Dace_Py/: a project folder must be named by its normalized name (PEP 503)",
         "rename it to dace-py/"),
    ]  # fmt: skip
    untrusted, problems = scan_folder(LocalStore(tmp_path), "Dace_Py")  # checked by default
    assert untrusted is None and [p.hint for p in problems] == ["rename it to dace-py/"]
    trusted, none = scan_folder(LocalStore(tmp_path), "Dace_Py", trusted=True)
    assert none == [] and trusted is not None and trusted.name == "Dace_Py"
    assert scan_root(LocalStore(tmp_path), trusted={"Dace_Py"})[1][0].message.startswith("-bad-/")


def test_a_listing_problem_becomes_a_layout_error(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "index" / "dace").symlink_to(tmp_path / "elsewhere")
    folder, problems = scan_folder(LocalStore(tmp_path / "index"), "dace")
    assert folder is None
    assert [type(p) for p in problems] == [InvalidDistributionError]
    assert problems[0].message == (
        "dace/: a symbolic link; project folders must be real folders inside the index root"
    )
    assert (
        problems[0].hint == "replace the link with a folder (or remove it): rm dace && mkdir dace"
    )


def test_a_folder_fingerprint_is_the_one_its_project_will_have(tmp_path: Path) -> None:
    pages = {"index.html": b"<html>", "index.json": b"{}"}
    folder_with(tmp_path, "dace", {WHEEL: b"12345", f"{WHEEL}.metadata": b"m", **pages})
    file = IndexFile(
        filename=WHEEL,
        version="1.0",
        sha256="a" * 64,
        size=5,
        upload_time=datetime(2024, 1, 1, tzinfo=UTC),
        metadata_sha256="b" * 64,
    )
    project = Project(name=NormalizedName("dace"), files=(file,))
    folder, _ = scan_folder(LocalStore(tmp_path), "dace")
    assert folder is not None
    assert folder.fingerprint == project_fingerprint(project, pages)
    # stable across runs and versions: a changed fingerprint makes every folder look changed
    assert folder.fingerprint == "29b63009483cb6ca3e986a0c"
    (tmp_path / "dace" / f"{WHEEL}.metadata").unlink()
    again, _ = scan_folder(LocalStore(tmp_path), "dace")
    assert again is not None and again.fingerprint != folder.fingerprint
    (tmp_path / "dace" / "index.html").write_bytes(b"<html>!")
    resized, _ = scan_folder(LocalStore(tmp_path), "dace")
    assert resized is not None and resized.fingerprint not in (
        folder.fingerprint,
        again.fingerprint,
    )


def test_the_root_listing_is_handed_over_before_any_folder_is_listed(tmp_path: Path) -> None:
    for name in ("dace", "ghex"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}-1.0-py3-none-any.whl").write_bytes(b"")
    listed: list[str] = []
    seen: list[tuple[str, ...]] = []

    class Recording(LocalStore):
        def list_folder(self, folder: str, **options: Any) -> Listing | None:
            listed.append(folder)
            return super().list_folder(folder, **options)

    store = Recording(tmp_path)

    def on_listing(listing: RootListing) -> None:
        seen.append(listing.folders)
        assert listed == [], "handed over before any folder is listed"

    folders, _problems = scan_root(store, on_listing=on_listing)
    assert seen == [("dace", "ghex")]
    assert [folder.name for folder in folders] == ["dace", "ghex"] == listed
