"""The heart of pkgindex: scan project folders, keep the catalog, regenerate pages incrementally.

The published JSON pages are the catalog. A run lists every project folder (scan.py) and skips
those whose fingerprint is unchanged; for the others it loads the catalog page, reads only the
distribution files that are new (or all of them with ``verify``; batch.py), and writes pages
only when their bytes change (pages.py). Every problem in a run is collected and reported at
once; if there is any (and ``skip_invalid`` is off), nothing is written.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from pkgindex.errors import (
    ConflictError,
    IntegrityError,
    InvalidDistributionError,
    PkgIndexError,
    ValidationError,
)
from pkgindex.index import pages
from pkgindex.index.batch import inspect_many
from pkgindex.index.catalog import RootState, project_from_json
from pkgindex.index.distfile import (
    Inspected,
    parse_filename,
    sha256_file,
)
from pkgindex.index.model import IndexFile, Project, ProjectSummary, SiteInfo, format_upload_time
from pkgindex.index.rules import check_publishable, removed_error
from pkgindex.index.scan import (
    METADATA_SUFFIX,
    PAGE_JSON,
    Folder,
    project_fingerprint,
    scan_folder,
    scan_root,
)
from pkgindex.stores import local as storage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateReport:
    projects: tuple[str, ...]
    indexed: tuple[str, ...]  # files read and added to the catalog in this run
    dropped: tuple[str, ...]  # catalog entries whose file has disappeared
    written: tuple[Path, ...]
    skipped: tuple[PkgIndexError, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AddReport:
    added: tuple[str, ...]
    unchanged: tuple[str, ...]
    written: tuple[Path, ...]
    skipped: tuple[PkgIndexError, ...] = ()


@dataclass(slots=True, kw_only=True)
class _Batch:
    """What one refresh knows beyond the disk: files already inspected, their provenance."""

    known: dict[str, Inspected] = field(default_factory=dict)
    provenance: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)


def generate(
    root: Path,
    *,
    verify: bool = False,
    skip_invalid: bool = False,
    clock: Clock | None = None,
    url: str | None = None,
) -> GenerateReport:
    """Scan every project folder under ROOT and bring the index up to date, in place.

    ``url`` is the index's public URL for the install commands on the pages (else the one in
    pkgindex.toml, else the one the pages were rendered with last time)."""
    root = root.resolve()
    with storage.locked(root):
        state = pages.read_root_state(root)
        folders, problems = scan_root(root, trusted=state.fingerprints)
        return _refresh(
            root,
            folders,
            state=state,
            all_names=[folder.name for folder in folders],
            batch=_Batch(),
            problems=problems,
            verify=verify,
            skip_invalid=skip_invalid,
            clock=clock or utc_now,
            url=url,
        )


def add_files(
    root: Path,
    files: Sequence[Path],
    *,
    provenance: Mapping[str, Any] | None = None,
    replace: bool = False,
    restore: bool = False,
    skip_invalid: bool = False,
    clock: Clock | None = None,
) -> AddReport:
    """Validate distribution files, place them in their project folders, update the pages.

    The same file again (same name, same bytes) is a no-op. The same name with other bytes is
    refused with ConflictError, unless ``replace`` (which records the replacement). A removed
    file never returns with other bytes; with the same bytes only with ``restore``.
    """
    root = root.resolve()
    with storage.locked(root):
        inspected, problems = _inspect_candidates(files)
        accepted, unchanged, conflicts = _check_against_index(
            root, inspected, replace=replace, restore=restore
        )
        problems += conflicts
        if problems and not skip_invalid:
            raise ValidationError(problems) if len(problems) > 1 else problems[0]
        batch = _Batch()
        for path, item in accepted:
            target = root / item.dist.name / item.dist.filename
            if target.exists():
                batch.replaced.add(item.dist.filename)
            storage.copy_atomic(path, target)
            batch.known[item.dist.filename] = item
            if provenance is not None:
                batch.provenance[item.dist.filename] = provenance
        names = sorted({item.dist.name for _, item in accepted})
        folders = [folder for name in names if (folder := scan_folder(root, root / name)[0])]
        state = pages.read_root_state(root)
        report = _refresh(
            root,
            folders,
            state=state,
            all_names=_known_project_names(root, state, names),
            batch=batch,
            problems=[],
            verify=False,
            skip_invalid=skip_invalid,
            clock=clock or utc_now,
        )
    return AddReport(
        added=tuple(item.dist.filename for _, item in accepted),
        unchanged=tuple(unchanged),
        written=report.written,
        skipped=tuple(problems) + report.skipped,
    )


def load_project(root: Path, name: str) -> Project | None:
    """The catalog entry of one project, or None if the index does not have it."""
    normalized = canonicalize_name(name)
    path = root / normalized / PAGE_JSON
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return project_from_json(data, name=normalized, origin=str(path))


def write_project(root: Path, project: Project) -> list[Path]:
    """Render one project's pages from a changed catalog entry (yank, remove, status) and the
    root pages. The caller holds the lock."""
    site = pages.load_site(root)
    state = pages.read_root_state(root)
    names = _known_project_names(root, state, [project.name])
    rendered, summary = pages.render_folder_pages(root / project.name, project, site, set(names))
    written = pages.write_pages(root / project.name, rendered)
    fingerprints = dict(state.fingerprints)
    fingerprints[project.name] = project_fingerprint(project, rendered)
    summaries = {**state.summaries, project.name: summary}
    written += pages.write_root(root, names, site, fingerprints, summaries)
    return written


# --- the refresh ----------------------------------------------------------------------------


def _refresh(
    root: Path,
    folders: Sequence[Folder],
    *,
    state: RootState,
    all_names: Iterable[str],
    batch: _Batch,
    problems: list[PkgIndexError],
    verify: bool,
    skip_invalid: bool,
    clock: Clock,
    url: str | None = None,
) -> GenerateReport:
    site = pages.load_site(root, url)
    full_render = verify or not pages.same_site(state, site)
    fingerprints: dict[str, str] = dict(state.fingerprints)
    summaries = state.summaries
    names = sorted(set(all_names))
    catalogs: dict[NormalizedName, Project] = {}
    wanted: dict[Path, Folder] = {}  # files to read, with their folder
    for folder in folders:
        unchanged = fingerprints.get(folder.name) == folder.fingerprint
        if unchanged and not full_render and not batch.known.keys() & folder.sizes.keys():
            continue  # same files, same sizes, pages in place: nothing to read or write
        catalogs[folder.name] = catalog = _load_catalog(folder, problems)
        wanted.update(
            dict.fromkeys(_files_to_read(folder, catalog, batch, verify, problems), folder)
        )
    found: dict[NormalizedName, dict[str, Inspected]] = {name: {} for name in catalogs}
    for path, result in zip(wanted, inspect_many(list(wanted)), strict=True):
        folder = wanted[path]
        entry = catalogs[folder.name].file(path.name)
        if isinstance(result, PkgIndexError):
            # a published file that no longer parses: what matters is that its bytes changed
            if entry is not None and sha256_file(path) != entry.sha256:
                problems.append(_changed_error(folder, entry, "its sha256 differs"))
            else:
                result.message = f"{folder.name}/{result.message}"  # where, like layout errors
                problems.append(result)
        elif entry is not None and entry.sha256 != result.sha256:
            problems.append(_changed_error(folder, entry, "its sha256 differs"))
        else:
            found[folder.name][path.name] = result
    if problems and not skip_invalid:
        raise ValidationError(problems) if len(problems) > 1 else problems[0]
    for problem in problems:
        log.warning("skipped: %s", problem.message)

    now = clock()
    jobs: list[tuple[Folder, Project, dict[str, bytes]]] = []
    indexed: list[str] = []
    dropped: list[str] = []
    for folder in folders:
        if folder.name not in catalogs:
            continue
        read = found[folder.name]
        read.update({k: v for k, v in batch.known.items() if k in folder.sizes})
        project, metadata, new, gone = _merge(folder, catalogs[folder.name], read, batch, now)
        indexed += new
        dropped += gone
        jobs.append((folder, project, metadata))
    written: list[Path] = []
    for name, paths, fingerprint, summary in _run_writes(jobs, site, frozenset(names)):
        written += paths
        fingerprints[name] = fingerprint
        summaries[name] = summary
    fingerprints = {name: fingerprints[name] for name in names if name in fingerprints}
    # a few ms: always checked
    written += pages.write_root(root, names, site, fingerprints, summaries)
    return GenerateReport(
        projects=tuple(names),
        indexed=tuple(indexed),
        dropped=tuple(dropped),
        written=tuple(written),
        skipped=tuple(problems),
    )


def _run_writes(
    jobs: Sequence[tuple[Folder, Project, dict[str, bytes]]],
    site: SiteInfo,
    on_index: frozenset[str],
) -> list[tuple[NormalizedName, list[Path], str, ProjectSummary]]:
    """Write metadata files, then pages, per folder; return what was written and the folder's
    new fingerprint. Folders go in parallel: file creation is I/O-bound, and slow on some file
    systems, and threads overlap it."""

    def write_folder(
        job: tuple[Folder, Project, dict[str, bytes]],
    ) -> tuple[NormalizedName, list[Path], str, ProjectSummary]:
        folder, project, metadata = job
        written = []
        for filename, data in metadata.items():
            name = filename + METADATA_SUFFIX
            if storage.write_if_changed(folder.path / name, data, exists=name in folder.metadata):
                written.append(folder.path / name)
        rendered, summary = pages.render_folder_pages(folder.path, project, site, on_index)
        written += pages.write_pages(folder.path, rendered)
        return project.name, written, project_fingerprint(project, rendered), summary

    if len(jobs) < 8:
        return [write_folder(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor  # deferred: only for big batches

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(write_folder, jobs))


def _load_catalog(folder: Folder, problems: list[PkgIndexError]) -> Project:
    if PAGE_JSON not in folder.pages:
        return Project(name=folder.name)
    path = folder.path / PAGE_JSON
    try:
        return project_from_json(path.read_bytes(), name=folder.name, origin=str(path))
    except IntegrityError as exc:
        problems.append(exc)
        return Project(name=folder.name)


def _files_to_read(
    folder: Folder, catalog: Project, batch: _Batch, verify: bool, problems: list[PkgIndexError]
) -> dict[Path, NormalizedName]:
    """New files, wheels whose .metadata file is missing, and with ``verify`` every file."""
    wanted: dict[Path, NormalizedName] = {}
    for filename, size in folder.sizes.items():
        if filename in batch.known:
            continue
        entry = catalog.file(filename)
        if entry is not None and entry.size != size:
            problems.append(_changed_error(folder, entry, f"its size is now {size} bytes"))
            continue
        missing_metadata = (
            entry is not None
            and entry.metadata_sha256 is not None
            and (filename + METADATA_SUFFIX not in folder.metadata)
        )
        if entry is None and not _belongs(folder, filename, problems):
            continue
        if entry is None and (tombstone := catalog.tombstone(filename)) is not None:
            problems.append(removed_error(folder.name, tombstone))
            continue
        if entry is None or verify or missing_metadata:
            wanted[folder.path / filename] = folder.name
    return wanted


def _belongs(folder: Folder, filename: str, problems: list[PkgIndexError]) -> bool:
    """Check a new file's name parses and names this folder's project."""
    try:
        dist = parse_filename(filename)
    except InvalidDistributionError as exc:
        exc.message = f"{folder.name}/{exc.message}"
        problems.append(exc)
        return False
    if dist.name != folder.name:
        problems.append(
            InvalidDistributionError(
                f"{folder.name}/{filename}: project {dist.name!r} does not match folder "
                f"{folder.name!r}",
                hint=f"move the file to {dist.name}/ (or use 'pkgindex add'), or rebuild it",
            )
        )
        return False
    return True


def _merge(
    folder: Folder,
    catalog: Project,
    found: Mapping[str, Inspected],
    batch: _Batch,
    now: datetime,
) -> tuple[Project, dict[str, bytes], list[str], list[str]]:
    """The project's new catalog entry, the .metadata files to write, what was added/dropped."""
    files: list[IndexFile] = []
    metadata: dict[str, bytes] = {}
    gone = [f.filename for f in catalog.files if f.filename not in folder.sizes]
    for filename in gone:
        log.warning("%s/%s: no longer in the folder; dropped from the index", folder.name, filename)
    new: list[str] = []
    for filename in folder.sizes:
        entry = catalog.file(filename)
        item = found.get(filename)
        if item is None:
            if entry is not None:
                files.append(entry)
            continue
        if entry is not None and filename not in batch.replaced:
            files.append(entry)  # re-read for --verify or a missing .metadata file
        else:
            files.append(_index_file(item, now, batch, previous=entry))
            new.append(filename)
        if item.metadata is not None:
            metadata[filename] = item.metadata
    return catalog.with_files(files), metadata, new, gone


