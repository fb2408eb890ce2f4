"""Read the published PEP 691 JSON pages back into the model: they are the catalog."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion

from pkgindex.errors import IntegrityError, InvalidDistributionError
from pkgindex.index.distfile import parse_filename
from pkgindex.index.model import IndexFile, Project, parse_upload_time
from pkgindex.index.render import PRIVATE_KEY


def project_from_json(data: bytes, *, name: NormalizedName, origin: str) -> Project:
    """Parse a project's index.json; raise IntegrityError naming the file if it is damaged."""
    try:
        document = json.loads(data)
        if document.get("name") != name:
            raise ValueError(f"it describes project {document.get('name')!r}, not {name!r}")
        files = [_file_from_json(entry) for entry in document["files"]]
    except (
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        InvalidVersion,
        InvalidDistributionError,
    ) as exc:
        raise IntegrityError(
            f"{origin}: the catalog page is damaged ({exc})",
            hint="restore it from version control (git checkout -- FILE); deleting it re-indexes "
            "the folder but resets upload times",
        ) from exc
    return Project.from_files(name, files)


@dataclass(frozen=True, slots=True, kw_only=True)
class RootState:
    """What the root index.json remembers: the project list and private state (render format,
    site settings, folder fingerprints)."""

    names: tuple[str, ...] = ()
    private: Mapping[str, Any] = field(default_factory=dict)
    etags: Mapping[str, str] = field(default_factory=dict)  # of the root pages, as read

    @property
    def fingerprints(self) -> Mapping[str, str]:
        value = self.private.get("fingerprints")
        return value if isinstance(value, dict) else {}


def root_state(data: bytes, *, etags: Mapping[str, str] | None = None) -> RootState:
    """Read the root index.json; a damaged one is as good as none (it is all derived data)."""
    etags = dict(etags or {})
    try:
        document = json.loads(data)
        names = tuple(str(entry["name"]) for entry in document["projects"])
        private = document.get(PRIVATE_KEY, {})
    except (ValueError, KeyError, TypeError, AttributeError):
        return RootState(etags=etags)
    private = private if isinstance(private, dict) else {}
    return RootState(names=names, private=private, etags=etags)


def _file_from_json(entry: Mapping[str, Any]) -> IndexFile:
    filename = entry["filename"]
    if not isinstance(filename, str):
        raise TypeError("filename must be a string")
    private = dict(entry.get(PRIVATE_KEY) or {})
    provenance = private.pop("provenance", None)
    yanked = entry.get("yanked", False)
    metadata = entry.get("core-metadata")
    return IndexFile(
        filename=filename,
        version=str(parse_filename(filename).version),
        sha256=str(entry["hashes"]["sha256"]),
        size=int(entry["size"]),
        upload_time=parse_upload_time(entry["upload-time"]),
        requires_python=entry.get("requires-python"),
        metadata_sha256=metadata.get("sha256") if isinstance(metadata, dict) else None,
        yanked=None if yanked is False else ("" if yanked is True else str(yanked)),
        provenance=provenance,
        extra=private,
    )
