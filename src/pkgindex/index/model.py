"""The index model: projects and their files, as the simple API describes them.

One model, rendered to both HTML and JSON (render.py), and read back from the published JSON
pages (catalog.py), which are the catalog: a fresh clone regenerates byte-identical output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Literal, get_args

from packaging.utils import NormalizedName
from packaging.version import Version

from pkgindex.index.pickled import by_constructor

UPLOAD_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
StatusName = Literal["active", "archived", "quarantined", "deprecated"]
STATUSES: tuple[StatusName, ...] = get_args(StatusName)


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class IndexFile:
    """One distribution file of a project, with everything its links advertise."""

    filename: str
    version: str  # str(Version(...)) of the filename's version
    sha256: str
    size: int
    upload_time: datetime  # aware, UTC
    requires_python: str | None = None
    metadata_sha256: str | None = None  # wheels: hash of the <file>.metadata file (PEP 658)
    yanked: str | None = None  # None: not yanked; "" yanked without a reason
    provenance: Mapping[str, Any] | None = None  # how it was built (pull mode), private data
    extra: Mapping[str, Any] = field(default_factory=dict)  # other private data (e.g. replaced)
    # the parsed version, once: pages sort a project's files several times
    _sort_key: tuple[Version, str] | None = field(
        default=None,
        init=False,  # mutate: skip (nobody passes it: a parameter would change nothing)
        repr=False,  # mutate: skip (a repr shows it or not: no behaviour)
        compare=False,
    )

    @classmethod
    def of_version(cls, version: Version, **fields: Any) -> IndexFile:
        """A file whose version is parsed already (from its filename): it is its sort key, not
        parsed again from ``str(version)``, which compares equal to it."""
        file = cls(version=str(version), **fields)
        object.__setattr__(file, "_sort_key", (version, file.filename))  # the cache, filled
        return file

    @property
    def sort_key(self) -> tuple[Version, str]:
        key = self._sort_key
        if key is None:
            key = (Version(self.version), self.filename)
            object.__setattr__(self, "_sort_key", key)  # a cache: the file itself is unchanged
        return key


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class Tombstone:
    """A removed file: its name and bytes are remembered so it never returns with other bytes."""

    filename: str
    sha256: str
    removed_at: datetime  # aware, UTC
    reason: str | None = None


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectStatus:
    """A PEP 792 project status marker (no marker means "active")."""

    status: StatusName
    reason: str | None = None

    @property
    def offers_files(self) -> bool:
        """A quarantined project MUST NOT offer its files (PEP 792)."""
        return self.status != "quarantined"

    @property
    def accepts_uploads(self) -> bool:
        """Archived and quarantined projects MUST NOT accept new files (PEP 792)."""
        return self.status in ("active", "deprecated")


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    name: NormalizedName
    files: tuple[IndexFile, ...] = ()
    status: ProjectStatus | None = None
    removed: tuple[Tombstone, ...] = ()  # in removal order
    # latest_version(offered), once: both pages and the summary show it
    _latest: tuple[str | None] | None = field(
        default=None,
        init=False,  # mutate: skip (nobody passes it: a parameter would change nothing)
        repr=False,  # mutate: skip (a repr shows it or not: no behaviour)
        compare=False,
    )

    @classmethod
    def from_files(
        cls,
        name: NormalizedName,
        files: Iterable[IndexFile],
        *,
        status: ProjectStatus | None = None,
        removed: Iterable[Tombstone] = (),
    ) -> Project:
        """A project with its files in version order (epochs included), then by filename."""
        kept = tuple(sorted(files, key=lambda f: f.sort_key))
        names = {file.filename for file in kept}
        tombstones = tuple(t for t in removed if t.filename not in names)  # restored ones go
        return cls(name=name, files=kept, status=status, removed=tombstones)

    def with_files(self, files: Iterable[IndexFile]) -> Project:
        """The same project (status, tombstones) with other files."""
        return Project.from_files(self.name, files, status=self.status, removed=self.removed)

    def tombstone(self, filename: str) -> Tombstone | None:
        if not self.removed:  # mutate: skip (speed only: a cold run asks for every file)
            return None
        return next((t for t in reversed(self.removed) if t.filename == filename), None)

    @property
    def offered(self) -> tuple[IndexFile, ...]:
        """The files the pages link to: none while the project is quarantined."""
        return self.files if self.status is None or self.status.offers_files else ()

    @property
    def latest(self) -> str | None:
        """The newest version offered with a file that is not yanked; else the newest offered."""
        latest = self._latest
        if latest is None:
            latest = (latest_version(self.offered),)
            object.__setattr__(self, "_latest", latest)  # a cache: the project is unchanged
        return latest[0]

    @property
    def versions(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for file in self.files:
            seen.setdefault(file.version, None)
        return tuple(seen)

    def file(self, filename: str) -> IndexFile | None:
        return next((f for f in self.files if f.filename == filename), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteInfo:
    """What the pages say about the index as a whole."""

    title: str
    url: str | None = None


def format_upload_time(moment: datetime) -> str:
    """``UPLOAD_TIME_FORMAT``, written the fast way (pages hold one per file and project)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"  # without "+00:00"


def parse_upload_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)  # Python 3.11 reads the "Z"


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectSummary:
    """What the root page shows of a project (kept in the root page's private state)."""

    name: NormalizedName
    version: str | None = None  # the latest version (not yanked, if there is one)
    files: int = 0
    last_upload: datetime | None = None
    status: StatusName | None = None
    requires: tuple[str, ...] = ()  # normalized names the latest wheel depends on

    @classmethod
    def from_project(cls, project: Project, requires: Iterable[str] = ()) -> ProjectSummary:
        files = project.offered
        return cls(
            name=project.name,
            version=project.latest,
            files=len(files),
            last_upload=max((f.upload_time for f in files), default=None),
            status=project.status.status if project.status else None,
            requires=tuple(sorted(set(requires))),
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"version": self.version, "files": self.files}
        if self.last_upload is not None:
            document["last-upload"] = format_upload_time(self.last_upload)
        if self.status:
            document["status"] = self.status
        if self.requires:
            document["requires"] = list(self.requires)
        return document

    @classmethod
    def from_json(cls, name: str, document: Mapping[str, Any]) -> ProjectSummary:
        """Raises ValueError, KeyError or TypeError on a damaged entry."""
        status = document.get("status")
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        last = document.get("last-upload")
        version = document.get("version")
        return cls(
            name=NormalizedName(name),
            version=None if version is None else str(version),
            files=int(document["files"]),
            last_upload=parse_upload_time(last) if last else None,
            status=status,
            requires=tuple(str(n) for n in document.get("requires", ())),
        )


def latest_version(files: Iterable[IndexFile]) -> str | None:
    """The newest version with a file that is not yanked; else the newest version."""
    files = tuple(files)
    # max() keeps the first of equal keys, as a stable sort would put it first
    usable = max((f for f in files if f.yanked is None), key=_SORT_KEY, default=None)
    chosen = usable or max(files, key=_SORT_KEY, default=None)
    return chosen.version if chosen else None


_SORT_KEY = attrgetter("sort_key")
