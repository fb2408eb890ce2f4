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
from pathlib import Path

from packaging.version import InvalidVersion, Version

from pkgindex.config import load_config
from pkgindex.errors import ConfigError, PkgIndexError, ValidationError
from pkgindex.index.model import IndexFile, Project, Tombstone
from pkgindex.index.refresh import load_project, write_project
from pkgindex.index.scan import METADATA_SUFFIX
from pkgindex.stores import local as storage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveReport:
    project: str
    removed: tuple[str, ...]  # filenames taken out of the pages
    deleted: tuple[Path, ...]  # files deleted from the store (distributions, metadata files)
    written: tuple[Path, ...]  # pages written
    dry_run: bool = False


def remove(
    root: Path,
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
    root = root.resolve()
    with storage.locked(root):
        project = require_project(root, name)
        files, leftovers = select_files(project, targets)
        check_pins(project, files, load_config(root).project(project.name).keep)
        if dry_run:
            return RemoveReport(
                project=project.name,
                removed=tuple(f.filename for f in files),
                deleted=(),
                written=(),
                dry_run=True,
            )
        now = (clock or (lambda: datetime.now(UTC)))()
        written, deleted = apply_removal(root, project, files, reason=reason, now=now)
        deleted += delete_files(root / project.name, leftovers)
    return RemoveReport(
        project=project.name,
        removed=tuple(f.filename for f in files),
        deleted=tuple(deleted),
        written=tuple(written),
    )


def require_project(root: Path, name: str) -> Project:
    project = load_project(root, name)
    if project is None:
        raise PkgIndexError(
            f"{name}: no such project in {root}",
            hint="check the name (see the root page), or pass the index root with --root",
        )
    return project


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


def apply_removal(
    root: Path,
    project: Project,
    files: Sequence[IndexFile],
    *,
    reason: str | None,
    now: datetime,
) -> tuple[list[Path], list[Path]]:
    """Write the pages without ``files`` (with their tombstones), then delete the files.

    The caller holds the lock. Returns (pages written, files deleted).
    """
    if not files:
        return [], []
    gone = {f.filename for f in files}
    tombstones = [
        Tombstone(filename=f.filename, sha256=f.sha256, removed_at=now, reason=reason)
        for f in files
    ]
    updated = Project.from_files(
        project.name,
        [f for f in project.files if f.filename not in gone],
        status=project.status,
        removed=[*project.removed, *tombstones],
    )
    written = write_project(root, updated)
    deleted = delete_files(root / project.name, [f.filename for f in files])
    for file in files:
        log.debug("removed %s/%s", project.name, file.filename)
    return written, deleted


def delete_files(folder: Path, filenames: Iterable[str]) -> list[Path]:
    deleted = []
    for filename in filenames:
        for path in (folder / filename, folder / (filename + METADATA_SUFFIX)):
            if storage.remove_file(path):
                deleted.append(path)
    return deleted


def _same_version(file: IndexFile, target: str) -> bool:
    if file.version == target:
        return True
    try:
        return Version(file.version) == Version(target)
    except InvalidVersion:
        return False
