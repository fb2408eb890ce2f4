"""Find project folders and notice, without reading any distribution file, which changed.

A run lists every project folder on every run, so this stays lean: one ``scandir`` per folder and
one ``stat`` per distribution file and page. A folder's *fingerprint* (distribution files and
pages with their sizes, which metadata files exist) is compared with the one recorded after the
last run; an unchanged folder is not read further.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from pkgindex.errors import InvalidDistributionError, PkgIndexError
from pkgindex.index.distfile import DIST_SUFFIXES, is_distribution_filename
from pkgindex.index.model import Project

PAGE_HTML = "index.html"
PAGE_JSON = "index.json"
METADATA_SUFFIX = ".metadata"
_PAGES = (PAGE_HTML, PAGE_JSON)


@dataclass(frozen=True, slots=True, kw_only=True)
class Folder:
    """A project folder as found on disk."""

    name: NormalizedName
    path: Path
    sizes: Mapping[str, int]  # distribution filename -> size in bytes
    pages: Mapping[str, int]  # index.html / index.json -> size in bytes
    metadata: frozenset[str]  # names of the .metadata files present
    fingerprint: str  # digest of distributions and pages with sizes, and metadata files present


def scan_root(
    root: Path, *, trusted: Container[str] = ()
) -> tuple[list[Folder], list[PkgIndexError]]:
    """Find the project folders under ROOT, and every problem with how they are laid out.

    Folder names in ``trusted`` were validated by an earlier run and are not checked again.
    """
    folders: list[Folder] = []
    problems: list[PkgIndexError] = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            folder, folder_problems = scan_folder(
                root, Path(entry.path), trusted=entry.name in trusted, link=entry.is_symlink()
            )
            problems += folder_problems
            if folder:
                folders.append(folder)
        elif is_distribution_filename(entry.name):
            problems.append(
                InvalidDistributionError(
                    f"{entry.name}: distribution files belong in a project folder, "
                    "not in the index root",
                    hint="move it into its project folder (this moves, not copies, it): "
                    f"pkgindex add --root {shlex.quote(str(root))} "
                    f"{shlex.quote(str(Path(root, entry.name)))}",
                )
            )
    return folders, problems


def scan_folder(
    root: Path, path: Path, *, trusted: bool = False, link: bool | None = None
) -> tuple[Folder | None, list[PkgIndexError]]:
    """List one folder; None if it is not a project folder (no distributions, no catalog).

    This runs for every folder on every run, so it stays lean: one scandir, one stat per
    distribution file (its size is how a changed file is noticed without reading it) and page.
    ``link`` says whether the folder is a symbolic link, when the caller already knows.
    """
    try:
        with os.scandir(path) as listing:
            found = list(listing)
    except FileNotFoundError:
        return None, []
    distributions = []
    pages: dict[str, int] = {}
    metadata = []
    for entry in found:  # one pass: this loop runs for every file of the index on every run
        name = entry.name
        if name.endswith(DIST_SUFFIXES):
            if name[0] != ".":
                distributions.append(entry)
        elif name.endswith(METADATA_SUFFIX):
            metadata.append(name)
        elif name in _PAGES:
            pages[name] = entry.stat().st_size
    if not distributions and PAGE_JSON not in pages:
        return None, []
    problems: list[PkgIndexError] = []
    sizes = _distribution_sizes(root, path, distributions, link, problems)
    try:
        normalized = NormalizedName(path.name) if trusted else _normalized_folder_name(path.name)
    except InvalidName:
        normalized = None
    if normalized != path.name:
        fix = f"rename it to {normalized}/" if normalized else "rename it to a valid project name"
        problems.append(
            InvalidDistributionError(
                f"{path.name}/: a project folder must be named by its normalized name (PEP 503)",
                hint=fix,
            )
        )
        return None, problems
    present = frozenset(metadata)
    folder = Folder(
        name=normalized,
        path=path,
        sizes=sizes,
        pages=pages,
        metadata=present,
        fingerprint=_fingerprint(
            {**sizes, **pages},
            [name for name in present if name.removesuffix(METADATA_SUFFIX) in sizes],
        ),
    )
    return folder, problems


def _distribution_sizes(
    root: Path,
    path: Path,
    distributions: Iterable[os.DirEntry[str]],
    link: bool | None,
    problems: list[PkgIndexError],
) -> dict[str, int]:
    sizes: dict[str, int] = {}
    folder_is_link = path.is_symlink() if link is None else link
    for entry in distributions:
        if (entry.is_symlink() or folder_is_link) and not _inside(root, Path(entry.path)):
            problems.append(
                InvalidDistributionError(
                    f"{path.name}/{entry.name}: a symbolic link that leaves the index root",
                    hint="copy the file into the index instead of linking to it",
                )
            )
            continue
        try:
            sizes[entry.name] = entry.stat().st_size
        except FileNotFoundError:
            problems.append(
                InvalidDistributionError(f"{path.name}/{entry.name}: a broken symbolic link")
            )
    return sizes


def _normalized_folder_name(name: str) -> NormalizedName:
    return canonicalize_name(name, validate=True)


def _inside(root: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def project_fingerprint(project: Project, pages: Mapping[str, bytes]) -> str:
    """The fingerprint a project's folder has once its pages are written."""
    sizes = {f.filename: f.size for f in project.files}
    sizes.update({name: len(data) for name, data in pages.items()})
    return _fingerprint(
        sizes, [f.filename + METADATA_SUFFIX for f in project.files if f.metadata_sha256]
    )


def _fingerprint(sizes: Mapping[str, int], metadata: Iterable[str]) -> str:
    text = repr((sorted(sizes.items()), sorted(metadata)))  # C-speed, and stable across runs
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
