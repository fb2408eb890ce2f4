"""The heart of pkgindex: scan project folders, keep the catalog, regenerate pages incrementally.

The published JSON pages are the catalog. A run reads every project's ``index.json`` and lists
every project folder, but it reads a distribution file only when it is new (or with ``verify``),
and it writes a page only when its bytes change. Every problem in a run is collected and reported
at once; if there is any (and ``skip_invalid`` is off), nothing is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from pkgindex import storage
from pkgindex.catalog import RootState, project_from_json, root_state
from pkgindex.config import load_config
from pkgindex.distfile import (
    DIST_SUFFIXES,
    Inspected,
    inspect_distribution,
    is_distribution_filename,
    parse_filename,
    sha256_file,
)
from pkgindex.errors import (
    ConflictError,
    IntegrityError,
    InvalidDistributionError,
    PkgIndexError,
    ValidationError,
)
from pkgindex.model import IndexFile, Project, SiteInfo, format_upload_time
from pkgindex.render import (
    FORMAT_VERSION,
    PRIVATE_KEY,
    render_project_html,
    render_project_json,
    render_root_html,
    render_root_json,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PAGE_HTML = "index.html"
PAGE_JSON = "index.json"
METADATA_SUFFIX = ".metadata"
_PARALLEL_THRESHOLD = 64  # files; fewer small files are read in this process
_BIG_FILE = 1 << 20  # bytes; batches of files this big on average are hashed in threads
_BIG_BATCH = 64 << 20  # bytes; a few files adding up to this much are worth parallel hashing


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Folder:
    """A project folder as found on disk."""

    name: NormalizedName
    path: Path
    sizes: Mapping[str, int]  # distribution filename -> size in bytes
    entries: frozenset[str]  # every name in the folder
    page_sizes: Mapping[str, int]  # index.html / index.json -> size in bytes


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
) -> GenerateReport:
    """Scan every project folder under ROOT and bring the index up to date, in place."""
    root = root.resolve()
    with storage.locked(root):
        state = _root_state(root)
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
        )


def add_files(
    root: Path,
    files: Sequence[Path],
    *,
    provenance: Mapping[str, Any] | None = None,
    replace: bool = False,
    skip_invalid: bool = False,
    clock: Clock | None = None,
) -> AddReport:
    """Validate distribution files, place them in their project folders, update the pages.

    The same file again (same name, same bytes) is a no-op. The same name with other bytes is
    refused with ConflictError, unless ``replace`` (which records the replacement).
    """
    root = root.resolve()
    with storage.locked(root):
        inspected, problems = _inspect_candidates(files)
        accepted, unchanged, conflicts = _check_against_index(root, inspected, replace=replace)
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
        state = _root_state(root)
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
    """Render one project's pages from a changed catalog entry (yank, remove) and the root."""
    site = _site(root)
    state = _root_state(root)
    pages = render_pages(project, site)
    written = _write_pages(root / project.name, pages)
    fingerprints = dict(state.fingerprints)
    fingerprints[project.name] = project_fingerprint(project, pages)
    names = _known_project_names(root, state, [project.name])
    written += _write_root(root, names, site, fingerprints)
    return written


# --- scanning -------------------------------------------------------------------------------


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
            path = Path(entry.path)
            folder, folder_problems = scan_folder(root, path, trusted=entry.name in trusted)
            problems += folder_problems
            if folder:
                folders.append(folder)
        elif is_distribution_filename(entry.name):
            problems.append(
                InvalidDistributionError(
                    f"{entry.name}: distribution files belong in a project folder, "
                    "not in the index root",
                    hint=f"run 'pkgindex add {entry.name}' to place it in its folder",
                )
            )
    return folders, problems


def scan_folder(
    root: Path, path: Path, *, trusted: bool = False
) -> tuple[Folder | None, list[PkgIndexError]]:
    """List one folder; None if it is not a project folder (no distributions, no catalog).

    This runs for every folder on every run, so it stays lean: one scandir, one stat per
    distribution file (its size is how a changed file is noticed without reading it).
    """
    try:
        with os.scandir(path) as listing:
            found = list(listing)
    except FileNotFoundError:
        return None, []
    entries = frozenset(entry.name for entry in found)
    distributions = [e for e in found if e.name.endswith(DIST_SUFFIXES) and e.name[0] != "."]
    if not distributions and PAGE_JSON not in entries:
        return None, []
    problems: list[PkgIndexError] = []
    sizes: dict[str, int] = {}
    folder_is_link = path.is_symlink()
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
    page_sizes = {e.name: e.stat().st_size for e in found if e.name in (PAGE_HTML, PAGE_JSON)}
    folder = Folder(name=normalized, path=path, sizes=sizes, entries=entries, page_sizes=page_sizes)
    return folder, problems


