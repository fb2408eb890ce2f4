"""``add``: validate distribution files, place them in their project folders, update the pages.

A file is checked against what the index lists and what the store holds before anything is
written: new files are created (never over other bytes), identical re-adds are no-ops, a file
an interrupted ``add`` left unlisted is listed, and damaged stored bytes are restored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pkgindex.errors import ConflictError, InvalidDistributionError, PkgIndexError, ValidationError
from pkgindex.index import pages
from pkgindex.index.batch import inspect_many
from pkgindex.index.distfile import Inspected, preference_conflict, sha256_file
from pkgindex.index.model import Project
from pkgindex.index.refresh import (
    Batch,
    Clock,
    GenerateReport,
    dependents,
    known_project_names,
    load_project,
    refresh_folders,
    retrying,
    utc_now,
)
from pkgindex.index.rules import check_publishable
from pkgindex.index.scan import scan_folder
from pkgindex.stores.base import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddReport:
    added: tuple[str, ...]
    unchanged: tuple[str, ...]
    written: tuple[str, ...]  # keys in the store
    skipped: tuple[PkgIndexError, ...] = ()
    repaired: tuple[str, ...] = ()  # published files whose stored bytes were restored


def add_files(
    store: Store,
    files: Sequence[Path],
    *,
    provenance: Mapping[str, Any] | None = None,
    replace: bool = False,
    restore: bool = False,
    skip_invalid: bool = False,
    clock: Clock | None = None,
) -> AddReport:
    """Validate distribution files, place them in their project folders, update the pages.

    The same file again (same name, same bytes) is a no-op; a file that is present but not
    listed (an interrupted ``add``) gets listed; a published file whose stored bytes no longer
    match the catalog is restored from the same bytes. The same name with other bytes is
    refused with ConflictError, unless ``replace`` (which records the replacement). A removed
    file never returns with other bytes; with the same bytes only with ``restore``.
    """
    with store.lock():
        inspected, problems = _inspect_candidates(files)
        checked = _check_against_index(store, inspected, replace=replace, restore=restore)
        problems += checked.conflicts
        if problems and not skip_invalid:
            raise ValidationError(problems) if len(problems) > 1 else problems[0]
        batch = Batch()
        for path, item in checked.accepted:
            key = f"{item.dist.name}/{item.dist.filename}"
            if item.dist.filename in checked.replaced:
                batch.replaced.add(item.dist.filename)
                store.overwrite(key, path)
            elif item.dist.filename in checked.repaired:
                store.overwrite(key, path)
            else:
                store.create(key, path)  # False: an interrupted add left it; list it now
            batch.known[item.dist.filename] = item
            if provenance is not None:
                batch.provenance[item.dist.filename] = provenance
        names = sorted({item.dist.name for _, item in checked.accepted})

        def attempt() -> GenerateReport:
            state = pages.read_root_state(store)
            all_names = known_project_names(store, state, names)
            wanted = sorted({*names, *dependents(state, all_names)})
            folders = [folder for name in wanted if (folder := scan_folder(store, name)[0])]
            return refresh_folders(
                store,
                folders,
                state=state,
                all_names=all_names,
                batch=batch,
                problems=[],
                verify=False,
                skip_invalid=skip_invalid,
                clock=clock or utc_now,
            )

        report = retrying(attempt, store.location) if names else None
    repaired = set(checked.repaired)
    return AddReport(
        added=tuple(
            item.dist.filename for _, item in checked.accepted if item.dist.filename not in repaired
        ),
        unchanged=tuple(checked.unchanged),
        repaired=tuple(checked.repaired),
        written=report.written if report else (),
        skipped=tuple(problems) + (report.skipped if report else ()),
    )


def _inspect_candidates(
    files: Sequence[Path],
) -> tuple[list[tuple[Path, Inspected]], list[PkgIndexError]]:
    problems: list[PkgIndexError] = []
    paths: list[Path] = []
    seen: set[str] = set()
    for path in files:
        if path.is_dir():
            problems.append(
                InvalidDistributionError(
                    f"{path}: a folder, not a distribution file",
                    hint=f"pass the files in it, e.g. {path.as_posix().rstrip('/')}/*.whl",
                )
            )
        elif not path.is_file():
            problems.append(PkgIndexError(f"{path}: no such file"))
        elif path.name in seen:
            problems.append(InvalidDistributionError(f"{path.name}: given twice"))
        else:
            seen.add(path.name)
            paths.append(path)
    accepted: list[tuple[Path, Inspected]] = []
    for path, result in zip(paths, inspect_many(paths), strict=True):  # mutate: skip (same length)
        if isinstance(result, PkgIndexError):
            problems.append(result)
        else:
            accepted.append((path, result))
    return accepted, problems


@dataclass(slots=True, kw_only=True)
class _Checked:
    accepted: list[tuple[Path, Inspected]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)  # accepted over other bytes (--replace)
    repaired: list[str] = field(default_factory=list)  # accepted to restore damaged bytes
    conflicts: list[PkgIndexError] = field(default_factory=list)


def _check_against_index(
    store: Store, inspected: Sequence[tuple[Path, Inspected]], *, replace: bool, restore: bool
) -> _Checked:
    """Split files to add into new ones, identical re-adds, repairs and conflicts.

    What is stored counts as well as what is listed: a file present but unlisted (an
    interrupted add) is accepted if it has the same bytes, and a listed file whose stored bytes
    no longer match the catalog is repaired from the same bytes.
    """
    checked = _Checked()
    catalogs: dict[str, Project | None] = {}
    for path, item in inspected:
        name, filename = item.dist.name, item.dist.filename
        if name not in catalogs:
            catalogs[name] = load_project(store, name)
        project = catalogs[name]
        refusal = check_publishable(project, filename, item.sha256, restore=restore)
        if refusal is not None:
            checked.conflicts.append(refusal)
            continue
        entry = project.file(filename) if project else None
        if entry is None and project is not None and project.tombstone(filename):
            checked.accepted.append((path, item))  # restored: the very bytes removed, asked for
            if store.stat(f"{name}/{filename}") is not None:
                checked.repaired.append(filename)  # a leftover of the removal: overwrite it
            continue
        stored = _stored_sha256(store, f"{name}/{filename}")
        listed = entry.sha256 if entry else None
        if (listed or stored) is None:
            if not replace and project and (clash := _preferred(item, project)):
                checked.conflicts.append(clash)
            else:
                checked.accepted.append((path, item))
        elif (listed or stored) == item.sha256:
            if listed is None or stored != listed:  # unlisted, missing or damaged: complete it
                checked.accepted.append((path, item))
                if listed is not None and stored is not None:
                    log.warning("%s/%s: stored bytes differ from the catalog", name, filename)
                    checked.repaired.append(filename)
                elif listed is not None:
                    checked.repaired.append(filename)
            else:
                checked.unchanged.append(filename)
        elif replace:
            checked.accepted.append((path, item))
            checked.replaced.add(filename)
        else:
            checked.conflicts.append(
                ConflictError(
                    f"{filename}: the index already has a different file with this name",
                    hint="published files are immutable: build it under a new version "
                    "(see version-template in pkgindex.toml), yank the old one, or pass --replace",
                )
            )
    return checked


def _preferred(item: Inspected, project: Project) -> ConflictError | None:
    """A new file that installers would take instead of a published one of the same version."""
    for published in project.files:
        if reason := preference_conflict(item.dist.filename, published.filename):
            return ConflictError(
                f"{item.dist.filename}: installers would choose it over the published "
                f"{published.filename} ({reason}), so {project.name}=={published.version} "
                "would install other bytes",
                hint="published versions are immutable: publish it under a new version, or "
                "pass --replace to add it anyway",
            )
    return None


def _stored_sha256(store: Store, key: str) -> str | None:
    if store.stat(key) is None:
        return None
    with store.local_paths([key]) as paths:
        return sha256_file(Path(paths[key]))
