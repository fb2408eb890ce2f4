"""Find project folders and notice, without reading any distribution file, which changed.

A run lists the project folders that changed since the last run on this machine (all of them
on a bucket, on a fresh clone, or with ``--verify``; scancache.py), so this stays lean: one
listing per folder (in a folder store one ``scandir``, and one ``stat`` per distribution file
and page). A folder's *fingerprint* (distribution files and pages with their sizes, which
metadata files exist) is compared with the one recorded after the last run; an unchanged folder
is not read further.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field

from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from pkgindex.errors import InvalidDistributionError, PkgIndexError
from pkgindex.index.distfile import DIST_SUFFIXES, is_distribution_filename, parse_filename
from pkgindex.index.model import Project
from pkgindex.index.pickled import by_constructor
from pkgindex.stores.base import RootListing, Store

PAGE_HTML = "index.html"
PAGE_JSON = "index.json"
METADATA_SUFFIX = ".metadata"
_PAGES = (PAGE_HTML, PAGE_JSON)


@by_constructor  # sent to the workers that write folders
@dataclass(frozen=True, slots=True, kw_only=True)
class Folder:
    """A project folder as found in the store."""

    name: NormalizedName
    sizes: Mapping[str, int]  # distribution filename -> size in bytes
    pages: Mapping[str, int]  # index.html / index.json -> size in bytes
    metadata: frozenset[str]  # names of the .metadata files present
    fingerprint: str  # digest of distributions and pages with sizes, and metadata files present
    etags: Mapping[str, str] = field(default_factory=dict)  # of the pages, for replacing them
    stamp: str | None = None  # the store's change stamp of the folder when it was listed
    listed: bool = True  # False: taken from the scan cache unlisted (only name and fingerprint)

    def key(self, filename: str) -> str:
        return f"{self.name}/{filename}"


def unlisted_folder(name: str, stamp: str, fingerprint: str) -> Folder:
    """A folder whose stamp is the one remembered: its remembered fingerprint, nothing else."""
    return Folder(
        name=NormalizedName(name),
        sizes={},
        pages={},
        metadata=frozenset(),
        fingerprint=fingerprint,
        stamp=stamp,
        listed=False,
    )


def scan_root(
    store: Store,
    *,
    trusted: Container[str] = (),
    remembered: Mapping[str, tuple[str, str]] | None = None,
    on_listing: Callable[[RootListing], object] | None = None,
) -> tuple[list[Folder], list[PkgIndexError]]:
    """Find the project folders in the store, and every problem with how they are laid out.

    Folder names in ``trusted`` were validated by an earlier run and are not checked again.
    A folder whose stamp is the one ``remembered`` (scancache.py) is not listed: it comes back
    unlisted, with its remembered fingerprint. ``on_listing`` is given the root's listing
    before any folder is listed.
    """
    folders: list[Folder] = []
    problems: list[PkgIndexError] = []
    listing = store.list_root()
    if on_listing is not None:
        on_listing(listing)
    for name in listing.folders:
        stamp = listing.stamps.get(name)
        known = remembered.get(name) if remembered and stamp else None
        if known is not None and stamp is not None and known[0] == stamp and name in trusted:
            folders.append(unlisted_folder(name, stamp, known[1]))
            continue
        folder, folder_problems = scan_folder(store, name, trusted=name in trusted, stamp=stamp)
        problems += folder_problems
        if folder:
            folders.append(folder)
    for name in listing.files:
        if is_distribution_filename(name):
            problems.append(
                InvalidDistributionError(
                    f"{name}: distribution files belong in a project folder, not in the index root",
                    hint=_move_hint(store, name),
                )
            )
    return folders, problems


def _move_hint(store: Store, filename: str) -> str:
    """How to move FILENAME from the root into its project folder (add would copy it)."""
    try:
        project = parse_filename(filename).name
    except InvalidDistributionError:
        return "move it into the folder of its project (named by its normalized name)"
    source = shlex.quote(store.describe(filename))
    folder = shlex.quote(store.describe(project))
    return f"move it into its project folder: mkdir -p {folder} && mv {source} {folder}/"


def _sized(name: str) -> bool:
    return name.endswith(DIST_SUFFIXES) or name in _PAGES


def scan_folder(
    store: Store, name: str, *, trusted: bool = False, stamp: str | None = None
) -> tuple[Folder | None, list[PkgIndexError]]:
    """List one folder; None if it is not a project folder (no distributions, no catalog).

    This runs for every folder on every run, so it stays lean: one listing, and (in a folder
    store) one stat per distribution file (its size is how a changed file is noticed without
    reading it) and page.
    """
    listing = store.list_folder(name, sized=_sized)
    if listing is None:
        return None, []
    problems: list[PkgIndexError] = [_as_layout_error(p) for p in listing.problems]
    sizes: dict[str, int] = {}
    pages: dict[str, int] = {}
    for filename, size in listing.sizes.items():
        (pages if filename in _PAGES else sizes)[filename] = size
    if not sizes and PAGE_JSON not in pages:
        return None, problems
    try:
        normalized = NormalizedName(name) if trusted else _normalized_folder_name(name)
    except InvalidName:
        normalized = None
    if normalized != name:
        fix = f"rename it to {normalized}/" if normalized else "rename it to a valid project name"
        problems.append(
            InvalidDistributionError(
                f"{name}/: a project folder must be named by its normalized name (PEP 503)",
                hint=fix,
            )
        )
        return None, problems
    present = frozenset(n for n in listing.names if n.endswith(METADATA_SUFFIX))
    folder = Folder(
        name=normalized,
        sizes=sizes,
        pages=pages,
        metadata=present,
        etags=listing.etags,
        stamp=stamp,
        fingerprint=_fingerprint(
            {**sizes, **pages},
            [n for n in present if n.removesuffix(METADATA_SUFFIX) in sizes],
        ),
    )
    return folder, problems


def _as_layout_error(problem: PkgIndexError) -> PkgIndexError:
    if isinstance(problem, InvalidDistributionError):
        return problem
    return InvalidDistributionError(problem.message, hint=problem.hint)


def _normalized_folder_name(name: str) -> NormalizedName:
    return canonicalize_name(name, validate=True)


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
