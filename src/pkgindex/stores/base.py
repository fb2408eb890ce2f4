"""The Store protocol: where an index's files and pages live.

The index core never sees a path or a URL. It is handed a :class:`Store` (as pypa/installer's
``install()`` is handed its destination) and asks it to list, read, create, replace and delete
objects named by *keys*: ``/``-separated paths relative to the index root, such as
``index.json``, ``dace/index.html`` or ``dace/dace-1.0-py3-none-any.whl``.

Two rules make many writers safe without a lock server:

- distribution files and ``.metadata`` files are *created*, never overwritten
  (:meth:`Store.create`): the same bytes again is a no-op, other bytes a :class:`ConflictError`;
- pages are *replaced* conditionally (:meth:`Store.replace`) on the ETag they were read with;
  a :class:`StaleError` tells the caller to re-read, merge and try again.

A folder store also serialises writers with a lock (:meth:`Store.lock`); a bucket store's lock
is a no-op and the conditions above do the work.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, Literal, Protocol

from pkgindex.errors import PkgIndexError
from pkgindex.errors import StaleError as StaleError  # part of the protocol

ANY: Final = "*"  # mutate: skip (a sentinel: any string no real ETag is will do)
"""``replace(..., etag=ANY)``: replace whatever is there (or create it)."""

JSON_ROOT: Final = "_json"
"""Where a bucket keeps its PEP 691 JSON root (endpoint configuration). Never a project name:
normalized names start with a letter or digit."""

SIMPLE_JSON: Final = "application/vnd.pypi.simple.v1+json"
PAGE_CACHE: Final = "public, max-age=60"
IMMUTABLE_CACHE: Final = "public, max-age=31536000, immutable"

KeyKind = Literal["page-html", "page-json", "distribution", "metadata", "config", "other"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectInfo:
    size: int
    etag: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Versioned:
    """An object's bytes with the ETag they were read at (for a conditional replace)."""

    data: bytes
    etag: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RootListing:
    folders: tuple[str, ...]  # top-level folder names, sorted, dot-names left out
    files: tuple[str, ...]  # top-level file names, sorted
    # folder -> a stamp that changes whenever an entry of the folder is added, removed or
    # renamed (a folder store: inode, mtime and ctime); only for folders whose last change is
    # old enough to tell the next one apart. Empty where the store has no such thing.
    stamps: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """One folder's objects. ``sizes`` holds the names the caller asked sizes for (see
    :meth:`Store.list_folder`), ``names`` every other object; ``problems`` the entries the store
    refuses to serve (a symbolic link that leaves the root)."""

    sizes: Mapping[str, int]
    names: frozenset[str]
    etags: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[PkgIndexError, ...] = ()


class Store(Protocol):
    """Where an index lives. Implementations: :class:`pkgindex.stores.local.LocalStore`,
    :class:`pkgindex.stores.s3.BucketStore`."""

    @property
    def location(self) -> str:
        """The root as the user wrote it (a folder, ``s3://bucket/prefix``), for messages."""
        ...

    def describe(self, key: str) -> str:
        """Where one key lives, for messages (a path or an ``s3://`` URL)."""
        ...

    @property
    def writes_in_processes(self) -> bool:
        """Whether a copy of the store, pickled into worker processes, can write (a folder:
        CPU-bound creation of many small files uses every core); False where writes wait on
        the network (a bucket: threads overlap them)."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Exclusive access for one run where the store can give it (a folder's flock); a
        no-op where it cannot (a bucket), where conditional writes keep writers safe."""
        ...

    def exists(self) -> bool:
        """Whether the root exists (a folder, a bucket)."""
        ...

    def list_root(self) -> RootListing: ...

    @property
    def cache_key(self) -> str | None:
        """What identifies this root on this machine, for a cache of what runs learned about
        it (see pkgindex.index.scancache); None where nothing is cached (a bucket)."""
        ...

    def list_folder(self, folder: str, *, sized: Callable[[str], bool]) -> Listing | None:
        """The objects directly in ``folder``; None if there are none. Sizes are reported for
        the names where ``sized(name)`` is true (a folder store pays a ``stat`` for each)."""
        ...

    def read(self, key: str, *, max_size: int | None = None) -> Versioned | None:
        """The whole object, or None if it does not exist. Over ``max_size`` bytes is an
        IntegrityError naming the key."""
        ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """Stream an object (FileNotFoundError if it does not exist)."""
        ...

    def stat(self, key: str) -> ObjectInfo | None: ...

    def local_paths(self, keys: Sequence[str]) -> AbstractContextManager[Mapping[str, str]]:
        """Local files holding these objects' bytes while the context is open (the files
        themselves for a folder store, downloaded copies for a bucket), as text: a cold run
        asks for thousands, and they go to worker processes."""
        ...

    def create(
        self,
        key: str,
        source: bytes | Path,
        *,
        atomic: bool = True,  # mutate: skip (a protocol's signature: no code runs)
    ) -> bool:
        """Create an immutable object. True if created; False if the same bytes are already
        there; ConflictError naming the key if other bytes are.

        ``atomic=False`` lets a store create ``bytes`` in place, without a temporary object and
        a rename, so that a crash can leave it partly written: only for an object nothing
        refers to until a later write commits it, and that the next run rewrites if that
        commit never happened (the .metadata file of a wheel not yet in the catalog)."""
        ...

    def replace(self, key: str, data: bytes, *, etag: str | None) -> bool:
        """Atomically replace a page. ``etag`` is the ETag it was read with (None: it did not
        exist; :data:`ANY`: unconditional). False if it already holds these bytes; StaleError
        if it changed since it was read."""
        ...

    def overwrite(self, key: str, source: Path) -> None:
        """Replace a distribution file unconditionally (``add --replace`` only)."""
        ...

    def delete(self, key: str) -> bool:
        """Remove an object; False if it did not exist."""
        ...


# --- what each key is -----------------------------------------------------------------------


def key_kind(key: str) -> KeyKind:
    name = posixpath.basename(key)
    if name == "index.html" or key.endswith("/") or key == "":
        return "page-html" if not key.startswith(JSON_ROOT) else "page-json"
    if name == "index.json":
        return "page-json"
    if name.endswith(".metadata"):
        return "metadata"
    if name.endswith((".whl", ".tar.gz", ".zip")):
        return "distribution"
    if key == "pkgindex.toml":
        return "config"
    return "other"


_CONTENT_TYPES: Final[Mapping[KeyKind, str]] = {
    "page-html": "text/html; charset=utf-8",
    "page-json": SIMPLE_JSON,
    "metadata": "text/plain; charset=utf-8",
    "config": "text/plain; charset=utf-8",
    "other": "application/octet-stream",
}


def content_type(key: str) -> str:
    """The Content-Type an object is served with."""
    kind = key_kind(key)
    if kind == "distribution":
        return "application/zip" if key.endswith((".whl", ".zip")) else "application/gzip"
    return _CONTENT_TYPES[kind]


def cache_control(key: str) -> str:
    """Short for pages (they change), immutable for distribution and metadata files."""
    return IMMUTABLE_CACHE if key_kind(key) in ("distribution", "metadata") else PAGE_CACHE


def check_key(key: str) -> str:
    """Refuse keys that could leave the root (``..``, absolute, empty parts)."""
    # "" and "/x" have an empty part too
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise PkgIndexError(f"{key!r}: not a valid path inside the index")
    return key