def _normalized_folder_name(name: str) -> NormalizedName:
    return canonicalize_name(name, validate=True)


def _inside(root: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


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
) -> GenerateReport:
    site = _site(root)
    full_render = verify or not _same_site(state, site)
    fingerprints: dict[str, str] = dict(state.fingerprints)
    catalogs: dict[NormalizedName, Project] = {}
    wanted: dict[Path, Folder] = {}  # files to read, with their folder
    for folder in folders:
        unchanged = fingerprints.get(folder.name) == folder_fingerprint(folder)
        if unchanged and not full_render and not batch.known.keys() & folder.sizes.keys():
            continue  # same files, same sizes, pages in place: nothing to read or write
        catalogs[folder.name] = catalog = _load_catalog(folder, problems)
        wanted.update(
            dict.fromkeys(_files_to_read(folder, catalog, batch, verify, problems), folder)
        )
    found: dict[NormalizedName, dict[str, Inspected]] = {name: {} for name in catalogs}
    for path, result in zip(wanted, _inspect_many(list(wanted)), strict=True):
        folder = wanted[path]
        entry = catalogs[folder.name].file(path.name)
        if isinstance(result, PkgIndexError):
            # a published file that no longer parses: what matters is that its bytes changed
            changed = entry is not None and sha256_file(path) != entry.sha256
            problems.append(
                _changed_error(folder, entry, "its sha256 differs") if entry and changed else result
            )
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
    for name, paths, fingerprint in _run_writes(jobs, site):
        written += paths
        fingerprints[name] = fingerprint
    names = sorted(set(all_names))
    fingerprints = {name: fingerprints[name] for name in names if name in fingerprints}
    if jobs or full_render or tuple(names) != state.names or fingerprints != state.fingerprints:
        written += _write_root(root, names, site, fingerprints)
    return GenerateReport(
        projects=tuple(names),
        indexed=tuple(indexed),
        dropped=tuple(dropped),
        written=tuple(written),
        skipped=tuple(problems),
    )


def _run_writes(
    jobs: Sequence[tuple[Folder, Project, dict[str, bytes]]], site: SiteInfo
) -> list[tuple[NormalizedName, list[Path], str]]:
    """Write metadata files, then pages, per folder; return what was written and the folder's
    new fingerprint. Folders go in parallel: file creation is I/O-bound, and slow on some file
    systems, and threads overlap it."""

    def write_folder(
        job: tuple[Folder, Project, dict[str, bytes]],
    ) -> tuple[NormalizedName, list[Path], str]:
        folder, project, metadata = job
        written = []
        for filename, data in metadata.items():
            name = filename + METADATA_SUFFIX
            if storage.write_if_changed(folder.path / name, data, exists=name in folder.entries):
                written.append(folder.path / name)
        pages = render_pages(project, site)
        written += _write_pages(folder.path, pages)
        return project.name, written, project_fingerprint(project, pages)

    if len(jobs) < 8:
        return [write_folder(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor  # deferred: only for big batches

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(write_folder, jobs))


def folder_fingerprint(folder: Folder) -> str:
    """A digest of what a project folder holds: distributions and pages with their sizes, and
    which metadata files exist. A damaged or edited page changes it too."""
    metadata = (n for n in folder.entries if n.endswith(METADATA_SUFFIX))
    return _fingerprint(
        {**folder.sizes, **folder.page_sizes},
        [n for n in metadata if n.removesuffix(METADATA_SUFFIX) in folder.sizes],
    )


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


def _load_catalog(folder: Folder, problems: list[PkgIndexError]) -> Project:
    if PAGE_JSON not in folder.entries:
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
            and (filename + METADATA_SUFFIX not in folder.entries)
        )
        if entry is None and not _belongs(folder, filename, problems):
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
    return Project.from_files(folder.name, files), metadata, new, gone


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
    for path, result in zip(paths, _inspect_many(paths), strict=True):
        if isinstance(result, PkgIndexError):
            problems.append(result)
        else:
            accepted.append((path, result))
    return accepted, problems


