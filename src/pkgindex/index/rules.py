"""What may be published into a project: tombstones of removed files, PEP 792 status."""

from __future__ import annotations

from pkgindex.errors import ConflictError
from pkgindex.index.model import Project, Tombstone, format_upload_time


def removed_error(
    project: str, tombstone: Tombstone, *, same_bytes: bool | None = None
) -> ConflictError:
    """A removed filename is back: never with other bytes, the same bytes only with --restore."""
    when = format_upload_time(tombstone.removed_at)[:10]
    where = f"{project}/{tombstone.filename}"
    if same_bytes is False:
        return ConflictError(
            f"{where}: this filename was removed on {when} and cannot return with other bytes",
            hint="a removed filename is never reused (as on PyPI): publish the build under a new "
            "version",
        )
    return ConflictError(
        f"{where}: this file was removed on {when}",
        hint=f"to bring the same bytes back run 'pkgindex add --restore FILE'; otherwise delete "
        f"{where} and publish under a new version",
    )


def check_publishable(
    project: Project | None, filename: str, sha256: str, *, restore: bool
) -> ConflictError | None:
    """Why a new file may not join ``project``, or None. Files already listed are not new."""
    if project is None or project.file(filename) is not None:
        return None
    if project.status is not None and not project.status.accepts_uploads:
        return ConflictError(
            f"{filename}: project {project.name} is {project.status.status} and accepts no new "
            "files (PEP 792)",
            hint=f"set it active first: pkgindex status {project.name} active",
        )
    tombstone = project.tombstone(filename)
    if tombstone is None:
        return None
    if tombstone.sha256 != sha256:
        return removed_error(project.name, tombstone, same_bytes=False)
    return None if restore else removed_error(project.name, tombstone, same_bytes=True)
