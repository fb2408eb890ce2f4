"""The heart of pkgindex: scan project folders, keep the catalog, regenerate pages incrementally.

The published JSON pages are the catalog. A run lists every project folder (scan.py) and skips
those whose fingerprint is unchanged; for the others it loads the catalog page, reads only the
distribution files that are new (or all of them with ``verify``; batch.py), and writes pages
only when their bytes change (pages.py). Every problem in a run is collected and reported at
once; if there is any (and ``skip_invalid`` is off), nothing is written.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from packaging.utils import NormalizedName, canonicalize_name

from pkgindex.errors import (
    IntegrityError,
    InvalidDistributionError,
    PkgIndexError,
    StaleError,
    ValidationError,
)
from pkgindex.index import pages, scancache
from pkgindex.index.batch import (
    HERE,
    Progress,
    Workers,
    inspect_one,
    keep,
    read_many,
    start_early,
    take,
)
from pkgindex.index.catalog import MAX_CATALOG_SIZE, RootState, project_from_json
from pkgindex.index.distfile import (
    Inspected,
    sha256_file,
)
from pkgindex.index.model import IndexFile, Project, ProjectSummary, SiteInfo, format_upload_time
from pkgindex.index.pickled import by_constructor
from pkgindex.index.rules import removed_error
from pkgindex.index.scan import (
    METADATA_SUFFIX,
    PAGE_HTML,
    PAGE_JSON,
    Folder,
    project_fingerprint,
    scan_folder,
    scan_root,
)
from pkgindex.stores.base import ANY, RootListing, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")  # mutate: skip (a type variable's name)

ATTEMPTS = 12  # runs of a refresh whose conditional page writes lost a race to another writer
# folders to write; fewer are written by this process (either way, the same bytes)
_PARALLEL_FOLDERS = 64  # mutate: skip (a speed threshold)
CATALOG_LIMIT = MAX_CATALOG_SIZE  # bytes: a project's index.json larger than this is refused


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateReport:
    projects: tuple[str, ...]
    indexed: tuple[str, ...]  # files read and added to the catalog in this run
    dropped: tuple[str, ...]  # catalog entries whose file has disappeared
    written: tuple[str, ...]  # keys in the store
    skipped: tuple[PkgIndexError, ...] = ()
    # wall-clock seconds of each step that ran: scan (list folders), read (hash and read the
    # new files), write (metadata files and project pages), root (the root pages)
    timings: Mapping[str, float] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Batch:
    """What one refresh knows beyond the disk: files already inspected, their provenance."""

    known: dict[str, Inspected] = field(default_factory=dict)
    provenance: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)


def generate(
    store: Store,
    *,
    verify: bool = False,
    skip_invalid: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
    url: str | None = None,
) -> GenerateReport:
    """Scan every project folder in the store and bring the index up to date, in place.

    ``progress(done, total)`` is called as distribution files are read. ``url`` is the index's
    public URL for the install commands on the pages (else the one in pkgindex.toml, else the
    one the pages were rendered with last time).
    """

    def attempt() -> GenerateReport:
        state = pages.read_root_state(store)
        remembered = {} if verify else scancache.load(store)

        def start_workers_early(listing: RootListing) -> None:
            # a first run and --verify read every file: workers get ready while folders are
            # listed (a few folders are read in this process)
            many = len(listing.folders) >= _PARALLEL_FOLDERS  # mutate: skip (speed only)
            if (verify or not state.names) and many:  # mutate: skip (speed only)
                start_early()  # mutate: skip (speed only: the workers start on first use anyway)

        started = time.perf_counter()
        folders, problems = scan_root(
            store, trusted=state.fingerprints, remembered=remembered, on_listing=start_workers_early
        )
        scanned = time.perf_counter() - started
        report = refresh_folders(
            store,
            folders,
            state=state,
            all_names=[folder.name for folder in folders],
            batch=Batch(),
            problems=problems,
            verify=verify,
            skip_invalid=skip_invalid,
            clock=clock or utc_now,
            progress=progress,
            url=url,
        )
        scancache.save(store, _to_remember(folders, report), previous=remembered)
        return dataclasses.replace(report, timings={"scan": scanned, **report.timings})

    with store.lock():
        return retrying(attempt, store.location)


def _to_remember(folders: Sequence[Folder], report: GenerateReport) -> dict[str, tuple[str, str]]:
    """The folders the next run may take unlisted: those with a stamp that this run did not
    write into (writing changed their stamp: the next run lists them once more). None after a
    run that skipped problems: a problem found by listing a folder (a broken link) is not in
    its fingerprint, and every run must report it again."""
    if report.skipped:
        return {}
    written = {key.partition("/")[0] for key in report.written}
    return {
        folder.name: (folder.stamp, folder.fingerprint)
        for folder in folders
        if folder.stamp is not None and folder.name not in written
    }


def retrying(attempt: Callable[[], T], what: str) -> T:
    """Run ``attempt`` again (with a short random pause) while it loses races to other writers:
    each run re-reads what it merges, so nothing another writer wrote is lost."""
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except StaleError as exc:
            log.info("%s; re-reading and merging (attempt %d)", exc.message, number + 2)
            time.sleep(pages.backoff(number))
    raise StaleError(
        f"{what}: other writers kept changing the same pages; gave up after {ATTEMPTS} attempts",
        hint="everything written so far is valid; run the command again",
    )


def load_project(store: Store, name: str) -> Project | None:
    """The catalog entry of one project, or None if the index does not have it."""
    loaded = read_project(store, name)
    return loaded[0] if loaded else None


def read_project(store: Store, name: str) -> tuple[Project, dict[str, str | None]] | None:
    """A project's catalog entry with its pages' ETags (for :func:`write_project`)."""
    normalized = canonicalize_name(name)
    key = f"{normalized}/{PAGE_JSON}"
    found = store.read(key, max_size=CATALOG_LIMIT)
    if found is None:
        return None
    html = store.stat(f"{normalized}/{PAGE_HTML}")
    project = project_from_json(found.data, name=normalized, origin=store.describe(key))
    return project, {PAGE_JSON: found.etag, PAGE_HTML: html.etag if html else None}


def write_project(store: Store, project: Project, etags: Mapping[str, str | None]) -> list[str]:
    """Render one project's pages from a changed catalog entry (yank, remove) and the root.

    ``etags`` are those :func:`read_project` returned: StaleError if a page changed since.
    """
    site = pages.load_site(store)
    state = pages.read_root_state(store)
    names = known_project_names(store, state, [project.name])
    rendered, summary = pages.render_folder_pages(store, project, site, set(names))
    written = pages.write_pages(store, project.name, rendered, etags)
    ours: dict[str, str] = {project.name: project_fingerprint(project, rendered)}
    our_summaries: dict[str, ProjectSummary] = {project.name: summary}

    def merge(
        theirs: RootState,
    ) -> tuple[list[str], dict[str, str], dict[str, ProjectSummary]]:
        return sorted({*theirs.names, *names}), {**theirs.fingerprints, **ours}, our_summaries

    written += pages.write_root(
        store, state, names, site, {**state.fingerprints, **ours}, our_summaries, merge=merge
    )
    return written


def update_project(
    store: Store, name: str, change: Callable[[Project], Project | None]
) -> Project | None:
    """Read a project, apply ``change`` (None: nothing to write) and write its pages, re-reading
    and re-applying while another writer changes them first. None if there is no such project.
    Call it under ``store.lock()``."""

    def attempt() -> Project | None:
        loaded = read_project(store, name)
        if loaded is None:
            return None
        project, etags = loaded
        changed = change(project)
        if changed is not None:
            write_project(store, changed, etags)
        return project

    return retrying(attempt, store.describe(canonicalize_name(name)))


# --- the refresh ----------------------------------------------------------------------------


def refresh_folders(
    store: Store,
    folders: Sequence[Folder],
    *,
    state: RootState,
    all_names: Iterable[str],
    batch: Batch,
    problems: list[PkgIndexError],
    verify: bool,
    skip_invalid: bool,
    clock: Clock,
    progress: Progress | None = None,
    url: str | None = None,
) -> GenerateReport:
    site = pages.load_site(store, url, state=state)
    full_render = verify or not pages.same_site(state, site)
    fingerprints: dict[str, str] = dict(state.fingerprints)
    catalogs: dict[NormalizedName, _Catalog] = {}
    wanted: dict[str, Folder] = {}  # keys of the files to read, with their folder
    all_names = sorted(set(all_names))
    rerender = dependents(state, all_names)
    folders = list(folders)
    for index, folder in enumerate(folders):
        unchanged = fingerprints.get(folder.name) == folder.fingerprint
        if (
            unchanged
            and not full_render
            and folder.name not in rerender
            and not batch.known.keys() & folder.sizes.keys()
        ):
            continue  # same files, same sizes, pages in place: nothing to read or write
        if not folder.listed:  # taken from the scan cache: list it now
            relisted, more = scan_folder(
                store,
                folder.name,
                trusted=True,  # mutate: skip (trusted names are normalized: checking passes)
                stamp=folder.stamp,
            )
            problems += more
            if relisted is None:
                continue
            folders[index] = folder = relisted
        catalogs[folder.name] = catalog = _load_catalog(store, folder, problems)
        wanted.update(
            dict.fromkeys(_files_to_read(folder, catalog, batch, verify, problems), folder)
        )
    names = sorted(set(all_names))
    written: list[str] = []
    ours: dict[str, str] = {}  # fingerprints of the folders written
    our_summaries: dict[str, ProjectSummary] = {}  # their lines on the root page
    timings: dict[str, float] = {}
    with Workers() as workers:  # started only if a phase needs them; shared by both phases
        started = time.perf_counter()
        kept = _read_files(store, wanted, catalogs, problems, progress, workers)
        if wanted:
            timings["read"] = time.perf_counter() - started
        if problems and not skip_invalid:
            raise ValidationError(problems) if len(problems) > 1 else problems[0]
        for problem in problems:
            log.warning("skipped: %s", problem.message)
        started = time.perf_counter()
        mode = _write_mode(store, len(catalogs), workers)
        jobs, places, dropped = _plan_writes(folders, catalogs, kept, batch, workers, mode)
        outcomes = _run_writes(store, jobs, places, site, frozenset(names), workers, clock(), mode)
        if jobs:
            timings["write"] = time.perf_counter() - started
        indexed: list[str] = []
        for name, keys, fingerprint, summary, new in outcomes:
            indexed += new
            written += keys
            ours[name] = fingerprint
            our_summaries[name] = summary
    fingerprints.update(ours)

    def merge(
        theirs: RootState,
    ) -> tuple[list[str], dict[str, str], dict[str, ProjectSummary]]:
        return sorted({*theirs.names, *names}), {**theirs.fingerprints, **ours}, our_summaries

    fingerprints = {name: fingerprints[name] for name in names if name in fingerprints}
    if not _root_unchanged(state, names, fingerprints, jobs, full_render):
        started = time.perf_counter()
        written += pages.write_root(
            store, state, names, site, fingerprints, our_summaries, merge=merge
        )
        timings["root"] = time.perf_counter() - started
    return GenerateReport(
        projects=tuple(names),
        indexed=tuple(indexed),
        dropped=tuple(dropped),
        written=tuple(written),
        skipped=tuple(problems),
        timings=timings,
    )


def _read_files(
    store: Store,
    wanted: Mapping[str, Folder],
    catalogs: Mapping[NormalizedName, _Catalog],
    problems: list[PkgIndexError],
    progress: Progress | None,
    workers: Workers,
) -> dict[NormalizedName, dict[str, int]]:
    """Inspect the wanted files (on every core), each kept in the process that read it until
    its folder is written; return where each is kept, by folder and filename. A published file
    whose bytes changed is a problem, whether or not it still parses."""
    keys = list(wanted)
    items: list[_ReadItem] = []
    with store.local_paths(keys) as paths:
        for key in keys:
            folder = wanted[key]
            entry = catalogs[folder.name].files.get(key.rpartition("/")[2])
            published = entry.sha256 if entry is not None else None
            # a file in the wrong folder is not read
            items.append((key, paths[key], folder.name, published))
        read = functools.partial(_read_and_keep, workers.token)
        outcomes, places = read_many(read, items, [paths[key] for key in keys], progress, workers)
    kept: dict[NormalizedName, dict[str, int]] = {}
    results = zip(keys, outcomes, places, strict=True)  # mutate: skip (equal lengths)
    for key, outcome, place in results:
        folder = wanted[key]
        filename = key.rpartition("/")[2]
        if outcome is None:
            kept.setdefault(folder.name, {})[filename] = place
        elif outcome[0]:  # published with other bytes
            entry = catalogs[folder.name].files[filename]
            problems.append(_changed_error(folder, entry, "its sha256 differs"))
        else:  # where, like layouts
            message = f"{folder.name}/{outcome[1]}"
            problems.append(InvalidDistributionError(message, hint=outcome[2]))
    return kept


# a file to read: its key, its local path, its folder's project, its sha256 if published
_ReadItem = tuple[str, str, str, str | None]  # mutate: skip (a type, not a value)
# why a file was not kept: (False, message, hint) when it is invalid, (True, None, None) when
# it was published with other bytes (problems cross process borders as tuples)
_NotKept = tuple[bool, str | None, str | None]  # mutate: skip (a type, not a value)


def _read_and_keep(token: str, item: _ReadItem) -> _NotKept | None:
    """Read one file and keep what was read in this process, for writing its folder: None;
    or why it was not kept."""
    key, path, project, published = item
    outcome = inspect_one((path, project))
    if isinstance(outcome, tuple):
        if published is not None and sha256_file(Path(path)) != published:
            return True, None, None
        return False, outcome[0], outcome[1]
    if published is not None and outcome.sha256 != published:
        return True, None, None
    keep(token, key, outcome)
    return None


def _plan_writes(
    folders: Sequence[Folder],
    catalogs: Mapping[NormalizedName, _Catalog],
    kept: Mapping[NormalizedName, Mapping[str, int]],
    batch: Batch,
    workers: Workers,
    mode: _WriteMode,
) -> tuple[list[_Job], list[int], list[str]]:
    """A job for each folder read in this run, and the place it runs in; the files dropped
    from catalogs. Merging the files read into the folder's catalog is the job's first step,
    done in the process that read them (they were kept there). A folder whose files were read
    in more than one process, or that is written where they were not read (in threads, or
    here), has them brought to this process first and sent with its job."""
    jobs: list[_Job] = []
    places: list[int | None] = []  # None: the folder read nothing, it may go anywhere
    dropped: list[str] = []
    sent = _give_back(kept, workers, everything=mode != "processes")
    for folder in folders:
        if folder.name not in catalogs:
            continue
        found = {k: v for k, v in batch.known.items() if k in folder.sizes}
        here = kept.get(folder.name, {})
        where = set(here.values())
        if len(where) > 1 or mode != "processes":
            found.update({name: sent[folder.key(name)] for name in here if here[name] != HERE})
            here = {name: place for name, place in here.items() if place == HERE}
            where = {HERE} if here else set()
        catalog = catalogs[folder.name]
        gone = [name for name in catalog.files if name not in folder.sizes]
        for filename in gone:
            log.warning(
                "%s/%s: no longer in the folder; dropped from the index", folder.name, filename
            )
        dropped += gone
        ours = Batch(  # the batch's news of this folder's files only: each job is pickled
            provenance={k: v for k, v in batch.provenance.items() if k in folder.sizes},
            replaced={name for name in batch.replaced if name in folder.sizes},
        )
        jobs.append(_Job(folder=folder, catalog=catalog, found=found, kept=tuple(here), batch=ours))
        places.append(where.pop() if where else None)
    return jobs, _spread(places, workers.count if mode == "processes" else 1), dropped


def _give_back(
    kept: Mapping[NormalizedName, Mapping[str, int]], workers: Workers, *, everything: bool
) -> dict[str, Inspected]:
    """The files kept in workers that must come to this process, by key: all of them, or
    those of folders read in more than one process."""
    keys: list[str] = []
    places: list[int] = []
    for name, found in kept.items():
        if everything or len(set(found.values())) > 1:
            for filename, place in found.items():
                if place != HERE:
                    keys.append(f"{name}/{filename}")
                    places.append(place)
    return _taken(workers, keys, places) if keys else {}


def _taken(workers: Workers, keys: list[str], places: list[int]) -> dict[str, Inspected]:
    """The files kept under ``keys`` in the processes ``places``, brought here."""
    taken = workers.map_at(functools.partial(take, workers.token), keys, places)
    return dict(zip(keys, taken, strict=True))  # mutate: skip (equal lengths)


def _spread(places: Sequence[int | None], count: int) -> list[int]:
    """Places for the jobs that may go anywhere: each to the place with the fewest jobs."""
    load = [0] * count  # mutate: skip (the same start everywhere: the same choices)
    for place in places:
        if place is not None:
            load[place] += 1
    spread: list[int] = []
    for place in places:
        if place is None:
            place = load.index(min(load))
            load[place] += 1
        spread.append(place)
    return spread


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class _Catalog:
    project: Project
    etags: Mapping[str, str | None]  # of the pages as read: they are replaced on these
    # the project's files by filename (Project.file is a scan: a folder of thousands of files
    # would cost a scan per file)
    files: Mapping[str, IndexFile] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", {file.filename: file for file in self.project.files})


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    folder: Folder
    catalog: _Catalog
    found: Mapping[str, Inspected]  # the folder's files read in this run, sent with the job
    kept: tuple[str, ...]  # and those kept in the process the job runs in (batch.take)
    batch: Batch


# where a run writes its folders: in this process, in threads (a bucket's writes wait on the
# network), or in the worker processes (rendering and creating small files costs CPU)
_WriteMode = Literal["here", "threads", "processes"]


# the project, keys written, its new fingerprint, its root line, the files it indexed
_Written = tuple[NormalizedName, list[str], str, ProjectSummary, list[str]]


def _write_mode(store: Store, folders: int, workers: Workers) -> _WriteMode:
    # serial, processes or threads: the same bytes, at different speeds
    if folders < _PARALLEL_FOLDERS or workers.count < 2:  # mutate: skip (speed only)
        return "here"  # mutate: skip (speed only: any mode but these two writes here)
    return "processes" if store.writes_in_processes else "threads"  # mutate: skip (speed only)


def _run_writes(
    store: Store,
    jobs: Sequence[_Job],
    places: Sequence[int],
    site: SiteInfo,
    on_index: frozenset[str],
    workers: Workers,
    now: datetime,
    mode: _WriteMode,
) -> list[_Written]:
    """Write metadata files, then pages, per folder; return what was written and the folder's
    new fingerprint. Each folder is written whole by one process (``places``)."""
    write = functools.partial(_write_folder, store, site, on_index, now, workers.token)
    if mode == "processes":
        move = functools.partial(_move_here, workers)
        return workers.map_at(write, jobs, places, move)
    if mode == "threads":  # mutate: skip (speed only: threads or here, the same bytes)
        from concurrent.futures import ThreadPoolExecutor  # deferred: only for big batches

        with ThreadPoolExecutor(max_workers=4) as pool:  # mutate: skip (speed only)
            return list(pool.map(write, jobs))
    return [write(job) for job in jobs]


def _move_here(workers: Workers, jobs: list[_Job], place: int) -> list[_Job]:
    """The jobs with the files kept for them in worker ``place`` brought here."""
    keys = [job.folder.key(name) for job in jobs for name in job.kept]
    taken = _taken(workers, keys, [place] * len(keys))
    return [
        dataclasses.replace(
            job,
            found={**job.found, **{name: taken[job.folder.key(name)] for name in job.kept}},
            kept=(),
        )
        for job in jobs
    ]


def _write_folder(
    store: Store, site: SiteInfo, on_index: frozenset[str], now: datetime, token: str, job: _Job
) -> _Written:
    folder, catalog = job.folder, job.catalog
    found = {**job.found, **{name: take(token, folder.key(name)) for name in job.kept}}
    project, metadata, new = _merge(folder, catalog, found, job.batch, now)
    unlisted = metadata.keys() - catalog.files.keys()  # wheels the catalog does not list yet
    written = []
    for filename, data in metadata.items():
        name = filename + METADATA_SUFFIX
        key = folder.key(name)
        if name in folder.metadata:  # re-read (--verify): make sure it holds these bytes
            changed = store.replace(key, data, etag=ANY)
        else:
            # a wheel the catalog does not list yet: nothing links to its metadata file until
            # the catalog page below is written, and a run killed before that reads the wheel
            # again and replaces the file (above), so it is created in place
            atomic = filename not in unlisted  # mutate: skip (only a crash can tell)
            changed = store.create(key, data, atomic=atomic)
        if changed:
            written.append(key)
    rendered, summary = pages.render_folder_pages(store, project, site, on_index, metadata)
    written += pages.write_pages(store, folder.name, rendered, catalog.etags)
    return project.name, written, project_fingerprint(project, rendered), summary, new


def _load_catalog(store: Store, folder: Folder, problems: list[PkgIndexError]) -> _Catalog:
    html_etag = folder.etags.get(PAGE_HTML) if PAGE_HTML in folder.pages else None
    empty = Project(name=folder.name)
    if PAGE_JSON not in folder.pages:
        return _Catalog(project=empty, etags={PAGE_HTML: html_etag, PAGE_JSON: None})
    key = folder.key(PAGE_JSON)
    try:
        found = store.read(key, max_size=CATALOG_LIMIT)
        if found is None:
            raise StaleError(f"{store.describe(key)}: removed by another writer")
        project = project_from_json(found.data, name=folder.name, origin=store.describe(key))
    except IntegrityError as exc:
        problems.append(exc)
        stat = store.stat(key)
        return _Catalog(
            project=empty, etags={PAGE_HTML: html_etag, PAGE_JSON: stat.etag if stat else None}
        )
    return _Catalog(project=project, etags={PAGE_HTML: html_etag, PAGE_JSON: found.etag})


def _files_to_read(
    folder: Folder, catalog: _Catalog, batch: Batch, verify: bool, problems: list[PkgIndexError]
) -> list[str]:
    """New files, wheels whose .metadata file is missing, and with ``verify`` every file."""
    wanted: list[str] = []
    for filename, size in folder.sizes.items():
        if filename in batch.known:
            continue
        entry = catalog.files.get(filename)
        if entry is not None and entry.size != size:
            problems.append(_changed_error(folder, entry, f"its size is now {size} bytes"))
            continue
        missing_metadata = (
            entry is not None
            and entry.metadata_sha256 is not None
            and (filename + METADATA_SUFFIX not in folder.metadata)
        )
        if entry is None and (tombstone := catalog.project.tombstone(filename)) is not None:
            problems.append(removed_error(folder.name, tombstone))
            continue
        if entry is None or verify or missing_metadata:
            wanted.append(folder.key(filename))
    return wanted


def _merge(
    folder: Folder,
    catalog: _Catalog,
    found: Mapping[str, Inspected],
    batch: Batch,
    now: datetime,
) -> tuple[Project, dict[str, bytes], list[str]]:
    """The project's new catalog entry, the .metadata files to write, the files added (files
    no longer in the folder are left out)."""
    files: list[IndexFile] = []
    metadata: dict[str, bytes] = {}
    new: list[str] = []
    for filename in folder.sizes:
        entry = catalog.files.get(filename)
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
    return catalog.project.with_files(files), metadata, new


def _index_file(
    item: Inspected, now: datetime, batch: Batch, previous: IndexFile | None
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
    return IndexFile.of_version(
        item.dist.version,
        filename=item.dist.filename,
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


def _root_unchanged(
    state: RootState,
    names: Sequence[str],
    fingerprints: Mapping[str, str],
    jobs: Sequence[_Job],
    full_render: bool,
) -> bool:
    """True when the root pages would come out as they are: no project was rewritten, the same
    projects, both root pages present (a deleted one is written again). Rendering the root of a
    big index costs more than the rest of a warm run, so it is skipped then."""
    summaries = state.private.get("summaries")
    return (
        not jobs
        and not full_render
        and list(state.names) == list(names)
        and dict(state.fingerprints) == dict(fingerprints)
        and isinstance(summaries, dict)
        and summaries.keys() == set(names)
        and PAGE_HTML in state.etags
        and PAGE_JSON in state.etags
    )


def dependents(state: RootState, names: Iterable[str]) -> set[str]:
    """Projects whose install commands change because a project they depend on joined or left
    the index (their pages say which dependencies this index has)."""
    if not state.names:
        return set()
    changed = set(names) ^ set(state.names)
    if not changed:
        return set()
    return {
        name
        for name, summary in state.summaries.items()
        if name not in changed and changed.intersection(summary.requires)
    }


def known_project_names(store: Store, state: RootState, extra: Iterable[str]) -> list[str]:
    names = state.names or tuple(folder.name for folder in scan_root(store)[0])
    return sorted(set(names) | set(extra))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