def _index_file(
    item: Inspected, now: datetime, batch: _Batch, previous: IndexFile | None
) -> IndexFile:
    extra: dict[str, Any] = {}
    if previous is not None:
        history = list(previous.extra.get("replaced", []))
        history.append(
            {
                "sha256": previous.sha256,
                "upload-time": format_upload_time(previous.upload_time),
                "replaced-at": format_upload_time(now),
            }
        )
        extra["replaced"] = history
    return IndexFile(
        filename=item.dist.filename,
        version=str(item.dist.version),
        sha256=item.sha256,
        size=item.size,
        upload_time=now,
        requires_python=item.requires_python,
        metadata_sha256=_sha256(item.metadata) if item.metadata is not None else None,
        provenance=batch.provenance.get(item.dist.filename),
        extra=extra,
    )


def _changed_error(folder: Folder, entry: IndexFile, why: str) -> IntegrityError:
    return IntegrityError(
        f"{folder.name}/{entry.filename}: the file changed after it was published ({why})",
        hint="published files are immutable: restore the original bytes (e.g. git checkout), "
        "or publish the new build under a new version",
    )


# --- reading files --------------------------------------------------------------------------


def _inspect_candidates(
    files: Sequence[Path],
) -> tuple[list[tuple[Path, Inspected]], list[PkgIndexError]]:
    problems: list[PkgIndexError] = []
    paths: list[Path] = []
    seen: set[str] = set()
    for path in files:
        if not path.is_file():
            problems.append(PkgIndexError(f"{path}: no such file"))
        elif path.name in seen:
            problems.append(InvalidDistributionError(f"{path.name}: given twice"))
        else:
            seen.add(path.name)
            paths.append(path)
    accepted: list[tuple[Path, Inspected]] = []
    for path, result in zip(paths, inspect_many(paths), strict=True):
        if isinstance(result, PkgIndexError):
            problems.append(result)
        else:
            accepted.append((path, result))
    return accepted, problems


