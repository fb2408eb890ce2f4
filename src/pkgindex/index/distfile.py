"""Pure functions on one distribution file: parse its name, read its core metadata, hash it.

Nothing here knows about the index; the only I/O is reading the one file it is given.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from packaging.utils import (
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pkgindex.errors import InvalidDistributionError
from pkgindex.index.pickled import by_constructor

DistKind = Literal["wheel", "sdist"]
SDIST_SUFFIXES = (".tar.gz", ".zip")
DIST_SUFFIXES = (".whl", *SDIST_SUFFIXES)
# bytes; larger files are hashed in chunks (the same digest and metadata either way)
_READ_WHOLE_LIMIT = 16 << 20  # mutate: skip (a speed trade-off: both paths give equal results)
_PUNCTUATION = "._-!+"  # mutate: skip (its mutant adds "X", a letter allowed anyway)
_FILENAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + _PUNCTUATION)
# file systems allow 255 bytes per name, and the PEP 658 file adds ".metadata"
MAX_FILENAME_LENGTH = 255 - len(".metadata")
_FIELDS = frozenset({"name", "version", "requires-python"})


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class DistFilename:
    """What a distribution's filename says about it."""

    filename: str
    name: NormalizedName
    version: Version
    kind: DistKind
    # name and version exactly as written in the filename (for the .dist-info folder)
    raw_stem: str

    @property
    def raw_version(self) -> str:
        """The version exactly as written in the filename."""
        if self.kind == "sdist":
            return self.raw_stem.rpartition("-")[2]  # as parse_sdist_filename splits it
        return self.raw_stem.partition("-")[2]  # a wheel's name has no "-"


@by_constructor
@dataclass(frozen=True, slots=True, kw_only=True)
class Inspected:
    """Everything the index needs to know about one file's contents."""

    dist: DistFilename
    sha256: str
    size: int
    requires_python: str | None
    metadata: bytes | None  # a wheel's METADATA bytes, verbatim (PEP 658)


def is_distribution_filename(filename: str) -> bool:
    return filename.endswith(DIST_SUFFIXES)


def parse_filename(filename: str) -> DistFilename:
    """Parse a wheel or sdist filename; raise InvalidDistributionError if it is neither."""
    check_safe_filename(filename)
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            raw_stem = "-".join(filename.split("-")[:2])
            return DistFilename(
                filename=filename, name=name, version=version, kind="wheel", raw_stem=raw_stem
            )
        if filename.endswith(SDIST_SUFFIXES):
            name, version = parse_sdist_filename(filename)
            raw_stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
            return DistFilename(
                filename=filename, name=name, version=version, kind="sdist", raw_stem=raw_stem
            )
    except ValueError as exc:  # Invalid{Wheel,Sdist}Filename, InvalidVersion, a huge number
        raise InvalidDistributionError(
            f"{filename}: not a valid distribution filename: {exc}",
            hint="wheels are named NAME-VERSION(-BUILD)?-PY-ABI-PLATFORM.whl (PEP 427), "
            "sdists NAME-VERSION.tar.gz (PEP 625)",
        ) from exc
    raise InvalidDistributionError(
        f"{filename}: not a distribution file",
        hint="only .whl, .tar.gz and .zip files can be indexed",
    )


def preference_conflict(filename: str, published: str) -> str | None:
    """Why installers would choose ``filename`` over ``published``, a file of the same version
    already in the index, for some environment; None if they would not.

    pip and uv pick, among the files of one version that fit, the best-ranked tag and then the
    highest build tag; a second spelling of the version (2.0.0 beside 2.0) or a second sdist
    competes on equal terms, so which file is installed is no longer the published one.
    """
    new, old = parse_filename(filename), parse_filename(published)
    if filename == published or new.version != old.version:
        return None
    if new.kind == "sdist" or old.kind == "sdist":
        return "a second sdist of the version" if new.kind == old.kind else None
    _, _, new_build, new_tags = parse_wheel_filename(filename)
    _, _, old_build, old_tags = parse_wheel_filename(published)
    if not new_tags & old_tags or new_build < old_build:
        return None
    if new_build > old_build:
        return "a higher build tag"
    if new.raw_stem != old.raw_stem:
        return "the same tags under another spelling of the name or version"
    return "the same tags"


def check_safe_filename(filename: str) -> None:
    """Refuse names that could escape a folder or break a page or URL.

    packaging parses the name and version strictly but accepts any text as a wheel tag, so
    ``x-1.0-py3-none-<script>.whl`` would pass it; every character a valid wheel or sdist
    filename can hold is in ``_FILENAME_CHARACTERS``.
    """
    if filename in ("", ".", "..") or not _FILENAME_CHARACTERS.issuperset(filename):
        raise InvalidDistributionError(
            f"{filename!r}: a distribution filename may only contain letters, digits and . _ - ! +",
            hint="rename the file to the name its build backend gives it (PEP 427, PEP 625)",
        )
    if len(filename) > MAX_FILENAME_LENGTH:
        raise InvalidDistributionError(
            f"{filename[:40]}…: a distribution filename of {len(filename)} characters is too "
            f"long (the limit is {MAX_FILENAME_LENGTH}: file systems allow 255, and the "
            "index adds '.metadata')",
            hint="shorten the name, version or local version label and rebuild it",
        )


