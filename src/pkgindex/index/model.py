"""The index model: projects and their files, as the simple API describes them.

One model, rendered to both HTML and JSON (render.py), and read back from the published JSON
pages (catalog.py), which are the catalog: a fresh clone regenerates byte-identical output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

UPLOAD_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


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

    @property
    def sort_key(self) -> tuple[Version, str]:
        return (Version(self.version), self.filename)


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    name: NormalizedName
    files: tuple[IndexFile, ...] = ()

    @classmethod
    def from_files(cls, name: NormalizedName, files: Iterable[IndexFile]) -> Project:
        """A project with its files in version order (epochs included), then by filename."""
        return cls(name=name, files=tuple(sorted(files, key=lambda f: f.sort_key)))

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
    return moment.astimezone(UTC).strftime(UPLOAD_TIME_FORMAT)


def parse_upload_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
