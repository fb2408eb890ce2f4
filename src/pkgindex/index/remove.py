"""Take files out of an index, explicitly, leaving a tombstone for each.

A removed file disappears from both page forms and from the store; its filename and sha256 stay
in the project's catalog page (``_pkgindex.removed``), so the name can never be published again
with other bytes, and the same bytes come back only with ``pkgindex add --restore``.

Order of writes: the pages first (the file is no longer listed, the tombstone is recorded), then
the files are deleted. A run interrupted in between leaves valid pages and a file nobody links
to; running the same removal again deletes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pkgindex.errors import ConfigError, PkgIndexError, ValidationError
from pkgindex.index.model import IndexFile, Project, Tombstone
from pkgindex.index.pages import load_store_config
from pkgindex.index.refresh import read_project, retrying, write_project
from pkgindex.index.scan import METADATA_SUFFIX
from pkgindex.stores.base import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveReport:
    project: str
    removed: tuple[str, ...]  # filenames taken out of the pages
    deleted: tuple[str, ...]  # keys deleted from the store (distributions, metadata files)
    written: tuple[str, ...]  # pages written (keys)
    dry_run: bool = False


def remove(
    store: Store,
    name: str,
    targets: Sequence[str],
    *,
    reason: str | None = None,
    dry_run: bool = False,
    clock: Clock | None = None,
) -> RemoveReport:
    """Remove versions (all their files) or single files of project NAME.

    Every target is checked before anything is written; an unknown project, version or file,
    or a removal leaving nothing for a version pinned with ``keep`` in pkgindex.toml, is refused.
    """
    now = (clock or (lambda: datetime.now(UTC)))()
    selected: list[tuple[list[IndexFile], list[str]]] = []  # of the last attempt

    def change(project: Project) -> Project | None:
        files, leftovers = select_files(project, targets)
        check_pins(project, files, load_store_config(store).project(project.name).keep)
        selected[:] = [(files, leftovers)]
        if dry_run or not files:
            return None
        return without_files(project, files, reason=reason, now=now)

    with store.lock():
        project, written = change_project(store, name, change)
        files, leftovers = selected[0]
        deleted: list[str] = []
        if not dry_run:
            deleted = delete_files(store, project.name, [f.filename for f in files] + leftovers)
    return RemoveReport(
        project=project.name,
        removed=tuple(f.filename for f in files),
        deleted=tuple(deleted),
        written=tuple(written),
        dry_run=dry_run,
    )


def change_project(
    store: Store, name: str, change: Callable[[Project], Project | None]
) -> tuple[Project, list[str]]:
    """Read a project, apply ``change`` (None: nothing to write) and write its pages, again while
    another writer changes them first. Returns the project as read and the pages written; an
    unknown project is refused. Call it under ``store.lock()``."""

    def attempt() -> tuple[Project, list[str]]:
        loaded = read_project(store, name)
        if loaded is None:
            raise PkgIndexError(
                f"{name}: no such project in {store.location}",
                hint="check the name (see the root page), or pass the index root with --root",
            )
        project, etags = loaded
        changed = change(project)
        return project, write_project(store, changed, etags) if changed is not None else []

    return retrying(attempt, store.describe(canonicalize_name(name)))


def select_files(project: Project, targets: Sequence[str]) -> tuple[list[IndexFile], list[str]]:
    """The files named by ``targets`` (versions or filenames), in catalog order, and the names
    of files already removed (tombstoned) whose deletion may not have finished.

    Raises with every unknown target at once.
    """
    chosen: dict[str, IndexFile] = {}
    leftovers: list[str] = []
    problems: list[PkgIndexError] = []
    for target in targets:
        matches = [f for f in project.files if f.filename == target or _same_version(f, target)]
        if matches:
            chosen.update((f.filename, f) for f in matches)
        elif project.tombstone(target) is not None:
            leftovers.append(target)
        else:
            problems.append(
                PkgIndexError(
                    f"{project.name}: no file or version {target!r}",
                    hint=f"versions: {', '.join(project.versions) or 'none'}",
                )
            )
    if problems:
        raise ValidationError(problems) if len(problems) > 1 else problems[0]
    return [f for f in project.files if f.filename in chosen], leftovers


def check_pins(project: Project, removing: Iterable[IndexFile], pins: Sequence[str]) -> None:
    """Refuse a removal that leaves a pinned version (``keep`` in pkgindex.toml) no file."""
    gone = {f.filename for f in removing}
    for pin in pins:
        files = [f for f in project.files if _same_version(f, pin)]
        if files and all(f.filename in gone for f in files):
            raise ConfigError(
                f"{project.name} {pin} is pinned in pkgindex.toml (keep = [...]); this removal "
                "would leave nothing to install for it",
                hint=f"remove {pin!r} from projects.{project.name}.keep first, or remove other "
                "files",
            )


def without_files(
    project: Project, files: Sequence[IndexFile], *, reason: str | None, now: datetime
) -> Project:
    """The project without ``files``, each remembered by a tombstone."""
    gone = {f.filename for f in files}
    tombstones = [
        Tombstone(filename=f.filename, sha256=f.sha256, removed_at=now, reason=reason)
        for f in files
    ]
    return Project.from_files(
        project.name,
        [f for f in project.files if f.filename not in gone],
        status=project.status,
        removed=[*project.removed, *tombstones],
    )


def delete_files(store: Store, project: str, filenames: Iterable[str]) -> list[str]:
    """Delete distribution files and their metadata files (after the pages stopped listing
    them). Returns the keys deleted."""
    deleted = []
    for filename in filenames:
        for key in (f"{project}/{filename}", f"{project}/{filename}{METADATA_SUFFIX}"):
            if store.delete(key):
                deleted.append(key)
                log.debug("deleted %s", store.describe(key))
    return deleted


def _same_version(file: IndexFile, target: str) -> bool:
    if file.version == target:
        return True
    try:
        return Version(file.version) == Version(target)
    except InvalidVersion:
        return False
