"""Audit an index against its catalog without changing anything.

Every distribution and metadata file is re-hashed (threads on every core: hashlib releases the
GIL while it hashes) and compared with the catalog pages; files nobody lists (orphans), listed
files that are missing, removed files that are back, pages that are stale or list other files
than the catalog, and sizes near GitHub's limits are reported, each with its path.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.utils import NormalizedName

from pkgindex.errors import PkgIndexError
from pkgindex.index import pages
from pkgindex.index.catalog import project_from_json
from pkgindex.index.model import IndexFile, Project, ProjectSummary, SiteInfo, latest_version
from pkgindex.index.refresh import CATALOG_LIMIT
from pkgindex.index.scan import METADATA_SUFFIX, PAGE_HTML, PAGE_JSON, Folder, scan_root
from pkgindex.stores.base import Store

MiB = 1 << 20
FILE_LIMIT = 100 * MiB  # GitHub refuses a push with a bigger file
FILE_WARNING = 50 * MiB  # GitHub warns above this
SITE_LIMIT = 1_000_000_000  # GitHub Pages: a published site may be no larger than 1 GB
SITE_WARNING = 800_000_000

Severity = Literal["error", "warning"]
Progress = Callable[[int, int], None]  # files hashed so far, files to hash
Installer = Callable[[NormalizedName, Path], str | None]  # an error message, or None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    kind: str  # hash, size, missing, orphan, removed-file-back, stale-page, page-disagrees, ...
    path: str  # relative to the index root
    message: str
    severity: Severity = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    name: str
    files: int
    size: int  # bytes: distributions, metadata files and pages


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    findings: tuple[Finding, ...]
    usage: tuple[Usage, ...]
    hashed: int  # files re-hashed
    installed: tuple[str, ...] = ()  # project==version installed with --install

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def total_size(self) -> int:
        return sum(item.size for item in self.usage)


@dataclass(slots=True)
class _Audit:
    store: Store
    findings: list[Finding] = field(default_factory=list)
    to_hash: list[tuple[str, str]] = field(default_factory=list)  # key, sha256 in the catalog

    def add(self, kind: str, key: str, message: str, severity: Severity = "error") -> None:
        self.findings.append(Finding(kind=kind, path=key, message=message, severity=severity))


def check_index(
    store: Store, *, progress: Progress | None = None, install: Installer | None = None
) -> CheckReport:
    """Audit the index in ``store``; nothing is written. ``install`` is called with the
    newest installable wheel of each project (a local path) and returns an error or None."""
    with store.lock():
        audit = _Audit(store)
        folders, layout = scan_root(store)
        for problem in layout:
            audit.add("layout", ".", problem.message)
        site = pages.load_site(store)
        names = [folder.name for folder in folders]
        projects: dict[str, Project] = {}
        summaries: dict[str, ProjectSummary] = {}
        usage = []
        for folder in folders:
            project = _audit_folder(audit, folder)
            if project is None:
                continue
            projects[folder.name] = project
            summaries[folder.name] = _audit_pages(audit, folder, project, site, set(names))
            usage.append(_usage(audit, folder))
        _audit_root(audit, names, site, summaries)
        _audit_hashes(audit, progress)
        _audit_site_size(audit, usage)
        installed = _install_all(audit, projects, install) if install else []
    return CheckReport(
        findings=tuple(audit.findings),
        usage=tuple(usage),
        hashed=len(audit.to_hash),
        installed=tuple(installed),
    )


def _audit_folder(audit: _Audit, folder: Folder) -> Project | None:
    key = folder.key(PAGE_JSON)
    if PAGE_JSON not in folder.pages:
        audit.add("missing-page", key, "no catalog page: run pkgindex generate")
        return None
    try:
        found = audit.store.read(key, max_size=CATALOG_LIMIT)
        if found is None:
            raise PkgIndexError(f"{key}: removed while it was being checked")
        project = project_from_json(found.data, name=folder.name, origin=key)
    except PkgIndexError as exc:
        audit.add("catalog", key, exc.message)
        return None
    listed = {f.filename for f in project.files}
    for file in project.files:
        _audit_file(audit, folder, file)
    for filename in sorted(folder.sizes.keys() - listed):
        tombstone = project.tombstone(filename)
        if tombstone is not None:
            when = tombstone.removed_at.date().isoformat()
            message = f"removed on {when}, but the file is back"
            audit.add("removed-file-back", folder.key(filename), message)
        else:
            audit.add("orphan", folder.key(filename), "not in the catalog: run pkgindex generate")
    with_metadata = {f.filename + METADATA_SUFFIX for f in project.files if f.metadata_sha256}
    for name in sorted(folder.metadata - with_metadata):
        audit.add("orphan", folder.key(name), "a metadata file no catalog entry refers to")
    return project


def _audit_file(audit: _Audit, folder: Folder, file: IndexFile) -> None:
    path = folder.key(file.filename)
    size = folder.sizes.get(file.filename)
    if size is None:
        audit.add("missing", path, "listed in the catalog but missing")
        return
    if size != file.size:
        audit.add("size", path, f"{size} bytes, the catalog says {file.size}")
    else:
        audit.to_hash.append((path, file.sha256))
    if size > FILE_LIMIT:
        audit.add("too-big", path, f"{size / MiB:.0f} MiB: GitHub refuses files over 100 MiB")
    elif size > FILE_WARNING:
        message = f"{size / MiB:.0f} MiB: GitHub warns about files over 50 MiB"
        audit.add("big-file", path, message, "warning")
    if file.metadata_sha256:
        name = file.filename + METADATA_SUFFIX
        if name not in folder.metadata:
            message = "metadata file missing: run pkgindex generate"
            audit.add("missing-metadata", folder.key(name), message)
        else:
            audit.to_hash.append((folder.key(name), file.metadata_sha256))


def _audit_pages(
    audit: _Audit, folder: Folder, project: Project, site: SiteInfo, names: set[str]
) -> ProjectSummary:
    rendered, summary = pages.render_folder_pages(audit.store, project, site, names)
    for name in (PAGE_HTML, PAGE_JSON):
        _compare_page(audit, folder.key(name), rendered[name])
    return summary


def _audit_root(
    audit: _Audit, names: Sequence[str], site: SiteInfo, summaries: dict[str, ProjectSummary]
) -> None:
    state = pages.read_root_state(audit.store)
    expected = pages.root_pages(audit.store, names, site, state.fingerprints, summaries)
    for name, data in expected.items():
        _compare_page(audit, name, data)


def _compare_page(audit: _Audit, key: str, expected: bytes) -> None:
    found = audit.store.read(key, max_size=CATALOG_LIMIT)
    if found is None:
        audit.add("missing-page", key, "page missing: run pkgindex generate")
        return
    if found.data == expected:
        return
    if key.rpartition("/")[2] == PAGE_HTML:
        extra, missing = _link_difference(found.data, expected)
        if extra or missing:
            parts = [f"links to {', '.join(extra)} not in the catalog"] if extra else []
            parts += [f"misses {', '.join(missing)}"] if missing else []
            audit.add("page-disagrees", key, "; ".join(parts) + ": run pkgindex generate")
            return
    audit.add("stale-page", key, "out of date with the catalog: run pkgindex generate")


def _link_difference(actual: bytes, expected: bytes) -> tuple[list[str], list[str]]:
    have, want = _links(actual), _links(expected)
    return sorted(have - want), sorted(want - have)


def _links(page: bytes) -> set[str]:
    from html.parser import HTMLParser

    found: set[str] = set()

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            href = dict(attrs).get("href")
            if tag == "a" and href:
                found.add(href)

    parser = Links()
    parser.feed(page.decode("utf-8", "replace"))
    parser.close()
    return found


def _audit_hashes(audit: _Audit, progress: Progress | None) -> None:
    keys = [key for key, _ in audit.to_hash]
    with audit.store.local_paths(keys) as paths:
        _hash_all(audit, [(key, paths[key], sha256) for key, sha256 in audit.to_hash], progress)


def _hash_all(
    audit: _Audit, items: Sequence[tuple[str, str, str]], progress: Progress | None
) -> None:
    def digest(item: tuple[str, str, str]) -> tuple[str, str, str | None]:
        key, path, expected = item
        try:
            with open(path, "rb") as handle:
                actual = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            return key, expected, f"cannot read: {exc.strerror}"
        return key, expected, actual

    workers = min(32, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, (path, expected, actual) in enumerate(pool.map(digest, items), start=1):
            if progress:
                progress(done, len(items))
            if actual is not None and actual != expected:
                what = "metadata file" if path.endswith(METADATA_SUFFIX) else "file"
                detail = actual if actual.startswith("cannot") else f"sha256 {actual[:16]}…"
                audit.add(
                    "hash",
                    path,
                    f"the {what}'s bytes changed ({detail}, catalog "
                    f"{expected[:16]}…): restore it from version control",
                )


def _usage(audit: _Audit, folder: Folder) -> Usage:
    size = sum(folder.sizes.values()) + sum(folder.pages.values())
    for name in folder.metadata:
        info = audit.store.stat(folder.key(name))
        size += info.size if info else 0
    return Usage(name=folder.name, files=len(folder.sizes), size=size)


def _audit_site_size(audit: _Audit, usage: Iterable[Usage]) -> None:
    total = sum(item.size for item in usage)
    if total > SITE_LIMIT:
        message = f"the index is {total / 1e9:.2f} GB: GitHub Pages sites may be at most 1 GB"
        audit.add("site-too-big", ".", message + "; prune old versions")
    elif total > SITE_WARNING:
        message = f"the index is {total / 1e9:.2f} GB, near GitHub Pages' 1 GB limit"
        audit.add("site-size", ".", message + "; consider pkgindex prune", "warning")


def _install_all(audit: _Audit, projects: dict[str, Project], install: Installer) -> list[str]:
    installed = []
    for name, project in projects.items():
        wheel = _newest_wheel(project)
        if wheel is None:
            continue
        key = f"{name}/{wheel.filename}"
        with audit.store.local_paths([key]) as paths:
            error = install(project.name, Path(paths[key]))
        if error:
            audit.add("install", key, error)
        else:
            installed.append(f"{name}=={wheel.version}")
    return installed


def _newest_wheel(project: Project) -> IndexFile | None:
    """A wheel of the latest version that this interpreter can install (pure ones first)."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename

    version = latest_version(project.offered)
    supported = {str(tag) for tag in sys_tags()}
    candidates = [
        f
        for f in project.offered
        if f.version == version and f.yanked is None and f.filename.endswith(".whl")
    ]
    for file in candidates:
        if {str(tag) for tag in parse_wheel_filename(file.filename)[3]} & supported:
            return file
    return None
