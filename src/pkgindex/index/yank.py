"""Yanking (PEP 592): a file stays listed and downloadable, marked so installers skip it."""

from __future__ import annotations

from dataclasses import replace

from packaging.version import InvalidVersion, Version

from pkgindex.errors import PkgIndexError
from pkgindex.index.model import Project
from pkgindex.index.refresh import update_project
from pkgindex.stores.base import Store


def set_yanked(store: Store, name: str, target: str, reason: str | None) -> list[str]:
    """Yank (reason is a string, maybe empty) or un-yank (None) a version or one file.

    Returns the filenames whose state changed. Yanked files stay listed and downloadable.
    """
    changed: list[str] = []

    def change(project: Project) -> Project:
        matches = [f for f in project.files if target in (f.filename, f.version)]
        if not matches:
            matches = [f for f in project.files if _same_version(f.version, target)]
        if not matches:
            raise PkgIndexError(
                f"{project.name}: no file or version {target!r}",
                hint=f"versions: {', '.join(project.versions) or 'none'}",
            )
        changed[:] = [f.filename for f in matches if f.yanked != reason]
        files = [replace(f, yanked=reason) if f.filename in changed else f for f in project.files]
        return project.with_files(files)

    with store.lock():
        if update_project(store, name, change) is None:
            raise PkgIndexError(
                f"{name}: no such project in {store.location}",
                hint="check the name, or run 'pkgindex generate' first",
            )
    return changed


def _same_version(version: str, target: str) -> bool:
    try:
        return Version(version) == Version(target)
    except InvalidVersion:
        return False
