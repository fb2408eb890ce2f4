"""Read the published PEP 691 JSON pages back into the model: they are the catalog."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion

from pkgindex.errors import IntegrityError, InvalidDistributionError
from pkgindex.index.distfile import parse_filename
from pkgindex.index.model import (
    STATUSES,
    IndexFile,
    Project,
    ProjectStatus,
    ProjectSummary,
    Tombstone,
    parse_upload_time,
)
from pkgindex.index.render import PRIVATE_KEY

# A project page lists each file in about 400 bytes: 64 MiB is over 100,000 files.
MAX_CATALOG_SIZE = 64 << 20
MAX_DEPTH = 16  # nesting of the JSON document (ours is 5 deep; provenance adds a little)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def project_from_json(data: bytes, *, name: NormalizedName, origin: str) -> Project:
    """Parse a project's index.json; raise IntegrityError naming the file if it is damaged.

    Whoever can write the catalog (a pull request to the index repository) is not trusted:
    every value is checked before it reaches the model, and so the pages.
    """
    try:
        document = _load_json(data)
        if not isinstance(document, dict) or document.get("name") != name:
            found = document.get("name") if isinstance(document, dict) else None
            raise ValueError(f"it describes project {found!r}, not {name!r}")
        entries = document["files"]
        if not isinstance(entries, list):
            raise TypeError("'files' must be a list")
        files = [_file_from_json(entry) for entry in entries]
        private = _typed(document, PRIVATE_KEY, dict, default={})
        files += [_file_from_json(entry) for entry in _list(private, "withheld")]
        removed = [_tombstone_from_json(entry) for entry in _list(private, "removed")]
        status = _status_from_json(document.get("project-status"))
    except (
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OverflowError,
        InvalidVersion,
        InvalidDistributionError,
    ) as exc:
        raise IntegrityError(
            f"{origin}: the catalog page is damaged ({_describe(exc)})",
            hint="restore it from version control (git checkout -- FILE); deleting it re-indexes "
            "the folder but resets upload times",
        ) from exc
    return Project.from_files(name, files, status=status, removed=removed)


def _status_from_json(value: Any) -> ProjectStatus | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("'project-status' must be an object")
    status = value.get("status")
    if status not in STATUSES:
        raise ValueError(f"unknown project status {repr(status)[:40]}")
    return ProjectStatus(status=status, reason=_optional_text(value, "reason"))


def _tombstone_from_json(entry: Any) -> Tombstone:
    if not isinstance(entry, dict):
        raise TypeError("a removed file must be an object")
    filename = parse_filename(_typed(entry, "filename", str)).filename
    return Tombstone(
        filename=filename,
        sha256=_sha256(entry.get("sha256"), filename, "removed"),
        removed_at=parse_upload_time(_typed(entry, "removed-at", str)),
        reason=_optional_text(entry, "reason"),
    )


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key!r} must be a list")
    return value


def _optional_text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{key!r} must be a string")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class RootState:
    """What the root index.json remembers: the project list and private state (render format,
    site settings, folder fingerprints)."""

    names: tuple[str, ...] = ()
    private: Mapping[str, Any] = field(default_factory=dict)
    etags: Mapping[str, str] = field(default_factory=dict)  # of the root pages, as read
    _summaries: Mapping[str, ProjectSummary] | None = field(  # a cache of .summaries
        default=None,
        init=False,  # mutate: skip (nobody passes it: a parameter would change nothing)
        repr=False,  # mutate: skip (a repr shows it or not: no behaviour)
        compare=False,
    )

    @property
    def fingerprints(self) -> Mapping[str, str]:
        value = self.private.get("fingerprints")
        return value if isinstance(value, dict) else {}

    @property
    def summaries(self) -> Mapping[str, ProjectSummary]:
        """The root page's line for each project, as last written; damaged entries are left out
        (they are derived data, recomputed from the project's catalog page). Read once."""
        if self._summaries is not None:
            return self._summaries
        value = self.private.get("summaries")
        found: dict[str, ProjectSummary] = {}
        for name, entry in (value if isinstance(value, dict) else {}).items():
            try:
                found[name] = ProjectSummary.from_json(name, entry)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # mutate: skip (the loop body's last statement: pass is the same)
        read = MappingProxyType(found)
        object.__setattr__(self, "_summaries", read)
        return read


def root_state(data: bytes, *, etags: Mapping[str, str] | None = None) -> RootState:
    """Read the root index.json; a damaged one is as good as none (it is all derived data)."""
    etags = dict(etags or {})
    try:
        document = _load_json(data)
        names = tuple(entry["name"] for entry in document["projects"])
        if not all(isinstance(name, str) and _is_normalized(name) for name in names):
            raise ValueError("a project name that is not normalized")
        private = document.get(PRIVATE_KEY, {})
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
        return RootState(etags=etags)
    private = private if isinstance(private, dict) else {}
    return RootState(names=names, private=private, etags=etags)


def _load_json(data: bytes) -> Any:
    if len(data) > MAX_CATALOG_SIZE:
        raise ValueError(f"{len(data)} bytes, more than the limit of {MAX_CATALOG_SIZE}")
    try:
        document = json.loads(data)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    if _depth(document, MAX_DEPTH) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    return document


def _depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests, counting no further than ``limit + 1``: level by level, so
    that the many leaves of a big page cost a type check each, not a call."""
    depth = 0
    level = [value] if isinstance(value, dict | list) else []
    while level and depth <= limit:
        depth += 1
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
    return depth


def _file_from_json(entry: Mapping[str, Any]) -> IndexFile:
    filename = _typed(entry, "filename", str)
    private = dict(_typed(entry, PRIVATE_KEY, dict, default={}))
    provenance = private.pop("provenance", None)
    if provenance is not None and not isinstance(provenance, dict):
        raise TypeError(f"{filename}: provenance must be an object")
    yanked = entry.get("yanked", False)
    if not isinstance(yanked, bool | str):
        raise TypeError(f"{filename}: 'yanked' must be true, false or a reason")
    metadata = entry.get("core-metadata")
    metadata_sha256 = None
    if isinstance(metadata, dict):
        metadata_sha256 = _sha256(metadata.get("sha256"), filename, "core-metadata")
    elif metadata not in (None, False):
        raise TypeError(f"{filename}: 'core-metadata' must be an object with a sha256")
    return IndexFile(
        filename=filename,
        version=str(parse_filename(filename).version),
        sha256=_sha256(_typed(entry, "hashes", dict).get("sha256"), filename, "hashes"),
        size=_size(entry.get("size"), filename),
        upload_time=parse_upload_time(_typed(entry, "upload-time", str)),
        requires_python=_requires_python(entry.get("requires-python"), filename),
        metadata_sha256=metadata_sha256,
        yanked=None if yanked is False else ("" if yanked is True else yanked),
        provenance=provenance,
        extra=private,
    )


def _typed(entry: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = entry.get(key, default)
    if not isinstance(value, kind):
        raise TypeError(f"{key!r} must be a JSON {'string' if kind is str else 'object'}")
    return value


def _sha256(value: object, filename: str, key: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValueError(f"{filename}: {key} sha256 {repr(value)[:80]} is not 64 hex digits")
    return value


def _size(value: object, filename: str) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{filename}: size {repr(value)[:40]} is not a whole number of bytes")
    return value


def _requires_python(value: object, filename: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{filename}: 'requires-python' must be a string")
    from packaging.specifiers import SpecifierSet  # deferred: a warm run reads no project page

    SpecifierSet(value)  # InvalidSpecifier is a ValueError
    return value


def _is_normalized(name: str) -> bool:
    try:
        return canonicalize_name(name, validate=True) == name
    except InvalidName:
        return False


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return text[:200] if text and not isinstance(exc, KeyError) else f"missing {exc}"
