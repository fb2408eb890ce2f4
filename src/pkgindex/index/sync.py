"""Copy an index from one store to another (folder to bucket, bucket to folder, ...).

Only what the destination lacks is copied, and every copied file is checked against the hash
the source's catalog gives for it before it is stored. Per project, distribution and metadata
files go first and the pages after them, so the destination never lists a file it does not
have; the root pages come last. The destination's own writers stay safe: files are created
(never overwritten) and pages replaced on the ETag they were read with.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pkgindex.config import CONFIG_FILENAME
from pkgindex.errors import IntegrityError, PkgIndexError
from pkgindex.index import pages
from pkgindex.index.model import IndexFile, Project
from pkgindex.index.refresh import CATALOG_LIMIT, read_project, retrying
from pkgindex.index.scan import METADATA_SUFFIX, PAGE_HTML, PAGE_JSON, scan_root
from pkgindex.stores.base import Store

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # called with each key copied and its size in bytes
_BATCH = 32  # files downloaded at once from a bucket
_WORKERS = 4  # projects copied at once


@dataclass(slots=True, kw_only=True)
class SyncReport:
    projects: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)  # keys
    present: int = 0  # files the destination already had
    bytes_copied: int = 0
    pages: list[str] = field(default_factory=list)  # page keys written


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncPlan:
    projects: tuple[Project, ...]
    total_bytes: int  # of every file listed (an upper bound of what is copied)


def plan_sync(source: Store) -> SyncPlan:
    """Read the source's catalog: every project and its files."""
    if not source.exists():
        raise PkgIndexError(f"{source.location}: no such index", hint="check the SOURCE root")
    state = pages.read_root_state(source)
    names = state.names or tuple(folder.name for folder in scan_root(source)[0])
    projects = []
    for name in names:
        loaded = read_project(source, name)
        if loaded is not None:
            projects.append(loaded[0])
    total = sum(f.size for project in projects for f in project.files)
    return SyncPlan(projects=tuple(projects), total_bytes=total)


def sync(
    source: Store,
    destination: Store,
    *,
    plan: SyncPlan | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Make DESTINATION hold every project of SOURCE: missing files copied and verified, then
    the pages."""
    plan = plan or plan_sync(source)
    report = SyncReport()

    def copy_project(project: Project) -> SyncReport:
        part = SyncReport(projects=[project.name])  # one per thread, merged below
        _copy_files(source, destination, project, part, progress)
        for name in (PAGE_HTML, PAGE_JSON):
            _copy_page(source, destination, f"{project.name}/{name}", part)
        return part

    with destination.lock(), ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        # projects in parallel: a bucket answers each request in tens of milliseconds
        for part in pool.map(copy_project, plan.projects):
            report.projects += part.projects
            report.copied += part.copied
            report.present += part.present
            report.bytes_copied += part.bytes_copied
            report.pages += part.pages
        for key in (CONFIG_FILENAME, PAGE_HTML, PAGE_JSON):
            _copy_page(source, destination, key, report)
    return report


def _copy_files(
    source: Store,
    destination: Store,
    project: Project,
    report: SyncReport,
    progress: Progress | None,
) -> None:
    missing: list[IndexFile] = []
    for entry in project.files:
        key = f"{project.name}/{entry.filename}"
        found = destination.stat(key)
        if found is None:
            missing.append(entry)
            continue
        report.present += 1
        if found.size != entry.size:
            raise IntegrityError(
                f"{destination.describe(key)}: {found.size} bytes, but the catalog of "
                f"{source.location} says {entry.size}",
                hint="the two indexes disagree about a published file: find out which is "
                "right before syncing",
            )
    for start in range(0, len(missing), _BATCH):
        batch = missing[start : start + _BATCH]
        keys = [f"{project.name}/{entry.filename}" for entry in batch]
        with source.local_paths(keys) as paths:
            for key, entry in zip(keys, batch, strict=True):
                _copy_one(source, destination, key, entry, Path(paths[key]), report)
                if progress:
                    progress(key, entry.size)
    for entry in project.files:
        if entry.metadata_sha256:
            _copy_metadata(source, destination, project.name, entry, report)


def _copy_one(
    source: Store, destination: Store, key: str, entry: IndexFile, path: Path, report: SyncReport
) -> None:
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    if digest != entry.sha256:
        raise IntegrityError(
            f"{source.describe(key)}: sha256 {digest} does not match the catalog ({entry.sha256})",
            hint="the source's file changed after it was published; nothing of it was copied",
        )
    destination.create(key, path)
    report.copied.append(key)
    report.bytes_copied += entry.size


def _copy_metadata(
    source: Store, destination: Store, name: str, entry: IndexFile, report: SyncReport
) -> None:
    key = f"{name}/{entry.filename}{METADATA_SUFFIX}"
    if destination.stat(key) is not None:
        return
    found = source.read(key, max_size=CATALOG_LIMIT)
    if found is None:
        log.warning("%s: missing in the source; the destination's pages link it", key)
        return
    if hashlib.sha256(found.data).hexdigest() != entry.metadata_sha256:
        raise IntegrityError(
            f"{source.describe(key)}: sha256 does not match the catalog",
            hint="run 'pkgindex generate --verify' on the source first",
        )
    destination.create(key, found.data)
    report.copied.append(key)


def _copy_page(source: Store, destination: Store, key: str, report: SyncReport) -> None:
    found = source.read(key, max_size=CATALOG_LIMIT)
    if found is None:
        return

    def attempt() -> bool:
        current = destination.stat(key)
        return destination.replace(key, found.data, etag=current.etag if current else None)

    if retrying(attempt, destination.describe(key)):
        report.pages.append(key)
