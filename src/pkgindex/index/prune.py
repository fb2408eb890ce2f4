"""Retention for nightly builds: remove old versions, keep what users rely on.

``plan_project`` is pure: it decides, version by version (newest first), what to keep and why.
It never removes one of the newest N versions (PEP 440 order: epochs, pre-releases and local
versions included), a version pinned with ``keep`` in pkgindex.toml, a version matching a
``--keep-pattern``, a version uploaded more recently than ``--older-than`` days, or the last
version that is not yanked (a project is never left with only yanked files).
``prune`` applies a plan through the same path as ``pkgindex remove``: tombstones included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase

from packaging.version import Version

from pkgindex.errors import ConfigError, PkgIndexError, ValidationError
from pkgindex.index import pages
from pkgindex.index.model import IndexFile, Project
from pkgindex.index.refresh import load_project
from pkgindex.index.remove import change_project, delete_files, without_files
from pkgindex.index.scan import scan_root
from pkgindex.stores.base import Store

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    keep: int  # the newest N versions are always kept
    older_than: timedelta | None = None  # only versions uploaded longer ago are removed
    keep_patterns: tuple[str, ...] = ()  # shell globs on versions or filenames
    pins: tuple[str, ...] = ()  # versions pinned in pkgindex.toml


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionPlan:
    project: str
    version: str
    files: tuple[IndexFile, ...]
    remove: bool
    why: str

    @property
    def uploaded(self) -> datetime:
        return max(f.upload_time for f in self.files)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneReport:
    plans: tuple[VersionPlan, ...]
    applied: bool  # False: a dry run

    @property
    def removals(self) -> tuple[VersionPlan, ...]:
        return tuple(plan for plan in self.plans if plan.remove)


def plan_project(project: Project, rule: Retention, now: datetime) -> list[VersionPlan]:
    """What to keep and remove of one project, newest version first."""
    by_version: dict[Version, list[IndexFile]] = {}
    for file in project.files:
        by_version.setdefault(Version(file.version), []).append(file)
    pins = {Version(pin) for pin in rule.pins}
    plans = []
    for rank, version in enumerate(sorted(by_version, reverse=True)):
        files = tuple(by_version[version])
        why = _reason_to_keep(rank, version, files, rule, pins, now)
        plans.append(
            VersionPlan(
                project=project.name,
                version=str(version),
                files=files,
                remove=why is None,
                why=why or _reason_to_remove(rule),
            )
        )
    return _keep_one_installable(plans)


def _reason_to_keep(
    rank: int,
    version: Version,
    files: Sequence[IndexFile],
    rule: Retention,
    pins: set[Version],
    now: datetime,
) -> str | None:
    if rank < rule.keep:
        return f"one of the newest {rule.keep}"
    if version in pins:
        return "pinned in pkgindex.toml"
    for pattern in rule.keep_patterns:
        if fnmatchcase(str(version), pattern) or any(
            fnmatchcase(f.filename, pattern) for f in files
        ):
            return f"matches {pattern}"
    if rule.older_than is not None and max(f.upload_time for f in files) > now - rule.older_than:
        return f"uploaded in the last {rule.older_than.days} days"
    return None


def _reason_to_remove(rule: Retention) -> str:
    text = f"older than the newest {rule.keep}"
    if rule.older_than is not None:
        text += f", uploaded over {rule.older_than.days} days ago"
    return text


def _keep_one_installable(plans: list[VersionPlan]) -> list[VersionPlan]:
    """If only yanked files would stay, keep the newest version that has a file not yanked."""

    def installable(plan: VersionPlan) -> bool:
        return any(f.yanked is None for f in plan.files)

    if any(installable(plan) for plan in plans if not plan.remove):
        return plans
    for index, plan in enumerate(plans):
        if plan.remove and installable(plan):
            plans[index] = VersionPlan(
                project=plan.project,
                version=plan.version,
                files=plan.files,
                remove=False,
                why="newest version not yanked (never leave only yanked files)",
            )
            break
    return plans


def prune(
    store: Store,
    names: Sequence[str],
    *,
    keep: int,
    older_than_days: int | None = None,
    keep_patterns: Sequence[str] = (),
    apply: bool = False,
    clock: Clock | None = None,
) -> PruneReport:
    """Plan (and with ``apply``, carry out) the removals for NAMES, or every project."""
    if keep < 1:
        raise ConfigError(
            f"--keep {keep}: prune keeps at least the newest version",
            hint="pass --keep 1 or more; use 'pkgindex remove' to take out every version",
        )
    if older_than_days is not None and older_than_days < 0:
        raise ConfigError(f"--older-than {older_than_days}: a number of days must not be negative")
    now = (clock or (lambda: datetime.now(UTC)))()
    with store.lock():
        config = pages.load_store_config(store)
        plans: list[VersionPlan] = []
        for name in _project_names(store, names):
            rule = Retention(
                keep=keep,
                older_than=None if older_than_days is None else timedelta(days=older_than_days),
                keep_patterns=tuple(keep_patterns),
                pins=config.project(name).keep,
            )
            plans += _prune_project(store, name, rule, now, apply=apply)
    return PruneReport(plans=tuple(plans), applied=apply)


def _prune_project(
    store: Store, name: str, rule: Retention, now: datetime, *, apply: bool
) -> list[VersionPlan]:
    """Plan one project (and apply the plan), on the catalog as it is when its pages are
    written (another writer may have changed it)."""
    planned: list[VersionPlan] = []

    def change(project: Project) -> Project | None:
        planned[:] = plan_project(project, rule, now)
        files = [f for plan in planned if plan.remove for f in plan.files]
        if not apply or not files:
            return None
        return without_files(project, files, reason=f"pruned (keep {rule.keep})", now=now)

    project, _ = change_project(store, name, change)
    if apply:
        removed = [f.filename for plan in planned if plan.remove for f in plan.files]
        delete_files(store, project.name, removed)
    return planned


def _project_names(store: Store, names: Sequence[str]) -> list[str]:
    """The named projects (every unknown name reported at once), or all of them."""
    if not names:
        state = pages.read_root_state(store)
        return list(state.names or [folder.name for folder in scan_root(store)[0]])
    found: list[str] = []
    problems: list[PkgIndexError] = []
    for name in dict.fromkeys(names):
        project = load_project(store, name)
        if project is None:
            problems.append(
                PkgIndexError(
                    f"{name}: no such project in {store.location}",
                    hint="check the name (see the root page), or pass the index root with --root",
                )
            )
        else:
            found.append(project.name)
    if problems:
        raise ValidationError(problems) if len(problems) > 1 else problems[0]
    return found
