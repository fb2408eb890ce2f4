"""The index's pages, held in memory and refreshed when the store changes.

The server never renders or scans: the index core writes ``index.html`` and ``index.json``
for the root and for every project, and the server serves those bytes. Each page is read once
and kept with a change marker from the store (a folder gives the JSON page's inode, size and
modification time, one ``stat``). A cached page is checked against its marker at most once per
``ttl`` seconds: with ``ttl=0`` (the default for a folder) every request sees a change made by
this process, another worker, another replica or a ``pkgindex add`` on the same root; a store
whose check costs a round trip (a bucket) uses a longer ``ttl``, which bounds how stale a page
can be.

``PageSource`` is the seam to the store: ``version`` (a cheap change marker) and ``read``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from packaging.utils import NormalizedName

from pkgindex.errors import IntegrityError
from pkgindex.index.catalog import project_from_json
from pkgindex.index.model import Project
from pkgindex.index.scan import PAGE_HTML, PAGE_JSON
from pkgindex.server.http import PageFormat
from pkgindex.stores.base import Store
from pkgindex.stores.local import LocalStore

_GZIP_THRESHOLD = 1024  # bytes; smaller pages are sent as they are


class PageSource(Protocol):
    """Where pages and files are read from: a folder directly, any store through StoreSource."""

    def version(self, key: str) -> Hashable | None:
        """A value that changes whenever the object at ``key`` changes; None if it is absent."""

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if it is absent."""

    def size(self, key: str) -> int | None:
        """The object's size, or None if it is absent."""

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """Stream the object (FileNotFoundError if it is absent)."""


@dataclass(frozen=True, slots=True)
class FolderSource:
    """A local index folder: pages and files under ``root``."""

    root: Path

    def version(self, key: str) -> Hashable | None:
        try:
            info = os.stat(f"{self.root}/{key}")
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def read(self, key: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, key), "rb") as handle:
                return handle.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def size(self, key: str) -> int | None:
        try:
            return os.stat(f"{self.root}/{key}").st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        return open(f"{self.root}/{key}", "rb")


@dataclass(frozen=True, slots=True)
class StoreSource:
    """Any store (a bucket): a check is a ``stat`` (a HEAD request), so pages are checked
    once per page TTL, not on every request."""

    store: Store

    def version(self, key: str) -> Hashable | None:
        info = self.store.stat(key)
        return info.etag if info is not None else None

    def read(self, key: str) -> bytes | None:
        found = self.store.read(key)
        return found.data if found is not None else None

    def size(self, key: str) -> int | None:
        info = self.store.stat(key)
        return info.size if info is not None else None

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        return self.store.open(key)


def source_for(store: Store) -> PageSource:
    """A folder is read directly (cheaper per request than through the store's checks)."""
    if isinstance(store, LocalStore):
        return FolderSource(store.root)
    return StoreSource(store)


@dataclass(frozen=True, slots=True)
class Body:
    """One representation of a page: its bytes, gzipped bytes (if worth it) and ETags."""

    data: bytes
    etag: str
    gzipped: bytes | None
    gzip_etag: str

    @classmethod
    def of(cls, data: bytes) -> Body:
        digest = hashlib.blake2b(data, digest_size=12).hexdigest()
        gzipped = gzip.compress(data, 6, mtime=0) if len(data) >= _GZIP_THRESHOLD else None
        return cls(data, f'"{digest}"', gzipped, f'"{digest}-gzip"')


@dataclass(frozen=True, slots=True)
class Page:
    """A page in both forms, and the catalog entry behind it (None for the root page)."""

    html: Body
    json: Body
    project: Project | None

    def body(self, page_format: PageFormat) -> Body:
        return self.html if page_format == "html" else self.json


@dataclass(slots=True)
class _Entry:
    marker: Hashable
    checked: float
    page: Page


@dataclass(slots=True)
class PageCache:
    """Pages by project name ("" for the root), read from ``source`` and checked every ``ttl``."""

    source: PageSource
    ttl: float = 0.0
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _Entry] = field(default_factory=dict)

    def root(self) -> Page | None:
        return self._get("")

    def project(self, name: NormalizedName) -> Page | None:
        return self._get(name)

    def forget(self, name: str) -> None:
        """Drop a page this process changed, so that the next request reads it again."""
        self._entries.pop(name, None)

    def _get(self, name: str) -> Page | None:
        now = self.clock()
        entry = self._entries.get(name)
        if entry is not None and now - entry.checked < self.ttl:
            return entry.page
        prefix = f"{name}/" if name else ""
        marker = self.source.version(prefix + PAGE_JSON)
        if entry is not None and marker == entry.marker:
            entry.checked = now
            return entry.page
        if marker is None:
            self._entries.pop(name, None)
            return None
        page = self._load(name, prefix)
        if page is None:
            self._entries.pop(name, None)
            return None
        self._entries[name] = _Entry(marker, now, page)
        return page

    def _load(self, name: str, prefix: str) -> Page | None:
        json_bytes = self.source.read(prefix + PAGE_JSON)
        html_bytes = self.source.read(prefix + PAGE_HTML)
        if json_bytes is None or html_bytes is None:
            return None
        project = None
        if name:
            try:
                project = project_from_json(
                    json_bytes, name=NormalizedName(name), origin=prefix + PAGE_JSON
                )
            except IntegrityError:
                return None
        return Page(Body.of(html_bytes), Body.of(json_bytes), project)