def _check_against_index(
    root: Path, inspected: Sequence[tuple[Path, Inspected]], *, replace: bool, restore: bool
) -> tuple[list[tuple[Path, Inspected]], list[str], list[PkgIndexError]]:
    """Split files to add into new ones, identical re-adds and conflicts."""
    accepted: list[tuple[Path, Inspected]] = []
    unchanged: list[str] = []
    conflicts: list[PkgIndexError] = []
    catalogs: dict[str, Project | None] = {}
    for path, item in inspected:
        name = item.dist.name
        if name not in catalogs:
            catalogs[name] = load_project(root, name)
        project = catalogs[name]
        refusal = check_publishable(project, item.dist.filename, item.sha256, restore=restore)
        if refusal is not None:
            conflicts.append(refusal)
            continue
        entry = project.file(item.dist.filename) if project else None
        if entry is None and project is not None and project.tombstone(item.dist.filename):
            accepted.append((path, item))  # restored: the same bytes, asked for
            continue
        target = root / name / item.dist.filename
        existing = entry.sha256 if entry else (sha256_file(target) if target.exists() else None)
        if existing is None or (replace and existing != item.sha256):
            accepted.append((path, item))
        elif existing == item.sha256:
            unchanged.append(item.dist.filename)
        else:
            conflicts.append(
                ConflictError(
                    f"{item.dist.filename}: the index already has a different file with this name",
                    hint="published files are immutable: build it under a new version "
                    "(see version-template in pkgindex.toml), yank the old one, or pass --replace",
                )
            )
    return accepted, unchanged, conflicts