def inspect_distribution(
    path: str | os.PathLike[str], dist: DistFilename | None = None
) -> Inspected:
    """Hash a distribution file and read its core metadata; check it agrees with its name."""
    filename = os.path.basename(path)
    dist = dist or parse_filename(filename)
    try:
        with open(path, "rb", buffering=0) as raw:  # a small file is read in one go: no buffer
            size = os.fstat(raw.fileno()).st_size
            # one read serves the hash and the archive reader (either path gives equal results)
            if size <= _READ_WHOLE_LIMIT:  # mutate: skip (the limit's edge: equal results)
                data = raw.readall()
                digest = hashlib.sha256(data).hexdigest()
                metadata = read_metadata(io.BytesIO(data), dist)
            else:
                handle = io.BufferedReader(raw)
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
                handle.seek(0)
                metadata = read_metadata(handle, dist)
    except OSError as exc:
        raise InvalidDistributionError(f"{filename}: cannot read: {exc.strerror}") from exc
    requires_python = check_metadata(dist, metadata) if metadata is not None else None
    return Inspected(
        dist=dist,
        sha256=digest,
        size=size,
        requires_python=requires_python,
        metadata=metadata if dist.kind == "wheel" else None,
    )


def read_metadata(handle: BinaryIO, dist: DistFilename) -> bytes | None:
    """A wheel's METADATA, an sdist's PKG-INFO (None for old sdists without one)."""
    if dist.kind == "wheel":
        return read_wheel_metadata(handle, dist)
    return read_sdist_metadata(handle, dist)


def read_wheel_metadata(handle: BinaryIO, dist: DistFilename) -> bytes:
    """The bytes of ``{name}-{version}.dist-info/METADATA``, as PyPI extracts them."""
    from pkgindex.index import archive  # deferred: a warm run never opens an archive

    return archive.wheel_metadata(handle, dist.filename, f"{dist.raw_stem}.dist-info")


def read_sdist_metadata(handle: BinaryIO, dist: DistFilename) -> bytes | None:
    """The sdist's PKG-INFO if it has one; None for old sdists without it."""
    from pkgindex.index import archive

    member = f"{dist.raw_stem}/PKG-INFO"
    if dist.filename.endswith(".zip"):
        return archive.zip_sdist_metadata(handle, dist.filename, member)
    return archive.tar_sdist_metadata(handle, dist.filename, member)


def check_metadata(dist: DistFilename, metadata: bytes) -> str | None:
    """Check Name and Version agree with the filename; return Requires-Python."""
    # The core metadata format is email headers, read as email's compat32 parser reads them (as
    # packaging does); only three fields matter here, and headers.py reads only those.
    from pkgindex.index.headers import first_values  # deferred: a warm run never reads metadata

    try:
        text = metadata.decode("utf-8")  # core metadata is UTF-8; bytes would become Headers
    except UnicodeDecodeError as exc:
        raise InvalidDistributionError(
            f"{dist.filename}: its core metadata is not valid UTF-8 ({exc.reason} at byte "
            f"{exc.start})",
            hint="rebuild it with a current build backend (core metadata is UTF-8)",
        ) from None
    headers = first_values(text, _FIELDS)
    name, version = headers.get("name"), headers.get("version")
    if name is None or version is None:
        raise InvalidDistributionError(
            f"{dist.filename}: its core metadata has no Name or Version",
            hint="rebuild it with a current build backend",
        )
    if canonicalize_name(name) != dist.name:
        raise InvalidDistributionError(
            f"{dist.filename}: metadata name {name!r} does not match the filename's {dist.name!r}",
            hint="rename the file to match its metadata, or rebuild it",
        )
    try:  # the same text as the filename's is the same version, without parsing it again
        same_version = version == dist.raw_version or Version(version) == dist.version
    except (InvalidVersion, ValueError):  # ValueError: more digits than int() accepts
        same_version = False
    if not same_version:
        raise InvalidDistributionError(
            f"{dist.filename}: metadata version {version!r} does not match the filename's "
            f"{dist.version}",
            hint="rename the file to match its metadata, or rebuild it",
        )
    requires_python = (headers.get("requires-python") or "").strip()
    if requires_python:
        check_requires_python(dist, requires_python)
    return requires_python or None


def check_requires_python(dist: DistFilename, value: str) -> None:
    """uv silently skips a file whose Requires-Python does not parse; refuse it instead."""
    if not _is_specifier(value):
        raise InvalidDistributionError(
            f"{dist.filename}: Requires-Python {value!r} is not a valid version specifier",
            hint="rebuild it with a valid requires-python (e.g. '>=3.10'); uv would ignore the "
            "file and pip would ignore the constraint",
        )


@functools.lru_cache(maxsize=256)
def _is_specifier(value: str) -> bool:
    """Whether packaging parses ``value`` as a version specifier. Remembered: the files of an
    index share a handful of Requires-Python values, and parsing one costs a few µs a file."""
    from packaging.specifiers import SpecifierSet

    try:
        SpecifierSet(value)
    except ValueError:  # InvalidSpecifier, or a number with more digits than int() takes
        return False
    return True


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