def _inspect_many(paths: Sequence[Path]) -> list[Inspected | PkgIndexError]:
    """Hash and read many files on every core.

    Big files go to threads: hashlib releases the GIL while it hashes, so threads hash at the
    speed of every core without copying data between processes. Many small files go to
    processes, since their cost is the Python work of opening archives and parsing headers.
    """
    workers = min(os.cpu_count() or 1, 8)
    total = _total_size(paths) if len(paths) < 4 * _PARALLEL_THRESHOLD else 0
    if workers < 2 or (len(paths) < _PARALLEL_THRESHOLD and total < _BIG_BATCH):
        outcomes = [_inspect_one(path) for path in paths]
    else:
        from concurrent import futures  # deferred: costly to import, rarely needed

        pool: futures.Executor
        if total >= _BIG_FILE * len(paths):
            pool = futures.ThreadPoolExecutor(max_workers=workers)
        else:
            pool = futures.ProcessPoolExecutor(max_workers=workers)
        with pool:
            chunk = max(1, len(paths) // (workers * 8))
            outcomes = list(pool.map(_inspect_one, paths, chunksize=chunk))
    return [
        InvalidDistributionError(outcome[0], hint=outcome[1])
        if isinstance(outcome, tuple)
        else outcome
        for outcome in outcomes
    ]


def _total_size(paths: Sequence[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def _inspect_one(path: Path) -> Inspected | tuple[str, str | None]:
    """Inspect one file (errors as tuples: they cross process borders)."""
    try:
        return inspect_distribution(path)
    except InvalidDistributionError as exc:
        return (exc.message, exc.hint)


def _check_against_index(
    root: Path, inspected: Sequence[tuple[Path, Inspected]], *, replace: bool
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
        entry = project.file(item.dist.filename) if project else None
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


# --- writing pages --------------------------------------------------------------------------


def render_pages(project: Project, site: SiteInfo) -> dict[str, bytes]:
    return {
        PAGE_HTML: render_project_html(project, site),
        PAGE_JSON: render_project_json(project),
    }


def _write_pages(folder: Path, pages: Mapping[str, bytes]) -> list[Path]:
    """HTML first, JSON last: the catalog is the commit point if a run is interrupted."""
    written = []
    for name in (PAGE_HTML, PAGE_JSON):
        if storage.write_if_changed(folder / name, pages[name]):
            written.append(folder / name)
    return written


def _write_root(
    root: Path, names: Sequence[str], site: SiteInfo, fingerprints: Mapping[str, str]
) -> list[Path]:
    written = []
    state = {**_site_state(site), "fingerprints": dict(fingerprints)}
    for name, data in (
        (PAGE_HTML, render_root_html(names, site)),
        (PAGE_JSON, render_root_json(names, state)),
    ):
        if storage.write_if_changed(root / name, data):
            written.append(root / name)
    return written


def _site(root: Path) -> SiteInfo:
    config = load_config(root)
    return SiteInfo(title=config.title, url=config.url)


def _site_state(site: SiteInfo) -> dict[str, Any]:
    return {"format": FORMAT_VERSION, "title": site.title, "url": site.url}


def _root_state(root: Path) -> RootState:
    try:
        return root_state((root / PAGE_JSON).read_bytes())
    except FileNotFoundError:
        return RootState()


def _same_site(state: RootState, site: SiteInfo) -> bool:
    """False if the pages were rendered by another format version or for other settings."""
    return all(state.private.get(key) == value for key, value in _site_state(site).items())


def _known_project_names(root: Path, state: RootState, extra: Iterable[str]) -> list[str]:
    names = state.names or tuple(folder.name for folder in scan_root(root)[0])
    return sorted(set(names) | set(extra))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "PRIVATE_KEY",
    "AddReport",
    "GenerateReport",
    "add_files",
    "generate",
    "load_project",
    "scan_root",
    "set_yanked",
    "write_project",
]


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
        write_project(root, Project.from_files(project.name, files))
        return changed


def _same_version(version: str, target: str) -> bool:
    try:
        return Version(version) == Version(target)
    except InvalidVersion:
        return False