def _known_project_names(root: Path, state: RootState, extra: Iterable[str]) -> list[str]:
    names = state.names or tuple(folder.name for folder in scan_root(root)[0])
    return sorted(set(names) | set(extra))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def set_yanked(root: Path, name: str, target: str, reason: str | None) -> list[str]:
    """Yank (reason is a string, maybe empty) or un-yank (None) a version or one file.

    Returns the filenames whose state changed. Yanked files stay listed and downloadable.
    """
    root = root.resolve()
    with storage.locked(root):
        project = load_project(root, name)
        if project is None:
            raise PkgIndexError(
                f"{name}: no such project in {root}",
                hint="check the name, or run 'pkgindex generate' first",
            )
        matches = [f for f in project.files if target in (f.filename, f.version)]
        if not matches:
            matches = [f for f in project.files if _same_version(f.version, target)]
        if not matches:
            raise PkgIndexError(
                f"{project.name}: no file or version {target!r}",
                hint=f"versions: {', '.join(project.versions) or 'none'}",
            )
        changed = [f.filename for f in matches if f.yanked != reason]
        files = [replace(f, yanked=reason) if f.filename in changed else f for f in project.files]
        write_project(root, project.with_files(files))
        return changed


def _same_version(version: str, target: str) -> bool:
    try:
        return Version(version) == Version(target)
    except InvalidVersion:
        return False
