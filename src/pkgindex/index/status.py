"""PEP 792 project status markers: active, archived, deprecated, quarantined.

The status is part of the project's catalog page (``project-status`` in JSON, two ``<meta>``
tags in HTML). No marker means active. Archived and quarantined projects accept no new files;
a quarantined project's pages offer no files (they are kept, withheld, in the catalog page).
"""

from __future__ import annotations

from dataclasses import replace

from pkgindex.errors import ConfigError
from pkgindex.index.model import STATUSES, Project, ProjectStatus, StatusName
from pkgindex.index.remove import change_project
from pkgindex.stores.base import Store


def set_status(store: Store, name: str, status: str, reason: str | None = None) -> bool:
    """Set a project's status marker; returns False if it already had it."""
    marker = parse_status(status, reason)

    def change(project: Project) -> Project | None:
        return None if project.status == marker else replace(project, status=marker)

    with store.lock():
        _, written = change_project(store, name, change)
    return bool(written)


def parse_status(status: str, reason: str | None) -> ProjectStatus | None:
    if status not in STATUSES:
        raise ConfigError(
            f"{status!r} is not a project status",
            hint=f"use one of: {', '.join(STATUSES)} (PEP 792)",
        )
    state: StatusName = status
    if state == "active" and not reason:
        return None  # no marker means active
    return ProjectStatus(status=state, reason=reason or None)
